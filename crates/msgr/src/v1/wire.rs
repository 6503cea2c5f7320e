//! msgr1 wire structures: the banner, tags, CONNECT / CONNECT_REPLY, the
//! message header and footer. Fixed-size little-endian records; decoders
//! take exactly their length and never fail by panicking.

use ceph_denc::{ceph_crc32c, DecodeError, Decoder};

/// The msgr1 banner, sent by both sides first (no terminator).
pub const BANNER: &[u8; 9] = b"ceph v027";
/// The start of a msgr2 banner (what a msgr2-only port sends instead).
pub const MSGR2_BANNER_PREFIX: &[u8; 8] = b"ceph v2\n";

/// Length of a legacy `entity_addr_t` (marker, nonce, `sockaddr_storage`).
pub const LEGACY_ADDR_LEN: usize = 136;

/// Length of `ceph_msg_connect`.
pub const CONNECT_LEN: usize = 33;
/// Length of `ceph_msg_connect_reply`.
pub const CONNECT_REPLY_LEN: usize = 26;
/// Length of `ceph_msg_header`.
pub const HEADER_LEN: usize = 53;
/// Length of `ceph_msg_footer` (with the signature, `MSG_AUTH` peers).
pub const FOOTER_LEN: usize = 21;
/// Length of the pre-`MSG_AUTH` footer (no signature).
pub const OLD_FOOTER_LEN: usize = 13;

/// `CEPH_MSG_CONNECT_LOSSY`: we do not want the session kept across faults.
pub const CONNECT_FLAG_LOSSY: u8 = 1;

/// Footer flag: the message is complete (not aborted).
pub const FOOTER_COMPLETE: u8 = 1;
/// Footer flag: the data crc was not computed.
pub const FOOTER_NOCRC: u8 = 2;
/// Footer flag: `sig` holds a signature.
pub const FOOTER_SIGNED: u8 = 4;

/// Protocol version a client announces to a monitor (`CEPH_MONC_PROTOCOL`).
pub const PROTOCOL_MONC: u32 = 15;
/// ... to an OSD (`CEPH_OSDC_PROTOCOL`).
pub const PROTOCOL_OSDC: u32 = 24;
/// ... to an MDS (`CEPH_MDSC_PROTOCOL`).
pub const PROTOCOL_MDSC: u32 = 32;

/// The protocol version a client announces to a peer of `entity_type`
/// (managers and anything unknown: 0, as Ceph's messenger does).
pub fn client_protocol_version(entity_type: u32) -> u32 {
    match entity_type {
        0x01 => PROTOCOL_MONC,
        0x02 => PROTOCOL_MDSC,
        0x04 => PROTOCOL_OSDC,
        _ => 0,
    }
}

/// One-byte tags that start everything after the handshake, and the
/// CONNECT_REPLY verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// Handshake done.
    Ready,
    /// The server lost our session: start over with connect_seq 0.
    ResetSession,
    /// Connection race (lossless peers only).
    Wait,
    /// Our connect_seq is stale: retry with the server's.
    RetrySession,
    /// Our global_seq is stale: retry with a higher one.
    RetryGlobal,
    /// The peer closes the connection.
    Close,
    /// A message follows.
    Msg,
    /// The peer acknowledges messages up to a sequence number.
    Ack,
    /// Old-style keepalive (no payload).
    Keepalive,
    /// The peer does not speak our protocol version.
    BadProtoVer,
    /// The peer refused our authorizer.
    BadAuthorizer,
    /// The peer lacks features we require, or we lack its.
    Features,
    /// Handshake done; sequence numbers are exchanged first.
    Seq,
    /// A keepalive with a timestamp.
    Keepalive2,
    /// The answer to a [`Tag::Keepalive2`].
    Keepalive2Ack,
    /// The peer wants our authorizer redone with its challenge.
    ChallengeAuthorizer,
    /// A value we do not know, kept as is.
    Unknown(u8),
}

impl Tag {
    /// The wire byte.
    pub fn code(self) -> u8 {
        match self {
            Tag::Ready => 1,
            Tag::ResetSession => 2,
            Tag::Wait => 3,
            Tag::RetrySession => 4,
            Tag::RetryGlobal => 5,
            Tag::Close => 6,
            Tag::Msg => 7,
            Tag::Ack => 8,
            Tag::Keepalive => 9,
            Tag::BadProtoVer => 10,
            Tag::BadAuthorizer => 11,
            Tag::Features => 12,
            Tag::Seq => 13,
            Tag::Keepalive2 => 14,
            Tag::Keepalive2Ack => 15,
            Tag::ChallengeAuthorizer => 16,
            Tag::Unknown(c) => c,
        }
    }

