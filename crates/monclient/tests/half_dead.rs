//! A real half-dead monitor (the host's Pacific, or the release
//! `CEPH_RELEASE` names): the monitor serving the client is cut off from the
//! other monitors but not from clients (the testbed's
//! `isolate_from_peers`). It drops out of quorum, keeps the client's
//! session and acks its keepalives, and answers no command. The client
//! must notice on its own (requests unanswered for `stall_timeout` on a
//! monitor whose keepalives come back), probe the other monitors and move
//! to one that serves, before the monitor drops the session by itself
//! (which it does once out of quorum for 2 x mon_lease).
//!
//! Each case measures, from the cut: when the victim itself says it left
//! quorum (its admin socket), when the other two report a quorum without
//! it, the last command the victim answered, when the client was active
//! elsewhere, and the first command answered elsewhere. Who moved the
//! client is read from the kernel's TCP states of the client's connection
//! to the victim (the side that closed first goes through FIN_WAIT and
//! TIME_WAIT), from the client's states (active on the victim, then
//! active elsewhere with one more session and no hunting in between), and
//! from the victim's own log (at debug_mon 10 it says when it trims a
//! client session "because we've been out of quorum too long").
//!
//! The cases run with the victim as a peon and as the leader (a leader
//! cut off keeps serving reads until its peons' lease acks time out), and
//! once with probing switched off, to show what the monitor does by itself.

mod support;

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ceph_monclient::{MonClient, SessionState};
use ceph_testbed::{Cluster, ClusterSpec};
use support::admin_options;

const ALL: [&str; 3] = ["a", "b", "c"];
const QUORUM_WAIT: Duration = Duration::from_secs(120);
const MON_DUMP: &str = r#"{"prefix":"mon dump","format":"json"}"#;

/// The monitors run with Ceph's default `mon_lease` (the testbed's 2 s
/// would put the monitor's own session drop, below, too close to the
/// client's probe to tell them apart by time).
const MON_LEASE: Duration = Duration::from_secs(5);

/// The client's `stall_timeout` (its default).
const STALL: Duration = Duration::from_secs(5);

/// What the monitor does by itself: at each tick (every 5 s) it drops
/// every client session once it has been out of quorum for more than
/// `2 x mon_lease`. A client the monitor moved is therefore answered
/// elsewhere no earlier than this after the victim left quorum.
const MONITOR_DROP: Duration = Duration::from_secs(10);

/// From the cut to the first command answered elsewhere, at most: a
/// cut-off leader keeps serving until its peons' lease acks time out
/// (2 x mon_lease after its last lease extension, which comes every
/// 0.6 x mon_lease, so up to 13 s), then the oldest request waits
/// `STALL` before the others are probed; 2 s for the probe and a loaded
/// machine.
const MOVE_BOUND: Duration = Duration::from_secs(20);

/// How long a case watches at most.
const WATCH: Duration = Duration::from_secs(60);

/// A finished `mon dump`: when it was done, whether it succeeded, and the
/// monitor the client was active on when it finished.
#[derive(Debug, Clone)]
struct Done {
    done: Instant,
    ok: bool,
    on: Option<String>,
}

fn active_mon(state: &SessionState) -> Option<String> {
    match state {
        SessionState::Active { mon, .. } => Some(mon.clone()),
        _ => None,
    }
}

fn in_quorum(state: &str) -> bool {
    state == "leader" || state == "peon"
}

/// The monitor whose own state is `state` (`leader`), or the first peon.
fn mon_in_state(cluster: &Cluster, state: &str) -> String {
    ALL.iter()
        .find(|m| cluster.mon_view(m).0 == state)
        .map(|m| m.to_string())
        .unwrap_or_else(|| panic!("no monitor is {state}"))
}

/// One row of /proc/net/tcp: local and remote address, state, inode.
type TcpRow = (SocketAddr, SocketAddr, u8, u64);

fn parse_v4(hex: &str) -> Option<SocketAddr> {
    let (ip, port) = hex.split_once(':')?;
    let ip = u32::from_str_radix(ip, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    // The kernel prints the address in host byte order of its bytes.
    let ip = Ipv4Addr::from(ip.to_le_bytes());
    Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
}

/// Every IPv4 TCP socket of this network namespace, TIME_WAIT included.
fn tcp_rows() -> Vec<TcpRow> {
    let text = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Some((
                parse_v4(f.get(1)?)?,
                parse_v4(f.get(2)?)?,
                u8::from_str_radix(f.get(3)?, 16).ok()?,
                f.get(9)?.parse().ok()?,
            ))
        })
        .collect()
}

