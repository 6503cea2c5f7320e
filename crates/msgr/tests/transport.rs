//! The tokio transport against a small scripted msgr2 server on loopback,
//! which checks and produces AUTH_SIGNATUREs with a known session key.

use bytes::BytesMut;
use ceph_msgr::auth::{AuthClient, AuthFailure, AuthKeys};
use ceph_msgr::connection::{ConnectOptions, Connection, Event};
use ceph_msgr::error::MsgrError;
use ceph_msgr::frame::{align, Banner, ConMode, Frame, FrameCodec, Tag};
use ceph_msgr::message::Message;
use ceph_msgr::payload::*;
use ceph_msgr::protocol::signature;
use ceph_types::{EntityAddrVec, EntityName, UTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &[u8] = b"0123456789abcdef";

fn secret() -> Vec<u8> {
    (100u8..164).collect()
}

struct TestAuth {
    mode: u32,
}

impl AuthClient for TestAuth {
    fn method(&self) -> u32 {
        2
    }
    fn preferred_modes(&self) -> Vec<u32> {
        vec![self.mode]
    }
    fn initial_payload(&mut self) -> Result<Vec<u8>, AuthFailure> {
        Ok(b"hi".to_vec())
    }
    fn handle_reply_more(&mut self, p: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        Ok(p.iter().rev().copied().collect())
    }
    fn handle_done(&mut self, _gid: u64, _mode: u32, _p: &[u8]) -> Result<AuthKeys, AuthFailure> {
        Ok(AuthKeys {
            session_key: KEY.to_vec(),
            connection_secret: secret(),
        })
    }
}

struct Peer {
    sock: TcpStream,
    codec: FrameCodec,
    buf: BytesMut,
    rx_log: Vec<u8>,
    tx_log: Vec<u8>,
}

impl Peer {
    async fn fill(&mut self) {
        let mut b = [0u8; 4096];
        let n = self.sock.read(&mut b).await.unwrap();
        assert!(n > 0, "client closed");
        self.buf.extend_from_slice(&b[..n]);
        self.rx_log.extend_from_slice(&b[..n]);
    }
    async fn frame(&mut self) -> Frame {
        loop {
            if let Some(f) = self.codec.decode(&mut self.buf).unwrap() {
                return f;
            }
            self.fill().await;
        }
    }
    async fn send<P: ControlPayload>(&mut self, p: &P) {
        let bytes = self
            .codec
            .encode(P::TAG, &[(&p.to_payload(), align::DEFAULT)])
            .unwrap();
        self.write(&bytes).await;
    }
    async fn write(&mut self, bytes: &[u8]) {
        self.tx_log.extend_from_slice(bytes);
        self.sock.write_all(bytes).await.unwrap();
    }
}

/// Serves one connection: banner, HELLO, one challenge round, AUTH_DONE,
/// signatures, idents; then echoes messages back and answers keepalives.
async fn serve(listener: TcpListener, corrupt_signature: bool) -> Result<(), String> {
    let (sock, _) = listener.accept().await.unwrap();
    let client = sock.peer_addr().unwrap();
    let mut p = Peer {
        sock,
        codec: FrameCodec::default(),
        buf: BytesMut::new(),
        rx_log: Vec::new(),
        tx_log: Vec::new(),
    };
    p.write(
        &Banner {
            supported: 1,
            required: 0,
        }
        .encode(),
    )
    .await;
    while p.buf.len() < 26 {
        p.fill().await;
    }
    Banner::parse(&mut p.buf).unwrap().unwrap();
    let hello = Hello::from_payload(p.frame().await.payload()).unwrap();
    assert_eq!(hello.entity_type, 8);
    let mut seen = hello.peer_addr;
    seen.addr = Some(client);
    p.send(&Hello {
        entity_type: 1,
        peer_addr: seen,
    })
    .await;
    let req = AuthRequest::from_payload(p.frame().await.payload()).unwrap();
    assert_eq!(req.payload, b"hi");
    p.send(&AuthReplyMore {
        payload: b"abc".to_vec(),
    })
    .await;
    let more = AuthRequestMore::from_payload(p.frame().await.payload()).unwrap();
    assert_eq!(more.payload, b"cba");
    let mode = req.preferred_modes[0];
    p.send(&AuthDone {
        global_id: 4242,
        con_mode: mode,
        payload: vec![],
    })
    .await;
    let client_sent = p.rx_log.len() - p.buf.len();
    let expected_from_client = signature(KEY, &p.tx_log);
    if mode == 2 {
        p.codec.enable_secure(&secret(), true).unwrap();
    }
    let mut sig = signature(KEY, &p.rx_log[..client_sent]);
    if corrupt_signature {
        sig[0] ^= 1;
    }
    p.send(&AuthSignature { sha256: sig }).await;
    let theirs = AuthSignature::from_payload(p.frame().await.payload()).unwrap();
    if theirs.sha256 != expected_from_client {
        return Err("client signature wrong".into());
    }
    let ident = ClientIdent::from_payload(p.frame().await.payload()).unwrap();
    assert_eq!(ident.gid, 4242);
    p.send(&ServerIdent {
        addrs: EntityAddrVec::from(hello.peer_addr),
        gid: 0,
        global_seq: 9,
        supported_features: ident.supported_features,
        required_features: 0,
        flags: 1,
        cookie: 0,
    })
    .await;
    let mut out_seq = 0;
    loop {
        let f = p.frame().await;
        match f.tag {
            Tag::Message => {
                let (h, m) = Message::from_frame(&f).unwrap();
                out_seq += 1;
                let header = m.header(out_seq, h.seq).encode();
                let bytes = p.codec.encode(Tag::Message, &m.segments(&header)).unwrap();
                p.write(&bytes).await;
            }
            Tag::Keepalive2 => {
                let k = Keepalive2::from_payload(f.payload()).unwrap();
                p.send(&Keepalive2Ack { stamp: k.stamp }).await;
            }
            Tag::Ack => {}
            other => return Err(format!("unexpected {other:?}")),
        }
    }
}

async fn run(
    mode: u32,
    corrupt: bool,
) -> (
    Result<Connection, MsgrError>,
    tokio::task::JoinHandle<Result<(), String>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, corrupt));
    let opts = ConnectOptions::new(
        "client.admin".parse::<EntityName>().unwrap(),
        u64::MAX >> 4,
        0,
    );
    let mut auth = TestAuth { mode };
    (Connection::connect(addr, &opts, &mut auth).await, server)
}

