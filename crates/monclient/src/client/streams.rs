//! Decoded event streams: cluster-log entries, MonMaps, MgrMaps, central
//! configuration, and an OSD map kept current for the caller.
//!
//! Every stream is a `futures_core::Stream` (use it with `StreamExt`) and
//! has an inherent [`EventStream::next`] for programs without `futures`. A
//! consumer that falls more than the client's event buffer behind gets one
//! `Err(MonError::Lagged { missed })` saying how many events went by
//! unseen, then the stream goes on from the oldest event still buffered.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ceph_denc::Decode;
use ceph_osdmap::{OSDMap, OSDMapIncremental};
use ceph_types::{LogEntry, MgrMap, MonMap};
use futures_core::Stream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use super::handle::MonClient;
use crate::core::ClusterEvent;
use crate::error::MonError;

type Recv<E> = Pin<Box<dyn Future<Output = (Result<E, RecvError>, broadcast::Receiver<E>)> + Send>>;

fn recv<E: Clone + Send + 'static>(mut rx: broadcast::Receiver<E>) -> Recv<E> {
    Box::pin(async move {
        let r = rx.recv().await;
        (r, rx)
    })
}

/// Turns one event into the stream's items (none, one or several).
type Decoder<E, T> = Box<dyn FnMut(E, &mut VecDeque<Result<T, MonError>>) + Send>;

/// A stream of decoded items from the client's events; a reader that fell
/// behind gets [`MonError::Lagged`]. Ends when the client shuts down.
pub struct EventStream<T, E = ClusterEvent> {
    recv: Option<Recv<E>>,
    ready: VecDeque<Result<T, MonError>>,
    decode: Decoder<E, T>,
}

impl<T, E: Clone + Send + 'static> EventStream<T, E> {
    fn new(
        rx: broadcast::Receiver<E>,
        decode: impl FnMut(E, &mut VecDeque<Result<T, MonError>>) + Send + 'static,
    ) -> Self {
        EventStream {
            recv: Some(recv(rx)),
            ready: VecDeque::new(),
            decode: Box::new(decode),
        }
    }

    /// The next item, or `None` once the client has shut down.
    pub async fn next(&mut self) -> Option<Result<T, MonError>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, MonError>>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            let Some(fut) = self.recv.as_mut() else {
                return Poll::Ready(None);
            };
            let (result, rx) = match fut.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r,
            };
            match result {
                Ok(event) => {
                    self.recv = Some(recv(rx));
                    (self.decode)(event, &mut self.ready);
                }
                Err(RecvError::Lagged(missed)) => {
                    self.recv = Some(recv(rx));
                    return Poll::Ready(Some(Err(MonError::Lagged { missed })));
                }
                Err(RecvError::Closed) => self.recv = None,
            }
        }
    }
}

impl<T, E: Clone + Send + 'static> Stream for EventStream<T, E> {
    type Item = Result<T, MonError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Every field is Unpin (the future is boxed).
        self.get_mut().poll_item(cx)
    }
}

