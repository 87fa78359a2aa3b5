//! Checking what a run left on disk: the destination against the emulator's object (size and
//! CRC-64/XZ, computed here by xtask's own CRC — never a hard-coded value), and the files
//! ossget keeps beside it.

use std::path::Path;

pub use crate::crc64::file_crc;
use crate::emulator::Head;
use crate::paths::with_suffix;

/// The files ossget keeps beside DEST while a download is unfinished: the checkpoint, the
/// temp file of a whole-file checkpoint save (left by a death between its write and its
/// rename; later saves write in place), the data temp file, the lock.
pub const SIDE_FILES: [&str; 4] = [".cp", ".cp.tmp", ".oss-tmp", ".lock"];

/// Whether `dest` holds exactly the object `head` describes.
pub fn exact(dest: &Path, head: &Head) -> Result<(), String> {
    let (len, crc) = file_crc(dest)?;
    if len != head.size {
        return Err(format!(
            "{} is {len} bytes, the object {}",
            dest.display(),
            head.size
        ));
    }
    if crc != head.crc64 {
        return Err(format!(
            "{} has CRC-64 {crc}, the object {} (a WRONG FILE)",
            dest.display(),
            head.crc64
        ));
    }
    Ok(())
}

/// The side files of `dest` that exist (`.cp`, `.oss-tmp`, `.lock`).
pub fn side_files(dest: &Path) -> Vec<&'static str> {
    SIDE_FILES
        .iter()
        .copied()
        .filter(|s| with_suffix(dest, s).exists())
        .collect()
}

/// An error naming the side files of a finished download that are still beside `dest`.
pub fn no_side_files(dest: &Path) -> Result<(), String> {
    let left = side_files(dest);
    if !left.is_empty() {
        return Err(format!(
            "side files left after a finished download: {left:?}"
        ));
    }
    Ok(())
}

/// A finished download: `dest` is exactly the object `head` describes and nothing is left
/// beside it.
pub fn finished_exactly(dest: &Path, head: &Head) -> Result<(), String> {
    exact(dest, head)?;
    no_side_files(dest)
}

/// Removes DEST and its side files (between rounds).
pub fn clean(dest: &Path) {
    let _ = std::fs::remove_file(dest);
    for s in SIDE_FILES {
        let _ = std::fs::remove_file(with_suffix(dest, s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_exactness_of_a_file() {
        let dir = std::env::temp_dir().join(format!("xtask-e2e-verify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("f.bin");
        std::fs::write(&f, b"123456789").unwrap();
        assert_eq!(file_crc(&f), Ok((9, 0x995D_C9BB_DF19_39FA)));
        let head = Head {
            size: 9,
            crc64: 0x995D_C9BB_DF19_39FA,
            etag: String::new(),
        };
        assert_eq!(exact(&f, &head), Ok(()));
        let wrong = Head {
            crc64: 1,
            ..head.clone()
        };
        assert!(exact(&f, &wrong).unwrap_err().contains("WRONG FILE"));
        let short = Head { size: 10, ..head };
        assert!(exact(&f, &short).is_err());
        assert_eq!(with_suffix(&f, ".cp"), dir.join("f.bin.cp"));
        assert!(side_files(&f).is_empty());
        std::fs::write(with_suffix(&f, ".lock"), b"1").unwrap();
        assert_eq!(side_files(&f), vec![".lock"]);
        clean(&f);
        assert!(!f.exists() && side_files(&f).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
