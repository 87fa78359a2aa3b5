//! A credentials URI (`ALIBABA_CLOUD_CREDENTIALS_URI`, or aliyun-cli's `CredentialsURI`
//! profile mode): `GET <uri>` answering `{Code, AccessKeyId, AccessKeySecret, SecurityToken,
//! Expiration}`. A `Code` other than `Success` is refused (credentials-python and aliyun-cli
//! require it; credentials-go ignores it, so an answer without `Code` is accepted).

use http::{HeaderMap, Method};
use serde_json::Value;

use crate::expiry::credentials_from_json;
use crate::fetch::{BoxFuture, FetchCredentials, Fetched};
use crate::http::{Call, HttpClient, HttpSettings, redacted_endpoint};
use crate::{CredentialsError, Environment};

const NAME: &str = "credentials_uri";

/// Credentials served by a URI.
#[derive(Debug, Clone)]
pub struct CredentialsUriProvider {
    uri: String,
    http: HttpClient,
}

impl CredentialsUriProvider {
    /// `uri` (`http://` or `https://`).
    ///
    /// # Errors
    /// [`CredentialsError::InvalidSetting`] for something that is not an http(s) URL.
    pub fn new(uri: impl Into<String>, http: HttpSettings) -> Result<Self, CredentialsError> {
        let uri = uri.into();
        let scheme_ok = uri.starts_with("http://") || uri.starts_with("https://");
        if !scheme_ok || uri.parse::<http::Uri>().is_err() {
            return Err(CredentialsError::invalid_setting(
                NAME,
                "URI",
                format!(
                    "`{}` is not an http:// or https:// URL",
                    redacted_endpoint(&uri)
                ),
            ));
        }
        Ok(Self {
            uri,
            http: HttpClient::new(NAME, http)?,
        })
    }

    /// From `ALIBABA_CLOUD_CREDENTIALS_URI`.
    ///
    /// # Errors
    /// [`CredentialsError::NotApplicable`] when it is not set; as [`new`](Self::new).
    pub fn from_env(env: &Environment, http: HttpSettings) -> Result<Self, CredentialsError> {
        match env.get("ALIBABA_CLOUD_CREDENTIALS_URI") {
            Some(uri) => Self::new(uri, http),
            None => Err(CredentialsError::not_applicable(
                NAME,
                "ALIBABA_CLOUD_CREDENTIALS_URI is not set",
            )),
        }
    }

    async fn get(&self) -> Result<Fetched, CredentialsError> {
        let endpoint = redacted_endpoint(&self.uri);
        let answer = self
            .http
            .send(Call {
                method: Method::GET,
                url: &self.uri,
                headers: HeaderMap::new(),
                form: None,
            })
            .await?;
        let doc: Option<Value> = serde_json::from_slice(&answer.body).ok();
        let text = |name: &str| {
            doc.as_ref()
                .and_then(|d| d.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        if !answer.status.is_success() {
            return Err(CredentialsError::Service {
                provider: NAME,
                endpoint,
                status: answer.status.as_u16(),
                code: text("Code"),
                message: text("Message"),
                request_id: text("RequestId"),
            });
        }
        let Some(doc) = doc.as_ref() else {
            return Err(CredentialsError::invalid_response(
                NAME,
                &endpoint,
                "the answer is not JSON",
            ));
        };
        if let Some(code) = text("Code").filter(|c| c != "Success") {
            return Err(CredentialsError::invalid_response(
                NAME,
                &endpoint,
                format!("`Code` is `{code}`, not `Success`"),
            ));
        }
        let credentials = credentials_from_json(
            NAME,
            &endpoint,
            doc,
            answer.date,
            std::time::SystemTime::now(),
        )?;
        Ok(Fetched {
            credentials,
            source: format!("{NAME} ({endpoint})"),
        })
    }
}

impl FetchCredentials for CredentialsUriProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(self.get())
    }
}
