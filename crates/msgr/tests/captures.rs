//! Real msgr2 sessions (Ceph 16.2.15 CLI against a Pacific monitor).

use bytes::BytesMut;
use ceph_msgr::auth::{AuthClient, AuthFailure, AuthKeys};
use ceph_msgr::frame::{features, Banner, Frame, FrameCodec, Tag};
use ceph_msgr::message::Message;
use ceph_msgr::payload::*;
use ceph_msgr::protocol::{
    ClientHandshake, HandshakeConfig, HandshakeState, HandshakeStatus, SessionEvent,
};
use ceph_types::EntityAddrType;

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Parses a direction's banner and frames; in secure captures stops at the
/// switch to encryption (after AUTH_DONE / the client's last auth frame).
fn frames(name: &str, plaintext_only: bool) -> (Banner, Vec<Frame>, usize) {
    let data = read(name);
    let mut buf = BytesMut::from(&data[..]);
    let banner = Banner::parse(&mut buf).unwrap().unwrap();
    let mut codec = FrameCodec::default();
    let mut out = Vec::new();
    while !buf.is_empty() {
        if plaintext_only
            && out
                .iter()
                .any(|f: &Frame| f.tag == Tag::AuthDone || f.tag == Tag::AuthRequestMore)
        {
            break;
        }
        out.push(
            codec
                .decode(&mut buf)
                .unwrap()
                .expect("capture holds whole frames"),
        );
    }
    (banner, out, buf.len())
}

fn tags(fs: &[Frame]) -> Vec<Tag> {
    fs.iter().map(|f| f.tag).collect()
}

#[test]
fn crc_captures_parse_completely_and_payloads_decode() {
    for conn in ["crc.conn0", "crc.conn1"] {
        for dir in ["c2s", "s2c"] {
            let (banner, fs, left) = frames(&format!("{conn}.{dir}.bin"), false);
            assert_eq!(left, 0, "{conn}.{dir}: trailing bytes");
            assert_eq!((banner.supported, banner.required), (1, 0));
            for f in &fs {
                if f.tag == Tag::Message {
                    let (h, m) = Message::from_frame(f).unwrap();
                    assert_eq!(h.seq, m.seq);
                    assert!(m.seq > 0);
                } else {
                    Control::decode(f.tag, f.payload())
                        .unwrap_or_else(|e| panic!("{conn}.{dir} {:?}: {e}", f.tag))
                        .expect("a control frame");
                }
            }
        }
        let (_, c2s, _) = frames(&format!("{conn}.c2s.bin"), false);
        assert_eq!(
            &tags(&c2s)[..5],
            [
                Tag::Hello,
                Tag::AuthRequest,
                Tag::AuthRequestMore,
                Tag::AuthSignature,
                Tag::ClientIdent
            ]
        );
        let (_, s2c, _) = frames(&format!("{conn}.s2c.bin"), false);
        assert_eq!(
            &tags(&s2c)[..5],
            [
                Tag::Hello,
                Tag::AuthReplyMore,
                Tag::AuthDone,
                Tag::AuthSignature,
                Tag::ServerIdent
            ]
        );
    }
}

