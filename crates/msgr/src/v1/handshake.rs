//! The msgr1 client handshake as an I/O-free state machine.
//!
//! Banners, then the server's address and ours as it sees us, then our
//! address and CONNECT; the server answers CONNECT_REPLY (retry, refusal,
//! an authorizer challenge, or READY). Towards a daemon CONNECT carries a
//! CephX authorizer, and a `TAG_CHALLENGE_AUTHORIZER` reply asks for it to
//! be redone with the server's challenge. Towards a monitor CONNECT
//! carries none: authentication runs afterwards in MAuth / MAuthReply
//! messages, which this handshake also carries out, so that a caller gets
//! an authenticated connection either way, as from msgr2.

use bytes::{Buf, BytesMut};
use ceph_denc::{encode_bytes, Decode, Decoder, Encode};
use ceph_types::{EntityAddr, EntityAddrType, EntityAddrVec};

use super::session::{SessionParams, SessionV1, DEFAULT_MAX_MESSAGE_LEN};
use super::sign::SigningKey;
use super::wire::{
    client_protocol_version, ConnectMsg, ConnectReply, PeerBanner, Tag, BANNER, CONNECT_FLAG_LOSSY,
    CONNECT_REPLY_LEN, LEGACY_ADDR_LEN,
};
use crate::auth::{AuthClient, AuthFailure, AuthFailureReason, AuthKeys};
use crate::error::MsgrError;
use crate::frame::ConMode;
use crate::message::Message;
use crate::protocol::{SessionEvent, SessionInfo, ENTITY_TYPE_CLIENT};

/// Entity type code of a monitor.
pub const ENTITY_TYPE_MON: u32 = 0x01;
/// Message type of MAuth.
pub const MSG_AUTH: u16 = 17;
/// Message type of MAuthReply.
pub const MSG_AUTH_REPLY: u16 = 18;
/// First byte of the msgr2-style monitor auth request an [`AuthClient`]
/// produces (`AUTH_MODE_MON`).
const AUTH_MODE_MON: u8 = 10;
/// Largest authorizer or authorizer reply accepted.
const MAX_AUTHORIZER_LEN: u32 = 64 * 1024;
/// CONNECT attempts (retries and challenges) before giving up.
const MAX_CONNECT_ROUNDS: u32 = 8;
/// MAuth round trips before giving up.
const MAX_AUTH_ROUNDS: u32 = 8;
const EAGAIN: i32 = 11;

/// What the handshake needs to know about us and the peer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HandshakeConfigV1 {
    /// Our entity type code (client = 8).
    pub entity_type: u8,
    /// The peer's entity type code (monitor = 1, OSD = 4, manager = 0x10).
    pub peer_type: u32,
    /// Our nonce, sent in our address.
    pub nonce: u32,
    /// Ceph features we support.
    pub features_supported: u64,
    /// Ceph features the peer must have.
    pub features_required: u64,
    /// Our global sequence number for the first CONNECT.
    pub global_seq: u32,
    /// Largest message accepted from the peer.
    pub max_message_len: u64,
}

impl HandshakeConfigV1 {
    /// A client connecting to a peer of type `peer_type`.
    pub fn client(peer_type: u32, features_supported: u64, features_required: u64) -> Self {
        HandshakeConfigV1 {
            entity_type: ENTITY_TYPE_CLIENT,
            peer_type,
            nonce: rand::random(),
            features_supported,
            features_required,
            global_seq: 1,
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
        }
    }
}

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeStateV1 {
    /// Waiting for the server's banner and addresses.
    Banner,
    /// CONNECT sent; waiting for CONNECT_REPLY.
    Connect,
    /// TAG_SEQ received; waiting for the server's acked sequence number.
    Seq,
    /// Connected to a monitor; MAuth sent, waiting for MAuthReply.
    MonAuth,
    /// Done.
    Ready,
}

