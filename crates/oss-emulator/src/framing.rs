//! Incremental HTTP/1.1 message framing: tells, byte by byte, which bytes of a stream are
//! a message head, body payload, or chunked-encoding framing. The chaos proxy uses it to act
//! at exact body offsets; the streaming server uses it to count body bytes as they leave
//! for the socket.
//!
//! (Its types are `pub` only for [`crate::fuzzing`]; the module itself is private.)

use std::collections::VecDeque;

/// Which direction a framer parses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Client to server.
    Request,
    /// Server to client.
    Response,
}

/// A parsed message head.
#[derive(Clone, Debug, Default)]
pub struct Head {
    /// Status (responses).
    pub status: u16,
    /// Method (requests).
    pub method: String,
    /// Path (requests).
    pub path: String,
    /// Declared Content-Length.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding: chunked`.
    pub chunked: bool,
}

/// One classified run of bytes.
#[derive(Clone, Debug)]
pub enum Span {
    /// Bytes of a head.
    Head {
        /// How many.
        len: usize,
        /// `Some` when these bytes complete the head.
        complete: Option<Head>,
    },
    /// Bytes of body payload.
    Body {
        /// How many.
        len: usize,
        /// The payload offset of the first of them, within the message's body.
        offset: u64,
    },
    /// Bytes of chunked framing (sizes, CRLFs, trailers).
    Framing {
        /// How many.
        len: usize,
    },
    /// Bytes that cannot be framed (garbage after an error); passed through.
    Unframed {
        /// How many.
        len: usize,
    },
}

#[derive(Clone, Debug)]
enum State {
    Head,
    Length { remaining: u64 },
    ChunkSize { line: Vec<u8> },
    ChunkData { remaining: u64 },
    ChunkDataEnd { remaining: u8 },
    Trailer { line: Vec<u8> },
    UntilClose,
    Broken,
}

/// The framing state of one direction of one connection.
#[derive(Debug)]
pub struct Framer {
    side: Side,
    state: State,
    head: Vec<u8>,
    body_offset: u64,
    /// Messages whose head has been seen.
    pub messages: u64,
}

impl Framer {
    /// A framer at the start of a stream, before its first message.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            state: State::Head,
            head: Vec::new(),
            body_offset: 0,
            messages: 0,
        }
    }

    /// True between messages (nothing partial buffered).
    pub(crate) fn at_message_start(&self) -> bool {
        matches!(self.state, State::Head) && self.head.is_empty()
    }

    /// Classifies the first bytes of `data` (non-empty). For responses, `bodyless` is asked,
    /// once per final response, whether the matching request was a HEAD (no body).
    pub fn next_span(&mut self, data: &[u8], bodyless: &mut dyn FnMut() -> bool) -> Span {
        match &mut self.state {
            State::Head => self.head_span(data, bodyless),
            State::Length { remaining } => {
                let n = (*remaining).min(data.len() as u64);
                *remaining -= n;
                if *remaining == 0 {
                    self.state = State::Head;
                }
                self.body_span(n)
            }
            State::UntilClose => self.body_span(data.len() as u64),
            State::ChunkSize { line } => {
                let (take, complete) = take_line(line, data);
                if complete {
                    self.state = match chunk_size(line) {
                        Some(0) => State::Trailer { line: Vec::new() },
                        Some(n) => State::ChunkData { remaining: n },
                        None => State::Broken,
                    };
                }
                Span::Framing { len: take }
            }
            State::ChunkData { remaining } => {
                let n = (*remaining).min(data.len() as u64);
                *remaining -= n;
                if *remaining == 0 {
                    self.state = State::ChunkDataEnd { remaining: 2 };
                }
                self.body_span(n)
            }
            State::ChunkDataEnd { remaining } => {
                let n = usize::from(*remaining).min(data.len());
                *remaining -= n as u8;
                if *remaining == 0 {
                    self.state = State::ChunkSize { line: Vec::new() };
                }
                Span::Framing { len: n }
            }
            State::Trailer { line } => {
                let (take, complete) = take_line(line, data);
                if complete {
                    // An empty line ends the trailer (and the message).
                    if line.as_slice() == b"\r\n" || line.as_slice() == b"\n" {
                        self.state = State::Head;
                    } else {
                        line.clear();
                    }
                }
                Span::Framing { len: take }
            }
            State::Broken => Span::Unframed { len: data.len() },
        }
    }

    /// `len` payload bytes at the current body offset, which moves past them.
    fn body_span(&mut self, len: u64) -> Span {
        let offset = self.body_offset;
        self.body_offset += len;
        Span::Body {
            len: len as usize,
            offset,
        }
    }

    /// In `State::Head`: buffers head bytes up to the blank line; once it is there, parses
    /// the head and moves to the state its body framing calls for.
    fn head_span(&mut self, data: &[u8], bodyless: &mut dyn FnMut() -> bool) -> Span {
        let end = self.head_end(data);
        let take = end.unwrap_or(data.len());
        self.head
            .extend_from_slice(data.get(..take).unwrap_or_default());
        if end.is_none() {
            if self.head.len() > 64 * 1024 {
                self.state = State::Broken;
            }
            return Span::Head {
                len: take,
                complete: None,
            };
        }
        let raw = std::mem::take(&mut self.head);
        let Some(head) = parse_head(self.side, &raw) else {
            self.state = State::Broken;
            return Span::Head {
                len: take,
                complete: Some(Head::default()),
            };
        };
        if self.side == Side::Response && (100..200).contains(&head.status) {
            // Interim response: another head follows.
            return Span::Head {
                len: take,
                complete: Some(head),
            };
        }
        self.messages += 1;
        self.body_offset = 0;
        self.state = self.body_state(&head, bodyless);
        Span::Head {
            len: take,
            complete: Some(head),
        }
    }

    /// How many bytes of `data` complete the head (through its `\r\n\r\n`), looking back
    /// over what is buffered; `None` when the head goes on past `data`.
    fn head_end(&self, data: &[u8]) -> Option<usize> {
        let already = self.head.len();
        let get = |j: usize| -> u8 {
            if j < already {
                self.head.get(j).copied().unwrap_or(0)
            } else {
                data.get(j - already).copied().unwrap_or(0)
            }
        };
        // Leading CRLFs between messages are allowed (RFC 7230 3.5).
        (0..data.len())
            .find(|i| {
                let total = already + i + 1;
                total >= 4
                    && get(total - 4) == b'\r'
                    && get(total - 3) == b'\n'
                    && get(total - 2) == b'\r'
                    && get(total - 1) == b'\n'
            })
            .map(|i| i + 1)
    }

    /// The state after a final head: its body framed by length or chunks, read until
    /// close, or no body at all (HEAD, 204, 304, a request without a body).
    fn body_state(&self, head: &Head, bodyless: &mut dyn FnMut() -> bool) -> State {
        let no_body = match self.side {
            Side::Response => {
                let was_head = bodyless();
                was_head || head.status == 204 || head.status == 304
            }
            Side::Request => !head.chunked && head.content_length.unwrap_or(0) == 0,
        };
        if no_body {
            State::Head
        } else if head.chunked {
            State::ChunkSize { line: Vec::new() }
        } else {
            match head.content_length {
                Some(0) => State::Head,
                Some(n) => State::Length { remaining: n },
                None => State::UntilClose,
            }
        }
    }
}

