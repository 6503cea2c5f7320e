//! The `aes256k` cipher (Tentacle): AES-256-CTS-HMAC-SHA384-192 as RFC 8009
//! defines it. Each use of a key derives its own encryption and integrity
//! keys from a "key usage" number, so a ciphertext made for one purpose
//! does not verify for another.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes256;
use hmac::{Hmac, Mac};
use sha2::Sha384;

const BLOCK: usize = 16;
/// Length of the integrity tag appended to each ciphertext (192 bits).
const TAG_LEN: usize = 24;

type HmacSha384 = Hmac<Sha384>;

fn hmac384(key: &[u8], parts: &[&[u8]]) -> [u8; 48] {
    let mut m = <HmacSha384 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// RFC 8009 KDF-HMAC-SHA2 with an empty context: the first `bits` bits of
/// HMAC-SHA384(base, 1 | usage | tag | 0 | bits), integers big-endian.
fn derive(base: &[u8], usage: u32, tag: u8, bits: u32) -> Vec<u8> {
    let out = hmac384(
        base,
        &[
            &1u32.to_be_bytes(),
            &usage.to_be_bytes(),
            &[tag, 0],
            &bits.to_be_bytes(),
        ],
    );
    out[..(bits / 8) as usize].to_vec()
}

fn xor(a: &mut [u8], b: &[u8]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

/// AES-CBC with ciphertext stealing (the CS3 variant Kerberos uses), zero
/// IV. `data` is at least one block long.
fn cts_encrypt(cipher: &Aes256, data: &[u8]) -> Vec<u8> {
    let mut prev = [0u8; BLOCK];
    let mut blocks: Vec<[u8; BLOCK]> = Vec::with_capacity(data.len().div_ceil(BLOCK));
    for chunk in data.chunks(BLOCK) {
        let mut b = [0u8; BLOCK];
        b[..chunk.len()].copy_from_slice(chunk);
        xor(&mut b, &prev);
        cipher.encrypt_block(GenericArray::from_mut_slice(&mut b));
        prev = b;
        blocks.push(b);
    }
    let n = blocks.len();
    if n > 1 {
        // The last two ciphertext blocks change places and the (now last)
        // second-to-last one is cut to the length of the final plaintext part.
        blocks.swap(n - 2, n - 1);
    }
    let mut out: Vec<u8> = blocks.concat();
    out.truncate(data.len());
    out
}

fn cts_decrypt(cipher: &Aes256, data: &[u8]) -> Vec<u8> {
    let n = data.len().div_ceil(BLOCK);
    let dec = |b: &[u8]| {
        let mut x = [0u8; BLOCK];
        x.copy_from_slice(b);
        cipher.decrypt_block(GenericArray::from_mut_slice(&mut x));
        x
    };
    if n == 1 {
        return dec(data).to_vec();
    }
    let tail = data.len() - BLOCK * (n - 1);
    let mut out = Vec::with_capacity(data.len());
    let mut prev = [0u8; BLOCK];
    for b in data[..BLOCK * (n - 2)].chunks(BLOCK) {
        let mut p = dec(b);
        xor(&mut p, &prev);
        out.extend_from_slice(&p);
        prev.copy_from_slice(b);
    }
    // Block n-1 on the wire is the encryption of the final (padded) block;
    // its decryption supplies the stolen bytes of the short block n.
    let stolen = dec(&data[BLOCK * (n - 2)..BLOCK * (n - 1)]);
    let mut last_cipher = [0u8; BLOCK];
    last_cipher[..tail].copy_from_slice(&data[BLOCK * (n - 1)..]);
    last_cipher[tail..].copy_from_slice(&stolen[tail..]);
    let mut full = dec(&last_cipher);
    xor(&mut full, &prev);
    out.extend_from_slice(&full);
    let mut part = stolen;
    xor(&mut part, &last_cipher);
    out.extend_from_slice(&part[..tail]);
    out
}

fn keys(base: &[u8], usage: u32) -> (Aes256, Vec<u8>) {
    let ke = derive(base, usage, 0xaa, 256);
    let ki = derive(base, usage, 0x55, 192);
    (Aes256::new(GenericArray::from_slice(&ke)), ki)
}

/// Encrypts with a fresh 16-byte `confounder` in front of the data and an
/// HMAC tag behind.
pub(crate) fn encrypt(base: &[u8], usage: u32, confounder: [u8; 16], plain: &[u8]) -> Vec<u8> {
    let (ke, ki) = keys(base, usage);
    let mut data = confounder.to_vec();
    data.extend_from_slice(plain);
    let mut out = cts_encrypt(&ke, &data);
    let tag = hmac384(&ki, &[&[0u8; BLOCK], &out]);
    out.extend_from_slice(&tag[..TAG_LEN]);
    out
}

/// Verifies the tag and decrypts; `None` if the tag does not match (wrong
/// key, wrong usage or tampering) or the input is too short.
pub(crate) fn decrypt(base: &[u8], usage: u32, data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < BLOCK + TAG_LEN {
        return None;
    }
    let (body, tag) = data.split_at(data.len() - TAG_LEN);
    let (ke, ki) = keys(base, usage);
    let mut m = <HmacSha384 as Mac>::new_from_slice(&ki).expect("HMAC takes any key length");
    m.update(&[0u8; BLOCK]);
    m.update(body);
    m.verify_truncated_left(tag).ok()?;
    let plain = cts_decrypt(&ke, body);
    Some(plain[BLOCK..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8009_key_derivation_vectors() {
        // RFC 8009 appendix: Ki and Ke for key usage 2.
        let base = hex::decode("6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52")
            .unwrap();
        assert_eq!(
            hex::encode(derive(&base, 2, 0x55, 192)),
            "69b16514e3cd8e56b82010d5c73012b622c4d00ffc23ed1f"
        );
        assert_eq!(
            hex::encode(derive(&base, 2, 0xaa, 256)),
            "56ab22bee63d82d7bc5227f6773f8ea7a5eb1c825160c38312980c442e5c7e49"
        );
        let plain = b"twenty-one bytes long";
        let ct = encrypt(&base, 2, [0x5a; 16], plain);
        assert_eq!(decrypt(&base, 2, &ct).unwrap(), plain);
        assert!(decrypt(&base, 3, &ct).is_none());
    }

    #[test]
    fn round_trips_all_lengths() {
        let base = [7u8; 32];
        for n in 0..70 {
            let plain: Vec<u8> = (0..n as u8).collect();
            let ct = encrypt(&base, 4, [3; 16], &plain);
            assert_eq!(ct.len(), 16 + n + 24);
            assert_eq!(decrypt(&base, 4, &ct).unwrap(), plain, "len {n}");
        }
    }
}
