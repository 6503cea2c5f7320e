//! MonClient against in-process fake monitors (`ceph-fakemon`), for the
//! faults real monitors cannot be made to show: a frozen monitor, lost
//! keepalive acks, a monitor that is alive but serves nothing, one that
//! accepts and says nothing, malformed handshakes, all monitors dying.
//!
//! Three monitors per test, short timeouts (ping every 200 ms, 600 ms
//! ping timeout, 1 s stall timeout) so the whole file runs in a few seconds.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ceph_auth::CryptoKey;
use ceph_fakemon::{cephx::random_key, FakeCluster, FakeMon, FakeMonConfig};
use ceph_monclient::{MonClient, MonClientOptions, MonError, SessionState};
use ceph_msgr::frame::ConMode;

const PING_INTERVAL: Duration = Duration::from_millis(200);
const PING_TIMEOUT: Duration = Duration::from_millis(600);
const STALL_TIMEOUT: Duration = Duration::from_secs(1);
/// Room for scheduling and a handshake on a busy 2-core machine.
const SLACK: Duration = Duration::from_millis(400);

fn client_name() -> ceph_types::EntityName {
    "client.admin".parse().unwrap()
}

async fn cluster(key: &CryptoKey) -> FakeCluster {
    FakeCluster::start(3, FakeMonConfig::new(client_name(), key.clone())).await
}

fn options(cluster: &FakeCluster, key: &CryptoKey) -> MonClientOptions {
    let mut opts = MonClientOptions::new(client_name(), key.clone(), cluster.mon_addrs());
    let s = &mut opts.session;
    s.hunt_interval = Duration::from_millis(200);
    s.hunt_max_multiple = 3.0;
    s.ping_interval = PING_INTERVAL;
    s.ping_timeout = PING_TIMEOUT;
    s.stall_timeout = Some(STALL_TIMEOUT);
    s.hostname = "fake-monitor-test".into();
    opts.attempt_timeout = Duration::from_millis(500);
    opts.connect_timeout = Duration::from_secs(2);
    opts.seed = Some(7);
    opts
}

fn active_addr(client: &MonClient) -> Option<SocketAddr> {
    match client.status().state {
        SessionState::Active { addr, .. } => Some(addr),
        _ => None,
    }
}

/// The monitor the client is talking to.
fn active<'a>(cluster: &'a FakeCluster, client: &MonClient) -> &'a FakeMon {
    let addr = active_addr(client).expect("client has a session");
    cluster.by_addr(addr).expect("session is with one of ours")
}

async fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A `mon dump` tagged so its arrivals can be counted on every monitor.
fn tagged_dump(tag: &str) -> String {
    format!(r#"{{"prefix": "mon dump", "format": "json", "tag": "{tag}"}}"#)
}

/// (received, answered) of the command `cmd` on one monitor.
fn counts(mon: &FakeMon, cmd: &str) -> (usize, usize) {
    let s = mon.stats();
    let mine = s.commands.iter().filter(|c| c.cmd == [cmd.to_string()]);
    let (mut received, mut answered) = (0, 0);
    for c in mine {
        received += 1;
        answered += c.answered as usize;
    }
    (received, answered)
}

fn answered_total(cluster: &FakeCluster, cmd: &str) -> usize {
    cluster.mons.iter().map(|m| counts(m, cmd).1).sum()
}

#[tokio::test]
async fn connects_runs_a_command_and_gets_a_version_in_both_modes() {
    for (modes, expect) in [
        (vec![ConMode::Secure, ConMode::Crc], ConMode::Secure),
        (vec![ConMode::Crc], ConMode::Crc),
    ] {
        let key = random_key();
        let cluster = cluster(&key).await;
        let mut opts = options(&cluster, &key);
        opts.modes = modes;
        let client = MonClient::connect(opts).await.unwrap();
        let mon = active(&cluster, &client).clone();
        assert_eq!(client.status().global_id, mon.global_id());
        assert_eq!(mon.stats().sessions, vec![expect]);
        let map = client.monmap().unwrap();
        assert_eq!(map.epoch, cluster.monmap.epoch);
        assert_eq!(map.ranks(), cluster.monmap.ranks());

        let reply = client.command(tagged_dump("basic"), vec![]).await.unwrap();
        assert_eq!(reply.retval, 0, "{}", reply.outs);
        let json: serde_json::Value = serde_json::from_slice(&reply.outbl).unwrap();
        assert_eq!(json, cluster.monmap.to_json());
        let reply = client
            .command(r#"{"prefix": "no such thing"}"#, vec![])
            .await
            .unwrap();
        assert_eq!(reply.retval, -22);

        let v = client.get_version("osdmap", None).await.unwrap();
        assert_eq!((v.newest, v.oldest), (42, 1));
        assert_eq!(counts(&mon, &tagged_dump("basic")), (1, 1));
        assert!(mon.stats().monmaps_sent >= 1);
        client.shutdown().await;
    }
}

/// Puts the serving monitor into a fault, sends a command, and checks that
/// it completes on another monitor within `limit`, answered exactly once.
/// Returns the faulty monitor and how long the command took.
async fn command_survives(
    tag: &str,
    stall_timeout: Duration,
    fault: impl FnOnce(&FakeMon),
    limit: Duration,
) -> (FakeCluster, FakeMon, MonClient, Duration) {
    let key = random_key();
    let cluster = cluster(&key).await;
    let mut opts = options(&cluster, &key);
    opts.session.stall_timeout = Some(stall_timeout);
    let client = MonClient::connect(opts).await.unwrap();
    let bad = active(&cluster, &client).clone();
    // Let a keepalive round trip happen first, as in a settled session.
    wait_until("a keepalive ack", Duration::from_secs(2), || {
        bad.stats().keepalive_acks > 0
    })
    .await;
    fault(&bad);
    let cmd = tagged_dump(tag);
    let start = Instant::now();
    let reply = tokio::time::timeout(Duration::from_secs(5), client.command(cmd.clone(), vec![]))
        .await
        .expect("command completes")
        .unwrap();
    let took = start.elapsed();
    assert_eq!(reply.retval, 0);
    assert!(took < limit, "{tag}: took {took:?}, limit {limit:?}");
    let now = active_addr(&client).expect("a session");
    assert_ne!(now, bad.addr(), "{tag}: still on the faulty monitor");
    assert_eq!(counts(&bad, &cmd).1, 0, "{tag}: faulty monitor answered");
    assert_eq!(answered_total(&cluster, &cmd), 1, "{tag}: answered once");
    (cluster, bad, client, took)
}

#[tokio::test]
async fn a_frozen_monitor_is_left_within_the_ping_timeout() {
    // A stall timeout far away shows the keepalive timeout did the work.
    let limit = PING_TIMEOUT + SLACK;
    let (_cluster, bad, client, _) =
        command_survives("frozen", Duration::from_secs(5), |m| m.freeze(true), limit).await;
    // Frozen: it never even read the command.
    assert_eq!(counts(&bad, &tagged_dump("frozen")).0, 0);
    client.shutdown().await;
}

#[tokio::test]
async fn a_monitor_dropping_keepalive_acks_is_left_within_the_ping_timeout() {
    let limit = PING_TIMEOUT + SLACK;
    let (_cluster, bad, client, _) = command_survives(
        "no-acks",
        Duration::from_secs(5),
        |m| {
            m.drop_keepalive_acks(true);
            // Keep the command in flight there, so only the keepalive
            // timeout can move it.
            m.ignore_commands(true);
        },
        limit,
    )
    .await;
    let s = bad.stats();
    assert!(s.keepalives > s.keepalive_acks, "acks were dropped");
    assert_eq!(counts(&bad, &tagged_dump("no-acks")), (1, 0));
    client.shutdown().await;
}

#[tokio::test]
async fn a_monitor_alive_but_not_serving_is_left_after_the_stall_timeout() {
    let (_cluster, bad, client, took) = command_survives(
        "stalled",
        STALL_TIMEOUT,
        |m| m.ignore_commands(true),
        STALL_TIMEOUT + 2 * SLACK,
    )
    .await;
    // Keepalives kept working, so only the stall rule can have moved it.
    assert!(
        took >= STALL_TIMEOUT - Duration::from_millis(50),
        "moved after {took:?}"
    );
    let s = bad.stats();
    assert_eq!(s.keepalives, s.keepalive_acks);
    assert_eq!(counts(&bad, &tagged_dump("stalled")), (1, 0));
    client.shutdown().await;
}

#[tokio::test]
async fn a_silent_first_monitor_does_not_delay_connect() {
    let key = random_key();
    let cluster = cluster(&key).await;
    let silent = cluster.mons[0].clone();
    silent.accept_and_say_nothing(true);
    let mut opts = options(&cluster, &key);
    // A sequential hunt would wait this long on the silent monitor.
    opts.attempt_timeout = Duration::from_secs(2);
    opts.connect_timeout = Duration::from_secs(5);
    assert_eq!(opts.mon_addrs[0], silent.addrvec());
    let start = Instant::now();
    let client = MonClient::connect(opts).await.unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_millis(1000), "connect took {took:?}");
    assert_ne!(active_addr(&client), Some(silent.addr()));
    assert!(silent.stats().connections >= 1, "it was tried in parallel");
    assert!(silent.stats().sessions.is_empty());
    client.shutdown().await;
}

/// Switches `fault` on for every monitor, then checks that `connect` fails
/// within its timeout saying why, and that the client's last error is a
/// protocol error containing `why`.
async fn connect_fails_with(fault: impl Fn(&FakeMon), why: &str) {
    let key = random_key();
    let cluster = cluster(&key).await;
    for m in &cluster.mons {
        fault(m);
    }
    let mut opts = options(&cluster, &key);
    opts.connect_timeout = Duration::from_secs(1);
    let limit = opts.connect_timeout;
    let start = Instant::now();
    let err = MonClient::connect(opts.clone()).await.err().unwrap();
    let took = start.elapsed();
    assert!(took < limit + SLACK, "connect took {took:?}");
    match &err {
        MonError::TimedOut(after, context) => {
            assert_eq!(*after, limit);
            assert!(context.contains(why), "{why:?} not in {context:?}");
        }
        other => panic!("expected a timeout naming {why:?}, got {other:?}"),
    }
    // The typed error behind it, as the status reports it.
    let client = MonClient::start(opts).unwrap();
    wait_until("a failed attempt", Duration::from_secs(2), || {
        client.status().last_error.is_some()
    })
    .await;
    let last = client.status().last_error.unwrap();
    match last.as_ref() {
        MonError::Messenger(e) => {
            let text = e.to_string();
            assert!(text.contains(why), "{why:?} not in {text:?}");
            // The messenger's own error, typed, is the source.
            let source = std::error::Error::source(last.as_ref()).expect("a source");
            assert!(source
                .downcast_ref::<ceph_msgr::error::MsgrError>()
                .is_some());
        }
        other => panic!("expected a messenger error naming {why:?}, got {other:?}"),
    }
    client.shutdown().await;
    for m in &cluster.mons {
        assert!(m.stats().sessions.is_empty());
    }
}

#[tokio::test]
async fn a_garbage_banner_fails_connect_at_once() {
    // A peer that speaks neither msgr2 nor msgr1 will not change its mind:
    // connect ends at once with an error saying what it sent, not at the
    // timeout.
    let key = random_key();
    let cluster = cluster(&key).await;
    for m in &cluster.mons {
        m.send_garbage_banner(true);
    }
    let mut opts = options(&cluster, &key);
    opts.connect_timeout = Duration::from_secs(5);
    let start = Instant::now();
    let err = MonClient::connect(opts).await.err().unwrap();
    assert!(start.elapsed() < Duration::from_secs(2), "{err}");
    assert!(matches!(err, MonError::Incompatible(_)), "{err:?}");
    assert!(err.to_string().contains("neither msgr1 nor msgr2"), "{err}");
}

#[tokio::test]
async fn one_garbage_monitor_among_working_ones_does_not_end_connect() {
    // Only the whole list being incompatible is final: a working monitor
    // found within the grace wins, whichever the hunt tried first.
    for _ in 0..3 {
        let key = random_key();
        let cluster = cluster(&key).await;
        cluster.mons[0].send_garbage_banner(true);
        let mut opts = options(&cluster, &key);
        opts.connect_timeout = Duration::from_secs(10);
        let client = MonClient::connect(opts).await.unwrap();
        assert_ne!(active_addr(&client), Some(cluster.mons[0].addr()));
        client.shutdown().await;
    }
}

#[tokio::test]
async fn a_corrupt_crc_fails_connect_with_a_protocol_error() {
    connect_fails_with(|m| m.corrupt_next_frame_crc(true), "crc mismatch").await;
}

#[tokio::test]
async fn a_bad_auth_signature_fails_connect_with_a_protocol_error() {
    connect_fails_with(|m| m.bad_auth_signature(true), "AUTH_SIGNATURE").await;
}

#[tokio::test]
async fn a_huge_segment_length_fails_connect_with_a_protocol_error() {
    connect_fails_with(|m| m.huge_segment_length(true), "byte limit").await;
}

#[tokio::test]
async fn a_wrong_key_fails_connect_at_once() {
    let key = random_key();
    let cluster = cluster(&key).await;
    let mut opts = options(&cluster, &random_key());
    opts.connect_timeout = Duration::from_secs(5);
    let start = Instant::now();
    let err = MonClient::connect(opts).await.err().unwrap();
    assert!(matches!(err, MonError::Auth(_)), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(1));
    let refusals: u64 = cluster.mons.iter().map(|m| m.stats().auth_refusals).sum();
    assert!(refusals >= 1);

    // An entity the monitors do not know fails the same way.
    let mut opts = options(&cluster, &key);
    opts.name = "client.stranger".parse().unwrap();
    opts.connect_timeout = Duration::from_secs(5);
    let err = MonClient::connect(opts).await.err().unwrap();
    assert!(matches!(err, MonError::Auth(_)), "{err:?}");
}

#[tokio::test]
async fn commands_survive_all_monitors_dying_and_coming_back() {
    let key = random_key();
    let cluster = cluster(&key).await;
    let client = MonClient::connect(options(&cluster, &key)).await.unwrap();
    // A command left pending on the serving monitor when everything dies.
    for m in &cluster.mons {
        m.ignore_commands(true);
    }
    let before = tagged_dump("before-kill");
    let pending = tokio::spawn({
        let (c, cmd) = (client.clone(), before.clone());
        async move { c.command(cmd, vec![]).await }
    });
    wait_until(
        "the first command to arrive",
        Duration::from_secs(2),
        || cluster.mons.iter().any(|m| counts(m, &before).0 == 1),
    )
    .await;
    cluster.kill_all().await;
    for m in &cluster.mons {
        m.ignore_commands(false);
    }
    wait_until("the client to hunt", Duration::from_secs(2), || {
        client.status().state == SessionState::Hunting
    })
    .await;
    // A command issued while no monitor is up.
    let during = tagged_dump("while-hunting");
    let issued = tokio::spawn({
        let (c, cmd) = (client.clone(), during.clone());
        async move { c.command(cmd, vec![]).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!pending.is_finished() && !issued.is_finished());
    cluster.restart_all().await.unwrap();
    let limit = Duration::from_secs(3);
    let a = tokio::time::timeout(limit, pending).await.unwrap().unwrap();
    let b = tokio::time::timeout(limit, issued).await.unwrap().unwrap();
    assert_eq!(a.unwrap().retval, 0);
    assert_eq!(b.unwrap().retval, 0);
    assert_eq!(answered_total(&cluster, &before), 1);
    assert_eq!(answered_total(&cluster, &during), 1);
    // Sent once, on the new session only.
    let during_received: usize = cluster.mons.iter().map(|m| counts(m, &during).0).sum();
    assert_eq!(during_received, 1);
    client.shutdown().await;
}

#[tokio::test]
async fn shutdown_fails_pending_requests_with_shutting_down() {
    let key = random_key();
    let cluster = cluster(&key).await;
    let client = MonClient::connect(options(&cluster, &key)).await.unwrap();
    for m in &cluster.mons {
        m.ignore_commands(true);
    }
    let commands: Vec<_> = (0..2)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.command(tagged_dump(&format!("shut-{i}")), vec![]).await })
        })
        .collect();
    let version = tokio::spawn({
        let c = client.clone();
        async move { c.get_version("osdmap", None).await }
    });
    wait_until("every request to arrive", Duration::from_secs(2), || {
        let s = active(&cluster, &client).stats();
        s.commands.len() == 2 && s.version_requests.len() == 1
    })
    .await;
    client.shutdown().await;
    for c in commands {
        let r = c.await.unwrap();
        assert!(matches!(r, Err(MonError::ShuttingDown)), "{r:?}");
    }
    let r = version.await.unwrap();
    assert!(matches!(r, Err(MonError::ShuttingDown)), "{r:?}");
    assert_eq!(client.status().state, SessionState::Shutdown);
}

