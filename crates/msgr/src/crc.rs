//! Ceph's CRC-32C variant.

/// Ceph's `ceph_crc32c(seed, data)`: the raw reflected CRC-32C register
/// started at `seed`, with no inversion on the way in or out.
///
/// The `crc32c` crate computes the standard checksum, which inverts the
/// register before and after; undoing both inversions gives Ceph's value.
pub fn ceph_crc32c(seed: u32, data: &[u8]) -> u32 {
    !crc32c::crc32c_append(!seed, data)
}
