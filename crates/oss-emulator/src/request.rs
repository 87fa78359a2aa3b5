//! A received request, reduced to what the model needs, and OSS addressing
//! (fact sheet section 5).

use std::net::IpAddr;

use http::{HeaderMap, Method};

/// A request as the model sees it (front-end independent).
///
/// `Debug` hides what authenticates the request: the query (a presigned URL's signature
/// and token) and the `Authorization`, `x-oss-security-token` and SSE-C key headers.
#[derive(Clone)]
pub struct RequestParts {
    /// HTTP method.
    pub method: Method,
    /// The Host header (or the URI authority when there is none), port included.
    pub host: String,
    /// The raw (still percent-encoded) path.
    pub raw_path: String,
    /// The raw query string (without `?`), if any.
    pub raw_query: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
}

impl std::fmt::Debug for RequestParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let name = name.as_str();
                let secret = name == "authorization"
                    || name == "x-oss-security-token"
                    || name.starts_with("x-oss-server-side-encryption-customer-key");
                let shown = if secret {
                    "<redacted>"
                } else {
                    value.to_str().unwrap_or("<binary>")
                };
                (name, shown)
            })
            .collect();
        f.debug_struct("RequestParts")
            .field("method", &self.method)
            .field("host", &self.host)
            .field("raw_path", &self.raw_path)
            .field("raw_query", &self.raw_query.as_ref().map(|_| "<redacted>"))
            .field("headers", &headers)
            .finish()
    }
}

impl RequestParts {
    /// Builds the model's view of an `http` request head.
    pub fn from_http(method: Method, uri: &http::Uri, headers: HeaderMap) -> Self {
        let host = headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
            .unwrap_or_default();
        Self {
            method,
            host,
            raw_path: uri.path().to_owned(),
            raw_query: uri.query().map(str::to_owned),
            headers,
        }
    }

    /// Decoded query pairs in order; a key without `=` has an empty value. `+` decodes to a
    /// space, as `oss-sign` decodes the query it verifies, so what is served is what was
    /// signed (SDKs always send `%2B` for `+`).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let Some(q) = &self.raw_query else {
            return Vec::new();
        };
        let decode = |s: &str| percent_decode(&s.replace('+', " "));
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (decode(k), decode(v)),
                None => (decode(p), String::new()),
            })
            .collect()
    }

    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The Host without its port.
    pub fn host_name(&self) -> &str {
        strip_port(&self.host)
    }
}

/// Percent-decodes (lossy UTF-8). `+` is kept as `+` (paths; queries map it to a space first).
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|x| (*x as char).to_digit(16)),
                b.get(i + 2).and_then(|x| (*x as char).to_digit(16)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        // IPv6 literal: [::1]:port
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

/// What a request addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// `GET /-/stats`: the counters (a bucket name cannot start with `-`).
    Stats,
    /// The service (ListBuckets): `/` on an endpoint.
    Service,
    /// A bucket-level request.
    Bucket { bucket: String },
    /// An object.
    Object { bucket: String, key: String },
    /// Path style on a host that is not an IP literal or `localhost`.
    PathStyleForbidden,
}

/// How hosts map to buckets.
#[derive(Clone, Debug, Default)]
pub(crate) struct Addressing {
    /// Custom domains bound to buckets (lowercase host -> bucket).
    pub(crate) cnames: std::collections::HashMap<String, String>,
    /// Extra endpoint domains (requests to them directly are path style).
    pub(crate) endpoint_domains: Vec<String>,
}

