//! The batch engine: a producer (the listing, or the caller's items on a thread of their
//! own) feeds a bounded channel; one loop maps each key to its path, skips what the journal
//! has, and starts a task per object once the shared budget has room for it; finished
//! objects go to the journal as they finish.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use oss_http::{ListRequest, ObjectPin, PartRetry, RequestHeaders};
use oss_parts::PartSize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::journal::{self, Finished, Record};
use super::keypath::{self, Target};
use super::outcome::{BatchProgress, BatchReport, Change, ObjectOutcome, ObjectStatus};
use super::small::{self, SmallFetch};
use super::{BatchDownload, BatchItem, BatchOptions, BatchSource, FilterFn, JOURNAL_NAME, Shard};
use crate::error::{Error, LocalOp};
use crate::options::{Durability, OnChange};
use crate::ratelimit::TokenBucket;
use crate::validate::MAX_THREADS;

/// What the producer sends.
enum Entry {
    /// An object from the listing: its identity is known, no HEAD needed.
    Listed {
        key: String,
        size: u64,
        etag: String,
    },
    /// An object named by the caller.
    Named(BatchItem),
    /// The listing failed; what came before it is being downloaded.
    ListingFailed(Error),
}

/// What every object task reads.
struct Shared {
    client: crate::Client,
    bucket: String,
    part_size: u64,
    budget: usize,
    durable: bool,
    retry: oss_http::RetryPolicy,
    throttle: oss_http::ThrottlePolicy,
    limiter: Option<Arc<TokenBucket>>,
    /// Fires on the caller's cancellation or on fail-fast.
    stop: CancellationToken,
    finished: HashMap<String, Finished>,
    semaphore: Arc<Semaphore>,
    /// Bytes received so far, counted as they arrive (progress).
    arrived: Arc<AtomicU64>,
}

/// One object to fetch.
struct Job {
    key: String,
    path: PathBuf,
    /// The listing's size and ETag (`None`: named by the caller, so HEAD first).
    listed: Option<(u64, String)>,
    change: Option<Change>,
    permit: OwnedSemaphorePermit,
}

/// A task's result.
struct Done {
    outcome: ObjectOutcome,
    record: Option<Record>,
    bytes_transferred: u64,
}