impl<T, E> Unpin for EventStream<T, E> {}

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
    /// come, decoded.
    pub fn cluster_log(&self, level: LogLevel) -> Result<EventStream<LogEntry>, MonError> {
        let rx = self.events();
        self.subscribe(level.subscription(), 0, false)?;
        Ok(EventStream::new(rx, |event, out| {
            if let ClusterEvent::Log { entries, .. } = event {
                match ceph_types::log::decode_log_entries(&entries) {
                    Ok(list) => out.extend(list.into_iter().map(Ok)),
                    Err(e) => out.push_back(Err(MonError::Decode {
                        what: "cluster log entries".into(),
                        why: e.to_string(),
                    })),
                }
            }
        }))
    }

    /// Streams every new MonMap (the client always follows the MonMap; this
    /// starts from the next one).
    pub fn monmaps(&self) -> EventStream<Arc<MonMap>> {
        let status = self.status.clone();
        EventStream::new(self.events(), move |event, out| {
            if let ClusterEvent::MonMap { epoch } = event {
                // The client applied it already; take it from there.
                if let Some(m) = status.borrow().monmap.clone() {
                    if m.epoch >= epoch {
                        out.push_back(Ok(m));
                    }
                }
            }
        })
    }

    /// Subscribes to the MgrMap and streams each one, decoded, from the
    /// newest.
    pub fn mgrmaps(&self) -> Result<EventStream<MgrMap>, MonError> {
        let rx = self.events();
        self.subscribe("mgrmap", 0, false)?;
        Ok(EventStream::new(rx, |event, out| {
            if let ClusterEvent::MgrMap { encoded, .. } = event {
                out.push_back(MgrMap::decode_all(&encoded).map_err(|e| MonError::Decode {
                    what: "a MgrMap".into(),
                    why: e.to_string(),
                }));
            }
        }))
    }

    /// Streams the monitors' central configuration for this client (the
    /// whole set of `name = value` pairs, each time it changes). The client
    /// subscribes to it when started from a configuration
    /// ([`MonClientOptions::from_config`](crate::MonClientOptions::from_config));
    /// this subscribes otherwise.
    pub fn config_changes(&self) -> Result<EventStream<BTreeMap<String, String>>, MonError> {
        let rx = self.events();
        if self.config().is_none() {
            self.subscribe("config", 0, false)?;
        }
        Ok(EventStream::new(rx, |event, out| {
            if let ClusterEvent::Config(options) = event {
                out.push_back(Ok(options));
            }
        }))
    }

    /// Subscribes to the OSD map and keeps it current: full maps and
    /// incrementals are applied by a task of its own, and the
    /// [`OsdMapFollower`] shows the map as of now and streams each new
    /// epoch.
    pub fn follow_osdmap(&self) -> Result<OsdMapFollower, MonError> {
        let events = self.events();
        self.subscribe("osdmap", 0, false)?;
        let (current_tx, current) = watch::channel(None);
        let (epochs_tx, epochs_rx) = broadcast::channel(OSDMAP_BUFFER);
        let tracker = OsdMapTracker {
            client: self.clone(),
            map: None,
            current: current_tx,
            epochs: epochs_tx,
        };
        tokio::spawn(tracker.run(events));
        Ok(OsdMapFollower {
            current,
            epochs: EventStream::new(epochs_rx, |map, out| out.push_back(Ok(map))),
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
    epochs: EventStream<Arc<OSDMap>, Arc<OSDMap>>,
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
        self.get_mut().epochs.poll_item(cx)
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
    async fn run(mut self, mut events: broadcast::Receiver<ClusterEvent>) {
        loop {
            let event = tokio::select! {
                e = events.recv() => e,
                // Every follower is gone.
                _ = self.current.closed() => return,
            };
            match event {
                Ok(ClusterEvent::OsdMap {
                    full, incremental, ..
                }) => self.apply(full, incremental),
                Ok(_) => {}
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
        full: BTreeMap<u32, ceph_denc::Blob>,
        incremental: BTreeMap<u32, ceph_denc::Blob>,
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
    use super::*;

    #[tokio::test]
    async fn a_lagging_reader_is_told_how_much_it_missed_then_goes_on() {
        let (tx, rx) = broadcast::channel::<u32>(4);
        let mut stream = EventStream::new(rx, |n, out| {
            // Even numbers only, two items for multiples of ten.
            if n % 2 == 0 {
                out.push_back(Ok(n));
            }
            if n % 10 == 0 {
                out.push_back(Ok(n + 1000));
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
        // The oldest four are still there: 6 and 8 pass the filter.
        assert_eq!(stream.next().await.unwrap().unwrap(), 6);
        assert_eq!(stream.next().await.unwrap().unwrap(), 8);
        let mut seen = Vec::new();
        tx.send(10).unwrap();
        drop(tx);
        while let Some(item) = stream.next().await {
            seen.push(item.unwrap());
        }
        assert_eq!(seen, [10, 1010]);
    }

    #[tokio::test]
    async fn a_stream_ends_when_its_channel_closes() {
        let (tx, rx) = broadcast::channel::<u32>(4);
        let mut stream = EventStream::new(rx, |n, out| out.push_back(Ok(n)));
        tx.send(1).unwrap();
        drop(tx);
        assert_eq!(stream.next().await.unwrap().unwrap(), 1);
        assert!(stream.next().await.is_none());
        assert!(stream.next().await.is_none());
    }
}
