//! The client: HEAD and ranged GET over a pooled hyper client.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use oss_crc::Crc64;
use oss_parts::ByteRange;

use crate::address::{
    AddressingStyle, Endpoint, Target, bucket_target, object_target, validate_bucket_name,
    validate_key,
};
use crate::config::{ClientBuilder, Clock};
use crate::counted::Counted;
use crate::error::{Error, REFUSED_CREDENTIALS_CODES, ServiceError, causes};
use crate::head::{ObjectMeta, ObjectPin, bare_etag, header_text};
use crate::headers::RequestHeaders;
use crate::object_url::ObjectUrl;
use crate::proxy::{Proxy, ProxyConnector, ProxyError};
use crate::range::check_partial_response;
use crate::redact::RedactedHeaders;
use crate::resolve::{OverrideResolver, ResolveError, ResolveOverride};
use crate::sign::{RequestSigner, SignContext};
use crate::sink::ByteSink;
use crate::stream::{StreamPlan, stream_body};
use crate::timeouts::Timeouts;
use crate::xml::{ErrorDocument, parse_error_document, parse_x_oss_err};
use oss_sign::{Credentials, Query, SignatureVersion, SigningTime};

type Connector = Counted<HttpsConnector<ProxyConnector<HttpConnector<OverrideResolver>>>>;
type HyperClient = hyper_util::client::legacy::Client<Connector, Empty<Bytes>>;

/// Largest error body we read (OSS error documents are well under 1 KiB).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The largest clock correction a `RequestTimeTooSkewed` answer may make: a day. OSS allows
/// 15 minutes of skew, so a real clock that is off is off by minutes or hours; a server
/// `Date` further away than this (a hostile or broken server sending year 9999, or 1970) is
/// refused as a clock error rather than taken as the new time.
pub const MAX_CLOCK_CORRECTION: Duration = Duration::from_secs(24 * 3600);

/// Pool idle timeouts above this (a year) keep idle connections open for good.
const MAX_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);

/// Default for [`GetRange::max_chunk`]: 256 KiB (its doc states it).
const DEFAULT_MAX_CHUNK: usize = 256 * 1024;

/// An OSS client: HEAD and streaming ranged GETs over a pool of HTTP/1.1 connections.
///
/// Cheap to clone (the pool is shared). Every request carries `Accept-Encoding: identity`
/// (OSS gzips text types otherwise, which would change the bytes), a `User-Agent` with our
/// version, a `Date` from the (skew-corrected) clock, the configured extra headers and the
/// request's own ([`RequestHeaders`], for one download's headers on a shared pool), and is
/// signed just before it is sent.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: HyperClient,
    endpoint: Endpoint,
    style: AddressingStyle,
    region: Option<String>,
    signature_version: SignatureVersion,
    signer: Option<Arc<dyn RequestSigner>>,
    user_agent: HeaderValue,
    extra_headers: HeaderMap,
    timeouts: Timeouts,
    /// The one object this client reaches, through its presigned URL.
    presigned: Option<ObjectUrl>,
    clock: Clock,
    /// Server time minus local time, in milliseconds, learned from `RequestTimeTooSkewed`.
    skew_ms: AtomicI64,
    /// Connections the pool has opened.
    connections_opened: Arc<AtomicU64>,
}

