//! Sending to the cluster log: entries reach the monitors (`ceph log last`
//! shows them), are acknowledged, and survive the loss of the monitor they
//! were sent to. Entries sent through a peon are settled too, although
//! Tentacle monitors never route the MLogAck back through one.

use std::time::{Duration, Instant};

use ceph_monclient::{MonClient, MonClientOptions, SessionState};
use ceph_testbed::{Cluster, ClusterSpec};
use ceph_types::LogPriority;

async fn wait_acked(client: &MonClient, seq: u64, within: Duration) {
    let deadline = Instant::now() + within;
    while client.status().log_acked < seq {
        assert!(
            Instant::now() < deadline,
            "log entries not acknowledged in {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn logged(cluster: &Cluster) -> String {
    let out = cluster.ceph(&["log", "last", "50", "-f", "json"]).unwrap();
    assert!(out.success(), "{out:?}");
    out.stdout
}

/// client.admin, hunting among the monitors of `mon_host`.
async fn connect(cluster: &Cluster, mon_host: &str) -> MonClient {
    let keyring = ceph_auth::Keyring::load(cluster.admin_keyring_path()).unwrap();
    let name: ceph_types::EntityName = "client.admin".parse().unwrap();
    let key = keyring.get(&name).unwrap().clone();
    let mons = ceph_config::parse_mon_host(mon_host).unwrap();
    MonClient::connect(MonClientOptions::new(name, key, mons))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_reach_the_cluster_log_and_survive_a_reset() {
    let cluster = Cluster::start(ClusterSpec::with_mons(3)).unwrap();
    let client = connect(&cluster, cluster.mon_host()).await;

    let tag = format!("monc-test-{}", std::process::id());
    let log = |prio, text: String| {
        let client = client.clone();
        async move { client.log(prio, "cluster", &text).await.unwrap() }
    };
    log(LogPriority::Info, format!("{tag} first")).await;
    let seq = log(LogPriority::Warn, format!("{tag} second")).await;
    wait_acked(&client, seq, Duration::from_secs(20)).await;
    assert_eq!(client.status().log_pending, 0);
    let text = logged(&cluster);
    assert!(text.contains(&format!("{tag} first")), "{text}");
    assert!(text.contains(&format!("{tag} second")), "{text}");

    // Freeze the monitor we talk to, log while the client moves on: the
    // entry is sent again on the new session and acknowledged there.
    let SessionState::Active { mon, .. } = client.status().state else {
        panic!("not connected")
    };
    cluster.stop(&mon).unwrap();
    let seq = log(LogPriority::Info, format!("{tag} third")).await;
    wait_acked(&client, seq, Duration::from_secs(60)).await;
    assert!(logged(&cluster).contains(&format!("{tag} third")));
    cluster.cont(&mon).unwrap();
    client.shutdown().await;
}

// Regression: a Tentacle leader tells the peon "no reply" for every
// forwarded MLog, so the MLogAck it sends after the commit is dropped by the
// peon; the client must find its entries in the cluster log instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_sent_through_a_peon_are_settled() {
    let cluster = Cluster::start(ClusterSpec::with_mons(3)).unwrap();
    let status = cluster.ceph(&["quorum_status", "-f", "json"]).unwrap();
    assert!(status.success(), "{status:?}");
    let leader = status.json().unwrap()["quorum_leader_name"]
        .as_str()
        .unwrap()
        .to_string();
    let peon = cluster
        .mons()
        .into_iter()
        .find(|m| m.name != leader)
        .unwrap();
    // Only the peon in mon_host: the session is with it.
    let client = connect(&cluster, &peon.addrvec()).await;
    let SessionState::Active { mon, .. } = client.status().state else {
        panic!("not connected")
    };
    assert_eq!(mon, peon.name);

    let tag = format!("monc-peon-{}", std::process::id());
    let mut last = 0;
    for (i, prio) in [LogPriority::Debug, LogPriority::Info, LogPriority::Error]
        .into_iter()
        .enumerate()
    {
        last = client
            .log(prio, "cluster", &format!("{tag} {i}"))
            .await
            .unwrap();
    }
    wait_acked(&client, last, Duration::from_secs(20)).await;
    assert_eq!(client.status().log_pending, 0);
    let out = cluster
        .ceph(&["log", "last", "50", "debug", "cluster", "-f", "json"])
        .unwrap();
    assert!(out.success(), "{out:?}");
    for i in 0..3 {
        let text = format!("{tag} {i}");
        // Stored once: settling is not a resend loop that duplicates.
        assert_eq!(out.stdout.matches(&text).count(), 1, "{}", out.stdout);
    }
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_config_arrives_at_start_and_updates_follow() {
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    let set = cluster
        .ceph(&["config", "set", "client", "rados_osd_op_timeout", "17"])
        .unwrap();
    assert!(set.success(), "{set:?}");
    let client = connect(&cluster, cluster.mon_host()).await;
    let wait_for = |value: &'static str| {
        let client = client.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let config = client.status().config;
                if config.get("rados_osd_op_timeout").map(String::as_str) == Some(value) {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "config never showed {value}: {config:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    wait_for("17").await;
    let set = cluster
        .ceph(&["config", "set", "client", "rados_osd_op_timeout", "23"])
        .unwrap();
    assert!(set.success(), "{set:?}");
    wait_for("23").await;
    client.shutdown().await;
}
