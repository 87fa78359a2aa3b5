//! Reading OSS error documents (`<Error><Code>..</Code>...</Error>`), from a response body or
//! from HEAD's base64 `x-oss-err` header.
//!
//! Why quick-xml: the error document is tiny and flat, but it is XML written by a server we do
//! not control, so entities (`&amp;`, `&#233;`), CDATA, comments, a BOM or attributes must not
//! break us; a hand-rolled scanner would get one of those wrong. quick-xml is a maintained,
//! dependency-free pull parser (no DOM, borrows from the input), the XML crate the Rust cloud
//! clients use. We take only the children of the root element, as text.

use base64::Engine as _;
use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

/// Fields whose values echo request secrets back (V1's signature and string to sign, which
/// contains the canonicalized `x-oss-security-token` header; V4's canonical request). Also any
/// field whose name mentions a signature, token or credential.
pub(crate) fn is_secret_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("signature")
        || lower.contains("stringtosign")
        || lower.contains("canonical")
        || lower.contains("token")
        || lower.contains("credential")
        || lower.contains("secret")
}

/// The redaction marker used everywhere in this crate.
pub(crate) const REDACTED: &str = "<redacted>";

/// A parsed OSS error document. (`pub` only for [`crate::fuzzing`]; the module is private.)
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErrorDocument {
    /// `<Code>`, trimmed; empty when absent.
    pub code: String,
    /// `<Message>`, trimmed; empty when absent.
    pub message: String,
    /// `<RequestId>`.
    pub request_id: Option<String>,
    /// `<HostId>`.
    pub host_id: Option<String>,
    /// `<EC>`.
    pub ec: Option<String>,
    /// Every other child element, in order, secrets redacted.
    pub details: Vec<(String, String)>,
}

/// Upper bound on what we keep of one field, so a hostile body cannot make us hold megabytes.
pub(crate) const MAX_FIELD: usize = 4096;
/// Upper bound on the number of detail fields kept.
pub(crate) const MAX_DETAILS: usize = 32;

/// Parses an error document. `None` when the text is not XML with an `<Error>` root (a proxy's
/// HTML page, an empty body): the caller then reports the status alone.
pub(crate) fn parse_error_document(text: &str) -> Option<ErrorDocument> {
    let mut reader = Reader::from_str(text.trim_start_matches('\u{feff}'));
    let mut doc = ErrorDocument::default();
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut field: Option<(String, String)> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => {
                depth += 1;
                let name = start.local_name().as_ref().to_owned();
                match depth {
                    1 if name == "Error" => seen_root = true,
                    1 => return None,
                    2 => field = Some((name, String::new())),
                    _ => {}
                }
            }
            Event::Empty(start) => {
                if depth == 0 {
                    return (start.local_name().as_ref() == "Error").then_some(doc);
                }
                if depth == 1 {
                    push_field(
                        &mut doc,
                        start.local_name().as_ref().to_owned(),
                        String::new(),
                    );
                }
            }
            Event::End(_) => {
                if depth == 2
                    && let Some((name, value)) = field.take()
                {
                    push_field(&mut doc, name, value);
                }
                depth = depth.saturating_sub(1);
                if depth == 0 && seen_root {
                    return Some(doc);
                }
            }
            Event::Text(text) if depth == 2 => append(&mut field, &text.xml10_content()),
            Event::CData(data) if depth == 2 => append(&mut field, &data.xml10_content()),
            Event::GeneralRef(reference) if depth == 2 => {
                append(&mut field, &resolve_reference(&reference));
            }
            Event::Eof => return seen_root.then_some(doc),
            _ => {}
        }
    }
}

/// The text an entity or character reference stands for: `&#233;`, `&#xE9;` and the five
/// predefined entities; any other (a DTD's own, which we never expand) is kept as written.
pub(crate) fn resolve_reference(reference: &BytesRef<'_>) -> String {
    match reference.resolve_char_ref() {
        Ok(Some(c)) => c.to_string(),
        _ => match &**reference {
            "lt" => "<".into(),
            "gt" => ">".into(),
            "amp" => "&".into(),
            "apos" => "'".into(),
            "quot" => "\"".into(),
            other => format!("&{other};"),
        },
    }
}

fn append(field: &mut Option<(String, String)>, text: &str) {
    if let Some((_, value)) = field
        && value.len() < MAX_FIELD
    {
        let room = MAX_FIELD - value.len();
        let mut end = text.len().min(room);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        value.push_str(text.get(..end).unwrap_or(""));
    }
}

fn push_field(doc: &mut ErrorDocument, name: String, value: String) {
    let value = value.trim().to_owned();
    match name.as_str() {
        "Code" => doc.code = value,
        "Message" => doc.message = value,
        "RequestId" => doc.request_id = Some(value),
        "HostId" => doc.host_id = Some(value),
        "EC" => doc.ec = Some(value),
        _ if doc.details.len() >= MAX_DETAILS => {}
        _ if is_secret_field(&name) => doc.details.push((name, REDACTED.to_owned())),
        _ => doc.details.push((name, value)),
    }
}

