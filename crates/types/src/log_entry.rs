//! The key of a cluster log entry (Ceph's `LogEntryKey`); the entries
//! themselves are in [`crate::log`].

use ceph_denc::{Decode, Decoder, Encode, Result};

use crate::entity::EntityNameT;
use crate::log::LogEntry;
use crate::time::UTime;

/// What identifies a log entry (`LogEntryKey`): who logged it, when, and
/// their sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogEntryKey {
    /// Who logged it (`mon.0`).
    pub rank: EntityNameT,
    /// When.
    pub stamp: UTime,
    /// The logger's sequence number.
    pub seq: u64,
}

impl Decode for LogEntryKey {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(LogEntryKey {
            rank: EntityNameT::decode(d)?,
            stamp: UTime::decode(d)?,
            seq: d.u64("LogEntryKey.seq")?,
        })
    }
}

impl Encode for LogEntryKey {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        self.rank.encode(out, features);
        self.stamp.encode(out, features);
        self.seq.encode(out, features);
    }
}

impl LogEntryKey {
    /// The key of a log entry.
    pub fn of(e: &LogEntry) -> Self {
        LogEntryKey {
            rank: e.rank,
            stamp: e.stamp,
            seq: e.seq,
        }
    }
}