/// Everything `ClientBuilder::build` has checked.
pub(crate) struct Parts {
    pub(crate) endpoint: Endpoint,
    pub(crate) style: AddressingStyle,
    pub(crate) region: Option<String>,
    pub(crate) signature_version: SignatureVersion,
    pub(crate) signer: Option<Arc<dyn RequestSigner>>,
    pub(crate) user_agent: HeaderValue,
    pub(crate) extra_headers: HeaderMap,
    pub(crate) timeouts: Timeouts,
    pub(crate) pool_idle_timeout: Duration,
    pub(crate) pool_max_idle_per_host: usize,
    pub(crate) resolve: Vec<ResolveOverride>,
    pub(crate) proxy: Proxy,
    pub(crate) presigned: Option<ObjectUrl>,
    pub(crate) tls: rustls::ClientConfig,
    pub(crate) clock: Clock,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("endpoint", &i.endpoint)
            .field("style", &i.style)
            .field("region", &i.region)
            .field("signature_version", &i.signature_version)
            .field("signer", &i.signer)
            .field("user_agent", &i.user_agent)
            .field("extra_headers", &RedactedHeaders(&i.extra_headers))
            .field("timeouts", &i.timeouts)
            .field("presigned", &i.presigned)
            .field("skew_ms", &i.skew_ms.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A ranged GET of one pinned object version.
#[derive(Debug, Clone)]
pub struct GetRange<'a> {
    bucket: &'a str,
    key: &'a str,
    pin: &'a ObjectPin,
    range: ByteRange,
    max_chunk: usize,
    headers: Option<&'a RequestHeaders>,
}

impl<'a> GetRange<'a> {
    /// GET `range` of `bucket`/`key`, pinned to `pin` (from [`ObjectMeta::pin`]).
    pub fn new(bucket: &'a str, key: &'a str, pin: &'a ObjectPin, range: ByteRange) -> Self {
        Self {
            bucket,
            key,
            pin,
            range,
            max_chunk: DEFAULT_MAX_CHUNK,
            headers: None,
        }
    }

    /// Also send `headers` (checked when they were added; see [`RequestHeaders`]), on top of
    /// the client's extra headers.
    #[must_use]
    pub fn headers(mut self, headers: &'a RequestHeaders) -> Self {
        self.headers = Some(headers);
        self
    }

    /// The largest chunk handed to the sink (default 256 KiB, minimum 1). Bigger network reads
    /// are split without copying; smaller ones are passed as they come.
    #[must_use]
    pub fn max_chunk(mut self, bytes: usize) -> Self {
        self.max_chunk = bytes.max(1);
        self
    }

    /// The range asked for.
    pub fn range(&self) -> ByteRange {
        self.range
    }
}

/// The outcome of a successful ranged GET.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RangeReport {
    /// Bytes delivered to the sink (the range's length).
    pub delivered: u64,
    /// `x-oss-request-id`.
    pub request_id: Option<String>,
    /// `x-oss-hash-crc64ecma`: the *whole object's* CRC, even on a ranged response.
    pub object_crc64: Option<u64>,
}

/// One signed attempt: the request, where it goes, and the credentials it was signed with.
type Attempt = (Request<Empty<Bytes>>, Target, Option<Credentials>);

