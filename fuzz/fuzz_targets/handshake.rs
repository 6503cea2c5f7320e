#![no_main]
//! A whole server byte stream fed to the msgr2 client: the handshake with
//! a scripted auth client (fixed reply, fixed keys), then the session.
//!
//! First byte: bit 0 picks how the stream is made, bits 1.. the size of
//! the reads it is delivered in.
//! - raw: the remaining bytes are the stream, exactly as a server sent it
//!   (crc mode; the seeds are recorded sessions).
//! - framed: the remaining bytes are records `tag u8, segment count u8,
//!   (u16 length, bytes) per segment` that a server-side codec turns into
//!   frames after a valid banner. After an AUTH_DONE record choosing
//!   secure mode (con_mode 2 at payload offset 8) the codec seals
//!   everything with the fixed connection secret, so the session's secure
//!   path is reached too.

use ceph_fuzz::{Input, FIXED_CONNECTION_SECRET, FIXED_SESSION_KEY};
use ceph_msgr::auth::{AuthClient, AuthFailure, AuthKeys};
use ceph_msgr::frame::{align, Banner, FrameCodec, Tag};
use ceph_msgr::protocol::{ClientHandshake, HandshakeConfig, HandshakeStatus, Session};
use ceph_types::features::CLIENT_FEATURES_ALL;
use libfuzzer_sys::fuzz_target;

/// Answers every challenge with the same bytes and accepts any AUTH_DONE.
struct ScriptedAuth;

impl AuthClient for ScriptedAuth {
    fn method(&self) -> u32 {
        2
    }
    fn preferred_modes(&self) -> Vec<u32> {
        vec![2, 1]
    }
    fn initial_payload(&mut self) -> Result<Vec<u8>, AuthFailure> {
        Ok(b"initial".to_vec())
    }
    fn handle_reply_more(&mut self, _payload: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        Ok(b"more".to_vec())
    }
    fn handle_done(&mut self, _: u64, _: u32, _: &[u8]) -> Result<AuthKeys, AuthFailure> {
        Ok(AuthKeys {
            session_key: FIXED_SESSION_KEY.to_vec(),
            connection_secret: FIXED_CONNECTION_SECRET.to_vec(),
        })
    }
    fn handle_bad_method(
        &mut self,
        _: u32,
        _: i32,
        _: &[u32],
        _: &[u32],
    ) -> Result<(), AuthFailure> {
        // Retry once per AUTH_BAD_METHOD: exercises the re-request path.
        Ok(())
    }
}

/// Turns framed records into the bytes a server would send.
fn framed_stream(input: &mut Input<'_>) -> Vec<u8> {
    let mut out = Banner {
        supported: 1,
        required: 0,
    }
    .encode()
    .to_vec();
    let mut codec = FrameCodec::default();
    while !input.is_empty() {
        let tag_byte = input.u8();
        let count = usize::from(input.u8() % 4) + 1;
        let segments: Vec<&[u8]> = (0..count).map(|_| input.piece()).collect();
        let Ok(tag) = Tag::try_from(tag_byte) else {
            continue;
        };
        let segs: Vec<(&[u8], u16)> = segments.iter().map(|s| (*s, align::DEFAULT)).collect();
        match codec.encode(tag, &segs) {
            Ok(bytes) => out.extend_from_slice(&bytes),
            Err(_) => continue,
        }
        let secure_done =
            tag == Tag::AuthDone && segments[0].get(8..12) == Some(&2u32.to_le_bytes()[..]);
        if secure_done {
            codec
                .enable_secure(&FIXED_CONNECTION_SECRET, true)
                .expect("40-byte secret");
        }
    }
    out
}

fn run_session(mut session: Session, rest: &[u8], read_size: usize) {
    if session.receive(&[]).is_err() {
        return;
    }
    for chunk in rest.chunks(read_size) {
        if session.receive(chunk).is_err() {
            return;
        }
        let _ = session.take_output();
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let head = input.u8();
    let stream = if head & 1 == 0 {
        input.rest().to_vec()
    } else {
        framed_stream(&mut input)
    };
    // Reads of 1..=128 bytes, or the whole stream at once.
    let read_size = match usize::from(head >> 1) {
        0 => stream.len().max(1),
        n => n,
    };
    let target = "v2:127.0.0.1:3300/0".parse().expect("address");
    let mut cfg = HandshakeConfig::client(target, CLIENT_FEATURES_ALL, 0);
    cfg.nonce = 7;
    cfg.verify_signature = false;
    let mut auth = ScriptedAuth;
    let mut handshake = ClientHandshake::new(cfg, &mut auth);
    let mut chunks = stream.chunks(read_size);
    let mut consumed = 0;
    for chunk in chunks.by_ref() {
        consumed += chunk.len();
        match handshake.receive(chunk) {
            Ok(HandshakeStatus::Ready) => {
                let Ok((session, _info)) = handshake.into_session() else {
                    panic!("ready handshake without a session");
                };
                run_session(session, &stream[consumed..], read_size);
                return;
            }
            Ok(HandshakeStatus::InProgress) => {
                let _ = handshake.take_output();
            }
            Err(_) => return,
        }
    }
});
