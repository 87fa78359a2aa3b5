//! The entry points: [`sign`] (headers to apply) and [`presign`] (a URL's query).

use std::fmt;
use std::time::Duration;

use http::header::{AUTHORIZATION, DATE};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::encode::Slash;
use crate::headers::HeaderView;
use crate::request::push_encoded_param;
use crate::v4::{self, SigningKey};
use crate::{
    AddressStyle, Credentials, Resource, SignError, SignableRequest, SignatureVersion,
    SigningConfig, SigningTime, v1,
};

const X_OSS_DATE: HeaderName = HeaderName::from_static("x-oss-date");
const X_OSS_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-oss-content-sha256");
const X_OSS_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-oss-security-token");

/// Query parameters a V4 presigned URL adds (a request carrying one cannot be presigned).
///
/// ```
/// assert!(oss_sign::V4_PRESIGN_PARAMS.contains(&"x-oss-signature"));
/// ```
pub const V4_PRESIGN_PARAMS: [&str; 7] = [
    "x-oss-signature-version",
    "x-oss-date",
    "x-oss-expires",
    "x-oss-credential",
    "x-oss-security-token",
    "x-oss-additional-headers",
    "x-oss-signature",
];

/// Query parameters a V1 presigned URL adds (a request carrying one cannot be presigned).
///
/// ```
/// assert!(oss_sign::V1_PRESIGN_PARAMS.contains(&"Signature"));
/// ```
pub const V1_PRESIGN_PARAMS: [&str; 4] =
    ["security-token", "OSSAccessKeyId", "Expires", "Signature"];

/// The intermediate strings and the result of one signature, for logs-free debugging, for
/// tests against the official SDKs' vectors, and for a server's `SignatureDoesNotMatch`
/// answer (which carries `StringToSign`).
///
/// The strings may contain the STS token (it is signed), so `Debug` shows none of them.
///
/// ```
/// use http::{HeaderMap, Method};
/// use oss_sign::{Credentials, Query, Resource, SignableRequest, SigningConfig, SigningTime, sign};
///
/// let headers = HeaderMap::new();
/// let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &headers);
/// let out = sign(&req, &SigningConfig::v4("cn-hangzhou")?, &Credentials::new("id", "s")?,
///     SigningTime::from_unix_seconds(1_705_307_400)?)?;
/// let details = out.details().expect("signed");
/// assert!(details.canonical_request().unwrap().starts_with("GET\n/b/k\n"));
/// assert!(details.string_to_sign().starts_with("OSS4-HMAC-SHA256\n20240115T083000Z\n"));
/// assert_eq!(details.signature().len(), 64);
/// assert!(!format!("{details:?}").contains(details.signature()));
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone)]
pub struct SignatureDetails {
    version: SignatureVersion,
    canonical_request: Option<String>,
    string_to_sign: String,
    signature: String,
    signing_key: Option<SigningKey>,
}

impl SignatureDetails {
    /// The signature version used.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// let out = sign(&req, &SigningConfig::v1(), &Credentials::new("id", "s")?, SigningTime::from_unix_seconds(0)?)?;
    /// assert_eq!(out.details().unwrap().version(), SignatureVersion::V1);
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn version(&self) -> SignatureVersion {
        self.version
    }

    /// The V4 canonical request (`None` for V1, which has none).
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// let out = sign(&req, &SigningConfig::v1(), &Credentials::new("id", "s")?, SigningTime::from_unix_seconds(0)?)?;
    /// assert_eq!(out.details().unwrap().canonical_request(), None);
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn canonical_request(&self) -> Option<&str> {
        self.canonical_request.as_deref()
    }

    /// The string to sign.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// let out = sign(&req, &SigningConfig::v1(), &Credentials::new("id", "s")?, SigningTime::from_unix_seconds(0)?)?;
    /// assert_eq!(out.details().unwrap().string_to_sign(), "GET\n\n\nThu, 01 Jan 1970 00:00:00 GMT\n/");
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn string_to_sign(&self) -> &str {
        &self.string_to_sign
    }

