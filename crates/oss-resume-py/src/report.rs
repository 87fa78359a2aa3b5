//! What Python sees of a download: its progress while it runs and its report at the end,
//! as plain read-only objects (copied out of oss-resume's, so they outlive the transfer).

use std::time::UNIX_EPOCH;

use oss_resume::{CheckpointUse, Progress, Report, SnapshotKind};
use pyo3::prelude::*;

/// A download's progress, as the `progress` callback receives it.
#[pyclass(module = "oss_resume._native", name = "Progress", frozen, get_all)]
pub(crate) struct PyProgress {
    /// Bytes on disk, resumed ones included.
    bytes_done: u64,
    /// The object's size.
    bytes_total: u64,
    /// Parts complete.
    parts_done: u64,
    /// Parts in the plan.
    parts_total: u64,
    /// Bytes that were already on disk when this call started.
    bytes_resumed: u64,
    /// Recent transfer rate, bytes per second (smoothed over about a second).
    bytes_per_sec: f64,
    /// The part size in use.
    part_size: u64,
    /// Part requests retried so far in this call.
    retries: u64,
}

impl From<Progress> for PyProgress {
    fn from(p: Progress) -> Self {
        Self {
            bytes_done: p.bytes_done,
            bytes_total: p.bytes_total,
            parts_done: p.parts_done,
            parts_total: p.parts_total,
            bytes_resumed: p.bytes_resumed,
            bytes_per_sec: p.bytes_per_sec,
            part_size: p.part_size,
            retries: p.retries,
        }
    }
}

#[pymethods]
impl PyProgress {
    fn __repr__(&self) -> String {
        format!(
            "Progress(bytes_done={}, bytes_total={}, parts_done={}, parts_total={}, bytes_per_sec={:.0})",
            self.bytes_done,
            self.bytes_total,
            self.parts_done,
            self.parts_total,
            self.bytes_per_sec
        )
    }
}

/// What a finished download reports.
#[pyclass(module = "oss_resume._native", name = "Report", frozen, get_all)]
pub(crate) struct PyReport {
    /// The object's size.
    bytes_total: u64,
    /// Body bytes received and written in this call.
    bytes_transferred: u64,
    /// Bytes already on disk from an earlier call, not fetched again.
    bytes_resumed: u64,
    /// Part requests retried (transient failures, resumed inside the part).
    retries: u64,
    /// Times the download started over because the object changed (`on_change="restart"`).
    restarts: u32,
    /// Parts in the plan.
    parts_total: u64,
    /// The part size used.
    part_size: u64,
    /// Whether the file's CRC-64 was checked against OSS's `x-oss-hash-crc64ecma`.
    crc64_verified: bool,
    /// How the checkpoint was used: `"disabled"`, `"fresh"`, `"resumed"` or
    /// `"already-complete"` (an earlier call had renamed the file into place).
    checkpoint: &'static str,
    /// Why a checkpoint found was not used (for `"fresh"`), or which snapshot was resumed
    /// (`"latest"` or `"durable"`, for `"resumed"`).
    checkpoint_detail: Option<String>,
    /// Whether this call resumed from a checkpoint.
    resumed: bool,
    /// Things worth knowing that did not stop the download.
    warnings: Vec<String>,
    /// Wall time of the call, in seconds.
    elapsed: f64,
    /// The object's ETag, as OSS sent it (quotes included).
    etag: String,
    /// The object's version id (versioned buckets).
    version_id: Option<String>,
    /// The object's CRC-64 (`x-oss-hash-crc64ecma`), when OSS has one.
    crc64: Option<u64>,
    /// The object's `Last-Modified`, as a Unix timestamp in seconds.
    last_modified: Option<f64>,
    /// The HEAD request's OSS request id.
    request_id: Option<String>,
}

impl From<Report> for PyReport {
    fn from(r: Report) -> Self {
        let (checkpoint, checkpoint_detail) = match &r.checkpoint {
            CheckpointUse::Disabled => ("disabled", None),
            CheckpointUse::Fresh { reason } => ("fresh", reason.as_ref().map(|x| x.to_string())),
            CheckpointUse::Resumed { snapshot, .. } => (
                "resumed",
                Some(
                    match snapshot {
                        SnapshotKind::Latest => "latest",
                        SnapshotKind::Durable => "durable",
                    }
                    .to_owned(),
                ),
            ),
            CheckpointUse::AlreadyComplete => ("already-complete", None),
            _ => ("other", None),
        };
        Self {
            bytes_total: r.bytes_total,
            bytes_transferred: r.bytes_transferred,
            bytes_resumed: r.bytes_resumed,
            retries: r.retries,
            restarts: r.restarts,
            parts_total: r.parts_total,
            part_size: r.part_size,
            crc64_verified: r.crc64_verified,
            checkpoint,
            checkpoint_detail,
            resumed: matches!(r.checkpoint, CheckpointUse::Resumed { .. }),
            warnings: r.warnings,
            elapsed: r.elapsed.as_secs_f64(),
            last_modified: r
                .object
                .last_modified
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs_f64()),
            etag: r.object.etag,
            version_id: r.object.version_id,
            crc64: r.object.crc64,
            request_id: r.object.request_id,
        }
    }
}

#[pymethods]
impl PyReport {
    fn __repr__(&self) -> String {
        format!(
            "Report(bytes_total={}, bytes_transferred={}, bytes_resumed={}, retries={}, checkpoint={:?}, elapsed={:.3})",
            self.bytes_total,
            self.bytes_transferred,
            self.bytes_resumed,
            self.retries,
            self.checkpoint,
            self.elapsed
        )
    }
}
