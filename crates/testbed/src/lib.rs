//! Throwaway Ceph clusters for tests and demos.
//!
//! [`Cluster::start`] runs real `ceph-mon` processes on 127.0.0.1, with all of
//! their state (keys, monmap, config, stores, logs, sockets) in a fresh
//! temporary directory, and waits until every monitor is in quorum. On
//! demand it adds managers (`ceph-mgr`) and memstore OSDs (`ceph-osd` keeping
//! data in memory, no disks) and waits until a manager is active and every
//! OSD is up ([`ClusterSpec::mgrs`], [`ClusterSpec::osds`]). The cluster owns
//! its processes: it can kill, stop, continue and restart them (monitors by
//! name, `a`; the others as `mgr.x`, `osd.0`), and dropping it kills them
//! all and removes the directory.
//!
//! ```no_run
//! use ceph_testbed::{Cluster, ClusterSpec};
//!
//! let cluster = Cluster::start(ClusterSpec::with_mons(3)).unwrap();
//! println!("mon_host = {}", cluster.mon_host());
//! let dump = cluster.ceph(&["mon", "dump", "-f", "json"]).unwrap();
//! assert!(dump.success());
//! cluster.kill("b").unwrap();
//! cluster.wait_for_quorum(&["a", "c"], std::time::Duration::from_secs(60)).unwrap();
//! ```
//!
//! With [`ClusterSpec::peer_isolation`], a monitor can also be cut off from
//! the other monitors while clients still reach it ([`Cluster::isolate_from_peers`],
//! [`Cluster::heal`]): it drops out of quorum but keeps accepting sessions
//! and answering keepalives, a "half-dead" monitor (see the `isolation`
//! module for how: per-monitor cgroups and one nftables table per cluster).
//!
//! Environment:
//! - `TESTBED_KEEP=1`: keep the directory after drop (its path is printed).
//! - `CEPH_RELEASE`: which Ceph release runs the monitors: unset, `host` or
//!   the host's codename for the host's binaries; `reef` or `tentacle` for a
//!   Debian chroot made by `scripts/ceph-release.sh` (see [`CephRuntime`]).
//! - `CEPH_RELEASES_DIR`: where those chroots are (default
//!   `/var/cache/monc-ceph-releases`).

mod daemons;
mod isolation;
mod runtime;

pub use runtime::{
    host_release, release_from_version, releases_dir, CephRuntime, CHROOT_RELEASES,
    DEFAULT_RELEASES_DIR,
};

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use rand::Rng;

/// Ports are taken from this range, which lies below the kernel's ephemeral
/// range so outgoing connections cannot steal them.
const PORT_RANGE: std::ops::Range<u16> = 20000..32000;

/// Lines of each monitor log included in error messages.
const LOG_TAIL_LINES: usize = 25;

/// Errors from starting or driving a test cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A filesystem or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A Ceph tool (`ceph-authtool`, `monmaptool`, `ceph-mon --mkfs`, ...) failed.
    #[error("{command} failed ({status}): {stderr}")]
    Tool {
        /// The command line that failed.
        command: String,
        /// Its exit status, as text.
        status: String,
        /// Its standard error (and output, if stderr was empty).
        stderr: String,
    },
    /// No free port block could be found.
    #[error("no free ports found in {PORT_RANGE:?}")]
    NoFreePorts,
    /// A monitor could not bind its ports (another process took them first).
    #[error("monitor {name} could not bind its ports\n{logs}")]
    PortInUse {
        /// The monitor's name.
        name: String,
        /// The tail of the monitor logs.
        logs: String,
    },
    /// Quorum was not reached in time.
    #[error("monitors {expected:?} not in quorum after {timeout:?} (last: {last})\n{logs}")]
    NoQuorum {
        /// The monitors that should have been in quorum.
        expected: Vec<String>,
        /// How long we waited.
        timeout: Duration,
        /// The last observation (CLI error or quorum members seen).
        last: String,
        /// The tail of the monitor logs.
        logs: String,
    },
    /// A monitor exited while we waited for it.
    #[error("monitor {name} exited ({status})\n{logs}")]
    MonExited {
        /// The monitor's name.
        name: String,
        /// Its exit status, as text.
        status: String,
        /// The tail of the monitor logs.
        logs: String,
    },
    /// No monitor has this name.
    #[error("no monitor named {0:?}")]
    UnknownMon(String),
    /// The monitor is already running (for [`Cluster::start_mon`]).
    #[error("monitor {0} is already running")]
    AlreadyRunning(String),
    /// The requested Ceph release cannot be run here.
    #[error("unsupported Ceph release: {0}")]
    UnsupportedRelease(String),
    /// A chroot release was requested but its chroot is missing or unfinished.
    #[error(
        "Ceph release {release} is not prepared in {}: run `scripts/ceph-release.sh {release}` as root first",
        dir.display()
    )]
    ReleaseNotPrepared {
        /// The release codename.
        release: String,
        /// Where its chroot was expected.
        dir: PathBuf,
    },
    /// The cluster spec is invalid.
    #[error("invalid cluster spec: {0}")]
    InvalidSpec(String),
    /// Peer isolation cannot be set up here, or was not asked for.
    #[error("peer isolation: {0}")]
    Isolation(String),
    /// No manager or OSD has this name (`mgr.x`, `osd.0`).
    #[error("no daemon named {0:?}")]
    UnknownDaemon(String),
    /// A manager or OSD exited while we waited for it.
    #[error("{name} exited ({status})\n{logs}")]
    DaemonExited {
        /// The daemon (`osd.0`, `mgr.x`).
        name: String,
        /// Its exit status, as text.
        status: String,
        /// The tail of its logs.
        logs: String,
    },
    /// Managers or OSDs did not become ready in time.
    #[error("no {what} after {timeout:?} (last: {last})")]
    DaemonsNotReady {
        /// What was awaited.
        what: String,
        /// How long we waited.
        timeout: Duration,
        /// The last observation.
        last: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

/// What cluster to start.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// Number of monitors (named `a`, `b`, `c`, ...). At least 1.
    pub mons: usize,
    /// Extra `key = value` lines for the `[global]` section (win over defaults).
    pub global_options: Vec<(String, String)>,
    /// Extra `key = value` lines for the `[mon]` section (win over defaults).
    pub mon_options: Vec<(String, String)>,
    /// How long [`Cluster::start`] waits for the initial quorum.
    pub quorum_timeout: Duration,
    /// How many times the whole start is tried when a port is taken.
    pub start_attempts: u32,
    /// Make the cluster usable by clients that only know the classic `aes`
    /// cipher. Tentacle's fresh monmaps allow only `aes256k`, and its
    /// `ceph-authtool` makes `aes256k` keys; with this set, the monmap allows
    /// `aes256k,aes` and `client.admin` gets an `aes` key (the `mon.` key,
    /// the preferred and the service cipher keep Tentacle's defaults).
    /// Releases before Tentacle only know `aes`: there it changes nothing.
    pub classic_aes: bool,
    /// Run each monitor in a cgroup of its own so that
    /// [`Cluster::isolate_from_peers`] can cut it off from the other
    /// monitors (not from clients). Needs root, cgroup v2 and `nft`;
    /// [`Cluster::start`] fails if they are missing.
    pub peer_isolation: bool,
    /// Number of managers (`mgr.x`, `mgr.y`, ...). The first to start
    /// becomes active, the others standbys.
    pub mgrs: usize,
    /// Number of memstore OSDs (`osd.0`, ...), each under a host bucket
    /// of its own (`host0`, ...) below `root=default`.
    pub osds: usize,
    /// Extra `key = value` lines for the `[mgr]` section.
    pub mgr_options: Vec<(String, String)>,
    /// Extra `key = value` lines for the `[osd]` section.
    pub osd_options: Vec<(String, String)>,
    /// How long [`Cluster::start`] waits for an active manager and for
    /// every OSD to be up.
    pub daemon_timeout: Duration,
    /// Monitors that speak only msgr1: `ms_bind_msgr2 = false`, the MonMap
    /// and `mon_host` list only their `v1` addresses (as clusters made
    /// before Nautilus, or configured so).
    pub msgr1_only: bool,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            mons: 1,
            global_options: Vec::new(),
            mon_options: Vec::new(),
            quorum_timeout: Duration::from_secs(90),
            start_attempts: 5,
            classic_aes: false,
            peer_isolation: false,
            mgrs: 0,
            osds: 0,
            mgr_options: Vec::new(),
            osd_options: Vec::new(),
            daemon_timeout: Duration::from_secs(120),
            msgr1_only: false,
        }
    }
}

