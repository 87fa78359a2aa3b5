//! An [`OssError`] as OSS sends it: an XML body, or for HEAD no body and the same XML,
//! base64, in `x-oss-err`; the EC in `x-oss-ec`; any extra headers the error carries.

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::hn;
use crate::oss_error::OssError;
use crate::request::RequestParts;
use crate::response::{ModelResponse, ResponseBody};

/// Builds the error response for `req` (its host names the `HostId`).
pub(super) fn build(err: &OssError, req: &RequestParts, request_id: &str) -> ModelResponse {
    let xml = err.to_xml(request_id, req.host_name());
    let e = err.data();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(xml.len()));
    if let Some(ec) = &e.ec
        && let Ok(v) = HeaderValue::from_str(ec)
    {
        headers.insert(hn("x-oss-ec"), v);
    }
    for (k, v) in &e.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            headers.insert(k, v);
        }
    }
    let body = if req.method == Method::HEAD {
        let b64 = base64::engine::general_purpose::STANDARD.encode(xml.as_bytes());
        if let Ok(v) = HeaderValue::from_str(&b64) {
            headers.insert(hn("x-oss-err"), v);
        }
        ResponseBody::Empty
    } else {
        ResponseBody::Bytes(Bytes::from(xml))
    };
    ModelResponse {
        status: e.status,
        headers,
        body,
        first_byte_delay: None,
        rate_limit: None,
        error_code: Some(e.code.clone()),
    }
}
