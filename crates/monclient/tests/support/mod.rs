//! Shared by the failover and chaos tests: one client on a testbed cluster,
//! command streams that record every outcome, a recorder of the session's
//! state changes, and the checks and figures both files print.
//!
//! The tests are plain `#[test]` functions owning a tokio runtime: the
//! client and its streams run on the runtime while the test thread injects
//! faults with the testbed's blocking calls.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ceph_auth::{EntityName, Keyring};
use ceph_monclient::{MonClient, MonClientOptions, MonError, SessionState};
use ceph_testbed::{Cluster, ClusterSpec, MonInfo};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// True in the msgr1 variant of a suite: the same source built as a
/// second test binary whose name ends in `_v1` (see Cargo.toml), run
/// against monitors that speak only msgr1.
pub fn msgr1() -> bool {
    env!("CARGO_CRATE_NAME").ends_with("_v1")
}

/// A spec for `mons` monitors, msgr1-only in the msgr1 variant.
pub fn spec(mons: usize) -> ClusterSpec {
    ClusterSpec::with_mons(mons).msgr1_only(msgr1())
}

/// The address a client uses for `mon`: v1 in the msgr1 variant.
pub fn client_addr(mon: &MonInfo) -> std::net::SocketAddr {
    if msgr1() {
        mon.v1_addr
    } else {
        mon.v2_addr
    }
}

/// Each command's own deadline.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// A command not finished this long after it was sent has hung: its own
/// deadline should have ended it well before.
pub const HANG_BOUND: Duration = Duration::from_secs(90);
/// Pause between two commands of one stream.
const STREAM_PAUSE: Duration = Duration::from_millis(50);

/// Options for client.admin on `cluster`, starting from `mon_host`.
pub fn admin_options(cluster: &Cluster, mon_host: &str, seed: u64) -> MonClientOptions {
    let keyring = Keyring::load(cluster.admin_keyring_path()).expect("admin keyring");
    let name: EntityName = "client.admin".parse().expect("entity name");
    let key = keyring.get(&name).expect("client.admin key").clone();
    let addrs = ceph_config::parse_mon_host(mon_host).expect("mon_host parses");
    let mut opts = MonClientOptions::new(name, key, addrs);
    opts.seed = Some(seed);
    opts.connect_timeout = Duration::from_secs(60);
    opts
}

/// How one command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answered with retval 0 and (for reads) a well-formed MonMap dump.
    Ok,
    /// Answered with a non-zero retval or an unusable output.
    Refused(String),
    /// Failed with a typed error; the text names its kind.
    Error(&'static str),
    /// Not finished within [`HANG_BOUND`].
    Hung,
}

/// The variant name of an error, for counting by kind.
pub fn error_kind(e: &MonError) -> &'static str {
    match e {
        MonError::ShuttingDown => "ShuttingDown",
        MonError::SessionReset => "SessionReset",
        MonError::RankDne(_) => "RankDne",
        MonError::MonDne(_) => "MonDne",
        MonError::TimedOut(..) => "TimedOut",
        MonError::MonUnavailable(_) => "MonUnavailable",
        MonError::Auth(_) => "Auth",
        MonError::AuthMethodNotAllowed(_) => "AuthMethodNotAllowed",
        MonError::ConnectionModeNotAllowed(_) => "ConnectionModeNotAllowed",
        MonError::TicketExpired(_) => "TicketExpired",
        MonError::ClockSkew(_) => "ClockSkew",
        MonError::Config(_) => "Config",
        MonError::Protocol(_) => "Protocol",
        MonError::Messenger(_) => "Messenger",
        MonError::Io(_) => "Io",
        MonError::Incompatible(_) => "Incompatible",
        // Kinds the chaos runs never see (configuration, commands, streams).
        _ => "Other",
    }
}

/// One finished command.
#[derive(Debug, Clone)]
pub struct Record {
    pub stream: usize,
    pub write: bool,
    pub sent: Instant,
    pub done: Instant,
    pub outcome: Outcome,
}

/// A client on a cluster, with its streams and state recorder.
pub struct Harness {
    pub rt: Runtime,
    pub client: MonClient,
    pub started: Instant,
    timeline: Arc<Mutex<Vec<(Instant, SessionState)>>>,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    /// Per stream, the last value a write was acknowledged with, then the
    /// values of the failed writes after it (a failed write may still have
    /// been applied).
    last_written: Arc<Mutex<BTreeMap<usize, Vec<String>>>>,
    streams: Vec<JoinHandle<Vec<Record>>>,
    recorder: Option<JoinHandle<()>>,
}

