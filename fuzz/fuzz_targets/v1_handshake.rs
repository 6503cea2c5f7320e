#![no_main]
//! A whole server byte stream fed to the msgr1 client: the handshake
//! (banner, addresses, CONNECT_REPLY with retries, challenges, TAG_SEQ,
//! and towards a monitor the MAuth exchange) with a scripted auth client,
//! then the session.
//!
//! First byte: bit 0 picks the peer (monitor: MAuth; OSD: authorizer),
//! bits 1.. the size of the reads. The rest is the stream as the server
//! sent it (the seeds are recorded sessions).

use ceph_fuzz::{Input, FIXED_SESSION_KEY};
use ceph_msgr::auth::{AuthClient, AuthFailure, AuthKeys};
use ceph_msgr::v1::{ClientHandshakeV1, HandshakeConfigV1};
use ceph_types::features::CLIENT_FEATURES_ALL;
use libfuzzer_sys::fuzz_target;

/// Answers every challenge with the same bytes and accepts any reply.
struct ScriptedAuth;

impl AuthClient for ScriptedAuth {
    fn method(&self) -> u32 {
        2
    }
    fn preferred_modes(&self) -> Vec<u32> {
        vec![1]
    }
    fn initial_payload(&mut self) -> Result<Vec<u8>, AuthFailure> {
        // The msgr2-style monitor request (mode byte first).
        Ok(vec![10, 1, 2, 3])
    }
    fn handle_reply_more(&mut self, _payload: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        Ok(b"more".to_vec())
    }
    fn handle_done(&mut self, _: u64, _: u32, _: &[u8]) -> Result<AuthKeys, AuthFailure> {
        Ok(AuthKeys {
            session_key: FIXED_SESSION_KEY.to_vec(),
            connection_secret: Vec::new(),
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let head = input.u8();
    let stream = input.rest();
    let read_size = match usize::from(head >> 1) {
        0 => stream.len().max(1),
        n => n,
    };
    let peer = if head & 1 == 0 { 0x01 } else { 0x04 };
    let mut cfg = HandshakeConfigV1::client(peer, CLIENT_FEATURES_ALL, 0);
    cfg.nonce = 7;
    cfg.max_message_len = 1 << 20;
    let mut auth = ScriptedAuth;
    let Ok(mut handshake) = ClientHandshakeV1::new(cfg, &mut auth) else {
        return;
    };
    let mut chunks = stream.chunks(read_size);
    for chunk in chunks.by_ref() {
        match handshake.receive(chunk) {
            Ok(true) => {
                let Ok((mut session, _info, _early)) = handshake.into_session() else {
                    panic!("ready handshake without a session");
                };
                for chunk in chunks.by_ref() {
                    if session.receive(chunk).is_err() {
                        return;
                    }
                    let _ = session.take_output();
                }
                return;
            }
            Ok(false) => {
                let _ = handshake.take_output();
            }
            Err(_) => return,
        }
    }
});
