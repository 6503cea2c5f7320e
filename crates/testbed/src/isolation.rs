//! Cutting monitors off from each other while clients still reach them.
//!
//! All monitors listen on 127.0.0.1, so addresses and ports cannot tell a
//! monitor's peer connections from its client connections. What does tell
//! them apart is which process owns each end, and the kernel knows that
//! through cgroups: every monitor of a cluster started with
//! [`ClusterSpec::peer_isolation`](crate::ClusterSpec::peer_isolation) runs
//! in a cgroup v2 group of its own,
//! `<cgroup2 mount>/monc-testbed-<pid>-<tag>/mon-<name>` (placed there
//! between fork and exec, so every socket it ever opens belongs to it).
//!
//! Isolating a monitor then loads one nftables table for the cluster
//! (`inet monc_testbed_<pid>_<tag>`) with two chains:
//!
//! - on `output`, each monitor's packets get a mark naming the sender
//!   (`socket cgroupv2` matches the sending socket's group);
//! - on `input`, a packet is dropped when its mark names one monitor and the
//!   socket receiving it (the kernel's own lookup: a listener or an
//!   established connection) belongs to another, one of the two being
//!   isolated.
//!
//! Loopback keeps the mark from output to input, so both ends are known
//! for every packet. Anything else passes untouched: clients (in other
//! groups, no mark) reach every monitor, and the monitors answer them; the
//! rules name only this cluster's groups, so other processes and other
//! clusters are never matched. Healing the last isolated monitor deletes
//! the table; dropping the cluster deletes it too (also while a panic
//! unwinds), then removes the groups once the monitors are gone. What a
//! test process killed outright leaves behind (names carry its pid) is
//! removed by the next cluster that sets isolation up.
//!
//! Needs root, cgroup v2 (mounted at `/sys/fs/cgroup` or below it, where
//! `nft` looks cgroup paths up) and the `nft` tool (Debian's `nftables`).

use std::collections::BTreeSet;
use std::ffi::CString;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use crate::{Error, Result};

/// Where `nft` resolves a cgroup path given in a rule.
const NFT_CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The per-cluster cgroups and nftables table.
#[derive(Debug)]
pub(crate) struct PeerIsolation {
    /// `<cgroup2 mount>/monc-testbed-<pid>-<tag>`.
    dir: PathBuf,
    /// `dir` as `nft` names it (relative to [`NFT_CGROUP_ROOT`]).
    nft_dir: String,
    /// The level of the per-monitor groups in the cgroup v2 hierarchy.
    level: usize,
    /// The nftables table (family `inet`).
    table: String,
    /// Marks are `mark_base | index of the monitor`.
    mark_base: u32,
    /// Monitor names, in the order their marks are numbered.
    names: Vec<String>,
    /// Monitors isolated now.
    isolated: BTreeSet<String>,
    /// Whether the table is loaded.
    loaded: bool,
}

