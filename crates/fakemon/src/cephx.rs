//! The monitor's half of a CephX exchange, the inverse of what
//! `ceph_auth::CephxClient` decodes: parse the client's AUTH_REQUEST
//! payload, issue a challenge, check the proof of key possession, and build
//! the AUTH_DONE payload (tickets encrypted for the client, the connection
//! secret, extra service tickets).

use std::collections::BTreeMap;
use std::time::Duration;

use ceph_auth::client::{
    AUTH_MODE_MON, SERVICE_AUTH, SERVICE_MDS, SERVICE_MGR, SERVICE_MON, SERVICE_OSD,
};
use ceph_auth::crypto::{
    challenge_key, decrypt_payload, encode_encrypt, encrypt_payload, CryptoKey, CIPHER_AES,
    KEY_USAGE_AUTHORIZE, KEY_USAGE_AUTHORIZE_REPLY, KEY_USAGE_AUTH_CONNECTION_SECRET,
    KEY_USAGE_ROTATING_SECRET, KEY_USAGE_TICKET_BLOB, KEY_USAGE_TICKET_SESSION_KEY,
};
use ceph_auth::rotating::{ExpiringCryptoKey, RotatingSecrets};
use ceph_auth::types::{
    AuthCapsInfo, AuthTicket, CephXAuthenticate, CephXAuthorize, CephXAuthorizeReply,
    CephXRequestHeader, CephXResponseHeader, CephXServerChallenge, CephXServiceTicket,
    CephXServiceTicketInfo, CephXServiceTicketRequest, CephXTicketBlob, CEPHX_GET_AUTH_SESSION_KEY,
    CEPHX_GET_PRINCIPAL_SESSION_KEY, CEPHX_GET_ROTATING_KEY,
};
use ceph_denc::{encode_bytes, Blob, Decode, DecodeError, Decoder, Encode};
use ceph_types::errno::{EACCES, EINVAL, EIO};
use ceph_types::{EntityName, EntityType, UTime};

/// Services the fake can issue tickets for besides the auth ticket.
const ISSUABLE: [u32; 4] = [SERVICE_MON, SERVICE_OSD, SERVICE_MGR, SERVICE_MDS];

/// Length of a secure-mode connection secret: AES-128 key and two 12-byte
/// nonces, padded as Ceph does to 64 bytes.
pub const CONNECTION_SECRET_LEN: usize = 64;

/// What the client says about itself in its AUTH_REQUEST payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialRequest {
    pub name: EntityName,
    /// The global id it had before (0 if none): a reclaim request.
    pub old_global_id: u64,
}

/// Parses a CephX AUTH_REQUEST payload addressed to a monitor.
pub fn parse_initial_request(payload: &[u8]) -> Result<InitialRequest, DecodeError> {
    let mut d = Decoder::new(payload);
    let mode = d.u8("auth mode")?;
    if mode != AUTH_MODE_MON {
        return Err(DecodeError::invalid(
            "auth mode",
            format!("{mode} is not a monitor authentication"),
        ));
    }
    let name = EntityName::decode(&mut d)?;
    let old_global_id = d.u64("global id")?;
    Ok(InitialRequest {
        name,
        old_global_id,
    })
}

/// The AUTH_REPLY_MORE payload carrying `server_challenge`.
pub fn challenge_payload(server_challenge: u64) -> Vec<u8> {
    CephXServerChallenge { server_challenge }.to_bytes(0)
}

/// Why the fake refuses a client's AUTH_REQUEST_MORE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The payload does not decode as a CephX authenticate request.
    Malformed(String),
    /// The proof does not match the configured key.
    WrongKey,
}

