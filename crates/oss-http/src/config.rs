//! The client builder: every setting, its default, and the checks `build()` makes.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::HeaderValue;

use crate::address::{AddressingStyle, Endpoint, HostKind};
use crate::client::Client;
use crate::error::Error;
use crate::headers::parse_extra_header;
use crate::object_url::ObjectUrl;
use crate::proxy::Proxy;
use crate::redact::RedactedHeaders;
use crate::resolve::{ResolveOverride, parse_pattern};
use crate::sign::{OssSigner, RequestSigner};
use crate::timeouts::{MinRate, StallPolicy, Timeouts};
use crate::tls::TlsTrust;
use oss_sign::{Credentials, ProvideCredentials, SignatureVersion};

/// A source of wall-clock time (injectable so tests can simulate a skewed clock).
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How requests are authenticated.
#[derive(Clone)]
pub(crate) enum Auth {
    /// Not chosen yet: `build()` refuses.
    Unset,
    /// Unsigned requests (public-read buckets).
    Anonymous,
    /// Signed at send time with whatever the provider gives for that attempt.
    Provider(Arc<dyn ProvideCredentials>),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Auth::Unset => "Unset",
            Auth::Anonymous => "Anonymous",
            Auth::Provider(_) => "Provider(<redacted>)",
        })
    }
}

