//! Decoded event streams: cluster-log entries, MonMaps, MgrMaps, central
//! configuration, and an OSD map kept current for the caller.
//!
//! Every stream is a `futures_core::Stream` (use it with `StreamExt`) and
//! has an inherent [`EventStream::next`] for programs without `futures`.
//! Each kind of stream reads a channel of its own, holding its own items: a
//! cluster-log stream one entry per item (1,024 of them), a MonMap, MgrMap
//! or configuration stream one map or set per item (64), an
//! [`OsdMapFollower`] one epoch per item (64). A consumer that falls
//! further behind than that gets one `Err(MonError::Lagged { missed })`,
//! `missed` being how many of *its* items went by unseen (traffic of other
//! kinds never counts, nor makes it lag), then the stream goes on from the
//! oldest item still buffered. An item that cannot be decoded is an
//! `Err(MonError::Decode)` in its place and the stream goes on.

use std::collections::BTreeMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ceph_denc::Decode;
use ceph_osdmap::{OSDMap, OSDMapIncremental};
use ceph_types::{LogEntry, MgrMap, MonMap};
use futures_core::Stream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use super::events::{OsdMapBatch, SharedEvents};
use super::handle::MonClient;
use crate::error::MonError;

type Recv<E> = Pin<Box<dyn Future<Output = (Result<E, RecvError>, broadcast::Receiver<E>)> + Send>>;

fn recv<E: Clone + Send + 'static>(mut rx: broadcast::Receiver<E>) -> Recv<E> {
    Box::pin(async move {
        let r = rx.recv().await;
        (r, rx)
    })
}

/// Turns one message of a channel into the stream's item: exactly one, so
/// that what a lagging reader missed counts items.
type Decoder<E, T> = Box<dyn FnMut(E) -> Result<T, MonError> + Send>;

/// A stream of decoded items, each from one message of a broadcast
/// channel of its own kind.
struct Feed<T, E> {
    recv: Option<Recv<E>>,
    decode: Decoder<E, T>,
    items: PhantomData<fn() -> T>,
}

impl<T, E: Clone + Send + 'static> Stream for Feed<T, E> {
    type Item = Result<T, MonError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Every field is Unpin (the future is boxed).
        let this = self.get_mut();
        let Some(fut) = this.recv.as_mut() else {
            return Poll::Ready(None);
        };
        let (result, rx) = match fut.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(r) => r,
        };
        Poll::Ready(match result {
            Ok(message) => {
                this.recv = Some(recv(rx));
                Some((this.decode)(message))
            }
            Err(RecvError::Lagged(missed)) => {
                this.recv = Some(recv(rx));
                Some(Err(MonError::Lagged { missed }))
            }
            Err(RecvError::Closed) => {
                this.recv = None;
                None
            }
        })
    }
}

/// A stream of decoded items (cluster-log entries, maps...); a reader that
/// fell behind gets [`MonError::Lagged`] counting the items of this stream
/// it missed. Ends when the client shuts down.
pub struct EventStream<T> {
    feed: Pin<Box<dyn Stream<Item = Result<T, MonError>> + Send>>,
}

impl<T: 'static> EventStream<T> {
    fn new<E: Clone + Send + 'static>(
        rx: broadcast::Receiver<E>,
        decode: impl FnMut(E) -> Result<T, MonError> + Send + 'static,
    ) -> Self {
        EventStream {
            feed: Box::pin(Feed {
                recv: Some(recv(rx)),
                decode: Box::new(decode),
                items: PhantomData,
            }),
        }
    }

    /// The next item, or `None` once the client has shut down.
    pub async fn next(&mut self) -> Option<Result<T, MonError>> {
        std::future::poll_fn(|cx| self.feed.as_mut().poll_next(cx)).await
    }
}

impl<T> Stream for EventStream<T> {
    type Item = Result<T, MonError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().feed.as_mut().poll_next(cx)
    }
}

impl<T> std::fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream")
    }
}

/// Cluster-log entries, one per item.
fn log_stream(events: &SharedEvents) -> EventStream<LogEntry> {
    EventStream::new(events.log_entries(), |item| {
        Arc::unwrap_or_clone(item).map_err(|why| MonError::Decode {
            what: "a cluster log entry".into(),
            why,
        })
    })
}

