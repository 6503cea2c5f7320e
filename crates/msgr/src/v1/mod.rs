//! msgr1 (the legacy messenger protocol, `ceph v027`), client side, as
//! I/O-free state machines: [`ClientHandshakeV1`] up to an authenticated
//! session, then [`SessionV1`] for messages. The tokio transport in
//! [`crate::connection`] drives either protocol behind one
//! [`crate::connection::Connection`].

pub mod handshake;
pub mod session;
pub mod sign;
pub mod wire;

pub use handshake::{ClientHandshakeV1, HandshakeConfigV1, HandshakeStateV1};
pub use session::{SessionParams, SessionV1};
pub use sign::SigningKey;
pub use wire::PeerBanner;
