//! The monitor map (Ceph's `MonMap`, `mon_info_t`, `mon_feature_t`) and the
//! MDS `feature_bitset_t`.
//!
//! Decoding reads every MonMap version: the pre-envelope v1 and v2 (a `u16`
//! version), the enveloped v3-v5 (address map) and v6+ (`mon_info_t` map and
//! ranks). Fields of versions newer than this crate models (v10 and later:
//! Squid's `auth_epoch`, Tentacle's CephX cipher policy) are kept as opaque
//! bytes and written back unchanged, so a decoded map re-encodes to the same
//! bytes.

use std::collections::{BTreeMap, BTreeSet};

use ceph_denc::{encode_envelope, newer_fields, Decode, DecodeError, Decoder, Encode, Result};
use serde_json::{json, Value};

use crate::addr::{EntityAddr, EntityAddrType, EntityAddrVec};
use crate::entity::{EntityInst, EntityNameT, EntityType};
use crate::features::{
    has_feature, CEPH_FEATUREMASK_MONENC, CEPH_FEATUREMASK_SERVER_NAUTILUS, CEPH_FEATURE_MONNAMES,
};
use crate::time::{UTime, Uuid};

/// Monitor ports: IANA-assigned (msgr2) and the historical msgr1 one.
pub const CEPH_MON_PORT_IANA: u16 = 3300;
/// The monitor port of msgr v1.
pub const CEPH_MON_PORT_LEGACY: u16 = 6789;

/// Names of the monitor feature bits (`ceph::features::mon`), by bit.
const MON_FEATURE_NAMES: &[(u32, &str)] = &[
    (0, "kraken"),
    (1, "luminous"),
    (2, "mimic"),
    (3, "osdmap-prune"),
    (4, "nautilus"),
    (5, "octopus"),
    (6, "pacific"),
    (7, "elector-pinging"),
    (8, "quincy"),
    (9, "reef"),
    (10, "squid"),
    (11, "tentacle"),
    (32, "nvmeof_beacon_diff"),
    (63, "reserved"),
];

/// Release numbers and names (`ceph_release_t`).
const RELEASE_NAMES: &[&str] = &[
    "unknown",
    "argonaut",
    "bobtail",
    "cuttlefish",
    "dumpling",
    "emperor",
    "firefly",
    "giant",
    "hammer",
    "infernalis",
    "jewel",
    "kraken",
    "luminous",
    "mimic",
    "nautilus",
    "octopus",
    "pacific",
    "quincy",
    "reef",
    "squid",
    "tentacle",
];

/// The lowercase name of a Ceph release number (16 = "pacific"), "unknown"
/// for numbers this crate does not know.
pub fn release_name(release: u8) -> &'static str {
    RELEASE_NAMES
        .get(usize::from(release))
        .copied()
        .unwrap_or("unknown")
}

/// A set of monitor features (`mon_feature_t`): the features the monitors
/// of a cluster have all agreed on (persistent) or may use (optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MonFeature(pub u64);

impl MonFeature {
    /// Kraken (11).
    pub const KRAKEN: u64 = 1 << 0;
    /// Luminous (12).
    pub const LUMINOUS: u64 = 1 << 1;
    /// Mimic (13).
    pub const MIMIC: u64 = 1 << 2;
    /// OSD map pruning.
    pub const OSDMAP_PRUNE: u64 = 1 << 3;
    /// Nautilus (14).
    pub const NAUTILUS: u64 = 1 << 4;
    /// Octopus (15).
    pub const OCTOPUS: u64 = 1 << 5;
    /// Pacific (16).
    pub const PACIFIC: u64 = 1 << 6;
    /// Monitor-to-monitor pings (connectivity elections).
    pub const PINGING: u64 = 1 << 7;
    /// Quincy (17).
    pub const QUINCY: u64 = 1 << 8;
    /// Reef (18).
    pub const REEF: u64 = 1 << 9;
    /// Squid (19).
    pub const SQUID: u64 = 1 << 10;
    /// Tentacle (20).
    pub const TENTACLE: u64 = 1 << 11;

    /// True when every bit of `bits` is set.
    pub fn contains(&self, bits: u64) -> bool {
        self.0 & bits == bits
    }

