//! Object content: given bytes or synthetic bytes that cost no memory.
//!
//! Synthetic content is a pure function of `(seed, offset)`: the 8-byte word at word index
//! `w = offset / 8` is `splitmix64(seed, w)` in little-endian order. splitmix64 is a bijective
//! mixer, so no two words of one seed repeat in any period a test could reach, and a part
//! written at the wrong offset never compares equal to the right bytes.

use bytes::Bytes;

/// The golden-ratio increment splitmix64 uses between states.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64's output function applied to state `seed + (word + 1) * GAMMA`.
///
/// This is the word the synthetic content has at word index `word` (bytes `8*word ..
/// 8*word + 8`).
pub fn synthetic_word(seed: u64, word: u64) -> u64 {
    let mut z = seed.wrapping_add(word.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fills `out` with the synthetic bytes of `seed` starting at object offset `offset`.
///
/// ```
/// let mut whole = [0u8; 32];
/// oss_emulator::fill_synthetic(7, 0, &mut whole);
/// let mut tail = [0u8; 13];
/// oss_emulator::fill_synthetic(7, 19, &mut tail);
/// assert_eq!(&whole[19..], &tail[..]);
/// ```
pub fn fill_synthetic(seed: u64, offset: u64, out: &mut [u8]) {
    let mut pos = 0usize;
    let mut abs = offset;
    // Leading partial word.
    let lead = (abs % 8) as usize;
    if lead != 0 {
        let word = synthetic_word(seed, abs / 8).to_le_bytes();
        let take = (8 - lead).min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..take), word.get(lead..lead + take)) {
            dst.copy_from_slice(src);
        }
        pos += take;
        abs += take as u64;
    }
    // Whole words.
    let mut chunks = out.get_mut(pos..).unwrap_or_default().chunks_exact_mut(8);
    let mut word_index = abs / 8;
    for chunk in &mut chunks {
        chunk.copy_from_slice(&synthetic_word(seed, word_index).to_le_bytes());
        word_index += 1;
    }
    // Trailing partial word.
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let word = synthetic_word(seed, word_index).to_le_bytes();
        let n = rest.len();
        if let Some(src) = word.get(..n) {
            rest.copy_from_slice(src);
        }
    }
}

/// The synthetic bytes of `seed` in `offset .. offset + len`, as a new vector.
///
/// Tests in other crates use this to know what a synthetic object holds.
pub fn synthetic_bytes(seed: u64, offset: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    fill_synthetic(seed, offset, &mut out);
    out
}

/// One piece of an object's content, placed at an absolute object offset.
#[derive(Clone, Debug)]
enum Segment {
    /// Literal bytes.
    Bytes(Bytes),
    /// `len` synthetic bytes of `seed`, taken at their own absolute offsets (so an
    /// appendable synthetic object just keeps extending the same function).
    Synthetic { seed: u64, len: u64 },
}

impl Segment {
    fn len(&self) -> u64 {
        match self {
            Segment::Bytes(b) => b.len() as u64,
            Segment::Synthetic { len, .. } => *len,
        }
    }
}

/// An object's content: a sequence of segments (more than one only after appends).
///
/// Cloning is cheap (reference-counted bytes, no synthetic data is ever stored).
#[derive(Clone, Debug, Default)]
pub struct Content {
    /// `(start offset, segment)`, contiguous and in order.
    segments: Vec<(u64, Segment)>,
    size: u64,
}

impl Content {
    /// Content made of the given bytes.
    pub fn bytes(data: impl Into<Bytes>) -> Self {
        let mut c = Self::default();
        c.append_bytes(data.into());
        c
    }

    /// `size` synthetic bytes of `seed`.
    pub fn synthetic(size: u64, seed: u64) -> Self {
        let mut c = Self::default();
        c.append_synthetic(size, seed);
        c
    }

    /// Total length in bytes.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// True when the content has no bytes.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The literal bytes when the content is one literal segment (or empty).
    pub fn as_single_bytes(&self) -> Option<Bytes> {
        match self.segments.as_slice() {
            [] => Some(Bytes::new()),
            [(_, Segment::Bytes(b))] => Some(b.clone()),
            _ => None,
        }
    }

    /// Appends literal bytes.
    pub fn append_bytes(&mut self, data: Bytes) {
        if data.is_empty() {
            return;
        }
        let len = data.len() as u64;
        self.segments.push((self.size, Segment::Bytes(data)));
        self.size += len;
    }

