//! The client: oss-http's configuration, kept as a recipe so a download with its own extra
//! headers can get a transport that sends them on every request.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use oss_http::{
    Credentials, ProvideCredentials, SignatureVersion, StallPolicy, Timeouts, TlsTrust,
};

use crate::download::Download;
use crate::error::Error;

/// One recorded builder call, replayed onto a fresh [`oss_http::ClientBuilder`].
type Step = Arc<dyn Fn(oss_http::ClientBuilder) -> oss_http::ClientBuilder + Send + Sync>;

/// Builds a [`Client`]: the settings of [`oss_http::ClientBuilder`], same names, same
/// defaults (signature V4, HTTPS, virtual-hosted addressing; path style for IP and
/// `localhost` endpoints), checked by [`ClientBuilder::build`].
///
/// ```
/// let client = oss_resume::Client::builder()
///     .endpoint("https://oss-cn-hangzhou.aliyuncs.com")
///     .region("cn-hangzhou")
///     .anonymous()
///     .build()?;
/// # let _ = client;
/// # Ok::<(), oss_resume::Error>(())
/// ```
#[must_use]
#[derive(Clone, Default)]
pub struct ClientBuilder {
    steps: Vec<Step>,
    endpoint: Option<String>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("settings", &self.steps.len())
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    fn step(
        mut self,
        f: impl Fn(oss_http::ClientBuilder) -> oss_http::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.steps.push(Arc::new(f));
        self
    }

    /// The OSS endpoint (`oss-cn-hangzhou.aliyuncs.com`, `https://...`, or
    /// `http://127.0.0.1:9000` for a local emulator). Required.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        let endpoint = endpoint.into();
        self.endpoint = Some(endpoint.clone());
        self.step(move |b| b.endpoint(endpoint.clone()))
    }

    /// The region, e.g. `cn-hangzhou` (needed by signature V4 unless the endpoint names it).
    pub fn region(self, region: impl Into<String>) -> Self {
        let region = region.into();
        self.step(move |b| b.region(region.clone()))
    }

    /// Signature version 1 or 4 (default 4).
    pub fn signature_version(self, version: SignatureVersion) -> Self {
        self.step(move |b| b.signature_version(version))
    }

    /// The endpoint is a custom domain bound to the bucket (the C SDK's `is_cname`).
    pub fn cname(self, is_cname: bool) -> Self {
        self.step(move |b| b.cname(is_cname))
    }

    /// Force path-style addressing.
    pub fn path_style(self, force: bool) -> Self {
        self.step(move |b| b.path_style(force))
    }

    /// Sign with these credentials (e.g. [`Credentials::from_env`]: `OSS_ACCESS_KEY_ID`,
    /// `OSS_ACCESS_KEY_SECRET`, `OSS_SESSION_TOKEN`).
    pub fn credentials(self, credentials: Credentials) -> Self {
        self.step(move |b| b.credentials(credentials.clone()))
    }

    /// Sign with credentials asked from `provider` for every attempt (refreshed STS tokens).
    pub fn credentials_provider(self, provider: impl ProvideCredentials + 'static) -> Self {
        let provider: Arc<dyn ProvideCredentials> = Arc::new(provider);
        self.step(move |b| {
            let p = Arc::clone(&provider);
            b.credentials_provider(move || p.provide_credentials())
        })
    }

    /// Unsigned requests (public-read objects).
    pub fn anonymous(self) -> Self {
        self.step(|b| b.anonymous())
    }

    /// A product token put before ours in `User-Agent`.
    pub fn user_agent(self, product: impl Into<String>) -> Self {
        let product = product.into();
        self.step(move |b| b.user_agent(product.clone()))
    }

    /// All timeouts at once (see [`oss_http::Timeouts`]).
    pub fn timeouts(self, timeouts: Timeouts) -> Self {
        self.step(move |b| b.timeouts(timeouts))
    }

    /// Limit on making one TCP connection (default 10 s).
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.step(move |b| b.connect_timeout(timeout))
    }

    /// Limit from sending a request to its response head (default 30 s).
    pub fn response_head_timeout(self, timeout: Duration) -> Self {
        self.step(move |b| b.response_head_timeout(timeout))
    }

    /// A body stalls when no byte arrives for this long (default 30 s); the part is then
    /// retried from the byte it reached.
    pub fn stall_timeout(self, idle: Duration) -> Self {
        self.step(move |b| b.stall_timeout(idle))
    }

    /// A body also stalls below `bytes_per_sec` over a whole `window`.
    pub fn min_rate(self, bytes_per_sec: u64, window: Duration) -> Self {
        self.step(move |b| b.min_rate(bytes_per_sec, window))
    }

    /// The whole stall policy.
    pub fn stall_policy(self, policy: StallPolicy) -> Self {
        self.step(move |b| b.stall_policy(policy))
    }

    /// Idle pooled connections close after this long (default 50 s).
    pub fn pool_idle_timeout(self, timeout: Duration) -> Self {
        self.step(move |b| b.pool_idle_timeout(timeout))
    }

    /// At most this many idle connections kept per host (default 64).
    pub fn pool_max_idle_per_host(self, max: usize) -> Self {
        self.step(move |b| b.pool_max_idle_per_host(max))
    }

    /// Resolve `host` (or `*.domain`) to `addrs`, like curl's `--resolve`.
    pub fn resolve(self, host: &str, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        let host = host.to_owned();
        let addrs: Vec<IpAddr> = addrs.into_iter().collect();
        self.step(move |b| b.resolve(&host, addrs.iter().copied()))
    }

    /// Which certificate authorities HTTPS trusts.
    pub fn tls_trust(self, trust: TlsTrust) -> Self {
        self.step(move |b| b.tls_trust(trust.clone()))
    }

    /// A header sent with every request of every download (see also
    /// [`Download::header`] for one download's headers).
    pub fn header(self, name: &str, value: &str) -> Self {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.step(move |b| b.header(&name, &value))
    }

    /// Where "now" comes from (tests and simulations).
    pub fn clock(self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        let clock = Arc::new(clock);
        self.step(move |b| {
            let c = Arc::clone(&clock);
            b.clock(move || c())
        })
    }

    fn http_builder(&self) -> oss_http::ClientBuilder {
        self.steps
            .iter()
            .fold(oss_http::Client::builder(), |b, step| step(b))
    }

    /// Checks the settings and builds the client; errors name the setting and the fix.
    pub fn build(self) -> Result<Client, Error> {
        let http = self.http_builder().build().map_err(Error::Client)?;
        let endpoint_host = self
            .endpoint
            .as_deref()
            .map(endpoint_host)
            .unwrap_or_default();
        Ok(Client {
            http,
            recipe: Arc::new(self),
            endpoint_host,
        })
    }
}

