//! The crate's one error type, its retry classification, and OSS service errors.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::{Duration, SystemTime};

use http::StatusCode;
use oss_parts::ByteRange;
use oss_sign::SignError;

use crate::list::ListingProblem;

/// A boxed error from a lower layer (hyper, rustls, the OS, a caller's sink).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong building a client or running a request.
///
/// Each variant is a situation a caller can act on. [`Error::retry_reason`] (and
/// [`Error::is_retryable`]) says whether trying again can help and why;
/// [`Error::delivered`] says how many bytes of a ranged GET reached the sink before the failure,
/// so the caller can resume *inside* the part. No variant carries a secret: credentials,
/// signatures, tokens and SSE-C keys never reach an error (the OSS error fields that echo them,
/// such as `SignatureProvided` or `StringToSign`, are redacted when parsed).
///
/// A transport failure keeps its cause as a typed [`source`](StdError::source) chain
/// (hyper-util's error, then hyper's, rustls', the resolver's or the OS's `io::Error`);
/// [`Error::io_kind`] finds the OS-level kind in it. Each variant's `Display` describes this
/// layer only and never repeats its source's text: print the chain to see every cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is unusable (found by [`crate::ClientBuilder::build`]).
    #[error("invalid client configuration: {setting}: {problem}")]
    Config {
        /// The builder setting at fault, e.g. `endpoint`.
        setting: &'static str,
        /// What is wrong and how to fix it.
        problem: String,
    },

    /// The request's arguments are unusable (bad bucket name, empty key, a range outside the
    /// object); nothing was sent.
    #[error("invalid request: {problem}")]
    InvalidRequest {
        /// What is wrong and how to fix it.
        problem: String,
    },

    /// The request could not be signed (for example the credentials provider failed).
    /// Retryable when the signing error is ([`SignError::is_retryable`]: a provider that says
    /// asking again may work, such as a metadata service hiccup).
    #[error("could not sign the request")]
    Signing {
        /// oss-sign's error (never contains a secret).
        #[source]
        source: SignError,
    },

    /// The host name did not resolve.
    #[error("DNS lookup of `{host}` failed; check the endpoint (and any resolver override)")]
    Dns {
        /// The name that failed.
        host: String,
        /// The client's error, whose chain holds the resolver's.
        #[source]
        source: BoxError,
    },

    /// The TCP connection could not be made (refused, unreachable).
    #[error("could not connect to `{host}`; is the endpoint right and the service up?")]
    Connect {
        /// The host (and port) we tried.
        host: String,
        /// The client's error, whose chain holds the OS error ([`Error::io_kind`]).
        #[source]
        source: BoxError,
    },

    /// The HTTP proxy did not open a tunnel to the endpoint: it refused `CONNECT` (`403`,
    /// `407` wanting credentials...), could not be reached, or did not answer in HTTP. The
    /// [`crate::ProxyError`] in the chain says which, and names the proxy (never its
    /// password). Retried only when the proxy could not reach the endpoint (502-504) or
    /// the connection to it failed.
    #[error("no tunnel to `{host}` through the proxy")]
    Proxy {
        /// The endpoint host the tunnel was for.
        host: String,
        /// The client's error, whose chain holds the [`crate::ProxyError`].
        #[source]
        source: BoxError,
    },

    /// The TCP connection was not made within the connect timeout.
    #[error(
        "connecting to `{host}` timed out after {after:?}; the network is slow or the host unreachable (raise connect_timeout if the link is just slow)"
    )]
    ConnectTimeout {
        /// The host (and port) we tried.
        host: String,
        /// The configured connect timeout.
        after: Duration,
    },

    /// The TLS handshake failed: a certificate that is not trusted or not for this host, or a
    /// protocol failure.
    #[error("TLS with `{host}` failed; check the endpoint's certificate and the trusted roots")]
    Tls {
        /// The host we tried.
        host: String,
        /// rustls' error.
        #[source]
        source: BoxError,
    },

    /// The server does not speak TLS: it answered the TLS handshake of an `https://`
    /// endpoint (which an endpoint without a scheme is) in plain text, as a plain-HTTP
    /// server does. Not a certificate problem; not retried.
    #[error(
        "`{host}` does not speak TLS: it answered the https handshake in plain text; if the endpoint is a plain-HTTP server, write it as http://{host}"
    )]
    NotTls {
        /// The host (and port) we tried.
        host: String,
        /// rustls' error.
        #[source]
        source: BoxError,
    },

    /// No response head arrived within the response-head timeout (which covers connecting, the
    /// TLS handshake and sending the request).
    #[error(
        "no response from `{host}` within {after:?} (connect, TLS handshake and response head); the service or the link is slow"
    )]
    HeadTimeout {
        /// The host we asked.
        host: String,
        /// The configured response-head timeout.
        after: Duration,
    },

    /// The connection closed before a response came: typically a pooled keep-alive connection
    /// the server had already closed. Safe to retry.
    #[error(
        "the connection to `{host}` closed before the response arrived; retrying on a new connection helps"
    )]
    ClosedBeforeResponse {
        /// The host we asked.
        host: String,
        /// The client's error, whose chain holds hyper's.
        #[source]
        source: BoxError,
    },

    /// Another transport failure before the response head (reset, broken pipe...).
    #[error(
        "request to `{host}` failed before a response arrived; retrying on a new connection usually helps"
    )]
    Transport {
        /// The host we asked.
        host: String,
        /// The client's error, with the underlying one in its chain.
        #[source]
        source: BoxError,
    },

    /// The body stalled: no bytes for the idle timeout, or slower than the minimum rate for
    /// its whole window. `delivered` bytes reached the sink.
    #[error(
        "{stall} after {delivered} of {expected} bytes reached the sink; resume from byte {delivered} of the range (raise the stall timeout if the link is just slow) (request id {})",
        show_id(request_id)
    )]
    Stall {
        /// How the body stalled.
        stall: Stall,
        /// Bytes the sink accepted in this request.
        delivered: u64,
        /// Bytes the request was for.
        expected: u64,
        /// OSS request id of the response.
        request_id: Option<String>,
    },

    /// The body ended (closed, reset, cut) before the range was complete. `delivered` bytes
    /// reached the sink; the caller can resume from there.
    #[error(
        "the response body ended after {delivered} of {expected} bytes; resume from byte {delivered} of the range (request id {})",
        show_id(request_id)
    )]
    Truncated {
        /// Bytes the sink accepted in this request.
        delivered: u64,
        /// Bytes the request was for.
        expected: u64,
        /// The body error, when the stream failed rather than ended.
        #[source]
        source: Option<BoxError>,
        /// OSS request id of the response.
        request_id: Option<String>,
    },

    /// The body carried more bytes than the range asked for; the excess was not written.
    #[error(
        "the response body is longer than the {expected} bytes asked for; nothing past them was written, but the server (or a proxy) is not framing responses correctly, so check the bytes (CRC-64) before trusting them (request id {})",
        show_id(request_id)
    )]
    BodyOverrun {
        /// Bytes the range asked for (all of them reached the sink).
        expected: u64,
        /// OSS request id of the response.
        request_id: Option<String>,
    },

    /// The caller's sink failed. `delivered` bytes had been accepted before it.
    #[error("the sink refused bytes after accepting {delivered}")]
    Sink {
        /// Bytes the sink accepted in this request.
        delivered: u64,
        /// The sink's error.
        #[source]
        source: BoxError,
    },

    /// A ranged GET came back `200` (the whole object) instead of `206`: the server ignored the
    /// range. Nothing was written.
    #[error(
        "asked for {asked} but the server answered {status} (the whole object); nothing was written (request id {})",
        show_id(request_id)
    )]
    RangeIgnored {
        /// The range asked for.
        asked: ByteRange,
        /// The status received.
        status: StatusCode,
        /// OSS request id of the response.
        request_id: Option<String>,
    },

    /// A `206` whose `Content-Range` or `Content-Length` does not match the range asked for
    /// and the object's known size (clamped, shifted, a different total). Nothing was written.
    #[error(
        "asked for {asked} of a {object_size}-byte object but the response says {got}; nothing was written (request id {})",
        show_id(request_id)
    )]
    RangeMismatch {
        /// The range asked for.
        asked: ByteRange,
        /// The object size the request was pinned to.
        object_size: u64,
        /// What the response claimed (`Content-Range: ...`, `Content-Length: ...`).
        got: String,
        /// OSS request id of the response.
        request_id: Option<String>,
    },

    /// The response describes another version of the object than the one pinned (ETag or
    /// version id differ). Nothing was written.
    #[error(
        "the object changed: expected {expected} but the response has {got}; restart the download from HEAD (request id {})",
        show_id(request_id)
    )]
    ObjectChanged {
        /// The pinned identity (`ETag "..."` / `version ...`).
        expected: String,
        /// The identity in the response.
        got: String,
        /// OSS request id of the response.
        request_id: Option<String>,
    },

    /// The response is content-encoded (for example gzip) although we asked for identity; its
    /// bytes are not the object's bytes. Nothing was written.
    #[error(
        "the response is `Content-Encoding: {encoding}` although `identity` was requested; its bytes are not the object's (request id {})",
        show_id(request_id)
    )]
    Transcoded {
        /// The content encoding received.
        encoding: String,
        /// OSS request id of the response.
        request_id: Option<String>,
    },

    /// A successful response lacks a header we need, or has one we cannot parse.
    #[error(
        "unusable response: {problem}; is the endpoint an OSS endpoint (not a proxy or another service)? (request id {})",
        show_id(request_id)
    )]
    InvalidResponse {
        /// What is missing or malformed.
        problem: String,
        /// OSS request id of the response.
        request_id: Option<String>,
    },

    /// A listing page cannot be used: malformed or oversized, missing what every listing
    /// carries, or not moving the listing forward ([`ListingProblem`] says which). Not
    /// retried: asking again gets the same page.
    #[error(
        "unusable listing of bucket `{bucket}`: {problem}; is the endpoint OSS (or a gateway that lists keys in order)? (request id {})",
        show_id(request_id)
    )]
    InvalidListing {
        /// The bucket listed.
        bucket: String,
        /// What is wrong with the page (boxed: the error stays small on the success path).
        problem: Box<ListingProblem>,
        /// OSS request id of the response.
        request_id: Option<String>,
    },

    /// OSS answered with an error status (and usually an error document).
    #[error("{0}")]
    Service(Box<ServiceError>),
}

