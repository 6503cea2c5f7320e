//! Ring 3: `monc osdmaptool` against Ceph's own osdmaptool of the release
//! under test (CEPH_RELEASE), over maps made here: crushtool-built
//! hierarchies of every bucket algorithm under every legacy tunables
//! profile, replicated and erasure-coded (indep) rules, device classes,
//! compat and per-pool weight-sets, upmaps, pg_temp, primary_temp, primary
//! affinity, OSDs out, down and missing, and every corpus OSDMap; each with
//! and without --mark-up-in. Every PG's raw, up and acting sets must be
//! byte-identical; the test counts the mappings it compared.

use std::path::{Path, PathBuf};
use std::process::Command;

use ceph_denc::{Decode, Encode};
use ceph_osdmap::crush::{
    rule_op, ChooseArg, CrushRule, CrushRuleStep, CrushTunables, CrushWrapper,
};
use ceph_osdmap::osdmap::osd_state;
use ceph_osdmap::placement::CRUSH_ITEM_NONE;
use ceph_osdmap::{OSDMap, PgId, PgPool};
use ceph_testbed::{release_from_version, CephRuntime};
use ceph_types::features::CLIENT_FEATURES_ALL;

const MONC: &str = env!("CARGO_BIN_EXE_monc");

struct Bench {
    rt: CephRuntime,
    dir: PathBuf,
    compared: usize,
    pacific: bool,
}

impl Bench {
    fn ceph(&self, program: &str, args: &[&str]) -> std::process::Output {
        let out = self
            .rt
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        out
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// Runs both tools on `map` with `opts`; asserts identical stdout and
    /// exit status and returns how many PGs the output listed.
    fn compare(&mut self, case: &str, map: &str, opts: &[&str]) {
        self.compare_with(case, map, opts, &[]);
    }

    /// As `compare`, giving monc `monc_only` options on top.
    fn compare_with(&mut self, case: &str, map: &str, opts: &[&str], monc_only: &[&str]) {
        let mut args = vec![map];
        args.extend_from_slice(opts);
        let theirs = self.ceph("osdmaptool", &args);
        let ours = Command::new(MONC)
            .arg("osdmaptool")
            .args(&args)
            .args(monc_only)
            .output()
            .expect("run monc");
        let (t, o) = (
            String::from_utf8_lossy(&theirs.stdout),
            String::from_utf8_lossy(&ours.stdout),
        );
        if t != o || theirs.status.code() != ours.status.code() {
            let first = t
                .lines()
                .zip(o.lines())
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("\n ceph: {a}\n monc: {b}"))
                .unwrap_or_default();
            panic!(
                "{case} {opts:?} (monc also {monc_only:?}): outputs differ (exit {:?} vs {:?}, {} vs {} lines){first}\nceph stderr: {}",
                theirs.status.code(),
                ours.status.code(),
                t.lines().count(),
                o.lines().count(),
                String::from_utf8_lossy(&theirs.stderr)
            );
        }
        self.compared += t.lines().filter(|l| l.contains(" raw (")).count();
    }

    fn write_map(&self, name: &str, map: &OSDMap) -> String {
        let p = self.path(name);
        std::fs::write(&p, map.to_bytes(CLIENT_FEATURES_ALL)).unwrap();
        self.write_fixture(name, map);
        p
    }

