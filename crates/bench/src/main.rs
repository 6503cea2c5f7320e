//! `monc-bench`: side-by-side timings of `monc` against the `ceph` CLI and
//! of `ceph-monclient` against librados, on a throwaway 3-monitor cluster
//! (or on one given with `-c CONF -k KEYRING`).
//!
//! Four measurements, each interleaved between the two sides so both see
//! the same machine state:
//! 1. whole-process wall time of ten read-only commands;
//! 2. library connect time (to an authenticated session with a MonMap);
//! 3. command round trips and commands/s on an open session;
//! 4. peak RSS of one `status` process.
//!
//! `monc-bench failover` instead measures how both libraries leave a
//! monitor that is killed, frozen or cut off from its peers (see the
//! `failover` module).

mod daemons;
mod failover;
mod librados;
mod load;
mod native;
mod process;
mod sessions;
mod sockets;
mod stats;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{json, Value};

use librados::RadosWorker;
use process::{CommandLine, ProcessRun};
use stats::{ratio, Summary};

/// The command sections 3 times, as the monitors receive it.
const ROUND_TRIP_COMMAND: &str = r#"{"prefix": "mon dump", "format": "json"}"#;

/// Commands timed as whole processes: (label, words).
const PROCESS_COMMANDS: &[(&str, &[&str])] = &[
    ("mon dump -f json", &["mon", "dump", "-f", "json"]),
    ("status -f json", &["status", "-f", "json"]),
    ("health", &["health"]),
    ("osd pool ls", &["osd", "pool", "ls"]),
    ("quorum_status", &["quorum_status"]),
    (
        "mon feature ls -f json",
        &["mon", "feature", "ls", "-f", "json"],
    ),
    ("osd dump -f json", &["osd", "dump", "-f", "json"]),
    ("config dump -f json", &["config", "dump", "-f", "json"]),
    (
        "osd erasure-code-profile ls",
        &["osd", "erasure-code-profile", "ls"],
    ),
    ("osd crush rule ls", &["osd", "crush", "rule", "ls"]),
];

/// Concurrency levels for the commands/s measurement.
const CONCURRENCY: [usize; 2] = [1, 8];

/// Round trips are interleaved in batches of this many.
const ROUND_TRIP_BATCH: usize = 20;

#[derive(Parser, Debug)]
#[command(
    name = "monc-bench",
    about = "Benchmark monc against the ceph CLI and ceph-monclient against librados",
    long_about = "Benchmark monc against the ceph CLI and ceph-monclient against librados.\n\n\
        Starts a 3-monitor cluster with ceph-testbed unless -c and -k name an existing one. \
        Progress goes to stderr; the table (or JSON with --json) to stdout.\n\n\
        `monc-bench failover` measures failover instead (see its --help)."
)]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    /// ceph.conf of an existing cluster (with -k); default: start a testbed.
    #[arg(short = 'c', long = "conf", requires = "keyring")]
    conf: Option<PathBuf>,
    /// Keyring with client.admin's key (with -c).
    #[arg(short = 'k', long = "keyring", requires = "conf")]
    keyring: Option<PathBuf>,
    /// The monc binary [default: `monc` beside this binary].
    #[arg(long)]
    monc: Option<PathBuf>,
    /// The reference CLI.
    #[arg(long, default_value = "ceph")]
    ceph: PathBuf,
    /// A Python with the `rados` module.
    #[arg(long, default_value = "/usr/bin/python3", global = true)]
    python: PathBuf,
    /// A shorter run (fewer samples, shorter throughput windows).
    #[arg(long)]
    quick: bool,
    /// Whole-process runs per command and tool [default: 10, quick 5].
    #[arg(long)]
    runs: Option<usize>,
    /// Library connects per side [default: 20, quick 10].
    #[arg(long)]
    connects: Option<usize>,
    /// Round trips per side [default: 200, quick 100].
    #[arg(long)]
    round_trips: Option<usize>,
    /// Seconds per commands/s window [default: 3, quick 1].
    #[arg(long)]
    tput_secs: Option<f64>,
    /// Peak-RSS runs per tool [default: 3].
    #[arg(long, default_value_t = 3)]
    rss_runs: usize,
    /// Print the results as JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

