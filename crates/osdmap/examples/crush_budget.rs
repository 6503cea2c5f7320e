//! Times the worst case the work budget allows: a rule that can never
//! succeed (every device out) with a billion tries over a 1000-item
//! straw2 bucket, and the same over a uniform bucket (permutations).
//! With file arguments (inputs of the `placement` fuzz target that hold a
//! CRUSH map), times their mappings in this release build instead.
use ceph_osdmap::crush::mapper::{CrushMapper, CrushWorkspace};
use ceph_osdmap::crush::{
    bucket_alg, rule_op, BucketWeights, CrushBucket, CrushRule, CrushRuleStep, CrushWrapper,
};

fn cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    s.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Replays a fuzz input the way fuzz_targets/placement.rs reads it.
fn replay(path: &str) {
    use ceph_denc::Decode;
    let data = std::fs::read(path).expect("input");
    if data.len() < 9 || data[0] & 1 != 0 {
        println!("{path}: not a CRUSH-map input");
        return;
    }
    let (header, body) = data[1..].split_at(8);
    let Ok(crush) = CrushWrapper::decode_all(body) else {
        println!("{path}: does not decode");
        return;
    };
    let mapper = CrushMapper::new(&crush);
    let devices = crush.max_devices.clamp(0, 1024) as usize;
    let weights: Vec<u32> = (0..devices)
        .map(|i| match (header[3] >> (i % 4 * 2)) & 3 {
            0 => 0x10000,
            1 => 0,
            2 => 0x8000,
            _ => 0x10000 + i as u32,
        })
        .collect();
    let (mut ws, mut out, mut worst) = (CrushWorkspace::new(), Vec::new(), 0u64);
    for x in 0..u32::from(header[2] % 16) + 1 {
        let x = x.wrapping_mul(u32::from_le_bytes([header[5], header[6], header[7], 1]));
        let c = cpu_ns();
        mapper.do_rule(
            i32::from(header[1] % 8) - 1,
            x,
            usize::from(header[0] % 32),
            &weights,
            i64::from(header[4] % 4) - 1,
            &mut ws,
            &mut out,
        );
        worst = worst.max(cpu_ns() - c);
    }
    println!(
        "{path}: worst mapping {:?} CPU",
        std::time::Duration::from_nanos(worst)
    );
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if !files.is_empty() {
        files.iter().for_each(|f| replay(f));
        return;
    }
    for (alg, weights) in [
        (
            bucket_alg::STRAW2,
            BucketWeights::Straw2 {
                item_weights: (0..1000).map(|i| 0x10000 + i).collect(),
            },
        ),
        (
            bucket_alg::UNIFORM,
            BucketWeights::Uniform {
                item_weight: 0x10000,
            },
        ),
    ] {
        let mut crush = CrushWrapper::default();
        crush.buckets.push(Some(CrushBucket {
            id: -1,
            bucket_type: 1,
            alg,
            hash: 0,
            weight: 0,
            items: (0..1000).collect(),
            weights,
        }));
        crush.rules.push(Some(CrushRule {
            ruleset: 0,
            rule_type: 1,
            min_size: 1,
            max_size: 10,
            steps: vec![
                CrushRuleStep {
                    op: rule_op::SET_CHOOSE_TRIES,
                    arg1: 1_000_000_000,
                    arg2: 0,
                },
                CrushRuleStep {
                    op: rule_op::TAKE,
                    arg1: -1,
                    arg2: 0,
                },
                CrushRuleStep {
                    op: rule_op::CHOOSE_INDEP,
                    arg1: 0,
                    arg2: 0,
                },
                CrushRuleStep {
                    op: rule_op::EMIT,
                    arg1: 0,
                    arg2: 0,
                },
            ],
        }));
        let mapper = CrushMapper::new(&crush);
        let weights = vec![0u32; 1000];
        let mut ws = CrushWorkspace::new();
        let mut out = Vec::new();
        // CPU time of the whole loop (the machine may be shared), per mapping.
        let cpu = || {
            let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let (t, c) = (std::time::Instant::now(), cpu());
        for x in 0..50 {
            mapper.do_rule(0, x, 20, &weights, -1, &mut ws, &mut out);
        }
        let per_cpu = std::time::Duration::from_nanos((cpu() - c) / 50);
        println!(
            "alg {alg}: {per_cpu:?} CPU per mapping ({:?} wall), budget-bound",
            t.elapsed() / 50
        );
    }
}
