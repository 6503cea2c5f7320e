//! Network addresses of Ceph entities: [`EntityAddr`] (`entity_addr_t`) and
//! [`EntityAddrVec`] (`entity_addrvec_t`), with both wire encodings and the
//! text form Ceph prints (`v2:10.0.0.1:3300/0`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::str::FromStr;

use ceph_denc::{encode_envelope, Decode, DecodeError, Decoder, Encode, Result};
use serde_json::{json, Value};

use crate::features::{has_feature, CEPH_FEATUREMASK_SERVER_NAUTILUS, CEPH_FEATURE_MSG_ADDR2};
use crate::ParseError;

/// Linux address family numbers, which Ceph puts on the wire as they are.
const AF_UNSPEC: u16 = 0;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// Size of `sockaddr_in` and of the union Ceph keeps (`sockaddr_in6`).
const SOCKADDR_IN_LEN: usize = 16;
const SOCKADDR_UNION_LEN: usize = 28;
/// Size of the `sockaddr_storage` in the legacy encoding.
const SOCKADDR_STORAGE_LEN: usize = 128;

/// The protocol an address is for (`entity_addr_t::TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum EntityAddrType {
    /// No address (prints as `-`).
    #[default]
    None,
    /// msgr v1 (`v1:`).
    Legacy,
    /// msgr v2 (`v2:`).
    Msgr2,
    /// Either protocol (printed without a prefix).
    Any,
    /// A network range, used in blocklists.
    Cidr,
    /// A code this crate has no name for; kept so decoding is lossless.
    Other(u32),
}

impl EntityAddrType {
    /// The number the wire encoding carries for this type.
    pub const fn code(self) -> u32 {
        match self {
            EntityAddrType::None => 0,
            EntityAddrType::Legacy => 1,
            EntityAddrType::Msgr2 => 2,
            EntityAddrType::Any => 3,
            EntityAddrType::Cidr => 4,
            EntityAddrType::Other(c) => c,
        }
    }

    /// The type a wire code stands for; unknown codes are kept as [`EntityAddrType::Other`].
    pub const fn from_code(code: u32) -> Self {
        match code {
            0 => EntityAddrType::None,
            1 => EntityAddrType::Legacy,
            2 => EntityAddrType::Msgr2,
            3 => EntityAddrType::Any,
            4 => EntityAddrType::Cidr,
            c => EntityAddrType::Other(c),
        }
    }

    /// The name Ceph uses in text and JSON: "none", "v1", "v2", "any", "cidr".
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityAddrType::None => "none",
            EntityAddrType::Legacy => "v1",
            EntityAddrType::Msgr2 => "v2",
            EntityAddrType::Any => "any",
            EntityAddrType::Cidr => "cidr",
            EntityAddrType::Other(_) => "???",
        }
    }
}

impl fmt::Display for EntityAddrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One address of an entity (Ceph's `entity_addr_t`): protocol type, a
/// nonce that tells apart processes on the same address, and the socket
/// address (`None` for the unspecified family).
///
/// ```
/// use ceph_types::{EntityAddr, EntityAddrType};
/// let a: EntityAddr = "v2:127.0.0.1:3300/0".parse().unwrap();
/// assert_eq!(a.ty, EntityAddrType::Msgr2);
/// assert_eq!(a.addr, Some("127.0.0.1:3300".parse().unwrap()));
/// assert_eq!(a.to_string(), "v2:127.0.0.1:3300/0");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EntityAddr {
    /// Which messenger protocol the address is for.
    pub ty: EntityAddrType,
    /// Tells apart processes that used the same IP and port (each process picks a fresh one
    /// when it starts), so a restarted peer is seen as a new one.
    pub nonce: u32,
    /// IP and port; `None` when the address family is unspecified.
    pub addr: Option<SocketAddr>,
}

impl EntityAddr {
    /// An address of type `ty` at `addr` with the given nonce.
    pub const fn new(ty: EntityAddrType, addr: SocketAddr, nonce: u32) -> Self {
        EntityAddr {
            ty,
            nonce,
            addr: Some(addr),
        }
    }

    /// Whether this is the empty address (`TYPE_NONE`, no socket address).
    pub fn is_blank(&self) -> bool {
        self.ty == EntityAddrType::None && self.addr.is_none()
    }

    /// The IP address and port, without the protocol and nonce, as Ceph's
    /// `get_legacy_str()` prints them: `127.0.0.1:6789/0`.
    pub fn legacy_str(&self) -> String {
        format!("{}/{}", SockAddrText(self.addr), self.nonce)
    }

