//! The transfer: a fixed pool of workers fetching the missing parts into the temp file,
//! the aggregator thread recording their progress, and how it all ended.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use oss_ckpt::Checkpoint;
use oss_ckpt::fs::CheckpointFile;
use oss_http::ObjectMeta;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Job, Stop};
use crate::adapt::{self, Controller, Decision};
use crate::aggregator::{Aggregator, Outcome};
use crate::error::{Error, LocalOp};
use crate::failpoint::FailpointFs;
use crate::ratelimit::TokenBucket;
use crate::report::AdaptiveConnections;
use crate::scheduler::Scheduler;
use crate::worker::{Ctx, Event, Panicked, PartFailure, run_worker};

/// How the workers and the aggregator ended.
pub(super) struct Ended {
    /// The aggregator's final state.
    outcome: Outcome,
    /// The first part failure (it cancelled the others).
    failure: Option<PartFailure>,
    /// A worker's panic message.
    panicked: Option<String>,
    /// Part requests retried.
    retries: u64,
    /// Body bytes received in this attempt.
    received: u64,
}

/// What the aggregator thread hands back: its outcome, or its panic's message.
type Finished = Result<Outcome, String>;

/// A transfer that got every part onto the disk.
pub(super) struct Transferred {
    pub(super) ckpt: Checkpoint,
    pub(super) ckpt_file: Option<CheckpointFile<FailpointFs>>,
    pub(super) retries: u64,
    pub(super) received: u64,
}

