//! V4 signing steps (`OSS4-HMAC-SHA256`, as the official SDKs compute them; their vectors are
//! in `fixtures/sign/`), public so a server (the emulator) can recompute a received request's
//! canonical request, string to sign and signature, and parse its `Authorization` header or
//! `x-oss-credential`.
//!
//! ```
//! use http::{HeaderMap, HeaderValue, Method};
//! use oss_sign::{Credentials, Query, Resource, SignableRequest, SigningTime, v4};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("x-oss-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
//! headers.insert("x-oss-date", HeaderValue::from_static("20240115T083000Z"));
//! let req = SignableRequest::new(&Method::GET, Resource::object("examplebucket", "example.txt"),
//!     Query::empty(), &headers);
//! let canonical = v4::canonical_request(&req, &[] as &[&str])?;
//! assert_eq!(canonical, "GET\n/examplebucket/example.txt\n\n\
//!     x-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20240115T083000Z\n\n\nUNSIGNED-PAYLOAD");
//!
//! let time = SigningTime::parse_v4_timestamp("20240115T083000Z")?;
//! let scope = v4::Scope::new(time, "cn-hangzhou", "oss")?;
//! let sts = v4::string_to_sign("20240115T083000Z", &scope, &canonical);
//! let creds = Credentials::new("LTAI5tExampleAccessKeyId", "ExampleSecretKey0123456789abcdefABCD")?;
//! let key = v4::SigningKey::derive(&creds, &scope)?;
//! assert_eq!(key.sign(&sts), "d0f9ad82b59fb40889faa15a1a96ede7e03065820474a296c7532873731831dd");
//! # Ok::<(), oss_sign::SignError>(())
//! ```

use std::fmt;

use http::HeaderMap;
use ring::{digest, hmac};
use zeroize::{Zeroize as _, Zeroizing};

use crate::encode::{Slash, lower_hex, push_uri_encoded};
use crate::headers::HeaderView;
use crate::{Credentials, Query, Resource, SignError, SignableRequest, SigningTime};

/// The V4 algorithm name, first word of the `Authorization` header and the string to sign.
///
/// ```
/// assert_eq!(oss_sign::v4::ALGORITHM, "OSS4-HMAC-SHA256");
/// ```
pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";
/// The payload hash OSS V4 uses: the body is not signed.
///
/// ```
/// assert_eq!(oss_sign::v4::UNSIGNED_PAYLOAD, "UNSIGNED-PAYLOAD");
/// ```
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The product in an ordinary OSS scope (`oss-cloudbox` for CloudBox).
///
/// ```
/// assert_eq!(oss_sign::SigningConfig::v1().product(), oss_sign::v4::DEFAULT_PRODUCT);
/// ```
pub const DEFAULT_PRODUCT: &str = "oss";
/// The scope's last element.
///
/// ```
/// assert_eq!(oss_sign::v4::SCOPE_TERMINATOR, "aliyun_v4_request");
/// ```
pub const SCOPE_TERMINATOR: &str = "aliyun_v4_request";
/// The longest expiry of a V4 presigned URL: seven days (604800 s allowed, 604801 not).
///
/// ```
/// assert_eq!(oss_sign::v4::MAX_PRESIGN_EXPIRY_SECS, 7 * 24 * 3600);
/// ```
pub const MAX_PRESIGN_EXPIRY_SECS: u64 = 604_800;

/// Header names V4 signs without being asked: every `x-oss-*`, `content-type` and
/// `content-md5`. Others (`range`, `host`, `if-match`...) are signed only as additional
/// headers. Expects a lowercase name.
///
/// ```
/// use oss_sign::v4::is_signed_by_default;
///
/// assert!(is_signed_by_default("x-oss-meta-a") && is_signed_by_default("content-md5"));
/// assert!(!is_signed_by_default("range"));
/// ```
pub fn is_signed_by_default(name: &str) -> bool {
    name.starts_with("x-oss-") || name == "content-type" || name == "content-md5"
}

/// The additional-headers list a signer uses (alibabacloud-oss-v2 and Go rules): the
/// requested names lowercased, minus those signed anyway, minus those missing or empty in
/// `headers`, deduplicated and sorted.
///
/// ```
/// use http::{HeaderMap, HeaderValue};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("range", HeaderValue::from_static("bytes=0-9"));
/// headers.insert("content-type", HeaderValue::from_static("text/plain"));
/// let list = oss_sign::v4::additional_headers(&["Range", "If-None-Match", "content-type", "range"], &headers);
/// assert_eq!(list, ["range"]);
/// ```
pub fn additional_headers(requested: &[impl AsRef<str>], headers: &HeaderMap) -> Vec<String> {
    additional_headers_in(requested, HeaderView::new(headers, &[]))
}

