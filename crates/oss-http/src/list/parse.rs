//! Reading a `<ListBucketResult>` body (ListObjectsV2 and ListObjects v1 share it) into a
//! [`ListPage`], bounded and strict.
//!
//! The root is matched by local name (OSS sends no namespace; an S3-style one is tolerated),
//! children are looked up by name in any order (`docs/oss-behaviour.md#listing`), and
//! unknown elements are skipped. Under `<EncodingType>url</EncodingType>` every key, prefix,
//! marker and token is percent-decoded (`%XX` only; `+` stays `+`, as OSS encodes a space as
//! `%20` and `+` as `%2B`, and as the official Python SDKs decode), and must decode to UTF-8.
//! Without it, values are taken as written: a server that ignored `encoding-type` sent keys
//! unencoded, and decoding them would corrupt every key holding a `%`.

use std::time::SystemTime;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::page::{ListPage, ListedObject, ListingProblem, RestoreStatus};
use crate::head::{ObjectType, StorageClass};
use crate::xml::resolve_reference;

/// The most entries (objects plus common prefixes) a page may hold: OSS's (and S3's)
/// `max-keys` cap. A page claiming more is refused while it is read, not after.
pub(crate) const MAX_PAGE_ENTRIES: usize = 1000;

/// The fields this parser keeps, by where they sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    IsTruncated,
    NextContinuationToken,
    NextMarker,
    KeyCount,
    EncodingType,
    Key,
    Size,
    ETag,
    LastModified,
    Type,
    StorageClass,
    RestoreInfo,
    CommonPrefix,
}

/// What `Contents` gave, still as text.
#[derive(Debug, Default)]
struct RawObject {
    key: Option<String>,
    size: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
    object_type: Option<String>,
    storage_class: Option<String>,
    restore: Option<String>,
}

/// The whole page, still as text.
#[derive(Debug, Default)]
struct RawPage {
    is_truncated: Option<String>,
    next_continuation_token: Option<String>,
    next_marker: Option<String>,
    key_count: Option<String>,
    encoding_type: Option<String>,
    objects: Vec<RawObject>,
    common_prefixes: Vec<String>,
}

/// Which element is open at depths 2 and 3 (the root is depth 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Contents,
    CommonPrefixes,
    Other,
}

/// Parses one page body. `request_id` is not set here; `next_marker` is `NextMarker` as
/// sent (the lister fills in the v1 fallback).
pub(crate) fn parse_page(body: &[u8]) -> Result<ListPage, ListingProblem> {
    let raw = read_raw(body)?;
    finish(raw)
}

fn malformed(byte: u64, detail: impl Into<String>) -> ListingProblem {
    ListingProblem::Malformed {
        byte,
        detail: detail.into(),
    }
}

