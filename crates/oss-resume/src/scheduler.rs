//! The shared scheduler: hands each idle worker a *run* — consecutive missing parts it
//! fetches with one ranged GET.
//!
//! The part stays the unit of the checkpoint, the CRC fold, resume and progress; the run is
//! only the unit of a request, so a small part size (the C SDK's example uses 100 KB) does
//! not mean one request per part. Parts resumed from a checkpoint (in flight when it was
//! saved) come first, each starting at the byte it reached; then every part not done, in
//! order. A run never reaches past a part that is done, resumed or handed out: its request
//! would fetch bytes already on disk or owned by another worker.
//!
//! How long a run is: the worker asks for a number of bytes (its [`RequestSizer`] target,
//! from the rate and latency it sees); the scheduler caps that at an even share of what is
//! left to hand out (`unclaimed / threads`, at least [`TAIL_FLOOR`]), so the last runs are
//! short and the workers finish together instead of one fetching a long run alone.
//!
//! Each run is a [`Claim`] the worker owns: the half-open range of part indices it may
//! write, whose end another worker can lower ([`Claim::split_tail`]) to take the parts the
//! owner has not started. The owner checks the end each time its stream reaches a new part
//! ([`Claim::enter`]), under the claim's lock, so a part is written by exactly one worker.
//! When nothing is left to hand out, an idle worker asks [`Scheduler::steal`] for the end of
//! a run that is far behind (the policy is `tail.rs`'s).
//!
//! Nothing is materialized per part: a cursor walks the plan and skips the parts the
//! starting snapshot had done, so memory is O(threads) whatever the object size.

use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use oss_ckpt::InFlight;
use oss_parts::{DoneSet, Part, Plan};
use tokio::time::Instant;

use crate::tail::{self, Pace, RunView, Split};

/// The smallest share of the unclaimed bytes a run is cut down to near the end (unless the
/// part is bigger): below this, a request's fixed cost outweighs a better-balanced finish.
pub(crate) const TAIL_FLOOR: u64 = 1 << 20;

/// A run to download: parts `claim`'s range, the first starting `done` bytes in.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    /// The first part.
    pub(crate) first: Part,
    /// Bytes of the first part already on disk (resumed from the checkpoint).
    pub(crate) done: u64,
    /// Their CRC-64.
    pub(crate) crc: u64,
    /// The parts the worker owns (from `first`), shared with the scheduler.
    pub(crate) claim: Arc<Claim>,
    /// The run starts with the *suffix* of `first` from byte `done`, cut off another run
    /// that writes the prefix: its bytes are reported only when that part's suffix is
    /// complete (`Event::SuffixDone`), not as the part's progress.
    pub(crate) suffix: bool,
}

/// The part indices a worker owns: `[at, end)`, `at` being the part its stream is in; and
/// how far its stream got since the run was handed out (what the tail policy judges).
#[derive(Debug)]
pub(crate) struct Claim {
    state: Mutex<ClaimState>,
    /// `accepted` when the run was handed out.
    start: u64,
    /// When the run was handed out (tokio's clock, so a paused test clock measures it).
    since: Instant,
    /// The first part that may be cut inside ([`Claim::cut_within`]): not a suffix run's
    /// first part (its prefix is another run's; a cut would leave a middle piece).
    cuttable_from: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClaimState {
    /// The part the owner is writing (or about to write).
    at: u64,
    /// One past the last part the owner may write.
    end: u64,
    /// Absolute offset of the next byte the owner expects.
    accepted: u64,
    /// The owner stops before this byte (`u64::MAX`: at the end of part `end - 1`), set
    /// when another run took the rest of the part the owner is in.
    stop: u64,
    /// `(when, accepted)` marks taken at least [`tail::RECENT_SPAN`] apart as bytes are
    /// admitted, newest second: the older one starts the span a recent rate is measured
    /// over. Both are the hand-out until the stream has run that long.
    marks: [(Instant, u64); 2],
}

impl Claim {
    /// Parts `parts`, the owner's stream starting at byte `start`, handed out at `since`;
    /// `suffix`: the first part's prefix is another run's.
    fn new(parts: Range<u64>, start: u64, since: Instant, suffix: bool) -> Self {
        Self {
            state: Mutex::new(ClaimState {
                at: parts.start,
                end: parts.end,
                accepted: start,
                stop: u64::MAX,
                marks: [(since, start); 2],
            }),
            start,
            since,
            cuttable_from: parts.start + u64::from(suffix),
        }
    }

    /// The state: two integers always consistent with each other, so a lock poisoned by a
    /// panic elsewhere still holds a valid one.
    fn lock(&self) -> MutexGuard<'_, ClaimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One past the last part the owner may write now.
    pub(crate) fn end(&self) -> u64 {
        self.lock().end
    }

