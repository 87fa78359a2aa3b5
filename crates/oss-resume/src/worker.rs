//! A worker: takes the next run of parts from the scheduler, streams it (one ranged GET)
//! into the temp file through a bounded, coalescing sink whose positional writes run off the
//! network task, retries from the exact byte it reached, and reports per part what reached
//! the disk. Before a new part, a worker that knows its own pace takes over the rest of a run
//! far behind (`Scheduler::evict`). When nothing is left to hand out it stays for the tail:
//! it takes the end of a run that is far behind (`Scheduler::steal`), or looks again a little
//! later while a run in flight still has parts that could be split.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use oss_crc::Crc64;
use oss_http::{
    ByteSink, GetRange, JitterRng, ObjectPin, PartRetry, RequestHeaders, RetryDecision,
    RetryPolicy, RetryReason, ThrottlePolicy,
};
use oss_parts::{ByteRange, Part, Plan};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::PartRef;
use crate::failpoint;
use crate::ratelimit::TokenBucket;
use crate::scheduler::{Claim, RequestSizer, Run, Scheduler, Steal};
use crate::tail::Split;

/// What a worker tells the aggregator.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    /// `written` bytes from the part's start are on disk, with CRC-64 `crc`.
    Written { index: u64, written: u64, crc: u64 },
    /// The whole part is on disk with CRC-64 `crc`.
    PartDone { index: u64, crc: u64 },
    /// The part's bytes from `from` to its end are on disk, with CRC-64 `crc` (of those
    /// bytes only): the suffix a tail split cut off the run writing its prefix. The part is
    /// done once that run's `Written` reaches `from`; until then the checkpoint records the
    /// prefix only, so a crash re-fetches the suffix.
    SuffixDone { index: u64, from: u64, crc: u64 },
}

/// Why a worker stopped early.
#[derive(Debug)]
pub(crate) enum PartFailure {
    /// The download's token fired (the caller's, or another worker's fatal error).
    Cancelled,
    /// The object changed (412 on If-Match, another ETag or version).
    Changed {
        part: PartRef,
        source: oss_http::Error,
    },
    /// The object is archived.
    Archived {
        code: String,
        request_id: Option<String>,
    },
    /// A permanent remote error, or the retry budget ran out.
    Remote {
        part: PartRef,
        attempts: u32,
        source: oss_http::Error,
    },
    /// Writing the temp file failed.
    Local { part: PartRef, source: io::Error },
}

/// Everything the workers share.
pub(crate) struct Ctx {
    pub(crate) http: oss_http::Client,
    /// The download's own headers (on every part GET, over the shared pool).
    pub(crate) headers: Arc<RequestHeaders>,
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) pin: ObjectPin,
    pub(crate) file: Arc<File>,
    pub(crate) plan: Plan,
    /// The object's offset of the plan's byte 0: 0, or the first byte of the byte window a
    /// ranged download covers (its plan, parts and temp file are the window's).
    pub(crate) base: u64,
    /// The bytes the plan covers (the mid-part failpoint fires half way through them).
    pub(crate) object_size: u64,
    pub(crate) scheduler: Mutex<Scheduler>,
    pub(crate) cancel: CancellationToken,
    pub(crate) limiter: Option<Arc<TokenBucket>>,
    pub(crate) retry: RetryPolicy,
    /// Retry policy for OSS's throttling answers (503 throttling codes, 429).
    pub(crate) throttle: ThrottlePolicy,
    /// The most bytes a request asks for (`None`: as the sizer says).
    pub(crate) max_request: Option<u64>,
    /// Bytes per positional write (the coalescing target).
    pub(crate) block: usize,
    /// A smaller batch is written once it is this old (and no write is in flight).
    pub(crate) flush_age: Duration,
    /// Part requests retried (shared with the aggregator, which reports it as progress).
    pub(crate) retries: Arc<AtomicU64>,
    /// Body bytes accepted from the network in this run.
    pub(crate) received: AtomicU64,
    /// Ranged GETs sent (retries included).
    pub(crate) requests: AtomicU64,
    /// Bytes written to the temp file in this run, plus what was on disk at the start
    /// (for the mid-part failpoint).
    pub(crate) on_disk: AtomicU64,
    /// Bytes written in this run (for ENOSPC injection).
    pub(crate) written_run: AtomicU64,
    pub(crate) enospc_after: Option<u64>,
    pub(crate) mid_part_fired: AtomicBool,
    /// Throttling answers (503 throttling codes, 429) received, for the adaptive count.
    pub(crate) throttled: AtomicU64,
    /// Workers running now.
    pub(crate) running: AtomicUsize,
    /// Workers allowed to run: one above it leaves before claiming its next run (the
    /// adaptive count shrinking). Fixed counts never lower it.
    pub(crate) allowed: AtomicUsize,
    /// Idle workers split runs that are far behind (`Download::tail_splitting`).
    pub(crate) tail_split: bool,
    /// Runs split so far.
    pub(crate) tail_splits: AtomicU64,
    /// The shortest wait for a first byte of any request so far, in nanoseconds
    /// (`u64::MAX` before the first): the link's round trip, as the tail policy needs it.
    pub(crate) rtt_nanos: AtomicU64,
    /// Wakes workers waiting at the tail or standing aside: a run ended, or a worker left.
    /// Without it a waiter sees the change only at its next poll, and the download ends up
    /// to [`STEAL_POLL`] after its last byte (the join waits for every worker).
    pub(crate) changed: tokio::sync::Notify,
    /// How often an idle worker at the tail looks again unwoken ([`STEAL_POLL`]).
    pub(crate) steal_poll: Duration,
}

