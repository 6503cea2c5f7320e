//! The client side of msgr2 as I/O-free state machines.
//!
//! [`ClientHandshake`] takes received bytes ([`ClientHandshake::receive`])
//! and queues bytes to send ([`ClientHandshake::take_output`]) until it
//! reports [`HandshakeStatus::Ready`]; [`ClientHandshake::into_session`]
//! then gives the [`Session`] that carries messages.
//!
//! ```no_run
//! # use ceph_msgr::protocol::*;
//! # fn io(h: &mut ClientHandshake<'_>) -> Result<(), ceph_msgr::error::MsgrError> {
//! loop {
//!     let out = h.take_output();      // write these bytes to the socket
//!     # let _ = out; let received = [0u8; 0];
//!     if h.receive(&received)? == HandshakeStatus::Ready { break; }
//! }
//! # Ok(()) }
//! ```

use bytes::BytesMut;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use ceph_types::features::CEPH_FEATUREMASK_MSG_ADDR2;
use ceph_types::{EntityAddr, EntityAddrType, EntityAddrVec, UTime};

use crate::auth::{AuthClient, AuthFailure, AuthFailureReason, AuthKeys};
use crate::error::MsgrError;
use crate::frame::{
    align, features, Banner, ConMode, Frame, FrameCodec, Tag, DEFAULT_MAX_SEGMENT_LEN,
};
use crate::message::Message;
use crate::payload::*;
/// The compression negotiation payloads, defined with the other control
/// payloads.
pub use crate::payload::{CompressionDone, CompressionRequest};

/// Bytes kept for AUTH_SIGNATURE before authentication completes; a peer
/// that sends more before AUTH_DONE is misbehaving.
const MAX_PRE_AUTH_BYTES: usize = 4 << 20;

/// Entity type code of a client (`CEPH_ENTITY_TYPE_CLIENT`).
pub const ENTITY_TYPE_CLIENT: u8 = 0x08;

/// What the handshake needs to know about us and the peer.
#[derive(Debug, Clone)]
pub struct HandshakeConfig {
    /// Our entity type code (client = 8).
    pub entity_type: u8,
    /// The address we are connecting to (a `v2` address).
    pub target_addr: EntityAddr,
    /// Our nonce, sent in our address in CLIENT_IDENT.
    pub nonce: u32,
    /// Ceph feature bits we support and require.
    pub features_supported: u64,
    /// Ceph features the peer must have.
    pub features_required: u64,
    /// Our `global_seq` for this connection.
    pub global_seq: u64,
    /// The gid to send in CLIENT_IDENT; `None` sends the global id the
    /// server assigned in AUTH_DONE.
    pub gid: Option<i64>,
    /// Lossy session (the default; what the Ceph CLI's monitor session
    /// uses): CONNECT_LOSSY flag and no cookie.
    pub lossy: bool,
    /// Our cookie for a lossless session; `None` picks a random one.
    pub cookie: Option<u64>,
    /// Check the server's AUTH_SIGNATURE (only disable to replay
    /// recordings without the session key).
    pub verify_signature: bool,
    /// Largest segment accepted from the peer.
    pub max_segment_len: u32,
}

impl HandshakeConfig {
    /// A client connecting to `target_addr` with the given features.
    pub fn client(
        target_addr: EntityAddr,
        features_supported: u64,
        features_required: u64,
    ) -> Self {
        HandshakeConfig {
            entity_type: ENTITY_TYPE_CLIENT,
            target_addr,
            nonce: rand::random(),
            features_supported,
            features_required,
            global_seq: 1,
            gid: None,
            lossy: true,
            cookie: None,
            verify_signature: true,
            max_segment_len: DEFAULT_MAX_SEGMENT_LEN,
        }
    }
}

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeState {
    /// Waiting for the peer's banner.
    Banner,
    /// Waiting for the peer's HELLO.
    Hello,
    /// AUTH_REQUEST sent; waiting for AUTH_REPLY_MORE / AUTH_DONE.
    Auth,
    /// Our AUTH_SIGNATURE sent; waiting for the peer's.
    AuthSignature,
    /// COMPRESSION_REQUEST sent (msgr2.1); waiting for COMPRESSION_DONE.
    Compression,
    /// CLIENT_IDENT sent; waiting for SERVER_IDENT.
    Ident,
    /// Session established.
    Ready,
}