/// The name of the option the writer streams set, per stream.
pub fn write_target(stream: usize) -> String {
    format!("client.failover{stream}")
}

impl Harness {
    /// Connects one client (panics if that fails) and starts recording its
    /// state every 10 ms.
    pub fn connect(opts: MonClientOptions) -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let started = Instant::now();
        let client = rt
            .block_on(MonClient::connect(opts))
            .expect("client connects");
        let timeline = Arc::new(Mutex::new(vec![(Instant::now(), client.status().state)]));
        let recorder = {
            let client = client.clone();
            let timeline = timeline.clone();
            rt.spawn(async move {
                loop {
                    let state = client.status().state;
                    {
                        let mut t = timeline.lock().unwrap();
                        if t.last().map(|(_, s)| s) != Some(&state) {
                            t.push((Instant::now(), state.clone()));
                        }
                    }
                    if state == SessionState::Shutdown {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        };
        Harness {
            rt,
            client,
            started,
            timeline,
            stop: Arc::new(AtomicBool::new(false)),
            sent: Arc::new(AtomicU64::new(0)),
            last_written: Arc::new(Mutex::new(BTreeMap::new())),
            streams: Vec::new(),
            recorder: Some(recorder),
        }
    }

    /// Starts `count` concurrent command streams; each alternates `mon dump`
    /// with a `config set` of a value never written before.
    pub fn start_streams(&mut self, count: usize) {
        for stream in self.streams.len()..self.streams.len() + count {
            let client = self.client.clone();
            let stop = self.stop.clone();
            let sent = self.sent.clone();
            let last_written = self.last_written.clone();
            self.streams.push(self.rt.spawn(async move {
                let mut records = Vec::new();
                let mut n: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let write = n.is_multiple_of(2);
                    let value = format!("{}", stream as u64 * 1_000_000 + n);
                    let cmd = if write {
                        serde_json::json!({
                            "prefix": "config set",
                            "who": write_target(stream),
                            "name": "rados_osd_op_timeout",
                            "value": value,
                        })
                    } else {
                        serde_json::json!({"prefix": "mon dump", "format": "json"})
                    };
                    sent.fetch_add(1, Ordering::Relaxed);
                    let t0 = Instant::now();
                    let reply = tokio::time::timeout(
                        HANG_BOUND,
                        client.command_with_timeout(
                            cmd.to_string(),
                            Vec::new(),
                            Some(COMMAND_TIMEOUT),
                        ),
                    )
                    .await;
                    let outcome = match reply {
                        Err(_) => Outcome::Hung,
                        Ok(Err(e)) => Outcome::Error(error_kind(&e)),
                        Ok(Ok(r)) if r.retval != 0 => {
                            Outcome::Refused(format!("retval {} ({})", r.retval, r.outs))
                        }
                        Ok(Ok(r)) if !write && !is_mon_dump(&r.outbl) => Outcome::Refused(format!(
                            "not a mon dump: {}",
                            String::from_utf8_lossy(&r.outbl)
                        )),
                        Ok(Ok(_)) => Outcome::Ok,
                    };
                    if write {
                        let mut lw = last_written.lock().unwrap();
                        let values = lw.entry(stream).or_default();
                        if outcome == Outcome::Ok {
                            values.clear();
                        }
                        values.push(value);
                    }
                    let failed = outcome != Outcome::Ok;
                    records.push(Record {
                        stream,
                        write,
                        sent: t0,
                        done: Instant::now(),
                        outcome,
                    });
                    // Errors can come back at once; do not spin on them.
                    let pause = if failed {
                        STREAM_PAUSE * 4
                    } else {
                        STREAM_PAUSE
                    };
                    tokio::time::sleep(pause).await;
                }
                records
            }));
        }
    }

    /// How long [`MonClient::connect`] took.
    pub fn connect_time(&self) -> Duration {
        self.timeline.lock().unwrap()[0]
            .0
            .duration_since(self.started)
    }

    /// Commands sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Waits (at most 60 s) until the session is active; returns the monitor.
    pub fn serving_mon(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let SessionState::Active { mon, .. } = self.client.status().state {
                return mon;
            }
            assert!(Instant::now() < deadline, "client not active after 60 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until, after `fault`, the client is active on a monitor other
    /// than the one it used at `fault`, or (unless `other_mon`) on any
    /// monitor after having hunted; returns how long that took from `fault`.
    pub fn wait_recovered(&self, fault: Instant, other_mon: bool, timeout: Duration) -> Duration {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(t) = self.recovered_at(fault, other_mon) {
                return t.duration_since(fault);
            }
            assert!(
                Instant::now() < deadline,
                "client did not recover within {timeout:?}; timeline: {:?}",
                self.timeline_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn recovered_at(&self, fault: Instant, other_mon: bool) -> Option<Instant> {
        let timeline = self.timeline.lock().unwrap();
        let before = timeline
            .iter()
            .rev()
            .find(|(t, _)| *t <= fault)
            .map(|(_, s)| active_mon(s));
        let before = before.flatten();
        let mut hunted = false;
        for (t, state) in timeline.iter().filter(|(t, _)| *t > fault) {
            match active_mon(state) {
                None => hunted = true,
                Some(mon) => {
                    let moved = before.is_none_or(|b| b != mon);
                    if moved || (hunted && !other_mon) {
                        return Some(*t);
                    }
                }
            }
        }
        None
    }

    /// Sends `mon dump` until one is answered with retval 0 (giving up
    /// after `bound`); returns how long that took from the call.
    pub fn wait_served(&self, bound: Duration) -> Duration {
        let start = Instant::now();
        let cmd = r#"{"prefix":"mon dump","format":"json"}"#;
        loop {
            let reply = self.rt.block_on(self.client.command_with_timeout(
                cmd,
                Vec::new(),
                Some(COMMAND_TIMEOUT),
            ));
            if reply.is_ok_and(|r| r.retval == 0) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < bound,
                "no command answered within {bound:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The state changes so far, as `+seconds state` lines.
    pub fn timeline_text(&self) -> String {
        self.timeline
            .lock()
            .unwrap()
            .iter()
            .map(|(t, s)| {
                format!(
                    "+{:.2}s {s:?}",
                    t.duration_since(self.started).as_secs_f64()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Lets the streams run for `d` (the test thread sleeps).
    pub fn run_for(&self, d: Duration) {
        std::thread::sleep(d);
    }

    /// Stops the streams, waits for their last commands, checks the client
    /// is active on a live monitor of `cluster`, and shuts the client down.
    pub fn finish(mut self, cluster: &Cluster) -> Report {
        self.stop.store(true, Ordering::Relaxed);
        let streams = std::mem::take(&mut self.streams);
        let mut records = Vec::new();
        let mut unfinished_streams = 0;
        for s in streams {
            match self.rt.block_on(async {
                tokio::time::timeout(HANG_BOUND + Duration::from_secs(10), s).await
            }) {
                Ok(Ok(r)) => records.extend(r),
                Ok(Err(e)) => panic!("command stream panicked: {e}"),
                Err(_) => unfinished_streams += 1,
            }
        }
        let final_mon = assert_active_on_live_mon(&self.client, cluster);
        let sent = self.sent();
        let last_written = self.last_written.lock().unwrap().clone();
        let timeline = self.timeline_text();
        let sessions = self
            .timeline
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| active_mon(s).is_some())
            .count();
        self.rt.block_on(self.client.shutdown());
        if let Some(r) = self.recorder.take() {
            r.abort();
        }
        Report {
            sent,
            records,
            unfinished_streams,
            final_mon,
            last_written,
            timeline,
            sessions,
            release: cluster.runtime().release().to_string(),
        }
    }
}

fn active_mon(s: &SessionState) -> Option<&str> {
    match s {
        SessionState::Active { mon, .. } => Some(mon),
        _ => None,
    }
}

fn is_mon_dump(outbl: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(outbl)
        .ok()
        .and_then(|v| v["mons"].as_array().map(|m| !m.is_empty()))
        .unwrap_or(false)
}

/// Whether a process exists and is neither stopped nor a zombie.
pub fn pid_is_running(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    matches!(state, Some('R' | 'S' | 'D'))
}

/// Waits (60 s) for the client to be active on a monitor of `cluster` whose
/// process runs and whose address matches; returns its name.
pub fn assert_active_on_live_mon(client: &MonClient, cluster: &Cluster) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = client.status().state;
        if let SessionState::Active { mon, addr } = &state {
            let info = cluster
                .mon(mon)
                .expect("the client names a monitor of the cluster");
            assert_eq!(*addr, client_addr(&info), "client's address for mon.{mon}");
            let pid = info
                .pid
                .unwrap_or_else(|| panic!("client active on mon.{mon}, which is not running"));
            if pid_is_running(pid) {
                return mon.clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "client not active on a live monitor after 60 s: {state:?}, mons {:?}",
            cluster.mons()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What a run of streams did.
#[derive(Debug)]
pub struct Report {
    pub sent: u64,
    pub records: Vec<Record>,
    pub unfinished_streams: usize,
    pub final_mon: String,
    pub last_written: BTreeMap<usize, Vec<String>>,
    pub timeline: String,
    /// How many times the client became active (the first session included).
    pub sessions: usize,
    /// The Ceph release the monitors ran (`host` for the host's own).
    pub release: String,
}

impl Report {
    pub fn ok(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.outcome == Outcome::Ok)
            .count()
    }

    /// Typed errors by kind.
    pub fn errors(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for r in &self.records {
            if let Outcome::Error(kind) = r.outcome {
                *m.entry(kind).or_default() += 1;
            }
        }
        m
    }

    pub fn refused(&self) -> Vec<&str> {
        self.records
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Refused(why) => Some(why.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn hung(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.outcome == Outcome::Hung)
            .count()
    }

    /// Sent but never finished: hung, or still pending in a stream that
    /// did not stop.
    pub fn lost(&self) -> u64 {
        self.sent - (self.records.len() - self.hung()) as u64
    }

    /// The longest time without a successful command, from the first
    /// success to the last.
    pub fn longest_gap(&self) -> Duration {
        let mut done: Vec<Instant> = self
            .records
            .iter()
            .filter(|r| r.outcome == Outcome::Ok)
            .map(|r| r.done)
            .collect();
        done.sort();
        done.windows(2)
            .map(|w| w[1].duration_since(w[0]))
            .max()
            .unwrap_or_default()
    }

    /// From `fault` to the first command that succeeded after it, if any.
    pub fn first_success_after(&self, fault: Instant) -> Option<Duration> {
        self.records
            .iter()
            .filter(|r| r.outcome == Outcome::Ok && r.done > fault)
            .map(|r| r.done.duration_since(fault))
            .min()
    }

    /// The slowest command that finished.
    pub fn slowest(&self) -> Duration {
        self.records
            .iter()
            .filter(|r| r.outcome != Outcome::Hung)
            .map(|r| r.done.duration_since(r.sent))
            .max()
            .unwrap_or_default()
    }

    /// Prints the figures for one scenario.
    pub fn print(&self, label: &str) {
        eprintln!(
            "[{label}] ({} monitors) sent {} ok {} errors {:?} refused {} hung {} lost {} | longest gap between successes {:.2}s, slowest command {:.2}s, ended on mon.{}",
            self.release,
            self.sent,
            self.ok(),
            self.errors(),
            self.refused().len(),
            self.hung(),
            self.lost(),
            self.longest_gap().as_secs_f64(),
            self.slowest().as_secs_f64(),
            self.final_mon,
        );
        eprintln!("[{label}] timeline: {}", self.timeline);
    }

    /// Every command finished exactly once, successfully or with a typed
    /// error; none hung, none was refused by the monitors, some succeeded.
    pub fn assert_all_accounted(&self, label: &str) {
        assert_eq!(
            self.unfinished_streams, 0,
            "[{label}] a command stream never stopped"
        );
        assert_eq!(self.hung(), 0, "[{label}] commands hung: {self:#?}");
        assert_eq!(self.lost(), 0, "[{label}] commands lost");
        assert_eq!(
            self.records.len() as u64,
            self.sent,
            "[{label}] every sent command has exactly one outcome"
        );
        assert!(
            self.refused().is_empty(),
            "[{label}] monitors refused commands: {:?}",
            self.refused()
        );
        assert!(self.ok() > 0, "[{label}] no command succeeded");
    }

    /// The monitors hold each stream's last acknowledged write, or a later
    /// one that failed on our side (checked with the `ceph` CLI).
    pub fn assert_writes_visible(&self, cluster: &Cluster) {
        for (stream, values) in &self.last_written {
            let out = cluster
                .ceph(&[
                    "config",
                    "get",
                    &write_target(*stream),
                    "rados_osd_op_timeout",
                ])
                .expect("ceph config get runs");
            assert!(out.success(), "ceph config get: {out:?}");
            let held = out.stdout.trim().to_string();
            assert!(
                values.contains(&held),
                "stream {stream}: monitors hold {held:?}, last writes were {values:?}"
            );
        }
    }
}
