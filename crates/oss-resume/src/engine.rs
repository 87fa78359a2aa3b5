//! The download, start to finish: validate -> lock -> HEAD -> plan -> resume decision -> temp
//! file (space check, preallocation) -> workers + aggregator -> verify -> fdatasync -> rename
//! -> directory fsync -> delete the checkpoint -> unlock.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oss_ckpt::fs::{CheckpointFile, SaveKind};
use oss_ckpt::{BootId, Checkpoint, Expected, LocalFiles, ObjectIdentity};
use oss_http::{JitterRng, ObjectMeta, PartRetry, RequestHeaders, RetryDecision};
use oss_parts::{PartSize, Plan};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::aggregator::{Aggregator, CkptFile, Outcome, save_checkpoint};
use crate::download::{Download, Durability, MAX_RESTARTS, OnChange, Options};
use crate::error::{Error, LocalOp, PartRef};
use crate::failpoint::{self, FailpointFs};
use crate::lock::DestLock;
use crate::names::validate_bucket_name;
use crate::paths::{parent_dir, temp_path, with_suffix};
use crate::ratelimit::TokenBucket;
use crate::report::{CheckpointUse, FreshReason, Report};
use crate::resume::{self, Start};
use crate::scheduler::Scheduler;
use crate::space::{self, Prealloc};
use crate::worker::{Ctx, PartFailure, run_worker};

/// The most concurrent part downloads (the C SDK accepts up to 1024 too).
pub const MAX_THREADS: usize = 1024;

/// Runs a described download.
pub(crate) async fn run(d: Download) -> Result<Report, Error> {
    let started = Instant::now();
    let Download {
        client,
        bucket,
        key,
        destination,
        options,
    } = d;
    let (destination, ckpt_path) = validate(&bucket, &key, &destination, &options)?;
    let headers = Arc::new(request_headers(&options.headers)?);
    let (lock, warning) = DestLock::acquire(&destination)?;
    let mut job = Job {
        lock: Arc::new(lock),
        endpoint_host: client.endpoint_host().to_owned(),
        http: client.http().clone(),
        headers,
        bucket,
        key,
        temp_path: temp_path(&destination),
        destination,
        ckpt_path,
        options,
        warnings: warning.into_iter().collect(),
        restarts: 0,
        discarded_on_request: false,
        started,
    };
    // Dropping the job releases the lock (removing the lock file) unless a progress thread
    // of a download whose future was dropped mid-run still holds it.
    job.run().await
}

/// Checks every argument before anything touches the network or the disk; returns the
/// absolute destination and checkpoint paths.
fn validate(
    bucket: &str,
    key: &str,
    destination: &Path,
    o: &Options,
) -> Result<(PathBuf, PathBuf), Error> {
    if bucket.is_empty() {
        return Err(Error::invalid("bucket", "it is empty; name the bucket"));
    }
    validate_bucket_name(bucket)?;
    if key.is_empty() {
        return Err(Error::invalid("key", "it is empty; name the object"));
    }
    if let Some(bytes) = o.part_size {
        PartSize::new(bytes).map_err(|e| Error::invalid("part_size", e.to_string()))?;
    }
    if o.threads == 0 {
        return Err(Error::invalid(
            "threads",
            "it is 0; use 1 or more (1 is the C SDK's default)",
        ));
    }
    if o.threads > MAX_THREADS {
        return Err(Error::invalid(
            "threads",
            format!("{} is more than {MAX_THREADS}; use fewer", o.threads),
        ));
    }
    if o.bandwidth == Some(0) {
        return Err(Error::invalid(
            "bandwidth_limit",
            "it is 0 bytes per second; give a positive rate, or none for no limit",
        ));
    }
    for (name, value) in [
        ("commit_interval", o.commit_interval),
        ("sync_interval", o.sync_interval),
        ("progress_interval", o.progress_interval),
    ] {
        if value < Duration::from_millis(1) {
            return Err(Error::invalid(
                name,
                "it is under 1 ms; use a longer interval",
            ));
        }
    }
    o.retry
        .validate()
        .map_err(|e| Error::invalid("retry_policy", e.to_string()))?;
    o.throttle
        .validate()
        .map_err(|e| Error::invalid("throttle_policy", e.to_string()))?;

    let destination = checked_file_path("destination", destination)?;
    let ckpt_path = match &o.checkpoint_path {
        Some(p) => checked_file_path("checkpoint_path", p)?,
        None => oss_ckpt::fs::default_path(&destination),
    };
    if o.checkpoint {
        // A save writes `{checkpoint}.tmp` and renames it over the checkpoint: neither name
        // may be one of the download's own files (a checkpoint `x` for the destination
        // `x.tmp` would truncate an existing destination at the first save).
        let ckpt_temp = CheckpointFile::new(&ckpt_path).temp_path().to_path_buf();
        for (what, other) in [
            ("the destination", destination.clone()),
            ("the temp data file", temp_path(&destination)),
            ("the lock file", with_suffix(&destination, ".lock")),
        ] {
            if ckpt_path == other {
                return Err(Error::invalid(
                    "checkpoint_path",
                    format!("it is {what}; choose another path"),
                ));
            }
            if ckpt_temp == other {
                return Err(Error::invalid(
                    "checkpoint_path",
                    format!(
                        "saving it writes `{}`, which is {what}; choose another path",
                        ckpt_temp.display()
                    ),
                ));
            }
        }
    }
    Ok((destination, ckpt_path))
}

