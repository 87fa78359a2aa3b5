//! The done set's byte encoding, stored inside checkpoints.
//!
//! The format is frozen: checkpoint files written today must read back forever (oss-ckpt
//! keeps a golden file that would catch a change). All integers are LEB128 varints
//! (7 bits per byte, low first, minimal length).
//!
//! ```text
//! part_count  varint   <= MAX_PARTS
//! prefix      varint   <= part_count: parts 0..prefix are done, part `prefix` is not
//! kind        u8       0: nothing else is done
//!                      1: bitmap -- bit j (LSB first) of byte j/8 is part prefix+1+j;
//!                         the last byte is not 0 and no bit reaches part_count
//!                      2: runs -- one or more (gap, length-1) varint pairs; a cursor starts
//!                         at prefix+1, each run is [cursor+gap, cursor+gap+length) and
//!                         the cursor moves one past its end (runs are maximal)
//! ```
//!
//! The encoder picks whichever of bitmap and runs is shorter (the bitmap on a tie), so a
//! finished prefix with a few parts beyond it takes a handful of bytes, and the worst case
//! (a random half) is a bitmap of `part_count / 8` bytes.
//!
//! Decoding is total: any bytes give a set or [`PartsError::CorruptDoneSet`], never a
//! panic, and every length is checked against `part_count` (itself at most
//! [`MAX_PARTS`]) before memory is allocated.

use crate::done_set::{DoneSet, low_mask, to_usize};
use crate::error::PartsError;
use crate::plan::MAX_PARTS;

const KIND_NONE: u8 = 0;
const KIND_BITMAP: u8 = 1;
const KIND_RUNS: u8 = 2;

fn corrupt(reason: &'static str) -> PartsError {
    PartsError::CorruptDoneSet { reason }
}

/// Appends `value` as a minimal LEB128 varint.
fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn varint_len(value: u64) -> usize {
    let bits = 64 - value.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Reads a minimal LEB128 varint from the front of `input`.
fn take_varint(input: &mut &[u8]) -> Result<u64, PartsError> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let Some((&byte, rest)) = input.split_first() else {
            return Err(corrupt("it ends inside a number"));
        };
        *input = rest;
        let bits = u64::from(byte & 0x7F);
        if shift == 63 && bits > 1 {
            return Err(corrupt("a number does not fit in 64 bits"));
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            if byte == 0 && shift > 0 {
                return Err(corrupt("a number is not minimally encoded"));
            }
            return Ok(value);
        }
    }
    Err(corrupt("a number does not fit in 64 bits"))
}

impl DoneSet {
    /// The longest [`DoneSet::to_bytes`] can be, for any set: two varints of at most 4
    /// bytes (values up to 2^24), the kind byte, and a bitmap over all [`MAX_PARTS`]
    /// parts (runs are only chosen when shorter). About 2 MiB.
    ///
    /// ```
    /// assert_eq!(oss_parts::DoneSet::MAX_ENCODED_LEN, 9 + (1 << 21));
    /// ```
    pub const MAX_ENCODED_LEN: usize = 4 + 4 + 1 + (MAX_PARTS / 8) as usize;

    /// The set as bytes, in the frozen format described in this module: a few bytes for
    /// a done prefix plus scattered parts, at most `part_count / 8 + 12` bytes for any set.
    ///
    /// ```
    /// # use oss_parts::{DoneSet, Plan, PartSize};
    /// let plan = Plan::new(10 << 40, PartSize::new(1 << 20)?)?; // 10M parts
    /// let mut done = DoneSet::new(&plan);
    /// for index in (0..5_000_000).chain([6_000_000, 7_000_001]) {
    ///     done.insert(index)?;
    /// }
    /// let bytes = done.to_bytes();
    /// assert!(bytes.len() < 20, "{}", bytes.len());
    /// assert_eq!(DoneSet::from_bytes(&bytes)?, done);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let prefix = self.prefix();
        let runs_start = prefix.saturating_add(1);
        let top = self.top_above_prefix();
        // Bits prefix+1 ..= top.
        let bitmap_len = top.map_or(0, |top| to_usize((top - prefix).div_ceil(8)));
        // Each run costs at least two bytes, so counting runs (cheap, word-wise) settles
        // the common dense case without walking the runs.
        let use_bitmap = top.is_some()
            && (self.run_starts_above_prefix().saturating_mul(2) >= bitmap_len as u64
                || self.runs_encoded_len(runs_start, bitmap_len) >= bitmap_len);