pub(crate) fn additional_headers_in(
    requested: &[impl AsRef<str>],
    headers: HeaderView<'_>,
) -> Vec<String> {
    let mut list: Vec<String> = requested
        .iter()
        .map(|n| n.as_ref().to_ascii_lowercase())
        .filter(|n| !is_signed_by_default(n) && headers.has_non_empty(n))
        .collect();
    list.sort_unstable();
    list.dedup();
    list
}

/// The canonical URI: the resource path `UriEncode`d with `/` kept
/// (`/examplebucket/%E6%96%87/a%20b`, `/examplebucket/`, `/`).
///
/// ```
/// use oss_sign::{Resource, v4};
///
/// assert_eq!(v4::canonical_uri(Resource::object("b", "a//文 b")), "/b/a//%E6%96%87%20b");
/// ```
pub fn canonical_uri(resource: Resource<'_>) -> String {
    let path = resource.path();
    let mut out = String::with_capacity(path.len() + 16);
    push_uri_encoded(&mut out, path.as_bytes(), Slash::Keep);
    out
}

/// The canonical query: every parameter, key and value `UriEncode`d (`/` -> `%2F`),
/// sorted by encoded key (then value), `k=v` or `k` when the value is empty, joined by `&`.
///
/// ```
/// use oss_sign::{Query, v4};
///
/// let q = Query::new().with("prefix", "a/b").with_flag("acl").with("max-keys", "");
/// assert_eq!(v4::canonical_query(&q), "acl&max-keys&prefix=a%2Fb");
/// ```
pub fn canonical_query(query: &Query) -> String {
    let params: Vec<(&str, Option<&str>)> = query.iter().collect();
    canonical_query_of(&params)
}

pub(crate) fn canonical_query_of(params: &[(&str, Option<&str>)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|&(k, v)| {
            let mut ek = String::with_capacity(k.len());
            push_uri_encoded(&mut ek, k.as_bytes(), Slash::Escape);
            let mut ev = String::new();
            push_uri_encoded(&mut ev, v.unwrap_or("").as_bytes(), Slash::Escape);
            (ek, ev)
        })
        .collect();
    encoded.sort_unstable();
    let mut out = String::new();
    for (k, v) in &encoded {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// The canonical request of a request as sent or received, with `additional_headers` as
/// the final list (for verification: exactly as the `Authorization` header or
/// `x-oss-additional-headers` gives it). Headers are read as they are: nothing is added or
/// overwritten; the payload hash is the `x-oss-content-sha256` header's value, or
/// `UNSIGNED-PAYLOAD` without one. The list is lowercased, sorted and deduplicated, as the
/// server does (oss2 sends it sorted on the first character only, and its signatures are
/// accepted); a listed header the request lacks gets no header line but stays in the list
/// (what oss2 signs).
///
/// # Errors
/// [`SignError::HeaderValueNotUtf8`] if a signed header's value is not UTF-8.
///
/// ```
/// use http::{HeaderMap, HeaderValue, Method};
/// use oss_sign::{Query, Resource, SignableRequest, v4};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("range", HeaderValue::from_static("bytes=0-9"));
/// let q = Query::new().with_flag("acl");
/// let req = SignableRequest::new(&Method::GET, Resource::bucket("b"), &q, &headers);
/// assert_eq!(v4::canonical_request(&req, &["range"])?,
///     "GET\n/b/\nacl\nrange:bytes=0-9\n\nrange\nUNSIGNED-PAYLOAD");
/// # Ok::<(), oss_sign::SignError>(())
/// ```
pub fn canonical_request(
    request: &SignableRequest<'_>,
    additional_headers: &[impl AsRef<str>],
) -> Result<String, SignError> {
    let params: Vec<(&str, Option<&str>)> = request.query().iter().collect();
    let mut additional: Vec<String> = additional_headers
        .iter()
        .map(|n| n.as_ref().to_ascii_lowercase())
        .collect();
    additional.sort_unstable();
    additional.dedup();
    let additional: Vec<&str> = additional.iter().map(String::as_str).collect();
    canonical_request_with(
        request.method().as_str(),
        request.resource(),
        &params,
        HeaderView::new(request.headers(), &[]),
        &additional,
    )
}

pub(crate) fn canonical_request_with(
    method: &str,
    resource: Resource<'_>,
    params: &[(&str, Option<&str>)],
    headers: HeaderView<'_>,
    additional: &[&str],
) -> Result<String, SignError> {
    let signed = headers.signed(|name| {
        is_signed_by_default(name) || additional.iter().any(|a| a.eq_ignore_ascii_case(name))
    })?;
    let payload = headers.get("x-oss-content-sha256")?;
    let uri = canonical_uri(resource);
    let query = canonical_query_of(params);

    let mut out = String::with_capacity(128 + uri.len() + query.len());
    out.push_str(method);
    out.push('\n');
    out.push_str(&uri);
    out.push('\n');
    out.push_str(&query);
    out.push('\n');
    for (name, value) in &signed {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in additional.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload.as_deref().unwrap_or(UNSIGNED_PAYLOAD));
    Ok(out)
}

/// `OSS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex SHA-256 of the canonical request>`.
/// `timestamp` is the `x-oss-date` text as sent.
///
/// ```
/// use oss_sign::{SigningTime, v4};
///
/// let t = SigningTime::from_unix_seconds(1_705_307_400)?;
/// let scope = v4::Scope::new(t, "cn-hangzhou", "oss")?;
/// let sts = v4::string_to_sign(&t.v4_timestamp(), &scope, "");
/// assert_eq!(sts, "OSS4-HMAC-SHA256\n20240115T083000Z\n20240115/cn-hangzhou/oss/aliyun_v4_request\n\
///     e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
/// # Ok::<(), oss_sign::SignError>(())
/// ```
pub fn string_to_sign(timestamp: &str, scope: &Scope, canonical_request: &str) -> String {
    let hash = digest::digest(&digest::SHA256, canonical_request.as_bytes());
    format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        lower_hex(hash.as_ref())
    )
}

/// A V4 credential scope: `<yyyymmdd>/<region>/<product>/aliyun_v4_request`.
///
/// ```
/// use oss_sign::{SigningTime, v4::Scope};
///
/// let scope = Scope::parse("20240115/cn-hangzhou/oss/aliyun_v4_request")?;
/// assert_eq!((scope.date(), scope.region(), scope.product()), ("20240115", "cn-hangzhou", "oss"));
/// assert_eq!(scope.to_string(), "20240115/cn-hangzhou/oss/aliyun_v4_request");
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    date: String,
    region: String,
    product: String,
}

