//! Where data lives: object → PG → OSDs, as Ceph's `OSDMap` computes it.
//!
//! An object name (with its namespace and optional locator key) hashes to a
//! placement seed; folded over the pool's `pg_num` that names a PG. The PG
//! goes through CRUSH (with the pool's rule and weight-set), then the
//! monitors' explicit overrides (`pg_upmap`, `pg_upmap_items`,
//! `pg_upmap_primaries`), then OSD liveness (down OSDs leave replicated
//! sets, and leave holes in erasure-coded ones), primary affinity, and
//! finally `pg_temp` / `primary_temp` for the acting set.
//!
//! ```
//! use ceph_osdmap::OSDMap;
//! use ceph_osdmap::placement::PlacementError;
//!
//! let map = OSDMap::default();
//! // An empty map has no pools, so nothing can be placed.
//! assert!(matches!(
//!     map.object_to_pg(1, "greeting", "", None),
//!     Err(PlacementError::NoSuchPool(1))
//! ));
//! // With a real map (decoded from a monitor), the same calls give the PG
//! // and its OSDs:
//! //   let pg = map.object_to_pg(1, "greeting", "", None)?;
//! //   let placement = map.pg_to_up_acting(pg)?;
//! //   println!("{pg} -> up {:?} acting {:?} (primary osd.{})",
//! //            placement.up, placement.acting, placement.acting_primary);
//! //   for (pg, placement) in map.pool_pgs(1)? { /* every PG of pool 1 */ }
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::crush::hash::{hash32_2, str_hash_linux, str_hash_rjenkins, HASH_RJENKINS1};
use crate::crush::mapper::{CrushMapper, CrushWorkspace};
use crate::osd_types::PgId;
use crate::osdmap::{OSDMap, CEPH_OSD_DEFAULT_PRIMARY_AFFINITY};
use crate::pg_pool::PgPool;

pub use crate::crush::mapper::CRUSH_ITEM_NONE;

/// `CEPH_OSD_MAX_PRIMARY_AFFINITY`: affinity at or above this always wins.
const MAX_PRIMARY_AFFINITY: u32 = 0x10000;
/// `CEPH_STR_HASH_LINUX` and `CEPH_STR_HASH_RJENKINS`.
const STR_HASH_LINUX: u8 = 1;
const STR_HASH_RJENKINS: u8 = 2;

/// Where a PG lives. In erasure-coded pools a position whose OSD is
/// missing holds [`CRUSH_ITEM_NONE`]; a primary of -1 means none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Placement {
    /// The OSDs CRUSH and the upmaps pick, minus those that are down.
    pub up: Vec<i32>,
    /// The primary of the up set.
    pub up_primary: i32,
    /// The OSDs serving the PG now (`pg_temp` if set, else `up`).
    pub acting: Vec<i32>,
    /// The primary serving the PG now: the one clients talk to.
    pub acting_primary: i32,
}

/// Why a placement could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlacementError {
    /// The map has no pool with this id.
    #[error("there is no pool {0}")]
    NoSuchPool(i64),
    /// The pool hashes object names with a function Ceph does not define.
    #[error("pool {pool} uses unknown object hash {hash}")]
    UnknownObjectHash {
        /// The pool.
        pool: i64,
        /// Its `object_hash` value.
        hash: u8,
    },
}

/// `ceph_stable_mod`: folds `x` into `0..b` so that growing `b` moves as
/// few values as possible (`mask` is the next power of two minus one).
pub fn ceph_stable_mod(x: u32, b: u32, mask: u32) -> u32 {
    if x & mask < b {
        x & mask
    } else {
        x & (mask >> 1)
    }
}

/// The mask Ceph keeps next to a PG count: all ones up to `n - 1`'s top bit.
fn count_mask(n: u32) -> u32 {
    let bits = 32 - n.saturating_sub(1).leading_zeros();
    ((1u64 << bits) - 1) as u32
}