impl ClusterSpec {
    /// A default spec with `mons` monitors.
    pub fn with_mons(mons: usize) -> Self {
        ClusterSpec {
            mons,
            ..Self::default()
        }
    }

    /// Adds a `[global]` option.
    pub fn global(mut self, key: &str, value: &str) -> Self {
        self.global_options.push((key.into(), value.into()));
        self
    }

    /// Adds a `[mon]` option.
    pub fn mon(mut self, key: &str, value: &str) -> Self {
        self.mon_options.push((key.into(), value.into()));
        self
    }

    /// Sets [`ClusterSpec::classic_aes`].
    pub fn classic_aes(mut self, allow: bool) -> Self {
        self.classic_aes = allow;
        self
    }

    /// Sets [`ClusterSpec::msgr1_only`].
    pub fn msgr1_only(mut self, only: bool) -> Self {
        self.msgr1_only = only;
        self
    }

    /// Sets [`ClusterSpec::peer_isolation`].
    pub fn peer_isolation(mut self, enable: bool) -> Self {
        self.peer_isolation = enable;
        self
    }

    /// Sets [`ClusterSpec::mgrs`].
    pub fn mgrs(mut self, count: usize) -> Self {
        self.mgrs = count;
        self
    }

    /// Sets [`ClusterSpec::osds`].
    pub fn osds(mut self, count: usize) -> Self {
        self.osds = count;
        self
    }

    /// Adds an `[osd]` option.
    pub fn osd(mut self, key: &str, value: &str) -> Self {
        self.osd_options.push((key.into(), value.into()));
        self
    }

    /// Adds a `[mgr]` option.
    pub fn mgr(mut self, key: &str, value: &str) -> Self {
        self.mgr_options.push((key.into(), value.into()));
        self
    }
}

/// One monitor of a [`Cluster`], as a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonInfo {
    /// The monitor's id (`a`, `b`, ...).
    pub name: String,
    /// Its rank in the monmap.
    pub rank: u32,
    /// Its msgr2 address.
    pub v2_addr: SocketAddr,
    /// Its legacy msgr1 address.
    pub v1_addr: SocketAddr,
    /// The pid of its process, if running.
    pub pid: Option<u32>,
}

impl MonInfo {
    /// The address vector as Ceph prints it: `[v2:IP:P,v1:IP:Q]`.
    pub fn addrvec(&self) -> String {
        format!("[v2:{},v1:{}]", self.v2_addr, self.v1_addr)
    }
}

/// The result of running the `ceph` CLI.
#[derive(Clone, Debug)]
pub struct Output {
    /// Exit code (`None` if killed by a signal or by our timeout).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// Whether the command exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Parses stdout as JSON.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.stdout)
    }
}

/// Monitor bookkeeping: fixed identity plus the running child, if any.
struct MonSlot {
    name: String,
    rank: u32,
    v2_addr: SocketAddr,
    v1_addr: SocketAddr,
    child: Option<Child>,
}

/// A running local monitor cluster; see the crate docs.
pub struct Cluster {
    /// `None` once the directory was deliberately kept.
    temp: Option<tempfile::TempDir>,
    root: PathBuf,
    fsid: String,
    runtime: CephRuntime,
    mon_host: String,
    mons: Mutex<Vec<MonSlot>>,
    /// Managers and OSDs.
    daemons: Mutex<Vec<daemons::DaemonSlot>>,
    /// Per-monitor cgroups and the cluster's nftables table, if asked for.
    isolation: Option<Mutex<isolation::PeerIsolation>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("root", &self.root)
            .field("fsid", &self.fsid)
            .field("mon_host", &self.mon_host)
            .finish_non_exhaustive()
    }
}

