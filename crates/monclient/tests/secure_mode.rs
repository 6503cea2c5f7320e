//! Connection modes and msgr2.1 compression negotiation.
//!
//! Against fake monitors: a monitor offering compression (as Quincy and
//! later do) works, the client asks for none, and one that turns it on
//! anyway is dropped with a typed error. Against real monitors (the host's
//! Pacific, or the release `CEPH_RELEASE` names):
//! `ms_mon_service_mode = secure` (and `crc secure`) with the default
//! preference list; a crc-only client against a secure-only monitor gets
//! `ConnectionModeNotAllowed` within two seconds.

use std::time::{Duration, Instant};

use ceph_auth::CryptoKey;
use ceph_fakemon::{cephx::random_key, FakeCluster, FakeMonConfig};
use ceph_monclient::{MonClient, MonClientOptions, MonError, SessionState};
use ceph_msgr::frame::ConMode;
use ceph_testbed::{Cluster, ClusterSpec};

#[path = "support/setup.rs"]
mod setup;

fn fake_options(cluster: &FakeCluster, key: &CryptoKey) -> MonClientOptions {
    let (attempt, connect) = (Duration::from_millis(500), Duration::from_secs(3));
    setup::fake_options(cluster, "client.admin", key, attempt, connect, 3)
}

async fn mon_dump(client: &MonClient) -> i32 {
    setup::mon_dump_retval(client, Duration::from_secs(30)).await
}

#[tokio::test]
async fn compression_offered_is_declined_in_both_modes() {
    for mode in [ConMode::Crc, ConMode::Secure] {
        let key = random_key();
        let cfg = FakeMonConfig::new("client.admin".parse().unwrap(), key.clone());
        assert!(cfg.offer_compression);
        let cluster = FakeCluster::start(1, cfg).await;
        let mut opts = fake_options(&cluster, &key);
        opts.modes = vec![mode];
        let client = MonClient::connect(opts).await.unwrap();
        assert_eq!(mon_dump(&client).await, 0);
        assert_eq!(client.status().con_mode, Some(mode));
        let stats = cluster.mons[0].stats();
        assert_eq!(stats.compression_requests, vec![false], "{mode:?}");
        client.shutdown().await;
    }
}

#[tokio::test]
async fn monitor_without_compression_gets_no_request() {
    let key = random_key();
    let mut cfg = FakeMonConfig::new("client.admin".parse().unwrap(), key.clone());
    cfg.offer_compression = false;
    let cluster = FakeCluster::start(1, cfg).await;
    let client = MonClient::connect(fake_options(&cluster, &key))
        .await
        .unwrap();
    assert_eq!(mon_dump(&client).await, 0);
    assert!(cluster.mons[0].stats().compression_requests.is_empty());
    client.shutdown().await;
}

#[tokio::test]
async fn compression_forced_on_us_is_a_protocol_error() {
    let key = random_key();
    let cfg = FakeMonConfig::new("client.admin".parse().unwrap(), key.clone());
    let cluster = FakeCluster::start(2, cfg).await;
    cluster.mons[0].force_compression(true);
    let mut opts = fake_options(&cluster, &key);
    opts.connect_timeout = Duration::from_secs(1);
    // Both monitors forcing: the connect fails with the protocol error.
    cluster.mons[1].force_compression(true);
    let err = match MonClient::connect(opts.clone()).await {
        Ok(_) => panic!("connected to monitors forcing compression"),
        Err(e) => e,
    };
    eprintln!("forced compression: {err}");
    assert!(err.to_string().contains("compression"), "{err}");
    // Only one forcing: the client hunts on to the other.
    cluster.mons[1].force_compression(false);
    opts.connect_timeout = Duration::from_secs(5);
    let client = MonClient::connect(opts).await.unwrap();
    let SessionState::Active { addr, .. } = client.status().state else {
        panic!("no session");
    };
    assert_eq!(addr, cluster.mons[1].addr());
    client.shutdown().await;
}

fn real_options(cluster: &Cluster, modes: Vec<ConMode>) -> MonClientOptions {
    let mut opts = setup::real_admin_options(cluster);
    opts.modes = modes;
    opts
}

async fn commands_and_subscription(client: &MonClient) {
    assert_eq!(mon_dump(client).await, 0);
    client.subscribe("osdmap", 0, false).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client.status().epochs.contains_key("osdmap") {
        assert!(Instant::now() < deadline, "no osdmap");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let v = client
        .get_version("osdmap", Some(Duration::from_secs(30)))
        .await
        .unwrap();
    assert!(v.newest >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_secure_only_monitors() {
    let cluster =
        Cluster::start(ClusterSpec::with_mons(1).global("ms_mon_service_mode", "secure")).unwrap();
    let client = MonClient::connect(real_options(&cluster, vec![ConMode::Secure, ConMode::Crc]))
        .await
        .unwrap();
    assert_eq!(client.status().con_mode, Some(ConMode::Secure));
    commands_and_subscription(&client).await;
    client.shutdown().await;

    let t = Instant::now();
    let err = match MonClient::connect(real_options(&cluster, vec![ConMode::Crc])).await {
        Ok(_) => panic!("crc-only client connected to a secure-only monitor"),
        Err(e) => e,
    };
    eprintln!(
        "crc-only vs secure-only after {:?}: {err} (errno {})",
        t.elapsed(),
        err.errno()
    );
    assert!(
        matches!(err, MonError::ConnectionModeNotAllowed(_)),
        "{err:?}"
    );
    assert!(t.elapsed() <= Duration::from_secs(2), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_crc_secure_monitors_with_each_preference() {
    let cluster =
        Cluster::start(ClusterSpec::with_mons(1).global("ms_mon_service_mode", "crc secure"))
            .unwrap();
    for prefs in [
        vec![ConMode::Secure, ConMode::Crc],
        vec![ConMode::Crc, ConMode::Secure],
        vec![ConMode::Crc],
        vec![ConMode::Secure],
    ] {
        let client = MonClient::connect(real_options(&cluster, prefs.clone()))
            .await
            .unwrap();
        let mode = client.status().con_mode.unwrap();
        eprintln!("monitor 'crc secure', client {prefs:?}: negotiated {mode:?}");
        assert!(prefs.contains(&mode));
        if prefs.len() == 1 {
            assert_eq!(mode, prefs[0]);
        }
        commands_and_subscription(&client).await;
        client.shutdown().await;
    }
}
