//! An in-memory filesystem that models what a crash keeps: a file's contents survive only
//! up to its last successful fsync, and a directory entry (create, rename, remove) only up
//! to the last successful fsync of its directory. Everything else is dropped by `crash`.
//!
//! It also kills the "process" at a chosen operation: from then on every operation fails,
//! so the save in progress stops exactly there, and writes are split into small chunks so
//! a kill can land in the middle of one.
//!
//! Power loss comes in two kinds: `crash` keeps nothing that was not synced, and
//! `crash_keeping` keeps a random subset of the unsynced 64-byte blocks of every file (smaller than a
//! real sector, so that small test checkpoints tear too),
//! the way a disk may have written some of the dirty pages before the power went.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use oss_ckpt::fs::Filesystem;

/// Largest chunk one `write` call accepts: a kill can cut a write in the middle.
const WRITE_CHUNK: usize = 61;

/// The unit a power loss keeps or loses (`crash_keeping`).
const TEAR: usize = 64;

#[derive(Default, Clone)]
struct State {
    /// name -> inode, as the running system sees it.
    names: BTreeMap<PathBuf, u64>,
    /// name -> inode, as the disk holds it.
    durable_names: BTreeMap<PathBuf, u64>,
    /// inode -> contents, as the running system sees them.
    data: HashMap<u64, Vec<u8>>,
    /// inode -> contents, as the disk holds them.
    durable_data: HashMap<u64, Vec<u8>>,
    next_inode: u64,
    /// Operations counted since `arm`.
    ops: u64,
    /// The operation (counted from 0) at which the process dies: it and all later ones fail.
    die_at: Option<u64>,
    /// Operations that fail once each without killing the process (fault injection).
    fail_once: Vec<u64>,
}

#[derive(Clone, Default)]
pub struct CrashFs(Arc<Mutex<State>>);

pub struct CrashFile {
    fs: CrashFs,
    inode: u64,
}

fn dead() -> io::Error {
    io::Error::other("the process was killed here")
}

impl CrashFs {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one operation; fails it if the process is dead or a fault is injected here.
    fn op(&self) -> io::Result<MutexGuard<'_, State>> {
        let mut state = self.state();
        let op = state.ops;
        state.ops += 1;
        if state.die_at.is_some_and(|at| op >= at) {
            return Err(dead());
        }
        if let Some(i) = state.fail_once.iter().position(|&at| at == op) {
            state.fail_once.swap_remove(i);
            return Err(io::Error::other("injected fault"));
        }
        Ok(state)
    }

    /// Starts counting operations from zero; the process dies at operation `die_at`.
    pub fn arm(&self, die_at: Option<u64>, fail_once: Vec<u64>) {
        let mut state = self.state();
        state.ops = 0;
        state.die_at = die_at;
        state.fail_once = fail_once;
    }

    /// An independent copy of the whole state (to crash the same history several ways).
    pub fn snapshot(&self) -> CrashFs {
        CrashFs(Arc::new(Mutex::new(self.state().clone())))
    }

    /// fsync of `path` and of its directory through another handle (what a caller of
    /// `SaveKind::DurableDeferred` does).
    pub fn flush_path(&self, path: &Path) {
        let mut state = self.state();
        if let Some(&inode) = state.names.get(path) {
            let contents = state.data.get(&inode).cloned().unwrap_or_default();
            state.durable_data.insert(inode, contents);
        }
        let dir = path.parent().map(Path::to_path_buf);
        let entries: Vec<(PathBuf, u64)> = state
            .names
            .iter()
            .filter(|(p, _)| p.parent().map(Path::to_path_buf) == dir)
            .map(|(p, inode)| (p.clone(), *inode))
            .collect();
        state
            .durable_names
            .retain(|p, _| p.parent().map(Path::to_path_buf) != dir);
        state.durable_names.extend(entries);
    }

    /// The length of the file at `path` as the running system sees it (0 if none).
    pub fn len(&self, path: &Path) -> usize {
        let state = self.state();
        state
            .names
            .get(path)
            .and_then(|inode| state.data.get(inode))
            .map_or(0, Vec::len)
    }

    /// Operations counted since `arm`.
    pub fn ops(&self) -> u64 {
        self.state().ops
    }

    /// Power loss: everything not fsynced is gone; the process restarts (unarmed).
    pub fn crash(&self) {
        let mut state = self.state();
        state.names = state.durable_names.clone();
        let durable = state.durable_data.clone();
        state.data = state
            .names
            .values()
            .map(|inode| (*inode, durable.get(inode).cloned().unwrap_or_default()))
            .collect();
        state.die_at = None;
        state.fail_once.clear();
    }

    /// Power loss after the disk wrote a random subset (by `seed`) of the dirty 64-byte
    /// sectors of every file; then as `crash`.
    pub fn crash_keeping(&self, seed: u64) {
        {
            let mut state = self.state();
            let mut rng = seed;
            let mut coin = move || {
                // splitmix64
                rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = rng;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)) & 1 == 1
            };
            let inodes: Vec<u64> = state.data.keys().copied().collect();
            for inode in inodes {
                let now = state.data.get(&inode).cloned().unwrap_or_default();
                let mut disk = state.durable_data.get(&inode).cloned().unwrap_or_default();
                if disk.len() != now.len() && coin() {
                    disk.resize(now.len(), 0);
                }
                for (at, sector) in now.chunks(TEAR).enumerate() {
                    let start = at * TEAR;
                    if start < disk.len() && coin() {
                        let end = (start + sector.len()).min(disk.len());
                        disk[start..end].copy_from_slice(&sector[..end - start]);
                    }
                }
                state.durable_data.insert(inode, disk);
            }
        }
        self.crash();
    }

    /// As `crash_keeping`, on a filesystem that committed every rename, create and remove to
    /// its journal before the files' data (XFS, ext4 mounted `noauto_da_alloc`): the names
    /// are as the running system saw them, the data as `crash_keeping` leaves it.
    pub fn crash_keeping_early_renames(&self, seed: u64) {
        {
            let mut state = self.state();
            state.durable_names = state.names.clone();
        }
        self.crash_keeping(seed);
    }

    /// A process kill without power loss: the page cache survives, the process restarts.
    pub fn restart(&self) {
        let mut state = self.state();
        state.die_at = None;
        state.fail_once.clear();
    }

    /// The names that exist right now (for checking no temp file is left behind).
    pub fn names(&self) -> Vec<PathBuf> {
        self.state().names.keys().cloned().collect()
    }
}

