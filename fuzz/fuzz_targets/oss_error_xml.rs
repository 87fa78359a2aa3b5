//! OSS error documents: a failed response's body, and HEAD's base64 `x-oss-err` header.
//!
//! Properties beyond "no panic":
//! - the header path is the body path behind base64: `x-oss-err: base64(x)` reads exactly as
//!   a body `x` does;
//! - what is kept is bounded (each field at most `MAX_FIELD` bytes, at most `MAX_DETAILS`
//!   details), trimmed, and every field whose name may echo a secret is redacted;
//! - a document that parses re-renders to XML that parses to the same document (nothing is
//!   lost or invented between the bytes and the fields).
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use oss_http::fuzzing::{
    ErrorDocument, MAX_DETAILS, MAX_FIELD, REDACTED, is_secret_field, parse_error_document,
    parse_x_oss_err,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let doc = parse_error_document(&text);

    // The same bytes as a header value: whatever they are, no panic.
    let _ = parse_x_oss_err(data);
    let header = base64::engine::general_purpose::STANDARD.encode(data);
    assert_eq!(
        parse_x_oss_err(header.as_bytes()),
        doc,
        "x-oss-err reads differently from the same document as a body"
    );

    let Some(doc) = doc else { return };
    check_bounds(&doc);
    // quick-xml does not check names (a quoted `>` can even end up inside one); only
    // documents whose names can be written back are re-rendered.
    if !doc.details.iter().all(|(name, _)| writable_name(name)) {
        return;
    }
    let rendered = render(&doc);
    assert_eq!(
        parse_error_document(&rendered).as_ref(),
        Some(&doc),
        "the re-rendered document reads differently: {rendered:?}"
    );
});

fn check_bounds(doc: &ErrorDocument) {
    let fields = [&doc.code, &doc.message]
        .into_iter()
        .chain(&doc.request_id)
        .chain(&doc.host_id)
        .chain(&doc.ec)
        .chain(doc.details.iter().map(|(_, value)| value));
    for value in fields {
        assert!(value.len() <= MAX_FIELD, "a field of {} bytes", value.len());
        assert_eq!(value.trim(), value, "a field kept untrimmed");
    }
    assert!(
        doc.details.len() <= MAX_DETAILS,
        "{} details",
        doc.details.len()
    );
    for (name, value) in &doc.details {
        if is_secret_field(name) {
            assert_eq!(value, REDACTED, "`{name}` may echo a secret and was kept");
        }
    }
}

/// The document as OSS would write it: every field a child of `<Error>`, text escaped.
fn render(doc: &ErrorDocument) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    let mut field = |name: &str, value: &str| {
        out.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    };
    field("Code", &doc.code);
    field("Message", &doc.message);
    for (name, value) in [
        ("RequestId", &doc.request_id),
        ("HostId", &doc.host_id),
        ("EC", &doc.ec),
    ] {
        if let Some(value) = value {
            field(name, value);
        }
    }
    // A detail's name is the element's local name, which may itself hold a colon
    // (`<a:b:c>` gives `b:c`): a prefix keeps it whole.
    for (name, value) in &doc.details {
        out.push_str(&format!("<p:{name}>{}</p:{name}>", escape(value)));
    }
    out.push_str("</Error>\n");
    out
}

/// A name that reads back as itself inside a tag: no markup, quotes, space or controls.
fn writable_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>&\"'/=!?".contains(c))
}

/// Text content escaped: markup characters as entities, and `\r` as a character reference
/// (a raw one would be read as a line end and normalised to `\n`).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}
