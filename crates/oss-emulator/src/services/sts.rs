//! STS: `AssumeRole` (an RPC call signed with HMAC-SHA1 by a key pair the emulator knows,
//! verified with oss-sign's `rpc` module) and `AssumeRoleWithOIDC` (unsigned; the OIDC token
//! is checked against the configured trust). Parameters come from the query and, for POST, an
//! `application/x-www-form-urlencoded` body, both decoded (`+` is a space) and signed together.
//!
//! Answers are STS's JSON: `{RequestId, AssumedRoleUser, Credentials{AccessKeyId,
//! AccessKeySecret, SecurityToken, Expiration}}` on success, `{RequestId, HostId, Code,
//! Message, Recommend}` with a 4xx on error. Error codes follow the STS and RPC gateway
//! documentation where it names one; where it does not, the code here is marked (I).

use std::time::{Duration, SystemTime};

use http::Method;
use serde_json::json;

use super::{CredentialFault, CredentialService, credentials_json, json_response};
use crate::auth::Credentials;
use crate::model::Emulator;
use crate::request::{RequestParts, percent_decode};
use crate::response::ModelResponse;

/// How the emulated STS behaves.
#[derive(Clone, Debug, Default)]
pub struct StsSettings {
    pub(crate) oidc: Option<OidcTrust>,
}

impl StsSettings {
    /// `AssumeRole` only (every `AssumeRoleWithOIDC` is refused).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `AssumeRoleWithOIDC` requests whose token `trust` accepts.
    pub fn oidc(mut self, trust: OidcTrust) -> Self {
        self.oidc = Some(trust);
        self
    }
}

/// Which OIDC tokens `AssumeRoleWithOIDC` accepts: every check that is set must pass.
#[derive(Clone, Debug, Default)]
pub struct OidcTrust {
    provider_arn: Option<String>,
    token: Option<String>,
    issuer: Option<String>,
}

impl OidcTrust {
    /// Accepts any non-empty token (each check below narrows it).
    pub fn new() -> Self {
        Self::default()
    }

    /// The `OIDCProviderArn` requests must name.
    pub fn provider_arn(mut self, arn: impl Into<String>) -> Self {
        self.provider_arn = Some(arn.into());
        self
    }

    /// The exact token (surrounding whitespace ignored: clients send a token file's content
    /// as it is, newline included).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The `iss` claim the token (a JWT) must carry.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
}

/// An STS error answer.
struct StsError {
    status: u16,
    code: &'static str,
    message: String,
}

fn err(status: u16, code: &'static str, message: impl Into<String>) -> StsError {
    StsError {
        status,
        code,
        message: message.into(),
    }
}

/// Every parameter of the request: the query's, then (POST) the form body's.
fn parameters(req: &RequestParts, body: &[u8]) -> Vec<(String, String)> {
    let mut params = req.query_pairs();
    if req.method == Method::POST {
        let text = String::from_utf8_lossy(body);
        let decode = |s: &str| percent_decode(&s.replace('+', " "));
        params.extend(
            text.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                }),
        );
    }
    params
}

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn required<'a>(params: &'a [(String, String)], name: &'static str) -> Result<&'a str, StsError> {
    get(params, name).ok_or_else(|| {
        err(
            400,
            "MissingParameter",
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        )
    })
}

