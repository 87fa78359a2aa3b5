//! Many objects in one call: [`crate::Client::download_batch`] downloads a prefix listing, a
//! manifest or any stream of keys into a directory under one connection budget, resumable
//! as a whole through a journal, shardable across machines. `docs/batch.md` is the user's
//! guide; this module's items state the guarantees.

mod journal;
mod keypath;
mod outcome;
mod run;
mod shard;
mod small;

use std::fmt;
use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use oss_http::{ListVersion, RetryPolicy, ThrottlePolicy};
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::options::Durability;

pub use journal::{Finished, JOURNAL_NAME};
pub use keypath::{UnsafeKey, prefix_dir};
pub use outcome::{BatchProgress, BatchReport, Change, ObjectOutcome, ObjectStatus};
pub use shard::Shard;

/// The objects of a batch.
pub enum BatchSource {
    /// Every object whose key starts with `prefix` (ListObjectsV2, or v1), in key order. A
    /// key lands at its path below the prefix's directory part ([`prefix_dir`]):
    /// `data/2024/` puts `data/2024/a/b.txt` at `a/b.txt`.
    Prefix {
        /// The key prefix (`""`: the whole bucket).
        prefix: String,
        /// Which listing call to use.
        version: ListVersion,
    },
    /// Keys from a manifest or any other source, each with an optional destination
    /// relative to the destination directory (without one, the whole key is the path). Their
    /// sizes are unknown, so each costs a HEAD before its GETs. The iterator runs on a
    /// thread of its own (it may block, e.g. reading stdin), at most the look-ahead ahead.
    Items(Box<dyn Iterator<Item = BatchItem> + Send>),
}

impl BatchSource {
    /// A prefix listing with ListObjectsV2.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        BatchSource::Prefix {
            prefix: prefix.into(),
            version: ListVersion::V2,
        }
    }

    /// Any iterator of items.
    pub fn items(items: impl IntoIterator<Item = BatchItem, IntoIter: Send + 'static>) -> Self {
        BatchSource::Items(Box::new(items.into_iter()))
    }
}

impl fmt::Debug for BatchSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchSource::Prefix { prefix, version } => f
                .debug_struct("Prefix")
                .field("prefix", prefix)
                .field("version", version)
                .finish(),
            BatchSource::Items(_) => f.write_str("Items(..)"),
        }
    }
}

/// One object named by a manifest: its key and, optionally, where it goes (a relative path
/// under the destination, checked like a key: see [`UnsafeKey`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    /// The object key.
    pub key: String,
    /// Its path relative to the destination directory (default: the key).
    pub destination: Option<String>,
}

impl BatchItem {
    /// The object `key`, at the path the key names.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            destination: None,
        }
    }

    /// The object `key`, at `destination` under the destination directory.
    pub fn to(key: impl Into<String>, destination: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            destination: Some(destination.into()),
        }
    }
}

/// The default connection budget of a batch.
pub const DEFAULT_BATCH_THREADS: usize = 8;

/// How many listed objects wait ahead of the downloads, at most (the look-ahead).
pub const DEFAULT_LOOKAHEAD: usize = 2000;

pub(crate) type ObjectFn = Box<dyn FnMut(&ObjectOutcome) + Send>;
pub(crate) type BatchProgressFn = Box<dyn FnMut(&BatchProgress) + Send>;
pub(crate) type FilterFn = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// A batch's settings.
pub(crate) struct BatchOptions {
    pub(crate) threads: usize,
    pub(crate) part_size: Option<u64>,
    pub(crate) filter: Option<FilterFn>,
    pub(crate) shard: Option<Shard>,
    pub(crate) fail_fast: bool,
    pub(crate) dry_run: bool,
    pub(crate) journal_path: Option<PathBuf>,
    pub(crate) restart: bool,
    pub(crate) durability: Durability,
    pub(crate) bandwidth: Option<u64>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) on_object: Option<ObjectFn>,
    pub(crate) on_progress: Option<BatchProgressFn>,
    pub(crate) progress_interval: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) throttle: ThrottlePolicy,
    pub(crate) lookahead: usize,
    pub(crate) max_failures_kept: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            threads: DEFAULT_BATCH_THREADS,
            part_size: None,
            filter: None,
            shard: None,
            fail_fast: false,
            dry_run: false,
            journal_path: None,
            restart: false,
            durability: Durability::Durable,
            bandwidth: None,
            cancel: None,
            on_object: None,
            on_progress: None,
            progress_interval: Duration::from_millis(100),
            retry: RetryPolicy::default(),
            throttle: ThrottlePolicy::default(),
            lookahead: DEFAULT_LOOKAHEAD,
            max_failures_kept: 1000,
        }
    }
}

