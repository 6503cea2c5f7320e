//! `monc-bench sessions`: one process holding many idle sessions to one
//! cluster. Prints how fast they connect, the memory each costs (RSS once
//! all are connected and idle for `--idle-secs`, less RSS before, over the
//! count) and how long a clean shutdown of all takes, with the runtime's
//! live tasks before and after to show that nothing is left running.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ceph_monclient::{MonClient, MonError};
use serde_json::json;

use crate::{progress, Cli, Target};

#[derive(clap::Args, Debug)]
pub struct SessionsArgs {
    /// Sessions to hold.
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Connects in progress at once.
    #[arg(long, default_value_t = 32)]
    pub parallel: usize,
    /// Seconds all sessions stay idle before RSS is read.
    #[arg(long, default_value_t = 3.0)]
    pub idle_secs: f64,
}

pub fn main(cli: &Cli, args: &SessionsArgs) -> ExitCode {
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

/// This process's resident set, KiB (`VmRSS`).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn run(cli: &Cli, args: &SessionsArgs) -> Result<String, String> {
    if args.count == 0 {
        return Err("--count must be at least 1".into());
    }
    let target = Target::from_cli(cli)?;
    let opts = MonClient::builder()
        .conf_path(&target.conf)
        .keyring(&target.keyring)
        .options()
        .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        // One session first, dropped, so the allocator, the runtime and
        // the lazily built tables are warm before the baseline.
        let warm = MonClient::connect(opts.clone())
            .await
            .map_err(|e| e.to_string())?;
        warm.shutdown().await;
        drop(warm);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let tasks_before = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        let rss_before = rss_kib();

        progress(&format!(
            "connecting {} sessions, {} at a time",
            args.count, args.parallel
        ));
        let gate = Arc::new(tokio::sync::Semaphore::new(args.parallel.max(1)));
        let started = Instant::now();
        let mut connects = tokio::task::JoinSet::new();
        for _ in 0..args.count {
            let gate = gate.clone();
            let opts = opts.clone();
            connects.spawn(async move {
                let _permit = gate.acquire_owned().await.expect("gate open");
                MonClient::connect(opts).await
            });
        }
        let mut clients = Vec::with_capacity(args.count);
        let mut failures: Vec<MonError> = Vec::new();
        while let Some(r) = connects.join_next().await {
            match r.map_err(|e| e.to_string())? {
                Ok(c) => clients.push(c),
                Err(e) => failures.push(e),
            }
        }
        let connect_secs = started.elapsed().as_secs_f64();
        if let Some(e) = failures.first() {
            return Err(format!(
                "{} of {} connects failed, first: {e}",
                failures.len(),
                args.count
            ));
        }
        progress(&format!(
            "connected in {connect_secs:.2} s; idle {} s",
            args.idle_secs
        ));
        tokio::time::sleep(Duration::from_secs_f64(args.idle_secs)).await;
        let rss_after = rss_kib();
        let tasks_connected = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        let active = clients
            .iter()
            .filter(|c| {
                matches!(
                    c.status().state,
                    ceph_monclient::SessionState::Active { .. }
                )
            })
            .count();

        let started = Instant::now();
        for c in &clients {
            c.shutdown().await;
        }
        drop(clients);
        let shutdown_secs = started.elapsed().as_secs_f64();
        // Let the tasks that were told to stop finish.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let tasks_after = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        let per_session = (rss_after.saturating_sub(rss_before)) as f64 / args.count as f64;
        Ok(json!({
            "sessions": args.count,
            "active_after_idle": active,
            "connect_secs": (connect_secs * 1000.0).round() / 1000.0,
            "connects_per_sec": (args.count as f64 / connect_secs).round(),
            "rss_before_kib": rss_before,
            "rss_after_kib": rss_after,
            "kib_per_session": (per_session * 10.0).round() / 10.0,
            "tasks_before": tasks_before,
            "tasks_connected": tasks_connected,
            "shutdown_secs": (shutdown_secs * 1000.0).round() / 1000.0,
            "tasks_after_shutdown": tasks_after,
        })
        .to_string())
    })
}
