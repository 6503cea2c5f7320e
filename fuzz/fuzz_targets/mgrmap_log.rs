#![no_main]
//! MgrMap and cluster-log decoders on hostile bytes. Whatever decodes must
//! re-encode (with every client feature) to bytes that decode, after which
//! encoding is a fixed point (same bytes, equal value); the JSON views
//! and log lines must cope with it.
//!
//! First byte selects the type; the rest is its encoding.

use ceph_fuzz::round_trip;
use ceph_types::log::decode_log_entries;
use ceph_types::{LogEntry, MgrMap, ModuleInfo, ModuleOption, StandbyInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    match selector % 6 {
        0 => {
            if let Some(m) = round_trip::<MgrMap>(bytes) {
                let _ = m.to_json().to_string();
            }
        }
        1 => {
            if let Some(e) = round_trip::<LogEntry>(bytes) {
                let _ = (e.to_line(), e.to_json().to_string());
            }
        }
        2 => {
            if let Ok(entries) = decode_log_entries(bytes) {
                for e in entries {
                    let _ = e.to_line();
                }
            }
        }
        3 => {
            if let Some(o) = round_trip::<ModuleOption>(bytes) {
                let _ = o.to_json().to_string();
            }
        }
        4 => {
            if let Some(i) = round_trip::<ModuleInfo>(bytes) {
                let _ = i.to_json().to_string();
            }
        }
        _ => {
            if let Some(s) = round_trip::<StandbyInfo>(bytes) {
                let _ = s.to_json().to_string();
            }
        }
    }
});
