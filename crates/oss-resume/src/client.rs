//! The client: oss-http's builder behind the same names, and one transport (one connection
//! pool) shared by every download; a download's own headers travel per request.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use oss_http::{
    Credentials, ProvideCredentials, SignatureVersion, StallPolicy, Timeouts, TlsTrust,
};

use crate::download::Download;
use crate::error::Error;

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
#[derive(Default)]
pub struct ClientBuilder {
    http: oss_http::ClientBuilder,
    endpoint: Option<String>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // oss-http's builder redacts its secrets (credentials, secret header values).
        f.debug_struct("ClientBuilder")
            .field("http", &self.http)
            .finish()
    }
}

impl ClientBuilder {
    fn with(mut self, f: impl FnOnce(oss_http::ClientBuilder) -> oss_http::ClientBuilder) -> Self {
        self.http = f(self.http);
        self
    }

    /// The OSS endpoint (`oss-cn-hangzhou.aliyuncs.com`, `https://...`, or
    /// `http://127.0.0.1:9000` for a local emulator). Required.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        let endpoint = endpoint.into();
        self.endpoint = Some(endpoint.clone());
        self.with(|b| b.endpoint(endpoint))
    }

    /// The region, e.g. `cn-hangzhou` (needed by signature V4 unless the endpoint names it).
    pub fn region(self, region: impl Into<String>) -> Self {
        self.with(|b| b.region(region))
    }

    /// Signature version 1 or 4 (default 4).
    pub fn signature_version(self, version: SignatureVersion) -> Self {
        self.with(|b| b.signature_version(version))
    }

    /// The endpoint is a custom domain bound to the bucket (the C SDK's `is_cname`).
    pub fn cname(self, is_cname: bool) -> Self {
        self.with(|b| b.cname(is_cname))
    }

    /// Force path-style addressing.
    pub fn path_style(self, force: bool) -> Self {
        self.with(|b| b.path_style(force))
    }

    /// Sign with these credentials (e.g. [`Credentials::from_env`]: `OSS_ACCESS_KEY_ID`,
    /// `OSS_ACCESS_KEY_SECRET`, `OSS_SESSION_TOKEN`).
    pub fn credentials(self, credentials: Credentials) -> Self {
        self.with(|b| b.credentials(credentials))
    }

    /// Sign with credentials asked from `provider` for every attempt (refreshed STS tokens).
    pub fn credentials_provider(self, provider: impl ProvideCredentials + 'static) -> Self {
        self.with(|b| b.credentials_provider(provider))
    }

    /// Unsigned requests (public-read objects).
    pub fn anonymous(self) -> Self {
        self.with(|b| b.anonymous())
    }

    /// A product token put before ours in `User-Agent`.
    pub fn user_agent(self, product: impl Into<String>) -> Self {
        self.with(|b| b.user_agent(product))
    }

    /// All timeouts at once (see [`oss_http::Timeouts`]).
    pub fn timeouts(self, timeouts: Timeouts) -> Self {
        self.with(|b| b.timeouts(timeouts))
    }

    /// Limit on making one TCP connection (default 10 s).
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.with(|b| b.connect_timeout(timeout))
    }

    /// Limit from sending a request to its response head (default 30 s).
    pub fn response_head_timeout(self, timeout: Duration) -> Self {
        self.with(|b| b.response_head_timeout(timeout))
    }

    /// A body stalls when no byte arrives for this long (default 30 s); the part is then
    /// retried from the byte it reached.
    pub fn stall_timeout(self, idle: Duration) -> Self {
        self.with(|b| b.stall_timeout(idle))
    }

    /// A body also stalls below `bytes_per_sec` over a whole `window`.
    pub fn min_rate(self, bytes_per_sec: u64, window: Duration) -> Self {
        self.with(|b| b.min_rate(bytes_per_sec, window))
    }

    /// The whole stall policy.
    pub fn stall_policy(self, policy: StallPolicy) -> Self {
        self.with(|b| b.stall_policy(policy))
    }

    /// Idle pooled connections close after this long (default 50 s).
    pub fn pool_idle_timeout(self, timeout: Duration) -> Self {
        self.with(|b| b.pool_idle_timeout(timeout))
    }

    /// At most this many idle connections kept per host (default 64).
    pub fn pool_max_idle_per_host(self, max: usize) -> Self {
        self.with(|b| b.pool_max_idle_per_host(max))
    }

    /// Resolve `host` (or `*.domain`) to `addrs`, like curl's `--resolve`.
    pub fn resolve(self, host: &str, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        self.with(|b| b.resolve(host, addrs))
    }

    /// Which certificate authorities HTTPS trusts.
    pub fn tls_trust(self, trust: TlsTrust) -> Self {
        self.with(|b| b.tls_trust(trust))
    }

    /// A header sent with every request of every download (see also
    /// [`Download::header`] for one download's headers).
    pub fn header(self, name: &str, value: &str) -> Self {
        self.with(|b| b.header(name, value))
    }

    /// Where "now" comes from (tests and simulations).
    pub fn clock(self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.with(|b| b.clock(clock))
    }

    /// Checks the settings and builds the client; errors name the setting and the fix.
    pub fn build(self) -> Result<Client, Error> {
        let http = self.http.build().map_err(Error::Client)?;
        let endpoint_host = self
            .endpoint
            .as_deref()
            .map(endpoint_host)
            .unwrap_or_default();
        Ok(Client {
            http,
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
        let e = Client::builder()
            .endpoint("http://127.0.0.1:9")
            .anonymous()
            .header("Range", "bytes=0-1")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("set by the client"), "{e}");
    }
}
