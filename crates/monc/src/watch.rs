//! `monc -w` / `monc watch`: the cluster's status, then the cluster log and
//! map epochs as they come, like `ceph -w`, until interrupted.
//!
//! Options (parsed with the others, in `args`): `-W`/`--watch-channel NAME`
//! (`cluster` by default, `*` for all), `--watch-debug`, `--watch-info`
//! (default), `--watch-sec`, `--watch-warn`, `--watch-error`.

use std::io::Write;

use ceph_monclient::{ClusterEvent, MonClient};
use ceph_types::log::decode_log_entries;

use crate::args::Args;
use crate::stdio;

/// Runs until Ctrl-C; returns the exit code.
pub async fn watch(client: &MonClient, args: &Args) -> i32 {
    if let Some(extra) = args.words.get(1) {
        errln!("monc: watch: unknown argument '{extra}'");
        return ceph_types::errno::EINVAL;
    }
    let channel = args.watch_channel.as_deref().unwrap_or("cluster");
    let level = args.watch_level.unwrap_or_default().name();
    // Listen before subscribing so nothing is missed.
    let mut events = client.events();
    match client.command(r#"{"prefix": "status"}"#, Vec::new()).await {
        Ok(r) => {
            stdio::out(&r.outbl);
            outln!();
        }
        Err(e) => {
            errln!("monc: {e}");
            return e.errno();
        }
    }
    let log_sub = format!("log-{level}");
    for what in [log_sub.as_str(), "osdmap", "mgrmap"] {
        if let Err(e) = client.subscribe(what, 0, false) {
            errln!("monc: {e}");
            return e.errno();
        }
    }
    let mut last_epochs = client.status().epochs;
    let mut seen = Seen::default();
    loop {
        let event = tokio::select! {
            e = events.recv() => e,
            _ = tokio::signal::ctrl_c() => return 0,
        };
        let event = match event {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                errln!("monc: missed {n} events");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return 0,
        };
        let mut out = Vec::new();
        match event {
            ClusterEvent::Log { entries, .. } => match decode_log_entries(&entries) {
                Ok(list) => {
                    for e in list {
                        if !seen.first_time(&e) {
                            continue;
                        }
                        if channel == "*" || e.channel == channel {
                            let _ = writeln!(out, "{}", ceph_line(&e));
                        }
                    }
                }
                Err(e) => errln!("monc: undecodable log entries: {e}"),
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
        // Nobody reads any more (`monc -w | head`): stop watching.
        if !out.is_empty() && !stdio::out(&out) && stdio::stdout_broken() {
            return 0;
        }
    }
}

/// The entries shown lately: the monitors send an entry again with the
/// next ones at times (as the log moves on, and after a reconnection), and
/// `ceph -w` shows each once.
#[derive(Default)]
struct Seen {
    keys: std::collections::HashSet<(String, u64, u32, u32)>,
    order: std::collections::VecDeque<(String, u64, u32, u32)>,
}

impl Seen {
    /// Entries remembered; far more than the monitors ever send again.
    const KEEP: usize = 4096;

    fn first_time(&mut self, e: &ceph_types::LogEntry) -> bool {
        let key = (e.rank.to_string(), e.seq, e.stamp.sec, e.stamp.nsec);
        if !self.keys.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > Self::KEEP {
            if let Some(old) = self.order.pop_front() {
                self.keys.remove(&old);
            }
        }
        true
    }
}

/// An entry as `ceph -w` prints it: the stamp with `+0000` (not `Z`),
/// the sender, `[INF]` and the like, the text.
fn ceph_line(e: &ceph_types::LogEntry) -> String {
    let stamp = e.stamp.to_iso8601_utc();
    let stamp = stamp.strip_suffix('Z').unwrap_or(&stamp);
    format!("{stamp}+0000 {} {} {}", e.name, e.prio.tag(), e.msg)
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
