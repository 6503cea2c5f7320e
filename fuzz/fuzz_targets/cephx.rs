#![no_main]
//! The CephX client on hostile monitor payloads, and the CephX structure
//! decoders.
//!
//! First byte: values below 128 drive a `CephxClient` holding one of two
//! fixed keys (bit 0: the AES key of the recorded Pacific cluster or the
//! aes256k key of the recorded Tentacle cluster, so the recorded replies
//! decrypt): AUTH_REPLY_MORE payload, then AUTH_DONE payload (each
//! u16-length-prefixed, after a u64 global id), then if that succeeded an
//! MAuthReply ticket payload and an authorizer challenge and reply.
//! Values from 128 pick one structure decoder for the rest, or the
//! keyring parser.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ceph_auth::client::{SERVICE_MON, SERVICE_OSD};
use ceph_auth::crypto::{decrypt_payload, KEY_USAGE_TICKET_BLOB};
use ceph_auth::types::*;
use ceph_auth::{CephxClient, CryptoKey, EntityName, Keyring};
use ceph_denc::{Blob, Decode};
use ceph_fuzz::Input;
use libfuzzer_sys::fuzz_target;

/// client.admin of the recorded Pacific cluster (throwaway test key).
const PACIFIC_KEY: &str = "AQCtgwprcghQMhAAzlSVz8lamy41d8MITlpQAg==";
/// client.admin of the recorded Tentacle cluster (throwaway test key).
const TENTACLE_KEY: &str = "AgDRgwprga+XNiAAc9b2VF9AWrSpC7b6KeBn15QbsQJdDKJsD0YmhGp9y3g=";

fn client(tentacle: bool) -> CephxClient {
    let text = if tentacle { TENTACLE_KEY } else { PACIFIC_KEY };
    let key = CryptoKey::from_base64(text.trim()).expect("test key");
    let name: EntityName = "client.admin".parse().expect("name");
    let mut counter = 0u64;
    CephxClient::new(name, key)
        .with_random(Box::new(move || {
            counter += 1;
            counter
        }))
        // The day the sessions were recorded: their tickets are valid.
        .with_clock(Box::new(|| UNIX_EPOCH + Duration::from_secs(1_795_850_000)))
}

fn drive_client(tentacle: bool, input: &mut Input<'_>) {
    let mut c = client(tentacle);
    let _ = c.initial_auth_payload();
    if c.handle_reply_more(input.piece()).is_err() {
        return;
    }
    let global_id = u64::from(input.u16());
    let Ok(outcome) = c.handle_done(global_id, input.piece()) else {
        return;
    };
    let _ = format!("{outcome:?}");
    let now: SystemTime = UNIX_EPOCH + Duration::from_secs(1_795_850_000);
    for service in [SERVICE_MON, SERVICE_OSD] {
        if let Some(t) = c.ticket(service) {
            let _ = (t.is_valid(now), t.needs_renewal(now));
        }
    }
    let _ = c.need_tickets();
    if c.build_service_ticket_request(SERVICE_OSD).is_ok() {
        let _ = c.handle_service_ticket_reply(input.piece());
    }
    if let Ok(mut authorizer) = c.build_authorizer(SERVICE_MON) {
        let _ = authorizer.add_challenge(input.piece());
        let _ = authorizer.verify_reply(input.piece());
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let selector = input.u8();
    if selector < 128 {
        drive_client(selector & 1 == 1, &mut input);
        return;
    }
    let bytes = input.rest();
    match selector % 16 {
        0 => drop(CephXServerChallenge::decode_all(bytes)),
        1 => drop(CephXResponseHeader::decode_all(bytes)),
        2 => drop(CephXTicketBlob::decode_all(bytes)),
        3 => drop(CephXAuthenticate::decode_all(bytes)),
        4 => drop(AuthTicket::decode_all(bytes)),
        5 => drop(CephXServiceTicket::decode_all(bytes)),
        6 => drop(CephXServiceTicketInfo::decode_all(bytes)),
        7 => drop(CephXAuthorizeReply::decode_all(bytes)),
        8 => drop(CephXAuthorize::decode_all(bytes)),
        9 => drop(CephXAuthorizeChallenge::decode_all(bytes)),
        10 => drop(EntityAuth::decode_all(bytes)),
        11 => drop(AuthCapsInfo::decode_all(bytes)),
        12 => drop(CryptoKey::decode_all(bytes)),
        13 => drop(CephXServiceTicketRequest::decode_all(bytes)),
        14 => {
            for key in [PACIFIC_KEY, TENTACLE_KEY] {
                let key = CryptoKey::from_base64(key.trim()).expect("test key");
                let _ = decrypt_payload::<Blob>(&key, KEY_USAGE_TICKET_BLOB, bytes);
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(bytes) {
                if let Ok(k) = Keyring::parse(text) {
                    let _ = format!("{k:?}");
                }
            }
        }
    }
});
