//! Frame codec round trips and hostile input.

use bytes::BytesMut;
use ceph_denc::ceph_crc32c;
use ceph_msgr::error::MsgrError;
use ceph_msgr::frame::*;

fn secret() -> Vec<u8> {
    (0u8..64).collect()
}

fn pair(secure: bool) -> (FrameCodec, FrameCodec) {
    let (mut client, mut server) = (FrameCodec::default(), FrameCodec::default());
    if secure {
        client.enable_secure(&secret(), false).unwrap();
        server.enable_secure(&secret(), true).unwrap();
    }
    (client, server)
}

#[test]
fn ceph_crc_matches_known_values() {
    // The raw register: seed 0 over nothing stays 0; the standard CRC-32C
    // of "123456789" is 0xe3069283, i.e. !raw(!0, ..).
    assert_eq!(ceph_crc32c(0, b""), 0);
    assert_eq!(!ceph_crc32c(u32::MAX, b"123456789"), 0xe306_9283);
}

#[test]
fn round_trips_in_both_modes_fed_byte_by_byte() {
    for secure in [false, true] {
        let (mut tx, mut rx) = pair(secure);
        let long = vec![7u8; 100];
        let cases: Vec<Vec<(&[u8], u16)>> = vec![
            vec![(b"", 8)],
            vec![(b"hello", 8)],
            vec![(&long, 8)],
            vec![(b"head", 8), (b"", 8), (b"", 8), (b"data!", 4096)],
            vec![(&long, 8), (&long, 8), (b"mid", 8)],
        ];
        for segs in &cases {
            let wire = tx.encode(Tag::Message, segs).unwrap();
            let mut buf = BytesMut::new();
            let mut got = None;
            for (i, b) in wire.iter().enumerate() {
                buf.extend_from_slice(&[*b]);
                if let Some(f) = rx.decode(&mut buf).unwrap() {
                    assert_eq!(i, wire.len() - 1, "frame complete only at its last byte");
                    got = Some(f);
                }
            }
            let f = got.expect("frame decoded");
            let used = segs
                .iter()
                .rposition(|s| !s.0.is_empty())
                .map_or(1, |i| i + 1);
            assert_eq!(f.segments.len(), used);
            for (i, s) in f.segments.iter().enumerate() {
                assert_eq!(s.as_ref(), segs[i].0, "secure={secure} segment {i}");
            }
        }
    }
}

#[test]
fn secure_frames_are_not_plaintext_and_tampering_is_caught() {
    let (mut tx, mut rx) = pair(true);
    let wire = tx.encode(Tag::Hello, &[(b"secret payload", 8)]).unwrap();
    assert!(!wire.windows(6).any(|w| w == b"secret"));
    let mut bad = wire.clone();
    bad[40] ^= 1;
    assert_eq!(
        rx.decode(&mut BytesMut::from(&bad[..])),
        Err(FrameError::Decrypt)
    );
}

fn crc_frame(tag: Tag, payload: &[u8]) -> Vec<u8> {
    FrameCodec::default().encode(tag, &[(payload, 8)]).unwrap()
}

#[test]
fn truncated_frames_need_more_and_consume_nothing() {
    let wire = crc_frame(Tag::Ack, &5u64.to_le_bytes());
    let mut codec = FrameCodec::default();
    for cut in 0..wire.len() {
        let mut buf = BytesMut::from(&wire[..cut]);
        assert_eq!(codec.decode(&mut buf), Ok(None));
        assert_eq!(buf.len(), cut);
    }
}

