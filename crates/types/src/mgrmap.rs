//! The manager map (`MgrMap`): which ceph-mgr daemon is active, its
//! standbys, the modules they offer and the services those modules expose.
//!
//! Every version from 1 up to 14 (Tentacle) decodes; newer versions keep
//! the fields this crate does not know as raw bytes, so re-encoding gives
//! back the same bytes.
//!
//! ```
//! use ceph_denc::{Decode, Encode};
//! use ceph_types::features::CLIENT_FEATURES_ALL;
//! use ceph_types::MgrMap;
//!
//! let mut map = MgrMap::default();
//! map.epoch = 3;
//! map.modules.insert("balancer".into());
//! let bytes = map.to_bytes(CLIENT_FEATURES_ALL);
//! let back = MgrMap::decode_all(&bytes).unwrap();
//! assert_eq!(back.modules, map.modules);
//! assert_eq!(back.to_json()["epoch"], 3);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use ceph_denc::{encode_envelope, rest, Decode, Decoder, Encode, Result};
use serde_json::{json, Map, Value};

use crate::addr::addrvec_json;
use crate::features::{has_feature, CEPH_FEATUREMASK_SERVER_NAUTILUS};
use crate::monmap::release_name;
use crate::time::ceph_stamp;
use crate::{EntityAddrVec, UTime};

/// Versions written back: the decoded one when it is at least ours (so a
/// kept unknown tail still belongs to it), else ours.
fn version_to_write(decoded: u8, ours: u8) -> u8 {
    decoded.max(ours)
}

/// One option a manager module declares (`MgrMap::ModuleOption`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleOption {
    /// The option's name.
    pub name: String,
    /// Ceph's `Option::type_t` (0 uint, 1 int, 2 str, ...).
    pub ty: u8,
    /// Ceph's `Option::level_t` (0 basic, 1 advanced, 2 dev).
    pub level: u8,
    /// Ceph's `Option::flag_t` bits.
    pub flags: u32,
    /// Its default, as text.
    pub default_value: String,
    /// Lowest allowed value, as text (empty: none).
    pub min: String,
    /// Highest allowed value, as text (empty: none).
    pub max: String,
    /// The values allowed, for enum-like options.
    pub enum_allowed: BTreeSet<String>,
    /// One-line description.
    pub desc: String,
    /// Longer description.
    pub long_desc: String,
    /// Free-form tags.
    pub tags: BTreeSet<String>,
    /// Related options.
    pub see_also: BTreeSet<String>,
    /// The version it was decoded from.
    pub struct_v: u8,
    /// Fields of a newer version, as raw bytes.
    pub unknown: Vec<u8>,
}

impl Default for ModuleOption {
    fn default() -> Self {
        ModuleOption {
            name: String::new(),
            ty: 2,
            level: 1,
            flags: 0,
            default_value: String::new(),
            min: String::new(),
            max: String::new(),
            enum_allowed: BTreeSet::new(),
            desc: String::new(),
            long_desc: String::new(),
            tags: BTreeSet::new(),
            see_also: BTreeSet::new(),
            struct_v: Self::VERSION,
            unknown: Vec::new(),
        }
    }
}

/// The name Ceph's `Option::type_to_str` gives an option type.
pub fn option_type_name(ty: u8) -> &'static str {
    const NAMES: &[&str] = &[
        "uint",
        "int",
        "str",
        "float",
        "bool",
        "addr",
        "addrvec",
        "uuid",
        "size",
        "secs",
        "millisecs",
    ];
    NAMES.get(usize::from(ty)).copied().unwrap_or("unknown")
}

/// The name Ceph's `Option::level_to_str` gives an option level.
pub fn option_level_name(level: u8) -> &'static str {
    match level {
        0 => "basic",
        1 => "advanced",
        2 => "dev",
        _ => "unknown",
    }
}

impl ModuleOption {
    /// The version this crate writes.
    pub const VERSION: u8 = 1;

