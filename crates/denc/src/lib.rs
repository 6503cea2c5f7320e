//! Ceph's wire encoding ("denc"): little-endian primitives, length-prefixed
//! containers and the versioned struct envelope (`struct_v`, `compat_v`, `len`).
//!
//! Decoding is total: every read is bounds-checked, container counts never
//! size an allocation beyond what the remaining input could hold, and a
//! malformed envelope yields an error rather than a panic.
//!
//! ```
//! use ceph_denc::{Decode, Decoder, Encode};
//!
//! let mut out = Vec::new();
//! (7u32, String::from("mon")).encode(&mut out, 0);
//! let mut d = Decoder::new(&out);
//! let (n, s): (u32, String) = Decode::decode(&mut d).unwrap();
//! assert_eq!((n, s.as_str()), (7, "mon"));
//! assert!(d.is_empty());
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};

/// Why a decode failed. `what` names the field or type being read, so that
/// errors from deep inside a map still say where they happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended early.
    #[error("{what}: need {need} bytes, {have} left")]
    Short {
        /// What was being read.
        what: &'static str,
        /// Bytes the read needed.
        need: usize,
        /// Bytes that were left.
        have: usize,
    },
    /// The encoding's compat version is newer than this decoder knows.
    #[error("{what}: encoding needs version {compat}, we understand up to {supported}")]
    TooNew {
        /// What was being read.
        what: &'static str,
        /// The oldest decoder version the encoding allows.
        compat: u8,
        /// The newest version this decoder reads.
        supported: u8,
    },
    /// The encoding is older than the oldest version this decoder reads.
    #[error("{what}: version {version} is older than the oldest we read ({oldest})")]
    TooOld {
        /// What was being read.
        what: &'static str,
        /// The encoding's version.
        version: u8,
        /// The oldest version this decoder reads.
        oldest: u8,
    },
    /// Well-formed bytes that are not a valid value.
    #[error("{what}: {reason}")]
    Invalid {
        /// What was being read.
        what: &'static str,
        /// Why the value is not valid.
        reason: String,
    },
    /// Bytes were left over after a value that must use all of its input.
    #[error("{what}: {left} trailing bytes")]
    Trailing {
        /// What was being read.
        what: &'static str,
        /// How many bytes were left.
        left: usize,
    },
}

