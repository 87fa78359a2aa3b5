//! What a download reports: progress while it runs, and a report at the end.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use oss_ckpt::SnapshotKind;

/// Progress, as passed to the callback.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes on disk (resumed ones included).
    pub bytes_done: u64,
    /// The object's size (the range's, with [`crate::Download::range`]).
    pub bytes_total: u64,
    /// Parts complete.
    pub parts_done: u64,
    /// Parts in the plan.
    pub parts_total: u64,
    /// Bytes that were already on disk when this call started.
    pub bytes_resumed: u64,
    /// Recent transfer rate, bytes per second (smoothed over about a second).
    pub bytes_per_sec: f64,
    /// The part size in use, in bytes.
    pub part_size: u64,
    /// Part requests retried so far in this call (as [`Report::retries`] counts them), so
    /// a caller whose download fails or is cancelled still knows, from the last progress it
    /// saw (the callback runs once more after the workers stop).
    pub retries: u64,
}

/// Whether and how the checkpoint was used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointUse {
    /// Checkpointing was off.
    Disabled,
    /// Started from the beginning. `reason` says why an existing checkpoint was not used
    /// (`None`: there was none).
    Fresh {
        /// Why the checkpoint found was discarded (its `Display` is a sentence a person can
        /// read; match on it to word the case yourself).
        reason: Option<FreshReason>,
    },
    /// Resumed from the checkpoint's snapshot.
    Resumed {
        /// Latest (same boot) or durable (after a reboot, or when the boot is unknown).
        snapshot: SnapshotKind,
        /// Whether verify-on-resume re-read and checked the done ranges.
        verified: bool,
    },
    /// The previous run had already renamed the verified file onto the destination (it
    /// stopped before deleting the checkpoint): nothing was downloaded.
    AlreadyComplete,
}

/// Why a download started over instead of resuming the checkpoint it found, as data.
///
/// Only the cases where starting over is the right thing to do: a checkpoint that belongs
/// to another download, or was written by a newer version, is refused instead
/// ([`crate::Error::Checkpoint`]) and never shows up here. The `Display` text says what was
/// found and that the download started over; it gives no advice, because there is nothing
/// left to do.
///
/// ```
/// use oss_resume::FreshReason;
///
/// let reason = FreshReason::PartSize { checkpoint: 8 << 20, now: 16 << 20 };
/// assert_eq!(
///     reason.to_string(),
///     "the checkpoint was made with a part size of 8388608 bytes and this download uses \
///      16777216, so its progress does not apply"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FreshReason {
    /// [`crate::Download::restart`] was set: the checkpoint found was discarded unread.
    Restarted,
    /// The checkpoint is damaged (torn write, truncation, bit rot): it cannot be trusted.
    Corrupt(oss_ckpt::Corruption),
    /// The checkpoint was made with another part size (its progress is counted in parts of
    /// that size).
    PartSize {
        /// The checkpoint's part size, in bytes.
        checkpoint: u64,
        /// This download's part size, in bytes.
        now: u64,
    },
    /// The object changed since the checkpoint was written, and [`crate::OnChange::Restart`]
    /// allows starting over on the new version.
    ObjectChanged {
        /// What differs (ETag, size, Last-Modified, CRC-64, version id).
        field: oss_ckpt::Field,
        /// The checkpoint's value, printed.
        checkpoint: String,
        /// The object's value now, printed.
        now: String,
    },
    /// The partial data file was replaced, resized or moved since the checkpoint was
    /// written (another file, perhaps zero-filled, must never be trusted).
    TempFileChanged {
        /// What differs (device, file id, length, birth time).
        field: oss_ckpt::Field,
        /// The checkpoint's value, printed.
        checkpoint: String,
        /// The file's value now, printed.
        now: String,
    },
    /// The partial data file is gone, so the checkpoint's progress cannot be trusted.
    TempFileGone {
        /// The temp data file's path.
        path: PathBuf,
    },
    /// The checkpoint names another temp data file than this version uses.
    TempPathChanged {
        /// The checkpoint's temp file path.
        checkpoint: PathBuf,
        /// This download's temp file path.
        now: PathBuf,
    },
    /// [`crate::Download::verify_on_resume`] re-read the done ranges and they do not match
    /// the checkpoint's CRCs.
    VerifyFailed {
        /// What did not match.
        detail: String,
    },
    /// The checkpoint is for other bytes of the object ([`crate::Download::range`]): another
    /// byte range, or the whole object where a range is asked for (or the reverse). Its
    /// bytes on disk are not this download's.
    Range {
        /// The checkpoint's range, printed (`bytes FIRST-LAST` or `the whole object`).
        checkpoint: String,
        /// This download's range, printed the same way.
        now: String,
    },
}

