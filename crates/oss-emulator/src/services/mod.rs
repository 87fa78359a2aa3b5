//! The credential services around OSS, in the one model: STS (`AssumeRole`,
//! `AssumeRoleWithOIDC`), the ECS instance metadata service (hardened mode) and a
//! credentials URI. Each issues temporary credentials (key id, secret, security token) that
//! the OSS front-end accepts until they expire (then `403 SecurityTokenExpired`).
//!
//! They are served by the streaming server on the OSS endpoint's own port, routed before the
//! OSS dispatcher and only when enabled: STS at `/?Action=...` (GET, or POST with a form
//! body), the metadata service at `/latest/...` (so, with it on, a path-style bucket named
//! `latest` is not reachable), the credentials URI at `/-/credentials`. Requests in absolute
//! form (`GET http://100.100.100.200/latest/...`, what a client sends through an HTTP proxy)
//! are routed by their path too, so a client whose metadata address is fixed reaches it by
//! naming the emulator as its HTTP proxy.
//!
//! What real clients send and accept (shapes, headers, formats) is summarised in
//! `docs/credentials.md`, "The emulator's side".

mod imds;
mod sts;
mod uri;

use std::collections::HashMap;
use std::sync::MutexGuard;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::auth::Credentials;
use crate::model::Emulator;
use crate::request::RequestParts;
use crate::response::{ModelResponse, ResponseBody};

pub use imds::ImdsSettings;
pub use sts::{OidcTrust, StsSettings};

/// The longest request body a credential service reads (STS form bodies are small; a
/// policy is at most 2 KiB and an OIDC token 20 000 characters).
pub const MAX_SERVICE_BODY: usize = 64 * 1024;

/// Which credential service answered (or issued credentials).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialService {
    /// STS `AssumeRole`.
    AssumeRole,
    /// STS `AssumeRoleWithOIDC`.
    AssumeRoleWithOidc,
    /// The instance metadata service (token, role name and role credentials requests).
    Imds,
    /// The credentials URI.
    CredentialsUri,
}

impl CredentialService {
    fn name(self) -> &'static str {
        match self {
            Self::AssumeRole => "assume_role",
            Self::AssumeRoleWithOidc => "assume_role_with_oidc",
            Self::Imds => "imds",
            Self::CredentialsUri => "credentials_uri",
        }
    }
}

/// A scripted failure of a credential service, for the next `count` requests to it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialFault {
    /// Answer with this status and error code (STS: its JSON error document; the metadata
    /// service: a plain-text body; the credentials URI: JSON with this `Code`).
    Error {
        /// HTTP status.
        status: u16,
        /// Error code (`Throttling`, `InternalError`...).
        code: String,
        /// Error message.
        message: String,
    },
    /// Answer normally, but only after this delay (a slow or hanging service).
    Delay(Duration),
}

/// Temporary credentials a service issued: what tests and the oracle compare with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCredentials {
    /// The service that issued them.
    pub via: CredentialService,
    /// Their AccessKeyId (`STS.` ...).
    pub access_key_id: String,
    /// When they expire, by the emulator's clock.
    pub expires_at: SystemTime,
}

/// The services' state inside the model.
#[derive(Debug, Default)]
pub(crate) struct Services {
    pub(crate) sts: Option<StsSettings>,
    pub(crate) imds: Option<ImdsSettings>,
    pub(crate) uri: bool,
    /// How long issued credentials live (`None`: what the request asked for, or 1 h).
    pub(crate) lifetime: Option<Duration>,
    pub(crate) faults: Vec<(CredentialService, CredentialFault, u64)>,
    pub(crate) issued: Vec<IssuedCredentials>,
    pub(crate) requests: HashMap<CredentialService, u64>,
    /// Metadata session tokens and when they expire.
    pub(crate) imds_tokens: HashMap<String, SystemTime>,
    /// The role credentials the metadata service hands out until they near expiry.
    pub(crate) imds_current: Option<Credentials>,
    /// STS `SignatureNonce`s seen, with when they were seen (replays are refused).
    pub(crate) nonces: HashMap<String, SystemTime>,
    /// Every issued key id's secret and token (kept after the account is forgotten).
    pub(crate) secrets: HashMap<String, (String, Option<String>)>,
}

/// What a routed request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Sts,
    Imds,
    CredentialsUri,
}

/// The lifetime issued credentials get when neither the emulator nor the request says.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