impl Client {
    /// A builder with the defaults (see [`ClientBuilder`]).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn from_parts(p: Parts) -> Self {
        let mut http = HttpConnector::new_with_resolver(OverrideResolver::new(p.resolve));
        http.enforce_http(false);
        http.set_connect_timeout(Some(p.timeouts.connect));
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(p.tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(ProxyConnector::new(http, p.proxy));
        let connections_opened = Arc::new(AtomicU64::new(0));
        let https = Counted::new(https, Arc::clone(&connections_opened));
        // hyper-util's idle task computes `now + timeout` and panics on overflow, so a
        // timeout too long to matter (`Duration::MAX` for "never") means no timeout at all.
        let idle_timeout = Some(p.pool_idle_timeout).filter(|t| *t <= MAX_POOL_IDLE_TIMEOUT);
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(idle_timeout)
            .pool_max_idle_per_host(p.pool_max_idle_per_host)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);
        Self {
            inner: Arc::new(Inner {
                http: client,
                endpoint: p.endpoint,
                style: p.style,
                region: p.region,
                signature_version: p.signature_version,
                signer: p.signer,
                user_agent: p.user_agent,
                extra_headers: p.extra_headers,
                timeouts: p.timeouts,
                presigned: p.presigned,
                clock: p.clock,
                skew_ms: AtomicI64::new(0),
                connections_opened,
            }),
        }
    }

    /// The addressing style in use.
    pub fn addressing_style(&self) -> AddressingStyle {
        self.inner.style
    }

    /// The signature version in use.
    pub fn signature_version(&self) -> SignatureVersion {
        self.inner.signature_version
    }

    /// The `User-Agent` sent.
    pub fn user_agent(&self) -> &str {
        self.inner.user_agent.to_str().unwrap_or("")
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> &Timeouts {
        &self.inner.timeouts
    }

    /// Connections this client's pool has opened so far (TCP, with TLS when `https`), over
    /// all its requests: with keep-alive, about one per concurrent request stream, not one
    /// per request.
    pub fn connections_opened(&self) -> u64 {
        self.inner.connections_opened.load(Ordering::Relaxed)
    }

    /// How many milliseconds the server's clock is ahead of ours (negative: behind), as
    /// learned from a `RequestTimeTooSkewed` answer's `Date`; 0 until then. Every request is
    /// dated and signed with the local clock plus this offset. A `Date` more than
    /// [`MAX_CLOCK_CORRECTION`] away is not applied: that answer stays a permanent error
    /// naming the server's `Date`.
    pub fn clock_offset_ms(&self) -> i64 {
        self.inner.skew_ms.load(Ordering::Relaxed)
    }

    /// Now, by the configured clock, corrected by the skew OSS reported.
    fn now(&self) -> SystemTime {
        let local = (self.inner.clock)();
        let ms = self.inner.skew_ms.load(Ordering::Relaxed);
        let delta = Duration::from_millis(ms.unsigned_abs());
        if ms >= 0 {
            local.checked_add(delta).unwrap_or(local)
        } else {
            local.checked_sub(delta).unwrap_or(local)
        }
    }

    /// HEAD an object (optionally one version): its size, ETag, CRC-64 and the rest.
    pub async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectMeta, Error> {
        self.head_object_with(bucket, key, version_id, &RequestHeaders::new())
            .await
    }

    /// [`Client::head_object`] sending `headers` too (a download's own headers, such as
    /// `x-oss-request-payer` or SSE-C keys, which HEAD needs as much as the GETs do).
    pub async fn head_object_with(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        headers: &RequestHeaders,
    ) -> Result<ObjectMeta, Error> {
        if self.inner.presigned.is_some() {
            return self.probe_object(bucket, key, headers).await;
        }
        let operation = format!("HEAD {bucket}/{key}");
        self.credentials_ready().await;
        let (request, target, signed_with) =
            self.request(Method::HEAD, bucket, key, version_id, |h| {
                headers.apply(h);
                Ok(())
            })?;
        let response = self.send(request, &target).await?;
        if response.status().is_success() {
            return ObjectMeta::from_headers(response.headers())
                .map_err(|e| e.redact_server_text(signed_with.as_ref()));
        }
        Err(self
            .service_error(operation, response, signed_with.as_ref())
            .await)
    }

    /// GET a byte range of a pinned object into `sink`.
    ///
    /// The request carries `Range`, `x-oss-range-behavior: standard`, `If-Match` with the
    /// pinned ETag and, in versioned buckets, the pinned `versionId`. Before any byte reaches
    /// the sink, the response must be a `206` whose `Content-Range` is exactly the range asked
    /// for and the pinned size, whose `Content-Length` matches, with no content encoding, and
    /// whose ETag and version (when sent) are the pinned ones. The body then streams into the
    /// sink in chunks of at most [`GetRange::max_chunk`] bytes. With `Some(crc)`, each
    /// accepted chunk is added to it — pass a fresh [`Crc64`], or [`Crc64::resume`] to
    /// continue a part. With `None` nothing is hashed: for a caller that hashes the bytes
    /// itself where they land (oss-resume hashes what reaches the disk), saving a second
    /// CRC-64 pass over every byte.
    ///
    /// On failure, [`Error::delivered`] is exactly the number of bytes the sink accepted (and
    /// `crc`, when given, covers exactly those), so the caller can resume inside the part
    /// with [`ByteRange::remaining_after`].
    pub async fn get_range<S: ByteSink + ?Sized>(
        &self,
        get: &GetRange<'_>,
        sink: &mut S,
        crc: Option<&mut Crc64>,
    ) -> Result<RangeReport, Error> {
        let GetRange {
            bucket,
            key,
            pin,
            range,
            max_chunk,
            headers,
        } = *get;
        if range.last() >= pin.size {
            return Err(Error::invalid_request(format!(
                "range {range} is outside the {}-byte object {bucket}/{key}",
                pin.size
            )));
        }
        let operation = format!("GET {bucket}/{key} {range}");
        let presigned = self.inner.presigned.is_some();
        let if_match = HeaderValue::from_str(&pin.etag)
            .map_err(|_| Error::invalid_request("the pinned ETag is not a valid header value"))?;
        self.credentials_ready().await;
        let (request, target, signed_with) =
            self.request(Method::GET, bucket, key, pin.version_id.as_deref(), |h| {
                if let Some(extra) = headers {
                    extra.apply(h);
                }
                let value = HeaderValue::from_str(&range.to_string())
                    .map_err(|_| Error::invalid_request("range header"))?;
                h.insert(header::RANGE, value);
                h.insert(header::IF_MATCH, if_match);
                // A presigned URL's signature would have to cover it (OSS then answers a
                // range it cannot serve with the whole object, which the checks refuse).
                if !presigned {
                    h.insert("x-oss-range-behavior", HeaderValue::from_static("standard"));
                }
                Ok(())
            })?;
        let response = self.send(request, &target).await?;
        let status = response.status();
        if !(status == StatusCode::OK || status == StatusCode::PARTIAL_CONTENT) {
            return Err(self
                .service_error(operation, response, signed_with.as_ref())
                .await);
        }
        // Every error from here on may quote the server's text (the fuzz target
        // `client_response` found the STS token echoed in an ETag).
        let redact = |e: Error| e.redact_server_text(signed_with.as_ref());
        let headers = response.headers();
        let request_id = header_text(headers, "x-oss-request-id").map(str::to_owned);
        check_partial_response(status, headers, range, pin.size, request_id.as_deref())
            .map_err(redact)?;
        check_identity(headers, pin, request_id.as_deref()).map_err(redact)?;
        let object_crc64 =
            header_text(headers, "x-oss-hash-crc64ecma").and_then(|t| t.parse::<u64>().ok());
        let plan = StreamPlan {
            range,
            stall: self.inner.timeouts.stall,
            max_chunk,
            request_id: request_id.as_deref(),
        };
        let delivered = stream_body(response.into_body(), plan, sink, crc)
            .await
            .map_err(redact)?;
        Ok(RangeReport {
            delivered,
            request_id,
            object_crc64,
        })
    }

    /// What HEAD would say, from a GET of the object's first byte (`Range: bytes=0-0`):
    /// the size from `Content-Range` (or `Content-Length` when the server sent the whole
    /// object: an empty one, whose range it cannot serve), and the ETag, CRC-64,
    /// `Last-Modified`, content type and user metadata from the same headers. For a
    /// presigned GET URL, which allows no HEAD; [`Client::head_object`] calls it for
    /// a presigned client.
    pub async fn probe_object(
        &self,
        bucket: &str,
        key: &str,
        headers: &RequestHeaders,
    ) -> Result<ObjectMeta, Error> {
        let operation = format!("GET {bucket}/{key} bytes=0-0");
        self.credentials_ready().await;
        let (request, target, signed_with) = self.request(Method::GET, bucket, key, None, |h| {
            headers.apply(h);
            h.insert(header::RANGE, HeaderValue::from_static("bytes=0-0"));
            Ok(())
        })?;
        let response = self.send(request, &target).await?;
        let status = response.status();
        if !(status == StatusCode::OK || status == StatusCode::PARTIAL_CONTENT) {
            return Err(self
                .service_error(operation, response, signed_with.as_ref())
                .await);
        }
        let (parts, body) = response.into_parts();
        let mut described = parts.headers.clone();
        let request_id = header_text(&parts.headers, "x-oss-request-id").map(str::to_owned);
        if status == StatusCode::PARTIAL_CONTENT {
            let total = header_text(&parts.headers, "content-range")
                .and_then(|cr| cr.rsplit_once('/'))
                .and_then(|(_, total)| total.trim().parse::<u64>().ok())
                .ok_or_else(|| Error::InvalidResponse {
                    problem: "the first-byte GET's 206 has no Content-Range total".into(),
                    request_id: request_id.clone(),
                })?;
            described.insert(header::CONTENT_LENGTH, HeaderValue::from(total));
            described.remove(header::CONTENT_RANGE);
            // One byte: read it, so the connection goes back to the pool.
            let _ = read_bounded(body, self.inner.timeouts.stall.idle).await;
        } else if header_text(&parts.headers, "content-length") == Some("0") {
            let _ = read_bounded(body, self.inner.timeouts.stall.idle).await;
        }
        // A 200 with a body: the server ignored the range; the body is dropped unread (the
        // connection with it) and Content-Length is the size.
        ObjectMeta::from_headers(&described)
    }

    /// Waits until the credentials provider has credentials to sign with (at once unless a
    /// refreshing provider has none usable: see `ProvideCredentials::ready`).
    pub(crate) async fn credentials_ready(&self) {
        if let Some(signer) = &self.inner.signer {
            signer.ready().await;
        }
    }

    /// Builds and signs one attempt of an object request; also returns the credentials it
    /// was signed with.
    fn request(
        &self,
        method: Method,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        add: impl FnOnce(&mut HeaderMap) -> Result<(), Error>,
    ) -> Result<Attempt, Error> {
        validate_bucket_name(bucket)?;
        validate_key(key)?;
        if version_id.is_some_and(str::is_empty) {
            return Err(Error::invalid_request(
                "the version id is empty; pass None for the current version",
            ));
        }
        let inner = &self.inner;
        let target = match &inner.presigned {
            Some(url) => presigned_target(url, bucket, key)?,
            None => object_target(&inner.endpoint, inner.style, bucket, key, version_id)?,
        };
        let mut query = Query::new();
        if let Some(version) = version_id {
            query.push("versionId", version);
        }
        let (request, signed_with) =
            self.signed(method, &target, bucket, Some(key), &query, add)?;
        Ok((request, target, signed_with))
    }

    /// Builds and signs one attempt of a bucket-level GET (a listing) whose URL carries
    /// `query`, sending `headers` too; also returns the credentials it was signed with.
    pub(crate) fn bucket_request(
        &self,
        bucket: &str,
        query: &Query,
        headers: &RequestHeaders,
    ) -> Result<Attempt, Error> {
        validate_bucket_name(bucket)?;
        let inner = &self.inner;
        let target = bucket_target(&inner.endpoint, inner.style, bucket, query)?;
        let (request, signed_with) =
            self.signed(Method::GET, &target, bucket, None, query, |h| {
                headers.apply(h);
                Ok(())
            })?;
        Ok((request, target, signed_with))
    }

    /// The request to `target` with the common headers (`Host`, `Accept-Encoding: identity`,
    /// `User-Agent`, `Date`, the client's extra headers), then `add`'s, signed last; and the
    /// credentials it was signed with.
    fn signed(
        &self,
        method: Method,
        target: &Target,
        bucket: &str,
        key: Option<&str>,
        query: &Query,
        add: impl FnOnce(&mut HeaderMap) -> Result<(), Error>,
    ) -> Result<(Request<Empty<Bytes>>, Option<Credentials>), Error> {
        let inner = &self.inner;
        let now = self.now();
        let mut request = Request::new(Empty::<Bytes>::new());
        *request.method_mut() = method;
        *request.uri_mut() = target.uri.clone();
        let h = request.headers_mut();
        h.insert(
            header::HOST,
            HeaderValue::from_str(&target.host)
                .map_err(|_| Error::invalid_request("the host is not a valid header value"))?,
        );
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        h.insert(header::USER_AGENT, inner.user_agent.clone());
        let date = http_date(now, self.clock_offset_ms())?;
        h.insert(header::DATE, date);
        for (name, value) in &inner.extra_headers {
            h.append(name.clone(), value.clone());
        }
        add(h)?;
        if inner.presigned.is_some()
            && let Some(name) = h.keys().find(|n| n.as_str().starts_with("x-oss-"))
        {
            return Err(Error::invalid_request(format!(
                "the header `{name}` would change what the presigned URL's signature covers, so OSS would refuse it; ask for a URL signed with it, or leave it out"
            )));
        }
        let mut signed_with = None;
        if let Some(signer) = &inner.signer {
            let (mut parts, body) = request.into_parts();
            let ctx = SignContext {
                bucket,
                key,
                query,
                time: now,
            };
            signed_with = Some(signer.sign(&mut parts, &ctx)?);
            request = Request::from_parts(parts, body);
        }
        Ok((request, signed_with))
    }

    /// Sends one attempt under the response-head timeout.
    pub(crate) async fn send(
        &self,
        request: Request<Empty<Bytes>>,
        target: &Target,
    ) -> Result<Response<Incoming>, Error> {
        let timeouts = &self.inner.timeouts;
        match tokio::time::timeout(timeouts.response_head, self.inner.http.request(request)).await {
            Err(_elapsed) => Err(Error::HeadTimeout {
                host: target.host.clone(),
                after: timeouts.response_head,
            }),
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(classify_send_error(e, &target.host, timeouts.connect)),
        }
    }

    /// Turns an error response into [`Error::Service`], correcting the clock on
    /// `RequestTimeTooSkewed`, and handing credentials OSS refused as unknown or expired back
    /// to the provider (which may refresh them for the retry).
    pub(crate) async fn service_error(
        &self,
        operation: String,
        response: Response<Incoming>,
        signed_with: Option<&Credentials>,
    ) -> Error {
        let (parts, body) = response.into_parts();
        let headers = &parts.headers;
        let body = read_bounded(body, self.inner.timeouts.stall.idle).await;
        let doc = parse_error_document(&String::from_utf8_lossy(&body))
            .or_else(|| {
                headers
                    .get("x-oss-err")
                    .and_then(|v| parse_x_oss_err(v.as_bytes()))
            })
            .unwrap_or_default();
        let server_date =
            header_text(headers, "date").and_then(|d| httpdate::parse_http_date(d).ok());
        let ErrorDocument {
            code,
            message,
            request_id,
            host_id,
            ec,
            details,
        } = doc;
        let clock_corrected = code == "RequestTimeTooSkewed"
            && server_date.is_some_and(|server| self.correct_clock(server));
        let credentials_refreshed = parts.status == StatusCode::FORBIDDEN
            && REFUSED_CREDENTIALS_CODES.contains(&code.as_str())
            && match (&self.inner.signer, signed_with) {
                (Some(signer), Some(used)) => signer.rejected(used),
                _ => false,
            };
        let request_id =
            request_id.or_else(|| header_text(headers, "x-oss-request-id").map(str::to_owned));
        let ec = ec.or_else(|| header_text(headers, "x-oss-ec").map(str::to_owned));
        // A server (or a proxy in front of it) may echo the request in any text it sends
        // back, not only in `<Message>` (the fuzz target `client_response` found the STS
        // token's place in `x-oss-ec`): the credentials that signed it never reach an error.
        Error::Service(Box::new(ServiceError {
            status: parts.status,
            operation,
            code,
            message,
            request_id,
            host_id,
            ec,
            details,
            server_date,
            clock_corrected,
            credentials_refreshed,
            delete_marker: header_text(headers, "x-oss-delete-marker")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        }))
        .redact_server_text(signed_with)
    }

    /// Takes the server's clock as ours, when it is at most [`MAX_CLOCK_CORRECTION`] away;
    /// returns whether it did.
    fn correct_clock(&self, server: SystemTime) -> bool {
        let local = (self.inner.clock)();
        let (distance, ahead) = match server.duration_since(local) {
            Ok(ahead) => (ahead, true),
            Err(behind) => (behind.duration(), false),
        };
        if distance > MAX_CLOCK_CORRECTION {
            return false;
        }
        // At most a day in milliseconds: far inside i64.
        let ms = i64::try_from(distance.as_millis()).unwrap_or(i64::MAX);
        let ms = if ahead { ms } else { -ms };
        self.inner.skew_ms.store(ms, Ordering::Relaxed);
        true
    }
}

