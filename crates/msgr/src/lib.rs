//! Ceph's messenger, client side: msgr2 ([`v2`]) and msgr1 ([`v1`]) behind
//! one tokio [`connection::Connection`]. It opens a TCP session to a daemon,
//! runs the handshake and authentication (cephx through an
//! [`auth::AuthClient`]), protects frames (crc or secure mode) and carries
//! [`message::Message`]s both ways, with keepalives and acks. Most programs
//! use it through ceph-monclient; the protocol pieces underneath (frames,
//! handshake state machines) do no I/O and can be driven by hand.
//!
//! One message through msgr2 framing, as a connection sends and receives it:
//!
//! ```
//! use bytes::BytesMut;
//! use ceph_msgr::frame::{FrameCodec, Tag};
//! use ceph_msgr::message::Message;
//!
//! // MMonGetMap (type 5): ask a monitor for its map; it has no fields.
//! let msg = Message::new(5, 1, 1, Vec::new());
//! let header = msg.header(1, 0).encode(); // sequence 1, nothing acked yet
//! let mut ours = FrameCodec::default(); // crc mode, until secure is negotiated
//! let wire = ours.encode(Tag::Message, &msg.segments(&header))?;
//!
//! // The peer's codec takes bytes as they arrive and yields whole frames.
//! let mut theirs = FrameCodec::default();
//! let mut buf = BytesMut::from(&wire[..20]);
//! assert!(theirs.decode(&mut buf)?.is_none()); // the preamble is not all there yet
//! buf.extend_from_slice(&wire[20..]);
//! let frame = theirs.decode(&mut buf)?.expect("one whole frame");
//! let (header, received) = Message::from_frame(&frame)?;
//! assert_eq!((header.seq, received.ty), (1, 5));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
