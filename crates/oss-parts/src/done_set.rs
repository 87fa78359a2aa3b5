//! The set of done parts: a watermark plus a bitmap window of the parts done above it.

use std::collections::VecDeque;
use std::fmt;
use std::iter::FusedIterator;
use std::ops::Range;

use crate::error::PartsError;
use crate::plan::Plan;

/// Which parts of a [`Plan`] are done, in at most one bit per part, and far less in the
/// common case of a finished prefix and a few parts done beyond it.
///
/// The representation is a watermark ("every part below `first_missing` is done") plus a
/// bitmap window that spans only the parts done above it, from the lowest to the highest
/// (in 64-part words). A download that fetches parts roughly in order keeps the window a
/// few words long however large the object, and so does a small cluster of parts far
/// from the watermark; parts done in a random pattern make it at most `part_count / 8`
/// bytes (1.25 MiB for 10M parts). [`DoneSet::to_bytes`] stores the same idea on disk, as a bitmap or as
/// runs, whichever is smaller.
///
/// Every operation but the set-wide ones ([`DoneSet::difference`], [`DoneSet::is_subset`],
/// encoding) costs O(1) amortized or O(words scanned).
///
/// ```
/// use oss_parts::{DoneSet, Plan, PartSize};
///
/// let plan = Plan::new(1000, PartSize::new(100)?)?; // 10 parts
/// let mut done = DoneSet::new(&plan);
/// for index in [0, 1, 2, 5, 9] {
///     done.insert(index)?;
/// }
/// assert_eq!(done.count(), 5);
/// assert!(done.contains(5) && !done.contains(3));
/// assert_eq!(done.first_missing(), Some(3));
/// let missing: Vec<_> = done.missing_ranges().collect();
/// assert_eq!(missing, [3..5, 6..9]);
///
/// // The bytes that go into a checkpoint, and back.
/// let bytes = done.to_bytes();
/// assert_eq!(DoneSet::from_bytes(&bytes)?, done);
/// # Ok::<(), oss_parts::PartsError>(())
/// ```
#[derive(Clone)]
pub struct DoneSet {
    /// The number of parts in the plan: valid indices are `0..len`.
    len: u64,
    /// Every index below it is done; the index itself is missing (or equals `len`).
    prefix: u64,
    /// The first index of the window: a multiple of 64, never below the watermark's word.
    /// Indices from `prefix` up to `base` are missing.
    base: u64,
    /// Bits for indices `[base, base + 64 × words.len())`. Bits below `prefix` are set,
    /// no bit at or above `len` is, and the last word holds the highest done index. The
    /// window may start with words that have nothing done above the watermark (dropping
    /// them eagerly could make a pattern of inserts quadratic); an empty window has
    /// `base` at the watermark's word. Equality compares contents, not layout.
    words: VecDeque<u64>,
    /// How many indices are done.
    count: u64,
}