#[test]
fn decoded_payloads_have_the_recorded_values() {
    let (_, c2s, _) = frames("crc.conn0.c2s.bin", false);
    let hello = Hello::from_payload(c2s[0].payload()).unwrap();
    assert_eq!(hello.entity_type, 8);
    assert_eq!(hello.peer_addr.to_string(), "v2:127.0.0.1:20100/0");
    let req = AuthRequest::from_payload(c2s[1].payload()).unwrap();
    assert_eq!((req.method, req.preferred_modes.clone()), (2, vec![1]));
    let ident = ClientIdent::from_payload(c2s[4].payload()).unwrap();
    // The CLI's bootstrap connection is lossless (it has a cookie); its
    // command session (conn1) is lossy.
    assert_eq!(ident.flags, 0);
    assert_ne!(ident.cookie, 0);
    assert_eq!(ident.gid, -1);
    let (_, c2s1, _) = frames("crc.conn1.c2s.bin", false);
    let ident1 = ClientIdent::from_payload(c2s1[4].payload()).unwrap();
    assert_eq!((ident1.flags, ident1.cookie), (CONNECT_LOSSY, 0));
    assert_eq!(ident.addrs.addrs[0].ty, EntityAddrType::Any);
    assert_eq!(ident.target_addr.to_string(), "v2:127.0.0.1:20100/0");
    // Round trip: our encoder reproduces Ceph's bytes exactly.
    assert_eq!(ident.to_payload(), c2s[4].payload().to_vec());
    assert_eq!(hello.to_payload(), c2s[0].payload().to_vec());

    let (_, s2c, _) = frames("crc.conn0.s2c.bin", false);
    let done = AuthDone::from_payload(s2c[2].payload()).unwrap();
    assert_eq!(done.con_mode, 1);
    assert!(done.global_id > 0);
    let sident = ServerIdent::from_payload(s2c[4].payload()).unwrap();
    assert_eq!(sident.addrs.addrs[0].to_string(), "v2:127.0.0.1:20100/0");
    assert_eq!(sident.to_payload(), s2c[4].payload().to_vec());
}

#[test]
fn secure_captures_parse_until_encryption_starts() {
    for conn in ["secure.conn0", "secure.conn1"] {
        let (_, c2s, left) = frames(&format!("{conn}.c2s.bin"), true);
        assert_eq!(
            tags(&c2s),
            [Tag::Hello, Tag::AuthRequest, Tag::AuthRequestMore]
        );
        assert!(left > 0, "encrypted frames follow");
        let req = AuthRequest::from_payload(c2s[1].payload()).unwrap();
        assert_eq!(req.preferred_modes, vec![2]);
        let (_, s2c, _) = frames(&format!("{conn}.s2c.bin"), true);
        assert_eq!(tags(&s2c), [Tag::Hello, Tag::AuthReplyMore, Tag::AuthDone]);
        assert_eq!(
            AuthDone::from_payload(s2c[2].payload()).unwrap().con_mode,
            2
        );
    }
}

/// Plays back the client's recorded CephX payloads.
struct ScriptedAuth {
    initial: Vec<u8>,
    more: Vec<Vec<u8>>,
    done: Option<(u64, u32)>,
}

impl AuthClient for ScriptedAuth {
    fn method(&self) -> u32 {
        2
    }
    fn preferred_modes(&self) -> Vec<u32> {
        vec![1]
    }
    fn initial_payload(&mut self) -> Result<Vec<u8>, AuthFailure> {
        Ok(self.initial.clone())
    }
    fn handle_reply_more(&mut self, _payload: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        Ok(self.more.remove(0))
    }
    fn handle_done(
        &mut self,
        global_id: u64,
        con_mode: u32,
        _payload: &[u8],
    ) -> Result<AuthKeys, AuthFailure> {
        self.done = Some((global_id, con_mode));
        // No session key: CephX is not run here, so the replay cannot
        // check AUTH_SIGNATURE (see the synthetic tests for that).
        Ok(AuthKeys::default())
    }
}

fn chunks(conn: &str) -> Vec<(bool, usize)> {
    String::from_utf8(read(&format!("{conn}.chunks.jsonl")))
        .unwrap()
        .lines()
        .map(|l| {
            let dir_s2c = l.contains("\"s2c\"");
            let len = l
                .split("\"len\": ")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            (dir_s2c, len)
        })
        .collect()
}

