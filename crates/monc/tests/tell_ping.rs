//! `monc tell mon.X ...` and `monc ping mon.X` against a real 3-monitor
//! Pacific cluster, side by side with `ceph`: a named monitor, all of them,
//! one that does not exist, one that is stopped (SIGSTOP) and one that is
//! out of quorum (`quorum exit`).

mod common;

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use ceph_testbed::Cluster;
use common::{ceph, monc, shared_cluster};
use serde_json::Value;

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    shared_cluster(&CLUSTER, 3)
}

/// Tests that stop monitors or change the quorum run alone.
static QUORUM: Mutex<()> = Mutex::new(());

fn quorum_lock() -> MutexGuard<'static, ()> {
    QUORUM.lock().unwrap_or_else(|p| p.into_inner())
}

fn names() -> Vec<String> {
    cluster().mons().into_iter().map(|m| m.name).collect()
}

/// The parts of `mon_status` that do not depend on who is connected.
fn stable_status(v: &Value) -> Value {
    serde_json::json!({
        "name": v["name"], "rank": v["rank"], "state": v["state"],
        "quorum": v["quorum"], "monmap": v["monmap"],
    })
}

#[test]
fn tell_one_monitor_like_ceph() {
    let _g = quorum_lock();
    let c = cluster();
    let name = &names()[1];
    let target = format!("mon.{name}");
    let mine = monc(c, &["tell", &target, "mon_status", "-f", "json"]);
    let theirs = ceph(c, &["tell", &target, "mon_status", "-f", "json"]);
    assert_eq!(mine.code, Some(0), "{mine:?}");
    assert_eq!(mine.code, theirs.code);
    assert_eq!(stable_status(&mine.json()), stable_status(&theirs.json()));
    assert_eq!(mine.json()["name"], name.as_str());
    assert_eq!(mine.stderr, theirs.stderr);

    let mine = monc(c, &["tell", &target, "version"]);
    let theirs = ceph(c, &["tell", &target, "version"]);
    assert_eq!((mine.code, &mine.stdout), (theirs.code, &theirs.stdout));
    assert_eq!(mine.stderr, theirs.stderr);
}

#[test]
fn tell_all_monitors_like_ceph() {
    let _g = quorum_lock();
    let c = cluster();
    let mine = monc(c, &["tell", "mon.*", "version"]);
    let theirs = ceph(c, &["tell", "mon.*", "version"]);
    assert_eq!(mine.code, Some(0), "{mine:?}");
    assert_eq!(mine.code, theirs.code);
    assert_eq!(mine.stdout, theirs.stdout);
    assert_eq!(mine.stderr, theirs.stderr);
    for name in names() {
        assert!(mine.stdout.contains(&format!("mon.{name}: ")), "{mine:?}");
    }
}

#[test]
fn missing_monitor_like_ceph() {
    let c = cluster();
    for args in [
        &["tell", "mon.dne", "version"][..],
        &["tell", "mon.dne", "mon_status"][..],
        &["ping", "mon.dne"][..],
    ] {
        let mine = monc(c, args);
        let theirs = ceph(c, args);
        assert_ne!(theirs.code, Some(0), "{theirs:?}");
        assert_eq!(mine.code, theirs.code, "{args:?}\n{mine:?}\n{theirs:?}");
        assert_eq!(mine.stdout, theirs.stdout, "{args:?}");
        assert_eq!(mine.stderr, theirs.stderr, "{args:?}");
    }
}

#[test]
fn ping_like_ceph() {
    let _g = quorum_lock();
    let c = cluster();
    let target = format!("mon.{}", names()[0]);
    let mine = monc(c, &["ping", &target]);
    let theirs = ceph(c, &["ping", &target]);
    assert_eq!(mine.code, Some(0), "{mine:?}");
    assert_eq!(mine.code, theirs.code);
    let parse = |s: &str| serde_json::from_str::<Value>(s).expect("ping prints JSON");
    let (m, t) = (parse(&mine.stdout), parse(&theirs.stdout));
    assert_eq!(
        stable_status(&m["mon_status"]),
        stable_status(&t["mon_status"])
    );
    assert_eq!(mine.stderr, theirs.stderr);
}

