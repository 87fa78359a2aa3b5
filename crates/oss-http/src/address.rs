//! Endpoints and the three addressing styles (`docs/oss-behaviour.md#addressing`).
//!
//! - virtual-hosted (the default, and the only style real OSS accepts): `bucket.endpoint/key`;
//! - CNAME (a custom domain bound to the bucket): `endpoint/key`;
//! - path style: `endpoint/bucket/key`, chosen automatically for IP-literal and `localhost`
//!   endpoints (like oss2), or when forced.
//!
//! Keys are percent-encoded byte by byte with oss-sign's `UriEncode` (the one signing uses):
//! everything but `A-Z a-z 0-9 - _ . ~ /` becomes `%XX` (uppercase hex), so spaces, `+`, `%`,
//! `?`, `#` and non-ASCII survive, and `//` stays `//`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use http::Uri;
use oss_sign::{Query, Slash, uri_encode};

use crate::error::Error;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// Plain HTTP (tests, or a local proxy).
    Http,
    /// HTTPS (the default when the endpoint has no scheme).
    Https,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// How the bucket is put in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressingStyle {
    /// `https://bucket.endpoint/key`.
    VirtualHosted,
    /// `https://endpoint/key`: the endpoint is a custom domain bound to the bucket.
    Cname,
    /// `https://endpoint/bucket/key`.
    Path,
}

impl fmt::Display for AddressingStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressingStyle::VirtualHosted => "virtual-hosted",
            AddressingStyle::Cname => "CNAME",
            AddressingStyle::Path => "path",
        })
    }
}

/// What kind of host an endpoint names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostKind {
    Name,
    Localhost,
    Ip,
}

/// A parsed, validated endpoint: scheme, host and optional port, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) scheme: Scheme,
    /// Lowercased host; IPv6 literals keep their brackets.
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
    pub(crate) kind: HostKind,
}

