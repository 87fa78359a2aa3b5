//! What to download: `oss://BUCKET/KEY`, or an `http(s)://` URL of the object
//! (`https://BUCKET.ENDPOINT/KEY`, or a presigned URL: oss-http's `ObjectUrl`).

use std::fmt;

/// The longest object key OSS accepts, in bytes.
pub const MAX_KEY_BYTES: usize = 1023;

/// A bucket and an object key, as given by `oss://BUCKET/KEY` or by a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUrl {
    /// The bucket name (checked against OSS's naming rules).
    pub bucket: String,
    /// The object key: exactly as given in `oss://` (no percent-decoding: keys are taken
    /// literally), decoded from an `http(s)://` URL's path.
    pub key: String,
    /// The URL it was given as, when it was one: it names the endpoint, and a presigned
    /// one is how the object is reached.
    pub web: Option<WebUrl>,
}

/// An `http(s)://` object URL (oss-http's parser).
pub type WebUrl = oss_resume::oss_http::ObjectUrl;

impl ObjectUrl {
    /// The presigned URL, when the source is one.
    pub fn presigned(&self) -> Option<&WebUrl> {
        self.web.as_ref().filter(|w| w.is_presigned())
    }
}

/// `oss://BUCKET/KEY`, or the URL as given without a presigned URL's query.
impl fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.web {
            Some(web) => web.fmt(f),
            None => write!(f, "oss://{}/{}", self.bucket, self.key),
        }
    }
}

/// SOURCE: `oss://BUCKET/KEY`, or an `http://`/`https://` URL of the object (virtual-hosted,
/// path style for IP and localhost hosts, or presigned). Errors never show a URL's query.
pub fn parse_source(text: &str) -> Result<ObjectUrl, String> {
    let lower = text
        .trim_start()
        .get(..8)
        .unwrap_or(text)
        .to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return parse_object_url(text);
    }
    let web = WebUrl::parse(text).map_err(|e| match e {
        oss_resume::oss_http::Error::InvalidRequest { problem } => problem,
        other => other.to_string(),
    })?;
    Ok(ObjectUrl {
        bucket: web.bucket().to_owned(),
        key: web.key().to_owned(),
        web: Some(web),
    })
}

/// Parses `oss://BUCKET/KEY`. The scheme is case-insensitive; the bucket must follow OSS's
/// rules (3-63 of `a-z 0-9 -`, not starting or ending with `-`: the library's own check,
/// `oss_resume::validate_bucket_name`); the key is 1-1023 bytes and does not start with `/`
/// or `\` (OSS refuses such names) — or empty in `oss://BUCKET/`, the whole bucket for a
/// batch download.
pub fn parse_object_url(text: &str) -> Result<ObjectUrl, String> {
    let rest = text
        .get(..6)
        .filter(|scheme| scheme.eq_ignore_ascii_case("oss://"))
        .and_then(|_| text.get(6..))
        .ok_or_else(|| {
            format!(
                "`{text}` is not an OSS URL; write oss://BUCKET/KEY (e.g. oss://examplebucket/dir/file.bin), https://BUCKET.ENDPOINT/KEY or a presigned URL"
            )
        })?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("`{text}` names no bucket; write oss://BUCKET/KEY"));
    }
    oss_resume::validate_bucket_name(bucket).map_err(|e| match e {
        oss_resume::Error::InvalidArgument { problem, .. } => problem,
        other => other.to_string(),
    })?;
    // `oss://BUCKET/` (a trailing `/`) is the whole bucket, for a batch download.
    if key.is_empty() && !text.ends_with('/') {
        return Err(format!(
            "`{text}` names no object; write oss://{bucket}/KEY with the object's full key, or oss://{bucket}/ for the whole bucket"
        ));
    }
    if let Some(first @ ('/' | '\\')) = key.chars().next() {
        return Err(format!(
            "object keys cannot start with `{first}`; write oss://{bucket}/{}",
            key.trim_start_matches(['/', '\\'])
        ));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "the object key is {} bytes; OSS keys are at most {MAX_KEY_BYTES} bytes",
            key.len()
        ));
    }
    Ok(ObjectUrl {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        web: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (String, String) {
        let u = parse_object_url(text).unwrap();
        (u.bucket, u.key)
    }

    #[test]
    fn parses_bucket_and_key() {
        assert_eq!(
            ok("oss://examplebucket/exampledir/exampleobject.txt"),
            (
                "examplebucket".into(),
                "exampledir/exampleobject.txt".into()
            )
        );
        assert_eq!(ok("OSS://b-1/k"), ("b-1".into(), "k".into()));
        // Keys are literal: spaces, %, a trailing slash, `..` segments, unicode.
        assert_eq!(ok("oss://bkt/a b%20c"), ("bkt".into(), "a b%20c".into()));
        assert_eq!(ok("oss://bkt/dir/"), ("bkt".into(), "dir/".into()));
        assert_eq!(ok("oss://bkt/x/../y"), ("bkt".into(), "x/../y".into()));
        assert_eq!(ok("oss://bkt/数据.bin"), ("bkt".into(), "数据.bin".into()));
        let u = parse_object_url("oss://bkt/a/b").unwrap();
        assert_eq!(u.to_string(), "oss://bkt/a/b");
    }

    #[test]
    fn rejects_with_the_fix() {
        let e = |t: &str| parse_object_url(t).unwrap_err();
        assert!(e("ftp://bkt/k").contains("not an OSS URL"));
        assert!(e("bkt/k").contains("write oss://BUCKET/KEY"));
        assert!(e("oss:/").contains("not an OSS URL"));
        assert!(e("oss://").contains("names no bucket"));
        assert!(e("oss:///k").contains("names no bucket"));
        assert!(e("oss://bkt").contains("names no object"));
        // `oss://bkt/` is the whole bucket (a many-object download).
        assert_eq!(parse_object_url("oss://bkt/").unwrap().key, "");
        assert!(e("oss://Bucket/k").contains("not valid"));
        assert!(e("oss://ab/k").contains("3-63"));
        assert!(e("oss://-bkt/k").contains("not valid"));
        assert!(e("oss://bkt_1/k").contains("not valid"));
        assert!(e("oss://bkt//k").contains("cannot start with `/`; write oss://bkt/k"));
        assert!(e(&format!("oss://bkt/{}", "k".repeat(1024))).contains("at most 1023"));
        assert!(parse_object_url(&format!("oss://bkt/{}", "k".repeat(1023))).is_ok());
    }

    #[test]
    fn urls_of_objects() {
        let u = parse_source("https://bkt.oss-cn-hangzhou.aliyuncs.com/a/b%20c").unwrap();
        assert_eq!((u.bucket.as_str(), u.key.as_str()), ("bkt", "a/b c"));
        assert!(u.presigned().is_none());
        let p = parse_source("http://127.0.0.1:9/bkt/k?OSSAccessKeyId=a&Expires=9&Signature=SIG")
            .unwrap();
        assert!(p.presigned().is_some());
        assert!(!p.to_string().contains("SIG"));
        let e = parse_source("https://example.com/k?Signature=SIG").unwrap_err();
        assert!(e.contains("names no bucket") && !e.contains("SIG"), "{e}");
        assert_eq!(
            parse_source("oss://bkt/k").unwrap().to_string(),
            "oss://bkt/k"
        );
    }
}
