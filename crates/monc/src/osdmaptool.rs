//! `monc osdmaptool MAPFILE ...`: the placement-testing options of Ceph's
//! `osdmaptool`, with the same output on stdout (C++ stream number
//! formatting included), the same messages on stderr and the same exit
//! codes, plus `--format json` for machines.

use std::fmt::Write as _;
use std::io::Write as _;

use ceph_denc::Decode;
use ceph_osdmap::crush::{BucketWeights, CrushWrapper};
use ceph_osdmap::osdmap::{osd_state, CEPH_OSD_IN, CEPH_OSD_OUT};
use ceph_osdmap::placement::{Placement, PlacementError, Placer, RuleLookup, CRUSH_ITEM_NONE};
use ceph_osdmap::{OSDMap, PgId};
use serde_json::{json, Value};

const ME: &str = "osdmaptool";

const USAGE: &str = " usage: monc osdmaptool [options] <mapfilename>
   --test-map-object <name> [--pool <poolid>]  map an object to its PG and acting OSDs
   --test-map-pg <pgid>                        map one PG: raw, up and acting sets
   --test-map-pgs [--pool <poolid>]            map every PG, print per-OSD counts
   --test-map-pgs-dump [--pool <poolid>]       as --test-map-pgs, listing each PG
   --test-map-pgs-dump-all [--pool <poolid>]   as above, with raw and up sets too
   --mark-up-in                                mark every OSD up and in (not saved)
   --mark-out <osdid>                          mark an OSD out (not saved)
   --mark-up <osdid>                           mark an OSD up (not saved)
   --format json                               machine-readable output
   --crush-rule-lookup auto|id|mask            how a pool's crush_rule picks its rule: the
                                               rule id (Quincy on), the legacy ruleset/type/
                                               size mask (Pacific and older), or auto (mask
                                               if the map is pre-Quincy's; the default)";

/// What the command line asks for.
#[derive(Default)]
struct Options {
    files: Vec<String>,
    pool: i64,
    test_map_object: Option<String>,
    test_map_pg: Option<String>,
    test_map_pgs: bool,
    dump: bool,
    dump_all: bool,
    mark_up_in: bool,
    mark_out: i64,
    mark_up: i64,
    json: bool,
    rule_lookup: RuleLookup,
}

/// An early end: text for stderr and the exit code.
struct Exit(Vec<String>, i32);

fn usage_exit(mut lines: Vec<String>) -> Exit {
    lines.push(USAGE.to_string());
    Exit(lines, 1)
}

/// Ceph's option names treat '-' and '_' alike after the leading dashes.
fn option_name(arg: &str) -> Option<(String, Option<&str>)> {
    let body = arg.strip_prefix("--")?;
    let (name, value) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    };
    Some((name.replace('_', "-"), value))
}

/// `std::stoi`-like: leading blanks, sign, digits; junk after is ignored.
fn parse_leading_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let v: i64 = digits[..n].parse().ok()?;
    Some(if neg { -v } else { v })
}