    /// The owner's stream reached part `index`: true if it is still the owner's (and from
    /// now on no split can take it), false if a split took it.
    pub(crate) fn enter(&self, index: u64) -> bool {
        let mut s = self.lock();
        if index < s.end {
            s.at = s.at.max(index);
            true
        } else {
            false
        }
    }

    /// The owner's stream, at byte `offset`, received `len` more: how many of them are
    /// still its own (all, unless another run took the rest of the part; see
    /// [`Claim::cut_within`]). They count as accepted from now on, so no cut can fall
    /// before them.
    /// `now` dates them for the run's recent rate.
    pub(crate) fn admit(&self, offset: u64, len: u64, now: Instant) -> u64 {
        let mut s = self.lock();
        let allowed = len.min(s.stop.saturating_sub(offset));
        s.accepted = offset + allowed;
        let [_, newer] = s.marks;
        if now.saturating_duration_since(newer.0) >= tail::RECENT_SPAN {
            s.marks = [newer, (now, s.accepted)];
        }
        allowed
    }

    /// Sets the owner's position (tests stand in for a stream).
    #[cfg(test)]
    fn record(&self, offset: u64) {
        self.lock().accepted = offset;
    }

    /// The byte the owner must stop before, if another run took the rest of its part.
    pub(crate) fn stop(&self) -> Option<u64> {
        Some(self.lock().stop).filter(|&b| b != u64::MAX)
    }

    /// Takes the rest of the part the owner is in from byte `at_byte` (before `part_end`,
    /// that part's end), and every part after it: the owner stops before `at_byte`, the
    /// caller owns the rest. `None` unless the owner's part is still `part` (cuttable: not
    /// a suffix run's first part, not cut before), and `at_byte` lies after every byte the
    /// owner accepted and before the part's end. Returns the parts taken (`part..end`).
    pub(crate) fn cut_within(&self, part: u64, at_byte: u64, part_end: u64) -> Option<Range<u64>> {
        let mut s = self.lock();
        if s.at != part
            || part < self.cuttable_from
            || s.stop != u64::MAX
            || at_byte <= s.accepted
            || at_byte >= part_end
        {
            return None;
        }
        let taken = part..s.end;
        s.end = part + 1;
        s.stop = at_byte;
        Some(taken)
    }

    /// Takes parts `from..end` (the owner's end as it is now): the owner stops before
    /// them, the caller owns them. Only parts the owner has not started can be taken (the
    /// part it is in stays its own, so no part is written by two workers) and the tail is
    /// never empty: `None` unless `at < from < end` under the lock.
    pub(crate) fn split_tail(&self, from: u64) -> Option<Range<u64>> {
        let mut s = self.lock();
        if from <= s.at || from >= s.end {
            return None;
        }
        let tail = from..s.end;
        s.end = from;
        Some(tail)
    }

    /// Takes the whole run from part `part` (which starts at byte `part_start`) when the
    /// owner's stream is in it and has not accepted a byte of it: the owner stops at once
    /// (it owns nothing more, and admits no byte), the caller owns parts `part..end`. `None`
    /// otherwise (a byte accepted, a part cut before, a suffix run's first part).
    pub(crate) fn take_unstarted(&self, part: u64, part_start: u64) -> Option<Range<u64>> {
        let mut s = self.lock();
        if s.at != part
            || part < self.cuttable_from
            || s.stop != u64::MAX
            || s.accepted != part_start
            || part >= s.end
        {
            return None;
        }
        let taken = part..s.end;
        s.end = part;
        s.stop = part_start;
        Some(taken)
    }

