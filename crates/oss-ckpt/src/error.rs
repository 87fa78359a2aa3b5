//! The crate's one error type, with its detail enums.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a checkpoint cannot be saved or used.
///
/// Loading distinguishes the cases a caller acts on differently: [`CkptError::NotFound`]
/// (start fresh), [`CkptError::Corrupt`] and [`CkptError::Mismatch`] (report, discard,
/// start fresh — [`CkptError::is_object_changed`] tells when the object itself changed),
/// [`CkptError::NewerFormat`] (a newer version of this tool wrote it: upgrade, or delete
/// it). Saving can fail with [`CkptError::Io`] or [`CkptError::SyncFailed`]; the latter is
/// fatal ([`CkptError::is_fatal`]).
///
/// ```
/// use oss_ckpt::{CkptError, Corruption};
///
/// let err = oss_ckpt::decode(b"not a checkpoint").unwrap_err();
/// assert!(matches!(err, CkptError::Corrupt(Corruption::TooShort { len: 16 })));
/// assert!(err.can_start_over());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CkptError {
    /// There is no checkpoint at the path: nothing to resume.
    #[error("no checkpoint at {}", path.display())]
    NotFound {
        /// Where it was looked for.
        path: PathBuf,
    },

    /// The bytes are not a complete, intact checkpoint.
    #[error("the checkpoint is corrupt ({0}); it cannot be trusted: delete it to start over")]
    Corrupt(Corruption),

    /// A newer version of this software wrote the checkpoint, in a format this one cannot
    /// read.
    #[error(
        "the checkpoint has format version {found}, newer than the {supported} this version \
         reads; upgrade, or delete the checkpoint to start over"
    )]
    NewerFormat {
        /// The version in the file.
        found: u16,
        /// The newest version this build reads.
        supported: u16,
    },

    /// The checkpoint belongs to another download, or the object or the temp file changed.
    #[error(
        "the checkpoint is for a different {field}: it has {stored}, this download has \
         {expected}; {}", field.advice()
    )]
    Mismatch {
        /// The field that differs.
        field: Field,
        /// The checkpoint's value, printed.
        stored: String,
        /// The current value, printed.
        expected: String,
    },

    /// The file at the checkpoint's path is not a checkpoint and never was one (no
    /// checkpoint header anywhere in it), or not a regular file (a link, a FIFO, a
    /// directory...). It is not this software's to discard: it was left as it is.
    #[error(
        "{} is not a checkpoint ({found}); it was left as it is: move it away, or discard it to start over",
        path.display()
    )]
    NotACheckpoint {
        /// The path.
        path: PathBuf,
        /// What is there instead.
        found: String,
    },

    /// A checkpoint could not be encoded: the state breaks a rule (a bug in the caller).
    #[error("cannot save this checkpoint: {reason}")]
    Invalid {
        /// The rule that was broken.
        reason: String,
    },

    /// A filesystem operation failed (other than a sync). The operating system's error is
    /// the [`source`](std::error::Error::source), not repeated in the message.
    #[error("checkpoint {step} failed for {}", path.display())]
    Io {
        /// What was being done.
        step: Step,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// Flushing the checkpoint or its directory to disk failed. Fatal: after a failed
    /// fsync Linux may drop the dirty pages and a retried fsync can report success for
    /// data that is gone, so nothing written since the last good sync can be trusted.
    #[error(
        "checkpoint {step} failed for {}: the disk did not confirm the write, so this \
         download stops (check the disk, then run again)", path.display()
    )]
    SyncFailed {
        /// Which sync.
        step: Step,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

impl CkptError {
    /// Whether the download must stop: a sync failed, so durability can no longer be
    /// promised. Every other error leaves the next save free to try again.
    ///
    /// ```
    /// use oss_ckpt::{CkptError, Step};
    ///
    /// let err = CkptError::SyncFailed {
    ///     step: Step::SyncFile,
    ///     path: "x.cp".into(),
    ///     source: std::io::Error::other("EIO"),
    /// };
    /// assert!(err.is_fatal());
    /// ```
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::SyncFailed { .. })
    }

    /// Whether loading failed in a way that means "discard this checkpoint and download
    /// from the beginning" (not found, corrupt, or another download's or a changed
    /// object's). A newer format is not included: the newer tool may still want it.
    ///
    /// ```
    /// let err = oss_ckpt::CkptError::NotFound { path: "x.cp".into() };
    /// assert!(err.can_start_over());
    /// ```
    pub fn can_start_over(&self) -> bool {
        matches!(
            self,
            Self::NotFound { .. } | Self::Corrupt(_) | Self::Mismatch { .. }
        )
    }

    /// Whether the object on OSS changed since the checkpoint was written (ETag, size,
    /// Last-Modified, CRC-64 or version id differ): the bytes on disk belong to an older
    /// version and must not be stitched to the new one.
    ///
    /// ```
    /// use oss_ckpt::{CkptError, Field};
    ///
    /// let err = CkptError::Mismatch {
    ///     field: Field::ETag,
    ///     stored: "\"A\"".into(),
    ///     expected: "\"B\"".into(),
    /// };
    /// assert!(err.is_object_changed());
    /// assert!(err.to_string().contains("\"A\""));
    /// ```
    pub fn is_object_changed(&self) -> bool {
        matches!(self, Self::Mismatch { field, .. } if field.is_object_change())
    }
}

