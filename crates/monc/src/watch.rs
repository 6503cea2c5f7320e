//! `monc -w` / `monc watch`: the cluster's status, then the cluster log and
//! map epochs as they come, like `ceph -w`, until interrupted.
//!
//! Options (among the words, as `ceph` takes them): `--watch-channel NAME`
//! (`cluster` by default, `*` for all), `--watch-debug`, `--watch-info`
//! (default), `--watch-sec`, `--watch-warn`, `--watch-error`.

use std::io::Write;

use ceph_monclient::{ClusterEvent, MonClient};
use ceph_types::log::decode_log_entries;

struct WatchOptions {
    channel: String,
    level: &'static str,
}

fn options(words: &[String]) -> Result<WatchOptions, String> {
    let mut o = WatchOptions {
        channel: "cluster".into(),
        level: "info",
    };
    let mut it = words.iter().skip(1);
    while let Some(w) = it.next() {
        match w.as_str() {
            "--watch-channel" => {
                o.channel = it.next().ok_or("--watch-channel needs a value")?.clone();
            }
            "--watch-debug" => o.level = "debug",
            "--watch-info" => o.level = "info",
            "--watch-sec" => o.level = "sec",
            "--watch-warn" => o.level = "warn",
            "--watch-error" => o.level = "error",
            other => return Err(format!("watch: unknown argument '{other}'")),
        }
    }
    Ok(o)
}

/// Runs until Ctrl-C; returns the exit code.
pub async fn watch(client: &MonClient, words: &[String]) -> i32 {
    let opts = match options(words) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("monc: {e}");
            return ceph_types::errno::EINVAL;
        }
    };
    // Listen before subscribing so nothing is missed.
    let mut events = client.events();
    match client.command(r#"{"prefix": "status"}"#, Vec::new()).await {
        Ok(r) => {
            let _ = std::io::stdout().write_all(&r.outbl);
            println!();
        }
        Err(e) => {
            eprintln!("monc: {e}");
            return e.errno();
        }
    }
    let log_sub = format!("log-{}", opts.level);
    for what in [log_sub.as_str(), "osdmap", "mgrmap"] {
        if let Err(e) = client.subscribe(what, 0, false) {
            eprintln!("monc: {e}");
            return e.errno();
        }
    }
    let mut last_epochs = client.status().epochs;
    loop {
        let event = tokio::select! {
            e = events.recv() => e,
            _ = tokio::signal::ctrl_c() => return 0,
        };
        let event = match event {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                eprintln!("monc: missed {n} events");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return 0,
        };
        let mut out = std::io::stdout().lock();
        match event {
            ClusterEvent::Log { entries, .. } => match decode_log_entries(&entries) {
                Ok(list) => {
                    for e in list {
                        if opts.channel == "*" || e.channel == opts.channel {
                            let _ = writeln!(out, "{}", e.to_line());
                        }
                    }
                }
                Err(e) => eprintln!("monc: undecodable log entries: {e}"),
            },
            ClusterEvent::OsdMap { newest, .. } => {
                note_epoch(&mut out, &mut last_epochs, "osdmap", newest as u64)
            }
            ClusterEvent::MgrMap { epoch, .. } => {
                note_epoch(&mut out, &mut last_epochs, "mgrmap", epoch as u64)
            }
            ClusterEvent::MonMap { epoch } => {
                note_epoch(&mut out, &mut last_epochs, "monmap", epoch as u64)
            }
            _ => {}
        }
        let _ = out.flush();
    }
}

/// Prints a map's epoch when it moves on.
fn note_epoch(
    out: &mut impl Write,
    seen: &mut std::collections::BTreeMap<String, u64>,
    what: &str,
    epoch: u64,
) {
    let prev = seen.insert(what.to_string(), epoch);
    if prev.is_some_and(|p| p >= epoch) {
        return;
    }
    let now = ceph_types::UTime::now().to_iso8601_utc();
    let _ = writeln!(out, "{now} monc [INF] {what} e{epoch}");
}