    /// The run as the tail policy sees it at `now`.
    fn view(&self, now: Instant) -> RunView {
        let s = *self.lock();
        RunView {
            at: s.at,
            end: s.end,
            accepted: s.accepted,
            received: s.accepted.saturating_sub(self.start),
            age: now.saturating_duration_since(self.since),
            cuttable: s.at >= self.cuttable_from && s.stop == u64::MAX,
            // From the older mark, once it is not the hand-out (the start of a stream is
            // its set-up and slow start: what the average already covers).
            recent: Some(s.marks[0])
                .filter(|(at, _)| *at > self.since)
                .map(|(at, bytes)| {
                    (
                        now.saturating_duration_since(at),
                        s.accepted.saturating_sub(bytes),
                    )
                }),
        }
    }
}

/// What [`Scheduler::steal`] found.
#[derive(Debug)]
pub(crate) enum Steal {
    /// Parts split off a run that was far behind, now this worker's.
    Run(Run, Split),
    /// Nothing worth splitting now, but a run in flight has parts that could be split
    /// later (once its rate is known, or if it slows down).
    Wait,
    /// No run in flight has anything left to split.
    Done,
}

#[derive(Debug)]
pub(crate) struct Scheduler {
    plan: Plan,
    done: DoneSet,
    /// In-flight parts to resume, by decreasing index (popped from the end).
    resume: Vec<InFlight>,
    /// Sorted indices of the resumed parts (skipped by the cursor).
    resumed: Vec<u64>,
    cursor: u64,
    /// Parts ahead of the cursor that resumed runs took (sorted, disjoint).
    claimed_ahead: Vec<Range<u64>>,
    /// Bytes of the parts the cursor has not handed out yet (resumed parts excluded).
    unclaimed: u64,
    threads: u64,
    /// The runs handed out and not yet finished (pruned as their workers drop them).
    claims: Vec<Arc<Claim>>,
}

impl Scheduler {
    pub(crate) fn new(plan: Plan, done: DoneSet, in_flight: &[InFlight], threads: usize) -> Self {
        let mut resume = in_flight.to_vec();
        resume.sort_by_key(|p| std::cmp::Reverse(p.index));
        let mut resumed: Vec<u64> = in_flight.iter().map(|p| p.index).collect();
        resumed.sort_unstable();
        let size = |index: u64| plan.part(index).map_or(0, |p| p.len());
        let done_bytes: u64 = done
            .done_ranges()
            .map(|r| plan.parts_in(r).map(|p| p.len()).sum::<u64>())
            .sum();
        let resumed_bytes: u64 = resumed
            .iter()
            .filter(|&&i| !done.contains(i))
            .map(|&i| size(i))
            .sum();
        let unclaimed = plan
            .object_size()
            .saturating_sub(done_bytes)
            .saturating_sub(resumed_bytes);
        Self {
            plan,
            done,
            resume,
            resumed,
            cursor: 0,
            claimed_ahead: Vec::new(),
            unclaimed,
            threads: u64::try_from(threads).unwrap_or(u64::MAX).max(1),
            claims: Vec::new(),
        }
    }

    /// The next run, of about `target` bytes (at least one part, whole parts only), or
    /// `None` when every part is handed out.
    pub(crate) fn next_run(&mut self, target: u64) -> Option<Run> {
        self.claims.retain(|c| Arc::strong_count(c) > 1);
        while let Some(p) = self.resume.pop() {
            if let Some(part) = self.plan.part(p.index) {
                // The rest of a resumed part, and the untouched parts after it (ahead of
                // the cursor: every resumed part is handed out before the cursor moves).
                let rest = part.len().saturating_sub(p.bytes_done);
                let end = self.extend(p.index + 1, target.saturating_sub(rest));
                if end > p.index + 1 {
                    let at = self.claimed_ahead.partition_point(|r| r.start < end);
                    self.claimed_ahead.insert(at, p.index + 1..end);
                }
                return Some(self.hand_out(part, p.bytes_done, p.crc, end));
            }
        }
        while self.cursor < self.plan.len() {
            let index = self.cursor;
            self.cursor += 1;
            if self.is_taken(index) {
                continue;
            }
            let part = self.plan.part(index)?;
            self.unclaimed = self.unclaimed.saturating_sub(part.len());
            let end = self.extend(index + 1, target.saturating_sub(part.len()));
            self.cursor = end;
            return Some(self.hand_out(part, 0, 0, end));
        }
        None
    }

    /// For a worker that found nothing left to hand out ([`Scheduler::next_run`] said
    /// `None`): splits the run in flight that the tail policy (`tail.rs`) says is furthest
    /// behind a fresh request at `pace` (the worker's own, or, when it has none yet, that
    /// of the fastest run in flight, on a link of round trip `rtt`) and hands the split-off
    /// parts to this worker.
    pub(crate) fn steal(&mut self, pace: Option<Pace>, rtt: Duration, now: Instant) -> Steal {
        let views = self.views(now);
        let pace = pace.or_else(|| {
            let rate = views
                .iter()
                .filter_map(|(_, v)| v.rate(rtt))
                .fold(0.0, f64::max);
            (rate > 0.0).then_some(Pace {
                rate,
                latency: Duration::ZERO,
                rtt,
            })
        });
        if let Some(pace) = pace
            && let Some(taken) = self.take_best(&views, |plan, v| tail::plan_split(plan, v, pace))
        {
            return Steal::Run(taken.0, taken.1);
        }
        if views.iter().any(|(_, v)| v.splittable(&self.plan)) {
            Steal::Wait
        } else {
            Steal::Done
        }
    }

    /// For a worker at `pace` while parts are still waiting to be handed out: takes over
    /// the rest of the run in flight that is furthest behind, if one is far behind
    /// (`tail::plan_evict`): a run stuck on a crawling connection gives its bytes to a
    /// healthy one now, not when everything else is done. `None` when every part is handed
    /// out (the tail is [`Scheduler::steal`]'s) or no run is far behind.
    pub(crate) fn evict(&mut self, pace: Pace, now: Instant) -> Option<(Run, Split)> {
        if self.resume.is_empty() && self.cursor >= self.plan.len() {
            return None;
        }
        let views = self.views(now);
        self.take_best(&views, |plan, v| tail::plan_evict(plan, v, pace))
    }

