//! The stream, start to finish: validate -> HEAD -> range and plan -> fetchers + the writer
//! (the reorder window) -> flush -> CRC check.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use oss_http::PartRetry;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::fetch::{Fetched, Shared, fetcher};
use super::{ObjectRange, Stream, StreamReport};
use crate::aggregator::Rate;
use crate::engine::{head::head, plan};
use crate::error::Error;
use crate::options::ProgressFn;
use crate::ratelimit::TokenBucket;
use crate::report::Progress;
use crate::validate::{check_object, check_settings, request_headers};

pub(super) async fn run<W: AsyncWrite + Unpin + Send>(
    stream: Stream<W>,
) -> Result<StreamReport, Error> {
    let started = Instant::now();
    let Stream {
        http,
        bucket,
        key,
        mut writer,
        range,
        mut options,
    } = stream;
    check_object(&bucket, &key)?;
    check_settings(&options)?;
    let headers = Arc::new(request_headers(&options.headers)?);
    let user_cancel = options.cancel.clone().unwrap_or_default();
    let retry = PartRetry::with_throttle(options.retry, options.throttle);
    let version = options.version_id.as_deref();
    // The stream's connection count is fixed: how long the HEAD took is not needed.
    let (object, _) = head(&http, &headers, &bucket, &key, version, retry, &user_cancel).await?;
    let span = range
        .unwrap_or(ObjectRange::From {
            first: 0,
            last: None,
        })
        .resolve_allowing_empty(object.size, range.is_none())?;
    let plan = plan(span.end - span.start, options.part_size)?;
    let cancel = user_cancel.child_token();
    let shared = Arc::new(Shared {
        http,
        headers,
        bucket,
        key,
        pin: object.pin(),
        base: span.start,
        plan,
        next: AtomicU64::new(0),
        window: options.threads as u64,
        cancel: cancel.clone(),
        limiter: options.bandwidth.map(TokenBucket::new),
        retry: options.retry,
        throttle: options.throttle,
        retries: AtomicU64::new(0),
    });
    let (tx, rx) = mpsc::unbounded_channel();
    let (written_tx, written_rx) = watch::channel(0u64);
    let mut fetchers = JoinSet::new();
    for _ in 0..plan.len().min(options.threads as u64) {
        let task = fetcher(Arc::clone(&shared), written_rx.clone(), tx.clone());
        fetchers.spawn(task);
    }
    drop(tx);
    let mut out = Writer {
        writer: &mut writer,
        written_tx,
        cancel: &cancel,
        progress: options.progress.take(),
        every: options.progress_interval,
        last_call: None,
        rate: Rate::new(started, 0),
        shared: &shared,
        bytes: 0,
        parts: 0,
        crc: 0,
    };
    let written = out.write_in_order(rx, &mut fetchers).await;
    cancel.cancel();
    out.call_progress(true);
    let (bytes, crc) = (out.bytes, out.crc);
    fetchers.shutdown().await;
    if let Err(e) = written {
        return Err(match e {
            Error::Cancelled { .. } => Error::Cancelled {
                checkpoint_saved: false,
                object: Some(Box::new(object)),
            },
            e => e,
        });
    }
    let whole = span.start == 0 && span.end == object.size;
    let verified = match object.crc64 {
        Some(expected) if whole && expected != crc => {
            return Err(Error::StreamCorrupt {
                expected,
                actual: crc,
                bytes_written: bytes,
            });
        }
        Some(_) => whole,
        None => false,
    };
    Ok(StreamReport {
        object,
        range: span,
        bytes_written: bytes,
        crc64: crc,
        crc64_verified: verified,
        retries: shared.retries.load(Ordering::Relaxed),
        parts_total: plan.len(),
        part_size: plan.part_size().get(),
        elapsed: started.elapsed(),
    })
}

impl ObjectRange {
    /// [`ObjectRange::resolve`], except that the whole of an empty object (no range asked
    /// for) is the empty span rather than an error.
    fn resolve_allowing_empty(self, size: u64, whole: bool) -> Result<std::ops::Range<u64>, Error> {
        if whole && size == 0 {
            return Ok(0..0);
        }
        self.resolve(size)
    }
}

