//! Name resolution with overrides, like curl's `--resolve`: chosen host names (or every name
//! under a domain, `*.example.com`) resolve to given addresses; everything else goes to the
//! system resolver. This is how tests reach virtual-hosted (`bucket.endpoint`) and CNAME names
//! on 127.0.0.1 — and how a user pins an endpoint to one address.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};

use crate::error::BoxError;

/// One override: a host name or `*.domain` pattern and the addresses it resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolveOverride {
    /// Lowercased exact host, or `*.suffix`.
    pub(crate) pattern: String,
    pub(crate) addrs: Vec<IpAddr>,
}

impl ResolveOverride {
    fn matches(&self, host: &str) -> bool {
        match self.pattern.strip_prefix("*.") {
            Some(suffix) => host
                .strip_suffix(suffix)
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            None => self.pattern == host,
        }
    }
}

/// A resolver that applies overrides first (exact names before wildcards).
#[derive(Clone, Debug)]
pub(crate) struct OverrideResolver {
    overrides: Arc<Vec<ResolveOverride>>,
    system: GaiResolver,
}

impl OverrideResolver {
    pub(crate) fn new(mut overrides: Vec<ResolveOverride>) -> Self {
        // Exact names win over wildcards; longer wildcards over shorter ones.
        overrides.sort_by_key(|o| {
            (
                o.pattern.starts_with("*."),
                std::cmp::Reverse(o.pattern.len()),
            )
        });
        Self {
            overrides: Arc::new(overrides),
            system: GaiResolver::new(),
        }
    }

    /// The overriding addresses for `host`, if any.
    pub(crate) fn lookup_override(&self, host: &str) -> Option<&[IpAddr]> {
        let host = host.to_ascii_lowercase();
        self.overrides
            .iter()
            .find(|o| o.matches(&host))
            .map(|o| o.addrs.as_slice())
    }
}

/// A failed lookup; recognised by the client to report [`crate::Error::Dns`].
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve `{host}`")]
pub(crate) struct ResolveError {
    pub(crate) host: String,
    #[source]
    pub(crate) source: BoxError,
}

type ResolveFuture =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, ResolveError>> + Send>>;

impl tower_service::Service<Name> for OverrideResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = ResolveError;
    type Future = ResolveFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let host = name.as_str().to_owned();
        if let Some(addrs) = self.lookup_override(&host) {
            // Port 0: the connector puts the URL's port in.
            let addrs: Vec<SocketAddr> = addrs.iter().map(|ip| SocketAddr::new(*ip, 0)).collect();
            return Box::pin(async move { Ok(addrs.into_iter()) });
        }
        let lookup = self.system.call(name);
        Box::pin(async move {
            match lookup.await {
                Ok(addrs) => {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    if addrs.is_empty() {
                        return Err(ResolveError {
                            host,
                            source: "no addresses".into(),
                        });
                    }
                    Ok(addrs.into_iter())
                }
                Err(e) => Err(ResolveError {
                    host,
                    source: Box::new(e),
                }),
            }
        })
    }
}

/// Parses a host pattern for an override: a host name or `*.domain`, lowercased.
pub(crate) fn parse_pattern(pattern: &str) -> Result<String, String> {
    let lower = pattern.trim().to_ascii_lowercase();
    let name = lower.strip_prefix("*.").unwrap_or(&lower);
    let ok = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(lower)
    } else {
        Err(format!(
            "`{pattern}` is not a host name or `*.domain` pattern"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use tower_service::Service as _;

    fn o(pattern: &str, last: u8) -> ResolveOverride {
        ResolveOverride {
            pattern: parse_pattern(pattern).unwrap(),
            addrs: vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))],
        }
    }

    #[test]
    fn exact_beats_wildcard() {
        let r = OverrideResolver::new(vec![o("*.example.com", 1), o("b.example.com", 2)]);
        let ip = |h: &str| r.lookup_override(h).map(|a| a[0].to_string());
        assert_eq!(ip("B.Example.com").as_deref(), Some("127.0.0.2"));
        assert_eq!(ip("x.example.com").as_deref(), Some("127.0.0.1"));
        assert_eq!(ip("a.b.example.com").as_deref(), Some("127.0.0.1"));
        assert_eq!(ip("example.com"), None);
        assert_eq!(ip("xexample.com"), None);
    }

    #[test]
    fn patterns_are_checked() {
        assert!(parse_pattern("*.ok.com").is_ok());
        assert!(parse_pattern("bad host").is_err());
        assert!(parse_pattern("*.").is_err());
        assert!(parse_pattern("").is_err());
    }

    #[tokio::test]
    async fn overrides_answer_with_port_zero_and_failures_are_typed() {
        let mut r = OverrideResolver::new(vec![o("bkt.oss.test", 9)]);
        let addrs: Vec<_> = r
            .call("bkt.oss.test".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(addrs, vec!["127.0.0.9:0".parse::<SocketAddr>().unwrap()]);
        // `.invalid` never resolves (RFC 6761).
        let e = r
            .call("nothing.invalid".parse().unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.host, "nothing.invalid");
    }
}
