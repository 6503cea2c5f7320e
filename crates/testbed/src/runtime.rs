//! Which Ceph binaries run the cluster, and how they are invoked.
//!
//! Besides the host's own Ceph, the testbed can run other releases from
//! Debian chroots prepared by `scripts/ceph-release.sh` (see
//! [`CHROOT_RELEASES`]). Every tool then runs as
//!
//! ```text
//! unshare --mount --propagation private -- sh -c SCRIPT ROOT SHARED_DIR... -- chroot ROOT PROGRAM ARGS
//! ```
//!
//! The script mounts `/proc` and bind-mounts each shared directory at the
//! same path inside the chroot, in a mount namespace private to that one
//! process: the mounts vanish with the process, so nothing stays mounted on
//! the host even if a test panics or is killed. Paths are therefore the same
//! on both sides, and configuration files can be shared as they are. The
//! chroot shares the host's network namespace, so monitors listen on the
//! host's 127.0.0.1.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result};

/// Releases that run from a chroot: (codename, Ceph version prefix).
pub const CHROOT_RELEASES: &[(&str, &str)] = &[("reef", "18.2."), ("tentacle", "20.2.")];

/// Where `scripts/ceph-release.sh` puts its chroots unless `CEPH_RELEASES_DIR` is set.
pub const DEFAULT_RELEASES_DIR: &str = "/var/cache/monc-ceph-releases";

/// Written last by `scripts/ceph-release.sh`: a chroot without it is unfinished.
const READY_STAMP: &str = ".monc-release-ready";

/// Runs inside the new mount namespace; arguments: ROOT SHARED... -- PROGRAM ARGS.
/// This is the one place where host paths become chroot paths (the same path
/// under ROOT).
const CHROOT_SCRIPT: &str = r#"set -e
root=$1; shift
mount -t proc proc "$root/proc"
while [ "$1" != -- ]; do
  mkdir -p "$root$1"
  mount --bind "$1" "$root$1"
  shift
done
shift
exec chroot "$root" "$@"
"#;

/// The Ceph release and how its tools are run.
///
/// Every Ceph program the testbed runs (`ceph-mon`, `ceph`, `monmaptool`,
/// `ceph-authtool`) goes through [`CephRuntime::command`].
///
/// ```no_run
/// use ceph_testbed::CephRuntime;
///
/// // CEPH_RELEASE=reef after `scripts/ceph-release.sh reef`:
/// let runtime = CephRuntime::from_env().unwrap();
/// let state = std::path::Path::new("/tmp/state");
/// let runtime = runtime.sharing(state);
/// let out = runtime.command("ceph-mon").arg("--version").output().unwrap();
/// println!("{}", String::from_utf8_lossy(&out.stdout));
/// ```
#[derive(Clone, Debug)]
pub struct CephRuntime {
    release: String,
    /// The chroot root, for chroot releases.
    chroot: Option<PathBuf>,
    /// Host directories visible at the same path inside the chroot.
    shared: Vec<PathBuf>,
}

impl CephRuntime {
    /// The host's Ceph installation, run directly.
    pub fn host() -> Self {
        CephRuntime {
            release: "host".into(),
            chroot: None,
            shared: Vec::new(),
        }
    }

