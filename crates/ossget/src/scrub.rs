//! What ossget prints, made safe to print. Every line on stderr and the `--json` object pass
//! through here, whatever the text came from (an OSS error message, a key name, a path, a
//! library's warning, a log record):
//!
//! - **control characters are escaped**: C0 (ESC, BEL, CR, LF...), DEL, C1, and the Unicode
//!   bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069, and the marks
//!   U+200E, U+200F, U+061C), so text from a server or in a key can neither drive the
//!   terminal (retitle it, clear it, move the cursor) nor forge or reorder a line of
//!   ossget's own. On stderr they show as `\u{1b}`; in JSON as `\u001b` escapes, which a
//!   JSON reader decodes back to the original text.
//! - **known secrets are redacted**: the access key secret, the STS token, SSE-C keys and
//!   their MD5 (any `--header` whose name says key, token, secret, signature, credential or
//!   authorization), and the password of an endpoint or proxy URL, wherever they appear
//!   (a server that echoes request headers in its error text, an endpoint in a usage
//!   error) show as `<redacted>`. Values shorter than [`MIN_SECRET_LEN`] characters are
//!   not searched for: they would mangle every message, and no real secret is that short.

use std::io;
use std::sync::{PoisonError, RwLock};

use serde::Serialize;

/// Secrets shorter than this are not redacted (see the module documentation).
pub const MIN_SECRET_LEN: usize = 6;

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds `secret` to what is redacted from everything printed from now on.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.chars().count() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(PoisonError::into_inner);
    if !secrets.iter().any(|s| s == secret) {
        secrets.push(secret.to_owned());
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// The password in a URL's `user:password@` part, if there is one.
pub fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// Whether a header's value is a secret, by its name.
pub fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "key",
        "token",
        "secret",
        "authorization",
        "signature",
        "credential",
    ]
    .iter()
    .any(|s| lower.contains(s))
}

/// `c` must not reach a terminal as it is.
pub fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with known secrets redacted.
fn redact(text: &str) -> String {
    let secrets = SECRETS.read().unwrap_or_else(PoisonError::into_inner);
    let mut out = text.to_owned();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

/// `text` as it may be printed on a terminal: secrets redacted, control characters escaped.
///
/// ```text
/// "OSS says \x1b]0;owned\x07" -> "OSS says \u{1b}]0;owned\u{7}"
/// ```
pub fn text(text: &str) -> String {
    let redacted = redact(text);
    if !redacted.chars().any(needs_escape) {
        return redacted;
    }
    let mut out = String::with_capacity(redacted.len() + 16);
    for c in redacted.chars() {
        if needs_escape(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// A block of lines (a log record): [`text`] for each line, the line breaks kept.
pub fn lines(block: &str) -> String {
    block
        .split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(body) => text(body) + "\n",
            None => text(line),
        })
        .collect()
}

/// `value` as one line of JSON: every string redacted, and written with the characters
/// [`text`] escapes as `\uXXXX` escapes (serde_json escapes C0 itself; DEL, C1 and the
/// bidi controls it would write raw).
pub fn json(value: &impl Serialize) -> Result<String, serde_json::Error> {
    let mut value = serde_json::to_value(value)?;
    redact_strings(&mut value);
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, SafeFormatter);
    value.serialize(&mut serializer)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn redact_strings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => *s = redact(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_strings),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_strings),
        _ => {}
    }
}

/// serde_json's compact formatter, escaping what [`needs_escape`] names.
struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if needs_escape(c) {
                writer.write_all(bytes.get(start..at).unwrap_or_default())?;
                // Every such character is in the Basic Multilingual Plane: one escape.
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = at + c.len_utf8();
            }
        }
        writer.write_all(bytes.get(start..).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(text("plain text, ü, 数据"), "plain text, ü, 数据");
        assert_eq!(
            text("a\x1b]0;owned\x07b\rc\nd\u{7f}\u{9b}2J"),
            "a\\u{1b}]0;owned\\u{7}b\\u{d}c\\u{a}d\\u{7f}\\u{9b}2J"
        );
        assert_eq!(text("exe.\u{202e}txt"), "exe.\\u{202e}txt");
        assert_eq!(text("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(lines("one\x1b\ntwo\n"), "one\\u{1b}\ntwo\n");
    }

    #[test]
    fn json_escapes_what_a_terminal_would_obey_and_round_trips() {
        let original = "k\x1b[2J\u{9b}\u{202e}gpj.exe\u{7f}";
        let line = json(&serde_json::json!({ "key": original })).unwrap();
        assert!(line.is_ascii(), "{line}");
        assert!(
            line.contains("\\u001b") && line.contains("\\u202e") && line.contains("\\u009b"),
            "{line}"
        );
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["key"], original);
    }

    #[test]
    fn secrets_are_redacted_everywhere_once_registered() {
        register("Top-Secret-Token-123");
        register("abc"); // too short to search for
        assert_eq!(
            text("echo: x-oss-security-token: Top-Secret-Token-123!"),
            "echo: x-oss-security-token: <redacted>!"
        );
        assert_eq!(text("abc"), "abc");
        let line = json(&serde_json::json!({ "m": ["Top-Secret-Token-123"] })).unwrap();
        assert!(!line.contains("Top-Secret"), "{line}");
        assert_eq!(url_password("https://user:p4ss@host:1/x"), Some("p4ss"));
        assert_eq!(url_password("https://host/x@y"), None);
        assert_eq!(url_password("user@host"), None);
        assert!(is_secret_header(
            "x-oss-server-side-encryption-customer-key-MD5"
        ));
        assert!(!is_secret_header("x-oss-request-payer"));
    }
}
