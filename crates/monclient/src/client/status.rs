//! What the client task publishes for the handles to read without asking
//! it.

use std::collections::BTreeMap;
use std::sync::Arc;

use ceph_msgr::connection::Protocol;
use ceph_msgr::frame::ConMode;
use ceph_types::MonMap;

use crate::core::{Core, SessionState};
use crate::error::MonError;
use crate::tickets::RenewalCounts;

/// What the handles can read without asking the task.
#[derive(Debug, Clone)]
pub struct Status {
    /// Where the session stands.
    pub state: SessionState,
    /// The newest MonMap received.
    pub monmap: Option<Arc<MonMap>>,
    /// Our global id (0 before the first authentication).
    pub global_id: u64,
    /// Why the last connection attempt failed, if it did.
    pub last_error: Option<Arc<MonError>>,
    /// Sessions established so far: 1 after connecting, each reconnect adds one.
    pub sessions: u64,
    /// The current hunt backoff multiple.
    pub hunt_multiple: f64,
    /// Newest epoch seen of each subscribed map (`monmap`, `osdmap`, `mgrmap`).
    pub epochs: BTreeMap<String, u64>,
    /// Cluster log entries sent with [`MonClient::log`](crate::MonClient::log) and not yet
    /// acknowledged by the monitors.
    pub log_pending: usize,
    /// The highest sequence number the monitors acknowledged.
    pub log_acked: u64,
    /// The central configuration the monitors hold for this client
    /// (`ceph config set client ...`), as of the last MConfig.
    pub config: Arc<BTreeMap<String, String>>,
    /// Whether an MConfig has arrived yet.
    pub config_received: bool,
    /// The local configuration with the central one applied (`None` when
    /// the client was not started from a configuration).
    pub client_config: Option<Arc<ceph_config::ClientConfig>>,
    /// The connection mode of the current session (`None` before the
    /// first one).
    pub con_mode: Option<ConMode>,
    /// The rotating service secrets held (daemon entities only).
    pub rotating_secrets: Option<Arc<ceph_auth::RotatingSecrets>>,
    /// Set when rotating secrets arrived already expired by our clock.
    pub clock_skew: Option<String>,
    /// Renewals done over sessions so far.
    pub renewals: RenewalCounts,
    /// The messenger protocol of the current session (`None` before the
    /// first one).
    pub protocol: Option<Protocol>,
}

impl Status {
    /// The status as of `core` now.
    pub(super) fn of(
        core: &Core,
        last_error: &Option<Arc<MonError>>,
        con_mode: Option<ConMode>,
        protocol: Option<Protocol>,
    ) -> Status {
        let (config, config_received) = core.central_config();
        Status {
            state: core.state(),
            monmap: core.shared_monmap(),
            global_id: core.global_id(),
            last_error: last_error.clone(),
            sessions: core.sessions(),
            hunt_multiple: core.hunt_multiple(),
            epochs: core.epochs().clone(),
            log_pending: core.log_pending(),
            log_acked: core.log_acked(),
            config,
            config_received,
            client_config: core.effective_config(),
            con_mode,
            rotating_secrets: core.rotating_secrets(),
            clock_skew: core.clock_skew(),
            renewals: core.renewals(),
            protocol,
        }
    }

    /// Whether this still shows `core` as it is (shared parts compare by
    /// identity, not content). Reads the core in place, so the driver can
    /// ask after every event without building a new status.
    pub(super) fn is_current(
        &self,
        core: &Core,
        con_mode: Option<ConMode>,
        protocol: Option<Protocol>,
    ) -> bool {
        fn same<T>(shown: &Option<Arc<T>>, now: Option<&T>) -> bool {
            shown.as_deref().map(|t| t as *const T) == now.map(|t| t as *const T)
        }
        let (config, config_received) = core.central_config();
        self.state == core.state()
            && same(&self.monmap, core.monmap())
            && self.global_id == core.global_id()
            && self.sessions == core.sessions()
            && self.hunt_multiple == core.hunt_multiple()
            && &self.epochs == core.epochs()
            && self.log_pending == core.log_pending()
            && self.log_acked == core.log_acked()
            && Arc::ptr_eq(&self.config, &config)
            && self.config_received == config_received
            && same(&self.client_config, core.effective_config().as_deref())
            && self.con_mode == con_mode
            && self.protocol == protocol
            && same(&self.rotating_secrets, core.rotating_secrets().as_deref())
            && self.renewals == core.renewals()
            && self.clock_skew == core.clock_skew()
    }
}
