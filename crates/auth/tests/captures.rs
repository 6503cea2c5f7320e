//! The client against real msgr2 sessions of the `ceph` CLI with a Pacific
//! (crc and secure mode) and a Tentacle monitor. Fixtures are the frame
//! payloads of the auth frames (segment 0, frame headers stripped), the
//! byte streams up to the end of the auth exchange, and the keyrings.

use std::time::{Duration, SystemTime};

use ceph_auth::client::{SERVICE_AUTH, SERVICE_MGR, SERVICE_MON, SERVICE_OSD};
use ceph_auth::crypto::{
    challenge_key, encode_encrypt, CIPHER_AES256KRB5, KEY_USAGE_AUTHORIZE,
    KEY_USAGE_AUTHORIZE_CHALLENGE, KEY_USAGE_AUTHORIZE_REPLY, KEY_USAGE_TICKET_SESSION_KEY,
};
use ceph_auth::types::*;
use ceph_auth::{AuthError, CephxClient, CryptoKey, EntityName, Keyring, UTime};
use ceph_denc::{Decode, Decoder, Encode};
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn data(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/").to_string() + name;
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn admin() -> EntityName {
    "client.admin".parse::<EntityName>().unwrap()
}

fn key_of(mode: &str, file: &str, who: &str) -> CryptoKey {
    let text = String::from_utf8(data(&format!("{mode}.{file}.keyring"))).unwrap();
    Keyring::parse(&text)
        .unwrap()
        .get(&who.parse::<EntityName>().unwrap())
        .unwrap()
        .clone()
}

fn admin_key(mode: &str) -> CryptoKey {
    key_of(mode, "client.admin", "client.admin")
}

/// The auth frames of one recorded connection, with the msgr2 frame fields
/// around `auth_payload` taken apart.
struct Session {
    auth_method: u32,
    request: Vec<u8>,
    reply_more: Vec<u8>,
    request_more: Vec<u8>,
    done_global_id: u64,
    done_con_mode: u32,
    done: Vec<u8>,
}

fn session(conn: &str) -> Session {
    let req = data(&format!("{conn}.auth_request.bin"));
    let mut d = Decoder::new(&req);
    let auth_method = d.u32("method").unwrap();
    let _modes = Vec::<u32>::decode(&mut d).unwrap();
    let request = d.bytes("payload").unwrap().to_vec();
    d.finish("AUTH_REQUEST").unwrap();

    let blob = |name: &str| {
        let raw = data(&format!("{conn}.{name}.bin"));
        let mut d = Decoder::new(&raw);
        let p = d.bytes("payload").unwrap().to_vec();
        d.finish("frame").unwrap();
        p
    };
    let done_raw = data(&format!("{conn}.auth_done.bin"));
    let mut d = Decoder::new(&done_raw);
    let done_global_id = d.u64("global_id").unwrap();
    let done_con_mode = d.u32("con_mode").unwrap();
    let done = d.bytes("payload").unwrap().to_vec();
    d.finish("AUTH_DONE").unwrap();
    Session {
        auth_method,
        request,
        reply_more: blob("auth_reply_more"),
        request_more: blob("auth_request_more"),
        done_global_id,
        done_con_mode,
        done,
    }
}

/// The recorded AUTH_REQUEST_MORE, decoded.
fn recorded_authenticate(s: &Session) -> CephXAuthenticate {
    let mut d = Decoder::new(&s.request_more);
    let h = CephXRequestHeader::decode(&mut d).unwrap();
    assert_eq!(h.request_type, CEPHX_GET_AUTH_SESSION_KEY);
    let a = CephXAuthenticate::decode(&mut d).unwrap();
    d.finish("AUTH_REQUEST_MORE").unwrap();
    a
}

/// A client with the recorded client challenge injected.
fn replaying_client(mode: &str, s: &Session) -> CephxClient {
    let recorded = recorded_authenticate(s);
    let challenge = recorded.client_challenge;
    CephxClient::new(admin(), admin_key(mode))
        .with_random(Box::new(move || challenge))
        .with_want_keys(recorded.other_keys & !SERVICE_AUTH)
}

const PACIFIC: [&str; 8] = [
    "crc.conn0",
    "crc.conn1",
    "crc.conn2",
    "crc.conn3",
    "secure.conn0",
    "secure.conn1",
    "secure.conn2",
    "secure.conn3",
];

#[test]
fn initial_payload_matches_recording() {
    for conn in PACIFIC.iter().chain(&["tentacle.conn0", "tentacle.conn1"]) {
        let s = session(conn);
        assert_eq!(s.auth_method, 2, "{conn}");
        let mode = conn.split('.').next().unwrap();
        let mut c = CephxClient::new(admin(), admin_key(mode));
        assert_eq!(c.initial_auth_payload(), s.request, "{conn}");
    }
}

#[test]
fn challenge_key_matches_recording() {
    for conn in PACIFIC {
        let s = session(conn);
        let mode = conn.split('.').next().unwrap();
        let server = CephXServerChallenge::decode_all(&s.reply_more).unwrap();
        let a = recorded_authenticate(&s);
        assert_eq!(a.struct_v, 3);
        assert_eq!(
            challenge_key(
                &admin_key(mode),
                server.server_challenge,
                a.client_challenge
            )
            .unwrap(),
            a.key,
            "{conn}"
        );
        // And a different key does not produce it.
        let other = key_of(mode, "mon", "mon.");
        assert_ne!(
            challenge_key(&other, server.server_challenge, a.client_challenge).unwrap(),
            a.key
        );
    }
}

#[test]
fn client_reproduces_request_more_and_decrypts_done() {
    for conn in PACIFIC {
        let s = session(conn);
        let mode = conn.split('.').next().unwrap();
        let mut c = replaying_client(mode, &s);
        assert_eq!(c.initial_auth_payload(), s.request);
        assert_eq!(
            c.handle_reply_more(&s.reply_more).unwrap(),
            s.request_more,
            "{conn}"
        );

        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut c = c.with_clock(Box::new(move || now));
        let out = c.handle_done(s.done_global_id, &s.done).unwrap();
        assert_eq!(out.global_id, s.done_global_id);
        assert_eq!(c.global_id(), s.done_global_id);
        assert_eq!(out.session_key.secret().len(), 16);
        assert_eq!(out.session_key, out.tickets[&SERVICE_AUTH].session_key);

        // crc mode (1) gets no connection secret; secure mode (2) gets the
        // AES-GCM key and nonces.
        match s.done_con_mode {
            1 => assert!(out.connection_secret.is_empty(), "{conn}"),
            2 => assert_eq!(out.connection_secret.len(), 64, "{conn}"),
            m => panic!("unexpected mode {m}"),
        }

        // The short bootstrap connections asked for the auth ticket only,
        // the command sessions for mon, osd and mgr too.
        let wanted = recorded_authenticate(&s).other_keys;
        let got: u32 = out.tickets.keys().fold(0, |a, b| a | b);
        assert_eq!(got, wanted, "{conn}");
        if wanted != SERVICE_AUTH {
            assert_eq!(
                wanted,
                SERVICE_AUTH | SERVICE_MON | SERVICE_OSD | SERVICE_MGR
            );
        }
        for t in out.tickets.values() {
            assert!(!t.ticket.blob.is_empty());
            assert!(t.validity > Duration::from_secs(60), "{:?}", t.validity);
            assert_eq!(t.expires, now + t.validity);
            assert!(t.renew_after < t.expires && t.renew_after > now);
            assert!(t.is_valid(now) && !t.needs_renewal(now));
            assert!(t.needs_renewal(t.renew_after) && !t.is_valid(t.expires));
        }
        assert_eq!(c.need_tickets(), 0);
    }
}

#[test]
fn auth_signature_is_hmac_of_everything_received() {
    // Each side's AUTH_SIGNATURE is HMAC-SHA256, keyed by the auth session
    // key, over every byte it received on the connection: from the first
    // byte of the peer's banner through the end of the peer's last auth
    // frame (AUTH_DONE, or AUTH_REQUEST_MORE), crc included.
    for conn in ["crc.conn0", "crc.conn1", "crc.conn2", "crc.conn3"] {
        let s = session(conn);
        let mut c = replaying_client("crc", &s);
        c.handle_reply_more(&s.reply_more).unwrap();
        let out = c.handle_done(s.done_global_id, &s.done).unwrap();
        let sign = |bytes: &[u8]| {
            let mut m = Hmac::<Sha256>::new_from_slice(out.session_key.secret()).unwrap();
            m.update(bytes);
            m.finalize().into_bytes().to_vec()
        };
        let from_server = data(&format!("{conn}.s2c.pre_auth.bin"));
        let from_client = data(&format!("{conn}.c2s.pre_auth.bin"));
        assert!(from_server.starts_with(b"ceph v2\n"));
        assert_eq!(
            sign(&from_server),
            data(&format!("{conn}.c2s.auth_signature.bin"))
        );
        assert_eq!(
            sign(&from_client),
            data(&format!("{conn}.s2c.auth_signature.bin"))
        );
    }
}

#[test]
fn wrong_key_fails_cleanly() {
    let s = session("crc.conn1");
    let mut c = CephxClient::new(admin(), key_of("crc", "mon", "mon."));
    c.handle_reply_more(&s.reply_more).unwrap();
    assert!(matches!(
        c.handle_done(s.done_global_id, &s.done),
        Err(AuthError::BadKey(_))
    ));
}

#[test]
fn denied_status_is_permission_denied() {
    let s = session("crc.conn0");
    let mut c = replaying_client("crc", &s);
    c.handle_reply_more(&s.reply_more).unwrap();
    let mut payload = Vec::new();
    CephXResponseHeader {
        request_type: CEPHX_GET_AUTH_SESSION_KEY,
        status: -13,
    }
    .encode(&mut payload, 0);
    assert_eq!(
        c.handle_done(1, &payload),
        Err(AuthError::PermissionDenied(-13))
    );
}

/// A reply header answering another request is malformed, naming both;
/// a negative status is a refusal whatever the request.
#[test]
fn a_reply_to_another_request_is_malformed() {
    let header = |request_type, status| {
        let mut payload = Vec::new();
        CephXResponseHeader {
            request_type,
            status,
        }
        .encode(&mut payload, 0);
        payload
    };
    let s = session("crc.conn0");
    let mut c = replaying_client("crc", &s);
    c.handle_reply_more(&s.reply_more).unwrap();
    let err = c
        .handle_done(1, &header(CEPHX_GET_PRINCIPAL_SESSION_KEY, 0))
        .unwrap_err();
    assert!(matches!(err, AuthError::Malformed(_)), "{err}");
    assert!(
        err.to_string()
            .contains("0x200 in reply to GET_AUTH_SESSION_KEY"),
        "{err}"
    );
    c.handle_done(s.done_global_id, &s.done).unwrap();
    let err = c
        .handle_service_ticket_reply(&header(CEPHX_GET_AUTH_SESSION_KEY, 0))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("0x100 in reply to GET_PRINCIPAL_SESSION_KEY"),
        "{err}"
    );
    assert_eq!(
        c.handle_service_ticket_reply(&header(CEPHX_GET_PRINCIPAL_SESSION_KEY, -1)),
        Err(AuthError::PermissionDenied(-1))
    );
    assert_eq!(
        c.handle_mauth_reply(&header(CEPHX_GET_ROTATING_KEY, -13)),
        Err(AuthError::PermissionDenied(-13))
    );
}

