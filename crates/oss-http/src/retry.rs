//! The retry policy oss-resume applies per part (and to its HEAD): capped exponential backoff
//! with full jitter, and two attempt budgets that refill whenever the part makes progress —
//! one for faults ([`RetryPolicy`]) and a larger, slower one for throttling
//! ([`ThrottlePolicy`]).
//!
//! Why per part and reset on progress: a budget counted from the first attempt (object_store's
//! 180 s `retry_timeout`) kills long downloads on a link that drops every few minutes, although
//! every attempt moves the download forward. Here a part may fail any number of times as long
//! as the failures keep coming after meaningful progress — [`MEANINGFUL_PROGRESS`] (64 KiB)
//! since the last refill, or 1% of the part when that is less ([`PartRetry::on_delivered`]);
//! it gives up after a budget's worth of consecutive attempts that delivered less. A server
//! that sends one byte per connection therefore cannot hold a part forever. OSS sends no
//! `Retry-After`, so the delay is ours alone.
//!
//! Why two budgets: OSS answers `503` with a throttling code, or `429 QpsLimitExceeded`,
//! exactly when it is loaded ([`RetryReason::is_throttling`]). Such a refusal is cheap for the
//! server and says nothing about the link, so it gets more attempts and longer waits than a
//! fault, and never spends the fault budget (nor does a fault spend the throttling budget).
//! Every attempt is still counted: a server that refuses forever ends the part in a bounded
//! time, with its own OSS code ([`ThrottlePolicy`] gives the numbers).
//!
//! Randomness is an input ([`JitterRng`]), so tests are deterministic under a seed.
//!
//! ```
//! use std::time::Duration;
//! use oss_http::{JitterRng, PartRetry, RetryDecision, RetryPolicy, RetryReason, ThrottlePolicy};
//!
//! let policy = RetryPolicy::default();
//! let throttle = ThrottlePolicy::default();
//! let mut part = PartRetry::with_throttle(policy, throttle);
//! let mut rng = JitterRng::seeded(7);
//! match part.on_failure(Some(RetryReason::Stall), &mut rng) {
//!     RetryDecision::Retry { delay, attempt, .. } => {
//!         assert_eq!(attempt, 2);
//!         assert!(delay <= policy.initial_backoff);
//!     }
//!     RetryDecision::GiveUp { .. } => unreachable!(),
//! }
//! // A throttled attempt waits on the throttling schedule and leaves the fault budget alone.
//! match part.on_failure(Some(RetryReason::Throttled), &mut rng) {
//!     RetryDecision::Retry { delay, attempt, .. } => {
//!         assert_eq!(attempt, 3);
//!         assert!(delay <= throttle.initial_backoff);
//!     }
//!     RetryDecision::GiveUp { .. } => unreachable!(),
//! }
//! part.on_progress(); // bytes arrived: both budgets are full again
//! assert_eq!(throttle.worst_case_backoff(), Duration::from_millis(211_500));
//! ```
//!
//! # No client-wide throttle signal (a decision, not an omission)
//!
//! When one part is throttled the other workers are not paused. A throttled worker sleeps in
//! its own backoff and starts no other part meanwhile, so when OSS throttles the bucket each
//! worker that meets the limit backs off by itself within one request, and their independent
//! full jitter spreads the retries out; a shared pause would line them up again and turn every
//! sporadic refusal into a stop of all workers (simulated, and why the throttling budget
//! exists at all: `docs/e2e-findings.md`, finding #5). The mechanism that does this right — an
//! adaptive client-side rate (the AWS SDKs' opt-in "adaptive" mode, a CUBIC-controlled token
//! bucket) — is neither small nor obviously right for ranged downloads, whose cost is bytes
//! rather than requests.

use std::time::Duration;

use crate::error::{Error, RetryReason};

