//! The plan: an object's parts, computed on demand.

use std::iter::FusedIterator;
use std::ops::Range;

use crate::error::PartsError;
use crate::part_size::PartSize;
use crate::range::ByteRange;

/// The most parts a plan may have: 2^24 = 16,777,216.
///
/// Why a cap at all: every part costs one bit in the [`crate::DoneSet`] and in the
/// checkpoint, which is rewritten every few milliseconds; at this cap the worst case (parts
/// done in a random pattern) is a 2 MiB bitmap. It is far above what real use needs: a
/// 10 TiB object in 1 MiB parts is 10,485,760 parts, and OSS's largest object (48.8 TiB)
/// fits with 3 MiB parts. A plan over the cap is refused with
/// [`PartsError::TooManyParts`], which names the smallest part size that fits
/// ([`PartsError::min_part_size`]); the caller decides whether to use it, so a plan never
/// silently differs from what was asked.
///
/// ```
/// use oss_parts::{Plan, PartSize, MAX_PARTS};
///
/// assert_eq!(MAX_PARTS, 16_777_216);
/// assert!(Plan::new(MAX_PARTS, PartSize::MIN).is_ok());
/// assert!(Plan::new(MAX_PARTS + 1, PartSize::MIN).is_err());
/// ```
pub const MAX_PARTS: u64 = 1 << 24;

/// How an object of a given size splits into parts of a given size.
///
/// Parts are computed from their index, never stored, so a plan is three numbers whatever
/// the object size. Part `i` covers `[i × part_size, min((i + 1) × part_size, object_size))`:
/// every part has exactly `part_size` bytes except a shorter last one, and an empty object
/// has no parts (the download still creates the empty file).
///
/// ```
/// use oss_parts::{Plan, PartSize};
///
/// let plan = Plan::new(250, PartSize::new(100)?)?;
/// assert_eq!(plan.len(), 3);
/// let ranges: Vec<_> = plan.parts().map(|p| p.range()).collect();
/// assert_eq!(ranges, [0..100, 100..200, 200..250]);
/// assert_eq!(plan.part(2).unwrap().byte_range().to_string(), "bytes=200-249");
/// # Ok::<(), oss_parts::PartsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Plan {
    object_size: u64,
    part_size: PartSize,
    len: u64,
}

impl Plan {
    /// Plans an object of `object_size` bytes in parts of `part_size` bytes, or fails with
    /// [`PartsError::TooManyParts`] if that makes more than [`MAX_PARTS`] parts.
    ///
    /// Allocates nothing and costs O(1).
    ///
    /// ```
    /// use oss_parts::{Plan, PartSize};
    ///
    /// // 10 TiB in 1 MiB parts.
    /// let plan = Plan::new(10 << 40, PartSize::new(1 << 20)?)?;
    /// assert_eq!(plan.len(), 10 << 20);
    ///
    /// let too_fine = Plan::new(10 << 40, PartSize::new(1 << 10)?).unwrap_err();
    /// assert_eq!(too_fine.min_part_size().map(|s| s.get()), Some(655_360));
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn new(object_size: u64, part_size: PartSize) -> Result<Self, PartsError> {
        let len = object_size.div_ceil(part_size.get());
        if len > MAX_PARTS {
            return Err(PartsError::TooManyParts {
                object_size,
                part_size: part_size.get(),
                parts: len,
            });
        }
        Ok(Self {
            object_size,
            part_size,
            len,
        })
    }