impl Ctx {
    /// A request's first byte came `latency` after it was sent.
    fn saw_first_byte(&self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX - 1);
        self.rtt_nanos.fetch_min(nanos, Ordering::Relaxed);
    }

    /// The link's round trip as this download saw it (zero before any first byte: no
    /// run has a rate to judge then anyway).
    fn rtt(&self) -> Duration {
        match self.rtt_nanos.load(Ordering::Relaxed) {
            u64::MAX => Duration::ZERO,
            nanos => Duration::from_nanos(nanos),
        }
    }

    /// Whether this worker should leave because the count shrank; if so, it is no longer
    /// counted as running.
    fn leave_if_surplus(&self) -> bool {
        let allowed = self.allowed.load(Ordering::Relaxed);
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |running| {
                (running > allowed).then(|| running - 1)
            })
            .is_ok()
    }

    /// Waits until the running workers are fewer than allowed, then counts this one as
    /// running again. Never waits forever: when every worker is standing aside, none is
    /// running and the first to look rejoins.
    async fn rejoin(&self) {
        loop {
            // Registered before the check, so a worker leaving in between still wakes it.
            let changed = self.changed.notified();
            let allowed = self.allowed.load(Ordering::Relaxed);
            let joined =
                self.running
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |running| {
                        (running < allowed).then_some(running + 1)
                    });
            if joined.is_ok() {
                return;
            }
            // The poll covers the controller raising the allowed count.
            tokio::select! {
                () = changed => {}
                () = tokio::time::sleep(REJOIN_POLL) => {}
            }
        }
    }
}

/// How often a worker standing aside (see [`Ctx::rejoin`]) looks for room.
const REJOIN_POLL: Duration = Duration::from_millis(50);

/// How often an idle worker at the tail looks again for a run to split, when nothing woke
/// it: a run in flight grows old enough to be judged without any event.
pub(crate) const STEAL_POLL: Duration = Duration::from_millis(100);

/// What an idle worker does next.
enum Next {
    Run(Run),
    /// Look for a run to split again when a run ends, a worker leaves, or after
    /// [`Ctx::steal_poll`].
    Wait,
    Done,
}

