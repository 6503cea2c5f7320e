//! The library against real Pacific monitors: connect, commands, versions,
//! the MonMap, shutdown, and surviving a killed or frozen monitor.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ceph_auth::Keyring;
use ceph_monclient::{MonClient, MonClientOptions, MonError, SessionState};
use ceph_testbed::{Cluster, ClusterSpec};
use ceph_types::{EntityAddrVec, EntityName};

/// One three-monitor cluster for the whole file, torn down at exit.
static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// Tests that kill or freeze a monitor take this so that at most one
/// monitor is down at a time (two down would lose the quorum).
static FAULTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

static STARTED: Mutex<bool> = Mutex::new(false);

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
        let cluster = Cluster::start(ClusterSpec::with_mons(3)).expect("starting the cluster");
        let mut started = STARTED.lock().unwrap_or_else(|p| p.into_inner());
        if !*started {
            // SAFETY: atexit(3) takes a plain `extern "C" fn()`; statics are
            // never dropped, so this is how the monitors get stopped.
            unsafe { libc::atexit(tear_down_cluster) };
            *started = true;
        }
        cluster
    })
}

fn admin() -> EntityName {
    "client.admin".parse().unwrap()
}

/// Options for client.admin with the key from the cluster's keyring.
fn options(cluster: &Cluster, mon_addrs: Vec<EntityAddrVec>) -> MonClientOptions {
    let keyring = Keyring::load(cluster.admin_keyring_path()).expect("admin keyring");
    let key = keyring.get(&admin()).expect("client.admin key").clone();
    let mut opts = MonClientOptions::new(admin(), key, mon_addrs);
    opts.connect_timeout = Duration::from_secs(30);
    opts
}

fn all_mons(cluster: &Cluster) -> Vec<EntityAddrVec> {
    ceph_config::parse_mon_host(cluster.mon_host()).expect("testbed mon_host parses")
}

async fn connect_all(cluster: &Cluster) -> MonClient {
    MonClient::connect(options(cluster, all_mons(cluster)))
        .await
        .expect("connecting to the cluster")
}

fn active_mon(client: &MonClient) -> String {
    match client.status().state {
        SessionState::Active { mon, .. } => mon,
        other => panic!("no session: {other:?}"),
    }
}

/// Runs `mon dump` and returns the fsid it printed.
async fn mon_dump_fsid(client: &MonClient, timeout: Duration) -> Result<String, MonError> {
    let reply = client
        .command_with_timeout(
            r#"{"prefix": "mon dump", "format": "json"}"#,
            Vec::new(),
            Some(timeout),
        )
        .await?;
    assert_eq!(reply.retval, 0, "mon dump failed: {}", reply.outs);
    let dump: serde_json::Value = serde_json::from_slice(&reply.outbl).expect("JSON dump");
    Ok(dump["fsid"].as_str().expect("fsid").to_string())
}

