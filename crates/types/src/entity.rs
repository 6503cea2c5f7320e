//! Entity names: who a message is from ([`EntityNameT`], numbered) and who
//! an auth identity is ([`EntityName`], named, e.g. `client.admin`).

use std::fmt;
use std::str::FromStr;

use ceph_denc::{Decode, Decoder, Encode, Result};

use crate::addr::EntityAddr;
use crate::ParseError;

/// The kind of a Ceph entity (`CEPH_ENTITY_TYPE_*`). Unknown codes are kept
/// in [`EntityType::Other`] so that decoding never loses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityType {
    /// A monitor.
    Mon,
    /// A metadata server.
    Mds,
    /// An OSD.
    Osd,
    /// A client.
    Client,
    /// A manager.
    Mgr,
    /// The auth service (inside the monitors).
    Auth,
    /// A code this crate has no name for.
    Other(u32),
}

impl EntityType {
    /// The wire code (mon=1, mds=2, osd=4, client=8, mgr=0x10, auth=0x20).
    pub const fn code(self) -> u32 {
        match self {
            EntityType::Mon => 0x01,
            EntityType::Mds => 0x02,
            EntityType::Osd => 0x04,
            EntityType::Client => 0x08,
            EntityType::Mgr => 0x10,
            EntityType::Auth => 0x20,
            EntityType::Other(c) => c,
        }
    }

    /// The type for a wire code; never fails.
    pub const fn from_code(code: u32) -> Self {
        match code {
            0x01 => EntityType::Mon,
            0x02 => EntityType::Mds,
            0x04 => EntityType::Osd,
            0x08 => EntityType::Client,
            0x10 => EntityType::Mgr,
            0x20 => EntityType::Auth,
            c => EntityType::Other(c),
        }
    }

    /// The name Ceph prints ("mon", "client", ...), "???" for unknown codes.
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityType::Mon => "mon",
            EntityType::Mds => "mds",
            EntityType::Osd => "osd",
            EntityType::Client => "client",
            EntityType::Mgr => "mgr",
            EntityType::Auth => "auth",
            EntityType::Other(_) => "???",
        }
    }

    /// The type with this name, if it has one.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "mon" => EntityType::Mon,
            "mds" => EntityType::Mds,
            "osd" => EntityType::Osd,
            "client" => EntityType::Client,
            "mgr" => EntityType::Mgr,
            "auth" => EntityType::Auth,
            _ => return None,
        })
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authentication identity (Ceph's `EntityName`): a type and a free-form
/// id, written `type.id`. On the wire: `u32` type code, then the id string.
///
/// ```
/// use ceph_types::{EntityName, EntityType};
/// let n: EntityName = "client.admin".parse().unwrap();
/// assert_eq!(n.ty, EntityType::Client);
/// assert_eq!(n.id, "admin");
/// assert_eq!(n.to_string(), "client.admin");
/// assert!("admin".parse::<EntityName>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityName {
    /// The entity type.
    pub ty: EntityType,
    /// The id after the dot (`admin` in `client.admin`).
    pub id: String,
}

impl EntityName {
    /// The entity `ty.id`.
    pub fn new(ty: EntityType, id: impl Into<String>) -> Self {
        EntityName { ty, id: id.into() }
    }
}

impl fmt::Display for EntityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.ty, self.id)
    }
}

impl FromStr for EntityName {
    type Err = ParseError;

    /// Splits at the first '.'; the id may be empty or contain dots.
    fn from_str(s: &str) -> std::result::Result<Self, ParseError> {
        let (ty, id) = s
            .split_once('.')
            .ok_or_else(|| ParseError::new("entity name", s, "expected TYPE.ID (no '.')"))?;
        let ty = EntityType::from_name(ty).ok_or_else(|| {
            ParseError::new(
                "entity name",
                s,
                format!("unknown entity type {ty:?} (expected mon, mds, osd, client, mgr or auth)"),
            )
        })?;
        Ok(EntityName::new(ty, id))
    }
}

impl Decode for EntityName {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let ty = EntityType::from_code(d.u32("EntityName.type")?);
        let id = String::decode(d)?;
        Ok(EntityName { ty, id })
    }
}

impl Encode for EntityName {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        self.ty.code().encode(out, features);
        self.id.encode(out, features);
    }
}