    /// The tag for a wire byte; never fails.
    pub fn from_code(c: u8) -> Tag {
        match c {
            1 => Tag::Ready,
            2 => Tag::ResetSession,
            3 => Tag::Wait,
            4 => Tag::RetrySession,
            5 => Tag::RetryGlobal,
            6 => Tag::Close,
            7 => Tag::Msg,
            8 => Tag::Ack,
            9 => Tag::Keepalive,
            10 => Tag::BadProtoVer,
            11 => Tag::BadAuthorizer,
            12 => Tag::Features,
            13 => Tag::Seq,
            14 => Tag::Keepalive2,
            15 => Tag::Keepalive2Ack,
            16 => Tag::ChallengeAuthorizer,
            c => Tag::Unknown(c),
        }
    }
}

/// What a peer's first bytes say it speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerBanner {
    /// `ceph v027`: msgr1.
    Msgr1,
    /// `ceph v2\n`: msgr2.
    Msgr2,
    /// Something else (the first bytes, printable characters kept).
    Other(String),
}

impl PeerBanner {
    /// Classifies the first bytes a peer sent; `None` until enough bytes
    /// arrived to tell (at most [`BANNER`]'s length).
    pub fn classify(first: &[u8]) -> Option<PeerBanner> {
        let prefix = |p: &[u8]| first.len() >= p.len() && &first[..p.len()] == p;
        let could_be = |p: &[u8]| {
            let n = first.len().min(p.len());
            first[..n] == p[..n]
        };
        // Every msgr1 banner revision starts `ceph v0`; ours is the one
        // Ceph has spoken since 2008.
        if prefix(b"ceph v0") {
            Some(PeerBanner::Msgr1)
        } else if prefix(MSGR2_BANNER_PREFIX) {
            Some(PeerBanner::Msgr2)
        } else if could_be(BANNER) || could_be(MSGR2_BANNER_PREFIX) {
            None
        } else {
            Some(PeerBanner::Other(printable(&first[..first.len().min(16)])))
        }
    }
}

impl std::fmt::Display for PeerBanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerBanner::Msgr1 => f.write_str("msgr1 (\"ceph v027\")"),
            PeerBanner::Msgr2 => f.write_str("msgr2 (\"ceph v2\")"),
            PeerBanner::Other(s) => write!(f, "neither msgr1 nor msgr2 (sent {s:?})"),
        }
    }
}

/// Bytes as text for an error message: printable ASCII kept, the rest
/// escaped.
pub fn printable(b: &[u8]) -> String {
    b.iter()
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect()
}

/// `ceph_msg_connect`: what a client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectMsg {
    /// Features we support.
    pub features: u64,
    /// Our entity type code.
    pub host_type: u32,
    /// Our global sequence number for this connection attempt.
    pub global_seq: u32,
    /// How many sessions with this peer we have had (0 for a new one).
    pub connect_seq: u32,
    /// See [`client_protocol_version`].
    pub protocol_version: u32,
    /// Method of the authorizer that follows (0 for none).
    pub authorizer_protocol: u32,
    /// Length of the authorizer that follows.
    pub authorizer_len: u32,
    /// [`CONNECT_FLAG_LOSSY`] or 0.
    pub flags: u8,
}

impl ConnectMsg {
    /// The record's bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.features.to_le_bytes());
        out.extend_from_slice(&self.host_type.to_le_bytes());
        out.extend_from_slice(&self.global_seq.to_le_bytes());
        out.extend_from_slice(&self.connect_seq.to_le_bytes());
        out.extend_from_slice(&self.protocol_version.to_le_bytes());
        out.extend_from_slice(&self.authorizer_protocol.to_le_bytes());
        out.extend_from_slice(&self.authorizer_len.to_le_bytes());
        out.push(self.flags);
    }

    /// Decodes exactly [`CONNECT_LEN`] bytes.
    pub fn decode(b: &[u8]) -> Result<ConnectMsg, DecodeError> {
        let mut d = Decoder::new(b);
        let m = ConnectMsg {
            features: d.u64("connect.features")?,
            host_type: d.u32("connect.host_type")?,
            global_seq: d.u32("connect.global_seq")?,
            connect_seq: d.u32("connect.connect_seq")?,
            protocol_version: d.u32("connect.protocol_version")?,
            authorizer_protocol: d.u32("connect.authorizer_protocol")?,
            authorizer_len: d.u32("connect.authorizer_len")?,
            flags: d.u8("connect.flags")?,
        };
        d.finish("ceph_msg_connect")?;
        Ok(m)
    }
}

