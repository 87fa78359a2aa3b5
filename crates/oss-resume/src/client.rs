//! The client: the settings every caller names (endpoint, region, credentials, signature
//! version, headers), oss-http's builder for the rest of the transport, and one transport
//! (one connection pool) shared by every download; a download's own headers travel per
//! request.

use std::fmt;
use std::path::PathBuf;

use oss_http::{Credentials, ProvideCredentials, SignatureVersion};

use crate::download::Download;
use crate::error::Error;

/// Builds a [`Client`], checked by [`ClientBuilder::build`].
///
/// The contract: this builder names what a download cannot do without — the endpoint, the
/// region, how to sign (credentials, a credentials provider, or anonymous; signature V1 or
/// V4) and headers for every request. Everything else about the transport (timeouts, stall
/// detection, the connection pool, DNS overrides, TLS trust, cname or path-style
/// addressing, the user agent, the clock) is oss-http's, set on its
/// [`oss_http::ClientBuilder`] through [`ClientBuilder::http`], with its names and its
/// defaults (signature V4, HTTPS, virtual-hosted addressing; path style for IP and
/// `localhost` endpoints). The types those settings take are in [`crate::oss_http`].
///
/// ```
/// use std::time::Duration;
///
/// let client = oss_resume::Client::builder()
///     .endpoint("https://oss-cn-hangzhou.aliyuncs.com")
///     .region("cn-hangzhou")
///     .anonymous()
///     .http(|http| http.connect_timeout(Duration::from_secs(5)).user_agent("my-app/1.0"))
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
    /// The OSS endpoint (`oss-cn-hangzhou.aliyuncs.com`, `https://...`, or
    /// `http://127.0.0.1:9000` for a local emulator). Required. Set it here rather than
    /// through [`ClientBuilder::http`]: checkpoints record its host.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        let endpoint = endpoint.into();
        self.endpoint = Some(endpoint.clone());
        self.http(|b| b.endpoint(endpoint))
    }

    /// The region, e.g. `cn-hangzhou` (needed by signature V4 unless the endpoint names it).
    pub fn region(self, region: impl Into<String>) -> Self {
        self.http(|b| b.region(region))
    }

    /// Signature version 1 or 4 (default 4).
    pub fn signature_version(self, version: SignatureVersion) -> Self {
        self.http(|b| b.signature_version(version))
    }

    /// Sign with these credentials (e.g. [`Credentials::from_env`]: `OSS_ACCESS_KEY_ID`,
    /// `OSS_ACCESS_KEY_SECRET`, `OSS_SESSION_TOKEN`).
    pub fn credentials(self, credentials: Credentials) -> Self {
        self.http(|b| b.credentials(credentials))
    }

    /// Sign with credentials asked from `provider` for every attempt (refreshed STS tokens).
    pub fn credentials_provider(self, provider: impl ProvideCredentials + 'static) -> Self {
        self.http(|b| b.credentials_provider(provider))
    }

    /// Sign with the default credentials chain over the process's environment and home
    /// directory (`OSS_*` keys, then `ALIBABA_CLOUD_*` keys, OIDC, `~/.aliyun/config.json`,
    /// `~/.alibabacloud/credentials.ini`, the ECS RAM role, a credentials URI: see
    /// [`oss_credentials::DefaultChain`]), fetched at the first request and refreshed ahead of
    /// expiry. Not the default: a library signs with what its caller chose, so a missing
    /// [`credentials`](Self::credentials) call fails `build()` instead of picking up whatever
    /// the machine offers.
    pub fn credentials_chain(self) -> Self {
        let env = oss_credentials::Environment::from_process();
        self.credentials_from(oss_credentials::DefaultChain::builder(env).build())
    }

    /// Sign with `provider`'s credentials (any of [`oss_credentials`]' providers, or a chain
    /// built with [`oss_credentials::DefaultChain::builder`]), cached and refreshed ahead of
    /// expiry by an [`oss_credentials::CachingProvider`]; credentials OSS refuses as expired
    /// are refreshed once and the part retried.
    pub fn credentials_from(
        self,
        provider: impl oss_credentials::FetchCredentials + 'static,
    ) -> Self {
        self.credentials_provider(oss_credentials::CachingProvider::new(provider))
    }

    /// Unsigned requests (public-read objects).
    pub fn anonymous(self) -> Self {
        self.http(|b| b.anonymous())
    }

    /// A header sent with every request of every download (see also
    /// [`Download::header`] for one download's headers).
    pub fn header(self, name: &str, value: &str) -> Self {
        self.http(|b| b.header(name, value))
    }

    /// Any other transport setting, on oss-http's builder: `configure` gets it and returns
    /// it (calls compose; a later one sees what earlier ones set). Checked by
    /// [`ClientBuilder::build`] like the rest.
    pub fn http(
        mut self,
        configure: impl FnOnce(oss_http::ClientBuilder) -> oss_http::ClientBuilder,
    ) -> Self {
        self.http = configure(self.http);
        self
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
        Download::new(
            self.http.clone(),
            self.endpoint_host.clone(),
            bucket.into(),
            key.into(),
            destination.into(),
        )
    }

    /// Starts describing a stream of `bucket`/`key` (or a range of it) to `writer`, in
    /// order, through parallel ranged GETs and a bounded reorder window, CRC-64 checked at
    /// the end; no file and no checkpoint (see [`Stream`](crate::Stream)).
    pub fn stream<W: tokio::io::AsyncWrite + Unpin + Send + 'static>(
        &self,
        bucket: impl Into<String>,
        key: impl Into<String>,
        writer: W,
    ) -> crate::Stream<W> {
        crate::Stream::new(self.http.clone(), bucket.into(), key.into(), writer)
    }

    /// Starts describing a batch: every object of `source` (a prefix listing, a manifest,
    /// any iterator of keys) into the directory `destination`, under one connection budget,
    /// resumable as a whole and shardable across machines (see [`BatchDownload`] for what it
    /// guarantees, and `docs/batch.md`). Nothing happens until it is awaited.
    ///
    /// ```no_run
    /// # async fn demo(client: oss_resume::Client) -> Result<(), oss_resume::Error> {
    /// use oss_resume::BatchSource;
    ///
    /// let report = client
    ///     .download_batch("examplebucket", BatchSource::prefix("dataset/"), "dataset")
    ///     .threads(32)
    ///     .await?;
    /// println!("{} downloaded, {} already there, {} failed",
    ///     report.downloaded, report.already_done, report.failed);
    /// # Ok(()) }
    /// ```
    ///
    /// [`BatchDownload`]: crate::BatchDownload
    pub fn download_batch(
        &self,
        bucket: impl Into<String>,
        source: crate::BatchSource,
        destination: impl Into<PathBuf>,
    ) -> crate::BatchDownload {
        crate::BatchDownload {
            client: self.clone(),
            bucket: bucket.into(),
            source,
            destination: destination.into(),
            options: crate::batch::BatchOptions::default(),
        }
    }

    /// The transport.
    pub fn http(&self) -> &oss_http::Client {
        &self.http
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
