//! An established msgr1 session as an I/O-free state machine: messages
//! with header, footer and crcs (and signatures when the connection has a
//! session key), ACK, KEEPALIVE2 and its ack.

use bytes::{Buf, Bytes, BytesMut};
use ceph_denc::ceph_crc32c;
use ceph_types::features::{CEPH_FEATURE_CEPHX_V2, CEPH_FEATURE_MSG_AUTH};
use ceph_types::UTime;

use super::sign::SigningKey;
use super::wire::{
    MsgFooter, MsgHeader, Tag, FOOTER_COMPLETE, FOOTER_LEN, FOOTER_NOCRC, FOOTER_SIGNED,
    HEADER_LEN, OLD_FOOTER_LEN,
};
use crate::error::MsgrError;
use crate::message::Message;
use crate::protocol::SessionEvent;

/// Largest message (front, middle and data together) accepted by default.
pub const DEFAULT_MAX_MESSAGE_LEN: u64 = 64 << 20;

/// What a session needs to know.
#[derive(Debug, Clone)]
pub struct SessionParams {
    /// Features both sides support (decides the footer form and the
    /// signature form).
    pub features: u64,
    /// Our entity type code, for the header's source.
    pub src_type: u8,
    /// Our entity number (`-1` until we have one).
    pub src_num: i64,
    /// Largest message accepted from the peer.
    pub max_message_len: u64,
    /// Signs our messages and checks the peer's (daemon sessions).
    pub signing: Option<SigningKey>,
}

/// A msgr1 session.
#[derive(Debug)]
pub struct SessionV1 {
    params: SessionParams,
    inbuf: BytesMut,
    out: Vec<u8>,
    out_seq: u64,
    in_seq: u64,
    last_acked_to_peer: u64,
}

impl SessionV1 {
    /// A session starting from sequence number 0 both ways.
    pub fn new(params: SessionParams) -> SessionV1 {
        SessionV1 {
            params,
            inbuf: BytesMut::new(),
            out: Vec::new(),
            out_seq: 0,
            in_seq: 0,
            last_acked_to_peer: 0,
        }
    }

    /// Sets the entity number written as our source (the global id once
    /// authentication assigned one).
    pub fn set_src_num(&mut self, num: i64) {
        self.params.src_num = num;
    }

    /// The features the session runs with.
    pub fn features(&self) -> u64 {
        self.params.features
    }

    fn footer_has_sig(&self) -> bool {
        self.params.features & CEPH_FEATURE_MSG_AUTH != 0
    }

    fn cephx_v2(&self) -> bool {
        self.params.features & CEPH_FEATURE_CEPHX_V2 != 0
    }

    /// Bytes to write to the peer (drains the queue).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Queues a message; returns the sequence number it was given.
    pub fn send_message(&mut self, msg: &Message) -> Result<u64, MsgrError> {
        let len32 = |b: &Bytes, what: &str| {
            u32::try_from(b.len())
                .map_err(|_| MsgrError::protocol(format!("message {what} too long for msgr1")))
        };
        self.out_seq += 1;
        let mut header = MsgHeader {
            seq: self.out_seq,
            tid: msg.tid,
            ty: msg.ty,
            priority: msg.priority,
            version: msg.version,
            front_len: len32(&msg.front, "front")?,
            middle_len: len32(&msg.middle, "middle")?,
            data_len: len32(&msg.data, "data")?,
            data_off: 0,
            src_type: self.params.src_type,
            src_num: self.params.src_num,
            compat_version: msg.compat_version,
            reserved: 0,
            crc: 0,
        };
        header.crc = header.compute_crc();
        let mut footer = MsgFooter {
            front_crc: ceph_crc32c(0, &msg.front),
            middle_crc: ceph_crc32c(0, &msg.middle),
            data_crc: ceph_crc32c(0, &msg.data),
            sig: 0,
            flags: FOOTER_COMPLETE,
        };
        if let Some(key) = &self.params.signing {
            if self.footer_has_sig() {
                footer.sig = key.sign(&header, &footer, self.cephx_v2());
                footer.flags |= FOOTER_SIGNED;
            }
        }
        self.out.push(Tag::Msg.code());
        header.encode(&mut self.out);
        self.out.extend_from_slice(&msg.front);
        self.out.extend_from_slice(&msg.middle);
        self.out.extend_from_slice(&msg.data);
        let with_sig = self.footer_has_sig();
        footer.encode(&mut self.out, with_sig);
        Ok(self.out_seq)
    }

