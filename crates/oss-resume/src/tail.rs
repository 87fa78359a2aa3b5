//! The tail-splitting policy: whether a run still in flight is so far behind that an idle
//! worker should take the end of it (work stealing), and where to cut. Pure arithmetic on
//! what the workers observed (bytes, times, rates): no clock, no I/O, so its tests state the
//! rule exactly. The scheduler applies it (`Scheduler::steal` when nothing is left to hand
//! out, `Scheduler::evict` before a worker takes a new part), the claims carry what it reads
//! (`Claim::view`); `docs/link-model.md` explains the rule and its numbers.
//!
//! A run (the *victim*) is judged once it has been in flight for [`judge_after`] the link's
//! round trip (slow start and the first byte's round trip no longer dominate its rate). Its
//! rate `v` is the bytes it received over that time, `R` the bytes it still has to fetch,
//! and the thief's pace is
//! its own last streaming rate `w` and time to first byte `L` (or, for a worker that has no
//! rate yet, the fastest run in flight's). The victim is **far behind** when
//! `R / v >= SLOW_FACTOR x (L + R / w)`: finishing alone takes several times what a fresh
//! request on a healthy connection would. Then the thief takes the last
//! `h = (R - v L) w / (v + w)` bytes, which make both finish together: rounded to whole
//! parts when the cut falls in a part the victim has not started, or, when it falls in the
//! part the victim is writing, from a byte at least `max(v L, CUT_MARGIN)` past the
//! victim's position (what reaches the victim before the thief's first byte stays its own):
//! the victim keeps that part's prefix, the thief writes its suffix, and the part is done
//! when both are (`Event::SuffixDone`). At least [`MIN_SPLIT`] bytes, and only if the split
//! shortens the estimated finish by at least [`min_saving`]. Runs moving at similar rates
//! are never split: the scheduler's even share of the last parts already balances them.
//!
//! While parts are still waiting to be handed out, a victim far behind keeps only what
//! reaches it before the thief's first byte ([`plan_evict`]): its worker then goes on with
//! fresh parts on another connection instead of crawling on its own until the tail. A
//! victim that has received nothing and stands at its part's start keeps nothing.

use std::time::Duration;

use oss_parts::Plan;

/// How much slower than a fresh request a run must be to be split.
pub(crate) const SLOW_FACTOR: f64 = 3.0;

/// The smallest tail worth a request of its own: below it, the request's round trip and a
/// connection's slow start outweigh what a split could save.
pub(crate) const MIN_SPLIT: u64 = 1 << 20;

/// The least time a run is watched before its rate is believed.
pub(crate) const MIN_AGE: Duration = Duration::from_millis(250);

/// How long a run is watched before its average rate is judged: at least [`MIN_AGE`], and
/// 12 round trips (a connection's window doubles each round trip from 14 KiB, so reaching a
/// few MiB takes 6 to 8 of them; by 12 the ramp no longer halves the average rate).
pub(crate) fn judge_after(latency: Duration) -> Duration {
    (latency * 12).max(MIN_AGE)
}

/// How long a run is watched before its *recent* rate is judged: at least [`MIN_AGE`], and
/// 9 round trips. The recent rate (over the last [`RECENT_SPAN`] to twice that) leaves the
/// first round trips of slow start behind: by the 9th round trip of a run on a new
/// connection (set-up and first byte included, so the 7th that carries data) a healthy
/// window has moved it at more than half its cap over that span, so [`SLOW_FACTOR`] tells
/// it from a straggler three round trips before its average would. (At 8 a fresh
/// connection's recent rate can still be a third of its cap: a false split, tried.)
pub(crate) fn judge_early(latency: Duration) -> Duration {
    (latency * 9).max(MIN_AGE)
}

/// The least span a recent rate is measured over: long enough that the proxy's or the
/// kernel's pacing, and a worker's pause to write, do not make a healthy run look slow.
pub(crate) const RECENT_SPAN: Duration = Duration::from_millis(100);

