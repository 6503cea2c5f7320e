//! Keeping CephX credentials fresh over an established session:
//!
//! - tickets: when one passes its renew point (three quarters of its
//!   validity), ask the monitor with an MAuth: the auth ticket itself with
//!   `GET_AUTH_SESSION_KEY` (answering the session's challenge; the service
//!   tickets come with it), otherwise the service tickets with
//!   `GET_PRINCIPAL_SESSION_KEY`;
//! - rotating secrets (daemon entities only: OSD, MDS, manager): ask with
//!   `GET_ROTATING_KEY` while the set is incomplete or its current secret
//!   expired before the cutoff, `now - min(30 s, service ticket TTL / 4)`
//!   (the rule of the C++ MonClient).
//!
//! Each kind sends at most one request per `MIN_INTERVAL`, so a failing
//! monitor sees no storm; failures are logged at powers of two.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ceph_auth::client::{
    AUTH_METHOD_CEPHX, SERVICE_AUTH, SERVICE_MDS, SERVICE_MGR, SERVICE_MON, SERVICE_OSD,
};
use ceph_auth::{AuthError, CephxClient, RenewalReply, RotatingSecrets};
use ceph_types::{EntityName, EntityType};

use crate::messages::AuthReply;

/// Never more than one request of a kind per this interval.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// When nothing is due, look again after this long.
const IDLE_CHECK: Duration = Duration::from_secs(60);

/// True for the entity types that need rotating service secrets.
pub fn needs_rotating_secrets(name: &EntityName) -> bool {
    matches!(name.ty, EntityType::Osd | EntityType::Mds | EntityType::Mgr)
}

/// How long past its expiration the current rotating secret is still
/// acceptable: `min(30 s, ttl / 4)`.
pub fn rotating_margin(service_ticket_ttl: Duration) -> Duration {
    (service_ticket_ttl / 4).min(Duration::from_secs(30))
}

/// Counters of what the keeper did, for `Status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenewalCounts {
    /// Auth tickets renewed in-session.
    pub auth_tickets: u64,
    /// Service-ticket replies handled.
    pub service_tickets: u64,
    /// Rotating-secret sets received.
    pub rotating: u64,
    /// Renewal requests refused or unreadable.
    pub failures: u64,
}

/// Decides when to renew and handles the monitor's answers.
#[derive(Debug, Default)]
pub(crate) struct TicketKeeper {
    last_ticket_request: Option<Instant>,
    last_rotating_request: Option<Instant>,
    /// Failures in a row, for logging without flooding.
    failures: u32,
    /// `Some` for daemon entities.
    rotating: Option<RotatingState>,
    counts: RenewalCounts,
    /// Bumped whenever something `Status` shows changes.
    generation: u64,
}

#[derive(Debug)]
struct RotatingState {
    margin: Duration,
    secrets: Option<Arc<RotatingSecrets>>,
    clock_skew: Option<String>,
}

impl TicketKeeper {
    /// A keeper for `name`: daemons also keep rotating secrets, judged
    /// against `service_ticket_ttl` (`auth_service_ticket_ttl`).
    pub fn new(name: &EntityName, service_ticket_ttl: Duration) -> Self {
        TicketKeeper {
            rotating: needs_rotating_secrets(name).then(|| RotatingState {
                margin: rotating_margin(service_ticket_ttl),
                secrets: None,
                clock_skew: None,
            }),
            ..TicketKeeper::default()
        }
    }

    /// The rotating secrets held (daemons only).
    pub fn rotating_secrets(&self) -> Option<Arc<RotatingSecrets>> {
        self.rotating.as_ref().and_then(|r| r.secrets.clone())
    }

    /// Set when rotating secrets arrived already expired by our clock.
    pub fn clock_skew(&self) -> Option<String> {
        self.rotating.as_ref().and_then(|r| r.clock_skew.clone())
    }

