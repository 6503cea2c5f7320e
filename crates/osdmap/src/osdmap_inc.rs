//! OSD map incrementals (Ceph's `OSDMap::Incremental`) and applying them
//! to a map.
//!
//! An incremental takes a map from epoch N-1 to N. It may carry a whole
//! new map (`fullmap`) or a new CRUSH map (`crush`), both as encoded
//! bytes. Decoding reads the enveloped encoding (wrapper version 7-8,
//! client section up to 9, OSD section up to 12) and checks the CRC.

use std::collections::{BTreeMap, BTreeSet};

use ceph_denc::{
    newer_fields, pick_version, put_newer_fields, Decode, DecodeError, Decoder, Encode, Result,
};
use ceph_types::addr::{EntityAddr, EntityAddrVec};
use ceph_types::features::{
    has_feature, CEPH_FEATUREMASK_SERVER_LUMINOUS, CEPH_FEATUREMASK_SERVER_MIMIC,
    CEPH_FEATUREMASK_SERVER_NAUTILUS, CEPH_FEATUREMASK_SERVER_REEF,
};
use ceph_types::time::{UTime, Uuid};

use crate::crush::CrushWrapper;
use crate::osd_types::{
    addr_list_insert, decode_addr_list, encode_addr_list, AddrExpiryList, OsdInfo, OsdXInfo, PgId,
    SnapIntervals, MAX_OSDS,
};
use crate::osdmap::{
    decode_sectioned, encode_sectioned, osd_state, osdmap_flags, OSDMap, SectionLayout,
    CEPH_OSD_DEFAULT_PRIMARY_AFFINITY,
};
use crate::pg_pool::PgPool;

/// What an incremental does to `allow_crimson` (`mutate_allow_crimson_t`).
pub mod mutate_allow_crimson {
    /// Leave `allow_crimson` as it is.
    pub const NONE: u8 = 0;
    /// Turn `allow_crimson` on.
    pub const SET: u8 = 1;
    /// Only used in tests by Ceph.
    pub const CLEAR: u8 = 2;
}

/// The release number an incremental carries for "no change" (Ceph's
/// `ceph_release_t{0xff}`, once -1).
pub const RELEASE_UNCHANGED: u8 = 0xff;

/// Whether a release number is a real one: Ceph orders any value with the
/// top bit set (an old -1) below every release.
fn is_release(r: u8) -> bool {
    (r as i8) >= 0
}

/// The changes from one OSD map epoch to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Incremental {
    /// The cluster's id; must match the map it is applied to.
    pub fsid: Uuid,
    /// The epoch this incremental produces.
    pub epoch: u32,
    /// When the new epoch was made.
    pub modified: UTime,
    /// -1: unchanged.
    pub new_pool_max: i64,
    /// -1: unchanged.
    pub new_flags: i32,
    /// A whole encoded map that replaces the current one (empty if none).
    pub fullmap: Vec<u8>,
    /// An encoded CRUSH map that replaces the current one (empty if none).
    pub crush: Vec<u8>,
    /// -1: unchanged.
    pub new_max_osd: i32,
    /// Pools created or changed, whole.
    pub new_pools: BTreeMap<i64, PgPool>,
    /// Names of pools created or renamed.
    pub new_pool_names: BTreeMap<i64, String>,
    /// Ids of deleted pools.
    pub old_pools: BTreeSet<i64>,
    /// OSDs that booted, with their public addresses (they become up).
    pub new_up_client: BTreeMap<i32, EntityAddrVec>,
    /// State bits to flip (0 means "flip UP", i.e. mark down).
    pub new_state: BTreeMap<i32, u32>,
    /// New in/out weights, 16.16 fixed point (0 marks the OSD out).
    pub new_weight: BTreeMap<i32, u32>,
    /// An empty list removes the pg_temp entry.
    pub new_pg_temp: BTreeMap<PgId, Vec<i32>>,
    /// -1 removes the primary_temp entry.
    pub new_primary_temp: BTreeMap<PgId, i32>,
    /// New primary affinities, 16.16 fixed point.
    pub new_primary_affinity: BTreeMap<i32, u32>,
    /// Erasure-code profiles added or replaced.
    pub new_erasure_code_profiles: BTreeMap<String, BTreeMap<String, String>>,
    /// Names of erasure-code profiles removed.
    pub old_erasure_code_profiles: Vec<String>,
    /// `pg_upmap` entries set.
    pub new_pg_upmap: BTreeMap<PgId, Vec<i32>>,
    /// `pg_upmap` entries removed.
    pub old_pg_upmap: BTreeSet<PgId>,
    /// `pg_upmap_items` entries set.
    pub new_pg_upmap_items: BTreeMap<PgId, Vec<(i32, i32)>>,
    /// `pg_upmap_items` entries removed.
    pub old_pg_upmap_items: BTreeSet<PgId>,
    /// Per pool, snapshots removed in this epoch.
    pub new_removed_snaps: BTreeMap<i64, SnapIntervals>,
    /// Per pool, snapshots purged in this epoch.
    pub new_purged_snaps: BTreeMap<i64, SnapIntervals>,
    /// New "last up/down change" time (zero: unchanged).
    pub new_last_up_change: UTime,
    /// New "last in/out change" time (zero: unchanged).
    pub new_last_in_change: UTime,
    /// `pg_upmap_primaries` entries set.
    pub new_pg_upmap_primary: BTreeMap<PgId, i32>,
    /// `pg_upmap_primaries` entries removed.
    pub old_pg_upmap_primary: BTreeSet<PgId>,

    // The OSD-only section.
    /// Back-network heartbeat addresses of OSDs that booted.
    pub new_hb_back_up: BTreeMap<i32, EntityAddrVec>,
    /// OSDs' new `up_thru` epochs (how far an OSD has confirmed it is up, for peering).
    pub new_up_thru: BTreeMap<i32, u32>,
    /// OSDs' new last clean interval, `[begin, end)` epochs.
    pub new_last_clean_interval: BTreeMap<i32, (u32, u32)>,
    /// OSDs declared lost, with the epoch (`osd lost`).
    pub new_lost: BTreeMap<i32, u32>,
    /// Client addresses blocklisted, with when each entry expires.
    pub new_blocklist: AddrExpiryList,
    /// Client addresses taken off the blocklist.
    pub old_blocklist: Vec<EntityAddr>,
    /// Cluster-network addresses of OSDs that booted.
    pub new_up_cluster: BTreeMap<i32, EntityAddrVec>,
    /// Name of a cluster snapshot to take (old, unused feature); empty if none.
    pub cluster_snapshot: String,
    /// Data-store uuids of new OSDs.
    pub new_uuid: BTreeMap<i32, Uuid>,
    /// OSDs' new extra details ([`OsdXInfo`]).
    pub new_xinfo: BTreeMap<i32, OsdXInfo>,
    /// Public-network heartbeat addresses of OSDs that booted.
    pub new_hb_front_up: BTreeMap<i32, EntityAddrVec>,
    /// The features the incremental was encoded with (written back as is).
    pub encode_features: u64,
    /// Negative: unchanged.
    pub new_nearfull_ratio: f32,
    /// New full ratio; negative: unchanged.
    pub new_full_ratio: f32,
    /// New backfillfull ratio; negative: unchanged.
    pub new_backfillfull_ratio: f32,
    /// Release numbers; [`RELEASE_UNCHANGED`] (or any value with the top
    /// bit set, Ceph's old -1) leaves the map's value alone. A
    /// `new_require_osd_release` of 0 is applied; a compat client of 0 is
    /// not (as in Ceph).
    pub new_require_min_compat_client: u8,
    /// New oldest OSD release allowed (see above).
    pub new_require_osd_release: u8,
    /// The OSD section's version-5 text form of the compat client.
    pub legacy_min_compat_client: String,
    /// Flags per CRUSH node / device class; 0 removes the entry.
    pub new_crush_node_flags: BTreeMap<i32, u32>,
    /// Per device class, [`osd_state`] flags for all OSDs of that class; 0 removes the entry.
    pub new_device_class_flags: BTreeMap<i32, u32>,
    /// Whether this incremental changes the stretch-mode fields below.
    pub change_stretch_mode: bool,
    /// Stretch mode: number of sites.
    pub new_stretch_bucket_count: u32,
    /// Stretch mode: nonzero while a site is lost.
    pub new_degraded_stretch_mode: u32,
    /// Stretch mode: nonzero while recovering from a lost site.
    pub new_recovering_stretch_mode: u32,
    /// Stretch mode: CRUSH bucket type dividing the sites.
    pub new_stretch_mode_bucket: i32,
    /// Stretch mode on or off.
    pub stretch_mode_enabled: bool,
    /// Address ranges blocklisted, with expiry.
    pub new_range_blocklist: AddrExpiryList,
    /// Address ranges taken off the blocklist.
    pub old_range_blocklist: Vec<EntityAddr>,
    /// One of [`mutate_allow_crimson`].
    pub mutate_allow_crimson: u8,

    /// CRC of this incremental, and of the full map it produces.
    pub inc_crc: u32,
    /// CRC-32C the full map must have once this incremental is applied.
    pub full_crc: u32,
    /// Versions decoded (0 for incrementals built here).
    pub struct_v: (u8, u8, u8),
    /// Fields of sections newer than modelled: client, OSD, wrapper.
    pub unknown_tails: (Vec<u8>, Vec<u8>, Vec<u8>),
}