impl Addressing {
    fn is_endpoint_domain(&self, host: &str) -> bool {
        if self
            .endpoint_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(host))
        {
            return true;
        }
        // The public OSS endpoints: oss-<region>[-internal].aliyuncs.com and oss.aliyuncs.com.
        host.strip_suffix(".aliyuncs.com").is_some_and(|first| {
            !first.contains('.') && (first == "oss" || first.starts_with("oss-"))
        })
    }

    /// Resolves the bucket and key of a request.
    pub(crate) fn resolve(&self, req: &RequestParts) -> Target {
        if req.raw_path == "/-/stats" {
            return Target::Stats;
        }
        let host = req.host_name().to_ascii_lowercase();
        let path = percent_decode(&req.raw_path);
        let rest = path.strip_prefix('/').unwrap_or(&path);
        if let Some(bucket) = self.cnames.get(&host) {
            return bucket_target(bucket.clone(), rest);
        }
        let path_style = host.parse::<IpAddr>().is_ok() || host == "localhost" || host.is_empty();
        if path_style {
            if rest.is_empty() {
                return Target::Service;
            }
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            return bucket_target(bucket.to_owned(), key);
        }
        if self.is_endpoint_domain(&host) || !host.contains('.') {
            return if rest.is_empty() {
                Target::Service
            } else {
                Target::PathStyleForbidden
            };
        }
        let bucket = host.split('.').next().unwrap_or_default().to_owned();
        bucket_target(bucket, rest)
    }
}

fn bucket_target(bucket: String, key: &str) -> Target {
    if key.is_empty() {
        Target::Bucket { bucket }
    } else {
        Target::Object {
            bucket,
            key: key.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(host: &str, path: &str) -> RequestParts {
        let mut headers = HeaderMap::new();
        headers.insert("host", host.parse().unwrap());
        RequestParts::from_http(Method::GET, &path.parse().unwrap(), headers)
    }

    #[test]
    fn debug_hides_what_authenticates() {
        let mut r = req(
            "127.0.0.1",
            "/b/k?OSSAccessKeyId=ak&Expires=1&Signature=SIGNED",
        );
        r.headers
            .insert("authorization", "OSS ak:SIGNATURE".parse().unwrap());
        r.headers
            .insert("x-oss-security-token", "TOKEN".parse().unwrap());
        r.headers.insert(
            "x-oss-server-side-encryption-customer-key",
            "S2V5".parse().unwrap(),
        );
        r.headers.insert("range", "bytes=0-1".parse().unwrap());
        let text = format!("{r:?}");
        for secret in ["SIGNED", "SIGNATURE", "TOKEN", "S2V5"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("bytes=0-1") && text.contains("/b/k"),
            "{text}"
        );
    }

    #[test]
    fn addressing_styles() {
        let mut a = Addressing::default();
        a.cnames.insert("cdn.example.com".into(), "bkt".into());
        let obj = |b: &str, k: &str| Target::Object {
            bucket: b.into(),
            key: k.into(),
        };
        assert_eq!(
            a.resolve(&req("127.0.0.1:9000", "/bkt/a/b.txt")),
            obj("bkt", "a/b.txt")
        );
        assert_eq!(a.resolve(&req("[::1]:9000", "/bkt/x")), obj("bkt", "x"));
        assert_eq!(
            a.resolve(&req("localhost:1", "/bkt/a%20b")),
            obj("bkt", "a b")
        );
        assert_eq!(
            a.resolve(&req("bkt.oss-cn-hangzhou.aliyuncs.com", "/a//b")),
            obj("bkt", "a//b")
        );
        assert_eq!(a.resolve(&req("bkt.localhost:8080", "/k")), obj("bkt", "k"));
        assert_eq!(a.resolve(&req("cdn.example.com", "/k")), obj("bkt", "k"));
        assert_eq!(
            a.resolve(&req("oss-cn-hangzhou.aliyuncs.com", "/bkt/k")),
            Target::PathStyleForbidden
        );
        assert_eq!(
            a.resolve(&req("oss-cn-hangzhou.aliyuncs.com", "/")),
            Target::Service
        );
        assert_eq!(
            a.resolve(&req("127.0.0.1", "/bkt/")),
            Target::Bucket {
                bucket: "bkt".into()
            }
        );
        assert_eq!(a.resolve(&req("127.0.0.1", "/-/stats")), Target::Stats);
        assert_eq!(percent_decode("%E6%96%87+%2F"), "文+/");
    }
}
