//! A stream's fetchers: each takes the next part in order, waits until it is inside the
//! reorder window, fetches it into memory (retrying inside the part from the byte it got
//! to), and hands it to the writer with its CRC-64.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use oss_crc::Crc64;
use oss_http::{
    ByteSink, GetRange, JitterRng, ObjectPin, PartRetry, RequestHeaders, RetryDecision,
    RetryPolicy, ThrottlePolicy,
};
use oss_parts::{ByteRange, Part, Plan};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, PartRef};
use crate::ratelimit::TokenBucket;

/// What every fetcher shares.
pub(super) struct Shared {
    pub(super) http: oss_http::Client,
    pub(super) headers: Arc<RequestHeaders>,
    pub(super) bucket: String,
    pub(super) key: String,
    pub(super) pin: ObjectPin,
    /// The object offset of the plan's byte 0 (the range's start).
    pub(super) base: u64,
    pub(super) plan: Plan,
    /// The next part index to hand out.
    pub(super) next: AtomicU64,
    /// Parts the window holds: a part may be fetched once every part `window` before it
    /// has been written.
    pub(super) window: u64,
    pub(super) cancel: CancellationToken,
    pub(super) limiter: Option<TokenBucket>,
    pub(super) retry: RetryPolicy,
    pub(super) throttle: ThrottlePolicy,
    /// Part requests retried.
    pub(super) retries: AtomicU64,
}

/// One part, in memory, ready to be written.
pub(super) struct Fetched {
    pub(super) index: u64,
    pub(super) chunks: Vec<Bytes>,
    pub(super) len: u64,
    pub(super) crc: u64,
}

/// Fetches parts until none is left, the token fires, or a part fails (the error is sent
/// to the writer, which stops everything). `written` is the number of parts written out.
pub(super) async fn fetcher(
    shared: Arc<Shared>,
    mut written: watch::Receiver<u64>,
    out: mpsc::UnboundedSender<Result<Fetched, Error>>,
) {
    let mut rng = JitterRng::from_entropy();
    loop {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(part) = shared.plan.part(index) else {
            return;
        };
        let window = shared.window;
        let admitted = tokio::select! {
            biased;
            () = shared.cancel.cancelled() => return,
            r = written.wait_for(|&w| index < w.saturating_add(window)) => r.is_ok(),
        };
        if !admitted {
            return; // the writer is gone
        }
        let result = fetch_part(&shared, part, &mut rng).await;
        let failed = result.is_err();
        if out.send(result).is_err() || failed {
            return;
        }
    }
}

/// The part's bytes, retried inside the part under the stream's policies.
async fn fetch_part(s: &Shared, part: Part, rng: &mut JitterRng) -> Result<Fetched, Error> {
    let start = s.base + part.start();
    let part_ref = PartRef {
        index: part.index(),
        first: start,
        last: start + part.len().saturating_sub(1),
    };
    let mut buf = Buffer {
        next: start,
        chunks: Vec::new(),
        len: 0,
        crc: Crc64::new(),
        limiter: s.limiter.as_ref(),
    };
    let mut retry = PartRetry::with_throttle(s.retry, s.throttle).for_part(part.len());
    while let Some(rest) = part.remaining_after(buf.len) {
        let rest = shift(rest, s.base).map_err(|e| Error::Internal {
            detail: format!("range of {part_ref}: {e}"),
        })?;
        let get = GetRange::new(&s.bucket, &s.key, &s.pin, rest).headers(&s.headers);
        let before = buf.len;
        let error = tokio::select! {
            biased;
            () = s.cancel.cancelled() => return Err(cancelled()),
            r = s.http.get_range(&get, &mut buf, None) => match r {
                Ok(_) => break,
                Err(e) => e,
            },
        };
        if error.is_object_changed() {
            return Err(Error::ObjectChanged {
                detail: error.to_string(),
                part: Some(part_ref),
                request_id: error.request_id().map(str::to_owned),
            });
        }
        if let Some(service) = error.service()
            && service.code == "InvalidObjectState"
        {
            return Err(Error::ObjectArchived {
                code: service.code.clone(),
                request_id: service.request_id.clone(),
            });
        }
        retry.on_delivered(buf.len - before);
        match retry.on_failure(error.retry_reason(), rng) {
            RetryDecision::Retry { delay, .. } => {
                s.retries.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("{part_ref}: retrying in {delay:?} after: {error}");
                tokio::select! {
                    biased;
                    () = s.cancel.cancelled() => return Err(cancelled()),
                    () = tokio::time::sleep(delay) => {}
                }
            }
            RetryDecision::GiveUp { attempts, .. } => {
                return Err(Error::Part {
                    part: part_ref,
                    attempts,
                    source: error,
                });
            }
        }
    }
    Ok(Fetched {
        index: part.index(),
        chunks: buf.chunks,
        len: buf.len,
        crc: buf.crc.value(),
    })
}

fn cancelled() -> Error {
    Error::Cancelled {
        checkpoint_saved: false,
        object: None,
    }
}

/// `range` (of the plan) as the object's bytes.
fn shift(range: ByteRange, base: u64) -> Result<ByteRange, oss_parts::PartsError> {
    ByteRange::inclusive(range.start() + base, range.last() + base)
}

/// A chunk at an offset other than the next one expected (oss-http promises order).
#[derive(Debug, thiserror::Error)]
#[error("internal: a chunk at byte {got}, expected {expected}")]
struct OutOfOrder {
    got: u64,
    expected: u64,
}

/// A part's bytes as they arrive (the network's own buffers, not copied), and their CRC-64
/// computed here, on the fetcher, so the writer only combines.
struct Buffer<'a> {
    next: u64,
    chunks: Vec<Bytes>,
    len: u64,
    crc: Crc64,
    limiter: Option<&'a TokenBucket>,
}

impl ByteSink for Buffer<'_> {
    type Error = OutOfOrder;

    async fn write(&mut self, offset: u64, chunk: Bytes) -> Result<(), OutOfOrder> {
        if offset != self.next {
            return Err(OutOfOrder {
                got: offset,
                expected: self.next,
            });
        }
        if let Some(limiter) = self.limiter {
            limiter.take(chunk.len()).await;
        }
        let len = chunk.len() as u64;
        self.crc.update(&chunk);
        self.chunks.push(chunk);
        self.len += len;
        self.next += len;
        Ok(())
    }
}
