//! Where the download goes: DEST as given, a directory (the key's file name inside it), or
//! nothing (the key's file name in the current directory).
//!
//! The key's file name is its last `/`-separated segment, used only when it is a plain,
//! portable file name. It is never altered to make it fit: a key whose name would be
//! surprising on disk needs an explicit DEST, so nothing lands somewhere unexpected.

use std::path::{Path, PathBuf};

/// The longest file name most filesystems take (NAME_MAX), in bytes.
const MAX_NAME_BYTES: usize = 255;

/// Device names Windows reserves in every directory, with or without an extension.
const WINDOWS_RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// The file name a key downloads to when DEST does not name a file, or why the key has
/// none that is safe to use.
pub fn key_file_name(key: &str) -> Result<&str, String> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let why = if name.is_empty() {
        Some("it ends with `/`, like a folder".to_owned())
    } else if name == "." || name == ".." {
        Some(format!("its last segment is `{name}`"))
    } else if name.contains('\\') {
        Some("its name contains `\\`".to_owned())
    } else if name.contains('\0') {
        Some("its name contains a NUL byte".to_owned())
    } else if name.chars().any(char::is_control) {
        Some("its name contains a control character".to_owned())
    } else if is_windows_reserved(name) {
        Some(format!("`{name}` is a reserved device name on Windows"))
    } else if name.ends_with('.') || name.ends_with(' ') {
        Some("its name ends with `.` or a space, which Windows drops".to_owned())
    } else if name.len() > MAX_NAME_BYTES {
        Some(format!(
            "its name is {} bytes, over the {MAX_NAME_BYTES}-byte limit of most filesystems",
            name.len()
        ))
    } else {
        None
    };
    match why {
        None => Ok(name),
        Some(why) => Err(format!(
            "the key `{}` has no usable file name ({why}); give DEST as a file path",
            key.escape_debug()
        )),
    }
}

fn is_windows_reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    WINDOWS_RESERVED
        .iter()
        .any(|r| r.eq_ignore_ascii_case(stem))
}

/// The file to download `key` to: DEST when it names a file; the key's file name inside
/// DEST when DEST is a directory (or ends with `/`); the key's file name in the current
/// directory when there is no DEST.
pub fn resolve_destination(dest: Option<&Path>, key: &str) -> Result<PathBuf, String> {
    let Some(dest) = dest else {
        return Ok(PathBuf::from(key_file_name(key)?));
    };
    let text = dest.as_os_str().to_string_lossy();
    if text.is_empty() {
        return Err("DEST is empty; give a file or directory path".to_owned());
    }
    let names_dir = text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR);
    if dest.is_dir() {
        return Ok(dest.join(key_file_name(key)?));
    }
    if names_dir {
        return Err(format!(
            "directory `{}` does not exist; create it first, or give DEST as a file path",
            dest.display()
        ));
    }
    Ok(dest.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_used_as_they_are() {
        assert_eq!(
            key_file_name("exampledir/exampleobject.txt"),
            Ok("exampleobject.txt")
        );
        assert_eq!(key_file_name("big.bin"), Ok("big.bin"));
        assert_eq!(key_file_name("a/b c (1).tar.gz"), Ok("b c (1).tar.gz"));
        assert_eq!(key_file_name("x/../y"), Ok("y"));
        assert_eq!(key_file_name("../../etc/passwd"), Ok("passwd"));
        assert_eq!(key_file_name("数据/模型.bin"), Ok("模型.bin"));
        assert_eq!(key_file_name(".hidden"), Ok(".hidden"));
        assert_eq!(key_file_name("console.log"), Ok("console.log"));
        assert_eq!(key_file_name("COM10"), Ok("COM10"));
        assert_eq!(
            key_file_name(&"n".repeat(255)),
            Ok("n".repeat(255).as_str())
        );
    }

    #[test]
    fn unsafe_names_need_an_explicit_dest() {
        let cases = [
            ("dir/", "ends with `/`"),
            ("a//", "ends with `/`"),
            ("a/..", "last segment is `..`"),
            ("..", "last segment is `..`"),
            ("a/.", "last segment is `.`"),
            ("dir\\file.txt", "contains `\\`"),
            ("a/b\0c", "NUL"),
            ("a/line\nbreak", "control character"),
            ("CON", "reserved device name"),
            ("dir/nul.txt", "reserved device name"),
            ("Lpt1.tar.gz", "reserved device name"),
            ("aux ", "reserved device name"),
            ("file.", "ends with `.` or a space"),
            ("file ", "ends with `.` or a space"),
        ];
        for (key, why) in cases {
            let e = key_file_name(key).unwrap_err();
            assert!(e.contains(why), "{key:?}: {e}");
            assert!(e.contains("give DEST as a file path"), "{e}");
        }
        let long = "n".repeat(256);
        assert!(key_file_name(&long).unwrap_err().contains("256 bytes"));
        // Control characters are shown escaped, never raw.
        let e = key_file_name("a/line\nbreak").unwrap_err();
        assert!(e.contains("a/line\\nbreak") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn destinations() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().to_path_buf();
        assert_eq!(
            resolve_destination(None, "a/b.bin"),
            Ok(PathBuf::from("b.bin"))
        );
        assert!(resolve_destination(None, "a/").is_err());
        assert_eq!(
            resolve_destination(Some(&dir), "a/b.bin"),
            Ok(dir.join("b.bin"))
        );
        assert!(resolve_destination(Some(&dir), "a/..").is_err());
        let file = dir.join("out.bin");
        assert_eq!(resolve_destination(Some(&file), "a/.."), Ok(file.clone()));
        let missing = PathBuf::from(format!("{}/nope/", dir.display()));
        assert!(
            resolve_destination(Some(&missing), "k")
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(resolve_destination(Some(Path::new("")), "k").is_err());
    }
}
