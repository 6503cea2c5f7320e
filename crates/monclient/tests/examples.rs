//! Ring 3: the README's first Rust program and every program of
//! `examples/` run against one real cluster, as a user would run them: the
//! README program as a Cargo project of its own outside the workspace (a
//! path dependency on this crate, built offline), the examples as built by
//! Cargo. Each reads the ordinary configuration (`CEPH_CONF`,
//! `CEPH_KEYRING`) the test points at the cluster. The cluster has a
//! manager and two OSDs so that the placement example has PGs to find.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ceph_testbed::{Cluster, ClusterSpec};

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The target directory this test was built in (`.../target/debug/deps/examples-HASH`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// The first ```rust block of the README.
fn readme_program() -> String {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let start = readme.find("```rust").expect("a Rust block in the README");
    let body = &readme[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").expect("the block ends")].to_string()
}

/// Runs `cmd` with the cluster's configuration in the environment, at most
/// `limit`; panics with its output if it fails.
fn run(mut cmd: Command, cluster: &Cluster, limit: Duration, what: &str) -> Output {
    cmd.env("CEPH_CONF", cluster.conf_path())
        .env("CEPH_KEYRING", cluster.admin_keyring_path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{what}: {e}"));
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what}: still running after {limit:?}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds the README program as a project of its own; returns its binary.
fn build_readme_program() -> PathBuf {
    let program = readme_program();
    assert!(program.lines().count() <= 15, "README program:\n{program}");
    assert!(program.contains("#[tokio::main]"));
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        "[package]\nname = \"readme-status\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nceph-monclient = {{ path = {:?} }}\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n[workspace]\n",
        Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().unwrap()
    );
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    // The workspace's lock: the same dependency versions, already built.
    std::fs::copy(
        workspace().join("Cargo.lock"),
        dir.path().join("Cargo.lock"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), program).unwrap();
    // A target directory of its own, kept between runs (and releases).
    let target = target_dir().join("user-programs");
    let status = Command::new(cargo())
        .args(["build", "--offline", "--quiet"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(status.success(), "the README program builds");
    target.join("debug/readme-status")
}

/// Builds this crate's examples (already built by a plain `cargo test`).
fn build_examples() -> PathBuf {
    let status = Command::new(cargo())
        .args([
            "build",
            "--offline",
            "--quiet",
            "-p",
            "ceph-monclient",
            "--examples",
        ])
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", target_dir().join("user-programs"))
        .status()
        .unwrap();
    assert!(status.success(), "the examples build");
    target_dir().join("user-programs/debug/examples")
}

/// The pool the placement example looks objects up in.
const PLACEMENT_POOL: &str = "examples";

/// What the placement example should print for `object`, built from the
/// monitor's own answer (`ceph osd map POOL OBJECT -f json`).
fn osd_map_line(cluster: &Cluster, object: &str) -> String {
    let out = cluster
        .ceph(&["osd", "map", PLACEMENT_POOL, object, "-f", "json"])
        .unwrap();
    assert!(out.success(), "ceph osd map: {}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let osds = |key: &str| -> Vec<i64> {
        json[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key} in {json}"))
            .iter()
            .map(|o| o.as_i64().unwrap())
            .collect()
    };
    let up = osds("up");
    assert!(!up.is_empty(), "the PG has no OSDs: {json}");
    format!(
        "{object} -> pg {} -> up {:?} (primary osd.{}), acting {:?} (primary osd.{})",
        json["pgid"].as_str().unwrap(),
        up,
        json["up_primary"],
        osds("acting"),
        json["acting_primary"]
    )
}

#[test]
fn readme_program_and_examples_against_a_cluster() {
    // Build while the monitors start: both take a while.
    let builds = std::thread::spawn(|| (build_readme_program(), build_examples()));
    let cluster =
        Cluster::start(ClusterSpec::with_mons(1).mgrs(1).osds(2)).expect("a test bed cluster");
    cluster
        .create_pool(PLACEMENT_POOL, 8, Duration::from_secs(120))
        .expect("a pool with active+clean PGs");
    let (readme, examples) = builds.join().unwrap();
    let limit = Duration::from_secs(60);

    // The README program prints `ceph status`, fsid included.
    let out = run(Command::new(&readme), &cluster, limit, "README program");
    let text = stdout(&out);
    assert!(text.contains(cluster.fsid()), "no fsid in:\n{text}");
    assert!(text.contains("mon:"), "not a status:\n{text}");

    let example = |name: &str| Command::new(examples.join(name));
    let out = run(example("status"), &cluster, limit, "status example");
    assert!(stdout(&out).contains(cluster.fsid()));

    let mon = cluster.mons()[0].name.clone();
    let mut tell = example("tell");
    tell.arg(&mon);
    let out = run(tell, &cluster, limit, "tell example");
    let version = cluster.ceph(&["version"]).unwrap().stdout;
    let number = version.split_whitespace().nth(2).unwrap().to_string();
    assert!(
        stdout(&out).contains(&number),
        "{} vs {version}",
        stdout(&out)
    );

    // The log watcher sees an entry written after it started listening.
    // (`ceph` of the cluster's release, through the test bed, writes it.)
    let marker = format!("examples-test-{}", std::process::id());
    let watching = std::sync::atomic::AtomicBool::new(true);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Until the watcher has subscribed; duplicates are harmless.
            for _ in 0..20 {
                std::thread::sleep(Duration::from_millis(500));
                if !watching.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let _ = cluster.ceph(&["log", &marker]);
            }
        });
        let mut watch = example("watch_log");
        watch.arg(&marker);
        let out = run(watch, &cluster, limit, "watch_log example");
        watching.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(stdout(&out).contains(&marker), "{}", stdout(&out));
    });

    // The OSD map follower sees two new epochs.
    let following = std::sync::atomic::AtomicBool::new(true);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for flag in ["set", "unset", "set", "unset", "set", "unset"] {
                std::thread::sleep(Duration::from_millis(700));
                if !following.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let _ = cluster.ceph(&["osd", flag, "noout"]);
            }
        });
        let mut follow = example("follow_osdmap");
        follow.arg("2");
        let out = run(follow, &cluster, limit, "follow_osdmap example");
        following.store(false, std::sync::atomic::Ordering::Relaxed);
        let text = stdout(&out);
        assert!(
            text.lines().filter(|l| l.starts_with("osdmap e")).count() >= 3,
            "{text}"
        );
    });

    // Object -> PG -> OSDs from the library's map, as the monitor computes it.
    let objects = ["greeting", "rbd_header.1234", "obj-3"];
    let mut placement = example("placement");
    placement.arg(PLACEMENT_POOL).args(objects);
    let out = run(placement, &cluster, limit, "placement example");
    let text = stdout(&out);
    for object in objects {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{object} -> ")))
            .unwrap_or_else(|| panic!("no line for {object} in:\n{text}"));
        assert_eq!(line, osd_map_line(&cluster, object), "{text}");
    }

    // A daemon entity waits for its rotating secrets. (osd.9: the test bed's
    // own OSDs have keys with other caps.)
    let keyring = cluster.dir().join("osd.9.keyring");
    let made = cluster
        .ceph(&[
            "auth",
            "get-or-create",
            "osd.9",
            "mon",
            "allow profile osd",
            "-o",
            keyring.to_str().unwrap(),
        ])
        .unwrap();
    assert!(made.success(), "{}", made.stderr);
    let mut daemon = example("daemon_rotating");
    daemon.arg("osd.9").arg(&keyring);
    let out = run(daemon, &cluster, limit, "daemon_rotating example");
    assert!(
        stdout(&out).contains("osd.9: rotating secrets"),
        "{}",
        stdout(&out)
    );
}
