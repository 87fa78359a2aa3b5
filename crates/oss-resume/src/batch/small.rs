//! One small object (at most one part): a single GET, no HEAD. The listing's ETag and size
//! pin it (`If-Match`, and oss-http checks `Content-Range`'s total and the ETag before the
//! first byte), the body's CRC-64 is checked against `x-oss-hash-crc64ecma`, and the file is
//! written beside its destination and renamed into place only once verified.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use oss_crc::Crc64;
use oss_http::{ByteRange, ByteSink, GetRange, JitterRng, ObjectPin, PartRetry, RetryDecision};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, LocalOp, PartRef};
use crate::paths::temp_path;
use crate::ratelimit::TokenBucket;

/// Bytes gathered before one write to the file (the sink's memory, per object).
const WRITE_BLOCK: usize = 1 << 20;

/// What the batch needs to fetch one small object.
pub(crate) struct SmallFetch<'a> {
    pub(crate) http: &'a oss_http::Client,
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
    pub(crate) pin: &'a ObjectPin,
    pub(crate) path: &'a Path,
    pub(crate) durable: bool,
    pub(crate) retry: oss_http::RetryPolicy,
    pub(crate) throttle: oss_http::ThrottlePolicy,
    pub(crate) limiter: Option<&'a TokenBucket>,
    pub(crate) cancel: &'a CancellationToken,
}

/// What was fetched.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// CRC-64 of the bytes written (equal to OSS's, when OSS sent one).
    pub(crate) crc64: u64,
    /// Whether OSS sent a CRC-64 to check against.
    pub(crate) checked: bool,
    /// Retries made.
    pub(crate) retries: u64,
}

/// Buffers up to [`WRITE_BLOCK`] and appends it to the temp file on the blocking pool.
struct FileSink<'a> {
    file: Arc<File>,
    buf: Vec<u8>,
    accepted: u64,
    limiter: Option<&'a TokenBucket>,
}

impl FileSink<'_> {
    async fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let file = Arc::clone(&self.file);
        let buf = std::mem::take(&mut self.buf);
        let back = tokio::task::spawn_blocking(move || (&*file).write_all(&buf).map(|()| buf))
            .await
            .map_err(io::Error::other)??;
        self.buf = back;
        self.buf.clear();
        Ok(())
    }
}

impl ByteSink for FileSink<'_> {
    type Error = io::Error;

    async fn write(&mut self, offset: u64, chunk: Bytes) -> io::Result<()> {
        if offset != self.accepted {
            return Err(io::Error::other(format!(
                "chunk at {offset}, expected {}",
                self.accepted
            )));
        }
        if let Some(limiter) = self.limiter {
            limiter.take(chunk.len()).await;
        }
        self.buf.extend_from_slice(&chunk);
        self.accepted += chunk.len() as u64;
        if self.buf.len() >= WRITE_BLOCK {
            self.flush().await?;
        }
        Ok(())
    }
}

/// Fetches the object into `path` (whose directory exists). Removes its temp file on failure.
pub(crate) async fn fetch(job: SmallFetch<'_>) -> Result<Fetched, Error> {
    let temp = temp_path(job.path);
    let result = fetch_to(&job, &temp).await;
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

async fn fetch_to(job: &SmallFetch<'_>, temp: &Path) -> Result<Fetched, Error> {
    let size = job.pin.size;
    let file = File::create(temp).map_err(|e| Error::local(LocalOp::CreateTemp, temp, e))?;
    let mut sink = FileSink {
        file: Arc::new(file),
        buf: Vec::new(),
        accepted: 0,
        limiter: job.limiter,
    };
    let mut crc = Crc64::new();
    let mut fetched = Fetched {
        crc64: 0,
        checked: false,
        retries: 0,
    };
    // A zero-byte object needs no GET: the listing's size and ETag are all there is.
    if size > 0 {
        let whole = ByteRange::new(0, size).map_err(|e| Error::Internal {
            detail: format!("range of a {size}-byte object: {e}"),
        })?;
        let part = PartRef {
            index: 0,
            first: 0,
            last: size - 1,
        };
        let mut retry = PartRetry::with_throttle(job.retry, job.throttle).for_part(size);
        let mut rng = JitterRng::from_entropy();
        while let Some(rest) = whole.remaining_after(sink.accepted) {
            let get = GetRange::new(job.bucket, job.key, job.pin, rest);
            let before = sink.accepted;
            let outcome = tokio::select! {
                biased;
                () = job.cancel.cancelled() => return Err(cancelled()),
                r = job.http.get_range(&get, &mut sink, Some(&mut crc)) => r,
            };
            let error = match outcome {
                Ok(report) => {
                    if let Some(expected) = report.object_crc64 {
                        fetched.checked = true;
                        if expected != crc.value() {
                            return Err(Error::CrcMismatch {
                                expected,
                                actual: crc.value(),
                            });
                        }
                    }
                    break;
                }
                Err(e) => e,
            };
            // The disk's failure, not the network's: never retried.
            let error = match error {
                oss_http::Error::Sink { source, .. } => {
                    return Err(Error::local(LocalOp::Write, temp, io::Error::other(source)));
                }
                other => other,
            };
            if error.is_object_changed() {
                return Err(Error::ObjectChanged {
                    detail: format!("its ETag is no longer the listed {}", job.pin.etag),
                    part: None,
                    request_id: error.request_id().map(str::to_owned),
                });
            }
            retry.on_delivered(sink.accepted - before);
            match retry.on_failure(error.retry_reason(), &mut rng) {
                RetryDecision::Retry { delay, .. } => {
                    fetched.retries += 1;
                    tokio::select! {
                        biased;
                        () = job.cancel.cancelled() => return Err(cancelled()),
                        () = tokio::time::sleep(delay) => {}
                    }
                }
                RetryDecision::GiveUp { attempts, .. } => {
                    return Err(Error::Part {
                        part,
                        attempts,
                        source: error,
                    });
                }
            }
        }
    }
    sink.flush()
        .await
        .map_err(|e| Error::local(LocalOp::Write, temp, e))?;
    fetched.crc64 = crc.value();
    let file = Arc::clone(&sink.file);
    let (temp_owned, dest): (PathBuf, PathBuf) = (temp.to_owned(), job.path.to_owned());
    let durable = job.durable;
    tokio::task::spawn_blocking(move || {
        if durable {
            file.sync_data().map_err(|source| Error::SyncFailed {
                path: temp_owned.clone(),
                source,
            })?;
        }
        std::fs::rename(&temp_owned, &dest).map_err(|e| Error::local(LocalOp::Rename, &dest, e))
    })
    .await
    .map_err(|e| Error::Internal {
        detail: format!("the rename task of a small object failed: {e}"),
    })??;
    Ok(fetched)
}

fn cancelled() -> Error {
    Error::Cancelled {
        checkpoint_saved: false,
        object: None,
    }
}
