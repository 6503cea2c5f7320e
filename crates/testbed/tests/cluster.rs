//! Integration tests: real ceph-mon clusters on this host.

use std::path::Path;
use std::time::Duration;

use ceph_testbed::{Cluster, ClusterSpec};

const QUORUM_TIMEOUT: Duration = Duration::from_secs(90);

/// Whether a process with this pid exists and is not a zombie.
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the ")" closing the command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The process state letter from /proc (R, S, T, ...).
fn process_state(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().next().map(str::to_string)
}

#[test]
fn one_mon_reaches_quorum_and_answers_the_cli() {
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    let mons = cluster.mons();
    assert_eq!(mons.len(), 1);
    assert_eq!(mons[0].name, "a");
    assert_eq!(mons[0].rank, 0);
    assert!(mons[0].pid.is_some());
    assert_eq!(
        cluster.mon_host(),
        format!("[v2:{},v1:{}]", mons[0].v2_addr, mons[0].v1_addr)
    );
    assert_eq!(cluster.quorum_names().unwrap(), ["a"]);

    let dump = cluster.ceph(&["mon", "dump", "-f", "json"]).unwrap();
    assert!(dump.success(), "mon dump failed: {}", dump.stderr);
    let dump = dump.json().unwrap();
    assert_eq!(dump["fsid"], cluster.fsid());
    let addrs = &dump["mons"][0]["public_addrs"]["addrvec"];
    assert_eq!(addrs[0]["type"], "v2");
    assert_eq!(addrs[0]["addr"], mons[0].v2_addr.to_string());
    assert_eq!(addrs[1]["type"], "v1");
    assert_eq!(addrs[1]["addr"], mons[0].v1_addr.to_string());

    let conf = std::fs::read_to_string(cluster.conf_path()).unwrap();
    assert!(conf.contains(&format!("mon_host = {}", cluster.mon_host())));
    let keyring = std::fs::read_to_string(cluster.admin_keyring_path()).unwrap();
    assert!(keyring.contains("[client.admin]"));
}

#[test]
fn bad_command_reports_failure() {
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    let out = cluster.ceph(&["no-such-command"]).unwrap();
    assert!(!out.success());
}

#[test]
fn three_mons_reach_quorum_with_ranks_in_name_order() {
    let cluster = Cluster::start(ClusterSpec::with_mons(3)).unwrap();
    let mut quorum = cluster.quorum_names().unwrap();
    quorum.sort();
    assert_eq!(quorum, ["a", "b", "c"]);
    let mons = cluster.mons();
    let names: Vec<&str> = mons.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let ranks: Vec<u32> = mons.iter().map(|m| m.rank).collect();
    assert_eq!(ranks, [0, 1, 2]);
    assert_eq!(cluster.mon_host().matches("[v2:127.0.0.1:").count(), 3);
}

#[test]
fn killed_mon_restarts_and_rejoins_quorum() {
    let cluster = Cluster::start(ClusterSpec::with_mons(3)).unwrap();
    let old_pid = cluster.mon("b").unwrap().pid.unwrap();

    cluster.kill("b").unwrap();
    assert!(!cluster.is_running("b").unwrap());
    assert!(
        !process_alive(old_pid),
        "killed mon.b (pid {old_pid}) still alive"
    );
    assert_eq!(cluster.mon("b").unwrap().pid, None);
    // The two survivors re-form a quorum without b.
    cluster
        .wait_for_exact_quorum(&["a", "c"], QUORUM_TIMEOUT)
        .unwrap();
    assert!(!cluster.quorum_names().unwrap().contains(&"b".to_string()));

    cluster.start_mon("b").unwrap();
    assert!(cluster.is_running("b").unwrap());
    assert_ne!(cluster.mon("b").unwrap().pid, Some(old_pid));
    cluster
        .wait_for_quorum(&["a", "b", "c"], QUORUM_TIMEOUT)
        .unwrap();
    assert!(cluster.start_mon("b").is_err(), "double start must fail");
}

#[test]
fn restart_keeps_data_and_ports() {
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    let before = cluster.mon("a").unwrap();
    cluster.restart("a").unwrap();
    let after = cluster.mon("a").unwrap();
    assert_ne!(before.pid, after.pid);
    assert_eq!(before.v2_addr, after.v2_addr);
    cluster.wait_for_quorum(&["a"], QUORUM_TIMEOUT).unwrap();
    let dump = cluster
        .ceph(&["mon", "dump", "-f", "json"])
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(dump["fsid"], cluster.fsid());
}

