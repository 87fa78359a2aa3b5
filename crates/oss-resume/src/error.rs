//! The crate's one error type.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A part of the plan, named in errors: its index and its inclusive byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartRef {
    /// The part's index (0-based).
    pub index: u64,
    /// Its first byte.
    pub first: u64,
    /// Its last byte (inclusive).
    pub last: u64,
}

impl fmt::Display for PartRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "part {} (bytes {}-{})",
            self.index, self.first, self.last
        )
    }
}

impl From<oss_parts::Part> for PartRef {
    fn from(p: oss_parts::Part) -> Self {
        Self {
            index: p.index(),
            first: p.start(),
            last: p.end().saturating_sub(1),
        }
    }
}

/// The local operation that failed, named in [`Error::LocalIo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalOp {
    /// Creating or opening the lock file `{destination}.lock`.
    Lock,
    /// Creating, opening or sizing the temp data file.
    CreateTemp,
    /// Preallocating the temp data file.
    Preallocate,
    /// Checking free space.
    FreeSpace,
    /// Writing downloaded bytes into the temp data file.
    Write,
    /// Reading the temp data file back (verify-on-resume).
    Read,
    /// Renaming the temp data file onto the destination.
    Rename,
    /// fsync of the destination's directory after the rename (durable mode): the file is
    /// complete and in place, but the disk did not confirm that the rename survives a
    /// power cut.
    SyncDirectory,
    /// Removing a file.
    Remove,
    /// Saving, loading or deleting the checkpoint.
    Checkpoint,
    /// Creating a directory under a batch's destination.
    CreateDirectory,
    /// Reading or appending to a batch's journal.
    Journal,
}

impl fmt::Display for LocalOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LocalOp::Lock => "locking the destination",
            LocalOp::CreateTemp => "creating the temp data file",
            LocalOp::Preallocate => "preallocating the temp data file",
            LocalOp::FreeSpace => "checking free space",
            LocalOp::Write => "writing the temp data file",
            LocalOp::Read => "reading the temp data file",
            LocalOp::Rename => "renaming the temp data file onto the destination",
            LocalOp::SyncDirectory => {
                "the file is complete at its destination, but syncing its directory (so the \
                 rename survives a power cut)"
            }
            LocalOp::Remove => "removing a file",
            LocalOp::Checkpoint => "writing the checkpoint",
            LocalOp::CreateDirectory => "creating a directory",
            LocalOp::Journal => "writing the batch journal",
        })
    }
}

