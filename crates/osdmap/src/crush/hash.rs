//! Bob Jenkins' 32-bit mixing hash as CRUSH uses it (`rjenkins1`), and the
//! two string hashes pools use to place object names.

/// The only hash CRUSH knows; buckets naming another hash get 0 from every
/// hash call, as in Ceph.
pub const HASH_RJENKINS1: u8 = 0;

const SEED: u32 = 1_315_423_911;
const X0: u32 = 231_232;
const Y0: u32 = 1232;

/// One round of Jenkins' 96-bit mix; `c` carries the result.
#[inline(always)]
fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*b).wrapping_sub(*c) ^ (*c >> 13);
    *b = b.wrapping_sub(*c).wrapping_sub(*a) ^ (*a << 8);
    *c = c.wrapping_sub(*a).wrapping_sub(*b) ^ (*b >> 13);
    *a = a.wrapping_sub(*b).wrapping_sub(*c) ^ (*c >> 12);
    *b = b.wrapping_sub(*c).wrapping_sub(*a) ^ (*a << 16);
    *c = c.wrapping_sub(*a).wrapping_sub(*b) ^ (*b >> 5);
    *a = a.wrapping_sub(*b).wrapping_sub(*c) ^ (*c >> 3);
    *b = b.wrapping_sub(*c).wrapping_sub(*a) ^ (*a << 10);
    *c = c.wrapping_sub(*a).wrapping_sub(*b) ^ (*b >> 15);
}

/// Hash of two words.
#[inline(always)]
pub fn hash32_2(kind: u8, a: u32, b: u32) -> u32 {
    if kind != HASH_RJENKINS1 {
        return 0;
    }
    let (mut a, mut b) = (a, b);
    let mut h = SEED ^ a ^ b;
    let (mut x, mut y) = (X0, Y0);
    mix(&mut a, &mut b, &mut h);
    mix(&mut x, &mut a, &mut h);
    mix(&mut b, &mut y, &mut h);
    h
}

/// Hash of three words.
#[inline(always)]
pub fn hash32_3(kind: u8, a: u32, b: u32, c: u32) -> u32 {
    if kind != HASH_RJENKINS1 {
        return 0;
    }
    let (mut a, mut b, mut c) = (a, b, c);
    let mut h = SEED ^ a ^ b ^ c;
    let (mut x, mut y) = (X0, Y0);
    mix(&mut a, &mut b, &mut h);
    mix(&mut c, &mut x, &mut h);
    mix(&mut y, &mut a, &mut h);
    mix(&mut b, &mut x, &mut h);
    mix(&mut y, &mut c, &mut h);
    h
}

/// Hash of four words.
#[inline(always)]
pub fn hash32_4(kind: u8, a: u32, b: u32, c: u32, d: u32) -> u32 {
    if kind != HASH_RJENKINS1 {
        return 0;
    }
    let (mut a, mut b, mut c, mut d) = (a, b, c, d);
    let mut h = SEED ^ a ^ b ^ c ^ d;
    let (mut x, mut y) = (X0, Y0);
    mix(&mut a, &mut b, &mut h);
    mix(&mut c, &mut d, &mut h);
    mix(&mut a, &mut x, &mut h);
    mix(&mut y, &mut b, &mut h);
    mix(&mut c, &mut x, &mut h);
    mix(&mut y, &mut d, &mut h);
    h
}

/// `ceph_str_hash_rjenkins`: Jenkins' lookup2 over bytes, 12 at a time.
pub fn str_hash_rjenkins(data: &[u8]) -> u32 {
    let word = |s: &[u8]| u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
    let mut a: u32 = 0x9e37_79b9;
    let mut b: u32 = a;
    let mut c: u32 = 0;
    let mut rest = data;
    while rest.len() >= 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    // The length goes into c's low byte; the tail fills the rest.
    c = c.wrapping_add(data.len() as u32);
    let mut tail = [0u8; 12];
    tail[..rest.len()].copy_from_slice(rest);
    a = a.wrapping_add(word(&tail[0..4]));
    b = b.wrapping_add(word(&tail[4..8]));
    c = c.wrapping_add(u32::from_le_bytes([0, tail[8], tail[9], tail[10]]));
    mix(&mut a, &mut b, &mut c);
    c
}