impl PgPool {
    /// Whether OSDs may shift left when one is missing (replicated pools);
    /// erasure-coded pools keep each shard at its position.
    pub fn can_shift_osds(&self) -> bool {
        self.pool_type != PgPool::TYPE_ERASURE
    }

    /// The PG a raw placement seed belongs to (`raw_pg_to_pg`).
    pub fn raw_seed_to_pg_seed(&self, seed: u32) -> u32 {
        ceph_stable_mod(seed, self.pg_num, count_mask(self.pg_num))
    }

    /// The CRUSH input for PG seed `seed` of pool `pool` (`raw_pg_to_pps`).
    pub fn pg_to_pps(&self, pool: u64, seed: u32) -> u32 {
        let folded = ceph_stable_mod(seed, self.pgp_num, count_mask(self.pgp_num));
        if self.flags & PgPool::FLAG_HASHPSPOOL != 0 {
            // Mixing in the pool keeps different pools' PGs apart.
            hash32_2(HASH_RJENKINS1, folded, pool as u32)
        } else {
            folded.wrapping_add(pool as u32)
        }
    }

    /// The placement seed of an object name (`hash_key`): the namespace,
    /// if any, goes first with a 0x1f separator.
    pub fn hash_key(&self, key: &str, namespace: &str) -> Option<u32> {
        let hash = |bytes: &[u8]| match self.object_hash {
            STR_HASH_LINUX => Some(str_hash_linux(bytes)),
            STR_HASH_RJENKINS => Some(str_hash_rjenkins(bytes)),
            _ => None,
        };
        if namespace.is_empty() {
            return hash(key.as_bytes());
        }
        let mut buf = Vec::with_capacity(namespace.len() + 1 + key.len());
        buf.extend_from_slice(namespace.as_bytes());
        buf.push(0x1f);
        buf.extend_from_slice(key.as_bytes());
        hash(&buf)
    }
}

thread_local! {
    static WORKSPACE: RefCell<CrushWorkspace> = RefCell::new(CrushWorkspace::new());
}

/// An OSD map prepared for computing many placements: the CRUSH map is
/// indexed once. Obtain with [`OSDMap::placer`]; cheap to share across
/// threads (each thread keeps its own scratch space).
#[derive(Debug, Clone)]
pub struct Placer<'a> {
    map: &'a OSDMap,
    crush: CrushMapper<'a>,
    /// With [`RuleLookup::Mask`] in force: each pool's rule, if any fits.
    masked_rules: Option<BTreeMap<i64, Option<i32>>>,
}

/// `ceph_release_t` of Quincy, the first release that takes a pool's
/// `crush_rule` as the rule id.
const RELEASE_QUINCY: u8 = 17;

/// How a pool's `crush_rule` selects its CRUSH rule. Releases differ:
/// through Pacific, OSDMap asked for the first rule whose legacy mask
/// (ruleset, rule type, min_size..=max_size) fits the pool; Quincy dropped
/// rulesets (a map whose rule ids and rulesets differ no longer decodes
/// there) and uses the number as the rule id, whatever the size bounds or
/// type. The two agree unless a pool's size is outside its rule's bounds,
/// its type differs from the rule's, or rulesets are not ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RuleLookup {
    /// [`RuleLookup::Mask`] when the map says it is Pacific's or older
    /// (`require_osd_release` set and below Quincy) or some rule's ruleset
    /// is not its id (only pre-Quincy releases read such maps);
    /// [`RuleLookup::RuleId`] otherwise. Ceph's own tools do not look at
    /// the map for this: `osdmaptool --createsimple` leaves the release
    /// unset, so pick a variant to follow one release on such maps.
    #[default]
    Auto,
    /// Quincy and later: `crush_rule` is the rule id.
    RuleId,
    /// Pacific and earlier (`crush_find_rule`): the lowest-numbered rule
    /// with ruleset `crush_rule`, the pool's type and the pool's size
    /// within its bounds; no such rule maps the pool to nothing.
    Mask,
}

