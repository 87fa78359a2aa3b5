//! HTTP proxies: which requests go through one (curl's rules: per scheme, `NO_PROXY`
//! exceptions, the environment variables in both cases), and the connector that reaches the
//! destination through it with `CONNECT`.
//!
//! Every destination, `https://` and `http://` alike, is reached through a `CONNECT` tunnel,
//! never by handing a plain-HTTP request to the proxy in absolute form. One path for both;
//! the proxy sees neither the request nor its signature, and cannot rewrite a signed header,
//! add an encoding or serve a cached body, each of which would break a signature or the
//! byte-exact checks ranged GETs rely on. The cost: a proxy that allows `CONNECT` only to
//! port 443 (squid's default) refuses a plain-HTTP endpoint on port 80; the error says so.
//!
//! The proxy's credentials come from its URL (`http://user:password@proxy:3128`), are sent
//! as `Proxy-Authorization: Basic` in the `CONNECT` request only, and never appear in an
//! error or in `Debug` output.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::error::{BoxError, Error};

/// The port a proxy URL without one connects to: 1080, as curl assumes.
pub const DEFAULT_PROXY_PORT: u16 = 1080;

/// The longest `CONNECT` answer head read from a proxy.
const MAX_CONNECT_HEAD: usize = 16 * 1024;

/// Which HTTP proxy, if any, each request goes through. The default is none (every
/// connection is direct); a library uses a proxy only when its caller configures one.
///
/// ```
/// use oss_http::Proxy;
///
/// let env = |name: &str| match name {
///     "https_proxy" => Some("http://alice:s3cret@proxy.example:3128".to_owned()),
///     "NO_PROXY" => Some("localhost,.internal.example".to_owned()),
///     _ => None,
/// };
/// let proxy = Proxy::from_env(env)?;
/// assert_eq!(proxy.for_url("https://bkt.oss-cn-hangzhou.aliyuncs.com/k").as_deref(),
///     Some("http://proxy.example:3128"));
/// assert_eq!(proxy.for_url("https://oss.internal.example/k"), None);
/// // Plain-HTTP destinations use http_proxy, which is not set here.
/// assert_eq!(proxy.for_url("http://bkt.oss-cn-hangzhou.aliyuncs.com/k"), None);
/// assert!(!format!("{proxy:?}").contains("s3cret"));
/// # Ok::<(), oss_http::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Proxy {
    matcher: Option<Arc<Matcher>>,
    /// What was configured (passwords included: never printed, see `Debug`).
    texts: Arc<Texts>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.matcher.is_none() {
            return f.write_str("Proxy(none)");
        }
        let t = &self.texts;
        let shown = |v: &Option<String>| v.as_deref().map(without_userinfo);
        f.debug_struct("Proxy")
            .field("all", &shown(&t.all))
            .field("http", &shown(&t.http))
            .field("https", &shown(&t.https))
            .field("no_proxy", &t.no)
            .finish()
    }
}

/// The proxy URLs and exceptions of one configuration, before they become a [`Matcher`].
#[derive(Clone, Default)]
struct Texts {
    all: Option<String>,
    http: Option<String>,
    https: Option<String>,
    no: Option<String>,
}

impl Proxy {
    /// No proxy: every connection is direct (the default).
    pub fn none() -> Self {
        Self::default()
    }

    /// Every destination through the proxy at `url` (`http://[user:password@]host[:port]`;
    /// a URL without a scheme is `http://`, without a port uses [`DEFAULT_PROXY_PORT`]),
    /// except those `no_proxy` lists (curl's `NO_PROXY` syntax: comma-separated host names,
    /// which match their subdomains too, IP addresses and CIDR ranges, or `*` for all).
    ///
    /// # Errors
    /// [`Error::Config`] (`proxy`) naming what is wrong with the URL (an `https://` proxy,
    /// SOCKS, no host, a path...), without its password.
    pub fn url(url: &str, no_proxy: Option<&str>) -> Result<Self, Error> {
        Ok(Self::build(Texts {
            all: Some(check_url("proxy", url)?),
            no: no_proxy.map(str::to_owned),
            ..Texts::default()
        }))
    }