/// Everything that can stop a download.
///
/// The message of each variant describes this layer only; the error it comes from (OSS's
/// answer, the operating system's error, the checkpoint's) is its
/// [`source`](std::error::Error::source), never repeated in the text, so a printer that
/// walks the chain shows every cause once.
///
/// Each variant is a situation a caller can act on. Remote failures carry the OSS error
/// (code, message, request id) through [`oss_http::Error`]; local disk failures are
/// [`Error::LocalIo`], [`Error::InsufficientSpace`] or [`Error::SyncFailed`] and are never
/// retried as if they were remote. [`Error::is_retryable`] says whether calling the download
/// again (with the checkpoint on, it resumes) can help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument is unusable; nothing was requested.
    #[error("invalid argument `{argument}`: {problem}")]
    InvalidArgument {
        /// The builder setting at fault (`part_size`, `threads`, `destination`...).
        argument: &'static str,
        /// What is wrong and how to fix it.
        problem: String,
    },

    /// The client configuration is unusable (endpoint, credentials, region, a header...).
    #[error(transparent)]
    Client(oss_http::Error),

    /// Another run is downloading to the same destination. (A run killed with SIGKILL holds
    /// the lock until it has fully exited, which can take a moment when it is blocked in the
    /// kernel: wait for the killed process before starting the next run.)
    #[error(
        "{} is already being downloaded by {} (lock file {}); wait for that run to finish or stop it",
        destination.display(),
        pid.map_or_else(|| "another process".to_owned(), |p| format!("process {p}")),
        lock_path.display()
    )]
    Locked {
        /// The destination asked for.
        destination: PathBuf,
        /// The lock file, `{destination}.lock`.
        lock_path: PathBuf,
        /// The holder's process id, as it wrote it in the lock file.
        pid: Option<u32>,
    },

    /// Something that this download did not make sits at one of its side files' names (the
    /// lock `{destination}.lock`: a symbolic link, a FIFO, a directory, or a file that holds
    /// no process id). It was left as it is; nothing was requested. Move it away, or
    /// restart the download ([`crate::Download::restart`]), which removes it.
    #[error(
        "{} is in the way: it is {found}, which this download did not make, so it was left as it is; move it away, or restart the download to remove it",
        path.display()
    )]
    ForeignFile {
        /// The path.
        path: PathBuf,
        /// What is there.
        found: String,
    },

    /// A batch's listing failed (no such bucket, access denied, a broken listing...). The
    /// objects listed before it were still downloaded.
    #[error("could not list {url}")]
    Listing {
        /// What was being listed, `oss://BUCKET/PREFIX`.
        url: String,
        /// The OSS or transport error (with code and request id when OSS answered).
        #[source]
        source: oss_http::Error,
    },

    /// HEAD of the object failed (no such bucket or key, access denied, ...).
    #[error("could not read the object's metadata")]
    Head {
        /// The OSS or transport error (with code and request id when OSS answered).
        #[source]
        source: oss_http::Error,
    },

    /// A part failed with a permanent error, or its retry budget ran out.
    #[error("{part} failed after {attempts} attempt(s) in a row without progress")]
    Part {
        /// The part.
        part: PartRef,
        /// Attempts made since the part last made progress.
        attempts: u32,
        /// The last error (with code and request id when OSS answered).
        #[source]
        source: oss_http::Error,
    },

    /// HEAD says the object is larger than any plan can cover: more than
    /// [`oss_parts::MAX_PARTS`] parts of the largest part size (5 GiB), about 80 TiB (OSS
    /// objects stop at 48.8 TiB). The server's answer, not a bad argument: nothing past HEAD
    /// was requested or written.
    #[error(
        "the object is {size} bytes ({}), more than a download can plan ({} at most: {} parts of 5 GiB); OSS objects are never that large, so check that the endpoint is OSS",
        oss_parts::format_size(*size),
        oss_parts::format_size(oss_parts::PartSize::MAX.get().saturating_mul(oss_parts::MAX_PARTS)),
        oss_parts::MAX_PARTS
    )]
    ObjectTooLarge {
        /// The size HEAD reported, in bytes.
        size: u64,
    },

    /// The object changed during the download (or since the checkpoint was written), and the
    /// changed-object policy is to fail. Nothing was stitched from two versions; the partial
    /// data of the old version was discarded, so the next call starts over.
    #[error(
        "the object changed{}: {detail}; the partial download was discarded, run again to download the new version{}",
        part.map(|p| format!(" while downloading {p}")).unwrap_or_default(),
        request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default()
    )]
    ObjectChanged {
        /// What differs.
        detail: String,
        /// The part being fetched when it was noticed.
        part: Option<PartRef>,
        /// The OSS request id of the response that showed it.
        request_id: Option<String>,
    },

    /// The object is archived (Archive, Cold Archive...) and must be restored first.
    #[error(
        "the object is in an archive storage class and cannot be read until it is restored (OSS {code}, request id {}); restore it, then run again",
        request_id.as_deref().unwrap_or("none")
    )]
    ObjectArchived {
        /// The OSS error code (`InvalidObjectState`).
        code: String,
        /// The OSS request id.
        request_id: Option<String>,
    },

    /// The downloaded file's CRC-64 differs from the object's `x-oss-hash-crc64ecma`. The temp
    /// file and the checkpoint were deleted, so a retry downloads everything again and can
    /// neither loop on nor accept the bad data.
    #[error(
        "the downloaded data is corrupt: CRC-64 {actual} but OSS says {expected}; nothing was written to the destination and the partial data was deleted, run again"
    )]
    CrcMismatch {
        /// `x-oss-hash-crc64ecma`.
        expected: u64,
        /// CRC-64 of the bytes written.
        actual: u64,
    },

    /// A stream's bytes ([`crate::Client::stream`]) did not match the object's
    /// `x-oss-hash-crc64ecma`. They were already written to the caller's writer, in order, as
    /// they arrived: whatever read them must discard them.
    #[error(
        "the streamed data is corrupt: CRC-64 {actual} but OSS says {expected}; the {bytes_written} bytes already written out are not the object and must be discarded, run again"
    )]
    StreamCorrupt {
        /// `x-oss-hash-crc64ecma`.
        expected: u64,
        /// CRC-64 of the bytes written out.
        actual: u64,
        /// How many bytes went out.
        bytes_written: u64,
    },

    /// The byte range asked for ([`crate::Stream::range`]) starts at or past the end of the
    /// object, so no byte of it exists. Found after HEAD; nothing else was requested.
    #[error(
        "the range {range} starts past the end of the object, which is {size} bytes; give a start below {size} (the last byte is {})",
        size.saturating_sub(1)
    )]
    RangeNotSatisfiable {
        /// The range as asked for (`bytes=START-END`, `bytes=START-`, `bytes=-SUFFIX`).
        range: String,
        /// The object's size.
        size: u64,
    },

    /// Writing a stream's bytes to the caller's writer failed (for a pipe whose reader has
    /// gone, [`Error::io_kind`] is [`io::ErrorKind::BrokenPipe`]). The download stopped; the
    /// bytes written before it are the object's first `bytes_written` bytes (of the range).
    #[error("writing the stream's output failed after {bytes_written} bytes")]
    Output {
        /// Bytes the writer had accepted.
        bytes_written: u64,
        /// The writer's error.
        #[source]
        source: io::Error,
    },

    /// A local filesystem operation failed (disk full, permission denied, I/O error). Never
    /// retried as a network error.
    #[error(
        "{op}{} failed for {}",
        part.map(|p| format!(" ({p})")).unwrap_or_default(),
        path.display()
    )]
    LocalIo {
        /// What was being done.
        op: LocalOp,
        /// The file involved.
        path: PathBuf,
        /// The part whose bytes were being written, for data writes.
        part: Option<PartRef>,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The filesystem has less free space than the download needs; nothing was requested
    /// past HEAD.
    #[error(
        "not enough free space for {}: {needed} bytes needed, {available} available; free some space or choose another destination",
        path.display()
    )]
    InsufficientSpace {
        /// The temp data file.
        path: PathBuf,
        /// Bytes still to allocate.
        needed: u64,
        /// Bytes available to this user.
        available: u64,
    },

    /// fsync of the data file failed. Fatal for that file: Linux may have dropped the dirty
    /// pages and a retried fsync can report success for lost data, so the temp file was
    /// deleted.
    #[error(
        "the disk did not confirm writing {}; the partial data was deleted, check the disk and run again",
        path.display()
    )]
    SyncFailed {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The checkpoint cannot be used or written and must not be discarded silently: it
    /// belongs to another download, or a newer version of this software wrote it.
    #[error("the checkpoint {} cannot be used or saved", path.display())]
    Checkpoint {
        /// The checkpoint path.
        path: PathBuf,
        /// Why.
        #[source]
        source: oss_ckpt::CkptError,
    },

    /// The cancellation token fired. With the checkpoint on, progress was saved and the next
    /// call resumes; with it off the temp file was removed.
    #[error("the download was cancelled{}", if *checkpoint_saved { "; progress is saved in the checkpoint" } else { "" })]
    Cancelled {
        /// Whether a checkpoint holding the progress was saved.
        checkpoint_saved: bool,
        /// The object as HEAD described it (ETag, size, version...), when HEAD had
        /// answered before the cancellation.
        object: Option<Box<oss_http::ObjectMeta>>,
    },

    /// A task of the download panicked: a bug — in this crate, or in code it ran for the
    /// caller (a credentials provider, the progress callback) — not a disk or network
    /// failure, and never reported as one. With the checkpoint on, it holds what the last
    /// save recorded, so the next call resumes from there.
    #[error("internal error: {detail}; this is a bug, not a disk or network failure")]
    Internal {
        /// What panicked, and its message.
        detail: String,
    },

    /// The blocking wrapper was called on a thread that runs a tokio runtime.
    #[error(
        "download().blocking() was called inside a tokio runtime, where blocking would stall it; `.await` the download instead"
    )]
    InsideRuntime,

    /// The blocking wrapper could not start its runtime.
    #[error("could not start a tokio runtime for the blocking download")]
    Runtime(#[source] io::Error),
}