/// What to measure instead of the default sections.
#[derive(clap::Subcommand, Debug)]
enum Mode {
    /// The monitor a client uses is killed (kill -9) or frozen (SIGSTOP):
    /// how fast ceph-monclient and librados leave it, and their longest
    /// gap between successful commands. Starts its own 3-monitor cluster.
    Failover(failover::FailoverArgs),
    /// N monitor commands issued at once on one ceph-monclient session;
    /// prints, last, one JSON line: answered, failed, resets (sessions lost
    /// or moved), seconds, max_rss_kib. `--librados` runs the same count
    /// over threads on librados first.
    Load(load::LoadArgs),
    /// Whole-process wall time of manager, OSD, PG and admin-socket
    /// commands, monc against the ceph CLI, on a cluster with a manager and
    /// 3 OSDs (started here unless -c/-k name one).
    Daemons(daemons::DaemonsArgs),
    /// N idle ceph-monclient sessions in one process: connect rate, memory
    /// per session, clean shutdown of all; prints one JSON line.
    Sessions(sessions::SessionsArgs),
}

/// Sample sizes after defaults and `--quick`.
#[derive(Debug, Clone, Copy)]
struct Plan {
    runs: usize,
    connects: usize,
    round_trips: usize,
    tput_secs: f64,
    rss_runs: usize,
}

impl Plan {
    fn from_cli(cli: &Cli) -> Plan {
        let (runs, connects, round_trips, tput_secs) = if cli.quick {
            (5, 10, 100, 1.0)
        } else {
            (10, 20, 200, 3.0)
        };
        Plan {
            runs: cli.runs.unwrap_or(runs).max(1),
            connects: cli.connects.unwrap_or(connects).max(1),
            round_trips: cli.round_trips.unwrap_or(round_trips).max(1),
            tput_secs: cli.tput_secs.unwrap_or(tput_secs).max(0.1),
            rss_runs: cli.rss_runs.max(1),
        }
    }
}

/// Commands completed in a time window.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    pub count: u64,
    pub secs: f64,
}

impl Throughput {
    /// Commands per second.
    pub fn per_sec(&self) -> f64 {
        if self.secs > 0.0 {
            self.count as f64 / self.secs
        } else {
            0.0
        }
    }
}

/// Where and what the benchmark ran on.
struct Environment {
    ceph_version: String,
    python_version: String,
    monc_version: String,
    cores: usize,
    cpu_model: String,
    kernel: String,
    loadavg_start: String,
    loadavg_end: String,
    cluster: String,
    runtime: String,
}

/// Section 1: one command timed as whole processes on both sides.
struct ProcessRow {
    label: &'static str,
    monc_cmd: CommandLine,
    ceph_cmd: CommandLine,
    monc: Vec<ProcessRun>,
    ceph: Vec<ProcessRun>,
}

