//! A RADOS pool (`pg_pool_t`) and its parts: snapshots, options, hit-set
//! parameters and the last PG merge.
//!
//! Decoding reads the enveloped forms (version 5 and later; every pool a
//! Luminous-or-newer cluster writes is version 24+, Tentacle writes 32).
//! Versions after 32 are read as far as this crate models and the rest kept
//! as opaque bytes.

use std::collections::{BTreeMap, BTreeSet};

use ceph_denc::{
    encode_envelope, pick_version, rest, Decode, DecodeError, Decoder, Encode, Result,
};
use ceph_types::features::{
    has_feature, CEPH_FEATUREMASK_SERVER_LUMINOUS, CEPH_FEATUREMASK_SERVER_MIMIC,
    CEPH_FEATUREMASK_SERVER_NAUTILUS, CEPH_FEATUREMASK_SERVER_TENTACLE,
    CEPH_FEATURE_NEW_OSDOP_ENCODING,
};
use ceph_types::time::{ceph_stamp, UTime};
use serde_json::{json, Value};

use crate::osd_types::{snap_intervals_json, EVersion, PgId, SnapIntervals};

/// A pool snapshot (`pool_snap_info_t`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolSnapInfo {
    /// The snapshot's id, taken from the pool's `snap_seq` when it was made.
    pub snapid: u64,
    /// When the snapshot was taken.
    pub stamp: UTime,
    /// The name given to `ceph osd pool mksnap`.
    pub name: String,
}

impl Decode for PoolSnapInfo {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.envelope("pool_snap_info_t", 2, |d, _| {
            Ok(PoolSnapInfo {
                snapid: d.u64("pool_snap_info_t.snapid")?,
                stamp: UTime::decode(d)?,
                name: String::decode(d)?,
            })
        })
    }
}

impl Encode for PoolSnapInfo {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        encode_envelope(out, 2, 2, |out| {
            self.snapid.encode(out, features);
            self.stamp.encode(out, features);
            self.name.encode(out, features);
        });
    }
}

/// A typed pool option value (`pool_opts_t::value_t`).
#[derive(Debug, Clone, PartialEq)]
pub enum PoolOptValue {
    /// A text value (e.g. `compression_mode`).
    Str(String),
    /// An integer value (e.g. `recovery_priority`, `pg_num_min`).
    Int(i64),
    /// A floating-point value (e.g. `target_size_ratio`).
    Double(f64),
}

/// Pool options (`pool_opts_t`): option key number → value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PoolOpts {
    /// Option key number (see [`PoolOpts::key_name`]) → value; only options set on the pool appear.
    pub opts: BTreeMap<i32, PoolOptValue>,
    /// Version decoded (1 wrote integers as 32 bits).
    pub struct_v: u8,
}

/// Names of the pool option keys (`pool_opts_t::key_t`), by number.
const POOL_OPT_NAMES: &[&str] = &[
    "scrub_min_interval",
    "scrub_max_interval",
    "deep_scrub_interval",
    "recovery_priority",
    "recovery_op_priority",
    "scrub_priority",
    "compression_mode",
    "compression_algorithm",
    "compression_required_ratio",
    "compression_max_blob_size",
    "compression_min_blob_size",
    "csum_type",
    "csum_max_block",
    "csum_min_block",
    "fingerprint_algorithm",
    "pg_num_min",
    "target_size_bytes",
    "target_size_ratio",
    "pg_autoscale_bias",
    "read_lease_interval",
    "dedup_tier",
    "dedup_chunk_algorithm",
    "dedup_cdc_chunk_size",
    "pg_num_max",
    "read_ratio",
];

impl PoolOpts {
    /// The option's name, or its number as text for options this crate
    /// does not know.
    pub fn key_name(key: i32) -> String {
        usize::try_from(key)
            .ok()
            .and_then(|k| POOL_OPT_NAMES.get(k))
            .map_or_else(|| key.to_string(), |s| s.to_string())
    }

    /// The options as one JSON object keyed by option name, the way `osd dump` shows a pool's
    /// `options`.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (k, v) in &self.opts {
            let v = match v {
                PoolOptValue::Str(s) => json!(s),
                PoolOptValue::Int(i) => json!(i),
                PoolOptValue::Double(f) => json!(f),
            };
            m.insert(PoolOpts::key_name(*k), v);
        }
        Value::Object(m)
    }
}

impl Decode for PoolOpts {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.envelope("pool_opts_t", 2, |d, v| {
            let n = d.count(9, "pool_opts_t")?;
            let mut opts = BTreeMap::new();
            for _ in 0..n {
                let key = d.i32("pool_opts_t.key")?;
                let ty = d.i32("pool_opts_t.type")?;
                let val = match ty {
                    0 => PoolOptValue::Str(String::decode(d)?),
                    1 if v >= 2 => PoolOptValue::Int(d.i64("pool_opts_t.int")?),
                    1 => PoolOptValue::Int(i64::from(d.i32("pool_opts_t.int")?)),
                    2 => PoolOptValue::Double(f64::decode(d)?),
                    t => {
                        return Err(DecodeError::invalid(
                            "pool_opts_t",
                            format!("unknown value type {t}"),
                        ))
                    }
                };
                opts.insert(key, val);
            }
            Ok(PoolOpts { opts, struct_v: v })
        })
    }
}

impl Encode for PoolOpts {
    /// Version 2 (64-bit integers), or 1 for a peer before Nautilus.
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        let v = if has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS) {
            2
        } else {
            1
        };
        let v = pick_version(self.struct_v, v);
        encode_envelope(out, v, 1, |out| {
            (self.opts.len() as u32).encode(out, features);
            for (k, val) in &self.opts {
                k.encode(out, features);
                match val {
                    PoolOptValue::Str(s) => {
                        0i32.encode(out, features);
                        s.encode(out, features);
                    }
                    PoolOptValue::Int(i) => {
                        1i32.encode(out, features);
                        if v >= 2 {
                            i.encode(out, features);
                        } else {
                            (*i as i32).encode(out, features);
                        }
                    }
                    PoolOptValue::Double(f) => {
                        2i32.encode(out, features);
                        f.encode(out, features);
                    }
                }
            }
        });
    }
}