/// The least a split must save: two round trips (what the thief's request costs before
/// its first byte, with margin), and 100 ms (below that, rate estimates are noise).
pub(crate) fn min_saving(latency: Duration) -> Duration {
    (latency * 2).max(Duration::from_millis(100))
}

/// What a worker knows of its own connection's pace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pace {
    /// Body bytes per second while streaming.
    pub(crate) rate: f64,
    /// Request to first body byte.
    pub(crate) latency: Duration,
    /// The link's round trip as this download saw it: the shortest wait for a first byte
    /// of any of its requests (a worker's own first request also paid for its
    /// connection's set-up, and would put the judgment off by twelve round trips more).
    pub(crate) rtt: Duration,
}

/// A run in flight as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunView {
    /// The part the owner is writing (or about to write): never split off.
    pub(crate) at: u64,
    /// One past the run's last part.
    pub(crate) end: u64,
    /// Absolute offset of the next byte the owner expects.
    pub(crate) accepted: u64,
    /// Bytes the owner received since the run was handed out.
    pub(crate) received: u64,
    /// How long ago the run was handed out.
    pub(crate) age: Duration,
    /// Whether the part being written may be cut inside (not a suffix run's first part,
    /// not cut already).
    pub(crate) cuttable: bool,
    /// Bytes received over the last `span` (`(span, bytes)`), a span of [`RECENT_SPAN`] or
    /// more that starts after the run was handed out; `None` before there is one.
    pub(crate) recent: Option<(Duration, u64)>,
}

impl RunView {
    /// Its rate (bytes per second) once it can be judged on a link of round trip `rtt`:
    /// the average since it was handed out after [`judge_after`], the recent rate after
    /// [`judge_early`]; the higher of the two when both are known (a run that sped up is
    /// not behind; one that slowed down keeps the average it earned).
    pub(crate) fn rate(&self, rtt: Duration) -> Option<f64> {
        let average = (self.age >= judge_after(rtt) && !self.age.is_zero())
            .then(|| self.received as f64 / self.age.as_secs_f64());
        let recent = self
            .recent
            .filter(|(span, _)| self.age >= judge_early(rtt) && *span >= RECENT_SPAN)
            .map(|(span, bytes)| bytes as f64 / span.as_secs_f64());
        match (average, recent) {
            (Some(a), Some(r)) => Some(a.max(r)),
            (a, r) => a.or(r),
        }
    }

    /// Whether any of it could ever be split off: [`MIN_SPLIT`] bytes after what the owner
    /// accepted (inside its part when that is cuttable, else in the parts after it).
    pub(crate) fn splittable(&self, plan: &Plan) -> bool {
        let from = if self.cuttable {
            self.accepted.saturating_add(CUT_MARGIN)
        } else {
            plan.part(self.at + 1).map_or(u64::MAX, |p| p.start())
        };
        end_byte(plan, self.end).saturating_sub(from) >= MIN_SPLIT
    }
}

/// A split the policy chose: the thief takes bytes `start..` (to the victim's end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Split {
    /// The part of the first byte the thief takes.
    pub(crate) from: u64,
    /// The first byte the thief takes: part `from`'s start, or a byte inside it (the part
    /// the victim is writing: it keeps the prefix).
    pub(crate) start: u64,
    /// Bytes of the parts it takes.
    pub(crate) bytes: u64,
    /// The victim's rate, bytes per second.
    pub(crate) victim_rate: f64,
    /// Bytes the victim had left before the split.
    pub(crate) victim_left: u64,
    /// Estimated finish of the victim's run alone, and after the split.
    pub(crate) before: Duration,
    pub(crate) after: Duration,
}

/// The least distance of a cut inside a part from the victim's position: bytes already on
/// their way to it when the thief's request starts are not taken from it.
pub(crate) const CUT_MARGIN: u64 = 64 << 10;