/// How often and how patiently to retry one part after a *fault*: a failed or refused
/// connection, a timeout, a stalled or cut body, a 5xx that is not a throttling code, a clock
/// skew the client corrected, a credentials provider's hiccup. Throttling answers have their
/// own budget, [`ThrottlePolicy`]; nothing here applies to them.
///
/// Defaults: 6 attempts in a row without progress, the first retry within 200 ms, each later
/// ceiling doubled up to 20 s. A fault that persists without a byte arriving therefore ends
/// the part after [`RetryPolicy::worst_case_backoff`] = 0.2 + 0.4 + 0.8 + 1.6 + 3.2 = 6.2 s of
/// waiting (plus the attempts' own time, each bounded by the client's timeouts): a link that
/// has been dead that long is not coming back within a retry, and the download resumes from
/// its checkpoint when it is run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts allowed in a row without progress, the first one included (at least 1; 1 means
    /// never retry a fault). Default 6.
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
        validate(
            ["max_attempts", "initial_backoff"],
            self.max_attempts,
            self.initial_backoff,
            self.max_backoff,
        )
    }

    /// The largest delay before retry number `retry` (1 for the first retry):
    /// `min(max_backoff, initial_backoff * 2^(retry-1))`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        ceiling(self.initial_backoff, self.max_backoff, retry)
    }

    /// The longest a part can wait in backoff before this budget runs out: the sum of the
    /// ceilings of its `max_attempts - 1` retries (full jitter waits half of it on average).
    pub fn worst_case_backoff(&self) -> Duration {
        worst_case(self.initial_backoff, self.max_backoff, self.max_attempts)
    }
}

/// How patiently to retry a part (or a HEAD) that OSS *throttled*: `503` with one of its
/// throttling codes (`DownloadTrafficRateLimitExceeded`, `TotalQpsLimitExceeded`,
/// `ActiveRequestLimitExceeded`, `MetaOperationQpsLimitExceeded`, `ServiceUnavailable`) or
/// `429 QpsLimitExceeded` — see [`RetryReason::is_throttling`].
///
/// These attempts are counted apart from the faults of [`RetryPolicy`]: both budgets refill
/// when the part makes progress, and the part gives up when either one runs out.
///
/// # Defaults
///
/// - `max_attempts` **16**: OSS throttles when it is busy, so refusals come in numbers, and
///   the fault budget's 6 attempts ended too many parts against them (the odds, per part and
///   per run: `docs/e2e-findings.md`, finding #5).
/// - `initial_backoff` **500 ms**, 2.5 times the fault budget's, the base the AWS SDKs use for
///   throttling errors: the first retry of a refused request already leaves the server room.
/// - `max_backoff` **20 s**: a worker waiting at the cap sends one request per 10 s on
///   average, and notices the throttle lifting within 20 s.
///
/// # Bounded
///
/// A server that throttles every request ends a part (or the HEAD) after exactly
/// `max_attempts` attempts, with the last refusal as the error (its OSS code, message and
/// request id). The waiting before that is at most [`ThrottlePolicy::worst_case_backoff`]
/// (**211.5 s** with the defaults; full jitter waits half of it on average), plus the
/// requests' own time, each bounded by the client's connect and response-head timeouts. A
/// part whose failures mix faults and throttling makes at most
/// `RetryPolicy::max_attempts + max_attempts - 1` attempts (21 by default) and waits at most
/// both worst cases added (217.7 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Throttled attempts allowed in a row without progress, the first one included (at least
    /// 1; 1 means never retry a throttled request). Default 16.
    pub max_attempts: u32,
    /// Upper bound of the delay after the first throttled attempt. Default 500 ms.
    pub initial_backoff: Duration,
    /// Cap on any delay after a throttled attempt. Default 20 s.
    pub max_backoff: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            max_attempts: 16,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
        }
    }
}

impl ThrottlePolicy {
    /// Checks the settings; the error names the setting and the fix.
    pub fn validate(&self) -> Result<(), Error> {
        validate(
            ["throttle max_attempts", "throttle initial_backoff"],
            self.max_attempts,
            self.initial_backoff,
            self.max_backoff,
        )
    }

    /// The largest delay after throttled attempt number `retry` (1 for the first):
    /// `min(max_backoff, initial_backoff * 2^(retry-1))`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        ceiling(self.initial_backoff, self.max_backoff, retry)
    }

    /// The longest a part can wait in backoff before this budget runs out: the sum of the
    /// ceilings of its `max_attempts - 1` retries (211.5 s with the defaults; full jitter
    /// waits half of it on average).
    pub fn worst_case_backoff(&self) -> Duration {
        worst_case(self.initial_backoff, self.max_backoff, self.max_attempts)
    }
}

