//! Ceph's messenger, client side: msgr2 ([`v2`]) and msgr1 ([`v1`]) behind
//! one tokio [`connection::Connection`].

#![deny(missing_docs)]
#![forbid(unsafe_code)]
pub mod auth;
pub mod connection;
pub mod error;
pub mod frame;
pub mod message;
pub mod payload;
pub mod protocol;
mod secure;
pub mod v1;
pub mod v2;