impl OSDMap {
    /// Prepares this map for computing placements, choosing rules as
    /// [`RuleLookup::Auto`] does.
    pub fn placer(&self) -> Placer<'_> {
        self.placer_with(RuleLookup::Auto)
    }

    /// Prepares this map for computing placements with rules chosen as
    /// `lookup` says.
    pub fn placer_with(&self, lookup: RuleLookup) -> Placer<'_> {
        let mask = match lookup {
            RuleLookup::Mask => true,
            RuleLookup::RuleId => false,
            RuleLookup::Auto => {
                (1..RELEASE_QUINCY).contains(&self.require_osd_release)
                    || self
                        .crush
                        .rules
                        .iter()
                        .enumerate()
                        .any(|(id, r)| r.as_ref().is_some_and(|r| usize::from(r.ruleset) != id))
            }
        };
        let masked_rules = mask.then(|| {
            self.pools
                .iter()
                .map(|(&id, pool)| (id, self.find_rule_by_mask(pool)))
                .collect()
        });
        Placer {
            map: self,
            crush: CrushMapper::new(&self.crush),
            masked_rules,
        }
    }

    /// Pacific's `crush_find_rule` for `pool`.
    fn find_rule_by_mask(&self, pool: &PgPool) -> Option<i32> {
        self.crush.rules.iter().enumerate().find_map(|(id, r)| {
            let r = r.as_ref()?;
            (r.ruleset == pool.crush_rule
                && r.rule_type == pool.pool_type
                && r.min_size <= pool.size
                && r.max_size >= pool.size)
                .then_some(id as i32)
        })
    }

    /// The PG of an object: its name (or `key`, the locator, when given)
    /// hashed with its namespace, folded over the pool's `pg_num`.
    pub fn object_to_pg(
        &self,
        pool: i64,
        name: &str,
        namespace: &str,
        key: Option<&str>,
    ) -> Result<PgId, PlacementError> {
        let seed = self.object_to_raw_pg(pool, name, namespace, key)?.seed;
        let p = self.pool(pool)?;
        Ok(PgId {
            pool: pool as u64,
            seed: p.raw_seed_to_pg_seed(seed),
        })
    }

    /// The raw PG of an object: the full 32-bit hash as seed, before the
    /// fold over `pg_num` (what Ceph sends on the wire as the object hash).
    pub fn object_to_raw_pg(
        &self,
        pool: i64,
        name: &str,
        namespace: &str,
        key: Option<&str>,
    ) -> Result<PgId, PlacementError> {
        let p = self.pool(pool)?;
        let hashed = match key {
            Some(k) if !k.is_empty() => k,
            _ => name,
        };
        let seed = p
            .hash_key(hashed, namespace)
            .ok_or(PlacementError::UnknownObjectHash {
                pool,
                hash: p.object_hash,
            })?;
        Ok(PgId {
            pool: pool as u64,
            seed,
        })
    }

    /// The up and acting sets of a PG. Builds a [`Placer`] per call; use
    /// [`OSDMap::placer`] or [`OSDMap::pool_pgs`] for many PGs.
    pub fn pg_to_up_acting(&self, pg: PgId) -> Result<Placement, PlacementError> {
        self.placer().pg_to_up_acting(pg)
    }

    /// Every PG of a pool with its placement, in seed order.
    pub fn pool_pgs(&self, pool: i64) -> Result<PoolPgs<'_>, PlacementError> {
        let pg_num = self.pool(pool)?.pg_num;
        Ok(PoolPgs {
            placer: self.placer(),
            pool,
            next: 0,
            pg_num,
        })
    }

    fn pool(&self, pool: i64) -> Result<&PgPool, PlacementError> {
        self.pools
            .get(&pool)
            .ok_or(PlacementError::NoSuchPool(pool))
    }
}