/// Each new MonMap.
fn monmap_stream(events: &SharedEvents) -> EventStream<Arc<MonMap>> {
    EventStream::new(events.monmaps(), Ok)
}

/// Each MgrMap, decoded by the stream (each stream its own copy).
fn mgrmap_stream(events: &SharedEvents) -> EventStream<MgrMap> {
    EventStream::new(events.mgrmaps(), |encoded| {
        MgrMap::decode_all(&encoded).map_err(|e| MonError::Decode {
            what: "a MgrMap".into(),
            why: e.to_string(),
        })
    })
}

/// Each central configuration set.
fn config_stream(events: &SharedEvents) -> EventStream<BTreeMap<String, String>> {
    EventStream::new(events.configs(), Ok)
}

/// Severity threshold of a cluster-log subscription (`ceph -w
/// --watch-LEVEL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogLevel {
    /// Everything (`log-debug`).
    Debug,
    /// Informational and above (`log-info`), the `ceph -w` default.
    #[default]
    Info,
    /// Security entries and above (`log-sec`).
    Sec,
    /// Warnings and errors (`log-warn`).
    Warn,
    /// Errors only (`log-error`).
    Error,
}

impl LogLevel {
    /// The subscription's name.
    fn subscription(self) -> &'static str {
        match self {
            LogLevel::Debug => "log-debug",
            LogLevel::Info => "log-info",
            LogLevel::Sec => "log-sec",
            LogLevel::Warn => "log-warn",
            LogLevel::Error => "log-error",
        }
    }
}

impl MonClient {
    /// Subscribes to the cluster log at `level` and above (every channel:
    /// filter on [`LogEntry::channel`]) and streams the entries as they
    /// come, decoded, one per item; a reader that fell behind is told how
    /// many entries it missed.
    pub fn cluster_log(&self, level: LogLevel) -> Result<EventStream<LogEntry>, MonError> {
        // The channel first, so nothing sent for the subscription is lost.
        let stream = log_stream(&self.events);
        self.subscribe(level.subscription(), 0, false)?;
        Ok(stream)
    }

    /// Streams every new MonMap (the client always follows the MonMap; this
    /// starts from the next one).
    pub fn monmaps(&self) -> EventStream<Arc<MonMap>> {
        monmap_stream(&self.events)
    }

    /// Subscribes to the MgrMap and streams each one, decoded, from the
    /// newest.
    pub fn mgrmaps(&self) -> Result<EventStream<MgrMap>, MonError> {
        let stream = mgrmap_stream(&self.events);
        self.subscribe("mgrmap", 0, false)?;
        Ok(stream)
    }

    /// Streams the monitors' central configuration for this client (the
    /// whole set of `name = value` pairs, each time it changes). The client
    /// subscribes to it when started from a configuration
    /// ([`MonClientOptions::from_config`](crate::MonClientOptions::from_config));
    /// this subscribes otherwise.
    pub fn config_changes(&self) -> Result<EventStream<BTreeMap<String, String>>, MonError> {
        let stream = config_stream(&self.events);
        if self.config().is_none() {
            self.subscribe("config", 0, false)?;
        }
        Ok(stream)
    }

    /// Subscribes to the OSD map and keeps it current: full maps and
    /// incrementals are applied by a task of its own, and the
    /// [`OsdMapFollower`] shows the map as of now and streams each new
    /// epoch.
    pub fn follow_osdmap(&self) -> Result<OsdMapFollower, MonError> {
        let maps = self.events.osdmaps();
        self.subscribe("osdmap", 0, false)?;
        let (current_tx, current) = watch::channel(None);
        let (epochs_tx, epochs_rx) = broadcast::channel(OSDMAP_BUFFER);
        let tracker = OsdMapTracker {
            client: self.clone(),
            map: None,
            current: current_tx,
            epochs: epochs_tx,
        };
        tokio::spawn(tracker.run(maps));
        Ok(OsdMapFollower {
            current,
            epochs: EventStream::new(epochs_rx, Ok),
        })
    }
}

/// New epochs kept for a slow [`OsdMapFollower`] before it lags.
const OSDMAP_BUFFER: usize = 64;

