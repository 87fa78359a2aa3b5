//! Side files: the files a download keeps beside its destination (its checkpoint and the
//! checkpoint's `.tmp`, and in oss-resume the temp data file and the lock). Anyone who can
//! write to that directory can plant something at those names; every open here is made so
//! that a plant can neither redirect a write nor hang the run:
//!
//! - **never through a symbolic link**: `O_NOFOLLOW` on the last component, so a link at a
//!   side file's name is an error ([`NotRegularFile`], naming it) instead of a write to
//!   whatever it points at;
//! - **never blocking**: `O_NONBLOCK` on the open, so a FIFO (whose open would wait for a
//!   writer forever, where no signal can end the run) or a device opens at once and is
//!   then refused; the flag is cleared again on the regular file that is kept;
//! - **only regular files**: the open file is checked with `fstat` (not the path, which
//!   could change in between), so a directory, FIFO, socket or device is refused.
//!
//! Creating a file that must be new uses `O_CREAT | O_EXCL` ([`SideOpen::CreateNew`]),
//! which fails on any existing name, a dangling link included. Removing is `unlink`, which
//! never follows a link either. Elsewhere than Unix the same checks are made from the
//! metadata, before and after the open (without the atomicity of the flags).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// How a side file is opened (always for reading and writing, except [`open_read`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideOpen {
    /// It must exist.
    Existing,
    /// It must not exist: a new, empty file (`O_EXCL`).
    CreateNew,
    /// Opened if it exists (never truncated), created empty otherwise.
    OpenOrCreate,
}

/// What sits at a path instead of a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// A symbolic link.
    Symlink,
    /// A directory.
    Directory,
    /// A FIFO (named pipe).
    Fifo,
    /// A Unix-domain socket.
    Socket,
    /// A character device (`/dev/null`, a terminal...).
    CharDevice,
    /// A block device (a disk).
    BlockDevice,
    /// Something else that is not a regular file.
    Other,
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Symlink => "a symbolic link",
            Self::Directory => "a directory",
            Self::Fifo => "a FIFO (named pipe)",
            Self::Socket => "a socket",
            Self::CharDevice => "a character device",
            Self::BlockDevice => "a block device",
            Self::Other => "not a regular file",
        })
    }
}

impl FileKind {
    /// The kind of `file_type`, or `None` for a regular file.
    ///
    /// ```
    /// let dir = std::env::temp_dir();
    /// let kind = oss_ckpt::fs::FileKind::of(std::fs::symlink_metadata(&dir)?.file_type());
    /// assert_eq!(kind, Some(oss_ckpt::fs::FileKind::Directory));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn of(file_type: std::fs::FileType) -> Option<Self> {
        if file_type.is_file() {
            return None;
        }
        if file_type.is_symlink() {
            return Some(Self::Symlink);
        }
        if file_type.is_dir() {
            return Some(Self::Directory);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if file_type.is_fifo() {
                return Some(Self::Fifo);
            }
            if file_type.is_socket() {
                return Some(Self::Socket);
            }
            if file_type.is_char_device() {
                return Some(Self::CharDevice);
            }
            if file_type.is_block_device() {
                return Some(Self::BlockDevice);
            }
        }
        Some(Self::Other)
    }

    /// What is at `path` when it is not a regular file (not following a final symbolic
    /// link); `None` for a regular file or nothing at all.
    ///
    /// ```
    /// let kind = oss_ckpt::fs::FileKind::at(&std::env::temp_dir().join("no-such-file-here"));
    /// assert_eq!(kind, None);
    /// ```
    pub fn at(path: &Path) -> Option<Self> {
        std::fs::symlink_metadata(path)
            .ok()
            .and_then(|m| Self::of(m.file_type()))
    }
}

/// A side file's name holds something that is not a regular file: refused, and left as it
/// is. Carried as the source of an [`io::Error`] of kind `InvalidInput`; find it with
/// [`NotRegularFile::find`].
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{} is {kind}, not a regular file; a download never writes through links or into special files, so move it away",
    path.display()
)]
pub struct NotRegularFile {
    /// The path.
    pub path: PathBuf,
    /// What is there.
    pub kind: FileKind,
}

impl NotRegularFile {
    /// The refusal carried by `error`, if it is one.
    ///
    /// ```
    /// use oss_ckpt::fs::{FileKind, NotRegularFile};
    /// let e = NotRegularFile { path: "x.cp".into(), kind: FileKind::Fifo }.into_io();
    /// assert_eq!(NotRegularFile::find(&e).map(|n| n.kind), Some(FileKind::Fifo));
    /// ```
    pub fn find(error: &io::Error) -> Option<&Self> {
        error.get_ref().and_then(|e| e.downcast_ref::<Self>())
    }

    /// As an [`io::Error`] of kind `InvalidInput`.
    ///
    /// See [`NotRegularFile::find`].
    pub fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, self)
    }
}

