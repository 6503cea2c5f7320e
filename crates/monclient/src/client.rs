//! The async monitor client: one tokio task owns the [`Core`] state
//! machine and every connection; [`MonClient`] handles talk to it over a
//! channel.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ceph_auth::{CephxClient, CryptoKey};
use ceph_msgr::connection::{CloseReason, ConnectOptions, Connection, Event, LastHeard, Sender};
use ceph_msgr::error::MsgrError;
use ceph_msgr::frame::ConMode;
use ceph_msgr::message::Message;
use ceph_types::features::{CLIENT_FEATURES_ALL, CLIENT_FEATURES_REQUIRED};
use ceph_types::{EntityAddrVec, EntityName, LogPriority, MonMap, UTime};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::cephx::CephxAuth;
use crate::core::{
    Action, ClusterEvent, CommandReply, ConnId, Core, InMessage, MapVersions, MonTarget, Reply,
    SessionConfig, SessionState,
};
use crate::error::MonError;
use crate::tickets::{RenewalCounts, TicketKeeper};

/// Services to get tickets for along with authentication.
const WANT_SERVICES: u32 = 0x01 | 0x04 | 0x10; // mon, osd, mgr

/// How to reach and authenticate to the monitors.
#[derive(Debug, Clone)]
pub struct MonClientOptions {
    /// Who we are (`client.admin`).
    pub name: EntityName,
    /// Our CephX key.
    pub key: CryptoKey,
    /// The monitors to start from (`mon_host`).
    pub mon_addrs: Vec<EntityAddrVec>,
    /// Session lifecycle tunables.
    pub session: SessionConfig,
    /// Limit for one connection attempt (TCP connect + handshake + auth).
    pub attempt_timeout: Duration,
    /// Limit for [`MonClient::connect`] to have a session and a MonMap
    /// (`client_mount_timeout`).
    pub connect_timeout: Duration,
    /// Seed for the random choice of monitors; `None` = from the OS.
    pub seed: Option<u64>,
    /// msgr2 connection modes to offer, preferred first
    /// (`ms_mon_client_mode`; Ceph's default is secure, then crc).
    pub modes: Vec<ConMode>,
    /// `auth_service_ticket_ttl`: daemons judge their rotating secrets
    /// against it (renew once the current one expired more than
    /// `min(30 s, ttl / 4)` ago). Ceph's default is one hour.
    pub service_ticket_ttl: Duration,
    /// The local Ceph configuration these options came from
    /// ([`MonClientOptions::from_config`]). When set, the monitors' central
    /// configuration for this client is applied over it: `connect` waits
    /// for it, and options the conf file and command line left alone follow
    /// it (see [`MonClient::config`]).
    pub config: Option<ceph_config::ClientConfig>,
}

impl MonClientOptions {
    pub fn new(name: EntityName, key: CryptoKey, mon_addrs: Vec<EntityAddrVec>) -> Self {
        MonClientOptions {
            name,
            key,
            mon_addrs,
            session: SessionConfig::default(),
            attempt_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(300),
            seed: None,
            modes: vec![ConMode::Secure, ConMode::Crc],
            service_ticket_ttl: Duration::from_secs(3600),
            config: None,
        }
    }
}

/// Work for the client task.
enum Job {
    Command {
        cmd: Vec<String>,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    },
    Version {
        what: String,
        timeout: Option<Duration>,
    },
    Tell {
        target: MonTarget,
        cmd: Vec<String>,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    },
    Ping {
        target: MonTarget,
        timeout: Option<Duration>,
    },
}

type ReplySender = oneshot::Sender<Result<Reply, MonError>>;

