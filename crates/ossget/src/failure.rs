//! A failed download in one or two lines a person can act on, and its exit status.

use oss_resume::{Error, ServiceError};

use crate::url::ObjectUrl;

/// Exit status: the download failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: a usage error, found before any request.
pub const EXIT_USAGE: u8 = 2;

/// What to tell about an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit status.
    pub exit_code: u8,
    /// What happened (one line).
    pub message: String,
    /// What to do about it (one line), when there is something to say.
    pub hint: Option<String>,
    /// The OSS error code, when OSS answered with one.
    pub oss_code: Option<String>,
    /// The OSS request id involved.
    pub request_id: Option<String>,
}

/// Describes `error`, which stopped the download of `source` (`checkpointing`: whether a
/// checkpoint keeps its progress).
pub fn describe(error: &Error, source: &ObjectUrl, checkpointing: bool) -> Failure {
    let again = if checkpointing {
        "run the same command again to resume"
    } else {
        "run the same command again"
    };
    let oss_code = error.oss_code().map(str::to_owned);
    let request_id = error.request_id().map(str::to_owned);
    let exit_code = match error {
        Error::InvalidArgument { .. } | Error::Client(_) => EXIT_USAGE,
        _ => EXIT_FAILED,
    };
    let (message, hint) = match error.service() {
        Some(oss) if source.presigned().is_some() && oss.code == "AccessDenied" => {
            presigned_refused(oss, source)
        }
        Some(oss) => service(oss, source, error.is_retryable(), again),
        None => other(error, again),
    };
    Failure {
        exit_code,
        message,
        hint,
        oss_code,
        request_id,
    }
}

/// `error` and every cause in its `source()` chain, joined by `: `. The libraries' messages
/// describe their own layer only (the cause is never repeated in the text), so each cause
/// shows once.
pub fn chain(error: &dyn std::error::Error) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// A failure OSS did not answer with an error document of its own.
fn other(error: &Error, again: &str) -> (String, Option<String>) {
    let message = chain(error);
    match error {
        e if tls_failure(e) => (
            message,
            Some(
                "the server's certificate was refused (the reason is above): if it is from a private CA, pass --cacert FILE with the CA's PEM, or --ca-native to trust the system's certificate store; --insecure (-k) skips the check, for a test endpoint only"
                    .to_owned(),
            ),
        ),
        Error::Head { .. } if error.is_retryable() => (
            message,
            Some("check --endpoint and the network, then run the same command again".to_owned()),
        ),
        Error::ObjectChanged { .. } => (
            message,
            Some("to follow changes automatically, pass --on-change restart".to_owned()),
        ),
        Error::Checkpoint { .. } => (
            message,
            Some(
                "pass --restart to discard that checkpoint and start over, or --checkpoint-path to keep it"
                    .to_owned(),
            ),
        ),
        Error::InsufficientSpace { .. } => (
            message,
            Some("--no-space-check skips this check (the download may then fail with ENOSPC)".to_owned()),
        ),
        Error::ForeignFile { .. } => (
            message,
            Some("move it away, or pass --restart to remove it".to_owned()),
        ),
        // The bad data and the checkpoint were deleted: the next run starts over.
        Error::CrcMismatch { .. } => (
            message,
            Some("run the same command again; it downloads the object from the start".to_owned()),
        ),
        Error::Internal { .. } => (
            message,
            Some(format!(
                "please report this at {}/issues; {again}",
                env!("CARGO_PKG_REPOSITORY")
            )),
        ),
        Error::Locked { .. } => (message, None),
        e if e.io_kind() == Some(std::io::ErrorKind::StorageFull) => (
            message,
            Some(format!("free some space, then {again}")),
        ),
        e if e.is_retryable() => (message, Some(again.to_owned())),
        _ => (message, None),
    }
}

/// Whether the TLS handshake failed somewhere in `error`'s chain (an untrusted certificate,
/// or one for another host).
fn tls_failure(error: &Error) -> bool {
    std::iter::successors(Some(error as &dyn std::error::Error), |e| e.source()).any(|e| {
        matches!(
            e.downcast_ref::<oss_resume::oss_http::Error>(),
            Some(oss_resume::oss_http::Error::Tls { .. })
        )
    })
}

/// OSS refused a presigned URL: expired (the time it expired, from the URL) or not valid
/// for this request; either way the fix is a new URL, and the checkpoint keeps the progress.
fn presigned_refused(oss: &ServiceError, source: &ObjectUrl) -> (String, Option<String>) {
    let id = oss.request_id.as_deref().unwrap_or("none");
    let expires = source
        .presigned()
        .and_then(|u| u.expires_at())
        .map(crate::summary::iso8601);
    let expired = oss.message.to_ascii_lowercase().contains("expired");
    let message = match (expired, expires) {
        (true, Some(at)) => format!(
            "AccessDenied: the presigned URL expired at {at}{} (request id {id})",
            oss.detail("ServerTime")
                .map(|t| format!("; OSS's time is {t}"))
                .unwrap_or_default()
        ),
        _ => format!(
            "AccessDenied: OSS refused the presigned URL: {} (request id {id})",
            oss.message.trim().trim_end_matches('.')
        ),
    };
    (
        message,
        Some("get a new presigned URL for the object and run again with it; the download resumes from its checkpoint".to_owned()),
    )
}