/// The OSD map kept current: [`OsdMapFollower::current`] is the newest
/// map applied, and the follower is a stream of every new epoch's map
/// (with `Err(MonError::Lagged)` when it fell behind; `current()` is right
/// all the same). Dropping it stops the task that applies the maps.
pub struct OsdMapFollower {
    current: watch::Receiver<Option<Arc<OSDMap>>>,
    epochs: EventStream<Arc<OSDMap>>,
}

impl OsdMapFollower {
    /// The newest OSD map applied, if one has arrived.
    pub fn current(&self) -> Option<Arc<OSDMap>> {
        self.current.borrow().clone()
    }

    /// Waits until the map reaches `epoch` (or newer) and returns it;
    /// `None` if the client shut down first.
    pub async fn wait_for_epoch(&mut self, epoch: u32) -> Option<Arc<OSDMap>> {
        let mut current = self.current.clone();
        let got = current
            .wait_for(|m| m.as_ref().is_some_and(|m| m.epoch >= epoch))
            .await
            .ok()?;
        got.clone()
    }

    /// The next new epoch's map, or `None` once the client has shut down.
    pub async fn next(&mut self) -> Option<Result<Arc<OSDMap>, MonError>> {
        self.epochs.next().await
    }
}

impl Stream for OsdMapFollower {
    type Item = Result<Arc<OSDMap>, MonError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.get_mut().epochs).poll_next(cx)
    }
}

/// The task behind an [`OsdMapFollower`].
struct OsdMapTracker {
    client: MonClient,
    map: Option<OSDMap>,
    current: watch::Sender<Option<Arc<OSDMap>>>,
    epochs: broadcast::Sender<Arc<OSDMap>>,
}

impl OsdMapTracker {
    async fn run(mut self, mut maps: broadcast::Receiver<Arc<OsdMapBatch>>) {
        loop {
            let batch = tokio::select! {
                b = maps.recv() => b,
                // Every follower is gone.
                _ = self.current.closed() => return,
            };
            match batch {
                Ok(batch) => self.apply(&batch.full, &batch.incremental),
                // Maps went by unseen: ask again from the one after ours.
                Err(RecvError::Lagged(_)) => self.resync(),
                Err(RecvError::Closed) => return,
            }
        }
    }

    fn epoch(&self) -> Option<u32> {
        self.map.as_ref().map(|m| m.epoch)
    }

    fn resync(&self) {
        let from = self.epoch().map_or(0, |e| u64::from(e) + 1);
        let _ = self.client.subscribe("osdmap", from, false);
    }

