//! `monc-bench load`: N monitor commands issued at once on one session.
//!
//! Our side starts N `MonClient::command` futures together (no window of
//! the bench's own) and waits for all of them; the last line printed is one
//! JSON object with what happened. `--librados` runs a comparable load on
//! librados first: `rados_mon_command` is synchronous, so the closest it
//! gets is many Python threads each calling it back to back
//! (`--librados-threads`, N commands in all).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ceph_monclient::MonClient;
use serde_json::{json, Value};

use crate::librados::RadosWorker;
use crate::{native, progress, Cli, Target};

/// The default command: small, read-only, answered by any quorum member.
const DEFAULT_COMMAND: &str = r#"{"prefix": "mon stat"}"#;

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// Commands issued at once.
    #[arg(long, default_value_t = 10_000)]
    pub commands: usize,
    /// The command, as JSON.
    #[arg(long, default_value = DEFAULT_COMMAND)]
    pub command: String,
    /// Also run the load on librados (before ours), for comparison.
    #[arg(long)]
    pub librados: bool,
    /// The client's window of requests in flight (`max_in_flight`; 0 = no
    /// limit) [default: the library's].
    #[arg(long)]
    pub window: Option<usize>,
    /// Python threads calling `mon_command` for the librados side.
    #[arg(long, default_value_t = 512)]
    pub librados_threads: usize,
}

/// What one side's load came to.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadResult {
    /// Replies with retval 0.
    pub answered: u64,
    /// Everything else: errors and non-zero retvals.
    pub failed: u64,
    /// Sessions lost or moved during the run.
    pub resets: u64,
    pub seconds: f64,
    /// Peak RSS of the process that ran the load.
    pub max_rss_kib: u64,
    /// Why commands failed, counted by message.
    pub failures: BTreeMap<String, u64>,
}

impl LoadResult {
    pub fn to_json(&self) -> Value {
        json!({
            "answered": self.answered,
            "failed": self.failed,
            "resets": self.resets,
            "seconds": to_millis(self.seconds),
            "max_rss_kib": self.max_rss_kib,
        })
    }
}

/// Seconds rounded to the millisecond, for the JSON lines.
fn to_millis(secs: f64) -> f64 {
    (secs * 1000.0).round() / 1000.0
}

pub fn main(cli: &Cli, args: &LoadArgs) -> ExitCode {
    match run(cli, args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("monc-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli, args: &LoadArgs) -> Result<String, String> {
    if args.commands == 0 {
        return Err("--commands must be at least 1".into());
    }
    serde_json::from_str::<Value>(&args.command)
        .map_err(|e| format!("--command is not JSON: {e}"))?;
    // The cluster lives until this function returns.
    let target = Target::from_cli(cli)?;
    let (conf, keyring) = (&target.conf, &target.keyring);

    let mut librados = None;
    if args.librados {
        progress(&format!(
            "librados: {} commands over {} threads",
            args.commands, args.librados_threads
        ));
        let mut worker = RadosWorker::start(&cli.python, conf, keyring, &args.command)
            .map_err(|e| format!("starting the librados worker: {e}"))?;
        worker
            .open()
            .map_err(|e| format!("librados connect: {e}"))?;
        let r = worker
            .load(args.commands, args.librados_threads)
            .map_err(|e| e.to_string())?;
        // No resets figure: librados does not tell when it moves.
        progress(&format!(
            "librados: {}",
            json!({
                "answered": r.answered,
                "failed": r.failed,
                "seconds": to_millis(r.seconds),
                "max_rss_kib": r.max_rss_kib,
            })
        ));
        librados = Some(r);
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    progress(&format!(
        "ceph-monclient: {} commands at once on one session",
        args.commands
    ));
    let ours = rt.block_on(async {
        let mut opts = native::options(conf, keyring)?;
        if let Some(w) = args.window {
            opts.session.max_in_flight = w;
        }
        let client = MonClient::connect(opts)
            .await
            .map_err(|e| format!("MonClient::connect: {e}"))?;
        let result = load(&client, &args.command, args.commands).await;
        client.shutdown().await;
        Ok::<_, String>(result)
    })?;
    for (why, n) in &ours.failures {
        progress(&format!("failed {n}x: {why}"));
    }
    if let Some(theirs) = &librados {
        progress(&format!(
            "librados {:.2} s, ceph-monclient {:.2} s ({:.1}x); peak RSS {} KiB vs {} KiB",
            theirs.seconds,
            ours.seconds,
            theirs.seconds / ours.seconds.max(1e-9),
            theirs.max_rss_kib,
            ours.max_rss_kib
        ));
    }
    Ok(ours.to_json().to_string())
}

/// Issues `count` commands at once on `client` and waits for every one.
/// Progress goes to stderr once a second.
pub async fn load(client: &MonClient, command: &str, count: usize) -> LoadResult {
    let sessions_before = client.status().sessions;
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let client = client.clone();
        let command = command.to_string();
        let done = done.clone();
        tasks.spawn(async move {
            let outcome = client.command(command, Vec::new()).await;
            done.fetch_add(1, Ordering::Relaxed);
            outcome
        });
    }
    let reporter = {
        let done = done.clone();
        let client = client.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let s = client.status();
                progress(&format!(
                    "{:>6.1} s: {} of {count} done, sessions {}, {:?}",
                    started.elapsed().as_secs_f64(),
                    done.load(Ordering::Relaxed),
                    s.sessions,
                    s.state
                ));
            }
        })
    };
    let mut result = LoadResult {
        answered: 0,
        failed: 0,
        resets: 0,
        seconds: 0.0,
        max_rss_kib: 0,
        failures: BTreeMap::new(),
    };
    while let Some(joined) = tasks.join_next().await {
        let why = match joined {
            Ok(Ok(reply)) if reply.retval == 0 => {
                result.answered += 1;
                continue;
            }
            Ok(Ok(reply)) => format!("retval {}: {}", reply.retval, reply.outs),
            Ok(Err(e)) => e.to_string(),
            Err(e) => format!("task: {e}"),
        };
        result.failed += 1;
        *result.failures.entry(why).or_default() += 1;
    }
    result.seconds = started.elapsed().as_secs_f64();
    reporter.abort();
    result.resets = client.status().sessions.saturating_sub(sessions_before);
    result.max_rss_kib = max_rss_kib();
    result
}

/// This process's peak resident set (getrusage; KiB on Linux).
pub fn max_rss_kib() -> u64 {
    // SAFETY: getrusage fills the struct we pass and reads nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return 0;
    }
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}
