//! CRUSH mapping: Ceph's `crush_do_rule`, re-expressed over a map prepared
//! once ([`CrushMapper`]) and a per-thread scratch area ([`CrushWorkspace`]),
//! so that mapping a PG allocates nothing.
//!
//! Results are bit-exact with Ceph for every well-formed map. Hostile maps
//! cannot make it panic or spin: every bucket choice costs from a fixed
//! budget per mapping ([`WORK_BUDGET`]), and when the budget runs out the
//! remaining positions stay empty (Ceph would loop for as long as the map
//! asks, or crash on a dangling bucket).

use std::collections::BTreeMap;

use super::hash::{hash32_2, hash32_3, hash32_3_lanes, hash32_4, HASH_RJENKINS1, LANES};
use super::ln_table::{LL, RH_LH};
use super::{bucket_alg, rule_op, BucketWeights, CrushWrapper};

mod msr;

/// "No item here": a hole in an erasure-coded placement.
pub const CRUSH_ITEM_NONE: i32 = 0x7fff_ffff;
/// Scratch marker for a position not decided yet.
const CRUSH_ITEM_UNDEF: i32 = 0x7fff_fffe;
/// The choose_args set every pool without its own uses.
pub const DEFAULT_CHOOSE_ARGS: i64 = -1;
/// Rule types Squid added for multi-step-retry rules.
pub const RULE_TYPE_MSR_FIRSTN: u8 = 4;
/// See [`RULE_TYPE_MSR_FIRSTN`].
pub const RULE_TYPE_MSR_INDEP: u8 = 5;

/// Bucket items a single mapping may look at before it gives up; far above
/// what any real map needs (a 100k-OSD map uses a few hundred per PG).
pub const WORK_BUDGET: u64 = 1 << 19;

type Bucket = super::CrushBucket;
type ChooseArgEntry = super::ChooseArg;

/// A CRUSH map prepared for mapping: the device bound Ceph derives at
/// decode time and weight-sets indexed by bucket. Cheap to build (one pass
/// over the buckets), borrows the map, and can be shared between threads.
#[derive(Debug, Clone)]
pub struct CrushMapper<'a> {
    crush: &'a CrushWrapper,
    max_devices: i32,
    choose_args: BTreeMap<i64, Vec<Option<&'a ChooseArgEntry>>>,
    max_bucket_size: usize,
    /// Per straw2 bucket slot: a reciprocal per item weight.
    straw2_recips: Vec<Vec<Recip>>,
    /// Per weight-set, per bucket slot, per position: reciprocals.
    arg_recips: BTreeMap<i64, Vec<Vec<Vec<Recip>>>>,
    /// Per straw2 bucket slot: the weight every item has, if they agree.
    straw2_equal: Vec<Option<u32>>,
    /// The same per weight-set, bucket slot and position.
    arg_equal: BTreeMap<i64, Vec<Vec<Option<u32>>>>,
}

/// The one weight all of `weights` (exactly `size` of them) share, if any
/// and if it is not zero.
fn equal_weight(weights: &[u32], size: usize) -> Option<u32> {
    let first = *weights.first()?;
    (first != 0 && weights.len() == size && weights.iter().all(|&w| w == first)).then_some(first)
}

/// A key that orders 16-bit hashes as `crush_ln` orders them: ln rises
/// with u everywhere except at 0xffff, which Ceph's table puts lower.
#[inline(always)]
fn ln_key(u: u32) -> u32 {
    if u == 0xffff {
        ln_key_of_ffff()
    } else {
        u << 1
    }
}

fn ln_key_of_ffff() -> u32 {
    static KEY: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *KEY.get_or_init(|| {
        let top = crush_ln(0xffff);
        // Equal to some u's ln: share its key; else sit just above the
        // largest u whose ln is below.
        match (0..0xffffu32).rev().find(|&u| crush_ln(u) <= top) {
            Some(u) if crush_ln(u) == top => u << 1,
            Some(u) => (u << 1) | 1,
            None => 0,
        }
    })
}

/// Division by a fixed straw2 weight as a multiply and shift, exact for
/// dividends below 2^49 (straw2's log values are at most 2^48).
#[derive(Debug, Clone, Copy)]
struct Recip {
    mul: u64,
    shift: u32,
}

impl Recip {
    fn new(w: u32) -> Self {
        if w == 0 {
            return Recip { mul: 0, shift: 0 };
        }
        // With k = 49 + bits(w) and mul = ceil(2^k / w), the rounding error
        // n * (mul * w - 2^k) stays below 2^k for every n < 2^49, so the
        // quotient is exact; mul fits 51 bits.
        let shift = 49 + (32 - w.leading_zeros());
        let mul = (1u128 << shift).div_ceil(u128::from(w));
        Recip {
            mul: mul as u64,
            shift,
        }
    }

