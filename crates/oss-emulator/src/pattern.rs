//! Many synthetic objects declared by one line: `data/part-{0..99999}.bin`.
//!
//! A pattern is a key template with one numeric range, `PREFIX{LO..HI}SUFFIX`. It costs the
//! memory of its description whatever its key count: a key's object is made when a request
//! names it (its seed derived from the pattern's and the number), and a listing walks the
//! keys in byte order without ever holding them.
//!
//! Byte order is not number order: unpadded, `part-10` sorts before `part-2`. Listing
//! therefore needs "the first key after this string", computed by [`ObjectPattern::seek`]:
//! - zero-padded (`{00000..99999}`, every number as wide as the widest bound): keys of one
//!   width sort as their numbers, so the answer is one number read off the string;
//! - unpadded: the keys are the numbers' decimal strings in a digit trie, walked in
//!   pre-order (a number before its extensions, `1` < `10` < `100` < `11`) when the suffix
//!   sorts before the digits (`.bin`, `/`, none), post-order when it sorts after them
//!   (`x`). A suffix starting with a digit would mix the two, so it is refused. The walk
//!   skips every subtree that holds no number of the range, so each answer costs a few
//!   hundred steps at most, whatever the range.

use std::time::SystemTime;

use crate::content::synthetic_word;
use crate::error::EmulatorError;
use crate::object::{CrcMode, ObjectSpec, StorageClass, StoredObject};

/// The widest number a pattern may hold: 19 digits (every such number fits a `u64`).
const MAX_DIGITS: usize = 19;

/// Many synthetic objects of one size under keys `PREFIX{LO..HI}SUFFIX`, for tests and
/// benches that need a big bucket (added with [`crate::Emulator::add_objects`]).
///
/// `{0..99}` gives `0` … `99`; a bound written with a leading zero pads every number to the
/// wider bound's width, as bash does (`{00..99}` → `00` … `99`). Each object's content is
/// synthetic with the seed [`ObjectPattern::object_seed`] of its number, so objects differ;
/// it is a `Multipart` object with an opaque ETag, the pattern's storage class, and a CRC-64
/// when it is at most 64 MiB.
///
/// ```
/// use oss_emulator::ObjectPattern;
///
/// let p = ObjectPattern::parse("data/part-{0..99999}")?.size(64 << 10).seed(1);
/// assert_eq!(p.len(), 100_000);
/// assert_eq!(p.key(42), Some("data/part-42".to_owned()));
/// let padded = ObjectPattern::parse("d/{000..999}.bin")?;
/// assert_eq!(padded.key(7).as_deref(), Some("d/007.bin"));
/// assert!(ObjectPattern::parse("d/{0..9}5").is_err()); // suffix starts with a digit
/// # Ok::<(), oss_emulator::EmulatorError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectPattern {
    prefix: String,
    suffix: String,
    lo: u64,
    hi: u64,
    /// `Some(w)`: every number zero-padded to `w` digits.
    width: Option<usize>,
    size: u64,
    seed: u64,
    storage_class: StorageClass,
}