/// The msgr1 client handshake.
pub struct ClientHandshakeV1<'a> {
    cfg: HandshakeConfigV1,
    auth: &'a mut dyn AuthClient,
    state: HandshakeStateV1,
    inbuf: BytesMut,
    out: Vec<u8>,
    connect_seq: u32,
    global_seq: u32,
    connect_rounds: u32,
    auth_rounds: u32,
    /// The authorizer for daemons; `None` towards a monitor.
    authorizer: Option<Vec<u8>>,
    peer_addr: EntityAddr,
    my_addr: EntityAddr,
    reply: Option<ConnectReply>,
    session: Option<SessionV1>,
    /// Messages that arrived while authenticating with a monitor.
    early: Vec<SessionEvent>,
    /// Monitor auth: the negotiation reply is still awaited.
    negotiating: bool,
    global_id: u64,
    keys: AuthKeys,
}

impl std::fmt::Debug for ClientHandshakeV1<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHandshakeV1")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<'a> ClientHandshakeV1<'a> {
    /// Starts a handshake; our banner is queued immediately. Towards a
    /// daemon the authorizer is taken from `auth` at once.
    pub fn new(cfg: HandshakeConfigV1, auth: &'a mut dyn AuthClient) -> Result<Self, MsgrError> {
        let to_monitor = cfg.peer_type == ENTITY_TYPE_MON;
        let authorizer = if to_monitor {
            None
        } else {
            Some(auth.initial_payload()?)
        };
        let global_seq = cfg.global_seq;
        Ok(ClientHandshakeV1 {
            cfg,
            auth,
            state: HandshakeStateV1::Banner,
            inbuf: BytesMut::new(),
            out: BANNER.to_vec(),
            connect_seq: 0,
            global_seq,
            connect_rounds: 0,
            auth_rounds: 0,
            authorizer,
            peer_addr: EntityAddr::default(),
            my_addr: EntityAddr::default(),
            reply: None,
            session: None,
            early: Vec::new(),
            negotiating: true,
            global_id: 0,
            keys: AuthKeys::default(),
        })
    }

    /// The current state.
    pub fn state(&self) -> HandshakeStateV1 {
        self.state
    }

    /// Bytes to write to the peer (drains the queue).
    pub fn take_output(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        if let Some(s) = self.session.as_mut() {
            out.extend_from_slice(&s.take_output());
        }
        out
    }

    /// Feeds received bytes; true once the handshake is done.
    pub fn receive(&mut self, data: &[u8]) -> Result<bool, MsgrError> {
        if let Some(s) = self.session.as_mut() {
            let events = s.receive(data)?;
            for ev in events {
                self.on_session_event(ev)?;
            }
            return Ok(self.state == HandshakeStateV1::Ready);
        }
        self.inbuf.extend_from_slice(data);
        loop {
            let progressed = match self.state {
                HandshakeStateV1::Banner => self.on_banner()?,
                HandshakeStateV1::Connect => self.on_connect_reply()?,
                HandshakeStateV1::Seq => self.on_seq()?,
                HandshakeStateV1::MonAuth | HandshakeStateV1::Ready => {
                    // The session took over the input.
                    return Ok(self.state == HandshakeStateV1::Ready);
                }
            };
            if !progressed {
                return Ok(false);
            }
        }
    }

    fn on_banner(&mut self) -> Result<bool, MsgrError> {
        match PeerBanner::classify(&self.inbuf) {
            None => return Ok(false),
            Some(PeerBanner::Msgr1) => {}
            Some(other) => return Err(MsgrError::PeerBanner(other)),
        }
        let need = BANNER.len() + 2 * LEGACY_ADDR_LEN;
        if self.inbuf.len() < need {
            return Ok(false);
        }
        if &self.inbuf[..BANNER.len()] != BANNER {
            return Err(MsgrError::Incompatible(format!(
                "msgr1 banner {:?} is not {:?}",
                super::wire::printable(&self.inbuf[..BANNER.len()]),
                super::wire::printable(BANNER)
            )));
        }
        let bad = |e: ceph_denc::DecodeError| {
            MsgrError::protocol(format!("bad address in the msgr1 banner: {e}"))
        };
        let mut d = Decoder::new(&self.inbuf[BANNER.len()..need]);
        let mut peer = EntityAddr::decode(&mut d).map_err(bad)?;
        let seen = EntityAddr::decode(&mut d).map_err(bad)?;
        self.inbuf.advance(need);
        peer.ty = EntityAddrType::Legacy;
        self.peer_addr = peer;
        // Our address as the peer sees it, with our nonce and no port (a
        // client listens nowhere).
        self.my_addr = EntityAddr {
            ty: EntityAddrType::Legacy,
            nonce: self.cfg.nonce,
            addr: seen.addr.map(|mut a| {
                a.set_port(0);
                a
            }),
        };
        self.my_addr.encode(&mut self.out, 0);
        self.queue_connect()?;
        self.state = HandshakeStateV1::Connect;
        Ok(true)
    }

    fn queue_connect(&mut self) -> Result<(), MsgrError> {
        self.connect_rounds += 1;
        if self.connect_rounds > MAX_CONNECT_ROUNDS {
            return Err(MsgrError::protocol(
                "msgr1 peer kept asking us to retry CONNECT",
            ));
        }
        let (protocol, len) = match &self.authorizer {
            Some(a) => (self.auth.method(), a.len() as u32),
            None => (0, 0),
        };
        let msg = ConnectMsg {
            features: self.cfg.features_supported,
            host_type: u32::from(self.cfg.entity_type),
            global_seq: self.global_seq,
            connect_seq: self.connect_seq,
            protocol_version: client_protocol_version(self.cfg.peer_type),
            authorizer_protocol: protocol,
            authorizer_len: len,
            flags: CONNECT_FLAG_LOSSY,
        };
        msg.encode(&mut self.out);
        if let Some(a) = &self.authorizer {
            self.out.extend_from_slice(a);
        }
        Ok(())
    }

    fn on_connect_reply(&mut self) -> Result<bool, MsgrError> {
        if self.inbuf.len() < CONNECT_REPLY_LEN {
            return Ok(false);
        }
        let reply = ConnectReply::decode(&self.inbuf[..CONNECT_REPLY_LEN])
            .map_err(|e| MsgrError::protocol(e.to_string()))?;
        if reply.authorizer_len > MAX_AUTHORIZER_LEN {
            return Err(MsgrError::protocol(format!(
                "msgr1 authorizer reply of {} bytes",
                reply.authorizer_len
            )));
        }
        let total = CONNECT_REPLY_LEN + reply.authorizer_len as usize;
        if self.inbuf.len() < total {
            return Ok(false);
        }
        let auth_reply = self.inbuf[CONNECT_REPLY_LEN..total].to_vec();
        self.inbuf.advance(total);
        match reply.tag {
            Tag::Ready | Tag::Seq => {
                let missing = self.cfg.features_required & !reply.features;
                if missing != 0 {
                    return Err(MsgrError::MissingFeatures(missing));
                }
                if self.authorizer.is_some() {
                    self.keys = self.auth.handle_done(0, ConMode::Crc.wire(), &auth_reply)?;
                }
                self.reply = Some(reply);
                if reply.tag == Tag::Seq {
                    self.state = HandshakeStateV1::Seq;
                } else {
                    self.start_session()?;
                }
            }
            Tag::ChallengeAuthorizer => {
                if self.authorizer.is_none() {
                    return Err(MsgrError::protocol(
                        "msgr1 peer challenged an authorizer we did not send",
                    ));
                }
                self.authorizer = Some(self.auth.handle_reply_more(&auth_reply)?);
                self.queue_connect()?;
            }
            Tag::BadAuthorizer => {
                return Err(MsgrError::Auth(AuthFailure::new(
                    AuthFailureReason::Rejected,
                    "the peer refused our authorizer (BADAUTHORIZER)",
                )));
            }
            Tag::Features => {
                return Err(MsgrError::Incompatible(format!(
                    "the peer refused our features (it has {:#x})",
                    reply.features
                )));
            }
            Tag::BadProtoVer => {
                return Err(MsgrError::Incompatible(format!(
                    "the peer refused protocol version {} (it speaks {})",
                    client_protocol_version(self.cfg.peer_type),
                    reply.protocol_version
                )));
            }
            Tag::ResetSession => {
                self.connect_seq = 0;
                self.queue_connect()?;
            }
            Tag::RetrySession => {
                self.connect_seq = reply.connect_seq;
                self.queue_connect()?;
            }
            Tag::RetryGlobal => {
                self.global_seq = self.global_seq.max(reply.global_seq).saturating_add(1);
                self.queue_connect()?;
            }
            Tag::Wait => return Err(MsgrError::Wait),
            other => {
                return Err(MsgrError::protocol(format!(
                    "unexpected CONNECT_REPLY tag {other:?}"
                )));
            }
        }
        Ok(true)
    }

    fn on_seq(&mut self) -> Result<bool, MsgrError> {
        if self.inbuf.len() < 8 {
            return Ok(false);
        }
        // The server tells what it has of ours; a new lossy session has
        // sent nothing, and we have received nothing either.
        self.inbuf.advance(8);
        self.out.extend_from_slice(&0u64.to_le_bytes());
        self.start_session()?;
        Ok(true)
    }

    fn start_session(&mut self) -> Result<(), MsgrError> {
        let reply = self.reply.expect("reply kept before the session starts");
        let features = self.cfg.features_supported & reply.features;
        let signing =
            SigningKey::from_secret(&self.keys.session_key).filter(|_| self.authorizer.is_some());
        let mut session = SessionV1::new(SessionParams {
            features,
            src_type: self.cfg.entity_type,
            src_num: -1,
            max_message_len: self.cfg.max_message_len,
            signing,
        });
        let rest = std::mem::take(&mut self.inbuf);
        if self.authorizer.is_none() && self.cfg.peer_type == ENTITY_TYPE_MON {
            self.state = HandshakeStateV1::MonAuth;
            let negotiation = self.negotiation_payload()?;
            session.send_message(&mauth(0, &negotiation))?;
            self.session = Some(session);
            self.receive(&rest)?;
        } else {
            self.state = HandshakeStateV1::Ready;
            self.early.extend(session.receive(&rest)?);
            self.session = Some(session);
        }
        Ok(())
    }

    /// The MAuth negotiation payload: version 1, the methods we can do,
    /// our name and global id (taken from the msgr2-style request the auth
    /// client makes, whose first byte is the mode).
    fn negotiation_payload(&mut self) -> Result<Vec<u8>, MsgrError> {
        let request = self.auth.initial_payload()?;
        let Some((&AUTH_MODE_MON, rest)) = request.split_first() else {
            return Err(MsgrError::protocol(
                "the auth client made no monitor auth request",
            ));
        };
        let mut p = vec![1u8];
        vec![self.auth.method()].encode(&mut p, 0);
        p.extend_from_slice(rest);
        Ok(p)
    }

    fn on_session_event(&mut self, ev: SessionEvent) -> Result<(), MsgrError> {
        let reply = match ev {
            SessionEvent::Message(m)
                if self.state == HandshakeStateV1::MonAuth && m.ty == MSG_AUTH_REPLY =>
            {
                AuthReply::decode(&m.front)?
            }
            other => {
                self.early.push(other);
                return Ok(());
            }
        };
        self.auth_rounds += 1;
        if self.auth_rounds > MAX_AUTH_ROUNDS {
            return Err(MsgrError::protocol("monitor auth did not finish"));
        }
        let method = self.auth.method();
        if reply.global_id != 0 {
            self.global_id = reply.global_id;
        }
        let said = if reply.message.is_empty() {
            String::new()
        } else {
            format!(": {}", reply.message)
        };
        if self.negotiating {
            if reply.result < 0 && reply.result != -EAGAIN {
                return Err(MsgrError::Auth(
                    AuthFailure::new(
                        AuthFailureReason::BadMethod,
                        format!(
                            "the monitor refused auth method {method} (msgr1 negotiation){said}"
                        ),
                    )
                    .with_errno(-reply.result),
                ));
            }
            if reply.protocol != method {
                return Err(MsgrError::Auth(AuthFailure::new(
                    AuthFailureReason::BadMethod,
                    format!(
                        "the monitor chose auth method {} and we offered {method}{said}",
                        reply.protocol
                    ),
                )));
            }
            self.negotiating = false;
        } else if reply.result == 0 {
            self.keys =
                self.auth
                    .handle_done(self.global_id, ConMode::Crc.wire(), &reply.payload)?;
            self.state = HandshakeStateV1::Ready;
            if let Some(s) = self.session.as_mut() {
                s.set_src_num(i64::try_from(self.global_id).unwrap_or(-1));
            }
            return Ok(());
        } else if reply.result != -EAGAIN {
            return Err(MsgrError::Auth(
                AuthFailure::new(
                    AuthFailureReason::Rejected,
                    format!("the monitor refused us (errno {}){said}", -reply.result),
                )
                .with_errno(-reply.result),
            ));
        }
        let next = self.auth.handle_reply_more(&reply.payload)?;
        let session = self
            .session
            .as_mut()
            .expect("monitor auth runs in a session");
        session.send_message(&mauth(method, &next))?;
        Ok(())
    }

    /// The session and what the handshake learned, once done, with events
    /// that arrived with the last handshake bytes.
    pub fn into_session(self) -> Result<(SessionV1, SessionInfo, Vec<SessionEvent>), MsgrError> {
        if self.state != HandshakeStateV1::Ready {
            return Err(MsgrError::protocol("msgr1 handshake is not finished"));
        }
        let reply = self.reply.expect("ready implies a reply");
        let session = self.session.expect("ready implies a session");
        let info = SessionInfo {
            my_addr_seen_by_peer: self.my_addr,
            peer_addrs: EntityAddrVec::new(vec![self.peer_addr]),
            peer_gid: 0,
            peer_global_seq: u64::from(reply.global_seq),
            peer_features: reply.features,
            features: session.features(),
            global_id: self.global_id,
            mode: ConMode::Crc,
            msgr2_features: 0,
        };
        Ok((session, info, self.early))
    }

    /// The keys authentication yielded (an authorizer's session key for a
    /// daemon; the monitor session's keys for a monitor).
    pub fn keys(&self) -> &AuthKeys {
        &self.keys
    }
}

