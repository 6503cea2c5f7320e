//! The async monitor client: a cloneable [`MonClient`] handle
//! (`handle.rs`) talks over a channel to one tokio task (`driver.rs`) that
//! owns the I/O-free [`crate::core::Core`] and every connection; how to
//! reach the monitors is [`MonClientOptions`] (`options.rs`).

mod driver;
mod handle;
mod options;
mod status;

pub use handle::MonClient;
pub use options::MonClientOptions;
pub use status::Status;
