//! The short keepalive defaults (ping every 1 s, dead after 2.5 s of
//! silence) must not make a busy machine look like a dead monitor: with
//! every CPU spun by busy threads for `SOAK_SECS` (default 600), one client
//! runs commands against real monitors and must never reconnect.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ceph_monclient::{MonClient, MonClientOptions, SessionConfig};
use ceph_testbed::{Cluster, ClusterSpec};

fn soak_duration() -> Duration {
    // A value that does not parse fails the test rather than silently
    // running the 10-minute default.
    let secs = std::env::var("SOAK_SECS").ok().map_or(600, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("SOAK_SECS={v:?} is not a number of seconds"))
    });
    Duration::from_secs(secs)
}

/// Spins `n` threads until `stop` is set.
fn burn_cpus(n: usize, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<u64>> {
    (0..n)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x: u64 = 1;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..10_000 {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                    }
                }
                x
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_spurious_reconnect_under_cpu_load() {
    let cluster = Cluster::start(ClusterSpec::with_mons(3)).unwrap();
    let keyring = ceph_auth::Keyring::load(cluster.admin_keyring_path()).unwrap();
    let name: ceph_types::EntityName = "client.admin".parse().unwrap();
    let key = keyring.get(&name).unwrap().clone();
    let mons = ceph_config::parse_mon_host(cluster.mon_host()).unwrap();
    let mut opts = MonClientOptions::new(name, key, mons);
    // The library's defaults, which this test exists to justify.
    opts.session = SessionConfig::default();
    let client = MonClient::connect(opts).await.unwrap();
    assert_eq!(client.status().sessions, 1);

    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let stop = Arc::new(AtomicBool::new(false));
    let burners = burn_cpus(cores * 2, stop.clone());

    let duration = soak_duration();
    let started = Instant::now();
    let (mut ok, mut failed, mut slowest) = (0u64, 0u64, Duration::ZERO);
    while started.elapsed() < duration {
        let t = Instant::now();
        let reply = client
            .command_with_timeout(
                r#"{"prefix": "mon dump", "format": "json"}"#,
                vec![],
                Some(Duration::from_secs(30)),
            )
            .await;
        slowest = slowest.max(t.elapsed());
        match reply {
            Ok(r) if r.retval == 0 => ok += 1,
            _ => failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for b in burners {
        b.join().unwrap();
    }
    let status = client.status();
    eprintln!(
        "soak {:?} with {} busy threads ({} monitors): {ok} commands ok, {failed} failed, slowest {slowest:?}, sessions {}",
        duration,
        cores * 2,
        cluster.runtime().release(),
        status.sessions
    );
    assert_eq!(status.sessions, 1, "the client reconnected under load");
    assert_eq!(failed, 0);
    assert!(ok > 0);
    client.shutdown().await;
}
