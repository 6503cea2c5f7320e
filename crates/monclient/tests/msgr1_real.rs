//! Monitor sessions over msgr1 against real monitors that speak only
//! msgr1 (`ms_bind_msgr2 = false`, v1 addresses in the MonMap): commands
//! answer as `ceph`'s do, an ambiguous `ip:port` falls back to v1 well
//! under a second, and answers that will not change end the wait at once.

use std::io::Write;
use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ceph_auth::Keyring;
use ceph_monclient::{MonClient, MonClientOptions, MonError, MonTarget};
use ceph_msgr::connection::Protocol;
use ceph_msgr::frame::ConMode;
use ceph_testbed::{Cluster, ClusterSpec};
use ceph_types::{EntityAddrVec, EntityName, LogPriority};

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

extern "C" fn tear_down_cluster() {
    if let Some(cluster) = CLUSTER.get() {
        for mon in cluster.mons() {
            let _ = cluster.kill(&mon.name);
        }
        if std::env::var("TESTBED_KEEP").as_deref() != Ok("1") {
            let _ = std::fs::remove_dir_all(cluster.dir());
        }
    }
}

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        let spec = ClusterSpec::with_mons(1).msgr1_only(true);
        let cluster = Cluster::start(spec).expect("starting a msgr1-only cluster");
        // SAFETY: atexit(3) takes a plain `extern "C" fn()`; statics are
        // never dropped, so this is how the monitor gets stopped.
        unsafe { libc::atexit(tear_down_cluster) };
        cluster
    })
}

fn admin() -> EntityName {
    "client.admin".parse().unwrap()
}

fn options(cluster: &Cluster, mon_host: &str) -> MonClientOptions {
    let keyring = Keyring::load(cluster.admin_keyring_path()).expect("admin keyring");
    let key = keyring.get(&admin()).expect("client.admin key").clone();
    let addrs: Vec<EntityAddrVec> = ceph_config::parse_mon_host(mon_host).expect("mon_host");
    let mut opts = MonClientOptions::new(admin(), key, addrs);
    opts.connect_timeout = Duration::from_secs(30);
    opts
}

