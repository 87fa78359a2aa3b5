//! `--shard K/N`: which keys one of N machines takes, by a stable hash of the key alone, so N
//! independent runs over the same listing split it with no coordinator and no overlap.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// Shard `index` of `count` (0-based: `0/4` ..= `3/4`, as a Kubernetes Indexed Job's
/// `JOB_COMPLETION_INDEX` counts). A key belongs to exactly one shard of a given count,
/// decided by [`Shard::hash`] of its bytes, which never changes between versions (it is part
/// of the contract: machines running different versions must agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`; `index < count`, `count >= 1`.
    pub fn new(index: u32, count: u32) -> Result<Self, Error> {
        if count == 0 || index >= count {
            return Err(Error::invalid(
                "shard",
                format!(
                    "shard {index}/{count} does not exist: write K/N with 0 <= K < N (shards are numbered from 0)"
                ),
            ));
        }
        Ok(Self { index, count })
    }

    /// The shard's number, from 0.
    pub fn index(self) -> u32 {
        self.index
    }

    /// How many shards there are.
    pub fn count(self) -> u32 {
        self.count
    }

    /// Whether `key` belongs to this shard: `hash(key) % count == index`.
    pub fn contains(self, key: &str) -> bool {
        Self::hash(key) % u64::from(self.count) == u64::from(self.index)
    }

    /// The stable hash: 64-bit FNV-1a of the key's UTF-8 bytes, then SplitMix64's finaliser
    /// (FNV alone leaves the low bits of similar keys, `part-1`, `part-2`, correlated).
    pub fn hash(key: &str) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= h >> 30;
        h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^= h >> 27;
        h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    }
}

impl FromStr for Shard {
    type Err = Error;

    /// `K/N`, e.g. `0/4`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = || {
            Error::invalid(
                "shard",
                format!(
                    "`{text}` is not a shard: write K/N, e.g. 0/4 (shards are numbered from 0)"
                ),
            )
        };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let k = k.trim().parse().map_err(|_| bad())?;
        let n = n.trim().parse().map_err(|_| bad())?;
        Self::new(k, n)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_in_exactly_one_shard() {
        for n in [1u32, 2, 3, 7, 16] {
            let mut sizes = vec![0u32; n as usize];
            for i in 0..5000 {
                let key = format!("data/part-{i}");
                let owners: Vec<u32> = (0..n)
                    .filter(|&k| Shard::new(k, n).unwrap().contains(&key))
                    .collect();
                assert_eq!(owners.len(), 1, "{key} in {owners:?} of {n}");
                sizes[owners[0] as usize] += 1;
            }
            // Roughly even: no shard under half its fair share.
            let fair = 5000 / n;
            assert!(sizes.iter().all(|&s| s > fair / 2), "{n}: {sizes:?}");
        }
    }

    #[test]
    fn the_hash_is_frozen() {
        // Machines running different versions must agree: these values are the contract
        // (computed independently, with a few lines of Python, from the definition above).
        assert_eq!(Shard::hash(""), 0xf52a_15e9_a9b5_e89b);
        assert_eq!(Shard::hash("data/part-0"), 0xe249_0385_5dc5_3f69);
        assert_eq!(Shard::hash("文件/😀"), 0x6a70_8c30_f8ff_8a0e);
        assert!(Shard::new(1, 4).unwrap().contains("data/part-0"));
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!("0/4".parse::<Shard>().unwrap(), Shard::new(0, 4).unwrap());
        assert_eq!(" 3 / 4".parse::<Shard>().unwrap().to_string(), "3/4");
        for bad in ["4/4", "1/0", "x/2", "2", "-1/3", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.to_string().contains("K/N"), "{bad}: {e}");
        }
    }
}