    /// Queues a KEEPALIVE2 stamped `stamp`; its ack arrives as
    /// [`SessionEvent::KeepaliveAck`].
    pub fn send_keepalive(&mut self, stamp: UTime) -> Result<(), MsgrError> {
        self.out.push(Tag::Keepalive2.code());
        put_stamp(&mut self.out, stamp);
        Ok(())
    }

    /// Queues an ACK for everything received so far.
    pub fn send_ack(&mut self) {
        self.last_acked_to_peer = self.in_seq;
        self.out.push(Tag::Ack.code());
        self.out.extend_from_slice(&self.in_seq.to_le_bytes());
    }

    /// Feeds received bytes (an empty slice processes what is buffered);
    /// returns what arrived. Received messages are acknowledged.
    pub fn receive(&mut self, data: &[u8]) -> Result<Vec<SessionEvent>, MsgrError> {
        self.inbuf.extend_from_slice(data);
        let mut events = Vec::new();
        while let Some(ev) = self.next_item()? {
            if let Some(ev) = ev {
                events.push(ev);
            }
        }
        if self.in_seq > self.last_acked_to_peer {
            self.send_ack();
        }
        Ok(events)
    }

    /// Takes one tagged item off the input: `None` if incomplete,
    /// `Some(None)` for an item that yields no event.
    fn next_item(&mut self) -> Result<Option<Option<SessionEvent>>, MsgrError> {
        let Some(&tag) = self.inbuf.first() else {
            return Ok(None);
        };
        let have = self.inbuf.len();
        match Tag::from_code(tag) {
            Tag::Msg => self.next_message(),
            Tag::Ack => {
                if have < 9 {
                    return Ok(None);
                }
                // Lossy: nothing is kept for resending, so acks only pace.
                self.inbuf.advance(9);
                Ok(Some(None))
            }
            Tag::Keepalive => {
                self.inbuf.advance(1);
                Ok(Some(None))
            }
            Tag::Keepalive2 | Tag::Keepalive2Ack => {
                if have < 9 {
                    return Ok(None);
                }
                let stamp = get_stamp(&self.inbuf[1..9]);
                self.inbuf.advance(9);
                if tag == Tag::Keepalive2.code() {
                    self.out.push(Tag::Keepalive2Ack.code());
                    put_stamp(&mut self.out, stamp);
                    Ok(Some(None))
                } else {
                    Ok(Some(Some(SessionEvent::KeepaliveAck(stamp))))
                }
            }
            Tag::Close => Err(MsgrError::PeerReset { full: true }),
            other => Err(MsgrError::protocol(format!(
                "unexpected msgr1 tag {other:?} in an open session"
            ))),
        }
    }

    fn next_message(&mut self) -> Result<Option<Option<SessionEvent>>, MsgrError> {
        if self.inbuf.len() < 1 + HEADER_LEN {
            return Ok(None);
        }
        let raw = &self.inbuf[1..1 + HEADER_LEN];
        if !MsgHeader::crc_ok(raw) {
            return Err(MsgrError::protocol("msgr1 message header crc mismatch"));
        }
        let header = MsgHeader::decode(raw).map_err(|e| MsgrError::protocol(e.to_string()))?;
        let body_len =
            u64::from(header.front_len) + u64::from(header.middle_len) + u64::from(header.data_len);
        if body_len > self.params.max_message_len {
            return Err(MsgrError::protocol(format!(
                "msgr1 message of {body_len} bytes exceeds the limit of {}",
                self.params.max_message_len
            )));
        }
        let footer_len = if self.footer_has_sig() {
            FOOTER_LEN
        } else {
            OLD_FOOTER_LEN
        };
        // Fits usize: bounded by max_message_len above.
        let total = 1 + HEADER_LEN + body_len as usize + footer_len;
        if self.inbuf.len() < total {
            return Ok(None);
        }
        let mut item = self.inbuf.split_to(total).freeze();
        item.advance(1 + HEADER_LEN);
        let front = item.split_to(header.front_len as usize);
        let middle = item.split_to(header.middle_len as usize);
        let data = item.split_to(header.data_len as usize);
        let footer = MsgFooter::decode(&item, self.footer_has_sig())
            .map_err(|e| MsgrError::protocol(e.to_string()))?;
        let check = |what: &str, want: u32, seg: &Bytes| {
            let got = ceph_crc32c(0, seg);
            if got == want {
                Ok(())
            } else {
                Err(MsgrError::protocol(format!(
                    "msgr1 message {what} crc mismatch (footer {want:#x}, computed {got:#x})"
                )))
            }
        };
        check("front", footer.front_crc, &front)?;
        check("middle", footer.middle_crc, &middle)?;
        if footer.flags & FOOTER_NOCRC == 0 {
            check("data", footer.data_crc, &data)?;
        }
        if let Some(key) = &self.params.signing {
            if self.footer_has_sig() && key.sign(&header, &footer, self.cephx_v2()) != footer.sig {
                return Err(MsgrError::protocol(format!(
                    "msgr1 message seq {} has a bad signature",
                    header.seq
                )));
            }
        }
        if header.seq <= self.in_seq {
            // Already delivered (a resend); drop it.
            return Ok(Some(None));
        }
        self.in_seq = header.seq;
        Ok(Some(Some(SessionEvent::Message(Message {
            ty: header.ty,
            tid: header.tid,
            priority: header.priority,
            version: header.version,
            compat_version: header.compat_version,
            front,
            middle,
            data,
            seq: header.seq,
        }))))
    }
}