impl Default for Incremental {
    fn default() -> Self {
        Incremental {
            fsid: Uuid::default(),
            epoch: 0,
            modified: UTime::default(),
            new_pool_max: -1,
            new_flags: -1,
            fullmap: Vec::new(),
            crush: Vec::new(),
            new_max_osd: -1,
            new_pools: BTreeMap::new(),
            new_pool_names: BTreeMap::new(),
            old_pools: BTreeSet::new(),
            new_up_client: BTreeMap::new(),
            new_state: BTreeMap::new(),
            new_weight: BTreeMap::new(),
            new_pg_temp: BTreeMap::new(),
            new_primary_temp: BTreeMap::new(),
            new_primary_affinity: BTreeMap::new(),
            new_erasure_code_profiles: BTreeMap::new(),
            old_erasure_code_profiles: Vec::new(),
            new_pg_upmap: BTreeMap::new(),
            old_pg_upmap: BTreeSet::new(),
            new_pg_upmap_items: BTreeMap::new(),
            old_pg_upmap_items: BTreeSet::new(),
            new_removed_snaps: BTreeMap::new(),
            new_purged_snaps: BTreeMap::new(),
            new_last_up_change: UTime::default(),
            new_last_in_change: UTime::default(),
            new_pg_upmap_primary: BTreeMap::new(),
            old_pg_upmap_primary: BTreeSet::new(),
            new_hb_back_up: BTreeMap::new(),
            new_up_thru: BTreeMap::new(),
            new_last_clean_interval: BTreeMap::new(),
            new_lost: BTreeMap::new(),
            new_blocklist: Vec::new(),
            old_blocklist: Vec::new(),
            new_up_cluster: BTreeMap::new(),
            cluster_snapshot: String::new(),
            new_uuid: BTreeMap::new(),
            new_xinfo: BTreeMap::new(),
            new_hb_front_up: BTreeMap::new(),
            encode_features: 0,
            new_nearfull_ratio: -1.0,
            new_full_ratio: -1.0,
            new_backfillfull_ratio: -1.0,
            new_require_min_compat_client: RELEASE_UNCHANGED,
            new_require_osd_release: RELEASE_UNCHANGED,
            legacy_min_compat_client: String::new(),
            new_crush_node_flags: BTreeMap::new(),
            new_device_class_flags: BTreeMap::new(),
            change_stretch_mode: false,
            new_stretch_bucket_count: 0,
            new_degraded_stretch_mode: 0,
            new_recovering_stretch_mode: 0,
            new_stretch_mode_bucket: 0,
            stretch_mode_enabled: false,
            new_range_blocklist: Vec::new(),
            old_range_blocklist: Vec::new(),
            mutate_allow_crimson: mutate_allow_crimson::NONE,
            inc_crc: 0,
            full_crc: 0,
            struct_v: (0, 0, 0),
            unknown_tails: (Vec::new(), Vec::new(), Vec::new()),
        }
    }
}

