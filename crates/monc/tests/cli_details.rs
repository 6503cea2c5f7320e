//! Ring 3: the CLI details of issue 14 against `ceph` of the cluster's
//! release, on one cluster (a monitor and a manager): every Ceph option as
//! `--name value` / `--name=value` (and in `CEPH_ARGS`), `-f yaml`, `-h`
//! bounded at 5 s, closed pipes, errno names, `-i -`, `-W` / `--watch-*`,
//! and the command-description cache (reused, refreshed when the MgrMap
//! moves, when words match nothing in it, and when it is corrupt).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ceph_testbed::{Cluster, ClusterSpec};
use common::*;

/// The cluster of this binary: one monitor and one manager, started on
/// first use and torn down (manager and monitor killed, by pid) at exit.
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let c = Cluster::start(ClusterSpec::with_mons(1).mgrs(1))
            .unwrap_or_else(|e| panic!("starting a monitor and a manager: {e}"));
        // SAFETY: registers a plain `extern "C"` function with no
        // arguments, as atexit(3) expects.
        unsafe { libc::atexit(tear_down) };
        c
    });
    extern "C" fn tear_down() {
        let Some(c) = CLUSTER.get() else { return };
        for mgr in c.mgr_ids() {
            let _ = c.kill(&format!("mgr.{mgr}"));
        }
        for mon in c.mons() {
            let _ = c.kill(&mon.name);
        }
        if std::env::var("TESTBED_KEEP").as_deref() != Ok("1") {
            let _ = std::fs::remove_dir_all(c.dir());
        }
    }
    CLUSTER.get().expect("initialised above")
}

/// One test at a time: enabling a manager module restarts the manager,
/// which the others would see.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// A fresh cache directory for one test, so tests do not share cache state.
fn cache_home(name: &str) -> PathBuf {
    let dir = cluster().dir().join(format!("cache-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `monc -c CONF -k KEYRING ARGS...` with `env` added.
fn monc_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let c = cluster();
    let conf = c.conf_path();
    let keyring = c.admin_keyring_path();
    let mut all = vec!["-c", s(&conf), "-k", s(&keyring)];
    all.extend_from_slice(args);
    run_program(monc_bin(), &all, None, env, Duration::from_secs(60))
}

/// `ceph -c CONF -k KEYRING ARGS...` of the cluster's release, `env` added.
fn ceph_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let c = cluster();
    let conf = c.conf_path();
    let keyring = c.admin_keyring_path();
    let mut all = vec!["-c", s(&conf), "-k", s(&keyring)];
    all.extend_from_slice(args);
    let cmd = c.runtime().command("ceph");
    run_command(cmd, "ceph", &all, None, env, Duration::from_secs(60))
}

#[test]
fn every_option_form_like_ceph() {
    let _serial = serial();
    let c = cluster();
    let forms: &[&[&str]] = &[
        &["--debug_ms=0", "mon", "dump"],
        &["--debug-ms", "0", "mon", "dump"],
        &["mon", "dump", "--client_mount_timeout", "30"],
        &["--fatal_signal_handlers", "mon", "dump"],
        &["--fatal_signal_handlers", "false", "mon", "dump"],
        &["--fatal-signal-handlers=1", "mon", "dump"],
        &["--no-fatal_signal_handlers", "mon", "dump"],
        // Not an option: a word of the command, which then does not match.
        &["--not_an_option", "3", "mon", "dump"],
    ];
    for args in forms {
        let mine = monc(c, args);
        let theirs = ceph(c, args);
        assert_eq!(mine.code, theirs.code, "{args:?}: {mine:#?} {theirs:#?}");
        assert_eq!(mine.stdout, theirs.stdout, "{args:?}");
        if theirs.code == Some(0) {
            assert_eq!(mine.stderr, theirs.stderr, "{args:?}");
        }
    }
    // The same in CEPH_ARGS.
    let env = [(
        "CEPH_ARGS",
        "--debug_ms=0 --fatal-signal-handlers --client-mount-timeout 30",
    )];
    let mine = monc_env(&["mon", "dump"], &env);
    let theirs = ceph_env(&["mon", "dump"], &env);
    assert_eq!(mine.code, Some(0), "{mine:#?}");
    assert_eq!((mine.code, &mine.stdout), (theirs.code, &theirs.stdout));
    // An option's value is checked where monc reads it.
    let bad = monc(c, &["--client_mount_timeout", "soon", "mon", "dump"]);
    assert_ne!(bad.code, Some(0), "{bad:#?}");
}

#[test]
fn yaml_like_ceph() {
    let _serial = serial();
    let c = cluster();
    c.wait_for_mgr(Duration::from_secs(120)).unwrap();
    let mon = format!("mon.{}", c.mons()[0].name);
    for args in [
        &["-f", "yaml", "mon", "dump"][..],
        &["mon", "dump", "--format=yaml"][..],
        &["-f", "yaml", "osd", "dump"][..],
        &["-f", "yaml", "health"][..],
        &["-f", "yaml", "tell", &mon, "version"][..],
        // Manager commands (through the monitors): the manager's answer.
        &["-f", "yaml", "mgr", "module", "ls"][..],
        &["-f", "yaml", "mgr", "services"][..],
    ] {
        let mine = monc(c, args);
        let theirs = ceph(c, args);
        assert_eq!(mine.code, Some(0), "{args:?}: {mine:#?}");
        assert_eq!(
            (mine.code, &mine.stdout, &mine.stderr),
            (theirs.code, &theirs.stdout, &theirs.stderr),
            "{args:?}"
        );
    }
}

/// A port nothing listens on.
fn dead_mon_host() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("127.0.0.1:{port}")
}