    /// Parses the text form; an address without a `v1:`/`v2:`/`any:` prefix
    /// gets `default_ty` (Ceph's own parser defaults to `v2`).
    pub fn parse_with_default(
        s: &str,
        default_ty: EntityAddrType,
    ) -> std::result::Result<Self, ParseError> {
        match parse_addr_prefix(s, default_ty) {
            Some((a, "")) => Ok(a),
            Some((_, rest)) => Err(ParseError::new(
                "address",
                s,
                format!("unexpected {rest:?}"),
            )),
            None => Err(ParseError::new(
                "address",
                s,
                "expected [v1:|v2:|any:]IP[:PORT][/NONCE] or -",
            )),
        }
    }

    /// Decodes the legacy form after its first marker byte (which is 0):
    /// three more header bytes, the nonce and a 128-byte `sockaddr_storage`
    /// whose family is in network byte order.
    fn decode_legacy_after_marker(d: &mut Decoder<'_>) -> Result<Self> {
        d.skip(3, "entity_addr_t legacy header")?;
        let nonce = d.u32("entity_addr_t.nonce")?;
        let ss = d.take(SOCKADDR_STORAGE_LEN, "entity_addr_t sockaddr_storage")?;
        let family = u16::from_be_bytes([ss[0], ss[1]]);
        let addr = sockaddr_from_parts(family, &ss[2..])?;
        let ty = if family == AF_UNSPEC {
            EntityAddrType::None
        } else {
            EntityAddrType::Legacy
        };
        Ok(EntityAddr { ty, nonce, addr })
    }

    /// Decodes the body of the versioned (marker 1) form.
    fn decode_v1_body(d: &mut Decoder<'_>) -> Result<Self> {
        d.envelope("entity_addr_t", 1, |d, _v| {
            let ty = EntityAddrType::from_code(d.u32("entity_addr_t.type")?);
            let nonce = d.u32("entity_addr_t.nonce")?;
            let elen = d.u32("entity_addr_t.sockaddr_len")? as usize;
            let addr = if elen == 0 {
                None
            } else {
                if elen < 2 {
                    return Err(DecodeError::invalid(
                        "entity_addr_t",
                        "sockaddr shorter than its family",
                    ));
                }
                let family = d.u16("entity_addr_t.family")?;
                let max = if family == AF_INET {
                    SOCKADDR_IN_LEN
                } else {
                    SOCKADDR_UNION_LEN
                };
                if elen > max {
                    return Err(DecodeError::invalid(
                        "entity_addr_t",
                        format!("sockaddr length {elen} too long for family {family}"),
                    ));
                }
                // Like Ceph, copy what was sent into a zeroed sockaddr.
                let mut data = [0u8; SOCKADDR_UNION_LEN - 2];
                data[..elen - 2].copy_from_slice(d.take(elen - 2, "entity_addr_t.sockaddr")?);
                sockaddr_from_parts(family, &data)?
            };
            Ok(EntityAddr { ty, nonce, addr })
        })
    }

    /// The address as the 28-byte Linux sockaddr union Ceph keeps in
    /// memory (family in host order, i.e. little-endian here).
    fn sockaddr_bytes(&self) -> [u8; SOCKADDR_UNION_LEN] {
        let (family, data, _) = sockaddr_parts(self.addr);
        let mut out = [0u8; SOCKADDR_UNION_LEN];
        out[..2].copy_from_slice(&family.to_le_bytes());
        out[2..].copy_from_slice(&data);
        out
    }

    /// The order Ceph gives `entity_addr_t` (a byte comparison of its
    /// in-memory layout on a little-endian host: type, nonce, then the
    /// sockaddr), which decides the order of encoded address maps and sets.
    pub fn order_key(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(36);
        key.extend_from_slice(&self.ty.code().to_le_bytes());
        key.extend_from_slice(&self.nonce.to_le_bytes());
        key.extend_from_slice(&self.sockaddr_bytes());
        key
    }

    fn encode_legacy(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.nonce.to_le_bytes());
        let (family, data, _) = sockaddr_parts(self.addr);
        let mut ss = [0u8; SOCKADDR_STORAGE_LEN];
        ss[..2].copy_from_slice(&family.to_be_bytes());
        ss[2..2 + data.len()].copy_from_slice(&data);
        out.extend_from_slice(&ss);
    }
}

