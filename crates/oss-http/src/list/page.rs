//! What a listing page holds, and the ways a page can be unusable.

use std::fmt;
use std::time::SystemTime;

use crate::head::{ObjectType, StorageClass};

/// One page of a listing: objects and common prefixes, each list in key order, and whether
/// (and from where) the listing goes on.
///
/// Under `encoding-type=url` (which [`crate::Lister`] always asks for) every key, prefix,
/// marker and token here is already decoded: they are the object keys exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListPage {
    /// The objects (`<Contents>`), in key order.
    pub objects: Vec<ListedObject>,
    /// The common prefixes (`<CommonPrefixes><Prefix>`): with a delimiter, each key prefix up
    /// to and including the first delimiter after the request's prefix, once, in order.
    pub common_prefixes: Vec<String>,
    /// `IsTruncated`: more entries follow this page.
    pub is_truncated: bool,
    /// `NextContinuationToken` (ListObjectsV2; only on a truncated page).
    pub next_continuation_token: Option<String>,
    /// Where a ListObjects (v1) listing goes on: `NextMarker` as sent, or — from a server
    /// that leaves it out, as S3 does without a delimiter — the page's last key or prefix.
    /// `None` on the last page and under V2.
    pub next_marker: Option<String>,
    /// `KeyCount` (V2): objects plus common prefixes on the page, when the server sent it.
    pub key_count: Option<u64>,
    /// `x-oss-request-id` of the response.
    pub request_id: Option<String>,
}

impl ListPage {
    /// Objects plus common prefixes on this page.
    pub fn len(&self) -> usize {
        self.objects.len() + self.common_prefixes.len()
    }

    /// Whether the page holds neither objects nor common prefixes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The greatest key or common prefix on the page (the point the listing has reached).
    pub(crate) fn last_item(&self) -> Option<&str> {
        let key = self.objects.iter().map(|o| o.key.as_str()).max();
        let prefix = self.common_prefixes.iter().map(String::as_str).max();
        key.max(prefix)
    }
}

/// One object as a listing describes it. `key`, `size`, `etag` and `last_modified` are in
/// every OSS (and S3) listing, so a page without them is refused; the rest are kept when
/// sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListedObject {
    /// The key, decoded.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The ETag exactly as sent (OSS quotes it: `"5B3C1A2E053D763E1B002CC607C5A0FE"`), the
    /// same value HEAD and GET send.
    pub etag: String,
    /// `LastModified`, to the second.
    pub last_modified: SystemTime,
    /// `Type`: `Normal`, `Multipart`, `Appendable` or `Symlink`.
    pub object_type: Option<ObjectType>,
    /// `StorageClass`: an archive class must be restored before it can be read.
    pub storage_class: Option<StorageClass>,
    /// `RestoreInfo`: present once a restore of an archived object was asked for.
    pub restore: Option<RestoreStatus>,
}

/// An archived object's restore state, from a listing's `RestoreInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestoreStatus {
    /// `ongoing-request="true"`: the restore is running; the object cannot be read yet.
    Ongoing,
    /// `ongoing-request="false"`: restored, readable until `expires` (when it parsed).
    Restored {
        /// `expiry-date`.
        expires: Option<SystemTime>,
    },
    /// A form this crate does not know, as sent.
    Other(String),
}

impl RestoreStatus {
    /// Reads `ongoing-request="false", expiry-date="Sun, 16 Apr 2017 08:12:33 GMT"`.
    pub(crate) fn parse(text: &str) -> Self {
        let field = |name: &str| {
            let at = text.find(name)? + name.len();
            let rest = text.get(at..)?.trim_start().strip_prefix('=')?.trim_start();
            let rest = rest.strip_prefix('"')?;
            rest.split('"').next()
        };
        match field("ongoing-request") {
            Some("true") => RestoreStatus::Ongoing,
            Some("false") => RestoreStatus::Restored {
                expires: field("expiry-date").and_then(|d| httpdate::parse_http_date(d).ok()),
            },
            _ => RestoreStatus::Other(text.to_owned()),
        }
    }
}