#[test]
fn help_gives_up_after_5_s_like_ceph() {
    let _serial = serial();
    let c = cluster();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("dead.conf");
    std::fs::write(&conf, format!("[global]\nmon_host = {}\n", dead_mon_host())).unwrap();
    let keyring = c.admin_keyring_path();
    let args = ["-c", s(&conf), "-k", s(&keyring), "-h"];
    let mine = monc_raw(&args);
    let ceph_cmd = c.runtime().sharing(dir.path()).command("ceph");
    let theirs = run_command(ceph_cmd, "ceph", &args, None, &[], Duration::from_secs(60));
    assert_eq!(mine.code, theirs.code, "{mine:#?} {theirs:#?}");
    assert_eq!(mine.code, Some(1));
    assert!(
        mine.elapsed >= Duration::from_millis(4900),
        "{:?}",
        mine.elapsed
    );
    assert_took_under(&mine, Duration::from_secs(7));
    // The static help was printed, listing every local command.
    for word in [
        "--watch-channel",
        "tell",
        "ping",
        "decode",
        "pg",
        "daemon",
        "osdmaptool",
    ] {
        assert!(mine.stdout.contains(word), "{word}: {}", mine.stdout);
    }
    // With a cluster, its commands follow (exit 0, as `ceph -h`).
    let live = monc(c, &["-h"]);
    assert_eq!(live.code, Some(0), "{live:#?}");
    assert!(live.stdout.contains("Monitor commands:"), "{live:#?}");
}

