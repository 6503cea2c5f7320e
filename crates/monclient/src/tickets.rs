//! Keeping CephX tickets fresh over an established session: when a ticket
//! passes its renew point (three quarters of its validity), ask the
//! monitor for new ones with an MAuth, at most once per `MIN_INTERVAL` so
//! a failing monitor sees no storm of requests.

use std::time::{Duration, Instant, SystemTime};

use ceph_auth::client::{AUTH_METHOD_CEPHX, SERVICE_AUTH};
use ceph_auth::CephxClient;

use crate::messages::AuthReply;

/// Never more than one ticket request per this interval.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Decides when to renew tickets and handles the monitor's answers.
#[derive(Debug, Default)]
pub(crate) struct TicketKeeper {
    last_request: Option<Instant>,
    /// Failures in a row, for logging without flooding.
    failures: u32,
}

impl TicketKeeper {
    /// When `poll` should run next, given the tickets `cephx` holds.
    pub fn next_check(&self, cephx: &CephxClient, now: Instant) -> Instant {
        let wall = SystemTime::now();
        let due = [SERVICE_AUTH, 0x01, 0x04, 0x10]
            .iter()
            .filter_map(|s| cephx.ticket(*s))
            .map(|t| t.renew_after.duration_since(wall).unwrap_or_default())
            .min()
            .unwrap_or(Duration::from_secs(60));
        let earliest = self.last_request.map_or(now, |t| t + MIN_INTERVAL);
        (now + due).max(earliest)
    }

    /// The MAuth payload to send now, if any ticket needs renewal.
    pub fn poll(&mut self, cephx: &mut CephxClient, now: Instant) -> Option<(u32, Vec<u8>)> {
        if self.last_request.is_some_and(|t| now < t + MIN_INTERVAL) {
            return None;
        }
        let need = cephx.need_tickets();
        // The auth ticket itself is renewed by a fresh handshake when the
        // session is re-established; here we refresh the service tickets
        // it lets us ask for.
        let services = need & !SERVICE_AUTH;
        if services == 0 {
            return None;
        }
        match cephx.build_service_ticket_request(services) {
            Ok(payload) => {
                self.last_request = Some(now);
                tracing::debug!(
                    services = format_args!("{services:#x}"),
                    "renewing service tickets"
                );
                Some((AUTH_METHOD_CEPHX, payload))
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot build a ticket request");
                self.last_request = Some(now);
                None
            }
        }
    }

    /// An MAuthReply arrived on the session.
    pub fn handle_reply(&mut self, cephx: &mut CephxClient, reply: &AuthReply) {
        if reply.result < 0 {
            self.failures += 1;
            if self.failures.is_power_of_two() {
                tracing::warn!(result = reply.result, message = %reply.message, failures = self.failures, "ticket renewal refused");
            }
            return;
        }
        match cephx.handle_service_ticket_reply(&reply.payload) {
            Ok(services) => {
                self.failures = 0;
                tracing::debug!(?services, "tickets renewed");
            }
            Err(e) => {
                self.failures += 1;
                tracing::warn!(error = %e, "bad ticket renewal reply");
            }
        }
    }
}