/// Iterator over every PG of a pool and its placement ([`OSDMap::pool_pgs`]).
#[derive(Debug, Clone)]
pub struct PoolPgs<'a> {
    placer: Placer<'a>,
    pool: i64,
    next: u32,
    pg_num: u32,
}

impl Iterator for PoolPgs<'_> {
    type Item = (PgId, Placement);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.pg_num {
            return None;
        }
        let pg = PgId {
            pool: self.pool as u64,
            seed: self.next,
        };
        self.next += 1;
        // The pool exists (checked at creation) and the map cannot change
        // under the borrow; an unsupported rule ends the iteration.
        let placement = self.placer.pg_to_up_acting(pg).ok()?;
        Some((pg, placement))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.pg_num.saturating_sub(self.next) as usize;
        (0, Some(n))
    }
}

impl Placer<'_> {
    /// The map this placer reads.
    pub fn map(&self) -> &OSDMap {
        self.map
    }

    /// How this placer picks rules: [`RuleLookup::RuleId`] or
    /// [`RuleLookup::Mask`] (never `Auto`, which is decided when built).
    pub fn rule_lookup(&self) -> RuleLookup {
        if self.masked_rules.is_some() {
            RuleLookup::Mask
        } else {
            RuleLookup::RuleId
        }
    }

    /// The up and acting sets of a PG (`pg_to_up_acting_osds`). The seed
    /// may be raw: overrides are looked up by its fold over `pg_num`.
    pub fn pg_to_up_acting(&self, pg: PgId) -> Result<Placement, PlacementError> {
        let mut placement = Placement::default();
        self.pg_to_up_acting_into(pg, &mut placement, &mut Vec::new())?;
        Ok(placement)
    }

    /// As [`Placer::pg_to_up_acting`], into caller-owned vectors (no
    /// allocation once they have grown); `raw` receives the CRUSH output
    /// after upmaps.
    pub fn pg_to_up_acting_into(
        &self,
        pg: PgId,
        placement: &mut Placement,
        raw: &mut Vec<i32>,
    ) -> Result<(), PlacementError> {
        let pool_id = pg.pool as i64;
        let pool = self.map.pool(pool_id)?;
        let folded = PgId {
            pool: pg.pool,
            seed: pool.raw_seed_to_pg_seed(pg.seed),
        };
        self.temp_osds(
            pool,
            folded,
            &mut placement.acting,
            &mut placement.acting_primary,
        );
        let pps = self.raw_osds(pool, pg, raw)?;
        self.apply_upmap(pool, folded, raw);
        let up = &mut placement.up;
        up.clear();
        if pool.can_shift_osds() {
            up.extend(raw.iter().copied().filter(|&o| self.map.is_up(o)));
        } else {
            up.extend(raw.iter().map(|&o| {
                if self.map.is_up(o) {
                    o
                } else {
                    CRUSH_ITEM_NONE
                }
            }));
        }
        placement.up_primary = pick_primary(up);
        self.apply_primary_affinity(pps, pool, up, &mut placement.up_primary);
        if placement.acting.is_empty() {
            placement.acting.extend_from_slice(&placement.up);
            if placement.acting_primary == -1 {
                placement.acting_primary = placement.up_primary;
            }
        }
        Ok(())
    }

    /// The raw CRUSH output for a PG, OSDs that do not exist removed (or
    /// turned into holes), and its first OSD (`pg_to_raw_osds`).
    pub fn pg_to_raw(&self, pg: PgId, raw: &mut Vec<i32>) -> Result<i32, PlacementError> {
        let pool = self.map.pool(pg.pool as i64)?;
        self.raw_osds(pool, pg, raw)?;
        Ok(pick_primary(raw))
    }

    /// CRUSH for one PG; returns the CRUSH input (pps).
    fn raw_osds(&self, pool: &PgPool, pg: PgId, raw: &mut Vec<i32>) -> Result<u32, PlacementError> {
        let pps = pool.pg_to_pps(pg.pool, pg.seed);
        let rule = match &self.masked_rules {
            None => i32::from(pool.crush_rule),
            Some(rules) => rules
                .get(&(pg.pool as i64))
                .copied()
                .flatten()
                .unwrap_or(-1),
        };
        raw.clear();
        if self.crush.rule_type(rule).is_some() {
            WORKSPACE.with(|ws| {
                self.crush.do_rule(
                    rule,
                    pps,
                    usize::from(pool.size),
                    &self.map.osd_weight,
                    pg.pool as i64,
                    &mut ws.borrow_mut(),
                    raw,
                )
            });
        }
        if pool.can_shift_osds() {
            raw.retain(|&o| self.map.exists(o));
        } else {
            for o in raw.iter_mut() {
                if !self.map.exists(*o) {
                    *o = CRUSH_ITEM_NONE;
                }
            }
        }
        Ok(pps)
    }

    /// Whether `osd` is a valid id whose in/out weight is zero: upmaps
    /// never move data onto such an OSD.
    fn marked_out(&self, osd: i32) -> bool {
        osd != CRUSH_ITEM_NONE
            && osd >= 0
            && osd < self.map.max_osd
            && self.map.osd_weight.get(osd as usize).copied().unwrap_or(0) == 0
    }

    fn apply_upmap(&self, _pool: &PgPool, pg: PgId, raw: &mut Vec<i32>) {
        let m = self.map;
        if let Some(targets) = m.pg_upmap.get(&pg) {
            // One marked-out target voids the whole explicit mapping.
            if targets.iter().any(|&o| self.marked_out(o)) {
                return;
            }
            raw.clear();
            raw.extend_from_slice(targets);
        }
        if let Some(items) = m.pg_upmap_items.get(&pg) {
            for &(from, to) in items {
                let mut pos = None;
                let mut present = false;
                for (i, &osd) in raw.iter().enumerate() {
                    if osd == to {
                        present = true;
                        break;
                    }
                    if osd == from && pos.is_none() && !self.marked_out(to) {
                        pos = Some(i);
                    }
                }
                if let (false, Some(i)) = (present, pos) {
                    raw[i] = to;
                }
            }
        }
        if let Some(&primary) = m.pg_upmap_primaries.get(&pg) {
            let valid = primary != CRUSH_ITEM_NONE
                && primary >= 0
                && primary < m.max_osd
                && m.osd_weight.get(primary as usize).copied().unwrap_or(0) != 0;
            if valid {
                if let Some(i) = raw.iter().skip(1).position(|&o| o == primary) {
                    raw.swap(0, i + 1);
                }
            }
        }
    }

    fn apply_primary_affinity(&self, pps: u32, pool: &PgPool, osds: &mut [i32], primary: &mut i32) {
        let m = self.map;
        if m.osd_primary_affinity.is_empty() {
            return;
        }
        let affinity = |o: i32| m.primary_affinity(o);
        if !osds
            .iter()
            .any(|&o| o != CRUSH_ITEM_NONE && affinity(o) != CEPH_OSD_DEFAULT_PRIMARY_AFFINITY)
        {
            return;
        }
        // An OSD turns the primary role down for a hashed share of its PGs;
        // the first one declining is kept as the fallback.
        let mut pos = None;
        for (i, &o) in osds.iter().enumerate() {
            if o == CRUSH_ITEM_NONE {
                continue;
            }
            let a = affinity(o);
            if a < MAX_PRIMARY_AFFINITY && (hash32_2(HASH_RJENKINS1, pps, o as u32) >> 16) >= a {
                pos.get_or_insert(i);
            } else {
                pos = Some(i);
                break;
            }
        }
        let Some(pos) = pos else { return };
        *primary = osds[pos];
        if pool.can_shift_osds() && pos > 0 {
            osds[..=pos].rotate_right(1);
        }
    }

    fn temp_osds(&self, pool: &PgPool, pg: PgId, temp: &mut Vec<i32>, temp_primary: &mut i32) {
        let m = self.map;
        temp.clear();
        if let Some(osds) = m.pg_temp.get(&pg) {
            for &o in osds {
                if m.is_up(o) {
                    temp.push(o);
                } else if !pool.can_shift_osds() {
                    temp.push(CRUSH_ITEM_NONE);
                }
            }
        }
        *temp_primary = match m.primary_temp.get(&pg) {
            Some(&p) => p,
            None => pick_primary(temp),
        };
        if pool.flags & PgPool::FLAG_EC_OPTIMIZATIONS != 0 && m.pg_temp.contains_key(&pg) {
            shards_in_order(pool, temp);
        }
    }
}

