//! One small object (at most one part): a single GET, no HEAD. The listing's ETag and size
//! pin it (`If-Match`, and oss-http checks `Content-Range`'s total and the ETag before the
//! first byte), the body's CRC-64 is checked against `x-oss-hash-crc64ecma`, and the file is
//! written beside its destination and renamed into place only once verified.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use oss_crc::Crc64;
use oss_http::{ByteRange, ByteSink, GetRange, JitterRng, ObjectPin, PartRetry, RetryDecision};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, LocalOp, PartRef};
use crate::paths::temp_path;
use crate::ratelimit::TokenBucket;

/// Bytes gathered before one write to the file (the sink's memory, per object). An object
/// of at most this size is written with one trip to the blocking pool that creates the temp
/// file, writes it, syncs it (durable mode) and renames it: no file exists for it before its
/// last byte arrived, and each object costs one hand-off between threads, not three.
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
    /// Counts every byte as it arrives (the batch's progress).
    pub(crate) arrived: &'a AtomicU64,
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

/// The temp file, created by the first write that reaches the disk.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    /// Appends `bytes`, creating the file first if needed (blocking).
    fn append(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(create(&self.path)?),
        };
        file.write_all(bytes)
            .map_err(|e| Error::local(LocalOp::Write, &self.path, e))
    }

    /// Writes what is left, syncs (durable) and renames the file onto `dest` (blocking).
    fn commit(mut self, rest: &[u8], durable: bool, dest: &Path) -> Result<(), Error> {
        if !rest.is_empty() || self.file.is_none() {
            self.append(rest)?;
        }
        if durable && let Some(file) = &self.file {
            file.sync_data().map_err(|source| Error::SyncFailed {
                path: self.path.clone(),
                source,
            })?;
        }
        std::fs::rename(&self.path, dest).map_err(|e| Error::local(LocalOp::Rename, dest, e))
    }
}

/// Creates the temp file, and its directory when that is missing (so the common case,
/// a directory that exists, costs no extra system call).
fn create(path: &Path) -> Result<File, Error> {
    match File::create(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::local(LocalOp::CreateDirectory, parent, e))?;
            }
            File::create(path)
        }
        other => other,
    }
    .map_err(|e| Error::local(LocalOp::CreateTemp, path, e))
}

/// Buffers up to [`WRITE_BLOCK`]; a full block (of an object larger than one block) is
/// appended to the temp file on the blocking pool. The last block is written by
/// [`TempFile::commit`].
struct FileSink<'a> {
    temp: Option<TempFile>,
    buf: Vec<u8>,
    accepted: u64,
    size: u64,
    limiter: Option<&'a TokenBucket>,
    arrived: &'a AtomicU64,
    /// The local error behind a refused chunk (the transport only sees its text).
    failed: Option<Error>,
}

impl FileSink<'_> {
    async fn flush(&mut self) -> Result<(), Error> {
        let Some(mut temp) = self.temp.take() else {
            return Err(lost_file());
        };
        let buf = std::mem::take(&mut self.buf);
        let (temp, buf) = tokio::task::spawn_blocking(move || {
            temp.append(&buf)?;
            Ok::<_, Error>((temp, buf))
        })
        .await
        .map_err(|e| Error::Internal {
            detail: format!("the write task of a small object failed: {e}"),
        })??;
        self.temp = Some(temp);
        self.buf = buf;
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
        self.arrived
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        // The last bytes wait for the commit, which writes them with the rename.
        if self.buf.len() >= WRITE_BLOCK
            && self.accepted < self.size
            && let Err(e) = self.flush().await
        {
            let text = io::Error::other(e.to_string());
            self.failed = Some(e);
            return Err(text);
        }
        Ok(())
    }
}

/// Fetches the object into `path` (making its directory if needed). Removes its temp file on
/// failure.
pub(crate) async fn fetch(job: SmallFetch<'_>) -> Result<Fetched, Error> {
    let temp = temp_path(job.path);
    let result = fetch_to(&job, temp.clone()).await;
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

async fn fetch_to(job: &SmallFetch<'_>, temp: PathBuf) -> Result<Fetched, Error> {
    let size = job.pin.size;
    let mut sink = FileSink {
        temp: Some(TempFile {
            path: temp,
            file: None,
        }),
        buf: Vec::with_capacity(usize::try_from(size).map_or(WRITE_BLOCK, |s| s.min(WRITE_BLOCK))),
        accepted: 0,
        size,
        limiter: job.limiter,
        arrived: job.arrived,
        failed: None,
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
            if let oss_http::Error::Sink { source, .. } = error {
                return Err(sink.failed.take().unwrap_or_else(|| Error::Internal {
                    detail: format!("a small object's sink failed: {source}"),
                }));
            }
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
    fetched.crc64 = crc.value();
    let temp = sink.temp.take().ok_or_else(lost_file)?;
    let rest = std::mem::take(&mut sink.buf);
    let (dest, durable) = (job.path.to_owned(), job.durable);
    tokio::task::spawn_blocking(move || temp.commit(&rest, durable, &dest))
        .await
        .map_err(|e| Error::Internal {
            detail: format!("the commit task of a small object failed: {e}"),
        })??;
    Ok(fetched)
}

fn lost_file() -> Error {
    Error::Internal {
        detail: "a small object's temp file was lost by a failed write".into(),
    }
}

fn cancelled() -> Error {
    Error::Cancelled {
        checkpoint_saved: false,
        object: None,
    }
}
