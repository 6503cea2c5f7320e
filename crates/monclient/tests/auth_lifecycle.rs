//! The CephX lifecycle of a long-running client against in-process fake
//! monitors (`ceph-fakemon`, which answers MAuth like a monitor does):
//! in-session auth ticket renewal, rotating secrets for daemon entities,
//! no request storm when the monitor refuses renewals, and the typed
//! errors of refused authentications, each returned within two seconds.

use std::time::{Duration, Instant};

use ceph_auth::types::{CEPHX_GET_AUTH_SESSION_KEY, CEPHX_GET_ROTATING_KEY};
use ceph_auth::CryptoKey;
use ceph_fakemon::{cephx::random_key, FakeCluster, FakeMonConfig};
use ceph_monclient::{MonClient, MonClientOptions, MonError, SessionState};
use ceph_msgr::frame::ConMode;
use ceph_types::EntityName;

#[path = "support/setup.rs"]
mod setup;

/// Errors that retrying cannot fix must come back this fast.
const FAIL_FAST: Duration = Duration::from_secs(2);

fn name(s: &str) -> EntityName {
    s.parse().unwrap()
}

async fn cluster(n: usize, entity: &str, key: &CryptoKey, validity: Duration) -> FakeCluster {
    let mut cfg = FakeMonConfig::new(name(entity), key.clone());
    cfg.ticket_validity = validity;
    FakeCluster::start(n, cfg).await
}

fn options(cluster: &FakeCluster, entity: &str, key: &CryptoKey) -> MonClientOptions {
    let (attempt, connect) = (Duration::from_millis(800), Duration::from_secs(5));
    let mut opts = setup::fake_options(cluster, entity, key, attempt, connect, 11);
    opts.session = setup::session(
        "auth-lifecycle-test",
        Duration::from_millis(500),
        Duration::from_secs(2),
    );
    opts
}

/// A client.admin client connected to `cluster` with [`options`].
async fn admin_client(cluster: &FakeCluster, key: &CryptoKey) -> MonClient {
    MonClient::connect(options(cluster, "client.admin", key))
        .await
        .unwrap()
}

async fn mon_dump(client: &MonClient) -> i32 {
    setup::mon_dump_retval(client, Duration::from_secs(5)).await
}

#[tokio::test]
async fn auth_ticket_is_renewed_in_session_without_reconnecting() {
    let key = random_key();
    // 4 s tickets: renewal due at 3 s (a quarter of the validity left).
    let cluster = cluster(1, "client.admin", &key, Duration::from_secs(4)).await;
    let client = admin_client(&cluster, &key).await;
    let global_id = client.status().global_id;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        assert_eq!(mon_dump(&client).await, 0);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let status = client.status();
    let served = cluster.mons[0].stats();
    eprintln!(
        "renewals after 10 s with 4 s tickets: client {:?}, monitor saw {:?}",
        status.renewals, served.in_session_auth
    );
    assert!(
        status.renewals.auth_tickets >= 2,
        "auth ticket renewals: {:?}",
        status.renewals
    );
    assert_eq!(
        served.renewals(CEPHX_GET_AUTH_SESSION_KEY) as u64,
        status.renewals.auth_tickets
    );
    // Never faster than one request a second.
    assert!(served.in_session_auth.len() <= 10, "{served:?}");
    assert_eq!(status.renewals.failures, 0);
    assert_eq!(status.sessions, 1, "renewal must not need a reconnect");
    assert_eq!(status.global_id, global_id);
    assert!(matches!(status.state, SessionState::Active { .. }));
    // The default preference (secure, crc) against a monitor allowing both.
    assert_eq!(status.con_mode, Some(ConMode::Secure));
    client.shutdown().await;
}

#[tokio::test]
async fn refused_renewals_cause_no_storm_and_keep_the_session() {
    let key = random_key();
    let cluster = cluster(1, "client.admin", &key, Duration::from_secs(2)).await;
    cluster.mons[0].refuse_in_session_auth(true);
    let client = admin_client(&cluster, &key).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let asked = cluster.mons[0].stats().in_session_auth.len();
    let status = client.status();
    eprintln!(
        "refused renewals over 6 s: {asked} requests, {:?}",
        status.renewals
    );
    assert!(asked >= 2, "renewal was never tried ({asked})");
    assert!(asked <= 7, "more than one request a second: {asked}");
    assert_eq!(status.renewals.failures as usize, asked);
    // The session itself is not torn down by a refused renewal.
    assert_eq!(status.sessions, 1);
    assert_eq!(mon_dump(&client).await, 0);
    client.shutdown().await;
}