/// One past the last byte of parts `..end`.
fn end_byte(plan: &Plan, end: u64) -> u64 {
    end.checked_sub(1)
        .and_then(|last| plan.part(last))
        .map_or(0, |p| p.end())
}

/// Bytes of parts `from..end`.
fn tail_bytes(plan: &Plan, from: u64, end: u64) -> u64 {
    let start = plan.part(from).map(|p| p.start());
    let stop = end
        .checked_sub(1)
        .and_then(|last| plan.part(last))
        .map(|p| p.end());
    match (start, stop) {
        (Some(a), Some(b)) if from < end => b - a,
        _ => 0,
    }
}

/// A victim as a thief at some pace judges it.
struct Judged {
    /// The victim's rate and the thief's, bytes per second.
    v: f64,
    w: f64,
    /// The thief's time to first byte, seconds.
    latency: f64,
    /// One past the victim's last byte.
    last_byte: u64,
    /// Bytes the victim still has to fetch.
    left: u64,
    /// Seconds the victim needs for them alone.
    before: f64,
    /// Seconds a split must save ([`min_saving`] of the thief's latency).
    min_saving: f64,
}

/// Whether `victim` is far behind a fresh request at `pace`: `R / v >= SLOW_FACTOR x
/// (L + R / w)`, once its rate is known and something could be split off.
fn far_behind(plan: &Plan, victim: &RunView, pace: Pace) -> Option<Judged> {
    if !victim.splittable(plan) || pace.rate <= 0.0 {
        return None;
    }
    let v = victim.rate(pace.rtt)?.max(1.0);
    let w = pace.rate;
    let latency = pace.latency.as_secs_f64();
    let last_byte = plan.part(victim.end.checked_sub(1)?)?.end();
    let left = last_byte.checked_sub(victim.accepted)?;
    let r = left as f64;
    let before = r / v;
    if before < SLOW_FACTOR * (latency + r / w) {
        return None;
    }
    Some(Judged {
        v,
        w,
        latency,
        last_byte,
        left,
        before,
        min_saving: min_saving(pace.latency).as_secs_f64(),
    })
}

impl Judged {
    /// The split that gives the thief bytes `start..` (of part `from`), if it is worth a
    /// request: at least [`MIN_SPLIT`] bytes, saving at least [`min_saving`].
    fn split(&self, victim: &RunView, from: u64, start: u64) -> Option<Split> {
        if from >= victim.end {
            return None;
        }
        let bytes = self.last_byte.checked_sub(start)?;
        if bytes < MIN_SPLIT {
            return None;
        }
        let kept = (self.left as f64 - bytes as f64).max(0.0);
        let after = (kept / self.v).max(self.latency + bytes as f64 / self.w);
        if self.before - after < self.min_saving {
            return None;
        }
        Some(Split {
            from,
            start,
            bytes,
            victim_rate: self.v,
            victim_left: self.left,
            before: Duration::from_secs_f64(self.before),
            after: Duration::from_secs_f64(after),
        })
    }

    /// The first byte past what reaches the victim before the thief's first byte does. A
    /// victim that has received nothing since it was handed out and stands at the start of
    /// its part (`part_start`: waiting out throttling answers, or on a server that never
    /// sent a byte) is owed nothing: the thief takes its whole run, so no crumb is left for
    /// it to fetch at the end.
    fn margin_past(&self, victim: &RunView, part_start: u64) -> u64 {
        if victim.received == 0 && victim.accepted == part_start {
            return victim.accepted;
        }
        let margin = (self.v * self.latency).max(CUT_MARGIN as f64) as u64;
        victim.accepted.saturating_add(margin)
    }
}

/// Whether (and where) a thief at `pace` should split `victim`; `None` to leave it alone.
/// For the tail: the victim keeps what it can fetch while the thief fetches the rest, so
/// both finish together.
pub(crate) fn plan_split(plan: &Plan, victim: &RunView, pace: Pace) -> Option<Split> {
    let judged = far_behind(plan, victim, pace)?;
    let (from, start) = finish_together(plan, victim, &judged)?;
    judged.split(victim, from, start)
}

