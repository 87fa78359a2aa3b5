//! The download builder: the C SDK's parameters with its defaults, and what we add.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use oss_http::{RetryPolicy, ThrottlePolicy};
use tokio_util::sync::CancellationToken;

use crate::engine::{self, Request};
use crate::error::Error;
use crate::options::{Durability, OnChange, Options};
use crate::report::{Progress, Report};

/// One download, described by builder calls and started by `.await` (or
/// [`Download::blocking`]). Made by [`crate::Client::download`].
///
/// Defaults are the C SDK's: one thread, checkpoint off, checkpoint path `{destination}.cp`
/// when it is turned on; the part size defaults to [`oss_parts::PartSize::DEFAULT`] (8 MiB),
/// raised only when an object would need more than [`oss_parts::MAX_PARTS`] parts.
#[must_use = "a download does nothing until it is awaited"]
pub struct Download {
    /// The client's transport and its endpoint's `host[:port]` (what a checkpoint records).
    http: oss_http::Client,
    endpoint_host: String,
    bucket: String,
    key: String,
    destination: PathBuf,
    options: Options,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        f.debug_struct("Download")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("destination", &self.destination)
            .field("part_size", &o.part_size)
            .field("threads", &o.threads)
            .field("threads_auto", &o.threads_auto)
            .field("range", &o.range)
            .field("checkpoint", &o.checkpoint)
            .field("durability", &o.durability)
            .finish_non_exhaustive()
    }
}

impl Download {
    pub(crate) fn new(
        http: oss_http::Client,
        endpoint_host: String,
        bucket: String,
        key: String,
        destination: PathBuf,
    ) -> Self {
        Self {
            http,
            endpoint_host,
            bucket,
            key,
            destination,
            options: Options::default(),
        }
    }

