//! The client half of a CephX exchange, as a state machine without I/O.
//!
//! Over msgr2 the MonClient drives it like this (each payload is the
//! `auth_payload` field of the named frame):
//!
//! 1. AUTH_REQUEST carries [`CephxClient::initial_auth_payload`];
//! 2. AUTH_REPLY_MORE (the server challenge) goes to
//!    [`CephxClient::handle_reply_more`], whose result goes out in
//!    AUTH_REQUEST_MORE;
//! 3. AUTH_DONE goes to [`CephxClient::handle_done`], which yields the
//!    session key, the connection secret and the tickets.
//!
//! Later, over the authenticated session, tickets for more services are
//! fetched with [`CephxClient::build_service_ticket_request`] and
//! [`CephxClient::handle_service_ticket_reply`] (MAuth / MAuthReply), and
//! connections to OSDs and MGRs present an [`Authorizer`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use ceph_denc::{Blob, Decode, Decoder, Encode};

use crate::crypto::{
    challenge_key, decode_decrypt, decrypt_payload, encode_encrypt, CryptoKey, KEY_USAGE_AUTHORIZE,
    KEY_USAGE_AUTHORIZE_CHALLENGE, KEY_USAGE_AUTHORIZE_REPLY, KEY_USAGE_AUTH_CONNECTION_SECRET,
    KEY_USAGE_ROTATING_SECRET, KEY_USAGE_TICKET_BLOB, KEY_USAGE_TICKET_SESSION_KEY,
};
use crate::error::{AuthError, Result};
use crate::rotating::RotatingSecrets;
use crate::types::*;
use crate::{EntityName, UTime};

/// Entity-type bit of the monitors (also a service id).
pub const SERVICE_MON: u32 = 0x01;
/// Entity-type bit of the MDSs.
pub const SERVICE_MDS: u32 = 0x02;
/// Entity-type bit of the OSDs.
pub const SERVICE_OSD: u32 = 0x04;
/// Entity-type bit of the managers.
pub const SERVICE_MGR: u32 = 0x10;
/// Entity-type bit of the auth service itself (the "auth ticket").
pub const SERVICE_AUTH: u32 = 0x20;
/// The msgr2 auth method number of CephX.
pub const AUTH_METHOD_CEPHX: u32 = 2;

/// First byte of a monitor authentication payload (`AUTH_MODE_MON`); the
/// range 10..=19 marks "authenticating to a monitor", 1..=9 an authorizer.
pub const AUTH_MODE_MON: u8 = 10;
/// First byte of an authorizer (`AUTH_MODE_AUTHORIZER`).
pub const AUTH_MODE_AUTHORIZER: u8 = 1;

/// The `auth_payload` a client puts in its msgr2 AUTH_REQUEST for CephX:
/// the mode byte [`AUTH_MODE_MON`], the entity name and the global id it
/// had (0 if none), which the monitor may let it reclaim.
///
/// ```
/// use ceph_auth::{client::initial_auth_payload, EntityName};
/// let name = "client.admin".parse::<EntityName>().unwrap();
/// let p = initial_auth_payload(&name, 0);
/// assert_eq!(p[0], 10);
/// assert_eq!(p.len(), 1 + 4 + 4 + 5 + 8);
/// ```
pub fn initial_auth_payload(name: &EntityName, global_id: u64) -> Vec<u8> {
    let mut out = vec![AUTH_MODE_MON];
    name.encode(&mut out, 0);
    global_id.encode(&mut out, 0);
    out
}

/// A ticket for one service, with its session key and validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTicket {
    /// The service's entity-type bit (`SERVICE_MON`, ...).
    pub service_id: u32,
    /// The key shared with the service for this ticket.
    pub session_key: CryptoKey,
    /// The ticket to present, opaque to the client.
    pub ticket: CephXTicketBlob,
    /// How long the ticket is valid from when it was received.
    pub validity: Duration,
    /// When it stops being valid.
    pub expires: SystemTime,
    /// When to ask for a new one: three quarters into the validity.
    pub renew_after: SystemTime,
}

impl ServiceTicket {
    /// True until the ticket expires.
    pub fn is_valid(&self, now: SystemTime) -> bool {
        now < self.expires
    }

