//! The client task: carries out the core's actions with tokio (opens
//! connections with the CephX client and modes the core hands out, moves
//! messages, arms the one timer the core asks for), passes the handles'
//! calls and the connections' events in, and publishes [`Status`]. Every
//! decision (hunting, liveness, resends, tickets, central config) is the
//! core's.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ceph_msgr::connection::{
    CloseReason, ConnectOptions, Connection, Event, LastHeard, Protocol, Sender,
};
use ceph_msgr::error::MsgrError;
use ceph_msgr::frame::ConMode;
use ceph_msgr::message::Message;
use ceph_types::features::{CLIENT_FEATURES_ALL, CLIENT_FEATURES_REQUIRED};
use ceph_types::{EntityAddr, EntityAddrType, EntityName, EntityType, LogPriority, UTime};
use tokio::sync::{mpsc, oneshot, watch};

use super::SharedEvents;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::options::MonClientOptions;
use super::status::Status;
use crate::cephx::CephxAuth;
use crate::core::{Action, ConnId, Core, InMessage, Reply, Request, SessionState};
use crate::error::{from_msgr, MonError};

pub(super) type ReplySender = oneshot::Sender<Result<Reply, MonError>>;

/// What a handle asks of the client task.
pub(super) enum Call {
    /// A request to answer on `reply`.
    Submit {
        request: Request,
        timeout: Option<Duration>,
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
    /// An authorizer for a daemon of this service, if a ticket is held.
    Authorizer {
        service_id: u32,
        reply: oneshot::Sender<Result<Option<ceph_auth::Authorizer>, MonError>>,
    },
}

/// What a connection attempt or an open connection reports.
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

pub(super) struct Driver {
    core: Core,
    /// Who we are, for HELLO and cluster log entries.
    name: EntityName,
    /// Limit for one connection attempt.
    attempt_timeout: Duration,
    status: watch::Sender<Status>,
    /// Subscribed maps and logs, to `events()` receivers and the streams.
    events: SharedEvents,
    conns: HashMap<ConnId, OpenConn>,
    attempts: HashMap<ConnId, JoinHandle<()>>,
    /// The handles waiting for an answer, by tid.
    replies: HashMap<u64, ReplySender>,
    shutdown_waiters: Vec<oneshot::Sender<()>>,
    last_error: Option<Arc<MonError>>,
    last_error_changed: bool,
    /// Mode of the current session's connection.
    con_mode: Option<ConMode>,
    /// Protocol of the current session's connection.
    protocol: Option<Protocol>,
}

impl Driver {
    pub(super) fn new(
        core: Core,
        opts: &MonClientOptions,
        status: watch::Sender<Status>,
        events: SharedEvents,
    ) -> Driver {
        Driver {
            core,
            name: opts.name.clone(),
            attempt_timeout: opts.attempt_timeout,
            status,
            events,
            conns: HashMap::new(),
            attempts: HashMap::new(),
            replies: HashMap::new(),
            shutdown_waiters: Vec::new(),
            last_error: None,
            last_error_changed: false,
            con_mode: None,
            protocol: None,
        }
    }

    pub(super) async fn run(mut self, mut calls: mpsc::UnboundedReceiver<Call>) {
        let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<ConnEvent>();
        self.core.start(Instant::now().into_std());
        loop {
            self.carry_out(&ev_tx);
            self.publish();
            if self.core.state() == SessionState::Shutdown {
                // Event streams end here, though handles may live on.
                self.events.close();
                for w in self.shutdown_waiters.drain(..) {
                    let _ = w.send(());
                }
                // Keep answering until every handle is gone.
                match calls.recv().await {
                    Some(Call::Shutdown { done }) => {
                        let _ = done.send(());
                    }
                    Some(Call::Submit { reply, .. }) => {
                        let _ = reply.send(Err(MonError::ShuttingDown));
                    }
                    Some(Call::Authorizer { reply, .. }) => {
                        let _ = reply.send(Err(MonError::ShuttingDown));
                    }
                    Some(Call::Subscribe { .. } | Call::Unsubscribe { .. } | Call::Log { .. }) => {}
                    None => return,
                }
                continue;
            }
            // Liveness as the connection saw it, however far behind the
            // events we have processed are.
            self.note_heard();
            let deadline = self.core.poll_timeout().map(Instant::from_std);
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                call = calls.recv() => self.on_call(call),
                Some(ev) = ev_rx.recv() => self.on_conn_event(ev, &ev_tx),
                _ = sleep => {
                    self.note_heard();
                    self.core.handle_timeout(Instant::now().into_std());
                }
            }
        }
    }

