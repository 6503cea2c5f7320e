//! What can go wrong talking to the monitors, each kind with the errno the
//! C++ client (and so the `ceph` CLI) reports for it.

use std::time::Duration;

use ceph_msgr::error::MsgrError;

/// Errno values used for exit codes and `MonError::errno` (one table for
/// the whole tree, in `ceph-types`).
pub use ceph_types::errno;

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
            MonError::Config(_) => EINVAL,
            MonError::Protocol(_) | MonError::Messenger(_) => EPROTO,
            MonError::Incompatible(_) => EPROTONOSUPPORT,
            MonError::Io(_) => EIO,
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
