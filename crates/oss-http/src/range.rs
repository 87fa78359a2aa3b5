//! The strict check of a ranged response's status and headers.
//!
//! OSS answers a range it cannot serve with `200` and the whole object unless asked for
//! standard behaviour, and under standard behaviour it clamps an over-long end
//! (`docs/oss-behaviour.md#ranges`). Writing such a body at a part's offset would corrupt the
//! file, so [`check_partial_response`] accepts only a `206` whose `Content-Range` names exactly
//! the range asked for and the pinned object size, and whose `Content-Length` (when present) is
//! the range's length. It runs before any byte of the body is read.

use http::{HeaderMap, StatusCode, header};
use oss_parts::ByteRange;

use crate::error::Error;

/// A parsed `Content-Range: bytes first-last/total` (only the satisfied form; `*` totals and
/// `bytes */N` are refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContentRange {
    pub(crate) range: ByteRange,
    pub(crate) total: u64,
}

/// Parses `bytes a-b/total`. Lenient about spaces around the parts (some servers add them);
/// strict about everything else.
pub(crate) fn parse_content_range(value: &str) -> Option<ContentRange> {
    let rest = value.trim().strip_prefix("bytes")?;
    let rest = rest.trim_start();
    let (span, total) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let first = parse_u64(first)?;
    let last = parse_u64(last)?;
    let total = parse_u64(total)?;
    let range = ByteRange::inclusive(first, last).ok()?;
    (last < total).then_some(ContentRange { range, total })
}

