//! Hostile or broken monitors (in-process fakes) that `fake_monitor.rs`
//! does not cover: a bad AES-GCM tag inside an established secure session,
//! frames out of order during the handshake, a monitor that accepts TCP
//! and says nothing next to a good one. Each must end the connection with
//! a typed error and let hunting go on, without a panic.

use std::time::{Duration, Instant};

use ceph_auth::CryptoKey;
use ceph_fakemon::{cephx::random_key, FakeCluster};
use ceph_monclient::{MonClient, MonClientOptions, MonError, SessionState};
use ceph_msgr::frame::ConMode;

#[path = "support/setup.rs"]
mod setup;

fn options(cluster: &FakeCluster, key: &CryptoKey) -> MonClientOptions {
    let (attempt, connect) = (Duration::from_millis(500), Duration::from_secs(3));
    let mut opts = setup::fake_options(cluster, "client.admin", key, attempt, connect, 5);
    opts.session = setup::session(
        "hostile-test",
        Duration::from_millis(200),
        Duration::from_millis(600),
    );
    opts
}

fn active_addr(client: &MonClient) -> Option<std::net::SocketAddr> {
    match client.status().state {
        SessionState::Active { addr, .. } => Some(addr),
        _ => None,
    }
}

async fn mon_dump(client: &MonClient) -> Result<i32, MonError> {
    setup::mon_dump(client, Duration::from_secs(5))
        .await
        .map(|r| r.retval)
}

#[tokio::test]
async fn bad_gcm_tag_in_a_secure_session_moves_to_another_monitor() {
    let key = random_key();
    let cluster = setup::fake_admin_cluster(3, &key).await;
    let mut opts = options(&cluster, &key);
    opts.modes = vec![ConMode::Secure];
    let client = MonClient::connect(opts).await.unwrap();
    assert_eq!(client.status().con_mode, Some(ConMode::Secure));
    let first = active_addr(&client).unwrap();
    let bad = cluster.by_addr(first).unwrap();
    // Every frame it sends from now on fails authentication (GCM tag).
    bad.corrupt_next_frame_crc(true);
    let t = Instant::now();
    assert_eq!(mon_dump(&client).await.unwrap(), 0);
    let status = client.status();
    eprintln!(
        "bad GCM tag: command answered after {:?} by another monitor, sessions {}",
        t.elapsed(),
        status.sessions
    );
    assert_ne!(active_addr(&client), Some(first));
    assert!(status.sessions >= 2);
    client.shutdown().await;
}

#[tokio::test]
async fn frames_out_of_order_are_a_protocol_error() {
    let key = random_key();
    let cluster = setup::fake_admin_cluster(1, &key).await;
    cluster.mons[0].send_frames_out_of_order(true);
    let mut opts = options(&cluster, &key);
    opts.connect_timeout = Duration::from_secs(1);
    let err = MonClient::connect(opts).await.err().expect("connected");
    eprintln!("out of order: {err}");
    let text = err.to_string();
    assert!(text.contains("unexpected ServerIdent"), "{text}");
    // Hunting kept trying (more than one attempt within the second).
    assert!(cluster.mons[0].stats().connections >= 2);
}

#[tokio::test]
async fn silent_and_broken_monitors_do_not_stop_the_hunt() {
    let key = random_key();
    let cluster = setup::fake_admin_cluster(4, &key).await;
    cluster.mons[0].accept_and_say_nothing(true);
    cluster.mons[1].send_frames_out_of_order(true);
    cluster.mons[2].huge_segment_length(true);
    let t = Instant::now();
    let client = MonClient::connect(options(&cluster, &key)).await.unwrap();
    eprintln!("good monitor found after {:?}", t.elapsed());
    assert_eq!(active_addr(&client), Some(cluster.mons[3].addr()));
    assert_eq!(mon_dump(&client).await.unwrap(), 0);
    client.shutdown().await;
}
