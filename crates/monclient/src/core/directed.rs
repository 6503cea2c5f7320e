//! Requests for one particular monitor (`tell mon.b ...`, `ping mon.a`),
//! each over a connection of its own so that they reach a monitor out of
//! quorum too. An attempt that is not answered within the hunt interval, or
//! whose connection drops, is retried on a new connection, up to
//! `directed_retry` attempts; then the request fails with
//! `MonUnavailable`.

use std::time::{Duration, Instant};

use super::{Action, CommandReply, ConnId, Core, InMessage, MonEntry, Reply, Request};
use crate::error::MonError;
use crate::messages::{decode_pong, msg_type, ping_body, CommandMsg, CommandReplyMsg};

/// Which monitor a directed request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MonTarget {
    /// By rank in the MonMap (`mon.0`... as `ceph tell` numbers them).
    Rank(usize),
    /// By name (`a` for `mon.a`).
    Name(String),
}

impl std::fmt::Display for MonTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MonTarget::Rank(r) => write!(f, "mon rank {r}"),
            MonTarget::Name(n) => write!(f, "mon.{n}"),
        }
    }
}

pub(super) struct Directed {
    /// A `Tell` or a `Ping`.
    request: Request,
    attempts: u32,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    /// The connection of the current attempt and when it gives up.
    conn: Option<ConnId>,
    attempt_deadline: Option<Instant>,
}

impl Directed {
    fn target(&self) -> &MonTarget {
        match &self.request {
            Request::Tell { target, .. } | Request::Ping { target } => target,
            Request::Command { .. } | Request::Version { .. } => {
                unreachable!("only requests for one monitor are directed")
            }
        }
    }
}

impl Core {
    /// Sends a command to one monitor (by rank or name) over a connection
    /// of its own. Returns its tid; the answer comes as
    /// `Action::Done { result: Ok(Reply::Command(..)) }`.
    pub fn start_tell(
        &mut self,
        target: MonTarget,
        cmd: Vec<String>,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
        now: Instant,
    ) -> u64 {
        self.submit(Request::Tell { target, cmd, inbl }, timeout, now)
    }

    /// Pings one monitor; the answer is its health and status JSON
    /// (`Reply::Pong`).
    pub fn start_ping(
        &mut self,
        target: MonTarget,
        timeout: Option<Duration>,
        now: Instant,
    ) -> u64 {
        self.submit(Request::Ping { target }, timeout, now)
    }

    /// Starts a `Tell` or `Ping`.
    pub(super) fn start_directed(
        &mut self,
        request: Request,
        timeout: Option<Duration>,
        now: Instant,
    ) -> u64 {
        let (tid, admitted) = self.admit_request();
        if !admitted {
            return tid;
        }
        let d = Directed {
            request,
            attempts: 0,
            timeout,
            deadline: timeout.map(|t| now + t),
            conn: None,
            attempt_deadline: None,
        };
        self.directed.insert(tid, d);
        self.try_directed(tid, now);
        tid
    }

    /// The monitor a target names, from the MonMap.
    fn resolve(&self, target: &MonTarget) -> Result<MonEntry, MonError> {
        let found = match target {
            MonTarget::Rank(r) => self.mons.iter().find(|m| m.rank == Some(*r)),
            MonTarget::Name(n) => self.mons.iter().find(|m| &m.name == n),
        };
        found.cloned().ok_or_else(|| match target {
            MonTarget::Rank(r) => MonError::RankDne(*r as i32),
            MonTarget::Name(n) => MonError::MonDne(n.clone()),
        })
    }

    /// Starts the next attempt of a directed request, once a MonMap says
    /// where its monitor is.
    fn try_directed(&mut self, tid: u64, now: Instant) {
        if self.monmap.is_none() {
            return; // retried when the first MonMap arrives
        }
        let Some(d) = self.directed.get(&tid) else {
            return;
        };
        let mon = match self.resolve(d.target()) {
            Ok(m) => m,
            Err(e) => {
                self.directed.remove(&tid);
                self.complete(tid, Err(e));
                return;
            }
        };
        let limit = self.cfg.directed_retry.max(1);
        let d = self.directed.get_mut(&tid).expect("checked above");
        if d.attempts >= limit {
            let why = format!(
                "{} did not answer after {} attempts",
                d.target(),
                d.attempts
            );
            self.directed.remove(&tid);
            self.complete(tid, Err(MonError::MonUnavailable(why)));
            return;
        }
        d.attempts += 1;
        let conn = self.next_conn;
        self.next_conn += 1;
        d.conn = Some(conn);
        d.attempt_deadline = Some(now + self.cfg.hunt_interval);
        self.directed_conns.insert(conn, tid);
        tracing::debug!(tid, mon = %mon.name, attempt = d.attempts, "directed request: connecting");
        let targets = self.allowed_targets(&mon);
        self.actions.push_back(Action::Connect {
            conn,
            addr: mon.addr,
            mon: mon.name.clone(),
            targets,
        });
    }