impl Job {
    /// Runs the workers and the aggregator until every part is on disk or something stops
    /// them (a part's failure, a fatal local error, the token).
    pub(super) async fn transfer(
        &mut self,
        meta: &ObjectMeta,
        ckpt: Checkpoint,
        ckpt_file: Option<CheckpointFile<FailpointFs>>,
        file: &Arc<File>,
        bytes_resumed: u64,
        cancel: CancellationToken,
    ) -> Result<Ended, Error> {
        let plan = *ckpt.latest.plan();
        let missing = plan.len() - ckpt.latest.done().count();
        let workers = usize::try_from(missing)
            .unwrap_or(usize::MAX)
            .min(self.options.threads);
        let retries = Arc::new(AtomicU64::new(0));
        let ctx = Arc::new(self.worker_ctx(meta, &ckpt, file, bytes_resumed, &retries, &cancel));
        let aggregator = Aggregator {
            ckpt,
            file: ckpt_file,
            durability: self.options.durability,
            commit_interval: self.options.commit_interval,
            sync_interval: self.options.sync_interval,
            data: Arc::clone(file),
            temp_path: self.temp_path.clone(),
            data_sync: self.options.hooks.data_sync.clone(),
            progress: self.options.progress.take(),
            progress_interval: self.options.progress_interval,
            bytes_resumed,
            retries: Arc::clone(&retries),
            cancel: cancel.clone(),
            suffixes: crate::aggregator::Suffixes::new(),
        };
        let (events, done) = self.spawn_aggregator(aggregator)?;
        let controller = self.options.threads_auto.then(|| {
            let to_fetch = plan.object_size().saturating_sub(bytes_resumed);
            Controller::new(
                workers,
                adapt::WINDOW,
                to_fetch,
                adapt::start_for(self.head_time),
            )
        });
        let (failure, panicked, adaptive) =
            join_workers(&ctx, workers, controller, events, &cancel).await;
        self.adaptive = adaptive;
        let mut outcome = match done.await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(panic)) => {
                self.clean_after_failure();
                return Err(Error::Internal {
                    detail: format!("the progress thread panicked: {panic}"),
                });
            }
            Err(_) => {
                return Err(Error::Internal {
                    detail: "the progress thread stopped without a result".to_owned(),
                });
            }
        };
        // Let the progress callback survive into a restart.
        self.options.progress = outcome.progress.take();
        self.requests += ctx.requests.load(Ordering::Relaxed);
        self.tail_splits += ctx.tail_splits.load(Ordering::Relaxed);
        Ok(Ended {
            outcome,
            failure,
            panicked,
            retries: retries.load(Ordering::Relaxed),
            received: ctx.received.load(Ordering::Relaxed),
        })
    }

    /// Everything the workers share.
    fn worker_ctx(
        &self,
        meta: &ObjectMeta,
        ckpt: &Checkpoint,
        file: &Arc<File>,
        bytes_resumed: u64,
        retries: &Arc<AtomicU64>,
        cancel: &CancellationToken,
    ) -> Ctx {
        let latest = &ckpt.latest;
        // One block per worker in flight: 16 MiB spread over the threads, 256 KiB ..= 1 MiB.
        let block = (16usize << 20)
            .checked_div(self.options.threads)
            .unwrap_or(1 << 20)
            .clamp(256 << 10, 1 << 20);
        Ctx {
            http: self.http.clone(),
            headers: Arc::clone(&self.headers),
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            pin: meta.pin(),
            file: Arc::clone(file),
            plan: *latest.plan(),
            base: self.window.map_or(0, |w| w.start()),
            object_size: latest.plan().object_size(),
            scheduler: Mutex::new(Scheduler::new(
                *latest.plan(),
                latest.done().clone(),
                latest.in_flight(),
                self.options.threads,
            )),
            cancel: cancel.clone(),
            // A batch's one bucket for all its objects, else this download's own.
            limiter: self.options.shared_limiter.clone().or_else(|| {
                self.options
                    .bandwidth
                    .map(|rate| std::sync::Arc::new(TokenBucket::new(rate)))
            }),
            retry: self.options.retry,
            throttle: self.options.throttle,
            max_request: self.options.max_request,
            block,
            flush_age: self.options.commit_interval,
            retries: Arc::clone(retries),
            received: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            on_disk: AtomicU64::new(bytes_resumed),
            written_run: AtomicU64::new(0),
            enospc_after: self.options.hooks.enospc_after,
            mid_part_fired: AtomicBool::new(false),
            throttled: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            allowed: AtomicUsize::new(self.options.threads),
            tail_split: self.options.tail_split,
            tail_splits: AtomicU64::new(0),
            rtt_nanos: AtomicU64::new(u64::MAX),
            changed: tokio::sync::Notify::new(),
            steal_poll: self
                .options
                .hooks
                .tail_poll
                .unwrap_or(crate::worker::STEAL_POLL),
        }
    }

    /// Starts the aggregator on its own thread; returns the workers' event sender and the
    /// channel its [`Outcome`] arrives on.
    fn spawn_aggregator(
        &self,
        aggregator: Aggregator,
    ) -> Result<(Sender<Event>, oneshot::Receiver<Finished>), Error> {
        let (events_tx, events_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = oneshot::channel::<Finished>();
        let lock = Arc::clone(&self.lock);
        std::thread::Builder::new()
            .name("oss-resume-progress".into())
            .spawn(move || {
                // A panic here (the caller's progress callback, or a bug) is reported as
                // one, not as a vanished thread.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    aggregator.run(events_rx)
                }))
                .map_err(|payload| panic_message(payload.as_ref()));
                // Let go of the lock before reporting: the job must be its last holder
                // whenever it is still waiting for this.
                drop(lock);
                let _ = done_tx.send(outcome);
            })
            .map_err(|e| self.local(LocalOp::Checkpoint, e))?;
        Ok((events_tx, done_rx))
    }

    /// How the transfer ended, as this attempt's result: a fatal error, a panicked worker,
    /// a part's failure or a cancellation stop the attempt (cleaning up as each requires);
    /// otherwise every part is on disk.
    pub(super) fn settle(&mut self, ended: Ended, meta: &ObjectMeta) -> Result<Transferred, Stop> {
        let Ended {
            outcome,
            failure,
            panicked,
            retries,
            received,
        } = ended;
        if let Some(fatal) = outcome.fatal {
            if matches!(fatal, Error::SyncFailed { .. }) {
                // Dirty pages may be gone: nothing in this file can be trusted.
                self.discard();
            } else {
                self.clean_after_failure();
            }
            return Err(fatal.into());
        }
        if let Some(message) = panicked {
            self.clean_after_failure();
            return Err(Error::Internal {
                detail: format!("a worker panicked: {message}"),
            }
            .into());
        }
        if let Some(stop) = failure.and_then(|f| self.part_failed(f)) {
            return Err(stop);
        }
        if !outcome.ckpt.latest.is_complete() {
            self.clean_after_failure();
            return Err(Error::Cancelled {
                checkpoint_saved: outcome.saved,
                object: Some(Box::new(meta.clone())),
            }
            .into());
        }
        Ok(Transferred {
            ckpt: outcome.ckpt,
            ckpt_file: outcome.file,
            retries,
            received,
        })
    }

    /// A part's failure as the attempt's stop (`None` for a cancellation, which the caller
    /// reports once it knows whether the checkpoint was saved).
    fn part_failed(&self, failure: PartFailure) -> Option<Stop> {
        let error = match failure {
            PartFailure::Cancelled => return None,
            PartFailure::Changed { part, source } => {
                return Some(Stop::Changed {
                    detail: source.to_string(),
                    part: Some(part),
                    request_id: source.request_id().map(str::to_owned),
                });
            }
            PartFailure::Archived { code, request_id } => {
                Error::ObjectArchived { code, request_id }
            }
            PartFailure::Remote {
                part,
                attempts,
                source,
            } => Error::Part {
                part,
                attempts,
                source,
            },
            PartFailure::Local { source, .. }
                if source.get_ref().is_some_and(|e| e.is::<Panicked>()) =>
            {
                Error::Internal {
                    detail: source.to_string(),
                }
            }
            PartFailure::Local { part, source } => Error::LocalIo {
                op: LocalOp::Write,
                path: self.temp_path.clone(),
                part: Some(part),
                source,
            },
        };
        self.clean_after_failure();
        Some(Stop::Error(error))
    }
}