    /// Bytes per ranged part, 1 B ..= 5 GiB (the C SDK's `part_size`). Checked before any
    /// request.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.options.part_size = Some(bytes);
        self
    }

    /// Concurrent part downloads, 1 ..= 1024 (the C SDK's `thread_num`; default 1): a fixed
    /// pool of this many workers, each on its own connection, pulls the next missing parts.
    pub fn threads(mut self, threads: usize) -> Self {
        self.options.threads = threads;
        self.options.threads_auto = false;
        self
    }

    /// An adaptive connection count, at most `max` (1 ..= 1024) instead of a fixed one: it
    /// starts with 8 workers, or 16 on a long path (the HEAD took 80 ms or more: a round
    /// trip of about 40 ms, where every connection spends its first half second in slow
    /// start), never more than `max`, and doubles the count while the aggregate
    /// rate keeps rising by 10% or more per step (measured over 0.5 s windows); a step that
    /// did not help is undone and the count holds. A throttling answer (503 throttling
    /// codes, 429) undoes the doubling that caused it, or halves the count, and growth then
    /// goes one connection at a time up to one below the count that was throttled. Each
    /// change is logged at info level and listed in [`crate::Report::adaptive`].
    /// [`Download::threads`] after this sets a fixed count again.
    pub fn threads_auto(mut self, max: usize) -> Self {
        self.options.threads = max;
        self.options.threads_auto = true;
        self
    }

    /// The most bytes one ranged GET asks for (default: none; each worker sizes its requests
    /// by the rate and latency it sees, 4 MiB ..= 64 MiB, and never past a part that is done
    /// or another worker's). A request covers whole consecutive parts, at least one, so a
    /// limit at or below the part size means one GET per part. Only the request count
    /// changes: the checkpoint, the CRCs, resume and progress stay per part.
    pub fn max_request_size(mut self, bytes: u64) -> Self {
        self.options.max_request = Some(bytes);
        self
    }

    /// Whether workers take over the rest of a run that is far behind (default: on): when a
    /// run's remaining bytes at its observed rate (judged after 12 round trips of the link)
    /// would take at least three times what a fresh request on another worker's connection
    /// would. While parts are still waiting, the worker about to take a new part takes
    /// instead all of the slow run but what is already on its way to it (the slow
    /// connection is closed, its worker goes on with fresh parts); at the tail, an idle
    /// worker takes as many of its last bytes as make both finish together (whole parts, or
    /// the rest of the part the slow run is writing). The slow run stops at its new end.
    /// Each byte is still written once, the CRC-64 stays exact, and the checkpoint records
    /// a part cut in two only once both halves are written (a crash before re-fetches the
    /// second half). [`crate::Report::tail_splits`] counts the splits; each is logged at
    /// info level. Runs at similar rates are never split.
    pub fn tail_splitting(mut self, on: bool) -> Self {
        self.options.tail_split = on;
        self
    }

    /// Download this version of the object (versioned buckets). Without it, the version
    /// HEAD reports is pinned for every part.
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.options.version_id = Some(version_id.into());
        self
    }

    /// Download only this byte range of the object into the destination (default: the whole
    /// object). Resumable like a whole object: the parts, the checkpoint and the temp file
    /// are the range's, and the checkpoint records the range, so a later call resumes it only
    /// for the same range of the same object — another range, or a changed object, starts
    /// over, with the reason in [`crate::Report::checkpoint`].
    ///
    /// A range whose last byte is before its first, or a suffix of 0 bytes, is
    /// [`Error::InvalidArgument`] before any request; one that starts at or past the end of
    /// the object is [`Error::RangeNotSatisfiable`] (naming the object's size) after HEAD and
    /// before any GET; one that ends past it stops at the object's last byte. OSS has a
    /// CRC-64 for whole objects only: the range's CRC-64 is computed as its bytes are written
    /// and reported ([`crate::Report::crc64`]) but cannot be checked
    /// ([`crate::Report::crc64_verified`] is false) — unless the range is the whole object,
    /// which is then downloaded, checked and checkpointed as the whole object. The object's
    /// ETag and CRC-64 are not recorded on a range's file ([`Download::record_source`]).
    pub fn range(mut self, range: crate::ObjectRange) -> Self {
        self.options.range = Some(range);
        self
    }

    /// A header sent on HEAD and on every part GET of this download (e.g.
    /// `x-oss-request-payer: requester`, `x-oss-traffic-limit`, SSE-C headers), over the
    /// client's shared connection pool. A name the client also sets
    /// ([`crate::ClientBuilder::header`]) is replaced by this value for this download.
    /// Checked before any request: a header the client controls (`Authorization`, `Range`,
    /// `If-Match`, `Date`...) or an invalid name or value is [`Error::InvalidArgument`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.headers.push((name.into(), value.into()));
        self
    }

    /// Limit the whole download (all workers together, one token bucket) to about
    /// `bytes_per_sec`.
    pub fn bandwidth_limit(mut self, bytes_per_sec: u64) -> Self {
        self.options.bandwidth = Some(bytes_per_sec);
        self
    }

    /// A batch's bandwidth limit, shared with the batch's other objects.
    pub(crate) fn shared_limiter(
        mut self,
        limiter: std::sync::Arc<crate::ratelimit::TokenBucket>,
    ) -> Self {
        self.options.shared_limiter = Some(limiter);
        self
    }

    /// Called with the progress (bytes and parts done, rate) from one background thread, at
    /// most every 100 ms (see [`Download::progress_interval`]) and once at the end. Keep it
    /// quick: it runs on the thread that records progress.
    pub fn on_progress(mut self, callback: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.options.progress = Some(Box::new(callback));
        self
    }

    /// The shortest time between two progress calls (default 100 ms).
    pub fn progress_interval(mut self, interval: Duration) -> Self {
        self.options.progress_interval = interval;
        self
    }

    /// Stop when `token` is cancelled: in-flight writes drain, the checkpoint (when on) is
    /// saved once more, and the download returns [`Error::Cancelled`].
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.options.cancel = Some(token);
        self
    }

    /// What to do when the object changes (default [`OnChange::Fail`]).
    pub fn on_change(mut self, policy: OnChange) -> Self {
        self.options.on_change = policy;
        self
    }

    /// Record progress and resume from it on the next call (the C SDK's
    /// `enable_checkpoint`; default off). The checkpoint is deleted when the download
    /// completes.
    pub fn checkpoint(mut self, enable: bool) -> Self {
        self.options.checkpoint = enable;
        self
    }

    /// Where the checkpoint lives (default `{destination}.cp`, as the C SDK documents). The
    /// lock is still `{destination}.lock`.
    pub fn checkpoint_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.checkpoint_path = Some(path.into());
        self
    }

    /// Start over: discard the checkpoint found at the checkpoint path unread — even one of
    /// another download, or one written by a newer version, which are otherwise refused
    /// ([`Error::Checkpoint`]) — and download from the beginning (default off). The file is
    /// removed under this download's own lock on the destination, so a run that is using
    /// it is never robbed of it: while one holds the lock this call fails with
    /// [`Error::Locked`] and removes nothing. [`crate::Report::checkpoint`] then says
    /// [`crate::FreshReason::Restarted`] if there was one. Has no effect with the checkpoint
    /// off (nothing is read or written at the checkpoint path then).
    pub fn restart(mut self, restart: bool) -> Self {
        self.options.restart = restart;
        self
    }

    /// Durable (default) or fast; see [`Durability`].
    pub fn durability(mut self, durability: Durability) -> Self {
        self.options.durability = durability;
        self
    }

    /// In durable mode, how often the data is fdatasynced and a durable snapshot saved
    /// (default 100 ms; at least 1 ms). Frequent syncs keep the disk writing while the
    /// download runs, so the final fsync has little left and a power cut loses less
    /// (measurements in `docs/crash-safety.md`). The interval counts from each sync's start
    /// and one sync runs at a time: on a disk slower than that, syncs run back to back.
    pub fn sync_interval(mut self, interval: Duration) -> Self {
        self.options.sync_interval = interval;
        self
    }

    /// How often progress is committed to the checkpoint without fsync (default 10 ms; a
    /// kill loses about this much transfer). At least 1 ms.
    pub fn commit_interval(mut self, interval: Duration) -> Self {
        self.options.commit_interval = interval;
        self
    }

    /// On resume, re-read the done ranges and check them against the recorded CRCs before
    /// trusting them (default off); a mismatch discards the checkpoint and starts over.
    pub fn verify_on_resume(mut self, verify: bool) -> Self {
        self.options.verify_on_resume = verify;
        self
    }

    /// Preallocate the temp file with `fallocate` (default on; falls back to a sparse file
    /// where unsupported).
    pub fn preallocate(mut self, on: bool) -> Self {
        self.options.preallocate = on;
        self
    }

    /// Check free space before the first GET (default on).
    ///
    /// With it off, an object larger than the free space is caught by the preallocation
    /// instead (or, without preallocation, by the write that finds the disk full). Keep it
    /// on where other programs share the disk: on ext4 a `fallocate` that runs out of space
    /// keeps the blocks it got until the temp file is removed, so for a moment the disk is
    /// full for every process. (That is how this crate's own tests once failed each other.)
    pub fn check_free_space(mut self, on: bool) -> Self {
        self.options.check_free_space = on;
        self
    }

    /// Give the file the object's `Last-Modified` as its modification time (default off, as
    /// the C SDK leaves it). Set on the temp file before the final rename, so the
    /// destination never appears with another time; an object without `Last-Modified`
    /// keeps the time of the download.
    pub fn preserve_mtime(mut self, on: bool) -> Self {
        self.options.preserve_mtime = on;
        self
    }

    /// Record the object's ETag and CRC-64 on the file as extended attributes
    /// (`user.oss.etag`, `user.oss.crc64`; read them with [`crate::recorded_source`]), set
    /// before the final rename (default off). A filesystem without user attributes is a
    /// warning in [`crate::Report::warnings`], not an error.
    pub fn record_source(mut self, on: bool) -> Self {
        self.options.record_source = on;
        self
    }

    /// The per-part retry policy for faults — connection failures, timeouts, stalled or cut
    /// bodies, 5xx other than throttling (default [`RetryPolicy::default`]: 6 attempts in a
    /// row without progress, 200 ms .. 20 s full-jitter backoff). OSS's throttling answers
    /// are retried under [`Download::throttle_policy`] instead.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = policy;
        self
    }

    /// The per-part retry policy for OSS's throttling answers — `503` with a throttling code
    /// (`ServiceUnavailable`, `DownloadTrafficRateLimitExceeded`, ...) and `429
    /// QpsLimitExceeded` — which OSS sends exactly when it is loaded (default
    /// [`ThrottlePolicy::default`]: 16 attempts in a row without progress, 500 ms .. 20 s
    /// full-jitter backoff, so a server that never stops throttling ends the download after
    /// at most 211.5 s of waiting, with its OSS code). Also used for the HEAD.
    pub fn throttle_policy(mut self, policy: ThrottlePolicy) -> Self {
        self.options.throttle = policy;
        self
    }

    /// Runs the download on a private tokio runtime, for callers without one. Returns
    /// [`Error::InsideRuntime`] (never panics) when called on a runtime thread.
    pub fn blocking(self) -> Result<Report, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::InsideRuntime);
        }
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(self.options.threads.max(1));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        runtime.block_on(self.into_future())
    }
}