/// Hit-set parameters of a cache pool (`HitSet::Params`): the hit-set type
/// and its type-specific settings, kept as the encoded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitSetParams {
    /// The envelope's version and compat version.
    pub struct_v: u8,
    /// The oldest envelope version a reader must understand to decode the body.
    pub compat_v: u8,
    /// The envelope body: a type byte, then that type's parameters.
    pub body: Vec<u8>,
}

impl Default for HitSetParams {
    fn default() -> Self {
        HitSetParams {
            struct_v: 1,
            compat_v: 1,
            body: vec![0],
        }
    }
}

impl HitSetParams {
    /// The hit-set type name (`none`, `explicit_hash`, `explicit_object`,
    /// `bloom`).
    pub fn type_name(&self) -> &'static str {
        match self.body.first() {
            Some(0) | None => "none",
            Some(1) => "explicit_hash",
            Some(2) => "explicit_object",
            Some(3) => "bloom",
            Some(_) => "unknown",
        }
    }
}

impl Decode for HitSetParams {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let struct_v = d.u8("HitSet::Params")?;
        let compat_v = d.u8("HitSet::Params")?;
        if compat_v > 1 {
            return Err(DecodeError::TooNew {
                what: "HitSet::Params",
                compat: compat_v,
                supported: 1,
            });
        }
        let body = d.bytes("HitSet::Params")?.to_vec();
        Ok(HitSetParams {
            struct_v,
            compat_v,
            body,
        })
    }
}

impl Encode for HitSetParams {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        encode_envelope(out, self.struct_v, self.compat_v, |out| {
            out.extend_from_slice(&self.body)
        });
    }
}

/// The last merge of two PGs of a pool (`pg_merge_meta_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PgMergeMeta {
    /// The PG that was folded into its parent and went away.
    pub source_pgid: PgId,
    /// Epoch at which the source and target PGs were both ready to merge.
    pub ready_epoch: u32,
    /// The merged PG's `last_epoch_started` (peering history) at the merge.
    pub last_epoch_started: u32,
    /// The merged PG's `last_epoch_clean` at the merge.
    pub last_epoch_clean: u32,
    /// Last log version of the source PG when it was merged.
    pub source_version: EVersion,
    /// Last log version of the target (parent) PG when it was merged.
    pub target_version: EVersion,
}

impl Decode for PgMergeMeta {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.envelope("pg_merge_meta_t", 1, |d, _| {
            Ok(PgMergeMeta {
                source_pgid: PgId::decode(d)?,
                ready_epoch: d.u32("pg_merge_meta_t.ready_epoch")?,
                last_epoch_started: d.u32("pg_merge_meta_t.last_epoch_started")?,
                last_epoch_clean: d.u32("pg_merge_meta_t.last_epoch_clean")?,
                source_version: EVersion::decode(d)?,
                target_version: EVersion::decode(d)?,
            })
        })
    }
}

impl Encode for PgMergeMeta {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        encode_envelope(out, 1, 1, |out| {
            self.source_pgid.encode(out, features);
            self.ready_epoch.encode(out, features);
            self.last_epoch_started.encode(out, features);
            self.last_epoch_clean.encode(out, features);
            self.source_version.encode(out, features);
            self.target_version.encode(out, features);
        });
    }
}

