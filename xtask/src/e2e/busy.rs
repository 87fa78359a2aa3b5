//! A disk busy with someone else's durable writes: a thread that writes 32 MiB chunks into
//! a file beside the download and fdatasyncs each (what a database or `dd conv=fdatasync`
//! does), until dropped. On ext4 every such sync forces a journal commit, and metadata
//! operations of other processes on the filesystem wait for it — renames over an existing
//! file above all, which is how ossget committed checkpoints before format version 3
//! (docs/e2e-findings.md#finding-4); version 3 commits by writing in place
//! instead.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

const CHUNK: usize = 32 << 20;
/// The file is started again past this size, so the writer never fills the disk.
const MAX_FILE: u64 = 512 << 20;

/// The running writer; stops (and removes its file) when dropped.
pub struct BusyDisk {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl BusyDisk {
    /// Starts writing into `dir/busy-disk.bin`.
    pub fn start(dir: &Path) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let path = dir.join("busy-disk.bin");
        let (flag, file_path) = (Arc::clone(&stop), path.clone());
        let handle = std::thread::spawn(move || {
            let chunk = vec![0x5Au8; CHUNK];
            while !flag.load(Ordering::Relaxed) {
                let Ok(mut file) = File::create(&file_path) else {
                    return;
                };
                let mut written = 0u64;
                while written < MAX_FILE && !flag.load(Ordering::Relaxed) {
                    if file.write_all(&chunk).is_err() || file.sync_data().is_err() {
                        return;
                    }
                    written += CHUNK as u64;
                }
            }
        });
        Self {
            stop,
            handle: Some(handle),
            path,
        }
    }
}

impl Drop for BusyDisk {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}
