//! The adaptive connection count ([`crate::Download::threads_auto`]): a pure, deterministic
//! state machine fed with the time, the bytes received so far and the throttling answers
//! seen so far; it says how many workers should run. No I/O and no clock of its own, so
//! its tests replay any link exactly.
//!
//! - It starts at [`START`] connections (or the cap, if lower): a count no OSS front-end
//!   throttles and that fills a link of up to 8 × a connection's rate at once. On a long
//!   path ([`start_for`]: the download's HEAD took [`LONG_PATH_HEAD`] or more) it starts at
//!   [`START_LONG`]: there every connection spends its first half second in slow start, so
//!   the count the path needs must be there from the first round trip, not grown into a
//!   second later; a server that throttles it gets the count halved at its first 503.
//! - Probing (like TCP's slow start): after each window of [`Controller::window`] it
//!   compares the aggregate rate with the rate measured before the last change; a gain of
//!   at least [`MIN_GAIN`] doubles the count, so a link that needs 30 connections gets them
//!   in two windows instead of twenty-two. The first step has nothing to compare with and
//!   comes after half a window (unless the end is near). A smaller gain means the link, not
//!   the count, is the limit: the count goes back to what it was before the step that did
//!   not help, and holds.
//! - A throttling answer (503 `ServiceUnavailable`/`SlowDown`-style codes, 429
//!   `QpsLimitExceeded`) right after an increase undoes it and holds; otherwise it halves
//!   the count at once (multiplicative decrease) and remembers the count that was throttled
//!   as a ceiling; from then on growth is one connection per window (additive increase), up
//!   to one below that ceiling. After an undo, the answers to the undone step's requests
//!   (they keep arriving for a while) are absorbed for a window.
//! - It never grows when the bytes left would arrive within two windows at the current
//!   rate: a new connection pays a round trip or two and a slow start before it helps, and
//!   near the end it would only add requests (and, on a throttling server, 503s).
//! - It never goes above the cap nor below one.
//!
//! Why a window of half a second: long enough to hold many round trips on the slowest link
//! profile (80 ms, `docs/link-model.md`) and to see a new connection's slow start pay off,
//! short enough that a 256 MiB object at 400 MiB/s gets one decision before it is done.

use std::time::Duration;

use crate::report::{AdaptiveConnections, ConnectionChange, ConnectionChangeReason};

/// Connections at the start.
pub(crate) const START: usize = 8;

/// Connections at the start on a long path.
pub(crate) const START_LONG: usize = 16;

/// A HEAD that took this long (on a fresh connection: its set-up and the request, two round
/// trips) marks a long path: a round trip of about 40 ms or more, where 8 connections in
/// slow start fill a path slowly. A cross-region path (80 ms) takes 160 ms; the same region
/// (10–20 ms) 20–40 ms.
pub(crate) const LONG_PATH_HEAD: Duration = Duration::from_millis(80);

/// Where the count starts, given how long the download's HEAD took (`None`: unknown, or it
/// was retried): [`START_LONG`] on a long path, else [`START`].
pub(crate) fn start_for(head_time: Option<Duration>) -> usize {
    match head_time {
        Some(t) if t >= LONG_PATH_HEAD => START_LONG,
        _ => START,
    }
}

/// The smallest relative gain in aggregate rate that justifies the last increase.
pub(crate) const MIN_GAIN: f64 = 0.10;

/// The default window over which a rate is measured (see the module's docs).
pub(crate) const WINDOW: Duration = Duration::from_millis(500);

/// Changes kept in the report's history; later ones are counted, not kept, so a long
/// download under a flapping throttle cannot grow the report without bound.
const HISTORY: usize = 32;

/// What the controller decided on one observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Keep the current count.
    Hold,
    /// Run this many connections (more than before).
    Grow { to: usize },
    /// Run this many connections (fewer than before).
    Shrink {
        to: usize,
        reason: ConnectionChangeReason,
    },
}

/// How the count grows while the rate keeps rising.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Growth {
    /// Doubling: no throttling answer seen yet.
    Doubling,
    /// One at a time: the server has throttled this download.
    Additive,
}

