//! What a response's headers carry, and sizes: `Content-Range` and the ranged-GET check
//! (oss-http), `Range` text (oss-parts' `ByteRange`), HTTP dates (`httpdate`, as oss-http
//! reads `Date` and `Last-Modified`; oss-sign's own three date forms), human sizes
//! (`oss_parts::parse_size`), and a whole HEAD header block (`ObjectMeta`). Every input is
//! given to every parser, as text, and as lines of `Name: value` headers.
//!
//! Properties beyond "no panic":
//! - every successful parse re-renders to text that parses to the same value
//!   (`Content-Range`, `Range`, each date form, sizes — `format_size`'s rounded text
//!   within 0.5%);
//! - the date parsers agree: where `httpdate` and oss-sign both read a date, it is the same
//!   instant; oss-sign's formatting is total (any `u64` of seconds: a time or an error, and
//!   each form its fixed width);
//! - the ranged-GET check accepts a `Content-Range` exactly when it parses to the range
//!   asked and the pinned size, with a `Content-Length` (when there is one) of that length;
//! - a HEAD's metadata says what its headers said: size and CRC-64 as decimal `u64`s, the
//!   ETag, and every untyped header kept.
#![no_main]

use std::time::{Duration, SystemTime};

use http::header::{CONTENT_LENGTH, CONTENT_RANGE, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use libfuzzer_sys::fuzz_target;
use oss_http::fuzzing::{check_partial_response, object_meta, parse_content_range};
use oss_parts::{ByteRange, format_size, parse_size};
use oss_sign::SigningTime;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    content_range(&text);
    range_header(&text);
    size(&text);
    http_date(&text);
    signing_time(&text);
    signing_time_is_total(data);
    let headers = header_block(&text);
    head_meta(&headers);
    ranged_get(&headers);
});

fn content_range(text: &str) {
    let Some((range, total)) = parse_content_range(text) else {
        return;
    };
    assert!(
        range.last() < total,
        "`{text}`: the range ends past the total"
    );
    let canonical = format!("bytes {}-{}/{}", range.start(), range.last(), total);
    assert_eq!(parse_content_range(&canonical), Some((range, total)));
    // The check accepts exactly that range of exactly that size.
    let Ok(value) = HeaderValue::from_str(text) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_RANGE, value);
    assert!(
        check_partial_response(StatusCode::PARTIAL_CONTENT, &headers, range, total).is_ok(),
        "`{text}` parses but the ranged-GET check refuses it"
    );
    assert!(check_partial_response(StatusCode::OK, &headers, range, total).is_err());
    if let Some(bigger) = total.checked_add(1) {
        assert!(
            check_partial_response(StatusCode::PARTIAL_CONTENT, &headers, range, bigger).is_err()
        );
    }
    headers.insert(CONTENT_LENGTH, HeaderValue::from(range.len()));
    assert!(check_partial_response(StatusCode::PARTIAL_CONTENT, &headers, range, total).is_ok());
    if let Some(longer) = range.len().checked_add(1) {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(longer));
        assert!(
            check_partial_response(StatusCode::PARTIAL_CONTENT, &headers, range, total).is_err()
        );
    }
}

fn range_header(text: &str) {
    let Ok(range) = ByteRange::parse_header(text) else {
        return;
    };
    let rendered = range.to_string();
    assert_eq!(
        ByteRange::parse_header(&rendered),
        Ok(range),
        "`{text}` -> `{rendered}`"
    );
    assert_eq!(text.parse::<ByteRange>(), Ok(range));
    assert_eq!(range.len(), range.last() - range.start() + 1);
}

fn size(text: &str) {
    let Ok(bytes) = parse_size(text) else { return };
    assert_eq!(parse_size(&bytes.to_string()), Ok(bytes), "`{text}`");
    // Units are case-insensitive.
    assert_eq!(
        parse_size(&text.to_ascii_uppercase()),
        Ok(bytes),
        "`{text}` in capitals"
    );
    assert_eq!(
        parse_size(&text.to_ascii_lowercase()),
        Ok(bytes),
        "`{text}` in lower case"
    );
    // `format_size` rounds to three significant digits, in units up to TiB that the parser
    // reads back (PiB and EiB are display-only).
    if bytes < 1 << 50 {
        let shown = format_size(bytes);
        let back = parse_size(&shown).unwrap_or_else(|e| panic!("`{shown}` does not parse: {e}"));
        assert!(
            back.abs_diff(bytes) <= bytes / 200 + 1,
            "{bytes} shown as `{shown}` reads back as {back}"
        );
    }
}

