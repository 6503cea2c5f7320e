//! CephX keys and the symmetric cipher built on them.
//!
//! A [`CryptoKey`] is Ceph's key record: cipher type, creation time and the
//! raw secret. The base64 text in a keyring is this record's wire encoding.
//! CephX's legacy cipher (`aes`) is AES-128-CBC with a fixed IV and PKCS#7
//! padding; every CephX ciphertext is an [`encrypt_payload`] envelope (a
//! version byte and a magic number ahead of the encoded value), so that a
//! wrong key is detected instead of yielding garbage.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use ceph_denc::{encode_bytes, Decode, Decoder, Encode};

use crate::error::{AuthError, Result};
use crate::UTime;

/// Cipher type 0: no encryption (never used for real keys).
pub const CIPHER_NONE: u16 = 0;
/// Cipher type 1: `aes`, AES-128-CBC (every release up to Squid).
pub const CIPHER_AES: u16 = 1;
/// Cipher type 2: `aes256k`, AES-256-CTS-HMAC-SHA384-192 (Kerberos-style,
/// RFC 8009), the Tentacle default.
pub const CIPHER_AES256KRB5: u16 = 2;

/// Ceph's fixed CBC initialisation vector for the `aes` cipher.
const AES_IV: [u8; 16] = *b"cephsageyudagreg";
/// Length of an `aes` key; Ceph uses the first 16 bytes of the secret.
const AES_KEY_LEN: usize = 16;
/// Magic number that starts every encrypted CephX envelope.
pub const AUTH_ENC_MAGIC: u64 = 0xff00_9cad_8826_aa55;

type AesCbcEnc = cbc::Encryptor<aes::Aes128>;
type AesCbcDec = cbc::Decryptor<aes::Aes128>;

/// A CephX secret key with its cipher type and creation time.
///
/// ```
/// use ceph_auth::CryptoKey;
/// let key = CryptoKey::from_base64("AQCtgwprcghQMhAAzlSVz8lamy41d8MITlpQAg==").unwrap();
/// assert_eq!(key.secret().len(), 16);
/// assert_eq!(format!("{key:?}"), "CryptoKey { cipher: 1, secret: <redacted> }");
/// let ct = key.encrypt(b"hello").unwrap();
/// assert_eq!(key.decrypt(&ct).unwrap(), b"hello");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CryptoKey {
    cipher: u16,
    created: UTime,
    secret: Vec<u8>,
}

impl std::fmt::Debug for CryptoKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secret material, not even its length.
        write!(
            f,
            "CryptoKey {{ cipher: {}, secret: <redacted> }}",
            self.cipher
        )
    }
}

/// A human name for a cipher type, for error messages.
pub fn cipher_name(cipher: u16) -> &'static str {
    match cipher {
        CIPHER_NONE => "none",
        CIPHER_AES => "aes",
        CIPHER_AES256KRB5 => "aes256k",
        _ => "unknown",
    }
}

impl CryptoKey {
    /// A key from its parts. The secret is not validated until used.
    pub fn new(cipher: u16, created: UTime, secret: Vec<u8>) -> Self {
        CryptoKey {
            cipher,
            created,
            secret,
        }
    }

    /// Parses the base64 form found in keyrings (`AQ...==`).
    pub fn from_base64(text: &str) -> Result<Self> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| AuthError::Keyring(format!("key is not valid base64: {e}")))?;
        Ok(CryptoKey::decode_all(&raw)?)
    }

    /// The base64 form, as written in keyrings.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.to_bytes(0))
    }

    /// The cipher type (`CIPHER_AES`, `CIPHER_AES256KRB5`, ...).
    pub fn cipher(&self) -> u16 {
        self.cipher
    }

    /// When the key was created.
    pub fn created(&self) -> UTime {
        self.created
    }

    /// The raw secret bytes (the HMAC key for msgr2 signatures, or the
    /// AES-GCM key material of a connection secret).
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// True for the all-default "no key" value.
    pub fn is_empty(&self) -> bool {
        self.secret.is_empty()
    }

    fn aes_key(&self) -> Result<&[u8]> {
        match self.cipher {
            CIPHER_AES if self.secret.len() >= AES_KEY_LEN => Ok(&self.secret[..AES_KEY_LEN]),
            CIPHER_AES => Err(AuthError::BadKey(format!(
                "aes key needs {AES_KEY_LEN} bytes, has {}",
                self.secret.len()
            ))),
            other => Err(AuthError::UnsupportedCipher(other, cipher_name(other))),
        }
    }

    /// Encrypts raw bytes with this key's cipher.
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>> {
        let key = self.aes_key()?;
        let enc = AesCbcEnc::new_from_slices(key, &AES_IV)
            .map_err(|_| AuthError::BadKey("aes key length".into()))?;
        Ok(enc.encrypt_padded_vec_mut::<Pkcs7>(plain))
    }

    /// Decrypts raw bytes; a wrong key usually shows up as bad padding.
    pub fn decrypt(&self, cipher_text: &[u8]) -> Result<Vec<u8>> {
        let key = self.aes_key()?;
        if cipher_text.is_empty() || cipher_text.len() % 16 != 0 {
            return Err(AuthError::BadKey(format!(
                "ciphertext length {} is not a positive multiple of 16",
                cipher_text.len()
            )));
        }
        let dec = AesCbcDec::new_from_slices(key, &AES_IV)
            .map_err(|_| AuthError::BadKey("aes key length".into()))?;
        dec.decrypt_padded_vec_mut::<Pkcs7>(cipher_text)
            .map_err(|_| AuthError::BadKey("bad padding after decryption (wrong key?)".into()))
    }
}