/// The adaptive connection count's state.
#[derive(Debug, Clone)]
pub(crate) struct Controller {
    cap: usize,
    target: usize,
    /// The count before the last increase: where a step that did not help goes back to.
    before_step: usize,
    /// Growth stops one below a count that was throttled.
    ceiling: usize,
    growth: Growth,
    window: Duration,
    /// Where the current window started: time and bytes received.
    window_start: Option<(Duration, u64)>,
    /// The rate measured over the last complete window before the last increase.
    rate_before: Option<f64>,
    /// Adding stopped helping: hold until a throttling answer changes the picture.
    settled: bool,
    /// Throttling answers already acted on.
    throttled_seen: u64,
    /// When the count last grew.
    grew_at: Option<Duration>,
    /// Throttling answers before this time are absorbed: they answer the requests of a step
    /// just undone.
    quiet_until: Duration,
    /// Bytes this transfer has to fetch in all.
    to_fetch: u64,
    started: usize,
    peak: usize,
    history: Vec<ConnectionChange>,
    changes: u64,
}

impl Controller {
    /// A controller for at most `cap` connections (at least one), measuring over `window`,
    /// for a transfer of `to_fetch` bytes, starting at `start` ([`start_for`]; at least one,
    /// at most `cap`).
    pub(crate) fn new(cap: usize, window: Duration, to_fetch: u64, start: usize) -> Self {
        let cap = cap.max(1);
        let start = start.clamp(1, cap);
        Self {
            cap,
            target: start,
            before_step: start,
            ceiling: cap,
            growth: Growth::Doubling,
            window,
            window_start: None,
            rate_before: None,
            settled: false,
            throttled_seen: 0,
            grew_at: None,
            quiet_until: Duration::ZERO,
            to_fetch,
            started: start,
            peak: start,
            history: Vec::new(),
            changes: 0,
        }
    }

    /// Connections to run now.
    pub(crate) fn target(&self) -> usize {
        self.target
    }

    /// What the controller did, for the report.
    pub(crate) fn summary(&self) -> AdaptiveConnections {
        AdaptiveConnections {
            started: self.started,
            peak: self.peak,
            ended: self.target,
            changes: self.changes,
            history: self.history.clone(),
        }
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
        // The first decision needs no rate to compare with (a first step is always taken
        // unless the end is near): it comes after half a window.
        let window = if self.changes == 0 {
            self.window / 2
        } else {
            self.window
        };
        if elapsed < window || elapsed.is_zero() {
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
            let back = self.before_step;
            return self.change(now, back, ConnectionChangeReason::NoGain);
        }
        let limit = self.cap.min(self.ceiling);
        if self.target >= limit {
            self.settled = true;
            return Decision::Hold;
        }
        let left = self.to_fetch.saturating_sub(received) as f64;
        if left < rate * 2.0 * self.window.as_secs_f64() {
            return Decision::Hold;
        }
        self.rate_before = Some(rate);
        self.before_step = self.target;
        let to = match self.growth {
            Growth::Doubling => self.target.saturating_mul(2),
            Growth::Additive => self.target + 1,
        };
        self.change(now, to.min(limit), ConnectionChangeReason::RateRose)
    }

    /// Acts on a throttling answer. Right after an increase — a doubling, or an added
    /// connection within two windows of it — the count before it was not throttled: go back
    /// to it and stay there, absorbing for a window the answers to the undone step's
    /// requests. Otherwise halve, and let growth resume one at a time up to one below the
    /// count that was throttled.
    fn back_off(&mut self, now: Duration, received: u64) -> Decision {
        if now < self.quiet_until {
            return Decision::Hold;
        }
        let recent = self
            .grew_at
            .is_some_and(|t| now.saturating_sub(t) <= self.window * 2);
        let undo_step =
            self.before_step < self.target && (self.growth == Growth::Doubling || recent);
        // Back at a count that was not throttled, the answers still arriving were meant for
        // the requests of the step just undone. After a halving no count is known good yet:
        // keep reacting (a server that allows 2 must not wait windows for 8 to become 2).
        if undo_step {
            self.quiet_until = now + self.window;
        }
        let to = if undo_step {
            self.before_step
        } else {
            self.target / 2
        };
        self.ceiling = if undo_step {
            self.before_step
        } else {
            self.target.saturating_sub(1).max(1)
        };
        self.growth = Growth::Additive;
        self.settled = false;
        self.rate_before = None;
        // The window restarts: rates measured under throttling say nothing about the link.
        self.window_start = Some((now, received));
        self.before_step = to.max(1);
        self.change(now, to, ConnectionChangeReason::Throttled)
    }

