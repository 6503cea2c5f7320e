//! Helpers shared by the `monc` integration tests: one cluster per test
//! binary (started lazily, torn down at process exit) and a way to run
//! `monc` and `ceph` side by side.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ceph_testbed::{Cluster, ClusterSpec};

/// What a finished `monc` or `ceph` run left behind.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Stdout parsed as JSON; panics with the whole run on failure.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

/// Clusters that must be torn down when the test process exits: statics are
/// never dropped, and the monitors would outlive the tests otherwise.
static TO_TEAR_DOWN: Mutex<Vec<&'static Cluster>> = Mutex::new(Vec::new());

extern "C" fn tear_down_clusters() {
    let clusters = match TO_TEAR_DOWN.lock() {
        Ok(mut list) => std::mem::take(&mut *list),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    for cluster in clusters {
        // Managers and OSDs first: they would wait for the monitors.
        for id in cluster.osd_ids() {
            let _ = cluster.kill(&format!("osd.{id}"));
        }
        for id in cluster.mgr_ids() {
            let _ = cluster.kill(&format!("mgr.{id}"));
        }
        for mon in cluster.mons() {
            let _ = cluster.kill(&mon.name);
        }
        if std::env::var("TESTBED_KEEP").as_deref() != Ok("1") {
            let _ = std::fs::remove_dir_all(cluster.dir());
        }
    }
}

/// The cluster held in `slot`, started with `mons` monitors on first use.
pub fn shared_cluster(slot: &'static OnceLock<Cluster>, mons: usize) -> &'static Cluster {
    let cluster = slot.get_or_init(|| {
        // A test binary named `*_v1` runs against monitors that speak only
        // msgr1 (e.g. `against_ceph_v1`).
        let msgr1_only = env!("CARGO_CRATE_NAME").ends_with("_v1");
        Cluster::start(ClusterSpec::with_mons(mons).msgr1_only(msgr1_only))
            .unwrap_or_else(|e| panic!("starting a {mons}-monitor cluster: {e}"))
    });
    register_tear_down(cluster);
    cluster
}

/// Makes sure `cluster`'s daemons are killed when the test process exits.
pub fn register_tear_down(cluster: &'static Cluster) {
    static REGISTER: OnceLock<()> = OnceLock::new();
    REGISTER.get_or_init(|| {
        // SAFETY: registers a plain `extern "C"` function with no
        // arguments, as atexit(3) expects.
        unsafe { libc::atexit(tear_down_clusters) };
    });
    let mut list = TO_TEAR_DOWN.lock().unwrap_or_else(|p| p.into_inner());
    if !list.iter().any(|c| std::ptr::eq(*c, cluster)) {
        list.push(cluster);
    }
}

/// Runs `program` with `args`, optional stdin text and extra environment,
/// killing it after `limit`.
pub fn run_program(
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
    limit: Duration,
) -> Run {
    run_command(Command::new(program), program, args, stdin, env, limit)
}

/// [`run_program`] for a prepared command (e.g. a chroot wrapper).
pub fn run_command(
    mut cmd: Command,
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
    limit: Duration,
) -> Run {
    cmd.args(args)
        .env_remove("CEPH_ARGS")
        .env_remove("CEPH_CONF")
        .env_remove("RUST_LOG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {program}: {e}"));
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(text.as_bytes()).expect("writing stdin");
    }
    // A watchdog so a hung client fails the test instead of hanging it.
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    let out = child.wait_with_output().expect("waiting for the child");
    let elapsed = started.elapsed();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if program == "ceph" {
        stderr = without_internal_log_lines(&stderr);
    }
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        elapsed,
    }
}