/// Splits a socket address into the family, the bytes after the family in
/// a Linux `sockaddr` (port and address in network order) and the length of
/// the whole `sockaddr` Ceph sends (16 for IPv4, 28 otherwise).
fn sockaddr_parts(addr: Option<SocketAddr>) -> (u16, [u8; SOCKADDR_UNION_LEN - 2], usize) {
    let mut data = [0u8; SOCKADDR_UNION_LEN - 2];
    match addr {
        None => (AF_UNSPEC, data, SOCKADDR_UNION_LEN),
        Some(SocketAddr::V4(a)) => {
            data[0..2].copy_from_slice(&a.port().to_be_bytes());
            data[2..6].copy_from_slice(&a.ip().octets());
            (AF_INET, data, SOCKADDR_IN_LEN)
        }
        Some(SocketAddr::V6(a)) => {
            data[0..2].copy_from_slice(&a.port().to_be_bytes());
            data[2..6].copy_from_slice(&a.flowinfo().to_be_bytes());
            data[6..22].copy_from_slice(&a.ip().octets());
            data[22..26].copy_from_slice(&a.scope_id().to_le_bytes());
            (AF_INET6, data, SOCKADDR_UNION_LEN)
        }
    }
}

/// The inverse of [`sockaddr_parts`]; `data` holds at least 26 bytes.
fn sockaddr_from_parts(family: u16, data: &[u8]) -> Result<Option<SocketAddr>> {
    let be16 = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
    let b4 = |i: usize| [data[i], data[i + 1], data[i + 2], data[i + 3]];
    match family {
        AF_UNSPEC => Ok(None),
        AF_INET => {
            let ip = Ipv4Addr::from(b4(2));
            Ok(Some(SocketAddr::V4(SocketAddrV4::new(ip, be16(0)))))
        }
        AF_INET6 => {
            let mut ip = [0u8; 16];
            ip.copy_from_slice(&data[6..22]);
            Ok(Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                be16(0),
                u32::from_be_bytes(b4(2)),
                u32::from_le_bytes(b4(22)),
            ))))
        }
        other => Err(DecodeError::invalid(
            "entity_addr_t",
            format!("unsupported address family {other}"),
        )),
    }
}

impl Decode for EntityAddr {
    /// Accepts both encodings: the first byte is 0 for the legacy one and
    /// 1 for the versioned one.
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        match d.u8("entity_addr_t marker")? {
            0 => Self::decode_legacy_after_marker(d),
            1 => Self::decode_v1_body(d),
            m => Err(DecodeError::invalid(
                "entity_addr_t",
                format!("marker {m} is not 0 or 1"),
            )),
        }
    }
}

impl Encode for EntityAddr {
    /// Without `MSG_ADDR2` in `features` writes the legacy form (which
    /// cannot carry the type); otherwise the versioned form. A peer older
    /// than Nautilus does not know `any`, so it is sent to it as `v1`.
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        if features & CEPH_FEATURE_MSG_ADDR2 == 0 {
            self.encode_legacy(out);
            return;
        }
        out.push(1);
        encode_envelope(out, 1, 1, |out| {
            let ty = if self.ty == EntityAddrType::Any
                && !has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS)
            {
                EntityAddrType::Legacy
            } else {
                self.ty
            };
            out.extend_from_slice(&ty.code().to_le_bytes());
            out.extend_from_slice(&self.nonce.to_le_bytes());
            let (family, data, len) = sockaddr_parts(self.addr);
            out.extend_from_slice(&(len as u32).to_le_bytes());
            out.extend_from_slice(&family.to_le_bytes());
            out.extend_from_slice(&data[..len - 2]);
        });
    }
}

/// Prints a socket address as Ceph does: `1.2.3.4:80`, `[::1]:80`.
struct SockAddrText(Option<SocketAddr>);

impl fmt::Display for SockAddrText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(SocketAddr::V4(a)) => write!(f, "{}:{}", a.ip(), a.port()),
            Some(SocketAddr::V6(a)) => write!(f, "[{}]:{}", a.ip(), a.port()),
            None => write!(f, "(unrecognized address family {AF_UNSPEC})"),
        }
    }
}

impl fmt::Display for EntityAddr {
    /// `-` for no address, `TYPE:IP:PORT/NONCE` otherwise, with no prefix
    /// for type `any`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ty {
            EntityAddrType::None => f.write_str("-"),
            EntityAddrType::Any => write!(f, "{}/{}", SockAddrText(self.addr), self.nonce),
            ty => write!(f, "{}:{}/{}", ty, SockAddrText(self.addr), self.nonce),
        }
    }
}