impl PeerIsolation {
    /// Creates one cgroup per monitor; `tag` makes the names unique (with
    /// this process's pid).
    pub(crate) fn create(tag: &str, names: &[String], mark_salt: u16) -> Result<Self> {
        // SAFETY: geteuid(2) cannot fail and touches no memory.
        if unsafe { libc::geteuid() } != 0 {
            return Err(Error::Isolation(
                "peer isolation needs root (cgroups and nftables)".into(),
            ));
        }
        let mountinfo = fs::read_to_string("/proc/self/mountinfo")
            .map_err(crate::io_err("reading mountinfo"))?;
        let (mount, mount_root) = cgroup2_mount(&mountinfo).ok_or_else(|| {
            Error::Isolation("no cgroup v2 hierarchy is mounted (see /proc/self/mountinfo)".into())
        })?;
        let nft_mount = nft_relative(&mount).ok_or_else(|| {
            Error::Isolation(format!(
                "cgroup v2 is mounted at {}, but nft only finds cgroups under {NFT_CGROUP_ROOT}",
                mount.display()
            ))
        })?;
        if Command::new("nft")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_or(true, |s| !s.success())
        {
            return Err(Error::Isolation(
                "the `nft` tool is missing (apt-get install nftables)".into(),
            ));
        }
        sweep_stale(&mount);
        let pid = std::process::id();
        let group = format!("monc-testbed-{pid}-{tag}");
        let dir = mount.join(&group);
        let isolation = PeerIsolation {
            nft_dir: join_nft(&nft_mount, &group),
            dir,
            level: depth(&mount_root) + 2,
            table: format!("monc_testbed_{pid}_{tag}"),
            mark_base: 0x6d00_0000 | (u32::from(mark_salt) << 8),
            names: names.to_vec(),
            isolated: BTreeSet::new(),
            loaded: false,
        };
        // From here on, Drop removes whatever was made.
        fs::create_dir(&isolation.dir).map_err(crate::io_err(format!(
            "creating cgroup {}",
            isolation.dir.display()
        )))?;
        for name in names {
            let leaf = isolation.mon_dir(name);
            fs::create_dir(&leaf)
                .map_err(crate::io_err(format!("creating cgroup {}", leaf.display())))?;
        }
        Ok(isolation)
    }

    fn mon_dir(&self, name: &str) -> PathBuf {
        self.dir.join(format!("mon-{name}"))
    }

    /// The `cgroup.procs` file a new monitor process writes itself into.
    pub(crate) fn procs_file(&self, name: &str) -> Result<CString> {
        let path = self.mon_dir(name).join("cgroup.procs");
        CString::new(path.as_os_str().as_bytes())
            .map_err(|_| Error::Isolation(format!("NUL in {}", path.display())))
    }

    /// The table's name, for messages.
    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    /// The monitors isolated now.
    pub(crate) fn isolated(&self) -> Vec<String> {
        self.isolated.iter().cloned().collect()
    }

    /// Cuts `name` off from every other monitor.
    pub(crate) fn isolate(&mut self, name: &str) -> Result<()> {
        if !self.names.iter().any(|n| n == name) {
            return Err(Error::UnknownMon(name.to_string()));
        }
        self.isolated.insert(name.to_string());
        let applied = self.apply();
        if applied.is_err() {
            self.isolated.remove(name);
        }
        applied
    }

    /// Reconnects `name` to the others (a no-op if it was not isolated).
    pub(crate) fn heal(&mut self, name: &str) -> Result<()> {
        if !self.names.iter().any(|n| n == name) {
            return Err(Error::UnknownMon(name.to_string()));
        }
        if self.isolated.remove(name) {
            self.apply()?;
        }
        Ok(())
    }

    /// Loads the rules for the isolated set (atomically replacing the
    /// table), or deletes the table when the set is empty.
    fn apply(&mut self) -> Result<()> {
        if self.isolated.is_empty() {
            return self.unload();
        }
        nft(&self.ruleset())?;
        self.loaded = true;
        Ok(())
    }

    /// The nft script: declare (so that the delete cannot fail), delete,
    /// define; one transaction.
    fn ruleset(&self) -> String {
        let table = &self.table;
        let group = |name: &str| {
            format!(
                "socket cgroupv2 level {} \"{}/mon-{name}\"",
                self.level, self.nft_dir
            )
        };
        let mut s = format!("table inet {table} {{}}\ndelete table inet {table}\n");
        let _ = writeln!(s, "table inet {table} {{");
        s.push_str("  chain sender {\n    type filter hook output priority 0; policy accept;\n");
        for (i, name) in self.names.iter().enumerate() {
            let _ = writeln!(
                s,
                "    {} meta mark set {:#010x}",
                group(name),
                self.mark(i)
            );
        }
        s.push_str("  }\n");
        s.push_str("  chain receiver {\n    type filter hook input priority 0; policy accept;\n");
        for (i, from) in self.names.iter().enumerate() {
            for to in &self.names {
                let cut =
                    from != to && (self.isolated.contains(from) || self.isolated.contains(to));
                if cut {
                    let _ = writeln!(s, "    meta mark {:#010x} {} drop", self.mark(i), group(to));
                }
            }
        }
        s.push_str("  }\n}\n");
        s
    }