/// `host[:port]` of an endpoint text (what a checkpoint records as the endpoint).
fn endpoint_host(endpoint: &str) -> String {
    let rest = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    host.to_ascii_lowercase()
}

/// An OSS client for resumable downloads. Cheap to clone (the connection pool is shared).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = oss_resume::Client::builder()
///     .endpoint("https://oss-cn-hangzhou.aliyuncs.com")
///     .region("cn-hangzhou")
///     .credentials(oss_resume::Credentials::from_env()?)
///     .build()?;
/// let report = client
///     .download("examplebucket", "exampledir/exampleobject.txt", "local.bin")
///     .part_size(100 * 1024)
///     .threads(3)
///     .await?;
/// println!("{} bytes, {} retried", report.bytes_total, report.retries);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    http: oss_http::Client,
    recipe: Arc<ClientBuilder>,
    endpoint_host: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("http", &self.http)
            .field("endpoint_host", &self.endpoint_host)
            .finish()
    }
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Starts describing a download of `bucket`/`key` to the local file `destination`
    /// (the C SDK's `oss_resumable_download_file`). Nothing happens until it is awaited
    /// (or [`Download::blocking`] is called).
    pub fn download(
        &self,
        bucket: impl Into<String>,
        key: impl Into<String>,
        destination: impl Into<PathBuf>,
    ) -> Download {
        Download::new(self.clone(), bucket.into(), key.into(), destination.into())
    }

    /// The transport.
    pub fn http(&self) -> &oss_http::Client {
        &self.http
    }

    /// `host[:port]` of the endpoint (recorded in checkpoints).
    pub(crate) fn endpoint_host(&self) -> &str {
        &self.endpoint_host
    }

    /// A transport sending `headers` on every request too (a download's own headers), or
    /// the shared one when there are none.
    pub(crate) fn http_with(
        &self,
        headers: &[(String, String)],
    ) -> Result<oss_http::Client, Error> {
        if headers.is_empty() {
            return Ok(self.http.clone());
        }
        headers
            .iter()
            .fold(self.recipe.http_builder(), |b, (n, v)| b.header(n, v))
            .build()
            .map_err(Error::Client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_hosts() {
        assert_eq!(endpoint_host("http://127.0.0.1:9000"), "127.0.0.1:9000");
        assert_eq!(
            endpoint_host("oss-cn-hangzhou.aliyuncs.com"),
            "oss-cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            endpoint_host("https://Files.Example.com/x"),
            "files.example.com"
        );
    }

    #[test]
    fn build_errors_name_the_setting() {
        let e = Client::builder().anonymous().build().unwrap_err();
        assert!(e.to_string().contains("endpoint"), "{e}");
        let c = Client::builder()
            .endpoint("http://127.0.0.1:9")
            .anonymous()
            .build()
            .unwrap();
        let e = c
            .http_with(&[("Range".into(), "bytes=0-1".into())])
            .unwrap_err();
        assert!(e.to_string().contains("set by the client"), "{e}");
        assert!(
            c.http_with(&[("x-oss-traffic-limit".into(), "819200".into())])
                .is_ok()
        );
    }
}
