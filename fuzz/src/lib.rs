//! Helpers shared by the fuzz targets: cutting the fuzzer's input into
//! pieces, and sealing plaintext as the server side of a secure-mode
//! connection would, so targets can reach what lies behind the AES-GCM
//! check.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};

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