/// An MAuth message: Paxos header, method, payload, MonMap epoch 0.
pub fn mauth(protocol: u32, payload: &[u8]) -> Message {
    let mut front = Vec::with_capacity(payload.len() + 32);
    0u64.encode(&mut front, 0);
    (-1i16).encode(&mut front, 0);
    0u64.encode(&mut front, 0);
    protocol.encode(&mut front, 0);
    encode_bytes(&mut front, payload);
    0u32.encode(&mut front, 0);
    Message::new(MSG_AUTH, 1, 0, front)
}

/// MAuthReply as the handshake reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthReply {
    /// The method the monitor chose.
    pub protocol: u32,
    /// 0 done, `-EAGAIN` more to come, another negative errno refused.
    pub result: i32,
    /// The global id assigned.
    pub global_id: u64,
    /// The method's payload.
    pub payload: Vec<u8>,
    /// The monitor's words.
    pub message: String,
}

impl AuthReply {
    /// Decodes an MAuthReply front.
    pub fn decode(front: &[u8]) -> Result<AuthReply, MsgrError> {
        let bad = |e: ceph_denc::DecodeError| MsgrError::protocol(format!("bad MAuthReply: {e}"));
        let mut d = Decoder::new(front);
        Ok(AuthReply {
            protocol: d.u32("protocol").map_err(bad)?,
            result: d.i32("result").map_err(bad)?,
            global_id: d.u64("global_id").map_err(bad)?,
            payload: d.bytes("result_bl").map_err(bad)?.to_vec(),
            message: String::from_utf8_lossy(d.bytes("result_msg").map_err(bad)?).into_owned(),
        })
    }

