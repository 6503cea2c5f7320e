#![no_main]
//! OSDMap decoder on hostile bytes. Whatever decodes must re-encode (with
//! every client feature) to bytes that decode; from there on encoding is a
//! fixed point (same bytes, equal map). The first encoding may change the
//! recorded versions (a decoded version 0 or one newer than modelled is
//! written as the modelled one), so values are compared after it. The
//! JSON view and queries must cope with it. An encoding for an older peer
//! must decode too.
//!
//! First byte: bit 0 set keeps the input's CRC as is (otherwise it is
//! recomputed so mutations reach the fields); bits 1-2 pick the feature
//! set of the extra older-peer encoding. The rest is the map.

use ceph_denc::{Decode, Encode};
use ceph_fuzz::{osdmap_input, round_trip};
use ceph_osdmap::OSDMap;
use ceph_types::features::{
    CEPH_FEATURE_SERVER_LUMINOUS, CEPH_FEATURE_SERVER_MIMIC, CEPH_FEATURE_SERVER_NAUTILUS,
    CEPH_FEATURE_SERVER_REEF, CLIENT_FEATURES_ALL,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((selector, bytes)) = osdmap_input(data) else {
        return;
    };
    let Some(map) = round_trip::<OSDMap>(&bytes) else {
        return;
    };

    let _ = map.to_json().to_string();
    let _ = (map.num_osds(), map.flag_string(), map.min_compat_client());
    for osd in -1..map.max_osd.min(64) + 1 {
        let _ = (map.exists(osd), map.is_up(osd), map.is_in(osd));
        let _ = map.primary_affinity(osd);
    }

    let older = CLIENT_FEATURES_ALL
        & !match selector >> 1 & 3 {
            0 => CEPH_FEATURE_SERVER_REEF,
            1 => CEPH_FEATURE_SERVER_NAUTILUS,
            2 => CEPH_FEATURE_SERVER_MIMIC,
            _ => CEPH_FEATURE_SERVER_LUMINOUS,
        };
    let old_bytes = map.to_bytes(older);
    if let Err(e) = OSDMap::decode_all(&old_bytes) {
        panic!("encoding for features {older:#x} does not decode: {e}");
    }
});