    /// With PLACEMENT_FIXTURES_DIR set, also writes a small copy of the
    /// map (64 PGs a pool at most) and Ceph's answers for it: the ring-1
    /// fixtures of tests/osdmaptool_fixtures.rs.
    fn write_fixture(&self, name: &str, map: &OSDMap) {
        let Some(dir) = std::env::var_os("PLACEMENT_FIXTURES_DIR") else {
            return;
        };
        let wanted = [
            "straw2-optimal",
            "straw-argonaut",
            "tree-bobtail",
            "list-firefly",
            "uniform-hammer",
            "ws-jewel",
            "ws-optimal",
            "classes",
            "msr",
            "ecopt",
            "rulesets",
            "lookup-pacific",
            "lookup-unset",
        ];
        let stem = name.trim_end_matches(".osdmap");
        if !wanted.contains(&stem) {
            return;
        }
        let mut small = map.clone();
        for p in small.pools.values_mut() {
            p.pg_num = p.pg_num.min(64);
            p.pgp_num = p.pgp_num.min(48);
            p.pg_num_target = p.pg_num;
            p.pgp_num_target = p.pgp_num;
            p.pg_num_pending = p.pg_num;
        }
        let dir = Path::new(&dir);
        // The release's tools (maybe in a chroot) see only the bench dir.
        let file = self.dir.join(format!("fixture-{stem}.osdmap"));
        std::fs::write(&file, small.to_bytes(CLIENT_FEATURES_ALL)).unwrap();
        let f = file.to_string_lossy().into_owned();
        let mut outputs = Vec::new();
        for (suffix, opts) in [
            ("plain", &["--test-map-pgs-dump-all"][..]),
            ("upin", &["--mark-up-in", "--test-map-pgs-dump-all"][..]),
        ] {
            let mut args = vec![f.as_str()];
            args.extend_from_slice(opts);
            let out = self.ceph("osdmaptool", &args);
            if !out.status.success() {
                // A map this release cannot read (e.g. rulesets != ids after
                // Pacific): the fixture comes from a release that can.
                return;
            }
            outputs.push((suffix, out.stdout));
        }
        std::fs::copy(&file, dir.join(format!("{stem}.osdmap"))).unwrap();
        for (suffix, stdout) in outputs {
            std::fs::write(dir.join(format!("{stem}.{suffix}")), stdout).unwrap();
        }
    }
}

fn step(op: u32, arg1: i32, arg2: i32) -> CrushRuleStep {
    CrushRuleStep { op, arg1, arg2 }
}

fn add_rule(crush: &mut CrushWrapper, name: &str, rule_type: u8, steps: Vec<CrushRuleStep>) -> u8 {
    let id = crush.rules.len();
    crush.rules.push(Some(CrushRule {
        ruleset: id as u8,
        rule_type,
        min_size: 1,
        max_size: 20,
        steps,
    }));
    crush.rule_names.insert(id as i32, name.to_string());
    id as u8
}

fn root_id(crush: &CrushWrapper) -> i32 {
    *crush
        .item_names
        .iter()
        .find(|(_, n)| n.as_str() == "root")
        .or_else(|| {
            crush
                .item_names
                .iter()
                .find(|(_, n)| n.starts_with("default"))
        })
        .expect("a root bucket")
        .0
}

fn type_id(crush: &CrushWrapper, name: &str) -> i32 {
    *crush
        .type_names
        .iter()
        .find(|(_, n)| n.as_str() == name)
        .unwrap_or_else(|| panic!("no type {name}"))
        .0
}

/// The legacy tunables profiles, as `ceph osd crush tunables` sets them.
fn profiles() -> Vec<(&'static str, CrushTunables)> {
    let legacy = CrushTunables::LEGACY;
    let bobtail = CrushTunables {
        choose_local_tries: 0,
        choose_local_fallback_tries: 0,
        choose_total_tries: 50,
        chooseleaf_descend_once: 1,
        ..legacy
    };
    let firefly = CrushTunables {
        chooseleaf_vary_r: 1,
        ..bobtail
    };
    let hammer = CrushTunables {
        allowed_bucket_algs: CrushTunables::OPTIMAL.allowed_bucket_algs,
        ..firefly
    };
    let jewel = CrushTunables {
        chooseleaf_stable: 1,
        ..hammer
    };
    vec![
        ("argonaut", legacy),
        ("bobtail", bobtail),
        ("firefly", firefly),
        ("hammer", hammer),
        ("jewel", jewel),
        ("optimal", CrushTunables::OPTIMAL),
    ]
}

