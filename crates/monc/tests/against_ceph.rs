//! `monc` against the reference `ceph` CLI on the same real clusters (one
//! and three Pacific monitors): same exit codes, same output. Built twice:
//! `against_ceph_v1` runs it against monitors that speak only msgr1.

mod common;

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use ceph_testbed::Cluster;
use common::{ceph, monc, shared_cluster, Run};
use serde_json::Value;

static ONE_MON: OnceLock<Cluster> = OnceLock::new();
static THREE_MONS: OnceLock<Cluster> = OnceLock::new();

fn one_mon() -> &'static Cluster {
    shared_cluster(&ONE_MON, 1)
}

fn three_mons() -> &'static Cluster {
    shared_cluster(&THREE_MONS, 3)
}

/// Held by tests that change cluster state and by tests that compare
/// output depending on it (status, health), so a comparison never straddles
/// a change made by a test running in parallel.
static STATE: Mutex<()> = Mutex::new(());

fn state_lock() -> MutexGuard<'static, ()> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fields of `status` / `quorum_status` that change between two calls
/// without anything happening: the quorum's age in seconds.
const VOLATILE_FIELDS: &[&str] = &["quorum_age"];

fn without_volatile(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        for field in VOLATILE_FIELDS {
            map.remove(*field);
        }
    }
    v
}

fn assert_same_code(mine: &Run, theirs: &Run, what: &str) {
    assert_eq!(
        mine.code, theirs.code,
        "{what}: exit codes differ\nmonc: {mine:#?}\nceph: {theirs:#?}"
    );
}

/// Runs `args` with both tools up to three times until `same` holds, for
/// output that the cluster itself may change between two calls (health
/// checks appear on the monitors' tick). Returns the last pair.
fn compare_settled(
    cluster: &Cluster,
    args: &[&str],
    same: impl Fn(&Run, &Run) -> bool,
) -> (Run, Run) {
    let mut last = None;
    for _ in 0..3 {
        let mine = monc(cluster, args);
        let theirs = ceph(cluster, args);
        if same(&mine, &theirs) {
            return (mine, theirs);
        }
        last = Some((mine, theirs));
        std::thread::sleep(Duration::from_millis(300));
    }
    let (mine, theirs) = last.expect("three attempts made");
    panic!("{args:?}: monc and ceph differ\nmonc: {mine:#?}\nceph: {theirs:#?}");
}

/// True in `against_ceph_v1`, whose monitors speak only msgr1.
fn msgr1_only() -> bool {
    env!("CARGO_CRATE_NAME").ends_with("_v1")
}

fn check_mon_dump_json(cluster: &Cluster) {
    let mine = monc(cluster, &["mon", "dump", "-f", "json"]);
    let theirs = ceph(cluster, &["mon", "dump", "-f", "json"]);
    assert_same_code(&mine, &theirs, "mon dump -f json");
    assert_eq!(mine.code, Some(0), "{mine:#?}");
    let (m, t) = (mine.json(), theirs.json());
    // The fields that matter, one by one for a readable failure...
    assert_eq!(m["fsid"], cluster.fsid());
    for field in ["fsid", "epoch", "mons", "quorum"] {
        assert_eq!(m[field], t[field], "mon dump field {field}");
    }
    let mons = m["mons"].as_array().expect("mons is an array");
    assert_eq!(mons.len(), cluster.mons().len());
    for (entry, mon) in mons.iter().zip(cluster.mons()) {
        assert_eq!(entry["name"], mon.name.as_str());
        assert_eq!(entry["rank"], mon.rank);
        let addrvec = &entry["public_addrs"]["addrvec"];
        if msgr1_only() {
            assert_eq!(addrvec[0]["type"], "v1");
            assert_eq!(addrvec[0]["addr"], mon.v1_addr.to_string());
            assert_eq!(addrvec.as_array().map(Vec::len), Some(1));
        } else {
            assert_eq!(addrvec[0]["addr"], mon.v2_addr.to_string());
            assert_eq!(addrvec[1]["addr"], mon.v1_addr.to_string());
        }
    }
    // ...then everything: a monmap dump has no field that changes by itself.
    assert_eq!(m, t);
    assert_eq!(mine.stderr, theirs.stderr);
}

