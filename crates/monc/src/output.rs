//! Printing results the way `ceph` does: data on stdout, the status string
//! on stderr (`Error ENAME: ...` when the command failed).

use std::time::SystemTime;

use ceph_types::{errno, UTime};
use serde_json::{json, Value};

/// Prints the status string for a command's return value.
pub fn status(retval: i32, outs: &str) {
    if retval < 0 {
        errln!("Error {}: {}", errno::name(-retval), outs);
    } else if !outs.is_empty() {
        errln!("{outs}");
    }
}

/// The terminal's width as `ceph` reads it (from stdin), 80 when stdin
/// is not a terminal.
pub fn terminal_columns() -> usize {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the pointed-to struct,
    // which lives for the whole call.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut size as *mut libc::winsize) };
    if rc == 0 {
        usize::from(size.ws_col)
    } else {
        80
    }
}

fn stamp(t: SystemTime) -> String {
    UTime::from(t).to_iso8601_utc()
}

/// One line of `--jsonl` output.
pub fn jsonl(cmd: &Value, retval: i32, outs: &str, outb: &[u8], start: SystemTime) {
    let outb = match std::str::from_utf8(outb) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => json!({ "base64": base64_encode(outb) }),
    };
    let line = json!({
        "cmd": cmd,
        "retval": retval,
        "outs": outs,
        "outb": outb,
        "start": stamp(start),
        "end": stamp(SystemTime::now()),
    });
    outln!("{line}");
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
