//! The destination lock: `{destination}.lock`, held for the whole run, checkpoint on or off.
//!
//! `File::try_lock` (flock on Unix, LockFileEx on Windows) on a file that is never renamed.
//! The holder writes its pid inside so a refused run can say who holds it. After locking,
//! the path must still name the locked file: a finishing run unlinks the lock file while it
//! holds the lock, so a run that opened the old file just before could otherwise "lock" an
//! unlinked inode while a third run locks a new file at the same path (the standard
//! unlink race). A filesystem without locks (ENOLCK, e.g. some NFS setups) gets a warning and
//! the run goes on unlocked.
//!
//! The lock file is a side file like the others (oss-ckpt's `open_side_file`): never opened
//! through a symbolic link, never blocking on a FIFO, only a regular file. And it is ours
//! only if it holds nothing but a pid line (or nothing: a run killed between creating and
//! writing it): any other file at that name is refused ([`Error::ForeignFile`]) rather than
//! truncated and, at the end of the run, deleted — unless the caller asked to restart,
//! which removes it.
//!
//! The lock belongs to the open file, so it goes when the holder's last descriptor closes:
//! at exit, however the process dies (every file here is opened close-on-exec, so no child
//! keeps it). A process killed with SIGKILL still holds it until it has *finished* dying,
//! and a thread blocked in the kernel (an fdatasync in durable mode, writeback throttling)
//! delays that: `kill` returns at once while the process lingers, uninterruptible, for
//! tens to hundreds of milliseconds (measured on a durable 1 GiB download: 4 kills in 15
//! left it in state D holding the lock for 57-220 ms). A script that kills a run and starts
//! the next one must wait for the killed process to exit (`wait`, `waitpid`) first, or it
//! gets [`Error::Locked`] naming the killed process.

use std::fs::{File, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use oss_ckpt::fs::{NotRegularFile, SideOpen, open_side_file};

use crate::error::{Error, LocalOp};
use crate::paths::lock_path;

/// A held destination lock; released (and its file removed) when dropped.
#[derive(Debug)]
pub(crate) struct DestLock {
    /// Holds the lock; `None` once released.
    file: Option<File>,
    path: PathBuf,
}

/// How many times to reopen when the lock file was replaced under us.
const RELOCK_ATTEMPTS: usize = 8;

impl DestLock {
    /// Takes the lock for `destination`, or says who holds it. The second value is a
    /// warning when the filesystem cannot lock. With `restart`, something that is not a
    /// lock file at the lock's name is removed instead of refused.
    pub(crate) fn acquire(
        destination: &Path,
        restart: bool,
    ) -> Result<(Self, Option<String>), Error> {
        let path = lock_path(destination);
        let local = |e| Error::local(LocalOp::Lock, &path, e);
        for _ in 0..RELOCK_ATTEMPTS {
            let mut file = match open_side_file(&path, SideOpen::OpenOrCreate) {
                Ok(file) => file,
                Err(e) => match NotRegularFile::find(&e) {
                    Some(found) if restart => {
                        tracing::info!("restart: removing {}", found);
                        remove_in_the_way(&path).map_err(local)?;
                        continue;
                    }
                    Some(found) => return Err(foreign(&path, found.kind.to_string())),
                    None => return Err(local(e)),
                },
            };
            // Checked before locking, so a filesystem without locks is covered too (and
            // nothing of it is truncated or, at the end, deleted).
            if !restart && !holds_a_pid(&mut file) {
                return Err(foreign(
                    &path,
                    "a file that is not a lock file (it holds no process id)".to_owned(),
                ));
            }
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        destination: destination.to_path_buf(),
                        pid: read_pid(&mut file),
                        lock_path: path,
                    });
                }
                Err(TryLockError::Error(e)) if locks_unsupported(&e) => {
                    let warning = format!(
                        "the filesystem of {} does not support file locks ({e}); two runs on this destination would not be kept apart",
                        path.display()
                    );
                    tracing::warn!("{warning}");
                    write_pid(&file).map_err(local)?;
                    return Ok((
                        Self {
                            file: Some(file),
                            path,
                        },
                        Some(warning),
                    ));
                }
                Err(TryLockError::Error(e)) => return Err(local(e)),
            }
            if !still_names(&path, &file) {
                continue; // replaced between open and lock: try the new file
            }
            write_pid(&file).map_err(local)?;
            return Ok((
                Self {
                    file: Some(file),
                    path,
                },
                None,
            ));
        }
        Err(local(io::Error::other(
            "the lock file kept being replaced while locking it",
        )))
    }
}

