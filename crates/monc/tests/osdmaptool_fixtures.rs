//! Ring 1: `monc osdmaptool --test-map-pgs-dump-all` (with and without
//! `--mark-up-in`) on small maps checked into tests/data/placement must
//! print exactly what Ceph's osdmaptool printed for them. The maps cover
//! every bucket algorithm, the legacy tunables profiles, EC/indep rules,
//! device classes, weight-sets, upmaps, temps and primary affinity; they
//! and the expected outputs were written by the ring-3 test
//! osdmaptool_vs_ceph with PLACEMENT_FIXTURES_DIR set (Ceph 16, Pacific),
//! except msr.* (MSR rules) and ecopt.* (pools with the ec_optimizations
//! flag, pg_temp listed primary-first), which only Squid / Tentacle have:
//! written by Ceph 20.2.4, Tentacle. Rule lookup (Pacific by mask, later
//! releases by id): rulesets.* (rulesets that are not rule ids, which later
//! releases cannot read) and lookup-pacific.* (require_osd_release pacific,
//! a pool outside its rule's size bounds, an EC pool on a replicated-typed
//! rule) written by Ceph 16.2.15; lookup-unset.* (the same map with no
//! release set) by Tentacle.

use std::path::Path;
use std::process::Command;

#[test]
fn fixtures_map_as_ceph_did() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/placement");
    let mut maps: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "osdmap"))
        .collect();
    maps.sort();
    assert!(maps.len() >= 13, "fixtures missing in {}", dir.display());
    let mut compared = 0;
    for map in &maps {
        for (suffix, opts) in [
            ("plain", &["--test-map-pgs-dump-all"][..]),
            ("upin", &["--mark-up-in", "--test-map-pgs-dump-all"][..]),
        ] {
            let expected = std::fs::read_to_string(map.with_extension(suffix)).unwrap();
            let out = Command::new(env!("CARGO_BIN_EXE_monc"))
                .arg("osdmaptool")
                .arg(map)
                .args(opts)
                .output()
                .unwrap();
            assert!(out.status.success());
            let got = String::from_utf8(out.stdout).unwrap();
            if got != expected {
                let first = expected
                    .lines()
                    .zip(got.lines())
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("\n ceph: {a}\n monc: {b}"))
                    .unwrap_or_default();
                panic!(
                    "{} {opts:?} differs from Ceph's output{first}",
                    map.display()
                );
            }
            compared += expected.lines().filter(|l| l.contains(" raw (")).count();
        }
    }
    assert!(compared > 4000, "only {compared} PGs compared");
}
