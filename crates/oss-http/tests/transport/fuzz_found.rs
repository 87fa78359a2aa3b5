//! The fuzz targets' reproducers (`fuzz/`, `cargo xtask fuzz`) replayed as regular tests on
//! stable: each reads its input from `fixtures/fuzz/regressions/` byte for byte, so the test
//! and the fuzz run can never disagree about what the input was.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use oss_http::{AddressingStyle, SignatureVersion};

use crate::common::{BUCKET, builder_for};
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