pub(super) async fn run(batch: BatchDownload) -> Result<BatchReport, Error> {
    let BatchDownload {
        client,
        bucket,
        source,
        destination,
        mut options,
    } = batch;
    let started = Instant::now();
    validate(&bucket, &options)?;
    let part_size = options.part_size.unwrap_or(PartSize::DEFAULT.get());
    let journal_path = options
        .journal_path
        .clone()
        .unwrap_or_else(|| destination.join(JOURNAL_NAME));
    let durable = options.durability == Durability::Durable;
    let (loaded, writer) = if options.dry_run {
        (journal::read_only(&journal_path, &bucket)?, None)
    } else {
        std::fs::create_dir_all(&destination)
            .map_err(|e| Error::local(LocalOp::CreateDirectory, &destination, e))?;
        let (loaded, writer) = journal::open(&journal_path, &bucket, options.restart, durable)?;
        (loaded, Some(writer))
    };
    let cancel = options.cancel.take().unwrap_or_default();
    let stop = cancel.child_token();
    let arrived = Arc::new(AtomicU64::new(0));
    let shared = Arc::new(Shared {
        client: client.clone(),
        bucket: bucket.clone(),
        part_size,
        budget: options.threads,
        durable,
        retry: options.retry,
        throttle: options.throttle,
        limiter: options
            .bandwidth
            .map(|rate| Arc::new(TokenBucket::new(rate))),
        stop: stop.clone(),
        finished: loaded.finished,
        semaphore: Arc::new(Semaphore::new(options.threads)),
        arrived: Arc::clone(&arrived),
    });
    let keep = Keep {
        filter: options.filter.take(),
        shard: options.shard,
    };
    let (tx, mut rx) = mpsc::channel(options.lookahead);
    let prefix = match source {
        BatchSource::Prefix { prefix, version } => {
            let request = ListRequest::new()
                .version(version)
                .prefix(&prefix)
                .retry(options.retry)
                .throttle(options.throttle);
            let lister = client
                .http()
                .list_objects(&bucket, request)
                .map_err(|source| listing_error(&bucket, &prefix, source))?;
            tokio::spawn(list_into(lister, prefix.clone(), keep, tx));
            prefix
        }
        BatchSource::Items(items) => {
            std::thread::Builder::new()
                .name("oss-batch-items".into())
                .spawn(move || items_into(items, &keep, &tx))
                .map_err(|e| Error::Internal {
                    detail: format!("could not start the batch's item thread: {e}"),
                })?;
            String::new()
        }
    };

    let mut state = State {
        report: BatchReport {
            journal_damaged_lines: loaded.damaged,
            ..BatchReport::default()
        },
        options,
        started,
        arrived,
        last_progress: None,
        listing_complete: false,
        listing_error: None,
    };
    let mut tasks: JoinSet<Done> = JoinSet::new();
    // Progress between objects too: a large object takes a while.
    let mut tick = tokio::time::interval(state.options.progress_interval.max(MIN_TICK));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if state.check_stop(writer.as_ref(), &stop) {
            break;
        }
        let entry = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                state.finish(done, writer.as_ref(), &stop);
                continue;
            }
            _ = tick.tick() => {
                state.progress(false);
                continue;
            }
            entry = rx.recv() => entry,
        };
        let Some(entry) = entry else {
            state.listing_complete = true;
            break;
        };
        let job = match entry {
            Entry::ListingFailed(e) => {
                state.listing_error = Some(e);
                break;
            }
            Entry::Listed { key, size, etag } => {
                state.report.objects += 1;
                let target = keypath::map_key(&key, &prefix, size);
                state.decide(&destination, &shared, key, target, Some((size, etag)))
            }
            Entry::Named(item) => {
                state.report.objects += 1;
                let rel = item.destination.as_deref().unwrap_or(&item.key);
                let target = keypath::map_relative(rel, 0);
                state.decide(&destination, &shared, item.key, target, None)
            }
        };
        let Some((key, path, listed, change)) = job else {
            state.progress(false);
            continue;
        };
        let permits = match &listed {
            Some((size, _)) => permits_for(*size, part_size, shared.budget),
            None => 1,
        };
        let acquire = Arc::clone(&shared.semaphore).acquire_many_owned(permits);
        tokio::pin!(acquire);
        let permit = loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => break None,
                p = &mut acquire => break p.ok(),
                _ = tick.tick() => state.progress(false),
            }
        };
        let Some(permit) = permit else { break };
        let job = Job {
            key,
            path,
            listed,
            change,
            permit,
        };
        tasks.spawn(object_task(Arc::clone(&shared), job));
        // Collect whatever finished meanwhile, without waiting.
        while let Some(done) = tasks.try_join_next() {
            state.finish(done, writer.as_ref(), &stop);
        }
    }
    // The producer stops at its next send.
    drop(rx);
    while !tasks.is_empty() {
        tokio::select! {
            Some(done) = tasks.join_next() => state.finish(done, writer.as_ref(), &stop),
            _ = tick.tick() => state.progress(false),
        }
    }
    if let Some(writer) = writer {
        writer.finish()?;
    }
    state.progress(true);
    if cancel.is_cancelled() {
        return Err(Error::Cancelled {
            checkpoint_saved: true,
            object: None,
        });
    }
    let mut report = state.report;
    if let Some(e) = state.listing_error {
        report.failed += 1;
        report.failures.push((prefix, e));
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

fn validate(bucket: &str, o: &BatchOptions) -> Result<(), Error> {
    crate::names::validate_bucket_name(bucket)?;
    if o.threads == 0 || o.threads > MAX_THREADS {
        return Err(Error::invalid(
            "threads",
            format!(
                "{} connections is not a budget: use 1 ..= {MAX_THREADS}",
                o.threads
            ),
        ));
    }
    if let Some(bytes) = o.part_size {
        PartSize::new(bytes).map_err(|e| Error::invalid("part_size", e.to_string()))?;
    }
    Ok(())
}

fn listing_error(bucket: &str, prefix: &str, source: oss_http::Error) -> Error {
    Error::Listing {
        url: format!("oss://{bucket}/{prefix}"),
        source,
    }
}

/// How much of the budget an object of `size` bytes takes: one connection for one part,
/// otherwise one per part up to the whole budget.
fn permits_for(size: u64, part_size: u64, budget: usize) -> u32 {
    let parts = size.div_ceil(part_size.max(1)).max(1);
    u32::try_from(parts.min(budget as u64)).unwrap_or(1).max(1)
}

/// The filter and the shard, applied where keys are produced.
struct Keep {
    filter: Option<FilterFn>,
    shard: Option<Shard>,
}

impl Keep {
    fn keeps(&self, key: &str) -> bool {
        self.shard.is_none_or(|s| s.contains(key)) && self.filter.as_ref().is_none_or(|f| f(key))
    }
}

async fn list_into(
    mut lister: oss_http::Lister,
    prefix: String,
    keep: Keep,
    tx: mpsc::Sender<Entry>,
) {
    loop {
        match lister.next_page().await {
            Ok(Some(page)) => {
                for o in page.objects {
                    if !keep.keeps(&o.key) {
                        continue;
                    }
                    let entry = Entry::Listed {
                        key: o.key,
                        size: o.size,
                        etag: o.etag,
                    };
                    if tx.send(entry).await.is_err() {
                        return;
                    }
                }
            }
            Ok(None) => return,
            Err(source) => {
                let e = listing_error(lister.bucket(), &prefix, source);
                let _ = tx.send(Entry::ListingFailed(e)).await;
                return;
            }
        }
    }
}

fn items_into(
    items: Box<dyn Iterator<Item = BatchItem> + Send>,
    keep: &Keep,
    tx: &mpsc::Sender<Entry>,
) {
    for item in items {
        if keep.keeps(&item.key) && tx.blocking_send(Entry::Named(item)).is_err() {
            return;
        }
    }
}

/// The shortest time between two progress ticks of the loop.
const MIN_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// The loop's bookkeeping.
struct State {
    report: BatchReport,
    options: BatchOptions,
    started: Instant,
    /// Bytes received so far ([`Shared::arrived`]).
    arrived: Arc<AtomicU64>,
    last_progress: Option<Instant>,
    listing_complete: bool,
    listing_error: Option<Error>,
}

type Decided = (String, PathBuf, Option<(u64, String)>, Option<Change>);

impl State {
    /// Settles what needs no download (unsafe keys, directories, finished objects, dry
    /// runs) and returns the rest.
    fn decide(
        &mut self,
        dest: &Path,
        shared: &Shared,
        key: String,
        target: Result<Target, keypath::UnsafeKey>,
        listed: Option<(u64, String)>,
    ) -> Option<Decided> {
        let size = listed.as_ref().map(|l| l.0);
        let outcome = |path, status| ObjectOutcome {
            key: key.clone(),
            path,
            size,
            status,
        };
        let rel = match target {
            Err(why) => {
                self.emit(outcome(None, ObjectStatus::Unsafe(why)));
                return None;
            }
            Ok(Target::Directory(rel)) => {
                let path = dest.join(rel);
                let status = match (self.options.dry_run, std::fs::create_dir_all(&path)) {
                    (true, _) | (false, Ok(())) => ObjectStatus::Directory,
                    (false, Err(e)) => {
                        ObjectStatus::Failed(Error::local(LocalOp::CreateDirectory, &path, e))
                    }
                };
                self.emit(outcome(Some(path), status));
                return None;
            }
            Ok(Target::File(rel)) => rel,
        };
        let path = dest.join(rel);
        let mut change = None;
        if let Some((size, etag)) = &listed {
            match shared.finished.get(&key) {
                Some(f) if f.size == *size && f.etag == *etag && file_len(&path) == Some(*size) => {
                    self.emit(outcome(Some(path), ObjectStatus::AlreadyDone));
                    return None;
                }
                Some(f) if f.size != *size || f.etag != *etag => {
                    change = Some(Change::SinceJournal {
                        recorded_etag: f.etag.clone(),
                    });
                }
                _ => {}
            }
        }
        if self.options.dry_run {
            self.emit(outcome(Some(path), ObjectStatus::WouldDownload));
            return None;
        }
        Some((key, path, listed, change))
    }

    /// Takes a finished task's result.
    fn finish(
        &mut self,
        joined: Result<Done, tokio::task::JoinError>,
        writer: Option<&journal::Writer>,
        stop: &CancellationToken,
    ) {
        let done = match joined {
            Ok(done) => done,
            Err(e) => Done {
                outcome: ObjectOutcome {
                    key: String::new(),
                    path: None,
                    size: None,
                    status: ObjectStatus::Failed(Error::Internal {
                        detail: format!("an object's task failed: {e}"),
                    }),
                },
                record: None,
                bytes_transferred: 0,
            },
        };
        // Objects stopped by a cancellation or fail-fast are neither done nor failed: the
        // next run does them.
        if stop.is_cancelled()
            && matches!(
                done.outcome.status,
                ObjectStatus::Failed(Error::Cancelled { .. })
            )
        {
            return;
        }
        if let (Some(record), Some(writer)) = (done.record, writer) {
            writer.record(record);
        }
        self.report.bytes_transferred += done.bytes_transferred;
        self.emit(done.outcome);
        if self.options.fail_fast && self.report.failed > 0 && !stop.is_cancelled() {
            self.report.stopped_early = true;
            stop.cancel();
        }
    }

    /// Whether the loop must stop: the journal cannot be written.
    fn check_stop(&mut self, writer: Option<&journal::Writer>, stop: &CancellationToken) -> bool {
        if writer.is_some_and(journal::Writer::is_broken) {
            stop.cancel();
            return true;
        }
        false
    }

    /// Counts an outcome and passes it to the caller.
    fn emit(&mut self, outcome: ObjectOutcome) {
        let r = &mut self.report;
        let size = outcome.size.unwrap_or(0);
        match &outcome.status {
            ObjectStatus::Downloaded { change, .. } => {
                r.downloaded += 1;
                r.bytes_done += size;
                if change.is_some() {
                    r.changed += 1;
                }
            }
            ObjectStatus::AlreadyDone => {
                r.already_done += 1;
                r.bytes_done += size;
            }
            ObjectStatus::Directory => r.directories += 1,
            ObjectStatus::WouldDownload => r.would_download += 1,
            ObjectStatus::Unsafe(_) => r.unsafe_keys += 1,
            ObjectStatus::Failed(_) => r.failed += 1,
        }
        if let Some(callback) = &mut self.options.on_object {
            callback(&outcome);
        }
        if let ObjectStatus::Failed(e) = outcome.status
            && r.failures.len() < self.options.max_failures_kept
        {
            r.failures.push((outcome.key, e));
        }
        self.progress(false);
    }

    /// Calls the progress callback, at most every interval unless `last`.
    fn progress(&mut self, last: bool) {
        let Some(callback) = &mut self.options.on_progress else {
            return;
        };
        let now = Instant::now();
        if !last
            && self
                .last_progress
                .is_some_and(|t| now.duration_since(t) < self.options.progress_interval)
        {
            return;
        }
        self.last_progress = Some(now);
        let r = &self.report;
        callback(&BatchProgress {
            objects_listed: r.objects,
            listing_complete: self.listing_complete,
            objects_done: r.downloaded + r.already_done + r.directories + r.would_download,
            objects_failed: r.failed + r.unsafe_keys,
            bytes_done: r.bytes_done,
            bytes_transferred: self
                .arrived
                .load(Ordering::Relaxed)
                .max(r.bytes_transferred),
            elapsed: self.started.elapsed(),
        });
    }
}

fn file_len(path: &Path) -> Option<u64> {
    std::fs::symlink_metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len())
}

