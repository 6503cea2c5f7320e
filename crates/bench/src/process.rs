//! Whole-process runs: wall time and peak RSS from `wait4`.

use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A program and its arguments, printable as a shell command.
#[derive(Debug, Clone)]
pub struct CommandLine {
    pub program: OsString,
    pub args: Vec<OsString>,
}

impl CommandLine {
    /// `program` followed by `args`.
    pub fn new(program: impl Into<OsString>, args: &[&str]) -> Self {
        CommandLine {
            program: program.into(),
            args: args.iter().map(OsString::from).collect(),
        }
    }

    /// A client command line: `program -c CONF -k KEYRING words...`.
    pub fn client(program: &Path, conf: &Path, keyring: &Path, words: &[&str]) -> Self {
        let mut args: Vec<OsString> = vec!["-c".into(), conf.into(), "-k".into(), keyring.into()];
        args.extend(words.iter().map(OsString::from));
        CommandLine {
            program: program.into(),
            args,
        }
    }

    /// The command as one would type it (arguments with spaces quoted).
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| {
                let s = a.to_string_lossy();
                if s.is_empty() || s.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)) {
                    format!("'{}'", s.replace('\'', r"'\''"))
                } else {
                    s.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        // Both tools would read these; the benchmark passes everything
        // explicitly so neither run picks up a stray setting (or debug logs).
        cmd.env_remove("CEPH_ARGS").env_remove("RUST_LOG");
        cmd
    }

    /// Runs the command with its output captured (not timed).
    pub fn output(&self) -> io::Result<std::process::Output> {
        self.command().stdin(Stdio::null()).output()
    }

    /// Runs the command with stdin and stdout on /dev/null, timing it from
    /// spawn to reaping; stderr is kept for the error message.
    pub fn timed_run(&self) -> io::Result<ProcessRun> {
        let stderr_file = tempfile::tempfile()?;
        let mut cmd = self.command();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr_file.try_clone()?);
        let started = Instant::now();
        let child = cmd.spawn()?;
        let (status, rusage) = wait4(child.id())?;
        let wall = started.elapsed();
        let run = ProcessRun {
            wall,
            // Linux reports ru_maxrss in KiB.
            max_rss_kib: rusage.ru_maxrss.max(0) as u64,
            exit_code: exit_code(status),
        };
        if run.exit_code != Some(0) {
            use std::io::{Read, Seek};
            let mut stderr_file = stderr_file;
            let mut text = String::new();
            stderr_file.seek(io::SeekFrom::Start(0))?;
            stderr_file.take(4096).read_to_string(&mut text).ok();
            return Err(io::Error::other(format!(
                "`{}` exited with {:?}: {}",
                self.display(),
                run.exit_code,
                text.trim()
            )));
        }
        Ok(run)
    }
}

/// One finished process.
#[derive(Debug, Clone, Copy)]
pub struct ProcessRun {
    /// Spawn to exit.
    pub wall: Duration,
    /// Peak resident set size.
    pub max_rss_kib: u64,
    /// Exit code, `None` if killed by a signal.
    pub exit_code: Option<i32>,
}

/// Reaps `pid` and returns its wait status and resource usage. The `Child`
/// handle is not waited on afterwards (it never reaps on drop).
fn wait4(pid: u32) -> io::Result<(libc::c_int, libc::rusage)> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is our own child.
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut rusage) };
        if r == pid as libc::pid_t {
            return Ok((status, rusage));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

fn exit_code(status: libc::c_int) -> Option<i32> {
    libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_what_the_shell_would_split() {
        let c = CommandLine::new("ceph", &["mon", "dump", "-f", "json", "a b", "it's"]);
        assert_eq!(c.display(), r#"ceph mon dump -f json 'a b' 'it'\''s'"#);
    }

    #[test]
    fn timed_run_reports_exit_and_rss() {
        let ok = CommandLine::new("true", &[]).timed_run().unwrap();
        assert_eq!(ok.exit_code, Some(0));
        assert!(ok.max_rss_kib > 0);
        let err = CommandLine::new("sh", &["-c", "echo nope >&2; exit 3"])
            .timed_run()
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("Some(3)") && msg.contains("nope"), "{msg}");
    }
}
