//! The STS client: where STS is (global, regional, VPC, or any URL), `AssumeRole` signed with
//! oss-sign's RPC signer, `AssumeRoleWithOIDC` (not signed), and STS's answers read into
//! credentials or an error with STS's code, message and request id.
//!
//! Requests take credentials-go's shape: `POST /?<common parameters + Signature>` with the
//! business parameters in an `application/x-www-form-urlencoded` body, so an OIDC token or a
//! policy never travels in a URL (which proxies log). Everything, query and body, is signed.

use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method};
use oss_sign::{Credentials, SigningTime, Slash, rpc, uri_encode};
use serde_json::Value;

use crate::expiry::credentials_from_json;
use crate::http::{Call, HttpClient, HttpSettings, redacted_endpoint};
use crate::{CredentialsError, Environment};

/// The STS API version every request names.
const VERSION: &str = "2015-04-01";

/// Where STS requests go.
///
/// ```
/// use oss_credentials::StsEndpoint;
///
/// assert_eq!(StsEndpoint::global().url(), "https://sts.aliyuncs.com");
/// assert_eq!(StsEndpoint::region("cn-hangzhou", false).url(), "https://sts.cn-hangzhou.aliyuncs.com");
/// assert_eq!(StsEndpoint::region("cn-hangzhou", true).url(), "https://sts-vpc.cn-hangzhou.aliyuncs.com");
/// assert_eq!(StsEndpoint::custom("sts.example.com/")?.url(), "https://sts.example.com");
/// assert_eq!(StsEndpoint::custom("http://127.0.0.1:9000")?.url(), "http://127.0.0.1:9000");
/// # Ok::<(), oss_credentials::CredentialsError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsEndpoint {
    url: String,
}

impl StsEndpoint {
    /// `https://sts.aliyuncs.com`, the SDKs' default.
    pub fn global() -> Self {
        Self {
            url: "https://sts.aliyuncs.com".to_owned(),
        }
    }

    /// `https://sts.<region>.aliyuncs.com`, or `sts-vpc.` inside a VPC.
    pub fn region(region: &str, vpc: bool) -> Self {
        let prefix = if vpc { "sts-vpc" } else { "sts" };
        Self {
            url: format!("https://{prefix}.{}.aliyuncs.com", region.trim()),
        }
    }

    /// Any endpoint: a host (HTTPS assumed) or an `http://`/`https://` URL (a private
    /// network's STS, or an emulator).
    ///
    /// # Errors
    /// [`CredentialsError::InvalidSetting`] when it is empty or not a URL.
    pub fn custom(endpoint: &str) -> Result<Self, CredentialsError> {
        let trimmed = endpoint.trim().trim_end_matches('/');
        let url = if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let valid = url
            .parse::<http::Uri>()
            .is_ok_and(|u| u.host().is_some_and(|h| !h.is_empty()));
        if trimmed.is_empty() || !valid {
            return Err(CredentialsError::invalid_setting(
                "sts",
                "endpoint",
                format!(
                    "`{endpoint}` is not a host or URL; write e.g. sts.cn-hangzhou.aliyuncs.com"
                ),
            ));
        }
        Ok(Self { url })
    }

    /// The SDKs' rules from the environment: `ALIBABA_CLOUD_STS_ENDPOINT` (aliyun-cli's
    /// override), else `ALIBABA_CLOUD_STS_REGION` (with `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`),
    /// else the global endpoint.
    ///
    /// # Errors
    /// As [`custom`](Self::custom) for a bad `ALIBABA_CLOUD_STS_ENDPOINT`.
    pub fn from_env(env: &Environment) -> Result<Self, CredentialsError> {
        Self::resolve(
            env.get("ALIBABA_CLOUD_STS_ENDPOINT"),
            env.get("ALIBABA_CLOUD_STS_REGION"),
            env.flag("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"),
        )
    }

