//! Verification entry points for servers (the emulator): what authentication a received
//! request carries, and the signature it should carry, computed from the request exactly
//! as received (no header is added or overwritten).
//!
//! ```
//! use http::{HeaderMap, Method};
//! use oss_sign::{Credentials, Query, Resource, SignableRequest, SigningConfig, SigningTime, sign};
//! use oss_sign::verify::{AuthMethod, ReceivedAuth};
//!
//! // A client signs...
//! let creds = Credentials::new("ak", "secret")?;
//! let mut headers = HeaderMap::new();
//! let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &headers);
//! sign(&req, &SigningConfig::v4("cn-hangzhou")?, &creds, SigningTime::from_unix_seconds(1_705_307_400)?)?
//!     .apply_to(&mut headers);
//!
//! // ...the server verifies what it received.
//! let received = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &headers);
//! let auth = ReceivedAuth::from_request(&received)?;
//! assert_eq!(auth.method(), AuthMethod::V4Header);
//! assert_eq!(auth.access_key_id(), Some("ak"));
//! let expected = auth.expected(&received, &creds)?;
//! assert!(expected.matches(auth.signature().unwrap_or("")));
//! # Ok::<(), oss_sign::SignError>(())
//! ```

use std::fmt;

use crate::headers::HeaderView;
use crate::v4::{self, SigningKey};
use crate::{Credentials, Query, SignError, SignableRequest, SignatureVersion, SigningTime, v1};

/// How a received request authenticates.
///
/// ```
/// use oss_sign::{SignatureVersion, verify::AuthMethod};
///
/// assert_eq!(AuthMethod::V1Query.version(), Some(SignatureVersion::V1));
/// assert!(AuthMethod::V4Query.is_presigned());
/// assert_eq!(AuthMethod::Anonymous.version(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// No `Authorization` header and no signature parameters.
    Anonymous,
    /// `Authorization: OSS <id>:<signature>`.
    V1Header,
    /// `OSSAccessKeyId`, `Expires`, `Signature` query parameters.
    V1Query,
    /// `Authorization: OSS4-HMAC-SHA256 ...` with an `x-oss-date` header.
    V4Header,
    /// `x-oss-signature-version`, `x-oss-credential`, `x-oss-date`, `x-oss-expires`,
    /// `x-oss-signature` query parameters.
    V4Query,
}

impl AuthMethod {
    /// The signature version, `None` for anonymous requests.
    ///
    /// ```
    /// assert_eq!(oss_sign::verify::AuthMethod::V4Header.version(), Some(oss_sign::SignatureVersion::V4));
    /// ```
    pub fn version(self) -> Option<SignatureVersion> {
        match self {
            Self::Anonymous => None,
            Self::V1Header | Self::V1Query => Some(SignatureVersion::V1),
            Self::V4Header | Self::V4Query => Some(SignatureVersion::V4),
        }
    }

    /// Whether the authentication is in the query (a presigned URL).
    ///
    /// ```
    /// assert!(!oss_sign::verify::AuthMethod::V1Header.is_presigned());
    /// ```
    pub fn is_presigned(self) -> bool {
        matches!(self, Self::V1Query | Self::V4Query)
    }
}

