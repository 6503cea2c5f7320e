//! OSDMap subscriptions against a real one-monitor Pacific cluster: the
//! OSDMap is changed many times with monitor commands, a client subscribes
//! from epoch 1, applies every incremental it receives in order, and the
//! map at each epoch must equal the full map the monitor stores (`ceph osd
//! getmap E`), by value and by bytes, and print as `ceph osd dump E` does.
//! Onetime subscriptions and the MgrMap are checked the same way.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ceph_auth::Keyring;
use ceph_denc::{Decode, Encode};
use ceph_monclient::{ClusterEvent, MonClient, MonClientOptions};
use ceph_osdmap::{OSDMap, OSDMapIncremental};
use ceph_testbed::{Cluster, ClusterSpec};
use ceph_types::features::CLIENT_FEATURES_ALL;
use ceph_types::{EntityName, MgrMap};
use serde_json::Value;
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_secs(60);

fn options(cluster: &Cluster) -> MonClientOptions {
    let admin: EntityName = "client.admin".parse().unwrap();
    let keyring = Keyring::load(cluster.admin_keyring_path()).expect("admin keyring");
    let key = keyring.get(&admin).expect("client.admin key").clone();
    let addrs = ceph_config::parse_mon_host(cluster.mon_host()).expect("mon_host parses");
    let mut opts = MonClientOptions::new(admin, key, addrs);
    opts.connect_timeout = Duration::from_secs(30);
    opts
}

/// Runs a `ceph` command that must succeed.
fn ceph(cluster: &Cluster, args: &[&str]) -> String {
    let out = cluster.ceph(args).expect("running ceph");
    assert!(out.success(), "ceph {args:?}: {}", out.stderr);
    out.stdout
}

fn ceph_json(cluster: &Cluster, args: &[&str]) -> Value {
    let mut with_format = args.to_vec();
    with_format.extend(["-f", "json"]);
    serde_json::from_str(&ceph(cluster, &with_format)).expect("ceph printed JSON")
}

fn osdmap_epoch(cluster: &Cluster) -> u32 {
    ceph_json(cluster, &["osd", "dump"])["epoch"]
        .as_u64()
        .unwrap() as u32
}

/// Changes the OSDMap in as many ways as a cluster without OSD daemons
/// allows. Returns the commands the monitor refused (allowed only for the
/// ones marked optional).
fn change_the_osdmap(cluster: &Cluster, first_half: bool) -> Vec<String> {
    let required: Vec<Vec<&str>> = if first_half {
        vec![
            vec!["osd", "create"],
            vec!["osd", "create"],
            vec!["osd", "create"],
            vec!["osd", "create"],
            vec!["osd", "crush", "add-bucket", "host-a", "host"],
            vec!["osd", "crush", "add-bucket", "host-b", "host"],
            vec!["osd", "crush", "move", "host-a", "root=default"],
            vec!["osd", "crush", "move", "host-b", "root=default"],
            vec!["osd", "crush", "add", "osd.0", "1.0", "host=host-a"],
            vec!["osd", "crush", "add", "osd.1", "1.0", "host=host-a"],
            vec!["osd", "crush", "add", "osd.2", "0.5", "host=host-b"],
            vec!["osd", "crush", "add", "osd.3", "2.0", "host=host-b"],
            vec!["osd", "pool", "create", "rep", "8", "8", "replicated"],
            vec![
                "osd",
                "erasure-code-profile",
                "set",
                "ec21",
                "k=2",
                "m=1",
                "crush-failure-domain=osd",
            ],
            vec!["osd", "pool", "create", "ec", "4", "4", "erasure", "ec21"],
        ]
    } else {
        vec![
            vec![
                "osd",
                "crush",
                "rule",
                "create-replicated",
                "by-host",
                "default",
                "host",
            ],
            vec!["osd", "pool", "set", "rep", "crush_rule", "by-host"],
            vec!["osd", "pool", "set", "rep", "size", "2"],
            vec!["osd", "pool", "set", "rep", "pg_num", "16"],
            vec!["osd", "pool", "mksnap", "rep", "snap1"],
            vec!["osd", "pool", "set-quota", "rep", "max_objects", "1000"],
            vec!["osd", "pool", "set-quota", "rep", "max_bytes", "1048576"],
            vec!["osd", "blocklist", "add", "10.1.2.3:0/456"],
            vec!["osd", "set", "noout"],
            vec!["osd", "create"],
            vec!["osd", "unset", "noout"],
            vec!["osd", "set", "noscrub"],
        ]
    };
    for args in &required {
        let started = Instant::now();
        ceph(cluster, args);
        eprintln!("{args:?}: {:?}", started.elapsed());
    }
    // Not here: `osd out`, `osd in` and `osd reweight`. With OSDs that
    // never booted, the next proposal after a weight change aborts a
    // Pacific 16.2.15 monitor (OSDMap::check_health asserts
    // num_down_in_osds <= num_in_osds).
    // Upmaps need PGs the monitor knows to map; without OSDs or a mgr it
    // may refuse them, which is not what this test is about.
    let optional: &[&[&str]] = if first_half {
        &[]
    } else {
        &[
            &["osd", "primary-affinity", "0", "0.25"],
            &["osd", "set-require-min-compat-client", "luminous"],
            &["osd", "pg-upmap-items", "1.0", "0", "1"],
            &["osd", "pg-upmap", "1.1", "0", "2"],
        ]
    };
    let mut refused = Vec::new();
    for args in optional {
        let started = Instant::now();
        let out = cluster
            .ceph_with_timeout(args, Duration::from_secs(5))
            .expect("running ceph");
        eprintln!("{args:?}: {:?} {:?}", started.elapsed(), out.code);
        if !out.success() {
            refused.push(format!("{args:?}: {}", out.stderr.trim()));
        }
    }
    refused
}