/// The download's own headers, checked by oss-http's rules (the client-wide ones were
/// checked when the client was built).
fn request_headers(headers: &[(String, String)]) -> Result<RequestHeaders, Error> {
    let mut out = RequestHeaders::new();
    for (name, value) in headers {
        out.insert(name, value).map_err(|e| match e {
            oss_http::Error::InvalidRequest { problem } => Error::invalid("header", problem),
            other => Error::invalid("header", other.to_string()),
        })?;
    }
    Ok(out)
}

/// A path a file can be created at: not a directory, in an existing, writable directory.
fn checked_file_path(argument: &'static str, path: &Path) -> Result<PathBuf, Error> {
    if path.as_os_str().is_empty() {
        return Err(Error::invalid(argument, "it is empty; give a file path"));
    }
    let text = path.as_os_str().to_string_lossy();
    if text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) || path.is_dir() {
        return Err(Error::invalid(
            argument,
            format!(
                "`{}` is a directory; give a file path (e.g. a file name inside it)",
                path.display()
            ),
        ));
    }
    let absolute = std::path::absolute(path)
        .map_err(|e| Error::invalid(argument, format!("`{}`: {e}", path.display())))?;
    let dir = parent_dir(&absolute);
    if !dir.is_dir() {
        return Err(Error::invalid(
            argument,
            format!(
                "its directory `{}` does not exist; create it first",
                dir.display()
            ),
        ));
    }
    if !writable(&dir) {
        return Err(Error::invalid(
            argument,
            format!(
                "its directory `{}` is not writable; choose another location or fix the permissions",
                dir.display()
            ),
        ));
    }
    Ok(absolute)
}

#[cfg(unix)]
fn writable(dir: &Path) -> bool {
    rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_ok()
}

#[cfg(not(unix))]
fn writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}

/// Why one attempt stopped.
enum Stop {
    /// The object changed: the policy decides between failing and starting over.
    Changed {
        detail: String,
        part: Option<PartRef>,
        request_id: Option<String>,
    },
    Error(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Error(e)
    }
}

/// One download under its lock.
struct Job {
    /// The destination's lock, held until the job and every progress thread it started are
    /// done: a caller that drops the download's future mid-run (a timeout, a `select!`)
    /// aborts the workers, but their progress thread still makes its last checkpoint save,
    /// and a new run on the destination must not start before that.
    lock: Arc<DestLock>,
    endpoint_host: String,
    http: oss_http::Client,
    /// The download's own headers, sent on HEAD and every part GET.
    headers: Arc<RequestHeaders>,
    bucket: String,
    key: String,
    destination: PathBuf,
    temp_path: PathBuf,
    ckpt_path: PathBuf,
    options: Options,
    warnings: Vec<String>,
    restarts: u32,
    /// `restart(true)` removed a checkpoint before the first attempt (reported by it).
    discarded_on_request: bool,
    started: Instant,
}