    /// The runs in flight as the tail policy sees them at `now`.
    fn views(&mut self, now: Instant) -> Vec<(Arc<Claim>, RunView)> {
        self.claims.retain(|c| Arc::strong_count(c) > 1);
        self.claims
            .iter()
            .map(|c| (Arc::clone(c), c.view(now)))
            .collect()
    }

    /// Applies the split `policy` finds saving the most time among `views`, and hands the
    /// split-off parts to the caller.
    fn take_best(
        &mut self,
        views: &[(Arc<Claim>, RunView)],
        policy: impl Fn(&Plan, &RunView) -> Option<Split>,
    ) -> Option<(Run, Split)> {
        let (claim, split) = views
            .iter()
            .filter_map(|(c, v)| policy(&self.plan, v).map(|s| (c, s)))
            .max_by(|a, b| (a.1.before - a.1.after).cmp(&(b.1.before - b.1.after)))?;
        let taken = match self.plan.part(split.from) {
            Some(p) if split.start > p.start() => claim
                .cut_within(p.index(), split.start, p.end())
                .map(|parts| (parts, split.start - p.start())),
            Some(p) => claim
                .split_tail(p.index())
                .or_else(|| claim.take_unstarted(p.index(), p.start()))
                .map(|parts| (parts, 0)),
            None => None,
        }?;
        let run = self.adopt(taken.0, taken.1)?;
        Some((run, split))
    }

    /// Hands out the parts `range` split off another run, the first from byte `from` of
    /// it (a suffix when `from > 0`). They were claimed: nothing to subtract from the
    /// unclaimed bytes.
    fn adopt(&mut self, range: Range<u64>, from: u64) -> Option<Run> {
        let first = self.plan.part(range.start)?;
        Some(self.hand_out_as(first, from, 0, range.end, from > 0))
    }

    fn hand_out(&mut self, first: Part, done: u64, crc: u64, end: u64) -> Run {
        self.hand_out_as(first, done, crc, end, false)
    }

    fn hand_out_as(&mut self, first: Part, done: u64, crc: u64, end: u64, suffix: bool) -> Run {
        let claim = Arc::new(Claim::new(
            first.index()..end,
            first.start() + done,
            Instant::now(),
            suffix,
        ));
        self.claims.push(Arc::clone(&claim));
        Run {
            first,
            done,
            crc,
            claim,
            suffix,
        }
    }

    /// Whether part `index` must not be in a new run: done, resumed (its bytes so far are
    /// on disk; the resumed run starts there), or taken by a resumed run.
    fn is_taken(&self, index: u64) -> bool {
        self.done.contains(index)
            || self.resumed.binary_search(&index).is_ok()
            || self
                .claimed_ahead
                .get(self.claimed_ahead.partition_point(|r| r.end <= index))
                .is_some_and(|r| r.contains(&index))
    }

    /// Extends a run from part `from` by untouched parts worth up to `want` bytes (capped
    /// at an even share of what is unclaimed); returns one past the run's last part. The
    /// caller records them as taken (by moving the cursor, or in `claimed_ahead`).
    fn extend(&mut self, from: u64, want: u64) -> u64 {
        let share = (self.unclaimed / self.threads).max(TAIL_FLOOR);
        let mut budget = want.min(share);
        let mut end = from;
        // Parts behind the cursor were handed out (or skipped as taken).
        while end >= self.cursor && end < self.plan.len() && !self.is_taken(end) {
            let Some(part) = self.plan.part(end) else {
                break;
            };
            // Whole parts only, and a run ends at the part that reaches the target.
            if budget < part.len().div_ceil(2) {
                break;
            }
            budget = budget.saturating_sub(part.len());
            self.unclaimed = self.unclaimed.saturating_sub(part.len());
            end += 1;
        }
        end
    }
}

/// How many bytes a worker asks for per request, from what its last requests showed: about
/// [`RequestSizer::TARGET_TIME`] of transfer at the rate it saw (or ten times the time to
/// the first byte, on a link where that is longer), within
/// [`RequestSizer::MIN`]..=[`RequestSizer::MAX`]. A request's fixed cost — a round trip to
/// the first byte on a real link, the server's and the client's work per request on
/// loopback — is then a small fraction of its time, whatever the part size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSizer {
    /// Body bytes per second, smoothed.
    rate: Option<f64>,
    /// Request to first body byte, smoothed.
    latency: Option<Duration>,
    /// The shortest request to first body byte seen: the round trip of a warm connection
    /// (a first request also pays for the connection's set-up).
    min_latency: Option<Duration>,
}

impl RequestSizer {
    /// The smallest request worth sizing for (and the first request's size).
    pub(crate) const MIN: u64 = 4 << 20;
    /// The largest: a resume re-fetches nothing more for it (progress inside a part counts),
    /// but a request this long keeps its connection's share of the tail.
    pub(crate) const MAX: u64 = 64 << 20;
    /// The transfer time a request aims at.
    pub(crate) const TARGET_TIME: Duration = Duration::from_millis(100);