/// `ceph_msg_connect_reply`: the server's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectReply {
    /// [`Tag::Ready`], a retry, or a refusal.
    pub tag: Tag,
    /// The server's features.
    pub features: u64,
    /// The server's global sequence number.
    pub global_seq: u32,
    /// The connect_seq the server expects.
    pub connect_seq: u32,
    /// The server's protocol version.
    pub protocol_version: u32,
    /// Length of the authorizer reply (or challenge) that follows.
    pub authorizer_len: u32,
    /// [`CONNECT_FLAG_LOSSY`] if the server treats the session as lossy.
    pub flags: u8,
}

impl ConnectReply {
    /// The record's bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.tag.code());
        out.extend_from_slice(&self.features.to_le_bytes());
        out.extend_from_slice(&self.global_seq.to_le_bytes());
        out.extend_from_slice(&self.connect_seq.to_le_bytes());
        out.extend_from_slice(&self.protocol_version.to_le_bytes());
        out.extend_from_slice(&self.authorizer_len.to_le_bytes());
        out.push(self.flags);
    }

    /// Decodes exactly [`CONNECT_REPLY_LEN`] bytes.
    pub fn decode(b: &[u8]) -> Result<ConnectReply, DecodeError> {
        let mut d = Decoder::new(b);
        let r = ConnectReply {
            tag: Tag::from_code(d.u8("connect_reply.tag")?),
            features: d.u64("connect_reply.features")?,
            global_seq: d.u32("connect_reply.global_seq")?,
            connect_seq: d.u32("connect_reply.connect_seq")?,
            protocol_version: d.u32("connect_reply.protocol_version")?,
            authorizer_len: d.u32("connect_reply.authorizer_len")?,
            flags: d.u8("connect_reply.flags")?,
        };
        d.finish("ceph_msg_connect_reply")?;
        Ok(r)
    }
}

/// `ceph_msg_header`: the msgr1 message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MsgHeader {
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
    /// Segment lengths.
    pub front_len: u32,
    /// Segment lengths.
    pub middle_len: u32,
    /// Segment lengths.
    pub data_len: u32,
    /// Data alignment hint.
    pub data_off: u16,
    /// Sender's entity type code.
    pub src_type: u8,
    /// Sender's entity number (`-1` before it has one).
    pub src_num: i64,
    /// Oldest version that can decode the front.
    pub compat_version: u16,
    /// Unused.
    pub reserved: u16,
    /// crc32c of the 49 bytes before it.
    pub crc: u32,
}

/// Bytes of the header covered by its crc.
const HEADER_CRC_SPAN: usize = HEADER_LEN - 4;

impl MsgHeader {
    fn put_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.tid.to_le_bytes());
        out.extend_from_slice(&self.ty.to_le_bytes());
        out.extend_from_slice(&self.priority.to_le_bytes());
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.front_len.to_le_bytes());
        out.extend_from_slice(&self.middle_len.to_le_bytes());
        out.extend_from_slice(&self.data_len.to_le_bytes());
        out.extend_from_slice(&self.data_off.to_le_bytes());
        out.push(self.src_type);
        out.extend_from_slice(&self.src_num.to_le_bytes());
        out.extend_from_slice(&self.compat_version.to_le_bytes());
        out.extend_from_slice(&self.reserved.to_le_bytes());
    }

    /// The crc this header should carry.
    pub fn compute_crc(&self) -> u32 {
        let mut body = Vec::with_capacity(HEADER_LEN);
        self.put_body(&mut body);
        ceph_crc32c(0, &body)
    }

    /// The header's bytes, with `crc` as set.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.put_body(out);
        out.extend_from_slice(&self.crc.to_le_bytes());
    }

    /// Decodes exactly [`HEADER_LEN`] bytes (the crc is not checked here).
    pub fn decode(b: &[u8]) -> Result<MsgHeader, DecodeError> {
        let mut d = Decoder::new(b);
        let h = MsgHeader {
            seq: d.u64("header.seq")?,
            tid: d.u64("header.tid")?,
            ty: d.u16("header.type")?,
            priority: d.u16("header.priority")?,
            version: d.u16("header.version")?,
            front_len: d.u32("header.front_len")?,
            middle_len: d.u32("header.middle_len")?,
            data_len: d.u32("header.data_len")?,
            data_off: d.u16("header.data_off")?,
            src_type: d.u8("header.src.type")?,
            src_num: d.i64("header.src.num")?,
            compat_version: d.u16("header.compat_version")?,
            reserved: d.u16("header.reserved")?,
            crc: d.u32("header.crc")?,
        };
        d.finish("ceph_msg_header")?;
        Ok(h)
    }

    /// True if the crc matches the header's other bytes. `raw` is the
    /// header as received.
    pub fn crc_ok(raw: &[u8]) -> bool {
        raw.len() == HEADER_LEN
            && ceph_crc32c(0, &raw[..HEADER_CRC_SPAN]).to_le_bytes() == raw[HEADER_CRC_SPAN..]
    }
}