fn read_raw(body: &[u8]) -> Result<RawPage, ListingProblem> {
    let text = std::str::from_utf8(body).map_err(|e| {
        malformed(
            e.valid_up_to() as u64,
            "the body is not UTF-8 (a listing is UTF-8 XML)",
        )
    })?;
    // A BOM is not markup; skipping it shifts reported offsets by its 3 bytes, added back.
    let (text, base) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3u64),
        None => (text, 0),
    };
    if text.trim().is_empty() {
        return Err(malformed(0, "the body is empty"));
    }
    let mut reader = Reader::from_str(text);
    let mut page = RawPage::default();
    let mut depth = 0usize;
    let mut container = Container::Other;
    let mut object = RawObject::default();
    let mut prefix: Option<String> = None;
    // The field being read: which one, at which depth, and its text so far.
    let mut capture: Option<(Field, usize, String)> = None;
    let mut entries = 0usize;
    loop {
        // Where this event's markup starts, for errors about it.
        let position = base + reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| malformed(base + reader.error_position(), e.to_string()))?;
        let end = matches!(event, Event::Empty(_) | Event::End(_));
        if let Event::Start(tag) | Event::Empty(tag) = &event {
            depth += 1;
            let name = tag.local_name();
            let name: &str = name.as_ref();
            match depth {
                1 if name == "ListBucketResult" => {}
                1 => {
                    return Err(malformed(
                        position,
                        format!("the root element is <{name}>, not <ListBucketResult>"),
                    ));
                }
                2 => {
                    container = match name {
                        "Contents" => Container::Contents,
                        "CommonPrefixes" => Container::CommonPrefixes,
                        _ => Container::Other,
                    };
                    if container != Container::Other {
                        entries += 1;
                        if entries > MAX_PAGE_ENTRIES {
                            return Err(ListingProblem::TooManyEntries {
                                limit: MAX_PAGE_ENTRIES,
                            });
                        }
                    }
                    capture = root_field(name).map(|f| (f, depth, String::new()));
                }
                3 => {
                    let field = match container {
                        Container::Contents => object_field(name),
                        Container::CommonPrefixes if name == "Prefix" => Some(Field::CommonPrefix),
                        _ => None,
                    };
                    capture = field.map(|f| (f, depth, String::new()));
                }
                _ => {}
            }
        }
        match &event {
            Event::Text(t) => append(&mut capture, depth, &t.xml10_content()),
            Event::CData(t) => append(&mut capture, depth, &t.xml10_content()),
            Event::GeneralRef(r) => append(&mut capture, depth, &resolve_reference(r)),
            Event::Eof => {
                return Err(malformed(
                    position,
                    "the body ends before </ListBucketResult> (cut short?)",
                ));
            }
            _ => {}
        }
        if end {
            if let Some((field, _, value)) = capture.take_if(|(_, at, _)| *at == depth) {
                store(&mut page, &mut object, &mut prefix, field, value);
            }
            if depth == 2 {
                match container {
                    Container::Contents => page.objects.push(std::mem::take(&mut object)),
                    Container::CommonPrefixes => {
                        let p = prefix.take().ok_or(ListingProblem::Missing {
                            element: "CommonPrefixes/Prefix",
                        })?;
                        page.common_prefixes.push(p);
                    }
                    Container::Other => {}
                }
                container = Container::Other;
            }
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return Ok(page);
            }
        }
    }
}

fn root_field(name: &str) -> Option<Field> {
    Some(match name {
        "IsTruncated" => Field::IsTruncated,
        "NextContinuationToken" => Field::NextContinuationToken,
        "NextMarker" => Field::NextMarker,
        "KeyCount" => Field::KeyCount,
        "EncodingType" => Field::EncodingType,
        _ => return None,
    })
}

fn object_field(name: &str) -> Option<Field> {
    Some(match name {
        "Key" => Field::Key,
        "Size" => Field::Size,
        "ETag" => Field::ETag,
        "LastModified" => Field::LastModified,
        "Type" => Field::Type,
        "StorageClass" => Field::StorageClass,
        "RestoreInfo" => Field::RestoreInfo,
        _ => return None,
    })
}

/// Adds text to the field being read, when the text is the field's own (not a nested
/// element's).
fn append(capture: &mut Option<(Field, usize, String)>, depth: usize, text: &str) {
    if let Some((_, at, value)) = capture
        && *at == depth
    {
        value.push_str(text);
    }
}

fn store(
    page: &mut RawPage,
    object: &mut RawObject,
    prefix: &mut Option<String>,
    field: Field,
    value: String,
) {
    let slot = match field {
        Field::IsTruncated => &mut page.is_truncated,
        Field::NextContinuationToken => &mut page.next_continuation_token,
        Field::NextMarker => &mut page.next_marker,
        Field::KeyCount => &mut page.key_count,
        Field::EncodingType => &mut page.encoding_type,
        Field::Key => &mut object.key,
        Field::Size => &mut object.size,
        Field::ETag => &mut object.etag,
        Field::LastModified => &mut object.last_modified,
        Field::Type => &mut object.object_type,
        Field::StorageClass => &mut object.storage_class,
        Field::RestoreInfo => &mut object.restore,
        Field::CommonPrefix => prefix,
    };
    *slot = Some(value);
}

