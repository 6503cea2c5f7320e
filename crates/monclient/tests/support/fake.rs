//! Shared by the tests against in-process fake monitors (`ceph-fakemon`):
//! starting them, client options for them, and a `mon dump` round trip.
//! Included with `#[path = "support/fake.rs"] mod fake;`, apart from
//! `support/mod.rs`, which drives real clusters.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::time::Duration;

use ceph_auth::CryptoKey;
use ceph_fakemon::{FakeCluster, FakeMonConfig};
use ceph_monclient::{MonClient, MonClientOptions, MonError, SessionConfig};

/// `n` fake monitors that know only client.admin, with `key`.
pub async fn admin_cluster(n: usize, key: &CryptoKey) -> FakeCluster {
    FakeCluster::start(
        n,
        FakeMonConfig::new("client.admin".parse().unwrap(), key.clone()),
    )
    .await
}

/// Options for `entity` with `key` against `cluster`: `attempt` for each
/// connection attempt, `connect` for the whole connect, and the hunting
/// order fixed by `seed`.
pub fn options(
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
    SessionConfig {
        hunt_interval: Duration::from_millis(200),
        ping_interval,
        ping_timeout,
        hostname: hostname.into(),
        ..SessionConfig::default()
    }
}

/// `mon dump` with a deadline of `timeout`; its retval.
pub async fn mon_dump(client: &MonClient, timeout: Duration) -> Result<i32, MonError> {
    client
        .command_with_timeout(
            r#"{"prefix": "mon dump", "format": "json"}"#,
            vec![],
            Some(timeout),
        )
        .await
        .map(|r| r.retval)
}
