//! DNS SRV discovery against real monitors and a real DNS server: dnsmasq
//! on a loopback address of its own serves SRV and A records for the
//! testbed's monitors, and the client, run as a child of this test in a
//! private mount namespace (`unshare -m`) where that server's resolv.conf
//! is bound over /etc/resolv.conf, loads a configuration without
//! `mon_host`. Nothing outside the child sees the test's resolv.conf.
//!
//! The child is this test binary again, told what to do by environment
//! variables; it prints one line the parent checks.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ceph_config::{ClientConfig, ConfigSources};
use ceph_monclient::{MonClient, MonClientOptions, SessionState};
use ceph_testbed::{Cluster, ClusterSpec};

/// Set in the child: the conf file to load.
const CHILD_CONF: &str = "DNS_SRV_TEST_CONF";
const DNSMASQ: &str = "/usr/sbin/dnsmasq";
const DOMAIN: &str = "monc-srv.test";

/// A dnsmasq serving `records` on `addr`:53, stopped on drop.
struct Dns(Child);

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_dns(addr: &str, args: &[String]) -> Dns {
    let child = Command::new(DNSMASQ)
        .args([
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--bind-interfaces",
            "--port=53",
            "--user=root",
            "--pid-file",
            "--log-facility=-",
        ])
        .arg(format!("--listen-address={addr}"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnsmasq starts");
    // Ready once it answers on its port.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::UdpSocket::bind((addr, 53)).is_ok() {
        assert!(Instant::now() < deadline, "dnsmasq did not bind {addr}:53");
        std::thread::sleep(Duration::from_millis(50));
    }
    Dns(child)
}

/// Runs this test binary as the client, in a mount namespace where
/// `resolv` is /etc/resolv.conf; returns its one result line.
fn run_child(test: &str, conf: &Path, resolv: &Path) -> String {
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "mount --bind '{}' /etc/resolv.conf && exec '{}' --exact {test} --nocapture --test-threads 1",
        resolv.display(),
        exe.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env(CHILD_CONF, conf)
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| {
            panic!(
                "child printed no result:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_string()
}

/// In the child: load the conf (DNS SRV), connect, print where we are.
fn child(conf: &str) {
    let started = Instant::now();
    let cfg = match ClientConfig::load(ConfigSources {
        conf_path: Some(conf.into()),
        id: Some("admin".into()),
        ..Default::default()
    }) {
        Ok(cfg) => cfg,
        Err(e) => {
            println!(
                "RESULT config-error {:.1}s {e}",
                started.elapsed().as_secs_f64()
            );
            return;
        }
    };
    let keyring = ceph_auth::Keyring::load(cfg.keyring_path.as_ref().unwrap()).unwrap();
    let key = keyring.get(&cfg.name).unwrap().clone();
    let mut opts = MonClientOptions::from_config(&cfg, key);
    opts.connect_timeout = Duration::from_secs(30);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        match MonClient::connect(opts).await {
            Ok(client) => {
                let state = client.status().state;
                let reply = client
                    .command(r#"{"prefix": "mon stat"}"#, Vec::new())
                    .await
                    .expect("mon stat");
                let mon = match state {
                    SessionState::Active { mon, .. } => mon,
                    other => format!("{other:?}"),
                };
                println!("RESULT ok {mon} {}", reply.retval);
                client.shutdown().await;
            }
            Err(e) => println!("RESULT connect-error {e}"),
        }
    });
}

/// A loopback address for this run's DNS server (port 53 is per address).
fn dns_addr() -> String {
    let n = std::process::id();
    format!("127.53.{}.{}", (n >> 8) & 0xff, (n & 0xff).max(1))
}

fn write_conf(cluster: &Cluster, dir: &Path, srv_name: Option<&str>) -> std::path::PathBuf {
    let conf = dir.join(format!("srv-{}.conf", srv_name.unwrap_or("default")));
    let mut text = format!(
        "[global]\nfsid = {}\nkeyring = {}\nauth_client_required = cephx\n",
        cluster.fsid(),
        cluster.admin_keyring_path().display()
    );
    if let Some(n) = srv_name {
        text.push_str(&format!("mon_dns_srv_name = {n}\n"));
    }
    std::fs::write(&conf, text).unwrap();
    conf
}

#[test]
fn monitors_from_srv_records_by_priority() {
    if let Ok(conf) = std::env::var(CHILD_CONF) {
        return child(&conf);
    }
    let cluster = Cluster::start(ClusterSpec::with_mons(3)).expect("cluster starts");
    let mons = cluster.mons();
    let dir = cluster.dir().to_path_buf();
    let addr = dns_addr();
    let resolv = dir.join("resolv.conf");
    std::fs::write(&resolv, format!("nameserver {addr}\nsearch {DOMAIN}\n")).unwrap();
    // a: the preferred record, its monitor dead; b: next priority, by its
    // v1 port (ambiguous: raced as v2 and v1); c: last, by its v2 port.
    let records = [
        (&mons[0], mons[0].v2_addr.port(), 10, 100),
        (&mons[1], mons[1].v1_addr.port(), 20, 50),
        (&mons[2], mons[2].v2_addr.port(), 30, 50),
    ];
    let mut args = Vec::new();
    for (m, port, prio, weight) in records {
        let host = format!("mon-{}.{DOMAIN}", m.name);
        args.push(format!(
            "--srv-host=_ceph-mon._tcp.{DOMAIN},{host},{port},{prio},{weight}"
        ));
        args.push(format!("--host-record={host},127.0.0.1"));
    }
    // Another service whose target lies outside its domain.
    args.push(format!(
        "--srv-host=_bad-mon._tcp.{DOMAIN},mon-a.elsewhere.test,3300,1,1"
    ));
    args.push("--host-record=mon-a.elsewhere.test,127.0.0.1".into());
    let _dns = start_dns(&addr, &args);
    cluster.kill(&mons[0].name).unwrap();

    let conf = write_conf(&cluster, &dir, None);
    let got = run_child("monitors_from_srv_records_by_priority", &conf, &resolv);
    assert_eq!(
        got,
        format!("ok {} 0", mons[1].name),
        "priority 20 after the dead 10"
    );

    // A name DNS does not know: a clear error at once.
    let conf = write_conf(&cluster, &dir, Some("no-such-mon"));
    let started = Instant::now();
    let got = run_child("monitors_from_srv_records_by_priority", &conf, &resolv);
    assert!(started.elapsed() < Duration::from_secs(5), "{got}");
    assert!(
        got.starts_with("config-error") && got.contains("_no-such-mon._tcp"),
        "{got}"
    );

    // A target outside the domain the records came from.
    let conf = write_conf(&cluster, &dir, Some("bad-mon"));
    let got = run_child("monitors_from_srv_records_by_priority", &conf, &resolv);
    assert!(got.contains("outside the domain"), "{got}");

    // The domain given in the SRV name itself.
    let conf = write_conf(&cluster, &dir, Some(&format!("ceph-mon_{DOMAIN}")));
    let got = run_child("monitors_from_srv_records_by_priority", &conf, &resolv);
    assert_eq!(got, format!("ok {} 0", mons[1].name));
    for m in &mons[1..] {
        let _ = cluster.kill(&m.name);
    }
}
