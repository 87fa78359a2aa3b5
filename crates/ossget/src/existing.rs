//! An existing DEST: replaced by default (atomically, once the new file is complete and
//! verified), left alone with `--no-clobber`, or kept when it already holds the object with
//! `--update`.
//!
//! `--update` compares the object (HEAD, or a first-byte GET for a presigned URL) with what
//! the file records: ossget records the ETag and CRC-64 on every file it writes, as the
//! extended attributes `user.oss.etag` and `user.oss.crc64`. The file is current when its
//! size matches and its recorded CRC-64 (or, without one, its ETag) is the object's. A file
//! that records nothing (another tool wrote it, or its filesystem has no user attributes)
//! is current when its size matches and its modification time is the object's
//! `Last-Modified` (which ossget gives its files): that can be fooled by a file rewritten
//! with the same size and time, so such a skip says so.

use std::path::Path;
use std::time::SystemTime;

use oss_resume::{ObjectMeta, recorded_source};

/// Why the download is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// For the summary and `--json` (`exists`, `unchanged`).
    pub reason: &'static str,
    /// A sentence for people.
    pub detail: String,
}

/// `--no-clobber`: DEST exists (as anything, a link included).
pub fn no_clobber(destination: &Path) -> Option<Skip> {
    std::fs::symlink_metadata(destination).ok().map(|_| Skip {
        reason: "exists",
        detail: format!(
            "{} exists and --no-clobber leaves it alone",
            destination.display()
        ),
    })
}

/// `--update`: whether the regular file at `destination` already holds `object`.
pub fn unchanged(destination: &Path, object: &ObjectMeta) -> Option<Skip> {
    let meta = std::fs::symlink_metadata(destination).ok()?;
    if !meta.is_file() || meta.len() != object.size {
        return None;
    }
    let skip = |how: String| {
        Some(Skip {
            reason: "unchanged",
            detail: format!(
                "{} already holds this object ({how}); --update skips it",
                destination.display()
            ),
        })
    };
    match recorded_source(destination) {
        Some(recorded) => match (recorded.crc64, object.crc64) {
            (Some(mine), Some(theirs)) if mine == theirs => skip("size and CRC-64 match".into()),
            (Some(_), Some(_)) => None,
            _ if recorded.etag == object.etag => skip("size and ETag match".into()),
            _ => None,
        },
        None => {
            let modified = meta.modified().ok()?;
            let last = object.last_modified?;
            same_second(modified, last).then_some(())?;
            skip(
                "size and modification time match; the file records no CRC-64 or ETag, so a file rewritten with the same size and time would pass too"
                    .into(),
            )
        }
    }
}

/// Whether two times are in the same whole second (`Last-Modified` has whole seconds).
fn same_second(a: SystemTime, b: SystemTime) -> bool {
    let secs = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .ok()
    };
    secs(a).is_some() && secs(a) == secs(b)
}