    /// The names of the set bits, lowest bit first, as `ceph mon dump`
    /// lists them ("unknown" for bits without a known name).
    pub fn names(&self) -> Vec<&'static str> {
        (0..64)
            .filter(|b| self.0 & (1u64 << b) != 0)
            .map(|b| {
                MON_FEATURE_NAMES
                    .iter()
                    .find(|(bit, _)| *bit == b)
                    .map_or("unknown", |(_, n)| n)
            })
            .collect()
    }

    /// The newest release whose feature is set (Ceph's
    /// `infer_ceph_release_from_mon_features`), 0 when none is.
    pub fn infer_release(&self) -> u8 {
        const BY_RELEASE: &[(u64, u8)] = &[
            (MonFeature::TENTACLE, 20),
            (MonFeature::SQUID, 19),
            (MonFeature::REEF, 18),
            (MonFeature::QUINCY, 17),
            (MonFeature::PACIFIC, 16),
            (MonFeature::OCTOPUS, 15),
            (MonFeature::NAUTILUS, 14),
            (MonFeature::MIMIC, 13),
            (MonFeature::LUMINOUS, 12),
            (MonFeature::KRAKEN, 11),
        ];
        BY_RELEASE
            .iter()
            .find(|(bit, _)| self.contains(*bit))
            .map_or(0, |(_, r)| *r)
    }
}

impl Decode for MonFeature {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.envelope("mon_feature_t", 1, |d, _| {
            Ok(MonFeature(d.u64("mon_feature_t.features")?))
        })
    }
}

impl Encode for MonFeature {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        encode_envelope(out, 1, 1, |out| {
            out.extend_from_slice(&self.0.to_le_bytes())
        });
    }
}

/// A bit set of any size (the MDS `feature_bitset_t`): a `u32` byte length,
/// then little-endian 64-bit words. A length that is not a multiple of 8
/// ends in a partial word, which Ceph zero-extends; re-encoding writes
/// whole words.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FeatureBitset {
    /// The bits, 64 to a word, lowest first.
    pub words: Vec<u64>,
}

impl FeatureBitset {
    /// True when bit `bit` is set.
    pub fn contains(&self, bit: usize) -> bool {
        self.words
            .get(bit / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }
}

impl Decode for FeatureBitset {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let bytes = d.bytes("feature_bitset_t")?;
        let words = bytes
            .chunks(8)
            .map(|c| {
                let mut w = [0u8; 8];
                w[..c.len()].copy_from_slice(c);
                u64::from_le_bytes(w)
            })
            .collect();
        Ok(FeatureBitset { words })
    }
}

impl Encode for FeatureBitset {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.extend_from_slice(&((self.words.len() * 8) as u32).to_le_bytes());
        for w in &self.words {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }
}

/// One monitor (`mon_info_t`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonInfo {
    /// The monitor's name (`a`).
    pub name: String,
    /// Its addresses (v2 and/or v1).
    pub public_addrs: EntityAddrVec,
    /// Lower values are preferred when a client picks a monitor.
    pub priority: u16,
    /// Relative chance of being picked among monitors of equal priority.
    pub weight: u16,
    /// CRUSH location, for stretch clusters.
    pub crush_loc: BTreeMap<String, String>,
    /// Version this entry was decoded from (0 for entries built here).
    pub struct_v: u8,
    /// Fields of versions after 5 (e.g. Tentacle's `time_added`), unparsed.
    pub unknown_tail: Vec<u8>,
}

impl MonInfo {
    /// The version this crate writes when it has nothing newer to preserve.
    pub const CURRENT_VERSION: u8 = 5;

    /// A monitor `name` at `public_addrs`, with default priority and weight.
    pub fn new(name: impl Into<String>, public_addrs: EntityAddrVec) -> Self {
        MonInfo {
            name: name.into(),
            public_addrs,
            ..MonInfo::default()
        }
    }
}

impl Decode for MonInfo {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.envelope("mon_info_t", MonInfo::CURRENT_VERSION, |d, v| {
            let name = String::decode(d)?;
            let public_addrs = EntityAddrVec::decode(d)?;
            let priority = if v >= 2 {
                d.u16("mon_info_t.priority")?
            } else {
                0
            };
            let weight = if v >= 4 {
                d.u16("mon_info_t.weight")?
            } else {
                0
            };
            let crush_loc = if v >= 5 {
                BTreeMap::decode(d)?
            } else {
                BTreeMap::new()
            };
            let unknown_tail = newer_fields(d, v, MonInfo::CURRENT_VERSION, "mon_info_t tail")?;
            Ok(MonInfo {
                name,
                public_addrs,
                priority,
                weight,
                crush_loc,
                struct_v: v,
                unknown_tail,
            })
        })
    }
}

