//! Presigned URLs from the emulator (it verifies them with oss-sign): the client sends the
//! URL as it is, learns the object from its first byte (HEAD is not what the URL allows),
//! adds no `x-oss-*` header the signature would have to cover, and an expired URL is
//! OSS's `AccessDenied` with the expiry in its details.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method};
use oss_emulator::ObjectSpec;
use oss_http::{ByteRange, Client, Collect, GetRange, ObjectUrl, RequestHeaders};
use oss_sign::{
    AddressStyle, Credentials, Query, Resource, SignableRequest, SigningConfig, SigningTime, Slash,
    presign,
};

use crate::common::{AK, BUCKET, Env, SK, chain};

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 13 % 251) as u8).collect()
}

/// A presigned GET URL for `key`, signed `at` for `valid`.
fn url(env: &Env, key: &str, config: &SigningConfig, at: SystemTime, valid: Duration) -> String {
    let headers = HeaderMap::new();
    let req = SignableRequest::new(
        &Method::GET,
        Resource::object(BUCKET, key),
        Query::empty(),
        &headers,
    );
    let creds = Credentials::new(AK, SK).unwrap();
    let at = SigningTime::from_system_time(at).unwrap();
    presign(&req, config, &creds, at, valid).unwrap().url(
        "http",
        &format!("127.0.0.1:{}", env.port()),
        AddressStyle::Path,
        Slash::Keep,
    )
}

fn client(url: &str) -> Client {
    Client::builder()
        .presigned(ObjectUrl::parse(url).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn v1_and_v4_urls_download_without_credentials() {
    let env = Env::start().await;
    let body = data(70_000);
    env.emu
        .put_object(
            BUCKET,
            "dir/a b.bin",
            ObjectSpec::bytes(body.clone()).content_type("application/x-test"),
        )
        .unwrap();
    let info = env.emu.object_info(BUCKET, "dir/a b.bin").unwrap();
    for config in [SigningConfig::v1(), SigningConfig::v4("cn-test").unwrap()] {
        let text = url(
            &env,
            "dir/a b.bin",
            &config,
            SystemTime::now(),
            Duration::from_secs(600),
        );
        let c = client(&text);
        let meta = c.head_object(BUCKET, "dir/a b.bin", None).await.unwrap();
        assert_eq!(meta.size, body.len() as u64);
        assert_eq!(meta.etag, info.etag);
        assert_eq!(meta.crc64, info.crc64);
        assert_eq!(
            meta.other_headers.get("content-type").unwrap(),
            "application/x-test"
        );
        let pin = meta.pin();
        let mut sink = Collect::default();
        let get = GetRange::new(
            BUCKET,
            "dir/a b.bin",
            &pin,
            ByteRange::new(1000, 60_000).unwrap(),
        );
        c.get_range(&get, &mut sink, None).await.unwrap();
        assert_eq!(sink.data, body[1000..60_000]);
        // Another object through this URL: refused before anything is sent.
        let e = c.head_object(BUCKET, "other", None).await.unwrap_err();
        assert!(e.to_string().contains("reaches"), "{e}");
        // An x-oss-* header would break the signature: refused before anything is sent.
        let mut extra = RequestHeaders::new();
        extra.insert("x-oss-request-payer", "requester").unwrap();
        let e = c
            .head_object_with(BUCKET, "dir/a b.bin", None, &extra)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("x-oss-request-payer"), "{e}");
    }
}

#[tokio::test]
async fn an_empty_object_and_an_expired_url() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "empty", ObjectSpec::bytes(Vec::new()))
        .unwrap();
    let now = SystemTime::now();
    let text = url(
        &env,
        "empty",
        &SigningConfig::v1(),
        now,
        Duration::from_secs(600),
    );
    let meta = client(&text)
        .head_object(BUCKET, "empty", None)
        .await
        .unwrap();
    assert_eq!(meta.size, 0);

    // Whole seconds, as signing times are.
    let old = SystemTime::UNIX_EPOCH
        + Duration::from_secs(
            now.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                - 3600,
        );
    let text = url(
        &env,
        "empty",
        &SigningConfig::v4("cn-test").unwrap(),
        old,
        Duration::from_secs(60),
    );
    let parsed = ObjectUrl::parse(&text).unwrap();
    assert_eq!(
        parsed
            .expires_at()
            .map(|t| t.duration_since(old).unwrap().as_secs()),
        Some(60)
    );
    let e = client(&text)
        .head_object(BUCKET, "empty", None)
        .await
        .unwrap_err();
    let oss = e.service().unwrap_or_else(|| panic!("{}", chain(&e)));
    assert_eq!(oss.code, "AccessDenied");
    assert!(oss.message.contains("expired"), "{}", oss.message);
    assert!(!e.is_retryable());
}

#[test]
fn credentials_and_x_oss_headers_are_refused_with_a_presigned_url() {
    let u = ObjectUrl::parse("http://127.0.0.1:9/bkt/k?OSSAccessKeyId=a&Expires=9&Signature=s")
        .unwrap();
    let e = Client::builder()
        .presigned(u.clone())
        .credentials(Credentials::new(AK, SK).unwrap())
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("its own signature"), "{e}");
    let e = Client::builder()
        .presigned(u)
        .header("x-oss-traffic-limit", "819200")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("x-oss-traffic-limit"), "{e}");
}
