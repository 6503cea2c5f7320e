//! Writing to stdout and stderr without panicking when they are closed
//! (`monc mon dump | head -c1`, `monc --version | true`): `println!` panics
//! on a broken pipe, so `monc` prints through these instead. A broken stdout
//! is remembered: the command's answer still decides the exit code (as
//! `ceph` exits 0 for `ceph mon dump | head -c1`), and the callers that
//! `ceph` fails in that case (`--version`, `-h`) ask [`stdout_broken`].

use std::fmt;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_BROKEN: AtomicBool = AtomicBool::new(false);

/// `println!` that never panics.
macro_rules! outln {
    () => { $crate::stdio::out_fmt(format_args!("\n")) };
    ($($t:tt)*) => { $crate::stdio::out_fmt(format_args!("{}\n", format_args!($($t)*))) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($t:tt)*) => { $crate::stdio::err_fmt(format_args!("{}\n", format_args!($($t)*))) };
}

/// Whether a write to stdout failed because its reader went away.
pub fn stdout_broken() -> bool {
    STDOUT_BROKEN.load(Ordering::Relaxed)
}

fn note(result: std::io::Result<()>) -> bool {
    match result {
        Ok(()) => true,
        Err(e) => {
            if e.kind() == ErrorKind::BrokenPipe {
                STDOUT_BROKEN.store(true, Ordering::Relaxed);
            }
            false
        }
    }
}

/// Writes `bytes` to stdout and flushes; false when stdout is gone.
pub fn out(bytes: &[u8]) -> bool {
    if stdout_broken() {
        return false;
    }
    let mut o = std::io::stdout().lock();
    note(o.write_all(bytes).and_then(|()| o.flush()))
}

/// Formatted text to stdout (see [`out`]).
pub fn out_fmt(args: fmt::Arguments<'_>) -> bool {
    if stdout_broken() {
        return false;
    }
    let mut o = std::io::stdout().lock();
    note(o.write_fmt(args).and_then(|()| o.flush()))
}

/// Formatted text to stderr; a closed stderr is ignored.
pub fn err_fmt(args: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// A last guard for code that still uses `println!`: a panic caused by a
/// closed stdout or stderr ends the process quietly with `code` instead of
/// a panic message and exit code 101. Any other panic reports as usual.
pub fn exit_quietly_on_closed_pipe(code: i32) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to std") {
            std::process::exit(code);
        }
        default(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_remembered_other_errors_are_not() {
        assert!(note(Ok(())));
        assert!(!stdout_broken());
        assert!(!note(Err(ErrorKind::Other.into())));
        assert!(!stdout_broken());
        assert!(!note(Err(ErrorKind::BrokenPipe.into())));
        assert!(stdout_broken());
    }
}