enum Request {
    Submit {
        job: Job,
        reply: ReplySender,
    },
    Subscribe {
        what: String,
        start: u64,
        onetime: bool,
    },
    Unsubscribe {
        what: String,
    },
    Log {
        prio: LogPriority,
        channel: String,
        msg: String,
        queued: oneshot::Sender<u64>,
    },
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// What the handles can read without asking the task.
#[derive(Debug, Clone)]
pub struct Status {
    pub state: SessionState,
    pub monmap: Option<Arc<MonMap>>,
    pub global_id: u64,
    /// Why the last connection attempt failed, if it did.
    pub last_error: Option<Arc<MonError>>,
    /// Sessions established so far: 1 after connecting, each reconnect adds one.
    pub sessions: u64,
    /// The current hunt backoff multiple.
    pub hunt_multiple: f64,
    /// Newest epoch seen of each subscribed map (`monmap`, `osdmap`, `mgrmap`).
    pub epochs: BTreeMap<String, u64>,
    /// Cluster log entries sent with [`MonClient::log`] and not yet
    /// acknowledged by the monitors.
    pub log_pending: usize,
    /// The highest sequence number the monitors acknowledged.
    pub log_acked: u64,
    /// The central configuration the monitors hold for this client
    /// (`ceph config set client ...`), as of the last MConfig.
    pub config: Arc<BTreeMap<String, String>>,
    /// Whether an MConfig has arrived yet.
    pub config_received: bool,
    /// The local configuration with the central one applied (`None` when
    /// the client was not started from a configuration).
    pub client_config: Option<Arc<ceph_config::ClientConfig>>,
    /// The connection mode of the current session (`None` before the
    /// first one).
    pub con_mode: Option<ConMode>,
    /// The rotating service secrets held (daemon entities only).
    pub rotating_secrets: Option<Arc<ceph_auth::RotatingSecrets>>,
    /// Set when rotating secrets arrived already expired by our clock.
    pub clock_skew: Option<String>,
    /// Renewals done over sessions so far.
    pub renewals: RenewalCounts,
}

/// A handle to the monitor client. Clone it freely; the client shuts down
/// when [`MonClient::shutdown`] is called or every handle is dropped.
///
/// ```no_run
/// # async fn demo() -> Result<(), ceph_monclient::MonError> {
/// use ceph_monclient::{MonClient, MonClientOptions};
/// let key = ceph_auth::CryptoKey::from_base64("AQBzNW5mAAAAABAAdD0bJbWKbzBMAw6lHqKCZA==").unwrap();
/// let opts = MonClientOptions::new(
///     "client.admin".parse().unwrap(),
///     key,
///     vec!["[v2:127.0.0.1:3300,v1:127.0.0.1:6789]".parse().unwrap()],
/// );
/// let client = MonClient::connect(opts).await?;
/// let reply = client.command(r#"{"prefix": "mon dump", "format": "json"}"#, Vec::new()).await?;
/// println!("{}", String::from_utf8_lossy(&reply.outbl));
/// client.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MonClient {
    requests: mpsc::UnboundedSender<Request>,
    status: watch::Receiver<Status>,
    events: broadcast::Sender<ClusterEvent>,
    /// For daemons, how long past expiry a rotating secret stays usable.
    rotating_margin: Option<Duration>,
}

/// Events kept for a slow `events()` receiver before it starts missing
/// some (it is told how many it missed).
const EVENT_BUFFER: usize = 1024;

