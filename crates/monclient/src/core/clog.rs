//! Sending cluster log entries (what C++ calls the LogClient): entries are
//! queued with increasing sequence numbers, sent in MLog on the session,
//! and kept until the monitors are known to hold them, so a reset loses
//! none: whatever is unsettled goes out again on the next session, and
//! again every `log_interval` (backing off while nothing settles).
//!
//! # Why an MLogAck alone is not enough
//!
//! An entry is settled by an MLogAck covering it, or by finding it in the
//! cluster log itself (`log last`). The second way is needed because the
//! monitors do not acknowledge everything they store:
//!
//! - An MLog whose entries the monitors already hold (a resend after the
//!   first copy was committed but its ack was lost with the session) is
//!   dropped as "nothing new" without an answer, by every release.
//! - Tentacle (20.2) monitors never acknowledge an MLog that reached them
//!   through a peon: the leader's `preprocess_log` now tells the peon
//!   "no reply" (an MRoute without a message) for every MLog, before the
//!   entries are even committed, and the peon forgets the routed request;
//!   the MLogAck the leader sends after the commit then reaches a peon that
//!   drops it ("don't have routed request"). Only a session with the leader
//!   itself gets acks. The entries are stored all the same; the C++
//!   LogClient does not notice because it sends each entry once per session
//!   and only trims its queue on acks.
//!
//! So every round (an ack overdue by `log_interval`) sends the unsettled
//! entries again (monitors drop copies of entries they hold) and asks the
//! session's monitor for the tail of the oldest entry's channel (a read it
//! answers itself, `log last`); every entry found there (same rank,
//! sequence number, channel and text) is settled. Rounds that settle
//! nothing back off up to 32 intervals. A monitor that refuses the look
//! (no `mon r` cap) leaves the entries to acks alone, as before.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ceph_types::features::CLIENT_FEATURES_ALL;
use ceph_types::{
    EntityAddrVec, EntityName, EntityNameT, EntityType, LogEntry, LogPriority, UTime,
};
use serde_json::Value;

use super::{Action, ConnId, Core, Reply};
use crate::error::MonError;
use crate::messages::{log_body, LogAck};

/// Unsuccessful rounds double the interval up to this many times.
const MAX_BACKOFF_DOUBLINGS: u32 = 5;

/// How many entries of a channel's tail a confirmation looks at, at least.
const CONFIRM_TAIL: usize = 100;

/// The channels `log last` accepts by name; others are looked for in the
/// tail of all channels (`*`).
const NAMED_CHANNELS: [&str; 3] = ["cluster", "audit", "cephadm"];

/// Entries waiting to be settled.
#[derive(Debug, Default)]
pub(super) struct LogQueue {
    entries: VecDeque<LogEntry>,
    next_seq: u64,
    /// Every entry up to this sequence number is settled.
    acked: u64,
    /// When unsettled entries are sent again and looked for.
    resend_at: Option<Instant>,
    /// The `log last` request looking for unsettled entries, if one is out.
    confirm_tid: Option<u64>,
    /// Rounds (resend and look) in a row that settled nothing.
    idle_rounds: u32,
    /// The session the entries were last sent on, and the highest sequence
    /// number sent there: a new entry alone goes out on that session.
    sent: Option<(ConnId, u64)>,
}

impl Core {
    /// Queues a cluster log entry from `name` (this client) on `channel`
    /// (`cluster`, `audit`, ...). `stamp` is the wall-clock time of the
    /// entry (the core keeps no clock). Returns its sequence number.
    pub fn log(
        &mut self,
        name: &EntityName,
        prio: LogPriority,
        channel: &str,
        msg: &str,
        stamp: UTime,
        now: Instant,
    ) -> u64 {
        self.clog.next_seq += 1;
        let seq = self.clog.next_seq;
        self.clog.entries.push_back(LogEntry {
            name: name.clone(),
            rank: EntityNameT {
                ty: EntityType::Client,
                num: self.global_id as i64,
            },
            addrs: EntityAddrVec::default(),
            stamp,
            seq,
            prio,
            msg: msg.to_string(),
            channel: channel.to_string(),
            struct_v: 5,
        });
        self.clog.idle_rounds = 0;
        self.send_log(now, true);
        seq
    }

    /// Entries not yet settled.
    pub fn log_pending(&self) -> usize {
        self.clog.entries.len()
    }

    /// The highest sequence number up to which every entry is settled
    /// (acknowledged, or found in the cluster log).
    pub fn log_acked(&self) -> u64 {
        self.clog.acked
    }

    /// Sends the unsettled entries on the session, if there is one: all of
    /// them, or with `new_only` those not yet sent on this session.
    pub(super) fn send_log(&mut self, now: Instant, new_only: bool) {
        let Some(conn) = self.active_conn() else {
            return;
        };
        let q = &mut self.clog;
        let Some(last) = q.entries.back().map(|e| e.seq) else {
            q.resend_at = None;
            return;
        };
        let after = match q.sent {
            Some((c, upto)) if new_only && c == conn => upto,
            _ => 0,
        };
        let entries: Vec<LogEntry> = q
            .entries
            .iter()
            .filter(|e| e.seq > after)
            .cloned()
            .collect();
        if entries.is_empty() {
            return;
        }
        q.sent = Some((conn, last));
        let body = log_body(self.fsid, &entries, CLIENT_FEATURES_ALL);
        self.actions.push_back(Action::Send { conn, tid: 0, body });
        if !new_only || self.clog.resend_at.is_none() {
            self.clog.resend_at = Some(now + self.log_round_interval());
        }
    }

