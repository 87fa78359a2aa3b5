//! The ECS instance metadata service, as far as RAM role credentials go:
//! - `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds` (1..=21600)
//!   answers a session token as plain text (hardened mode);
//! - `GET /latest/meta-data/ram/security-credentials/` answers the role name;
//! - `GET /latest/meta-data/ram/security-credentials/<role>` answers `{Code: "Success",
//!   AccessKeyId, AccessKeySecret, SecurityToken, Expiration, LastUpdated}`.
//!
//! A GET carrying `X-aliyun-ecs-metadata-token` needs a valid token (else 401); one without
//! a token is served only when hardened mode is not enforced (IMDSv1). The query is ignored
//! (credentials-go sends a bare trailing `?`). The role's credentials are handed out again
//! until less than half their life is left, as the metadata service rotates them ahead of
//! expiry.

use std::time::{Duration, SystemTime};

use http::Method;
use serde_json::json;

use super::{
    CredentialFault, CredentialService, bytes_response, credentials_json, iso8601_seconds,
    json_response,
};
use crate::model::Emulator;
use crate::request::RequestParts;
use crate::response::ModelResponse;

const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TOKEN_PATH: &str = "/latest/api/token";
const TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";

/// How the emulated metadata service behaves.
#[derive(Clone, Debug)]
pub struct ImdsSettings {
    pub(crate) role: Option<String>,
    pub(crate) hardened_only: bool,
}

impl ImdsSettings {
    /// An instance with the RAM role `role` attached, answering with or without a session
    /// token.
    pub fn new(role: impl Into<String>) -> Self {
        Self {
            role: Some(role.into()),
            hardened_only: false,
        }
    }

    /// An instance with no RAM role (the role-name request answers 404).
    pub fn without_role() -> Self {
        Self {
            role: None,
            hardened_only: false,
        }
    }

    /// Enforced hardened mode: GETs without a session token get 401.
    pub fn hardened_only(mut self, on: bool) -> Self {
        self.hardened_only = on;
        self
    }
}

fn text(status: u16, body: &str) -> ModelResponse {
    bytes_response(status, "text/plain", body.as_bytes().to_vec(), None)
}

pub(super) fn answer(emu: &Emulator, req: &RequestParts, now: SystemTime) -> ModelResponse {
    let mut delay = None;
    match emu.service_fault(CredentialService::Imds) {
        Some(CredentialFault::Error {
            status, message, ..
        }) => return text(status, &message),
        Some(CredentialFault::Delay(d)) => delay = Some(d),
        None => {}
    }
    let mut resp = route(emu, req, now);
    resp.first_byte_delay = delay;
    resp
}

fn route(emu: &Emulator, req: &RequestParts, now: SystemTime) -> ModelResponse {
    let Some(settings) = emu.services().imds.clone() else {
        return text(404, "Not Found");
    };
    let path = req.raw_path.as_str();
    if path == TOKEN_PATH {
        return issue_token(emu, req, now);
    }
    if req.method != Method::GET {
        return text(405, "Method Not Allowed");
    }
    match req.header(TOKEN_HEADER) {
        Some(token) => {
            let valid = emu
                .services()
                .imds_tokens
                .get(token)
                .is_some_and(|expires| now < *expires);
            if !valid {
                return text(401, "Unauthorized");
            }
        }
        None if settings.hardened_only => return text(401, "Unauthorized"),
        None => {}
    }
    let Some(rest) = path.strip_prefix(CREDENTIALS_PATH) else {
        return text(404, "Not Found");
    };
    let Some(role) = settings.role else {
        return text(404, "Not Found");
    };
    if rest.is_empty() {
        return text(200, &role);
    }
    if rest != role {
        return text(404, "Not Found");
    }
    let creds = current_credentials(emu, now);
    let mut doc = credentials_json(&creds);
    doc["Code"] = json!("Success");
    doc["LastUpdated"] = json!(iso8601_seconds(now));
    json_response(200, &doc, None)
}

fn issue_token(emu: &Emulator, req: &RequestParts, now: SystemTime) -> ModelResponse {
    if req.method != Method::PUT {
        return text(405, "Method Not Allowed");
    }
    let ttl = req
        .header(TTL_HEADER)
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(ttl) = ttl.filter(|t| (1..=21_600).contains(t)) else {
        return text(
            400,
            "Bad Request: X-aliyun-ecs-metadata-token-ttl-seconds must be 1-21600",
        );
    };
    let token = format!(
        "imds-token-{:016x}",
        crate::content::synthetic_word(0x1D5, emu.next_request_seq())
    );
    let mut s = emu.services();
    s.imds_tokens.retain(|_, expires| now < *expires);
    s.imds_tokens
        .insert(token.clone(), now + Duration::from_secs(ttl));
    drop(s);
    text(200, &token)
}

/// How long the metadata service's role credentials live (unless the emulator's credential
/// lifetime overrides it).
const IMDS_LIFETIME: Duration = Duration::from_secs(6 * 3600);

/// The role's credentials: the ones handed out before while more than half their life is
/// left, otherwise new ones.
fn current_credentials(emu: &Emulator, now: SystemTime) -> crate::auth::Credentials {
    let (current, lifetime) = {
        let s = emu.services();
        (s.imds_current.clone(), s.lifetime.unwrap_or(IMDS_LIFETIME))
    };
    if let Some(c) = current
        && let Some(expires) = c.expires_at
        && expires.duration_since(now).unwrap_or_default() > lifetime / 2
    {
        return c;
    }
    let c = emu.issue_credentials(CredentialService::Imds, Some(IMDS_LIFETIME), now);
    emu.services().imds_current = Some(c.clone());
    c
}
