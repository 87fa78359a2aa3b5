//! Keeping a durable download's data out of the page cache once it is on disk.
//!
//! After each fdatasync the syncer drops the pages it made durable with
//! `posix_fadvise(POSIX_FADV_DONTNEED)` (Linux; elsewhere nothing), so a download larger
//! than memory does not push everything else out of the page cache. Only clean pages go (a
//! page dirtied since the sync stays), so nothing written can be lost by it, and its errors
//! are ignored: the fdatasync is what reports a write error.
//!
//! What was tried and left out, with the measurements in `docs/crash-safety.md`: starting
//! each block's writeback as it is written (`sync_file_range(SYNC_FILE_RANGE_WRITE)`). On
//! the project's VM that writeback is asynchronous and the block layer throttles it, while
//! the fdatasyncs write synchronously and are not; it made durable downloads slower, not
//! faster. What keeps the disk busy instead is the syncer running its fdatasyncs back to
//! back whenever one takes longer than the sync interval.

use std::fs::File;
use std::ops::Range;

/// Drops the cached pages of `range` of `file`, which an fdatasync has just made durable
/// (pages dirtied since are kept by the kernel).
#[cfg(target_os = "linux")]
pub(crate) fn forget(file: &File, range: Range<u64>) {
    let Some(len) = std::num::NonZeroU64::new(range.end.saturating_sub(range.start)) else {
        return;
    };
    if let Err(e) = rustix::fs::fadvise(file, range.start, Some(len), rustix::fs::Advice::DontNeed)
    {
        tracing::trace!("posix_fadvise(DONTNEED): {e}");
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn forget(_file: &File, _range: Range<u64>) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt as _;

    /// Dropping pages changes nothing a reader sees, on any range (empty, past the end),
    /// synced or not.
    #[test]
    fn forgetting_pages_leaves_the_bytes_alone() {
        let file = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
        file.write_all_at(&data, 0).unwrap();
        forget(&file, 0..1 << 20); // dirty: kept
        file.sync_data().unwrap();
        forget(&file, 0..3 << 20);
        forget(&file, 7..7);
        forget(&file, 1 << 40..u64::MAX);
        let mut back = vec![0; data.len()];
        file.read_exact_at(&mut back, 0).unwrap();
        assert!(back == data);
    }
}
