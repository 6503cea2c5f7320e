//! Client for Ceph monitors.
pub mod command_desc;
pub mod error;
pub mod messages;