async fn object_task(shared: Arc<Shared>, job: Job) -> Done {
    let Job {
        key,
        path,
        listed,
        change,
        permit,
    } = job;
    let mut size = listed.as_ref().map(|l| l.0);
    let result = fetch_object(&shared, &key, &path, listed, change, permit, &mut size).await;
    match result {
        Ok(Fetched::Done {
            record,
            change,
            bytes_transferred,
            bytes_resumed,
        }) => Done {
            outcome: ObjectOutcome {
                key,
                path: Some(path),
                size: Some(record.finished.size),
                status: ObjectStatus::Downloaded {
                    change,
                    etag: record.finished.etag.clone(),
                    crc64: record.finished.crc64,
                    bytes_resumed,
                },
            },
            record: Some(record),
            bytes_transferred,
        },
        Ok(Fetched::AlreadyDone) => Done {
            outcome: ObjectOutcome {
                key,
                path: Some(path),
                size,
                status: ObjectStatus::AlreadyDone,
            },
            record: None,
            bytes_transferred: 0,
        },
        Err(e) => Done {
            outcome: ObjectOutcome {
                key,
                path: Some(path),
                size,
                status: ObjectStatus::Failed(e),
            },
            record: None,
            bytes_transferred: 0,
        },
    }
}

enum Fetched {
    Done {
        record: Record,
        change: Option<Change>,
        bytes_transferred: u64,
        bytes_resumed: u64,
    },
    AlreadyDone,
}

