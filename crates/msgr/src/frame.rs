//! msgr2 frames, revision 1: the banner, the 32-byte preamble, up to four
//! segments, CRC or AES-128-GCM protection, and a streaming decoder.
//!
//! On the wire (crc mode) a frame is the preamble, segment 0 followed by
//! its CRC (only if non-empty), then, only when there is more than one
//! segment, segments 1..n and a 13-byte epilogue (late status + three CRCs).
//! In secure mode the preamble and the first 48 bytes of segment 0 travel
//! as one GCM message, the rest of segment 0 as a second one, and the
//! remaining segments plus a 16-byte epilogue as a third.

use bytes::{Buf, Bytes, BytesMut};
use ceph_denc::ceph_crc32c;

use crate::secure::{SecureError, SecureRx, SecureTx, GCM_TAG_LEN};

/// The fixed start of every msgr2 banner.
pub const BANNER_MAGIC: &[u8; 8] = b"ceph v2\n";
/// Banner length on the wire: magic, `u16` payload length, two `u64`s.
pub const BANNER_LEN: usize = 8 + 2 + 16;
/// Length of the preamble block.
pub const PREAMBLE_LEN: usize = 32;
/// Most segments a frame can carry.
pub const MAX_SEGMENTS: usize = 4;
/// Size of segment 0's CRC trailer (crc mode).
const CRC_LEN: usize = 4;
/// Crc-mode epilogue: late status and the CRCs of segments 1..=3.
const CRC_EPILOGUE_LEN: usize = 1 + 4 * (MAX_SEGMENTS - 1);
/// Secure-mode epilogue: late status padded to a cipher block.
const SECURE_EPILOGUE_LEN: usize = 16;
/// Bytes of segment 0 carried together with the preamble in secure mode.
const SECURE_INLINE_LEN: usize = 48;
/// Default limit on any one segment's length.
pub const DEFAULT_MAX_SEGMENT_LEN: u32 = 64 << 20;

/// Late-status values in the epilogue (low nibble).
const LATE_STATUS_MASK: u8 = 0x0f;
const LATE_STATUS_ABORTED: u8 = 0x01;
const LATE_STATUS_COMPLETE: u8 = 0x0e;
/// Preamble flag: segments are compressed.
const FLAG_COMPRESSED: u8 = 0x01;

/// msgr2 feature bits advertised in the banner.
pub mod features {
    /// Frame format revision 1 (inline CRC / inline secure data).
    pub const REVISION_1: u64 = 1 << 0;
    /// On-wire compression.
    pub const COMPRESSION: u64 = 1 << 1;
}

/// Segment alignment hints as Ceph sends them.
pub mod align {
    /// Control payloads and the message header, front and middle.
    pub const DEFAULT: u16 = 8;
    /// Message data.
    pub const PAGE: u16 = 4096;
}

/// What can go wrong below the payload level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("peer did not send a msgr2 banner")]
    /// The first bytes are not a msgr2 banner.
    BadBanner,
    #[error("banner payload length {0} is too short")]
    /// The banner's payload length is too short.
    BadBannerLength(u16),
    #[error("preamble crc mismatch: computed {computed:#010x}, frame says {expected:#010x}")]
    /// The preamble's crc did not match.
    BadPreambleCrc {
        /// What the bytes give.
        computed: u32,
        /// What the preamble says.
        expected: u32,
    },
    #[error(
        "segment {index} crc mismatch: computed {computed:#010x}, frame says {expected:#010x}"
    )]
    /// A segment's crc did not match.
    BadSegmentCrc {
        /// Which segment.
        index: usize,
        /// What the bytes give.
        computed: u32,
        /// What the epilogue says.
        expected: u32,
    },
    #[error("unknown frame tag {0}")]
    /// A frame tag we do not know.
    UnknownTag(u8),
    #[error("bad segment count {0}")]
    /// A preamble with no segments or more than four.
    BadSegmentCount(u8),
    #[error("last segment of a multi-segment frame is empty")]
    /// The last segment the preamble declares is empty.
    EmptyLastSegment,
    #[error("segment {index} is {len} bytes, over the {max} byte limit")]
    /// A segment longer than allowed.
    SegmentTooLong {
        /// Which segment.
        index: usize,
        /// Its declared length.
        len: u32,
        /// The limit.
        max: u32,
    },
    #[error("bad late status {0:#04x}")]
    /// The epilogue's late status is not valid.
    BadLateStatus(u8),
    #[error("frame is compressed but compression was not negotiated")]
    /// A compressed frame on a session that negotiated none.
    UnexpectedCompression,
    #[error("secure frame failed authentication")]
    /// A secure-mode frame failed to decrypt (tag mismatch).
    Decrypt,
    #[error("secure mode ran out of nonces")]
    /// The secure-mode nonce counter ran out.
    NoncesExhausted,
    #[error("frame needs {0} segments, at most 4 are allowed")]
    /// More segments than a frame can carry.
    TooManySegments(usize),
}

