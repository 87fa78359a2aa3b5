//! The adaptive connection count ([`crate::Download::threads_auto`]): a pure, deterministic
//! state machine fed with the time, the bytes received so far and the throttling answers
//! seen so far; it says how many workers should run. No I/O and no clock of its own, so
//! its tests replay any link exactly.
//!
//! - It starts at [`START`] connections (or the cap, if lower).
//! - After each window of [`Controller::window`] it compares the aggregate rate with the
//!   rate measured before the last connection was added: a gain of at least [`MIN_GAIN`]
//!   adds one more (additive increase); a smaller gain means the link, not the connection
//!   count, is the limit, so it drops the connection that did not help and holds.
//! - A throttling answer (503 `ServiceUnavailable`/`SlowDown`-style codes, 429
//!   `QpsLimitExceeded`) halves the count at once (multiplicative decrease) and remembers
//!   the count that was throttled as a ceiling for later growth: it recovers up to one
//!   below it.
//! - It never goes above the cap nor below one.

use std::time::Duration;

/// Connections at the start: enough to measure a gain from the next one, few enough not to
/// trip a throttle before the first window.
pub(crate) const START: usize = 2;

/// The smallest relative gain in aggregate rate that justifies the connection just added.
pub(crate) const MIN_GAIN: f64 = 0.10;

/// The default window over which a rate is measured: several round trips on the slowest
/// link profile (80 ms), long enough for a new connection's slow start to show.
pub(crate) const WINDOW: Duration = Duration::from_secs(1);

/// What the controller decided on one observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Keep the current count.
    Hold,
    /// Run this many connections (more than before).
    Grow { to: usize, reason: GrowReason },
    /// Run this many connections (fewer than before).
    Shrink { to: usize, reason: ShrinkReason },
}

/// Why the count went up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GrowReason {
    /// The last connection added raised the aggregate rate by at least [`MIN_GAIN`].
    RateRose,
}

/// Why the count went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShrinkReason {
    /// The server answered 503/429: halve.
    Throttled,
    /// The last connection added raised the rate by less than [`MIN_GAIN`]: drop it.
    NoGain,
}

/// The adaptive connection count's state.
#[derive(Debug, Clone)]
pub(crate) struct Controller {
    cap: usize,
    target: usize,
    /// Growth stops one below a count that was throttled.
    ceiling: usize,
    window: Duration,
    /// Where the current window started: time and bytes received.
    window_start: Option<(Duration, u64)>,
    /// The rate measured over the last complete window at `target - 1` connections.
    rate_before: Option<f64>,
    /// Adding stopped helping: hold until a throttling answer changes the picture.
    settled: bool,
    /// Throttling answers already acted on.
    throttled_seen: u64,
    /// Decisions other than [`Decision::Hold`].
    changes: u64,
}

impl Controller {
    /// A controller for at most `cap` connections (at least one), measuring over `window`.
    pub(crate) fn new(cap: usize, window: Duration) -> Self {
        let cap = cap.max(1);
        Self {
            cap,
            target: START.min(cap),
            ceiling: cap,
            window,
            window_start: None,
            rate_before: None,
            settled: false,
            throttled_seen: 0,
            changes: 0,
        }
    }

    /// Connections to run now.
    pub(crate) fn target(&self) -> usize {
        self.target
    }

    /// Times the count changed.
    pub(crate) fn changes(&self) -> u64 {
        self.changes
    }

    /// Feeds one observation: `now` since the download started, `received` bytes so far,
    /// `throttled` throttling answers so far (both running totals).
    pub(crate) fn observe(&mut self, now: Duration, received: u64, throttled: u64) -> Decision {
        if throttled > self.throttled_seen {
            self.throttled_seen = throttled;
            return self.back_off(now, received);
        }
        let Some((start, start_bytes)) = self.window_start else {
            self.window_start = Some((now, received));
            return Decision::Hold;
        };
        let elapsed = now.saturating_sub(start);
        if elapsed < self.window || elapsed.is_zero() {
            return Decision::Hold;
        }
        let rate = received.saturating_sub(start_bytes) as f64 / elapsed.as_secs_f64();
        self.window_start = Some((now, received));
        if self.settled {
            return Decision::Hold;
        }
        if let Some(before) = self.rate_before
            && rate < before * (1.0 + MIN_GAIN)
        {
            self.settled = true;
            self.rate_before = None;
            return self.shrink_to(self.target - 1, ShrinkReason::NoGain);
        }
        if self.target >= self.cap.min(self.ceiling) {
            self.settled = true;
            return Decision::Hold;
        }
        self.rate_before = Some(rate);
        self.target += 1;
        self.changes += 1;
        Decision::Grow {
            to: self.target,
            reason: GrowReason::RateRose,
        }
    }