impl Scope {
    /// The scope for signing at `time` in `region` for `product` (normally `"oss"`).
    ///
    /// # Errors
    /// [`SignError::MissingRegion`] for an empty region; [`SignError::InvalidScopePart`]
    /// for a region or product with characters other than letters, digits, `-`, `_`, `.`.
    ///
    /// ```
    /// use oss_sign::{SigningTime, v4::Scope};
    ///
    /// let t = SigningTime::from_unix_seconds(0)?;
    /// assert_eq!(Scope::new(t, "us-west-1", "oss")?.to_string(), "19700101/us-west-1/oss/aliyun_v4_request");
    /// assert!(Scope::new(t, "", "oss").is_err());
    /// assert!(Scope::new(t, "a/b", "oss").is_err());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn new(time: SigningTime, region: &str, product: &str) -> Result<Self, SignError> {
        validate_scope_part("region", region)?;
        validate_scope_part("product", product)?;
        Ok(Self {
            date: time.v4_date(),
            region: region.to_owned(),
            product: product.to_owned(),
        })
    }

    /// Parses a scope as received.
    ///
    /// # Errors
    /// [`SignError::MalformedAuth`] unless it is `<8 digits>/<region>/<product>/aliyun_v4_request`.
    ///
    /// ```
    /// assert!(oss_sign::v4::Scope::parse("20240115/cn-hangzhou/oss/aws4_request").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, SignError> {
        let malformed = |reason| SignError::MalformedAuth {
            part: "credential scope",
            reason,
        };
        let mut parts = text.split('/');
        let (Some(date), Some(region), Some(product), Some(term), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(malformed("it does not have four '/'-separated parts"));
        };
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed("its date is not eight digits"));
        }
        if term != SCOPE_TERMINATOR {
            return Err(malformed("it does not end in aliyun_v4_request"));
        }
        if validate_scope_part("region", region).is_err()
            || validate_scope_part("product", product).is_err()
        {
            return Err(malformed(
                "its region or product is empty or has invalid characters",
            ));
        }
        Ok(Self {
            date: date.to_owned(),
            region: region.to_owned(),
            product: product.to_owned(),
        })
    }

    /// The scope date, `yyyymmdd`.
    ///
    /// ```
    /// # let s = oss_sign::v4::Scope::parse("20240115/r/oss/aliyun_v4_request")?;
    /// assert_eq!(s.date(), "20240115");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn date(&self) -> &str {
        &self.date
    }

    /// The region (or CloudBox id).
    ///
    /// ```
    /// # let s = oss_sign::v4::Scope::parse("20240115/r/oss/aliyun_v4_request")?;
    /// assert_eq!(s.region(), "r");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The product, `oss` (or `oss-cloudbox`).
    ///
    /// ```
    /// # let s = oss_sign::v4::Scope::parse("20240115/r/oss/aliyun_v4_request")?;
    /// assert_eq!(s.product(), "oss");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn product(&self) -> &str {
        &self.product
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{SCOPE_TERMINATOR}",
            self.date, self.region, self.product
        )
    }
}