impl Endpoint {
    /// Parses `oss-cn-hangzhou.aliyuncs.com`, `https://...`, `http://127.0.0.1:9000`,
    /// `http://[::1]:9000`. A trailing `/` is allowed; a path, query, user or other scheme is not.
    pub(crate) fn parse(text: &str) -> Result<Self, Error> {
        let bad = |problem: String| Error::config("endpoint", problem);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(bad(
                "it is empty; give a host such as `oss-cn-hangzhou.aliyuncs.com` (https is assumed) or `http://127.0.0.1:9000`".into(),
            ));
        }
        let (scheme, rest) = if let Some(rest) = strip_prefix_ci(trimmed, "https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = strip_prefix_ci(trimmed, "http://") {
            (Scheme::Http, rest)
        } else if let Some((other, _)) = trimmed.split_once("://") {
            return Err(bad(format!(
                "scheme `{other}` is not supported; use `https://` (the default) or `http://`"
            )));
        } else {
            (Scheme::Https, trimmed)
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(bad(format!(
                "`{trimmed}` has a path or query; the endpoint is only a host (and port) — pass the bucket and key to each request"
            )));
        }
        if authority.contains('@') {
            return Err(bad(format!(
                "`{trimmed}` has user information; credentials are configured separately"
            )));
        }
        let parsed: http::uri::Authority = authority
            .parse()
            .map_err(|_| bad(format!("`{trimmed}` is not a valid host[:port]")))?;
        let host = parsed.host().to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad(format!("`{trimmed}` has no host")));
        }
        // `Authority` quietly drops a port it cannot read (`host:`, `host:99999`).
        let after_host = authority
            .rsplit_once(']')
            .map_or(authority, |(_, rest)| rest);
        if let Some((_, port)) = after_host.rsplit_once(':') {
            if port.is_empty() {
                return Err(bad(format!("`{trimmed}` has an empty port")));
            }
            if port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(bad(format!(
                    "`{trimmed}` has port `{port}`; ports are 1-65535"
                )));
            }
        }
        let kind = classify_host(&host).map_err(bad)?;
        Ok(Self {
            scheme,
            host,
            port: parsed.port_u16(),
            kind,
        })
    }

    /// `host[:port]`, as sent in `Host`.
    pub(crate) fn authority(&self, host: &str) -> String {
        match self.port {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    /// The region in an Alibaba endpoint such as `oss-cn-hangzhou.aliyuncs.com` or
    /// `oss-cn-hangzhou-internal.aliyuncs.com`.
    pub(crate) fn inferred_region(&self) -> Option<String> {
        let label = self.host.strip_suffix(".aliyuncs.com")?;
        let region = label.strip_prefix("oss-")?;
        let region = region.strip_suffix("-internal").unwrap_or(region);
        let valid = !region.is_empty()
            && !region.contains('.')
            && region != "accelerate"
            && region != "accelerate-overseas";
        valid.then(|| region.to_owned())
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

fn classify_host(host: &str) -> Result<HostKind, String> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner
            .parse::<Ipv6Addr>()
            .map(|_| HostKind::Ip)
            .map_err(|_| format!("`{host}` is not a valid IPv6 address"));
    }
    if host.parse::<Ipv4Addr>().is_ok() {
        return Ok(HostKind::Ip);
    }
    if host == "localhost" {
        return Ok(HostKind::Localhost);
    }
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if !labels_ok || host.len() > 253 {
        return Err(format!("`{host}` is not a valid host name"));
    }
    Ok(HostKind::Name)
}

/// Checks an OSS bucket name: 3–63 characters of `a-z 0-9 -`, starting and ending with a letter
/// or digit (so it is also a DNS label for virtual-hosted addressing). Every request checks
/// its bucket with this before anything is sent; a caller can check a name the same way
/// earlier (a CLI parsing `oss://BUCKET/KEY`). The error is [`Error::InvalidRequest`], whose
/// problem names the rule.
///
/// ```
/// oss_http::validate_bucket_name("examplebucket-01")?;
/// let e = oss_http::validate_bucket_name("Example_Bucket").unwrap_err();
/// assert!(e.to_string().contains("3-63 characters of lowercase letters, digits and `-`"));
/// # Ok::<(), oss_http::Error>(())
/// ```
pub fn validate_bucket_name(bucket: &str) -> Result<(), Error> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-');
    if ok {
        Ok(())
    } else {
        // escape_debug: the name may come from a command line, control characters and all.
        Err(Error::invalid_request(format!(
            "bucket name `{}` is not valid: OSS bucket names are 3-63 characters of lowercase letters, digits and `-`, starting and ending with a letter or digit",
            bucket.escape_debug()
        )))
    }
}

/// Checks an object key: 1–1023 bytes of UTF-8 (any characters; `//` and a leading `/` are
/// kept as they are).
pub(crate) fn validate_key(key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::invalid_request(
            "the object key is empty; give the object's full key, e.g. `dir/file.bin`",
        ));
    }
    if key.len() > 1023 {
        return Err(Error::invalid_request(format!(
            "the object key is {} bytes; OSS keys are at most 1023 bytes",
            key.len()
        )));
    }
    Ok(())
}

/// Where one object request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The full request URI (scheme, authority, encoded path, query).
    pub(crate) uri: Uri,
    /// The `Host` header value.
    pub(crate) host: String,
}

