//! Paths as bytes in the checkpoint.
//!
//! Unix: the path's own bytes, whatever they are (non-UTF-8 names work). Elsewhere
//! (Windows): UTF-8, so a path that is not valid Unicode (an unpaired surrogate) cannot be
//! checkpointed and saving says so. UTF-8 paths therefore have the same bytes on every
//! platform, which keeps golden files portable.

use std::path::{Path, PathBuf};

/// The bytes stored for `path`, or `None` if this platform cannot store it.
#[cfg(unix)]
pub(crate) fn to_bytes(path: &Path) -> Option<&[u8]> {
    use std::os::unix::ffi::OsStrExt;
    Some(path.as_os_str().as_bytes())
}

/// The path stored as `bytes`, or `None` if it is not one on this platform.
#[cfg(unix)]
pub(crate) fn from_bytes(bytes: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

/// The bytes stored for `path`, or `None` if this platform cannot store it.
#[cfg(not(unix))]
pub(crate) fn to_bytes(path: &Path) -> Option<&[u8]> {
    path.to_str().map(str::as_bytes)
}

/// The path stored as `bytes`, or `None` if it is not one on this platform.
#[cfg(not(unix))]
pub(crate) fn from_bytes(bytes: &[u8]) -> Option<PathBuf> {
    std::str::from_utf8(bytes).ok().map(PathBuf::from)
}