    /// The JSON Ceph dumps for a module option.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": option_type_name(self.ty),
            "level": option_level_name(self.level),
            "flags": self.flags,
            "default_value": self.default_value,
            "min": self.min,
            "max": self.max,
            "enum_allowed": self.enum_allowed,
            "desc": self.desc,
            "long_desc": self.long_desc,
            "tags": self.tags,
            "see_also": self.see_also,
        })
    }
}

impl Decode for ModuleOption {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.envelope("MgrMap::ModuleOption", Self::VERSION, |d, v| {
            Ok(ModuleOption {
                name: String::decode(d)?,
                ty: d.u8("option type")?,
                level: d.u8("option level")?,
                flags: d.u32("option flags")?,
                default_value: String::decode(d)?,
                min: String::decode(d)?,
                max: String::decode(d)?,
                enum_allowed: BTreeSet::decode(d)?,
                desc: String::decode(d)?,
                long_desc: String::decode(d)?,
                tags: BTreeSet::decode(d)?,
                see_also: BTreeSet::decode(d)?,
                struct_v: v,
                unknown: rest(d, "unknown fields")?,
            })
        })
    }
}

impl Encode for ModuleOption {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        let v = version_to_write(self.struct_v, Self::VERSION);
        encode_envelope(out, v, 1, |o| {
            self.name.encode(o, f);
            o.push(self.ty);
            o.push(self.level);
            self.flags.encode(o, f);
            self.default_value.encode(o, f);
            self.min.encode(o, f);
            self.max.encode(o, f);
            self.enum_allowed.encode(o, f);
            self.desc.encode(o, f);
            self.long_desc.encode(o, f);
            self.tags.encode(o, f);
            self.see_also.encode(o, f);
            o.extend_from_slice(&self.unknown);
        });
    }
}

/// A module a manager daemon reports it has (`MgrMap::ModuleInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// The module's name.
    pub name: String,
    /// Whether its dependencies are met on the daemon.
    pub can_run: bool,
    /// Why it cannot run, when it cannot.
    pub error_string: String,
    /// Its options by name (version 2 and later).
    pub module_options: BTreeMap<String, ModuleOption>,
    /// The version it was decoded from.
    pub struct_v: u8,
    /// Fields of a newer version, as raw bytes.
    pub unknown: Vec<u8>,
}

impl ModuleInfo {
    /// The version this crate writes.
    pub const VERSION: u8 = 2;

    /// A module known only by name (what maps before version 4 carry).
    pub fn named(name: String) -> Self {
        ModuleInfo {
            name,
            can_run: true,
            error_string: String::new(),
            module_options: BTreeMap::new(),
            struct_v: Self::VERSION,
            unknown: Vec::new(),
        }
    }

    /// The JSON Ceph dumps for a module.
    pub fn to_json(&self) -> Value {
        let options: Map<String, Value> = self
            .module_options
            .iter()
            .map(|(k, o)| (k.clone(), o.to_json()))
            .collect();
        json!({
            "name": self.name,
            "can_run": self.can_run,
            "error_string": self.error_string,
            "module_options": options,
        })
    }
}

impl Decode for ModuleInfo {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.envelope("MgrMap::ModuleInfo", Self::VERSION, |d, v| {
            let name = String::decode(d)?;
            let can_run = d.bool("can_run")?;
            let error_string = String::decode(d)?;
            let module_options = if v >= 2 {
                BTreeMap::decode(d)?
            } else {
                BTreeMap::new()
            };
            Ok(ModuleInfo {
                name,
                can_run,
                error_string,
                module_options,
                struct_v: v,
                unknown: rest(d, "unknown fields")?,
            })
        })
    }
}

impl Encode for ModuleInfo {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        let v = version_to_write(self.struct_v, Self::VERSION);
        encode_envelope(out, v, 1, |o| {
            self.name.encode(o, f);
            o.push(u8::from(self.can_run));
            self.error_string.encode(o, f);
            self.module_options.encode(o, f);
            o.extend_from_slice(&self.unknown);
        });
    }
}

/// The names of some modules, sorted (the old name-only module lists).
fn module_names(modules: &[ModuleInfo]) -> BTreeSet<String> {
    modules.iter().map(|m| m.name.clone()).collect()
}

