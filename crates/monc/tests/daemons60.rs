//! Daemons beside the monitors, against one real cluster (3 monitors, 2
//! managers, 3 memstore OSDs, a pool) of the `CEPH_RELEASE` release, run
//! through `monc` and that release's `ceph`: manager commands (sent
//! straight to the active manager), `tell` to OSDs, managers and monitors,
//! `pg PGID ...`, `daemon` over admin sockets. Each must give the same
//! exit code, JSON (without volatile fields) or text, and stderr.
//!
//! Then faults, through the library: the active manager killed during a
//! stream of manager commands (they follow the standby, none lost); an OSD
//! restarted during `tell osd.*`; a PG whose primary moves (`osd pg-temp`,
//! then `osd primary-temp`, which leaves the order of `acting` alone) while
//! `pg ... query` runs.
//!
//! The tests share the cluster and take turns (`TURN`).

mod common;

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ceph_daemonclient::{parse_pgid, DaemonClient, DaemonClientOptions, DaemonError};
use ceph_monclient::{MonClient, MonClientOptions};
use ceph_testbed::{Cluster, ClusterSpec};
use common::{ceph, monc, monc_bin, run_command, run_program, s, Run};
use serde_json::Value;

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static TURN: Mutex<()> = Mutex::new(());

const POOL: &str = "rbd";
const WAIT: Duration = Duration::from_secs(120);

fn cluster() -> &'static Cluster {
    let c = CLUSTER.get_or_init(|| {
        let spec = ClusterSpec::with_mons(3)
            .mgrs(2)
            .osds(3)
            // A killed manager is replaced within seconds, not 30. (The
            // monitors forgive missed beacons when their own tick, 5 s, is
            // longer than the grace less the manager's tick, 2 s.)
            .global("mon_mgr_beacon_grace", "8")
            // `osd primary-temp` (Pacific refuses it without).
            .global("mon_osd_allow_primary_temp", "true");
        let c = Cluster::start(spec).unwrap_or_else(|e| panic!("starting the cluster: {e}"));
        c.create_pool(POOL, 8, WAIT)
            .unwrap_or_else(|e| panic!("creating {POOL}: {e}"));
        c
    });
    common::register_tear_down(c);
    c
}

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fields that change between two calls with nothing happening: times,
/// counters of a live daemon, the keys of the `{T}` entities.
fn volatile(key: &str) -> bool {
    key.contains("stamp")
        || key.contains("time")
        || key.contains("duration")
        || key.contains("age")
        || key.starts_with("last_")
        || key.starts_with("reported_")
        || matches!(
            key,
            "quorum_age"
                | "uptime"
                | "newest_map"
                | "epoch"
                | "mapping_epoch"
                | "active_change"
                | "kb_used"
                | "kb_used_data"
                | "kb_used_meta"
                | "kb_avail"
                | "bytes_used"
                | "total_used_bytes"
                | "total_avail_bytes"
                | "total_used_raw_bytes"
                | "total_used_raw_ratio"
                | "stored"
                | "used"
                | "avail"
                | "var"
                | "utilization"
                | "max_avail"
                | "percent_used"
                | "min_var"
                | "max_var"
                | "stddev"
                | "kb"
                | "used_raw_ratio"
                | "avg_used_bytes"
                | "num_bytes_recovered"
                | "optimize_result"
                | "commit_latency_ms"
                | "apply_latency_ms"
                | "perf_stats"
                | "created"
                | "crash_count"
                | "statfs"
                | "op_queue_age_hist"
                | "hb_peers"
                | "num_pgs"
                | "events"
                | "completed"
                | "pg_ready"
                | "counter"
        )
}

#[derive(Clone, Copy, PartialEq)]
enum Out {
    Json,
    Text,
    /// Exit code and the last line of stderr only (`ceph` logs more).
    Code,
    /// `tell` to a standby manager. `ceph` answers ENXIO when its command
    /// went out before its first MgrMap came in, and otherwise waits until
    /// that manager becomes active (possibly never); which one happens is a
    /// race inside `ceph`. monc answers ENXIO at once: the same text when
    /// `ceph` answers, and `ceph`'s waiting (cut short here) is no
    /// difference.
    StandbyTell,
}

struct Case {
    line: String,
    out: Out,
}

fn json(line: &str) -> Case {
    Case {
        line: line.into(),
        out: Out::Json,
    }
}

fn text(line: &str) -> Case {
    Case {
        line: line.into(),
        out: Out::Text,
    }
}

fn code(line: &str) -> Case {
    Case {
        line: line.into(),
        out: Out::Code,
    }
}