    /// Encodes (for tests and simulated monitors).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.protocol.encode(&mut out, 0);
        self.result.encode(&mut out, 0);
        self.global_id.encode(&mut out, 0);
        encode_bytes(&mut out, &self.payload);
        encode_bytes(&mut out, self.message.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::wire::{MsgHeader, HEADER_LEN};
    use ceph_types::features::CLIENT_FEATURES_ALL;

    /// An auth client that records what it was given.
    #[derive(Default)]
    struct Script {
        more: Vec<Vec<u8>>,
        done: Option<(u64, Vec<u8>)>,
    }

    impl AuthClient for Script {
        fn method(&self) -> u32 {
            2
        }
        fn preferred_modes(&self) -> Vec<u32> {
            vec![1]
        }
        fn initial_payload(&mut self) -> Result<Vec<u8>, AuthFailure> {
            Ok(vec![AUTH_MODE_MON, 0xaa, 0xbb])
        }
        fn handle_reply_more(&mut self, payload: &[u8]) -> Result<Vec<u8>, AuthFailure> {
            self.more.push(payload.to_vec());
            Ok(b"proof".to_vec())
        }
        fn handle_done(
            &mut self,
            global_id: u64,
            _mode: u32,
            payload: &[u8],
        ) -> Result<AuthKeys, AuthFailure> {
            self.done = Some((global_id, payload.to_vec()));
            Ok(AuthKeys {
                session_key: vec![9; 16],
                connection_secret: Vec::new(),
            })
        }
    }

    fn server_banner() -> Vec<u8> {
        let mut b = BANNER.to_vec();
        let server: EntityAddr = "v1:127.0.0.1:6789/0".parse().unwrap();
        let client: EntityAddr = "v1:127.0.0.1:40000/0".parse().unwrap();
        server.encode(&mut b, 0);
        client.encode(&mut b, 0);
        b
    }

    fn reply(tag: Tag, authorizer: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        ConnectReply {
            tag,
            features: CLIENT_FEATURES_ALL,
            global_seq: 3,
            connect_seq: 1,
            protocol_version: PROTOCOL_MONC_FOR_TEST,
            authorizer_len: authorizer.len() as u32,
            flags: CONNECT_FLAG_LOSSY,
        }
        .encode(&mut out);
        out.extend_from_slice(authorizer);
        out
    }
    const PROTOCOL_MONC_FOR_TEST: u32 = 15;

    /// Splits the client's output after the handshake into its messages'
    /// fronts (a fake monitor's view).
    fn fronts(mut wire: &[u8]) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        while !wire.is_empty() {
            if wire[0] == Tag::Ack.code() {
                wire = &wire[9..];
                continue;
            }
            assert_eq!(wire[0], Tag::Msg.code());
            let h = MsgHeader::decode(&wire[1..1 + HEADER_LEN]).unwrap();
            let front = &wire[1 + HEADER_LEN..1 + HEADER_LEN + h.front_len as usize];
            out.push((h.ty, front.to_vec()));
            wire = &wire[1 + HEADER_LEN + h.front_len as usize + 21..];
        }
        out
    }

