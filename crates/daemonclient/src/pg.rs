//! A PG's primary OSD, computed from the OSD map the client keeps current
//! (CRUSH, upmaps, `pg_temp` and `primary_temp`, as the Objecter does), so
//! no monitor round trip is needed and a `primary_temp` that leaves the
//! order of `acting` alone is followed too.

use ceph_osdmap::placement::PlacementError;
use ceph_osdmap::{OSDMap, PgId};

use crate::maps::Resolved;

/// The acting primary of `pg` by `map`: `Ok(None)` when the PG has no
/// acting OSD now; `Err` with the resolution to report (the pool does not
/// exist, or the map cannot be evaluated until it changes). A seed beyond
/// `pg_num` names the PG it folds into, as the Objecter maps it.
pub(crate) fn primary(map: &OSDMap, pg: PgId) -> Result<Option<i32>, Resolved> {
    match map.pg_to_up_acting(pg) {
        Ok(p) if p.acting_primary >= 0 => Ok(Some(p.acting_primary)),
        Ok(_) => Ok(None),
        Err(PlacementError::NoSuchPool(_)) => Err(Resolved::Missing(format!("pool {}", pg.pool))),
        Err(e) => Err(Resolved::Wait(format!("placing pg {pg}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceph_denc::Decode;
    use ceph_osdmap::osdmap::osd_state;

    /// The placement fixture osdmaptool checked (monc's ring-1 tests): 48
    /// OSDs up, pool 1 with 64 PGs; PG 1.0 has a pg_temp and a
    /// primary_temp (`acting ([36,27,18], p18)` by osdmaptool).
    fn fixture_map() -> OSDMap {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../monc/tests/data/placement/straw2-optimal.osdmap"
        );
        let bytes = std::fs::read(path).expect("monc's placement fixture");
        OSDMap::decode_all(&bytes).expect("decodes")
    }

    #[test]
    fn primary_temp_is_the_primary_though_not_first_in_acting() {
        let map = fixture_map();
        // osdmaptool: 1.0 acting ([36,27,18], p18); 1.1 acting ([3,25,31], p3).
        assert_eq!(primary(&map, PgId { pool: 1, seed: 0 }).unwrap(), Some(18));
        assert_eq!(primary(&map, PgId { pool: 1, seed: 1 }).unwrap(), Some(3));
    }

    #[test]
    fn a_new_primary_temp_moves_the_primary() {
        let mut map = fixture_map();
        let pg = PgId { pool: 1, seed: 1 };
        map.primary_temp.insert(pg, 31);
        assert_eq!(map.pg_to_up_acting(pg).unwrap().acting, vec![3, 25, 31]);
        assert_eq!(primary(&map, pg).unwrap(), Some(31));
    }

    #[test]
    fn seeds_beyond_pg_num_fold_and_missing_pools_are_missing() {
        let map = fixture_map();
        // pg_num 64: seed 0x41 is PG 1.1.
        assert_eq!(
            primary(
                &map,
                PgId {
                    pool: 1,
                    seed: 0x41
                }
            )
            .unwrap(),
            Some(3)
        );
        assert_eq!(
            primary(&map, PgId { pool: 9, seed: 0 }),
            Err(Resolved::Missing("pool 9".into()))
        );
    }

    #[test]
    fn no_up_osd_means_no_primary_yet() {
        let mut map = fixture_map();
        for s in &mut map.osd_state {
            *s &= !osd_state::UP;
        }
        map.pg_temp.clear();
        map.primary_temp.clear();
        assert_eq!(primary(&map, PgId { pool: 1, seed: 2 }).unwrap(), None);
    }
}