/// Runs one worker until the scheduler is empty (and, with tail splitting, no run in flight
/// has parts left to split), the token fires, or a part fails.
pub(crate) async fn run_worker(ctx: Arc<Ctx>, events: Sender<Event>) -> Result<(), PartFailure> {
    let mut rng = JitterRng::from_entropy();
    let mut sizer = RequestSizer::new();
    loop {
        if ctx.cancel.is_cancelled() {
            return Err(PartFailure::Cancelled);
        }
        if ctx.leave_if_surplus() {
            ctx.changed.notify_waiters();
            return Ok(());
        }
        let target = ctx
            .max_request
            .map_or(sizer.target(), |max| sizer.target().min(max));
        // Registered before the scheduler is read, so a run ending after this look still
        // wakes a worker that decides to wait.
        let changed = ctx.changed.notified();
        let next = match ctx.scheduler.lock() {
            Ok(mut s) => match evict(&ctx, &mut s, &sizer) {
                Some(run) => Next::Run(run),
                None => match s.next_run(target) {
                    Some(run) => Next::Run(run),
                    None if ctx.tail_split => steal(&ctx, &mut s, &sizer),
                    None => Next::Done,
                },
            },
            Err(_) => return Err(PartFailure::Cancelled),
        };
        match next {
            Next::Run(run) => {
                let ended = download_run(&ctx, &events, run, &mut rng, &mut sizer).await;
                // Waiters look again now: the run may have been the last, or its end may
                // leave another far behind.
                ctx.changed.notify_waiters();
                ended?;
                // The connection goes back to the pool from a task of its own once its
                // response is read to the end; a request sent before that task runs would
                // open a new one.
                tokio::task::yield_now().await;
            }
            Next::Wait => {
                tokio::select! {
                    biased;
                    () = ctx.cancel.cancelled() => return Err(PartFailure::Cancelled),
                    () = changed => {}
                    () = tokio::time::sleep(ctx.steal_poll) => {}
                }
            }
            Next::Done => {
                // No longer running: a worker standing aside may take its place.
                ctx.running.fetch_sub(1, Ordering::AcqRel);
                ctx.changed.notify_waiters();
                return Ok(());
            }
        }
    }
}

/// Asks the scheduler for the end of a run that is far behind; logs (at info: `-v`) and
/// counts a split.
fn steal(ctx: &Ctx, scheduler: &mut Scheduler, sizer: &RequestSizer) -> Next {
    let rtt = ctx.rtt();
    match scheduler.steal(sizer.pace(rtt), rtt, tokio::time::Instant::now()) {
        Steal::Run(run, split) => Next::Run(took(ctx, "tail split", run, &split)),
        Steal::Wait => Next::Wait,
        Steal::Done => Next::Done,
    }
}

/// With tail splitting on, and once this worker knows its own pace: the rest of a run that
/// is far behind, taken before any new part (see `Scheduler::evict`).
fn evict(ctx: &Ctx, scheduler: &mut Scheduler, sizer: &RequestSizer) -> Option<Run> {
    if !ctx.tail_split {
        return None;
    }
    let pace = sizer.pace(ctx.rtt())?;
    let (run, split) = scheduler.evict(pace, tokio::time::Instant::now())?;
    Some(took(ctx, "straggler", run, &split))
}

/// Counts and logs (at info: `-v`) bytes taken from a run far behind.
fn took(ctx: &Ctx, what: &str, run: Run, split: &Split) -> Run {
    ctx.tail_splits.fetch_add(1, Ordering::Relaxed);
    tracing::info!(
        "{what}: bytes {}.. (parts {}..{}, {} B) taken from a run at {:.0} B/s with {} B \
         left (about {:.1?} alone, {:.1?} split)",
        split.start,
        split.from,
        run.claim.end(),
        split.bytes,
        split.victim_rate,
        split.victim_left,
        split.before,
        split.after
    );
    failpoint::hit(failpoint::TAIL_SPLIT);
    run
}

