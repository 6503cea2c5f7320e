//! Ceph feature bits (`CEPH_FEATURE_*`) as exchanged in msgr2's client/server
//! ident frames and used to choose wire encodings.
//!
//! Bits that Ceph retired have been reused with a new meaning. To tell the
//! old meaning from the new one, a reused bit is only trusted together with
//! an "incarnation" marker: bits that every peer speaking the new meaning
//! also sets (bit 57 `SERVER_JEWEL` for incarnation 2, bits 57 and 28
//! `SERVER_MIMIC` for incarnation 3). Each `CEPH_FEATUREMASK_*` is the
//! feature bit plus its incarnation marker; test with [`has_feature`], which
//! requires every bit of the mask.
//!
//! ```
//! use ceph_types::features::*;
//! assert!(has_feature(CLIENT_FEATURES_ALL, CEPH_FEATUREMASK_SERVER_NAUTILUS));
//! // Bit 2 alone once meant MONCLOCKCHECK; without the Mimic marker it is not Nautilus.
//! assert!(!has_feature(CEPH_FEATURE_SERVER_NAUTILUS, CEPH_FEATUREMASK_SERVER_NAUTILUS));
//! ```

/// Marker for bits used for the first time: no extra bits required.
pub const CEPH_FEATURE_INCARNATION_1: u64 = 0;
/// Marker for bits reused once: `SERVER_JEWEL` (bit 57).
pub const CEPH_FEATURE_INCARNATION_2: u64 = 1 << 57;
/// Marker for bits reused twice: `SERVER_JEWEL` and `SERVER_MIMIC` (bits 57 and 28).
pub const CEPH_FEATURE_INCARNATION_3: u64 = (1 << 57) | (1 << 28);

/// True when `features` holds every bit of `mask` (a `CEPH_FEATUREMASK_*`,
/// i.e. the feature bit together with its incarnation marker).
pub const fn has_feature(features: u64, mask: u64) -> bool {
    features & mask == mask
}

