//! An in-process fake Ceph monitor for fault tests.
//!
//! [`FakeMon`] listens on `127.0.0.1`, speaks the server side of msgr2
//! (banner, HELLO, CephX with a real challenge and real tickets,
//! AUTH_SIGNATURE both ways, SERVER_IDENT, crc and secure modes) and answers
//! what a monitor client asks: MonMap subscriptions, commands (through a
//! configurable handler), version requests and keepalives.
//!
//! Faults a real monitor cannot be made to show are switched at run time
//! through the handle: [`FakeMon::freeze`], [`FakeMon::drop_keepalive_acks`],
//! [`FakeMon::ignore_commands`], [`FakeMon::accept_and_say_nothing`],
//! [`FakeMon::send_garbage_banner`], [`FakeMon::corrupt_next_frame_crc`],
//! [`FakeMon::bad_auth_signature`], [`FakeMon::huge_segment_length`],
//! [`FakeMon::close_all`], [`FakeMon::kill`] and [`FakeMon::restart`].
//!
//! ```no_run
//! # async fn demo() {
//! use ceph_fakemon::{FakeCluster, FakeMonConfig};
//! let key = ceph_fakemon::cephx::random_key();
//! let cfg = FakeMonConfig::new("client.admin".parse().unwrap(), key);
//! let cluster = FakeCluster::start(3, cfg).await;
//! let addrs = cluster.mon_addrs(); // for MonClientOptions::mon_addrs
//! cluster.mons[0].ignore_commands(true);
//! # let _ = addrs; }
//! ```

#![forbid(unsafe_code)]

pub mod cephx;
mod conn;
pub mod messages;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ceph_auth::CryptoKey;
use ceph_msgr::frame::ConMode;
use ceph_types::errno::EINVAL;
use ceph_types::{EntityAddr, EntityAddrType, EntityAddrVec, EntityName, MonInfo, MonMap, Uuid};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A command as the handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct CommandContext<'a> {
    /// The command strings (normally one JSON object).
    pub cmd: &'a [String],
    /// Input data.
    pub inbl: &'a [u8],
    /// The MonMap this monitor serves.
    pub monmap: &'a MonMap,
    /// This monitor's name.
    pub mon_name: &'a str,
}

/// A handler's answer: what goes into MMonCommandAck.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandOutcome {
    pub retval: i32,
    pub outs: String,
    pub outbl: Vec<u8>,
}

/// Answers monitor commands.
pub type CommandHandler = Arc<dyn Fn(&CommandContext<'_>) -> CommandOutcome + Send + Sync>;

/// The default handler: `{"prefix": "mon dump", ...}` gives the MonMap as
/// JSON (as `ceph mon dump -f json` prints it), anything else `-EINVAL`.
pub fn default_command_handler(ctx: &CommandContext<'_>) -> CommandOutcome {
    let prefix = ctx
        .cmd
        .first()
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|v| v.get("prefix").and_then(|p| p.as_str()).map(str::to_string));
    match prefix.as_deref() {
        Some("mon dump") => CommandOutcome {
            retval: 0,
            outs: format!("dumped monmap epoch {}", ctx.monmap.epoch),
            outbl: ctx.monmap.to_json().to_string().into_bytes(),
        },
        _ => CommandOutcome {
            retval: -EINVAL,
            outs: format!("command not known: {:?}", ctx.cmd),
            outbl: Vec::new(),
        },
    }
}

/// How a fake monitor behaves when no fault is switched on.
#[derive(Clone)]
pub struct FakeMonConfig {
    /// The monitor's name in the MonMap.
    pub name: String,
    /// The one client entity that may authenticate, and its key.
    pub client_name: EntityName,
    pub client_key: CryptoKey,
    /// The global id given in AUTH_DONE (a client reclaiming an older one
    /// gets that one back).
    pub global_id: u64,
    /// The MonMap to serve; `None` = a one-monitor map of this monitor.
    pub monmap: Option<MonMap>,
    /// Connection modes accepted; the client's first acceptable one wins.
    pub modes: Vec<ConMode>,
    /// Answers MMonCommand.
    pub command_handler: CommandHandler,
    /// Answers MMonGetVersion: map name to (newest, oldest); others (0, 0).
    pub map_versions: BTreeMap<String, (u64, u64)>,
    /// Validity of the tickets issued.
    pub ticket_validity: Duration,
    /// Advertise msgr2.1 compression negotiation in the banner, as Quincy
    /// and later monitors do (the fake never compresses).
    pub offer_compression: bool,
}

impl std::fmt::Debug for FakeMonConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeMonConfig")
            .field("name", &self.name)
            .field("client_name", &self.client_name)
            .field("client_key", &self.client_key)
            .field("global_id", &self.global_id)
            .field("modes", &self.modes)
            .field("map_versions", &self.map_versions)
            .finish_non_exhaustive()
    }
}