impl MonClient {
    /// Starts the client and waits until it has an authenticated session
    /// and a MonMap, at most `connect_timeout`.
    pub async fn connect(opts: MonClientOptions) -> Result<MonClient, MonError> {
        let timeout = opts.connect_timeout;
        // As C++ clients do, apply the central configuration before use.
        let wants_config = opts.config.is_some();
        let client = Self::start(opts)?;
        let mut status = client.status.clone();
        let ready = async {
            loop {
                {
                    let s = status.borrow_and_update();
                    if matches!(s.state, SessionState::Active { .. })
                        && s.monmap.is_some()
                        && (s.config_received || !wants_config)
                    {
                        return Ok(());
                    }
                    if s.state == SessionState::Shutdown {
                        return Err(MonError::ShuttingDown);
                    }
                    // The monitors refused our credentials: retrying will
                    // not help, so say so now rather than at the timeout.
                    if let Some(e) = s.last_error.as_deref() {
                        if let Some(e) = permanent_auth_failure(e) {
                            return Err(e);
                        }
                    }
                }
                if status.changed().await.is_err() {
                    return Err(MonError::ShuttingDown);
                }
            }
        };
        let result = match tokio::time::timeout(timeout, ready).await {
            Ok(Ok(())) => return Ok(client),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                let last = client.status.borrow().last_error.clone();
                let context = match last {
                    Some(e) => format!("connecting to the monitors (last error: {e})"),
                    None => "connecting to the monitors".to_string(),
                };
                Err(MonError::TimedOut(timeout, context))
            }
        };
        client.shutdown().await;
        result
    }

    /// Starts the client without waiting for a session; requests queue
    /// until one is up.
    pub fn start(opts: MonClientOptions) -> Result<MonClient, MonError> {
        let seed = opts.seed.unwrap_or_else(rand::random);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let core = Core::new(opts.session.clone(), &opts.mon_addrs, seed)?;
        let (req_tx, req_rx) = mpsc::unbounded_channel();
        let (status_tx, status_rx) = watch::channel(Status {
            state: SessionState::Hunting,
            monmap: None,
            global_id: 0,
            last_error: None,
            sessions: 0,
            hunt_multiple: 1.0,
            epochs: BTreeMap::new(),
            log_pending: 0,
            log_acked: 0,
            config: Arc::default(),
            config_received: false,
            client_config: opts.config.clone().map(Arc::new),
            con_mode: None,
            rotating_secrets: None,
            clock_skew: None,
            renewals: RenewalCounts::default(),
        });
        let rotating_margin = crate::tickets::needs_rotating_secrets(&opts.name)
            .then(|| crate::tickets::rotating_margin(opts.service_ticket_ttl));
        let tickets = TicketKeeper::new(&opts.name, opts.service_ticket_ttl);
        let driver = Driver {
            core,
            base_session: opts.session.clone(),
            base_modes: opts.modes.clone(),
            client_config: opts.config.clone().map(Arc::new),
            config_received: false,
            opts,
            status: status_tx,
            conns: HashMap::new(),
            attempts: HashMap::new(),
            last_error: None,
            last_error_changed: false,
            cephx: None,
            events: events.clone(),
            central_config: Arc::default(),
            config_changed: false,
            tickets,
            published_epoch: None,
            con_mode: None,
            published_keeper: 0,
        };
        tokio::spawn(driver.run(req_rx));
        Ok(MonClient {
            requests: req_tx,
            status: status_rx,
            events,
            rotating_margin,
        })
    }

    /// Runs a monitor command (a JSON object, as the `ceph` CLI sends) with
    /// input data, on the quorum. A non-zero `retval` in the reply is the
    /// command's own failure, not an error of the client.
    pub async fn command(
        &self,
        cmd: impl Into<String>,
        inbl: Vec<u8>,
    ) -> Result<CommandReply, MonError> {
        self.command_with_timeout(cmd, inbl, None).await
    }

    /// [`MonClient::command`] with its own deadline.
    pub async fn command_with_timeout(
        &self,
        cmd: impl Into<String>,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, MonError> {
        let job = Job::Command {
            cmd: vec![cmd.into()],
            inbl,
            timeout,
        };
        self.submit_command(job).await
    }

    /// Runs a command on one monitor, by rank or name, over a connection
    /// of its own (`ceph tell mon.b ...`): it works while that monitor is
    /// out of quorum. Fails with `RankDne`/`MonDne` when the MonMap has no
    /// such monitor and `MonUnavailable` when it does not answer.
    pub async fn tell(
        &self,
        target: MonTarget,
        cmd: impl Into<String>,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, MonError> {
        let job = Job::Tell {
            target,
            cmd: vec![cmd.into()],
            inbl,
            timeout,
        };
        self.submit_command(job).await
    }

    /// Pings one monitor (MPing); returns the JSON it answers with (its
    /// health and `mon_status`).
    pub async fn ping_monitor(
        &self,
        target: MonTarget,
        timeout: Option<Duration>,
    ) -> Result<String, MonError> {
        match self.submit(Job::Ping { target, timeout }).await? {
            Reply::Pong(p) => Ok(p),
            other => Err(unexpected(other)),
        }
    }

    /// The newest and oldest epochs the monitors hold of `what` (`osdmap`,
    /// `monmap`, `mgrmap`, `fsmap`).
    pub async fn get_version(
        &self,
        what: &str,
        timeout: Option<Duration>,
    ) -> Result<MapVersions, MonError> {
        let job = Job::Version {
            what: what.into(),
            timeout,
        };
        match self.submit(job).await? {
            Reply::Versions(v) => Ok(v),
            other => Err(unexpected(other)),
        }
    }

    /// [`MonClient::submit`] for a job answered with a command reply.
    async fn submit_command(&self, job: Job) -> Result<CommandReply, MonError> {
        match self.submit(job).await? {
            Reply::Command(r) => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    async fn submit(&self, job: Job) -> Result<Reply, MonError> {
        let (reply, rx) = oneshot::channel();
        self.requests
            .send(Request::Submit { job, reply })
            .map_err(|_| MonError::ShuttingDown)?;
        rx.await.map_err(|_| MonError::ShuttingDown)?
    }

    /// A receiver of everything the subscriptions bring (maps, config,
    /// cluster log), from now on. Wrap it in
    /// `tokio_stream::wrappers::BroadcastStream` for a `Stream`.
    pub fn events(&self) -> broadcast::Receiver<ClusterEvent> {
        self.events.subscribe()
    }

    /// Waits until the client has seen epoch `epoch` (or newer) of `what`
    /// (`monmap`, `osdmap`, `mgrmap`); subscribe to it first.
    pub async fn wait_for_map(
        &self,
        what: &str,
        epoch: u64,
        timeout: Duration,
    ) -> Result<u64, MonError> {
        let mut status = self.status.clone();
        let wait = async {
            loop {
                if let Some(&e) = status.borrow_and_update().epochs.get(what) {
                    if e >= epoch {
                        return Ok(e);
                    }
                }
                if status.changed().await.is_err() {
                    return Err(MonError::ShuttingDown);
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| MonError::TimedOut(timeout, format!("waiting for {what} epoch {epoch}")))?
    }

    /// Sends an entry to the cluster log (`ceph log last` shows it) on
    /// `channel` (`cluster`, `audit`, ...) and returns its sequence number
    /// once queued. Entries are kept and sent again until the monitors
    /// acknowledge them, across session resets too; `status().log_acked`
    /// tells how far they got.
    pub async fn log(&self, prio: LogPriority, channel: &str, msg: &str) -> Result<u64, MonError> {
        let (queued, rx) = oneshot::channel();
        self.requests
            .send(Request::Log {
                prio,
                channel: channel.into(),
                msg: msg.into(),
                queued,
            })
            .map_err(|_| MonError::ShuttingDown)?;
        rx.await.map_err(|_| MonError::ShuttingDown)
    }

    /// Stops wanting `what` (the monitor may still send what it queued).
    pub fn unsubscribe(&self, what: &str) -> Result<(), MonError> {
        self.requests
            .send(Request::Unsubscribe { what: what.into() })
            .map_err(|_| MonError::ShuttingDown)
    }

    /// Subscribes to a map or log (`monmap`, `osdmap`, `mgrmap`, `config`,
    /// `log-info`, ...) from epoch `start`.
    pub fn subscribe(&self, what: &str, start: u64, onetime: bool) -> Result<(), MonError> {
        self.requests
            .send(Request::Subscribe {
                what: what.into(),
                start,
                onetime,
            })
            .map_err(|_| MonError::ShuttingDown)
    }

    /// The session state, MonMap and global id as of now.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// The configuration in effect: the local one the client was started
    /// from ([`MonClientOptions::from_config`]) with the monitors' central
    /// configuration for this client applied, as of the last MConfig.
    /// `None` when the client was not started from a configuration.
    pub fn config(&self) -> Option<Arc<ceph_config::ClientConfig>> {
        self.status.borrow().client_config.clone()
    }

    /// Waits until this daemon entity (`osd.N`, `mds.N`, `mgr.N`) holds
    /// rotating secrets whose current one has not expired more than
    /// `min(30 s, service_ticket_ttl / 4)` ago, as the C++
    /// `MonClient::wait_auth_rotating` does. Returns at once for other
    /// entities. Fails with `TimedOut` after `timeout`, or `ClockSkew` when
    /// the secrets the monitor sends are already expired by our clock.
    pub async fn wait_auth_rotating(&self, timeout: Duration) -> Result<(), MonError> {
        let Some(margin) = self.rotating_margin else {
            return Ok(());
        };
        let mut status = self.status.clone();
        let ready = async {
            loop {
                {
                    let s = status.borrow_and_update();
                    let now = std::time::SystemTime::now();
                    let cutoff = now.checked_sub(margin).unwrap_or(now);
                    if s.rotating_secrets
                        .as_ref()
                        .is_some_and(|r| !r.need_new_secrets(cutoff))
                    {
                        return Ok(());
                    }
                    if let Some(why) = &s.clock_skew {
                        return Err(MonError::ClockSkew(why.clone()));
                    }
                    if s.state == SessionState::Shutdown {
                        return Err(MonError::ShuttingDown);
                    }
                }
                if status.changed().await.is_err() {
                    return Err(MonError::ShuttingDown);
                }
            }
        };
        tokio::time::timeout(timeout, ready)
            .await
            .unwrap_or_else(|_| {
                Err(MonError::TimedOut(
                    timeout,
                    "waiting for rotating service secrets".into(),
                ))
            })
    }

    /// The rotating secrets of this daemon's service type, as last received
    /// (`None` for non-daemon entities or before the first reply). `Debug`
    /// on them redacts the keys.
    pub fn rotating_secrets(&self) -> Option<Arc<ceph_auth::RotatingSecrets>> {
        self.status.borrow().rotating_secrets.clone()
    }

    /// The newest MonMap.
    pub fn monmap(&self) -> Option<Arc<MonMap>> {
        self.status.borrow().monmap.clone()
    }

    /// Fails everything pending with `ShuttingDown`, closes every
    /// connection, and waits for the task to finish.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.requests.send(Request::Shutdown { done: tx }).is_ok() {
            let _ = rx.await;
        }
    }
}

enum ConnEvent {
    Connected {
        conn: ConnId,
        connection: Connection,
        auth: Box<CephxAuth>,
    },
    Failed {
        conn: ConnId,
        error: MonError,
    },
    Event {
        conn: ConnId,
        event: Event,
    },
}

/// An established connection, as the driver holds it.
struct OpenConn {
    sender: Sender,
    /// Forwards the connection's events to the driver.
    reader: JoinHandle<()>,
    /// When the monitor last sent anything, read by the connection task.
    heard: LastHeard,
}

struct Driver {
    core: Core,
    opts: MonClientOptions,
    status: watch::Sender<Status>,
    conns: HashMap<ConnId, OpenConn>,
    attempts: HashMap<ConnId, JoinHandle<()>>,
    last_error: Option<Arc<MonError>>,
    last_error_changed: bool,
    /// The central configuration the monitors gave us, newest first.
    central_config: Arc<BTreeMap<String, String>>,
    config_changed: bool,
    config_received: bool,
    /// Session tunables and modes as the caller gave them; central values
    /// are applied over these, so a withdrawn value falls back to them.
    base_session: SessionConfig,
    base_modes: Vec<ConMode>,
    /// `opts.config` with the central configuration applied.
    client_config: Option<Arc<ceph_config::ClientConfig>>,
    /// Subscribed maps and logs, to every `events()` receiver.
    events: broadcast::Sender<ClusterEvent>,
    /// CephX state of the current session: global id and tickets.
    cephx: Option<CephxClient>,
    tickets: TicketKeeper,
    published_epoch: Option<u32>,
    /// Mode of the current session's connection.
    con_mode: Option<ConMode>,
    /// The keeper generation last published.
    published_keeper: u64,
}

fn unexpected(r: Reply) -> MonError {
    MonError::Protocol(format!("reply of the wrong kind: {r:?}"))
}

/// Maps a messenger failure to the client's error kinds.
fn from_msgr(e: MsgrError, attempt_timeout: Duration) -> MonError {
    match e {
        MsgrError::Io(io) => MonError::Io(io),
        MsgrError::Timeout(what) => MonError::TimedOut(attempt_timeout, what.to_string()),
        MsgrError::Auth(f) => auth_failure(f),
        e => MonError::Protocol(e.to_string()),
    }
}

/// Maps a typed authentication failure to the client's error kinds.
fn auth_failure(f: ceph_msgr::auth::AuthFailure) -> MonError {
    use ceph_msgr::auth::AuthFailureReason as R;
    match (f.reason, f.errno.map(i32::abs)) {
        (R::BadMethod, _) => MonError::AuthMethodNotAllowed(f.detail),
        (R::UnsupportedMode, _) => MonError::ConnectionModeNotAllowed(f.detail),
        (_, Some(crate::cephx::EKEYEXPIRED)) => MonError::TicketExpired(f.detail),
        (R::Rejected, _) => MonError::Auth(f.detail),
        _ => MonError::Auth(format!("the monitor refused us: {f}")),
    }
}

/// A copy of `e` if it is a refusal that retrying cannot fix.
fn permanent_auth_failure(e: &MonError) -> Option<MonError> {
    Some(match e {
        MonError::Auth(w) => MonError::Auth(w.clone()),
        MonError::AuthMethodNotAllowed(w) => MonError::AuthMethodNotAllowed(w.clone()),
        MonError::ConnectionModeNotAllowed(w) => MonError::ConnectionModeNotAllowed(w.clone()),
        _ => return None,
    })
}

impl Driver {
    async fn run(mut self, mut requests: mpsc::UnboundedReceiver<Request>) {
        let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<ConnEvent>();
        let mut pending: HashMap<u64, ReplySender> = HashMap::new();
        let mut shutdown_waiters: Vec<oneshot::Sender<()>> = Vec::new();
        self.core.start(Instant::now().into_std());
        loop {
            while let Some(action) = self.core.poll_action() {
                match action {
                    Action::Connect { conn, addr } => self.spawn_attempt(conn, addr, ev_tx.clone()),
                    Action::Send { conn, tid, body } => {
                        if let Some(OpenConn { sender, .. }) = self.conns.get(&conn) {
                            let mut msg = Message::new(
                                body.ty,
                                body.version,
                                body.compat_version,
                                body.front,
                            );
                            msg.tid = tid;
                            msg.data = body.data.into();
                            // A failed send means the connection is gone;
                            // its Closed event follows.
                            let _ = sender.send(msg);
                        }
                    }
                    Action::Keepalive { conn } => {
                        if let Some(OpenConn { sender, .. }) = self.conns.get(&conn) {
                            let _ = sender.keepalive(UTime::now());
                        }
                    }
                    Action::Close { conn } => {
                        if let Some(open) = self.conns.remove(&conn) {
                            open.reader.abort();
                        }
                        if let Some(attempt) = self.attempts.remove(&conn) {
                            attempt.abort();
                        }
                    }
                    Action::Event(event) => {
                        if let ClusterEvent::Config(options) = &event {
                            self.apply_central_config(options);
                        }
                        // Nobody listening is fine.
                        let _ = self.events.send(event);
                    }
                    Action::AuthReply { reply } => {
                        if let Some(c) = self.cephx.as_mut() {
                            self.tickets.handle_reply(c, &reply);
                        }
                    }
                    Action::Done { tid, result } => {
                        if let Some(tx) = pending.remove(&tid) {
                            let _ = tx.send(result);
                        }
                    }
                }
            }
            self.publish();
            if self.core.state() == SessionState::Shutdown {
                for w in shutdown_waiters.drain(..) {
                    let _ = w.send(());
                }
                // Keep answering until every handle is gone.
                match requests.recv().await {
                    Some(Request::Shutdown { done }) => {
                        let _ = done.send(());
                    }
                    Some(Request::Submit { reply, .. }) => {
                        let _ = reply.send(Err(MonError::ShuttingDown));
                    }
                    Some(Request::Subscribe { .. })
                    | Some(Request::Unsubscribe { .. })
                    | Some(Request::Log { .. }) => {}
                    None => return,
                }
                continue;
            }
            // Liveness as the connection saw it, however far behind the
            // events we have processed are.
            self.note_heard();
            let now = Instant::now().into_std();
            let ticket_check = match (&self.cephx, self.core.active_conn()) {
                (Some(c), Some(_)) => Some(self.tickets.next_check(c, now)),
                _ => None,
            };
            let deadline = [self.core.poll_timeout(), ticket_check]
                .into_iter()
                .flatten()
                .min()
                .map(Instant::from_std);
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                req = requests.recv() => {
                    let now = Instant::now().into_std();
                    match req {
                        None => self.core.shutdown(),
                        Some(Request::Submit { job, reply }) => {
                            // Register the reply first: the core may answer at once.
                            let tid = self.core.next_tid();
                            pending.insert(tid, reply);
                            let started = match job {
                                Job::Command { cmd, inbl, timeout } => self.core.start_command(cmd, inbl, timeout, now),
                                Job::Version { what, timeout } => self.core.start_get_version(&what, timeout, now),
                                Job::Tell { target, cmd, inbl, timeout } => self.core.start_tell(target, cmd, inbl, timeout, now),
                                Job::Ping { target, timeout } => self.core.start_ping(target, timeout, now),
                            };
                            debug_assert_eq!(started, tid);
                        }
                        Some(Request::Subscribe { what, start, onetime }) => self.core.subscribe(&what, start, onetime),
                        Some(Request::Unsubscribe { what }) => self.core.unsubscribe(&what),
                        Some(Request::Log { prio, channel, msg, queued }) => {
                            let name = self.opts.name.clone();
                            let seq = self.core.log(&name, prio, &channel, &msg, UTime::now(), now);
                            let _ = queued.send(seq);
                        }
                        Some(Request::Shutdown { done }) => {
                            shutdown_waiters.push(done);
                            self.core.shutdown();
                        }
                    }
                }
                Some(ev) = ev_rx.recv() => self.on_conn_event(ev, &ev_tx),
                _ = sleep => {
                    self.note_heard();
                    let now = Instant::now().into_std();
                    self.core.handle_timeout(now);
                    self.renew_tickets(now);
                }
            }
        }
    }

    fn spawn_attempt(
        &mut self,
        conn: ConnId,
        addr: SocketAddr,
        events: mpsc::UnboundedSender<ConnEvent>,
    ) {
        let mut opts = ConnectOptions::new(
            self.opts.name.clone(),
            CLIENT_FEATURES_ALL,
            CLIENT_FEATURES_REQUIRED,
        );
        opts.connect_timeout = self.opts.attempt_timeout;
        let attempt_timeout = self.opts.attempt_timeout;
        // Each attempt carries the tickets of the last session, so that the
        // monitor lets it keep our global id (secure global_id reclaim).
        let client = match &self.cephx {
            Some(c) => c.fork(),
            None => CephxClient::new(self.opts.name.clone(), self.opts.key.clone())
                .with_want_keys(WANT_SERVICES),
        };
        let mut auth = CephxAuth::with_client(client, &self.opts.modes);
        let task = tokio::spawn(async move {
            let ev = match Connection::connect(addr, &opts, &mut auth).await {
                Ok(connection) => ConnEvent::Connected {
                    conn,
                    connection,
                    auth: Box::new(auth),
                },
                Err(e) => ConnEvent::Failed {
                    conn,
                    error: from_msgr(e, attempt_timeout),
                },
            };
            let _ = events.send(ev);
        });
        self.attempts.insert(conn, task);
    }

    fn on_conn_event(&mut self, ev: ConnEvent, events: &mpsc::UnboundedSender<ConnEvent>) {
        let now = Instant::now().into_std();
        match ev {
            ConnEvent::Connected {
                conn,
                connection,
                auth,
            } => {
                self.attempts.remove(&conn);
                tracing::debug!(conn, peer = %connection.peer_addr(), mode = ?connection.mode(), "connection authenticated");
                let global_id = connection.global_id();
                let mode = connection.mode();
                let heard = connection.last_heard();
                let (sender, mut rx) = connection.split();
                let events = events.clone();
                let reader = tokio::spawn(async move {
                    while let Some(event) = rx.recv().await {
                        let closed = matches!(event, Event::Closed(_));
                        if events.send(ConnEvent::Event { conn, event }).is_err() || closed {
                            break;
                        }
                    }
                });
                self.conns.insert(
                    conn,
                    OpenConn {
                        sender,
                        reader,
                        heard,
                    },
                );
                self.core.handle_connected(conn, global_id, now);
                if self.core.active_conn() == Some(conn) {
                    self.cephx = Some(auth.client);
                    self.con_mode = Some(mode);
                }
            }
            ConnEvent::Failed { conn, error } => {
                self.attempts.remove(&conn);
                self.forget_expired_ticket(&error);
                self.core.handle_closed(conn, &error, now);
                self.last_error = Some(Arc::new(error));
                self.last_error_changed = true;
            }
            ConnEvent::Event { conn, event } => match event {
                Event::Message(m) => {
                    self.core.handle_message(
                        conn,
                        InMessage {
                            ty: m.ty,
                            version: m.version,
                            tid: m.tid,
                            front: &m.front,
                            data: &m.data,
                        },
                        now,
                    );
                }
                Event::KeepaliveAck(_) => self.core.handle_keepalive_ack(conn, now),
                Event::Closed(reason) => {
                    self.conns.remove(&conn);
                    let error = match reason {
                        CloseReason::Error(e) => MonError::Protocol(e),
                        CloseReason::PeerClosed | CloseReason::Local => MonError::SessionReset,
                    };
                    self.core.handle_closed(conn, &error, now);
                }
            },
        }
    }

    /// Tells the core when the session's monitor last sent anything.
    fn note_heard(&mut self) {
        if let Some(conn) = self.core.active_conn() {
            if let Some(open) = self.conns.get(&conn) {
                self.core.handle_heard(conn, open.heard.get().into_std());
            }
        }
    }

    /// Asks for fresh tickets (and rotating secrets) over the session when
    /// some are due.
    fn renew_tickets(&mut self, now: std::time::Instant) {
        if self.core.active_conn().is_none() {
            return;
        }
        if let Some(c) = self.cephx.as_mut() {
            for (protocol, payload) in self.tickets.poll(c, now) {
                self.core.send_auth(protocol, payload);
            }
        }
    }

    /// After the monitor refused our expired auth ticket, the next attempt
    /// authenticates afresh (and gets a new global id) instead of
    /// presenting it again.
    fn forget_expired_ticket(&mut self, error: &MonError) {
        if matches!(error, MonError::TicketExpired(_)) && self.cephx.is_some() {
            tracing::warn!("auth ticket expired and refused; authenticating afresh");
            self.cephx = None;
        }
    }

    /// Takes a new central configuration: keeps it for `Status`, and
    /// applies it over the local configuration, if we have one.
    fn apply_central_config(&mut self, options: &BTreeMap<String, String>) {
        self.central_config = Arc::new(options.clone());
        self.config_changed = true;
        self.config_received = true;
        let Some(local) = &self.opts.config else {
            return;
        };
        let (effective, ignored) = local.with_mon_values(options);
        for i in &ignored {
            tracing::warn!(option = %i.option, reason = %i.reason, "central config value ignored");
        }
        let picked = |o: &str| effective.source(o) == Some(ceph_config::OptionSource::Mon);
        let mut session = self.base_session.clone();
        crate::settings::apply_to_session(&mut session, &effective, picked);
        self.core.set_config(session, Instant::now().into_std());
        self.opts.modes = if picked("ms_mon_client_mode") {
            crate::settings::con_modes(&effective)
        } else {
            self.base_modes.clone()
        };
        tracing::debug!(options = options.len(), "central config applied");
        self.client_config = Some(Arc::new(effective));
    }

    fn publish(&mut self) {
        let state = self.core.state();
        let epoch = self.core.monmap().map(|m| m.epoch);
        let global_id = self.core.global_id();
        let sessions = self.core.sessions();
        let hunt_multiple = self.core.hunt_multiple();
        let keeper = self.tickets.generation();
        let changed = {
            let cur = self.status.borrow();
            cur.state != state
                || self.published_epoch != epoch
                || cur.global_id != global_id
                || cur.sessions != sessions
                || cur.hunt_multiple != hunt_multiple
                || &cur.epochs != self.core.epochs()
                || cur.log_pending != self.core.log_pending()
                || cur.log_acked != self.core.log_acked()
                || self.config_changed
                || self.last_error_changed
                || cur.con_mode != self.con_mode
                || self.published_keeper != keeper
        };
        if changed {
            self.published_epoch = epoch;
            self.last_error_changed = false;
            self.config_changed = false;
            self.published_keeper = keeper;
            let monmap = self.core.monmap().cloned().map(Arc::new);
            self.status.send_replace(Status {
                state,
                monmap,
                global_id,
                last_error: self.last_error.clone(),
                sessions,
                hunt_multiple,
                epochs: self.core.epochs().clone(),
                log_pending: self.core.log_pending(),
                log_acked: self.core.log_acked(),
                config: self.central_config.clone(),
                config_received: self.config_received,
                client_config: self.client_config.clone(),
                con_mode: self.con_mode,
                rotating_secrets: self.tickets.rotating_secrets(),
                clock_skew: self.tickets.clock_skew(),
                renewals: self.tickets.counts(),
            });
        }
    }
}