pub(super) fn answer(
    emu: &Emulator,
    req: &RequestParts,
    body: &[u8],
    now: SystemTime,
    request_id: &str,
) -> ModelResponse {
    let params = parameters(req, body);
    let action = get(&params, "Action").unwrap_or_default();
    let service = match action {
        "AssumeRole" => CredentialService::AssumeRole,
        "AssumeRoleWithOIDC" => CredentialService::AssumeRoleWithOidc,
        _ => {
            return error(
                &err(
                    404,
                    "InvalidAction.NotFound",
                    format!(
                        "Specified api `{action}` is not found, please check your url and method."
                    ),
                ),
                req,
                request_id,
            );
        }
    };
    let mut delay = None;
    match emu.service_fault(service) {
        Some(CredentialFault::Error {
            status,
            code,
            message,
        }) => {
            let body = error_body(&code, &message, req, request_id);
            return json_response(status, &body, Some(&code));
        }
        Some(CredentialFault::Delay(d)) => delay = Some(d),
        None => {}
    }
    let result = match service {
        CredentialService::AssumeRoleWithOidc => assume_role_with_oidc(emu, &params, now),
        _ => assume_role(emu, req, &params, now),
    };
    let mut resp = match result {
        Ok((role_arn, session, duration)) => {
            let creds = emu.issue_credentials(service, Some(duration), now);
            let mut doc = json!({
                "RequestId": request_id,
                "AssumedRoleUser": {
                    "Arn": format!("{}/{session}", role_arn.replace(":role/", ":assumed-role/")),
                    "AssumedRoleId": format!("3{:017}:{session}", crate::content::synthetic_word(9, 9) % 100_000_000_000_000_000),
                },
                "Credentials": credentials_json(&creds),
            });
            if service == CredentialService::AssumeRoleWithOidc {
                doc["OIDCTokenInfo"] =
                    json!({"Subject": "emulated", "Issuer": "emulated", "ClientIds": "emulated"});
            }
            json_response(200, &doc, None)
        }
        Err(e) => error(&e, req, request_id),
    };
    resp.first_byte_delay = delay;
    resp
}

fn error_body(
    code: &str,
    message: &str,
    req: &RequestParts,
    request_id: &str,
) -> serde_json::Value {
    json!({
        "RequestId": request_id,
        "HostId": req.host_name(),
        "Code": code,
        "Message": message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}"),
    })
}

fn error(e: &StsError, req: &RequestParts, request_id: &str) -> ModelResponse {
    json_response(
        e.status,
        &error_body(e.code, &e.message, req, request_id),
        Some(e.code),
    )
}

/// The checks every STS action makes on what it assumes: role ARN, session name, duration.
fn role_request(params: &[(String, String)]) -> Result<Assumed<'_>, StsError> {
    let role_arn = required(params, "RoleArn")?;
    let arn_ok = role_arn
        .strip_prefix("acs:ram::")
        .and_then(|rest| rest.split_once(":role/"))
        .is_some_and(|(account, name)| {
            !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty()
        });
    if !arn_ok {
        return Err(err(
            400,
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is wrongly formed.",
        ));
    }
    let session = required(params, "RoleSessionName")?;
    let session_ok = (2..=64).contains(&session.len())
        && session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'@' | b'-' | b'_'));
    if !session_ok {
        return Err(err(
            400,
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName is wrongly formed.",
        ));
    }
    let duration = match get(params, "DurationSeconds") {
        None => 3600,
        Some(text) => text.parse::<u64>().unwrap_or(0),
    };
    if !(900..=43_200).contains(&duration) {
        return Err(err(
            400,
            "InvalidParameter.DurationSeconds",
            "The Min/Max value of DurationSeconds is 15min/12hr.",
        ));
    }
    Ok((role_arn, session, Duration::from_secs(duration)))
}

type Assumed<'a> = (&'a str, &'a str, Duration);

fn assume_role<'a>(
    emu: &Emulator,
    req: &RequestParts,
    params: &'a [(String, String)],
    now: SystemTime,
) -> Result<Assumed<'a>, StsError> {
    let access_key_id = required(params, "AccessKeyId")?;
    let signature = required(params, "Signature")?;
    if get(params, "SignatureMethod") != Some("HMAC-SHA1")
        || get(params, "SignatureVersion") != Some("1.0")
    {
        return Err(err(
            400,
            "InvalidParameter.SignatureMethod",
            "Specified signature method or version is not supported; use HMAC-SHA1 and 1.0.",
        ));
    }
    check_timestamp(params, now)?;
    check_nonce(emu, params, now)?;
    let account = emu.account(access_key_id).ok_or_else(|| {
        err(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    })?;
    check_source_token(&account, get(params, "SecurityToken"), now)?;
    let expected = oss_sign::rpc::signature(
        account.secret.as_bytes(),
        &oss_sign::rpc::string_to_sign(
            req.method.as_str(),
            &oss_sign::rpc::canonicalized_query(params),
        ),
    );
    if expected != signature {
        return Err(err(
            400,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        ));
    }
    role_request(params)
}

