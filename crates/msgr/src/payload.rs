//! Control-frame payloads (segment 0 of every frame but MESSAGE).
//!
//! Addresses inside frames are encoded as Ceph does for frames: assuming
//! the peer understands `MSG_ADDR2` and Nautilus address types.

use ceph_denc::{encode_bytes, Decode, DecodeError, Decoder, Encode};
use ceph_types::features::{CEPH_FEATUREMASK_MSG_ADDR2, CEPH_FEATUREMASK_SERVER_NAUTILUS};
use ceph_types::{EntityAddr, EntityAddrVec, UTime};

use crate::frame::Tag;

/// Feature bits assumed when encoding the frames themselves.
pub const FRAME_ASSUMED_FEATURES: u64 =
    CEPH_FEATUREMASK_MSG_ADDR2 | CEPH_FEATUREMASK_SERVER_NAUTILUS;

/// `CEPH_MSG_CONNECT_LOSSY` in CLIENT_IDENT / SERVER_IDENT flags.
pub const CONNECT_LOSSY: u64 = 1;

/// A control payload that knows its tag and wire form.
pub trait ControlPayload: Sized {
    /// The frame tag this payload travels under.
    const TAG: Tag;
    /// Appends the payload's bytes.
    fn encode_payload(&self, out: &mut Vec<u8>);
    /// Reads the payload.
    fn decode_payload(d: &mut Decoder<'_>) -> Result<Self, DecodeError>;

    /// The payload bytes.
    fn to_payload(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_payload(&mut out);
        out
    }

    /// Decodes a whole payload; trailing bytes are an error.
    fn from_payload(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut d = Decoder::new(buf);
        let v = Self::decode_payload(&mut d)?;
        d.finish(std::any::type_name::<Self>())?;
        Ok(v)
    }
}

fn u32_list(d: &mut Decoder<'_>) -> Result<Vec<u32>, DecodeError> {
    Vec::<u32>::decode(d)
}

fn put_u32_list(out: &mut Vec<u8>, v: &[u32]) {
    v.encode(out, 0);
}

fn utime(d: &mut Decoder<'_>) -> Result<UTime, DecodeError> {
    Ok(UTime::new(d.u32("utime sec")?, d.u32("utime nsec")?))
}

fn put_utime(out: &mut Vec<u8>, t: UTime) {
    out.extend_from_slice(&t.sec.to_le_bytes());
    out.extend_from_slice(&t.nsec.to_le_bytes());
}

macro_rules! payload {
    (
        $(#[$m:meta])* $name:ident = $tag:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }
        encode($s:ident, $o:ident) $enc:block
        decode($d:ident) $dec:block
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fm])* #[doc = concat!("`", stringify!($field), "` as on the wire.")] pub $field: $ty),*
        }
        impl ControlPayload for $name {
            const TAG: Tag = Tag::$tag;
            fn encode_payload(&self, $o: &mut Vec<u8>) { let $s = self; $enc }
            fn decode_payload($d: &mut Decoder<'_>) -> Result<Self, DecodeError> { $dec }
        }
    };
}

payload! {
    /// HELLO: the sender's entity type and the address it sees the peer at.
    Hello = Hello { entity_type: u8, peer_addr: EntityAddr }
    encode(s, out) {
        out.push(s.entity_type);
        s.peer_addr.encode(out, FRAME_ASSUMED_FEATURES);
    }
    decode(d) {
        Ok(Hello { entity_type: d.u8("hello entity type")?, peer_addr: EntityAddr::decode(d)? })
    }
}

payload! {
    /// AUTH_REQUEST: method, acceptable connection modes, method payload.
    AuthRequest = AuthRequest { method: u32, preferred_modes: Vec<u32>, payload: Vec<u8> }
    encode(s, out) {
        out.extend_from_slice(&s.method.to_le_bytes());
        put_u32_list(out, &s.preferred_modes);
        encode_bytes(out, &s.payload);
    }
    decode(d) {
        Ok(AuthRequest {
            method: d.u32("auth method")?,
            preferred_modes: u32_list(d)?,
            payload: d.bytes("auth payload")?.to_vec(),
        })
    }
}

