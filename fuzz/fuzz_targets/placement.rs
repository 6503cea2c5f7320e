#![no_main]
//! CRUSH mapping and PG placement on hostile maps: any map that decodes,
//! any rule, any input. Mapping must not panic and must stay bounded: each
//! mapping's CPU time (the thread's, so a busy machine does not count) is
//! checked against 1 s, a hang detector: instrumented fuzz builds run some
//! 30 times slower than release. The release-build bound (10 ms) is shown
//! by replaying fuzz inputs with `cargo run --release -p ceph-osdmap
//! --example crush_budget -- FILES`.
//!
//! First byte: bit 0 picks the input kind. Even: a CRUSH map after eight
//! header bytes (result size, rule id, number of inputs, device weight
//! pattern, pool id for the weight-set). Odd: an OSDMap (CRC recomputed
//! as in the osdmap target) whose pools' first PGs are all placed.

use std::time::Duration;

use ceph_denc::Decode;
use ceph_fuzz::osdmap_input;
use ceph_osdmap::crush::mapper::{CrushMapper, CrushWorkspace};
use ceph_osdmap::{CrushWrapper, OSDMap, PgId};
use libfuzzer_sys::fuzz_target;

const LIMIT: Duration = Duration::from_secs(1);

/// This thread's CPU time so far.
fn cpu_now() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(s.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = cpu_now();
    let v = f();
    let took = cpu_now().saturating_sub(started);
    assert!(took < LIMIT, "{what} took {took:?} of CPU");
    v
}

fuzz_target!(|data: &[u8]| {
    let Some(&selector) = data.first() else {
        return;
    };
    if selector & 1 == 0 {
        let Some((header, body)) = data[1..].split_at_checked(8) else {
            return;
        };
        let Ok(crush) = CrushWrapper::decode_all(body) else {
            return;
        };
        let mapper = CrushMapper::new(&crush);
        let result_max = usize::from(header[0] % 32);
        let rule = i32::from(header[1] % 8) - 1;
        let inputs = u32::from(header[2] % 16) + 1;
        let devices = crush.max_devices.clamp(0, 1024) as usize;
        let weights: Vec<u32> = (0..devices)
            .map(|i| match (header[3] >> (i % 4 * 2)) & 3 {
                0 => 0x10000,
                1 => 0,
                2 => 0x8000,
                _ => 0x10000 + i as u32,
            })
            .collect();
        let pool = i64::from(header[4] % 4) - 1;
        let mut ws = CrushWorkspace::new();
        let mut out = Vec::new();
        for x in 0..inputs {
            let x = x.wrapping_mul(u32::from_le_bytes([header[5], header[6], header[7], 1]));
            timed("do_rule", || mapper.do_rule(rule, x, result_max, &weights, pool, &mut ws, &mut out));
            assert!(out.len() <= result_max);
        }
    } else {
        let Some((_, bytes)) = osdmap_input(data) else {
            return;
        };
        let Ok(map) = OSDMap::decode_all(&bytes) else {
            return;
        };
        let placer = map.placer();
        let mut raw = Vec::new();
        for (&pool, p) in &map.pools {
            for seed in 0..p.pg_num.min(16) {
                let pg = PgId {
                    pool: pool as u64,
                    seed,
                };
                if let Ok(placement) = timed("pg_to_up_acting", || placer.pg_to_up_acting(pg)) {
                    assert!(placement.up.len() <= usize::from(p.size) || !map.pg_upmap.is_empty());
                }
                let _ = timed("pg_to_raw", || placer.pg_to_raw(pg, &mut raw));
            }
            let _ = map.object_to_pg(pool, "object", "namespace", Some("key"));
        }
    }
});