fn show_id(id: &Option<String>) -> &str {
    id.as_deref().unwrap_or("none")
}

/// `top` and every error beneath it, looking inside `io::Error`s too: an `io::Error`'s own
/// `source()` skips the error it wraps, which is often the one that says what happened
/// (rustls' inside hyper's I/O error). Bounded, against a chain that loops.
pub(crate) fn causes<'a>(
    top: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(top);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => current.source(),
        };
        Some(current)
    })
    .take(32)
}

/// How a body stalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stall {
    /// No byte arrived for `idle`.
    Idle {
        /// The configured idle timeout.
        idle: Duration,
    },
    /// Fewer than `min_bytes_per_sec` arrived on average over a whole `window`.
    TooSlow {
        /// The rate measured over the window, in bytes per second.
        bytes_per_sec: u64,
        /// The configured minimum rate.
        min_bytes_per_sec: u64,
        /// The configured window.
        window: Duration,
    },
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stall::Idle { idle } => write!(f, "the body stalled: no bytes for {idle:?}"),
            Stall::TooSlow {
                bytes_per_sec,
                min_bytes_per_sec,
                window,
            } => write!(
                f,
                "the body stalled: {bytes_per_sec} B/s over {window:?}, below the minimum {min_bytes_per_sec} B/s"
            ),
        }
    }
}

