//! What a download reports: progress while it runs, and a report at the end.

use std::time::Duration;

pub use oss_ckpt::Snapshot;

/// Progress, as passed to the callback.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes on disk (resumed ones included).
    pub bytes_done: u64,
    /// The object's size.
    pub bytes_total: u64,
    /// Parts complete.
    pub parts_done: u64,
    /// Parts in the plan.
    pub parts_total: u64,
    /// Bytes that were already on disk when this call started.
    pub bytes_resumed: u64,
    /// Recent transfer rate, bytes per second (smoothed over about a second).
    pub bytes_per_sec: f64,
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
        /// Why the checkpoint found was discarded.
        reason: Option<String>,
    },
    /// Resumed from the checkpoint's snapshot.
    Resumed {
        /// Latest (same boot) or durable (after a reboot, or when the boot is unknown).
        snapshot: Snapshot,
        /// Whether verify-on-resume re-read and checked the done ranges.
        verified: bool,
    },
    /// The previous run had already renamed the verified file onto the destination (it
    /// stopped before deleting the checkpoint): nothing was downloaded.
    AlreadyComplete,
}

/// What a finished download reports.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// The object's metadata from HEAD (the C SDK's `resp_headers`): size, ETag,
    /// Last-Modified, CRC-64, version, type, storage class, and every other header.
    pub object: oss_http::ObjectMeta,
    /// The object's size.
    pub bytes_total: u64,
    /// Body bytes received and written in this call.
    pub bytes_transferred: u64,
    /// Bytes that were already on disk from an earlier call and were not fetched again.
    pub bytes_resumed: u64,
    /// Part requests retried (transient failures, resumed inside the part).
    pub retries: u64,
    /// Times the download restarted because the object changed ([`crate::OnChange::Restart`]).
    pub restarts: u32,
    /// Parts in the plan.
    pub parts_total: u64,
    /// The part size used.
    pub part_size: u64,
    /// Whether the file's CRC-64 was checked against `x-oss-hash-crc64ecma` (false when
    /// OSS gave none).
    pub crc64_verified: bool,
    /// How the checkpoint was used.
    pub checkpoint: CheckpointUse,
    /// Things worth knowing that did not stop the download (no file locking on this
    /// filesystem, preallocation unsupported...).
    pub warnings: Vec<String>,
    /// Wall time of the call.
    pub elapsed: Duration,
}
