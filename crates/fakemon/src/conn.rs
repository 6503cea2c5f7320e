//! One server-side msgr2 connection: handshake, CephX, then messages.

use std::sync::Arc;

use bytes::BytesMut;
use ceph_auth::client::AUTH_METHOD_CEPHX;
use ceph_denc::Encode;
use ceph_msgr::frame::{
    align, features, Banner, ConMode, Frame, FrameCodec, Preamble, SegmentDesc, Tag,
};
use ceph_msgr::message::Message;
use ceph_msgr::payload::*;
use ceph_msgr::protocol::{signature, CompressionDone, CompressionRequest};
use ceph_types::errno::{EACCES, EOPNOTSUPP};
use ceph_types::features::CLIENT_FEATURES_ALL;
use ceph_types::EntityAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cephx::{self, Refusal};
use crate::messages::{self, msg_type, OutBody};
use crate::{CommandContext, ReceivedCommand, Shared};

/// Entity type code of a monitor, for HELLO.
const ENTITY_TYPE_MON: u8 = 0x01;
/// Sent instead of a banner when asked to.
const GARBAGE_BANNER: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
/// Bytes the fake accepts before authentication completes.
const MAX_PRE_AUTH: usize = 1 << 20;

/// Why a connection ended early; only logged.
type Outcome = Result<(), String>;

struct Conn {
    shared: Arc<Shared>,
    sock: TcpStream,
    codec: FrameCodec,
    inbuf: BytesMut,
    /// Everything received / sent before authentication, for signatures.
    rx_log: Option<Vec<u8>>,
    tx_log: Option<Vec<u8>>,
    frozen: tokio::sync::watch::Receiver<bool>,
    out_seq: u64,
    in_seq: u64,
    /// Set once CephX succeeds: what MAuth requests are checked against.
    session_auth: Option<cephx::SessionAuth>,
}

/// Serves one accepted socket until it closes or misbehaves.
pub(crate) async fn serve(shared: Arc<Shared>, sock: TcpStream) {
    let frozen = shared.frozen.subscribe();
    let mut c = Conn {
        shared,
        sock,
        codec: FrameCodec::default(),
        inbuf: BytesMut::new(),
        rx_log: Some(Vec::new()),
        tx_log: Some(Vec::new()),
        frozen,
        out_seq: 0,
        in_seq: 0,
        session_auth: None,
    };
    if let Err(why) = c.run().await {
        tracing::debug!(mon = %c.shared.cfg.name, why, "fake monitor connection ended");
    }
}

fn io(e: std::io::Error) -> String {
    e.to_string()
}

impl Conn {
    async fn wait_unfrozen(&mut self) {
        // An error means the monitor is gone; the task is aborted anyway.
        let _ = self.frozen.wait_for(|f| !*f).await;
    }

    /// Reads more bytes into the buffer; `Err` on EOF.
    async fn fill(&mut self) -> Outcome {
        let mut b = [0u8; 16 * 1024];
        let n = self.sock.read(&mut b).await.map_err(io)?;
        if n == 0 {
            return Err("client closed the connection".into());
        }
        // What arrives while frozen stays unprocessed until thawed.
        self.wait_unfrozen().await;
        if let Some(log) = self.rx_log.as_mut() {
            if log.len() + n > MAX_PRE_AUTH {
                return Err("too much data before authentication".into());
            }
            log.extend_from_slice(&b[..n]);
        }
        self.inbuf.extend_from_slice(&b[..n]);
        Ok(())
    }

