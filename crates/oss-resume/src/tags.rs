//! What a finished file records about its source, so a later run can tell it still holds
//! the object without downloading it (ossget's `--update`): the ETag and the CRC-64 as
//! extended attributes `user.oss.etag` and `user.oss.crc64` (decimal), set on the temp file
//! before the final rename, so the destination never appears without them. Where the
//! filesystem has no user attributes (some network filesystems, FAT) nothing is recorded and
//! the download says so in its warnings.

use std::fs::File;
use std::io;
use std::path::Path;

/// The extended attribute holding the object's ETag (as HEAD sent it, quotes included).
pub const ETAG_XATTR: &str = "user.oss.etag";
/// The extended attribute holding the object's CRC-64 (decimal).
pub const CRC64_XATTR: &str = "user.oss.crc64";

/// What a file written by a download records about its object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedSource {
    /// The ETag (quotes included).
    pub etag: String,
    /// The CRC-64, when OSS gave one.
    pub crc64: Option<u64>,
}

/// What the file at `path` records about the object it was downloaded from
/// ([`crate::Download::record_source`]); `None` when it records nothing (not written by
/// a download that recorded, a filesystem without user attributes, not unix).
pub fn recorded_source(path: impl AsRef<Path>) -> Option<RecordedSource> {
    let path = path.as_ref();
    let etag = String::from_utf8(read(path, ETAG_XATTR)?).ok()?;
    let crc64 = read(path, CRC64_XATTR)
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|t| t.parse().ok());
    Some(RecordedSource { etag, crc64 })
}

/// Records `etag` and `crc64` on the open file.
pub(crate) fn record(file: &File, etag: &str, crc64: Option<u64>) -> io::Result<()> {
    write(file, ETAG_XATTR, etag.as_bytes())?;
    if let Some(crc) = crc64 {
        write(file, CRC64_XATTR, crc.to_string().as_bytes())?;
    }
    Ok(())
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
fn write(file: &File, name: &str, value: &[u8]) -> io::Result<()> {
    rustix::fs::fsetxattr(file, name, value, rustix::fs::XattrFlags::empty()).map_err(Into::into)
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
fn read(path: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    // Not through a symbolic link: the destination itself is what a download wrote.
    let len = rustix::fs::lgetxattr(path, name, &mut buf[..]).ok()?;
    buf.truncate(len);
    Some(buf)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn write(_file: &File, _name: &str, _value: &[u8]) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn read(_path: &Path, _name: &str) -> Option<Vec<u8>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = File::create(&path).unwrap();
        assert_eq!(recorded_source(&path), None);
        match record(&file, "\"ETAG-1\"", Some(42)) {
            Ok(()) => {
                let got = recorded_source(&path).unwrap();
                assert_eq!(got.etag, "\"ETAG-1\"");
                assert_eq!(got.crc64, Some(42));
            }
            // A test filesystem without user attributes: nothing to check.
            Err(e) => assert!(
                e.kind() == io::ErrorKind::Unsupported || e.raw_os_error().is_some(),
                "{e}"
            ),
        }
    }
}
