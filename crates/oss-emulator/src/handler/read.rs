//! The three reads a downloader makes once a request is allowed: GetObjectMeta (HEAD
//! `?objectMeta`), GetSymlink (`?symlink`), and GET/HEAD of the object — conditions
//! (docs/oss-behaviour.md#conditional-requests), the range (#ranges), on-the-fly gzip
//! (#gzip), the headers (#head) and the body.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{HeaderName, Method, StatusCode};

use super::fired::FiredFaults;
use super::{Answer, hn};
use crate::auth::Principal;
use crate::conditional::{self, Precondition};
use crate::model::Emulator;
use crate::object::{ObjectType, Restore, StoredObject};
use crate::oss_error::{self as errs, OssError};
use crate::range::{self, RangeOutcome};
use crate::request::RequestParts;
use crate::response::ResponseBody;

/// Content types OSS gzips on the fly (docs/oss-behaviour.md#gzip).
const GZIP_TYPES: &[&str] = &[
    "text/cache-manifest",
    "text/xml",
    "text/css",
    "text/html",
    "text/plain",
    "application/javascript",
    "application/x-javascript",
    "application/rss+xml",
    "application/json",
    "text/json",
];

/// A GET or HEAD of an object that passed the bucket, signature and method checks.
pub(super) struct Read<'a> {
    pub(super) req: &'a RequestParts,
    pub(super) query: Vec<(String, String)>,
    pub(super) bucket: String,
    pub(super) key: String,
    pub(super) principal: Principal,
    pub(super) now: SystemTime,
}

impl Read<'_> {
    /// The query parameter `name` (the first, when repeated).
    pub(super) fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `x-oss-traffic-limit` (header or query), in bit/s, as a body pace in bytes/s.
    pub(super) fn traffic_limit(&self) -> Result<Option<u64>, OssError> {
        let Some(v) = self
            .req
            .header("x-oss-traffic-limit")
            .or_else(|| self.q("x-oss-traffic-limit"))
        else {
            return Ok(None);
        };
        match v.parse::<u64>() {
            Ok(bits) if (819_200..=838_860_800).contains(&bits) => Ok(Some(bits / 8)),
            _ => Err(OssError::new(
                400,
                "InvalidArgument",
                "The value of x-oss-traffic-limit is invalid.",
            )
            .ec("0004-00000502")),
        }
    }
}

/// GetObjectMeta: fewer headers, and for a symlink it describes the link itself.
/// Conditions apply to it as to HEAD, against what it describes.
pub(super) fn object_meta(
    req: &RequestParts,
    object: &StoredObject,
    mut headers: Vec<(HeaderName, String)>,
    delay: Option<Duration>,
) -> Result<Answer, OssError> {
    if let Some(answer) =
        preconditions(req, &object.etag, object.last_modified, &mut headers, delay)?
    {
        return Ok(answer);
    }
    headers.push((
        http::header::CONTENT_LENGTH,
        object.content.len().to_string(),
    ));
    headers.push((http::header::ETAG, object.etag.clone()));
    headers.push((
        http::header::LAST_MODIFIED,
        httpdate::fmt_http_date(object.last_modified),
    ));
    if let Some(crc) = object.crc64() {
        headers.push((hn("x-oss-hash-crc64ecma"), crc.to_string()));
    }
    Ok(Answer::empty(StatusCode::OK, headers, delay))
}

/// GetSymlink: the link's target (UriEncoded, as OSS sends it; oss2 URL-decodes it).
pub(super) fn symlink(
    object: &StoredObject,
    mut headers: Vec<(HeaderName, String)>,
    delay: Option<Duration>,
) -> Result<Answer, OssError> {
    let Some(target) = &object.symlink_target else {
        return Err(
            OssError::new(400, "NotSymlink", "The specified object is not a symlink.")
                .ec("0026-00000010"),
        );
    };
    headers.push((http::header::CONTENT_LENGTH, "0".into()));
    headers.push((http::header::ETAG, object.etag.clone()));
    headers.push((
        http::header::LAST_MODIFIED,
        httpdate::fmt_http_date(object.last_modified),
    ));
    headers.push((
        hn("x-oss-symlink-target"),
        oss_sign::uri_encode(target, oss_sign::Slash::Escape),
    ));
    Ok(Answer::empty(StatusCode::OK, headers, delay))
}