/// A RADOS pool (`pg_pool_t`): how its objects are spread over placement
/// groups (`pg_num`, `pgp_num`, `crush_rule`, `object_hash`), how many copies
/// or shards each PG keeps (`size`, `min_size`, erasure-code profile), its
/// snapshots, quotas, cache-tier settings and flags.
#[derive(Debug, Clone, PartialEq)]
pub struct PgPool {
    /// [`PgPool::TYPE_REPLICATED`] or [`PgPool::TYPE_ERASURE`].
    pub pool_type: u8,
    /// Number of replicas (or k+m shards).
    pub size: u8,
    /// Id of the CRUSH rule that chooses the OSDs for this pool's PGs.
    pub crush_rule: u8,
    /// Object name hash (`CEPH_STR_HASH_*`; 2 = rjenkins).
    pub object_hash: u8,
    /// Number of placement groups the pool's objects are hashed into.
    pub pg_num: u32,
    /// Number of placement seeds fed to CRUSH (≤ `pg_num`): after a split,
    /// the new PGs stay on their parent's OSDs until `pgp_num` catches up.
    pub pgp_num: u32,
    /// Epoch of the last change to the pool.
    pub last_change: u32,
    /// The newest snapshot id handed out in this pool (pool or self-managed snapshots).
    pub snap_seq: u64,
    /// Epoch of the last snapshot change.
    pub snap_epoch: u32,
    /// Pool snapshots (`ceph osd pool mksnap`) by id; empty when snapshots are self-managed.
    pub snaps: BTreeMap<u64, PoolSnapInfo>,
    /// Deleted snapshot ids, as intervals. Only maps from before Octopus fill
    /// it; later releases track removals outside the pool.
    pub removed_snaps: SnapIntervals,
    /// Owner id of the old auid scheme; unused since Luminous, kept for the encoding.
    pub auid: u64,
    /// `FLAG_*` bits.
    pub flags: u64,
    /// Fewest replicas (or shards) that must be up for a PG to serve I/O.
    pub min_size: u8,
    /// Byte quota (`osd pool set-quota max_bytes`); 0 means none.
    pub quota_max_bytes: u64,
    /// Object-count quota (`osd pool set-quota max_objects`); 0 means none.
    pub quota_max_objects: u64,
    /// Ids of the cache pools layered over this pool.
    pub tiers: BTreeSet<u64>,
    /// The base pool this pool is a cache tier of, or -1.
    pub tier_of: i64,
    /// Cache-tier mode: 0 none, 1 writeback, 2 forward, 3 readonly,
    /// 4 readforward, 5 readproxy, 6 proxy.
    pub cache_mode: u8,
    /// Pool that clients send reads for this pool to (the overlay), or -1.
    pub read_tier: i64,
    /// Pool that clients send writes for this pool to (the overlay), or -1.
    pub write_tier: i64,
    /// Free-form key/value properties; an old field Ceph no longer uses.
    pub properties: BTreeMap<String, String>,
    /// How a cache tier records which objects were accessed.
    pub hit_set_params: HitSetParams,
    /// Seconds each hit set covers.
    pub hit_set_period: u32,
    /// Number of hit sets a cache tier keeps.
    pub hit_set_count: u32,
    /// Erasure-coded pools: bytes of data in one stripe across the data
    /// shards (k × chunk size); 0 for replicated pools.
    pub stripe_width: u32,
    /// Cache tier: flush and evict to stay under this many bytes; 0 means no limit.
    pub target_max_bytes: u64,
    /// Cache tier: flush and evict to stay under this many objects; 0 means no limit.
    pub target_max_objects: u64,
    /// Cache tier: share of the target size dirty before flushing starts, in millionths.
    pub cache_target_dirty_ratio_micro: u32,
    /// Cache tier: share of the target size used before eviction starts, in millionths.
    pub cache_target_full_ratio_micro: u32,
    /// Cache tier: seconds an object stays before it may be flushed.
    pub cache_min_flush_age: u32,
    /// Cache tier: seconds an object stays before it may be evicted.
    pub cache_min_evict_age: u32,
    /// Name of the erasure-code profile (k, m, plugin); empty for replicated pools.
    pub erasure_code_profile: String,
    /// Like `last_force_op_resend`, for clients older than Luminous.
    pub last_force_op_resend_preluminous: u32,
    /// Cache tier: in how many recent hit sets an object must appear
    /// before a read promotes it into the cache.
    pub min_read_recency_for_promote: i32,
    /// Object count announced at pool creation (lets FileStore pre-split directories).
    pub expected_num_objects: u64,
    /// Cache tier: dirty share at which flushing speeds up, in millionths.
    pub cache_target_dirty_high_ratio_micro: u32,
    /// Cache tier: in how many recent hit sets an object must appear
    /// before a write promotes it.
    pub min_write_recency_for_promote: i32,
    /// Hit-set archive objects are named with UTC times (not local time).
    pub use_gmt_hitset: bool,
    /// Erasure-coded pools: read from all shards and answer from the first k that reply.
    pub fast_read: bool,
    /// Cache tier: percent by which each older hit set counts less when
    /// judging how hot an object is.
    pub hit_set_grade_decay_rate: i32,
    /// Cache tier: how many hit sets to search when judging how hot an object is.
    pub hit_set_search_last_n: u32,
    /// Per-pool options set with `osd pool set` (compression, scrub intervals, ...).
    pub opts: PoolOpts,
    /// Like `last_force_op_resend`, for clients older than Nautilus.
    pub last_force_op_resend_prenautilus: u32,
    /// Application name → key → value.
    pub application_metadata: BTreeMap<String, BTreeMap<String, String>>,
    /// When the pool was created.
    pub create_time: UTime,
    /// The `pg_num` the pool is moving toward; the manager changes `pg_num` step by step.
    pub pg_num_target: u32,
    /// The `pgp_num` the pool is moving toward.
    pub pgp_num_target: u32,
    /// The `pg_num` once merges under way finish; below `pg_num` while PGs merge.
    pub pg_num_pending: u32,
    /// Two epochs Nautilus release candidates wrote; later ones write 0.
    pub legacy_merge_epochs: (u32, u32),
    /// Epoch from which clients must resend in-flight requests to this
    /// pool (set when its PGs split or merge or its tiering changes).
    pub last_force_op_resend: u32,
    /// 0 off, 1 warn, 2 on.
    pub pg_autoscale_mode: u8,
    /// The pool's most recent PG merge.
    pub last_pg_merge_meta: PgMergeMeta,
    /// Stretch mode: number of distinct CRUSH buckets (of the barrier type)
    /// an acting set must span before a PG may go active; 0 for ordinary pools.
    pub peering_crush_bucket_count: u32,
    /// Stretch mode: number of buckets the acting set aims to span.
    pub peering_crush_bucket_target: u32,
    /// Stretch mode: CRUSH bucket type (e.g. datacenter) the bucket counts are taken in.
    pub peering_crush_bucket_barrier: u32,
    /// Stretch mode: a CRUSH bucket the acting set must include, or
    /// [`CRUSH_ITEM_NONE`].
    pub peering_crush_mandatory_member: i32,
    /// Erasure-coded shards that may not become primary (version 32+).
    pub nonprimary_shards: ShardIdSet,
    /// Version decoded (0 for pools built here).
    pub struct_v: u8,
    /// Fields of versions after 32, unparsed.
    pub unknown_tail: Vec<u8>,
}

