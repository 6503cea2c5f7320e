//! `testbed up --mons 3 [--mgr | --mgrs N] [--osds N] [--dir D]`: run a
//! local cluster in the foreground until SIGINT/SIGTERM, then tear it down.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use ceph_testbed::{Cluster, ClusterSpec};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Local Ceph monitor clusters for tests and demos")]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Start a cluster and keep it running until interrupted.
    Up {
        /// Number of monitors.
        #[arg(long, default_value_t = 3)]
        mons: usize,
        /// Start one manager (same as --mgrs 1).
        #[arg(long, conflicts_with = "mgrs")]
        mgr: bool,
        /// Number of managers (the first active, the others standbys).
        #[arg(long, default_value_t = 0)]
        mgrs: usize,
        /// Number of memstore OSDs (data in memory, no disks).
        #[arg(long, default_value_t = 0)]
        osds: usize,
        /// Create a replicated pool of this name (8 PGs) and wait until its
        /// PGs are active+clean (needs --osds and a manager).
        #[arg(long)]
        pool: Option<String>,
        /// Also write ceph.conf and ceph.client.admin.keyring here.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Extra option for the global section, KEY=VALUE (repeatable).
        #[arg(long = "global", value_parser = parse_option)]
        global_options: Vec<(String, String)>,
        /// Extra option for the mon section, KEY=VALUE (repeatable).
        #[arg(long = "mon-option", value_parser = parse_option)]
        mon_options: Vec<(String, String)>,
        /// Seconds to wait for the initial quorum.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// Also allow the classic aes cipher, and give client.admin an aes key
        /// (Tentacle on; no effect on older releases).
        #[arg(long)]
        classic_aes: bool,
    },
}

fn parse_option(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))?;
    Ok((key.trim().to_string(), value.trim().to_string()))
}

/// Set from the signal handler; the main thread polls it.
static SHUTDOWN: AtomicBool = AtomicBool::new(false);

extern "C" fn request_shutdown(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    SHUTDOWN.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    let handler = request_shutdown as extern "C" fn(libc::c_int) as libc::sighandler_t;
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(signal, handler);
        }
    }
}

fn main() -> ExitCode {
    let Commands::Up {
        mons,
        mgr,
        mgrs,
        osds,
        pool,
        dir,
        global_options,
        mon_options,
        timeout,
        classic_aes,
    } = Cli::parse().command;
    let mgrs = if mgr { 1 } else { mgrs };
    // Before starting mons, so an early Ctrl-C still runs Drop.
    install_signal_handlers();

    let spec = ClusterSpec {
        mons,
        global_options,
        mon_options,
        quorum_timeout: Duration::from_secs(timeout),
        classic_aes,
        mgrs,
        osds,
        daemon_timeout: Duration::from_secs(timeout),
        ..ClusterSpec::default()
    };
    eprintln!("testbed: starting {mons} monitor(s), {mgrs} manager(s), {osds} OSD(s)...");
    let cluster = match Cluster::start(spec) {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("testbed: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(pool) = &pool {
        if let Err(e) = cluster.create_pool(pool, 8, Duration::from_secs(timeout)) {
            eprintln!("testbed: pool {pool}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let (conf, keyring) = match &dir {
        Some(dir) => match cluster.write_client_files(dir) {
            Ok(conf) => (conf, dir.join("ceph.client.admin.keyring")),
            Err(e) => {
                eprintln!("testbed: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => (cluster.conf_path(), cluster.admin_keyring_path()),
    };

    println!(
        "testbed: {mons} monitor(s) in quorum, fsid {}",
        cluster.fsid()
    );
    for mon in cluster.mons() {
        println!(
            "  mon.{} rank {} {} pid {}",
            mon.name,
            mon.rank,
            mon.addrvec(),
            mon.pid.map_or("-".into(), |p| p.to_string())
        );
    }
    for id in cluster.mgr_ids() {
        let entity = format!("mgr.{id}");
        let pid = cluster.daemon_pid(&entity).ok().flatten();
        println!(
            "  {entity} pid {}",
            pid.map_or("-".into(), |p| p.to_string())
        );
    }
    for id in cluster.osd_ids() {
        let entity = format!("osd.{id}");
        let pid = cluster.daemon_pid(&entity).ok().flatten();
        println!(
            "  {entity} (memstore) pid {}",
            pid.map_or("-".into(), |p| p.to_string())
        );
    }
    println!("mon_host = {}", cluster.mon_host());
    println!("conf     = {}", conf.display());
    println!("keyring  = {}", keyring.display());
    println!("state    = {}", cluster.dir().display());
    println!("Use it:");
    println!("  CEPH_CONF={} monc status", conf.display());
    println!(
        "  monc -c {} -k {} mon dump",
        conf.display(),
        keyring.display()
    );
    println!("  ceph -c {} -k {} -s", conf.display(), keyring.display());
    println!("testbed: ready (Ctrl-C or SIGTERM to stop)");

    while !SHUTDOWN.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(200));
    }
    eprintln!("testbed: stopping the cluster");
    drop(cluster);
    eprintln!("testbed: done");
    ExitCode::SUCCESS
}