/// Ports handed out by this process and not yet released, so parallel tests
/// in one binary never pick the same block.
fn reserved_ports() -> MutexGuard<'static, HashSet<u16>> {
    static RESERVED: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    RESERVED
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// Picks `count` free ports (ascending) from a random point of [`PORT_RANGE`]
/// and reserves them in this process.
fn pick_ports(count: usize) -> Result<Vec<u16>> {
    let mut reserved = reserved_ports();
    let span = (PORT_RANGE.end - PORT_RANGE.start) as usize;
    let offset = rand::thread_rng().gen_range(0..span);
    let mut picked = Vec::with_capacity(count);
    for step in 0..span {
        let port = PORT_RANGE.start + ((offset + step) % span) as u16;
        // Keep the block ascending so monmap ranks follow mon names.
        if picked.last().is_some_and(|&last| port < last) {
            picked.clear();
        }
        if !reserved.contains(&port) && port_is_free(port) {
            picked.push(port);
            if picked.len() == count {
                reserved.extend(picked.iter().copied());
                return Ok(picked);
            }
        }
    }
    Err(Error::NoFreePorts)
}

fn release_ports(ports: impl IntoIterator<Item = u16>) {
    let mut reserved = reserved_ports();
    for port in ports {
        reserved.remove(&port);
    }
}

/// Mon names: `a`..`z`, then `m26`, `m27`, ...
fn mon_name(index: usize) -> String {
    if index < 26 {
        char::from(b'a' + index as u8).to_string()
    } else {
        format!("m{index}")
    }
}

fn random_fsid() -> String {
    let mut b: [u8; 16] = rand::thread_rng().gen();
    // Mark it as a random (version 4, RFC 4122 variant) UUID.
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = |r: std::ops::Range<usize>| {
        b[r].iter().fold(String::new(), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
    };
    format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
    )
}

/// Last `lines` lines of a file, or a note that it could not be read.
fn tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// The tails of several log files, each under a header, for error messages.
fn logs_tail(paths: &[PathBuf]) -> String {
    let mut text = String::new();
    for path in paths {
        let _ = writeln!(
            text,
            "--- {} (tail)\n{}",
            path.display(),
            tail(path, LOG_TAIL_LINES)
        );
    }
    text
}

/// Runs a command to completion, killing it after `timeout`.
fn run_with_timeout(mut command: Command, timeout: Duration) -> Result<Output> {
    let describe = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io_err(format!("spawning {describe}")))?;
    // Drain the pipes on threads so a chatty child never blocks on a full pipe.
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(pipe) = out_pipe.as_mut() {
            let _ = io::Read::read_to_end(pipe, &mut buf);
        }
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(pipe) = err_pipe.as_mut() {
            let _ = io::Read::read_to_end(pipe, &mut buf);
        }
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child
            .try_wait()
            .map_err(io_err(format!("waiting for {describe}")))?
        {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => thread::sleep(Duration::from_millis(20)),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let mut stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    if status.is_none() {
        let _ = write!(stderr, "\n(testbed: killed after {timeout:?})");
    }
    Ok(Output {
        code: status.and_then(|s| s.code()),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr,
    })
}

/// Runs a setup tool and turns a non-zero exit into [`Error::Tool`].
fn run_tool(command: Command) -> Result<Output> {
    let describe = format!("{command:?}");
    let output = run_with_timeout(command, Duration::from_secs(120))?;
    if output.success() {
        Ok(output)
    } else {
        let stderr = if output.stderr.trim().is_empty() {
            output.stdout.clone()
        } else {
            output.stderr.clone()
        };
        Err(Error::Tool {
            command: describe,
            status: format!("{:?}", output.code),
            stderr,
        })
    }
}

fn send_signal(pid: u32, signal: libc::c_int) -> Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| Error::Io {
        context: format!("pid {pid} out of range"),
        source: io::Error::from(io::ErrorKind::InvalidInput),
    })?;
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own
    // unreaped child, so it cannot have been recycled for another process.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::Io {
            context: format!("kill({pid}, {signal})"),
            source: io::Error::last_os_error(),
        })
    }
}

impl Cluster {
    /// Creates and starts a cluster, waiting until all monitors are in quorum.
    ///
    /// If a monitor cannot bind its ports (a race with another process), the
    /// whole start is retried with new ports, up to `spec.start_attempts` times.
    pub fn start(spec: ClusterSpec) -> Result<Cluster> {
        if spec.mons == 0 {
            return Err(Error::InvalidSpec("at least one monitor is needed".into()));
        }
        let runtime = CephRuntime::from_env()?;
        let attempts = spec.start_attempts.max(1);
        let mut attempt = 1;
        loop {
            match Self::start_once(&spec, runtime.clone()) {
                Err(Error::PortInUse { name, .. }) if attempt < attempts => {
                    eprintln!("testbed: mon.{name} lost a port race, retrying (attempt {attempt})");
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn start_once(spec: &ClusterSpec, runtime: CephRuntime) -> Result<Cluster> {
        let temp = tempfile::Builder::new()
            .prefix("ceph-testbed-")
            .tempdir()
            .map_err(io_err("creating temp dir"))?;
        let root = temp.path().to_path_buf();
        // A chroot release must see the state directory at the same path.
        let runtime = runtime.sharing(&root);
        let ports = pick_ports(spec.mons * 2)?;
        let mons: Vec<MonSlot> = (0..spec.mons)
            .map(|i| MonSlot {
                name: mon_name(i),
                rank: i as u32,
                v2_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, ports[2 * i])),
                v1_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, ports[2 * i + 1])),
                child: None,
            })
            .collect();
        let mon_host = mons
            .iter()
            .map(|m| {
                if spec.msgr1_only {
                    format!("v1:{}", m.v1_addr)
                } else {
                    format!("[v2:{},v1:{}]", m.v2_addr, m.v1_addr)
                }
            })
            .collect::<Vec<_>>()
            .join(",");
        let fsid = random_fsid();
        let isolation = if spec.peer_isolation {
            let names: Vec<String> = mons.iter().map(|m| m.name.clone()).collect();
            // The fsid's first group is random enough to tell this
            // process's clusters apart.
            let tag = &fsid[..8];
            match isolation::PeerIsolation::create(tag, &names, rand::thread_rng().gen()) {
                Ok(iso) => Some(Mutex::new(iso)),
                Err(e) => {
                    release_ports(ports);
                    return Err(e);
                }
            }
        } else {
            None
        };
        let cluster = Cluster {
            temp: Some(temp),
            root,
            fsid,
            runtime,
            mon_host,
            mons: Mutex::new(mons),
            daemons: Mutex::new(daemons::slots_for(spec)),
            isolation,
        };
        // From here on, Drop cleans up processes, ports and the directory.
        cluster.provision(spec)?;
        let names = cluster.mon_names();
        for name in &names {
            cluster.start_mon(name)?;
        }
        cluster.wait_for_quorum_inner(&names, spec.quorum_timeout, QuorumWait::Initial)?;
        cluster.refresh_ranks()?;
        cluster.start_daemons(spec)?;
        Ok(cluster)
    }