async fn fetch_object(
    shared: &Shared,
    key: &str,
    path: &Path,
    listed: Option<(u64, String)>,
    mut change: Option<Change>,
    mut permit: OwnedSemaphorePermit,
    size_out: &mut Option<u64>,
) -> Result<Fetched, Error> {
    let mut pin = match listed {
        Some((size, etag)) => ObjectPin {
            etag,
            size,
            version_id: None,
        },
        None => {
            let meta = head(shared, key).await?;
            *size_out = Some(meta.size);
            if let Some(f) = shared.finished.get(key) {
                if f.size == meta.size && f.etag == meta.etag && file_len(path) == Some(meta.size) {
                    return Ok(Fetched::AlreadyDone);
                }
                if f.size != meta.size || f.etag != meta.etag {
                    change = Some(Change::SinceJournal {
                        recorded_etag: f.etag.clone(),
                    });
                }
            }
            let wanted = permits_for(meta.size, shared.part_size, shared.budget);
            if wanted > 1 {
                // Give back the HEAD's connection before asking for more, so that tasks
                // waiting for their share never hold part of it (no deadlock).
                drop(permit);
                permit = tokio::select! {
                    biased;
                    () = shared.stop.cancelled() => return Err(cancelled()),
                    p = Arc::clone(&shared.semaphore).acquire_many_owned(wanted) => {
                        p.map_err(|_| cancelled())?
                    }
                };
            }
            meta.pin()
        }
    };
    if pin.size > shared.part_size {
        // (A small object makes its directory only if creating its file finds none.)
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::local(LocalOp::CreateDirectory, parent, e))?;
        }
        let threads = permit.num_permits();
        let listed_etag = pin.etag.clone();
        let mut download = shared
            .client
            .download(shared.bucket.clone(), key.to_owned(), path.to_owned())
            .threads(threads)
            .part_size(shared.part_size)
            .checkpoint(true)
            .on_change(OnChange::Restart)
            .durability(if shared.durable {
                Durability::Durable
            } else {
                Durability::Fast
            })
            .retry_policy(shared.retry)
            .throttle_policy(shared.throttle)
            .cancel_token(shared.stop.child_token())
            .on_progress(counting_into(Arc::clone(&shared.arrived)));
        if let Some(limiter) = &shared.limiter {
            download = download.shared_limiter(Arc::clone(limiter));
        }
        let report = download.await?;
        drop(permit);
        if report.object.etag != listed_etag && change.is_none() {
            change = Some(Change::SinceListing { listed_etag });
        }
        *size_out = Some(report.object.size);
        return Ok(Fetched::Done {
            record: Record {
                key: key.to_owned(),
                finished: Finished {
                    size: report.object.size,
                    etag: report.object.etag,
                    crc64: report.object.crc64,
                },
            },
            change,
            bytes_transferred: report.bytes_transferred,
            bytes_resumed: report.bytes_resumed,
        });
    }
    let mut attempt = 0;
    let fetched = loop {
        let job = SmallFetch {
            http: shared.client.http(),
            bucket: &shared.bucket,
            key,
            pin: &pin,
            path,
            durable: shared.durable,
            retry: shared.retry,
            throttle: shared.throttle,
            limiter: shared.limiter.as_deref(),
            cancel: &shared.stop,
            arrived: &shared.arrived,
        };
        match small::fetch(job).await {
            Ok(f) => break f,
            // Replaced since the listing: fetch the version that is there now, once.
            Err(Error::ObjectChanged { .. }) if attempt == 0 => {
                attempt += 1;
                let meta = head(shared, key).await?;
                if meta.size > shared.part_size {
                    return Err(Error::ObjectChanged {
                        detail: format!(
                            "it was replaced since the listing by a {}-byte version; run the batch again to download it",
                            meta.size
                        ),
                        part: None,
                        request_id: meta.request_id.clone(),
                    });
                }
                if change.is_none() {
                    change = Some(Change::SinceListing {
                        listed_etag: pin.etag.clone(),
                    });
                }
                *size_out = Some(meta.size);
                pin = meta.pin();
            }
            Err(e) => return Err(e),
        }
    };
    drop(permit);
    Ok(Fetched::Done {
        record: Record {
            key: key.to_owned(),
            finished: Finished {
                size: pin.size,
                etag: pin.etag.clone(),
                crc64: fetched.checked.then_some(fetched.crc64),
            },
        },
        change,
        bytes_transferred: pin.size,
        bytes_resumed: 0,
    })
}

