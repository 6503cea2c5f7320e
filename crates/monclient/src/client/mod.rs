//! The async monitor client: a cloneable [`MonClient`] handle
//! (`handle.rs`) talks over a channel to one tokio task (`driver.rs`) that
//! owns the I/O-free [`crate::core::Core`] and every connection; how to
//! reach the monitors is [`MonClientOptions`] (`options.rs`). What the
//! subscriptions bring goes out on channels made as they are asked for
//! (`events.rs`), which the decoded streams read (`streams.rs`).

mod builder;
mod commands;
mod driver;
mod events;
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

pub(crate) use events::SharedEvents;