/// Fetches a run of parts with one ranged GET (more after transient failures, each from
/// the exact byte the sink accepted), reporting each part as its last byte is written.
async fn download_run(
    ctx: &Ctx,
    events: &Sender<Event>,
    run: Run,
    rng: &mut JitterRng,
    sizer: &mut RequestSizer,
) -> Result<(), PartFailure> {
    let mut sink = RunSink::new(ctx, events, &run);
    // Meaningful progress is measured against the part (the unit of progress), not the run.
    let mut retry = PartRetry::with_throttle(ctx.retry, ctx.throttle).for_part(run.first.len());
    while let Some(rest) = sink.remaining() {
        let get = GetRange::new(&ctx.bucket, &ctx.key, &ctx.pin, in_object(rest, ctx.base))
            .headers(&ctx.headers);
        // No CRC from oss-http: the sink hashes what reaches the disk (on the writer), which
        // is what a checkpoint may claim, so each byte is hashed once.
        let before = sink.accepted;
        ctx.requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            "GET {rest} (parts {}..{})",
            sink.current_part().index,
            run.claim.end()
        );
        sink.start_request();
        let outcome = tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => None,
            r = ctx.http.get_range(&get, &mut sink, None) => Some(r),
        };
        let error = match outcome {
            None => {
                sink.drain().await;
                return Err(PartFailure::Cancelled);
            }
            Some(Ok(_)) => {
                sink.observe(sizer);
                break;
            }
            // Another worker took the rest of the run: what was accepted is kept.
            Some(Err(_)) if sink.stopped => {
                sink.observe(sizer);
                break;
            }
            Some(Err(e)) => e,
        };
        let part_ref = sink.current_part();
        let error = match beyond_retry(&mut sink, error, part_ref) {
            Ok(error) => error,
            Err(failure) => {
                sink.drain().await;
                return Err(failure);
            }
        };
        // Only meaningful progress refills the budget (64 KiB or 1% of the part since the
        // last refill): a server dribbling a byte per connection cannot hold the part.
        retry.on_delivered(sink.accepted - before);
        let throttled = matches!(
            error.retry_reason(),
            Some(RetryReason::Throttled | RetryReason::RateLimited)
        );
        if throttled {
            ctx.throttled.fetch_add(1, Ordering::Relaxed);
        }
        match retry.on_failure(error.retry_reason(), rng) {
            RetryDecision::Retry { delay, .. } => {
                ctx.retries.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("{part_ref}: retrying in {delay:?} after: {error}");
                tokio::select! {
                    biased;
                    () = ctx.cancel.cancelled() => {
                        sink.drain().await;
                        return Err(PartFailure::Cancelled);
                    }
                    () = tokio::time::sleep(delay) => {}
                }
                // Throttled while the count is shrinking: stand aside until there is room,
                // rather than spend the retry budget against the throttle.
                if throttled && ctx.leave_if_surplus() {
                    tokio::select! {
                        biased;
                        () = ctx.cancel.cancelled() => {
                            sink.drain().await;
                            return Err(PartFailure::Cancelled);
                        }
                        () = ctx.rejoin() => {}
                    }
                }
            }
            RetryDecision::GiveUp { attempts, .. } => {
                sink.drain().await;
                return Err(PartFailure::Remote {
                    part: part_ref,
                    attempts,
                    source: error,
                });
            }
        }
    }
    let part_ref = sink.current_part();
    sink.finish().await.map_err(|source| PartFailure::Local {
        part: part_ref,
        source,
    })
}

/// Splits off the failures no retry can fix: the disk's (kept by the sink), a changed
/// object, an archived one. Any other error is given back for the retry policy.
fn beyond_retry(
    sink: &mut RunSink<'_>,
    error: oss_http::Error,
    part: PartRef,
) -> Result<oss_http::Error, PartFailure> {
    if let Some(source) = sink.failed.take() {
        return Err(PartFailure::Local { part, source });
    }
    if error.is_object_changed() {
        return Err(PartFailure::Changed {
            part,
            source: error,
        });
    }
    if let Some(service) = error.service()
        && service.code == "InvalidObjectState"
    {
        return Err(PartFailure::Archived {
            code: service.code.clone(),
            request_id: service.request_id.clone(),
        });
    }
    Ok(error)
}

/// A write task that panicked (or was aborted): carried inside the sink's `io::Error` so the
/// engine reports it as an internal error, not as the disk's.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Panicked(pub(crate) String);

/// The sink's error (the real one is kept in [`RunSink::failed`], or it is a stop:
/// [`RunSink::stopped`]).
#[derive(Debug, thiserror::Error)]
#[error("writing the temp data file failed, or the run was cut short")]
pub(crate) struct SinkFailed;

/// The bytes of one part inside a batch: the batch's chunks are split at part boundaries,
/// so each chunk belongs to exactly one part.
#[derive(Debug, Clone, Copy)]
struct Segment {
    part: Part,
    /// One past the segment's last byte (absolute offset in the object).
    end: u64,
    /// How many of the batch's chunks are this segment's.
    chunks: usize,
}

/// What a write did to one segment's part: `upto` bytes of the part are on disk, with
/// CRC-64 `crc`.
#[derive(Debug, Clone, Copy)]
struct SegmentWritten {
    part: Part,
    upto: u64,
    crc: u64,
}