impl Job {
    async fn run(&mut self) -> Result<Report, Error> {
        let user_cancel = self.options.cancel.clone().unwrap_or_default();
        if self.options.restart && self.options.checkpoint {
            // Under the lock (held by the caller for the whole run): nobody is using it.
            let existed = std::fs::symlink_metadata(&self.ckpt_path).is_ok();
            self.ckpt_file().remove().map_err(|e| match e {
                oss_ckpt::CkptError::Io { path, source, .. } => {
                    Error::local(LocalOp::Remove, path, source)
                }
                other => Error::Checkpoint {
                    path: self.ckpt_path.clone(),
                    source: other,
                },
            })?;
            self.discarded_on_request = existed;
            if existed {
                tracing::info!(
                    "restart: discarded the checkpoint {}",
                    self.ckpt_path.display()
                );
            }
        }
        loop {
            let meta = head(
                &self.http,
                &self.headers,
                &self.bucket,
                &self.key,
                self.options.version_id.as_deref(),
                PartRetry::with_throttle(self.options.retry, self.options.throttle),
                &user_cancel,
            )
            .await?;
            match self.attempt(meta, user_cancel.child_token()).await {
                Ok(report) => return Ok(report),
                Err(Stop::Error(e)) => return Err(e),
                Err(Stop::Changed {
                    detail,
                    part,
                    request_id,
                }) => {
                    // The old version's bytes can never be completed: drop them either way.
                    self.discard();
                    if self.options.on_change == OnChange::Restart && self.restarts < MAX_RESTARTS {
                        self.restarts += 1;
                        let note = format!("restarted: the object changed ({detail})");
                        tracing::warn!("{note}");
                        self.warnings.push(note);
                        continue;
                    }
                    return Err(Error::ObjectChanged {
                        detail,
                        part,
                        request_id,
                    });
                }
            }
        }
    }

    fn plan(&self, size: u64) -> Result<Plan, Error> {
        match self.options.part_size {
            Some(bytes) => {
                let part_size =
                    PartSize::new(bytes).map_err(|e| Error::invalid("part_size", e.to_string()))?;
                Plan::new(size, part_size).map_err(|e| Error::invalid("part_size", e.to_string()))
            }
            None => match Plan::new(size, PartSize::DEFAULT) {
                Ok(plan) => Ok(plan),
                Err(e) => {
                    let bigger = e
                        .min_part_size()
                        .ok_or_else(|| Error::invalid("part_size", e.to_string()))?;
                    Plan::new(size, bigger).map_err(|e| Error::invalid("part_size", e.to_string()))
                }
            },
        }
    }

    fn boot_id(&self) -> Option<BootId> {
        match &self.options.hooks.boot_id {
            Some(simulated) => simulated.clone().and_then(BootId::new),
            None => oss_ckpt::fs::boot_id(),
        }
    }

    fn ckpt_file(&self) -> CkptFile {
        CheckpointFile::with_fs(FailpointFs, &self.ckpt_path)
    }

    /// Removes the temp file and (with checkpointing on) the checkpoint.
    fn discard(&self) {
        remove_if_exists(&self.temp_path);
        if self.options.checkpoint {
            let _ = self.ckpt_file().remove();
        }
    }

    /// After a failure or cancellation: with the checkpoint on, keep everything for the next
    /// call; without it, remove the temp file.
    fn clean_after_failure(&self) {
        if !self.options.checkpoint {
            remove_if_exists(&self.temp_path);
        }
    }

    fn local(&self, op: LocalOp, e: io::Error) -> Error {
        Error::local(op, &self.temp_path, e)
    }

