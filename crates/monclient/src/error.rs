//! What can go wrong talking to the monitors, each kind with the errno the
//! C++ client (and so the `ceph` CLI) reports for it.

use std::time::Duration;

use ceph_msgr::error::MsgrError;

/// Errno values used for exit codes and `MonError::errno` (one table for
/// the whole tree, in `ceph-types`).
pub use ceph_types::errno;

/// An error from the monitor client.
///
/// Ask it what it is with the predicates ([`MonError::is_timeout`],
/// [`MonError::is_retryable`], [`MonError::is_auth`]) and
/// [`MonError::errno`]; the messenger's, the configuration's and I/O errors
/// are kept as its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// The monitors refused our credentials. A monitor gives the same
    /// answer (`-EACCES`, at the same step) for a wrong key, an entity it
    /// does not know and an entity without `mon` caps, so these are one
    /// kind; its log tells them apart.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The monitor does not allow our authentication method (e.g. it
    /// requires `none`, or a method we lack).
    #[error("authentication method not allowed: {0}")]
    AuthMethodNotAllowed(String),
    /// No connection mode we offer is allowed by the monitor (e.g. a client
    /// configured for `crc` only, a monitor requiring `secure`).
    #[error("connection mode not allowed: {0}")]
    ConnectionModeNotAllowed(String),
    /// Our auth ticket had expired when we presented it, and the monitor
    /// refused it; the next attempt authenticates afresh (new global id).
    #[error("auth ticket expired: {0}")]
    TicketExpired(String),
    /// Our clock and the monitors' disagree: keys arrived already expired.
    #[error("clock skew: {0}")]
    ClockSkew(String),
    /// A wrong or missing setting on our side (no keyring, bad mon_host...).
    #[error("{0}")]
    Config(String),
    /// The configuration could not be read (kept as this error's source).
    #[error("configuration: {0}")]
    Configuration(#[source] ceph_config::ConfigError),
    /// No key for our entity: no keyring found, or no entry in it.
    #[error("{0}")]
    KeyNotFound(String),
    /// The monitors ran the command and refused it: `retval` is the
    /// negative errno, `outs` the monitor's message (what `ceph` prints as
    /// `Error EINVAL: ...`). From [`crate::CommandReply::into_result`].
    #[error("{} (error {retval})", if outs.is_empty() { "command failed" } else { outs.as_str() })]
    Command {
        /// The negative errno the monitor answered.
        retval: i32,
        /// The monitor's status message.
        outs: String,
    },
    /// A command could not be built (not a JSON object, or words that
    /// match no command the monitors know).
    #[error("invalid command: {0}")]
    InvalidCommand(String),
    /// A reply or map could not be decoded as asked.
    #[error("cannot decode {what}: {why}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// Why it failed.
        why: String,
    },
    /// An event stream's consumer fell behind: `missed` items of that
    /// stream went by unseen (cluster-log entries for
    /// [`MonClient::cluster_log`](crate::MonClient::cluster_log), maps for
    /// a map stream, epochs for an
    /// [`OsdMapFollower`](crate::OsdMapFollower); what other streams carry
    /// never counts). The stream goes on with the oldest item still
    /// buffered.
    #[error("fell behind: {missed} items missed")]
    Lagged {
        /// How many of the stream's items were missed.
        missed: u64,
    },
    /// The peer broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The connection failed or closed with the messenger's error (kept
    /// as this error's source, typed).
    #[error("connection to the monitor failed: {0}")]
    Messenger(#[source] MsgrError),
    /// A monitor answered in a way retrying cannot change: it speaks
    /// another messenger protocol than its address says (or neither), or
    /// only one the configuration forbids, or refused our protocol version.
    #[error("monitor is incompatible: {0}")]
    Incompatible(String),
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
            MonError::AuthMethodNotAllowed(_) => EOPNOTSUPP,
            MonError::ConnectionModeNotAllowed(_) => EPROTONOSUPPORT,
            MonError::TicketExpired(_) => EKEYEXPIRED,
            MonError::ClockSkew(_) => ETIME,
            MonError::Config(_) | MonError::Configuration(_) => EINVAL,
            MonError::KeyNotFound(_) => ENOENT,
            MonError::Command { retval, .. } => retval.saturating_abs().max(1),
            MonError::InvalidCommand(_) => EINVAL,
            MonError::Lagged { .. } => EAGAIN,
            MonError::Decode { .. } => EINVAL,
            MonError::Protocol(_) | MonError::Messenger(_) => EPROTO,
            MonError::Incompatible(_) => EPROTONOSUPPORT,
            MonError::Io(_) => EIO,
        }
    }

    /// True when nothing answered in time (the connect timeout, a
    /// command's deadline, a map wait).
    pub fn is_timeout(&self) -> bool {
        matches!(self, MonError::TimedOut(..))
            || matches!(self, MonError::Command { retval, .. } if *retval == -ETIMEDOUT_NEG)
    }

    /// True when the same request may succeed if tried again later: the
    /// session or connection failed, nothing answered, a ticket expired,
    /// or the monitors answered `EAGAIN`/`EBUSY`.
    pub fn is_retryable(&self) -> bool {
        use errno::*;
        match self {
            MonError::SessionReset
            | MonError::TimedOut(..)
            | MonError::MonUnavailable(_)
            | MonError::TicketExpired(_)
            | MonError::Messenger(_)
            | MonError::Io(_) => true,
            MonError::Command { retval, .. } => [EAGAIN, EBUSY].contains(&-retval),
            _ => false,
        }
    }

    /// True when authentication failed or was refused, for whatever reason
    /// (credentials, method, connection mode, expired ticket, clock skew),
    /// or the monitors refused a command for lack of caps (`EACCES`).
    pub fn is_auth(&self) -> bool {
        match self {
            MonError::Auth(_)
            | MonError::AuthMethodNotAllowed(_)
            | MonError::ConnectionModeNotAllowed(_)
            | MonError::TicketExpired(_)
            | MonError::ClockSkew(_)
            | MonError::KeyNotFound(_) => true,
            MonError::Command { retval, .. } => -retval == errno::EACCES,
            _ => false,
        }
    }

    /// True for refusals that retrying with the same settings cannot fix
    /// (credentials, method, connection mode, a monitor that speaks another
    /// protocol or none): [`crate::MonClient::connect`] returns these at
    /// once.
    pub fn is_permanent_auth_failure(&self) -> bool {
        matches!(
            self,
            MonError::Auth(_)
                | MonError::AuthMethodNotAllowed(_)
                | MonError::ConnectionModeNotAllowed(_)
                | MonError::Incompatible(_)
        )
    }
}

