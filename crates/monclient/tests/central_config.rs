//! The monitors' central configuration (`ceph config set client ...`)
//! applied over the local ceph.conf, against real monitors: fetched before
//! `connect` returns, ranked below the conf file and the command line,
//! followed as it changes, and acted on (a central `rados_mon_op_timeout`
//! ends a command that cannot be served).

use std::path::Path;
use std::time::{Duration, Instant};

use ceph_auth::Keyring;
use ceph_config::{ClientConfig, ConfigSources, OptionSource};
use ceph_monclient::{MonClient, MonClientOptions, MonError, SessionState};
use ceph_testbed::{Cluster, ClusterSpec};

fn ceph_ok(cluster: &Cluster, args: &[&str]) {
    let out = cluster.ceph(args).unwrap();
    assert!(out.success(), "ceph {args:?}: {out:?}");
}

/// A client conf of our own: the cluster's, plus an option set in the file.
fn write_conf(cluster: &Cluster, dir: &Path) -> String {
    let conf = cluster.write_client_files(dir).unwrap();
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("[client.admin]\nmon client hunt interval = 4\n");
    std::fs::write(&conf, text).unwrap();
    conf.display().to_string()
}

fn options(conf: &str, overrides: &[(&str, &str)]) -> MonClientOptions {
    let cfg = ClientConfig::load(ConfigSources {
        conf_path: Some(conf.to_string()),
        overrides: overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ConfigSources::default()
    })
    .unwrap();
    let keyring = Keyring::load(cfg.keyring_path.as_ref().unwrap()).unwrap();
    let key = keyring.get(&cfg.name).unwrap().clone();
    let mut opts = MonClientOptions::from_config(&cfg, key);
    opts.connect_timeout = Duration::from_secs(60);
    opts
}

/// Waits until the client's effective configuration satisfies `pred`.
async fn wait_config(client: &MonClient, what: &str, pred: impl Fn(&ClientConfig) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let cfg = client.config().expect("started from a configuration");
        if pred(&cfg) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "central config: {what} not seen in 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_config_applies_under_local_config() {
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conf = write_conf(&cluster, dir.path());
    ceph_ok(
        &cluster,
        &["config", "set", "client", "rados_mon_op_timeout", "3"],
    );
    ceph_ok(
        &cluster,
        &["config", "set", "client", "mon_client_hunt_interval", "9"],
    );
    ceph_ok(
        &cluster,
        &[
            "config",
            "set",
            "client.admin",
            "mon_client_log_interval",
            "0.5",
        ],
    );
    ceph_ok(
        &cluster,
        &[
            "config",
            "set",
            "client.other",
            "client_mount_timeout",
            "77",
        ],
    );

    let client = MonClient::connect(options(&conf, &[])).await.unwrap();
    // Applied before connect returned, as C++ clients do.
    let status = client.status();
    assert!(status.config_received);
    assert_eq!(
        status
            .config
            .get("rados_mon_op_timeout")
            .map(String::as_str),
        Some("3")
    );
    let cfg = client.config().unwrap();
    assert_eq!(cfg.rados_mon_op_timeout, Duration::from_secs(3));
    assert_eq!(cfg.source("rados_mon_op_timeout"), Some(OptionSource::Mon));
    assert_eq!(cfg.mon_client_log_interval, Duration::from_millis(500));
    // The conf file outranks the monitors.
    assert_eq!(cfg.mon_client_hunt_interval, Duration::from_secs(4));
    assert_eq!(
        cfg.source("mon_client_hunt_interval"),
        Some(OptionSource::File)
    );
    // Another client's section is not ours.
    assert_eq!(cfg.client_mount_timeout, Duration::from_secs(300));

    // The command line outranks the monitors too.
    let other = MonClient::connect(options(&conf, &[("rados_mon_op_timeout", "0")]))
        .await
        .unwrap();
    let other_cfg = other.config().unwrap();
    assert_eq!(other_cfg.rados_mon_op_timeout, Duration::ZERO);
    assert_eq!(
        other_cfg.source("rados_mon_op_timeout"),
        Some(OptionSource::CommandLine)
    );
    other.shutdown().await;

    // The central timeout acts: with the only monitor frozen, a command
    // without its own deadline fails after ~3 s instead of waiting for ever.
    let SessionState::Active { mon, .. } = client.status().state else {
        panic!("not connected");
    };
    cluster.stop(&mon).unwrap();
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        client.command(r#"{"prefix": "mon dump", "format": "json"}"#, Vec::new()),
    )
    .await
    .expect("the central rados_mon_op_timeout should end the command");
    let took = started.elapsed();
    cluster.cont(&mon).unwrap();
    assert!(matches!(result, Err(MonError::TimedOut(..))), "{result:?}");
    assert!(took >= Duration::from_millis(2900), "ended after {took:?}");

    // Changes follow while connected: a new value, and a removed one falls
    // back to the default.
    ceph_ok(
        &cluster,
        &["config", "set", "client", "mon_client_hunt_parallel", "1"],
    );
    ceph_ok(
        &cluster,
        &["config", "rm", "client", "rados_mon_op_timeout"],
    );
    wait_config(&client, "hunt_parallel = 1 and the timeout removed", |c| {
        c.mon_client_hunt_parallel == 1
            && c.source("rados_mon_op_timeout") == Some(OptionSource::Default)
            && c.rados_mon_op_timeout.is_zero()
    })
    .await;
    // Without the timeout, a command waits through a short freeze and
    // succeeds when the monitor comes back.
    cluster.stop(&mon).unwrap();
    let pending = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .command(r#"{"prefix": "mon dump", "format": "json"}"#, Vec::new())
                .await
        })
    };
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.cont(&mon).unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(60), pending)
        .await
        .expect("command answered after the monitor came back")
        .unwrap()
        .expect("no timeout once the central one is gone");
    assert_eq!(reply.retval, 0);
    client.shutdown().await;
}
