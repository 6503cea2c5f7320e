//! The CRUSH map (Ceph's `CrushWrapper` around `struct crush_map`):
//! buckets of every algorithm, rules, names, tunables, device classes and
//! choose_args weight sets.
//!
//! The encoding has no envelope: a magic number, then buckets, rules and
//! names, then groups of fields that later releases appended and that a
//! decoder reads only if bytes remain. Which groups were present is kept,
//! so a decoded map re-encodes to the same bytes.

use std::collections::BTreeMap;

pub mod hash;
mod ln_table;
pub mod mapper;

use ceph_denc::{Decode, DecodeError, Decoder, Encode, Result};
use ceph_types::features::{
    has_feature, CEPH_FEATUREMASK_SERVER_LUMINOUS, CEPH_FEATUREMASK_SERVER_SQUID,
    CEPH_FEATURE_CRUSH_TUNABLES5,
};
use serde_json::{json, Value};

/// `CRUSH_MAGIC`, the first word of an encoded map.
pub const CRUSH_MAGIC: u32 = 0x0001_0000;

/// Bucket algorithms (`CRUSH_BUCKET_*`).
pub mod bucket_alg {
    /// Every item weighs the same; the choice is a hash-driven permutation of
    /// the items (cheap, but many moves when items change).
    pub const UNIFORM: u8 = 1;
    /// A list scanned from the newest item; cheap when items are only ever added.
    pub const LIST: u8 = 2;
    /// A binary tree of weight sums; choice in O(log n).
    pub const TREE: u8 = 3;
    /// Each item draws a straw scaled by its weight and the longest wins (the first straw form,
    /// inexact weights).
    pub const STRAW: u8 = 4;
    /// Straws drawn as a log of the hash over the weight: exact weights, and only items whose
    /// weight changed move. The default.
    pub const STRAW2: u8 = 5;
}

/// Rule step operations (`CRUSH_RULE_*`).
pub mod rule_op {
    /// Does nothing.
    pub const NOOP: u32 = 0;
    /// Start from item `arg1` (usually the root bucket, or a device-class shadow of it).
    pub const TAKE: u32 = 1;
    /// Under each current item choose `arg1` items of type `arg2`, filling positions
    /// in order (replicated pools). `arg1` 0 means the pool size, negative means size minus that.
    pub const CHOOSE_FIRSTN: u32 = 2;
    /// Like `CHOOSE_FIRSTN`, but each position is chosen independently and a failed one
    /// stays a hole (erasure-coded pools, where positions are shards).
    pub const CHOOSE_INDEP: u32 = 3;
    /// Append the current items to the result.
    pub const EMIT: u32 = 4;
    /// Choose `arg1` buckets of type `arg2`, then one device under each (replicated).
    pub const CHOOSELEAF_FIRSTN: u32 = 6;
    /// Choose `arg1` buckets of type `arg2`, then one device under each (erasure-coded).
    pub const CHOOSELEAF_INDEP: u32 = 7;
    /// For this rule, override the `choose_total_tries` tunable with `arg1`.
    pub const SET_CHOOSE_TRIES: u32 = 8;
    /// For this rule, set how many tries the descent to a leaf gets.
    pub const SET_CHOOSELEAF_TRIES: u32 = 9;
    /// For this rule, override `choose_local_tries`.
    pub const SET_CHOOSE_LOCAL_TRIES: u32 = 10;
    /// For this rule, override `choose_local_fallback_tries`.
    pub const SET_CHOOSE_LOCAL_FALLBACK_TRIES: u32 = 11;
    /// For this rule, override `chooseleaf_vary_r`.
    pub const SET_CHOOSELEAF_VARY_R: u32 = 12;
    /// For this rule, override `chooseleaf_stable`.
    pub const SET_CHOOSELEAF_STABLE: u32 = 13;
    /// For this MSR rule, override `msr_descents`.
    pub const SET_MSR_DESCENTS: u32 = 14;
    /// For this MSR rule, override `msr_collision_tries`.
    pub const SET_MSR_COLLISION_TRIES: u32 = 15;
    /// Multi-step-retry choose (Squid on): `arg1` items of type `arg2`, retrying from the
    /// rule's root on failure, so several shards may share a failure domain.
    pub const CHOOSE_MSR: u32 = 16;
}

/// Per-item weights of a bucket, by algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketWeights {
    /// Every item has the same weight.
    Uniform {
        /// The weight of each item, 16.16 fixed point.
        item_weight: u32,
    },
    /// Item weights and running sums.
    List {
        /// Weight of each item, 16.16 fixed point.
        item_weights: Vec<u32>,
        /// Weight of each item plus all items before it, 16.16 fixed point.
        sum_weights: Vec<u32>,
    },
    /// Weights of the nodes of a binary tree (`num_nodes` is a `u8`).
    Tree {
        /// Weight of each tree node, 16.16 fixed point; leaves at odd indexes.
        node_weights: Vec<u32>,
    },
    /// Item weights and precomputed straw lengths.
    Straw {
        /// Weight of each item, 16.16 fixed point.
        item_weights: Vec<u32>,
        /// The straw length computed from each weight.
        straws: Vec<u32>,
    },
    /// Item weights only: straw2 draws need nothing precomputed.
    Straw2 {
        /// Weight of each item, 16.16 fixed point.
        item_weights: Vec<u32>,
    },
}