    async fn attempt(
        &mut self,
        meta: ObjectMeta,
        cancel: CancellationToken,
    ) -> Result<Report, Stop> {
        let identity = ObjectIdentity {
            endpoint_host: self.endpoint_host.clone(),
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            version_id: meta.version_id.clone(),
            etag: meta.etag.clone(),
            size: meta.size,
            last_modified: meta
                .last_modified
                .map(httpdate::fmt_http_date)
                .unwrap_or_default(),
            crc64: meta.crc64,
        };
        let plan = self.plan(meta.size)?;
        let boot = self.boot_id();
        let checkpointing = self.options.checkpoint;

        // 1. Resume decision.
        let mut ckpt_use = if checkpointing {
            CheckpointUse::Fresh { reason: None }
        } else {
            CheckpointUse::Disabled
        };
        let mut resumed: Option<(Checkpoint, File)> = None;
        if checkpointing {
            let expected = Expected {
                object: &identity,
                part_size: plan.part_size(),
                destination: &self.destination,
            };
            let ckpt_file = self.ckpt_file();
            match resume::decide(&ckpt_file, &expected, &self.temp_path, boot.as_ref())? {
                Start::Fresh { reason } => {
                    if let Some(r) = &reason {
                        tracing::info!("not resuming: {r}");
                    }
                    let asked = std::mem::take(&mut self.discarded_on_request);
                    ckpt_use = CheckpointUse::Fresh {
                        reason: reason.or(asked.then_some(FreshReason::Restarted)),
                    };
                }
                Start::ObjectChanged { reason } => {
                    if self.options.on_change == OnChange::Fail {
                        let detail = match &reason {
                            FreshReason::ObjectChanged {
                                field,
                                checkpoint,
                                now,
                            } => format!(
                                "since the checkpoint was written ({field} {checkpoint}, now {now})"
                            ),
                            other => other.to_string(),
                        };
                        return Err(Stop::Changed {
                            detail,
                            part: None,
                            request_id: meta.request_id.clone(),
                        });
                    }
                    self.discard();
                    ckpt_use = CheckpointUse::Fresh {
                        reason: Some(reason),
                    };
                }
                Start::AlreadyComplete => return Ok(self.already_complete(meta, plan)?),
                Start::Resume {
                    ckpt,
                    file,
                    snapshot,
                } => {
                    let mut verified = false;
                    let mut ok = true;
                    if self.options.verify_on_resume {
                        let data = file.try_clone().map_err(|e| self.local(LocalOp::Read, e))?;
                        let snap = ckpt.latest.clone();
                        let checked =
                            tokio::task::spawn_blocking(move || resume::verify(&data, &snap))
                                .await
                                .unwrap_or_else(|e| Err(format!("verify task: {e}")));
                        match checked {
                            Ok(()) => verified = true,
                            Err(detail) => {
                                let reason = FreshReason::VerifyFailed { detail };
                                tracing::warn!("not resuming: {reason}");
                                ckpt_use = CheckpointUse::Fresh {
                                    reason: Some(reason),
                                };
                                ok = false;
                            }
                        }
                    }
                    if ok {
                        ckpt_use = CheckpointUse::Resumed { snapshot, verified };
                        resumed = Some((*ckpt, file));
                    }
                }
            }
        }

        // 2. The temp data file. A fresh start makes a new file rather than truncating the
        // old one: a checkpoint may still describe the old one (one this run did not load,
        // checkpoint off or at another path), and a file truncated in place keeps its
        // identity (device, inode, birth time; the length comes back with the new size), so
        // that checkpoint would later trust bytes this run overwrote or zeroed.
        let (mut ckpt, file) = match resumed {
            Some((ckpt, file)) => (Some(ckpt), file),
            None => {
                match std::fs::remove_file(&self.temp_path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(self.local(LocalOp::Remove, e).into()),
                }
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&self.temp_path)
                    .map_err(|e| self.local(LocalOp::CreateTemp, e))?;
                (None, file)
            }
        };
        if let Err(e) = self.make_room(&file, meta.size) {
            if ckpt.is_none() {
                remove_if_exists(&self.temp_path);
            }
            return Err(e.into());
        }
        let temp_identity =
            oss_ckpt::fs::file_identity(&file).map_err(|e| self.local(LocalOp::CreateTemp, e))?;
        let mut ckpt = match ckpt.take() {
            Some(mut c) => {
                c.set_temp_file(temp_identity);
                c
            }
            None => {
                let local = LocalFiles {
                    destination: self.destination.clone(),
                    temp_path: self.temp_path.clone(),
                    temp_file: temp_identity,
                };
                Checkpoint::new(identity, plan, local, boot.clone()).map_err(|source| {
                    Error::Checkpoint {
                        path: self.ckpt_path.clone(),
                        source,
                    }
                })?
            }
        };
        ckpt.boot_id = boot;
        let mut ckpt_file = checkpointing.then(|| self.ckpt_file());
        if let Some(f) = ckpt_file.as_mut() {
            // Record the temp file before the first GET, so a crash from here on is resumable.
            // In durable mode this first save is durable: it replaces any earlier run's
            // checkpoint by renaming a new file over it, and that rename must not reach the
            // disk before the new file does (one fsync per run, before any data).
            let first = if self.options.durability == Durability::Durable {
                SaveKind::Durable
            } else {
                SaveKind::Cheap
            };
            save_checkpoint(f, &ckpt, first)?;
        }
        let bytes_resumed = ckpt.latest.bytes_done();

