//! The daemon client's errors, typed by who is at fault, each with the
//! errno `ceph` would exit with.

use std::time::Duration;

use ceph_monclient::MonError;
use ceph_msgr::error::MsgrError;
use ceph_types::errno;

/// Why a daemon command did not get an answer. A daemon's own refusal
/// (a negative `retval`) is not an error: it comes back in the reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// The maps have no such daemon (`osd.9` beyond the OSDs that exist, an
    /// MDS or manager name nobody runs, a PG of a pool that does not exist).
    #[error("{0} does not exist")]
    NoSuchDaemon(String),
    /// The daemon is marked down in the maps (`ceph` fails at once, ENXIO).
    #[error("{0} is down")]
    Down(String),
    /// The words do not name a daemon, a PG or a socket.
    #[error("{1}")]
    InvalidTarget(String, String),
    /// No answer within the time allowed; says what was awaited (a daemon
    /// marked down, a manager not yet active, an unanswered command).
    #[error("timed out after {0:?} waiting for {1}")]
    TimedOut(Duration, String),
    /// The monitor client failed (maps, tickets or the PG lookup).
    #[error("monitor client: {0}")]
    Mon(#[from] MonError),
    /// A connection to the daemon failed while connecting or
    /// authenticating; the source is the messenger's error.
    #[error("connecting to {0}: {1}")]
    Connect(String, #[source] MsgrError),
    /// The daemon broke the protocol (an unreadable reply).
    #[error("protocol error from {0}: {1}")]
    Protocol(String, String),
    /// The local admin socket could not be used.
    #[error("admin socket {0}: {1}")]
    AdminSocket(String, #[source] std::io::Error),
    /// The client was shut down.
    #[error("daemon client is shutting down")]
    ShuttingDown,
}

impl DaemonError {
    /// The positive errno `ceph` exits with for this failure.
    pub fn errno(&self) -> i32 {
        match self {
            DaemonError::NoSuchDaemon(_) => errno::ENOENT,
            DaemonError::InvalidTarget(..) => errno::EINVAL,
            DaemonError::Down(_) => errno::ENXIO,
            DaemonError::TimedOut(..) => errno::ETIMEDOUT,
            DaemonError::Mon(e) => e.errno(),
            DaemonError::Connect(..) => errno::ECONNREFUSED,
            DaemonError::Protocol(..) => errno::EIO,
            DaemonError::AdminSocket(_, e) => e.raw_os_error().unwrap_or(errno::EIO),
            DaemonError::ShuttingDown => errno::ECANCELED,
        }
    }
}