    /// The signature: Base64 (V1) or lowercase hex (V4), not URL-encoded.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// let out = sign(&req, &SigningConfig::v1(), &Credentials::new("id", "s")?, SigningTime::from_unix_seconds(0)?)?;
    /// assert!(out.details().unwrap().signature().ends_with('='));
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// The derived V4 signing key (`None` for V1).
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// let out = sign(&req, &SigningConfig::v4("r")?, &Credentials::new("id", "s")?, SigningTime::from_unix_seconds(0)?)?;
    /// assert_eq!(out.details().unwrap().signing_key().unwrap().to_hex().len(), 64);
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.signing_key.as_ref()
    }
}

impl fmt::Debug for SignatureDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureDetails")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// What [`sign`] returns: the headers to set on the request, and the signature's details.
///
/// The `Authorization` and `x-oss-security-token` values are marked sensitive, so their
/// `Debug` output (and `http`'s) hides them.
///
/// ```
/// use http::{HeaderMap, Method};
/// use oss_sign::{Credentials, Query, Resource, SignableRequest, SigningConfig, SigningTime, sign};
///
/// let mut headers = HeaderMap::new();
/// let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &headers);
/// let out = sign(&req, &SigningConfig::v4("cn-hangzhou")?, &Credentials::new("id", "s")?,
///     SigningTime::from_unix_seconds(1_705_307_400)?)?;
/// out.apply_to(&mut headers);
/// assert_eq!(headers["x-oss-date"], "20240115T083000Z");
/// assert!(headers["authorization"].to_str().unwrap().starts_with("OSS4-HMAC-SHA256 Credential=id/"));
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SigningOutput {
    headers: Vec<(HeaderName, HeaderValue)>,
    details: Option<SignatureDetails>,
}

impl SigningOutput {
    /// The headers to set (each replaces any header of the same name), in the order the
    /// official SDK sets them. Empty for anonymous credentials.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// let out = sign(&req, &SigningConfig::v1(), &Credentials::new("id", "s")?, SigningTime::from_unix_seconds(0)?)?;
    /// let names: Vec<&str> = out.headers().iter().map(|(n, _)| n.as_str()).collect();
    /// assert_eq!(names, ["date", "authorization"]);
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }

    /// Sets every header of [`headers`](Self::headers) on `headers`, replacing old values.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// let mut h = HeaderMap::new();
    /// h.insert("authorization", "stale".parse().unwrap());
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// let out = sign(&req, &SigningConfig::v1(), &Credentials::new("id", "s")?, SigningTime::from_unix_seconds(0)?)?;
    /// out.apply_to(&mut h);
    /// assert_eq!(h.get_all("authorization").iter().count(), 1);
    /// assert_ne!(h["authorization"], "stale");
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn apply_to(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
    }

    /// The headers to set, by value.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// let out = sign(&req, &SigningConfig::v1(), &Credentials::anonymous(), SigningTime::from_unix_seconds(0)?)?;
    /// assert!(out.into_headers().is_empty());
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn into_headers(self) -> Vec<(HeaderName, HeaderValue)> {
        self.headers
    }

    /// The signature's intermediate strings; `None` for anonymous credentials.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// let out = sign(&req, &SigningConfig::v1(), &Credentials::anonymous(), SigningTime::from_unix_seconds(0)?)?;
    /// assert!(out.details().is_none());
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn details(&self) -> Option<&SignatureDetails> {
        self.details.as_ref()
    }
}