impl Emulator {
    pub(crate) fn services(&self) -> MutexGuard<'_, Services> {
        crate::model::lock(&self.shared.services)
    }

    /// Serves STS (`AssumeRole` signed with a key pair the emulator knows,
    /// `AssumeRoleWithOIDC` checked against `settings`' OIDC trust) on the endpoint's port.
    pub fn enable_sts(&self, settings: StsSettings) {
        self.services().sts = Some(settings);
    }

    /// Serves the instance metadata service (`/latest/...`) on the endpoint's port.
    pub fn enable_imds(&self, settings: ImdsSettings) {
        self.services().imds = Some(settings);
    }

    /// Serves a credentials URI at `/-/credentials` (`GET`, no authentication) on the
    /// endpoint's port.
    pub fn enable_credentials_uri(&self) {
        self.services().uri = true;
    }

    /// How long the credentials every service issues live, whatever a request asks for
    /// (STS `DurationSeconds`): a test knob to make refreshes happen within seconds.
    pub fn set_credential_lifetime(&self, lifetime: Option<Duration>) {
        self.services().lifetime = lifetime;
    }

    /// Makes the next `count` requests to `service` fail or wait as `fault` says.
    pub fn add_credential_fault(
        &self,
        service: CredentialService,
        fault: CredentialFault,
        count: u64,
    ) {
        self.services().faults.push((service, fault, count));
    }

    /// Every set of temporary credentials issued so far, oldest first.
    pub fn issued_credentials(&self) -> Vec<IssuedCredentials> {
        self.services().issued.clone()
    }

    /// The secret and security token of credentials the emulator issued or knows, for
    /// tests that prove they never leak.
    pub fn secret_of(&self, access_key_id: &str) -> Option<(String, Option<String>)> {
        let issued = self.services().secrets.get(access_key_id).cloned();
        issued.or_else(|| {
            self.account(access_key_id)
                .map(|a| (a.secret.clone(), a.security_token.clone()))
        })
    }

    /// Requests a credential service has answered (faults included).
    pub fn credential_requests(&self, service: CredentialService) -> u64 {
        self.services().requests.get(&service).copied().unwrap_or(0)
    }

    /// The `credentials` section of `/-/stats`: requests per service and credentials issued
    /// (`None` while no credential service is enabled).
    pub(crate) fn credential_stats(&self) -> Option<serde_json::Value> {
        let s = self.services();
        if s.sts.is_none() && s.imds.is_none() && !s.uri {
            return None;
        }
        let mut requests = serde_json::Map::new();
        for (service, n) in &s.requests {
            requests.insert(service.name().to_owned(), (*n).into());
        }
        Some(serde_json::json!({
            "requests": requests,
            "issued": s.issued.len(),
        }))
    }

    /// Which enabled credential service `req` is for, if any.
    pub(crate) fn service_route(&self, req: &RequestParts) -> Option<Route> {
        let services = self.services();
        let path = req.raw_path.as_str();
        let has_action = req
            .raw_query
            .as_deref()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("Action=")));
        if services.sts.is_some() && path == "/" && has_action {
            Some(Route::Sts)
        } else if services.imds.is_some() && path.starts_with("/latest/") {
            Some(Route::Imds)
        } else if services.uri && path == "/-/credentials" {
            Some(Route::CredentialsUri)
        } else {
            None
        }
    }

    /// Answers a routed request (its body read already, at most [`MAX_SERVICE_BODY`]).
    pub(crate) fn answer_service(
        &self,
        route: Route,
        req: &RequestParts,
        body: &[u8],
    ) -> ModelResponse {
        let now = self.now();
        let request_id = format!(
            "{:08X}-{:04X}-4{:03X}-8{:03X}-{:012X}",
            crate::clock::unix_secs(now) as u32,
            self.next_request_seq() & 0xFFFF,
            self.next_request_seq() & 0xFFF,
            self.next_request_seq() & 0xFFF,
            crate::content::synthetic_word(0x5757, self.next_request_seq()) & 0xFFFF_FFFF_FFFF
        );
        let mut resp = match route {
            Route::Sts => sts::answer(self, req, body, now, &request_id),
            Route::Imds => imds::answer(self, req, now),
            Route::CredentialsUri => uri::answer(self, now),
        };
        if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(now)) {
            resp.headers.insert(http::header::DATE, v);
        }
        if self.options().log_requests {
            eprintln!(
                "oss-emulator: {} {} (credential service) -> {} {}",
                req.method,
                req.raw_path,
                resp.status.as_u16(),
                resp.error_code.as_deref().unwrap_or("-"),
            );
        }
        resp
    }

    /// Counts a request to `service` and takes the fault scripted for it, if any.
    fn service_fault(&self, service: CredentialService) -> Option<CredentialFault> {
        let mut s = self.services();
        *s.requests.entry(service).or_default() += 1;
        let index = s.faults.iter().position(|(svc, _, _)| *svc == service)?;
        let entry = s.faults.get_mut(index)?;
        entry.2 = entry.2.saturating_sub(1);
        let fault = entry.1.clone();
        if entry.2 == 0 {
            s.faults.remove(index);
        }
        Some(fault)
    }

    /// Issues temporary credentials through `via`, living `lifetime` (unless the emulator's
    /// credential lifetime overrides it), and makes the OSS front-end accept them until then.
    pub(crate) fn issue_credentials(
        &self,
        via: CredentialService,
        asked: Option<Duration>,
        now: SystemTime,
    ) -> Credentials {
        let lifetime = {
            let s = self.services();
            s.lifetime.or(asked).unwrap_or(DEFAULT_LIFETIME)
        };
        // Whole seconds, rounded up: `Expiration` is written in seconds, and the OSS
        // front-end must accept exactly what the text says.
        let expires_at = ceil_seconds(now + lifetime);
        let seq = self.next_request_seq();
        let word = |salt: u64| crate::content::synthetic_word(salt, seq);
        let creds = Credentials::sts(
            format!("STS.NT{:016X}{:04X}", word(1), seq & 0xFFFF),
            format!("{:016x}{:016x}", word(2), word(3)),
            format!("CAIS{:016X}{:016X}{:016X}", word(4), word(5), word(6)),
        )
        .expiring_at(expires_at);
        // Credentials expired for an hour are forgotten (then OSS answers InvalidAccessKeyId),
        // so a long test does not grow the account list without bound.
        let forget_before = now.checked_sub(Duration::from_secs(3600));
        {
            let mut st = self.state();
            st.accounts.retain(|a| match (a.expires_at, forget_before) {
                (Some(at), Some(limit)) => at > limit,
                _ => true,
            });
        }
        self.add_credentials(creds.clone());
        let mut services = self.services();
        services.secrets.insert(
            creds.access_key_id.clone(),
            (creds.secret.clone(), creds.security_token.clone()),
        );
        drop(services);
        self.services().issued.push(IssuedCredentials {
            via,
            access_key_id: creds.access_key_id.clone(),
            expires_at,
        });
        creds
    }

    /// The account with this AccessKeyId, if the emulator knows it.
    pub(crate) fn account(&self, access_key_id: &str) -> Option<Credentials> {
        self.state()
            .accounts
            .iter()
            .find(|a| a.access_key_id == access_key_id)
            .cloned()
    }
}