/// Decodes the client's AUTH_REQUEST_MORE payload and checks that it proves
/// possession of `client_key` for this `server_challenge`.
pub fn check_authenticate(
    payload: &[u8],
    client_key: &CryptoKey,
    server_challenge: u64,
) -> Result<CephXAuthenticate, Refusal> {
    let mut d = Decoder::new(payload);
    let header =
        CephXRequestHeader::decode(&mut d).map_err(|e| Refusal::Malformed(e.to_string()))?;
    if header.request_type != CEPHX_GET_AUTH_SESSION_KEY {
        return Err(Refusal::Malformed(format!(
            "request type {:#x}",
            header.request_type
        )));
    }
    let req = CephXAuthenticate::decode(&mut d).map_err(|e| Refusal::Malformed(e.to_string()))?;
    let expected = challenge_key(client_key, server_challenge, req.client_challenge)
        .map_err(|e| Refusal::Malformed(e.to_string()))?;
    if expected != req.key {
        return Err(Refusal::WrongKey);
    }
    Ok(req)
}

/// A fresh random `aes` key.
pub fn random_key() -> CryptoKey {
    let secret: [u8; 16] = rand::random();
    CryptoKey::new(CIPHER_AES, UTime::now(), secret.to_vec())
}

/// One ticket to issue: the service, the session key shared with it, and
/// the blob only the service can open.
struct Issued {
    service_id: u32,
    session_key: CryptoKey,
    ticket: CephXTicketBlob,
}

/// What the fake hands out on a successful authentication. `Debug` redacts.
pub struct Grant {
    /// The AUTH_DONE payload.
    pub payload: Vec<u8>,
    /// The auth ticket's session key: keys both AUTH_SIGNATUREs.
    pub session_key: CryptoKey,
    /// The secure-mode secret (empty for crc mode).
    pub connection_secret: Vec<u8>,
    /// Services ticketed besides auth, as a mask.
    pub services: u32,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("payload", &format_args!("<{} bytes>", self.payload.len()))
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

/// The monitor's CephX state: one secret per service, standing in for the
/// rotating keys a real monitor keeps (the client never opens those blobs).
pub struct CephxServer {
    service_secrets: BTreeMap<u32, CryptoKey>,
    validity: Duration,
}

impl std::fmt::Debug for CephxServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CephxServer")
            .field("validity", &self.validity)
            .finish_non_exhaustive()
    }
}

impl CephxServer {
    /// A server issuing tickets valid for `validity`.
    pub fn new(validity: Duration) -> Self {
        let service_secrets = std::iter::once(SERVICE_AUTH)
            .chain(ISSUABLE)
            .map(|s| (s, random_key()))
            .collect();
        CephxServer {
            service_secrets,
            validity,
        }
    }

    fn validity(&self) -> UTime {
        UTime::new(
            u32::try_from(self.validity.as_secs()).unwrap_or(u32::MAX),
            self.validity.subsec_nanos(),
        )
    }

    fn issue(&self, service_id: u32, name: &EntityName, global_id: u64) -> Issued {
        let session_key = random_key();
        let now = UTime::now();
        let info = CephXServiceTicketInfo {
            ticket: AuthTicket {
                name: name.clone(),
                global_id,
                created: now,
                expires: UTime::new(now.sec.saturating_add(self.validity().sec), now.nsec),
                caps: AuthCapsInfo {
                    allow_all: true,
                    caps: Blob::default(),
                },
                flags: 0,
            },
            session_key: session_key.clone(),
        };
        let secret = &self.service_secrets[&service_id];
        let blob = encrypt_payload(secret, 0, &info).expect("fake service keys are valid aes keys");
        Issued {
            service_id,
            session_key,
            ticket: CephXTicketBlob { secret_id: 1, blob },
        }
    }

    /// Encodes a ticket reply (version, count, tickets), the client's part
    /// of each encrypted with `principal`.
    fn ticket_reply(
        &self,
        principal: &CryptoKey,
        tickets: &[Issued],
        out: &mut Vec<u8>,
    ) -> Result<(), ceph_auth::AuthError> {
        self.ticket_reply_enc(principal, tickets, None, out)
    }

