//! A non-empty byte range and its HTTP `Range` header text.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use crate::error::PartsError;

/// A non-empty run of an object's bytes, from [`start`](Self::start) up to and including
/// [`last`](Self::last): the one byte-range type of the workspace (plans make them, the
/// transport asks for them, error messages show them).
///
/// **Convention.** A range holds its first and last byte, both inclusive, as HTTP writes
/// them (`Range: bytes=start-last`); that is also what [`Display`](fmt::Display) prints, and
/// it keeps a range that ends at byte `u64::MAX` representable. The names say which end is
/// meant: `last` is always the last byte (inclusive), `end` always one past it (exclusive,
/// as in Rust's `start..end`). Hence two constructors — [`ByteRange::new`]`(start, end)`
/// for a half-open `start..end`, [`ByteRange::inclusive`]`(start, last)` for an HTTP pair —
/// and the accessors [`start`](Self::start), [`last`](Self::last), [`end`](Self::end),
/// [`len`](Self::len) and [`range`](Self::range) (a half-open `Range<u64>`).
///
/// A part's range comes from [`crate::Part::byte_range`]; resuming inside a range uses
/// [`ByteRange::remaining_after`]. Parsing the header text gives the same range back.
///
/// ```
/// use oss_parts::ByteRange;
///
/// let range = ByteRange::new(0, 500)?;
/// assert_eq!(range, ByteRange::inclusive(0, 499)?);
/// assert_eq!((range.start(), range.last(), range.end()), (0, 499, Some(500)));
/// assert_eq!(range.to_string(), "bytes=0-499");
/// assert_eq!("bytes=0-499".parse::<ByteRange>()?, range);
/// assert_eq!(range.len(), 500);
/// assert!(ByteRange::new(5, 5).is_err());
/// # Ok::<(), oss_parts::PartsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRange {
    start: u64,
    /// Inclusive, so that a range ending at `u64::MAX` stays representable.
    last: u64,
}

impl ByteRange {
    /// The range `[start, end)`, or [`PartsError::EmptyRange`] unless `start < end`.
    ///
    /// ```
    /// use oss_parts::ByteRange;
    ///
    /// assert_eq!(ByteRange::new(10, 20)?.range(), 10..20);
    /// assert!(ByteRange::new(20, 10).is_err());
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn new(start: u64, end: u64) -> Result<Self, PartsError> {
        if start >= end {
            return Err(PartsError::EmptyRange { start, end });
        }
        Ok(Self {
            start,
            last: end - 1,
        })
    }

    /// The range `first..=last`, both inclusive (HTTP's `bytes=first-last`), or
    /// [`PartsError::EmptyRange`] if `first > last`. Unlike [`ByteRange::new`], this reaches
    /// byte `u64::MAX`.
    ///
    /// ```
    /// use oss_parts::ByteRange;
    ///
    /// let range = ByteRange::inclusive(0, u64::MAX)?;
    /// assert_eq!(range.last(), u64::MAX);
    /// assert_eq!(range.to_string(), "bytes=0-18446744073709551615");
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn inclusive(first: u64, last: u64) -> Result<Self, PartsError> {
        if first > last {
            return Err(PartsError::EmptyRange {
                start: first,
                end: last.saturating_add(1),
            });
        }
        Ok(Self { start: first, last })
    }

    /// A part's range; plans only make parts with `start < end`.
    pub(crate) fn from_part(start: u64, end: u64) -> Self {
        Self {
            start,
            // end > start >= 0 for every part a plan makes, so this never saturates.
            last: end.saturating_sub(1),
        }
    }

