//! The core's configuration layers: the caller's tunables and connection
//! modes, the local Ceph configuration they came from (if any), and the
//! monitors' central configuration for this client (MConfig) applied over
//! it as Ceph ranks them — a monitor value wins only over a default.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use ceph_config::{ClientConfig, OptionSource};
use ceph_msgr::frame::ConMode;

use super::settings;
use super::Core;

/// Every layer, and what came of applying them.
pub(super) struct Layers {
    /// Tunables and modes as the caller gave them; central values apply
    /// over these, so a withdrawn value falls back to them.
    base_session: super::SessionConfig,
    base_modes: Vec<ConMode>,
    /// The modes to offer on the next connection.
    modes: Vec<ConMode>,
    /// The local configuration (`None`: started without one).
    local: Option<ClientConfig>,
    /// `local` with the central configuration applied.
    effective: Option<Arc<ClientConfig>>,
    /// The newest MConfig's options.
    central: Arc<BTreeMap<String, String>>,
    received: bool,
    /// Bumped whenever any of the above changes.
    generation: u64,
}

impl Layers {
    pub(super) fn new(base_session: super::SessionConfig) -> Self {
        Layers {
            base_session,
            base_modes: vec![ConMode::Secure, ConMode::Crc],
            modes: vec![ConMode::Secure, ConMode::Crc],
            local: None,
            effective: None,
            central: Arc::default(),
            received: false,
            generation: 0,
        }
    }
}

impl Core {
    /// The connection modes to offer, preferred first
    /// (`ms_mon_client_mode`), and the local configuration to apply the
    /// monitors' central configuration over.
    pub fn with_local_config(mut self, modes: Vec<ConMode>, local: Option<ClientConfig>) -> Self {
        self.layers.base_modes = modes.clone();
        self.layers.modes = modes;
        self.layers.effective = local.clone().map(Arc::new);
        self.layers.local = local;
        self
    }

    /// The connection modes to offer on the next connection.
    pub fn modes(&self) -> &[ConMode] {
        &self.layers.modes
    }

    /// The local configuration with the central one applied (`None` when
    /// the core was given no local configuration).
    pub fn effective_config(&self) -> Option<Arc<ClientConfig>> {
        self.layers.effective.clone()
    }

    /// The newest central configuration for this client, and whether one
    /// has arrived.
    pub fn central_config(&self) -> (Arc<BTreeMap<String, String>>, bool) {
        (self.layers.central.clone(), self.layers.received)
    }

    /// Bumped whenever the central configuration or its effect changes.
    pub fn config_generation(&self) -> u64 {
        self.layers.generation
    }

    /// A new MConfig: keep it, and apply it over the local configuration,
    /// if there is one.
    pub(super) fn apply_central(&mut self, options: &BTreeMap<String, String>, now: Instant) {
        let layers = &mut self.layers;
        layers.central = Arc::new(options.clone());
        layers.received = true;
        layers.generation += 1;
        let Some(local) = &layers.local else {
            return;
        };
        let (effective, ignored) = local.with_mon_values(options);
        for i in &ignored {
            tracing::warn!(option = %i.option, reason = %i.reason, "central config value ignored");
        }
        let picked = |o: &str| effective.source(o) == Some(OptionSource::Mon);
        let mut session = layers.base_session.clone();
        settings::apply_to_session(&mut session, &effective, picked);
        layers.modes = if picked("ms_mon_client_mode") {
            settings::con_modes(&effective)
        } else {
            layers.base_modes.clone()
        };
        layers.effective = Some(Arc::new(effective));
        tracing::debug!(options = options.len(), "central config applied");
        self.set_config(session, now);
    }
}