/// The authentication a received request carries, parsed but not yet checked.
///
/// A server looks up the secret for [`access_key_id`](Self::access_key_id), computes
/// [`expected`](Self::expected), compares it with [`signature`](Self::signature), and
/// applies its own time policy with [`signed_at`](Self::signed_at) (clock skew) and
/// [`expires_at`](Self::expires_at) (presigned URLs). `Debug` hides the signature and token.
///
/// ```
/// use http::{HeaderMap, HeaderValue, Method};
/// use oss_sign::{Query, Resource, SignableRequest, verify::{AuthMethod, ReceivedAuth}};
///
/// let mut h = HeaderMap::new();
/// h.insert("authorization", HeaderValue::from_static("OSS ak:c2lnbmF0dXJl"));
/// h.insert("date", HeaderValue::from_static("Mon, 15 Jan 2024 08:30:00 GMT"));
/// let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
/// let auth = ReceivedAuth::from_request(&req)?;
/// assert_eq!(auth.method(), AuthMethod::V1Header);
/// assert_eq!(auth.signed_at().map(|t| t.unix_seconds()), Some(1_705_307_400));
/// assert!(!format!("{auth:?}").contains("c2lnbmF0dXJl"));
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone)]
pub struct ReceivedAuth {
    method: AuthMethod,
    access_key_id: Option<String>,
    signature: Option<String>,
    security_token: Option<String>,
    /// V1: the date line (x-oss-date / Date text, or Expires); V4: the x-oss-date text.
    date_text: String,
    signed_at: Option<SigningTime>,
    expires_at: Option<SigningTime>,
    scope: Option<v4::Scope>,
    additional_headers: Vec<String>,
}

impl ReceivedAuth {
    /// Finds and parses the request's authentication: an `Authorization` header (V1 or
    /// V4), V4 presign parameters, V1 presign parameters, or none (anonymous).
    ///
    /// # Errors
    /// [`SignError::MalformedAuth`] for an unknown or malformed scheme, a request carrying
    /// both header and query authentication, or unparsable dates and expiries;
    /// [`SignError::MissingAuthParameter`] when a required header or parameter is absent.
    ///
    /// ```
    /// use http::{HeaderMap, Method};
    /// use oss_sign::{Query, Resource, SignableRequest, verify::{AuthMethod, ReceivedAuth}};
    ///
    /// let h = HeaderMap::new();
    /// let q = Query::parse("OSSAccessKeyId=ak&Expires=1705311000&Signature=abc%3D")?;
    /// let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), &q, &h);
    /// let auth = ReceivedAuth::from_request(&req)?;
    /// assert_eq!(auth.method(), AuthMethod::V1Query);
    /// assert_eq!(auth.expires_at().map(|t| t.unix_seconds()), Some(1_705_311_000));
    ///
    /// let none = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
    /// assert_eq!(ReceivedAuth::from_request(&none)?.method(), AuthMethod::Anonymous);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn from_request(request: &SignableRequest<'_>) -> Result<Self, SignError> {
        let headers = HeaderView::new(request.headers(), &[]);
        let query = request.query();
        let authorization = headers
            .get("authorization")
            .map_err(|_| SignError::MalformedAuth {
                part: "Authorization header",
                reason: "it is not UTF-8",
            })?;
        let v4_query = [
            "x-oss-signature-version",
            "x-oss-credential",
            "x-oss-signature",
        ]
        .iter()
        .any(|k| query.contains(k));
        let v1_query = ["OSSAccessKeyId", "Signature"]
            .iter()
            .any(|k| query.contains(k));
        if usize::from(authorization.is_some()) + usize::from(v4_query) + usize::from(v1_query) > 1
        {
            return Err(SignError::MalformedAuth {
                part: "request",
                reason: "it carries more than one kind of authentication",
            });
        }
        let header_token = headers.get("x-oss-security-token")?.map(|t| t.into_owned());

