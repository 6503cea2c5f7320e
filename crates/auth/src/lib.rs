//! CephX authentication, client side, without I/O.
//!
//! ```
//! use ceph_auth::Keyring;
//! let keyring = Keyring::parse(
//!     "[client.admin]\n\tkey = AQBzNW5mAAAAABAAdD0bJbWKbzBMAw6lHqKCZA==\n\tcaps mon = \"allow *\"\n",
//! )
//! .unwrap();
//! let admin = "client.admin".parse().unwrap();
//! let key = keyring.get(&admin).unwrap();
//! assert_eq!(key.to_base64(), "AQBzNW5mAAAAABAAdD0bJbWKbzBMAw6lHqKCZA==");
//! assert_eq!(keyring.entry(&admin).unwrap().caps["mon"], "allow *");
//! ```
//!
//! - [`CryptoKey`] and [`Keyring`]: keys as Ceph stores them, the `aes`
//!   cipher and CephX's encrypted envelope ([`crypto`]).
//! - [`types`]: the CephX wire structures.
//! - [`CephxClient`]: the client half of the exchange with a monitor, as a
//!   state machine fed with payloads and returning payloads.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod crypto;
pub mod error;
pub mod keyring;
mod krb5;
pub mod rotating;
pub mod types;

pub use ceph_types::{EntityName, UTime};
pub use client::{AuthOutcome, Authorizer, CephxClient, RenewalReply, ServiceTicket};
pub use crypto::CryptoKey;
pub use error::{AuthError, Result};
pub use keyring::{Keyring, KeyringEntry};
pub use rotating::{ExpiringCryptoKey, RotatingSecrets};
