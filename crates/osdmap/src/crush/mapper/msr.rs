//! Multi-step-retry (MSR) rules, Squid's rule types `msr_firstn` and
//! `msr_indep`: every `choosemsr` step of a block is retried from the
//! block's root when a device turns out to be out, so a failure domain may
//! hold several positions and a bad OSD can still move to another domain.
//!
//! Shape of a rule (anything else maps to nothing, as in Ceph): optional
//! `set_msr_descents` / `set_msr_collision_tries` steps, then blocks of
//! `take`, `choosemsr`…, `emit`. A block fills consecutive result
//! positions; its choose steps split them into strides (`choosemsr 2 host`
//! then `choosemsr 2 osd` gives two strides of two), each stride owning
//! the items it picked at every level, which no other stride may reuse.
//!
//! Written from the description in Ceph's mapper.c; the inputs each choice
//! hashes (its retry value) and the order of checks follow it so results
//! are identical. Work is charged to the same budget as ordinary rules, and
//! maps Ceph would crash on (empty or missing buckets, devices where a
//! bucket is needed) simply leave positions empty.

use super::{
    is_out, ArgSet, CrushMapper, CrushWorkspace, CRUSH_ITEM_NONE, CRUSH_ITEM_UNDEF,
    RULE_TYPE_MSR_FIRSTN,
};
use crate::crush::{rule_op, CrushRule, CrushRuleStep};

/// Most `choosemsr` steps one block may have. Recursion follows the
/// steps, so this bounds the stack; real hierarchies have about a dozen
/// types.
pub(super) const MAX_MSR_STEPS: usize = 64;

/// What stays fixed through one MSR mapping.
struct MsrRun<'m, 'r, 'w> {
    mapper: &'m CrushMapper<'m>,
    steps: &'r [CrushRuleStep],
    x: i32,
    result_max: usize,
    weights: &'w [u32],
    args: Option<ArgSet<'m>>,
    collision_tries: u32,
    firstn: bool,
}

/// Per-mapping scratch for MSR rules, kept in [`CrushWorkspace`]:
/// per choose level of a block, the item each position's stride holds
/// (`chosen`) and the item a stride gives back when the pass ends
/// (`undo`), each `levels × result_max`; plus the output.
#[derive(Debug, Default)]
pub(super) struct MsrScratch {
    chosen: Vec<i32>,
    undo: Vec<i32>,
    out: Vec<i32>,
    emitted: usize,
}

/// One block of a rule: its `take` step and the `emit` that ends it.
#[derive(Clone, Copy)]
struct Block {
    take: usize,
    emit: usize,
}

/// Checks the rule's shape as Ceph does before mapping anything: the
/// config prefix, then blocks. Returns the descents and collision tries in
/// force, or None when the rule is malformed (Ceph then returns nothing).
fn scan(rule: &CrushRule, descents: &mut u32, collision_tries: &mut u32) -> Option<usize> {
    let mut first = 0;
    for s in &rule.steps {
        match s.op {
            rule_op::SET_MSR_DESCENTS => *descents = s.arg1 as u32,
            rule_op::SET_MSR_COLLISION_TRIES => *collision_tries = s.arg1 as u32,
            _ => break,
        }
        first += 1;
    }
    let mut at = first;
    while at < rule.steps.len() {
        let block = next_block(&rule.steps, at)?;
        let chooses = block.emit - block.take - 1;
        // A device as the root only works alone (Ceph: malformed with
        // choose steps after it).
        if rule.steps[block.take].arg1 >= 0 && chooses != 0 {
            return None;
        }
        if chooses > MAX_MSR_STEPS {
            return None;
        }
        at = block.emit + 1;
    }
    Some(first)
}

/// The block starting at `at`: a take, choose steps only, an emit.
fn next_block(steps: &[CrushRuleStep], at: usize) -> Option<Block> {
    if at + 1 >= steps.len() || steps[at].op != rule_op::TAKE {
        return None;
    }
    let mut i = at + 1;
    while i < steps.len() {
        match steps[i].op {
            rule_op::EMIT => return Some(Block { take: at, emit: i }),
            rule_op::CHOOSE_MSR => i += 1,
            _ => return None,
        }
    }
    None
}

