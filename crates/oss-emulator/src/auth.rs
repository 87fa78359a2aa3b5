//! Request authentication over `oss-sign`'s verification API: which credentials a request
//! claims, whether its time is acceptable, and whether its signature verifies.
//!
//! The order of the checks follows OSS: the V4 scope's region and product (when the
//! emulator has a region), unknown AccessKeyId, then the STS token, then expiry / clock
//! skew, then the signature. On a mismatch we return OSS's
//! `SignatureDoesNotMatch` with the string to sign we computed, so a client can compare.

use std::time::{Duration, SystemTime};

use oss_sign::verify::{AuthMethod, ExpectedSignature, ReceivedAuth};
use oss_sign::{Query, Resource, SignError, SignableRequest};

use crate::clock::iso8601;
use crate::oss_error::{OssError, access_denied};
use crate::request::RequestParts;

/// An access key the emulator accepts (a RAM user's, or STS temporary credentials).
#[derive(Clone)]
pub struct Credentials {
    pub(crate) access_key_id: String,
    pub(crate) secret: String,
    pub(crate) security_token: Option<String>,
    /// When temporary credentials stop working (`None`: never).
    pub(crate) expires_at: Option<SystemTime>,
}

impl Credentials {
    /// Long-term credentials.
    pub fn new(access_key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            security_token: None,
            expires_at: None,
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
            expires_at: None,
        }
    }

    /// Makes these credentials stop working at `at`: requests signed with them after it are
    /// refused with `403 SecurityTokenExpired` (what OSS answers for an expired STS token).
    pub fn expiring_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// When these credentials expire, if they do.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The AccessKeyId.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    fn for_verifying(&self) -> Result<oss_sign::Credentials, SignError> {
        oss_sign::Credentials::new(self.access_key_id.clone(), self.secret.clone())
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
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

/// What the authenticator needs besides the request.
pub(crate) struct AuthContext<'a> {
    pub(crate) accounts: &'a [Credentials],
    pub(crate) now: SystemTime,
    pub(crate) max_skew: Duration,
    /// The region V4 scopes must name (`None`: any).
    pub(crate) region: Option<&'a str>,
    pub(crate) bucket: &'a str,
    pub(crate) key: Option<&'a str>,
}

fn malformed(message: String) -> OssError {
    OssError::new(400, "InvalidArgument", &message).ec("0002-00000001")
}

