//! OSS's rules for names, checked the way the transport checks them.

use crate::error::Error;

/// Checks a bucket name by OSS's rules (3-63 characters of `a-z 0-9 -`, starting and
/// ending with a letter or digit) — the check oss-http makes before every request, as this
/// crate's [`Error::InvalidArgument`] (argument `bucket`) whose problem names the rule. A
/// download checks its bucket with it before taking the lock; a CLI can check an
/// `oss://BUCKET/KEY` argument with it as early as it likes.
///
/// ```
/// oss_resume::validate_bucket_name("examplebucket")?;
/// match oss_resume::validate_bucket_name("Example_Bucket") {
///     Err(oss_resume::Error::InvalidArgument { argument: "bucket", problem }) => {
///         assert!(problem.starts_with("bucket name `Example_Bucket` is not valid"));
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), oss_resume::Error>(())
/// ```
pub fn validate_bucket_name(bucket: &str) -> Result<(), Error> {
    oss_http::validate_bucket_name(bucket).map_err(|e| match e {
        oss_http::Error::InvalidRequest { problem } => Error::invalid("bucket", problem),
        other => Error::invalid("bucket", other.to_string()),
    })
}
