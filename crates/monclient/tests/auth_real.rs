//! The CephX lifecycle against real monitors (ceph-testbed: the host's
//! Pacific, or the release `CEPH_RELEASE` names) with short ticket
//! lifetimes: in-session renewal across a monitor kill, and rotating
//! secrets for an `osd.N` entity.
//!
//! Built twice: `auth_real` over msgr2, `auth_real_v1` against monitors
//! that speak only msgr1.
//!
//! `AUTH_REAL_TTL` (`AUTH_REAL_V1_TTL` for the msgr1 variant; seconds,
//! default 60) sets `auth_mon_ticket_ttl` and
//! `auth_service_ticket_ttl`; the renewal test runs for five of them.

use std::time::{Duration, Instant};

use ceph_auth::Keyring;
use ceph_monclient::{MonClient, MonClientOptions, SessionState};
use ceph_testbed::{Cluster, ClusterSpec};

#[path = "support/setup.rs"]
mod setup;

/// The variable setting the TTL: its own for the msgr1 variant, so CI can
/// shorten the two differently.
fn ttl_var() -> &'static str {
    if env!("CARGO_CRATE_NAME").ends_with("_v1") {
        "AUTH_REAL_V1_TTL"
    } else {
        "AUTH_REAL_TTL"
    }
}

fn ttl() -> u64 {
    std::env::var(ttl_var()).ok().map_or(60, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{}={v:?} is not a number of seconds", ttl_var()))
    })
}

fn short_ttl_cluster() -> Cluster {
    let ttl = ttl().to_string();
    Cluster::start(
        ClusterSpec::with_mons(3)
            // The msgr1 variant (auth_real_v1): monitors that speak only msgr1.
            .msgr1_only(env!("CARGO_CRATE_NAME").ends_with("_v1"))
            .global("auth_mon_ticket_ttl", &ttl)
            .global("auth_service_ticket_ttl", &ttl)
            .global("auth_allow_insecure_global_id_reclaim", "false"),
    )
    .unwrap()
}

fn options(cluster: &Cluster, name: &str, key: ceph_auth::CryptoKey) -> MonClientOptions {
    let mut opts = setup::real_options(cluster, name, key);
    opts.service_ticket_ttl = Duration::from_secs(ttl());
    opts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_renewed_for_five_ttls_across_a_monitor_kill() {
    let cluster = short_ttl_cluster();
    let ttl = Duration::from_secs(ttl());
    let opts = options(&cluster, "client.admin", setup::admin_key(&cluster));
    let client = MonClient::connect(opts).await.unwrap();
    client.subscribe("osdmap", 0, false).unwrap();
    let global_id = client.status().global_id;
    let started = Instant::now();
    let mut killed = None;
    let mut commands = 0;
    while started.elapsed() < ttl * 5 {
        let reply = setup::mon_dump(&client, Duration::from_secs(60))
            .await
            .unwrap_or_else(|e| panic!("at {:?}: {e}", started.elapsed()));
        assert_eq!(reply.retval, 0, "{}", reply.outs);
        commands += 1;
        if killed.is_none() && started.elapsed() >= ttl * 5 / 2 {
            let SessionState::Active { mon, .. } = client.status().state else {
                panic!("no session");
            };
            cluster.kill(&mon).unwrap();
            killed = Some((mon, started.elapsed()));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let status = client.status();
    eprintln!(
        "{commands} commands over {:?} (ttl {ttl:?}, {} monitors), killed {killed:?}, \
         sessions {}, renewals {:?}, osdmap epoch {:?}, mode {:?}",
        started.elapsed(),
        cluster.runtime().release(),
        status.sessions,
        status.renewals,
        status.epochs.get("osdmap"),
        status.con_mode
    );
    assert_eq!(status.global_id, global_id, "global_id changed");
    assert!(status.sessions >= 2, "the kill did not force a reconnect");
    // One renewal per 3/4 TTL of a session; the reconnect also renews.
    assert!(
        status.renewals.auth_tickets >= 4,
        "too few renewals: {:?}",
        status.renewals
    );
    assert_eq!(status.renewals.failures, 0, "{:?}", status.renewals);
    assert!(status.epochs.contains_key("osdmap"), "{:?}", status.epochs);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn osd_entity_gets_and_renews_rotating_secrets() {
    let cluster = short_ttl_cluster();
    let out = cluster
        .ceph(&[
            "auth",
            "get-or-create",
            "osd.7",
            "mon",
            "allow profile osd",
            "osd",
            "allow *",
        ])
        .unwrap();
    assert!(out.success(), "{out:?}");
    let keyring = Keyring::parse(&out.stdout).unwrap();
    let key = keyring.get(&"osd.7".parse().unwrap()).unwrap().clone();
    let client = MonClient::connect(options(&cluster, "osd.7", key))
        .await
        .unwrap();
    let t = Instant::now();
    client
        .wait_auth_rotating(Duration::from_secs(10))
        .await
        .unwrap();
    let first = client.rotating_secrets().unwrap();
    eprintln!(
        "rotating secrets after {:?}: ids {:?}",
        t.elapsed(),
        first.secrets.keys().collect::<Vec<_>>()
    );
    assert_eq!(first.secrets.len(), 3);
    let now = std::time::SystemTime::now();
    assert!(first.current().unwrap().1.expires_at() > now);
    // A rotation happens every TTL; wait for the client to pick one up.
    let deadline = Instant::now() + Duration::from_secs(ttl() * 2 + 30);
    loop {
        let cur = client.rotating_secrets().unwrap();
        if cur.max_ver > first.max_ver {
            eprintln!(
                "rotation seen after {:?}: max_ver {} -> {}, {:?}",
                t.elapsed(),
                first.max_ver,
                cur.max_ver,
                client.status().renewals
            );
            break;
        }
        assert!(Instant::now() < deadline, "no rotation seen");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    client
        .wait_auth_rotating(Duration::from_secs(1))
        .await
        .unwrap();
    let status = client.status();
    assert!(status.clock_skew.is_none());
    assert_eq!(status.renewals.failures, 0, "{:?}", status.renewals);
    client.shutdown().await;
}