/// Adds an EC pool (indep rule) and a two-step replicated pool, sets OSD
/// states and weights, and the explicit overrides.
fn dress(map: &mut OSDMap, crush: CrushWrapper, pacific: bool, seed: u32) {
    let mut crush = crush;
    let root = root_id(&crush);
    let host = type_id(&crush, "host");
    let rack = type_id(&crush, "rack");
    let ec_rule = add_rule(
        &mut crush,
        "ec",
        3,
        vec![
            step(rule_op::SET_CHOOSELEAF_TRIES, 5, 0),
            step(rule_op::SET_CHOOSE_TRIES, 100, 0),
            step(rule_op::TAKE, root, 0),
            step(rule_op::CHOOSELEAF_INDEP, 0, host),
            step(rule_op::EMIT, 0, 0),
        ],
    );
    let two_step = add_rule(
        &mut crush,
        "racks_then_hosts",
        1,
        vec![
            step(rule_op::TAKE, root, 0),
            step(rule_op::CHOOSE_FIRSTN, 2, rack),
            step(rule_op::CHOOSELEAF_FIRSTN, 2, host),
            step(rule_op::EMIT, 0, 0),
        ],
    );
    let osd_indep = add_rule(
        &mut crush,
        "ec_osds",
        3,
        vec![
            step(rule_op::TAKE, root, 0),
            step(rule_op::CHOOSE_INDEP, 0, rack),
            step(rule_op::CHOOSE_INDEP, 1, 0),
            step(rule_op::EMIT, 0, 0),
        ],
    );
    map.crush = crush;
    let base = map.pools[&1].clone();
    let mut add_pool = |id: i64, name: &str, rule: u8, size: u8, pg_num: u32, ec: bool| {
        let mut p = base.clone();
        p.crush_rule = rule;
        p.size = size;
        p.min_size = size.min(2);
        p.pg_num = pg_num;
        p.pgp_num = pg_num;
        p.pg_num_target = pg_num;
        p.pgp_num_target = pg_num;
        p.pg_num_pending = pg_num;
        if ec {
            p.pool_type = PgPool::TYPE_ERASURE;
        }
        map.pools.insert(id, p);
        map.pool_names.insert(id, name.to_string());
        map.pool_max = map.pool_max.max(id as i32);
    };
    add_pool(2, "ec", ec_rule, 6, 1024, true);
    add_pool(3, "two_step", two_step, 4, 512, false);
    add_pool(4, "ec_osds", osd_indep, 4, 256, true);
    if let Some(p) = map.pools.get_mut(&1) {
        p.pg_num = 4096;
        p.pgp_num = 3072;
        p.pg_num_target = 4096;
        p.pgp_num_target = 3072;
        p.pg_num_pending = 4096;
    }
    let n = map.max_osd as usize;
    for i in 0..n {
        map.osd_state[i] = osd_state::EXISTS | osd_state::UP;
        map.osd_weight[i] = 0x10000;
    }
    let pick =
        |k: u32| ((seed.wrapping_mul(2_654_435_761).wrapping_add(k * 40_503)) % n as u32) as usize;
    map.osd_state[pick(1)] = osd_state::EXISTS; // down
    map.osd_weight[pick(2)] = 0; // out
    map.osd_weight[pick(3)] = 0x8000; // half reweighted
    map.osd_weight[pick(4)] = 0x3000;
    map.osd_state[pick(5)] = 0; // does not exist
    map.osd_primary_affinity = vec![0x10000; n];
    map.osd_primary_affinity[pick(6)] = 0;
    map.osd_primary_affinity[pick(7)] = 0x4000;
    map.osd_primary_affinity[pick(8)] = 0xc000;
    let pg = |pool: u64, seed: u32| PgId { pool, seed };
    let osd = |k: u32| pick(k) as i32;
    map.pg_temp
        .insert(pg(1, 0), vec![osd(10), osd(11), osd(12)]);
    map.pg_temp.insert(pg(1, 5), vec![osd(1), osd(13)]);
    map.pg_temp.insert(
        pg(2, 3),
        vec![osd(14), CRUSH_ITEM_NONE, osd(1), osd(15), osd(16), osd(17)],
    );
    map.primary_temp.insert(pg(1, 0), osd(12));
    map.primary_temp.insert(pg(1, 9), osd(18));
    map.pg_upmap
        .insert(pg(1, 7), vec![osd(19), osd(20), osd(21)]);
    map.pg_upmap
        .insert(pg(1, 8), vec![osd(2), osd(20), osd(21)]);
    map.pg_upmap.insert(
        pg(2, 9),
        vec![osd(22), osd(23), CRUSH_ITEM_NONE, osd(24), osd(25), osd(26)],
    );
    // Items that hit: replace each PG's first CRUSH pick.
    let snapshot = map.clone();
    let placer = snapshot.placer();
    let mut raw = Vec::new();
    for s in 10..40u32 {
        for pool in [1u64, 2] {
            if placer.pg_to_raw(pg(pool, s), &mut raw).is_ok() {
                if let Some(&first) = raw.first() {
                    if first != CRUSH_ITEM_NONE {
                        map.pg_upmap_items.insert(
                            pg(pool, s),
                            vec![(first, osd(30 + s)), (osd(60 + s), osd(61 + s))],
                        );
                    }
                }
                if !pacific && s % 3 == 0 {
                    if let Some(&last) = raw.last() {
                        map.pg_upmap_primaries.insert(pg(pool, s), last);
                    }
                }
            }
        }
    }
}