fn parse_u64(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Checks a ranged GET's status and headers against the range asked for and the pinned object
/// size, before any byte of the body is read: the status must be `206`, `Content-Range` exactly
/// `bytes first-last/size`, and `Content-Length`, when present, the range's length (when it is
/// absent the body's length is enforced while streaming).
pub(crate) fn check_partial_response(
    status: StatusCode,
    headers: &HeaderMap,
    asked: ByteRange,
    object_size: u64,
    request_id: Option<&str>,
) -> Result<(), Error> {
    let request_id = request_id.map(str::to_owned);
    if status == StatusCode::OK {
        return Err(Error::RangeIgnored {
            asked,
            status,
            request_id,
        });
    }
    if status != StatusCode::PARTIAL_CONTENT {
        return Err(Error::InvalidResponse {
            problem: format!("a ranged GET got status {status}, expected 206"),
            request_id,
        });
    }
    let mismatch = |got: String| Error::RangeMismatch {
        asked,
        object_size,
        got,
        request_id: request_id.clone(),
    };
    let raw = headers
        .get(header::CONTENT_RANGE)
        .ok_or_else(|| mismatch("no Content-Range header".into()))?;
    let text = raw
        .to_str()
        .map_err(|_| mismatch("a Content-Range that is not text".into()))?;
    let parsed =
        parse_content_range(text).ok_or_else(|| mismatch(format!("Content-Range: {text}")))?;
    if parsed.range != asked || parsed.total != object_size {
        return Err(mismatch(format!("Content-Range: {text}")));
    }
    if let Some(len) = headers.get(header::CONTENT_LENGTH) {
        let len_text = len.to_str().unwrap_or("");
        if parse_u64(len_text) != Some(asked.len()) {
            return Err(mismatch(format!("Content-Length: {len_text}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn r(a: u64, b: u64) -> ByteRange {
        ByteRange::inclusive(a, b).unwrap()
    }

    /// Server-controlled numbers at the edge of u64 parse or are refused, never overflow.
    #[test]
    fn extreme_values_never_panic() {
        let max = u64::MAX;
        assert_eq!(
            parse_content_range(&format!("bytes {0}-{0}/{max}", max - 1)).map(|c| c.total),
            Some(max)
        );
        for bad in [
            format!("bytes 0-{max}/{max}"),
            format!("bytes {max}-{max}/{max}"),
            format!("bytes 0-1/{max}0"),
            "bytes 0-1/18446744073709551616".to_owned(),
        ] {
            assert_eq!(parse_content_range(&bad), None, "{bad}");
        }
        let asked = r(max - 2, max - 2);
        let h = headers(&[
            (
                "content-range",
                &format!("bytes {0}-{0}/{1}", max - 2, max - 1),
            ),
            ("content-length", "18446744073709551616"),
        ]);
        assert!(
            check_partial_response(StatusCode::PARTIAL_CONTENT, &h, asked, max - 1, None).is_err()
        );
        let h = headers(&[(
            "content-range",
            &format!("bytes {0}-{0}/{1}", max - 2, max - 1),
        )]);
        check_partial_response(StatusCode::PARTIAL_CONTENT, &h, asked, max - 1, None).unwrap();
    }

    #[test]
    fn parses_content_range_forms() {
        assert_eq!(
            parse_content_range("bytes 0-9/44"),
            Some(ContentRange {
                range: r(0, 9),
                total: 44
            })
        );
        assert_eq!(
            parse_content_range(" bytes  5-5/6 ").map(|c| c.range),
            Some(r(5, 5))
        );
        for bad in [
            "bytes */44",
            "bytes 0-9/*",
            "bytes 9-0/44",
            "bytes 0-44/44",
            "items 0-9/44",
            "bytes 0-9",
            "bytes -1-9/44",
            "bytes 0-+9/44",
            "bytes 0-99999999999999999999/44",
            "",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn accepts_the_exact_range() {
        let h = headers(&[
            ("content-range", "bytes 100-199/1000"),
            ("content-length", "100"),
        ]);
        check_partial_response(StatusCode::PARTIAL_CONTENT, &h, r(100, 199), 1000, None).unwrap();
        // Content-Length may be absent (chunked); the body length is enforced while streaming.
        let h = headers(&[("content-range", "bytes 100-199/1000")]);
        check_partial_response(StatusCode::PARTIAL_CONTENT, &h, r(100, 199), 1000, None).unwrap();
    }

    #[test]
    fn refuses_200_for_a_range() {
        let h = headers(&[("content-length", "1000")]);
        let e =
            check_partial_response(StatusCode::OK, &h, r(0, 99), 1000, Some("RID")).unwrap_err();
        assert!(matches!(e, Error::RangeIgnored { .. }), "{e:?}");
        assert_eq!(e.request_id(), Some("RID"));
        assert!(!e.is_retryable());
    }

    #[test]
    fn refuses_clamped_shifted_and_foreign_ranges() {
        let asked = r(500, 1999);
        let cases = [
            // clamped end (standard behaviour on an over-long range)
            ("bytes 500-999/1000", "500"),
            // shifted
            ("bytes 501-2000/3000", "1500"),
            // another object size
            ("bytes 500-1999/4000", "1500"),
            // no range at all
            ("bytes */3000", "0"),
        ];
        for (cr, cl) in cases {
            let h = headers(&[("content-range", cr), ("content-length", cl)]);
            let e = check_partial_response(StatusCode::PARTIAL_CONTENT, &h, asked, 3000, None)
                .unwrap_err();
            assert!(matches!(e, Error::RangeMismatch { .. }), "{cr}: {e:?}");
            assert!(!e.is_retryable());
        }
        let e = check_partial_response(
            StatusCode::PARTIAL_CONTENT,
            &HeaderMap::new(),
            asked,
            3000,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("no Content-Range"), "{e}");
    }

    #[test]
    fn refuses_a_content_length_that_disagrees() {
        let h = headers(&[
            ("content-range", "bytes 0-99/1000"),
            ("content-length", "99"),
        ]);
        let e = check_partial_response(StatusCode::PARTIAL_CONTENT, &h, r(0, 99), 1000, None)
            .unwrap_err();
        assert!(e.to_string().contains("Content-Length: 99"), "{e}");
    }

    #[test]
    fn other_statuses_are_invalid_responses() {
        let e = check_partial_response(StatusCode::NO_CONTENT, &HeaderMap::new(), r(0, 1), 2, None)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidResponse { .. }), "{e:?}");
    }
}
