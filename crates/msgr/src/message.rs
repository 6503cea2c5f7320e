//! MESSAGE frames: the 41-byte `ceph_msg_header2` and the four segments.

use bytes::Bytes;
use ceph_denc::{DecodeError, Decoder};

use crate::frame::{align, Frame};

/// Length of `ceph_msg_header2` on the wire.
pub const HEADER2_LEN: usize = 41;

/// Header flags Ceph sets on msgr2 messages: footer complete, no data CRC.
pub const HEADER_FLAGS_DEFAULT: u8 = 0x03;

/// The msgr2 message header (`ceph_msg_header2`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MsgHeader2 {
    /// Sender's sequence number of this message.
    pub seq: u64,
    /// Transaction id.
    pub tid: u64,
    /// Message type.
    pub ty: u16,
    /// Priority.
    pub priority: u16,
    /// Encoding version of the front.
    pub version: u16,
    /// Padding before the data segment.
    pub data_pre_padding_len: u32,
    /// Data alignment hint.
    pub data_off: u16,
    /// Highest sequence number of ours the sender has received.
    pub ack_seq: u64,
    /// Header flags.
    pub flags: u8,
    /// Oldest version that can decode the front.
    pub compat_version: u16,
    /// Unused.
    pub reserved: u16,
}

impl MsgHeader2 {
    /// The header bytes.
    pub fn encode(&self) -> [u8; HEADER2_LEN] {
        let mut out = Vec::with_capacity(HEADER2_LEN);
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.tid.to_le_bytes());
        out.extend_from_slice(&self.ty.to_le_bytes());
        out.extend_from_slice(&self.priority.to_le_bytes());
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.data_pre_padding_len.to_le_bytes());
        out.extend_from_slice(&self.data_off.to_le_bytes());
        out.extend_from_slice(&self.ack_seq.to_le_bytes());
        out.push(self.flags);
        out.extend_from_slice(&self.compat_version.to_le_bytes());
        out.extend_from_slice(&self.reserved.to_le_bytes());
        out.try_into().expect("41 bytes")
    }

    /// Decodes exactly [`HEADER2_LEN`] bytes.
    pub fn decode(buf: &[u8]) -> Result<MsgHeader2, DecodeError> {
        let mut d = Decoder::new(buf);
        let h = MsgHeader2 {
            seq: d.u64("seq")?,
            tid: d.u64("tid")?,
            ty: d.u16("type")?,
            priority: d.u16("priority")?,
            version: d.u16("version")?,
            data_pre_padding_len: d.u32("data pre-padding")?,
            data_off: d.u16("data offset")?,
            ack_seq: d.u64("ack seq")?,
            flags: d.u8("flags")?,
            compat_version: d.u16("compat version")?,
            reserved: d.u16("reserved")?,
        };
        d.finish("ceph_msg_header2")?;
        Ok(h)
    }
}

/// A Ceph message as the messenger carries it. `seq` is assigned by the
/// session when sending and filled in when receiving.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// Message type.
    pub ty: u16,
    /// Transaction id.
    pub tid: u64,
    /// Priority.
    pub priority: u16,
    /// Encoding version of the front.
    pub version: u16,
    /// Oldest version that can decode the front.
    pub compat_version: u16,
    /// The front (the message's encoded fields).
    pub front: Bytes,
    /// The middle segment (rarely used).
    pub middle: Bytes,
    /// The data segment (bulk payload).
    pub data: Bytes,
    /// Sequence number (set by the session).
    pub seq: u64,
}

/// Ceph's default message priority (`CEPH_MSG_PRIO_DEFAULT`).
pub const PRIO_DEFAULT: u16 = 127;

impl Message {
    /// A message of type `ty` with a front payload and default priority.
    pub fn new(ty: u16, version: u16, compat_version: u16, front: impl Into<Bytes>) -> Message {
        Message {
            ty,
            version,
            compat_version,
            priority: PRIO_DEFAULT,
            front: front.into(),
            ..Message::default()
        }
    }

    /// The header for sending this message with `seq` and `ack_seq`.
    pub fn header(&self, seq: u64, ack_seq: u64) -> MsgHeader2 {
        MsgHeader2 {
            seq,
            tid: self.tid,
            ty: self.ty,
            priority: self.priority,
            version: self.version,
            data_pre_padding_len: 0,
            data_off: 0,
            ack_seq,
            flags: HEADER_FLAGS_DEFAULT,
            compat_version: self.compat_version,
            reserved: 0,
        }
    }

    /// Segments with their alignments, header first, ready for encoding.
    pub fn segments<'a>(&'a self, header: &'a [u8; HEADER2_LEN]) -> [(&'a [u8], u16); 4] {
        [
            (header, align::DEFAULT),
            (&self.front, align::DEFAULT),
            (&self.middle, align::DEFAULT),
            (&self.data, align::PAGE),
        ]
    }

    /// Splits a received MESSAGE frame into its header and message.
    pub fn from_frame(frame: &Frame) -> Result<(MsgHeader2, Message), DecodeError> {
        let header = MsgHeader2::decode(frame.payload())?;
        let msg = Message {
            ty: header.ty,
            tid: header.tid,
            priority: header.priority,
            version: header.version,
            compat_version: header.compat_version,
            front: frame.segment(1),
            middle: frame.segment(2),
            data: frame.segment(3),
            seq: header.seq,
        };
        Ok((header, msg))
    }
}