/// Signs a request for header authentication at `time`: returns the headers to set.
///
/// - **V4**: `x-oss-date`, `Date`, `x-oss-security-token` (STS), `x-oss-content-sha256:
///   UNSIGNED-PAYLOAD` and `Authorization: OSS4-HMAC-SHA256 Credential=…,Signature=…`.
///   These are signed as they will be sent (they replace same-named request headers).
/// - **V1**: `Date`, `x-oss-security-token` (STS, signed) and `Authorization: OSS id:sig`;
///   an `x-oss-date` header on the request takes the date line's place.
/// - **Anonymous** credentials: nothing to set.
///
/// The request's headers are not modified: apply the result with
/// [`SigningOutput::apply_to`]. Sign each attempt anew (the time is part of the signature).
///
/// # Errors
/// [`SignError::MissingRegion`] (V4 without region), [`SignError::InvalidBucket`],
/// [`SignError::HeaderValueNotUtf8`] for a signed header that is not UTF-8.
///
/// ```
/// use http::{HeaderMap, HeaderValue, Method};
/// use oss_sign::{Credentials, Query, Resource, SignableRequest, SigningConfig, SigningTime, sign};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("range", HeaderValue::from_static("bytes=0-1023"));
/// let query = Query::new();
/// let req = SignableRequest::new(&Method::GET, Resource::object("examplebucket", "big/object.bin"),
///     &query, &headers);
/// let config = SigningConfig::v4("cn-hangzhou")?.with_additional_headers(["range"]);
/// let creds = Credentials::new("LTAI5tExampleAccessKeyId", "ExampleSecretKey0123456789abcdefABCD")?;
/// let out = sign(&req, &config, &creds, SigningTime::parse_iso8601("2024-01-15T08:30:00Z")?)?;
/// out.apply_to(&mut headers);
/// assert_eq!(headers["authorization"], "OSS4-HMAC-SHA256 Credential=LTAI5tExampleAccessKeyId/20240115/\
///     cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=range,\
///     Signature=e4f6d88d3a2d1c29f57511183f5c7085191a6971444e8f6719f0b83cd953cdb5");
/// # Ok::<(), oss_sign::SignError>(())
/// ```
pub fn sign(
    request: &SignableRequest<'_>,
    config: &SigningConfig,
    credentials: &Credentials,
    time: SigningTime,
) -> Result<SigningOutput, SignError> {
    let Ok((access_key_id, secret)) = credentials.keys_for("signing") else {
        return Ok(SigningOutput {
            headers: Vec::new(),
            details: None,
        });
    };
    request.resource().validate()?;
    let token = credentials.security_token().map(token_value).transpose()?;
    let params: Vec<(&str, Option<&str>)> = request.query().iter().collect();

    match config.version() {
        SignatureVersion::V4 => {
            let scope = v4::Scope::new(time, config.region(), config.product())?;
            let timestamp = time.v4_timestamp();
            let mut set = Vec::with_capacity(5);
            set.push((X_OSS_DATE, plain_value(&timestamp)?));
            set.push((DATE, plain_value(&time.rfc1123())?));
            if let Some(token) = token {
                set.push((X_OSS_SECURITY_TOKEN, token));
            }
            set.push((
                X_OSS_CONTENT_SHA256,
                HeaderValue::from_static(v4::UNSIGNED_PAYLOAD),
            ));
            let view = HeaderView::new(request.headers(), &set);
            let additional = v4::additional_headers_in(config.additional_headers(), view);
            let details = v4_details(
                request,
                &params,
                view,
                &additional,
                &timestamp,
                &scope,
                secret,
            )?;
            let mut authorization = format!("{} Credential={access_key_id}/{scope}", v4::ALGORITHM);
            if !additional.is_empty() {
                authorization.push_str(",AdditionalHeaders=");
                authorization.push_str(&additional.join(";"));
            }
            authorization.push_str(",Signature=");
            authorization.push_str(&details.signature);
            set.push((AUTHORIZATION, sensitive_value(&authorization)?));
            Ok(SigningOutput {
                headers: set,
                details: Some(details),
            })
        }
        SignatureVersion::V1 => {
            let date = time.rfc1123();
            let mut set = Vec::with_capacity(3);
            if let Some(token) = token {
                set.push((X_OSS_SECURITY_TOKEN, token));
            }
            set.push((DATE, plain_value(&date)?));
            let view = HeaderView::new(request.headers(), &set);
            let date_line = view.get("x-oss-date")?.map(|d| d.into_owned());
            let date_line = date_line.as_deref().unwrap_or(&date);
            let details = v1_details(request, &params, view, config, date_line, secret)?;
            let authorization = format!(
                "{}{access_key_id}:{}",
                v1::AUTHORIZATION_PREFIX,
                details.signature
            );
            set.push((AUTHORIZATION, sensitive_value(&authorization)?));
            Ok(SigningOutput {
                headers: set,
                details: Some(details),
            })
        }
    }
}