/// Maps a parse failure of the request's authentication to OSS's answer.
fn auth_parse_error(e: &SignError) -> OssError {
    match e {
        // OSS: a V1 header-signed request without a usable Date is refused with 403.
        SignError::MissingAuthParameter { name }
            if name.contains("Date") || name.contains("x-oss-date") =>
        {
            access_denied(
                &format!("OSS authentication requires a valid {name}."),
                "0002-00000017",
            )
        }
        SignError::MalformedTime { .. } => {
            access_denied(&format!("Invalid date: {e}."), "0002-00000017")
        }
        other => malformed(format!("Authentication information is invalid: {other}.")),
    }
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
    .field(
        "MaxAllowedSkewMilliseconds",
        max_skew.as_millis().to_string(),
    )
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

/// `SignatureDoesNotMatch` with OSS's extra fields.
fn mismatch(
    method: AuthMethod,
    ak: &str,
    provided: &str,
    expected: &ExpectedSignature,
) -> OssError {
    let hex_bytes: Vec<String> = expected
        .string_to_sign()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut e = OssError::new(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
    .field("OSSAccessKeyId", ak)
    .field("SignatureProvided", provided)
    .field("StringToSign", expected.string_to_sign())
    .field("StringToSignBytes", hex_bytes.join(" "));
    // Whether OSS also returns the V4 canonical request is unknown (I); it helps debugging.
    if let Some(c) = expected.canonical_request() {
        e = e.field("CanonicalRequest", c);
    }
    let ec = match method {
        AuthMethod::V4Header | AuthMethod::V4Query => "0002-00000201",
        _ => "0002-00000040",
    };
    e.ec(ec)
}

/// Authenticates a request: `Ok(Anonymous)` when it carries no signature. The checks run
/// in OSS's order (see the module docs); the first that fails answers.
pub(crate) fn authenticate(
    req: &RequestParts,
    ctx: &AuthContext<'_>,
) -> Result<Principal, OssError> {
    let query = Query::parse(req.raw_query.as_deref().unwrap_or(""))
        .map_err(|e| malformed(format!("The query string is invalid: {e}.")))?;
    let resource = match ctx.key {
        Some(key) => Resource::object(ctx.bucket, key),
        None => Resource::bucket(ctx.bucket),
    };
    let signable = SignableRequest::new(&req.method, resource, &query, &req.headers);
    let auth = ReceivedAuth::from_request(&signable).map_err(|e| auth_parse_error(&e))?;
    let method = auth.method();
    if method == AuthMethod::Anonymous {
        return Ok(Principal::Anonymous);
    }
    check_scope(&auth, ctx.region)?;
    let ak = auth.access_key_id().unwrap_or_default().to_owned();
    let Some(account) = ctx.accounts.iter().find(|a| a.access_key_id == ak) else {
        return Err(invalid_access_key_id(&ak));
    };
    check_token(&auth, account)?;
    check_expiry(account, ctx.now)?;
    check_time(&auth, ctx.now, ctx.max_skew)?;
    let creds = account
        .for_verifying()
        .map_err(|_| invalid_access_key_id(&ak))?;
    let expected = auth
        .expected(&signable, &creds)
        .map_err(|e| malformed(format!("Cannot verify the signature: {e}.")))?;
    let provided = auth.signature().unwrap_or_default();
    if expected.matches(provided) {
        Ok(Principal::User(ak))
    } else {
        Err(mismatch(method, &ak, provided, &expected))
    }
}

/// A V4 scope must name the emulator's region (when it has one) and OSS's product.
fn check_scope(auth: &ReceivedAuth, region: Option<&str>) -> Result<(), OssError> {
    // The scope is checked before the key is looked up (I: OSS's order is undocumented;
    // its answer, a 400 and not a 403, suggests a parse-time check).
    let (Some(region), Some(scope)) = (region, auth.scope()) else {
        return Ok(());
    };
    if scope.region() != region {
        return Err(OssError::new(
            400,
            "InvalidArgument",
            "Invalid signing region in Authorization header.",
        )
        .ec("0002-00000226"));
    }
    if scope.product() != oss_sign::v4::DEFAULT_PRODUCT {
        return Err(OssError::new(
            400,
            "InvalidArgument",
            "Invalid signing product in Authorization header.",
        )
        .ec("0002-00000227"));
    }
    Ok(())
}

/// STS credentials need their token: as a header (header auth) or in the query (presign).
fn check_token(auth: &ReceivedAuth, account: &Credentials) -> Result<(), OssError> {
    let Some(token) = &account.security_token else {
        return Ok(());
    };
    match auth.security_token() {
        None => Err(invalid_access_key_id(&account.access_key_id)),
        // docs/oss-behaviour.md#errors has no code for a wrong token (I): OSS's code list
        // has InvalidSecurityToken.
        Some(t) if t != token => Err(OssError::new(
            403,
            "InvalidSecurityToken",
            "The security token you provided is invalid.",
        )
        .ec("0002-00000058")),
        Some(_) => Ok(()),
    }
}

/// Temporary credentials past their expiry: OSS's answer for an expired STS token
/// (`docs/oss-behaviour.md#errors`; EC 0002-00000007). Checked after the token, so an STS key
/// sent without its token is still `InvalidAccessKeyId`.
fn check_expiry(account: &Credentials, now: SystemTime) -> Result<(), OssError> {
    match account.expires_at {
        Some(at) if now >= at => Err(OssError::new(
            403,
            "SecurityTokenExpired",
            "The security token you provided has expired.",
        )
        .field("OSSAccessKeyId", &account.access_key_id)
        .ec("0002-00000007")),
        _ => Ok(()),
    }
}

/// Time: a header-signed request within the clock skew allowance; a presigned URL not
/// expired, valid for at most 7 days and not signed in the future; a V4 scope's date that
/// matches the signing time.
fn check_time(auth: &ReceivedAuth, now: SystemTime, max_skew: Duration) -> Result<(), OssError> {
    match auth.method() {
        AuthMethod::V1Header | AuthMethod::V4Header => {
            if let Some(t) = auth.signed_at().map(|t| t.to_system_time())
                && !skew_ok(t, now, max_skew)
            {
                return Err(too_skewed(t, now, max_skew));
            }
        }
        AuthMethod::V1Query | AuthMethod::V4Query => {
            if let Some(at) = auth.expires_at().map(|t| t.to_system_time())
                && now > at
            {
                return Err(expired(at, now));
            }
            if let (Some(signed), Some(at)) = (auth.signed_at(), auth.expires_at()) {
                if at.unix_seconds().saturating_sub(signed.unix_seconds()) > 604_800 {
                    return Err(malformed(
                        "x-oss-expires must not exceed 604800 seconds (7 days).".into(),
                    ));
                }
                // A URL signed in the future (beyond the skew allowance) is refused too (I).
                let t = signed.to_system_time();
                if now.checked_add(max_skew).is_some_and(|limit| t > limit) {
                    return Err(too_skewed(t, now, max_skew));
                }
            }
        }
        _ => {}
    }
    if let (Some(scope), Some(signed)) = (auth.scope(), auth.signed_at())
        && scope.date() != signed.v4_date()
    {
        return Err(malformed(
            "The date in the credential scope does not match x-oss-date.".into(),
        ));
    }
    Ok(())
}