    /// Writes keys, monmap and config, and runs `ceph-mon --mkfs` for each monitor.
    fn provision(&self, spec: &ClusterSpec) -> Result<()> {
        for sub in ["run", "log", "mon", "mgr", "osd"] {
            fs::create_dir_all(self.root.join(sub)).map_err(io_err(format!("creating {sub}")))?;
        }
        let mon_keyring = self.mon_keyring_path();
        let admin_keyring = self.admin_keyring_path();
        // Only releases with a cipher choice (Tentacle on) know these flags;
        // older ones only have `aes`, which they always allow.
        let classic_aes = spec.classic_aes && self.has_cipher_choice()?;

        let mut cmd = self.runtime.command("ceph-authtool");
        cmd.arg("--create-keyring").arg(&mon_keyring).args([
            "--gen-key",
            "-n",
            "mon.",
            "--cap",
            "mon",
            "allow *",
        ]);
        run_tool(cmd)?;
        let mut cmd = self.runtime.command("ceph-authtool");
        if classic_aes {
            cmd.args(["--key-type", "aes"]);
        }
        cmd.arg("--create-keyring").arg(&admin_keyring).args([
            "--gen-key",
            "-n",
            "client.admin",
            "--cap",
            "mon",
            "allow *",
            "--cap",
            "osd",
            "allow *",
            "--cap",
            "mds",
            "allow *",
            "--cap",
            "mgr",
            "allow *",
        ]);
        run_tool(cmd)?;
        // The mon store is seeded from this keyring, so client.admin must be in it.
        let mut cmd = self.runtime.command("ceph-authtool");
        cmd.arg(&mon_keyring)
            .arg("--import-keyring")
            .arg(&admin_keyring);
        run_tool(cmd)?;
        self.provision_daemon_keys(&mon_keyring)?;

        let monmap = self.root.join("monmap");
        let mut cmd = self.runtime.command("monmaptool");
        cmd.args(["--create", "--fsid", &self.fsid]);
        if classic_aes {
            cmd.args(["--auth-allowed-ciphers", "aes256k,aes"]);
        }
        for mon in self.lock_mons().iter() {
            let addrs = if spec.msgr1_only {
                format!("[v1:{}]", mon.v1_addr)
            } else {
                format!("[v2:{},v1:{}]", mon.v2_addr, mon.v1_addr)
            };
            cmd.arg("--addv").arg(&mon.name).arg(addrs);
        }
        cmd.arg(&monmap);
        run_tool(cmd)?;

        let conf = self.render_conf(spec);
        fs::write(self.conf_path(), conf).map_err(io_err("writing ceph.conf"))?;

        for name in self.mon_names() {
            let mut cmd = self.runtime.command("ceph-mon");
            cmd.arg("-c")
                .arg(self.conf_path())
                .args(["--mkfs", "-i", &name, "--monmap"])
                .arg(&monmap)
                .arg("--keyring")
                .arg(&mon_keyring);
            run_tool(cmd)?;
        }
        Ok(())
    }

    /// Whether this release's `monmaptool` can set the allowed ciphers.
    fn has_cipher_choice(&self) -> Result<bool> {
        let mut cmd = self.runtime.command("monmaptool");
        cmd.arg("--help");
        // `--help` exits non-zero on some releases: only the text matters.
        let out = run_with_timeout(cmd, Duration::from_secs(60))?;
        Ok(format!("{}{}", out.stdout, out.stderr).contains("--auth-allowed-ciphers"))
    }

    fn render_conf(&self, spec: &ClusterSpec) -> String {
        let dir = self.root.display();
        let mut conf = String::new();
        let line = |conf: &mut String, key: &str, value: &str| {
            let _ = writeln!(conf, "{key} = {value}");
        };
        conf.push_str("[global]\n");
        line(&mut conf, "fsid", &self.fsid);
        line(&mut conf, "mon_host", &self.mon_host);
        for key in [
            "auth_cluster_required",
            "auth_service_required",
            "auth_client_required",
        ] {
            line(&mut conf, key, "cephx");
        }
        line(&mut conf, "run_dir", &format!("{dir}/run"));
        line(&mut conf, "ms_bind_ipv4", "true");
        line(&mut conf, "ms_bind_ipv6", "false");
        // Fail fast on a taken port so start() can retry with new ones.
        line(&mut conf, "ms_bind_retry_count", "1");
        line(&mut conf, "ms_bind_retry_delay", "1");
        line(&mut conf, "mon_allow_pool_delete", "true");
        for (k, v) in daemons::global_defaults(spec) {
            line(&mut conf, k, &v);
        }
        if spec.msgr1_only {
            line(&mut conf, "ms_bind_msgr2", "false");
        }
        for (k, v) in &spec.global_options {
            line(&mut conf, k, v);
        }

        conf.push_str("\n[mon]\n");
        line(&mut conf, "mon_data", &format!("{dir}/mon/$cluster-$id"));
        line(&mut conf, "keyring", "$mon_data/keyring");
        line(
            &mut conf,
            "log_file",
            &format!("{dir}/log/$cluster-$name.log"),
        );
        line(
            &mut conf,
            "mon_cluster_log_file",
            &format!("{dir}/log/$cluster.log"),
        );
        line(
            &mut conf,
            "admin_socket",
            &format!("{dir}/run/$cluster-$name.asok"),
        );
        line(
            &mut conf,
            "pid_file",
            &format!("{dir}/run/$cluster-$name.pid"),
        );
        // Test machines often have nearly full disks; never refuse to run for that.
        line(&mut conf, "mon_data_avail_crit", "0");
        line(&mut conf, "mon_data_avail_warn", "0");
        // Shorter elections so quorum forms (and re-forms after faults) fast.
        line(&mut conf, "mon_election_timeout", "2");
        line(&mut conf, "mon_lease", "2");
        for (k, v) in &spec.mon_options {
            line(&mut conf, k, v);
        }

        conf.push_str("\n[client]\n");
        line(
            &mut conf,
            "keyring",
            &self.admin_keyring_path().display().to_string(),
        );
        line(
            &mut conf,
            "log_file",
            &format!("{dir}/log/$cluster-$name.$pid.log"),
        );

        daemons::render_conf(&mut conf, &self.root, spec);

        for mon in self.lock_mons().iter() {
            let _ = writeln!(conf, "\n[mon.{}]", mon.name);
            line(
                &mut conf,
                "public_addrv",
                &format!("[v2:{},v1:{}]", mon.v2_addr, mon.v1_addr),
            );
        }
        conf
    }