/// An OSS error answer: `Code: what it means here (request id ...)` and the fix. The
/// object's names where they say more than OSS's message; OSS's own message otherwise. The
/// hint names the ossget option or variable to change where there is one, and is the
/// library's advice for the code otherwise.
fn service(
    oss: &ServiceError,
    source: &ObjectUrl,
    retryable: bool,
    again: &str,
) -> (String, Option<String>) {
    let (bucket, key) = (&source.bucket, &source.key);
    let code = oss.code.as_str();
    let what = match code {
        "NoSuchKey" => format!("{key} does not exist in {bucket}"),
        "NoSuchBucket" => format!("bucket {bucket} does not exist at this endpoint"),
        "NoSuchVersion" => format!("{key} has no such version in {bucket}"),
        "AccessDenied" => format!("access to {bucket}/{key} was denied"),
        "InvalidObjectState" => format!("{key} is archived"),
        _ if !oss.message.trim().is_empty() => oss.message.trim().trim_end_matches('.').to_owned(),
        _ => format!("OSS answered {}", oss.status),
    };
    let hint = match code {
        "NoSuchBucket" => {
            "check the bucket name and that --endpoint / --region is the bucket's region".to_owned()
        }
        "NoSuchVersion" => "check --version-id".to_owned(),
        "AccessDenied" => match oss.detail("Endpoint") {
            Some(endpoint) => format!("the bucket is in another region: pass --endpoint {endpoint}"),
            None => "check that the AccessKey may read this object (requester-pays buckets need --header 'x-oss-request-payer: requester')".to_owned(),
        },
        "InvalidAccessKeyId" => "check OSS_ACCESS_KEY_ID (and that the key is enabled)".to_owned(),
        "SignatureDoesNotMatch" => {
            "check OSS_ACCESS_KEY_SECRET, --region and --signature-version".to_owned()
        }
        "SecurityTokenExpired" | "InvalidSecurityToken" => {
            "the STS security token is expired or invalid: get a fresh one into OSS_SESSION_TOKEN"
                .to_owned()
        }
        "SecondLevelDomainForbidden" => "OSS refuses path-style addressing: drop --path-style".to_owned(),
        "QpsLimitExceeded" => format!("too many requests: lower --threads, then {again}"),
        "DownloadTrafficRateLimitExceeded" => {
            format!("bandwidth quota reached: pass a lower --limit-rate, then {again}")
        }
        _ if retryable => format!("{}; {again}", oss.advice()),
        _ => oss.advice().to_owned(),
    };
    let label = if code.is_empty() { "OSS error" } else { code };
    let id = oss.request_id.as_deref().unwrap_or("none");
    (format!("{label}: {what} (request id {id})"), Some(hint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::parse_object_url;

    #[test]
    fn exit_codes_and_hints() {
        let url = parse_object_url("oss://bkt/k").unwrap();
        let usage = Error::InvalidArgument {
            argument: "destination",
            problem: "its directory `x` does not exist; create it first".into(),
        };
        let f = describe(&usage, &url, true);
        assert_eq!(f.exit_code, EXIT_USAGE);
        assert!(f.message.contains("create it first"));

        let crc = Error::CrcMismatch {
            expected: 1,
            actual: 2,
        };
        // The bad data and the checkpoint were deleted: no "to resume".
        for checkpointing in [true, false] {
            let f = describe(&crc, &url, checkpointing);
            assert_eq!(f.exit_code, EXIT_FAILED);
            assert_eq!(
                f.hint.as_deref(),
                Some("run the same command again; it downloads the object from the start")
            );
        }

        let full = Error::LocalIo {
            op: oss_resume::LocalOp::Checkpoint,
            path: "k.cp.tmp".into(),
            part: None,
            source: std::io::Error::from_raw_os_error(28),
        };
        let f = describe(&full, &url, true);
        assert_eq!(f.exit_code, EXIT_FAILED);
        assert_eq!(
            f.hint.as_deref(),
            Some("free some space, then run the same command again to resume")
        );

        // Every cause shows once: the write's failure, then the operating system's.
        assert_eq!(
            f.message,
            format!(
                "writing the checkpoint failed for k.cp.tmp: {}",
                std::io::Error::from_raw_os_error(28)
            )
        );

        let locked = Error::Locked {
            destination: "k".into(),
            lock_path: "k.lock".into(),
            pid: Some(7),
        };
        let f = describe(&locked, &url, true);
        assert_eq!((f.exit_code, f.hint), (EXIT_FAILED, None));
        assert!(f.message.contains("process 7"));
    }
}