/// A standby manager daemon (`MgrMap::StandbyInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandbyInfo {
    /// The daemon's global id.
    pub gid: u64,
    /// Its name (the `foo` of `mgr.foo`).
    pub name: String,
    /// The modules it can run.
    pub available_modules: Vec<ModuleInfo>,
    /// Its feature bits.
    pub mgr_features: u64,
    /// The version it was decoded from.
    pub struct_v: u8,
    /// Fields of a newer version, as raw bytes.
    pub unknown: Vec<u8>,
}

impl StandbyInfo {
    /// The version this crate writes.
    pub const VERSION: u8 = 4;

    /// The JSON `mgr dump` prints for a standby.
    pub fn to_json(&self) -> Value {
        json!({
            "gid": self.gid,
            "name": self.name,
            "mgr_features": self.mgr_features,
            "available_modules": self.available_modules.iter().map(ModuleInfo::to_json).collect::<Vec<_>>(),
        })
    }
}

impl Decode for StandbyInfo {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.envelope("MgrMap::StandbyInfo", Self::VERSION, |d, v| {
            let gid = d.u64("standby gid")?;
            let name = String::decode(d)?;
            let mut available_modules = Vec::new();
            if v >= 2 {
                let names = BTreeSet::<String>::decode(d)?;
                if v < 3 {
                    available_modules = names.into_iter().map(ModuleInfo::named).collect();
                }
            }
            if v >= 3 {
                available_modules = Vec::decode(d)?;
            }
            let mgr_features = if v >= 4 { d.u64("mgr_features")? } else { 0 };
            Ok(StandbyInfo {
                gid,
                name,
                available_modules,
                mgr_features,
                struct_v: v,
                unknown: rest(d, "unknown fields")?,
            })
        })
    }
}

impl Encode for StandbyInfo {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        let v = version_to_write(self.struct_v, Self::VERSION);
        encode_envelope(out, v, 1, |o| {
            self.gid.encode(o, f);
            self.name.encode(o, f);
            module_names(&self.available_modules).encode(o, f);
            self.available_modules.encode(o, f);
            self.mgr_features.encode(o, f);
            o.extend_from_slice(&self.unknown);
        });
    }
}

/// The manager map.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MgrMap {
    /// The map's epoch.
    pub epoch: u32,
    /// The OSDMap epoch of the last blocklisting of a failed active mgr.
    pub last_failure_osd_epoch: u32,
    /// `FLAG_DOWN` (1) when the managers were taken down (version 13).
    pub flags: u64,
    /// The global id of the active daemon, 0 when none.
    pub active_gid: u64,
    /// The active daemon's addresses.
    pub active_addrs: EntityAddrVec,
    /// Whether the active daemon has started serving.
    pub available: bool,
    /// The `foo` of `mgr.foo`.
    pub active_name: String,
    /// When the active daemon became active (or the last one was lost).
    pub active_change: UTime,
    /// The active daemon's feature bits.
    pub active_mgr_features: u64,
    /// The active daemon's RADOS clients (to blocklist on failover), with
    /// the module that owns each (empty before version 12), in wire order.
    pub clients: Vec<(String, EntityAddrVec)>,
    /// Standbys by global id.
    pub standbys: BTreeMap<u64, StandbyInfo>,
    /// Enabled modules.
    pub modules: BTreeSet<String>,
    /// Modules always on, by release number.
    pub always_on_modules: BTreeMap<u32, BTreeSet<String>>,
    /// Always-on modules the user turned off (version 14).
    pub force_disabled_modules: BTreeSet<String>,
    /// Modules the active daemon has.
    pub available_modules: Vec<ModuleInfo>,
    /// Module name to URI of the services modules expose.
    pub services: BTreeMap<String, String>,
    /// The version it was decoded from (0 for a new map).
    pub struct_v: u8,
    /// Its compat version.
    pub compat_v: u8,
    /// Fields of a newer version, as raw bytes.
    pub unknown: Vec<u8>,
}

impl MgrMap {
    /// The newest version this crate knows (Tentacle's).
    pub const VERSION: u8 = 14;
    /// The oldest version a Nautilus-or-later encoding has.
    const OLDEST_MODERN: u8 = 11;

