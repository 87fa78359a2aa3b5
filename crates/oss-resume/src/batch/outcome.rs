//! What a batch reports: each object's fate as it is decided, progress, and the totals.

use std::path::PathBuf;
use std::time::Duration;

use super::keypath::UnsafeKey;
use crate::error::Error;

/// Why an object was downloaded again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The journal recorded it finished with another size or ETag: it changed since.
    SinceJournal {
        /// The ETag the journal recorded.
        recorded_etag: String,
    },
    /// It changed between the listing and its GET: the new version was fetched.
    SinceListing {
        /// The ETag the listing gave.
        listed_etag: String,
    },
}

/// What became of one object.
#[derive(Debug)]
#[non_exhaustive]
pub enum ObjectStatus {
    /// Downloaded and verified, in place, recorded in the journal.
    Downloaded {
        /// Set when it was downloaded again because it changed.
        change: Option<Change>,
        /// ETag of what was downloaded.
        etag: String,
        /// CRC-64 of what was downloaded, when OSS sent one to check it against.
        crc64: Option<u64>,
        /// Bytes that a large object's checkpoint already held.
        bytes_resumed: u64,
    },
    /// The journal says it was finished, with the same size and ETag, and the file is there.
    AlreadyDone,
    /// A `dir/` marker of size 0: the directory exists.
    Directory,
    /// Dry run: it would be downloaded.
    WouldDownload,
    /// The key (or its manifest destination) cannot be written safely; skipped.
    Unsafe(UnsafeKey),
    /// It failed (the others went on, unless fail-fast). The error has OSS's code and
    /// request id when OSS answered ([`Error::oss_code`], [`Error::request_id`]).
    Failed(Error),
}

/// One object's outcome.
#[derive(Debug)]
#[non_exhaustive]
pub struct ObjectOutcome {
    /// The key.
    pub key: String,
    /// Where it went (or would go), when it maps to a path.
    pub path: Option<PathBuf>,
    /// Its size, when known (listed, or learned by HEAD).
    pub size: Option<u64>,
    /// What became of it.
    pub status: ObjectStatus,
}

/// The batch's progress so far.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct BatchProgress {
    /// Objects the listing (or manifest) gave that passed the filter and the shard.
    pub objects_listed: u64,
    /// Whether the listing is complete (so `objects_listed` is the total).
    pub listing_complete: bool,
    /// Objects finished: downloaded, already done, directories, dry-run entries.
    pub objects_done: u64,
    /// Objects failed or skipped as unsafe.
    pub objects_failed: u64,
    /// Bytes of the objects finished (already-done ones included).
    pub bytes_done: u64,
    /// Bytes downloaded in this run.
    pub bytes_transferred: u64,
    /// Time since the batch started.
    pub elapsed: Duration,
}

/// The totals of a batch that ran to its end (failed objects included: check
/// [`BatchReport::is_success`]).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct BatchReport {
    /// Objects given by the listing (or manifest) after filter and shard.
    pub objects: u64,
    /// Objects downloaded in this run.
    pub downloaded: u64,
    /// ... of which downloaded again because they changed.
    pub changed: u64,
    /// Objects skipped because the journal had them finished.
    pub already_done: u64,
    /// Directory markers made.
    pub directories: u64,
    /// Dry run: objects that would be downloaded.
    pub would_download: u64,
    /// Objects skipped as unsafe.
    pub unsafe_keys: u64,
    /// Objects that failed.
    pub failed: u64,
    /// Bytes downloaded in this run.
    pub bytes_transferred: u64,
    /// Bytes of every finished object, already-done ones included.
    pub bytes_done: u64,
    /// The first failures (up to [`super::BatchDownload::max_failures_kept`]), key and
    /// error.
    pub failures: Vec<(String, Error)>,
    /// Damaged journal lines that were ignored (their objects were checked again).
    pub journal_damaged_lines: u64,
    /// Whether fail-fast stopped the batch early.
    pub stopped_early: bool,
    /// Wall time.
    pub elapsed: Duration,
}

impl BatchReport {
    /// Whether every object is in place: none failed or was skipped as unsafe, and the batch
    /// was not stopped early.
    pub fn is_success(&self) -> bool {
        self.failed == 0 && self.unsafe_keys == 0 && !self.stopped_early
    }
}