        // 3. Workers and the aggregator.
        let file = Arc::new(file);
        let threads = self.options.threads;
        let missing = plan.len() - ckpt.latest.done().count();
        let workers = usize::try_from(missing).unwrap_or(usize::MAX).min(threads);
        let block = (16usize << 20)
            .checked_div(threads)
            .unwrap_or(1 << 20)
            .clamp(256 << 10, 1 << 20);
        let retries = Arc::new(AtomicU64::new(0));
        let ctx = Arc::new(Ctx {
            http: self.http.clone(),
            headers: Arc::clone(&self.headers),
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            pin: meta.pin(),
            file: Arc::clone(&file),
            object_size: meta.size,
            scheduler: Mutex::new(Scheduler::new(
                plan,
                ckpt.latest.done().clone(),
                ckpt.latest.in_flight(),
            )),
            cancel: cancel.clone(),
            limiter: self.options.bandwidth.map(TokenBucket::new),
            retry: self.options.retry,
            throttle: self.options.throttle,
            block,
            flush_age: self.options.commit_interval,
            retries: Arc::clone(&retries),
            received: AtomicU64::new(0),
            on_disk: AtomicU64::new(bytes_resumed),
            written_run: AtomicU64::new(0),
            enospc_after: self.options.hooks.enospc_after,
            mid_part_fired: AtomicBool::new(false),
        });
        let aggregator = Aggregator {
            ckpt,
            file: ckpt_file,
            durability: self.options.durability,
            commit_interval: self.options.commit_interval,
            sync_interval: self.options.sync_interval,
            data: Arc::clone(&file),
            temp_path: self.temp_path.clone(),
            fail_sync: self.options.hooks.fail_sync,
            progress: self.options.progress.take(),
            progress_interval: self.options.progress_interval,
            bytes_resumed,
            retries: Arc::clone(&retries),
            cancel: cancel.clone(),
        };
        let (events_tx, events_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Outcome>();
        let lock = Arc::clone(&self.lock);
        std::thread::Builder::new()
            .name("oss-resume-progress".into())
            .spawn(move || {
                let outcome = aggregator.run(events_rx);
                // Let go of the lock before reporting: the job must be its last holder
                // whenever it is still waiting for this.
                drop(lock);
                let _ = done_tx.send(outcome);
            })
            .map_err(|e| self.local(LocalOp::Checkpoint, e))?;

        let mut set = JoinSet::new();
        for _ in 0..workers {
            set.spawn(run_worker(Arc::clone(&ctx), events_tx.clone()));
        }
        drop(events_tx);
        let mut failure: Option<PartFailure> = None;
        let mut panicked: Option<String> = None;
        while let Some(joined) = set.join_next().await {
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
        }
        let outcome = done_rx.await.map_err(|_| {
            self.local(
                LocalOp::Checkpoint,
                io::Error::other("the progress thread stopped unexpectedly"),
            )
        })?;
        // Let the progress callback survive into a restart.
        self.options.progress = outcome.progress;
        let retries = retries.load(Ordering::Relaxed);
        let received = ctx.received.load(Ordering::Relaxed);
        drop(ctx);

        // 4. How it ended.
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
            return Err(self
                .local(
                    LocalOp::Write,
                    io::Error::other(format!("a worker panicked: {message}")),
                )
                .into());
        }
        match failure {
            Some(PartFailure::Changed { part, source }) => {
                return Err(Stop::Changed {
                    detail: source.to_string(),
                    part: Some(part),
                    request_id: source.request_id().map(str::to_owned),
                });
            }
            Some(PartFailure::Archived { code, request_id }) => {
                self.clean_after_failure();
                return Err(Error::ObjectArchived { code, request_id }.into());
            }
            Some(PartFailure::Remote {
                part,
                attempts,
                source,
            }) => {
                self.clean_after_failure();
                return Err(Error::Part {
                    part,
                    attempts,
                    source,
                }
                .into());
            }
            Some(PartFailure::Local { part, source }) => {
                self.clean_after_failure();
                return Err(Error::LocalIo {
                    op: LocalOp::Write,
                    path: self.temp_path.clone(),
                    part: Some(part),
                    source,
                }
                .into());
            }
            Some(PartFailure::Cancelled) | None => {}
        }
        let mut ckpt = outcome.ckpt;
        if !ckpt.latest.is_complete() {
            self.clean_after_failure();
            return Err(Error::Cancelled {
                checkpoint_saved: outcome.saved,
            }
            .into());
        }

