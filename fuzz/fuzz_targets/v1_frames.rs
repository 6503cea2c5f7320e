#![no_main]
//! The msgr1 session and wire decoders on hostile bytes.
//!
//! First byte: bits 0..1 pick the session's features (with or without the
//! signed footer, CEPHX_V2 signatures) and whether a session key checks
//! signatures; bits 2.. the size of the reads. The rest is a byte stream
//! as a peer would send it after the handshake (tags, messages, acks,
//! keepalives), and is also handed to every fixed-size record decoder.

use ceph_fuzz::{Input, FIXED_SESSION_KEY};
use ceph_msgr::v1::wire::{ConnectMsg, ConnectReply, MsgFooter, MsgHeader, PeerBanner};
use ceph_msgr::v1::{SessionParams, SessionV1, SigningKey};
use ceph_types::features::{CEPH_FEATURE_CEPHX_V2, CEPH_FEATURE_MSG_AUTH, CLIENT_FEATURES_ALL};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let head = input.u8();
    let stream = input.rest();
    let mut features = CLIENT_FEATURES_ALL;
    if head & 1 == 1 {
        features &= !(CEPH_FEATURE_MSG_AUTH | CEPH_FEATURE_CEPHX_V2);
    }
    let signing = if head & 2 == 2 {
        SigningKey::from_secret(&FIXED_SESSION_KEY)
    } else {
        None
    };
    let read_size = match usize::from(head >> 2) {
        0 => stream.len().max(1),
        n => n,
    };
    let mut session = SessionV1::new(SessionParams {
        features,
        src_type: 8,
        src_num: 1,
        max_message_len: 1 << 20,
        signing,
    });
    for chunk in stream.chunks(read_size) {
        if session.receive(chunk).is_err() {
            break;
        }
        let _ = session.take_output();
    }
    let _ = PeerBanner::classify(stream);
    let _ = ConnectMsg::decode(stream);
    let _ = ConnectReply::decode(stream);
    let _ = MsgHeader::decode(stream);
    let _ = MsgHeader::crc_ok(stream);
    let _ = MsgFooter::decode(stream, true);
    let _ = MsgFooter::decode(stream, false);
    let _ = ceph_msgr::v1::handshake::AuthReply::decode(stream);
});