#[test]
fn replay_monitor_side_reaches_ready_and_delivers_messages() {
    for conn in ["crc.conn0", "crc.conn1"] {
        let (_, c2s, _) = frames(&format!("{conn}.c2s.bin"), false);
        let ident = ClientIdent::from_payload(c2s[4].payload()).unwrap();
        let mut auth = ScriptedAuth {
            initial: AuthRequest::from_payload(c2s[1].payload()).unwrap().payload,
            more: vec![
                AuthRequestMore::from_payload(c2s[2].payload())
                    .unwrap()
                    .payload,
            ],
            done: None,
        };
        let mut cfg = HandshakeConfig::client(
            ident.target_addr,
            ident.supported_features,
            ident.required_features,
        );
        cfg.nonce = ident.addrs.addrs[0].nonce;
        cfg.gid = Some(ident.gid);
        cfg.global_seq = ident.global_seq;
        cfg.cookie = Some(ident.cookie);
        cfg.lossy = ident.flags & CONNECT_LOSSY != 0;
        cfg.verify_signature = false;
        let mut hs = ClientHandshake::new(cfg, &mut auth);
        let mut sent = hs.take_output();

        let s2c = read(&format!("{conn}.s2c.bin"));
        let mut at = 0;
        let mut status = HandshakeStatus::InProgress;
        for (from_server, len) in chunks(conn) {
            if !from_server || status == HandshakeStatus::Ready {
                continue;
            }
            status = hs.receive(&s2c[at..at + len]).unwrap();
            at += len;
            sent.extend(hs.take_output());
        }
        assert_eq!(status, HandshakeStatus::Ready, "{conn}");
        assert_eq!(hs.state(), HandshakeState::Ready);

        // Everything we sent matches the recording frame by frame, except
        // the signature (we had no session key).
        let recorded = read(&format!("{conn}.c2s.bin"));
        let mut ours = BytesMut::from(&sent[..]);
        let mut theirs = BytesMut::from(&recorded[..]);
        // Pacific's client did not offer msgr2.1 compression negotiation;
        // we do (and ask for none), which is the only banner difference.
        let mut our_banner = Banner::parse(&mut ours).unwrap().unwrap();
        assert_ne!(our_banner.supported & features::COMPRESSION, 0);
        our_banner.supported &= !features::COMPRESSION;
        assert_eq!(Some(our_banner), Banner::parse(&mut theirs).unwrap());
        let (mut c1, mut c2) = (FrameCodec::default(), FrameCodec::default());
        let mut n = 0;
        while let Some(f) = c1.decode(&mut ours).unwrap() {
            let g = c2.decode(&mut theirs).unwrap().unwrap();
            assert_eq!(f.tag, g.tag);
            if f.tag == Tag::AuthSignature {
                assert_eq!(f.payload().as_ref(), [0u8; 32]);
            } else {
                assert_eq!(f, g, "{conn}: {:?} differs", f.tag);
            }
            n += 1;
        }
        assert_eq!(n, 5);

        let (mut session, info) = hs.into_session().unwrap();
        assert_eq!(Some((info.global_id, 1)), auth.done);
        assert_eq!(
            info.my_addr_seen_by_peer.addr.unwrap().ip().to_string(),
            "127.0.0.1"
        );
        let mut events = session.receive(&s2c[at..]).unwrap();
        events.extend(session.receive(&[]).unwrap());
        let (_, s2c_frames, _) = frames(&format!("{conn}.s2c.bin"), false);
        let expected = s2c_frames.iter().filter(|f| f.tag == Tag::Message).count();
        assert_eq!(events.len(), expected);
        for (i, e) in events.iter().enumerate() {
            let SessionEvent::Message(m) = e else {
                panic!("not a message")
            };
            assert_eq!(m.seq, i as u64 + 1);
        }
        assert_eq!(session.in_seq(), expected as u64);
        // An ACK for them is queued.
        let out = session.take_output();
        let mut b = BytesMut::from(&out[..]);
        let f = FrameCodec::default().decode(&mut b).unwrap().unwrap();
        assert_eq!(Ack::from_payload(f.payload()).unwrap().seq, expected as u64);
    }
}
