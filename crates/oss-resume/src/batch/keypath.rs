//! Where an object lands: a key (minus the listed prefix's directory part) or a manifest's
//! destination becomes a relative path under the destination directory, or is refused.
//!
//! The rules (`docs/batch.md` states them for users):
//! - The relative path is split at `/`; each component becomes one path component. A path
//!   that is empty, absolute (`/x`), has an empty component (`a//b`), a `.` or `..`
//!   component, a `\` (a separator on Windows), a NUL or other control character, or a
//!   component that is a Windows device name (`CON`, `nul.txt`, `COM1`...) is refused —
//!   reported and skipped, never written, never escaped into some other name, so no key can
//!   reach outside the destination and no two keys are silently merged.
//! - A name ending in [`crate::TEMP_SUFFIX`] is refused too: it is where the file beside it
//!   is being written.
//! - A key ending in `/` is a directory marker: a size-0 one becomes a directory, one
//!   with content is refused (it cannot be a file).

use std::fmt;
use std::path::PathBuf;

use crate::paths::TEMP_SUFFIX;

/// Why a key or destination was refused. Its `Display` names the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsafeKey {
    /// Nothing left once the prefix is removed (and not a directory marker).
    Empty,
    /// Starts with `/`.
    Absolute,
    /// A `.`, `..` or empty component.
    DotOrEmptyComponent,
    /// Contains `\`.
    Backslash,
    /// Contains NUL or another control character (U+0000..U+001F, U+007F).
    ControlCharacter,
    /// A component is a Windows device name.
    DeviceName(String),
    /// A component ends in the temp-file suffix.
    Reserved(String),
    /// A directory marker (`dir/`) with content.
    MarkerWithContent,
}

impl fmt::Display for UnsafeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnsafeKey::Empty => f.write_str("it names no file under the destination"),
            UnsafeKey::Absolute => f.write_str("it is an absolute path"),
            UnsafeKey::DotOrEmptyComponent => {
                f.write_str("it has a `.`, `..` or empty path component")
            }
            UnsafeKey::Backslash => f.write_str("it contains `\\`, a path separator on Windows"),
            UnsafeKey::ControlCharacter => f.write_str("it contains a control character"),
            UnsafeKey::DeviceName(name) => write!(f, "`{name}` is a Windows device name"),
            UnsafeKey::Reserved(name) => {
                write!(
                    f,
                    "`{name}` ends in {TEMP_SUFFIX}, the suffix of temp files"
                )
            }
            UnsafeKey::MarkerWithContent => {
                f.write_str("it ends in `/` (a directory) but has content")
            }
        }
    }
}

/// What a key becomes under the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file at this path relative to the destination.
    File(PathBuf),
    /// A directory (a size-0 `dir/` marker); `""` is the destination itself.
    Directory(PathBuf),
}

/// The part of a listing's prefix that is removed from each key: everything up to and
/// including its last `/` (`data/2024/part-` → `data/2024/`), as `ossutil cp -r` does.
pub fn prefix_dir(prefix: &str) -> &str {
    prefix.rfind('/').map_or("", |i| &prefix[..=i])
}

/// Maps `key` (listed under `prefix`) to its place under the destination.
pub fn map_key(key: &str, prefix: &str, size: u64) -> Result<Target, UnsafeKey> {
    let rel = key.strip_prefix(prefix_dir(prefix)).unwrap_or(key);
    if rel.is_empty() && key.ends_with('/') {
        // The marker of the prefix's own directory: the destination itself.
        return if size == 0 {
            Ok(Target::Directory(PathBuf::new()))
        } else {
            Err(UnsafeKey::MarkerWithContent)
        };
    }
    map_relative(rel, size)
}

/// Checks a relative destination (a manifest's, or a key minus its prefix) and maps it.
pub fn map_relative(rel: &str, size: u64) -> Result<Target, UnsafeKey> {
    if rel.starts_with('/') {
        return Err(UnsafeKey::Absolute);
    }
    if let Some(dir) = rel.strip_suffix('/') {
        if size != 0 {
            return Err(UnsafeKey::MarkerWithContent);
        }
        if dir.is_empty() {
            return Ok(Target::Directory(PathBuf::new()));
        }
        return checked(dir).map(Target::Directory);
    }
    if rel.is_empty() {
        return Err(UnsafeKey::Empty);
    }
    checked(rel).map(Target::File)
}

