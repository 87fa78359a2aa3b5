//! Argument validation: every setting of a download is checked before anything touches the
//! network or the disk, and a bad one is [`Error::InvalidArgument`] naming the setting and
//! the fix.

use std::path::{Path, PathBuf};
use std::time::Duration;

use oss_ckpt::fs::{CheckpointFile, FileKind, MAX_NAME_BYTES};
use oss_http::RequestHeaders;
use oss_parts::PartSize;

use crate::error::Error;
use crate::names::validate_bucket_name;
use crate::options::Options;
use crate::paths::{default_checkpoint_path, lock_path, parent_dir, temp_path};

/// The most concurrent part downloads (the C SDK accepts up to 1024 too).
pub const MAX_THREADS: usize = 1024;

/// A download's arguments, checked.
pub(crate) struct Checked {
    /// The destination, absolute.
    pub(crate) destination: PathBuf,
    /// The checkpoint path, absolute (the default one when none was given).
    pub(crate) checkpoint_path: PathBuf,
    /// The download's own headers, by oss-http's rules.
    pub(crate) headers: RequestHeaders,
}

/// Checks every argument; the first problem found is the error.
pub(crate) fn validate(
    bucket: &str,
    key: &str,
    destination: &Path,
    options: &Options,
) -> Result<Checked, Error> {
    check_object(bucket, key)?;
    check_settings(options)?;
    if let Some(range) = options.range {
        check_range(range)?;
    }
    let destination = checked_file_path("destination", destination)?;
    check_destination(&destination)?;
    let checkpoint_path = match &options.checkpoint_path {
        Some(p) => checked_file_path("checkpoint_path", p)?,
        None => default_checkpoint_path(&destination),
    };
    if options.checkpoint {
        check_checkpoint_path(&checkpoint_path, &destination)?;
    }
    Ok(Checked {
        destination,
        checkpoint_path,
        headers: request_headers(&options.headers)?,
    })
}

/// A byte range selects at least one byte whatever the object's size: its last byte is not
/// before its first, and a suffix is not empty. (Where it falls against the object's end is
/// known only after HEAD: `ObjectRange::resolve`.)
pub(crate) fn check_range(range: crate::ObjectRange) -> Result<(), Error> {
    match range {
        crate::ObjectRange::From {
            first,
            last: Some(last),
        } if last < first => Err(Error::invalid(
            "range",
            format!(
                "its last byte {last} is before its first byte {first}; give FIRST-LAST with FIRST <= LAST (both inclusive)"
            ),
        )),
        crate::ObjectRange::Last(0) => Err(Error::invalid(
            "range",
            "a suffix of 0 bytes selects nothing; ask for at least one byte",
        )),
        _ => Ok(()),
    }
}

/// The bucket and the key name an object.
pub(crate) fn check_object(bucket: &str, key: &str) -> Result<(), Error> {
    if bucket.is_empty() {
        return Err(Error::invalid("bucket", "it is empty; name the bucket"));
    }
    validate_bucket_name(bucket)?;
    if key.is_empty() {
        return Err(Error::invalid("key", "it is empty; name the object"));
    }
    Ok(())
}

/// The numeric settings and the retry policies are in range.
pub(crate) fn check_settings(o: &Options) -> Result<(), Error> {
    if let Some(bytes) = o.part_size {
        PartSize::new(bytes).map_err(|e| Error::invalid("part_size", e.to_string()))?;
    }
    if o.threads == 0 {
        return Err(Error::invalid(
            "threads",
            "it is 0; use 1 or more (1 is the C SDK's default)",
        ));
    }
    if o.threads > MAX_THREADS {
        return Err(Error::invalid(
            "threads",
            format!("{} is more than {MAX_THREADS}; use fewer", o.threads),
        ));
    }
    if o.max_request == Some(0) {
        return Err(Error::invalid(
            "max_request_size",
            "it is 0 bytes; give a positive size (at most the part size means one GET per part)",
        ));
    }
    if o.bandwidth == Some(0) {
        return Err(Error::invalid(
            "bandwidth_limit",
            "it is 0 bytes per second; give a positive rate, or none for no limit",
        ));
    }
    for (name, value) in [
        ("commit_interval", o.commit_interval),
        ("sync_interval", o.sync_interval),
        ("progress_interval", o.progress_interval),
    ] {
        if value < Duration::from_millis(1) {
            return Err(Error::invalid(
                name,
                "it is under 1 ms; use a longer interval",
            ));
        }
    }
    o.retry
        .validate()
        .map_err(|e| Error::invalid("retry_policy", e.to_string()))?;
    o.throttle
        .validate()
        .map_err(|e| Error::invalid("throttle_policy", e.to_string()))
}