/// What exactly is wrong with a corrupt checkpoint.
///
/// ```
/// use oss_ckpt::Corruption;
///
/// let why = Corruption::Truncated { expected: 100, actual: 60 };
/// assert_eq!(why.to_string(), "truncated: 60 of 100 bytes");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Corruption {
    /// Shorter than the fixed header.
    TooShort {
        /// The number of bytes there were.
        len: usize,
    },
    /// The file does not start with the checkpoint magic: not a checkpoint at all.
    BadMagic,
    /// The header's reserved field is not zero.
    ReservedNotZero,
    /// The header declares a body longer than any checkpoint can be.
    BodyTooLarge {
        /// The declared body length.
        len: u64,
    },
    /// The file ends before the body the header declares.
    Truncated {
        /// Header plus declared body, in bytes.
        expected: u64,
        /// The bytes there were.
        actual: u64,
    },
    /// Bytes follow the declared body.
    TrailingBytes {
        /// Header plus declared body, in bytes.
        expected: u64,
        /// The bytes there were.
        actual: u64,
    },
    /// The stored checksum does not match the contents.
    Checksum {
        /// The checksum in the header.
        stored: u64,
        /// The checksum of what was read.
        computed: u64,
    },
    /// The header's format version is 0, which no version ever wrote.
    UnknownVersion,
    /// The body does not decode as the format it claims.
    Undecodable {
        /// The decoder's message.
        detail: String,
    },
    /// The body decodes but its contents contradict each other.
    Inconsistent {
        /// Which rule is broken.
        detail: String,
    },
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len } => write!(f, "only {len} bytes, shorter than the header"),
            Self::BadMagic => write!(f, "not a checkpoint file: wrong magic bytes"),
            Self::ReservedNotZero => write!(f, "the header's reserved field is not zero"),
            Self::BodyTooLarge { len } => write!(f, "the header declares a {len}-byte body"),
            Self::Truncated { expected, actual } => {
                write!(f, "truncated: {actual} of {expected} bytes")
            }
            Self::TrailingBytes { expected, actual } => {
                write!(f, "{actual} bytes where {expected} were expected")
            }
            Self::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch: stored {stored:#018x}, computed {computed:#018x}"
            ),
            Self::UnknownVersion => write!(f, "format version 0"),
            Self::Undecodable { detail } => write!(f, "undecodable body: {detail}"),
            Self::Inconsistent { detail } => write!(f, "inconsistent contents: {detail}"),
        }
    }
}

