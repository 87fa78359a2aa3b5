//! ECS RAM role: the instance metadata service at `http://100.100.100.200` (or any address),
//! in hardened mode: `PUT /latest/api/token` for a session token, then the role name (unless
//! configured) and the role's credentials with that token. If the token request is refused,
//! the plain (IMDSv1) requests follow, unless `ALIBABA_CLOUD_IMDSV1_DISABLED` forbids it.

use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::Value;

use crate::expiry::credentials_from_json;
use crate::fetch::{BoxFuture, FetchCredentials, Fetched};
use crate::http::{Answer, Call, HttpClient, HttpSettings};
use crate::{CredentialsError, Environment};

const NAME: &str = "ecs_ram_role";
/// Where the metadata service answers on every ECS instance.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://100.100.100.200";
const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

/// The ECS instance's RAM role credentials, from the metadata service.
#[derive(Debug, Clone)]
pub struct EcsRamRoleProvider {
    role: Option<String>,
    endpoint: String,
    imdsv1_disabled: bool,
    http: HttpClient,
}

impl EcsRamRoleProvider {
    /// The role `role` (discovered from the metadata service when `None`), at the standard
    /// address, with the metadata service's short timeouts ([`HttpSettings::metadata`]).
    ///
    /// # Errors
    /// Only an unusable TLS setting (none by default).
    pub fn new(role: Option<String>) -> Result<Self, CredentialsError> {
        Ok(Self {
            role: role.filter(|r| !r.trim().is_empty()),
            endpoint: DEFAULT_METADATA_ENDPOINT.to_owned(),
            imdsv1_disabled: false,
            http: HttpClient::new(NAME, HttpSettings::metadata())?,
        })
    }

    /// From the environment: [`CredentialsError::NotApplicable`] when
    /// `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`; the role from `ALIBABA_CLOUD_ECS_METADATA`;
    /// `ALIBABA_CLOUD_IMDSV1_DISABLED=true` forbids falling back to requests without a token.
    ///
    /// # Errors
    /// As above.
    pub fn from_env(env: &Environment) -> Result<Self, CredentialsError> {
        if env.flag("ALIBABA_CLOUD_ECS_METADATA_DISABLED") {
            return Err(CredentialsError::not_applicable(
                NAME,
                "disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED",
            ));
        }
        Ok(
            Self::new(env.get("ALIBABA_CLOUD_ECS_METADATA").map(str::to_owned))?
                .imdsv1_disabled(env.flag("ALIBABA_CLOUD_IMDSV1_DISABLED")),
        )
    }

    /// Another metadata address (`http://host:port`): a private network, or a test.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into().trim_end_matches('/').to_owned();
        self
    }

    /// Refuse to fall back to requests without a session token.
    pub fn imdsv1_disabled(mut self, disabled: bool) -> Self {
        self.imdsv1_disabled = disabled;
        self
    }

    /// Other timeouts. A proxy in `settings` is ignored: the metadata service is a
    /// link-local address only the instance itself reaches, and a proxy would be handed the
    /// role's credentials.
    ///
    /// # Errors
    /// An unusable TLS setting.
    pub fn http(mut self, settings: HttpSettings) -> Result<Self, CredentialsError> {
        self.http = HttpClient::new(NAME, settings.direct())?;
        Ok(self)
    }

    async fn get(
        &self,
        path: &str,
        token: Option<&HeaderValue>,
    ) -> Result<Answer, CredentialsError> {
        let mut headers = HeaderMap::new();
        if let Some(token) = token {
            headers.insert("x-aliyun-ecs-metadata-token", token.clone());
        }
        let url = format!("{}{path}", self.endpoint);
        self.http
            .send(Call {
                method: Method::GET,
                url: &url,
                headers,
                form: None,
            })
            .await
    }

    /// A session token, or `None` to go on without one (IMDSv1, when allowed).
    async fn session_token(&self) -> Result<Option<HeaderValue>, CredentialsError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-aliyun-ecs-metadata-token-ttl-seconds",
            HeaderValue::from_static("21600"),
        );
        let url = format!("{}{TOKEN_PATH}", self.endpoint);
        let answer = self
            .http
            .send(Call {
                method: Method::PUT,
                url: &url,
                headers,
                form: None,
            })
            .await?;
        if answer.status == StatusCode::OK
            && let Ok(token) = HeaderValue::from_bytes(answer.text().trim().as_bytes())
        {
            return Ok(Some(token));
        }
        if self.imdsv1_disabled {
            return Err(self.refused(&url, &answer, "the session token request"));
        }
        tracing::debug!(
            "{NAME}: the metadata service refused a session token (HTTP {}); going on without one",
            answer.status.as_u16()
        );
        Ok(None)
    }

    fn refused(&self, url: &str, answer: &Answer, what: &str) -> CredentialsError {
        CredentialsError::Service {
            provider: NAME,
            endpoint: url.to_owned(),
            status: answer.status.as_u16(),
            code: None,
            message: Some(format!("{what} was refused")),
            request_id: None,
        }
    }

    async fn fetch_role(&self) -> Result<Fetched, CredentialsError> {
        let token = self.session_token().await?;
        let role = match &self.role {
            Some(role) => role.clone(),
            None => {
                let answer = self.get(CREDENTIALS_PATH, token.as_ref()).await?;
                if answer.status == StatusCode::NOT_FOUND {
                    return Err(CredentialsError::not_applicable(
                        NAME,
                        "the instance has no RAM role attached",
                    ));
                }
                if !answer.status.is_success() {
                    let url = format!("{}{CREDENTIALS_PATH}", self.endpoint);
                    return Err(self.refused(&url, &answer, "the role name request"));
                }
                let role = answer.text().trim().to_owned();
                if role.is_empty() || role.contains(['/', '\n', '?', '#']) {
                    return Err(CredentialsError::invalid_response(
                        NAME,
                        &self.endpoint,
                        "the role name is empty or not one name",
                    ));
                }
                role
            }
        };
        let path = format!("{CREDENTIALS_PATH}{role}");
        let url = format!("{}{path}", self.endpoint);
        let answer = self.get(&path, token.as_ref()).await?;
        if !answer.status.is_success() {
            return Err(self.refused(
                &url,
                &answer,
                &format!("the credentials request for role `{role}`"),
            ));
        }
        let doc: Value = serde_json::from_slice(&answer.body).map_err(|_| {
            CredentialsError::invalid_response(NAME, &url, "the credentials are not JSON")
        })?;
        let code = doc.get("Code").and_then(Value::as_str).unwrap_or_default();
        if code != "Success" {
            return Err(CredentialsError::invalid_response(
                NAME,
                &url,
                format!("`Code` is `{code}`, not `Success`"),
            ));
        }
        let credentials =
            credentials_from_json(NAME, &url, &doc, answer.date, std::time::SystemTime::now())?;
        Ok(Fetched {
            credentials,
            source: format!("{NAME} `{role}` ({})", self.endpoint),
        })
    }
}

impl FetchCredentials for EcsRamRoleProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(self.fetch_role())
    }
}