impl Encode for MonInfo {
    /// Version 5 (or the newer version it was decoded from, with its extra
    /// fields); for a peer without `SERVER_NAUTILUS`, version 2 with a
    /// single msgr1 address, as Ceph does.
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        if !has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS) {
            encode_envelope(out, 2, 1, |out| {
                self.name.encode(out, features);
                self.public_addrs.as_legacy_addr().encode(out, features);
                self.priority.encode(out, features);
                self.weight.encode(out, features);
                self.crush_loc.encode(out, features);
            });
            return;
        }
        let v = self.struct_v.max(MonInfo::CURRENT_VERSION);
        let v = if self.unknown_tail.is_empty() {
            MonInfo::CURRENT_VERSION
        } else {
            v
        };
        encode_envelope(out, v, 1, |out| {
            self.name.encode(out, features);
            self.public_addrs.encode(out, features);
            self.priority.encode(out, features);
            self.weight.encode(out, features);
            self.crush_loc.encode(out, features);
            out.extend_from_slice(&self.unknown_tail);
        });
    }
}

/// How the monitors elect a leader (`MonMap::election_strategy`).
pub mod election_strategy {
    /// Classic: the lowest rank wins.
    pub const CLASSIC: u8 = 1;
    /// Classic, but some monitors may not lead.
    pub const DISALLOW: u8 = 2;
    /// By connectivity scores.
    pub const CONNECTIVITY: u8 = 3;
}

/// The monitor map: which monitors a cluster has, where, and in what rank
/// order.
///
/// ```
/// use ceph_denc::{Decode, Encode};
/// use ceph_types::monmap::{MonInfo, MonMap};
/// use ceph_types::features::CLIENT_FEATURES_ALL;
///
/// let mut map = MonMap::default();
/// map.add(MonInfo::new("a", "[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]".parse().unwrap()));
/// let bytes = map.to_bytes(CLIENT_FEATURES_ALL);
/// let back = MonMap::decode_all(&bytes).unwrap();
/// assert_eq!(back.rank_addrs(0).unwrap().to_string(), "[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]");
/// assert_eq!(back.rank_of("a"), Some(0));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonMap {
    /// The cluster's id.
    pub fsid: Uuid,
    /// The map's epoch.
    pub epoch: u32,
    /// When it last changed.
    pub last_changed: UTime,
    /// When the cluster was created.
    pub created: UTime,
    /// Features every monitor has agreed on.
    pub persistent_features: MonFeature,
    /// Features the monitors may use.
    pub optional_features: MonFeature,
    /// Monitors by name.
    pub mon_info: BTreeMap<String, MonInfo>,
    /// Monitor names in rank order.
    pub ranks: Vec<String>,
    /// The oldest release a monitor may run (a release number, 16 = Pacific).
    pub min_mon_release: u8,
    /// Ranks removed (kept for the election code).
    pub removed_ranks: BTreeSet<i32>,
    /// One of [`election_strategy`].
    pub strategy: u8,
    /// Monitors that may not become leader.
    pub disallowed_leaders: BTreeSet<String>,
    /// Whether stretch mode is on.
    pub stretch_mode_enabled: bool,
    /// The tiebreaker monitor in stretch mode.
    pub tiebreaker_mon: String,
    /// Monitors marked down by stretch mode.
    pub stretch_marked_down_mons: BTreeSet<String>,
    /// The envelope version this map was decoded from (or will be written
    /// with, when it has fields from after v9 to preserve).
    pub struct_v: u8,
    /// The envelope's compat version, kept for re-encoding newer maps.
    pub compat_v: u8,
    /// Fields of versions after 9 (Squid's `auth_epoch`, Tentacle's cipher
    /// policy), unparsed.
    pub unknown_tail: Vec<u8>,
}