    /// True once it is time to renew.
    pub fn needs_renewal(&self, now: SystemTime) -> bool {
        now >= self.renew_after
    }
}

/// What a completed authentication yields.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthOutcome {
    /// The global id the monitor assigned (from the AUTH_DONE frame).
    pub global_id: u64,
    /// The auth ticket's session key: msgr2 keys its AUTH_SIGNATURE HMAC
    /// with this.
    pub session_key: CryptoKey,
    /// Secret for msgr2 secure mode (empty in crc mode).
    pub connection_secret: Vec<u8>,
    /// Every ticket received in this reply, by service id (always
    /// `SERVICE_AUTH`, plus those asked for in `other_keys`).
    pub tickets: BTreeMap<u32, ServiceTicket>,
}

impl std::fmt::Debug for AuthOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthOutcome")
            .field("global_id", &self.global_id)
            .field("session_key", &self.session_key)
            .field("connection_secret", &"<redacted>")
            .field("tickets", &self.tickets)
            .finish()
    }
}

/// An authorizer for a connection to a service (OSD, MGR, ...), with what
/// is needed to answer the service's challenge and check its reply.
#[derive(Clone)]
pub struct Authorizer {
    /// The service it is for.
    pub service_id: u32,
    /// The bytes to send (msgr2 AUTH_REQUEST `auth_payload`).
    pub payload: Vec<u8>,
    nonce: u64,
    session_key: CryptoKey,
    /// The unencrypted part (version, global id, service, ticket), kept to
    /// rebuild the payload when challenged.
    base: Vec<u8>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("service_id", &self.service_id)
            .field("payload", &format_args!("<{} bytes>", self.payload.len()))
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// The ticket session key, which keys this connection's signatures.
    pub fn session_key(&self) -> &CryptoKey {
        &self.session_key
    }

    /// Answers a `CephXAuthorizeChallenge` (the AUTH_REPLY_MORE payload of
    /// an authorizer exchange): rebuilds [`Authorizer::payload`] with the
    /// challenge plus one.
    pub fn add_challenge(&mut self, challenge: &[u8]) -> Result<()> {
        let mut msg = CephXAuthorize {
            nonce: self.nonce,
            ..CephXAuthorize::default()
        };
        if !challenge.is_empty() {
            let ch: CephXAuthorizeChallenge =
                decrypt_payload(&self.session_key, KEY_USAGE_AUTHORIZE_CHALLENGE, challenge)?;
            msg.have_challenge = true;
            msg.server_challenge_plus_one = ch.server_challenge.wrapping_add(1);
        }
        let mut payload = self.base.clone();
        encode_encrypt(&self.session_key, KEY_USAGE_AUTHORIZE, &msg, &mut payload)?;
        self.payload = payload;
        Ok(())
    }

    /// Checks the service's final reply and returns the connection secret
    /// it carries (empty if none).
    pub fn verify_reply(&self, reply: &[u8]) -> Result<Vec<u8>> {
        let mut d = Decoder::new(reply);
        let r: CephXAuthorizeReply =
            decode_decrypt(&self.session_key, KEY_USAGE_AUTHORIZE_REPLY, &mut d)?;
        if r.nonce_plus_one != self.nonce.wrapping_add(1) {
            return Err(AuthError::BadKey("authorizer reply nonce mismatch".into()));
        }
        Ok(r.connection_secret)
    }
}

/// What an MAuthReply on an established session carried, once handled by
/// [`CephxClient::handle_mauth_reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewalReply {
    /// A new auth ticket (and the service tickets that came with it).
    AuthTicket {
        /// Service ids (entity-type bits) of the tickets that came along.
        services: Vec<u32>,
    },
    /// New service tickets.
    ServiceTickets {
        /// Their service ids (entity-type bits).
        services: Vec<u32>,
    },
    /// The rotating secrets of our service type (daemons only); `Debug`
    /// redacts the keys.
    RotatingSecrets(RotatingSecrets),
}

