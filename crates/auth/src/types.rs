//! CephX wire structures, with Ceph's encodings.
//!
//! Most of these carry a single leading `struct_v` byte rather than the
//! full versioned envelope: CephX predates envelopes. Where a struct's
//! layout depends on that byte, the decoded version is kept so that a value
//! re-encodes to exactly the bytes it came from.

use std::collections::BTreeMap;

use ceph_denc::{encode_bytes, Blob, Decode, DecodeError, Decoder, Encode};

pub use crate::crypto::CephXChallengeBlob;
use crate::crypto::CryptoKey;
use crate::{EntityName, UTime};

/// Request type: authenticate and get the auth session key.
pub const CEPHX_GET_AUTH_SESSION_KEY: u16 = 0x0100;
/// Request type: get service tickets over an authenticated session.
pub const CEPHX_GET_PRINCIPAL_SESSION_KEY: u16 = 0x0200;
/// Request type: get rotating service keys (daemons only).
pub const CEPHX_GET_ROTATING_KEY: u16 = 0x0400;

/// Ceph's "no auid" value, still written where the field used to be.
const AUTH_UID_DEFAULT: u64 = u64::MAX;

/// Reads a leading `struct_v` byte and rejects versions newer than `max`
/// (their layout is unknown to us) or older than `min`.
pub(crate) fn struct_v(
    d: &mut Decoder<'_>,
    what: &'static str,
    min: u8,
    max: u8,
) -> ceph_denc::Result<u8> {
    let v = d.u8(what)?;
    if v > max {
        return Err(DecodeError::TooNew {
            what,
            compat: v,
            supported: max,
        });
    }
    if v < min {
        return Err(DecodeError::TooOld {
            what,
            version: v,
            oldest: min,
        });
    }
    Ok(v)
}

/// Prefix of every CephX request after the initial one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CephXRequestHeader {
    /// One of the `CEPHX_GET_*` constants.
    pub request_type: u16,
}

impl Decode for CephXRequestHeader {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        Ok(CephXRequestHeader {
            request_type: d.u16("CephXRequestHeader.request_type")?,
        })
    }
}
impl Encode for CephXRequestHeader {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        self.request_type.encode(out, f);
    }
}

/// Prefix of every CephX reply after the server challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CephXResponseHeader {
    /// The request type this answers.
    pub request_type: u16,
    /// 0 or a negative errno.
    pub status: i32,
}

impl Decode for CephXResponseHeader {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        Ok(CephXResponseHeader {
            request_type: d.u16("CephXResponseHeader.request_type")?,
            status: d.i32("CephXResponseHeader.status")?,
        })
    }
}
impl Encode for CephXResponseHeader {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        self.request_type.encode(out, f);
        self.status.encode(out, f);
    }
}

/// The monitor's first CephX message: a random challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CephXServerChallenge {
    /// The monitor's random challenge.
    pub server_challenge: u64,
}

impl Decode for CephXServerChallenge {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        struct_v(d, "CephXServerChallenge", 1, 1)?;
        Ok(CephXServerChallenge {
            server_challenge: d.u64("CephXServerChallenge.server_challenge")?,
        })
    }
}
impl Encode for CephXServerChallenge {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        1u8.encode(out, f);
        self.server_challenge.encode(out, f);
    }
}

/// A ticket as the client holds it: opaque bytes encrypted with a service
/// secret, and which of the service's rotating secrets was used.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CephXTicketBlob {
    /// Which of the service's rotating secrets encrypted the ticket.
    pub secret_id: u64,
    /// The encrypted ticket.
    pub blob: Vec<u8>,
}

impl std::fmt::Debug for CephXTicketBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CephXTicketBlob")
            .field("secret_id", &self.secret_id)
            .field("blob", &format_args!("<{} bytes>", self.blob.len()))
            .finish()
    }
}

impl Decode for CephXTicketBlob {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        struct_v(d, "CephXTicketBlob", 1, 1)?;
        Ok(CephXTicketBlob {
            secret_id: d.u64("CephXTicketBlob.secret_id")?,
            blob: d.bytes("CephXTicketBlob.blob")?.to_vec(),
        })
    }
}
impl Encode for CephXTicketBlob {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        1u8.encode(out, f);
        self.secret_id.encode(out, f);
        encode_bytes(out, &self.blob);
    }
}

/// The client's answer to the server challenge.
///
/// Version 1 has no `other_keys`; versions 2 and 3 share a layout, but a
/// v3 sender promises to always fill `old_ticket` when it has one (global_id
/// reclaim). We send v3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CephXAuthenticate {
    /// The encoding version (1 to 3).
    pub struct_v: u8,
    /// Our random challenge.
    pub client_challenge: u64,
    /// Proof of key possession, see [`crate::crypto::challenge_key`].
    pub key: u64,
    /// The auth ticket we held before, if any (global_id reclaim).
    pub old_ticket: CephXTicketBlob,
    /// Entity-type bit mask of the service tickets wanted in the same reply.
    pub other_keys: u32,
}

