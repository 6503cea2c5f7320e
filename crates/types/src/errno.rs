//! Errno values as Ceph carries them (negated in replies: `MAuthReply`,
//! `MMonCommandAck`, ...; positive as the `ceph` CLI's exit code), and the
//! symbolic names the CLI prints in its `Error ENAME: ...` lines. Linux
//! numbering, which is what monitors send.
//!
//! ```
//! use ceph_types::errno;
//!
//! assert_eq!(errno::EACCES, 13);
//! assert_eq!(errno::name(errno::EINVAL), "EINVAL");
//! assert_eq!(errno::name(9999), "Unknown");
//! ```

/// Declares each errno as a constant and lists it in [`NAMED`].
macro_rules! named_errnos {
    ($($name:ident = $value:literal),* $(,)?) => {
        $(
            /// An errno value, as Linux numbers it.
            pub const $name: i32 = $value;
        )*

        /// Every errno [`name`] knows, with its name, as Python's
        /// `errno.errorcode` gives it.
        pub const NAMED: &[(i32, &str)] = &[$(($value, stringify!($name))),*];
    };
}

named_errnos! {
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EBUSY = 16,
    EEXIST = 17,
    EXDEV = 18,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    EFBIG = 27,
    ENOSPC = 28,
    EROFS = 30,
    EDOM = 33,
    ERANGE = 34,
    EDEADLK = 35,
    ENAMETOOLONG = 36,
    ENOSYS = 38,
    ENOTEMPTY = 39,
    ENODATA = 61,
    EPROTO = 71,
    EOVERFLOW = 75,
    EOPNOTSUPP = 95,
    ETIMEDOUT = 110,
    ECONNREFUSED = 111,
    ECANCELED = 125,
}

// Used as exit codes and in auth refusals, but printed by `name` as
// `Unknown`, as `monc` always has.
/// Timer expired (`ETIME`).
pub const ETIME: i32 = 62;
/// Protocol not supported.
pub const EPROTONOSUPPORT: i32 = 93;
/// Key has expired.
pub const EKEYEXPIRED: i32 = 127;
/// Key was rejected by service.
pub const EKEYREJECTED: i32 = 129;

/// The symbolic name of a (positive) errno, `"Unknown"` for one not in
/// [`NAMED`].
pub fn name(e: i32) -> &'static str {
    NAMED
        .iter()
        .find(|(v, _)| *v == e)
        .map_or("Unknown", |(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name(EACCES), "EACCES");
        assert_eq!(name(22), "EINVAL");
        assert_eq!(name(ECANCELED), "ECANCELED");
        assert_eq!(name(9999), "Unknown");
        assert_eq!(name(EKEYEXPIRED), "Unknown");
    }

    #[test]
    fn each_errno_is_named_once() {
        let mut values: Vec<i32> = NAMED.iter().map(|(v, _)| *v).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), NAMED.len());
    }
}