        // 5. Verify, sync, rename.
        failpoint::hit(failpoint::PARTS_DONE);
        let mut ckpt_file = outcome.file;
        let actual = ckpt.latest.object_crc().unwrap_or(0);
        if let Some(expected) = meta.crc64
            && expected != actual
        {
            // Delete both, so a retry can neither loop on nor accept the bad bytes.
            self.discard();
            return Err(Error::CrcMismatch { expected, actual }.into());
        }
        let durable = self.options.durability == Durability::Durable;
        if durable {
            let snapshot = ckpt.latest.clone();
            let synced = if self.options.hooks.fail_sync {
                Err(io::Error::from_raw_os_error(5))
            } else {
                file.sync_data()
            };
            if let Err(source) = synced {
                self.discard();
                return Err(Error::SyncFailed {
                    path: self.temp_path.clone(),
                    source,
                }
                .into());
            }
            failpoint::hit(failpoint::DATA_SYNCED);
            if let Some(f) = ckpt_file.as_mut() {
                ckpt.durable = snapshot;
                if let Err(e) = save_checkpoint(f, &ckpt, SaveKind::Durable) {
                    // The checkpoint's fsync failed: as in the aggregator, nothing of this
                    // download is trusted any more (and SyncFailed says it was deleted).
                    if matches!(e, Error::SyncFailed { .. }) {
                        self.discard();
                    }
                    return Err(e.into());
                }
            }
        }
        drop(file);
        std::fs::rename(&self.temp_path, &self.destination)
            .map_err(|e| Error::local(LocalOp::Rename, &self.destination, e))?;
        if durable {
            sync_dir(&parent_dir(&self.destination))?;
        }
        failpoint::hit(failpoint::DEST_RENAMED);
        if let Some(f) = ckpt_file.as_mut()
            && let Err(e) = f.remove()
        {
            self.warnings.push(format!(
                "the download is complete but deleting its checkpoint failed: {e}"
            ));
        }
        Ok(self.report(meta, &plan, received, bytes_resumed, retries, ckpt_use))
    }

    /// Free-space check and preallocation of the temp file (length `size` afterwards).
    fn make_room(&mut self, file: &File, size: u64) -> Result<(), Error> {
        if self.options.check_free_space {
            let dir = parent_dir(&self.temp_path);
            let allocated =
                space::allocated(file).map_err(|e| self.local(LocalOp::FreeSpace, e))?;
            let needed = size.saturating_sub(allocated);
            let available =
                space::free_space(&dir).map_err(|e| Error::local(LocalOp::FreeSpace, &dir, e))?;
            if available < needed {
                return Err(Error::InsufficientSpace {
                    path: self.temp_path.clone(),
                    needed,
                    available,
                });
            }
        }
        if self.options.preallocate {
            match space::preallocate(file, size) {
                Ok(Prealloc::Reserved) => {}
                Ok(Prealloc::Unsupported) => {
                    let note =
                        "the filesystem cannot preallocate; the temp file is sparse".to_owned();
                    if !self.warnings.contains(&note) {
                        self.warnings.push(note);
                    }
                }
                Err(e) if e.raw_os_error() == Some(28) => {
                    let dir = parent_dir(&self.temp_path);
                    return Err(Error::InsufficientSpace {
                        path: self.temp_path.clone(),
                        needed: size.saturating_sub(space::allocated(file).unwrap_or(0)),
                        available: space::free_space(&dir).unwrap_or(0),
                    });
                }
                Err(e) => return Err(self.local(LocalOp::Preallocate, e)),
            }
        }
        if file.metadata().map(|m| m.len()).ok() != Some(size) {
            file.set_len(size)
                .map_err(|e| self.local(LocalOp::CreateTemp, e))?;
        }
        Ok(())
    }

    /// The previous run finished everything but deleting the checkpoint.
    fn already_complete(&mut self, meta: ObjectMeta, plan: Plan) -> Result<Report, Error> {
        if self.options.durability == Durability::Durable {
            sync_dir(&parent_dir(&self.destination))?;
        }
        if let Err(e) = self.ckpt_file().remove() {
            self.warnings.push(format!(
                "the download is complete but deleting its checkpoint failed: {e}"
            ));
        }
        let size = meta.size;
        Ok(self.report(meta, &plan, 0, size, 0, CheckpointUse::AlreadyComplete))
    }

    fn report(
        &mut self,
        object: ObjectMeta,
        plan: &Plan,
        transferred: u64,
        resumed: u64,
        retries: u64,
        checkpoint: CheckpointUse,
    ) -> Report {
        Report {
            bytes_total: object.size,
            crc64_verified: object.crc64.is_some(),
            object,
            bytes_transferred: transferred,
            bytes_resumed: resumed,
            retries,
            restarts: self.restarts,
            parts_total: plan.len(),
            part_size: plan.part_size().get(),
            checkpoint,
            warnings: std::mem::take(&mut self.warnings),
            elapsed: self.started.elapsed(),
        }
    }
}