impl FakeMonConfig {
    /// A monitor named `a` accepting `client_name` with `client_key`, both
    /// modes, the default command handler, osdmap versions (42, 1).
    pub fn new(client_name: EntityName, client_key: CryptoKey) -> Self {
        FakeMonConfig {
            name: "a".into(),
            client_name,
            client_key,
            global_id: 4100,
            monmap: None,
            modes: vec![ConMode::Secure, ConMode::Crc],
            command_handler: Arc::new(default_command_handler),
            map_versions: BTreeMap::from([("osdmap".to_string(), (42, 1))]),
            ticket_validity: Duration::from_secs(3600),
            offer_compression: true,
        }
    }
}

/// A command a monitor received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedCommand {
    /// The message tid (the client's request id).
    pub tid: u64,
    pub cmd: Vec<String>,
    /// Whether this monitor answered it.
    pub answered: bool,
}

/// Counters of what a monitor saw, cumulative over restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// TCP connections accepted.
    pub connections: u64,
    /// Handshakes that reached SERVER_IDENT, with the mode each used.
    pub sessions: Vec<ConMode>,
    /// Authentications refused.
    pub auth_refusals: u64,
    /// KEEPALIVE2 frames received, and acks sent.
    pub keepalives: u64,
    pub keepalive_acks: u64,
    /// MMonCommand received, in order.
    pub commands: Vec<ReceivedCommand>,
    /// MMonGetVersion received (by tid) and whether answered.
    pub version_requests: Vec<(u64, bool)>,
    /// MMonMap messages sent.
    pub monmaps_sent: u64,
    /// MAuth requests inside sessions: the CephX request type and the
    /// result answered (0 or a negative errno).
    pub in_session_auth: Vec<(u16, i32)>,
    /// COMPRESSION_REQUEST frames received: whether each asked to compress.
    pub compression_requests: Vec<bool>,
}

impl Stats {
    /// How many in-session CephX requests of `request_type` were answered
    /// with success.
    pub fn renewals(&self, request_type: u16) -> usize {
        self.in_session_auth
            .iter()
            .filter(|(t, r)| *t == request_type && *r == 0)
            .count()
    }
}

impl Stats {
    /// How many times a command with `tid` arrived.
    pub fn commands_received(&self, tid: u64) -> usize {
        self.commands.iter().filter(|c| c.tid == tid).count()
    }

    /// How many times a command with `tid` was answered.
    pub fn commands_answered(&self, tid: u64) -> usize {
        self.commands
            .iter()
            .filter(|c| c.tid == tid && c.answered)
            .count()
    }

    /// Commands answered, whatever their tid.
    pub fn answered_total(&self) -> usize {
        self.commands.iter().filter(|c| c.answered).count()
    }
}

/// Switchable faults; each is read at the point where it applies.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub drop_keepalive_acks: AtomicBool,
    pub ignore_commands: AtomicBool,
    pub say_nothing: AtomicBool,
    pub garbage_banner: AtomicBool,
    pub corrupt_crc: AtomicBool,
    pub bad_signature: AtomicBool,
    pub huge_segment: AtomicBool,
    pub refuse_in_session_auth: AtomicBool,
    pub force_compression: AtomicBool,
    pub out_of_order: AtomicBool,
}

#[derive(Default)]
struct Tasks {
    acceptor: Option<JoinHandle<()>>,
    conns: Vec<JoinHandle<()>>,
}

/// State shared by the handle, the acceptor and every connection task.
pub(crate) struct Shared {
    pub cfg: FakeMonConfig,
    pub addr: SocketAddr,
    pub monmap: Mutex<MonMap>,
    pub faults: Faults,
    /// `true` while frozen; connections wait for it to turn `false`.
    pub frozen: watch::Sender<bool>,
    pub stats: Mutex<Stats>,
    pub cephx: Arc<cephx::CephxServer>,
    tasks: Mutex<Tasks>,
}