impl Default for MonMap {
    fn default() -> Self {
        MonMap {
            fsid: Uuid::default(),
            epoch: 0,
            last_changed: UTime::default(),
            created: UTime::default(),
            persistent_features: MonFeature::default(),
            optional_features: MonFeature::default(),
            mon_info: BTreeMap::new(),
            ranks: Vec::new(),
            min_mon_release: 0,
            removed_ranks: BTreeSet::new(),
            strategy: election_strategy::CLASSIC,
            disallowed_leaders: BTreeSet::new(),
            stretch_mode_enabled: false,
            tiebreaker_mon: String::new(),
            stretch_marked_down_mons: BTreeSet::new(),
            struct_v: MonMap::CURRENT_VERSION,
            compat_v: MonMap::COMPAT_VERSION,
            unknown_tail: Vec::new(),
        }
    }
}

impl MonMap {
    /// The newest version whose every field this crate models.
    pub const CURRENT_VERSION: u8 = 9;
    /// The compat version of the Nautilus-and-later encoding.
    pub const COMPAT_VERSION: u8 = 6;
    /// Compat versions above this mean the map has changed in ways older
    /// readers must not ignore; Ceph has kept 6 since Nautilus.
    const MAX_COMPAT: u8 = 10;

    /// Number of monitors.
    pub fn len(&self) -> usize {
        self.ranks.len()
    }

    /// True when the map lists no monitor.
    pub fn is_empty(&self) -> bool {
        self.ranks.is_empty()
    }

    /// Monitor names in rank order.
    pub fn ranks(&self) -> &[String] {
        &self.ranks
    }

    /// The monitor with this name.
    pub fn get(&self, name: &str) -> Option<&MonInfo> {
        self.mon_info.get(name)
    }

    /// The monitor of this rank.
    pub fn by_rank(&self, rank: usize) -> Option<&MonInfo> {
        self.ranks.get(rank).and_then(|n| self.mon_info.get(n))
    }

    /// The addresses of the monitor of this rank.
    pub fn rank_addrs(&self, rank: usize) -> Option<&EntityAddrVec> {
        self.by_rank(rank).map(|m| &m.public_addrs)
    }

    /// The rank of the monitor with this name.
    pub fn rank_of(&self, name: &str) -> Option<usize> {
        self.ranks.iter().position(|n| n == name)
    }

    /// Monitors in rank order, with their rank.
    pub fn iter_ranked(&self) -> impl Iterator<Item = (usize, &MonInfo)> {
        self.ranks
            .iter()
            .enumerate()
            .filter_map(|(r, n)| self.mon_info.get(n).map(|m| (r, m)))
    }

    /// Adds (or replaces) a monitor and recomputes the ranks as Ceph does
    /// for maps without stored ranks.
    pub fn add(&mut self, info: MonInfo) {
        self.mon_info.insert(info.name.clone(), info);
        self.calc_legacy_ranks();
    }

    /// Ranks ordered by each monitor's msgr1 (else first) address, then
    /// name, as Ceph orders maps that predate stored ranks.
    pub fn calc_legacy_ranks(&mut self) {
        let mut order: Vec<(Vec<u8>, &String)> = self
            .mon_info
            .values()
            .map(|m| (m.public_addrs.legacy_or_front().order_key(), &m.name))
            .collect();
        order.sort();
        self.ranks = order.into_iter().map(|(_, n)| n.clone()).collect();
    }

