//! Failover against real monitors (the host's Pacific, or the release
//! `CEPH_RELEASE` names): while command streams run over one client, the
//! monitor serving it is killed, frozen, restarted or removed, or a dead
//! address leads mon_host. Each time every command must finish exactly once
//! (success or a typed error, none hanging) and the client must end up
//! active on a live monitor. Recovery times and the longest gap between
//! successful commands are printed, not asserted.
//!
//! The tests run one at a time (they measure timings, and each has its own
//! three monitors). Built twice: `failover` over msgr2, `failover_v1`
//! against monitors that speak only msgr1.

mod support;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ceph_testbed::Cluster;
use support::{admin_options, client_addr, Harness};

const ALL: [&str; 3] = ["a", "b", "c"];
const QUORUM_WAIT: Duration = Duration::from_secs(120);
const RECOVERY_BOUND: Duration = Duration::from_secs(60);

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time; a failed test must not block the others.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn three_mons() -> Cluster {
    Cluster::start(support::spec(3)).expect("3-monitor cluster starts")
}

/// In CI the msgr1 variant runs only the faults that exercise the msgr1
/// session itself (kill, SIGSTOP, a dead address first); with
/// `FAILOVER_V1_SHORT=1` (scripts/test.sh sets it in ring 3) the others
/// are left to the full run (ring 4) and say so.
fn short_v1_run(test: &str) -> bool {
    let short = support::msgr1() && std::env::var("FAILOVER_V1_SHORT").as_deref() == Ok("1");
    if short {
        eprintln!("[{test}] not run: FAILOVER_V1_SHORT=1 (the full run has it)");
    }
    short
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[test]
fn kill_9_of_the_serving_monitor() {
    let _serial = serial();
    let cluster = three_mons();
    let mut h = Harness::connect(admin_options(&cluster, cluster.mon_host(), 1));
    h.start_streams(2);
    h.run_for(Duration::from_secs(2));
    let victim = h.serving_mon();
    let fault = Instant::now();
    cluster.kill(&victim).unwrap();
    let moved = h.wait_recovered(fault, true, RECOVERY_BOUND);
    h.run_for(Duration::from_secs(3));
    cluster.start_mon(&victim).unwrap();
    cluster.wait_for_quorum(&ALL, QUORUM_WAIT).unwrap();
    h.run_for(Duration::from_secs(2));
    let report = h.finish(&cluster);
    eprintln!(
        "[kill -9] mon.{victim} killed: active on another monitor after {:.2}s, first success after {:.2?}",
        secs(moved),
        report.first_success_after(fault)
    );
    report.print("kill -9");
    report.assert_all_accounted("kill -9");
    report.assert_writes_visible(&cluster);
}

#[test]
fn sigstop_of_the_serving_monitor() {
    let _serial = serial();
    let cluster = three_mons();
    let mut h = Harness::connect(admin_options(&cluster, cluster.mon_host(), 2));
    h.start_streams(2);
    h.run_for(Duration::from_secs(2));
    let victim = h.serving_mon();
    let fault = Instant::now();
    cluster.stop(&victim).unwrap();
    let moved = h.wait_recovered(fault, true, RECOVERY_BOUND);
    // Frozen long enough for the others to hold an election without it.
    std::thread::sleep(Duration::from_secs(15).saturating_sub(fault.elapsed()));
    let others: Vec<&str> = ALL.iter().copied().filter(|m| *m != victim).collect();
    assert!(
        support::pid_is_running(cluster.mon(others[0]).unwrap().pid.unwrap()),
        "the other monitors run"
    );
    assert_ne!(
        h.serving_mon(),
        victim,
        "the client stays off the frozen monitor"
    );
    cluster.cont(&victim).unwrap();
    cluster.wait_for_quorum(&ALL, QUORUM_WAIT).unwrap();
    h.run_for(Duration::from_secs(2));
    let report = h.finish(&cluster);
    eprintln!(
        "[SIGSTOP] mon.{victim} frozen: active on another monitor after {:.2}s, first success after {:.2?}",
        secs(moved),
        report.first_success_after(fault)
    );
    report.print("SIGSTOP");
    report.assert_all_accounted("SIGSTOP");
    report.assert_writes_visible(&cluster);
}

#[test]
fn restart_of_all_monitors_one_by_one_then_at_once() {
    if short_v1_run("restart_of_all_monitors_one_by_one_then_at_once") {
        return;
    }
    let _serial = serial();
    let cluster = three_mons();
    let mut h = Harness::connect(admin_options(&cluster, cluster.mon_host(), 3));
    h.start_streams(2);
    h.run_for(Duration::from_secs(2));
    for name in ALL {
        let serving = h.serving_mon();
        let fault = Instant::now();
        cluster.restart(name).unwrap();
        if serving == name {
            let took = h.wait_recovered(fault, false, RECOVERY_BOUND);
            eprintln!(
                "[restart one by one] mon.{name} (serving) restarted: active again after {:.2}s",
                secs(took)
            );
        } else {
            eprintln!(
                "[restart one by one] mon.{name} (not serving, client on mon.{serving}) restarted"
            );
        }
        cluster.wait_for_quorum(&ALL, QUORUM_WAIT).unwrap();
        h.run_for(Duration::from_secs(1));
    }
    let fault = Instant::now();
    for name in ALL {
        cluster.restart(name).unwrap();
    }
    // The client may hop between monitors while they go down one after the
    // other; what counts is the session once all three were restarted.
    let all_restarted = Instant::now();
    // When the monitors could serve again, to compare the client with.
    let mon_addrs: Vec<SocketAddr> = cluster.mons().iter().map(client_addr).collect();
    let (listening, quorum, took) = std::thread::scope(|s| {
        let listening = s.spawn(|| first_accepting(&mon_addrs, RECOVERY_BOUND));
        let quorum = s.spawn(|| {
            cluster.wait_for_quorum(&ALL, QUORUM_WAIT).unwrap();
            Instant::now()
        });
        // The client may already be back on a monitor restarted first, so
        // what is measured is a command sent now being answered.
        let took = h.wait_served(RECOVERY_BOUND * 2);
        (listening.join().unwrap(), quorum.join().unwrap(), took)
    });
    h.run_for(Duration::from_secs(3));
    let report = h.finish(&cluster);
    eprintln!(
        "[restart all at once] restarts took {:.2}s; after the last: a monitor accepted TCP at {:.2?}, quorum seen by the CLI at {:.2}s, a command sent then answered at {:.2}s; first success {:.2?} after the first restart",
        secs(all_restarted.duration_since(fault)),
        listening.map(|t| t.duration_since(all_restarted)),
        secs(quorum.duration_since(all_restarted)),
        secs(took),
        report.first_success_after(fault)
    );
    report.print("restarts");
    report.assert_all_accounted("restarts");
    report.assert_writes_visible(&cluster);
}

#[test]
fn removal_of_the_serving_monitor_from_the_monmap() {
    if short_v1_run("removal_of_the_serving_monitor_from_the_monmap") {
        return;
    }
    let _serial = serial();
    let cluster = three_mons();
    let mut h = Harness::connect(admin_options(&cluster, cluster.mon_host(), 4));
    h.start_streams(2);
    h.run_for(Duration::from_secs(2));
    let victim = h.serving_mon();
    let epoch_before = h.client.monmap().expect("monmap").epoch;
    let fault = Instant::now();
    let out = cluster.ceph(&["mon", "remove", &victim]).unwrap();
    assert!(out.success(), "ceph mon remove {victim}: {out:?}");
    let moved = h.wait_recovered(fault, true, RECOVERY_BOUND);
    let deadline = Instant::now() + RECOVERY_BOUND;
    let monmap = loop {
        let map = h.client.monmap().expect("monmap");
        if map.epoch > epoch_before {
            break map;
        }
        assert!(
            Instant::now() < deadline,
            "no newer monmap after removing mon.{victim}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        monmap.get(&victim).is_none(),
        "mon.{victim} still in the client's monmap"
    );
    assert_eq!(monmap.len(), 2, "monmap after the removal: {monmap:?}");
    let others: Vec<&str> = ALL.iter().copied().filter(|m| *m != victim).collect();
    cluster.wait_for_exact_quorum(&others, QUORUM_WAIT).unwrap();
    h.run_for(Duration::from_secs(3));
    let report = h.finish(&cluster);
    eprintln!(
        "[mon remove] mon.{victim} removed (monmap epoch {} -> {}): active on another monitor after {:.2}s, first success after {:.2?}",
        epoch_before,
        monmap.epoch,
        secs(moved),
        report.first_success_after(fault)
    );
    report.print("mon remove");
    report.assert_all_accounted("mon remove");
    assert_ne!(report.final_mon, victim);
    report.assert_writes_visible(&cluster);
}

/// When one of `addrs` first accepts a TCP connection, polling every 20 ms.
fn first_accepting(addrs: &[SocketAddr], bound: Duration) -> Option<Instant> {
    let deadline = Instant::now() + bound;
    while Instant::now() < deadline {
        for addr in addrs {
            if TcpStream::connect_timeout(addr, Duration::from_millis(100)).is_ok() {
                return Some(Instant::now());
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A port nothing listens on (connections are refused).
fn refused_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn dead_address_first_in_mon_host() {
    let _serial = serial();
    let cluster = three_mons();
    let refused = refused_port();
    // Accepts TCP connections (the kernel does, into the backlog) but never
    // says a word: the handshake can only time out.
    let black_hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = black_hole.local_addr().unwrap().port();
    for (what, port) in [("refused", refused), ("silent", silent)] {
        let mon_host = format!(
            "[v2:127.0.0.1:{port},v1:127.0.0.1:{port}],{}",
            cluster.mon_host()
        );
        for (parallel, seed) in [(3, 1), (1, 1), (1, 2), (1, 3), (1, 4)] {
            let label = format!("dead first ({what}, hunt_parallel {parallel}, seed {seed})");
            let mut opts = admin_options(&cluster, &mon_host, seed);
            opts.session.hunt_parallel = parallel;
            let mut h = Harness::connect(opts);
            let connect = h.connect_time();
            h.start_streams(2);
            h.run_for(Duration::from_secs(2));
            let report = h.finish(&cluster);
            eprintln!("[{label}] connected in {:.2}s", secs(connect));
            report.print(&label);
            report.assert_all_accounted(&label);
        }
    }
    drop(black_hole);
}

/// A `mon_command` loop in librados (Debian's Python binding) printing, per
/// command, when it was sent and finished, its result, and the monitor port
/// its process is connected to (from its own sockets).
const LIBRADOS_LOOP: &str = r#"
import json, os, sys, time, rados
conf, keyring, secs = sys.argv[1], sys.argv[2], float(sys.argv[4])
ports = set(int(p) for p in sys.argv[3].split(','))
def mon_port():
    inodes = set()
    for fd in os.listdir('/proc/self/fd'):
        try:
            link = os.readlink('/proc/self/fd/' + fd)
        except OSError:
            continue
        if link.startswith('socket:['):
            inodes.add(link[8:-1])
    with open('/proc/self/net/tcp') as f:
        next(f)
        for line in f:
            fields = line.split()
            port = int(fields[2].split(':')[1], 16)
            if fields[9] in inodes and fields[3] == '01' and port in ports:
                return port
    return 0
c = rados.Rados(conffile=conf, conf={'keyring': keyring}, name='client.admin')
c.connect(timeout=30)
start = time.monotonic()
print('READY', mon_port(), flush=True)
while time.monotonic() - start < secs:
    t = time.monotonic()
    try:
        ret, out, outs = c.mon_command(json.dumps({'prefix': 'mon dump', 'format': 'json'}), b'', timeout=60)
        res = 'ok' if ret == 0 else 'ret%d' % ret
    except Exception as e:
        res = 'err:' + type(e).__name__
    print('CMD %.3f %.3f %s %d' % (t - start, time.monotonic() - start, res, mon_port()), flush=True)
    time.sleep(0.05)
c.shutdown()
"#;

/// The same SIGSTOP with librados and with this client, both connected to
/// the frozen monitor: prints when each was served by another monitor.
#[test]
#[ignore = "comparison with librados (needs /usr/bin/python3 with the rados module); prints figures only"]
fn sigstop_compared_with_librados() {
    let _serial = serial();
    let cluster = three_mons();
    let script = cluster.dir().join("librados_loop.py");
    std::fs::write(&script, LIBRADOS_LOOP).unwrap();
    let mons = cluster.mons();
    let ports: Vec<String> = mons
        .iter()
        .flat_map(|m| [m.v2_addr.port(), m.v1_addr.port()])
        .map(|p| p.to_string())
        .collect();
    let mut python = Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(cluster.conf_path())
        .arg(cluster.admin_keyring_path())
        .arg(ports.join(","))
        .arg("75")
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let (tx, lines) = mpsc::channel::<(Instant, String)>();
    let stdout = python.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send((Instant::now(), line));
        }
    });
    let (_, ready) = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("librados connects");
    let port: u16 = ready.strip_prefix("READY ").unwrap().parse().unwrap();
    let mon_of = |port: u16| {
        mons.iter()
            .find(|m| m.v2_addr.port() == port || m.v1_addr.port() == port)
            .map(|m| m.name.clone())
    };
    let victim = mon_of(port).expect("librados is connected to a monitor");
    // Our client starts from the same monitor only, then learns the others.
    let info = cluster.mon(&victim).unwrap();
    let mut h = Harness::connect(admin_options(&cluster, &info.addrvec(), 5));
    h.start_streams(1);
    h.run_for(Duration::from_secs(3));
    assert_eq!(h.serving_mon(), victim);
    let fault = Instant::now();
    cluster.stop(&victim).unwrap();
    let ours = h.wait_recovered(fault, true, RECOVERY_BOUND);
    std::thread::sleep(Duration::from_secs(60).saturating_sub(fault.elapsed()));
    cluster.cont(&victim).unwrap();
    let report = h.finish(&cluster);
    let status = python.wait().unwrap();
    reader.join().unwrap();
    let mut rados_first_other = None;
    let mut rados_ok: Vec<Instant> = Vec::new();
    let mut rados_errors = 0;
    for (at, line) in lines.try_iter() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first() != Some(&"CMD") || fields.len() != 5 {
            continue;
        }
        let ok = fields[3] == "ok";
        if ok {
            rados_ok.push(at);
        } else {
            rados_errors += 1;
        }
        let on = fields[4].parse().ok().and_then(mon_of);
        if ok && at > fault && on.is_some_and(|m| m != victim) && rados_first_other.is_none() {
            rados_first_other = Some(at.duration_since(fault));
        }
    }
    let rados_gap = rados_ok
        .windows(2)
        .map(|w| w[1].duration_since(w[0]))
        .max()
        .unwrap_or_default();
    eprintln!(
        "[SIGSTOP vs librados] mon.{victim} frozen 60 s. monclient: active elsewhere after {:.2}s, first success after {:.2?}, longest gap {:.2}s. librados: first success on another monitor after {rados_first_other:.2?}, longest gap {:.2}s, {} ok, {rados_errors} errors (python exit {status})",
        secs(ours),
        report.first_success_after(fault),
        secs(report.longest_gap()),
        secs(rados_gap),
        rados_ok.len(),
    );
    report.assert_all_accounted("SIGSTOP vs librados");
    assert!(status.success(), "the librados loop failed");
}
