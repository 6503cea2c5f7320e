//! Printing results the way `ceph` does: data on stdout, the status string
//! on stderr (`Error ENAME: ...` when the command failed).

use std::time::SystemTime;

use ceph_types::UTime;
use serde_json::{json, Value};

/// The symbolic name of an errno, as Python's `errno.errorcode` gives it.
pub fn errno_name(e: i32) -> &'static str {
    match e {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        16 => "EBUSY",
        17 => "EEXIST",
        18 => "EXDEV",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        27 => "EFBIG",
        28 => "ENOSPC",
        30 => "EROFS",
        33 => "EDOM",
        34 => "ERANGE",
        35 => "EDEADLK",
        36 => "ENAMETOOLONG",
        38 => "ENOSYS",
        39 => "ENOTEMPTY",
        61 => "ENODATA",
        71 => "EPROTO",
        75 => "EOVERFLOW",
        95 => "EOPNOTSUPP",
        110 => "ETIMEDOUT",
        111 => "ECONNREFUSED",
        125 => "ECANCELED",
        _ => "Unknown",
    }
}

/// Prints the status string for a command's return value.
pub fn status(retval: i32, outs: &str) {
    if retval < 0 {
        eprintln!("Error {}: {}", errno_name(-retval), outs);
    } else if !outs.is_empty() {
        eprintln!("{outs}");
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
    println!("{line}");
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(errno_name(13), "EACCES");
        assert_eq!(errno_name(22), "EINVAL");
        assert_eq!(errno_name(9999), "Unknown");
    }
}