/// A write's result: per segment, and the running CRC of the part it ends in (fresh when
/// the write completed its last part).
struct WriteDone {
    result: io::Result<()>,
    segments: Vec<SegmentWritten>,
    carry: Crc64,
}

/// A write running on the blocking pool: its length and the task.
type PendingWrite = (u64, JoinHandle<WriteDone>);

/// Coalesces a run's chunks into blocks of at least `ctx.block` bytes and writes each with
/// one positional vectored write on the blocking pool, at most one write in flight: memory
/// per worker is bounded by about two blocks, and a slow disk holds this run's socket only
/// (back-pressure through TCP), never the runtime.
///
/// The run's stream is one request, the parts stay the unit of progress: chunks are split
/// at part boundaries, the writer hashes each part's bytes into that part's CRC-64 as they
/// reach the disk, and a part is reported done (with its CRC) once its last byte is
/// written; the part a write ends inside is reported with the bytes and CRC so far. A block
/// may hold many small parts (one `pwritev` for all of them).
struct RunSink<'a> {
    ctx: &'a Ctx,
    events: &'a Sender<Event>,
    claim: Arc<Claim>,
    /// The part the next accepted byte belongs to (or the last one accepted, when it is
    /// complete and the next has not started).
    part: Part,
    /// Absolute offset of the next byte expected.
    accepted: u64,
    batch: Vec<Bytes>,
    batch_len: u64,
    segments: Vec<Segment>,
    /// When the first byte of the batch arrived.
    batch_since: Instant,
    /// The running CRC of the bytes on disk of the part that `written` is in; `None`
    /// while a write holds it.
    crc: Option<Crc64>,
    pending: Option<PendingWrite>,
    /// Absolute offset up to which the run's bytes are on disk.
    written: u64,
    failed: Option<io::Error>,
    /// The claim's end was lowered below the stream's position: the rest is another
    /// worker's, the request must stop.
    stopped: bool,
    /// A suffix run's first part and the byte (from the part's start) its suffix starts at.
    suffix: Option<(u64, u64)>,
    /// When the current request's first body byte arrived (tokio's clock, like the tail
    /// policy's), and its bytes accepted so far.
    first_byte: Option<tokio::time::Instant>,
    /// When the current request was sent.
    sent: tokio::time::Instant,
    request_bytes: u64,
}

impl<'a> RunSink<'a> {
    fn new(ctx: &'a Ctx, events: &'a Sender<Event>, run: &Run) -> Self {
        let at = run.first.start() + run.done;
        Self {
            ctx,
            events,
            claim: Arc::clone(&run.claim),
            part: run.first,
            accepted: at,
            batch: Vec::new(),
            batch_len: 0,
            segments: Vec::new(),
            batch_since: Instant::now(),
            // A suffix's CRC covers its own bytes; a resumed part's continues its prefix's.
            crc: Some(if run.suffix {
                Crc64::new()
            } else {
                Crc64::resume(run.crc, run.done)
            }),
            suffix: run.suffix.then_some((run.first.index(), run.done)),
            pending: None,
            written: at,
            failed: None,
            stopped: false,
            first_byte: None,
            sent: tokio::time::Instant::now(),
            request_bytes: 0,
        }
    }

    /// The bytes of the run not accepted yet, up to the claim's end as it is now; `None`
    /// when the run is complete (or was cut where the stream stands).
    fn remaining(&self) -> Option<ByteRange> {
        let last = self.claim.end().checked_sub(1)?;
        let end = self.ctx.plan.part(last)?.end();
        let end = self.claim.stop().map_or(end, |stop| stop.min(end));
        ByteRange::new(self.accepted, end).ok()
    }

    /// The part the next byte belongs to, for error messages.
    fn current_part(&self) -> PartRef {
        PartRef::from(self.ctx.plan.part_at(self.accepted).unwrap_or(self.part))
    }

    /// A request is about to be sent.
    fn start_request(&mut self) {
        self.first_byte = None;
        self.request_bytes = 0;
        self.sent = tokio::time::Instant::now();
    }

    /// The current request ended: what it showed of the rate and latency.
    fn observe(&self, sizer: &mut RequestSizer) {
        if let Some(first) = self.first_byte {
            let now = tokio::time::Instant::now();
            sizer.observe(first - self.sent, self.request_bytes, now - first);
        }
    }

