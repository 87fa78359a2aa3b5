//! Saving and loading checkpoint files: crash-safe saves behind a [`Filesystem`] seam,
//! the boot id, and file identities. This is the crate's only I/O.
//!
//! # Saving
//!
//! A checkpoint file holds four slots (format versions 3 and 4, see the crate's format docs);
//! loading takes the intact slot with the highest sequence number.
//!
//! - A [`CheckpointFile`]'s first save — and any save whose image outgrows the slots —
//!   writes a whole new file to `{path}.tmp` (the image in slot 0) and renames it over
//!   `{path}`; rename replaces a name atomically, so a crash leaves the old file or the new.
//! - Every later save overwrites one slot of the open file in place (`pwrite` of already
//!   allocated bytes: no allocation, no rename, so it does not wait for the filesystem's
//!   journal; `docs/checkpoint-format.md` has the measurements). Cheap saves alternate
//!   between slots 2 and 3, durable ones between 0 and 1, so a save never overwrites the newest save of its kind, and a cheap save never
//!   overwrites the last durable one. A crash in the middle of a write tears only the slot
//!   being written; its checksum fails and loading takes the newest intact one.
//!
//! - [`SaveKind::Cheap`]: no fsync. Survives a process kill (which loses no page cache),
//!   and is cheap enough to run every few milliseconds.
//! - [`SaveKind::Durable`]: an in-place save is followed by fdatasync of the file; a
//!   whole-file save fsyncs the temp file, renames it and fsyncs the directory. Survives
//!   power loss. (Windows has no directory fsync through std: NTFS journals the rename
//!   itself; a rename that hits a sharing violation — an indexer or antivirus holding the
//!   old checkpoint — is retried for about a second.)
//!
//! After a power loss, any subset of the cheap saves' unsynced writes may have reached the
//! disk, torn anywhere: each such slot is intact or fails its checksum, and the durable
//! slots hold the last durable save whatever happened to the others. A save that outgrows
//! the slots of a file holding durable saves is made durable whatever was asked, so the
//! new file is on disk before its rename can be. A limit: a whole-file cheap save (the first
//! of a `CheckpointFile`, when the caller asks for `Cheap`) on a filesystem that may commit
//! a rename before the renamed file's data (ext4 mounted `noauto_da_alloc`, or a filesystem
//! without ext4's replace-by-rename rule) can come back empty after power loss, taking the
//! file it replaced with it; `load` reports it as corrupt and the download starts over:
//! never a wrong file. (oss-resume makes its first save durable in durable mode.)
//!
//! A failed fsync is returned as [`CkptError::SyncFailed`], which is fatal
//! ([`CkptError::is_fatal`]): see the crate documentation for the ordering contract.
//!
//! # Injecting faults
//!
//! Every step goes through a [`Filesystem`]. [`StdFs`] is the real one; a caller wraps
//! it to fail or abort at a chosen step (for example a failpoint "a slot half written" is
//! a wrapper whose `write_at` aborts half way), and tests use an in-memory one that models
//! what a crash keeps.

mod boot;
mod identity;
mod side;

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

pub use boot::boot_id;
pub use identity::file_identity;
pub use side::{FileKind, NotRegularFile, SideOpen, open_read, open_side_file};

