//! Rotating service secrets, as the monitors hand them to daemons (OSDs,
//! MDSs, managers) so that those can open the tickets clients present.
//!
//! The monitor keeps a short sequence of secrets per service type, each
//! with an expiration time; the one in the middle is "current", the older
//! one still opens tickets issued just before a rotation and the newer one
//! is ready for the next. A daemon asks for a fresh set when the current
//! one is about to expire.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ceph_denc::{Decode, Decoder, Encode};

use crate::crypto::CryptoKey;
use crate::types::struct_v;
use crate::UTime;

/// How many secrets a complete set holds (previous, current, next).
pub const ROTATING_SET_SIZE: usize = 3;

/// A service secret and when it stops being used. `Debug` redacts the key
/// (through [`CryptoKey`]'s own `Debug`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpiringCryptoKey {
    /// The secret.
    pub key: CryptoKey,
    /// When it expires (absolute, the monitor's clock).
    pub expiration: UTime,
}

impl ExpiringCryptoKey {
    /// The expiration as a `SystemTime`.
    pub fn expires_at(&self) -> SystemTime {
        utime_to_system(self.expiration)
    }
}

/// Converts an absolute `UTime` to a `SystemTime`.
pub(crate) fn utime_to_system(t: UTime) -> SystemTime {
    UNIX_EPOCH + Duration::new(u64::from(t.sec), t.nsec.min(999_999_999))
}

impl Decode for ExpiringCryptoKey {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        struct_v(d, "ExpiringCryptoKey", 1, 1)?;
        Ok(ExpiringCryptoKey {
            key: CryptoKey::decode(d)?,
            expiration: UTime::decode(d)?,
        })
    }
}

impl Encode for ExpiringCryptoKey {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        1u8.encode(out, f);
        self.key.encode(out, f);
        self.expiration.encode(out, f);
    }
}

/// The set of rotating secrets of one service type, by secret id.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use ceph_auth::rotating::{ExpiringCryptoKey, RotatingSecrets};
/// use ceph_auth::UTime;
/// let now = SystemTime::now();
/// let mut set = RotatingSecrets::default();
/// assert!(set.need_new_secrets(now)); // empty
/// for (id, offset) in [(1, 0u64), (2, 3600), (3, 7200)] {
///     let expiration = UTime::from(now + Duration::from_secs(offset));
///     set.secrets.insert(id, ExpiringCryptoKey { expiration, ..Default::default() });
/// }
/// set.max_ver = 3;
/// assert_eq!(set.current().map(|(id, _)| id), Some(2));
/// assert!(!set.need_new_secrets(now));
/// assert!(set.need_new_secrets(now + Duration::from_secs(3600)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RotatingSecrets {
    /// Secrets by id, oldest first.
    pub secrets: BTreeMap<u64, ExpiringCryptoKey>,
    /// The newest secret id the monitor has issued.
    pub max_ver: u64,
}

impl RotatingSecrets {
    /// The secret currently in use: the second oldest of the set (the
    /// oldest one only opens tickets issued before the last rotation).
    pub fn current(&self) -> Option<(u64, &ExpiringCryptoKey)> {
        self.secrets.iter().nth(1).map(|(id, k)| (*id, k))
    }

    /// The secret with this id, to open a ticket naming it.
    pub fn get(&self, secret_id: u64) -> Option<&ExpiringCryptoKey> {
        self.secrets.get(&secret_id)
    }

    /// True when the set is incomplete or its current secret expires at or
    /// before `cutoff`: time to ask the monitor for a new set.
    pub fn need_new_secrets(&self, cutoff: SystemTime) -> bool {
        if self.secrets.len() < ROTATING_SET_SIZE {
            return true;
        }
        match self.current() {
            Some((_, k)) => k.expires_at() <= cutoff,
            None => true,
        }
    }
}

impl Decode for RotatingSecrets {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        struct_v(d, "RotatingSecrets", 1, 1)?;
        Ok(RotatingSecrets {
            secrets: BTreeMap::decode(d)?,
            max_ver: d.u64("RotatingSecrets.max_ver")?,
        })
    }
}

impl Encode for RotatingSecrets {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        1u8.encode(out, f);
        self.secrets.encode(out, f);
        self.max_ver.encode(out, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_expiring(now: SystemTime, offsets: &[i64]) -> RotatingSecrets {
        let mut s = RotatingSecrets::default();
        for (i, off) in offsets.iter().enumerate() {
            let t = if *off >= 0 {
                now + Duration::from_secs(*off as u64)
            } else {
                now - Duration::from_secs(off.unsigned_abs())
            };
            s.secrets.insert(
                i as u64 + 10,
                ExpiringCryptoKey {
                    key: CryptoKey::new(1, UTime::default(), vec![7; 16]),
                    expiration: UTime::from(t),
                },
            );
            s.max_ver = i as u64 + 10;
        }
        s
    }

    #[test]
    fn round_trip_and_redacted_debug() {
        let s = set_expiring(SystemTime::now(), &[-10, 100, 200]);
        let bytes = s.to_bytes(0);
        assert_eq!(RotatingSecrets::decode_all(&bytes).unwrap(), s);
        let dbg = format!("{s:?}");
        assert!(dbg.contains("<redacted>"), "{dbg}");
        assert!(!dbg.contains("[7, 7"), "{dbg}");
    }

    #[test]
    fn current_is_second_oldest_and_cutoff_applies_to_it() {
        let now = SystemTime::now();
        let s = set_expiring(now, &[-10, 100, 200]);
        assert_eq!(s.current().unwrap().0, 11);
        assert!(!s.need_new_secrets(now));
        assert!(!s.need_new_secrets(now + Duration::from_secs(99)));
        assert!(s.need_new_secrets(now + Duration::from_secs(100)));
        // Two secrets are not a complete set, however fresh.
        let two = set_expiring(now, &[1000, 2000]);
        assert!(two.need_new_secrets(now));
    }

    #[test]
    fn hostile_bytes_fail_cleanly() {
        // A map count of 2^32-1 entries must not allocate or loop.
        let bytes = [1u8, 0xff, 0xff, 0xff, 0xff];
        assert!(RotatingSecrets::decode_all(&bytes).is_err());
        assert!(RotatingSecrets::decode_all(&[2u8]).is_err());
        assert!(RotatingSecrets::decode_all(&[]).is_err());
    }
}