impl Shared {
    pub fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn monmap(&self) -> MonMap {
        self.monmap
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn fault(&self, f: impl Fn(&Faults) -> &AtomicBool) -> bool {
        f(&self.faults).load(Ordering::SeqCst)
    }

    fn tasks(&self) -> std::sync::MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake monitor; clone the handle freely.
#[derive(Clone)]
pub struct FakeMon {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FakeMon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeMon")
            .field("name", &self.shared.cfg.name)
            .field("addr", &self.shared.addr)
            .finish_non_exhaustive()
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let sock = TcpSocket::new_v4()?;
    // Lets restart() take the same port while old connections linger.
    sock.set_reuseaddr(true)?;
    sock.bind(addr)?;
    sock.listen(128)
}

/// A v2 address vector for a monitor listening on `addr`.
pub fn v2_addrvec(addr: SocketAddr) -> EntityAddrVec {
    EntityAddrVec::from(EntityAddr::new(EntityAddrType::Msgr2, addr, 0))
}

impl FakeMon {
    /// Starts a monitor on `127.0.0.1` and an OS-chosen port. Must run
    /// inside a tokio runtime. Panics if no port can be bound (a test
    /// environment failure).
    pub async fn start(cfg: FakeMonConfig) -> FakeMon {
        let cephx = Arc::new(cephx::CephxServer::new(cfg.ticket_validity));
        Self::start_with(cfg, cephx).await
    }

    /// Starts a fake daemon (an MDS, OSD or manager stand-in) that takes
    /// authorizers for the tickets `issuer` hands out, and answers MCommand
    /// with `cfg`'s command handler.
    pub async fn start_daemon(cfg: FakeMonConfig, issuer: &FakeMon) -> FakeMon {
        Self::start_with(cfg, issuer.shared.cephx.clone()).await
    }

    async fn start_with(cfg: FakeMonConfig, cephx: Arc<cephx::CephxServer>) -> FakeMon {
        let listener = bind("127.0.0.1:0".parse().expect("literal address"))
            .expect("binding a loopback port for the fake monitor");
        let addr = listener.local_addr().expect("bound address");
        let monmap = cfg.monmap.clone().unwrap_or_else(|| {
            let mut m = MonMap {
                fsid: Uuid([0x5a; 16]),
                epoch: 1,
                min_mon_release: 16,
                ..MonMap::default()
            };
            m.add(MonInfo::new(cfg.name.clone(), v2_addrvec(addr)));
            m
        });
        let shared = Arc::new(Shared {
            cephx,
            cfg,
            addr,
            monmap: Mutex::new(monmap),
            faults: Faults::default(),
            frozen: watch::channel(false).0,
            stats: Mutex::new(Stats::default()),
            tasks: Mutex::new(Tasks::default()),
        });
        let mon = FakeMon { shared };
        mon.spawn_acceptor(listener);
        mon
    }

    fn spawn_acceptor(&self, listener: TcpListener) {
        let shared = self.shared.clone();
        let acceptor = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let _ = sock.set_nodelay(true);
                shared.stats().connections += 1;
                let task = tokio::spawn(conn::serve(shared.clone(), sock));
                let mut tasks = shared.tasks();
                tasks.conns.retain(|t| !t.is_finished());
                tasks.conns.push(task);
            }
        });
        self.shared.tasks().acceptor = Some(acceptor);
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// Its address as a MonMap / `mon_host` entry (`[v2:127.0.0.1:PORT/0]`).
    pub fn addrvec(&self) -> EntityAddrVec {
        v2_addrvec(self.shared.addr)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.shared.cfg.name
    }

    /// The global id it hands out.
    pub fn global_id(&self) -> u64 {
        self.shared.cfg.global_id
    }

    /// Replaces the MonMap it serves (sent on the next subscription).
    pub fn set_monmap(&self, map: MonMap) {
        *self.shared.monmap.lock().unwrap_or_else(|e| e.into_inner()) = map;
    }

    /// The MonMap it serves.
    pub fn monmap(&self) -> MonMap {
        self.shared.monmap()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats().clone()
    }

    /// Freezes (`true`): stops processing and writing on every connection,
    /// new ones included, keeping the sockets open. `false` resumes.
    pub fn freeze(&self, on: bool) {
        self.shared.frozen.send_replace(on);
    }

    /// Keeps reading keepalives but never acks them.
    pub fn drop_keepalive_acks(&self, on: bool) {
        self.set(|f| &f.drop_keepalive_acks, on);
    }

    /// Acks keepalives but never answers commands or version requests (a
    /// monitor that is alive but not serving, e.g. out of quorum).
    pub fn ignore_commands(&self, on: bool) {
        self.set(|f| &f.ignore_commands, on);
    }

    /// New connections are accepted and then get nothing at all.
    pub fn accept_and_say_nothing(&self, on: bool) {
        self.set(|f| &f.say_nothing, on);
    }

    /// New connections get text instead of the msgr2 banner.
    pub fn send_garbage_banner(&self, on: bool) {
        self.set(|f| &f.garbage_banner, on);
    }

    /// Every connection's next frame (and later ones while on) carries a
    /// bad CRC (crc mode) or a broken GCM tag (secure mode).
    pub fn corrupt_next_frame_crc(&self, on: bool) {
        self.set(|f| &f.corrupt_crc, on);
    }

