//! The `testbed up` binary: starts, writes client files, stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Sends SIGTERM to the testbed (which then cleans up) if the test panics.
struct TermOnDrop(std::process::Child);

impl Drop for TermOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // SAFETY: signalling our own unreaped child.
            unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
            let _ = self.0.wait();
        }
    }
}

#[test]
fn testbed_up_serves_until_sigterm_then_cleans_up() {
    let client_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_testbed"))
        .args(["up", "--mons", "3", "--dir"])
        .arg(client_dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut child = TermOnDrop(child);
    let mut state_dir = None;
    let mut pids = Vec::new();
    let mut mon_host = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(dir) = line.strip_prefix("state    = ") {
            state_dir = Some(PathBuf::from(dir));
        } else if let Some(host) = line.strip_prefix("mon_host = ") {
            mon_host = Some(host.to_string());
        } else if let Some((_, pid)) = line.rsplit_once(" pid ") {
            pids.push(pid.parse::<u32>().unwrap());
        } else if line.starts_with("testbed: ready") {
            break;
        }
    }
    let state_dir = state_dir.expect("no state dir printed");
    assert_eq!(pids.len(), 3);

    let conf = client_dir.path().join("ceph.conf");
    let conf_text = std::fs::read_to_string(&conf).unwrap();
    assert!(conf_text.contains(&format!("mon_host = {}", mon_host.unwrap())));
    // The release's own CLI: an older host `ceph` may not speak a newer
    // release's ciphers (Pacific and Tentacle's aes256k keys).
    let runtime = ceph_testbed::CephRuntime::from_env()
        .unwrap()
        .sharing(client_dir.path());
    let out = runtime
        .command("ceph")
        .arg("-c")
        .arg(&conf)
        .args(["--connect-timeout", "15", "quorum_status", "-f", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["quorum_names"].as_array().unwrap().len(), 3);

    // SAFETY: signalling our own unreaped child.
    assert_eq!(
        unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.0.try_wait().unwrap() {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "testbed ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "testbed exited with {exit}");
    assert!(!state_dir.exists(), "{} survived", state_dir.display());
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "mon pid {pid} survived"
        );
    }
}
