//! The error type of every fallible operation in this crate.

use ceph_denc::DecodeError;

/// Why an authentication step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The key is unusable (too short, empty) or a ciphertext did not
    /// decrypt with it: wrong key, corrupted data or a bad envelope magic.
    #[error("bad key or decryption failure: {0}")]
    BadKey(String),
    /// The monitor refused us (a negative status such as -EACCES, -EPERM).
    #[error("permission denied by the monitor (status {0})")]
    PermissionDenied(i32),
    /// A key whose cipher type this crate cannot use.
    #[error("unsupported cipher type {0} ({1})")]
    UnsupportedCipher(u16, &'static str),
    /// Bytes that do not decode as the expected structure.
    #[error("malformed payload: {0}")]
    Malformed(#[from] DecodeError),
    /// A service id we hold no ticket for, or that is not a Ceph service.
    #[error("unknown service or no ticket for service {0:#x}")]
    UnknownService(u32),
    /// A keyring that does not parse, or has no key for the entity.
    #[error("keyring: {0}")]
    Keyring(String),
    /// A call made in the wrong state (e.g. `handle_done` before
    /// `handle_reply_more`).
    #[error("protocol state: {0}")]
    State(&'static str),
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, AuthError>;