    /// Retries every directed request that waited for a MonMap.
    pub(super) fn directed_monmap_arrived(&mut self, now: Instant) {
        let waiting: Vec<u64> = self
            .directed
            .iter()
            .filter(|(_, d)| d.conn.is_none())
            .map(|(t, _)| *t)
            .collect();
        for tid in waiting {
            self.try_directed(tid, now);
        }
    }

    /// `handle_connected` for a directed connection: send the request.
    /// Returns false if `conn` is not one.
    pub(super) fn directed_connected(&mut self, conn: ConnId) -> bool {
        let Some(&tid) = self.directed_conns.get(&conn) else {
            return false;
        };
        let Some(d) = self.directed.get(&tid) else {
            self.close_directed(conn);
            return true;
        };
        let body = match &d.request {
            Request::Tell { cmd, inbl, .. } => CommandMsg {
                fsid: self.fsid,
                cmd: cmd.clone(),
                inbl: inbl.clone(),
            }
            .to_body(),
            _ => ping_body(),
        };
        self.actions.push_back(Action::Send { conn, tid, body });
        true
    }

    fn close_directed(&mut self, conn: ConnId) {
        self.directed_conns.remove(&conn);
        self.actions.push_back(Action::Close { conn });
    }

    /// `handle_closed` for a directed connection: try again.
    pub(super) fn directed_closed(&mut self, conn: ConnId, now: Instant) -> bool {
        let Some(tid) = self.directed_conns.remove(&conn) else {
            return false;
        };
        if let Some(d) = self.directed.get_mut(&tid) {
            if d.conn == Some(conn) {
                d.conn = None;
                self.try_directed(tid, now);
            }
        }
        true
    }

    /// `handle_message` for a directed connection.
    pub(super) fn directed_message(
        &mut self,
        conn: ConnId,
        msg: &InMessage<'_>,
        now: Instant,
    ) -> bool {
        let Some(&tid) = self.directed_conns.get(&conn) else {
            return false;
        };
        let result = match msg.ty {
            msg_type::COMMAND_REPLY => CommandReplyMsg::decode(msg.front, msg.data).map(|r| {
                Reply::Command(CommandReply {
                    retval: r.retval,
                    outs: r.outs,
                    outbl: r.outbl,
                })
            }),
            msg_type::PING => decode_pong(msg.front).map(Reply::Pong),
            _ => return true, // the monitor's other chatter (e.g. a MonMap)
        };
        self.close_directed(conn);
        let Some(d) = self.directed.remove(&tid) else {
            return true;
        };
        match result {
            Ok(reply) => self.complete(tid, Ok(reply)),
            Err(e) => {
                // A broken answer is retried like a lost one.
                tracing::warn!(tid, error = %e, "bad answer to a directed request");
                self.directed.insert(tid, Directed { conn: None, ..d });
                self.try_directed(tid, now);
            }
        }
        true
    }

    /// Deadlines of directed requests: overall timeouts and attempts that
    /// went unanswered for the hunt interval.
    pub(super) fn directed_timeouts(&mut self, now: Instant) {
        let mut expired = Vec::new();
        let mut stale = Vec::new();
        for (tid, d) in &self.directed {
            if d.deadline.is_some_and(|t| now >= t) {
                expired.push(*tid);
            } else if d.attempt_deadline.is_some_and(|t| now >= t) {
                stale.push(*tid);
            }
        }
        for tid in expired {
            if let Some(d) = self.directed.remove(&tid) {
                if let Some(conn) = d.conn {
                    self.close_directed(conn);
                }
                let why = format!("waiting for {} to answer", d.target());
                self.complete(
                    tid,
                    Err(MonError::TimedOut(d.timeout.unwrap_or_default(), why)),
                );
            }
        }
        for tid in stale {
            let conn = self.directed.get_mut(&tid).and_then(|d| {
                d.attempt_deadline = None;
                d.conn.take()
            });
            if let Some(conn) = conn {
                self.close_directed(conn);
            }
            self.try_directed(tid, now);
        }
    }

    pub(super) fn directed_deadline(&self) -> Option<Instant> {
        self.directed
            .values()
            .flat_map(|d| [d.deadline, d.attempt_deadline])
            .flatten()
            .min()
    }

    pub(super) fn directed_shutdown(&mut self) {
        for (tid, d) in std::mem::take(&mut self.directed) {
            if let Some(conn) = d.conn {
                self.actions.push_back(Action::Close { conn });
            }
            self.complete(tid, Err(MonError::ShuttingDown));
        }
        self.directed_conns.clear();
    }
}
