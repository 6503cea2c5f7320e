//! `TESTBED_KEEP=1` keeps the state directory. A separate test binary,
//! because it sets a process-wide environment variable.

use ceph_testbed::{Cluster, ClusterSpec};

#[test]
fn keep_env_var_keeps_the_directory_but_not_the_mons() {
    std::env::set_var("TESTBED_KEEP", "1");
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    let dir = cluster.dir().to_path_buf();
    let pids = cluster.pids();
    drop(cluster);
    let kept = dir.join("ceph.conf").exists();
    let log_kept = dir.join("log").join("ceph-mon.a.log").exists();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(kept, "{} was removed despite TESTBED_KEEP=1", dir.display());
    assert!(log_kept, "monitor log missing from the kept directory");
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "mon pid {pid} survived drop"
        );
    }
}
