//! Where the driver publishes what the subscriptions bring: one raw
//! channel of [`ClusterEvent`]s (for [`MonClient::events`]) and one
//! channel per kind (MonMap, MgrMap, config, cluster log, OSD maps) for the
//! decoded streams, so a stream that falls behind is told how many of *its
//! own* items went by, not how many events of every kind. The cluster log
//! is split here into one item per entry, for the same reason.
//!
//! Every channel is made by its first subscriber and dropped once its last
//! receiver is gone: a broadcast channel allocates its whole buffer at
//! once, and an idle session must stay small.
//!
//! [`MonClient::events`]: super::MonClient::events

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use ceph_denc::{Blob, Decode, Decoder};
use ceph_types::{LogEntry, MonMap};
use tokio::sync::broadcast;

use crate::ClusterEvent;

/// Raw events kept for a slow [`MonClient::events`](super::MonClient::events)
/// receiver before it starts missing some.
pub(crate) const RAW_BUFFER: usize = 1024;
/// Cluster-log entries kept for a slow log stream.
pub(crate) const LOG_BUFFER: usize = 1024;
/// MonMaps, MgrMaps or configuration sets kept for a slow stream of them.
pub(crate) const MAP_BUFFER: usize = 64;
/// OSD map messages kept for a slow follower's task (it asks again from
/// its own epoch when it falls behind).
pub(crate) const OSDMAP_MSG_BUFFER: usize = 256;

/// One cluster-log entry, or why the rest of a batch could not be read.
/// Shared: every log stream gets the same decoded entry.
pub(crate) type LogItem = Arc<Result<LogEntry, String>>;

/// Full maps and incrementals of one OSD map message, by epoch.
#[derive(Debug, Default)]
pub(crate) struct OsdMapBatch {
    pub(crate) full: BTreeMap<u32, Blob>,
    pub(crate) incremental: BTreeMap<u32, Blob>,
}

/// The channels of one client, shared by its handles and its driver.
/// [`SharedEvents::close`] (at shutdown) ends every receiver, and a
/// receiver asked for afterwards ends at once.
#[derive(Clone, Default)]
pub(crate) struct SharedEvents(Arc<Mutex<Channels>>);

#[derive(Default)]
struct Channels {
    closed: bool,
    raw: Lazy<ClusterEvent>,
    monmap: Lazy<Arc<MonMap>>,
    mgrmap: Lazy<Arc<[u8]>>,
    config: Lazy<BTreeMap<String, String>>,
    log: Lazy<LogItem>,
    osdmap: Lazy<Arc<OsdMapBatch>>,
}

/// A broadcast channel that exists only while someone listens.
struct Lazy<T>(Option<broadcast::Sender<T>>);

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy(None)
    }
}

impl<T: Clone> Lazy<T> {
    fn subscribe(&mut self, closed: bool, capacity: usize) -> broadcast::Receiver<T> {
        if closed {
            // Its sender is dropped at once: the receiver sees the end.
            return broadcast::channel(1).1;
        }
        match &self.0 {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = broadcast::channel(capacity);
                self.0 = Some(tx);
                rx
            }
        }
    }

    /// The sender if anyone still listens; a channel nobody listens to any
    /// more is dropped here, its buffer with it.
    fn live(&mut self) -> Option<&broadcast::Sender<T>> {
        if self.0.as_ref().is_some_and(|tx| tx.receiver_count() == 0) {
            self.0 = None;
        }
        self.0.as_ref()
    }

    fn send(&mut self, make: impl FnOnce() -> Option<T>) {
        if let Some(tx) = self.live() {
            if let Some(item) = make() {
                // Every receiver may have gone since: fine.
                let _ = tx.send(item);
            }
        }
    }
}

impl SharedEvents {
    fn lock(&self) -> MutexGuard<'_, Channels> {
        // A panic while holding the lock leaves valid channels: go on.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every event from now on, encoded as it came.
    pub(crate) fn raw(&self) -> broadcast::Receiver<ClusterEvent> {
        let mut ch = self.lock();
        let closed = ch.closed;
        ch.raw.subscribe(closed, RAW_BUFFER)
    }

    /// Each new MonMap from now on.
    pub(crate) fn monmaps(&self) -> broadcast::Receiver<Arc<MonMap>> {
        let mut ch = self.lock();
        let closed = ch.closed;
        ch.monmap.subscribe(closed, MAP_BUFFER)
    }