    /// `log_interval`, doubled for every round in a row that settled nothing.
    fn log_round_interval(&self) -> Duration {
        let doublings = self.clog.idle_rounds.min(MAX_BACKOFF_DOUBLINGS);
        self.cfg.log_interval * (1u32 << doublings)
    }

    pub(super) fn on_log_ack(&mut self, front: &[u8]) -> Result<(), ceph_denc::DecodeError> {
        let ack = LogAck::decode(front)?;
        let before = self.clog.entries.len();
        self.clog.entries.retain(|e| e.seq > ack.last);
        self.settled(before);
        Ok(())
    }

    /// Bookkeeping after entries left the queue (`before` were queued).
    fn settled(&mut self, before: usize) {
        let q = &mut self.clog;
        if q.entries.len() < before {
            q.idle_rounds = 0;
        }
        let below = q.entries.front().map_or(q.next_seq, |e| e.seq - 1);
        q.acked = q.acked.max(below);
        if q.entries.is_empty() {
            q.resend_at = None;
        }
    }

    pub(super) fn log_deadline(&self) -> Option<Instant> {
        self.clog.resend_at
    }

    /// A round is due: send the unsettled entries again, and look for them
    /// in the cluster log unless a look is already under way.
    pub(super) fn log_timeout(&mut self, now: Instant) {
        if self.clog.resend_at.is_none_or(|t| now < t) {
            return;
        }
        self.clog.resend_at = None;
        if self.clog.entries.is_empty() || self.active.is_none() {
            // The next session sends them.
            return;
        }
        self.clog.idle_rounds = self.clog.idle_rounds.saturating_add(1);
        self.send_log(now, false);
        if self.clog.confirm_tid.is_none() {
            self.start_log_confirm(now);
        }
    }

    /// Asks for the tail of the oldest unsettled entry's channel.
    fn start_log_confirm(&mut self, now: Instant) {
        let Some(oldest) = self.clog.entries.front() else {
            return;
        };
        let channel = if NAMED_CHANNELS.contains(&oldest.channel.as_str()) {
            oldest.channel.as_str()
        } else {
            "*"
        };
        let num = CONFIRM_TAIL.max(2 * self.clog.entries.len());
        let cmd = serde_json::json!({
            "prefix": "log last",
            "num": num,
            "level": "debug",
            "channel": channel,
            "format": "json",
        })
        .to_string();
        let timeout = Some(self.cfg.log_interval * 10);
        let tid = self.start_command(vec![cmd], Vec::new(), timeout, now);
        // Failing at once (shutting down) leaves nothing to wait for.
        if self.requests.contains_key(&tid) {
            self.clog.confirm_tid = Some(tid);
        }
    }

    /// Takes the answer to our own `log last` request; false for any other
    /// request.
    pub(super) fn log_confirm_done(&mut self, tid: u64, result: &Result<Reply, MonError>) -> bool {
        if self.clog.confirm_tid != Some(tid) {
            return false;
        }
        self.clog.confirm_tid = None;
        match result {
            Ok(Reply::Command(r)) if r.retval == 0 => {
                let before = self.clog.entries.len();
                let found = logged_entries(&r.outbl);
                self.clog.entries.retain(|e| !found.iter().any(|f| f.is(e)));
                self.settled(before);
            }
            Ok(Reply::Command(r)) => {
                tracing::debug!(retval = r.retval, outs = %r.outs, "cannot look for unacknowledged log entries");
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "looking for unacknowledged log entries failed"),
        }
        true
    }
}

/// What identifies an entry in `log last -f json` output.
#[derive(Debug, PartialEq, Eq)]
struct LoggedEntry {
    rank: String,
    seq: u64,
    channel: String,
    message: String,
}

impl LoggedEntry {
    fn is(&self, e: &LogEntry) -> bool {
        self.seq == e.seq
            && self.rank == e.rank.to_string()
            && self.channel == e.channel
            && self.message == e.msg
    }
}

/// The entries of a `log last -f json` answer (an array of objects);
/// anything else, or objects missing a field, yield nothing.
fn logged_entries(outbl: &[u8]) -> Vec<LoggedEntry> {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(outbl) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|v| {
            Some(LoggedEntry {
                rank: v.get("rank")?.as_str()?.to_string(),
                seq: v.get("seq")?.as_u64()?,
                channel: v.get("channel")?.as_str()?.to_string(),
                message: v.get("message")?.as_str()?.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_entries_reads_log_last_json() {
        let out = br#"[
            {"name":"client.admin","rank":"client.4106","addrs":{"addrvec":[]},
             "stamp":"2026-11-28T10:55:58.894098+0000","seq":3,"channel":"cluster",
             "priority":"[INF]","message":"hello"},
            {"name":"mon.a","rank":"mon.0","seq":"bad","channel":"cluster","message":"x"},
            {"rank":"mon.0","seq":4,"channel":"audit"}
        ]"#;
        assert_eq!(
            logged_entries(out),
            vec![LoggedEntry {
                rank: "client.4106".into(),
                seq: 3,
                channel: "cluster".into(),
                message: "hello".into(),
            }]
        );
        assert!(logged_entries(b"").is_empty());
        assert!(logged_entries(b"{\"tail\": []}").is_empty());
        assert!(logged_entries(b"[1, null, \"x\"]").is_empty());
    }
}
