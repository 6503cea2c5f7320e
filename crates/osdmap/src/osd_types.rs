//! Small OSD types shared by the OSD map, its incrementals and pools:
//! placement group ids (`pg_t`), object versions (`eversion_t`), snapshot
//! interval sets and the per-OSD records (`osd_info_t`, `osd_xinfo_t`).

use std::collections::BTreeMap;
use std::fmt;

use ceph_denc::{encode_envelope, pick_version, Decode, DecodeError, Decoder, Encode, Result};
use ceph_types::addr::EntityAddr;
use ceph_types::features::{has_feature, CEPH_FEATUREMASK_SERVER_OCTOPUS};
use ceph_types::time::{ceph_stamp, UTime};
use serde_json::{json, Value};

/// A placement group id (`pg_t`): pool and placement seed.
///
/// ```
/// use ceph_osdmap::osd_types::PgId;
/// let pg = PgId { pool: 3, seed: 0x1f };
/// assert_eq!(pg.to_string(), "3.1f");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PgId {
    /// The pool the PG belongs to.
    pub pool: u64,
    /// The PG's number within the pool (the placement seed), below the pool's `pg_num`.
    pub seed: u32,
}

impl Decode for PgId {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let v = d.u8("pg_t.version")?;
        if v != 1 {
            return Err(DecodeError::invalid(
                "pg_t",
                format!("version {v} is not 1"),
            ));
        }
        let pool = d.u64("pg_t.pool")?;
        let seed = d.u32("pg_t.seed")?;
        // The retired "preferred OSD" field; Ceph ignores what it reads.
        d.i32("pg_t.preferred")?;
        Ok(PgId { pool, seed })
    }
}

impl Encode for PgId {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.push(1);
        out.extend_from_slice(&self.pool.to_le_bytes());
        out.extend_from_slice(&self.seed.to_le_bytes());
        out.extend_from_slice(&(-1i32).to_le_bytes());
    }
}

impl fmt::Display for PgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:x}", self.pool, self.seed)
    }
}

/// An object version (`eversion_t`): a version number within an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EVersion {
    /// Position in the PG's log, increasing with every write.
    pub version: u64,
    /// OSD map epoch in which the write was made.
    pub epoch: u32,
}

impl Decode for EVersion {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(EVersion {
            version: d.u64("eversion_t.version")?,
            epoch: d.u32("eversion_t.epoch")?,
        })
    }
}

impl Encode for EVersion {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.epoch.to_le_bytes());
    }
}

impl fmt::Display for EVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}'{}", self.epoch, self.version)
    }
}

/// A set of snapshot id intervals (`interval_set<snapid_t>`): start → length.
pub type SnapIntervals = BTreeMap<u64, u64>;

/// `[{"begin": .., "length": ..}, ..]`, as Ceph dumps interval sets.
pub(crate) fn snap_intervals_json(s: &SnapIntervals) -> Value {
    Value::Array(
        s.iter()
            .map(|(b, l)| json!({"begin": b, "length": l}))
            .collect(),
    )
}

/// `[{"pool": .., "snaps": [..]}, ..]` for a per-pool map of interval sets.
pub(crate) fn pool_snaps_json(m: &BTreeMap<i64, SnapIntervals>) -> Value {
    Value::Array(
        m.iter()
            .map(|(p, s)| json!({"pool": p, "snaps": snap_intervals_json(s)}))
            .collect(),
    )
}

/// The largest `max_osd` an incremental may set: the per-OSD tables are
/// sized by it, so a hostile value must not pick the allocation. Far above
/// any real cluster (Ceph's own mon_max_osd defaults to 10000), and above
/// the 100,000-OSD maps the benchmark uses. At 1 << 18 one hostile
/// incremental cost a map of ~50 MB plus its 29 MB encoding, too much for
/// the fuzzer's 512 MB.
pub const MAX_OSDS: i32 = 1 << 17;
const _: () = assert!(MAX_OSDS >= 100_000, "maps of 100,000 OSDs must apply");

/// An address → expiry map (the OSD map's blocklists), in Ceph's order.
pub type AddrExpiryList = Vec<(EntityAddr, UTime)>;

/// Inserts or replaces an entry, keeping Ceph's key order.
pub(crate) fn addr_list_insert(list: &mut AddrExpiryList, addr: EntityAddr, until: UTime) {
    let key = addr.order_key();
    match list.binary_search_by(|(a, _)| a.order_key().cmp(&key)) {
        Ok(i) => list[i].1 = until,
        Err(i) => list.insert(i, (addr, until)),
    }
}

pub(crate) fn decode_addr_list(d: &mut Decoder<'_>) -> Result<AddrExpiryList> {
    let n = d.count(9, "blocklist")?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push((EntityAddr::decode(d)?, UTime::decode(d)?));
    }
    Ok(v)
}

pub(crate) fn encode_addr_list(list: &AddrExpiryList, out: &mut Vec<u8>, features: u64) {
    (list.len() as u32).encode(out, features);
    for (a, t) in list {
        a.encode(out, features);
        t.encode(out, features);
    }
}

/// An object of `key: time` pairs, as `osd dump` shows blocklists.
pub(crate) fn addr_list_json(list: &AddrExpiryList) -> Value {
    let mut m = serde_json::Map::new();
    for (a, t) in list {
        m.insert(a.to_string(), Value::String(ceph_stamp(t)));
    }
    Value::Object(m)
}

