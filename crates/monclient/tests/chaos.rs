//! Chaos run: three real monitors are killed, frozen, continued, restarted
//! and started at random every 2–5 s (never more than one down or frozen at
//! a time) while four command streams share one client. At the end every
//! command must have finished (none lost or hung) and the client must be
//! active on a live monitor; the counts and the longest stall are printed.
//!
//! `CHAOS_SECS` (`CHAOS_V1_SECS` for the msgr1 variant) sets the duration
//! (default 300), `CHAOS_SEED` the seed
//! (default random; it is printed so a run can be repeated). Built twice:
//! `chaos` over msgr2, `chaos_v1` against monitors that speak only msgr1.

mod support;

use std::time::{Duration, Instant};

use ceph_testbed::Cluster;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::{admin_options, Harness};

const ALL: [&str; 3] = ["a", "b", "c"];

/// How the one impaired monitor is impaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Impairment {
    Killed,
    Stopped,
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
    )
}

#[test]
fn chaos_with_four_command_streams_over_one_client() {
    // The msgr1 variant has its own length, so CI can shorten it more.
    let length_var = if support::msgr1() {
        "CHAOS_V1_SECS"
    } else {
        "CHAOS_SECS"
    };
    let duration = Duration::from_secs(env_u64(length_var).unwrap_or(300));
    let seed = env_u64("CHAOS_SEED").unwrap_or_else(rand::random);
    eprintln!("[chaos] seed {seed} (CHAOS_SEED={seed} repeats this run), {duration:?}");
    let mut rng = StdRng::seed_from_u64(seed);

    let cluster = Cluster::start(support::spec(3)).expect("3-monitor cluster starts");
    let mut h = Harness::connect(admin_options(&cluster, cluster.mon_host(), seed));
    h.start_streams(4);

    let start = Instant::now();
    let end = start + duration;
    let mut impaired: Option<(&str, Impairment)> = None;
    let mut faults: std::collections::BTreeMap<&str, usize> = Default::default();
    loop {
        let pause = Duration::from_millis(rng.gen_range(2000..=5000));
        let now = Instant::now();
        if now + pause >= end {
            std::thread::sleep(end.saturating_duration_since(now));
            break;
        }
        std::thread::sleep(pause);
        let (action, name) = match impaired {
            // Heal the impaired monitor, or restart it (which heals it too).
            Some((name, how)) => {
                let heal = if how == Impairment::Killed {
                    "start"
                } else {
                    "cont"
                };
                (if rng.gen_bool(0.75) { heal } else { "restart" }, name)
            }
            None => {
                let name = ALL[rng.gen_range(0..ALL.len())];
                (["kill", "stop", "restart"][rng.gen_range(0..3)], name)
            }
        };
        match action {
            "kill" => {
                cluster.kill(name).unwrap();
                impaired = Some((name, Impairment::Killed));
            }
            "stop" => {
                cluster.stop(name).unwrap();
                impaired = Some((name, Impairment::Stopped));
            }
            "cont" => {
                cluster.cont(name).unwrap();
                impaired = None;
            }
            "start" => {
                cluster.start_mon(name).unwrap();
                impaired = None;
            }
            _ => {
                cluster.restart(name).unwrap();
                impaired = None;
            }
        }
        *faults.entry(action).or_default() += 1;
        eprintln!(
            "[chaos] +{:.1}s {action} mon.{name} (client: {:?})",
            start.elapsed().as_secs_f64(),
            h.client.status().state
        );
    }
    match impaired {
        Some((name, Impairment::Killed)) => cluster.start_mon(name).unwrap(),
        Some((name, Impairment::Stopped)) => cluster.cont(name).unwrap(),
        None => {}
    }
    cluster
        .wait_for_quorum(&ALL, Duration::from_secs(120))
        .expect("quorum after the chaos");
    h.run_for(Duration::from_secs(2));
    let report = h.finish(&cluster);

    let row = |what: &str, value: String| eprintln!("| {what:<32} | {value:>12} |");
    eprintln!(
        "[chaos] {} monitors, seed {seed}, {:?} of faults: {faults:?}",
        cluster.runtime().release(),
        duration
    );
    eprintln!("| {:<32} | {:>12} |", "what", "value");
    eprintln!("|{:-<34}|{:->14}|", "", "");
    row("commands sent", report.sent.to_string());
    row("answered (retval 0)", report.ok().to_string());
    row("refused by a monitor", report.refused().len().to_string());
    for (kind, n) in report.errors() {
        row(&format!("errored: {kind}"), n.to_string());
    }
    row("hung (> 90 s)", report.hung().to_string());
    row("lost (sent, never completed)", report.lost().to_string());
    row(
        "longest stall (no success)",
        format!("{:.2} s", report.longest_gap().as_secs_f64()),
    );
    row(
        "slowest command",
        format!("{:.2} s", report.slowest().as_secs_f64()),
    );
    row(
        "sessions (client became active)",
        report.sessions.to_string(),
    );
    row("ended on", format!("mon.{}", report.final_mon));
    eprintln!("[chaos] timeline: {}", report.timeline);

    report.assert_all_accounted("chaos");
    report.assert_writes_visible(&cluster);
}
