//! Our side in-process: `ceph-monclient` on a tokio runtime.

use std::path::Path;
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
    let mut opts = MonClientOptions::new(cfg.name.clone(), key, cfg.mon_addrs.clone());
    opts.connect_timeout = Duration::from_secs(30);
    opts.session.hunt_parallel = cfg.mon_client_hunt_parallel as usize;
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