/// `ceph_str_hash_linux`: the old dcache hash.
pub fn str_hash_linux(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |h, &ch| {
        let ch = u32::from(ch);
        h.wrapping_add(ch << 4)
            .wrapping_add(ch >> 4)
            .wrapping_mul(11)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_hash_kind_gives_zero() {
        assert_eq!(hash32_2(1, 5, 6), 0);
        assert_eq!(hash32_3(7, 5, 6, 7), 0);
        assert_eq!(hash32_4(2, 5, 6, 7, 8), 0);
        assert_ne!(hash32_3(0, 5, 6, 7), 0);
    }

    #[test]
    fn string_hashes_cover_every_tail_length() {
        // Each length from 0 to 25 takes a different path through the tail.
        let s = b"abcdefghijklmnopqrstuvwxyz";
        let hashes: std::collections::BTreeSet<u32> =
            (0..=s.len()).map(|n| str_hash_rjenkins(&s[..n])).collect();
        assert_eq!(hashes.len(), s.len() + 1);
        assert_eq!(str_hash_linux(b""), 0);
        assert_eq!(str_hash_linux(b"a"), ((97 << 4) + (97 >> 4)) * 11);
    }
}

/// Lanes hashed together by [`hash32_3_lanes`].
pub const LANES: usize = 8;

/// `hash32_3(rjenkins1, a, b[i], c)` for eight `b`s at once, written so the
/// compiler turns it into vector instructions.
#[inline(always)]
fn rjenkins3_lanes(a: u32, b: &[u32; LANES], c: u32, out: &mut [u32; LANES]) {
    for l in 0..LANES {
        let (mut a, mut b, mut c) = (a, b[l], c);
        let mut h = SEED ^ a ^ b ^ c;
        let (mut x, mut y) = (X0, Y0);
        mix(&mut a, &mut b, &mut h);
        mix(&mut c, &mut x, &mut h);
        mix(&mut y, &mut a, &mut h);
        mix(&mut b, &mut x, &mut h);
        mix(&mut y, &mut c, &mut h);
        out[l] = h;
    }
}

/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)] // a target_feature fn must be unsafe before Rust 1.86
unsafe fn rjenkins3_lanes_avx2(a: u32, b: &[u32; LANES], c: u32, out: &mut [u32; LANES]) {
    rjenkins3_lanes(a, b, c, out)
}

/// Whether this CPU runs the AVX2 variant (checked once per process).
fn have_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX2: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVX2.get_or_init(|| std::arch::is_x86_feature_detected!("avx2"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`hash32_3`] of `(a, b[i], c)` for every lane.
#[inline]
pub fn hash32_3_lanes(kind: u8, a: u32, b: &[u32; LANES], c: u32, out: &mut [u32; LANES]) {
    if kind != HASH_RJENKINS1 {
        *out = [0; LANES];
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if have_avx2() {
        // SAFETY: the CPU supports AVX2, checked just above.
        #[allow(unsafe_code)]
        unsafe {
            rjenkins3_lanes_avx2(a, b, c, out)
        };
        return;
    }
    rjenkins3_lanes(a, b, c, out)
}

#[cfg(test)]
mod lane_tests {
    use super::*;

    #[test]
    fn lanes_match_the_scalar_hash() {
        let b = [0u32, 1, 2, 0xffff_ffff, 77, 1 << 31, 12345, 0xdead_beef];
        let mut out = [0; LANES];
        for (a, c) in [
            (0u32, 0u32),
            (1, 2),
            (0xffff_ffff, 7),
            (123_456, 0x8000_0000),
        ] {
            hash32_3_lanes(0, a, &b, c, &mut out);
            for l in 0..LANES {
                assert_eq!(out[l], hash32_3(0, a, b[l], c));
            }
            rjenkins3_lanes(a, &b, c, &mut out);
            for l in 0..LANES {
                assert_eq!(out[l], hash32_3(0, a, b[l], c));
            }
        }
        hash32_3_lanes(3, 1, &b, 2, &mut out);
        assert_eq!(out, [0; LANES]);
    }
}
