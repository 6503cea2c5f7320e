#![no_main]
//! Control-frame payloads, the banner, the preamble and the message header
//! on hostile bytes. A payload that decodes must re-encode to something
//! that decodes to the same value.
//!
//! First byte: the frame tag (values past the last tag go to the banner,
//! preamble and header decoders); the rest is the payload.

use bytes::BytesMut;
use ceph_msgr::frame::{Banner, Preamble, Tag, DEFAULT_MAX_SEGMENT_LEN, PREAMBLE_LEN};
use ceph_msgr::message::MsgHeader2;
use ceph_msgr::payload::*;
use libfuzzer_sys::fuzz_target;

fn reencode(c: &Control) -> (Tag, Vec<u8>) {
    fn enc<P: ControlPayload>(p: &P) -> (Tag, Vec<u8>) {
        (P::TAG, p.to_payload())
    }
    match c {
        Control::Hello(p) => enc(p),
        Control::AuthRequest(p) => enc(p),
        Control::AuthBadMethod(p) => enc(p),
        Control::AuthReplyMore(p) => enc(p),
        Control::AuthRequestMore(p) => enc(p),
        Control::AuthDone(p) => enc(p),
        Control::AuthSignature(p) => enc(p),
        Control::ClientIdent(p) => enc(p),
        Control::ServerIdent(p) => enc(p),
        Control::IdentMissingFeatures(p) => enc(p),
        Control::SessionReset(p) => enc(p),
        Control::SessionRetry(p) => enc(p),
        Control::SessionRetryGlobal(p) => enc(p),
        Control::Wait(p) => enc(p),
        Control::Keepalive2(p) => enc(p),
        Control::Keepalive2Ack(p) => enc(p),
        Control::Ack(p) => enc(p),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    match Tag::try_from(selector) {
        Ok(tag) => {
            if let Ok(Some(first)) = Control::decode(tag, payload) {
                let (tag2, bytes) = reencode(&first);
                assert_eq!(tag2, tag);
                let second = Control::decode(tag, &bytes)
                    .expect("re-encoded payload decodes")
                    .expect("same tag");
                assert_eq!(first, second);
            }
        }
        Err(_) => match selector % 3 {
            0 => {
                let mut buf = BytesMut::from(payload);
                if let Ok(Some(banner)) = Banner::parse(&mut buf) {
                    let mut again = BytesMut::from(&banner.encode()[..]);
                    assert_eq!(Banner::parse(&mut again).ok().flatten(), Some(banner));
                }
            }
            1 => {
                if let Some(raw) = payload.get(..PREAMBLE_LEN) {
                    let raw: [u8; PREAMBLE_LEN] = raw.try_into().expect("32 bytes");
                    let _ = Preamble::decode(&raw, DEFAULT_MAX_SEGMENT_LEN);
                }
            }
            _ => {
                if let Ok(header) = MsgHeader2::decode(payload) {
                    assert_eq!(&header.encode()[..], payload);
                }
            }
        },
    }
});
