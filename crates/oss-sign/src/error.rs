//! The crate's one error type.

use std::error::Error as StdError;

/// Everything that can stop a request from being signed, presigned or verified.
///
/// No variant ever carries a secret, a security token or a signature: errors are safe to
/// log. Each message names the problem and what to do about it.
///
/// ```
/// use oss_sign::{Credentials, SignError};
///
/// let err = Credentials::from_env_with(|_| None).unwrap_err();
/// assert!(matches!(err, SignError::MissingEnvVar { name: "OSS_ACCESS_KEY_ID" }));
/// assert!(!err.is_retryable());
/// assert!(err.to_string().contains("OSS_ACCESS_KEY_ID"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// A required environment variable is unset, empty or not valid UTF-8.
    #[error(
        "environment variable {name} is not set (or is empty or not UTF-8); \
         set it to your OSS credentials, or pass credentials explicitly"
    )]
    MissingEnvVar {
        /// The variable's name.
        name: &'static str,
    },

    /// The access key id cannot be used in an `Authorization` header or URL.
    #[error(
        "the access key id is {reason}; use the AccessKey ID exactly as the console shows it \
         (printable ASCII without spaces, ':', '/' or ',')"
    )]
    InvalidAccessKeyId {
        /// What is wrong with it (never the id itself).
        reason: &'static str,
    },

    /// The access key secret is empty.
    #[error("the access key secret is empty; set it to your AccessKey secret")]
    EmptySecret,

    /// The STS security token cannot be sent as a header value.
    #[error(
        "the security token is {reason}; pass the STS token exactly as issued \
         (printable ASCII, no line breaks)"
    )]
    InvalidSecurityToken {
        /// What is wrong with it (never the token itself).
        reason: &'static str,
    },

    /// The operation needs an access key but the credentials are anonymous.
    #[error(
        "{operation} needs an access key, but the credentials are anonymous; \
         configure an access key id and secret"
    )]
    AnonymousCredentials {
        /// What was attempted (e.g. "presigning a URL").
        operation: &'static str,
    },

    /// A credentials provider could not produce credentials.
    #[error("credentials are unavailable: {message}")]
    CredentialsUnavailable {
        /// What the provider says went wrong (must not contain secrets).
        message: String,
        /// Whether asking the provider again later may succeed.
        retryable: bool,
        /// The provider's underlying error, if any.
        #[source]
        source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    },

    /// V4 signing was asked for without a region.
    #[error(
        "V4 signing needs the bucket's region (e.g. \"cn-hangzhou\"); set the region, \
         or use V1 signing"
    )]
    MissingRegion,

    /// A region or product name that cannot be placed in a V4 credential scope.
    #[error(
        "the {what} {value:?} cannot be used in a V4 credential scope; use letters, digits, \
         '-', '_' and '.' only (e.g. \"cn-hangzhou\", \"oss\")"
    )]
    InvalidScopePart {
        /// "region" or "product".
        what: &'static str,
        /// The rejected value.
        value: String,
    },

    /// A bucket name that would make the signed resource ambiguous.
    #[error("the bucket name {bucket:?} is {reason}; pass the bucket name alone, without '/'")]
    InvalidBucket {
        /// The rejected name.
        bucket: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An object key was given without a bucket.
    #[error("an object key needs a bucket; pass the bucket name with the key")]
    KeyWithoutBucket,

    /// A signed header's value is not valid UTF-8, so it has no defined string to sign.
    #[error(
        "the value of header {name} is not valid UTF-8, so it cannot be signed; \
         send it as UTF-8 (or ASCII)"
    )]
    HeaderValueNotUtf8 {
        /// The header's (lowercase) name.
        name: String,
    },

    /// The time is before 1970 or after 9999-12-31T23:59:59Z.
    #[error(
        "the time is outside 1970-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z; \
         check the system clock or the time passed in"
    )]
    TimeOutOfRange,

    /// A presigned URL's expiry is outside what the signature version allows.
    #[error(
        "a presigned URL must expire between {min} and {max} seconds from its signing time, \
         not {seconds}; choose an expiry in that range"
    )]
    ExpiryOutOfRange {
        /// The requested expiry in whole seconds.
        seconds: u64,
        /// The shortest expiry allowed.
        min: u64,
        /// The longest expiry allowed.
        max: u64,
    },

    /// The request's query already carries a parameter that presigning adds.
    #[error(
        "the query already contains the presign parameter {name:?}; remove it before \
         presigning (a URL cannot carry two signatures)"
    )]
    ReservedQueryParameter {
        /// The parameter's name.
        name: String,
    },

    /// A text that should be a date or time in a fixed format is not.
    #[error("{value:?} is not a valid {format} time; expected e.g. {example:?}")]
    MalformedTime {
        /// The format expected ("RFC 1123", "V4 timestamp", "ISO 8601").
        format: &'static str,
        /// An example of the expected format.
        example: &'static str,
        /// The rejected text (times are not secret).
        value: String,
    },

    /// A query string could not be decoded.
    #[error("the query string is malformed: {reason}; percent-encode it as UTF-8 (RFC 3986)")]
    MalformedQuery {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A received request's authentication data could not be parsed.
    #[error("the request's {part} is malformed: {reason}")]
    MalformedAuth {
        /// Which part ("Authorization header", "x-oss-credential", ...).
        part: &'static str,
        /// What is wrong with it (never the signature).
        reason: &'static str,
    },

    /// A received request lacks a header or query parameter its authentication needs.
    #[error("the request is missing {name}, which its authentication method requires")]
    MissingAuthParameter {
        /// The missing header or query parameter.
        name: &'static str,
    },
}

impl SignError {
    /// Whether trying again later (with the same inputs) may succeed.
    ///
    /// Only a provider's transient failure is retryable; every other error needs a
    /// different input.
    ///
    /// ```
    /// use oss_sign::SignError;
    ///
    /// let e = SignError::credentials_unavailable("metadata service timed out", true, None);
    /// assert!(e.is_retryable());
    /// assert!(!SignError::MissingRegion.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::CredentialsUnavailable {
                retryable: true,
                ..
            }
        )
    }

    /// The error a [`ProvideCredentials`](crate::ProvideCredentials) implementation returns
    /// when it cannot produce credentials. `message` must not contain secrets.
    ///
    /// ```
    /// use oss_sign::SignError;
    ///
    /// let io = std::io::Error::other("connection refused");
    /// let e = SignError::credentials_unavailable("ECS RAM role endpoint", true, Some(io.into()));
    /// assert!(e.to_string().contains("ECS RAM role endpoint"));
    /// assert!(std::error::Error::source(&e).is_some());
    /// ```
    pub fn credentials_unavailable(
        message: impl Into<String>,
        retryable: bool,
        source: Option<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        Self::CredentialsUnavailable {
            message: message.into(),
            retryable,
            source,
        }
    }
}
