//! The messenger's error type.

use ceph_denc::DecodeError;

use crate::auth::AuthFailure;
use crate::frame::{FrameError, Tag};

/// Everything that can end a connection (msgr2 or msgr1).
#[derive(Debug, thiserror::Error)]
pub enum MsgrError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("timed out while {0}")]
    Timeout(&'static str),
    #[error("peer is not speaking msgr2: {0}")]
    NotMsgr2(FrameError),
    #[error("peer requires msgr2 features {missing:#x} we do not support")]
    BannerFeatures { missing: u64 },
    #[error("crc mismatch: {0}")]
    BadCrc(FrameError),
    #[error("bad frame: {0}")]
    BadFrame(FrameError),
    #[error("bad {tag:?} payload: {source}")]
    BadPayload { tag: Tag, source: DecodeError },
    #[error("protocol violation: {0}")]
    Protocol(String),
    #[error("authentication failed: {0}")]
    Auth(AuthFailure),
    #[error("peer's AUTH_SIGNATURE does not match the bytes we sent")]
    SignatureMismatch,
    #[error("peer reset the session (full: {full})")]
    PeerReset { full: bool },
    #[error("peer asked us to retry: {0}")]
    Retry(String),
    #[error("peer asked us to wait (connection race)")]
    Wait,
    #[error("peer requires features {0:#x} we lack")]
    MissingFeatures(u64),
    #[error("connection closed")]
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
