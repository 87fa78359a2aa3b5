//! The files a download keeps beside its destination: the temp data file
//! `{destination}.oss-tmp`, the lock `{destination}.lock` and, by default, the checkpoint
//! `{destination}.cp`. Each is the destination's path with a suffix (oss-ckpt's
//! `with_suffix`, the one helper for it), so all sit in the destination's directory: the
//! final rename stays on one filesystem, and a crashed run's files are found by the next.
//!
//! A destination whose name is too long for a suffix (248-255 bytes) gets side files named
//! `{prefix}~{16 hex digits}{suffix}`: the longest prefix of its name that keeps the whole
//! within 255 bytes, and the CRC-64 of the name (`oss_ckpt::fs::with_suffix`), the same in
//! every run. All of them are opened as side files (`oss_ckpt::fs::open_side_file`): never
//! through a link, never blocking on a FIFO, regular files only.

use std::path::{Path, PathBuf};

use oss_ckpt::fs::with_suffix;

/// The suffix of the temp data file: `{destination}.oss-tmp`.
pub const TEMP_SUFFIX: &str = ".oss-tmp";

/// The suffix of the lock file: `{destination}.lock`.
const LOCK_SUFFIX: &str = ".lock";

/// The checkpoint path a download uses unless [`crate::Download::checkpoint_path`] sets
/// another: `{destination}.cp`, as the C SDK documents. A relative destination gives a
/// relative path. When the destination's file name is longer than 252 bytes, so that the
/// suffix would push it past the 255-byte limit, the name is shortened with a hash of it
/// instead: `{prefix}~{CRC-64 of the name, 16 hex digits}.cp`, 255 bytes, the same for
/// every run.
///
/// ```
/// use std::path::Path;
/// let path = oss_resume::default_checkpoint_path("dir/local.bin");
/// assert_eq!(path, Path::new("dir/local.bin.cp"));
/// ```
pub fn default_checkpoint_path(destination: impl AsRef<Path>) -> PathBuf {
    oss_ckpt::fs::default_path(destination.as_ref())
}

/// The checkpoint path in the directory `dir` for `destination` (ossutil's
/// `--checkpoint-dir`): `{dir}/{file name}.{CRC-64 of the absolute destination path, 16 hex
/// digits}.cp`, so downloads of two files of the same name into one checkpoint directory do
/// not collide, and the same destination finds its checkpoint again in every run. A name
/// too long for the suffix is shortened as [`default_checkpoint_path`] shortens it.
///
/// ```
/// use std::path::Path;
/// let a = oss_resume::checkpoint_path_in("/var/tmp/cp", "/data/a/disk.img");
/// let b = oss_resume::checkpoint_path_in("/var/tmp/cp", "/data/b/disk.img");
/// assert_ne!(a, b);
/// assert!(a.starts_with("/var/tmp/cp"));
/// let name = a.file_name().unwrap().to_str().unwrap();
/// assert!(name.starts_with("disk.img.") && name.ends_with(".cp"));
/// assert_eq!(name.len(), "disk.img.".len() + 16 + ".cp".len());
/// ```
pub fn checkpoint_path_in(dir: impl AsRef<Path>, destination: impl AsRef<Path>) -> PathBuf {
    let destination = destination.as_ref();
    let absolute = std::path::absolute(destination).unwrap_or_else(|_| destination.to_path_buf());
    let tag = oss_crc::checksum(absolute.as_os_str().as_encoded_bytes());
    let name = destination
        .file_name()
        .map_or_else(|| std::ffi::OsString::from("download"), ToOwned::to_owned);
    with_suffix(&dir.as_ref().join(name), &format!(".{tag:016x}.cp"))
}

/// The temp data file for `destination`: one fixed name beside it, so that a crashed run's
/// temp file is found (under the lock) by the next run and reused or cleaned, never orphaned.
pub(crate) fn temp_path(destination: &Path) -> PathBuf {
    with_suffix(destination, TEMP_SUFFIX)
}

/// The lock file for `destination` (the same whatever the checkpoint path).
pub(crate) fn lock_path(destination: &Path) -> PathBuf {
    with_suffix(destination, LOCK_SUFFIX)
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
