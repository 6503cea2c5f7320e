//! Connection modes against real monitors (the host's Pacific, or the
//! release `CEPH_RELEASE` names): `ms_mon_service_mode = secure` (and
//! `crc secure`) with the default preference list; a crc-only client
//! against a secure-only monitor gets `ConnectionModeNotAllowed` within two
//! seconds. Built with the `real-ceph` feature only (ring 3); the same
//! negotiation against fake monitors is in `secure_mode.rs`.

use std::time::{Duration, Instant};

use ceph_monclient::{MonClient, MonClientOptions, MonError};
use ceph_msgr::frame::ConMode;
use ceph_testbed::{Cluster, ClusterSpec};

#[path = "support/setup.rs"]
mod setup;

async fn mon_dump(client: &MonClient) -> i32 {
    setup::mon_dump_retval(client, Duration::from_secs(30)).await
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