/// Why an incremental could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    #[error("incremental is for cluster {inc}, map is of {map}")]
    /// The incremental belongs to another cluster.
    WrongFsid {
        /// The map's cluster.
        map: Uuid,
        /// The incremental's cluster.
        inc: Uuid,
    },
    #[error("incremental makes epoch {inc}, map is at epoch {map}")]
    /// The incremental is not for the map's next epoch.
    WrongEpoch {
        /// The map's epoch.
        map: u32,
        /// The epoch the incremental makes.
        inc: u32,
    },
    #[error("OSD id {0} is out of range")]
    /// The incremental names an OSD at or past `max_osd`.
    BadOsd(i32),
    #[error("new max_osd {0} is above the supported {MAX_OSDS}")]
    /// The incremental raises `max_osd` past what this crate accepts.
    TooManyOsds(i32),
    #[error("bad embedded map: {0}")]
    /// The full map or CRUSH map carried inside did not decode.
    Decode(#[from] DecodeError),
}

fn decode_addrs(d: &mut Decoder<'_>) -> Result<Vec<EntityAddr>> {
    let n = d.count(9, "addresses")?;
    (0..n).map(|_| EntityAddr::decode(d)).collect()
}

fn encode_addrvec_map_as_addr(m: &BTreeMap<i32, EntityAddrVec>, out: &mut Vec<u8>, f: u64) {
    (m.len() as u32).encode(out, f);
    for (k, a) in m {
        k.encode(out, f);
        a.legacy().copied().unwrap_or_default().encode(out, f);
    }
}

impl Incremental {
    /// The newest client-section version this crate models.
    pub const CLIENT_VERSION: u8 = 9;
    /// The newest OSD-section version this crate models.
    pub const OSD_VERSION: u8 = 12;

    /// An empty incremental to epoch `epoch` of cluster `fsid`.
    pub fn new(fsid: Uuid, epoch: u32) -> Self {
        Incremental {
            fsid,
            epoch,
            ..Incremental::default()
        }
    }

    fn client_version(&self, features: u64) -> u8 {
        let allowed = if !has_feature(features, CEPH_FEATUREMASK_SERVER_LUMINOUS) {
            3
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_MIMIC) {
            5
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS) {
            6
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_REEF) {
            8
        } else {
            Incremental::CLIENT_VERSION.max(self.struct_v.1)
        };
        pick_version(self.struct_v.1, allowed)
    }

    fn osd_version(&self, features: u64) -> u8 {
        let mut allowed = if !has_feature(features, CEPH_FEATUREMASK_SERVER_LUMINOUS) {
            2
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS) {
            6
        } else {
            9
        };
        if self.change_stretch_mode {
            allowed = allowed.max(10);
        }
        if !self.new_range_blocklist.is_empty() || !self.old_range_blocklist.is_empty() {
            allowed = allowed.max(11);
        }
        if self.mutate_allow_crimson != mutate_allow_crimson::NONE {
            allowed = allowed.max(12);
        }
        if self.struct_v.2 > Incremental::OSD_VERSION {
            allowed = self.struct_v.2;
        }
        pick_version(self.struct_v.2, allowed)
    }

    fn decode_client(&mut self, d: &mut Decoder<'_>, v: u8) -> Result<()> {
        self.fsid = Uuid::decode(d)?;
        self.epoch = d.u32("inc.epoch")?;
        self.modified = UTime::decode(d)?;
        self.new_pool_max = d.i64("inc.new_pool_max")?;
        self.new_flags = d.i32("inc.new_flags")?;
        self.fullmap = d.bytes("inc.fullmap")?.to_vec();
        self.crush = d.bytes("inc.crush")?.to_vec();
        self.new_max_osd = d.i32("inc.new_max_osd")?;
        self.new_pools = BTreeMap::decode(d)?;
        self.new_pool_names = BTreeMap::decode(d)?;
        self.old_pools = BTreeSet::decode(d)?;
        self.new_up_client = BTreeMap::decode(d)?;
        self.new_state = if v >= 5 {
            BTreeMap::decode(d)?
        } else {
            BTreeMap::<i32, u8>::decode(d)?
                .into_iter()
                .map(|(k, s)| (k, u32::from(s)))
                .collect()
        };
        self.new_weight = BTreeMap::decode(d)?;
        self.new_pg_temp = BTreeMap::decode(d)?;
        self.new_primary_temp = BTreeMap::decode(d)?;
        if v >= 2 {
            self.new_primary_affinity = BTreeMap::decode(d)?;
        }
        if v >= 3 {
            self.new_erasure_code_profiles = BTreeMap::decode(d)?;
            self.old_erasure_code_profiles = Vec::decode(d)?;
        }
        if v >= 4 {
            self.new_pg_upmap = BTreeMap::decode(d)?;
            self.old_pg_upmap = BTreeSet::decode(d)?;
            self.new_pg_upmap_items = BTreeMap::decode(d)?;
            self.old_pg_upmap_items = BTreeSet::decode(d)?;
        }
        if v >= 6 {
            self.new_removed_snaps = BTreeMap::decode(d)?;
            self.new_purged_snaps = BTreeMap::decode(d)?;
        }
        if v >= 8 {
            self.new_last_up_change = UTime::decode(d)?;
            self.new_last_in_change = UTime::decode(d)?;
        }
        if v >= 9 {
            self.new_pg_upmap_primary = BTreeMap::decode(d)?;
            self.old_pg_upmap_primary = BTreeSet::decode(d)?;
        }
        self.unknown_tails.0 = newer_fields(d, v, Incremental::CLIENT_VERSION, "inc client tail")?;
        Ok(())
    }