    /// [`Self::ticket_reply`], with the ticket blobs encrypted with
    /// `blob_key` when given (a renewal: the previous session key).
    fn ticket_reply_enc(
        &self,
        principal: &CryptoKey,
        tickets: &[Issued],
        blob_key: Option<&CryptoKey>,
        out: &mut Vec<u8>,
    ) -> Result<(), ceph_auth::AuthError> {
        out.push(1);
        (tickets.len() as u32).encode(out, 0);
        for t in tickets {
            t.service_id.encode(out, 0);
            out.push(1);
            let for_client = CephXServiceTicket {
                session_key: t.session_key.clone(),
                validity: self.validity(),
            };
            encode_encrypt(principal, KEY_USAGE_TICKET_SESSION_KEY, &for_client, out)?;
            // The ticket blob travels in the clear (it is opaque to the
            // client anyway); only renewals encrypt it.
            match blob_key {
                None => {
                    out.push(0);
                    encode_bytes(out, &t.ticket.to_bytes(0));
                }
                Some(k) => {
                    out.push(1);
                    let blob = Blob(t.ticket.to_bytes(0));
                    encode_encrypt(k, KEY_USAGE_TICKET_BLOB, &blob, out)?;
                }
            }
        }
        Ok(())
    }

    /// Builds the AUTH_DONE payload for `name`, who proved its key and asked
    /// for `other_keys`; `secure` adds a connection secret.
    pub fn grant(
        &self,
        name: &EntityName,
        client_key: &CryptoKey,
        global_id: u64,
        other_keys: u32,
        secure: bool,
    ) -> Result<Grant, ceph_auth::AuthError> {
        let auth = self.issue(SERVICE_AUTH, name, global_id);
        let session_key = auth.session_key.clone();
        let mut payload = Vec::new();
        CephXResponseHeader {
            request_type: CEPHX_GET_AUTH_SESSION_KEY,
            status: 0,
        }
        .encode(&mut payload, 0);
        self.ticket_reply(client_key, std::slice::from_ref(&auth), &mut payload)?;
        let connection_secret = if secure {
            let mut s = vec![0u8; CONNECTION_SECRET_LEN];
            rand::Rng::fill(&mut rand::thread_rng(), &mut s[..]);
            s
        } else {
            Vec::new()
        };
        let mut secret_bl = Vec::new();
        if !connection_secret.is_empty() {
            encode_encrypt(
                &session_key,
                KEY_USAGE_AUTH_CONNECTION_SECRET,
                &Blob(connection_secret.clone()),
                &mut secret_bl,
            )?;
        }
        encode_bytes(&mut payload, &secret_bl);
        let extra: Vec<Issued> = ISSUABLE
            .iter()
            .filter(|s| other_keys & **s != 0)
            .map(|s| self.issue(*s, name, global_id))
            .collect();
        let mut extra_bl = Vec::new();
        if !extra.is_empty() {
            self.ticket_reply(&session_key, &extra, &mut extra_bl)?;
        }
        encode_bytes(&mut payload, &extra_bl);
        Ok(Grant {
            payload,
            session_key,
            connection_secret,
            services: extra.iter().fold(0, |m, t| m | t.service_id),
        })
    }
}

/// A valid authorizer, as a daemon sees it. `Debug` redacts the key.
pub struct AuthorizerCheck {
    /// Whose ticket it is.
    pub global_id: u64,
    /// The service the ticket is for.
    pub service_id: u32,
    /// The ticket's session key (keys the connection's signatures).
    pub session_key: CryptoKey,
    /// The client's nonce.
    pub nonce: u64,
}

impl std::fmt::Debug for AuthorizerCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizerCheck")
            .field("global_id", &self.global_id)
            .field("service_id", &self.service_id)
            .finish_non_exhaustive()
    }
}

/// What the fake remembers of an authenticated session, to answer MAuth.
#[derive(Clone)]
pub struct SessionAuth {
    pub name: EntityName,
    pub client_key: CryptoKey,
    pub global_id: u64,
    /// The handshake's challenge: in-session renewals must answer it.
    pub server_challenge: u64,
    /// The current auth session key (renewals encrypt the new ticket with
    /// it, and it opens the authorizer of service ticket requests).
    pub auth_session_key: CryptoKey,
}

impl std::fmt::Debug for SessionAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionAuth")
            .field("name", &self.name)
            .field("global_id", &self.global_id)
            .finish_non_exhaustive()
    }
}

/// The fake's answer to one MAuth: what the client asked for, the reply's
/// `result` and CephX payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InSessionReply {
    /// The CephX request type, or 0 if it did not decode.
    pub request_type: u16,
    pub result: i32,
    pub payload: Vec<u8>,
}