/// What [`presign`] returns: the query parameters that make the URL carry its own
/// authentication, the URL itself, and what the holder must send along.
///
/// `Debug` hides the query (it holds the signature and any STS token).
///
/// ```
/// use std::time::Duration;
/// use http::{HeaderMap, Method};
/// use oss_sign::{AddressStyle, Credentials, Query, Resource, SignableRequest, SigningConfig,
///     SigningTime, Slash, presign};
///
/// let headers = HeaderMap::new();
/// let req = SignableRequest::new(&Method::GET, Resource::object("examplebucket", "example.txt"),
///     Query::empty(), &headers);
/// let creds = Credentials::new("LTAI5tExampleAccessKeyId", "ExampleSecretKey0123456789abcdefABCD")?;
/// let p = presign(&req, &SigningConfig::v4("cn-hangzhou")?, &creds,
///     SigningTime::parse_iso8601("2024-01-15T08:30:00Z")?, Duration::from_secs(3600))?;
/// assert_eq!(p.url("https", "oss-cn-hangzhou.aliyuncs.com", AddressStyle::VirtualHosted, Slash::Keep),
///     "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/example.txt?x-oss-signature-version=OSS4-HMAC-SHA256\
///     &x-oss-date=20240115T083000Z&x-oss-expires=3600&x-oss-credential=LTAI5tExampleAccessKeyId\
///     %2F20240115%2Fcn-hangzhou%2Foss%2Faliyun_v4_request\
///     &x-oss-signature=0fbe08322a3c35c420b507f43c831e88e6a34fa7def62568ecfb7d5974f56582");
/// assert_eq!(p.expires_at().iso8601(), "2024-01-15T09:30:00Z");
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone)]
pub struct Presigned {
    added: Vec<(String, String)>,
    query: String,
    signed_headers: Vec<(HeaderName, HeaderValue)>,
    expires_at: SigningTime,
    details: SignatureDetails,
    bucket: Option<String>,
    key: Option<String>,
}

impl Presigned {
    /// The parameters presigning added, decoded, in the official SDK's order (V4:
    /// `x-oss-signature-version`, `x-oss-date`, `x-oss-expires`, `x-oss-credential`,
    /// `x-oss-security-token` (STS), `x-oss-additional-headers` (if any),
    /// `x-oss-signature`; V1: `security-token` (STS), `OSSAccessKeyId`, `Expires`,
    /// `Signature`).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
    /// let p = presign(&req, &SigningConfig::v1(), &Credentials::new("id", "s")?,
    ///     SigningTime::from_unix_seconds(1_000)?, Duration::from_secs(60))?;
    /// let names: Vec<&str> = p.added_params().iter().map(|(k, _)| k.as_str()).collect();
    /// assert_eq!(names, ["OSSAccessKeyId", "Expires", "Signature"]);
    /// assert_eq!(p.added_params()[1].1, "1060");
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn added_params(&self) -> &[(String, String)] {
        &self.added
    }

