//! Named crash points (cargo feature `failpoints`): the process aborts itself at the named
//! instant when `OSS_RESUME_FAILPOINT=<name>` (or `<name>:<n>` for the n-th time it is
//! reached) is set. Without the feature every call compiles to nothing.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

use oss_ckpt::fs::{Filesystem, StdFs};

/// A whole-file checkpoint save (a run's first save, or one that outgrew the file's slots)
/// has written `DEST.cp.tmp` (and fsynced it, if durable), before renaming it into place.
pub const CKPT_TEMP_WRITTEN: &str = "ckpt-temp-written";
/// A checkpoint save in place has written the first half of its slot: an abort here leaves
/// a torn slot, which the next load must skip for the newest intact one.
pub const CKPT_SLOT_TORN: &str = "ckpt-slot-torn";
/// A checkpoint save in place has written its whole slot, before its fdatasync (durable
/// saves; a cheap save is complete here).
pub const CKPT_SLOT_WRITTEN: &str = "ckpt-slot-written";
/// The data file was fdatasynced (periodically or before the final rename); the durable
/// snapshot covering it is not saved yet.
pub const DATA_SYNCED: &str = "data-synced";
/// A block of a part is written, the part is incomplete, and at least half of the object
/// is on disk.
pub const MID_PART: &str = "mid-part";
/// An idle worker has just split the tail off a run that was far behind (the victim's end
/// is lowered) and owns the split-off parts, before its first request for them. Not in
/// [`ALL`]: only a download with a straggling run at its tail reaches it.
pub const TAIL_SPLIT: &str = "tail-split";
/// Every part is done and committed; nothing is verified, synced or renamed yet.
pub const PARTS_DONE: &str = "parts-done";
/// The destination was renamed into place (and its directory synced); the checkpoint is
/// not deleted yet.
pub const DEST_RENAMED: &str = "dest-renamed";

/// Every failpoint name, in the order a durable download first reaches them: its first
/// checkpoint save (a whole file, before the first GET), the saves in place that follow,
/// then half way and the first periodic data sync (these two in either order, by size and
/// speed), then the finish: every part done, the final data sync and checkpoint save, the
/// rename.
pub const ALL: [&str; 7] = [
    CKPT_TEMP_WRITTEN,
    CKPT_SLOT_TORN,
    CKPT_SLOT_WRITTEN,
    MID_PART,
    DATA_SYNCED,
    PARTS_DONE,
    DEST_RENAMED,
];

/// The environment variable that arms a failpoint.
pub const ENV: &str = "OSS_RESUME_FAILPOINT";

#[cfg(feature = "failpoints")]
mod armed {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);

    pub(super) fn hit(name: &str) {
        let armed = ARMED.get_or_init(|| {
            let text = std::env::var(super::ENV).ok()?;
            let (name, nth) = match text.split_once(':') {
                Some((n, k)) => (n.to_owned(), k.parse().unwrap_or(1)),
                None => (text, 1),
            };
            Some((name, nth.max(1)))
        });
        if let Some((armed_name, nth)) = armed
            && armed_name == name
            && HITS.fetch_add(1, Ordering::SeqCst) + 1 >= *nth
        {
            eprintln!("oss-resume: failpoint {name} reached, aborting");
            std::process::abort();
        }
    }
}

/// Marks the instant `name`; aborts the process if that failpoint is armed.
#[inline]
pub(crate) fn hit(name: &str) {
    #[cfg(feature = "failpoints")]
    armed::hit(name);
    #[cfg(not(feature = "failpoints"))]
    let _ = name;
}

/// A test's stand-in for the data file's fdatasync (see [`DataSync`]).
pub(crate) type DataSyncSeam = Arc<dyn Fn(&File) -> io::Result<()> + Send + Sync>;

/// The data file's fdatasync, as the syncer thread and the finish run it: for real;
/// failing with EIO (feature `failpoints`, `inject_sync_failure`); or through a test's seam
/// (`inject_data_sync`), which *replaces* the call, so a test sees every data sync at the
/// instant the download makes it and can tell what a power cut would keep.
#[derive(Clone, Default)]
pub(crate) struct DataSync {
    pub(crate) fail: bool,
    pub(crate) seam: Option<DataSyncSeam>,
}

impl std::fmt::Debug for DataSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataSync")
            .field("fail", &self.fail)
            .field("seam", &self.seam.is_some())
            .finish()
    }
}

impl DataSync {
    /// fdatasync of `file` (or what stands in for it).
    pub(crate) fn run(&self, file: &File) -> io::Result<()> {
        if self.fail {
            return Err(io::Error::from_raw_os_error(5)); // EIO, injected
        }
        match &self.seam {
            Some(seam) => seam(file),
            None => file.sync_data(),
        }
    }
}

/// The real filesystem for checkpoint saves, with the checkpoint failpoints at its seams.
#[derive(Debug, Default)]
pub(crate) struct FailpointFs;

impl Filesystem for FailpointFs {
    type File = <StdFs as Filesystem>::File;

    fn create(&self, path: &Path) -> io::Result<Self::File> {
        StdFs.create(path)
    }

    fn write_at(&self, file: &mut Self::File, offset: u64, bytes: &[u8]) -> io::Result<()> {
        // With the feature, the slot is written in two halves with a failpoint between them,
        // so a crash test can leave it torn; without it, in one pwrite like `StdFs`.
        #[cfg(feature = "failpoints")]
        {
            let (first, second) = bytes.split_at(bytes.len() / 2);
            StdFs.write_at(file, offset, first)?;
            hit(CKPT_SLOT_TORN);
            StdFs.write_at(file, offset + first.len() as u64, second)?;
        }
        #[cfg(not(feature = "failpoints"))]
        StdFs.write_at(file, offset, bytes)?;
        hit(CKPT_SLOT_WRITTEN);
        Ok(())
    }

    fn sync_file(&self, file: &mut Self::File) -> io::Result<()> {
        StdFs.sync_file(file)
    }

    fn sync_data(&self, file: &mut Self::File) -> io::Result<()> {
        StdFs.sync_data(file)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        hit(CKPT_TEMP_WRITTEN);
        StdFs.rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        StdFs.sync_dir(dir)
    }

    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        StdFs.read(path, limit)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        StdFs.remove(path)
    }
}