impl CephxServer {
    /// The rotating secrets of `service_id` as of now: one secret per
    /// validity period, the current one expiring at the end of the present
    /// period, so that a short validity shows rotations quickly.
    pub fn rotating_secrets(&self, service_id: u32) -> RotatingSecrets {
        let period = self.validity.as_secs().max(1);
        let now = UTime::now().sec as u64;
        let n = now / period;
        let base = &self.service_secrets[&service_id];
        let mut secrets = BTreeMap::new();
        for id in [n.saturating_sub(1), n, n + 1] {
            // Derived per id so that the same id always has the same key.
            let mut secret = base.secret().to_vec();
            for (b, x) in secret.iter_mut().zip(id.to_le_bytes()) {
                *b ^= x;
            }
            let expires = u32::try_from((id + 1) * period).unwrap_or(u32::MAX);
            secrets.insert(
                id,
                ExpiringCryptoKey {
                    key: CryptoKey::new(CIPHER_AES, UTime::new(0, 0), secret),
                    expiration: UTime::new(expires, 0),
                },
            );
        }
        RotatingSecrets {
            secrets,
            max_ver: n + 1,
        }
    }

    /// Answers a CephX request made inside an authenticated session:
    /// auth ticket renewal, service tickets, or rotating secrets (for
    /// daemon entities). Updates `session` on a renewal.
    pub fn handle_in_session(&self, session: &mut SessionAuth, payload: &[u8]) -> InSessionReply {
        let mut d = Decoder::new(payload);
        let Ok(header) = CephXRequestHeader::decode(&mut d) else {
            return refused(0, -EINVAL);
        };
        let ty = header.request_type;
        let result = match ty {
            CEPHX_GET_AUTH_SESSION_KEY => self.renew_auth(session, payload),
            CEPHX_GET_PRINCIPAL_SESSION_KEY => self.service_tickets(session, &mut d),
            CEPHX_GET_ROTATING_KEY => self.rotating_reply(session),
            _ => Err(-EINVAL),
        };
        match result {
            Ok(payload) => InSessionReply {
                request_type: ty,
                result: 0,
                payload,
            },
            Err(errno) => refused(ty, errno),
        }
    }

    fn renew_auth(&self, session: &mut SessionAuth, payload: &[u8]) -> Result<Vec<u8>, i32> {
        let req = check_authenticate(payload, &session.client_key, session.server_challenge)
            .map_err(|_| -EACCES)?;
        let auth = self.issue(SERVICE_AUTH, &session.name, session.global_id);
        let mut out = Vec::new();
        CephXResponseHeader {
            request_type: CEPHX_GET_AUTH_SESSION_KEY,
            status: 0,
        }
        .encode(&mut out, 0);
        let old = session.auth_session_key.clone();
        self.ticket_reply_enc(
            &session.client_key,
            std::slice::from_ref(&auth),
            Some(&old),
            &mut out,
        )
        .map_err(|_| -EIO)?;
        // No connection secret over MAuth; the extra tickets as in AUTH_DONE.
        encode_bytes(&mut out, &[]);
        let extra: Vec<Issued> = ISSUABLE
            .iter()
            .filter(|s| req.other_keys & **s != 0)
            .map(|s| self.issue(*s, &session.name, session.global_id))
            .collect();
        let mut extra_bl = Vec::new();
        if !extra.is_empty() {
            self.ticket_reply(&auth.session_key, &extra, &mut extra_bl)
                .map_err(|_| -EIO)?;
        }
        encode_bytes(&mut out, &extra_bl);
        session.auth_session_key = auth.session_key;
        Ok(out)
    }

