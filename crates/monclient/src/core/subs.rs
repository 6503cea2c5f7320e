//! Subscriptions: what arrives for them (OSDMaps, MgrMaps, central config,
//! cluster log) and the bookkeeping that makes a renewal ask only for what
//! is new.

use std::collections::BTreeMap;
use std::time::Instant;

use ceph_denc::Blob;

use super::{Action, Core};
use crate::messages::{mgrmap_epoch, ConfigMsg, LogMsg, MonSubscribeAck, OsdMapMsg};

/// Something the monitors pushed because we subscribed to it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterEvent {
    /// A new MonMap (decoded; the core applies it too).
    MonMap {
        /// Its epoch.
        epoch: u32,
    },
    /// OSDMaps, full and incremental, as encoded blobs by epoch.
    OsdMap {
        /// Full maps by epoch.
        full: BTreeMap<u32, Blob>,
        /// Incrementals by epoch (each takes the map before it to its own).
        incremental: BTreeMap<u32, Blob>,
        /// The oldest epoch the monitors keep.
        oldest: u32,
        /// The newest epoch they have.
        newest: u32,
    },
    /// An encoded MgrMap and its epoch.
    MgrMap {
        /// Its epoch.
        epoch: u32,
        /// The map, encoded.
        encoded: Vec<u8>,
    },
    /// The central configuration for this client.
    Config(BTreeMap<String, String>),
    /// Cluster log entries (count-prefixed encoded `LogEntry`s).
    Log {
        /// How many entries.
        count: usize,
        /// The entries, encoded.
        entries: Vec<u8>,
    },
}

impl Core {
    fn emit(&mut self, event: ClusterEvent) {
        self.actions.push_back(Action::Event(event));
    }

    pub(super) fn on_osdmap(
        &mut self,
        front: &[u8],
        version: u16,
    ) -> Result<(), ceph_denc::DecodeError> {
        let m = OsdMapMsg::decode(front, version)?;
        if let Some(last) = m.last_epoch() {
            self.got("osdmap", last as u64);
            self.note_epoch("osdmap", last as u64);
        }
        self.emit(ClusterEvent::OsdMap {
            full: m.full,
            incremental: m.incremental,
            oldest: m.oldest,
            newest: m.newest,
        });
        Ok(())
    }

    pub(super) fn on_mgrmap(&mut self, front: &[u8]) -> Result<(), ceph_denc::DecodeError> {
        let epoch = mgrmap_epoch(front)?;
        self.got("mgrmap", epoch as u64);
        self.note_epoch("mgrmap", epoch as u64);
        self.emit(ClusterEvent::MgrMap {
            epoch,
            encoded: front.to_vec(),
        });
        Ok(())
    }

    pub(super) fn on_config(
        &mut self,
        front: &[u8],
        now: Instant,
    ) -> Result<(), ceph_denc::DecodeError> {
        let c = ConfigMsg::decode(front)?;
        self.apply_central(&c.options, now);
        self.emit(ClusterEvent::Config(c.options));
        Ok(())
    }

    pub(super) fn on_log(&mut self, front: &[u8]) -> Result<(), ceph_denc::DecodeError> {
        let m = LogMsg::decode(front)?;
        self.emit(ClusterEvent::Log {
            count: m.count,
            entries: m.entries,
        });
        Ok(())
    }

    /// Only monitors without stateful subscriptions answer a subscription;
    /// they forget it after `interval`, so renew at half of it.
    pub(super) fn on_subscribe_ack(
        &mut self,
        front: &[u8],
        now: Instant,
    ) -> Result<(), ceph_denc::DecodeError> {
        let ack = MonSubscribeAck::decode(front)?;
        let half = std::time::Duration::from_secs(u64::from(ack.interval_secs.max(2)) / 2);
        self.sub_renew_at = Some(now + half);
        Ok(())
    }

    /// Resends every subscription when a legacy monitor's interval is up.
    pub(super) fn renew_subscriptions(&mut self, now: Instant) {
        if self.sub_renew_at.is_some_and(|t| now >= t) {
            self.sub_renew_at = None;
            for s in self.subs.values_mut() {
                s.sent = false;
            }
            self.send_subscriptions();
        }
    }

    /// Stops wanting `what`; the monitor may still send what it had queued.
    pub fn unsubscribe(&mut self, what: &str) {
        self.subs.remove(what);
    }

    /// The newest epoch seen of a map (`monmap`, `osdmap`, `mgrmap`).
    pub fn epoch_of(&self, what: &str) -> Option<u64> {
        self.epochs.get(what).copied()
    }

    pub(super) fn note_epoch(&mut self, what: &str, epoch: u64) {
        let e = self.epochs.entry(what.to_string()).or_insert(0);
        *e = (*e).max(epoch);
    }

    /// The epochs seen so far, by map.
    pub fn epochs(&self) -> &BTreeMap<String, u64> {
        &self.epochs
    }
}