/// Opens the side file at `path` for reading and writing, `how` it must be found: never
/// through a symbolic link, never blocking, and only a regular file (see the module
/// documentation). Anything else at the name is a [`NotRegularFile`] error naming it.
///
/// ```
/// use oss_ckpt::fs::{SideOpen, open_side_file};
/// let path = std::env::temp_dir().join(format!("oss-ckpt-doc-side-{}", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let file = open_side_file(&path, SideOpen::CreateNew)?;
/// assert!(open_side_file(&path, SideOpen::CreateNew).is_err());
/// drop(file);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open_side_file(path: &Path, how: SideOpen) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    match how {
        SideOpen::Existing => {}
        SideOpen::CreateNew => {
            options.create_new(true);
        }
        SideOpen::OpenOrCreate => {
            options.create(true).truncate(false);
        }
    }
    open_checked(path, &mut options)
}

/// Opens the file at `path` for reading only, with the same discipline as
/// [`open_side_file`]: for loading a checkpoint, or looking at a destination, without
/// following a link or blocking on a FIFO.
///
/// ```
/// let dir = std::env::temp_dir();
/// let e = oss_ckpt::fs::open_read(&dir).unwrap_err();
/// assert!(oss_ckpt::fs::NotRegularFile::find(&e).is_some());
/// ```
pub fn open_read(path: &Path) -> io::Result<File> {
    open_checked(path, OpenOptions::new().read(true))
}

/// Opens with `options` plus the no-follow, non-blocking flags, then checks the file.
#[cfg(unix)]
fn open_checked(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    use rustix::fs::OFlags;
    use std::os::unix::fs::OpenOptionsExt;
    let flags = OFlags::NOFOLLOW | OFlags::NONBLOCK;
    // The flags are small positive constants; `custom_flags` takes the C `int`.
    options.custom_flags(i32::try_from(flags.bits()).unwrap_or(0));
    let file = match options.open(path) {
        Ok(file) => file,
        // ELOOP: a symbolic link at the name (O_NOFOLLOW). Named as what it is: "too many
        // levels of symbolic links" would only puzzle.
        Err(e) if rustix::io::Errno::from_io_error(&e) == Some(rustix::io::Errno::LOOP) => {
            return Err(refusal(
                path,
                FileKind::at(path).unwrap_or(FileKind::Symlink),
            ));
        }
        // ENXIO: a socket, or a FIFO opened for writing with no reader. Both are refused.
        Err(e) if rustix::io::Errno::from_io_error(&e) == Some(rustix::io::Errno::NXIO) => {
            return Err(refusal(path, FileKind::at(path).unwrap_or(FileKind::Other)));
        }
        Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
            return Err(refusal(path, FileKind::Directory));
        }
        Err(e) => return Err(e),
    };
    check_regular(path, &file)?;
    let flags = rustix::fs::fcntl_getfl(&file)?;
    rustix::fs::fcntl_setfl(&file, flags - OFlags::NONBLOCK)?;
    Ok(file)
}

/// Without the flags: refuse a non-regular file at the name before opening, and check
/// again after (not atomic, unlike on Unix).
#[cfg(not(unix))]
fn open_checked(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    if let Some(kind) = FileKind::at(path) {
        return Err(refusal(path, kind));
    }
    let file = options.open(path)?;
    check_regular(path, &file)?;
    Ok(file)
}

/// The open `file` (not whatever `path` names now) is a regular file.
fn check_regular(path: &Path, file: &File) -> io::Result<()> {
    match FileKind::of(file.metadata()?.file_type()) {
        None => Ok(()),
        Some(kind) => Err(refusal(path, kind)),
    }
}

fn refusal(path: &Path, kind: FileKind) -> io::Error {
    NotRegularFile {
        path: path.to_path_buf(),
        kind,
    }
    .into_io()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mkfifo(path: &Path) -> rustix::io::Result<()> {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
    }

    #[test]
    fn links_fifos_and_directories_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo).unwrap();
        let cases = [
            (&link, FileKind::Symlink),
            (&fifo, FileKind::Fifo),
            (&dir.path().to_path_buf(), FileKind::Directory),
        ];
        for (path, kind) in cases {
            for how in [SideOpen::Existing, SideOpen::OpenOrCreate] {
                let e = open_side_file(path, how).unwrap_err();
                let found = NotRegularFile::find(&e).unwrap_or_else(|| panic!("{e:?}"));
                assert_eq!((found.kind, &found.path), (kind, path), "{how:?}");
                assert!(e.to_string().contains(&path.display().to_string()), "{e}");
            }
            let e = open_read(path).unwrap_err();
            assert_eq!(NotRegularFile::find(&e).map(|n| n.kind), Some(kind));
        }
        // A dangling link is an existing name too.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nothing"), &dangling).unwrap();
        assert!(open_side_file(&dangling, SideOpen::CreateNew).is_err());
        assert!(!dir.path().join("nothing").exists());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }

    #[test]
    fn regular_files_open_blocking_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = open_side_file(&path, SideOpen::OpenOrCreate).unwrap();
        let flags = rustix::fs::fcntl_getfl(&file).unwrap();
        assert!(!flags.contains(rustix::fs::OFlags::NONBLOCK), "{flags:?}");
        drop(file);
        std::fs::write(&path, b"data").unwrap();
        // Opened, never truncated.
        drop(open_side_file(&path, SideOpen::OpenOrCreate).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"data");
        assert!(open_side_file(&dir.path().join("none"), SideOpen::Existing).is_err());
    }
}
