//! What identifies a file, read from an open handle.

use std::fs::File;
use std::io;
use std::time::UNIX_EPOCH;

use crate::model::FileIdentity;

/// The identity of an open file: device, inode, length and birth time on Unix.
///
/// The birth time is `Metadata::created` (on Linux, `statx`'s `btime`, which ext4, XFS,
/// Btrfs and tmpfs record) in nanoseconds since the Unix epoch, or `None` where the
/// platform or filesystem has none; [`crate::Checkpoint::check_temp_file`] then relies on
/// the rest.
///
/// On Windows, std's stable API has neither the volume serial number nor the file index,
/// so the best equivalent is used: device 0 and the creation time (100 ns ticks) as the
/// file id. A replaced file gets a new creation time — except through NTFS "tunneling",
/// which gives a file created within 15 s of deleting a same-named one the old time; the
/// length check still catches a truncated replacement. Elsewhere only the length (and a
/// birth time, if std has one) is used.
///
/// ```
/// let path = std::env::temp_dir().join(format!("oss-ckpt-doc-identity-{}", std::process::id()));
/// let file = std::fs::File::create(&path)?;
/// file.set_len(1000)?;
/// let id = oss_ckpt::fs::file_identity(&file)?;
/// assert_eq!(id.len, 1000);
/// assert_eq!(oss_ckpt::fs::file_identity(&std::fs::File::open(&path)?)?, id);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn file_identity(file: &File) -> io::Result<FileIdentity> {
    let meta = file.metadata()?;
    let (device, file_id) = platform_ids(&meta);
    Ok(FileIdentity {
        device,
        file_id,
        len: meta.len(),
        created: birth_time(&meta),
    })
}

/// Nanoseconds since the Unix epoch of the file's birth, when std can tell.
fn birth_time(meta: &std::fs::Metadata) -> Option<u64> {
    let since = meta.created().ok()?.duration_since(UNIX_EPOCH).ok()?;
    u64::try_from(since.as_nanos()).ok()
}

#[cfg(unix)]
fn platform_ids(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(windows)]
fn platform_ids(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::windows::fs::MetadataExt;
    (0, meta.creation_time())
}

#[cfg(not(any(unix, windows)))]
fn platform_ids(_meta: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}