/// Result of feeding bytes to the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeStatus {
    /// More bytes are needed.
    InProgress,
    /// The handshake is done.
    Ready,
}

/// What the handshake learned; available once ready.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// Our address as the server saw it (from its HELLO).
    pub my_addr_seen_by_peer: EntityAddr,
    /// The server's addresses and identity from SERVER_IDENT.
    pub peer_addrs: EntityAddrVec,
    /// The server's gid.
    pub peer_gid: i64,
    /// The server's global sequence number.
    pub peer_global_seq: u64,
    /// The server's supported features, and the intersection with ours.
    pub peer_features: u64,
    /// Features both sides support.
    pub features: u64,
    /// Our global id, assigned while authenticating.
    pub global_id: u64,
    /// crc or secure.
    pub mode: ConMode,
    /// msgr2 features both banners support.
    pub msgr2_features: u64,
}

/// The msgr2 client handshake.
pub struct ClientHandshake<'a> {
    cfg: HandshakeConfig,
    auth: &'a mut dyn AuthClient,
    state: HandshakeState,
    codec: FrameCodec,
    inbuf: BytesMut,
    out: Vec<u8>,
    /// Everything sent / received while authenticating (for the
    /// signatures); `None` once signatures are computed.
    pre_auth_tx: Option<Vec<u8>>,
    pre_auth_rx: Option<Vec<u8>>,
    keys: AuthKeys,
    offered_modes: Vec<u32>,
    global_id: u64,
    mode: ConMode,
    peer_banner: Option<Banner>,
    my_addr: EntityAddr,
    info: Option<SessionInfo>,
}

impl std::fmt::Debug for ClientHandshake<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("state", &self.state)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// Our banner: revision 1 and compression negotiation (we take part in
/// the COMPRESSION_REQUEST / COMPRESSION_DONE exchange, always asking for
/// no compression), nothing required.
pub fn client_banner() -> Banner {
    Banner {
        supported: features::REVISION_1 | features::COMPRESSION,
        required: 0,
    }
}

impl<'a> ClientHandshake<'a> {
    /// Starts a handshake; our banner is queued immediately.
    pub fn new(cfg: HandshakeConfig, auth: &'a mut dyn AuthClient) -> Self {
        let codec = FrameCodec::new(cfg.max_segment_len);
        let mut h = ClientHandshake {
            cfg,
            auth,
            state: HandshakeState::Banner,
            codec,
            inbuf: BytesMut::new(),
            out: Vec::new(),
            pre_auth_tx: Some(Vec::new()),
            pre_auth_rx: Some(Vec::new()),
            keys: AuthKeys::default(),
            offered_modes: Vec::new(),
            global_id: 0,
            mode: ConMode::Crc,
            peer_banner: None,
            my_addr: EntityAddr::default(),
            info: None,
        };
        h.queue_raw(&client_banner().encode());
        h
    }

    /// The current state.
    pub fn state(&self) -> HandshakeState {
        self.state
    }