#[test]
fn mon_dump_json_matches_ceph_one_mon() {
    check_mon_dump_json(one_mon());
}

#[test]
fn mon_dump_json_matches_ceph_three_mons() {
    check_mon_dump_json(three_mons());
}

fn check_mon_dump_plain(cluster: &Cluster) {
    let mine = monc(cluster, &["mon", "dump"]);
    let theirs = ceph(cluster, &["mon", "dump"]);
    assert_eq!(mine.code, Some(0), "{mine:#?}");
    assert_same_code(&mine, &theirs, "mon dump");
    assert_eq!(mine.stdout, theirs.stdout, "mon dump stdout");
    assert_eq!(mine.stderr, theirs.stderr, "mon dump stderr");
    assert!(mine.stdout.contains(cluster.fsid()));
    for mon in cluster.mons() {
        let line = if msgr1_only() {
            format!("{}: v1:{}/0 mon.{}\n", mon.rank, mon.v1_addr, mon.name)
        } else {
            format!(
                "{}: [v2:{}/0,v1:{}/0] mon.{}\n",
                mon.rank, mon.v2_addr, mon.v1_addr, mon.name
            )
        };
        assert!(mine.stdout.contains(&line), "missing {line:?}");
    }
}

#[test]
fn mon_dump_plain_is_byte_identical_one_mon() {
    check_mon_dump_plain(one_mon());
}

#[test]
fn mon_dump_plain_is_byte_identical_three_mons() {
    check_mon_dump_plain(three_mons());
}

fn check_status_json(cluster: &Cluster) {
    let _state = state_lock();
    let (mine, _) = compare_settled(cluster, &["status", "-f", "json"], |m, t| {
        m.code == t.code && without_volatile(m.json()) == without_volatile(t.json())
    });
    let status = mine.json();
    assert_eq!(mine.code, Some(0));
    assert_eq!(status["fsid"], cluster.fsid());
    assert_eq!(
        status["quorum_names"].as_array().map(Vec::len),
        Some(cluster.mons().len())
    );
    assert!(
        status["quorum_age"].is_u64(),
        "quorum_age present: {status}"
    );
}

#[test]
fn status_json_matches_ceph_one_mon() {
    check_status_json(one_mon());
}

#[test]
fn status_json_matches_ceph_three_mons() {
    check_status_json(three_mons());
}

#[test]
fn health_detail_matches_ceph() {
    for cluster in [one_mon(), three_mons()] {
        let _state = state_lock();
        let (mine, _) = compare_settled(cluster, &["health", "detail"], |m, t| {
            m.code == t.code && m.stdout == t.stdout && m.stderr == t.stderr
        });
        assert_eq!(mine.code, Some(0));
        assert!(mine.stdout.starts_with("HEALTH_"), "{mine:#?}");
    }
}

#[test]
fn quorum_status_json_pretty_matches_ceph() {
    let cluster = three_mons();
    let args = ["quorum_status", "-f", "json-pretty"];
    let (mine, _) = compare_settled(cluster, &args, |m, t| {
        m.code == t.code && without_volatile(m.json()) == without_volatile(t.json())
    });
    assert_eq!(mine.code, Some(0));
    assert!(
        mine.stdout.contains("\n    \"quorum_names\": ["),
        "pretty-printed: {}",
        mine.stdout
    );
    assert_eq!(
        mine.json()["quorum_names"],
        serde_json::json!(["a", "b", "c"])
    );
}

/// Runs a state-changing command with `monc` first, then the same with
/// `ceph` (which now finds the change made), then `monc` again: the last two
/// must agree exactly. Returns the first run.
fn change_then_compare(cluster: &Cluster, args: &[&str]) -> Run {
    let first = monc(cluster, args);
    let theirs = ceph(cluster, args);
    let again = monc(cluster, args);
    assert_same_code(&again, &theirs, &args.join(" "));
    assert_eq!(again.stdout, theirs.stdout, "{args:?} stdout");
    assert_eq!(again.stderr, theirs.stderr, "{args:?} stderr");
    first
}