    /// An explicit endpoint, else a region (VPC or not), else global (a VPC without a region
    /// is the global endpoint, as in the SDKs).
    pub(crate) fn resolve(
        endpoint: Option<&str>,
        region: Option<&str>,
        vpc: bool,
    ) -> Result<Self, CredentialsError> {
        match (endpoint, region) {
            (Some(e), _) if !e.trim().is_empty() => Self::custom(e),
            (_, Some(r)) if !r.trim().is_empty() => Ok(Self::region(r, vpc)),
            _ => Ok(Self::global()),
        }
    }

    /// The base URL, without a trailing `/`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// What to assume: the role, the session, and its limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleSpec {
    /// `acs:ram::<account>:role/<name>`.
    pub role_arn: String,
    /// The session name (2-64 of letters, digits, `.@-_`).
    pub session_name: String,
    /// How long the credentials live: 900 s ..= 43200 s (the role's maximum applies too).
    pub duration: Duration,
    /// An optional policy narrowing the role's permissions (JSON).
    pub policy: Option<String>,
    /// `AssumeRole` only: the external id the role's trust policy asks for.
    pub external_id: Option<String>,
}

impl RoleSpec {
    /// A role with a default session name (`oss-credentials-<unix seconds>`) and 1 hour.
    pub fn new(role_arn: impl Into<String>) -> Self {
        let secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self {
            role_arn: role_arn.into(),
            session_name: format!("oss-credentials-{secs}"),
            duration: Duration::from_secs(3600),
            policy: None,
            external_id: None,
        }
    }

    /// Checks what STS would refuse, before any request.
    pub(crate) fn validate(&self, provider: &'static str) -> Result<(), CredentialsError> {
        if self.role_arn.trim().is_empty() {
            return Err(CredentialsError::invalid_setting(
                provider,
                "role ARN",
                "it is empty; write acs:ram::<account id>:role/<role name>",
            ));
        }
        let secs = self.duration.as_secs();
        if !(900..=43_200).contains(&secs) {
            return Err(CredentialsError::invalid_setting(
                provider,
                "duration",
                format!("{secs} s is outside STS's 900 s to 43200 s"),
            ));
        }
        let name = &self.session_name;
        let name_ok = (2..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'@' | b'-' | b'_'));
        if !name_ok {
            return Err(CredentialsError::invalid_setting(
                provider,
                "session name",
                format!("`{name}` must be 2-64 letters, digits or . @ - _"),
            ));
        }
        Ok(())
    }

    fn business_params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![
            ("DurationSeconds", self.duration.as_secs().to_string()),
            ("RoleArn", self.role_arn.clone()),
            ("RoleSessionName", self.session_name.clone()),
        ];
        if let Some(policy) = self.policy.as_ref().filter(|p| !p.is_empty()) {
            p.push(("Policy", policy.clone()));
        }
        p
    }
}

/// A signed `AssumeRole` as it goes on the wire: the query (with `Signature`) and the form
/// body. Pure: time and nonce are inputs.
pub(crate) fn assume_role_request(
    source: &Credentials,
    role: &RoleSpec,
    timestamp: SystemTime,
    nonce: &str,
) -> Result<(String, String), oss_sign::SignError> {
    let id = source.access_key_id().unwrap_or_default();
    let time = SigningTime::from_system_time(timestamp)?.iso8601();
    let mut common: Vec<(&str, String)> = vec![
        ("AccessKeyId", id.to_owned()),
        ("Action", "AssumeRole".to_owned()),
        ("Format", "JSON".to_owned()),
        ("SignatureMethod", "HMAC-SHA1".to_owned()),
        ("SignatureNonce", nonce.to_owned()),
        ("SignatureVersion", "1.0".to_owned()),
        ("Timestamp", time),
        ("Version", VERSION.to_owned()),
    ];
    if let Some(token) = rpc::security_token(source) {
        common.push(("SecurityToken", token.to_owned()));
    }
    let mut body = role.business_params();
    if let Some(ext) = role.external_id.as_ref().filter(|e| !e.is_empty()) {
        body.push(("ExternalId", ext.clone()));
    }
    let all: Vec<(&str, &str)> = common
        .iter()
        .chain(body.iter())
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let signature = rpc::sign("POST", &all, source)?;
    common.push(("Signature", signature));
    Ok((form(&common), form(&body)))
}

