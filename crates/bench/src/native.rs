//! Our side in-process: `ceph-monclient` on a tokio runtime.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ceph_auth::Keyring;
use ceph_config::{ClientConfig, ConfigSources};
use ceph_monclient::{MonClient, MonClientOptions};

use crate::Throughput;

/// Builds connect options from a conf file and keyring, as `monc` does.
pub fn options(conf: &Path, keyring: &Path) -> Result<MonClientOptions, String> {
    let cfg = ClientConfig::load(ConfigSources {
        conf_path: Some(conf.display().to_string()),
        keyring: Some(keyring.display().to_string()),
        ..ConfigSources::default()
    })
    .map_err(|e| format!("{}: {e}", conf.display()))?;
    let keyring_path = cfg.keyring_path.clone().unwrap_or_else(|| keyring.into());
    let keys =
        Keyring::load(&keyring_path).map_err(|e| format!("{}: {e}", keyring_path.display()))?;
    let key = keys
        .get(&cfg.name)
        .cloned()
        .ok_or_else(|| format!("{} has no key for {}", keyring_path.display(), cfg.name))?;
    let mut opts = MonClientOptions::from_config(&cfg, key);
    opts.connect_timeout = Duration::from_secs(30);
    Ok(opts)
}

/// Times reading the conf and keyring plus `MonClient::connect` (until an
/// authenticated session with a MonMap); the shutdown is not timed.
pub async fn connect_once(conf: &Path, keyring: &Path) -> Result<Duration, String> {
    let started = Instant::now();
    let client = MonClient::connect(options(conf, keyring)?)
        .await
        .map_err(|e| format!("MonClient::connect: {e}"))?;
    let elapsed = started.elapsed();
    client.shutdown().await;
    Ok(elapsed)
}

/// Runs `cmd` once and fails on a transport error or a non-zero retval.
pub async fn one_command(client: &MonClient, cmd: &str) -> Result<(), String> {
    let reply = client
        .command(cmd, Vec::new())
        .await
        .map_err(|e| format!("{cmd}: {e}"))?;
    if reply.retval != 0 {
        return Err(format!("{cmd}: retval {}: {}", reply.retval, reply.outs));
    }
    Ok(())
}

/// `count` sequential round trips of `cmd`.
pub async fn round_trips(
    client: &MonClient,
    cmd: &str,
    count: usize,
) -> Result<Vec<Duration>, String> {
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        one_command(client, cmd).await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// `concurrency` tasks issuing `cmd` back to back on one client for `secs`.
pub async fn throughput(
    client: &MonClient,
    cmd: &str,
    concurrency: usize,
    secs: f64,
) -> Result<Throughput, String> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = client.clone();
            let cmd = cmd.to_string();
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    one_command(&client, &cmd).await?;
                    done += 1;
                }
                Ok::<u64, String>(done)
            })
        })
        .collect();
    let mut count = 0;
    for task in tasks {
        count += task.await.map_err(|e| format!("task: {e}"))??;
    }
    Ok(Throughput {
        count,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// What a [`CommandLoop`] recorded.
#[derive(Debug, Clone, Default)]
pub struct LoopTrace {
    /// Start and end of the successful commands.
    pub ok_at: Vec<(Instant, Instant)>,
    /// Commands that failed (client error or non-zero retval).
    pub errors: u64,
    /// The longest single command.
    pub max_call: Duration,
}

/// One task issuing a command back to back on one client, timing each.
pub struct CommandLoop {
    stop: Arc<AtomicBool>,
    trace: Arc<Mutex<LoopTrace>>,
    task: tokio::task::JoinHandle<()>,
}

impl CommandLoop {
    /// Starts the loop on `rt`.
    pub fn start(rt: &tokio::runtime::Runtime, client: MonClient, cmd: &str) -> CommandLoop {
        let stop = Arc::new(AtomicBool::new(false));
        let trace = Arc::new(Mutex::new(LoopTrace::default()));
        let task = rt.spawn({
            let (stop, trace, cmd) = (stop.clone(), trace.clone(), cmd.to_string());
            async move {
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let result = one_command(&client, &cmd).await;
                    let ended = Instant::now();
                    {
                        let mut t = trace.lock().unwrap_or_else(|p| p.into_inner());
                        t.max_call = t.max_call.max(ended - started);
                        match result {
                            Ok(()) => t.ok_at.push((started, ended)),
                            Err(_) => t.errors += 1,
                        }
                    }
                    if result.is_err() {
                        // Same pause as the librados loop: no spinning on errors.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        });
        CommandLoop { stop, trace, task }
    }

    /// When the loop last finished a command successfully.
    pub fn last_ok(&self) -> Option<Instant> {
        let t = self.trace.lock().unwrap_or_else(|p| p.into_inner());
        t.ok_at.last().map(|&(_, ended)| ended)
    }

    /// Stops the loop (waiting up to 60 s for a command in flight) and
    /// returns what it recorded.
    pub fn stop(self, rt: &tokio::runtime::Runtime) -> Result<LoopTrace, String> {
        self.stop.store(true, Ordering::Relaxed);
        let mut task = self.task;
        let finished = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), &mut task)
                .await
                .is_ok()
        });
        if !finished {
            task.abort();
            return Err("a command did not return within 60 s of stopping the loop".into());
        }
        let t = self.trace.lock().unwrap_or_else(|p| p.into_inner());
        Ok(t.clone())
    }
}