/// Brings a killed or frozen monitor back and waits for the full quorum.
fn restore(cluster: &Cluster, name: &str) {
    if cluster.is_running(name).unwrap() {
        cluster.cont(name).unwrap();
    } else {
        cluster.start_mon(name).unwrap();
    }
    cluster
        .wait_for_quorum(&["a", "b", "c"], Duration::from_secs(60))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_command_version_monmap() {
    let cluster = cluster();
    let client = connect_all(cluster).await;

    let status = client.status();
    assert_ne!(status.global_id, 0);
    assert!(matches!(status.state, SessionState::Active { .. }));

    let fsid = mon_dump_fsid(&client, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(fsid, cluster.fsid());

    let versions = client
        .get_version("osdmap", Some(Duration::from_secs(30)))
        .await
        .unwrap();
    assert!(versions.newest >= 1, "{versions:?}");
    assert!(versions.oldest <= versions.newest, "{versions:?}");

    let monmap = client.monmap().expect("a MonMap after connect");
    assert_eq!(monmap.fsid.to_string(), cluster.fsid());
    assert_eq!(monmap.len(), 3);
    for mon in cluster.mons() {
        let expected = format!("[v2:{}/0,v1:{}/0]", mon.v2_addr, mon.v1_addr);
        let info = monmap.get(&mon.name).expect("mon in the map");
        assert_eq!(info.public_addrs.to_string(), expected);
    }

    // A command the monitor refuses is a reply, not a client error.
    let refused = client
        .command(
            r#"{"prefix": "osd pool set", "pool": "nopool", "var": "size", "val": "2"}"#,
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(refused.retval, -2);
    assert_eq!(refused.outs, "unrecognized pool 'nopool'");

    client.shutdown().await;
    assert_eq!(client.status().state, SessionState::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_fails_connect_with_auth() {
    let cluster = cluster();
    let mut opts = options(cluster, all_mons(cluster));
    opts.key =
        ceph_auth::CryptoKey::from_base64("AQBzNW5mAAAAABAAdD0bJbWKbzBMAw6lHqKCZA==").unwrap();
    let started = Instant::now();
    let err = MonClient::connect(opts).await.err().expect("must fail");
    assert!(matches!(err, MonError::Auth(_)), "{err:?}");
    assert_eq!(err.errno(), 13);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_fails_pending_requests() {
    let _faults = FAULTS.lock().await;
    let cluster = cluster();
    let client = connect_all(cluster).await;
    let mon = active_mon(&client);
    // A frozen monitor keeps the requests pending (until the keepalive
    // timeout, which is longer than this test waits).
    cluster.stop(&mon).unwrap();
    let pending_command = tokio::spawn({
        let client = client.clone();
        async move { client.command(r#"{"prefix": "health"}"#, Vec::new()).await }
    });
    let pending_version = tokio::spawn({
        let client = client.clone();
        async move { client.get_version("osdmap", None).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !pending_command.is_finished(),
        "the command should be pending"
    );
    assert!(
        !pending_version.is_finished(),
        "get_version should be pending"
    );

    let started = Instant::now();
    client.shutdown().await;
    let command = pending_command.await.unwrap();
    let version = pending_version.await.unwrap();
    let shutdown_took = started.elapsed();
    restore(cluster, &mon);

    assert!(
        matches!(command, Err(MonError::ShuttingDown)),
        "{command:?}"
    );
    assert!(
        matches!(version, Err(MonError::ShuttingDown)),
        "{version:?}"
    );
    assert!(
        shutdown_took < Duration::from_secs(1),
        "took {shutdown_took:?}"
    );
    // Afterwards every request fails the same way.
    let after = client.command(r#"{"prefix": "health"}"#, Vec::new()).await;
    assert!(matches!(after, Err(MonError::ShuttingDown)), "{after:?}");
    assert_eq!(client.status().state, SessionState::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_monitor_is_replaced_by_hunting() {
    let _faults = FAULTS.lock().await;
    let cluster = cluster();
    let client = connect_all(cluster).await;
    let first = active_mon(&client);
    mon_dump_fsid(&client, Duration::from_secs(30))
        .await
        .unwrap();

    cluster.kill(&first).unwrap();
    let started = Instant::now();
    let result = mon_dump_fsid(&client, Duration::from_secs(30)).await;
    let took = started.elapsed();
    let now_on = client.status().state;
    eprintln!("after killing mon.{first}: command took {took:?}, now {now_on:?}");
    restore(cluster, &first);

    assert_eq!(result.unwrap(), cluster.fsid());
    match now_on {
        SessionState::Active { mon, .. } => assert_ne!(mon, first),
        other => panic!("no session after the kill: {other:?}"),
    }
    assert!(took < Duration::from_secs(20), "took {took:?}");
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_monitor_is_left_after_keepalive_timeout() {
    let _faults = FAULTS.lock().await;
    let cluster = cluster();
    // Start from the peons only, so freezing ours needs no new election:
    // the command then waits only for the client to notice and move on.
    let leader = quorum_leader(cluster);
    let peons: Vec<String> = cluster
        .mons()
        .iter()
        .filter(|m| m.name != leader)
        .map(|m| m.addrvec())
        .collect();
    let addrs = ceph_config::parse_mon_host(&peons.join(",")).unwrap();
    let client = MonClient::connect(options(cluster, addrs)).await.unwrap();
    let frozen = active_mon(&client);
    assert_ne!(frozen, leader);

    cluster.stop(&frozen).unwrap();
    let started = Instant::now();
    let command = tokio::spawn({
        let client = client.clone();
        async move { mon_dump_fsid(&client, Duration::from_secs(30)).await }
    });
    // The client must notice the silence by itself and move on.
    let moved_after = loop {
        match client.status().state {
            SessionState::Active { mon, .. } if mon != frozen => break Some(started.elapsed()),
            _ if started.elapsed() > Duration::from_secs(10) => break None,
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let result = command.await.unwrap();
    let took = started.elapsed();
    eprintln!(
        "after freezing mon.{frozen}: moved after {moved_after:?}, command took {took:?}, now {:?}",
        client.status().state
    );
    restore(cluster, &frozen);

    assert_eq!(result.unwrap(), cluster.fsid());
    // Keepalive timeout (2.5 s, judged on a 1 s ping tick), then a new
    // session at once. The MonMap supplied the leader, absent at the start.
    let moved_after = moved_after.expect("the client never left the frozen monitor");
    assert!(
        moved_after >= Duration::from_secs(2),
        "left too early? {moved_after:?}"
    );
    assert!(
        moved_after < Duration::from_secs(4),
        "left after {moved_after:?}"
    );
    // The resent command may then wait for the monitors' own election.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    client.shutdown().await;
}

fn quorum_leader(cluster: &Cluster) -> String {
    let out = cluster.ceph(&["quorum_status", "-f", "json"]).unwrap();
    let status = out.json().expect("quorum_status JSON");
    status["quorum_leader_name"]
        .as_str()
        .expect("a leader")
        .to_string()
}