    fn mark(&self, index: usize) -> u32 {
        self.mark_base | (index as u32 & 0xff)
    }

    fn unload(&mut self) -> Result<()> {
        if self.loaded {
            let table = &self.table;
            nft(&format!(
                "table inet {table} {{}}\ndelete table inet {table}\n"
            ))?;
            self.loaded = false;
        }
        Ok(())
    }

    /// Deletes the table and removes the groups. The monitors must be gone
    /// (a group with processes cannot be removed); an exiting process may
    /// linger in its group for a moment, so removal is retried for a while.
    pub(crate) fn cleanup(&mut self) {
        self.isolated.clear();
        if let Err(e) = self.unload() {
            eprintln!(
                "testbed: could not delete nftables table {}: {e}",
                self.table
            );
        }
        if !self.dir.exists() {
            return;
        }
        let leaves: Vec<PathBuf> = self.names.iter().map(|n| self.mon_dir(n)).collect();
        for path in leaves.iter().chain(std::iter::once(&self.dir)) {
            let mut tries = 0;
            loop {
                match fs::remove_dir(path) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    Err(e) if tries >= 100 => {
                        eprintln!("testbed: could not remove cgroup {}: {e}", path.display());
                        break;
                    }
                    Err(_) => {
                        tries += 1;
                        thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        }
    }
}

impl Drop for PeerIsolation {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// The pid in a name this module makes (`monc-testbed-<pid>-<tag>` or
/// `monc_testbed_<pid>_<tag>`).
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name
        .strip_prefix("monc-testbed-")
        .or_else(|| name.strip_prefix("monc_testbed_"))?;
    rest.split(['-', '_']).next()?.parse().ok()
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes what a test process killed before its cleanup could run left
/// behind: tables and (empty) groups named after a pid that is gone. Only
/// names this module makes are touched; failures are ignored.
fn sweep_stale(mount: &Path) {
    let stale = |name: &str| owner_pid(name).is_some_and(|pid| !pid_alive(pid));
    if let Ok(out) = Command::new("nft").args(["list", "tables"]).output() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some(table) = line.strip_prefix("table inet ") {
                if stale(table) {
                    let _ = nft(&format!("delete table inet {table}\n"));
                }
            }
        }
    }
    let Ok(entries) = fs::read_dir(mount) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !stale(&name) {
            continue;
        }
        if let Ok(leaves) = fs::read_dir(entry.path()) {
            for leaf in leaves.flatten() {
                if leaf.path().is_dir() {
                    let _ = fs::remove_dir(leaf.path());
                }
            }
        }
        let _ = fs::remove_dir(entry.path());
    }
}