impl Default for CephXAuthenticate {
    fn default() -> Self {
        CephXAuthenticate {
            struct_v: 3,
            client_challenge: 0,
            key: 0,
            old_ticket: CephXTicketBlob::default(),
            other_keys: 0,
        }
    }
}

impl Decode for CephXAuthenticate {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        let v = struct_v(d, "CephXAuthenticate", 1, 3)?;
        let client_challenge = d.u64("CephXAuthenticate.client_challenge")?;
        let key = d.u64("CephXAuthenticate.key")?;
        let old_ticket = CephXTicketBlob::decode(d)?;
        let other_keys = if v >= 2 {
            d.u32("CephXAuthenticate.other_keys")?
        } else {
            0
        };
        Ok(CephXAuthenticate {
            struct_v: v,
            client_challenge,
            key,
            old_ticket,
            other_keys,
        })
    }
}
impl Encode for CephXAuthenticate {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        self.struct_v.encode(out, f);
        self.client_challenge.encode(out, f);
        self.key.encode(out, f);
        self.old_ticket.encode(out, f);
        if self.struct_v >= 2 {
            self.other_keys.encode(out, f);
        }
    }
}

/// The capabilities inside a ticket, as an opaque encoded blob.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthCapsInfo {
    /// Every capability.
    pub allow_all: bool,
    /// The encoded capabilities otherwise.
    pub caps: Blob,
}

impl Decode for AuthCapsInfo {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        struct_v(d, "AuthCapsInfo", 1, 1)?;
        Ok(AuthCapsInfo {
            allow_all: d.bool("AuthCapsInfo.allow_all")?,
            caps: Blob::decode(d)?,
        })
    }
}
impl Encode for AuthCapsInfo {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        1u8.encode(out, f);
        self.allow_all.encode(out, f);
        self.caps.encode(out, f);
    }
}

/// What a service learns from a ticket: who, until when, with which caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthTicket {
    /// Who holds it.
    pub name: EntityName,
    /// The holder's global id.
    pub global_id: u64,
    /// When it was issued.
    pub created: UTime,
    /// When it stops being valid.
    pub expires: UTime,
    /// What the holder may do.
    pub caps: AuthCapsInfo,
    /// Ticket flags.
    pub flags: u32,
}

impl Decode for AuthTicket {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        let v = struct_v(d, "AuthTicket", 1, 2)?;
        let name = EntityName::decode(d)?;
        let global_id = d.u64("AuthTicket.global_id")?;
        if v >= 2 {
            d.u64("AuthTicket.old_auid")?;
        }
        Ok(AuthTicket {
            name,
            global_id,
            created: UTime::decode(d)?,
            expires: UTime::decode(d)?,
            caps: AuthCapsInfo::decode(d)?,
            flags: d.u32("AuthTicket.flags")?,
        })
    }
}
impl Encode for AuthTicket {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        2u8.encode(out, f);
        self.name.encode(out, f);
        self.global_id.encode(out, f);
        AUTH_UID_DEFAULT.encode(out, f);
        self.created.encode(out, f);
        self.expires.encode(out, f);
        self.caps.encode(out, f);
        self.flags.encode(out, f);
    }
}

/// The part of a ticket reply encrypted for the client ("A"): the session
/// key for the service and how long it is valid.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CephXServiceTicket {
    /// The key for talking to the service.
    pub session_key: CryptoKey,
    /// A duration, not a point in time.
    pub validity: UTime,
}

impl Decode for CephXServiceTicket {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        struct_v(d, "CephXServiceTicket", 1, 1)?;
        Ok(CephXServiceTicket {
            session_key: CryptoKey::decode(d)?,
            validity: UTime::decode(d)?,
        })
    }
}
impl Encode for CephXServiceTicket {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        1u8.encode(out, f);
        self.session_key.encode(out, f);
        self.validity.encode(out, f);
    }
}

/// The part of a ticket encrypted for the service ("B"); the client never
/// sees it decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CephXServiceTicketInfo {
    /// The ticket itself.
    pub ticket: AuthTicket,
    /// The session key the client also received.
    pub session_key: CryptoKey,
}

impl Decode for CephXServiceTicketInfo {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        struct_v(d, "CephXServiceTicketInfo", 1, 1)?;
        Ok(CephXServiceTicketInfo {
            ticket: AuthTicket::decode(d)?,
            session_key: CryptoKey::decode(d)?,
        })
    }
}
impl Encode for CephXServiceTicketInfo {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        1u8.encode(out, f);
        self.ticket.encode(out, f);
        self.session_key.encode(out, f);
    }
}

/// Asks for tickets for the services in the `keys` entity-type mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CephXServiceTicketRequest {
    /// Entity-type bit mask of the services.
    pub keys: u32,
}

impl Decode for CephXServiceTicketRequest {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        struct_v(d, "CephXServiceTicketRequest", 1, 1)?;
        Ok(CephXServiceTicketRequest {
            keys: d.u32("CephXServiceTicketRequest.keys")?,
        })
    }
}
impl Encode for CephXServiceTicketRequest {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        1u8.encode(out, f);
        self.keys.encode(out, f);
    }
}