/// `ceph_msg_footer`: segment crcs, signature, flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MsgFooter {
    /// crc32c of the front.
    pub front_crc: u32,
    /// crc32c of the middle.
    pub middle_crc: u32,
    /// crc32c of the data (0 with [`FOOTER_NOCRC`]).
    pub data_crc: u32,
    /// The session signature (0 unsigned; absent from old footers).
    pub sig: u64,
    /// `FOOTER_*` flags.
    pub flags: u8,
}

impl MsgFooter {
    /// The footer's bytes; `with_sig` selects the [`FOOTER_LEN`] form.
    pub fn encode(&self, out: &mut Vec<u8>, with_sig: bool) {
        out.extend_from_slice(&self.front_crc.to_le_bytes());
        out.extend_from_slice(&self.middle_crc.to_le_bytes());
        out.extend_from_slice(&self.data_crc.to_le_bytes());
        if with_sig {
            out.extend_from_slice(&self.sig.to_le_bytes());
        }
        out.push(self.flags);
    }

    /// Decodes a footer of [`FOOTER_LEN`] bytes (`with_sig`) or
    /// [`OLD_FOOTER_LEN`].
    pub fn decode(b: &[u8], with_sig: bool) -> Result<MsgFooter, DecodeError> {
        let mut d = Decoder::new(b);
        let f = MsgFooter {
            front_crc: d.u32("footer.front_crc")?,
            middle_crc: d.u32("footer.middle_crc")?,
            data_crc: d.u32("footer.data_crc")?,
            sig: if with_sig { d.u64("footer.sig")? } else { 0 },
            flags: d.u8("footer.flags")?,
        };
        d.finish("ceph_msg_footer")?;
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_have_their_wire_lengths() {
        let mut out = Vec::new();
        ConnectMsg::default().encode(&mut out);
        assert_eq!(out.len(), CONNECT_LEN);
        out.clear();
        let reply = ConnectReply {
            tag: Tag::Ready,
            features: 7,
            global_seq: 1,
            connect_seq: 2,
            protocol_version: 15,
            authorizer_len: 0,
            flags: 1,
        };
        reply.encode(&mut out);
        assert_eq!(out.len(), CONNECT_REPLY_LEN);
        assert_eq!(ConnectReply::decode(&out).unwrap(), reply);
        out.clear();
        let mut h = MsgHeader {
            seq: 3,
            ty: 17,
            src_type: 8,
            src_num: -1,
            front_len: 10,
            ..MsgHeader::default()
        };
        h.crc = h.compute_crc();
        h.encode(&mut out);
        assert_eq!(out.len(), HEADER_LEN);
        assert!(MsgHeader::crc_ok(&out));
        assert_eq!(MsgHeader::decode(&out).unwrap(), h);
        out[0] ^= 1;
        assert!(!MsgHeader::crc_ok(&out));
        out.clear();
        MsgFooter::default().encode(&mut out, true);
        assert_eq!(out.len(), FOOTER_LEN);
        out.clear();
        MsgFooter::default().encode(&mut out, false);
        assert_eq!(out.len(), OLD_FOOTER_LEN);
    }

    #[test]
    fn banners_are_told_apart_early() {
        assert_eq!(PeerBanner::classify(b"ceph v"), None);
        assert_eq!(PeerBanner::classify(b"ceph v0"), Some(PeerBanner::Msgr1));
        assert_eq!(PeerBanner::classify(b"ceph v027"), Some(PeerBanner::Msgr1));
        assert_eq!(
            PeerBanner::classify(b"ceph v2\n\x10\x00"),
            Some(PeerBanner::Msgr2)
        );
        assert!(matches!(
            PeerBanner::classify(b"HTTP/1.1 400"),
            Some(PeerBanner::Other(_))
        ));
        assert!(matches!(
            PeerBanner::classify(b"SSH-2.0"),
            Some(PeerBanner::Other(_))
        ));
        assert_eq!(Tag::from_code(200), Tag::Unknown(200));
        for c in 1..=16u8 {
            assert_eq!(Tag::from_code(c).code(), c);
        }
    }
}