    /// The proxies the environment names, read through `lookup` (the process environment:
    /// `|name| std::env::var(name).ok()`), as curl reads them: `https_proxy` for `https://`
    /// destinations, `http_proxy` for `http://` ones, `all_proxy` for both when the
    /// scheme's own is unset, and `no_proxy` for the exceptions; each lowercase name first,
    /// then its uppercase form. An empty value counts as unset.
    ///
    /// # Errors
    /// [`Error::Config`] (`proxy`) naming the variable whose URL is unusable, without its
    /// password.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let find = |lower: &'static str, upper: &'static str| {
            [lower, upper].into_iter().find_map(|name| {
                lookup(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (name, v))
            })
        };
        let read = |lower, upper| -> Result<Option<String>, Error> {
            find(lower, upper)
                .map(|(name, value)| check_url(name, &value))
                .transpose()
        };
        Ok(Self::build(Texts {
            all: read("all_proxy", "ALL_PROXY")?,
            http: read("http_proxy", "HTTP_PROXY")?,
            https: read("https_proxy", "HTTPS_PROXY")?,
            no: find("no_proxy", "NO_PROXY").map(|(_, v)| v),
        }))
    }

    /// The same proxies with `no_proxy` as the exceptions, replacing any the configuration
    /// had (curl's `--noproxy`).
    #[must_use]
    pub fn with_no_proxy(self, no_proxy: &str) -> Self {
        let mut texts = (*self.texts).clone();
        texts.no = Some(no_proxy.to_owned());
        Self::build(texts)
    }

    fn build(texts: Texts) -> Self {
        if texts.all.is_none() && texts.http.is_none() && texts.https.is_none() {
            return Self::none();
        }
        let mut builder = Matcher::builder();
        if let Some(url) = &texts.all {
            builder = builder.all(url.clone());
        }
        if let Some(url) = &texts.http {
            builder = builder.http(url.clone());
        }
        if let Some(url) = &texts.https {
            builder = builder.https(url.clone());
        }
        if let Some(no) = &texts.no {
            builder = builder.no(no.clone());
        }
        Self {
            matcher: Some(Arc::new(builder.build())),
            texts: Arc::new(texts),
        }
    }

    /// Whether any request may go through a proxy.
    pub fn is_some(&self) -> bool {
        self.matcher.is_some()
    }

    /// The proxy a request to `url` goes through (`http://host:port`, without credentials),
    /// or `None` when it connects directly.
    pub fn for_url(&self, url: &str) -> Option<String> {
        let uri: Uri = url.parse().ok()?;
        self.intercept(&uri).map(|i| shown_uri(i.uri()))
    }

    fn intercept(&self, dst: &Uri) -> Option<Intercept> {
        self.matcher.as_ref()?.intercept(dst)
    }
}

/// Checks a proxy URL from `origin` (a variable's name, or `proxy`), and gives it the
/// default port when it has none.
fn check_url(origin: &str, url: &str) -> Result<String, Error> {
    let url = url.trim();
    let shown = without_userinfo(url);
    let bad = |problem: String| Error::config("proxy", format!("{origin} `{shown}`: {problem}"));
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("http".to_owned(), url),
    };
    match scheme.as_str() {
        "http" => {}
        "https" => {
            return Err(bad(
                "a TLS connection to the proxy itself (https://) is not supported; use the proxy's plain http:// address (requests to OSS are still TLS inside the tunnel)".into(),
            ));
        }
        s if s.starts_with("socks") => {
            return Err(bad(format!(
                "{s} proxies are not supported; give an HTTP proxy (http://host:port) that accepts CONNECT"
            )));
        }
        other => {
            return Err(bad(format!(
                "scheme `{other}` is not a proxy scheme; write http://host:port"
            )));
        }
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err(bad(
            "a proxy URL has no path or query; write http://host:port".into(),
        ));
    }
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    if host_port.is_empty() || host_port.starts_with(':') {
        return Err(bad("it has no host; write http://host:port".into()));
    }
    let has_port = match host_port.rsplit_once(']') {
        Some((_, after)) => after.starts_with(':'),
        None => host_port.contains(':'),
    };
    let with_port = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:{DEFAULT_PROXY_PORT}")
    };
    let full = format!("http://{with_port}/");
    let uri: Uri = full
        .parse()
        .map_err(|_| bad("it is not a valid http://host:port URL".into()))?;
    if uri.port_u16().is_none_or(|p| p == 0) {
        return Err(bad("its port is not 1-65535".into()));
    }
    Ok(full)
}