/// `Timestamp` within 15 minutes of the server's clock (the RPC gateway's rule).
fn check_timestamp(params: &[(String, String)], now: SystemTime) -> Result<(), StsError> {
    let text = required(params, "Timestamp")?;
    let Ok(at) = oss_sign::SigningTime::parse_iso8601(text) else {
        return Err(err(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        ));
    };
    let at = at.to_system_time();
    let skew = at.duration_since(now).unwrap_or_else(|e| e.duration());
    if skew > Duration::from_secs(15 * 60) {
        return Err(err(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    Ok(())
}

/// A `SignatureNonce` is accepted once within the timestamp window.
fn check_nonce(
    emu: &Emulator,
    params: &[(String, String)],
    now: SystemTime,
) -> Result<(), StsError> {
    let nonce = required(params, "SignatureNonce")?;
    let mut s = emu.services();
    let window = Duration::from_secs(15 * 60);
    s.nonces
        .retain(|_, seen| now.duration_since(*seen).map_or(true, |d| d < window));
    if s.nonces.insert(nonce.to_owned(), now).is_some() {
        return Err(err(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(())
}

/// Temporary source credentials (role chaining) must send their token, the right one, before
/// they expire (codes (I): the STS documentation names `MissingSecurityToken` only).
fn check_source_token(
    account: &Credentials,
    sent: Option<&str>,
    now: SystemTime,
) -> Result<(), StsError> {
    match (&account.security_token, sent) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(err(
            400,
            "MissingSecurityToken",
            "SecurityToken is mandatory for this action.",
        )),
        (Some(token), Some(sent)) if token != sent => Err(err(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )),
        (Some(_), Some(_)) if account.expires_at.is_some_and(|at| now >= at) => Err(err(
            400,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        )),
        (Some(_), Some(_)) => Ok(()),
    }
}

fn assume_role_with_oidc<'a>(
    emu: &Emulator,
    params: &'a [(String, String)],
    _now: SystemTime,
) -> Result<Assumed<'a>, StsError> {
    let provider_arn = required(params, "OIDCProviderArn")?;
    let token = required(params, "OIDCToken")?;
    let trust = emu
        .services()
        .sts
        .as_ref()
        .and_then(|s| s.oidc.clone())
        .ok_or_else(|| {
            err(
                404,
                "EntityNotExist.OIDCProvider",
                "The OIDC provider does not exist (the emulator trusts none: StsSettings::oidc).",
            )
        })?;
    if trust
        .provider_arn
        .as_deref()
        .is_some_and(|a| a != provider_arn)
    {
        return Err(err(
            404,
            "EntityNotExist.OIDCProvider",
            "The specified OIDC provider does not exist.",
        ));
    }
    let token = token.trim();
    if trust.token.as_deref().is_some_and(|t| t.trim() != token) {
        return Err(err(
            400,
            "AuthenticationFail.OIDCToken.Invalid",
            "The OIDC token is invalid.",
        ));
    }
    if let Some(issuer) = &trust.issuer
        && jwt_issuer(token).as_deref() != Some(issuer.as_str())
    {
        return Err(err(
            400,
            "AuthenticationFail.OIDCToken.IssuerError",
            "The issuer of the OIDC token is not the OIDC provider's.",
        ));
    }
    role_request(params)
}

/// The `iss` claim of a JWT (its payload is base64url JSON), if it has one.
fn jwt_issuer(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_issuer_is_read_from_the_payload() {
        // {"alg":"RS256"} . {"iss":"https://oidc.example","sub":"x"} . sig
        let token =
            "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL29pZGMuZXhhbXBsZSIsInN1YiI6IngifQ.c2ln";
        assert_eq!(jwt_issuer(token).as_deref(), Some("https://oidc.example"));
        assert_eq!(jwt_issuer("not-a-jwt"), None);
    }
}