fn put_stamp(out: &mut Vec<u8>, t: UTime) {
    out.extend_from_slice(&t.sec.to_le_bytes());
    out.extend_from_slice(&t.nsec.to_le_bytes());
}

fn get_stamp(b: &[u8]) -> UTime {
    UTime {
        sec: u32::from_le_bytes(b[..4].try_into().expect("4 bytes")),
        nsec: u32::from_le_bytes(b[4..8].try_into().expect("4 bytes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceph_types::features::CLIENT_FEATURES_ALL;

    fn pair(signing: Option<SigningKey>) -> (SessionV1, SessionV1) {
        let p = SessionParams {
            features: CLIENT_FEATURES_ALL,
            src_type: 8,
            src_num: 4100,
            max_message_len: 1 << 20,
            signing,
        };
        (SessionV1::new(p.clone()), SessionV1::new(p))
    }

    fn msg(n: u8) -> Message {
        let mut m = Message::new(50, 1, 1, vec![n; 40]);
        m.data = Bytes::from(vec![n; 4000]);
        m.tid = u64::from(n);
        m
    }

    #[test]
    fn messages_cross_byte_by_byte_and_are_acked() {
        for signing in [None, SigningKey::from_secret(&[5; 16])] {
            let (mut a, mut b) = pair(signing);
            a.send_message(&msg(1)).unwrap();
            a.send_message(&msg(2)).unwrap();
            a.send_keepalive(UTime { sec: 9, nsec: 1 }).unwrap();
            let wire = a.take_output();
            let mut got = Vec::new();
            for byte in &wire {
                got.extend(b.receive(std::slice::from_ref(byte)).unwrap());
            }
            assert_eq!(got.len(), 2);
            let SessionEvent::Message(m) = &got[1] else {
                panic!("not a message");
            };
            assert_eq!(m.seq, 2);
            assert_eq!(m.data.len(), 4000);
            // b acked and answered the keepalive.
            let back = b.take_output();
            let evs = a.receive(&back).unwrap();
            assert_eq!(evs, [SessionEvent::KeepaliveAck(UTime { sec: 9, nsec: 1 })]);
        }
    }

    #[test]
    fn corruption_and_bad_signatures_are_refused() {
        let (mut a, mut b) = pair(SigningKey::from_secret(&[5; 32]));
        a.send_message(&msg(1)).unwrap();
        let wire = a.take_output();
        // Any flipped byte of header, segments or footer is caught.
        for at in [3, 1 + HEADER_LEN + 2, wire.len() - 10, wire.len() - 3] {
            let mut bad = wire.clone();
            bad[at] ^= 0x40;
            let (_, mut fresh) = pair(SigningKey::from_secret(&[5; 32]));
            assert!(fresh.receive(&bad).is_err(), "flip at {at}");
        }
        // A different session key: the signature does not match.
        let (_, mut other) = pair(SigningKey::from_secret(&[6; 32]));
        assert!(other.receive(&wire).is_err());
        assert_eq!(b.receive(&wire).unwrap().len(), 1);
    }

    #[test]
    fn oversized_lengths_fail_without_waiting() {
        let (mut a, mut b) = pair(None);
        let mut m = msg(1);
        m.data = Bytes::from(vec![0; 2 << 20]);
        a.send_message(&m).unwrap();
        let wire = a.take_output();
        assert!(b.receive(&wire[..1 + HEADER_LEN]).is_err());
        assert!(pair(None).1.receive(&[99]).is_err());
    }
}
