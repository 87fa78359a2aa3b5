//! The retry policy oss-resume applies per part: capped exponential backoff with full jitter,
//! and an attempt budget that resets whenever the part makes progress.
//!
//! Why per part and reset on progress: a budget counted from the first attempt (object_store's
//! 180 s `retry_timeout`) kills long downloads on a link that drops every few minutes, although
//! every attempt moves the download forward. Here a part may fail any number of times as long
//! as each failure came after new bytes; it gives up only after `max_attempts` consecutive
//! attempts that delivered nothing. OSS sends no `Retry-After`, so the delay is ours alone.
//!
//! Randomness is an input ([`JitterRng`]), so tests are deterministic under a seed.
//!
//! ```
//! use std::time::Duration;
//! use oss_http::{JitterRng, PartRetry, RetryDecision, RetryPolicy, RetryReason};
//!
//! let policy = RetryPolicy::default();
//! let mut part = PartRetry::new(policy);
//! let mut rng = JitterRng::seeded(7);
//! match part.on_failure(Some(RetryReason::Stall), &mut rng) {
//!     RetryDecision::Retry { delay, attempt, .. } => {
//!         assert_eq!(attempt, 2);
//!         assert!(delay <= policy.initial_backoff);
//!     }
//!     RetryDecision::GiveUp { .. } => unreachable!(),
//! }
//! part.on_progress(); // bytes arrived: the budget is full again
//! ```

use std::time::Duration;

use crate::error::{Error, RetryReason};

/// How often and how patiently to retry one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts allowed in a row without progress, the first one included (at least 1; 1 means
    /// never retry). Default 6.
    pub max_attempts: u32,
    /// Upper bound of the first retry's delay. Default 200 ms.
    pub initial_backoff: Duration,
    /// Cap on any delay. Default 20 s.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Checks the settings; the error names the setting and the fix.
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_attempts == 0 {
            return Err(Error::config(
                "max_attempts",
                "it is 0; use 1 for no retries, or more",
            ));
        }
        if self.initial_backoff > self.max_backoff {
            return Err(Error::config(
                "initial_backoff",
                format!(
                    "{:?} exceeds max_backoff {:?}; lower it or raise max_backoff",
                    self.initial_backoff, self.max_backoff
                ),
            ));
        }
        Ok(())
    }

    /// The largest delay before retry number `retry` (1 for the first retry):
    /// `min(max_backoff, initial_backoff * 2^(retry-1))`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(63);
        let factor = 1u64 << doublings;
        let nanos = self
            .initial_backoff
            .as_nanos()
            .saturating_mul(u128::from(factor));
        let ceiling = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        ceiling.min(self.max_backoff)
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait `delay`, then make attempt number `attempt` (counted since the last progress).
    Retry {
        /// How long to wait first.
        delay: Duration,
        /// The attempt about to be made (2 for the first retry).
        attempt: u32,
        /// Why retrying can help.
        reason: RetryReason,
    },
    /// Stop: the error is permanent, or the budget is spent.
    GiveUp {
        /// Attempts made since the last progress.
        attempts: u32,
        /// Why retrying could help, when it was the budget that ran out.
        exhausted: Option<RetryReason>,
    },
}

/// Retry state of one part.
#[derive(Debug, Clone)]
pub struct PartRetry {
    policy: RetryPolicy,
    /// Attempts made since the last progress (the one that just failed included).
    attempts: u32,
    /// Retries made over the part's whole life (for reports).
    total_retries: u64,
}

impl PartRetry {
    /// Fresh state: the first attempt is about to be made.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            attempts: 1,
            total_retries: 0,
        }
    }

    /// The attempt that failed delivered bytes: the budget is full again.
    pub fn on_progress(&mut self) {
        self.attempts = 1;
    }

    /// An attempt failed; `reason` is the error's [`Error::retry_reason`]. Decides whether and
    /// when to try again. (Call [`PartRetry::on_progress`] first if the attempt delivered bytes.)
    pub fn on_failure(
        &mut self,
        reason: Option<RetryReason>,
        rng: &mut JitterRng,
    ) -> RetryDecision {
        let Some(reason) = reason else {
            return RetryDecision::GiveUp {
                attempts: self.attempts,
                exhausted: None,
            };
        };
        if self.attempts >= self.policy.max_attempts {
            return RetryDecision::GiveUp {
                attempts: self.attempts,
                exhausted: Some(reason),
            };
        }
        let ceiling = self.policy.backoff_ceiling(self.attempts);
        let delay = rng.below(ceiling);
        self.attempts += 1;
        self.total_retries += 1;
        RetryDecision::Retry {
            delay,
            attempt: self.attempts,
            reason,
        }
    }

    /// Convenience: [`PartRetry::on_failure`] for an [`Error`], counting its delivered bytes as
    /// progress.
    pub fn on_error(&mut self, error: &Error, rng: &mut JitterRng) -> RetryDecision {
        if error.delivered() > 0 {
            self.on_progress();
        }
        self.on_failure(error.retry_reason(), rng)
    }

    /// Retries made over the part's life.
    pub fn total_retries(&self) -> u64 {
        self.total_retries
    }
}

/// A small, fast PRNG for jitter (SplitMix64). Seeded for tests, from the process's hash
/// randomness otherwise. Not for cryptography.
#[derive(Debug, Clone)]
pub struct JitterRng {
    state: u64,
}

