#![no_main]
//! The msgr2 frame decoder on hostile bytes, in both modes.
//!
//! First byte: bit 0 picks the mode, the rest where the stream is cut.
//! - crc mode: the remaining bytes are the stream, delivered in two reads.
//! - secure mode: the remaining bytes are u16-length-prefixed plaintext
//!   blocks, each sealed with the fixed connection secret, so the fuzzer
//!   controls what the decoder sees after decryption (hostile preambles,
//!   lengths, epilogues); a trailing unprefixed piece is appended raw.
//!
//! Every decoded frame goes on to the control-payload and message-header
//! decoders. Errors are fine; panics, hangs and huge allocations are not.

use bytes::BytesMut;
use ceph_fuzz::{Input, ServerSealer, FIXED_CONNECTION_SECRET};
use ceph_msgr::frame::{FrameCodec, Tag, DEFAULT_MAX_SEGMENT_LEN};
use ceph_msgr::message::Message;
use ceph_msgr::payload::Control;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let head = input.u8();
    let secure = head & 1 == 1;
    let mut codec = FrameCodec::new(DEFAULT_MAX_SEGMENT_LEN);
    let stream = if secure {
        codec
            .enable_secure(&FIXED_CONNECTION_SECRET, false)
            .expect("40-byte secret");
        let mut sealer = ServerSealer::default();
        let mut stream = Vec::new();
        while input.u8() == 1 {
            let block = input.piece();
            stream.extend_from_slice(&sealer.seal(block));
        }
        stream.extend_from_slice(input.rest());
        stream
    } else {
        input.rest().to_vec()
    };
    let cut = (usize::from(head >> 1) * stream.len() / 127).min(stream.len());
    let mut buf = BytesMut::new();
    for chunk in [&stream[..cut], &stream[cut..]] {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => {
                    if frame.tag == Tag::Message {
                        let _ = Message::from_frame(&frame);
                    } else {
                        let _ = Control::decode(frame.tag, frame.payload());
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