    /// Bytes to write to the peer (drains the queue).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    fn queue_raw(&mut self, bytes: &[u8]) {
        if let Some(log) = self.pre_auth_tx.as_mut() {
            log.extend_from_slice(bytes);
        }
        self.out.extend_from_slice(bytes);
    }

    fn queue_frame<P: ControlPayload>(&mut self, p: &P) -> Result<(), MsgrError> {
        let payload = p.to_payload();
        let bytes = self.codec.encode(P::TAG, &[(&payload, align::DEFAULT)])?;
        self.queue_raw(&bytes);
        Ok(())
    }

    /// Feeds received bytes; processes every complete frame in them.
    /// Bytes after SERVER_IDENT are kept for the session.
    pub fn receive(&mut self, data: &[u8]) -> Result<HandshakeStatus, MsgrError> {
        if let Some(log) = self.pre_auth_rx.as_mut() {
            if log.len() + data.len() > MAX_PRE_AUTH_BYTES {
                return Err(MsgrError::protocol(
                    "too many bytes before authentication finished",
                ));
            }
            log.extend_from_slice(data);
        }
        self.inbuf.extend_from_slice(data);
        while self.state != HandshakeState::Ready {
            if self.state == HandshakeState::Banner {
                let parsed = Banner::parse(&mut self.inbuf).map_err(|e| {
                    // Say what the peer speaks instead, when it is clear
                    // (a msgr1 port, or not Ceph at all).
                    match crate::v1::PeerBanner::classify(&self.inbuf) {
                        Some(
                            b @ (crate::v1::PeerBanner::Msgr1 | crate::v1::PeerBanner::Other(_)),
                        ) => MsgrError::PeerBanner(b),
                        _ => MsgrError::from(e),
                    }
                })?;
                match parsed {
                    None => break,
                    Some(b) => self.handle_banner(b)?,
                }
                continue;
            }
            let Some(frame) = self.codec.decode(&mut self.inbuf)? else {
                break;
            };
            self.handle_frame(frame)?;
        }
        Ok(if self.state == HandshakeState::Ready {
            HandshakeStatus::Ready
        } else {
            HandshakeStatus::InProgress
        })
    }

    fn handle_banner(&mut self, peer: Banner) -> Result<(), MsgrError> {
        let ours = client_banner();
        let missing = peer.required & !ours.supported;
        if missing != 0 {
            return Err(MsgrError::BannerFeatures { missing });
        }
        if peer.supported & features::REVISION_1 == 0 {
            // Revision 0 framing is not implemented: every msgr2 Ceph since
            // Octopus speaks revision 1.
            return Err(MsgrError::protocol(
                "peer does not support msgr2 revision 1",
            ));
        }
        self.peer_banner = Some(peer);
        self.state = HandshakeState::Hello;
        self.queue_frame(&Hello {
            entity_type: self.cfg.entity_type,
            peer_addr: self.cfg.target_addr,
        })
    }

    fn send_auth_request(&mut self) -> Result<(), MsgrError> {
        self.offered_modes = self.auth.preferred_modes();
        let req = AuthRequest {
            method: self.auth.method(),
            preferred_modes: self.offered_modes.clone(),
            payload: self.auth.initial_payload()?,
        };
        self.state = HandshakeState::Auth;
        self.queue_frame(&req)
    }

    fn unexpected(&self, tag: Tag) -> MsgrError {
        MsgrError::protocol(format!(
            "unexpected {tag:?} frame in state {:?}",
            self.state
        ))
    }

    fn handle_frame(&mut self, frame: Frame) -> Result<(), MsgrError> {
        let tag = frame.tag;
        let payload = frame.payload().clone();
        let bad = MsgrError::payload;
        match (self.state, tag) {
            (HandshakeState::Hello, Tag::Hello) => {
                let hello = Hello::from_payload(&payload).map_err(bad(tag))?;
                // The server tells us the address it sees us at; we
                // advertise its IP with no port (we do not listen).
                self.my_addr = hello.peer_addr;
                self.send_auth_request()
            }
            (HandshakeState::Auth, Tag::AuthReplyMore) => {
                let more = AuthReplyMore::from_payload(&payload).map_err(bad(tag))?;
                let reply = self.auth.handle_reply_more(&more.payload)?;
                self.queue_frame(&AuthRequestMore { payload: reply })
            }
            (HandshakeState::Auth, Tag::AuthBadMethod) => {
                let b = AuthBadMethod::from_payload(&payload).map_err(bad(tag))?;
                self.auth.handle_bad_method(
                    b.method,
                    b.result,
                    &b.allowed_methods,
                    &b.allowed_modes,
                )?;
                self.send_auth_request()
            }
            (HandshakeState::Auth, Tag::AuthDone) => {
                let done = AuthDone::from_payload(&payload).map_err(bad(tag))?;
                self.handle_auth_done(done)
            }
            (HandshakeState::AuthSignature, Tag::AuthSignature) => {
                let sig = AuthSignature::from_payload(&payload).map_err(bad(tag))?;
                let sent = self.pre_auth_tx.take().unwrap_or_default();
                if self.cfg.verify_signature
                    && sig.sha256 != signature(&self.keys.session_key, &sent)
                {
                    return Err(MsgrError::SignatureMismatch);
                }
                let peer = self.peer_banner.map_or(0, |b| b.supported);
                if peer & client_banner().supported & features::COMPRESSION != 0 {
                    // Both sides speak msgr2.1 compression negotiation: the
                    // server waits for our request before CLIENT_IDENT.
                    self.state = HandshakeState::Compression;
                    self.queue_frame(&CompressionRequest {
                        is_compress: false,
                        preferred_methods: Vec::new(),
                    })
                } else {
                    self.send_client_ident()
                }
            }
            (HandshakeState::Compression, Tag::CompressionDone) => {
                let done = CompressionDone::from_payload(&payload).map_err(bad(tag))?;
                if done.is_compress {
                    return Err(MsgrError::protocol(format!(
                        "peer turned on compression method {} that we did not ask for",
                        done.method
                    )));
                }
                self.send_client_ident()
            }
            (HandshakeState::Ident, Tag::ServerIdent) => {
                let ident = ServerIdent::from_payload(&payload).map_err(bad(tag))?;
                self.handle_server_ident(ident)
            }
            (HandshakeState::Ident, Tag::IdentMissingFeatures) => {
                let m = IdentMissingFeatures::from_payload(&payload).map_err(bad(tag))?;
                Err(MsgrError::MissingFeatures(m.features))
            }
            (_, Tag::SessionReset) => {
                let r = SessionReset::from_payload(&payload).map_err(bad(tag))?;
                Err(MsgrError::PeerReset { full: r.full })
            }
            (_, Tag::SessionRetry) => {
                let r = SessionRetry::from_payload(&payload).map_err(bad(tag))?;
                Err(MsgrError::Retry(format!("connect_seq {}", r.connect_seq)))
            }
            (_, Tag::SessionRetryGlobal) => {
                let r = SessionRetryGlobal::from_payload(&payload).map_err(bad(tag))?;
                Err(MsgrError::Retry(format!("global_seq {}", r.global_seq)))
            }
            (_, Tag::Wait) => Err(MsgrError::Wait),
            _ => Err(self.unexpected(tag)),
        }
    }

    fn handle_auth_done(&mut self, done: AuthDone) -> Result<(), MsgrError> {
        let mode = ConMode::from_wire(done.con_mode)
            .filter(|_| self.offered_modes.contains(&done.con_mode))
            .ok_or_else(|| {
                AuthFailure::new(
                    AuthFailureReason::UnsupportedMode,
                    format!(
                        "server chose mode {} but we offered {:?}",
                        done.con_mode, self.offered_modes
                    ),
                )
            })?;
        self.keys = self
            .auth
            .handle_done(done.global_id, done.con_mode, &done.payload)?;
        self.global_id = done.global_id;
        self.mode = mode;
        // Our signature covers every byte received up to and including
        // AUTH_DONE, not what may already follow it in the buffer.
        let rx = self.pre_auth_rx.take().unwrap_or_default();
        let covered = &rx[..rx.len() - self.inbuf.len()];
        let sig = AuthSignature {
            sha256: signature(&self.keys.session_key, covered),
        };
        if mode == ConMode::Secure {
            self.codec
                .enable_secure(&self.keys.connection_secret, false)
                .map_err(|_| {
                    AuthFailure::new(
                        AuthFailureReason::BadReply,
                        "connection secret too short for secure mode",
                    )
                })?;
        }
        // The signature frame itself is not part of what the peer signs.
        let tx_log = self.pre_auth_tx.take();
        self.queue_frame(&sig)?;
        self.pre_auth_tx = tx_log;
        self.state = HandshakeState::AuthSignature;
        Ok(())
    }

    fn send_client_ident(&mut self) -> Result<(), MsgrError> {
        let mut me = self.my_addr;
        me.ty = EntityAddrType::Any;
        me.nonce = self.cfg.nonce;
        if let Some(a) = me.addr.as_mut() {
            a.set_port(0);
        }
        let ident = ClientIdent {
            addrs: EntityAddrVec::from(me),
            target_addr: self.cfg.target_addr,
            gid: self.cfg.gid.unwrap_or(self.global_id as i64),
            global_seq: self.cfg.global_seq,
            supported_features: self.cfg.features_supported,
            // Ceph always requires MSG_ADDR2 of a msgr2 peer.
            required_features: self.cfg.features_required | CEPH_FEATUREMASK_MSG_ADDR2,
            flags: if self.cfg.lossy { CONNECT_LOSSY } else { 0 },
            cookie: match (self.cfg.lossy, self.cfg.cookie) {
                (true, _) => 0,
                (false, Some(c)) => c,
                (false, None) => rand::random::<u64>().max(1),
            },
        };
        self.state = HandshakeState::Ident;
        self.queue_frame(&ident)
    }

    fn handle_server_ident(&mut self, ident: ServerIdent) -> Result<(), MsgrError> {
        let missing = ident.required_features & !self.cfg.features_supported;
        if missing != 0 {
            return Err(MsgrError::MissingFeatures(missing));
        }
        let peer_banner = self.peer_banner.expect("banner before ident");
        self.info = Some(SessionInfo {
            my_addr_seen_by_peer: self.my_addr,
            peer_addrs: ident.addrs,
            peer_gid: ident.gid,
            peer_global_seq: ident.global_seq,
            peer_features: ident.supported_features,
            features: ident.supported_features & self.cfg.features_supported,
            global_id: self.global_id,
            mode: self.mode,
            msgr2_features: peer_banner.supported & client_banner().supported,
        });
        self.state = HandshakeState::Ready;
        Ok(())
    }

    /// The negotiated session, once [`HandshakeStatus::Ready`] was
    /// returned. Unsent output and unread input carry over.
    pub fn into_session(self) -> Result<(Session, SessionInfo), MsgrError> {
        let info = self
            .info
            .ok_or_else(|| MsgrError::protocol("handshake is not finished"))?;
        Ok((
            Session {
                codec: self.codec,
                inbuf: self.inbuf,
                out: self.out,
                out_seq: 0,
                in_seq: 0,
                acked_by_peer: 0,
                last_acked_to_peer: 0,
                auto_ack: true,
            },
            info,
        ))
    }
}

