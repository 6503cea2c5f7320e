//! Commands to Ceph daemons beside the monitors: the active manager (with
//! failover to a standby), OSDs, placement groups (on their primary OSD),
//! MDSs, and local admin sockets.
//!
//! A [`DaemonClient`] sits on a [`ceph_monclient::MonClient`]: it follows
//! the OSD and manager maps the monitor client subscribes to, and connects
//! to each daemon over msgr2 (msgr1 when that is all the daemon publishes,
//! as with `ms_bind_msgr2 = false`) with a CephX authorizer built from the
//! monitor client's current ticket for that daemon's service (tickets are
//! renewed by the monitor client; every new connection presents the
//! current one). A command whose target moves before it is answered (a
//! manager failover, an OSD restart, a PG whose primary changes) is sent
//! again where the maps now say it belongs, until its deadline. A PG's
//! primary is computed from the OSD map (CRUSH, upmaps, `pg_temp`,
//! `primary_temp`), as the Objecter does.
//!
//! ```no_run
//! # async fn demo(mon: ceph_monclient::MonClient) -> Result<(), ceph_daemonclient::DaemonError> {
//! use ceph_daemonclient::{DaemonClient, DaemonClientOptions, Target};
//! let daemons = DaemonClient::new(mon, DaemonClientOptions::new("client.admin".parse().unwrap()));
//! for t in daemons.expand(&"osd.*".parse()?, None).await? {
//!     let r = daemons.tell(&t, r#"{"prefix": "version"}"#, Vec::new(), None).await?;
//!     println!("{t}: {}", String::from_utf8_lossy(&r.outbl));
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod asok;
pub mod auth;
mod client;
mod conn;
mod error;
mod maps;
mod mds;
pub mod messages;
mod pg;
mod target;

pub use asok::{
    admin_socket_command, admin_socket_path, DEFAULT_ADMIN_SOCKET, MAX_ADMIN_SOCKET_REPLY,
};
pub use ceph_monclient::CommandReply;
pub use ceph_msgr::connection::Protocol;
pub use client::{DaemonClient, DaemonClientOptions};
pub use error::DaemonError;
pub use maps::{
    advance_osdmap, daemon_peer, mgr_takes_mgr_command, resolve_mgr, resolve_osd, Maps, Peer,
    Resolved,
};
pub use mds::{find_mds, mds_names};
pub use target::{parse_pgid, DaemonType, Target};
