//! Secure global_id reclaim against real monitors that refuse the insecure
//! kind (`auth_allow_insecure_global_id_reclaim = false`, the setting the
//! 2021 fix for CVE-2021-20288 recommends): after the serving monitor dies,
//! the client reconnects with its old ticket and keeps its global_id, and the
//! monitors never flag it.

use std::time::Duration;

use ceph_monclient::{MonClient, SessionState};
use ceph_testbed::{Cluster, ClusterSpec};

#[path = "support/setup.rs"]
mod setup;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_id_survives_reconnects_without_insecure_reclaim() {
    let cluster = Cluster::start(
        ClusterSpec::with_mons(3)
            .global("auth_allow_insecure_global_id_reclaim", "false")
            .global("auth_expose_insecure_global_id_reclaim", "true"),
    )
    .unwrap();
    let client = MonClient::connect(setup::real_admin_options(&cluster))
        .await
        .unwrap();
    let global_id = client.status().global_id;
    assert_ne!(global_id, 0);

    for round in 0..2 {
        let SessionState::Active { mon, .. } = client.status().state else {
            panic!("not connected");
        };
        // Named from the MonMap, which `connect` waited for.
        let serving = cluster.mon(&mon).unwrap();
        cluster.kill(&serving.name).unwrap();
        let reply = setup::mon_dump(&client, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(reply.retval, 0, "round {round}: {}", reply.outs);
        assert_eq!(
            client.status().global_id,
            global_id,
            "round {round}: global_id changed"
        );
        cluster.start_mon(&serving.name).unwrap();
        let all: Vec<String> = cluster.mons().into_iter().map(|m| m.name).collect();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        cluster
            .wait_for_quorum(&all, Duration::from_secs(90))
            .unwrap();
    }

    let health = cluster.ceph(&["health", "detail", "-f", "json"]).unwrap();
    let text = &health.stdout;
    assert!(
        !text.contains("AUTH_INSECURE_GLOBAL_ID_RECLAIM\""),
        "{text}"
    );
    client.shutdown().await;
}