    fn lock_mons(&self) -> MutexGuard<'_, Vec<MonSlot>> {
        self.mons
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn mon_names(&self) -> Vec<String> {
        self.lock_mons().iter().map(|m| m.name.clone()).collect()
    }

    fn with_slot<T>(&self, name: &str, f: impl FnOnce(&mut MonSlot) -> Result<T>) -> Result<T> {
        let mut mons = self.lock_mons();
        let slot = mons
            .iter_mut()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::UnknownMon(name.to_string()))?;
        f(slot)
    }

    /// The temporary directory holding all cluster state.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// Path of the cluster's `ceph.conf` (usable by clients as-is).
    pub fn conf_path(&self) -> PathBuf {
        self.root.join("ceph.conf")
    }

    /// Path of the `client.admin` keyring (full caps).
    pub fn admin_keyring_path(&self) -> PathBuf {
        self.root.join("ceph.client.admin.keyring")
    }

    /// Path of the keyring holding the `mon.` key (and a copy of client.admin).
    pub fn mon_keyring_path(&self) -> PathBuf {
        self.root.join("ceph.mon.keyring")
    }

    /// The cluster fsid (UUID text).
    pub fn fsid(&self) -> &str {
        &self.fsid
    }

    /// The `mon_host` value: `[v2:127.0.0.1:P,v1:127.0.0.1:Q],[...]`.
    pub fn mon_host(&self) -> &str {
        &self.mon_host
    }

    /// The Ceph runtime the monitors run with.
    pub fn runtime(&self) -> &CephRuntime {
        &self.runtime
    }

    /// A snapshot of all monitors, in rank order.
    pub fn mons(&self) -> Vec<MonInfo> {
        let mut mons = self.lock_mons();
        let mut infos: Vec<MonInfo> = mons
            .iter_mut()
            .map(|m| MonInfo {
                name: m.name.clone(),
                rank: m.rank,
                v2_addr: m.v2_addr,
                v1_addr: m.v1_addr,
                pid: running_pid(&mut m.child),
            })
            .collect();
        infos.sort_by_key(|m| m.rank);
        infos
    }

    /// The monitor named `name`.
    pub fn mon(&self, name: &str) -> Result<MonInfo> {
        self.mons()
            .into_iter()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::UnknownMon(name.to_string()))
    }

    /// Writes a client `ceph.conf` and `ceph.client.admin.keyring` into `dir`
    /// (the conf names that keyring); returns the conf path.
    pub fn write_client_files(&self, dir: &Path) -> Result<PathBuf> {
        fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let keyring = dir.join("ceph.client.admin.keyring");
        fs::copy(self.admin_keyring_path(), &keyring)
            .map_err(io_err(format!("writing {}", keyring.display())))?;
        let conf_path = dir.join("ceph.conf");
        let conf = format!(
            "[global]\nfsid = {}\nmon_host = {}\nauth_cluster_required = cephx\n\
             auth_service_required = cephx\nauth_client_required = cephx\n\
             keyring = {}\n",
            self.fsid,
            self.mon_host,
            keyring.display()
        );
        fs::write(&conf_path, conf).map_err(io_err(format!("writing {}", conf_path.display())))?;
        Ok(conf_path)
    }

    /// Runs the reference `ceph` CLI against this cluster as client.admin.
    ///
    /// A `--connect-timeout` of 15 s is passed, and the process is killed
    /// after 60 s.
    pub fn ceph(&self, args: &[&str]) -> Result<Output> {
        self.ceph_with_timeout(args, Duration::from_secs(15))
    }

    /// Like [`Cluster::ceph`] with an explicit connect timeout (whole
    /// seconds, at least 1); the process is killed after four times that.
    pub fn ceph_with_timeout(&self, args: &[&str], connect_timeout: Duration) -> Result<Output> {
        let secs = connect_timeout.as_secs().max(1);
        let mut cmd = self.runtime.command("ceph");
        cmd.arg("--conf")
            .arg(self.conf_path())
            .arg("--keyring")
            .arg(self.admin_keyring_path())
            .args(["--name", "client.admin", "--connect-timeout"])
            .arg(secs.to_string())
            .args(args);
        run_with_timeout(cmd, Duration::from_secs(secs * 4 + 5))
    }

    /// Path of the named monitor's admin socket.
    pub fn admin_socket_path(&self, name: &str) -> PathBuf {
        self.root.join("run").join(format!("ceph-mon.{name}.asok"))
    }

    /// Runs `ceph daemon` against the named monitor's admin socket (works
    /// without quorum), e.g. `cluster.mon_daemon("a", &["config", "get", "mon_lease"])`.
    pub fn mon_daemon(&self, name: &str, args: &[&str]) -> Result<Output> {
        let mut cmd = self.runtime.command("ceph");
        cmd.arg("--admin-daemon")
            .arg(self.admin_socket_path(name))
            .args(args);
        run_with_timeout(cmd, Duration::from_secs(30))
    }

    /// Waits until every monitor in `names` is in quorum (others may or may not be).
    ///
    /// Right after a fault the old quorum may still be reported; use
    /// [`Cluster::wait_for_exact_quorum`] to wait for a faulty mon to leave it.
    pub fn wait_for_quorum(&self, names: &[&str], timeout: Duration) -> Result<()> {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        self.wait_for_quorum_inner(&names, timeout, QuorumWait::Includes)
    }

    /// Waits until the quorum is exactly the monitors in `names`.
    pub fn wait_for_exact_quorum(&self, names: &[&str], timeout: Duration) -> Result<()> {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        self.wait_for_quorum_inner(&names, timeout, QuorumWait::Exact)
    }

    /// The current quorum member names, as reported by `ceph quorum_status`.
    pub fn quorum_names(&self) -> Result<Vec<String>> {
        let out =
            self.ceph_with_timeout(&["quorum_status", "-f", "json"], Duration::from_secs(5))?;
        parse_quorum_names(&out).map_err(|last| Error::Tool {
            command: "ceph quorum_status".into(),
            status: format!("{:?}", out.code),
            stderr: last,
        })
    }

    fn wait_for_quorum_inner(
        &self,
        names: &[String],
        timeout: Duration,
        mode: QuorumWait,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("(no attempt)");
        loop {
            // A monitor we need that died will not come back by itself.
            for name in names {
                if let Some(status) = self.exit_status(name)? {
                    let logs = self.mon_logs_tail(name);
                    let lost_bind_race =
                        mode == QuorumWait::Initial && logs.contains("unable to bind");
                    return Err(if lost_bind_race {
                        Error::PortInUse {
                            name: name.clone(),
                            logs,
                        }
                    } else {
                        Error::MonExited {
                            name: name.clone(),
                            status,
                            logs,
                        }
                    });
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Error::NoQuorum {
                    expected: names.to_vec(),
                    timeout,
                    last,
                    logs: self.all_logs_tail(),
                });
            }
            let connect = remaining.min(Duration::from_secs(5));
            let out = self.ceph_with_timeout(&["quorum_status", "-f", "json"], connect)?;
            match parse_quorum_names(&out) {
                Ok(quorum) if mode.satisfied(names, &quorum) => return Ok(()),
                Ok(quorum) => last = format!("quorum is {quorum:?}"),
                Err(e) => last = e,
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// Reads the ranks from the live monmap (Ceph orders ranks by address).
    fn refresh_ranks(&self) -> Result<()> {
        let out = self.ceph(&["mon", "dump", "-f", "json"])?;
        let dump = out.json().map_err(|e| Error::Tool {
            command: "ceph mon dump".into(),
            status: format!("{:?}", out.code),
            stderr: format!("{e}: {}{}", out.stdout, out.stderr),
        })?;
        let entries = dump["mons"].as_array().cloned().unwrap_or_default();
        let mut mons = self.lock_mons();
        for entry in entries {
            let (Some(name), Some(rank)) = (entry["name"].as_str(), entry["rank"].as_u64()) else {
                continue;
            };
            if let Some(slot) = mons.iter_mut().find(|m| m.name == name) {
                slot.rank = rank as u32;
            }
        }
        Ok(())
    }

    /// `Some(status)` if the monitor's process has exited (it is then reaped).
    fn exit_status(&self, name: &str) -> Result<Option<String>> {
        self.with_slot(name, |slot| match slot.child.as_mut() {
            None => Ok(Some("not started".into())),
            Some(child) => match child.try_wait() {
                Ok(Some(status)) => {
                    slot.child = None;
                    Ok(Some(status.to_string()))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(Error::Io {
                    context: format!("waiting for mon.{name}"),
                    source: e,
                }),
            },
        })
    }

    fn mon_log_paths(&self, name: &str) -> [PathBuf; 2] {
        [
            self.root.join("log").join(format!("ceph-mon.{name}.log")),
            self.root.join("log").join(format!("mon.{name}.stderr")),
        ]
    }

    /// The tails of a monitor's log and stderr files, for error messages.
    pub fn mon_logs_tail(&self, name: &str) -> String {
        logs_tail(&self.mon_log_paths(name))
    }

    fn all_logs_tail(&self) -> String {
        self.mon_names()
            .iter()
            .map(|n| self.mon_logs_tail(n))
            .collect::<Vec<_>>()
            .join("")
    }

    /// Starts the named monitor (after [`Cluster::kill`], or its first start).
    /// Does not wait for quorum.
    pub fn start_mon(&self, name: &str) -> Result<()> {
        let conf = self.conf_path();
        let [_, stderr_path] = self.mon_log_paths(name);
        let stdout_path = self.root.join("log").join(format!("mon.{name}.stdout"));
        let mut command = self.runtime.command("ceph-mon");
        command
            .args(["-f", "-i", name, "-c"])
            .arg(&conf)
            .stdin(Stdio::null());
        if let Some(iso) = &self.isolation {
            let procs = lock(iso).procs_file(name)?;
            // Joins its cgroup between fork and exec, before it can open a
            // socket: sockets belong to the cgroup of the process that
            // opened them, and the rules match on that.
            // SAFETY: the closure only calls open(2), write(2) and close(2),
            // which are async-signal-safe, on a path prepared beforehand; it
            // allocates nothing.
            unsafe {
                command.pre_exec(move || join_cgroup(&procs));
            }
        }
        self.with_slot(name, |slot| {
            if running_pid(&mut slot.child).is_some() {
                return Err(Error::AlreadyRunning(name.to_string()));
            }
            let open = |path: &Path| {
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(io_err(format!("opening {}", path.display())))
            };
            command
                .stdout(open(&stdout_path)?)
                .stderr(open(&stderr_path)?);
            let child = command
                .spawn()
                .map_err(io_err(format!("spawning ceph-mon -i {name}")))?;
            slot.child = Some(child);
            Ok(())
        })
    }

    /// SIGKILLs the named monitor (`a`), manager (`mgr.x`) or OSD (`osd.0`)
    /// and reaps it. A no-op if it is not running.
    pub fn kill(&self, name: &str) -> Result<()> {
        if daemons::is_daemon_entity(name) {
            return self.kill_daemon(name);
        }
        let name = name.strip_prefix("mon.").unwrap_or(name);
        self.with_slot(name, |slot| kill(slot.child.take(), &format!("mon.{name}")))
    }

    /// Freezes the named monitor, manager or OSD with SIGSTOP (it keeps its
    /// sockets open). Returns once the kernel reports it stopped (or after 5 s).
    pub fn stop(&self, name: &str) -> Result<()> {
        if daemons::is_daemon_entity(name) {
            return self.signal_daemon(name, libc::SIGSTOP, true);
        }
        self.signal(
            name.strip_prefix("mon.").unwrap_or(name),
            libc::SIGSTOP,
            true,
        )
    }

    /// Resumes a daemon frozen by [`Cluster::stop`] with SIGCONT; returns
    /// once the kernel reports it no longer stopped (or after 5 s).
    pub fn cont(&self, name: &str) -> Result<()> {
        if daemons::is_daemon_entity(name) {
            return self.signal_daemon(name, libc::SIGCONT, false);
        }
        self.signal(
            name.strip_prefix("mon.").unwrap_or(name),
            libc::SIGCONT,
            false,
        )
    }

    /// Sends `signal`, then waits until the process is (or is not) stopped:
    /// signal delivery is asynchronous, and a busy machine may lag.
    fn signal(&self, name: &str, signal: libc::c_int, stopped: bool) -> Result<()> {
        self.with_slot(name, |slot| match running_pid(&mut slot.child) {
            Some(pid) => {
                send_signal(pid, signal)?;
                let deadline = Instant::now() + Duration::from_secs(5);
                while is_stopped(pid) != stopped && Instant::now() < deadline {
                    thread::sleep(Duration::from_millis(10));
                }
                Ok(())
            }
            None => Err(Error::MonExited {
                name: name.to_string(),
                status: "not running".into(),
                logs: String::new(),
            }),
        })
    }

    /// Stops the named monitor, manager or OSD (SIGTERM, SIGKILL after
    /// 10 s) and starts it again with the same data (a memstore OSD comes
    /// back empty and recovers from its peers). Does not wait for quorum or
    /// for the daemon to be up.
    pub fn restart(&self, name: &str) -> Result<()> {
        if daemons::is_daemon_entity(name) {
            return self.restart_daemon(name);
        }
        let name = name.strip_prefix("mon.").unwrap_or(name);
        self.with_slot(name, |slot| {
            terminate(slot.child.take(), &format!("mon.{name}"))
        })?;
        self.start_mon(name)
    }

    /// Cuts the named monitor off from the other monitors, in both
    /// directions, while clients can still reach it: it loses quorum but
    /// keeps accepting sessions and answering keepalives. Returns once the
    /// rules are loaded; quorum changes follow at the monitors' own pace.
    /// Needs a cluster started with [`ClusterSpec::peer_isolation`].
    /// Several monitors may be isolated at once (each from all others).
    pub fn isolate_from_peers(&self, name: &str) -> Result<()> {
        lock(self.isolation()?).isolate(name)
    }

    /// Undoes [`Cluster::isolate_from_peers`] for the named monitor (a no-op
    /// if it is not isolated). With no monitor left isolated, the cluster's
    /// nftables table is deleted. Does not wait for quorum.
    pub fn heal(&self, name: &str) -> Result<()> {
        lock(self.isolation()?).heal(name)
    }

    /// The monitors isolated now.
    pub fn isolated(&self) -> Vec<String> {
        self.isolation
            .as_ref()
            .map(|iso| lock(iso).isolated())
            .unwrap_or_default()
    }

    /// The nftables table (family `inet`) isolation uses, if enabled.
    pub fn isolation_table(&self) -> Option<String> {
        self.isolation
            .as_ref()
            .map(|iso| lock(iso).table().to_string())
    }

    fn isolation(&self) -> Result<&Mutex<isolation::PeerIsolation>> {
        self.isolation.as_ref().ok_or_else(|| {
            Error::Isolation("the cluster was started without ClusterSpec::peer_isolation".into())
        })
    }

    /// `mon_status` from the named monitor's admin socket (works out of
    /// quorum and when cut off): its `state` (`leader`, `peon`, `probing`,
    /// `electing`, ...), `quorum` ranks, `monmap`, ...
    pub fn mon_status(&self, name: &str) -> Result<serde_json::Value> {
        let out = self.mon_daemon(name, &["mon_status"])?;
        let fail = |stderr: String| Error::Tool {
            command: format!("ceph daemon mon.{name} mon_status"),
            status: format!("{:?}", out.code),
            stderr,
        };
        if !out.success() {
            return Err(fail(out.stderr.clone()));
        }
        out.json().map_err(|e| fail(format!("{e}: {}", out.stdout)))
    }

    /// Monitor `name`'s own state (`leader`, `peon`, `electing`, ...) and
    /// the names in the quorum it sees, from its admin socket;
    /// `("(no answer)", [])` when it does not answer.
    pub fn mon_view(&self, name: &str) -> (String, Vec<String>) {
        let Ok(status) = self.mon_status(name) else {
            return ("(no answer)".into(), Vec::new());
        };
        let state = status["state"].as_str().unwrap_or("?").to_string();
        let ranks: Vec<u64> = status["quorum"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r.as_u64()).collect())
            .unwrap_or_default();
        let names = status["monmap"]["mons"]
            .as_array()
            .map(|mons| {
                mons.iter()
                    .filter(|m| m["rank"].as_u64().is_some_and(|r| ranks.contains(&r)))
                    .filter_map(|m| m["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        (state, names)
    }

    /// Whether the named monitor's process exists (running or stopped).
    pub fn is_running(&self, name: &str) -> Result<bool> {
        self.with_slot(name, |slot| Ok(running_pid(&mut slot.child).is_some()))
    }

    /// Pids of all monitor processes currently alive.
    pub fn pids(&self) -> Vec<u32> {
        self.mons().into_iter().filter_map(|m| m.pid).collect()
    }
}

/// What [`Cluster::wait_for_quorum_inner`] waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QuorumWait {
    /// All named mons in quorum, during start (a bind failure means retry).
    Initial,
    /// All named mons in quorum, maybe others too.
    Includes,
    /// Quorum is exactly the named mons.
    Exact,
}

impl QuorumWait {
    fn satisfied(self, names: &[String], quorum: &[String]) -> bool {
        let includes = names.iter().all(|n| quorum.contains(n));
        match self {
            QuorumWait::Initial | QuorumWait::Includes => includes,
            QuorumWait::Exact => includes && quorum.len() == names.len(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Moves the calling process into the cgroup whose `cgroup.procs` is
/// `procs` (writing `0` there means "me"). Runs between fork and exec.
fn join_cgroup(procs: &std::ffi::CStr) -> io::Result<()> {
    // SAFETY: a valid NUL-terminated path and a one-byte buffer that
    // outlive the calls; the descriptor is closed on every path.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let written = libc::write(fd, b"0".as_ptr().cast(), 1);
        let error = io::Error::last_os_error();
        libc::close(fd);
        if written == 1 {
            Ok(())
        } else {
            Err(error)
        }
    }
}

/// SIGKILLs and reaps `child` (a no-op for `None`); `what` names it in errors.
fn kill(child: Option<Child>, what: &str) -> Result<()> {
    if let Some(mut child) = child {
        // An already-exited child makes kill() fail; wait() still reaps it.
        let _ = child.kill();
        child.wait().map_err(io_err(format!("reaping {what}")))?;
    }
    Ok(())
}

/// Asks `child` to exit (SIGTERM), SIGKILLs it after 10 s, and reaps it.
fn terminate(child: Option<Child>, what: &str) -> Result<()> {
    let Some(mut child) = child else {
        return Ok(());
    };
    let pid = child.id();
    // A stopped process only acts on SIGTERM once continued.
    let _ = send_signal(pid, libc::SIGCONT);
    let _ = send_signal(pid, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
    }
    kill(Some(child), what)
}

/// Whether the process is stopped by a signal (state `T` in /proc).
fn is_stopped(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state letter follows the ")" closing the command name.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            == Some("T")
    })
}

/// The child's pid if it has not exited; reaps (and forgets) it otherwise.
fn running_pid(child: &mut Option<Child>) -> Option<u32> {
    match child.as_mut().map(|c| c.try_wait()) {
        Some(Ok(None)) => child.as_ref().map(|c| c.id()),
        Some(_) => {
            *child = None;
            None
        }
        None => None,
    }
}

/// Extracts `quorum_names` from `ceph quorum_status -f json`, or describes the failure.
fn parse_quorum_names(out: &Output) -> Result<Vec<String>, String> {
    if !out.success() {
        return Err(format!(
            "ceph exited {:?}: {}",
            out.code,
            out.stderr.trim().lines().last().unwrap_or("")
        ));
    }
    let value = out
        .json()
        .map_err(|e| format!("bad JSON from ceph ({e})"))?;
    let names = value["quorum_names"]
        .as_array()
        .ok_or_else(|| "no quorum_names in quorum_status".to_string())?;
    Ok(names
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect())
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // OSDs and managers first: without monitors they would hang on
        // their way out.
        for slot in self.lock_daemons().iter_mut().rev() {
            if let Some(mut child) = slot.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let mut mons = self.lock_mons();
        let mut ports = Vec::new();
        for slot in mons.iter_mut() {
            if let Some(mut child) = slot.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
            ports.push(slot.v2_addr.port());
            ports.push(slot.v1_addr.port());
        }
        drop(mons);
        if let Some(iso) = &self.isolation {
            // Rules first, then the (now empty) cgroups.
            lock(iso).cleanup();
        }
        release_ports(ports);
        self.runtime.remove_mount_points();
        if std::env::var("TESTBED_KEEP").as_deref() == Ok("1") {
            if let Some(temp) = self.temp.take() {
                // Forgetting the handle skips its removal.
                std::mem::forget(temp);
                eprintln!("testbed: TESTBED_KEEP=1, keeping {}", self.root.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsid_is_uuid_shaped() {
        let fsid = random_fsid();
        let parts: Vec<usize> = fsid.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert!(fsid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_eq!(&fsid[14..15], "4");
        assert_ne!(random_fsid(), fsid);
    }

    #[test]
    fn mon_names_are_letters_then_numbered() {
        assert_eq!(mon_name(0), "a");
        assert_eq!(mon_name(2), "c");
        assert_eq!(mon_name(25), "z");
        assert_eq!(mon_name(26), "m26");
    }

    #[test]
    fn picked_ports_are_ascending_reserved_and_in_range() {
        let ports = pick_ports(6).unwrap();
        assert_eq!(ports.len(), 6);
        assert!(ports.windows(2).all(|w| w[0] < w[1]));
        assert!(ports.iter().all(|p| PORT_RANGE.contains(p)));
        let again = pick_ports(6).unwrap();
        assert!(again.iter().all(|p| !ports.contains(p)));
        release_ports(ports.iter().copied().chain(again));
    }

    #[test]
    fn quorum_names_parsed_and_failures_described() {
        let ok = Output {
            code: Some(0),
            stdout: r#"{"election_epoch":3,"quorum_names":["a","b"]}"#.into(),
            stderr: String::new(),
        };
        assert_eq!(parse_quorum_names(&ok).unwrap(), ["a", "b"]);
        let failed = Output {
            code: Some(1),
            stdout: String::new(),
            stderr: "timed out\n".into(),
        };
        assert!(parse_quorum_names(&failed)
            .unwrap_err()
            .contains("timed out"));
    }

    #[test]
    fn run_with_timeout_kills_slow_commands() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let started = Instant::now();
        let out = run_with_timeout(cmd, Duration::from_millis(200)).unwrap();
        assert_eq!(out.code, None);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