/// Compat (-1) and per-pool weight-sets over every straw2 bucket: varied
/// weights per position, and substitute hashing ids for some buckets.
fn add_weight_sets(crush: &mut CrushWrapper, pool: i64) {
    for key in [-1i64, pool] {
        let mut args = std::collections::BTreeMap::new();
        for (index, b) in crush.buckets.iter().enumerate() {
            let Some(b) = b else { continue };
            let positions = if key == -1 { 1 } else { 3 };
            let weight_set = (0..positions)
                .map(|p| {
                    (0..b.items.len())
                        .map(|i| {
                            0x8000 + ((i as u32 * 7919 + p * 104_729 + index as u32 * 31) % 0x18000)
                        })
                        .collect()
                })
                .collect();
            let ids = if index % 2 == 0 && key != -1 {
                b.items
                    .iter()
                    .map(|&i| if i < 0 { i - 1000 } else { i + 1000 })
                    .collect()
            } else {
                Vec::new()
            };
            args.insert(index as u32, ChooseArg { weight_set, ids });
        }
        crush.choose_args.insert(key, args);
    }
}

fn build_crush(b: &Bench, name: &str, alg: &str, osds: u32) -> CrushWrapper {
    let out = b.path(name);
    let num = osds.to_string();
    let r = b.ceph(
        "crushtool",
        &[
            "--build",
            "--num_osds",
            &num,
            "-o",
            &out,
            "host",
            alg,
            "4",
            "rack",
            alg,
            "3",
            "root",
            alg,
            "0",
        ],
    );
    assert!(
        r.status.success(),
        "crushtool --build: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    CrushWrapper::decode_all(&std::fs::read(&out).unwrap()).unwrap()
}

/// A map with device classes: decompile, give the devices classes, add a
/// class-restricted rule, compile (crushtool builds the shadow trees).
fn build_classes_crush(b: &Bench, osds: u32) -> CrushWrapper {
    let bin = b.path("classes.bin");
    let num = osds.to_string();
    let r = b.ceph(
        "crushtool",
        &[
            "--build",
            "--num_osds",
            &num,
            "-o",
            &bin,
            "host",
            "straw2",
            "4",
            "rack",
            "straw2",
            "3",
            "root",
            "straw2",
            "0",
        ],
    );
    assert!(r.status.success());
    let txt = b.path("classes.txt");
    assert!(b
        .ceph("crushtool", &["-d", &bin, "-o", &txt])
        .status
        .success());
    let text = std::fs::read_to_string(&txt).unwrap();
    let mut edited = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("device ") {
            let id: u32 = rest.split_whitespace().next().unwrap().parse().unwrap();
            let class = if id.is_multiple_of(3) { "ssd" } else { "hdd" };
            edited.push_str(&format!("{line} class {class}\n"));
        } else if line.starts_with("# end crush map") {
            continue;
        } else {
            edited.push_str(line);
            edited.push('\n');
        }
    }
    edited.push_str(
        "rule ssd_only {\n\tid 1\n\ttype replicated\n\tmin_size 1\n\tmax_size 10\n\tstep take root class ssd\n\tstep chooseleaf firstn 0 type host\n\tstep emit\n}\n",
    );
    edited.push_str(
        "rule hdd_ec {\n\tid 2\n\ttype erasure\n\tmin_size 1\n\tmax_size 10\n\tstep set_chooseleaf_tries 5\n\tstep take root class hdd\n\tstep chooseleaf indep 0 type rack\n\tstep emit\n}\n",
    );
    std::fs::write(&txt, edited).unwrap();
    let out = b.path("classes2.bin");
    let r = b.ceph("crushtool", &["-c", &txt, "-o", &out]);
    assert!(
        r.status.success(),
        "crushtool -c: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    CrushWrapper::decode_all(&std::fs::read(&out).unwrap()).unwrap()
}

/// MSR rules (Squid on): the release's crushtool compiles them from text,
/// or the release has none (None, with the reason).
fn build_msr_crush(b: &Bench, osds: u32) -> Result<CrushWrapper, String> {
    let bin = b.path("msr.bin");
    let num = osds.to_string();
    let r = b.ceph(
        "crushtool",
        &[
            "--build",
            "--num_osds",
            &num,
            "-o",
            &bin,
            "host",
            "straw2",
            "4",
            "rack",
            "straw2",
            "3",
            "root",
            "straw2",
            "0",
        ],
    );
    assert!(r.status.success());
    let txt = b.path("msr.txt");
    assert!(b
        .ceph("crushtool", &["-d", &bin, "-o", &txt])
        .status
        .success());
    let mut text = std::fs::read_to_string(&txt).unwrap();
    text = text.replace("# end crush map", "");
    // Ids 1..=5, after crushtool's replicated_rule 0.
    text.push_str(concat!(
        "rule msr_ec_hosts {\n id 1\n type msr_indep\n step take root\n",
        " step choosemsr 3 type host\n step choosemsr 2 type osd\n step emit\n}\n",
        "rule msr_rep_tuned {\n id 2\n type msr_firstn\n step set_msr_descents 7\n",
        " step set_msr_collision_tries 3\n step take root\n step choosemsr 0 type host\n",
        " step choosemsr 1 type osd\n step emit\n}\n",
        "rule msr_ec_racks {\n id 3\n type msr_indep\n step set_msr_descents 20\n",
        " step take root\n step choosemsr 2 type rack\n step choosemsr 2 type host\n",
        " step choosemsr 2 type osd\n step emit\n}\n",
        "rule msr_osds {\n id 4\n type msr_indep\n step set_msr_collision_tries 2\n",
        " step take root\n step choosemsr 0 type osd\n step emit\n}\n",
        "rule msr_two_blocks {\n id 5\n type msr_firstn\n step take host2\n",
        " step choosemsr 2 type osd\n step emit\n step take root\n",
        " step choosemsr 2 type host\n step choosemsr 2 type osd\n step emit\n}\n",
    ));
    std::fs::write(&txt, text).unwrap();
    let out = b.path("msr2.bin");
    let r = b.ceph("crushtool", &["-c", &txt, "-o", &out]);
    if !r.status.success() {
        return Err(format!(
            "crushtool -c rejects MSR rules: {}",
            String::from_utf8_lossy(&r.stderr).trim()
        ));
    }
    Ok(CrushWrapper::decode_all(&std::fs::read(&out).unwrap()).unwrap())
}

/// Maps where Pacific's rule lookup (by mask) and Quincy's (by id) differ.
fn rule_lookup_cases(b: &mut Bench, base: &OSDMap, osds: u32) {
    let crush = build_crush(b, "lookup.crush", "straw2", osds);
    let mut map = base.clone();
    dress(&mut map, crush, b.pacific, 400);
    // Pool 1 (size 3) outside rule 0's bounds; pool 4 (erasure) on a rule
    // now typed replicated. Rulesets stay equal to ids, so every release
    // reads the map.
    map.crush.rules[0].as_mut().unwrap().max_size = 2;
    let ec_osds = usize::from(map.pools[&4].crush_rule);
    map.crush.rules[ec_osds].as_mut().unwrap().rule_type = 1;
    for (name, release) in [
        ("lookup-unset", 0u8),
        ("lookup-pacific", 16),
        ("lookup-reef", 18),
    ] {
        map.require_osd_release = release;
        let p = b.write_map(&format!("{name}.osdmap"), &map);
        let opts = ["--mark-up-in", "--test-map-pgs-dump-all"];
        if b.pacific {
            // The map's release decides by default; the option overrides.
            let auto: &[&str] = if release == 16 {
                &[]
            } else {
                &["--crush-rule-lookup", "mask"]
            };
            b.compare_with(name, &p, &opts, auto);
            b.compare_with(name, &p, &opts, &["--crush-rule-lookup=mask"]);
        } else {
            let auto: &[&str] = if release == 16 {
                &["--crush-rule-lookup", "id"]
            } else {
                &[]
            };
            b.compare_with(name, &p, &opts, auto);
            b.compare_with(name, &p, &opts, &["--crush-rule-lookup=id"]);
        }
    }
    // Rulesets that are not rule ids: pool 1 falls through to a later rule
    // of ruleset 0, pool 3 names ruleset 9 (rule 6). Only pre-Quincy
    // releases read such maps.
    let root = root_id(&map.crush);
    let host = type_id(&map.crush, "host");
    map.require_osd_release = 0;
    let mut add = |ruleset: u8, op: u32, t: i32| {
        let id = add_rule(
            &mut map.crush,
            &format!("ruleset{ruleset}_{op}"),
            1,
            vec![
                step(rule_op::TAKE, root, 0),
                step(op, 0, t),
                step(rule_op::EMIT, 0, 0),
            ],
        );
        map.crush.rules[usize::from(id)].as_mut().unwrap().ruleset = ruleset;
        id
    };
    add(0, rule_op::CHOOSE_FIRSTN, 0);
    add(0, rule_op::CHOOSELEAF_FIRSTN, host);
    let nine = add(9, rule_op::CHOOSELEAF_FIRSTN, host);
    add(9, rule_op::CHOOSE_FIRSTN, 0);
    assert_eq!(nine, 6);
    map.pools.get_mut(&3).unwrap().crush_rule = 9;
    let p = b.write_map("rulesets.osdmap", &map);
    if b.pacific {
        b.compare("rulesets", &p, &["--test-map-pgs-dump-all"]);
        b.compare("rulesets", &p, &["--mark-up-in", "--test-map-pgs-dump-all"]);
    } else {
        let r = b.ceph("osdmaptool", &[&p, "--test-map-pgs-dump-all"]);
        assert!(
            !r.status.success(),
            "{} decoded rulesets != ids",
            b.rt.release()
        );
        eprintln!(
            "{}: rulesets case skipped: its osdmaptool cannot decode a map whose rulesets are not rule ids",
            b.rt.release()
        );
    }
}

/// EC pools with the ec_optimizations flag and non-primary shards, with
/// pg_temp written primary-first as Tentacle's monitors write it.
fn ec_optimized_cases(b: &mut Bench, base: &OSDMap, osds: u32) {
    let crush = build_crush(b, "ecopt.crush", "straw2", osds);
    let mut map = base.clone();
    dress(&mut map, crush, b.pacific, 500);
    for (pool, rule_of, size, nonprimary) in
        [(10i64, 2i64, 6u8, &[1u8, 2, 4][..]), (11, 4, 4, &[3])]
    {
        let mut p = map.pools[&rule_of].clone();
        p.size = size;
        p.flags |= PgPool::FLAG_EC_OPTIMIZATIONS;
        for &s in nonprimary {
            p.nonprimary_shards.insert(s);
        }
        map.pools.insert(pool, p);
        map.pool_names.insert(pool, format!("ecopt{pool}"));
        map.pool_max = map.pool_max.max(pool as i32);
    }
    let p = b.write_map("ecopt-probe.osdmap", &map);
    let dump = b.ceph("osdmaptool", &[&p, "--dump", "plain"]);
    if !String::from_utf8_lossy(&dump.stdout).contains("ec_optimizations") {
        eprintln!(
            "{}: optimized-EC case skipped: its osdmaptool does not know the ec_optimizations flag",
            b.rt.release()
        );
        return;
    }
    // Temps of the pool's size (Ceph asserts on others): the CRUSH set
    // rotated, now and then with a down OSD or a hole.
    let snapshot = map.clone();
    let placer = snapshot.placer();
    let down = (0..osds as i32)
        .find(|&o| !snapshot.is_up(o) && snapshot.exists(o))
        .unwrap_or(0);
    let mut raw = Vec::new();
    for pool in [10u64, 11] {
        for seed in 0..48u32 {
            let pg = PgId { pool, seed };
            placer.pg_to_raw(pg, &mut raw).unwrap();
            let mut temp = raw.clone();
            let turn = seed as usize % temp.len().max(1);
            temp.rotate_left(turn);
            match seed % 4 {
                1 => temp[0] = down,
                2 => temp[1] = CRUSH_ITEM_NONE,
                _ => {}
            }
            map.pg_temp.insert(pg, temp);
            let last = raw[raw.len() - 1];
            if seed % 5 == 0 && last != CRUSH_ITEM_NONE {
                map.primary_temp.insert(pg, last);
            }
        }
    }
    let p = b.write_map("ecopt.osdmap", &map);
    b.compare("ecopt", &p, &["--test-map-pgs-dump-all"]);
    b.compare("ecopt", &p, &["--mark-up-in", "--test-map-pgs-dump-all"]);
}

fn corpus_maps() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../osdmap/tests/corpus");
    let mut v = Vec::new();
    for rel in std::fs::read_dir(root).unwrap().flatten() {
        if let Ok(files) = std::fs::read_dir(rel.path().join("OSDMap")) {
            v.extend(files.flatten().map(|f| f.path()));
        }
    }
    v.sort();
    v
}