impl FromStr for EntityAddr {
    type Err = ParseError;

    /// Parses what [`Display`](fmt::Display) prints. An address without a
    /// prefix is type `any`, which is how `any` addresses print.
    fn from_str(s: &str) -> std::result::Result<Self, ParseError> {
        Self::parse_with_default(s, EntityAddrType::Any)
    }
}

/// Reads leading decimal digits (possibly none, which reads as 0, as C's
/// `atoi` does). Returns the value and the rest, or `None` on overflow.
fn leading_number(s: &str) -> Option<(u64, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n = if end == 0 {
        0
    } else {
        s[..end].parse::<u64>().ok()?
    };
    Some((n, &s[end..]))
}

/// Parses one address at the start of `s`, following Ceph's grammar:
/// `[v1:|v2:|any:]` then an IPv4 or (optionally bracketed) IPv6 address,
/// optional `:PORT` and `/NONCE`; or a lone `-` (no address). Returns the
/// address and the unparsed rest.
fn parse_addr_prefix(s: &str, default_ty: EntityAddrType) -> Option<(EntityAddr, &str)> {
    let (ty, mut p) = if let Some(r) = s.strip_prefix("v1:") {
        (EntityAddrType::Legacy, r)
    } else if let Some(r) = s.strip_prefix("v2:") {
        (EntityAddrType::Msgr2, r)
    } else if let Some(r) = s.strip_prefix("any:") {
        (EntityAddrType::Any, r)
    } else if let Some(r) = s.strip_prefix('-') {
        return Some((EntityAddr::default(), r));
    } else {
        (default_ty, s)
    };
    let brackets = if let Some(r) = p.strip_prefix('[') {
        p = r;
        true
    } else {
        false
    };
    let v4_end = p
        .find(|c: char| !(c == '.' || c.is_ascii_digit()))
        .unwrap_or(p.len());
    let v6_end = p
        .find(|c: char| !(c == ':' || c.is_ascii_hexdigit()))
        .unwrap_or(p.len());
    let ip: IpAddr = if let Ok(a) = p[..v4_end].parse::<Ipv4Addr>() {
        p = &p[v4_end..];
        a.into()
    } else if let Ok(a) = p[..v6_end].parse::<Ipv6Addr>() {
        p = &p[v6_end..];
        a.into()
    } else {
        return None;
    };
    if brackets {
        p = p.strip_prefix(']')?;
    }
    let mut port = 0u16;
    if let Some(r) = p.strip_prefix(':') {
        let (n, r) = leading_number(r)?;
        port = u16::try_from(n).ok()?;
        p = r;
    }
    let mut nonce = 0u32;
    if let Some(r) = p.strip_prefix('/') {
        let (n, r) = leading_number(r)?;
        nonce = u32::try_from(n).ok()?;
        p = r;
    }
    Some((EntityAddr::new(ty, SocketAddr::new(ip, port), nonce), p))
}

/// All the addresses of one entity (Ceph's `entity_addrvec_t`), typically
/// `[v2:IP:3300/0, v1:IP:6789/0]` for a monitor.
///
/// ```
/// use ceph_types::EntityAddrVec;
/// let v: EntityAddrVec = "[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]".parse().unwrap();
/// assert_eq!(v.v2().unwrap().addr.unwrap().port(), 3300);
/// assert_eq!(v.legacy().unwrap().addr.unwrap().port(), 6789);
/// assert_eq!(v.to_string(), "[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct EntityAddrVec {
    /// The addresses, in the order the entity lists them (msgr2 first, by custom).
    pub addrs: Vec<EntityAddr>,
}

impl EntityAddrVec {
    /// A vector of the given addresses, kept in that order.
    pub fn new(addrs: Vec<EntityAddr>) -> Self {
        EntityAddrVec { addrs }
    }

    /// The first address of the given type.
    pub fn of_type(&self, ty: EntityAddrType) -> Option<&EntityAddr> {
        self.addrs.iter().find(|a| a.ty == ty)
    }

    /// The first msgr2 address.
    pub fn v2(&self) -> Option<&EntityAddr> {
        self.of_type(EntityAddrType::Msgr2)
    }

    /// The first msgr1 address (same as [`legacy`](Self::legacy)).
    pub fn v1(&self) -> Option<&EntityAddr> {
        self.legacy()
    }

    /// The first msgr1 (`TYPE_LEGACY`) address.
    pub fn legacy(&self) -> Option<&EntityAddr> {
        self.of_type(EntityAddrType::Legacy)
    }