payload! {
    /// AUTH_BAD_METHOD: the server refused the method; what it allows.
    AuthBadMethod = AuthBadMethod { method: u32, result: i32, allowed_methods: Vec<u32>, allowed_modes: Vec<u32> }
    encode(s, out) {
        out.extend_from_slice(&s.method.to_le_bytes());
        out.extend_from_slice(&s.result.to_le_bytes());
        put_u32_list(out, &s.allowed_methods);
        put_u32_list(out, &s.allowed_modes);
    }
    decode(d) {
        Ok(AuthBadMethod {
            method: d.u32("auth method")?,
            result: d.i32("auth result")?,
            allowed_methods: u32_list(d)?,
            allowed_modes: u32_list(d)?,
        })
    }
}

payload! {
    /// AUTH_REPLY_MORE: a server challenge or intermediate reply.
    AuthReplyMore = AuthReplyMore { payload: Vec<u8> }
    encode(s, out) { encode_bytes(out, &s.payload); }
    decode(d) { Ok(AuthReplyMore { payload: d.bytes("auth payload")?.to_vec() }) }
}

payload! {
    /// AUTH_REQUEST_MORE: the client's next authentication step.
    AuthRequestMore = AuthRequestMore { payload: Vec<u8> }
    encode(s, out) { encode_bytes(out, &s.payload); }
    decode(d) { Ok(AuthRequestMore { payload: d.bytes("auth payload")?.to_vec() }) }
}

payload! {
    /// AUTH_DONE: success, the assigned global id and connection mode.
    AuthDone = AuthDone { global_id: u64, con_mode: u32, payload: Vec<u8> }
    encode(s, out) {
        out.extend_from_slice(&s.global_id.to_le_bytes());
        out.extend_from_slice(&s.con_mode.to_le_bytes());
        encode_bytes(out, &s.payload);
    }
    decode(d) {
        Ok(AuthDone {
            global_id: d.u64("global id")?,
            con_mode: d.u32("con mode")?,
            payload: d.bytes("auth payload")?.to_vec(),
        })
    }
}

payload! {
    /// AUTH_SIGNATURE: HMAC-SHA256 over the bytes received before it.
    AuthSignature = AuthSignature { sha256: [u8; 32] }
    encode(s, out) { out.extend_from_slice(&s.sha256); }
    decode(d) { Ok(AuthSignature { sha256: d.array("auth signature")? }) }
}