#[test]
fn placements_match_ceph_osdmaptool() {
    let rt = CephRuntime::from_env().expect("runtime");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let rt = rt.sharing(&dir);
    // "host" names no release: ask the tools (Pacific has no
    // pg_upmap_primaries and picks rules by mask).
    let version = rt.command("osdmaptool").arg("--version").output().unwrap();
    let codename = release_from_version(&String::from_utf8_lossy(&version.stdout))
        .unwrap_or_else(|| rt.release().to_string());
    let pacific = codename == "pacific";
    let mut b = Bench {
        rt,
        dir,
        compared: 0,
        pacific,
    };
    let started = std::time::Instant::now();
    let osds = 48u32;
    let base_path = b.path("base.osdmap");
    let r = b.ceph(
        "osdmaptool",
        &[
            "--createsimple",
            &osds.to_string(),
            "--with-default-pool",
            "--pg-bits",
            "5",
            &base_path,
            "--clobber",
        ],
    );
    assert!(
        r.status.success(),
        "createsimple: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    let base = OSDMap::decode_all(&std::fs::read(&base_path).unwrap()).unwrap();

    let mut seed = 0u32;
    for alg in ["uniform", "list", "tree", "straw", "straw2"] {
        let crush = build_crush(&b, &format!("{alg}.crush"), alg, osds);
        for (profile, tunables) in profiles() {
            seed += 1;
            let mut c = crush.clone();
            c.tunables = tunables;
            let mut map = base.clone();
            dress(&mut map, c, b.pacific, seed);
            let case = format!("{alg}/{profile}");
            let p = b.write_map(&format!("{alg}-{profile}.osdmap"), &map);
            b.compare(&case, &p, &["--test-map-pgs-dump-all"]);
            b.compare(&case, &p, &["--mark-up-in", "--test-map-pgs-dump-all"]);
        }
    }
    // Weight-sets (straw2 only uses them), compat and per pool.
    for (i, (profile, tunables)) in profiles().into_iter().enumerate().skip(3) {
        let mut crush = build_crush(&b, "ws.crush", "straw2", osds);
        crush.tunables = tunables;
        add_weight_sets(&mut crush, 2 + (i as i64 % 2));
        let mut map = base.clone();
        dress(&mut map, crush, b.pacific, 100 + i as u32);
        let p = b.write_map(&format!("ws-{profile}.osdmap"), &map);
        b.compare(
            &format!("weight-sets/{profile}"),
            &p,
            &["--test-map-pgs-dump-all"],
        );
        b.compare(
            &format!("weight-sets/{profile}"),
            &p,
            &["--mark-up-in", "--mark-out", "3", "--test-map-pgs-dump-all"],
        );
        b.compare(&format!("weight-sets/{profile}"), &p, &["--test-map-pgs"]);
    }
    // Device classes: shadow trees as crushtool stores them.
    {
        let crush = build_classes_crush(&b, osds);
        let mut map = base.clone();
        dress(&mut map, crush, b.pacific, 200);
        for (pool, rule, ec, size) in [(5i64, 1u8, false, 3u8), (6, 2, true, 4)] {
            let mut p = map.pools[&1].clone();
            p.crush_rule = rule;
            p.size = size;
            if ec {
                p.pool_type = PgPool::TYPE_ERASURE;
            }
            map.pools.insert(pool, p);
            map.pool_names.insert(pool, format!("classes{pool}"));
            map.pool_max = map.pool_max.max(pool as i32);
        }
        let p = b.write_map("classes.osdmap", &map);
        b.compare("classes", &p, &["--test-map-pgs-dump-all"]);
        b.compare("classes", &p, &["--mark-up-in", "--test-map-pgs-dump-all"]);
    }
    // MSR rules, where the release has them.
    match build_msr_crush(&b, osds) {
        Err(why) => eprintln!("{}: MSR cases skipped: {why}", b.rt.release()),
        Ok(mut crush) => {
            crush.tunables.msr_descents = 40;
            let mut map = base.clone();
            dress(&mut map, crush, b.pacific, 300);
            // Pools 5..=9 on the MSR rules 1..=5.
            for (pool, rule, ec, size) in [
                (5i64, 1u8, true, 6u8),
                (6, 2, false, 4),
                (7, 3, true, 8),
                (8, 4, true, 5),
                (9, 5, false, 6),
            ] {
                let mut p = map.pools[&1].clone();
                p.crush_rule = rule;
                p.size = size;
                p.pg_num = 512;
                p.pgp_num = 512;
                p.pg_num_target = 512;
                p.pgp_num_target = 512;
                p.pg_num_pending = 512;
                if ec {
                    p.pool_type = PgPool::TYPE_ERASURE;
                }
                map.pools.insert(pool, p);
                map.pool_names.insert(pool, format!("msr{pool}"));
                map.pool_max = map.pool_max.max(pool as i32);
            }
            // A whole host out (osd.4-7 are host1) and part of another
            // down or out, so descents have to retry elsewhere.
            for o in 4..8 {
                map.osd_weight[o] = 0;
            }
            map.osd_weight[9] = 0;
            map.osd_weight[10] = 0x4000;
            map.osd_state[13] = osd_state::EXISTS;
            map.osd_state[14] = osd_state::EXISTS;
            let p = b.write_map("msr.osdmap", &map);
            b.compare("msr", &p, &["--test-map-pgs-dump-all"]);
            b.compare("msr", &p, &["--mark-up-in", "--test-map-pgs-dump-all"]);
            b.compare("msr", &p, &["--mark-out", "20", "--test-map-pgs-dump-all"]);
        }
    }
    // Rule lookup: Pacific picks the first rule whose legacy mask (ruleset,
    // type, min/max size) fits the pool; Quincy on use crush_rule as the id.
    rule_lookup_cases(&mut b, &base, osds);
    // Tentacle's optimized EC pools: pg_temp lists primary-capable shards
    // first; acting comes back in shard order.
    ec_optimized_cases(&mut b, &base, osds);
    // Objects and single PGs.
    let p = b.path("straw2-optimal.osdmap");
    for name in ["foo", "rbd_data.1234", "a", "x y"] {
        for pool in ["1", "2", "3", "9"] {
            b.compare("object", &p, &["--test-map-object", name, "--pool", pool]);
        }
    }
    for pg in [
        "1.0", "1.7", "2.3", "2.9", "1.5ff", "1.fffff", "9.1", "1.0x5", " 2.a",
    ] {
        b.compare("pg", &p, &["--test-map-pg", pg]);
    }
    b.compare("summary", &p, &["--test-map-pgs", "--pool", "2"]);
    b.compare("summary", &p, &["--mark-up-in", "--test-map-pgs"]);
    b.compare("no pool", &p, &["--test-map-pgs", "--pool", "42"]);
    // Every corpus OSDMap.
    for (i, m) in corpus_maps().iter().enumerate() {
        let copy = b.path(&format!("corpus{i}.osdmap"));
        std::fs::copy(m, &copy).unwrap();
        let case = m.display().to_string();
        b.compare(&case, &copy, &["--test-map-pgs-dump-all"]);
        b.compare(&case, &copy, &["--mark-up-in", "--test-map-pgs-dump-all"]);
        b.compare(&case, &copy, &["--mark-up-in", "--test-map-pgs"]);
    }
    eprintln!(
        "{}: {} PG mappings compared with Ceph's osdmaptool, 0 differences, in {:.1?}",
        b.rt.release(),
        b.compared,
        started.elapsed()
    );
    assert!(
        b.compared > 400_000,
        "only {} mappings compared",
        b.compared
    );
    b.rt.remove_mount_points();
}