/// Builds a [`Client`]. Every setting has a documented default; [`ClientBuilder::build`]
/// checks the combination and names the setting and the fix when something is wrong.
///
/// ```
/// use std::time::Duration;
/// let client = oss_http::Client::builder()
///     .endpoint("oss-cn-hangzhou.aliyuncs.com") // https is assumed
///     .anonymous()
///     .connect_timeout(Duration::from_secs(5))
///     .stall_timeout(Duration::from_secs(20))
///     .build()?;
/// assert_eq!(client.addressing_style(), oss_http::AddressingStyle::VirtualHosted);
/// # Ok::<(), oss_http::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    endpoint: Option<String>,
    region: Option<String>,
    signature_version: SignatureVersion,
    cname: bool,
    path_style: bool,
    pub(crate) auth: Auth,
    user_agent: Option<String>,
    timeouts: Timeouts,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
    resolve: Vec<ResolveOverride>,
    tls: TlsTrust,
    proxy: Proxy,
    presigned: Option<ObjectUrl>,
    extra_headers: HeaderMap,
    clock: Option<Clock>,
    /// The first problem found while collecting settings, reported by `build()`.
    deferred: Option<Error>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: None,
            signature_version: SignatureVersion::V4,
            cname: false,
            path_style: false,
            auth: Auth::Unset,
            user_agent: None,
            timeouts: Timeouts::default(),
            pool_idle_timeout: Duration::from_secs(50),
            pool_max_idle_per_host: 64,
            resolve: Vec::new(),
            tls: TlsTrust::default(),
            proxy: Proxy::none(),
            presigned: None,
            extra_headers: HeaderMap::new(),
            clock: None,
            deferred: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("signature_version", &self.signature_version)
            .field("cname", &self.cname)
            .field("path_style", &self.path_style)
            .field("auth", &self.auth)
            .field("user_agent", &self.user_agent)
            .field("timeouts", &self.timeouts)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .field("resolve", &self.resolve)
            .field("proxy", &self.proxy)
            .field("presigned", &self.presigned)
            .field("extra_headers", &RedactedHeaders(&self.extra_headers))
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    fn defer(&mut self, error: Error) {
        if self.deferred.is_none() {
            self.deferred = Some(error);
        }
    }

    /// The OSS endpoint: `oss-cn-hangzhou.aliyuncs.com` (https assumed), `https://...`, or
    /// `http://127.0.0.1:9000`. Required.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The region, e.g. `cn-hangzhou`. Needed by signature V4; when unset it is taken from
    /// an `oss-<region>.aliyuncs.com` endpoint.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Signature version (default 4).
    pub fn signature_version(mut self, version: SignatureVersion) -> Self {
        self.signature_version = version;
        self
    }

    /// The endpoint is a custom domain bound to the bucket (`https://domain/key`). Default off.
    pub fn cname(mut self, is_cname: bool) -> Self {
        self.cname = is_cname;
        self
    }

    /// Force path-style addressing (`endpoint/bucket/key`). Default off; it is chosen
    /// automatically for IP-literal and `localhost` endpoints. Real OSS rejects it.
    pub fn path_style(mut self, force: bool) -> Self {
        self.path_style = force;
        self
    }

    /// Sign with these credentials (e.g. [`Credentials::from_env`], which reads
    /// `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` and `OSS_SESSION_TOKEN`). Anonymous
    /// credentials send unsigned requests.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.auth = if credentials.is_anonymous() {
            Auth::Anonymous
        } else {
            Auth::Provider(Arc::new(credentials))
        };
        self
    }

    /// Sign with credentials from `provider`, asked again for every attempt (so refreshed STS
    /// tokens are picked up during long downloads).
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.auth = Auth::Provider(Arc::new(provider));
        self
    }

    /// Send unsigned requests (public-read objects).
    pub fn anonymous(mut self) -> Self {
        self.auth = Auth::Anonymous;
        self
    }

    /// A product token put before ours in `User-Agent` (ours, `oss-http/<version>`, is
    /// always sent).
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self
    }

    /// All three timeouts at once.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Limit on making one TCP connection (default 10 s), divided evenly among the
    /// addresses the host resolves to.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// Limit from sending a request to its response head, covering connection, TLS handshake
    /// and upload of the request (default 30 s).
    pub fn response_head_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.response_head = timeout;
        self
    }

    /// A body stalls when no byte arrives for this long (default 30 s). There is no timeout
    /// over a whole body.
    pub fn stall_timeout(mut self, idle: Duration) -> Self {
        self.timeouts.stall.idle = Some(idle);
        self
    }

    /// A body also stalls when it averages under `bytes_per_sec` over a whole `window` (like
    /// curl's `--speed-limit`/`--speed-time`). Default off.
    pub fn min_rate(mut self, bytes_per_sec: u64, window: Duration) -> Self {
        self.timeouts.stall.min_rate = Some(MinRate {
            bytes_per_sec,
            window,
        });
        self
    }

    /// The whole stall policy (for example to turn the idle rule off and keep only a
    /// minimum rate).
    pub fn stall_policy(mut self, policy: StallPolicy) -> Self {
        self.timeouts.stall = policy;
        self
    }

    /// Idle pooled connections close after this long (default 50 s, under the usual 60 s
    /// server keep-alive so we close first). A pool timer enforces it even when idle. More
    /// than a year (e.g. `Duration::MAX`) means idle connections are never closed by us.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// At most this many idle connections kept per host (default 64).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Resolve `host` (or every name under a domain with `*.domain`) to `addrs`, like
    /// curl's `--resolve`; the port still comes from the endpoint. Lets virtual-hosted and
    /// CNAME names reach a local server, or pins an endpoint to known addresses.
    pub fn resolve(mut self, host: &str, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        let addrs: Vec<IpAddr> = addrs.into_iter().collect();
        match parse_pattern(host) {
            Ok(_) if addrs.is_empty() => self.defer(Error::config(
                "resolve",
                format!("no addresses given for `{host}`"),
            )),
            Ok(pattern) => self.resolve.push(ResolveOverride { pattern, addrs }),
            Err(problem) => self.defer(Error::config("resolve", problem)),
        }
        self
    }

    /// Which certificate authorities HTTPS trusts (default: webpki roots).
    pub fn tls_trust(mut self, trust: TlsTrust) -> Self {
        self.tls = trust;
        self
    }

    /// Reach OSS through an HTTP proxy (default [`Proxy::none`]: every connection is
    /// direct). Each connection the proxy rules select is a `CONNECT` tunnel, for `https://`
    /// and `http://` endpoints alike (see [`Proxy`]); the resolver overrides apply to direct
    /// connections only (the proxy resolves what it connects to).
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// Reach one object through its presigned URL (see [`ObjectUrl`]): the endpoint and the
    /// addressing come from the URL, requests are not signed (the URL's query is the
    /// signature, sent as it is), and only that object can be requested. HEAD is replaced
    /// by a GET of its first byte (a presigned GET URL allows GET only), and the part GETs
    /// send no `x-oss-*` header, which the signature would have to cover: `build()` refuses
    /// credentials and `x-oss-*` headers alongside a presigned URL.
    pub fn presigned(mut self, url: ObjectUrl) -> Self {
        self.presigned = Some(url);
        self
    }

    /// A header sent with every request (e.g. `x-oss-traffic-limit`, `x-oss-request-payer`,
    /// SSE-C headers). SSE-C keys, tokens and values marked sensitive are redacted in `Debug`.
    /// Headers the client controls (`Authorization`, `Range`, `If-Match`, `Date`, ...) are
    /// refused.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match parse_extra_header(name, value) {
            Ok((name, value)) => {
                self.extra_headers.append(name, value);
            }
            Err(problem) => self.defer(Error::config("header", problem)),
        }
        self
    }

    /// Where "now" comes from (default: the system clock). For tests and simulations, e.g. a
    /// clock that is 20 minutes off to exercise `RequestTimeTooSkewed` handling.
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Checks the settings and builds the client. Errors name the setting and the fix.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(e) = self.deferred {
            return Err(e);
        }
        let presigned_endpoint = self.presigned.as_ref().map(|u| u.endpoint().to_owned());
        let endpoint_text = self.endpoint.as_deref().or(presigned_endpoint.as_deref()).ok_or_else(|| {
            Error::config(
                "endpoint",
                "not set; call .endpoint(\"oss-cn-hangzhou.aliyuncs.com\") (or http://127.0.0.1:PORT for a local emulator)",
            )
        })?;
        let endpoint = Endpoint::parse(endpoint_text)?;
        let mut auth = self.auth;
        if let Some(url) = &self.presigned {
            check_presigned(url, &auth, &self.extra_headers)?;
            auth = Auth::Anonymous;
        }
        let style = match (self.cname, self.path_style) {
            _ if self.presigned.is_some() => self
                .presigned
                .as_ref()
                .map_or(AddressingStyle::VirtualHosted, ObjectUrl::style),
            (true, true) => {
                return Err(Error::config(
                    "path_style",
                    "both CNAME and path style are set; a CNAME names the bucket already, so choose one",
                ));
            }
            (true, false) => AddressingStyle::Cname,
            (false, true) => AddressingStyle::Path,
            (false, false) => match endpoint.kind {
                HostKind::Ip | HostKind::Localhost => AddressingStyle::Path,
                HostKind::Name => AddressingStyle::VirtualHosted,
            },
        };
        let region = match &self.region {
            Some(r) if r.trim().is_empty() => {
                return Err(Error::config(
                    "region",
                    "it is empty; give the bucket's region such as `cn-hangzhou`",
                ));
            }
            Some(r) => Some(r.trim().to_owned()),
            None => endpoint.inferred_region(),
        };
        let signer = match auth {
            Auth::Unset => {
                return Err(Error::config(
                    "credentials",
                    "none given; call .credentials(...) (e.g. from OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET), .credentials_provider(...), or .anonymous() for public objects",
                ));
            }
            Auth::Anonymous => None,
            Auth::Provider(provider) => {
                if self.signature_version == SignatureVersion::V4 && region.is_none() {
                    return Err(Error::config(
                        "region",
                        format!(
                            "signature V4 needs the bucket's region and `{}` does not name one; call .region(\"cn-hangzhou\") or use signature V1",
                            endpoint.host
                        ),
                    ));
                }
                let signer: Arc<dyn RequestSigner> = Arc::new(OssSigner::new(
                    self.signature_version,
                    region.as_deref(),
                    provider,
                )?);
                Some(signer)
            }
        };
        self.timeouts.validate()?;
        if self.pool_idle_timeout.is_zero() {
            return Err(Error::config(
                "pool_idle_timeout",
                "it is zero, so no connection could be reused; use e.g. 50 s, or pool_max_idle_per_host(0) to disable the pool",
            ));
        }
        let product = match &self.user_agent {
            Some(p) if !p.trim().is_empty() => format!("{} {}", p.trim(), our_user_agent()),
            _ => our_user_agent(),
        };
        let user_agent = HeaderValue::from_str(&product).map_err(|_| {
            Error::config("user_agent", "it holds characters a header cannot carry")
        })?;
        let tls = crate::tls::client_config(&self.tls)?;
        Ok(Client::from_parts(crate::client::Parts {
            endpoint,
            style,
            region,
            signature_version: self.signature_version,
            signer,
            user_agent,
            extra_headers: self.extra_headers,
            timeouts: self.timeouts,
            pool_idle_timeout: self.pool_idle_timeout,
            pool_max_idle_per_host: self.pool_max_idle_per_host,
            resolve: self.resolve,
            proxy: self.proxy,
            presigned: self.presigned,
            tls,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemTime::now)),
        }))
    }
}

