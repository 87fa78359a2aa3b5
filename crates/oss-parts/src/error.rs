//! The crate's one error type.
//!
//! `Display` and `Error` are implemented by hand: this crate has no runtime dependencies
//! (so another tool can take it alone), which rules out `thiserror` here.

use std::fmt;

use crate::part_size::PartSize;
use crate::plan::MAX_PARTS;

/// What can go wrong when planning parts, parsing a `Range` header or a human size, or
/// decoding a done set.
///
/// ```
/// use oss_parts::{PartSize, PartsError};
///
/// let err = PartSize::new(0).unwrap_err();
/// assert_eq!(err, PartsError::PartSizeOutOfRange { bytes: 0 });
/// assert!(err.to_string().contains("5 GiB"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartsError {
    /// A part size outside 1 B ..= 5 GiB (OSS's limit on one ranged part).
    PartSizeOutOfRange {
        /// The part size that was asked for, in bytes.
        bytes: u64,
    },
    /// The object would have more than [`MAX_PARTS`] parts: too many to track in the done
    /// set and the checkpoint. A larger part size fixes it; see
    /// [`PartsError::min_part_size`].
    TooManyParts {
        /// The object's size in bytes.
        object_size: u64,
        /// The part size that was asked for, in bytes.
        part_size: u64,
        /// How many parts that would make.
        parts: u64,
    },
    /// A part index at or past the plan's part count.
    IndexOutOfRange {
        /// The index that was given.
        index: u64,
        /// The number of parts in the plan.
        len: u64,
    },
    /// A byte range `[start, end)` that is empty or reversed.
    EmptyRange {
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
    /// Text that is not a single closed byte range `bytes=FIRST-LAST` with `FIRST <= LAST`.
    BadRangeHeader {
        /// What exactly is wrong with it.
        reason: &'static str,
    },
    /// Bytes that are not an encoding of a done set.
    CorruptDoneSet {
        /// What exactly is wrong with them.
        reason: &'static str,
    },
    /// Text [`crate::parse_size`] cannot read as a size: write a byte count or a number
    /// with a unit (`100KiB`, `8MiB`, `1.5GiB`, `10MB`).
    NotASize {
        /// The text, trimmed.
        text: String,
    },
    /// A fraction of a byte (`1.5` with no unit): give whole bytes or a unit.
    FractionOfAByte {
        /// The text, trimmed.
        text: String,
    },
    /// A size past `u64::MAX` bytes.
    SizeTooLarge {
        /// The text, trimmed.
        text: String,
    },
}

impl PartsError {
    /// For [`PartsError::TooManyParts`]: the smallest part size that plans the object
    /// within [`MAX_PARTS`] parts, or `None` when no valid part size can (an object over
    /// 80 PiB) or the error is of another kind.
    ///
    /// ```
    /// use oss_parts::{Plan, PartSize, MAX_PARTS};
    ///
    /// let err = Plan::new(MAX_PARTS + 1, PartSize::new(1)?).unwrap_err();
    /// let fix = err.min_part_size().unwrap();
    /// assert_eq!(fix.get(), 2);
    /// assert!(Plan::new(MAX_PARTS + 1, fix).is_ok());
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn min_part_size(&self) -> Option<PartSize> {
        match self {
            Self::TooManyParts { object_size, .. } => {
                PartSize::new(object_size.div_ceil(MAX_PARTS)).ok()
            }
            _ => None,
        }
    }

    /// Whether the error comes from a caller's argument (part size, object size and part
    /// size together, index, range) rather than from bytes read back from storage.
    ///
    /// ```
    /// use oss_parts::{DoneSet, PartSize};
    ///
    /// assert!(PartSize::new(0).unwrap_err().is_invalid_argument());
    /// assert!(!DoneSet::from_bytes(&[0xFF]).unwrap_err().is_invalid_argument());
    /// ```
    pub fn is_invalid_argument(&self) -> bool {
        !matches!(
            self,
            Self::CorruptDoneSet { .. } | Self::BadRangeHeader { .. }
        )
    }
}

impl fmt::Display for PartsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PartSizeOutOfRange { bytes } => write!(
                f,
                "part size of {bytes} bytes is out of range: it must be between 1 byte and \
                 5 GiB ({} bytes); pick a part size in that range",
                PartSize::MAX.get()
            ),
            Self::TooManyParts {
                object_size,
                part_size,
                parts,
            } => {
                write!(
                    f,
                    "an object of {object_size} bytes in parts of {part_size} bytes makes \
                     {parts} parts, more than the {MAX_PARTS} that can be tracked; "
                )?;
                match self.min_part_size() {
                    Some(min) => write!(f, "use a part size of at least {} bytes", min.get()),
                    None => write!(
                        f,
                        "no part size up to 5 GiB can plan it, the object is too large"
                    ),
                }
            }
            Self::IndexOutOfRange { index, len } => write!(
                f,
                "part index {index} is outside the plan, which has {len} parts (indices 0..{len})"
            ),
            Self::EmptyRange { start, end } => write!(
                f,
                "byte range [{start}, {end}) is empty or reversed; a range needs start < end"
            ),
            Self::BadRangeHeader { reason } => write!(
                f,
                "not a single byte range of the form bytes=FIRST-LAST: {reason}"
            ),
            Self::CorruptDoneSet { reason } => write!(
                f,
                "the stored set of done parts is corrupt ({reason}); discard it and start over"
            ),
            Self::NotASize { text } => write!(
                f,
                "`{text}` is not a size; write a byte count or e.g. 100KiB, 8MiB, 1.5GiB"
            ),
            Self::FractionOfAByte { text } => write!(
                f,
                "`{text}` is a fraction of a byte; give whole bytes or a unit (e.g. 1.5MiB)"
            ),
            Self::SizeTooLarge { text } => write!(f, "`{text}` is too large"),
        }
    }
}

impl std::error::Error for PartsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_limit_and_the_fix() {
        let msg = PartsError::PartSizeOutOfRange { bytes: 0 }.to_string();
        assert!(msg.contains("5368709120"), "{msg}");

        let err = PartsError::TooManyParts {
            object_size: 10 * MAX_PARTS,
            part_size: 1,
            parts: 10 * MAX_PARTS,
        };
        let msg = err.to_string();
        assert!(msg.contains("at least 10 bytes"), "{msg}");
        assert!(msg.contains(&MAX_PARTS.to_string()), "{msg}");

        let huge = PartsError::TooManyParts {
            object_size: u64::MAX,
            part_size: 1,
            parts: u64::MAX,
        };
        assert_eq!(huge.min_part_size(), None);
        assert!(huge.to_string().contains("too large"));
    }

    #[test]
    fn min_part_size_is_only_for_too_many_parts() {
        assert_eq!(
            PartsError::IndexOutOfRange { index: 3, len: 3 }.min_part_size(),
            None
        );
    }
}