/// Where to cut `victim` so that it and a thief starting now finish together: bytes
/// `h = (R - v L) w / (v + w)` from the end, at a part boundary or inside the part the
/// victim is writing (past what reaches it before the thief's first byte). Returns the
/// first part and byte the thief takes.
fn finish_together(plan: &Plan, victim: &RunView, judged: &Judged) -> Option<(u64, u64)> {
    let (v, w, latency) = (judged.v, judged.w, judged.latency);
    let r = judged.left as f64;
    let h = ((r - v * latency) * w / (v + w)).max(0.0);
    let ideal = judged.last_byte.saturating_sub(h as u64);
    let current = plan.part(victim.at)?;
    if victim.cuttable && ideal < current.end() {
        let start = ideal.max(judged.margin_past(victim, current.start()));
        return Some(if start >= current.end() {
            (victim.at + 1, current.end())
        } else {
            (victim.at, start)
        });
    }
    let part = plan.part_size().get() as f64;
    let most = victim.end - victim.at - 1;
    if most == 0 {
        return None;
    }
    let mut parts = ((h / part).round() as u64).clamp(1, most);
    while parts < most && tail_bytes(plan, victim.end - parts, victim.end) < MIN_SPLIT {
        parts += 1;
    }
    let from = victim.end - parts;
    Some((from, plan.part(from)?.start()))
}

