//! Real msgr1 sessions: the `ceph` CLI (librados inside) against a real
//! monitor over msgr1, captured with tcpdump (see tests/data/README-v1.md).
//! The monitor's bytes are replayed through our client handshake, as they
//! arrived, up to an authenticated session and on through its messages;
//! the client's bytes are read as a monitor would read them. Every header
//! and segment crc is checked on the way (a mismatch is an error), and
//! the monitor's answer to `mon dump` is compared with what the CLI printed.

use ceph_msgr::auth::{AuthClient, AuthFailure, AuthKeys};
use ceph_msgr::message::Message;
use ceph_msgr::protocol::SessionEvent;
use ceph_msgr::v1::handshake::{AuthReply, ENTITY_TYPE_MON, MSG_AUTH, MSG_AUTH_REPLY};
use ceph_msgr::v1::wire::{ConnectMsg, BANNER, CONNECT_LEN, FOOTER_LEN, LEGACY_ADDR_LEN};
use ceph_msgr::v1::{ClientHandshakeV1, HandshakeConfigV1, SessionParams, SessionV1};
use ceph_types::features::CLIENT_FEATURES_ALL;

/// Per release, four connections: two CLI runs (`mon dump -f json`, then
/// `status -f json`), each a short bootstrap connection (MonMap and
/// configuration) and then the session that ran the command.
const RELEASES: [&str; 2] = ["v1-pacific", "v1-tentacle"];

fn recordings() -> Vec<String> {
    RELEASES
        .iter()
        .flat_map(|r| (0..4).map(move |n| format!("{r}.conn{n}")))
        .collect()
}

