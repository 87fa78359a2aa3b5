//! Scratch directories and file helpers.

use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir (a [`tempfile::TempDir`], so unique and
/// removed on drop even when the test panics), named after the test for whoever finds
/// one left by a killed run.
pub struct Scratch(tempfile::TempDir);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("oss-resume-tests-{name}-"))
            .tempdir()
            .unwrap();
        Self(dir)
    }

    pub fn dir(&self) -> &Path {
        self.0.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// Every regular file in the directory with its bytes, sorted by name.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.0.path())
            .unwrap()
            .filter_map(|e| {
                let e = e.ok()?;
                let bytes = std::fs::read(e.path()).ok()?;
                Some((e.file_name().to_string_lossy().into_owned(), bytes))
            })
            .collect();
        files.sort();
        files
    }
}

/// Asserts the file holds exactly `want` (without printing megabytes on failure).
pub fn assert_file(path: &Path, want: &[u8]) {
    let got = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(got.len(), want.len(), "{}: length", path.display());
    if let Some(at) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!("{}: first difference at byte {at}", path.display());
    }
}

/// `{dest}.cp`, the default checkpoint path.
pub fn ckpt_of(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_os_string();
    name.push(".cp");
    PathBuf::from(name)
}
