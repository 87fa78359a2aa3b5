//! The download, start to finish: validate -> lock -> HEAD -> plan -> resume decision -> temp
//! file (space check, preallocation) -> workers + aggregator -> verify -> fdatasync -> rename
//! -> directory fsync -> delete the checkpoint -> unlock.
//!
//! [`run`] validates the arguments and takes the lock; [`Job::run`] then HEADs the object
//! and makes an [`Job::attempt`], again while the changed-object policy asks for a restart.
//! An attempt is four steps, one file each: `start.rs` (the resume decision, the temp file,
//! the first checkpoint save), `transfer.rs` (the workers and the aggregator, and how they
//! ended), `finish.rs` (CRC check, fsync, rename, report); `head.rs` is the HEAD.

mod finish;
pub(crate) mod head;
mod start;
mod transfer;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use oss_ckpt::ObjectIdentity;
use oss_ckpt::fs::CheckpointFile;
use oss_http::{ObjectMeta, PartRetry, RequestHeaders};
use oss_parts::{ByteRange, PartSize, Plan};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, LocalOp, PartRef};
use crate::failpoint::FailpointFs;
use crate::lock::DestLock;
use crate::options::{MAX_RESTARTS, OnChange, Options};
use crate::paths::temp_path;
use crate::report::Report;
use crate::validate::validate;

use start::Begin;

/// One download as the builder describes it.
pub(crate) struct Request {
    /// The client's transport (one connection pool for all its downloads).
    pub(crate) http: oss_http::Client,
    /// `host[:port]` of the client's endpoint, recorded in the checkpoint.
    pub(crate) endpoint_host: String,
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) destination: PathBuf,
    pub(crate) options: Options,
}

/// Runs a described download.
pub(crate) async fn run(request: Request) -> Result<Report, Error> {
    let started = Instant::now();
    let Request {
        http,
        endpoint_host,
        bucket,
        key,
        destination,
        options,
    } = request;
    let checked = validate(&bucket, &key, &destination, &options)?;
    let (lock, warning) = DestLock::acquire(&checked.destination, options.restart)?;
    let connections_before = http.connections_opened();
    let mut job = Job {
        lock: Arc::new(lock),
        endpoint_host,
        http,
        headers: Arc::new(checked.headers),
        bucket,
        key,
        temp_path: temp_path(&checked.destination),
        destination: checked.destination,
        ckpt_path: checked.checkpoint_path,
        options,
        warnings: warning.into_iter().collect(),
        restarts: 0,
        requests: 0,
        adaptive: None,
        head_time: None,
        tail_splits: 0,
        connections_before,
        discarded_on_request: false,
        span: None,
        window: None,
        started,
    };
    // Dropping the job releases the lock (removing the lock file) unless a progress thread
    // of a download whose future was dropped mid-run still holds it.
    job.run().await
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
    /// Ranged GETs sent by every attempt so far.
    requests: u64,
    /// What the adaptive connection count did in the last transfer, if it was on.
    adaptive: Option<crate::report::AdaptiveConnections>,
    /// How long the last HEAD took, when its first attempt succeeded: where the adaptive
    /// count starts (`adapt::start_for`).
    head_time: Option<std::time::Duration>,
    /// Runs split at the tail by every attempt so far.
    tail_splits: u64,
    /// The client's count of connections opened when the download began.
    connections_before: u64,
    /// `restart(true)` removed a checkpoint before the first attempt (reported by it).
    discarded_on_request: bool,
    /// With [`crate::Download::range`]: the object's bytes asked for, resolved against the
    /// size HEAD gave in this attempt.
    span: Option<std::ops::Range<u64>>,
    /// The byte window this attempt plans, checkpoints and writes: `None` for the whole
    /// object (also when the range asked for is all of it, so that it is checked against
    /// the object's CRC-64 and its checkpoint is the whole object's).
    window: Option<ByteRange>,
    started: Instant,
}