pub(crate) fn validate_scope_part(what: &'static str, value: &str) -> Result<(), SignError> {
    if value.is_empty() {
        return Err(if what == "region" {
            SignError::MissingRegion
        } else {
            SignError::InvalidScopePart {
                what,
                value: String::new(),
            }
        });
    }
    let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if !value.bytes().all(ok) {
        return Err(SignError::InvalidScopePart {
            what,
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// A V4 credential: `<access key id>/<scope>` (the `Credential=` field of `Authorization`,
/// the `x-oss-credential` query parameter).
///
/// ```
/// let c = oss_sign::v4::Credential::parse("LTAI5t/20240115/cn-hangzhou/oss/aliyun_v4_request")?;
/// assert_eq!(c.access_key_id(), "LTAI5t");
/// assert_eq!(c.scope().region(), "cn-hangzhou");
/// assert_eq!(c.to_string(), "LTAI5t/20240115/cn-hangzhou/oss/aliyun_v4_request");
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Credential {
    access_key_id: String,
    scope: Scope,
}

impl Credential {
    /// Parses `<access key id>/<scope>`.
    ///
    /// # Errors
    /// [`SignError::MalformedAuth`] if there is no id or the scope is malformed.
    ///
    /// ```
    /// assert!(oss_sign::v4::Credential::parse("/20240115/r/oss/aliyun_v4_request").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, SignError> {
        let (id, scope) = text.split_once('/').ok_or(SignError::MalformedAuth {
            part: "credential",
            reason: "it has no '/' between the access key id and the scope",
        })?;
        if id.is_empty() {
            return Err(SignError::MalformedAuth {
                part: "credential",
                reason: "the access key id is empty",
            });
        }
        Ok(Self {
            access_key_id: id.to_owned(),
            scope: Scope::parse(scope)?,
        })
    }

    /// The access key id that claims to have signed.
    ///
    /// ```
    /// # let c = oss_sign::v4::Credential::parse("ak/20240115/r/oss/aliyun_v4_request")?;
    /// assert_eq!(c.access_key_id(), "ak");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The scope.
    ///
    /// ```
    /// # let c = oss_sign::v4::Credential::parse("ak/20240115/r/oss/aliyun_v4_request")?;
    /// assert_eq!(c.scope().date(), "20240115");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.access_key_id, self.scope)
    }
}

/// A parsed V4 `Authorization` header:
/// `OSS4-HMAC-SHA256 Credential=<id>/<scope>[,AdditionalHeaders=<a;b>],Signature=<hex>`.
/// Fields may come in any order, separated by `,` with optional spaces (oss2 writes
/// `, ` and puts `AdditionalHeaders` last). `Debug` hides the signature.
///
/// ```
/// use oss_sign::v4::Authorization;
///
/// let a = Authorization::parse("OSS4-HMAC-SHA256 Credential=ak/20240115/cn-hangzhou/oss/aliyun_v4_request, \
///     Signature=0123abcd, AdditionalHeaders=host;range")?;
/// assert_eq!(a.credential().access_key_id(), "ak");
/// assert_eq!(a.additional_headers(), ["host", "range"]);
/// assert_eq!(a.signature(), "0123abcd");
/// assert_eq!(a.to_string(), "OSS4-HMAC-SHA256 Credential=ak/20240115/cn-hangzhou/oss/aliyun_v4_request,\
///     AdditionalHeaders=host;range,Signature=0123abcd");
/// assert!(!format!("{a:?}").contains("0123abcd"));
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    credential: Credential,
    additional_headers: Vec<String>,
    signature: String,
}

impl Authorization {
    /// Parses an `Authorization` header value.
    ///
    /// # Errors
    /// [`SignError::MalformedAuth`] for another scheme, a missing or repeated field, an
    /// unknown field, or a malformed credential.
    ///
    /// ```
    /// use oss_sign::v4::Authorization;
    ///
    /// assert!(Authorization::parse("OSS ak:sig").is_err());
    /// assert!(Authorization::parse("OSS4-HMAC-SHA256 Signature=00").is_err());
    /// ```
    pub fn parse(value: &str) -> Result<Self, SignError> {
        let malformed = |reason| SignError::MalformedAuth {
            part: "Authorization header",
            reason,
        };
        let rest = value
            .strip_prefix(ALGORITHM)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(malformed("it does not start with \"OSS4-HMAC-SHA256 \""))?;
        let (mut credential, mut additional, mut signature) = (None, None, None);
        for field in rest.split(',').map(str::trim) {
            let (name, val) = field
                .split_once('=')
                .ok_or(malformed("a field is not name=value"))?;
            let slot = match name {
                "Credential" => &mut credential,
                "AdditionalHeaders" => &mut additional,
                "Signature" => &mut signature,
                _ => return Err(malformed("it has an unknown field")),
            };
            if slot.replace(val).is_some() {
                return Err(malformed("a field appears twice"));
            }
        }
        let credential = Credential::parse(credential.ok_or(malformed("Credential is missing"))?)?;
        let signature = signature
            .filter(|s| !s.is_empty())
            .ok_or(malformed("Signature is missing"))?;
        Ok(Self {
            credential,
            additional_headers: split_header_list(additional.unwrap_or("")),
            signature: signature.to_owned(),
        })
    }

    /// The credential (access key id and scope).
    ///
    /// ```
    /// # let a = oss_sign::v4::Authorization::parse("OSS4-HMAC-SHA256 Credential=ak/20240115/r/oss/aliyun_v4_request,Signature=00")?;
    /// assert_eq!(a.credential().scope().region(), "r");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The additional headers the signer listed, in the order given.
    ///
    /// ```
    /// # let a = oss_sign::v4::Authorization::parse("OSS4-HMAC-SHA256 Credential=ak/20240115/r/oss/aliyun_v4_request,Signature=00")?;
    /// assert!(a.additional_headers().is_empty());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn additional_headers(&self) -> &[String] {
        &self.additional_headers
    }

    /// The claimed signature (lowercase hex when well formed).
    ///
    /// ```
    /// # let a = oss_sign::v4::Authorization::parse("OSS4-HMAC-SHA256 Credential=ak/20240115/r/oss/aliyun_v4_request,Signature=00")?;
    /// assert_eq!(a.signature(), "00");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn signature(&self) -> &str {
        &self.signature
    }
}

