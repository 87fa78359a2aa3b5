//! The order-independent accumulator of part CRCs.
//!
//! CRC-64/XZ is affine: `crc(M) = lin(M) ^ zeros(|M|)`, where `lin` is linear over GF(2)
//! and ignores leading zero bytes. Place each part `P_i` (offset `o_i`, length `l_i`) in a
//! message of `N` bytes; then `lin(M) = XOR_i shift(lin(P_i), N - o_i - l_i)` and
//! `lin(P_i) = crc(P_i) ^ zeros(l_i)`. XOR is commutative, so the parts can be folded in
//! any order into one `u64`, and `crc(M) = acc ^ zeros(N)` once every byte is covered.

use crate::error::CrcError;
use crate::gf2::{shift, zeros};

/// One `u64` that absorbs the CRCs of an object's parts in any order and yields the whole
/// object's CRC-64/XZ once the parts cover it exactly.
///
/// The fold does not track coverage: folding the same part twice cancels it, and a gap
/// reads as zeros. The caller (which owns the set of done parts) decides when the object
/// is complete; that keeps the fold one number, cheap to store in a checkpoint.
///
/// ```
/// use oss_crc::{CrcFold, checksum};
///
/// let data = b"the quick brown fox jumps over the lazy dog";
/// let mut fold = CrcFold::new(data.len() as u64);
/// for (offset, part) in [(20, &data[20..]), (0, &data[..9]), (9, &data[9..20])] {
///     fold.add(offset, part.len() as u64, checksum(part))?;
/// }
/// assert_eq!(fold.finish(), checksum(data));
///
/// // The state survives a restart as two numbers.
/// let saved = (fold.total(), fold.raw());
/// assert_eq!(CrcFold::from_raw(saved.0, saved.1).finish(), checksum(data));
/// # Ok::<(), oss_crc::CrcError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrcFold {
    total: u64,
    acc: u64,
}

impl CrcFold {
    /// An empty fold for an object of `total` bytes.
    pub fn new(total: u64) -> Self {
        Self { total, acc: 0 }
    }

    /// Rebuilds a fold from [`CrcFold::total`] and [`CrcFold::raw`] saved earlier.
    pub fn from_raw(total: u64, acc: u64) -> Self {
        Self { total, acc }
    }

    /// The object size this fold was created for.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The accumulator, for saving; meaningful only together with [`CrcFold::total`].
    pub fn raw(&self) -> u64 {
        self.acc
    }

    /// Folds in the part `[offset, offset + len)` whose CRC-64/XZ is `crc`.
    ///
    /// Fails, folding nothing, if the part ends past the object.
    pub fn add(&mut self, offset: u64, len: u64, crc: u64) -> Result<(), CrcError> {
        let out_of_range = CrcError::PartOutOfRange {
            offset,
            len,
            total: self.total,
        };
        let end = offset.checked_add(len).ok_or(out_of_range.clone())?;
        let after = self.total.checked_sub(end).ok_or(out_of_range)?;
        self.acc ^= shift(crc ^ zeros(len), after);
        Ok(())
    }

    /// The CRC-64/XZ of the whole object, assuming the folded parts cover `[0, total)`
    /// exactly once.
    pub fn finish(&self) -> u64 {
        self.acc ^ zeros(self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum;
    use proptest::prelude::*;

    #[test]
    fn empty_object_has_crc_zero() {
        assert_eq!(CrcFold::new(0).finish(), 0);
        assert_eq!(checksum(b""), 0);
    }

    #[test]
    fn one_part_is_the_part() {
        let mut fold = CrcFold::new(9);
        fold.add(0, 9, checksum(b"123456789")).unwrap();
        assert_eq!(fold.finish(), 0x995D_C9BB_DF19_39FA);
    }

    #[test]
    fn empty_parts_change_nothing() {
        let mut fold = CrcFold::new(3);
        fold.add(0, 3, checksum(b"abc")).unwrap();
        fold.add(1, 0, 0).unwrap();
        fold.add(3, 0, 0).unwrap();
        assert_eq!(fold.finish(), checksum(b"abc"));
    }

    #[test]
    fn out_of_range_parts_are_refused_and_fold_nothing() {
        let mut fold = CrcFold::new(10);
        let before = fold;
        assert_eq!(
            fold.add(8, 3, 1),
            Err(CrcError::PartOutOfRange {
                offset: 8,
                len: 3,
                total: 10
            })
        );
        assert!(fold.add(u64::MAX, 2, 1).is_err());
        assert_eq!(fold, before);
        assert!(fold.add(10, 0, 0).is_ok());
    }

    #[test]
    fn huge_objects_fold_without_overflow() {
        // A part at the very end of a (virtual) 2^63-byte object.
        let total = 1u64 << 63;
        let mut fold = CrcFold::new(total);
        fold.add(total - 9, 9, checksum(b"123456789")).unwrap();
        let _ = fold.finish();
    }

    fn split_points(len: usize, cuts: Vec<usize>) -> Vec<(usize, usize)> {
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c % (len + 1)).collect();
        points.push(0);
        points.push(len);
        points.sort_unstable();
        points.dedup();
        points.windows(2).map(|w| (w[0], w[1])).collect()
    }

    proptest! {
        #[test]
        fn folding_random_splits_in_random_order_equals_straight_crc(
            data in proptest::collection::vec(any::<u8>(), 0..4096),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
            order_seed in any::<u64>(),
        ) {
            let mut parts = split_points(data.len(), cuts);
            // Shuffle deterministically from the seed (Fisher-Yates with splitmix).
            let mut s = order_seed;
            for i in (1..parts.len()).rev() {
                s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = s;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                parts.swap(i, (z % (i as u64 + 1)) as usize);
            }
            let mut fold = CrcFold::new(data.len() as u64);
            for (start, end) in parts {
                fold.add(start as u64, (end - start) as u64, checksum(&data[start..end])).unwrap();
            }
            prop_assert_eq!(fold.finish(), checksum(&data));
        }

        #[test]
        fn combine_matches_concatenation(
            a in proptest::collection::vec(any::<u8>(), 0..2048),
            b in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let mut ab = a.clone();
            ab.extend_from_slice(&b);
            prop_assert_eq!(
                crate::combine(checksum(&a), checksum(&b), b.len() as u64),
                checksum(&ab)
            );
        }

        #[test]
        fn resumed_digest_matches_straight_crc(
            data in proptest::collection::vec(any::<u8>(), 0..4096),
            cut in any::<usize>(),
        ) {
            let cut = cut % (data.len() + 1);
            let mut d = crate::Crc64::resume(checksum(&data[..cut]), cut as u64);
            d.update(&data[cut..]);
            prop_assert_eq!(d.value(), checksum(&data));
        }
    }
}