impl JitterRng {
    /// A generator with a fixed seed: the same seed gives the same delays.
    pub fn seeded(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A generator seeded from the standard library's per-process random hash keys and the
    /// clock, so concurrent clients do not retry in lockstep.
    pub fn from_entropy() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            hasher.write_u128(since.as_nanos());
        }
        Self::seeded(hasher.finish())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniformly random duration in `[0, ceiling]` (full jitter), at nanosecond resolution.
    pub fn below(&mut self, ceiling: Duration) -> Duration {
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        // Multiply-shift maps 64 random bits onto [0, nanos] without modulo bias worth noting.
        let span = u128::from(nanos) + 1;
        let pick = (u128::from(self.next_u64()) * span) >> 64;
        Duration::from_nanos(u64::try_from(pick).unwrap_or(nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn policy(max: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts: max,
            initial_backoff: 100 * MS,
            max_backoff: 1000 * MS,
        }
    }

    #[test]
    fn ceilings_double_and_cap() {
        let p = policy(10);
        let got: Vec<_> = (1..=6).map(|r| p.backoff_ceiling(r)).collect();
        assert_eq!(
            got,
            vec![100 * MS, 200 * MS, 400 * MS, 800 * MS, 1000 * MS, 1000 * MS]
        );
        assert_eq!(p.backoff_ceiling(10_000), 1000 * MS);
    }

    #[test]
    fn gives_up_after_max_attempts_without_progress() {
        let mut part = PartRetry::new(policy(3));
        let mut rng = JitterRng::seeded(1);
        let r = Some(RetryReason::Connection);
        assert!(matches!(
            part.on_failure(r, &mut rng),
            RetryDecision::Retry { attempt: 2, .. }
        ));
        assert!(matches!(
            part.on_failure(r, &mut rng),
            RetryDecision::Retry { attempt: 3, .. }
        ));
        assert_eq!(
            part.on_failure(r, &mut rng),
            RetryDecision::GiveUp {
                attempts: 3,
                exhausted: r
            }
        );
    }

    #[test]
    fn progress_resets_the_budget() {
        let mut part = PartRetry::new(policy(2));
        let mut rng = JitterRng::seeded(1);
        for _ in 0..100 {
            part.on_progress();
            assert!(matches!(
                part.on_failure(Some(RetryReason::Truncated), &mut rng),
                RetryDecision::Retry { attempt: 2, .. }
            ));
        }
        assert_eq!(part.total_retries(), 100);
        assert!(matches!(
            part.on_failure(Some(RetryReason::Truncated), &mut rng),
            RetryDecision::GiveUp { .. }
        ));
    }

    #[test]
    fn on_error_counts_delivered_bytes_as_progress() {
        let mut part = PartRetry::new(policy(2));
        let mut rng = JitterRng::seeded(1);
        let cut = Error::Truncated {
            delivered: 10,
            expected: 20,
            source: None,
            request_id: None,
        };
        for _ in 0..5 {
            assert!(matches!(
                part.on_error(&cut, &mut rng),
                RetryDecision::Retry { .. }
            ));
        }
        let refused = Error::Truncated {
            delivered: 0,
            expected: 20,
            source: None,
            request_id: None,
        };
        assert!(matches!(
            part.on_error(&refused, &mut rng),
            RetryDecision::GiveUp { .. }
        ));
    }

    #[test]
    fn permanent_errors_stop_at_once() {
        let mut part = PartRetry::new(policy(5));
        assert_eq!(
            part.on_failure(None, &mut JitterRng::seeded(1)),
            RetryDecision::GiveUp {
                attempts: 1,
                exhausted: None
            }
        );
    }

    #[test]
    fn jitter_is_full_deterministic_and_bounded() {
        let delays = |seed| {
            let mut part = PartRetry::new(policy(8));
            let mut rng = JitterRng::seeded(seed);
            (0..7)
                .map(
                    |_| match part.on_failure(Some(RetryReason::Stall), &mut rng) {
                        RetryDecision::Retry { delay, .. } => delay,
                        other => panic!("{other:?}"),
                    },
                )
                .collect::<Vec<_>>()
        };
        assert_eq!(delays(42), delays(42));
        assert_ne!(delays(42), delays(43));
        let p = policy(8);
        for (i, d) in delays(42).into_iter().enumerate() {
            assert!(d <= p.backoff_ceiling(i as u32 + 1), "retry {i}: {d:?}");
        }
        // Full jitter: over many draws the delays spread across [0, ceiling].
        let mut rng = JitterRng::seeded(9);
        let draws: Vec<_> = (0..10_000).map(|_| rng.below(1000 * MS)).collect();
        let low = draws.iter().filter(|d| **d < 100 * MS).count();
        let high = draws.iter().filter(|d| **d > 900 * MS).count();
        assert!((800..1200).contains(&low), "{low}");
        assert!((800..1200).contains(&high), "{high}");
        assert_eq!(rng.below(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn validation() {
        policy(1).validate().unwrap();
        assert!(policy(0).validate().is_err());
        let bad = RetryPolicy {
            initial_backoff: 2000 * MS,
            ..policy(3)
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("max_backoff")
        );
    }
}