fn parse_args(argv: &[String]) -> Result<Options, Exit> {
    let mut o = Options {
        pool: -1,
        mark_out: -1,
        mark_up: -1,
        ..Options::default()
    };
    let mut i = 0;
    while i < argv.len() {
        let arg = &argv[i];
        if arg == "--" {
            o.files.extend(argv[i + 1..].iter().cloned());
            break;
        }
        if arg == "-h" || arg == "--help" {
            return Err(Exit(vec![USAGE.to_string()], 1));
        }
        let Some((name, inline)) = option_name(arg) else {
            o.files.push(arg.clone());
            i += 1;
            continue;
        };
        let takes_value = matches!(
            name.as_str(),
            "pool"
                | "test-map-object"
                | "test-map-pg"
                | "mark-out"
                | "mark-up"
                | "format"
                | "crush-rule-lookup"
        );
        let value = if takes_value {
            match inline {
                Some(v) => Some(v.to_string()),
                None => {
                    i += 1;
                    match argv.get(i) {
                        Some(v) => Some(v.clone()),
                        None => {
                            return Err(Exit(
                                vec![format!("Option {arg} requires an argument.")],
                                1,
                            ))
                        }
                    }
                }
            }
        } else {
            None
        };
        let v = value.unwrap_or_default();
        match name.as_str() {
            "pool" => match v.trim().parse::<i32>() {
                Ok(p) => o.pool = i64::from(p),
                Err(_) => return Err(Exit(vec![format!("The option value '{v}' is invalid")], 1)),
            },
            "test-map-object" => o.test_map_object = Some(v).filter(|v| !v.is_empty()),
            "test-map-pg" => o.test_map_pg = Some(v).filter(|v| !v.is_empty()),
            "mark-out" | "mark-up" => {
                let Some(n) = parse_leading_int(&v) else {
                    // std::stoi / std::stod throw; the uncaught exception aborts.
                    return Err(Exit(
                        vec![format!("terminate called after throwing an instance of 'std::invalid_argument'\n  what():  {}", if name == "mark-out" { "stoi" } else { "stod" })],
                        134,
                    ));
                };
                if name == "mark-out" {
                    o.mark_out = n;
                } else {
                    o.mark_up = n;
                }
            }
            "format" => o.json = v == "json" || v == "json-pretty",
            "crush-rule-lookup" => {
                o.rule_lookup = match v.as_str() {
                    "auto" => RuleLookup::Auto,
                    "id" => RuleLookup::RuleId,
                    "mask" => RuleLookup::Mask,
                    _ => {
                        return Err(usage_exit(vec![format!(
                            "{ME}: --crush-rule-lookup takes auto, id or mask, not '{v}'"
                        )]))
                    }
                }
            }
            "test-map-pgs" => o.test_map_pgs = true,
            "test-map-pgs-dump" => o.dump = true,
            "test-map-pgs-dump-all" => o.dump_all = true,
            "mark-up-in" => o.mark_up_in = true,
            _ => o.files.push(arg.clone()),
        }
        i += 1;
    }
    Ok(o)
}