    async fn frame(&mut self) -> Result<Frame, String> {
        loop {
            match self.codec.decode(&mut self.inbuf) {
                Ok(Some(f)) => return Ok(f),
                Ok(None) => self.fill().await?,
                Err(e) => return Err(format!("bad frame from client: {e}")),
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Outcome {
        self.wait_unfrozen().await;
        if let Some(log) = self.tx_log.as_mut() {
            log.extend_from_slice(bytes);
        }
        self.sock.write_all(bytes).await.map_err(io)
    }

    /// Encodes and sends a frame, breaking it if the CRC fault is on.
    async fn send_frame(&mut self, tag: Tag, segments: &[(&[u8], u16)]) -> Outcome {
        let mut bytes = self
            .codec
            .encode(tag, segments)
            .map_err(|e| e.to_string())?;
        if self.shared.fault(|f| &f.corrupt_crc) {
            match self.codec.mode() {
                // The preamble CRC: the client rejects the frame at once.
                ConMode::Crc => bytes[28] ^= 0xff,
                // The GCM tag of the last block.
                ConMode::Secure => *bytes.last_mut().expect("frames are not empty") ^= 0xff,
            }
        }
        self.write(&bytes).await
    }

    async fn send<P: ControlPayload>(&mut self, p: &P) -> Outcome {
        let payload = p.to_payload();
        self.send_frame(P::TAG, &[(&payload, align::DEFAULT)]).await
    }

    async fn send_message(&mut self, body: OutBody, tid: u64) -> Outcome {
        self.out_seq += 1;
        let mut msg = Message::new(body.ty, body.version, 1, body.front);
        msg.tid = tid;
        msg.data = body.data.into();
        let header = msg.header(self.out_seq, self.in_seq).encode();
        self.send_frame(Tag::Message, &msg.segments(&header)).await
    }

    /// Holds the socket open, discarding input, until the client leaves.
    async fn hold(&mut self) -> Outcome {
        let mut b = [0u8; 4096];
        loop {
            if self.sock.read(&mut b).await.map_err(io)? == 0 {
                return Ok(());
            }
        }
    }

    async fn run(&mut self) -> Outcome {
        self.wait_unfrozen().await;
        if self.shared.fault(|f| &f.say_nothing) {
            return self.hold().await;
        }
        if self.shared.fault(|f| &f.garbage_banner) {
            self.write(GARBAGE_BANNER).await?;
            return self.hold().await;
        }
        let offer_compression = self.shared.cfg.offer_compression;
        let ours = Banner {
            supported: features::REVISION_1
                | if offer_compression {
                    features::COMPRESSION
                } else {
                    0
                },
            required: 0,
        };
        self.write(&ours.encode()).await?;
        let theirs = loop {
            match Banner::parse(&mut self.inbuf) {
                Ok(Some(b)) => break b,
                Ok(None) => self.fill().await?,
                Err(e) => return Err(format!("client banner: {e}")),
            }
        };
        let client_banner = theirs;
        if theirs.supported & features::REVISION_1 == 0 {
            return Err("client does not speak msgr2 revision 1".into());
        }
        let f = self.frame().await?;
        expect::<Hello>(&f)?;
        if self.shared.fault(|f| &f.huge_segment) {
            let pre = Preamble {
                tag: Tag::Hello,
                segments: vec![SegmentDesc {
                    len: 0xffff_fff0,
                    align: align::DEFAULT,
                }],
                flags: 0,
            };
            self.write(&pre.encode()).await?;
            return self.hold().await;
        }
        let peer = self.sock.peer_addr().map_err(io)?;
        self.send(&Hello {
            entity_type: ENTITY_TYPE_MON,
            peer_addr: EntityAddr::new(ceph_types::EntityAddrType::Msgr2, peer, 0),
        })
        .await?;
        if self.shared.fault(|f| &f.out_of_order) {
            self.send_server_ident().await?;
            return self.hold().await;
        }
        let Some((global_id, mode, session_key, secret)) = self.authenticate().await? else {
            return self.hold().await;
        };
        // Our signature covers everything received up to the last auth frame.
        let rx = self.rx_log.take().unwrap_or_default();
        let covered = &rx[..rx.len() - self.inbuf.len()];
        let mut ours = signature(session_key.secret(), covered);
        let sent = self.tx_log.take().unwrap_or_default();
        let expected = signature(session_key.secret(), &sent);
        if mode == ConMode::Secure {
            self.codec
                .enable_secure(&secret, true)
                .map_err(|e| e.to_string())?;
        }
        if self.shared.fault(|f| &f.bad_signature) {
            ours[0] ^= 0xff;
        }
        self.send(&AuthSignature { sha256: ours }).await?;
        let f = self.frame().await?;
        let theirs = expect::<AuthSignature>(&f)?;
        if theirs.sha256 != expected {
            return Err("client's AUTH_SIGNATURE does not match".into());
        }
        let client_banner = client_banner.supported;
        if offer_compression && client_banner & features::COMPRESSION != 0 {
            // msgr2.1: the client asks, the server decides, before idents.
            let f = self.frame().await?;
            let req = expect::<CompressionRequest>(&f)?;
            self.shared
                .stats()
                .compression_requests
                .push(req.is_compress);
            let force = self.shared.fault(|f| &f.force_compression);
            self.send(&CompressionDone {
                is_compress: force,
                method: if force { 2 } else { 0 },
            })
            .await?;
        }
        let f = self.frame().await?;
        let ident = expect::<ClientIdent>(&f)?;
        // Counted before the client can see it, so a test that saw the
        // session come up also sees it counted.
        self.shared.stats().sessions.push(mode);
        self.send_server_ident().await?;
        tracing::debug!(mon = %self.shared.cfg.name, global_id, ?mode, "fake monitor session up");
        let features = ident.supported_features & CLIENT_FEATURES_ALL;
        self.serve_session(features).await
    }

    async fn send_server_ident(&mut self) -> Outcome {
        self.send(&ServerIdent {
            addrs: crate::v2_addrvec(self.shared.addr),
            gid: -1,
            global_seq: 1,
            supported_features: CLIENT_FEATURES_ALL,
            required_features: 0,
            flags: CONNECT_LOSSY,
            cookie: 0,
        })
        .await
    }

    /// Runs CephX; `Ok(None)` after refusing the client (AUTH_BAD_METHOD
    /// sent).
    #[allow(clippy::type_complexity)]
    async fn authenticate(
        &mut self,
    ) -> Result<Option<(u64, ConMode, ceph_auth::CryptoKey, Vec<u8>)>, String> {
        let f = self.frame().await?;
        let req = expect::<AuthRequest>(&f)?;
        let cfg = self.shared.cfg.clone();
        let allowed: Vec<u32> = cfg.modes.iter().map(|m| m.wire()).collect();
        let mode = req
            .preferred_modes
            .iter()
            .find(|m| allowed.contains(m))
            .and_then(|m| ConMode::from_wire(*m));
        let initial = cephx::parse_initial_request(&req.payload);
        let Some(mode) = mode else {
            // As a monitor does: no common connection mode is EOPNOTSUPP.
            return self
                .refuse_with(
                    req.method,
                    &allowed,
                    "no common connection mode",
                    -EOPNOTSUPP,
                )
                .await;
        };
        // A connection to a daemon presents an authorizer instead.
        if req.method == AUTH_METHOD_CEPHX
            && req.payload.first() == Some(&ceph_auth::client::AUTH_MODE_AUTHORIZER)
        {
            let check = match self.shared.cephx.check_authorizer(&req.payload) {
                Ok(c) => c,
                Err(why) => return self.refuse(req.method, &allowed, &why).await,
            };
            let (payload, secret) = self
                .shared
                .cephx
                .authorizer_reply(&check, mode == ConMode::Secure)
                .map_err(|e| e.to_string())?;
            self.send(&AuthDone {
                global_id: check.global_id,
                con_mode: mode.wire(),
                payload,
            })
            .await?;
            return Ok(Some((check.global_id, mode, check.session_key, secret)));
        }
        let Ok(initial) = initial else {
            return self
                .refuse(req.method, &allowed, "bad method or payload")
                .await;
        };
        if req.method != AUTH_METHOD_CEPHX || initial.name != cfg.client_name {
            return self.refuse(req.method, &allowed, "unknown entity").await;
        }
        let server_challenge: u64 = rand::random();
        self.send(&AuthReplyMore {
            payload: cephx::challenge_payload(server_challenge),
        })
        .await?;
        let f = self.frame().await?;
        let more = expect::<AuthRequestMore>(&f)?;
        let auth = match cephx::check_authenticate(&more.payload, &cfg.client_key, server_challenge)
        {
            Ok(a) => a,
            Err(Refusal::WrongKey) => return self.refuse(req.method, &allowed, "wrong key").await,
            Err(Refusal::Malformed(why)) => return Err(format!("bad CephX request: {why}")),
        };
        // A client reclaiming its global id gets it back, as a monitor does
        // for a valid reclaim.
        let global_id = match initial.old_global_id {
            0 => cfg.global_id,
            old => old,
        };
        let grant = self
            .shared
            .cephx
            .grant(
                &cfg.client_name,
                &cfg.client_key,
                global_id,
                auth.other_keys,
                mode == ConMode::Secure,
            )
            .map_err(|e| e.to_string())?;
        self.session_auth = Some(cephx::SessionAuth {
            name: cfg.client_name.clone(),
            client_key: cfg.client_key.clone(),
            global_id,
            server_challenge,
            auth_session_key: grant.session_key.clone(),
        });
        self.send(&AuthDone {
            global_id,
            con_mode: mode.wire(),
            payload: grant.payload,
        })
        .await?;
        Ok(Some((
            global_id,
            mode,
            grant.session_key,
            grant.connection_secret,
        )))
    }

    #[allow(clippy::type_complexity)]
    async fn refuse(
        &mut self,
        method: u32,
        allowed_modes: &[u32],
        why: &str,
    ) -> Result<Option<(u64, ConMode, ceph_auth::CryptoKey, Vec<u8>)>, String> {
        self.refuse_with(method, allowed_modes, why, -EACCES).await
    }

    /// Sends AUTH_BAD_METHOD with `result`.
    #[allow(clippy::type_complexity)]
    async fn refuse_with(
        &mut self,
        method: u32,
        allowed_modes: &[u32],
        why: &str,
        result: i32,
    ) -> Result<Option<(u64, ConMode, ceph_auth::CryptoKey, Vec<u8>)>, String> {
        tracing::debug!(mon = %self.shared.cfg.name, why, "fake monitor refuses authentication");
        self.shared.stats().auth_refusals += 1;
        self.send(&AuthBadMethod {
            method,
            result,
            allowed_methods: vec![AUTH_METHOD_CEPHX],
            allowed_modes: allowed_modes.to_vec(),
        })
        .await?;
        Ok(None)
    }

    async fn serve_session(&mut self, features: u64) -> Outcome {
        loop {
            let f = self.frame().await?;
            match f.tag {
                Tag::Message => {
                    let (header, msg) = Message::from_frame(&f).map_err(|e| e.to_string())?;
                    self.in_seq = header.seq;
                    self.on_message(msg, features).await?;
                }
                Tag::Keepalive2 => {
                    let k = expect::<Keepalive2>(&f)?;
                    let drop_ack = self.shared.fault(|f| &f.drop_keepalive_acks);
                    {
                        let mut s = self.shared.stats();
                        s.keepalives += 1;
                        if !drop_ack {
                            s.keepalive_acks += 1;
                        }
                    }
                    if !drop_ack {
                        self.send(&Keepalive2Ack { stamp: k.stamp }).await?;
                    }
                }
                Tag::Ack => {}
                other => return Err(format!("unexpected {other:?} in an open session")),
            }
        }
    }

    async fn on_message(&mut self, msg: Message, features: u64) -> Outcome {
        let ignore = self.shared.fault(|f| &f.ignore_commands);
        match msg.ty {
            msg_type::MON_SUBSCRIBE => {
                let sub = messages::MonSubscribe::decode(&msg.front).map_err(|e| e.to_string())?;
                let map = self.shared.monmap();
                if let Some((start, _)) = sub.what.get("monmap") {
                    if *start <= u64::from(map.epoch) {
                        let body = messages::monmap_msg(&map.to_bytes(features));
                        self.shared.stats().monmaps_sent += 1;
                        self.send_message(body, 0).await?;
                    }
                }
            }
            msg_type::MON_COMMAND => {
                let cmd = messages::MonCommand::decode(&msg.front).map_err(|e| e.to_string())?;
                self.shared.stats().commands.push(ReceivedCommand {
                    tid: msg.tid,
                    cmd: cmd.cmd.clone(),
                    answered: !ignore,
                });
                if !ignore {
                    let map = self.shared.monmap();
                    let ctx = CommandContext {
                        cmd: &cmd.cmd,
                        inbl: &msg.data,
                        monmap: &map,
                        mon_name: &self.shared.cfg.name,
                    };
                    let out = (self.shared.cfg.command_handler)(&ctx);
                    let body = messages::command_ack(out.retval, &out.outs, &cmd.cmd, out.outbl);
                    self.send_message(body, msg.tid).await?;
                }
            }
            msg_type::COMMAND => {
                // MCommand, as to a daemon: fsid, then the command strings.
                let mut d = ceph_denc::Decoder::new(&msg.front);
                let cmd = d
                    .array::<16>("fsid")
                    .and_then(|_| <Vec<String> as ceph_denc::Decode>::decode(&mut d))
                    .map_err(|e| e.to_string())?;
                self.shared.stats().commands.push(ReceivedCommand {
                    tid: msg.tid,
                    cmd: cmd.clone(),
                    answered: !ignore,
                });
                if !ignore {
                    let map = self.shared.monmap();
                    let ctx = CommandContext {
                        cmd: &cmd,
                        inbl: &msg.data,
                        monmap: &map,
                        mon_name: &self.shared.cfg.name,
                    };
                    let out = (self.shared.cfg.command_handler)(&ctx);
                    let body = messages::command_reply(out.retval, &out.outs, out.outbl);
                    self.send_message(body, msg.tid).await?;
                }
            }
            msg_type::MON_GET_VERSION => {
                let req = messages::GetVersion::decode(&msg.front).map_err(|e| e.to_string())?;
                self.shared
                    .stats()
                    .version_requests
                    .push((msg.tid, !ignore));
                if !ignore {
                    let (newest, oldest) = self
                        .shared
                        .cfg
                        .map_versions
                        .get(&req.what)
                        .copied()
                        .unwrap_or((0, 0));
                    let body = messages::version_reply(req.handle, newest, oldest);
                    self.send_message(body, msg.tid).await?;
                }
            }
            msg_type::AUTH => {
                let req = messages::AuthMsg::decode(&msg.front).map_err(|e| e.to_string())?;
                let Some(session) = self.session_auth.as_mut() else {
                    return Err("MAuth before authentication".into());
                };
                let mut reply = self.shared.cephx.handle_in_session(session, &req.payload);
                if self.shared.fault(|f| &f.refuse_in_session_auth) {
                    reply.result = -EACCES;
                    reply.payload.clear();
                }
                self.shared
                    .stats()
                    .in_session_auth
                    .push((reply.request_type, reply.result));
                let global_id = session.global_id;
                let body = messages::auth_reply(
                    req.protocol,
                    reply.result,
                    global_id,
                    &reply.payload,
                    if reply.result == 0 { "" } else { "refused" },
                );
                self.send_message(body, 0).await?;
            }
            // Other messages (logs) go unanswered.
            _ => {}
        }
        Ok(())
    }
}

/// Decodes a control frame of the expected kind.
fn expect<P: ControlPayload>(f: &Frame) -> Result<P, String> {
    if f.tag != P::TAG {
        return Err(format!("expected {:?}, got {:?}", P::TAG, f.tag));
    }
    P::from_payload(f.payload()).map_err(|e| format!("bad {:?}: {e}", f.tag))
}
