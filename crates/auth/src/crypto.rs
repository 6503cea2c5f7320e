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
/// Length of an `aes256k` key.
const AES256K_KEY_LEN: usize = 32;

/// Key usage: the connection secret in AUTH_DONE (auth session key).
pub const KEY_USAGE_AUTH_CONNECTION_SECRET: u32 = 0x03;
/// Key usage: the client's part of a ticket reply (`CephXServiceTicket`).
pub const KEY_USAGE_TICKET_SESSION_KEY: u32 = 0x04;
/// Key usage: a ticket blob encrypted with the previous session key.
pub const KEY_USAGE_TICKET_BLOB: u32 = 0x05;
/// Key usage: the encrypted `CephXAuthorize` of an authorizer.
pub const KEY_USAGE_AUTHORIZE: u32 = 0x10;
/// Key usage: a service's `CephXAuthorizeChallenge`.
pub const KEY_USAGE_AUTHORIZE_CHALLENGE: u32 = 0x11;
/// Key usage: a service's `CephXAuthorizeReply`.
pub const KEY_USAGE_AUTHORIZE_REPLY: u32 = 0x12;

/// Key usage: rotating service secrets sent to a daemon (its own key).
pub const KEY_USAGE_ROTATING_SECRET: u32 = 0x20;

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
/// let ct = key.encrypt(0, b"hello").unwrap();
/// assert_eq!(key.decrypt(0, &ct).unwrap(), b"hello");
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

    /// Checks that the key suits its cipher.
    fn check(&self) -> Result<()> {
        let need = match self.cipher {
            CIPHER_AES => AES_KEY_LEN,
            CIPHER_AES256KRB5 => AES256K_KEY_LEN,
            other => return Err(AuthError::UnsupportedCipher(other, cipher_name(other))),
        };
        if self.secret.len() < need {
            return Err(AuthError::BadKey(format!(
                "{} key needs {need} bytes, has {}",
                cipher_name(self.cipher),
                self.secret.len()
            )));
        }
        Ok(())
    }

    /// Encrypts raw bytes with this key's cipher. `usage` (one of the
    /// `KEY_USAGE_*` constants) only matters to `aes256k`, which derives a
    /// separate key for each usage.
    pub fn encrypt(&self, usage: u32, plain: &[u8]) -> Result<Vec<u8>> {
        self.check()?;
        if self.cipher == CIPHER_AES256KRB5 {
            let confounder: [u8; 16] = rand::random();
            return Ok(crate::krb5::encrypt(&self.secret, usage, confounder, plain));
        }
        let key = &self.secret[..AES_KEY_LEN];
        let enc = AesCbcEnc::new_from_slices(key, &AES_IV)
            .map_err(|_| AuthError::BadKey("aes key length".into()))?;
        Ok(enc.encrypt_padded_vec_mut::<Pkcs7>(plain))
    }

    /// Decrypts raw bytes. A wrong key shows up as a bad tag (`aes256k`)
    /// or, usually, as bad padding (`aes`).
    pub fn decrypt(&self, usage: u32, cipher_text: &[u8]) -> Result<Vec<u8>> {
        self.check()?;
        if self.cipher == CIPHER_AES256KRB5 {
            return crate::krb5::decrypt(&self.secret, usage, cipher_text).ok_or_else(|| {
                AuthError::BadKey("aes256k integrity check failed (wrong key?)".into())
            });
        }
        let key = &self.secret[..AES_KEY_LEN];
        if cipher_text.is_empty() || !cipher_text.len().is_multiple_of(16) {
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
pub fn encrypt_payload<T: Encode + ?Sized>(
    key: &CryptoKey,
    usage: u32,
    value: &T,
) -> Result<Vec<u8>> {
    let mut plain = vec![1u8];
    AUTH_ENC_MAGIC.encode(&mut plain, 0);
    value.encode(&mut plain, 0);
    key.encrypt(usage, &plain)
}

/// Like [`encrypt_payload`], then appends the ciphertext as a length-prefixed
/// blob to `out` (Ceph's `encode_encrypt`).
pub fn encode_encrypt<T: Encode + ?Sized>(
    key: &CryptoKey,
    usage: u32,
    value: &T,
    out: &mut Vec<u8>,
) -> Result<()> {
    let ct = encrypt_payload(key, usage, value)?;
    encode_bytes(out, &ct);
    Ok(())
}

/// Decrypts a bare envelope ciphertext and decodes the value inside
/// (Ceph's `decode_decrypt_enc_bl`). Bytes after the value are ignored,
/// as Ceph does.
pub fn decrypt_payload<T: Decode>(key: &CryptoKey, usage: u32, cipher_text: &[u8]) -> Result<T> {
    let plain = key.decrypt(usage, cipher_text)?;
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
pub fn decode_decrypt<T: Decode>(key: &CryptoKey, usage: u32, d: &mut Decoder<'_>) -> Result<T> {
    let ct = d.bytes("encrypted blob")?;
    decrypt_payload(key, usage, ct)
}

/// The pair of challenges that the client encrypts to prove it holds its
/// key (no version byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CephXChallengeBlob {
    /// The monitor's challenge.
    pub server_challenge: u64,
    /// Ours.
    pub client_challenge: u64,
}

impl Decode for CephXChallengeBlob {
    fn decode(d: &mut Decoder<'_>) -> ceph_denc::Result<Self> {
        Ok(CephXChallengeBlob {
            server_challenge: d.u64("CephXChallengeBlob.server_challenge")?,
            client_challenge: d.u64("CephXChallengeBlob.client_challenge")?,
        })
    }
}
impl Encode for CephXChallengeBlob {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        self.server_challenge.encode(out, f);
        self.client_challenge.encode(out, f);
    }
}

/// The 64-bit proof of key possession a client sends in
/// `CephXAuthenticate::key`, folded by XOR of whole little-endian 64-bit
/// words from a digest of the challenge pair (`CephXChallengeBlob`): for
/// `aes`, the length-prefixed envelope ciphertext under the client's key;
/// for `aes256k`, HMAC-SHA256 keyed by the raw secret.
pub fn challenge_key(key: &CryptoKey, server_challenge: u64, client_challenge: u64) -> Result<u64> {
    let blob = CephXChallengeBlob {
        server_challenge,
        client_challenge,
    };
    let enc = if key.cipher == CIPHER_AES256KRB5 {
        key.check()?;
        let mut m = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&key.secret)
            .expect("HMAC takes any key length");
        hmac::Mac::update(&mut m, &blob.to_bytes(0));
        hmac::Mac::finalize(m).into_bytes().to_vec()
    } else {
        let mut enc = Vec::new();
        encode_encrypt(key, 0, &blob, &mut enc)?;
        enc
    };
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
            let ct = k.encrypt(0, &plain).unwrap();
            assert_eq!(ct.len(), (n / 16 + 1) * 16);
            assert_eq!(k.decrypt(0, &ct).unwrap(), plain);
        }
    }

    #[test]
    fn wrong_key_is_bad_key() {
        let ct = encrypt_payload(&key(), 4, &7u64).unwrap();
        let other = CryptoKey::new(CIPHER_AES, UTime::default(), vec![9; 16]);
        assert!(matches!(
            decrypt_payload::<u64>(&other, 4, &ct),
            Err(AuthError::BadKey(_))
        ));
        assert_eq!(decrypt_payload::<u64>(&key(), 4, &ct).unwrap(), 7);
    }

    #[test]
    fn bad_ciphertext_lengths_are_errors() {
        assert!(key().decrypt(0, &[]).is_err());
        assert!(key().decrypt(0, &[0; 15]).is_err());
    }

    #[test]
    fn short_and_foreign_keys_are_rejected() {
        let short = CryptoKey::new(CIPHER_AES, UTime::default(), vec![1; 8]);
        assert!(matches!(short.encrypt(0, b"x"), Err(AuthError::BadKey(_))));
        let short256 = CryptoKey::new(CIPHER_AES256KRB5, UTime::default(), vec![1; 16]);
        assert!(matches!(
            short256.encrypt(0, b"x"),
            Err(AuthError::BadKey(_))
        ));
        let unknown = CryptoKey::new(7, UTime::default(), vec![1; 32]);
        assert!(matches!(
            unknown.encrypt(0, b"x"),
            Err(AuthError::UnsupportedCipher(7, "unknown"))
        ));
        let k256 = CryptoKey::new(CIPHER_AES256KRB5, UTime::default(), vec![1; 32]);
        let ct = encrypt_payload(&k256, 0x10, &9u64).unwrap();
        assert_eq!(decrypt_payload::<u64>(&k256, 0x10, &ct).unwrap(), 9);
        assert!(decrypt_payload::<u64>(&k256, 0x11, &ct).is_err());
    }

    #[test]
    fn base64_round_trip() {
        let text = "AQCtgwprcghQMhAAzlSVz8lamy41d8MITlpQAg==";
        let k = CryptoKey::from_base64(text).unwrap();
        assert_eq!(k.cipher(), CIPHER_AES);
        assert_eq!(k.to_base64(), text);
    }
}
