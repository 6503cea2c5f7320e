//! Daemons that speak only msgr1 (`ms_bind_msgr2 = false` in `[global]`:
//! the monitor, the manager and the OSDs publish v1 addresses alone),
//! against one real cluster of the `CEPH_RELEASE` release: `tell` to an
//! OSD and to the manager, manager commands and PG commands through
//! `monc` give what the release's `ceph` gives. The daemon client reaches
//! them over msgr1 with a CephX authorizer (and the daemon's challenge),
//! its messages signed with the session key (Tentacle: aes256k keys).
//! Also `--admin-daemon PATH COMMAND`, `ceph`'s other spelling of
//! `daemon PATH COMMAND`.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use ceph_testbed::{Cluster, ClusterSpec};
use common::{ceph, monc, monc_bin, run_command, run_program, s, Run};
use serde_json::Value;

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

const POOL: &str = "rbd";
const WAIT: Duration = Duration::from_secs(120);

fn cluster() -> &'static Cluster {
    let c = CLUSTER.get_or_init(|| {
        let spec = ClusterSpec::with_mons(1).mgrs(1).osds(2).msgr1_only(true);
        let c = Cluster::start(spec).unwrap_or_else(|e| panic!("starting the cluster: {e}"));
        c.create_pool(POOL, 8, WAIT)
            .unwrap_or_else(|e| panic!("creating {POOL}: {e}"));
        c
    });
    common::register_tear_down(c);
    c
}

/// Address types in an `addrvec` JSON list.
fn types(addrvec: &Value) -> Vec<String> {
    addrvec
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|a| a["type"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Fields that change between two calls with nothing happening.
fn volatile(key: &str) -> bool {
    key.contains("stamp")
        || key.contains("time")
        || key.contains("duration")
        || key.contains("age")
        || key.contains("latency")
        || key.starts_with("last_")
        || matches!(
            key,
            "epoch" | "uptime" | "statfs" | "stats" | "perf_stats" | "hb_peers" | "optimize_result"
        )
}

#[test]
fn daemons_over_msgr1_answer_as_ceph() {
    let c = cluster();
    // The premise: no daemon offers msgr2, so each answer below came over
    // msgr1.
    let osd_dump = ceph(c, &["osd", "dump", "-f", "json"]).json();
    let osds = osd_dump["osds"].as_array().expect("osds");
    assert_eq!(osds.len(), 2, "{osd_dump}");
    for o in osds {
        assert_eq!(types(&o["public_addrs"]["addrvec"]), ["v1"], "{o}");
    }
    let mgr = ceph(c, &["mgr", "dump", "-f", "json"]).json();
    assert_eq!(types(&mgr["active_addrs"]["addrvec"]), ["v1"], "{mgr}");

    let p = common::pool_id(c, POOL);
    let json_cases = [
        "tell osd.0 version".to_string(),
        "tell osd.1 config get osd_max_backfills -f json".into(),
        "tell mgr version".into(),
        "tell mgr mgr_status -f json".into(),
        "osd perf -f json".into(),
        "pg dump pgs_brief -f json".into(),
        "pg stat -f json".into(),
        format!("pg {p}.0 query -f json"),
        format!("tell {p}.1 query -f json"),
    ];
    let text_cases = [
        "tell osd.* version".to_string(),
        "tell osd.9 version".into(),
    ];
    let mut failures = Vec::new();
    for line in json_cases.iter().chain(&text_cases) {
        let words: Vec<&str> = line.split(' ').collect();
        let is_json = json_cases.contains(line);
        let mut why = None;
        // A live daemon's answer may move between the two runs: up to 3
        // tries.
        for _ in 0..3 {
            let (mine, theirs) = (monc(c, &words), ceph(c, &words));
            why = if mine.code != theirs.code {
                Some(format!("exit {:?} vs {:?}", mine.code, theirs.code))
            } else if is_json {
                let parse = |t: &str| {
                    serde_json::from_str::<Value>(t).map(|mut v| {
                        common::strip_fields(&mut v, volatile);
                        v
                    })
                };
                match (parse(&mine.stdout), parse(&theirs.stdout)) {
                    (Ok(m), Ok(t)) if m == t => None,
                    (m, t) => Some(format!("JSON differs: {m:?} vs {t:?}")),
                }
            } else if mine.stdout != theirs.stdout {
                Some("stdout differs".into())
            } else {
                None
            };
            why = why.map(|w| format!("{w}\n  monc: {mine:?}\n  ceph: {theirs:?}"));
            if why.is_none() {
                assert!(
                    theirs.code != Some(0) || !theirs.stdout.trim().is_empty(),
                    "{line}: {theirs:?}"
                );
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        if let Some(w) = why {
            failures.push(format!("{line}: {w}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `monc` and `ceph` with `-c CONF` and `words` (no keyring: the admin
/// socket needs none).
fn both_local(c: &Cluster, words: &[&str]) -> (Run, Run) {
    let conf = c.conf_path();
    let mut args = vec!["-c", s(&conf)];
    args.extend_from_slice(words);
    let limit = Duration::from_secs(60);
    let mine = run_program(monc_bin(), &args, None, &[], limit);
    let theirs = run_command(c.runtime().command("ceph"), "ceph", &args, None, &[], limit);
    (mine, theirs)
}

#[test]
fn admin_daemon_option_as_ceph() {
    let c = cluster();
    let osd0 = c.daemon_admin_socket("osd.0").display().to_string();
    let osd1 = c.daemon_admin_socket("osd.1").display().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--admin-daemon", &osd0, "version"],
        vec![
            "--admin-daemon",
            &osd1,
            "config",
            "get",
            "osd_max_backfills",
        ],
        vec!["--admin-daemon", &osd0, "config", "show", "-f", "json"],
        vec!["--admin-daemon", &osd0, "frobnicate"],
        vec!["--admin-daemon", "/nonexistent/ceph-osd.7.asok", "version"],
    ];
    let mut failures = Vec::new();
    let mut codes = Vec::new();
    for words in &cases {
        let (mine, theirs) = both_local(c, words);
        codes.push(theirs.code);
        let same_out = match (
            serde_json::from_str::<Value>(&mine.stdout),
            serde_json::from_str::<Value>(&theirs.stdout),
        ) {
            (Ok(mut m), Ok(mut t)) => {
                common::strip_fields(&mut m, volatile);
                common::strip_fields(&mut t, volatile);
                m == t
            }
            _ => mine.stdout.trim_end() == theirs.stdout.trim_end(),
        };
        let errs = |r: &Run| {
            r.stderr
                .replace("/usr/bin/ceph", "ceph")
                .replace(monc_bin(), "ceph")
        };
        if mine.code != theirs.code || !same_out || errs(&mine) != errs(&theirs) {
            failures.push(format!("{words:?}\n  monc: {mine:?}\n  ceph: {theirs:?}"));
        }
    }
    assert_eq!(
        codes.iter().filter(|c| **c == Some(0)).count(),
        3,
        "{codes:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
