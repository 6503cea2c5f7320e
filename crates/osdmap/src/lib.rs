//! Ceph's OSD map family, decoded and encoded in pure Rust: the `OSDMap`
//! the monitors publish and its incrementals, the CRUSH map, pools
//! (`pg_pool_t`) and the per-OSD records, plus placement — the object →
//! PG → OSDs computation a client needs to know which OSDs hold an object.
//! It sits on [`ceph_types`] and [`ceph_denc`] and does no I/O: feed it the
//! bytes a monitor sent (ceph-monclient's `follow_osdmap()` does that and
//! keeps the map current).
//!
//! ```
//! use ceph_denc::Decode;
//! use ceph_osdmap::crush::rule_op;
//! use ceph_osdmap::osdmap::{osd_state, CEPH_OSD_IN};
//! use ceph_osdmap::OSDMap;
//!
//! // A map made by `osdmaptool --createsimple 3` with one replicated pool,
//! // `rbd` (id 1): 192 PGs, three copies, three OSDs on one host.
//! let bytes = include_bytes!("../tests/data/osdmaptool-createsimple-3-pool.bin");
//! let mut map = OSDMap::decode_all(bytes)?;
//! let pool = map.pool_id("rbd").expect("the map has pool rbd");
//!
//! // osdmaptool leaves its OSDs down and out: bring them up and in, as if
//! // they had booted (what `osdmaptool --mark-up-in` does)...
//! for osd in 0..map.osd_state.len() {
//!     map.osd_state[osd] |= osd_state::EXISTS | osd_state::UP;
//!     map.osd_weight[osd] = CEPH_OSD_IN;
//! }
//! // ...and since all three share one host, let the rule spread copies over
//! // OSDs rather than hosts (a one-node cluster's `osd_crush_chooseleaf_type = 0`).
//! let rule = map.crush.rules[0].as_mut().expect("rule 0");
//! for step in &mut rule.steps {
//!     if step.op == rule_op::CHOOSELEAF_FIRSTN {
//!         step.arg2 = 0; // CRUSH type 0: osd
//!     }
//! }
//!
//! // Object → PG → OSDs.
//! let pg = map.object_to_pg(pool, "greeting", "", None)?;
//! let placement = map.pg_to_up_acting(pg)?;
//! println!("{pg} -> up {:?} acting {:?}", placement.up, placement.acting);
//! // Ceph's own `osdmaptool --test-map-object greeting` on the same map agrees:
//! assert_eq!(pg.to_string(), "1.5d");
//! assert_eq!(placement.up, [0, 2, 1]);
//! assert_eq!(placement.acting, placement.up); // no pg_temp override
//! assert_eq!(placement.acting_primary, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