    /// Appends `len` synthetic bytes of `seed` (at their absolute offsets).
    pub fn append_synthetic(&mut self, len: u64, seed: u64) {
        if len == 0 {
            return;
        }
        self.segments
            .push((self.size, Segment::Synthetic { seed, len }));
        self.size += len;
    }

    /// Copies the bytes at `offset .. offset + out.len()` into `out`.
    ///
    /// Bytes past the end are left untouched; callers ask only for ranges inside the object.
    pub fn read_at(&self, offset: u64, out: &mut [u8]) {
        let end = offset.saturating_add(out.len() as u64).min(self.size);
        if offset >= end {
            return;
        }
        // First segment that ends after `offset`.
        let first = self
            .segments
            .partition_point(|(start, seg)| start + seg.len() <= offset);
        for (start, seg) in self.segments.iter().skip(first) {
            if *start >= end {
                break;
            }
            let from = offset.max(*start);
            let to = end.min(start + seg.len());
            let dst_from = (from - offset) as usize;
            let dst_to = (to - offset) as usize;
            let Some(dst) = out.get_mut(dst_from..dst_to) else {
                return;
            };
            match seg {
                Segment::Bytes(b) => {
                    let src_from = (from - start) as usize;
                    if let Some(src) = b.get(src_from..src_from + dst.len()) {
                        dst.copy_from_slice(src);
                    }
                }
                Segment::Synthetic { seed, .. } => fill_synthetic(*seed, from, dst),
            }
        }
    }

    /// The bytes at `offset .. offset + len` as a new buffer (zero-copy for a slice of one
    /// literal segment).
    pub fn slice(&self, offset: u64, len: usize) -> Bytes {
        if let Some(whole) = self.as_single_bytes() {
            let from = offset.min(whole.len() as u64) as usize;
            let to = from.saturating_add(len).min(whole.len());
            return whole.slice(from..to);
        }
        let mut out = vec![0u8; len];
        self.read_at(offset, &mut out);
        Bytes::from(out)
    }

    /// Streams the whole content through `f` in chunks of at most `chunk` bytes.
    pub fn for_each_chunk(&self, chunk: usize, mut f: impl FnMut(&[u8])) {
        let mut buf = vec![0u8; chunk.max(1)];
        let mut offset = 0u64;
        while offset < self.size {
            let n = ((self.size - offset) as usize).min(buf.len());
            let Some(dst) = buf.get_mut(..n) else { return };
            self.read_at(offset, dst);
            f(dst);
            offset += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_is_offset_consistent() {
        let whole = synthetic_bytes(42, 0, 1000);
        for start in [0usize, 1, 7, 8, 9, 15, 16, 333, 999] {
            for len in [0usize, 1, 7, 8, 9, 100] {
                let end = (start + len).min(1000);
                assert_eq!(
                    synthetic_bytes(42, start as u64, end - start),
                    whole[start..end]
                );
            }
        }
    }

    #[test]
    fn synthetic_depends_on_seed_and_offset() {
        assert_ne!(synthetic_bytes(1, 0, 64), synthetic_bytes(2, 0, 64));
        // Shifting by a whole word does not reproduce the same bytes.
        assert_ne!(synthetic_bytes(1, 0, 64), synthetic_bytes(1, 8, 64));
        // No 8-byte word repeats in the first 64 KiB.
        let words: std::collections::HashSet<u64> =
            (0..8192).map(|w| synthetic_word(9, w)).collect();
        assert_eq!(words.len(), 8192);
    }

    #[test]
    fn segments_read_across_boundaries() {
        let mut c = Content::bytes(Bytes::from_static(b"hello"));
        c.append_synthetic(20, 3);
        c.append_bytes(Bytes::from_static(b"!"));
        assert_eq!(c.len(), 26);
        let all = c.slice(0, 26);
        assert_eq!(&all[..5], b"hello");
        assert_eq!(&all[5..25], synthetic_bytes(3, 5, 20).as_slice());
        assert_eq!(&all[25..], b"!");
        assert_eq!(c.slice(3, 5), all.slice(3..8));
        let mut chunks = Vec::new();
        c.for_each_chunk(7, |b| chunks.extend_from_slice(b));
        assert_eq!(chunks, all);
    }
}
