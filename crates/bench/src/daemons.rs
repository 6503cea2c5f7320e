//! `monc-bench daemons`: whole-process wall time of manager, OSD, PG and
//! admin-socket commands, `monc` against the `ceph` CLI, interleaved, on a
//! throwaway cluster with 3 monitors, a manager and 3 memstore OSDs (or
//! one given with `-c CONF -k KEYRING`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;

use crate::process::{CommandLine, ProcessRun};
use crate::stats::Summary;
use crate::{default_monc, interleave_processes, progress, resolve_program, Cli};

/// Options of the `daemons` mode.
#[derive(clap::Args, Debug)]
pub struct DaemonsArgs {
    /// Runs per command and tool.
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
}

/// (label, words, whether it goes over the admin socket).
const COMMANDS: &[(&str, &[&str], bool)] = &[
    ("balancer status (mgr)", &["balancer", "status"], false),
    (
        "osd perf -f json (mgr)",
        &["osd", "perf", "-f", "json"],
        false,
    ),
    ("pg stat (mgr)", &["pg", "stat"], false),
    ("tell mgr version", &["tell", "mgr", "version"], false),
    ("tell osd.0 version", &["tell", "osd.0", "version"], false),
    ("tell osd.* version", &["tell", "osd.*", "version"], false),
    ("pg 1.0 query", &["pg", "1.0", "query"], false),
    ("daemon osd.0 version", &["daemon", "ASOK", "version"], true),
];

struct Row {
    label: &'static str,
    monc: Vec<ProcessRun>,
    ceph: Vec<ProcessRun>,
    monc_cmd: String,
}

fn median_ms(runs: &[ProcessRun]) -> f64 {
    let ms: Vec<f64> = runs.iter().map(|r| r.wall.as_secs_f64() * 1e3).collect();
    Summary::of(&ms).map_or(f64::NAN, |s| s.median)
}

pub fn main(cli: &Cli, args: &DaemonsArgs) -> ExitCode {
    match run(cli, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("monc-bench daemons: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli, args: &DaemonsArgs) -> Result<(), String> {
    let monc = match &cli.monc {
        Some(p) => p.clone(),
        None => default_monc()?,
    };
    let ceph = resolve_program(&cli.ceph);
    let (_cluster, conf, keyring, asok): (
        Option<ceph_testbed::Cluster>,
        PathBuf,
        PathBuf,
        PathBuf,
    ) = match (&cli.conf, &cli.keyring) {
        (Some(c), Some(k)) => (
            None,
            c.clone(),
            k.clone(),
            "/var/run/ceph/ceph-osd.0.asok".into(),
        ),
        _ => {
            progress("starting 3 monitors, a manager, 3 OSDs and a pool (ceph-testbed)");
            let spec = ceph_testbed::ClusterSpec::with_mons(3).mgrs(1).osds(3);
            let c = ceph_testbed::Cluster::start(spec).map_err(|e| e.to_string())?;
            c.create_pool("rbd", 8, Duration::from_secs(120))
                .map_err(|e| e.to_string())?;
            let (conf, keyring) = (c.conf_path(), c.admin_keyring_path());
            let asok = c.daemon_admin_socket("osd.0");
            (Some(c), conf, keyring, asok)
        }
    };
    let mut rows = Vec::new();
    for (label, words, admin_socket) in COMMANDS {
        let (m, c) = if *admin_socket {
            let words: Vec<&str> = words
                .iter()
                .map(|w| {
                    if *w == "ASOK" {
                        asok.to_str().unwrap_or("")
                    } else {
                        w
                    }
                })
                .collect();
            (
                CommandLine::new(&monc, &words),
                CommandLine::new(&ceph, &words),
            )
        } else {
            (
                CommandLine::client(&monc, &conf, &keyring, words),
                CommandLine::client(&ceph, &conf, &keyring, words),
            )
        };
        for cmd in [&m, &c] {
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
        progress(&format!("{label}: {} runs x 2 tools", args.runs));
        let (mr, cr) = interleave_processes(&m, &c, args.runs, rows.len())?;
        rows.push(Row {
            label,
            monc: mr,
            ceph: cr,
            monc_cmd: m.display(),
        });
    }
    if cli.json {
        let v: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "command": r.label,
                    "monc_median_ms": median_ms(&r.monc),
                    "ceph_median_ms": median_ms(&r.ceph),
                    "ratio": median_ms(&r.ceph) / median_ms(&r.monc),
                    "runs": r.monc.len(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).expect("JSON prints"));
        return Ok(());
    }
    println!(
        "monc-bench daemons: whole process, median of {} runs each",
        args.runs
    );
    println!(
        "  {:<26} {:>10} {:>10} {:>8}",
        "command", "monc ms", "ceph ms", "ceph/monc"
    );
    for r in &rows {
        let (m, c) = (median_ms(&r.monc), median_ms(&r.ceph));
        println!("  {:<26} {:>10.1} {:>10.1} {:>7.1}x", r.label, m, c, c / m);
    }
    if let Some(r) = rows.first() {
        println!("  e.g. {}", r.monc_cmd);
    }
    Ok(())
}
