#![no_main]
//! CRUSH map and pool decoders on hostile bytes. Whatever decodes must
//! re-encode (with every client feature) to bytes that decode, after which
//! encoding is a fixed point (same bytes, equal value); the JSON views
//! and lookups must cope with it.
//!
//! First byte selects the type (even: CrushWrapper, odd: pg_pool_t); the
//! rest is its encoding.

use ceph_fuzz::round_trip;
use ceph_osdmap::{CrushWrapper, PgPool};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    if selector % 2 == 0 {
        if let Some(crush) = round_trip::<CrushWrapper>(bytes) {
            // The device list is capped at MAX_OSDS (a unit test checks);
            // building 65536 entries per input would starve the fuzzer.
            if crush.max_devices <= 4096 {
                let _ = crush.to_json().to_string();
            }
            let _ = crush.min_client_release();
            for id in -8..8 {
                let _ = (crush.bucket(id), crush.item_name(id), crush.item_class(id));
                let _ = crush.rule(id.unsigned_abs() as usize);
            }
            let _ = crush.item_id("osd.0");
        }
    } else if let Some(pool) = round_trip::<PgPool>(bytes) {
        let mut fields = serde_json::Map::new();
        pool.to_json_fields(&mut fields);
        let _ = serde_json::Value::Object(fields).to_string();
        let _ = (pool.flag_names(), pool.is_erasure(), pool.is_stretch_pool());
    }
});
