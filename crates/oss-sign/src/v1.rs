//! V1 signing steps (HMAC-SHA1, as the official SDKs compute them; their vectors are in
//! `fixtures/sign/`), public so a server (the emulator) can recompute a received request's
//! string to sign and signature.
//!
//! ```
//! use http::{HeaderMap, Method};
//! use oss_sign::{Credentials, Query, Resource, SignableRequest, v1};
//!
//! let headers = HeaderMap::new();
//! let req = SignableRequest::new(&Method::GET, Resource::object("examplebucket", "example.txt"),
//!     Query::empty(), &headers);
//! let sts = v1::string_to_sign(&req, "Mon, 15 Jan 2024 08:30:00 GMT")?;
//! assert_eq!(sts, "GET\n\n\nMon, 15 Jan 2024 08:30:00 GMT\n/examplebucket/example.txt");
//! let creds = Credentials::new("LTAI5tExampleAccessKeyId", "ExampleSecretKey0123456789abcdefABCD")?;
//! assert_eq!(v1::signature(&creds, &sts)?, "WE8E8XzUd2HR8cpvHJgnCuCExgM=");
//! # Ok::<(), oss_sign::SignError>(())
//! ```

use base64::Engine as _;
use ring::hmac;

use crate::headers::HeaderView;
use crate::{Credentials, Resource, SignError, SignableRequest};

/// The V1 `Authorization` scheme: `OSS <access key id>:<signature>`.
///
/// ```
/// assert!("OSS ak:c2ln".starts_with(oss_sign::v1::AUTHORIZATION_PREFIX));
/// ```
pub const AUTHORIZATION_PREFIX: &str = "OSS ";

/// Query keys signed as V1 sub-resources (oss2 2.19.1's list plus alibabacloud-oss-v2's
/// `cloudboxes`); every `x-oss-*` key is signed as well (as the Go SDK does), see
/// [`is_subresource`]. Sorted.
///
/// ```
/// assert!(oss_sign::v1::SUBRESOURCES.binary_search(&"uploadId").is_ok());
/// ```
pub const SUBRESOURCES: &[&str] = &[
    "accessPoint",
    "accessPointPolicy",
    "acl",
    "append",
    "asyncFetch",
    "bucketArchiveDirectRead",
    "bucketInfo",
    "callback",
    "callback-var",
    "cloudboxes",
    "cname",
    "comp",
    "continuation-token",
    "cors",
    "delete",
    "encryption",
    "endTime",
    "group",
    "httpsConfig",
    "inventory",
    "inventoryId",
    "lifecycle",
    "link",
    "live",
    "location",
    "logging",
    "metaQuery",
    "objectInfo",
    "objectMeta",
    "partNumber",
    "policy",
    "position",
    "publicAccessBlock",
    "qos",
    "qosInfo",
    "qosRequester",
    "redundancyTransition",
    "referer",
    "regionList",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "requestPayment",
    "requesterQosInfo",
    "resourceGroup",
    "resourcePool",
    "resourcePoolBuckets",
    "resourcePoolInfo",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "security-token",
    "sequential",
    "startTime",
    "stat",
    "status",
    "style",
    "styleName",
    "symlink",
    "tagging",
    "transferAcceleration",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "vod",
    "website",
    "worm",
    "wormExtend",
    "wormId",
];

/// Whether V1 signs the query key `key`: one of [`SUBRESOURCES`] or any `x-oss-*` key.
/// Case-sensitive, as OSS is.
///
/// ```
/// use oss_sign::v1::is_subresource;
///
/// assert!(is_subresource("versionId") && is_subresource("x-oss-process"));
/// assert!(!is_subresource("prefix") && !is_subresource("VersionId"));
/// ```
pub fn is_subresource(key: &str) -> bool {
    key.starts_with("x-oss-") || SUBRESOURCES.binary_search(&key).is_ok()
}

/// The canonicalized resource: the raw resource path, then `?` and the sub-resource
/// parameters sorted by key (then value), raw (not URL-encoded), `k=v` or `k` when the
/// value is empty, joined by `&`. Non-sub-resource parameters are left out.
///
/// ```
/// use oss_sign::{Query, Resource, v1};
///
/// let q = Query::new().with("versionId", "v").with("prefix", "p").with_flag("acl");
/// assert_eq!(v1::canonicalized_resource(Resource::bucket("b"), &q), "/b/?acl&versionId=v");
/// ```
pub fn canonicalized_resource(resource: Resource<'_>, query: &crate::Query) -> String {
    let params: Vec<(&str, Option<&str>)> = query.iter().collect();
    canonical_resource(resource, &params, &[])
}