impl Drop for DestLock {
    /// Removes the lock file (while still holding the lock), then unlocks.
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            let _ = std::fs::remove_file(&self.path);
            drop(file);
        }
    }
}

/// Whether `try_lock` failed because the filesystem has no locks (ENOLCK: e.g. NFS without
/// a lock manager; EOPNOTSUPP/ENOTSUP: a FUSE or network filesystem that does not do
/// flock). The numbers differ between Unixes (ENOLCK is 37 on Linux, 77 on macOS), so they
/// come from rustix rather than being written out.
fn locks_unsupported(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        if Errno::from_io_error(e)
            .is_some_and(|n| n == Errno::NOLCK || n == Errno::OPNOTSUPP || n == Errno::NOTSUP)
        {
            return true;
        }
    }
    e.kind() == io::ErrorKind::Unsupported
}

/// `Error::ForeignFile` for the lock's name.
fn foreign(path: &Path, found: String) -> Error {
    Error::ForeignFile {
        path: path.to_path_buf(),
        found,
    }
}

/// Removes what is at the lock's name (a link is removed, never its target; a directory
/// only when empty).
fn remove_in_the_way(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::IsADirectory || path.is_dir() => {
            std::fs::remove_dir(path)
        }
        other => other,
    }
}

/// Whether the file is a lock file of ours: empty (a run killed between creating
/// it and writing its pid), or one pid line.
fn holds_a_pid(file: &mut File) -> bool {
    let mut text = String::new();
    let mut limited = Read::take(&mut *file, 64);
    if limited.read_to_string(&mut text).is_err() {
        return false;
    }
    let _ = file.rewind();
    let line = text.strip_suffix('\n').unwrap_or(&text);
    text.is_empty()
        || (!line.is_empty() && line.len() <= 20 && line.bytes().all(|b| b.is_ascii_digit()))
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

fn write_pid(file: &File) -> io::Result<()> {
    file.set_len(0)?;
    let mut f = file;
    f.write_all(format!("{}\n", std::process::id()).as_bytes())
}

#[cfg(unix)]
fn still_names(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_names(path: &Path, _file: &File) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_pid_and_released_on_drop() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let dest = dir.join("file.bin");
        let (held, warning) = DestLock::acquire(&dest, false).unwrap();
        assert!(warning.is_none());
        match DestLock::acquire(&dest, false) {
            Err(Error::Locked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(!dir.join("file.bin.lock").exists());
        let (again, _) = DestLock::acquire(&dest, false).unwrap();
        drop(again);
        assert!(!dir.join("file.bin.lock").exists());
    }

    #[cfg(unix)]
    #[test]
    fn no_locks_on_the_filesystem_is_recognised_by_errno() {
        use rustix::io::Errno;
        for errno in [Errno::NOLCK, Errno::OPNOTSUPP, Errno::NOTSUP] {
            let e = io::Error::from_raw_os_error(errno.raw_os_error());
            assert!(locks_unsupported(&e), "{e}");
        }
        for errno in [Errno::ACCESS, Errno::AGAIN, Errno::IO] {
            let e = io::Error::from_raw_os_error(errno.raw_os_error());
            assert!(!locks_unsupported(&e), "{e}");
        }
    }

    /// The lock lives as long as its open file: a descriptor inherited by a child process
    /// would keep the destination locked after this process is gone. std opens files
    /// close-on-exec; this guards that the lock file stays so.
    #[cfg(unix)]
    #[test]
    fn the_lock_file_is_never_inherited_by_child_processes() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let (held, _) = DestLock::acquire(&dir.join("file.bin"), false).unwrap();
        let flags = rustix::io::fcntl_getfd(held.file.as_ref().unwrap()).unwrap();
        assert!(flags.contains(rustix::io::FdFlags::CLOEXEC), "{flags:?}");
        drop(held);
    }
}
