//! The crate's one error type (for the library API; OSS errors sent to clients are
//! [`crate::OssError`] responses, not this).
//!
//! A message describes its own layer only; the cause is reached through `source()` (the
//! binary prints the whole chain), so no cause is printed twice.

/// What went wrong when a test drove the emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The bucket is not in the model; add it with `Emulator::add_bucket` first.
    #[error("no bucket `{0}` in the emulator; add it with Emulator::add_bucket first")]
    NoSuchBucket(String),
    /// The key (or its current version) is not in the model.
    #[error("no object `{bucket}/{key}` in the emulator; put it first")]
    NoSuchKey {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
    },
    /// An append was asked for an object that is not `Appendable`.
    #[error("`{bucket}/{key}` is not an Appendable object; put it with ObjectSpec::appendable()")]
    NotAppendable {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
    },
    /// A bucket name OSS would not accept (3-63 chars of `a-z0-9-`, not starting with `-`).
    #[error(
        "invalid bucket name `{0}`: use 3-63 characters a-z, 0-9 and '-', not starting or ending with '-'"
    )]
    InvalidBucketName(String),
    /// A command-line or API argument could not be understood.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A size on the command line (`--object b/k=1GiB`, a fault's byte offset) that is not a
    /// size; the message names the text and the forms that work.
    #[error(transparent)]
    InvalidSize(#[from] oss_parts::PartsError),
    /// Binding, accepting or serving failed at the socket level.
    #[error("emulator I/O failed; check the listen address and that the port is free")]
    Io(#[from] std::io::Error),
}

impl EmulatorError {
    /// True for errors caused by how the emulator was driven (not by the environment).
    pub fn is_usage_error(&self) -> bool {
        !matches!(self, EmulatorError::Io(_))
    }
}