        if let Some(value) = authorization {
            if value.starts_with(v1::AUTHORIZATION_PREFIX) {
                return Self::v1_header(&value, headers, header_token);
            }
            return Self::v4_header(&value, headers, header_token);
        }
        if v4_query {
            return Self::v4_query(request);
        }
        if v1_query {
            return Self::v1_query(request);
        }
        Ok(Self {
            method: AuthMethod::Anonymous,
            access_key_id: None,
            signature: None,
            security_token: None,
            date_text: String::new(),
            signed_at: None,
            expires_at: None,
            scope: None,
            additional_headers: Vec::new(),
        })
    }

    fn v1_header(
        value: &str,
        headers: HeaderView<'_>,
        security_token: Option<String>,
    ) -> Result<Self, SignError> {
        let malformed = |reason| SignError::MalformedAuth {
            part: "Authorization header",
            reason,
        };
        let (id, signature) = value
            .strip_prefix(v1::AUTHORIZATION_PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .ok_or(malformed("it is not \"OSS <id>:<signature>\""))?;
        if id.is_empty() || signature.is_empty() {
            return Err(malformed("its access key id or signature is empty"));
        }
        let date_text = match headers.get("x-oss-date")? {
            Some(d) => d.into_owned(),
            None => headers
                .get("date")?
                .ok_or(SignError::MissingAuthParameter {
                    name: "Date (or x-oss-date) header",
                })?
                .into_owned(),
        };
        let signed_at = Some(SigningTime::parse_rfc1123(&date_text)?);
        Ok(Self {
            method: AuthMethod::V1Header,
            access_key_id: Some(id.to_owned()),
            signature: Some(signature.to_owned()),
            security_token,
            date_text,
            signed_at,
            expires_at: None,
            scope: None,
            additional_headers: Vec::new(),
        })
    }

    fn v4_header(
        value: &str,
        headers: HeaderView<'_>,
        security_token: Option<String>,
    ) -> Result<Self, SignError> {
        let authorization = v4::Authorization::parse(value)?;
        let date_text = headers
            .get("x-oss-date")?
            .ok_or(SignError::MissingAuthParameter {
                name: "x-oss-date header",
            })?
            .into_owned();
        let signed_at = Some(SigningTime::parse_v4_timestamp(&date_text)?);
        Ok(Self {
            method: AuthMethod::V4Header,
            access_key_id: Some(authorization.credential().access_key_id().to_owned()),
            signature: Some(authorization.signature().to_owned()),
            security_token,
            date_text,
            signed_at,
            expires_at: None,
            scope: Some(authorization.credential().scope().clone()),
            additional_headers: authorization.additional_headers().to_vec(),
        })
    }

    fn v4_query(request: &SignableRequest<'_>) -> Result<Self, SignError> {
        let query = request.query();
        let param = |name: &'static str| required_param(query, name);
        if param("x-oss-signature-version")? != v4::ALGORITHM {
            return Err(SignError::MalformedAuth {
                part: "x-oss-signature-version",
                reason: "it is not OSS4-HMAC-SHA256",
            });
        }
        let credential = v4::Credential::parse(param("x-oss-credential")?)?;
        let date_text = param("x-oss-date")?.to_owned();
        let signed_at = SigningTime::parse_v4_timestamp(&date_text)?;
        let expires: u64 =
            param("x-oss-expires")?
                .parse()
                .map_err(|_| SignError::MalformedAuth {
                    part: "x-oss-expires",
                    reason: "it is not a whole number of seconds",
                })?;
        let signature = param("x-oss-signature")?.to_owned();
        Ok(Self {
            method: AuthMethod::V4Query,
            access_key_id: Some(credential.access_key_id().to_owned()),
            signature: Some(signature),
            security_token: query
                .get("x-oss-security-token")
                .flatten()
                .map(str::to_owned),
            date_text,
            signed_at: Some(signed_at),
            expires_at: Some(signed_at.checked_add_seconds(expires)?),
            scope: Some(credential.scope().clone()),
            additional_headers: v4::split_header_list(
                query
                    .get("x-oss-additional-headers")
                    .flatten()
                    .unwrap_or(""),
            ),
        })
    }

    fn v1_query(request: &SignableRequest<'_>) -> Result<Self, SignError> {
        let query = request.query();
        let param = |name: &'static str| required_param(query, name);
        let id = param("OSSAccessKeyId")?.to_owned();
        let date_text = param("Expires")?.to_owned();
        let expires: u64 = date_text.parse().map_err(|_| SignError::MalformedAuth {
            part: "Expires",
            reason: "it is not a Unix time in seconds",
        })?;
        let signature = param("Signature")?.to_owned();
        Ok(Self {
            method: AuthMethod::V1Query,
            access_key_id: Some(id),
            signature: Some(signature),
            security_token: query.get("security-token").flatten().map(str::to_owned),
            date_text,
            signed_at: None,
            expires_at: Some(SigningTime::from_unix_seconds(expires)?),
            scope: None,
            additional_headers: Vec::new(),
        })
    }

    /// How the request authenticates.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest, verify::*};
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// assert_eq!(ReceivedAuth::from_request(&req)?.method(), AuthMethod::Anonymous);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn method(&self) -> AuthMethod {
        self.method
    }

    /// The access key id that claims to have signed (`None` when anonymous).
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest, verify::*};
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// assert_eq!(ReceivedAuth::from_request(&req)?.access_key_id(), None);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn access_key_id(&self) -> Option<&str> {
        self.access_key_id.as_deref()
    }

    /// The claimed signature, decoded from the query if it came there.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest, verify::*};
    /// # let h = HeaderMap::new();
    /// let q = Query::parse("OSSAccessKeyId=ak&Expires=1&Signature=a%2Bb%3D")?;
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), &q, &h);
    /// assert_eq!(ReceivedAuth::from_request(&req)?.signature(), Some("a+b="));
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn signature(&self) -> Option<&str> {
        self.signature.as_deref()
    }

    /// The STS token the request carries (`x-oss-security-token` header, or the
    /// `security-token` / `x-oss-security-token` query parameter).
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest, verify::*};
    /// # let h = HeaderMap::new();
    /// let q = Query::parse("OSSAccessKeyId=ak&Expires=1&Signature=s&security-token=tok")?;
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), &q, &h);
    /// assert_eq!(ReceivedAuth::from_request(&req)?.security_token(), Some("tok"));
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// When the request says it was signed: V1 header auth's date line (`x-oss-date` or
    /// `Date`), V4's `x-oss-date`. `None` for V1 presigned URLs (they carry only an
    /// expiry) and anonymous requests.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest, verify::*};
    /// # let h = HeaderMap::new();
    /// let q = Query::parse("OSSAccessKeyId=ak&Expires=1&Signature=s")?;
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), &q, &h);
    /// assert_eq!(ReceivedAuth::from_request(&req)?.signed_at(), None);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn signed_at(&self) -> Option<SigningTime> {
        self.signed_at
    }

    /// When a presigned URL expires (V1 `Expires`; V4 `x-oss-date` + `x-oss-expires`).
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest, verify::*};
    /// # let h = HeaderMap::new();
    /// let q = Query::parse("x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=20240115T083000Z\
    ///     &x-oss-expires=60&x-oss-credential=ak%2F20240115%2Fr%2Foss%2Faliyun_v4_request&x-oss-signature=00")?;
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), &q, &h);
    /// let auth = ReceivedAuth::from_request(&req)?;
    /// assert_eq!(auth.expires_at().unwrap().iso8601(), "2024-01-15T08:31:00Z");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn expires_at(&self) -> Option<SigningTime> {
        self.expires_at
    }

    /// The V4 credential scope (date, region, product) the signer claims.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest, verify::*};
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// assert!(ReceivedAuth::from_request(&req)?.scope().is_none());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn scope(&self) -> Option<&v4::Scope> {
        self.scope.as_ref()
    }

    /// The V4 additional headers the signer listed.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest, verify::*};
    /// # let h = HeaderMap::new();
    /// # let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// assert!(ReceivedAuth::from_request(&req)?.additional_headers().is_empty());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn additional_headers(&self) -> &[String] {
        &self.additional_headers
    }

    /// The signature the request should carry if it was signed with `credentials`,
    /// computed from `request` exactly as received, with the intermediate strings a
    /// `SignatureDoesNotMatch` answer reports. The V4 scope (region, product, date) is the
    /// one the request claims; check it against your own region separately.
    ///
    /// # Errors
    /// [`SignError::MissingAuthParameter`] for an anonymous request,
    /// [`SignError::AnonymousCredentials`] for anonymous `credentials`,
    /// [`SignError::HeaderValueNotUtf8`] for a signed header that is not UTF-8.
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Method};
    /// use oss_sign::{Credentials, Query, Resource, SignableRequest, verify::ReceivedAuth};
    ///
    /// let mut h = HeaderMap::new();
    /// h.insert("date", HeaderValue::from_static("Mon, 15 Jan 2024 08:30:00 GMT"));
    /// h.insert("authorization", HeaderValue::from_static("OSS LTAI5tExampleAccessKeyId:WE8E8XzUd2HR8cpvHJgnCuCExgM="));
    /// let req = SignableRequest::new(&Method::GET, Resource::object("examplebucket", "example.txt"), Query::empty(), &h);
    /// let auth = ReceivedAuth::from_request(&req)?;
    /// let creds = Credentials::new("LTAI5tExampleAccessKeyId", "ExampleSecretKey0123456789abcdefABCD")?;
    /// let expected = auth.expected(&req, &creds)?;
    /// assert!(expected.matches(auth.signature().unwrap()));
    /// assert_eq!(expected.string_to_sign(), "GET\n\n\nMon, 15 Jan 2024 08:30:00 GMT\n/examplebucket/example.txt");
    ///
    /// let wrong = Credentials::new("LTAI5tExampleAccessKeyId", "other")?;
    /// assert!(!auth.expected(&req, &wrong)?.matches(auth.signature().unwrap()));
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn expected(
        &self,
        request: &SignableRequest<'_>,
        credentials: &Credentials,
    ) -> Result<ExpectedSignature, SignError> {
        let (_, secret) = credentials.keys_for("verifying a signature")?;
        match self.method {
            AuthMethod::Anonymous => Err(SignError::MissingAuthParameter {
                name: "Authorization header or signature query parameters",
            }),
            AuthMethod::V1Header | AuthMethod::V1Query => {
                let string_to_sign = v1::string_to_sign(request, &self.date_text)?;
                let signature = v1::signature_with_secret(secret, &string_to_sign);
                Ok(ExpectedSignature {
                    canonical_request: None,
                    string_to_sign,
                    signature,
                })
            }
            AuthMethod::V4Header | AuthMethod::V4Query => {
                let scope = self.scope.as_ref().ok_or(SignError::MissingAuthParameter {
                    name: "V4 credential scope",
                })?;
                let without_signature;
                let request = if self.method == AuthMethod::V4Query {
                    without_signature = request.query().without("x-oss-signature");
                    SignableRequest::new(
                        request.method(),
                        request.resource(),
                        &without_signature,
                        request.headers(),
                    )
                } else {
                    *request
                };
                let canonical = v4::canonical_request(&request, &self.additional_headers)?;
                let string_to_sign = v4::string_to_sign(&self.date_text, scope, &canonical);
                let signature = SigningKey::derive_from_secret(secret, scope).sign(&string_to_sign);
                Ok(ExpectedSignature {
                    canonical_request: Some(canonical),
                    string_to_sign,
                    signature,
                })
            }
        }
    }
}