    fn change(&mut self, now: Duration, to: usize, reason: ConnectionChangeReason) -> Decision {
        let to = to.clamp(1, self.cap);
        if to == self.target {
            return Decision::Hold;
        }
        let grew = to > self.target;
        self.target = to;
        self.peak = self.peak.max(to);
        self.changes += 1;
        if self.history.len() < HISTORY {
            self.history.push(ConnectionChange {
                at: now,
                to,
                reason,
            });
        }
        if grew {
            self.grew_at = Some(now);
            Decision::Grow { to }
        } else {
            Decision::Shrink { to, reason }
        }
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
    fn a_long_path_starts_at_sixteen() {
        let ms = Duration::from_millis;
        // Cross-region (80 ms): a fresh connection's HEAD takes two round trips.
        assert_eq!(start_for(Some(ms(160))), START_LONG);
        assert_eq!(start_for(Some(LONG_PATH_HEAD)), START_LONG);
        // Same region, a throttled bucket nearby, loopback; unknown or retried: 8.
        for head in [ms(20), ms(40), ms(79), Duration::ZERO] {
            assert_eq!(start_for(Some(head)), START, "{head:?}");
        }
        assert_eq!(start_for(None), START);
        // Never above the cap, never below one.
        assert_eq!(Controller::new(32, W, u64::MAX, START_LONG).target(), 16);
        assert_eq!(Controller::new(4, W, u64::MAX, START_LONG).target(), 4);
        assert_eq!(Controller::new(4, W, u64::MAX, 0).target(), 1);
    }

    #[test]
    fn doubles_to_the_cap_and_stops() {
        let mut c = Controller::new(40, W, u64::MAX, START);
        let link = Link {
            per_conn: 10,
            total: u64::MAX,
            limit: usize::MAX,
        };
        let seen = drive(&mut c, &link, 6);
        assert_eq!(seen, [16, 32, 40, 40, 40, 40]);
        let s = c.summary();
        assert_eq!((s.started, s.peak, s.ended, s.changes), (8, 40, 40, 3));
        assert!(
            s.history
                .iter()
                .all(|h| h.reason == ConnectionChangeReason::RateRose)
        );
    }

    #[test]
    fn goes_back_when_doubling_does_not_help() {
        // 10 B/s per connection, 120 B/s in all: 16 helps (80 to 120), 32 gives 120 again:
        // back to 16, held.
        let mut c = Controller::new(64, W, u64::MAX, START);
        let link = Link {
            per_conn: 10,
            total: 120,
            limit: usize::MAX,
        };
        let seen = drive(&mut c, &link, 6);
        assert_eq!(seen, [16, 32, 16, 16, 16, 16]);
        assert_eq!(
            c.observe(Duration::from_secs(100), u64::MAX / 2, 0),
            Decision::Hold
        );
        assert_eq!(
            c.summary().history.last().map(|h| (h.to, h.reason)),
            Some((16, ConnectionChangeReason::NoGain))
        );
    }

    #[test]
    fn a_throttled_doubling_is_undone_and_held() {
        let mut c = Controller::new(32, W, u64::MAX, START);
        let link = Link {
            per_conn: 10,
            total: u64::MAX,
            limit: 8,
        };
        // 8 is fine, 16 is throttled: back to 8, never 9.
        let seen = drive(&mut c, &link, 8);
        assert_eq!(seen, [16, 8, 8, 8, 8, 8, 8, 8]);
    }

    #[test]
    fn throttled_at_the_start_halves_and_recovers_one_at_a_time() {
        let mut c = Controller::new(32, W, u64::MAX, START);
        let link = Link {
            per_conn: 10,
            total: u64::MAX,
            limit: 5,
        };
        let seen = drive(&mut c, &link, 10);
        // 8 throttled: 4, then 5, 6 (throttled right after the step: back to 5, held).
        assert_eq!(seen, [4, 5, 6, 5, 5, 5, 5, 5, 5, 5]);
        let more = drive_on(&mut c, &link, 4);
        assert!(more.iter().all(|&n| n == 5), "{more:?}");
        assert_eq!(c.summary().peak, 8);
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
    fn no_growth_when_the_rest_arrives_within_two_windows() {
        // 80 B/s at the start; 150 B left after the first window: less than two windows'
        // worth (160 B), so no connection is added.
        let mut c = Controller::new(32, W, 230, START);
        c.observe(Duration::ZERO, 0, 0);
        assert_eq!(c.observe(W, 80, 0), Decision::Hold);
        assert_eq!(c.target(), 8);
        // With more left it would have doubled.
        let mut c = Controller::new(32, W, 1000, START);
        c.observe(Duration::ZERO, 0, 0);
        assert_eq!(c.observe(W, 80, 0), Decision::Grow { to: 16 });
    }

    #[test]
    fn a_cap_below_the_start_is_kept() {
        let mut c = Controller::new(1, W, u64::MAX, START);
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
        let mut c = Controller::new(32, W, u64::MAX, START);
        c.observe(Duration::ZERO, 0, 0);
        // The first step compares with nothing: it comes after half a window.
        assert_eq!(
            c.observe(Duration::from_millis(400), 1000, 0),
            Decision::Hold
        );
        assert!(matches!(
            c.observe(Duration::from_millis(500), 2000, 0),
            Decision::Grow { to: 16 }
        ));
        // Every later one after a whole window.
        assert_eq!(
            c.observe(Duration::from_millis(1400), 9000, 0),
            Decision::Hold
        );
        assert!(matches!(
            c.observe(Duration::from_millis(1500), 10_000, 0),
            Decision::Grow { to: 32 }
        ));
        assert_eq!(c.summary().changes, 2);
    }

    #[test]
    fn the_answers_to_an_undone_step_are_absorbed_for_a_window() {
        let mut c = Controller::new(32, W, u64::MAX, START);
        c.observe(Duration::ZERO, 0, 0);
        assert_eq!(c.observe(W, 1000, 0), Decision::Grow { to: 16 });
        // The eight requests above the limit are refused over two observations: the first
        // undoes the doubling, the second is for the same requests.
        let at = |ms| W + Duration::from_millis(ms);
        assert!(matches!(
            c.observe(at(100), 1100, 5),
            Decision::Shrink { to: 8, .. }
        ));
        assert_eq!(c.observe(at(200), 1200, 8), Decision::Hold);
        assert_eq!(c.target(), 8);
        // A window later a new answer counts again.
        assert!(matches!(
            c.observe(at(1200), 2000, 9),
            Decision::Shrink { to: 4, .. }
        ));
        // After a halving the next answer is acted on at once.
        assert!(matches!(
            c.observe(at(1300), 2100, 10),
            Decision::Shrink { to: 2, .. }
        ));
    }

    #[test]
    fn an_added_connection_that_is_throttled_is_taken_back_and_held() {
        let mut c = Controller::new(32, W, u64::MAX, START);
        c.observe(Duration::ZERO, 0, 0);
        // Throttled at the start: 8 -> 4, then one at a time.
        c.observe(Duration::from_millis(100), 0, 1);
        assert_eq!(c.target(), 4);
        assert_eq!(
            c.observe(Duration::from_secs(2), 1000, 1),
            Decision::Grow { to: 5 }
        );
        // Throttled right after going to 5: back to 4 (not halved to 2), and held there.
        assert!(matches!(
            c.observe(Duration::from_secs(3), 2000, 2),
            Decision::Shrink { to: 4, .. }
        ));
        for t in 5..10 {
            assert_eq!(
                c.observe(Duration::from_secs(t), 2500 + t * 1000, 2),
                Decision::Hold
            );
        }
    }
}