impl Default for PgPool {
    fn default() -> Self {
        PgPool {
            pool_type: PgPool::TYPE_REPLICATED,
            size: 0,
            crush_rule: 0,
            object_hash: 0,
            pg_num: 0,
            pgp_num: 0,
            last_change: 0,
            snap_seq: 0,
            snap_epoch: 0,
            snaps: BTreeMap::new(),
            removed_snaps: SnapIntervals::new(),
            auid: 0,
            flags: 0,
            min_size: 0,
            quota_max_bytes: 0,
            quota_max_objects: 0,
            tiers: BTreeSet::new(),
            tier_of: -1,
            cache_mode: 0,
            read_tier: -1,
            write_tier: -1,
            properties: BTreeMap::new(),
            hit_set_params: HitSetParams::default(),
            hit_set_period: 0,
            hit_set_count: 0,
            stripe_width: 0,
            target_max_bytes: 0,
            target_max_objects: 0,
            cache_target_dirty_ratio_micro: 0,
            cache_target_full_ratio_micro: 0,
            cache_min_flush_age: 0,
            cache_min_evict_age: 0,
            erasure_code_profile: String::new(),
            last_force_op_resend_preluminous: 0,
            min_read_recency_for_promote: 0,
            expected_num_objects: 0,
            cache_target_dirty_high_ratio_micro: 0,
            min_write_recency_for_promote: 0,
            use_gmt_hitset: true,
            fast_read: false,
            hit_set_grade_decay_rate: 0,
            hit_set_search_last_n: 0,
            opts: PoolOpts::default(),
            last_force_op_resend_prenautilus: 0,
            application_metadata: BTreeMap::new(),
            create_time: UTime::default(),
            pg_num_target: 0,
            pgp_num_target: 0,
            pg_num_pending: 0,
            legacy_merge_epochs: (0, 0),
            last_force_op_resend: 0,
            pg_autoscale_mode: 0,
            last_pg_merge_meta: PgMergeMeta::default(),
            peering_crush_bucket_count: 0,
            peering_crush_bucket_target: 0,
            peering_crush_bucket_barrier: 0,
            peering_crush_mandatory_member: CRUSH_ITEM_NONE,
            nonprimary_shards: ShardIdSet::default(),
            struct_v: 0,
            unknown_tail: Vec::new(),
        }
    }
}

/// CRUSH's "no item" marker (`CRUSH_ITEM_NONE`).
pub const CRUSH_ITEM_NONE: i32 = 0x7fff_ffff;

impl PgPool {
    /// Pool type: every PG keeps `size` full copies of each object.
    pub const TYPE_REPLICATED: u8 = 1;
    /// Pool type: objects are split into k data and m coding shards.
    pub const TYPE_ERASURE: u8 = 3;

    /// Placement seeds are hashed with the pool id, so pools with the same
    /// `pg_num` do not land on the same OSDs. Set on every pool of a modern cluster.
    pub const FLAG_HASHPSPOOL: u64 = 1 << 0;
    /// The pool (or cluster) is full: writes are blocked.
    pub const FLAG_FULL: u64 = 1 << 1;
    /// An erasure-coded pool that allows partial overwrites (needed for RBD and CephFS data).
    pub const FLAG_EC_OVERWRITES: u64 = 1 << 2;
    /// A cache tier whose clones may be incomplete (tiering added to a pool with data).
    pub const FLAG_INCOMPLETE_CLONES: u64 = 1 << 3;
    /// The pool may not be deleted.
    pub const FLAG_NODELETE: u64 = 1 << 4;
    /// `pg_num` and `pgp_num` may not change.
    pub const FLAG_NOPGCHANGE: u64 = 1 << 5;
    /// `size` may not change.
    pub const FLAG_NOSIZECHANGE: u64 = 1 << 6;
    /// OSDs treat writes as "won't be read soon" and skip caching them.
    pub const FLAG_WRITE_FADVISE_DONTNEED: u64 = 1 << 7;
    /// No regular scrubs for this pool.
    pub const FLAG_NOSCRUB: u64 = 1 << 8;
    /// No deep scrubs for this pool.
    pub const FLAG_NODEEP_SCRUB: u64 = 1 << 9;
    /// Full because the pool's own quota was reached, not the cluster.
    pub const FLAG_FULL_QUOTA: u64 = 1 << 10;
    /// An OSD serving the pool is past its nearfull ratio.
    pub const FLAG_NEARFULL: u64 = 1 << 11;
    /// An OSD serving the pool is past its backfillfull ratio.
    pub const FLAG_BACKFILLFULL: u64 = 1 << 12;
    /// Clients manage snapshots themselves (RBD, CephFS); pool snapshots are refused.
    pub const FLAG_SELFMANAGED_SNAPS: u64 = 1 << 13;
    /// Pool snapshots are in use; self-managed snapshots are refused.
    pub const FLAG_POOL_SNAPS: u64 = 1 << 14;
    /// The pool's first PGs are still being created.
    pub const FLAG_CREATING: u64 = 1 << 15;
    /// Every read and write to the pool fails with EIO (an operator's emergency switch).
    pub const FLAG_EIO: u64 = 1 << 16;
    /// The PG autoscaler treats the pool as one that will be large and gives it many PGs from the
    /// start.
    pub const FLAG_BULK: u64 = 1 << 17;
    /// The pool is served by Crimson (SeaStore-era) OSDs.
    pub const FLAG_CRIMSON: u64 = 1 << 18;
    /// Erasure-code optimizations (Tentacle): some shards may not become
    /// primary ([`PgPool::nonprimary_shards`]), and `pg_temp` lists the
    /// shards that may first (see `placement`).
    pub const FLAG_EC_OPTIMIZATIONS: u64 = 1 << 19;

    /// The newest version whose every field this crate models.
    pub const CURRENT_VERSION: u8 = 32;

    /// A stretch pool has peering constraints across CRUSH buckets.
    pub fn is_stretch_pool(&self) -> bool {
        self.peering_crush_bucket_count != 0
    }

    /// Whether the pool is erasure coded.
    pub fn is_erasure(&self) -> bool {
        self.pool_type == PgPool::TYPE_ERASURE
    }