/// Gathers the OSDMaps of every event until `newest` is covered.
async fn collect_osdmaps(
    events: &mut broadcast::Receiver<ClusterEvent>,
    full: &mut BTreeMap<u32, Vec<u8>>,
    incremental: &mut BTreeMap<u32, Vec<u8>>,
    newest: u32,
) {
    let deadline = Instant::now() + WAIT;
    while !(full.contains_key(&newest) || incremental.contains_key(&newest)) {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = tokio::time::timeout(left, events.recv())
            .await
            .unwrap_or_else(|_| panic!("no OSDMap epoch {newest} within {WAIT:?}"))
            .expect("event stream");
        if let ClusterEvent::OsdMap {
            full: f,
            incremental: i,
            ..
        } = event
        {
            full.extend(f.into_iter().map(|(e, b)| (e, b.0)));
            incremental.extend(i.into_iter().map(|(e, b)| (e, b.0)));
        }
    }
}

/// Where `ours` differs from what Ceph printed: every key Ceph printed
/// must be there with an equal value (keys of newer releases may be extra);
/// numbers compare within rounding.
fn json_mismatches(ceph: &Value, ours: &Value, at: String, found: &mut Vec<String>) {
    match (ceph, ours) {
        (Value::Object(c), Value::Object(o)) => {
            for (key, cv) in c {
                match o.get(key) {
                    Some(ov) => json_mismatches(cv, ov, format!("{at}.{key}"), found),
                    None => found.push(format!("{at}.{key} missing, Ceph has {cv}")),
                }
            }
        }
        (Value::Array(c), Value::Array(o)) if c.len() == o.len() => {
            for (i, (cv, ov)) in c.iter().zip(o).enumerate() {
                json_mismatches(cv, ov, format!("{at}[{i}]"), found);
            }
        }
        (Value::Number(c), Value::Number(o)) => {
            let (c, o) = (c.as_f64().unwrap(), o.as_f64().unwrap());
            if (c - o).abs() > 1e-5 * c.abs().max(1.0) {
                found.push(format!("{at}: Ceph {c}, ours {o}"));
            }
        }
        (c, o) if c == o => {}
        (c, o) => found.push(format!("{at}: Ceph {c}, ours {o}")),
    }
}