    /// Checks an authorizer presented to a daemon (the AUTH_REQUEST
    /// payload of a connection to an OSD, manager or MDS): opens the
    /// ticket with the service's secret, then the authorizer with the
    /// ticket's session key.
    pub fn check_authorizer(&self, payload: &[u8]) -> Result<AuthorizerCheck, String> {
        let mut d = Decoder::new(payload);
        let mut head = || -> Result<(u64, u32, CephXTicketBlob, Vec<u8>), DecodeError> {
            d.u8("authorizer version")?;
            let global_id = d.u64("authorizer global id")?;
            let service_id = d.u32("authorizer service")?;
            let ticket = CephXTicketBlob::decode(&mut d)?;
            let enc = d.bytes("authorizer")?.to_vec();
            Ok((global_id, service_id, ticket, enc))
        };
        let (global_id, service_id, ticket, enc) = head().map_err(|e| e.to_string())?;
        let secret = self
            .service_secrets
            .get(&service_id)
            .ok_or_else(|| format!("no secret for service {service_id:#x}"))?;
        let info: CephXServiceTicketInfo =
            decrypt_payload(secret, 0, &ticket.blob).map_err(|e| e.to_string())?;
        if info.ticket.global_id != global_id {
            return Err("the ticket is someone else's".into());
        }
        let authorize: CephXAuthorize =
            decrypt_payload(&info.session_key, KEY_USAGE_AUTHORIZE, &enc)
                .map_err(|e| e.to_string())?;
        Ok(AuthorizerCheck {
            global_id,
            service_id,
            session_key: info.session_key,
            nonce: authorize.nonce,
        })
    }

    /// The AUTH_DONE payload answering a checked authorizer (the nonce plus
    /// one, and a connection secret in secure mode), and that secret.
    pub fn authorizer_reply(
        &self,
        check: &AuthorizerCheck,
        secure: bool,
    ) -> Result<(Vec<u8>, Vec<u8>), ceph_auth::AuthError> {
        let connection_secret = if secure {
            let mut s = vec![0u8; CONNECTION_SECRET_LEN];
            rand::Rng::fill(&mut rand::thread_rng(), &mut s[..]);
            s
        } else {
            Vec::new()
        };
        let reply = CephXAuthorizeReply {
            nonce_plus_one: check.nonce.wrapping_add(1),
            connection_secret: connection_secret.clone(),
        };
        let mut out = Vec::new();
        encode_encrypt(
            &check.session_key,
            KEY_USAGE_AUTHORIZE_REPLY,
            &reply,
            &mut out,
        )?;
        Ok((out, connection_secret))
    }

    fn service_tickets(&self, session: &SessionAuth, d: &mut Decoder<'_>) -> Result<Vec<u8>, i32> {
        // The authorizer: version, global id, service, auth ticket, then
        // the CephXAuthorize under the ticket's session key.
        let parse = |d: &mut Decoder<'_>| -> Result<(CephXTicketBlob, Vec<u8>), DecodeError> {
            d.u8("authorizer version")?;
            d.u64("authorizer global id")?;
            d.u32("authorizer service")?;
            let ticket = CephXTicketBlob::decode(d)?;
            let enc = d.bytes("authorizer")?.to_vec();
            Ok((ticket, enc))
        };
        let (ticket, enc) = parse(d).map_err(|_| -EINVAL)?;
        let info: CephXServiceTicketInfo =
            decrypt_payload(&self.service_secrets[&SERVICE_AUTH], 0, &ticket.blob)
                .map_err(|_| -EACCES)?;
        if info.ticket.global_id != session.global_id {
            return Err(-EACCES);
        }
        let _authorize: CephXAuthorize =
            decrypt_payload(&info.session_key, KEY_USAGE_AUTHORIZE, &enc).map_err(|_| -EACCES)?;
        let req = CephXServiceTicketRequest::decode(d).map_err(|_| -EINVAL)?;
        let issued: Vec<Issued> = ISSUABLE
            .iter()
            .filter(|s| req.keys & **s != 0)
            .map(|s| self.issue(*s, &session.name, session.global_id))
            .collect();
        let mut out = Vec::new();
        CephXResponseHeader {
            request_type: CEPHX_GET_PRINCIPAL_SESSION_KEY,
            status: 0,
        }
        .encode(&mut out, 0);
        self.ticket_reply(&info.session_key, &issued, &mut out)
            .map_err(|_| -EIO)?;
        Ok(out)
    }

    fn rotating_reply(&self, session: &SessionAuth) -> Result<Vec<u8>, i32> {
        let service = match session.name.ty {
            EntityType::Osd => SERVICE_OSD,
            EntityType::Mgr => SERVICE_MGR,
            EntityType::Mon => SERVICE_MON,
            _ => return Err(-EACCES),
        };
        let mut out = Vec::new();
        CephXResponseHeader {
            request_type: CEPHX_GET_ROTATING_KEY,
            status: 0,
        }
        .encode(&mut out, 0);
        encode_encrypt(
            &session.client_key,
            KEY_USAGE_ROTATING_SECRET,
            &self.rotating_secrets(service),
            &mut out,
        )
        .map_err(|_| -EIO)?;
        Ok(out)
    }
}

