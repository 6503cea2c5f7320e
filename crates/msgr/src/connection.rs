//! The tokio transport: connects, runs the handshake (msgr2 or msgr1),
//! then one task owns the socket and serves a clonable [`Sender`] and an
//! event receiver. Which protocol a connection speaks shows only in
//! [`Connection::protocol`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use ceph_types::{EntityAddr, EntityAddrType, EntityName, EntityType, UTime};

use crate::auth::AuthClient;
use crate::error::MsgrError;
use crate::frame::{ConMode, DEFAULT_MAX_SEGMENT_LEN};
use crate::message::Message;
use crate::protocol::{
    ClientHandshake, HandshakeConfig, HandshakeStatus, Session, SessionEvent, SessionInfo,
};
use crate::v1::{ClientHandshakeV1, HandshakeConfigV1, SessionV1};

/// The messenger protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// msgr1 (`ceph v027`), the legacy protocol (port 6789 on monitors).
    V1,
    /// msgr2 (`ceph v2`), port 3300 on monitors.
    V2,
}

impl Protocol {
    /// The protocol an address of this type is spoken with: `v1` addresses
    /// are msgr1, every other type msgr2.
    pub fn of_addr_type(ty: EntityAddrType) -> Protocol {
        match ty {
            EntityAddrType::Legacy => Protocol::V1,
            _ => Protocol::V2,
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Protocol::V1 => "v1",
            Protocol::V2 => "v2",
        })
    }
}

/// What the connection task needs of an established session, whichever
/// protocol it speaks.
trait WireSession: Send + 'static {
    fn receive(&mut self, data: &[u8]) -> Result<Vec<SessionEvent>, MsgrError>;
    fn take_output(&mut self) -> Vec<u8>;
    fn send_message(&mut self, msg: &Message) -> Result<(), MsgrError>;
    fn send_keepalive(&mut self, stamp: UTime) -> Result<(), MsgrError>;
}

impl WireSession for Session {
    fn receive(&mut self, data: &[u8]) -> Result<Vec<SessionEvent>, MsgrError> {
        Session::receive(self, data)
    }
    fn take_output(&mut self) -> Vec<u8> {
        Session::take_output(self)
    }
    fn send_message(&mut self, msg: &Message) -> Result<(), MsgrError> {
        Session::send_message(self, msg).map(|_| ())
    }
    fn send_keepalive(&mut self, stamp: UTime) -> Result<(), MsgrError> {
        Session::send_keepalive(self, stamp)
    }
}

impl WireSession for SessionV1 {
    fn receive(&mut self, data: &[u8]) -> Result<Vec<SessionEvent>, MsgrError> {
        SessionV1::receive(self, data)
    }
    fn take_output(&mut self) -> Vec<u8> {
        SessionV1::take_output(self)
    }
    fn send_message(&mut self, msg: &Message) -> Result<(), MsgrError> {
        SessionV1::send_message(self, msg).map(|_| ())
    }
    fn send_keepalive(&mut self, stamp: UTime) -> Result<(), MsgrError> {
        SessionV1::send_keepalive(self, stamp)
    }
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Who we are (its type goes into HELLO).
    pub name: EntityName,
    /// Ceph features we support / require of the peer.
    pub features_supported: u64,
    /// Ceph features the peer must have.
    pub features_required: u64,
    /// Limit for TCP connect plus the whole handshake.
    pub connect_timeout: Duration,
    /// Largest segment accepted from the peer.
    pub max_segment_len: u32,
    /// gid for CLIENT_IDENT; `None` = the global id from authentication.
    pub gid: Option<i64>,
    /// The nonce of the address we connect to, as the peer publishes it
    /// (0 for monitors; daemons' addresses carry a random one, and they
    /// refuse a CLIENT_IDENT aimed at another).
    pub target_nonce: u32,
}

impl ConnectOptions {
    /// Options for `name` with these features and the default limits.
    pub fn new(name: EntityName, features_supported: u64, features_required: u64) -> Self {
        ConnectOptions {
            name,
            features_supported,
            features_required,
            connect_timeout: Duration::from_secs(10),
            max_segment_len: DEFAULT_MAX_SEGMENT_LEN,
            gid: None,
            target_nonce: 0,
        }
    }
}

/// Something that happened on an open connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A message from the peer.
    Message(Message),
    /// The peer answered our keepalive stamped with this time.
    KeepaliveAck(UTime),
    /// The connection ended; no more events follow.
    Closed(CloseReason),
}