    pub fn counts(&self) -> RenewalCounts {
        self.counts
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn rotating_due_in(&self, wall: SystemTime) -> Option<Duration> {
        let r = self.rotating.as_ref()?;
        let cutoff = wall.checked_sub(r.margin).unwrap_or(wall);
        match &r.secrets {
            Some(s) if !s.need_new_secrets(cutoff) => {
                let (_, current) = s.current()?;
                let due = current.expires_at() + r.margin;
                Some(due.duration_since(wall).unwrap_or_default())
            }
            _ => Some(Duration::ZERO),
        }
    }

    /// When `poll` should run next, given the tickets `cephx` holds.
    pub fn next_check(&self, cephx: &CephxClient, now: Instant) -> Instant {
        let wall = SystemTime::now();
        // A wanted service without a ticket (one asked for on demand, such
        // as the MDS's) is due at once.
        let missing = [SERVICE_MON, SERVICE_OSD, SERVICE_MGR, SERVICE_MDS]
            .iter()
            .any(|s| cephx.want_keys() & s != 0 && cephx.ticket(*s).is_none());
        let ticket_due = [
            SERVICE_AUTH,
            SERVICE_MON,
            SERVICE_OSD,
            SERVICE_MGR,
            SERVICE_MDS,
        ]
        .iter()
        .filter_map(|s| cephx.ticket(*s))
        .map(|t| t.renew_after.duration_since(wall).unwrap_or_default())
        .min()
        .unwrap_or(IDLE_CHECK);
        let ticket_due = if missing { Duration::ZERO } else { ticket_due };
        let ticket_at =
            (now + ticket_due).max(self.last_ticket_request.map_or(now, |t| t + MIN_INTERVAL));
        match self.rotating_due_in(wall) {
            Some(due) => {
                let rotating_at =
                    (now + due).max(self.last_rotating_request.map_or(now, |t| t + MIN_INTERVAL));
                ticket_at.min(rotating_at)
            }
            None => ticket_at,
        }
    }

    /// The MAuth payloads (protocol, payload) to send now: a ticket request
    /// if any ticket needs renewal, a rotating-secrets request if due.
    pub fn poll(&mut self, cephx: &mut CephxClient, now: Instant) -> Vec<(u32, Vec<u8>)> {
        let mut out = Vec::new();
        let may_send = |last: Option<Instant>| !matches!(last, Some(t) if now < t + MIN_INTERVAL);
        if may_send(self.last_ticket_request) {
            let need = cephx.need_tickets();
            let built = if need & SERVICE_AUTH != 0 {
                tracing::debug!("renewing the auth ticket over the session");
                Some(cephx.build_auth_ticket_request())
            } else if need != 0 {
                tracing::debug!(
                    services = format_args!("{need:#x}"),
                    "renewing service tickets"
                );
                Some(cephx.build_service_ticket_request(need))
            } else {
                None
            };
            if let Some(built) = built {
                self.last_ticket_request = Some(now);
                match built {
                    Ok(payload) => out.push((AUTH_METHOD_CEPHX, payload)),
                    Err(e) => tracing::warn!(error = %e, "cannot build a ticket request"),
                }
            }
        }
        if may_send(self.last_rotating_request)
            && self.rotating_due_in(SystemTime::now()) == Some(Duration::ZERO)
        {
            tracing::debug!("asking for rotating service secrets");
            self.last_rotating_request = Some(now);
            out.push((AUTH_METHOD_CEPHX, cephx.build_rotating_request()));
        }
        out
    }

    fn failed(&mut self, what: &str, detail: &dyn std::fmt::Display) {
        self.failures += 1;
        self.counts.failures += 1;
        self.generation += 1;
        if self.failures.is_power_of_two() {
            tracing::warn!(failures = self.failures, %detail, "{what}");
        }
    }

    /// An MAuthReply arrived on the session.
    pub fn handle_reply(&mut self, cephx: &mut CephxClient, reply: &AuthReply) {
        if reply.result < 0 {
            let detail = format!("result {} {:?}", reply.result, reply.message);
            self.failed("ticket or key renewal refused by the monitor", &detail);
            return;
        }
        match cephx.handle_mauth_reply(&reply.payload) {
            Ok(RenewalReply::AuthTicket { services }) => {
                self.failures = 0;
                self.counts.auth_tickets += 1;
                self.generation += 1;
                tracing::debug!(?services, "auth ticket renewed");
            }
            Ok(RenewalReply::ServiceTickets { services }) => {
                self.failures = 0;
                self.counts.service_tickets += 1;
                self.generation += 1;
                tracing::debug!(?services, "service tickets renewed");
            }
            Ok(RenewalReply::RotatingSecrets(secrets)) => self.store_rotating(secrets),
            Err(AuthError::PermissionDenied(status)) => {
                self.failed("ticket or key renewal refused by the monitor", &status)
            }
            Err(e) => self.failed("unreadable ticket or key renewal reply", &e),
        }
    }

    fn store_rotating(&mut self, secrets: RotatingSecrets) {
        let Some(r) = self.rotating.as_mut() else {
            tracing::debug!("rotating secrets we did not ask for, ignored");
            return;
        };
        self.failures = 0;
        self.counts.rotating += 1;
        self.generation += 1;
        let wall = SystemTime::now();
        let cutoff = wall.checked_sub(r.margin).unwrap_or(wall);
        // The monitor just issued these: if the current one is already past
        // the cutoff by our clock, one of the clocks is wrong.
        r.clock_skew = if secrets.secrets.len() >= ceph_auth::rotating::ROTATING_SET_SIZE
            && secrets.need_new_secrets(cutoff)
        {
            let expired = secrets
                .current()
                .map(|(_, k)| k.expiration.to_iso8601_utc())
                .unwrap_or_default();
            let msg = format!(
                "rotating keys arrived already expired (current one expired at {expired}, our \
                 clock says {}): check the clocks of this host and the monitors",
                ceph_types::UTime::from(wall).to_iso8601_utc()
            );
            tracing::warn!("{msg}");
            Some(msg)
        } else {
            None
        };
        tracing::debug!(
            ids = ?secrets.secrets.keys().collect::<Vec<_>>(),
            "rotating secrets received"
        );
        r.secrets = Some(Arc::new(secrets));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_margin_follows_the_cpp_rule() {
        assert_eq!(
            rotating_margin(Duration::from_secs(3600)),
            Duration::from_secs(30)
        );
        assert_eq!(
            rotating_margin(Duration::from_secs(60)),
            Duration::from_secs(15)
        );
    }

    #[test]
    fn only_daemons_keep_rotating_secrets() {
        for (name, want) in [
            ("osd.0", true),
            ("mds.a", true),
            ("mgr.x", true),
            ("client.admin", false),
            ("mon.a", false),
        ] {
            let n: EntityName = name.parse().unwrap();
            assert_eq!(needs_rotating_secrets(&n), want, "{name}");
        }
    }

    #[test]
    fn rotating_requests_are_rate_limited() {
        let name: EntityName = "osd.1".parse().unwrap();
        let key = ceph_auth::CryptoKey::new(1, Default::default(), vec![1; 16]);
        let mut cephx = CephxClient::new(name.clone(), key).with_want_keys(0);
        let mut keeper = TicketKeeper::new(&name, Duration::from_secs(60));
        let t0 = Instant::now();
        // No auth ticket yet: the ticket request fails to build (no session)
        // but the rotating one goes out, once per second at most.
        let first = keeper.poll(&mut cephx, t0);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].1, cephx.build_rotating_request());
        assert!(keeper
            .poll(&mut cephx, t0 + Duration::from_millis(500))
            .is_empty());
        assert_eq!(
            keeper
                .poll(&mut cephx, t0 + Duration::from_millis(1000))
                .len(),
            1
        );
        assert!(
            keeper.next_check(&cephx, t0 + Duration::from_millis(1000))
                >= t0 + Duration::from_secs(2)
        );
    }
}