    /// The comma-separated flag names, as `osd dump` prints them.
    pub fn flag_names(&self) -> String {
        const NAMES: &[(u64, &str)] = &[
            (PgPool::FLAG_HASHPSPOOL, "hashpspool"),
            (PgPool::FLAG_FULL, "full"),
            (PgPool::FLAG_EC_OVERWRITES, "ec_overwrites"),
            (PgPool::FLAG_INCOMPLETE_CLONES, "incomplete_clones"),
            (PgPool::FLAG_NODELETE, "nodelete"),
            (PgPool::FLAG_NOPGCHANGE, "nopgchange"),
            (PgPool::FLAG_NOSIZECHANGE, "nosizechange"),
            (
                PgPool::FLAG_WRITE_FADVISE_DONTNEED,
                "write_fadvise_dontneed",
            ),
            (PgPool::FLAG_NOSCRUB, "noscrub"),
            (PgPool::FLAG_NODEEP_SCRUB, "nodeep-scrub"),
            (PgPool::FLAG_FULL_QUOTA, "full_quota"),
            (PgPool::FLAG_NEARFULL, "nearfull"),
            (PgPool::FLAG_BACKFILLFULL, "backfillfull"),
            (PgPool::FLAG_SELFMANAGED_SNAPS, "selfmanaged_snaps"),
            (PgPool::FLAG_POOL_SNAPS, "pool_snaps"),
            (PgPool::FLAG_CREATING, "creating"),
            (PgPool::FLAG_EIO, "eio"),
            (PgPool::FLAG_BULK, "bulk"),
            (PgPool::FLAG_CRIMSON, "crimson"),
            (PgPool::FLAG_EC_OPTIMIZATIONS, "ec_optimizations"),
        ];
        NAMES
            .iter()
            .filter(|(bit, _)| self.flags & bit != 0)
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(",")
    }

    fn cache_mode_name(&self) -> &'static str {
        match self.cache_mode {
            0 => "none",
            1 => "writeback",
            2 => "forward",
            3 => "readonly",
            4 => "readforward",
            5 => "readproxy",
            6 => "proxy",
            _ => "unknown",
        }
    }

    fn autoscale_mode_name(&self) -> &'static str {
        match self.pg_autoscale_mode {
            0 => "off",
            1 => "warn",
            2 => "on",
            _ => "unknown",
        }
    }

    /// The pool's fields in the shape of Ceph's `pg_pool_t::dump` (what
    /// `osd dump` shows inside each pool after its id and name).
    pub fn to_json_fields(&self, m: &mut serde_json::Map<String, Value>) {
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        put("create_time", json!(ceph_stamp(&self.create_time)));
        put("flags", json!(self.flags));
        put("flags_names", json!(self.flag_names()));
        put("type", json!(self.pool_type));
        put("size", json!(self.size));
        put("min_size", json!(self.min_size));
        put("crush_rule", json!(self.crush_rule));
        put(
            "peering_crush_bucket_count",
            json!(self.peering_crush_bucket_count),
        );
        put(
            "peering_crush_bucket_target",
            json!(self.peering_crush_bucket_target),
        );
        put(
            "peering_crush_bucket_barrier",
            json!(self.peering_crush_bucket_barrier),
        );
        put(
            "peering_crush_bucket_mandatory_member",
            json!(self.peering_crush_mandatory_member),
        );
        // Printed by Tentacle, whose pools are version 32.
        if self.struct_v >= 32 {
            put("is_stretch_pool", json!(self.is_stretch_pool()));
        }
        put("object_hash", json!(self.object_hash));
        put("pg_autoscale_mode", json!(self.autoscale_mode_name()));
        put("pg_num", json!(self.pg_num));
        put("pg_placement_num", json!(self.pgp_num));
        put("pg_placement_num_target", json!(self.pgp_num_target));
        put("pg_num_target", json!(self.pg_num_target));
        put("pg_num_pending", json!(self.pg_num_pending));
        put(
            "last_pg_merge_meta",
            json!({
                "source_pgid": self.last_pg_merge_meta.source_pgid.to_string(),
                "ready_epoch": self.last_pg_merge_meta.ready_epoch,
                "last_epoch_started": self.last_pg_merge_meta.last_epoch_started,
                "last_epoch_clean": self.last_pg_merge_meta.last_epoch_clean,
                "source_version": self.last_pg_merge_meta.source_version.to_string(),
                "target_version": self.last_pg_merge_meta.target_version.to_string(),
            }),
        );
        put("last_change", json!(self.last_change.to_string()));
        put(
            "last_force_op_resend",
            json!(self.last_force_op_resend.to_string()),
        );
        put(
            "last_force_op_resend_prenautilus",
            json!(self.last_force_op_resend_prenautilus.to_string()),
        );
        put(
            "last_force_op_resend_preluminous",
            json!(self.last_force_op_resend_preluminous.to_string()),
        );
        put("auid", json!(self.auid));
        put(
            "snap_mode",
            json!(if self.flags & PgPool::FLAG_POOL_SNAPS != 0 {
                "pool"
            } else {
                "selfmanaged"
            }),
        );
        put("snap_seq", json!(self.snap_seq));
        put("snap_epoch", json!(self.snap_epoch));
        put(
            "pool_snaps",
            Value::Array(
                self.snaps
                    .values()
                    .map(|s| {
                        json!({"snapid": s.snapid, "stamp": ceph_stamp(&s.stamp), "name": s.name})
                    })
                    .collect(),
            ),
        );
        put(
            "removed_snaps",
            json!(removed_snaps_text(&self.removed_snaps)),
        );
        put("quota_max_bytes", json!(self.quota_max_bytes));
        put("quota_max_objects", json!(self.quota_max_objects));
        put("tiers", json!(self.tiers));
        put("tier_of", json!(self.tier_of));
        put("read_tier", json!(self.read_tier));
        put("write_tier", json!(self.write_tier));
        put("cache_mode", json!(self.cache_mode_name()));
        put("target_max_bytes", json!(self.target_max_bytes));
        put("target_max_objects", json!(self.target_max_objects));
        put(
            "cache_target_dirty_ratio_micro",
            json!(self.cache_target_dirty_ratio_micro),
        );
        put(
            "cache_target_dirty_high_ratio_micro",
            json!(self.cache_target_dirty_high_ratio_micro),
        );
        put(
            "cache_target_full_ratio_micro",
            json!(self.cache_target_full_ratio_micro),
        );
        put("cache_min_flush_age", json!(self.cache_min_flush_age));
        put("cache_min_evict_age", json!(self.cache_min_evict_age));
        put("erasure_code_profile", json!(self.erasure_code_profile));
        put(
            "hit_set_params",
            json!({"type": self.hit_set_params.type_name()}),
        );
        put("hit_set_period", json!(self.hit_set_period));
        put("hit_set_count", json!(self.hit_set_count));
        put("use_gmt_hitset", json!(self.use_gmt_hitset));
        put(
            "min_read_recency_for_promote",
            json!(self.min_read_recency_for_promote),
        );
        put(
            "min_write_recency_for_promote",
            json!(self.min_write_recency_for_promote),
        );
        put(
            "hit_set_grade_decay_rate",
            json!(self.hit_set_grade_decay_rate),
        );
        put("hit_set_search_last_n", json!(self.hit_set_search_last_n));
        put("grade_table", json!([]));
        put("stripe_width", json!(self.stripe_width));
        put("expected_num_objects", json!(self.expected_num_objects));
        put("fast_read", json!(self.fast_read));
        // Releases before Tentacle neither encode nor print the set.
        if self.struct_v >= 32 || !self.nonprimary_shards.is_empty() {
            put(
                "nonprimary_shards",
                json!(self.nonprimary_shards.to_string()),
            );
        }
        put("options", self.opts.to_json());
        put("application_metadata", json!(self.application_metadata));
    }
}