    /// The map in the shape of `ceph mon dump -f json` as a Pacific monitor
    /// prints it (without `quorum`, which the monitor adds). Pacific's key
    /// names `"disallowed_leaders: "` and `"removed_ranks: "` (with the
    /// colon and space) are reproduced as they are.
    pub fn to_json(&self) -> Value {
        let joined = |items: Vec<String>| items.join(",");
        let mons: Vec<Value> = self
            .ranks
            .iter()
            .enumerate()
            .map(|(rank, name)| {
                let info = self.mon_info.get(name);
                let addrs = info.map(|m| m.public_addrs.clone()).unwrap_or_default();
                let addrvec: Vec<Value> = addrs
                    .addrs
                    .iter()
                    .map(|a| {
                        let sock = a.legacy_str();
                        let sock = sock.rsplit_once('/').map_or(sock.as_str(), |(s, _)| s);
                        json!({"type": a.ty.as_str(), "addr": sock, "nonce": a.nonce})
                    })
                    .collect();
                let legacy = addrs.legacy_or_front().legacy_str();
                let crush = info.map(|m| &m.crush_loc).cloned().unwrap_or_default();
                let crush = format!(
                    "{{{}}}",
                    joined(crush.iter().map(|(k, v)| format!("{k}={v}")).collect())
                );
                json!({
                    "rank": rank,
                    "name": name,
                    "public_addrs": {"addrvec": addrvec},
                    "addr": legacy,
                    "public_addr": legacy,
                    "priority": info.map_or(0, |m| m.priority),
                    "weight": info.map_or(0, |m| m.weight),
                    "crush_location": crush,
                })
            })
            .collect();
        json!({
            "epoch": self.epoch,
            "fsid": self.fsid.to_string(),
            "modified": self.last_changed.to_iso8601_utc(),
            "created": self.created.to_iso8601_utc(),
            "min_mon_release": self.min_mon_release,
            "min_mon_release_name": release_name(self.min_mon_release),
            "election_strategy": self.strategy,
            "disallowed_leaders: ": joined(self.disallowed_leaders.iter().cloned().collect()),
            "stretch_mode": self.stretch_mode_enabled,
            "tiebreaker_mon": self.tiebreaker_mon,
            "removed_ranks: ": joined(self.removed_ranks.iter().map(|r| r.to_string()).collect()),
            "features": {
                "persistent": self.persistent_features.names(),
                "optional": self.optional_features.names(),
            },
            "mons": mons,
        })
    }

    /// The msgr1 address of each monitor by name, for the pre-Nautilus
    /// encodings (a v2-only monitor gets a made-up v1 address, as in Ceph).
    fn legacy_mon_addrs(&self) -> BTreeMap<String, EntityAddr> {
        self.mon_info
            .iter()
            .map(|(n, m)| (n.clone(), m.public_addrs.as_legacy_addr()))
            .collect()
    }

    /// The legacy forms: v1 (no `MONNAMES`), v2 (no `MONENC`) and v5 (no
    /// `SERVER_NAUTILUS`). Returns false when `features` call for none.
    fn encode_legacy(&self, out: &mut Vec<u8>, features: u64) -> bool {
        if features & CEPH_FEATURE_MONNAMES == 0 {
            out.extend_from_slice(&1u16.to_le_bytes());
            self.fsid.encode(out, features);
            self.epoch.encode(out, features);
            let insts: Vec<EntityInst> = (0..self.ranks.len())
                .map(|n| EntityInst {
                    name: EntityNameT::new(EntityType::Mon, n as i64),
                    addr: self
                        .rank_addrs(n)
                        .and_then(|a| a.legacy().copied())
                        .unwrap_or_default(),
                })
                .collect();
            insts.encode(out, features);
            self.last_changed.encode(out, features);
            self.created.encode(out, features);
            return true;
        }
        if !has_feature(features, CEPH_FEATUREMASK_MONENC) {
            out.extend_from_slice(&2u16.to_le_bytes());
            self.fsid.encode(out, features);
            self.epoch.encode(out, features);
            self.legacy_mon_addrs().encode(out, features);
            self.last_changed.encode(out, features);
            self.created.encode(out, features);
            return true;
        }
        if !has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS) {
            encode_envelope(out, 5, 3, |out| {
                self.fsid.encode(out, features);
                self.epoch.encode(out, features);
                self.legacy_mon_addrs().encode(out, features);
                self.last_changed.encode(out, features);
                self.created.encode(out, features);
                self.persistent_features.encode(out, features);
                self.optional_features.encode(out, features);
                self.mon_info.encode(out, features);
            });
            return true;
        }
        false
    }

    /// The body of a v3+ envelope, after the version bytes.
    fn decode_body(d: &mut Decoder<'_>, v: u8) -> Result<MonMap> {
        let mut m = MonMap {
            struct_v: v,
            ..MonMap::default()
        };
        m.fsid = Uuid::decode(d)?;
        m.epoch = d.u32("MonMap.epoch")?;
        let mut legacy_addrs = BTreeMap::new();
        if v == 1 {
            let insts = Vec::<EntityInst>::decode(d)?;
            for (i, inst) in insts.into_iter().enumerate() {
                // Ceph names these monitors by a single digit character.
                let name = char::from(b'0'.wrapping_add(i as u8)).to_string();
                legacy_addrs.insert(name, inst.addr);
            }
        } else if v < 6 {
            legacy_addrs = BTreeMap::<String, EntityAddr>::decode(d)?;
        }
        m.last_changed = UTime::decode(d)?;
        m.created = UTime::decode(d)?;
        if v >= 4 {
            m.persistent_features = MonFeature::decode(d)?;
            m.optional_features = MonFeature::decode(d)?;
        }
        if v < 5 {
            for (name, addr) in legacy_addrs {
                m.mon_info
                    .insert(name.clone(), MonInfo::new(name, addr.into()));
            }
        } else {
            m.mon_info = BTreeMap::decode(d)?;
        }
        if v < 6 {
            m.calc_legacy_ranks();
        } else {
            m.ranks = Vec::decode(d)?;
        }
        m.min_mon_release = if v >= 7 {
            d.u8("MonMap.min_mon_release")?
        } else {
            m.persistent_features.infer_release()
        };
        if v >= 8 {
            m.removed_ranks = BTreeSet::decode(d)?;
            m.strategy = d.u8("MonMap.strategy")?;
            m.disallowed_leaders = BTreeSet::decode(d)?;
        }
        if v >= 9 {
            m.stretch_mode_enabled = d.bool("MonMap.stretch_mode_enabled")?;
            m.tiebreaker_mon = String::decode(d)?;
            m.stretch_marked_down_mons = BTreeSet::decode(d)?;
        }
        m.unknown_tail = newer_fields(d, v, MonMap::CURRENT_VERSION, "MonMap tail")?;
        // Every rank must name a monitor: clients index mon_info by rank.
        if let Some(bad) = m.ranks.iter().find(|n| !m.mon_info.contains_key(*n)) {
            return Err(DecodeError::invalid(
                "MonMap",
                format!("rank names unknown monitor {bad:?}"),
            ));
        }
        Ok(m)
    }
}