    /// The first byte.
    ///
    /// ```
    /// assert_eq!(oss_parts::ByteRange::new(3, 9)?.start(), 3);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The last byte (inclusive), as the `Range` header writes it.
    ///
    /// ```
    /// assert_eq!(oss_parts::ByteRange::new(3, 9)?.last(), 8);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn last(&self) -> u64 {
        self.last
    }

    /// One past the last byte, or `None` if the range ends at byte `u64::MAX` (only
    /// possible through [`ByteRange::inclusive`] or parsing).
    ///
    /// ```
    /// use oss_parts::ByteRange;
    ///
    /// assert_eq!(ByteRange::new(3, 9)?.end(), Some(9));
    /// assert_eq!(ByteRange::inclusive(3, u64::MAX)?.end(), None);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn end(&self) -> Option<u64> {
        self.last.checked_add(1)
    }

    /// The number of bytes, or `None` for the one range (all of `0..=u64::MAX`) whose
    /// length does not fit in a `u64`.
    ///
    /// ```
    /// use oss_parts::ByteRange;
    ///
    /// assert_eq!(ByteRange::new(3, 9)?.len(), 6);
    /// assert_eq!(ByteRange::inclusive(0, u64::MAX)?.checked_len(), None);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn checked_len(&self) -> Option<u64> {
        (self.last - self.start).checked_add(1)
    }

    /// The number of bytes, saturating at `u64::MAX` for the whole `0..=u64::MAX`.
    ///
    /// ```
    /// assert_eq!(oss_parts::ByteRange::new(0, 1)?.len(), 1);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty, by construction
    pub fn len(&self) -> u64 {
        (self.last - self.start).saturating_add(1)
    }

    /// As a half-open `Range` (saturating the end at `u64::MAX`).
    ///
    /// ```
    /// assert_eq!(oss_parts::ByteRange::new(4, 8)?.range(), 4..8);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn range(&self) -> Range<u64> {
        self.start..self.last.saturating_add(1)
    }

    /// What is left of the range after its first `done` bytes: the range to ask for when
    /// resuming inside it, or `None` when `done` covers it all.
    ///
    /// ```
    /// use oss_parts::ByteRange;
    ///
    /// let part = ByteRange::inclusive(100, 199)?;
    /// assert_eq!(part.remaining_after(0), Some(part));
    /// assert_eq!(part.remaining_after(40), Some(ByteRange::inclusive(140, 199)?));
    /// assert_eq!(part.remaining_after(99), Some(ByteRange::inclusive(199, 199)?));
    /// assert_eq!(part.remaining_after(100), None);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn remaining_after(&self, done: u64) -> Option<Self> {
        // Not `done < len()`: `len` saturates for the whole u64 space.
        let start = self.start.checked_add(done)?;
        (start <= self.last).then_some(Self {
            start,
            last: self.last,
        })
    }

    /// Parses `Range` header text: exactly `bytes=FIRST-LAST` with decimal numbers and
    /// `FIRST <= LAST` (the unit is case-insensitive, as HTTP says). Open, suffix and
    /// multiple ranges are refused: a part is always one closed range.
    ///
    /// ```
    /// use oss_parts::ByteRange;
    ///
    /// assert_eq!(ByteRange::parse_header("bytes=5-9")?, ByteRange::new(5, 10)?);
    /// assert!(ByteRange::parse_header("bytes=5-").is_err());
    /// assert!(ByteRange::parse_header("bytes=0-1,4-5").is_err());
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn parse_header(text: &str) -> Result<Self, PartsError> {
        let bad = |reason| PartsError::BadRangeHeader { reason };
        let (unit, spec) = text
            .split_once('=')
            .ok_or(bad("no '=' after the range unit"))?;
        if !unit.eq_ignore_ascii_case("bytes") {
            return Err(bad("the range unit is not \"bytes\""));
        }
        let (first, last) = spec
            .split_once('-')
            .ok_or(bad("no '-' between the first and last byte"))?;
        let first = parse_decimal(first)?;
        let last = parse_decimal(last)?;
        if first > last {
            return Err(bad("the first byte is after the last byte"));
        }
        Ok(Self { start: first, last })
    }
}

/// A non-empty run of ASCII digits that fits in a `u64` (no sign, no spaces).
fn parse_decimal(text: &str) -> Result<u64, PartsError> {
    if text.is_empty() {
        return Err(PartsError::BadRangeHeader {
            reason: "a byte position is missing (open and suffix ranges are not accepted)",
        });
    }
    let mut value: u64 = 0;
    for byte in text.bytes() {
        if !byte.is_ascii_digit() {
            return Err(PartsError::BadRangeHeader {
                reason: "a byte position is not a plain decimal number",
            });
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(byte - b'0')))
            .ok_or(PartsError::BadRangeHeader {
                reason: "a byte position does not fit in 64 bits",
            })?;
    }
    Ok(value)
}

