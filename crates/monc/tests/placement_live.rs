//! Ring 3: placement on a live test-bed cluster (memstore OSDs and a
//! manager). The cluster gets racks and hosts, device classes, replicated,
//! class-restricted and erasure-coded pools, upmap items, pg_temp,
//! primary_temp, primary affinity, compat and per-pool weight-sets, and an
//! OSD out and one down. Then:
//! - its OSDMap, through Ceph's osdmaptool and `monc osdmaptool`
//!   (`--test-map-pgs-dump-all`, with and without `--mark-up-in`), gives
//!   the same raw, up and acting sets for every PG;
//! - `ceph osd map POOL OBJECT [NAMESPACE]` answered by the monitor (1,200
//!   objects, asked through one python3-rados process) equals the
//!   library's object → PG → up/acting, namespaces included.

use std::collections::BTreeMap;
use std::process::Command;

use ceph_denc::Decode;
use ceph_osdmap::{OSDMap, PgId};
use ceph_testbed::{Cluster, ClusterSpec};
use serde_json::Value;

const MONC: &str = env!("CARGO_BIN_EXE_monc");

fn ceph(cluster: &Cluster, args: &[&str]) -> String {
    let out = cluster.ceph(args).expect("run ceph");
    assert!(out.success(), "ceph {}: {}", args.join(" "), out.stderr);
    out.stdout
}

fn getmap(cluster: &Cluster, epoch: Option<u64>) -> (OSDMap, String) {
    let path = cluster.dir().join(format!(
        "osdmap.{}",
        epoch.map_or("now".to_string(), |e| e.to_string())
    ));
    let p = path.to_string_lossy().into_owned();
    let e = epoch.map(|e| e.to_string());
    let mut args = vec!["osd", "getmap"];
    if let Some(e) = &e {
        args.push(e);
    }
    args.extend(["-o", &p]);
    ceph(cluster, &args);
    let map = OSDMap::decode_all(&std::fs::read(&path).unwrap()).unwrap();
    (map, p)
}

/// The python3-rados batch: one connection, one `osd map` per object.
const PY: &str = r#"
import json, sys, rados
conf, keyring, requests = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
c = rados.Rados(conffile=conf, conf={"keyring": keyring}, name="client.admin")
c.connect(timeout=30)
out = []
for pool, obj, ns in requests:
    cmd = {"prefix": "osd map", "pool": pool, "object": obj, "format": "json"}
    if ns:
        cmd["nspace"] = ns
    r, outb, outs = c.mon_command(json.dumps(cmd), b"")
    if r != 0:
        raise SystemExit("osd map %s %s: %d %s" % (pool, obj, r, outs))
    out.append(json.loads(outb))
c.shutdown()
json.dump(out, sys.stdout)
"#;

