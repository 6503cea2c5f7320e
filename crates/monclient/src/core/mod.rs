//! The monitor client as a state machine, with no I/O and no clock of its
//! own: it is fed events (a connection came up, a message arrived, a
//! connection closed, time passed, the user asked for something) with the
//! current time, and answers with [`Action`]s for its driver to carry out.
//! Every rule (hunting, backoff, keepalive timeout, resends, deadlines) can
//! so be tested with simulated time.
//!
//! # Why the keepalive defaults are shorter than Ceph's
//!
//! Ceph's C++ client pings every 10 s and gives up after 30 s of silence,
//! so a frozen monitor (SIGSTOP, a hung disk, a dead host behind a live
//! switch) costs its clients 30–40 s. We ping every second and give up
//! after 2.5 s ([`SessionConfig::default`]), checked at its own deadline
//! rather than at the next tick, so a frozen monitor costs 2.5 s plus one
//! connection attempt. This is safe because a monitor answers KEEPALIVE2 in
//! its messenger, not in its dispatcher: a monitor that is busy, electing,
//! or slow to commit still acks within milliseconds; only a process that
//! cannot run, or a network path that is gone, stays silent. The traffic is
//! one 44-byte frame each way per second per client (about 44 kB/s for a
//! thousand clients on one monitor). A slow but alive monitor looks like
//! acks that come back late but come back; a reconnect needs two and a half
//! intervals of nothing. The `loaded_soak` test runs a client against real
//! monitors for ten minutes with every CPU of the machine spun by busy
//! threads and requires that it never reconnects.
//!
//! # Why a busy monitor is never taken for a dead one
//!
//! Liveness counts anything the monitor sent, timed when the connection
//! read it ([`Core::handle_heard`]), not when the driver got round to the
//! event: a backlog of replies on our side cannot starve the check. The
//! stall probe (a monitor that acks keepalives but serves nothing) needs a
//! request left unanswered *and* no answer at all for `stall_timeout`, so a
//! monitor working through a deep queue is left alone. Requests in flight
//! on a session are capped at `max_in_flight` ([`DEFAULT_MAX_IN_FLIGHT`]):
//! a monitor reads a flood from one connection before it writes anything
//! back, keepalive acks included, and 200,000 requests sent at once kept
//! one silent for more than the ping timeout. Finding the next deadline
//! and the oldest request in flight costs O(log n), so the cost of a reply
//! does not grow with the number pending.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ceph_denc::Decode;
use ceph_msgr::frame::ConMode;
use ceph_types::{EntityAddr, EntityAddrType, EntityAddrVec, MonMap};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::MonError;

mod central;
mod clog;
mod credentials;
mod directed;
pub(crate) mod settings;
mod subs;
use crate::messages::{
    msg_type, AuthMsg, AuthReply, Body, GetVersion, GetVersionReply, MonCommand, MonCommandAck,
    MonMapMsg, MonSubscribe, SubscribeItem,
};
use directed::Directed;
pub use directed::MonTarget;
pub use subs::ClusterEvent;

/// First wait before hunting again after every monitor refused us.
const FIRST_REFUSED_RETRY: Duration = Duration::from_millis(200);

/// The default window of requests in flight on one session: enough to keep
/// a monitor busy (it answers small commands at 5,000–10,000 a second, so
/// this is a fraction of a second of its work) without burying it.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// Identifies one connection attempt / session for the driver.
pub type ConnId = u64;

/// Tunables of the session lifecycle (Ceph option names in parentheses).
/// Start from `SessionConfig::default()` and change fields (new ones may be
/// added).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    /// Base interval between hunting rounds (`mon_client_hunt_interval`).
    pub hunt_interval: Duration,
    /// Growth of the hunt interval after each reopen
    /// (`mon_client_hunt_interval_backoff`).
    pub hunt_backoff: f64,
    /// Lower bound of the hunt interval's multiple
    /// (`mon_client_hunt_interval_min_multiple`).
    pub hunt_min_multiple: f64,
    /// Upper bound of the hunt interval's multiple
    /// (`mon_client_hunt_interval_max_multiple`).
    pub hunt_max_multiple: f64,
    /// Connections tried at once while hunting; 0 = all (`mon_client_hunt_parallel`).
    pub hunt_parallel: usize,
    /// How often a keepalive is sent (`mon_client_ping_interval`).
    pub ping_interval: Duration,
    /// A session whose monitor sent nothing at all this long is dropped
    /// (`mon_client_ping_timeout`).
    pub ping_timeout: Duration,
    /// Deadline for every command without its own (`rados_mon_op_timeout`);
    /// `None` waits for ever.
    pub command_timeout: Option<Duration>,
    /// How many times one command is sent before it fails with
    /// `SessionReset`.
    pub max_command_attempts: u32,
    /// Requests sent on a session and not yet answered, at most; more
    /// wait in order and go out as answers come. A monitor reads a flood
    /// from one connection before it writes anything back (keepalive acks
    /// included), so an unbounded pipeline makes a busy monitor look
    /// dead. 0 = no limit.
    pub max_in_flight: usize,
    /// Requests unanswered this long on a session whose keepalives still
    /// come back mean the monitor is alive but not serving (out of quorum,
    /// stuck): other monitors are then probed without dropping the session,
    /// and the client moves to the first that answers. `None` never probes.
    pub stall_timeout: Option<Duration>,
    /// How often unacknowledged cluster log entries are sent again
    /// (`mon_client_log_interval`).
    pub log_interval: Duration,
    /// Attempts of a request to one monitor (tell, ping) before it fails
    /// with `MonUnavailable` (`mon_client_directed_command_retry`).
    pub directed_retry: u32,
    /// Host name sent with subscriptions.
    pub hostname: String,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            hunt_interval: Duration::from_secs(3),
            hunt_backoff: 1.5,
            hunt_min_multiple: 1.0,
            hunt_max_multiple: 10.0,
            hunt_parallel: 3,
            ping_interval: Duration::from_secs(1),
            ping_timeout: Duration::from_millis(2500),
            command_timeout: None,
            max_command_attempts: 10,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            stall_timeout: Some(Duration::from_secs(5)),
            directed_retry: 2,
            log_interval: Duration::from_secs(1),
            hostname: String::new(),
        }
    }
}

