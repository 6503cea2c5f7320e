//! How to reach and authenticate to the monitors.

use std::time::Duration;

use ceph_auth::CryptoKey;
use ceph_msgr::frame::ConMode;
use ceph_types::{EntityAddrVec, EntityName};

use ceph_config::ClientConfig;

use crate::core::{settings, SessionConfig};

/// How to reach and authenticate to the monitors. Made by
/// [`MonClientOptions::new`] or [`MonClientOptions::from_config`]; change
/// fields after that (new ones may be added).
#[derive(Debug, Clone)]
#[non_exhaustive]
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

impl MonClientOptions {
    /// Options from Ceph configuration: the monitors, hunting, keepalive,
    /// timeouts and connection modes it sets. The configuration is kept
    /// (in [`MonClientOptions::config`]) so that the monitors' central
    /// configuration can be applied over it: [`MonClient::connect`] then
    /// also waits for that, as C++ clients do, and later changes take
    /// effect as they arrive.
    ///
    /// Keepalives follow `mon_client_ping_interval`/`_timeout` only when
    /// one of them is configured; otherwise the client pings every second
    /// and gives up on a monitor after 2.5 s of silence.
    ///
    /// [`MonClient::connect`]: crate::MonClient::connect
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use ceph_config::{ClientConfig, ConfigSources};
    /// use ceph_monclient::{MonClient, MonClientOptions};
    /// let cfg = ClientConfig::load(ConfigSources::default())?;
    /// let keyring = ceph_auth::Keyring::load(cfg.keyring_path.as_ref().unwrap())?;
    /// let key = keyring.get(&cfg.name).unwrap().clone();
    /// let client = MonClient::connect(MonClientOptions::from_config(&cfg, key)).await?;
    /// // Local configuration with the monitors' values applied:
    /// let timeout = client.config().unwrap().rados_mon_op_timeout;
    /// # let _ = timeout; Ok(()) }
    /// ```
    pub fn from_config(cfg: &ClientConfig, key: CryptoKey) -> Self {
        let mut opts = MonClientOptions::new(cfg.name.clone(), key, cfg.mon_addrs.clone());
        opts.connect_timeout = settings::wait(cfg.client_mount_timeout);
        opts.attempt_timeout = opts.attempt_timeout.min(opts.connect_timeout);
        opts.session.hostname = ceph_config::short_hostname();
        settings::apply_to_session(&mut opts.session, cfg, |_| true);
        opts.modes = settings::con_modes(cfg);
        opts.config = Some(cfg.clone());
        opts
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ceph_config::{ConfigSources, Environment};

    use super::*;
    use crate::core::settings::*;
    use ceph_config::OptionSource;

    fn config(overrides: &[(&str, &str)]) -> ClientConfig {
        ClientConfig::load(ConfigSources {
            conf_path: Some("/dev/null".into()),
            mon_host: Some("127.0.0.1:3300".into()),
            overrides: overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            env: Some(Environment::default()),
            ..Default::default()
        })
        .unwrap()
    }

    fn key() -> CryptoKey {
        CryptoKey::from_base64("AQBzNW5mAAAAABAAdD0bJbWKbzBMAw6lHqKCZA==").unwrap()
    }

    #[test]
    fn defaults_keep_quick_keepalives_and_cephs_other_values() {
        let opts = MonClientOptions::from_config(&config(&[]), key());
        let defaults = SessionConfig::default();
        assert_eq!(opts.session.ping_interval, defaults.ping_interval);
        assert_eq!(opts.session.ping_timeout, defaults.ping_timeout);
        assert_eq!(opts.session.hunt_interval, Duration::from_secs(3));
        assert_eq!(opts.session.hunt_parallel, 3);
        assert_eq!(opts.session.command_timeout, None);
        assert_eq!(opts.connect_timeout, Duration::from_secs(300));
        assert_eq!(opts.modes, [ConMode::Secure, ConMode::Crc]);
        assert!(opts.config.is_some());
    }

    #[test]
    fn configured_values_reach_the_session() {
        let cfg = config(&[
            ("mon_client_hunt_interval", "0.5"),
            ("mon_client_hunt_parallel", "0"),
            ("rados_mon_op_timeout", "7"),
            ("client_mount_timeout", "2"),
            ("ms_mon_client_mode", "crc"),
            ("mon_client_directed_command_retry", "4"),
        ]);
        let opts = MonClientOptions::from_config(&cfg, key());
        assert_eq!(opts.session.hunt_interval, Duration::from_millis(500));
        assert_eq!(opts.session.hunt_parallel, 0);
        assert_eq!(opts.session.command_timeout, Some(Duration::from_secs(7)));
        assert_eq!(opts.session.directed_retry, 4);
        assert_eq!(opts.connect_timeout, Duration::from_secs(2));
        assert_eq!(opts.attempt_timeout, Duration::from_secs(2));
        assert_eq!(opts.modes, [ConMode::Crc]);
    }

    #[test]
    fn keepalive_pair_is_kept_consistent() {
        let pace = |o: &[(&str, &str)]| {
            let s = MonClientOptions::from_config(&config(o), key()).session;
            (s.ping_interval, s.ping_timeout)
        };
        let secs = Duration::from_secs_f64;
        assert_eq!(
            pace(&[("mon_client_ping_interval", "4")]),
            (secs(4.0), secs(10.0))
        );
        assert_eq!(
            pace(&[("mon_client_ping_timeout", "20")]),
            (secs(1.0), secs(20.0))
        );
        assert_eq!(
            pace(&[("mon_client_ping_timeout", "1")]),
            (secs(0.4), secs(1.0))
        );
        assert_eq!(
            pace(&[
                ("mon_client_ping_interval", "10"),
                ("mon_client_ping_timeout", "30")
            ]),
            (secs(10.0), secs(30.0))
        );
    }

    #[test]
    fn unusable_values_leave_the_tunables_alone() {
        let defaults = SessionConfig::default();
        let cfg = config(&[
            ("mon_client_hunt_interval_backoff", "nan"),
            ("mon_client_hunt_interval_min_multiple", "20"),
            ("mon_client_hunt_interval_max_multiple", "inf"),
            ("mon_client_ping_interval", "0"),
            ("rados_mon_op_timeout", "9999y"),
        ]);
        let s = MonClientOptions::from_config(&cfg, key()).session;
        assert_eq!(s.hunt_backoff, defaults.hunt_backoff);
        // min 20 alone would exceed max 10: both stay.
        assert_eq!(s.hunt_min_multiple, defaults.hunt_min_multiple);
        assert_eq!(s.hunt_max_multiple, defaults.hunt_max_multiple);
        assert_eq!(s.ping_interval, defaults.ping_interval);
        assert_eq!(s.command_timeout, Some(MAX_CONFIGURED_WAIT));
        let s = MonClientOptions::from_config(
            &config(&[
                ("mon_client_ping_interval", "1"),
                ("mon_client_ping_timeout", "0"),
            ]),
            key(),
        )
        .session;
        assert_eq!(s.ping_timeout, defaults.ping_timeout);
    }

    #[test]
    fn only_picked_options_change() {
        let local = config(&[("rados_mon_op_timeout", "7")]);
        let central = BTreeMap::from([
            ("rados_mon_op_timeout".to_string(), "99".to_string()),
            ("mon_client_hunt_interval".to_string(), "6".to_string()),
        ]);
        let (eff, _) = local.with_mon_values(&central);
        let mut session = SessionConfig {
            hunt_parallel: 1,
            ..SessionConfig::default()
        };
        apply_to_session(&mut session, &eff, |o| {
            eff.source(o) == Some(OptionSource::Mon)
        });
        // The command line's timeout stands; the monitors' hunt interval
        // applies; what a program set by hand and nobody configured stays.
        assert_eq!(session.command_timeout, None);
        assert_eq!(session.hunt_interval, Duration::from_secs(6));
        assert_eq!(session.hunt_parallel, 1);
    }
}
