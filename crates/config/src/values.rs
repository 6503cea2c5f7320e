//! Parsing option values the way Ceph does for each option type.
//!
//! Checked against Ceph 16.2.15 (`ceph-conf --show-config-value`):
//! - float: a decimal number (`1.5`, `-4`, `1e1`); no units.
//! - uint / int: decimal digits with an optional SI suffix `K M G T P E`
//!   (powers of 1000); `+`/`-` only for int; the result must fit an `i64`.
//! - secs: whole numbers, each followed by a unit (`s sec second seconds`,
//!   `m min minute minutes`, `h hr hour hours`, `d day days`,
//!   `w wk week weeks`, `mo month months`, `y yr year years`); the last
//!   number may go without a unit (seconds); blanks between parts are
//!   allowed: `90`, `10s`, `5 min`, `1h30m`, `1h 30`. No fractions.

use std::time::Duration;

/// A value that does not parse as its option's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value {value:?} for option {option}: {reason}")]
pub struct ValueError {
    /// The option being set.
    pub option: String,
    /// The rejected text (truncated if long).
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ValueError {
    pub(crate) fn new(option: &str, value: &str, reason: impl Into<String>) -> Self {
        let mut shown: String = value.chars().take(64).collect();
        if shown.len() < value.len() {
            shown.push('…');
        }
        ValueError {
            option: option.to_string(),
            value: shown,
            reason: reason.into(),
        }
    }
}

/// Parses a float option (`1.5`, `3`, `-4`, `1e1`).
pub fn parse_float(option: &str, value: &str) -> Result<f64, ValueError> {
    let v = value.trim();
    // Rust's parser also takes "inf"/"nan" like strtod does; keep them out
    // of time-valued options via `parse_float_secs`.
    v.parse::<f64>()
        .map_err(|_| ValueError::new(option, value, "expected a number"))
}

/// Parses a float option that counts seconds (e.g. `mon_client_ping_interval`)
/// into a [`Duration`]; negative, infinite and NaN values are refused since
/// they cannot be waited on.
pub fn parse_float_secs(option: &str, value: &str) -> Result<Duration, ValueError> {
    let secs = parse_float(option, value)?;
    Duration::try_from_secs_f64(secs).map_err(|_| {
        ValueError::new(
            option,
            value,
            "expected a finite, non-negative number of seconds",
        )
    })
}

/// Splits `digits[suffix]` into the number and its SI multiplier.
fn parse_si(option: &str, value: &str, digits: &str) -> Result<i64, ValueError> {
    let (num, mult) = match digits.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: i64 = match c {
                'K' => 1_000,
                'M' => 1_000_000,
                'G' => 1_000_000_000,
                'T' => 1_000_000_000_000,
                'P' => 1_000_000_000_000_000,
                'E' => 1_000_000_000_000_000_000,
                _ => {
                    return Err(ValueError::new(
                        option,
                        value,
                        format!("unknown unit suffix {c:?} (use K, M, G, T, P or E)"),
                    ))
                }
            };
            (&digits[..i], mult)
        }
        _ => (digits, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::new(option, value, "expected an integer"));
    }
    num.parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| ValueError::new(option, value, "out of range"))
}

/// Parses an unsigned integer option (`3`, `010`, `1K`).
pub fn parse_uint(option: &str, value: &str) -> Result<u64, ValueError> {
    let n = parse_si(option, value, value.trim())?;
    // parse_si only yields non-negative values without a sign.
    Ok(n.unsigned_abs())
}

/// Parses a signed integer option (`2`, `-1`, `+3`, `1K`).
pub fn parse_int(option: &str, value: &str) -> Result<i64, ValueError> {
    let v = value.trim();
    if let Some(rest) = v.strip_prefix('-') {
        // Parse the magnitude through i64 then negate; i64::MIN itself is
        // out of reach, which Ceph's parser also refuses.
        parse_si(option, value, rest).map(|n| -n)
    } else {
        parse_si(option, value, v.strip_prefix('+').unwrap_or(v))
    }
}

