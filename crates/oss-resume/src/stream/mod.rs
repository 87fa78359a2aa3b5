//! Streaming an object (or a byte range of it) to an [`AsyncWrite`] in order: parallel
//! ranged GETs, reassembled through a bounded reorder window, CRC-64 checked at the end.
//!
//! No file, no lock, no checkpoint: a pipe cannot be rewound, so a stream that stops cannot
//! be resumed. What it guarantees instead:
//!
//! - **Order**: bytes reach the writer in object order, each exactly once.
//! - **Bounded memory**: at most `threads` parts are held at a time — the ones being
//!   fetched and the ones waiting for an earlier part to be written — so memory stays under
//!   about `threads × part size` (4 × 8 MiB = 32 MiB with `ossget`'s defaults) whatever the
//!   object size. A slow reader holds the fetching back (the window does not move until the
//!   writer has taken the oldest part).
//! - **Checked at the end**: the CRC-64 of everything written is compared with the object's
//!   `x-oss-hash-crc64ecma` when the whole object was streamed; a mismatch is
//!   [`Error::StreamCorrupt`], after the bytes went out (say so to whoever reads them). OSS
//!   gives no CRC for a range, so a range's CRC-64 is computed and reported
//!   ([`StreamReport::crc64`]) but cannot be checked ([`StreamReport::crc64_verified`]).
//! - **Pinned**: every GET carries HEAD's ETag (and version); a changed object stops the
//!   stream with [`Error::ObjectChanged`] — nothing from two versions is ever written.

mod fetch;
mod run;

use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::Range;
use std::pin::Pin;
use std::time::Duration;

use oss_http::{ObjectMeta, RetryPolicy, ThrottlePolicy};
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::options::Options;
use crate::report::Progress;

/// Which bytes of the object to stream, as HTTP's `Range: bytes=...` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectRange {
    /// Bytes `first..=last`; `last: None` (or past the end) means to the end of the object.
    From {
        /// The first byte.
        first: u64,
        /// The last byte, inclusive.
        last: Option<u64>,
    },
    /// The last `n` bytes (the whole object when it is shorter).
    Last(u64),
}

impl ObjectRange {
    /// The object's bytes this range selects, for an object of `size` bytes:
    /// [`Error::RangeNotSatisfiable`] when it starts at or past the end (a suffix of 0
    /// bytes, or any range of an empty object, selects nothing either).
    pub fn resolve(self, size: u64) -> Result<Range<u64>, Error> {
        let span = match self {
            ObjectRange::From { first, last } => {
                let end = last.map_or(size, |l| l.saturating_add(1).min(size));
                first..end
            }
            ObjectRange::Last(n) => size.saturating_sub(n)..size,
        };
        if span.start >= span.end {
            return Err(Error::RangeNotSatisfiable {
                range: self.to_string(),
                size,
            });
        }
        Ok(span)
    }
}

impl fmt::Display for ObjectRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectRange::From { first, last } => match last {
                Some(last) => write!(f, "bytes={first}-{last}"),
                None => write!(f, "bytes={first}-"),
            },
            ObjectRange::Last(n) => write!(f, "bytes=-{n}"),
        }
    }
}

/// What a finished stream reports.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamReport {
    /// The object as HEAD described it.
    pub object: ObjectMeta,
    /// The object's bytes that were streamed (the whole object without a range).
    pub range: Range<u64>,
    /// Bytes written to the writer (`range.end - range.start`).
    pub bytes_written: u64,
    /// CRC-64/XZ of the bytes written.
    pub crc64: u64,
    /// Whether [`StreamReport::crc64`] was checked against the object's
    /// `x-oss-hash-crc64ecma`: the whole object was streamed and OSS has a CRC for it.
    pub crc64_verified: bool,
    /// Part requests retried.
    pub retries: u64,
    /// Parts in the plan.
    pub parts_total: u64,
    /// Bytes per part.
    pub part_size: u64,
    /// Wall time of the stream.
    pub elapsed: Duration,
}

