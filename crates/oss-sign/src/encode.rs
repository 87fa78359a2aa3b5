//! OSS's `UriEncode` (RFC 3986 unreserved bytes kept, everything else `%XX` in uppercase hex,
//! `/` kept or escaped as asked), lowercase hex, and the query decoding servers apply.

use crate::SignError;

/// What [`uri_encode`] does with `/`.
///
/// ```
/// use oss_sign::{Slash, uri_encode};
///
/// assert_eq!(uri_encode("a/b c", Slash::Keep), "a/b%20c");
/// assert_eq!(uri_encode("a/b c", Slash::Escape), "a%2Fb%20c");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Slash {
    /// Keep `/` as is: the V4 canonical URI and URL paths.
    #[default]
    Keep,
    /// Write `/` as `%2F`: query keys and values (and oss2-style URL paths).
    Escape,
}

/// OSS's `UriEncode`: keeps `A-Z a-z 0-9 - _ . ~` (and `/` if asked), writes every other
/// byte as `%XX` with uppercase hex digits. Works on bytes, so any UTF-8 text (or any
/// byte string) has exactly one encoding; `+` and `%` are always escaped, a space is never
/// written as `+`.
///
/// ```
/// use oss_sign::{Slash, uri_encode};
///
/// assert_eq!(uri_encode("文 😀+%~", Slash::Escape), "%E6%96%87%20%F0%9F%98%80%2B%25~");
/// assert_eq!(uri_encode(b"\xff", Slash::Keep), "%FF");
/// ```
pub fn uri_encode(input: impl AsRef<[u8]>, slash: Slash) -> String {
    let bytes = input.as_ref();
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    push_uri_encoded(&mut out, bytes, slash);
    out
}

/// Appends the `UriEncode` of `bytes` to `out`.
pub(crate) fn push_uri_encoded(out: &mut String, bytes: &[u8], slash: Slash) {
    for &b in bytes {
        if is_unreserved(b) || (b == b'/' && slash == Slash::Keep) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(UPPER_HEX[usize::from(b >> 4)]));
            out.push(char::from(UPPER_HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// RFC 3986's unreserved characters: the only bytes `UriEncode` leaves alone.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

const UPPER_HEX: [u8; 16] = *b"0123456789ABCDEF";
const LOWER_HEX: [u8; 16] = *b"0123456789abcdef";

/// Lowercase hex of `bytes` (V4 signatures and payload hashes).
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(LOWER_HEX[usize::from(b >> 4)]));
        out.push(char::from(LOWER_HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// Decodes one query component as servers do (`application/x-www-form-urlencoded`):
/// `+` is a space, `%XX` a byte; the result must be UTF-8.
///
/// OSS decodes `+` as a space: oss2 sends spaces in query values as `+` and signs the
/// decoded value (V1), and the server accepts it.
pub(crate) fn form_decode(input: &str) -> Result<String, SignError> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|&h| hex_value(h));
                let lo = bytes.get(i + 2).and_then(|&l| hex_value(l));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => {
                        return Err(SignError::MalformedQuery {
                            reason: "a '%' is not followed by two hex digits",
                        });
                    }
                }
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| SignError::MalformedQuery {
        reason: "a decoded key or value is not valid UTF-8",
    })
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_table() {
        let table = [
            (" ", "%20"),
            ("+", "%2B"),
            ("%", "%25"),
            ("~", "~"),
            ("!", "%21"),
            ("*", "%2A"),
            ("'", "%27"),
            ("(", "%28"),
            (")", "%29"),
            (";", "%3B"),
            (":", "%3A"),
            ("@", "%40"),
            ("&", "%26"),
            ("=", "%3D"),
            ("$", "%24"),
            (",", "%2C"),
            ("?", "%3F"),
            ("#", "%23"),
            ("[", "%5B"),
            ("]", "%5D"),
            ("\"", "%22"),
            ("文", "%E6%96%87"),
            ("😀", "%F0%9F%98%80"),
        ];
        for (raw, enc) in table {
            assert_eq!(uri_encode(raw, Slash::Keep), enc, "{raw:?}");
            assert_eq!(uri_encode(raw, Slash::Escape), enc, "{raw:?}");
        }
        assert_eq!(uri_encode("/", Slash::Keep), "/");
        assert_eq!(uri_encode("/", Slash::Escape), "%2F");
    }

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%20c%2Fd").unwrap(), "a b c/d");
        assert_eq!(form_decode("%E6%96%87").unwrap(), "文");
        assert!(form_decode("%4").is_err());
        assert!(form_decode("%zz").is_err());
        assert!(form_decode("%FF").is_err());
        assert_eq!(form_decode("").unwrap(), "");
    }

    #[test]
    fn hex() {
        assert_eq!(lower_hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