/// A CRUSH bucket: an interior node of the hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrushBucket {
    /// Negative: bucket `id` lives at index `-1 - id`.
    pub id: i32,
    /// Type id (see [`CrushWrapper::type_names`]).
    pub bucket_type: u16,
    /// One of [`bucket_alg`].
    pub alg: u8,
    /// Hash function (0 = rjenkins1).
    pub hash: u8,
    /// Total weight, 16.16 fixed point.
    pub weight: u32,
    /// Child items: devices (>= 0) or buckets (< 0).
    pub items: Vec<i32>,
    /// Item weights, laid out as the bucket's algorithm needs them.
    pub weights: BucketWeights,
}

impl CrushBucket {
    /// The weight of the item at `pos`, 16.16 fixed point.
    pub fn item_weight(&self, pos: usize) -> u32 {
        match &self.weights {
            BucketWeights::Uniform { item_weight } => *item_weight,
            BucketWeights::List { item_weights, .. }
            | BucketWeights::Straw { item_weights, .. }
            | BucketWeights::Straw2 { item_weights } => item_weights.get(pos).copied().unwrap_or(0),
            // Leaves sit at odd node indexes: 2 * pos + 1.
            BucketWeights::Tree { node_weights } => {
                node_weights.get(2 * pos + 1).copied().unwrap_or(0)
            }
        }
    }
}

/// One rule step: an operation and two arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrushRuleStep {
    /// One of [`rule_op`].
    pub op: u32,
    /// First argument: the item for `TAKE`, the count for the choose steps, the value for the
    /// `SET_*` steps.
    pub arg1: i32,
    /// Second argument: the bucket type for the choose steps.
    pub arg2: i32,
}

/// A placement rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrushRule {
    /// The legacy ruleset number (equal to the rule id since Quincy).
    pub ruleset: u8,
    /// Pool type the rule is for (1 replicated, 3 erasure).
    pub rule_type: u8,
    /// Legacy size bounds (1 and 100 since Quincy).
    pub min_size: u8,
    /// Largest pool size the rule was meant for (legacy).
    pub max_size: u8,
    /// The steps, run in order to map one PG.
    pub steps: Vec<CrushRuleStep>,
}

/// Alternative weights and ids for one bucket (`crush_choose_arg`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChooseArg {
    /// One weight vector per replica position.
    pub weight_set: Vec<Vec<u32>>,
    /// Ids hashed in place of the bucket's item ids (empty: the real ids).
    pub ids: Vec<i32>,
}

/// The tunables (`crush_map` fields that change placement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrushTunables {
    /// Retries inside the same bucket after a collision before starting over (0 today).
    pub choose_local_tries: u32,
    /// Retries inside the same bucket with an exhaustive scan (legacy; 0 today).
    pub choose_local_fallback_tries: u32,
    /// Attempts to choose one item before giving up on that position.
    pub choose_total_tries: u32,
    /// 1: a leaf descent that collides retries once from the top instead of recursing.
    pub chooseleaf_descend_once: u32,
    /// 1: the leaf descent's retry number depends on the parent's, so retries are less correlated.
    pub chooseleaf_vary_r: u8,
    /// 0: the first (flawed) straw length computation; 1: the fixed one.
    pub straw_calc_version: u8,
    /// Bit `1 << alg` set for each [`bucket_alg`] new buckets may use.
    pub allowed_bucket_algs: u32,
    /// 1: marking a device out does not shift the leaf choices of other positions.
    pub chooseleaf_stable: u8,
    /// MSR rules: how many times a choice may descend from the root.
    pub msr_descents: u32,
    /// MSR rules: collision retries per descent.
    pub msr_collision_tries: u32,
}

impl CrushTunables {
    /// The values a map without encoded tunables has (argonaut).
    pub const LEGACY: CrushTunables = CrushTunables {
        choose_local_tries: 2,
        choose_local_fallback_tries: 5,
        choose_total_tries: 19,
        chooseleaf_descend_once: 0,
        chooseleaf_vary_r: 0,
        straw_calc_version: 0,
        allowed_bucket_algs: (1 << bucket_alg::UNIFORM)
            | (1 << bucket_alg::LIST)
            | (1 << bucket_alg::STRAW),
        chooseleaf_stable: 0,
        msr_descents: 100,
        msr_collision_tries: 100,
    };

    /// The jewel (and still optimal) profile.
    pub const OPTIMAL: CrushTunables = CrushTunables {
        choose_local_tries: 0,
        choose_local_fallback_tries: 0,
        choose_total_tries: 50,
        chooseleaf_descend_once: 1,
        chooseleaf_vary_r: 1,
        straw_calc_version: 1,
        allowed_bucket_algs: (1 << bucket_alg::UNIFORM)
            | (1 << bucket_alg::LIST)
            | (1 << bucket_alg::STRAW)
            | (1 << bucket_alg::STRAW2),
        chooseleaf_stable: 1,
        msr_descents: 100,
        msr_collision_tries: 100,
    };
}

