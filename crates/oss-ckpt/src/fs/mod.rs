//! Saving and loading checkpoint files: atomic replacement behind a [`Filesystem`] seam,
//! the boot id, and file identities. This is the crate's only I/O.
//!
//! # Saving
//!
//! [`CheckpointFile::save`] writes the encoded checkpoint to `{path}.tmp` beside the
//! checkpoint and renames it over `{path}`; rename replaces a name atomically, so after a
//! crash at any instant the checkpoint is the complete old one or the complete new one.
//!
//! - [`Durability::Cheap`]: write + rename, no fsync. Survives a process kill (which loses
//!   no page cache); about 0.1 ms for a prefix-shaped checkpoint, so it can run every
//!   ~10 ms.
//! - [`Durability::Durable`]: write, fsync the temp file, rename, fsync the directory.
//!   Survives power loss. (Windows has no directory fsync through std: NTFS journals the
//!   rename itself; a rename that hits a sharing violation — an indexer or antivirus
//!   holding the old checkpoint — is retried for about a second.)
//!
//! A limit of cheap saves: a filesystem that may commit a rename to its journal before
//! the renamed file's data (ext4 replaces-by-rename safely by default, `auto_da_alloc`;
//! mounted `noauto_da_alloc`, or another filesystem without that rule, may not) can lose
//! power right after a cheap save and come back with an empty or partial checkpoint.
//! `load` then reports it as corrupt and the download starts over: never a wrong file,
//! but the durable snapshot's progress is lost with it.
//!
//! A failed fsync is returned as [`CkptError::SyncFailed`], which is fatal
//! ([`CkptError::is_fatal`]): see the crate documentation for the ordering contract.
//!
//! # Injecting faults
//!
//! Every step goes through a [`Filesystem`]. [`StdFs`] is the real one; a caller wraps
//! it to fail or abort at a chosen step (for example a failpoint "checkpoint temp
//! written, before its rename" is a wrapper whose `rename` aborts), and tests use an
//! in-memory one that models what a crash keeps.

mod boot;
mod identity;

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

pub use boot::boot_id;
pub use identity::file_identity;

use crate::error::{CkptError, Step};
use crate::format::{self, HEADER_LEN, MAX_BODY_LEN};
use crate::model::{Checkpoint, Expected};

/// The filesystem operations a save and a load need, one method per step, so a test or
/// a caller can fail, delay or abort any of them.
///
/// ```
/// use std::io;
/// use std::path::Path;
/// use oss_ckpt::fs::{Filesystem, StdFs};
///
/// /// Fails every rename, as a full disk or a permissions change might.
/// struct NoRename(StdFs);
///
/// impl Filesystem for NoRename {
///     type File = <StdFs as Filesystem>::File;
///     fn create(&self, path: &Path) -> io::Result<Self::File> { self.0.create(path) }
///     fn sync_file(&self, file: &mut Self::File) -> io::Result<()> { self.0.sync_file(file) }
///     fn rename(&self, _: &Path, _: &Path) -> io::Result<()> {
///         Err(io::Error::other("injected"))
///     }
///     fn sync_dir(&self, dir: &Path) -> io::Result<()> { self.0.sync_dir(dir) }
///     fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> { self.0.read(path, limit) }
///     fn remove(&self, path: &Path) -> io::Result<()> { self.0.remove(path) }
/// }
/// ```
pub trait Filesystem {
    /// An open file being written.
    type File: Write;

    /// Creates `path` for writing, truncating it if it exists.
    fn create(&self, path: &Path) -> io::Result<Self::File>;

    /// Flushes the file's data and metadata to stable storage (fsync).
    fn sync_file(&self, file: &mut Self::File) -> io::Result<()>;

    /// Renames `from` to `to`, atomically replacing `to` if it exists.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Flushes the directory's entries to stable storage, so a rename in it survives
    /// power loss.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// Reads at most `limit` bytes of `path` (an error of kind `NotFound` if it does not
    /// exist).
    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>>;

    /// Removes `path`.
    fn remove(&self, path: &Path) -> io::Result<()>;
}

/// The real filesystem, through `std`.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("oss-ckpt-doc-stdfs-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// use oss_ckpt::fs::{Filesystem, StdFs};
/// use std::io::Write;
///
/// let mut file = StdFs.create(&dir.join("a"))?;
/// file.write_all(b"hi")?;
/// StdFs.sync_file(&mut file)?;
/// StdFs.rename(&dir.join("a"), &dir.join("b"))?;
/// StdFs.sync_dir(&dir)?;
/// assert_eq!(StdFs.read(&dir.join("b"), 100)?, b"hi");
/// StdFs.remove(&dir.join("b"))?;
/// # std::fs::remove_dir(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StdFs;