impl From<SecureError> for FrameError {
    fn from(e: SecureError) -> Self {
        match e {
            SecureError::Decrypt => FrameError::Decrypt,
            SecureError::NoncesExhausted => FrameError::NoncesExhausted,
        }
    }
}

/// [`Tag`] and its `TryFrom<u8>`, from one list of names and wire values.
macro_rules! tags {
    ($($name:ident = $v:literal),* $(,)?) => {
        /// Frame tags, in wire order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Tag {
            $(#[doc = concat!("The `", stringify!($name), "` frame (tag ", stringify!($v), ").")] $name = $v),*
        }

        impl TryFrom<u8> for Tag {
            type Error = FrameError;
            fn try_from(v: u8) -> Result<Self, FrameError> {
                match v {
                    $($v => Ok(Tag::$name),)*
                    _ => Err(FrameError::UnknownTag(v)),
                }
            }
        }
    };
}

tags! {
    Hello = 1,
    AuthRequest = 2,
    AuthBadMethod = 3,
    AuthReplyMore = 4,
    AuthRequestMore = 5,
    AuthDone = 6,
    AuthSignature = 7,
    ClientIdent = 8,
    ServerIdent = 9,
    IdentMissingFeatures = 10,
    SessionReconnect = 11,
    SessionReset = 12,
    SessionRetry = 13,
    SessionRetryGlobal = 14,
    SessionReconnectOk = 15,
    Wait = 16,
    Message = 17,
    Keepalive2 = 18,
    Keepalive2Ack = 19,
    Ack = 20,
    CompressionRequest = 21,
    CompressionDone = 22,
}

/// The banner each side sends first: msgr2 features it supports and
/// requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Banner {
    /// msgr2 features the sender supports.
    pub supported: u64,
    /// msgr2 features the sender requires.
    pub required: u64,
}

impl Banner {
    /// The banner bytes.
    pub fn encode(&self) -> [u8; BANNER_LEN] {
        let mut out = [0u8; BANNER_LEN];
        out[..8].copy_from_slice(BANNER_MAGIC);
        out[8..10].copy_from_slice(&16u16.to_le_bytes());
        out[10..18].copy_from_slice(&self.supported.to_le_bytes());
        out[18..26].copy_from_slice(&self.required.to_le_bytes());
        out
    }