    /// Does what the core asked for.
    fn carry_out(&mut self, ev_tx: &mpsc::UnboundedSender<ConnEvent>) {
        while let Some(action) = self.core.poll_action() {
            match action {
                Action::Connect {
                    conn,
                    addr,
                    mon,
                    targets,
                } => self.spawn_attempt(conn, addr, mon, targets, ev_tx.clone()),
                Action::Send { conn, tid, body } => {
                    if let Some(open) = self.conns.get(&conn) {
                        let mut msg =
                            Message::new(body.ty, body.version, body.compat_version, body.front);
                        msg.tid = tid;
                        msg.data = body.data.into();
                        // A failed send means the connection is gone; its
                        // Closed event follows.
                        let _ = open.sender.send(msg);
                    }
                }
                Action::Keepalive { conn } => {
                    if let Some(open) = self.conns.get(&conn) {
                        let _ = open.sender.keepalive(UTime::now());
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
                    // Nobody listening is fine.
                    self.events.send(event, || self.core.shared_monmap());
                }
                Action::Done { tid, result } => {
                    if let Some(tx) = self.replies.remove(&tid) {
                        let _ = tx.send(result);
                    }
                }
            }
        }
    }

    fn on_call(&mut self, call: Option<Call>) {
        let now = Instant::now().into_std();
        match call {
            None => self.core.shutdown(),
            Some(Call::Submit {
                request,
                timeout,
                reply,
            }) => {
                // Register the reply first: the core may answer at once.
                self.replies.insert(self.core.next_tid(), reply);
                self.core.submit(request, timeout, now);
            }
            Some(Call::Subscribe {
                what,
                start,
                onetime,
            }) => self.core.subscribe(&what, start, onetime),
            Some(Call::Unsubscribe { what }) => self.core.unsubscribe(&what),
            Some(Call::Log {
                prio,
                channel,
                msg,
                queued,
            }) => {
                let seq = self
                    .core
                    .log(&self.name, prio, &channel, &msg, UTime::now(), now);
                let _ = queued.send(seq);
            }
            Some(Call::Authorizer { service_id, reply }) => {
                let _ = reply.send(self.core.authorizer(service_id, now));
            }
            Some(Call::Shutdown { done }) => {
                self.shutdown_waiters.push(done);
                self.core.shutdown();
            }
        }
    }

    fn spawn_attempt(
        &mut self,
        conn: ConnId,
        addr: SocketAddr,
        mon: String,
        targets: Vec<EntityAddr>,
        events: mpsc::UnboundedSender<ConnEvent>,
    ) {
        let mut opts = ConnectOptions::new(
            self.name.clone(),
            CLIENT_FEATURES_ALL,
            CLIENT_FEATURES_REQUIRED,
        );
        opts.connect_timeout = self.attempt_timeout;
        let attempt_timeout = self.attempt_timeout;
        if targets.is_empty() {
            let error = MonError::Incompatible(format!(
                "monitor {mon} ({addr}) has only msgr1 (v1) addresses, and msgr1 has no \
                 secure mode, which ms_mon_client_mode requires"
            ));
            let _ = events.send(ConnEvent::Failed { conn, error });
            return;
        }
        let mut candidates = Vec::with_capacity(targets.len());
        for target in targets {
            let Some(client) = self.core.auth_for_attempt() else {
                let error = MonError::Config("no credentials to authenticate with".into());
                let _ = events.send(ConnEvent::Failed { conn, error });
                return;
            };
            candidates.push((target, CephxAuth::with_client(client, self.core.modes())));
        }
        let task = tokio::spawn(async move {
            let ev = match race(mon, candidates, opts, attempt_timeout).await {
                Ok((connection, auth)) => ConnEvent::Connected {
                    conn,
                    connection,
                    auth: Box::new(auth),
                },
                Err(error) => ConnEvent::Failed { conn, error },
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
                let protocol = connection.protocol();
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
                let open = OpenConn {
                    sender,
                    reader,
                    heard,
                };
                self.conns.insert(conn, open);
                self.core.handle_connected(conn, global_id, now);
                self.core.handle_authenticated(conn, auth.client, now);
                if self.core.active_conn() == Some(conn) {
                    self.con_mode = Some(mode);
                    self.protocol = Some(protocol);
                }
            }
            ConnEvent::Failed { conn, error } => {
                self.attempts.remove(&conn);
                self.core.handle_closed(conn, &error, now);
                self.last_error = Some(Arc::new(error));
                self.last_error_changed = true;
            }
            ConnEvent::Event { conn, event } => match event {
                Event::Message(m) => {
                    let msg = InMessage {
                        ty: m.ty,
                        version: m.version,
                        tid: m.tid,
                        front: &m.front,
                        data: &m.data,
                    };
                    self.core.handle_message(conn, msg, now);
                }
                Event::KeepaliveAck(_) => self.core.handle_keepalive_ack(conn, now),
                Event::Closed(reason) => {
                    self.conns.remove(&conn);
                    let error = match reason {
                        CloseReason::Error(e) => MonError::Messenger(
                            // Shared only if someone cloned the event.
                            Arc::try_unwrap(e)
                                .unwrap_or_else(|e| MsgrError::Protocol(e.to_string())),
                        ),
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

    fn publish(&mut self) {
        let current = self
            .status
            .borrow()
            .is_current(&self.core, self.con_mode, self.protocol);
        if self.last_error_changed || !current {
            self.last_error_changed = false;
            let fresh = Status::of(&self.core, &self.last_error, self.con_mode, self.protocol);
            self.status.send_replace(fresh);
        }
    }
}

/// How long the preferred (v2) address of a monitor runs alone before the
/// next one (v1) is tried too; a failure of the preferred one starts the
/// next at once. A v2 attempt on a v1 port fails on the first bytes, so an
/// ambiguous `ip:port` answers in one v1 handshake.
const FALLBACK_HEAD_START: Duration = Duration::from_millis(250);

/// Connects to one monitor at the first of `candidates` to succeed:
/// the preferred one first, each next one after [`FALLBACK_HEAD_START`]
/// or as soon as every running attempt failed.
async fn race(
    mon: String,
    candidates: Vec<(EntityAddr, CephxAuth)>,
    opts: ConnectOptions,
    attempt_timeout: Duration,
) -> Result<(Connection, CephxAuth), MonError> {
    let tried: Vec<EntityAddr> = candidates.iter().map(|(a, _)| *a).collect();
    let mut waiting = candidates.into_iter();
    let mut running = tokio::task::JoinSet::new();
    let mut failures: Vec<(EntityAddr, MsgrError)> = Vec::new();
    let opts = std::sync::Arc::new(opts);
    let mut start_next = |running: &mut tokio::task::JoinSet<_>| -> bool {
        let Some((target, mut auth)) = waiting.next() else {
            return false;
        };
        let opts = opts.clone();
        running.spawn(async move {
            let r = Connection::connect_to(&target, EntityType::Mon, &opts, &mut auth).await;
            (target, r.map(|c| (c, auth)))
        });
        true
    };
    start_next(&mut running);
    let mut more = true;
    loop {
        let head_start = tokio::time::sleep(FALLBACK_HEAD_START);
        tokio::select! {
            joined = running.join_next() => match joined {
                Some(Ok((_, Ok(won)))) => return Ok(won),
                Some(Ok((target, Err(e)))) => {
                    tracing::debug!(%mon, %target, error = %e, "monitor address failed");
                    // A monitor that answered on msgr2 and refused our
                    // credentials or connection modes has decided: Ceph's
                    // clients do not go round that over msgr1.
                    if target.ty == EntityAddrType::Msgr2 && matches!(e, MsgrError::Auth(_)) {
                        running.abort_all();
                        return Err(from_msgr(e, attempt_timeout));
                    }
                    failures.push((target, e));
                    if running.is_empty() {
                        more = more && start_next(&mut running);
                        if !more && running.is_empty() {
                            return Err(attempt_error(&mon, &tried, failures, attempt_timeout));
                        }
                    }
                }
                Some(Err(join)) => {
                    failures.push((tried[0], MsgrError::Protocol(join.to_string())));
                }
                None => {
                    more = more && start_next(&mut running);
                    if !more {
                        return Err(attempt_error(&mon, &tried, failures, attempt_timeout));
                    }
                }
            },
            _ = head_start, if more => {
                more = start_next(&mut running);
            }
        }
    }
}

/// The error for a monitor none of whose addresses worked. If every
/// address answered with something that retrying cannot change (the peer
/// speaks the other protocol, or neither, or refused our protocol
/// version), a permanent [`MonError::Incompatible`] naming the monitor and
/// what it said; otherwise the most telling transient error.
fn attempt_error(
    mon: &str,
    tried: &[EntityAddr],
    mut failures: Vec<(EntityAddr, MsgrError)>,
    attempt_timeout: Duration,
) -> MonError {
    let permanent =
        |e: &MsgrError| matches!(e, MsgrError::PeerBanner(_) | MsgrError::Incompatible(_));
    if !failures.is_empty() && failures.iter().all(|(_, e)| permanent(e)) {
        let said: Vec<String> = failures
            .iter()
            .map(|(a, e)| format!("at {a}: {e}"))
            .collect();
        let v1_tried = tried.iter().any(|a| a.ty == EntityAddrType::Legacy);
        let hint = if !v1_tried
            && failures
                .iter()
                .any(|(_, e)| matches!(e, MsgrError::PeerBanner(ceph_msgr::v1::PeerBanner::Msgr1)))
        {
            " (msgr1 was not tried: ms_mon_client_mode allows only secure, which msgr1 cannot do)"
        } else {
            ""
        };
        return MonError::Incompatible(format!("monitor {mon}: {}{hint}", said.join("; ")));
    }
    // Prefer what a non-permanent failure said (a refused connection, an
    // auth verdict) over a banner mismatch of the other protocol.
    let pick = failures
        .iter()
        .position(|(_, e)| !permanent(e))
        .unwrap_or(0);
    if failures.is_empty() {
        return MonError::MonUnavailable(format!("monitor {mon}: no address to try"));
    }
    let (_, e) = failures.swap_remove(pick);
    from_msgr(e, attempt_timeout)
}