/// Why an error is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryReason {
    /// DNS, connect, reset or a pooled connection closed under us.
    Connection,
    /// Connect or response-head timeout.
    Timeout,
    /// The body stalled.
    Stall,
    /// The body ended early.
    Truncated,
    /// A 5xx from OSS (other than the throttling codes).
    ServerError,
    /// OSS throttled us with a 503 code (`DownloadTrafficRateLimitExceeded`, ...).
    Throttled,
    /// 429 `QpsLimitExceeded`.
    RateLimited,
    /// `RequestTimeTooSkewed`, and the client corrected its clock from the response `Date`.
    ClockSkewCorrected,
    /// The credentials provider failed in a way it says is temporary.
    CredentialsUnavailable,
    /// OSS refused the credentials as unknown or expired (`403 InvalidAccessKeyId` /
    /// `SecurityTokenExpired`) and the provider refreshed them: the retry is signed with new
    /// ones. A provider refreshes once per refusal (see
    /// [`ProvideCredentials::credentials_rejected`](crate::ProvideCredentials::credentials_rejected)).
    CredentialsRefreshed,
}

impl RetryReason {
    /// Whether OSS refused the request because it is loaded (a `503` throttling code, or
    /// `429`): such attempts are retried under [`crate::ThrottlePolicy`], not
    /// [`crate::RetryPolicy`].
    pub fn is_throttling(self) -> bool {
        matches!(self, RetryReason::Throttled | RetryReason::RateLimited)
    }
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RetryReason::Connection => "connection failure",
            RetryReason::Timeout => "timeout",
            RetryReason::Stall => "stalled body",
            RetryReason::Truncated => "truncated body",
            RetryReason::ServerError => "server error",
            RetryReason::Throttled => "throttled by OSS",
            RetryReason::RateLimited => "request rate limited",
            RetryReason::ClockSkewCorrected => "clock skew corrected",
            RetryReason::CredentialsUnavailable => "credentials temporarily unavailable",
            RetryReason::CredentialsRefreshed => "credentials refreshed after OSS refused them",
        })
    }
}