/// Whether a worker at `pace` should take over the rest of `victim` while parts are still
/// waiting to be handed out (the same "far behind" test as [`plan_split`]). Unlike at the
/// tail, the victim keeps only what reaches it before the thief's first byte: its worker is
/// then free for fresh parts on a fresh connection (the cut closes the slow one), instead
/// of spending the download's middle on a connection that crawls.
pub(crate) fn plan_evict(plan: &Plan, victim: &RunView, pace: Pace) -> Option<Split> {
    let judged = far_behind(plan, victim, pace)?;
    let current = plan.part(victim.at)?;
    let start = judged.margin_past(victim, current.start());
    let (from, start) = if victim.cuttable && start < current.end() {
        (victim.at, start)
    } else {
        (victim.at + 1, current.end())
    };
    judged.split(victim, from, start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oss_parts::PartSize;

    const MIB: u64 = 1 << 20;

    fn plan_of(size: u64, part: u64) -> Plan {
        Plan::new(size, PartSize::new(part).unwrap()).unwrap()
    }

    /// A run of parts `at..end` of 1 MiB parts, `done` bytes into part `at`, having received
    /// `received` bytes in `age`.
    fn run(at: u64, end: u64, done: u64, received: u64, age_ms: u64) -> RunView {
        RunView {
            at,
            end,
            accepted: at * MIB + done,
            received,
            age: Duration::from_millis(age_ms),
            cuttable: false,
            recent: None,
        }
    }

    fn pace(rate: u64, latency_ms: u64) -> Pace {
        Pace {
            rate: rate as f64,
            latency: Duration::from_millis(latency_ms),
            rtt: Duration::from_millis(latency_ms),
        }
    }

    #[test]
    fn a_straggler_is_split_so_both_finish_together() {
        let plan = plan_of(64 * MIB, MIB);
        // 2 s at 1 MiB/s, 16 parts left (part 10 half done); the thief runs at 12 MiB/s.
        let victim = run(10, 26, MIB / 2, 2 * MIB, 2000);
        let split = plan_split(&plan, &victim, pace(12 * MIB, 80)).unwrap();
        // R = 15.5 MiB; h = (15.5 - 0.08) x 12 / 13 = 14.2 MiB: 14 parts.
        assert_eq!(split.from, 12);
        assert_eq!(split.bytes, 14 * MIB);
        assert_eq!(split.victim_left, 31 * MIB / 2);
        assert!((split.before.as_secs_f64() - 15.5).abs() < 1e-6);
        assert!(split.after.as_secs_f64() < 1.6, "{split:?}");
    }

    #[test]
    fn similar_rates_are_not_split() {
        let plan = plan_of(64 * MIB, MIB);
        // 10 MiB/s against a thief at 12: finishing alone takes less than 3x a fresh request.
        let victim = run(10, 40, 0, 20 * MIB, 2000);
        assert_eq!(plan_split(&plan, &victim, pace(12 * MIB, 80)), None);
        // Even a third of the thief's rate is not "far behind" once the round trip counts.
        let victim = run(10, 40, 0, 8 * MIB, 2000);
        assert_eq!(plan_split(&plan, &victim, pace(12 * MIB, 80)), None);
        // A quarter is.
        let victim = run(10, 40, 0, 6 * MIB, 2000);
        assert!(plan_split(&plan, &victim, pace(12 * MIB, 80)).is_some());
    }

    #[test]
    fn a_young_run_is_not_judged() {
        let plan = plan_of(64 * MIB, MIB);
        // Nothing received yet, but only 0.9 s old on an 80 ms link (12 round trips: 0.96 s).
        let victim = run(10, 40, 0, 0, 900);
        assert_eq!(plan_split(&plan, &victim, pace(12 * MIB, 80)), None);
        // Older, still nothing: stalled, the thief takes every unstarted part.
        let victim = run(10, 40, 0, 0, 1000);
        let split = plan_split(&plan, &victim, pace(12 * MIB, 80)).unwrap();
        assert_eq!((split.from, split.bytes), (11, 29 * MIB));
        // On a short link the floor applies.
        assert_eq!(judge_after(Duration::from_millis(1)), MIN_AGE);
    }

    #[test]
    fn the_part_being_written_and_tiny_tails_stay_with_the_owner() {
        let plan = plan_of(64 * MIB, MIB);
        // One part only, or one unstarted part after it: nothing / exactly that part.
        assert_eq!(
            plan_split(&plan, &run(10, 11, 0, 0, 5000), pace(12 * MIB, 80)),
            None
        );
        let split = plan_split(&plan, &run(10, 12, 0, 0, 5000), pace(12 * MIB, 80)).unwrap();
        assert_eq!((split.from, split.bytes), (11, MIB));
        // Parts smaller than MIN_SPLIT: the tail grows to reach it, or there is no split.
        let small = plan_of(64 * MIB, 256 * 1024);
        let victim = RunView {
            at: 8,
            end: 12,
            accepted: 8 * 256 * 1024,
            received: 0,
            age: Duration::from_secs(5),
            cuttable: false,
            recent: None,
        };
        assert!(!victim.splittable(&small), "3 x 256 KiB < MIN_SPLIT");
        assert_eq!(plan_split(&small, &victim, pace(12 * MIB, 80)), None);
        let victim = RunView { end: 13, ..victim };
        let split = plan_split(&small, &victim, pace(12 * MIB, 80)).unwrap();
        assert_eq!((split.from, split.bytes), (9, MIB));
    }

    #[test]
    fn a_one_part_straggler_is_cut_inside_its_part() {
        let plan = plan_of(64 * MIB, 8 * MIB);
        // Part 3 (24..32 MiB), 1 MiB in after 1 s at 1 MiB/s; the thief runs at 12 MiB/s.
        let victim = RunView {
            cuttable: true,
            ..run(3, 4, 0, MIB, 1000)
        };
        let victim = RunView {
            accepted: 25 * MIB,
            ..victim
        };
        // Whole parts only: nothing to take.
        assert_eq!(
            plan_split(
                &plan,
                &RunView {
                    cuttable: false,
                    ..victim
                },
                pace(12 * MIB, 80)
            ),
            None
        );
        let split = plan_split(&plan, &victim, pace(12 * MIB, 80)).unwrap();
        // R = 7 MiB; h = (7 - 0.08) x 12 / 13 = 6.39 MiB: the cut at 25.61 MiB.
        assert_eq!(split.from, 3);
        let h = (7.0 - 0.08) * 12.0 / 13.0;
        let want = 32 * MIB - (h * MIB as f64) as u64;
        assert!(split.start.abs_diff(want) <= 1, "{split:?}");
        assert_eq!(split.bytes, 32 * MIB - split.start);
        // Never closer to the victim than what reaches it during the thief's first byte.
        let stalled = RunView {
            received: 0,
            age: Duration::from_secs(10),
            ..victim
        };
        let split = plan_split(&plan, &stalled, pace(12 * MIB, 80)).unwrap();
        assert_eq!(split.start, 25 * MIB + CUT_MARGIN);
        // Too close to the part's end for MIN_SPLIT: no cut.
        let late = RunView {
            accepted: 31 * MIB + MIB / 2,
            ..stalled
        };
        assert!(!late.splittable(&plan));
        assert_eq!(plan_split(&plan, &late, pace(12 * MIB, 80)), None);
    }

    #[test]
    fn the_last_part_may_be_short() {
        // 10.5 MiB: part 10 holds half a MiB.
        let plan = plan_of(10 * MIB + MIB / 2, MIB);
        let split = plan_split(&plan, &run(0, 11, 0, 0, 5000), pace(12 * MIB, 80)).unwrap();
        assert_eq!((split.from, split.bytes), (1, 9 * MIB + MIB / 2));
    }

    #[test]
    fn a_split_must_save_time() {
        let plan = plan_of(64 * MIB, MIB);
        // 2 MiB left at 0.5 MiB/s (4 s) against a thief whose first byte takes 2 s: a fresh
        // request would not be 3x faster (3 x (2 + 2/12) > 4).
        let victim = run(10, 12, 0, 15 * MIB, 30_000);
        assert_eq!(plan_split(&plan, &victim, pace(12 * MIB, 2000)), None);
        // At 1/60 MiB/s: 120 s alone; taking part 11 leaves 60 s.
        let victim = run(10, 12, 0, MIB / 2, 30_000);
        let split = plan_split(&plan, &victim, pace(12 * MIB, 1000)).unwrap();
        assert_eq!(split.from, 11);
        assert!(split.after < split.before);
    }

    #[test]
    fn an_evicted_straggler_keeps_only_what_reaches_it_before_the_thief() {
        let plan = plan_of(64 * MIB, 8 * MIB);
        // Part 3 (24..32 MiB), 1 MiB in after 1 s at 1 MiB/s; the thief runs at 12 MiB/s.
        let victim = RunView {
            cuttable: true,
            accepted: 25 * MIB,
            ..run(3, 5, 0, MIB, 1000)
        };
        let split = plan_evict(&plan, &victim, pace(12 * MIB, 80)).unwrap();
        // What arrives during the thief's first byte (1 MiB/s x 80 ms) stays the victim's;
        // the rest of its part and the part after it are the thief's.
        let margin = (MIB as f64 * 0.08) as u64;
        assert_eq!((split.from, split.start), (3, 25 * MIB + margin));
        assert_eq!(split.bytes, 40 * MIB - split.start);
        // At the tail the same victim keeps a share that ends with the thief's.
        let tail = plan_split(&plan, &victim, pace(12 * MIB, 80)).unwrap();
        assert!(tail.start > split.start + MIB / 2, "{tail:?}");
        // A part it may not cut (a suffix run's first): the parts after it.
        let whole = RunView {
            cuttable: false,
            ..victim
        };
        let split = plan_evict(&plan, &whole, pace(12 * MIB, 80)).unwrap();
        assert_eq!((split.from, split.start), (4, 32 * MIB));
        // Similar rates, or too young to judge: left alone.
        let healthy = RunView {
            received: 10 * MIB,
            ..victim
        };
        assert_eq!(plan_evict(&plan, &healthy, pace(12 * MIB, 80)), None);
        let young = RunView {
            age: Duration::from_millis(900),
            ..victim
        };
        assert_eq!(plan_evict(&plan, &young, pace(12 * MIB, 80)), None);
    }

    #[test]
    fn a_recent_rate_judges_a_straggler_three_round_trips_sooner() {
        let plan = plan_of(64 * MIB, 8 * MIB);
        // 750 ms on an 80 ms link: past 9 round trips (720 ms), short of 12 (960 ms).
        let young = RunView {
            cuttable: true,
            accepted: 24 * MIB + 400 * 1024,
            ..run(3, 5, 0, 400 * 1024, 750)
        };
        assert_eq!(plan_evict(&plan, &young, pace(12 * MIB, 80)), None);
        // At 1 MiB/s over its last 150 ms: a straggler, taken now.
        let crawling = RunView {
            recent: Some((Duration::from_millis(150), 150 * 1024)),
            ..young
        };
        let split = plan_evict(&plan, &crawling, pace(12 * MIB, 80)).unwrap();
        assert_eq!(split.from, 3);
        // A healthy connection still in slow start: its average is as low, but over its
        // last 150 ms it moved 6 MiB/s, half the thief's pace. Left alone.
        let ramping = RunView {
            recent: Some((Duration::from_millis(150), 900 * 1024)),
            ..young
        };
        assert_eq!(plan_evict(&plan, &ramping, pace(12 * MIB, 80)), None);
        // A span too short to trust, or a run too young even for its recent rate: alone.
        let blip = RunView {
            recent: Some((Duration::from_millis(50), 50 * 1024)),
            ..young
        };
        assert_eq!(plan_evict(&plan, &blip, pace(12 * MIB, 80)), None);
        let younger = RunView {
            age: Duration::from_millis(700),
            ..crawling
        };
        assert_eq!(plan_evict(&plan, &younger, pace(12 * MIB, 80)), None);
    }

    #[test]
    fn a_run_that_sped_up_is_judged_on_its_recent_rate() {
        let plan = plan_of(64 * MIB, 8 * MIB);
        // 1 MiB in its first 1 s (far behind on average), but 10 MiB/s over its last 200 ms.
        let victim = RunView {
            cuttable: true,
            accepted: 25 * MIB,
            ..run(3, 5, 0, MIB, 1000)
        };
        assert!(plan_evict(&plan, &victim, pace(12 * MIB, 80)).is_some());
        let sped_up = RunView {
            recent: Some((Duration::from_millis(200), 2 * MIB)),
            ..victim
        };
        assert_eq!(plan_evict(&plan, &sped_up, pace(12 * MIB, 80)), None);
        // One that slowed down keeps the average it earned: judged as before.
        let slowed = RunView {
            received: 10 * MIB,
            recent: Some((Duration::from_millis(200), 20 * 1024)),
            ..victim
        };
        assert_eq!(plan_evict(&plan, &slowed, pace(12 * MIB, 80)), None);
    }

    #[test]
    fn runs_are_judged_after_twelve_round_trips_of_the_link_not_of_the_thief() {
        let plan = plan_of(64 * MIB, 8 * MIB);
        let victim = RunView {
            cuttable: true,
            accepted: 25 * MIB,
            ..run(3, 4, 0, MIB, 1000)
        };
        // The thief's only request paid for its connection's set-up: 160 ms to the first
        // byte on an 80 ms link. Twelve of those would be 1.92 s; twelve round trips 0.96 s.
        let cold = Pace {
            latency: Duration::from_millis(160),
            ..pace(12 * MIB, 80)
        };
        assert_eq!(judge_after(cold.rtt), Duration::from_millis(960));
        assert!(plan_evict(&plan, &victim, cold).is_some());
        let slow_link = Pace {
            rtt: Duration::from_millis(160),
            ..cold
        };
        assert_eq!(plan_evict(&plan, &victim, slow_link), None);
    }
}
