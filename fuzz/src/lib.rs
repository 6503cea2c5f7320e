//! Helpers shared by the fuzz targets: cutting the fuzzer's input into
//! pieces, and sealing plaintext as the server side of a secure-mode
//! connection would, so targets can reach what lies behind the AES-GCM
//! check.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use ceph_denc::ceph_crc32c;

/// The connection secret every secure-mode target uses: a 16-byte AES key
/// then the two 12-byte nonces (client-receive first, client-send second).
pub const FIXED_CONNECTION_SECRET: [u8; 40] = {
    let mut s = [0u8; 40];
    let mut i = 0;
    while i < 40 {
        s[i] = (i as u8).wrapping_mul(37).wrapping_add(11);
        i += 1;
    }
    s
};

/// The session key the scripted auth client reports (keys AUTH_SIGNATURE).
pub const FIXED_SESSION_KEY: [u8; 16] = *b"fuzz-session-key";

/// Reads the fuzzer's bytes front to back; every read succeeds (running
/// out gives zeros / short slices) so targets never need to bail early.
pub struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { rest: data }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&b, rest)) => {
                self.rest = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.rest.len());
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        head
    }

    /// A piece prefixed by its u16 length.
    pub fn piece(&mut self) -> &'a [u8] {
        let n = self.u16() as usize;
        self.take(n)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }
}

/// The server's sending half of a secure-mode connection keyed with
/// [`FIXED_CONNECTION_SECRET`]: seals arbitrary plaintext blocks in the
/// order a client's receiver expects them.
pub struct ServerSealer {
    cipher: Aes128Gcm,
    nonce: [u8; 12],
}

impl Default for ServerSealer {
    fn default() -> Self {
        let s = &FIXED_CONNECTION_SECRET;
        ServerSealer {
            cipher: Aes128Gcm::new_from_slice(&s[..16]).expect("16-byte key"),
            // The server sends with the nonce the client receives with.
            nonce: s[16..28].try_into().expect("12 bytes"),
        }
    }
}

impl ServerSealer {
    /// Ciphertext then the 16-byte tag of one GCM message.
    pub fn seal(&mut self, plain: &[u8]) -> Vec<u8> {
        let mut buf = plain.to_vec();
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(&self.nonce), &[], &mut buf)
            .expect("in-memory GCM cannot fail");
        buf.extend_from_slice(&tag);
        let counter = u64::from_le_bytes(self.nonce[4..].try_into().expect("8 bytes"));
        self.nonce[4..].copy_from_slice(&counter.wrapping_add(1).to_le_bytes());
        buf
    }
}

/// Splits an OSD map target's input into its selector byte and the map
/// bytes, with the CRC recomputed unless bit 0 of the selector is set.
pub fn osdmap_input(data: &[u8]) -> Option<(u8, Vec<u8>)> {
    let (&selector, bytes) = data.split_first()?;
    let mut bytes = bytes.to_vec();
    if selector & 1 == 0 {
        fix_osdmap_crc(&mut bytes);
    }
    Some((selector, bytes))
}

/// Rewrites the CRC of an enveloped OSDMap or OSDMap::Incremental so a
/// mutated input is not rejected at the checksum before its fields are
/// read. The layout is a wrapper envelope holding two section envelopes
/// and then (wrapper version 8 and up) the CRC; anything that does not
/// have that shape is left alone for the decoder to reject.
pub fn fix_osdmap_crc(bytes: &mut [u8]) {
    let len_at = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at + 4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
    };
    let Some(&version) = bytes.first() else {
        return;
    };
    if version < 8 {
        return;
    }
    let Some(wrapper_len) = len_at(2) else {
        return;
    };
    let end = wrapper_len.saturating_add(6).min(bytes.len());
    let Some(client_len) = len_at(8) else {
        return;
    };
    let osd_at = 6usize.saturating_add(6).saturating_add(client_len);
    let Some(osd_len) = len_at(osd_at.saturating_add(2)) else {
        return;
    };
    let crc_at = osd_at.saturating_add(6).saturating_add(osd_len);
    if crc_at.saturating_add(4) > end {
        return;
    }
    // As Ceph does: seed -1, the CRC word itself left out.
    let crc = ceph_crc32c(
        ceph_crc32c(u32::MAX, &bytes[..crc_at]),
        &bytes[crc_at + 4..end],
    );
    bytes[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
}

/// Decodes `bytes` as `T` and checks the encoding round trip every decoder
/// target asserts: whatever decodes re-encodes (with every client feature)
/// to bytes that decode; the first encoding may normalize recorded
/// versions, after which encoding is a fixed point (same bytes, same
/// value). Returns what `bytes` decoded to, if anything.
pub fn round_trip<T>(bytes: &[u8]) -> Option<T>
where
    T: ceph_denc::Decode + ceph_denc::Encode + std::fmt::Debug,
{
    let first = T::decode_all(bytes).ok()?;
    let again = first.to_bytes(ceph_types::features::CLIENT_FEATURES_ALL);
    let second = match T::decode_all(&again) {
        Ok(second) => second,
        Err(e) => panic!("re-encoding of {first:?} does not decode: {e}"),
    };
    let third_bytes = second.to_bytes(ceph_types::features::CLIENT_FEATURES_ALL);
    assert_eq!(
        again, third_bytes,
        "re-encoding is not stable for {second:?}"
    );
    let third = T::decode_all(&third_bytes).expect("same bytes decode");
    // Debug, not ==: a NaN ratio is never equal to itself.
    assert_eq!(format!("{second:?}"), format!("{third:?}"));
    Some(first)
}