/// The encrypted part of an authorizer: a nonce, and (v2) the answer to a
/// server's authorizer challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CephXAuthorize {
    /// The encoding version (1 or 2).
    pub struct_v: u8,
    /// Our random nonce.
    pub nonce: u64,
    /// Whether this answers a server's challenge (v2).
    pub have_challenge: bool,
    /// The server's challenge plus one (v2).
    pub server_challenge_plus_one: u64,
}

impl Default for CephXAuthorize {
    fn default() -> Self {
        CephXAuthorize {
            struct_v: 2,
            nonce: 0,
            have_challenge: false,
            server_challenge_plus_one: 0,
        }
    }
}

impl Decode for CephXAuthorize {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        let v = struct_v(d, "CephXAuthorize", 1, 2)?;
        let nonce = d.u64("CephXAuthorize.nonce")?;
        let (have_challenge, server_challenge_plus_one) = if v >= 2 {
            (
                d.bool("CephXAuthorize.have_challenge")?,
                d.u64("CephXAuthorize.server_challenge_plus_one")?,
            )
        } else {
            (false, 0)
        };
        Ok(CephXAuthorize {
            struct_v: v,
            nonce,
            have_challenge,
            server_challenge_plus_one,
        })
    }
}
impl Encode for CephXAuthorize {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        self.struct_v.encode(out, f);
        self.nonce.encode(out, f);
        if self.struct_v >= 2 {
            self.have_challenge.encode(out, f);
            self.server_challenge_plus_one.encode(out, f);
        }
    }
}

/// A service's answer to an authorizer: the nonce plus one and, in msgr2,
/// the connection secret (v2 only when non-empty).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CephXAuthorizeReply {
    /// Our nonce plus one: the service holds the session key.
    pub nonce_plus_one: u64,
    /// Key material for msgr2's secure mode.
    pub connection_secret: Vec<u8>,
}

impl std::fmt::Debug for CephXAuthorizeReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CephXAuthorizeReply")
            .field("nonce_plus_one", &self.nonce_plus_one)
            .field("connection_secret", &"<redacted>")
            .finish()
    }
}

impl Decode for CephXAuthorizeReply {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        let v = struct_v(d, "CephXAuthorizeReply", 1, 2)?;
        let nonce_plus_one = d.u64("CephXAuthorizeReply.nonce_plus_one")?;
        let connection_secret = if v >= 2 {
            d.bytes("CephXAuthorizeReply.connection_secret")?.to_vec()
        } else {
            Vec::new()
        };
        Ok(CephXAuthorizeReply {
            nonce_plus_one,
            connection_secret,
        })
    }
}
impl Encode for CephXAuthorizeReply {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        if self.connection_secret.is_empty() {
            1u8.encode(out, f);
            self.nonce_plus_one.encode(out, f);
        } else {
            2u8.encode(out, f);
            self.nonce_plus_one.encode(out, f);
            encode_bytes(out, &self.connection_secret);
        }
    }
}

/// A service's challenge to an authorizer (msgr2), answered by resending
/// the authorizer with `server_challenge + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CephXAuthorizeChallenge {
    /// The service's random challenge.
    pub server_challenge: u64,
}

impl Decode for CephXAuthorizeChallenge {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        struct_v(d, "CephXAuthorizeChallenge", 1, 1)?;
        Ok(CephXAuthorizeChallenge {
            server_challenge: d.u64("CephXAuthorizeChallenge.server_challenge")?,
        })
    }
}
impl Encode for CephXAuthorizeChallenge {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        1u8.encode(out, f);
        self.server_challenge.encode(out, f);
    }
}

/// A keyring entry as the monitor stores it: key, caps by service, and (v3,
/// Squid and later) a pending key during rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityAuth {
    /// The encoding version.
    pub struct_v: u8,
    /// The entity's secret key.
    pub key: CryptoKey,
    /// Service name (`mon`, `osd`, ...) to an encoded cap string.
    pub caps: BTreeMap<String, Blob>,
    /// The next key during a rotation (empty otherwise).
    pub pending_key: CryptoKey,
}

impl Default for EntityAuth {
    fn default() -> Self {
        EntityAuth {
            struct_v: 3,
            key: CryptoKey::default(),
            caps: BTreeMap::new(),
            pending_key: CryptoKey::default(),
        }
    }
}

impl Decode for EntityAuth {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        let v = struct_v(d, "EntityAuth", 1, 3)?;
        if v >= 2 {
            d.u64("EntityAuth.old_auid")?;
        }
        let key = CryptoKey::decode(d)?;
        let caps = BTreeMap::decode(d)?;
        let pending_key = if v >= 3 {
            CryptoKey::decode(d)?
        } else {
            CryptoKey::default()
        };
        Ok(EntityAuth {
            struct_v: v,
            key,
            caps,
            pending_key,
        })
    }
}
impl Encode for EntityAuth {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        // Version 1 has no auid; we never write it, only read it.
        let v = self.struct_v.clamp(2, 3);
        v.encode(out, f);
        AUTH_UID_DEFAULT.encode(out, f);
        self.key.encode(out, f);
        self.caps.encode(out, f);
        if v >= 3 {
            self.pending_key.encode(out, f);
        }
    }
}