/// Why a connection ended.
#[derive(Debug, Clone)]
pub enum CloseReason {
    /// Every [`Sender`] was dropped.
    Local,
    /// The peer closed the socket.
    PeerClosed,
    /// The messenger's error.
    Error(Arc<MsgrError>),
}

/// Errors compare by what they say (the typed error is not comparable).
impl PartialEq for CloseReason {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (CloseReason::Local, CloseReason::Local) => true,
            (CloseReason::PeerClosed, CloseReason::PeerClosed) => true,
            (CloseReason::Error(a), CloseReason::Error(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

/// When the peer last sent us anything, as the connection task saw it:
/// read the moment bytes arrive, so a consumer that is behind on
/// processing events still knows the peer is alive.
#[derive(Debug, Clone)]
pub struct LastHeard {
    base: tokio::time::Instant,
    /// Nanoseconds after `base`.
    nanos: Arc<AtomicU64>,
}

impl LastHeard {
    fn new(now: tokio::time::Instant) -> Self {
        LastHeard {
            base: now,
            nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    fn mark(&self, now: tokio::time::Instant) {
        let nanos = now.saturating_duration_since(self.base).as_nanos();
        self.nanos
            .fetch_max(u64::try_from(nanos).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The last time bytes arrived from the peer (the end of the handshake
    /// before any did).
    pub fn get(&self) -> tokio::time::Instant {
        self.base + Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

/// Sends on a connection; clone it freely, use it from any task.
#[derive(Debug, Clone)]
pub struct Sender {
    messages: mpsc::UnboundedSender<Message>,
    keepalives: mpsc::UnboundedSender<UTime>,
}

impl Sender {
    /// Queues a message (its `seq` is assigned by the connection).
    pub fn send(&self, msg: Message) -> Result<(), MsgrError> {
        self.messages.send(msg).map_err(|_| MsgrError::Closed)
    }

    /// Queues a KEEPALIVE2 stamped `stamp`, ahead of messages not yet
    /// written; its ack arrives as [`Event::KeepaliveAck`].
    pub fn keepalive(&self, stamp: UTime) -> Result<(), MsgrError> {
        self.keepalives.send(stamp).map_err(|_| MsgrError::Closed)
    }
}

/// An open connection (msgr2 or msgr1).
#[derive(Debug)]
pub struct Connection {
    sender: Sender,
    events: mpsc::UnboundedReceiver<Event>,
    heard: LastHeard,
    peer_addr: SocketAddr,
    info: SessionInfo,
    protocol: Protocol,
}

impl Connection {
    /// Connects to a monitor's msgr2 address and runs the handshake,
    /// authenticating with `auth`.
    pub async fn connect(
        addr: SocketAddr,
        opts: &ConnectOptions,
        auth: &mut dyn AuthClient,
    ) -> Result<Connection, MsgrError> {
        let work = async {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Self::handshake(stream, addr, opts, auth).await
        };
        tokio::time::timeout(opts.connect_timeout, work)
            .await
            .map_err(|_| MsgrError::Timeout("connecting"))?
    }

    /// Connects to `addr` with the protocol its type names (`v1`: msgr1,
    /// otherwise msgr2), the peer being of type `peer_type` (msgr1 needs
    /// it: monitors authenticate clients in messages, other daemons by
    /// authorizer).
    pub async fn connect_to(
        addr: &EntityAddr,
        peer_type: EntityType,
        opts: &ConnectOptions,
        auth: &mut dyn AuthClient,
    ) -> Result<Connection, MsgrError> {
        let sock = addr
            .addr
            .ok_or_else(|| MsgrError::protocol(format!("address {addr} has no IP and port")))?;
        match Protocol::of_addr_type(addr.ty) {
            Protocol::V1 => Self::connect_v1(sock, peer_type, opts, auth).await,
            Protocol::V2 => Self::connect(sock, opts, auth).await,
        }
    }

    /// Connects to a msgr1 address and runs the msgr1 handshake: towards a
    /// monitor, authentication follows in MAuth messages; towards another
    /// daemon, CONNECT carries the authorizer `auth` makes (its
    /// `initial_payload`, redone with the server's challenge by
    /// `handle_reply_more`; the server's reply goes to `handle_done`, and
    /// the session key it yields signs the messages).
    pub async fn connect_v1(
        addr: SocketAddr,
        peer_type: EntityType,
        opts: &ConnectOptions,
        auth: &mut dyn AuthClient,
    ) -> Result<Connection, MsgrError> {
        let work = async {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Self::handshake_v1(stream, addr, peer_type, opts, auth).await
        };
        tokio::time::timeout(opts.connect_timeout, work)
            .await
            .map_err(|_| MsgrError::Timeout("connecting"))?
    }

    async fn handshake_v1(
        mut stream: TcpStream,
        addr: SocketAddr,
        peer_type: EntityType,
        opts: &ConnectOptions,
        auth: &mut dyn AuthClient,
    ) -> Result<Connection, MsgrError> {
        let mut cfg = HandshakeConfigV1::client(
            peer_type.code(),
            opts.features_supported,
            opts.features_required,
        );
        cfg.entity_type = opts.name.ty.code() as u8;
        cfg.max_message_len = u64::from(opts.max_segment_len) * 3;
        let mut hs = ClientHandshakeV1::new(cfg, auth)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let out = hs.take_output();
            if !out.is_empty() {
                stream.write_all(&out).await?;
            }
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err(MsgrError::Closed);
            }
            if hs.receive(&buf[..n])? {
                break;
            }
        }
        let out = hs.take_output();
        let (mut session, info, early) = hs.into_session()?;
        let mut out = out;
        out.extend_from_slice(&session.take_output());
        if !out.is_empty() {
            stream.write_all(&out).await?;
        }
        Ok(Self::spawn(
            stream,
            session,
            addr,
            info,
            early,
            Protocol::V1,
        ))
    }

    /// Starts the connection task for an established session.
    fn spawn<S: WireSession>(
        stream: TcpStream,
        session: S,
        addr: SocketAddr,
        info: SessionInfo,
        early: Vec<SessionEvent>,
        protocol: Protocol,
    ) -> Connection {
        let (msg_tx, msg_rx) = mpsc::unbounded_channel();
        let (keepalive_tx, keepalive_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let heard = LastHeard::new(tokio::time::Instant::now());
        for e in early {
            let _ = ev_tx.send(to_event(e));
        }
        let queues = Queues {
            messages: msg_rx,
            keepalives: keepalive_rx,
            events: ev_tx,
            heard: heard.clone(),
        };
        tokio::spawn(run(stream, session, queues));
        Connection {
            sender: Sender {
                messages: msg_tx,
                keepalives: keepalive_tx,
            },
            events: ev_rx,
            heard,
            peer_addr: addr,
            info,
            protocol,
        }
    }

    async fn handshake(
        mut stream: TcpStream,
        addr: SocketAddr,
        opts: &ConnectOptions,
        auth: &mut dyn AuthClient,
    ) -> Result<Connection, MsgrError> {
        let target = EntityAddr::new(EntityAddrType::Msgr2, addr, opts.target_nonce);
        let mut cfg =
            HandshakeConfig::client(target, opts.features_supported, opts.features_required);
        cfg.entity_type = opts.name.ty.code() as u8;
        cfg.max_segment_len = opts.max_segment_len;
        cfg.gid = opts.gid;
        let mut hs = ClientHandshake::new(cfg, auth);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let out = hs.take_output();
            if !out.is_empty() {
                stream.write_all(&out).await?;
            }
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err(MsgrError::Closed);
            }
            if hs.receive(&buf[..n])? == HandshakeStatus::Ready {
                break;
            }
        }
        let (mut session, info) = hs.into_session()?;
        let out = session.take_output();
        if !out.is_empty() {
            stream.write_all(&out).await?;
        }
        // Frames that arrived together with SERVER_IDENT.
        let early = session.receive(&[])?;
        Ok(Self::spawn(
            stream,
            session,
            addr,
            info,
            early,
            Protocol::V2,
        ))
    }

    /// A handle for sending; clonable.
    pub fn sender(&self) -> Sender {
        self.sender.clone()
    }

    /// Queues a message.
    pub fn send(&self, msg: Message) -> Result<(), MsgrError> {
        self.sender.send(msg)
    }

    /// The next event; `None` after [`Event::Closed`] was delivered.
    pub async fn recv(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Splits into the sender and the event receiver.
    pub fn split(self) -> (Sender, mpsc::UnboundedReceiver<Event>) {
        (self.sender, self.events)
    }

    /// The socket address connected to.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer_addr
    }

    /// When the peer last sent anything; stays readable after
    /// [`Connection::split`] if cloned first.
    pub fn last_heard(&self) -> LastHeard {
        self.heard.clone()
    }

    /// Ceph features both sides support.
    pub fn features(&self) -> u64 {
        self.info.features
    }

    /// The global id the monitor assigned while authenticating.
    pub fn global_id(&self) -> u64 {
        self.info.global_id
    }

    /// crc or secure.
    pub fn mode(&self) -> ConMode {
        self.info.mode
    }

    /// Everything the handshake learned.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// The messenger protocol this connection speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }
}

fn to_event(e: SessionEvent) -> Event {
    match e {
        SessionEvent::Message(m) => Event::Message(m),
        SessionEvent::KeepaliveAck(t) => Event::KeepaliveAck(t),
    }
}

/// What the connection task reads from and writes to.
struct Queues {
    messages: mpsc::UnboundedReceiver<Message>,
    keepalives: mpsc::UnboundedReceiver<UTime>,
    events: mpsc::UnboundedSender<Event>,
    heard: LastHeard,
}

/// Encoded bytes waiting for the socket beyond which no more messages are
/// taken from the queue: keeps a keepalive from waiting behind megabytes of
/// requests, and the queue (not memory of ours) holds the backlog.
const OUTPUT_HIGH_WATER: usize = 256 * 1024;

// The connection task's read buffer: its first and largest size.
const READ_BUF_MIN: usize = 4 * 1024;
const READ_BUF_MAX: usize = 64 * 1024;

/// How long queued bytes may take to leave after every sender is gone.
const FLUSH_ON_CLOSE: Duration = Duration::from_secs(5);

/// The connection task: owns the socket and the session.
async fn run<S: WireSession>(mut stream: TcpStream, mut session: S, mut queues: Queues) {
    let reason = drive(&mut stream, &mut session, &mut queues).await;
    if let CloseReason::Error(e) = &reason {
        tracing::debug!(error = %e, "connection closed");
    }
    let _ = queues.events.send(Event::Closed(reason));
}

/// Reads and writes at once: a peer that is slow to read our requests
/// never stops us reading its replies (and so noticing it is alive).
async fn drive<S: WireSession>(
    stream: &mut TcpStream,
    session: &mut S,
    queues: &mut Queues,
) -> CloseReason {
    let (mut rd, mut wr) = stream.split();
    // Small while the peer sends little (an idle session holds it for
    // good), doubled whenever a read fills it.
    let mut buf = vec![0u8; READ_BUF_MIN];
    // Bytes encoded and not yet written, from `written` on.
    let mut pending: Vec<u8> = Vec::new();
    let mut written = 0usize;
    let mut keepalives_open = true;
    loop {
        // Keepalives jump the queue of messages not yet encoded.
        while let Ok(stamp) = queues.keepalives.try_recv() {
            if let Err(e) = session.send_keepalive(stamp) {
                return CloseReason::Error(Arc::new(e));
            }
        }
        let out = session.take_output();
        if written == pending.len() {
            // Nothing waiting: take the session's buffer as it is.
            pending = out;
            written = 0;
        } else {
            pending.extend_from_slice(&out);
        }
        let backlog = pending.len() - written;
        // Unbiased: a peer that never stops sending must not starve our
        // writes, nor our writes its reads.
        let result: Result<(), MsgrError> = tokio::select! {
            stamp = queues.keepalives.recv(), if keepalives_open => match stamp {
                Some(t) => session.send_keepalive(t),
                None => {
                    keepalives_open = false;
                    Ok(())
                }
            },
            n = rd.read(&mut buf) => match n {
                Ok(0) => return CloseReason::PeerClosed,
                Ok(n) => {
                    queues.heard.mark(tokio::time::Instant::now());
                    if n == buf.len() && buf.len() < READ_BUF_MAX {
                        buf.resize(buf.len() * 2, 0);
                    }
                    session.receive(&buf[..n]).map(|evs| {
                        for e in evs {
                            let _ = queues.events.send(to_event(e));
                        }
                    })
                }
                Err(e) => Err(MsgrError::Io(e)),
            },
            n = wr.write(&pending[written..]), if backlog > 0 => match n {
                Ok(0) => Err(MsgrError::Closed),
                Ok(n) => {
                    written += n;
                    Ok(())
                }
                Err(e) => Err(MsgrError::Io(e)),
            },
            msg = queues.messages.recv(), if backlog < OUTPUT_HIGH_WATER => match msg {
                Some(m) => session.send_message(&m).map(|_| ()),
                None => {
                    // Every sender is gone: what was queued still goes out.
                    pending.extend_from_slice(&session.take_output());
                    let rest = &pending[written..];
                    let _ = tokio::time::timeout(FLUSH_ON_CLOSE, wr.write_all(rest)).await;
                    return CloseReason::Local;
                }
            },
        };
        if let Err(e) = result {
            return CloseReason::Error(Arc::new(e));
        }
    }
}