/// Decodes HEAD's `x-oss-err` header (base64 of the error document) and parses it.
pub(crate) fn parse_x_oss_err(value: &[u8]) -> Option<ErrorDocument> {
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes = engine.decode(value.trim_ascii()).ok()?;
    parse_error_document(&String::from_utf8_lossy(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoded from a real `x-oss-err` value (`docs/oss-behaviour.md#errors`).
    const NO_SUCH_KEY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The specified key does not exist.</Message>
  <RequestId>6556E3AED11E553933CCDEDF</RequestId>
  <HostId>demo-walker-6961.oss-cn-hangzhou.aliyuncs.com</HostId>
  <Key>walker2asdasdasd.txt</Key>
  <EC>0026-00000001</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0026-00000001</RecommendDoc>
</Error>
"#;

    #[test]
    fn parses_the_documented_error() {
        let doc = parse_error_document(NO_SUCH_KEY).unwrap();
        assert_eq!(doc.code, "NoSuchKey");
        assert_eq!(doc.message, "The specified key does not exist.");
        assert_eq!(doc.request_id.as_deref(), Some("6556E3AED11E553933CCDEDF"));
        assert_eq!(
            doc.host_id.as_deref(),
            Some("demo-walker-6961.oss-cn-hangzhou.aliyuncs.com")
        );
        assert_eq!(doc.ec.as_deref(), Some("0026-00000001"));
        assert_eq!(
            doc.details,
            vec![
                ("Key".to_owned(), "walker2asdasdasd.txt".to_owned()),
                (
                    "RecommendDoc".to_owned(),
                    "https://api.aliyun.com/troubleshoot?q=0026-00000001".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn decodes_x_oss_err() {
        let engine = base64::engine::general_purpose::STANDARD;
        let header = engine.encode(NO_SUCH_KEY);
        let doc = parse_x_oss_err(header.as_bytes()).unwrap();
        assert_eq!(doc.code, "NoSuchKey");
        assert_eq!(parse_x_oss_err(b"!!not base64!!"), None);
        assert_eq!(
            parse_x_oss_err(engine.encode("plain text").as_bytes()),
            None
        );
    }

    #[test]
    fn entities_cdata_and_comments() {
        let doc = parse_error_document(
            "<Error><Code>A&amp;B</Code><!-- hi --><Message><![CDATA[x < y]]> &#233;t&#xE9; &lt;ok&gt;</Message></Error>",
        )
        .unwrap();
        assert_eq!(doc.code, "A&B");
        assert_eq!(doc.message, "x < y été <ok>");
    }

    #[test]
    fn redacts_fields_that_echo_secrets() {
        let doc = parse_error_document(
            "<Error><Code>SignatureDoesNotMatch</Code><OSSAccessKeyId>LTAIexample</OSSAccessKeyId>\
             <SignatureProvided>abc=</SignatureProvided><StringToSign>GET\n\n\nx-oss-security-token:SECRET\n/b/k</StringToSign>\
             <StringToSignBytes>47 45 54</StringToSignBytes><CanonicalRequest>GET /b/k</CanonicalRequest></Error>",
        )
        .unwrap();
        let text = format!("{doc:?}");
        assert!(!text.contains("abc="), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(!text.contains("47 45 54"), "{text}");
        assert!(!text.contains("GET /b/k"), "{text}");
        // The access key id is not a secret, and helps the user see which key was used.
        assert!(text.contains("LTAIexample"), "{text}");
    }

    #[test]
    fn not_an_error_document() {
        assert_eq!(parse_error_document(""), None);
        assert_eq!(parse_error_document("<html><body>502</body></html>"), None);
        assert_eq!(parse_error_document("Bad Gateway"), None);
        assert_eq!(parse_error_document("<Other><Code>X</Code></Other>"), None);
        assert_eq!(parse_error_document("<Error><Code>X</Wrong></Error>"), None);
        // A cut document still gives what it had.
        assert_eq!(
            parse_error_document("<Error><Code>X</Code>").unwrap().code,
            "X"
        );
    }

    #[test]
    fn nested_elements_and_attributes_are_tolerated() {
        let doc = parse_error_document(
            "\u{feff}<?xml version=\"1.0\"?><Error xmlns=\"x\"><Code a=\"1\">C</Code><Extra><Deep>v</Deep></Extra><Empty/></Error>",
        )
        .unwrap();
        assert_eq!(doc.code, "C");
        assert_eq!(doc.details[0].0, "Extra");
        assert_eq!(doc.details[1], ("Empty".to_owned(), String::new()));
    }

    /// Found by the `oss_error_xml` fuzz target (a harness assumption, not a parser bug):
    /// a name keeps everything after its first colon, further colons included.
    #[test]
    fn prefixed_names_keep_their_local_part() {
        let doc =
            parse_error_document("<e:Error><e:Code>C</e:Code><a:b:c>v</a:b:c></e:Error>").unwrap();
        assert_eq!(doc.code, "C");
        assert_eq!(doc.details, vec![("b:c".to_owned(), "v".to_owned())]);
    }

    /// Found by the `oss_error_xml` fuzz target (a harness assumption, not a parser bug):
    /// quick-xml does not check names, so a quoted `>` can end up inside one. The document
    /// still parses, and the name is kept as the server wrote it.
    #[test]
    fn names_are_not_checked() {
        let doc = parse_error_document("<Error><Code>C</Code><E\"x>y\" z/></Error>").unwrap();
        assert_eq!(doc.code, "C");
        assert_eq!(doc.details, vec![("E\"x>y\"".to_owned(), String::new())]);
    }

    #[test]
    fn long_fields_are_bounded() {
        let long = "é".repeat(10_000);
        let doc =
            parse_error_document(&format!("<Error><Message>{long}</Message></Error>")).unwrap();
        assert!(doc.message.len() <= MAX_FIELD);
    }
}