/// OSS 403 codes that refuse the credentials themselves as unknown or expired: with
/// temporary credentials, what a refresh fixes (`docs/oss-behaviour.md#errors`).
pub(crate) const REFUSED_CREDENTIALS_CODES: &[&str] =
    &["InvalidAccessKeyId", "SecurityTokenExpired"];

/// OSS 503 codes that mean "slow down", not "broken" (`docs/oss-behaviour.md#errors`).
const THROTTLING_CODES: &[&str] = &[
    "DownloadTrafficRateLimitExceeded",
    "TotalQpsLimitExceeded",
    "ActiveRequestLimitExceeded",
    "MetaOperationQpsLimitExceeded",
    "ServiceUnavailable",
];

impl Error {
    /// Why retrying can help, or `None` when it cannot (other 4xx, bad configuration, a TLS
    /// certificate problem, a wrong range, a changed object, a failing sink).
    pub fn retry_reason(&self) -> Option<RetryReason> {
        match self {
            Error::Dns { .. }
            | Error::Connect { .. }
            | Error::ClosedBeforeResponse { .. }
            | Error::Transport { .. } => Some(RetryReason::Connection),
            Error::ConnectTimeout { .. } | Error::HeadTimeout { .. } => Some(RetryReason::Timeout),
            Error::Proxy { .. } => self
                .proxy_error()
                .filter(|p| p.is_retryable())
                .map(|_| RetryReason::Connection),
            Error::Stall { .. } => Some(RetryReason::Stall),
            Error::Truncated { .. } => Some(RetryReason::Truncated),
            Error::Service(e) => e.retry_reason(),
            Error::Signing { source } if source.is_retryable() => {
                Some(RetryReason::CredentialsUnavailable)
            }
            Error::Config { .. }
            | Error::InvalidRequest { .. }
            | Error::Signing { .. }
            | Error::Tls { .. }
            | Error::NotTls { .. }
            | Error::BodyOverrun { .. }
            | Error::Sink { .. }
            | Error::RangeIgnored { .. }
            | Error::RangeMismatch { .. }
            | Error::ObjectChanged { .. }
            | Error::Transcoded { .. }
            | Error::InvalidResponse { .. }
            | Error::InvalidListing { .. } => None,
        }
    }