/// `[a~b,c~d]`, as Ceph prints an interval set (start~length, hex-free).
fn removed_snaps_text(s: &SnapIntervals) -> String {
    let parts: Vec<String> = s.iter().map(|(b, l)| format!("{b}~{l}")).collect();
    format!("[{}]", parts.join(","))
}

impl Decode for PgPool {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let struct_v = d.u8("pg_pool_t")?;
        if struct_v < 5 {
            return Err(DecodeError::TooOld {
                what: "pg_pool_t",
                version: struct_v,
                oldest: 5,
            });
        }
        let compat_v = d.u8("pg_pool_t")?;
        if compat_v > 5 {
            return Err(DecodeError::TooNew {
                what: "pg_pool_t",
                compat: compat_v,
                supported: 5,
            });
        }
        d.envelope_body("pg_pool_t", struct_v, |d, v| decode_pool_body(d, v))
    }
}

fn decode_pool_body(d: &mut Decoder<'_>, v: u8) -> Result<PgPool> {
    let mut p = PgPool {
        struct_v: v,
        ..PgPool::default()
    };
    p.pool_type = d.u8("pg_pool_t.type")?;
    p.size = d.u8("pg_pool_t.size")?;
    p.crush_rule = d.u8("pg_pool_t.crush_rule")?;
    p.object_hash = d.u8("pg_pool_t.object_hash")?;
    p.pg_num = d.u32("pg_pool_t.pg_num")?;
    p.pgp_num = d.u32("pg_pool_t.pgp_num")?;
    // Localized PG counts, always 0.
    d.u32("pg_pool_t.lpg_num")?;
    d.u32("pg_pool_t.lpgp_num")?;
    p.last_change = d.u32("pg_pool_t.last_change")?;
    p.snap_seq = d.u64("pg_pool_t.snap_seq")?;
    p.snap_epoch = d.u32("pg_pool_t.snap_epoch")?;
    p.snaps = BTreeMap::decode(d)?;
    p.removed_snaps = BTreeMap::decode(d)?;
    p.auid = d.u64("pg_pool_t.auid")?;
    p.flags = d.u64("pg_pool_t.flags")?;
    // The retired crash_replay_interval.
    d.u32("pg_pool_t.crash_replay_interval")?;
    if v >= 7 {
        p.min_size = d.u8("pg_pool_t.min_size")?;
    } else {
        p.min_size = p.size - p.size / 2;
    }
    if v >= 8 {
        p.quota_max_bytes = d.u64("pg_pool_t.quota_max_bytes")?;
        p.quota_max_objects = d.u64("pg_pool_t.quota_max_objects")?;
    }
    if v >= 9 {
        p.tiers = BTreeSet::decode(d)?;
        p.tier_of = d.i64("pg_pool_t.tier_of")?;
        p.cache_mode = d.u8("pg_pool_t.cache_mode")?;
        p.read_tier = d.i64("pg_pool_t.read_tier")?;
        p.write_tier = d.i64("pg_pool_t.write_tier")?;
    }
    if v >= 10 {
        p.properties = BTreeMap::decode(d)?;
    }
    if v >= 11 {
        p.hit_set_params = HitSetParams::decode(d)?;
        p.hit_set_period = d.u32("pg_pool_t.hit_set_period")?;
        p.hit_set_count = d.u32("pg_pool_t.hit_set_count")?;
    }
    if v >= 12 {
        p.stripe_width = d.u32("pg_pool_t.stripe_width")?;
    }
    if v >= 13 {
        p.target_max_bytes = d.u64("pg_pool_t.target_max_bytes")?;
        p.target_max_objects = d.u64("pg_pool_t.target_max_objects")?;
        p.cache_target_dirty_ratio_micro = d.u32("pg_pool_t.cache_target_dirty_ratio")?;
        p.cache_target_full_ratio_micro = d.u32("pg_pool_t.cache_target_full_ratio")?;
        p.cache_min_flush_age = d.u32("pg_pool_t.cache_min_flush_age")?;
        p.cache_min_evict_age = d.u32("pg_pool_t.cache_min_evict_age")?;
    }
    if v >= 14 {
        p.erasure_code_profile = String::decode(d)?;
    }
    if v >= 15 {
        p.last_force_op_resend_preluminous = d.u32("pg_pool_t.last_force_op_resend")?;
    }
    p.min_read_recency_for_promote = if v >= 16 {
        d.i32("pg_pool_t.min_read_recency_for_promote")?
    } else {
        1
    };
    if v >= 17 {
        p.expected_num_objects = d.u64("pg_pool_t.expected_num_objects")?;
    }
    p.cache_target_dirty_high_ratio_micro = if v >= 19 {
        d.u32("pg_pool_t.cache_target_dirty_high_ratio")?
    } else {
        p.cache_target_dirty_ratio_micro
    };
    p.min_write_recency_for_promote = if v >= 20 {
        d.i32("pg_pool_t.min_write_recency_for_promote")?
    } else {
        1
    };
    p.use_gmt_hitset = v >= 21 && d.bool("pg_pool_t.use_gmt_hitset")?;
    p.fast_read = v >= 22 && d.bool("pg_pool_t.fast_read")?;
    if v >= 23 {
        p.hit_set_grade_decay_rate = d.i32("pg_pool_t.hit_set_grade_decay_rate")?;
        p.hit_set_search_last_n = d.u32("pg_pool_t.hit_set_search_last_n")?;
    } else {
        p.hit_set_search_last_n = 1;
    }
    if v >= 24 {
        p.opts = PoolOpts::decode(d)?;
    }
    p.last_force_op_resend_prenautilus = if v >= 25 {
        d.u32("pg_pool_t.last_force_op_resend_prenautilus")?
    } else {
        p.last_force_op_resend_preluminous
    };
    if v >= 26 {
        p.application_metadata = BTreeMap::decode(d)?;
    }
    if v >= 27 {
        p.create_time = UTime::decode(d)?;
    }
    if v >= 28 {
        p.pg_num_target = d.u32("pg_pool_t.pg_num_target")?;
        p.pgp_num_target = d.u32("pg_pool_t.pgp_num_target")?;
        p.pg_num_pending = d.u32("pg_pool_t.pg_num_pending")?;
        p.legacy_merge_epochs = (
            d.u32("pg_pool_t.pg_num_dec_last_epoch_started")?,
            d.u32("pg_pool_t.pg_num_dec_last_epoch_clean")?,
        );
        p.last_force_op_resend = d.u32("pg_pool_t.last_force_op_resend")?;
        p.pg_autoscale_mode = d.u8("pg_pool_t.pg_autoscale_mode")?;
        if v >= 29 {
            p.last_pg_merge_meta = PgMergeMeta::decode(d)?;
        } else {
            p.last_pg_merge_meta.last_epoch_started = p.legacy_merge_epochs.0;
            p.last_pg_merge_meta.last_epoch_clean = p.legacy_merge_epochs.1;
        }
    } else {
        p.pg_num_target = p.pg_num;
        p.pgp_num_target = p.pgp_num;
        p.pg_num_pending = p.pg_num;
        p.last_force_op_resend = p.last_force_op_resend_prenautilus;
        p.pg_autoscale_mode = 1;
    }
    // Version 30 always carries the stretch fields; from 31 on they are an
    // optional group, present only for stretch pools.
    let has_stretch_fields = match v {
        30 => true,
        31.. => d.bool("pg_pool_t.peering_crush_data")?,
        _ => false,
    };
    if has_stretch_fields {
        p.peering_crush_bucket_count = d.u32("pg_pool_t.peering_crush_bucket_count")?;
        p.peering_crush_bucket_target = d.u32("pg_pool_t.peering_crush_bucket_target")?;
        p.peering_crush_bucket_barrier = d.u32("pg_pool_t.peering_crush_bucket_barrier")?;
        p.peering_crush_mandatory_member = d.i32("pg_pool_t.peering_crush_mandatory_member")?;
    }
    if v >= 32 {
        p.nonprimary_shards = ShardIdSet::decode(d)?;
    }
    if v > PgPool::CURRENT_VERSION {
        p.unknown_tail = rest(d, "pg_pool_t tail")?;
    }
    Ok(p)
}