impl fmt::Display for FreshReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Restarted => f.write_str("the existing checkpoint was discarded, as asked"),
            Self::Corrupt(why) => write!(f, "the checkpoint was corrupt ({why})"),
            Self::PartSize { checkpoint, now } => write!(
                f,
                "the checkpoint was made with a part size of {checkpoint} bytes and this \
                 download uses {now}, so its progress does not apply"
            ),
            Self::ObjectChanged {
                field,
                checkpoint,
                now,
            } => write!(
                f,
                "the object changed since the checkpoint was written ({field} {checkpoint}, \
                 now {now})"
            ),
            Self::TempFileChanged {
                field,
                checkpoint,
                now,
            } => write!(
                f,
                "the partial data file was replaced or changed since the checkpoint was \
                 written ({field} {checkpoint}, now {now})"
            ),
            Self::TempFileGone { path } => write!(
                f,
                "the partial data file {} is gone, so the checkpoint's progress cannot be \
                 trusted",
                path.display()
            ),
            Self::TempPathChanged { checkpoint, now } => write!(
                f,
                "the checkpoint's partial data file {} is not this version's {}",
                checkpoint.display(),
                now.display()
            ),
            Self::VerifyFailed { detail } => write!(f, "verify-on-resume failed: {detail}"),
            Self::Range { checkpoint, now } => write!(
                f,
                "the checkpoint is for {checkpoint} of the object and this download is for \
                 {now}, so its progress does not apply"
            ),
        }
    }
}

/// What a finished download reports.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// The object's metadata from HEAD (the C SDK's `resp_headers`): size, ETag,
    /// Last-Modified, CRC-64, version, type, storage class, and every other header.
    pub object: oss_http::ObjectMeta,
    /// The file's size: the object's, or with [`crate::Download::range`] the range's.
    pub bytes_total: u64,
    /// With [`crate::Download::range`]: the object's bytes downloaded (`start..end`, end
    /// exclusive; the range asked for, stopped at the object's end).
    pub range: Option<std::ops::Range<u64>>,
    /// CRC-64/XZ of the file's bytes (the fold of its parts' CRCs): the object's, or the
    /// range's. `None` only when the download was found already complete by an older
    /// checkpoint that did not record it.
    pub crc64: Option<u64>,
    /// Body bytes received and written in this call.
    pub bytes_transferred: u64,
    /// Bytes that were already on disk from an earlier call and were not fetched again.
    pub bytes_resumed: u64,
    /// Part requests retried (transient failures, resumed inside the part).
    pub retries: u64,
    /// Ranged GETs sent, retries included. A request covers a run of consecutive missing
    /// parts (sized by the rate and latency the worker sees, a few MiB to tens of MiB), so
    /// with small parts this is far below the part count: the part size is the unit of the
    /// checkpoint and of what a resume re-fetches, not of requests.
    pub requests: u64,
    /// Runs split at the tail: a worker with nothing left to fetch took the last bytes of a
    /// run that was far behind ([`crate::Download::tail_splitting`]). A split moves only
    /// bytes the slow run had not received, so no byte is written twice for it (and none is
    /// fetched twice but what was in flight to the slow run when it stopped).
    pub tail_splits: u64,
    /// Connections the client opened while this download ran (its pool keeps them alive
    /// between requests, so with `threads` workers this is about `threads`). Counted for the
    /// client: downloads sharing a [`crate::Client`] at the same time count each other's.
    pub connections_opened: u64,
    /// Times the download restarted because the object changed ([`crate::OnChange::Restart`]).
    pub restarts: u32,
    /// Parts in the plan.
    pub parts_total: u64,
    /// The part size used.
    pub part_size: u64,
    /// Whether the file's CRC-64 was checked against `x-oss-hash-crc64ecma` (false when
    /// OSS gave none). The CRC is the fold of the parts' CRCs computed as their bytes were
    /// written — in this call, and for bytes resumed from a checkpoint, in the call that
    /// wrote them: resumed bytes are not re-read unless [`crate::Download::verify_on_resume`]
    /// is on, so a disk that changed them between calls goes unnoticed without it.
    pub crc64_verified: bool,
    /// How the checkpoint was used.
    pub checkpoint: CheckpointUse,
    /// Things worth knowing that did not stop the download (no file locking on this
    /// filesystem, preallocation unsupported...).
    pub warnings: Vec<String>,
    /// Wall time of the call.
    pub elapsed: Duration,
    /// What the adaptive connection count did, when it was on
    /// ([`crate::Download::threads_auto`]); `None` with a fixed count.
    pub adaptive: Option<AdaptiveConnections>,
}

/// What the adaptive connection count ([`crate::Download::threads_auto`]) did during one
/// download: where it started, how high it went, where it ended and each change with its
/// reason. With a restart (the object changed) or several calls, it describes the last
/// transfer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AdaptiveConnections {
    /// Connections at the start.
    pub started: usize,
    /// The most connections that were allowed at once.
    pub peak: usize,
    /// The count when the transfer ended.
    pub ended: usize,
    /// How many times the count changed.
    pub changes: u64,
    /// The first changes (up to 32), in order; `changes` counts them all.
    pub history: Vec<ConnectionChange>,
}

/// One change of the adaptive connection count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionChange {
    /// When, since the transfer started.
    pub at: Duration,
    /// The new count.
    pub to: usize,
    /// Why.
    pub reason: ConnectionChangeReason,
}

/// Why the adaptive connection count changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionChangeReason {
    /// The aggregate rate rose by 10% or more since the last increase: more connections.
    RateRose,
    /// The last increase raised the rate by less than 10%: back to the count before it.
    NoGain,
    /// The server answered with a throttling code (503 `ServiceUnavailable`-style, 429):
    /// fewer connections.
    Throttled,
}

impl fmt::Display for ConnectionChangeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RateRose => "rate rose",
            Self::NoGain => "no gain",
            Self::Throttled => "throttled",
        })
    }
}
