//! The model's answer, independent of the front-end that sends it.

use std::io::Write as _;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::content::Content;

/// Bytes per chunk when a body is generated (the streaming server sends one frame per chunk).
pub const CHUNK_SIZE: usize = 256 * 1024;

/// A response body: nothing, fixed bytes, or a slice of object content produced on demand.
#[derive(Clone, Debug)]
pub enum ResponseBody {
    /// No body (HEAD, 304).
    Empty,
    /// Fixed bytes (error XML, stats JSON, small things).
    Bytes(Bytes),
    /// `len` bytes of `content` from `offset`, generated chunk by chunk.
    Content {
        /// The object's content.
        content: Content,
        /// First byte.
        offset: u64,
        /// Number of bytes.
        len: u64,
        /// A fault: flip the bits of the byte at this offset *within the body*.
        corrupt_at: Option<u64>,
        /// OSS's on-the-fly gzip of text types (the gzip quirk).
        gzip: bool,
    },
}

impl ResponseBody {
    /// The exact length when known before sending (not for gzip).
    pub fn exact_len(&self) -> Option<u64> {
        match self {
            ResponseBody::Empty => Some(0),
            ResponseBody::Bytes(b) => Some(b.len() as u64),
            ResponseBody::Content { len, gzip, .. } => (!gzip).then_some(*len),
        }
    }

    /// Turns the body into a chunk source.
    pub fn into_chunks(self) -> BodyChunks {
        BodyChunks {
            body: self,
            pos: 0,
            gzip: None,
            done: false,
        }
    }

    /// The whole body in memory (for the wiremock front-end and small tests).
    pub fn collect(self) -> Vec<u8> {
        let mut out = Vec::new();
        for c in self.into_chunks() {
            out.extend_from_slice(&c);
        }
        out
    }
}

/// An iterator over body chunks (generated lazily, at most [`CHUNK_SIZE`] each).
pub struct BodyChunks {
    body: ResponseBody,
    pos: u64,
    gzip: Option<flate2::write::GzEncoder<Vec<u8>>>,
    done: bool,
}

impl std::fmt::Debug for BodyChunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyChunks")
            .field("pos", &self.pos)
            .finish()
    }
}

impl Iterator for BodyChunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        match &self.body {
            ResponseBody::Empty => {
                self.done = true;
                None
            }
            ResponseBody::Bytes(b) => {
                self.done = true;
                (!b.is_empty()).then(|| b.clone())
            }
            ResponseBody::Content {
                content,
                offset,
                len,
                corrupt_at,
                gzip,
            } => loop {
                if self.pos >= *len {
                    self.done = true;
                    if *gzip {
                        let enc = self.gzip.take().unwrap_or_else(new_gzip);
                        let out = enc.finish().unwrap_or_default();
                        return (!out.is_empty()).then(|| Bytes::from(out));
                    }
                    return None;
                }
                let n = (*len - self.pos).min(CHUNK_SIZE as u64) as usize;
                let mut buf = vec![0u8; n];
                content.read_at(offset + self.pos, &mut buf);
                if let Some(at) = corrupt_at
                    && *at >= self.pos
                    && let Some(b) = buf.get_mut((*at - self.pos) as usize)
                {
                    *b ^= 0xFF;
                }
                self.pos += n as u64;
                if !*gzip {
                    return Some(Bytes::from(buf));
                }
                let enc = self.gzip.get_or_insert_with(new_gzip);
                let _ = enc.write_all(&buf);
                let out = std::mem::take(enc.get_mut());
                if !out.is_empty() {
                    return Some(Bytes::from(out));
                }
            },
        }
    }
}

fn new_gzip() -> flate2::write::GzEncoder<Vec<u8>> {
    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast())
}

/// What the model answers: status, headers, body, and how the front-end should pace it.
#[derive(Clone, Debug)]
pub struct ModelResponse {
    /// Status code.
    pub status: StatusCode,
    /// Headers (including `Content-Length` when the body length is known, and for HEAD).
    pub headers: HeaderMap,
    /// Body.
    pub body: ResponseBody,
    /// Wait this long before sending the response head (a first-byte-delay fault).
    pub first_byte_delay: Option<Duration>,
    /// Pace the body at this many bytes per second (`x-oss-traffic-limit`, streaming server
    /// only).
    pub rate_limit: Option<u64>,
    /// The OSS error code when this is an error response.
    pub error_code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn gzip_body_decodes_to_the_content() {
        let content = Content::synthetic(600_000, 5);
        let body = ResponseBody::Content {
            content: content.clone(),
            offset: 0,
            len: 600_000,
            corrupt_at: None,
            gzip: true,
        };
        let gz = body.collect();
        let mut dec = flate2::read::GzDecoder::new(gz.as_slice());
        let mut out = Vec::new();
        dec.read_to_end(&mut out).unwrap();
        assert_eq!(out, content.slice(0, 600_000).to_vec());
    }

    #[test]
    fn corrupt_flips_exactly_one_byte() {
        let content = Content::synthetic(CHUNK_SIZE as u64 * 2, 5);
        let at = CHUNK_SIZE as u64 + 3;
        let body = ResponseBody::Content {
            content: content.clone(),
            offset: 10,
            len: CHUNK_SIZE as u64,
            corrupt_at: Some(at - 10),
            gzip: false,
        };
        let got = body.collect();
        let want = content.slice(10, CHUNK_SIZE);
        let diffs: Vec<usize> = (0..got.len()).filter(|i| got[*i] != want[*i]).collect();
        assert_eq!(diffs, vec![(at - 10) as usize]);
    }
}