/// Entry point: `argv` starts with "osdmaptool". Returns the exit code.
pub fn run(argv: &[String]) -> i32 {
    let args = &argv[1.min(argv.len())..];
    if args.is_empty() {
        errln!("{ME}: -h or --help for usage");
        return 1;
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let code = match run_inner(args, &mut out) {
        Ok(()) => 0,
        Err(Exit(lines, code)) => {
            for l in lines {
                if l == USAGE {
                    let _ = writeln!(out, "{l}");
                } else {
                    let _ = out.flush();
                    errln!("{l}");
                }
            }
            code
        }
    };
    let _ = out.flush();
    code
}

fn run_inner(args: &[String], out: &mut impl std::io::Write) -> Result<(), Exit> {
    let o = parse_args(args)?;
    match o.files.len() {
        0 => {
            return Err(usage_exit(vec![format!(
                "{ME}: must specify osdmap filename"
            )]))
        }
        1 => {}
        _ => return Err(usage_exit(vec![format!("{ME}: too many arguments")])),
    }
    let file = &o.files[0];
    errln!("{ME}: osdmap file '{file}'");
    let bytes = std::fs::read(file).map_err(|e| {
        let code = e.raw_os_error().unwrap_or(libc::EIO);
        let text = e.to_string();
        let text = text.split(" (os error").next().unwrap_or(&text).to_string();
        Exit(
            vec![format!("{ME}: couldn't open {file}: ({code}) {text}")],
            255,
        )
    })?;
    let mut map = OSDMap::decode_all(&bytes)
        .map_err(|_| Exit(vec![format!("{ME}: error decoding osdmap '{file}'")], 255))?;
    let w = |out: &mut dyn std::io::Write, s: &str| {
        let _ = out.write_all(s.as_bytes());
    };
    let mut json_doc = serde_json::Map::new();
    let text = !o.json;

    if o.mark_up_in {
        if text {
            w(out, "marking all OSDs up and in\n");
        }
        mark_up_in(&mut map);
    }
    let max_osd = i64::from(map.max_osd);
    if o.mark_out >= 0 && o.mark_out < max_osd {
        if text {
            w(out, &format!("marking OSD@{} as out\n", o.mark_out));
        }
        let id = o.mark_out as usize;
        set_state_bits(&mut map, id, osd_state::UP);
        set_weight(&mut map, id, CEPH_OSD_OUT);
    }
    if o.mark_up >= 0 && o.mark_up < max_osd {
        if text {
            w(out, &format!("marking OSD@{} as up\n", o.mark_up));
        }
        set_state_bits(&mut map, o.mark_up as usize, osd_state::UP);
    }
    let placer = map.placer_with(o.rule_lookup);
    let mut pool = o.pool;

    if let Some(name) = &o.test_map_object {
        if pool == -1 {
            if text {
                w(
                    out,
                    &format!("{ME}: assuming pool 1 (use --pool to override)\n"),
                );
            }
            pool = 1;
        }
        if !map.pools.contains_key(&pool) {
            return Err(Exit(vec![format!("There is no pool {pool}")], 1));
        }
        let pg = map
            .object_to_pg(pool, name, "", None)
            .map_err(placement_exit)?;
        let p = placer.pg_to_up_acting(pg).map_err(placement_exit)?;
        if text {
            w(
                out,
                &format!(" object '{name}' -> {pg} -> {}\n", vec_str(&p.acting)),
            );
        } else {
            json_doc.insert(
                "object".into(),
                json!({"name": name, "pool": pool, "pgid": pg.to_string(),
                       "acting": p.acting, "acting_primary": p.acting_primary}),
            );
        }
    }
    if let Some(spec) = &o.test_map_pg {
        let Some(pg) = parse_pgid(spec) else {
            return Err(usage_exit(vec![format!(
                "{ME}: failed to parse pg '{spec}"
            )]));
        };
        if text {
            w(out, &format!(" parsed '{spec}' -> {pg}\n"));
        }
        let mut raw = Vec::new();
        let (raw_primary, p) = match map.pools.contains_key(&(pg.pool as i64)) {
            true => {
                let rp = placer.pg_to_raw(pg, &mut raw).map_err(placement_exit)?;
                (rp, placer.pg_to_up_acting(pg).map_err(placement_exit)?)
            }
            false => (
                -1,
                Placement {
                    up_primary: -1,
                    acting_primary: -1,
                    ..Placement::default()
                },
            ),
        };
        if text {
            w(out, &format!("{pg} {}\n", full_line(&raw, raw_primary, &p)));
        } else {
            json_doc.insert("pg".into(), pg_json(pg, &raw, raw_primary, &p));
        }
    }
    if o.test_map_pgs || o.dump || o.dump_all {
        if pool != -1 && !map.pools.contains_key(&pool) {
            return Err(Exit(vec![format!("There is no pool {pool}")], 1));
        }
        let report = map_all_pgs(&placer, pool, o.dump, o.dump_all, text, out)?;
        if text {
            w(out, &summary_text(&map, &report));
        } else {
            json_doc.insert("summary".into(), summary_json(&map, &report));
            json_doc.insert("pools".into(), Value::Array(report.json_pools));
        }
    }
    if o.test_map_object.is_none()
        && o.test_map_pg.is_none()
        && !(o.test_map_pgs || o.dump || o.dump_all)
    {
        return Err(usage_exit(vec![format!("{ME}: no action specified?")]));
    }
    if !text {
        let _ = serde_json::to_writer_pretty(&mut *out, &Value::Object(json_doc));
        w(out, "\n");
    }
    Ok(())
}

fn placement_exit(e: PlacementError) -> Exit {
    Exit(vec![format!("{ME}: {e}")], 1)
}

fn set_state_bits(map: &mut OSDMap, id: usize, bits: u32) {
    if let Some(s) = map.osd_state.get_mut(id) {
        *s |= bits;
    }
}

/// `OSDMap::set_weight`: a non-zero weight also marks the OSD existing.
fn set_weight(map: &mut OSDMap, id: usize, weight: u32) {
    if let Some(w) = map.osd_weight.get_mut(id) {
        *w = weight;
    }
    if weight != 0 {
        set_state_bits(map, id, osd_state::EXISTS);
    }
}

/// `--mark-up-in`: every OSD id up and in; devices with CRUSH weight 0
/// get weight 1.0, as osdmaptool does.
fn mark_up_in(map: &mut OSDMap) {
    // Adjusting OSD i changes only i's own entries and its parents'
    // weights, so the weights looked up before the loop stay valid.
    let weights = crush_item_weights(&map.crush);
    for i in 0..map.max_osd.max(0) {
        set_state_bits(map, i as usize, osd_state::UP);
        set_weight(map, i as usize, CEPH_OSD_IN);
        if weights.get(&i).copied().unwrap_or(-2) == 0 {
            adjust_item_weight(&mut map.crush, i, 0x10000, true);
        }
    }
}

/// `get_item_weight` for every id at once: the weight of an id in the
/// first bucket (by index) holding it, or the bucket's own weight; one
/// pass over the buckets, first answer kept. Ids in no bucket are absent
/// (Ceph answers -ENOENT for them).
fn crush_item_weights(crush: &CrushWrapper) -> std::collections::HashMap<i32, i64> {
    let mut m = std::collections::HashMap::new();
    for b in crush.buckets.iter().flatten() {
        m.entry(b.id).or_insert(i64::from(b.weight as i32));
        for (pos, &item) in b.items.iter().enumerate() {
            m.entry(item)
                .or_insert(i64::from(b.item_weight(pos) as i32));
        }
    }
    m
}

/// `adjust_item_weight`: sets `id`'s weight in every bucket holding it and
/// carries the change up to the parents (and their weight-set sums).
fn adjust_item_weight(crush: &mut CrushWrapper, id: i32, weight: u32, update_weight_sets: bool) {
    for index in 0..crush.buckets.len() {
        let Some(b) = crush.buckets[index].as_mut() else {
            continue;
        };
        let bucket_id = b.id;
        let mut changed_weight = None;
        for pos in 0..b.items.len() {
            if b.items[pos] != id {
                continue;
            }
            adjust_in_bucket(b, pos, weight);
            changed_weight = Some(b.weight);
        }
        if let Some(new_weight) = changed_weight {
            adjust_item_weight(crush, bucket_id, new_weight, false);
        }
        if update_weight_sets {
            let size = crush.buckets[index].as_ref().map_or(0, |b| b.items.len());
            let keys: Vec<i64> = crush.choose_args.keys().copied().collect();
            for key in keys {
                let sums = match crush.choose_args[&key].get(&(index as u32)) {
                    Some(arg) if !arg.weight_set.is_empty() => arg
                        .weight_set
                        .iter()
                        .map(|ws| ws.iter().take(size).fold(0u32, |a, &w| a.wrapping_add(w)))
                        .collect::<Vec<u32>>(),
                    _ => continue,
                };
                adjust_weight_set_sums(crush, key, bucket_id, &sums);
            }
        }
    }
}

/// `choose_args_adjust_item_weight`: puts `item`'s per-position weights
/// into every parent's weight-set and carries the new sums further up.
fn adjust_weight_set_sums(crush: &mut CrushWrapper, key: i64, item: i32, weights: &[u32]) {
    for index in 0..crush.buckets.len() {
        let Some(b) = crush.buckets[index].as_ref() else {
            continue;
        };
        let Some(pos) = b.items.iter().position(|&x| x == item) else {
            continue;
        };
        let (bucket_id, size) = (b.id, b.items.len());
        let Some(arg) = crush
            .choose_args
            .get_mut(&key)
            .and_then(|m| m.get_mut(&(index as u32)))
        else {
            continue;
        };
        if arg.weight_set.is_empty() {
            continue;
        }
        for (ws, &w) in arg.weight_set.iter_mut().zip(weights) {
            if let Some(slot) = ws.get_mut(pos) {
                *slot = w;
            }
        }
        let sums: Vec<u32> = arg
            .weight_set
            .iter()
            .map(|ws| ws.iter().take(size).fold(0u32, |a, &w| a.wrapping_add(w)))
            .collect();
        adjust_weight_set_sums(crush, key, bucket_id, &sums);
    }
}

/// `crush_bucket_adjust_item_weight` for one position.
fn adjust_in_bucket(b: &mut ceph_osdmap::crush::CrushBucket, pos: usize, weight: u32) {
    let size = b.items.len() as u32;
    match &mut b.weights {
        BucketWeights::Uniform { item_weight } => {
            *item_weight = weight;
            b.weight = weight.wrapping_mul(size);
        }
        BucketWeights::List {
            item_weights,
            sum_weights,
        } => {
            let diff = weight.wrapping_sub(item_weights[pos]);
            item_weights[pos] = weight;
            b.weight = b.weight.wrapping_add(diff);
            for s in sum_weights.iter_mut().skip(pos) {
                *s = s.wrapping_add(diff);
            }
        }
        BucketWeights::Tree { node_weights } => {
            let mut node = 2 * pos + 1;
            let Some(old) = node_weights.get(node).copied() else {
                return;
            };
            let diff = weight.wrapping_sub(old);
            node_weights[node] = weight;
            b.weight = b.weight.wrapping_add(diff);
            let depth = tree_depth(size);
            for _ in 1..depth {
                let h = node.trailing_zeros();
                node = if node & (1 << (h + 1)) != 0 {
                    node - (1 << h)
                } else {
                    node + (1 << h)
                };
                if let Some(nw) = node_weights.get_mut(node) {
                    *nw = nw.wrapping_add(diff);
                }
            }
        }
        BucketWeights::Straw { item_weights, .. } => {
            // Straw lengths would need recomputing (straw_calc_version);
            // osdmaptool does, this tool leaves them as stored.
            let diff = weight.wrapping_sub(item_weights[pos]);
            item_weights[pos] = weight;
            b.weight = b.weight.wrapping_add(diff);
        }
        BucketWeights::Straw2 { item_weights } => {
            let diff = weight.wrapping_sub(item_weights[pos]);
            item_weights[pos] = weight;
            b.weight = b.weight.wrapping_add(diff);
        }
    }
}

/// Depth of a tree bucket of `size` leaves (`calc_depth`).
fn tree_depth(size: u32) -> u32 {
    if size == 0 {
        return 0;
    }
    let mut depth = 1;
    let mut t = size - 1;
    while t != 0 {
        t >>= 1;
        depth += 1;
    }
    depth
}

/// `pg_t::parse`: "POOL.SEEDHEX", as sscanf("%llu.%x") reads it.
fn parse_pgid(s: &str) -> Option<PgId> {
    let s = s.trim_start();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let pool = rest[..n].parse::<u64>().unwrap_or(u64::MAX);
    let pool = if neg { pool.wrapping_neg() } else { pool };
    let rest = rest[n..].strip_prefix('.')?.trim_start();
    let (neg, rest) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let rest = rest
        .strip_prefix("0x")
        .or_else(|| rest.strip_prefix("0X"))
        .filter(|r| r.bytes().next().is_some_and(|b| b.is_ascii_hexdigit()))
        .unwrap_or(rest);
    let n = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
    if n == 0 {
        return None;
    }
    let seed =
        u64::from_str_radix(&rest[..n], 16).map_or(u32::MAX, |v| v.min(u64::from(u32::MAX)) as u32);
    let seed = if neg { seed.wrapping_neg() } else { seed };
    Some(PgId { pool, seed })
}

/// A vector as Ceph's `operator<<` prints it: `[1,2,3]`.
fn vec_str(v: &[i32]) -> String {
    let mut s = String::with_capacity(2 + v.len() * 4);
    s.push('[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{x}");
    }
    s.push(']');
    s
}

fn full_line(raw: &[i32], raw_primary: i32, p: &Placement) -> String {
    format!(
        "raw ({}, p{raw_primary}) up ({}, p{}) acting ({}, p{})",
        vec_str(raw),
        vec_str(&p.up),
        p.up_primary,
        vec_str(&p.acting),
        p.acting_primary
    )
}

fn pg_json(pg: PgId, raw: &[i32], raw_primary: i32, p: &Placement) -> Value {
    json!({"pgid": pg.to_string(), "raw": raw, "raw_primary": raw_primary,
           "up": p.up, "up_primary": p.up_primary,
           "acting": p.acting, "acting_primary": p.acting_primary})
}

/// Per-OSD tallies over all mapped PGs.
#[derive(Default)]
struct Report {
    count: Vec<u64>,
    first: Vec<u64>,
    primary: Vec<u64>,
    sizes: Vec<u64>,
    json_pools: Vec<Value>,
}

impl Report {
    fn new(n: usize) -> Self {
        Report {
            count: vec![0; n],
            first: vec![0; n],
            primary: vec![0; n],
            sizes: Vec::new(),
            json_pools: Vec::new(),
        }
    }

    fn add(&mut self, other: &Report) {
        for (a, b) in self.count.iter_mut().zip(&other.count) {
            *a += b;
        }
        for (a, b) in self.first.iter_mut().zip(&other.first) {
            *a += b;
        }
        for (a, b) in self.primary.iter_mut().zip(&other.primary) {
            *a += b;
        }
        if self.sizes.len() < other.sizes.len() {
            self.sizes.resize(other.sizes.len(), 0);
        }
        for (a, b) in self.sizes.iter_mut().zip(&other.sizes) {
            *a += b;
        }
    }

    fn tally(&mut self, osds: &[i32], primary: i32) {
        if self.sizes.len() <= osds.len() {
            self.sizes.resize(osds.len() + 1, 0);
        }
        self.sizes[osds.len()] += 1;
        for &o in osds {
            if o != CRUSH_ITEM_NONE {
                if let Some(c) = usize::try_from(o).ok().and_then(|i| self.count.get_mut(i)) {
                    *c += 1;
                }
            }
        }
        if let Some(&o) = osds.first() {
            if o != CRUSH_ITEM_NONE {
                if let Some(c) = usize::try_from(o).ok().and_then(|i| self.first.get_mut(i)) {
                    *c += 1;
                }
            }
        }
        if let Some(c) = usize::try_from(primary)
            .ok()
            .and_then(|i| self.primary.get_mut(i))
        {
            *c += 1;
        }
    }
}

/// One thread's share: tallies, text lines and JSON records.
type RangeOutput = (Report, String, Vec<Value>);

/// PGs mapped per thread per round; bounds buffered output.
const BLOCK: u32 = 1 << 14;

fn map_all_pgs(
    placer: &Placer<'_>,
    only_pool: i64,
    dump: bool,
    dump_all: bool,
    text: bool,
    out: &mut impl std::io::Write,
) -> Result<Report, Exit> {
    let map = placer.map();
    let n = map.max_osd.max(0) as usize;
    let mut report = Report::new(n);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    for (&pool_id, pool) in &map.pools {
        if only_pool != -1 && pool_id != only_pool {
            continue;
        }
        if text {
            let _ = writeln!(out, "pool {pool_id} pg_num {}", pool.pg_num);
        }
        let mut json_pgs = Vec::new();
        let mut start = 0u32;
        while start < pool.pg_num {
            let end = start
                .saturating_add(BLOCK.saturating_mul(threads as u32))
                .min(pool.pg_num);
            let per = (end - start).div_ceil(threads as u32).max(1);
            let chunks: Vec<(u32, u32)> = (start..end)
                .step_by(per as usize)
                .map(|s| (s, (s + per).min(end)))
                .collect();
            let results: Vec<Result<RangeOutput, PlacementError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = chunks
                    .iter()
                    .map(|&(s, e)| {
                        scope.spawn(move || {
                            map_range(placer, pool_id, s, e, n, dump, dump_all, text)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("mapping thread panicked"))
                    .collect()
            });
            for r in results {
                let (part, lines, pgs) = r.map_err(placement_exit)?;
                report.add(&part);
                let _ = out.write_all(lines.as_bytes());
                json_pgs.extend(pgs);
            }
            start = end;
        }
        if !text {
            report
                .json_pools
                .push(json!({"pool": pool_id, "pg_num": pool.pg_num, "pgs": json_pgs}));
        }
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn map_range(
    placer: &Placer<'_>,
    pool: i64,
    start: u32,
    end: u32,
    n: usize,
    dump: bool,
    dump_all: bool,
    text: bool,
) -> Result<RangeOutput, PlacementError> {
    let mut report = Report::new(n);
    let mut lines = String::new();
    let mut json_pgs = Vec::new();
    let mut p = Placement::default();
    let mut raw = Vec::new();
    let mut raw_only = Vec::new();
    for seed in start..end {
        let pg = PgId {
            pool: pool as u64,
            seed,
        };
        placer.pg_to_up_acting_into(pg, &mut p, &mut raw)?;
        let raw_primary = if dump_all {
            placer.pg_to_raw(pg, &mut raw_only)?
        } else {
            -1
        };
        report.tally(&p.acting, p.acting_primary);
        if text {
            if dump {
                let _ = writeln!(lines, "{pg}\t{}\t{}", vec_str(&p.acting), p.acting_primary);
            } else if dump_all {
                let _ = writeln!(lines, "{pg} {}", full_line(&raw_only, raw_primary, &p));
            }
        } else if dump || dump_all {
            json_pgs.push(pg_json(pg, &raw_only, raw_primary, &p));
        }
    }
    Ok((report, lines, json_pgs))
}

/// A double as a C++ stream prints it by default (`%g`, 6 digits).
pub fn cpp_double(v: f64) -> String {
    if v.is_nan() {
        // x86's default NaN (from 0/0) has the sign bit set.
        return "-nan".to_string();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    const P: i32 = 6;
    let sci = format!("{:.*e}", (P - 1) as usize, v);
    let (mantissa, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent digits");
    if !(-4..P).contains(&exp) {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (P - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

fn summary_text(map: &OSDMap, r: &Report) -> String {
    let mut s = String::from("#osd\tcount\tfirst\tprimary\tc wt\twt\n");
    let (mut total, mut inn) = (0u64, 0i64);
    let (mut min_osd, mut max_osd): (Option<usize>, Option<usize>) = (None, None);
    let weights = crush_item_weights(&map.crush);
    let weight_of = |i: usize| weights.get(&(i as i32)).copied().unwrap_or(-2);
    let eligible: Vec<usize> = (0..r.count.len())
        .filter(|&i| map.is_in(i as i32) && weight_of(i) > 0)
        .collect();
    for &i in &eligible {
        inn += 1;
        let cw = weight_of(i) as i32 as f32 / 65536f32;
        let w = map.osd_weight.get(i).copied().unwrap_or(0) as f32 / CEPH_OSD_IN as f32;
        let _ = writeln!(
            s,
            "osd.{i}\t{}\t{}\t{}\t{}\t{}",
            r.count[i],
            r.first[i],
            r.primary[i],
            cpp_double(f64::from(cw)),
            cpp_double(f64::from(w))
        );
        total += r.count[i];
        let c = r.count[i];
        if c > 0 && !matches!(min_osd, Some(m) if c >= r.count[m]) {
            min_osd = Some(i);
        }
        if c > 0 && !matches!(max_osd, Some(m) if c <= r.count[m]) {
            max_osd = Some(i);
        }
    }
    let avg: u64 = if inn > 0 { total / inn as u64 } else { 0 };
    let mut dev = 0f64;
    for &i in &eligible {
        // Ceph does this in unsigned 64-bit arithmetic.
        let d = avg.wrapping_sub(r.count[i]);
        dev += d.wrapping_mul(d) as f64;
    }
    dev /= inn as f64;
    dev = dev.sqrt();
    let inf = inn as f64;
    let edev = (total as f64 / inf * (1.0 - (1.0 / inf))).sqrt();
    let avgf = avg as f64;
    let _ = writeln!(s, " in {inn}");
    let _ = writeln!(
        s,
        " avg {avg} stddev {} ({}x) (expected {} {}x))",
        cpp_double(dev),
        cpp_double(dev / avgf),
        cpp_double(edev),
        cpp_double(edev / avgf)
    );
    if let Some(m) = min_osd {
        let _ = writeln!(s, " min osd.{m} {}", r.count[m]);
    }
    if let Some(m) = max_osd {
        let _ = writeln!(s, " max osd.{m} {}", r.count[m]);
    }
    for (i, &c) in r.sizes.iter().enumerate() {
        if c > 0 {
            let _ = writeln!(s, "size {i}\t{c}");
        }
    }
    s
}

fn summary_json(map: &OSDMap, r: &Report) -> Value {
    let weights = crush_item_weights(&map.crush);
    let weight_of = |i: usize| weights.get(&(i as i32)).copied().unwrap_or(-2);
    let osds: Vec<Value> = (0..r.count.len())
        .filter(|&i| map.is_in(i as i32) && weight_of(i) > 0)
        .map(|i| {
            json!({"osd": i, "count": r.count[i], "first": r.first[i], "primary": r.primary[i],
                   "crush_weight": weight_of(i) as f64 / 65536.0,
                   "weight": map.osd_weight.get(i).copied().unwrap_or(0) as f64 / CEPH_OSD_IN as f64})
        })
        .collect();
    let sizes: serde_json::Map<String, Value> = r
        .sizes
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| (i.to_string(), json!(c)))
        .collect();
    json!({"osds": osds, "sizes": sizes})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_cpp_streams_do() {
        assert_eq!(cpp_double(1.0), "1");
        assert_eq!(cpp_double(0.5), "0.5");
        assert_eq!(cpp_double(1.0 / 3.0), "0.333333");
        assert_eq!(cpp_double(123456.0), "123456");
        assert_eq!(cpp_double(1234567.0), "1.23457e+06");
        assert_eq!(cpp_double(0.0001), "0.0001");
        assert_eq!(cpp_double(0.00001), "1e-05");
        assert_eq!(cpp_double(7.93457), "7.93457");
        assert_eq!(cpp_double(f64::NAN), "-nan");
        assert_eq!(cpp_double(f64::INFINITY), "inf");
        assert_eq!(cpp_double(0.0), "0");
        assert_eq!(cpp_double(0.0999996), "0.0999996");
        assert_eq!(cpp_double(0.09999996), "0.1");
        assert_eq!(cpp_double(999999.5), "1e+06");
        assert_eq!(cpp_double(0.000123456789), "0.000123457");
    }

    #[test]
    fn pgids_parse_like_sscanf() {
        assert_eq!(
            parse_pgid("1.2f"),
            Some(PgId {
                pool: 1,
                seed: 0x2f
            })
        );
        assert_eq!(
            parse_pgid("3.0x10"),
            Some(PgId {
                pool: 3,
                seed: 0x10
            })
        );
        assert_eq!(
            parse_pgid("3.1fzz"),
            Some(PgId {
                pool: 3,
                seed: 0x1f
            })
        );
        assert_eq!(parse_pgid("3"), None);
        assert_eq!(parse_pgid("x.1"), None);
    }
}