/// How many of the optional trailing groups an encoding carried, in order.
pub mod crush_section {
    /// Only buckets, rules and names.
    pub const NONE: u8 = 0;
    /// choose_local_tries, choose_local_fallback_tries, choose_total_tries.
    pub const TRIES: u8 = 1;
    /// Up to `chooseleaf_descend_once`.
    pub const DESCEND_ONCE: u8 = 2;
    /// Up to `chooseleaf_vary_r`.
    pub const VARY_R: u8 = 3;
    /// Up to `straw_calc_version`.
    pub const STRAW_CALC: u8 = 4;
    /// Up to `allowed_bucket_algs`.
    pub const ALLOWED_ALGS: u8 = 5;
    /// Up to `chooseleaf_stable`.
    pub const STABLE: u8 = 6;
    /// Device classes (class_map, class_name, class_bucket).
    pub const CLASSES: u8 = 7;
    /// Up to the choose_args weight sets.
    pub const CHOOSE_ARGS: u8 = 8;
    /// Squid's MSR tunables.
    pub const MSR: u8 = 9;
}

/// A CRUSH map.
///
/// ```
/// use ceph_denc::{Decode, Encode};
/// use ceph_osdmap::crush::CrushWrapper;
/// use ceph_types::features::CLIENT_FEATURES_ALL;
///
/// let map = CrushWrapper::default();
/// let bytes = map.to_bytes(CLIENT_FEATURES_ALL);
/// assert_eq!(CrushWrapper::decode_all(&bytes).unwrap(), map);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrushWrapper {
    /// Buckets by index (`-1 - id`); `None` for unused slots.
    pub buckets: Vec<Option<CrushBucket>>,
    /// Rules by id; `None` for unused slots.
    pub rules: Vec<Option<CrushRule>>,
    /// One past the largest device (OSD) id.
    pub max_devices: i32,
    /// Type id → name (`0` is usually "osd").
    pub type_names: BTreeMap<i32, String>,
    /// Item id → name (devices and buckets).
    pub item_names: BTreeMap<i32, String>,
    /// Rule id → name.
    pub rule_names: BTreeMap<i32, String>,
    /// The tunables in effect for every rule.
    pub tunables: CrushTunables,
    /// Device → class id.
    pub class_map: BTreeMap<i32, i32>,
    /// Class id → name.
    pub class_names: BTreeMap<i32, String>,
    /// Bucket → class → shadow bucket.
    pub class_bucket: BTreeMap<i32, BTreeMap<i32, i32>>,
    /// Weight-set id (-1: the compat set) → bucket index → arguments.
    pub choose_args: BTreeMap<i64, BTreeMap<u32, ChooseArg>>,
    /// How many optional groups to write (one of [`crush_section`]).
    pub sections: u8,
}

impl Default for CrushWrapper {
    /// An empty map with optimal tunables and every group.
    fn default() -> Self {
        CrushWrapper {
            buckets: Vec::new(),
            rules: Vec::new(),
            max_devices: 0,
            type_names: BTreeMap::new(),
            item_names: BTreeMap::new(),
            rule_names: BTreeMap::new(),
            tunables: CrushTunables::OPTIMAL,
            class_map: BTreeMap::new(),
            class_names: BTreeMap::new(),
            class_bucket: BTreeMap::new(),
            choose_args: BTreeMap::new(),
            sections: crush_section::MSR,
        }
    }
}

/// Reads a name map whose keys may be 32 or 64 bits wide: an old encoder
/// wrote `int` keys as 64 bits, which shows as a zero string length.
fn decode_name_map(d: &mut Decoder<'_>) -> Result<BTreeMap<i32, String>> {
    let n = d.count(8, "crush name map")?;
    let mut m = BTreeMap::new();
    for _ in 0..n {
        let key = d.i32("crush name key")?;
        let mut len = d.u32("crush name length")?;
        if len == 0 {
            len = d.u32("crush name length")?;
        }
        let s = d.take(len as usize, "crush name")?;
        m.insert(key, String::from_utf8_lossy(s).into_owned());
    }
    Ok(m)
}

/// Writes a name map as [`decode_name_map`] reads it back: a zero length
/// is taken there as the first half of an old 64-bit length, so an empty
/// name is written with a second zero word.
fn encode_name_map(m: &BTreeMap<i32, String>, out: &mut Vec<u8>, f: u64) {
    (m.len() as u32).encode(out, f);
    for (key, name) in m {
        key.encode(out, f);
        if name.is_empty() {
            0u32.encode(out, f);
        }
        name.encode(out, f);
    }
}

fn decode_u32s(d: &mut Decoder<'_>, n: usize, what: &'static str) -> Result<Vec<u32>> {
    if n.saturating_mul(4) > d.remaining() {
        return Err(DecodeError::Short {
            what,
            need: n.saturating_mul(4),
            have: d.remaining(),
        });
    }
    (0..n).map(|_| d.u32(what)).collect()
}