    /// The whole query for the URL, encoded: the request's own parameters, then
    /// [`added_params`](Self::added_params). No leading `?`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// let q = Query::new().with("versionId", "v 1");
    /// # let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), &q, &h);
    /// let p = presign(&req, &SigningConfig::v1(), &Credentials::new("id", "s")?,
    ///     SigningTime::from_unix_seconds(1_000)?, Duration::from_secs(60))?;
    /// assert!(p.query_string().starts_with("versionId=v%201&OSSAccessKeyId=id&Expires=1060&Signature="));
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn query_string(&self) -> &str {
        &self.query
    }

    /// The presigned URL: `{scheme}://{host}{path}?{query}`, with host and path from
    /// `endpoint_host` and `style` (see [`Resource::url_host`], [`Resource::url_path`]).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::object("b", "dir/k"), Query::empty(), &h);
    /// let p = presign(&req, &SigningConfig::v1(), &Credentials::new("id", "s")?,
    ///     SigningTime::from_unix_seconds(1_000)?, Duration::from_secs(60))?;
    /// let url = p.url("http", "127.0.0.1:9000", AddressStyle::Path, Slash::Keep);
    /// assert!(url.starts_with("http://127.0.0.1:9000/b/dir/k?OSSAccessKeyId=id&"));
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn url(
        &self,
        scheme: &str,
        endpoint_host: &str,
        style: AddressStyle,
        key_slashes: Slash,
    ) -> String {
        let resource = match (self.bucket.as_deref(), self.key.as_deref()) {
            (Some(b), Some(k)) => Resource::object(b, k),
            (Some(b), None) => Resource::bucket(b),
            _ => Resource::service(),
        };
        format!(
            "{scheme}://{}{}?{}",
            resource.url_host(style, endpoint_host),
            resource.url_path(style, key_slashes),
            self.query
        )
    }

    /// The request headers that were signed and so must be sent with the URL, as given
    /// (`content-type`, `content-md5`, `x-oss-*`, and V4 additional headers).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use http::{HeaderMap, HeaderValue, Method};
    /// # use oss_sign::*;
    /// let mut h = HeaderMap::new();
    /// h.insert("content-type", HeaderValue::from_static("text/plain"));
    /// h.insert("cache-control", HeaderValue::from_static("no-cache"));
    /// # let req = SignableRequest::new(&Method::PUT, Resource::object("b", "k"), Query::empty(), &h);
    /// let p = presign(&req, &SigningConfig::v4("r")?, &Credentials::new("id", "s")?,
    ///     SigningTime::from_unix_seconds(1_000)?, Duration::from_secs(60))?;
    /// assert_eq!(p.signed_headers().len(), 1);
    /// assert_eq!(p.signed_headers()[0].0, "content-type");
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn signed_headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.signed_headers
    }

    /// When the URL stops working.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
    /// let p = presign(&req, &SigningConfig::v4("r")?, &Credentials::new("id", "s")?,
    ///     SigningTime::from_unix_seconds(1_000)?, Duration::from_secs(900))?;
    /// assert_eq!(p.expires_at().unix_seconds(), 1_900);
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn expires_at(&self) -> SigningTime {
        self.expires_at
    }

    /// The signature's intermediate strings.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::*;
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
    /// let p = presign(&req, &SigningConfig::v1(), &Credentials::new("id", "s")?,
    ///     SigningTime::from_unix_seconds(1_000)?, Duration::from_secs(60))?;
    /// assert_eq!(p.details().string_to_sign(), "GET\n\n\n1060\n/b/k");
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn details(&self) -> &SignatureDetails {
        &self.details
    }
}

impl fmt::Debug for Presigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presigned")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("expires_at", &self.expires_at)
            .field("signed_headers", &self.signed_headers)
            .field("query", &"** redacted **")
            .finish()
    }
}

