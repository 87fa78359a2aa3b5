//! The fuzz targets' reproducers (`fuzz/`, `cargo xtask fuzz`) replayed as regular tests on
//! stable: each reads its input from `fixtures/fuzz/regressions/` byte for byte, so the test
//! and the fuzz run can never disagree about what the input was.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use oss_http::{AddressingStyle, SignatureVersion};

use crate::common::{BUCKET, builder_for, chain};
use crate::hostile::canned_server;

/// A reproducer of the `client_response` target, as the target splits it: raw HTTP
/// responses separated by `\n~~~~\n`, served in turn.
fn client_response_script(name: &str) -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/fuzz/regressions/client_response/"
    );
    let data = std::fs::read(format!("{path}{name}")).unwrap();
    let separator: &[u8] = b"\n~~~~\n";
    let mut script = Vec::new();
    let mut rest = &data[..];
    while let Some(at) = rest.windows(separator.len()).position(|w| w == separator) {
        script.push(rest[..at].to_vec());
        rest = &rest[at + separator.len()..];
    }
    script.push(rest.to_vec());
    script
}

/// `client_response/year-9999-skew` (issue 21, defect 1): a HEAD answered
/// `403 RequestTimeTooSkewed` with `Date: Fri, 31 Dec 9999 23:59:59 GMT`. Before the clock
/// correction was bounded, the client took that `Date` as its clock, and the next HEAD, a
/// second later by the target's clock, formatted a `Date` in year 10000: `httpdate` panicked.
/// The client's clock here moves a second at every reading, as the target's does. Both HEADs
/// the target makes must end in an error, the correction refused and the clock untouched.
#[tokio::test]
async fn year_9999_skew_is_refused_not_a_panic() {
    let script = client_response_script("year-9999-skew");
    assert_eq!(script.len(), 1, "one scripted answer");
    let answer = script[0].clone();
    let (port, requests) = canned_server(move |_| answer.clone()).await;
    let now = Arc::new(AtomicU64::new(1_705_303_800 - 3600));
    let client = builder_for(port, AddressingStyle::Path, SignatureVersion::V4)
        .clock(move || {
            SystemTime::UNIX_EPOCH + Duration::from_secs(now.fetch_add(1, Ordering::SeqCst))
        })
        .build()
        .unwrap();
    // Both HEADs first, each on its own task, so a panic in the request path is reported as
    // such (with the input's name) before any assertion on the answers.
    let mut answers = Vec::new();
    for _ in 0..2 {
        let head = tokio::spawn({
            let client = client.clone();
            async move { client.head_object(BUCKET, "k", None).await.map(|_| ()) }
        })
        .await;
        answers.push(head.expect("year-9999-skew: the HEAD panicked"));
    }
    for answer in answers {
        let e = answer.expect_err("a 403 answer is an error");
        let service = e.service().unwrap_or_else(|| panic!("{e:?}"));
        assert_eq!(service.code, "RequestTimeTooSkewed");
        assert!(!service.clock_corrected, "{e}");
    }
    assert_eq!(client.clock_offset_ms(), 0);
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

/// The credentials the `client_response` target signs with (`fuzz/fuzz_targets/`).
const TARGET_SECRET: &str = "client-fuzz-Secret-0a1b2c3d";
const TARGET_TOKEN: &str = "client-fuzz-token";

/// The error of one HEAD answered by `answer`, signed with the target's credentials, and the
/// whole of its text: `Display` and `Debug` along the source chain.
async fn head_error_text(answer: Vec<u8>) -> String {
    let (port, _) = canned_server(move |_| answer.clone()).await;
    let credentials = oss_http::Credentials::new("LTAIclientfuzz", TARGET_SECRET)
        .and_then(|c| c.with_security_token(TARGET_TOKEN))
        .unwrap();
    let client = builder_for(port, AddressingStyle::Path, SignatureVersion::V4)
        .credentials(credentials)
        .build()
        .unwrap();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    format!("{} {e:?}", chain(&e))
}

/// `client_response/secret-echoed-in-x-oss-ec` (found by `cargo xtask fuzz` on 2026-12-06,
/// 19 s into the run): a `404` HEAD whose `x-oss-ec` header carries the access key secret.
/// Only `<Message>` was redacted; the `EC`, request id, host id, code and details went into
/// the error as the server sent them. A server cannot know the secret, but it does see the
/// STS token (`x-oss-security-token`), and one that echoes the request puts it in any field:
/// the second answer does that in every header and element the error keeps.
#[tokio::test]
async fn secrets_echoed_in_any_error_field_are_redacted() {
    let script = client_response_script("secret-echoed-in-x-oss-ec");
    let text = head_error_text(script[0].clone()).await;
    assert!(!text.contains(TARGET_SECRET), "the secret in: {text}");
    assert!(text.contains("<redacted>"), "{text}");

    let echo = format!("x-oss-security-token: {TARGET_TOKEN}");
    let body = format!(
        "<Error><Code>AccessDenied {echo}</Code><Message>denied</Message><RequestId>{echo}</RequestId><HostId>{echo}</HostId><EC>{echo}</EC><Header>{echo}</Header></Error>"
    );
    // A HEAD answer has no body: OSS sends the document base64 in `x-oss-err`.
    let err = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&body)
    };
    let answer = format!("HTTP/1.1 403 Forbidden\r\nx-oss-err: {err}\r\nContent-Length: 0\r\n\r\n");
    let text = head_error_text(answer.into_bytes()).await;
    assert!(!text.contains(TARGET_TOKEN), "the STS token in: {text}");
    assert!(text.contains("<redacted>"), "{text}");
}