/// Builds the request URI for `bucket`/`key` (and `versionId`) in `style`.
pub(crate) fn object_target(
    endpoint: &Endpoint,
    style: AddressingStyle,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Target, Error> {
    let encoded_key = uri_encode(key, Slash::Keep);
    let (host, path) = match style {
        AddressingStyle::VirtualHosted => (
            endpoint.authority(&format!("{bucket}.{}", endpoint.host)),
            format!("/{encoded_key}"),
        ),
        AddressingStyle::Cname => (
            endpoint.authority(&endpoint.host),
            format!("/{encoded_key}"),
        ),
        AddressingStyle::Path => (
            endpoint.authority(&endpoint.host),
            format!("/{bucket}/{encoded_key}"),
        ),
    };
    let query = match version_id {
        Some(v) => format!("?versionId={}", uri_encode(v, Slash::Escape)),
        None => String::new(),
    };
    let text = format!("{}://{host}{path}{query}", endpoint.scheme.as_str());
    let uri = text.parse::<Uri>().map_err(|e| {
        Error::invalid_request(format!("cannot form a URL for bucket `{bucket}`: {e}"))
    })?;
    Ok(Target { uri, host })
}

/// Builds the request URI for a bucket-level request (a listing) in `style`: `/` under the
/// bucket's own host (virtual-hosted, CNAME), `/bucket/` in path style (with the trailing
/// slash the official SDKs send), and `query` percent-encoded with `UriEncode` (`%20` for a
/// space, `%2B` for `+`, `%2F` for `/`), as V4 signs it.
pub(crate) fn bucket_target(
    endpoint: &Endpoint,
    style: AddressingStyle,
    bucket: &str,
    query: &Query,
) -> Result<Target, Error> {
    let (host, path) = match style {
        AddressingStyle::VirtualHosted => (
            endpoint.authority(&format!("{bucket}.{}", endpoint.host)),
            "/".to_owned(),
        ),
        AddressingStyle::Cname => (endpoint.authority(&endpoint.host), "/".to_owned()),
        AddressingStyle::Path => (endpoint.authority(&endpoint.host), format!("/{bucket}/")),
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.to_encoded_string())
    };
    let text = format!("{}://{host}{path}{query}", endpoint.scheme.as_str());
    let uri = text.parse::<Uri>().map_err(|e| {
        Error::invalid_request(format!("cannot form a URL for bucket `{bucket}`: {e}"))
    })?;
    Ok(Target { uri, host })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(text: &str) -> Endpoint {
        Endpoint::parse(text).unwrap()
    }

    #[test]
    fn endpoint_with_and_without_scheme() {
        let e = ep("oss-cn-hangzhou.aliyuncs.com");
        assert_eq!(e.scheme, Scheme::Https);
        assert_eq!(e.host, "oss-cn-hangzhou.aliyuncs.com");
        assert_eq!(e.port, None);
        assert_eq!(e.kind, HostKind::Name);
        assert_eq!(e.inferred_region().as_deref(), Some("cn-hangzhou"));

        let e = ep("HTTP://127.0.0.1:9000/");
        assert_eq!(e.scheme, Scheme::Http);
        assert_eq!(e.port, Some(9000));
        assert_eq!(e.kind, HostKind::Ip);

        assert_eq!(ep("http://[::1]:80").kind, HostKind::Ip);
        assert_eq!(ep("http://LocalHost:1").kind, HostKind::Localhost);
        assert_eq!(ep("http://LocalHost:1").host, "localhost");
        assert_eq!(
            ep("oss-cn-beijing-internal.aliyuncs.com")
                .inferred_region()
                .as_deref(),
            Some("cn-beijing")
        );
        assert_eq!(ep("oss-accelerate.aliyuncs.com").inferred_region(), None);
        assert_eq!(ep("files.example.com").inferred_region(), None);
    }

    #[test]
    fn bad_endpoints_say_why() {
        for (text, needle) in [
            ("", "empty"),
            ("ftp://x.com", "scheme `ftp`"),
            ("https://x.com/bucket", "path"),
            ("x.com?a=b", "path or query"),
            ("user:pw@x.com", "user information"),
            ("x.com:99999", "ports are 1-65535"),
            ("x.com:0", "ports are 1-65535"),
            ("x.com:", "empty port"),
            ("bad host.com", "valid host"),
            ("http://[::zz]:1", "IPv6"),
            ("a..b", "valid host name"),
        ] {
            let err = Endpoint::parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
            assert!(
                err.starts_with("invalid client configuration: endpoint"),
                "{err}"
            );
        }
    }

    #[test]
    fn encodes_keys_like_the_sdks() {
        let e = ep("http://127.0.0.1:9");
        let path = |key: &str| {
            object_target(&e, AddressingStyle::Path, "b", key, None)
                .unwrap()
                .uri
                .path()
                .to_owned()
        };
        assert_eq!(path("a b+c%d"), "/b/a%20b%2Bc%25d");
        assert_eq!(path("dir//x/./y"), "/b/dir//x/./y");
        assert_eq!(path("文😀"), "/b/%E6%96%87%F0%9F%98%80");
        assert_eq!(
            path("?#[]!*'();:@&=$,~"),
            "/b/%3F%23%5B%5D%21%2A%27%28%29%3B%3A%40%26%3D%24%2C~"
        );
        let t = object_target(&e, AddressingStyle::Path, "b", "k", Some("a/b")).unwrap();
        assert_eq!(t.uri.query(), Some("versionId=a%2Fb"));
    }

    #[test]
    fn three_styles() {
        let e = ep("http://oss-test.example.com:9000");
        let key = "dir/a b+c%d//文.txt";
        let t = object_target(&e, AddressingStyle::VirtualHosted, "bkt", key, None).unwrap();
        assert_eq!(
            t.uri.to_string(),
            "http://bkt.oss-test.example.com:9000/dir/a%20b%2Bc%25d//%E6%96%87.txt"
        );
        assert_eq!(t.host, "bkt.oss-test.example.com:9000");

        let t = object_target(&e, AddressingStyle::Cname, "bkt", key, Some("CAEQ+/=")).unwrap();
        assert_eq!(
            t.uri.to_string(),
            "http://oss-test.example.com:9000/dir/a%20b%2Bc%25d//%E6%96%87.txt?versionId=CAEQ%2B%2F%3D"
        );
        assert_eq!(t.host, "oss-test.example.com:9000");

        let e = ep("http://127.0.0.1:9000");
        let t = object_target(&e, AddressingStyle::Path, "bkt", "/lead", None).unwrap();
        assert_eq!(t.uri.to_string(), "http://127.0.0.1:9000/bkt//lead");
        assert_eq!(t.uri.path(), "/bkt//lead");

        let e = ep("https://files.example.com");
        let t = object_target(&e, AddressingStyle::Cname, "bkt", "k", None).unwrap();
        assert_eq!(t.host, "files.example.com");
        assert_eq!(t.uri.to_string(), "https://files.example.com/k");
    }

    #[test]
    fn bucket_level_targets() {
        let q = Query::new()
            .with("list-type", "2")
            .with("prefix", "a b+c/文")
            .with("continuation-token", "x=y&z");
        let e = ep("http://oss-test.example.com:9000");
        let t = bucket_target(&e, AddressingStyle::VirtualHosted, "bkt", &q).unwrap();
        assert_eq!(
            t.uri.to_string(),
            "http://bkt.oss-test.example.com:9000/?list-type=2&prefix=a%20b%2Bc%2F%E6%96%87&continuation-token=x%3Dy%26z"
        );
        assert_eq!(t.host, "bkt.oss-test.example.com:9000");
        let t = bucket_target(&e, AddressingStyle::Cname, "bkt", Query::empty()).unwrap();
        assert_eq!(t.uri.to_string(), "http://oss-test.example.com:9000/");
        let e = ep("http://127.0.0.1:9000");
        let t = bucket_target(&e, AddressingStyle::Path, "bkt", &q).unwrap();
        assert_eq!(t.uri.path(), "/bkt/");
        assert_eq!(t.host, "127.0.0.1:9000");
    }

    #[test]
    fn bucket_and_key_rules() {
        validate_bucket_name("my-bucket-01").unwrap();
        for bad in ["ab", "-ab", "ab-", "Abc", "a_b", "a.b", &"a".repeat(64)] {
            let e = validate_bucket_name(bad).unwrap_err();
            assert!(e.to_string().contains("3-63"), "{bad}: {e}");
        }
        let e = validate_bucket_name("a\u{1b}[2Jb").unwrap_err().to_string();
        assert!(e.contains("`a\\u{1b}[2Jb`"), "{e}");
        validate_key("x").unwrap();
        validate_key(&"k".repeat(1023)).unwrap();
        assert!(validate_key("").is_err());
        assert!(validate_key(&"k".repeat(1024)).is_err());
    }
}
