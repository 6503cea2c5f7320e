//! AES-128-GCM framing for secure mode.
//!
//! The connection secret from authentication holds the key (16 bytes) and
//! two 12-byte nonces: the first is for what the client receives, the
//! second for what it sends (the server uses them crossed). A nonce is a
//! `u32` fixed part and a `u64` little-endian counter that advances by one
//! for every GCM message (msgr2.1 nonce format).

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};

pub(crate) const GCM_TAG_LEN: usize = 16;
const KEY_LEN: usize = 16;
const NONCE_LEN: usize = 12;

/// Why a GCM message could not be opened or sealed; the frame layer turns
/// it into its own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecureError {
    /// The message failed authentication (or the cipher refused it).
    Decrypt,
    /// Sealing once more would reuse a nonce under the same key.
    NoncesExhausted,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct NonceState {
    bytes: [u8; NONCE_LEN],
}

impl NonceState {
    fn advance(&mut self) {
        let counter = u64::from_le_bytes(self.bytes[4..].try_into().expect("8 bytes"));
        self.bytes[4..].copy_from_slice(&counter.wrapping_add(1).to_le_bytes());
    }
}

/// Decrypts received GCM messages.
pub(crate) struct SecureRx {
    cipher: Aes128Gcm,
    nonce: NonceState,
}

/// Encrypts GCM messages to send.
pub(crate) struct SecureTx {
    cipher: Aes128Gcm,
    nonce: NonceState,
    initial: NonceState,
    used_initial: bool,
}

/// Builds the handler pair from a connection secret; `None` if it is too
/// short.
pub(crate) fn handlers_from_secret(secret: &[u8], is_server: bool) -> Option<(SecureRx, SecureTx)> {
    if secret.len() < KEY_LEN + 2 * NONCE_LEN {
        return None;
    }
    let cipher = Aes128Gcm::new_from_slice(&secret[..KEY_LEN]).ok()?;
    let first = NonceState {
        bytes: secret[KEY_LEN..KEY_LEN + NONCE_LEN].try_into().ok()?,
    };
    let second = NonceState {
        bytes: secret[KEY_LEN + NONCE_LEN..KEY_LEN + 2 * NONCE_LEN]
            .try_into()
            .ok()?,
    };
    let (rx_nonce, tx_nonce) = if is_server {
        (second, first)
    } else {
        (first, second)
    };
    Some((
        SecureRx {
            cipher: cipher.clone(),
            nonce: rx_nonce,
        },
        SecureTx {
            cipher,
            nonce: tx_nonce,
            initial: tx_nonce,
            used_initial: false,
        },
    ))
}

impl SecureRx {
    /// Authenticates and decrypts one message (ciphertext then 16-byte tag).
    pub(crate) fn open(&mut self, sealed: &[u8]) -> Result<Vec<u8>, SecureError> {
        if sealed.len() < GCM_TAG_LEN {
            return Err(SecureError::Decrypt);
        }
        let (body, tag) = sealed.split_at(sealed.len() - GCM_TAG_LEN);
        let nonce = self.nonce.bytes;
        self.nonce.advance();
        let mut plain = body.to_vec();
        self.cipher
            .decrypt_in_place_detached(Nonce::from_slice(&nonce), &[], &mut plain, tag.into())
            .map_err(|_| SecureError::Decrypt)?;
        Ok(plain)
    }
}

impl SecureTx {
    /// Encrypts one message, appending the tag.
    pub(crate) fn seal(&mut self, mut plain: Vec<u8>) -> Result<Vec<u8>, SecureError> {
        if self.nonce == self.initial {
            // A wrapped counter would reuse a nonce under the same key.
            if self.used_initial {
                return Err(SecureError::NoncesExhausted);
            }
            self.used_initial = true;
        }
        let nonce = self.nonce.bytes;
        self.nonce.advance();
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), &[], &mut plain)
            .map_err(|_| SecureError::Decrypt)?;
        plain.extend_from_slice(&tag);
        Ok(plain)
    }
}