    /// The JSON of `ceph mgr dump -f json`. Fields of newer releases
    /// (`flags`, `force_disabled_modules`, the client names) are always
    /// included; Pacific leaves them out.
    pub fn to_json(&self) -> Value {
        // Ceph dumps this set as an object with one "module" key per entry
        // (repeated keys, which JSON maps cannot hold): empty is `{}`; a
        // non-empty set keeps its names under "module" as a list.
        let force_disabled = if self.force_disabled_modules.is_empty() {
            Value::Object(Map::new())
        } else {
            json!({ "module": self.force_disabled_modules })
        };
        let always_on: Map<String, Value> = self
            .always_on_modules
            .iter()
            .map(|(r, m)| {
                let name = u8::try_from(*r).map_or("unknown", release_name);
                (name.to_string(), json!(m))
            })
            .collect();
        let mut clients: Vec<&(String, EntityAddrVec)> = self.clients.iter().collect();
        // Ceph keeps them in a multimap ordered by name.
        clients.sort_by(|a, b| a.0.cmp(&b.0));
        let clients: Vec<Value> = clients
            .into_iter()
            .map(|(name, addrs)| {
                let mut c = addrvec_json(addrs);
                c["name"] = json!(name);
                c
            })
            .collect();
        json!({
            "epoch": self.epoch,
            "flags": self.flags,
            "active_gid": self.active_gid,
            "active_name": self.active_name,
            "active_addrs": addrvec_json(&self.active_addrs),
            "active_addr": self.active_addrs.legacy_or_front().legacy_str(),
            "active_change": ceph_stamp(&self.active_change),
            "active_mgr_features": self.active_mgr_features,
            "available": self.available,
            "standbys": self.standbys.values().map(StandbyInfo::to_json).collect::<Vec<_>>(),
            "modules": self.modules,
            "available_modules": self.available_modules.iter().map(ModuleInfo::to_json).collect::<Vec<_>>(),
            "services": self.services,
            "always_on_modules": always_on,
            "force_disabled_modules": force_disabled,
            "last_failure_osd_epoch": self.last_failure_osd_epoch,
            "active_clients": clients,
        })
    }

    fn decode_body(d: &mut Decoder<'_>, v: u8, compat_v: u8) -> Result<Self> {
        let mut m = MgrMap {
            struct_v: v,
            compat_v,
            epoch: d.u32("epoch")?,
            active_addrs: EntityAddrVec::decode(d)?,
            active_gid: d.u64("active_gid")?,
            available: d.bool("available")?,
            active_name: String::decode(d)?,
            standbys: BTreeMap::decode(d)?,
            ..MgrMap::default()
        };
        if v >= 2 {
            m.modules = BTreeSet::decode(d)?;
            if v < 6 {
                let names = BTreeSet::<String>::decode(d)?;
                if v < 4 {
                    m.available_modules = names.into_iter().map(ModuleInfo::named).collect();
                }
            }
        }
        if v >= 3 {
            m.services = BTreeMap::decode(d)?;
        }
        if v >= 4 {
            m.available_modules = Vec::decode(d)?;
        }
        if v >= 7 {
            m.active_change = UTime::decode(d)?;
        }
        if v >= 8 {
            m.always_on_modules = BTreeMap::decode(d)?;
        }
        if v >= 9 {
            m.active_mgr_features = d.u64("active_mgr_features")?;
        }
        if v >= 10 {
            m.last_failure_osd_epoch = d.u32("last_failure_osd_epoch")?;
        }
        if v >= 11 {
            let addrs = Vec::<EntityAddrVec>::decode(d)?;
            let names = if v >= 12 {
                let names = Vec::<String>::decode(d)?;
                if names.len() != addrs.len() {
                    return Err(ceph_denc::DecodeError::invalid(
                        "MgrMap clients",
                        format!("{} names for {} addresses", names.len(), addrs.len()),
                    ));
                }
                names
            } else {
                vec![String::new(); addrs.len()]
            };
            m.clients = names.into_iter().zip(addrs).collect();
        }
        if v >= 13 {
            m.flags = d.u64("flags")?;
        }
        if v >= 14 {
            m.force_disabled_modules = BTreeSet::decode(d)?;
        }
        m.unknown = rest(d, "unknown fields")?;
        Ok(m)
    }