fn assert_same_json(what: &str, ceph: &Value, ours: &Value) {
    let mut found = Vec::new();
    json_mismatches(ceph, ours, String::new(), &mut found);
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

/// The full map the monitor stores for `epoch`, as bytes.
fn getmap(cluster: &Cluster, epoch: u32) -> Vec<u8> {
    let path = cluster.dir().join(format!("osdmap.{epoch}"));
    let path_text = path.to_str().unwrap();
    ceph(
        cluster,
        &["osd", "getmap", &epoch.to_string(), "-o", path_text],
    );
    std::fs::read(&path).expect("getmap wrote the map")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incrementals_rebuild_every_epoch_of_a_real_osdmap() {
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).expect("starting the cluster");
    let c = &cluster;
    let mut refused = change_the_osdmap(c, true);
    let client = MonClient::connect(options(c)).await.expect("connecting");
    let mut events = client.events();
    // A receiver of its own: collecting OSDMaps drains `events` past the
    // MgrMap, which arrives early.
    let mut mgr_events = client.events();
    client.subscribe("osdmap", 1, false).unwrap();
    client.subscribe("mgrmap", 0, false).unwrap();

    // Half the changes before subscribing, half while subscribed, so both
    // the catch-up and the live paths are exercised.
    let (mut full, mut incremental) = (BTreeMap::new(), BTreeMap::new());
    let before = osdmap_epoch(c);
    collect_osdmaps(&mut events, &mut full, &mut incremental, before).await;
    refused.extend(change_the_osdmap(c, false));
    let newest = osdmap_epoch(c);
    assert!(newest >= 30, "only {newest} epochs");
    collect_osdmaps(&mut events, &mut full, &mut incremental, newest).await;
    client
        .wait_for_map("osdmap", newest.into(), WAIT)
        .await
        .unwrap();
    eprintln!(
        "epochs 1..={newest}: {} full, {} incremental; refused: {refused:#?}",
        full.len(),
        incremental.len()
    );

    // Start from the first full map, or from nothing if the monitor sent
    // incrementals from epoch 1 (whose own full map is embedded).
    let (mut map, first) = match full.first_key_value() {
        Some((&e, bytes)) if !incremental.contains_key(&1) => {
            (OSDMap::decode_all(bytes).expect("first full map"), e + 1)
        }
        _ => (OSDMap::default(), 1),
    };
    let mut byte_equal = 0;
    for epoch in first..=newest {
        let inc = incremental
            .get(&epoch)
            .unwrap_or_else(|| panic!("no incremental for epoch {epoch}"));
        let inc = OSDMapIncremental::decode_all(inc)
            .unwrap_or_else(|e| panic!("incremental {epoch}: {e}"));
        map.apply_incremental(&inc)
            .unwrap_or_else(|e| panic!("applying {epoch}: {e}"));

        let stored = getmap(c, epoch);
        let theirs = OSDMap::decode_all(&stored).unwrap_or_else(|e| panic!("getmap {epoch}: {e}"));
        // Which optional CRUSH sections an encoding carried depends on the
        // features it was encoded for (Tentacle sends the MSR tunables in an
        // incremental's CRUSH map but not in `osd getmap`'s); it is not
        // map content, so take it from their map before comparing.
        map.crush.sections = theirs.crush.sections;
        assert_eq!(map, theirs, "map at epoch {epoch}");
        if let Some(sent) = full.get(&epoch) {
            assert_eq!(&OSDMap::decode_all(sent).unwrap(), &theirs, "full {epoch}");
        }
        if map.to_bytes(CLIENT_FEATURES_ALL) == stored {
            byte_equal += 1;
        }
        let dump = ceph_json(c, &["osd", "dump", &epoch.to_string()]);
        assert_same_json(&format!("osd dump {epoch}"), &dump, &map.to_json());
    }
    assert_eq!(
        byte_equal,
        newest - first + 1,
        "epochs re-encoded byte-equal"
    );
    assert_same_json(
        "osd crush dump",
        &ceph_json(c, &["osd", "crush", "dump"]),
        &map.crush.to_json(),
    );

    // What the commands did shows in the final map.
    let rep = map.pool_id("rep").expect("pool rep");
    let ec = map.pool_id("ec").expect("pool ec");
    assert!(map.pools[&ec].is_erasure());
    assert_eq!(map.pools[&rep].size, 2);
    assert_eq!(map.pools[&rep].quota_max_objects, 1000);
    assert_eq!(map.blocklist.len(), 1);
    assert!(map.crush.item_id("host-a").is_some());
    assert_eq!(map.max_osd, 5);

    // A onetime subscription from 0 brings the newest full map.
    let other = MonClient::connect(options(c)).await.expect("second client");
    let mut other_events = other.events();
    other.subscribe("osdmap", 0, true).unwrap();
    let (mut f, mut i) = (BTreeMap::new(), BTreeMap::new());
    collect_osdmaps(&mut other_events, &mut f, &mut i, newest).await;
    let latest = f
        .get(&newest)
        .expect("onetime subscription sent a full map");
    assert_eq!(OSDMap::decode_all(latest).unwrap(), map);

    // A onetime subscription from an old epoch brings what followed it.
    other
        .subscribe("osdmap", u64::from(newest) - 2, true)
        .unwrap();
    let (mut f, mut i) = (BTreeMap::new(), BTreeMap::new());
    collect_osdmaps(&mut other_events, &mut f, &mut i, newest).await;
    assert!(
        (newest - 2..=newest).all(|e| i.contains_key(&e) || f.contains_key(&e)),
        "onetime from {}: full {:?} incremental {:?}",
        newest - 2,
        f.keys().collect::<Vec<_>>(),
        i.keys().collect::<Vec<_>>()
    );

    // The library's follower, on a client of its own: it reaches the map
    // rebuilt above, then applies the next epoch's incremental.
    let follower_client = MonClient::connect(options(c)).await.expect("third client");
    let mut follower = follower_client.follow_osdmap().unwrap();
    let followed = tokio::time::timeout(WAIT, follower.wait_for_epoch(newest))
        .await
        .expect("the follower reaches the newest epoch in time")
        .expect("the client runs");
    let mut followed = (*followed).clone();
    followed.crush.sections = map.crush.sections;
    assert_eq!(followed, map, "followed map at epoch {newest}");
    ceph(c, &["osd", "set", "noout"]);
    let next = loop {
        let m = tokio::time::timeout(WAIT, follower.next())
            .await
            .expect("a new epoch in time")
            .expect("the client runs")
            .expect("no lag, no decode error");
        if m.epoch > newest {
            break m;
        }
    };
    assert_eq!(next.epoch, newest + 1);
    let mut theirs = OSDMap::decode_all(&getmap(c, newest + 1)).unwrap();
    theirs.crush.sections = next.crush.sections;
    assert_eq!(*next, theirs, "followed map at epoch {}", newest + 1);
    assert_eq!(follower.current().unwrap().epoch, newest + 1);
    follower_client.shutdown().await;
    assert!(
        tokio::time::timeout(WAIT, follower.next())
            .await
            .expect("the stream ends")
            .is_none(),
        "the follower's stream ends with the client"
    );

    // The MgrMap (no mgr daemon runs, so it is nearly empty). The monitors
    // may move it on while the test runs (a slow machine takes minutes
    // above): compare the map we hold with `mgr dump` at the same epoch.
    let mut mgr_json = ceph_json(c, &["mgr", "dump"]);
    let mut newest: Option<MgrMap> = None;
    let deadline = Instant::now() + WAIT;
    let mgrmap = loop {
        let dumped = mgr_json["epoch"].as_u64().expect("mgr dump has an epoch");
        match newest.as_ref().map(|m| u64::from(m.epoch)) {
            Some(e) if e == dumped => break newest.take().unwrap(),
            Some(e) if e > dumped => {
                mgr_json = ceph_json(c, &["mgr", "dump"]);
                continue;
            }
            _ => {}
        }
        match tokio::time::timeout(
            deadline.saturating_duration_since(Instant::now()),
            mgr_events.recv(),
        )
        .await
        .expect("a MgrMap at the epoch `mgr dump` shows within a minute")
        {
            Ok(ClusterEvent::MgrMap { epoch, encoded }) => {
                let m = MgrMap::decode_all(&encoded).expect("MgrMap decodes");
                assert_eq!(m.epoch, epoch);
                assert_eq!(m.to_bytes(CLIENT_FEATURES_ALL), encoded);
                newest = Some(m);
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("events: {e}"),
        }
    };
    assert_same_json("mgr dump", &mgr_json, &mgrmap.to_json());
    assert!(!mgrmap.always_on_modules.is_empty());

    drop(client);
    drop(other);
    drop(cluster);
}