/// A presign query parameter that must be present with a non-empty value.
fn required_param<'q>(query: &'q Query, name: &'static str) -> Result<&'q str, SignError> {
    query
        .get(name)
        .flatten()
        .filter(|v| !v.is_empty())
        .ok_or(SignError::MissingAuthParameter { name })
}

impl fmt::Debug for ReceivedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedAuth")
            .field("method", &self.method)
            .field("access_key_id", &self.access_key_id)
            .field(
                "signature",
                &self.signature.as_ref().map(|_| "** redacted **"),
            )
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "** redacted **"),
            )
            .field("signed_at", &self.signed_at)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("additional_headers", &self.additional_headers)
            .finish()
    }
}

/// The signature a received request should carry, with the strings it was computed from
/// (what OSS returns as `StringToSign` / `CanonicalRequest` in a `SignatureDoesNotMatch`
/// error). `Debug` shows none of them.
///
/// ```
/// # use http::{HeaderMap, HeaderValue, Method};
/// # use oss_sign::{Credentials, Query, Resource, SignableRequest, verify::ReceivedAuth};
/// # let mut h = HeaderMap::new();
/// # h.insert("date", HeaderValue::from_static("Mon, 15 Jan 2024 08:30:00 GMT"));
/// # h.insert("authorization", HeaderValue::from_static("OSS ak:bad"));
/// # let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
/// let auth = ReceivedAuth::from_request(&req)?;
/// let expected = auth.expected(&req, &Credentials::new("ak", "secret")?)?;
/// assert!(!expected.matches("bad"));
/// assert_eq!(expected.canonical_request(), None); // V1 has none
/// assert!(!format!("{expected:?}").contains(expected.signature()));
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone)]
pub struct ExpectedSignature {
    canonical_request: Option<String>,
    string_to_sign: String,
    signature: String,
}

