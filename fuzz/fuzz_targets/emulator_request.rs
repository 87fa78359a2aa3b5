//! The emulator's side of a request: the HTTP/1.1 framer the chaos proxy and the streaming
//! server run over raw bytes, and a request head's way through the model (addressing,
//! authentication — V1/V4 headers and presigned queries, parsed by oss-sign's `verify` —
//! access, versions, conditions, ranges), as the streaming server hands it over.
//!
//! Each input is a byte stream: framed as requests and as responses (whole and in small
//! pieces), and parsed as one request head for the model.
//!
//! Properties beyond "no panic":
//! - the framer accounts for every byte exactly once, always makes progress, and classifies
//!   the stream the same however it is split into reads;
//! - the model's answers are ones oss-http accepts as well-formed: a `206` whose
//!   `Content-Range` passes the client's strict check and matches the body it sends, a
//!   `Content-Length` equal to the body, and every error an OSS error document (body, or
//!   `x-oss-err` on HEAD) whose `<Code>` is the one the model meant;
//! - GET and HEAD change nothing: the same request answered twice gets the same status.
#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use http::{Method, StatusCode};
use libfuzzer_sys::fuzz_target;
use oss_emulator::fuzzing::{Framer, Side, Span};
use oss_emulator::{Emulator, ModelResponse, RequestParts, ResponseBody};
use oss_http::fuzzing::{check_partial_response, parse_content_range, parse_error_document};
use oss_resume_fuzz::request_head;

fuzz_target!(|data: &[u8]| {
    framing(Side::Request, data);
    framing(Side::Response, data);

    let Some(req) = request_head(data) else {
        return;
    };
    let model = model();
    let first = model.handle(&req);
    check_response(&req, &first);
    let again = model.handle(&req);
    assert_eq!(
        first.status, again.status,
        "the same request answered differently"
    );
    // Per-request counters would grow with every new key the fuzzer makes up.
    model.reset_counters();
});

/// What the framer makes of `data`, one entry per byte: the kind of span it fell in and,
/// for body bytes, its payload offset.
fn framing(side: Side, data: &[u8]) {
    let whole = classify(side, data, data.len().max(1));
    // A short read size derived from the input, and one byte at a time for short inputs.
    let step = usize::from(data.first().copied().unwrap_or(0) % 13) + 1;
    assert_eq!(
        whole,
        classify(side, data, step),
        "split every {step} bytes"
    );
    if data.len() <= 512 {
        assert_eq!(whole, classify(side, data, 1), "split every byte");
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Byte {
    Head,
    Body(u64),
    Framing,
    Unframed,
}

fn classify(side: Side, data: &[u8], step: usize) -> Vec<Byte> {
    let mut framer = Framer::new(side);
    // Responses alternate between answering a GET and a HEAD (no body).
    let mut heads = 0u64;
    let mut bodyless = move || {
        heads += 1;
        heads % 2 == 0
    };
    let mut out = Vec::with_capacity(data.len());
    for piece in data.chunks(step) {
        let mut rest = piece;
        while !rest.is_empty() {
            let span = framer.next_span(rest, &mut bodyless);
            let len = match span {
                Span::Head { len, .. } => {
                    out.extend(std::iter::repeat_n(Byte::Head, len));
                    len
                }
                Span::Body { len, offset } => {
                    out.extend((0..len as u64).map(|i| Byte::Body(offset + i)));
                    len
                }
                Span::Framing { len } => {
                    out.extend(std::iter::repeat_n(Byte::Framing, len));
                    len
                }
                Span::Unframed { len } => {
                    out.extend(std::iter::repeat_n(Byte::Unframed, len));
                    len
                }
            };
            assert!(len > 0, "the framer made no progress");
            assert!(
                len <= rest.len(),
                "the framer claimed {len} of {} bytes",
                rest.len()
            );
            rest = &rest[len..];
        }
    }
    assert_eq!(out.len(), data.len());
    out
}

/// The model, built once (`oss_resume_fuzz::model`).
fn model() -> &'static Emulator {
    static MODEL: OnceLock<Emulator> = OnceLock::new();
    MODEL.get_or_init(oss_resume_fuzz::model)
}

fn header<'a>(resp: &'a ModelResponse, name: &str) -> Option<&'a str> {
    resp.headers.get(name).and_then(|v| v.to_str().ok())
}

fn check_response(req: &RequestParts, resp: &ModelResponse) {
    if req.raw_path == "/-/stats" {
        return;
    }
    let status = resp.status;
    let is_head = req.method == Method::HEAD;
    if let Some(code) = &resp.error_code {
        assert!(status.as_u16() >= 300, "error {code} with status {status}");
        let document = match &resp.body {
            ResponseBody::Bytes(xml) => parse_error_document(&String::from_utf8_lossy(xml)),
            ResponseBody::Empty if is_head => header(resp, "x-oss-err").and_then(|b64| {
                let xml = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
                parse_error_document(&String::from_utf8_lossy(&xml))
            }),
            other => panic!("error {code} with a body {other:?}"),
        };
        let document = document.unwrap_or_else(|| panic!("error {code}: no error document"));
        assert_eq!(
            &document.code, code,
            "the error document names another code"
        );
        return;
    }
    if !is_head
        && let (Some(length), Some(exact)) = (header(resp, "content-length"), resp.body.exact_len())
    {
        assert_eq!(
            length.parse::<u64>().ok(),
            Some(exact),
            "Content-Length vs the body"
        );
    }
    if status == StatusCode::PARTIAL_CONTENT {
        let text = header(resp, "content-range").expect("206 without Content-Range");
        let (range, total) = parse_content_range(text)
            .unwrap_or_else(|| panic!("the client refuses Content-Range `{text}`"));
        check_partial_response(status, &resp.headers, range, total)
            .unwrap_or_else(|e| panic!("the client refuses the 206: {e}"));
        if let ResponseBody::Content {
            content,
            offset,
            len,
            gzip: false,
            ..
        } = &resp.body
        {
            assert_eq!(
                (*offset, *len),
                (range.start(), range.len()),
                "body vs Content-Range"
            );
            assert_eq!(content.len(), total, "Content-Range total vs the object");
        }
    }
    if let ResponseBody::Content {
        content,
        offset,
        len,
        ..
    } = &resp.body
    {
        assert!(
            offset
                .checked_add(*len)
                .is_some_and(|end| end <= content.len()),
            "a body past the object's end"
        );
    }
}