/// `n` low bits set (`n <= 64`).
pub(crate) fn low_mask(n: u64) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// A word index or count as `usize`. Plans have at most 2^24 parts (2^18 words), so this
/// never saturates on any platform Rust supports; saturating keeps it panic-free anyway.
pub(crate) fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl DoneSet {
    /// An empty set for `plan`'s parts.
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// let done = DoneSet::new(&Plan::new(10, PartSize::new(1)?)?);
    /// assert_eq!((done.count(), done.part_count()), (0, 10));
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn new(plan: &Plan) -> Self {
        Self::empty(plan.len())
    }

    /// An empty set of `len` parts; callers guarantee `len <= MAX_PARTS`.
    pub(crate) fn empty(len: u64) -> Self {
        Self {
            len,
            prefix: 0,
            base: 0,
            words: VecDeque::new(),
            count: 0,
        }
    }

    /// A set from its parts, for the decoder and `from_word_fn`: `window` holds the words
    /// from the watermark's word on (bits below `prefix` set, none at or past `len`).
    /// Leading words with nothing done above the watermark are dropped, so the window
    /// takes exactly the memory canonical form needs.
    pub(crate) fn from_parts(len: u64, prefix: u64, window: Vec<u64>, count: u64) -> Self {
        let prefix_word = prefix / 64;
        let above = |k: usize, word: u64| {
            let below = if k == 0 { low_mask(prefix % 64) } else { 0 };
            word & !below != 0
        };
        let skip = window
            .iter()
            .enumerate()
            .position(|(k, &word)| above(k, word))
            .unwrap_or(window.len());
        let words: VecDeque<u64> = if skip == window.len() {
            VecDeque::new()
        } else {
            window.into_iter().skip(skip).collect()
        };
        Self {
            len,
            prefix,
            base: (prefix_word + skip as u64) * 64,
            words,
            count,
        }
    }

    /// The number of parts in the plan (valid indices are `0..part_count()`).
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// assert_eq!(DoneSet::new(&Plan::new(10, PartSize::new(3)?)?).part_count(), 4);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn part_count(&self) -> u64 {
        self.len
    }

    /// How many parts are done.
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// let mut done = DoneSet::new(&Plan::new(10, PartSize::new(1)?)?);
    /// done.insert(7)?;
    /// done.insert(7)?;
    /// assert_eq!(done.count(), 1);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether every part is done (true for an empty plan).
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// let mut done = DoneSet::new(&Plan::new(2, PartSize::new(1)?)?);
    /// done.insert(1)?;
    /// assert!(!done.is_complete());
    /// done.insert(0)?;
    /// assert!(done.is_complete());
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn is_complete(&self) -> bool {
        self.prefix == self.len
    }

    /// Whether part `index` is done (`false` for an index outside the plan).
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// let mut done = DoneSet::new(&Plan::new(10, PartSize::new(1)?)?);
    /// done.insert(4)?;
    /// assert!(done.contains(4));
    /// assert!(!done.contains(5) && !done.contains(99));
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn contains(&self, index: u64) -> bool {
        if index < self.prefix {
            return true;
        }
        if index >= self.len || index < self.base {
            return false;
        }
        let offset = index - self.base;
        match self.words.get(to_usize(offset / 64)) {
            Some(word) => word >> (offset % 64) & 1 == 1,
            None => false,
        }
    }

    /// Marks part `index` done. Returns whether it was newly added, or
    /// [`PartsError::IndexOutOfRange`] for an index outside the plan (nothing changes).
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize, PartsError};
    /// let mut done = DoneSet::new(&Plan::new(3, PartSize::new(1)?)?);
    /// assert_eq!(done.insert(2), Ok(true));
    /// assert_eq!(done.insert(2), Ok(false));
    /// assert_eq!(done.insert(3), Err(PartsError::IndexOutOfRange { index: 3, len: 3 }));
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn insert(&mut self, index: u64) -> Result<bool, PartsError> {
        if index >= self.len {
            return Err(PartsError::IndexOutOfRange {
                index,
                len: self.len,
            });
        }
        if self.contains(index) {
            return Ok(false);
        }
        self.count += 1;
        if index == self.prefix && (self.words.is_empty() || index < self.base) {
            // The watermark moves; no bit needs storing below the window.
            self.prefix += 1;
            if self.words.is_empty() {
                self.base = self.prefix & !63;
            } else if self.prefix == self.base {
                self.advance();
            }
            return Ok(true);
        }
        self.set_bit(index);
        if index == self.prefix {
            self.advance();
        }
        Ok(true)
    }

    /// The lowest part that is not done, or `None` when all are.
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// let mut done = DoneSet::new(&Plan::new(3, PartSize::new(1)?)?);
    /// assert_eq!(done.first_missing(), Some(0));
    /// done.insert(0)?;
    /// done.insert(2)?;
    /// assert_eq!(done.first_missing(), Some(1));
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn first_missing(&self) -> Option<u64> {
        (self.prefix < self.len).then_some(self.prefix)
    }

    /// The maximal runs of parts not yet done, as index ranges in increasing order.
    /// [`Plan::parts_in`] turns each into parts.
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// let plan = Plan::new(8, PartSize::new(1)?)?;
    /// let mut done = DoneSet::new(&plan);
    /// done.insert(1)?;
    /// done.insert(2)?;
    /// done.insert(6)?;
    /// assert_eq!(done.missing_ranges().collect::<Vec<_>>(), [0..1, 3..6, 7..8]);
    /// let todo: Vec<u64> = done
    ///     .missing_ranges()
    ///     .flat_map(|r| plan.parts_in(r))
    ///     .map(|p| p.index())
    ///     .collect();
    /// assert_eq!(todo, [0, 3, 4, 5, 7]);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn missing_ranges(&self) -> Runs<'_> {
        Runs {
            set: self,
            next: 0,
            done: false,
        }
    }

    /// The maximal runs of done parts, as index ranges in increasing order (for example to
    /// re-read done data when verifying on resume).
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// let mut done = DoneSet::new(&Plan::new(8, PartSize::new(1)?)?);
    /// for index in [0, 1, 5] {
    ///     done.insert(index)?;
    /// }
    /// assert_eq!(done.done_ranges().collect::<Vec<_>>(), [0..2, 5..6]);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn done_ranges(&self) -> Runs<'_> {
        Runs {
            set: self,
            next: 0,
            done: true,
        }
    }

    /// The parts done in `self` but not in `other`, as a set of `self`'s part count.
    /// Costs O(words between `other`'s first missing part and `self`'s highest done
    /// part): a few words when both are a done prefix plus a little, O(part count / 64)
    /// at worst.
    ///
    /// A checkpoint stores its older ("durable") snapshot as the parts the newer one adds,
    /// which is tiny when both are large.
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// let plan = Plan::new(10, PartSize::new(1)?)?;
    /// let (mut old, mut new) = (DoneSet::new(&plan), DoneSet::new(&plan));
    /// for index in 0..4 { old.insert(index)?; new.insert(index)?; }
    /// new.insert(7)?;
    /// let added = new.difference(&old);
    /// assert_eq!(added.done_ranges().collect::<Vec<_>>(), [7..8]);
    /// // ...and back: old = new minus what it added.
    /// assert_eq!(new.difference(&added), old);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn difference(&self, other: &DoneSet) -> DoneSet {
        let active = self.minus_active_words(other);
        Self::from_word_fn(self.len, active, |w| self.word(w) & !other.word(w))
    }

    /// Whether every part done in `self` is done in `other` (and inside its plan).
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// let plan = Plan::new(10, PartSize::new(1)?)?;
    /// let (mut small, mut big) = (DoneSet::new(&plan), DoneSet::new(&plan));
    /// small.insert(3)?;
    /// big.insert(3)?;
    /// big.insert(4)?;
    /// assert!(small.is_subset(&big) && !big.is_subset(&small));
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn is_subset(&self, other: &DoneSet) -> bool {
        self.minus_active_words(other)
            .all(|w| self.word(w) & !other.word(w) == 0)
    }

    /// The words where `self.word(w) & !other.word(w)` can be non-zero: below `other`'s
    /// watermark `other` has every part, and past `self`'s window `self` has none. This
    /// keeps set operations on two mostly-prefix sets to a few words.
    fn minus_active_words(&self, other: &DoneSet) -> Range<u64> {
        let start = other.prefix / 64;
        let end = (self.base / 64 + self.words.len() as u64)
            .max(self.prefix.div_ceil(64))
            .min(self.len.div_ceil(64));
        start..end.max(start)
    }

    /// The first index of the bitmap window (a multiple of 64).
    pub(crate) fn base(&self) -> u64 {
        self.base
    }

    pub(crate) fn prefix(&self) -> u64 {
        self.prefix
    }

    /// The window's words, from [`DoneSet::base`] (bits below the watermark are set).
    pub(crate) fn window(&self) -> &VecDeque<u64> {
        &self.words
    }

    /// Bits for indices `[64 w, 64 w + 64)`, whichever representation holds them.
    pub(crate) fn word(&self, w: u64) -> u64 {
        let lo = w.saturating_mul(64);
        let valid = low_mask(self.len.saturating_sub(lo));
        if lo.saturating_add(64) <= self.prefix {
            return valid;
        }
        let below_prefix = low_mask(self.prefix.saturating_sub(lo));
        let stored = match lo.checked_sub(self.base) {
            Some(offset) => self.words.get(to_usize(offset / 64)).copied().unwrap_or(0),
            None => 0,
        };
        stored | below_prefix
    }

    /// Builds a canonical set of `len` parts whose word `w` is `f(w)` for `w` in `active`
    /// and zero elsewhere (bits past `len` are ignored). Costs O(active words) calls of
    /// `f` (plus the watermark's words when `active` starts at 0).
    pub(crate) fn from_word_fn(len: u64, active: Range<u64>, f: impl Fn(u64) -> u64) -> Self {
        let words = len.div_ceil(64);
        let valid = |w: u64| low_mask(len.saturating_sub(w * 64));
        let word = |w: u64| {
            if active.contains(&w) {
                f(w) & valid(w)
            } else {
                0
            }
        };
        // The watermark: the first clear bit among the valid ones.
        let mut prefix = len;
        for w in 0..words {
            let bits = word(w);
            if bits != valid(w) {
                prefix = w * 64 + u64::from(bits.trailing_ones());
                break;
            }
        }
        let prefix_word = prefix / 64;
        let mut count = 0;
        let mut span: Option<(u64, u64)> = None;
        for w in active.start..active.end.min(words) {
            let bits = word(w);
            count += u64::from(bits.count_ones());
            let below_prefix = low_mask(prefix.saturating_sub(w * 64));
            if bits & !below_prefix != 0 {
                span = Some((span.map_or(w, |(first, _)| first), w));
            }
        }
        let mut set = Self::empty(len);
        set.prefix = prefix;
        set.count = count;
        match span {
            None => set.base = prefix_word * 64,
            Some((first, last)) => {
                set.base = first * 64;
                set.words = (first..=last).map(word).collect();
                if let Some(front) = set.words.front_mut()
                    && first == prefix_word
                {
                    *front |= low_mask(prefix % 64);
                }
            }
        }
        set
    }

    /// Sets the bit for `index` (above the watermark), growing the window to hold it. The
    /// capacity grows geometrically but never past what the plan can need, so a full
    /// window costs one bit per part, not up to two.
    fn set_bit(&mut self, index: u64) {
        let w = index / 64;
        let prefix_word = self.prefix / 64;
        let below_prefix = low_mask(self.prefix % 64);
        // The word's initial bits: the watermark's word has the bits below it set.
        let fresh = move |word: u64| if word == prefix_word { below_prefix } else { 0 };
        if self.words.is_empty() {
            self.base = w * 64;
            self.reserve_words(1);
            self.words.push_back(fresh(w));
        }
        let base_word = self.base / 64;
        if w < base_word {
            let more = to_usize(base_word - w);
            self.reserve_words(self.words.len() + more);
            for word in (w..base_word).rev() {
                self.words.push_front(fresh(word));
            }
            self.base = w * 64;
        }
        let k = to_usize(w - self.base / 64);
        if k >= self.words.len() {
            self.reserve_words(k + 1);
            self.words.resize(k + 1, 0);
        }
        if let Some(word) = self.words.get_mut(k) {
            *word |= 1 << (index % 64);
        }
    }

    /// Makes room for `needed` window words: doubling, capped at what the plan can use.
    fn reserve_words(&mut self, needed: usize) {
        if needed <= self.words.capacity() {
            return;
        }
        let most = to_usize(self.len.div_ceil(64) - self.prefix / 64);
        let target = needed.max(self.words.capacity().saturating_mul(2).min(most));
        self.words.reserve_exact(target - self.words.len());
    }

    /// Moves the watermark past the done parts at it, dropping words it passes, then
    /// restores canonical form.
    fn advance(&mut self) {
        while let Some(&front) = self.words.front() {
            if self.prefix < self.base {
                break;
            }
            // The watermark is inside the front word (or at its end).
            let offset = self.prefix - self.base;
            let ones = if offset >= 64 {
                0
            } else {
                u64::from((front >> offset).trailing_ones())
            };
            self.prefix = (self.prefix + ones).min(self.len);
            if offset + ones < 64 || self.prefix == self.len {
                break;
            }
            self.words.pop_front();
            self.base += 64;
        }
        self.trim();
    }

    /// Drops a window left with nothing done above the watermark, so in-order inserts
    /// take the fast path again. Only a one-word window is checked: a longer one ends
    /// with a word holding a done part above the watermark.
    fn trim(&mut self) {
        if self.prefix == self.len {
            self.words.clear();
        }
        if self.words.len() == 1
            && let Some(&only) = self.words.front()
            && only & !low_mask(self.prefix.saturating_sub(self.base)) == 0
        {
            self.words.clear();
        }
        if self.words.is_empty() {
            self.base = self.prefix & !63;
        }
    }

    /// Index of the first part at or after `from` that is done (`done`) or missing
    /// (`!done`), or `len` if there is none.
    fn next_with(&self, from: u64, done: bool) -> u64 {
        if from >= self.len {
            return self.len;
        }
        if from < self.prefix {
            return if done { from } else { self.prefix };
        }
        let base = self.base;
        if from < base {
            // Everything from the watermark up to the window is missing.
            if !done {
                return from;
            }
            return self.next_with(base, true);
        }
        let mut k = to_usize((from - base) / 64);
        let mut mask = u64::MAX << ((from - base) % 64);
        while let Some(&word) = self.words.get(k) {
            let bits = if done { word } else { !word } & mask;
            if bits != 0 {
                let at = base + 64 * k as u64 + u64::from(bits.trailing_zeros());
                return at.min(self.len);
            }
            k += 1;
            mask = u64::MAX;
        }
        if done {
            self.len
        } else {
            let window_end = base + 64 * self.words.len() as u64;
            from.max(window_end).min(self.len)
        }
    }
}