/// A save writes `{checkpoint}.tmp` and renames it over the checkpoint: neither name may be
/// one of the download's own files (a checkpoint `x` for the destination `x.tmp` would
/// truncate an existing destination at the first save).
fn check_checkpoint_path(checkpoint: &Path, destination: &Path) -> Result<(), Error> {
    let checkpoint_temp = CheckpointFile::new(checkpoint).temp_path().to_path_buf();
    for (what, other) in [
        ("the destination", destination.to_path_buf()),
        ("the temp data file", temp_path(destination)),
        ("the lock file", lock_path(destination)),
    ] {
        if checkpoint == other {
            return Err(Error::invalid(
                "checkpoint_path",
                format!("it is {what}; choose another path"),
            ));
        }
        if checkpoint_temp == other {
            return Err(Error::invalid(
                "checkpoint_path",
                format!(
                    "saving it writes `{}`, which is {what}; choose another path",
                    checkpoint_temp.display()
                ),
            ));
        }
    }
    Ok(())
}

/// The download's own headers, checked by oss-http's rules (the client-wide ones were
/// checked when the client was built).
pub(crate) fn request_headers(headers: &[(String, String)]) -> Result<RequestHeaders, Error> {
    let mut out = RequestHeaders::new();
    for (name, value) in headers {
        out.insert(name, value).map_err(|e| match e {
            oss_http::Error::InvalidRequest { problem } => Error::invalid("header", problem),
            other => Error::invalid("header", other.to_string()),
        })?;
    }
    Ok(out)
}

/// The destination is replaced by the final rename, so it must be a regular file or nothing
/// yet: a FIFO, socket or device there is refused (as root, `/dev/null` would otherwise
/// become a regular file). A symbolic link is allowed: the rename replaces the link itself,
/// never writing to its target. Its name must fit the filesystem's limit (its side files
/// always do: `oss_ckpt::fs::with_suffix` shortens theirs).
fn check_destination(destination: &Path) -> Result<(), Error> {
    match FileKind::at(destination) {
        None | Some(FileKind::Symlink) => {}
        Some(kind) => {
            return Err(Error::invalid(
                "destination",
                format!(
                    "`{}` is {kind}; a download writes a temp file and renames it into place, which would replace it with a regular file, so give the path of a regular file instead",
                    destination.display()
                ),
            ));
        }
    }
    let name_len = destination.file_name().map_or(0, |n| n.len());
    if cfg!(unix) && name_len > MAX_NAME_BYTES {
        return Err(Error::invalid(
            "destination",
            format!(
                "its file name is {name_len} bytes, over the {MAX_NAME_BYTES}-byte limit of the filesystem; choose a shorter name"
            ),
        ));
    }
    Ok(())
}

/// A path a file can be created at: not a directory, in an existing, writable directory.
fn checked_file_path(argument: &'static str, path: &Path) -> Result<PathBuf, Error> {
    if path.as_os_str().is_empty() {
        return Err(Error::invalid(argument, "it is empty; give a file path"));
    }
    let text = path.as_os_str().to_string_lossy();
    if text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) || path.is_dir() {
        return Err(Error::invalid(
            argument,
            format!(
                "`{}` is a directory; give a file path (e.g. a file name inside it)",
                path.display()
            ),
        ));
    }
    let absolute = std::path::absolute(path)
        .map_err(|e| Error::invalid(argument, format!("`{}`: {e}", path.display())))?;
    let dir = parent_dir(&absolute);
    if !dir.is_dir() {
        return Err(Error::invalid(
            argument,
            format!(
                "its directory `{}` does not exist; create it first",
                dir.display()
            ),
        ));
    }
    if !writable(&dir) {
        return Err(Error::invalid(
            argument,
            format!(
                "its directory `{}` is not writable; choose another location or fix the permissions",
                dir.display()
            ),
        ));
    }
    Ok(absolute)
}

#[cfg(unix)]
fn writable(dir: &Path) -> bool {
    rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_ok()
}

#[cfg(not(unix))]
fn writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}
