//! The messenger's error type.

use ceph_denc::DecodeError;

use crate::auth::AuthFailure;
use crate::frame::{FrameError, Tag};

/// Everything that can end a connection (msgr2 or msgr1).
#[derive(Debug, thiserror::Error)]
pub enum MsgrError {
    #[error("i/o error: {0}")]
    /// The socket failed.
    Io(#[from] std::io::Error),
    #[error("timed out while {0}")]
    /// A step took longer than allowed (the step is named).
    Timeout(&'static str),
    #[error("peer is not speaking msgr2: {0}")]
    /// The peer's first bytes are not a msgr2 banner.
    NotMsgr2(FrameError),
    #[error("peer requires msgr2 features {missing:#x} we do not support")]
    /// The peer's msgr2 banner requires features we lack.
    BannerFeatures {
        /// The required features we lack.
        missing: u64,
    },
    #[error("crc mismatch: {0}")]
    /// A frame's crc did not match.
    BadCrc(FrameError),
    #[error("bad frame: {0}")]
    /// A frame could not be read.
    BadFrame(FrameError),
    #[error("bad {tag:?} payload: {source}")]
    /// A control frame's payload could not be decoded.
    BadPayload {
        /// The frame's tag.
        tag: Tag,
        /// What the decoder said.
        source: DecodeError,
    },
    #[error("protocol violation: {0}")]
    /// The peer broke the protocol.
    Protocol(String),
    #[error("authentication failed: {0}")]
    /// Authentication failed.
    Auth(AuthFailure),
    #[error("peer's AUTH_SIGNATURE does not match the bytes we sent")]
    /// The peer's AUTH_SIGNATURE did not match what we sent.
    SignatureMismatch,
    #[error("peer reset the session (full: {full})")]
    /// The peer reset the session.
    PeerReset {
        /// The peer forgot everything (not only the connection).
        full: bool,
    },
    #[error("peer asked us to retry: {0}")]
    /// The peer asked us to retry.
    Retry(String),
    #[error("peer asked us to wait (connection race)")]
    /// The peer asked us to wait (a connection race).
    Wait,
    #[error("peer requires features {0:#x} we lack")]
    /// The peer requires features we lack.
    MissingFeatures(u64),
    #[error("connection closed")]
    /// The connection is closed.
    Closed,
    /// The peer's first bytes were not the banner of the protocol we
    /// spoke (a msgr1 port answering a msgr2 attempt, or the reverse, or
    /// something that is not Ceph at all).
    #[error("peer speaks {0}")]
    PeerBanner(crate::v1::PeerBanner),
    /// The peer refused something retrying cannot change (protocol
    /// version, features).
    #[error("peer is incompatible: {0}")]
    Incompatible(String),
}

impl From<FrameError> for MsgrError {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::BadPreambleCrc { .. } | FrameError::BadSegmentCrc { .. } => {
                MsgrError::BadCrc(e)
            }
            FrameError::BadBanner | FrameError::BadBannerLength(_) => MsgrError::NotMsgr2(e),
            e => MsgrError::BadFrame(e),
        }
    }
}

impl From<AuthFailure> for MsgrError {
    fn from(e: AuthFailure) -> Self {
        MsgrError::Auth(e)
    }
}

impl MsgrError {
    pub(crate) fn payload(tag: Tag) -> impl FnOnce(DecodeError) -> MsgrError {
        move |source| MsgrError::BadPayload { tag, source }
    }

    pub(crate) fn protocol(what: impl Into<String>) -> MsgrError {
        MsgrError::Protocol(what.into())
    }
}