    /// Waits for the write in flight, if any, and reports it.
    async fn settle(&mut self) -> io::Result<()> {
        let Some((len, handle)) = self.pending.as_mut() else {
            return Ok(());
        };
        let len = *len;
        // Awaiting through `&mut` keeps the handle if this future is dropped (cancellation),
        // so a later drain still accounts for the write.
        let joined = handle.await;
        self.pending = None;
        let done = joined.map_err(|e| io::Error::other(Panicked(format!("writer task: {e}"))))?;
        done.result?;
        self.written += len;
        self.crc = Some(done.carry);
        self.ctx.written_run.fetch_add(len, Ordering::Relaxed);
        let on_disk = self.ctx.on_disk.fetch_add(len, Ordering::Relaxed) + len;
        let mut mid_part = false;
        for s in done.segments {
            let event = if let Some((index, from)) = self.suffix
                && index == s.part.index()
            {
                // A suffix is reported once, whole: its bytes are not the part's prefix.
                if s.upto < s.part.len() {
                    continue;
                }
                Event::SuffixDone {
                    index,
                    from,
                    crc: s.crc,
                }
            } else if s.upto == s.part.len() {
                Event::PartDone {
                    index: s.part.index(),
                    crc: s.crc,
                }
            } else {
                mid_part = true;
                Event::Written {
                    index: s.part.index(),
                    written: s.upto,
                    crc: s.crc,
                }
            };
            let _ = self.events.send(event);
        }
        if mid_part
            && on_disk.saturating_mul(2) >= self.ctx.object_size
            && !self.ctx.mid_part_fired.swap(true, Ordering::Relaxed)
        {
            failpoint::hit(failpoint::MID_PART);
        }
        Ok(())
    }

    /// Starts writing the batch (after the previous write is done).
    async fn submit(&mut self) -> io::Result<()> {
        self.settle().await?;
        if self.batch.is_empty() {
            return Ok(());
        }
        // The next batch will hold about as many chunks: one allocation per block, not a
        // series of regrowths.
        let next = Vec::with_capacity(self.batch.len());
        let chunks = std::mem::replace(&mut self.batch, next);
        let segments = std::mem::take(&mut self.segments);
        let len = std::mem::take(&mut self.batch_len);
        let offset = self.written;
        if let Some(limit) = self.ctx.enospc_after
            && self.ctx.written_run.load(Ordering::Relaxed) + len > limit
        {
            return Err(io::Error::from_raw_os_error(28)); // ENOSPC, injected
        }
        let Some(crc) = self.crc.take() else {
            return Err(io::Error::other("internal: no CRC state for the part"));
        };
        let file = Arc::clone(&self.ctx.file);
        let handle = tokio::task::spawn_blocking(move || {
            let result = crate::space::write_all_at(&file, &chunks, offset);
            if result.is_err() {
                return WriteDone {
                    result,
                    segments: Vec::new(),
                    carry: crc,
                };
            }
            let (segments, carry) = hash_segments(&chunks, &segments, crc);
            WriteDone {
                result,
                segments,
                carry,
            }
        });
        self.pending = Some((len, handle));
        Ok(())
    }

    /// Writes whatever is batched and waits for it: the run's bytes so far are on disk.
    async fn drain(&mut self) {
        if self.submit().await.is_ok() {
            let _ = self.settle().await;
        }
    }

    /// The run is complete (up to its claim's end): writes the rest and waits for it.
    async fn finish(&mut self) -> io::Result<()> {
        self.submit().await?;
        self.settle().await?;
        if self.remaining().is_some() || self.written != self.accepted {
            return Err(io::Error::other(format!(
                "internal: the run ends at byte {} of a claim to part {}",
                self.written,
                self.claim.end()
            )));
        }
        Ok(())
    }

    /// Appends `piece` (all inside `self.part`) to the batch.
    fn push(&mut self, piece: Bytes) {
        let len = piece.len() as u64;
        self.batch.push(piece);
        self.batch_len += len;
        self.accepted += len;
        match self.segments.last_mut() {
            Some(s) if s.part.index() == self.part.index() => {
                s.end = self.accepted;
                s.chunks += 1;
            }
            _ => self.segments.push(Segment {
                part: self.part,
                end: self.accepted,
                chunks: 1,
            }),
        }
    }