/// `t` rounded up to a whole second.
fn ceil_seconds(t: SystemTime) -> SystemTime {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() + u64::from(since.subsec_nanos() > 0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// A JSON answer.
pub(crate) fn json_response(
    status: u16,
    body: &serde_json::Value,
    error_code: Option<&str>,
) -> ModelResponse {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    bytes_response(status, "application/json;charset=utf-8", bytes, error_code)
}

/// A response with `content_type` and these bytes.
pub(crate) fn bytes_response(
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    error_code: Option<&str>,
) -> ModelResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    ModelResponse {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        headers,
        body: ResponseBody::Bytes(Bytes::from(body)),
        first_byte_delay: None,
        rate_limit: None,
        error_code: error_code.map(str::to_owned),
    }
}

/// The three secret fields and the expiry, as every service writes them
/// (`Expiration` as `YYYY-MM-DDTHH:MM:SSZ`, the only form the SDKs parse).
pub(crate) fn credentials_json(creds: &Credentials) -> serde_json::Value {
    serde_json::json!({
        "AccessKeyId": creds.access_key_id,
        "AccessKeySecret": creds.secret,
        "SecurityToken": creds.security_token.clone().unwrap_or_default(),
        "Expiration": creds.expires_at.map(iso8601_seconds).unwrap_or_default(),
    })
}

/// `2026-01-15T08:30:00Z`.
pub(crate) fn iso8601_seconds(t: SystemTime) -> String {
    oss_sign::SigningTime::from_system_time(t)
        .map(|t| t.iso8601())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_credentials_expire_and_are_recorded() {
        let emu = Emulator::new();
        emu.set_credential_lifetime(Some(Duration::from_secs(20)));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let c = emu.issue_credentials(
            CredentialService::CredentialsUri,
            Some(Duration::from_secs(900)),
            now,
        );
        assert!(c.access_key_id.starts_with("STS."));
        assert_eq!(c.expires_at, Some(now + Duration::from_secs(20)));
        assert!(emu.account(&c.access_key_id).is_some());
        let issued = emu.issued_credentials();
        assert_eq!(issued.len(), 1);
        assert_eq!(issued[0].access_key_id, c.access_key_id);
        assert_eq!(
            iso8601_seconds(now + Duration::from_secs(20)),
            "2027-01-15T08:00:20Z"
        );
    }
}