impl Decode for MonMap {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let struct_v = d.u8("MonMap struct_v")?;
        if struct_v < 3 {
            // Pre-envelope maps: the version was a u16 and the map runs to
            // the end of the input.
            d.u8("MonMap struct_v high byte")?;
            if struct_v == 0 {
                return Err(DecodeError::invalid("MonMap", "version 0"));
            }
            let mut m = MonMap::decode_body(d, struct_v)?;
            m.compat_v = struct_v;
            return Ok(m);
        }
        let compat_v = d.u8("MonMap compat_v")?;
        if compat_v > MonMap::MAX_COMPAT {
            return Err(DecodeError::TooNew {
                what: "MonMap",
                compat: compat_v,
                supported: MonMap::MAX_COMPAT,
            });
        }
        let mut m = d.envelope_body("MonMap", struct_v, MonMap::decode_body)?;
        m.compat_v = compat_v;
        Ok(m)
    }
}

impl Encode for MonMap {
    /// The Nautilus-and-later encoding: version 9 (or the newer version the
    /// map was decoded from, with its extra fields); the legacy encodings
    /// for peers without `MONNAMES`, `MONENC` or `SERVER_NAUTILUS`.
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        if self.encode_legacy(out, features) {
            return;
        }
        let (v, compat) = if self.unknown_tail.is_empty() {
            (MonMap::CURRENT_VERSION, MonMap::COMPAT_VERSION)
        } else {
            (self.struct_v, self.compat_v)
        };
        encode_envelope(out, v, compat, |out| {
            self.fsid.encode(out, features);
            self.epoch.encode(out, features);
            self.last_changed.encode(out, features);
            self.created.encode(out, features);
            self.persistent_features.encode(out, features);
            self.optional_features.encode(out, features);
            self.mon_info.encode(out, features);
            self.ranks.encode(out, features);
            self.min_mon_release.encode(out, features);
            self.removed_ranks.encode(out, features);
            self.strategy.encode(out, features);
            self.disallowed_leaders.encode(out, features);
            self.stretch_mode_enabled.encode(out, features);
            self.tiebreaker_mon.encode(out, features);
            self.stretch_marked_down_mons.encode(out, features);
            out.extend_from_slice(&self.unknown_tail);
        });
    }
}

