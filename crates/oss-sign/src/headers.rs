//! The headers a signature sees: the request's, with the ones signing sets laid on top,
//! so signing never has to copy or modify the caller's `HeaderMap`.

use std::borrow::Cow;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::SignError;

/// The request's headers as they will be sent: `base` with `overrides` replacing (or
/// adding) whole headers. Verification uses no overrides: the headers as received.
#[derive(Clone, Copy)]
pub(crate) struct HeaderView<'a> {
    base: &'a HeaderMap,
    overrides: &'a [(HeaderName, HeaderValue)],
}

impl<'a> HeaderView<'a> {
    pub(crate) fn new(base: &'a HeaderMap, overrides: &'a [(HeaderName, HeaderValue)]) -> Self {
        Self { base, overrides }
    }

    fn overridden(&self, name: &str) -> Option<&'a HeaderValue> {
        self.overrides
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, v)| v)
    }

    /// The value of `name` (lowercase) as text; repeated headers joined with `,` (as the
    /// Go SDK does; the Python SDKs cannot send them). `None` when absent.
    pub(crate) fn get(&self, name: &str) -> Result<Option<Cow<'a, str>>, SignError> {
        if let Some(v) = self.overridden(name) {
            return text(name, v).map(|t| Some(Cow::Borrowed(t)));
        }
        joined(self.base, name)
    }

    /// Whether `name` is present with a non-empty value.
    pub(crate) fn has_non_empty(&self, name: &str) -> bool {
        match self.overridden(name) {
            Some(v) => !v.is_empty(),
            None => self.base.get_all(name).iter().any(|v| !v.is_empty()),
        }
    }

    /// `(name, value)` for every header whose lowercase name passes `signed`, sorted by
    /// name, each name once.
    pub(crate) fn signed(
        &self,
        signed: impl Fn(&str) -> bool,
    ) -> Result<Vec<(&'a str, Cow<'a, str>)>, SignError> {
        let mut out = Vec::new();
        for name in self.base.keys() {
            let name = name.as_str();
            if signed(name)
                && self.overridden(name).is_none()
                && let Some(value) = joined(self.base, name)?
            {
                out.push((name, value));
            }
        }
        for (name, value) in self.overrides {
            if signed(name.as_str()) {
                out.push((name.as_str(), Cow::Borrowed(text(name.as_str(), value)?)));
            }
        }
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Ok(out)
    }
}

fn joined<'a>(map: &'a HeaderMap, name: &str) -> Result<Option<Cow<'a, str>>, SignError> {
    let mut values = map.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let first = text(name, first)?;
    let mut rest = values.peekable();
    if rest.peek().is_none() {
        return Ok(Some(Cow::Borrowed(first)));
    }
    let mut all = first.to_owned();
    for v in rest {
        all.push(',');
        all.push_str(text(name, v)?);
    }
    Ok(Some(Cow::Owned(all)))
}

/// A header value as UTF-8 text, exactly as given (no trimming, as the Python SDKs).
fn text<'v>(name: &str, value: &'v HeaderValue) -> Result<&'v str, SignError> {
    std::str::from_utf8(value.as_bytes()).map_err(|_| SignError::HeaderValueNotUtf8 {
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_and_join() {
        let mut base = HeaderMap::new();
        base.insert("x-oss-date", HeaderValue::from_static("old"));
        base.append("x-oss-meta-a", HeaderValue::from_static("1"));
        base.append("x-oss-meta-a", HeaderValue::from_static("2"));
        base.insert("range", HeaderValue::from_static("bytes=0-1"));
        let overrides = [(
            HeaderName::from_static("x-oss-date"),
            HeaderValue::from_static("new"),
        )];
        let view = HeaderView::new(&base, &overrides);
        assert_eq!(view.get("x-oss-date").unwrap().as_deref(), Some("new"));
        assert_eq!(view.get("x-oss-meta-a").unwrap().as_deref(), Some("1,2"));
        assert_eq!(view.get("absent").unwrap(), None);
        let signed = view.signed(|n| n.starts_with("x-oss-")).unwrap();
        let signed: Vec<(&str, &str)> = signed.iter().map(|(n, v)| (*n, v.as_ref())).collect();
        assert_eq!(signed, [("x-oss-date", "new"), ("x-oss-meta-a", "1,2")]);
    }

    #[test]
    fn non_utf8_is_refused() {
        let mut base = HeaderMap::new();
        base.insert("x-oss-meta-a", HeaderValue::from_bytes(b"\xff").unwrap());
        let view = HeaderView::new(&base, &[]);
        assert!(matches!(
            view.signed(|_| true),
            Err(SignError::HeaderValueNotUtf8 { .. })
        ));
        // Unsigned headers are never read.
        assert!(view.signed(|n| n == "range").unwrap().is_empty());
    }
}