impl Encode for PgPool {
    /// The enveloped encoding Ceph picks from the peer's features (21, 24,
    /// 26, 27, then 29, or 30 for a stretch pool, and 32 for Tentacle
    /// peers), never newer than the version the pool was decoded from. Peers without the Hammer-era
    /// `NEW_OSDOP_ENCODING` bit are not supported (version 21 is written).
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        let allowed = if has_feature(features, CEPH_FEATUREMASK_SERVER_TENTACLE) {
            // A newer decoded version keeps its unparsed tail.
            self.struct_v.max(PgPool::CURRENT_VERSION)
        } else if features & CEPH_FEATURE_NEW_OSDOP_ENCODING == 0 {
            21
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_LUMINOUS) {
            24
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_MIMIC) {
            26
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS) {
            27
        } else if !self.is_stretch_pool() {
            29
        } else {
            30
        };
        let v = pick_version(self.struct_v, allowed);
        let f = features;
        encode_envelope(out, v, 5, |out| {
            self.pool_type.encode(out, f);
            self.size.encode(out, f);
            self.crush_rule.encode(out, f);
            self.object_hash.encode(out, f);
            self.pg_num.encode(out, f);
            self.pgp_num.encode(out, f);
            0u32.encode(out, f);
            0u32.encode(out, f);
            self.last_change.encode(out, f);
            self.snap_seq.encode(out, f);
            self.snap_epoch.encode(out, f);
            self.snaps.encode(out, f);
            self.removed_snaps.encode(out, f);
            self.auid.encode(out, f);
            if v >= 27 {
                self.flags.encode(out, f);
            } else {
                // Older peers do not know these flags.
                let mask = PgPool::FLAG_SELFMANAGED_SNAPS
                    | PgPool::FLAG_POOL_SNAPS
                    | PgPool::FLAG_CREATING;
                (self.flags & !mask).encode(out, f);
            }
            0u32.encode(out, f);
            self.min_size.encode(out, f);
            self.quota_max_bytes.encode(out, f);
            self.quota_max_objects.encode(out, f);
            self.tiers.encode(out, f);
            self.tier_of.encode(out, f);
            self.cache_mode.encode(out, f);
            self.read_tier.encode(out, f);
            self.write_tier.encode(out, f);
            self.properties.encode(out, f);
            self.hit_set_params.encode(out, f);
            self.hit_set_period.encode(out, f);
            self.hit_set_count.encode(out, f);
            self.stripe_width.encode(out, f);
            self.target_max_bytes.encode(out, f);
            self.target_max_objects.encode(out, f);
            self.cache_target_dirty_ratio_micro.encode(out, f);
            self.cache_target_full_ratio_micro.encode(out, f);
            self.cache_min_flush_age.encode(out, f);
            self.cache_min_evict_age.encode(out, f);
            self.erasure_code_profile.encode(out, f);
            self.last_force_op_resend_preluminous.encode(out, f);
            self.min_read_recency_for_promote.encode(out, f);
            self.expected_num_objects.encode(out, f);
            if v >= 19 {
                self.cache_target_dirty_high_ratio_micro.encode(out, f);
            }
            if v >= 20 {
                self.min_write_recency_for_promote.encode(out, f);
            }
            if v >= 21 {
                self.use_gmt_hitset.encode(out, f);
            }
            if v >= 22 {
                self.fast_read.encode(out, f);
            }
            if v >= 23 {
                self.hit_set_grade_decay_rate.encode(out, f);
                self.hit_set_search_last_n.encode(out, f);
            }
            if v >= 24 {
                self.opts.encode(out, f);
            }
            if v >= 25 {
                self.last_force_op_resend_prenautilus.encode(out, f);
            }
            if v >= 26 {
                self.application_metadata.encode(out, f);
            }
            if v >= 27 {
                self.create_time.encode(out, f);
            }
            if v >= 28 {
                self.pg_num_target.encode(out, f);
                self.pgp_num_target.encode(out, f);
                self.pg_num_pending.encode(out, f);
                self.legacy_merge_epochs.0.encode(out, f);
                self.legacy_merge_epochs.1.encode(out, f);
                self.last_force_op_resend.encode(out, f);
                self.pg_autoscale_mode.encode(out, f);
            }
            if v >= 29 {
                self.last_pg_merge_meta.encode(out, f);
            }
            let stretch_fields = match v {
                30 => true,
                31.. => {
                    self.is_stretch_pool().encode(out, f);
                    self.is_stretch_pool()
                }
                _ => false,
            };
            if stretch_fields {
                self.peering_crush_bucket_count.encode(out, f);
                self.peering_crush_bucket_target.encode(out, f);
                self.peering_crush_bucket_barrier.encode(out, f);
                self.peering_crush_mandatory_member.encode(out, f);
            }
            if v >= 32 {
                self.nonprimary_shards.encode(out, f);
            }
            if v > PgPool::CURRENT_VERSION {
                out.extend_from_slice(&self.unknown_tail);
            }
        });
    }
}

