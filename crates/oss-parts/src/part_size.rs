//! The validated part size.

use std::fmt;

use crate::error::PartsError;

/// The number of bytes in each part (the last part of an object may be shorter):
/// always within 1 B ..= 5 GiB, the range OSS and the C SDK accept for one part.
///
/// ```
/// use oss_parts::PartSize;
///
/// let size = PartSize::new(100 * 1024)?;
/// assert_eq!(size.get(), 102_400);
/// assert!(PartSize::new(0).is_err());
/// assert!(PartSize::new(5 << 30).is_ok());
/// assert!(PartSize::new((5 << 30) + 1).is_err());
/// assert_eq!(PartSize::default(), PartSize::DEFAULT);
/// # Ok::<(), oss_parts::PartsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartSize(u64);

impl PartSize {
    /// The smallest part: one byte.
    ///
    /// ```
    /// assert_eq!(oss_parts::PartSize::MIN.get(), 1);
    /// ```
    pub const MIN: PartSize = PartSize(1);

    /// The largest part: 5 GiB (5 × 2^30 bytes).
    ///
    /// ```
    /// assert_eq!(oss_parts::PartSize::MAX.get(), 5_368_709_120);
    /// ```
    pub const MAX: PartSize = PartSize(5 << 30);

    /// The default: 8 MiB.
    ///
    /// Why: within the official SDKs' 6-10 MiB, and the fastest part size at 4 connections in
    /// this project's benchmarks (`cargo xtask bench`): larger parts bought no speed, smaller
    /// ones add a request per MiB. 8 MiB also keeps a 10 TiB object at 1.3M parts, well under
    /// [`crate::MAX_PARTS`].
    ///
    /// ```
    /// assert_eq!(oss_parts::PartSize::DEFAULT.get(), 8 << 20);
    /// ```
    pub const DEFAULT: PartSize = PartSize(8 << 20);

    /// A part size of `bytes`, or [`PartsError::PartSizeOutOfRange`] outside 1 B ..= 5 GiB.
    ///
    /// ```
    /// use oss_parts::{PartSize, PartsError};
    ///
    /// assert_eq!(PartSize::new(1)?, PartSize::MIN);
    /// assert_eq!(
    ///     PartSize::new(6 << 30),
    ///     Err(PartsError::PartSizeOutOfRange { bytes: 6 << 30 })
    /// );
    /// # Ok::<(), PartsError>(())
    /// ```
    pub const fn new(bytes: u64) -> Result<Self, PartsError> {
        if bytes < Self::MIN.0 || bytes > Self::MAX.0 {
            return Err(PartsError::PartSizeOutOfRange { bytes });
        }
        Ok(Self(bytes))
    }

    /// The size in bytes.
    ///
    /// ```
    /// assert_eq!(oss_parts::PartSize::new(42)?.get(), 42);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl Default for PartSize {
    /// [`PartSize::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u64> for PartSize {
    type Error = PartsError;

    /// Same as [`PartSize::new`].
    fn try_from(bytes: u64) -> Result<Self, Self::Error> {
        Self::new(bytes)
    }
}

impl From<PartSize> for u64 {
    fn from(size: PartSize) -> u64 {
        size.0
    }
}

impl fmt::Display for PartSize {
    /// The size in bytes, as a plain number (`8388608`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive() {
        assert!(PartSize::new(0).is_err());
        assert_eq!(PartSize::new(1).unwrap().get(), 1);
        assert_eq!(
            PartSize::new(5 * 1024 * 1024 * 1024).unwrap(),
            PartSize::MAX
        );
        assert_eq!(
            PartSize::new(5 * 1024 * 1024 * 1024 + 1),
            Err(PartsError::PartSizeOutOfRange {
                bytes: 5 * 1024 * 1024 * 1024 + 1
            })
        );
        assert!(PartSize::new(u64::MAX).is_err());
    }

    #[test]
    fn default_is_valid_and_conversions_agree() {
        assert_eq!(
            PartSize::new(PartSize::DEFAULT.get()),
            Ok(PartSize::DEFAULT)
        );
        assert_eq!(PartSize::try_from(7u64), PartSize::new(7));
        assert_eq!(u64::from(PartSize::MAX), 5 << 30);
        assert_eq!(PartSize::MIN.to_string(), "1");
    }
}