/// The string to sign for a request as it is sent or was received, with `date` in the
/// date line: for header auth the `x-oss-date` header if present, else `Date`; for a
/// presigned URL the `Expires` number. Signs `Content-MD5`, `Content-Type`, every
/// `x-oss-*` header and [`canonicalized_resource`]; no `\n` between the header block and
/// the resource.
///
/// # Errors
/// [`SignError::HeaderValueNotUtf8`] if a signed header's value is not UTF-8.
///
/// ```
/// use http::{HeaderMap, HeaderValue, Method};
/// use oss_sign::{Query, Resource, SignableRequest, v1};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("content-type", HeaderValue::from_static("text/plain"));
/// headers.insert("x-oss-meta-Author", HeaderValue::from_static("alice"));
/// headers.insert("range", HeaderValue::from_static("bytes=0-1"));
/// let req = SignableRequest::new(&Method::PUT, Resource::object("b", "k"), Query::empty(), &headers);
/// assert_eq!(v1::string_to_sign(&req, "1705311000")?,
///     "PUT\n\ntext/plain\n1705311000\nx-oss-meta-author:alice\n/b/k");
/// # Ok::<(), oss_sign::SignError>(())
/// ```
pub fn string_to_sign(request: &SignableRequest<'_>, date: &str) -> Result<String, SignError> {
    let params: Vec<(&str, Option<&str>)> = request.query().iter().collect();
    string_to_sign_with(
        request.method().as_str(),
        HeaderView::new(request.headers(), &[]),
        request.resource(),
        &params,
        &[],
        date,
    )
}

/// `Base64(HMAC-SHA1(secret, string_to_sign))`.
///
/// # Errors
/// [`SignError::AnonymousCredentials`] for anonymous credentials.
///
/// ```
/// let creds = oss_sign::Credentials::new("id", "secret")?;
/// assert_eq!(oss_sign::v1::signature(&creds, "x")?.len(), 28);
/// # Ok::<(), oss_sign::SignError>(())
/// ```
pub fn signature(credentials: &Credentials, string_to_sign: &str) -> Result<String, SignError> {
    let (_, secret) = credentials.keys_for("V1 signing")?;
    Ok(signature_with_secret(secret, string_to_sign))
}

pub(crate) fn signature_with_secret(secret: &[u8], string_to_sign: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// The string to sign over any header view and parameter list, with caller-added
/// sub-resource keys.
pub(crate) fn string_to_sign_with(
    method: &str,
    headers: HeaderView<'_>,
    resource: Resource<'_>,
    params: &[(&str, Option<&str>)],
    extra_subresources: &[String],
    date: &str,
) -> Result<String, SignError> {
    let content_md5 = headers.get("content-md5")?;
    let content_type = headers.get("content-type")?;
    let oss_headers = headers.signed(|name| name.starts_with("x-oss-"))?;
    let resource = canonical_resource(resource, params, extra_subresources);

    let mut out = String::with_capacity(64 + resource.len());
    out.push_str(method);
    out.push('\n');
    out.push_str(content_md5.as_deref().unwrap_or(""));
    out.push('\n');
    out.push_str(content_type.as_deref().unwrap_or(""));
    out.push('\n');
    out.push_str(date);
    out.push('\n');
    for (name, value) in &oss_headers {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push_str(&resource);
    Ok(out)
}

fn canonical_resource(
    resource: Resource<'_>,
    params: &[(&str, Option<&str>)],
    extra_subresources: &[String],
) -> String {
    let mut out = resource.path();
    let mut signed: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| is_subresource(k) || extra_subresources.iter().any(|e| e == k))
        .map(|&(k, v)| (k, v.unwrap_or("")))
        .collect();
    if signed.is_empty() {
        return out;
    }
    signed.sort_unstable();
    for (i, (k, v)) in signed.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subresource_list_is_sorted_and_unique() {
        assert!(SUBRESOURCES.windows(2).all(|w| w[0] < w[1]));
        for k in SUBRESOURCES {
            assert!(is_subresource(k));
        }
    }

    #[test]
    fn service_and_extra_subresources() {
        let params = [("prefix", Some("p")), ("custom", Some("1"))];
        assert_eq!(canonical_resource(Resource::service(), &params, &[]), "/");
        assert_eq!(
            canonical_resource(Resource::service(), &params, &["custom".to_owned()]),
            "/?custom=1"
        );
    }
}
