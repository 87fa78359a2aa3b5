//! An object named by an HTTP(S) URL, as users copy them from a console or receive them:
//! `https://bucket.oss-cn-hangzhou.aliyuncs.com/dir/key` (virtual-hosted),
//! `http://127.0.0.1:9000/bucket/dir/key` (path style, for IP and `localhost` hosts), and
//! presigned URLs, whose query carries their own signature (V1: `OSSAccessKeyId`, `Expires`,
//! `Signature`; V4: `x-oss-signature-version`, `x-oss-credential`, `x-oss-date`,
//! `x-oss-expires`, `x-oss-signature`).
//!
//! A presigned URL is good for the one method it was signed for (GET, for a download) and
//! for the `x-oss-*` headers it was signed with: a client reaching the object through it
//! ([`crate::ClientBuilder::presigned`]) sends the URL as it is, adds no `x-oss-*` header,
//! and learns the object's size, ETag and CRC-64 from a one-byte ranged GET instead of HEAD.

use std::time::{Duration, SystemTime};

use oss_sign::SigningTime;

use crate::address::{AddressingStyle, Endpoint, HostKind};
use crate::error::Error;

/// Which signature a presigned URL carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PresignedVersion {
    /// `OSSAccessKeyId`, `Expires`, `Signature`.
    V1,
    /// `x-oss-signature-version=OSS4-HMAC-SHA256` and the rest.
    V4,
}

/// An object's URL, parsed: which bucket and key it names, the endpoint it is reached at,
/// and, for a presigned URL, its query (sent as it is) and when it expires.
///
/// ```
/// use oss_http::{AddressingStyle, ObjectUrl};
///
/// let u = ObjectUrl::parse("https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b.txt")?;
/// assert_eq!((u.bucket(), u.key()), ("examplebucket", "dir/a b.txt"));
/// assert_eq!(u.endpoint(), "https://oss-cn-hangzhou.aliyuncs.com");
/// assert_eq!(u.style(), AddressingStyle::VirtualHosted);
/// assert!(!u.is_presigned());
///
/// let p = ObjectUrl::parse("http://127.0.0.1:9000/bkt/k?OSSAccessKeyId=AK&Expires=1700000000&Signature=abc%3D")?;
/// assert_eq!((p.bucket(), p.key(), p.style()), ("bkt", "k", AddressingStyle::Path));
/// assert!(p.is_presigned());
/// assert_eq!(p.expires_at(), Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000)));
/// // What is printed never carries the signature.
/// assert_eq!(p.to_string(), "http://127.0.0.1:9000/bkt/k?<presigned>");
/// # Ok::<(), oss_http::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ObjectUrl {
    bucket: String,
    key: String,
    endpoint: String,
    style: AddressingStyle,
    /// The URL up to the query (scheme, authority, path exactly as given).
    base: String,
    /// The raw query of a presigned URL.
    query: Option<String>,
    version: Option<PresignedVersion>,
    expires_at: Option<SystemTime>,
}

impl std::fmt::Debug for ObjectUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectUrl")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("endpoint", &self.endpoint)
            .field("style", &self.style)
            .field("presigned", &self.version)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The URL without its query: a presigned URL's signature (and STS token) never shows.
impl std::fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)?;
        if self.query.is_some() {
            f.write_str("?<presigned>")?;
        }
        Ok(())
    }
}