/// Where a request through a presigned URL goes: the URL as it is, for its own object only.
fn presigned_target(url: &ObjectUrl, bucket: &str, key: &str) -> Result<Target, Error> {
    if url.bucket() != bucket || url.key() != key {
        return Err(Error::invalid_request(format!(
            "this client reaches {url} only, not {bucket}/{key}"
        )));
    }
    let uri = url.request_text().parse::<http::Uri>().map_err(|e| {
        Error::invalid_request(format!("the presigned URL is not a valid URI: {e}"))
    })?;
    Ok(Target {
        uri,
        host: url.host_header().to_owned(),
    })
}

/// The `Date` header for a request made at `now`, in the one text form OSS takes. Total: a
/// time outside 1970..=9999 (a clock that is wildly off, or off by the server's `offset_ms`)
/// is an error naming the problem, never a panic.
fn http_date(now: SystemTime, offset_ms: i64) -> Result<HeaderValue, Error> {
    let text = SigningTime::from_system_time(now)
        .map_err(|_| {
            Error::invalid_request(format!(
                "the clock (corrected by {offset_ms} ms from the server's Date) is outside the years 1970-9999 a request can be dated in; fix the system clock"
            ))
        })?
        .rfc1123();
    HeaderValue::from_str(&text)
        .map_err(|_| Error::invalid_request("the date is not a valid header value"))
}