    /// The object's size in bytes.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// assert_eq!(Plan::new(250, PartSize::new(100)?)?.object_size(), 250);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn object_size(&self) -> u64 {
        self.object_size
    }

    /// The part size the plan was made with.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// assert_eq!(Plan::new(250, PartSize::new(100)?)?.part_size().get(), 100);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn part_size(&self) -> PartSize {
        self.part_size
    }

    /// The number of parts: `ceil(object_size / part_size)`, at most [`MAX_PARTS`].
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let size = PartSize::new(100)?;
    /// assert_eq!(Plan::new(0, size)?.len(), 0);
    /// assert_eq!(Plan::new(1, size)?.len(), 1);
    /// assert_eq!(Plan::new(100, size)?.len(), 1);
    /// assert_eq!(Plan::new(101, size)?.len(), 2);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the plan has no parts (the object is empty).
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// assert!(Plan::new(0, PartSize::DEFAULT)?.is_empty());
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Part `index`, or `None` past the last part.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let plan = Plan::new(250, PartSize::new(100)?)?;
    /// let last = plan.part(2).unwrap();
    /// assert_eq!((last.index(), last.start(), last.end()), (2, 200, 250));
    /// assert!(plan.part(3).is_none());
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn part(&self, index: u64) -> Option<Part> {
        if index >= self.len {
            return None;
        }
        // index < len = ceil(object_size / part_size), so start < object_size: no overflow.
        let start = index * self.part_size.get();
        let end = start + (self.object_size - start).min(self.part_size.get());
        Some(Part { index, start, end })
    }

    /// The part holding byte `offset`, or `None` if `offset` is past the object.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let plan = Plan::new(250, PartSize::new(100)?)?;
    /// assert_eq!(plan.part_at(199).map(|p| p.index()), Some(1));
    /// assert_eq!(plan.part_at(200).map(|p| p.index()), Some(2));
    /// assert!(plan.part_at(250).is_none());
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn part_at(&self, offset: u64) -> Option<Part> {
        if offset >= self.object_size {
            return None;
        }
        self.part(offset / self.part_size.get())
    }

    /// All parts in order, computed as the iterator advances.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let plan = Plan::new(5, PartSize::new(2)?)?;
    /// let lens: Vec<u64> = plan.parts().map(|p| p.len()).collect();
    /// assert_eq!(lens, [2, 2, 1]);
    /// assert_eq!(plan.parts().rev().next().map(|p| p.index()), Some(2));
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn parts(&self) -> Parts {
        self.parts_in(0..self.len)
    }

    /// The parts whose indices are in `indices` (clamped to the plan), in order: for
    /// example one of [`crate::DoneSet::missing_ranges`]'s ranges.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let plan = Plan::new(1000, PartSize::new(100)?)?;
    /// let starts: Vec<u64> = plan.parts_in(3..6).map(|p| p.start()).collect();
    /// assert_eq!(starts, [300, 400, 500]);
    /// assert_eq!(plan.parts_in(8..50).count(), 2);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn parts_in(&self, indices: Range<u64>) -> Parts {
        let end = indices.end.min(self.len);
        Parts {
            plan: *self,
            next: indices.start.min(end),
            end,
        }
    }
}

/// One part of a [`Plan`]: its index and its non-empty byte range `[start, end)`.
///
/// Only a plan makes parts, so `start < end <= object_size` always holds.
///
/// ```
/// # use oss_parts::{Plan, PartSize};
/// let part = Plan::new(250, PartSize::new(100)?)?.part(1).unwrap();
/// assert_eq!(part.index(), 1);
/// assert_eq!(part.range(), 100..200);
/// assert_eq!(part.len(), 100);
/// assert_eq!(part.byte_range().to_string(), "bytes=100-199");
/// # Ok::<(), oss_parts::PartsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Part {
    index: u64,
    start: u64,
    end: u64,
}