#[tokio::test]
async fn daemon_gets_rotating_secrets_and_renews_them() {
    let key = random_key();
    // The fake rotates its service secrets every validity period (3 s).
    let cluster = cluster(1, "osd.0", &key, Duration::from_secs(3)).await;
    let mut opts = options(&cluster, "osd.0", &key);
    opts.service_ticket_ttl = Duration::from_secs(3);
    let client = MonClient::connect(opts).await.unwrap();
    let t = Instant::now();
    client
        .wait_auth_rotating(Duration::from_secs(5))
        .await
        .unwrap();
    eprintln!("rotating secrets after {:?}", t.elapsed());
    let first = client.rotating_secrets().expect("rotating secrets");
    assert_eq!(first.secrets.len(), 3);
    let debug = format!("{first:?}");
    assert!(debug.contains("<redacted>"), "{debug}");
    tokio::time::sleep(Duration::from_secs(8)).await;
    client
        .wait_auth_rotating(Duration::from_secs(1))
        .await
        .unwrap();
    let later = client.rotating_secrets().unwrap();
    let status = client.status();
    let served = cluster.mons[0].stats().renewals(CEPHX_GET_ROTATING_KEY);
    eprintln!(
        "rotating: first max_ver {}, later max_ver {}, {:?}, monitor answered {served}",
        first.max_ver, later.max_ver, status.renewals
    );
    assert!(later.max_ver >= first.max_ver + 2, "no rotation seen");
    assert!(status.renewals.rotating >= 3, "{:?}", status.renewals);
    // At most one request a second (11 s in all, plus the first).
    assert!(served <= 13, "{served}");
    assert!(status.clock_skew.is_none());
    client.shutdown().await;
}

#[tokio::test]
async fn clients_need_no_rotating_secrets() {
    let key = random_key();
    let cluster = cluster(1, "client.admin", &key, Duration::from_secs(60)).await;
    let client = admin_client(&cluster, &key).await;
    client
        .wait_auth_rotating(Duration::from_millis(1))
        .await
        .unwrap();
    assert!(client.rotating_secrets().is_none());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        cluster.mons[0].stats().renewals(CEPHX_GET_ROTATING_KEY),
        0,
        "a client must not ask for rotating secrets"
    );
    client.shutdown().await;
}

/// Connects expecting a failure, and checks it came fast.
async fn refused(opts: MonClientOptions) -> MonError {
    let t = Instant::now();
    let err = match MonClient::connect(opts).await {
        Ok(_) => panic!("connected"),
        Err(e) => e,
    };
    eprintln!(
        "refused after {:?}: {err} (errno {})",
        t.elapsed(),
        err.errno()
    );
    assert!(t.elapsed() <= FAIL_FAST, "{:?}", t.elapsed());
    err
}

#[tokio::test]
async fn crc_only_client_and_secure_only_monitor() {
    let key = random_key();
    let mut cfg = FakeMonConfig::new(name("client.admin"), key.clone());
    cfg.modes = vec![ConMode::Secure];
    let cluster = FakeCluster::start(3, cfg).await;
    let mut opts = options(&cluster, "client.admin", &key);
    opts.modes = vec![ConMode::Crc];
    let err = refused(opts).await;
    assert!(
        matches!(err, MonError::ConnectionModeNotAllowed(_)),
        "{err:?}"
    );
    assert_eq!(err.errno(), 93);
    let text = err.to_string();
    assert!(text.contains("secure") && text.contains("crc"), "{text}");

    // The same monitors with the default preference: secure is chosen.
    let client = admin_client(&cluster, &key).await;
    assert_eq!(client.status().con_mode, Some(ConMode::Secure));
    client.shutdown().await;
}

#[tokio::test]
async fn wrong_key_and_unknown_entity_are_refused_credentials() {
    let key = random_key();
    let cluster = cluster(3, "client.admin", &key, Duration::from_secs(60)).await;
    let err = refused(options(&cluster, "client.admin", &random_key())).await;
    assert!(matches!(err, MonError::Auth(_)), "{err:?}");
    assert_eq!(err.errno(), 13);
    let err = refused(options(&cluster, "client.nobody", &key)).await;
    assert!(matches!(err, MonError::Auth(_)), "{err:?}");
    assert_eq!(err.errno(), 13);
    // One attempt per monitor at most: no retry storm.
    let refusals: u64 = cluster.mons.iter().map(|m| m.stats().auth_refusals).sum();
    assert!(refusals <= 6, "{refusals} refusals for two connects");
}