    /// The monitor's AUTH_SIGNATURE does not match what the client sent.
    pub fn bad_auth_signature(&self, on: bool) {
        self.set(|f| &f.bad_signature, on);
    }

    /// New connections get SERVER_IDENT right after HELLO, before any
    /// authentication (frames out of order).
    pub fn send_frames_out_of_order(&self, on: bool) {
        self.set(|f| &f.out_of_order, on);
    }

    /// COMPRESSION_DONE turns compression on although the client asked
    /// for none.
    pub fn force_compression(&self, on: bool) {
        self.set(|f| &f.force_compression, on);
    }

    /// Every MAuth inside a session (ticket renewals, rotating secrets) is
    /// answered with `-EACCES`.
    pub fn refuse_in_session_auth(&self, on: bool) {
        self.set(|f| &f.refuse_in_session_auth, on);
    }

    /// New connections get, instead of HELLO, a frame whose preamble
    /// announces a segment of nearly 4 GiB (with a valid preamble CRC).
    pub fn huge_segment_length(&self, on: bool) {
        self.set(|f| &f.huge_segment, on);
    }

    fn set(&self, f: impl Fn(&Faults) -> &AtomicBool, on: bool) {
        f(&self.shared.faults).store(on, Ordering::SeqCst);
    }

    /// Closes every open connection; keeps listening.
    pub async fn close_all(&self) {
        let conns = std::mem::take(&mut self.shared.tasks().conns);
        for t in &conns {
            t.abort();
        }
        // Waiting makes sure the sockets are closed on return.
        for t in conns {
            let _ = t.await;
        }
    }

    /// Stops listening and closes every connection; the port stays
    /// reserved for [`FakeMon::restart`]. Counters and faults are kept.
    pub async fn kill(&self) {
        let acceptor = self.shared.tasks().acceptor.take();
        if let Some(a) = acceptor {
            a.abort();
            let _ = a.await;
        }
        self.close_all().await;
    }

    /// Listens again on the same port after [`FakeMon::kill`] (a no-op if
    /// it is running).
    pub async fn restart(&self) -> std::io::Result<()> {
        if self.shared.tasks().acceptor.is_some() {
            return Ok(());
        }
        let listener = bind(self.shared.addr)?;
        self.spawn_acceptor(listener);
        Ok(())
    }

    /// Whether it is listening.
    pub fn is_running(&self) -> bool {
        self.shared.tasks().acceptor.is_some()
    }
}

/// Several fake monitors sharing one MonMap that names them all.
#[derive(Debug, Clone)]
pub struct FakeCluster {
    /// The monitors, named `a`, `b`, ... in start order.
    pub mons: Vec<FakeMon>,
    pub monmap: MonMap,
}

impl FakeCluster {
    /// Starts `n` monitors from `template` (each gets its own name and
    /// global id `template.global_id + 1000 * index`) and gives them a
    /// MonMap listing all of them.
    pub async fn start(n: usize, template: FakeMonConfig) -> FakeCluster {
        let mut mons = Vec::with_capacity(n);
        for i in 0..n {
            let mut cfg = template.clone();
            cfg.name = ((b'a' + (i % 26) as u8) as char).to_string();
            cfg.global_id = template.global_id + 1000 * i as u64;
            mons.push(FakeMon::start(cfg).await);
        }
        let mut monmap = MonMap {
            fsid: Uuid([0x5a; 16]),
            epoch: 3,
            min_mon_release: 16,
            ..MonMap::default()
        };
        for m in &mons {
            monmap.add(MonInfo::new(m.name().to_string(), m.addrvec()));
        }
        for m in &mons {
            m.set_monmap(monmap.clone());
        }
        FakeCluster { mons, monmap }
    }

    /// Every monitor's address vector, in start order (for `mon_host`).
    pub fn mon_addrs(&self) -> Vec<EntityAddrVec> {
        self.mons.iter().map(FakeMon::addrvec).collect()
    }

    /// The monitor listening on `addr`.
    pub fn by_addr(&self, addr: SocketAddr) -> Option<&FakeMon> {
        self.mons.iter().find(|m| m.addr() == addr)
    }

    /// Kills every monitor.
    pub async fn kill_all(&self) {
        for m in &self.mons {
            m.kill().await;
        }
    }

    /// Restarts every monitor.
    pub async fn restart_all(&self) -> std::io::Result<()> {
        for m in &self.mons {
            m.restart().await?;
        }
        Ok(())
    }

    /// Sum of every monitor's counters for a command tid: (received,
    /// answered).
    pub fn command_counts(&self, tid: u64) -> (usize, usize) {
        self.mons.iter().fold((0, 0), |(r, a), m| {
            let s = m.stats();
            (r + s.commands_received(tid), a + s.commands_answered(tid))
        })
    }
}
