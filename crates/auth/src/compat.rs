//! Temporary stand-ins for ceph-types' `UTime` and `EntityName`.

use ceph_denc::{Decode, Decoder, Encode};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UTime {
    pub sec: u32,
    pub nsec: u32,
}
impl Decode for UTime {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        Ok(UTime {
            sec: d.u32("utime.sec")?,
            nsec: d.u32("utime.nsec")?,
        })
    }
}
impl Encode for UTime {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        self.sec.encode(out, f);
        self.nsec.encode(out, f);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityName {
    pub entity_type: u32,
    pub id: String,
}
impl Decode for EntityName {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        Ok(EntityName {
            entity_type: d.u32("EntityName.type")?,
            id: String::decode(d)?,
        })
    }
}
impl Encode for EntityName {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        self.entity_type.encode(out, f);
        self.id.encode(out, f);
    }
}
impl EntityName {
    pub fn parse(s: &str) -> Option<Self> {
        let (t, id) = s.split_once('.')?;
        let entity_type = match t {
            "mon" => 1,
            "mds" => 2,
            "osd" => 4,
            "client" => 8,
            "mgr" => 0x10,
            "auth" => 0x20,
            _ => return None,
        };
        Some(EntityName {
            entity_type,
            id: id.to_string(),
        })
    }
}
impl std::fmt::Display for EntityName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = match self.entity_type {
            1 => "mon",
            2 => "mds",
            4 => "osd",
            8 => "client",
            0x10 => "mgr",
            0x20 => "auth",
            _ => "unknown",
        };
        write!(f, "{t}.{}", self.id)
    }
}