/// Presigns a request at `time`: the URL (see [`Presigned::url`]) lets anyone who holds it
/// make this request until `time + expires_in` (whole seconds).
///
/// - **V4**: adds `x-oss-signature-version`, `x-oss-date`, `x-oss-expires` (relative
///   seconds), `x-oss-credential`, `x-oss-security-token` (STS), `x-oss-additional-headers`
///   (if any) — all signed — then `x-oss-signature`. Expiry 1 s ..= 7 days (604800 s).
/// - **V1**: adds `security-token` (STS; a signed sub-resource), `OSSAccessKeyId`,
///   `Expires` (absolute Unix seconds, in the date line) and `Signature`. Expiry >= 1 s.
///
/// Headers on the request that get signed (see [`Presigned::signed_headers`]) must be sent
/// by whoever uses the URL.
///
/// # Errors
/// [`SignError::AnonymousCredentials`]; [`SignError::ExpiryOutOfRange`];
/// [`SignError::ReservedQueryParameter`] if the query already holds one of the parameters
/// presigning adds; [`SignError::TimeOutOfRange`] if the expiry passes year 9999; and the
/// errors of [`sign`].
///
/// ```
/// use std::time::Duration;
/// use http::{HeaderMap, Method};
/// use oss_sign::{Credentials, Query, Resource, SignableRequest, SigningConfig, SigningTime,
///     SignError, presign};
///
/// let headers = HeaderMap::new();
/// let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &headers);
/// let (config, creds) = (SigningConfig::v4("cn-hangzhou")?, Credentials::new("id", "s")?);
/// let t = SigningTime::from_unix_seconds(1_705_307_400)?;
/// assert!(presign(&req, &config, &creds, t, Duration::from_secs(604_800)).is_ok());
/// assert!(matches!(presign(&req, &config, &creds, t, Duration::from_secs(604_801)),
///     Err(SignError::ExpiryOutOfRange { .. })));
/// # Ok::<(), SignError>(())
/// ```
pub fn presign(
    request: &SignableRequest<'_>,
    config: &SigningConfig,
    credentials: &Credentials,
    time: SigningTime,
    expires_in: Duration,
) -> Result<Presigned, SignError> {
    let (access_key_id, secret) = credentials.keys_for("presigning a URL")?;
    request.resource().validate()?;
    let seconds = expires_in.as_secs();
    let max = match config.version() {
        SignatureVersion::V4 => v4::MAX_PRESIGN_EXPIRY_SECS,
        SignatureVersion::V1 => SigningTime::MAX.unix_seconds(),
    };
    if !(1..=max).contains(&seconds) {
        return Err(SignError::ExpiryOutOfRange {
            seconds,
            min: 1,
            max,
        });
    }
    let expires_at = time.checked_add_seconds(seconds)?;
    let reserved: &[&str] = match config.version() {
        SignatureVersion::V4 => &V4_PRESIGN_PARAMS,
        SignatureVersion::V1 => &V1_PRESIGN_PARAMS,
    };
    if let Some(name) = reserved.iter().find(|n| request.query().contains(n)) {
        return Err(SignError::ReservedQueryParameter {
            name: (*name).to_owned(),
        });
    }
    let token = credentials.security_token();
    let view = HeaderView::new(request.headers(), &[]);

    let mut added: Vec<(String, String)> = Vec::with_capacity(7);
    // The signed headers are the default-signed ones (the same set for V1 and V4) plus
    // V4's additional headers.
    let (details, additional) = match config.version() {
        SignatureVersion::V4 => {
            let scope = v4::Scope::new(time, config.region(), config.product())?;
            let timestamp = time.v4_timestamp();
            let additional = v4::additional_headers_in(config.additional_headers(), view);
            added.push(("x-oss-signature-version".into(), v4::ALGORITHM.into()));
            added.push(("x-oss-date".into(), timestamp.clone()));
            added.push(("x-oss-expires".into(), seconds.to_string()));
            added.push((
                "x-oss-credential".into(),
                format!("{access_key_id}/{scope}"),
            ));
            if let Some(token) = token {
                added.push(("x-oss-security-token".into(), token.to_owned()));
            }
            if !additional.is_empty() {
                added.push(("x-oss-additional-headers".into(), additional.join(";")));
            }
            let params = with_added(request, &added);
            let details = v4_details(
                request,
                &params,
                view,
                &additional,
                &timestamp,
                &scope,
                secret,
            )?;
            added.push(("x-oss-signature".into(), details.signature.clone()));
            (details, additional)
        }
        SignatureVersion::V1 => {
            if let Some(token) = token {
                added.push(("security-token".into(), token.to_owned()));
            }
            let expires = expires_at.unix_seconds().to_string();
            added.push(("OSSAccessKeyId".into(), access_key_id.to_owned()));
            added.push(("Expires".into(), expires.clone()));
            let params = with_added(request, &added);
            let details = v1_details(request, &params, view, config, &expires, secret)?;
            added.push(("Signature".into(), details.signature.clone()));
            (details, Vec::new())
        }
    };

    let mut query = request.query().to_encoded_string();
    for (k, v) in &added {
        push_encoded_param(&mut query, k, Some(v));
    }
    let signed_headers = request
        .headers()
        .iter()
        .filter(|(name, _)| {
            v4::is_signed_by_default(name.as_str()) || additional.iter().any(|a| a == name.as_str())
        })
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let resource = request.resource();
    Ok(Presigned {
        added,
        query,
        signed_headers,
        expires_at,
        details,
        bucket: resource.bucket_name().map(str::to_owned),
        key: resource.key().map(str::to_owned),
    })
}

