//! Keeping the disk busy while a durable download runs, and the page cache free of it.
//!
//! Durable mode must have every byte on stable storage before the rename, and the disk
//! writes at its own pace. Left alone, the kernel starts writing dirty pages only when
//! they are old or many, so the writes bunch up behind the transfer and the last fdatasync
//! waits for all of them. Two hints change that, both on Linux only (elsewhere they do
//! nothing and the periodic fdatasync alone drives the disk):
//!
//! - [`start`]: right after a block is written, `sync_file_range(SYNC_FILE_RANGE_WRITE)`
//!   queues its writeback, so the disk writes while the network delivers the next blocks and
//!   each fdatasync finds little left to do.
//! - [`forget`]: after an fdatasync, `posix_fadvise(POSIX_FADV_DONTNEED)` over the bytes it
//!   made durable drops their (now clean) pages, so a download larger than memory does not
//!   push everything else out of the page cache.
//!
//! Neither is what makes a byte durable: the durable snapshot's claim rests on the syncer's
//! fdatasync alone (`docs/crash-safety.md`). `sync_file_range` flushes neither the disk's
//! cache nor the file's metadata. It is only ever called without its `WAIT_*` flags: waiting
//! through it checks and *advances* the file's writeback-error cursor, so an I/O error it
//! saw would no longer be reported by the fdatasync that a durable snapshot relies on.
//! Errors from either hint are ignored for the same reason: the fdatasync reports them.

use std::fs::File;
use std::ops::Range;

/// Starts writeback of `range` of `file` (bytes just written) without waiting for it.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub(crate) fn start(file: &File, range: Range<u64>) {
    use std::os::fd::AsRawFd as _;
    let (Ok(offset), Ok(len)) = (
        i64::try_from(range.start),
        i64::try_from(range.end.saturating_sub(range.start)),
    ) else {
        return;
    };
    if len == 0 {
        return;
    }
    // SAFETY: sync_file_range takes a descriptor, two integers and flags and touches no
    // memory of ours. The descriptor is borrowed from `file`, which outlives the call, so it
    // is open and is this file's. Any failure is an error return, never undefined behaviour.
    let rc = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
    if rc != 0 {
        tracing::trace!(
            "sync_file_range: {} (the fdatasync reports what matters)",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn start(_file: &File, _range: Range<u64>) {}

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

    /// The hints change nothing a reader sees, in any order, on any range (empty, past the
    /// end, larger than i64).
    #[test]
    fn hints_leave_the_bytes_alone() {
        let file = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
        file.write_all_at(&data, 0).unwrap();
        start(&file, 0..1 << 20);
        start(&file, 1 << 20..3 << 20);
        start(&file, 5..5);
        start(&file, 0..u64::MAX);
        file.sync_data().unwrap();
        forget(&file, 0..3 << 20);
        forget(&file, 7..7);
        forget(&file, 1 << 40..u64::MAX);
        let mut back = vec![0; data.len()];
        file.read_exact_at(&mut back, 0).unwrap();
        assert!(back == data);
    }
}