impl Part {
    /// The part's index in its plan (0-based).
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// assert_eq!(Plan::new(9, PartSize::new(3)?)?.part(2).unwrap().index(), 2);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The part's first byte.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// assert_eq!(Plan::new(9, PartSize::new(3)?)?.part(2).unwrap().start(), 6);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn start(&self) -> u64 {
        self.start
    }

    /// One past the part's last byte.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// assert_eq!(Plan::new(8, PartSize::new(3)?)?.part(2).unwrap().end(), 8);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The part's length in bytes (never 0).
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// assert_eq!(Plan::new(8, PartSize::new(3)?)?.part(2).unwrap().len(), 2);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // a part is never empty
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// The part's bytes as a half-open range.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// assert_eq!(Plan::new(8, PartSize::new(3)?)?.part(1).unwrap().range(), 3..6);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn range(&self) -> Range<u64> {
        self.start..self.end
    }

    /// The part's bytes as a [`ByteRange`], whose `Display` is the `Range` header value.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let part = Plan::new(8, PartSize::new(3)?)?.part(1).unwrap();
    /// assert_eq!(part.byte_range().to_string(), "bytes=3-5");
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn byte_range(&self) -> ByteRange {
        ByteRange::from_part(self.start, self.end)
    }

    /// What is left of the part once its first `done` bytes are on disk: the range to ask
    /// for when resuming inside the part, or `None` if nothing is left.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let part = Plan::new(300, PartSize::new(100)?)?.part(1).unwrap();
    /// assert_eq!(part.remaining_after(40).unwrap().to_string(), "bytes=140-199");
    /// assert!(part.remaining_after(100).is_none());
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn remaining_after(&self, done: u64) -> Option<ByteRange> {
        self.byte_range().remaining_after(done)
    }
}

/// The parts of a [`Plan`] in index order (from [`Plan::parts`] or [`Plan::parts_in`]).
///
/// ```
/// # use oss_parts::{Plan, PartSize};
/// let mut parts = Plan::new(3, PartSize::new(1)?)?.parts();
/// assert_eq!(parts.len(), 3);
/// assert_eq!(parts.next().map(|p| p.index()), Some(0));
/// assert_eq!(parts.next_back().map(|p| p.index()), Some(2));
/// assert_eq!(parts.len(), 1);
/// # Ok::<(), oss_parts::PartsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Parts {
    plan: Plan,
    next: u64,
    end: u64,
}

impl Iterator for Parts {
    type Item = Part;

    fn next(&mut self) -> Option<Part> {
        if self.next >= self.end {
            return None;
        }
        let part = self.plan.part(self.next);
        self.next += 1;
        part
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // At most MAX_PARTS = 2^24 remain, which fits any usize this code runs on.
        let left = usize::try_from(self.end - self.next).unwrap_or(usize::MAX);
        (left, Some(left))
    }

    fn nth(&mut self, n: usize) -> Option<Part> {
        let skip = u64::try_from(n).unwrap_or(u64::MAX);
        self.next = self.next.saturating_add(skip).min(self.end);
        self.next()
    }
}

impl DoubleEndedIterator for Parts {
    fn next_back(&mut self) -> Option<Part> {
        if self.next >= self.end {
            return None;
        }
        self.end -= 1;
        self.plan.part(self.end)
    }
}

impl ExactSizeIterator for Parts {}

impl FusedIterator for Parts {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn size(bytes: u64) -> PartSize {
        PartSize::new(bytes).unwrap()
    }

    fn collect(plan: &Plan) -> Vec<(u64, u64, u64)> {
        plan.parts()
            .map(|p| (p.index(), p.start(), p.end()))
            .collect()
    }

    #[test]
    fn empty_object_has_no_parts() {
        let plan = Plan::new(0, PartSize::DEFAULT).unwrap();
        assert!(plan.is_empty());
        assert_eq!(plan.parts().count(), 0);
        assert!(plan.part(0).is_none());
        assert!(plan.part_at(0).is_none());
    }

    #[test]
    fn one_byte_object_is_one_part() {
        let plan = Plan::new(1, PartSize::DEFAULT).unwrap();
        assert_eq!(collect(&plan), [(0, 0, 1)]);
        assert_eq!(plan.part(0).unwrap().byte_range().to_string(), "bytes=0-0");
    }