/// `url` without `user:password@`.
fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").map_or(("", url), |(s, r)| (s, r));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if scheme.is_empty() {
        format!("{host}{tail}")
    } else {
        format!("{scheme}://{host}{tail}")
    }
}

/// `http://host:port` of a proxy URI.
fn shown_uri(uri: &Uri) -> String {
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("http://{host}")
}

/// Why a proxy did not open the tunnel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy answered `CONNECT` with a status other than 2xx.
    #[error("the proxy {proxy} refused CONNECT {target} with `{status} {reason}`{hint}")]
    Refused {
        /// The proxy (`http://host:port`).
        proxy: String,
        /// `host:port` asked for.
        target: String,
        /// The status the proxy answered.
        status: u16,
        /// Its reason phrase.
        reason: String,
        /// What usually fixes it.
        hint: &'static str,
    },
    /// The proxy closed the connection or sent something that is not an HTTP answer.
    #[error("the proxy {proxy} did not answer CONNECT {target} with an HTTP response ({problem})")]
    Malformed {
        /// The proxy.
        proxy: String,
        /// `host:port` asked for.
        target: String,
        /// What was wrong.
        problem: &'static str,
    },
    /// Reading or writing the `CONNECT` exchange failed.
    #[error("the CONNECT exchange with the proxy {proxy} failed")]
    Io {
        /// The proxy.
        proxy: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The TCP connection to the proxy could not be made.
    #[error("could not connect to the proxy {proxy}")]
    Connect {
        /// The proxy.
        proxy: String,
        /// The connector's error.
        #[source]
        source: BoxError,
    },
}

impl ProxyError {
    /// Whether trying again may help: a proxy that could not reach the destination
    /// (502/503/504) or a connection problem; a refusal (403, 407, 405...) will not change.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProxyError::Refused { status, .. } => matches!(status, 502..=504),
            ProxyError::Malformed { .. } => false,
            ProxyError::Io { .. } | ProxyError::Connect { .. } => true,
        }
    }

    /// The status the proxy answered, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ProxyError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// What usually fixes a proxy's refusal.
fn refusal_hint(status: u16, port: u16) -> &'static str {
    match status {
        407 => {
            "; the proxy wants credentials: put them in its URL (http://user:password@host:port)"
        }
        403 if port != 443 => {
            "; many proxies allow CONNECT to port 443 only: use an https:// endpoint, or exempt this host with NO_PROXY / --noproxy"
        }
        403 => {
            "; the proxy's rules forbid this destination: ask its administrator, or exempt this host with NO_PROXY / --noproxy"
        }
        _ => "",
    }
}

/// A connector that reaches each destination through the configured proxy with `CONNECT`,
/// or directly when the proxy rules say so (no proxy, or `NO_PROXY`). It wraps the TCP
/// connector (`inner`), so TLS (hyper-rustls around this) runs end to end inside the tunnel.
#[derive(Clone, Debug)]
pub struct ProxyConnector<C> {
    inner: C,
    proxy: Proxy,
}

impl<C> ProxyConnector<C> {
    /// `inner` (a TCP connector such as hyper-util's `HttpConnector`) through `proxy`.
    pub fn new(inner: C, proxy: Proxy) -> Self {
        Self { inner, proxy }
    }
}

type ConnectFuture = Pin<Box<dyn Future<Output = Result<TokioIo<TcpStream>, BoxError>> + Send>>;

impl<C> tower_service::Service<Uri> for ProxyConnector<C>
where
    C: tower_service::Service<Uri, Response = TokioIo<TcpStream>> + Send + 'static,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = ConnectFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let Some(intercept) = self.proxy.intercept(&dst) else {
            let direct = self.inner.call(dst);
            return Box::pin(async move { direct.await.map_err(Into::into) });
        };
        let proxy = shown_uri(intercept.uri());
        let auth = intercept.basic_auth().cloned();
        let connecting = self.inner.call(intercept.uri().clone());
        Box::pin(async move {
            let host = dst.host().unwrap_or_default().to_owned();
            let port = dst.port_u16().unwrap_or(match dst.scheme_str() {
                Some("http") => 80,
                _ => 443,
            });
            let io = connecting.await.map_err(|e| {
                Box::new(ProxyError::Connect {
                    proxy: proxy.clone(),
                    source: e.into(),
                }) as BoxError
            })?;
            let mut stream = io.into_inner();
            tunnel(&mut stream, &proxy, &host, port, auth.as_ref())
                .await
                .map_err(|e| Box::new(e) as BoxError)?;
            Ok(TokioIo::new(stream))
        })
    }
}