/// Appends `data` up to and including its first `\n` to `line`: how many bytes that took,
/// and whether the line is now complete.
fn take_line(line: &mut Vec<u8>, data: &[u8]) -> (usize, bool) {
    let (take, complete) = match data.iter().position(|&b| b == b'\n') {
        Some(p) => (p + 1, true),
        None => (data.len(), false),
    };
    line.extend_from_slice(data.get(..take).unwrap_or_default());
    (take, complete)
}

/// A chunk-size line's size (extensions after `;` ignored), or `None` when it is not hex.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(line);
    let size_hex = text.trim().split(';').next().unwrap_or_default().trim();
    u64::from_str_radix(size_hex, 16).ok()
}

fn parse_head(side: Side, raw: &[u8]) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 96];
    let mut head = Head::default();
    let hs: &[httparse::Header<'_>] = match side {
        Side::Response => {
            let mut r = httparse::Response::new(&mut headers);
            match r.parse(raw) {
                Ok(httparse::Status::Complete(_)) => {}
                _ => return None,
            }
            head.status = r.code?;
            r.headers
        }
        Side::Request => {
            let mut r = httparse::Request::new(&mut headers);
            match r.parse(raw) {
                Ok(httparse::Status::Complete(_)) => {}
                _ => return None,
            }
            head.method = r.method?.to_owned();
            head.path = r.path?.to_owned();
            r.headers
        }
    };
    for h in hs {
        if h.name.eq_ignore_ascii_case("content-length") {
            head.content_length = std::str::from_utf8(h.value).ok()?.trim().parse().ok();
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = String::from_utf8_lossy(h.value)
                .to_ascii_lowercase()
                .contains("chunked");
        }
    }
    Some(head)
}

/// Requests seen on a connection, in order, that their responses are matched with.
#[derive(Debug, Default)]
pub(crate) struct RequestQueue {
    pending: VecDeque<PendingRequest>,
}

/// What the response framer needs to know about a request.
#[derive(Clone, Debug, Default)]
pub(crate) struct PendingRequest {
    pub(crate) is_head: bool,
    /// `/-/stats`: exempt from faults and counters.
    pub(crate) is_stats: bool,
    /// When its head reached the proxy (the link model's request-to-first-byte delay).
    pub(crate) arrived: Option<tokio::time::Instant>,
}

impl RequestQueue {
    pub(crate) fn push(&mut self, r: PendingRequest) {
        self.pending.push_back(r);
    }

    pub(crate) fn pop(&mut self) -> PendingRequest {
        self.pending.pop_front().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `data` in pieces of `step` and returns (head bytes, body bytes, framing bytes).
    fn classify(data: &[u8], step: usize, heads: &[bool]) -> (usize, Vec<u8>, usize, u64) {
        let mut f = Framer::new(Side::Response);
        let mut q: VecDeque<bool> = heads.iter().copied().collect();
        let (mut h, mut body, mut fr) = (0, Vec::new(), 0);
        for piece in data.chunks(step) {
            let mut rest = piece;
            while !rest.is_empty() {
                let span = f.next_span(rest, &mut || q.pop_front().unwrap_or(false));
                let n = match span {
                    Span::Head { len, .. } => {
                        h += len;
                        len
                    }
                    Span::Body { len, .. } => {
                        body.extend_from_slice(&rest[..len]);
                        len
                    }
                    Span::Framing { len, .. } | Span::Unframed { len } => {
                        fr += len;
                        len
                    }
                };
                rest = &rest[n..];
            }
        }
        (h, body, fr, f.messages)
    }

    #[test]
    fn content_length_chunked_and_head_responses() {
        let r1 = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        let r2 = b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n"; // answer to HEAD
        let r3 = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let r4 = b"HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n";
        let all = [&r1[..], r2, r3, r4].concat();
        for step in [1, 2, 3, 7, 1000] {
            let (h, body, fr, n) = classify(&all, step, &[false, true, false, false]);
            assert_eq!(body, b"helloabcde", "step {step}");
            assert_eq!(n, 4);
            assert_eq!(h + body.len() + fr, all.len());
        }
    }
}