    #[test]
    fn part_size_one_gives_one_part_per_byte() {
        let plan = Plan::new(4, size(1)).unwrap();
        assert_eq!(collect(&plan), [(0, 0, 1), (1, 1, 2), (2, 2, 3), (3, 3, 4)]);
    }

    #[test]
    fn part_size_larger_than_object_is_one_short_part() {
        let plan = Plan::new(10, size(11)).unwrap();
        assert_eq!(collect(&plan), [(0, 0, 10)]);
        let plan = Plan::new(10, PartSize::MAX).unwrap();
        assert_eq!(collect(&plan), [(0, 0, 10)]);
    }

    #[test]
    fn part_size_exactly_five_gib() {
        let five = 5u64 << 30;
        let plan = Plan::new(2 * five + 1, size(five)).unwrap();
        assert_eq!(
            collect(&plan),
            [
                (0, 0, five),
                (1, five, 2 * five),
                (2, 2 * five, 2 * five + 1)
            ]
        );
        assert_eq!(
            PartSize::new(five + 1),
            Err(PartsError::PartSizeOutOfRange { bytes: five + 1 })
        );
    }

    #[test]
    fn sizes_near_u64_max_do_not_overflow() {
        // The largest object a 5 GiB part size can plan within MAX_PARTS...
        let max_size = MAX_PARTS * PartSize::MAX.get();
        let plan = Plan::new(max_size, PartSize::MAX).unwrap();
        assert_eq!(plan.len(), MAX_PARTS);
        let last = plan.parts().next_back().unwrap();
        assert_eq!(last.end(), max_size);
        assert_eq!(last.len(), PartSize::MAX.get());

        // ...and anything larger, up to u64::MAX, is refused, naming no fix.
        for object_size in [max_size + 1, u64::MAX - 1, u64::MAX] {
            let err = Plan::new(object_size, PartSize::MAX).unwrap_err();
            assert!(matches!(err, PartsError::TooManyParts { .. }));
            assert_eq!(err.min_part_size(), None);
        }
        let err = Plan::new(u64::MAX, size(1)).unwrap_err();
        assert_eq!(
            err,
            PartsError::TooManyParts {
                object_size: u64::MAX,
                part_size: 1,
                parts: u64::MAX
            }
        );

        // Byte ranges near the top of u64 are fine for ranges themselves.
        let top = ByteRange::new(u64::MAX - 10, u64::MAX).unwrap();
        assert_eq!(
            top.to_string(),
            format!("bytes={}-{}", u64::MAX - 10, u64::MAX - 1)
        );
        assert_eq!(top.to_string().parse::<ByteRange>().unwrap(), top);
    }

    #[test]
    fn too_many_parts_names_a_part_size_that_works() {
        let object_size = 10u64 << 40;
        let err = Plan::new(object_size, size(4096)).unwrap_err();
        let fix = err.min_part_size().unwrap();
        let plan = Plan::new(object_size, fix).unwrap();
        assert!(plan.len() <= MAX_PARTS);
        // And it is the minimum: one byte less is refused.
        assert!(Plan::new(object_size, size(fix.get() - 1)).is_err());
        assert!(err.to_string().contains(&fix.get().to_string()));
    }

    #[test]
    fn part_at_maps_offsets_to_parts() {
        let plan = Plan::new(10, size(3)).unwrap();
        for offset in 0..10 {
            let part = plan.part_at(offset).unwrap();
            assert!(part.range().contains(&offset));
        }
        assert!(plan.part_at(10).is_none());
        assert!(plan.part_at(u64::MAX).is_none());
    }

    #[test]
    fn remaining_after_resumes_inside_a_part() {
        let part = Plan::new(10, size(4)).unwrap().part(2).unwrap();
        assert_eq!(part.range(), 8..10);
        assert_eq!(part.remaining_after(0).unwrap().range(), 8..10);
        assert_eq!(part.remaining_after(1).unwrap().range(), 9..10);
        assert!(part.remaining_after(2).is_none());
        assert!(part.remaining_after(u64::MAX).is_none());
    }

