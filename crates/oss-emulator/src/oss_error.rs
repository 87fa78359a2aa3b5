//! OSS error responses: the XML body, `x-oss-ec`, and the HEAD form (`x-oss-err`).

use http::StatusCode;

/// An error as OSS sends it: status, code, message, EC and extra XML elements.
///
/// Boxed inside so `Result<_, OssError>` stays small on the request path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OssError(Box<ErrorData>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ErrorData {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) ec: Option<String>,
    /// Extra elements, in order, placed between `<HostId>` and `<EC>`.
    pub(crate) extra: Vec<(String, String)>,
    /// Extra response headers (e.g. `x-oss-delete-marker`).
    pub(crate) headers: Vec<(String, String)>,
}

impl OssError {
    /// A new error with no EC and no extra fields.
    pub fn new(status: u16, code: &str, message: &str) -> Self {
        Self(Box::new(ErrorData {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: code.to_owned(),
            message: message.to_owned(),
            ec: None,
            extra: Vec::new(),
            headers: Vec::new(),
        }))
    }

    /// Sets the EC (`<EC>` and `x-oss-ec`).
    pub fn ec(mut self, ec: &str) -> Self {
        self.0.ec = Some(ec.to_owned());
        self
    }

    /// Adds an extra XML element (placed between `<HostId>` and `<EC>`).
    pub fn field(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.extra.push((name.to_owned(), value.into()));
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.headers.push((name.to_owned(), value.into()));
        self
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// OSS error code.
    pub fn code(&self) -> &str {
        &self.0.code
    }

    /// OSS error message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    pub(crate) fn data(&self) -> &ErrorData {
        &self.0
    }

    /// The XML body OSS sends (two-space indent, newline separated).
    pub fn to_xml(&self, request_id: &str, host_id: &str) -> String {
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n");
        let d = &self.0;
        push_el(&mut s, "Code", &d.code);
        push_el(&mut s, "Message", &d.message);
        push_el(&mut s, "RequestId", request_id);
        push_el(&mut s, "HostId", host_id);
        for (k, v) in &d.extra {
            push_el(&mut s, k, v);
        }
        if let Some(ec) = &d.ec {
            push_el(&mut s, "EC", ec);
            push_el(
                &mut s,
                "RecommendDoc",
                &format!("https://api.aliyun.com/troubleshoot?q={ec}"),
            );
        }
        s.push_str("</Error>\n");
        s
    }
}

fn push_el(s: &mut String, name: &str, value: &str) {
    s.push_str("  <");
    s.push_str(name);
    s.push('>');
    s.push_str(&xml_escape(value));
    s.push_str("</");
    s.push_str(name);
    s.push_str(">\n");
}

/// Escapes text for an XML element.
pub(crate) fn xml_escape(v: &str) -> String {
    escape(v, true)
}

/// Escapes text for an XML element, leaving quotes as they are (text content needs no
/// escaped quotes; OSS's listings show ETags as `"5B3C..."`).
pub(crate) fn xml_text(v: &str) -> String {
    escape(v, false)
}

fn escape(v: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quotes => out.push_str("&quot;"),
            '\'' if quotes => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters; OSS would not echo them either.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {
                out.push_str(&format!("&#x{:X};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

// The errors of docs/oss-behaviour.md#errors, with OSS's messages and ECs.

pub(crate) fn no_such_bucket(bucket: &str) -> OssError {
    OssError::new(404, "NoSuchBucket", "The specified bucket does not exist.")
        .field("BucketName", bucket)
        .ec("0015-00000101")
}

pub(crate) fn no_such_key(key: &str) -> OssError {
    OssError::new(404, "NoSuchKey", "The specified key does not exist.")
        .field("Key", key)
        .ec("0026-00000001")
}

pub(crate) fn no_such_version(key: &str, version_id: &str) -> OssError {
    OssError::new(
        404,
        "NoSuchVersion",
        "The specified version does not exist.",
    )
    .field("Key", key)
    .field("VersionId", version_id)
    .ec("0026-00000001")
}

pub(crate) fn access_denied(message: &str, ec: &str) -> OssError {
    OssError::new(403, "AccessDenied", message).ec(ec)
}

pub(crate) fn second_level_domain_forbidden() -> OssError {
    OssError::new(
        403,
        "SecondLevelDomainForbidden",
        "Please use virtual hosted style to access.",
    )
    .ec("0003-00001501")
}

pub(crate) fn invalid_range() -> OssError {
    OssError::new(
        416,
        "InvalidRange",
        "The requested range cannot be satisfied",
    )
    .ec("0014-00000001")
}

pub(crate) fn precondition_failed() -> OssError {
    OssError::new(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
    )
    .ec("0017-00001001")
}

pub(crate) fn invalid_object_state() -> OssError {
    OssError::new(
        403,
        "InvalidObjectState",
        "The operation is not valid for the object's state",
    )
    .ec("0016-00000204")
}

pub(crate) fn method_not_allowed(message: &str) -> OssError {
    OssError::new(405, "MethodNotAllowed", message).ec("0016-00000501")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_matches_the_fact_sheet_layout() {
        let xml = no_such_key("walker2asdasdasd.txt").to_xml(
            "6556E3AED11E553933CCDEDF",
            "demo-walker-6961.oss-cn-hangzhou.aliyuncs.com",
        );
        let want = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>NoSuchKey</Code>\n  <Message>The specified key does not exist.</Message>\n  <RequestId>6556E3AED11E553933CCDEDF</RequestId>\n  <HostId>demo-walker-6961.oss-cn-hangzhou.aliyuncs.com</HostId>\n  <Key>walker2asdasdasd.txt</Key>\n  <EC>0026-00000001</EC>\n  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0026-00000001</RecommendDoc>\n</Error>\n";
        assert_eq!(xml, want);
        assert_eq!(xml_escape("a<&>\"'"), "a&lt;&amp;&gt;&quot;&apos;");
    }
}
