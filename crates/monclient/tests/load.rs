//! Load on one session against real monitors: N commands issued at once
//! (LOAD_COMMANDS, default 200,000, the long ring's; CI runs 50,000) are
//! all answered, none fails, and the session is never lost or moved — a
//! busy monitor is not a dead one.

#[path = "support/setup.rs"]
mod setup;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ceph_monclient::{MonClient, SessionState};
use ceph_testbed::{Cluster, ClusterSpec};

/// Small and read-only, answered by any monitor in quorum.
const COMMAND: &str = r#"{"prefix": "mon stat"}"#;

fn commands_from_env() -> usize {
    match std::env::var("LOAD_COMMANDS") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("LOAD_COMMANDS={v:?} is not a count")),
        Err(_) => 200_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_on_one_session_are_all_answered_without_losing_it() {
    let count = commands_from_env();
    let cluster = Cluster::start(ClusterSpec::with_mons(3)).unwrap();
    let client = MonClient::connect(setup::real_admin_options(&cluster))
        .await
        .unwrap();
    let mon_before = client.status().state;
    let sessions_before = client.status().sessions;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let client = client.clone();
        tasks.spawn(async move { client.command(COMMAND, Vec::new()).await });
    }
    let mut answered = 0usize;
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let all = async {
        while let Some(joined) = tasks.join_next().await {
            match joined.expect("command task") {
                Ok(reply) if reply.retval == 0 => answered += 1,
                Ok(reply) => {
                    *failures
                        .entry(format!("retval {}", reply.retval))
                        .or_default() += 1
                }
                Err(e) => *failures.entry(e.to_string()).or_default() += 1,
            }
        }
    };
    // Generous: a debug build on a loaded 2-core machine; the point is that
    // it finishes, not how fast (the bench measures that).
    tokio::time::timeout(Duration::from_secs(600), all)
        .await
        .expect("the load did not finish in 10 minutes");
    let elapsed = started.elapsed();
    let status = client.status();
    eprintln!(
        "{} ({}), on {:?}: {count} commands, {answered} answered in {:.1} s ({:.0}/s), sessions {} -> {}",
        cluster.runtime().release(),
        cluster.mon_host(),
        mon_before,
        elapsed.as_secs_f64(),
        answered as f64 / elapsed.as_secs_f64(),
        sessions_before,
        status.sessions
    );
    assert!(failures.is_empty(), "failed: {failures:?}");
    assert_eq!(answered, count);
    assert_eq!(
        status.sessions, sessions_before,
        "the session was lost or moved under load"
    );
    assert!(matches!(status.state, SessionState::Active { .. }));
    assert_eq!(status.state, mon_before, "moved to another monitor");
    client.shutdown().await;
}
