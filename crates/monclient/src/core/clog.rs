//! Sending cluster log entries (what C++ calls the LogClient): entries are
//! queued with increasing sequence numbers, sent in MLog on the session,
//! and kept until an MLogAck covers them, so a reset loses none: whatever
//! is unacknowledged goes out again on the next session, and again every
//! `log_interval` until acknowledged.

use std::collections::VecDeque;
use std::time::Instant;

use ceph_types::features::CLIENT_FEATURES_ALL;
use ceph_types::{
    EntityAddrVec, EntityName, EntityNameT, EntityType, LogEntry, LogPriority, UTime,
};

use super::{Action, Core};
use crate::messages::{log_body, LogAck};

/// Entries waiting for the monitors' acknowledgement.
#[derive(Debug, Default)]
pub(super) struct LogQueue {
    entries: VecDeque<LogEntry>,
    next_seq: u64,
    /// The highest sequence number acknowledged.
    acked: u64,
    /// When unacknowledged entries are sent again.
    resend_at: Option<Instant>,
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
        self.send_log(now);
        seq
    }

    /// Entries not yet acknowledged.
    pub fn log_pending(&self) -> usize {
        self.clog.entries.len()
    }

    /// The highest sequence number the monitors acknowledged.
    pub fn log_acked(&self) -> u64 {
        self.clog.acked
    }

    /// Sends every unacknowledged entry on the session, if there is one.
    pub(super) fn send_log(&mut self, now: Instant) {
        let Some(conn) = self.active_conn() else {
            return;
        };
        if self.clog.entries.is_empty() {
            self.clog.resend_at = None;
            return;
        }
        let entries: Vec<LogEntry> = self.clog.entries.iter().cloned().collect();
        let body = log_body(self.fsid, &entries, CLIENT_FEATURES_ALL);
        self.actions.push_back(Action::Send { conn, tid: 0, body });
        self.clog.resend_at = Some(now + self.cfg.log_interval);
    }

    pub(super) fn on_log_ack(&mut self, front: &[u8]) -> Result<(), ceph_denc::DecodeError> {
        let ack = LogAck::decode(front)?;
        self.clog.acked = self.clog.acked.max(ack.last.min(self.clog.next_seq));
        while self.clog.entries.front().is_some_and(|e| e.seq <= ack.last) {
            self.clog.entries.pop_front();
        }
        if self.clog.entries.is_empty() {
            self.clog.resend_at = None;
        }
        Ok(())
    }

    pub(super) fn log_deadline(&self) -> Option<Instant> {
        self.clog.resend_at
    }

    pub(super) fn log_timeout(&mut self, now: Instant) {
        if self.clog.resend_at.is_some_and(|t| now >= t) {
            self.send_log(now);
        }
    }
}
