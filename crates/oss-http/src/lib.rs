//! The OSS transport: signed HEAD, streaming ranged GET and listing requests over hyper 1 and
//! rustls, with strict response checks and typed outcomes.
//!
//! - [`Client`] (built by [`ClientBuilder`]): one pool of HTTP/1.1 connections (a part per
//!   TCP connection; HTTP/2 would multiplex every part onto one), rustls with the ring
//!   provider, three timeouts — connect, response head (covering the TLS handshake), and a
//!   body *stall* rule ([`StallPolicy`]) instead of a whole-body timeout — and a resolver
//!   override for testing virtual-hosted and CNAME names locally.
//! - [`Client::head_object`] gives an [`ObjectMeta`]; its [`ObjectMeta::pin`] is what every
//!   part GET is pinned to. [`RequestHeaders`] adds a caller's own headers to particular
//!   requests ([`Client::head_object_with`], [`GetRange::headers`]), checked like the
//!   client-wide ones, so downloads with different headers share one pool.
//! - [`Client::get_range`] streams a checked `206` for a [`ByteRange`] into the caller's
//!   [`ByteSink`] in bounded chunks, computing CRC-64 on the way (or not, for a caller that
//!   hashes where the bytes land).
//! - [`Client::list_objects`] lists a bucket (ListObjectsV2, or v1 [`ListVersion::V1`] for
//!   gateways without it) as a [`Lister`] of [`ListPage`]s in key order: keys decoded from
//!   `encoding-type=url`, each page retried under the retry policies, its body capped, and
//!   the listing checked to move forward, so a broken server cannot make it loop
//!   ([`ListingProblem`]).
//! - [`Error`] is the one error type: OSS errors (from the body, or HEAD's base64
//!   `x-oss-err`), transport failures as distinct variants with their typed cause, and
//!   [`Error::retry_reason`].
//! - [`RetryPolicy`] / [`ThrottlePolicy`] / [`PartRetry`]: capped exponential backoff with
//!   full jitter and per-part attempt budgets that reset on progress — one for faults, a
//!   larger and slower one for OSS's throttling answers (503 throttling codes, 429), bounded
//!   either way.
//!
//! # What this crate promises
//!
//! - **Nothing wrong reaches a sink.** A byte is handed to the sink only after the response
//!   proved to be the exact range asked for, of the pinned object: status `206`,
//!   `Content-Range` naming that range and the pinned size, a matching `Content-Length`, the
//!   pinned ETag and version, no content encoding. A body longer than the range is cut at
//!   the range. (How OSS answers ranges otherwise: `docs/oss-behaviour.md#ranges`.)
//! - **Exact progress.** On failure, [`Error::delivered`] is exactly the number of bytes the
//!   sink accepted, and a CRC-64 passed to [`Client::get_range`] covers exactly those, so a
//!   caller resumes inside a part from the next byte with [`ByteRange::remaining_after`].
//! - **Actionable errors.** Every failure is an [`Error`] variant naming the situation;
//!   [`Error::retry_reason`] says whether retrying can help, [`Error::io_kind`] gives the
//!   OS-level kind beneath a transport failure, and the cause is kept as a typed
//!   [`source`](std::error::Error::source) chain whose messages never repeat each other.
//! - **No secrets out.** Authorization, tokens, SSE-C keys and signatures echoed in OSS error
//!   documents never appear in `Debug` output or errors.
//!
//! The contract is the items re-exported below: the client and its settings, listing, the sink trait
//! (with [`Discard`] and [`Collect`] for benchmarks and tests), the error and retry types, and
//! the types those take from other crates ([`ByteRange`], [`Crc64`], [`Credentials`],
//! [`Bytes`], [`CertificateDer`]), so a caller needs no matching versions of them. Signing
//! glue, XML parsing, addressing and name resolution are internal.
//!
//! # One part, the way a downloader drives it
//!
//! The caller implements [`ByteSink`] for wherever its bytes go. This one writes each chunk
//! at its offset on tokio's blocking pool (oss-resume's sink does the same with coalesced
//! `pwritev`s): `write` completes once the bytes are on their way to disk, so a slow disk
//! holds back this part's socket, never the runtime. After a failure the loop resumes
//! *inside* the part from the exact byte the sink accepted, under a per-part retry budget
//! that refills on progress.
//!
//! ```no_run
//! use std::fs::File;
//! use std::io;
//! use std::os::unix::fs::FileExt as _;
//! use std::sync::Arc;
//!
//! use oss_http::{ByteRange, ByteSink, Bytes, Client, Credentials, Crc64, GetRange, JitterRng,
//!     PartRetry, RetryDecision, RetryPolicy};
//!
//! /// Writes each chunk at its object offset in a file as big as the object.
//! struct FileSink(Arc<File>);
//!
//! impl ByteSink for FileSink {
//!     type Error = io::Error;
//!
//!     async fn write(&mut self, offset: u64, chunk: Bytes) -> io::Result<()> {
//!         let file = Arc::clone(&self.0);
//!         tokio::task::spawn_blocking(move || file.write_all_at(&chunk, offset))
//!             .await
//!             .map_err(io::Error::other)?
//!     }
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder()
//!     .endpoint("oss-cn-hangzhou.aliyuncs.com")
//!     .credentials(Credentials::from_env()?)
//!     .build()?;
//! let meta = client.head_object("examplebucket", "big.bin", None).await?;
//! let pin = meta.pin();
//! let file = File::create("big.bin")?;
//! file.set_len(meta.size)?;
//! let mut sink = FileSink(Arc::new(file));
//!
//! // The first 8 MiB part (oss-parts plans them all); an empty object is an error here.
//! let part = ByteRange::new(0, meta.size.min(8 << 20))?;
//! let mut crc = Crc64::new(); // or Crc64::resume(crc, len) from a checkpoint
//! let mut retry = PartRetry::new(RetryPolicy::default());
//! let mut rng = JitterRng::from_entropy();
//! let mut done = 0;
//! while let Some(rest) = part.remaining_after(done) {
//!     let get = GetRange::new("examplebucket", "big.bin", &pin, rest);
//!     match client.get_range(&get, &mut sink, Some(&mut crc)).await {
//!         Ok(report) => done += report.delivered,
//!         Err(e) => {
//!             done += e.delivered(); // exact: crc covers the same bytes
//!             match retry.on_error(&e, &mut rng) {
//!                 RetryDecision::Retry { delay, .. } => tokio::time::sleep(delay).await,
//!                 RetryDecision::GiveUp { .. } => return Err(e.into()),
//!             }
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```

mod address;
mod client;
mod config;
mod counted;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod head;
mod headers;
mod list;
mod object_url;
mod proxy;
mod range;
mod redact;
mod resolve;
mod retry;
mod sign;
mod sink;
mod stream;
mod timeouts;
mod tls;
mod xml;

pub use address::{AddressingStyle, validate_bucket_name};
/// The chunk type a [`ByteSink`] receives.
pub use bytes::Bytes;
pub use client::{Client, GetRange, MAX_CLOCK_CORRECTION, RangeReport};
pub use config::ClientBuilder;
pub use error::{BoxError, Error, RetryReason, ServiceError, Stall};
pub use head::{ObjectMeta, ObjectPin, ObjectType, StorageClass};
pub use headers::RequestHeaders;
pub use list::{
    DEFAULT_MAX_PAGE_BYTES, ListPage, ListRequest, ListVersion, ListedObject, Lister,
    ListingProblem, MAX_KEYS, RestoreStatus,
};
pub use object_url::{ObjectUrl, PresignedVersion};
pub use oss_crc::Crc64;
pub use oss_parts::ByteRange;
pub use oss_sign::{Credentials, ProvideCredentials, ReadyFuture, SignError, SignatureVersion};
pub use proxy::{DEFAULT_PROXY_PORT, Proxy, ProxyConnector, ProxyError};
pub use retry::{
    JitterRng, MEANINGFUL_PROGRESS, PartRetry, RetryDecision, RetryPolicy, ThrottlePolicy,
};
/// The rustls certificate type used by [`TlsTrust::Only`].
pub use rustls::pki_types::CertificateDer;
pub use sink::{ByteSink, Collect, Discard};
pub use timeouts::{MinRate, StallPolicy, Timeouts};
pub use tls::TlsTrust;
