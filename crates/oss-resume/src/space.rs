//! Disk space: the free-space check and preallocation.

use std::fs::File;
use std::io;
use std::path::Path;

/// Bytes available to an unprivileged user on the filesystem holding `dir`.
#[cfg(unix)]
pub(crate) fn free_space(dir: &Path) -> io::Result<u64> {
    let st = rustix::fs::statvfs(dir)?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(not(unix))]
pub(crate) fn free_space(_dir: &Path) -> io::Result<u64> {
    Ok(u64::MAX)
}

/// Bytes the file already has allocated on disk (a resumed or preallocated temp file).
#[cfg(unix)]
pub(crate) fn allocated(file: &File) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(file.metadata()?.blocks().saturating_mul(512))
}

#[cfg(not(unix))]
pub(crate) fn allocated(file: &File) -> io::Result<u64> {
    Ok(file.metadata()?.len())
}

/// What preallocation achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prealloc {
    /// Every block is reserved: the download cannot hit ENOSPC on this file.
    Reserved,
    /// The filesystem cannot preallocate; the file is sparse.
    Unsupported,
}

/// Reserves `len` bytes for `file` with `fallocate` mode 0 (never `posix_fallocate`,
/// whose fallback writes every block), which also sets the length.
#[cfg(target_os = "linux")]
pub(crate) fn preallocate(file: &File, len: u64) -> io::Result<Prealloc> {
    if len == 0 {
        return Ok(Prealloc::Reserved);
    }
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, len) {
        Ok(()) => Ok(Prealloc::Reserved),
        Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NOSYS => {
            Ok(Prealloc::Unsupported)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn preallocate(_file: &File, _len: u64) -> io::Result<Prealloc> {
    Ok(Prealloc::Unsupported)
}

/// Writes all of `chunks` at `offset` with as few syscalls as possible (`pwritev`).
#[cfg(unix)]
pub(crate) fn write_all_at(
    file: &File,
    chunks: &[bytes::Bytes],
    mut offset: u64,
) -> io::Result<()> {
    use std::io::IoSlice;
    // IOV_MAX is 1024 on Linux; batches are far smaller, but stay within it anyway.
    const MAX_IOV: usize = 512;
    let mut index = 0;
    let mut skip = 0usize; // bytes of chunks[index] already written
    while index < chunks.len() {
        let end = (index + MAX_IOV).min(chunks.len());
        let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(end - index);
        for (k, chunk) in chunks.iter().enumerate().take(end).skip(index) {
            let from = if k == index { skip } else { 0 };
            if let Some(rest) = chunk.get(from..) {
                slices.push(IoSlice::new(rest));
            }
        }
        let written = match rustix::io::pwritev(file, &slices, offset) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => n,
            Err(e) if e == rustix::io::Errno::INTR => continue,
            Err(e) => return Err(e.into()),
        };
        offset += written as u64;
        let mut left = written;
        while left > 0 {
            let Some(chunk) = chunks.get(index) else {
                break;
            };
            let avail = chunk.len() - skip;
            if left >= avail {
                left -= avail;
                index += 1;
                skip = 0;
            } else {
                skip += left;
                left = 0;
            }
        }
        while chunks.get(index).is_some_and(|c| c.len() == skip) {
            index += 1;
            skip = 0;
        }
    }
    Ok(())
}

#[cfg(windows)]
pub(crate) fn write_all_at(
    file: &File,
    chunks: &[bytes::Bytes],
    mut offset: u64,
) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    for chunk in chunks {
        let mut data: &[u8] = chunk;
        while !data.is_empty() {
            let n = file.seek_write(data, offset)?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::WriteZero));
            }
            data = data.get(n..).unwrap_or_default();
            offset += n as u64;
        }
    }
    Ok(())
}

/// Reads exactly `buf.len()` bytes at `offset`.
#[cfg(unix)]
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

#[cfg(windows)]
pub(crate) fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_read(buf, offset)?;
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn vectored_write_lands_every_byte_at_its_offset() {
        let file = tempfile::tempfile().unwrap();
        let chunks: Vec<Bytes> = (0..1000u32)
            .map(|i| Bytes::from(vec![(i % 251) as u8; (i % 7 + 1) as usize]))
            .collect();
        write_all_at(&file, &chunks, 5).unwrap();
        let want: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        let mut got = vec![0; want.len()];
        read_exact_at(&file, &mut got, 5).unwrap();
        assert_eq!(got, want);
        assert_eq!(preallocate(&file, 1 << 20).unwrap(), Prealloc::Reserved);
        assert_eq!(file.metadata().unwrap().len(), 1 << 20);
        assert!(allocated(&file).unwrap() >= 1 << 20);
        assert!(free_space(&std::env::temp_dir()).unwrap() > 0);
    }
}
