//! Connecting the ordinary way (conf file, keyring search, a `mon_host`
//! string), against in-process fake monitors: no Ceph needed.

use std::time::Duration;

use ceph_fakemon::{cephx::random_key, FakeCluster, FakeMonConfig};
use ceph_monclient::{LogLevel, MonClient, MonError, SessionState};

async fn cluster(key: &ceph_monclient::CryptoKey) -> FakeCluster {
    FakeCluster::start(
        3,
        FakeMonConfig::new("client.admin".parse().unwrap(), key.clone()),
    )
    .await
}

fn mon_host(cluster: &FakeCluster) -> String {
    let addrs: Vec<String> = cluster.mon_addrs().iter().map(|a| a.to_string()).collect();
    addrs.join(",")
}

#[tokio::test]
async fn conf_file_and_keyring_give_a_session() {
    let key = random_key();
    let cluster = cluster(&key).await;
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("test.conf");
    let keyring = dir.path().join("test.keyring");
    std::fs::write(
        &conf,
        format!(
            "[global]\nmon_host = {}\nclient_mount_timeout = 5\n",
            mon_host(&cluster)
        ),
    )
    .unwrap();
    std::fs::write(
        &keyring,
        format!("[client.admin]\n\tkey = {}\n", key.to_base64()),
    )
    .unwrap();
    let client = MonClient::builder()
        .conf_path(&conf)
        .keyring(&keyring)
        // The fakes send no central configuration to wait for.
        .option("mon_client_hunt_interval", "0.2")
        .connect_timeout(Duration::from_secs(5))
        .options()
        .map(|mut o| {
            o.config = None;
            o
        })
        .unwrap();
    assert_eq!(client.connect_timeout, Duration::from_secs(5));
    let client = MonClient::connect(client).await.expect("a session");
    assert!(matches!(client.status().state, SessionState::Active { .. }));

    // Streams end when the client shuts down, though handles live on.
    let mut log = client.cluster_log(LogLevel::Info).unwrap();
    let mut monmaps = client.monmaps();
    let mut mgrmaps = client.mgrmaps().unwrap();
    let mut configs = client.config_changes().unwrap();
    let mut osdmap = client.follow_osdmap().unwrap();
    let mut events = client.events();
    client.shutdown().await;
    let limit = Duration::from_secs(5);
    let end = tokio::time::timeout(limit, log.next()).await;
    assert!(matches!(end, Ok(None)), "the log stream ended");
    let end = tokio::time::timeout(limit, monmaps.next()).await;
    assert!(matches!(end, Ok(None)), "the MonMap stream ended");
    let end = tokio::time::timeout(limit, mgrmaps.next()).await;
    assert!(matches!(end, Ok(None)), "the MgrMap stream ended");
    let end = tokio::time::timeout(limit, configs.next()).await;
    assert!(matches!(end, Ok(None)), "the config stream ended");
    let end = tokio::time::timeout(limit, osdmap.next()).await;
    assert!(matches!(end, Ok(None)), "the OSD map follower ended");
    assert!(events.recv().await.is_err());
    assert!(client.events().try_recv().is_err());
    // Made after the shutdown: ended at once.
    let end = tokio::time::timeout(limit, client.monmaps().next()).await;
    assert!(
        matches!(end, Ok(None)),
        "a MonMap stream made after shutdown"
    );
}

#[tokio::test]
async fn a_mon_host_string_and_a_key_give_a_session() {
    let key = random_key();
    let cluster = cluster(&key).await;
    let client = tokio::time::timeout(
        Duration::from_secs(30),
        MonClient::connect_to(&mon_host(&cluster), "client.admin", &key.to_base64()),
    )
    .await
    .expect("in time")
    .expect("a session");
    assert!(matches!(client.status().state, SessionState::Active { .. }));
    client.shutdown().await;
}

#[test]
fn no_key_is_enoent_with_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("c.conf");
    std::fs::write(&conf, "[global]\nmon_host = 127.0.0.1:3300\n").unwrap();
    let missing = dir.path().join("none.keyring");
    let err = MonClient::builder()
        .conf_path(&conf)
        .keyring(&missing)
        .options()
        .unwrap_err();
    assert!(matches!(err, MonError::KeyNotFound(_)), "{err:?}");
    assert_eq!(err.errno(), 2);
    assert!(err.to_string().contains("none.keyring"), "{err}");
    assert!(err.is_auth());

    let bad = MonClient::builder()
        .conf_path(dir.path().join("absent.conf"))
        .options()
        .unwrap_err();
    assert!(matches!(bad, MonError::Configuration(_)), "{bad:?}");
    assert!(
        std::error::Error::source(&bad).is_some(),
        "the config error is kept"
    );
}
