#![no_main]
//! OSDMap::Incremental decoder on hostile bytes, and applying what decodes
//! to a small real map (osdmaptool --createsimple 3). Whatever decodes
//! must re-encode to bytes that decode; from there on encoding is a fixed
//! point (same bytes, equal value: the first encoding may normalize the
//! recorded versions). Applying must give an error or a map
//! that still encodes to something decodable, never a panic.
//!
//! First byte: bit 0 set keeps the input's CRC as is (otherwise it is
//! recomputed so mutations reach the fields); bit 1 set keeps the
//! incremental's fsid and epoch (otherwise they are set to follow the base
//! map, so the apply logic runs). The rest is the incremental.

use ceph_denc::{Decode, Encode};
use ceph_fuzz::{osdmap_input, round_trip};
use ceph_osdmap::{OSDMap, OSDMapIncremental};
use ceph_types::features::CLIENT_FEATURES_ALL;
use libfuzzer_sys::fuzz_target;

/// `osdmaptool --createsimple 3`: epoch 1, three OSDs, no pools.
const BASE_MAP: &[u8] =
    include_bytes!("../../crates/osdmap/tests/data/osdmaptool-createsimple-3.bin");

fuzz_target!(|data: &[u8]| {
    let Some((selector, bytes)) = osdmap_input(data) else {
        return;
    };
    let Some(mut inc) = round_trip::<OSDMapIncremental>(&bytes) else {
        return;
    };

    let mut map = OSDMap::decode_all(BASE_MAP).expect("base map decodes");
    if selector & 2 == 0 {
        inc.fsid = map.fsid;
        inc.epoch = map.epoch + 1;
    }
    if map.apply_incremental(&inc).is_ok() {
        let _ = map.to_json().to_string();
        let _ = (map.num_osds(), map.flag_string());
        let out = map.to_bytes(CLIENT_FEATURES_ALL);
        if let Err(e) = OSDMap::decode_all(&out) {
            panic!("map after applying {inc:?} re-encodes undecodably: {e}");
        }
    }
});