fn decode_bucket(d: &mut Decoder<'_>) -> Result<Option<CrushBucket>> {
    let alg = d.u32("crush bucket alg")?;
    if alg == 0 {
        return Ok(None);
    }
    if !(1..=5).contains(&alg) {
        return Err(DecodeError::invalid(
            "crush bucket",
            format!("unsupported bucket algorithm {alg}"),
        ));
    }
    let id = d.i32("crush bucket id")?;
    let bucket_type = d.u16("crush bucket type")?;
    let alg2 = d.u8("crush bucket alg")?;
    let hash = d.u8("crush bucket hash")?;
    let weight = d.u32("crush bucket weight")?;
    let size = d.count(4, "crush bucket size")?;
    let items = (0..size)
        .map(|_| d.i32("crush bucket item"))
        .collect::<Result<Vec<_>>>()?;
    // Ceph trusts the second algorithm byte for the body.
    let weights = match alg2 {
        bucket_alg::UNIFORM => BucketWeights::Uniform {
            item_weight: d.u32("crush uniform item_weight")?,
        },
        bucket_alg::LIST => {
            let mut item_weights = Vec::with_capacity(size);
            let mut sum_weights = Vec::with_capacity(size);
            for _ in 0..size {
                item_weights.push(d.u32("crush list item_weight")?);
                sum_weights.push(d.u32("crush list sum_weight")?);
            }
            BucketWeights::List {
                item_weights,
                sum_weights,
            }
        }
        bucket_alg::TREE => {
            let n = usize::from(d.u8("crush tree num_nodes")?);
            BucketWeights::Tree {
                node_weights: decode_u32s(d, n, "crush tree node_weight")?,
            }
        }
        bucket_alg::STRAW => {
            let mut item_weights = Vec::with_capacity(size);
            let mut straws = Vec::with_capacity(size);
            for _ in 0..size {
                item_weights.push(d.u32("crush straw item_weight")?);
                straws.push(d.u32("crush straw straw")?);
            }
            BucketWeights::Straw {
                item_weights,
                straws,
            }
        }
        bucket_alg::STRAW2 => BucketWeights::Straw2 {
            item_weights: decode_u32s(d, size, "crush straw2 item_weight")?,
        },
        other => {
            return Err(DecodeError::invalid(
                "crush bucket",
                format!("unsupported bucket algorithm {other}"),
            ))
        }
    };
    Ok(Some(CrushBucket {
        id,
        bucket_type,
        alg: alg2,
        hash,
        weight,
        items,
        weights,
    }))
}

fn encode_bucket(b: &CrushBucket, out: &mut Vec<u8>) {
    // The algorithm goes out twice: as the slot marker and in the bucket.
    u32::from(b.alg).encode(out, 0);
    b.id.encode(out, 0);
    b.bucket_type.encode(out, 0);
    b.alg.encode(out, 0);
    b.hash.encode(out, 0);
    b.weight.encode(out, 0);
    (b.items.len() as u32).encode(out, 0);
    for i in &b.items {
        i.encode(out, 0);
    }
    match &b.weights {
        BucketWeights::Uniform { item_weight } => item_weight.encode(out, 0),
        BucketWeights::List {
            item_weights,
            sum_weights,
        } => {
            for (w, s) in item_weights.iter().zip(sum_weights) {
                w.encode(out, 0);
                s.encode(out, 0);
            }
        }
        BucketWeights::Tree { node_weights } => {
            (node_weights.len() as u8).encode(out, 0);
            for w in node_weights {
                w.encode(out, 0);
            }
        }
        BucketWeights::Straw {
            item_weights,
            straws,
        } => {
            for (w, s) in item_weights.iter().zip(straws) {
                w.encode(out, 0);
                s.encode(out, 0);
            }
        }
        BucketWeights::Straw2 { item_weights } => {
            for w in item_weights {
                w.encode(out, 0);
            }
        }
    }
}