impl EntityAddrVec {
    /// A msgr1 address for peers that only know one address per monitor
    /// (Ceph's `as_legacy_addr`): the v1 address, else an `any` one retyped,
    /// else the first address retyped as v1 (port 3300 becoming 6789).
    pub fn as_legacy_addr(&self) -> EntityAddr {
        for a in &self.addrs {
            match a.ty {
                EntityAddrType::Legacy => return *a,
                EntityAddrType::Any => {
                    return EntityAddr {
                        ty: EntityAddrType::Legacy,
                        ..*a
                    }
                }
                _ => {}
            }
        }
        let mut a = self.front().copied().unwrap_or_default();
        a.ty = EntityAddrType::Legacy;
        if let Some(s) = a.addr.as_mut() {
            if s.port() == CEPH_MON_PORT_IANA {
                s.set_port(CEPH_MON_PORT_LEGACY);
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{CEPH_FEATURE_SERVER_NAUTILUS, CLIENT_FEATURES_ALL};

    fn info(name: &str, addrs: &str) -> MonInfo {
        MonInfo::new(name, addrs.parse().unwrap())
    }

    #[test]
    fn legacy_ranks_follow_addresses_then_names() {
        let mut m = MonMap::default();
        m.add(info("c", "v1:10.0.0.1:6789/0"));
        m.add(info("a", "v1:10.0.0.2:6789/0"));
        m.add(info("b", "v1:10.0.0.1:6789/0"));
        assert_eq!(m.ranks(), ["b", "c", "a"]);
        assert_eq!(m.by_rank(2).unwrap().name, "a");
    }

    #[test]
    fn mon_info_for_pre_nautilus_peers_has_one_v1_address() {
        let mut i = info("a", "[v2:10.0.0.1:3300/0]");
        i.crush_loc.insert("host".into(), "h1".into());
        let bytes = i.to_bytes(CLIENT_FEATURES_ALL & !CEPH_FEATURE_SERVER_NAUTILUS);
        assert_eq!(bytes[0], 2);
        let back = MonInfo::decode_all(&bytes).unwrap();
        // Version 2 carries neither weight nor crush location to the reader.
        assert_eq!(back.public_addrs.to_string(), "v1:10.0.0.1:6789/0");
        assert!(back.crush_loc.is_empty());
        let full = MonInfo::decode_all(&i.to_bytes(CLIENT_FEATURES_ALL)).unwrap();
        assert_eq!(full.crush_loc, i.crush_loc);
    }

    #[test]
    fn json_lists_sets_and_crush_location_like_ceph() {
        let mut m = MonMap::default();
        let mut a = info("a", "[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]");
        a.crush_loc.insert("root".into(), "default".into());
        a.crush_loc.insert("host".into(), "h1".into());
        m.add(a);
        m.removed_ranks.extend([1, 3]);
        m.disallowed_leaders.insert("a".into());
        m.persistent_features = MonFeature(MonFeature::KRAKEN | MonFeature::PACIFIC | 1 << 40);
        let j = m.to_json();
        assert_eq!(j["removed_ranks: "], "1,3");
        assert_eq!(j["disallowed_leaders: "], "a");
        assert_eq!(j["mons"][0]["crush_location"], "{host=h1,root=default}");
        assert_eq!(j["mons"][0]["addr"], "10.0.0.1:6789/0");
        assert_eq!(
            j["mons"][0]["public_addrs"]["addrvec"][0]["addr"],
            "10.0.0.1:3300"
        );
        assert_eq!(
            j["features"]["persistent"],
            json!(["kraken", "pacific", "unknown"])
        );
        assert_eq!(j["min_mon_release_name"], "unknown");
    }

    #[test]
    fn release_inference_and_names() {
        assert_eq!(
            MonFeature(MonFeature::KRAKEN | MonFeature::OCTOPUS).infer_release(),
            15
        );
        assert_eq!(MonFeature(0).infer_release(), 0);
        assert_eq!(release_name(16), "pacific");
        assert_eq!(release_name(20), "tentacle");
        assert_eq!(release_name(200), "unknown");
    }

    #[test]
    fn ranks_naming_missing_monitors_are_rejected() {
        let mut m = MonMap::default();
        m.add(info("a", "v1:10.0.0.1:6789/0"));
        m.ranks.push("ghost".into());
        assert!(MonMap::decode_all(&m.to_bytes(CLIENT_FEATURES_ALL)).is_err());
    }
}
