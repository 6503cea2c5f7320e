//! Peer isolation against real monitors: an isolated monitor drops out of
//! quorum while the others keep one, clients still reach it, and healing
//! (or dropping the cluster) removes every rule and cgroup.

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ceph_testbed::{Cluster, ClusterSpec};

const BOUND: Duration = Duration::from_secs(60);

/// Polls `check` every 200 ms until it holds or `bound` passes; returns
/// how long it took, or the last value seen.
fn wait_until<T: std::fmt::Debug>(
    bound: Duration,
    mut probe: impl FnMut() -> T,
    check: impl Fn(&T) -> bool,
) -> Result<Duration, T> {
    let start = Instant::now();
    loop {
        let seen = probe();
        if check(&seen) {
            return Ok(start.elapsed());
        }
        if start.elapsed() > bound {
            return Err(seen);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn in_quorum(state: &str) -> bool {
    state == "leader" || state == "peon"
}

/// A fresh TCP connection to the monitor's msgr2 port gets its banner.
fn banner_from(addr: std::net::SocketAddr) -> Result<Vec<u8>, String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut banner = [0u8; 8];
    stream.read_exact(&mut banner).map_err(|e| e.to_string())?;
    Ok(banner.to_vec())
}

fn table_exists(table: &str) -> bool {
    Command::new("nft")
        .args(["list", "table", "inet", table])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Where cgroup v2 is mounted here.
fn cgroup2_mount() -> String {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mountinfo
        .lines()
        .find(|l| l.contains(" - cgroup2 "))
        .and_then(|l| l.split_whitespace().nth(4))
        .expect("cgroup2 is mounted")
        .to_string()
}

/// The cgroup v2 directories this process made for its clusters.
fn our_cgroups() -> Vec<String> {
    let prefix = format!("monc-testbed-{}-", std::process::id());
    let mount = cgroup2_mount();
    std::fs::read_dir(Path::new(&mount))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

#[test]
fn isolated_monitor_leaves_quorum_but_clients_still_reach_it() {
    let cluster = Cluster::start(ClusterSpec::with_mons(3).peer_isolation(true)).unwrap();
    let table = cluster.isolation_table().expect("isolation enabled");
    assert!(!table_exists(&table), "no table before a cut");
    let victim = "c";
    let addr = cluster.mon(victim).unwrap().v2_addr;
    let cut = Instant::now();
    cluster.isolate_from_peers(victim).unwrap();
    assert!(table_exists(&table));
    assert_eq!(cluster.isolated(), [victim]);

    let others = wait_until(
        BOUND,
        || (cluster.mon_view("a"), cluster.mon_view("b")),
        |((sa, qa), (sb, qb))| {
            let without = |q: &Vec<String>| q.len() == 2 && !q.iter().any(|n| n == victim);
            in_quorum(sa) && in_quorum(sb) && without(qa) && without(qb)
        },
    )
    .unwrap_or_else(|seen| panic!("a and b never formed a quorum without {victim}: {seen:?}"));
    let others = others.max(cut.elapsed());
    let out = wait_until(
        BOUND,
        || cluster.mon_view(victim),
        |(state, _)| !in_quorum(state),
    )
    .unwrap_or_else(|seen| panic!("mon.{victim} stayed in quorum: {seen:?}"));
    let out = out.max(cut.elapsed());
    eprintln!(
        "isolated mon.{victim}: seen from the cut, a+b in quorum without it by {others:.2?}, \
         it out of quorum (own view) by {out:.2?}"
    );
    // It stays out while cut off (elections it calls reach nobody).
    std::thread::sleep(Duration::from_secs(5));
    let (state, _) = cluster.mon_view(victim);
    assert!(!in_quorum(&state), "mon.{victim} is {state} while cut off");
    // A client process still gets through to it, and it answers.
    assert_eq!(banner_from(addr).unwrap(), b"ceph v2\n");
    // The CLI, which can reach a and b, sees the quorum without it.
    assert_eq!(cluster.quorum_names().unwrap(), ["a", "b"]);

    let healed = Instant::now();
    cluster.heal(victim).unwrap();
    assert!(
        !table_exists(&table),
        "healing the last one deletes the table"
    );
    assert!(cluster.isolated().is_empty());
    cluster
        .wait_for_quorum(&["a", "b", "c"], BOUND)
        .expect("full quorum after healing");
    eprintln!("healed: full quorum after {:.2?}", healed.elapsed());
    assert!(cut.elapsed() < BOUND * 3);

    // Dropping a cluster with a monitor cut off removes the rules and the
    // cgroups.
    cluster.isolate_from_peers("a").unwrap();
    assert!(table_exists(&table));
    // The cluster's group is named like its table.
    let group = table.replace('_', "-");
    assert!(
        our_cgroups().contains(&group),
        "{group} in {:?}",
        our_cgroups()
    );
    drop(cluster);
    assert!(!table_exists(&table), "drop deletes the table");
    assert!(!our_cgroups().contains(&group), "drop removes the cgroups");
}

/// Leftovers of a test process killed before its cleanup (a dead pid in
/// the names) are removed when the next isolating cluster starts.
#[test]
fn leftovers_of_dead_processes_are_swept() {
    let mount = cgroup2_mount();
    // A pid above the kernel's limit can never be alive.
    let dead = 4_194_304 + 1;
    let group = Path::new(&mount).join(format!("monc-testbed-{dead}-0badcafe"));
    std::fs::create_dir_all(group.join("mon-a")).unwrap();
    let table = format!("monc_testbed_{dead}_0badcafe");
    let made = Command::new("nft")
        .args(["add", "table", "inet", &table])
        .status()
        .unwrap();
    assert!(made.success());
    let cluster = Cluster::start(ClusterSpec::with_mons(1).peer_isolation(true)).unwrap();
    assert!(!group.exists(), "stale cgroup removed");
    assert!(!table_exists(&table), "stale table removed");
    drop(cluster);
}

#[test]
fn isolation_must_be_asked_for() {
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    assert!(cluster.isolation_table().is_none());
    let err = cluster.isolate_from_peers("a").unwrap_err();
    assert!(err.to_string().contains("peer_isolation"), "{err}");
}