impl CrushMapper<'_> {
    /// Maps `x` with MSR rule `rule` into `out` (see the module docs).
    /// `out` holds the positions found in order for `msr_firstn`, and
    /// exactly `result_max` positions (holes as [`CRUSH_ITEM_NONE`]) for
    /// `msr_indep`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn do_msr_rule(
        &self,
        rule: &CrushRule,
        x: i32,
        result_max: usize,
        weights: &[u32],
        args: Option<ArgSet<'_>>,
        ws: &mut CrushWorkspace,
        out: &mut Vec<i32>,
    ) {
        let mut descents = self.crush.tunables.msr_descents;
        let mut collision_tries = self.crush.tunables.msr_collision_tries;
        let Some(first) = scan(rule, &mut descents, &mut collision_tries) else {
            return;
        };
        let levels = rule
            .steps
            .iter()
            .filter(|s| s.op == rule_op::CHOOSE_MSR)
            .count()
            .clamp(1, MAX_MSR_STEPS);
        let mut sc = std::mem::take(&mut ws.msr);
        for v in [&mut sc.chosen, &mut sc.undo] {
            if v.len() < levels * result_max {
                v.resize(levels * result_max, CRUSH_ITEM_UNDEF);
            }
        }
        sc.out.clear();
        sc.out.resize(result_max, CRUSH_ITEM_NONE);
        sc.emitted = 0;
        let run = MsrRun {
            mapper: self,
            steps: &rule.steps,
            x,
            result_max,
            weights,
            args,
            collision_tries,
            firstn: rule.rule_type == RULE_TYPE_MSR_FIRSTN,
        };
        let mut start = 0usize;
        let mut at = first;
        while at < rule.steps.len() {
            let Some(block) = next_block(&rule.steps, at) else {
                break;
            };
            at = block.emit + 1;
            let root = rule.steps[block.take].arg1;
            if root >= 0 {
                // A device alone: it is the block's one result. (Ceph
                // loops on this shape; taking it once is the sane reading.)
                if start < result_max {
                    run.emit(&mut sc, start, root);
                    start += 1;
                }
                continue;
            }
            let mut total: u32 = 1;
            for s in &rule.steps[block.take + 1..block.emit] {
                total = total.wrapping_mul(run.count(s));
            }
            let end = (start as u64 + u64::from(total)).min(result_max as u64) as usize;
            let Some(bucket) = self.bucket(root) else {
                start = end;
                continue;
            };
            let first_step = block.take + 1;
            let nlevels = block.emit - first_step;
            if nlevels == 0 {
                start = end;
                continue;
            }
            sc.chosen[..nlevels * result_max].fill(CRUSH_ITEM_UNDEF);
            let limit = sc.emitted + (end - start);
            let mut tryno = 0u32;
            while tryno < descents && sc.emitted < limit && ws.spend(1) {
                run.choose(
                    ws,
                    &mut sc,
                    bucket,
                    total,
                    (start, end),
                    (first_step, block.emit),
                    first_step,
                    tryno,
                );
                tryno += 1;
            }
            start = end;
        }
        if run.firstn {
            out.extend_from_slice(&sc.out[..sc.emitted]);
        } else {
            out.extend_from_slice(&sc.out);
        }
        ws.msr = sc;
    }
}

