//! Client setup shared by the test files that do not use the harness of
//! `support/mod.rs`: fake monitors (`ceph-fakemon`) and options for them,
//! client.admin options for a testbed cluster, and a `mon dump` round trip.
//! Included with `#[path = "support/setup.rs"] mod setup;`.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::time::Duration;

use ceph_auth::{CryptoKey, Keyring};
use ceph_fakemon::{FakeCluster, FakeMonConfig};
use ceph_monclient::{CommandReply, MonClient, MonClientOptions, MonError, SessionConfig};
use ceph_testbed::Cluster;

/// `n` fake monitors that know only client.admin, with `key`.
pub async fn fake_admin_cluster(n: usize, key: &CryptoKey) -> FakeCluster {
    FakeCluster::start(
        n,
        FakeMonConfig::new("client.admin".parse().unwrap(), key.clone()),
    )
    .await
}

/// Options for `entity` with `key` against fake `cluster`: `attempt` for
/// each connection attempt, `connect` for the whole connect, and the
/// hunting order fixed by `seed`.
pub fn fake_options(
    cluster: &FakeCluster,
    entity: &str,
    key: &CryptoKey,
    attempt: Duration,
    connect: Duration,
    seed: u64,
) -> MonClientOptions {
    let mut opts = MonClientOptions::new(entity.parse().unwrap(), key.clone(), cluster.mon_addrs());
    opts.attempt_timeout = attempt;
    opts.connect_timeout = connect;
    opts.seed = Some(seed);
    opts
}

/// Session settings hunting every 200 ms, with the given keepalive pings
/// and `hostname`.
pub fn session(hostname: &str, ping_interval: Duration, ping_timeout: Duration) -> SessionConfig {
    let mut s = SessionConfig::default();
    s.hunt_interval = Duration::from_millis(200);
    s.ping_interval = ping_interval;
    s.ping_timeout = ping_timeout;
    s.hostname = hostname.into();
    s
}

/// client.admin's key from the testbed `cluster`'s keyring.
pub fn admin_key(cluster: &Cluster) -> CryptoKey {
    let keyring = Keyring::load(cluster.admin_keyring_path()).unwrap();
    keyring
        .get(&"client.admin".parse().unwrap())
        .unwrap()
        .clone()
}

/// Options for `entity` with `key` against the testbed `cluster`'s
/// `mon_host`, with 60 s to connect (real monitors on a loaded machine).
pub fn real_options(cluster: &Cluster, entity: &str, key: CryptoKey) -> MonClientOptions {
    let mons = ceph_config::parse_mon_host(cluster.mon_host()).unwrap();
    let mut opts = MonClientOptions::new(entity.parse().unwrap(), key, mons);
    opts.connect_timeout = Duration::from_secs(60);
    opts
}

/// [`real_options`] for client.admin.
pub fn real_admin_options(cluster: &Cluster) -> MonClientOptions {
    real_options(cluster, "client.admin", admin_key(cluster))
}

/// [`mon_dump`]'s retval; panics if the command itself fails.
pub async fn mon_dump_retval(client: &MonClient, timeout: Duration) -> i32 {
    mon_dump(client, timeout).await.expect("mon dump").retval
}

/// `mon dump` in JSON with a deadline of `timeout`.
pub async fn mon_dump(client: &MonClient, timeout: Duration) -> Result<CommandReply, MonError> {
    client
        .command_with_timeout(
            r#"{"prefix": "mon dump", "format": "json"}"#,
            vec![],
            Some(timeout),
        )
        .await
}
