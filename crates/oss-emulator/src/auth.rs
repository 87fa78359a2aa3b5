//! Request authentication: which credentials a request claims, whether its time is
//! acceptable, and (through [`crate::signature`]) whether its signature verifies.
//!
//! The order of the checks follows OSS: unknown AccessKeyId, then the STS token, then
//! expiry / clock skew, then the signature.

use std::time::{Duration, SystemTime};

use crate::clock::{iso8601, parse_v4_timestamp, unix_secs};
use crate::oss_error::{OssError, access_denied};
use crate::request::RequestParts;
use crate::signature::{self, SignedRequest};

/// An access key the emulator accepts (a RAM user's, or STS temporary credentials).
#[derive(Clone)]
pub struct Credentials {
    pub(crate) access_key_id: String,
    pub(crate) secret: String,
    pub(crate) security_token: Option<String>,
}

impl Credentials {
    /// Long-term credentials.
    pub fn new(access_key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            security_token: None,
        }
    }

    /// STS temporary credentials: requests must carry this security token.
    pub fn sts(
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            security_token: Some(token.into()),
        }
    }

    /// The AccessKeyId.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"<redacted>")
            .field("security_token", &self.security_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Who made a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    /// No signature at all.
    Anonymous,
    /// A verified access key.
    User(String),
}

/// How a request is signed, parsed from its Authorization header or query.
#[derive(Clone, Debug)]
pub(crate) enum Claim {
    /// `Authorization: OSS ak:signature`.
    V1Header { access_key_id: String, signature: String },
    /// `?OSSAccessKeyId=..&Expires=..&Signature=..`.
    V1Presign {
        access_key_id: String,
        expires: u64,
        signature: String,
    },
    /// `Authorization: OSS4-HMAC-SHA256 Credential=ak/scope,AdditionalHeaders=..,Signature=..`.
    V4Header {
        access_key_id: String,
        scope: Scope,
        additional_headers: Vec<String>,
        signature: String,
    },
    /// `?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=..`.
    V4Presign {
        access_key_id: String,
        scope: Scope,
        timestamp: String,
        expires: u64,
        additional_headers: Vec<String>,
        signature: String,
    },
}

/// The V4 credential scope `date/region/product/aliyun_v4_request`.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    pub(crate) date: String,
    pub(crate) region: String,
    pub(crate) product: String,
}

fn malformed(message: &str) -> OssError {
    OssError::new(400, "InvalidArgument", message).ec("0002-00000001")
}

fn parse_scope(credential: &str) -> Result<(String, Scope), OssError> {
    let mut parts = credential.split('/');
    let (Some(ak), Some(date), Some(region), Some(product), Some(term), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(malformed("Invalid credential in Authorization header."));
    };
    if term != "aliyun_v4_request" || ak.is_empty() {
        return Err(malformed("Invalid credential in Authorization header."));
    }
    Ok((
        ak.to_owned(),
        Scope {
            date: date.to_owned(),
            region: region.to_owned(),
            product: product.to_owned(),
        },
    ))
}

fn split_list(v: &str) -> Vec<String> {
    v.split(';')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Reads the signature claim of a request, if any.
pub(crate) fn parse_claim(req: &RequestParts, query: &[(String, String)]) -> Result<Option<Claim>, OssError> {
    let q = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if let Some(auth) = req.header("authorization") {
        if let Some(rest) = auth.strip_prefix("OSS4-HMAC-SHA256 ") {
            let mut credential = None;
            let mut additional = Vec::new();
            let mut signature = None;
            for item in rest.split(',') {
                let item = item.trim();
                if let Some(v) = item.strip_prefix("Credential=") {
                    credential = Some(v);
                } else if let Some(v) = item.strip_prefix("AdditionalHeaders=") {
                    additional = split_list(v);
                } else if let Some(v) = item.strip_prefix("Signature=") {
                    signature = Some(v);
                }
            }
            let (Some(credential), Some(signature)) = (credential, signature) else {
                return Err(malformed("Authorization header is malformed."));
            };
            let (access_key_id, scope) = parse_scope(credential)?;
            return Ok(Some(Claim::V4Header {
                access_key_id,
                scope,
                additional_headers: additional,
                signature: signature.to_owned(),
            }));
        }
        if let Some(rest) = auth.strip_prefix("OSS ") {
            let Some((ak, sig)) = rest.trim().rsplit_once(':') else {
                return Err(malformed("Authorization header is malformed."));
            };
            return Ok(Some(Claim::V1Header {
                access_key_id: ak.to_owned(),
                signature: sig.to_owned(),
            }));
        }
        return Err(malformed("Authorization header is invalid."));
    }
    if q("x-oss-signature-version").is_some() || q("x-oss-credential").is_some() {
        if q("x-oss-signature-version") != Some("OSS4-HMAC-SHA256") {
            return Err(malformed("Unsupported x-oss-signature-version."));
        }
        let (Some(credential), Some(timestamp), Some(expires), Some(signature)) = (
            q("x-oss-credential"),
            q("x-oss-date"),
            q("x-oss-expires"),
            q("x-oss-signature"),
        ) else {
            return Err(malformed("Presigned URL is missing a required x-oss-* parameter."));
        };
        let (access_key_id, scope) = parse_scope(credential)?;
        let expires = expires
            .parse()
            .map_err(|_| malformed("x-oss-expires must be a number of seconds."))?;
        return Ok(Some(Claim::V4Presign {
            access_key_id,
            scope,
            timestamp: timestamp.to_owned(),
            expires,
            additional_headers: q("x-oss-additional-headers").map(split_list).unwrap_or_default(),
            signature: signature.to_owned(),
        }));
    }
    if let Some(ak) = q("OSSAccessKeyId") {
        let (Some(expires), Some(signature)) = (q("Expires"), q("Signature")) else {
            return Err(malformed("Presigned URL needs Expires and Signature."));
        };
        let expires = expires
            .parse()
            .map_err(|_| malformed("Expires must be Unix seconds."))?;
        return Ok(Some(Claim::V1Presign {
            access_key_id: ak.to_owned(),
            expires,
            signature: signature.to_owned(),
        }));
    }
    Ok(None)
}

/// What the authenticator needs besides the request.
pub(crate) struct AuthContext<'a> {
    pub(crate) accounts: &'a [Credentials],
    pub(crate) now: SystemTime,
    pub(crate) max_skew: Duration,
    pub(crate) bucket: &'a str,
    pub(crate) key: Option<&'a str>,
}