impl Error {
    /// Whether calling the download again may succeed without changing anything: a transient
    /// remote failure whose retry budget ran out, a cancellation, or a lock held by a run
    /// that may finish. Local disk errors, bad arguments and permanent OSS errors are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Part { source, .. } | Error::Head { source } | Error::Listing { source, .. } => {
                source.is_retryable()
            }
            Error::Cancelled { .. } | Error::Locked { .. } => true,
            // The partial data was discarded: the next call starts over and may succeed.
            Error::ObjectChanged { .. }
            | Error::CrcMismatch { .. }
            | Error::StreamCorrupt { .. } => true,
            _ => false,
        }
    }

    /// Whether this is a local filesystem failure (never a network one).
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            Error::LocalIo { .. }
                | Error::InsufficientSpace { .. }
                | Error::SyncFailed { .. }
                | Error::Output { .. }
        )
    }

    /// The part involved, when one was.
    pub fn part(&self) -> Option<PartRef> {
        match self {
            Error::Part { part, .. } => Some(*part),
            Error::ObjectChanged { part, .. } | Error::LocalIo { part, .. } => *part,
            _ => None,
        }
    }

    /// The object as HEAD described it, for an error that has it (a cancellation after
    /// HEAD answered).
    pub fn object(&self) -> Option<&oss_http::ObjectMeta> {
        match self {
            Error::Cancelled { object, .. } => object.as_deref(),
            _ => None,
        }
    }

    /// OSS's error answer, when OSS answered with one: its code, message, HTTP status,
    /// request id, the rest of the error document, and [`ServiceError::advice`] (what a
    /// person should do about it). Callers get all of it without naming oss-http.
    ///
    /// [`ServiceError::advice`]: crate::ServiceError::advice
    pub fn service(&self) -> Option<&oss_http::ServiceError> {
        match self {
            Error::Part { source, .. } | Error::Head { source } | Error::Listing { source, .. } => {
                source.service()
            }
            _ => None,
        }
    }

    /// The OSS error code, when OSS answered with one.
    pub fn oss_code(&self) -> Option<&str> {
        match self {
            Error::ObjectArchived { code, .. } => Some(code),
            _ => self.service().map(|s| s.code.as_str()),
        }
    }

    /// The OSS request id of the response involved, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Part { source, .. } | Error::Head { source } | Error::Listing { source, .. } => {
                source.request_id()
            }
            Error::ObjectChanged { request_id, .. } | Error::ObjectArchived { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// The local I/O error's kind, for local failures.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            Error::LocalIo { source, .. }
            | Error::SyncFailed { source, .. }
            | Error::Output { source, .. } => Some(source.kind()),
            Error::InsufficientSpace { .. } => Some(io::ErrorKind::StorageFull),
            _ => None,
        }
    }

    pub(crate) fn invalid(argument: &'static str, problem: impl Into<String>) -> Self {
        Error::InvalidArgument {
            argument,
            problem: problem.into(),
        }
    }

    pub(crate) fn local(op: LocalOp, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::LocalIo {
            op,
            path: path.into(),
            part: None,
            source,
        }
    }
}

