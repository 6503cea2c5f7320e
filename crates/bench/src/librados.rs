//! The librados side: one long-lived `/usr/bin/python3` process running
//! `rados_worker.py`, driven line by line so its measurements interleave
//! with ours and Python start-up is paid once, untimed.

use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Throughput;

/// The worker script, passed with `python3 -c`.
pub const WORKER_SCRIPT: &str = include_str!("rados_worker.py");

/// A running worker process.
pub struct RadosWorker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl RadosWorker {
    /// Starts `python -c WORKER_SCRIPT conf keyring command_json`.
    pub fn start(
        python: &Path,
        conf: &Path,
        keyring: &Path,
        command_json: &str,
    ) -> io::Result<Self> {
        let mut child = Command::new(python)
            .arg("-c")
            .arg(WORKER_SCRIPT)
            .arg(conf)
            .arg(keyring)
            .arg(command_json)
            .env_remove("CEPH_ARGS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", python.display())))?;
        let stdin = child.stdin.take().expect("stdin was piped");
        let stdout = BufReader::new(child.stdout.take().expect("stdout was piped"));
        Ok(RadosWorker {
            child,
            stdin,
            stdout,
        })
    }

    fn request(&mut self, line: &str) -> io::Result<Value> {
        writeln!(self.stdin, "{line}")?;
        self.stdin.flush()?;
        let mut answer = String::new();
        if self.stdout.read_line(&mut answer)? == 0 {
            return Err(io::Error::other(format!(
                "the librados worker exited during `{line}`"
            )));
        }
        let value: Value = serde_json::from_str(&answer)
            .map_err(|e| io::Error::other(format!("librados worker said {answer:?}: {e}")))?;
        if let Some(err) = value.get("error") {
            return Err(io::Error::other(format!("librados `{line}`: {err}")));
        }
        Ok(value)
    }

    /// Times `Rados(conffile, conf={'keyring'}).connect()` on a new handle.
    pub fn connect_once(&mut self) -> io::Result<Duration> {
        let v = self.request("connect")?;
        nanos(&v["ns"])
    }

    /// Opens the handle that round trips and throughput use.
    pub fn open(&mut self) -> io::Result<Duration> {
        let v = self.request("open")?;
        nanos(&v["ns"])
    }

    /// Opens the handle with `mon_host` overriding the conf's (an address
    /// vector without spaces, e.g. `[v2:127.0.0.1:3300,v1:127.0.0.1:6789]`).
    pub fn open_with_mon_host(&mut self, mon_host: &str) -> io::Result<Duration> {
        if mon_host.is_empty() || mon_host.contains(char::is_whitespace) {
            return Err(io::Error::other(format!("bad mon_host {mon_host:?}")));
        }
        let v = self.request(&format!("open {mon_host}"))?;
        nanos(&v["ns"])
    }

    /// The worker's process id (to read its sockets from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts a background `mon_command` loop on the open handle.
    pub fn loop_start(&mut self) -> io::Result<()> {
        self.request("loop_start").map(drop)
    }

    /// When the running loop last finished a command successfully
    /// (CLOCK_MONOTONIC ns), if it has.
    pub fn loop_last_ok(&mut self) -> io::Result<Option<u64>> {
        let v = self.request("loop_stat")?;
        match v["last_ok_ns"].as_u64() {
            Some(0) => Ok(None),
            Some(ns) => Ok(Some(ns)),
            None => Err(io::Error::other(format!("librados worker said {v}"))),
        }
    }

    /// Stops the loop and returns what it recorded.
    pub fn loop_stop(&mut self) -> io::Result<RadosLoopTrace> {
        let v = self.request("loop_stop")?;
        let ok_ns = v["ok_ns"]
            .as_array()
            .ok_or_else(|| io::Error::other("librados worker: no ok_ns"))?
            .iter()
            .map(|pair| match (pair[0].as_u64(), pair[1].as_u64()) {
                (Some(start), Some(end)) => Ok((start, end)),
                _ => Err(io::Error::other(format!(
                    "librados worker: bad times {pair}"
                ))),
            })
            .collect::<io::Result<Vec<(u64, u64)>>>()?;
        Ok(RadosLoopTrace {
            ok_ns,
            errors: v["errors"].as_u64().unwrap_or(0),
            max_call: nanos(&v["max_call_ns"])?,
        })
    }

    /// `count` sequential `mon_command` round trips on the open handle.
    pub fn round_trips(&mut self, count: usize) -> io::Result<Vec<Duration>> {
        let v = self.request(&format!("rt {count}"))?;
        let samples = v["ns"]
            .as_array()
            .ok_or_else(|| io::Error::other("librados worker: no samples"))?;
        samples.iter().map(nanos).collect()
    }

    /// `threads` Python threads issuing `mon_command` for `secs`.
    pub fn throughput(&mut self, threads: usize, secs: f64) -> io::Result<Throughput> {
        let v = self.request(&format!("tput {threads} {secs}"))?;
        match (v["count"].as_u64(), v["secs"].as_f64()) {
            (Some(count), Some(secs)) => Ok(Throughput { count, secs }),
            _ => Err(io::Error::other(format!("librados worker said {v}"))),
        }
    }
}

/// What the worker's `load` request reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RadosLoad {
    /// Calls that returned 0.
    pub answered: u64,
    /// Calls that raised or returned non-zero.
    pub failed: u64,
    pub seconds: f64,
    /// Peak RSS of the Python process (interpreter included).
    pub max_rss_kib: u64,
}

impl RadosWorker {
    /// `count` `mon_command` calls spread over `threads` threads on the
    /// open handle, all started together.
    pub fn load(&mut self, count: usize, threads: usize) -> io::Result<RadosLoad> {
        let v = self.request(&format!("load {count} {threads}"))?;
        let field = |k: &str| {
            v[k].as_u64()
                .ok_or_else(|| io::Error::other(format!("librados worker said {v}")))
        };
        Ok(RadosLoad {
            answered: field("answered")?,
            failed: field("failed")?,
            seconds: v["seconds"].as_f64().unwrap_or(0.0),
            max_rss_kib: field("max_rss_kib")?,
        })
    }
}

/// What the worker's `mon_command` loop recorded.
#[derive(Debug, Clone)]
pub struct RadosLoopTrace {
    /// Start and end of the successful calls (CLOCK_MONOTONIC ns).
    pub ok_ns: Vec<(u64, u64)>,
    /// Calls that failed (exception or non-zero return).
    pub errors: u64,
    /// The longest single call.
    pub max_call: Duration,
}

fn nanos(v: &Value) -> io::Result<Duration> {
    v.as_u64()
        .map(Duration::from_nanos)
        .ok_or_else(|| io::Error::other(format!("librados worker: bad time {v}")))
}

impl Drop for RadosWorker {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        // librados shutdown is quick; do not let a stuck one hold the bench.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
