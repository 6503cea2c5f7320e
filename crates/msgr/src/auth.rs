//! The authentication hook: the messenger runs the AUTH_* frame exchange,
//! an [`AuthClient`] (CephX in practice) produces and checks the payloads.

use std::fmt;

/// `CEPH_AUTH_NONE`.
pub const AUTH_METHOD_NONE: u32 = 1;
/// `CEPH_AUTH_CEPHX`.
pub const AUTH_METHOD_CEPHX: u32 = 2;

/// Why authentication failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailureReason {
    /// The server refused our method (AUTH_BAD_METHOD) and we gave up.
    BadMethod,
    /// The server's reply could not be decoded or verified.
    BadReply,
    /// Our keys were rejected or are missing.
    Rejected,
    /// The server chose a connection mode we did not offer.
    UnsupportedMode,
    /// Anything else the auth client reports.
    Other,
}

/// An authentication failure: a typed reason, the peer's errno where the
/// protocol gave one, and a human-readable detail (never secret material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    /// Why it failed.
    pub reason: AuthFailureReason,
    /// The peer's errno, when the protocol carried one.
    pub errno: Option<i32>,
    /// What happened, for people (never secret material).
    pub detail: String,
}

impl AuthFailure {
    /// A failure of `reason`, described by `detail`.
    pub fn new(reason: AuthFailureReason, detail: impl Into<String>) -> Self {
        AuthFailure {
            reason,
            errno: None,
            detail: detail.into(),
        }
    }

    /// The same failure carrying the peer's errno.
    pub fn with_errno(mut self, errno: i32) -> Self {
        self.errno = Some(errno);
        self
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.reason, self.detail)?;
        if let Some(e) = self.errno {
            write!(f, " (errno {e})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AuthFailure {}

/// What a finished authentication yields. `Debug` redacts both secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuthKeys {
    /// Keys AUTH_SIGNATURE (HMAC-SHA256); empty = no signature checks.
    pub session_key: Vec<u8>,
    /// Secure mode: AES key and the two nonces (at least 40 bytes).
    pub connection_secret: Vec<u8>,
}

impl fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKeys")
            .field(
                "session_key",
                &format_args!("<{} bytes redacted>", self.session_key.len()),
            )
            .field(
                "connection_secret",
                &format_args!("<{} bytes redacted>", self.connection_secret.len()),
            )
            .finish()
    }
}

/// The client side of an authentication method, driven by the handshake.
///
/// The handshake sends `AUTH_REQUEST { method(), preferred_modes(),
/// initial_payload() }`, answers every AUTH_REPLY_MORE with an
/// AUTH_REQUEST_MORE carrying `handle_reply_more(..)`, and on AUTH_DONE
/// takes the keys from `handle_done(..)`.
pub trait AuthClient: Send {
    /// The method to request (2 = CephX).
    fn method(&self) -> u32;
    /// Acceptable connection modes, best first (1 = crc, 2 = secure).
    fn preferred_modes(&self) -> Vec<u32>;
    /// The AUTH_REQUEST payload.
    fn initial_payload(&mut self) -> Result<Vec<u8>, AuthFailure>;
    /// Answers a server challenge / intermediate reply.
    fn handle_reply_more(&mut self, payload: &[u8]) -> Result<Vec<u8>, AuthFailure>;
    /// Finishes: checks the server's final payload and yields the keys.
    fn handle_done(
        &mut self,
        global_id: u64,
        con_mode: u32,
        payload: &[u8],
    ) -> Result<AuthKeys, AuthFailure>;
    /// AUTH_BAD_METHOD: the server's verdict and what it allows. Return
    /// `Ok(())` after switching method/modes to retry with a fresh
    /// AUTH_REQUEST, or `Err` to give up (the default).
    fn handle_bad_method(
        &mut self,
        method: u32,
        result: i32,
        allowed_methods: &[u32],
        allowed_modes: &[u32],
    ) -> Result<(), AuthFailure> {
        Err(AuthFailure::new(
            AuthFailureReason::BadMethod,
            format!("server refused method {method}; allows methods {allowed_methods:?}, modes {allowed_modes:?}"),
        )
        .with_errno(result))
    }
}
