//! From Ceph configuration ([`ClientConfig`]) to the client's options, at
//! start and again whenever the monitors send their central configuration
//! for this client (MConfig): a monitor value takes effect for an option
//! that neither the conf file nor the command line set, as in C++ clients.

use std::time::Duration;

use ceph_auth::CryptoKey;
use ceph_config::{ClientConfig, ConnectionMode, OptionSource};
use ceph_msgr::frame::ConMode;

use crate::client::MonClientOptions;
use crate::core::SessionConfig;

/// Our keepalive pace when neither ping option is set: Ceph's defaults
/// (10 s / 30 s) leave a dead monitor unnoticed for half a minute; the
/// monitor's messenger acks KEEPALIVE2 itself, so a short period is cheap
/// and safe (see the core's module docs).
const QUICK_PING_INTERVAL: Duration = Duration::from_secs(1);
/// Silence tolerated, as a multiple of the ping interval, when only the
/// interval is set.
const PING_TIMEOUT_PER_INTERVAL: f64 = 2.5;

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
        opts.connect_timeout = wait(cfg.client_mount_timeout);
        opts.attempt_timeout = opts.attempt_timeout.min(opts.connect_timeout);
        opts.session.hostname = ceph_config::short_hostname();
        apply_to_session(&mut opts.session, cfg, |_| true);
        opts.modes = con_modes(cfg);
        opts.config = Some(cfg.clone());
        opts
    }
}

/// The connection modes to offer monitors, preferred first.
pub(crate) fn con_modes(cfg: &ClientConfig) -> Vec<ConMode> {
    cfg.ms_mon_client_mode
        .iter()
        .map(|m| match m {
            ConnectionMode::Crc => ConMode::Crc,
            ConnectionMode::Secure => ConMode::Secure,
        })
        .collect()
}

/// Longest period or timeout taken from configuration (ten years): longer
/// values mean "never" and must not overflow clock arithmetic.
const MAX_CONFIGURED_WAIT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Largest hunt multiple or backoff factor taken from configuration.
const MAX_CONFIGURED_FACTOR: f64 = 1e6;

fn wait(d: Duration) -> Duration {
    d.min(MAX_CONFIGURED_WAIT)
}

/// A factor the hunting arithmetic can use, or `None` (NaN, infinite,
/// zero, negative or absurdly large values are ignored).
fn factor(f: f64) -> Option<f64> {
    (f.is_finite() && f > 0.0 && f <= MAX_CONFIGURED_FACTOR).then_some(f)
}

/// Sets the session tunables whose option `pick` selects (by name) from
/// `cfg`. The keepalive pair is set together, when either is picked.
/// Values the state machine cannot use (a NaN factor, a minimum multiple
/// above the maximum) leave the tunable as it was.
pub(crate) fn apply_to_session(
    session: &mut SessionConfig,
    cfg: &ClientConfig,
    pick: impl Fn(&str) -> bool,
) {
    if pick("mon_client_hunt_interval") && !cfg.mon_client_hunt_interval.is_zero() {
        session.hunt_interval = wait(cfg.mon_client_hunt_interval);
    }
    if pick("mon_client_hunt_interval_backoff") {
        if let Some(f) = factor(cfg.mon_client_hunt_interval_backoff) {
            session.hunt_backoff = f;
        }
    }
    let mut min = session.hunt_min_multiple;
    let mut max = session.hunt_max_multiple;
    if pick("mon_client_hunt_interval_min_multiple") {
        min = factor(cfg.mon_client_hunt_interval_min_multiple).unwrap_or(min);
    }
    if pick("mon_client_hunt_interval_max_multiple") {
        max = factor(cfg.mon_client_hunt_interval_max_multiple).unwrap_or(max);
    }
    if min <= max {
        session.hunt_min_multiple = min;
        session.hunt_max_multiple = max;
    }
    if pick("mon_client_hunt_parallel") {
        session.hunt_parallel = usize::try_from(cfg.mon_client_hunt_parallel).unwrap_or(0);
    }
    if pick("mon_client_log_interval") {
        session.log_interval = wait(cfg.mon_client_log_interval);
    }
    if pick("mon_client_directed_command_retry") {
        session.directed_retry =
            u32::try_from(cfg.mon_client_directed_command_retry.max(0)).unwrap_or(u32::MAX);
    }
    if pick("rados_mon_op_timeout") {
        session.command_timeout = Some(wait(cfg.rados_mon_op_timeout)).filter(|t| !t.is_zero());
    }
    if pick("mon_client_ping_interval") || pick("mon_client_ping_timeout") {
        if let Some((interval, timeout)) = keepalive(cfg) {
            // A zero period or timeout would drop every session at once.
            if !interval.is_zero() && !timeout.is_zero() {
                session.ping_interval = wait(interval);
                session.ping_timeout = wait(timeout);
            }
        }
    }
}

/// The keepalive interval and timeout `cfg` asks for, or `None` when it
/// sets neither (our quicker defaults stay). Only one set: the other is
/// derived so that a timeout always spans a few intervals.
fn keepalive(cfg: &ClientConfig) -> Option<(Duration, Duration)> {
    let set = |o: &str| cfg.source(o).is_some_and(|s| s != OptionSource::Default);
    let interval = cfg.mon_client_ping_interval;
    let timeout = cfg.mon_client_ping_timeout;
    match (
        set("mon_client_ping_interval"),
        set("mon_client_ping_timeout"),
    ) {
        (false, false) => None,
        (true, true) => Some((interval, timeout)),
        (true, false) => Some((interval, interval.mul_f64(PING_TIMEOUT_PER_INTERVAL))),
        (false, true) => Some((
            QUICK_PING_INTERVAL.min(timeout.div_f64(PING_TIMEOUT_PER_INTERVAL)),
            timeout,
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ceph_config::{ConfigSources, Environment};

    use super::*;

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