    fn apply(
        &mut self,
        full: &BTreeMap<u32, ceph_denc::Blob>,
        incremental: &BTreeMap<u32, ceph_denc::Blob>,
    ) {
        let epochs: std::collections::BTreeSet<u32> =
            full.keys().chain(incremental.keys()).copied().collect();
        for epoch in epochs {
            let have = self.epoch();
            if have.is_some_and(|h| epoch <= h) {
                continue;
            }
            let next = if let Some(bytes) = full.get(&epoch) {
                OSDMap::decode_all(&bytes.0).map_err(|e| e.to_string())
            } else if have == Some(epoch - 1) || (have.is_none() && epoch == 1) {
                let mut map = self.map.take().unwrap_or_default();
                let inc = &incremental[&epoch];
                let applied = OSDMapIncremental::decode_all(&inc.0)
                    .map_err(|e| e.to_string())
                    .and_then(|inc| map.apply_incremental(&inc).map_err(|e| e.to_string()));
                applied.map(|()| map)
            } else {
                // A gap: what we hold cannot take this incremental.
                tracing::debug!(?have, epoch, "osdmap gap, asking again");
                self.resync();
                return;
            };
            match next {
                Ok(map) => {
                    let shared = Arc::new(map.clone());
                    self.map = Some(map);
                    self.current.send_replace(Some(shared.clone()));
                    let _ = self.epochs.send(shared);
                }
                Err(why) => {
                    tracing::warn!(epoch, %why, "undecodable osdmap, asking again");
                    self.map = None;
                    self.resync();
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::events::{LOG_BUFFER, MAP_BUFFER, RAW_BUFFER};
    use super::*;
    use crate::ClusterEvent;
    use ceph_denc::Encode;
    use ceph_types::{EntityAddrVec, EntityNameT, EntityType, LogPriority, UTime};
    use tokio::sync::broadcast::error::TryRecvError;

    #[tokio::test]
    async fn a_lagging_reader_is_told_how_much_it_missed_then_goes_on() {
        let (tx, rx) = broadcast::channel::<u32>(4);
        // One item per message, odd ones undecodable.
        let mut stream = EventStream::new(rx, |n| {
            if n % 2 == 0 {
                Ok(n * 10)
            } else {
                Err(MonError::Decode {
                    what: "a test item".into(),
                    why: format!("{n} is odd"),
                })
            }
        });
        for n in 0..10 {
            tx.send(n).unwrap();
        }
        // 10 sent into 4 places: 6 went by unseen.
        match stream.next().await {
            Some(Err(MonError::Lagged { missed: 6 })) => {}
            other => panic!("expected Lagged(6), got {other:?}"),
        }
        // The oldest four are still there, in order, an error in its place.
        assert_eq!(stream.next().await.unwrap().unwrap(), 60);
        assert!(matches!(
            stream.next().await,
            Some(Err(MonError::Decode { why, .. })) if why == "7 is odd"
        ));
        assert_eq!(stream.next().await.unwrap().unwrap(), 80);
        assert!(matches!(
            stream.next().await,
            Some(Err(MonError::Decode { .. }))
        ));
        tx.send(10).unwrap();
        drop(tx);
        assert_eq!(stream.next().await.unwrap().unwrap(), 100);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_stream_ends_when_its_channel_closes() {
        let (tx, rx) = broadcast::channel::<u32>(4);
        let mut stream = EventStream::new(rx, Ok);
        tx.send(1).unwrap();
        drop(tx);
        assert_eq!(stream.next().await.unwrap().unwrap(), 1);
        assert!(stream.next().await.is_none());
        assert!(stream.next().await.is_none());
    }

    fn entry(seq: u64) -> LogEntry {
        LogEntry {
            name: "mon.a".parse().unwrap(),
            rank: EntityNameT {
                ty: EntityType::Mon,
                num: 0,
            },
            addrs: EntityAddrVec::default(),
            stamp: UTime::default(),
            seq,
            prio: LogPriority::Info,
            msg: format!("entry {seq}"),
            channel: "cluster".into(),
            struct_v: 5,
        }
    }

    /// One MLog's worth: entries `first..first + count`, encoded as the
    /// monitors send them (a count, then the entries).
    fn log_event(first: u64, count: u64) -> ClusterEvent {
        let entries: Vec<LogEntry> = (first..first + count).map(entry).collect();
        ClusterEvent::Log {
            count: entries.len(),
            entries: entries.to_bytes(0),
        }
    }

    fn monmap(epoch: u32) -> Arc<MonMap> {
        Arc::new(MonMap {
            epoch,
            ..MonMap::default()
        })
    }

    /// Sends `event` as the driver does, the client holding `map`.
    fn send(events: &SharedEvents, event: ClusterEvent, map: &Arc<MonMap>) {
        events.send(event, || Some(map.clone()));
    }

    fn mgrmap_event(epoch: u32) -> ClusterEvent {
        let map = MgrMap {
            epoch,
            ..MgrMap::default()
        };
        ClusterEvent::MgrMap {
            epoch,
            encoded: map.to_bytes(ceph_types::features::CLIENT_FEATURES_ALL),
        }
    }

    #[tokio::test]
    async fn a_lagging_log_stream_is_told_how_many_entries_it_missed() {
        let events = SharedEvents::default();
        let mut log = log_stream(&events);
        let mut monmaps = monmap_stream(&events);
        let mut mgrmaps = mgrmap_stream(&events);
        let mut raw = events.raw();

        // More log events than the raw channel keeps, two entries each,
        // with a few MonMaps and MgrMaps among them: the MonMap and MgrMap
        // streams keep up with their own kind, the log stream does not.
        let batches = RAW_BUFFER as u64 + 100;
        let per_batch = 2;
        let maps = MAP_BUFFER as u32 / 2;
        let mut sent_events = 0;
        let mut epoch = 0;
        for b in 0..batches {
            if b % 3 == 0 && epoch < maps {
                epoch += 1;
                let map = monmap(epoch);
                send(&events, ClusterEvent::MonMap { epoch }, &map);
                send(&events, mgrmap_event(epoch), &map);
                sent_events += 2;
            }
            let map = monmap(epoch);
            send(&events, log_event(b * per_batch, per_batch), &map);
            sent_events += 1;
        }
        assert_eq!(epoch, maps);
        let entries = batches * per_batch;
        let missed = entries - LOG_BUFFER as u64;
        match log.next().await {
            Some(Err(MonError::Lagged { missed: m })) => assert_eq!(m, missed, "entries missed"),
            other => panic!("expected Lagged({missed}), got {other:?}"),
        }
        // Then every entry still kept, oldest first, one per item.
        for seq in missed..entries {
            let got = log.next().await.unwrap().unwrap();
            assert_eq!(got.seq, seq);
            assert_eq!(got.msg, format!("entry {seq}"));
        }
        // Nothing more.
        let more = tokio::time::timeout(std::time::Duration::from_millis(10), log.next()).await;
        assert!(more.is_err(), "{more:?}");

        // The maps: all of them, no lag, though the log traffic went by.
        for epoch in 1..=maps {
            assert_eq!(monmaps.next().await.unwrap().unwrap().epoch, epoch);
            assert_eq!(mgrmaps.next().await.unwrap().unwrap().epoch, epoch);
        }

        // The raw channel counts events of every kind, as before.
        let raw_missed = sent_events - RAW_BUFFER as u64;
        assert!(matches!(
            raw.recv().await,
            Err(RecvError::Lagged(n)) if n == raw_missed
        ));
    }

    #[tokio::test]
    async fn a_monmap_stream_is_not_told_of_lag_from_log_traffic() {
        let events = SharedEvents::default();
        let _log = log_stream(&events);
        let mut monmaps = monmap_stream(&events);
        let map = monmap(7);
        send(&events, ClusterEvent::MonMap { epoch: 7 }, &map);
        // Ten times what the log keeps, in entries and in events.
        for b in 0..(10 * LOG_BUFFER as u64) {
            send(&events, log_event(b, 1), &map);
        }
        send(&events, ClusterEvent::MonMap { epoch: 8 }, &monmap(8));
        assert_eq!(monmaps.next().await.unwrap().unwrap().epoch, 7);
        assert_eq!(monmaps.next().await.unwrap().unwrap().epoch, 8);
    }

    #[tokio::test]
    async fn a_monmap_older_than_its_event_is_not_sent() {
        let events = SharedEvents::default();
        let mut monmaps = monmap_stream(&events);
        // The event says 5, the client holds 4 (or none): nothing to give.
        send(&events, ClusterEvent::MonMap { epoch: 5 }, &monmap(4));
        events.send(ClusterEvent::MonMap { epoch: 5 }, || None);
        send(&events, ClusterEvent::MonMap { epoch: 6 }, &monmap(6));
        assert_eq!(monmaps.next().await.unwrap().unwrap().epoch, 6);
    }

    #[tokio::test]
    async fn a_log_batch_that_does_not_decode_is_an_error_item_in_its_place() {
        let events = SharedEvents::default();
        let mut log = log_stream(&events);
        let map = monmap(1);
        let ClusterEvent::Log { mut entries, .. } = log_event(1, 3) else {
            unreachable!()
        };
        // The third entry cut short: two entries, then the error.
        entries.truncate(entries.len() - 5);
        send(&events, ClusterEvent::Log { count: 3, entries }, &map);
        // A count the bytes cannot hold.
        send(
            &events,
            ClusterEvent::Log {
                count: 1_000_000,
                entries: 1_000_000u32.to_le_bytes().to_vec(),
            },
            &map,
        );
        // Bytes left over after the last entry.
        let ClusterEvent::Log { mut entries, .. } = log_event(4, 1) else {
            unreachable!()
        };
        entries.extend_from_slice(&[0xff; 3]);
        send(&events, ClusterEvent::Log { count: 1, entries }, &map);
        send(&events, log_event(5, 1), &map);

        assert_eq!(log.next().await.unwrap().unwrap().seq, 1);
        assert_eq!(log.next().await.unwrap().unwrap().seq, 2);
        assert!(matches!(
            log.next().await,
            Some(Err(MonError::Decode { .. }))
        ));
        assert!(matches!(
            log.next().await,
            Some(Err(MonError::Decode { .. }))
        ));
        assert_eq!(log.next().await.unwrap().unwrap().seq, 4);
        assert!(matches!(
            log.next().await,
            Some(Err(MonError::Decode { .. }))
        ));
        assert_eq!(log.next().await.unwrap().unwrap().seq, 5);
    }

    #[tokio::test]
    async fn closing_ends_every_stream_and_every_later_one_at_once() {
        let events = SharedEvents::default();
        let mut log = log_stream(&events);
        let mut monmaps = monmap_stream(&events);
        let mut mgrmaps = mgrmap_stream(&events);
        let mut configs = config_stream(&events);
        let mut osdmaps = events.osdmaps();
        let mut raw = events.raw();
        let map = monmap(3);
        send(&events, log_event(1, 2), &map);
        send(&events, ClusterEvent::Config(BTreeMap::new()), &map);
        events.close();
        // What was sent before still comes, then the end.
        assert_eq!(log.next().await.unwrap().unwrap().seq, 1);
        assert_eq!(log.next().await.unwrap().unwrap().seq, 2);
        assert!(log.next().await.is_none());
        assert!(configs.next().await.unwrap().unwrap().is_empty());
        assert!(configs.next().await.is_none());
        assert!(monmaps.next().await.is_none());
        assert!(mgrmaps.next().await.is_none());
        assert!(matches!(osdmaps.recv().await, Err(RecvError::Closed)));
        assert!(matches!(raw.recv().await, Ok(ClusterEvent::Log { .. })));
        assert!(matches!(raw.recv().await, Ok(ClusterEvent::Config(_))));
        assert!(matches!(raw.recv().await, Err(RecvError::Closed)));

        // Made after the close: ended already, and sending does nothing.
        let mut log = log_stream(&events);
        let mut monmaps = monmap_stream(&events);
        let mut mgrmaps = mgrmap_stream(&events);
        let mut configs = config_stream(&events);
        send(&events, log_event(3, 1), &map);
        assert!(log.next().await.is_none());
        assert!(monmaps.next().await.is_none());
        assert!(mgrmaps.next().await.is_none());
        assert!(configs.next().await.is_none());
        assert!(matches!(
            events.osdmaps().try_recv(),
            Err(TryRecvError::Closed)
        ));
        assert!(matches!(events.raw().try_recv(), Err(TryRecvError::Closed)));
        assert_eq!(events.open_channels(), 0);
    }

    #[tokio::test]
    async fn no_channel_exists_until_asked_for_nor_after_its_last_reader() {
        let events = SharedEvents::default();
        let map = monmap(1);
        let all = || {
            let mut osd = BTreeMap::new();
            osd.insert(1, ceph_denc::Blob(vec![1, 2, 3]));
            vec![
                ClusterEvent::MonMap { epoch: 1 },
                mgrmap_event(1),
                ClusterEvent::Config(BTreeMap::new()),
                log_event(1, 3),
                ClusterEvent::OsdMap {
                    full: osd,
                    incremental: BTreeMap::new(),
                    oldest: 1,
                    newest: 1,
                },
            ]
        };
        // A session nobody listens to: nothing allocated, whatever comes.
        for event in all() {
            send(&events, event, &map);
        }
        assert_eq!(events.open_channels(), 0);

        // Only the kind asked for.
        let mut log = log_stream(&events);
        assert_eq!(events.open_channels(), 1);
        for event in all() {
            send(&events, event, &map);
        }
        assert_eq!(events.open_channels(), 1);
        assert_eq!(log.next().await.unwrap().unwrap().seq, 1);

        // Each kind its own channel; a second reader shares it.
        let mut osdmaps = events.osdmaps();
        let _monmaps = monmap_stream(&events);
        let _mgrmaps = mgrmap_stream(&events);
        let _configs = config_stream(&events);
        let _raw = events.raw();
        let _log2 = log_stream(&events);
        assert_eq!(events.open_channels(), 6);
        for event in all() {
            send(&events, event, &map);
        }
        let batch = osdmaps.recv().await.unwrap();
        assert_eq!(batch.full[&1].0, [1, 2, 3]);

        // Readers gone: the next event frees every channel.
        drop((log, osdmaps, _monmaps, _mgrmaps, _configs, _raw, _log2));
        for event in all() {
            send(&events, event, &map);
        }
        assert_eq!(events.open_channels(), 0);
    }
}
