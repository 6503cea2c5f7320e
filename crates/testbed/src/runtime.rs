//! Which Ceph binaries run the cluster, and how they are invoked.

use std::ffi::OsString;
use std::process::Command;

use crate::{Error, Result};

/// The Ceph release and the command prefix used to run its tools.
///
/// Every Ceph program the testbed runs (`ceph-mon`, `ceph`, `monmaptool`,
/// `ceph-authtool`) goes through [`CephRuntime::command`], so running another
/// release (e.g. inside a chroot) only needs a different prefix here.
#[derive(Clone, Debug)]
pub struct CephRuntime {
    release: String,
    prefix: Vec<OsString>,
}

impl CephRuntime {
    /// The host's Ceph installation, with no prefix.
    pub fn host() -> Self {
        CephRuntime {
            release: "host".into(),
            prefix: Vec::new(),
        }
    }

    /// Chooses the runtime from `CEPH_RELEASE`.
    ///
    /// Unset, empty or `host` selects the host's binaries; so does the host's
    /// own codename (e.g. `pacific`). Other releases are not supported yet.
    pub fn from_env() -> Result<Self> {
        let wanted = std::env::var("CEPH_RELEASE").unwrap_or_default();
        let wanted = wanted.trim().to_ascii_lowercase();
        if wanted.is_empty() || wanted == "host" {
            return Ok(Self::host());
        }
        match host_release() {
            Some(host) if host == wanted => Ok(CephRuntime {
                release: host,
                prefix: Vec::new(),
            }),
            host => Err(Error::UnsupportedRelease(format!(
                "CEPH_RELEASE={wanted}, but only the host's Ceph ({}) can run for now",
                host.as_deref().unwrap_or("unknown")
            ))),
        }
    }

    /// The release name (`host` unless a codename was requested).
    pub fn release(&self) -> &str {
        &self.release
    }

    /// A `Command` running the Ceph program `program` in this runtime.
    pub fn command(&self, program: &str) -> Command {
        match self.prefix.split_first() {
            None => Command::new(program),
            Some((wrapper, rest)) => {
                let mut cmd = Command::new(wrapper);
                cmd.args(rest).arg(program);
                cmd
            }
        }
    }
}

/// The host's release codename, from `ceph-mon --version`
/// ("ceph version 16.2.15 (...) pacific (stable)").
pub fn host_release() -> Option<String> {
    let out = Command::new("ceph-mon").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let after_hash = text.split(')').nth(1)?;
    after_hash
        .split_whitespace()
        .next()
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_wraps_program() {
        let rt = CephRuntime {
            release: "reef".into(),
            prefix: vec!["chroot".into(), "/srv/reef".into()],
        };
        let cmd = rt.command("ceph-mon");
        assert_eq!(cmd.get_program(), "chroot");
        let args: Vec<_> = cmd.get_args().collect();
        assert_eq!(args, ["/srv/reef", "ceph-mon"]);
        assert_eq!(CephRuntime::host().command("ceph").get_program(), "ceph");
    }
}
