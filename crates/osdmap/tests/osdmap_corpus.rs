//! Round trips of Ceph's encodings of the OSD map and its parts
//! (ceph-object-corpus: Octopus 15.2.1, Pacific 16.2.0, Reef 18.2.0, in
//! tests/corpus/VERSION/TYPE/, with Ceph's type names as folder names,
//! e.g. `OSDMap::Incremental`), maps made by `osdmaptool --createsimple`,
//! and robustness against truncated and corrupted input.

use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use ceph_denc::{Decode, Decoder, Encode};
use ceph_osdmap::crush::CrushWrapper;
use ceph_osdmap::osd_types::{OsdInfo, OsdXInfo};
use ceph_osdmap::osdmap::OSDMap;
use ceph_osdmap::osdmap_inc::Incremental;
use ceph_osdmap::pg_pool::{PgPool, CRUSH_ITEM_NONE};
use ceph_types::features::CLIENT_FEATURES_ALL;

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

/// Collects where `actual` differs from `expected`: every key of an
/// expected object must be present and equal (extra keys in `actual`, e.g.
/// fields newer releases added, are allowed); numbers compare with a small
/// tolerance (Ceph prints floats rounded).
fn json_diffs(
    expected: &serde_json::Value,
    actual: &serde_json::Value,
    path: &str,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => json_diffs(ev, av, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: missing (expected {ev})")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                json_diffs(ev, av, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap(), a.as_f64().unwrap());
            if (e - a).abs() > 1e-5 * e.abs().max(1.0) {
                out.push(format!("{path}: expected {e}, got {a}"));
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {e}, got {a}")),
    }
}

fn assert_json_matches(expected: &[u8], actual: &serde_json::Value) {
    let expected: serde_json::Value = serde_json::from_slice(expected).unwrap();
    let mut diffs = Vec::new();
    json_diffs(&expected, actual, "", &mut diffs);
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn pacific_osd_dump_json_matches_ceph() {
    let map = OSDMap::decode_all(&data("pacific-osdmap.17.bin")).unwrap();
    assert_json_matches(&data("pacific-osdmap.17.osd-dump.json"), &map.to_json());
}

#[test]
fn pacific_crush_dump_json_matches_ceph() {
    let map = OSDMap::decode_all(&data("pacific-osdmap.17.bin")).unwrap();
    assert_json_matches(
        &data("pacific-osdmap.17.crush-dump.json"),
        &map.crush.to_json(),
    );
}

#[test]
fn osdmaptool_dump_json_matches_ceph() {
    let map = OSDMap::decode_all(&data("osdmaptool-createsimple-3-pool.bin")).unwrap();
    assert_eq!(map.max_osd, 3);
    assert_json_matches(
        &data("osdmaptool-createsimple-3-pool.osd-dump.json"),
        &map.to_json(),
    );
}

#[test]
fn real_maps_round_trip_byte_for_byte() {
    for name in [
        "pacific-osdmap.1.bin",
        "pacific-osdmap.16.bin",
        "pacific-osdmap.17.bin",
        "osdmaptool-createsimple-3.bin",
        "osdmaptool-createsimple-3-pool.bin",
    ] {
        let bytes = data(name);
        let map = OSDMap::decode_all(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            hex(&map.to_bytes(CLIENT_FEATURES_ALL)),
            hex(&bytes),
            "{name}"
        );
    }
    let map = OSDMap::decode_all(&data("pacific-osdmap.17.bin")).unwrap();
    assert_eq!(map.epoch, 17);
    assert_eq!(map.pool_id("testpool"), Some(1));
    assert_eq!(map.pools[&2].erasure_code_profile, "myprof");
    assert!(map.pools[&2].is_erasure());
    assert_eq!(map.num_osds(), (3, 0, 3));
    assert_eq!(map.blocklist.len(), 1);
    assert_eq!(map.blocklist[0].0.to_string(), "10.1.2.3:0/123");
    assert_eq!(
        map.flag_string(),
        "noout,sortbitwise,recovery_deletes,purged_snapdirs,pglog_hardlimit"
    );
    assert_eq!(map.crush.item_id("host1"), Some(-3));
    assert_eq!(map.crush.bucket(-3).unwrap().items, vec![0, 1]);
}

#[test]
fn apply_incremental_with_full_map_crush_and_changes() {
    let map16 = OSDMap::decode_all(&data("pacific-osdmap.16.bin")).unwrap();
    let bytes17 = data("pacific-osdmap.17.bin");
    let map17 = OSDMap::decode_all(&bytes17).unwrap();

    // A full map replaces the whole map.
    let mut m = map16.clone();
    let mut inc = Incremental::new(map16.fsid, 17);
    inc.fullmap = bytes17.clone();
    m.apply_incremental(&inc).unwrap();
    assert_eq!(m, map17);

    // Epoch and fsid must follow on.
    let mut m = map16.clone();
    let stale = Incremental::new(map16.fsid, 16);
    assert!(m.apply_incremental(&stale).is_err());
    let foreign = Incremental::new("11111111-2222-3333-4444-555555555555".parse().unwrap(), 17);
    assert!(m.apply_incremental(&foreign).is_err());

    // Ordinary changes: flags, weights, state, blocklist, pool removal,
    // a new OSD, and a new CRUSH map (applied last; bumps crush_version).
    let mut inc = Incremental::new(map16.fsid, 17);
    inc.modified = map17.modified;
    inc.new_flags = map17.flags as i32;
    inc.new_max_osd = 4;
    inc.new_weight.insert(2, 0);
    inc.new_state.insert(3, 1); // EXISTS: osd.3 is created
    inc.new_uuid
        .insert(3, "11111111-2222-3333-4444-555555555555".parse().unwrap());
    inc.new_blocklist
        .push(("10.9.9.9:0/1".parse().unwrap(), map17.modified));
    inc.old_blocklist.push(map16.blocklist[0].0);
    inc.old_pools.insert(2);
    let mut crush = map17.crush.clone();
    crush.item_names.insert(3, "osd.3".into());
    inc.crush = crush.to_bytes(CLIENT_FEATURES_ALL);
    let mut m = map16.clone();
    m.apply_incremental(&inc).unwrap();
    assert_eq!(m.epoch, 17);
    assert_eq!(m.flags, map17.flags);
    assert_eq!(m.max_osd, 4);
    assert!(m.exists(3) && !m.is_in(2) && m.is_in(1));
    assert_eq!(
        m.osd_uuid[3].to_string(),
        "11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(m.blocklist.len(), 1);
    assert_eq!(m.blocklist[0].0.to_string(), "10.9.9.9:0/1");
    assert!(!m.pools.contains_key(&2) && !m.pool_names.contains_key(&2));
    assert_eq!(m.crush, crush);
    assert_eq!(m.crush_version, map16.crush_version + 1);
    // The result encodes and decodes back to itself.
    let again = OSDMap::decode_all(&m.to_bytes(CLIENT_FEATURES_ALL)).unwrap();
    assert_eq!(again.crush, m.crush);
    assert_eq!(again.osd_state, m.osd_state);

    // An incremental round-trips through its own encoding, CRC and all.
    let bytes = inc.to_bytes(CLIENT_FEATURES_ALL);
    let back = Incremental::decode_all(&bytes).unwrap();
    assert_eq!(back.to_bytes(CLIENT_FEATURES_ALL), bytes);
    assert_eq!(back.crush, inc.crush);
}

/// Pools from a real Tentacle 20.2.4 monitor (`ceph osd getmap` after
/// `osd pool create tpool 8`, `osd pool create tpool2`,
/// `osd pool set tpool2 nodelete true`): version 32, no stretch fields, an
/// empty non-primary shard set.
#[test]
fn tentacle_pools_decode_and_reencode_byte_for_byte() {
    let bytes = data("tentacle-osdmap.4.bin");
    let map = OSDMap::decode_all(&bytes).unwrap();
    assert_eq!(map.pools.len(), 2);
    for (id, pool) in &map.pools {
        assert_eq!(pool.struct_v, 32, "pool {id}");
        assert!(!pool.is_stretch_pool());
        assert_eq!(pool.peering_crush_mandatory_member, CRUSH_ITEM_NONE);
        assert!(pool.nonprimary_shards.is_empty());
        let encoded = pool.to_bytes(CLIENT_FEATURES_ALL);
        // The pool's own bytes in the map: Ceph wrote exactly these.
        assert!(
            bytes
                .windows(encoded.len())
                .any(|w| w == encoded.as_slice()),
            "pool {id} re-encodes to {}, not found in the map",
            hex(&encoded)
        );
        assert_eq!(&PgPool::decode_all(&encoded).unwrap(), pool);
        // Every truncation is an error, not a panic.
        for cut in 0..encoded.len() {
            assert!(PgPool::decode_all(&encoded[..cut]).is_err(), "cut {cut}");
        }
    }
    assert_eq!(map.pools[&1].pg_num, 8);
    assert_eq!(
        map.pools[&2].flags & PgPool::FLAG_NODELETE,
        PgPool::FLAG_NODELETE
    );
    assert_eq!(map.to_bytes(CLIENT_FEATURES_ALL), bytes);
}

#[test]
fn tentacle_osd_dump_json_matches_ceph() {
    let map = OSDMap::decode_all(&data("tentacle-osdmap.4.bin")).unwrap();
    assert_json_matches(&data("tentacle-osdmap.4.osd-dump.json"), &map.to_json());
}

/// A stretch pool with non-primary shards, through every encoding Ceph
/// picks for it: 32 for Tentacle peers (optional stretch group + shard
/// set), 30 for older Nautilus-or-newer peers (plain stretch fields).
#[test]
fn stretch_pool_with_nonprimary_shards_round_trips() {
    let mut pool = PgPool {
        pool_type: PgPool::TYPE_ERASURE,
        size: 6,
        pg_num: 32,
        peering_crush_bucket_count: 2,
        peering_crush_bucket_target: 3,
        peering_crush_bucket_barrier: 4,
        peering_crush_mandatory_member: -5,
        ..PgPool::default()
    };
    for shard in [0, 5, 64, 127] {
        pool.nonprimary_shards.insert(shard);
    }
    let v32 = pool.to_bytes(CLIENT_FEATURES_ALL);
    assert_eq!(v32[0], 32);
    let back = PgPool::decode_all(&v32).unwrap();
    assert_eq!(back.struct_v, 32);
    assert_eq!(back.peering_crush_bucket_target, 3);
    assert_eq!(back.peering_crush_mandatory_member, -5);
    assert_eq!(
        back.nonprimary_shards.iter().collect::<Vec<_>>(),
        [0, 5, 64, 127]
    );
    assert_eq!(back.to_bytes(CLIENT_FEATURES_ALL), v32);
    // Tail: present flag, the four u32s, then the two varint words
    // (shards 0 and 5 in one byte; 64 and 127 need all ten).
    let mut tail = vec![
        1, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xfb, 0xff, 0xff, 0xff,
    ];
    tail.push(0x21);
    tail.push(0x81);
    tail.extend([0x80; 8]);
    tail.push(0x01);
    assert_eq!(hex(&v32[v32.len() - tail.len()..]), hex(&tail));

    let squid = CLIENT_FEATURES_ALL & !ceph_types::features::CEPH_FEATURE_SERVER_TENTACLE;
    let v30 = back.to_bytes(squid);
    assert_eq!(v30[0], 30);
    let old = PgPool::decode_all(&v30).unwrap();
    assert_eq!(old.peering_crush_bucket_barrier, 4);
    assert!(old.nonprimary_shards.is_empty());
}

/// The shard set's varints: overlong or overflowing words are errors.
#[test]
fn shard_set_rejects_bad_varints() {
    use ceph_osdmap::pg_pool::ShardIdSet;
    let max = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00,
    ];
    let set = ShardIdSet::decode_all(&max).unwrap();
    assert_eq!(set.words, [u64::MAX, 0]);
    assert_eq!(set.to_bytes(0), max);
    // Bit 65 in the tenth byte.
    let overflow = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00,
    ];
    assert!(ShardIdSet::decode_all(&overflow).is_err());
    // An eleventh byte.
    let long = [0x80; 11];
    assert!(ShardIdSet::decode_all(&long).is_err());
    assert!(ShardIdSet::decode_all(&[0x80]).is_err());
}