/// Runs an nft script from stdin.
fn nft(script: &str) -> Result<()> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(crate::io_err("spawning nft"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(crate::io_err("writing to nft"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(crate::io_err("waiting for nft"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Tool {
            command: format!("nft -f - <<EOF\n{script}EOF"),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// The first cgroup v2 mount in `mountinfo`: its mount point and the path
/// of its root inside the hierarchy.
fn cgroup2_mount(mountinfo: &str) -> Option<(PathBuf, String)> {
    mountinfo.lines().find_map(|line| {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let fields: Vec<&str> = left.split_whitespace().collect();
        let root = unescape_mountinfo(fields.get(3)?);
        let point = unescape_mountinfo(fields.get(4)?);
        Some((PathBuf::from(point), root))
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            let text = std::str::from_utf8(d).ok()?;
            u8::from_str_radix(text, 8).ok()
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `mount` relative to [`NFT_CGROUP_ROOT`] (`""` if it is that directory).
fn nft_relative(mount: &Path) -> Option<String> {
    let rel = mount.strip_prefix(NFT_CGROUP_ROOT).ok()?;
    Some(rel.to_str()?.trim_matches('/').to_string())
}

fn join_nft(prefix: &str, group: &str) -> String {
    if prefix.is_empty() {
        group.to_string()
    } else {
        format!("{prefix}/{group}")
    }
}

/// Components of a hierarchy path: `/` is 0, `/a/b` is 2.
fn depth(path: &str) -> usize {
    path.split('/').filter(|c| !c.is_empty()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount_in_hybrid_and_unified_layouts() {
        let hybrid = "\
35 26 0:30 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
36 35 0:31 / /sys/fs/cgroup/unified rw,relatime shared:10 - cgroup2 cgroup2 rw
37 35 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
";
        let (mount, root) = cgroup2_mount(hybrid).unwrap();
        assert_eq!(mount, Path::new("/sys/fs/cgroup/unified"));
        assert_eq!(root, "/");
        assert_eq!(nft_relative(&mount).unwrap(), "unified");
        let unified = "30 23 0:26 /user.slice /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n";
        let (mount, root) = cgroup2_mount(unified).unwrap();
        assert_eq!(nft_relative(&mount).unwrap(), "");
        assert_eq!(depth(&root), 1);
        assert_eq!(join_nft("", "g"), "g");
        assert_eq!(join_nft("unified", "g"), "unified/g");
        assert!(nft_relative(Path::new("/mnt/cg2")).is_none());
        assert!(cgroup2_mount("1 0 0:1 / / rw - ext4 /dev/vda rw\n").is_none());
        assert_eq!(unescape_mountinfo(r"/a\040b"), "/a b");
    }

    #[test]
    fn stale_names_give_their_pid() {
        assert_eq!(owner_pid("monc-testbed-1234-ab12cd34"), Some(1234));
        assert_eq!(owner_pid("monc_testbed_77_ab12cd34"), Some(77));
        assert_eq!(owner_pid("user.slice"), None);
        assert_eq!(owner_pid("monc-testbed-x-1"), None);
        assert!(pid_alive(std::process::id()));
    }

    #[test]
    fn rules_cut_both_directions_between_the_isolated_and_the_others_only() {
        let mut iso = PeerIsolation {
            dir: PathBuf::from("/nonexistent/monc-testbed-1-t"),
            nft_dir: "unified/monc-testbed-1-t".into(),
            level: 2,
            table: "monc_testbed_1_t".into(),
            mark_base: 0x6d00_ab00,
            names: vec!["a".into(), "b".into(), "c".into()],
            isolated: BTreeSet::new(),
            loaded: false,
        };
        iso.isolated.insert("b".into());
        let rules = iso.ruleset();
        assert!(rules
            .starts_with("table inet monc_testbed_1_t {}\ndelete table inet monc_testbed_1_t\n"));
        let group =
            |n: &str| format!("socket cgroupv2 level 2 \"unified/monc-testbed-1-t/mon-{n}\"");
        for (i, n) in ["a", "b", "c"].iter().enumerate() {
            let mark = format!("{} meta mark set 0x6d00ab0{i}", group(n));
            assert!(rules.contains(&mark), "{rules}");
        }
        let drops: Vec<&str> = rules.lines().filter(|l| l.ends_with("drop")).collect();
        assert_eq!(drops.len(), 4, "{rules}");
        for (from, to) in [(0, "b"), (2, "b"), (1, "a"), (1, "c")] {
            let rule = format!("meta mark 0x6d00ab0{from} {} drop", group(to));
            assert!(drops.iter().any(|l| l.trim() == rule), "{rule} in {rules}");
        }
        // Nothing is loaded, so nothing is deleted; the missing groups are
        // skipped.
        iso.isolated.clear();
        iso.cleanup();
    }
}