    pub(crate) fn new() -> Self {
        Self {
            rate: None,
            latency: None,
            min_latency: None,
        }
    }

    /// Bytes to ask for next.
    pub(crate) fn target(&self) -> u64 {
        let Some(rate) = self.rate else {
            return Self::MIN;
        };
        let time = self
            .latency
            .map_or(Self::TARGET_TIME, |l| (l * 10).max(Self::TARGET_TIME));
        let bytes = rate * time.as_secs_f64();
        (bytes as u64).clamp(Self::MIN, Self::MAX)
    }

    /// The pace this worker's requests showed: streaming rate and the shortest time to
    /// first byte (what its next request on a warm connection costs), with the download's
    /// round trip `rtt`; `None` before a request long enough to measure the rate.
    pub(crate) fn pace(&self, rtt: Duration) -> Option<Pace> {
        Some(Pace {
            rate: self.rate?,
            latency: self.min_latency.unwrap_or_default(),
            rtt,
        })
    }

    /// A request delivered `bytes` in `streaming` after a first byte `latency` after it was
    /// sent. Short requests (a run's last bytes after a retry) say little about the rate and
    /// count only for the latency.
    pub(crate) fn observe(&mut self, latency: Duration, bytes: u64, streaming: Duration) {
        self.latency = Some(match self.latency {
            Some(old) => (old * 3 + latency) / 4,
            None => latency,
        });
        self.min_latency = Some(self.min_latency.map_or(latency, |m| m.min(latency)));
        if bytes < Self::MIN / 4 || streaming.is_zero() {
            return;
        }
        let rate = bytes as f64 / streaming.as_secs_f64();
        self.rate = Some(match self.rate {
            Some(old) => old * 0.5 + rate * 0.5,
            None => rate,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oss_parts::PartSize;

    fn plan(size: u64, part: u64) -> Plan {
        Plan::new(size, PartSize::new(part).unwrap()).unwrap()
    }

    /// (first part, done bytes, end) of each run, taking `target` bytes each time.
    fn runs(s: &mut Scheduler, target: u64) -> Vec<(u64, u64, u64)> {
        let mut out = Vec::new();
        let mut keep = Vec::new();
        while let Some(r) = s.next_run(target) {
            out.push((r.first.index(), r.done, r.claim.end()));
            keep.push(r); // claims stay live, as a worker holds them
        }
        out
    }

    #[test]
    fn resumed_first_then_missing_in_order_one_part_each() {
        let plan = plan(100, 10);
        let mut done = DoneSet::new(&plan);
        done.insert(0).unwrap();
        done.insert(5).unwrap();
        let inflight = [
            InFlight {
                index: 7,
                bytes_done: 3,
                crc: 9,
            },
            InFlight {
                index: 2,
                bytes_done: 1,
                crc: 4,
            },
        ];
        let mut s = Scheduler::new(plan, done, &inflight, 1);
        // A target of one part: every run is one part, the old order.
        let got = runs(&mut s, 1);
        assert_eq!(
            got,
            [
                (2, 1, 3),
                (7, 3, 8),
                (1, 0, 2),
                (3, 0, 4),
                (4, 0, 5),
                (6, 0, 7),
                (8, 0, 9),
                (9, 0, 10)
            ]
        );
    }

    #[test]
    fn runs_stop_at_done_resumed_and_taken_parts() {
        let plan = plan(200, 10); // 20 parts
        let mut done = DoneSet::new(&plan);
        for i in [4, 5, 12] {
            done.insert(i).unwrap();
        }
        let inflight = [InFlight {
            index: 9,
            bytes_done: 2,
            crc: 1,
        }];
        let mut s = Scheduler::new(plan, done, &inflight, 1);
        // Large targets: runs are cut only by done, resumed or taken parts (the even share
        // is at least TAIL_FLOOR, far above this object).
        let got = runs(&mut s, 1 << 30);
        assert_eq!(got, [(9, 2, 12), (0, 0, 4), (6, 0, 9), (13, 0, 20)]);
    }

    #[test]
    fn every_missing_part_is_in_exactly_one_run() {
        let plan = plan(10_000, 7); // 1429 parts, the last 4 bytes
        let mut done = DoneSet::new(&plan);
        for i in (0..plan.len()).filter(|i| i % 13 == 0 || i % 17 < 3) {
            done.insert(i).unwrap();
        }
        let inflight = [InFlight {
            index: 100,
            bytes_done: 5,
            crc: 0,
        }];
        for target in [1, 7, 50, 700, 5000] {
            let mut s = Scheduler::new(plan, done.clone(), &inflight, 3);
            let mut seen = vec![0u32; plan.len() as usize];
            for (first, _, end) in runs(&mut s, target) {
                for i in first..end {
                    seen[i as usize] += 1;
                }
            }
            for (i, n) in seen.iter().enumerate() {
                let want = u32::from(!done.contains(i as u64));
                assert_eq!(*n, want, "part {i} at target {target}");
            }
        }
    }

    #[test]
    fn the_tail_is_shared_out_evenly() {
        // 64 MiB in 100 KB parts, 4 threads, a 64 MiB target: runs shrink to an even share
        // of what is left, never below TAIL_FLOOR (or one part).
        let plan = plan(64 << 20, 100_000);
        let mut s = Scheduler::new(plan, DoneSet::new(&plan), &[], 4);
        let got = runs(&mut s, 64 << 20);
        let bytes: Vec<u64> = got
            .iter()
            .map(|&(a, _, b)| plan.parts_in(a..b).map(|p| p.len()).sum())
            .collect();
        assert!(bytes[0] <= (16 << 20) + 200_000, "{bytes:?}");
        assert!(
            bytes.windows(2).all(|w| w[1] <= w[0] + 100_000),
            "{bytes:?}"
        );
        let last = bytes.iter().rev().skip(1).take(3);
        assert!(
            last.into_iter().all(|&b| b <= TAIL_FLOOR + 100_000),
            "{bytes:?}"
        );
        assert_eq!(bytes.iter().sum::<u64>(), 64 << 20);
    }

    #[test]
    fn a_split_takes_unstarted_parts_only() {
        let claim = Claim::new(10..20, 0, Instant::now(), false);
        assert!(claim.enter(10));
        assert_eq!(claim.split_tail(10), None, "the part being written stays");
        assert_eq!(claim.split_tail(20), None, "an empty tail");
        assert_eq!(claim.split_tail(16), Some(16..20));
        assert_eq!(claim.end(), 16);
        assert!(claim.enter(15));
        assert!(!claim.enter(16), "a split part is not the owner's any more");
        assert_eq!(claim.split_tail(15), None, "the owner is in part 15");
        assert_eq!(claim.split_tail(17), None, "past the lowered end");
        // A run whose stream has not started keeps its first part.
        let claim = Claim::new(0..3, 0, Instant::now(), false);
        assert_eq!(claim.split_tail(0), None);
        assert_eq!(claim.split_tail(1), Some(1..3));
        assert!(claim.enter(0));
        assert!(!claim.enter(1));
    }

    #[test]
    fn a_claim_measures_its_recent_rate_from_marks_a_span_apart() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let claim = Claim::new(0..4, 0, t0, false);
        // Nothing yet, and nothing while the older mark is still the hand-out.
        assert_eq!(claim.view(t0 + ms(50)).recent, None);
        assert_eq!(claim.admit(0, 1000, t0 + ms(60)), 1000);
        assert_eq!(claim.admit(1000, 1000, t0 + ms(120)), 1000);
        assert_eq!(claim.view(t0 + ms(150)).recent, None);
        // A second mark a span after the first: the span starts at the first (120 ms).
        assert_eq!(claim.admit(2000, 3000, t0 + ms(230)), 3000);
        assert_eq!(claim.admit(5000, 1000, t0 + ms(300)), 1000);
        assert_eq!(claim.view(t0 + ms(320)).recent, Some((ms(200), 4000)));
        // Marks move on as bytes keep coming; the average still counts from the hand-out.
        assert_eq!(claim.admit(6000, 500, t0 + ms(340)), 500);
        let view = claim.view(t0 + ms(400));
        assert_eq!(view.recent, Some((ms(170), 1500)));
        assert_eq!((view.received, view.age), (6500, ms(400)));
    }

    const MIB: u64 = 1 << 20;

    /// The round trip of the links these tests play.
    const RTT: Duration = Duration::from_millis(80);

    fn pace(rate: u64) -> Option<Pace> {
        Some(Pace {
            rate: rate as f64,
            latency: RTT,
            rtt: RTT,
        })
    }

    fn is_run(steal: Steal) -> (Run, Split) {
        match steal {
            Steal::Run(run, split) => (run, split),
            other => panic!("no split: {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn steal_splits_the_run_furthest_behind_at_a_part_boundary() {
        let plan = plan(64 * MIB, MIB);
        let mut s = Scheduler::new(plan, DoneSet::new(&plan), &[], 1);
        let a = s.next_run(32 * MIB).unwrap();
        let b = s.next_run(32 * MIB).unwrap();
        assert_eq!(
            (a.claim.end(), b.first.index(), b.claim.end()),
            (32, 32, 64)
        );
        assert!(s.next_run(MIB).is_none());
        tokio::time::advance(Duration::from_secs(2)).await;
        let now = Instant::now();
        // a: 24 MiB in 2 s (12 MiB/s), in part 24; b: 2 MiB (1 MiB/s), at part 34's start.
        assert!(a.claim.enter(24));
        a.claim.record(24 * MIB + 1);
        assert!(b.claim.enter(34));
        b.claim.record(34 * MIB);
        // b has 30 MiB left: 28 parts go to a fresh connection at 12 MiB/s.
        let (c, split) = is_run(s.steal(pace(12 * MIB), RTT, now));
        assert_eq!((split.from, split.bytes), (36, 28 * MIB));
        assert_eq!((c.first.index(), c.done, c.claim.end()), (36, 0, 64));
        assert_eq!(b.claim.end(), 36);
        // b is still far behind with 2 MiB: the cut falls inside part 34, which b is
        // writing; it keeps the prefix, d takes the suffix and part 35. a is never split.
        let (d, split) = is_run(s.steal(pace(12 * MIB), RTT, now));
        let h = (2.0 - 0.08) * 12.0 / 13.0;
        let cut = 36 * MIB - (h * MIB as f64) as u64;
        assert_eq!((split.from, split.start), (34, cut));
        assert!(d.suffix);
        assert_eq!(
            (d.first.index(), d.done, d.claim.end()),
            (34, cut - 34 * MIB, 36)
        );
        assert_eq!((b.claim.end(), b.claim.stop()), (35, Some(cut)));
        // b stops at the cut: a chunk across it is admitted up to it only.
        assert_eq!(b.claim.admit(cut - 10, 100, Instant::now()), 10);
        // A part cut once, or a suffix run's first part, is not cut again.
        assert_eq!(b.claim.cut_within(34, cut - 5, 35 * MIB), None);
        assert_eq!(d.claim.cut_within(34, cut + MIB / 2, 35 * MIB), None);
        // a could be split later (c and d are too young to judge).
        assert!(matches!(s.steal(pace(12 * MIB), RTT, now), Steal::Wait));
        drop((a, c, d));
        assert!(matches!(s.steal(pace(12 * MIB), RTT, now), Steal::Done));
        drop(b);
        assert!(matches!(s.steal(None, RTT, now), Steal::Done));
    }

    #[tokio::test(start_paused = true)]
    async fn evict_takes_a_straggler_s_rest_only_while_parts_wait() {
        let plan = plan(64 * MIB, 8 * MIB);
        let mut s = Scheduler::new(plan, DoneSet::new(&plan), &[], 8);
        let a = s.next_run(8 * MIB).unwrap();
        let b = s.next_run(8 * MIB).unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;
        let now = Instant::now();
        // a: 7 MiB in 1 s; b: 1 MiB (1 MiB/s), far behind.
        a.claim.record(7 * MIB);
        b.claim.record(9 * MIB);
        let (c, split) = s.evict(pace(12 * MIB).unwrap(), now).unwrap();
        let margin = (MIB as f64 * 0.08) as u64;
        assert_eq!((split.from, split.start), (1, 9 * MIB + margin));
        assert!(c.suffix);
        assert_eq!(
            (c.first.index(), c.done, c.claim.end()),
            (1, MIB + margin, 2)
        );
        assert_eq!(b.claim.stop(), Some(9 * MIB + margin));
        // Nothing else is far behind; the next parts are handed out as usual.
        assert!(s.evict(pace(12 * MIB).unwrap(), now).is_none());
        let e = s.next_run(8 * MIB).unwrap();
        assert_eq!(e.first.index(), 2);
        // A run that has received nothing at all (waiting out 503s) is taken whole: no
        // crumb is left for its worker to fetch later, and it admits no byte from now on.
        tokio::time::advance(Duration::from_secs(1)).await;
        let now = Instant::now();
        a.claim.record(8 * MIB - 1);
        let (f, split) = s.evict(pace(12 * MIB).unwrap(), now).unwrap();
        assert_eq!(
            (split.from, split.start, split.bytes),
            (2, 16 * MIB, 8 * MIB)
        );
        assert!(!f.suffix);
        assert_eq!((f.first.index(), f.done, f.claim.end()), (2, 0, 3));
        assert_eq!(e.claim.end(), 2);
        assert_eq!(e.claim.admit(16 * MIB, 100, Instant::now()), 0);
        assert!(!e.claim.enter(2));
        drop((e, f));
        // Once every part is handed out, the tail is steal's, not evict's.
        let rest: Vec<Run> = std::iter::from_fn(|| s.next_run(64 * MIB)).collect();
        assert!(!rest.is_empty() && s.next_run(MIB).is_none());
        a.claim.record(7 * MIB + 1);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(s.evict(pace(12 * MIB).unwrap(), Instant::now()).is_none());
        drop((a, b, c, rest));
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_without_a_rate_uses_the_fastest_run_s() {
        let plan = plan(64 * MIB, MIB);
        let mut s = Scheduler::new(plan, DoneSet::new(&plan), &[], 1);
        let a = s.next_run(32 * MIB).unwrap();
        let b = s.next_run(32 * MIB).unwrap();
        tokio::time::advance(Duration::from_secs(2)).await;
        let now = Instant::now();
        a.claim.record(24 * MIB);
        assert!(b.claim.enter(33));
        b.claim.record(34 * MIB);
        // b moves at 1 MiB/s, a at 12 MiB/s: a worker with no rate of its own splits b.
        let (c, split) = is_run(s.steal(None, RTT, now));
        assert_eq!(c.claim.end(), 64);
        assert!(split.from > 33 && (split.victim_rate - MIB as f64).abs() < 1.0);
        // Every run the same pace (here a and b at 1 MiB/s): nothing to split.
        let mut s = Scheduler::new(plan, DoneSet::new(&plan), &[], 1);
        let a = s.next_run(32 * MIB).unwrap();
        let b = s.next_run(32 * MIB).unwrap();
        tokio::time::advance(Duration::from_secs(2)).await;
        let now = Instant::now();
        a.claim.record(2 * MIB);
        b.claim.record(34 * MIB);
        assert!(matches!(s.steal(None, RTT, now), Steal::Wait));
        assert!(matches!(s.steal(pace(MIB), RTT, now), Steal::Wait));
    }

    #[test]
    fn splits_keep_every_missing_part_in_exactly_one_run() {
        let plan = plan(100 * MIB, MIB / 2); // 200 parts
        let mut done = DoneSet::new(&plan);
        for i in (0..plan.len()).filter(|i| i % 11 == 0) {
            done.insert(i).unwrap();
        }
        let inflight = [InFlight {
            index: 7,
            bytes_done: 1000,
            crc: 0,
        }];
        let mut s = Scheduler::new(plan, done.clone(), &inflight, 3);
        let mut runs = Vec::new();
        while let Some(r) = s.next_run(8 * MIB) {
            runs.push(r);
        }
        // Stall every run a little way in, then let idle workers split until nothing is left.
        let mut now = Instant::now();
        let mut splits = 0;
        for round in 0..50u64 {
            for r in &runs {
                let at = r.first.index() + (round % 3).min(r.claim.end() - r.first.index() - 1);
                if r.claim.enter(at) {
                    r.claim.record(plan.part(at).unwrap().start());
                }
            }
            now += Duration::from_secs(1);
            match s.steal(pace(12 * MIB), RTT, now) {
                Steal::Run(run, _) => {
                    splits += 1;
                    runs.push(run);
                }
                Steal::Wait | Steal::Done => {}
            }
        }
        assert!(splits > 10, "{splits}");
        // Each missing byte in exactly one run: the runs' byte ranges (from where each
        // starts to its end or cut) are disjoint and cover what was missing.
        let mut got: Vec<(u64, u64)> = runs
            .iter()
            .map(|r| {
                let end = plan.part(r.claim.end() - 1).unwrap().end();
                let end = r.claim.stop().map_or(end, |stop| stop.min(end));
                (r.first.start() + r.done, end)
            })
            .collect();
        got.sort_unstable();
        assert!(runs.iter().any(|r| r.suffix), "no cut inside a part");
        let mut want: Vec<(u64, u64)> = (0..plan.len())
            .filter(|&i| !done.contains(i))
            .map(|i| {
                let p = plan.part(i).unwrap();
                (p.start() + if i == 7 { 1000 } else { 0 }, p.end())
            })
            .collect();
        let merge = |v: &mut Vec<(u64, u64)>| {
            let mut out: Vec<(u64, u64)> = Vec::new();
            for &(a, b) in v.iter() {
                match out.last_mut() {
                    Some(last) if last.1 == a => last.1 = b,
                    Some(last) => {
                        assert!(last.1 < a, "runs overlap at {a}");
                        out.push((a, b));
                    }
                    None => out.push((a, b)),
                }
            }
            *v = out;
        };
        merge(&mut got);
        merge(&mut want);
        assert_eq!(got, want);
    }

    #[test]
    fn request_size_follows_rate_and_latency() {
        let mut sizer = RequestSizer::new();
        assert_eq!(sizer.target(), RequestSizer::MIN);
        // 200 MB/s on loopback: 100 ms is 20 MB.
        sizer.observe(
            Duration::from_micros(300),
            20_000_000,
            Duration::from_millis(100),
        );
        assert_eq!(sizer.target(), 20_000_000);
        // A 50 ms first byte at 10 MB/s: ten times the latency, 5 MB.
        let mut far = RequestSizer::new();
        far.observe(
            Duration::from_millis(50),
            2_000_000,
            Duration::from_millis(200),
        );
        assert_eq!(far.target(), 5_000_000);
        // Capped both ways.
        let mut fast = RequestSizer::new();
        fast.observe(Duration::ZERO, 1 << 30, Duration::from_millis(100));
        assert_eq!(fast.target(), RequestSizer::MAX);
        let mut slow = RequestSizer::new();
        slow.observe(Duration::ZERO, 4 << 20, Duration::from_secs(100));
        assert_eq!(slow.target(), RequestSizer::MIN);
    }
}