/// The response must describe the pinned object: same ETag, same version, no transcoding.
fn check_identity(
    headers: &HeaderMap,
    pin: &ObjectPin,
    request_id: Option<&str>,
) -> Result<(), Error> {
    if let Some(encoding) = header_text(headers, "content-encoding")
        && !encoding.eq_ignore_ascii_case("identity")
    {
        return Err(Error::Transcoded {
            encoding: encoding.to_owned(),
            request_id: request_id.map(str::to_owned),
        });
    }
    if let Some(etag) = header_text(headers, "etag")
        && bare_etag(etag) != bare_etag(&pin.etag)
    {
        return Err(Error::ObjectChanged {
            expected: format!("ETag {}", pin.etag),
            got: format!("ETag {etag}"),
            request_id: request_id.map(str::to_owned),
        });
    }
    if let (Some(want), Some(got)) = (&pin.version_id, header_text(headers, "x-oss-version-id"))
        && want != got
    {
        return Err(Error::ObjectChanged {
            expected: format!("version {want}"),
            got: format!("version {got}"),
            request_id: request_id.map(str::to_owned),
        });
    }
    Ok(())
}

/// Reads at most [`MAX_ERROR_BODY`] bytes of an error body, giving up on a silent one.
async fn read_bounded(mut body: Incoming, idle: Option<Duration>) -> Vec<u8> {
    let idle = idle.unwrap_or(Duration::from_secs(10));
    let mut out = Vec::new();
    while out.len() < MAX_ERROR_BODY {
        match tokio::time::timeout(idle, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    let room = MAX_ERROR_BODY - out.len();
                    out.extend_from_slice(data.get(..room.min(data.len())).unwrap_or(&data));
                }
            }
            _ => break,
        }
    }
    out
}