    /// The first address, if any.
    pub fn front(&self) -> Option<&EntityAddr> {
        self.addrs.first()
    }

    /// The msgr1 address, else the first one, else a blank address (Ceph's
    /// `legacy_or_front_addr`).
    pub fn legacy_or_front(&self) -> EntityAddr {
        self.legacy().or(self.front()).copied().unwrap_or_default()
    }

    /// Whether the vector holds no address.
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }
}

impl From<EntityAddr> for EntityAddrVec {
    fn from(a: EntityAddr) -> Self {
        EntityAddrVec { addrs: vec![a] }
    }
}

impl Decode for EntityAddrVec {
    /// Marker 2 is a list; markers 0 and 1 are one `entity_addr_t` in the
    /// legacy or the versioned form, as older peers send.
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let addrs = match d.u8("entity_addrvec_t marker")? {
            0 => vec![EntityAddr::decode_legacy_after_marker(d)?],
            1 => vec![EntityAddr::decode_v1_body(d)?],
            2 => Vec::<EntityAddr>::decode(d)?,
            m => {
                return Err(DecodeError::invalid(
                    "entity_addrvec_t",
                    format!("marker {m} is greater than 2"),
                ))
            }
        };
        Ok(EntityAddrVec { addrs })
    }
}

impl Encode for EntityAddrVec {
    /// Without `MSG_ADDR2` in `features` only the msgr1 address (or a blank
    /// one) is sent, in the legacy form, as Ceph does.
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        if features & CEPH_FEATURE_MSG_ADDR2 == 0 {
            self.legacy().copied().unwrap_or_default().encode(out, 0);
            return;
        }
        out.push(2);
        self.addrs.encode(out, features);
    }
}

/// `{"addrvec": [{"type": "v2", "addr": "ip:port", "nonce": n}, ..]}`.
pub fn addrvec_json(v: &EntityAddrVec) -> Value {
    let list: Vec<Value> = v
        .addrs
        .iter()
        .map(|a| {
            let text = a.to_string();
            // "v2:1.2.3.4:6800/123" → "1.2.3.4:6800"
            let addr = text
                .split_once(':')
                .map_or(text.as_str(), |(_, r)| r)
                .rsplit_once('/')
                .map_or("", |(l, _)| l)
                .to_string();
            json!({"type": a.ty.as_str(), "addr": addr, "nonce": a.nonce})
        })
        .collect();
    json!({ "addrvec": list })
}

