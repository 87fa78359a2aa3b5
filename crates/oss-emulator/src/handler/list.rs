//! ListObjectsV2 (`GET /?list-type=2`) and ListObjects v1 (`GET /`) from the one model, as
//! `docs/oss-behaviour.md#listing` specifies them: the parameters, the page walk in byte
//! order (patterns included, never materialised), and OSS's XML.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode};
use oss_sign::{Slash, uri_encode};

use super::Answer;
use crate::clock::iso8601;
use crate::keyspace::after_prefix;
use crate::model::{Bucket, Emulator};
use crate::object::{Restore, StoredObject};
use crate::oss_error::{OssError, xml_text};
use crate::request::RequestParts;
use crate::response::ResponseBody;

/// The page size when `max-keys` is not sent (OSS's default), and its cap.
const DEFAULT_MAX_KEYS: usize = 100;
const MAX_KEYS: usize = 1000;

/// Prefix, delimiter, start-after and marker must be shorter than this many bytes.
const MAX_PARAM_BYTES: usize = 1024;

/// The owner every listed object has (the emulator has one account's worth of buckets).
const OWNER_ID: &str = "1234567890123456";

/// Query parameters a listing takes; anything else (other than authentication) is a bucket
/// operation the emulator does not implement.
const LISTING_PARAMS: &[&str] = &[
    "list-type",
    "prefix",
    "delimiter",
    "start-after",
    "continuation-token",
    "max-keys",
    "encoding-type",
    "fetch-owner",
    "marker",
];

/// What authenticates a presigned URL (V1) or rides along with it (`x-oss-*`, V4).
fn is_auth_param(name: &str) -> bool {
    matches!(
        name,
        "OSSAccessKeyId" | "Expires" | "Signature" | "security-token"
    ) || name.starts_with("x-oss-")
}

/// A listing request, read and checked.
#[derive(Debug)]
struct Params {
    v2: bool,
    prefix: String,
    delimiter: String,
    /// V2 `start-after` as sent (echoed).
    start_after: String,
    /// V2 `continuation-token` as sent (echoed).
    token: String,
    /// V1 `marker` as sent (echoed).
    marker: String,
    /// Entries are strictly after this (the token's key, start-after or the marker).
    after: Option<String>,
    max_keys: usize,
    url: bool,
    owner: bool,
}

/// One entry of a page.
enum Item {
    Object(String, Arc<StoredObject>),
    Prefix(String),
}

impl Emulator {
    /// Answers a request for a bucket (no key): a listing, or `501` for the bucket
    /// operations the emulator does not implement.
    pub(super) fn bucket_request(
        &self,
        req: &RequestParts,
        bucket: &str,
        query: &[(String, String)],
    ) -> Result<Answer, OssError> {
        let other = query
            .iter()
            .find(|(k, _)| !LISTING_PARAMS.contains(&k.as_str()) && !is_auth_param(k));
        if req.method != Method::GET || other.is_some() {
            return Err(OssError::new(
                501,
                "NotImplemented",
                "The emulator serves object downloads and listings only (no other bucket operations).",
            ));
        }
        let params = params(query)?;
        let fired = self.fire_faults(&req.method, bucket, None, false)?;
        let xml = {
            let st = self.state();
            let b = st
                .buckets
                .get(bucket)
                .ok_or_else(|| crate::oss_error::no_such_bucket(bucket))?;
            let (items, truncated) = scan(b, &params);
            page_xml(bucket, &params, &items, truncated)
        };
        let headers = vec![
            (http::header::CONTENT_TYPE, "application/xml".to_owned()),
            (http::header::CONTENT_LENGTH, xml.len().to_string()),
        ];
        Ok(Answer {
            status: StatusCode::OK,
            headers,
            body: ResponseBody::Bytes(Bytes::from(xml)),
            first_byte_delay: fired.delay,
            rate_limit: None,
        })
    }
}

fn invalid(message: &str) -> OssError {
    OssError::new(400, "InvalidArgument", message)
}

