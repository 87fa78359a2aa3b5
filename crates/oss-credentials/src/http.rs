//! A small HTTP/1.1 client for the credential services: hyper 1 + rustls (the trust oss-http
//! uses), a connect timeout, one deadline over the whole exchange, bounded bodies, and the
//! answer's `Date` (to correct the credentials' expiry for clock skew).

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use oss_http::{Proxy, ProxyConnector, TlsTrust};

use crate::CredentialsError;

/// The longest answer read (credentials JSON is well under 4 KiB).
const MAX_BODY: usize = 64 * 1024;

/// Timeouts, TLS trust and proxy for one provider's requests.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Limit on making the TCP connection.
    pub connect_timeout: Duration,
    /// Limit on the whole exchange: connecting, sending, and reading the answer.
    pub timeout: Duration,
    /// Which certificate authorities HTTPS trusts (oss-http's setting; default webpki roots).
    pub tls: TlsTrust,
    /// The HTTP proxy STS and credentials URIs are reached through (oss-http's setting;
    /// default none). The metadata service never uses one ([`HttpSettings::direct`]).
    pub proxy: Proxy,
}

impl HttpSettings {
    /// STS and credentials URIs: the SDKs' 5 s to connect and 10 s to read.
    pub fn service() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            tls: TlsTrust::default(),
            proxy: Proxy::none(),
        }
    }

    /// The metadata service: it answers within milliseconds on an instance, and where there
    /// is none (a laptop, CI) the chain must move on quickly. 300 ms to connect (the SDKs use
    /// 1 s, which makes every run off ECS a second slower) and 2 s for the whole exchange.
    pub fn metadata() -> Self {
        Self {
            connect_timeout: Duration::from_millis(300),
            timeout: Duration::from_secs(2),
            tls: TlsTrust::default(),
            proxy: Proxy::none(),
        }
    }

    /// These settings without a proxy: what the metadata service is always asked with
    /// (a link-local address a proxy cannot reach, and would be handed credentials for).
    #[must_use]
    pub fn direct(mut self) -> Self {
        self.proxy = Proxy::none();
        self
    }
}

/// An answer: status, `Date`, headers and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) date: Option<SystemTime>,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request to send.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) url: &'a str,
    pub(crate) headers: HeaderMap,
    pub(crate) form: Option<String>,
}

/// The client for one provider.
#[derive(Clone)]
pub(crate) struct HttpClient {
    client: Client<HttpsConnector<ProxyConnector<HttpConnector>>, Full<Bytes>>,
    settings: HttpSettings,
    provider: &'static str,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    pub(crate) fn new(
        provider: &'static str,
        settings: HttpSettings,
    ) -> Result<Self, CredentialsError> {
        let tls = settings
            .tls
            .client_config()
            .map_err(|e| CredentialsError::invalid_setting(provider, "tls", e.to_string()))?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(settings.connect_timeout));
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(ProxyConnector::new(http, settings.proxy.clone()));
        // No pooled connections: credentials are fetched a few times an hour, and a pooled
        // connection would belong to the runtime that opened it (a caller may fetch the first
        // credentials on a short-lived runtime and refresh on another).
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(https);
        Ok(Self {
            client,
            settings,
            provider,
        })
    }

    /// Sends `call` and reads the answer, all within the settings' deadline.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Answer, CredentialsError> {
        let endpoint = redacted_endpoint(call.url);
        let unreachable = |source: crate::error::BoxError| CredentialsError::Unreachable {
            provider: self.provider,
            endpoint: endpoint.clone(),
            source,
        };
        let uri: Uri = call.url.parse().map_err(|e: http::uri::InvalidUri| {
            CredentialsError::invalid_setting(
                self.provider,
                "endpoint",
                format!("`{endpoint}` is not a URL: {e}"),
            )
        })?;
        let body = call.form.map(Bytes::from).unwrap_or_default();
        let mut request = Request::new(Full::new(body.clone()));
        *request.method_mut() = call.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = call.headers;
        let headers = request.headers_mut();
        headers.insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_static(concat!("oss-credentials/", env!("CARGO_PKG_VERSION"))),
        );
        if !body.is_empty() {
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
        }
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| unreachable(Box::new(e)))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(unreachable)?
                .to_bytes();
            let date = parts
                .headers
                .get(http::header::DATE)
                .and_then(|d| d.to_str().ok())
                .and_then(|d| httpdate::parse_http_date(d).ok());
            Ok(Answer {
                status: parts.status,
                date,
                body,
            })
        };
        match tokio::time::timeout(self.settings.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(unreachable(
                format!("timed out after {:?}", self.settings.timeout).into(),
            )),
        }
    }
}

/// `scheme://host[:port]/path` of a URL: its query may carry a signature, a token or a
/// secret, so it is never shown.
pub(crate) fn redacted_endpoint(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_never_show_the_query() {
        assert_eq!(
            redacted_endpoint("https://sts.aliyuncs.com/?Signature=abc&SecurityToken=t"),
            "https://sts.aliyuncs.com/"
        );
        assert_eq!(redacted_endpoint("http://h:1/creds"), "http://h:1/creds");
    }
}