fn http_date(text: &str) {
    let Ok(time) = httpdate::parse_http_date(text) else {
        return;
    };
    let shown = httpdate::fmt_http_date(time);
    assert_eq!(
        httpdate::parse_http_date(&shown).ok(),
        Some(time),
        "`{text}` -> `{shown}`"
    );
    // oss-sign's reader of the same (IMF-fixdate) form agrees wherever both read it.
    if let Ok(signed) = SigningTime::parse_rfc1123(text) {
        assert_eq!(
            signed.to_system_time(),
            time,
            "`{text}`: httpdate and oss-sign disagree"
        );
    }
}

fn signing_time(text: &str) {
    type Parse = fn(&str) -> Result<SigningTime, oss_sign::SignError>;
    type Render = fn(SigningTime) -> String;
    let forms: [(&str, Parse, Render); 3] = [
        ("rfc1123", SigningTime::parse_rfc1123, SigningTime::rfc1123),
        (
            "v4",
            SigningTime::parse_v4_timestamp,
            SigningTime::v4_timestamp,
        ),
        ("iso8601", SigningTime::parse_iso8601, SigningTime::iso8601),
    ];
    for (form, parse, render) in forms {
        if let Ok(time) = parse(text) {
            let shown = render(time);
            assert_eq!(
                parse(&shown).ok(),
                Some(time),
                "{form}: `{text}` -> `{shown}`"
            );
            if form == "rfc1123" {
                assert_eq!(
                    httpdate::parse_http_date(&shown).ok(),
                    Some(time.to_system_time()),
                    "httpdate reads oss-sign's `{shown}` differently"
                );
            }
        }
    }
}

/// Any number of seconds is a signing time or an error; a time renders at a fixed width,
/// whatever the year.
fn signing_time_is_total(data: &[u8]) {
    let Some(first) = data.first_chunk::<8>() else {
        return;
    };
    let secs = u64::from_le_bytes(*first);
    let from_secs = SigningTime::from_unix_seconds(secs);
    let from_system = SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))
        .map(SigningTime::from_system_time);
    if let Some(from_system) = &from_system {
        assert_eq!(from_secs.is_ok(), from_system.is_ok(), "{secs} s");
    }
    if let Ok(time) = from_secs {
        assert_eq!(time.rfc1123().len(), 29, "{secs} s: {}", time.rfc1123());
        assert_eq!(time.v4_timestamp().len(), 16);
        assert_eq!(time.v4_date().len(), 8);
        assert_eq!(time.iso8601().len(), 20);
        assert_eq!(time.unix_seconds(), secs);
    }
}

/// `Name: value` lines (`\n` or `\r\n`) as a header map; lines that are not a valid header are
/// skipped, as an HTTP parser would have refused them before oss-http saw them.
fn header_block(text: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    headers
}

/// The text of the first value of `name`, trimmed, as oss-http reads headers.
fn first_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

const TYPED: [&str; 8] = [
    "content-length",
    "etag",
    "last-modified",
    "x-oss-hash-crc64ecma",
    "x-oss-object-type",
    "x-oss-storage-class",
    "x-oss-version-id",
    "x-oss-request-id",
];

fn head_meta(headers: &HeaderMap) {
    let Ok(meta) = object_meta(headers) else {
        return;
    };
    assert_eq!(
        first_text(headers, "content-length").and_then(|t| t.parse::<u64>().ok()),
        Some(meta.size)
    );
    assert_eq!(first_text(headers, "etag"), Some(meta.etag.as_str()));
    assert!(!meta.etag.is_empty());
    assert_eq!(
        first_text(headers, "x-oss-hash-crc64ecma").map(|t| t.parse::<u64>().ok()),
        meta.crc64.map(Some),
    );
    assert_eq!(
        meta.last_modified,
        first_text(headers, "last-modified").and_then(|t| httpdate::parse_http_date(t).ok())
    );
    let untyped = headers
        .iter()
        .filter(|(name, _)| !TYPED.contains(&name.as_str()))
        .count();
    assert_eq!(meta.other_headers.len(), untyped);
    for name in TYPED {
        assert!(
            !meta.other_headers.contains_key(name),
            "{name} kept as untyped"
        );
    }
}

/// The ranged-GET check on a whole header block, asked for the range its `Content-Range`
/// names (so the accepting path is reachable): when it accepts, the headers said exactly that.
fn ranged_get(headers: &HeaderMap) {
    let Some((asked, size)) = first_text(headers, "content-range").and_then(parse_content_range)
    else {
        return;
    };
    let verdict = check_partial_response(StatusCode::PARTIAL_CONTENT, headers, asked, size);
    if verdict.is_ok()
        && let Some(length) = first_text(headers, "content-length")
    {
        assert_eq!(
            length.parse::<u64>().ok(),
            Some(asked.len()),
            "Content-Length `{length}`"
        );
    }
}
