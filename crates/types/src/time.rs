//! Ceph's `utime_t` and `uuid_d`.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ceph_denc::{Decode, Decoder, Encode, Result};

use crate::ParseError;

/// A wall-clock time (Ceph's `utime_t`): seconds and nanoseconds since the
/// Unix epoch, each a `u32` on the wire.
///
/// ```
/// use ceph_types::UTime;
/// let t = UTime { sec: 1_700_000_000, nsec: 123_456_789 };
/// assert_eq!(t.to_iso8601_utc(), "2023-11-14T22:13:20.123456Z");
/// assert_eq!(UTime::from(std::time::SystemTime::from(t)), t);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct UTime {
    /// Seconds since the Unix epoch (or of a duration).
    pub sec: u32,
    /// Nanoseconds within the second.
    pub nsec: u32,
}

impl UTime {
    /// A time of `sec` seconds and `nsec` nanoseconds.
    pub const fn new(sec: u32, nsec: u32) -> Self {
        UTime { sec, nsec }
    }

    /// The current time.
    pub fn now() -> Self {
        SystemTime::now().into()
    }

    /// True for the zero time (unset).
    pub fn is_zero(&self) -> bool {
        self.sec == 0 && self.nsec == 0
    }

    /// `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` in UTC, as Ceph's JSON dumps print
    /// times (microseconds, truncated).
    pub fn to_iso8601_utc(&self) -> String {
        let days = i64::from(self.sec / 86_400);
        let secs_of_day = self.sec % 86_400;
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
            secs_of_day / 3600,
            secs_of_day / 60 % 60,
            secs_of_day % 60,
            self.nsec / 1000
        )
    }
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month,
/// day), by counting 400-year eras of 146097 days from 0000-03-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl From<SystemTime> for UTime {
    /// Times before 1970 become 0; times after 2106 saturate.
    fn from(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        match u32::try_from(d.as_secs()) {
            Ok(sec) => UTime {
                sec,
                nsec: d.subsec_nanos(),
            },
            Err(_) => UTime {
                sec: u32::MAX,
                nsec: 999_999_999,
            },
        }
    }
}

impl From<UTime> for SystemTime {
    fn from(t: UTime) -> Self {
        UNIX_EPOCH + Duration::new(u64::from(t.sec), 0) + Duration::from_nanos(u64::from(t.nsec))
    }
}

impl fmt::Display for UTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso8601_utc())
    }
}

/// A time as Ceph's `utime_t` prints it in dumps: `sec.usec` for times in
/// the first ten years after the epoch (durations, unset stamps), else the
/// UTC date `YYYY-MM-DDTHH:MM:SS.ffffff+0000`.
pub fn ceph_stamp(t: &UTime) -> String {
    const TEN_YEARS: u32 = 60 * 60 * 24 * 365 * 10;
    if t.sec < TEN_YEARS {
        format!("{}.{:06}", t.sec, t.nsec / 1000)
    } else {
        let iso = t.to_iso8601_utc();
        format!("{}+0000", iso.trim_end_matches('Z'))
    }
}

impl Decode for UTime {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(UTime {
            sec: d.u32("utime_t.sec")?,
            nsec: d.u32("utime_t.nsec")?,
        })
    }
}

impl Encode for UTime {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.extend_from_slice(&self.sec.to_le_bytes());
        out.extend_from_slice(&self.nsec.to_le_bytes());
    }
}

/// A UUID (Ceph's `uuid_d`, e.g. a cluster fsid): 16 raw bytes on the wire,
/// written `8-4-4-4-12` in lowercase hex.
///
/// ```
/// use ceph_types::Uuid;
/// let u: Uuid = "6826cdc1-fb76-4409-b87e-1ec2f9606900".parse().unwrap();
/// assert_eq!(u.0[0], 0x68);
/// assert_eq!(u.to_string(), "6826cdc1-fb76-4409-b87e-1ec2f9606900");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// True for the all-zero uuid (unset).
    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for Uuid {
    type Err = ParseError;

    /// Accepts the hyphenated form in either case.
    fn from_str(s: &str) -> std::result::Result<Self, ParseError> {
        let bad = || ParseError::new("uuid", s, "expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
        let groups: Vec<&str> = s.split('-').collect();
        if groups.iter().map(|g| g.len()).collect::<Vec<_>>() != [8, 4, 4, 4, 12] {
            return Err(bad());
        }
        let hex: String = groups.concat();
        // from_str_radix alone would accept a sign.
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
                .map_err(|_| bad())?;
        }
        Ok(Uuid(out))
    }
}

impl Decode for Uuid {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(Uuid(d.array("uuid")?))
    }
}

impl Encode for Uuid {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.extend_from_slice(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            UTime::new(0, 0).to_iso8601_utc(),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            UTime::new(951_782_400, 0).to_iso8601_utc(),
            "2000-02-29T00:00:00.000000Z"
        );
        assert_eq!(
            UTime::new(u32::MAX, 0).to_iso8601_utc(),
            "2106-02-07T06:28:15.000000Z"
        );
    }

    #[test]
    fn uuid_rejects_bad_text() {
        for s in [
            "",
            "6826cdc1fb764409b87e1ec2f9606900",
            "6826cdc1-fb76-4409-b87e-1ec2f960690g",
            "+826cdc1-fb76-4409-b87e-1ec2f9606900",
        ] {
            assert!(s.parse::<Uuid>().is_err(), "{s}");
        }
    }
}