/// An `AssumeRoleWithOIDC` (unsigned): the query and the form body holding the token.
pub(crate) fn assume_role_with_oidc_request(
    provider_arn: &str,
    token: &str,
    role: &RoleSpec,
    timestamp: SystemTime,
) -> Result<(String, String), oss_sign::SignError> {
    let time = SigningTime::from_system_time(timestamp)?.iso8601();
    let query = vec![
        ("Action", "AssumeRoleWithOIDC".to_owned()),
        ("Format", "JSON".to_owned()),
        ("Timestamp", time),
        ("Version", VERSION.to_owned()),
    ];
    let mut body = role.business_params();
    body.push(("OIDCProviderArn", provider_arn.to_owned()));
    body.push(("OIDCToken", token.to_owned()));
    Ok((form(&query), form(&body)))
}

/// `k=v&...`, each part percent-encoded as the RPC signature encodes it (`%20` for a space).
fn form(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                uri_encode(k, Slash::Escape),
                uri_encode(v, Slash::Escape)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A fresh `SignatureNonce`: 32 hex digits from the time, a per-process counter and the
/// process's random hasher seed (unique per request, which is all STS asks).
pub(crate) fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let state = std::collections::hash_map::RandomState::new();
    let mut a = state.build_hasher();
    a.write_u128(nanos);
    a.write_u64(n);
    let mut b = state.build_hasher();
    b.write_u64(n);
    b.write_u128(nanos);
    b.write_u32(std::process::id());
    format!("{:016x}{:016x}", a.finish(), b.finish())
}

/// Sends STS requests for one provider.
#[derive(Debug, Clone)]
pub(crate) struct StsClient {
    endpoint: StsEndpoint,
    http: HttpClient,
    provider: &'static str,
    clock: fn() -> SystemTime,
}

impl StsClient {
    pub(crate) fn new(
        provider: &'static str,
        endpoint: StsEndpoint,
        settings: HttpSettings,
    ) -> Result<Self, CredentialsError> {
        Ok(Self {
            endpoint,
            http: HttpClient::new(provider, settings)?,
            provider,
            clock: SystemTime::now,
        })
    }

    pub(crate) fn endpoint(&self) -> &StsEndpoint {
        &self.endpoint
    }

    pub(crate) async fn assume_role(
        &self,
        source: &Credentials,
        role: &RoleSpec,
    ) -> Result<Credentials, CredentialsError> {
        let (query, body) =
            assume_role_request(source, role, (self.clock)(), &nonce()).map_err(|source| {
                CredentialsError::InvalidCredentials {
                    provider: self.provider,
                    source,
                }
            })?;
        self.call(query, body).await
    }

    pub(crate) async fn assume_role_with_oidc(
        &self,
        provider_arn: &str,
        token: &str,
        role: &RoleSpec,
    ) -> Result<Credentials, CredentialsError> {
        let (query, body) =
            assume_role_with_oidc_request(provider_arn, token, role, (self.clock)()).map_err(
                |source| CredentialsError::InvalidCredentials {
                    provider: self.provider,
                    source,
                },
            )?;
        self.call(query, body).await
    }

    async fn call(&self, query: String, body: String) -> Result<Credentials, CredentialsError> {
        let url = format!("{}/?{query}", self.endpoint.url);
        let answer = self
            .http
            .send(Call {
                method: Method::POST,
                url: &url,
                headers: HeaderMap::new(),
                form: Some(body),
            })
            .await?;
        let endpoint = redacted_endpoint(&url);
        let doc: Option<Value> = serde_json::from_slice(&answer.body).ok();
        if !answer.status.is_success() {
            let text = |name: &str| {
                doc.as_ref()
                    .and_then(|d| d.get(name))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            return Err(CredentialsError::Service {
                provider: self.provider,
                endpoint,
                status: answer.status.as_u16(),
                code: text("Code"),
                message: text("Message").or_else(|| {
                    doc.is_none()
                        .then(|| answer.text().chars().take(200).collect())
                }),
                request_id: text("RequestId"),
            });
        }
        let credentials = doc
            .as_ref()
            .and_then(|d| d.get("Credentials"))
            .ok_or_else(|| {
                CredentialsError::invalid_response(
                    self.provider,
                    &endpoint,
                    "the answer has no `Credentials` object",
                )
            })?;
        credentials_from_json(
            self.provider,
            &endpoint,
            credentials,
            answer.date,
            (self.clock)(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = include_str!("../../../fixtures/sts/sts-sign-vectors.json");

    fn decode(form: &str) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = form
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(&v.replace('+', " ")))
            })
            .collect();
        pairs.sort();
        pairs
    }