impl MsrRun<'_, '_, '_> {
    /// A choose step's count: `choosemsr 0` means the result size.
    fn count(&self, s: &CrushRuleStep) -> u32 {
        if s.arg1 != 0 {
            s.arg1 as u32
        } else {
            self.result_max as u32
        }
    }

    /// Puts a result at `position` (msr_indep) or next in line (msr_firstn).
    fn emit(&self, sc: &mut MsrScratch, position: usize, item: i32) {
        if sc.emitted >= self.result_max || position >= self.result_max {
            return;
        }
        let slot = if self.firstn { sc.emitted } else { position };
        if sc.out[slot] != CRUSH_ITEM_NONE {
            return;
        }
        sc.out[slot] = item;
        sc.emitted += 1;
    }

    /// The value a descent hashes: the descent number and stride index in
    /// the high half, the collision retry in the low half.
    fn retry_value(&self, stride: u32, tryno: u32, local_try: u32) -> u32 {
        let index = tryno
            .wrapping_mul(self.result_max as u32)
            .wrapping_add(stride);
        (index << 16).wrapping_add(local_try)
    }

    /// From `bucket` down to the first device or bucket of `want_type`.
    /// None where Ceph would fail hard (empty or missing bucket) or when
    /// the work budget is spent.
    fn descend(
        &self,
        ws: &mut CrushWorkspace,
        bucket: &super::Bucket,
        want_type: i32,
        r: u32,
        position: u32,
    ) -> Option<i32> {
        let mut current = bucket;
        loop {
            if current.items.is_empty() {
                ws.spend(1);
                return None;
            }
            let item = self.mapper.bucket_choose(
                ws,
                current,
                self.x,
                r as i32,
                self.args,
                position as usize,
            )?;
            if item >= 0 {
                return Some(item);
            }
            current = self.mapper.bucket(item)?;
            if i32::from(current.bucket_type) == want_type {
                return Some(item);
            }
        }
    }

    /// Fills positions `range` (`start..end`) under `bucket` with choose
    /// steps `step..blk.1` (the block's choose steps are `blk.0..blk.1`).
    /// `total` is how many positions these steps span before truncation.
    /// Returns how many results it emitted.
    #[allow(clippy::too_many_arguments)]
    fn choose(
        &self,
        ws: &mut CrushWorkspace,
        sc: &mut MsrScratch,
        bucket: &super::Bucket,
        total: u32,
        (start, end): (usize, usize),
        blk: (usize, usize),
        step: usize,
        tryno: u32,
    ) -> usize {
        let s = self.steps[step];
        let strides = self.count(&s);
        if strides == 0 || !total.is_multiple_of(strides) || total / strides == 0 {
            return 0;
        }
        let stride_len = (total / strides) as usize;
        let rm = self.result_max;
        let level = step - blk.0;
        let leaf_level = blk.1 - blk.0 - 1;
        for slot in (start..end).step_by(stride_len) {
            sc.undo[level * rm + slot] = CRUSH_ITEM_UNDEF;
        }
        let mut mapped = 0usize;
        let mut stride_start = start;
        let mut stride = 0u32;
        while stride_start < end {
            if !ws.spend(1) {
                break;
            }
            let stride_end = (stride_start + stride_len).min(end);
            let span = stride_start..stride_end;
            let this = stride;
            stride_start = stride_end;
            stride += 1;
            // Every position under this stride already has its device.
            let leaves = &sc.chosen[leaf_level * rm..][span.clone()];
            if leaves.iter().all(|&v| v != CRUSH_ITEM_UNDEF) {
                continue;
            }
            let mut found = None;
            for local_try in 0..self.collision_tries {
                let r = self.retry_value(this, tryno, local_try);
                let Some(candidate) = self.descend(ws, bucket, s.arg2, r, this) else {
                    break;
                };
                // Valid if unused in this call's range, or already this
                // stride's own.
                let held = &sc.chosen[level * rm..][start..end];
                let valid = match held.iter().position(|&v| v == candidate) {
                    Some(i) => span.contains(&(start + i)),
                    None => true,
                };
                if valid {
                    found = Some(candidate);
                    break;
                }
            }
            let Some(candidate) = found else {
                if ws.budget == 0 {
                    break;
                }
                continue;
            };
            if s.arg2 == 0 {
                // A leaf: only valid as the block's last step, one
                // position wide.
                if stride_len != 1 || step + 1 != blk.1 || candidate < 0 {
                    continue;
                }
                // An out device is skipped; a later descent retries it.
                if is_out(self.weights, candidate, self.x) {
                    continue;
                }
                push_used(&mut sc.chosen[level * rm..][span.clone()], candidate);
                self.emit(sc, span.start, candidate);
                mapped += 1;
            } else {
                if step + 1 >= blk.1 || candidate >= 0 {
                    continue;
                }
                let Some(child) = self.mapper.bucket(candidate) else {
                    continue;
                };
                let got = self.choose(
                    ws,
                    sc,
                    child,
                    stride_len as u32,
                    (span.start, span.end),
                    blk,
                    step + 1,
                    tryno,
                );
                let pushed = push_used(&mut sc.chosen[level * rm..][span.clone()], candidate);
                if pushed && got == 0 {
                    // Nothing below it mapped: give the slot back when this
                    // pass ends (until then it still counts as taken).
                    sc.undo[level * rm + span.start] = candidate;
                } else {
                    mapped += got;
                }
            }
        }
        // Hand back the buckets that led nowhere.
        for stride_start in (start..end).step_by(stride_len) {
            let stride_end = (stride_start + stride_len).min(end);
            let undo = &mut sc.undo[level * rm + stride_start];
            if *undo != CRUSH_ITEM_UNDEF {
                *undo = CRUSH_ITEM_UNDEF;
                let held = &mut sc.chosen[level * rm..][stride_start..stride_end];
                if let Some(last) = held.iter_mut().rev().find(|v| **v != CRUSH_ITEM_UNDEF) {
                    *last = CRUSH_ITEM_UNDEF;
                }
            }
        }
        mapped
    }
}

/// Records `item` in a stride's slots; false if it was already there (or,
/// on a malformed map, if the stride is full).
fn push_used(slots: &mut [i32], item: i32) -> bool {
    for v in slots {
        if *v == item {
            return false;
        }
        if *v == CRUSH_ITEM_UNDEF {
            *v = item;
            return true;
        }
    }
    false
}