/// Reads the parameters; an empty value counts as absent (oss2 sends `delimiter=` and the
/// like on every request).
fn params(query: &[(String, String)]) -> Result<Params, OssError> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let v2 = match get("list-type") {
        "" => false,
        "2" => true,
        other => {
            return Err(invalid("list-type must be 2 (ListObjectsV2) or absent.")
                .field("ArgumentName", "list-type")
                .field("ArgumentValue", other));
        }
    };
    // `max-keys=0` is not described (I): an empty, complete page.
    let max_keys = match get("max-keys") {
        "" => DEFAULT_MAX_KEYS,
        text => match text.parse::<usize>() {
            Ok(n) if n <= MAX_KEYS => n,
            _ => {
                return Err(invalid(
                    "The max-keys argument is smaller than 0 or greater than 1000.",
                )
                .field("ArgumentName", "max-keys")
                .field("ArgumentValue", text));
            }
        },
    };
    let url = match get("encoding-type") {
        "" => false,
        "url" => true,
        other => {
            return Err(invalid("encoding-type must be url.")
                .field("ArgumentName", "encoding-type")
                .field("ArgumentValue", other));
        }
    };
    for name in ["prefix", "delimiter", "start-after", "marker"] {
        if get(name).len() >= MAX_PARAM_BYTES {
            return Err(
                invalid(&format!("Argument {name} must be shorter than 1024 bytes."))
                    .field("ArgumentName", name),
            );
        }
    }
    let token = get("continuation-token").to_owned();
    let after = if v2 {
        if token.is_empty() {
            Some(get("start-after").to_owned())
        } else {
            // A token takes precedence over start-after (oss2 resends both).
            Some(decode_token(&token).ok_or_else(|| {
                invalid("The continuation token is invalid.")
                    .field("ArgumentName", "continuation-token")
            })?)
        }
    } else {
        Some(get("marker").to_owned())
    }
    .filter(|a| !a.is_empty());
    Ok(Params {
        v2,
        prefix: get("prefix").to_owned(),
        delimiter: get("delimiter").to_owned(),
        start_after: get("start-after").to_owned(),
        token,
        marker: get("marker").to_owned(),
        after,
        max_keys,
        url,
        owner: !v2 || get("fetch-owner") == "true",
    })
}

/// A continuation token: the hex of the last entry returned, so it is made of unreserved
/// characters and survives every client's URL-decoding unchanged.
fn encode_token(last: &str) -> String {
    last.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str) -> Option<String> {
    let bytes = token.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let raw = bytes
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(raw).ok()
}

/// The page: entries strictly after `after`, under `prefix`, rolled up at `delimiter`, at
/// most `max_keys` of them; and whether more follow.
///
/// A common prefix at or before `after` was returned already (the page that ended on it
/// handed it back as the token or marker), so it is skipped with all of its keys.
fn scan(b: &Bucket, p: &Params) -> (Vec<Item>, bool) {
    let mut items = Vec::new();
    if p.max_keys == 0 {
        return (items, false);
    }
    let (mut at, mut inclusive) = match &p.after {
        Some(after) if *after >= p.prefix => (after.clone(), false),
        _ => (p.prefix.clone(), true),
    };
    while let Some((key, source)) = b.next_listed(&at, inclusive) {
        if !key.starts_with(&p.prefix) {
            break;
        }
        let rolled = (!p.delimiter.is_empty())
            .then(|| {
                let tail = key.get(p.prefix.len()..)?;
                let end = p.prefix.len() + tail.find(&p.delimiter)? + p.delimiter.len();
                key.get(..end)
            })
            .flatten();
        if let Some(prefix) = rolled {
            let returned = p.after.as_deref().is_some_and(|a| prefix <= a);
            if !returned {
                if items.len() == p.max_keys {
                    return (items, true);
                }
                items.push(Item::Prefix(prefix.to_owned()));
            }
            match after_prefix(prefix) {
                Some(next) => (at, inclusive) = (next, true),
                None => break,
            }
            continue;
        }
        if items.len() == p.max_keys {
            return (items, true);
        }
        if let Some(object) = b.listed_object(&key, source) {
            items.push(Item::Object(key.clone(), object));
        }
        (at, inclusive) = (key, false);
    }
    (items, false)
}

