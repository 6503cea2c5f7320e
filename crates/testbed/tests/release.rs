//! `CEPH_RELEASE` selects the runtime. A separate test binary with a single
//! test, because it changes process-wide environment variables.

use ceph_testbed::{CephRuntime, Cluster, ClusterSpec, Error};

#[test]
fn release_selection_from_the_environment() {
    std::env::set_var("CEPH_RELEASE", "no-such-release");
    let err = Cluster::start(ClusterSpec::with_mons(1)).unwrap_err();
    assert!(matches!(err, Error::UnsupportedRelease(_)), "{err}");
    assert!(err.to_string().contains("reef"), "{err}");

    // A chroot release that was never prepared: a clear error naming the script.
    let empty = tempfile::tempdir().unwrap();
    std::env::set_var("CEPH_RELEASES_DIR", empty.path());
    std::env::set_var("CEPH_RELEASE", "Tentacle");
    let err = Cluster::start(ClusterSpec::with_mons(1)).unwrap_err();
    assert!(
        matches!(&err, Error::ReleaseNotPrepared { release, dir }
            if release == "tentacle" && dir == &empty.path().join("tentacle")),
        "{err}"
    );
    assert!(
        err.to_string().contains("scripts/ceph-release.sh tentacle"),
        "{err}"
    );
    std::env::remove_var("CEPH_RELEASES_DIR");

    let host = ceph_testbed::host_release().expect("ceph-mon --version");
    std::env::set_var("CEPH_RELEASE", &host);
    let runtime = CephRuntime::from_env().unwrap();
    assert_eq!(runtime.release(), host);
    assert!(runtime.chroot_dir().is_none());
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    assert_eq!(cluster.runtime().release(), host);
    assert_eq!(cluster.quorum_names().unwrap(), ["a"]);

    std::env::set_var("CEPH_RELEASE", "host");
    assert_eq!(CephRuntime::from_env().unwrap().release(), "host");
}
