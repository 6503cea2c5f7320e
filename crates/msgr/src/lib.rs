//! msgr2 client side.

#![forbid(unsafe_code)]
pub mod auth;
pub mod connection;
pub mod error;
pub mod frame;
pub mod message;
pub mod payload;
pub mod protocol;
mod secure;