/// Source of the client's random values (challenges, nonces).
pub type RandomSource = Box<dyn FnMut() -> u64 + Send>;
/// Source of the current time, for ticket expiry.
pub type Clock = Box<dyn Fn() -> SystemTime + Send>;

/// The CephX client state: our name and key, the tickets we hold.
///
/// ```
/// use ceph_auth::{CephxClient, CryptoKey, EntityName};
/// let key = CryptoKey::from_base64("AQCtgwprcghQMhAAzlSVz8lamy41d8MITlpQAg==").unwrap();
/// let mut client = CephxClient::new("client.admin".parse::<EntityName>().unwrap(), key)
///     .with_random(Box::new(|| 42));
/// let _auth_request = client.initial_auth_payload();
/// // The monitor's challenge: struct_v 1, u64 challenge.
/// let more = client.handle_reply_more(&[1, 1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
/// assert_eq!(&more[..2], &[0x00, 0x01]); // CEPHX_GET_AUTH_SESSION_KEY
/// ```
pub struct CephxClient {
    name: EntityName,
    key: CryptoKey,
    want_keys: u32,
    global_id: u64,
    server_challenge: Option<u64>,
    /// The challenge of the handshake that opened the current session: the
    /// monitor checks in-session auth ticket renewals against it.
    session_challenge: Option<u64>,
    tickets: BTreeMap<u32, ServiceTicket>,
    random: RandomSource,
    clock: Clock,
}

