//! Servers written to hurt the client, not the emulator: every answer is canned bytes, so a
//! test can send what no OSS (and no well-behaved emulator) would.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use oss_http::{AddressingStyle, Error, RetryReason, SignatureVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{BUCKET, builder_for};

/// A server on 127.0.0.1 that reads each request head and answers it with `respond(n)` (n
/// counts requests from 1), then closes the connection. Returns its port and the request
/// count.
pub async fn canned_server(
    respond: impl Fn(u64) -> Vec<u8> + Send + Sync + 'static,
) -> (u16, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&count);
    let respond = Arc::new(respond);
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let respond = Arc::clone(&respond);
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                let _ = tcp.write_all(&respond(n)).await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    (port, count)
}

/// An OSS error answer with this status line, `Date` and error document (in the body, and
/// base64 in `x-oss-err` as OSS sends it for HEAD, whose answers have no body).
pub fn oss_error(status: &str, date: &str, code: &str, message: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>5C3D9175B6FC201293AD4890</RequestId><HostId>bkt.oss-cn-hangzhou.aliyuncs.com</HostId></Error>"
    );
    let err = base64::engine::general_purpose::STANDARD.encode(&body);
    format!(
        "HTTP/1.1 {status}\r\nDate: {date}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nx-oss-request-id: 5C3D9175B6FC201293AD4890\r\nx-oss-err: {err}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A `RequestTimeTooSkewed` whose `Date` is the last second of year 9999 must neither move
/// the client's clock to it (signing a later request then overflowed the date formatter: a
/// panic, exit 101 in ossget) nor be retried: it is refused as a clock error that names the
/// server's `Date`. Any correction of more than a day is refused the same way.
#[tokio::test]
async fn a_clock_correction_to_year_9999_is_refused_not_a_panic() {
    for date in [
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "Sat, 01 Jan 2000 00:00:00 GMT",
    ] {
        let (port, requests) = canned_server(move |_| {
            oss_error(
                "403 Forbidden",
                date,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
        })
        .await;
        for version in [SignatureVersion::V4, SignatureVersion::V1] {
            let client = builder_for(port, AddressingStyle::Path, version)
                .build()
                .unwrap();
            for _ in 0..3 {
                let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
                let service = e.service().unwrap_or_else(|| panic!("{e:?}"));
                assert_eq!(service.code, "RequestTimeTooSkewed");
                assert!(!service.clock_corrected, "{date}: {e}");
                assert_eq!(e.retry_reason(), None, "{date}: {e}");
                let text = e.to_string();
                assert!(text.contains(date), "the server's Date is named: {text}");
                assert!(text.contains("more than 24 h"), "{text}");
                assert_eq!(client.clock_offset_ms(), 0, "{date}");
            }
        }
        assert_eq!(requests.load(Ordering::SeqCst), 6);
    }
}

/// A skew within a day is still corrected (the emulator's test covers 20 minutes; here the
/// edge: 23 hours ahead), and the retry after it is dated with the corrected clock.
#[tokio::test]
async fn a_clock_correction_within_a_day_is_applied() {
    let ahead = std::time::SystemTime::now() + std::time::Duration::from_secs(23 * 3600);
    let date = httpdate::fmt_http_date(ahead);
    let (port, _) = canned_server(move |_| {
        oss_error(
            "403 Forbidden",
            &date,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        )
    })
    .await;
    let client = builder_for(port, AddressingStyle::Path, SignatureVersion::V4)
        .build()
        .unwrap();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    assert_eq!(
        e.retry_reason(),
        Some(RetryReason::ClockSkewCorrected),
        "{e}"
    );
    let offset = client.clock_offset_ms();
    assert!(
        (22 * 3_600_000..24 * 3_600_000).contains(&offset),
        "{offset}"
    );
    assert!(!matches!(e, Error::InvalidRequest { .. }));
}

/// Dating a request is total: a clock past year 9999 (where a `Date` header has no
/// four-digit year) is an error that names the problem, never a panic in the request path.
#[tokio::test]
async fn a_clock_past_year_9999_is_an_error_not_a_panic() {
    let (port, requests) = canned_server(|_| b"HTTP/1.1 500 Nope\r\n\r\n".to_vec()).await;
    let year_10000 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_800);
    for clock in [
        year_10000,
        std::time::UNIX_EPOCH - std::time::Duration::from_secs(1),
    ] {
        let client = builder_for(port, AddressingStyle::Path, SignatureVersion::V1)
            .clock(move || clock)
            .build()
            .unwrap();
        let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
        assert!(matches!(e, Error::InvalidRequest { .. }), "{e:?}");
        assert!(e.to_string().contains("clock"), "{e}");
    }
    assert_eq!(requests.load(Ordering::SeqCst), 0, "nothing was sent");
}

/// An `https://` endpoint (or one written without a scheme, which means https) in front of
/// a plain-HTTP server: rustls sees an HTTP answer where a TLS record should be. The error
/// says the server does not speak TLS and suggests `http://`, instead of blaming
/// certificates.
#[tokio::test]
async fn a_plain_http_server_behind_an_https_endpoint_is_named_as_such() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = tcp.read(&mut buf).await; // the ClientHello
                let _ = tcp
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    for endpoint in [
        format!("https://127.0.0.1:{port}"),
        format!("127.0.0.1:{port}"),
    ] {
        let client = oss_http::Client::builder()
            .endpoint(&endpoint)
            .anonymous()
            .build()
            .unwrap();
        let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
        assert!(matches!(e, Error::NotTls { .. }), "{endpoint}: {e:?}");
        let text = e.to_string();
        assert!(text.contains(&format!("http://127.0.0.1:{port}")), "{text}");
        assert!(!text.contains("certificate"), "{text}");
        assert_eq!(e.retry_reason(), None, "{e}");
    }
}

/// A server (or a proxy's error page) that echoes the request head in its error message: the
/// secret and the STS token that signed the request are redacted from the error before any
/// caller can print it, whichever source the credentials came from.
#[tokio::test]
async fn an_echoed_security_token_is_redacted_from_the_error() {
    const SECRET: &str = "Echoed-Secret-Of-The-Signer";
    const TOKEN: &str = "CAIS-Echoed-Security-Token-Value";
    let (port, _) = canned_server(|_| {
        oss_error(
            "400 Bad Request",
            "Sat, 01 Jan 2000 00:00:00 GMT",
            "InvalidArgument",
            &format!("you sent x-oss-security-token: {TOKEN} signed with {SECRET}"),
        )
    })
    .await;
    let creds = oss_http::Credentials::new("STS.id", SECRET)
        .unwrap()
        .with_security_token(TOKEN)
        .unwrap();
    let client = builder_for(port, AddressingStyle::Path, SignatureVersion::V4)
        .credentials(creds)
        .build()
        .unwrap();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(!shown.contains(TOKEN) && !shown.contains(SECRET), "{shown}");
}