impl ExpectedSignature {
    /// Whether `claimed` equals the expected signature (compared in constant time).
    ///
    /// ```
    /// # use http::{HeaderMap, HeaderValue, Method};
    /// # use oss_sign::{Credentials, Query, Resource, SignableRequest, verify::ReceivedAuth};
    /// # let mut h = HeaderMap::new();
    /// # h.insert("date", HeaderValue::from_static("Mon, 15 Jan 2024 08:30:00 GMT"));
    /// # h.insert("authorization", HeaderValue::from_static("OSS ak:bad"));
    /// # let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
    /// let expected = ReceivedAuth::from_request(&req)?.expected(&req, &Credentials::new("ak", "s")?)?;
    /// assert!(expected.matches(&expected.signature().to_owned()));
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn matches(&self, claimed: &str) -> bool {
        let (a, b) = (self.signature.as_bytes(), claimed.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The V4 canonical request (`None` for V1).
    ///
    /// ```
    /// # use http::{HeaderMap, HeaderValue, Method};
    /// # use oss_sign::{Credentials, Query, Resource, SignableRequest, verify::ReceivedAuth};
    /// # let mut h = HeaderMap::new();
    /// # h.insert("date", HeaderValue::from_static("Mon, 15 Jan 2024 08:30:00 GMT"));
    /// # h.insert("authorization", HeaderValue::from_static("OSS ak:bad"));
    /// # let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
    /// let expected = ReceivedAuth::from_request(&req)?.expected(&req, &Credentials::new("ak", "s")?)?;
    /// assert!(expected.canonical_request().is_none());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn canonical_request(&self) -> Option<&str> {
        self.canonical_request.as_deref()
    }

    /// The string to sign (OSS's `StringToSign`).
    ///
    /// ```
    /// # use http::{HeaderMap, HeaderValue, Method};
    /// # use oss_sign::{Credentials, Query, Resource, SignableRequest, verify::ReceivedAuth};
    /// # let mut h = HeaderMap::new();
    /// # h.insert("date", HeaderValue::from_static("Mon, 15 Jan 2024 08:30:00 GMT"));
    /// # h.insert("authorization", HeaderValue::from_static("OSS ak:bad"));
    /// # let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
    /// let expected = ReceivedAuth::from_request(&req)?.expected(&req, &Credentials::new("ak", "s")?)?;
    /// assert!(expected.string_to_sign().ends_with("\n/b/k"));
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn string_to_sign(&self) -> &str {
        &self.string_to_sign
    }

    /// The expected signature (Base64 for V1, lowercase hex for V4).
    ///
    /// ```
    /// # use http::{HeaderMap, HeaderValue, Method};
    /// # use oss_sign::{Credentials, Query, Resource, SignableRequest, verify::ReceivedAuth};
    /// # let mut h = HeaderMap::new();
    /// # h.insert("date", HeaderValue::from_static("Mon, 15 Jan 2024 08:30:00 GMT"));
    /// # h.insert("authorization", HeaderValue::from_static("OSS ak:bad"));
    /// # let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &h);
    /// let expected = ReceivedAuth::from_request(&req)?.expected(&req, &Credentials::new("ak", "s")?)?;
    /// assert_eq!(expected.signature().len(), 28);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn signature(&self) -> &str {
        &self.signature
    }
}

impl fmt::Debug for ExpectedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExpectedSignature(** redacted **)")
    }
}