/// The V4 signature of `request` with these parameters, headers (as they will be sent)
/// and final additional-headers list: its canonical request, string to sign, signature
/// and derived key. Shared by header signing and presigning.
fn v4_details(
    request: &SignableRequest<'_>,
    params: &[(&str, Option<&str>)],
    view: HeaderView<'_>,
    additional: &[String],
    timestamp: &str,
    scope: &v4::Scope,
    secret: &[u8],
) -> Result<SignatureDetails, SignError> {
    let additional: Vec<&str> = additional.iter().map(String::as_str).collect();
    let canonical = v4::canonical_request_with(
        request.method().as_str(),
        request.resource(),
        params,
        view,
        &additional,
    )?;
    let string_to_sign = v4::string_to_sign(timestamp, scope, &canonical);
    let key = SigningKey::derive_from_secret(secret, scope);
    let signature = key.sign(&string_to_sign);
    Ok(SignatureDetails {
        version: SignatureVersion::V4,
        canonical_request: Some(canonical),
        string_to_sign,
        signature,
        signing_key: Some(key),
    })
}

/// The V1 signature of `request` with these parameters and headers, `date_line` in the
/// date slot. Shared by header signing and presigning.
fn v1_details(
    request: &SignableRequest<'_>,
    params: &[(&str, Option<&str>)],
    view: HeaderView<'_>,
    config: &SigningConfig,
    date_line: &str,
    secret: &[u8],
) -> Result<SignatureDetails, SignError> {
    let string_to_sign = v1::string_to_sign_with(
        request.method().as_str(),
        view,
        request.resource(),
        params,
        config.v1_subresources(),
        date_line,
    )?;
    let signature = v1::signature_with_secret(secret, &string_to_sign);
    Ok(SignatureDetails {
        version: SignatureVersion::V1,
        canonical_request: None,
        string_to_sign,
        signature,
        signing_key: None,
    })
}

/// The request's parameters followed by `added`.
fn with_added<'a>(
    request: &SignableRequest<'a>,
    added: &'a [(String, String)],
) -> Vec<(&'a str, Option<&'a str>)> {
    request
        .query()
        .iter()
        .chain(added.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))))
        .collect()
}