/// A recorded field that must match for a checkpoint to be used.
///
/// ```
/// assert_eq!(oss_ckpt::Field::LastModified.to_string(), "Last-Modified");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The endpoint's host name.
    EndpointHost,
    /// The bucket.
    Bucket,
    /// The object key.
    Key,
    /// The object's version id.
    VersionId,
    /// The object's ETag.
    ETag,
    /// The object's size.
    Size,
    /// The object's Last-Modified.
    LastModified,
    /// The object's CRC-64 as OSS reported it.
    Crc64,
    /// The part size of the plan.
    PartSize,
    /// The object's byte window the download covers (format version 4), or the whole
    /// object.
    Window,
    /// The destination path.
    Destination,
    /// The device holding the temp data file.
    TempDevice,
    /// The temp data file's inode / file id.
    TempFileId,
    /// The temp data file's length.
    TempLength,
    /// The temp data file's birth time (a deleted and recreated file can get the old
    /// inode number back).
    TempCreated,
}

impl Field {
    /// Whether a difference in this field means the object on OSS changed.
    ///
    /// ```
    /// use oss_ckpt::Field;
    /// assert!(Field::Size.is_object_change() && !Field::Bucket.is_object_change());
    /// ```
    pub fn is_object_change(self) -> bool {
        matches!(
            self,
            Self::VersionId | Self::ETag | Self::Size | Self::LastModified | Self::Crc64
        )
    }

    /// Whether a difference in this field means the temp data file was replaced, resized
    /// or moved since the checkpoint was written.
    ///
    /// ```
    /// assert!(oss_ckpt::Field::TempLength.is_temp_file());
    /// ```
    pub fn is_temp_file(self) -> bool {
        matches!(
            self,
            Self::TempDevice | Self::TempFileId | Self::TempLength | Self::TempCreated
        )
    }

    fn advice(self) -> &'static str {
        if self.is_object_change() {
            "the object changed since the checkpoint was written, so the download must start over"
        } else if self == Self::Window {
            "it is for other bytes of the object, so the download must start over"
        } else if self.is_temp_file() {
            "the partial data file was replaced or changed, so the download must start over"
        } else {
            "it belongs to another download: use another checkpoint path, or delete it"
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EndpointHost => "endpoint host",
            Self::Bucket => "bucket",
            Self::Key => "object key",
            Self::VersionId => "version id",
            Self::ETag => "ETag",
            Self::Size => "object size",
            Self::LastModified => "Last-Modified",
            Self::Crc64 => "object CRC-64",
            Self::PartSize => "part size",
            Self::Window => "byte range",
            Self::Destination => "destination",
            Self::TempDevice => "temp file device",
            Self::TempFileId => "temp file id",
            Self::TempLength => "temp file length",
            Self::TempCreated => "temp file birth time",
        })
    }
}

/// A step of saving or loading, named in I/O errors (and what a fault-injecting
/// [`crate::fs::Filesystem`] sees).
///
/// ```
/// assert_eq!(oss_ckpt::Step::Rename.to_string(), "rename over the old checkpoint");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// Creating the temp file beside the checkpoint.
    Create,
    /// Writing the encoded checkpoint into the temp file.
    Write,
    /// fsync of the temp file (durable saves).
    SyncFile,
    /// Renaming the temp file over the checkpoint.
    Rename,
    /// fsync of the directory (durable saves).
    SyncDir,
    /// Reading a checkpoint.
    Read,
    /// Deleting a checkpoint.
    Remove,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Create => "create of the temp file",
            Self::Write => "write",
            Self::SyncFile => "fsync of the file",
            Self::Rename => "rename over the old checkpoint",
            Self::SyncDir => "fsync of the directory",
            Self::Read => "read",
            Self::Remove => "removal",
        })
    }
}