#[test]
fn live_cluster_placements_match() {
    let cluster = Cluster::start(
        // classic_aes: the host's python3-rados (Pacific) must reach a
        // Tentacle monitor too.
        ClusterSpec::with_mons(1)
            .classic_aes(true)
            .mgrs(1)
            .osds(6)
            .mon("mon_osd_allow_primary_temp", "true")
            .mon("mon_osd_allow_primary_affinity", "true"),
    )
    .expect("cluster");
    let started = std::time::Instant::now();
    // Two racks of three hosts; osd.0 and osd.3 are ssd, the rest hdd.
    for rack in ["rack1", "rack2"] {
        ceph(&cluster, &["osd", "crush", "add-bucket", rack, "rack"]);
        ceph(&cluster, &["osd", "crush", "move", rack, "root=default"]);
    }
    for i in 0..6 {
        let host = format!("host{i}");
        let rack = format!("rack={}", if i < 3 { "rack1" } else { "rack2" });
        ceph(&cluster, &["osd", "crush", "move", &host, &rack]);
        let osd = format!("osd.{i}");
        ceph(&cluster, &["osd", "crush", "rm-device-class", &osd]);
        let class = if i % 3 == 0 { "ssd" } else { "hdd" };
        ceph(&cluster, &["osd", "crush", "set-device-class", class, &osd]);
    }
    ceph(
        &cluster,
        &[
            "osd",
            "crush",
            "rule",
            "create-replicated",
            "ssd_hosts",
            "default",
            "host",
            "ssd",
        ],
    );
    ceph(
        &cluster,
        &[
            "osd",
            "crush",
            "rule",
            "create-replicated",
            "racks",
            "default",
            "rack",
        ],
    );
    ceph(
        &cluster,
        &[
            "osd",
            "erasure-code-profile",
            "set",
            "ec21",
            "k=2",
            "m=1",
            "crush-failure-domain=host",
            "crush-device-class=hdd",
        ],
    );
    ceph(&cluster, &["osd", "pool", "create", "rep", "64", "64"]);
    ceph(
        &cluster,
        &[
            "osd",
            "pool",
            "create",
            "ssd",
            "16",
            "16",
            "replicated",
            "ssd_hosts",
        ],
    );
    ceph(&cluster, &["osd", "pool", "set", "ssd", "size", "2"]);
    ceph(
        &cluster,
        &[
            "osd",
            "pool",
            "create",
            "racks",
            "32",
            "24",
            "replicated",
            "racks",
        ],
    );
    ceph(&cluster, &["osd", "pool", "set", "racks", "size", "2"]);
    ceph(
        &cluster,
        &["osd", "pool", "create", "ec", "32", "32", "erasure", "ec21"],
    );
    ceph(
        &cluster,
        &["osd", "set-require-min-compat-client", "luminous"],
    );
    // Weight-sets: compat and one for the pool "rep".
    ceph(&cluster, &["osd", "crush", "weight-set", "create-compat"]);
    ceph(
        &cluster,
        &[
            "osd",
            "crush",
            "weight-set",
            "reweight-compat",
            "osd.1",
            "0.002",
        ],
    );
    ceph(
        &cluster,
        &["osd", "crush", "weight-set", "create", "rep", "positional"],
    );
    ceph(
        &cluster,
        &[
            "osd",
            "crush",
            "weight-set",
            "reweight",
            "rep",
            "osd.2",
            "0.001",
            "0.003",
            "0.0005",
        ],
    );
    ceph(&cluster, &["osd", "primary-affinity", "osd.4", "0.3"]);
    ceph(&cluster, &["osd", "primary-affinity", "osd.5", "0"]);
    // Overrides on pool "rep" (id looked up below).
    let (map, _) = getmap(&cluster, None);
    let rep = *map
        .pool_names
        .iter()
        .find(|(_, n)| n.as_str() == "rep")
        .unwrap()
        .0;
    let placer = map.placer();
    let mut raw = Vec::new();
    for seed in 0..8u32 {
        let pg = PgId {
            pool: rep as u64,
            seed,
        };
        placer.pg_to_raw(pg, &mut raw).unwrap();
        let spare = (0..6).find(|o| !raw.contains(o)).unwrap();
        let pgid = pg.to_string();
        match seed % 4 {
            0 => ceph(
                &cluster,
                &[
                    "osd",
                    "pg-upmap-items",
                    &pgid,
                    &raw[0].to_string(),
                    &spare.to_string(),
                ],
            ),
            1 => ceph(
                &cluster,
                &[
                    "osd",
                    "pg-temp",
                    &pgid,
                    &raw[1].to_string(),
                    &raw[0].to_string(),
                ],
            ),
            2 => ceph(
                &cluster,
                &["osd", "primary-temp", &pgid, &raw[1].to_string()],
            ),
            _ => ceph(
                &cluster,
                &[
                    "osd",
                    "pg-upmap",
                    &pgid,
                    &spare.to_string(),
                    &raw[0].to_string(),
                    &raw[1].to_string(),
                ],
            ),
        };
    }
    drop(placer);
    // One OSD out, one held down.
    ceph(&cluster, &["osd", "out", "3"]);
    ceph(&cluster, &["osd", "set", "noup"]);
    ceph(&cluster, &["osd", "down", "2"]);

    let (map, path) = getmap(&cluster, None);
    let mut compared = 0;
    for opts in [
        &["--test-map-pgs-dump-all"][..],
        &["--mark-up-in", "--test-map-pgs-dump-all"][..],
    ] {
        let mut args = vec![path.as_str()];
        args.extend_from_slice(opts);
        let theirs = cluster
            .runtime()
            .command("osdmaptool")
            .args(&args)
            .output()
            .unwrap();
        let ours = Command::new(MONC)
            .arg("osdmaptool")
            .args(&args)
            .output()
            .unwrap();
        let (t, o) = (
            String::from_utf8_lossy(&theirs.stdout),
            String::from_utf8_lossy(&ours.stdout),
        );
        if t != o {
            let first = t.lines().zip(o.lines()).find(|(a, b)| a != b);
            panic!("live map {opts:?} differs: {first:?}");
        }
        compared += t.lines().filter(|l| l.contains(" raw (")).count();
    }
    assert!(compared > 250, "{compared}");

    // The monitor's `osd map` against the library, 1,200 objects.
    let pools: Vec<(String, i64)> = map
        .pool_names
        .iter()
        .map(|(id, n)| (n.clone(), *id))
        .collect();
    let mut requests = Vec::new();
    for i in 0..1200usize {
        let (name, _) = &pools[i % pools.len()];
        let ns = match i % 3 {
            0 => String::new(),
            1 => "tenant".to_string(),
            _ => format!("ns{}", i % 7),
        };
        requests.push((name.clone(), format!("obj-{i}-{}", "x".repeat(i % 29)), ns));
    }
    let req_path = cluster.dir().join("osd-map-requests.json");
    std::fs::write(&req_path, serde_json::to_vec(&requests).unwrap()).unwrap();
    let out = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(PY)
        .arg(cluster.conf_path())
        .arg(cluster.admin_keyring_path())
        .arg(&req_path)
        .output()
        .expect("python3-rados");
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers.len(), requests.len());
    let mut maps: BTreeMap<u64, OSDMap> = BTreeMap::new();
    maps.insert(u64::from(map.epoch), map);
    for ((pool_name, object, ns), answer) in requests.iter().zip(&answers) {
        let epoch = answer["epoch"].as_u64().unwrap();
        let m = maps
            .entry(epoch)
            .or_insert_with(|| getmap(&cluster, Some(epoch)).0);
        let pool = pools.iter().find(|(n, _)| n == pool_name).unwrap().1;
        let raw = m.object_to_raw_pg(pool, object, ns, None).unwrap();
        let pg = m.object_to_pg(pool, object, ns, None).unwrap();
        let p = m.pg_to_up_acting(pg).unwrap();
        let ints = |v: &Value| -> Vec<i32> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap() as i32)
                .collect()
        };
        let want = (
            answer["pgid"].as_str().unwrap().to_string(),
            answer["raw_pgid"].as_str().unwrap().to_string(),
            ints(&answer["up"]),
            answer["up_primary"].as_i64().unwrap() as i32,
            ints(&answer["acting"]),
            answer["acting_primary"].as_i64().unwrap() as i32,
        );
        let got = (
            pg.to_string(),
            format!("{}.{:x}", raw.pool, raw.seed),
            p.up,
            p.up_primary,
            p.acting,
            p.acting_primary,
        );
        assert_eq!(got, want, "{pool_name}/{ns}/{object}");
    }
    ceph(&cluster, &["osd", "unset", "noup"]);
    eprintln!(
        "{}: live map: {compared} PG mappings and {} `osd map` answers equal, in {:.1?}",
        cluster.runtime().release(),
        answers.len(),
        started.elapsed()
    );
}