#[test]
fn done_before_challenge_is_a_state_error() {
    let s = session("crc.conn0");
    let mut c = replaying_client("crc", &s);
    assert!(matches!(
        c.handle_done(1, &s.done),
        Err(AuthError::State(_))
    ));
}

#[test]
fn truncated_and_corrupted_payloads_are_errors() {
    let s = session("secure.conn1");
    let mut accepted = 0;
    for cut in 0..s.done.len() {
        let mut c = replaying_client("secure", &s);
        c.handle_reply_more(&s.reply_more).unwrap();
        // One cut is a well-formed pre-Nautilus reply: the auth ticket
        // alone, without connection secret and extra tickets.
        if let Ok(out) = c.handle_done(2, &s.done[..cut]) {
            assert!(out.connection_secret.is_empty(), "cut at {cut}");
            assert_eq!(out.tickets.keys().collect::<Vec<_>>(), [&SERVICE_AUTH]);
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1);
    for i in 0..s.done.len() {
        let mut bad = s.done.clone();
        bad[i] ^= 0x40;
        let mut c = replaying_client("secure", &s);
        c.handle_reply_more(&s.reply_more).unwrap();
        // Must not panic; most flips are errors (a flip inside an opaque
        // ticket blob is not detectable by the client).
        let _ = c.handle_done(2, &bad);
    }
    let mut c = replaying_client("secure", &s);
    for cut in 0..s.reply_more.len() {
        assert!(c.handle_reply_more(&s.reply_more[..cut]).is_err());
    }
}

#[test]
fn tentacle_aes256k_exchange_replays() {
    for conn in ["tentacle.conn0", "tentacle.conn1"] {
        let key = admin_key("tentacle");
        assert_eq!(key.cipher(), CIPHER_AES256KRB5);
        assert_eq!(key.secret().len(), 32);
        let s = session(conn);
        let server = CephXServerChallenge::decode_all(&s.reply_more).unwrap();
        let a = recorded_authenticate(&s);
        assert_eq!(
            challenge_key(&key, server.server_challenge, a.client_challenge).unwrap(),
            a.key
        );
        let mut c = replaying_client("tentacle", &s);
        assert_eq!(c.initial_auth_payload(), s.request);
        assert_eq!(c.handle_reply_more(&s.reply_more).unwrap(), s.request_more);
        let out = c.handle_done(s.done_global_id, &s.done).unwrap();
        assert_eq!(out.session_key.cipher(), CIPHER_AES256KRB5);
        assert_eq!(out.session_key.secret().len(), 32);
        assert_eq!(s.done_con_mode, 2);
        assert!(!out.connection_secret.is_empty());
        let got: u32 = out.tickets.keys().fold(0, |a, b| a | b);
        assert_eq!(got, a.other_keys, "{conn}");
        // Authorizers with aes256k session keys round-trip under their usage.
        if let Some(t) = out.tickets.get(&SERVICE_OSD) {
            let mut auth = c.build_authorizer(SERVICE_OSD).unwrap();
            let ch = ceph_auth::crypto::encrypt_payload(
                &t.session_key,
                KEY_USAGE_AUTHORIZE_CHALLENGE,
                &CephXAuthorizeChallenge {
                    server_challenge: 1,
                },
            )
            .unwrap();
            auth.add_challenge(&ch).unwrap();
        }
    }
}

/// A stand-in monitor answering MAuth requests, built from our encoders:
/// checks the authorizer and issues tickets.
fn monitor_ticket_reply(auth_session_key: &CryptoKey, services: &[(u32, CryptoKey)]) -> Vec<u8> {
    let mut out = Vec::new();
    CephXResponseHeader {
        request_type: CEPHX_GET_PRINCIPAL_SESSION_KEY,
        status: 0,
    }
    .encode(&mut out, 0);
    out.push(1);
    (services.len() as u32).encode(&mut out, 0);
    for (id, session_key) in services {
        id.encode(&mut out, 0);
        out.push(1);
        let st = CephXServiceTicket {
            session_key: session_key.clone(),
            validity: UTime {
                sec: 3600,
                ..UTime::default()
            },
        };
        encode_encrypt(
            auth_session_key,
            KEY_USAGE_TICKET_SESSION_KEY,
            &st,
            &mut out,
        )
        .unwrap();
        out.push(0);
        let blob = CephXTicketBlob {
            secret_id: 7,
            blob: vec![0xab; 48],
        };
        blob.to_bytes(0).encode(&mut out, 0);
    }
    out
}

#[test]
fn service_tickets_and_authorizers_over_the_session() {
    let s = session("crc.conn1");
    let mut c = replaying_client("crc", &s);
    c.handle_reply_more(&s.reply_more).unwrap();
    let out = c.handle_done(s.done_global_id, &s.done).unwrap();

    // The request: header, authorizer for the auth service, keys wanted.
    let req = c.build_service_ticket_request(SERVICE_OSD).unwrap();
    let mut d = Decoder::new(&req);
    assert_eq!(
        CephXRequestHeader::decode(&mut d).unwrap().request_type,
        CEPHX_GET_PRINCIPAL_SESSION_KEY
    );
    assert_eq!(d.u8("authorizer v").unwrap(), 1);
    assert_eq!(d.u64("global id").unwrap(), s.done_global_id);
    assert_eq!(d.u32("service").unwrap(), SERVICE_AUTH);
    let ticket = CephXTicketBlob::decode(&mut d).unwrap();
    assert_eq!(ticket, out.tickets[&SERVICE_AUTH].ticket);
    let msg: CephXAuthorize =
        ceph_auth::crypto::decode_decrypt(&out.session_key, KEY_USAGE_AUTHORIZE, &mut d).unwrap();
    assert!(!msg.have_challenge);
    assert_eq!(
        CephXServiceTicketRequest::decode(&mut d).unwrap().keys,
        SERVICE_OSD
    );
    d.finish("request").unwrap();

    // The reply replaces the OSD ticket.
    let new_osd_key = CryptoKey::new(1, UTime::default(), vec![5; 16]);
    let reply = monitor_ticket_reply(&out.session_key, &[(SERVICE_OSD, new_osd_key.clone())]);
    assert_eq!(
        c.handle_service_ticket_reply(&reply).unwrap(),
        vec![SERVICE_OSD]
    );
    let osd = c.ticket(SERVICE_OSD).unwrap();
    assert_eq!(osd.session_key, new_osd_key);
    assert_eq!(osd.validity, Duration::from_secs(3600));
    assert_eq!(
        osd.expires.duration_since(osd.renew_after).unwrap(),
        Duration::from_secs(900)
    );

    // An authorizer for the OSD, challenged once, then the reply.
    let mut a = c.build_authorizer(SERVICE_OSD).unwrap();
    let first = a.payload.clone();
    let challenge = ceph_auth::crypto::encrypt_payload(
        &new_osd_key,
        KEY_USAGE_AUTHORIZE_CHALLENGE,
        &CephXAuthorizeChallenge {
            server_challenge: 41,
        },
    )
    .unwrap();
    a.add_challenge(&challenge).unwrap();
    let mut d = Decoder::new(&a.payload);
    d.skip(1 + 8 + 4, "head").unwrap();
    CephXTicketBlob::decode(&mut d).unwrap();
    let m: CephXAuthorize =
        ceph_auth::crypto::decode_decrypt(&new_osd_key, KEY_USAGE_AUTHORIZE, &mut d).unwrap();
    assert!(m.have_challenge);
    assert_eq!(m.server_challenge_plus_one, 42);
    assert_ne!(first, a.payload);

    let mut reply = Vec::new();
    encode_encrypt(
        &new_osd_key,
        KEY_USAGE_AUTHORIZE_REPLY,
        &CephXAuthorizeReply {
            nonce_plus_one: m.nonce + 1,
            connection_secret: vec![9; 64],
        },
        &mut reply,
    )
    .unwrap();
    assert_eq!(a.verify_reply(&reply).unwrap(), vec![9; 64]);
    let mut wrong = Vec::new();
    encode_encrypt(
        &new_osd_key,
        KEY_USAGE_AUTHORIZE_REPLY,
        &CephXAuthorizeReply {
            nonce_plus_one: m.nonce,
            connection_secret: vec![],
        },
        &mut wrong,
    )
    .unwrap();
    assert!(a.verify_reply(&wrong).is_err());

    assert_eq!(
        c.build_authorizer(0x40).unwrap_err(),
        AuthError::UnknownService(0x40)
    );
}

#[test]
fn debug_output_redacts_secrets() {
    let s = session("secure.conn1");
    let mut c = replaying_client("secure", &s);
    c.handle_reply_more(&s.reply_more).unwrap();
    let out = c.handle_done(s.done_global_id, &s.done).unwrap();
    let text = format!("{out:?} {c:?} {:?}", admin_key("secure"));
    for secret in [out.session_key.secret(), &out.connection_secret[..]] {
        assert!(!text.contains(&format!("{secret:?}")));
        assert!(!text.contains(&hex::encode(secret)));
    }
    assert!(!text.contains("connection_secret: ["));
}
