//! How the model answers one request (both front-ends call [`Emulator::handle`]).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use crate::auth::{AuthContext, Principal, authenticate};
use crate::clock::unix_secs;
use crate::conditional::{self, Precondition};
use crate::faults::FaultAction;
use crate::model::{Acl, Emulator, Versioning};
use crate::object::{ObjectType, Restore, StoredObject, Version};
use crate::oss_error::{self as errs, OssError};
use crate::range::{self, RangeOutcome};
use crate::request::{RequestParts, Target};
use crate::response::{ModelResponse, ResponseBody};

/// Content types OSS gzips on the fly (fact sheet section 7).
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

/// A successful answer before the common headers are added.
struct Answer {
    status: StatusCode,
    headers: Vec<(HeaderName, String)>,
    body: ResponseBody,
    first_byte_delay: Option<std::time::Duration>,
    rate_limit: Option<u64>,
}

/// Faults that fired for this request and act while it is answered.
#[derive(Default)]
struct FiredFaults {
    delay: Option<std::time::Duration>,
    whole_for_range: bool,
    shift: Option<i64>,
    corrupt: Option<u64>,
}

fn hn(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

impl Emulator {
    /// Answers one request. Never panics; every failure is an OSS error response.
    pub fn handle(&self, req: &RequestParts) -> ModelResponse {
        let started = Instant::now();
        let now = self.now();
        let request_id = format!(
            "{:08X}{:016X}",
            unix_secs(now) as u32,
            crate::content::synthetic_word(0x0551_D000, self.next_request_seq())
        );
        let target = self.state().addressing.resolve(req);
        if target == Target::Stats && req.method == Method::GET {
            let body = serde_json::to_vec_pretty(&self.stats_json()).unwrap_or_default();
            let mut headers = HeaderMap::new();
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            return ModelResponse {
                status: StatusCode::OK,
                headers,
                body: ResponseBody::Bytes(Bytes::from(body)),
                first_byte_delay: None,
                rate_limit: None,
                error_code: None,
            };
        }
        let resource = match &target {
            Target::Object { bucket, key } => format!("{bucket}/{key}"),
            Target::Bucket { bucket } => format!("{bucket}/"),
            _ => String::new(),
        };
        let counters = self.counters_ref();
        counters.count_request(req.method.as_str(), &resource);
        let mut resp = match self.answer(req, &target, now) {
            Ok(a) => {
                let mut headers = HeaderMap::new();
                for (k, v) in a.headers {
                    if let Ok(v) = HeaderValue::from_str(&v) {
                        headers.append(k, v);
                    }
                }
                ModelResponse {
                    status: a.status,
                    headers,
                    body: a.body,
                    first_byte_delay: a.first_byte_delay,
                    rate_limit: a.rate_limit,
                    error_code: None,
                }
            }
            Err(e) => error_response(&e, req, &request_id),
        };
        let h = &mut resp.headers;
        h.insert(http::header::SERVER, HeaderValue::from_static("AliyunOSS"));
        if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(now)) {
            h.insert(http::header::DATE, v);
        }
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            h.insert(hn("x-oss-request-id"), v);
        }
        h.insert(
            hn("x-oss-server-time"),
            HeaderValue::from(started.elapsed().as_millis() as u64),
        );
        counters.count_response(resp.status.as_u16(), resp.error_code.as_deref());
        if self.options().log_requests {
            // The query is left out: a presigned URL carries a signature and a token.
            eprintln!(
                "oss-emulator: {} {} {}{} -> {} {} {}",
                req.method,
                req.host,
                req.raw_path,
                if req.raw_query.is_some() { "?..." } else { "" },
                resp.status.as_u16(),
                resp.error_code.as_deref().unwrap_or("-"),
                request_id
            );
        }
        resp
    }

    fn answer(
        &self,
        req: &RequestParts,
        target: &Target,
        now: SystemTime,
    ) -> Result<Answer, OssError> {
        let (bucket_name, key) = match target {
            Target::PathStyleForbidden => return Err(errs::second_level_domain_forbidden()),
            Target::Stats => {
                return Err(errs::method_not_allowed(
                    "The specified method is not allowed against this resource.",
                ));
            }
            Target::Service => {
                return Err(OssError::new(
                    501,
                    "NotImplemented",
                    "The emulator serves object downloads only (no ListBuckets).",
                ));
            }
            Target::Bucket { bucket } => (bucket.clone(), None),
            Target::Object { bucket, key } => (bucket.clone(), Some(key.clone())),
        };
        let query = req.query_pairs();
        let q = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        // Bucket, then auth (OSS says NoSuchBucket before it checks signatures).
        let (bucket_spec, accounts) = {
            let st = self.state();
            let Some(b) = st.buckets.get(&bucket_name) else {
                return Err(errs::no_such_bucket(&bucket_name));
            };
            (b.spec.clone(), st.accounts.clone())
        };
        let options = self.options();
        let principal = authenticate(
            req,
            &AuthContext {
                accounts: &accounts,
                now,
                max_skew: options.max_skew,
                region: options.region.as_deref(),
                bucket: &bucket_name,
                key: key.as_deref(),
            },
        )?;
        let is_read = req.method == Method::GET || req.method == Method::HEAD;
        if principal == Principal::Anonymous && !(bucket_spec.acl == Acl::PublicRead && is_read) {
            return Err(errs::access_denied(
                "You have no right to access this object because of bucket acl.",
                "0003-00000001",
            ));
        }
        if bucket_spec.requester_pays
            && !req
                .header("x-oss-request-payer")
                .is_some_and(|v| v.eq_ignore_ascii_case("requester"))
        {
            return Err(errs::access_denied(
                "Access denied for requester pay bucket",
                "0003-00000703",
            ));
        }
        let Some(key) = key else {
            return Err(OssError::new(
                501,
                "NotImplemented",
                "The emulator serves object downloads only (no bucket operations).",
            ));
        };
        if !is_read {
            return Err(errs::method_not_allowed(
                "The specified method is not allowed against this resource.",
            ));
        }
        // Service faults.
        let ranged = req.header("range").is_some();
        let fired = self.fire_faults(&req.method, &bucket_name, &key, ranged)?;
        // Per-connection traffic limit (bit/s), header or query.
        let rate_limit = match req
            .header("x-oss-traffic-limit")
            .or_else(|| q("x-oss-traffic-limit"))
        {
            None => None,
            Some(v) => match v.parse::<u64>() {
                Ok(bits) if (819_200..=838_860_800).contains(&bits) => Some(bits / 8),
                _ => {
                    return Err(OssError::new(
                        400,
                        "InvalidArgument",
                        "The value of x-oss-traffic-limit is invalid.",
                    )
                    .ec("0004-00000502"));
                }
            },
        };
        // Which version.
        let versioned = bucket_spec.versioning != Versioning::Unversioned;
        let (version_id, object) = self.lookup(&bucket_name, &key, q("versionId"), versioned)?;
        let is_head = req.method == Method::HEAD;
        let mut headers: Vec<(HeaderName, String)> = Vec::new();
        if versioned {
            headers.push((hn("x-oss-version-id"), version_id.clone()));
        }
        // GetObjectMeta: fewer headers, describes the link itself for symlinks. Conditions
        // apply to it as to HEAD (fact sheet section 3), against what it describes.
        if q("objectMeta").is_some() && is_head {
            if let Some(answer) = preconditions(
                req,
                &object.etag,
                object.last_modified,
                &mut headers,
                fired.delay,
            )? {
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
            return Ok(Answer {
                status: StatusCode::OK,
                headers,
                body: ResponseBody::Empty,
                first_byte_delay: fired.delay,
                rate_limit: None,
            });
        }
        // GetSymlink.
        if q("symlink").is_some() {
            let Some(target) = &object.symlink_target else {
                return Err(OssError::new(
                    400,
                    "NotSymlink",
                    "The specified object is not a symlink.",
                )
                .ec("0026-00000010"));
            };
            headers.push((http::header::CONTENT_LENGTH, "0".into()));
            headers.push((http::header::ETAG, object.etag.clone()));
            headers.push((
                http::header::LAST_MODIFIED,
                httpdate::fmt_http_date(object.last_modified),
            ));
            // OSS sends the target UriEncoded (oss2 URL-decodes it).
            headers.push((
                hn("x-oss-symlink-target"),
                oss_sign::uri_encode(target, oss_sign::Slash::Escape),
            ));
            return Ok(Answer {
                status: StatusCode::OK,
                headers,
                body: ResponseBody::Empty,
                first_byte_delay: fired.delay,
                rate_limit: None,
            });
        }
        // A symlink reads its target's bytes.
        let link = Arc::clone(&object);
        let data = match &link.symlink_target {
            None => Arc::clone(&link),
            Some(t) => self.symlink_target(&bucket_name, t)?,
        };
        let last_modified = link.last_modified.max(data.last_modified);
        // Archive classes need a restore before GET.
        if req.method == Method::GET && data.storage_class.needs_restore() {
            let readable = matches!(data.restore, Restore::Until(t) if t > now);
            if !readable {
                return Err(errs::invalid_object_state());
            }
        }
        if let Some(answer) =
            preconditions(req, &data.etag, last_modified, &mut headers, fired.delay)?
        {
            return Ok(answer);
        }
        let size = data.content.len();
        let gzip = options.gzip_quirk
            && size >= 1024
            && link.content_encoding.is_none()
            && accepts_gzip(req.header("accept-encoding"))
            && GZIP_TYPES.contains(&mime_essence(&link.content_type).as_str());
        let standard = req
            .header("x-oss-range-behavior")
            .is_some_and(|v| v.eq_ignore_ascii_case("standard"));
        // Range + gzip is undocumented (I): we ignore the range and send the whole object.
        let mut outcome = if gzip {
            RangeOutcome::Whole
        } else {
            range::evaluate(req.header("range"), size, standard)
        };
        if outcome == RangeOutcome::Unsatisfiable {
            return Err(errs::invalid_range());
        }
        if let RangeOutcome::Partial { start, end } = outcome {
            if fired.whole_for_range {
                outcome = RangeOutcome::Whole;
            } else if let Some(d) = fired.shift {
                let len = end - start;
                let max_start = size.saturating_sub(len + 1);
                let s = (start as i128 + d as i128).clamp(0, max_start as i128) as u64;
                outcome = RangeOutcome::Partial {
                    start: s,
                    end: s + len,
                };
            }
        }
        let (status, offset, len) = match outcome {
            RangeOutcome::Partial { start, end } => {
                (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
            }
            _ => (StatusCode::OK, 0, size),
        };
        // Headers: the link's own metadata, the target's size/ETag/class/MD5/CRC.
        if !gzip {
            headers.push((http::header::CONTENT_LENGTH, len.to_string()));
            headers.push((http::header::ETAG, data.etag.clone()));
            headers.push((http::header::ACCEPT_RANGES, "bytes".into()));
        } else {
            headers.push((http::header::CONTENT_ENCODING, "gzip".into()));
            headers.push((http::header::VARY, "Accept-Encoding".into()));
        }
        if status == StatusCode::PARTIAL_CONTENT {
            headers.push((
                http::header::CONTENT_RANGE,
                format!("bytes {}-{}/{}", offset, offset + len - 1, size),
            ));
        }
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
            headers.push((hn("x-oss-next-append-position"), size.to_string()));
        }
        match data.restore {
            Restore::None => {}
            Restore::Ongoing => {
                headers.push((hn("x-oss-restore"), "ongoing-request=\"true\"".into()))
            }
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
        // response-* overrides: successful GETs by signed requests only (docs).
        if req.method == Method::GET && principal != Principal::Anonymous {
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
                if let Some(v) = q(param) {
                    headers.retain(|(k, _)| *k != header);
                    headers.push((header, v.to_owned()));
                }
            }
        }
        let body = if is_head {
            ResponseBody::Empty
        } else {
            ResponseBody::Content {
                content: data.content.clone(),
                offset,
                len,
                corrupt_at: fired.corrupt.filter(|c| *c < len),
                gzip,
            }
        };
        Ok(Answer {
            status,
            headers,
            body,
            first_byte_delay: fired.delay,
            rate_limit,
        })
    }

    /// Counts this request against every fault, applies the model changes of those that
    /// fire, and returns what the rest do to this response (an error returns at once).
    fn fire_faults(
        &self,
        method: &Method,
        bucket: &str,
        key: &str,
        ranged: bool,
    ) -> Result<FiredFaults, OssError> {
        let actions: Vec<FaultAction> = {
            let mut faults = self.faults_lock();
            faults
                .iter_mut()
                .filter_map(|f| {
                    f.check(method, bucket, key, ranged)
                        .then(|| f.fault.action.clone())
                })
                .collect()
        };
        let mut fired = FiredFaults::default();
        let mut error = None;
        for action in actions {
            let name = action.name();
            let applied = match &action {
                FaultAction::ReplaceObject(spec) => match spec {
                    Some(s) => self.put_object(bucket, key, (**s).clone()).is_ok(),
                    None => self.replace_object(bucket, key).is_ok(),
                },
                FaultAction::Append(n) => {
                    let seed = crate::content::synthetic_word(0xA99E, self.next_request_seq());
                    self.append_synthetic(bucket, key, *n, seed).is_ok()
                }
                FaultAction::Error {
                    status,
                    code,
                    message,
                } => {
                    if error.is_none() {
                        error = Some(OssError::new(*status, code, message));
                    }
                    true
                }
                FaultAction::FirstByteDelay(d) => {
                    fired.delay = Some(fired.delay.unwrap_or_default() + *d);
                    true
                }
                FaultAction::WholeBodyForRange => {
                    fired.whole_for_range = ranged;
                    ranged
                }
                FaultAction::ShiftRange(d) => {
                    fired.shift = Some(*d);
                    ranged
                }
                FaultAction::CorruptByte(at) => {
                    fired.corrupt = Some(*at);
                    true
                }
            };
            if applied {
                self.counters_ref().count_fault(&name);
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(fired),
        }
    }

    fn lookup(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        versioned: bool,
    ) -> Result<(String, Arc<StoredObject>), OssError> {
        let st = self.state();
        let versions = st.buckets.get(bucket).and_then(|b| b.keys.get(key));
        match version_id {
            None => match versions.and_then(|v| v.last()) {
                Some(Version::Object { version_id, object }) => {
                    Ok((version_id.clone(), Arc::clone(object)))
                }
                Some(Version::DeleteMarker {
                    version_id,
                    last_modified,
                }) => Err(errs::no_such_key(key)
                    .header("x-oss-delete-marker", "true")
                    .header("x-oss-version-id", version_id.clone())
                    .header("last-modified", httpdate::fmt_http_date(*last_modified))),
                None => Err(errs::no_such_key(key)),
            },
            Some("") => Err(
                OssError::new(400, "InvalidArgument", "Version id can not be empty")
                    .ec("0012-00000201"),
            ),
            // Status and code for a versionId on a never-versioned bucket are unknown (I).
            Some(v) if !versioned && v != "null" => {
                Err(
                    OssError::new(400, "InvalidArgument", "Invalid version id specified")
                        .ec("0012-00000301"),
                )
            }
            Some(v) => match versions.and_then(|vs| vs.iter().find(|x| x.version_id() == v)) {
                Some(Version::Object { version_id, object }) => {
                    Ok((version_id.clone(), Arc::clone(object)))
                }
                Some(Version::DeleteMarker { version_id, .. }) => Err(errs::method_not_allowed(
                    "The specified method is not allowed against this resource.",
                )
                .header("x-oss-delete-marker", "true")
                .header("x-oss-version-id", version_id.clone())),
                None => Err(errs::no_such_version(key, v)),
            },
        }
    }

    fn symlink_target(&self, bucket: &str, target: &str) -> Result<Arc<StoredObject>, OssError> {
        let st = self.state();
        match st
            .buckets
            .get(bucket)
            .and_then(|b| b.keys.get(target))
            .and_then(|v| v.last())
        {
            Some(Version::Object { object, .. }) if object.symlink_target.is_some() => {
                Err(OssError::new(
                    400,
                    "InvalidTargetType",
                    "The symbolic's target file type is invalid",
                )
                .ec("0026-00000011"))
            }
            Some(Version::Object { object, .. }) => Ok(Arc::clone(object)),
            // The status for a missing target is not documented (I): 404.
            _ => Err(OssError::new(
                404,
                "SymlinkTargetNotExist",
                "The symlink target object does not exist",
            )
            .field("Key", target)
            .ec("0026-00000012")),
        }
    }
}

/// Evaluates the request's conditions against `etag` and `last_modified`: `Err(412)`,
/// `Ok(Some(304 answer))` (with the ETag and Last-Modified, no body), or `Ok(None)` to serve.
fn preconditions(
    req: &RequestParts,
    etag: &str,
    last_modified: SystemTime,
    headers: &mut Vec<(HeaderName, String)>,
    delay: Option<std::time::Duration>,
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
            Ok(Some(Answer {
                status: StatusCode::NOT_MODIFIED,
                headers: std::mem::take(headers),
                body: ResponseBody::Empty,
                first_byte_delay: delay,
                rate_limit: None,
            }))
        }
    }
}

/// Builds the error response: XML body, or for HEAD no body and the XML in `x-oss-err`.
fn error_response(err: &OssError, req: &RequestParts, request_id: &str) -> ModelResponse {
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