    #[inline(always)]
    fn div(self, n: u64) -> u64 {
        ((u128::from(n) * u128::from(self.mul)) >> self.shift) as u64
    }
}

/// The weight-set in force for one mapping.
#[derive(Clone, Copy)]
struct ArgSet<'s> {
    entries: &'s [Option<&'s ChooseArgEntry>],
    recips: &'s [Vec<Vec<Recip>>],
    equal: &'s [Vec<Option<u32>>],
}

/// straw2's draw for hash `u` and weight `w`: `ln(u) / w`, with ln at
/// most zero and the quotient truncated toward zero, as Ceph's
/// `div64_s64`. `recip` is the precomputed division by `w`.
#[inline(always)]
fn straw2_draw(u: u32, w: u32, recip: Option<&Recip>) -> i64 {
    let ln = crush_ln(u) as i64 - 0x1_0000_0000_0000;
    match recip {
        Some(r) if ln <= 0 && r.mul != 0 => -(r.div(ln.unsigned_abs()) as i64),
        _ => ln / i64::from(w),
    }
}

/// straw2 over items that all weigh `w`: the draw follows ln(u), which
/// [`ln_key`] orders, so only the best and second-best hashes need a log
/// and a division. Returns the winning index, or None when the two best
/// distinct hashes give equal draws (then the caller draws every item, as
/// Ceph does, to pick the first of the tied ones).
#[inline]
fn straw2_equal_choose(
    hash: u8,
    x: u32,
    r: u32,
    ids: &[i32],
    size: usize,
    w: u32,
) -> Option<usize> {
    let mut lane_ids = [0u32; LANES];
    let mut hashes = [0u32; LANES];
    let (mut best, mut best_key, mut second_key) = (0usize, 0u32, None::<u32>);
    for start in (0..size).step_by(LANES) {
        let n = LANES.min(size - start);
        for (l, slot) in lane_ids.iter_mut().enumerate().take(n) {
            *slot = ids.get(start + l).copied().unwrap_or(0) as u32;
        }
        hash32_3_lanes(hash, x, &lane_ids, r, &mut hashes);
        for (l, &h) in hashes.iter().enumerate().take(n) {
            let key = ln_key(h & 0xffff);
            let i = start + l;
            if i == 0 {
                best_key = key;
            } else if key > best_key {
                second_key = Some(best_key);
                best = i;
                best_key = key;
            } else if key < best_key && second_key.is_none_or(|s| key > s) {
                second_key = Some(key);
            }
        }
    }
    let Some(second_key) = second_key else {
        return Some(best);
    };
    let draw_of_key = |key: u32| {
        let u = if key == ln_key_of_ffff() {
            0xffff
        } else {
            key >> 1
        };
        (crush_ln(u) as i64 - 0x1_0000_0000_0000) / i64::from(w)
    };
    (draw_of_key(second_key) < draw_of_key(best_key)).then_some(best)
}

fn recips(weights: &[u32]) -> Vec<Recip> {
    weights.iter().map(|&w| Recip::new(w)).collect()
}

/// Scratch space for one thread's mappings; reused across calls.
#[derive(Debug, Default)]
pub struct CrushWorkspace {
    w: Vec<i32>,
    o: Vec<i32>,
    c: Vec<i32>,
    perm: Vec<u32>,
    budget: u64,
    msr: msr::MsrScratch,
}

impl CrushWorkspace {
    /// An empty workspace; it grows to the largest rule result on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one unit of work; false once the mapping's budget is spent.
    #[inline]
    fn spend(&mut self, units: usize) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget = self.budget.saturating_sub(units as u64);
        true
    }
}

/// `2^44 * log2(x + 1)` in fixed point, for x in 0..=0xffff.
#[inline]
fn crush_ln(xin: u32) -> u64 {
    let x = xin.wrapping_add(1);
    // Normalise so that bit 15 or 16 is set: shift the top bit up to 15.
    let shift = if x & 0x18000 != 0 || x == 0 {
        0
    } else {
        x.leading_zeros() - 16
    };
    let x = x << shift;
    let exponent = 15 - i64::from(shift);
    let index1 = ((x >> 8) << 1) as usize;
    let rh = RH_LH[index1 - 256];
    let lh = RH_LH[index1 + 1 - 256];
    // Ceph multiplies as signed 64-bit and keeps the wrapped bits.
    let scaled = u64::from(x).wrapping_mul(rh) >> 48;
    let index2 = (scaled as u32 & 0xff) as usize;
    let mut result = (exponent as u64) << 44;
    result = result.wrapping_add(lh.wrapping_add(LL[index2]) >> 4);
    result
}