    /// Takes a banner off the front of `buf`; `None` if more bytes are
    /// needed. A wrong magic fails as soon as the first differing byte is
    /// seen. A longer payload than ours (future fields) is skipped, but only
    /// up to a small bound.
    pub fn parse(buf: &mut BytesMut) -> Result<Option<Banner>, FrameError> {
        let n = buf.len().min(BANNER_MAGIC.len());
        if buf[..n] != BANNER_MAGIC[..n] {
            return Err(FrameError::BadBanner);
        }
        if buf.len() < 10 {
            return Ok(None);
        }
        let payload_len = u16::from_le_bytes([buf[8], buf[9]]);
        if payload_len < 16 {
            return Err(FrameError::BadBannerLength(payload_len));
        }
        let total = 10 + payload_len as usize;
        if buf.len() < total {
            return Ok(None);
        }
        let le = |at: usize| u64::from_le_bytes(buf[at..at + 8].try_into().expect("8 bytes"));
        let banner = Banner {
            supported: le(10),
            required: le(18),
        };
        buf.advance(total);
        Ok(Some(banner))
    }
}

/// One segment's entry in the preamble.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentDesc {
    /// The segment's length.
    pub len: u32,
    /// The segment's alignment.
    pub align: u16,
}

/// The decoded 32-byte preamble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preamble {
    /// The frame's tag.
    pub tag: Tag,
    /// Its segments as the preamble declares them.
    pub segments: Vec<SegmentDesc>,
    /// Preamble flags.
    pub flags: u8,
}

impl Preamble {
    /// The preamble bytes, CRC included.
    pub fn encode(&self) -> [u8; PREAMBLE_LEN] {
        let mut out = [0u8; PREAMBLE_LEN];
        out[0] = self.tag as u8;
        out[1] = self.segments.len() as u8;
        for (i, s) in self.segments.iter().enumerate() {
            let at = 2 + 6 * i;
            out[at..at + 4].copy_from_slice(&s.len.to_le_bytes());
            out[at + 4..at + 6].copy_from_slice(&s.align.to_le_bytes());
        }
        out[26] = self.flags;
        let crc = ceph_crc32c(0, &out[..28]);
        out[28..].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Checks the CRC, the segment count and the lengths against
    /// `max_segment_len` before anything is allocated for the segments.
    pub fn decode(raw: &[u8; PREAMBLE_LEN], max_segment_len: u32) -> Result<Preamble, FrameError> {
        let computed = ceph_crc32c(0, &raw[..28]);
        let expected = u32::from_le_bytes(raw[28..32].try_into().expect("4 bytes"));
        if computed != expected {
            return Err(FrameError::BadPreambleCrc { computed, expected });
        }
        let tag = Tag::try_from(raw[0])?;
        let count = raw[1];
        if count == 0 || count as usize > MAX_SEGMENTS {
            return Err(FrameError::BadSegmentCount(count));
        }
        let mut segments = Vec::with_capacity(count as usize);
        for index in 0..count as usize {
            let at = 2 + 6 * index;
            let len = u32::from_le_bytes(raw[at..at + 4].try_into().expect("4 bytes"));
            let align = u16::from_le_bytes([raw[at + 4], raw[at + 5]]);
            if len > max_segment_len {
                return Err(FrameError::SegmentTooLong {
                    index,
                    len,
                    max: max_segment_len,
                });
            }
            segments.push(SegmentDesc { len, align });
        }
        if count > 1 && segments[count as usize - 1].len == 0 {
            return Err(FrameError::EmptyLastSegment);
        }
        Ok(Preamble {
            tag,
            segments,
            flags: raw[26],
        })
    }

    fn seg_len(&self, i: usize) -> usize {
        self.segments[i].len as usize
    }
}

/// A decoded frame: its tag and its segments (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame's tag.
    pub tag: Tag,
    /// The segments' bytes.
    pub segments: Vec<Bytes>,
}

impl Frame {
    /// Segment 0: the whole payload of a control frame.
    pub fn payload(&self) -> &Bytes {
        &self.segments[0]
    }

    /// Segment `i`, empty if the frame has fewer segments.
    pub fn segment(&self, i: usize) -> Bytes {
        self.segments.get(i).cloned().unwrap_or_default()
    }
}

/// The connection mode a frame codec runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConMode {
    /// Integrity by CRC-32C only.
    Crc,
    /// AES-128-GCM.
    Secure,
}