/// The active manager and a standby, from `mgr dump`.
fn mgr_names(c: &Cluster) -> (String, String) {
    let v = ceph(c, &["mgr", "dump", "-f", "json"]).json();
    let active = v["active_name"].as_str().unwrap_or_default().to_string();
    let standby = v["standbys"][0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (active, standby)
}

/// The id of the test pool (Reef and later make `.mgr` first).
fn cases(c: &Cluster) -> Vec<Case> {
    let (active, standby) = mgr_names(c);
    let p = common::pool_id(c, POOL);
    let asok = |e: &str| c.daemon_admin_socket(e).display().to_string();
    let mut v = vec![
        // Manager commands (the manager flag: straight to the manager).
        json("balancer status -f json"),
        text("balancer pool ls"),
        json("mgr module ls -f json"),
        json("mgr services -f json"),
        json("crash ls -f json"),
        text("crash stat"),
        code("crash info no-such-crash"),
        json("df -f json"),
        json("osd df -f json"),
        json("osd perf -f json"),
        json("osd pool autoscale-status -f json"),
        json("osd pool stats -f json"),
        json("osd utilization -f json"),
        json("pg stat -f json"),
        json("pg dump_stuck -f json"),
        json("pg ls-by-pool rbd -f json"),
        json("pg ls -f json"),
        json("device ls -f json"),
        json("progress json"),
        json("config show osd.0 -f json"),
        text("config show osd.1 osd_max_backfills"),
        code("orch status"),
        text("balancer frobnicate"),
        // Monitor commands about the same daemons.
        text("osd pool ls"),
        json("osd tree -f json"),
        json("osd stat -f json"),
        json("mgr stat -f json"),
        json("mgr versions -f json"),
        json("osd versions -f json"),
        json("versions -f json"),
        json("osd map rbd obj1 -f json"),
        json(&format!("pg map {p}.0 -f json")),
        // tell OSDs.
        json("tell osd.0 version"),
        text("tell osd.* version"),
        json("tell osd.1 config get osd_max_backfills -f json"),
        text("tell osd.2 config get osd_max_backfills"),
        text("tell osd.* config get osd_max_backfills"),
        json("tell osd.0 dump_ops_in_flight -f json"),
        json("tell osd.1 dump_historic_ops -f json"),
        json("tell osd.2 status -f json"),
        json("tell osd.0 perf schema -f json"),
        text("tell osd.1 config get debug_osd"),
        text("tell osd.0 frobnicate"),
        text("tell osd.9 version"),
        text("tell osd.x version"),
        // tell the manager.
        json("tell mgr version"),
        json("tell mgr mgr_status -f json"),
        json(&format!("tell mgr.{active} version")),
        Case {
            line: format!("tell mgr.{standby} version"),
            out: Out::StandbyTell,
        },
        text("tell mgr frobnicate"),
        // tell the monitors (each over a connection of its own).
        json("tell mon.a version"),
        text("tell mon.* version"),
        json("tell mon.b quorum_status -f json"),
        // PG commands, on the primary OSD.
        json(&format!("pg {p}.0 query -f json")),
        json(&format!("pg {p}.3 query -f json")),
        // Beyond pg_num: folds onto a PG that exists, whose OSD says so.
        text(&format!("pg {p}.1f query")),
        json(&format!("tell {p}.1 query -f json")),
        json(&format!("pg {p}.2 list_unfound -f json")),
        text(&format!("pg {p}.0 frobnicate")),
        text("pg 9.0 query"),
        text("tell 9.0 query"),
    ];
    // Admin sockets (`ceph` takes `daemon` first only without `-k`).
    for case in [
        json(&format!("daemon {} version", asok("osd.0"))),
        json(&format!(
            "daemon {} config get osd_max_backfills",
            asok("osd.2")
        )),
        json(&format!(
            "daemon {} version",
            asok(&format!("mgr.{active}"))
        )),
        json(&format!("daemon {} version", asok("mon.a"))),
        json("daemon osd.1 version -f json"),
        text(&format!("daemon {} frobnicate", asok("osd.1"))),
        text("daemon /nonexistent/ceph-osd.7.asok version"),
    ] {
        v.push(Case {
            line: format!("DAEMON {}", case.line),
            out: case.out,
        });
    }
    v
}

/// Why two runs differ, or `None`.
fn difference(case: &Case, mine: &Run, theirs: &Run) -> Option<String> {
    if matches!(case.out, Out::StandbyTell) && theirs.code.is_none() {
        let enxio = mine.code == Some(6) && mine.stderr.starts_with("Error ENXIO: ");
        return (!enxio).then(|| "ceph waited; monc did not answer ENXIO".to_string());
    }
    if mine.code != theirs.code {
        return Some(format!("exit codes {:?} vs {:?}", mine.code, theirs.code));
    }
    let norm = |t: &str| t.replace(monc_bin(), "ceph").replace("monc", "ceph");
    match case.out {
        Out::Code => {
            let last = |t: &str| t.trim_end().lines().last().map(str::to_string);
            return (last(&mine.stderr) != last(&theirs.stderr))
                .then(|| "last stderr line differs".into());
        }
        Out::Json => {
            let parse = |t: &str| -> Result<Value, String> {
                let mut v: Value = serde_json::from_str(t).map_err(|e| e.to_string())?;
                common::strip_fields(&mut v, volatile);
                Ok(v)
            };
            if mine.stdout.trim().is_empty() != theirs.stdout.trim().is_empty() {
                return Some("one stdout is empty".into());
            }
            if !theirs.stdout.trim().is_empty() {
                match (parse(&mine.stdout), parse(&theirs.stdout)) {
                    (Ok(m), Ok(t)) if m == t => {}
                    (m, t) => return Some(format!("JSON differs:\n{m:?}\n{t:?}")),
                }
                if mine.stdout.starts_with('\n') != theirs.stdout.starts_with('\n') {
                    return Some("leading blank line differs".into());
                }
            }
        }
        Out::Text | Out::StandbyTell => {
            if norm(&mine.stdout) != norm(&theirs.stdout) {
                return Some("stdout differs".into());
            }
        }
    }
    let ceph_path = |t: &str| {
        // `ceph` names itself by its path in one message.
        t.replace("/usr/bin/ceph", "ceph")
    };
    (ceph_path(&norm(&mine.stderr)) != ceph_path(&norm(&theirs.stderr)))
        .then(|| "stderr differs".into())
}

fn run_both(c: &Cluster, case: &Case) -> (Run, Run) {
    // `DAEMON ...` cases name no keyring (admin sockets need none).
    let (line, keyring) = match case.line.strip_prefix("DAEMON ") {
        Some(line) => (line, None),
        None => (case.line.as_str(), Some(c.admin_keyring_path())),
    };
    let conf = c.conf_path();
    let mut args = vec!["-c", s(&conf)];
    if let Some(keyring) = &keyring {
        args.extend(["-k", s(keyring)]);
    }
    args.extend(line.split(' '));
    // See `Out::StandbyTell`: ceph's wait there is cut short.
    let ceph_limit = match case.out {
        Out::StandbyTell => Duration::from_secs(15),
        _ => Duration::from_secs(60),
    };
    let mine = run_program(monc_bin(), &args, None, &[], Duration::from_secs(60));
    let theirs = run_command(
        c.runtime().command("ceph"),
        "ceph",
        &args,
        None,
        &[],
        ceph_limit,
    );
    (mine, theirs)
}

#[test]
fn sixty_daemon_commands_same_as_ceph() {
    let c = cluster();
    let _turn = turn();
    let cases = cases(c);
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    let mut codes = Vec::new();
    for case in &cases {
        let (mut mine, mut theirs) = run_both(c, case);
        let mut why = difference(case, &mine, &theirs);
        // A live daemon's answer may change between the two runs: again.
        for _ in 0..2 {
            if why.is_none() || case.line.contains(" set ") {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
            (mine, theirs) = run_both(c, case);
            why = difference(case, &mine, &theirs);
        }
        codes.push(theirs.code);
        if let Some(why) = why {
            failures.push(format!(
                "{}: {why}\n  monc: {mine:?}\n  ceph: {theirs:?}",
                case.line
            ));
        }
    }
    let ok = codes.iter().filter(|c| **c == Some(0)).count();
    let failed = codes.len() - ok;
    assert!(
        ok >= 45 && failed >= 10,
        "{ok} succeeded, {failed} failed: {codes:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} commands differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A monitor client and a daemon client as `client.admin`.
async fn clients(c: &Cluster) -> (MonClient, DaemonClient) {
    let conf = ceph_config::ClientConfig::load(ceph_config::ConfigSources {
        conf_path: Some(c.conf_path().display().to_string()),
        keyring: Some(c.admin_keyring_path().display().to_string()),
        ..Default::default()
    })
    .expect("config");
    let keyring = ceph_monclient::Keyring::load(c.admin_keyring_path()).expect("keyring");
    let key = keyring.get(&conf.name).cloned().expect("admin key");
    let mon = MonClient::connect(MonClientOptions::from_config(&conf, key))
        .await
        .expect("monitor session");
    let mut opts = DaemonClientOptions::new(conf.name.clone());
    opts.command_timeout = Duration::from_secs(60);
    (mon.clone(), DaemonClient::new(mon, opts))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn manager_commands_follow_a_failover() {
    let c = cluster();
    let _turn = turn();
    let (active, standby) = mgr_names(c);
    assert!(!standby.is_empty(), "two managers");
    runtime().block_on(async {
        let (mon, daemons) = clients(c).await;
        let mut answered = 0;
        let mut killed_at = None;
        let started = Instant::now();
        for i in 0..60 {
            if i == 15 {
                c.kill(&format!("mgr.{active}"))
                    .expect("kill the active manager");
                killed_at = Some(Instant::now());
            }
            let r = daemons
                .mgr_command(
                    r#"{"prefix": "pg stat", "format": "json"}"#,
                    Vec::new(),
                    None,
                )
                .await
                .unwrap_or_else(|e| panic!("command {i} lost: {e}"));
            assert_eq!(r.retval, 0, "command {i}: {}", r.outs);
            let v: Value = serde_json::from_slice(&r.outbl)
                .unwrap_or_else(|e| panic!("command {i}: not JSON ({e})"));
            // Reef and later nest the summary.
            let pgs = v
                .get("num_pgs")
                .or_else(|| v.pointer("/pg_summary/num_pgs"));
            assert!(pgs.is_some(), "command {i}: {v}");
            answered += 1;
        }
        assert_eq!(answered, 60);
        // The answers after the kill came from the standby.
        let map = daemons.mgrmap(None).await.expect("mgrmap");
        assert_eq!(map.active_name, standby, "the standby took over");
        eprintln!(
            "60 manager commands in {:?}, failover after the kill at {:?}",
            started.elapsed(),
            killed_at.map(|k| k.elapsed())
        );
        mon.shutdown().await;
    });
    // Back to two managers for whoever runs next.
    c.start_daemon(&format!("mgr.{active}"))
        .expect("restart the manager");
    wait_until(WAIT, || mgr_names(c).1 == active);
}

#[test]
fn tell_all_osds_while_one_restarts() {
    let c = cluster();
    let _turn = turn();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let runs = std::thread::scope(|scope| {
        let tells = scope.spawn(|| {
            let mut runs = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                runs.push(monc(c, &["tell", "osd.*", "version"]));
            }
            runs
        });
        std::thread::sleep(Duration::from_secs(1));
        c.restart("osd.1").expect("restart osd.1");
        c.wait_for_osds_up(3, WAIT).expect("osd.1 back up");
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        tells.join().expect("tell thread")
    });
    assert!(runs.len() >= 3, "{} runs", runs.len());
    for r in &runs {
        // osd.0 and osd.2 always answer; osd.1 answers, or is reported
        // down (ENXIO) while it is; every run ends well before its limit.
        assert!(r.stdout.contains("osd.0: {"), "{r:?}");
        assert!(r.stdout.contains("osd.2: {"), "{r:?}");
        let osd1 = r.stdout.contains("osd.1: {");
        match r.code {
            Some(0) => assert!(osd1, "{r:?}"),
            // Down before its descriptions were asked for, or between
            // those and the command.
            Some(6) => assert!(
                !osd1
                    && (r
                        .stderr
                        .contains("Error ENXIO: problem getting command descriptions from osd.1")
                        || r.stderr.contains("Error ENXIO: osd down")),
                "{r:?}"
            ),
            _ => panic!("unexpected: {r:?}"),
        }
        assert!(r.elapsed < Duration::from_secs(30), "{r:?}");
    }
    let last = runs.last().expect("runs");
    assert_eq!(last.code, Some(0), "after the restart: {last:?}");
    let down = runs.iter().filter(|r| r.code == Some(6)).count();
    eprintln!("{} runs of tell osd.*, {down} saw osd.1 down", runs.len());
    c.wait_for_clean(WAIT).expect("clean again");
}

/// The OSD that answered a PG `query`: the member of `acting` its
/// `peer_info` does not list (a primary lists every other member; a
/// replica, which has no `peer_info`, gives `None`).
fn answered_by(query: &Value) -> Option<i64> {
    let acting: Vec<i64> = query["acting"]
        .as_array()?
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    let peers: Vec<i64> = query["peer_info"]
        .as_array()?
        .iter()
        // "1" for replicated pools, "1(0)" for a shard.
        .filter_map(|p| match &p["peer"] {
            Value::String(s) => s.split('(').next()?.parse().ok(),
            other => other.as_i64(),
        })
        .collect();
    if peers.len() + 1 != acting.len() {
        return None;
    }
    let mut others = acting.iter().filter(|o| !peers.contains(o));
    let me = *others.next()?;
    others.next().is_none().then_some(me)
}

#[test]
fn pg_query_follows_a_moved_primary() {
    let c = cluster();
    let _turn = turn();
    let pgid = format!("{}.0", common::pool_id(c, POOL));
    let pg = parse_pgid(&pgid).expect("pgid");
    let v = ceph(c, &["pg", "map", &pgid, "-f", "json"]).json();
    let before: Vec<i64> = v["acting"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    assert_eq!(before.len(), 3, "{before:?}");
    // pg-temp: the last acting OSD comes first and becomes the primary.
    let mut moved = before.clone();
    moved.rotate_right(1);
    // primary-temp: an OSD first in neither order leads, and `acting`
    // keeps its order (only the OSD map tells, as the Objecter reads it).
    let temp_primary = before[1];
    let query = r#"{"prefix": "query", "format": "json"}"#;
    runtime().block_on(async {
        let (mon, daemons) = clients(c).await;
        // Each query must succeed while the primary moves; who answers
        // changes once the monitors, the OSDs and our client all have the
        // new map, which takes a while on a loaded machine: queries go on
        // every 100 ms until the expected OSD answers, for a minute at most.
        let mut answers: Vec<Option<i64>> = Vec::new();
        let mut ask = async |i: usize| {
            let r = daemons
                .pg_command(pg, query, Vec::new(), None)
                .await
                .unwrap_or_else(|e: DaemonError| panic!("query {i}: {e}"));
            assert_eq!(r.retval, 0, "query {i}: {}", r.outs);
            let v: Value = serde_json::from_slice(&r.outbl).expect("query JSON");
            let who = answered_by(&v);
            answers.push(who);
            (who, v)
        };
        let (first, _) = ask(0).await;
        assert_eq!(first, Some(before[0]), "the primary answers first");

        let ids: Vec<String> = moved.iter().map(|o| o.to_string()).collect();
        let mut args = vec!["osd", "pg-temp", pgid.as_str()];
        args.extend(ids.iter().map(String::as_str));
        let r = ceph(c, &args);
        assert_eq!(r.code, Some(0), "{r:?}");
        let deadline = Instant::now() + WAIT;
        let mut i = 1;
        loop {
            let (who, _) = ask(i).await;
            if who == Some(moved[0]) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "pg-temp's primary osd.{} never answered",
                moved[0]
            );
            i += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let p = temp_primary.to_string();
        let r = ceph(c, &["osd", "primary-temp", &pgid, &p]);
        assert_eq!(r.code, Some(0), "{r:?}");
        let deadline = Instant::now() + WAIT;
        loop {
            i += 1;
            let (who, v) = ask(i).await;
            if who == Some(temp_primary) {
                // Not first in `acting`: only the primary-temp made it so.
                let acting = v["acting"].as_array().cloned().unwrap_or_default();
                assert_ne!(acting.first().and_then(Value::as_i64), Some(temp_primary));
                break;
            }
            assert!(
                Instant::now() < deadline,
                "primary-temp's primary osd.{temp_primary} never answered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let strays: Vec<_> = answers
            .iter()
            // None: a query answered while peering, peers not yet known.
            .filter(|w| w.is_some_and(|o| ![before[0], moved[0], temp_primary].contains(&o)))
            .collect();
        assert!(
            strays.is_empty(),
            "answered by an OSD that was never primary: {answers:?}"
        );
        // Removing the entry: Pacific's monitors take id -1 (its `ceph`
        // refuses it), Reef and later have `osd rm-primary-temp` instead.
        let cmd = format!(r#"{{"prefix": "osd primary-temp", "pgid": "{pgid}", "id": -1}}"#);
        let r = mon
            .command_with_timeout(cmd, Vec::new(), Some(WAIT))
            .await
            .expect("primary-temp -1");
        if r.retval != 0 {
            let rm = ceph(c, &["osd", "rm-primary-temp", &pgid]);
            assert_eq!(rm.code, Some(0), "-1: {} {}; {rm:?}", r.retval, r.outs);
        }
        mon.shutdown().await;
    });
    let r = ceph(c, &["osd", "pg-temp", &pgid]);
    assert_eq!(r.code, Some(0), "{r:?}");
    c.wait_for_clean(WAIT).expect("clean again");
}

fn wait_until(limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "condition not met in {limit:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
}