impl<'a> CrushMapper<'a> {
    /// Prepares `crush` for mapping.
    pub fn new(crush: &'a CrushWrapper) -> Self {
        let live = || crush.buckets.iter().flatten();
        let max_bucket_size = live().map(|b| b.items.len()).max().unwrap_or(0);
        // Ceph recomputes max_devices from the bucket items when it decodes.
        let max_devices = live().flat_map(|b| b.items.iter()).fold(0i32, |m, &item| {
            if item >= m {
                item.saturating_add(1)
            } else {
                m
            }
        });
        let choose_args = crush
            .choose_args
            .iter()
            .map(|(&key, args)| {
                let mut map = vec![None; crush.buckets.len()];
                for (&index, arg) in args {
                    if let Some(slot) = map.get_mut(index as usize) {
                        *slot = Some(arg);
                    }
                }
                (key, map)
            })
            .collect();
        let straw2_recips = crush
            .buckets
            .iter()
            .map(|b| match b {
                Some(super::CrushBucket {
                    weights: BucketWeights::Straw2 { item_weights },
                    ..
                }) => recips(item_weights),
                _ => Vec::new(),
            })
            .collect();
        let arg_recips = crush
            .choose_args
            .iter()
            .map(|(&key, args)| {
                let mut per_bucket = vec![Vec::new(); crush.buckets.len()];
                for (&index, arg) in args {
                    if let Some(slot) = per_bucket.get_mut(index as usize) {
                        *slot = arg.weight_set.iter().map(|ws| recips(ws)).collect();
                    }
                }
                (key, per_bucket)
            })
            .collect();
        let straw2_equal = crush
            .buckets
            .iter()
            .map(|b| match b {
                Some(super::CrushBucket {
                    weights: BucketWeights::Straw2 { item_weights },
                    items,
                    ..
                }) => equal_weight(item_weights, items.len()),
                _ => None,
            })
            .collect();
        let arg_equal = crush
            .choose_args
            .iter()
            .map(|(&key, args)| {
                let mut per_bucket = vec![Vec::new(); crush.buckets.len()];
                for (&index, arg) in args {
                    let size = crush
                        .buckets
                        .get(index as usize)
                        .and_then(|b| b.as_ref())
                        .map_or(0, |b| b.items.len());
                    if let Some(slot) = per_bucket.get_mut(index as usize) {
                        *slot = arg
                            .weight_set
                            .iter()
                            .map(|ws| equal_weight(ws, size))
                            .collect();
                    }
                }
                (key, per_bucket)
            })
            .collect();
        CrushMapper {
            crush,
            max_devices,
            choose_args,
            max_bucket_size,
            straw2_recips,
            arg_recips,
            straw2_equal,
            arg_equal,
        }
    }