fn token_value(token: &str) -> Result<HeaderValue, SignError> {
    let mut v = HeaderValue::from_str(token).map_err(|_| SignError::InvalidSecurityToken {
        reason: "not a valid header value",
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// A header value built from text this crate produced (dates, `Authorization`); the
/// inputs in it were validated, so a failure means a bug, reported as an error anyway.
fn plain_value(text: &str) -> Result<HeaderValue, SignError> {
    HeaderValue::from_str(text).map_err(|_| SignError::InvalidAccessKeyId {
        reason: "not usable in a header",
    })
}

fn sensitive_value(text: &str) -> Result<HeaderValue, SignError> {
    let mut v = plain_value(text)?;
    v.set_sensitive(true);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    use crate::Query;

    fn time() -> SigningTime {
        SigningTime::from_unix_seconds(1_705_307_400).unwrap()
    }

    #[test]
    fn anonymous_signs_nothing_and_cannot_presign() {
        let h = HeaderMap::new();
        let req =
            SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
        let out = sign(
            &req,
            &SigningConfig::v1(),
            &Credentials::anonymous(),
            time(),
        )
        .unwrap();
        assert!(out.headers().is_empty() && out.details().is_none());
        let err = presign(
            &req,
            &SigningConfig::v1(),
            &Credentials::anonymous(),
            time(),
            Duration::from_secs(60),
        )
        .unwrap_err();
        assert!(matches!(err, SignError::AnonymousCredentials { .. }));
    }

    #[test]
    fn reserved_params_and_bad_buckets_are_refused() {
        let h = HeaderMap::new();
        let creds = Credentials::new("id", "s").unwrap();
        let q = Query::new().with("x-oss-signature", "old");
        let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), &q, &h);
        let config = SigningConfig::v4("r").unwrap();
        let err = presign(&req, &config, &creds, time(), Duration::from_secs(60)).unwrap_err();
        assert!(matches!(err, SignError::ReservedQueryParameter { .. }));
        // V1 does not reserve V4's names.
        assert!(
            presign(
                &req,
                &SigningConfig::v1(),
                &creds,
                time(),
                Duration::from_secs(60)
            )
            .is_ok()
        );
        for bucket in ["", "a/b"] {
            let req = SignableRequest::new(
                &Method::GET,
                Resource::object(bucket, "k"),
                Query::empty(),
                &h,
            );
            assert!(matches!(
                sign(&req, &config, &creds, time()),
                Err(SignError::InvalidBucket { .. })
            ));
        }
    }

    #[test]
    fn expiry_bounds() {
        let h = HeaderMap::new();
        let creds = Credentials::new("id", "s").unwrap();
        let req =
            SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
        for config in [SigningConfig::v1(), SigningConfig::v4("r").unwrap()] {
            let zero = presign(&req, &config, &creds, time(), Duration::from_millis(999));
            assert!(matches!(zero, Err(SignError::ExpiryOutOfRange { .. })));
        }
        let far = presign(
            &req,
            &SigningConfig::v1(),
            &creds,
            SigningTime::MAX,
            Duration::from_secs(1),
        );
        assert!(matches!(far, Err(SignError::TimeOutOfRange)));
    }

    #[test]
    fn secrets_hidden_from_debug() {
        let h = HeaderMap::new();
        let creds = Credentials::new("id", "s")
            .unwrap()
            .with_security_token("TOKEN")
            .unwrap();
        let req =
            SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
        for config in [SigningConfig::v1(), SigningConfig::v4("r").unwrap()] {
            let out = sign(&req, &config, &creds, time()).unwrap();
            let sig = out.details().unwrap().signature().to_owned();
            let text = format!("{out:?}");
            assert!(!text.contains(&sig) && !text.contains("TOKEN"), "{text}");
            let p = presign(&req, &config, &creds, time(), Duration::from_secs(60)).unwrap();
            let text = format!("{p:?}");
            assert!(
                !text.contains(p.details().signature()) && !text.contains("TOKEN"),
                "{text}"
            );
        }
    }
}