/// What the monitors know of an OSD's life (`osd_info_t`): epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OsdInfo {
    /// The last interval during which the OSD was up and clean, `[begin, end)`.
    pub last_clean_begin: u32,
    /// End (exclusive) of that interval.
    pub last_clean_end: u32,
    /// Epoch the OSD last came up.
    pub up_from: u32,
    /// Last epoch the OSD reported as being up through.
    pub up_thru: u32,
    /// Epoch the OSD last went down.
    pub down_at: u32,
    /// Epoch the OSD was declared lost (0 if never).
    pub lost_at: u32,
}

impl Decode for OsdInfo {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        // A bare version byte without compat or length; only 1 exists.
        d.u8("osd_info_t.struct_v")?;
        Ok(OsdInfo {
            last_clean_begin: d.u32("osd_info_t.last_clean_begin")?,
            last_clean_end: d.u32("osd_info_t.last_clean_end")?,
            up_from: d.u32("osd_info_t.up_from")?,
            up_thru: d.u32("osd_info_t.up_thru")?,
            down_at: d.u32("osd_info_t.down_at")?,
            lost_at: d.u32("osd_info_t.lost_at")?,
        })
    }
}

impl Encode for OsdInfo {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.push(1);
        for v in [
            self.last_clean_begin,
            self.last_clean_end,
            self.up_from,
            self.up_thru,
            self.down_at,
            self.lost_at,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

impl OsdInfo {
    /// The fields `osd dump` shows for each OSD.
    pub fn to_json_fields(&self, m: &mut serde_json::Map<String, Value>) {
        m.insert("last_clean_begin".into(), json!(self.last_clean_begin));
        m.insert("last_clean_end".into(), json!(self.last_clean_end));
        m.insert("up_from".into(), json!(self.up_from));
        m.insert("up_thru".into(), json!(self.up_thru));
        m.insert("down_at".into(), json!(self.down_at));
        m.insert("lost_at".into(), json!(self.lost_at));
    }
}

/// Extended per-OSD information (`osd_xinfo_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OsdXInfo {
    /// When the OSD was last marked down.
    pub down_stamp: UTime,
    /// The laggy probability as sent: a fraction of `u32::MAX`.
    pub laggy_probability_raw: u32,
    /// Average seconds the OSD stays laggy.
    pub laggy_interval: u32,
    /// Feature bits the OSD runs with.
    pub features: u64,
    /// Weight before the OSD was automatically marked out.
    pub old_weight: u32,
    /// When the OSD last finished checking its purged snapshots.
    pub last_purged_snaps_scrub: UTime,
    /// Epoch the OSD was last seen dead (0 if never).
    pub dead_epoch: u32,
    /// Version decoded (0 for values built here).
    pub struct_v: u8,
}

impl OsdXInfo {
    /// The version Ceph writes (and gives an entry it creates).
    pub const VERSION: u8 = 4;

    /// The entry an OSD gets when it is created or destroyed: empty, at
    /// [`OsdXInfo::VERSION`] as Ceph's maps hold it.
    pub fn fresh() -> Self {
        OsdXInfo {
            struct_v: OsdXInfo::VERSION,
            ..OsdXInfo::default()
        }
    }

    /// The laggy probability in `[0, 1]`.
    pub fn laggy_probability(&self) -> f32 {
        self.laggy_probability_raw as f32 / u32::MAX as f32
    }

    /// The record as `osd dump` shows it in `osd_xinfo`.
    pub fn to_json(&self) -> Value {
        json!({
            "down_stamp": ceph_stamp(&self.down_stamp),
            "laggy_probability": self.laggy_probability(),
            "laggy_interval": self.laggy_interval,
            "features": self.features,
            "old_weight": self.old_weight,
            "last_purged_snaps_scrub": ceph_stamp(&self.last_purged_snaps_scrub),
            "dead_epoch": self.dead_epoch,
        })
    }
}

impl Decode for OsdXInfo {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.envelope("osd_xinfo_t", 4, |d, v| {
            let mut x = OsdXInfo {
                down_stamp: UTime::decode(d)?,
                laggy_probability_raw: d.u32("osd_xinfo_t.laggy_probability")?,
                laggy_interval: d.u32("osd_xinfo_t.laggy_interval")?,
                struct_v: v,
                ..OsdXInfo::default()
            };
            if v >= 2 {
                x.features = d.u64("osd_xinfo_t.features")?;
            }
            if v >= 3 {
                x.old_weight = d.u32("osd_xinfo_t.old_weight")?;
            }
            if v >= 4 {
                x.last_purged_snaps_scrub = UTime::decode(d)?;
                x.dead_epoch = d.u32("osd_xinfo_t.dead_epoch")?;
            }
            Ok(x)
        })
    }
}

impl Encode for OsdXInfo {
    /// Version 4, or 3 for a peer older than Octopus (or a value decoded
    /// at version 3).
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        let v = if has_feature(features, CEPH_FEATUREMASK_SERVER_OCTOPUS) {
            4
        } else {
            3
        };
        let v = pick_version(self.struct_v.max(3), v);
        encode_envelope(out, v, 1, |out| {
            self.down_stamp.encode(out, features);
            self.laggy_probability_raw.encode(out, features);
            self.laggy_interval.encode(out, features);
            self.features.encode(out, features);
            self.old_weight.encode(out, features);
            if v >= 4 {
                self.last_purged_snaps_scrub.encode(out, features);
                self.dead_epoch.encode(out, features);
            }
        });
    }
}