fn refused(request_type: u16, errno: i32) -> InSessionReply {
    let mut payload = Vec::new();
    CephXResponseHeader {
        request_type,
        status: errno,
    }
    .encode(&mut payload, 0);
    InSessionReply {
        request_type,
        result: errno,
        payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceph_auth::CephxClient;

    fn name() -> EntityName {
        "client.admin".parse().unwrap()
    }

    #[test]
    fn the_real_client_accepts_what_the_fake_grants() {
        let key = random_key();
        let server = CephxServer::new(Duration::from_secs(3600));
        let mut client = CephxClient::new(name(), key.clone());
        let init = parse_initial_request(&client.initial_auth_payload()).unwrap();
        assert_eq!(init.name, name());
        assert_eq!(init.old_global_id, 0);
        let more = client.handle_reply_more(&challenge_payload(77)).unwrap();
        let req = check_authenticate(&more, &key, 77).unwrap();
        assert_eq!(
            req.other_keys,
            SERVICE_MON | SERVICE_OSD | SERVICE_MGR | SERVICE_AUTH
        );
        let grant = server
            .grant(&name(), &key, 4242, req.other_keys, true)
            .unwrap();
        assert_eq!(grant.services, SERVICE_MON | SERVICE_OSD | SERVICE_MGR);
        let outcome = client.handle_done(4242, &grant.payload).unwrap();
        assert_eq!(outcome.global_id, 4242);
        assert_eq!(outcome.session_key, grant.session_key);
        assert_eq!(outcome.connection_secret, grant.connection_secret);
        assert_eq!(outcome.connection_secret.len(), CONNECTION_SECRET_LEN);
        let got: Vec<u32> = outcome.tickets.keys().copied().collect();
        assert_eq!(
            got,
            vec![SERVICE_MON, SERVICE_OSD, SERVICE_MGR, SERVICE_AUTH]
        );
        assert!(!format!("{grant:?}").contains("session_key"));
    }

    #[test]
    fn crc_mode_grant_has_no_secret_and_no_extra_tickets_unless_asked() {
        let key = random_key();
        let server = CephxServer::new(Duration::from_secs(60));
        let mut client = CephxClient::new(name(), key.clone()).with_want_keys(0);
        client.initial_auth_payload();
        let more = client.handle_reply_more(&challenge_payload(5)).unwrap();
        let req = check_authenticate(&more, &key, 5).unwrap();
        let grant = server
            .grant(&name(), &key, 9, req.other_keys, false)
            .unwrap();
        assert_eq!(grant.services, 0);
        let outcome = client.handle_done(9, &grant.payload).unwrap();
        assert!(outcome.connection_secret.is_empty());
        assert_eq!(outcome.tickets.len(), 1);
    }

    #[test]
    fn a_wrong_key_or_challenge_is_refused() {
        let key = random_key();
        let mut client = CephxClient::new(name(), random_key());
        client.initial_auth_payload();
        let more = client.handle_reply_more(&challenge_payload(1)).unwrap();
        assert_eq!(check_authenticate(&more, &key, 1), Err(Refusal::WrongKey));
        let mut client = CephxClient::new(name(), key.clone());
        client.initial_auth_payload();
        let more = client.handle_reply_more(&challenge_payload(1)).unwrap();
        assert_eq!(check_authenticate(&more, &key, 2), Err(Refusal::WrongKey));
        assert!(matches!(
            check_authenticate(&more[..5], &key, 1),
            Err(Refusal::Malformed(_))
        ));
    }

    #[test]
    fn initial_requests_for_authorizers_or_garbage_are_errors() {
        assert!(parse_initial_request(&[]).is_err());
        assert!(parse_initial_request(&[1, 0, 0]).is_err());
        let mut p = ceph_auth::client::initial_auth_payload(&name(), 12);
        assert_eq!(parse_initial_request(&p).unwrap().old_global_id, 12);
        p.truncate(p.len() - 1);
        assert!(parse_initial_request(&p).is_err());
    }

    #[test]
    fn in_session_renewal_service_tickets_and_rotating_secrets() {
        use ceph_auth::RenewalReply;
        let key = random_key();
        let osd: EntityName = "osd.3".parse().unwrap();
        let server = CephxServer::new(Duration::from_secs(600));
        let mut client = CephxClient::new(osd.clone(), key.clone());
        assert!(
            client.build_auth_ticket_request().is_err(),
            "no session yet"
        );
        client.initial_auth_payload();
        let more = client.handle_reply_more(&challenge_payload(99)).unwrap();
        let req = check_authenticate(&more, &key, 99).unwrap();
        let grant = server.grant(&osd, &key, 7, req.other_keys, true).unwrap();
        client.handle_done(7, &grant.payload).unwrap();
        let mut session = SessionAuth {
            name: osd.clone(),
            client_key: key.clone(),
            global_id: 7,
            server_challenge: 99,
            auth_session_key: grant.session_key.clone(),
        };
        let old_auth = client.ticket(SERVICE_AUTH).unwrap().session_key.clone();

        // Auth ticket renewal: the new ticket comes under the old session key.
        let renew = client.build_auth_ticket_request().unwrap();
        let reply = server.handle_in_session(&mut session, &renew);
        assert_eq!(reply.result, 0);
        match client.handle_mauth_reply(&reply.payload).unwrap() {
            RenewalReply::AuthTicket { services } => {
                assert_eq!(
                    services,
                    vec![SERVICE_AUTH, SERVICE_MON, SERVICE_OSD, SERVICE_MGR]
                )
            }
            other => panic!("{other:?}"),
        }
        let new_auth = client.ticket(SERVICE_AUTH).unwrap().session_key.clone();
        assert_ne!(new_auth, old_auth);
        assert_eq!(new_auth, session.auth_session_key);

        // Service tickets with the renewed auth ticket.
        let st = client.build_service_ticket_request(SERVICE_OSD).unwrap();
        let reply = server.handle_in_session(&mut session, &st);
        assert_eq!(reply.result, 0);
        assert_eq!(
            client.handle_mauth_reply(&reply.payload).unwrap(),
            RenewalReply::ServiceTickets {
                services: vec![SERVICE_OSD]
            }
        );

        // Rotating secrets, under the daemon's own key.
        let reply = server.handle_in_session(&mut session, &client.build_rotating_request());
        assert_eq!(reply.result, 0);
        let RenewalReply::RotatingSecrets(secrets) =
            client.handle_mauth_reply(&reply.payload).unwrap()
        else {
            panic!("not rotating secrets");
        };
        assert_eq!(secrets.secrets.len(), 3);
        assert!(!secrets.need_new_secrets(std::time::SystemTime::now()));

        // A refusal is a typed error carrying the status.
        let mut wrong = session.clone();
        wrong.server_challenge = 100;
        let renew = client.build_auth_ticket_request().unwrap();
        let reply = server.handle_in_session(&mut wrong, &renew);
        assert_eq!(reply.result, -EACCES);
        assert_eq!(
            client.handle_mauth_reply(&reply.payload),
            Err(ceph_auth::AuthError::PermissionDenied(-EACCES))
        );
    }

    #[test]
    fn clients_get_no_rotating_secrets() {
        let key = random_key();
        let server = CephxServer::new(Duration::from_secs(600));
        let mut session = SessionAuth {
            name: name(),
            client_key: key.clone(),
            global_id: 7,
            server_challenge: 1,
            auth_session_key: random_key(),
        };
        let client = CephxClient::new(name(), key);
        let reply = server.handle_in_session(&mut session, &client.build_rotating_request());
        assert_eq!(reply.result, -EACCES);
    }
}
