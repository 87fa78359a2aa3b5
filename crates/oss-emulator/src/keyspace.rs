//! A bucket's keys as one ordered space: the keys stored one by one, and the keys of its
//! object patterns, which are never held.
//!
//! Who owns a key: a key stored one by one (or a pattern key once something changed it) is
//! the stored one's, whatever its latest version is; otherwise the first pattern that
//! yields it, unless it was deleted (`hidden`). Changing a pattern key first copies its
//! pattern object into the stored keys as version `null` ([`Bucket::materialize`]), so every
//! write path works on stored keys only.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;
use std::time::SystemTime;

use crate::model::Bucket;
use crate::object::{StoredObject, Version};
use crate::pattern::ObjectPattern;

/// A pattern added to a bucket, and when (every key's `Last-Modified`).
#[derive(Debug)]
pub(crate) struct StoredPattern {
    pub(crate) pattern: ObjectPattern,
    pub(crate) created: SystemTime,
}

/// Pattern keys deleted for good (their pattern still yields them).
pub(crate) type Hidden = BTreeSet<String>;

/// Where a listed key's object comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source {
    /// The stored key's current version.
    Stored,
    /// Pattern `index`, number `n`.
    Pattern { index: usize, n: u64 },
}

impl Bucket {
    /// Whether some pattern yields `key` (deleted or not).
    pub(crate) fn pattern_yields(&self, key: &str) -> bool {
        self.patterns
            .iter()
            .any(|p| p.pattern.number_of(key).is_some())
    }

    /// The pattern object `key` names, when no stored key owns it and it was not deleted.
    /// With `crc`, its CRC-64 is computed (a read needs it, a listing does not).
    pub(crate) fn pattern_object(&self, key: &str, crc: bool) -> Option<Arc<StoredObject>> {
        if self.keys.contains_key(key) || self.hidden.contains(key) {
            return None;
        }
        self.patterns.iter().find_map(|p| {
            let n = p.pattern.number_of(key)?;
            Some(Arc::new(p.pattern.object(n, p.created, crc)))
        })
    }

    /// Copies a pattern key's object into the stored keys (version `null`, as an object
    /// written before versioning was enabled), so a write can act on it.
    pub(crate) fn materialize(&mut self, key: &str) {
        if let Some(object) = self.pattern_object(key, true) {
            self.keys.insert(
                key.to_owned(),
                vec![Version::Object {
                    version_id: "null".to_owned(),
                    object,
                }],
            );
        }
    }

    /// After a stored key lost its last version: a pattern key stays gone.
    pub(crate) fn hide_if_pattern(&mut self, key: &str) {
        if self.pattern_yields(key) {
            self.hidden.insert(key.to_owned());
        }
    }

    /// The first key a listing shows at or after `bound` (`inclusive`) or strictly after
    /// it: a stored key whose latest version is an object, or a pattern key no stored key
    /// owns and no delete hid. The stored key wins a tie, then the earliest pattern.
    pub(crate) fn next_listed(&self, bound: &str, inclusive: bool) -> Option<(String, Source)> {
        let start = if inclusive {
            Bound::Included(bound)
        } else {
            Bound::Excluded(bound)
        };
        let mut best: Option<(String, Source)> = self
            .keys
            .range::<str, _>((start, Bound::Unbounded))
            .find(|(_, versions)| matches!(versions.last(), Some(Version::Object { .. })))
            .map(|(key, _)| (key.clone(), Source::Stored));
        for (index, p) in self.patterns.iter().enumerate() {
            let (mut at, mut inclusive) = (bound.to_owned(), inclusive);
            let found = loop {
                let Some(n) = p.pattern.seek(&at, inclusive) else {
                    break None;
                };
                let key = p.pattern.key_of(n);
                if best.as_ref().is_some_and(|(b, _)| *b <= key) {
                    break None; // an earlier source already has this key or a smaller one
                }
                if self.keys.contains_key(&key) || self.hidden.contains(&key) {
                    (at, inclusive) = (key, false);
                    continue;
                }
                break Some((key, n));
            };
            if let Some((key, n)) = found {
                best = Some((key, Source::Pattern { index, n }));
            }
        }
        best
    }

    /// The object a listing shows for `key` from `source`.
    pub(crate) fn listed_object(&self, key: &str, source: Source) -> Option<Arc<StoredObject>> {
        match source {
            Source::Stored => match self.keys.get(key)?.last()? {
                Version::Object { object, .. } => Some(Arc::clone(object)),
                Version::DeleteMarker { .. } => None,
            },
            Source::Pattern { index, n } => {
                let p = self.patterns.get(index)?;
                Some(Arc::new(p.pattern.object(n, p.created, false)))
            }
        }
    }
}

/// The least string after every string that starts with `prefix` (the next character in
/// place of its last, carrying past `char::MAX`); `None` when there is none.
pub(crate) fn after_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(c) = chars.pop() {
        let next = match u32::from(c) + 1 {
            0xD800 => Some('\u{E000}'),
            u => char::from_u32(u),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_prefix_is_tight() {
        assert_eq!(after_prefix("a/").as_deref(), Some("a0"));
        assert_eq!(after_prefix("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(after_prefix("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(after_prefix("\u{10FFFF}"), None);
        assert_eq!(after_prefix(""), None);
    }
}
