//! msgr1 message signatures: a 64-bit value in the footer, computed from
//! the header and segment crcs with the session key CephX gave the
//! connection (the authorizer's key; monitor sessions of clients carry no
//! authorizer and so no signatures).
//!
//! Three forms, by what the two sides support and the key's cipher:
//! - legacy (peer without `CEPHX_V2`): AES-128-CBC of the CephX envelope
//!   (version, magic, length) around the four crcs; the first eight
//!   ciphertext bytes are the signature;
//! - `CEPHX_V2`: AES-128-CBC of the crcs and lengths and the low word of
//!   the sequence number; the XOR of the first four ciphertext words;
//! - `aes256k` session keys (Tentacle; 19.2.6+ / 20.2.4+): the Kerberos
//!   cipher is randomised, so the same block is hashed with HMAC-SHA256
//!   keyed by the session secret, and the four digest words XORed.

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::wire::{MsgFooter, MsgHeader};

/// CephX's fixed CBC initialisation vector.
const AES_IV: [u8; 16] = *b"cephsageyudagreg";
/// CephX's envelope magic.
const ENC_MAGIC: u64 = 0xff00_9cad_8826_aa55;
/// Length of an `aes256k` secret; `aes` secrets are 16 bytes.
const AES256K_SECRET_LEN: usize = 32;

/// The session key as the signer needs it.
#[derive(Clone, PartialEq, Eq)]
pub enum SigningKey {
    /// `aes` (AES-128-CBC): the 16-byte secret.
    Aes([u8; 16]),
    /// `aes256k`: the 32-byte secret, used as an HMAC key.
    Aes256k(Vec<u8>),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SigningKey::Aes(_) => f.write_str("SigningKey::Aes(<redacted>)"),
            SigningKey::Aes256k(_) => f.write_str("SigningKey::Aes256k(<redacted>)"),
        }
    }
}

impl SigningKey {
    /// The key for a raw session secret: 32 bytes are an `aes256k` key,
    /// 16 or more otherwise an `aes` one (its first 16 bytes, as CephX
    /// uses them). `None` for anything shorter (no signing possible).
    pub fn from_secret(secret: &[u8]) -> Option<SigningKey> {
        if secret.len() == AES256K_SECRET_LEN {
            Some(SigningKey::Aes256k(secret.to_vec()))
        } else {
            let k: [u8; 16] = secret.get(..16)?.try_into().ok()?;
            Some(SigningKey::Aes(k))
        }
    }

    /// The signature of a message with this header and footer crcs.
    /// `cephx_v2`: both sides have the `CEPHX_V2` feature.
    pub fn sign(&self, header: &MsgHeader, footer: &MsgFooter, cephx_v2: bool) -> u64 {
        match self {
            SigningKey::Aes(key) if !cephx_v2 => {
                let mut block = Vec::with_capacity(29);
                block.push(1u8);
                block.extend_from_slice(&ENC_MAGIC.to_le_bytes());
                block.extend_from_slice(&16u32.to_le_bytes());
                for crc in [
                    header.crc,
                    footer.front_crc,
                    footer.middle_crc,
                    footer.data_crc,
                ] {
                    block.extend_from_slice(&crc.to_le_bytes());
                }
                let ct = aes_cbc(key, &block);
                u64::from_le_bytes(ct[..8].try_into().expect("ciphertext has a block"))
            }
            SigningKey::Aes(key) => fold4(&aes_cbc(key, &v2_block(header, footer))),
            SigningKey::Aes256k(secret) => {
                let mut mac = <Hmac<Sha256>>::new_from_slice(secret).expect("any key length");
                mac.update(&v2_block(header, footer));
                fold4(&mac.finalize().into_bytes())
            }
        }
    }
}

/// The block signed by `CEPHX_V2` peers.
fn v2_block(header: &MsgHeader, footer: &MsgFooter) -> Vec<u8> {
    let mut block = Vec::with_capacity(32);
    for w in [
        header.crc,
        footer.front_crc,
        header.front_len,
        footer.middle_crc,
        header.middle_len,
        footer.data_crc,
        header.data_len,
        header.seq as u32,
    ] {
        block.extend_from_slice(&w.to_le_bytes());
    }
    block
}

fn aes_cbc(key: &[u8; 16], plain: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<aes::Aes128>::new(key.into(), &AES_IV.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plain)
}

/// XOR of the first four little-endian 64-bit words.
fn fold4(b: &[u8]) -> u64 {
    b.chunks_exact(8)
        .take(4)
        .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")))
        .fold(0, |a, w| a ^ w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> (MsgHeader, MsgFooter) {
        let mut h = MsgHeader {
            seq: 5,
            front_len: 3,
            ..MsgHeader::default()
        };
        h.crc = h.compute_crc();
        let f = MsgFooter {
            front_crc: 0x1234,
            ..MsgFooter::default()
        };
        (h, f)
    }

    #[test]
    fn forms_differ_and_depend_on_every_input() {
        let (h, f) = msg();
        let aes = SigningKey::from_secret(&[7; 16]).unwrap();
        let k256 = SigningKey::from_secret(&[7; 32]).unwrap();
        assert!(matches!(k256, SigningKey::Aes256k(_)));
        let sigs = [
            aes.sign(&h, &f, false),
            aes.sign(&h, &f, true),
            k256.sign(&h, &f, true),
        ];
        assert_ne!(sigs[0], sigs[1]);
        assert_ne!(sigs[1], sigs[2]);
        // Deterministic (the receiver recomputes it).
        assert_eq!(aes.sign(&h, &f, true), sigs[1]);
        assert_eq!(k256.sign(&h, &f, true), sigs[2]);
        let mut h2 = h;
        h2.seq += 1;
        assert_ne!(aes.sign(&h2, &f, true), sigs[1]);
        assert_eq!(aes.sign(&h2, &f, false), sigs[0], "legacy form ignores seq");
        assert!(SigningKey::from_secret(&[1; 8]).is_none());
        assert_eq!(format!("{aes:?}"), "SigningKey::Aes(<redacted>)");
    }

    #[test]
    fn legacy_form_is_the_first_ciphertext_word() {
        // The envelope (29 bytes) pads to two AES blocks; the signature is
        // the first 8 bytes of the first.
        let (h, f) = msg();
        let key = [3u8; 16];
        let mut block = vec![1u8];
        block.extend_from_slice(&ENC_MAGIC.to_le_bytes());
        block.extend_from_slice(&16u32.to_le_bytes());
        for w in [h.crc, f.front_crc, f.middle_crc, f.data_crc] {
            block.extend_from_slice(&w.to_le_bytes());
        }
        let ct = aes_cbc(&key, &block);
        assert_eq!(ct.len(), 32);
        let want = u64::from_le_bytes(ct[..8].try_into().unwrap());
        assert_eq!(SigningKey::Aes(key).sign(&h, &f, false), want);
    }
}
