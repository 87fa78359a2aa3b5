//! The status codes every call returns, and how an [`oss_resume::Error`] maps onto them.

use std::ffi::{c_char, c_int};

/// What a call returned. `OSSR_OK` is 0; every other value is a failure whose details
/// (message, HTTP status, OSS error code, request id) are in the `ossr_result` passed to
/// the call. New codes may be added: treat an unknown non-zero code as a failure.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ossr_status {
    /// Success.
    OSSR_OK = 0,
    /// An argument or a configuration setting is unusable (NULL, not UTF-8, out of range,
    /// missing): nothing was requested. The message names the argument and the fix.
    OSSR_ERR_INVALID_ARGUMENT = 1,
    /// OSS answered with an error (`AccessDenied`, `NoSuchKey`, `SignatureDoesNotMatch`,
    /// throttling after the retries ran out...): the result has the HTTP status, the OSS
    /// error code, its message and the request id. Also an archived object that must be
    /// restored first (`InvalidObjectState`).
    OSSR_ERR_SERVICE = 2,
    /// The request failed without an answer from OSS, after the retries: connection refused
    /// or cut, a timeout, a stalled body, or an answer that broke the protocol (an object
    /// larger than OSS allows: the endpoint is not OSS).
    OSSR_ERR_NETWORK = 3,
    /// The object changed during the download (or since the checkpoint): nothing was
    /// stitched from two versions; run again to download the new version.
    OSSR_ERR_OBJECT_CHANGED = 4,
    /// A local file operation failed (disk full, permission denied, I/O error, fsync), or
    /// something this download did not make sits at one of its side files' names (a
    /// directory or a symbolic link at `{file}.lock`): it was left alone; move it away.
    OSSR_ERR_LOCAL_IO = 5,
    /// The checkpoint belongs to another download or was written by a newer version: it
    /// was neither used nor deleted.
    OSSR_ERR_CHECKPOINT = 6,
    /// The downloaded data's CRC-64 differs from OSS's; nothing reached the destination.
    OSSR_ERR_CRC_MISMATCH = 7,
    /// Another download to the same file is running (its lock file `{file}.lock`).
    OSSR_ERR_LOCKED = 8,
    /// The download's cancellation token was cancelled; with the checkpoint on, progress
    /// was saved and the same call resumes.
    OSSR_ERR_CANCELLED = 9,
    /// A bug in this library (a caught panic) or a runtime that could not start.
    OSSR_ERR_INTERNAL = 10,
}

impl ossr_status {
    /// The code's name, NUL-terminated.
    fn name(self) -> &'static str {
        match self {
            Self::OSSR_OK => "OSSR_OK\0",
            Self::OSSR_ERR_INVALID_ARGUMENT => "OSSR_ERR_INVALID_ARGUMENT\0",
            Self::OSSR_ERR_SERVICE => "OSSR_ERR_SERVICE\0",
            Self::OSSR_ERR_NETWORK => "OSSR_ERR_NETWORK\0",
            Self::OSSR_ERR_OBJECT_CHANGED => "OSSR_ERR_OBJECT_CHANGED\0",
            Self::OSSR_ERR_LOCAL_IO => "OSSR_ERR_LOCAL_IO\0",
            Self::OSSR_ERR_CHECKPOINT => "OSSR_ERR_CHECKPOINT\0",
            Self::OSSR_ERR_CRC_MISMATCH => "OSSR_ERR_CRC_MISMATCH\0",
            Self::OSSR_ERR_LOCKED => "OSSR_ERR_LOCKED\0",
            Self::OSSR_ERR_CANCELLED => "OSSR_ERR_CANCELLED\0",
            Self::OSSR_ERR_INTERNAL => "OSSR_ERR_INTERNAL\0",
        }
    }

    /// Every code, in order (for [`ossr_status_name`]'s lookup by number).
    const ALL: [Self; 11] = [
        Self::OSSR_OK,
        Self::OSSR_ERR_INVALID_ARGUMENT,
        Self::OSSR_ERR_SERVICE,
        Self::OSSR_ERR_NETWORK,
        Self::OSSR_ERR_OBJECT_CHANGED,
        Self::OSSR_ERR_LOCAL_IO,
        Self::OSSR_ERR_CHECKPOINT,
        Self::OSSR_ERR_CRC_MISMATCH,
        Self::OSSR_ERR_LOCKED,
        Self::OSSR_ERR_CANCELLED,
        Self::OSSR_ERR_INTERNAL,
    ];
}

/// The name of a status code (`"OSSR_ERR_SERVICE"`), or `"OSSR_UNKNOWN"` for a number that
/// is no code. A static string: never free it. Takes an `int` so any number is safe to pass.
#[unsafe(no_mangle)]
pub extern "C" fn ossr_status_name(status: c_int) -> *const c_char {
    let name = usize::try_from(status)
        .ok()
        .and_then(|i| ossr_status::ALL.get(i))
        .map_or("OSSR_UNKNOWN\0", |s| s.name());
    name.as_ptr().cast()
}