impl Filesystem for StdFs {
    type File = std::fs::File;

    fn create(&self, path: &Path) -> io::Result<std::fs::File> {
        std::fs::File::create(path)
    }

    fn sync_file(&self, file: &mut std::fs::File) -> io::Result<()> {
        // sync_all, not sync_data: the file is new, so its size and inode must reach the
        // disk too. (On Apple platforms std issues F_FULLFSYNC, which also flushes the
        // drive's cache.)
        file.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        rename_retrying(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        sync_dir(dir)
    }

    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata().map_or(0, |m| m.len()).min(limit);
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        file.take(limit).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    // A directory opened read-only can be fsynced on Linux and the BSDs.
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Windows: std cannot open a directory for flushing (that needs
    // FILE_FLAG_BACKUP_SEMANTICS and write access); NTFS journals the rename's metadata.
    Ok(())
}

#[cfg(windows)]
fn rename_retrying(from: &Path, to: &Path) -> io::Result<()> {
    // ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION: another process
    // (an indexer, an antivirus, a backup agent) has the old checkpoint open for a moment.
    const TRANSIENT: [i32; 3] = [5, 32, 33];
    let mut delay = std::time::Duration::from_millis(1);
    for _ in 0..10 {
        match std::fs::rename(from, to) {
            Err(e)
                if e.raw_os_error()
                    .is_some_and(|code| TRANSIENT.contains(&code)) =>
            {
                std::thread::sleep(delay);
                delay *= 2;
            }
            other => return other,
        }
    }
    std::fs::rename(from, to)
}

#[cfg(not(windows))]
fn rename_retrying(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)
}

/// How hard a save works to reach the disk.
///
/// ```
/// assert_ne!(oss_ckpt::fs::Durability::Cheap, oss_ckpt::fs::Durability::Durable);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Write and rename, no fsync: survives a process kill, not power loss.
    Cheap,
    /// fsync the file, rename, fsync the directory: survives power loss.
    Durable,
}

/// The default checkpoint path for a destination: `{destination}.cp`, as the C SDK
/// documents.
///
/// ```
/// use std::path::Path;
/// assert_eq!(oss_ckpt::fs::default_path(Path::new("dir/local.bin")), Path::new("dir/local.bin.cp"));
/// ```
pub fn default_path(destination: &Path) -> PathBuf {
    with_suffix(destination, ".cp")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// One checkpoint file: saves it atomically and loads it back.
///
/// It keeps its encode buffer, so the frequent cheap saves allocate little.
///
/// ```
/// # use oss_ckpt::*;
/// # use oss_parts::{Plan, PartSize};
/// use oss_ckpt::fs::{CheckpointFile, Durability};
///
/// let dir = std::env::temp_dir().join(format!("oss-ckpt-doc-file-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let destination = dir.join("local.bin");
/// # let object = ObjectIdentity { endpoint_host: "h".into(), bucket: "b".into(),
/// #     key: "k".into(), version_id: None, etag: "e".into(), size: 10,
/// #     last_modified: "m".into(), crc64: None };
/// # let local = LocalFiles { destination: destination.clone(), temp_path: "t".into(),
/// #     temp_file: FileIdentity { device: 1, file_id: 2, len: 10, created: None } };
/// let mut ckpt = Checkpoint::new(object.clone(), Plan::new(10, PartSize::new(5)?)?, local, None)?;
///
/// let mut file = CheckpointFile::for_destination(&destination);
/// assert!(matches!(file.load_any(), Err(CkptError::NotFound { .. })));
/// ckpt.latest.complete(0, oss_crc::checksum(b"01234"))?;
/// file.save(&ckpt, Durability::Cheap)?;
///
/// let expected = Expected {
///     object: &object,
///     part_size: PartSize::new(5)?,
///     destination: &destination,
/// };
/// assert_eq!(file.load(&expected)?, ckpt);
/// file.remove()?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CheckpointFile<F: Filesystem = StdFs> {
    fs: F,
    path: PathBuf,
    temp: PathBuf,
    dir: PathBuf,
    buffer: Vec<u8>,
}

impl CheckpointFile<StdFs> {
    /// The checkpoint at `path`, on the real filesystem.
    ///
    /// ```
    /// let file = oss_ckpt::fs::CheckpointFile::new("x.cp");
    /// assert_eq!(file.path(), std::path::Path::new("x.cp"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self::with_fs(StdFs, path)
    }

    /// The checkpoint at the default path for `destination` ([`default_path`]).
    ///
    /// ```
    /// let file = oss_ckpt::fs::CheckpointFile::for_destination("a/b.bin".as_ref());
    /// assert_eq!(file.path(), std::path::Path::new("a/b.bin.cp"));
    /// ```
    pub fn for_destination(destination: &Path) -> Self {
        Self::new(default_path(destination))
    }
}