fn invalid_access_key_id(ak: &str) -> OssError {
    OssError::new(
        403,
        "InvalidAccessKeyId",
        "The OSS Access Key Id you provided does not exist in our records.",
    )
    .field("OSSAccessKeyId", ak)
    .ec("0002-00000902")
}

fn too_skewed(request_time: SystemTime, now: SystemTime, max_skew: Duration) -> OssError {
    OssError::new(
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
    )
    .field("RequestTime", iso8601(request_time))
    .field("ServerTime", iso8601(now))
    .field("MaxAllowedSkewMilliseconds", max_skew.as_millis().to_string())
    .ec("0002-00000504")
}

fn expired(expires_at: SystemTime, now: SystemTime) -> OssError {
    access_denied("Request has expired.", "0002-00000069")
        .field("Expires", iso8601(expires_at))
        .field("ServerTime", iso8601(now))
}

fn skew_ok(t: SystemTime, now: SystemTime, max: Duration) -> bool {
    let diff = match t.duration_since(now) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    diff <= max
}

/// Authenticates a request: `Ok(Anonymous)` when it carries no signature.
pub(crate) fn authenticate(
    req: &RequestParts,
    query: &[(String, String)],
    ctx: &AuthContext<'_>,
) -> Result<Principal, OssError> {
    let Some(claim) = parse_claim(req, query)? else {
        return Ok(Principal::Anonymous);
    };
    let q = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let ak = match &claim {
        Claim::V1Header { access_key_id, .. }
        | Claim::V1Presign { access_key_id, .. }
        | Claim::V4Header { access_key_id, .. }
        | Claim::V4Presign { access_key_id, .. } => access_key_id.clone(),
    };
    let Some(account) = ctx.accounts.iter().find(|a| a.access_key_id == ak) else {
        return Err(invalid_access_key_id(&ak));
    };
    // STS: the token travels as a header (header auth) or in the query (presign).
    if let Some(token) = &account.security_token {
        let sent = match &claim {
            Claim::V1Header { .. } | Claim::V4Header { .. } => req.header("x-oss-security-token"),
            Claim::V1Presign { .. } => q("security-token"),
            Claim::V4Presign { .. } => q("x-oss-security-token"),
        };
        match sent {
            None => return Err(invalid_access_key_id(&ak)),
            // The code for a wrong token is not in the fact sheet (I): OSS documents
            // InvalidSecurityToken in its error-code list.
            Some(t) if t != token => {
                return Err(OssError::new(
                    403,
                    "InvalidSecurityToken",
                    "The security token you provided is invalid.",
                )
                .ec("0002-00000058"));
            }
            Some(_) => {}
        }
    }
    // Time.
    match &claim {
        Claim::V1Header { .. } => {
            let date = req.header("x-oss-date").or_else(|| req.header("date"));
            let Some(t) = date.and_then(|d| httpdate::parse_http_date(d).ok()) else {
                return Err(access_denied(
                    "OSS authentication requires a valid Date.",
                    "0002-00000017",
                ));
            };
            if !skew_ok(t, ctx.now, ctx.max_skew) {
                return Err(too_skewed(t, ctx.now, ctx.max_skew));
            }
        }
        Claim::V4Header { scope, .. } => {
            let Some(t) = req.header("x-oss-date").and_then(parse_v4_timestamp) else {
                return Err(access_denied(
                    "V4 authentication requires a valid x-oss-date header.",
                    "0002-00000017",
                ));
            };
            if !skew_ok(t, ctx.now, ctx.max_skew) {
                return Err(too_skewed(t, ctx.now, ctx.max_skew));
            }
            if req.header("x-oss-date").and_then(|d| d.get(..8)) != Some(scope.date.as_str()) {
                return Err(malformed("The date in the credential scope does not match x-oss-date."));
            }
        }
        Claim::V1Presign { expires, .. } => {
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs(*expires);
            if unix_secs(ctx.now) > *expires {
                return Err(expired(at, ctx.now));
            }
        }
        Claim::V4Presign {
            timestamp,
            expires,
            scope,
            ..
        } => {
            let Some(t) = parse_v4_timestamp(timestamp) else {
                return Err(malformed("x-oss-date must look like 20240115T083000Z."));
            };
            if timestamp.get(..8) != Some(scope.date.as_str()) {
                return Err(malformed("The date in the credential scope does not match x-oss-date."));
            }
            if *expires > 604_800 {
                return Err(malformed("x-oss-expires must not exceed 604800 seconds (7 days)."));
            }
            let at = t + Duration::from_secs(*expires);
            if ctx.now > at {
                return Err(expired(at, ctx.now));
            }
            // A URL signed in the future (beyond the skew allowance) is refused too (I).
            if t > ctx.now + ctx.max_skew {
                return Err(too_skewed(t, ctx.now, ctx.max_skew));
            }
        }
    }
    let signed = SignedRequest {
        req,
        query,
        bucket: ctx.bucket,
        key: ctx.key,
    };
    signature::verify(&claim, &signed, &account.secret)?;
    Ok(Principal::User(ak))
}
