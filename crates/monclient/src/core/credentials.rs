//! The core's CephX state: which client authenticates each connection
//! attempt, the current session's tickets, and when to renew them and the
//! rotating secrets (see [`crate::tickets`]). The driver only runs the
//! handshake with the client it is handed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ceph_auth::{Authorizer, CephxClient, CryptoKey, RotatingSecrets};
use ceph_types::EntityName;

use super::{ConnId, Core};
use crate::error::MonError;
use crate::messages::AuthReply;
use crate::tickets::{RenewalCounts, TicketKeeper};

/// Services to get tickets for along with authentication.
const WANT_SERVICES: u32 = 0x01 | 0x04 | 0x10; // mon, osd, mgr

/// Who we are and what CephX holds for us.
pub(super) struct Credentials {
    name: EntityName,
    key: CryptoKey,
    /// The current session's client (global id and tickets); `None`
    /// before the first session, or after the monitors refused our expired
    /// ticket, so that the next attempt starts afresh.
    session: Option<CephxClient>,
    keeper: TicketKeeper,
    /// When the keeper wants to look again (while a session is up).
    due: Option<Instant>,
}

impl Core {
    /// Gives the core our identity and key, so it can hand out CephX
    /// clients for connection attempts and keep tickets fresh.
    /// `service_ticket_ttl` is `auth_service_ticket_ttl` (daemons judge
    /// their rotating secrets against it).
    pub fn with_credentials(
        mut self,
        name: EntityName,
        key: CryptoKey,
        service_ticket_ttl: Duration,
    ) -> Self {
        let keeper = TicketKeeper::new(&name, service_ticket_ttl);
        self.credentials = Some(Credentials {
            name,
            key,
            session: None,
            keeper,
            due: None,
        });
        self
    }

    /// The CephX client to authenticate a new connection with: one that
    /// carries the last session's tickets, so the monitor lets it keep our
    /// global id (secure global_id reclaim), or a fresh one. `None` when
    /// the core was built without credentials.
    pub fn auth_for_attempt(&self) -> Option<CephxClient> {
        let c = self.credentials.as_ref()?;
        Some(match &c.session {
            Some(client) => client.fork(),
            None => CephxClient::new(c.name.clone(), c.key.clone()).with_want_keys(WANT_SERVICES),
        })
    }

    /// The CephX client that authenticated `conn`; kept if `conn` is the
    /// session now (an attempt that lost the race is dropped).
    pub fn handle_authenticated(&mut self, conn: ConnId, client: CephxClient, now: Instant) {
        if self.active_conn() != Some(conn) {
            return;
        }
        if let Some(c) = self.credentials.as_mut() {
            c.session = Some(client);
        }
        self.refresh_credentials_due(now);
    }

    /// After the monitor refused our expired auth ticket, the next attempt
    /// authenticates afresh (and gets a new global id) instead of
    /// presenting it again.
    pub(super) fn forget_expired_ticket(&mut self, why: &MonError) {
        if !matches!(why, MonError::TicketExpired(_)) {
            return;
        }
        if let Some(c) = self.credentials.as_mut() {
            if c.session.take().is_some() {
                tracing::warn!("auth ticket expired and refused; authenticating afresh");
            }
        }
    }

    /// When tickets or rotating secrets are next due, while a session is up.
    pub(super) fn credentials_deadline(&self) -> Option<Instant> {
        self.active.as_ref()?;
        self.credentials.as_ref()?.due
    }

    fn refresh_credentials_due(&mut self, now: Instant) {
        if let Some(c) = self.credentials.as_mut() {
            c.due = c.session.as_ref().map(|s| c.keeper.next_check(s, now));
        }
    }

    /// Asks for fresh tickets (and rotating secrets) over the session when
    /// some are due.
    pub(super) fn renew_credentials(&mut self, now: Instant) {
        if self.active.is_none() {
            return;
        }
        let Some(c) = self.credentials.as_mut() else {
            return;
        };
        let Some(client) = c.session.as_mut() else {
            return;
        };
        let due = c.keeper.poll(client, now);
        for (protocol, payload) in due {
            self.send_auth(protocol, payload);
        }
        self.refresh_credentials_due(now);
    }

    /// An MAuthReply arrived on the session.
    pub(super) fn on_auth_reply(&mut self, reply: &AuthReply, now: Instant) {
        if let Some(c) = self.credentials.as_mut() {
            if let Some(client) = c.session.as_mut() {
                c.keeper.handle_reply(client, reply);
            }
        }
        self.refresh_credentials_due(now);
    }

    /// An authorizer for a connection to a daemon of `service_id` (an
    /// entity-type bit: `SERVICE_OSD`, `SERVICE_MGR`, `SERVICE_MDS`), built
    /// from the session's valid ticket for it. `Ok(None)` when there is no
    /// such ticket yet: the service is added to those we keep tickets for
    /// and a request goes out, so asking again once the renewal counts move
    /// succeeds. Fails only without credentials.
    pub fn authorizer(
        &mut self,
        service_id: u32,
        now: Instant,
    ) -> Result<Option<Authorizer>, MonError> {
        let Some(c) = self.credentials.as_mut() else {
            return Err(MonError::Config(
                "the monitor client has no credentials to build an authorizer with".into(),
            ));
        };
        let Some(client) = c.session.as_mut() else {
            return Ok(None);
        };
        let valid = client
            .ticket(service_id)
            .is_some_and(|t| t.is_valid(std::time::SystemTime::now()));
        if valid {
            return client
                .build_authorizer(service_id)
                .map(Some)
                .map_err(|e| MonError::Protocol(format!("building an authorizer: {e}")));
        }
        if client.want_keys() & service_id == 0 {
            client.add_want_keys(service_id);
        }
        self.renew_credentials(now);
        Ok(None)
    }

    /// The rotating secrets held (daemon entities only).
    pub fn rotating_secrets(&self) -> Option<Arc<RotatingSecrets>> {
        self.credentials.as_ref()?.keeper.rotating_secrets()
    }

    /// Set when rotating secrets arrived already expired by our clock.
    pub fn clock_skew(&self) -> Option<String> {
        self.credentials.as_ref()?.keeper.clock_skew()
    }

    /// Renewals done over sessions so far.
    pub fn renewals(&self) -> RenewalCounts {
        self.credentials
            .as_ref()
            .map(|c| c.keeper.counts())
            .unwrap_or_default()
    }

    /// Bumped whenever rotating secrets, clock skew or renewal counts change.
    pub fn credentials_generation(&self) -> u64 {
        self.credentials
            .as_ref()
            .map_or(0, |c| c.keeper.generation())
    }
}
