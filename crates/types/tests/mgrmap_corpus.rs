//! MgrMap and its parts from ceph-object-corpus (Octopus 15.2.1, Pacific
//! 16.2.0, Reef 18.2.0): every file decodes whole, re-encodes byte for
//! byte, and no truncation or flipped bit makes a decoder panic.

use std::fmt::Debug;
use std::fs;
use std::path::Path;

use ceph_denc::{Decode, Decoder, Encode};
use ceph_types::features::CLIENT_FEATURES_ALL;
use ceph_types::{MgrMap, ModuleInfo, ModuleOption, StandbyInfo};

/// Corpus objects followed by bytes that are not part of them. This Pacific
/// ModuleOption's envelope ends 13 bytes before the file does (Ceph's
/// decoder stops at the envelope's end too).
const STRAY_TAIL: &[(&str, usize)] = &[("f97d85482139c3de61f9ec00522b6bd6", 13)];

/// The file without its known stray tail.
fn object<'a>(name: &str, bytes: &'a [u8]) -> &'a [u8] {
    let stray = STRAY_TAIL
        .iter()
        .find(|(h, _)| name.ends_with(h))
        .map_or(0, |(_, n)| *n);
    &bytes[..bytes.len() - stray]
}

/// Every corpus file of a type: ("VERSION/HASH", bytes), sorted.
fn corpus(ty: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out = Vec::new();
    for version in fs::read_dir(&root).unwrap() {
        let version = version.unwrap().path();
        let Ok(files) = fs::read_dir(version.join(ty)) else {
            continue;
        };
        for f in files {
            let f = f.unwrap().path();
            let name = format!(
                "{}/{}",
                version.file_name().unwrap().to_string_lossy(),
                f.file_name().unwrap().to_string_lossy()
            );
            out.push((name, fs::read(&f).unwrap()));
        }
    }
    out.sort();
    out
}

/// Decodes every file of `ty`, checks the value re-encodes to the same
/// bytes; returns the decoded values with their names.
fn round_trip<T: Decode + Encode + PartialEq + Debug>(ty: &str) -> Vec<(String, T)> {
    let files = corpus(ty);
    assert!(!files.is_empty(), "no corpus for {ty}");
    files
        .into_iter()
        .map(|(name, file)| {
            let bytes = object(&name, &file);
            let mut d = Decoder::new(&file);
            let value = T::decode(&mut d).unwrap_or_else(|e| panic!("{ty} {name}: {e}"));
            assert_eq!(
                d.remaining(),
                file.len() - bytes.len(),
                "{ty} {name}: bytes left over"
            );
            let again = value.to_bytes(CLIENT_FEATURES_ALL);
            assert!(again == bytes, "{ty} {name}: re-encoding differs");
            (name, value)
        })
        .collect()
}

/// Cut points: every one for small inputs, else the first and last 300
/// and about 600 spread between (a debug build cannot afford every cut of
/// a 90 KB map).
fn cuts(len: usize) -> Vec<usize> {
    if len <= 2000 {
        return (0..len).collect();
    }
    let mut v: Vec<usize> = (0..300).chain(len - 300..len).collect();
    v.extend((300..len - 300).step_by((len / 600).max(1)));
    v
}

/// Truncations must fail; flipped bits may decode or fail, never panic.
/// Returns how many corruptions still decoded (so the check is seen to run).
fn hostile<T: Decode>(ty: &str) -> usize {
    let mut decoded = 0;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for (name, file) in corpus(ty) {
        let bytes = object(&name, &file);
        for cut in cuts(bytes.len()) {
            assert!(
                T::decode_all(&bytes[..cut]).is_err(),
                "{ty} {name}: truncated to {cut} still decodes"
            );
        }
        let mut copy = bytes.to_vec();
        for _ in 0..400 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bit = (seed >> 33) as usize % (bytes.len() * 8);
            copy[bit / 8] ^= 1 << (bit % 8);
            decoded += usize::from(T::decode_all(&copy).is_ok());
            copy[bit / 8] ^= 1 << (bit % 8);
        }
    }
    decoded
}

#[test]
fn module_options_round_trip_byte_for_byte() {
    let all = round_trip::<ModuleOption>("MgrMap::ModuleOption");
    assert_eq!(all.len(), 30);
    assert!(all.iter().all(|(_, o)| !o.name.is_empty()));
}

#[test]
fn module_infos_round_trip_byte_for_byte() {
    let all = round_trip::<ModuleInfo>("MgrMap::ModuleInfo");
    assert_eq!(all.len(), 30);
    assert!(all.iter().any(|(_, m)| !m.module_options.is_empty()));
}

#[test]
fn standby_infos_round_trip_byte_for_byte() {
    let all = round_trip::<StandbyInfo>("MgrMap::StandbyInfo");
    assert_eq!(all.len(), 3);
    for (name, s) in &all {
        assert_eq!(s.struct_v, 4, "{name}");
        assert!(!s.available_modules.is_empty(), "{name}");
    }
}

#[test]
fn mgrmaps_round_trip_byte_for_byte() {
    let all = round_trip::<MgrMap>("MgrMap");
    assert_eq!(all.len(), 18);
    for (name, m) in &all {
        let expect_v = if name.starts_with("18.") { 12 } else { 11 };
        assert_eq!(m.struct_v, expect_v, "{name}");
        if expect_v == 12 {
            // Reef names each client by the module that opened it.
            assert!(m.clients.iter().all(|(n, _)| !n.is_empty()), "{name}");
        } else {
            assert!(m.clients.iter().all(|(n, _)| n.is_empty()), "{name}");
        }
    }
}

#[test]
fn corrupted_mgrmaps_never_panic() {
    hostile::<MgrMap>("MgrMap");
}

#[test]
fn corrupted_parts_never_panic() {
    hostile::<StandbyInfo>("MgrMap::StandbyInfo");
    hostile::<ModuleInfo>("MgrMap::ModuleInfo");
    hostile::<ModuleOption>("MgrMap::ModuleOption");
}

#[test]
fn pacific_map_contents_and_json() {
    let all = round_trip::<MgrMap>("MgrMap");
    let (_, m) = all
        .iter()
        .find(|(n, _)| n.starts_with("16.2.0") && n.ends_with("50818665c604f3c92dc7261b42897977"))
        .unwrap();
    assert_eq!(
        (m.epoch, m.active_gid, m.active_name.as_str()),
        (5, 4125, "x")
    );
    assert!(m.available);
    assert_eq!(m.services["restful"], "https://o01:42498/");
    assert_eq!(m.standbys.len(), 1);
    assert_eq!(m.available_modules.len(), 33);
    assert_eq!(m.clients.len(), 2);
    assert_eq!(
        m.always_on_modules.keys().copied().collect::<Vec<_>>(),
        [14, 15, 16]
    );
    let j = m.to_json();
    assert_eq!(j["epoch"], 5);
    assert_eq!(j["services"]["restful"], "https://o01:42498/");
    assert!(j["always_on_modules"]["pacific"].as_array().unwrap().len() > 1);
    assert_eq!(j["active_change"], "2021-04-12T11:11:44.343634+0000");
    assert_eq!(j["available_modules"].as_array().unwrap().len(), 33);
    assert_eq!(j["active_clients"].as_array().unwrap().len(), 2);
    assert!(j["active_clients"][0]["addrvec"].is_array());
    let standby = &j["standbys"][0];
    assert_eq!(standby["gid"], *m.standbys.keys().next().unwrap());
    assert!(!standby["available_modules"].as_array().unwrap().is_empty());
}