    /// Whether retrying the same request can help; see [`Error::retry_reason`].
    pub fn is_retryable(&self) -> bool {
        self.retry_reason().is_some()
    }

    /// The operating system's error kind beneath this error, for a caller that acts on it
    /// (`ConnectionRefused`, `ConnectionReset`, `TimedOut`, a sink's `StorageFull`...): the
    /// kind of the innermost `io::Error` in the [`source`](StdError::source) chain, looking
    /// inside `io::Error`s that wrap another error. The connect and response-head timeouts
    /// are `TimedOut`. `None` when no `io::Error` is involved (an OSS error answer, a TLS
    /// certificate problem, a bad response...).
    ///
    /// ```
    /// use std::io;
    ///
    /// let e = oss_http::Error::Sink {
    ///     delivered: 0,
    ///     source: Box::new(io::Error::from(io::ErrorKind::StorageFull)),
    /// };
    /// assert_eq!(e.io_kind(), Some(io::ErrorKind::StorageFull));
    /// ```
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        if let Error::ConnectTimeout { .. } | Error::HeadTimeout { .. } = self {
            return Some(io::ErrorKind::TimedOut);
        }
        let source = StdError::source(self)?;
        causes(source)
            .filter_map(|e| e.downcast_ref::<io::Error>())
            .last()
            .map(io::Error::kind)
    }

    /// How many bytes reached the sink in the failed request (0 for failures before the body).
    /// The digest passed to [`crate::Client::get_range`] covers exactly these bytes too.
    pub fn delivered(&self) -> u64 {
        match self {
            Error::Stall { delivered, .. }
            | Error::Truncated { delivered, .. }
            | Error::Sink { delivered, .. } => *delivered,
            Error::BodyOverrun { expected, .. } => *expected,
            _ => 0,
        }
    }

    /// Whether the object is no longer the version that was pinned: a `412 PreconditionFailed`
    /// on `If-Match`, or a response with another ETag or version id.
    pub fn is_object_changed(&self) -> bool {
        match self {
            Error::ObjectChanged { .. } => true,
            Error::Service(e) => e.status == StatusCode::PRECONDITION_FAILED,
            _ => false,
        }
    }

    /// The proxy's failure, for [`Error::Proxy`].
    pub fn proxy_error(&self) -> Option<&crate::ProxyError> {
        let source = StdError::source(self)?;
        causes(source).find_map(|e| e.downcast_ref::<crate::ProxyError>())
    }

    /// The OSS error, when OSS answered with one.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The OSS request id of the response involved, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Stall { request_id, .. }
            | Error::Truncated { request_id, .. }
            | Error::BodyOverrun { request_id, .. }
            | Error::RangeIgnored { request_id, .. }
            | Error::RangeMismatch { request_id, .. }
            | Error::ObjectChanged { request_id, .. }
            | Error::Transcoded { request_id, .. }
            | Error::InvalidResponse { request_id, .. }
            | Error::InvalidListing { request_id, .. } => request_id.as_deref(),
            Error::Service(e) => e.request_id.as_deref(),
            _ => None,
        }
    }

    /// This error with every text the server chose (request ids, ETags, header values
    /// quoted in a problem, the service error's fields) cleared of the credentials that
    /// signed the request: a server, or a proxy in front of it, sees the STS token and may
    /// echo it anywhere in its answer.
    pub(crate) fn redact_server_text(
        mut self,
        signed_with: Option<&oss_sign::Credentials>,
    ) -> Self {
        let Some(used) = signed_with else {
            return self;
        };
        let clean = |text: &mut String| {
            if let std::borrow::Cow::Owned(redacted) = used.redact(text) {
                *text = redacted;
            }
        };
        match &mut self {
            Error::RangeMismatch { got, .. } => clean(got),
            Error::ObjectChanged { expected, got, .. } => {
                clean(expected);
                clean(got);
            }
            Error::Transcoded { encoding, .. } => clean(encoding),
            Error::InvalidResponse { problem, .. } => clean(problem),
            Error::Service(e) => {
                for text in [&mut e.code, &mut e.message]
                    .into_iter()
                    .chain(e.request_id.as_mut())
                    .chain(e.host_id.as_mut())
                    .chain(e.ec.as_mut())
                {
                    clean(text);
                }
                for (name, value) in &mut e.details {
                    clean(name);
                    clean(value);
                }
            }
            _ => {}
        }
        if let Error::Stall { request_id, .. }
        | Error::Truncated { request_id, .. }
        | Error::BodyOverrun { request_id, .. }
        | Error::RangeIgnored { request_id, .. }
        | Error::RangeMismatch { request_id, .. }
        | Error::ObjectChanged { request_id, .. }
        | Error::Transcoded { request_id, .. }
        | Error::InvalidResponse { request_id, .. } = &mut self
        {
            request_id.as_mut().map(clean);
        }
        self
    }

    pub(crate) fn config(setting: &'static str, problem: impl Into<String>) -> Self {
        Error::Config {
            setting,
            problem: problem.into(),
        }
    }

    pub(crate) fn invalid_request(problem: impl Into<String>) -> Self {
        Error::InvalidRequest {
            problem: problem.into(),
        }
    }
}

