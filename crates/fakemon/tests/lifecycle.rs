//! The fake monitor driven by the msgr2 client transport directly:
//! handshake in both modes, keepalives, close_all, kill and restart on the
//! same port.

use std::time::Duration;

use ceph_auth::{CephxClient, CryptoKey};
use ceph_fakemon::{cephx::random_key, FakeMon, FakeMonConfig};
use ceph_msgr::auth::{AuthClient, AuthFailure, AuthFailureReason, AuthKeys};
use ceph_msgr::connection::{ConnectOptions, Connection, Event};
use ceph_msgr::frame::ConMode;
use ceph_types::features::{CLIENT_FEATURES_ALL, CLIENT_FEATURES_REQUIRED};
use ceph_types::UTime;

struct Cephx {
    client: CephxClient,
    modes: Vec<u32>,
}

fn fail(e: ceph_auth::AuthError) -> AuthFailure {
    AuthFailure::new(AuthFailureReason::BadReply, e.to_string())
}

impl AuthClient for Cephx {
    fn method(&self) -> u32 {
        2
    }
    fn preferred_modes(&self) -> Vec<u32> {
        self.modes.clone()
    }
    fn initial_payload(&mut self) -> Result<Vec<u8>, AuthFailure> {
        Ok(self.client.initial_auth_payload())
    }
    fn handle_reply_more(&mut self, p: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        self.client.handle_reply_more(p).map_err(fail)
    }
    fn handle_done(&mut self, gid: u64, _mode: u32, p: &[u8]) -> Result<AuthKeys, AuthFailure> {
        let out = self.client.handle_done(gid, p).map_err(fail)?;
        Ok(AuthKeys {
            session_key: out.session_key.secret().to_vec(),
            connection_secret: out.connection_secret,
        })
    }
}

async fn connect(mon: &FakeMon, key: &CryptoKey, mode: ConMode) -> Result<Connection, String> {
    let name = "client.admin".parse().unwrap();
    let mut opts = ConnectOptions::new(name, CLIENT_FEATURES_ALL, CLIENT_FEATURES_REQUIRED);
    opts.connect_timeout = Duration::from_secs(2);
    let mut auth = Cephx {
        client: CephxClient::new("client.admin".parse().unwrap(), key.clone()),
        modes: vec![mode.wire()],
    };
    Connection::connect(mon.addr(), &opts, &mut auth)
        .await
        .map_err(|e| e.to_string())
}

async fn next_event(conn: &mut Connection) -> Event {
    tokio::time::timeout(Duration::from_secs(2), conn.recv())
        .await
        .expect("an event in time")
        .expect("event stream open")
}

#[tokio::test]
async fn handshakes_in_both_modes_and_acks_keepalives() {
    let key = random_key();
    let mon = FakeMon::start(FakeMonConfig::new(
        "client.admin".parse().unwrap(),
        key.clone(),
    ))
    .await;
    for mode in [ConMode::Crc, ConMode::Secure] {
        let mut conn = connect(&mon, &key, mode).await.unwrap();
        assert_eq!(conn.mode(), mode);
        assert_eq!(conn.global_id(), mon.global_id());
        let stamp = UTime::new(1234, 5);
        conn.sender().keepalive(stamp).unwrap();
        assert_eq!(next_event(&mut conn).await, Event::KeepaliveAck(stamp));
    }
    let s = mon.stats();
    assert_eq!(s.sessions, vec![ConMode::Crc, ConMode::Secure]);
    assert_eq!((s.keepalives, s.keepalive_acks), (2, 2));

    mon.drop_keepalive_acks(true);
    let mut conn = connect(&mon, &key, ConMode::Crc).await.unwrap();
    conn.sender().keepalive(UTime::new(1, 0)).unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(200), conn.recv()).await;
    assert!(quiet.is_err(), "no ack expected, got {quiet:?}");
}

#[tokio::test]
async fn close_all_kill_and_restart_on_the_same_port() {
    let key = random_key();
    let mon = FakeMon::start(FakeMonConfig::new(
        "client.admin".parse().unwrap(),
        key.clone(),
    ))
    .await;
    let addr = mon.addr();
    let mut conn = connect(&mon, &key, ConMode::Crc).await.unwrap();
    mon.close_all().await;
    assert!(matches!(next_event(&mut conn).await, Event::Closed(_)));
    assert!(mon.is_running());

    let mut conn = connect(&mon, &key, ConMode::Secure).await.unwrap();
    mon.kill().await;
    assert!(!mon.is_running());
    assert!(matches!(next_event(&mut conn).await, Event::Closed(_)));
    assert!(connect(&mon, &key, ConMode::Crc).await.is_err());

    mon.restart().await.unwrap();
    assert_eq!(mon.addr(), addr);
    connect(&mon, &key, ConMode::Crc).await.unwrap();
    assert_eq!(mon.stats().sessions.len(), 3);
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_eacces() {
    let mon = FakeMon::start(FakeMonConfig::new(
        "client.admin".parse().unwrap(),
        random_key(),
    ))
    .await;
    let err = connect(&mon, &random_key(), ConMode::Crc)
        .await
        .unwrap_err();
    assert!(err.contains("errno -13"), "{err}");
    assert_eq!(mon.stats().auth_refusals, 1);
}