    /// Halves the count after a throttling answer and lets growth resume from there, up to
    /// one below the count that was throttled.
    fn back_off(&mut self, now: Duration, received: u64) -> Decision {
        self.ceiling = self.target.saturating_sub(1).max(1);
        self.settled = false;
        self.rate_before = None;
        // The window restarts: rates measured under throttling say nothing about the link.
        self.window_start = Some((now, received));
        self.shrink_to(self.target / 2, ShrinkReason::Throttled)
    }

    fn shrink_to(&mut self, to: usize, reason: ShrinkReason) -> Decision {
        let to = to.max(1);
        if to == self.target {
            return Decision::Hold;
        }
        self.target = to;
        self.changes += 1;
        Decision::Shrink { to, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Duration = Duration::from_secs(1);

    /// A link of `per_conn` bytes/s per connection up to `total` bytes/s, throttling above
    /// `limit` connections (every window run above it answers one 503).
    struct Link {
        per_conn: u64,
        total: u64,
        limit: usize,
    }

    /// Drives `c` for `windows` windows over `link`; returns the target after each window.
    fn drive(c: &mut Controller, link: &Link, windows: u32) -> Vec<usize> {
        let (mut now, mut bytes, mut throttled) = (Duration::ZERO, 0u64, 0u64);
        c.observe(now, bytes, throttled);
        let mut seen = Vec::new();
        for _ in 0..windows {
            let n = c.target();
            if n > link.limit {
                throttled += 1;
            }
            bytes += (link.per_conn * n as u64).min(link.total);
            now += W;
            c.observe(now, bytes, throttled);
            assert!(c.target() >= 1 && c.target() <= c.cap);
            seen.push(c.target());
        }
        seen
    }

    #[test]
    fn rises_to_the_cap_and_stops() {
        let mut c = Controller::new(6, W);
        let link = Link {
            per_conn: 10,
            total: u64::MAX,
            limit: usize::MAX,
        };
        let seen = drive(&mut c, &link, 10);
        assert_eq!(seen, [3, 4, 5, 6, 6, 6, 6, 6, 6, 6]);
    }

    #[test]
    fn holds_when_adding_does_not_help() {
        // 10 B/s per connection, 45 B/s in all: the 5th helps (40 to 45, 12.5%), the 6th
        // gives 45 again: it is dropped and the count holds at 5.
        let mut c = Controller::new(16, W);
        let link = Link {
            per_conn: 10,
            total: 45,
            limit: usize::MAX,
        };
        let seen = drive(&mut c, &link, 10);
        assert_eq!(seen, [3, 4, 5, 6, 5, 5, 5, 5, 5, 5]);
        assert_eq!(
            c.observe(Duration::from_secs(100), u64::MAX / 2, 0),
            Decision::Hold
        );
    }

    #[test]
    fn backs_off_under_throttling_and_recovers() {
        let mut c = Controller::new(16, W);
        let link = Link {
            per_conn: 10,
            total: u64::MAX,
            limit: 8,
        };
        let seen = drive(&mut c, &link, 12);
        // Up to 9, throttled there: halved to 4, then back up to 8 (one below 9) and held.
        assert_eq!(seen, [3, 4, 5, 6, 7, 8, 9, 4, 5, 6, 7, 8]);
        let more = drive_on(&mut c, &link, 4);
        assert!(more.iter().all(|&n| n == 8), "{more:?}");
    }

    /// Like [`drive`], continuing from a controller that has already run.
    fn drive_on(c: &mut Controller, link: &Link, windows: u32) -> Vec<usize> {
        let (mut now, mut bytes) = (Duration::from_secs(1000), 1u64 << 40);
        c.observe(now, bytes, c.throttled_seen);
        let mut seen = Vec::new();
        for _ in 0..windows {
            bytes += (link.per_conn * c.target() as u64).min(link.total);
            now += W;
            c.observe(now, bytes, c.throttled_seen);
            seen.push(c.target());
        }
        seen
    }

    #[test]
    fn a_cap_below_the_start_is_kept() {
        let mut c = Controller::new(1, W);
        assert_eq!(c.target(), 1);
        assert_eq!(
            c.observe(Duration::ZERO, 0, 1),
            Decision::Hold,
            "one connection cannot be halved"
        );
        assert_eq!(c.target(), 1);
    }

    #[test]
    fn short_windows_are_not_judged() {
        let mut c = Controller::new(8, W);
        c.observe(Duration::ZERO, 0, 0);
        assert_eq!(
            c.observe(Duration::from_millis(500), 1000, 0),
            Decision::Hold
        );
        assert!(matches!(
            c.observe(Duration::from_millis(1000), 2000, 0),
            Decision::Grow { to: 3, .. }
        ));
        assert_eq!(c.changes(), 1);
    }
}