/// Parses a `secs` option (`300`, `10s`, `5 min`, `1h30m`) into whole seconds.
/// An empty value is zero, as in Ceph.
pub fn parse_secs(option: &str, value: &str) -> Result<Duration, ValueError> {
    let bad = |reason: &str| ValueError::new(option, value, reason);
    let mut rest = value.trim();
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return Err(bad("expected a number of seconds, optionally with units"));
        }
        let n: u64 = rest[..digits_end]
            .parse()
            .map_err(|_| bad("number out of range"))?;
        rest = rest[digits_end..].trim_start();
        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        let scale: u64 = match unit {
            // A bare number only ends the value.
            "" if rest.is_empty() => 1,
            "" => return Err(bad("a number without a unit must come last")),
            "s" | "sec" | "second" | "seconds" => 1,
            "m" | "min" | "minute" | "minutes" => 60,
            "h" | "hr" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "wk" | "week" | "weeks" => 7 * 86_400,
            "mo" | "month" | "months" => 30 * 86_400,
            "y" | "yr" | "year" | "years" => 365 * 86_400,
            _ => return Err(bad(&format!("unknown time unit {unit:?}"))),
        };
        total = n
            .checked_mul(scale)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| bad("out of range"))?;
        rest = rest[unit_end..].trim_start();
    }
    Ok(Duration::from_secs(total))
}

/// A msgr2 connection mode, as listed in `ms_client_mode` and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionMode {
    /// Frames carry CRCs, payloads in clear.
    Crc,
    /// Frames are encrypted (AES-GCM).
    Secure,
}

impl ConnectionMode {
    /// Ceph's spelling: `crc` or `secure`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionMode::Crc => "crc",
            ConnectionMode::Secure => "secure",
        }
    }
}

/// An authentication method, as listed in `auth_client_required`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// CephX shared-secret authentication.
    Cephx,
    /// No authentication.
    None,
}

impl AuthMethod {
    /// Ceph's spelling: `cephx` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Cephx => "cephx",
            AuthMethod::None => "none",
        }
    }
}

/// Splits a list option on commas, semicolons and blanks, as Ceph does.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c == ',' || c == ';' || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
}

/// Parses a connection-mode preference list (`"secure crc"`), in order,
/// dropping repeats. An empty list is an error: nothing could connect.
pub fn parse_modes(option: &str, value: &str) -> Result<Vec<ConnectionMode>, ValueError> {
    let mut out = Vec::new();
    for word in split_list(value) {
        let mode = match word {
            "crc" => ConnectionMode::Crc,
            "secure" => ConnectionMode::Secure,
            _ => {
                return Err(ValueError::new(
                    option,
                    value,
                    format!("unknown connection mode {word:?} (expected crc or secure)"),
                ))
            }
        };
        if !out.contains(&mode) {
            out.push(mode);
        }
    }
    if out.is_empty() {
        return Err(ValueError::new(option, value, "no connection mode listed"));
    }
    Ok(out)
}