/// An error answer from OSS: status, code, message, request id and the rest of the error
/// document (fields that echo secrets, such as `SignatureProvided`, `StringToSign` or
/// `CanonicalRequest`, are redacted).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The request, e.g. `GET examplebucket/dir/file.bin`.
    pub operation: String,
    /// OSS error code (`NoSuchKey`, ...); empty when the response carried no error document.
    pub code: String,
    /// OSS error message; empty when none was sent.
    pub message: String,
    /// `x-oss-request-id` (or `<RequestId>`): quote it to Alibaba support.
    pub request_id: Option<String>,
    /// `<HostId>`: the host the request went to.
    pub host_id: Option<String>,
    /// `<EC>` / `x-oss-ec`: OSS's detailed error code.
    pub ec: Option<String>,
    /// Other elements of the error document, in order (`Key`, `BucketName`, `Endpoint`,
    /// `ServerTime`, ...), secrets redacted.
    pub details: Vec<(String, String)>,
    /// The response's `Date`, when it had a valid one.
    pub server_date: Option<SystemTime>,
    /// For `RequestTimeTooSkewed`: whether the client corrected its clock from this response,
    /// so that a retry is signed with the server's time.
    pub clock_corrected: bool,
    /// For `403 InvalidAccessKeyId` / `SecurityTokenExpired`: whether the credentials
    /// provider refreshed the refused credentials, so that a retry is signed with new ones.
    pub credentials_refreshed: bool,
    /// `x-oss-delete-marker: true`: the key (or the version asked for) is a delete marker, so
    /// the object was deleted rather than never there.
    pub delete_marker: bool,
}

impl ServiceError {
    /// Why retrying can help, or `None`.
    pub fn retry_reason(&self) -> Option<RetryReason> {
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            return Some(RetryReason::RateLimited);
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE
            && THROTTLING_CODES.contains(&self.code.as_str())
        {
            return Some(RetryReason::Throttled);
        }
        if self.status.is_server_error() {
            return Some(RetryReason::ServerError);
        }
        if self.code == "RequestTimeTooSkewed" && self.clock_corrected {
            return Some(RetryReason::ClockSkewCorrected);
        }
        if self.credentials_refreshed {
            return Some(RetryReason::CredentialsRefreshed);
        }
        None
    }