/// Sends `CONNECT host:port` and reads the answer's head; `Ok` on a 2xx.
async fn tunnel(
    stream: &mut TcpStream,
    proxy: &str,
    host: &str,
    port: u16,
    auth: Option<&http::HeaderValue>,
) -> Result<(), ProxyError> {
    let target = format!("{host}:{port}");
    let io = |source| ProxyError::Io {
        proxy: proxy.to_owned(),
        source,
    };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    if let Some(auth) = auth {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(auth.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).await.map_err(io)?;
    // Byte by byte up to the blank line: nothing after the head may be consumed (the TLS
    // handshake that follows is the server's), and a CONNECT answer is a few hundred bytes.
    let malformed = |problem| ProxyError::Malformed {
        proxy: proxy.to_owned(),
        target: target.clone(),
        problem,
    };
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_CONNECT_HEAD {
            return Err(malformed("its answer's head is too long"));
        }
        let byte = match stream.read_u8().await {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(malformed("it closed the connection without an answer"));
            }
            Err(e) => return Err(io(e)),
        };
        head.push(byte);
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(malformed("its answer is not an HTTP/1.x response")),
    }
    let status = response.code.unwrap_or(0);
    if (200..300).contains(&status) {
        return Ok(());
    }
    Err(ProxyError::Refused {
        proxy: proxy.to_owned(),
        target,
        status,
        reason: response
            .reason
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect(),
        hint: refusal_hint(status, port),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn urls_are_checked_and_completed() {
        assert_eq!(check_url("p", "proxy:3128").unwrap(), "http://proxy:3128/");
        assert_eq!(
            check_url("p", "http://proxy").unwrap(),
            "http://proxy:1080/"
        );
        assert_eq!(
            check_url("p", "http://u:pw@[::1]").unwrap(),
            "http://u:pw@[::1]:1080/"
        );
        let e = check_url("HTTPS_PROXY", "socks5://u:hunter22@h:1").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("HTTPS_PROXY `socks5://h:1`"), "{text}");
        assert!(!text.contains("hunter22"), "{text}");
        assert!(
            check_url("p", "https://h:1")
                .unwrap_err()
                .to_string()
                .contains("plain http://")
        );
        assert!(check_url("p", "http://h:1/path").is_err());
        assert!(check_url("p", "http://:1").is_err());
        assert!(check_url("p", "http://h:99999").is_err());
        assert!(
            check_url("p", "ftp://h")
                .unwrap_err()
                .to_string()
                .contains("ftp")
        );
    }

    #[test]
    fn environment_rules() {
        let p = Proxy::from_env(env(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("ALL_PROXY", "http://all:3"),
            ("no_proxy", "skip.example, 10.0.0.0/8"),
        ]))
        .unwrap();
        assert_eq!(
            p.for_url("https://a.b/k").as_deref(),
            Some("http://lower:2")
        );
        assert_eq!(p.for_url("http://a.b/k").as_deref(), Some("http://all:3"));
        assert_eq!(p.for_url("https://x.skip.example/k"), None);
        assert_eq!(p.for_url("https://10.1.2.3:9000/k"), None);
        let none = Proxy::from_env(env(&[("HTTPS_PROXY", " "), ("NO_PROXY", "*")])).unwrap();
        assert!(!none.is_some());
        let star = Proxy::url("http://p:1", Some("*")).unwrap();
        assert_eq!(star.for_url("https://a.b/"), None);
        let e = Proxy::from_env(env(&[("http_proxy", "socks5h://h")])).unwrap_err();
        assert!(e.to_string().contains("http_proxy"), "{e}");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let p = Proxy::url("http://alice:pa55word@proxy:3128", None).unwrap();
        let text = format!("{p:?}");
        assert!(
            text.contains("proxy:3128") && !text.contains("pa55word"),
            "{text}"
        );
        assert_eq!(
            p.for_url("https://x/").as_deref(),
            Some("http://proxy:3128")
        );
        assert_eq!(format!("{:?}", Proxy::none()), "Proxy(none)");
    }
}