    #[test]
    fn iterator_nth_and_both_ends() {
        let plan = Plan::new(100, size(10)).unwrap();
        let mut parts = plan.parts();
        assert_eq!(parts.nth(3).unwrap().index(), 3);
        assert_eq!(parts.next_back().unwrap().index(), 9);
        assert_eq!(parts.len(), 5);
        assert!(parts.nth(100).is_none());
        assert!(parts.next().is_none());
        #[allow(clippy::reversed_empty_ranges)] // a reversed range is exactly the case
        let reversed = 7..3;
        assert_eq!(plan.parts_in(reversed).count(), 0);
        assert_eq!(plan.parts_in(20..30).count(), 0);
    }

    proptest! {
        #[test]
        fn parts_cover_the_object_exactly_once_in_order(
            object_size in 0u64..100_000,
            part_size in 1u64..5_000,
        ) {
            let plan = Plan::new(object_size, size(part_size)).unwrap();
            let mut expected_start = 0;
            let mut count = 0;
            for (i, part) in plan.parts().enumerate() {
                prop_assert_eq!(part.index(), i as u64);
                prop_assert_eq!(part.start(), expected_start);
                prop_assert!(part.end() > part.start());
                if part.end() < object_size {
                    prop_assert_eq!(part.len(), part_size);
                } else {
                    prop_assert!(part.len() <= part_size);
                }
                prop_assert_eq!(Some(part), plan.part(i as u64));
                expected_start = part.end();
                count += 1;
            }
            prop_assert_eq!(expected_start, object_size);
            prop_assert_eq!(count, plan.len());
            prop_assert_eq!(plan.parts().len() as u64, plan.len());
        }

        #[test]
        fn large_plans_are_consistent_at_both_ends(
            part_size in 1u64..=(5u64 << 30),
            parts in 1u64..=MAX_PARTS,
            tail in any::<u64>(),
            pick in any::<u64>(),
        ) {
            // Any plannable size, including the largest ones: (parts - 1) full parts and a
            // last part of 1..=part_size bytes.
            let object_size = (parts - 1) * part_size + 1 + tail % part_size;
            let plan = Plan::new(object_size, size(part_size)).unwrap();
            prop_assert_eq!(plan.len(), parts);
            let last = plan.parts().next_back().unwrap();
            prop_assert_eq!(last.end(), object_size);
            prop_assert_eq!(last.start(), (parts - 1) * part_size);
            let first = plan.part(0).unwrap();
            prop_assert_eq!(first.start(), 0);
            prop_assert_eq!(first.len(), part_size.min(object_size));
            // Any part's header text parses back to the same bytes.
            let part = plan.part(pick % parts).unwrap();
            prop_assert_eq!(plan.part_at(part.start()), Some(part));
            prop_assert_eq!(plan.part_at(part.end() - 1), Some(part));
            let parsed: ByteRange = part.byte_range().to_string().parse().unwrap();
            prop_assert_eq!(parsed.range(), part.range());
        }

        #[test]
        fn plans_over_the_cap_are_refused_with_a_working_fix(
            object_size in any::<u64>(),
            part_size in 1u64..=(5u64 << 30),
        ) {
            let parts = object_size.div_ceil(part_size);
            match Plan::new(object_size, size(part_size)) {
                Ok(plan) => prop_assert_eq!(plan.len(), parts),
                Err(err) => {
                    prop_assert!(parts > MAX_PARTS);
                    match err.min_part_size() {
                        Some(fix) => {
                            prop_assert!(Plan::new(object_size, fix).is_ok());
                            if fix.get() > 1 {
                                prop_assert!(Plan::new(object_size, size(fix.get() - 1)).is_err());
                            }
                        }
                        None => prop_assert!(Plan::new(object_size, PartSize::MAX).is_err()),
                    }
                }
            }
        }
    }
}