impl fmt::Display for ByteRange {
    /// The `Range` header value: `bytes=FIRST-LAST`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bytes={}-{}", self.start, self.last)
    }
}

impl FromStr for ByteRange {
    type Err = PartsError;

    /// Same as [`ByteRange::parse_header`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse_header(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_text_is_inclusive() {
        assert_eq!(ByteRange::new(0, 1).unwrap().to_string(), "bytes=0-0");
        assert_eq!(
            ByteRange::new(100, 200).unwrap().to_string(),
            "bytes=100-199"
        );
    }

    /// What oss-http's own (inclusive) range type was tested for before it became this one.
    #[test]
    fn inclusive_bounds_and_resuming_inside() {
        let r = |a, b| ByteRange::inclusive(a, b).unwrap();
        assert!(ByteRange::inclusive(5, 4).is_err());
        assert_eq!(r(0, 0).len(), 1);
        assert!(ByteRange::new(10, 10).is_err());
        assert_eq!(ByteRange::new(10, 15).unwrap(), r(10, 14));
        assert_eq!(r(10, 14).to_string(), "bytes=10-14");
        assert_eq!(r(10, 14).remaining_after(0), Some(r(10, 14)));
        assert_eq!(r(10, 14).remaining_after(4), Some(r(14, 14)));
        assert_eq!(r(10, 14).remaining_after(5), None);
        assert_eq!(r(10, 14).remaining_after(u64::MAX), None);
        // The whole u64 space has one byte left after u64::MAX of them.
        let all = r(0, u64::MAX);
        assert_eq!(all.remaining_after(u64::MAX), Some(r(u64::MAX, u64::MAX)));
    }

    #[test]
    fn parser_refuses_everything_but_one_closed_range() {
        for text in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=-5",
            "bytes=5-",
            "bytes=5-4",
            "bytes= 1-2",
            "bytes=1 -2",
            "bytes=1-2 ",
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=1-2-3",
            "bytes=0-1,3-4",
            "items=1-2",
            "bytes=18446744073709551616-18446744073709551616",
            "bytes=0x1-2",
            "bytes=١-٢",
        ] {
            assert!(ByteRange::parse_header(text).is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn parser_accepts_case_and_leading_zeros() {
        assert_eq!(
            ByteRange::parse_header("BYTES=007-010").unwrap(),
            ByteRange::new(7, 11).unwrap()
        );
        assert_eq!(
            ByteRange::parse_header("bytes=18446744073709551615-18446744073709551615")
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn whole_u64_space_is_representable() {
        let all = ByteRange::inclusive(0, u64::MAX).unwrap();
        assert_eq!(all.checked_len(), None);
        assert_eq!(all.len(), u64::MAX);
        assert_eq!(all.end(), None);
        assert_eq!(all.range(), 0..u64::MAX);
        assert!(ByteRange::inclusive(2, 1).is_err());
    }

    proptest! {
        #[test]
        fn header_text_parses_back(a in any::<u64>(), b in any::<u64>()) {
            let (start, end) = (a.min(b), a.max(b));
            prop_assume!(start < end);
            let range = ByteRange::new(start, end).unwrap();
            let parsed: ByteRange = range.to_string().parse().unwrap();
            prop_assert_eq!(parsed, range);
            prop_assert_eq!(parsed.range(), start..end);
        }

        #[test]
        fn parser_never_panics(text in "\\PC{0,40}") {
            let _ = ByteRange::parse_header(&text);
        }

        #[test]
        fn parser_round_trips_whatever_it_accepts(text in "(bytes|BYTES)=[0-9]{1,21}-[0-9]{1,21}") {
            if let Ok(range) = ByteRange::parse_header(&text) {
                prop_assert_eq!(ByteRange::parse_header(&range.to_string()), Ok(range));
            }
        }
    }
}
