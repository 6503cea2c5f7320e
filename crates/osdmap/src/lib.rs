//! Ceph's OSD map family, on top of [`ceph_types`]: the `OSDMap` and its
//! incrementals, the CRUSH map, pools (`pg_pool_t`) and the per-OSD
//! records. Placement (CRUSH mapping, object → PG → OSDs) belongs here too.
//!
//! As in `ceph-types`, every `Decode` impl is total and every `Encode` impl
//! takes the peer's feature bits and picks the encoding Ceph would.

// The only unsafe: calling the CRUSH hash's AVX2 lanes once the CPU is
// known to have AVX2 (crush/hash.rs).
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod crush;
pub mod osd_types;
pub mod osdmap;
pub mod osdmap_inc;
pub mod pg_pool;
pub mod placement;

pub use crush::CrushWrapper;
pub use osd_types::{OsdInfo, OsdXInfo, PgId};
pub use osdmap::OSDMap;
pub use osdmap_inc::Incremental as OSDMapIncremental;
pub use pg_pool::PgPool;