/// Text → typed values, decoding under `encoding-type=url`.
fn finish(raw: RawPage) -> Result<ListPage, ListingProblem> {
    let url = raw
        .encoding_type
        .as_deref()
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("url"));
    let decode = |element: &'static str, text: String| -> Result<String, ListingProblem> {
        if url {
            url_decode(element, &text)
        } else {
            Ok(text)
        }
    };
    let is_truncated = match raw.is_truncated.as_deref().map(str::trim) {
        None => {
            return Err(ListingProblem::Missing {
                element: "IsTruncated",
            });
        }
        Some(t) if t.eq_ignore_ascii_case("true") => true,
        Some(t) if t.eq_ignore_ascii_case("false") => false,
        Some(t) => return Err(bad("IsTruncated", t)),
    };
    let key_count = match raw.key_count.as_deref().map(str::trim) {
        None => None,
        Some(t) => Some(t.parse::<u64>().map_err(|_| bad("KeyCount", t))?),
    };
    let mut objects = Vec::with_capacity(raw.objects.len());
    for o in raw.objects {
        objects.push(object(o, &decode)?);
    }
    let common_prefixes = raw
        .common_prefixes
        .into_iter()
        .map(|p| decode("CommonPrefixes/Prefix", p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ListPage {
        objects,
        common_prefixes,
        is_truncated,
        next_continuation_token: raw
            .next_continuation_token
            .map(|t| decode("NextContinuationToken", t))
            .transpose()?
            .filter(|t| !t.is_empty()),
        next_marker: raw
            .next_marker
            .map(|m| decode("NextMarker", m))
            .transpose()?
            .filter(|m| !m.is_empty()),
        key_count,
        request_id: None,
    })
}

fn object(
    o: RawObject,
    decode: &impl Fn(&'static str, String) -> Result<String, ListingProblem>,
) -> Result<ListedObject, ListingProblem> {
    let missing = |element| ListingProblem::Missing { element };
    let key = decode("Contents/Key", o.key.ok_or(missing("Contents/Key"))?)?;
    if key.is_empty() {
        return Err(bad("Contents/Key", ""));
    }
    let size = o.size.ok_or(missing("Contents/Size"))?;
    let size = size
        .trim()
        .parse::<u64>()
        .map_err(|_| bad("Contents/Size", &size))?;
    let etag = o.etag.ok_or(missing("Contents/ETag"))?.trim().to_owned();
    let last_modified = o.last_modified.ok_or(missing("Contents/LastModified"))?;
    let last_modified = parse_last_modified(&last_modified)
        .ok_or_else(|| bad("Contents/LastModified", &last_modified))?;
    Ok(ListedObject {
        key,
        size,
        etag,
        last_modified,
        object_type: o.object_type.map(|t| ObjectType::parse(t.trim())),
        storage_class: o.storage_class.map(|c| StorageClass::parse(c.trim())),
        restore: o.restore.map(|r| RestoreStatus::parse(r.trim())),
    })
}

fn bad(element: &'static str, value: &str) -> ListingProblem {
    ListingProblem::BadValue {
        element,
        value: value.chars().take(200).collect(),
    }
}

/// `2012-02-24T08:42:32.000Z` (OSS always writes `.000`; any fraction, or none, is taken).
fn parse_last_modified(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let seconds = text.get(..19)?;
    let rest = text.get(19..)?.strip_suffix('Z')?;
    let fraction_ok = rest.is_empty()
        || rest.strip_prefix('.').is_some_and(|f| {
            !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit())
        });
    if !fraction_ok {
        return None;
    }
    oss_sign::SigningTime::parse_iso8601(&format!("{seconds}Z"))
        .ok()
        .map(oss_sign::SigningTime::to_system_time)
}