#[test]
fn bad_crcs_are_rejected() {
    let wire = crc_frame(Tag::Ack, &5u64.to_le_bytes());
    let mut bad_pre = wire.clone();
    bad_pre[5] ^= 0x80;
    let err = FrameCodec::default()
        .decode(&mut BytesMut::from(&bad_pre[..]))
        .unwrap_err();
    assert!(matches!(err, FrameError::BadPreambleCrc { .. }));
    assert!(matches!(MsgrError::from(err), MsgrError::BadCrc(_)));

    let mut bad_seg = wire.clone();
    bad_seg[PREAMBLE_LEN] ^= 1;
    let err = FrameCodec::default()
        .decode(&mut BytesMut::from(&bad_seg[..]))
        .unwrap_err();
    assert!(matches!(err, FrameError::BadSegmentCrc { index: 0, .. }));

    let multi = FrameCodec::default()
        .encode(Tag::Message, &[(b"h", 8), (b"front", 8)])
        .unwrap();
    let mut bad_tail = multi.clone();
    let n = bad_tail.len();
    bad_tail[n - 14] ^= 1; // last byte of segment 1
    let err = FrameCodec::default()
        .decode(&mut BytesMut::from(&bad_tail[..]))
        .unwrap_err();
    assert!(matches!(err, FrameError::BadSegmentCrc { index: 1, .. }));
}

/// A preamble with a valid CRC but arbitrary fields.
fn raw_preamble(tag: u8, count: u8, lens: [u32; 4]) -> Vec<u8> {
    let mut p = vec![tag, count];
    for l in lens {
        p.extend_from_slice(&l.to_le_bytes());
        p.extend_from_slice(&8u16.to_le_bytes());
    }
    p.extend_from_slice(&[0, 0]);
    let crc = ceph_crc32c(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[test]
fn huge_lengths_fail_from_the_preamble_alone() {
    let mut codec = FrameCodec::new(1 << 20);
    let mut buf = BytesMut::from(&raw_preamble(17, 1, [u32::MAX - 3, 0, 0, 0])[..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::SegmentTooLong { index: 0, .. })
    ));
    assert!(
        buf.capacity() < 1 << 20,
        "nothing sized by the hostile length"
    );
}

/// Every wire value from 1 to 22 is the tag with that value, and only those.
#[test]
fn tag_values_round_trip() {
    for v in 0..=u8::MAX {
        match Tag::try_from(v) {
            Ok(tag) => assert_eq!(tag as u8, v),
            Err(e) => {
                assert_eq!(e, FrameError::UnknownTag(v));
                assert!(v == 0 || v > 22, "{v}");
            }
        }
    }
    assert_eq!(Tag::try_from(22), Ok(Tag::CompressionDone));
}

#[test]
fn unknown_tags_and_bad_counts_are_rejected() {
    let d = |p: Vec<u8>| FrameCodec::default().decode(&mut BytesMut::from(&p[..]));
    assert_eq!(
        d(raw_preamble(0, 1, [0; 4])),
        Err(FrameError::UnknownTag(0))
    );
    assert_eq!(
        d(raw_preamble(99, 1, [0; 4])),
        Err(FrameError::UnknownTag(99))
    );
    assert_eq!(
        d(raw_preamble(1, 0, [0; 4])),
        Err(FrameError::BadSegmentCount(0))
    );
    assert_eq!(
        d(raw_preamble(1, 5, [0; 4])),
        Err(FrameError::BadSegmentCount(5))
    );
    assert_eq!(
        d(raw_preamble(17, 2, [1, 0, 0, 0])),
        Err(FrameError::EmptyLastSegment)
    );
}

#[test]
fn banners_are_checked() {
    let good = Banner {
        supported: 1,
        required: 0,
    }
    .encode();
    assert_eq!(Banner::parse(&mut BytesMut::from(&good[..5])), Ok(None));
    assert_eq!(
        Banner::parse(&mut BytesMut::from(&good[..]))
            .unwrap()
            .unwrap()
            .supported,
        1
    );
    // msgr1 banner and HTTP are refused at the first wrong byte.
    assert_eq!(
        Banner::parse(&mut BytesMut::from(&b"ceph v027"[..])),
        Err(FrameError::BadBanner)
    );
    assert_eq!(
        Banner::parse(&mut BytesMut::from(&b"HTTP"[..])),
        Err(FrameError::BadBanner)
    );
    let mut short = good;
    short[8] = 4;
    assert_eq!(
        Banner::parse(&mut BytesMut::from(&short[..])),
        Err(FrameError::BadBannerLength(4))
    );
}