    fn decode_osd(&mut self, d: &mut Decoder<'_>, v: u8) -> Result<()> {
        self.new_hb_back_up = BTreeMap::decode(d)?;
        self.new_up_thru = BTreeMap::decode(d)?;
        self.new_last_clean_interval = BTreeMap::decode(d)?;
        self.new_lost = BTreeMap::decode(d)?;
        self.new_blocklist = decode_addr_list(d)?;
        self.old_blocklist = decode_addrs(d)?;
        self.new_up_cluster = BTreeMap::decode(d)?;
        self.cluster_snapshot = String::decode(d)?;
        self.new_uuid = BTreeMap::decode(d)?;
        self.new_xinfo = BTreeMap::decode(d)?;
        self.new_hb_front_up = BTreeMap::decode(d)?;
        if v >= 2 {
            self.encode_features = d.u64("inc.encode_features")?;
        }
        if v >= 3 {
            self.new_nearfull_ratio = f32::decode(d)?;
            self.new_full_ratio = f32::decode(d)?;
        }
        if v >= 4 {
            self.new_backfillfull_ratio = f32::decode(d)?;
        }
        if v == 5 {
            self.legacy_min_compat_client = String::decode(d)?;
        }
        if v >= 6 {
            self.new_require_min_compat_client = d.u8("inc.new_require_min_compat_client")?;
            self.new_require_osd_release = d.u8("inc.new_require_osd_release")?;
        }
        if v >= 8 {
            self.new_crush_node_flags = BTreeMap::decode(d)?;
        }
        if v >= 9 {
            self.new_device_class_flags = BTreeMap::decode(d)?;
        }
        if v >= 10 {
            self.change_stretch_mode = d.bool("inc.change_stretch_mode")?;
            self.new_stretch_bucket_count = d.u32("inc.new_stretch_bucket_count")?;
            self.new_degraded_stretch_mode = d.u32("inc.new_degraded_stretch_mode")?;
            self.new_recovering_stretch_mode = d.u32("inc.new_recovering_stretch_mode")?;
            self.new_stretch_mode_bucket = d.i32("inc.new_stretch_mode_bucket")?;
            self.stretch_mode_enabled = d.bool("inc.stretch_mode_enabled")?;
        }
        if v >= 11 {
            self.new_range_blocklist = decode_addr_list(d)?;
            self.old_range_blocklist = decode_addrs(d)?;
        }
        if v >= 12 {
            self.mutate_allow_crimson = d.u8("inc.mutate_allow_crimson")?;
        }
        self.unknown_tails.1 = newer_fields(d, v, Incremental::OSD_VERSION, "inc osd tail")?;
        Ok(())
    }

    fn encode_client(&self, out: &mut Vec<u8>, f: u64, v: u8) {
        self.fsid.encode(out, f);
        self.epoch.encode(out, f);
        self.modified.encode(out, f);
        self.new_pool_max.encode(out, f);
        self.new_flags.encode(out, f);
        ceph_denc::encode_bytes(out, &self.fullmap);
        ceph_denc::encode_bytes(out, &self.crush);
        self.new_max_osd.encode(out, f);
        self.new_pools.encode(out, f);
        self.new_pool_names.encode(out, f);
        self.old_pools.encode(out, f);
        if v >= 7 {
            self.new_up_client.encode(out, f);
        } else {
            encode_addrvec_map_as_addr(&self.new_up_client, out, f);
        }
        if v >= 5 {
            self.new_state.encode(out, f);
        } else {
            // Old peers read 8 bits; changes only to higher bits are dropped.
            let legacy: BTreeMap<i32, u8> = self
                .new_state
                .iter()
                .filter(|(_, s)| **s == 0 || **s as u8 != 0)
                .map(|(k, s)| (*k, *s as u8))
                .collect();
            legacy.encode(out, f);
        }
        self.new_weight.encode(out, f);
        self.new_pg_temp.encode(out, f);
        self.new_primary_temp.encode(out, f);
        self.new_primary_affinity.encode(out, f);
        self.new_erasure_code_profiles.encode(out, f);
        self.old_erasure_code_profiles.encode(out, f);
        if v >= 4 {
            self.new_pg_upmap.encode(out, f);
            self.old_pg_upmap.encode(out, f);
            self.new_pg_upmap_items.encode(out, f);
            self.old_pg_upmap_items.encode(out, f);
        }
        if v >= 6 {
            self.new_removed_snaps.encode(out, f);
            self.new_purged_snaps.encode(out, f);
        }
        if v >= 8 {
            self.new_last_up_change.encode(out, f);
            self.new_last_in_change.encode(out, f);
        }
        if v >= 9 {
            self.new_pg_upmap_primary.encode(out, f);
            self.old_pg_upmap_primary.encode(out, f);
        }
        put_newer_fields(out, v, Incremental::CLIENT_VERSION, &self.unknown_tails.0);
    }

    fn encode_osd(&self, out: &mut Vec<u8>, f: u64, v: u8) {
        let addr_map = |out: &mut Vec<u8>, m: &BTreeMap<i32, EntityAddrVec>| {
            if v < 7 {
                encode_addrvec_map_as_addr(m, out, f);
            } else {
                m.encode(out, f);
            }
        };
        addr_map(out, &self.new_hb_back_up);
        self.new_up_thru.encode(out, f);
        self.new_last_clean_interval.encode(out, f);
        self.new_lost.encode(out, f);
        encode_addr_list(&self.new_blocklist, out, f);
        self.old_blocklist.encode(out, f);
        addr_map(out, &self.new_up_cluster);
        self.cluster_snapshot.encode(out, f);
        self.new_uuid.encode(out, f);
        self.new_xinfo.encode(out, f);
        addr_map(out, &self.new_hb_front_up);
        self.encode_features.encode(out, f);
        if v >= 3 {
            self.new_nearfull_ratio.encode(out, f);
            self.new_full_ratio.encode(out, f);
            self.new_backfillfull_ratio.encode(out, f);
        }
        if v == 5 {
            self.legacy_min_compat_client.encode(out, f);
        }
        if v >= 6 {
            self.new_require_min_compat_client.encode(out, f);
            self.new_require_osd_release.encode(out, f);
        }
        if v >= 8 {
            self.new_crush_node_flags.encode(out, f);
        }
        if v >= 9 {
            self.new_device_class_flags.encode(out, f);
        }
        if v >= 10 {
            self.change_stretch_mode.encode(out, f);
            self.new_stretch_bucket_count.encode(out, f);
            self.new_degraded_stretch_mode.encode(out, f);
            self.new_recovering_stretch_mode.encode(out, f);
            self.new_stretch_mode_bucket.encode(out, f);
            self.stretch_mode_enabled.encode(out, f);
        }
        if v >= 11 {
            encode_addr_list(&self.new_range_blocklist, out, f);
            self.old_range_blocklist.encode(out, f);
        }
        if v >= 12 {
            self.mutate_allow_crimson.encode(out, f);
        }
        put_newer_fields(out, v, Incremental::OSD_VERSION, &self.unknown_tails.1);
    }
}

