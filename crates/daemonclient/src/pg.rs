//! A PG's primary OSD.
//!
//! TODO(lead): once branch `placement` is merged, compute the primary
//! locally and drop the monitor round trip below. The body of `primary`
//! becomes (the fold stays: `pg_to_up_acting` takes a real PG):
//!
//! ```text
//! let pool = i64::try_from(pg.pool).unwrap_or(i64::MAX);
//! let Some(info) = map.pools.get(&pool) else {
//!     return Err(Resolved::Missing(format!("pool {}", pg.pool)));
//! };
//! let pg = PgId { pool: pg.pool, seed: fold_seed(pg.seed, info.pg_num) };
//! match map.pg_to_up_acting(pg) {
//!     Ok(p) if p.acting_primary >= 0 => Ok(Some(p.acting_primary)),
//!     Ok(_) => Ok(None),
//!     Err(PlacementError::NoSuchPool(_)) => Err(Resolved::Missing(format!("pool {}", pg.pool))),
//!     Err(e) => Err(Resolved::Wait(format!("placing pg {pg}: {e}"))),
//! }
//! ```
//!
//! (`client`, `deadline` and the async become unneeded.) Until then the
//! monitors' `pg map` answers; it lists `acting` with the primary first (so
//! a primary-temp that does not reorder `acting` is not seen: pg-temp is).

use std::sync::Arc;

use ceph_osdmap::{OSDMap, PgId};
use tokio::time::Instant;

use crate::client::DaemonClient;
use crate::maps::Resolved;

/// The acting primary of `pg` as of `map`'s epoch (or newer); `Ok(None)`
/// when the PG has no acting OSD now; `Err` with the resolution to report
/// (the pool does not exist).
pub(crate) async fn primary(
    client: &DaemonClient,
    map: &Arc<OSDMap>,
    pg: PgId,
    deadline: Instant,
) -> Result<Option<i32>, Resolved> {
    let pool = i64::try_from(pg.pool).unwrap_or(i64::MAX);
    let Some(info) = map.pools.get(&pool) else {
        return Err(Resolved::Missing(format!("pool {}", pg.pool)));
    };
    // A seed beyond pg_num names the PG it folds into (as the Objecter
    // maps it); the monitors' `pg map` refuses such ids.
    let pg = PgId {
        pool: pg.pool,
        seed: fold_seed(pg.seed, info.pg_num),
    };
    let cmd = format!(r#"{{"prefix": "pg map", "pgid": "{pg}", "format": "json"}}"#);
    let limit = deadline.saturating_duration_since(Instant::now());
    let reply = client
        .mon()
        .command_with_timeout(cmd, Vec::new(), Some(limit))
        .await
        .map_err(|e| Resolved::Wait(format!("pg map {pg}: {e}")))?;
    if reply.retval != 0 {
        return Err(Resolved::Missing(format!("pg {pg} ({})", reply.outs)));
    }
    Ok(primary_from_pg_map(&reply.outbl))
}

/// Ceph's stable modulo of a PG seed by `pg_num`: seeds beyond `pg_num`
/// fold onto the PGs that exist without moving those below it.
pub(crate) fn fold_seed(seed: u32, pg_num: u32) -> u32 {
    if pg_num == 0 {
        return seed;
    }
    let mask = pg_num.next_power_of_two() - 1;
    if seed & mask < pg_num {
        seed & mask
    } else {
        seed & (mask >> 1)
    }
}

/// The first OSD of `acting` in the monitors' `pg map` JSON.
pub(crate) fn primary_from_pg_map(json: &[u8]) -> Option<i32> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    if let Some(p) = v.get("acting_primary").and_then(|p| p.as_i64()) {
        return i32::try_from(p).ok().filter(|p| *p >= 0);
    }
    let first = v.get("acting")?.as_array()?.first()?.as_i64()?;
    i32::try_from(first).ok().filter(|p| *p >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_fold_as_ceph_stable_mod() {
        assert_eq!(fold_seed(3, 1), 0);
        assert_eq!(fold_seed(5, 8), 5);
        assert_eq!(fold_seed(0x1f, 8), 7);
        // pg_num 12: mask 15; 13 & 15 = 13 >= 12, so 13 & 7 = 5.
        assert_eq!(fold_seed(13, 12), 5);
        assert_eq!(fold_seed(11, 12), 11);
        assert_eq!(fold_seed(7, 0), 7);
    }

    #[test]
    fn primary_is_the_first_acting_osd() {
        let j = br#"{"epoch":21,"raw_pgid":"1.0","pgid":"1.0","up":[2,0,1],"acting":[1,0,2]}"#;
        assert_eq!(primary_from_pg_map(j), Some(1));
        assert_eq!(primary_from_pg_map(br#"{"acting":[]}"#), None);
        assert_eq!(
            primary_from_pg_map(br#"{"acting":[2147483647]}"#),
            Some(i32::MAX)
        );
        assert_eq!(primary_from_pg_map(b"not json"), None);
    }
}
