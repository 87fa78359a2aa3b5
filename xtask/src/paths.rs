//! Names of the files ossget keeps beside its destination.

use std::path::{Path, PathBuf};

/// `path` with `suffix` appended to its file name (`out.bin` + `.cp` -> `out.bin.cp`), the
/// way ossget names its checkpoint, temp file and lock.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_to_the_file_name() {
        assert_eq!(
            with_suffix(Path::new("/d/f.bin"), ".cp"),
            PathBuf::from("/d/f.bin.cp")
        );
        assert_eq!(
            with_suffix(Path::new("out"), ".oss-tmp"),
            PathBuf::from("out.oss-tmp")
        );
    }
}