impl DecodeError {
    /// A value that is well-formed bytes but not a valid value.
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        DecodeError::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

/// A decode result.
pub type Result<T> = std::result::Result<T, DecodeError>;

/// A cursor over an input buffer. Cheap to copy; sub-decoders for envelopes
/// are views of a prefix of the remaining input.
#[derive(Debug, Clone, Copy)]
pub struct Decoder<'a> {
    buf: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// A decoder at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Decoder { buf }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// True when every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The unconsumed input.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self, what: &'static str) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing {
                what,
                left: self.buf.len(),
            })
        }
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if n > self.buf.len() {
            return Err(DecodeError::Short {
                what,
                need: n,
                have: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Skips exactly `n` bytes.
    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<()> {
        self.take(n, what).map(|_| ())
    }

    /// Takes exactly `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let b = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    /// A little-endian `u8`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }
    /// A little-endian `u16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    /// A little-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    /// A little-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    /// A little-endian `i32`.
    pub fn i32(&mut self, what: &'static str) -> Result<i32> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }
    /// A little-endian `i64`.
    pub fn i64(&mut self, what: &'static str) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }
    /// A `bool` (one byte, non-zero is true).
    pub fn bool(&mut self, what: &'static str) -> Result<bool> {
        Ok(self.u8(what)? != 0)
    }

    /// A `u32` length followed by that many bytes (a Ceph `bufferlist`).
    pub fn bytes(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }

    /// A `u32` element count, checked against what the input could hold if
    /// every element took at least `min_elem_size` bytes, so a hostile
    /// count cannot trigger a huge allocation or a long loop.
    pub fn count(&mut self, min_elem_size: usize, what: &'static str) -> Result<usize> {
        let n = self.u32(what)? as usize;
        let min = n.saturating_mul(min_elem_size.max(1));
        if min > self.buf.len() {
            return Err(DecodeError::Short {
                what,
                need: min,
                have: self.buf.len(),
            });
        }
        Ok(n)
    }

    /// Reads a versioned envelope: `struct_v: u8, compat_v: u8, len: u32`,
    /// then runs `body` on exactly `len` bytes. Fails if `compat_v` is newer
    /// than `supported`. Bytes the body leaves unread (fields from a newer
    /// encoder) are skipped, as Ceph's `DECODE_FINISH` does.
    pub fn envelope<T>(
        &mut self,
        what: &'static str,
        supported: u8,
        body: impl FnOnce(&mut Decoder<'a>, u8) -> Result<T>,
    ) -> Result<T> {
        let struct_v = self.u8(what)?;
        let compat_v = self.u8(what)?;
        if compat_v > supported {
            return Err(DecodeError::TooNew {
                what,
                compat: compat_v,
                supported,
            });
        }
        self.envelope_body(what, struct_v, body)
    }

    /// The `len: u32` and body part of an envelope whose version bytes the
    /// caller already read (for the legacy forms that choose the layout by
    /// `struct_v` before `compat_v` exists).
    pub fn envelope_body<T>(
        &mut self,
        what: &'static str,
        struct_v: u8,
        body: impl FnOnce(&mut Decoder<'a>, u8) -> Result<T>,
    ) -> Result<T> {
        let len = self.u32(what)? as usize;
        let inner = self.take(len, what)?;
        let mut sub = Decoder::new(inner);
        body(&mut sub, struct_v)
    }
}

/// Appends `struct_v, compat_v, len` and the body written by `body`,
/// patching `len` once the body's size is known.
pub fn encode_envelope(
    out: &mut Vec<u8>,
    struct_v: u8,
    compat_v: u8,
    body: impl FnOnce(&mut Vec<u8>),
) {
    out.push(struct_v);
    out.push(compat_v);
    let len_at = out.len();
    out.extend_from_slice(&[0; 4]);
    body(out);
    let len = (out.len() - len_at - 4) as u32;
    out[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
}

/// Appends a `u32` length and the bytes (a Ceph `bufferlist`).
pub fn encode_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// Ceph's `ceph_crc32c(seed, data)`, the checksum of msgr2 frames and of
/// encoded OSD maps: the raw reflected CRC-32C register started at `seed`,
/// with no inversion on the way in or out.
///
/// The `crc32c` crate computes the standard checksum, which inverts the
/// register before and after; undoing both inversions gives Ceph's value.
pub fn ceph_crc32c(seed: u32, data: &[u8]) -> u32 {
    !crc32c::crc32c_append(!seed, data)
}

/// The version to write: what the peer's features allow, but never newer
/// than the version a value was decoded from (0: built here, no limit), so
/// decoded values re-encode to the bytes they came from.
pub fn pick_version(decoded: u8, allowed: u8) -> u8 {
    if decoded == 0 {
        allowed
    } else {
        decoded.min(allowed)
    }
}

/// Reads everything left in an envelope body (fields of a version newer
/// than the caller models).
pub fn rest(d: &mut Decoder<'_>, what: &'static str) -> Result<Vec<u8>> {
    Ok(d.take(d.remaining(), what)?.to_vec())
}

/// Reads the fields of a section newer than the caller models (the rest
/// of it, when its version `v` is above `newest`).
pub fn newer_fields(d: &mut Decoder<'_>, v: u8, newest: u8, what: &'static str) -> Result<Vec<u8>> {
    if v > newest {
        rest(d, what)
    } else {
        Ok(Vec::new())
    }
}

/// Writes back what [`newer_fields`] read.
pub fn put_newer_fields(out: &mut Vec<u8>, v: u8, newest: u8, fields: &[u8]) {
    if v > newest {
        out.extend_from_slice(fields);
    }
}

/// A type with a Ceph wire decoding.
pub trait Decode: Sized {
    /// Reads one value from `d`, leaving it after the value.
    fn decode(d: &mut Decoder<'_>) -> Result<Self>;

    /// Decodes a whole buffer, failing on trailing bytes.
    fn decode_all(buf: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(buf);
        let v = Self::decode(&mut d)?;
        d.finish(std::any::type_name::<Self>())?;
        Ok(v)
    }
}

/// A type with a Ceph wire encoding. `features` are the peer's feature bits,
/// which select between encodings of some types (as in Ceph's
/// `encode(x, bl, features)`); types with a single encoding ignore them.
pub trait Encode {
    /// Appends the encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>, features: u64);

    /// The encoding as a new buffer.
    fn to_bytes(&self, features: u64) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out, features);
        out
    }
}

macro_rules! int_impls {
    ($($t:ty => $m:ident),*) => {$(
        impl Decode for $t {
            fn decode(d: &mut Decoder<'_>) -> Result<Self> {
                d.$m(stringify!($t))
            }
        }
        impl Encode for $t {
            fn encode(&self, out: &mut Vec<u8>, _features: u64) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
int_impls!(u8 => u8, u16 => u16, u32 => u32, u64 => u64, i32 => i32, i64 => i64);

impl Decode for i8 {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(d.u8("i8")? as i8)
    }
}
impl Encode for i8 {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.push(*self as u8);
    }
}
impl Decode for i16 {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(d.u16("i16")? as i16)
    }
}
impl Encode for i16 {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Decode for bool {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.bool("bool")
    }
}
impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.push(*self as u8);
    }
}

impl Decode for f64 {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(f64::from_bits(d.u64("f64")?))
    }
}
impl Encode for f64 {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.extend_from_slice(&self.to_bits().to_le_bytes());
    }
}

impl Decode for f32 {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(f32::from_bits(d.u32("f32")?))
    }
}
impl Encode for f32 {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.extend_from_slice(&self.to_bits().to_le_bytes());
    }
}

impl Decode for String {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let b = d.bytes("string")?;
        // Ceph strings are byte strings; keep invalid UTF-8 visible rather
        // than failing the whole decode.
        Ok(String::from_utf8_lossy(b).into_owned())
    }
}
impl Encode for String {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        encode_bytes(out, self.as_bytes());
    }
}
impl Encode for str {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        encode_bytes(out, self.as_bytes());
    }
}