    /// A detail element of the error document by name (e.g. `Endpoint`).
    pub fn detail(&self, name: &str) -> Option<&str> {
        self.details
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// What a person should do about this error.
    pub fn advice(&self) -> &'static str {
        match self.code.as_str() {
            "NoSuchBucket" => "check the bucket name and the endpoint's region",
            "NoSuchKey" => "check the object key (keys are case-sensitive)",
            "NoSuchVersion" => "the pinned version no longer exists; start over without it",
            "AccessDenied" if self.detail("Endpoint").is_some() => {
                "the bucket lives in another region: use the endpoint named in the error"
            }
            "AccessDenied" => {
                "the credentials lack permission (or the bucket is requester-pays: send x-oss-request-payer: requester)"
            }
            _ if self.credentials_refreshed => {
                "the credentials provider refreshed the refused credentials; the request is retried with the new ones"
            }
            "InvalidAccessKeyId" => {
                "the access key id is unknown: check the credentials (OSS_ACCESS_KEY_ID, the profile or role)"
            }
            "SecurityTokenExpired" => {
                "the STS token expired: use a credentials provider that refreshes it (a RAM role, OIDC, the metadata service) or get a new token"
            }
            "SignatureDoesNotMatch" => {
                "check the access key secret, the region and the signature version"
            }
            "RequestTimeTooSkewed" if self.clock_corrected => {
                "the local clock is off; the client corrected its offset and will sign retries with the server's time"
            }
            "RequestTimeTooSkewed" if self.server_date.is_some() => {
                "the server's Date is more than 24 h from the local clock, too far to be a clock that is merely off, so the client did not take it: check the system clock and that the endpoint is OSS"
            }
            "RequestTimeTooSkewed" => "the local clock is off by more than 15 minutes: fix it",
            "SecondLevelDomainForbidden" => {
                "OSS requires virtual-hosted addressing: do not force path style"
            }
            "InvalidObjectState" => "the object is archived: restore it before downloading",
            "PreconditionFailed" => "the object changed since it was pinned: restart the download",
            "InvalidRange" => "the range is outside the object: HEAD it again",
            "QpsLimitExceeded" => "too many requests: lower the concurrency",
            "DownloadTrafficRateLimitExceeded" => "bandwidth quota reached: lower the rate",
            "" if self.status == StatusCode::NOT_FOUND => "check the bucket name and key",
            "" if self.status == StatusCode::FORBIDDEN => "check the credentials and permissions",
            _ if self.status.is_server_error() => "a server-side problem: retry later",
            _ => "see the OSS error code reference",
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OSS refused {}: {}", self.operation, self.status)?;
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        write!(f, " ({}", self.advice())?;
        if self.code == "RequestTimeTooSkewed"
            && let Some(date) = self.server_date
        {
            // Formatted totally: `server_date` was parsed from a four-digit year, but a
            // printer must not be the place a hostile date panics.
            let shown = oss_sign::SigningTime::from_system_time(date)
                .map_or_else(|_| "out of range".to_owned(), |t| t.rfc1123());
            write!(f, "; server Date {shown}")?;
        }
        write!(f, "; request id {}", show_id(&self.request_id))?;
        if let Some(ec) = &self.ec {
            write!(f, ", EC {ec}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An OSS error answer with this status and code, as `GET b/k` (the other modules'
    /// tests build theirs with it too).
    pub(crate) fn service(status: u16, code: &str) -> ServiceError {
        ServiceError {
            status: StatusCode::from_u16(status).unwrap(),
            operation: "GET b/k".into(),
            code: code.into(),
            message: String::new(),
            request_id: Some("566B6C0D1790CF586F72240B".into()),
            host_id: None,
            ec: None,
            details: vec![],
            server_date: None,
            clock_corrected: false,
            credentials_refreshed: false,
            delete_marker: false,
        }
    }

    #[test]
    fn service_retry_classes() {
        let cases: &[(u16, &str, Option<RetryReason>)] = &[
            (404, "NoSuchKey", None),
            (404, "NoSuchBucket", None),
            (403, "AccessDenied", None),
            (403, "SignatureDoesNotMatch", None),
            (412, "PreconditionFailed", None),
            (416, "InvalidRange", None),
            (400, "InvalidArgument", None),
            (405, "MethodNotAllowed", None),
            (403, "RequestTimeTooSkewed", None),
            (429, "QpsLimitExceeded", Some(RetryReason::RateLimited)),
            (
                503,
                "DownloadTrafficRateLimitExceeded",
                Some(RetryReason::Throttled),
            ),
            (503, "ServiceUnavailable", Some(RetryReason::Throttled)),
            (503, "SomethingElse", Some(RetryReason::ServerError)),
            (500, "InternalError", Some(RetryReason::ServerError)),
            (502, "", Some(RetryReason::ServerError)),
        ];
        for (status, code, want) in cases {
            assert_eq!(
                service(*status, code).retry_reason(),
                *want,
                "{status} {code}"
            );
        }
        let mut skew = service(403, "RequestTimeTooSkewed");
        skew.clock_corrected = true;
        assert_eq!(skew.retry_reason(), Some(RetryReason::ClockSkewCorrected));
        for code in REFUSED_CREDENTIALS_CODES {
            let mut refused = service(403, code);
            assert_eq!(refused.retry_reason(), None, "{code} without a refresh");
            refused.credentials_refreshed = true;
            assert_eq!(
                refused.retry_reason(),
                Some(RetryReason::CredentialsRefreshed),
                "{code}"
            );
        }
    }

    #[test]
    fn display_names_code_request_id_and_advice() {
        let mut e = service(404, "NoSuchKey");
        e.message = "The specified key does not exist.".into();
        e.ec = Some("0026-00000001".into());
        let text = Error::Service(Box::new(e)).to_string();
        assert!(text.contains("404 Not Found NoSuchKey"), "{text}");
        assert!(text.contains("566B6C0D1790CF586F72240B"), "{text}");
        assert!(text.contains("EC 0026-00000001"), "{text}");
        assert!(text.contains("check the object key"), "{text}");
    }

    #[test]
    fn precondition_failed_is_object_changed() {
        let e = Error::Service(Box::new(service(412, "PreconditionFailed")));
        assert!(e.is_object_changed());
        assert!(!e.is_retryable());
    }

    /// Every variant with a source: its text describes this layer only (a chain printer shows
    /// each cause once), the cause stays reachable and typed, and `io_kind` finds the OS kind.
    #[test]
    fn messages_leave_the_cause_to_the_chain() {
        let refused = || Box::new(io::Error::new(io::ErrorKind::ConnectionRefused, "refused!"));
        let cases = [
            Error::Connect {
                host: "h:1".into(),
                source: refused(),
            },
            Error::Dns {
                host: "h".into(),
                source: refused(),
            },
            Error::ClosedBeforeResponse {
                host: "h".into(),
                source: refused(),
            },
            Error::Transport {
                host: "h".into(),
                source: refused(),
            },
            Error::Tls {
                host: "h".into(),
                source: refused(),
            },
            Error::Sink {
                delivered: 3,
                source: refused(),
            },
            Error::Truncated {
                delivered: 3,
                expected: 9,
                // As hyper's body errors carry the OS error: inside another `io::Error`.
                source: Some(Box::new(io::Error::other(*refused()))),
                request_id: None,
            },
        ];
        for e in cases {
            let text = e.to_string();
            assert!(!text.contains("refused!"), "{text}");
            let chain: Vec<String> = causes(&e).map(ToString::to_string).collect();
            assert!(chain.iter().any(|t| t.contains("refused!")), "{chain:?}");
            assert_eq!(e.io_kind(), Some(io::ErrorKind::ConnectionRefused), "{e:?}");
        }
        let signing = Error::Signing {
            source: SignError::credentials_unavailable("metadata service down", true, None),
        };
        assert!(!signing.to_string().contains("metadata service down"));
        assert!(
            StdError::source(&signing)
                .and_then(|s| s.downcast_ref::<SignError>())
                .is_some()
        );
        assert_eq!(signing.io_kind(), None);
        let timeout = Error::HeadTimeout {
            host: "h".into(),
            after: Duration::from_secs(1),
        };
        assert_eq!(timeout.io_kind(), Some(io::ErrorKind::TimedOut));
    }

    #[test]
    fn body_errors_report_delivered() {
        let e = Error::Truncated {
            delivered: 42,
            expected: 100,
            source: None,
            request_id: None,
        };
        assert_eq!(e.delivered(), 42);
        assert_eq!(e.retry_reason(), Some(RetryReason::Truncated));
        assert!(e.to_string().contains("42 of 100"), "{e}");
    }
}