/// CLIENT_IDENT and SERVER_IDENT: the sender's addresses (`$head`
/// fields), then the same six words.
macro_rules! ident_payload {
    ($(#[$m:meta])* $name:ident = $tag:ident { $($head:ident : $hty:ty),* $(,)? }) => {
        payload! {
            $(#[$m])*
            $name = $tag {
                $($head: $hty,)*
                gid: i64,
                global_seq: u64,
                supported_features: u64,
                required_features: u64,
                flags: u64,
                cookie: u64,
            }
            encode(s, out) {
                $(s.$head.encode(out, FRAME_ASSUMED_FEATURES);)*
                for v in [s.gid as u64, s.global_seq, s.supported_features, s.required_features, s.flags, s.cookie] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            decode(d) {
                Ok($name {
                    $($head: <$hty>::decode(d)?,)*
                    gid: d.i64("gid")?,
                    global_seq: d.u64("global seq")?,
                    supported_features: d.u64("supported features")?,
                    required_features: d.u64("required features")?,
                    flags: d.u64("flags")?,
                    cookie: d.u64("cookie")?,
                })
            }
        }
    };
}

ident_payload! {
    /// CLIENT_IDENT: who the client is and what it wants from the session.
    ClientIdent = ClientIdent { addrs: EntityAddrVec, target_addr: EntityAddr }
}

ident_payload! {
    /// SERVER_IDENT: the server's identity and features; the session is up.
    ServerIdent = ServerIdent { addrs: EntityAddrVec }
}

payload! {
    /// IDENT_MISSING_FEATURES: features we lack that the server requires.
    IdentMissingFeatures = IdentMissingFeatures { features: u64 }
    encode(s, out) { out.extend_from_slice(&s.features.to_le_bytes()); }
    decode(d) { Ok(IdentMissingFeatures { features: d.u64("missing features")? }) }
}

payload! {
    /// SESSION_RESET: the server dropped our session (`full`: everything).
    SessionReset = SessionReset { full: bool }
    encode(s, out) { out.push(s.full as u8); }
    decode(d) { Ok(SessionReset { full: d.bool("full")? }) }
}

payload! {
    /// SESSION_RETRY: reconnect with a higher connect_seq.
    SessionRetry = SessionRetry { connect_seq: u64 }
    encode(s, out) { out.extend_from_slice(&s.connect_seq.to_le_bytes()); }
    decode(d) { Ok(SessionRetry { connect_seq: d.u64("connect seq")? }) }
}

payload! {
    /// SESSION_RETRY_GLOBAL: reconnect with a higher global_seq.
    SessionRetryGlobal = SessionRetryGlobal { global_seq: u64 }
    encode(s, out) { out.extend_from_slice(&s.global_seq.to_le_bytes()); }
    decode(d) { Ok(SessionRetryGlobal { global_seq: d.u64("global seq")? }) }
}

payload! {
    /// WAIT: a connection race; the server asks us to back off.
    Wait = Wait {}
    encode(_s, _out) {}
    decode(_d) { Ok(Wait {}) }
}

payload! {
    /// KEEPALIVE2: a timestamp the peer echoes back.
    Keepalive2 = Keepalive2 { stamp: UTime }
    encode(s, out) { put_utime(out, s.stamp); }
    decode(d) { Ok(Keepalive2 { stamp: utime(d)? }) }
}

payload! {
    /// KEEPALIVE2_ACK: the echoed timestamp.
    Keepalive2Ack = Keepalive2Ack { stamp: UTime }
    encode(s, out) { put_utime(out, s.stamp); }
    decode(d) { Ok(Keepalive2Ack { stamp: utime(d)? }) }
}

payload! {
    /// ACK: every message up to `seq` was received.
    Ack = Ack { seq: u64 }
    encode(s, out) { out.extend_from_slice(&s.seq.to_le_bytes()); }
    decode(d) { Ok(Ack { seq: d.u64("ack seq")? }) }
}

payload! {
    /// COMPRESSION_REQUEST (msgr2.1): whether the sender wants on-wire
    /// compression and the methods it prefers. We always send "no".
    CompressionRequest = CompressionRequest { is_compress: bool, preferred_methods: Vec<u32> }
    encode(s, out) {
        out.push(u8::from(s.is_compress));
        put_u32_list(out, &s.preferred_methods);
    }
    decode(d) {
        Ok(CompressionRequest {
            is_compress: d.bool("CompressionRequest.is_compress")?,
            preferred_methods: u32_list(d)?,
        })
    }
}

payload! {
    /// COMPRESSION_DONE (msgr2.1): the server's decision.
    #[derive(Copy)]
    CompressionDone = CompressionDone { is_compress: bool, method: u32 }
    encode(s, out) {
        out.push(u8::from(s.is_compress));
        out.extend_from_slice(&s.method.to_le_bytes());
    }
    decode(d) {
        Ok(CompressionDone {
            is_compress: d.bool("CompressionDone.is_compress")?,
            method: d.u32("CompressionDone.method")?,
        })
    }
}

/// [`Control`], one variant per listed payload (each named as its tag).
macro_rules! control {
    ($($name:ident),* $(,)?) => {
        /// Any decoded control payload, for tools and tests.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Control {
            $(#[doc = concat!("A [`", stringify!($name), "`] payload.")] $name($name)),*
        }

        impl Control {
            /// Decodes the payload of a frame with `tag`; `Ok(None)` for tags
            /// that are not decoded here (MESSAGE, reconnect and compression
            /// frames).
            pub fn decode(tag: Tag, payload: &[u8]) -> Result<Option<Control>, DecodeError> {
                Ok(Some(match tag {
                    $(Tag::$name => Control::$name($name::from_payload(payload)?),)*
                    _ => return Ok(None),
                }))
            }
        }
    };
}

control! {
    Hello,
    AuthRequest,
    AuthBadMethod,
    AuthReplyMore,
    AuthRequestMore,
    AuthDone,
    AuthSignature,
    ClientIdent,
    ServerIdent,
    IdentMissingFeatures,
    SessionReset,
    SessionRetry,
    SessionRetryGlobal,
    Wait,
    Keepalive2,
    Keepalive2Ack,
    Ack,
}
