//! msgr2 client side.
pub mod crc;
pub mod frame;
mod secure;
