//! From Ceph configuration ([`ClientConfig`]) to the session's tunables and
//! connection modes, at start ([`crate::MonClientOptions::from_config`])
//! and again whenever the monitors send their central configuration for
//! this client (MConfig, see `central.rs`): a monitor value takes effect
//! for an option that neither the conf file nor the command line set, as
//! in C++ clients.

use std::time::Duration;

use ceph_config::{ClientConfig, ConnectionMode, OptionSource};
use ceph_msgr::frame::ConMode;

use super::SessionConfig;

/// Our keepalive pace when neither ping option is set: Ceph's defaults
/// (10 s / 30 s) leave a dead monitor unnoticed for half a minute; the
/// monitor's messenger acks KEEPALIVE2 itself, so a short period is cheap
/// and safe (see the core's module docs).
const QUICK_PING_INTERVAL: Duration = Duration::from_secs(1);
/// Silence tolerated, as a multiple of the ping interval, when only the
/// interval is set.
const PING_TIMEOUT_PER_INTERVAL: f64 = 2.5;

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
pub(crate) const MAX_CONFIGURED_WAIT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Largest hunt multiple or backoff factor taken from configuration.
const MAX_CONFIGURED_FACTOR: f64 = 1e6;

pub(crate) fn wait(d: Duration) -> Duration {
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