fn checked(rel: &str) -> Result<PathBuf, UnsafeKey> {
    if rel.contains('\\') {
        return Err(UnsafeKey::Backslash);
    }
    if rel.chars().any(char::is_control) {
        return Err(UnsafeKey::ControlCharacter);
    }
    let mut path = PathBuf::new();
    for component in rel.split('/') {
        if component.is_empty() || component == "." || component == ".." {
            return Err(UnsafeKey::DotOrEmptyComponent);
        }
        if is_device_name(component) {
            return Err(UnsafeKey::DeviceName(component.to_owned()));
        }
        if component.ends_with(TEMP_SUFFIX) {
            return Err(UnsafeKey::Reserved(component.to_owned()));
        }
        path.push(component);
    }
    Ok(path)
}

/// `CON`, `PRN`, `AUX`, `NUL`, `COM0`..`COM9`, `LPT0`..`LPT9` (any case, with any
/// extension, trailing dots or spaces ignored, as Windows does).
fn is_device_name(component: &str) -> bool {
    let stem = component.split('.').next().unwrap_or(component);
    let stem = stem.trim_end_matches([' ', '.']).to_ascii_uppercase();
    match stem.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        s if s.len() == 4 && (s.starts_with("COM") || s.starts_with("LPT")) => {
            s.as_bytes()[3].is_ascii_digit()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn file(p: &str) -> Result<Target, UnsafeKey> {
        Ok(Target::File(PathBuf::from(p)))
    }

    #[test]
    fn keys_map_below_the_prefix_directory() {
        assert_eq!(map_key("data/a/b.txt", "data/", 1), file("a/b.txt"));
        assert_eq!(map_key("data/part-1", "data/part-", 1), file("part-1"));
        assert_eq!(map_key("x", "", 1), file("x"));
        assert_eq!(
            map_key("data/", "data/", 0),
            Ok(Target::Directory(PathBuf::new()))
        );
        assert_eq!(
            map_key("data/d/", "data/", 0),
            Ok(Target::Directory("d".into()))
        );
        assert_eq!(
            map_key("data/d/", "data/", 3),
            Err(UnsafeKey::MarkerWithContent)
        );
    }

    #[test]
    fn unsafe_keys_are_refused() {
        use UnsafeKey::*;
        let cases: &[(&str, UnsafeKey)] = &[
            ("../x", DotOrEmptyComponent),
            ("a/../../x", DotOrEmptyComponent),
            ("a/./x", DotOrEmptyComponent),
            ("a//x", DotOrEmptyComponent),
            ("..", DotOrEmptyComponent),
            ("/etc/passwd", Absolute),
            ("a\\..\\x", Backslash),
            ("a\0b", ControlCharacter),
            ("a\nb", ControlCharacter),
            ("a\u{7f}", ControlCharacter),
            ("CON", DeviceName("CON".into())),
            ("d/nul.txt", DeviceName("nul.txt".into())),
            ("com1", DeviceName("com1".into())),
            ("LPT9.log", DeviceName("LPT9.log".into())),
            ("x.oss-tmp", Reserved("x.oss-tmp".into())),
            ("", Empty),
        ];
        for (key, want) in cases {
            assert_eq!(map_relative(key, 1).as_ref(), Err(want), "{key:?}");
        }
        for ok in [
            "console",
            "COM",
            "COMX",
            "nullable",
            "a b/c%20d",
            "文件/😀",
            ".hidden",
            "a..b",
        ] {
            assert!(map_relative(ok, 1).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn no_accepted_key_leaves_the_destination() {
        let dest = Path::new("/dest");
        let alphabet = ["a", ".", "..", "/", "\\", "\0", "CON", "x.", "~", ":"];
        // Every 4-symbol key over the alphabet.
        for n in 0..alphabet.len().pow(4) {
            let mut key = String::new();
            let mut m = n;
            for _ in 0..4 {
                key.push_str(alphabet[m % alphabet.len()]);
                m /= alphabet.len();
            }
            if let Ok(Target::File(rel) | Target::Directory(rel)) = map_relative(&key, 0) {
                let full = dest.join(&rel);
                assert!(full.starts_with(dest), "{key:?} -> {}", full.display());
                assert!(
                    rel.components()
                        .all(|c| matches!(c, std::path::Component::Normal(_))),
                    "{key:?} -> {}",
                    rel.display()
                );
            }
        }
    }
}