/// Why a listing page cannot be used ([`crate::Error::InvalidListing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListingProblem {
    /// The body is not well-formed XML, or not a `<ListBucketResult>`: `byte` is the offset
    /// in the body where reading failed.
    Malformed {
        /// Offset in the response body.
        byte: u64,
        /// What was wrong there.
        detail: String,
    },
    /// An element every listing carries is missing (`IsTruncated`, or an object's `Key`,
    /// `Size`, `ETag` or `LastModified`).
    Missing {
        /// The element, e.g. `Contents/Size`.
        element: &'static str,
    },
    /// An element's text cannot be read (a `Size` that is not a number, a key that is not
    /// valid percent-encoding).
    BadValue {
        /// The element, e.g. `Contents/Size`.
        element: &'static str,
        /// The text as sent (cut to 200 characters).
        value: String,
    },
    /// The body is larger than [`crate::ListRequest::max_page_bytes`] allows.
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The page holds more entries than any page may (1000: the protocol's `max-keys` cap).
    TooManyEntries {
        /// The cap.
        limit: usize,
    },
    /// The page says more entries follow but gives no way to them (no
    /// `NextContinuationToken` under V2; an empty page under V1).
    NoContinuation,
    /// The server answered with the continuation token it had just been sent: following it
    /// would ask for the same page forever.
    RepeatedToken {
        /// The token.
        token: String,
    },
    /// Truncated pages in a row held no entry, each with a new continuation token: a
    /// listing that never gets anywhere.
    EmptyPages {
        /// How many.
        pages: usize,
    },
    /// An entry at or before one an earlier page returned: the listing went back, which in
    /// key order it never does (a loop, or a server that does not list in order).
    NotAdvancing {
        /// The greatest key or prefix of the earlier pages.
        previous: String,
        /// The entry of this page that is not after it.
        got: String,
    },
    /// A key or common prefix that does not start with the prefix asked for.
    OutsidePrefix {
        /// The key or prefix.
        key: String,
    },
}

impl fmt::Display for ListingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListingProblem::Malformed { byte, detail } => {
                write!(f, "malformed XML at byte {byte}: {detail}")
            }
            ListingProblem::Missing { element } => write!(f, "no <{element}> element"),
            ListingProblem::BadValue { element, value } => {
                write!(f, "<{element}> holds `{}`, which cannot be read", value.escape_debug())
            }
            ListingProblem::TooLarge { limit } => write!(
                f,
                "the page is larger than {limit} bytes (raise ListRequest::max_page_bytes if the server's pages are that big)"
            ),
            ListingProblem::TooManyEntries { limit } => {
                write!(f, "the page holds more than {limit} entries")
            }
            ListingProblem::NoContinuation => f.write_str(
                "the page is truncated but says nowhere to continue from (no NextContinuationToken or NextMarker)",
            ),
            ListingProblem::RepeatedToken { token } => write!(
                f,
                "the server returned the continuation token it was sent (`{}`), so the listing would never end",
                token.escape_debug()
            ),
            ListingProblem::EmptyPages { pages } => write!(
                f,
                "{pages} truncated pages in a row held no entry, so the listing is not getting anywhere"
            ),
            ListingProblem::NotAdvancing { previous, got } => write!(
                f,
                "`{}` comes after `{}` from an earlier page, but a listing only moves forward in key order",
                got.escape_debug(),
                previous.escape_debug()
            ),
            ListingProblem::OutsidePrefix { key } => write!(
                f,
                "`{}` does not start with the prefix asked for",
                key.escape_debug()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn restore_forms() {
        assert_eq!(
            RestoreStatus::parse("ongoing-request=\"true\""),
            RestoreStatus::Ongoing
        );
        assert_eq!(
            RestoreStatus::parse(
                "ongoing-request=\"false\", expiry-date=\"Sun, 16 Apr 2017 08:12:33 GMT\""
            ),
            RestoreStatus::Restored {
                expires: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_492_330_353))
            }
        );
        assert_eq!(
            RestoreStatus::parse("weird"),
            RestoreStatus::Other("weird".into())
        );
    }

    #[test]
    fn problems_say_what_and_where() {
        let text = ListingProblem::Malformed {
            byte: 42,
            detail: "x".into(),
        }
        .to_string();
        assert!(text.contains("byte 42"), "{text}");
        let text = ListingProblem::NotAdvancing {
            previous: "b".into(),
            got: "a\n".into(),
        }
        .to_string();
        assert!(text.contains("`a\\n`") && text.contains("`b`"), "{text}");
    }
}