/// One monitor we may talk to.
#[derive(Debug, Clone, PartialEq)]
pub struct MonEntry {
    /// Its name in the MonMap (`a`), or a made-up one for `mon_host`
    /// entries before the first MonMap.
    pub name: String,
    /// Its rank, once a MonMap gave one.
    pub rank: Option<usize>,
    /// The address that identifies the monitor (its preferred one).
    pub addr: SocketAddr,
    /// MonMap priority: lower is tried first.
    pub priority: u16,
    /// MonMap weight among monitors of equal priority.
    pub weight: u16,
    /// Where to connect, preferred first (a `v2` address before a `v1`
    /// one); the driver races them.
    pub targets: Vec<EntityAddr>,
}

impl MonEntry {
    /// An entry for the addresses of one monitor, v2 preferred; `None` if
    /// none has an IP and port.
    pub fn from_addrs(name: String, rank: Option<usize>, addrs: &EntityAddrVec) -> Option<Self> {
        let mut targets: Vec<EntityAddr> = addrs
            .addrs
            .iter()
            .filter(|a| a.addr.is_some())
            .filter(|a| matches!(a.ty, EntityAddrType::Msgr2 | EntityAddrType::Legacy))
            .cloned()
            .collect();
        // Stable: v2 first, otherwise as given.
        targets.sort_by_key(|a| a.ty != EntityAddrType::Msgr2);
        targets.dedup();
        Some(MonEntry {
            name,
            rank,
            addr: targets.first()?.addr?,
            priority: 0,
            weight: 0,
            targets,
        })
    }
}

/// The answer to a monitor command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandReply {
    /// 0 or a negative errno.
    pub retval: i32,
    /// The status string (`ceph` prints it on stderr).
    pub outs: String,
    /// The output (`ceph` prints it on stdout).
    pub outbl: Vec<u8>,
}

/// Newest and oldest epochs of a map, from `get_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapVersions {
    /// The newest epoch the monitors hold.
    pub newest: u64,
    /// The oldest epoch they still keep.
    pub oldest: u64,
}

/// What the driver must do.
#[derive(Debug)]
pub enum Action {
    /// Open and authenticate a connection to monitor `mon` (identified by
    /// `addr`) at one of `targets` (v2 preferred, raced with v1), then
    /// report `handle_connected` or `handle_closed` for `conn`. Empty
    /// `targets`: none the configuration allows (msgr1 cannot do secure
    /// mode); the driver reports that as a permanent failure.
    Connect {
        /// The connection's id in later events.
        conn: ConnId,
        /// The monitor's identifying (preferred) address.
        addr: SocketAddr,
        /// The monitor's name.
        mon: String,
        /// Where to connect, preferred first.
        targets: Vec<EntityAddr>,
    },
    /// Send a message on an established connection.
    Send {
        /// The connection.
        conn: ConnId,
        /// The message's transaction id (header `tid`).
        tid: u64,
        /// The encoded message.
        body: Body,
    },
    /// Send a KEEPALIVE2 on an established connection.
    Keepalive {
        /// The connection.
        conn: ConnId,
    },
    /// Drop a connection (or abandon an attempt).
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// The monitors pushed something we subscribed to.
    Event(ClusterEvent),
    /// A request finished.
    Done {
        /// The request's id, as given to `submit`.
        tid: u64,
        /// How it ended.
        result: Result<Reply, MonError>,
    },
}

/// The answer to a request, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// A monitor command, to the quorum or to one monitor.
    Command(CommandReply),
    /// `get_version`.
    Versions(MapVersions),
    /// `ping_monitor`: the monitor's health and status JSON.
    Pong(String),
}

/// A received message, as the core needs it.
#[derive(Debug, Clone, Copy)]
pub struct InMessage<'a> {
    /// Message type (see [`crate::messages::msg_type`]).
    pub ty: u16,
    /// Encoding version from the header.
    pub version: u16,
    /// Transaction id from the header.
    pub tid: u64,
    /// The front segment.
    pub front: &'a [u8],
    /// The data segment.
    pub data: &'a [u8],
}

/// Where the session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionState {
    /// No session; connection attempts are under way.
    Hunting,
    /// Talking to this monitor.
    Active {
        /// The monitor's name.
        mon: String,
        /// Its address.
        addr: SocketAddr,
    },
    /// Shut down; every request fails.
    Shutdown,
}

struct Attempt {
    mon: MonEntry,
    started: Instant,
    /// Opened while a session exists, to look for a monitor that serves
    /// requests the current one leaves waiting.
    probe: bool,
}

struct Active {
    conn: ConnId,
    mon: MonEntry,
    since: Instant,
    /// When the monitor last sent anything (bytes read, as the driver
    /// reports them, or a keepalive ack).
    last_heard: Instant,
    /// When a request of ours was last answered on this session: a busy
    /// monitor keeps answering, a stuck one does not.
    last_answer: Instant,
    next_ping: Instant,
}

