#![no_main]
//! MonMap, address and entity-name decoders on hostile bytes. Whatever
//! decodes must encode (with every client feature) to bytes that decode
//! to an equal value.
//!
//! First byte selects the type; the rest is its encoding.

use ceph_denc::{Decode, Encode};
use ceph_types::features::CLIENT_FEATURES_ALL;
use ceph_types::monmap::{FeatureBitset, MonFeature, MonInfo};
use ceph_types::{EntityAddr, EntityAddrVec, EntityInst, EntityName, EntityNameT, MonMap, UTime};
use libfuzzer_sys::fuzz_target;

fn round_trip<T: Decode + Encode + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    round_trip_with::<T>(bytes, |_| {});
}

/// `normalize` sets on the first decode what encoding is allowed to change
/// (a MonMap is always written in the newest modelled version).
fn round_trip_with<T: Decode + Encode + PartialEq + std::fmt::Debug>(
    bytes: &[u8],
    normalize: impl Fn(&mut T),
) {
    let Ok(mut first) = T::decode_all(bytes) else {
        return;
    };
    normalize(&mut first);
    let mut again = Vec::new();
    first.encode(&mut again, CLIENT_FEATURES_ALL);
    match T::decode_all(&again) {
        Ok(second) => assert_eq!(first, second, "re-encoded as {again:02x?}"),
        Err(e) => panic!("re-encoding of {first:?} does not decode: {e}"),
    }
}

/// Without newer fields to keep, a MonMap and a MonInfo are written in
/// the newest version this crate models, whatever they were read from.
fn normalize_mon_info(m: &mut MonInfo) {
    if m.unknown_tail.is_empty() {
        m.struct_v = MonInfo::CURRENT_VERSION;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    match selector % 10 {
        0 => round_trip_with::<MonMap>(bytes, |m| {
            if m.unknown_tail.is_empty() {
                m.struct_v = MonMap::CURRENT_VERSION;
                m.compat_v = MonMap::COMPAT_VERSION;
            }
            m.mon_info.values_mut().for_each(normalize_mon_info);
        }),
        1 => round_trip::<EntityAddrVec>(bytes),
        2 => round_trip::<EntityName>(bytes),
        3 => round_trip::<EntityAddr>(bytes),
        4 => round_trip_with::<MonInfo>(bytes, normalize_mon_info),
        5 => round_trip::<EntityNameT>(bytes),
        6 => round_trip::<EntityInst>(bytes),
        7 => round_trip::<FeatureBitset>(bytes),
        8 => round_trip::<MonFeature>(bytes),
        _ => round_trip::<UTime>(bytes),
    }
    // The JSON view must cope with whatever decoded.
    if selector % 10 == 0 {
        if let Ok(map) = MonMap::decode_all(bytes) {
            let _ = map.to_json().to_string();
        }
    }
});
