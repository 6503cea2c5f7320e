//! Cluster log entries (`LogEntry`), as monitors send them in MLog.

use ceph_denc::{encode_envelope, Decode, DecodeError, Decoder, Encode, Result};
use serde_json::{json, Value};

use crate::{EntityAddrVec, EntityInst, EntityName, EntityNameT, UTime};

/// The severity of a cluster log entry (Ceph's `clog_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogPriority {
    /// Debugging detail.
    Debug,
    /// Informational.
    Info,
    /// Security-related.
    Sec,
    /// A warning.
    Warn,
    /// An error.
    Error,
    /// A priority this code does not know, kept as sent.
    Unknown(u16),
}

impl LogPriority {
    /// The priority of a wire code.
    pub fn from_code(c: u16) -> Self {
        match c {
            0 => LogPriority::Debug,
            1 => LogPriority::Info,
            2 => LogPriority::Sec,
            3 => LogPriority::Warn,
            4 => LogPriority::Error,
            x => LogPriority::Unknown(x),
        }
    }

    /// The wire code.
    pub fn code(self) -> u16 {
        match self {
            LogPriority::Debug => 0,
            LogPriority::Info => 1,
            LogPriority::Sec => 2,
            LogPriority::Warn => 3,
            LogPriority::Error => 4,
            LogPriority::Unknown(x) => x,
        }
    }

    /// The tag `ceph -w` prints: `[DBG]`, `[INF]`, `[SEC]`, `[WRN]`, `[ERR]`.
    pub fn tag(self) -> &'static str {
        match self {
            LogPriority::Debug => "[DBG]",
            LogPriority::Info => "[INF]",
            LogPriority::Sec => "[SEC]",
            LogPriority::Warn => "[WRN]",
            LogPriority::Error => "[ERR]",
            LogPriority::Unknown(_) => "[???]",
        }
    }
}

/// One entry of the cluster log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Who logged it (`mon.a`, `client.admin`).
    pub name: EntityName,
    /// Its instance (`mon.0`, `client.4123`).
    pub rank: EntityNameT,
    /// The logger's addresses.
    pub addrs: EntityAddrVec,
    /// When it was logged.
    pub stamp: UTime,
    /// The logger's sequence number.
    pub seq: u64,
    /// How severe it is.
    pub prio: LogPriority,
    /// The text.
    pub msg: String,
    /// `cluster`, `audit`, ...
    pub channel: String,
    /// The version it was decoded from (re-encoding writes the current one).
    pub struct_v: u8,
}

impl LogEntry {
    const VERSION: u8 = 5;

    /// The line `ceph -w` prints for it.
    pub fn to_line(&self) -> String {
        format!(
            "{} {} {} {}",
            self.stamp.to_iso8601_utc(),
            self.name,
            self.prio.tag(),
            self.msg
        )
    }

    /// The JSON Ceph's `log last -f json` gives for an entry.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name.to_string(),
            "rank": self.rank.to_string(),
            "addrs": self.addrs.to_string(),
            "stamp": self.stamp.to_iso8601_utc(),
            "seq": self.seq,
            "channel": self.channel,
            "priority": self.prio.tag(),
            "message": self.msg,
        })
    }
}

impl Decode for LogEntry {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let struct_v = d.u8("LogEntry version")?;
        if struct_v < 2 {
            return Err(DecodeError::TooOld {
                what: "LogEntry",
                version: struct_v,
                oldest: 2,
            });
        }
        let compat = d.u8("LogEntry compat")?;
        if compat > Self::VERSION {
            return Err(DecodeError::TooNew {
                what: "LogEntry",
                compat,
                supported: Self::VERSION,
            });
        }
        d.envelope_body("LogEntry", struct_v, |d, v| {
            if v >= 5 {
                Ok(LogEntry {
                    name: EntityName::decode(d)?,
                    rank: EntityNameT::decode(d)?,
                    addrs: EntityAddrVec::decode(d)?,
                    stamp: UTime::decode(d)?,
                    seq: d.u64("seq")?,
                    prio: LogPriority::from_code(d.u16("prio")?),
                    msg: String::decode(d)?,
                    channel: String::decode(d)?,
                    struct_v: v,
                })
            } else {
                let who = EntityInst::decode(d)?;
                let stamp = UTime::decode(d)?;
                let seq = d.u64("seq")?;
                let prio = LogPriority::from_code(d.u16("prio")?);
                let msg = String::decode(d)?;
                let channel = if v >= 3 {
                    String::decode(d)?
                } else {
                    "cluster".to_string()
                };
                let name = if v >= 4 {
                    EntityName::decode(d)?
                } else {
                    EntityName::new(who.name.ty, who.name.num.to_string())
                };
                Ok(LogEntry {
                    name,
                    rank: who.name,
                    addrs: EntityAddrVec::new(vec![who.addr]),
                    stamp,
                    seq,
                    prio,
                    msg,
                    channel,
                    struct_v: v,
                })
            }
        })
    }
}

impl Encode for LogEntry {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        encode_envelope(out, Self::VERSION, Self::VERSION, |o| {
            self.name.encode(o, features);
            self.rank.encode(o, features);
            self.addrs.encode(o, features);
            self.stamp.encode(o, features);
            self.seq.encode(o, features);
            self.prio.code().encode(o, features);
            self.msg.encode(o, features);
            self.channel.encode(o, features);
        });
    }
}

/// The entries of an MLog: a count and that many entries.
pub fn decode_log_entries(bytes: &[u8]) -> Result<Vec<LogEntry>> {
    Vec::<LogEntry>::decode_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::CLIENT_FEATURES_ALL;

    fn corpus() -> Vec<(String, Vec<u8>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
        let mut out = Vec::new();
        for version in std::fs::read_dir(dir).unwrap() {
            let p = version.unwrap().path().join("LogEntry");
            if let Ok(files) = std::fs::read_dir(&p) {
                for f in files {
                    let f = f.unwrap().path();
                    out.push((f.display().to_string(), std::fs::read(&f).unwrap()));
                }
            }
        }
        out
    }

    #[test]
    fn corpus_round_trips() {
        let files = corpus();
        assert!(!files.is_empty(), "no LogEntry corpus files");
        for (name, bytes) in files {
            let e = LogEntry::decode_all(&bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
            let again = e.to_bytes(CLIENT_FEATURES_ALL);
            let back = LogEntry::decode_all(&again).unwrap();
            assert_eq!(
                LogEntry {
                    struct_v: e.struct_v,
                    ..back.clone()
                },
                e,
                "{name}"
            );
            if e.struct_v == LogEntry::VERSION {
                assert_eq!(again, bytes, "{name}: re-encoding differs");
            }
            for cut in 0..bytes.len() {
                assert!(
                    LogEntry::decode_all(&bytes[..cut]).is_err(),
                    "{name}: cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn line_like_ceph_w() {
        let e = LogEntry {
            name: "mon.a".parse().unwrap(),
            rank: "mon.0".parse().unwrap(),
            addrs: EntityAddrVec::default(),
            stamp: UTime::new(0, 0),
            seq: 7,
            prio: LogPriority::Info,
            msg: "pool 'p' created".into(),
            channel: "audit".into(),
            struct_v: 5,
        };
        assert_eq!(
            e.to_line(),
            format!(
                "{} mon.a [INF] pool 'p' created",
                UTime::new(0, 0).to_iso8601_utc()
            )
        );
    }
}