impl fmt::Display for EntityAddrVec {
    /// Nothing when empty, the address alone when there is one, else
    /// `[a,b,...]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addrs.as_slice() {
            [] => Ok(()),
            [one] => write!(f, "{one}"),
            many => {
                f.write_str("[")?;
                for (i, a) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl FromStr for EntityAddrVec {
    type Err = ParseError;

    /// Parses `[ADDR,ADDR,...]` or a single address (Ceph's grammar: a
    /// leading `[` that starts a bracketed IPv6 address is not a list).
    fn from_str(s: &str) -> std::result::Result<Self, ParseError> {
        let err = |why: &str| ParseError::new("address vector", s, why.to_string());
        let is_list = s.starts_with('[')
            && !matches!(parse_addr_prefix(s, EntityAddrType::Any), Some((a, _)) if matches!(a.addr, Some(SocketAddr::V6(_))));
        if !is_list {
            return EntityAddr::from_str(s).map(EntityAddrVec::from);
        }
        let mut rest = &s[1..];
        let mut addrs = Vec::new();
        loop {
            let (a, r) = parse_addr_prefix(rest, EntityAddrType::Any)
                .ok_or_else(|| err("bad address in list"))?;
            addrs.push(a);
            if let Some(r) = r.strip_prefix(',') {
                rest = r;
            } else if r == "]" {
                return Ok(EntityAddrVec { addrs });
            } else {
                return Err(err("expected ',' or a final ']'"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::CLIENT_FEATURES_ALL;

    fn a(s: &str) -> EntityAddr {
        s.parse().unwrap()
    }

    #[test]
    fn text_forms_round_trip() {
        for s in [
            "v2:127.0.0.1:3300/0",
            "v1:127.0.0.1:6789/0",
            "127.0.0.1:0/1234",
            "v2:[::1]:3300/7",
            "-",
        ] {
            assert_eq!(a(s).to_string(), s);
        }
        assert_eq!(a("127.0.0.1:0/1234").ty, EntityAddrType::Any);
        assert_eq!(
            EntityAddr::parse_with_default("10.0.0.1", EntityAddrType::Msgr2)
                .unwrap()
                .to_string(),
            "v2:10.0.0.1:0/0"
        );
        assert!("v2:127.0.0.1:70000/0".parse::<EntityAddr>().is_err());
        assert!("v2:nohost:1/0".parse::<EntityAddr>().is_err());
        assert!("v2:127.0.0.1:1/0x".parse::<EntityAddr>().is_err());
    }

    #[test]
    fn vec_text_forms() {
        let v: EntityAddrVec = "[v2:1.2.3.4:3300/0,v1:1.2.3.4:6789/0]".parse().unwrap();
        assert_eq!(v.addrs.len(), 2);
        assert_eq!(v.v1().unwrap().to_string(), "v1:1.2.3.4:6789/0");
        // A bracketed IPv6 address is one address, not a list.
        let v6: EntityAddrVec = "[::1]:6789/0".parse().unwrap();
        assert_eq!(v6.addrs.len(), 1);
        assert_eq!(v6.to_string(), "[::1]:6789/0");
        assert!("[v2:1.2.3.4:3300/0".parse::<EntityAddrVec>().is_err());
    }

    #[test]
    fn encodings_by_feature() {
        let x = a("v2:127.0.0.1:3300/5");
        let new = x.to_bytes(CLIENT_FEATURES_ALL);
        assert_eq!(new[0], 1);
        assert_eq!(new.len(), 1 + 6 + 12 + 16);
        // family is little-endian in the new form, port big-endian.
        assert_eq!(&new[19..23], &[2, 0, 0x0c, 0xe4]);
        assert_eq!(EntityAddr::decode_all(&new).unwrap(), x);

        let old = x.to_bytes(0);
        assert_eq!(old.len(), 4 + 4 + 128);
        assert_eq!(&old[8..12], &[0, 2, 0x0c, 0xe4]);
        let back = EntityAddr::decode_all(&old).unwrap();
        assert_eq!(
            (back.ty, back.nonce, back.addr),
            (EntityAddrType::Legacy, 5, x.addr)
        );

        // Without Nautilus, "any" goes out as v1.
        let any = a("127.0.0.1:0/9");
        let pre_nautilus = any.to_bytes(CEPH_FEATURE_MSG_ADDR2);
        assert_eq!(
            EntityAddr::decode_all(&pre_nautilus).unwrap().ty,
            EntityAddrType::Legacy
        );
    }

    #[test]
    fn ipv6_round_trips_both_forms() {
        let x = EntityAddr::new(
            EntityAddrType::Msgr2,
            SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 3300, 7, 3)),
            1,
        );
        assert_eq!(
            EntityAddr::decode_all(&x.to_bytes(CLIENT_FEATURES_ALL)).unwrap(),
            x
        );
        assert_eq!(EntityAddr::decode_all(&x.to_bytes(0)).unwrap().addr, x.addr);
    }

    #[test]
    fn addrvec_without_addr2_sends_the_v1_address() {
        let v: EntityAddrVec = "[v2:1.2.3.4:3300/0,v1:1.2.3.4:6789/0]".parse().unwrap();
        let old = v.to_bytes(0);
        let back = EntityAddrVec::decode_all(&old).unwrap();
        assert_eq!(back.addrs.len(), 1);
        assert_eq!(back.addrs[0].to_string(), "v1:1.2.3.4:6789/0");
        assert_eq!(
            EntityAddrVec::decode_all(&v.to_bytes(CLIENT_FEATURES_ALL)).unwrap(),
            v
        );
        // Marker 1: one versioned address.
        let single = v.addrs[0].to_bytes(CLIENT_FEATURES_ALL);
        assert_eq!(
            EntityAddrVec::decode_all(&single).unwrap().addrs,
            vec![v.addrs[0]]
        );
    }

    #[test]
    fn hostile_inputs_are_errors() {
        assert!(EntityAddr::decode_all(&[7]).is_err());
        assert!(EntityAddrVec::decode_all(&[3]).is_err());
        // sockaddr length 1 (< family size), and too long for IPv4.
        let mut b = vec![1, 1, 1, 13, 0, 0, 0];
        b.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert!(EntityAddr::decode_all(&b).is_err());
        let x = a("v2:1.2.3.4:1/0").to_bytes(CLIENT_FEATURES_ALL);
        let mut long = x.clone();
        long[15] = 17; // elen 17 > sizeof(sockaddr_in)
        assert!(EntityAddr::decode_all(&long).is_err());
    }
}
