//! What HEAD says about an object, typed; and the pin every part GET carries.

use std::time::SystemTime;

use http::{HeaderMap, header};

use crate::error::Error;

/// `x-oss-object-type`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectType {
    /// Uploaded in one PUT.
    Normal,
    /// Uploaded in parts (the ETag is not an MD5).
    Multipart,
    /// Appendable: it can grow while we download it.
    Appendable,
    /// A symbolic link (HEAD describes the target's bytes).
    Symlink,
    /// A type this crate does not know.
    Other(String),
}

impl ObjectType {
    pub(crate) fn parse(text: &str) -> Self {
        match text {
            "Normal" => ObjectType::Normal,
            "Multipart" => ObjectType::Multipart,
            "Appendable" => ObjectType::Appendable,
            "Symlink" => ObjectType::Symlink,
            other => ObjectType::Other(other.to_owned()),
        }
    }

    /// The header's text, as OSS sends it (`Normal`, `Multipart`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            ObjectType::Normal => "Normal",
            ObjectType::Multipart => "Multipart",
            ObjectType::Appendable => "Appendable",
            ObjectType::Symlink => "Symlink",
            ObjectType::Other(text) => text,
        }
    }
}

/// `x-oss-storage-class`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageClass {
    /// Standard.
    Standard,
    /// Infrequent access.
    Ia,
    /// Archive: GET needs a restore first (unless direct read is on).
    Archive,
    /// Cold archive: GET needs a restore first.
    ColdArchive,
    /// Deep cold archive: GET needs a restore first.
    DeepColdArchive,
    /// A class this crate does not know.
    Other(String),
}

impl StorageClass {
    pub(crate) fn parse(text: &str) -> Self {
        match text {
            "Standard" => StorageClass::Standard,
            "IA" => StorageClass::Ia,
            "Archive" => StorageClass::Archive,
            "ColdArchive" => StorageClass::ColdArchive,
            "DeepColdArchive" => StorageClass::DeepColdArchive,
            other => StorageClass::Other(other.to_owned()),
        }
    }

    /// The header's text, as OSS sends it (`Standard`, `IA`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            StorageClass::Standard => "Standard",
            StorageClass::Ia => "IA",
            StorageClass::Archive => "Archive",
            StorageClass::ColdArchive => "ColdArchive",
            StorageClass::DeepColdArchive => "DeepColdArchive",
            StorageClass::Other(text) => text,
        }
    }
}

/// An object's metadata from HEAD.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectMeta {
    /// Size in bytes (`Content-Length`).
    pub size: u64,
    /// The ETag exactly as sent, quotes included (e.g. `"5D41402ABC4B2A76B9719D911017C592"`).
    pub etag: String,
    /// `Last-Modified`, parsed.
    pub last_modified: Option<SystemTime>,
    /// `x-oss-hash-crc64ecma`: the whole object's CRC-64/XZ, when OSS has one.
    pub crc64: Option<u64>,
    /// `x-oss-object-type`.
    pub object_type: Option<ObjectType>,
    /// `x-oss-storage-class`.
    pub storage_class: Option<StorageClass>,
    /// `x-oss-version-id` (versioned buckets).
    pub version_id: Option<String>,
    /// `x-oss-request-id`.
    pub request_id: Option<String>,
    /// Every response header not represented above (`Content-Type`, `x-oss-meta-*`,
    /// `x-oss-restore`, ...).
    pub other_headers: HeaderMap,
}

/// Headers [`ObjectMeta`] types; the rest go to `other_headers`.
const TYPED: &[&str] = &[
    "content-length",
    "etag",
    "last-modified",
    "x-oss-hash-crc64ecma",
    "x-oss-object-type",
    "x-oss-storage-class",
    "x-oss-version-id",
    "x-oss-request-id",
];

pub(crate) fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

impl ObjectMeta {
    /// Reads a successful HEAD's headers.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Result<Self, Error> {
        let request_id = header_text(headers, "x-oss-request-id").map(str::to_owned);
        let invalid = |problem: String| Error::InvalidResponse {
            problem,
            request_id: request_id.clone(),
        };
        if let Some(encoding) = header_text(headers, header::CONTENT_ENCODING.as_str())
            && !encoding.eq_ignore_ascii_case("identity")
        {
            return Err(Error::Transcoded {
                encoding: encoding.to_owned(),
                request_id,
            });
        }
        let size = header_text(headers, "content-length")
            .ok_or_else(|| invalid("HEAD response has no Content-Length".into()))?;
        let size: u64 = size
            .parse()
            .map_err(|_| invalid(format!("HEAD response has Content-Length `{size}`")))?;
        let etag = header_text(headers, "etag")
            .filter(|e| !e.is_empty())
            .ok_or_else(|| {
                invalid(
                    "HEAD response has no ETag, so parts cannot be pinned to one version".into(),
                )
            })?
            .to_owned();
        let crc64 = match header_text(headers, "x-oss-hash-crc64ecma") {
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
                invalid(format!(
                    "x-oss-hash-crc64ecma `{text}` is not a decimal u64"
                ))
            })?),
            None => None,
        };
        let last_modified =
            header_text(headers, "last-modified").and_then(|t| httpdate::parse_http_date(t).ok());
        let mut other_headers = HeaderMap::new();
        for (name, value) in headers {
            if !TYPED.contains(&name.as_str()) {
                other_headers.append(name.clone(), value.clone());
            }
        }
        Ok(Self {
            size,
            etag,
            last_modified,
            crc64,
            object_type: header_text(headers, "x-oss-object-type").map(ObjectType::parse),
            storage_class: header_text(headers, "x-oss-storage-class").map(StorageClass::parse),
            version_id: header_text(headers, "x-oss-version-id").map(str::to_owned),
            request_id,
            other_headers,
        })
    }

    /// The identity every part GET must match: ETag, size, and the version id when there is one.
    pub fn pin(&self) -> ObjectPin {
        ObjectPin {
            etag: self.etag.clone(),
            size: self.size,
            version_id: self.version_id.clone(),
        }
    }
}