/// PROGRAM ARGS... with stdout a pipe nobody reads any more, as in
/// `PROGRAM | true` once `true` has exited: the exit code and stderr of
/// PROGRAM. The read end is closed before PROGRAM starts, so its first
/// write fails whatever the timing (with `| true` a fast program could
/// write before `true` exits).
fn into_closed_pipe(program: &[&str], args: &[&str]) -> (Option<i32>, String) {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe(2) fills the two-element array it is given.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "pipe: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just made by pipe(2) and are owned here.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read_end);
    let out = Command::new(program[0])
        .args(&program[1..])
        .args(args)
        .env_remove("CEPH_ARGS")
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn closed_pipes_end_like_ceph() {
    let _serial = serial();
    let c = cluster();
    let conf = c.conf_path();
    let keyring = c.admin_keyring_path();
    let admin = ["-c", s(&conf), "-k", s(&keyring)];
    let ceph_prog: Vec<String> = {
        let cmd = c.runtime().command("ceph");
        std::iter::once(cmd.get_program().to_string_lossy().into_owned())
            .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
            .collect()
    };
    let ceph_prog: Vec<&str> = ceph_prog.iter().map(String::as_str).collect();
    for args in [
        &["--version"][..],
        &["mon", "dump"][..],
        &["-f", "json-pretty", "mon", "dump"][..],
        &["-f", "xml", "mon", "dump"][..],
        &["mon", "dump", "-o", "-"][..],
        &["config-key", "get", "no-such-key"][..],
        &["-h"][..],
    ] {
        let mut with_admin: Vec<&str> = admin.to_vec();
        with_admin.extend_from_slice(args);
        let (mine, mine_err) = into_closed_pipe(&[monc_bin()], &with_admin);
        let (theirs, theirs_err) = into_closed_pipe(&ceph_prog, &with_admin);
        assert_eq!(
            mine, theirs,
            "{args:?}: monc {mine_err:?}, ceph {theirs_err:?}"
        );
        assert!(!mine_err.contains("panicked"), "{args:?}: {mine_err}");
        // The status line still goes to stderr when the command's own
        // answer decides the exit code.
        if !theirs_err.contains("Traceback") {
            assert_eq!(mine_err, theirs_err, "{args:?}");
        }
    }
}

#[test]
fn errno_names_like_ceph() {
    let _serial = serial();
    let c = cluster();
    for args in [
        &["config-key", "get", "no-such-key"][..],
        &["osd", "pool", "get", "no-such-pool", "size"][..],
        &["mgr", "module", "enable", "no-such-module"][..],
        &["osd", "pool", "rm", "no-such-pool"][..],
        &["auth", "get", "client.nobody"][..],
        &[
            "osd",
            "crush",
            "rule",
            "create-replicated",
            "r",
            "no-root",
            "host",
        ][..],
        &["osd", "out", "999"][..],
    ] {
        let mine = monc(c, args);
        let theirs = ceph(c, args);
        assert_eq!(
            (mine.code, &mine.stderr),
            (theirs.code, &theirs.stderr),
            "{args:?}"
        );
    }
}

#[test]
fn stdin_input_like_ceph() {
    let _serial = serial();
    let c = cluster();
    let conf = c.conf_path();
    let keyring = c.admin_keyring_path();
    let admin = ["-c", s(&conf), "-k", s(&keyring)];
    let set = |program: &str, cmd: Command, key: &str| {
        let mut args: Vec<&str> = admin.to_vec();
        args.extend_from_slice(&["config-key", "set", key, "-i", "-"]);
        run_command(
            cmd,
            program,
            &args,
            Some("from stdin\n"),
            &[],
            Duration::from_secs(60),
        )
    };
    let mine = set("monc", Command::new(monc_bin()), "cli-details/monc");
    let theirs = set("ceph", c.runtime().command("ceph"), "cli-details/ceph");
    assert_eq!((mine.code, &mine.stdout), (theirs.code, &theirs.stdout));
    assert_eq!(mine.code, Some(0), "{mine:#?}");
    for key in ["cli-details/monc", "cli-details/ceph"] {
        let got = ceph(c, &["config-key", "get", key]);
        assert_eq!(got.stdout, "from stdin\n", "{key}");
    }
}

/// Runs `monc ARGS` (a watch) until a line containing `want` shows, or
/// `limit`; `trigger` runs once the watch has printed its first lines.
fn watch_until(args: &[&str], trigger: impl FnOnce(), want: &str, limit: Duration) -> Vec<String> {
    let c = cluster();
    let conf = c.conf_path();
    let keyring = c.admin_keyring_path();
    let mut child = Command::new(monc_bin())
        .args(["-c", s(&conf), "-k", s(&keyring)])
        .args(args)
        .env_remove("CEPH_ARGS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + limit;
    // The status comes first: once seen, the subscription is on its way.
    let mut trigger = Some(trigger);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        if line.contains("cluster:") {
            if let Some(t) = trigger.take() {
                std::thread::sleep(Duration::from_millis(500));
                t();
            }
        }
        let done = line.contains(want);
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn watch_channel_and_level_flags() {
    let _serial = serial();
    let marker = format!("cli-details-{}", std::process::id());
    // An audited command whose words show in the audit line (those of
    // `config-key set` do not).
    let who = format!("client.{marker}");
    let command = || {
        let run = ceph(cluster(), &["config", "set", &who, "debug_ms", "0"]);
        assert_eq!(run.code, Some(0), "{run:#?}");
    };
    // The audit channel shows the command; -W and its long form.
    for args in [
        &["-W", "audit"][..],
        &["--watch-channel=audit", "--watch-debug"][..],
    ] {
        // The words of a client's command do not always show in its
        // audit line (`ceph -w` prints the same): look for the client.
        let audit = "entity='client.admin'";
        let lines = watch_until(args, command, audit, Duration::from_secs(30));
        let hits = lines.iter().filter(|l| l.contains(audit)).count();
        assert!(hits >= 1, "{args:?}: {lines:#?}");
        // Each entry once, though the monitors send some again.
        let mut sorted: Vec<&String> = lines.iter().filter(|l| l.contains("+0000 ")).collect();
        sorted.sort();
        let before = sorted.len();
        sorted.dedup();
        assert_eq!(before, sorted.len(), "{args:?}: {lines:#?}");
    }
    let _ = ceph(cluster(), &["config", "rm", &who, "debug_ms"]);
    // The cluster channel (the default): `log TEXT` makes an info entry,
    // which --watch-error leaves out and -w shows.
    let log = |text: String| {
        move || {
            let run = ceph(cluster(), &["log", &text]);
            assert_eq!(run.code, Some(0), "{run:#?}");
        }
    };
    let quiet = format!("{marker}-quiet");
    let lines = watch_until(
        &["--watch-error"],
        log(quiet.clone()),
        &quiet,
        Duration::from_secs(6),
    );
    assert!(
        lines.iter().any(|l| l.contains("cluster:")),
        "the status first: {lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains(&quiet)), "{lines:#?}");
    let shown = format!("{marker}-shown");
    let lines = watch_until(&["-w"], log(shown.clone()), &shown, Duration::from_secs(30));
    let line = lines.iter().find(|l| l.contains(&shown));
    // As `ceph -w` prints entries: `STAMP+0000 WHO [INF] TEXT`.
    let line = line.unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(
        line.contains("+0000 ") && line.contains(" [INF] "),
        "{line}"
    );
}

/// The cache file of the test cluster under `home`.
fn cache_file(home: &Path) -> PathBuf {
    let dir = home.join("monc");
    let fsid: String = cluster().fsid().chars().filter(|c| *c != '-').collect();
    dir.join(format!("{fsid}.cmds"))
}

/// The signatures' first words in a cache file (its layout: magic 8, fsid
/// 16, MonMap epoch 4, release 1, features 8, MgrMap epoch 8, count 4, then
/// per entry a u32-prefixed first word and a u32-prefixed JSON, then a
/// CRC-32C of all that), and the MgrMap epoch.
fn read_cache(path: &Path) -> (u64, Vec<(String, Vec<u8>)>) {
    let b = std::fs::read(path).unwrap();
    let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let epoch = u64::from_le_bytes(b[37..45].try_into().unwrap());
    let count = u32_at(45);
    let mut at = 49;
    let mut entries = Vec::new();
    for _ in 0..count {
        let n = u32_at(at);
        let word = String::from_utf8(b[at + 4..at + 4 + n].to_vec()).unwrap();
        at += 4 + n;
        let n = u32_at(at);
        entries.push((word, b[at + 4..at + 4 + n].to_vec()));
        at += 4 + n;
    }
    (epoch, entries)
}

/// Rewrites the cache file keeping its key, with only `keep`'s entries.
fn rewrite_cache(path: &Path, keep: impl Fn(&str) -> bool) {
    let b = std::fs::read(path).unwrap();
    let (_, entries) = read_cache(path);
    let kept: Vec<_> = entries.into_iter().filter(|(w, _)| keep(w)).collect();
    let mut out = b[..45].to_vec();
    out.extend_from_slice(&(kept.len() as u32).to_le_bytes());
    for (w, j) in &kept {
        out.extend_from_slice(&(w.len() as u32).to_le_bytes());
        out.extend_from_slice(w.as_bytes());
        out.extend_from_slice(&(j.len() as u32).to_le_bytes());
        out.extend_from_slice(j);
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    std::fs::write(path, out).unwrap();
}

/// Whether the manager says the module `name` can run.
fn module_can_run(name: &str) -> bool {
    fn find(v: &serde_json::Value, name: &str) -> Option<bool> {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("name").and_then(|n| n.as_str()) == Some(name) {
                    if let Some(b) = m.get("can_run").and_then(|b| b.as_bool()) {
                        return Some(b);
                    }
                }
                m.values().find_map(|v| find(v, name))
            }
            serde_json::Value::Array(a) => a.iter().find_map(|v| find(v, name)),
            _ => None,
        }
    }
    let ls = ceph(cluster(), &["mgr", "module", "ls", "-f", "json"]);
    find(&ls.json(), name).unwrap_or(false)
}

fn mgrmap_epoch() -> u64 {
    ceph(cluster(), &["mgr", "stat", "-f", "json"]).json()["epoch"]
        .as_u64()
        .unwrap()
}

/// Runs `step` until the MgrMap's epoch stays the same all through it (a
/// new manager's map moves on by itself for a while: modules load, services
/// register, and each move is a new cache key); that epoch and the step's
/// result.
fn while_mgrmap_holds<T>(mut step: impl FnMut() -> T) -> (u64, T) {
    for _ in 0..15 {
        let before = mgrmap_epoch();
        let out = step();
        if mgrmap_epoch() == before {
            return (before, out);
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    panic!("the MgrMap kept moving for a minute");
}

#[test]
fn descriptions_are_cached_and_refreshed() {
    let _serial = serial();
    let c = cluster();
    c.wait_for_mgr(Duration::from_secs(120)).unwrap();
    let home = cache_home("refresh");
    let env = [("XDG_CACHE_HOME", s(&home))];
    let file = cache_file(&home);
    let reference = ceph(c, &["mon", "dump"]);

    // First run: fetched and stored; second: read from the file, same answer.
    let (now, (first, (epoch, entries), stamp, second, restamp)) = while_mgrmap_holds(|| {
        let _ = std::fs::remove_file(&file);
        let first = monc_env(&["mon", "dump"], &env);
        let cached = read_cache(&file);
        let stamp = std::fs::metadata(&file).unwrap().modified().unwrap();
        let second = monc_env(&["mon", "dump"], &env);
        let restamp = std::fs::metadata(&file).unwrap().modified().unwrap();
        (first, cached, stamp, second, restamp)
    });
    assert_eq!(first.stdout, reference.stdout, "{first:#?}");
    assert_eq!(epoch, now);
    assert!(entries.iter().any(|(w, _)| w == "mon"));
    assert_eq!((second.code, &second.stdout), (Some(0), &reference.stdout));
    assert_eq!(restamp, stamp, "not rewritten");

    // Words that match nothing in the cache (its `mon` signatures gone,
    // key unchanged): fetched again, and the answer is right.
    rewrite_cache(&file, |w| w != "mon");
    assert!(!read_cache(&file).1.iter().any(|(w, _)| w == "mon"));
    let third = monc_env(&["mon", "dump"], &env);
    assert_eq!(
        (third.code, &third.stdout),
        (Some(0), &reference.stdout),
        "{third:#?}"
    );
    assert!(
        read_cache(&file).1.iter().any(|(w, _)| w == "mon"),
        "stored again"
    );

    // A corrupt file is ignored and replaced.
    let (now, (fourth, (epoch, _))) = while_mgrmap_holds(|| {
        std::fs::write(&file, b"MONCCMD\x01 and then garbage").unwrap();
        let fourth = monc_env(&["mon", "dump"], &env);
        (fourth, read_cache(&file))
    });
    assert_eq!(
        (fourth.code, &fourth.stdout),
        (Some(0), &reference.stdout),
        "{fourth:#?}"
    );
    assert_eq!(epoch, now);

    // A manager module enabled moves the MgrMap on (and brings its
    // commands where the manager publishes only those of enabled
    // modules): the cache follows, and lists the module's commands as
    // `ceph` does.
    let before = mgrmap_epoch();
    let can_run = module_can_run("alerts");
    // Reef's and Tentacle's managers here refuse Python modules (PyO3):
    // forced, the MgrMap still moves on.
    let enable = ceph(c, &["mgr", "module", "enable", "alerts", "--force"]);
    assert_eq!(enable.code, Some(0), "{enable:#?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while mgrmap_epoch() == before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let section = |s: &str| s.find(" Monitor commands:").map(|at| s[at..].to_string());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let theirs = ceph(c, &["alerts", "-h"]);
        let mine = monc_env(&["alerts", "-h"], &env);
        assert_eq!(mine.code, Some(0), "{mine:#?}");
        let listed = section(&theirs.stdout).is_some_and(|t| t.contains("alerts send"));
        if listed || !can_run || Instant::now() > deadline {
            assert_eq!(section(&mine.stdout), section(&theirs.stdout));
            assert_eq!(listed, can_run, "{theirs:#?}");
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let (epoch, entries) = read_cache(&file);
    assert!(epoch > before, "cache key {epoch} after MgrMap {before}");
    let cached = entries
        .iter()
        .any(|(w, j)| w == "alerts" && String::from_utf8_lossy(j).contains("\"send\""));
    assert_eq!(cached, can_run, "the module's commands are cached");
    let _ = ceph(c, &["mgr", "module", "disable", "alerts"]);
}

/// The completion of command words, once a command has filled the cache:
/// `monc --complete-words` reads it (the cluster found by the conf file's
/// fsid), and the generated bash completion calls it.
#[test]
fn command_words_complete_from_the_cache() {
    let _serial = serial();
    let c = cluster();
    let home = cache_home("complete");
    let env = [("XDG_CACHE_HOME", s(&home))];
    let dump = monc_env(&["mon", "dump"], &env);
    assert_eq!(dump.code, Some(0), "{dump:#?}");
    assert!(cache_file(&home).exists(), "the cache is filled");
    let conf = c.conf_path();
    let words = run_program(
        monc_bin(),
        &["--complete-words", "-c", s(&conf), "--", "osd", "pool", ""],
        None,
        &env,
        Duration::from_secs(10),
    );
    assert_eq!(words.code, Some(0), "{words:#?}");
    let words: Vec<&str> = words.stdout.lines().collect();
    assert!(
        words.contains(&"ls") && words.contains(&"create"),
        "{words:?}"
    );

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/monc.bash");
    let bin_dir = Path::new(monc_bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let line = format!(
        "source '{}'; COMP_WORDS=(monc osd po); COMP_CWORD=2; _monc; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let bash = run_program(
        "bash",
        &["-c", &line],
        None,
        &[
            ("PATH", &path),
            ("XDG_CACHE_HOME", s(&home)),
            ("CEPH_CONF", s(&conf)),
        ],
        Duration::from_secs(10),
    );
    assert_eq!(
        (bash.code, bash.stdout.as_str()),
        (Some(0), "pool\n"),
        "{bash:#?}"
    );
}