impl ConMode {
    /// The wire value (`CEPH_CON_MODE_*`).
    pub fn wire(self) -> u32 {
        match self {
            ConMode::Crc => 1,
            ConMode::Secure => 2,
        }
    }

    /// Parses a wire value.
    pub fn from_wire(v: u32) -> Option<ConMode> {
        match v {
            1 => Some(ConMode::Crc),
            2 => Some(ConMode::Secure),
            _ => None,
        }
    }
}

fn pad16(n: usize) -> usize {
    n.div_ceil(16) * 16
}

/// Where the decoder is inside a secure frame whose first block it has
/// already decrypted (the nonce counter has moved, so it cannot re-read).
#[derive(Debug)]
struct PendingSecure {
    preamble: Preamble,
    /// Segment 0 so far (the inline part, then the rest).
    seg0: Vec<u8>,
    seg0_done: bool,
}

/// Frame encoder/decoder for one connection. Starts in crc mode;
/// [`FrameCodec::enable_secure`] switches both directions to AES-GCM.
pub struct FrameCodec {
    max_segment_len: u32,
    rx: Option<SecureRx>,
    tx: Option<SecureTx>,
    pending: Option<PendingSecure>,
}

impl std::fmt::Debug for FrameCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameCodec")
            .field("max_segment_len", &self.max_segment_len)
            .field("mode", &self.mode())
            .finish()
    }
}

impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec::new(DEFAULT_MAX_SEGMENT_LEN)
    }
}

impl FrameCodec {
    /// A crc-mode codec refusing segments longer than `max_segment_len`.
    pub fn new(max_segment_len: u32) -> Self {
        FrameCodec {
            max_segment_len,
            rx: None,
            tx: None,
            pending: None,
        }
    }

    /// The current mode.
    pub fn mode(&self) -> ConMode {
        if self.tx.is_some() {
            ConMode::Secure
        } else {
            ConMode::Crc
        }
    }

    /// Switches to secure mode with ciphers derived from the connection
    /// secret (`is_server` picks which nonce is ours).
    pub fn enable_secure(
        &mut self,
        connection_secret: &[u8],
        is_server: bool,
    ) -> Result<(), FrameError> {
        let (rx, tx) = crate::secure::handlers_from_secret(connection_secret, is_server)
            .ok_or(FrameError::Decrypt)?;
        self.rx = Some(rx);
        self.tx = Some(tx);
        Ok(())
    }

