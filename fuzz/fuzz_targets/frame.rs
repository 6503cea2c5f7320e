#![no_main]
//! Feeds arbitrary bytes, split at a fuzzer-chosen point, to the crc-mode
//! frame decoder and the control payload decoders: errors are fine,
//! panics and hangs are not.

use bytes::BytesMut;
use ceph_msgr::frame::FrameCodec;
use ceph_msgr::payload::Control;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let split = (split as usize).min(rest.len());
    let mut codec = FrameCodec::new(1 << 16);
    let mut buf = BytesMut::from(&rest[..split]);
    for chunk in [&rest[..0], &rest[split..]] {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    let _ = Control::decode(frame.tag, frame.payload());
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
    let _ = Control::decode(ceph_msgr::frame::Tag::ClientIdent, rest);
});
