//! How the model answers one request (both front-ends call [`Emulator::handle`]).
//!
//! [`Emulator::handle`] wraps every answer in what all OSS responses carry (request id,
//! `Date`, `Server`, counters, the request log); [`Emulator::answer`] is the dispatcher, a
//! short sequence of steps in OSS's order, each in its own module:
//! - [`access`]: the bucket exists, the signature verifies, the ACL and requester-pays allow;
//! - [`fired`]: scripted service faults count this request and may fire;
//! - [`list`]: a request for the bucket itself: ListObjectsV2 / ListObjects (v1);
//! - [`lookup`]: which version (and, for a symlink, which target) the request reads;
//! - [`read`]: GetObjectMeta, GetSymlink, or GET/HEAD with conditions, range and headers;
//! - [`error_response`]: an [`OssError`] as OSS sends it (XML body, or `x-oss-err` for HEAD).

mod access;
mod error_response;
mod fired;
mod list;
mod lookup;
mod read;

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use crate::clock::unix_secs;
use crate::model::{Emulator, Versioning};
use crate::oss_error::{self as errs, OssError};
use crate::request::{RequestParts, Target};
use crate::response::{ModelResponse, ResponseBody};

/// A successful answer before the common headers are added.
struct Answer {
    status: StatusCode,
    headers: Vec<(HeaderName, String)>,
    body: ResponseBody,
    first_byte_delay: Option<Duration>,
    rate_limit: Option<u64>,
}

impl Answer {
    /// A response without a body (HEAD-like answers, 304).
    fn empty(
        status: StatusCode,
        headers: Vec<(HeaderName, String)>,
        delay: Option<Duration>,
    ) -> Self {
        Answer {
            status,
            headers,
            body: ResponseBody::Empty,
            first_byte_delay: delay,
            rate_limit: None,
        }
    }

    fn into_response(self) -> ModelResponse {
        let mut headers = HeaderMap::new();
        for (k, v) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                headers.append(k, v);
            }
        }
        ModelResponse {
            status: self.status,
            headers,
            body: self.body,
            first_byte_delay: self.first_byte_delay,
            rate_limit: self.rate_limit,
            error_code: None,
        }
    }
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
            return self.stats_response();
        }
        let resource = match &target {
            Target::Object { bucket, key } => format!("{bucket}/{key}"),
            Target::Bucket { bucket } => format!("{bucket}/"),
            _ => String::new(),
        };
        let counters = self.counters_ref();
        counters.count_request(req.method.as_str(), &resource);
        counters.log_request(crate::counters::RequestRecord {
            method: req.method.as_str().to_owned(),
            resource: resource.clone(),
            version_id: req
                .query_pairs()
                .into_iter()
                .find(|(k, _)| k == "versionId")
                .map(|(_, v)| v),
            range: req.header("range").map(str::to_owned),
        });
        let mut resp = match self.answer(req, &target, now) {
            Ok(a) => a.into_response(),
            Err(e) => error_response::build(&e, req, &request_id),
        };
        stamp(&mut resp.headers, now, &request_id, started);
        counters.count_response(resp.status.as_u16(), resp.error_code.as_deref());
        if self.options().log_requests {
            log_line(req, &resp, &request_id);
        }
        resp
    }

    /// `GET /-/stats`: the model's counters and every stats section (the proxy's), as JSON.
    fn stats_response(&self) -> ModelResponse {
        let body = serde_json::to_vec_pretty(&self.stats_json()).unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        ModelResponse {
            status: StatusCode::OK,
            headers,
            body: ResponseBody::Bytes(Bytes::from(body)),
            first_byte_delay: None,
            rate_limit: None,
            error_code: None,
        }
    }

    /// The dispatcher: the checks in the order OSS makes them, then the one read the request
    /// asks for. Every step that can refuse returns the OSS error at once.
    fn answer(
        &self,
        req: &RequestParts,
        target: &Target,
        now: SystemTime,
    ) -> Result<Answer, OssError> {
        let (bucket, key) = bucket_and_key(target)?;
        let query = req.query_pairs();
        let (bucket_spec, principal) = self.authorize(req, &bucket, key.as_deref(), now)?;
        let Some(key) = key else {
            return self.bucket_request(req, &bucket, &query);
        };
        if req.method != Method::GET && req.method != Method::HEAD {
            return Err(errs::method_not_allowed(
                "The specified method is not allowed against this resource.",
            ));
        }
        let fired = self.fire_faults(
            &req.method,
            &bucket,
            Some(&key),
            req.header("range").is_some(),
        )?;
        let read = read::Read {
            req,
            query,
            bucket,
            key,
            principal,
            now,
        };
        let rate_limit = read.traffic_limit()?;
        let versioned = bucket_spec.versioning != Versioning::Unversioned;
        let (version_id, object) =
            self.lookup(&read.bucket, &read.key, read.q("versionId"), versioned)?;
        let mut headers = Vec::new();
        if versioned {
            headers.push((hn("x-oss-version-id"), version_id));
        }
        if read.q("objectMeta").is_some() && req.method == Method::HEAD {
            return read::object_meta(req, &object, headers, fired.delay);
        }
        if read.q("symlink").is_some() {
            return read::symlink(&object, headers, fired.delay);
        }
        self.get_object(&read, &object, headers, &fired, rate_limit)
    }
}

/// The bucket and (for object requests) the key a request addresses, or the error for
/// targets the emulator does not serve.
fn bucket_and_key(target: &Target) -> Result<(String, Option<String>), OssError> {
    match target {
        Target::PathStyleForbidden => Err(errs::second_level_domain_forbidden()),
        Target::Stats => Err(errs::method_not_allowed(
            "The specified method is not allowed against this resource.",
        )),
        Target::Service => Err(OssError::new(
            501,
            "NotImplemented",
            "The emulator serves object downloads only (no ListBuckets).",
        )),
        Target::Bucket { bucket } => Ok((bucket.clone(), None)),
        Target::Object { bucket, key } => Ok((bucket.clone(), Some(key.clone()))),
    }
}

/// The headers every OSS response carries, errors included.
fn stamp(h: &mut HeaderMap, now: SystemTime, request_id: &str, started: Instant) {
    h.insert(http::header::SERVER, HeaderValue::from_static("AliyunOSS"));
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(now)) {
        h.insert(http::header::DATE, v);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(hn("x-oss-request-id"), v);
    }
    h.insert(
        hn("x-oss-server-time"),
        HeaderValue::from(started.elapsed().as_millis() as u64),
    );
}

/// One line on stderr per request (`--verbose`).
fn log_line(req: &RequestParts, resp: &ModelResponse, request_id: &str) {
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