/// Classifies a failure to get a response head into the transport variants, by the types in
/// its chain; the client's error itself becomes the variant's source, so the whole typed chain
/// (and [`Error::io_kind`]) stays available to the caller.
fn classify_send_error(
    error: hyper_util::client::legacy::Error,
    host: &str,
    connect_timeout: Duration,
) -> Error {
    let host = host.to_owned();
    // The proxy's own failures first: a refused CONNECT is the proxy's answer, not the
    // endpoint's, and its message names the proxy.
    if causes(&error).any(|e| e.is::<ProxyError>()) {
        return Error::Proxy {
            host,
            source: Box::new(error),
        };
    }
    if let Some(tls) = causes(&error).find_map(|e| e.downcast_ref::<rustls::Error>()) {
        // The first byte back was not a TLS record type: a plain-text (HTTP) answer.
        if matches!(
            tls,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
        ) {
            return Error::NotTls {
                host,
                source: Box::new(tls.clone()),
            };
        }
        return Error::Tls {
            host,
            source: Box::new(tls.clone()),
        };
    }
    let dns_host = causes(&error)
        .find_map(|e| e.downcast_ref::<ResolveError>())
        .map(|dns| dns.host.clone());
    if let Some(host) = dns_host {
        return Error::Dns {
            host,
            source: Box::new(error),
        };
    }
    if error.is_connect() {
        let timed_out = causes(&error).any(|e| {
            e.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
        });
        if timed_out {
            return Error::ConnectTimeout {
                host,
                after: connect_timeout,
            };
        }
        return Error::Connect {
            host,
            source: Box::new(error),
        };
    }
    let closed = causes(&error).any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message() || h.is_canceled())
    });
    if closed {
        return Error::ClosedBeforeResponse {
            host,
            source: Box::new(error),
        };
    }
    Error::Transport {
        host,
        source: Box::new(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// oss-resume spawns part downloads on a multi-threaded runtime: the futures, the client
    /// and the errors must cross threads.
    #[test]
    fn futures_client_and_errors_are_send() {
        fn send<T: Send>(_: &T) {}
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Client>();
        send_sync::<Error>();
        let client = Client::builder()
            .endpoint("http://127.0.0.1:9")
            .anonymous()
            .build()
            .unwrap();
        let pin = ObjectPin {
            etag: "\"E\"".into(),
            size: 10,
            version_id: None,
        };
        let get = GetRange::new("bkt", "k", &pin, ByteRange::inclusive(0, 9).unwrap());
        let mut sink = crate::sink::Discard::default();
        let mut crc = Crc64::new();
        let fut = client.get_range(&get, &mut sink, Some(&mut crc));
        send(&fut);
        let head = client.head_object("bkt", "k", None);
        send(&head);
    }

    #[test]
    fn causes_see_inside_io_errors() {
        let tls = rustls::Error::General("bad".into());
        let wrapped = io::Error::other(io::Error::new(io::ErrorKind::InvalidData, tls));
        assert!(causes(&wrapped).any(|e| e.downcast_ref::<rustls::Error>().is_some()));
    }

    #[test]
    fn identity_checks() {
        let pin = ObjectPin {
            etag: "\"ABC\"".into(),
            size: 10,
            version_id: Some("v1".into()),
        };
        let mut h = HeaderMap::new();
        h.insert("etag", HeaderValue::from_static("\"ABC\""));
        h.insert("x-oss-version-id", HeaderValue::from_static("v1"));
        check_identity(&h, &pin, None).unwrap();
        h.insert("etag", HeaderValue::from_static("\"ABD\""));
        let e = check_identity(&h, &pin, Some("R")).unwrap_err();
        assert!(e.is_object_changed(), "{e}");
        h.insert("etag", HeaderValue::from_static("ABC"));
        h.insert("x-oss-version-id", HeaderValue::from_static("v2"));
        assert!(
            check_identity(&h, &pin, None)
                .unwrap_err()
                .is_object_changed()
        );
        h.insert("x-oss-version-id", HeaderValue::from_static("v1"));
        h.insert("content-encoding", HeaderValue::from_static("gzip"));
        assert!(matches!(
            check_identity(&h, &pin, None),
            Err(Error::Transcoded { .. })
        ));
    }
}
