//! Connection modes and msgr2.1 compression negotiation against fake
//! monitors: a monitor offering compression (as Quincy and later do) works,
//! the client asks for none, and one that turns it on anyway is dropped with
//! a typed error. The same modes against real monitors are in
//! `secure_mode_real.rs` (ring 3).

use std::time::Duration;

use ceph_auth::CryptoKey;
use ceph_fakemon::{cephx::random_key, FakeCluster, FakeMonConfig};
use ceph_monclient::{MonClient, MonClientOptions, SessionState};
use ceph_msgr::frame::ConMode;

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