impl ObjectPattern {
    /// Reads `PREFIX{LO..HI}SUFFIX` (exactly one `{..}` range of decimal numbers, LO <= HI,
    /// at most 19 digits). Objects are empty and of seed 0 until [`ObjectPattern::size`] and
    /// [`ObjectPattern::seed`] say otherwise.
    pub fn parse(text: &str) -> Result<Self, EmulatorError> {
        let bad = |why: &str| {
            EmulatorError::InvalidArgument(format!(
                "object pattern `{text}`: {why}; write PREFIX{{LO..HI}}SUFFIX, e.g. data/part-{{0..99999}}.bin"
            ))
        };
        let (prefix, rest) = text
            .split_once('{')
            .ok_or_else(|| bad("no {LO..HI} range"))?;
        let (range, suffix) = rest.split_once('}').ok_or_else(|| bad("no closing }"))?;
        if prefix.contains('}') || suffix.contains(['{', '}']) {
            return Err(bad("only one {LO..HI} range is allowed"));
        }
        let (lo_text, hi_text) = range
            .split_once("..")
            .ok_or_else(|| bad("the range is not LO..HI"))?;
        let number = |t: &str| -> Result<u64, EmulatorError> {
            if t.is_empty() || t.len() > MAX_DIGITS || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("a bound is not a decimal number of at most 19 digits"));
            }
            t.parse().map_err(|_| bad("a bound is too large"))
        };
        let (lo, hi) = (number(lo_text)?, number(hi_text)?);
        if lo > hi {
            return Err(bad("LO is greater than HI"));
        }
        let padded = [lo_text, hi_text]
            .iter()
            .any(|t| t.len() > 1 && t.starts_with('0'));
        let width = padded.then(|| lo_text.len().max(hi_text.len()));
        if width.is_none() && suffix.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return Err(bad(
                "the text after the range starts with a digit, so keys would not read back unambiguously (pad the range, e.g. {000..999})",
            ));
        }
        let widest = width.unwrap_or_else(|| hi.to_string().len());
        if prefix.len() + widest + suffix.len() > 1023 {
            return Err(bad("its longest key is over OSS's 1023 bytes"));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            lo,
            hi,
            width,
            size: 0,
            seed: 0,
            storage_class: StorageClass::Standard,
        })
    }

    /// Every object's size in bytes.
    #[must_use]
    pub fn size(mut self, size: u64) -> Self {
        self.size = size;
        self
    }

    /// The pattern's seed; object `n` gets [`ObjectPattern::object_seed`]`(n)`.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Every object's storage class (default `Standard`).
    #[must_use]
    pub fn storage_class(mut self, class: StorageClass) -> Self {
        self.storage_class = class;
        self
    }

    /// How many keys the pattern has.
    pub fn len(&self) -> u64 {
        self.hi - self.lo + 1
    }

    /// Never: a range holds at least one number.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The key of number `n`, if `n` is in the range.
    pub fn key(&self, n: u64) -> Option<String> {
        (self.lo..=self.hi).contains(&n).then(|| self.key_of(n))
    }

    /// The synthetic seed of object `n`'s content: its bytes are
    /// [`crate::synthetic_bytes`]`(object_seed(n), 0, size)`.
    pub fn object_seed(&self, n: u64) -> u64 {
        synthetic_word(self.seed, n)
    }

    /// The number `key` names, if it is one of the pattern's keys.
    pub fn number_of(&self, key: &str) -> Option<u64> {
        let digits = key
            .strip_prefix(self.prefix.as_str())?
            .strip_suffix(self.suffix.as_str())?;
        let well_formed = !digits.is_empty()
            && digits.len() <= MAX_DIGITS
            && digits.bytes().all(|b| b.is_ascii_digit())
            && match self.width {
                Some(w) => digits.len() == w,
                None => digits.len() == 1 || !digits.starts_with('0'),
            };
        if !well_formed {
            return None;
        }
        let n: u64 = digits.parse().ok()?;
        (self.lo..=self.hi).contains(&n).then_some(n)
    }

    pub(crate) fn key_of(&self, n: u64) -> String {
        match self.width {
            Some(w) => format!("{}{n:0w$}{}", self.prefix, self.suffix),
            None => format!("{}{n}{}", self.prefix, self.suffix),
        }
    }

    /// Object `n` as stored, made at `created`. With `crc`, its CRC-64 is computed (when at
    /// most 64 MiB); a listing needs none.
    pub(crate) fn object(&self, n: u64, created: SystemTime, crc: bool) -> StoredObject {
        let spec = ObjectSpec::synthetic(self.size, self.object_seed(n))
            .storage_class(self.storage_class)
            .last_modified(created)
            .crc64(if crc { CrcMode::Auto } else { CrcMode::Off });
        // The number as the ETag's salt: the same ETag on every request for the key.
        StoredObject::from_spec(spec, created, n)
    }

    /// The number of the first key at or after `bound` (`inclusive`) or strictly after it,
    /// in byte order.
    pub(crate) fn seek(&self, bound: &str, inclusive: bool) -> Option<u64> {
        if inclusive && let Some(n) = self.number_of(bound) {
            return Some(n);
        }
        let p = self.prefix.as_bytes();
        let b = bound.as_bytes();
        let common = p.iter().zip(b).take_while(|(x, y)| x == y).count();
        if let Some(&want) = p.get(common) {
            // `bound` leaves the prefix here: every key is after it, or none is.
            return match b.get(common) {
                Some(&got) if got > want => None,
                _ => self.after_digits(b""),
            };
        }
        self.after_digits(b.get(p.len()..).unwrap_or_default())
    }

    /// The number of the first `digits + suffix` strictly after `rest`.
    fn after_digits(&self, rest: &[u8]) -> Option<u64> {
        match self.width {
            Some(width) => self.after_padded(rest, width),
            None => Trie::new(self).after(rest),
        }
    }

    fn after_padded(&self, rest: &[u8], width: usize) -> Option<u64> {
        let run = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let value = |digits: &[u8]| {
            digits
                .iter()
                .fold(0u128, |v, d| v * 10 + u128::from(d - b'0'))
        };
        let candidate = if run >= width {
            let (head, tail) = rest.split_at(width);
            // Key `head + suffix` against `head + tail`.
            value(head) + u128::from(self.suffix.as_bytes() <= tail)
        } else {
            // The keys starting with these digits: after `rest` when it ends there or goes on
            // with a byte below '0', before it otherwise.
            let (head, tail) = rest.split_at(run);
            let scale = 10u128.pow((width - run) as u32);
            let block = value(head) + u128::from(tail.first().is_some_and(|&c| c > b'9'));
            block * scale
        };
        let n = candidate.max(u128::from(self.lo));
        u64::try_from(n).ok().filter(|&n| n <= self.hi)
    }
}

