//! What can go wrong talking to the monitors, each kind with the errno the
//! C++ client (and so the `ceph` CLI) reports for it.

use std::time::Duration;

/// Errno values used for exit codes and `MonError::errno`.
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const EIO: i32 = 5;
    pub const ENXIO: i32 = 6;
    pub const EAGAIN: i32 = 11;
    pub const EACCES: i32 = 13;
    pub const EINVAL: i32 = 22;
    pub const EPROTO: i32 = 71;
    pub const ECONNREFUSED: i32 = 111;
    pub const ETIMEDOUT: i32 = 110;
    pub const ECANCELED: i32 = 125;
    pub const EKEYREJECTED: i32 = 129;
}

/// An error from the monitor client.
#[derive(Debug, thiserror::Error)]
pub enum MonError {
    /// The client was shut down while the request was pending.
    #[error("monitor client is shutting down")]
    ShuttingDown,
    /// The session was reset and the request may not be retried.
    #[error("monitor session was reset")]
    SessionReset,
    /// No monitor of that rank in the MonMap.
    #[error("no monitor with rank {0}")]
    RankDne(i32),
    /// No monitor of that name in the MonMap.
    #[error("no monitor named {0:?}")]
    MonDne(String),
    /// Nothing answered in time.
    #[error("timed out after {0:?} {1}")]
    TimedOut(Duration, String),
    /// No monitor could be reached (every address failed).
    #[error("no monitor could be reached: {0}")]
    MonUnavailable(String),
    /// The monitors refused our credentials.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// A wrong or missing setting on our side (no keyring, bad mon_host...).
    #[error("{0}")]
    Config(String),
    /// The peer broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A socket-level failure.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl MonError {
    /// The positive errno for this error, as `ceph` uses for its exit code.
    pub fn errno(&self) -> i32 {
        use errno::*;
        match self {
            MonError::ShuttingDown => ECANCELED,
            MonError::SessionReset => EAGAIN,
            MonError::RankDne(_) | MonError::MonDne(_) => ENOENT,
            MonError::TimedOut(..) => ETIMEDOUT,
            MonError::MonUnavailable(_) => ENXIO,
            MonError::Auth(_) => EACCES,
            MonError::Config(_) => EINVAL,
            MonError::Protocol(_) => EPROTO,
            MonError::Io(_) => EIO,
        }
    }
}