/// Bytes the client sends after CONNECT before messages: its in_seq when
/// the server answered TAG_SEQ (the CLI's bootstrap connection is not
/// lossy, so it gets one).
fn seq_bytes(conn: &str) -> usize {
    let s2c = read(&format!("{conn}.s2c.bin"));
    if s2c[9 + 2 * LEGACY_ADDR_LEN] == 13 {
        8
    } else {
        0
    }
}
/// MMonCommand and its ack.
const MSG_MON_COMMAND: u16 = 50;
const MSG_MON_COMMAND_ACK: u16 = 51;
/// MMonMap.
const MSG_MON_MAP: u16 = 4;

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The sizes of the server's TCP segments, in order.
fn s2c_chunks(conn: &str) -> Vec<usize> {
    String::from_utf8(read(&format!("{conn}.chunks.jsonl")))
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"s2c\""))
        .map(|l| {
            let len = l.split("\"len\": ").nth(1).unwrap();
            len.split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

/// Takes what the handshake hands it, answers as CephX would be asked to.
#[derive(Default)]
struct Recorder {
    more: Vec<Vec<u8>>,
    done: Option<(u64, Vec<u8>)>,
}

impl AuthClient for Recorder {
    fn method(&self) -> u32 {
        2
    }
    fn preferred_modes(&self) -> Vec<u32> {
        vec![1]
    }
    fn initial_payload(&mut self) -> Result<Vec<u8>, AuthFailure> {
        Ok(vec![10, 0, 0, 0, 0])
    }
    fn handle_reply_more(&mut self, payload: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        self.more.push(payload.to_vec());
        Ok(Vec::new())
    }
    fn handle_done(&mut self, id: u64, _: u32, payload: &[u8]) -> Result<AuthKeys, AuthFailure> {
        self.done = Some((id, payload.to_vec()));
        Ok(AuthKeys::default())
    }
}

#[test]
fn monitor_bytes_replay_to_a_session_with_every_crc_checked() {
    for conn in recordings() {
        let conn = conn.as_str();
        let s2c = read(&format!("{conn}.s2c.bin"));
        assert_eq!(&s2c[..9], BANNER);
        let mut auth = Recorder::default();
        let cfg = HandshakeConfigV1::client(ENTITY_TYPE_MON, CLIENT_FEATURES_ALL, 0);
        let mut hs = ClientHandshakeV1::new(cfg, &mut auth).unwrap();
        let mut at = 0;
        let mut ready = false;
        let chunks = s2c_chunks(conn);
        assert_eq!(chunks.iter().sum::<usize>(), s2c.len());
        let mut chunk_iter = chunks.iter();
        while !ready {
            let n = *chunk_iter.next().expect("the session gets ready");
            ready = hs.receive(&s2c[at..at + n]).unwrap();
            at += n;
        }
        let (mut session, info, early) = hs.into_session().unwrap();
        assert!(info.global_id > 0, "{conn}: a global id was assigned");
        let mut events = early;
        for &n in chunk_iter {
            events.extend(session.receive(&s2c[at..at + n]).unwrap());
            at += n;
        }
        assert_eq!(at, s2c.len());
        let (id, ticket) = auth.done.clone().expect("auth finished");
        assert_eq!(id, info.global_id);
        assert!(!ticket.is_empty());
        assert_eq!(auth.more.len(), 1, "one challenge before the ticket");
        let msgs: Vec<Message> = events
            .into_iter()
            .filter_map(|e| match e {
                SessionEvent::Message(m) => Some(m),
                _ => None,
            })
            .collect();
        assert!(msgs.iter().any(|m| m.ty == MSG_MON_MAP), "{conn}: a MonMap");
        // The last answer is the command's (the CLI asks for the command
        // descriptions first).
        let ack = msgs.iter().rev().find(|m| m.ty == MSG_MON_COMMAND_ACK);
        let session_conn = conn.ends_with("conn1") || conn.ends_with("conn3");
        assert_eq!(ack.is_some(), session_conn, "{conn}: the command's answer");
        if conn.ends_with("conn1") {
            // `mon dump -f json`: the monitor's output is what the CLI printed.
            let release = conn.split('.').next().unwrap();
            let printed = read(&format!("{release}.mon-dump.json"));
            let printed = String::from_utf8(printed).unwrap();
            let answered = String::from_utf8_lossy(&ack.unwrap().data).into_owned();
            assert!(
                answered.trim() == printed.trim(),
                "{conn}: the monitor's answer is not what the CLI printed"
            );
        }
    }
}

#[test]
fn client_bytes_read_as_a_monitor_reads_them() {
    for conn in recordings() {
        let conn = conn.as_str();
        let c2s = read(&format!("{conn}.c2s.bin"));
        assert_eq!(&c2s[..9], BANNER);
        let connect =
            ConnectMsg::decode(&c2s[9 + LEGACY_ADDR_LEN..9 + LEGACY_ADDR_LEN + CONNECT_LEN])
                .unwrap();
        // To a monitor: protocol 15 and no authorizer.
        assert_eq!(connect.protocol_version, 15);
        assert_eq!(
            (connect.authorizer_protocol, connect.authorizer_len),
            (0, 0)
        );
        assert_eq!(connect.host_type, 8);
        let mut session = SessionV1::new(SessionParams {
            features: connect.features & CLIENT_FEATURES_ALL,
            src_type: 1,
            src_num: 0,
            max_message_len: 1 << 20,
            signing: None,
        });
        let rest = &c2s[9 + LEGACY_ADDR_LEN + CONNECT_LEN + seq_bytes(conn)..];
        let events = session.receive(rest).unwrap();
        let msgs: Vec<Message> = events
            .into_iter()
            .filter_map(|e| match e {
                SessionEvent::Message(m) => Some(m),
                _ => None,
            })
            .collect();
        let types: Vec<u16> = msgs.iter().map(|m| m.ty).collect();
        // Negotiation, then the CephX request, then the session's work.
        assert_eq!(&types[..2], [MSG_AUTH, MSG_AUTH], "{conn}: {types:?}");
        let session_conn = conn.ends_with("conn1") || conn.ends_with("conn3");
        assert_eq!(
            types.contains(&MSG_MON_COMMAND),
            session_conn,
            "{conn}: {types:?}"
        );
        // Message signatures are not used on client-monitor msgr1 sessions
        // (no authorizer, so no session key on the connection): the
        // footers carry none.
        let mut at = 0;
        let mut unsigned = 0;
        while at < rest.len() {
            match rest[at] {
                7 => {
                    let h = ceph_msgr::v1::wire::MsgHeader::decode(&rest[at + 1..at + 54]).unwrap();
                    let body = (h.front_len + h.middle_len + h.data_len) as usize;
                    let footer = &rest[at + 54 + body..at + 54 + body + FOOTER_LEN];
                    assert_eq!(&footer[12..20], &[0; 8], "{conn}: no signature");
                    assert_eq!(footer[20] & 4, 0, "{conn}: not flagged signed");
                    unsigned += 1;
                    at += 54 + body + FOOTER_LEN;
                }
                8 | 14 | 15 => at += 9,
                other => panic!("{conn}: tag {other} at {at}"),
            }
        }
        assert_eq!(unsigned, msgs.len());
    }
}

#[test]
fn negotiation_and_replies_decode() {
    for conn in recordings() {
        let s2c = read(&format!("{conn}.s2c.bin"));
        // The first message after CONNECT_REPLY (26 bytes, and the acked seq
        // after TAG_SEQ) is the negotiation's MAuthReply: CephX chosen, a
        // global id assigned.
        let start = 9 + 2 * LEGACY_ADDR_LEN + 26 + seq_bytes(&conn);
        let mut session = SessionV1::new(SessionParams {
            features: CLIENT_FEATURES_ALL,
            src_type: 8,
            src_num: -1,
            max_message_len: 1 << 20,
            signing: None,
        });
        let events = session.receive(&s2c[start..]).unwrap();
        let first = events
            .iter()
            .find_map(|e| match e {
                SessionEvent::Message(m) => Some(m),
                _ => None,
            })
            .expect("a message");
        assert_eq!(first.ty, MSG_AUTH_REPLY);
        let reply = AuthReply::decode(&first.front).unwrap();
        assert_eq!(reply.protocol, 2);
        // Not done yet (0 or EAGAIN, by release): the server challenge
        // follows in the payload.
        assert!(
            reply.result == 0 || reply.result == -11,
            "{conn}: {}",
            reply.result
        );
        assert!(!reply.payload.is_empty());
        assert!(reply.global_id > 0);
    }
}