#[cfg(feature = "failpoints")]
impl Download {
    /// Testing only (feature `failpoints`): data writes fail with ENOSPC once `bytes` were
    /// written in this run.
    pub fn inject_enospc_after(mut self, bytes: u64) -> Self {
        self.options.hooks.enospc_after = Some(bytes);
        self
    }

    /// Testing only (feature `failpoints`): the data file's fdatasync fails with EIO.
    pub fn inject_sync_failure(mut self) -> Self {
        self.options.hooks.data_sync.fail = true;
        self
    }

    /// Testing only (feature `failpoints`): every fdatasync of the data file (the periodic
    /// ones and the final one) calls `seam` instead, on the thread that would sync; what
    /// `seam` returns is the sync's result. A test records what a power cut would keep.
    pub fn inject_data_sync(
        mut self,
        seam: impl Fn(&std::fs::File) -> std::io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.options.hooks.data_sync.seam = Some(std::sync::Arc::new(seam));
        self
    }

    /// Testing only (feature `failpoints`): run as if the machine's boot id were `boot`
    /// (`None`: unknown), to simulate a reboot between runs.
    pub fn simulate_boot_id(mut self, boot: Option<&[u8]>) -> Self {
        let boot = boot.and_then(|id| oss_ckpt::BootId::new(id.to_vec()));
        self.options.hooks.boot = crate::options::BootIdSource::Simulated(boot);
        self
    }

    /// Testing only (feature `failpoints`): an idle worker at the tail looks again for a
    /// run to split every `poll` unless a run's end or a leaving worker wakes it first
    /// (default 100 ms).
    pub fn tail_poll(mut self, poll: std::time::Duration) -> Self {
        self.options.hooks.tail_poll = Some(poll);
        self
    }
}

impl IntoFuture for Download {
    type Output = Result<Report, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(engine::run(Request {
            http: self.http,
            endpoint_host: self.endpoint_host,
            bucket: self.bucket,
            key: self.key,
            destination: self.destination,
            options: self.options,
        }))
    }
}