/// `%XX` → byte, everything else as is; the bytes must be UTF-8. A `%` not followed by two
/// hex digits is refused rather than guessed at.
pub(crate) fn url_decode(element: &'static str, text: &str) -> Result<String, ListingProblem> {
    if !text.contains('%') {
        return Ok(text.to_owned());
    }
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = |at: usize| b.get(at).and_then(|x| char::from(*x).to_digit(16));
            let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
                return Err(bad(element, text));
            };
            // Two hex digits: at most 0xFF.
            out.push(u8::try_from(high * 16 + low).unwrap_or(u8::MAX));
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad(element, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The V2 sample of `docs/oss-behaviour.md#listing`, with the fields OSS sends.
    const V2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult>
  <Name>examplebucket</Name>
  <Prefix>a%2F</Prefix>
  <MaxKeys>2</MaxKeys>
  <Delimiter>%2F</Delimiter>
  <EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>CgJiYw--</NextContinuationToken>
  <Contents>
    <Key>a/b%20c%2Bd%25.txt</Key>
    <LastModified>2020-06-22T11:42:32.000Z</LastModified>
    <ETag>"5B3C1A2E053D763E1B002CC607C5A0FE"</ETag>
    <Type>Normal</Type>
    <Size>344606</Size>
    <StorageClass>ColdArchive</StorageClass>
    <Owner><ID>0022012****</ID><DisplayName>user-example</DisplayName></Owner>
    <RestoreInfo>ongoing-request="true"</RestoreInfo>
  </Contents>
  <CommonPrefixes><Prefix>a/%E6%96%87/</Prefix></CommonPrefixes>
  <KeyCount>2</KeyCount>
</ListBucketResult>"#;

    #[test]
    fn reads_a_v2_page_and_decodes() {
        let page = parse_page(V2.as_bytes()).unwrap();
        assert!(page.is_truncated);
        assert_eq!(page.next_continuation_token.as_deref(), Some("CgJiYw--"));
        assert_eq!(page.key_count, Some(2));
        let o = &page.objects[0];
        assert_eq!(o.key, "a/b c+d%.txt");
        assert_eq!(o.size, 344_606);
        assert_eq!(o.etag, "\"5B3C1A2E053D763E1B002CC607C5A0FE\"");
        assert_eq!(
            o.last_modified,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_592_826_152)
        );
        assert_eq!(o.object_type, Some(ObjectType::Normal));
        assert_eq!(o.storage_class, Some(StorageClass::ColdArchive));
        assert_eq!(o.restore, Some(RestoreStatus::Ongoing));
        assert_eq!(page.common_prefixes, ["a/文/"]);
    }

    #[test]
    fn without_encoding_type_values_are_kept() {
        let body = V2.replace("<EncodingType>url</EncodingType>", "");
        let page = parse_page(body.as_bytes()).unwrap();
        assert_eq!(page.objects[0].key, "a/b%20c%2Bd%25.txt");
    }

    #[test]
    fn v1_next_marker_entities_cdata_and_order() {
        let body = "<ListBucketResult><Contents><Size>0</Size><Key><![CDATA[x<y]]>&amp;&#233;</Key>\
            <ETag>E</ETag><LastModified>2020-06-22T11:42:32Z</LastModified></Contents>\
            <NextMarker>x&lt;y</NextMarker><IsTruncated>True</IsTruncated></ListBucketResult>";
        let page = parse_page(body.as_bytes()).unwrap();
        assert_eq!(page.objects[0].key, "x<y&é");
        assert_eq!(page.next_marker.as_deref(), Some("x<y"));
        assert!(page.is_truncated);
        assert_eq!(page.objects[0].object_type, None);
    }

    #[test]
    fn keys_keep_their_spaces_and_namespaces_are_tolerated() {
        let body = "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsTruncated>false</IsTruncated>\
            <Contents><Key> a </Key><Size> 5 </Size><ETag>E</ETag><LastModified>2020-06-22T11:42:32.5Z</LastModified></Contents></ListBucketResult>";
        let page = parse_page(body.as_bytes()).unwrap();
        assert_eq!(page.objects[0].key, " a ");
        assert_eq!(page.objects[0].size, 5);
    }

    #[test]
    fn malformed_bodies_name_the_byte() {
        // (body, the text the reported byte points at)
        for (body, at) in [
            (
                "<ListBucketResult><IsTruncated>false</Wrong></ListBucketResult>",
                "</Wrong>",
            ),
            ("<ListBucketResult><IsTruncated>false</IsTruncated>", ""),
            ("<Error><Code>X</Code></Error>", "<Error>"),
            ("<ListBucketResult><a b=\"1></ListBucketResult>", "<a b"),
        ] {
            let e = parse_page(body.as_bytes()).unwrap_err();
            let ListingProblem::Malformed { byte, .. } = &e else {
                panic!("{body}: {e:?}");
            };
            let want = if at.is_empty() {
                body.len()
            } else {
                body.find(at).unwrap()
            };
            assert_eq!(*byte, want as u64, "{body}: {e}");
        }
        assert_eq!(
            parse_page(b"  ").unwrap_err(),
            ListingProblem::Malformed {
                byte: 0,
                detail: "the body is empty".into()
            }
        );
        let e = parse_page(b"<ListBucketResult>\xff</ListBucketResult>").unwrap_err();
        assert_eq!(
            e,
            ListingProblem::Malformed {
                byte: 18,
                detail: "the body is not UTF-8 (a listing is UTF-8 XML)".into()
            }
        );
    }

    #[test]
    fn missing_and_bad_fields() {
        let page = |contents: &str, trunc: &str| {
            parse_page(
                format!("<ListBucketResult>{trunc}<Contents>{contents}</Contents><EncodingType>url</EncodingType></ListBucketResult>")
                    .as_bytes(),
            )
        };
        let ok = "<Key>k</Key><Size>1</Size><ETag>E</ETag><LastModified>2020-06-22T11:42:32.000Z</LastModified>";
        let t = "<IsTruncated>false</IsTruncated>";
        page(ok, t).unwrap();
        assert_eq!(
            page(ok, "").unwrap_err(),
            ListingProblem::Missing {
                element: "IsTruncated"
            }
        );
        for (needle, field) in [
            ("<Key>k</Key>", "Contents/Key"),
            ("<Size>1</Size>", "Contents/Size"),
            ("<ETag>E</ETag>", "Contents/ETag"),
            (
                "<LastModified>2020-06-22T11:42:32.000Z</LastModified>",
                "Contents/LastModified",
            ),
        ] {
            assert_eq!(
                page(&ok.replace(needle, ""), t).unwrap_err(),
                ListingProblem::Missing { element: field }
            );
        }
        for (from, to, field) in [
            ("<Size>1</Size>", "<Size>-1</Size>", "Contents/Size"),
            ("<Key>k</Key>", "<Key>%zz</Key>", "Contents/Key"),
            ("<Key>k</Key>", "<Key>%FF</Key>", "Contents/Key"),
            ("<Key>k</Key>", "<Key></Key>", "Contents/Key"),
            (".000Z", ".000", "Contents/LastModified"),
            (".000Z", ".Z", "Contents/LastModified"),
        ] {
            let e = page(&ok.replace(from, to), t).unwrap_err();
            assert!(
                matches!(e, ListingProblem::BadValue { element, .. } if element == field),
                "{to}: {e:?}"
            );
        }
        let e = page(ok, "<IsTruncated>yes</IsTruncated>").unwrap_err();
        assert!(matches!(
            e,
            ListingProblem::BadValue {
                element: "IsTruncated",
                ..
            }
        ));
    }

    #[test]
    fn a_hostile_page_is_stopped_at_the_entry_cap() {
        let mut body = String::from("<ListBucketResult><IsTruncated>false</IsTruncated>");
        for _ in 0..=MAX_PAGE_ENTRIES {
            body.push_str("<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>");
        }
        body.push_str("</ListBucketResult>");
        assert_eq!(
            parse_page(body.as_bytes()).unwrap_err(),
            ListingProblem::TooManyEntries {
                limit: MAX_PAGE_ENTRIES
            }
        );
        // Deep nesting of unknown elements costs nothing to hold.
        let deep = format!(
            "<ListBucketResult><IsTruncated>false</IsTruncated>{}{}</ListBucketResult>",
            "<x>".repeat(10_000),
            "</x>".repeat(10_000)
        );
        assert!(parse_page(deep.as_bytes()).unwrap().is_empty());
    }

    #[test]
    fn url_decoding_is_exact() {
        assert_eq!(url_decode("k", "a+b%20c%2B%2f").unwrap(), "a+b c+/");
        assert_eq!(url_decode("k", "%E6%96%87%01").unwrap(), "文\u{1}");
        assert!(url_decode("k", "%").is_err());
        assert!(url_decode("k", "%4").is_err());
        assert!(url_decode("k", "%C3%28").is_err());
    }
}