fn v1_port(cluster: &Cluster) -> u16 {
    cluster.mons()[0].v1_addr.port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_over_msgr1_answer_as_ceph_does() {
    let cluster = cluster();
    let mon_host = format!("v1:127.0.0.1:{}", v1_port(cluster));
    let client = MonClient::connect(options(cluster, &mon_host))
        .await
        .expect("session over msgr1");
    assert_eq!(client.status().protocol, Some(Protocol::V1));
    for cmd in [
        r#"{"prefix": "mon dump", "format": "json"}"#,
        r#"{"prefix": "fsid", "format": "json"}"#,
        r#"{"prefix": "quorum_status", "format": "json"}"#,
    ] {
        let ours = client.command(cmd, Vec::new()).await.expect(cmd);
        assert_eq!(ours.retval, 0, "{cmd}: {}", ours.outs);
        let ours: serde_json::Value = serde_json::from_slice(&ours.outbl).expect("json");
        let prefix = serde_json::from_str::<serde_json::Value>(cmd).unwrap()["prefix"]
            .as_str()
            .unwrap()
            .to_string();
        let mut args: Vec<&str> = prefix.split(' ').collect();
        args.extend(["--format", "json"]);
        let theirs = cluster.ceph(&args).expect("ceph runs");
        assert!(theirs.success(), "ceph {args:?}: {}", theirs.stderr);
        let theirs = theirs.json().expect("ceph json");
        if prefix == "quorum_status" {
            assert_eq!(ours["quorum_names"], theirs["quorum_names"]);
            assert_eq!(ours["monmap"]["mons"], theirs["monmap"]["mons"]);
        } else {
            assert_eq!(ours, theirs, "{prefix}");
        }
    }
    // The MonMap names only v1 addresses, and the session keeps going on it.
    let map = client.monmap().expect("monmap");
    let addrs = &map
        .mon_info
        .values()
        .next()
        .expect("one monitor")
        .public_addrs;
    assert!(addrs.v2().is_none() && addrs.v1().is_some(), "{addrs}");
    let v = client
        .get_version("osdmap", None)
        .await
        .expect("osdmap version");
    assert!(v.newest >= 1);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tell_ping_and_cluster_log_over_msgr1() {
    let cluster = cluster();
    let mon_host = format!("v1:127.0.0.1:{}", v1_port(cluster));
    let client = MonClient::connect(options(cluster, &mon_host))
        .await
        .expect("session over msgr1");
    // tell and ping open connections of their own, also over msgr1.
    let reply = client
        .tell(
            MonTarget::Name("a".into()),
            r#"{"prefix": "mon_status", "format": "json"}"#,
            Vec::new(),
            Some(Duration::from_secs(20)),
        )
        .await
        .expect("tell mon.a");
    assert_eq!(reply.retval, 0, "{}", reply.outs);
    let status: serde_json::Value = serde_json::from_slice(&reply.outbl).unwrap();
    assert_eq!(status["name"], "a");
    let pong = client
        .ping_monitor(MonTarget::Rank(0), Some(Duration::from_secs(20)))
        .await
        .expect("ping mon rank 0");
    assert!(pong.contains("\"mon_status\""), "{pong}");
    // A cluster log entry sent over msgr1 reaches the monitors' log.
    let marker = format!("msgr1-log-{}", std::process::id());
    client
        .log(LogPriority::Info, "cluster", &marker)
        .await
        .expect("log queued");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = client
            .command(
                r#"{"prefix": "log last", "num": 50, "format": "json"}"#,
                Vec::new(),
            )
            .await
            .expect("log last");
        if String::from_utf8_lossy(&reply.outbl).contains(&marker) {
            break;
        }
        assert!(Instant::now() < deadline, "log entry never arrived");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_port_falls_back_to_v1_under_a_second() {
    let cluster = cluster();
    let mon_host = format!("127.0.0.1:{}", v1_port(cluster));
    let started = Instant::now();
    let client = MonClient::connect(options(cluster, &mon_host))
        .await
        .expect("session on an ambiguous port");
    let reply = client
        .command(r#"{"prefix": "mon stat"}"#, Vec::new())
        .await
        .expect("mon stat");
    let took = started.elapsed();
    assert_eq!(reply.retval, 0);
    assert_eq!(client.status().protocol, Some(Protocol::V1));
    assert!(took < Duration::from_secs(1), "took {took:?}");
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_only_refuses_a_v1_only_monitor_at_once() {
    let cluster = cluster();
    for mon_host in [
        format!("127.0.0.1:{}", v1_port(cluster)),
        format!("v1:127.0.0.1:{}", v1_port(cluster)),
    ] {
        let mut opts = options(cluster, &mon_host);
        opts.modes = vec![ConMode::Secure];
        let started = Instant::now();
        let err = MonClient::connect(opts).await.err().expect("must fail");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{mon_host}: {err}"
        );
        assert!(
            matches!(err, MonError::Incompatible(_)),
            "{mon_host}: {err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("msgr1") && text.contains("noname-a"),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_speaking_neither_protocol_fails_fast() {
    let cluster = cluster();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten().take(8) {
            let mut s = s;
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let started = Instant::now();
    let err = MonClient::connect(options(cluster, &format!("127.0.0.1:{port}")))
        .await
        .err()
        .expect("must fail");
    assert!(started.elapsed() < Duration::from_secs(5), "{err}");
    assert!(matches!(err, MonError::Incompatible(_)), "{err:?}");
    assert!(err.to_string().contains("SSH-2.0"), "{err}");
}

/// Makes the msgr1 recordings of crates/msgr/tests/data (`v1-RELEASE.*`):
/// the `ceph` CLI against this file's msgr1-only monitor, captured with
/// tcpdump on loopback and split into byte streams by
/// scripts/pcap-streams.py. Run by hand:
/// `CAPTURE_DIR=/tmp/cap cargo test -p ceph-monclient --test msgr1_real
/// --features real-ceph -- --ignored record_msgr1_sessions`.
#[test]
#[ignore = "makes recordings by hand (CAPTURE_DIR); needs tcpdump"]
fn record_msgr1_sessions() {
    let dir = std::path::PathBuf::from(std::env::var("CAPTURE_DIR").expect("CAPTURE_DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let cluster = cluster();
    let port = v1_port(cluster);
    let pcap = dir.join("v1.pcap");
    let mut tcpdump = std::process::Command::new("tcpdump")
        .args(["-i", "lo", "-U", "-w"])
        .arg(&pcap)
        .arg(format!("tcp port {port}"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tcpdump runs");
    std::thread::sleep(Duration::from_secs(1));
    let dump = cluster.ceph(&["mon", "dump", "-f", "json"]).unwrap();
    assert!(dump.success(), "{}", dump.stderr);
    let status = cluster.ceph(&["status", "-f", "json"]).unwrap();
    assert!(status.success(), "{}", status.stderr);
    std::thread::sleep(Duration::from_secs(1));
    tcpdump.kill().unwrap();
    tcpdump.wait().unwrap();
    let release = cluster.runtime().release().to_string();
    let prefix = dir.join(format!("v1-{release}"));
    std::fs::write(prefix.with_extension("mon-dump.json"), dump.stdout).unwrap();
    std::fs::write(prefix.with_extension("status.json"), status.stdout).unwrap();
    std::fs::copy(
        cluster.admin_keyring_path(),
        prefix.with_extension("client.admin.keyring"),
    )
    .unwrap();
    let split = std::process::Command::new("/usr/bin/python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/pcap-streams.py"
        ))
        .arg(&pcap)
        .arg(port.to_string())
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(
        split.status.success(),
        "{}",
        String::from_utf8_lossy(&split.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&split.stdout));
}