/// Why a call failed, as the result reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: ossr_status,
    /// The whole error chain, each cause once.
    pub(crate) message: String,
    /// The HTTP status of OSS's answer (0: none).
    pub(crate) http_status: u16,
    /// OSS's error code (empty: none).
    pub(crate) error_code: String,
    /// The request id of OSS's answer (empty: none).
    pub(crate) request_id: String,
    /// Whether calling again unchanged may succeed.
    pub(crate) retryable: bool,
}

impl Failure {
    /// A bad argument: `argument` names it, `problem` says what is wrong and the fix.
    pub(crate) fn invalid(argument: &str, problem: impl std::fmt::Display) -> Self {
        Self::local(
            ossr_status::OSSR_ERR_INVALID_ARGUMENT,
            format!("invalid argument `{argument}`: {problem}"),
        )
    }

    /// A failure with no OSS answer behind it.
    pub(crate) fn local(status: ossr_status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            http_status: 0,
            error_code: String::new(),
            request_id: String::new(),
            retryable: false,
        }
    }

    /// A panic caught at the boundary.
    pub(crate) fn panicked(function: &str) -> Self {
        Self::local(
            ossr_status::OSSR_ERR_INTERNAL,
            format!(
                "internal error: {function} panicked (a bug in oss-resume-c; please report it)"
            ),
        )
    }
}

impl From<&oss_resume::Error> for Failure {
    fn from(e: &oss_resume::Error) -> Self {
        use oss_resume::Error as E;
        let service = e.service();
        let status = match e {
            E::InvalidArgument { .. } | E::Client(_) | E::InsideRuntime => {
                ossr_status::OSSR_ERR_INVALID_ARGUMENT
            }
            E::Head { .. } | E::Part { .. } if service.is_some() => ossr_status::OSSR_ERR_SERVICE,
            E::Head { .. } | E::Part { .. } | E::ObjectTooLarge { .. } => {
                ossr_status::OSSR_ERR_NETWORK
            }
            E::ObjectArchived { .. } => ossr_status::OSSR_ERR_SERVICE,
            E::ObjectChanged { .. } => ossr_status::OSSR_ERR_OBJECT_CHANGED,
            E::CrcMismatch { .. } => ossr_status::OSSR_ERR_CRC_MISMATCH,
            E::LocalIo { .. }
            | E::InsufficientSpace { .. }
            | E::SyncFailed { .. }
            | E::ForeignFile { .. } => ossr_status::OSSR_ERR_LOCAL_IO,
            E::Checkpoint { .. } => ossr_status::OSSR_ERR_CHECKPOINT,
            E::Locked { .. } => ossr_status::OSSR_ERR_LOCKED,
            E::Cancelled { .. } => ossr_status::OSSR_ERR_CANCELLED,
            _ => ossr_status::OSSR_ERR_INTERNAL,
        };
        Self {
            status,
            message: chain(e),
            http_status: service.map_or(0, |s| s.status.as_u16()),
            error_code: e.oss_code().unwrap_or_default().to_owned(),
            request_id: e.request_id().unwrap_or_default().to_owned(),
            retryable: e.is_retryable(),
        }
    }
}

/// An error and every error in its `source()` chain, each once, joined by `: `.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn name(code: c_int) -> String {
        // SAFETY: ossr_status_name returns a static NUL-terminated string for any input.
        unsafe { CStr::from_ptr(ossr_status_name(code)) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn names_follow_the_numbers_and_unknown_numbers_are_safe() {
        for (i, s) in ossr_status::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i, "{s:?} is out of order");
            assert_eq!(name(i as c_int), format!("{s:?}"));
        }
        assert_eq!(name(-1), "OSSR_UNKNOWN");
        assert_eq!(name(11), "OSSR_UNKNOWN");
        assert_eq!(name(c_int::MAX), "OSSR_UNKNOWN");
    }

    #[test]
    fn errors_map_to_codes_with_their_whole_chain() {
        let e = oss_resume::Error::Cancelled {
            checkpoint_saved: true,
            object: None,
        };
        let f = Failure::from(&e);
        assert_eq!(f.status, ossr_status::OSSR_ERR_CANCELLED);
        assert!(f.retryable);
        assert!(f.message.contains("cancelled"), "{}", f.message);
        assert_eq!((f.http_status, f.error_code.as_str()), (0, ""));

        let e = oss_resume::Error::SyncFailed {
            path: "/x/y".into(),
            source: std::io::Error::other("disk on fire"),
        };
        let f = Failure::from(&e);
        assert_eq!(f.status, ossr_status::OSSR_ERR_LOCAL_IO);
        assert!(f.message.ends_with(": disk on fire"), "{}", f.message);
        assert!(!f.retryable);

        // A caller's mistake on disk, not a bug of this library.
        let e = oss_resume::Error::ForeignFile {
            path: "/x/y.lock".into(),
            found: "a directory".into(),
        };
        let f = Failure::from(&e);
        assert_eq!(f.status, ossr_status::OSSR_ERR_LOCAL_IO);
        assert!(
            f.message.contains("/x/y.lock is in the way"),
            "{}",
            f.message
        );
    }
}