    /// The weight-set a pool maps with: its own, else the compat set.
    fn choose_args_for(&self, pool: i64) -> Option<ArgSet<'_>> {
        let key = if self.choose_args.contains_key(&pool) {
            pool
        } else {
            DEFAULT_CHOOSE_ARGS
        };
        Some(ArgSet {
            entries: self.choose_args.get(&key)?,
            recips: self.arg_recips.get(&key)?,
            equal: self.arg_equal.get(&key)?,
        })
    }

    /// The rule's type byte, if the rule exists.
    pub fn rule_type(&self, rule: i32) -> Option<u8> {
        let r = self
            .crush
            .rules
            .get(usize::try_from(rule).ok()?)?
            .as_ref()?;
        Some(r.rule_type)
    }

    #[inline]
    fn bucket(&self, item: i32) -> Option<&'a Bucket> {
        let index = usize::try_from(-1i64 - i64::from(item)).ok()?;
        self.crush.buckets.get(index)?.as_ref()
    }

    /// Maps input `x` with rule `rule` to at most `result_max` items,
    /// written to `out` (cleared first). `weights` are the devices'
    /// in/out weights (16.16), `pool` picks the weight-set.
    #[allow(clippy::too_many_arguments)]
    pub fn do_rule(
        &self,
        rule: i32,
        x: u32,
        result_max: usize,
        weights: &[u32],
        pool: i64,
        ws: &mut CrushWorkspace,
        out: &mut Vec<i32>,
    ) {
        out.clear();
        let Some(rule) = usize::try_from(rule)
            .ok()
            .and_then(|r| self.crush.rules.get(r))
            .and_then(|r| r.as_ref())
        else {
            return;
        };
        if result_max == 0 {
            return;
        }
        for v in [&mut ws.w, &mut ws.o, &mut ws.c] {
            if v.len() < result_max {
                v.resize(result_max, 0);
            }
        }
        if ws.perm.len() < self.max_bucket_size {
            ws.perm.resize(self.max_bucket_size, 0);
        }
        ws.budget = WORK_BUDGET;
        let args = self.choose_args_for(pool);
        let x = x as i32;
        if matches!(rule.rule_type, RULE_TYPE_MSR_FIRSTN | RULE_TYPE_MSR_INDEP) {
            return self.do_msr_rule(rule, x, result_max, weights, args, ws, out);
        }
        let t = &self.crush.tunables;
        // Ceph's choose_total_tries counted retries; a try more is the rule.
        let mut choose_tries = t.choose_total_tries.wrapping_add(1);
        let mut choose_leaf_tries = 0u32;
        let mut local_retries = t.choose_local_tries;
        let mut local_fallback_retries = t.choose_local_fallback_tries;
        let mut vary_r = u32::from(t.chooseleaf_vary_r);
        let mut stable = u32::from(t.chooseleaf_stable);
        let mut wsize = 0usize;
        // The working set lives in ws.w, the step output in ws.o and the
        // leaves of a chooseleaf step in ws.c; they swap between steps.
        let mut w = std::mem::take(&mut ws.w);
        let mut o = std::mem::take(&mut ws.o);
        let mut c = std::mem::take(&mut ws.c);
        for step in &rule.steps {
            let (arg1, arg2) = (step.arg1, step.arg2);
            match step.op {
                rule_op::TAKE => {
                    let valid_device = arg1 >= 0 && arg1 < self.max_devices;
                    if valid_device || self.bucket(arg1).is_some() {
                        w[0] = arg1;
                        wsize = 1;
                    }
                }
                rule_op::SET_CHOOSE_TRIES if arg1 > 0 => choose_tries = arg1 as u32,
                rule_op::SET_CHOOSELEAF_TRIES if arg1 > 0 => choose_leaf_tries = arg1 as u32,
                rule_op::SET_CHOOSE_LOCAL_TRIES if arg1 >= 0 => local_retries = arg1 as u32,
                rule_op::SET_CHOOSE_LOCAL_FALLBACK_TRIES if arg1 >= 0 => {
                    local_fallback_retries = arg1 as u32
                }
                rule_op::SET_CHOOSELEAF_VARY_R if arg1 >= 0 => vary_r = arg1 as u32,
                rule_op::SET_CHOOSELEAF_STABLE if arg1 >= 0 => stable = arg1 as u32,
                rule_op::CHOOSE_FIRSTN
                | rule_op::CHOOSELEAF_FIRSTN
                | rule_op::CHOOSE_INDEP
                | rule_op::CHOOSELEAF_INDEP => {
                    if wsize == 0 {
                        continue;
                    }
                    let firstn =
                        matches!(step.op, rule_op::CHOOSE_FIRSTN | rule_op::CHOOSELEAF_FIRSTN);
                    let to_leaf = matches!(
                        step.op,
                        rule_op::CHOOSELEAF_FIRSTN | rule_op::CHOOSELEAF_INDEP
                    );
                    let mut osize = 0usize;
                    for &take in &w[..wsize] {
                        let mut numrep = i64::from(arg1);
                        if numrep <= 0 {
                            numrep += result_max as i64;
                            if numrep <= 0 {
                                continue;
                            }
                        }
                        // Anything not a bucket (a device, a hole) is skipped.
                        let Some(bucket) = (take < 0).then(|| self.bucket(take)).flatten() else {
                            continue;
                        };
                        let numrep = numrep.min(i64::from(i32::MAX)) as i32;
                        let room = result_max - osize;
                        if firstn {
                            let recurse_tries = if choose_leaf_tries != 0 {
                                choose_leaf_tries
                            } else if t.chooseleaf_descend_once != 0 {
                                1
                            } else {
                                choose_tries
                            };
                            let p = FirstnParams {
                                tries: choose_tries,
                                recurse_tries,
                                local_retries,
                                local_fallback_retries,
                                vary_r,
                                stable: stable != 0,
                            };
                            osize += self.choose_firstn(
                                ws,
                                bucket,
                                weights,
                                x,
                                numrep,
                                arg2,
                                &mut o[osize..],
                                0,
                                room,
                                &p,
                                to_leaf,
                                Some(&mut c[osize..]),
                                0,
                                args,
                            );
                        } else {
                            let out_size = (numrep as usize).min(room);
                            let leaf_tries = if choose_leaf_tries != 0 {
                                choose_leaf_tries
                            } else {
                                1
                            };
                            self.choose_indep(
                                ws,
                                bucket,
                                weights,
                                x,
                                out_size,
                                numrep,
                                arg2,
                                &mut o[osize..],
                                0,
                                choose_tries,
                                leaf_tries,
                                to_leaf,
                                Some(&mut c[osize..]),
                                0,
                                args,
                            );
                            osize += out_size;
                        }
                    }
                    if to_leaf {
                        o[..osize].copy_from_slice(&c[..osize]);
                    }
                    std::mem::swap(&mut o, &mut w);
                    wsize = osize;
                }
                rule_op::EMIT => {
                    let take = wsize.min(result_max - out.len());
                    out.extend_from_slice(&w[..take]);
                    wsize = 0;
                }
                _ => {}
            }
        }
        ws.w = w;
        ws.o = o;
        ws.c = c;
    }

    /// One item of `bucket` for input `x` and replica `r`; None when the
    /// work budget is spent.
    #[inline]
    fn bucket_choose(
        &self,
        ws: &mut CrushWorkspace,
        b: &Bucket,
        x: i32,
        r: i32,
        args: Option<ArgSet<'_>>,
        position: usize,
    ) -> Option<i32> {
        let size = b.items.len();
        // Every choice costs its items plus a fixed part (one 8-lane hash).
        if !ws.spend(size + LANES) {
            return None;
        }
        let (xu, ru) = (x as u32, r as u32);
        let item = match &b.weights {
            BucketWeights::Uniform { .. } => return self.perm_choose(ws, b, x, r),
            BucketWeights::List {
                item_weights,
                sum_weights,
            } => {
                let mut chosen = b.items[0];
                for i in (0..size).rev() {
                    let h = hash32_4(b.hash, xu, b.items[i] as u32, ru, b.id as u32);
                    let sum = u64::from(sum_weights.get(i).copied().unwrap_or(0));
                    let scaled = (u64::from(h & 0xffff) * sum) >> 16;
                    if scaled < u64::from(item_weights.get(i).copied().unwrap_or(0)) {
                        chosen = b.items[i];
                        break;
                    }
                }
                chosen
            }
            BucketWeights::Tree { node_weights } => {
                let node = |n: usize| node_weights.get(n).copied().unwrap_or(0);
                let mut n = node_weights.len() >> 1;
                // Descend while n is an interior node; each step halves the
                // lowest set bit, so this ends within eight steps.
                while n != 0 && n & 1 == 0 {
                    let h = hash32_4(b.hash, xu, n as u32, ru, b.id as u32);
                    let t = (u64::from(h) * u64::from(node(n))) >> 32;
                    let half = (n & n.wrapping_neg()) >> 1;
                    let left = n - half;
                    n = if t < u64::from(node(left)) {
                        left
                    } else {
                        n + half
                    };
                }
                b.items.get(n >> 1).copied().unwrap_or(b.items[0])
            }
            BucketWeights::Straw { straws, .. } => {
                let mut high = 0;
                let mut high_draw = 0u64;
                for (i, &item) in b.items.iter().enumerate() {
                    let draw = u64::from(hash32_3(b.hash, xu, item as u32, ru) & 0xffff)
                        * u64::from(straws.get(i).copied().unwrap_or(0));
                    if i == 0 || draw > high_draw {
                        high = i;
                        high_draw = draw;
                    }
                }
                b.items[high]
            }
            BucketWeights::Straw2 {
                item_weights: weights,
            } => {
                let slot = usize::try_from(-1i64 - i64::from(b.id)).ok();
                let arg = args
                    .and_then(|a| Some((a.entries.get(slot?)?.as_ref()?, a.recips.get(slot?)?)));
                let (weights, recips, equal): (&[u32], &[Recip], Option<u32>) = match arg {
                    Some((a, r)) if !a.weight_set.is_empty() => {
                        let p = position.min(a.weight_set.len() - 1);
                        let equal = args
                            .and_then(|a| a.equal.get(slot?)?.get(p).copied())
                            .flatten();
                        (
                            &a.weight_set[p],
                            r.get(p).map_or(&[][..], |v| v.as_slice()),
                            equal,
                        )
                    }
                    _ => {
                        let slot = slot.unwrap_or(usize::MAX);
                        (
                            weights,
                            self.straw2_recips
                                .get(slot)
                                .map_or(&[][..], |v| v.as_slice()),
                            self.straw2_equal.get(slot).copied().flatten(),
                        )
                    }
                };
                let ids: &[i32] = match arg {
                    Some((a, _)) if !a.ids.is_empty() => &a.ids,
                    _ => &b.items,
                };
                if let Some(w) = equal {
                    if let Some(i) = straw2_equal_choose(b.hash, xu, ru, ids, size, w) {
                        return Some(b.items[i]);
                    }
                }
                let mut high = 0;
                let mut high_draw = 0i64;
                let mut lane_ids = [0u32; LANES];
                let mut hashes = [0u32; LANES];
                // Hash eight items at a time (vectorised), then draw.
                for start in (0..size).step_by(LANES) {
                    let n = LANES.min(size - start);
                    for (l, slot) in lane_ids.iter_mut().enumerate().take(n) {
                        *slot = ids.get(start + l).copied().unwrap_or(0) as u32;
                    }
                    hash32_3_lanes(b.hash, xu, &lane_ids, ru, &mut hashes);
                    for (l, &h) in hashes.iter().enumerate().take(n) {
                        let i = start + l;
                        let w = weights.get(i).copied().unwrap_or(0);
                        let draw = if w != 0 {
                            straw2_draw(h & 0xffff, w, recips.get(i))
                        } else {
                            i64::MIN
                        };
                        if i == 0 || draw > high_draw {
                            high = i;
                            high_draw = draw;
                        }
                    }
                }
                b.items[high]
            }
        };
        Some(item)
    }

    /// The `r`-th element of a pseudo-random permutation of the bucket
    /// for input `x` (uniform buckets, and the local fallback search).
    fn perm_choose(&self, ws: &mut CrushWorkspace, b: &Bucket, x: i32, r: i32) -> Option<i32> {
        let size = b.items.len() as u32;
        if size == 0 || !ws.spend(1) {
            return None;
        }
        let pr = (r as u32) % size;
        let (xu, id) = (x as u32, b.id as u32);
        if pr == 0 {
            let s = hash32_3(b.hash, xu, id, 0) % size;
            return Some(b.items[s as usize]);
        }
        if !ws.spend(b.items.len()) {
            return None;
        }
        let perm = &mut ws.perm[..size as usize];
        for (i, p) in perm.iter_mut().enumerate() {
            *p = i as u32;
        }
        for p in 0..=pr {
            if p < size - 1 {
                let i = hash32_3(b.hash, xu, id, p) % (size - p);
                if i != 0 {
                    perm.swap(p as usize, (p + i) as usize);
                }
            }
        }
        Some(b.items[perm[pr as usize] as usize])
    }

    /// The type of `item`: 0 for devices, the bucket's type otherwise;
    /// None for a bucket id with no bucket.
    #[inline]
    fn item_type(&self, item: i32) -> Option<i32> {
        if item >= 0 {
            Some(0)
        } else {
            self.bucket(item).map(|b| i32::from(b.bucket_type))
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn choose_firstn(
        &self,
        ws: &mut CrushWorkspace,
        bucket: &Bucket,
        weights: &[u32],
        x: i32,
        numrep: i32,
        want_type: i32,
        out: &mut [i32],
        mut outpos: usize,
        out_size: usize,
        p: &FirstnParams,
        to_leaf: bool,
        mut out2: Option<&mut [i32]>,
        parent_r: i32,
        args: Option<ArgSet<'_>>,
    ) -> usize {
        let mut count = out_size;
        let mut rep: i32 = if p.stable { 0 } else { outpos as i32 };
        // A spent budget ends the whole choice, not just this replica (a
        // hostile rule may ask for billions of replicas).
        while rep < numrep && count > 0 && ws.budget > 0 {
            let mut ftotal: u32 = 0;
            let mut item = 0;
            let mut skip_rep = false;
            'descent: loop {
                let mut current = bucket;
                let mut flocal: u32 = 0;
                loop {
                    let r = rep.wrapping_add(parent_r).wrapping_add(ftotal as i32);
                    let size = current.items.len() as u32;
                    let mut collide = false;
                    let reject;
                    if size == 0 {
                        if !ws.spend(1) {
                            skip_rep = true;
                            break 'descent;
                        }
                        reject = true;
                    } else {
                        let chosen = if p.local_fallback_retries > 0
                            && flocal >= size >> 1
                            && flocal > p.local_fallback_retries
                        {
                            self.perm_choose(ws, current, x, r)
                        } else {
                            self.bucket_choose(ws, current, x, r, args, outpos)
                        };
                        let Some(chosen) = chosen else {
                            skip_rep = true;
                            break 'descent;
                        };
                        item = chosen;
                        if item >= self.max_devices {
                            skip_rep = true;
                            break 'descent;
                        }
                        let Some(item_type) = self.item_type(item) else {
                            skip_rep = true;
                            break 'descent;
                        };
                        if item_type != want_type {
                            match (item < 0).then(|| self.bucket(item)).flatten() {
                                Some(next) => {
                                    current = next;
                                    continue;
                                }
                                None => {
                                    skip_rep = true;
                                    break 'descent;
                                }
                            }
                        }
                        collide = out[..outpos].contains(&item);
                        let mut rejected = false;
                        if !collide && to_leaf {
                            let leaves = out2.as_deref_mut().expect("chooseleaf has a leaf vector");
                            if item < 0 {
                                let sub_r = if p.vary_r != 0 {
                                    r.wrapping_shr(p.vary_r - 1)
                                } else {
                                    0
                                };
                                let inner = self.bucket(item).expect("checked above");
                                let got = self.choose_firstn(
                                    ws,
                                    inner,
                                    weights,
                                    x,
                                    if p.stable { 1 } else { outpos as i32 + 1 },
                                    0,
                                    leaves,
                                    outpos,
                                    count,
                                    &FirstnParams {
                                        tries: p.recurse_tries,
                                        recurse_tries: 0,
                                        ..*p
                                    },
                                    false,
                                    None,
                                    sub_r,
                                    args,
                                );
                                rejected = got <= outpos;
                            } else {
                                leaves[outpos] = item;
                            }
                        }
                        if !rejected && !collide && item_type == 0 {
                            rejected = is_out(weights, item, x);
                        }
                        reject = rejected;
                    }
                    if !(reject || collide) {
                        break 'descent;
                    }
                    ftotal = ftotal.wrapping_add(1);
                    flocal = flocal.wrapping_add(1);
                    if (collide && flocal <= p.local_retries)
                        || (p.local_fallback_retries > 0
                            && flocal <= size.wrapping_add(p.local_fallback_retries))
                    {
                        continue;
                    }
                    if ftotal < p.tries {
                        continue 'descent;
                    }
                    skip_rep = true;
                    break 'descent;
                }
            }
            rep += 1;
            if skip_rep {
                continue;
            }
            out[outpos] = item;
            outpos += 1;
            count -= 1;
        }
        outpos
    }

    #[allow(clippy::too_many_arguments)]
    fn choose_indep(
        &self,
        ws: &mut CrushWorkspace,
        bucket: &Bucket,
        weights: &[u32],
        x: i32,
        left: usize,
        numrep: i32,
        want_type: i32,
        out: &mut [i32],
        outpos: usize,
        tries: u32,
        recurse_tries: u32,
        to_leaf: bool,
        mut out2: Option<&mut [i32]>,
        parent_r: i32,
        args: Option<ArgSet<'_>>,
    ) {
        let endpos = outpos + left;
        let mut left = left;
        out[outpos..endpos].fill(CRUSH_ITEM_UNDEF);
        if let Some(o2) = out2.as_deref_mut() {
            o2[outpos..endpos].fill(CRUSH_ITEM_UNDEF);
        }
        let mut ftotal: u32 = 0;
        'tries: while left > 0 && ftotal < tries {
            for rep in outpos..endpos {
                if out[rep] != CRUSH_ITEM_UNDEF {
                    continue;
                }
                let mut current = bucket;
                loop {
                    let size = current.items.len();
                    let mut r = (rep as i32).wrapping_add(parent_r);
                    let stride = if current.alg == bucket_alg::UNIFORM
                        && numrep != 0
                        && size as i64 % i64::from(numrep) == 0
                    {
                        numrep.wrapping_add(1)
                    } else {
                        numrep
                    };
                    r = r.wrapping_add(stride.wrapping_mul(ftotal as i32));
                    if size == 0 {
                        if !ws.spend(1) {
                            break 'tries;
                        }
                        break;
                    }
                    let Some(item) = self.bucket_choose(ws, current, x, r, args, outpos) else {
                        break 'tries;
                    };
                    let mut give_up = item >= self.max_devices;
                    let item_type = self.item_type(item);
                    if !give_up && item_type != Some(want_type) {
                        match (item < 0).then(|| self.bucket(item)).flatten() {
                            Some(next) => {
                                current = next;
                                continue;
                            }
                            None => give_up = true,
                        }
                    }
                    if give_up {
                        out[rep] = CRUSH_ITEM_NONE;
                        if let Some(o2) = out2.as_deref_mut() {
                            o2[rep] = CRUSH_ITEM_NONE;
                        }
                        left -= 1;
                        break;
                    }
                    if out[outpos..endpos].contains(&item) {
                        break;
                    }
                    if to_leaf {
                        if let Some(o2) = out2.as_deref_mut() {
                            if item < 0 {
                                let inner = self.bucket(item).expect("checked above");
                                self.choose_indep(
                                    ws,
                                    inner,
                                    weights,
                                    x,
                                    1,
                                    numrep,
                                    0,
                                    o2,
                                    rep,
                                    recurse_tries,
                                    0,
                                    false,
                                    None,
                                    r,
                                    args,
                                );
                                if o2[rep] == CRUSH_ITEM_NONE {
                                    break;
                                }
                            } else {
                                o2[rep] = item;
                            }
                        }
                    }
                    if item_type == Some(0) && is_out(weights, item, x) {
                        break;
                    }
                    out[rep] = item;
                    left -= 1;
                    break;
                }
            }
            ftotal = ftotal.wrapping_add(1);
        }
        for rep in outpos..endpos {
            if out[rep] == CRUSH_ITEM_UNDEF {
                out[rep] = CRUSH_ITEM_NONE;
            }
            if let Some(o2) = out2.as_deref_mut() {
                if o2[rep] == CRUSH_ITEM_UNDEF {
                    o2[rep] = CRUSH_ITEM_NONE;
                }
            }
        }
    }
}

