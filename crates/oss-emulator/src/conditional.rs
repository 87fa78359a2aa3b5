//! Conditional requests (docs/oss-behaviour.md#conditional-requests), in RFC 7232 order:
//! If-Match, then If-Unmodified-Since only when If-Match is absent, then If-None-Match,
//! then If-Modified-Since only when If-None-Match is absent. OSS's precedence between mixed
//! conditions is undocumented; this is the RFC's.

use std::time::SystemTime;

use http::HeaderMap;

/// The outcome of the preconditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Serve the object.
    Pass,
    /// `412 PreconditionFailed`.
    Failed,
    /// `304 Not Modified`.
    NotModified,
}

/// Strips `W/` and surrounding quotes: the official SDKs send ETags unquoted, browsers quoted.
fn bare(tag: &str) -> &str {
    let t = tag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.trim_matches('"')
}

/// True when any entry of a comma-separated ETag list names `etag` (or is `*`).
/// Comparison is exact after stripping quotes (case sensitivity at OSS is unknown).
fn list_matches(list: &str, etag: &str) -> bool {
    let want = bare(etag);
    list.split(',').any(|t| {
        let t = t.trim();
        t == "*" || bare(t) == want
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Evaluates the request's conditional headers against the object's ETag and mtime.
/// A malformed date is ignored, as OSS does.
pub(crate) fn evaluate(headers: &HeaderMap, etag: &str, last_modified: SystemTime) -> Precondition {
    let if_match = header(headers, "if-match");
    if let Some(list) = if_match {
        if !list_matches(list, etag) {
            return Precondition::Failed;
        }
    } else if let Some(date) =
        header(headers, "if-unmodified-since").and_then(|d| httpdate::parse_http_date(d).ok())
        && last_modified > date
    {
        return Precondition::Failed;
    }
    if let Some(list) = header(headers, "if-none-match") {
        if list_matches(list, etag) {
            return Precondition::NotModified;
        }
    } else if let Some(date) =
        header(headers, "if-modified-since").and_then(|d| httpdate::parse_http_date(d).ok())
        && last_modified <= date
    {
        return Precondition::NotModified;
    }
    Precondition::Pass
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn etags_quoted_or_not() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let etag = "\"5D41402ABC4B2A76B9719D911017C592\"";
        let ok = Precondition::Pass;
        assert_eq!(evaluate(&h(&[("if-match", etag)]), etag, t), ok);
        assert_eq!(
            evaluate(
                &h(&[("if-match", "5D41402ABC4B2A76B9719D911017C592")]),
                etag,
                t
            ),
            ok
        );
        assert_eq!(
            evaluate(&h(&[("if-match", "\"OTHER\"")]), etag, t),
            Precondition::Failed
        );
        assert_eq!(
            evaluate(
                &h(&[("if-none-match", "5D41402ABC4B2A76B9719D911017C592")]),
                etag,
                t
            ),
            Precondition::NotModified
        );
        let before = httpdate::fmt_http_date(t - Duration::from_secs(1));
        let same = httpdate::fmt_http_date(t);
        assert_eq!(
            evaluate(&h(&[("if-unmodified-since", &before)]), etag, t),
            Precondition::Failed
        );
        assert_eq!(evaluate(&h(&[("if-unmodified-since", &same)]), etag, t), ok);
        assert_eq!(
            evaluate(&h(&[("if-modified-since", &same)]), etag, t),
            Precondition::NotModified
        );
        assert_eq!(evaluate(&h(&[("if-modified-since", &before)]), etag, t), ok);
        assert_eq!(
            evaluate(&h(&[("if-modified-since", "garbage")]), etag, t),
            ok
        );
        // If-Match wins over If-Unmodified-Since.
        assert_eq!(
            evaluate(
                &h(&[("if-match", etag), ("if-unmodified-since", &before)]),
                etag,
                t
            ),
            ok
        );
    }
}