/// What a caller asks the monitors for: one enum for every kind, from the
/// handle through the driver to the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A monitor command (JSON words) with input data, to the quorum.
    Command {
        /// The command, as JSON text (Ceph sends a list; one is usual).
        cmd: Vec<String>,
        /// Input data (`-i FILE`).
        inbl: Vec<u8>,
    },
    /// The newest and oldest epochs of a map (`osdmap`, `monmap`, ...).
    Version {
        /// The map: `osdmap`, `monmap`, `mgrmap`, `fsmap`.
        what: String,
    },
    /// A command to one monitor, over a connection of its own.
    Tell {
        /// The monitor.
        target: MonTarget,
        /// The command, as JSON text.
        cmd: Vec<String>,
        /// Input data.
        inbl: Vec<u8>,
    },
    /// MPing to one monitor: its health and status.
    Ping {
        /// The monitor.
        target: MonTarget,
    },
}

/// A request waiting for its answer; resent on every new session.
struct Pending {
    /// A `Command` or a `Version`.
    kind: Request,
    attempts: u32,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    /// The session it was last sent on, and when.
    sent_on: Option<ConnId>,
    sent_at: Option<Instant>,
}

struct SubState {
    item: SubscribeItem,
    /// Sent on the current session, not changed since.
    sent: bool,
}

/// The monitor client's whole state.
pub struct Core {
    cfg: SessionConfig,
    rng: StdRng,
    mons: Vec<MonEntry>,
    monmap: Option<std::sync::Arc<MonMap>>,
    monmap_epoch: u32,
    fsid: [u8; 16],
    attempts: HashMap<ConnId, Attempt>,
    tried: HashSet<SocketAddr>,
    active: Option<Active>,
    shutdown: bool,
    had_session: bool,
    hunt_multiple: f64,
    hunt_round_deadline: Option<Instant>,
    /// Stall probes measure from no earlier than this (the last failed
    /// probe), so failing probes do not repeat at once.
    next_probe_after: Option<Instant>,
    next_conn: ConnId,
    /// Sessions established so far (1 after the first connect; more means
    /// the client reconnected).
    sessions: u64,
    next_tid: u64,
    requests: BTreeMap<u64, Pending>,
    /// `requests` with a deadline, by deadline: finding the next one costs
    /// the same with ten requests pending or a hundred thousand.
    deadlines: BTreeSet<(Instant, u64)>,
    /// `requests` sent on the current session, by when they were sent.
    in_flight: BTreeSet<(Instant, u64)>,
    /// `requests` not sent on the current session yet, in tid order.
    waiting: BTreeSet<u64>,
    /// Cluster log entries we send, until acknowledged.
    clog: clog::LogQueue,
    /// Newest epoch seen per map.
    epochs: BTreeMap<String, u64>,
    /// When a legacy monitor (no stateful subscriptions) wants them renewed.
    sub_renew_at: Option<Instant>,
    /// Early retry after every monitor refused, and its growing delay.
    refused_retry_at: Option<Instant>,
    refused_backoff: Duration,
    /// Requests for one monitor, and their connections.
    directed: BTreeMap<u64, Directed>,
    directed_conns: HashMap<ConnId, u64>,
    subs: BTreeMap<String, SubState>,
    actions: VecDeque<Action>,
    global_id: u64,
    /// CephX: set with [`Core::with_credentials`].
    credentials: Option<credentials::Credentials>,
    /// The caller's settings, the local configuration and the central one.
    layers: central::Layers,
}

impl Core {
    /// A client that will hunt among `initial` (from mon_host) until a
    /// MonMap names the monitors. `seed` drives every random choice.
    pub fn new(cfg: SessionConfig, initial: &[EntityAddrVec], seed: u64) -> Result<Self, MonError> {
        let mons: Vec<MonEntry> = initial
            .iter()
            .enumerate()
            .filter_map(|(i, av)| {
                let name = format!("noname-{}", (b'a' + (i % 26) as u8) as char);
                MonEntry::from_addrs(name, None, av)
            })
            .collect();
        if mons.is_empty() {
            return Err(MonError::Config(
                "no monitor address (v1 or v2) with an IP and port in mon_host".into(),
            ));
        }
        // The MonMap, and the central configuration for this client (as
        // C++ clients fetch it at start); both come with the first session.
        let subs = ["monmap", "config"]
            .into_iter()
            .map(|what| {
                let state = SubState {
                    item: SubscribeItem::default(),
                    sent: false,
                };
                (what.to_string(), state)
            })
            .collect();
        let hunt_multiple = cfg.hunt_min_multiple.max(1.0);
        Ok(Core {
            cfg: cfg.clone(),
            rng: StdRng::seed_from_u64(seed),
            mons,
            monmap: None,
            monmap_epoch: 0,
            fsid: [0; 16],
            attempts: HashMap::new(),
            tried: HashSet::new(),
            active: None,
            shutdown: false,
            had_session: false,
            hunt_multiple,
            hunt_round_deadline: None,
            next_probe_after: None,
            sessions: 0,
            next_conn: 1,
            next_tid: 1,
            requests: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            in_flight: BTreeSet::new(),
            waiting: BTreeSet::new(),
            clog: clog::LogQueue::default(),
            epochs: BTreeMap::new(),
            sub_renew_at: None,
            refused_retry_at: None,
            refused_backoff: FIRST_REFUSED_RETRY,
            directed: BTreeMap::new(),
            directed_conns: HashMap::new(),
            subs,
            actions: VecDeque::new(),
            global_id: 0,
            credentials: None,
            layers: central::Layers::new(cfg.clone()),
        })
    }