    fn mon_reply(result: i32, payload: &[u8], seq: u64) -> Vec<u8> {
        let front = AuthReply {
            protocol: 2,
            result,
            global_id: 4242,
            payload: payload.to_vec(),
            message: String::new(),
        }
        .encode();
        let mut s = SessionV1::new(SessionParams {
            features: CLIENT_FEATURES_ALL,
            src_type: 1,
            src_num: 0,
            max_message_len: 1 << 20,
            signing: None,
        });
        for _ in 1..seq {
            s.send_message(&Message::new(999, 1, 1, Vec::new()))
                .unwrap();
        }
        s.take_output();
        s.send_message(&Message::new(MSG_AUTH_REPLY, 1, 1, front))
            .unwrap();
        s.take_output()
    }

    #[test]
    fn monitor_handshake_authenticates_in_mauth_messages() {
        let mut auth = Script::default();
        let cfg = HandshakeConfigV1::client(ENTITY_TYPE_MON, CLIENT_FEATURES_ALL, 0);
        let mut hs = ClientHandshakeV1::new(cfg, &mut auth).unwrap();
        assert_eq!(hs.take_output(), BANNER);
        assert!(!hs.receive(&server_banner()).unwrap());
        let out = hs.take_output();
        assert_eq!(out.len(), LEGACY_ADDR_LEN + 33);
        let connect = ConnectMsg::decode(&out[LEGACY_ADDR_LEN..]).unwrap();
        assert_eq!(connect.authorizer_len, 0, "no authorizer towards a monitor");
        assert_eq!(connect.protocol_version, 15);
        assert_eq!(connect.flags, CONNECT_FLAG_LOSSY);
        assert!(!hs.receive(&reply(Tag::Ready, &[])).unwrap());
        let sent = fronts(&hs.take_output());
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, MSG_AUTH);
        // Negotiation: paxos header (18 bytes), method 0, then the payload:
        // version 1, methods [2], and the request less its mode byte.
        let negotiation = &sent[0].1;
        assert_eq!(&negotiation[18..22], &0u32.to_le_bytes());
        assert_eq!(
            &negotiation[26..],
            &[1, 1, 0, 0, 0, 2, 0, 0, 0, 0xaa, 0xbb, 0, 0, 0, 0]
        );
        // Challenge, then done, byte by byte.
        assert!(!hs.receive(&mon_reply(-EAGAIN, b"challenge", 1)).unwrap());
        let sent = fronts(&hs.take_output());
        assert_eq!(&sent[0].1[18..22], &2u32.to_le_bytes());
        let last = mon_reply(0, b"ticket", 2);
        let mut ready = false;
        for b in &last {
            ready = hs.receive(std::slice::from_ref(b)).unwrap();
        }
        assert!(ready);
        let (_, info, early) = hs.into_session().unwrap();
        assert_eq!(info.global_id, 4242);
        assert!(early.is_empty());
        assert_eq!(auth.more, [b"challenge".to_vec()]);
        assert_eq!(auth.done, Some((4242, b"ticket".to_vec())));
    }

    #[test]
    fn daemon_handshake_redoes_the_authorizer_on_a_challenge() {
        let mut auth = Script::default();
        let cfg = HandshakeConfigV1::client(0x04, CLIENT_FEATURES_ALL, 0);
        let mut hs = ClientHandshakeV1::new(cfg, &mut auth).unwrap();
        hs.take_output();
        hs.receive(&server_banner()).unwrap();
        let out = hs.take_output();
        let connect = ConnectMsg::decode(&out[LEGACY_ADDR_LEN..LEGACY_ADDR_LEN + 33]).unwrap();
        assert_eq!(
            (connect.authorizer_protocol, connect.authorizer_len),
            (2, 3)
        );
        assert_eq!(connect.protocol_version, 24);
        assert!(!hs
            .receive(&reply(Tag::ChallengeAuthorizer, b"nonce"))
            .unwrap());
        let out = hs.take_output();
        let again = ConnectMsg::decode(&out[..33]).unwrap();
        assert_eq!(&out[33..], b"proof");
        assert_eq!(again.authorizer_len, 5);
        assert!(hs.receive(&reply(Tag::Ready, b"verified")).unwrap());
        hs.into_session().unwrap();
        assert_eq!(auth.more, [b"nonce".to_vec()]);
        assert_eq!(auth.done, Some((0, b"verified".to_vec())));
    }

    #[test]
    fn refusals_are_typed() {
        let run = |r: Vec<u8>| {
            let mut auth = Script::default();
            let cfg = HandshakeConfigV1::client(0x04, CLIENT_FEATURES_ALL, 0);
            let mut hs = ClientHandshakeV1::new(cfg, &mut auth).unwrap();
            hs.receive(&server_banner()).unwrap();
            hs.receive(&r).unwrap_err()
        };
        assert!(matches!(
            run(reply(Tag::BadAuthorizer, &[])),
            MsgrError::Auth(_)
        ));
        assert!(matches!(
            run(reply(Tag::BadProtoVer, &[])),
            MsgrError::Incompatible(_)
        ));
        assert!(matches!(
            run(reply(Tag::Features, &[])),
            MsgrError::Incompatible(_)
        ));
        let mut huge = reply(Tag::Ready, &[]);
        huge[21..25].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(run(huge), MsgrError::Protocol(_)));
        // A msgr2 server, or something else, answering a msgr1 attempt.
        let mut auth = Script::default();
        let cfg = HandshakeConfigV1::client(1, CLIENT_FEATURES_ALL, 0);
        let mut hs = ClientHandshakeV1::new(cfg, &mut auth).unwrap();
        assert!(matches!(
            hs.receive(b"ceph v2\n\x10\x00"),
            Err(MsgrError::PeerBanner(PeerBanner::Msgr2))
        ));
    }
}