impl PartialEq for DoneSet {
    /// Set equality: the same plan size and the same parts done, however the windows are
    /// laid out. Costs O(window words).
    fn eq(&self, other: &Self) -> bool {
        if (self.len, self.prefix, self.count) != (other.len, other.prefix, other.count) {
            return false;
        }
        let end = |set: &DoneSet| set.base / 64 + set.words.len() as u64;
        (self.prefix / 64..end(self).max(end(other))).all(|w| self.word(w) == other.word(w))
    }
}

impl Eq for DoneSet {}

impl fmt::Debug for DoneSet {
    /// A summary, not the bits: a set can hold millions of parts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoneSet")
            .field("part_count", &self.len)
            .field("count", &self.count)
            .field("first_missing", &self.first_missing())
            .field("window_words", &self.words.len())
            .finish()
    }
}

/// Maximal runs of done or missing parts of a [`DoneSet`], in increasing order
/// (from [`DoneSet::missing_ranges`] or [`DoneSet::done_ranges`]).
///
/// ```
/// # use oss_parts::{DoneSet, Plan, PartSize};
/// let done = DoneSet::new(&Plan::new(5, PartSize::new(1)?)?);
/// assert_eq!(done.missing_ranges().collect::<Vec<_>>(), [0..5]);
/// assert_eq!(done.done_ranges().count(), 0);
/// # Ok::<(), oss_parts::PartsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Runs<'a> {
    set: &'a DoneSet,
    next: u64,
    done: bool,
}

impl Iterator for Runs<'_> {
    type Item = Range<u64>;

    fn next(&mut self) -> Option<Range<u64>> {
        let start = self.set.next_with(self.next, self.done);
        if start >= self.set.len {
            self.next = self.set.len;
            return None;
        }
        let end = self.set.next_with(start, !self.done);
        self.next = end;
        Some(start..end)
    }
}

impl FusedIterator for Runs<'_> {}