fn validate(
    names: [&'static str; 2],
    max_attempts: u32,
    initial: Duration,
    max: Duration,
) -> Result<(), Error> {
    let [attempts_name, initial_name] = names;
    if max_attempts == 0 {
        return Err(Error::config(
            attempts_name,
            "it is 0; use 1 for no retries, or more",
        ));
    }
    if initial > max {
        return Err(Error::config(
            initial_name,
            format!("{initial:?} exceeds max_backoff {max:?}; lower it or raise max_backoff"),
        ));
    }
    Ok(())
}

fn ceiling(initial: Duration, max: Duration, retry: u32) -> Duration {
    let doublings = retry.saturating_sub(1).min(63);
    let factor = 1u64 << doublings;
    let nanos = initial.as_nanos().saturating_mul(u128::from(factor));
    let ceiling = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
    ceiling.min(max)
}

fn worst_case(initial: Duration, max: Duration, max_attempts: u32) -> Duration {
    // Past 64 doublings every ceiling is the cap, so the sum is closed-form from there on.
    let retries = max_attempts.saturating_sub(1);
    let walked = retries.min(64);
    let head = (1..=walked).fold(Duration::ZERO, |sum, r| {
        sum.saturating_add(ceiling(initial, max, r))
    });
    head.saturating_add(max.saturating_mul(retries - walked))
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait `delay`, then make attempt number `attempt` (counted since the last progress).
    Retry {
        /// How long to wait first.
        delay: Duration,
        /// The attempt about to be made (2 for the first retry), faults and throttled
        /// attempts together.
        attempt: u32,
        /// Why retrying can help.
        reason: RetryReason,
    },
    /// Stop: the error is permanent, or the budget for its kind is spent.
    GiveUp {
        /// Attempts made since the last progress, faults and throttled attempts together.
        attempts: u32,
        /// Why retrying could help, when it was a budget that ran out (a throttling reason
        /// when it was [`ThrottlePolicy`]'s).
        exhausted: Option<RetryReason>,
    },
}

/// The progress that refills a part's budgets, at most: 64 KiB since the last refill (or 1%
/// of the part, when that is less; see [`PartRetry::for_part`]).
pub const MEANINGFUL_PROGRESS: u64 = 64 * 1024;

/// Retry state of one part: how many faults and how many throttled attempts it has had since
/// its last progress.
#[derive(Debug, Clone)]
pub struct PartRetry {
    policy: RetryPolicy,
    throttle: ThrottlePolicy,
    /// Bytes that refill the budgets (see [`PartRetry::for_part`]).
    threshold: u64,
    /// Bytes delivered since the budgets were last refilled.
    since_refill: u64,
    /// Failed attempts since the last progress that were faults.
    faults: u32,
    /// Failed attempts since the last progress that OSS throttled.
    throttled: u32,
    /// Retries made over the part's whole life (for reports).
    total_retries: u64,
}

impl PartRetry {
    /// Fresh state under `policy` for faults and [`ThrottlePolicy::default`] for throttling:
    /// the first attempt is about to be made.
    pub fn new(policy: RetryPolicy) -> Self {
        Self::with_throttle(policy, ThrottlePolicy::default())
    }

    /// Fresh state under `policy` for faults and `throttle` for throttling.
    pub fn with_throttle(policy: RetryPolicy, throttle: ThrottlePolicy) -> Self {
        Self {
            policy,
            throttle,
            threshold: MEANINGFUL_PROGRESS,
            since_refill: 0,
            faults: 0,
            throttled: 0,
            total_retries: 0,
        }
    }

    /// For a part of `part_len` bytes: progress refills the budgets once
    /// `min(64 KiB, 1% of the part)` (at least 1 byte) has arrived since the last refill.
    /// Without it, 64 KiB.
    #[must_use]
    pub fn for_part(mut self, part_len: u64) -> Self {
        self.threshold = MEANINGFUL_PROGRESS.min((part_len / 100).max(1));
        self
    }

    /// Both budgets are full again, whatever arrived. (A caller that counts bytes should
    /// use [`PartRetry::on_delivered`], which asks for meaningful progress.)
    pub fn on_progress(&mut self) {
        self.faults = 0;
        self.throttled = 0;
        self.since_refill = 0;
    }

    /// The attempt that failed delivered `bytes` bytes. Progress refills both budgets only
    /// when it is meaningful: once the bytes since the last refill reach
    /// [`MEANINGFUL_PROGRESS`] (or 1% of the part, [`PartRetry::for_part`]). So a server
    /// that sends a byte and closes, again and again, ends the part after one budget of
    /// attempts, while a link that keeps delivering keeps its retries: a part makes at most
    /// `max_attempts × (part length / threshold + 1)` attempts in all.
    pub fn on_delivered(&mut self, bytes: u64) {
        self.since_refill = self.since_refill.saturating_add(bytes);
        if self.since_refill >= self.threshold {
            self.on_progress();
        }
    }

    /// An attempt failed; `reason` is the error's [`Error::retry_reason`]. Decides whether and
    /// when to try again: throttling reasons under the [`ThrottlePolicy`], the others under
    /// the [`RetryPolicy`]. (Call [`PartRetry::on_progress`] first if the attempt delivered
    /// bytes.)
    pub fn on_failure(
        &mut self,
        reason: Option<RetryReason>,
        rng: &mut JitterRng,
    ) -> RetryDecision {
        let made = self.faults.saturating_add(self.throttled).saturating_add(1);
        let Some(reason) = reason else {
            return RetryDecision::GiveUp {
                attempts: made,
                exhausted: None,
            };
        };
        let ceiling = if reason.is_throttling() {
            self.throttled = self.throttled.saturating_add(1);
            if self.throttled >= self.throttle.max_attempts {
                None
            } else {
                Some(self.throttle.backoff_ceiling(self.throttled))
            }
        } else {
            self.faults = self.faults.saturating_add(1);
            if self.faults >= self.policy.max_attempts {
                None
            } else {
                Some(self.policy.backoff_ceiling(self.faults))
            }
        };
        let Some(ceiling) = ceiling else {
            return RetryDecision::GiveUp {
                attempts: made,
                exhausted: Some(reason),
            };
        };
        self.total_retries += 1;
        RetryDecision::Retry {
            delay: rng.below(ceiling),
            attempt: made.saturating_add(1),
            reason,
        }
    }

    /// Convenience: [`PartRetry::on_failure`] for an [`Error`], counting its delivered bytes
    /// ([`PartRetry::on_delivered`]).
    pub fn on_error(&mut self, error: &Error, rng: &mut JitterRng) -> RetryDecision {
        self.on_delivered(error.delivered());
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

    /// A server that sends one byte and closes, on every attempt, must not refill the
    /// budget each time (566 requests in 60 s and counting, before): progress counts once
    /// min(64 KiB, 1% of the part) arrived since the last refill.
    #[test]
    fn dribbled_bytes_do_not_refill_the_budget() {
        let mut rng = JitterRng::seeded(1);
        let r = Some(RetryReason::Truncated);
        for part_len in [8 << 20, 5 << 30, 1 << 20, 1000] {
            let mut part = PartRetry::new(policy(6)).for_part(part_len);
            let mut attempts = 1;
            while let RetryDecision::Retry { .. } = {
                part.on_delivered(1);
                part.on_failure(r, &mut rng)
            } {
                attempts += 1;
                assert!(attempts <= 6, "{part_len}: no end to 1-byte attempts");
            }
            assert_eq!(attempts, 6, "{part_len}");
        }
        // A part of 100 bytes: 1 byte is its 1%, real progress every time.
        let mut tiny = PartRetry::new(policy(2)).for_part(100);
        for _ in 0..50 {
            tiny.on_delivered(1);
            assert!(matches!(
                tiny.on_failure(r, &mut rng),
                RetryDecision::Retry { .. }
            ));
        }
        // Real progress still refills: 64 KiB per attempt on an 8 MiB part, or 1% of a
        // 1 MiB part, whatever the number of attempts.
        for (part_len, per_attempt) in [(8u64 << 20, 64u64 << 10), (1 << 20, 10_486)] {
            let mut part = PartRetry::new(policy(2)).for_part(part_len);
            for _ in 0..50 {
                part.on_delivered(per_attempt);
                assert!(matches!(
                    part.on_failure(r, &mut rng),
                    RetryDecision::Retry { .. }
                ));
            }
        }
        // What counts is the sum since the last refill: 16 KiB per attempt refills every
        // fourth attempt, inside a budget of 6.
        let mut part = PartRetry::new(policy(6)).for_part(8 << 20);
        for _ in 0..40 {
            part.on_delivered(16 << 10);
            assert!(matches!(
                part.on_failure(r, &mut rng),
                RetryDecision::Retry { .. }
            ));
        }
    }

    #[test]
    fn on_error_counts_delivered_bytes_as_progress() {
        let mut part = PartRetry::new(policy(2));
        let mut rng = JitterRng::seeded(1);
        let cut = Error::Truncated {
            delivered: MEANINGFUL_PROGRESS,
            expected: 2 * MEANINGFUL_PROGRESS,
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
            expected: 2 * MEANINGFUL_PROGRESS,
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

    fn service_error(status: u16, code: &str) -> Error {
        let mut answer = crate::error::tests::service(status, code);
        answer.message = "Thread pool is almost full, please retry later".into();
        Error::Service(Box::new(answer))
    }

    #[test]
    fn the_documented_defaults_and_their_worst_cases() {
        let faults = RetryPolicy::default();
        let throttle = ThrottlePolicy::default();
        assert_eq!(
            (
                faults.max_attempts,
                faults.initial_backoff,
                faults.max_backoff
            ),
            (6, 200 * MS, Duration::from_secs(20))
        );
        assert_eq!(
            (
                throttle.max_attempts,
                throttle.initial_backoff,
                throttle.max_backoff
            ),
            (16, 500 * MS, Duration::from_secs(20))
        );
        // 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s, and 0.5 + 1 + 2 + 4 + 8 + 16 + 9 x 20 s.
        assert_eq!(faults.worst_case_backoff(), 6200 * MS);
        assert_eq!(throttle.worst_case_backoff(), 211_500 * MS);
        let once = ThrottlePolicy {
            max_attempts: 1,
            ..throttle
        };
        assert_eq!(once.worst_case_backoff(), Duration::ZERO);
        // Far past 64 doublings the sum keeps adding the cap, without overflow.
        let many = ThrottlePolicy {
            max_attempts: 1000,
            ..throttle
        };
        assert_eq!(
            many.worst_case_backoff(),
            throttle.worst_case_backoff() + (1000 - 16) * throttle.max_backoff
        );
        let absurd = RetryPolicy {
            max_attempts: u32::MAX,
            initial_backoff: Duration::MAX,
            max_backoff: Duration::MAX,
        };
        assert_eq!(absurd.worst_case_backoff(), Duration::MAX);
    }

    #[test]
    fn throttling_and_faults_have_separate_budgets() {
        let faults = policy(3);
        let throttle = ThrottlePolicy {
            max_attempts: 4,
            initial_backoff: 1000 * MS,
            max_backoff: 8000 * MS,
        };
        let mut part = PartRetry::with_throttle(faults, throttle);
        let mut rng = JitterRng::seeded(5);
        let mut attempt = 1;
        // Throttled, fault, throttled, fault, throttled: neither budget is spent by the other.
        for (reason, nth) in [
            (RetryReason::Throttled, 1),
            (RetryReason::ServerError, 1),
            (RetryReason::RateLimited, 2),
            (RetryReason::Connection, 2),
            (RetryReason::Throttled, 3),
        ] {
            attempt += 1;
            match part.on_failure(Some(reason), &mut rng) {
                RetryDecision::Retry {
                    delay,
                    attempt: a,
                    reason: r,
                } => {
                    assert_eq!((a, r), (attempt, reason));
                    // Each kind walks its own backoff schedule.
                    let ceiling = if reason.is_throttling() {
                        throttle.backoff_ceiling(nth)
                    } else {
                        faults.backoff_ceiling(nth)
                    };
                    assert!(delay <= ceiling, "{reason}: {delay:?} > {ceiling:?}");
                }
                other => panic!("{reason}: {other:?}"),
            }
        }
        // The 4th throttled attempt spends the throttling budget...
        assert_eq!(
            part.on_failure(Some(RetryReason::RateLimited), &mut rng),
            RetryDecision::GiveUp {
                attempts: 6,
                exhausted: Some(RetryReason::RateLimited)
            }
        );
        // ...and a fresh part spends the fault budget on its 3rd fault whatever the throttles.
        let mut part = PartRetry::with_throttle(faults, throttle);
        for _ in 0..3 {
            assert!(matches!(
                part.on_failure(Some(RetryReason::Throttled), &mut rng),
                RetryDecision::Retry { .. }
            ));
        }
        for _ in 0..2 {
            assert!(matches!(
                part.on_failure(Some(RetryReason::Timeout), &mut rng),
                RetryDecision::Retry { .. }
            ));
        }
        assert_eq!(
            part.on_failure(Some(RetryReason::Timeout), &mut rng),
            RetryDecision::GiveUp {
                attempts: 6,
                exhausted: Some(RetryReason::Timeout)
            }
        );
        assert_eq!(part.total_retries(), 5);
    }

    #[test]
    fn progress_refills_the_throttling_budget_too() {
        let throttle = ThrottlePolicy {
            max_attempts: 2,
            ..ThrottlePolicy::default()
        };
        let mut part = PartRetry::with_throttle(policy(2), throttle);
        let mut rng = JitterRng::seeded(3);
        for _ in 0..50 {
            assert!(matches!(
                part.on_failure(Some(RetryReason::Throttled), &mut rng),
                RetryDecision::Retry { attempt: 2, .. }
            ));
            part.on_progress();
        }
        assert!(matches!(
            part.on_failure(Some(RetryReason::Throttled), &mut rng),
            RetryDecision::Retry { .. }
        ));
        assert!(matches!(
            part.on_failure(Some(RetryReason::Throttled), &mut rng),
            RetryDecision::GiveUp { attempts: 2, .. }
        ));
    }

    #[test]
    fn non_throttling_server_errors_keep_the_fault_budget() {
        let mut rng = JitterRng::seeded(11);
        // 500, 502 and a 503 whose code is not one of OSS's throttling codes are faults.
        for (status, code) in [(500, "InternalError"), (502, ""), (503, "SomethingElse")] {
            let error = service_error(status, code);
            assert_eq!(error.retry_reason(), Some(RetryReason::ServerError));
            let mut part = PartRetry::new(RetryPolicy::default());
            let mut made = 1;
            let last = loop {
                match part.on_error(&error, &mut rng) {
                    RetryDecision::Retry { delay, .. } => {
                        assert!(delay <= RetryPolicy::default().backoff_ceiling(made));
                        made += 1;
                    }
                    give_up => break give_up,
                }
            };
            assert_eq!(
                last,
                RetryDecision::GiveUp {
                    attempts: 6,
                    exhausted: Some(RetryReason::ServerError)
                },
                "{status} {code}"
            );
        }
    }

    /// Outcome of simulated parts against a server refusing each request with probability
    /// 1/3, independently: (parts that gave up, largest run of refusals a part survived,
    /// total simulated backoff).
    fn one_in_three(
        parts: u32,
        reason: RetryReason,
        throttle: ThrottlePolicy,
        seed: u64,
    ) -> (u32, u32, Duration) {
        let mut server = JitterRng::seeded(seed);
        let mut jitter = JitterRng::seeded(seed ^ 0xA5A5);
        let mut gave_up = 0;
        let mut longest = 0;
        let mut waited = Duration::ZERO;
        for _ in 0..parts {
            let mut part = PartRetry::with_throttle(RetryPolicy::default(), throttle);
            let mut refused = 0;
            // u64::MAX / 3 splits the 64-bit draws one to two.
            while server.next_u64() < u64::MAX / 3 {
                refused += 1;
                match part.on_failure(Some(reason), &mut jitter) {
                    RetryDecision::Retry { delay, .. } => waited += delay,
                    RetryDecision::GiveUp { .. } => {
                        gave_up += 1;
                        break;
                    }
                }
            }
            longest = longest.max(refused);
        }
        (gave_up, longest, waited)
    }

    #[test]
    fn a_third_of_requests_refused_no_longer_exhausts_a_part() {
        // 20 000 parts of 8 MiB is 156 GiB. Under the old rule (throttling spent the 6-attempt
        // fault budget) a part gave up with probability 3^-6 = 1/729: about 27 of these would
        // fail. Under the throttling budget it is 3^-16 per part, 4.6e-4 for all 20 000 at
        // once; the seed is fixed, so this test is deterministic.
        const PARTS: u32 = 20_000;
        let throttle = ThrottlePolicy::default();
        for reason in [RetryReason::Throttled, RetryReason::RateLimited] {
            let (gave_up, longest, waited) = one_in_three(PARTS, reason, throttle, 2024);
            assert_eq!(gave_up, 0, "{reason}");
            // The pattern really produced long runs of refusals (the fault budget's 6 or more).
            assert!(longest >= 6, "{reason}: longest run {longest}");
            // Expected backoff per part: sum over k of 3^-k x ceiling(k) / 2, about 0.234 s.
            let per_part = waited.as_secs_f64() / f64::from(PARTS);
            assert!((0.20..0.27).contains(&per_part), "{reason}: {per_part} s");
        }
        // The same stream against the old rule: the simulation does see exhaustion when a
        // budget is 6 (so the zero above means something).
        let old_rule = ThrottlePolicy {
            max_attempts: 6,
            initial_backoff: 200 * MS,
            max_backoff: Duration::from_secs(20),
        };
        let (gave_up, _, _) = one_in_three(PARTS, RetryReason::Throttled, old_rule, 2024);
        assert!((10..50).contains(&gave_up), "{gave_up} of {PARTS}");
        let (faults_gave_up, _, _) = one_in_three(PARTS, RetryReason::ServerError, throttle, 2024);
        assert_eq!(faults_gave_up, gave_up, "faults keep the 6-attempt budget");
    }

    /// A retry loop as oss-resume runs it, against a "server" that throttles every request:
    /// the tokio clock is paused, so the sleeps cost no wall time but are measured exactly.
    async fn against_a_server_that_always_throttles(
        error: &Error,
        throttle: ThrottlePolicy,
        seed: u64,
    ) -> (u32, Duration, RetryDecision) {
        let mut part = PartRetry::with_throttle(RetryPolicy::default(), throttle);
        let mut rng = JitterRng::seeded(seed);
        let started = tokio::time::Instant::now();
        let mut requests = 0;
        loop {
            requests += 1;
            match part.on_error(error, &mut rng) {
                RetryDecision::Retry { delay, .. } => tokio::time::sleep(delay).await,
                give_up => return (requests, started.elapsed(), give_up),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_always_throttles_ends_within_the_documented_bound() {
        let throttle = ThrottlePolicy::default();
        let bound = throttle.worst_case_backoff();
        assert_eq!(bound, Duration::from_millis(211_500));
        for (status, code, reason) in [
            (503, "ServiceUnavailable", RetryReason::Throttled),
            (
                503,
                "DownloadTrafficRateLimitExceeded",
                RetryReason::Throttled,
            ),
            (429, "QpsLimitExceeded", RetryReason::RateLimited),
        ] {
            let error = service_error(status, code);
            let mut total = Duration::ZERO;
            let runs = 200;
            for seed in 0..runs {
                let (requests, took, last) =
                    against_a_server_that_always_throttles(&error, throttle, seed).await;
                assert_eq!(requests, 16, "{code}");
                assert_eq!(
                    last,
                    RetryDecision::GiveUp {
                        attempts: 16,
                        exhausted: Some(reason)
                    }
                );
                assert!(took <= bound, "{code}: {took:?} > {bound:?}");
                total += took;
            }
            // Full jitter: half the worst case on average (105.75 s; the standard deviation of
            // one run is 18 s, of a 200-run mean 1.3 s).
            let mean = total.as_secs_f64() / f64::from(runs as u32);
            assert!((100.0..111.5).contains(&mean), "{code}: mean {mean} s");
        }
        // The error the caller ends with is the server's own: its OSS code and request id.
        let error = service_error(503, "ServiceUnavailable");
        assert_eq!(
            error.service().map(|s| s.code.as_str()),
            Some("ServiceUnavailable")
        );
        assert!(error.to_string().contains("566B6C0D1790CF586F72240B"));
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
        ThrottlePolicy::default().validate().unwrap();
        let none = ThrottlePolicy {
            max_attempts: 0,
            ..ThrottlePolicy::default()
        };
        assert!(
            none.validate()
                .unwrap_err()
                .to_string()
                .contains("throttle max_attempts")
        );
        let inverted = ThrottlePolicy {
            initial_backoff: Duration::from_secs(60),
            ..ThrottlePolicy::default()
        };
        assert!(
            inverted
                .validate()
                .unwrap_err()
                .to_string()
                .contains("throttle initial_backoff")
        );
    }
}