/// A numbered entity (Ceph's `entity_name_t`), e.g. `client.4123` or `mon.0`.
/// On the wire: `u8` type code, then `i64` number. A negative number means
/// "not yet assigned" and prints as `?`.
///
/// ```
/// use ceph_types::{EntityNameT, EntityType};
/// assert_eq!(EntityNameT::new(EntityType::Client, 4123).to_string(), "client.4123");
/// assert_eq!(EntityNameT::new(EntityType::Client, -1).to_string(), "client.?");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityNameT {
    /// The entity type.
    pub ty: EntityType,
    /// The number (a rank or a global id).
    pub num: i64,
}

impl EntityNameT {
    /// The number a client has before the monitor assigns its global id.
    pub const NEW: i64 = -1;

    /// The entity `ty.num`.
    pub const fn new(ty: EntityType, num: i64) -> Self {
        EntityNameT { ty, num }
    }
}

impl fmt::Display for EntityNameT {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.num < 0 {
            write!(f, "{}.?", self.ty)
        } else {
            write!(f, "{}.{}", self.ty, self.num)
        }
    }
}

impl FromStr for EntityNameT {
    type Err = ParseError;

    fn from_str(s: &str) -> std::result::Result<Self, ParseError> {
        let (ty, num) = s
            .split_once('.')
            .ok_or_else(|| ParseError::new("entity_name_t", s, "expected TYPE.NUM (no '.')"))?;
        let ty = EntityType::from_name(ty).ok_or_else(|| {
            ParseError::new("entity_name_t", s, format!("unknown entity type {ty:?}"))
        })?;
        let num = num
            .parse::<i64>()
            .map_err(|e| ParseError::new("entity_name_t", s, format!("bad number: {e}")))?;
        Ok(EntityNameT { ty, num })
    }
}

impl Decode for EntityNameT {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let ty = EntityType::from_code(u32::from(d.u8("entity_name_t.type")?));
        let num = d.i64("entity_name_t.num")?;
        Ok(EntityNameT { ty, num })
    }
}

impl Encode for EntityNameT {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        // The wire type is one byte; codes above 0xff cannot be decoded from
        // it, so truncation only affects values built by hand.
        out.push(self.ty.code() as u8);
        out.extend_from_slice(&self.num.to_le_bytes());
    }
}

/// A numbered entity at an address (Ceph's `entity_inst_t`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityInst {
    /// Who.
    pub name: EntityNameT,
    /// Where.
    pub addr: EntityAddr,
}

impl fmt::Display for EntityInst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.addr)
    }
}

impl Decode for EntityInst {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(EntityInst {
            name: EntityNameT::decode(d)?,
            addr: EntityAddr::decode(d)?,
        })
    }
}

impl Encode for EntityInst {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        self.name.encode(out, features);
        self.addr.encode(out, features);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_name_parse_errors_say_what_is_wrong() {
        let no_dot = "admin".parse::<EntityName>().unwrap_err();
        assert!(no_dot.to_string().contains("no '.'"), "{no_dot}");
        let bad_type = "user.admin".parse::<EntityName>().unwrap_err();
        assert!(
            bad_type
                .to_string()
                .contains("unknown entity type \"user\""),
            "{bad_type}"
        );
        // The id may itself contain dots; only the first one splits.
        let n: EntityName = "client.rgw.host1".parse().unwrap();
        assert_eq!((n.ty, n.id.as_str()), (EntityType::Client, "rgw.host1"));
    }

    #[test]
    fn entity_name_wire_form() {
        let n = EntityName::new(EntityType::Mgr, "x");
        assert_eq!(n.to_bytes(0), [0x10, 0, 0, 0, 1, 0, 0, 0, b'x']);
        assert_eq!(EntityName::decode_all(&n.to_bytes(0)).unwrap(), n);
        // Unknown type codes survive a round trip.
        let odd = EntityName::decode_all(&[0x40, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!(odd.ty, EntityType::Other(0x40));
        assert_eq!(odd.to_bytes(0)[0], 0x40);
    }

    #[test]
    fn entity_name_t_text_and_wire() {
        let n: EntityNameT = "osd.12".parse().unwrap();
        assert_eq!(n, EntityNameT::new(EntityType::Osd, 12));
        assert_eq!(n.to_bytes(0), [4, 12, 0, 0, 0, 0, 0, 0, 0]);
        assert!("osd.x".parse::<EntityNameT>().is_err());
        assert!("12".parse::<EntityNameT>().is_err());
    }

    #[test]
    fn type_codes_and_names_agree() {
        for ty in [
            EntityType::Mon,
            EntityType::Mds,
            EntityType::Osd,
            EntityType::Client,
            EntityType::Mgr,
            EntityType::Auth,
        ] {
            assert_eq!(EntityType::from_code(ty.code()), ty);
            assert_eq!(EntityType::from_name(ty.as_str()), Some(ty));
        }
    }
}
