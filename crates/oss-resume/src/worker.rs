//! A worker: takes the next part from the scheduler, streams it into the temp file through a
//! bounded, coalescing sink whose positional writes run off the network task, retries inside
//! the part, and reports what reached the disk.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use oss_crc::Crc64;
use oss_http::{
    ByteSink, GetRange, JitterRng, ObjectPin, PartRetry, RequestHeaders, RetryDecision,
    RetryPolicy, ThrottlePolicy,
};
use oss_parts::Part;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::PartRef;
use crate::failpoint;
use crate::ratelimit::TokenBucket;
use crate::scheduler::{Assignment, Scheduler};

/// What a worker tells the aggregator.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    /// `written` bytes from the part's start are on disk, with CRC-64 `crc`.
    Written { index: u64, written: u64, crc: u64 },
    /// The whole part is on disk with CRC-64 `crc`.
    PartDone { index: u64, crc: u64 },
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
    pub(crate) object_size: u64,
    pub(crate) scheduler: Mutex<Scheduler>,
    pub(crate) cancel: CancellationToken,
    pub(crate) limiter: Option<TokenBucket>,
    pub(crate) retry: RetryPolicy,
    /// Retry policy for OSS's throttling answers (503 throttling codes, 429).
    pub(crate) throttle: ThrottlePolicy,
    /// Bytes per positional write (the coalescing target).
    pub(crate) block: usize,
    /// A smaller batch is written once it is this old (and no write is in flight).
    pub(crate) flush_age: Duration,
    /// Part requests retried (shared with the aggregator, which reports it as progress).
    pub(crate) retries: Arc<AtomicU64>,
    /// Body bytes accepted from the network in this run.
    pub(crate) received: AtomicU64,
    /// Bytes written to the temp file in this run, plus what was on disk at the start
    /// (for the mid-part failpoint).
    pub(crate) on_disk: AtomicU64,
    /// Bytes written in this run (for ENOSPC injection).
    pub(crate) written_run: AtomicU64,
    pub(crate) enospc_after: Option<u64>,
    pub(crate) mid_part_fired: AtomicBool,
}

/// Runs one worker until the scheduler is empty, the token fires, or a part fails.
pub(crate) async fn run_worker(ctx: Arc<Ctx>, events: Sender<Event>) -> Result<(), PartFailure> {
    let mut rng = JitterRng::from_entropy();
    loop {
        if ctx.cancel.is_cancelled() {
            return Err(PartFailure::Cancelled);
        }
        let next = match ctx.scheduler.lock() {
            Ok(mut s) => s.next_part(),
            Err(_) => return Err(PartFailure::Cancelled),
        };
        let Some(assignment) = next else {
            return Ok(());
        };
        download_part(&ctx, &events, assignment, &mut rng).await?;
    }
}

async fn download_part(
    ctx: &Ctx,
    events: &Sender<Event>,
    a: Assignment,
    rng: &mut JitterRng,
) -> Result<(), PartFailure> {
    let part = a.part;
    let part_ref = PartRef::from(part);
    let mut sink = PartSink::new(ctx, events, part, a.done, Crc64::resume(a.crc, a.done));
    let mut retry = PartRetry::with_throttle(ctx.retry, ctx.throttle).for_part(part.len());
    while let Some(rest) = part.remaining_after(sink.accepted) {
        let get = GetRange::new(&ctx.bucket, &ctx.key, &ctx.pin, rest).headers(&ctx.headers);
        // No CRC from oss-http: the sink hashes what reaches the disk (on the writer), which
        // is what a checkpoint may claim, so each byte is hashed once.
        let before = sink.accepted;
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
            Some(Ok(_)) => break,
            Some(Err(e)) => e,
        };
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
    let crc = sink.finish().await.map_err(|source| PartFailure::Local {
        part: part_ref,
        source,
    })?;
    let _ = events.send(Event::PartDone {
        index: part.index(),
        crc,
    });
    Ok(())
}