/// A presigned URL carries its own signature, which covers its `x-oss-*` headers: the
/// client may neither sign nor add such a header.
fn check_presigned(url: &ObjectUrl, auth: &Auth, headers: &HeaderMap) -> Result<(), Error> {
    if let Auth::Provider(_) = auth {
        return Err(Error::config(
            "presigned",
            format!(
                "{url} carries its own signature; give no credentials with it (or give the bucket and key, and credentials, instead of the URL)"
            ),
        ));
    }
    if let Some(name) = headers.keys().find(|n| n.as_str().starts_with("x-oss-")) {
        return Err(Error::config(
            "presigned",
            format!(
                "the header `{name}` would change what the presigned URL's signature covers, so OSS would refuse it; ask for a URL signed with it, or leave it out"
            ),
        ));
    }
    Ok(())
}

/// `oss-http/<version>`.
pub(crate) fn our_user_agent() -> String {
    format!("oss-http/{}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ClientBuilder {
        Client::builder().endpoint("http://127.0.0.1:9").anonymous()
    }

    fn err(b: ClientBuilder) -> String {
        b.build().unwrap_err().to_string()
    }

    #[test]
    fn styles_are_chosen_from_the_endpoint() {
        let c = |e: &str| Client::builder().endpoint(e).anonymous().build().unwrap();
        assert_eq!(
            c("http://127.0.0.1:9").addressing_style(),
            AddressingStyle::Path
        );
        assert_eq!(
            c("http://[::1]:9").addressing_style(),
            AddressingStyle::Path
        );
        assert_eq!(
            c("http://localhost:9").addressing_style(),
            AddressingStyle::Path
        );
        assert_eq!(
            c("oss-cn-hangzhou.aliyuncs.com").addressing_style(),
            AddressingStyle::VirtualHosted
        );
        let cname = Client::builder()
            .endpoint("files.example.com")
            .cname(true)
            .anonymous()
            .build()
            .unwrap();
        assert_eq!(cname.addressing_style(), AddressingStyle::Cname);
        let forced = Client::builder()
            .endpoint("oss.example.com")
            .path_style(true)
            .anonymous()
            .build()
            .unwrap();
        assert_eq!(forced.addressing_style(), AddressingStyle::Path);
    }

    #[test]
    fn clear_errors_at_build_time() {
        assert!(err(Client::builder().anonymous()).contains("endpoint: not set"));
        assert!(err(Client::builder().endpoint("x.com")).contains("credentials: none given"));
        assert!(err(base().cname(true).path_style(true)).contains("choose one"));
        assert!(err(base().region(" ")).contains("region: it is empty"));
        assert!(err(base().connect_timeout(Duration::from_secs(60))).contains("connect_timeout"));
        assert!(err(base().pool_idle_timeout(Duration::ZERO)).contains("pool_idle_timeout"));
        assert!(err(base().header("Range", "bytes=0-1")).contains("set by the client"));
        assert!(err(base().header("bad name", "v")).contains("not a valid header name"));
        assert!(
            err(base().resolve("bad host", [IpAddr::from([127, 0, 0, 1])])).contains("resolve")
        );
        assert!(err(base().resolve("ok.com", [])).contains("no addresses"));
        assert!(err(base().user_agent("bad\nagent")).contains("user_agent"));
        let secret_value = "sk\u{7f}ey";
        let text = err(base().header("x-oss-server-side-encryption-customer-key", secret_value));
        assert!(!text.contains(secret_value), "{text}");
    }

    #[test]
    fn v4_needs_a_region_v1_does_not() {
        let creds = Credentials::new("LTAI5tExampleAccessKeyId", "ExampleSecretKey0123").unwrap();
        let local = || Client::builder().endpoint("http://127.0.0.1:9");
        let e = err(local().credentials(creds.clone()));
        assert!(e.contains("signature V4 needs the bucket's region"), "{e}");
        local()
            .credentials(creds.clone())
            .signature_version(SignatureVersion::V1)
            .build()
            .unwrap();
        local()
            .credentials(creds.clone())
            .region("cn-hangzhou")
            .build()
            .unwrap();
        let e = err(local().credentials(creds.clone()).region("cn hangzhou"));
        assert!(e.starts_with("invalid client configuration: region"), "{e}");
        // Taken from an Alibaba endpoint.
        let c = Client::builder()
            .endpoint("oss-cn-hangzhou.aliyuncs.com")
            .credentials(creds.clone())
            .build()
            .unwrap();
        let text = format!("{c:?}");
        assert!(text.contains("cn-hangzhou"), "{text}");
        assert!(!text.contains("ExampleSecretKey0123"), "{text}");
        // Anonymous credentials mean unsigned requests.
        local()
            .credentials(Credentials::anonymous())
            .build()
            .unwrap();
    }

    #[test]
    fn debug_redacts_extra_header_secrets() {
        let b = base()
            .header("x-oss-server-side-encryption-customer-key", "S2V5S2V5")
            .header("x-oss-traffic-limit", "819200");
        let text = format!("{b:?}");
        assert!(!text.contains("S2V5S2V5"), "{text}");
        assert!(text.contains("819200"), "{text}");
        let client = b.build().unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("S2V5S2V5"), "{text}");
        assert!(text.contains("819200"), "{text}");
    }

    #[test]
    fn user_agent_always_carries_ours() {
        let c = base().user_agent("ossget/1.2").build().unwrap();
        assert_eq!(
            c.user_agent(),
            format!("ossget/1.2 oss-http/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