impl ObjectUrl {
    /// Parses an `http://` or `https://` URL of an object. Virtual-hosted URLs name the
    /// bucket in the host's first label (`bucket.endpoint`); IP-literal and `localhost`
    /// hosts are path style (`/bucket/key`). The key is percent-decoded (UTF-8).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] naming the problem: another scheme, no key, a host that
    /// names no bucket (a custom domain: give the bucket and endpoint instead), a key that is
    /// not UTF-8 once decoded, half a presigned query.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let bad = |problem: String| Error::invalid_request(problem);
        let (without_fragment, _) = text.split_once('#').unwrap_or((text, ""));
        let (base, query) = match without_fragment.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (without_fragment, None),
        };
        let lower = base.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(bad(format!(
                "`{}` is not an http:// or https:// URL",
                shown(base, query)
            )));
        }
        let scheme_len = base.find("://").map_or(0, |i| i + 3);
        let rest = base.get(scheme_len..).unwrap_or_default();
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let scheme = base
            .get(..scheme_len)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let endpoint_text = format!("{scheme}{authority}");
        let parsed = Endpoint::parse(&endpoint_text).map_err(|e| match e {
            Error::Config { problem, .. } => bad(format!("the URL's host: {problem}")),
            other => other,
        })?;
        let path = path.strip_prefix('/').unwrap_or(path);
        let (bucket, key_encoded, endpoint, style) = match parsed.kind {
            HostKind::Ip | HostKind::Localhost => {
                let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
                (
                    bucket.to_owned(),
                    key,
                    endpoint_text.clone(),
                    AddressingStyle::Path,
                )
            }
            HostKind::Name => {
                let Some((bucket, host)) = parsed.host.split_once('.') else {
                    return Err(bad(format!(
                        "the host `{}` names no bucket; a URL of an object is https://BUCKET.ENDPOINT/KEY (for a custom domain, give oss://BUCKET/KEY and the domain as the endpoint)",
                        parsed.host
                    )));
                };
                if !host.contains('.') {
                    return Err(bad(format!(
                        "the host `{}` names no bucket; a URL of an object is https://BUCKET.ENDPOINT/KEY",
                        parsed.host
                    )));
                }
                let endpoint = format!("{scheme}{}", parsed.authority(host));
                (
                    bucket.to_owned(),
                    path,
                    endpoint,
                    AddressingStyle::VirtualHosted,
                )
            }
        };
        crate::address::validate_bucket_name(&bucket)?;
        let key = percent_decode(key_encoded).ok_or_else(|| {
            bad(format!(
                "the key in `{}` is not valid percent-encoded UTF-8",
                shown(base, query)
            ))
        })?;
        crate::address::validate_key(&key)?;
        let (version, expires_at) = match query {
            Some(q) => presigned_fields(q)?,
            None => (None, None),
        };
        Ok(Self {
            bucket,
            key,
            endpoint,
            style,
            base: base.to_owned(),
            query: version.and(query.map(str::to_owned)),
            version,
            expires_at,
        })
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key, decoded.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// `scheme://host[:port]` of the endpoint (without the bucket label).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// How the URL names the bucket.
    pub fn style(&self) -> AddressingStyle {
        self.style
    }

    /// Whether the URL carries its own signature.
    pub fn is_presigned(&self) -> bool {
        self.version.is_some()
    }

    /// Which signature a presigned URL carries.
    pub fn presigned_version(&self) -> Option<PresignedVersion> {
        self.version
    }

    /// When a presigned URL stops working (V1 `Expires`; V4 `x-oss-date` + `x-oss-expires`).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The full URL a request goes to (query included).
    pub(crate) fn request_text(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.base),
            None => self.base.clone(),
        }
    }

    /// The `Host` header value of the URL.
    pub(crate) fn host_header(&self) -> &str {
        let rest = self
            .base
            .split_once("://")
            .map_or(self.base.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
}

/// `base?<presigned>` for messages.
fn shown(base: &str, query: Option<&str>) -> String {
    match query {
        Some(_) => format!("{base}?<query>"),
        None => base.to_owned(),
    }
}

/// Which signature the query carries, and when it expires.
fn presigned_fields(query: &str) -> Result<(Option<PresignedVersion>, Option<SystemTime>), Error> {
    let get = |name: &str| {
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            percent_decode(k)
                .filter(|k| k.eq_ignore_ascii_case(name))
                .and_then(|_| percent_decode(v))
        })
    };
    let bad = |problem: &str| Error::invalid_request(format!("the presigned URL {problem}"));
    if get("x-oss-signature").is_some() || get("x-oss-signature-version").is_some() {
        let date = get("x-oss-date").ok_or_else(|| bad("has no x-oss-date"))?;
        let seconds = get("x-oss-expires")
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad("has no valid x-oss-expires"))?;
        let signed = SigningTime::parse_v4_timestamp(&date)
            .map_err(|_| bad("has an x-oss-date that is not a timestamp"))?;
        let at = signed
            .to_system_time()
            .checked_add(Duration::from_secs(seconds));
        return Ok((Some(PresignedVersion::V4), at));
    }
    if get("Signature").is_some() || get("OSSAccessKeyId").is_some() {
        if get("Signature").is_none() || get("OSSAccessKeyId").is_none() {
            return Err(bad("lacks Signature or OSSAccessKeyId; copy the whole URL"));
        }
        let expires = get("Expires")
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad("has no valid Expires"))?;
        let at = std::time::UNIX_EPOCH.checked_add(Duration::from_secs(expires));
        return Ok((Some(PresignedVersion::V1), at));
    }
    Ok((None, None))
}

