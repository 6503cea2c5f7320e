//! `monc-bench failover`: what a client does when the monitor it talks to
//! is killed (`kill -9`), frozen (SIGSTOP) or cut off from the other
//! monitors but not from clients (`isolate`: it drops out of quorum, keeps
//! sessions and acks keepalives, and answers no command),
//! ceph-monclient and librados side by side in the same trials.
//!
//! Each trial puts both clients on the same monitor (reconnecting until the
//! ordinary random choice lands there; pinning `mon_host` to it only as a
//! fallback), runs a tight `mon dump -f json` loop on each, faults that
//! monitor, and records per side:
//! - when the client had left it for another monitor: ours from
//!   `status()`, librados from its own TCP sockets (exactly one established
//!   connection to a monitor, and not the faulted one);
//! - the first success after the fault and the longest gap between two
//!   successes, which include the monitors' own re-election;
//! - the first success after it had left (for `isolate` the victim still
//!   answers until its lease runs out, so this is the figure that counts);
//! - which end closed the client's connection to the faulted monitor first
//!   (from the kernel's TCP states: the closing end goes through FIN_WAIT
//!   and TIME_WAIT): `client` when the client left by itself, `monitor`
//!   when the monitor dropped the session (or died);
//! - as a reference for both, when the monitors' quorum was seen without
//!   the faulted monitor (polled every 200 ms by a third client connected
//!   to the other monitors only).
//!
//! A trial ends when both clients have left, the quorum has re-formed and
//! both loops have succeeded since; the monitor is then restored (SIGCONT,
//! restart or heal) and the next trial waits for the full quorum.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ceph_monclient::{MonClient, SessionState};
use ceph_testbed::{Cluster, ClusterSpec, MonInfo};
use serde_json::{json, Value};

use crate::librados::{RadosLoopTrace, RadosWorker};
use crate::native::{self, CommandLoop, LoopTrace};
use crate::sockets::{self, Closer, MonLink};
use crate::stats::{ratio, Summary};
use crate::{progress, Cli, ROUND_TRIP_COMMAND};

/// Asks the monitors who is in quorum.
const QUORUM_STATUS: &str = r#"{"prefix": "quorum_status", "format": "json"}"#;

/// How long each loop runs before the fault.
const WARM_UP: Duration = Duration::from_secs(1);

/// Restoring a monitor: the full quorum must be back within this.
const QUORUM_WAIT: Duration = Duration::from_secs(120);

/// Reconnects tried before pinning a client's `mon_host` to the victim.
const RANDOM_LANDING_TRIES: usize = 20;

/// What is done to the monitor a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fault {
    /// `kill -9`: its sockets close at once.
    Kill,
    /// SIGSTOP: it stays connected but silent.
    Stop,
    /// Cut off from the other monitors, not from clients (the testbed's
    /// peer isolation): out of quorum, it keeps sessions and acks
    /// keepalives but answers nothing.
    Isolate,
}

impl Fault {
    fn label(self) -> &'static str {
        match self {
            Fault::Kill => "kill -9",
            Fault::Stop => "SIGSTOP",
            Fault::Isolate => "isolate",
        }
    }

    /// Our aim for leaving the faulted monitor, in seconds.
    fn aim_secs(self) -> f64 {
        match self {
            Fault::Kill => 0.1,
            Fault::Stop => 3.0,
            // Served until its lease runs out, then stall_timeout (5 s).
            Fault::Isolate => 12.0,
        }
    }
}

/// Options of the `failover` subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct FailoverArgs {
    /// Trials per fault; each trial measures both clients.
    #[arg(long, default_value_t = 5)]
    pub trials: usize,
    /// Faults to inject, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_values_t = [Fault::Kill, Fault::Stop]
    )]
    pub faults: Vec<Fault>,
    /// Seconds a trial waits for both clients to recover before giving up
    /// on the missing figures.
    #[arg(long, default_value_t = 90.0)]
    pub bound_secs: f64,
    /// The monitors' mon_lease in seconds (default: the testbed's 2;
    /// Ceph's own default is 5). A monitor drops its client sessions once
    /// out of quorum for 2 x mon_lease.
    #[arg(long)]
    pub mon_lease: Option<u64>,
    /// Monitors that speak only msgr1 (`ms_bind_msgr2 = false`, v1
    /// addresses in the MonMap): both clients fail over over msgr1.
    #[arg(long)]
    pub msgr1: bool,
}

/// One client's figures in one trial, in seconds from the fault.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SideFigures {
    /// On another monitor after this long (`None`: not within the bound).
    pub left_after: Option<f64>,
    /// The first command that succeeded after the fault finished then.
    pub first_ok_after: Option<f64>,
    /// The longest time between two successes (`None`: no success after
    /// the fault).
    pub longest_gap: Option<f64>,
    /// Successful and failed commands in the trial.
    pub ok: usize,
    pub errors: u64,
    /// The slowest single command.
    pub max_call: f64,
    /// The first success that ended after the client had left the monitor.
    pub first_ok_elsewhere: Option<f64>,
    /// Which end closed the client's connection to the monitor first
    /// (`None`: still open at the end, or not seen).
    pub closed_by: Option<Closer>,
}

/// One fault, both clients.
#[derive(Debug, Clone)]
pub struct Trial {
    pub fault: Fault,
    pub victim: String,
    /// The quorum was first seen without the victim this long after the fault.
    pub quorum_after: Option<f64>,
    /// The fault had taken effect this long after the signal (killed
    /// monitor reaped; frozen one reported stopped; cut-off one out of
    /// quorum by its own account).
    pub effective_after: Option<f64>,
    pub ours: SideFigures,
    pub librados: SideFigures,
    /// Whether a client had to be pinned to the victim with `mon_host`.
    pub ours_pinned: bool,
    pub librados_pinned: bool,
}