    /// The pre-Nautilus encoding (version 5), for peers without
    /// SERVER_NAUTILUS.
    fn encode_legacy(&self, out: &mut Vec<u8>, f: u64) {
        encode_envelope(out, 5, 1, |o| {
            self.epoch.encode(o, f);
            self.active_addrs.legacy_or_front().encode(o, f);
            self.active_gid.encode(o, f);
            o.push(u8::from(self.available));
            self.active_name.encode(o, f);
            self.standbys.encode(o, f);
            self.modules.encode(o, f);
            module_names(&self.available_modules).encode(o, f);
            self.services.encode(o, f);
            self.available_modules.encode(o, f);
        });
    }
}

impl Decode for MgrMap {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        // The compat byte is read here to keep it for re-encoding; the
        // envelope check is the same as `Decoder::envelope`'s.
        let struct_v = d.u8("MgrMap version")?;
        let compat_v = d.u8("MgrMap compat")?;
        if compat_v > Self::VERSION {
            return Err(ceph_denc::DecodeError::TooNew {
                what: "MgrMap",
                compat: compat_v,
                supported: Self::VERSION,
            });
        }
        d.envelope_body("MgrMap", struct_v, |d, v| Self::decode_body(d, v, compat_v))
    }
}

impl Encode for MgrMap {
    /// Writes the version the map was decoded from when it is a modern one
    /// (11 to 14, or newer with its unknown fields), so Ceph's bytes come
    /// back unchanged; a new map is written at version 14.
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        if !has_feature(f, CEPH_FEATUREMASK_SERVER_NAUTILUS) {
            return self.encode_legacy(out, f);
        }
        let v = if self.struct_v >= Self::OLDEST_MODERN {
            self.struct_v
        } else {
            Self::VERSION
        };
        let compat = if self.struct_v >= Self::OLDEST_MODERN && self.compat_v != 0 {
            self.compat_v
        } else {
            6
        };
        encode_envelope(out, v, compat, |o| {
            self.epoch.encode(o, f);
            self.active_addrs.encode(o, f);
            self.active_gid.encode(o, f);
            o.push(u8::from(self.available));
            self.active_name.encode(o, f);
            self.standbys.encode(o, f);
            self.modules.encode(o, f);
            self.services.encode(o, f);
            self.available_modules.encode(o, f);
            self.active_change.encode(o, f);
            self.always_on_modules.encode(o, f);
            self.active_mgr_features.encode(o, f);
            self.last_failure_osd_epoch.encode(o, f);
            (self.clients.len() as u32).encode(o, f);
            for (_, addrs) in &self.clients {
                addrs.encode(o, f);
            }
            if v >= 12 {
                (self.clients.len() as u32).encode(o, f);
                for (name, _) in &self.clients {
                    name.encode(o, f);
                }
            }
            if v >= 13 {
                self.flags.encode(o, f);
            }
            if v >= 14 {
                self.force_disabled_modules.encode(o, f);
            }
            o.extend_from_slice(&self.unknown);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::CLIENT_FEATURES_ALL;

    fn sample() -> MgrMap {
        let mut opt = ModuleOption {
            name: "interval".into(),
            ty: 9,
            ..ModuleOption::default()
        };
        opt.tags.insert("t".into());
        let mut module = ModuleInfo::named("balancer".into());
        module.module_options.insert("interval".into(), opt);
        let mut map = MgrMap {
            epoch: 9,
            active_gid: 4100,
            active_name: "x".into(),
            available: true,
            active_change: UTime::new(1_700_000_000, 5_000),
            available_modules: vec![module.clone()],
            clients: vec![
                ("rbd_support".into(), "v2:10.0.0.1:0/7".parse().unwrap()),
                ("".into(), "v2:10.0.0.1:0/8".parse().unwrap()),
            ],
            flags: 1,
            ..MgrMap::default()
        };
        map.always_on_modules
            .insert(16, ["balancer".to_string()].into());
        map.standbys.insert(
            4200,
            StandbyInfo {
                gid: 4200,
                name: "y".into(),
                available_modules: vec![module],
                mgr_features: 7,
                struct_v: 4,
                unknown: vec![],
            },
        );
        map
    }

    #[test]
    fn new_map_round_trips_at_version_14() {
        let map = sample();
        let bytes = map.to_bytes(CLIENT_FEATURES_ALL);
        assert_eq!((bytes[0], bytes[1]), (14, 6));
        let back = MgrMap::decode_all(&bytes).unwrap();
        assert_eq!(
            MgrMap {
                struct_v: 0,
                compat_v: 0,
                ..back.clone()
            },
            map
        );
        assert_eq!(back.to_bytes(CLIENT_FEATURES_ALL), bytes);
    }

    #[test]
    fn version_11_has_unnamed_clients_and_no_flags() {
        let mut map = sample();
        map.struct_v = 11;
        let back = MgrMap::decode_all(&map.to_bytes(CLIENT_FEATURES_ALL)).unwrap();
        assert_eq!(back.struct_v, 11);
        assert_eq!(back.flags, 0);
        assert!(back.clients.iter().all(|(n, _)| n.is_empty()));
        assert_eq!(back.clients.len(), 2);
    }

    #[test]
    fn legacy_encoding_for_pre_nautilus_peers() {
        let map = sample();
        let bytes = map.to_bytes(0);
        assert_eq!(bytes[0], 5);
        let back = MgrMap::decode_all(&bytes).unwrap();
        assert_eq!(back.available_modules, map.available_modules);
        assert_eq!(back.standbys, map.standbys);
        assert_eq!(back.active_change, UTime::default());
    }

    #[test]
    fn newer_fields_survive_as_raw_bytes() {
        let map = sample();
        let mut bytes = map.to_bytes(CLIENT_FEATURES_ALL);
        // Pretend a version 15 appended four bytes.
        bytes[0] = 15;
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        let len = u32::from_le_bytes(bytes[2..6].try_into().unwrap()) + 4;
        bytes[2..6].copy_from_slice(&len.to_le_bytes());
        let back = MgrMap::decode_all(&bytes).unwrap();
        assert_eq!(back.unknown, [1, 2, 3, 4]);
        assert_eq!(back.to_bytes(CLIENT_FEATURES_ALL), bytes);
    }

    #[test]
    fn client_names_must_match_addresses() {
        let mut map = sample();
        map.struct_v = 12;
        let good = map.to_bytes(CLIENT_FEATURES_ALL);
        // Splice: the two addresses of `good` with the one name of `one`.
        let names_one = {
            let mut v = Vec::new();
            1u32.encode(&mut v, 0);
            "rbd_support".to_string().encode(&mut v, 0);
            v
        };
        let names_two = {
            let mut v = Vec::new();
            2u32.encode(&mut v, 0);
            "rbd_support".to_string().encode(&mut v, 0);
            String::new().encode(&mut v, 0);
            v
        };
        assert!(good.ends_with(&names_two));
        let mut bad = good[..good.len() - names_two.len()].to_vec();
        bad.extend_from_slice(&names_one);
        let len = (bad.len() - 6) as u32;
        bad[2..6].copy_from_slice(&len.to_le_bytes());
        assert!(MgrMap::decode_all(&bad).is_err());
    }

    #[test]
    fn json_like_mgr_dump() {
        let j = sample().to_json();
        assert_eq!(j["active_change"], "2023-11-14T22:13:20.000005+0000");
        assert_eq!(j["always_on_modules"]["pacific"][0], "balancer");
        assert_eq!(j["active_clients"][0]["name"], "");
        assert_eq!(j["active_clients"][1]["name"], "rbd_support");
        assert_eq!(
            j["available_modules"][0]["module_options"]["interval"]["type"],
            "secs"
        );
        assert_eq!(j["standbys"][0]["gid"], 4200);
        assert_eq!(MgrMap::default().to_json()["active_change"], "0.000000");
    }
}