/// A node of the digit trie of unpadded numbers: the root (no number), or a number's
/// decimal string. `0` has no children (no number starts with `0` but `0` itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Root,
    Num(u128),
}

/// The unpadded walk over one pattern's range.
struct Trie<'a> {
    lo: u128,
    hi: u128,
    /// The suffix sorts before the digits (or is empty): a number before its extensions.
    self_first: bool,
    suffix: &'a [u8],
}

impl<'a> Trie<'a> {
    fn new(p: &'a ObjectPattern) -> Self {
        let suffix = p.suffix.as_bytes();
        Self {
            lo: u128::from(p.lo),
            hi: u128::from(p.hi),
            self_first: suffix.first().is_none_or(|&c| c < b'0'),
            suffix,
        }
    }

    fn in_range(&self, node: Node) -> Option<u128> {
        match node {
            Node::Num(t) if (self.lo..=self.hi).contains(&t) => Some(t),
            _ => None,
        }
    }

    /// `node`'s child for digit `d`, if it has one that is not past the range.
    fn child(&self, node: Node, d: u8) -> Option<Node> {
        let d = u128::from(d);
        match node {
            Node::Root => Some(Node::Num(d)),
            Node::Num(0) => None,
            Node::Num(t) => Some(t * 10 + d).filter(|&c| c <= self.hi).map(Node::Num),
        }
    }

    /// Whether some number of the range starts with `node`'s digits.
    fn hits(&self, node: Node) -> bool {
        let Node::Num(t) = node else {
            return true;
        };
        if t == 0 {
            return self.lo == 0;
        }
        // The numbers extending t by k digits are [t * 10^k, (t + 1) * 10^k).
        let (mut start, mut span) = (t, 1u128);
        while start <= self.hi {
            if start + span > self.lo {
                return true;
            }
            start *= 10;
            span *= 10;
        }
        false
    }

    /// The first number of the range at or under `node`, in key order.
    fn first_under(&self, node: Node) -> Option<u128> {
        if !self.hits(node) {
            return None;
        }
        if self.self_first
            && let Some(t) = self.in_range(node)
        {
            return Some(t);
        }
        if let Some(t) = self.first_child_from(node, 0) {
            return Some(t);
        }
        self.in_range(node)
    }

    /// The first number under `node`'s children of digit `from` or more.
    fn first_child_from(&self, node: Node, from: u8) -> Option<u128> {
        (from..=9)
            .map_while(|d| self.child(node, d))
            .find_map(|c| self.first_under(c))
    }

