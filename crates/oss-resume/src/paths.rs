//! The files a download uses beside its destination.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// `path` with `suffix` appended to its file name (`a/b.bin` + `.lock` = `a/b.bin.lock`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// The suffix of the temp data file: `{destination}.oss-tmp`.
pub const TEMP_SUFFIX: &str = ".oss-tmp";

/// The temp data file for `destination`: one fixed name beside it, so that a crashed run's
/// temp file is found (under the lock) by the next run and reused or cleaned, never orphaned.
pub(crate) fn temp_path(destination: &Path) -> PathBuf {
    with_suffix(destination, TEMP_SUFFIX)
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