/// The `removed_snaps` style JSON of an interval set, for callers that want
/// Ceph's structured form.
pub fn snap_intervals_to_json(s: &SnapIntervals) -> Value {
    snap_intervals_json(s)
}

/// A set of erasure-code shard ids below 128 (Ceph's `shard_id_set`), kept
/// as two 64-bit words: bit `n % 64` of word `n / 64` is shard `n`.
///
/// ```
/// use ceph_osdmap::pg_pool::ShardIdSet;
/// let mut s = ShardIdSet::default();
/// s.insert(3);
/// s.insert(70);
/// assert!(s.contains(70));
/// assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 70]);
/// assert_eq!(s.to_string(), "{3,70}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShardIdSet {
    /// Bits for shards 0–63, then 64–127.
    pub words: [u64; 2],
}

impl ShardIdSet {
    /// One past the largest shard id the set can hold.
    pub const CAPACITY: u8 = 128;

    /// Adds `shard`; ids of [`Self::CAPACITY`] and above are ignored.
    pub fn insert(&mut self, shard: u8) {
        if shard < Self::CAPACITY {
            self.words[usize::from(shard / 64)] |= 1 << (shard % 64);
        }
    }

    /// Whether `shard` is in the set.
    pub fn contains(&self, shard: u8) -> bool {
        shard < Self::CAPACITY && self.words[usize::from(shard / 64)] & (1 << (shard % 64)) != 0
    }

    /// Whether the set holds no shard.
    pub fn is_empty(&self) -> bool {
        self.words == [0, 0]
    }

    /// The shard ids, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (0..Self::CAPACITY).filter(|&s| self.contains(s))
    }
}

/// `{a,b,c}`, as Ceph prints the set.
impl std::fmt::Display for ShardIdSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.iter().map(|s| s.to_string()).collect();
        write!(f, "{{{}}}", ids.join(","))
    }
}

impl Decode for ShardIdSet {
    /// Each word is a little-endian base-128 varint.
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(ShardIdSet {
            words: [
                decode_varint_u64(d, "shard_id_set")?,
                decode_varint_u64(d, "shard_id_set")?,
            ],
        })
    }
}

impl Encode for ShardIdSet {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        for w in self.words {
            encode_varint_u64(w, out);
        }
    }
}

/// Reads a base-128 varint (low 7 bits first, high bit = more follows) of
/// at most ten bytes; bits beyond 64 are an error.
fn decode_varint_u64(d: &mut Decoder<'_>, what: &'static str) -> Result<u64> {
    let mut value = 0u64;
    for i in 0..10u32 {
        let byte = d.u8(what)?;
        let bits = u64::from(byte & 0x7f);
        let shift = 7 * i;
        // The tenth byte may only contribute the 64th bit.
        if shift == 63 && bits > 1 {
            return Err(DecodeError::invalid(what, "varint overflows 64 bits"));
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::invalid(what, "varint longer than 10 bytes"))
}

fn encode_varint_u64(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}
