//! The monitor's half of a CephX exchange, the inverse of what
//! `ceph_auth::CephxClient` decodes: parse the client's AUTH_REQUEST
//! payload, issue a challenge, check the proof of key possession, and build
//! the AUTH_DONE payload (tickets encrypted for the client, the connection
//! secret, extra service tickets).

use std::collections::BTreeMap;
use std::time::Duration;

use ceph_auth::client::{AUTH_MODE_MON, SERVICE_AUTH, SERVICE_MGR, SERVICE_MON, SERVICE_OSD};
use ceph_auth::crypto::{
    challenge_key, encode_encrypt, encrypt_payload, CryptoKey, CIPHER_AES,
    KEY_USAGE_AUTH_CONNECTION_SECRET, KEY_USAGE_TICKET_SESSION_KEY,
};
use ceph_auth::types::{
    AuthCapsInfo, AuthTicket, CephXAuthenticate, CephXRequestHeader, CephXResponseHeader,
    CephXServerChallenge, CephXServiceTicket, CephXServiceTicketInfo, CephXTicketBlob,
    CEPHX_GET_AUTH_SESSION_KEY,
};
use ceph_denc::{encode_bytes, Blob, Decode, DecodeError, Decoder, Encode};
use ceph_types::{EntityName, UTime};

/// Errno the fake answers every refusal with (as `AUTH_BAD_METHOD` result).
pub const EACCES: i32 = 13;

/// Services the fake can issue tickets for besides the auth ticket.
const ISSUABLE: [u32; 3] = [SERVICE_MON, SERVICE_OSD, SERVICE_MGR];

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
            out.push(0);
            encode_bytes(out, &t.ticket.to_bytes(0));
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
}