#[tokio::test]
async fn a_new_monmap_reaches_the_monmap_stream_decoded() {
    let key = random_key();
    let cluster = cluster(&key).await;
    let client = MonClient::connect(options(&cluster, &key)).await.unwrap();
    let first = client.status().monmap.expect("a MonMap on connect").epoch;
    let mut monmaps = client.monmaps();
    let mut events = client.events();
    // A newer map everywhere; the next session's subscription fetches it.
    for m in &cluster.mons {
        let mut map = m.monmap();
        map.epoch = first + 1;
        m.set_monmap(map);
    }
    active(&cluster, &client).close_all().await;
    let limit = Duration::from_secs(5);
    let map = tokio::time::timeout(limit, monmaps.next())
        .await
        .expect("a MonMap in time")
        .expect("not ended")
        .expect("decoded");
    assert_eq!(map.epoch, first + 1);
    assert_eq!(map.mon_info.len(), 3);
    // The raw receiver saw it too, as an event with its epoch.
    let event = tokio::time::timeout(limit, events.recv()).await.unwrap();
    assert!(
        matches!(event, Ok(ceph_monclient::ClusterEvent::MonMap { epoch }) if epoch == first + 1),
        "{event:?}"
    );
    client.shutdown().await;
    assert!(monmaps.next().await.is_none());
}
