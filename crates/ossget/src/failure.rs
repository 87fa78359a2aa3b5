//! A failed download in one or two lines a person can act on, and its exit status.

use oss_resume::Error;

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
    let (message, hint) = match (&oss_code, error) {
        (Some(code), Error::Head { .. } | Error::Part { .. }) => {
            service(code, request_id.as_deref(), source, error, again)
        }
        (None, Error::Head { .. }) if error.is_retryable() => (
            error.to_string(),
            Some("check --endpoint and the network, then run the same command again".to_owned()),
        ),
        (_, Error::ObjectChanged { .. }) => (
            error.to_string(),
            Some("to follow changes automatically, pass --on-change restart".to_owned()),
        ),
        (_, Error::Checkpoint { .. }) => (
            error.to_string(),
            Some(
                "pass --restart to discard that checkpoint and start over, or --checkpoint-path to keep it"
                    .to_owned(),
            ),
        ),
        (_, Error::InsufficientSpace { .. }) => (
            error.to_string(),
            Some("--no-space-check skips this check (the download may then fail with ENOSPC)".to_owned()),
        ),
        (_, Error::Locked { .. }) => (error.to_string(), None),
        (_, e) if e.is_retryable() => (error.to_string(), Some(again.to_owned())),
        _ => (error.to_string(), None),
    };
    Failure {
        exit_code,
        message,
        hint,
        oss_code,
        request_id,
    }
}

/// An OSS error answer: `Code: what it means here (request id ...)` and the fix.
fn service(
    code: &str,
    request_id: Option<&str>,
    source: &ObjectUrl,
    error: &Error,
    again: &str,
) -> (String, Option<String>) {
    let (bucket, key) = (&source.bucket, &source.key);
    let id = request_id.unwrap_or("none");
    let (what, hint) = match code {
        "NoSuchKey" => (
            format!("{key} does not exist in {bucket}"),
            "check the key: keys are case-sensitive and include every folder",
        ),
        "NoSuchBucket" => (
            format!("bucket {bucket} does not exist at this endpoint"),
            "check the bucket name and that --endpoint / --region is the bucket's region",
        ),
        "NoSuchVersion" => (
            format!("{key} has no such version in {bucket}"),
            "check --version-id",
        ),
        "AccessDenied" => (
            format!("access to {bucket}/{key} was denied"),
            "check that the AccessKey may read this object (requester-pays buckets need --header 'x-oss-request-payer: requester'; the wrong region's endpoint is refused too)",
        ),
        "InvalidAccessKeyId" => (
            "OSS does not know this AccessKey ID".to_owned(),
            "check OSS_ACCESS_KEY_ID (and that the key is enabled)",
        ),
        "SignatureDoesNotMatch" => (
            "the request signature does not match".to_owned(),
            "check OSS_ACCESS_KEY_SECRET, --region and --signature-version",
        ),
        "SecurityTokenExpired" | "InvalidSecurityToken" => (
            "the STS security token is expired or invalid".to_owned(),
            "get a fresh token into OSS_SESSION_TOKEN",
        ),
        "RequestTimeTooSkewed" => (
            "the local clock is more than 15 minutes off".to_owned(),
            "fix the system clock (e.g. enable NTP)",
        ),
        "SecondLevelDomainForbidden" => (
            "OSS refuses path-style addressing".to_owned(),
            "drop --path-style",
        ),
        "InvalidObjectState" => (
            format!("{key} is archived"),
            "restore the object first, then run again",
        ),
        _ => {
            return (
                format!("{code}: {error}"),
                error.is_retryable().then(|| again.to_owned()),
            );
        }
    };
    (
        format!("{code}: {what} (request id {id})"),
        Some(hint.to_owned()),
    )
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
        let f = describe(&crc, &url, true);
        assert_eq!(f.exit_code, EXIT_FAILED);
        assert_eq!(
            f.hint.as_deref(),
            Some("run the same command again to resume")
        );
        let f = describe(&crc, &url, false);
        assert_eq!(f.hint.as_deref(), Some("run the same command again"));

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
