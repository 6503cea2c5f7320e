//! An async client for Ceph monitors: msgr2 and CephX in Rust, with no
//! librados. It connects from the ordinary Ceph configuration, runs monitor
//! commands (JSON, `Serialize` values or the `ceph` CLI's words), streams
//! the cluster log and the cluster maps decoded, and keeps the OSD map
//! current.
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() -> Result<(), ceph_monclient::MonError> {
//!     // ceph.conf and the key found as `ceph` finds them (CEPH_CONF, CEPH_KEYRING...).
//!     let client = ceph_monclient::MonClient::from_ceph_config().await?;
//!     let status = client.command_words("status").await?.into_result()?;
//!     println!("{}", status.text());
//!     client.shutdown().await;
//!     Ok(())
//! }
//! ```
//!
//! - Connect: [`MonClient::from_ceph_config`], [`MonClient::builder`]
//!   ([`MonClientBuilder`]), [`MonClient::connect_to`] (a `mon_host` string
//!   and a key), or [`MonClient::connect`] with [`MonClientOptions`].
//! - Commands: [`MonClient::command`] (anything [`IntoCommand`]),
//!   [`MonClient::command_words`], [`MonClient::tell`] (one monitor);
//!   replies: [`CommandReply::into_result`], [`CommandReply::json`].
//! - Streams: [`MonClient::cluster_log`], [`MonClient::monmaps`],
//!   [`MonClient::mgrmaps`], [`MonClient::config_changes`],
//!   [`MonClient::follow_osdmap`].
//! - Errors: [`MonError`], with [`MonError::errno`] and predicates.
//!
//! The types those use are re-exported ([`EntityName`], [`CryptoKey`],
//! [`LogEntry`], [`MonMap`], [`MgrMap`], [`OSDMap`], [`ClientConfig`]...), so
//! a program needs no other crate of this family. [`core::Core`] is the
//! I/O-free state machine behind the client (hunting, keepalives, resends),
//! usable on its own with simulated time.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cephx;
pub mod client;
pub mod core;
pub mod error;
pub mod messages;
pub mod tickets;

pub use client::{
    key_from_config, EventStream, IntoCommand, Json, LogLevel, MonClient, MonClientBuilder,
    MonClientOptions, OsdMapFollower, Status,
};
pub use core::{
    ClusterEvent, CommandReply, MapVersions, MonTarget, Reply, Request, SessionConfig, SessionState,
};
pub use error::MonError;

pub use ceph_auth::{CryptoKey, Keyring, RotatingSecrets};
pub use ceph_config::{ClientConfig, ConfigSources};
pub use ceph_osdmap::{OSDMap, OSDMapIncremental, PgId, PgPool};
pub use ceph_types::{
    EntityAddr, EntityAddrVec, EntityName, LogEntry, LogPriority, MgrMap, MonMap, UTime, Uuid,
};

/// The crates this one is built on, for what the re-exports above leave
/// out.
pub mod deps {
    pub use ceph_argparse as argparse;
    pub use ceph_auth as auth;
    pub use ceph_config as config;
    pub use ceph_osdmap as osdmap;
    pub use ceph_types as types;
}