const LAYOUT: SectionLayout = SectionLayout {
    what: "OSDMap::Incremental",
    client: "Incremental client section",
    osd: "Incremental osd section",
    crc_words: &["Incremental inc_crc", "Incremental full_crc"],
    tail: "Incremental tail",
};

impl Decode for Incremental {
    /// Decodes a whole incremental and checks its CRC.
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let mut inc = Incremental::default();
        let parts = decode_sectioned(
            d,
            &LAYOUT,
            &mut inc,
            Incremental::decode_client,
            Incremental::decode_osd,
        )?;
        inc.struct_v = parts.struct_v;
        [inc.inc_crc, inc.full_crc] = parts.crcs;
        inc.unknown_tails.2 = parts.tail;
        Ok(inc)
    }
}

impl Encode for Incremental {
    /// Writes the enveloped encoding and fills in `inc_crc` (which covers
    /// everything but itself, `full_crc` included). `encode_features` is
    /// written as stored, not replaced by `features`.
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        let cv = self.client_version(features);
        let ov = self.osd_version(features);
        encode_sectioned(
            out,
            self.struct_v.0,
            (cv, |out| self.encode_client(out, features, cv)),
            (ov, |out| self.encode_osd(out, features, ov)),
            &[self.full_crc],
            &self.unknown_tails.2,
        );
    }
}

/// Adds `add` to an interval set (start → length), merging overlaps.
fn intervals_union(set: &mut SnapIntervals, add: &SnapIntervals) {
    for (&s, &l) in add {
        let (mut start, mut end) = (s, s.saturating_add(l));
        let overlapping: Vec<(u64, u64)> = set
            .range(..=end)
            .filter(|(&b, &len)| b.saturating_add(len) >= start)
            .map(|(&b, &len)| (b, len))
            .collect();
        for (b, len) in overlapping {
            set.remove(&b);
            start = start.min(b);
            end = end.max(b.saturating_add(len));
        }
        set.insert(start, end - start);
    }
}

/// Removes `sub` from an interval set.
fn intervals_subtract(set: &mut SnapIntervals, sub: &SnapIntervals) {
    for (&s, &l) in sub {
        let end = s.saturating_add(l);
        let overlapping: Vec<(u64, u64)> = set
            .range(..end)
            .filter(|(&b, &len)| b.saturating_add(len) > s)
            .map(|(&b, &len)| (b, len))
            .collect();
        for (b, len) in overlapping {
            set.remove(&b);
            let bend = b.saturating_add(len);
            if b < s {
                set.insert(b, s - b);
            }
            if bend > end {
                set.insert(end, bend - end);
            }
        }
    }
}

fn remove_addrs(list: &mut AddrExpiryList, gone: &[EntityAddr]) {
    for a in gone {
        let key = a.order_key();
        list.retain(|(x, _)| x.order_key() != key);
    }
}

impl OSDMap {
    fn osd_index(&self, osd: i32) -> std::result::Result<usize, ApplyError> {
        usize::try_from(osd)
            .ok()
            .filter(|&i| i < self.per_osd_len())
            .ok_or(ApplyError::BadOsd(osd))
    }

    /// How many OSDs every per-OSD vector covers (they can disagree in a
    /// hostile map).
    fn per_osd_len(&self) -> usize {
        [
            self.osd_state.len(),
            self.osd_weight.len(),
            self.osd_info.len(),
            self.osd_xinfo.len(),
            self.osd_uuid.len(),
            self.client_addrs.len(),
            self.cluster_addrs.len(),
            self.hb_back_addrs.len(),
            self.hb_front_addrs.len(),
        ]
        .into_iter()
        .min()
        .unwrap_or(0)
    }

    fn set_primary_affinity(&mut self, i: usize, value: u32) {
        if self.osd_primary_affinity.is_empty() {
            self.osd_primary_affinity =
                vec![CEPH_OSD_DEFAULT_PRIMARY_AFFINITY; self.osd_state.len()];
        }
        if let Some(a) = self.osd_primary_affinity.get_mut(i) {
            *a = value;
        }
    }