/// The bytes a GET sends: which span of the object, and the status that goes with it.
struct Span {
    status: StatusCode,
    offset: u64,
    len: u64,
}

impl Emulator {
    /// GET or HEAD of `link` (a symlink reads its target's bytes under its own metadata).
    pub(super) fn get_object(
        &self,
        read: &Read<'_>,
        link: &Arc<StoredObject>,
        mut headers: Vec<(HeaderName, String)>,
        fired: &FiredFaults,
        rate_limit: Option<u64>,
    ) -> Result<Answer, OssError> {
        let req = read.req;
        let data = match &link.symlink_target {
            None => Arc::clone(link),
            Some(t) => self.symlink_target(&read.bucket, t)?,
        };
        let last_modified = link.last_modified.max(data.last_modified);
        if req.method == Method::GET {
            restored(&data, read.now)?;
        }
        if let Some(answer) =
            preconditions(req, &data.etag, last_modified, &mut headers, fired.delay)?
        {
            return Ok(answer);
        }
        let size = data.content.len();
        let gzip = self.options().gzip_quirk && gzips(req, link, size);
        let span = span(req, size, gzip, fired)?;
        push_span_headers(&mut headers, &span, size, gzip, &data.etag);
        push_object_headers(&mut headers, link, &data, last_modified);
        // response-* overrides: successful GETs by signed requests only (docs).
        if req.method == Method::GET && read.principal != Principal::Anonymous {
            override_headers(&mut headers, read);
        }
        let body = if req.method == Method::HEAD {
            ResponseBody::Empty
        } else {
            ResponseBody::Content {
                content: data.content.clone(),
                offset: span.offset,
                len: span.len,
                corrupt_at: fired.corrupt.filter(|c| *c < span.len),
                gzip,
            }
        };
        Ok(Answer {
            status: span.status,
            headers,
            body,
            first_byte_delay: fired.delay,
            rate_limit,
        })
    }
}

/// Archive classes need a restore before GET: `InvalidObjectState` until one is done and
/// while it has not expired.
fn restored(data: &StoredObject, now: SystemTime) -> Result<(), OssError> {
    if data.storage_class.needs_restore() && !matches!(data.restore, Restore::Until(t) if t > now) {
        return Err(errs::invalid_object_state());
    }
    Ok(())
}

/// Evaluates the request's conditions against `etag` and `last_modified`: `Err(412)`,
/// `Ok(Some(304 answer))` (with the ETag and Last-Modified, no body), or `Ok(None)` to serve.
fn preconditions(
    req: &RequestParts,
    etag: &str,
    last_modified: SystemTime,
    headers: &mut Vec<(HeaderName, String)>,
    delay: Option<Duration>,
) -> Result<Option<Answer>, OssError> {
    match conditional::evaluate(&req.headers, etag, last_modified) {
        Precondition::Pass => Ok(None),
        Precondition::Failed => Err(errs::precondition_failed()),
        Precondition::NotModified => {
            headers.push((http::header::ETAG, etag.to_owned()));
            headers.push((
                http::header::LAST_MODIFIED,
                httpdate::fmt_http_date(last_modified),
            ));
            Ok(Some(Answer::empty(
                StatusCode::NOT_MODIFIED,
                std::mem::take(headers),
                delay,
            )))
        }
    }
}

/// Whether OSS would gzip this object on the fly for this request (the quirk is on): a
/// text type of at least 1 KiB, stored without an encoding, asked for with gzip accepted.
fn gzips(req: &RequestParts, link: &StoredObject, size: u64) -> bool {
    size >= 1024
        && link.content_encoding.is_none()
        && accepts_gzip(req.header("accept-encoding"))
        && GZIP_TYPES.contains(&mime_essence(&link.content_type).as_str())
}

/// The span to send: the `Range` header against `size` (OSS's legacy rules unless
/// `x-oss-range-behavior: standard`), bent by the range faults that fired.
fn span(req: &RequestParts, size: u64, gzip: bool, fired: &FiredFaults) -> Result<Span, OssError> {
    let standard = req
        .header("x-oss-range-behavior")
        .is_some_and(|v| v.eq_ignore_ascii_case("standard"));
    // Range + gzip is undocumented (I): we ignore the range and send the whole object.
    let outcome = if gzip {
        RangeOutcome::Whole
    } else {
        range::evaluate(req.header("range"), size, standard)
    };
    match fired.bend(outcome, size) {
        RangeOutcome::Unsatisfiable => Err(errs::invalid_range()),
        RangeOutcome::Partial { start, end } => Ok(Span {
            status: StatusCode::PARTIAL_CONTENT,
            offset: start,
            len: end - start + 1,
        }),
        RangeOutcome::Whole => Ok(Span {
            status: StatusCode::OK,
            offset: 0,
            len: size,
        }),
    }
}