/// A batch download, described by builder calls and started by `.await`. Made by
/// [`crate::Client::download_batch`].
///
/// What it guarantees:
/// - **One budget**: at most [`BatchDownload::threads`] connections at once for the whole
///   batch. An object of at most one part is one GET — no HEAD: the listing's ETag and
///   size pin it and the GET's headers verify it (CRC-64 too). A larger object takes
///   `min(threads, parts)` of the budget and is downloaded as [`crate::Client::download`]
///   does, with its own checkpoint beside it.
/// - **Bounded memory**: the listing runs at most [`BatchDownload::lookahead`] objects
///   ahead of the downloads; memory does not grow with the number of objects listed (the
///   journal of a rerun is read into memory: about 100 bytes per finished object).
/// - **Resumable as a whole**: each finished object is recorded in the journal (key, size,
///   ETag, CRC-64), durably (fsynced in groups) after its file was. A rerun skips an object
///   only when the journal's size and ETag equal the listing's and the file is there with
///   that size; an object that changed is downloaded again ([`Change::SinceJournal`]).
/// - **Errors per object**: a failed object is reported ([`ObjectStatus::Failed`], with its
///   OSS code and request id) and the others go on, unless [`BatchDownload::fail_fast`].
/// - **Nothing outside the destination**: keys that would escape it, or that no filesystem
///   can hold safely, are reported ([`ObjectStatus::Unsafe`]) and skipped.
#[must_use = "a batch does nothing until it is awaited"]
pub struct BatchDownload {
    pub(crate) client: crate::Client,
    pub(crate) bucket: String,
    pub(crate) source: BatchSource,
    pub(crate) destination: PathBuf,
    pub(crate) options: BatchOptions,
}

impl fmt::Debug for BatchDownload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchDownload")
            .field("bucket", &self.bucket)
            .field("source", &self.source)
            .field("destination", &self.destination)
            .field("threads", &self.options.threads)
            .field("shard", &self.options.shard)
            .finish_non_exhaustive()
    }
}

impl BatchDownload {
    /// The connection budget shared by every object (1 ..= [`crate::MAX_THREADS`]; default
    /// [`DEFAULT_BATCH_THREADS`]).
    pub fn threads(mut self, threads: usize) -> Self {
        self.options.threads = threads;
        self
    }

    /// The part size of large objects (objects of at most this size are one GET; default
    /// [`oss_parts::PartSize::DEFAULT`]).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.options.part_size = Some(bytes);
        self
    }

    /// Only keys for which `keep` returns true (include/exclude patterns); applied before
    /// anything else, so a skipped key costs nothing.
    pub fn filter(mut self, keep: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.options.filter = Some(Box::new(keep));
        self
    }

    /// Only the keys of this shard ([`Shard::contains`]).
    pub fn shard(mut self, shard: Shard) -> Self {
        self.options.shard = Some(shard);
        self
    }

    /// Stop at the first failed object (default: go on and report every failure).
    pub fn fail_fast(mut self, on: bool) -> Self {
        self.options.fail_fast = on;
        self
    }

    /// List and decide, download nothing: each object is reported as
    /// [`ObjectStatus::WouldDownload`] or as what it would be (already done, unsafe...).
    /// Nothing is written, not even the journal.
    pub fn dry_run(mut self, on: bool) -> Self {
        self.options.dry_run = on;
        self
    }

    /// Where the journal lives (default `{destination}/`[`JOURNAL_NAME`]).
    pub fn journal_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.journal_path = Some(path.into());
        self
    }

    /// Forget the journal and download everything again (default off).
    pub fn restart(mut self, on: bool) -> Self {
        self.options.restart = on;
        self
    }

    /// Durable (default: each file and the journal are fsynced) or fast.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.options.durability = durability;
        self
    }

    /// One bandwidth limit for the whole batch, about `bytes_per_sec`.
    pub fn bandwidth_limit(mut self, bytes_per_sec: u64) -> Self {
        self.options.bandwidth = Some(bytes_per_sec);
        self
    }

    /// Stop when `token` fires: no new object starts, large ones save their checkpoints, and
    /// the batch returns [`Error::Cancelled`] once the journal holds every finished object.
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.options.cancel = Some(token);
        self
    }

    /// Called once per object with what became of it, on the task that runs the batch, in
    /// the order objects finish. Keep it quick.
    pub fn on_object(mut self, callback: impl FnMut(&ObjectOutcome) + Send + 'static) -> Self {
        self.options.on_object = Some(Box::new(callback));
        self
    }

    /// Called with the batch's progress at most every 100 ms (see
    /// [`BatchDownload::progress_interval`]) and once at the end.
    pub fn on_progress(mut self, callback: impl FnMut(&BatchProgress) + Send + 'static) -> Self {
        self.options.on_progress = Some(Box::new(callback));
        self
    }

    /// The shortest time between two progress calls (default 100 ms).
    pub fn progress_interval(mut self, interval: Duration) -> Self {
        self.options.progress_interval = interval;
        self
    }

    /// Retry policy for faults, per request (see [`crate::Download::retry_policy`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = policy;
        self
    }

    /// Retry policy for OSS's throttling (see [`crate::Download::throttle_policy`]).
    pub fn throttle_policy(mut self, policy: ThrottlePolicy) -> Self {
        self.options.throttle = policy;
        self
    }

    /// How many listed objects may wait ahead of the downloads (default
    /// [`DEFAULT_LOOKAHEAD`], at least 1).
    pub fn lookahead(mut self, objects: usize) -> Self {
        self.options.lookahead = objects.max(1);
        self
    }

    /// How many failures [`BatchReport::failures`] keeps (default 1000; all are counted and
    /// all are passed to [`BatchDownload::on_object`]).
    pub fn max_failures_kept(mut self, failures: usize) -> Self {
        self.options.max_failures_kept = failures;
        self
    }
}

impl IntoFuture for BatchDownload {
    type Output = Result<BatchReport, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run::run(self))
    }
}
