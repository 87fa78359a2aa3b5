//! `--restart`: discard an existing checkpoint before the download starts.
//!
//! oss-resume has no "start over" switch (see notes/ossget-needs.md), so the CLI removes the
//! checkpoint itself — but only while holding the destination's lock (`DEST.lock`, the
//! same `File::try_lock` oss-resume takes), so it never pulls a checkpoint from under a
//! run that is using it. The temp data file needs no removal: a fresh start truncates it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read};
use std::path::Path;

use crate::job::with_suffix;

/// Removes `checkpoint` unless another run holds the lock of `destination`. Returns whether
/// a checkpoint was removed.
pub fn discard_checkpoint(destination: &Path, checkpoint: &Path) -> Result<bool, String> {
    let lock_path = with_suffix(destination, ".lock");
    // A missing lock file means no run holds it (a holder keeps it until it finishes).
    let lock = match OpenOptions::new().read(true).write(true).open(&lock_path) {
        Ok(file) => Some(file),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot open {}: {e}", lock_path.display())),
    };
    if let Some(mut file) = lock {
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(format!(
                    "{} is being downloaded by {} (lock file {}); --restart will not discard a checkpoint in use — wait for that run or stop it",
                    destination.display(),
                    holder(&mut file),
                    lock_path.display()
                ));
            }
            // No locks on this filesystem: nothing to coordinate with.
            Err(TryLockError::Error(_)) => {}
        }
        // The lock is released when `file` drops, after the removal below.
        return remove(checkpoint);
    }
    remove(checkpoint)
}

fn remove(checkpoint: &Path) -> Result<bool, String> {
    match std::fs::remove_file(checkpoint) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!(
            "cannot remove the checkpoint {}: {e}",
            checkpoint.display()
        )),
    }
}

/// "process N" from the pid the holder wrote into the lock file.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    match file.read_to_string(&mut text) {
        Ok(_) => match text.trim().parse::<u32>() {
            Ok(pid) => format!("process {pid}"),
            Err(_) => "another process".to_owned(),
        },
        Err(_) => "another process".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn removes_only_when_unlocked() {
        let dir = std::env::temp_dir().join(format!("ossget-restart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join("f.bin");
        let ckpt = dir.join("f.bin.cp");
        assert_eq!(discard_checkpoint(&dest, &ckpt), Ok(false));
        std::fs::write(&ckpt, b"x").unwrap();
        assert_eq!(discard_checkpoint(&dest, &ckpt), Ok(true));
        assert!(!ckpt.exists());

        std::fs::write(&ckpt, b"x").unwrap();
        let mut held = File::create(dir.join("f.bin.lock")).unwrap();
        held.try_lock().unwrap();
        write!(held, "4242").unwrap();
        let e = discard_checkpoint(&dest, &ckpt).unwrap_err();
        assert!(e.contains("process 4242"), "{e}");
        assert!(ckpt.exists());
        drop(held);
        assert_eq!(discard_checkpoint(&dest, &ckpt), Ok(true));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
