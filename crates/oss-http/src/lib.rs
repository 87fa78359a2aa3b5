//! The OSS transport: signed HEAD and streaming ranged GET requests over hyper 1 and rustls,
//! with strict response checks and typed outcomes.
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
//! - [`Client::get_range`] streams a checked `206` into a [`ByteSink`] in bounded chunks,
//!   computing CRC-64 on the way (or not, for a caller that hashes where the bytes land). Nothing reaches the sink unless the status, `Content-Range`,
//!   `Content-Length`, ETag and encoding all match what was asked; on failure
//!   [`Error::delivered`] says exactly how many bytes the sink accepted.
//! - [`Error`] is the one error type: OSS errors (from the body, or HEAD's base64
//!   `x-oss-err`), transport failures as distinct variants, and [`Error::retry_reason`].
//! - [`RetryPolicy`] / [`ThrottlePolicy`] / [`PartRetry`]: capped exponential backoff with
//!   full jitter and per-part attempt budgets that reset on progress — one for faults, a
//!   larger and slower one for OSS's throttling answers (503 throttling codes, 429), bounded
//!   either way.
//!
//! Secrets (authorization, tokens, SSE-C keys, signatures echoed in error documents) never
//! appear in `Debug` output or errors.
//!
//! # One part, the way oss-resume drives it
//!
//! A worker streams its part into a bounded channel drained by a writer thread (positional
//! writes off the network task); after a failure it resumes *inside* the part from the exact
//! byte the sink accepted, under a per-part retry budget that refills on progress.
//!
//! ```no_run
//! use oss_http::{ByteRange, ChannelSink, Client, Credentials, Crc64, GetRange, JitterRng,
//!     PartRetry, RetryDecision, RetryPolicy};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder()
//!     .endpoint("oss-cn-hangzhou.aliyuncs.com")
//!     .credentials(Credentials::from_env()?)
//!     .build()?;
//! let meta = client.head_object("examplebucket", "big.bin", None).await?;
//! let pin = meta.pin();
//!
//! let (mut sink, mut rx) = ChannelSink::channel(8); // at most 8 chunks in flight
//! let writer = std::thread::spawn(move || {
//!     while let Some(chunk) = rx.blocking_recv() {
//!         // file.write_all_at(&chunk.bytes, chunk.offset) ...
//! #       let _ = chunk;
//!     }
//! });
//!
//! let part = ByteRange::new(0, meta.size.min(8 << 20))?; // an empty object is an error
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
//! drop(sink);
//! writer.join().map_err(|_| "writer panicked")?;
//! # Ok(()) }
//! ```

mod address;
mod client;
mod config;
mod error;
mod head;
mod headers;
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

pub use address::{AddressingStyle, Scheme, validate_bucket_name};
pub use client::{Client, DEFAULT_MAX_CHUNK, GetRange, RangeReport};
pub use config::ClientBuilder;
pub use error::{BoxError, Error, RetryReason, ServiceError, Stall};
pub use head::{ObjectMeta, ObjectPin, ObjectType, StorageClass};
pub use headers::RequestHeaders;
pub use oss_crc::Crc64;
pub use oss_parts::ByteRange;
pub use oss_sign::{Credentials, ProvideCredentials, SignError, SignatureVersion};
pub use retry::{JitterRng, PartRetry, RetryDecision, RetryPolicy, ThrottlePolicy};
/// The rustls certificate type used by [`TlsTrust::Only`].
pub use rustls::pki_types::CertificateDer;
pub use sink::{ByteSink, ChannelSink, Chunk, Collect, Discard, Gap, ReceiverGone};
pub use timeouts::{MinRate, StallPolicy, Timeouts};
pub use tls::TlsTrust;