impl Write for CrashFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut state = self.fs.op()?;
        let n = buf.len().min(WRITE_CHUNK);
        state
            .data
            .entry(self.inode)
            .or_default()
            .extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Filesystem for CrashFs {
    type File = CrashFile;

    fn write_at(&self, file: &mut CrashFile, offset: u64, bytes: &[u8]) -> io::Result<()> {
        for (i, chunk) in bytes.chunks(WRITE_CHUNK).enumerate() {
            let mut state = self.op()?;
            let data = state.data.entry(file.inode).or_default();
            let start = offset as usize + i * WRITE_CHUNK;
            if data.len() < start + chunk.len() {
                return Err(io::Error::other("write_at past the end of the file"));
            }
            data[start..start + chunk.len()].copy_from_slice(chunk);
        }
        Ok(())
    }

    fn sync_data(&self, file: &mut CrashFile) -> io::Result<()> {
        self.sync_file(file)
    }

    fn create(&self, path: &Path) -> io::Result<CrashFile> {
        let mut state = self.op()?;
        let inode = state.next_inode;
        state.next_inode += 1;
        state.names.insert(path.to_path_buf(), inode);
        state.data.insert(inode, Vec::new());
        Ok(CrashFile {
            fs: self.clone(),
            inode,
        })
    }

    fn sync_file(&self, file: &mut CrashFile) -> io::Result<()> {
        let mut state = self.op()?;
        let contents = state.data.get(&file.inode).cloned().unwrap_or_default();
        state.durable_data.insert(file.inode, contents);
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.op()?;
        let inode = state
            .names
            .remove(from)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        state.names.insert(to.to_path_buf(), inode);
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.op()?;
        let in_dir = |path: &Path| path.parent() == Some(dir);
        state.durable_names.retain(|path, _| !in_dir(path));
        let entries: Vec<(PathBuf, u64)> = state
            .names
            .iter()
            .filter(|(path, _)| in_dir(path))
            .map(|(path, inode)| (path.clone(), *inode))
            .collect();
        state.durable_names.extend(entries);
        Ok(())
    }

    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        // Reading happens after a restart: not counted, never failed.
        let state = self.state();
        let inode = state
            .names
            .get(path)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        let data = state.data.get(inode).cloned().unwrap_or_default();
        Ok(data.into_iter().take(limit as usize).collect())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut state = self.op()?;
        state
            .names
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
}
