//! Managers and memstore OSDs beside the monitors: a whole small cluster
//! reaches active+clean, a standby manager takes over, an OSD comes back.

use std::time::Duration;

use ceph_testbed::{Cluster, ClusterSpec, Error};

const READY: Duration = Duration::from_secs(120);

fn status(cluster: &Cluster) -> serde_json::Value {
    let out = cluster.ceph(&["status", "-f", "json"]).unwrap();
    assert!(out.success(), "ceph status: {}", out.stderr);
    out.json().unwrap()
}

#[test]
fn managers_and_osds_make_a_working_cluster() {
    let cluster = Cluster::start(ClusterSpec::with_mons(1).mgrs(2).osds(3)).unwrap();
    assert_eq!(cluster.mgr_ids(), ["x", "y"]);
    assert_eq!(cluster.osd_ids(), [0, 1, 2]);

    // Every OSD up and in, each under its own host; a pool goes clean.
    let status = status(&cluster);
    assert_eq!(status["osdmap"]["num_up_osds"], 3, "{status:#}");
    assert_eq!(status["osdmap"]["num_in_osds"], 3, "{status:#}");
    let tree = cluster.ceph(&["osd", "tree", "-f", "json"]).unwrap();
    let tree = tree.json().unwrap();
    let hosts: Vec<&str> = tree["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "host")
        .filter_map(|n| n["name"].as_str())
        .collect();
    assert_eq!(hosts.len(), 3, "{tree:#}");
    cluster.create_pool("testbed-pool", 8, READY).unwrap();
    let put = cluster
        .ceph(&["osd", "map", "testbed-pool", "some-object", "-f", "json"])
        .unwrap();
    let map = put.json().unwrap();
    assert_eq!(map["acting"].as_array().map(Vec::len), Some(3), "{map:#}");

    // Admin sockets answer for each kind of daemon.
    for entity in ["osd.0", "mgr.x"] {
        let socket = cluster.daemon_admin_socket(entity);
        assert!(socket.exists(), "{}", socket.display());
    }
    assert_eq!(
        cluster.daemon_admin_socket("a"),
        cluster.admin_socket_path("a")
    );

    // The active manager killed: the standby takes over.
    let active = cluster.wait_for_mgr(READY).unwrap();
    let first = format!("mgr.{active}");
    let first_pid = cluster.daemon_pid(&first).unwrap().unwrap();
    cluster.kill(&first).unwrap();
    assert_eq!(cluster.daemon_pid(&first).unwrap(), None);
    assert!(!cluster.pids().contains(&first_pid));
    let deadline = std::time::Instant::now() + READY;
    let mut restarted = false;
    let taken_over = loop {
        let now = match cluster.wait_for_mgr(READY) {
            Ok(now) => now,
            // Pacific's ceph-mgr now and then aborts as it takes over, in
            // CryptoKey::decrypt (`ceph_assert(ckh)`) under
            // cephx_verify_authorizer, while OSDs and `ceph` connect: a
            // crash inside Ceph, seen once in many runs. The crashed
            // manager is started again, as systemd would, once.
            Err(Error::DaemonExited { name, status, logs })
                if !restarted
                    && status.contains("SIGABRT")
                    && logs.contains("cephx_verify_authorizer") =>
            {
                eprintln!("{name} crashed inside Ceph ({status}); starting it again:\n{logs}");
                cluster.start_daemon(&name).unwrap();
                restarted = true;
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        if now != active {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "no failover");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_ne!(taken_over, active);
    cluster.start_daemon(&first).unwrap();

    // An OSD restarted comes back up and the pool is clean again.
    let before = cluster.daemon_pid("osd.1").unwrap().unwrap();
    cluster.restart("osd.1").unwrap();
    let after = cluster.daemon_pid("osd.1").unwrap().unwrap();
    assert_ne!(before, after);
    cluster.wait_for_osds_up(3, READY).unwrap();
    cluster.wait_for_clean(READY).unwrap();

    // Unknown names are refused, not ignored.
    assert!(cluster.kill("osd.9").is_err());
    assert!(cluster.start_daemon("mds.a").is_err());
}