/// A stream of one object to a writer, described by builder calls and started by
/// `.await`. Made by [`crate::Client::stream`]; see the [module docs](self) for what it
/// guarantees.
#[must_use = "a stream does nothing until it is awaited"]
pub struct Stream<W> {
    http: oss_http::Client,
    bucket: String,
    key: String,
    writer: W,
    range: Option<ObjectRange>,
    options: Options,
}

impl<W> fmt::Debug for Stream<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("range", &self.range)
            .field("part_size", &self.options.part_size)
            .field("threads", &self.options.threads)
            .finish_non_exhaustive()
    }
}

impl<W: AsyncWrite + Unpin + Send + 'static> Stream<W> {
    pub(crate) fn new(http: oss_http::Client, bucket: String, key: String, writer: W) -> Self {
        Self {
            http,
            bucket,
            key,
            writer,
            range: None,
            options: Options::default(),
        }
    }

    /// Bytes per ranged GET, 1 B ..= 5 GiB (default 8 MiB). With [`Stream::threads`] it
    /// bounds memory: about `threads × part_size`.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.options.part_size = Some(bytes);
        self
    }

    /// Concurrent ranged GETs, and the reorder window in parts, 1 ..= 1024 (default 1).
    pub fn threads(mut self, threads: usize) -> Self {
        self.options.threads = threads;
        self
    }

    /// Only these bytes of the object (default: all of it).
    pub fn range(mut self, range: ObjectRange) -> Self {
        self.range = Some(range);
        self
    }

    /// Stream this version of the object (versioned buckets).
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.options.version_id = Some(version_id.into());
        self
    }

    /// A header sent on HEAD and on every GET, as [`crate::Download::header`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.headers.push((name.into(), value.into()));
        self
    }

    /// Limit the whole stream to about `bytes_per_sec`.
    pub fn bandwidth_limit(mut self, bytes_per_sec: u64) -> Self {
        self.options.bandwidth = Some(bytes_per_sec);
        self
    }

    /// Called with the progress (`bytes_done`: bytes written out) at most every
    /// [`Stream::progress_interval`] and once at the end, on the task that writes: keep it
    /// quick.
    pub fn on_progress(mut self, callback: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.options.progress = Some(Box::new(callback));
        self
    }

    /// The shortest time between two progress calls (default 100 ms).
    pub fn progress_interval(mut self, interval: Duration) -> Self {
        self.options.progress_interval = interval;
        self
    }

    /// Stop when `token` is cancelled: [`Error::Cancelled`] (nothing is saved; a stream
    /// cannot be resumed).
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.options.cancel = Some(token);
        self
    }

    /// The per-part retry policy for faults, as [`crate::Download::retry_policy`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = policy;
        self
    }

    /// The per-part retry policy for OSS's throttling, as
    /// [`crate::Download::throttle_policy`].
    pub fn throttle_policy(mut self, policy: ThrottlePolicy) -> Self {
        self.options.throttle = policy;
        self
    }
}

impl<W: AsyncWrite + Unpin + Send + 'static> IntoFuture for Stream<W> {
    type Output = Result<StreamReport, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run::run(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_as_http_does() {
        let from = |first, last| ObjectRange::From { first, last };
        assert_eq!(from(0, Some(9)).resolve(100).unwrap(), 0..10);
        assert_eq!(from(90, Some(1000)).resolve(100).unwrap(), 90..100);
        assert_eq!(from(10, None).resolve(100).unwrap(), 10..100);
        assert_eq!(ObjectRange::Last(30).resolve(100).unwrap(), 70..100);
        assert_eq!(ObjectRange::Last(300).resolve(100).unwrap(), 0..100);
        assert_eq!(from(99, Some(99)).resolve(100).unwrap(), 99..100);
        for (range, size) in [
            (from(100, None), 100),
            (from(200, Some(300)), 100),
            (from(0, None), 0),
            (ObjectRange::Last(0), 100),
        ] {
            let e = range.resolve(size).unwrap_err().to_string();
            assert!(
                e.contains(&range.to_string()) && e.contains(&format!("{size} bytes")),
                "{e}"
            );
        }
        assert_eq!(from(5, Some(9)).to_string(), "bytes=5-9");
        assert_eq!(ObjectRange::Last(7).to_string(), "bytes=-7");
    }
}