impl std::fmt::Debug for CephxClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CephxClient")
            .field("name", &self.name)
            .field("want_keys", &self.want_keys)
            .field("global_id", &self.global_id)
            .field("tickets", &self.tickets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Reads the header of a monitor's reply: the request type it answers (a
/// negative status is the monitor's refusal).
fn reply_header(d: &mut Decoder<'_>) -> Result<u16> {
    let header = CephXResponseHeader::decode(d)?;
    if header.status < 0 {
        return Err(AuthError::PermissionDenied(header.status));
    }
    Ok(header.request_type)
}

/// Reads the header of the reply to an `expected` request (`name` in the
/// error when it answers another).
fn expect_reply(d: &mut Decoder<'_>, expected: u16, name: &str) -> Result<()> {
    let request_type = reply_header(d)?;
    if request_type != expected {
        return Err(AuthError::Malformed(ceph_denc::DecodeError::invalid(
            "CephXResponseHeader.request_type",
            format!("{request_type:#x} in reply to {name}"),
        )));
    }
    Ok(())
}

fn utime_to_duration(t: UTime) -> Duration {
    Duration::new(u64::from(t.sec), t.nsec.min(999_999_999))
}

impl CephxClient {
    /// A client for `name` with its secret `key`, wanting tickets for the
    /// monitors, OSDs and managers, using OS randomness and the system
    /// clock.
    pub fn new(name: EntityName, key: CryptoKey) -> Self {
        CephxClient {
            name,
            key,
            want_keys: SERVICE_MON | SERVICE_OSD | SERVICE_MGR,
            global_id: 0,
            server_challenge: None,
            session_challenge: None,
            tickets: BTreeMap::new(),
            random: Box::new(rand::random::<u64>),
            clock: Box::new(SystemTime::now),
        }
    }

    /// A client for a new connection that carries this one's global id and
    /// tickets, so that the monitor lets it reclaim the global id securely
    /// (it presents the auth ticket as proof). The copy uses OS randomness
    /// and the system clock.
    pub fn fork(&self) -> CephxClient {
        CephxClient {
            name: self.name.clone(),
            key: self.key.clone(),
            want_keys: self.want_keys,
            global_id: self.global_id,
            server_challenge: None,
            session_challenge: None,
            tickets: self.tickets.clone(),
            random: Box::new(rand::random::<u64>),
            clock: Box::new(SystemTime::now),
        }
    }

    /// Replaces the random source (tests inject recorded challenges).
    pub fn with_random(mut self, random: RandomSource) -> Self {
        self.random = random;
        self
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the services (entity-type mask) to get tickets for along with
    /// authentication. The auth ticket is always requested.
    pub fn with_want_keys(mut self, want_keys: u32) -> Self {
        self.want_keys = want_keys;
        self
    }

    /// Adds services (an entity-type mask) to those we keep tickets for:
    /// the next [`CephxClient::need_tickets`] lists them until a ticket
    /// for each arrives.
    pub fn add_want_keys(&mut self, services: u32) {
        self.want_keys |= services;
    }

    /// The services (entity-type mask) we keep tickets for.
    pub fn want_keys(&self) -> u32 {
        self.want_keys
    }

    /// The entity we authenticate as.
    pub fn name(&self) -> &EntityName {
        &self.name
    }

    /// Our global id (0 before the first AUTH_DONE).
    pub fn global_id(&self) -> u64 {
        self.global_id
    }

    /// The AUTH_REQUEST payload, reclaiming our previous global id if any.
    /// Starts a new exchange.
    pub fn initial_auth_payload(&mut self) -> Vec<u8> {
        self.server_challenge = None;
        initial_auth_payload(&self.name, self.global_id)
    }

    /// Takes the AUTH_REPLY_MORE payload (the server challenge) and
    /// returns the AUTH_REQUEST_MORE payload: a `GET_AUTH_SESSION_KEY`
    /// header and a `CephXAuthenticate` proving we hold our key, carrying
    /// our old auth ticket (for global id reclaim) and asking for the
    /// wanted service tickets too.
    pub fn handle_reply_more(&mut self, payload: &[u8]) -> Result<Vec<u8>> {
        let challenge = CephXServerChallenge::decode_all(payload)?;
        self.server_challenge = Some(challenge.server_challenge);
        self.authenticate_request(challenge.server_challenge)
    }

    /// A `GET_AUTH_SESSION_KEY` request answering `server_challenge`.
    fn authenticate_request(&mut self, server_challenge: u64) -> Result<Vec<u8>> {
        let client_challenge = (self.random)();
        let req = CephXAuthenticate {
            struct_v: 3,
            client_challenge,
            key: challenge_key(&self.key, server_challenge, client_challenge)?,
            old_ticket: self
                .tickets
                .get(&SERVICE_AUTH)
                .map(|t| t.ticket.clone())
                .unwrap_or_default(),
            other_keys: self.want_keys | SERVICE_AUTH,
        };
        let mut out = Vec::new();
        CephXRequestHeader {
            request_type: CEPHX_GET_AUTH_SESSION_KEY,
        }
        .encode(&mut out, 0);
        req.encode(&mut out, 0);
        Ok(out)
    }

    /// The MAuth payload renewing the auth ticket over the current session
    /// (and asking for the wanted service tickets with it): the same request
    /// as the handshake's, answering the handshake's server challenge, which
    /// the monitor keeps for the session, and presenting the current auth
    /// ticket. Fails before the session is authenticated.
    pub fn build_auth_ticket_request(&mut self) -> Result<Vec<u8>> {
        let challenge = self
            .session_challenge
            .ok_or(AuthError::State("no authenticated session to renew over"))?;
        self.authenticate_request(challenge)
    }

    /// The MAuth payload asking for the rotating secrets of our own service
    /// type (daemons only: `osd.N`, `mds.N`, `mgr.N`). It carries nothing
    /// but the request type: the session says who we are.
    pub fn build_rotating_request(&self) -> Vec<u8> {
        CephXRequestHeader {
            request_type: CEPHX_GET_ROTATING_KEY,
        }
        .to_bytes(0)
    }

    /// True if we hold an auth ticket and it has expired by our clock.
    pub fn auth_ticket_expired(&self) -> bool {
        let now = (self.clock)();
        self.tickets
            .get(&SERVICE_AUTH)
            .is_some_and(|t| !t.is_valid(now))
    }

    /// Takes any MAuthReply payload of the current session and handles it
    /// according to the request type its header names: a renewed auth
    /// ticket, service tickets, or rotating secrets.
    pub fn handle_mauth_reply(&mut self, payload: &[u8]) -> Result<RenewalReply> {
        let mut d = Decoder::new(payload);
        match reply_header(&mut d)? {
            CEPHX_GET_AUTH_SESSION_KEY => {
                let (services, _secret) = self.read_auth_session_reply(&mut d)?;
                Ok(RenewalReply::AuthTicket { services })
            }
            CEPHX_GET_PRINCIPAL_SESSION_KEY => {
                let session_key = self.auth_session_key()?;
                let services = self.read_ticket_reply(&session_key, &mut d)?;
                Ok(RenewalReply::ServiceTickets { services })
            }
            CEPHX_GET_ROTATING_KEY => {
                let secrets: RotatingSecrets =
                    decode_decrypt(&self.key, KEY_USAGE_ROTATING_SECRET, &mut d)?;
                Ok(RenewalReply::RotatingSecrets(secrets))
            }
            other => Err(AuthError::Malformed(ceph_denc::DecodeError::invalid(
                "CephXResponseHeader.request_type",
                format!("{other:#x} is not a request we make"),
            ))),
        }
    }

    fn auth_session_key(&self) -> Result<CryptoKey> {
        self.tickets
            .get(&SERVICE_AUTH)
            .map(|t| t.session_key.clone())
            .ok_or(AuthError::UnknownService(SERVICE_AUTH))
    }

    /// Takes the AUTH_DONE payload (and the global id from the same
    /// frame): checks the status, decrypts the tickets with our key, then
    /// the connection secret and the extra service tickets with the new
    /// auth session key.
    pub fn handle_done(&mut self, global_id: u64, payload: &[u8]) -> Result<AuthOutcome> {
        if self.server_challenge.is_none() {
            return Err(AuthError::State("AUTH_DONE before the server challenge"));
        }
        let mut d = Decoder::new(payload);
        expect_reply(&mut d, CEPHX_GET_AUTH_SESSION_KEY, "GET_AUTH_SESSION_KEY")?;
        let (received, connection_secret) = self.read_auth_session_reply(&mut d)?;
        let session_key = self.auth_session_key()?;
        self.global_id = global_id;
        self.session_challenge = self.server_challenge.take();
        let tickets = received
            .into_iter()
            .filter_map(|id| self.tickets.get(&id).map(|t| (id, t.clone())))
            .collect();
        Ok(AuthOutcome {
            global_id,
            session_key,
            connection_secret,
            tickets,
        })
    }

    /// Reads the body of a `GET_AUTH_SESSION_KEY` reply (after its header):
    /// the auth ticket under our key, then (Nautilus and later) the
    /// connection secret and the extra service tickets under the new auth
    /// session key. Returns the services received and the secret.
    fn read_auth_session_reply(&mut self, d: &mut Decoder<'_>) -> Result<(Vec<u32>, Vec<u8>)> {
        let key = self.key.clone();
        let mut received = self.read_ticket_reply(&key, d)?;
        let session_key = self.auth_session_key()?;
        let mut connection_secret = Vec::new();
        // Older monitors stop after the auth ticket.
        if !d.is_empty() {
            let secret_bl = d.bytes("connection secret")?;
            let extra = d.bytes("extra tickets")?;
            if !secret_bl.is_empty() {
                let blob: Blob = decode_decrypt(
                    &session_key,
                    KEY_USAGE_AUTH_CONNECTION_SECRET,
                    &mut Decoder::new(secret_bl),
                )?;
                connection_secret = blob.0;
            }
            if !extra.is_empty() {
                let more = self.read_ticket_reply(&session_key, &mut Decoder::new(extra))?;
                received.extend(more);
            }
        }
        Ok((received, connection_secret))
    }

    /// Reads a service ticket reply (version, count, tickets), storing
    /// each ticket; returns the service ids received.
    fn read_ticket_reply(&mut self, secret: &CryptoKey, d: &mut Decoder<'_>) -> Result<Vec<u32>> {
        let _reply_v = d.u8("service ticket reply version")?;
        // Each ticket takes well over 10 bytes; bounds the loop by the input.
        let count = d.count(10, "service ticket count")?;
        let now = (self.clock)();
        let mut received = Vec::with_capacity(count);
        for _ in 0..count {
            let service_id = d.u32("service id")?;
            let _ticket_v = d.u8("service ticket version")?;
            let st: CephXServiceTicket = decode_decrypt(secret, KEY_USAGE_TICKET_SESSION_KEY, d)?;
            let ticket_encrypted = d.bool("ticket encrypted")?;
            let ticket_bl = if ticket_encrypted {
                // A renewed ticket comes encrypted with the previous session key
                // of the same service.
                let old = self
                    .tickets
                    .get(&service_id)
                    .ok_or(AuthError::UnknownService(service_id))?;
                let blob: Blob = decode_decrypt(&old.session_key, KEY_USAGE_TICKET_BLOB, d)?;
                blob.0
            } else {
                d.bytes("service ticket")?.to_vec()
            };
            let ticket = CephXTicketBlob::decode(&mut Decoder::new(&ticket_bl))?;
            let validity = utime_to_duration(st.validity);
            // Renew with a quarter of the validity (whole seconds) left.
            let margin = Duration::from_secs(u64::from(st.validity.sec) / 4);
            // A clock near the end of time must not panic.
            let expires = now.checked_add(validity).unwrap_or(now);
            self.tickets.insert(
                service_id,
                ServiceTicket {
                    service_id,
                    session_key: st.session_key,
                    ticket,
                    validity,
                    expires,
                    renew_after: expires.checked_sub(margin).unwrap_or(now),
                },
            );
            received.push(service_id);
        }
        Ok(received)
    }

    /// The ticket held for `service_id`, if any (valid or not).
    pub fn ticket(&self, service_id: u32) -> Option<&ServiceTicket> {
        self.tickets.get(&service_id)
    }

    /// The services among the wanted ones (and auth) for which we have no
    /// ticket or should renew it now.
    pub fn need_tickets(&self) -> u32 {
        let now = (self.clock)();
        let mask = self.want_keys | SERVICE_AUTH;
        (0..32)
            .map(|b| 1u32 << b)
            .filter(|bit| mask & bit != 0)
            .filter(|bit| match self.tickets.get(bit) {
                Some(t) => t.needs_renewal(now),
                None => true,
            })
            .fold(0, |acc, bit| acc | bit)
    }

    fn authorizer_for(&mut self, service_id: u32) -> Result<Authorizer> {
        let t = self
            .tickets
            .get(&service_id)
            .ok_or(AuthError::UnknownService(service_id))?;
        let mut base = vec![AUTH_MODE_AUTHORIZER];
        self.global_id.encode(&mut base, 0);
        service_id.encode(&mut base, 0);
        t.ticket.encode(&mut base, 0);
        let mut a = Authorizer {
            service_id,
            payload: Vec::new(),
            nonce: (self.random)(),
            session_key: t.session_key.clone(),
            base,
        };
        a.add_challenge(&[])?;
        Ok(a)
    }

    /// The MAuth payload asking for tickets for the services in `wanted`
    /// (an entity-type mask), authenticated with our auth ticket.
    pub fn build_service_ticket_request(&mut self, wanted: u32) -> Result<Vec<u8>> {
        let authorizer = self.authorizer_for(SERVICE_AUTH)?;
        let mut out = Vec::new();
        CephXRequestHeader {
            request_type: CEPHX_GET_PRINCIPAL_SESSION_KEY,
        }
        .encode(&mut out, 0);
        out.extend_from_slice(&authorizer.payload);
        CephXServiceTicketRequest { keys: wanted }.encode(&mut out, 0);
        Ok(out)
    }

    /// Takes an MAuthReply payload answering
    /// [`CephxClient::build_service_ticket_request`]; stores the tickets and
    /// returns the service ids received.
    pub fn handle_service_ticket_reply(&mut self, payload: &[u8]) -> Result<Vec<u32>> {
        let mut d = Decoder::new(payload);
        expect_reply(
            &mut d,
            CEPHX_GET_PRINCIPAL_SESSION_KEY,
            "GET_PRINCIPAL_SESSION_KEY",
        )?;
        let session_key = self.auth_session_key()?;
        self.read_ticket_reply(&session_key, &mut d)
    }

    /// An authorizer for connecting to `service_id` (e.g. `SERVICE_OSD`),
    /// built from the ticket we hold for it.
    pub fn build_authorizer(&mut self, service_id: u32) -> Result<Authorizer> {
        self.authorizer_for(service_id)
    }
}
