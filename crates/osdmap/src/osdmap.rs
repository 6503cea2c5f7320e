//! The OSD map (Ceph's `OSDMap`): pools, OSD states, weights and
//! addresses, placement overrides, the CRUSH map and the OSD-only section,
//! protected by a CRC-32C.
//!
//! Decoding reads the enveloped encoding every release from Luminous on
//! writes (wrapper version 7-8, client section up to 10, OSD section up to
//! 12). Sections newer than this crate models keep their extra fields as
//! opaque bytes. The pre-Luminous "classic" encoding is not supported.
//! Encoding writes the version the peer's features select, never newer
//! than the version a map was decoded from, so a decoded map re-encodes to
//! the same bytes (the CRC recomputed as Ceph does).

use std::collections::BTreeMap;

use ceph_denc::{
    ceph_crc32c, encode_envelope, newer_fields, pick_version, put_newer_fields, rest, Decode,
    DecodeError, Decoder, Encode, Result,
};
use ceph_types::addr::{addrvec_json, EntityAddrVec};
use ceph_types::features::{
    has_feature, CEPH_FEATUREMASK_SERVER_LUMINOUS, CEPH_FEATUREMASK_SERVER_MIMIC,
    CEPH_FEATUREMASK_SERVER_NAUTILUS, CEPH_FEATUREMASK_SERVER_REEF,
};
use ceph_types::monmap::release_name;
use ceph_types::time::{ceph_stamp, UTime, Uuid};
use serde_json::{json, Value};

use crate::crush::CrushWrapper;
use crate::osd_types::{
    addr_list_json, decode_addr_list, encode_addr_list, pool_snaps_json, AddrExpiryList, OsdInfo,
    OsdXInfo, PgId, SnapIntervals,
};
use crate::pg_pool::PgPool;

/// OSD state bits (`CEPH_OSD_*`).
pub mod osd_state {
    /// The OSD id is allocated (`osd create` / `osd new`).
    pub const EXISTS: u32 = 1 << 0;
    /// The daemon is running and the monitors consider it reachable.
    pub const UP: u32 = 1 << 1;
    /// The monitors marked the OSD out themselves after it stayed down too long.
    pub const AUTOOUT: u32 = 1 << 2;
    /// Created but has never booted.
    pub const NEW: u32 = 1 << 3;
    /// The OSD reported usage past the full ratio.
    pub const FULL: u32 = 1 << 4;
    /// The OSD reported usage past the nearfull ratio.
    pub const NEARFULL: u32 = 1 << 5;
    /// The OSD reported usage past the backfillfull ratio: no backfill onto it.
    pub const BACKFILLFULL: u32 = 1 << 6;
    /// Destroyed with `osd destroy`: its id is kept for a replacement disk.
    pub const DESTROYED: u32 = 1 << 7;
    /// This OSD may not be marked up (`osd add-noup`).
    pub const NOUP: u32 = 1 << 8;
    /// This OSD is not marked down on failure reports (`osd add-nodown`).
    pub const NODOWN: u32 = 1 << 9;
    /// This OSD is not marked in when it boots (`osd add-noin`).
    pub const NOIN: u32 = 1 << 10;
    /// This OSD is not marked out while down (`osd add-noout`).
    pub const NOOUT: u32 = 1 << 11;
    /// Stopped with `osd stop`: marked down and kept from booting.
    pub const STOP: u32 = 1 << 12;

    /// Names of the state bits, in Ceph's order.
    pub const NAMES: &[(u32, &str)] = &[
        (EXISTS, "exists"),
        (UP, "up"),
        (AUTOOUT, "autoout"),
        (NEW, "new"),
        (FULL, "full"),
        (NEARFULL, "nearfull"),
        (BACKFILLFULL, "backfillfull"),
        (DESTROYED, "destroyed"),
        (NOUP, "noup"),
        (NODOWN, "nodown"),
        (NOIN, "noin"),
        (NOOUT, "noout"),
        (STOP, "stop"),
    ];
}

/// OSD map flags (`CEPH_OSDMAP_*`) and their names, in Ceph's order.
pub mod osdmap_flags {
    /// Some OSD is nearfull (pre-Luminous; later maps flag pools and OSDs instead).
    pub const NEARFULL: u32 = 1 << 0;
    /// The cluster is full: writes are blocked (pre-Luminous; later maps flag pools).
    pub const FULL: u32 = 1 << 1;
    /// Client reads are paused (`osd pause`).
    pub const PAUSERD: u32 = 1 << 2;
    /// Client writes are paused (`osd pause`).
    pub const PAUSEWR: u32 = 1 << 3;
    /// Recovery is paused.
    pub const PAUSEREC: u32 = 1 << 4;
    /// No OSD may be marked up.
    pub const NOUP: u32 = 1 << 5;
    /// OSDs are not marked down on failure reports.
    pub const NODOWN: u32 = 1 << 6;
    /// Down OSDs are not marked out after the down-out interval.
    pub const NOOUT: u32 = 1 << 7;
    /// Booting OSDs are not marked in.
    pub const NOIN: u32 = 1 << 8;
    /// Backfill is paused.
    pub const NOBACKFILL: u32 = 1 << 9;
    /// Recovery is paused.
    pub const NORECOVER: u32 = 1 << 10;
    /// No regular scrubs.
    pub const NOSCRUB: u32 = 1 << 11;
    /// No deep scrubs.
    pub const NODEEP_SCRUB: u32 = 1 << 12;
    /// The cache-tiering agent (flush and evict) is stopped.
    pub const NOTIERAGENT: u32 = 1 << 13;
    /// Backfill only for degraded PGs, none merely to rebalance.
    pub const NOREBALANCE: u32 = 1 << 14;
    /// OSDs sort objects in bitwise order (required from Luminous on).
    pub const SORTBITWISE: u32 = 1 << 15;
    /// Every OSD must run Jewel or later (superseded by `require_osd_release`).
    pub const REQUIRE_JEWEL: u32 = 1 << 16;
    /// Every OSD must run Kraken or later (superseded by `require_osd_release`).
    pub const REQUIRE_KRAKEN: u32 = 1 << 17;
    /// Every OSD must run Luminous or later (superseded by `require_osd_release`).
    pub const REQUIRE_LUMINOUS: u32 = 1 << 18;
    /// Deleted objects are recovered as deletes, not by copying whole PGs' lists.
    pub const RECOVERY_DELETES: u32 = 1 << 19;
    /// Every OSD has converted its purged-snapshot records (an upgrade step).
    pub const PURGED_SNAPDIRS: u32 = 1 << 20;
    /// Snapshot trimming is paused.
    pub const NOSNAPTRIM: u32 = 1 << 21;
    /// OSDs enforce the hard limit on PG log length.
    pub const PGLOG_HARDLIMIT: u32 = 1 << 22;
    /// The PG autoscaler is off for every pool.
    pub const NOAUTOSCALE: u32 = 1 << 23;