impl<F: Filesystem> CheckpointFile<F> {
    /// The checkpoint at `path`, through `fs`.
    ///
    /// ```
    /// use oss_ckpt::fs::{CheckpointFile, StdFs};
    /// let file = CheckpointFile::with_fs(StdFs, "y.cp");
    /// assert_eq!(file.temp_path(), std::path::Path::new("y.cp.tmp"));
    /// ```
    pub fn with_fs(fs: F, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let temp = with_suffix(&path, ".tmp");
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self {
            fs,
            path,
            temp,
            dir,
            buffer: Vec::new(),
        }
    }

    /// The checkpoint's path.
    ///
    /// See [`CheckpointFile::new`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temp file a save writes before renaming it over the checkpoint.
    ///
    /// See [`CheckpointFile::with_fs`].
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// The filesystem (for tests that inspect it).
    ///
    /// ```
    /// let file = oss_ckpt::fs::CheckpointFile::new("x.cp");
    /// let _fs: &oss_ckpt::fs::StdFs = file.fs();
    /// ```
    pub fn fs(&self) -> &F {
        &self.fs
    }

    /// Encodes `ckpt` and replaces the checkpoint file with it atomically (see the module
    /// documentation). On error the old checkpoint is still in place, unless the error
    /// is a [`CkptError::SyncFailed`] after the rename, in which case the new one is in
    /// place but may not survive power loss.
    ///
    /// See [`CheckpointFile`] for an example.
    pub fn save(&mut self, ckpt: &Checkpoint, durability: Durability) -> Result<(), CkptError> {
        format::encode_into(ckpt, &mut self.buffer)?;
        let durable = durability == Durability::Durable;
        let io = |step, path: &Path| {
            let path = path.to_path_buf();
            move |source| CkptError::Io { step, path, source }
        };
        let sync = |step, path: &Path| {
            let path = path.to_path_buf();
            move |source| CkptError::SyncFailed { step, path, source }
        };

        let mut file = self
            .fs
            .create(&self.temp)
            .map_err(io(Step::Create, &self.temp))?;
        let written = file
            .write_all(&self.buffer)
            .map_err(io(Step::Write, &self.temp))
            .and_then(|()| {
                if durable {
                    self.fs
                        .sync_file(&mut file)
                        .map_err(sync(Step::SyncFile, &self.temp))
                } else {
                    Ok(())
                }
            });
        drop(file);
        if let Err(err) = written {
            // Best effort: a stale temp file is harmless (the next save truncates it),
            // but there is no reason to leave it.
            let _ = self.fs.remove(&self.temp);
            return Err(err);
        }
        self.fs
            .rename(&self.temp, &self.path)
            .map_err(io(Step::Rename, &self.path))?;
        if durable {
            self.fs
                .sync_dir(&self.dir)
                .map_err(sync(Step::SyncDir, &self.dir))?;
        }
        Ok(())
    }

    /// Loads the checkpoint and checks it is for the download `expected` describes:
    /// [`CkptError::NotFound`], [`CkptError::Corrupt`], [`CkptError::NewerFormat`] or
    /// [`CkptError::Mismatch`] say why it cannot be used. The temp data file is the
    /// caller's to check, with [`Checkpoint::check_temp_file`].
    ///
    /// See [`CheckpointFile`] for an example.
    pub fn load(&self, expected: &Expected<'_>) -> Result<Checkpoint, CkptError> {
        let ckpt = self.load_any()?;
        ckpt.check(expected)?;
        Ok(ckpt)
    }

    /// Loads and decodes the checkpoint without checking what it is for.
    ///
    /// See [`CheckpointFile`] for an example.
    pub fn load_any(&self) -> Result<Checkpoint, CkptError> {
        let limit = (HEADER_LEN + MAX_BODY_LEN + 1) as u64;
        let bytes = self.fs.read(&self.path, limit).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                CkptError::NotFound {
                    path: self.path.clone(),
                }
            } else {
                CkptError::Io {
                    step: Step::Read,
                    path: self.path.clone(),
                    source,
                }
            }
        })?;
        format::decode(&bytes)
    }

    /// Deletes the checkpoint (when the download is complete, or to start over). A
    /// checkpoint that is already gone is not an error.
    ///
    /// See [`CheckpointFile`] for an example.
    pub fn remove(&self) -> Result<(), CkptError> {
        let _ = self.fs.remove(&self.temp);
        match self.fs.remove(&self.path) {
            Err(source) if source.kind() != io::ErrorKind::NotFound => Err(CkptError::Io {
                step: Step::Remove,
                path: self.path.clone(),
                source,
            }),
            _ => Ok(()),
        }
    }
}