    /// Each MgrMap from now on, encoded.
    pub(crate) fn mgrmaps(&self) -> broadcast::Receiver<Arc<[u8]>> {
        let mut ch = self.lock();
        let closed = ch.closed;
        ch.mgrmap.subscribe(closed, MAP_BUFFER)
    }

    /// Each central configuration set from now on.
    pub(crate) fn configs(&self) -> broadcast::Receiver<BTreeMap<String, String>> {
        let mut ch = self.lock();
        let closed = ch.closed;
        ch.config.subscribe(closed, MAP_BUFFER)
    }

    /// Each cluster-log entry from now on, one per item.
    pub(crate) fn log_entries(&self) -> broadcast::Receiver<LogItem> {
        let mut ch = self.lock();
        let closed = ch.closed;
        ch.log.subscribe(closed, LOG_BUFFER)
    }

    /// Each OSD map message from now on.
    pub(crate) fn osdmaps(&self) -> broadcast::Receiver<Arc<OsdMapBatch>> {
        let mut ch = self.lock();
        let closed = ch.closed;
        ch.osdmap.subscribe(closed, OSDMAP_MSG_BUFFER)
    }

    /// Publishes `event` to the raw channel and to its kind's channel, if
    /// either has receivers. `current_monmap` is the map the client holds
    /// (asked for on a MonMap event only, which carries just the epoch).
    pub(crate) fn send(
        &self,
        event: ClusterEvent,
        current_monmap: impl FnOnce() -> Option<Arc<MonMap>>,
    ) {
        let mut ch = self.lock();
        if ch.closed {
            return;
        }
        let mut log = None;
        match &event {
            ClusterEvent::MonMap { epoch } => ch
                .monmap
                .send(|| current_monmap().filter(|m| m.epoch >= *epoch)),
            ClusterEvent::MgrMap { encoded, .. } => {
                ch.mgrmap.send(|| Some(Arc::from(encoded.as_slice())))
            }
            ClusterEvent::Config(options) => ch.config.send(|| Some(options.clone())),
            ClusterEvent::OsdMap {
                full, incremental, ..
            } => ch.osdmap.send(|| {
                Some(Arc::new(OsdMapBatch {
                    full: full.clone(),
                    incremental: incremental.clone(),
                }))
            }),
            // Decoded below, out of the lock.
            ClusterEvent::Log { .. } => log = ch.log.live().cloned(),
        }
        let raw = ch.raw.live().cloned();
        drop(ch);
        if let (Some(tx), ClusterEvent::Log { entries, .. }) = (log, &event) {
            split_log_entries(entries, |item| {
                let _ = tx.send(Arc::new(item));
            });
        }
        if let Some(tx) = raw {
            let _ = tx.send(event);
        }
    }

    /// Ends every receiver, and every one asked for from now on.
    pub(crate) fn close(&self) {
        let mut ch = self.lock();
        *ch = Channels {
            closed: true,
            ..Channels::default()
        };
    }

    /// How many channels exist now (each one a buffer allocated).
    #[cfg(test)]
    pub(crate) fn open_channels(&self) -> usize {
        let ch = self.lock();
        [
            ch.raw.0.is_some(),
            ch.monmap.0.is_some(),
            ch.mgrmap.0.is_some(),
            ch.config.0.is_some(),
            ch.log.0.is_some(),
            ch.osdmap.0.is_some(),
        ]
        .into_iter()
        .filter(|&open| open)
        .count()
    }
}

/// Reads a count-prefixed run of encoded cluster-log entries one at a time,
/// handing each to `out` as it is decoded. An entry that does not decode
/// ends the run with one `Err` (the entries after it cannot be framed);
/// bytes left over after the last entry give one too.
pub(crate) fn split_log_entries(bytes: &[u8], mut out: impl FnMut(Result<LogEntry, String>)) {
    let mut d = Decoder::new(bytes);
    // A count the bytes cannot hold fails here, before any loop.
    let count = match d.count(16, "cluster log entries") {
        Ok(n) => n,
        Err(e) => return out(Err(e.to_string())),
    };
    for _ in 0..count {
        match LogEntry::decode(&mut d) {
            Ok(entry) => out(Ok(entry)),
            Err(e) => return out(Err(e.to_string())),
        }
    }
    if let Err(e) = d.finish("cluster log entries") {
        out(Err(e.to_string()));
    }
}