/// HEAD, retried on transient failures with the parts' policies (`retry` is fresh).
async fn head(
    http: &oss_http::Client,
    headers: &RequestHeaders,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    mut retry: PartRetry,
    cancel: &CancellationToken,
) -> Result<ObjectMeta, Error> {
    let mut rng = JitterRng::from_entropy();
    loop {
        let head = http.head_object_with(bucket, key, version_id, headers);
        let result = tokio::select! {
            biased;
            () = cancel.cancelled() => {
                return Err(Error::Cancelled { checkpoint_saved: false });
            }
            r = head => r,
        };
        let error = match result {
            Ok(meta) => return Ok(meta),
            Err(e) => e,
        };
        match retry.on_failure(error.retry_reason(), &mut rng) {
            RetryDecision::Retry { delay, .. } => {
                tracing::debug!("HEAD: retrying in {delay:?} after: {error}");
                // The backoff (up to the policy's maximum, 20 s by default) must not hold
                // up a cancellation: Ctrl-C on an unreachable endpoint stops at once.
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => {
                        return Err(Error::Cancelled { checkpoint_saved: false });
                    }
                    () = tokio::time::sleep(delay) => {}
                }
            }
            RetryDecision::GiveUp { .. } => return Err(Error::Head { source: error }),
        }
    }
}

fn remove_if_exists(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("could not remove {}: {e}", path.display()),
    }
}

/// fsync of the destination's directory, so the rename in it survives power loss. Runs
/// after the rename: a failure is not [`Error::SyncFailed`] (nothing is deleted, the file
/// is in place) but [`LocalOp::SyncDirectory`], and the checkpoint is kept so the next call
/// finishes the job ([`CheckpointUse::AlreadyComplete`]).
fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        let result = File::open(dir).and_then(|d| d.sync_all());
        result.map_err(|source| Error::local(LocalOp::SyncDirectory, dir, source))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