/// Inodes of this process's sockets.
fn own_socket_inodes() -> HashSet<u64> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return HashSet::new();
    };
    dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|link| {
            let text = link.to_string_lossy().into_owned();
            text.strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// Our end of the established connection to `mon` (the client's session).
fn our_end_towards(mon: SocketAddr) -> Option<SocketAddr> {
    let ours = own_socket_inodes();
    tcp_rows()
        .into_iter()
        .find(|(_, remote, state, inode)| *remote == mon && *state == 1 && ours.contains(inode))
        .map(|(local, _, _, _)| local)
}

/// Which side of the connection `ours` <-> `mon` closed first, once the
/// kernel shows it: the side that sent the first FIN goes through
/// FIN_WAIT and TIME_WAIT, the other through CLOSE_WAIT and LAST_ACK.
fn closed_first(ours: SocketAddr, mon: SocketAddr) -> Option<&'static str> {
    const ACTIVE_CLOSE: [u8; 4] = [4, 5, 6, 11]; // FIN_WAIT1/2, TIME_WAIT, CLOSING
    const PASSIVE_CLOSE: [u8; 2] = [8, 9]; // CLOSE_WAIT, LAST_ACK
    for (local, remote, state, _) in tcp_rows() {
        if local == ours && remote == mon {
            if ACTIVE_CLOSE.contains(&state) {
                return Some("client");
            }
            if PASSIVE_CLOSE.contains(&state) {
                return Some("monitor");
            }
        }
        if local == mon && remote == ours {
            if ACTIVE_CLOSE.contains(&state) {
                return Some("monitor");
            }
            if PASSIVE_CLOSE.contains(&state) {
                return Some("client");
            }
        }
    }
    None
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn since(t: Option<Instant>, cut: Instant) -> String {
    t.map_or_else(
        || "never".into(),
        |t| format!("{:.2}s", secs(t.saturating_duration_since(cut))),
    )
}

/// What one case saw, in instants (the cut is `cut`).
struct CaseReport {
    victim: String,
    role: &'static str,
    cut: Instant,
    /// The victim's admin socket first showed it out of quorum.
    victim_out: Option<Instant>,
    /// Both others first showed a quorum without the victim.
    others_quorum: Option<Instant>,
    /// Session states (with the session count) as they changed.
    timeline: Vec<(Instant, SessionState, u64)>,
    commands: Vec<Done>,
    sessions_before: u64,
    /// Which side closed the session's TCP connection first, and when the
    /// kernel first showed it.
    closed_by: Option<(Instant, &'static str)>,
    /// Lines of the victim's own log (debug_mon 10) saying it dropped a
    /// client session for having been out of quorum too long, by the end
    /// of the watch (before healing).
    victim_trims: Vec<String>,
}

impl CaseReport {
    /// When the client was first active on another monitor after the cut.
    fn moved_at(&self) -> Option<Instant> {
        self.timeline
            .iter()
            .filter(|(t, _, _)| *t > self.cut)
            .find(|(_, s, _)| active_mon(s).is_some_and(|m| m != self.victim))
            .map(|(t, _, _)| *t)
    }

    /// Whether the client went through a non-active state after the cut and
    /// before it was active elsewhere (the session was dropped).
    fn hunted_before_moving(&self) -> bool {
        let end = self.moved_at();
        self.timeline
            .iter()
            .filter(|(t, _, _)| *t > self.cut && end.is_none_or(|e| *t <= e))
            .any(|(_, s, _)| active_mon(s).is_none())
    }

    fn sessions_after(&self) -> u64 {
        self.timeline.last().map_or(0, |(_, _, n)| *n)
    }

    /// When each session after the cut began (the session count went up).
    fn session_starts(&self) -> Vec<Instant> {
        let mut count = self.sessions_before;
        let mut starts = Vec::new();
        for (t, _, n) in &self.timeline {
            if *n > count {
                if *t > self.cut {
                    starts.push(*t);
                }
                count = *n;
            }
        }
        starts
    }

    /// The last command the victim answered after the cut.
    fn last_on_victim(&self) -> Option<Instant> {
        self.commands
            .iter()
            .filter(|d| d.ok && d.done > self.cut && d.on.as_deref() == Some(&self.victim))
            .map(|d| d.done)
            .max()
    }

    /// The first command answered by another monitor after the cut.
    fn first_elsewhere(&self) -> Option<Instant> {
        self.commands
            .iter()
            .filter(|d| d.ok && d.done > self.cut)
            .filter(|d| d.on.as_ref().is_some_and(|m| *m != self.victim))
            .map(|d| d.done)
            .min()
    }

    /// The longest time between two answers (from the cut if none came
    /// after it yet).
    fn longest_gap(&self) -> Duration {
        let mut ends: Vec<Instant> = self
            .commands
            .iter()
            .filter(|d| d.ok)
            .map(|d| d.done)
            .collect();
        ends.push(self.cut);
        ends.sort();
        ends.windows(2)
            .map(|w| w[1].duration_since(w[0]))
            .max()
            .unwrap_or_default()
    }

    fn who_moved(&self) -> &'static str {
        match (self.closed_by.map(|(_, by)| by), self.moved_at()) {
            (_, None) => "nobody: still on the cut-off monitor",
            (Some("client"), Some(_)) if !self.hunted_before_moving() => {
                "the client: its stall probe moved the live session, then it closed the old one"
            }
            (Some("monitor"), Some(_)) => {
                "the monitor: it closed the session first, then the client hunted"
            }
            _ => "unclear: the session was lost before the client moved",
        }
    }

    fn print(&self, label: &str) {
        let closed = self.closed_by.map_or_else(
            || "still open".to_string(),
            |(t, by)| {
                format!(
                    "closed by the {by} first (seen at {})",
                    since(Some(t), self.cut)
                )
            },
        );
        let failed = self.commands.iter().filter(|d| !d.ok).count();
        let stalled_since = self.last_on_victim().unwrap_or(self.cut);
        eprintln!(
            "[half-dead {label}] release {}; victim mon.{} ({}), cut at 0: it left quorum (own view) at {}, \
             a quorum without it at {}; last answer from it at {}; client active elsewhere at {} \
             ({:.2}s after the last answer from the victim); first command answered elsewhere at {}; \
             longest gap {:.2}s; sessions {} -> {}; {} answered, {} failed; connection to the victim: {}; \
             moved by: {}",
            std::env::var("CEPH_RELEASE").unwrap_or_else(|_| "host".into()),
            self.victim,
            self.role,
            since(self.victim_out, self.cut),
            since(self.others_quorum, self.cut),
            since(self.last_on_victim(), self.cut),
            since(self.moved_at(), self.cut),
            self.moved_at()
                .map_or(f64::NAN, |m| secs(m.saturating_duration_since(stalled_since))),
            since(self.first_elsewhere(), self.cut),
            secs(self.longest_gap()),
            self.sessions_before,
            self.sessions_after(),
            self.commands.iter().filter(|d| d.ok).count(),
            failed,
            closed,
            self.who_moved(),
        );
        let timeline: Vec<String> = self
            .timeline
            .iter()
            .map(|(t, s, n)| {
                let at = if *t >= self.cut {
                    format!("+{:.2}s", secs(t.duration_since(self.cut)))
                } else {
                    format!("-{:.2}s", secs(self.cut.duration_since(*t)))
                };
                format!(
                    "{at} {} (sessions {n})",
                    active_mon(s).unwrap_or_else(|| format!("{s:?}"))
                )
            })
            .collect();
        eprintln!("[half-dead {label}] client states: {}", timeline.join("; "));
        eprintln!(
            "[half-dead {label}] victim's log, sessions dropped for being out of quorum too long: {}",
            if self.victim_trims.is_empty() {
                "none".to_string()
            } else {
                self.victim_trims.join(" | ")
            }
        );
    }
}

/// Connects a client that knows only `victim`'s address (it learns the
/// others from the monmap), runs a serial `mon dump` loop, cuts `victim`
/// off from its peers and watches until a command was answered elsewhere
/// (or `watch` passed). Heals and waits for the full quorum before
/// returning.
fn run_case(
    cluster: &Cluster,
    victim: &str,
    role: &'static str,
    stall_timeout: Option<Duration>,
    watch: Duration,
    seed: u64,
) -> CaseReport {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut opts = admin_options(cluster, &cluster.mon(victim).unwrap().addrvec(), seed);
    opts.session.stall_timeout = stall_timeout;
    let client = rt
        .block_on(MonClient::connect(opts))
        .expect("client connects");
    // It must know the other monitors to have anywhere to go.
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.monmap().map_or(0, |m| m.len()) < 3 {
        assert!(
            Instant::now() < deadline,
            "no full monmap from mon.{victim}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        active_mon(&client.status().state).as_deref(),
        Some(victim),
        "the client starts on the victim"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let commands = Arc::new(Mutex::new(Vec::<Done>::new()));
    let timeline = Arc::new(Mutex::new(Vec::<(Instant, SessionState, u64)>::new()));
    let recorder = {
        let (client, stop, timeline) = (client.clone(), stop.clone(), timeline.clone());
        rt.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let status = client.status();
                {
                    let mut t = timeline.lock().unwrap();
                    let changed = t
                        .last()
                        .is_none_or(|(_, s, n)| *s != status.state || *n != status.sessions);
                    if changed {
                        t.push((Instant::now(), status.state, status.sessions));
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let command_loop = {
        let (client, stop, commands) = (client.clone(), stop.clone(), commands.clone());
        rt.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let reply = client
                    .command_with_timeout(MON_DUMP, Vec::new(), Some(Duration::from_secs(90)))
                    .await;
                let done = Instant::now();
                let on = active_mon(&client.status().state);
                let ok = reply.is_ok_and(|r| r.retval == 0);
                commands.lock().unwrap().push(Done { done, ok, on });
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    // A settled loop: some commands answered by the victim before the cut.
    let deadline = Instant::now() + Duration::from_secs(30);
    while commands.lock().unwrap().iter().filter(|d| d.ok).count() < 5 {
        assert!(
            Instant::now() < deadline,
            "the command loop never got going"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sessions_before = client.status().sessions;
    let victim_addr = cluster.mon(victim).unwrap().v2_addr;
    let our_end = our_end_towards(victim_addr).expect("the client's connection to the victim");
    let mut closed_by = None;

    let cut = Instant::now();
    cluster.isolate_from_peers(victim).unwrap();
    let others: Vec<&str> = ALL.iter().copied().filter(|m| *m != victim).collect();
    let (mut victim_out, mut others_quorum) = (None, None);
    let end = cut + watch;
    while Instant::now() < end {
        let now = Instant::now();
        if closed_by.is_none() {
            closed_by = closed_first(our_end, victim_addr).map(|by| (now, by));
        }
        if victim_out.is_none() && !in_quorum(&cluster.mon_view(victim).0) {
            victim_out = Some(now);
        }
        if others_quorum.is_none()
            && others.iter().all(|m| {
                let (state, quorum) = cluster.mon_view(m);
                in_quorum(&state) && quorum.len() == 2 && !quorum.iter().any(|n| n == victim)
            })
        {
            others_quorum = Some(now);
        }
        let answered_elsewhere = commands
            .lock()
            .unwrap()
            .iter()
            .any(|d| d.ok && d.done > cut && d.on.as_ref().is_some_and(|m| m != victim));
        if answered_elsewhere && victim_out.is_some() && others_quorum.is_some() {
            // A little more, to see the client stay where it went.
            std::thread::sleep(Duration::from_secs(2));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The end that closed first stays in FIN_WAIT/TIME_WAIT for a minute,
    // so a close between the last poll and the loop's end is still seen.
    if closed_by.is_none() {
        closed_by = closed_first(our_end, victim_addr).map(|by| (Instant::now(), by));
    }
    let victim_trims = trimmed_sessions(cluster, victim);
    cluster.heal(victim).unwrap();
    stop.store(true, Ordering::Relaxed);
    cluster.wait_for_quorum(&ALL, QUORUM_WAIT).unwrap();
    // The loop ends once its command in flight is answered (the healed
    // victim serves it again, at the latest).
    rt.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(120), command_loop).await;
        let _ = recorder.await;
        client.shutdown().await;
    });
    let commands = commands.lock().unwrap().clone();
    let timeline = timeline.lock().unwrap().clone();
    CaseReport {
        victim: victim.to_string(),
        role,
        cut,
        victim_out,
        others_quorum,
        timeline,
        commands,
        sessions_before,
        closed_by,
        victim_trims,
    }
}

/// What the monitor logs (at debug_mon 10) when its tick drops a client
/// session because it has been out of quorum for 2 x mon_lease.
const TRIM_MARK: &str = "out of quorum too long";

fn trimmed_sessions(cluster: &Cluster, mon: &str) -> Vec<String> {
    let path = cluster
        .dir()
        .join("log")
        .join(format!("ceph-mon.{mon}.log"));
    let text = std::fs::read(&path).unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| l.contains(TRIM_MARK))
        .map(str::to_string)
        .collect()
}

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time (they measure timings); a failed one must not block
/// the other.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn cluster() -> Cluster {
    let lease = MON_LEASE.as_secs().to_string();
    Cluster::start(
        ClusterSpec::with_mons(3)
            .mon("mon_lease", &lease)
            // The monitor's own word for dropping sessions (TRIM_MARK).
            .mon("debug_mon", "10")
            .peer_isolation(true),
    )
    .expect("3-monitor cluster with peer isolation starts")
}

fn assert_client_moved_itself(r: &CaseReport, label: &str) {
    let first = r
        .first_elsewhere()
        .unwrap_or_else(|| panic!("[{label}] no command answered by another monitor"));
    let out = r.victim_out.unwrap_or_else(|| {
        panic!(
            "[{label}] the cut did not take: mon.{} stayed in quorum",
            r.victim
        )
    });
    assert!(
        r.others_quorum.is_some(),
        "[{label}] the other two never formed a quorum without mon.{}",
        r.victim
    );
    assert_eq!(
        r.closed_by.map(|(_, by)| by),
        Some("client"),
        "[{label}] the client must close its connection to the victim first"
    );
    assert!(
        !r.hunted_before_moving(),
        "[{label}] the session was dropped before the client moved"
    );
    // One new session, the probe that won, once the other two can answer.
    // Before they form their own quorum they may be as silent as the victim
    // (likely a proposal the victim never accepts holding their reads until
    // the election), so a probe then may need another; each only after a
    // whole stall_timeout of silence, never a storm.
    let starts = r.session_starts();
    assert!(!starts.is_empty(), "[{label}] no new session after the cut");
    let quorum = r.others_quorum.expect("checked above");
    let after_quorum = starts.iter().filter(|t| **t >= quorum).count();
    assert!(
        after_quorum <= 1,
        "[{label}] {} new sessions, {after_quorum} of them after the others formed a quorum (at most one)",
        starts.len()
    );
    for pair in starts.windows(2) {
        let apart = pair[1].duration_since(pair[0]);
        assert!(
            // 100 ms for the timeline's own sampling of the client's state.
            apart + Duration::from_millis(100) >= STALL,
            "[{label}] two probes {:.2}s apart, less than stall_timeout {STALL:?}",
            secs(apart)
        );
    }
    assert!(
        first.duration_since(r.cut) <= MOVE_BOUND,
        "[{label}] first command answered elsewhere {:.2}s after the cut (bound {MOVE_BOUND:?})",
        secs(first.duration_since(r.cut))
    );
    // The victim's own rule could not have moved it yet.
    assert!(
        first < out + MONITOR_DROP,
        "[{label}] answered elsewhere {:.2}s after the victim left quorum: not before the monitor's own drop ({MONITOR_DROP:?})",
        secs(first.saturating_duration_since(out))
    );
    assert!(
        r.victim_trims.is_empty(),
        "[{label}] the victim dropped sessions by itself before the client left: {:?}",
        r.victim_trims
    );
    // Every command ended in an answer: none failed, none was lost.
    let failed: Vec<&Done> = r.commands.iter().filter(|d| !d.ok).collect();
    assert!(failed.is_empty(), "[{label}] failed commands: {failed:?}");
}

#[test]
fn client_leaves_a_monitor_cut_off_from_its_peers() {
    let _serial = serial();
    let cluster = cluster();
    let peon = mon_in_state(&cluster, "peon");
    let report = run_case(&cluster, &peon, "peon", Some(STALL), WATCH, 11);
    report.print("peon");
    assert_client_moved_itself(&report, "peon");

    let leader = mon_in_state(&cluster, "leader");
    let report = run_case(&cluster, &leader, "leader", Some(STALL), WATCH, 12);
    report.print("leader");
    assert_client_moved_itself(&report, "leader");
}

/// The same cut with probing off, to show what the monitor does by itself:
/// it keeps the session (and acks keepalives) while it answers nothing,
/// until it has been out of quorum for 2 x mon_lease; then it closes the
/// session and the client finds another monitor by hunting. That is later
/// than the probing client above was answered elsewhere.
#[test]
fn without_probing_the_monitor_drops_the_session_later() {
    let _serial = serial();
    let cluster = cluster();
    let peon = mon_in_state(&cluster, "peon");
    let report = run_case(&cluster, &peon, "peon", None, WATCH, 21);
    report.print("peon, probing off");
    let out = report.victim_out.expect("the victim left quorum");
    assert_eq!(
        report.closed_by.map(|(_, by)| by),
        Some("monitor"),
        "the monitor closes the session first: {}",
        report.who_moved()
    );
    assert!(
        !report.victim_trims.is_empty(),
        "the victim's log says it dropped the session ({TRIM_MARK:?})"
    );
    let first = report
        .first_elsewhere()
        .expect("answered elsewhere after the monitor dropped the session");
    assert!(
        first + Duration::from_millis(500) >= out + MONITOR_DROP,
        "answered elsewhere {:.2}s after the victim left quorum, before its 2 x mon_lease",
        secs(first.saturating_duration_since(out))
    );
}