impl Decode for CrushWrapper {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let magic = d.u32("crush magic")?;
        if magic != CRUSH_MAGIC {
            return Err(DecodeError::invalid(
                "crush map",
                format!("bad magic {magic:#x}"),
            ));
        }
        let max_buckets = d.i32("crush max_buckets")?;
        let max_rules = d.u32("crush max_rules")?;
        let max_devices = d.i32("crush max_devices")?;
        // Every bucket slot and rule slot takes at least 4 bytes.
        let max_buckets = usize::try_from(max_buckets)
            .map_err(|_| DecodeError::invalid("crush map", "negative max_buckets"))?;
        if max_buckets
            .saturating_add(max_rules as usize)
            .saturating_mul(4)
            > d.remaining()
        {
            return Err(DecodeError::Short {
                what: "crush buckets and rules",
                need: max_buckets
                    .saturating_add(max_rules as usize)
                    .saturating_mul(4),
                have: d.remaining(),
            });
        }
        let mut buckets = Vec::with_capacity(max_buckets);
        for _ in 0..max_buckets {
            buckets.push(decode_bucket(d)?);
        }
        let mut rules = Vec::with_capacity(max_rules as usize);
        for _ in 0..max_rules {
            if d.u32("crush rule present")? == 0 {
                rules.push(None);
                continue;
            }
            let len = d.count(12, "crush rule len")?;
            let ruleset = d.u8("crush rule ruleset")?;
            let rule_type = d.u8("crush rule type")?;
            let min_size = d.u8("crush rule min_size")?;
            let max_size = d.u8("crush rule max_size")?;
            let steps = (0..len)
                .map(|_| {
                    Ok(CrushRuleStep {
                        op: d.u32("crush step op")?,
                        arg1: d.i32("crush step arg1")?,
                        arg2: d.i32("crush step arg2")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            rules.push(Some(CrushRule {
                ruleset,
                rule_type,
                min_size,
                max_size,
                steps,
            }));
        }
        let type_names = decode_name_map(d)?;
        let item_names = decode_name_map(d)?;
        let rule_names = decode_name_map(d)?;

        let mut map = CrushWrapper {
            buckets,
            rules,
            max_devices,
            type_names,
            item_names,
            rule_names,
            tunables: CrushTunables::LEGACY,
            class_map: BTreeMap::new(),
            class_names: BTreeMap::new(),
            class_bucket: BTreeMap::new(),
            choose_args: BTreeMap::new(),
            sections: crush_section::NONE,
        };
        let t = &mut map.tunables;
        if !d.is_empty() {
            t.choose_local_tries = d.u32("crush choose_local_tries")?;
            t.choose_local_fallback_tries = d.u32("crush choose_local_fallback_tries")?;
            t.choose_total_tries = d.u32("crush choose_total_tries")?;
            map.sections = crush_section::TRIES;
        }
        if !d.is_empty() {
            t.chooseleaf_descend_once = d.u32("crush chooseleaf_descend_once")?;
            map.sections = crush_section::DESCEND_ONCE;
        }
        if !d.is_empty() {
            t.chooseleaf_vary_r = d.u8("crush chooseleaf_vary_r")?;
            map.sections = crush_section::VARY_R;
        }
        if !d.is_empty() {
            t.straw_calc_version = d.u8("crush straw_calc_version")?;
            map.sections = crush_section::STRAW_CALC;
        }
        if !d.is_empty() {
            t.allowed_bucket_algs = d.u32("crush allowed_bucket_algs")?;
            map.sections = crush_section::ALLOWED_ALGS;
        }
        if !d.is_empty() {
            t.chooseleaf_stable = d.u8("crush chooseleaf_stable")?;
            map.sections = crush_section::STABLE;
        }
        if !d.is_empty() {
            map.class_map = BTreeMap::decode(d)?;
            map.class_names = BTreeMap::decode(d)?;
            map.class_bucket = BTreeMap::decode(d)?;
            map.sections = crush_section::CLASSES;
        }
        if !d.is_empty() {
            let n = d.count(12, "crush choose_args")?;
            for _ in 0..n {
                let key = d.i64("crush choose_args id")?;
                let m = d.count(12, "crush choose_arg map")?;
                let mut args = BTreeMap::new();
                for _ in 0..m {
                    let bucket_index = d.u32("crush choose_arg bucket")?;
                    if bucket_index as usize >= max_buckets {
                        return Err(DecodeError::invalid(
                            "crush choose_args",
                            format!("bucket index {bucket_index} out of range"),
                        ));
                    }
                    let positions = d.count(4, "crush weight_set positions")?;
                    let mut weight_set = Vec::with_capacity(positions);
                    for _ in 0..positions {
                        let size = d.count(4, "crush weight_set size")?;
                        weight_set.push(decode_u32s(d, size, "crush weight_set weight")?);
                    }
                    let ids_size = d.count(4, "crush choose_arg ids")?;
                    let ids = (0..ids_size)
                        .map(|_| d.i32("crush choose_arg id"))
                        .collect::<Result<Vec<_>>>()?;
                    args.insert(bucket_index, ChooseArg { weight_set, ids });
                }
                map.choose_args.insert(key, args);
            }
            map.sections = crush_section::CHOOSE_ARGS;
        }
        if !d.is_empty() {
            map.tunables.msr_descents = d.u32("crush msr_descents")?;
            map.tunables.msr_collision_tries = d.u32("crush msr_collision_tries")?;
            map.sections = crush_section::MSR;
        }
        Ok(map)
    }
}

impl Encode for CrushWrapper {
    /// Writes the groups the map was decoded with (all of them for maps
    /// built here), minus those the peer's features rule out: stable
    /// tunables need `CRUSH_TUNABLES5`, classes and choose_args need
    /// Luminous, the MSR tunables Squid.
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        let f = features;
        CRUSH_MAGIC.encode(out, f);
        (self.buckets.len() as i32).encode(out, f);
        (self.rules.len() as u32).encode(out, f);
        self.max_devices.encode(out, f);
        for b in &self.buckets {
            match b {
                None => 0u32.encode(out, f),
                Some(b) => encode_bucket(b, out),
            }
        }
        for r in &self.rules {
            match r {
                None => 0u32.encode(out, f),
                Some(r) => {
                    1u32.encode(out, f);
                    (r.steps.len() as u32).encode(out, f);
                    out.extend_from_slice(&[r.ruleset, r.rule_type, r.min_size, r.max_size]);
                    for s in &r.steps {
                        s.op.encode(out, f);
                        s.arg1.encode(out, f);
                        s.arg2.encode(out, f);
                    }
                }
            }
        }
        encode_name_map(&self.type_names, out, f);
        encode_name_map(&self.item_names, out, f);
        encode_name_map(&self.rule_names, out, f);
        let t = &self.tunables;
        let s = self.sections;
        if s >= crush_section::TRIES {
            t.choose_local_tries.encode(out, f);
            t.choose_local_fallback_tries.encode(out, f);
            t.choose_total_tries.encode(out, f);
        }
        if s >= crush_section::DESCEND_ONCE {
            t.chooseleaf_descend_once.encode(out, f);
        }
        if s >= crush_section::VARY_R {
            t.chooseleaf_vary_r.encode(out, f);
        }
        if s >= crush_section::STRAW_CALC {
            t.straw_calc_version.encode(out, f);
        }
        if s >= crush_section::ALLOWED_ALGS {
            t.allowed_bucket_algs.encode(out, f);
        }
        if s < crush_section::STABLE || f & CEPH_FEATURE_CRUSH_TUNABLES5 == 0 {
            return;
        }
        t.chooseleaf_stable.encode(out, f);
        if s < crush_section::CLASSES || !has_feature(f, CEPH_FEATUREMASK_SERVER_LUMINOUS) {
            return;
        }
        self.class_map.encode(out, f);
        self.class_names.encode(out, f);
        self.class_bucket.encode(out, f);
        if s < crush_section::CHOOSE_ARGS {
            return;
        }
        (self.choose_args.len() as u32).encode(out, f);
        for (key, args) in &self.choose_args {
            key.encode(out, f);
            let used: Vec<_> = args
                .iter()
                .filter(|(_, a)| !a.weight_set.is_empty() || !a.ids.is_empty())
                .collect();
            (used.len() as u32).encode(out, f);
            for (index, a) in used {
                index.encode(out, f);
                (a.weight_set.len() as u32).encode(out, f);
                for ws in &a.weight_set {
                    ws.encode(out, f);
                }
                a.ids.encode(out, f);
            }
        }
        if s >= crush_section::MSR && has_feature(f, CEPH_FEATUREMASK_SERVER_SQUID) {
            t.msr_descents.encode(out, f);
            t.msr_collision_tries.encode(out, f);
        }
    }
}

fn alg_name(alg: u8) -> &'static str {
    match alg {
        bucket_alg::UNIFORM => "uniform",
        bucket_alg::LIST => "list",
        bucket_alg::TREE => "tree",
        bucket_alg::STRAW => "straw",
        bucket_alg::STRAW2 => "straw2",
        _ => "unknown",
    }
}

impl CrushWrapper {
    /// The bucket with this (negative) id.
    pub fn bucket(&self, id: i32) -> Option<&CrushBucket> {
        let index = usize::try_from(-1i64 - i64::from(id)).ok()?;
        self.buckets.get(index)?.as_ref()
    }