    /// Encodes a frame. Trailing empty segments are dropped, as Ceph does.
    pub fn encode(&mut self, tag: Tag, segments: &[(&[u8], u16)]) -> Result<Vec<u8>, FrameError> {
        if segments.len() > MAX_SEGMENTS {
            return Err(FrameError::TooManySegments(segments.len()));
        }
        let used = segments
            .iter()
            .rposition(|(s, _)| !s.is_empty())
            .map_or(1, |i| i + 1);
        let empty: (&[u8], u16) = (&[], align::DEFAULT);
        let segs: Vec<(&[u8], u16)> = if segments.is_empty() {
            vec![empty]
        } else {
            segments[..used].to_vec()
        };
        let preamble = Preamble {
            tag,
            segments: segs
                .iter()
                .map(|(s, a)| SegmentDesc {
                    len: s.len() as u32,
                    align: *a,
                })
                .collect(),
            flags: 0,
        };
        let head = preamble.encode();
        match self.tx.as_mut() {
            None => {
                let mut out = Vec::with_capacity(
                    PREAMBLE_LEN + segs.iter().map(|s| s.0.len()).sum::<usize>() + 17,
                );
                out.extend_from_slice(&head);
                if !segs[0].0.is_empty() {
                    out.extend_from_slice(segs[0].0);
                    out.extend_from_slice(&ceph_crc32c(u32::MAX, segs[0].0).to_le_bytes());
                }
                if segs.len() > 1 {
                    let mut epilogue = [0u8; CRC_EPILOGUE_LEN];
                    epilogue[0] = LATE_STATUS_COMPLETE;
                    for (i, (s, _)) in segs.iter().enumerate().skip(1) {
                        out.extend_from_slice(s);
                        let at = 1 + 4 * (i - 1);
                        epilogue[at..at + 4]
                            .copy_from_slice(&ceph_crc32c(u32::MAX, s).to_le_bytes());
                    }
                    out.extend_from_slice(&epilogue);
                }
                Ok(out)
            }
            Some(tx) => {
                let seg0 = segs[0].0;
                let inline = seg0.len().min(SECURE_INLINE_LEN);
                let mut first = Vec::with_capacity(PREAMBLE_LEN + SECURE_INLINE_LEN + GCM_TAG_LEN);
                first.extend_from_slice(&head);
                first.extend_from_slice(&seg0[..inline]);
                first.resize(PREAMBLE_LEN + SECURE_INLINE_LEN, 0);
                let mut out = tx.seal(first)?;
                if seg0.len() > SECURE_INLINE_LEN {
                    let mut rest = seg0[SECURE_INLINE_LEN..].to_vec();
                    rest.resize(pad16(seg0.len()) - SECURE_INLINE_LEN, 0);
                    out.extend_from_slice(&tx.seal(rest)?);
                }
                if segs.len() > 1 {
                    let mut tail = Vec::new();
                    for (s, _) in &segs[1..] {
                        tail.extend_from_slice(s);
                        tail.resize(pad16(tail.len()), 0);
                    }
                    let mut epilogue = [0u8; SECURE_EPILOGUE_LEN];
                    epilogue[0] = LATE_STATUS_COMPLETE;
                    tail.extend_from_slice(&epilogue);
                    out.extend_from_slice(&tx.seal(tail)?);
                }
                Ok(out)
            }
        }
    }