    fn percent_decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    /// Every POST AssumeRole vector: the request we build from the vector's inputs carries
    /// the official signers' signature, and the same parameters, query and body, as
    /// credentials-go's wire layout.
    #[test]
    fn assume_role_requests_match_the_vectors() {
        let doc: Value = serde_json::from_str(VECTORS).unwrap();
        let mut checked = 0;
        for v in doc["vectors"].as_array().unwrap() {
            let inputs = &v["inputs"];
            let params: Vec<(String, String)> = inputs["params"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_owned(),
                        p[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if inputs["method"] != "POST" || get("Action").as_deref() != Some("AssumeRole") {
                continue;
            }
            let mut source = Credentials::new(
                inputs["access_key_id"].as_str().unwrap(),
                inputs["access_key_secret"].as_str().unwrap(),
            )
            .unwrap();
            if let Some(token) = get("SecurityToken") {
                source = source.with_security_token(token).unwrap();
            }
            let role = RoleSpec {
                role_arn: get("RoleArn").unwrap(),
                session_name: get("RoleSessionName").unwrap(),
                duration: Duration::from_secs(get("DurationSeconds").unwrap().parse().unwrap()),
                policy: get("Policy"),
                external_id: get("ExternalId"),
            };
            let time = SigningTime::parse_iso8601(&get("Timestamp").unwrap())
                .unwrap()
                .to_system_time();
            let (query, body) =
                assume_role_request(&source, &role, time, &get("SignatureNonce").unwrap()).unwrap();
            let name = v["name"].as_str().unwrap();
            let signature = v["outputs"]["signature"].as_str().unwrap();
            assert!(
                decode(&query).contains(&("Signature".into(), signature.into())),
                "{name}: {query}"
            );
            let wire = &v["wire_example"];
            assert_eq!(
                decode(&query),
                decode(wire["query"].as_str().unwrap()),
                "{name}: query"
            );
            assert_eq!(
                decode(&body),
                decode(wire["body"].as_str().unwrap()),
                "{name}: body"
            );
            checked += 1;
        }
        assert!(checked >= 9, "{checked}");
    }

    #[test]
    fn oidc_requests_are_unsigned_and_keep_the_token_out_of_the_url() {
        let role = RoleSpec::new("acs:ram::1:role/r");
        let (query, body) = assume_role_with_oidc_request(
            "acs:ram::1:oidc-provider/p",
            "eyJ.token",
            &role,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        )
        .unwrap();
        assert_eq!(
            query,
            "Action=AssumeRoleWithOIDC&Format=JSON&Timestamp=2027-01-15T08%3A00%3A00Z&Version=2015-04-01"
        );
        assert!(body.contains("OIDCToken=eyJ.token") && !query.contains("eyJ"));
        assert!(!query.contains("Signature"));
    }

    #[test]
    fn role_specs_are_checked_before_any_request() {
        let mut role = RoleSpec::new("acs:ram::1:role/r");
        assert!(role.validate("p").is_ok());
        assert!(role.session_name.len() <= 32);
        role.duration = Duration::from_secs(899);
        assert!(
            role.validate("p")
                .unwrap_err()
                .to_string()
                .contains("900 s")
        );
        role.duration = Duration::from_secs(900);
        role.session_name = "has space".into();
        assert!(
            role.validate("p")
                .unwrap_err()
                .to_string()
                .contains("session name")
        );
        assert_ne!(nonce(), nonce());
        assert_eq!(nonce().len(), 32);
    }
}