    /// The rule with this id.
    pub fn rule(&self, id: usize) -> Option<&CrushRule> {
        self.rules.get(id)?.as_ref()
    }

    /// The name of a device or bucket.
    pub fn item_name(&self, id: i32) -> Option<&str> {
        self.item_names.get(&id).map(String::as_str)
    }

    /// The id of the device or bucket with this name.
    pub fn item_id(&self, name: &str) -> Option<i32> {
        self.item_names
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| *id)
    }

    /// The class name of a device.
    pub fn item_class(&self, id: i32) -> Option<&str> {
        self.class_names
            .get(self.class_map.get(&id)?)
            .map(String::as_str)
    }

    fn type_name(&self, t: i32) -> Option<&str> {
        self.type_names.get(&t).map(String::as_str)
    }

    /// The map in the shape of `ceph osd crush dump -f json`.
    pub fn to_json(&self) -> Value {
        // max_devices is read from the wire: list no more devices than
        // there can be OSDs, so a hostile value cannot size the output.
        let devices: Vec<Value> = (0..self.max_devices.min(crate::osd_types::MAX_OSDS))
            .map(|i| {
                let mut m = serde_json::Map::new();
                m.insert("id".into(), json!(i));
                m.insert(
                    "name".into(),
                    json!(self
                        .item_name(i)
                        .map_or_else(|| format!("device{i}"), str::to_string)),
                );
                if let Some(c) = self.item_class(i) {
                    m.insert("class".into(), json!(c));
                }
                Value::Object(m)
            })
            .collect();
        let mut types = Vec::new();
        if !self.type_names.contains_key(&0) && !self.type_names.is_empty() {
            types.push(json!({"type_id": 0, "name": "device"}));
        }
        for (id, name) in &self.type_names {
            if *id >= 0 {
                types.push(json!({"type_id": id, "name": name}));
            }
        }
        let buckets: Vec<Value> = self
            .buckets
            .iter()
            .flatten()
            .map(|b| {
                let mut m = serde_json::Map::new();
                m.insert("id".into(), json!(b.id));
                if let Some(n) = self.item_name(b.id) {
                    m.insert("name".into(), json!(n));
                }
                m.insert("type_id".into(), json!(b.bucket_type));
                if let Some(n) = self.type_name(i32::from(b.bucket_type)) {
                    m.insert("type_name".into(), json!(n));
                }
                m.insert("weight".into(), json!(b.weight));
                m.insert("alg".into(), json!(alg_name(b.alg)));
                m.insert(
                    "hash".into(),
                    json!(if b.hash == 0 { "rjenkins1" } else { "unknown" }),
                );
                let items: Vec<Value> = b
                    .items
                    .iter()
                    .enumerate()
                    .map(|(pos, id)| json!({"id": id, "weight": b.item_weight(pos), "pos": pos}))
                    .collect();
                m.insert("items".into(), Value::Array(items));
                Value::Object(m)
            })
            .collect();
        let rules: Vec<Value> = self
            .rules
            .iter()
            .enumerate()
            .filter_map(|(id, r)| r.as_ref().map(|r| self.rule_json(id, r)))
            .collect();
        json!({
            "devices": devices,
            "types": types,
            "buckets": buckets,
            "rules": rules,
            "tunables": self.tunables_json(),
            "choose_args": self.choose_args_json(),
        })
    }