    /// Takes one complete frame off the front of `buf`. `Ok(None)` means
    /// more bytes are needed (nothing is consumed in crc mode; in secure
    /// mode a decrypted first block is kept internally). Frames the sender
    /// aborted are skipped.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        loop {
            let step = if self.rx.is_some() {
                self.decode_secure(buf)?
            } else {
                self.decode_crc(buf)?
            };
            match step {
                None => return Ok(None),
                Some(Some(frame)) => return Ok(Some(frame)),
                Some(None) => continue, // aborted frame, dropped
            }
        }
    }

    /// `Some(None)` = an aborted frame was consumed.
    fn decode_crc(&mut self, buf: &mut BytesMut) -> Result<Option<Option<Frame>>, FrameError> {
        if buf.len() < PREAMBLE_LEN {
            return Ok(None);
        }
        let raw: [u8; PREAMBLE_LEN] = buf[..PREAMBLE_LEN].try_into().expect("32 bytes");
        let pre = Preamble::decode(&raw, self.max_segment_len)?;
        if pre.flags & FLAG_COMPRESSED != 0 {
            return Err(FrameError::UnexpectedCompression);
        }
        let seg0 = pre.seg_len(0);
        let mut total = PREAMBLE_LEN + if seg0 > 0 { seg0 + CRC_LEN } else { 0 };
        if pre.segments.len() > 1 {
            total += (1..pre.segments.len())
                .map(|i| pre.seg_len(i))
                .sum::<usize>()
                + CRC_EPILOGUE_LEN;
        }
        if buf.len() < total {
            buf.reserve(total - buf.len());
            return Ok(None);
        }
        let mut frame = buf.split_to(total).freeze();
        frame.advance(PREAMBLE_LEN);
        let mut segments = Vec::with_capacity(pre.segments.len());
        let first = frame.split_to(seg0);
        if seg0 > 0 {
            let expected = frame.get_u32_le();
            check_crc(0, &first, expected)?;
        }
        segments.push(first);
        if pre.segments.len() > 1 {
            for i in 1..pre.segments.len() {
                segments.push(frame.split_to(pre.seg_len(i)));
            }
            let late = frame.get_u8();
            for (i, seg) in segments.iter().enumerate().skip(1) {
                check_crc(i, seg, frame.get_u32_le())?;
            }
            if !late_status_complete(late)? {
                return Ok(Some(None));
            }
        }
        Ok(Some(Some(Frame {
            tag: pre.tag,
            segments,
        })))
    }

    fn decode_secure(&mut self, buf: &mut BytesMut) -> Result<Option<Option<Frame>>, FrameError> {
        let rx = self.rx.as_mut().expect("secure mode");
        if self.pending.is_none() {
            let first_len = PREAMBLE_LEN + SECURE_INLINE_LEN + GCM_TAG_LEN;
            if buf.len() < first_len {
                return Ok(None);
            }
            let plain = rx.open(&buf[..first_len])?;
            buf.advance(first_len);
            let raw: [u8; PREAMBLE_LEN] = plain[..PREAMBLE_LEN].try_into().expect("32 bytes");
            let preamble = Preamble::decode(&raw, self.max_segment_len)?;
            if preamble.flags & FLAG_COMPRESSED != 0 {
                return Err(FrameError::UnexpectedCompression);
            }
            let inline = preamble.seg_len(0).min(SECURE_INLINE_LEN);
            let seg0_head = plain[PREAMBLE_LEN..PREAMBLE_LEN + inline].to_vec();
            self.pending = Some(PendingSecure {
                seg0_done: preamble.seg_len(0) <= SECURE_INLINE_LEN,
                preamble,
                seg0: seg0_head,
            });
        }
        let pending = self.pending.as_mut().expect("pending frame");
        let seg0_len = pending.preamble.seg_len(0);
        if !pending.seg0_done {
            let need = pad16(seg0_len) - SECURE_INLINE_LEN + GCM_TAG_LEN;
            if buf.len() < need {
                buf.reserve(need - buf.len());
                return Ok(None);
            }
            let plain = rx.open(&buf[..need])?;
            buf.advance(need);
            pending
                .seg0
                .extend_from_slice(&plain[..seg0_len - SECURE_INLINE_LEN]);
            pending.seg0_done = true;
        }
        let count = pending.preamble.segments.len();
        let mut tail = None;
        if count > 1 {
            let body: usize = (1..count).map(|i| pad16(pending.preamble.seg_len(i))).sum();
            let need = body + SECURE_EPILOGUE_LEN + GCM_TAG_LEN;
            if buf.len() < need {
                buf.reserve(need - buf.len());
                return Ok(None);
            }
            tail = Some(Bytes::from(rx.open(&buf[..need])?));
            buf.advance(need);
        }
        let pending = self.pending.take().expect("pending frame");
        let mut segments = vec![Bytes::from(pending.seg0)];
        if let Some(plain) = tail {
            let mut at = 0;
            for i in 1..count {
                let len = pending.preamble.seg_len(i);
                segments.push(plain.slice(at..at + len));
                at += pad16(len);
            }
            if !late_status_complete(plain[at])? {
                return Ok(Some(None));
            }
        }
        Ok(Some(Some(Frame {
            tag: pending.preamble.tag,
            segments,
        })))
    }
}

fn check_crc(index: usize, data: &[u8], expected: u32) -> Result<(), FrameError> {
    let computed = ceph_crc32c(u32::MAX, data);
    if computed != expected {
        return Err(FrameError::BadSegmentCrc {
            index,
            computed,
            expected,
        });
    }
    Ok(())
}

/// `Ok(true)` for a complete frame, `Ok(false)` for one the sender aborted.
fn late_status_complete(late: u8) -> Result<bool, FrameError> {
    match late & LATE_STATUS_MASK {
        LATE_STATUS_COMPLETE => Ok(true),
        LATE_STATUS_ABORTED => Ok(false),
        _ => Err(FrameError::BadLateStatus(late)),
    }
}
