//! Round trips of Ceph's own encodings (ceph-object-corpus, Octopus 15.2.1,
//! Pacific 16.2.0 and Reef 18.2.0) and of a MonMap a Pacific monitor sent,
//! plus robustness against truncated and corrupted input.

use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use ceph_denc::{Decode, Decoder, Encode};
use ceph_types::features::CLIENT_FEATURES_ALL;
use ceph_types::{
    EntityAddr, EntityAddrVec, EntityInst, EntityName, EntityNameT, FeatureBitset, LogEntry,
    LogEntryKey, MonFeature, MonInfo, MonMap,
};

const TYPES: &[&str] = &[
    "MonMap",
    "mon_info_t",
    "mon_feature_t",
    "feature_bitset_t",
    "entity_addr_t",
    "entity_addrvec_t",
    "entity_name_t",
    "entity_inst_t",
    "EntityName",
];

/// Corpus objects that carry bytes after the value. This feature_bitset_t
/// (Octopus) says its bit array is 0 bytes long and is followed by 8 more
/// bytes; Ceph's decoder also stops after the length, so they are stray.
const STRAY_TAIL: &[(&str, usize)] = &[("62080f04f3ae5fb2d9ceba955c5a1d12", 8)];

/// Every corpus file of a type: (version, hash, bytes).
fn corpus(ty: &str) -> Vec<(String, String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out = Vec::new();
    for version in fs::read_dir(&root).unwrap() {
        let dir: PathBuf = version.unwrap().path().join(ty);
        let Ok(files) = fs::read_dir(&dir) else {
            continue;
        };
        for f in files {
            let f = f.unwrap().path();
            out.push((
                dir.parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                f.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&f).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

/// How strictly a re-encoding must match the original bytes.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// Ceph's encoding is deterministic and we write the same version.
    ByteEqual,
    /// Byte-equal only when the object was encoded at the version we write.
    ByteEqualAtVersion(u8),
}

/// Decodes each file, checks every byte is consumed, re-encodes with all
/// features and checks the result decodes to an equal value (after
/// `normalize`) and, where expected, is byte-identical. Returns how many
/// files were byte-identical.
fn round_trip<T: Decode + Encode + PartialEq + Debug>(
    ty: &str,
    expect: Expect,
    normalize: impl Fn(&mut T),
) -> usize {
    let files = corpus(ty);
    assert!(!files.is_empty(), "no corpus for {ty}");
    let mut identical = 0;
    for (version, hash, bytes) in &files {
        let ctx = format!("{ty} {version}/{hash}");
        let mut d = Decoder::new(bytes);
        let mut value = T::decode(&mut d).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let stray = STRAY_TAIL
            .iter()
            .find(|(h, _)| h == hash)
            .map_or(0, |(_, n)| *n);
        assert_eq!(d.remaining(), stray, "{ctx}: bytes left over");
        let used = &bytes[..bytes.len() - stray];

        let again = value.to_bytes(CLIENT_FEATURES_ALL);
        let mut back = T::decode_all(&again).unwrap_or_else(|e| panic!("{ctx}: re-decode: {e}"));
        normalize(&mut value);
        normalize(&mut back);
        assert_eq!(back, value, "{ctx}: value changed by re-encoding");

        let must_match = match expect {
            Expect::ByteEqual => true,
            Expect::ByteEqualAtVersion(v) => used[0] == v,
        };
        if must_match {
            assert_eq!(hex(&again), hex(used), "{ctx}: re-encoding differs");
        }
        if again == used {
            identical += 1;
        }
    }
    identical
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn entity_types_round_trip_byte_for_byte() {
    assert_eq!(
        round_trip::<EntityAddr>("entity_addr_t", Expect::ByteEqual, |_| {}),
        30
    );
    assert_eq!(
        round_trip::<EntityAddrVec>("entity_addrvec_t", Expect::ByteEqual, |_| {}),
        30
    );
    assert_eq!(
        round_trip::<EntityNameT>("entity_name_t", Expect::ByteEqual, |_| {}),
        30
    );
    assert_eq!(
        round_trip::<EntityInst>("entity_inst_t", Expect::ByteEqual, |_| {}),
        30
    );
    assert_eq!(
        round_trip::<EntityName>("EntityName", Expect::ByteEqual, |_| {}),
        30
    );
}

#[test]
fn mon_feature_types_round_trip() {
    assert_eq!(
        round_trip::<MonFeature>("mon_feature_t", Expect::ByteEqual, |_| {}),
        6
    );
    // All 9 byte-equal once the stray tail of the one odd object is set aside.
    assert_eq!(
        round_trip::<FeatureBitset>("feature_bitset_t", Expect::ByteEqual, |_| {}),
        9
    );
}

#[test]
fn log_entry_keys_round_trip_byte_for_byte() {
    assert_eq!(
        round_trip::<LogEntryKey>("LogEntryKey", Expect::ByteEqual, |_| {}),
        10
    );
}

#[test]
fn log_entries_round_trip_byte_for_byte() {
    assert_eq!(
        round_trip::<LogEntry>("LogEntry", Expect::ByteEqual, |_| {}),
        30
    );
}

fn clear_mon_info_version(m: &mut MonInfo) {
    m.struct_v = 0;
}

fn clear_monmap_versions(m: &mut MonMap) {
    m.struct_v = 0;
    m.compat_v = 0;
    m.mon_info.values_mut().for_each(clear_mon_info_version);
}

#[test]
fn mon_info_round_trips() {
    // Octopus wrote version 4 (no crush location); we write 5, so those
    // three only round-trip by value.
    let identical = round_trip::<MonInfo>(
        "mon_info_t",
        Expect::ByteEqualAtVersion(MonInfo::CURRENT_VERSION),
        clear_mon_info_version,
    );
    assert_eq!(identical, 6);
}

#[test]
fn monmap_round_trips() {
    // Octopus maps are version 7; Pacific and Reef write version 9, as we do.
    let identical = round_trip::<MonMap>(
        "MonMap",
        Expect::ByteEqualAtVersion(MonMap::CURRENT_VERSION),
        clear_monmap_versions,
    );
    assert_eq!(identical, 6);
}

#[test]
fn corpus_monmap_contents() {
    let files = corpus("MonMap");
    let (_, _, bytes) = files
        .iter()
        .find(|(v, h, _)| v.starts_with("16.2.0") && h.starts_with("f122b952"))
        .unwrap();
    let m = MonMap::decode_all(bytes).unwrap();
    assert_eq!(m.epoch, 1);
    assert_eq!((m.last_changed.sec, m.last_changed.nsec), (123, 456));
    assert_eq!(m.len(), 4);
    let filled = m.get("filled_pub_addr").unwrap();
    assert_eq!(filled.public_addrs.to_string(), "v2:127.0.1.2:0/0");
    assert_eq!((filled.priority, filled.weight), (1, 1));
    let blank = m.get("empty_addr_one").unwrap();
    assert!(blank.public_addrs.addrs[0].addr.is_none());
    assert_eq!(blank.public_addrs.addrs[0].nonce, 1);
    for (rank, name) in m.ranks().iter().enumerate() {
        assert_eq!(m.rank_of(name), Some(rank));
    }
}

#[test]
fn octopus_monmap_is_version_7_with_inferred_fields() {
    let files = corpus("MonMap");
    let (_, _, bytes) = files
        .iter()
        .find(|(v, h, _)| v.starts_with("15.2.1") && h.starts_with("7bd50eb0"))
        .unwrap();
    assert_eq!(bytes[0], 7);
    let m = MonMap::decode_all(bytes).unwrap();
    assert_eq!(m.ranks(), ["one"]);
    assert_eq!(m.strategy, ceph_types::monmap::election_strategy::CLASSIC);
    assert!(m.removed_ranks.is_empty());
}

fn pacific_monmap() -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pacific-crc.monmap.bin"))
        .unwrap()
}

#[test]
fn monmap_from_a_pacific_monitor() {
    let bytes = pacific_monmap();
    let m = MonMap::decode_all(&bytes).unwrap();
    assert_eq!(m.to_bytes(CLIENT_FEATURES_ALL), bytes);
    assert_eq!(m.fsid.to_string(), "6826cdc1-fb76-4409-b87e-1ec2f9606900");
    assert_eq!(m.min_mon_release, 16);
    let addrs = m.rank_addrs(0).unwrap();
    assert_eq!(addrs.v2().unwrap().to_string(), "v2:127.0.0.1:20100/0");
    assert_eq!(addrs.v1().unwrap().to_string(), "v1:127.0.0.1:21100/0");
    assert!(m.rank_addrs(1).is_none());
}

#[test]
fn monmap_json_matches_ceph_mon_dump() {
    let m = MonMap::decode_all(&pacific_monmap()).unwrap();
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pacific-crc.mon-dump.json"),
    )
    .unwrap();
    let mut want: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The monitor adds the quorum; it is not part of the map.
    want.as_object_mut().unwrap().remove("quorum");
    assert_eq!(m.to_json(), want);
    // Same key order too (serde_json keeps insertion order here).
    assert_eq!(m.to_json().to_string(), want.to_string());
}

#[test]
fn monmap_legacy_encodings_decode_back() {
    use ceph_types::features::*;
    let m = MonMap::decode_all(&pacific_monmap()).unwrap();
    let all = CLIENT_FEATURES_ALL;
    // (features, first bytes Ceph writes)
    let cases = [
        (all & !CEPH_FEATURE_SERVER_NAUTILUS, vec![5u8, 3]),
        (all & !CEPH_FEATURE_MONENC, vec![2, 0]),
        (all & !CEPH_FEATURE_MONNAMES, vec![1, 0]),
    ];
    for (features, head) in cases {
        let bytes = m.to_bytes(features);
        assert_eq!(&bytes[..2], &head[..], "features {features:#x}");
        let back = MonMap::decode_all(&bytes).unwrap();
        assert_eq!(back.fsid, m.fsid);
        assert_eq!(back.epoch, m.epoch);
        assert_eq!(back.len(), 1);
        // Only the msgr1 address survives the old encodings.
        let addrs = back.rank_addrs(0).unwrap();
        assert_eq!(addrs.to_string(), "v1:127.0.0.1:21100/0");
    }
    // v1 names monitors by rank digit.
    let v1 = MonMap::decode_all(&m.to_bytes(all & !CEPH_FEATURE_MONNAMES)).unwrap();
    assert_eq!(v1.ranks(), ["0"]);
}

#[test]
fn newer_monmap_fields_are_kept_opaque() {
    let m = MonMap::decode_all(&pacific_monmap()).unwrap();
    // Fake a version-11 map with 7 bytes of fields we do not model.
    let mut bytes = m.to_bytes(CLIENT_FEATURES_ALL);
    bytes[0] = 11;
    bytes.extend_from_slice(&[9, 8, 7, 6, 5, 4, 3]);
    let len = u32::from_le_bytes(bytes[2..6].try_into().unwrap()) + 7;
    bytes[2..6].copy_from_slice(&len.to_le_bytes());
    let newer = MonMap::decode_all(&bytes).unwrap();
    assert_eq!(newer.unknown_tail, [9, 8, 7, 6, 5, 4, 3]);
    assert_eq!(newer.to_bytes(CLIENT_FEATURES_ALL), bytes);
    // A compat version past what we understand is refused.
    bytes[1] = 11;
    assert!(MonMap::decode_all(&bytes).is_err());
}

/// Runs every decoder on `bytes`; only the absence of panics matters.
fn decode_with_everything(bytes: &[u8]) {
    let _ = MonMap::decode_all(bytes);
    let _ = MonInfo::decode_all(bytes);
    let _ = MonFeature::decode_all(bytes);
    let _ = FeatureBitset::decode_all(bytes);
    let _ = EntityAddr::decode_all(bytes);
    let _ = EntityAddrVec::decode_all(bytes);
    let _ = EntityNameT::decode_all(bytes);
    let _ = EntityInst::decode_all(bytes);
    let _ = EntityName::decode_all(bytes);
}

fn all_inputs() -> Vec<Vec<u8>> {
    let mut inputs: Vec<Vec<u8>> = TYPES
        .iter()
        .flat_map(|t| corpus(t))
        .map(|(_, _, b)| b)
        .collect();
    inputs.push(pacific_monmap());
    inputs
}

#[test]
fn truncations_never_panic_and_fail_for_the_right_type() {
    for bytes in all_inputs() {
        for end in 0..bytes.len() {
            decode_with_everything(&bytes[..end]);
        }
    }
    // A strict prefix of a MonMap is never a whole MonMap.
    let m = pacific_monmap();
    for end in 0..m.len() {
        assert!(MonMap::decode_all(&m[..end]).is_err(), "prefix {end}");
    }
}

#[test]
fn bit_flips_never_panic() {
    for bytes in all_inputs() {
        let mut buf = bytes.clone();
        for i in 0..buf.len() {
            for mask in [0x01u8, 0x10, 0x80, 0xff] {
                buf[i] ^= mask;
                decode_with_everything(&buf);
                buf[i] ^= mask;
            }
        }
    }
}