        let mut out = Vec::with_capacity(9 + if use_bitmap { bitmap_len } else { 16 });
        put_varint(&mut out, self.part_count());
        put_varint(&mut out, prefix);
        if top.is_none() {
            out.push(KIND_NONE);
        } else if use_bitmap {
            out.push(KIND_BITMAP);
            self.put_bitmap(&mut out, runs_start, bitmap_len);
        } else {
            out.push(KIND_RUNS);
            let mut cursor = runs_start;
            for run in self.done_ranges().filter(|r| r.start > prefix) {
                put_varint(&mut out, run.start - cursor);
                put_varint(&mut out, run.end - run.start - 1);
                cursor = run.end + 1;
            }
        }
        out
    }

    /// The highest done part above the watermark, if any: in canonical form, the top bit
    /// of the window's last word.
    fn top_above_prefix(&self) -> Option<u64> {
        let window = self.window();
        let last = *window.back()?;
        let top_bit = 63u64.checked_sub(u64::from(last.leading_zeros()))?;
        let top = self.base() + 64 * (window.len() as u64 - 1) + top_bit;
        (top > self.prefix()).then_some(top)
    }

    /// How many maximal runs of done parts start above the watermark.
    fn run_starts_above_prefix(&self) -> u64 {
        // The part just below the window is done only if the window starts in the
        // watermark's word (its bits below the watermark are set); otherwise it is one of
        // the missing parts between the watermark and the window.
        let mut carry = u64::from(self.base() / 64 == self.prefix() / 64 && self.prefix() > 0);
        let mut starts = 0;
        for &word in self.window() {
            starts += u64::from((word & !((word << 1) | carry)).count_ones());
            carry = word >> 63;
        }
        starts
    }

    /// Decodes bytes made by [`DoneSet::to_bytes`], or fails with
    /// [`PartsError::CorruptDoneSet`] saying what is wrong. Never panics; allocates at
    /// most `part_count / 8` bytes, and only after checking every length against the
    /// part count.
    ///
    /// ```
    /// use oss_parts::{DoneSet, PartsError};
    ///
    /// assert!(matches!(
    ///     DoneSet::from_bytes(&[3, 0]),
    ///     Err(PartsError::CorruptDoneSet { .. })
    /// ));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<DoneSet, PartsError> {
        let mut input = bytes;
        let len = take_varint(&mut input)?;
        if len > MAX_PARTS {
            return Err(corrupt("the part count is over the limit"));
        }
        let prefix = take_varint(&mut input)?;
        if prefix > len {
            return Err(corrupt("the done prefix is longer than the plan"));
        }
        let Some((&kind, body)) = input.split_first() else {
            return Err(corrupt("it ends before the kind byte"));
        };
        let base = prefix & !63;
        match kind {
            KIND_NONE if body.is_empty() => Ok(Self::from_parts(len, prefix, Vec::new(), prefix)),
            KIND_NONE => Err(corrupt("bytes follow an empty remainder")),
            KIND_BITMAP => decode_bitmap(len, prefix, base, body),
            KIND_RUNS => decode_runs(len, prefix, base, body),
            _ => Err(corrupt("unknown kind byte")),
        }
    }

    /// Bytes the runs encoding needs from `cursor` on; stops counting past `limit`.
    fn runs_encoded_len(&self, mut cursor: u64, limit: usize) -> usize {
        let mut total = 0;
        let first = cursor;
        for run in self.done_ranges().filter(|r| r.start >= first) {
            total += varint_len(run.start - cursor) + varint_len(run.end - run.start - 1);
            if total > limit {
                break;
            }
            cursor = run.end + 1;
        }
        total
    }

    /// Appends `count` bitmap bytes whose bit 0 is part `from`.
    fn put_bitmap(&self, out: &mut Vec<u8>, from: u64, count: usize) {
        let (mut w, bit) = (from / 64, (from % 64) as u32);
        let start = out.len();
        while out.len() - start < count {
            let lo = self.word(w) >> bit;
            let hi = if bit == 0 {
                0
            } else {
                self.word(w + 1) << (64 - bit)
            };
            let chunk = (lo | hi).to_le_bytes();
            let take = (count - (out.len() - start)).min(8);
            out.extend_from_slice(chunk.get(..take).unwrap_or(&chunk));
            w += 1;
        }
    }
}

