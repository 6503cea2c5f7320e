//! Round trips of Ceph's encodings of the OSD map and its parts
//! (ceph-object-corpus: Octopus 15.2.1, Pacific 16.2.0, Reef 18.2.0, in
//! tests/corpus/VERSION/TYPE/, with Ceph's type names as folder names,
//! e.g. `OSDMap::Incremental`), maps made by `osdmaptool --createsimple`,
//! and robustness against truncated and corrupted input.

use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use ceph_denc::{Decode, Decoder, Encode};
use ceph_types::crush::CrushWrapper;
use ceph_types::features::CLIENT_FEATURES_ALL;
use ceph_types::osd_types::{OsdInfo, OsdXInfo};
use ceph_types::osdmap::OSDMap;
use ceph_types::osdmap_inc::Incremental;
use ceph_types::pg_pool::PgPool;

/// Every corpus file of a type: (version, hash, bytes).
fn corpus(ty: &str) -> Vec<(String, String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out = Vec::new();
    for version in fs::read_dir(&root).unwrap() {
        let version = version.unwrap().path();
        let dir: PathBuf = version.join(ty);
        let Ok(files) = fs::read_dir(&dir) else {
            continue;
        };
        for f in files {
            let f = f.unwrap().path();
            out.push((
                version.file_name().unwrap().to_string_lossy().into_owned(),
                f.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&f).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

fn data(name: &str) -> Vec<u8> {
    fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Decodes every file of a type (all bytes consumed), re-encodes with all
/// features, checks the re-encoding is byte-identical and decodes to an
/// equal value. Returns the number of files.
fn round_trip<T: Decode + Encode + PartialEq + Debug>(ty: &str) -> usize {
    let files = corpus(ty);
    assert!(!files.is_empty(), "no corpus for {ty}");
    for (version, hash, bytes) in &files {
        let ctx = format!("{ty} {version}/{hash}");
        let mut d = Decoder::new(bytes);
        let value = T::decode(&mut d).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert_eq!(d.remaining(), 0, "{ctx}: bytes left over");
        let again = value.to_bytes(CLIENT_FEATURES_ALL);
        assert_eq!(hex(&again), hex(bytes), "{ctx}: re-encoding differs");
        let back = T::decode_all(&again).unwrap_or_else(|e| panic!("{ctx}: re-decode: {e}"));
        assert_eq!(back, value, "{ctx}: value changed by re-encoding");
    }
    files.len()
}

/// Truncations at every length (a sample for big inputs) and single-bit
/// flips: errors are fine, panics are not, and whatever decodes must
/// re-encode without panicking.
fn hostile<T: Decode + Encode>(bytes: &[u8]) -> usize {
    let step = (bytes.len() / 400).max(1);
    let mut rejected = 0;
    for n in (0..bytes.len()).step_by(step) {
        if T::decode_all(&bytes[..n]).is_err() {
            rejected += 1;
        }
    }
    let mut buf = bytes.to_vec();
    for i in (0..buf.len()).step_by(step) {
        for bit in [0, 3, 7] {
            buf[i] ^= 1 << bit;
            if let Ok(v) = T::decode_all(&buf) {
                let _ = v.to_bytes(CLIENT_FEATURES_ALL);
            }
            buf[i] ^= 1 << bit;
        }
    }
    rejected
}

#[test]
fn osdmaps_round_trip_byte_for_byte() {
    assert_eq!(round_trip::<OSDMap>("OSDMap"), 30);
}

#[test]
fn incrementals_round_trip_byte_for_byte() {
    assert_eq!(round_trip::<Incremental>("OSDMap::Incremental"), 30);
}

#[test]
fn crush_maps_round_trip_byte_for_byte() {
    assert_eq!(round_trip::<CrushWrapper>("CrushWrapper"), 30);
}

#[test]
fn pools_round_trip_byte_for_byte() {
    assert_eq!(round_trip::<PgPool>("pg_pool_t"), 30);
}

#[test]
fn osd_info_round_trips_byte_for_byte() {
    assert_eq!(round_trip::<OsdInfo>("osd_info_t"), 30);
    assert_eq!(round_trip::<OsdXInfo>("osd_xinfo_t"), 21);
}

#[test]
fn corrupted_osdmaps_and_incrementals_never_panic() {
    for (_, _, bytes) in corpus("OSDMap").iter().take(4) {
        // Every strict prefix is an error.
        assert_eq!(
            hostile::<OSDMap>(bytes),
            bytes.len().div_ceil((bytes.len() / 400).max(1))
        );
    }
    for (_, _, bytes) in corpus("OSDMap::Incremental").iter().take(4) {
        hostile::<Incremental>(bytes);
    }
}

#[test]
fn corrupted_parts_never_panic() {
    for (_, _, bytes) in corpus("CrushWrapper").iter().take(4) {
        hostile::<CrushWrapper>(bytes);
    }
    for (_, _, bytes) in corpus("pg_pool_t") {
        hostile::<PgPool>(&bytes);
    }
    for (_, _, bytes) in corpus("osd_xinfo_t") {
        hostile::<OsdXInfo>(&bytes);
    }
}

#[test]
fn a_flipped_bit_fails_the_crc() {
    let files = corpus("OSDMap");
    let (_, _, bytes) = files.iter().max_by_key(|(_, _, b)| b.len()).unwrap();
    let mut bad = bytes.clone();
    // A byte inside the epoch: still well-formed, but the CRC no longer matches.
    bad[16] ^= 1;
    let err = OSDMap::decode_all(&bad).unwrap_err().to_string();
    assert!(err.contains("bad crc"), "{err}");
}