/// HMAC-SHA256 of `data` keyed with the session key; all zeros without a
/// key (as Ceph does for auth methods that have none).
pub fn signature(session_key: &[u8], data: &[u8]) -> [u8; 32] {
    if session_key.is_empty() {
        return [0; 32];
    }
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(session_key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Something the session received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// A message from the peer.
    Message(Message),
    /// The peer answered our keepalive stamped with this time.
    KeepaliveAck(UTime),
}

/// An established msgr2 session: message sequencing, acks, keepalives.
#[derive(Debug)]
pub struct Session {
    codec: FrameCodec,
    inbuf: BytesMut,
    out: Vec<u8>,
    out_seq: u64,
    in_seq: u64,
    acked_by_peer: u64,
    last_acked_to_peer: u64,
    auto_ack: bool,
}

impl Session {
    /// Whether to answer received messages with ACK frames (on by
    /// default; ack_seq is piggy-backed on our messages either way).
    pub fn set_auto_ack(&mut self, on: bool) {
        self.auto_ack = on;
    }

    /// Bytes to write to the peer (drains the queue).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// The last sequence number the peer acknowledged.
    pub fn acked_by_peer(&self) -> u64 {
        self.acked_by_peer
    }

    /// The sequence number of the last message received.
    pub fn in_seq(&self) -> u64 {
        self.in_seq
    }

    /// Queues `msg` with the next sequence number; returns that number.
    pub fn send_message(&mut self, msg: &Message) -> Result<u64, MsgrError> {
        self.out_seq += 1;
        let header = msg.header(self.out_seq, self.in_seq).encode();
        let bytes = self.codec.encode(Tag::Message, &msg.segments(&header))?;
        self.out.extend_from_slice(&bytes);
        self.last_acked_to_peer = self.in_seq;
        Ok(self.out_seq)
    }

    /// Queues a KEEPALIVE2 carrying `stamp`.
    pub fn send_keepalive(&mut self, stamp: UTime) -> Result<(), MsgrError> {
        self.queue(&Keepalive2 { stamp })
    }

    /// Queues an ACK for everything received so far.
    pub fn send_ack(&mut self) -> Result<(), MsgrError> {
        self.last_acked_to_peer = self.in_seq;
        self.queue(&Ack { seq: self.in_seq })
    }

    fn queue<P: ControlPayload>(&mut self, p: &P) -> Result<(), MsgrError> {
        let payload = p.to_payload();
        let bytes = self.codec.encode(P::TAG, &[(&payload, align::DEFAULT)])?;
        self.out.extend_from_slice(&bytes);
        Ok(())
    }

    /// Feeds received bytes (pass an empty slice to process what the
    /// handshake left over); returns what arrived.
    pub fn receive(&mut self, data: &[u8]) -> Result<Vec<SessionEvent>, MsgrError> {
        self.inbuf.extend_from_slice(data);
        let mut events = Vec::new();
        while let Some(frame) = self.codec.decode(&mut self.inbuf)? {
            let tag = frame.tag;
            let bad = MsgrError::payload;
            match tag {
                Tag::Message => {
                    let (header, msg) = Message::from_frame(&frame).map_err(bad(tag))?;
                    self.note_peer_ack(header.ack_seq);
                    if header.seq <= self.in_seq {
                        // A duplicate after a reconnect: already delivered.
                        continue;
                    }
                    if header.seq != self.in_seq + 1 {
                        return Err(MsgrError::protocol(format!(
                            "message seq {} after {}: messages were lost",
                            header.seq, self.in_seq
                        )));
                    }
                    self.in_seq = header.seq;
                    events.push(SessionEvent::Message(msg));
                }
                Tag::Keepalive2 => {
                    let k = Keepalive2::from_payload(frame.payload()).map_err(bad(tag))?;
                    self.queue(&Keepalive2Ack { stamp: k.stamp })?;
                }
                Tag::Keepalive2Ack => {
                    let k = Keepalive2Ack::from_payload(frame.payload()).map_err(bad(tag))?;
                    events.push(SessionEvent::KeepaliveAck(k.stamp));
                }
                Tag::Ack => {
                    let a = Ack::from_payload(frame.payload()).map_err(bad(tag))?;
                    self.note_peer_ack(a.seq);
                }
                Tag::SessionReset => {
                    let r = SessionReset::from_payload(frame.payload()).map_err(bad(tag))?;
                    return Err(MsgrError::PeerReset { full: r.full });
                }
                other => {
                    return Err(MsgrError::protocol(format!(
                        "unexpected {other:?} frame in an open session"
                    )));
                }
            }
        }
        if self.auto_ack && self.in_seq > self.last_acked_to_peer {
            self.send_ack()?;
        }
        Ok(events)
    }

    fn note_peer_ack(&mut self, seq: u64) {
        self.acked_by_peer = self.acked_by_peer.max(seq.min(self.out_seq));
    }
}
