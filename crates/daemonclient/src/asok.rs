//! A daemon's local admin socket (`ceph daemon NAME|PATH ...`): a Unix
//! socket taking one JSON command ended by a NUL byte, answering with a
//! 32-bit big-endian length and that many bytes, then closing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ceph_config::{expand_meta, ClientConfig, MetaVars, OptionSource};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::error::DaemonError;

/// Largest answer accepted from an admin socket (a `perf dump` or a
/// `config show` is some hundreds of kilobytes; the length is untrusted).
pub const MAX_ADMIN_SOCKET_REPLY: u32 = 256 << 20;

/// Ceph's default `admin_socket` for a named daemon, as `ceph-conf` shows
/// it.
pub const DEFAULT_ADMIN_SOCKET: &str = "$run_dir/$cluster-$name.asok";

/// The admin socket path of the entity `cfg` was loaded for (load it with
/// the daemon's name, e.g. `osd.0`): its `admin_socket` when set, else
/// `$run_dir/$cluster-$name.asok`, metavariables expanded.
///
/// ```
/// use ceph_config::{ClientConfig, ConfigSources};
/// let dir = tempfile::tempdir().unwrap();
/// let conf = dir.path().join("ceph.conf");
/// std::fs::write(&conf, "[global]\nmon_host = 127.0.0.1\nrun_dir = /tmp/r\n").unwrap();
/// let cfg = ClientConfig::load(ConfigSources {
///     conf_path: Some(conf.display().to_string()),
///     name: Some("osd.3".into()),
///     ..Default::default()
/// }).unwrap();
/// assert_eq!(ceph_daemonclient::admin_socket_path(&cfg), std::path::PathBuf::from("/tmp/r/ceph-osd.3.asok"));
/// ```
pub fn admin_socket_path(cfg: &ClientConfig) -> PathBuf {
    let set = cfg
        .source("admin_socket")
        .is_some_and(|s| s != OptionSource::Default);
    match cfg.get("admin_socket").filter(|v| set && !v.is_empty()) {
        Some(v) => PathBuf::from(v),
        None => {
            let vars = MetaVars {
                cluster: cfg.cluster.clone(),
                entity_type: cfg.name.ty.to_string(),
                id: cfg.name.id.clone(),
                host: ceph_config::short_hostname(),
                pid: std::process::id(),
                home: String::new(),
            };
            let lookup = |name: &str| cfg.get(name).map(str::to_string);
            PathBuf::from(expand_meta(DEFAULT_ADMIN_SOCKET, &vars, &lookup))
        }
    }
}

/// Sends one JSON command to the admin socket at `path` and returns the
/// answer, within `timeout`.
///
/// ```no_run
/// # async fn demo() -> Result<(), ceph_daemonclient::DaemonError> {
/// let out = ceph_daemonclient::admin_socket_command(
///     std::path::Path::new("/var/run/ceph/ceph-osd.0.asok"),
///     r#"{"prefix": "version"}"#,
///     std::time::Duration::from_secs(10),
/// ).await?;
/// println!("{}", String::from_utf8_lossy(&out));
/// # Ok(()) }
/// ```
pub async fn admin_socket_command(
    path: &Path,
    cmd: &str,
    timeout: Duration,
) -> Result<Vec<u8>, DaemonError> {
    let label = path.display().to_string();
    let io = |e: std::io::Error| DaemonError::AdminSocket(label.clone(), e);
    let work = async {
        let mut sock = UnixStream::connect(path).await.map_err(io)?;
        let mut req = Vec::with_capacity(cmd.len() + 1);
        req.extend_from_slice(cmd.as_bytes());
        req.push(0);
        sock.write_all(&req).await.map_err(io)?;
        let mut len = [0u8; 4];
        sock.read_exact(&mut len).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                io(std::io::Error::new(
                    e.kind(),
                    "no data returned from admin socket",
                ))
            } else {
                io(e)
            }
        })?;
        let len = u32::from_be_bytes(len);
        if len > MAX_ADMIN_SOCKET_REPLY {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("answer of {len} bytes is beyond the limit"),
            )));
        }
        let mut out = Vec::new();
        (&mut sock)
            .take(u64::from(len))
            .read_to_end(&mut out)
            .await
            .map_err(io)?;
        if out.len() != len as usize {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("answer cut short ({} of {len} bytes)", out.len()),
            )));
        }
        Ok(out)
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| DaemonError::TimedOut(timeout, format!("admin socket {label}")))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UnixListener;

    async fn serve_once(listener: UnixListener, answer: Vec<u8>) -> Vec<u8> {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        let mut b = [0u8; 1];
        loop {
            s.read_exact(&mut b).await.unwrap();
            if b[0] == 0 {
                break;
            }
            got.push(b[0]);
        }
        s.write_all(&answer).await.unwrap();
        got
    }

    #[tokio::test]
    async fn one_command_one_answer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.asok");
        let listener = UnixListener::bind(&path).unwrap();
        let mut answer = 5u32.to_be_bytes().to_vec();
        answer.extend_from_slice(b"hello");
        let server = tokio::spawn(serve_once(listener, answer));
        let out = admin_socket_command(&path, r#"{"prefix":"x"}"#, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(out, b"hello");
        assert_eq!(server.await.unwrap(), br#"{"prefix":"x"}"#);
    }

    #[tokio::test]
    async fn short_and_huge_answers_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("y.asok");
        for answer in [
            vec![0, 0],
            {
                let mut a = 10u32.to_be_bytes().to_vec();
                a.extend_from_slice(b"abc");
                a
            },
            u32::MAX.to_be_bytes().to_vec(),
        ] {
            let _ = std::fs::remove_file(&path);
            let listener = UnixListener::bind(&path).unwrap();
            let server = tokio::spawn(serve_once(listener, answer));
            let r = admin_socket_command(&path, "{}", Duration::from_secs(5)).await;
            assert!(matches!(r, Err(DaemonError::AdminSocket(..))), "{r:?}");
            server.await.unwrap();
        }
        let missing = admin_socket_command(&dir.path().join("none"), "{}", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(missing.errno(), 2);
    }
}