/// A stopped monitor: a clear error within the timeout, not a hang; the
/// others still answer.
#[test]
fn stopped_monitor_fails_within_timeout() {
    let _g = quorum_lock();
    let c = cluster();
    let all = names();
    let stopped = &all[1];
    let target = format!("mon.{stopped}");
    c.stop(stopped).expect("SIGSTOP");
    let tell = monc(
        c,
        &["--rados_mon_op_timeout", "5", "tell", &target, "mon_status"],
    );
    let ping = monc(c, &["--rados_mon_op_timeout", "5", "ping", &target]);
    let other = monc(
        c,
        &["tell", &format!("mon.{}", all[0]), "version", "-f", "json"],
    );
    c.cont(stopped).expect("SIGCONT");
    c.wait_for_quorum(
        &all.iter().map(String::as_str).collect::<Vec<_>>(),
        Duration::from_secs(60),
    )
    .expect("quorum again");
    for run in [&tell, &ping] {
        assert!(run.elapsed < Duration::from_secs(30), "{run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
    }
    // tell: `ceph`'s "Error E...: ..." naming the monitor.
    assert!(
        tell.stderr.starts_with("Error ") && tell.stderr.contains(&target),
        "{tell:?}"
    );
    // ping: the Python binding's exception text, exit code 1.
    assert!(ping.stderr.starts_with("[errno "), "{ping:?}");
    assert_eq!(ping.code, Some(1), "{ping:?}");
    assert_eq!(tell.code, Some(110), "{tell:?}");
    assert_eq!(other.code, Some(0), "{other:?}");
}

/// A monitor out of quorum still answers `tell mon.X mon_status`, and says
/// so.
#[test]
fn out_of_quorum_monitor_answers() {
    let _g = quorum_lock();
    let c = cluster();
    let all = names();
    let leaving = &all[2];
    let target = format!("mon.{leaving}");
    let exit = ceph(c, &["tell", &target, "quorum", "exit"]);
    assert_eq!(exit.code, Some(0), "{exit:?}");
    let rest: Vec<&str> = all[..2].iter().map(String::as_str).collect();
    c.wait_for_exact_quorum(&rest, Duration::from_secs(60))
        .expect("quorum without the monitor");

    // Right after leaving, the monitor may still be busy with the election
    // for a few seconds (`ceph` then fails the same way): ask up to 3 times.
    let mut tries = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let run = monc(c, &["tell", &target, "mon_status", "-f", "json"]);
        let ok = run.code == Some(0);
        tries.push((run, started.elapsed()));
        if ok {
            break;
        }
    }
    let theirs = ceph(c, &["tell", &target, "mon_status", "-f", "json"]);

    // Back in through the admin socket: `ceph tell` cannot reach it now.
    let enter = c
        .mon_daemon(leaving, &["quorum", "enter"])
        .expect("admin socket");
    assert!(enter.success(), "{enter:?}");
    c.wait_for_quorum(
        &all.iter().map(String::as_str).collect::<Vec<_>>(),
        Duration::from_secs(60),
    )
    .expect("quorum again");

    let (mine, elapsed) = tries.last().expect("one try at least");
    assert_eq!(mine.code, Some(0), "{tries:?}");
    assert!(*elapsed < Duration::from_secs(20), "{elapsed:?}");
    let status = mine.json();
    assert_eq!(status["name"], leaving.as_str());
    let state = status["state"].as_str().unwrap_or("");
    assert!(
        !matches!(state, "leader" | "peon"),
        "out of quorum, yet {state}"
    );
    let quorum = status["quorum"].as_array().cloned().unwrap_or_default();
    assert!(
        !quorum.contains(&status["rank"]),
        "its own rank in {quorum:?}"
    );
    // `ceph` either answers the same or cannot reach it at all.
    if theirs.code == Some(0) {
        assert_eq!(status["state"], theirs.json()["state"]);
    } else {
        assert_eq!(
            theirs.stderr,
            format!("Error ENXIO: problem getting command descriptions from {target}\n")
        );
    }
}