/// The writer's side of the window: parts arrive in any order, leave in order.
struct Writer<'a, W> {
    writer: &'a mut W,
    /// Parts written out, which moves the window.
    written_tx: watch::Sender<u64>,
    cancel: &'a CancellationToken,
    progress: Option<ProgressFn>,
    every: std::time::Duration,
    last_call: Option<Instant>,
    rate: Rate,
    shared: &'a Shared,
    bytes: u64,
    parts: u64,
    /// CRC-64 of the bytes written so far.
    crc: u64,
}

impl<W: AsyncWrite + Unpin + Send> Writer<'_, W> {
    /// Writes every part in order, then flushes. The first fetcher error, a cancellation or a
    /// write error stops it.
    async fn write_in_order(
        &mut self,
        mut rx: mpsc::UnboundedReceiver<Result<Fetched, Error>>,
        fetchers: &mut JoinSet<()>,
    ) -> Result<(), Error> {
        let total = self.shared.plan.len();
        let mut waiting: BTreeMap<u64, Fetched> = BTreeMap::new();
        while self.parts < total {
            if let Some(part) = waiting.remove(&self.parts) {
                self.write_part(part).await?;
                continue;
            }
            let received = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(Error::Cancelled {
                    checkpoint_saved: false,
                    object: None,
                }),
                r = rx.recv() => r,
            };
            match received {
                Some(Ok(part)) => {
                    waiting.insert(part.index, part);
                }
                Some(Err(e)) => return Err(e),
                None => return Err(ended_early(fetchers).await),
            }
        }
        self.writer.flush().await.map_err(|e| self.output_error(e))
    }

    async fn write_part(&mut self, part: Fetched) -> Result<(), Error> {
        for chunk in &part.chunks {
            let mut rest: &[u8] = chunk;
            while !rest.is_empty() {
                // One `write` at a time (not `write_all`), so `bytes` counts exactly what
                // the writer took when it fails.
                let write = self.writer.write(rest);
                let result = tokio::select! {
                    biased;
                    () = self.cancel.cancelled() => return Err(Error::Cancelled {
                        checkpoint_saved: false,
                        object: None,
                    }),
                    r = write => r,
                };
                let n = match result {
                    Ok(0) => Err(std::io::ErrorKind::WriteZero.into()),
                    r => r,
                }
                .map_err(|e| self.output_error(e))?;
                rest = rest.get(n..).unwrap_or_default();
                self.bytes += n as u64;
            }
        }
        self.crc = oss_crc::combine(self.crc, part.crc, part.len);
        self.parts += 1;
        // Frees the window's oldest slot: the next part may be fetched.
        self.written_tx.send_replace(self.parts);
        self.call_progress(false);
        Ok(())
    }

    fn output_error(&self, source: std::io::Error) -> Error {
        Error::Output {
            bytes_written: self.bytes,
            source,
        }
    }

    /// The progress callback, at most every `every` (and always when `last`).
    fn call_progress(&mut self, last: bool) {
        let Some(callback) = self.progress.as_mut() else {
            return;
        };
        let now = Instant::now();
        if !last
            && self
                .last_call
                .is_some_and(|t| now.duration_since(t) < self.every)
        {
            return;
        }
        self.last_call = Some(now);
        let plan = &self.shared.plan;
        callback(&Progress {
            bytes_done: self.bytes,
            bytes_total: plan.object_size(),
            parts_done: self.parts,
            parts_total: plan.len(),
            bytes_resumed: 0,
            bytes_per_sec: self.rate.update(now, self.bytes),
            part_size: plan.part_size().get(),
            retries: self.shared.retries.load(Ordering::Relaxed),
        });
    }
}

/// Every fetcher ended with parts still missing: one of them panicked (a bug).
async fn ended_early(fetchers: &mut JoinSet<()>) -> Error {
    while let Some(joined) = fetchers.join_next().await {
        if let Err(e) = joined {
            return Error::Internal {
                detail: format!("a stream fetcher: {e}"),
            };
        }
    }
    Error::Internal {
        detail: "the stream's fetchers ended before every part was written".to_owned(),
    }
}