    /// Names, priorities and weights for the initial monitors from DNS SRV
    /// records (`srv[i]` describes the `i`-th address vector given to
    /// [`Core::new`]); the hunt tries lower priorities first and shares
    /// first tries among equal ones by weight.
    pub fn with_srv_mons(mut self, srv: &[ceph_config::SrvMon]) -> Self {
        for (mon, s) in self.mons.iter_mut().zip(srv) {
            if MonEntry::from_addrs(String::new(), None, &s.addrs)
                .is_some_and(|e| e.targets == mon.targets)
            {
                mon.name = s.name.clone();
                mon.priority = s.priority;
                mon.weight = s.weight;
            }
        }
        self
    }

    /// The tunables in effect.
    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    /// Replaces the tunables (a new central configuration). Deadlines
    /// already set stand, except that the next keepalive is brought
    /// forward if the new interval is shorter.
    pub fn set_config(&mut self, cfg: SessionConfig, now: Instant) {
        // max() then min(): never panics, whatever the bounds.
        self.hunt_multiple = self
            .hunt_multiple
            .max(cfg.hunt_min_multiple)
            .min(cfg.hunt_max_multiple);
        if let Some(a) = self.active.as_mut() {
            a.next_ping = a.next_ping.min(now + cfg.ping_interval);
        }
        self.cfg = cfg;
    }

    /// The next action for the driver, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Where the session stands now.
    pub fn state(&self) -> SessionState {
        if self.shutdown {
            SessionState::Shutdown
        } else if let Some(a) = &self.active {
            SessionState::Active {
                mon: a.mon.name.clone(),
                addr: a.mon.addr,
            }
        } else {
            SessionState::Hunting
        }
    }

    /// The newest MonMap received, if any.
    pub fn monmap(&self) -> Option<&MonMap> {
        self.monmap.as_deref()
    }

    /// The newest MonMap, shared.
    pub fn shared_monmap(&self) -> Option<std::sync::Arc<MonMap>> {
        self.monmap.clone()
    }

    /// True once a session is up and a MonMap has arrived on it.
    pub fn is_ready(&self) -> bool {
        self.active.is_some() && self.monmap.is_some()
    }

    /// The global_id the monitors gave us (0 before the first session).
    pub fn global_id(&self) -> u64 {
        self.global_id
    }

    /// Sends an MAuth on the session (CephX requests made while connected:
    /// ticket renewal, service tickets, rotating keys). False when there
    /// is no session; the caller tries again later.
    pub fn send_auth(&mut self, protocol: u32, payload: Vec<u8>) -> bool {
        let Some(conn) = self.active_conn() else {
            return false;
        };
        let body = AuthMsg {
            protocol,
            payload,
            monmap_epoch: self.monmap_epoch,
        }
        .to_body();
        self.actions.push_back(Action::Send { conn, tid: 0, body });
        true
    }

    /// The tid the next request will get.
    pub fn next_tid(&self) -> u64 {
        self.next_tid
    }

    /// How many sessions have been established so far.
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    /// The connection of the current session.
    pub fn active_conn(&self) -> Option<ConnId> {
        self.active.as_ref().map(|a| a.conn)
    }

    /// When the current session was established.
    pub fn session_since(&self) -> Option<Instant> {
        self.active.as_ref().map(|a| a.since)
    }

    /// The current hunt backoff multiple.
    pub fn hunt_multiple(&self) -> f64 {
        self.hunt_multiple
    }

    /// Starts hunting; call once.
    pub fn start(&mut self, now: Instant) {
        self.start_hunt_round(now);
    }