/// Length, ETag and range headers (or, gzipped, the encoding and `Vary` instead).
fn push_span_headers(
    headers: &mut Vec<(HeaderName, String)>,
    span: &Span,
    size: u64,
    gzip: bool,
    etag: &str,
) {
    if gzip {
        headers.push((http::header::CONTENT_ENCODING, "gzip".into()));
        headers.push((http::header::VARY, "Accept-Encoding".into()));
    } else {
        headers.push((http::header::CONTENT_LENGTH, span.len.to_string()));
        headers.push((http::header::ETAG, etag.to_owned()));
        headers.push((http::header::ACCEPT_RANGES, "bytes".into()));
    }
    if span.status == StatusCode::PARTIAL_CONTENT {
        headers.push((
            http::header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                span.offset,
                span.offset + span.len - 1,
                size
            ),
        ));
    }
}

/// The object's own headers: the link's metadata (type, encoding, user meta), the
/// target's class, MD5, CRC-64, append position and restore state.
fn push_object_headers(
    headers: &mut Vec<(HeaderName, String)>,
    link: &StoredObject,
    data: &StoredObject,
    last_modified: SystemTime,
) {
    headers.push((http::header::CONTENT_TYPE, link.content_type.clone()));
    headers.push((
        http::header::LAST_MODIFIED,
        httpdate::fmt_http_date(last_modified),
    ));
    headers.push((hn("x-oss-object-type"), link.object_type.as_str().into()));
    headers.push((
        hn("x-oss-storage-class"),
        data.storage_class.as_str().into(),
    ));
    if let Some(enc) = &link.content_encoding {
        headers.push((http::header::CONTENT_ENCODING, enc.clone()));
    }
    if let Some(md5) = &data.content_md5 {
        headers.push((hn("content-md5"), md5.clone()));
    }
    if let Some(crc) = data.crc64() {
        headers.push((hn("x-oss-hash-crc64ecma"), crc.to_string()));
    }
    if data.object_type == ObjectType::Appendable {
        headers.push((
            hn("x-oss-next-append-position"),
            data.content.len().to_string(),
        ));
    }
    match data.restore {
        Restore::None => {}
        Restore::Ongoing => headers.push((hn("x-oss-restore"), "ongoing-request=\"true\"".into())),
        Restore::Until(t) => headers.push((
            hn("x-oss-restore"),
            format!(
                "ongoing-request=\"false\", expiry-date=\"{}\"",
                httpdate::fmt_http_date(t)
            ),
        )),
    }
    for (k, v) in &link.meta {
        if let Ok(name) = HeaderName::from_bytes(format!("x-oss-meta-{k}").as_bytes()) {
            headers.push((name, v.clone()));
        }
    }
}

/// `response-content-type=...` and its siblings replace the header they name.
fn override_headers(headers: &mut Vec<(HeaderName, String)>, read: &Read<'_>) {
    for (param, header) in [
        ("response-content-type", http::header::CONTENT_TYPE),
        ("response-content-language", http::header::CONTENT_LANGUAGE),
        ("response-expires", http::header::EXPIRES),
        ("response-cache-control", http::header::CACHE_CONTROL),
        (
            "response-content-disposition",
            http::header::CONTENT_DISPOSITION,
        ),
        ("response-content-encoding", http::header::CONTENT_ENCODING),
    ] {
        if let Some(v) = read.q(param) {
            headers.retain(|(k, _)| *k != header);
            headers.push((header, v.to_owned()));
        }
    }
}

fn accepts_gzip(v: Option<&str>) -> bool {
    v.is_some_and(|v| {
        v.split(',').any(|t| {
            let mut parts = t.trim().split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let q_zero = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            coding.eq_ignore_ascii_case("gzip") && !q_zero
        })
    })
}

fn mime_essence(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}