/// HEAD, retried under the batch's fault and throttling policies as a download's is.
async fn head(shared: &Shared, key: &str) -> Result<oss_http::ObjectMeta, Error> {
    crate::engine::head::head(
        shared.client.http(),
        &RequestHeaders::new(),
        &shared.bucket,
        key,
        None,
        PartRetry::with_throttle(shared.retry, shared.throttle),
        &shared.stop,
    )
    .await
    .map(|(meta, _)| meta)
}

/// A large object's progress callback that adds the bytes it receives to `arrived` as they
/// come (its `bytes_done` less what its checkpoint already held).
fn counting_into(arrived: Arc<AtomicU64>) -> impl FnMut(&crate::Progress) + Send + 'static {
    let mut counted = 0;
    move |p| {
        let now = p.bytes_done.saturating_sub(p.bytes_resumed);
        if now > counted {
            arrived.fetch_add(now - counted, Ordering::Relaxed);
            counted = now;
        }
    }
}

fn cancelled() -> Error {
    Error::Cancelled {
        checkpoint_saved: false,
        object: None,
    }
}

#[cfg(test)]
mod tests {
    use super::permits_for;

    #[test]
    fn budget_shares() {
        assert_eq!(permits_for(0, 8, 4), 1);
        assert_eq!(permits_for(8, 8, 4), 1);
        assert_eq!(permits_for(9, 8, 4), 2);
        assert_eq!(permits_for(1000, 8, 4), 4);
    }
}