    /// When the driver must call [`Core::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.shutdown {
            return None;
        }
        let mut t: Option<Instant> = None;
        let mut consider = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        consider(self.hunt_round_deadline);
        consider(self.stall_deadline());
        consider(self.directed_deadline());
        consider(self.sub_renew_at);
        consider(self.log_deadline());
        consider(self.refused_retry_at);
        consider(self.active.as_ref().map(|a| a.next_ping));
        // Checked at its own deadline, not at the next ping, so a silent
        // monitor costs exactly ping_timeout.
        consider(
            self.active
                .as_ref()
                .map(|a| a.last_heard + self.cfg.ping_timeout),
        );
        consider(self.deadlines.first().map(|&(d, _)| d));
        consider(self.credentials_deadline());
        t
    }

    fn hunt_interval(&self) -> Duration {
        self.cfg.hunt_interval.mul_f64(self.hunt_multiple)
    }

    /// Chooses up to `hunt_parallel` monitors not yet tried: the lowest
    /// priority value first, then a shuffle weighted by `weight`.
    fn pick_mons(&mut self) -> Vec<MonEntry> {
        let mut left: Vec<MonEntry> = self
            .mons
            .iter()
            .filter(|m| !self.tried.contains(&m.addr))
            .cloned()
            .collect();
        if left.is_empty() {
            self.tried.clear();
            left = self.mons.clone();
        }
        let best = left.iter().map(|m| m.priority).min().unwrap_or(0);
        left.retain(|m| m.priority == best);
        let want = match self.cfg.hunt_parallel {
            0 => left.len(),
            n => n.min(left.len()),
        };
        let mut picked = Vec::with_capacity(want);
        while picked.len() < want {
            let total: u64 = left.iter().map(|m| m.weight as u64).sum();
            let i = if total == 0 {
                self.rng.gen_range(0..left.len())
            } else {
                let mut x = self.rng.gen_range(0..total);
                left.iter()
                    .position(|m| {
                        if x < m.weight as u64 {
                            true
                        } else {
                            x -= m.weight as u64;
                            false
                        }
                    })
                    .unwrap_or(0)
            };
            picked.push(left.swap_remove(i));
        }
        picked
    }

    fn start_hunt_round(&mut self, now: Instant) {
        self.refused_retry_at = None;
        for conn in self.attempts.drain().map(|(c, _)| c).collect::<Vec<_>>() {
            self.actions.push_back(Action::Close { conn });
        }
        for mon in self.pick_mons() {
            self.open_attempt(mon, now, false);
        }
        // Jitter so that many clients do not retry in lockstep.
        let jitter = self.rng.gen_range(0.9..1.1);
        self.hunt_round_deadline = Some(now + self.hunt_interval().mul_f64(jitter));
    }

    fn open_attempt(&mut self, mon: MonEntry, now: Instant, probe: bool) {
        let conn = self.next_conn;
        self.next_conn += 1;
        self.tried.insert(mon.addr);
        tracing::debug!(mon = %mon.name, addr = %mon.addr, conn, probe, "trying monitor");
        self.actions.push_back(Action::Connect {
            conn,
            addr: mon.addr,
            mon: mon.name.clone(),
            targets: self.allowed_targets(&mon),
        });
        let attempt = Attempt {
            mon,
            started: now,
            probe,
        };
        self.attempts.insert(conn, attempt);
    }

    /// The addresses of `mon` the configured connection modes can use:
    /// msgr1 has no secure mode, so its addresses need `crc` allowed.
    pub(crate) fn allowed_targets(&self, mon: &MonEntry) -> Vec<EntityAddr> {
        let v1_ok = self.modes().contains(&ConMode::Crc);
        mon.targets
            .iter()
            .filter(|a| v1_ok || a.ty != EntityAddrType::Legacy)
            .cloned()
            .collect()
    }

    /// Drops the session (if any) and hunts for a new one.
    fn reopen(&mut self, now: Instant, why: &str) {
        if let Some(a) = self.active.take() {
            tracing::info!(mon = %a.mon.name, reason = why, "monitor session lost, hunting");
            self.actions.push_back(Action::Close { conn: a.conn });
            self.tried.clear();
            self.tried.insert(a.mon.addr);
        }
        if self.had_session {
            self.hunt_multiple =
                (self.hunt_multiple * self.cfg.hunt_backoff).min(self.cfg.hunt_max_multiple);
            tracing::debug!(multiple = self.hunt_multiple, "hunt backoff");
        }
        for s in self.subs.values_mut() {
            s.sent = false;
        }
        self.start_hunt_round(now);
    }

    /// A connection finished its handshake and authentication.
    pub fn handle_connected(&mut self, conn: ConnId, global_id: u64, now: Instant) {
        if self.directed_connected(conn) {
            return;
        }
        let Some(attempt) = self.attempts.remove(&conn) else {
            // Lost the race or was abandoned.
            self.actions.push_back(Action::Close { conn });
            return;
        };
        if self.shutdown || (self.active.is_some() && !attempt.probe) {
            self.actions.push_back(Action::Close { conn });
            return;
        }
        if let Some(old) = self.active.take() {
            tracing::info!(from = %old.mon.name, to = %attempt.mon.name, "moving off a monitor that left requests waiting");
            self.actions.push_back(Action::Close { conn: old.conn });
            self.hunt_multiple =
                (self.hunt_multiple * self.cfg.hunt_backoff).min(self.cfg.hunt_max_multiple);
            for s in self.subs.values_mut() {
                s.sent = false;
            }
        }
        tracing::info!(
            mon = %attempt.mon.name,
            addr = %attempt.mon.addr,
            took_ms = now.duration_since(attempt.started).as_millis() as u64,
            "monitor session established"
        );
        for other in self.attempts.drain().map(|(c, _)| c).collect::<Vec<_>>() {
            self.actions.push_back(Action::Close { conn: other });
        }
        self.hunt_round_deadline = None;
        self.refused_backoff = FIRST_REFUSED_RETRY;
        self.global_id = global_id;
        self.had_session = true;
        self.sessions += 1;
        self.tried.clear();
        self.active = Some(Active {
            conn,
            mon: attempt.mon,
            since: now,
            last_heard: now,
            last_answer: now,
            next_ping: now + self.cfg.ping_interval,
        });
        self.send_subscriptions();
        self.resend_all(now);
        self.send_log(now, false);
    }

    /// A connection or connection attempt ended.
    pub fn handle_closed(&mut self, conn: ConnId, why: &MonError, now: Instant) {
        self.forget_expired_ticket(why);
        if self.directed_closed(conn, now) {
            return;
        }
        if let Some(a) = self.attempts.remove(&conn) {
            tracing::debug!(mon = %a.mon.name, error = %why, "connection attempt failed");
            if a.probe {
                // Wait a whole stall period before probing again.
                self.next_probe_after = Some(now);
                return;
            }
            if self.active.is_none() && self.attempts.is_empty() && !self.shutdown {
                // Every attempt of this round failed: try the next ones now
                // if any are left. If all were tried (every monitor refused,
                // e.g. all restarting), retry well before the round's end,
                // with a backoff of its own: monitors come back in about a
                // second, and a refused connect costs them nothing.
                if self.mons.iter().any(|m| !self.tried.contains(&m.addr)) {
                    self.start_hunt_round(now);
                } else {
                    let delay = self.refused_backoff.min(self.hunt_interval());
                    self.refused_backoff = (delay * 2).min(self.hunt_interval());
                    self.refused_retry_at = Some(now + delay);
                }
            }
            return;
        }
        if self.active.as_ref().is_some_and(|a| a.conn == conn) && !self.shutdown {
            self.reopen(now, &why.to_string());
        }
    }

    /// A KEEPALIVE2_ACK arrived.
    pub fn handle_keepalive_ack(&mut self, conn: ConnId, now: Instant) {
        self.handle_heard(conn, now);
    }

    /// The monitor on `conn` sent something at `at`: whatever it sent, it
    /// is alive. The driver reports the time the bytes were read, so
    /// replies it has not processed yet still count.
    pub fn handle_heard(&mut self, conn: ConnId, at: Instant) {
        if let Some(a) = self.active.as_mut().filter(|a| a.conn == conn) {
            a.last_heard = a.last_heard.max(at);
        }
    }

    /// Time passed: keepalives, their timeout, hunting rounds, deadlines.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.shutdown {
            return;
        }
        self.expire_requests(now);
        self.directed_timeouts(now);
        self.renew_subscriptions(now);
        self.log_timeout(now);
        self.renew_credentials(now);
        if let Some(a) = &self.active {
            // last_heard starts at the session's start, so a fresh session
            // gets a whole ping_timeout before it can be judged dead.
            let silent = now.saturating_duration_since(a.last_heard);
            if silent >= self.cfg.ping_timeout {
                tracing::warn!(mon = %a.mon.name, silent_ms = silent.as_millis() as u64, "keepalive timeout");
                self.reopen(now, "keepalive timeout");
                return;
            }
        }
        if self.stall_deadline().is_some_and(|d| now >= d) {
            self.start_probe(now);
        }
        if let Some(a) = self.active.as_mut() {
            if now >= a.next_ping {
                a.next_ping = now + self.cfg.ping_interval;
                let conn = a.conn;
                self.actions.push_back(Action::Keepalive { conn });
                // A healthy tick decays the backoff.
                self.hunt_multiple =
                    (self.hunt_multiple / self.cfg.hunt_backoff).max(self.cfg.hunt_min_multiple);
            }
        } else if self.refused_retry_at.is_some_and(|d| now >= d) {
            self.start_hunt_round(now);
        } else if self.hunt_round_deadline.is_some_and(|d| now >= d) {
            if self.had_session {
                self.hunt_multiple =
                    (self.hunt_multiple * self.cfg.hunt_backoff).min(self.cfg.hunt_max_multiple);
            }
            self.start_hunt_round(now);
        }
    }

    fn expire_requests(&mut self, now: Instant) {
        while let Some(&(deadline, tid)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            if let Some(r) = self.take_request(tid) {
                let after = r.timeout.unwrap_or_default();
                let why = MonError::TimedOut(after, "waiting for the monitors to answer".into());
                self.complete(tid, Err(why));
            } else {
                self.deadlines.pop_first();
            }
        }
        self.fill_window(now);
    }

    /// Removes a pending request and its index entries.
    fn take_request(&mut self, tid: u64) -> Option<Pending> {
        let r = self.requests.remove(&tid)?;
        if let Some(d) = r.deadline {
            self.deadlines.remove(&(d, tid));
        }
        if let Some(t) = r.sent_at {
            self.in_flight.remove(&(t, tid));
        }
        self.waiting.remove(&tid);
        Some(r)
    }

    /// Reports a request as finished.
    fn complete(&mut self, tid: u64, result: Result<Reply, MonError>) {
        if self.log_confirm_done(tid, &result) {
            return;
        }
        self.actions.push_back(Action::Done { tid, result });
    }

    /// Starts a request; returns its tid, under which its answer comes as
    /// `Action::Done`. Quorum requests are sent now if a session is up
    /// (and the window has room), else as soon as one is; requests for one
    /// monitor open a connection of their own. Commands without a
    /// `timeout` get the configured `command_timeout`.
    pub fn submit(&mut self, request: Request, timeout: Option<Duration>, now: Instant) -> u64 {
        let command_timeout = timeout.or(self.cfg.command_timeout);
        match request {
            Request::Command { .. } => self.start_request(request, command_timeout, now),
            Request::Version { .. } => self.start_request(request, timeout, now),
            Request::Tell { .. } => self.start_directed(request, command_timeout, now),
            Request::Ping { .. } => self.start_directed(request, timeout, now),
        }
    }

    /// [`Core::submit`] for a monitor command.
    pub fn start_command(
        &mut self,
        cmd: Vec<String>,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
        now: Instant,
    ) -> u64 {
        self.submit(Request::Command { cmd, inbl }, timeout, now)
    }

    /// [`Core::submit`] for the newest and oldest epochs of `what`.
    pub fn start_get_version(
        &mut self,
        what: &str,
        timeout: Option<Duration>,
        now: Instant,
    ) -> u64 {
        let what = what.to_string();
        self.submit(Request::Version { what }, timeout, now)
    }

    /// A tid for a new request or tell, and whether to go on with it:
    /// once shut down, the request has already failed with ShuttingDown.
    pub(super) fn admit_request(&mut self) -> (u64, bool) {
        let tid = self.next_tid;
        self.next_tid += 1;
        if self.shutdown {
            self.complete(tid, Err(MonError::ShuttingDown));
            return (tid, false);
        }
        (tid, true)
    }

    fn start_request(&mut self, kind: Request, timeout: Option<Duration>, now: Instant) -> u64 {
        let (tid, admitted) = self.admit_request();
        if !admitted {
            return tid;
        }
        let pending = Pending {
            kind,
            attempts: 0,
            timeout,
            deadline: timeout.map(|t| now + t),
            sent_on: None,
            sent_at: None,
        };
        if let Some(d) = pending.deadline {
            self.deadlines.insert((d, tid));
        }
        self.requests.insert(tid, pending);
        self.waiting.insert(tid);
        self.fill_window(now);
        tid
    }

    /// Sends a request on the current session unless it already went out
    /// there; fails it once it has been sent too many times.
    fn send_request(&mut self, tid: u64, now: Instant) {
        let Some(conn) = self.active.as_ref().map(|a| a.conn) else {
            return;
        };
        let Some(r) = self.requests.get_mut(&tid) else {
            return;
        };
        if r.sent_on == Some(conn) {
            return;
        }
        r.attempts += 1;
        if r.attempts > self.cfg.max_command_attempts {
            self.take_request(tid);
            self.complete(tid, Err(MonError::SessionReset));
            return;
        }
        if let Some(t) = r.sent_at {
            self.in_flight.remove(&(t, tid));
        }
        self.in_flight.insert((now, tid));
        r.sent_on = Some(conn);
        r.sent_at = Some(now);
        let body = match &r.kind {
            Request::Command { cmd, inbl } => MonCommand {
                fsid: self.fsid,
                cmd: cmd.clone(),
                inbl: inbl.clone(),
            }
            .to_body(),
            Request::Version { what } => GetVersion {
                handle: tid,
                what: what.clone(),
            }
            .to_body(),
            Request::Tell { .. } | Request::Ping { .. } => {
                unreachable!("requests for one monitor are not queued for the quorum")
            }
        };
        self.actions.push_back(Action::Send { conn, tid, body });
    }

    /// A new session: every request goes out on it again, in order, as
    /// the window allows.
    fn resend_all(&mut self, now: Instant) {
        self.in_flight.clear();
        self.waiting = self.requests.keys().copied().collect();
        self.fill_window(now);
    }

    /// Sends waiting requests while the window has room.
    fn fill_window(&mut self, now: Instant) {
        if self.active.is_none() {
            return;
        }
        let window = match self.cfg.max_in_flight {
            0 => usize::MAX,
            n => n,
        };
        while self.in_flight.len() < window {
            let Some(tid) = self.waiting.pop_first() else {
                break;
            };
            self.send_request(tid, now);
        }
    }

    /// When the current session will have left a request unanswered, and
    /// answered nothing at all, for `stall_timeout` (scaled by the
    /// backoff), if a probe may start then. A monitor working through a
    /// deep queue answers something all the time and is never probed.
    fn stall_deadline(&self) -> Option<Instant> {
        let stall = self.cfg.stall_timeout?.mul_f64(self.hunt_multiple);
        let a = self.active.as_ref()?;
        if !self.attempts.is_empty() || !self.mons.iter().any(|m| m.addr != a.mon.addr) {
            return None;
        }
        // Every request is sent again on a new session, so the oldest send
        // is on this one.
        let &(oldest, _) = self.in_flight.first()?;
        let from = oldest.max(a.last_answer);
        Some(self.next_probe_after.map_or(from, |p| from.max(p)) + stall)
    }

    /// A request was answered on the current session.
    fn note_answer(&mut self, now: Instant) {
        if let Some(a) = self.active.as_mut() {
            a.last_answer = now;
        }
    }

    /// Opens connections to other monitors while keeping the session.
    fn start_probe(&mut self, now: Instant) {
        let Some(current) = self.active.as_ref().map(|a| a.mon.addr) else {
            return;
        };
        self.tried.clear();
        self.tried.insert(current);
        let picked = self.pick_mons();
        tracing::info!(
            probes = picked.len(),
            "requests stalled on a live monitor; probing others"
        );
        for mon in picked {
            self.open_attempt(mon, now, true);
        }
    }

    /// Subscribes to `what` from epoch `start`; `onetime` asks for just the
    /// next one.
    pub fn subscribe(&mut self, what: &str, start: u64, onetime: bool) {
        let item = SubscribeItem { start, onetime };
        match self.subs.get(what) {
            Some(s) if s.item == item => return,
            _ => {}
        }
        self.subs
            .insert(what.to_string(), SubState { item, sent: false });
        self.send_subscriptions();
    }

    /// Records that `what` arrived at `epoch`, so a renewal asks for newer.
    fn got(&mut self, what: &str, epoch: u64) {
        if let Some(s) = self.subs.get_mut(what) {
            if s.item.onetime {
                self.subs.remove(what);
            } else if s.item.start <= epoch {
                s.item.start = epoch + 1;
                // The monitor tracks this itself; no need to resend.
            }
        }
    }

    fn send_subscriptions(&mut self) {
        let Some(a) = &self.active else { return };
        let conn = a.conn;
        if self.subs.values().all(|s| s.sent) {
            return;
        }
        let what = self.subs.iter().map(|(k, s)| (k.clone(), s.item)).collect();
        for s in self.subs.values_mut() {
            s.sent = true;
        }
        let body = MonSubscribe {
            what,
            hostname: self.cfg.hostname.clone(),
        }
        .to_body();
        self.actions.push_back(Action::Send { conn, tid: 0, body });
    }

    /// A message arrived on `conn`.
    pub fn handle_message(&mut self, conn: ConnId, msg: InMessage<'_>, now: Instant) {
        if self.directed_message(conn, &msg, now) {
            return;
        }
        if self.active.as_ref().is_none_or(|a| a.conn != conn) {
            return;
        }
        let ty = msg.ty;
        let result = match ty {
            msg_type::MON_MAP => self.on_monmap(msg.front, now),
            msg_type::MON_COMMAND_ACK => self.on_command_ack(msg.tid, msg.front, msg.data, now),
            msg_type::MON_GET_VERSION_REPLY => self.on_version_reply(msg.front, msg.version, now),
            msg_type::OSD_MAP => self.on_osdmap(msg.front, msg.version),
            msg_type::MGR_MAP => self.on_mgrmap(msg.front),
            msg_type::CONFIG => self.on_config(msg.front, now),
            msg_type::LOG => self.on_log(msg.front),
            msg_type::LOG_ACK => self.on_log_ack(msg.front),
            msg_type::MON_SUBSCRIBE_ACK => self.on_subscribe_ack(msg.front, now),
            msg_type::AUTH_REPLY => {
                AuthReply::decode(msg.front).map(|reply| self.on_auth_reply(&reply, now))
            }
            _ => {
                tracing::trace!(ty, "ignoring message");
                Ok(())
            }
        };
        if let Err(e) = result {
            // What the session itself depends on must decode; a bad
            // subscription payload is dropped without ending the session
            // (reconnecting would only fetch it again).
            let essential = matches!(
                ty,
                msg_type::MON_MAP | msg_type::MON_COMMAND_ACK | msg_type::AUTH_REPLY
            );
            if essential {
                tracing::warn!(ty, error = %e, "undecodable message from monitor; dropping session");
                self.reopen(now, "undecodable message");
            } else {
                tracing::warn!(ty, error = %e, "undecodable message from monitor; ignored");
            }
        }
    }

    fn on_monmap(&mut self, front: &[u8], now: Instant) -> Result<(), ceph_denc::DecodeError> {
        let msg = MonMapMsg::decode(front)?;
        let map = MonMap::decode_all(&msg.monmap)?;
        let epoch = map.epoch;
        self.fsid = map.fsid.0;
        let mons: Vec<MonEntry> = map
            .ranks()
            .iter()
            .enumerate()
            .filter_map(|(rank, name)| {
                let info = map.mon_info.get(name)?;
                let mut entry = MonEntry::from_addrs(name.clone(), Some(rank), &info.public_addrs)?;
                entry.priority = info.priority;
                entry.weight = info.weight;
                Some(entry)
            })
            .collect();
        tracing::debug!(epoch, mons = mons.len(), "got monmap");
        self.monmap_epoch = epoch;
        self.monmap = Some(std::sync::Arc::new(map));
        self.got("monmap", epoch as u64);
        self.note_epoch("monmap", epoch as u64);
        self.actions
            .push_back(Action::Event(ClusterEvent::MonMap { epoch }));
        if !mons.is_empty() {
            self.mons = mons;
        }
        self.directed_monmap_arrived(now);
        // A map that no longer has our monitor at the address we use means
        // we are talking to the wrong one.
        if let Some(a) = &mut self.active {
            // The same monitor: an address in common (the MonMap may list
            // a v2 address where we reached its v1 one, or the reverse).
            let same = |m: &&MonEntry| {
                m.addr == a.mon.addr
                    || m.targets
                        .iter()
                        .any(|t| a.mon.targets.iter().any(|u| u.addr == t.addr))
            };
            match self.mons.iter().find(same) {
                Some(m) => a.mon = m.clone(),
                None => self.reopen(now, "monitor left the monmap"),
            }
        }
        Ok(())
    }

    fn on_command_ack(
        &mut self,
        tid: u64,
        front: &[u8],
        data: &[u8],
        now: Instant,
    ) -> Result<(), ceph_denc::DecodeError> {
        let ack = MonCommandAck::decode(front, data)?;
        let is_command = |r: &Pending| matches!(r.kind, Request::Command { .. });
        if self.requests.get(&tid).is_some_and(is_command) {
            self.take_request(tid);
            self.note_answer(now);
            self.fill_window(now);
            let reply = CommandReply {
                retval: ack.retval,
                outs: ack.outs,
                outbl: ack.outbl,
            };
            self.complete(tid, Ok(Reply::Command(reply)));
        }
        Ok(())
    }

    fn on_version_reply(
        &mut self,
        front: &[u8],
        version: u16,
        now: Instant,
    ) -> Result<(), ceph_denc::DecodeError> {
        let r = GetVersionReply::decode(front, version)?;
        let is_version = |p: &Pending| matches!(p.kind, Request::Version { .. });
        if self.requests.get(&r.handle).is_some_and(is_version) {
            self.take_request(r.handle);
            self.note_answer(now);
            self.fill_window(now);
            let versions = MapVersions {
                newest: r.newest,
                oldest: r.oldest,
            };
            self.complete(r.handle, Ok(Reply::Versions(versions)));
        }
        Ok(())
    }

    /// Stops: every pending request fails with `ShuttingDown`, every
    /// connection is closed.
    pub fn shutdown(&mut self) {
        if self.shutdown {
            return;
        }
        self.shutdown = true;
        self.deadlines.clear();
        self.in_flight.clear();
        self.waiting.clear();
        for (tid, _) in std::mem::take(&mut self.requests) {
            self.complete(tid, Err(MonError::ShuttingDown));
        }
        self.directed_shutdown();
        if let Some(a) = self.active.take() {
            self.actions.push_back(Action::Close { conn: a.conn });
        }
        for conn in self.attempts.drain().map(|(c, _)| c).collect::<Vec<_>>() {
            self.actions.push_back(Action::Close { conn });
        }
        self.hunt_round_deadline = None;
    }
}

#[cfg(test)]
mod tests;