use crate::error::{CkptError, Step};
use crate::format::{self, MAX_FILE_LEN, SLOT_COUNT, slots};
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
///     fn write_at(&self, file: &mut Self::File, offset: u64, bytes: &[u8]) -> io::Result<()> {
///         self.0.write_at(file, offset, bytes)
///     }
///     fn sync_file(&self, file: &mut Self::File) -> io::Result<()> { self.0.sync_file(file) }
///     fn sync_data(&self, file: &mut Self::File) -> io::Result<()> { self.0.sync_data(file) }
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

    /// Creates `path` for reading and writing, replacing whatever file is there by a new,
    /// empty one (never writing through a symbolic link at the name).
    fn create(&self, path: &Path) -> io::Result<Self::File>;

    /// Overwrites `bytes.len()` bytes of `file` at `offset`, all of them or an error (the
    /// file is long enough: saves only overwrite bytes a whole-file save wrote).
    fn write_at(&self, file: &mut Self::File, offset: u64, bytes: &[u8]) -> io::Result<()>;

    /// Flushes the file's data and metadata to stable storage (fsync).
    fn sync_file(&self, file: &mut Self::File) -> io::Result<()>;

    /// Flushes the file's data to stable storage (fdatasync): enough after overwrites in
    /// place, which change no size and allocate nothing.
    fn sync_data(&self, file: &mut Self::File) -> io::Result<()>;

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

    /// Unlinks what is at `path` (a stale temp file of an earlier save, or a link someone
    /// planted: unlinking never follows it), then creates a new file with `O_EXCL`
    /// ([`open_side_file`]), so a save never writes through a link.
    fn create(&self, path: &Path) -> io::Result<std::fs::File> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        open_side_file(path, SideOpen::CreateNew)
    }

    fn write_at(&self, file: &mut std::fs::File, offset: u64, bytes: &[u8]) -> io::Result<()> {
        write_all_at(file, offset, bytes)
    }

    fn sync_file(&self, file: &mut std::fs::File) -> io::Result<()> {
        // sync_all, not sync_data: the file is new, so its size and inode must reach the
        // disk too. (On Apple platforms std issues F_FULLFSYNC, which also flushes the
        // drive's cache.)
        file.sync_all()
    }

    fn sync_data(&self, file: &mut std::fs::File) -> io::Result<()> {
        file.sync_data()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        rename_retrying(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        sync_dir(dir)
    }

    /// Reads through [`open_read`]: a FIFO, device or link at the name is refused at once
    /// ([`NotRegularFile`]) instead of blocking or being followed.
    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        let file = open_read(path)?;
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
fn write_all_at(file: &std::fs::File, offset: u64, bytes: &[u8]) -> io::Result<()> {
    // pwrite: positional, so the file's cursor (which the whole-file save left at its end)
    // does not matter.
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(windows)]
fn write_all_at(file: &std::fs::File, offset: u64, bytes: &[u8]) -> io::Result<()> {
    // seek_write may write less than asked, like write.
    let mut done = 0;
    while let Some(rest) = bytes.get(done..).filter(|rest| !rest.is_empty()) {
        match std::os::windows::fs::FileExt::seek_write(file, rest, offset + done as u64) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn write_all_at(mut file: &std::fs::File, offset: u64, bytes: &[u8]) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(bytes)
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

/// Which kind of save [`CheckpointFile::save`] makes: which slots it writes and whether it
/// flushes them to disk before returning. (A download's own durability mode — whether it
/// fsyncs at all — is the caller's idea; this names one save.)
///
/// ```
/// assert_ne!(oss_ckpt::fs::SaveKind::Cheap, oss_ckpt::fs::SaveKind::Durable);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveKind {
    /// No fsync: survives a process kill, not power loss.
    Cheap,
    /// fsync before returning: survives power loss.
    Durable,
    /// Written where a durable save goes, but the flush is the caller's: it fsyncs the
    /// checkpoint file (through any handle) and its directory before its next `Durable` or
    /// `DurableDeferred` save. Until that flush returns the save survives a process kill,
    /// not power loss; after it, like `Durable`. For a caller that keeps fsyncs off the
    /// thread that saves (an fsync can wait a second for a busy disk's journal).
    DurableDeferred,
}

impl SaveKind {
    /// Whether the save goes to the durable slots (`Durable`, `DurableDeferred`).
    fn durable_slot(self) -> bool {
        self != Self::Cheap
    }
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

/// Maps an I/O error of `step` on `path` to [`CkptError::Io`].
fn io_error(step: Step, path: &Path) -> impl FnOnce(io::Error) -> CkptError {
    let path = path.to_path_buf();
    move |source| CkptError::Io { step, path, source }
}

/// Maps a failed sync of `step` on `path` to the fatal [`CkptError::SyncFailed`].
fn sync_error(step: Step, path: &Path) -> impl FnOnce(io::Error) -> CkptError {
    let path = path.to_path_buf();
    move |source| CkptError::SyncFailed { step, path, source }
}

/// Writes `len` zero bytes (the new file's empty slots) in page-sized writes.
fn write_zeros(file: &mut impl Write, mut len: usize) -> io::Result<()> {
    const ZEROS: [u8; 4096] = [0; 4096];
    while len > 0 {
        let n = len.min(ZEROS.len());
        file.write_all(&ZEROS[..n])?;
        len -= n;
    }
    Ok(())
}

/// The longest file name (one path component) the common filesystems take, in bytes
/// (`NAME_MAX`: ext4, XFS, Btrfs, tmpfs, APFS; NTFS counts 255 UTF-16 units, never more
/// than the bytes).
pub const MAX_NAME_BYTES: usize = 255;

/// `path` with `suffix` appended to its file name (`a/b.bin` + `.cp` = `a/b.bin.cp`): how the
/// files kept beside a destination or a checkpoint are named (the checkpoint
/// `{destination}.cp`, a save's `{checkpoint}.tmp`; oss-resume names its temp data file and
/// its lock the same way).
///
/// When the name with the suffix would be longer than [`MAX_NAME_BYTES`] (a destination
/// named with 248-255 bytes), the name is shortened so that every destination a filesystem
/// takes has side files it takes too: the longest prefix of the name that fits (cut at a
/// character boundary), `~`, the name's CRC-64/XZ in 16 hex digits, then the suffix. The
/// result depends on the name alone, so the next run finds a crashed run's files; names
/// that fit are never changed.
///
/// ```
/// use std::path::Path;
/// let lock = oss_ckpt::fs::with_suffix(Path::new("dir/b.bin"), ".lock");
/// assert_eq!(lock, Path::new("dir/b.bin.lock"));
///
/// let long = "n".repeat(254);
/// let cp = oss_ckpt::fs::with_suffix(Path::new(&long), ".cp");
/// let name = cp.to_str().unwrap();
/// assert_eq!(name.len(), 255);
/// assert!(name.starts_with("nnnn") && name.ends_with(".cp"));
/// assert_eq!(&name[235..236], "~");
/// ```
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let Some(name) = path.file_name() else {
        let mut whole = OsString::from(path.as_os_str());
        whole.push(suffix);
        return PathBuf::from(whole);
    };
    let mut joined = name.to_os_string();
    joined.push(suffix);
    if joined.len() <= MAX_NAME_BYTES {
        return path.with_file_name(joined);
    }
    path.with_file_name(shortened(name, suffix))
}

/// `{prefix}~{crc64 of name, 16 hex}{suffix}`, at most [`MAX_NAME_BYTES`] bytes.
fn shortened(name: &std::ffi::OsStr, suffix: &str) -> OsString {
    let tag = format!("~{:016x}", oss_crc::checksum(name.as_encoded_bytes()));
    let room = MAX_NAME_BYTES.saturating_sub(tag.len() + suffix.len());
    let mut out = match name.to_str() {
        Some(text) => OsString::from(utf8_prefix(text, room)),
        None => raw_prefix(name, room),
    };
    out.push(&tag);
    out.push(suffix);
    out
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn utf8_prefix(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A name that is not UTF-8: its first `max` bytes as they are (Unix names are bytes).
#[cfg(unix)]
fn raw_prefix(name: &std::ffi::OsStr, max: usize) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    let bytes = name.as_bytes();
    std::ffi::OsStr::from_bytes(&bytes[..max.min(bytes.len())]).to_os_string()
}

/// A name that is not valid Unicode elsewhere: cut from its lossy text.
#[cfg(not(unix))]
fn raw_prefix(name: &std::ffi::OsStr, max: usize) -> OsString {
    OsString::from(utf8_prefix(&name.to_string_lossy(), max))
}

/// One checkpoint file: saves it atomically and loads it back.
///
/// It keeps its encode buffer, so the frequent cheap saves allocate little.
///
/// ```
/// # use oss_ckpt::*;
/// # use oss_parts::{Plan, PartSize};
/// use oss_ckpt::fs::{CheckpointFile, SaveKind};
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
/// file.save(&ckpt, SaveKind::Cheap)?;
///
/// let expected = Expected {
///     object: &object,
///     part_size: PartSize::new(5)?,
///     destination: &destination,
///     window: None,
/// };
/// assert_eq!(file.load(&expected)?, ckpt);
/// file.remove()?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CheckpointFile<F: Filesystem = StdFs> {
    fs: F,
    path: PathBuf,
    temp: PathBuf,
    dir: PathBuf,
    buffer: Vec<u8>,
    /// The sequence number of the last save (the next one gets one more).
    sequence: u64,
    /// The file this value wrote whole, kept open for saves in place; `None` before the
    /// first save, after a failed one, and after `remove`.
    open: Option<OpenSlots<F::File>>,
}

/// The checkpoint file as this process last wrote it whole.
struct OpenSlots<File> {
    file: File,
    slot_len: u32,
    /// The slot the next durable save goes to (0 or 1) and the next cheap one (2 or 3).
    next_durable: u64,
    next_cheap: u64,
    /// Whether the rename that put this file in place has reached the disk (its directory
    /// was fsynced): a whole-file cheap save leaves that to the first durable save.
    name_durable: bool,
    /// Whether the file holds a save made to be durable (`Durable` or `DurableDeferred`),
    /// which replacing the file must not lose.
    holds_durable: bool,
}

impl<F: Filesystem + std::fmt::Debug> std::fmt::Debug for CheckpointFile<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointFile")
            .field("fs", &self.fs)
            .field("path", &self.path)
            .field("sequence", &self.sequence)
            .field("slot_len", &self.open.as_ref().map(|o| o.slot_len))
            .finish_non_exhaustive()
    }
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
            sequence: 0,
            open: None,
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

    /// Saves `ckpt` so that a crash at any instant leaves a checkpoint file that loads as
    /// this save or an earlier one (see the module documentation): in place in one slot
    /// of the file this value wrote before, or as a whole new file on the first save and
    /// when the image outgrows the slots. On error the previous saves are still in place,
    /// unless the error is a [`CkptError::SyncFailed`], in which case this one may be too
    /// but may not survive power loss; the next save writes a whole new file.
    ///
    /// See [`CheckpointFile`] for an example.
    pub fn save(&mut self, ckpt: &Checkpoint, kind: SaveKind) -> Result<(), CkptError> {
        slots::encode_image(ckpt, &mut self.buffer)?;
        self.sequence += 1;
        let result = match self.open.take() {
            Some(open) if self.buffer.len() <= open.slot_len as usize => {
                self.save_in_place(open, kind)
            }
            outgrown => {
                // A file that holds durable saves is replaced by a durable one: the rename
                // must not reach the disk before the new file's bytes (filesystems without
                // ext4's replace-by-rename rule, or ext4 mounted `noauto_da_alloc`, may
                // commit it first), or a power cut would lose the durable saves with the
                // old file. Rare: only when the image outgrows the slots.
                let kind = match &outgrown {
                    Some(old) if old.holds_durable => SaveKind::Durable,
                    _ => kind,
                };
                // Closed before the new file replaces it (Windows may refuse to replace a
                // file a handle keeps open).
                drop(outgrown);
                self.save_whole(kind)
            }
        };
        // After an error `open` stays `None` (the file's state is uncertain), so the next
        // save writes a whole new file.
        result
    }

    /// Overwrites the next slot of `kind`'s pair in the open file.
    fn save_in_place(
        &mut self,
        mut open: OpenSlots<F::File>,
        kind: SaveKind,
    ) -> Result<(), CkptError> {
        let durable = kind == SaveKind::Durable;
        let slot = if kind.durable_slot() {
            open.next_durable
        } else {
            open.next_cheap
        };
        slots::seal(&mut self.buffer, self.sequence, open.slot_len);
        let offset = slot * u64::from(open.slot_len);
        self.fs
            .write_at(&mut open.file, offset, &self.buffer)
            .map_err(io_error(Step::Write, &self.path))?;
        if durable {
            self.fs
                .sync_data(&mut open.file)
                .map_err(sync_error(Step::SyncFile, &self.path))?;
            if !open.name_durable {
                self.fs
                    .sync_dir(&self.dir)
                    .map_err(sync_error(Step::SyncDir, &self.dir))?;
                open.name_durable = true;
            }
        }
        if kind.durable_slot() {
            open.next_durable ^= 1;
            open.holds_durable = true;
        } else {
            open.next_cheap ^= 1;
        }
        self.open = Some(open);
        Ok(())
    }

    /// Writes a whole new file (the image in slot 0) beside the checkpoint and renames it
    /// over it.
    fn save_whole(&mut self, kind: SaveKind) -> Result<(), CkptError> {
        let durable = kind == SaveKind::Durable;
        let slot_len = slots::seal_new_file(&mut self.buffer, self.sequence);
        let file_len = u64::from(slot_len) * SLOT_COUNT;
        let padding = usize::try_from(file_len).unwrap_or(usize::MAX) - self.buffer.len();

        let mut file = self
            .fs
            .create(&self.temp)
            .map_err(io_error(Step::Create, &self.temp))?;
        let written = file
            .write_all(&self.buffer)
            .and_then(|()| write_zeros(&mut file, padding))
            .map_err(io_error(Step::Write, &self.temp))
            .and_then(|()| {
                if durable {
                    self.fs
                        .sync_file(&mut file)
                        .map_err(sync_error(Step::SyncFile, &self.temp))
                } else {
                    Ok(())
                }
            });
        if let Err(err) = written {
            drop(file);
            // Best effort: a stale temp file is harmless (the next save truncates it),
            // but there is no reason to leave it.
            let _ = self.fs.remove(&self.temp);
            return Err(err);
        }
        if let Err(err) = self
            .fs
            .rename(&self.temp, &self.path)
            .map_err(io_error(Step::Rename, &self.path))
        {
            drop(file);
            let _ = self.fs.remove(&self.temp);
            return Err(err);
        }
        if durable {
            self.fs
                .sync_dir(&self.dir)
                .map_err(sync_error(Step::SyncDir, &self.dir))?;
        }
        self.open = Some(OpenSlots {
            file,
            slot_len,
            next_durable: 1,
            next_cheap: 2,
            name_durable: durable,
            holds_durable: kind.durable_slot(),
        });
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
        let limit = MAX_FILE_LEN + 1;
        let bytes = self.fs.read(&self.path, limit).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                CkptError::NotFound {
                    path: self.path.clone(),
                }
            } else if let Some(found) = NotRegularFile::find(&source) {
                CkptError::NotACheckpoint {
                    path: self.path.clone(),
                    found: found.kind.to_string(),
                }
            } else {
                CkptError::Io {
                    step: Step::Read,
                    path: self.path.clone(),
                    source,
                }
            }
        })?;
        match format::decode(&bytes) {
            Err(CkptError::Corrupt(_)) if !format::could_be_ours(&bytes) => {
                Err(CkptError::NotACheckpoint {
                    path: self.path.clone(),
                    found: "a file without the checkpoint header".to_owned(),
                })
            }
            decoded => decoded,
        }
    }

    /// Deletes the checkpoint (when the download is complete, or to start over). A
    /// checkpoint that is already gone is not an error.
    ///
    /// See [`CheckpointFile`] for an example.
    pub fn remove(&mut self) -> Result<(), CkptError> {
        self.open = None;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_get_side_names_that_fit_and_stay_the_same() {
        for len in [240, 247, 248, 251, 252, 255] {
            for unit in ["n", "é", "数"] {
                let name = unit.repeat(len / unit.len());
                let dest = Path::new("/d").join(&name);
                for suffix in [".cp", ".lock", ".oss-tmp"] {
                    let side = with_suffix(&dest, suffix);
                    let side_name = side.file_name().unwrap().to_str().unwrap();
                    assert!(side_name.len() <= MAX_NAME_BYTES, "{len} {unit} {suffix}");
                    assert!(side_name.ends_with(suffix));
                    assert_eq!(side.parent(), Some(Path::new("/d")));
                    assert_eq!(side, with_suffix(&dest, suffix), "deterministic");
                    if name.len() + suffix.len() <= MAX_NAME_BYTES {
                        assert_eq!(side_name, format!("{name}{suffix}"), "unchanged");
                    } else {
                        assert!(side_name.contains('~'), "{side_name}");
                    }
                    // The checkpoint's own temp name, derived from a shortened name.
                    let tmp = with_suffix(&side, ".tmp");
                    assert!(tmp.file_name().unwrap().len() <= MAX_NAME_BYTES);
                    assert_ne!(tmp, side);
                }
            }
        }
        // Two long names that share their first 235 bytes get different side names.
        let a = format!("{}a", "x".repeat(250));
        let b = format!("{}b", "x".repeat(250));
        assert_ne!(
            with_suffix(Path::new(&a), ".cp"),
            with_suffix(Path::new(&b), ".cp")
        );
    }
}