#[tokio::test]
async fn connects_and_exchanges_messages_in_both_modes() {
    for (mode, expect) in [(1, ConMode::Crc), (2, ConMode::Secure)] {
        let (conn, _server) = run(mode, false).await;
        let mut conn = conn.unwrap();
        assert_eq!(conn.mode(), expect);
        assert_eq!(conn.global_id(), 4242);
        let sender = conn.sender();
        let from_task = tokio::spawn(async move {
            sender.send(Message::new(15, 3, 1, &b"front"[..])).unwrap();
            sender.keepalive(UTime::new(7, 8)).unwrap();
        });
        from_task.await.unwrap();
        // Keepalives may overtake messages not yet written, so the two
        // answers come in either order.
        let (mut echoed, mut acked) = (false, false);
        while !(echoed && acked) {
            match conn.recv().await.unwrap() {
                Event::Message(m) if !echoed => {
                    assert_eq!((m.ty, m.seq, m.front.as_ref()), (15, 1, &b"front"[..]));
                    echoed = true;
                }
                Event::KeepaliveAck(t) if !acked => {
                    assert_eq!(t, UTime::new(7, 8));
                    acked = true;
                }
                e => panic!("{e:?}"),
            }
        }
    }
}

#[tokio::test]
async fn a_wrong_server_signature_fails_the_handshake() {
    let (conn, _server) = run(1, true).await;
    assert!(matches!(conn.unwrap_err(), MsgrError::SignatureMismatch));
}

#[tokio::test]
async fn a_non_msgr2_peer_is_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"ceph v027 legacy banner").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    });
    let opts = ConnectOptions::new("client.admin".parse::<EntityName>().unwrap(), 0, 0);
    let err = Connection::connect(addr, &opts, &mut TestAuth { mode: 1 })
        .await
        .unwrap_err();
    // Told apart: the peer speaks msgr1 (so a caller can fall back to it).
    assert!(
        matches!(err, MsgrError::PeerBanner(ceph_msgr::v1::PeerBanner::Msgr1)),
        "{err}"
    );
}

#[tokio::test]
async fn keepalives_overtake_queued_messages_and_reads_mark_the_peer_alive() {
    let (conn, _server) = run(2, false).await;
    let mut conn = conn.unwrap();
    let heard = conn.last_heard();
    let before = heard.get();
    // Twenty megabytes of messages queued at once, then a keepalive.
    const QUEUED: usize = 5000;
    let sender = conn.sender();
    for _ in 0..QUEUED {
        sender
            .send(Message::new(15, 3, 1, vec![7u8; 4096]))
            .unwrap();
    }
    sender.keepalive(UTime::new(1, 2)).unwrap();
    // The peer's answers are read (and the time noted) whether or not
    // anyone takes the events.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while heard.get() == before {
        assert!(tokio::time::Instant::now() < deadline, "nothing heard");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut messages_before_ack = 0;
    loop {
        match conn.recv().await.unwrap() {
            Event::Message(_) => messages_before_ack += 1,
            Event::KeepaliveAck(t) => {
                assert_eq!(t, UTime::new(1, 2));
                break;
            }
            e => panic!("{e:?}"),
        }
    }
    // It waited behind at most what was already encoded (a few hundred
    // KiB), not behind the whole queue.
    assert!(
        messages_before_ack < QUEUED / 4,
        "the keepalive came back after {messages_before_ack} of {QUEUED} messages"
    );
}