#[test]
fn pool_and_config_changes_match_ceph() {
    let _state = state_lock();
    let cluster = one_mon();

    let created = change_then_compare(cluster, &["osd", "pool", "create", "p1", "32"]);
    assert_eq!(created.code, Some(0), "{created:#?}");
    assert_eq!(created.stderr, "pool 'p1' created\n");

    let sized = change_then_compare(cluster, &["osd", "pool", "set", "p1", "size", "2"]);
    assert_eq!(sized.code, Some(0), "{sized:#?}");
    assert!(sized.stderr.ends_with(" size to 2\n"), "{sized:#?}");

    let set = change_then_compare(
        cluster,
        &[
            "config",
            "set",
            "mon",
            "mon_warn_on_pool_no_redundancy",
            "false",
        ],
    );
    assert_eq!(set.code, Some(0), "{set:#?}");
    let got = ceph(
        cluster,
        &["config", "get", "mon", "mon_warn_on_pool_no_redundancy"],
    );
    assert_eq!(got.stdout.trim(), "false", "the setting took: {got:#?}");

    // The expiry stamp differs between two runs; the rest must not.
    let blocklist = ["osd", "blocklist", "add", "127.0.0.1:0/1234"];
    let mine = monc(cluster, &blocklist);
    let theirs = ceph(cluster, &blocklist);
    assert_same_code(&mine, &theirs, "osd blocklist add");
    assert_eq!(mine.code, Some(0), "{mine:#?}");
    let prefix = "blocklisting 127.0.0.1:0/1234 until ";
    assert!(mine.stderr.starts_with(prefix), "{mine:#?}");
    assert!(theirs.stderr.starts_with(prefix), "{theirs:#?}");
    assert!(mine.stderr.ends_with(" (3600 sec)\n"), "{mine:#?}");

    let mine = monc(cluster, &["osd", "pool", "ls", "-f", "json"]);
    let theirs = ceph(cluster, &["osd", "pool", "ls", "-f", "json"]);
    assert_same_code(&mine, &theirs, "osd pool ls");
    assert_eq!(mine.json(), theirs.json());
    assert_eq!(mine.json(), serde_json::json!(["p1"]));
    assert_eq!(mine.stdout, theirs.stdout);
}

#[test]
fn bad_commands_fail_like_ceph() {
    let cluster = three_mons();
    for args in [
        &["osd", "pool", "frobnicate"][..],
        &["osd", "pool", "create"][..],
    ] {
        let mine = monc(cluster, args);
        let theirs = ceph(cluster, args);
        assert_eq!(mine.code, Some(22), "{args:?}: {mine:#?}");
        assert_same_code(&mine, &theirs, &args.join(" "));
        // The signature lists differ in how argument types are shown; the
        // verdict line does not.
        assert!(
            mine.stderr.ends_with("Error EINVAL: invalid command\n"),
            "{mine:#?}"
        );
        assert!(mine.stdout.is_empty(), "{mine:#?}");
    }
}

#[test]
fn monitor_refusals_match_ceph() {
    let cluster = three_mons();
    let rm = [
        "osd",
        "pool",
        "rm",
        "nonexist",
        "nonexist",
        "--yes-i-really-really-mean-it",
    ];
    let set = ["osd", "pool", "set", "nopool", "size", "2"];
    for (args, code) in [(&rm[..], 0), (&set[..], 2)] {
        let mine = monc(cluster, args);
        let theirs = ceph(cluster, args);
        assert_eq!(mine.code, Some(code), "{args:?}: {mine:#?}");
        assert_same_code(&mine, &theirs, &args.join(" "));
        assert_eq!(mine.stderr, theirs.stderr, "{args:?} stderr");
        assert_eq!(mine.stdout, theirs.stdout, "{args:?} stdout");
    }
    let refused = monc(cluster, &set);
    assert_eq!(refused.stderr, "Error ENOENT: unrecognized pool 'nopool'\n");
}
