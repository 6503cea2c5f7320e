//! How `monc` fails: refused credentials, missing keyrings, unreachable or
//! wrong addresses, bad flags. Each failure must be quick and say why.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use ceph_testbed::Cluster;
use common::{assert_took_under, monc, monc_at, monc_raw, s, shared_cluster};

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    shared_cluster(&CLUSTER, 3)
}

/// A fresh random CephX key, as `ceph-authtool` makes them.
fn random_key() -> String {
    let out = Command::new("ceph-authtool")
        .arg("--gen-print-key")
        .output()
        .expect("running ceph-authtool");
    assert!(out.status.success(), "ceph-authtool: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
fn unused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A listener that is not a monitor: it accepts connections and either
/// answers like a web server or says nothing at all. Connections are held
/// open so the client sees no EOF.
fn fake_server(http: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            if http {
                let _ = conn.write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
                );
            }
            let _ = conn.set_read_timeout(Some(Duration::from_millis(1)));
            let _ = conn.read(&mut [0u8; 64]);
            held.push(conn);
        }
    });
    port
}

#[test]
fn wrong_key_is_refused_quickly() {
    let cluster = cluster();
    let key = random_key();
    let run = common::run_program(
        common::monc_bin(),
        &["-c", s(&cluster.conf_path()), "--key", &key, "status"],
        None,
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(13), "{run:#?}");
    assert_took_under(&run, Duration::from_secs(2));
    assert!(run.stdout.is_empty(), "{run:#?}");
    assert!(
        run.stderr.contains("refused our credentials"),
        "says the credentials were refused: {run:#?}"
    );
    // The key itself must not be echoed back.
    assert!(!run.stderr.contains(&key), "{run:#?}");
}

#[test]
fn unknown_entity_is_refused() {
    let cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    let keyring = dir.path().join("nobody.keyring");
    let made = Command::new("ceph-authtool")
        .args(["--create-keyring", "--gen-key", "-n", "client.nobody"])
        .arg(&keyring)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let run = monc_raw(&[
        "-c",
        s(&cluster.conf_path()),
        "-k",
        s(&keyring),
        "-n",
        "client.nobody",
        "status",
    ]);
    assert_eq!(run.code, Some(13), "{run:#?}");
    assert_took_under(&run, Duration::from_secs(2));
    assert!(run.stderr.contains("authentication failed"), "{run:#?}");
}

#[test]
fn missing_keyring_is_enoent() {
    let cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such.keyring");
    let run = monc_raw(&["-c", s(&cluster.conf_path()), "-k", s(&missing), "status"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.stderr.contains("no-such.keyring"),
        "names the file: {run:#?}"
    );
}

#[test]
fn nothing_listening_times_out_with_etimedout() {
    let cluster = cluster();
    let mon_host = format!("127.0.0.1:{}", unused_port());
    let run = monc_at(cluster, &mon_host, &["--connect-timeout", "2", "status"]);
    assert_eq!(run.code, Some(110), "{run:#?}");
    assert!(
        run.elapsed >= Duration::from_millis(1900),
        "took {:?}",
        run.elapsed
    );
    assert_took_under(&run, Duration::from_millis(2500));
    assert!(run.stderr.contains("timed out"), "{run:#?}");
    assert!(
        run.stderr.contains("refused"),
        "gives the last error: {run:#?}"
    );
}

fn check_not_a_monitor(http: bool, mon_host_form: fn(u16) -> String) {
    let cluster = cluster();
    let port = fake_server(http);
    let run = monc_at(
        cluster,
        &mon_host_form(port),
        &["--connect-timeout", "2", "status"],
    );
    assert_took_under(&run, Duration::from_millis(2500));
    assert!(run.stdout.is_empty(), "{run:#?}");
    if http {
        // A peer that answers in another protocol will not change its
        // mind: EPROTONOSUPPORT at once, saying what it sent.
        assert_eq!(run.code, Some(93), "{run:#?}");
        assert!(
            run.stderr.contains("neither msgr1 nor msgr2") && run.stderr.contains("HTTP"),
            "says what the peer speaks: {run:#?}"
        );
        assert_took_under(&run, Duration::from_millis(1500));
    } else {
        // A silent peer may yet answer: the connect timeout, as `ceph`.
        assert_eq!(run.code, Some(110), "{run:#?}");
        assert!(
            run.stderr
                .starts_with("monc: error connecting to the cluster: timed out"),
            "{run:#?}"
        );
    }
}

#[test]
fn silent_server_instead_of_monitor_fails_in_time() {
    check_not_a_monitor(false, |p| format!("127.0.0.1:{p}"));
    check_not_a_monitor(false, |p| format!("v2:127.0.0.1:{p}"));
}

#[test]
fn dead_address_first_still_connects_quickly() {
    let cluster = cluster();
    let dead = unused_port();
    for mon_host in [
        format!("127.0.0.1:{dead},{}", cluster.mon_host()),
        format!(
            "[v2:127.0.0.1:{dead},v1:127.0.0.1:{dead}],{}",
            cluster.mon_host()
        ),
    ] {
        let run = monc_at(
            cluster,
            &mon_host,
            &["--connect-timeout", "5", "mon", "dump", "-f", "json"],
        );
        assert_eq!(run.code, Some(0), "{mon_host}: {run:#?}");
        assert_took_under(&run, Duration::from_secs(1));
        assert_eq!(run.json()["fsid"], cluster.fsid());
    }
    // One connection at a time: whenever the dead address is drawn first,
    // the refusal must move the hunt on at once, not after a hunt interval.
    let mon_host = format!("127.0.0.1:{dead},{}", cluster.mon_host());
    for _ in 0..5 {
        let run = monc_at(
            cluster,
            &mon_host,
            &[
                "--mon_client_hunt_parallel",
                "1",
                "--connect-timeout",
                "5",
                "health",
            ],
        );
        assert_eq!(run.code, Some(0), "{run:#?}");
        assert_took_under(&run, Duration::from_secs(1));
    }
}

#[test]
fn dead_address_alone_with_hunting_over_all_fails() {
    // Every address dead: no session, ETIMEDOUT, not a hang.
    let cluster = cluster();
    let (a, b) = (unused_port(), unused_port());
    let run = monc_at(
        cluster,
        &format!("127.0.0.1:{a},127.0.0.1:{b}"),
        &["--connect-timeout", "1", "status"],
    );
    assert_eq!(run.code, Some(110), "{run:#?}");
    assert_took_under(&run, Duration::from_millis(1500));
}

#[test]
fn bad_flags_are_einval() {
    let cluster = cluster();
    for args in [
        &["-f", "toml", "status"][..],
        &["--connect-timeout", "soon", "status"][..],
        &["status", "--conf"][..],
    ] {
        let run = monc(cluster, args);
        assert_eq!(run.code, Some(22), "{args:?}: {run:#?}");
        assert!(run.stdout.is_empty(), "{run:#?}");
        assert!(run.stderr.starts_with("monc: "), "{run:#?}");
    }
    let toml = monc(cluster, &["-f", "toml", "status"]);
    assert!(
        toml.stderr.contains("toml"),
        "names the bad value: {toml:#?}"
    );
}