/// Shows an error and every error in its [`source`](std::error::Error::source) chain, each
/// once, separated by `: ` (for warnings and logs, which are one line of text).
pub(crate) struct Chain<'a>(pub(crate) &'a dyn std::error::Error);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_part_and_range() {
        let e = Error::LocalIo {
            op: LocalOp::Write,
            path: "/x/y.tmp".into(),
            part: Some(PartRef {
                index: 3,
                first: 300,
                last: 399,
            }),
            source: io::Error::from_raw_os_error(28),
        };
        let text = e.to_string();
        assert!(text.contains("part 3 (bytes 300-399)"), "{text}");
        assert!(e.is_local() && !e.is_retryable());
        assert_eq!(e.io_kind(), Some(io::ErrorKind::StorageFull));
        let locked = Error::Locked {
            destination: "a".into(),
            lock_path: "a.lock".into(),
            pid: Some(42),
        };
        assert!(locked.to_string().contains("process 42"), "{locked}");
        // A failed directory sync after the rename does not claim anything was deleted.
        let dir = Error::local(
            LocalOp::SyncDirectory,
            "/x",
            io::Error::from_raw_os_error(5),
        );
        let text = dir.to_string();
        assert!(text.contains("complete at its destination"), "{text}");
        assert!(!text.contains("deleted"), "{text}");
        assert!(dir.is_local());
    }
}
