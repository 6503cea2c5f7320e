//! Types and maps of Ceph's wire protocol, on top of [`ceph_denc`]:
//! feature bits, entity names and addresses, times, UUIDs, the MonMap, the
//! MgrMap and cluster log entries. The OSD map family is in `ceph-osdmap`.
//!
//! Every `Decode` impl here is total (hostile bytes give an error, never a
//! panic or an allocation sized by an untrusted length); every `Encode` impl
//! takes the peer's feature bits and picks the encoding Ceph would.
//!
//! ```
//! use ceph_types::{EntityName, EntityType};
//! let name: EntityName = "client.admin".parse().unwrap();
//! assert_eq!(name.ty, EntityType::Client);
//! assert_eq!(name.id, "admin");
//! assert_eq!(name.to_string(), "client.admin");
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod addr;
pub mod entity;
pub mod errno;
pub mod features;
pub mod log;
pub mod log_entry;
pub mod mgrmap;
pub mod monmap;
pub mod time;

pub use addr::{EntityAddr, EntityAddrType, EntityAddrVec};
pub use entity::{EntityInst, EntityName, EntityNameT, EntityType};
pub use log::{LogEntry, LogPriority};
pub use log_entry::LogEntryKey;
pub use mgrmap::{MgrMap, ModuleInfo, ModuleOption, StandbyInfo};
pub use monmap::{FeatureBitset, MonFeature, MonInfo, MonMap};
pub use time::{UTime, Uuid};

/// A text form that could not be parsed: what was being parsed, the input
/// and why it was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}: {reason}")]
pub struct ParseError {
    /// What was being parsed.
    pub what: &'static str,
    /// The text given.
    pub input: String,
    /// Why it was rejected.
    pub reason: String,
}

impl ParseError {
    /// A parse error of `input` as a `what`.
    pub fn new(what: &'static str, input: &str, reason: impl Into<String>) -> Self {
        ParseError {
            what,
            input: input.to_string(),
            reason: reason.into(),
        }
    }
}
