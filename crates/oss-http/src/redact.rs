//! Keeping secrets out of `Debug` output.

use std::fmt;

use http::HeaderMap;

use crate::xml::REDACTED;

/// Header names whose values are secrets (credentials, tokens, SSE-C keys).
pub(crate) fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "authorization"
        || name == "proxy-authorization"
        || name == "x-oss-security-token"
        || name.starts_with("x-oss-server-side-encryption-customer-key")
        || name.contains("secret")
        || name.contains("token")
        || name.contains("signature")
}

/// `Debug` for a header map with secret values replaced by `<redacted>` (also any value the
/// caller marked sensitive with `HeaderValue::set_sensitive`).
pub(crate) struct RedactedHeaders<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if value.is_sensitive() || is_secret_header(name.as_str()) {
                map.entry(&name.as_str(), &REDACTED);
            } else {
                map.entry(&name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
            }
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn secrets_are_hidden() {
        let mut h = HeaderMap::new();
        h.insert("x-oss-traffic-limit", HeaderValue::from_static("819200"));
        h.insert(
            "x-oss-server-side-encryption-customer-key",
            HeaderValue::from_static("S2V5S2V5"),
        );
        h.insert("authorization", HeaderValue::from_static("OSS id:sig"));
        h.insert("x-oss-security-token", HeaderValue::from_static("TOKEN"));
        let mut marked = HeaderValue::from_static("hidden-by-caller");
        marked.set_sensitive(true);
        h.insert("x-custom", marked);
        let text = format!("{:?}", RedactedHeaders(&h));
        assert!(text.contains("819200"), "{text}");
        for secret in ["S2V5S2V5", "sig", "TOKEN", "hidden-by-caller"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}