/// Declares `CEPH_FEATURE_<name>` (the bit) and `CEPH_FEATUREMASK_<name>`
/// (the bit plus its incarnation marker).
macro_rules! feature {
    ($($(#[$doc:meta])* $bit:literal, $inc:ident, $bitname:ident, $maskname:ident;)*) => {$(
        $(#[$doc])*
        pub const $bitname: u64 = 1 << $bit;
        $(#[$doc])*
        #[doc = concat!("(Bit ", stringify!($bit), " with the ", stringify!($inc), " marker.)")]
        pub const $maskname: u64 = (1 << $bit) | $inc;
    )*};
}

feature! {
    /// Carries the user id in requests.
    0, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_UID, CEPH_FEATUREMASK_UID;
    /// Messages carry no source address.
    1, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_NOSRCADDR, CEPH_FEATUREMASK_NOSRCADDR;
    /// Nautilus server (reuses retired MONCLOCKCHECK).
    2, CEPH_FEATURE_INCARNATION_3, CEPH_FEATURE_SERVER_NAUTILUS, CEPH_FEATUREMASK_SERVER_NAUTILUS;
    /// File locking.
    3, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_FLOCK, CEPH_FEATUREMASK_FLOCK;
    /// Subscription protocol v2 (MMonSubscribe with start epochs).
    4, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_SUBSCRIBE2, CEPH_FEATUREMASK_SUBSCRIBE2;
    /// Monitors are named.
    5, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_MONNAMES, CEPH_FEATUREMASK_MONNAMES;
    /// Reconnect with sequence numbers.
    6, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_RECONNECT_SEQ, CEPH_FEATUREMASK_RECONNECT_SEQ;
    /// Directory layout hash.
    7, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_DIRLAYOUTHASH, CEPH_FEATUREMASK_DIRLAYOUTHASH;
    /// Object locator in OSD ops.
    8, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_OBJECTLOCATOR, CEPH_FEATUREMASK_OBJECTLOCATOR;
    /// 64-bit placement group ids.
    9, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_PGID64, CEPH_FEATUREMASK_PGID64;
    /// Incremental OSD map subscription.
    10, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_INCSUBOSDMAP, CEPH_FEATUREMASK_INCSUBOSDMAP;
    /// Pool encoding v3.
    11, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_PGPOOL3, CEPH_FEATUREMASK_PGPOOL3;
    /// OSD reply multiplexing.
    12, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_OSDREPLYMUX, CEPH_FEATUREMASK_OSDREPLYMUX;
    /// Versioned OSD encodings.
    13, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_OSDENC, CEPH_FEATUREMASK_OSDENC;
    /// Kraken server (reuses retired OMAP).
    14, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_SERVER_KRAKEN, CEPH_FEATUREMASK_SERVER_KRAKEN;
    /// Versioned monitor encodings (MonMap v3+).
    15, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_MONENC, CEPH_FEATUREMASK_MONENC;
    /// Octopus server (reuses retired QUERY_T).
    16, CEPH_FEATURE_INCARNATION_3, CEPH_FEATURE_SERVER_OCTOPUS, CEPH_FEATUREMASK_SERVER_OCTOPUS;
    /// Replicated op carries min last-complete-ondisk (shares bit 16).
    16, CEPH_FEATURE_INCARNATION_3, CEPH_FEATURE_OSD_REPOP_MLCOD, CEPH_FEATUREMASK_OSD_REPOP_MLCOD;
    /// Perf stats in nanoseconds (reuses retired INDEP_PG_MAP).
    17, CEPH_FEATURE_INCARNATION_3, CEPH_FEATURE_OS_PERF_STAT_NS, CEPH_FEATUREMASK_OS_PERF_STAT_NS;
    /// CRUSH tunables.
    18, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_CRUSH_TUNABLES, CEPH_FEATUREMASK_CRUSH_TUNABLES;
    /// Hard limit on PG log length (reuses retired CHUNKY_SCRUB).
    19, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_OSD_PGLOG_HARDLIMIT, CEPH_FEATUREMASK_OSD_PGLOG_HARDLIMIT;
    /// Pacific server (reuses retired MON_NULLROUTE).
    20, CEPH_FEATURE_INCARNATION_3, CEPH_FEATURE_SERVER_PACIFIC, CEPH_FEATUREMASK_SERVER_PACIFIC;
    /// Luminous server (reuses retired MON_GV).
    21, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_SERVER_LUMINOUS, CEPH_FEATUREMASK_SERVER_LUMINOUS;
    /// Resend ops on PG split (shares bit 21).
    21, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_RESEND_ON_SPLIT, CEPH_FEATUREMASK_RESEND_ON_SPLIT;
    /// RADOS backoff messages (shares bit 21).
    21, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_RADOS_BACKOFF, CEPH_FEATUREMASK_RADOS_BACKOFF;
    /// OSD map pg-upmap (shares bit 21).
    21, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_OSDMAP_PG_UPMAP, CEPH_FEATUREMASK_OSDMAP_PG_UPMAP;
    /// CRUSH choose_args (shares bit 21).
    21, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_CRUSH_CHOOSE_ARGS, CEPH_FEATUREMASK_CRUSH_CHOOSE_ARGS;
    /// Fixed collection listing (reuses retired BACKFILL_RESERVATION).
    22, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_OSD_FIXED_COLLECTION_LIST, CEPH_FEATUREMASK_OSD_FIXED_COLLECTION_LIST;
    /// Message signing (msgr1).
    23, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_MSG_AUTH, CEPH_FEATUREMASK_MSG_AUTH;
    /// Recovery reservation v2 (reuses retired RECOVERY_RESERVATION).
    24, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_RECOVERY_RESERVATION_2, CEPH_FEATUREMASK_RECOVERY_RESERVATION_2;
    /// CRUSH tunables 2.
    25, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_CRUSH_TUNABLES2, CEPH_FEATUREMASK_CRUSH_TUNABLES2;
    /// Pool creation with a chosen id.
    26, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_CREATEPOOLID, CEPH_FEATUREMASK_CREATEPOOLID;
    /// MDS create-inode reply.
    27, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_REPLY_CREATE_INODE, CEPH_FEATUREMASK_REPLY_CREATE_INODE;
    /// Mimic server (reuses retired OSD_HBMSGS).
    28, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_SERVER_MIMIC, CEPH_FEATUREMASK_SERVER_MIMIC;
    /// Versioned MDS encodings.
    29, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_MDSENC, CEPH_FEATUREMASK_MDSENC;
    /// Pool-hashed placement seeds.
    30, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_OSDHASHPSPOOL, CEPH_FEATUREMASK_OSDHASHPSPOOL;
    /// Reef server (reuses retired MON_SINGLE_PAXOS).
    31, CEPH_FEATURE_INCARNATION_3, CEPH_FEATURE_SERVER_REEF, CEPH_FEATUREMASK_SERVER_REEF;
    /// Stretch mode (reuses retired OSD_SNAPMAPPER).
    32, CEPH_FEATURE_INCARNATION_3, CEPH_FEATURE_STRETCH_MODE, CEPH_FEATUREMASK_STRETCH_MODE;
    /// Quincy server (reuses retired MON_SCRUB).
    33, CEPH_FEATURE_INCARNATION_3, CEPH_FEATURE_SERVER_QUINCY, CEPH_FEATUREMASK_SERVER_QUINCY;
    /// Range blocklist entries (reuses retired OSD_PACKED_RECOVERY).
    34, CEPH_FEATURE_INCARNATION_3, CEPH_FEATURE_RANGE_BLOCKLIST, CEPH_FEATUREMASK_RANGE_BLOCKLIST;
    /// Cache pools.
    35, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_OSD_CACHEPOOL, CEPH_FEATUREMASK_OSD_CACHEPOOL;
    /// CRUSH v2 rules.
    36, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_CRUSH_V2, CEPH_FEATUREMASK_CRUSH_V2;
    /// MDS cap export peer.
    37, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_EXPORT_PEER, CEPH_FEATUREMASK_EXPORT_PEER;
    /// New-style OSDMap encoding.
    39, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_OSDMAP_ENC, CEPH_FEATUREMASK_OSDMAP_ENC;
    /// MDS inline data.
    40, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_MDS_INLINE_DATA, CEPH_FEATUREMASK_MDS_INLINE_DATA;
    /// CRUSH tunables 3.
    41, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_CRUSH_TUNABLES3, CEPH_FEATUREMASK_CRUSH_TUNABLES3;
    /// OSD primary affinity (shares bit 41).
    41, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_OSD_PRIMARY_AFFINITY, CEPH_FEATUREMASK_OSD_PRIMARY_AFFINITY;
    /// Keepalive2 with timestamps.
    42, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_MSGR_KEEPALIVE2, CEPH_FEATUREMASK_MSGR_KEEPALIVE2;
    /// Resend ops on pool change.
    43, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_OSD_POOLRESEND, CEPH_FEATUREMASK_OSD_POOLRESEND;
    /// fadvise flags in OSD ops.
    46, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_OSD_FADVISE_FLAGS, CEPH_FEATUREMASK_OSD_FADVISE_FLAGS;
    /// MDS quotas.
    47, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_MDS_QUOTA, CEPH_FEATUREMASK_MDS_QUOTA;
    /// CRUSH straw2 buckets.
    48, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_CRUSH_V4, CEPH_FEATUREMASK_CRUSH_V4;
    /// Squid server (reuses retired OSD_MIN_SIZE_RECOVERY).
    49, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_SERVER_SQUID, CEPH_FEATUREMASK_SERVER_SQUID;
    /// Tentacle server (reuses retired MON_METADATA).
    50, CEPH_FEATURE_INCARNATION_2, CEPH_FEATURE_SERVER_TENTACLE, CEPH_FEATUREMASK_SERVER_TENTACLE;
    /// New OSD op encoding (pg_pool_t v25+).
    56, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_NEW_OSDOP_ENCODING, CEPH_FEATUREMASK_NEW_OSDOP_ENCODING;
    /// Stateful monitor subscriptions.
    57, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_MON_STATEFUL_SUB, CEPH_FEATUREMASK_MON_STATEFUL_SUB;
    /// Jewel server (shares bit 57; the incarnation-2 marker).
    57, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_SERVER_JEWEL, CEPH_FEATUREMASK_SERVER_JEWEL;
    /// CRUSH tunables 5.
    58, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_CRUSH_TUNABLES5, CEPH_FEATUREMASK_CRUSH_TUNABLES5;
    /// New OSD op reply encoding (shares bit 58).
    58, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_NEW_OSDOPREPLY_ENCODING, CEPH_FEATUREMASK_NEW_OSDOPREPLY_ENCODING;
    /// File layout v2 (shares bit 58).
    58, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_FS_FILE_LAYOUT_V2, CEPH_FEATUREMASK_FS_FILE_LAYOUT_V2;
    /// File birth time.
    59, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_FS_BTIME, CEPH_FEATUREMASK_FS_BTIME;
    /// File change attribute (shares bit 59).
    59, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_FS_CHANGE_ATTR, CEPH_FEATUREMASK_FS_CHANGE_ATTR;
    /// Address encoding v2 (`entity_addr_t` with type, `entity_addrvec_t`); shares bit 59.
    59, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_MSG_ADDR2, CEPH_FEATUREMASK_MSG_ADDR2;
    /// Recovery deletes.
    60, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_OSD_RECOVERY_DELETES, CEPH_FEATUREMASK_OSD_RECOVERY_DELETES;
    /// CephX v2 (signatures cover more of the message; authorizer challenge).
    61, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_CEPHX_V2, CEPH_FEATUREMASK_CEPHX_V2;
    /// Sentinel; never set.
    62, CEPH_FEATURE_INCARNATION_1, CEPH_FEATURE_RESERVED, CEPH_FEATUREMASK_RESERVED;
}

/// Squid's `CEPH_FEATURES_ALL`: every feature a Squid (19.x) daemon or
/// client advertises.
pub const CEPH_FEATURES_ALL_SQUID: u64 = CEPH_FEATURE_UID
    | CEPH_FEATURE_NOSRCADDR
    | CEPH_FEATURE_FLOCK
    | CEPH_FEATURE_SUBSCRIBE2
    | CEPH_FEATURE_MONNAMES
    | CEPH_FEATURE_RECONNECT_SEQ
    | CEPH_FEATURE_DIRLAYOUTHASH
    | CEPH_FEATURE_OBJECTLOCATOR
    | CEPH_FEATURE_PGID64
    | CEPH_FEATURE_INCSUBOSDMAP
    | CEPH_FEATURE_PGPOOL3
    | CEPH_FEATURE_OSDREPLYMUX
    | CEPH_FEATURE_OSDENC
    | CEPH_FEATURE_MONENC
    | CEPH_FEATURE_CRUSH_TUNABLES
    | CEPH_FEATURE_MSG_AUTH
    | CEPH_FEATURE_CRUSH_TUNABLES2
    | CEPH_FEATURE_CREATEPOOLID
    | CEPH_FEATURE_REPLY_CREATE_INODE
    | CEPH_FEATURE_MDSENC
    | CEPH_FEATURE_OSDHASHPSPOOL
    | CEPH_FEATURE_NEW_OSDOP_ENCODING
    | CEPH_FEATURE_NEW_OSDOPREPLY_ENCODING
    | CEPH_FEATURE_OSD_CACHEPOOL
    | CEPH_FEATURE_CRUSH_V2
    | CEPH_FEATURE_EXPORT_PEER
    | CEPH_FEATURE_OSDMAP_ENC
    | CEPH_FEATURE_MDS_INLINE_DATA
    | CEPH_FEATURE_CRUSH_TUNABLES3
    | CEPH_FEATURE_OSD_PRIMARY_AFFINITY
    | CEPH_FEATURE_MSGR_KEEPALIVE2
    | CEPH_FEATURE_OSD_POOLRESEND
    | CEPH_FEATURE_OSD_FADVISE_FLAGS
    | CEPH_FEATURE_MDS_QUOTA
    | CEPH_FEATURE_CRUSH_V4
    | CEPH_FEATURE_MON_STATEFUL_SUB
    | CEPH_FEATURE_CRUSH_TUNABLES5
    | CEPH_FEATURE_SERVER_JEWEL
    | CEPH_FEATURE_FS_FILE_LAYOUT_V2
    | CEPH_FEATURE_SERVER_KRAKEN
    | CEPH_FEATURE_FS_BTIME
    | CEPH_FEATURE_FS_CHANGE_ATTR
    | CEPH_FEATURE_MSG_ADDR2
    | CEPH_FEATURE_SERVER_LUMINOUS
    | CEPH_FEATURE_RESEND_ON_SPLIT
    | CEPH_FEATURE_RADOS_BACKOFF
    | CEPH_FEATURE_OSD_RECOVERY_DELETES
    | CEPH_FEATURE_SERVER_MIMIC
    | CEPH_FEATURE_RECOVERY_RESERVATION_2
    | CEPH_FEATURE_SERVER_NAUTILUS
    | CEPH_FEATURE_CEPHX_V2
    | CEPH_FEATURE_OSD_PGLOG_HARDLIMIT
    | CEPH_FEATUREMASK_SERVER_OCTOPUS
    | CEPH_FEATUREMASK_STRETCH_MODE
    | CEPH_FEATUREMASK_OSD_REPOP_MLCOD
    | CEPH_FEATUREMASK_SERVER_PACIFIC
    | CEPH_FEATURE_OSD_FIXED_COLLECTION_LIST
    | CEPH_FEATUREMASK_SERVER_QUINCY
    | CEPH_FEATURE_RANGE_BLOCKLIST
    | CEPH_FEATUREMASK_SERVER_REEF
    | CEPH_FEATUREMASK_SERVER_SQUID;

/// Pacific's `CEPH_FEATURES_ALL` (16.2.x): Squid's set without the Quincy
/// and Squid server bits. (Pacific still advertised bit 31, then meaning
/// MON_SINGLE_PAXOS, which Reef reused as `SERVER_REEF`: the incarnation
/// marker is what keeps a Pacific peer from passing as Reef.)
pub const CEPH_FEATURES_ALL_PACIFIC: u64 =
    CEPH_FEATURES_ALL_SQUID & !(CEPH_FEATURE_SERVER_QUINCY | CEPH_FEATURE_SERVER_SQUID);

/// Tentacle's `CEPH_FEATURES_ALL` (20.2.x): Squid's set plus `SERVER_TENTACLE`.
pub const CEPH_FEATURES_ALL_TENTACLE: u64 =
    CEPH_FEATURES_ALL_SQUID | CEPH_FEATUREMASK_SERVER_TENTACLE;

/// The features this client advertises: everything the newest release we
/// know (Tentacle) advertises. Every server from Pacific on accepts it;
/// encodings that depend on features are still chosen from the peer's set.
pub const CLIENT_FEATURES_ALL: u64 = CEPH_FEATURES_ALL_TENTACLE;

/// Features a monitor must have for this client to talk to it: the ones
/// every Ceph from Luminous on has and our encoders assume.
pub const CLIENT_FEATURES_REQUIRED: u64 =
    CEPH_FEATURE_MSG_ADDR2 | CEPH_FEATURE_MONENC | CEPH_FEATURE_SUBSCRIBE2;

/// Ceph's `CEPH_FEATURES_CRUSH`: the CRUSH-related bits.
pub const CEPH_FEATURES_CRUSH: u64 = CEPH_FEATURE_CRUSH_TUNABLES
    | CEPH_FEATURE_CRUSH_TUNABLES2
    | CEPH_FEATURE_CRUSH_TUNABLES3
    | CEPH_FEATURE_CRUSH_TUNABLES5
    | CEPH_FEATURE_CRUSH_V2
    | CEPH_FEATURE_CRUSH_V4
    | CEPH_FEATUREMASK_CRUSH_CHOOSE_ARGS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_bit_is_never_advertised() {
        assert_eq!(CLIENT_FEATURES_ALL & CEPH_FEATURE_RESERVED, 0);
        assert_eq!(CLIENT_FEATURES_ALL >> 63, 0);
    }

    #[test]
    fn modern_client_has_every_server_release_mask() {
        for mask in [
            CEPH_FEATUREMASK_SERVER_JEWEL,
            CEPH_FEATUREMASK_SERVER_KRAKEN,
            CEPH_FEATUREMASK_SERVER_LUMINOUS,
            CEPH_FEATUREMASK_SERVER_MIMIC,
            CEPH_FEATUREMASK_SERVER_NAUTILUS,
            CEPH_FEATUREMASK_SERVER_OCTOPUS,
            CEPH_FEATUREMASK_SERVER_PACIFIC,
            CEPH_FEATUREMASK_SERVER_QUINCY,
            CEPH_FEATUREMASK_SERVER_REEF,
            CEPH_FEATUREMASK_SERVER_SQUID,
            CEPH_FEATUREMASK_SERVER_TENTACLE,
            CEPH_FEATUREMASK_MSG_ADDR2,
            CEPH_FEATUREMASK_MONENC,
        ] {
            assert!(has_feature(CLIENT_FEATURES_ALL, mask), "{mask:#x}");
        }
        assert!(!has_feature(
            CEPH_FEATURES_ALL_PACIFIC,
            CEPH_FEATUREMASK_SERVER_QUINCY
        ));
        assert!(has_feature(
            CEPH_FEATURES_ALL_PACIFIC,
            CEPH_FEATUREMASK_SERVER_PACIFIC
        ));
    }

    #[test]
    fn reused_bit_needs_its_incarnation_marker() {
        // An ancient peer that set bit 20 (MON_NULLROUTE) is not a Pacific server.
        let ancient = CEPH_FEATURE_SERVER_PACIFIC | CEPH_FEATURE_SERVER_JEWEL;
        assert!(!has_feature(ancient, CEPH_FEATUREMASK_SERVER_PACIFIC));
        assert!(has_feature(
            ancient | CEPH_FEATURE_SERVER_MIMIC,
            CEPH_FEATUREMASK_SERVER_PACIFIC
        ));
    }

    #[test]
    fn pacific_value_matches_what_pacific_advertises() {
        // What the 16.2.15 `ceph` CLI sent in its msgr2 client_ident frame
        // (captures/crc.conn0.c2s.bin, offset 439).
        assert_eq!(CEPH_FEATURES_ALL_PACIFIC, 0x3f01_cfbd_fffd_ffff);
    }
}
