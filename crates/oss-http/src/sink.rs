//! Where a ranged GET's bytes go.
//!
//! A [`ByteSink`] receives the body in order, as owned [`Bytes`] chunks (no copy: they are the
//! buffers hyper read into), each with its absolute object offset. Its `write` is async: until
//! it completes, no more bytes are read from the socket, so a sink applies back-pressure simply
//! by not completing — TCP flow control then slows the server. A chunk is *delivered* once
//! `write` returns `Ok`; that is what [`crate::Error::delivered`] counts.
//!
//! The caller implements the sink for wherever its bytes go (oss-resume's coalesces chunks into
//! positional writes on tokio's blocking pool); memory per request is then bounded by what the
//! sink holds plus the largest chunk (see [`crate::GetRange::max_chunk`]). [`Discard`] and
//! [`Collect`] are the two sinks this crate ships, for benchmarks and tests.

use std::future::Future;

use bytes::Bytes;

/// The destination of a ranged GET's body.
pub trait ByteSink: Send {
    /// The sink's own error (a closed channel, a disk error...).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Accepts `chunk`, whose first byte is at `offset` in the object. Chunks arrive in order
    /// and without gaps. Completing the future is accepting the bytes; delaying it is
    /// back-pressure.
    fn write(
        &mut self,
        offset: u64,
        chunk: Bytes,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

impl<S: ByteSink + ?Sized> ByteSink for &mut S {
    type Error = S::Error;

    fn write(
        &mut self,
        offset: u64,
        chunk: Bytes,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        (**self).write(offset, chunk)
    }
}

/// A sink that drops every byte (benchmarks; pass a CRC-64 to `get_range` to hash them on
/// the way).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Discard {
    /// Bytes accepted so far.
    pub bytes: u64,
}

impl ByteSink for Discard {
    type Error = std::convert::Infallible;

    async fn write(&mut self, _offset: u64, chunk: Bytes) -> Result<(), Self::Error> {
        self.bytes += chunk.len() as u64;
        Ok(())
    }
}

/// A sink that keeps the bytes in memory (tests, small objects). Records where it started.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Collect {
    /// Offset of the first byte received, if any.
    pub start: Option<u64>,
    /// The bytes, in order.
    pub data: Vec<u8>,
    /// Size of each chunk received, in order.
    pub chunk_sizes: Vec<usize>,
}

/// A [`Collect`] sink received a chunk that does not continue the previous one. (Reachable as
/// `<Collect as ByteSink>::Error` only: a test sink's error is not part of the API.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("chunk at offset {got} does not continue the data, which ends at {expected}")]
pub struct Gap {
    /// Where the next chunk should have started.
    pub expected: u64,
    /// Where it started.
    pub got: u64,
}

impl ByteSink for Collect {
    type Error = Gap;

    async fn write(&mut self, offset: u64, chunk: Bytes) -> Result<(), Gap> {
        let start = *self.start.get_or_insert(offset);
        let expected = start + self.data.len() as u64;
        if offset != expected {
            return Err(Gap {
                expected,
                got: offset,
            });
        }
        self.chunk_sizes.push(chunk.len());
        self.data.extend_from_slice(&chunk);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn collect_checks_continuity() {
        let mut c = Collect::default();
        c.write(10, Bytes::from_static(b"abc")).await.unwrap();
        // Through the `&mut S` impl, as a caller holding a borrowed sink would.
        let mut borrowed: &mut Collect = &mut c;
        ByteSink::write(&mut borrowed, 13, Bytes::from_static(b"d"))
            .await
            .unwrap();
        assert_eq!(c.data, b"abcd");
        assert_eq!(
            c.write(20, Bytes::from_static(b"x")).await,
            Err(Gap {
                expected: 14,
                got: 20
            })
        );
    }
}