/// A panic's message, when it has one.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Runs `workers` workers to completion — or, with a `controller`, as many as it says, at
/// most `workers`. The first part failure, or a panic, cancels the others at once; returns
/// the first failure, the first panic and what the controller did.
async fn join_workers(
    ctx: &Arc<Ctx>,
    workers: usize,
    mut controller: Option<Controller>,
    events: Sender<Event>,
    cancel: &CancellationToken,
) -> (
    Option<PartFailure>,
    Option<String>,
    Option<AdaptiveConnections>,
) {
    let mut set = JoinSet::new();
    let first = controller.as_ref().map_or(workers, Controller::target);
    ctx.allowed.store(first, Ordering::Relaxed);
    for _ in 0..first {
        spawn_worker(&mut set, ctx, &events);
    }
    // The aggregator stops when the last sender (the workers') is gone; the controller keeps
    // one to start more workers with.
    let mut events = controller.is_some().then_some(events);
    let started = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(adapt::WINDOW / 4);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failure: Option<PartFailure> = None;
    let mut panicked: Option<String> = None;
    loop {
        let joined = tokio::select! {
            joined = set.join_next() => joined,
            _ = tick.tick(), if events.is_some() => {
                if let (Some(c), Some(tx)) = (controller.as_mut(), events.as_ref()) {
                    adapt_workers(c, started.elapsed(), &mut set, ctx, tx);
                }
                continue;
            }
        };
        let Some(joined) = joined else { break };
        match joined {
            Ok(Ok(())) | Ok(Err(PartFailure::Cancelled)) => {}
            Ok(Err(f)) => {
                if failure.is_none() {
                    failure = Some(f);
                }
                cancel.cancel();
            }
            Err(e) => {
                panicked.get_or_insert_with(|| e.to_string());
                cancel.cancel();
            }
        }
        // A worker that found nothing left to claim: no more workers are needed.
        if set.is_empty() || cancel.is_cancelled() {
            events = None;
        }
    }
    let adaptive = controller.map(|c| c.summary());
    if let Some(a) = &adaptive {
        tracing::info!(
            "adaptive connections: ended at {} (peak {}) after {} changes",
            a.ended,
            a.peak,
            a.changes
        );
    }
    (failure, panicked, adaptive)
}

/// Starts one worker, counted as running.
fn spawn_worker(
    set: &mut JoinSet<Result<(), PartFailure>>,
    ctx: &Arc<Ctx>,
    events: &Sender<Event>,
) {
    ctx.running.fetch_add(1, Ordering::AcqRel);
    set.spawn(run_worker(Arc::clone(ctx), events.clone()));
}

/// Feeds the controller one observation and applies its decision: more workers start at
/// once; surplus ones leave before claiming their next run.
fn adapt_workers(
    controller: &mut Controller,
    now: std::time::Duration,
    set: &mut JoinSet<Result<(), PartFailure>>,
    ctx: &Arc<Ctx>,
    events: &Sender<Event>,
) {
    let received = ctx.received.load(Ordering::Relaxed);
    let throttled = ctx.throttled.load(Ordering::Relaxed);
    match controller.observe(now, received, throttled) {
        Decision::Hold => {}
        Decision::Grow { to } => {
            tracing::info!("adaptive connections: {to} (rate rose, {received} B received)");
            ctx.allowed.store(to, Ordering::Relaxed);
            for _ in ctx.running.load(Ordering::Acquire)..to {
                spawn_worker(set, ctx, events);
            }
        }
        Decision::Shrink { to, reason } => {
            tracing::info!("adaptive connections: {to} ({reason}, {throttled} throttling answers)");
            ctx.allowed.store(to, Ordering::Relaxed);
        }
    }
}