    fn fail(&mut self, e: io::Error) -> SinkFailed {
        self.failed = Some(e);
        SinkFailed
    }
}

/// The object's bytes for the plan's bytes `rest` (the plan starts at the object's `base`).
fn in_object(rest: ByteRange, base: u64) -> ByteRange {
    // `base + last` is below the object's size; the shift keeps `start <= last`.
    ByteRange::inclusive(rest.start() + base, rest.last() + base).unwrap_or(rest)
}

/// Hashes each segment's chunks into its part's CRC-64: the first continues `carry` (the
/// part the write starts in), the others start fresh. Returns what each segment's part
/// has on disk now, and the CRC to carry into the next write.
fn hash_segments(
    chunks: &[Bytes],
    segments: &[Segment],
    mut carry: Crc64,
) -> (Vec<SegmentWritten>, Crc64) {
    let mut out = Vec::with_capacity(segments.len());
    let mut next = 0;
    for s in segments {
        let end = next + s.chunks;
        for chunk in chunks.get(next..end).unwrap_or_default() {
            carry.update(chunk);
        }
        next = end;
        out.push(SegmentWritten {
            part: s.part,
            upto: s.end - s.part.start(),
            crc: carry.value(),
        });
        if s.end == s.part.end() {
            carry = Crc64::new();
        }
    }
    (out, carry)
}

impl ByteSink for RunSink<'_> {
    type Error = SinkFailed;

    async fn write(&mut self, offset: u64, mut chunk: Bytes) -> Result<(), SinkFailed> {
        // The stream's offsets are the object's; the plan's start at `base`.
        let offset = offset.wrapping_sub(self.ctx.base);
        if offset != self.accepted {
            let e = io::Error::other(format!(
                "internal: chunk at {offset}, expected {}",
                self.accepted
            ));
            return Err(self.fail(e));
        }
        if let Some(limiter) = &self.ctx.limiter {
            limiter.take(chunk.len()).await;
        }
        // Bytes past a cut another run made inside this part are not this run's.
        let allowed = self
            .claim
            .admit(offset, chunk.len() as u64, tokio::time::Instant::now());
        let cut = allowed < chunk.len() as u64;
        if cut {
            chunk.truncate(usize::try_from(allowed).unwrap_or(usize::MAX));
        }
        if self.first_byte.is_none() {
            let now = tokio::time::Instant::now();
            self.first_byte = Some(now);
            self.ctx
                .saw_first_byte(now.saturating_duration_since(self.sent));
        }
        if self.batch.is_empty() {
            self.batch_since = Instant::now();
        }
        while !chunk.is_empty() {
            if self.accepted == self.part.end() {
                // The stream reaches the next part: still this run's, unless a split took it.
                let next = self.part.index() + 1;
                if !self.claim.enter(next) {
                    self.stopped = true;
                    return Err(SinkFailed);
                }
                match self.ctx.plan.part(next) {
                    Some(part) => self.part = part,
                    None => {
                        let e = io::Error::other("internal: bytes past the last part");
                        return Err(self.fail(e));
                    }
                }
            }
            let room = self.part.end() - self.accepted;
            let piece = if room >= chunk.len() as u64 {
                std::mem::take(&mut chunk)
            } else {
                // `room` < chunk.len() <= usize::MAX here.
                chunk.split_to(usize::try_from(room).unwrap_or(usize::MAX))
            };
            let piece_len = piece.len() as u64;
            self.push(piece);
            self.request_bytes += piece_len;
            self.ctx.received.fetch_add(piece_len, Ordering::Relaxed);
        }
        if cut {
            self.stopped = true;
            return Err(SinkFailed);
        }
        // A full block is written (waiting for the previous write: back-pressure). A slow
        // stream is written once its batch is `flush_age` old and the disk is idle, so what a
        // kill loses stays about `rate x flush_age` however slow the link.
        let full = self.batch_len >= self.ctx.block as u64;
        let stale = self.batch_since.elapsed() >= self.ctx.flush_age
            && self.pending.as_ref().is_none_or(|(_, h)| h.is_finished());
        if (full || stale)
            && let Err(e) = self.submit().await
        {
            return Err(self.fail(e));
        }
        Ok(())
    }
}