/// What a ranged GET is pinned to: sent as `If-Match` (and `versionId`), and checked against
/// the response (ETag, version, `Content-Range` total).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectPin {
    /// The ETag as HEAD sent it.
    pub etag: String,
    /// The object's size in bytes.
    pub size: u64,
    /// The version id, in versioned buckets.
    pub version_id: Option<String>,
}

/// The ETag without surrounding quotes (and without a weak `W/` prefix).
pub(crate) fn bare_etag(etag: &str) -> &str {
    let e = etag.trim();
    let e = e.strip_prefix("W/").unwrap_or(e);
    e.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn parses_a_full_head() {
        let h = headers(&[
            ("content-length", "344606"),
            ("etag", "\"5D41402ABC4B2A76B9719D911017C592\""),
            ("last-modified", "Sat, 12 Dec 2015 00:35:53 GMT"),
            ("x-oss-hash-crc64ecma", "15228249927083073430"),
            ("x-oss-object-type", "Multipart"),
            ("x-oss-storage-class", "IA"),
            ("x-oss-version-id", "CAEQNhiBgMDJgZCA0BYiIDc4"),
            ("x-oss-request-id", "566B6C0D1790CF586F72240B"),
            ("content-type", "text/plain"),
            ("x-oss-meta-a", "1"),
            ("x-oss-meta-a", "2"),
        ]);
        let m = ObjectMeta::from_headers(&h).unwrap();
        assert_eq!(m.size, 344_606);
        assert_eq!(m.etag, "\"5D41402ABC4B2A76B9719D911017C592\"");
        assert_eq!(m.crc64, Some(15_228_249_927_083_073_430));
        assert_eq!(m.object_type, Some(ObjectType::Multipart));
        assert_eq!(m.storage_class, Some(StorageClass::Ia));
        // The text round-trips, as a caller rebuilding the response headers needs.
        assert_eq!(
            m.object_type.as_ref().map(ObjectType::as_str),
            Some("Multipart")
        );
        assert_eq!(
            m.storage_class.as_ref().map(StorageClass::as_str),
            Some("IA")
        );
        assert_eq!(m.version_id.as_deref(), Some("CAEQNhiBgMDJgZCA0BYiIDc4"));
        assert_eq!(m.request_id.as_deref(), Some("566B6C0D1790CF586F72240B"));
        assert_eq!(
            m.last_modified,
            Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_449_880_553))
        );
        assert_eq!(m.other_headers.get_all("x-oss-meta-a").iter().count(), 2);
        assert!(m.other_headers.get("etag").is_none());
        assert_eq!(
            m.pin(),
            ObjectPin {
                etag: m.etag.clone(),
                size: 344_606,
                version_id: m.version_id.clone()
            }
        );
    }

    #[test]
    fn minimal_head_and_unknown_enums() {
        let h = headers(&[
            ("content-length", "0"),
            ("etag", "\"X\""),
            ("x-oss-object-type", "Weird"),
        ]);
        let m = ObjectMeta::from_headers(&h).unwrap();
        assert_eq!(m.size, 0);
        assert_eq!(m.crc64, None);
        assert_eq!(m.object_type, Some(ObjectType::Other("Weird".into())));
    }

    #[test]
    fn refuses_gzip_and_missing_fields() {
        let gz = headers(&[("content-encoding", "gzip"), ("etag", "\"X\"")]);
        assert!(matches!(
            ObjectMeta::from_headers(&gz),
            Err(Error::Transcoded { .. })
        ));
        for (h, needle) in [
            (headers(&[("etag", "\"X\"")]), "no Content-Length"),
            (
                headers(&[("content-length", "-1"), ("etag", "\"X\"")]),
                "Content-Length `-1`",
            ),
            (headers(&[("content-length", "1")]), "no ETag"),
            (
                headers(&[
                    ("content-length", "1"),
                    ("etag", "\"X\""),
                    ("x-oss-hash-crc64ecma", "-5"),
                ]),
                "not a decimal u64",
            ),
        ] {
            let e = ObjectMeta::from_headers(&h).unwrap_err();
            assert!(e.to_string().contains(needle), "{e}");
        }
    }

    #[test]
    fn bare_etags() {
        assert_eq!(bare_etag("\"ABC\""), "ABC");
        assert_eq!(bare_etag("W/\"ABC\""), "ABC");
        assert_eq!(bare_etag("ABC"), "ABC");
        assert_eq!(bare_etag("\"ABC-2\" "), "ABC-2");
    }
}