/// The knobs a firstn descent carries down.
#[derive(Debug, Clone, Copy)]
struct FirstnParams {
    tries: u32,
    recurse_tries: u32,
    local_retries: u32,
    local_fallback_retries: u32,
    vary_r: u32,
    stable: bool,
}

/// Whether device `item` is rejected by its in/out weight: fully in at
/// 0x10000, out at 0, and in between in for a hashed share of inputs.
#[inline]
fn is_out(weights: &[u32], item: i32, x: i32) -> bool {
    let Some(&w) = usize::try_from(item).ok().and_then(|i| weights.get(i)) else {
        return true;
    };
    if w >= 0x10000 {
        return false;
    }
    if w == 0 {
        return true;
    }
    (hash32_2(HASH_RJENKINS1, x as u32, item as u32) & 0xffff) >= w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reciprocal_division_is_exact() {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut divisors: Vec<u32> =
            vec![1, 2, 3, 7, 0x10000, 0xffff, 0x10001, u32::MAX, u32::MAX - 1];
        divisors.extend(
            (0..200)
                .map(|_| (next() as u32) >> (next() % 32))
                .filter(|&d| d != 0),
        );
        for d in divisors {
            let r = Recip::new(d);
            for n in [
                0u64,
                1,
                (1 << 48) - 1,
                1 << 48,
                u64::from(d),
                u64::from(d) - 1,
            ] {
                assert_eq!(r.div(n), n / u64::from(d), "{n} / {d}");
            }
            for _ in 0..500 {
                let n = next() % ((1 << 48) + 1);
                assert_eq!(r.div(n), n / u64::from(d), "{n} / {d}");
            }
        }
        for u in 0..=0xffffu32 {
            for w in [1u32, 0x10000, 12345, 0x7fff_ffff] {
                let ln = crush_ln(u) as i64 - 0x1_0000_0000_0000;
                assert_eq!(straw2_draw(u, w, Some(&Recip::new(w))), ln / i64::from(w));
            }
        }
    }

    #[test]
    fn ln_matches_its_definition_closely() {
        // crush_ln(x) approximates 2^44 * log2(x + 1).
        for x in [0u32, 1, 2, 100, 1000, 0x7fff, 0xfffe, 0xffff] {
            let want = (2f64.powi(44) * ((x + 1) as f64).log2()) as i64;
            let got = crush_ln(x) as i64;
            assert!(
                (want - got).abs() < (1 << 34),
                "x={x} got {got} want {want}"
            );
        }
        assert!((0..=0xffffu32).all(|u| crush_ln(u) <= 1 << 48));
    }
}

#[cfg(test)]
mod ln_shape {
    #[test]
    fn ln_order_keys_sort_as_ln_does() {
        // crush_ln rises with u (weakly) except at 0xffff; keys follow.
        for u in 1..=0xffffu32 {
            for v in [0u32, 1, u - 1, 0xfffe, 0xffff, u / 2] {
                let (a, b) = (super::crush_ln(u), super::crush_ln(v));
                let (ka, kb) = (super::ln_key(u), super::ln_key(v));
                // A larger log always has a larger key (equal logs may not).
                assert!(!(a > b && ka <= kb), "u={u} v={v}");
            }
        }
    }
}