/// A Ceph `bufferlist` field: `u32` length and raw bytes.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Blob(pub Vec<u8>);

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}
impl Decode for Blob {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(Blob(d.bytes("bufferlist")?.to_vec()))
    }
}
impl Encode for Blob {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        encode_bytes(out, &self.0);
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let n = d.count(1, "vector")?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::decode(d)?);
        }
        Ok(v)
    }
}
impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        self.as_slice().encode(out, features)
    }
}
impl<T: Encode> Encode for [T] {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        (self.len() as u32).encode(out, features);
        for x in self {
            x.encode(out, features);
        }
    }
}

impl<K: Decode + Ord, V: Decode> Decode for BTreeMap<K, V> {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let n = d.count(2, "map")?;
        let mut m = BTreeMap::new();
        for _ in 0..n {
            let k = K::decode(d)?;
            let v = V::decode(d)?;
            m.insert(k, v);
        }
        Ok(m)
    }
}
impl<K: Encode, V: Encode> Encode for BTreeMap<K, V> {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        (self.len() as u32).encode(out, features);
        for (k, v) in self {
            k.encode(out, features);
            v.encode(out, features);
        }
    }
}

impl<T: Decode + Ord> Decode for BTreeSet<T> {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let n = d.count(1, "set")?;
        let mut s = BTreeSet::new();
        for _ in 0..n {
            s.insert(T::decode(d)?);
        }
        Ok(s)
    }
}
impl<T: Encode> Encode for BTreeSet<T> {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        (self.len() as u32).encode(out, features);
        for x in self {
            x.encode(out, features);
        }
    }
}

impl<A: Decode, B: Decode> Decode for (A, B) {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok((A::decode(d)?, B::decode(d)?))
    }
}
impl<A: Encode, B: Encode> Encode for (A, B) {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        self.0.encode(out, features);
        self.1.encode(out, features);
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode(&self, out: &mut Vec<u8>, features: u64) {
        (**self).encode(out, features)
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        d.array("byte array")
    }
}
impl<const N: usize> Encode for [u8; N] {
    fn encode(&self, out: &mut Vec<u8>, _features: u64) {
        out.extend_from_slice(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trip_and_skips_unknown_tail() {
        let mut out = Vec::new();
        encode_envelope(&mut out, 3, 1, |o| {
            5u32.encode(o, 0);
            9u8.encode(o, 0); // a field from a "newer" encoder
        });
        let mut d = Decoder::new(&out);
        let v = d
            .envelope("t", 2, |d, v| {
                assert_eq!(v, 3);
                d.u32("x")
            })
            .unwrap();
        assert_eq!(v, 5);
        assert!(d.is_empty());
    }

    #[test]
    fn envelope_rejects_newer_compat() {
        let mut out = Vec::new();
        encode_envelope(&mut out, 5, 4, |_| {});
        let err = Decoder::new(&out)
            .envelope("t", 3, |_, _| Ok(()))
            .unwrap_err();
        assert!(matches!(err, DecodeError::TooNew { compat: 4, .. }));
    }

    #[test]
    fn envelope_len_past_end_is_short() {
        let buf = [1u8, 1, 0xff, 0xff, 0xff, 0xff, 0];
        let err = Decoder::new(&buf)
            .envelope("t", 1, |_, _| Ok(()))
            .unwrap_err();
        assert!(matches!(err, DecodeError::Short { .. }));
    }

    #[test]
    fn hostile_counts_do_not_allocate() {
        // 4 billion elements claimed, 0 present.
        let buf = [0xffu8, 0xff, 0xff, 0xff];
        assert!(Vec::<u64>::decode_all(&buf).is_err());
        assert!(BTreeMap::<u32, u32>::decode_all(&buf).is_err());
        assert!(String::decode_all(&buf).is_err());
    }

    #[test]
    fn containers_round_trip() {
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), vec![1u32, 2, 3]);
        m.insert("b".to_string(), vec![]);
        let bytes = m.to_bytes(0);
        assert_eq!(BTreeMap::<String, Vec<u32>>::decode_all(&bytes).unwrap(), m);
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let err = u8::decode_all(&[1, 2]).unwrap_err();
        assert!(matches!(err, DecodeError::Trailing { left: 1, .. }));
    }
}