#[test]
fn stopped_mon_is_frozen_until_continued() {
    let cluster = Cluster::start(ClusterSpec::with_mons(3)).unwrap();
    let pid = cluster.mon("c").unwrap().pid.unwrap();

    cluster.stop("c").unwrap();
    assert_eq!(process_state(pid).as_deref(), Some("T"));
    assert!(
        cluster.is_running("c").unwrap(),
        "a stopped mon still exists"
    );
    // The others notice the frozen peer and form a quorum without it.
    cluster
        .wait_for_exact_quorum(&["a", "b"], QUORUM_TIMEOUT)
        .unwrap();

    cluster.cont("c").unwrap();
    assert_ne!(process_state(pid).as_deref(), Some("T"));
    cluster
        .wait_for_quorum(&["a", "b", "c"], QUORUM_TIMEOUT)
        .unwrap();
    assert_eq!(cluster.mon("c").unwrap().pid, Some(pid));
}

#[test]
fn drop_removes_dir_and_kills_every_mon() {
    let cluster = Cluster::start(ClusterSpec::with_mons(3)).unwrap();
    let dir = cluster.dir().to_path_buf();
    let pids = cluster.pids();
    assert_eq!(pids.len(), 3);
    assert!(pids.iter().all(|&pid| process_alive(pid)));
    // A frozen mon must be cleaned up too.
    cluster.stop("a").unwrap();
    assert!(dir.join("ceph.conf").exists());

    drop(cluster);
    assert!(!Path::new(&dir).exists(), "{} survived drop", dir.display());
    for pid in pids {
        assert!(!process_alive(pid), "mon pid {pid} survived drop");
    }
}

#[test]
fn extra_options_reach_the_config() {
    let spec = ClusterSpec::with_mons(1)
        .global("mon_max_pg_per_osd", "123")
        .mon("mon_osd_full_ratio", "0.9");
    let cluster = Cluster::start(spec).unwrap();
    let conf = std::fs::read_to_string(cluster.conf_path()).unwrap();
    assert!(conf.contains("mon_max_pg_per_osd = 123"));
    // The running monitor really uses the [global] option.
    let out = cluster
        .mon_daemon("a", &["config", "get", "mon_max_pg_per_osd"])
        .unwrap();
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(out.json().unwrap()["mon_max_pg_per_osd"], "123");
    let out = cluster
        .mon_daemon("a", &["config", "get", "mon_osd_full_ratio"])
        .unwrap();
    assert_eq!(out.json().unwrap()["mon_osd_full_ratio"], "0.900000");
}

#[test]
fn mon_that_cannot_bind_exits_with_its_log_tail() {
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    let mon = cluster.mon("a").unwrap();
    cluster.kill("a").unwrap();
    // Someone else grabs the port while the mon is down.
    let _squatter = std::net::TcpListener::bind(mon.v2_addr).unwrap();
    cluster.start_mon("a").unwrap();
    let err = cluster.wait_for_quorum(&["a"], QUORUM_TIMEOUT).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, ceph_testbed::Error::MonExited { .. }),
        "unexpected error: {text}"
    );
    // start() relies on this phrase to retry with new ports.
    assert!(text.contains("unable to bind"), "{text}");
}

#[test]
fn clusters_started_in_parallel_get_distinct_ports() {
    let handles: Vec<_> = (0..3)
        .map(|_| std::thread::spawn(|| Cluster::start(ClusterSpec::with_mons(1)).unwrap()))
        .collect();
    let clusters: Vec<Cluster> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut ports = std::collections::HashSet::new();
    for cluster in &clusters {
        assert_eq!(cluster.quorum_names().unwrap(), ["a"]);
        let mon = cluster.mon("a").unwrap();
        assert!(ports.insert(mon.v2_addr.port()));
        assert!(ports.insert(mon.v1_addr.port()));
        assert!((20000..32000).contains(&mon.v2_addr.port()));
    }
    let fsids: std::collections::HashSet<&str> = clusters.iter().map(|c| c.fsid()).collect();
    assert_eq!(fsids.len(), 3);
}

#[test]
fn mons_run_the_requested_release() {
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    let runtime = cluster.runtime();
    let out = runtime
        .command("ceph-mon")
        .arg("--version")
        .output()
        .unwrap();
    let tool_version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let codename = ceph_testbed::release_from_version(&tool_version).unwrap();
    if runtime.release() != "host" {
        assert_eq!(codename, runtime.release(), "{tool_version}");
    }
    // The running monitor reports the same build as the tool.
    let versions = cluster.ceph(&["versions", "-f", "json"]).unwrap();
    assert!(versions.success(), "{}", versions.stderr);
    let versions = versions.json().unwrap();
    let mon_versions = versions["mon"].as_object().unwrap();
    assert_eq!(mon_versions.len(), 1, "{versions}");
    let (running, count) = mon_versions.iter().next().unwrap();
    assert_eq!(running, &tool_version);
    assert_eq!(count, 1);
}