/// `text` without the lines Ceph's own threads log to stderr now and then
/// (`2026-12-04T04:32:47.206+0000 7f36f7fff6c0 -1 monclient: ...`): they
/// come from races inside `ceph`, not from what it was asked, so a
/// comparison with monc leaves them out. Each one left out is printed.
pub fn without_internal_log_lines(text: &str) -> String {
    let is_log_line = |line: &str| {
        let mut words = line.split(' ');
        let stamp = words.next().unwrap_or("");
        let thread = words.next().unwrap_or("");
        let level = words.next().unwrap_or("");
        stamp.len() >= 24
            && stamp.as_bytes()[4] == b'-'
            && stamp.as_bytes()[10] == b'T'
            && stamp.chars().next().is_some_and(|c| c.is_ascii_digit())
            && !thread.is_empty()
            && thread.chars().all(|c| c.is_ascii_hexdigit())
            && level.parse::<i32>().is_ok()
    };
    let mut kept = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if is_log_line(line) {
            eprintln!("(ceph's internal log line left out: {})", line.trim_end());
        } else {
            kept.push_str(line);
        }
    }
    kept
}

/// The `monc` binary under test.
pub fn monc_bin() -> &'static str {
    env!("CARGO_BIN_EXE_monc")
}

/// `monc -c CONF -k KEYRING ARGS...` against `cluster`.
pub fn monc(cluster: &Cluster, args: &[&str]) -> Run {
    with_admin_args(cluster, args, |all| {
        run_program(monc_bin(), all, None, &[], Duration::from_secs(60))
    })
}

/// `monc -m MON_HOST -k KEYRING ARGS...`: no conf, `cluster`'s admin keyring.
pub fn monc_at(cluster: &Cluster, mon_host: &str, args: &[&str]) -> Run {
    let keyring = cluster.admin_keyring_path();
    let mut all = vec!["-m", mon_host, "-k", s(&keyring)];
    all.extend_from_slice(args);
    monc_raw(&all)
}

/// `monc ARGS...` with nothing added.
pub fn monc_raw(args: &[&str]) -> Run {
    run_program(monc_bin(), args, None, &[], Duration::from_secs(60))
}

/// `ceph -c CONF -k KEYRING ARGS...` against `cluster` (the reference),
/// from the cluster's own Ceph release (`CEPH_RELEASE`).
pub fn ceph(cluster: &Cluster, args: &[&str]) -> Run {
    with_admin_args(cluster, args, |all| {
        let cmd = cluster.runtime().command("ceph");
        run_command(cmd, "ceph", all, None, &[], Duration::from_secs(60))
    })
}

/// Calls `run` with `-c CONF -k KEYRING ARGS...` for `cluster`'s admin.
fn with_admin_args(cluster: &Cluster, args: &[&str], run: impl FnOnce(&[&str]) -> Run) -> Run {
    let conf = cluster.conf_path();
    let keyring = cluster.admin_keyring_path();
    let mut all = vec!["-c", s(&conf), "-k", s(&keyring)];
    all.extend_from_slice(args);
    run(&all)
}

/// Asserts that `run` finished in less than `limit`.
#[track_caller]
pub fn assert_took_under(run: &Run, limit: Duration) {
    assert!(run.elapsed < limit, "took {:?}", run.elapsed);
}

/// A path as `&str`, for argument lists.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Removes, at every depth, the object fields `volatile` names (times,
/// counters: what changes between two calls with nothing happening).
pub fn strip_fields(v: &mut serde_json::Value, volatile: fn(&str) -> bool) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| !volatile(k));
            map.values_mut().for_each(|v| strip_fields(v, volatile));
        }
        serde_json::Value::Array(list) => list.iter_mut().for_each(|v| strip_fields(v, volatile)),
        _ => {}
    }
}

/// The id of pool `name`, from the cluster's OSD map (Reef and later make
/// `.mgr` first, so ids are not known in advance).
pub fn pool_id(cluster: &Cluster, name: &str) -> u64 {
    let v = ceph(cluster, &["osd", "dump", "-f", "json"]).json();
    v["pools"]
        .as_array()
        .and_then(|pools| pools.iter().find(|p| p["pool_name"] == name))
        .and_then(|p| p["pool"].as_u64())
        .unwrap_or_else(|| panic!("no pool {name}"))
}
