//! An async client for Ceph monitors, speaking msgr2 and CephX.
//!
//! [`MonClient`] is the handle most programs want; [`core::Core`] is the
//! I/O-free state machine behind it (hunting, keepalives, resends), usable
//! on its own with simulated time.

#![forbid(unsafe_code)]

pub mod cephx;
pub mod client;
pub mod core;
pub mod error;
pub mod messages;
pub mod tickets;

pub use client::{MonClient, MonClientOptions, Status};
pub use core::{
    ClusterEvent, CommandReply, MapVersions, MonTarget, Reply, Request, SessionConfig, SessionState,
};
pub use error::MonError;