    /// Applies an incremental, as Ceph's `OSDMap::apply_incremental` does:
    /// the map moves to `inc.epoch`. An incremental with a full map
    /// replaces this map by it; a new CRUSH map is applied last. On error
    /// the map may be partly changed.
    ///
    /// ```
    /// use ceph_osdmap::osdmap::OSDMap;
    /// use ceph_osdmap::osdmap_inc::Incremental;
    ///
    /// let mut map = OSDMap::default();
    /// let mut inc = Incremental::new(map.fsid, 1);
    /// inc.new_max_osd = 2;
    /// inc.new_weight.insert(1, 0x10000);
    /// map.apply_incremental(&inc).unwrap();
    /// assert_eq!((map.epoch, map.max_osd, map.osd_weight[1]), (1, 2, 0x10000));
    /// ```
    pub fn apply_incremental(&mut self, inc: &Incremental) -> std::result::Result<(), ApplyError> {
        if inc.epoch == 1 {
            self.fsid = inc.fsid;
        } else if inc.fsid != self.fsid {
            return Err(ApplyError::WrongFsid {
                map: self.fsid,
                inc: inc.fsid,
            });
        }
        if inc.epoch != self.epoch.wrapping_add(1) {
            return Err(ApplyError::WrongEpoch {
                map: self.epoch,
                inc: inc.epoch,
            });
        }
        // Checked before anything changes.
        if inc.new_max_osd > MAX_OSDS {
            return Err(ApplyError::TooManyOsds(inc.new_max_osd));
        }
        if !inc.fullmap.is_empty() {
            *self = OSDMap::decode_all(&inc.fullmap)?;
            return Ok(());
        }
        // Decode the new CRUSH map first so a bad one changes nothing.
        let new_crush = if inc.crush.is_empty() {
            None
        } else {
            Some(CrushWrapper::decode_all(&inc.crush)?)
        };
        self.epoch = inc.epoch;
        self.modified = inc.modified;

        if inc.new_flags >= 0 {
            self.flags = inc.new_flags as u32;
            // Pre-Luminous clusters said which release their OSDs need
            // with flags.
            if self.flags & osdmap_flags::REQUIRE_KRAKEN != 0 {
                self.require_osd_release = self.require_osd_release.max(11);
            } else if self.flags & osdmap_flags::REQUIRE_JEWEL != 0 {
                self.require_osd_release = self.require_osd_release.max(10);
            }
        }
        if inc.new_max_osd >= 0 {
            self.set_max_osd(inc.new_max_osd);
        }
        if inc.new_pool_max != -1 {
            self.pool_max = inc.new_pool_max as i32;
        }
        for (id, pool) in &inc.new_pools {
            let mut p = pool.clone();
            p.last_change = self.epoch;
            self.pools.insert(*id, p);
        }
        self.new_removed_snaps = inc.new_removed_snaps.clone();
        self.new_purged_snaps = inc.new_purged_snaps.clone();
        for (pool, snaps) in &inc.new_removed_snaps {
            intervals_union(self.removed_snaps_queue.entry(*pool).or_default(), snaps);
        }
        for (pool, snaps) in &inc.new_purged_snaps {
            if let Some(q) = self.removed_snaps_queue.get_mut(pool) {
                intervals_subtract(q, snaps);
                if q.is_empty() {
                    self.removed_snaps_queue.remove(pool);
                }
            }
        }
        if !inc.new_last_up_change.is_zero() {
            self.last_up_change = inc.new_last_up_change;
        }
        if !inc.new_last_in_change.is_zero() {
            self.last_in_change = inc.new_last_in_change;
        }
        for (id, name) in &inc.new_pool_names {
            self.pool_names.insert(*id, name.clone());
        }
        for id in &inc.old_pools {
            self.pools.remove(id);
            self.pool_names.remove(id);
        }
        for (&osd, &w) in &inc.new_weight {
            let i = self.osd_index(osd)?;
            self.osd_weight[i] = w;
            // A weight makes the OSD exist; marking in clears the
            // automatic-out state and the weight kept for it.
            if w != 0 {
                self.osd_state[i] |= osd_state::EXISTS;
                self.osd_state[i] &= !(osd_state::AUTOOUT | osd_state::NEW);
                if let Some(x) = self.osd_xinfo.get_mut(i) {
                    x.old_weight = 0;
                }
            }
        }
        for (&osd, &a) in &inc.new_primary_affinity {
            let i = self.osd_index(osd)?;
            self.set_primary_affinity(i, a);
        }
        for name in &inc.old_erasure_code_profiles {
            self.erasure_code_profiles.remove(name);
        }
        for (name, profile) in &inc.new_erasure_code_profiles {
            self.erasure_code_profiles
                .insert(name.clone(), profile.clone());
        }
        for (&osd, &bits) in &inc.new_state {
            let i = self.osd_index(osd)?;
            let s = if bits == 0 { osd_state::UP } else { bits };
            let cur = self.osd_state[i];
            if cur & osd_state::UP != 0 && s & osd_state::UP != 0 {
                if let Some(info) = self.osd_info.get_mut(i) {
                    info.down_at = self.epoch;
                }
                if let Some(x) = self.osd_xinfo.get_mut(i) {
                    x.down_stamp = self.modified;
                }
            }
            if cur & osd_state::EXISTS != 0 && s & osd_state::EXISTS != 0 {
                // The OSD is destroyed: forget everything about it.
                self.osd_uuid[i] = Uuid::default();
                self.osd_info[i] = OsdInfo::default();
                self.osd_xinfo[i] = OsdXInfo::fresh();
                self.set_primary_affinity(i, CEPH_OSD_DEFAULT_PRIMARY_AFFINITY);
                self.client_addrs[i] = EntityAddrVec::default();
                self.cluster_addrs[i] = EntityAddrVec::default();
                self.hb_front_addrs[i] = EntityAddrVec::default();
                self.hb_back_addrs[i] = EntityAddrVec::default();
                self.osd_state[i] = 0;
            } else {
                self.osd_state[i] ^= s;
            }
        }
        for (&osd, addrs) in &inc.new_up_client {
            let i = self.osd_index(osd)?;
            self.osd_state[i] |= osd_state::EXISTS | osd_state::UP;
            self.osd_state[i] &= !osd_state::STOP;
            self.client_addrs[i] = addrs.clone();
            self.hb_back_addrs[i] = inc.new_hb_back_up.get(&osd).cloned().unwrap_or_default();
            self.hb_front_addrs[i] = inc.new_hb_front_up.get(&osd).cloned().unwrap_or_default();
            self.osd_info[i].up_from = self.epoch;
        }
        for (&osd, addrs) in &inc.new_up_cluster {
            let i = self.osd_index(osd)?;
            self.cluster_addrs[i] = addrs.clone();
        }
        for (&osd, &e) in &inc.new_up_thru {
            let i = self.osd_index(osd)?;
            self.osd_info[i].up_thru = e;
        }
        for (&osd, &(begin, end)) in &inc.new_last_clean_interval {
            let i = self.osd_index(osd)?;
            self.osd_info[i].last_clean_begin = begin;
            self.osd_info[i].last_clean_end = end;
        }
        for (&osd, &e) in &inc.new_lost {
            let i = self.osd_index(osd)?;
            self.osd_info[i].lost_at = e;
        }
        for (&osd, x) in &inc.new_xinfo {
            let i = self.osd_index(osd)?;
            self.osd_xinfo[i] = *x;
        }
        for (&osd, u) in &inc.new_uuid {
            let i = self.osd_index(osd)?;
            self.osd_uuid[i] = *u;
        }
        for (pg, osds) in &inc.new_pg_temp {
            if osds.is_empty() {
                self.pg_temp.remove(pg);
            } else {
                self.pg_temp.insert(*pg, osds.clone());
            }
        }
        for (pg, &osd) in &inc.new_primary_temp {
            if osd == -1 {
                self.primary_temp.remove(pg);
            } else {
                self.primary_temp.insert(*pg, osd);
            }
        }
        for (pg, osds) in &inc.new_pg_upmap {
            self.pg_upmap.insert(*pg, osds.clone());
        }
        for pg in &inc.old_pg_upmap {
            self.pg_upmap.remove(pg);
        }
        for (pg, items) in &inc.new_pg_upmap_items {
            self.pg_upmap_items.insert(*pg, items.clone());
        }
        for pg in &inc.old_pg_upmap_items {
            self.pg_upmap_items.remove(pg);
        }
        for (pg, &osd) in &inc.new_pg_upmap_primary {
            self.pg_upmap_primaries.insert(*pg, osd);
        }
        for pg in &inc.old_pg_upmap_primary {
            self.pg_upmap_primaries.remove(pg);
        }
        for (a, t) in &inc.new_blocklist {
            addr_list_insert(&mut self.blocklist, *a, *t);
        }
        remove_addrs(&mut self.blocklist, &inc.old_blocklist);
        for (a, t) in &inc.new_range_blocklist {
            addr_list_insert(&mut self.range_blocklist, *a, *t);
        }
        remove_addrs(&mut self.range_blocklist, &inc.old_range_blocklist);
        for (&id, &bits) in &inc.new_crush_node_flags {
            if bits != 0 {
                self.crush_node_flags.insert(id, bits);
            } else {
                self.crush_node_flags.remove(&id);
            }
        }
        for (&id, &bits) in &inc.new_device_class_flags {
            if bits != 0 {
                self.device_class_flags.insert(id, bits);
            } else {
                self.device_class_flags.remove(&id);
            }
        }
        if inc.cluster_snapshot.is_empty() {
            self.cluster_snapshot.clear();
            self.cluster_snapshot_epoch = 0;
        } else {
            self.cluster_snapshot = inc.cluster_snapshot.clone();
            self.cluster_snapshot_epoch = inc.epoch;
        }
        if inc.new_nearfull_ratio >= 0.0 {
            self.nearfull_ratio = inc.new_nearfull_ratio;
        }
        if inc.new_backfillfull_ratio >= 0.0 {
            self.backfillfull_ratio = inc.new_backfillfull_ratio;
        }
        if inc.new_full_ratio >= 0.0 {
            self.full_ratio = inc.new_full_ratio;
        }
        if is_release(inc.new_require_min_compat_client) && inc.new_require_min_compat_client > 0 {
            self.require_min_compat_client = inc.new_require_min_compat_client;
        }
        if is_release(inc.new_require_osd_release) {
            self.require_osd_release = inc.new_require_osd_release;
            if self.require_osd_release >= 12 {
                self.flags &= !(osdmap_flags::REQUIRE_JEWEL
                    | osdmap_flags::REQUIRE_KRAKEN
                    | osdmap_flags::REQUIRE_LUMINOUS);
                self.flags |= osdmap_flags::RECOVERY_DELETES;
            }
            if self.require_osd_release >= 14 {
                self.flags |= osdmap_flags::PGLOG_HARDLIMIT;
            }
        }
        if inc.change_stretch_mode {
            self.stretch_mode_enabled = inc.stretch_mode_enabled;
            self.stretch_bucket_count = inc.new_stretch_bucket_count;
            self.degraded_stretch_mode = inc.new_degraded_stretch_mode;
            self.recovering_stretch_mode = inc.new_recovering_stretch_mode;
            self.stretch_mode_bucket = inc.new_stretch_mode_bucket;
        }
        match inc.mutate_allow_crimson {
            mutate_allow_crimson::SET => self.allow_crimson = true,
            mutate_allow_crimson::CLEAR => self.allow_crimson = false,
            _ => {}
        }
        if let Some(crush) = new_crush {
            self.crush = crush;
            // Only Luminous-encoded maps carry crush_version.
            if self.require_osd_release >= 12 {
                self.crush_version = self.crush_version.wrapping_add(1);
            }
            let classes = &self.crush.class_names;
            self.device_class_flags
                .retain(|id, _| classes.contains_key(id));
        }
        // The incremental says what the new map's CRC is (wrapper version
        // 8 and later); keep it so the map equals the one Ceph stores.
        if inc.struct_v.0 >= 8 {
            self.crc = inc.full_crc;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_union_merges_and_subtract_splits() {
        let mut s = SnapIntervals::new();
        intervals_union(&mut s, &[(1, 2), (10, 5)].into_iter().collect());
        intervals_union(&mut s, &[(3, 7)].into_iter().collect());
        assert_eq!(s, [(1, 14)].into_iter().collect());
        intervals_subtract(&mut s, &[(5, 2)].into_iter().collect());
        assert_eq!(s, [(1, 4), (7, 8)].into_iter().collect());
        intervals_subtract(&mut s, &[(0, 100)].into_iter().collect());
        assert!(s.is_empty());
    }
}

#[cfg(test)]
mod apply_tests {
    use super::*;
    use ceph_types::features::CLIENT_FEATURES_ALL;

    /// A hostile incremental's max_osd must not size the per-OSD tables
    /// (the fuzzer found a 2.8 GB allocation).
    #[test]
    fn huge_new_max_osd_is_refused() {
        let mut map = OSDMap::default();
        let mut inc = Incremental::new(map.fsid, 1);
        inc.new_max_osd = MAX_OSDS + 1;
        assert_eq!(
            map.apply_incremental(&inc),
            Err(ApplyError::TooManyOsds(MAX_OSDS + 1))
        );
        assert!(map.osd_state.is_empty());
        inc.new_max_osd = 4;
        map.apply_incremental(&inc).unwrap();
        assert_eq!(map.osd_state.len(), 4);
    }

    /// What one hostile incremental can make the map cost stays bounded:
    /// the fuzzer ran out of its 512 MB on a 6 KB incremental setting
    /// max_osd 248851 (a 29 MB encoding) when the cap was 1 << 18.
    #[test]
    fn the_osd_cap_bounds_what_one_incremental_costs() {
        let mut map = OSDMap::default();
        let mut inc = Incremental::new(map.fsid, 1);
        inc.new_max_osd = 248_851;
        assert_eq!(
            map.apply_incremental(&inc),
            Err(ApplyError::TooManyOsds(248_851))
        );
        inc.new_max_osd = MAX_OSDS;
        map.apply_incremental(&inc).unwrap();
        let len = map.to_bytes(CLIENT_FEATURES_ALL).len();
        assert!(len < 16 << 20, "a map at the cap encodes to {len} bytes");
    }

    /// A map at epoch 1 with `n` OSD slots, and an incremental to epoch 2.
    fn map_and_next(n: i32) -> (OSDMap, Incremental) {
        let mut map = OSDMap::default();
        let mut first = Incremental::new(map.fsid, 1);
        first.new_max_osd = n;
        map.apply_incremental(&first).unwrap();
        let next = Incremental::new(map.fsid, 2);
        (map, next)
    }

    #[test]
    fn a_weight_makes_the_osd_exist_as_osd_create_does() {
        // `osd create` sends a weight and the NEW bit; Ceph's set_weight
        // adds EXISTS before the state bits are flipped.
        let (mut map, mut inc) = map_and_next(0);
        inc.new_max_osd = 1;
        inc.new_weight.insert(0, 0x10000);
        inc.new_state.insert(0, osd_state::NEW);
        map.apply_incremental(&inc).unwrap();
        assert_eq!(map.osd_state[0], osd_state::EXISTS | osd_state::NEW);

        // A zero weight (out) does not touch the state.
        let mut out = Incremental::new(map.fsid, 3);
        out.new_weight.insert(0, 0);
        map.apply_incremental(&out).unwrap();
        assert_eq!(map.osd_state[0], osd_state::EXISTS | osd_state::NEW);
    }

    #[test]
    fn release_sentinels_leave_the_map_alone() {
        let (mut map, mut inc) = map_and_next(0);
        map.require_min_compat_client = 12;
        map.require_osd_release = 16;
        // The default, and the wire "no change" values, change nothing.
        assert_eq!(inc.new_require_osd_release, RELEASE_UNCHANGED);
        assert_eq!(inc.new_require_min_compat_client, RELEASE_UNCHANGED);
        inc.new_require_min_compat_client = 0x80;
        map.apply_incremental(&inc).unwrap();
        assert_eq!(
            (map.require_min_compat_client, map.require_osd_release),
            (12, 16)
        );
        // Real releases are applied; a compat client of 0 is not.
        let mut set = Incremental::new(map.fsid, 3);
        set.new_require_min_compat_client = 0;
        set.new_require_osd_release = 17;
        map.apply_incremental(&set).unwrap();
        assert_eq!(
            (map.require_min_compat_client, map.require_osd_release),
            (12, 17)
        );
    }

    #[test]
    fn decoded_release_sentinel_survives_a_round_trip() {
        let (_, inc) = map_and_next(0);
        let decoded = Incremental::decode_all(&inc.to_bytes(CLIENT_FEATURES_ALL)).unwrap();
        assert_eq!(decoded.new_require_osd_release, RELEASE_UNCHANGED);
        assert_eq!(decoded.new_require_min_compat_client, RELEASE_UNCHANGED);
    }

    #[test]
    fn the_map_takes_its_crc_from_the_incremental() {
        let (mut map, mut inc) = map_and_next(0);
        map.crc = 0x1111_1111;
        inc.full_crc = 0xdead_beef;
        // Decoded at wrapper version 8, the incremental carries the CRC.
        let decoded = Incremental::decode_all(&inc.to_bytes(CLIENT_FEATURES_ALL)).unwrap();
        assert_eq!(decoded.struct_v.0, 8);
        map.apply_incremental(&decoded).unwrap();
        assert_eq!(map.crc, 0xdead_beef);
    }

    #[test]
    fn an_incremental_without_crc_keeps_the_old_one() {
        let (mut map, inc) = map_and_next(0);
        map.crc = 0x1111_1111;
        map.apply_incremental(&inc).unwrap();
        assert_eq!(map.crc, 0x1111_1111);
    }

    #[test]
    fn new_and_destroyed_osds_get_xinfo_at_version_4() {
        let (mut map, mut inc) = map_and_next(2);
        assert!(map.osd_xinfo.iter().all(|x| x.struct_v == 4));
        inc.new_weight.insert(1, 0x10000);
        map.apply_incremental(&inc).unwrap();
        map.osd_xinfo[1].struct_v = 3;
        // Flipping EXISTS on an existing OSD destroys it.
        let mut destroy = Incremental::new(map.fsid, 3);
        destroy.new_state.insert(1, osd_state::EXISTS);
        map.apply_incremental(&destroy).unwrap();
        assert_eq!(map.osd_state[1], 0);
        assert_eq!(map.osd_xinfo[1], OsdXInfo::fresh());
        assert_eq!(map.osd_xinfo[1].struct_v, 4);
    }
}