fn decode_bitmap(len: u64, prefix: u64, base: u64, body: &[u8]) -> Result<DoneSet, PartsError> {
    let Some(&last_byte) = body.last() else {
        return Err(corrupt("an empty bitmap"));
    };
    if last_byte == 0 {
        return Err(corrupt("the bitmap ends in a zero byte"));
    }
    // The highest part the bitmap marks: checked before anything is allocated.
    let top_bit = 7 - u64::from(last_byte.leading_zeros());
    let top = (body.len() as u64 - 1)
        .checked_mul(8)
        .and_then(|bits| bits.checked_add(top_bit))
        .and_then(|bits| bits.checked_add(prefix + 1))
        .filter(|&top| top < len)
        .ok_or(corrupt("the bitmap marks parts past the end of the plan"))?;
    let mut window = vec![0u64; to_usize((top - base) / 64 + 1)];
    if let Some(first) = window.first_mut() {
        *first = low_mask(prefix - base);
    }
    let shift = prefix + 1 - base;
    for (chunk_index, chunk) in body.chunks(8).enumerate() {
        let mut le = [0u8; 8];
        le.iter_mut().zip(chunk).for_each(|(to, from)| *to = *from);
        let value = u64::from_le_bytes(le);
        let at = shift + 64 * chunk_index as u64;
        let (k, bit) = (to_usize(at / 64), at % 64);
        if let Some(word) = window.get_mut(k) {
            *word |= value << bit;
        }
        if bit != 0
            && let Some(word) = window.get_mut(k + 1)
        {
            *word |= value >> (64 - bit);
        }
    }
    let count = prefix + body.iter().map(|b| u64::from(b.count_ones())).sum::<u64>();
    Ok(DoneSet::from_parts(len, prefix, window, count))
}

fn decode_runs(len: u64, prefix: u64, base: u64, body: &[u8]) -> Result<DoneSet, PartsError> {
    if body.is_empty() {
        return Err(corrupt("no runs after the runs kind byte"));
    }
    // First pass: validate and find the extent, allocating nothing.
    let runs = |input| RunReader {
        input,
        cursor: prefix + 1,
        len,
    };
    let mut top = prefix;
    let mut count = prefix;
    for run in runs(body) {
        let run = run?;
        top = run.end - 1;
        count += run.end - run.start;
    }
    let mut window = vec![0u64; to_usize((top - base) / 64 + 1)];
    if let Some(first) = window.first_mut() {
        *first = low_mask(prefix - base);
    }
    for run in runs(body).flatten() {
        set_bits(&mut window, run.start - base, run.end - base);
    }
    Ok(DoneSet::from_parts(len, prefix, window, count))
}

/// Reads (gap, length-1) pairs as part ranges, checking each against the plan.
struct RunReader<'a> {
    input: &'a [u8],
    /// The lowest index the next run may start at.
    cursor: u64,
    len: u64,
}

impl Iterator for RunReader<'_> {
    type Item = Result<std::ops::Range<u64>, PartsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.input.is_empty() {
            return None;
        }
        let run = self.take_run();
        match &run {
            Ok(range) => self.cursor = range.end + 1,
            // Stop after the first error.
            Err(_) => self.input = &[],
        }
        Some(run)
    }
}

impl RunReader<'_> {
    fn take_run(&mut self) -> Result<std::ops::Range<u64>, PartsError> {
        let gap = take_varint(&mut self.input)?;
        let length = take_varint(&mut self.input)?;
        let start = self.cursor.checked_add(gap);
        let end = start.and_then(|s| s.checked_add(length)?.checked_add(1));
        match (start, end) {
            (Some(start), Some(end)) if end <= self.len => Ok(start..end),
            _ => Err(corrupt("a run reaches past the end of the plan")),
        }
    }
}

/// Sets bits `[from, to)` of a word slice (positions inside it).
fn set_bits(words: &mut [u64], from: u64, to: u64) {
    let mut at = from;
    while at < to {
        let bit = at % 64;
        let n = (64 - bit).min(to - at);
        if let Some(word) = words.get_mut(to_usize(at / 64)) {
            *word |= low_mask(n) << bit;
        }
        at += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint_bytes(value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, value);
        out
    }

    #[test]
    fn varints_round_trip_and_are_minimal() {
        for value in [0, 1, 127, 128, 300, 1 << 24, u64::MAX - 1, u64::MAX] {
            let bytes = varint_bytes(value);
            assert_eq!(bytes.len(), varint_len(value));
            let mut input = bytes.as_slice();
            assert_eq!(take_varint(&mut input), Ok(value));
            assert!(input.is_empty());
        }
        // Overlong, too big, truncated.
        for bad in [
            &[0x80, 0x00][..],
            &[0xFF; 10][..],
            &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02][..],
            &[0x80][..],
            &[][..],
        ] {
            let mut input = bad;
            assert!(take_varint(&mut input).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn max_encoded_len_bounds_the_worst_case() {
        assert_eq!(varint_len(MAX_PARTS), 4);
        let full = DoneSet::from_word_fn(MAX_PARTS, 0..MAX_PARTS / 64, |w| {
            if w % 2 == 0 { 0x5555 } else { 0 }
        });
        assert!(full.to_bytes().len() <= DoneSet::MAX_ENCODED_LEN);
        assert!(full.to_bytes().len() > DoneSet::MAX_ENCODED_LEN - 100_000);
    }
}