/// `client_response/secret-echoed-in-etag` (found by `cargo xtask fuzz` on 2026-12-06): a
/// HEAD, then a ranged GET whose `ETag` carries the secret. The ETag differs from the pinned
/// one, so the GET fails with `ObjectChanged`, whose text quoted the server's ETag as sent.
/// Every error after the response arrives now has the signing credentials cleared from the
/// server's text; the second half echoes the STS token in the ETag and the request id.
#[tokio::test]
async fn secrets_echoed_in_a_get_answer_are_redacted() {
    let script = client_response_script("secret-echoed-in-etag");
    assert!(script.len() >= 2, "a HEAD and a GET answer");
    let echo = format!("x-oss-security-token: {TARGET_TOKEN}");
    let token_get = String::from_utf8(script[1].clone())
        .unwrap()
        .replace(TARGET_SECRET, &echo)
        .replacen("etag:", &format!("x-oss-request-id: {echo}\r\netag:"), 1);
    for get_answer in [script[1].clone(), token_get.into_bytes()] {
        let answers = [script[0].clone(), get_answer];
        let (port, _) = canned_server(move |n| answers[(n as usize).clamp(1, 2) - 1].clone()).await;
        let credentials = oss_http::Credentials::new("LTAIclientfuzz", TARGET_SECRET)
            .and_then(|c| c.with_security_token(TARGET_TOKEN))
            .unwrap();
        let client = builder_for(port, AddressingStyle::Path, SignatureVersion::V4)
            .credentials(credentials)
            .build()
            .unwrap();
        let meta = client.head_object(BUCKET, "k", None).await.unwrap();
        let pin = meta.pin();
        let range = oss_http::ByteRange::inclusive(0, meta.size - 1).unwrap();
        let mut sink = oss_http::Collect::default();
        let e = client
            .get_range(
                &oss_http::GetRange::new(BUCKET, "k", &pin, range),
                &mut sink,
                None,
            )
            .await
            .unwrap_err();
        assert!(e.is_object_changed(), "{e:?}");
        let text = format!("{} {e:?}", chain(&e));
        assert!(!text.contains(TARGET_SECRET), "the secret in: {text}");
        assert!(!text.contains(TARGET_TOKEN), "the STS token in: {text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}
