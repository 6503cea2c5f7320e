//! How to reach and authenticate to the monitors.

use std::time::Duration;

use ceph_auth::CryptoKey;
use ceph_msgr::frame::ConMode;
use ceph_types::{EntityAddrVec, EntityName};

use crate::core::SessionConfig;

/// How to reach and authenticate to the monitors.
#[derive(Debug, Clone)]
pub struct MonClientOptions {
    /// Who we are (`client.admin`).
    pub name: EntityName,
    /// Our CephX key.
    pub key: CryptoKey,
    /// The monitors to start from (`mon_host`).
    pub mon_addrs: Vec<EntityAddrVec>,
    /// Session lifecycle tunables.
    pub session: SessionConfig,
    /// Limit for one connection attempt (TCP connect + handshake + auth).
    pub attempt_timeout: Duration,
    /// Limit for [`MonClient::connect`](crate::MonClient::connect) to have a session and a MonMap
    /// (`client_mount_timeout`).
    pub connect_timeout: Duration,
    /// Seed for the random choice of monitors; `None` = from the OS.
    pub seed: Option<u64>,
    /// msgr2 connection modes to offer, preferred first
    /// (`ms_mon_client_mode`; Ceph's default is secure, then crc).
    pub modes: Vec<ConMode>,
    /// `auth_service_ticket_ttl`: daemons judge their rotating secrets
    /// against it (renew once the current one expired more than
    /// `min(30 s, ttl / 4)` ago). Ceph's default is one hour.
    pub service_ticket_ttl: Duration,
    /// The local Ceph configuration these options came from
    /// ([`MonClientOptions::from_config`]). When set, the monitors' central
    /// configuration for this client is applied over it: `connect` waits
    /// for it, and options the conf file and command line left alone follow
    /// it (see [`MonClient::config`](crate::MonClient::config)).
    pub config: Option<ceph_config::ClientConfig>,
}

impl MonClientOptions {
    /// Options for `name` with `key`, hunting among `mon_addrs`, with the
    /// library's defaults for everything else; see also
    /// [`MonClientOptions::from_config`].
    pub fn new(name: EntityName, key: CryptoKey, mon_addrs: Vec<EntityAddrVec>) -> Self {
        MonClientOptions {
            name,
            key,
            mon_addrs,
            session: SessionConfig::default(),
            attempt_timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(300),
            seed: None,
            modes: vec![ConMode::Secure, ConMode::Crc],
            service_ticket_ttl: Duration::from_secs(3600),
            config: None,
        }
    }
}