    fn rule_json(&self, id: usize, r: &CrushRule) -> Value {
        let steps: Vec<Value> = r
            .steps
            .iter()
            .map(|s| {
                let typ = || json!(self.type_name(s.arg2).unwrap_or(""));
                match s.op {
                    rule_op::NOOP => json!({"op": "noop"}),
                    rule_op::TAKE => json!({
                        "op": "take",
                        "item": s.arg1,
                        "item_name": self.item_name(s.arg1).unwrap_or(""),
                    }),
                    rule_op::EMIT => json!({"op": "emit"}),
                    rule_op::CHOOSE_FIRSTN => {
                        json!({"op": "choose_firstn", "num": s.arg1, "type": typ()})
                    }
                    rule_op::CHOOSE_INDEP => {
                        json!({"op": "choose_indep", "num": s.arg1, "type": typ()})
                    }
                    rule_op::CHOOSELEAF_FIRSTN => {
                        json!({"op": "chooseleaf_firstn", "num": s.arg1, "type": typ()})
                    }
                    rule_op::CHOOSELEAF_INDEP => {
                        json!({"op": "chooseleaf_indep", "num": s.arg1, "type": typ()})
                    }
                    rule_op::CHOOSE_MSR => {
                        json!({"op": "choosemsr", "num": s.arg1, "type": typ()})
                    }
                    rule_op::SET_CHOOSE_TRIES => json!({"op": "set_choose_tries", "num": s.arg1}),
                    rule_op::SET_CHOOSELEAF_TRIES => {
                        json!({"op": "set_chooseleaf_tries", "num": s.arg1})
                    }
                    rule_op::SET_MSR_DESCENTS => json!({"op": "set_msr_descents", "num": s.arg1}),
                    rule_op::SET_MSR_COLLISION_TRIES => {
                        json!({"op": "set_msr_collision_tries", "num": s.arg1})
                    }
                    op => json!({"opcode": op, "arg1": s.arg1, "arg2": s.arg2}),
                }
            })
            .collect();
        let mut m = serde_json::Map::new();
        m.insert("rule_id".into(), json!(id));
        if let Some(n) = self.rule_names.get(&(id as i32)) {
            m.insert("rule_name".into(), json!(n));
        }
        // Releases before Quincy also show the legacy mask.
        m.insert("ruleset".into(), json!(r.ruleset));
        m.insert("type".into(), json!(r.rule_type));
        m.insert("min_size".into(), json!(r.min_size));
        m.insert("max_size".into(), json!(r.max_size));
        m.insert("steps".into(), Value::Array(steps));
        Value::Object(m)
    }

