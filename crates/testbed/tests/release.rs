//! `CEPH_RELEASE` selects the runtime. A separate test binary, because it
//! sets a process-wide environment variable.

use ceph_testbed::{CephRuntime, Cluster, ClusterSpec, Error};

#[test]
fn only_the_host_release_is_accepted_for_now() {
    std::env::set_var("CEPH_RELEASE", "no-such-release");
    let err = Cluster::start(ClusterSpec::with_mons(1)).unwrap_err();
    assert!(matches!(err, Error::UnsupportedRelease(_)), "{err}");

    let host = ceph_testbed::host_release().expect("ceph-mon --version");
    std::env::set_var("CEPH_RELEASE", &host);
    assert_eq!(CephRuntime::from_env().unwrap().release(), host);
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    assert_eq!(cluster.runtime().release(), host);
    assert_eq!(cluster.quorum_names().unwrap(), ["a"]);

    std::env::set_var("CEPH_RELEASE", "host");
    assert_eq!(CephRuntime::from_env().unwrap().release(), "host");
}