    /// The number of the first key (`digits + suffix`) strictly after `rest`.
    fn after(&self, rest: &[u8]) -> Option<u64> {
        let run = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let (digits, tail) = rest.split_at(run);
        // The nodes along `digits`, as deep as the trie goes.
        let mut path = vec![Node::Root];
        for &d in digits {
            let Some(next) = path.last().and_then(|&n| self.child(n, d - b'0')) else {
                break;
            };
            path.push(next);
        }
        let depth = path.len() - 1;
        let found = if depth == run {
            // `rest` is this node's digits followed by `tail` (empty, or not a digit).
            let node = path.get(depth).copied().unwrap_or(Node::Root);
            let own = self.in_range(node).filter(|_| self.suffix > tail);
            let children_after = tail.first().is_none_or(|&c| c < b'0');
            let children = || {
                children_after
                    .then(|| self.first_child_from(node, 0))
                    .flatten()
            };
            if self.self_first {
                own.or_else(children)
            } else {
                children().or(own)
            }
        } else {
            None
        };
        // Then, from the deepest node up: later siblings, and (post-order) the node itself.
        let found = found.or_else(|| {
            (0..path.len().min(run)).rev().find_map(|j| {
                let node = path.get(j).copied()?;
                let d = digits.get(j)? - b'0';
                self.first_child_from(node, d + 1)
                    .or_else(|| (!self.self_first).then(|| self.in_range(node)).flatten())
            })
        });
        found.and_then(|n| u64::try_from(n).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of `p`, sorted as OSS sorts (bytewise).
    fn sorted_keys(p: &ObjectPattern) -> Vec<String> {
        let mut keys: Vec<String> = (p.lo..=p.hi).map(|n| p.key_of(n)).collect();
        keys.sort();
        keys
    }

    fn check(p: &ObjectPattern, keys: &[String], bound: &str) {
        for inclusive in [false, true] {
            let want = keys.iter().find(|k| {
                if inclusive {
                    k.as_str() >= bound
                } else {
                    k.as_str() > bound
                }
            });
            let got = p.seek(bound, inclusive).map(|n| p.key_of(n));
            assert_eq!(
                got.as_ref(),
                want,
                "{p:?} bound {bound:?} inclusive {inclusive}"
            );
        }
    }

    #[test]
    fn parses_and_refuses() {
        let p = ObjectPattern::parse("a{7..12}b").unwrap();
        assert_eq!((p.lo, p.hi, p.width), (7, 12, None));
        assert_eq!(p.number_of("a12b"), Some(12));
        assert_eq!(p.number_of("a012b"), None);
        assert_eq!(p.number_of("a13b"), None);
        assert_eq!(p.number_of("a6b"), None);
        let p = ObjectPattern::parse("{0..100}").unwrap();
        assert_eq!(p.width, None);
        assert_eq!(p.number_of("0"), Some(0));
        assert_eq!(p.number_of("00"), None);
        let p = ObjectPattern::parse("x/{1..010}").unwrap();
        assert_eq!(p.width, Some(3));
        assert_eq!(p.key_of(1), "x/001");
        for bad in [
            "plain",
            "a{1..2",
            "a{1..2}{3..4}",
            "a{2..1}",
            "a{x..2}",
            "a{1-2}",
            "a{..2}",
            "a{1..2}3",
            "a{1..99999999999999999999}",
        ] {
            assert!(ObjectPattern::parse(bad).is_err(), "{bad}");
        }
        assert!(ObjectPattern::parse(&format!("{}{{0..9}}", "k".repeat(1023))).is_err());
    }

    #[test]
    fn unpadded_keys_sort_as_bytes() {
        let p = ObjectPattern::parse("p-{0..120}").unwrap();
        let walked: Vec<String> =
            std::iter::successors(p.seek("", true), |&n| p.seek(&p.key_of(n), false))
                .map(|n| p.key_of(n))
                .collect();
        assert_eq!(walked, sorted_keys(&p));
        assert_eq!(&walked[..5], ["p-0", "p-1", "p-10", "p-100", "p-101"]);
    }

    /// Every seek against a brute-force sort, over many ranges, suffixes and bounds.
    #[test]
    fn seek_matches_a_sorted_list() {
        let suffixes = ["", ".bin", "/", "x", "-", "~z", "/a/"];
        let alphabet = b"0123456789p/.x-~z";
        let mut rng = 0u64;
        let mut next = |m: u64| {
            rng += 1;
            synthetic_word(0x5EE4, rng) % m
        };
        for case in 0..400 {
            let lo = next(300);
            let hi = lo + next(400);
            let suffix = suffixes[next(suffixes.len() as u64) as usize];
            let text = if case % 3 == 0 {
                format!("p{{{lo:05}..{hi}}}{suffix}")
            } else {
                format!("p{{{lo}..{hi}}}{suffix}")
            };
            let p = ObjectPattern::parse(&text).unwrap();
            let keys = sorted_keys(&p);
            for _ in 0..30 {
                let len = next(8) as usize;
                let bound: String = (0..len)
                    .map(|_| char::from(alphabet[next(alphabet.len() as u64) as usize]))
                    .collect();
                check(&p, &keys, &bound);
                // Near real keys, where the edge cases are.
                let key = p.key_of(lo + next(hi - lo + 1));
                check(&p, &keys, &key);
                let cut = next(key.len() as u64 + 1) as usize;
                check(&p, &keys, &key[..cut]);
            }
        }
    }

    #[test]
    fn huge_ranges_seek_at_once() {
        let p = ObjectPattern::parse("k{0..9999999999999999999}").unwrap();
        assert_eq!(
            p.seek("k99", false).map(|n| p.key_of(n)).as_deref(),
            Some("k990")
        );
        assert_eq!(
            p.seek("k9999999999999999999", false),
            None,
            "nothing after the last key"
        );
        let p = ObjectPattern::parse("k{5000000000000000000..5000000000000000001}.b").unwrap();
        assert_eq!(p.seek("k", true), Some(5_000_000_000_000_000_000));
        assert_eq!(p.seek("k6", true), None);
    }
}