/// Everything the failover run measured.
pub struct FailoverReport {
    pub args: FailoverArgs,
    pub trials: Vec<Trial>,
    pub environment: Vec<(&'static str, String)>,
    pub elapsed: Duration,
}

/// Runs the subcommand and prints its table (or JSON).
pub fn main(cli: &Cli, args: &FailoverArgs) -> ExitCode {
    match run(cli, args) {
        Ok(report) => {
            if cli.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report_json(&report)).expect("JSON values print")
                );
            } else {
                print!("{}", render_table(&report));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("monc-bench failover: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli, args: &FailoverArgs) -> Result<FailoverReport, String> {
    if cli.conf.is_some() {
        return Err("failover kills monitors, so it starts its own cluster; drop -c/-k".into());
    }
    if args.trials == 0 || args.faults.is_empty() {
        return Err("nothing to do: --trials and --faults must not be empty".into());
    }
    MSGR1_ONLY.store(args.msgr1, std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    let loadavg_start = crate::read_trimmed("/proc/loadavg");
    progress("starting a 3-monitor cluster (ceph-testbed)");
    let mut spec = ClusterSpec::with_mons(3).msgr1_only(args.msgr1);
    if args.faults.contains(&Fault::Isolate) {
        spec = spec.peer_isolation(true);
    }
    if let Some(lease) = args.mon_lease {
        spec = spec.mon("mon_lease", &lease.to_string());
    }
    let cluster = Cluster::start(spec).map_err(|e| format!("starting the cluster: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let conf = cluster
        .write_client_files(dir.path())
        .map_err(|e| format!("writing client files: {e}"))?;
    let keyring = dir.path().join("ceph.client.admin.keyring");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let worker = RadosWorker::start(&cli.python, &conf, &keyring, ROUND_TRIP_COMMAND)
        .map_err(|e| format!("starting the librados worker: {e}"))?;
    let mons = cluster.mons();
    let mut bench = Bench {
        rt: &rt,
        cluster: &cluster,
        conf,
        keyring,
        worker,
        mon_addrs: mons
            .iter()
            .map(|m| (m.name.clone(), vec![m.v2_addr, m.v1_addr]))
            .collect(),
        mons,
        bound: Duration::from_secs_f64(args.bound_secs.max(1.0)),
    };
    let mut trials = Vec::new();
    for &fault in &args.faults {
        for i in 0..args.trials {
            // Round-robin victims: leader and peons both get their turn.
            let victim = bench.mons[i % bench.mons.len()].clone();
            progress(&format!(
                "{} trial {}/{}: mon.{}",
                fault.label(),
                i + 1,
                args.trials,
                victim.name
            ));
            let trial = bench.run_trial(fault, &victim)?;
            progress(&format!(
                "  left after: ours {}, librados {}; longest gap: ours {}, librados {}; quorum without it after {}",
                secs_or_dash(trial.ours.left_after),
                secs_or_dash(trial.librados.left_after),
                secs_or_dash(trial.ours.longest_gap),
                secs_or_dash(trial.librados.longest_gap),
                secs_or_dash(trial.quorum_after),
            ));
            trials.push(trial);
        }
    }
    drop(bench);
    let ceph = crate::resolve_program(Path::new("ceph"));
    // The monitors' release (CEPH_RELEASE may run them from a chroot).
    let monitors = cluster
        .runtime()
        .command("ceph-mon")
        .arg("--version")
        .output()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines().next().unwrap_or("").trim().to_string()
        })
        .unwrap_or_else(|e| format!("ceph-mon --version: {e}"));
    let environment = vec![
        (
            "ceph",
            format!(
                "monitors: {monitors} (release {}); host CLI: {}",
                cluster.runtime().release(),
                crate::first_line_of(&crate::process::CommandLine::new(&ceph, &["--version"]))
            ),
        ),
        (
            "python",
            format!(
                "{} (librados via the rados module)",
                crate::first_line_of(&crate::process::CommandLine::new(
                    &cli.python,
                    &["--version"]
                ))
            ),
        ),
        (
            "machine",
            format!(
                "{} cores, {}, Linux {}",
                std::thread::available_parallelism().map_or(1, |n| n.get()),
                crate::cpu_model(),
                crate::read_trimmed("/proc/sys/kernel/osrelease")
            ),
        ),
        (
            "load",
            format!(
                "{loadavg_start} at start, {} at end",
                crate::read_trimmed("/proc/loadavg")
            ),
        ),
        (
            "cluster",
            format!(
                "ceph-testbed, 3 monitors on 127.0.0.1 (mon_lease {}, mon_election_timeout 2{}), mon_host {}",
                args.mon_lease.unwrap_or(2),
                if args.faults.contains(&Fault::Isolate) {
                    ", each in a cgroup of its own for peer isolation (nftables)"
                } else {
                    ""
                },
                cluster.mon_host()
            ),
        ),
        (
            "clients",
            "both read the same client conf (no ping or hunt overrides): ceph-monclient \
             keepalive every 1 s, session dropped after 2.5 s unanswered; librados with \
             Ceph's defaults"
                .into(),
        ),
    ];
    Ok(FailoverReport {
        args: args.clone(),
        trials,
        environment,
        elapsed: started.elapsed(),
    })
}

/// The cluster and both clients' plumbing.
struct Bench<'a> {
    rt: &'a tokio::runtime::Runtime,
    cluster: &'a Cluster,
    conf: PathBuf,
    keyring: PathBuf,
    worker: RadosWorker,
    mons: Vec<MonInfo>,
    mon_addrs: Vec<(String, Vec<SocketAddr>)>,
    bound: Duration,
}

/// Where each side stood when a trial's observation ended.
struct Watched {
    ours_left: Option<Duration>,
    librados_left: Option<Duration>,
    ended: Instant,
    /// When the fault had taken effect: the killed monitor reaped, the
    /// frozen one reported stopped by the kernel, the cut-off one out of
    /// quorum.
    effective: Option<Duration>,
    /// Which end closed each client's connection to the victim first.
    ours_closed: Option<Closer>,
    librados_closed: Option<Closer>,
}

impl Bench<'_> {
    /// A client connected to the monitors other than `victim` only, to
    /// watch the quorum without being disturbed by the fault.
    fn observer_for(&self, victim: &MonInfo) -> Result<MonClient, String> {
        let others: Vec<String> = self
            .mons
            .iter()
            .filter(|m| m.name != victim.name)
            .map(MonInfo::addrvec)
            .collect();
        let mut opts = native::options(&self.conf, &self.keyring)?;
        opts.mon_addrs = ceph_config::parse_mon_host(&others.join(","))
            .map_err(|e| format!("{}: {e}", others.join(",")))?;
        self.rt.block_on(async {
            MonClient::connect(opts)
                .await
                .map_err(|e| format!("MonClient::connect (quorum observer): {e}"))
        })
    }

    /// The monitor(s) the librados worker is connected to right now.
    fn librados_link(&self) -> Result<MonLink, String> {
        let peers = sockets::established_peers(self.worker.pid())
            .map_err(|e| format!("reading the librados worker's sockets: {e}"))?;
        Ok(sockets::mon_link(&peers, &self.mon_addrs))
    }

    /// The link once it is settled (hunting connections closed), or after 1 s.
    fn librados_settled_link(&self) -> Result<MonLink, String> {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let link = self.librados_link()?;
            if matches!(link, MonLink::One(_)) || Instant::now() >= deadline {
                return Ok(link);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Opens a librados handle that talks to `victim`; `true` if pinned.
    fn open_librados_on(&mut self, victim: &MonInfo) -> Result<bool, String> {
        let wanted = MonLink::One(victim.name.clone());
        for _ in 0..RANDOM_LANDING_TRIES {
            self.worker.open().map_err(|e| e.to_string())?;
            if self.librados_settled_link()? == wanted {
                return Ok(false);
            }
        }
        self.worker
            .open_with_mon_host(&pin_addr(victim))
            .map_err(|e| e.to_string())?;
        match self.librados_settled_link()? {
            link if link == wanted => Ok(true),
            link => Err(format!(
                "librados pinned to mon.{} is connected to {link:?}",
                victim.name
            )),
        }
    }

    /// Connects a MonClient that talks to `victim`; `true` if pinned.
    fn connect_ours_on(&self, victim: &MonInfo) -> Result<(MonClient, bool), String> {
        let on_victim = |c: &MonClient| matches!(c.status().state, SessionState::Active { ref mon, .. } if *mon == victim.name);
        let connect = |opts| {
            self.rt.block_on(async {
                MonClient::connect(opts)
                    .await
                    .map_err(|e| format!("MonClient::connect: {e}"))
            })
        };
        for _ in 0..RANDOM_LANDING_TRIES {
            let client = connect(native::options(&self.conf, &self.keyring)?)?;
            if on_victim(&client) {
                return Ok((client, false));
            }
            self.rt.block_on(client.shutdown());
        }
        let mut opts = native::options(&self.conf, &self.keyring)?;
        opts.mon_addrs = ceph_config::parse_mon_host(&pin_addr(victim))
            .map_err(|e| format!("{}: {e}", pin_addr(victim)))?;
        let client = connect(opts)?;
        if on_victim(&client) {
            Ok((client, true))
        } else {
            let state = client.status().state;
            self.rt.block_on(client.shutdown());
            Err(format!(
                "MonClient pinned to mon.{} is {state:?}",
                victim.name
            ))
        }
    }

    /// Whether both clients still talk to `victim`.
    fn both_on(&self, victim: &MonInfo, client: &MonClient) -> Result<bool, String> {
        let ours = matches!(
            client.status().state,
            SessionState::Active { ref mon, .. } if *mon == victim.name
        );
        Ok(ours && self.librados_settled_link()? == MonLink::One(victim.name.clone()))
    }

    /// Both clients on `victim` with their loops warmed up.
    fn set_up_on(
        &mut self,
        victim: &MonInfo,
    ) -> Result<(MonClient, bool, bool, CommandLoop), String> {
        for _ in 0..3 {
            let (client, ours_pinned) = self.connect_ours_on(victim)?;
            let librados_pinned = self.open_librados_on(victim)?;
            let ours_loop = CommandLoop::start(self.rt, client.clone(), ROUND_TRIP_COMMAND);
            let started = self.worker.loop_start().map_err(|e| e.to_string());
            if started.is_ok() {
                std::thread::sleep(WARM_UP);
            }
            let ready = started.and_then(|()| self.both_on(victim, &client));
            if let Ok(true) = ready {
                return Ok((client, ours_pinned, librados_pinned, ours_loop));
            }
            let stopped = ours_loop.stop(self.rt);
            if ready.is_ok() {
                self.worker.loop_stop().map_err(|e| e.to_string())?;
            }
            self.rt.block_on(client.shutdown());
            ready?;
            stopped?;
            progress("  a client moved off the monitor during warm-up; setting up again");
        }
        Err(format!(
            "the clients kept moving off mon.{} before the fault",
            victim.name
        ))
    }

    fn run_trial(&mut self, fault: Fault, victim: &MonInfo) -> Result<Trial, String> {
        let (client, ours_pinned, librados_pinned, ours_loop) = self.set_up_on(victim)?;
        let observed = self.fault_and_watch(fault, victim, &client, &ours_loop);
        // Whatever happened, give the monitor back before anything can fail.
        let restored = match fault {
            Fault::Kill => self.cluster.start_mon(&victim.name),
            Fault::Stop => self.cluster.cont(&victim.name),
            Fault::Isolate => self.cluster.heal(&victim.name),
        }
        .map_err(|e| format!("restoring mon.{}: {e}", victim.name));
        let names: Vec<&str> = self.mons.iter().map(|m| m.name.as_str()).collect();
        let quorum = self
            .cluster
            .wait_for_quorum(&names, QUORUM_WAIT)
            .map_err(|e| format!("waiting for the full quorum: {e}"));
        let ours_trace = ours_loop.stop(self.rt);
        let librados_trace = self.worker.loop_stop().map_err(|e| e.to_string());
        self.rt.block_on(client.shutdown());
        let (fault_at, fault_ns, watched, quorum_at) = observed?;
        restored?;
        quorum?;
        let window_end = watched.ended.duration_since(fault_at).as_secs_f64();
        let ours_ok = ours_relative(&ours_trace?, fault_at);
        let librados_ok = librados_relative(&librados_trace?, fault_ns);
        Ok(Trial {
            fault,
            victim: victim.name.clone(),
            quorum_after: quorum_at.map(|t| t.duration_since(fault_at).as_secs_f64()),
            effective_after: watched.effective.map(|d| d.as_secs_f64()),
            ours: side_figures(watched.ours_left, ours_ok, window_end, watched.ours_closed),
            librados: side_figures(
                watched.librados_left,
                librados_ok,
                window_end,
                watched.librados_closed,
            ),
            ours_pinned,
            librados_pinned,
        })
    }

    /// Faults `victim` and watches until both clients recovered (or the
    /// bound). Returns the fault's time (as an Instant and in
    /// CLOCK_MONOTONIC ns), what was seen, and when the quorum was first
    /// seen without the victim.
    #[allow(clippy::type_complexity)]
    fn fault_and_watch(
        &mut self,
        fault: Fault,
        victim: &MonInfo,
        client: &MonClient,
        ours_loop: &CommandLoop,
    ) -> Result<(Instant, u64, Watched, Option<Instant>), String> {
        let pid = self
            .cluster
            .mon(&victim.name)
            .ok()
            .and_then(|m| m.pid)
            .ok_or_else(|| format!("mon.{} is not running", victim.name))?;
        let observer = self.observer_for(victim)?;
        // Each client's connection to the victim, to see who closes it.
        let victim_addrs = [victim.v2_addr, victim.v1_addr];
        let own_end = |pid: u32| {
            sockets::local_ends_towards(pid, &victim_addrs)
                .ok()
                .filter(|ends| ends.len() == 1)
                .map(|ends| ends[0])
        };
        let ends = (own_end(std::process::id()), own_end(self.worker.pid()));
        let quorum_at = Arc::new(Mutex::new(None));
        let fault_at = Instant::now();
        let fault_ns = monotonic_ns();
        // Done here, and the testbed's bookkeeping (reaping a killed
        // monitor can take seconds on a loaded machine; stop waits for the
        // kernel to report it; a cut-off monitor takes seconds to notice)
        // runs beside the watch so it delays nothing.
        let faulted = match fault {
            Fault::Kill | Fault::Stop => {
                let signal = if fault == Fault::Kill {
                    libc::SIGKILL
                } else {
                    libc::SIGSTOP
                };
                // SAFETY: kill(2) on a pid we own; no memory is involved.
                if unsafe { libc::kill(pid as libc::pid_t, signal) } == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error().to_string())
                }
            }
            Fault::Isolate => self
                .cluster
                .isolate_from_peers(&victim.name)
                .map_err(|e| e.to_string()),
        };
        if let Err(e) = faulted {
            self.rt.block_on(observer.shutdown());
            return Err(format!("{} of mon.{}: {e}", fault.label(), victim.name));
        }
        let watch = self.rt.spawn(watch_quorum(
            observer.clone(),
            victim.name.clone(),
            quorum_at.clone(),
        ));
        let (cluster, bound) = (self.cluster, self.bound);
        let (watched, bookkeeping) = std::thread::scope(|scope| {
            let bookkeeping = scope.spawn(|| match fault {
                Fault::Kill => cluster.kill(&victim.name).map(|()| fault_at.elapsed()),
                Fault::Stop => cluster.stop(&victim.name).map(|()| fault_at.elapsed()),
                Fault::Isolate => {
                    while fault_at.elapsed() < bound {
                        let state = cluster
                            .mon_status(&victim.name)
                            .ok()
                            .and_then(|s| s["state"].as_str().map(str::to_string));
                        if state.is_some_and(|s| s != "leader" && s != "peon") {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Ok(fault_at.elapsed())
                }
            });
            let watched = self.watch(
                victim, client, ours_loop, fault_at, fault_ns, &quorum_at, ends,
            );
            (watched, bookkeeping.join())
        });
        watch.abort();
        self.rt.block_on(observer.shutdown());
        let effective = match bookkeeping {
            Ok(Ok(took)) => took,
            Ok(Err(e)) => return Err(format!("{} of mon.{}: {e}", fault.label(), victim.name)),
            Err(_) => return Err("the testbed panicked while faulting a monitor".into()),
        };
        let quorum_at = *quorum_at.lock().unwrap_or_else(|p| p.into_inner());
        let mut watched = watched?;
        watched.effective = Some(effective);
        Ok((fault_at, fault_ns, watched, quorum_at))
    }

    #[allow(clippy::too_many_arguments)]
    fn watch(
        &mut self,
        victim: &MonInfo,
        client: &MonClient,
        ours_loop: &CommandLoop,
        fault_at: Instant,
        fault_ns: u64,
        quorum_at: &Mutex<Option<Instant>>,
        (ours_end, librados_end): (Option<SocketAddr>, Option<SocketAddr>),
    ) -> Result<Watched, String> {
        let ours_left = LeaveWatch::default();
        let librados_left = LeaveWatch::default();
        let closers: Mutex<(Option<Closer>, Option<Closer>)> = Mutex::new((None, None));
        let closing_done = std::sync::atomic::AtomicBool::new(false);
        let (pid, mon_addrs, bound) = (self.worker.pid(), self.mon_addrs.clone(), self.bound);
        // One poller per side, so neither side's check delays the other's.
        let result = std::thread::scope(|scope| {
            scope.spawn(|| {
                ours_left.poll(fault_at, bound, || {
                    Ok(matches!(
                        client.status().state,
                        SessionState::Active { ref mon, .. } if *mon != victim.name
                    ))
                })
            });
            scope.spawn(|| {
                librados_left.poll(fault_at, bound, || {
                    let peers = sockets::established_peers(pid)
                        .map_err(|e| format!("reading the librados worker's sockets: {e}"))?;
                    Ok(matches!(
                        sockets::mon_link(&peers, &mon_addrs),
                        MonLink::One(ref mon) if *mon != victim.name
                    ))
                })
            });
            // Who closes each connection to the victim; a closing end
            // stays in TIME_WAIT for a minute, so 20 ms polls see it.
            scope.spawn(|| {
                use std::sync::atomic::Ordering;
                let monitor = victim.v2_addr;
                let seen = |end: Option<SocketAddr>| {
                    end.and_then(|e| {
                        sockets::closed_first_now(e, monitor)
                            .or_else(|| sockets::closed_first_now(e, victim.v1_addr))
                    })
                };
                loop {
                    let stop = closing_done.load(Ordering::Relaxed);
                    {
                        let mut c = closers.lock().unwrap_or_else(|p| p.into_inner());
                        if c.0.is_none() {
                            c.0 = seen(ours_end);
                        }
                        if c.1.is_none() {
                            c.1 = seen(librados_end);
                        }
                    }
                    if stop {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            let finished = self.wait_recovered(
                ours_loop,
                fault_at,
                fault_ns,
                quorum_at,
                &ours_left,
                &librados_left,
            );
            ours_left.give_up();
            librados_left.give_up();
            closing_done.store(true, std::sync::atomic::Ordering::Relaxed);
            finished
        });
        result?;
        let (ours_closed, librados_closed) = *closers.lock().unwrap_or_else(|p| p.into_inner());
        Ok(Watched {
            ours_left: ours_left.result()?,
            librados_left: librados_left.result()?,
            ended: Instant::now(),
            effective: None,
            ours_closed,
            librados_closed,
        })
    }

    /// Returns once both sides left, the quorum re-formed without the
    /// victim and both loops succeeded since; or at the bound.
    fn wait_recovered(
        &mut self,
        ours_loop: &CommandLoop,
        fault_at: Instant,
        fault_ns: u64,
        quorum_at: &Mutex<Option<Instant>>,
        ours_left: &LeaveWatch,
        librados_left: &LeaveWatch,
    ) -> Result<(), String> {
        while fault_at.elapsed() < self.bound {
            std::thread::sleep(Duration::from_millis(100));
            if !(ours_left.settled() && librados_left.settled()) {
                continue;
            }
            let quorum = *quorum_at.lock().unwrap_or_else(|p| p.into_inner());
            let Some(q) = quorum else { continue };
            let q_ns = fault_ns + q.duration_since(fault_at).as_nanos() as u64;
            let ours_ok = ours_loop.last_ok().is_some_and(|t| t > q);
            let librados_ok = self
                .worker
                .loop_last_ok()
                .map_err(|e| e.to_string())?
                .is_some_and(|ns| ns > q_ns);
            if ours_ok && librados_ok {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// One side's "has it left the victim" poller, shared with its thread.
#[derive(Default)]
struct LeaveWatch {
    /// `Some` once settled: when it left (`None`: never), or why polling failed.
    outcome: Mutex<Option<Result<Option<Duration>, String>>>,
    stop: std::sync::atomic::AtomicBool,
}

impl LeaveWatch {
    /// Polls `has_left` until it says yes, fails, `give_up` is called, or
    /// `bound` passes. The time kept is when the check that said yes began.
    fn poll(
        &self,
        fault_at: Instant,
        bound: Duration,
        mut has_left: impl FnMut() -> Result<bool, String>,
    ) {
        use std::sync::atomic::Ordering;
        let outcome = loop {
            let checked_at = Instant::now();
            match has_left() {
                Ok(true) => break Ok(Some(checked_at.duration_since(fault_at))),
                Ok(false) => {}
                Err(e) => break Err(e),
            }
            let since = checked_at.duration_since(fault_at);
            if since >= bound || self.stop.load(Ordering::Relaxed) {
                break Ok(None);
            }
            // Fine polling while a killed monitor is left (ms), coarser
            // for the seconds a frozen one takes.
            let pause = if since < Duration::from_secs(1) {
                Duration::from_micros(500)
            } else {
                Duration::from_millis(5)
            };
            std::thread::sleep(pause);
        };
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
    }

    fn settled(&self) -> bool {
        self.outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    fn give_up(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn result(&self) -> Result<Option<Duration>, String> {
        self.outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or(Ok(None))
    }
}

/// Polls `quorum_status` until the quorum has re-formed without `victim`
/// and records when that was first seen.
async fn watch_quorum(observer: MonClient, victim: String, seen: Arc<Mutex<Option<Instant>>>) {
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let reply = observer
            .command_with_timeout(QUORUM_STATUS, Vec::new(), Some(Duration::from_secs(2)))
            .await;
        if let Ok(reply) = reply {
            if reply.retval == 0 && quorum_without(&reply.outbl, &victim) {
                *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                return;
            }
        }
    }
}

/// Whether a `quorum_status` reply shows a settled quorum (even election
/// epoch, a majority of the monmap) that does not include `victim`.
pub fn quorum_without(reply: &[u8], victim: &str) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(reply) else {
        return false;
    };
    let Some(names) = v["quorum_names"].as_array() else {
        return false;
    };
    let in_monmap = v["monmap"]["mons"].as_array().map_or(0, Vec::len);
    let settled = v["election_epoch"].as_u64().is_some_and(|e| e % 2 == 0);
    settled && names.len() * 2 > in_monmap && !names.iter().any(|n| n.as_str() == Some(victim))
}

/// CLOCK_MONOTONIC in ns, the clock Python's `time.monotonic_ns` reads.
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Successes as (start, end), in seconds from the fault (negative: before it).
type Successes = Vec<(f64, f64)>;

/// Our successes relative to the fault.
fn ours_relative(trace: &LoopTrace, fault_at: Instant) -> (Successes, u64, f64) {
    let rel = |t: Instant| match t.checked_duration_since(fault_at) {
        Some(after) => after.as_secs_f64(),
        None => -fault_at.duration_since(t).as_secs_f64(),
    };
    let ok = trace.ok_at.iter().map(|&(s, e)| (rel(s), rel(e))).collect();
    (ok, trace.errors, trace.max_call.as_secs_f64())
}

/// librados successes relative to the fault.
fn librados_relative(trace: &RadosLoopTrace, fault_ns: u64) -> (Successes, u64, f64) {
    let rel = |ns: u64| (ns as i128 - fault_ns as i128) as f64 / 1e9;
    let ok = trace.ok_ns.iter().map(|&(s, e)| (rel(s), rel(e))).collect();
    (ok, trace.errors, trace.max_call.as_secs_f64())
}

/// Figures from successes (seconds from the fault), cut at `window_end`
/// (when the observation stopped and the monitor was restored).
fn side_figures(
    left: Option<Duration>,
    (ok_at, errors, max_call): (Successes, u64, f64),
    window_end: f64,
    closed_by: Option<Closer>,
) -> SideFigures {
    let mut ok: Successes = ok_at
        .into_iter()
        .filter(|&(_, e)| e <= window_end)
        .collect();
    ok.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (first_ok_after, longest_gap) = gap_figures(&ok);
    let left_after = left.map(|d| d.as_secs_f64());
    let first_ok_elsewhere =
        left_after.and_then(|l| ok.iter().map(|&(_, end)| end).find(|&end| end >= l));
    SideFigures {
        left_after,
        first_ok_elsewhere,
        closed_by,
        first_ok_after,
        longest_gap,
        ok: ok.len(),
        errors,
        max_call,
    }
}

/// From successes (start, end) in ascending end order, seconds from the
/// fault: when the first command *sent* after the fault succeeded (a reply
/// already in flight does not count), and the longest gap between the ends
/// of consecutive successes (from the fault itself if none came before).
/// `None` when no command sent after the fault succeeded.
pub fn gap_figures(ok_sorted: &[(f64, f64)]) -> (Option<f64>, Option<f64>) {
    let Some(first_after) = ok_sorted
        .iter()
        .filter(|&&(start, _)| start > 0.0)
        .map(|&(_, end)| end)
        .reduce(f64::min)
    else {
        return (None, None);
    };
    let ends: Vec<f64> = ok_sorted.iter().map(|&(_, end)| end).collect();
    let before = ends.iter().copied().rfind(|&t| t <= 0.0);
    let first_end_after = ends
        .iter()
        .copied()
        .find(|&t| t > 0.0)
        .unwrap_or(first_after);
    let longest = ends
        .windows(2)
        .map(|w| w[1] - w[0])
        .chain(std::iter::once(first_end_after - before.unwrap_or(0.0)))
        .fold(0.0, f64::max);
    (Some(first_after), Some(longest))
}

fn secs_or_dash(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |s| format!("{s:.3}s"))
}

/// The figure `pick` over the trials of `fault`: summary of the trials
/// that have it, and how many do not.
fn summarize(
    trials: &[Trial],
    fault: Fault,
    pick: impl Fn(&Trial) -> Option<f64>,
) -> (Option<Summary>, usize) {
    let values: Vec<Option<f64>> = trials
        .iter()
        .filter(|t| t.fault == fault)
        .map(pick)
        .collect();
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    (Summary::of(&present), values.len() - present.len())
}

/// `median [min-max]`, with how many trials lack the figure.
fn fmt_summary((summary, missing): &(Option<Summary>, usize)) -> String {
    let text = summary.map_or_else(
        || "-".to_string(),
        |s| format!("{:.3} [{:.3}-{:.3}]", s.median, s.min, s.max),
    );
    if *missing > 0 {
        format!("{text} ({missing} none)")
    } else {
        text
    }
}

fn fmt_ratio(theirs: &(Option<Summary>, usize), ours: &(Option<Summary>, usize)) -> String {
    match (theirs.0, ours.0) {
        (Some(t), Some(o)) => ratio(t.median, o.median).map_or_else(
            || "-".into(),
            |r| {
                if r >= 10.0 {
                    format!("{r:.0}x")
                } else {
                    format!("{r:.1}x")
                }
            },
        ),
        _ => "-".into(),
    }
}

type Pick = fn(&SideFigures) -> Option<f64>;

/// The per-side figures shown, with their labels.
const FIGURES: [(&str, Pick); 4] = [
    ("left the monitor for another", |s| s.left_after),
    ("first success sent after the fault", |s| s.first_ok_after),
    ("first success after leaving the monitor", |s| {
        s.first_ok_elsewhere
    }),
    ("longest gap between successes", |s| s.longest_gap),
];

/// Renders the report as the text table.
pub fn render_table(r: &FailoverReport) -> String {
    let mut out = String::from(
        "monc-bench failover: ceph-monclient vs librados when the monitor they use fails\n",
    );
    for (key, value) in &r.environment {
        out.push_str(&format!("  {:<9} {value}\n", format!("{key}:")));
    }
    out.push_str(&format!(
        "\nSeconds from the fault, median [min-max] of {} trials per fault; both clients on the \
         faulted monitor in every trial,\na `mon dump -f json` loop running on each (victims \
         round-robin over the monitors)\n",
        r.args.trials
    ));
    let mut rows = vec![vec![
        "fault".to_string(),
        "figure".into(),
        "ceph-monclient".into(),
        "librados".into(),
        "librados/monclient".into(),
    ]];
    for &fault in &r.args.faults {
        for (label, pick) in FIGURES {
            let ours = summarize(&r.trials, fault, |t| pick(&t.ours));
            let theirs = summarize(&r.trials, fault, |t| pick(&t.librados));
            rows.push(vec![
                fault.label().into(),
                label.into(),
                fmt_summary(&ours),
                fmt_summary(&theirs),
                fmt_ratio(&theirs, &ours),
            ]);
        }
        let effective = summarize(&r.trials, fault, |t| t.effective_after);
        rows.push(vec![
            fault.label().into(),
            match fault {
                Fault::Kill => "killed monitor reaped (reference)",
                Fault::Stop => "kernel reports it stopped (reference)",
                Fault::Isolate => "cut-off monitor out of quorum, own view (reference)",
            }
            .into(),
            fmt_summary(&effective),
            "(same trials)".into(),
        ]);
        let quorum = summarize(&r.trials, fault, |t| t.quorum_after);
        rows.push(vec![
            fault.label().into(),
            "monitors' quorum re-formed without it (reference)".into(),
            fmt_summary(&quorum),
            "(same trials)".into(),
        ]);
    }
    out.push_str(&crate::render_rows(&rows));

    out.push_str("\nAims for ceph-monclient (median time to leave)\n");
    for &fault in &r.args.faults {
        let left = summarize(&r.trials, fault, |t| t.ours.left_after);
        let verdict = match left {
            (Some(s), 0) if s.median <= fault.aim_secs() => "met",
            (Some(_), 0) => "MISSED",
            _ => "MISSED (a trial did not leave)",
        };
        out.push_str(&format!(
            "  {}: <= {} s: {verdict}\n",
            fault.label(),
            fault.aim_secs()
        ));
    }

    out.push_str("\nTrials (s; ok/err = successful/failed commands in the trial)\n");
    let mut rows = vec![vec![
        "fault".to_string(),
        "mon".into(),
        "effect".into(),
        "quorum".into(),
        "ours left".into(),
        "first".into(),
        "elsewhere".into(),
        "gap".into(),
        "ok/err".into(),
        "closed by".into(),
        "librados left".into(),
        "first".into(),
        "elsewhere".into(),
        "gap".into(),
        "ok/err".into(),
        "closed by".into(),
    ]];
    let opt = |v: Option<f64>| v.map_or_else(|| "-".into(), |s| format!("{s:.3}"));
    for t in &r.trials {
        let pinned = |p: bool| if p { "*" } else { "" };
        rows.push(vec![
            t.fault.label().into(),
            t.victim.clone(),
            opt(t.effective_after),
            opt(t.quorum_after),
            format!("{}{}", pinned(t.ours_pinned), opt(t.ours.left_after)),
            opt(t.ours.first_ok_after),
            opt(t.ours.first_ok_elsewhere),
            opt(t.ours.longest_gap),
            format!("{}/{}", t.ours.ok, t.ours.errors),
            closer(t.ours.closed_by).into(),
            format!(
                "{}{}",
                pinned(t.librados_pinned),
                opt(t.librados.left_after)
            ),
            opt(t.librados.first_ok_after),
            opt(t.librados.first_ok_elsewhere),
            opt(t.librados.longest_gap),
            format!("{}/{}", t.librados.ok, t.librados.errors),
            closer(t.librados.closed_by).into(),
        ]);
    }
    out.push_str(&crate::render_rows(&rows));
    out.push_str(
        "\nHow: ours left = status() shows a session on another monitor; librados left = its \
         process has exactly one\nestablished TCP connection to a monitor port (/proc/PID/fd + \
         /proc/PID/net/tcp), not the faulted one. * = the\nclient was pinned to the victim with \
         mon_host (random choice never landed there). A trial ends once both left,\nthe quorum \
         re-formed and both loops succeeded since; then the monitor is restored (SIGCONT, \
         restart or heal)\nand the full quorum awaited before the next trial. first = first \
         success sent after the fault; elsewhere = first success\nafter the client had left \
         the monitor. closed by = which end\nclosed the client's connection to \
         the faulted monitor first (kernel TCP states): client = the client left by itself,\n\
         monitor = the monitor dropped the session (or died); - = still open or not seen.\n",
    );
    out.push_str(&format!("\ntotal {:.1} s\n", r.elapsed.as_secs_f64()));
    out
}

fn closer(c: Option<Closer>) -> &'static str {
    c.map_or("-", Closer::label)
}

fn side_json(s: &SideFigures) -> Value {
    json!({
        "left_after_s": s.left_after,
        "first_ok_after_leaving_s": s.first_ok_elsewhere,
        "closed_by": s.closed_by.map(Closer::label),
        "first_ok_after_s": s.first_ok_after,
        "longest_gap_s": s.longest_gap,
        "ok": s.ok,
        "errors": s.errors,
        "max_call_s": s.max_call,
    })
}

/// The report as JSON.
pub fn report_json(r: &FailoverReport) -> Value {
    let summary_json = |s: &(Option<Summary>, usize)| json!({"summary": s.0.map(Summary::to_json), "missing": s.1});
    let faults: Vec<Value> = r
        .args
        .faults
        .iter()
        .map(|&fault| {
            let mut figures = serde_json::Map::new();
            for (label, pick) in FIGURES {
                let ours = summarize(&r.trials, fault, |t| pick(&t.ours));
                let theirs = summarize(&r.trials, fault, |t| pick(&t.librados));
                figures.insert(
                    label.to_string(),
                    json!({
                        "monclient_s": summary_json(&ours),
                        "librados_s": summary_json(&theirs),
                        "ratio_median": match (theirs.0, ours.0) {
                            (Some(t), Some(o)) => ratio(t.median, o.median),
                            _ => None,
                        },
                    }),
                );
            }
            json!({
                "fault": fault.label(),
                "figures": figures,
                "quorum_reformed_s": summary_json(&summarize(&r.trials, fault, |t| t.quorum_after)),
            })
        })
        .collect();
    let trials: Vec<Value> = r
        .trials
        .iter()
        .map(|t| {
            json!({
                "fault": t.fault.label(),
                "victim": t.victim,
                "quorum_reformed_s": t.quorum_after,
                "fault_effective_s": t.effective_after,
                "monclient": side_json(&t.ours),
                "librados": side_json(&t.librados),
                "monclient_pinned": t.ours_pinned,
                "librados_pinned": t.librados_pinned,
            })
        })
        .collect();
    let environment: serde_json::Map<String, Value> = r
        .environment
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
        .collect();
    json!({
        "environment": environment,
        "trials_per_fault": r.args.trials,
        "bound_s": r.args.bound_secs,
        "command": ROUND_TRIP_COMMAND,
        "faults": faults,
        "trials": trials,
        "total_secs": r.elapsed.as_secs_f64(),
    })
}

/// The address a client is pinned to for `victim`: its vector, or only its
/// v1 address when the monitors speak only msgr1 (the MonMap has no v2
/// address; a pinned v2 one would never answer).
fn pin_addr(victim: &MonInfo) -> String {
    if is_msgr1_only() {
        format!("v1:{}", victim.v1_addr)
    } else {
        victim.addrvec()
    }
}

static MSGR1_ONLY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn is_msgr1_only() -> bool {
    MSGR1_ONLY.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_span_the_fault() {
        // Ends only matter for gaps; starts decide "sent after the fault".
        let ok = |ends: &[f64]| -> Successes { ends.iter().map(|&e| (e - 0.001, e)).collect() };
        let (first, gap) = gap_figures(&ok(&[-0.3, -0.2, -0.1, 12.0, 12.1]));
        assert_eq!(first, Some(12.0));
        assert!((gap.unwrap() - 12.1).abs() < 1e-9, "{gap:?}");
        // A stall that starts after a few successes on the new monitor.
        let (first, gap) = gap_figures(&ok(&[-0.1, 0.05, 0.1, 8.1, 8.2]));
        assert_eq!(first, Some(0.05));
        assert!((gap.unwrap() - 8.0).abs() < 1e-9, "{gap:?}");
        // Nothing before the fault: measured from the fault.
        assert_eq!(gap_figures(&ok(&[2.0, 2.5])), (Some(2.0), Some(2.0)));
        // A reply in flight at the fault is not a recovery.
        let (first, gap) = gap_figures(&[(-0.001, 0.0005), (5.0, 5.6)]);
        assert_eq!(first, Some(5.6));
        assert!((gap.unwrap() - 5.5995).abs() < 1e-9, "{gap:?}");
        // Never recovered.
        assert_eq!(gap_figures(&ok(&[-1.0, -0.5])), (None, None));
        assert_eq!(gap_figures(&[(-0.1, 0.2)]), (None, None));
        assert_eq!(gap_figures(&[]), (None, None));
    }

    #[test]
    fn side_figures_cut_at_the_window_end() {
        let s = side_figures(
            Some(Duration::from_millis(30)),
            (
                vec![(4.9, 5.0), (-0.2, -0.1), (0.4, 0.5), (39.0, 40.0)],
                2,
                0.25,
            ),
            10.0,
            Some(Closer::Client),
        );
        assert_eq!(s.first_ok_elsewhere, Some(0.5));
        assert_eq!(s.closed_by, Some(Closer::Client));
        assert_eq!(s.left_after, Some(0.03));
        assert_eq!(s.first_ok_after, Some(0.5));
        assert!((s.longest_gap.unwrap() - 4.5).abs() < 1e-9);
        assert_eq!((s.ok, s.errors), (3, 2));
    }

    #[test]
    fn quorum_without_needs_a_settled_majority_without_the_victim() {
        let reply = |epoch: u64, names: &[&str]| {
            json!({
                "election_epoch": epoch,
                "quorum_names": names,
                "monmap": {"mons": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
            })
            .to_string()
            .into_bytes()
        };
        assert!(quorum_without(&reply(8, &["b", "c"]), "a"));
        assert!(!quorum_without(&reply(8, &["a", "b", "c"]), "a"));
        assert!(!quorum_without(&reply(9, &["b", "c"]), "a"), "mid-election");
        assert!(!quorum_without(&reply(8, &["b"]), "a"), "no majority");
        assert!(!quorum_without(b"not json", "a"));
        assert!(!quorum_without(b"{}", "a"));
    }

    #[test]
    fn python_and_rust_read_the_same_clock() {
        let ours = monotonic_ns();
        let out = std::process::Command::new("/usr/bin/python3")
            .args(["-c", "import time; print(time.monotonic_ns())"])
            .output();
        // Only meaningful where the librados side can run at all.
        let Ok(out) = out else { return };
        let theirs: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let after = monotonic_ns();
        assert!(ours <= theirs && theirs <= after, "{ours} {theirs} {after}");
    }

    fn trial(fault: Fault, ours_left: Option<f64>, theirs_left: f64) -> Trial {
        let side = |left| SideFigures {
            left_after: left,
            first_ok_after: Some(10.0),
            longest_gap: Some(10.0),
            ok: 100,
            errors: 0,
            max_call: 10.0,
            first_ok_elsewhere: Some(10.0),
            closed_by: None,
        };
        Trial {
            fault,
            victim: "a".into(),
            quorum_after: Some(9.0),
            effective_after: Some(0.01),
            ours: side(ours_left),
            librados: side(Some(theirs_left)),
            ours_pinned: false,
            librados_pinned: true,
        }
    }

    #[test]
    fn table_shows_medians_ratios_aims_and_missing_trials() {
        let report = FailoverReport {
            args: FailoverArgs {
                trials: 3,
                faults: vec![Fault::Kill, Fault::Stop],
                bound_secs: 90.0,
                mon_lease: None,
                msgr1: false,
            },
            trials: vec![
                trial(Fault::Kill, Some(0.002), 0.05),
                trial(Fault::Kill, Some(0.004), 0.04),
                trial(Fault::Kill, Some(0.003), 0.06),
                trial(Fault::Stop, Some(2.9), 25.0),
                trial(Fault::Stop, None, 30.0),
                trial(Fault::Stop, Some(3.1), 20.0),
            ],
            environment: vec![("ceph", "ceph version 16.2.15".into())],
            elapsed: Duration::from_secs(1),
        };
        let text = render_table(&report);
        let kill_row = text
            .lines()
            .find(|l| l.contains("kill -9") && l.contains("left the monitor"))
            .unwrap();
        assert!(kill_row.contains("0.003 [0.002-0.004]"), "{kill_row}");
        assert!(kill_row.contains("0.050 [0.040-0.060]"), "{kill_row}");
        assert!(kill_row.trim_end().ends_with("17x"), "{kill_row}");
        let stop_row = text
            .lines()
            .find(|l| l.contains("SIGSTOP") && l.contains("left the monitor"))
            .unwrap();
        assert!(stop_row.contains("(1 none)"), "{stop_row}");
        assert!(text.contains("kill -9: <= 0.1 s: met"), "{text}");
        assert!(text.contains("SIGSTOP: <= 3 s: MISSED"), "{text}");
        assert!(text.contains("*0.050"), "pinned librados is marked: {text}");
        let v = report_json(&report);
        assert_eq!(v["trials"].as_array().unwrap().len(), 6);
        assert_eq!(
            v["faults"][1]["figures"]["left the monitor for another"]["monclient_s"]["missing"],
            1
        );
    }
}