/// Splits a `;`-separated header-name list, dropping empty names.
pub(crate) fn split_header_list(list: &str) -> Vec<String> {
    list.split(';')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The `Authorization` value in alibabacloud-oss-v2's format (no spaces after commas).
impl fmt::Display for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{ALGORITHM} Credential={}", self.credential)?;
        if !self.additional_headers.is_empty() {
            write!(
                f,
                ",AdditionalHeaders={}",
                self.additional_headers.join(";")
            )?;
        }
        write!(f, ",Signature={}", self.signature)
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("credential", &self.credential)
            .field("additional_headers", &self.additional_headers)
            .field("signature", &"** redacted **")
            .finish()
    }
}

/// The derived V4 signing key for one scope:
/// `HMAC-SHA256` chained over `"aliyun_v4" + secret`, date, region, product and
/// `aliyun_v4_request`. Secret-equivalent for its day and region: `Debug` hides it and it
/// is zeroed on drop.
///
/// ```
/// use oss_sign::{Credentials, v4::{Scope, SigningKey}};
///
/// let creds = Credentials::new("LTAI5tExampleAccessKeyId", "ExampleSecretKey0123456789abcdefABCD")?;
/// let key = SigningKey::derive(&creds, &Scope::parse("20240115/cn-hangzhou/oss/aliyun_v4_request")?)?;
/// assert_eq!(key.to_hex(), "c01a0f4a691970476a14bd68cd0cb6273b1fc83468fd6a7085842ba22b2ce3a1");
/// assert!(!format!("{key:?}").contains("c01a0f4a"));
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone)]
pub struct SigningKey {
    bytes: [u8; 32],
}

