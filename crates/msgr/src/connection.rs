//! The tokio transport: connects, runs the handshake, then one task owns
//! the socket and serves a clonable [`Sender`] and an event receiver.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use ceph_types::{EntityAddr, EntityAddrType, EntityName, UTime};

use crate::auth::AuthClient;
use crate::error::MsgrError;
use crate::frame::{ConMode, DEFAULT_MAX_SEGMENT_LEN};
use crate::message::Message;
use crate::protocol::{
    ClientHandshake, HandshakeConfig, HandshakeStatus, Session, SessionEvent, SessionInfo,
};

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Who we are (its type goes into HELLO).
    pub name: EntityName,
    /// Ceph features we support / require of the peer.
    pub features_supported: u64,
    pub features_required: u64,
    /// Limit for TCP connect plus the whole handshake.
    pub connect_timeout: Duration,
    /// Largest segment accepted from the peer.
    pub max_segment_len: u32,
    /// gid for CLIENT_IDENT; `None` = the global id from authentication.
    pub gid: Option<i64>,
}

impl ConnectOptions {
    pub fn new(name: EntityName, features_supported: u64, features_required: u64) -> Self {
        ConnectOptions {
            name,
            features_supported,
            features_required,
            connect_timeout: Duration::from_secs(10),
            max_segment_len: DEFAULT_MAX_SEGMENT_LEN,
            gid: None,
        }
    }
}

/// Something that happened on an open connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Message(Message),
    KeepaliveAck(UTime),
    /// The connection ended; no more events follow.
    Closed(CloseReason),
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// Every [`Sender`] was dropped.
    Local,
    /// The peer closed the socket.
    PeerClosed,
    /// An error, rendered as text (the typed error was logged).
    Error(String),
}

enum Command {
    Send(Message),
    Keepalive(UTime),
}

/// Sends on a connection; clone it freely, use it from any task.
#[derive(Debug, Clone)]
pub struct Sender {
    tx: mpsc::UnboundedSender<Command>,
}

impl Sender {
    /// Queues a message (its `seq` is assigned by the connection).
    pub fn send(&self, msg: Message) -> Result<(), MsgrError> {
        self.tx
            .send(Command::Send(msg))
            .map_err(|_| MsgrError::Closed)
    }

    /// Queues a KEEPALIVE2 stamped `stamp`; its ack arrives as
    /// [`Event::KeepaliveAck`].
    pub fn keepalive(&self, stamp: UTime) -> Result<(), MsgrError> {
        self.tx
            .send(Command::Keepalive(stamp))
            .map_err(|_| MsgrError::Closed)
    }
}

/// An open msgr2 connection.
#[derive(Debug)]
pub struct Connection {
    sender: Sender,
    events: mpsc::UnboundedReceiver<Event>,
    peer_addr: SocketAddr,
    info: SessionInfo,
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

    async fn handshake(
        mut stream: TcpStream,
        addr: SocketAddr,
        opts: &ConnectOptions,
        auth: &mut dyn AuthClient,
    ) -> Result<Connection, MsgrError> {
        let target = EntityAddr::new(EntityAddrType::Msgr2, addr, 0);
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
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        // Frames that arrived together with SERVER_IDENT.
        let early = session.receive(&[])?;
        for e in early {
            let _ = ev_tx.send(to_event(e));
        }
        tokio::spawn(run(stream, session, cmd_rx, ev_tx));
        Ok(Connection {
            sender: Sender { tx: cmd_tx },
            events: ev_rx,
            peer_addr: addr,
            info,
        })
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

    pub fn peer_addr(&self) -> SocketAddr {
        self.peer_addr
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
}

fn to_event(e: SessionEvent) -> Event {
    match e {
        SessionEvent::Message(m) => Event::Message(m),
        SessionEvent::KeepaliveAck(t) => Event::KeepaliveAck(t),
    }
}

/// The connection task: owns the socket and the session.
async fn run(
    mut stream: TcpStream,
    mut session: Session,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<Event>,
) {
    let reason = drive(&mut stream, &mut session, &mut commands, &events).await;
    if let CloseReason::Error(e) = &reason {
        tracing::debug!(error = %e, "msgr2 connection closed");
    }
    let _ = events.send(Event::Closed(reason));
}

async fn drive(
    stream: &mut TcpStream,
    session: &mut Session,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    events: &mpsc::UnboundedSender<Event>,
) -> CloseReason {
    let (mut rd, mut wr) = stream.split();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let result: Result<(), MsgrError> = tokio::select! {
            cmd = commands.recv() => match cmd {
                None => return CloseReason::Local,
                Some(Command::Send(m)) => session.send_message(&m).map(|_| ()),
                Some(Command::Keepalive(t)) => session.send_keepalive(t),
            },
            n = rd.read(&mut buf) => match n {
                Ok(0) => return CloseReason::PeerClosed,
                Ok(n) => session.receive(&buf[..n]).map(|evs| {
                    for e in evs {
                        let _ = events.send(to_event(e));
                    }
                }),
                Err(e) => Err(MsgrError::Io(e)),
            },
        };
        if let Err(e) = result {
            return CloseReason::Error(e.to_string());
        }
        let out = session.take_output();
        if !out.is_empty() {
            if let Err(e) = wr.write_all(&out).await {
                return CloseReason::Error(MsgrError::Io(e).to_string());
            }
        }
    }
}