/// Everything measured.
struct Report {
    plan: Plan,
    env: Environment,
    processes: Vec<ProcessRow>,
    connect_ours: Vec<Duration>,
    connect_librados: Vec<Duration>,
    rt_ours: Vec<Duration>,
    rt_librados: Vec<Duration>,
    tput_ours: Vec<(usize, Throughput)>,
    tput_librados: Vec<(usize, Throughput)>,
    rss_monc: (CommandLine, Vec<ProcessRun>),
    rss_ceph: (CommandLine, Vec<ProcessRun>),
    python_cmd: String,
    elapsed: Duration,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The client's own log on stderr, quiet unless RUST_LOG asks.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Some(Mode::Failover(args)) = &cli.mode {
        return failover::main(&cli, args);
    }
    if let Some(Mode::Load(args)) = &cli.mode {
        return load::main(&cli, args);
    }
    if let Some(Mode::Daemons(args)) = &cli.mode {
        return daemons::main(&cli, args);
    }
    if let Some(Mode::Sessions(args)) = &cli.mode {
        return sessions::main(&cli, args);
    }
    match run(&cli) {
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
            eprintln!("monc-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The cluster a run measures: the one `-c`/`-k` name, or a throwaway
/// 3-monitor testbed that lives as long as this value.
struct Target {
    conf: PathBuf,
    keyring: PathBuf,
    desc: String,
    _cluster: Option<ceph_testbed::Cluster>,
    _client_dir: Option<tempfile::TempDir>,
}

impl Target {
    fn from_cli(cli: &Cli) -> Result<Target, String> {
        if let (Some(c), Some(k)) = (&cli.conf, &cli.keyring) {
            return Ok(Target {
                conf: c.clone(),
                keyring: k.clone(),
                desc: format!("given: -c {}", c.display()),
                _cluster: None,
                _client_dir: None,
            });
        }
        progress("starting a 3-monitor cluster (ceph-testbed)");
        let cluster = ceph_testbed::Cluster::start(ceph_testbed::ClusterSpec::with_mons(3))
            .map_err(|e| format!("starting the cluster: {e}"))?;
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let conf = cluster
            .write_client_files(dir.path())
            .map_err(|e| format!("writing client files: {e}"))?;
        Ok(Target {
            keyring: dir.path().join("ceph.client.admin.keyring"),
            desc: format!(
                "ceph-testbed, 3 monitors on 127.0.0.1, mon_host {}",
                cluster.mon_host()
            ),
            conf,
            _cluster: Some(cluster),
            _client_dir: Some(dir),
        })
    }
}

fn progress(msg: &str) {
    eprintln!("monc-bench: {msg}");
}

fn default_monc() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    Ok(exe.with_file_name("monc"))
}

fn run(cli: &Cli) -> Result<Report, String> {
    let started = Instant::now();
    let plan = Plan::from_cli(cli);
    let monc = match &cli.monc {
        Some(p) => p.clone(),
        None => default_monc()?,
    };
    if !monc.is_file() {
        return Err(format!(
            "{} not found; build it (cargo build --release -p ceph-monc) or pass --monc",
            monc.display()
        ));
    }
    let ceph = resolve_program(&cli.ceph);
    let loadavg_start = read_trimmed("/proc/loadavg");

    // The cluster lives until this function returns.
    let target = Target::from_cli(cli)?;
    let (conf, keyring) = (target.conf.clone(), target.keyring.clone());
    let cluster_desc = target.desc.clone();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut processes: Vec<ProcessRow> = PROCESS_COMMANDS
        .iter()
        .map(|(label, words)| ProcessRow {
            label,
            monc_cmd: CommandLine::client(&monc, &conf, &keyring, words),
            ceph_cmd: CommandLine::client(&ceph, &conf, &keyring, words),
            monc: Vec::new(),
            ceph: Vec::new(),
        })
        .collect();
    measure_processes(&mut processes, plan.runs)?;

    let python_cmd = format!(
        "{} -c <src/rados_worker.py> {} {} '{}'",
        cli.python.display(),
        conf.display(),
        keyring.display(),
        ROUND_TRIP_COMMAND
    );
    let mut worker = RadosWorker::start(&cli.python, &conf, &keyring, ROUND_TRIP_COMMAND)
        .map_err(|e| format!("starting the librados worker: {e}"))?;
    let (connect_ours, connect_librados) =
        measure_connects(&rt, &mut worker, &conf, &keyring, plan.connects)?;
    let (rt_ours, rt_librados, tput_ours, tput_librados) =
        measure_session(&rt, &mut worker, &conf, &keyring, &plan)?;
    drop(worker);

    let rss_monc_cmd = CommandLine::client(&monc, &conf, &keyring, &["status"]);
    let rss_ceph_cmd = CommandLine::client(&ceph, &conf, &keyring, &["status"]);
    progress(&format!(
        "peak RSS of `status`, {} runs each",
        plan.rss_runs
    ));
    let (rss_monc, rss_ceph) =
        interleave_processes(&rss_monc_cmd, &rss_ceph_cmd, plan.rss_runs, 0)?;

    let env = Environment {
        ceph_version: first_line_of(&CommandLine::new(&ceph, &["--version"])),
        python_version: first_line_of(&CommandLine::new(&cli.python, &["--version"])),
        monc_version: first_line_of(&CommandLine::new(&monc, &["--version"])),
        cores: workers,
        cpu_model: cpu_model(),
        kernel: read_trimmed("/proc/sys/kernel/osrelease"),
        loadavg_start,
        loadavg_end: read_trimmed("/proc/loadavg"),
        cluster: cluster_desc,
        runtime: format!("tokio multi-thread, {workers} workers"),
    };
    Ok(Report {
        plan,
        env,
        processes,
        connect_ours,
        connect_librados,
        rt_ours,
        rt_librados,
        tput_ours,
        tput_librados,
        rss_monc: (rss_monc_cmd, rss_monc),
        rss_ceph: (rss_ceph_cmd, rss_ceph),
        python_cmd,
        elapsed: started.elapsed(),
    })
}

/// Runs `a` and `b` `runs` times each, alternating which goes first.
fn interleave_processes(
    a: &CommandLine,
    b: &CommandLine,
    runs: usize,
    phase: usize,
) -> Result<(Vec<ProcessRun>, Vec<ProcessRun>), String> {
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    for i in 0..runs {
        if (i + phase).is_multiple_of(2) {
            ra.push(a.timed_run().map_err(|e| e.to_string())?);
            rb.push(b.timed_run().map_err(|e| e.to_string())?);
        } else {
            rb.push(b.timed_run().map_err(|e| e.to_string())?);
            ra.push(a.timed_run().map_err(|e| e.to_string())?);
        }
    }
    Ok((ra, rb))
}

/// Section 1. Each command runs once untimed on both sides first (it must
/// succeed), then round-robin over commands with alternating order.
fn measure_processes(rows: &mut [ProcessRow], runs: usize) -> Result<(), String> {
    progress("whole-process warm-up (each command once per tool, untimed)");
    for row in rows.iter() {
        for cmd in [&row.monc_cmd, &row.ceph_cmd] {
            let out = cmd
                .output()
                .map_err(|e| format!("`{}`: {e}", cmd.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "`{}` failed ({}): {}",
                    cmd.display(),
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    progress(&format!(
        "whole-process runs: {} commands x {runs} runs x 2 tools",
        rows.len()
    ));
    for i in 0..runs {
        for (j, row) in rows.iter_mut().enumerate() {
            let (m, c) = interleave_processes(&row.monc_cmd, &row.ceph_cmd, 1, i + j)?;
            row.monc.extend(m);
            row.ceph.extend(c);
        }
    }
    Ok(())
}

/// Section 2: alternating single connects, after one untimed each.
fn measure_connects(
    rt: &tokio::runtime::Runtime,
    worker: &mut RadosWorker,
    conf: &Path,
    keyring: &Path,
    count: usize,
) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    progress(&format!("library connects: {count} per side"));
    let ours_once = || rt.block_on(native::connect_once(conf, keyring));
    ours_once()?;
    worker.connect_once().map_err(|e| e.to_string())?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for i in 0..count {
        if i % 2 == 0 {
            ours.push(ours_once()?);
            theirs.push(worker.connect_once().map_err(|e| e.to_string())?);
        } else {
            theirs.push(worker.connect_once().map_err(|e| e.to_string())?);
            ours.push(ours_once()?);
        }
    }
    Ok((ours, theirs))
}

type SessionResults = (
    Vec<Duration>,
    Vec<Duration>,
    Vec<(usize, Throughput)>,
    Vec<(usize, Throughput)>,
);

/// Section 3: round trips in alternating batches, then commands/s windows.
fn measure_session(
    rt: &tokio::runtime::Runtime,
    worker: &mut RadosWorker,
    conf: &Path,
    keyring: &Path,
    plan: &Plan,
) -> Result<SessionResults, String> {
    progress(&format!(
        "round trips on one session: {} per side",
        plan.round_trips
    ));
    let client = rt.block_on(async {
        ceph_monclient::MonClient::connect(native::options(conf, keyring)?)
            .await
            .map_err(|e| format!("MonClient::connect: {e}"))
    })?;
    worker.open().map_err(|e| e.to_string())?;
    let result = (|| {
        // Warm both sessions up (first replies, allocator, caches).
        rt.block_on(native::round_trips(&client, ROUND_TRIP_COMMAND, 10))?;
        worker.round_trips(10).map_err(|e| e.to_string())?;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        let mut batch_no = 0;
        while ours.len() < plan.round_trips {
            let n = ROUND_TRIP_BATCH.min(plan.round_trips - ours.len());
            let ours_batch = || rt.block_on(native::round_trips(&client, ROUND_TRIP_COMMAND, n));
            if batch_no % 2 == 0 {
                ours.extend(ours_batch()?);
                theirs.extend(worker.round_trips(n).map_err(|e| e.to_string())?);
            } else {
                theirs.extend(worker.round_trips(n).map_err(|e| e.to_string())?);
                ours.extend(ours_batch()?);
            }
            batch_no += 1;
        }
        let (mut tput_ours, mut tput_theirs) = (Vec::new(), Vec::new());
        for (k, &c) in CONCURRENCY.iter().enumerate() {
            progress(&format!(
                "commands/s with {c} concurrent, {} s per side",
                plan.tput_secs
            ));
            let ours_window = || {
                rt.block_on(native::throughput(
                    &client,
                    ROUND_TRIP_COMMAND,
                    c,
                    plan.tput_secs,
                ))
            };
            if k % 2 == 0 {
                tput_ours.push((c, ours_window()?));
                tput_theirs.push((
                    c,
                    worker
                        .throughput(c, plan.tput_secs)
                        .map_err(|e| e.to_string())?,
                ));
            } else {
                tput_theirs.push((
                    c,
                    worker
                        .throughput(c, plan.tput_secs)
                        .map_err(|e| e.to_string())?,
                ));
                tput_ours.push((c, ours_window()?));
            }
        }
        Ok((ours, theirs, tput_ours, tput_theirs))
    })();
    rt.block_on(client.shutdown());
    result
}

/// `program` as found on PATH (so the printed commands are exact); as
/// given when it names a path or is not found.
fn resolve_program(program: &Path) -> PathBuf {
    if program.components().count() > 1 {
        return program.to_path_buf();
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| program.to_path_buf())
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// First non-empty line of a command's stdout (or stderr), for versions.
fn first_line_of(cmd: &CommandLine) -> String {
    match cmd.output() {
        Ok(out) => {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("unknown")
                .trim()
                .to_string()
        }
        Err(e) => format!("unknown ({e})"),
    }
}

fn walls(runs: &[ProcessRun]) -> Vec<Duration> {
    runs.iter().map(|r| r.wall).collect()
}

fn rss_mib(runs: &[ProcessRun]) -> Vec<f64> {
    runs.iter().map(|r| r.max_rss_kib as f64 / 1024.0).collect()
}

fn micros(samples: &[Duration]) -> Vec<f64> {
    samples.iter().map(|d| d.as_secs_f64() * 1e6).collect()
}

fn summary_ms(samples: &[Duration]) -> Summary {
    Summary::of_millis(samples).expect("every measurement has at least one sample")
}

fn summary(values: &[f64]) -> Summary {
    Summary::of(values).expect("every measurement has at least one sample")
}

fn fmt_ratio(slow: f64, fast: f64) -> String {
    ratio(slow, fast).map_or_else(|| "-".into(), |r| format!("{r:.1}x"))
}

/// Left-aligns the first column and right-aligns the rest.
fn render_rows(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| {
                if c == 0 {
                    format!("{s:<w$}", w = widths[c])
                } else {
                    format!("{s:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str("  ");
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn render_table(r: &Report) -> String {
    let mut out = String::new();
    let e = &r.env;
    out.push_str("monc-bench: monc vs the ceph CLI, ceph-monclient vs librados\n");
    out.push_str(&format!("  ceph:     {}\n", e.ceph_version));
    out.push_str(&format!("  monc:     {}\n", e.monc_version));
    out.push_str(&format!(
        "  python:   {} (librados via the rados module)\n",
        e.python_version
    ));
    out.push_str(&format!(
        "  machine:  {} cores, {}, Linux {}\n",
        e.cores, e.cpu_model, e.kernel
    ));
    out.push_str(&format!(
        "  load:     {} at start, {} at end\n",
        e.loadavg_start, e.loadavg_end
    ));
    out.push_str(&format!("  cluster:  {}\n", e.cluster));
    out.push_str(&format!("  our side: {} (release build)\n\n", e.runtime));

    out.push_str(&format!(
        "1. Whole process, wall ms from spawn to exit (N={} each, interleaved, stdout to /dev/null)\n",
        r.plan.runs
    ));
    let mut rows = vec![vec![
        "command".to_string(),
        "monc med".into(),
        "p90".into(),
        "min".into(),
        "ceph med".into(),
        "p90".into(),
        "min".into(),
        "ceph/monc".into(),
    ]];
    for p in &r.processes {
        let m = summary_ms(&walls(&p.monc));
        let c = summary_ms(&walls(&p.ceph));
        rows.push(vec![
            p.label.to_string(),
            format!("{:.1}", m.median),
            format!("{:.1}", m.p90),
            format!("{:.1}", m.min),
            format!("{:.1}", c.median),
            format!("{:.1}", c.p90),
            format!("{:.1}", c.min),
            fmt_ratio(c.median, m.median),
        ]);
    }
    out.push_str(&render_rows(&rows));

    let co = summary_ms(&r.connect_ours);
    let cl = summary_ms(&r.connect_librados);
    out.push_str(&format!(
        "\n2. Library connect, ms from nothing to an authenticated session with a MonMap (N={} each, interleaved)\n",
        r.plan.connects
    ));
    let mut rows = vec![vec![
        "library".to_string(),
        "median".into(),
        "p90".into(),
        "min".into(),
        "max".into(),
    ]];
    for (name, s) in [
        ("ceph-monclient MonClient::connect", co),
        ("librados Rados(...).connect()", cl),
    ] {
        rows.push(vec![
            name.into(),
            format!("{:.2}", s.median),
            format!("{:.2}", s.p90),
            format!("{:.2}", s.min),
            format!("{:.2}", s.max),
        ]);
    }
    rows.push(vec![
        "librados/monclient (median)".into(),
        fmt_ratio(cl.median, co.median),
    ]);
    out.push_str(&render_rows(&rows));

    let ro = summary(&micros(&r.rt_ours));
    let rl = summary(&micros(&r.rt_librados));
    out.push_str(&format!(
        "\n3. `mon dump -f json` on one open session: round trip in us (N={} each, batches of {ROUND_TRIP_BATCH} interleaved), commands/s ({} s windows)\n",
        r.plan.round_trips, r.plan.tput_secs
    ));
    let mut rows = vec![vec![
        "library".to_string(),
        "rt median".into(),
        "rt p90".into(),
        "rt min".into(),
    ]];
    for c in CONCURRENCY {
        rows[0].push(format!("cmd/s @{c}"));
    }
    for (name, s, tput) in [
        ("ceph-monclient MonClient::command", ro, &r.tput_ours),
        ("librados Rados.mon_command", rl, &r.tput_librados),
    ] {
        let mut row = vec![
            name.to_string(),
            format!("{:.0}", s.median),
            format!("{:.0}", s.p90),
            format!("{:.0}", s.min),
        ];
        row.extend(tput.iter().map(|(_, t)| format!("{:.0}", t.per_sec())));
        rows.push(row);
    }
    let mut ratio_row = vec![
        "librados/monclient (time; cmd/s: monclient/librados)".to_string(),
        fmt_ratio(rl.median, ro.median),
        fmt_ratio(rl.p90, ro.p90),
        fmt_ratio(rl.min, ro.min),
    ];
    for ((_, ours), (_, theirs)) in r.tput_ours.iter().zip(&r.tput_librados) {
        ratio_row.push(fmt_ratio(ours.per_sec(), theirs.per_sec()));
    }
    rows.push(ratio_row);
    out.push_str(&render_rows(&rows));

    let sm = summary(&rss_mib(&r.rss_monc.1));
    let sc = summary(&rss_mib(&r.rss_ceph.1));
    out.push_str(&format!(
        "\n4. Peak RSS of one `status` process, MiB (wait4 ru_maxrss; N={} each)\n",
        r.plan.rss_runs
    ));
    let rows = vec![
        vec!["tool".to_string(), "median".into(), "max".into()],
        vec![
            "monc status".into(),
            format!("{:.1}", sm.median),
            format!("{:.1}", sm.max),
        ],
        vec![
            "ceph status".into(),
            format!("{:.1}", sc.median),
            format!("{:.1}", sc.max),
        ],
        vec!["ceph/monc (median)".into(), fmt_ratio(sc.median, sm.median)],
    ];
    out.push_str(&render_rows(&rows));

    out.push_str("\nCommands\n");
    for p in &r.processes {
        out.push_str(&format!(
            "  {}\n  {}\n",
            p.monc_cmd.display(),
            p.ceph_cmd.display()
        ));
    }
    out.push_str(&format!(
        "  {}\n  {}\n",
        r.rss_monc.0.display(),
        r.rss_ceph.0.display()
    ));
    out.push_str(&format!(
        "  in-process: MonClient::connect(options from -c/-k as monc reads them); \
         client.command({ROUND_TRIP_COMMAND:?})\n"
    ));
    out.push_str(&format!(
        "  librados:   {}  (one process: Rados(conffile=CONF, conf={{'keyring': KEYRING}}).connect(); \
         mon_command(CMD, b''))\n",
        r.python_cmd
    ));
    out.push_str(&format!("\ntotal {:.1} s\n", r.elapsed.as_secs_f64()));
    out
}

fn report_json(r: &Report) -> Value {
    let e = &r.env;
    let processes: Vec<Value> = r
        .processes
        .iter()
        .map(|p| {
            let m = summary_ms(&walls(&p.monc));
            let c = summary_ms(&walls(&p.ceph));
            json!({
                "command": p.label,
                "monc": {"cmd": p.monc_cmd.display(), "ms": m.to_json()},
                "ceph": {"cmd": p.ceph_cmd.display(), "ms": c.to_json()},
                "ratio_median": ratio(c.median, m.median),
            })
        })
        .collect();
    let co = summary_ms(&r.connect_ours);
    let cl = summary_ms(&r.connect_librados);
    let ro = summary(&micros(&r.rt_ours));
    let rl = summary(&micros(&r.rt_librados));
    let tput = |v: &[(usize, Throughput)]| -> Vec<Value> {
        v.iter()
            .map(|(c, t)| json!({"concurrency": c, "count": t.count, "secs": t.secs, "per_sec": t.per_sec()}))
            .collect()
    };
    let sm = summary(&rss_mib(&r.rss_monc.1));
    let sc = summary(&rss_mib(&r.rss_ceph.1));
    json!({
        "environment": {
            "ceph_version": e.ceph_version,
            "monc_version": e.monc_version,
            "python_version": e.python_version,
            "cores": e.cores,
            "cpu_model": e.cpu_model,
            "kernel": e.kernel,
            "loadavg_start": e.loadavg_start,
            "loadavg_end": e.loadavg_end,
            "cluster": e.cluster,
            "runtime": e.runtime,
        },
        "plan": {
            "runs": r.plan.runs,
            "connects": r.plan.connects,
            "round_trips": r.plan.round_trips,
            "tput_secs": r.plan.tput_secs,
            "rss_runs": r.plan.rss_runs,
        },
        "processes": processes,
        "connect_ms": {
            "monclient": co.to_json(),
            "librados": cl.to_json(),
            "ratio_median": ratio(cl.median, co.median),
        },
        "round_trip_us": {
            "command": ROUND_TRIP_COMMAND,
            "monclient": ro.to_json(),
            "librados": rl.to_json(),
            "ratio_median": ratio(rl.median, ro.median),
        },
        "throughput": {
            "monclient": tput(&r.tput_ours),
            "librados": tput(&r.tput_librados),
        },
        "peak_rss_mib": {
            "monc": {"cmd": r.rss_monc.0.display(), "mib": sm.to_json()},
            "ceph": {"cmd": r.rss_ceph.0.display(), "mib": sc.to_json()},
            "ratio_median": ratio(sc.median, sm.median),
        },
        "librados_worker": r.python_cmd,
        "total_secs": r.elapsed.as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_shrinks_the_plan_and_flags_win() {
        let full = Plan::from_cli(&Cli::parse_from(["monc-bench"]));
        assert_eq!((full.runs, full.connects, full.round_trips), (10, 20, 200));
        let quick = Plan::from_cli(&Cli::parse_from(["monc-bench", "--quick"]));
        assert!(quick.runs < full.runs && quick.tput_secs < full.tput_secs);
        let set = Plan::from_cli(&Cli::parse_from(["monc-bench", "--quick", "--runs", "12"]));
        assert_eq!(set.runs, 12);
    }

    #[test]
    fn conf_needs_keyring() {
        assert!(Cli::try_parse_from(["monc-bench", "-c", "x.conf"]).is_err());
        assert!(Cli::try_parse_from(["monc-bench", "-c", "x.conf", "-k", "k"]).is_ok());
    }

    #[test]
    fn failover_subcommand_parses_its_options() {
        let cli = Cli::parse_from(["monc-bench", "failover", "--trials", "7", "--json"]);
        let Some(Mode::Failover(args)) = &cli.mode else {
            panic!("no failover mode: {cli:?}");
        };
        assert_eq!(args.trials, 7);
        assert_eq!(
            args.faults,
            vec![failover::Fault::Kill, failover::Fault::Stop]
        );
        assert!(cli.json);
        let cli = Cli::parse_from(["monc-bench", "--monc", "m", "failover", "--faults", "stop"]);
        let Some(Mode::Failover(args)) = &cli.mode else {
            panic!("no failover mode: {cli:?}");
        };
        assert_eq!(args.faults, vec![failover::Fault::Stop]);
        assert_eq!(args.mon_lease, None);
        let cli = Cli::parse_from([
            "monc-bench",
            "failover",
            "--faults",
            "isolate,kill",
            "--mon-lease",
            "5",
        ]);
        let Some(Mode::Failover(args)) = &cli.mode else {
            panic!("no failover mode: {cli:?}");
        };
        assert_eq!(
            args.faults,
            vec![failover::Fault::Isolate, failover::Fault::Kill]
        );
        assert_eq!(args.mon_lease, Some(5));
        assert!(Cli::parse_from(["monc-bench", "--quick"]).mode.is_none());
    }

    #[test]
    fn rows_align() {
        let text = render_rows(&[
            vec!["a".into(), "1.0".into()],
            vec!["long name".into(), "10.25".into()],
        ]);
        assert_eq!(text, "  a            1.0\n  long name  10.25\n");
    }
}