    /// Chooses the runtime from `CEPH_RELEASE`.
    ///
    /// Unset, empty or `host` selects the host's binaries; so does the host's
    /// own codename (e.g. `pacific`). A name from [`CHROOT_RELEASES`] selects
    /// that release's chroot under `CEPH_RELEASES_DIR` (default
    /// [`DEFAULT_RELEASES_DIR`]); it must have been prepared with
    /// `scripts/ceph-release.sh`, else [`Error::ReleaseNotPrepared`].
    pub fn from_env() -> Result<Self> {
        let wanted = std::env::var("CEPH_RELEASE").unwrap_or_default();
        let wanted = wanted.trim().to_ascii_lowercase();
        if wanted.is_empty() || wanted == "host" {
            return Ok(Self::host());
        }
        if CHROOT_RELEASES.iter().any(|(name, _)| *name == wanted) {
            return Self::chroot_release(&wanted, &releases_dir());
        }
        match host_release() {
            Some(host) if host == wanted => Ok(CephRuntime {
                release: host,
                ..Self::host()
            }),
            host => Err(Error::UnsupportedRelease(format!(
                "CEPH_RELEASE={wanted}: not the host's Ceph ({}) nor one of the chroot releases ({})",
                host.as_deref().unwrap_or("unknown"),
                CHROOT_RELEASES
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The chroot release `release` prepared under `releases_dir`
    /// (its chroot is `releases_dir/release`).
    pub fn chroot_release(release: &str, releases_dir: &Path) -> Result<Self> {
        let root = releases_dir.join(release);
        if !root.join(READY_STAMP).is_file() {
            return Err(Error::ReleaseNotPrepared {
                release: release.to_string(),
                dir: root,
            });
        }
        // SAFETY: geteuid(2) cannot fail and touches no memory.
        if unsafe { libc::geteuid() } != 0 {
            return Err(Error::UnsupportedRelease(format!(
                "CEPH_RELEASE={release} runs Ceph in a chroot, which needs root"
            )));
        }
        Ok(CephRuntime {
            release: release.to_string(),
            chroot: Some(root),
            shared: Vec::new(),
        })
    }

    /// This runtime with the host directory `dir` also visible, at the same
    /// path, to the programs it runs (a no-op without a chroot).
    pub fn sharing(&self, dir: &Path) -> Self {
        let mut runtime = self.clone();
        if runtime.chroot.is_some() && !runtime.shared.iter().any(|d| d == dir) {
            runtime.shared.push(dir.to_path_buf());
        }
        runtime
    }

    /// The release name (`host` unless a codename was requested).
    pub fn release(&self) -> &str {
        &self.release
    }

    /// The chroot the tools run in, if any.
    pub fn chroot_dir(&self) -> Option<&Path> {
        self.chroot.as_deref()
    }

    /// A `Command` running the Ceph program `program` in this runtime; the
    /// caller adds its arguments.
    pub fn command(&self, program: &str) -> Command {
        let Some(root) = &self.chroot else {
            return Command::new(program);
        };
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(CHROOT_SCRIPT)
            .arg("testbed-chroot")
            .arg(root);
        cmd.args(&self.shared).arg("--").arg(program);
        cmd
    }

    /// Removes the (empty) mount points made inside the chroot for the shared
    /// directories. Call once no process of this runtime runs any more.
    pub fn remove_mount_points(&self) {
        let Some(root) = &self.chroot else { return };
        for dir in &self.shared {
            // remove_dir, never remove_dir_all: should a bind mount still be
            // live, only an empty directory may go.
            let _ = std::fs::remove_dir(chroot_path(root, dir));
        }
    }
}

/// `CEPH_RELEASES_DIR`, or [`DEFAULT_RELEASES_DIR`].
pub fn releases_dir() -> PathBuf {
    match std::env::var_os("CEPH_RELEASES_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_RELEASES_DIR),
    }
}

/// Where the host path `host` lies seen from the host, inside `root`
/// (the mirror of [`CHROOT_SCRIPT`]'s `$root$1`).
fn chroot_path(root: &Path, host: &Path) -> PathBuf {
    let mut joined = OsString::from(root.as_os_str());
    joined.push(host.as_os_str());
    PathBuf::from(joined)
}

/// The host's release codename, from `ceph-mon --version`
/// ("ceph version 16.2.15 (...) pacific (stable)").
pub fn host_release() -> Option<String> {
    let out = Command::new("ceph-mon").arg("--version").output().ok()?;
    release_from_version(&String::from_utf8_lossy(&out.stdout))
}

/// The codename in a `ceph --version` line.
pub fn release_from_version(text: &str) -> Option<String> {
    let after_hash = text.split(')').nth(1)?;
    after_hash
        .split_whitespace()
        .next()
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn host_runs_programs_directly() {
        let cmd = CephRuntime::host().sharing(Path::new("/x")).command("ceph");
        assert_eq!(cmd.get_program(), "ceph");
        assert!(args(&cmd).is_empty());
    }

    #[test]
    fn chroot_wraps_program_and_shares_dirs() {
        let rt = CephRuntime {
            release: "reef".into(),
            chroot: Some("/srv/reef".into()),
            shared: Vec::new(),
        }
        .sharing(Path::new("/tmp/a"))
        .sharing(Path::new("/tmp/a"));
        let cmd = rt.command("ceph-mon");
        assert_eq!(cmd.get_program(), "unshare");
        let args = args(&cmd);
        let tail = &args[args.len() - 5..];
        assert_eq!(
            tail,
            ["testbed-chroot", "/srv/reef", "/tmp/a", "--", "ceph-mon"]
        );
        assert_eq!(
            chroot_path(Path::new("/srv/reef"), Path::new("/tmp/a")),
            Path::new("/srv/reef/tmp/a")
        );
    }

    #[test]
    fn unprepared_release_names_the_script() {
        let empty = tempfile::tempdir().unwrap();
        let err = CephRuntime::chroot_release("reef", empty.path()).unwrap_err();
        assert!(matches!(err, Error::ReleaseNotPrepared { .. }));
        assert!(err.to_string().contains("scripts/ceph-release.sh reef"));
        // A half-made chroot (no stamp) is not accepted either.
        std::fs::create_dir(empty.path().join("reef")).unwrap();
        assert!(CephRuntime::chroot_release("reef", empty.path()).is_err());
    }

    #[test]
    fn codename_parsed_from_version_line() {
        let line = "ceph version 18.2.7 (4b9f9ca1b5e1d8d2b8d6e0a5d7f6c3b2a1f0e9d8) reef (stable)";
        assert_eq!(release_from_version(line).as_deref(), Some("reef"));
        assert_eq!(release_from_version("garbage"), None);
    }
}