    fn profile(&self) -> &'static str {
        let t = &self.tunables;
        let argonaut = t.choose_local_tries == 2
            && t.choose_local_fallback_tries == 5
            && t.choose_total_tries == 19
            && t.chooseleaf_descend_once == 0
            && t.chooseleaf_vary_r == 0
            && t.chooseleaf_stable == 0
            && t.allowed_bucket_algs == CrushTunables::LEGACY.allowed_bucket_algs;
        let bobtail_base = t.choose_local_tries == 0
            && t.choose_local_fallback_tries == 0
            && t.choose_total_tries == 50
            && t.chooseleaf_descend_once == 1;
        let straw2 = 1 << bucket_alg::STRAW2;
        if bobtail_base && t.chooseleaf_vary_r == 1 && t.chooseleaf_stable == 1 {
            if t.allowed_bucket_algs & straw2 != 0 {
                "jewel"
            } else {
                "unknown"
            }
        } else if bobtail_base
            && t.chooseleaf_vary_r == 1
            && t.chooseleaf_stable == 0
            && t.allowed_bucket_algs & straw2 != 0
        {
            "hammer"
        } else if bobtail_base
            && t.chooseleaf_vary_r == 1
            && t.chooseleaf_stable == 0
            && t.allowed_bucket_algs == CrushTunables::LEGACY.allowed_bucket_algs
        {
            "firefly"
        } else if bobtail_base
            && t.chooseleaf_vary_r == 0
            && t.chooseleaf_stable == 0
            && t.allowed_bucket_algs == CrushTunables::LEGACY.allowed_bucket_algs
        {
            "bobtail"
        } else if argonaut {
            "argonaut"
        } else {
            "unknown"
        }
    }

    fn has_rule_op(&self, ops: &[u32]) -> bool {
        self.rules
            .iter()
            .flatten()
            .flat_map(|r| &r.steps)
            .any(|s| ops.contains(&s.op))
    }

    fn has_bucket_alg(&self, alg: u8) -> bool {
        self.buckets.iter().flatten().any(|b| b.alg == alg)
    }

    /// The oldest client release (a release number) that can use this map
    /// (the CRUSH part of Ceph's `get_min_compat_client`).
    pub fn min_client_release(&self) -> u8 {
        let t = &self.tunables;
        let l = &CrushTunables::LEGACY;
        if !self.choose_args.is_empty() {
            12
        } else if t.chooseleaf_stable != 0 || self.has_rule_op(&[rule_op::SET_CHOOSELEAF_STABLE]) {
            10
        } else if self.has_bucket_alg(bucket_alg::STRAW2) {
            8
        } else if t.chooseleaf_vary_r != 0 || self.has_rule_op(&[rule_op::SET_CHOOSELEAF_VARY_R]) {
            6
        } else if t.chooseleaf_descend_once != 0
            || self.has_rule_op(&[
                rule_op::CHOOSE_INDEP,
                rule_op::CHOOSELEAF_INDEP,
                rule_op::SET_CHOOSE_TRIES,
                rule_op::SET_CHOOSELEAF_TRIES,
            ])
        {
            2
        } else if t.choose_local_tries != l.choose_local_tries
            || t.choose_local_fallback_tries != l.choose_local_fallback_tries
            || t.choose_total_tries != l.choose_total_tries
        {
            1
        } else {
            0
        }
    }

    fn tunables_json(&self) -> Value {
        let t = &self.tunables;
        let l = &CrushTunables::LEGACY;
        let tunables1 = t.choose_local_tries != l.choose_local_tries
            || t.choose_local_fallback_tries != l.choose_local_fallback_tries
            || t.choose_total_tries != l.choose_total_tries;
        let tunables2 = t.chooseleaf_descend_once != 0;
        let tunables3 = t.chooseleaf_vary_r != 0;
        let tunables5 = t.chooseleaf_stable != 0;
        let v2_rules = self.has_rule_op(&[
            rule_op::CHOOSE_INDEP,
            rule_op::CHOOSELEAF_INDEP,
            rule_op::SET_CHOOSE_TRIES,
            rule_op::SET_CHOOSELEAF_TRIES,
        ]);
        let v3_rules = self.has_rule_op(&[rule_op::SET_CHOOSELEAF_VARY_R]);
        let v4_buckets = self.has_bucket_alg(bucket_alg::STRAW2);
        let v5_rules = self.has_rule_op(&[rule_op::SET_CHOOSELEAF_STABLE]);
        let msr_rules = self.has_rule_op(&[
            rule_op::CHOOSE_MSR,
            rule_op::SET_MSR_DESCENTS,
            rule_op::SET_MSR_COLLISION_TRIES,
        ]);
        let min_version = if msr_rules {
            "squid"
        } else if tunables5 || v5_rules {
            "jewel"
        } else if v4_buckets {
            "hammer"
        } else if tunables3 {
            "firefly"
        } else if tunables2 || tunables1 {
            "bobtail"
        } else {
            "argonaut"
        };
        let profile = self.profile();
        json!({
            "choose_local_tries": t.choose_local_tries,
            "choose_local_fallback_tries": t.choose_local_fallback_tries,
            "choose_total_tries": t.choose_total_tries,
            "chooseleaf_descend_once": t.chooseleaf_descend_once,
            "chooseleaf_vary_r": t.chooseleaf_vary_r,
            "chooseleaf_stable": t.chooseleaf_stable,
            "msr_descents": t.msr_descents,
            "msr_collision_tries": t.msr_collision_tries,
            "straw_calc_version": t.straw_calc_version,
            "allowed_bucket_algs": t.allowed_bucket_algs,
            "profile": profile,
            "optimal_tunables": i32::from(profile == "jewel"),
            "legacy_tunables": i32::from(profile == "argonaut"),
            "minimum_required_version": min_version,
            "require_feature_tunables": i32::from(tunables1),
            "require_feature_tunables2": i32::from(tunables2),
            "has_v2_rules": i32::from(v2_rules),
            "require_feature_tunables3": i32::from(tunables3),
            "has_v3_rules": i32::from(v3_rules),
            "has_v4_buckets": i32::from(v4_buckets),
            "require_feature_tunables5": i32::from(tunables5),
            "has_v5_rules": i32::from(v5_rules),
            "has_msr_rules": i32::from(msr_rules),
        })
    }

    fn choose_args_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (key, args) in &self.choose_args {
            let list: Vec<Value> = args
                .iter()
                .filter(|(_, a)| !a.weight_set.is_empty() || !a.ids.is_empty())
                .map(|(index, a)| {
                    let mut o = serde_json::Map::new();
                    o.insert("bucket_id".into(), json!(-1 - i64::from(*index)));
                    if !a.weight_set.is_empty() {
                        let ws: Vec<Value> = a
                            .weight_set
                            .iter()
                            .map(|w| {
                                Value::Array(w.iter().map(|x| json!(*x as f64 / 65536.0)).collect())
                            })
                            .collect();
                        o.insert("weight_set".into(), Value::Array(ws));
                    }
                    if !a.ids.is_empty() {
                        o.insert("ids".into(), json!(a.ids));
                    }
                    Value::Object(o)
                })
                .collect();
            m.insert(key.to_string(), Value::Array(list));
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hostile max_devices must not size the JSON device list (the
    /// fuzzer found an out-of-memory here).
    #[test]
    fn to_json_device_list_is_bounded() {
        let crush = CrushWrapper {
            max_devices: i32::MAX,
            ..CrushWrapper::default()
        };
        let devices = crush.to_json()["devices"].as_array().map(Vec::len);
        assert_eq!(devices, Some(crate::osd_types::MAX_OSDS as usize));
        let small = CrushWrapper {
            max_devices: 3,
            ..CrushWrapper::default()
        };
        assert_eq!(small.to_json()["devices"][2]["name"], "device2");
    }

    /// An empty name survives a round trip (a bare zero length reads as
    /// the first half of a 64-bit one; the fuzzer found the mismatch).
    #[test]
    fn empty_names_round_trip() {
        let mut crush = CrushWrapper::default();
        crush.type_names.insert(3, String::new());
        crush.type_names.insert(4, "host".into());
        crush.item_names.insert(-1, String::new());
        let bytes = crush.to_bytes(ceph_types::features::CLIENT_FEATURES_ALL);
        assert_eq!(CrushWrapper::decode_all(&bytes).unwrap(), crush);
    }
}