/// OSS's XML for a page: no namespace, fields in the documented order.
fn page_xml(bucket: &str, p: &Params, items: &[Item], truncated: bool) -> String {
    let mut x = String::with_capacity(256 + items.len() * 320);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>\n");
    let enc = |v: &str| {
        if p.url {
            uri_encode(v, Slash::Keep)
        } else {
            v.to_owned()
        }
    };
    el(&mut x, 1, "Name", bucket);
    el(&mut x, 1, "Prefix", &enc(&p.prefix));
    let last = items.last().map(|i| match i {
        Item::Object(key, _) => key.as_str(),
        Item::Prefix(prefix) => prefix.as_str(),
    });
    let next = last.filter(|_| truncated);
    if p.v2 {
        if !p.start_after.is_empty() {
            el(&mut x, 1, "StartAfter", &enc(&p.start_after));
        }
        if !p.token.is_empty() {
            el(&mut x, 1, "ContinuationToken", &p.token);
        }
        el(&mut x, 1, "MaxKeys", &p.max_keys.to_string());
        if !p.delimiter.is_empty() {
            el(&mut x, 1, "Delimiter", &enc(&p.delimiter));
        }
    } else {
        el(&mut x, 1, "Marker", &enc(&p.marker));
        el(&mut x, 1, "MaxKeys", &p.max_keys.to_string());
        el(&mut x, 1, "Delimiter", &enc(&p.delimiter));
    }
    if p.url {
        el(&mut x, 1, "EncodingType", "url");
    }
    el(
        &mut x,
        1,
        "IsTruncated",
        if truncated { "true" } else { "false" },
    );
    match (next, p.v2) {
        (Some(last), true) => el(&mut x, 1, "NextContinuationToken", &encode_token(last)),
        (Some(last), false) => el(&mut x, 1, "NextMarker", &enc(last)),
        (None, _) => {}
    }
    for item in items {
        if let Item::Object(key, o) = item {
            x.push_str("  <Contents>\n");
            el(&mut x, 2, "Key", &enc(key));
            el(&mut x, 2, "LastModified", &iso8601(o.last_modified));
            el(&mut x, 2, "ETag", &o.etag);
            el(&mut x, 2, "Type", o.object_type.as_str());
            el(&mut x, 2, "Size", &o.content.len().to_string());
            el(&mut x, 2, "StorageClass", o.storage_class.as_str());
            if p.owner {
                x.push_str("    <Owner>\n");
                el(&mut x, 3, "ID", OWNER_ID);
                el(&mut x, 3, "DisplayName", OWNER_ID);
                x.push_str("    </Owner>\n");
            }
            match o.restore {
                Restore::None => {}
                Restore::Ongoing => el(&mut x, 2, "RestoreInfo", "ongoing-request=\"true\""),
                Restore::Until(t) => el(
                    &mut x,
                    2,
                    "RestoreInfo",
                    &format!(
                        "ongoing-request=\"false\", expiry-date=\"{}\"",
                        httpdate::fmt_http_date(t)
                    ),
                ),
            }
            x.push_str("  </Contents>\n");
        }
    }
    for item in items {
        if let Item::Prefix(prefix) = item {
            x.push_str("  <CommonPrefixes>\n");
            el(&mut x, 2, "Prefix", &enc(prefix));
            x.push_str("  </CommonPrefixes>\n");
        }
    }
    if p.v2 {
        el(&mut x, 1, "KeyCount", &items.len().to_string());
    }
    x.push_str("</ListBucketResult>\n");
    x
}

/// `<name>value</name>` on its own line, `depth` levels in, the value XML-escaped.
fn el(x: &mut String, depth: usize, name: &str, value: &str) {
    for _ in 0..depth {
        x.push_str("  ");
    }
    x.push('<');
    x.push_str(name);
    x.push('>');
    x.push_str(&xml_text(value));
    x.push_str("</");
    x.push_str(name);
    x.push_str(">\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        for key in ["a", "dir/a b+c%d", "文😀", "\u{1}\u{7f}"] {
            let t = encode_token(key);
            assert!(t.bytes().all(|b| b.is_ascii_hexdigit()), "{t}");
            assert_eq!(decode_token(&t).as_deref(), Some(key));
        }
        for bad in ["err-token", "abc", "zz", "ff"] {
            assert_eq!(decode_token(bad), None, "{bad}");
        }
    }
}