    /// Flag bits and their names, in the order `osd dump` lists them.
    pub const NAMES: &[(u32, &str)] = &[
        (PAUSERD, "pauserd"),
        (PAUSEWR, "pausewr"),
        (PAUSEREC, "pauserec"),
        (NOUP, "noup"),
        (NODOWN, "nodown"),
        (NOOUT, "noout"),
        (NOIN, "noin"),
        (NOBACKFILL, "nobackfill"),
        (NOREBALANCE, "norebalance"),
        (NORECOVER, "norecover"),
        (NOSCRUB, "noscrub"),
        (NODEEP_SCRUB, "nodeep-scrub"),
        (NOTIERAGENT, "notieragent"),
        (NOSNAPTRIM, "nosnaptrim"),
        (SORTBITWISE, "sortbitwise"),
        (REQUIRE_JEWEL, "require_jewel_osds"),
        (REQUIRE_KRAKEN, "require_kraken_osds"),
        (REQUIRE_LUMINOUS, "require_luminous_osds"),
        (RECOVERY_DELETES, "recovery_deletes"),
        (PURGED_SNAPDIRS, "purged_snapdirs"),
        (PGLOG_HARDLIMIT, "pglog_hardlimit"),
        (NOAUTOSCALE, "noautoscale"),
    ];
}

/// The weight of an OSD that is fully in (1.0 in 16.16 fixed point).
pub const CEPH_OSD_IN: u32 = 0x10000;
/// The weight of an OSD that is out.
pub const CEPH_OSD_OUT: u32 = 0;
/// Default primary affinity (1.0).
pub const CEPH_OSD_DEFAULT_PRIMARY_AFFINITY: u32 = 0x10000;

/// How an OSD map or incremental names its parts in errors, and the CRC
/// words that follow its two sections (wrapper version 8 on): the first
/// is the CRC of the whole encoding but itself, read and written here;
/// the others are carried as they are.
pub(crate) struct SectionLayout {
    pub what: &'static str,
    pub client: &'static str,
    pub osd: &'static str,
    /// One name per CRC word (one or two).
    pub crc_words: &'static [&'static str],
    pub tail: &'static str,
}

/// What [`decode_sectioned`] read besides the sections.
pub(crate) struct SectionedParts {
    /// Versions: wrapper, client section, OSD section.
    pub struct_v: (u8, u8, u8),
    /// The CRC words in order (zero when the wrapper predates them).
    pub crcs: [u32; 2],
    /// Wrapper fields newer than modelled.
    pub tail: Vec<u8>,
}

