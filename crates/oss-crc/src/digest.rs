//! The streaming digest.

use crate::gf2::combine;

/// CRC-64/XZ of a whole buffer.
///
/// ```
/// assert_eq!(oss_crc::checksum(b"123456789"), 0x995D_C9BB_DF19_39FA);
/// assert_eq!(oss_crc::checksum(b""), 0);
/// ```
pub fn checksum(data: &[u8]) -> u64 {
    let mut digest = crc64fast::Digest::new();
    digest.write(data);
    digest.sum64()
}

/// A streaming CRC-64/XZ digest that can start from a CRC recorded earlier.
///
/// [`Crc64::resume`] continues a running CRC (for example the prefix of a part that
/// arrived before a crash) without re-reading the bytes it covers: the new bytes are
/// hashed with SIMD and joined to the old value with [`combine`] when the value is read.
///
/// ```
/// use oss_crc::Crc64;
///
/// let mut first = Crc64::new();
/// first.update(b"1234");
/// let (crc_so_far, len_so_far) = (first.value(), first.len());
///
/// // ... the process restarts; only (crc_so_far, len_so_far) survived ...
/// let mut resumed = Crc64::resume(crc_so_far, len_so_far);
/// resumed.update(b"56789");
/// assert_eq!(resumed.value(), 0x995D_C9BB_DF19_39FA);
/// assert_eq!(resumed.len(), 9);
/// ```
#[derive(Clone)]
pub struct Crc64 {
    /// CRC of the bytes before this digest started (0 for a fresh digest).
    prefix_crc: u64,
    /// How many bytes `prefix_crc` covers.
    prefix_len: u64,
    /// SIMD digest of the bytes given to [`Crc64::update`].
    tail: crc64fast::Digest,
    /// How many bytes `tail` covers.
    tail_len: u64,
}

impl Crc64 {
    /// A digest of the empty message.
    pub fn new() -> Self {
        Self::resume(0, 0)
    }

    /// A digest that continues from `crc`, the CRC-64/XZ of some earlier `len` bytes.
    pub fn resume(crc: u64, len: u64) -> Self {
        Self {
            prefix_crc: crc,
            prefix_len: len,
            tail: crc64fast::Digest::new(),
            tail_len: 0,
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.tail.write(data);
        self.tail_len = self.tail_len.saturating_add(data.len() as u64);
    }

    /// The CRC-64/XZ of everything so far (prefix included). Does not consume the digest.
    pub fn value(&self) -> u64 {
        if self.prefix_len == 0 {
            return self.tail.sum64();
        }
        combine(self.prefix_crc, self.tail.sum64(), self.tail_len)
    }

    /// How many bytes the value covers (prefix included).
    pub fn len(&self) -> u64 {
        self.prefix_len.saturating_add(self.tail_len)
    }

    /// Whether the digest covers no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crc64")
            .field("value", &format_args!("{:#018x}", self.value()))
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_is_crc64_xz_not_ecma182() {
        let crc = checksum(b"123456789");
        assert_eq!(crc, 0x995D_C9BB_DF19_39FA);
        // OSS prints it in decimal.
        assert_eq!(crc, 11_051_210_869_376_104_954);
        // The non-reflected CRC-64/ECMA-182 is a different function.
        assert_ne!(crc, 0x6C40_DF5F_0B49_7347);
    }

    #[test]
    fn streaming_matches_one_shot_across_chunk_sizes() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let want = checksum(&data);
        for chunk in [1, 3, 64, 1000, 4096, 10_000] {
            let mut d = Crc64::new();
            for piece in data.chunks(chunk) {
                d.update(piece);
            }
            assert_eq!(d.value(), want, "chunk {chunk}");
            assert_eq!(d.len(), data.len() as u64);
        }
    }

    #[test]
    fn resume_from_zero_length_prefix_is_plain() {
        let mut d = Crc64::resume(0, 0);
        d.update(b"abc");
        assert_eq!(d.value(), checksum(b"abc"));
        assert!(Crc64::new().is_empty());
    }

    #[test]
    fn value_does_not_consume() {
        let mut d = Crc64::new();
        d.update(b"12345");
        let _ = d.value();
        d.update(b"6789");
        assert_eq!(d.value(), 0x995D_C9BB_DF19_39FA);
    }
}
