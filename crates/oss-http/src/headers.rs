//! Extra request headers: the one check both the client-wide headers
//! ([`crate::ClientBuilder::header`]) and per-request ones ([`RequestHeaders`]) go through.

use std::fmt;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

use crate::error::Error;
use crate::redact::{RedactedHeaders, is_secret_header};

/// Headers the client itself controls; passing them as extra headers is refused.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "authorization",
    "date",
    "x-oss-date",
    "x-oss-content-sha256",
    "x-oss-security-token",
    "accept-encoding",
    "user-agent",
    "range",
    "if-match",
    "x-oss-range-behavior",
    "content-length",
    "transfer-encoding",
    "connection",
];

/// Checks one extra header: a valid name the client does not set itself, and a valid value
/// (marked sensitive when the name is a secret's, so `Debug` and hyper never show it).
/// The problem text never contains the value: it may be a key.
pub(crate) fn parse_extra_header(
    name: &str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), String> {
    let parsed = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("`{name}` is not a valid header name"))?;
    if RESERVED_HEADERS.contains(&parsed.as_str()) {
        return Err(format!(
            "`{name}` is set by the client itself (signing, ranges, pinning); remove it"
        ));
    }
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| format!("the value of `{name}` is not a valid header value"))?;
    if is_secret_header(parsed.as_str()) {
        value.set_sensitive(true);
    }
    Ok((parsed, value))
}

/// Headers for particular requests, on top of the client's own extra headers: what one
/// download sends on its HEAD and on every part GET (`x-oss-request-payer`,
/// `x-oss-traffic-limit`, SSE-C keys...) while the connection pool stays shared by every
/// download.
///
/// Checked once, when added, with the same rules as [`crate::ClientBuilder::header`]:
/// headers the client controls (`Authorization`, `Range`, `If-Match`, `Date`, ...) are
/// refused, and secret values (SSE-C keys, tokens) are redacted in `Debug`. A name given
/// here replaces the client's extra headers of that name for the request; giving a name
/// twice sends both values. They are signed with the rest of the request.
///
/// ```
/// use oss_http::RequestHeaders;
///
/// let mut headers = RequestHeaders::new();
/// headers.insert("x-oss-request-payer", "requester")?;
/// headers.insert("x-oss-server-side-encryption-customer-key", "c2VjcmV0")?;
/// assert_eq!(headers.len(), 2);
/// assert!(!format!("{headers:?}").contains("c2VjcmV0"));
/// assert!(headers.insert("Range", "bytes=0-1").is_err());
/// // Then: client.head_object_with(bucket, key, None, &headers), and
/// // GetRange::new(bucket, key, &pin, range).headers(&headers).
/// # Ok::<(), oss_http::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RequestHeaders {
    map: HeaderMap,
}

impl RequestHeaders {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name: value`, or refuses it with [`Error::InvalidRequest`] naming the problem
    /// (an invalid name or value, or a header the client sets itself); the value is never
    /// echoed.
    pub fn insert(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let (name, value) = parse_extra_header(name, value).map_err(Error::invalid_request)?;
        self.map.append(name, value);
        Ok(())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// How many header values there are.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Puts these headers into `target`, replacing what it holds under the same names.
    pub(crate) fn apply(&self, target: &mut HeaderMap) {
        for name in self.map.keys() {
            target.remove(name);
        }
        for (name, value) in &self.map {
            target.append(name.clone(), value.clone());
        }
    }
}

impl fmt::Debug for RequestHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        RedactedHeaders(&self.map).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_reserved_and_invalid_headers_without_echoing_values() {
        let mut h = RequestHeaders::new();
        for reserved in ["Range", "authorization", "If-Match", "Date", "x-oss-date"] {
            let e = h.insert(reserved, "x").unwrap_err().to_string();
            assert!(e.contains("set by the client itself"), "{reserved}: {e}");
        }
        let e = h.insert("bad name", "v").unwrap_err().to_string();
        assert!(e.contains("not a valid header name"), "{e}");
        let secret = "sk\u{7f}ey";
        let e = h
            .insert("x-oss-server-side-encryption-customer-key", secret)
            .unwrap_err()
            .to_string();
        assert!(
            !e.contains(secret) && e.contains("not a valid header value"),
            "{e}"
        );
        assert!(h.is_empty());
    }

    #[test]
    fn replaces_the_clients_values_of_the_same_name_and_keeps_repeats() {
        let mut client = HeaderMap::new();
        client.insert("x-oss-traffic-limit", HeaderValue::from_static("1"));
        client.insert("x-oss-request-payer", HeaderValue::from_static("requester"));
        let mut h = RequestHeaders::new();
        h.insert("X-OSS-Traffic-Limit", "819200").unwrap();
        h.insert("x-oss-meta-a", "1").unwrap();
        h.insert("x-oss-meta-a", "2").unwrap();
        h.apply(&mut client);
        let all = |n: &str| {
            client
                .get_all(n)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(all("x-oss-traffic-limit"), ["819200"]);
        assert_eq!(all("x-oss-request-payer"), ["requester"]);
        assert_eq!(all("x-oss-meta-a"), ["1", "2"]);
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut h = RequestHeaders::new();
        h.insert("x-oss-server-side-encryption-customer-key", "S2V5S2V5")
            .unwrap();
        h.insert("x-oss-security-token-like", "TOKEN123").unwrap();
        h.insert("x-oss-traffic-limit", "819200").unwrap();
        let text = format!("{h:?}");
        assert!(text.contains("819200"), "{text}");
        assert!(
            !text.contains("S2V5S2V5") && !text.contains("TOKEN123"),
            "{text}"
        );
    }
}