/// Reads the enveloped encoding of an OSD map or incremental: a wrapper
/// (version 7 or newer; older is the unsupported classic encoding) holding
/// the client section, read by `client` into `target`, the OSD-only
/// section, read by `osd`, then the CRC words and a tail. Checks the CRC.
pub(crate) fn decode_sectioned<T>(
    d: &mut Decoder<'_>,
    layout: &SectionLayout,
    target: &mut T,
    client: fn(&mut T, &mut Decoder<'_>, u8) -> Result<()>,
    osd: fn(&mut T, &mut Decoder<'_>, u8) -> Result<()>,
) -> Result<SectionedParts> {
    let what = layout.what;
    let start = d.rest();
    let v = d.u8(what)?;
    if v < 7 {
        return Err(DecodeError::TooOld {
            what,
            version: v,
            oldest: 7,
        });
    }
    let compat = d.u8(what)?;
    if compat > 7 {
        return Err(DecodeError::TooNew {
            what,
            compat,
            supported: 7,
        });
    }
    let mut parts = SectionedParts {
        struct_v: (v, 0, 0),
        crcs: [0; 2],
        tail: Vec::new(),
    };
    let mut crc_at = None;
    d.envelope_body(what, v, |w, v| {
        let body_start = w.remaining();
        w.envelope(layout.client, 255, |d, cv| {
            parts.struct_v.1 = cv;
            client(target, d, cv)
        })?;
        w.envelope(layout.osd, 255, |d, ov| {
            parts.struct_v.2 = ov;
            osd(target, d, ov)
        })?;
        if v >= 8 {
            // The CRC's offset from the start of the whole encoding: 6
            // header bytes plus what the sections took.
            crc_at = Some(6 + body_start - w.remaining());
            for (word, name) in parts.crcs.iter_mut().zip(layout.crc_words) {
                *word = w.u32(name)?;
            }
        }
        parts.tail = rest(w, layout.tail)?;
        Ok(())
    })?;
    if let Some(at) = crc_at {
        let used = &start[..start.len() - d.remaining()];
        let actual = ceph_crc32c(ceph_crc32c(u32::MAX, &used[..at]), &used[at + 4..]);
        if parts.crcs[0] != actual {
            return Err(DecodeError::invalid(
                what,
                format!("bad crc: stored {:#x}, computed {actual:#x}", parts.crcs[0]),
            ));
        }
    }
    Ok(parts)
}

/// Writes the enveloped encoding [`decode_sectioned`] reads: the wrapper
/// at the version `decoded_v` (0 for a value built here) allows, the
/// client section (`client`: its version and writer), the OSD section,
/// then, from wrapper version 8, the CRC and the `other_crcs` words, then
/// `tail`. The CRC covers the whole encoding but itself.
pub(crate) fn encode_sectioned(
    out: &mut Vec<u8>,
    decoded_v: u8,
    client: (u8, impl FnOnce(&mut Vec<u8>)),
    osd: (u8, impl FnOnce(&mut Vec<u8>)),
    other_crcs: &[u32],
    tail: &[u8],
) {
    let start = out.len();
    let wv = pick_version(decoded_v, 8).max(7);
    let mut crc_at = None;
    encode_envelope(out, wv, 7, |out| {
        encode_envelope(out, client.0, 1, client.1);
        encode_envelope(out, osd.0, 1, osd.1);
        if wv >= 8 {
            crc_at = Some(out.len());
            out.extend_from_slice(&[0; 4]);
            for word in other_crcs {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
        out.extend_from_slice(tail);
    });
    if let Some(at) = crc_at {
        let crc = ceph_crc32c(ceph_crc32c(u32::MAX, &out[start..at]), &out[at + 4..]);
        out[at..at + 4].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Writes addresses the way a peer before Nautilus reads them: one legacy
/// address each.
pub(crate) fn encode_addrvecs_as_addr(v: &[EntityAddrVec], out: &mut Vec<u8>, features: u64) {
    (v.len() as u32).encode(out, features);
    for a in v {
        a.legacy()
            .copied()
            .unwrap_or_default()
            .encode(out, features);
    }
}

fn decode_vec<T>(
    d: &mut Decoder<'_>,
    min: usize,
    what: &'static str,
    mut f: impl FnMut(&mut Decoder<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let n = d.count(min, what)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(f(d)?);
    }
    Ok(v)
}

/// The OSD map: one epoch of the monitors' view of every OSD (exists, up,
/// in, addresses), every pool, the CRUSH map and the placement overrides
/// (`pg_temp`, upmaps). Clients need it to find the OSDs that serve an
/// object; see [`OSDMap::object_to_pg`] and [`OSDMap::pg_to_up_acting`].
///
/// Fields follow Ceph's; per-OSD vectors are indexed by OSD id and are
/// `max_osd` long.
#[derive(Debug, Clone, PartialEq)]
pub struct OSDMap {
    /// The cluster's id.
    pub fsid: Uuid,
    /// The map's epoch: every change the monitors commit makes a new one.
    pub epoch: u32,
    /// When the cluster's first OSD map was made.
    pub created: UTime,
    /// When this epoch was made.
    pub modified: UTime,
    /// Pools by id.
    pub pools: BTreeMap<i64, PgPool>,
    /// Pool names by id.
    pub pool_names: BTreeMap<i64, String>,
    /// The largest pool id ever used.
    pub pool_max: i32,
    /// [`osdmap_flags`] bits.
    pub flags: u32,
    /// One past the largest OSD id; the per-OSD vectors have this length.
    pub max_osd: i32,
    /// Per OSD: [`osd_state`] bits.
    pub osd_state: Vec<u32>,
    /// Per OSD: weight, 16.16 fixed point ([`CEPH_OSD_IN`] = 1.0).
    pub osd_weight: Vec<u32>,
    /// Per OSD: public (client-facing) addresses.
    pub client_addrs: Vec<EntityAddrVec>,
    /// Temporary acting sets the OSDs asked for (e.g. while backfilling),
    /// replacing CRUSH's choice for those PGs.
    pub pg_temp: BTreeMap<PgId, Vec<i32>>,
    /// Temporary primaries, replacing the acting set's first OSD.
    pub primary_temp: BTreeMap<PgId, i32>,
    /// Per OSD, 16.16 fixed point; empty means all default (1.0).
    pub osd_primary_affinity: Vec<u32>,
    /// The CRUSH map: devices, buckets, rules and tunables.
    pub crush: CrushWrapper,
    /// Erasure-code profiles by name: key → value (`k`, `m`, `plugin`, ...).
    pub erasure_code_profiles: BTreeMap<String, BTreeMap<String, String>>,
    /// Explicit OSD lists (`osd pg-upmap`) replacing CRUSH's for those PGs.
    pub pg_upmap: BTreeMap<PgId, Vec<i32>>,
    /// Per PG, (from, to) OSD swaps (`osd pg-upmap-items`) applied to CRUSH's choice.
    pub pg_upmap_items: BTreeMap<PgId, Vec<(i32, i32)>>,
    /// Per PG, the OSD to make primary (`osd pg-upmap-primary`, Reef on).
    pub pg_upmap_primaries: BTreeMap<PgId, i32>,
    /// Counts changes to the CRUSH map (for the manager's balancer).
    pub crush_version: i32,
    /// Per pool, snapshots removed in this epoch (Octopus on).
    pub new_removed_snaps: BTreeMap<i64, SnapIntervals>,
    /// Per pool, snapshots whose data was purged in this epoch (Octopus on).
    pub new_purged_snaps: BTreeMap<i64, SnapIntervals>,
    /// When an OSD last went up or down.
    pub last_up_change: UTime,
    /// When an OSD last went in or out.
    pub last_in_change: UTime,

    // The OSD-only section.
    /// Per OSD: heartbeat addresses on the cluster (back) network.
    pub hb_back_addrs: Vec<EntityAddrVec>,
    /// Per OSD: epochs of its life (up from, up through, down at, ...).
    pub osd_info: Vec<OsdInfo>,
    /// Blocklisted client addresses and when the entry expires.
    pub blocklist: AddrExpiryList,
    /// Per OSD: addresses on the cluster (replication) network.
    pub cluster_addrs: Vec<EntityAddrVec>,
    /// Epoch of the last `osd cluster_snap` (an old, unused feature).
    pub cluster_snapshot_epoch: u32,
    /// Name of that cluster snapshot.
    pub cluster_snapshot: String,
    /// Per OSD: the uuid of its data store.
    pub osd_uuid: Vec<Uuid>,
    /// Per OSD: extra details (down stamp, laggy estimates, features).
    pub osd_xinfo: Vec<OsdXInfo>,
    /// Per OSD: heartbeat addresses on the public (front) network.
    pub hb_front_addrs: Vec<EntityAddrVec>,
    /// Used-space share past which an OSD is nearfull (e.g. 0.85).
    pub nearfull_ratio: f32,
    /// Used-space share past which an OSD is full and writes stop (e.g. 0.95).
    pub full_ratio: f32,
    /// Used-space share past which an OSD takes no backfill (e.g. 0.90).
    pub backfillfull_ratio: f32,
    /// Release numbers (16 = Pacific).
    pub require_min_compat_client: u8,
    /// Oldest OSD release allowed to boot, as a release number.
    pub require_osd_release: u8,
    /// Per pool, deleted snapshots still being trimmed.
    pub removed_snaps_queue: BTreeMap<i64, SnapIntervals>,
    /// Per CRUSH bucket: [`osd_state`] flags (`noup`, `noout`, ...) for all OSDs under it.
    pub crush_node_flags: BTreeMap<i32, u32>,
    /// Per device class id: [`osd_state`] flags for every OSD of that class.
    pub device_class_flags: BTreeMap<i32, u32>,
    /// Stretch mode (two sites plus a tiebreaker monitor) is on.
    pub stretch_mode_enabled: bool,
    /// Stretch mode: number of sites.
    pub stretch_bucket_count: u32,
    /// Stretch mode: nonzero while a site is lost (PGs peer with one site).
    pub degraded_stretch_mode: u32,
    /// Stretch mode: nonzero while recovering after a lost site returned.
    pub recovering_stretch_mode: u32,
    /// Stretch mode: the CRUSH bucket type that divides the sites (e.g. datacenter).
    pub stretch_mode_bucket: i32,
    /// Blocklisted address ranges.
    pub range_blocklist: AddrExpiryList,
    /// Crimson OSDs may join the cluster.
    pub allow_crimson: bool,
    /// The OSD section's version-4 text form of `require_min_compat_client`.
    pub legacy_min_compat_client: String,

    /// The CRC read (or last written).
    pub crc: u32,
    /// Versions decoded (0 for maps built here): wrapper, client section,
    /// OSD section.
    pub struct_v: (u8, u8, u8),
    /// Fields of sections newer than modelled: client, OSD, wrapper.
    pub unknown_tails: (Vec<u8>, Vec<u8>, Vec<u8>),
}

impl Default for OSDMap {
    fn default() -> Self {
        OSDMap {
            fsid: Uuid::default(),
            epoch: 0,
            created: UTime::default(),
            modified: UTime::default(),
            pools: BTreeMap::new(),
            pool_names: BTreeMap::new(),
            pool_max: 0,
            flags: 0,
            max_osd: 0,
            osd_state: Vec::new(),
            osd_weight: Vec::new(),
            client_addrs: Vec::new(),
            pg_temp: BTreeMap::new(),
            primary_temp: BTreeMap::new(),
            osd_primary_affinity: Vec::new(),
            crush: CrushWrapper::default(),
            erasure_code_profiles: BTreeMap::new(),
            pg_upmap: BTreeMap::new(),
            pg_upmap_items: BTreeMap::new(),
            pg_upmap_primaries: BTreeMap::new(),
            crush_version: 1,
            new_removed_snaps: BTreeMap::new(),
            new_purged_snaps: BTreeMap::new(),
            last_up_change: UTime::default(),
            last_in_change: UTime::default(),
            hb_back_addrs: Vec::new(),
            osd_info: Vec::new(),
            blocklist: Vec::new(),
            cluster_addrs: Vec::new(),
            cluster_snapshot_epoch: 0,
            cluster_snapshot: String::new(),
            osd_uuid: Vec::new(),
            osd_xinfo: Vec::new(),
            hb_front_addrs: Vec::new(),
            nearfull_ratio: 0.0,
            full_ratio: 0.0,
            backfillfull_ratio: 0.0,
            require_min_compat_client: 0,
            require_osd_release: 0,
            removed_snaps_queue: BTreeMap::new(),
            crush_node_flags: BTreeMap::new(),
            device_class_flags: BTreeMap::new(),
            stretch_mode_enabled: false,
            stretch_bucket_count: 0,
            degraded_stretch_mode: 0,
            recovering_stretch_mode: 0,
            stretch_mode_bucket: 0,
            range_blocklist: Vec::new(),
            allow_crimson: false,
            legacy_min_compat_client: String::new(),
            crc: 0,
            struct_v: (0, 0, 0),
            unknown_tails: (Vec::new(), Vec::new(), Vec::new()),
        }
    }
}

impl OSDMap {
    /// The newest client-section version this crate models.
    pub const CLIENT_VERSION: u8 = 10;
    /// The newest OSD-section version this crate models.
    pub const OSD_VERSION: u8 = 12;

    /// Whether OSD `osd` exists.
    pub fn exists(&self, osd: i32) -> bool {
        self.state(osd) & osd_state::EXISTS != 0
    }

    /// Whether OSD `osd` exists and is up.
    pub fn is_up(&self, osd: i32) -> bool {
        self.exists(osd) && self.state(osd) & osd_state::UP != 0
    }

    /// Whether OSD `osd` exists and has a non-zero weight.
    pub fn is_in(&self, osd: i32) -> bool {
        self.exists(osd) && self.weight(osd) != CEPH_OSD_OUT
    }

    fn state(&self, osd: i32) -> u32 {
        usize::try_from(osd)
            .ok()
            .and_then(|i| self.osd_state.get(i))
            .copied()
            .unwrap_or(0)
    }

    fn weight(&self, osd: i32) -> u32 {
        usize::try_from(osd)
            .ok()
            .and_then(|i| self.osd_weight.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// The primary affinity of OSD `osd`, 16.16 fixed point.
    pub fn primary_affinity(&self, osd: i32) -> u32 {
        usize::try_from(osd)
            .ok()
            .and_then(|i| self.osd_primary_affinity.get(i))
            .copied()
            .unwrap_or(CEPH_OSD_DEFAULT_PRIMARY_AFFINITY)
    }

    /// The ids worth looking at: below `max_osd` and with a state entry
    /// (a hostile map can claim a huge `max_osd` with few entries).
    fn osd_ids(&self) -> std::ops::Range<i32> {
        let with_state = i32::try_from(self.osd_state.len()).unwrap_or(i32::MAX);
        0..self.max_osd.clamp(0, with_state)
    }

    /// Number of OSDs that exist, are up, and are in.
    pub fn num_osds(&self) -> (usize, usize, usize) {
        let ids = self.osd_ids();
        (
            ids.clone().filter(|&i| self.exists(i)).count(),
            ids.clone().filter(|&i| self.is_up(i)).count(),
            ids.filter(|&i| self.is_in(i)).count(),
        )
    }

    /// The id of the pool with this name.
    pub fn pool_id(&self, name: &str) -> Option<i64> {
        self.pool_names
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(id, _)| *id)
    }

    /// The flag names, comma-separated, as `osd dump` shows them.
    pub fn flag_string(&self) -> String {
        flag_names(self.flags).join(",")
    }

    /// The oldest client release (a release number) that can read this
    /// map's placement: upmap entries need Luminous, otherwise what CRUSH,
    /// primary affinity and pool hashing need (Ceph's
    /// `get_min_compat_client`).
    pub fn min_compat_client(&self) -> u8 {
        if !self.pg_upmap.is_empty()
            || !self.pg_upmap_items.is_empty()
            || !self.pg_upmap_primaries.is_empty()
        {
            return 12;
        }
        let mut r = self.crush.min_client_release();
        if self
            .osd_primary_affinity
            .iter()
            .any(|&a| a != CEPH_OSD_DEFAULT_PRIMARY_AFFINITY)
        {
            r = r.max(6);
        }
        if self
            .pools
            .values()
            .any(|p| p.flags & PgPool::FLAG_HASHPSPOOL != 0)
        {
            r = r.max(2);
        }
        r
    }

    /// Resizes the per-OSD vectors to `max` OSDs; new OSDs are out and do
    /// not exist (Ceph's `set_max_osd`).
    pub fn set_max_osd(&mut self, max: i32) {
        let n = usize::try_from(max).unwrap_or(0);
        self.max_osd = max;
        self.osd_state.resize(n, 0);
        self.osd_weight.resize(n, CEPH_OSD_OUT);
        self.osd_info.resize(n, OsdInfo::default());
        self.osd_xinfo.resize(n, OsdXInfo::fresh());
        self.client_addrs.resize(n, EntityAddrVec::default());
        self.cluster_addrs.resize(n, EntityAddrVec::default());
        self.hb_back_addrs.resize(n, EntityAddrVec::default());
        self.hb_front_addrs.resize(n, EntityAddrVec::default());
        self.osd_uuid.resize(n, Uuid::default());
        if !self.osd_primary_affinity.is_empty() {
            self.osd_primary_affinity
                .resize(n, CEPH_OSD_DEFAULT_PRIMARY_AFFINITY);
        }
    }

    fn client_version(&self, features: u64) -> u8 {
        let allowed = if !has_feature(features, CEPH_FEATUREMASK_SERVER_LUMINOUS) {
            3
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_MIMIC) {
            6
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS) {
            7
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_REEF) {
            9
        } else if self.struct_v.1 > OSDMap::CLIENT_VERSION {
            self.struct_v.1
        } else {
            OSDMap::CLIENT_VERSION
        };
        pick_version(self.struct_v.1, allowed)
    }

    fn osd_version(&self, features: u64) -> u8 {
        let mut allowed = if !has_feature(features, CEPH_FEATUREMASK_SERVER_LUMINOUS) {
            1
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_MIMIC) {
            5
        } else if !has_feature(features, CEPH_FEATUREMASK_SERVER_NAUTILUS) {
            6
        } else {
            9
        };
        if self.stretch_mode_enabled {
            allowed = allowed.max(10);
        }
        if !self.range_blocklist.is_empty() {
            allowed = allowed.max(11);
        }
        if self.allow_crimson {
            allowed = allowed.max(12);
        }
        if self.struct_v.2 > OSDMap::OSD_VERSION {
            allowed = self.struct_v.2;
        }
        pick_version(self.struct_v.2, allowed)
    }

    fn decode_client(&mut self, d: &mut Decoder<'_>, v: u8) -> Result<()> {
        self.fsid = Uuid::decode(d)?;
        self.epoch = d.u32("osdmap.epoch")?;
        self.created = UTime::decode(d)?;
        self.modified = UTime::decode(d)?;
        self.pools = BTreeMap::decode(d)?;
        self.pool_names = BTreeMap::decode(d)?;
        self.pool_max = d.i32("osdmap.pool_max")?;
        self.flags = d.u32("osdmap.flags")?;
        self.max_osd = d.i32("osdmap.max_osd")?;
        self.osd_state = if v >= 5 {
            Vec::decode(d)?
        } else {
            decode_vec(d, 1, "osdmap.osd_state", |d| Ok(u32::from(d.u8("state")?)))?
        };
        self.osd_weight = Vec::decode(d)?;
        self.client_addrs = Vec::decode(d)?;
        self.pg_temp = BTreeMap::decode(d)?;
        self.primary_temp = BTreeMap::decode(d)?;
        if v >= 2 {
            self.osd_primary_affinity = Vec::decode(d)?;
        }
        let crush_bytes = d.bytes("osdmap.crush")?;
        self.crush = CrushWrapper::decode_all(crush_bytes)?;
        if v >= 3 {
            self.erasure_code_profiles = BTreeMap::decode(d)?;
        }
        if v >= 4 {
            self.pg_upmap = BTreeMap::decode(d)?;
            self.pg_upmap_items = BTreeMap::decode(d)?;
        }
        if v >= 6 {
            self.crush_version = d.i32("osdmap.crush_version")?;
        }
        if v >= 7 {
            self.new_removed_snaps = BTreeMap::decode(d)?;
            self.new_purged_snaps = BTreeMap::decode(d)?;
        }
        if v >= 9 {
            self.last_up_change = UTime::decode(d)?;
            self.last_in_change = UTime::decode(d)?;
        }
        if v >= 10 {
            self.pg_upmap_primaries = BTreeMap::decode(d)?;
        }
        self.unknown_tails.0 = newer_fields(d, v, OSDMap::CLIENT_VERSION, "osdmap client tail")?;
        Ok(())
    }

    fn decode_osd(&mut self, d: &mut Decoder<'_>, v: u8) -> Result<()> {
        self.hb_back_addrs = Vec::decode(d)?;
        self.osd_info = Vec::decode(d)?;
        self.blocklist = decode_addr_list(d)?;
        self.cluster_addrs = Vec::decode(d)?;
        self.cluster_snapshot_epoch = d.u32("osdmap.cluster_snapshot_epoch")?;
        self.cluster_snapshot = String::decode(d)?;
        self.osd_uuid = Vec::decode(d)?;
        self.osd_xinfo = Vec::decode(d)?;
        self.hb_front_addrs = Vec::decode(d)?;
        if v >= 2 {
            self.nearfull_ratio = f32::decode(d)?;
            self.full_ratio = f32::decode(d)?;
        }
        if v >= 3 {
            self.backfillfull_ratio = f32::decode(d)?;
        }
        if v == 4 {
            self.legacy_min_compat_client = String::decode(d)?;
        }
        if v >= 5 {
            self.require_min_compat_client = d.u8("osdmap.require_min_compat_client")?;
            self.require_osd_release = d.u8("osdmap.require_osd_release")?;
        }
        if v >= 6 {
            self.removed_snaps_queue = BTreeMap::decode(d)?;
        }
        if v >= 8 {
            self.crush_node_flags = BTreeMap::decode(d)?;
        }
        if v >= 9 {
            self.device_class_flags = BTreeMap::decode(d)?;
        }
        if v >= 10 {
            self.stretch_mode_enabled = d.bool("osdmap.stretch_mode_enabled")?;
            self.stretch_bucket_count = d.u32("osdmap.stretch_bucket_count")?;
            self.degraded_stretch_mode = d.u32("osdmap.degraded_stretch_mode")?;
            self.recovering_stretch_mode = d.u32("osdmap.recovering_stretch_mode")?;
            self.stretch_mode_bucket = d.i32("osdmap.stretch_mode_bucket")?;
        }
        if v >= 11 {
            self.range_blocklist = decode_addr_list(d)?;
        }
        if v >= 12 {
            self.allow_crimson = d.bool("osdmap.allow_crimson")?;
        }
        self.unknown_tails.1 = newer_fields(d, v, OSDMap::OSD_VERSION, "osdmap osd tail")?;
        Ok(())
    }

    fn encode_client(&self, out: &mut Vec<u8>, f: u64, v: u8) {
        self.fsid.encode(out, f);
        self.epoch.encode(out, f);
        self.created.encode(out, f);
        self.modified.encode(out, f);
        self.pools.encode(out, f);
        self.pool_names.encode(out, f);
        self.pool_max.encode(out, f);
        if v < 4 {
            let mut flags = self.flags;
            match self.require_osd_release {
                r if r >= 12 => {
                    flags |= osdmap_flags::REQUIRE_LUMINOUS | osdmap_flags::RECOVERY_DELETES
                }
                11 => flags |= osdmap_flags::REQUIRE_KRAKEN,
                10 => flags |= osdmap_flags::REQUIRE_JEWEL,
                _ => {}
            }
            flags.encode(out, f);
        } else {
            self.flags.encode(out, f);
        }
        self.max_osd.encode(out, f);
        if v >= 5 {
            self.osd_state.encode(out, f);
        } else {
            (self.osd_state.len() as u32).encode(out, f);
            for s in &self.osd_state {
                out.push(*s as u8);
            }
        }
        self.osd_weight.encode(out, f);
        if v >= 8 {
            self.client_addrs.encode(out, f);
        } else {
            encode_addrvecs_as_addr(&self.client_addrs, out, f);
        }
        self.pg_temp.encode(out, f);
        self.primary_temp.encode(out, f);
        self.osd_primary_affinity.encode(out, f);
        let crush = self.crush.to_bytes(f);
        ceph_denc::encode_bytes(out, &crush);
        self.erasure_code_profiles.encode(out, f);
        if v >= 4 {
            self.pg_upmap.encode(out, f);
            self.pg_upmap_items.encode(out, f);
        }
        if v >= 6 {
            self.crush_version.encode(out, f);
        }
        if v >= 7 {
            self.new_removed_snaps.encode(out, f);
            self.new_purged_snaps.encode(out, f);
        }
        if v >= 9 {
            self.last_up_change.encode(out, f);
            self.last_in_change.encode(out, f);
        }
        if v >= 10 {
            self.pg_upmap_primaries.encode(out, f);
        }
        put_newer_fields(out, v, OSDMap::CLIENT_VERSION, &self.unknown_tails.0);
    }

    fn encode_osd(&self, out: &mut Vec<u8>, f: u64, v: u8) {
        let addrs = |out: &mut Vec<u8>, a: &Vec<EntityAddrVec>| {
            if v < 7 {
                encode_addrvecs_as_addr(a, out, f);
            } else {
                a.encode(out, f);
            }
        };
        addrs(out, &self.hb_back_addrs);
        self.osd_info.encode(out, f);
        encode_addr_list(&self.blocklist, out, f);
        addrs(out, &self.cluster_addrs);
        self.cluster_snapshot_epoch.encode(out, f);
        self.cluster_snapshot.encode(out, f);
        self.osd_uuid.encode(out, f);
        self.osd_xinfo.encode(out, f);
        addrs(out, &self.hb_front_addrs);
        if v >= 2 {
            self.nearfull_ratio.encode(out, f);
            self.full_ratio.encode(out, f);
            self.backfillfull_ratio.encode(out, f);
        }
        if v == 4 {
            self.legacy_min_compat_client.encode(out, f);
        }
        if v >= 5 {
            self.require_min_compat_client.encode(out, f);
            self.require_osd_release.encode(out, f);
        }
        if v >= 6 {
            self.removed_snaps_queue.encode(out, f);
        }
        if v >= 8 {
            self.crush_node_flags.encode(out, f);
        }
        if v >= 9 {
            self.device_class_flags.encode(out, f);
        }
        if v >= 10 {
            self.stretch_mode_enabled.encode(out, f);
            self.stretch_bucket_count.encode(out, f);
            self.degraded_stretch_mode.encode(out, f);
            self.recovering_stretch_mode.encode(out, f);
            self.stretch_mode_bucket.encode(out, f);
        }
        if v >= 11 {
            encode_addr_list(&self.range_blocklist, out, f);
        }
        if v >= 12 {
            self.allow_crimson.encode(out, f);
        }
        put_newer_fields(out, v, OSDMap::OSD_VERSION, &self.unknown_tails.1);
    }

    /// The map in the shape of `ceph osd dump -f json`. The per-pool
    /// `read_balance` scores (which need CRUSH placement) are left out.
    pub fn to_json(&self) -> Value {
        let pools: Vec<Value> = self
            .pools
            .iter()
            .map(|(id, p)| {
                let mut m = serde_json::Map::new();
                m.insert("pool".into(), json!(id));
                m.insert(
                    "pool_name".into(),
                    json!(self.pool_names.get(id).map_or("<unknown>", String::as_str)),
                );
                p.to_json_fields(&mut m);
                Value::Object(m)
            })
            .collect();
        let osds: Vec<Value> = self
            .osd_ids()
            .filter(|&i| self.exists(i))
            .map(|i| self.osd_json(i))
            .collect();
        let xinfo: Vec<Value> = self
            .osd_ids()
            .filter(|&i| self.exists(i))
            .map(|i| {
                let mut v = self
                    .osd_xinfo
                    .get(i as usize)
                    .copied()
                    .unwrap_or_default()
                    .to_json();
                let mut m = serde_json::Map::new();
                m.insert("osd".into(), json!(i));
                if let Value::Object(o) = &mut v {
                    m.append(o);
                }
                Value::Object(m)
            })
            .collect();
        let pgid_osds = |m: &BTreeMap<PgId, Vec<i32>>| -> Value {
            Value::Array(
                m.iter()
                    .map(|(pg, osds)| json!({"pgid": pg.to_string(), "osds": osds}))
                    .collect(),
            )
        };
        let upmap_items: Vec<Value> = self
            .pg_upmap_items
            .iter()
            .map(|(pg, items)| {
                let mappings: Vec<Value> = items
                    .iter()
                    .map(|(from, to)| json!({"from": from, "to": to}))
                    .collect();
                json!({"pgid": pg.to_string(), "mappings": mappings})
            })
            .collect();
        let upmap_primaries: Vec<Value> = self
            .pg_upmap_primaries
            .iter()
            .map(|(pg, osd)| json!({"pgid": pg.to_string(), "primary_osd": osd}))
            .collect();
        let primary_temp: Vec<Value> = self
            .primary_temp
            .iter()
            .map(|(pg, osd)| json!({"pgid": pg.to_string(), "osd": osd}))
            .collect();
        let node_flags = |m: &BTreeMap<i32, u32>, name: &dyn Fn(i32) -> String| -> Value {
            let mut o = serde_json::Map::new();
            for (id, bits) in m {
                o.insert(name(*id), json!(state_names(*bits)));
            }
            Value::Object(o)
        };
        let mut head = json!({
            "epoch": self.epoch,
            "fsid": self.fsid.to_string(),
            "created": ceph_stamp(&self.created),
            "modified": ceph_stamp(&self.modified),
            "last_up_change": ceph_stamp(&self.last_up_change),
            "last_in_change": ceph_stamp(&self.last_in_change),
            "flags": self.flag_string(),
            "flags_num": self.flags,
            "flags_set": flag_set(self.flags),
            "crush_version": self.crush_version,
            "full_ratio": self.full_ratio,
            "backfillfull_ratio": self.backfillfull_ratio,
            "nearfull_ratio": self.nearfull_ratio,
            "cluster_snapshot": self.cluster_snapshot,
            "pool_max": self.pool_max,
            "max_osd": self.max_osd,
            "require_min_compat_client": release_name(self.require_min_compat_client),
            "min_compat_client": release_name(self.min_compat_client()),
            "require_osd_release": release_name(self.require_osd_release),
            "allow_crimson": self.allow_crimson,
        });
        let rest = json!({
            "pools": pools,
            "osds": osds,
            "osd_xinfo": xinfo,
            "pg_upmap": pgid_osds(&self.pg_upmap),
            "pg_upmap_items": upmap_items,
            "pg_upmap_primaries": upmap_primaries,
            "pg_temp": pgid_osds(&self.pg_temp),
            "primary_temp": primary_temp,
            "blocklist": addr_list_json(&self.blocklist),
            "range_blocklist": addr_list_json(&self.range_blocklist),
            "erasure_code_profiles": self.erasure_code_profiles,
            "removed_snaps_queue": pool_snaps_json(&self.removed_snaps_queue),
            "new_removed_snaps": pool_snaps_json(&self.new_removed_snaps),
            "new_purged_snaps": pool_snaps_json(&self.new_purged_snaps),
            "crush_node_flags": node_flags(&self.crush_node_flags, &|id| {
                self.crush.item_name(id).map_or_else(|| id.to_string(), str::to_string)
            }),
            "device_class_flags": node_flags(&self.device_class_flags, &|id| {
                self.crush.class_names.get(&id).cloned().unwrap_or_else(|| id.to_string())
            }),
            "stretch_mode": {
                "stretch_mode_enabled": self.stretch_mode_enabled,
                "stretch_bucket_count": self.stretch_bucket_count,
                "degraded_stretch_mode": self.degraded_stretch_mode,
                "recovering_stretch_mode": self.recovering_stretch_mode,
                "stretch_mode_bucket": self.stretch_mode_bucket,
            },
        });
        if let (Value::Object(h), Value::Object(mut r)) = (&mut head, rest) {
            h.append(&mut r);
        }
        head
    }

    fn osd_json(&self, i: i32) -> Value {
        let idx = i as usize;
        let blank = EntityAddrVec::default();
        let addrs = |v: &Vec<EntityAddrVec>| v.get(idx).cloned().unwrap_or_else(|| blank.clone());
        let public = addrs(&self.client_addrs);
        let cluster = addrs(&self.cluster_addrs);
        let hb_back = addrs(&self.hb_back_addrs);
        let hb_front = addrs(&self.hb_front_addrs);
        let mut m = serde_json::Map::new();
        m.insert("osd".into(), json!(i));
        m.insert(
            "uuid".into(),
            json!(self
                .osd_uuid
                .get(idx)
                .copied()
                .unwrap_or_default()
                .to_string()),
        );
        m.insert("up".into(), json!(i32::from(self.is_up(i))));
        m.insert("in".into(), json!(i32::from(self.is_in(i))));
        m.insert(
            "weight".into(),
            json!(f64::from(self.weight(i)) / f64::from(CEPH_OSD_IN)),
        );
        m.insert(
            "primary_affinity".into(),
            json!(f64::from(self.primary_affinity(i)) / f64::from(CEPH_OSD_IN)),
        );
        self.osd_info
            .get(idx)
            .copied()
            .unwrap_or_default()
            .to_json_fields(&mut m);
        m.insert("public_addrs".into(), addrvec_json(&public));
        m.insert("cluster_addrs".into(), addrvec_json(&cluster));
        m.insert("heartbeat_back_addrs".into(), addrvec_json(&hb_back));
        m.insert("heartbeat_front_addrs".into(), addrvec_json(&hb_front));
        m.insert("public_addr".into(), json!(legacy_str(&public)));
        m.insert("cluster_addr".into(), json!(legacy_str(&cluster)));
        m.insert("heartbeat_back_addr".into(), json!(legacy_str(&hb_back)));
        m.insert("heartbeat_front_addr".into(), json!(legacy_str(&hb_front)));
        m.insert("state".into(), json!(state_names(self.state(i))));
        Value::Object(m)
    }
}

/// Ceph's `get_legacy_str()`: the msgr1 (or first) address as `ip:port/nonce`.
fn legacy_str(v: &EntityAddrVec) -> String {
    v.legacy_or_front().legacy_str()
}

fn flag_names(flags: u32) -> Vec<&'static str> {
    osdmap_flags::NAMES
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// The flag names sorted, as Ceph's `flags_set` lists them.
fn flag_set(flags: u32) -> Vec<&'static str> {
    let mut v = flag_names(flags);
    v.sort_unstable();
    v
}

/// The names of OSD state bits, sorted as Ceph's `set<string>` is.
pub fn state_names(bits: u32) -> Vec<&'static str> {
    let mut v: Vec<&str> = osd_state::NAMES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    v.sort_unstable();
    v
}

const LAYOUT: SectionLayout = SectionLayout {
    what: "OSDMap",
    client: "OSDMap client section",
    osd: "OSDMap osd section",
    crc_words: &["OSDMap crc"],
    tail: "OSDMap tail",
};

impl Decode for OSDMap {
    /// Decodes a whole map and checks its CRC.
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let mut map = OSDMap::default();
        let parts = decode_sectioned(
            d,
            &LAYOUT,
            &mut map,
            OSDMap::decode_client,
            OSDMap::decode_osd,
        )?;
        map.struct_v = parts.struct_v;
        map.crc = parts.crcs[0];
        map.unknown_tails.2 = parts.tail;
        Ok(map)
    }
}

impl Encode for OSDMap {
    /// Writes the enveloped encoding (a peer without `SERVER_NAUTILUS` gets
    /// the older section versions, with legacy addresses) and fills in the
    /// CRC. `features` must include the OSDMAP_ENC bit; the classic
    /// encoding is not written.
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        let cv = self.client_version(features);
        let ov = self.osd_version(features);
        encode_sectioned(
            out,
            self.struct_v.0,
            (cv, |out| self.encode_client(out, features, cv)),
            (ov, |out| self.encode_osd(out, features, ov)),
            &[],
            &self.unknown_tails.2,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoded map can claim `max_osd` = i32::MAX with two OSDs listed:
    /// counting and the JSON view must look only at the listed ones (the
    /// fuzzer found this taking seconds per call).
    #[test]
    fn huge_max_osd_with_few_entries_is_cheap() {
        let mut map = OSDMap {
            max_osd: i32::MAX,
            osd_state: vec![osd_state::EXISTS | osd_state::UP, osd_state::EXISTS],
            osd_weight: vec![CEPH_OSD_IN, 0],
            ..OSDMap::default()
        };
        let start = std::time::Instant::now();
        assert_eq!(map.num_osds(), (2, 1, 1));
        assert_eq!(map.to_json()["osds"].as_array().map(Vec::len), Some(2));
        map.max_osd = 1;
        assert_eq!(map.num_osds(), (1, 1, 1));
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