impl Job {
    /// HEAD and attempt, again after a changed object while [`OnChange::Restart`] allows.
    async fn run(&mut self) -> Result<Report, Error> {
        let user_cancel = self.options.cancel.clone().unwrap_or_default();
        if self.options.restart && self.options.checkpoint {
            self.discard_checkpoint_on_request()?;
        }
        loop {
            let retry = PartRetry::with_throttle(self.options.retry, self.options.throttle);
            let (meta, head_time) = head::head(
                &self.http,
                &self.headers,
                &self.bucket,
                &self.key,
                self.options.version_id.as_deref(),
                retry,
                &user_cancel,
            )
            .await?;
            self.head_time = head_time;
            let (detail, part, request_id) =
                match self.attempt(meta, user_cancel.child_token()).await {
                    Ok(report) => return Ok(report),
                    Err(Stop::Error(e)) => return Err(e),
                    Err(Stop::Changed {
                        detail,
                        part,
                        request_id,
                    }) => (detail, part, request_id),
                };
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

    /// `restart(true)`: removes the checkpoint unread. Under the lock (held by the caller
    /// for the whole run), so nobody is using it.
    fn discard_checkpoint_on_request(&mut self) -> Result<(), Error> {
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
        Ok(())
    }

    /// One attempt on the object as HEAD described it: decide where to start, open the
    /// temp file, run the workers, finish.
    async fn attempt(
        &mut self,
        meta: ObjectMeta,
        cancel: CancellationToken,
    ) -> Result<Report, Stop> {
        self.resolve_window(meta.size)?;
        let plan = self.plan(self.window.map_or(meta.size, |w| w.len()))?;
        let boot = self.options.hooks.boot.boot_id();
        let identity = self.object_identity(&meta);
        let (resumed, ckpt_use) = match self.decide_start(&identity, plan, &meta, &boot).await? {
            Begin::AlreadyComplete { crc64 } => {
                return Ok(self.already_complete(meta, plan, crc64)?);
            }
            Begin::Download { resumed, ckpt_use } => (resumed, ckpt_use),
        };
        let (ckpt, file) = self.open_temp_file(resumed, identity, plan, boot)?;
        let ckpt_file = self.first_save(&ckpt)?;
        let bytes_resumed = ckpt.latest.bytes_done();
        let file = Arc::new(file);
        let ended = self
            .transfer(&meta, ckpt, ckpt_file, &file, bytes_resumed, cancel)
            .await?;
        let transferred = self.settle(ended, &meta)?;
        let report = self.finish(meta, file, transferred, bytes_resumed, ckpt_use)?;
        Ok(report)
    }

    /// The range asked for, against the object's `size` as HEAD gave it: the bytes it
    /// selects, and the window to plan ([`Job::window`]). Before any GET: a range that
    /// starts at or past the end is [`Error::RangeNotSatisfiable`], naming the size.
    fn resolve_window(&mut self, size: u64) -> Result<(), Error> {
        let Some(range) = self.options.range else {
            return Ok(());
        };
        let span = range.resolve(size)?;
        self.window = if span.start == 0 && span.end == size {
            None
        } else {
            Some(
                ByteRange::new(span.start, span.end).map_err(|e| Error::Internal {
                    detail: format!("the resolved range: {e}"),
                })?,
            )
        };
        self.span = Some(span);
        Ok(())
    }

    /// The object as a checkpoint records it.
    fn object_identity(&self, meta: &ObjectMeta) -> ObjectIdentity {
        ObjectIdentity {
            endpoint_host: self.endpoint_host.clone(),
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            version_id: meta.version_id.clone(),
            etag: meta.etag.clone(),
            size: meta.size,
            last_modified: meta.last_modified.map(http_date).unwrap_or_default(),
            crc64: meta.crc64,
        }
    }

    /// The parts of an object of `size` bytes (see [`plan`]).
    fn plan(&self, size: u64) -> Result<Plan, Error> {
        plan(size, self.options.part_size)
    }

    fn ckpt_file(&self) -> CheckpointFile<FailpointFs> {
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

    /// A local I/O error on the temp data file.
    fn local(&self, op: LocalOp, e: io::Error) -> Error {
        Error::local(op, &self.temp_path, e)
    }
}

/// The parts of `size` bytes: in the part size asked for, or in the default one, raised when
/// the object would need more parts than a plan may have.
pub(crate) fn plan(size: u64, part_size: Option<u64>) -> Result<Plan, Error> {
    // No part size at all can plan it: the server's answer is the problem, not ours.
    if Plan::new(size, PartSize::MAX).is_err() {
        return Err(Error::ObjectTooLarge { size });
    }
    let invalid = |e: oss_parts::PartsError| Error::invalid("part_size", e.to_string());
    match part_size {
        Some(bytes) => Plan::new(size, PartSize::new(bytes).map_err(invalid)?).map_err(invalid),
        None => match Plan::new(size, PartSize::DEFAULT) {
            Ok(plan) => Ok(plan),
            Err(e) => {
                let bigger = e
                    .min_part_size()
                    .ok_or_else(|| Error::invalid("part_size", e.to_string()))?;
                Plan::new(size, bigger).map_err(invalid)
            }
        },
    }
}

/// `time` as an HTTP date, as the checkpoint records `Last-Modified`. Total: httpdate's
/// formatter panics past year 9999, which a parsed header never reaches, but a formatter
/// must not be where a hostile value could panic; such a time is recorded as its seconds.
fn http_date(time: std::time::SystemTime) -> String {
    const LAST_FOUR_DIGIT_YEAR: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(since) if since.as_secs() <= LAST_FOUR_DIGIT_YEAR => httpdate::fmt_http_date(time),
        Ok(since) => format!("@{}", since.as_secs()),
        Err(_) => String::new(),
    }
}

fn remove_if_exists(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("could not remove {}: {e}", path.display()),
    }
}