/// `-ETIMEDOUT`, as a monitor's `retval`.
const ETIMEDOUT_NEG: i32 = -errno::ETIMEDOUT;

/// Maps a messenger failure to the client's error kinds.
pub(crate) fn from_msgr(e: MsgrError, attempt_timeout: Duration) -> MonError {
    match e {
        MsgrError::Io(io) => MonError::Io(io),
        MsgrError::Timeout(what) => MonError::TimedOut(attempt_timeout, what.to_string()),
        MsgrError::Auth(f) => auth_failure(f),
        e => MonError::Messenger(e),
    }
}

/// Maps a typed authentication failure to the client's error kinds.
fn auth_failure(f: ceph_msgr::auth::AuthFailure) -> MonError {
    use ceph_msgr::auth::AuthFailureReason as R;
    match (f.reason, f.errno.map(i32::abs)) {
        (R::BadMethod, _) => MonError::AuthMethodNotAllowed(f.detail),
        (R::UnsupportedMode, _) => MonError::ConnectionModeNotAllowed(f.detail),
        (_, Some(crate::cephx::EKEYEXPIRED)) => MonError::TicketExpired(f.detail),
        (R::Rejected, _) => MonError::Auth(f.detail),
        _ => MonError::Auth(format!("the monitor refused us: {f}")),
    }
}

/// A copy of `e` if it is a refusal that retrying cannot fix.
pub(crate) fn permanent_auth_failure(e: &MonError) -> Option<MonError> {
    Some(match e {
        MonError::Auth(w) => MonError::Auth(w.clone()),
        MonError::AuthMethodNotAllowed(w) => MonError::AuthMethodNotAllowed(w.clone()),
        MonError::ConnectionModeNotAllowed(w) => MonError::ConnectionModeNotAllowed(w.clone()),
        MonError::Incompatible(w) => MonError::Incompatible(w.clone()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_kinds_have_distinct_errnos() {
        let kinds = [
            MonError::Auth(String::new()),
            MonError::AuthMethodNotAllowed(String::new()),
            MonError::ConnectionModeNotAllowed(String::new()),
            MonError::TicketExpired(String::new()),
            MonError::ClockSkew(String::new()),
            MonError::TimedOut(Duration::ZERO, String::new()),
            MonError::Protocol(String::new()),
        ];
        let mut errnos: Vec<i32> = kinds.iter().map(MonError::errno).collect();
        assert_eq!(errnos[0], 13, "refused credentials are EACCES, as in ceph");
        errnos.sort_unstable();
        errnos.dedup();
        assert_eq!(errnos.len(), kinds.len());
        assert!(kinds[..3].iter().all(MonError::is_permanent_auth_failure));
        assert!(!kinds[3..].iter().any(MonError::is_permanent_auth_failure));
    }
}