/// Parses an authentication-method list (`"cephx, none"`), in order, dropping
/// repeats. `gss` is Kerberos, which this client does not implement, so it is
/// refused rather than silently skipped.
pub fn parse_auth_methods(option: &str, value: &str) -> Result<Vec<AuthMethod>, ValueError> {
    let mut out = Vec::new();
    for word in split_list(value) {
        let method = match word {
            "cephx" => AuthMethod::Cephx,
            "none" => AuthMethod::None,
            _ => {
                return Err(ValueError::new(
                    option,
                    value,
                    format!("unsupported authentication method {word:?} (expected cephx or none)"),
                ))
            }
        };
        if !out.contains(&method) {
            out.push(method);
        }
    }
    if out.is_empty() {
        return Err(ValueError::new(
            option,
            value,
            "no authentication method listed",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secs_forms_match_ceph() {
        let ok = [
            ("10", 10),
            ("10s", 10),
            ("2m", 120),
            ("5 min", 300),
            ("1h", 3600),
            ("1d", 86_400),
            ("1h 30m", 5400),
            ("1h30m", 5400),
            ("1h 30", 3630),
            ("1 h30", 3630),
            ("2 weeks", 1_209_600),
            ("1wk", 604_800),
            ("1mo", 2_592_000),
            ("2months", 5_184_000),
            ("1y", 31_536_000),
            ("1yr", 31_536_000),
            ("90 s", 90),
            ("0", 0),
            ("010", 10),
            ("", 0),
            ("  5 ", 5),
        ];
        for (text, secs) in ok {
            assert_eq!(
                parse_secs("t", text).unwrap(),
                Duration::from_secs(secs),
                "{text:?}"
            );
        }
        let bad = [
            "1.5", "10ms", "3x", "-1", "1secs", "1mins", "1hrs", "1mon", "1S", "1H", "h", "1 1",
            "30 1h", "1h,2m", "1.5s", "1h -1m",
        ];
        for text in bad {
            assert!(parse_secs("t", text).is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn secs_overflow_is_an_error() {
        let e = parse_secs("client_mount_timeout", "99999999999999999999y").unwrap_err();
        assert_eq!(e.option, "client_mount_timeout");
        assert!(parse_secs("t", "600000000000y").is_err());
    }

    #[test]
    fn floats() {
        assert_eq!(parse_float("t", "1.5").unwrap(), 1.5);
        assert_eq!(parse_float("t", "-4").unwrap(), -4.0);
        assert_eq!(parse_float("t", "1e1").unwrap(), 10.0);
        assert!(parse_float("t", "10s").is_err());
        assert!(parse_float("t", "").is_err());
        assert_eq!(
            parse_float_secs("t", "2.5").unwrap(),
            Duration::from_millis(2500)
        );
        assert!(parse_float_secs("t", "-1").is_err());
        assert!(parse_float_secs("t", "inf").is_err());
        assert!(parse_float_secs("t", "nan").is_err());
    }

    #[test]
    fn integers_with_si_suffixes() {
        assert_eq!(parse_uint("t", "3").unwrap(), 3);
        assert_eq!(parse_uint("t", "1K").unwrap(), 1000);
        assert_eq!(parse_uint("t", "1E").unwrap(), 1_000_000_000_000_000_000);
        assert_eq!(parse_uint("t", "4294967296").unwrap(), 4_294_967_296);
        for bad in [
            "+3",
            "-1",
            "1k",
            "1Ki",
            "0x10",
            "1.5",
            "10s",
            "",
            "K",
            "18446744073709551615",
            "10E",
        ] {
            assert!(parse_uint("t", bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(parse_int("t", "+3").unwrap(), 3);
        assert_eq!(parse_int("t", "-4").unwrap(), -4);
        assert_eq!(parse_int("t", "-2K").unwrap(), -2000);
        assert!(parse_int("t", "2.5").is_err());
        assert!(parse_int("t", "--1").is_err());
    }

    #[test]
    fn mode_and_auth_lists() {
        assert_eq!(
            parse_modes("m", "secure crc").unwrap(),
            vec![ConnectionMode::Secure, ConnectionMode::Crc]
        );
        assert_eq!(
            parse_modes("m", "crc,secure;crc").unwrap(),
            vec![ConnectionMode::Crc, ConnectionMode::Secure]
        );
        assert!(parse_modes("m", "bogus").is_err());
        assert!(parse_modes("m", " , ").is_err());
        assert_eq!(
            parse_auth_methods("a", "cephx, none").unwrap(),
            vec![AuthMethod::Cephx, AuthMethod::None]
        );
        let e = parse_auth_methods("auth_client_required", "gss").unwrap_err();
        assert!(e.to_string().contains("gss"), "{e}");
    }

    #[test]
    fn long_values_are_truncated_in_errors() {
        let long = "x".repeat(10_000);
        let e = parse_uint("t", &long).unwrap_err();
        assert!(e.value.chars().count() <= 65);
    }
}