/// For pools with EC optimizations, `pg_temp` lists the OSDs of the shards
/// that may be primary first, then those of `nonprimary_shards` (each group
/// in shard order), so its first OSD is a legal primary. This puts them
/// back in shard order (Tentacle's `pgtemp_undo_primaryfirst`). A list
/// whose length is not the pool size is left alone (Ceph asserts on it).
fn shards_in_order(pool: &PgPool, temp: &mut [i32]) {
    let size = usize::from(pool.size);
    if temp.len() != size {
        return;
    }
    let nonprimary = pool.nonprimary_shards.iter().count();
    let Some(first_nonprimary) = size.checked_sub(nonprimary) else {
        return;
    };
    let mut listed = [0i32; 256];
    listed[..size].copy_from_slice(temp);
    let (mut primary_at, mut nonprimary_at) = (0, first_nonprimary);
    for (shard, slot) in temp.iter_mut().enumerate() {
        let from = if pool.nonprimary_shards.contains(shard as u8) {
            &mut nonprimary_at
        } else {
            &mut primary_at
        };
        *slot = listed[*from];
        *from += 1;
    }
}

/// The first OSD that is not a hole, or -1.
fn pick_primary(osds: &[i32]) -> i32 {
    osds.iter()
        .copied()
        .find(|&o| o != CRUSH_ITEM_NONE)
        .unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimized_ec_temp_returns_to_shard_order() {
        let mut pool = PgPool {
            size: 6,
            flags: PgPool::FLAG_EC_OPTIMIZATIONS,
            ..PgPool::default()
        };
        for s in [1, 2, 4] {
            pool.nonprimary_shards.insert(s);
        }
        // Listed as shards 0,3,5 then 1,2,4 (what Tentacle stores).
        let mut temp = vec![10, 13, 15, 11, 12, 14];
        shards_in_order(&pool, &mut temp);
        assert_eq!(temp, [10, 11, 12, 13, 14, 15]);
        // Not the pool's size: left as listed (Ceph would abort).
        let mut short = vec![10, 13];
        shards_in_order(&pool, &mut short);
        assert_eq!(short, [10, 13]);
        // More non-primary shards than positions: left alone too.
        for s in 0..8 {
            pool.nonprimary_shards.insert(s);
        }
        shards_in_order(&pool, &mut temp);
        assert_eq!(temp, [10, 11, 12, 13, 14, 15]);
    }

    #[test]
    fn stable_mod_folds_the_top_half() {
        // pg_num 12: mask 15; 13 & 15 = 13 >= 12 so it folds to 13 & 7 = 5.
        assert_eq!(count_mask(12), 15);
        assert_eq!(ceph_stable_mod(13, 12, 15), 5);
        assert_eq!(ceph_stable_mod(11, 12, 15), 11);
        assert_eq!(count_mask(1), 0);
        assert_eq!(count_mask(0), 0);
        assert_eq!(count_mask(64), 63);
        assert_eq!(count_mask(65), 127);
    }
}