/// Splits off the failures no retry can fix: the disk's (kept by the sink), a changed
/// object, an archived one. Any other error is given back for the retry policy.
fn beyond_retry(
    sink: &mut PartSink<'_>,
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

/// The sink's error (the real one is kept in [`PartSink::failed`]).
#[derive(Debug, thiserror::Error)]
#[error("writing the temp data file failed")]
pub(crate) struct SinkFailed;

/// A write running on the blocking pool: its length and the task (which hands the CRC back).
type PendingWrite = (u64, JoinHandle<(io::Result<()>, Crc64)>);

/// Coalesces a part's chunks into blocks of at least `ctx.block` bytes and writes each with
/// one positional vectored write on the blocking pool, at most one write in flight: memory
/// per worker is bounded by about two blocks, and a slow disk holds this part's socket only
/// (back-pressure through TCP), never the runtime.
struct PartSink<'a> {
    ctx: &'a Ctx,
    events: &'a Sender<Event>,
    part: Part,
    /// Bytes of the part accepted (on disk, being written, or batched).
    accepted: u64,
    batch: Vec<Bytes>,
    batch_len: u64,
    /// When the first byte of the batch arrived.
    batch_since: Instant,
    /// The running CRC of the bytes on disk; `None` while a write holds it.
    crc: Option<Crc64>,
    pending: Option<PendingWrite>,
    /// Bytes of the part on disk.
    written: u64,
    failed: Option<io::Error>,
}

impl<'a> PartSink<'a> {
    fn new(ctx: &'a Ctx, events: &'a Sender<Event>, part: Part, done: u64, crc: Crc64) -> Self {
        Self {
            ctx,
            events,
            part,
            accepted: done,
            batch: Vec::new(),
            batch_len: 0,
            batch_since: Instant::now(),
            crc: Some(crc),
            pending: None,
            written: done,
            failed: None,
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
        let (result, crc) =
            joined.map_err(|e| io::Error::other(Panicked(format!("writer task: {e}"))))?;
        result?;
        self.written += len;
        let crc_value = crc.value();
        self.crc = Some(crc);
        self.ctx.written_run.fetch_add(len, Ordering::Relaxed);
        let on_disk = self.ctx.on_disk.fetch_add(len, Ordering::Relaxed) + len;
        let _ = self.events.send(Event::Written {
            index: self.part.index(),
            written: self.written,
            crc: crc_value,
        });
        if self.written < self.part.len()
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
        let len = std::mem::take(&mut self.batch_len);
        let offset = self.part.start() + self.written;
        if let Some(limit) = self.ctx.enospc_after
            && self.ctx.written_run.load(Ordering::Relaxed) + len > limit
        {
            return Err(io::Error::from_raw_os_error(28)); // ENOSPC, injected
        }
        let Some(mut crc) = self.crc.take() else {
            return Err(io::Error::other("internal: no CRC state for the part"));
        };
        let file = Arc::clone(&self.ctx.file);
        let handle = tokio::task::spawn_blocking(move || {
            let result = crate::space::write_all_at(&file, &chunks, offset);
            if result.is_ok() {
                for chunk in &chunks {
                    crc.update(chunk);
                }
            }
            (result, crc)
        });
        self.pending = Some((len, handle));
        Ok(())
    }

    /// Writes whatever is batched and waits for it: the part's bytes so far are on disk.
    async fn drain(&mut self) {
        if self.submit().await.is_ok() {
            let _ = self.settle().await;
        }
    }

    /// The part is complete: writes the rest and returns its CRC-64.
    async fn finish(&mut self) -> io::Result<u64> {
        self.submit().await?;
        self.settle().await?;
        if self.written != self.part.len() {
            return Err(io::Error::other(format!(
                "internal: {} of {} bytes of the part written",
                self.written,
                self.part.len()
            )));
        }
        Ok(self.crc.as_ref().map_or(0, Crc64::value))
    }
}

impl ByteSink for PartSink<'_> {
    type Error = SinkFailed;

    async fn write(&mut self, offset: u64, chunk: Bytes) -> Result<(), SinkFailed> {
        if offset != self.part.start() + self.accepted {
            self.failed = Some(io::Error::other(format!(
                "internal: chunk at {offset}, expected {}",
                self.part.start() + self.accepted
            )));
            return Err(SinkFailed);
        }
        if let Some(limiter) = &self.ctx.limiter {
            limiter.take(chunk.len()).await;
        }
        let len = chunk.len() as u64;
        if self.batch.is_empty() {
            self.batch_since = Instant::now();
        }
        self.batch.push(chunk);
        self.batch_len += len;
        self.accepted += len;
        self.ctx.received.fetch_add(len, Ordering::Relaxed);
        // A full block is written (waiting for the previous write: back-pressure). A slow
        // stream is written once its batch is `flush_age` old and the disk is idle, so what a
        // kill loses stays about `rate x flush_age` however slow the link.
        let full = self.batch_len >= self.ctx.block as u64;
        let stale = self.batch_since.elapsed() >= self.ctx.flush_age
            && self.pending.as_ref().is_none_or(|(_, h)| h.is_finished());
        if (full || stale)
            && let Err(e) = self.submit().await
        {
            self.failed = Some(e);
            return Err(SinkFailed);
        }
        Ok(())
    }
}