/// `%XX` decoding to UTF-8 (a `+` stays a `+`: OSS keys are path-encoded).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let u = ObjectUrl::parse("https://bkt.oss-cn-hangzhou.aliyuncs.com:8443/a/b%2Bc%E6%96%87")
            .unwrap();
        assert_eq!(u.bucket(), "bkt");
        assert_eq!(u.key(), "a/b+c文");
        assert_eq!(u.endpoint(), "https://oss-cn-hangzhou.aliyuncs.com:8443");
        assert_eq!(u.host_header(), "bkt.oss-cn-hangzhou.aliyuncs.com:8443");
        let p = ObjectUrl::parse("http://localhost:9/bkt/dir/k").unwrap();
        assert_eq!((p.bucket(), p.key()), ("bkt", "dir/k"));
        assert_eq!(p.endpoint(), "http://localhost:9");
        let v4 = ObjectUrl::parse(
            "https://bkt.oss-cn-hangzhou.aliyuncs.com/k?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=AK%2F20250101%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-date=20250101T000000Z&x-oss-expires=60&x-oss-signature=ab",
        )
        .unwrap();
        assert_eq!(v4.presigned_version(), Some(PresignedVersion::V4));
        let at = SigningTime::parse_v4_timestamp("20250101T000100Z").unwrap();
        assert_eq!(v4.expires_at(), Some(at.to_system_time()));
        assert!(v4.request_text().ends_with("x-oss-signature=ab"));
        assert!(!v4.to_string().contains("signature"));
        // A plain query (not a signature) is dropped.
        let q = ObjectUrl::parse("https://bkt.example.com/k?foo=bar").unwrap();
        assert!(!q.is_presigned());
        assert_eq!(q.request_text(), "https://bkt.example.com/k");
    }

    #[test]
    fn problems_are_named() {
        for (text, needle) in [
            ("ftp://bkt.x.com/k", "not an http"),
            ("https://example.com/k", "names no bucket"),
            ("https://bkt.x.com/", "key is empty"),
            ("https://bkt.x.com", "key is empty"),
            ("http://127.0.0.1:9/bkt", "key is empty"),
            ("https://Bad_Bucket.x.com/k", "3-63"),
            ("https://bkt.x.com/%FF", "not valid percent-encoded"),
            (
                "https://bkt.x.com/k?OSSAccessKeyId=a&Expires=1",
                "lacks Signature",
            ),
            (
                "https://bkt.x.com/k?Signature=s&OSSAccessKeyId=a",
                "Expires",
            ),
            (
                "https://bkt.x.com/k?x-oss-signature=s&x-oss-expires=1",
                "x-oss-date",
            ),
        ] {
            let e = ObjectUrl::parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
            assert!(!e.contains("Signature=s"), "{e}");
        }
    }
}
