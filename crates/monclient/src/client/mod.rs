//! The async monitor client: a cloneable [`MonClient`] handle
//! (`handle.rs`) talks over a channel to one tokio task (`driver.rs`) that
//! owns the I/O-free [`crate::core::Core`] and every connection; how to
//! reach the monitors is [`MonClientOptions`] (`options.rs`).

mod builder;
mod commands;
mod driver;
mod handle;
mod options;
mod status;
mod streams;

pub use builder::{key_from_config, MonClientBuilder};
pub use commands::{IntoCommand, Json};
pub use handle::MonClient;
pub use options::MonClientOptions;
pub use status::Status;
pub use streams::{EventStream, LogLevel, OsdMapFollower};

/// The channel of [`ClusterEvent`](crate::ClusterEvent)s, shared by the
/// handles and the driver. It is made at the first `events()` call (a
/// broadcast channel allocates its whole buffer at once, a large part of an
/// idle session's memory otherwise) and closed when the client shuts down,
/// which ends every receiver.
#[derive(Clone, Default)]
pub(crate) struct SharedEvents(std::sync::Arc<std::sync::Mutex<EventsSlot>>);

#[derive(Default)]
enum EventsSlot {
    #[default]
    Unused,
    Open(tokio::sync::broadcast::Sender<crate::ClusterEvent>),
    Closed,
}

impl SharedEvents {
    fn slot(&self) -> std::sync::MutexGuard<'_, EventsSlot> {
        // A panic while holding the lock leaves a valid slot: go on.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new receiver of everything sent from now on.
    pub(crate) fn subscribe(
        &self,
        capacity: usize,
    ) -> tokio::sync::broadcast::Receiver<crate::ClusterEvent> {
        let mut slot = self.slot();
        match &*slot {
            EventsSlot::Open(tx) => tx.subscribe(),
            EventsSlot::Unused => {
                let (tx, rx) = tokio::sync::broadcast::channel(capacity);
                *slot = EventsSlot::Open(tx);
                rx
            }
            // Its sender is dropped at once: the receiver sees the end.
            EventsSlot::Closed => tokio::sync::broadcast::channel(1).1,
        }
    }

    /// Sends to the receivers, if any were ever made.
    pub(crate) fn send(&self, event: crate::ClusterEvent) {
        if let EventsSlot::Open(tx) = &*self.slot() {
            let _ = tx.send(event);
        }
    }

    /// Ends every receiver.
    pub(crate) fn close(&self) {
        *self.slot() = EventsSlot::Closed;
    }
}