impl Decode for CryptoKey {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        let cipher = d.u16("CryptoKey.type")?;
        let created = UTime::decode(d)?;
        let len = d.u16("CryptoKey.len")? as usize;
        let secret = d.take(len, "CryptoKey.secret")?.to_vec();
        Ok(CryptoKey {
            cipher,
            created,
            secret,
        })
    }
}

impl Encode for CryptoKey {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        self.cipher.encode(out, features);
        self.created.encode(out, features);
        (self.secret.len() as u16).encode(out, features);
        out.extend_from_slice(&self.secret);
    }
}

/// Encrypts `value` inside CephX's envelope (`u8 1`, `u64 AUTH_ENC_MAGIC`,
/// the encoded value) and returns the bare ciphertext (Ceph's
/// `encode_encrypt_enc_bl`).
pub fn encrypt_payload<T: Encode + ?Sized>(key: &CryptoKey, value: &T) -> Result<Vec<u8>> {
    let mut plain = vec![1u8];
    AUTH_ENC_MAGIC.encode(&mut plain, 0);
    value.encode(&mut plain, 0);
    key.encrypt(&plain)
}

/// Like [`encrypt_payload`], then appends the ciphertext as a length-prefixed
/// blob to `out` (Ceph's `encode_encrypt`).
pub fn encode_encrypt<T: Encode + ?Sized>(
    key: &CryptoKey,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<()> {
    let ct = encrypt_payload(key, value)?;
    encode_bytes(out, &ct);
    Ok(())
}

/// Decrypts a bare envelope ciphertext and decodes the value inside
/// (Ceph's `decode_decrypt_enc_bl`). Bytes after the value are ignored,
/// as Ceph does.
pub fn decrypt_payload<T: Decode>(key: &CryptoKey, cipher_text: &[u8]) -> Result<T> {
    let plain = key.decrypt(cipher_text)?;
    let mut d = Decoder::new(&plain);
    let _struct_v = d.u8("enc envelope version")?;
    let magic = d.u64("enc envelope magic")?;
    if magic != AUTH_ENC_MAGIC {
        return Err(AuthError::BadKey(format!(
            "bad envelope magic {magic:#x} (wrong key?)"
        )));
    }
    Ok(T::decode(&mut d)?)
}

/// Reads a length-prefixed envelope ciphertext from `d` and decrypts it
/// (Ceph's `decode_decrypt`).
pub fn decode_decrypt<T: Decode>(key: &CryptoKey, d: &mut Decoder<'_>) -> Result<T> {
    let ct = d.bytes("encrypted blob")?;
    decrypt_payload(key, ct)
}

/// The 64-bit proof of key possession a client sends in
/// `CephXAuthenticate::key`: the challenge pair encrypted under the client's
/// key, the length-prefixed ciphertext folded by XOR of its whole
/// little-endian 64-bit words.
pub fn challenge_key(key: &CryptoKey, server_challenge: u64, client_challenge: u64) -> Result<u64> {
    let blob = crate::types::CephXChallengeBlob {
        server_challenge,
        client_challenge,
    };
    let mut enc = Vec::new();
    encode_encrypt(key, &blob, &mut enc)?;
    Ok(enc
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().expect("8-byte chunk")))
        .fold(0, |acc, w| acc ^ w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CryptoKey {
        CryptoKey::new(CIPHER_AES, UTime::default(), (0u8..16).collect())
    }

    #[test]
    fn aes_round_trip_and_padding() {
        let k = key();
        for n in [0usize, 1, 15, 16, 17, 100] {
            let plain = vec![0xa5u8; n];
            let ct = k.encrypt(&plain).unwrap();
            assert_eq!(ct.len(), (n / 16 + 1) * 16);
            assert_eq!(k.decrypt(&ct).unwrap(), plain);
        }
    }

    #[test]
    fn wrong_key_is_bad_key() {
        let ct = encrypt_payload(&key(), &7u64).unwrap();
        let other = CryptoKey::new(CIPHER_AES, UTime::default(), vec![9; 16]);
        assert!(matches!(
            decrypt_payload::<u64>(&other, &ct),
            Err(AuthError::BadKey(_))
        ));
        assert_eq!(decrypt_payload::<u64>(&key(), &ct).unwrap(), 7);
    }

    #[test]
    fn bad_ciphertext_lengths_are_errors() {
        assert!(key().decrypt(&[]).is_err());
        assert!(key().decrypt(&[0; 15]).is_err());
    }

    #[test]
    fn short_and_foreign_keys_are_rejected() {
        let short = CryptoKey::new(CIPHER_AES, UTime::default(), vec![1; 8]);
        assert!(matches!(short.encrypt(b"x"), Err(AuthError::BadKey(_))));
        let k2 = CryptoKey::new(CIPHER_AES256KRB5, UTime::default(), vec![1; 32]);
        assert!(matches!(
            k2.encrypt(b"x"),
            Err(AuthError::UnsupportedCipher(2, "aes256k"))
        ));
    }

    #[test]
    fn base64_round_trip() {
        let text = "AQCtgwprcghQMhAAzlSVz8lamy41d8MITlpQAg==";
        let k = CryptoKey::from_base64(text).unwrap();
        assert_eq!(k.cipher(), CIPHER_AES);
        assert_eq!(k.to_base64(), text);
    }
}