impl SigningKey {
    /// Derives the key for `scope` from the credentials' secret.
    ///
    /// # Errors
    /// [`SignError::AnonymousCredentials`] for anonymous credentials.
    ///
    /// ```
    /// use oss_sign::{Credentials, v4::{Scope, SigningKey}};
    ///
    /// let scope = Scope::parse("20240115/cn-hangzhou/oss/aliyun_v4_request")?;
    /// assert!(SigningKey::derive(&Credentials::anonymous(), &scope).is_err());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn derive(credentials: &Credentials, scope: &Scope) -> Result<Self, SignError> {
        let (_, secret) = credentials.keys_for("V4 signing")?;
        Ok(Self::derive_from_secret(secret, scope))
    }

    pub(crate) fn derive_from_secret(secret: &[u8], scope: &Scope) -> Self {
        // "aliyun_v4" + secret is as secret as the secret: zeroed when dropped here.
        let mut first = Zeroizing::new(Vec::with_capacity(9 + secret.len()));
        first.extend_from_slice(b"aliyun_v4");
        first.extend_from_slice(secret);
        let mut tag = hmac_sha256(&first, scope.date.as_bytes());
        for part in [
            scope.region.as_bytes(),
            scope.product.as_bytes(),
            SCOPE_TERMINATOR.as_bytes(),
        ] {
            tag = hmac_sha256(&tag, part);
        }
        Self { bytes: tag }
    }

    /// The key's 32 bytes.
    ///
    /// ```
    /// # use oss_sign::{Credentials, v4::{Scope, SigningKey}};
    /// # let key = SigningKey::derive(&Credentials::new("id", "s")?, &Scope::parse("20240115/r/oss/aliyun_v4_request")?)?;
    /// assert_eq!(key.as_bytes().len(), 32);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The key in lowercase hex (what the vectors' `signing_key_hex` holds).
    ///
    /// ```
    /// # use oss_sign::{Credentials, v4::{Scope, SigningKey}};
    /// # let key = SigningKey::derive(&Credentials::new("id", "s")?, &Scope::parse("20240115/r/oss/aliyun_v4_request")?)?;
    /// assert_eq!(key.to_hex().len(), 64);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn to_hex(&self) -> String {
        lower_hex(&self.bytes)
    }

    /// The signature of `string_to_sign`: lowercase hex `HMAC-SHA256(key, string_to_sign)`.
    ///
    /// ```
    /// # use oss_sign::{Credentials, v4::{Scope, SigningKey}};
    /// # let key = SigningKey::derive(&Credentials::new("id", "s")?, &Scope::parse("20240115/r/oss/aliyun_v4_request")?)?;
    /// assert_eq!(key.sign("x"), key.sign("x"));
    /// assert_ne!(key.sign("x"), key.sign("y"));
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn sign(&self, string_to_sign: &str) -> String {
        lower_hex(&hmac_sha256(&self.bytes, string_to_sign.as_bytes()))
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(** redacted **)")
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_query_sorts_encoded_keys_bytewise() {
        let q = Query::new()
            .with("empty", "")
            .with("Upper", "1")
            .with("+plus", "2");
        assert_eq!(canonical_query(&q), "%2Bplus=2&Upper=1&empty");
    }

    #[test]
    fn authorization_rejects_junk() {
        for bad in [
            "",
            "OSS4-HMAC-SHA256",
            "OSS4-HMAC-SHA256 Credential=ak/20240115/r/oss/aliyun_v4_request",
            "OSS4-HMAC-SHA256 Credential=ak/20240115/r/oss/aliyun_v4_request,Signature=",
            "OSS4-HMAC-SHA256 Credential=ak/20240115/r/oss/aliyun_v4_request,Signature=1,Signature=2",
            "OSS4-HMAC-SHA256 Credential=ak/20240115/r/oss/aliyun_v4_request,Signature=1,Foo=2",
            "OSS4-HMAC-SHA256 Credential=ak/2024011/r/oss/aliyun_v4_request,Signature=1",
            "OSS4-HMAC-SHA256 Credential=ak/20240115/r/oss/aliyun_v4_request/x,Signature=1",
            "OSS4-HMAC-SHA256 Credential=ak,Signature=1",
        ] {
            assert!(Authorization::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn authorization_round_trips() {
        let text = "OSS4-HMAC-SHA256 Credential=ak/20240115/r/oss/aliyun_v4_request,AdditionalHeaders=host;range,Signature=ab";
        assert_eq!(Authorization::parse(text).unwrap().to_string(), text);
    }
}
