//! HEAD and ranged GET in every addressing style, with both signature versions and keys that
//! need escaping.

use oss_emulator::{BucketSpec, ObjectSpec, Versioning};
use oss_http::{
    AddressingStyle, ByteRange, Collect, Crc64, GetRange, ObjectType, RequestHeaders,
    SignatureVersion,
};

use crate::common::{BUCKET, Env, STYLES, VERSIONS};

/// Keys that break naive URL building: spaces, `+`, `%`, unicode, `//`, a leading `/`,
/// query and fragment characters.
const ODD_KEYS: &[&str] = &[
    "plain.bin",
    "dir/a b+c%d.txt",
    "文件/😀 ünïcode.bin",
    "a//b///c",
    "/leading-slash",
    "what?#&=;@!$'()*,.txt",
    "%2F-literal-percent-2F",
    "trailing-space ",
];

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[tokio::test]
async fn head_and_ranged_get_in_every_style_and_version_with_odd_keys() {
    let env = Env::start().await;
    let mut objects = Vec::new();
    for (i, key) in ODD_KEYS.iter().enumerate() {
        let bytes = data(10_000 + i * 7, i as u8);
        let info = env
            .emu
            .put_object(BUCKET, key, ObjectSpec::bytes(bytes.clone()))
            .unwrap();
        objects.push((*key, bytes, info));
    }
    for style in STYLES {
        for version in VERSIONS {
            let client = env.client(style, version);
            assert_eq!(client.addressing_style(), style);
            for (key, bytes, info) in &objects {
                let before = env.emu.counters();
                let meta = client
                    .head_object(BUCKET, key, None)
                    .await
                    .unwrap_or_else(|e| panic!("HEAD {key:?} {style} {version:?}: {e}"));
                assert_eq!(meta.size, bytes.len() as u64, "{key:?}");
                assert_eq!(meta.etag, info.etag);
                assert_eq!(meta.crc64, Some(oss_crc::checksum(bytes)));
                assert_eq!(meta.object_type, Some(ObjectType::Normal));
                assert!(meta.last_modified.is_some());
                assert_eq!(meta.request_id.as_ref().map(String::len), Some(24));

                let pin = meta.pin();
                let range = ByteRange::inclusive(1000, 4999).unwrap();
                let mut sink = Collect::default();
                let mut crc = Crc64::new();
                let report = client
                    .get_range(
                        &GetRange::new(BUCKET, key, &pin, range),
                        &mut sink,
                        Some(&mut crc),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("GET {key:?} {style} {version:?}: {e}"));
                assert_eq!(report.delivered, 4000);
                assert_eq!(report.object_crc64, meta.crc64);
                assert_eq!(sink.start, Some(1000));
                assert_eq!(sink.data, bytes[1000..5000]);
                assert_eq!(crc.value(), oss_crc::checksum(&bytes[1000..5000]));

                // The emulator saw exactly this bucket and key (not a decoded or
                // normalised variant).
                let after = env.emu.counters();
                assert_eq!(
                    after.requests_for("HEAD", BUCKET, key)
                        - before.requests_for("HEAD", BUCKET, key),
                    1,
                    "{key:?} {style}"
                );
                assert_eq!(
                    after.requests_for("GET", BUCKET, key)
                        - before.requests_for("GET", BUCKET, key),
                    1,
                    "{key:?} {style}"
                );
            }
        }
    }
}

#[tokio::test]
async fn whole_object_and_single_byte_ranges() {
    let env = Env::start().await;
    let bytes = data(777, 3);
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(bytes.clone()))
        .unwrap();
    let client = env.client(AddressingStyle::VirtualHosted, SignatureVersion::V4);
    let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
    for (first, last) in [(0, 776), (0, 0), (776, 776), (100, 100)] {
        let range = ByteRange::inclusive(first, last).unwrap();
        let mut sink = Collect::default();
        let mut crc = Crc64::new();
        client
            .get_range(
                &GetRange::new(BUCKET, "k", &pin, range),
                &mut sink,
                Some(&mut crc),
            )
            .await
            .unwrap();
        assert_eq!(sink.data, bytes[first as usize..=last as usize]);
    }
    // A range past the pinned size is refused before anything is sent.
    let before = env.emu.counters().requests_for("GET", BUCKET, "k");
    let e = client
        .get_range(
            &GetRange::new(BUCKET, "k", &pin, ByteRange::inclusive(700, 777).unwrap()),
            &mut Collect::default(),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, oss_http::Error::InvalidRequest { .. }), "{e:?}");
    assert_eq!(env.emu.counters().requests_for("GET", BUCKET, "k"), before);
}

#[tokio::test]
async fn a_pinned_version_is_read_after_the_key_moves_on() {
    let env = Env::start().await;
    // The CNAME is bound to BUCKET, so version BUCKET itself.
    env.emu
        .add_bucket(BucketSpec::new(BUCKET).versioning(Versioning::Enabled))
        .unwrap();
    let old = data(5000, 1);
    let first = env
        .emu
        .put_object(BUCKET, "v.bin", ObjectSpec::bytes(old.clone()))
        .unwrap();
    env.emu
        .put_object(BUCKET, "v.bin", ObjectSpec::bytes(data(6000, 2)))
        .unwrap();
    for style in STYLES {
        let client = env.client(style, SignatureVersion::V4);
        let meta = client
            .head_object(BUCKET, "v.bin", Some(&first.version_id))
            .await
            .unwrap();
        assert_eq!(meta.size, 5000);
        assert_eq!(meta.version_id.as_deref(), Some(first.version_id.as_str()));
        let pin = meta.pin();
        let mut sink = Collect::default();
        client
            .get_range(
                &GetRange::new(
                    BUCKET,
                    "v.bin",
                    &pin,
                    ByteRange::inclusive(10, 4009).unwrap(),
                ),
                &mut sink,
                None,
            )
            .await
            .unwrap();
        assert_eq!(sink.data, old[10..4010]);
    }
}

/// The wiremock front-end (it records requests, so the headers we send can be read back)
/// over an emulator holding `BUCKET/h.bin`, 100 bytes of `data(100, 0)`.
async fn recording_emulator() -> oss_emulator::WiremockEmulator {
    let emu = oss_emulator::Emulator::new();
    emu.add_credentials(oss_emulator::Credentials::new(
        crate::common::AK,
        crate::common::SK,
    ));
    emu.add_bucket(BucketSpec::new(BUCKET)).unwrap();
    emu.put_object(BUCKET, "h.bin", ObjectSpec::bytes(data(100, 0)))
        .unwrap();
    oss_emulator::WiremockEmulator::start(emu).await
}

#[tokio::test]
async fn every_request_carries_identity_user_agent_date_and_extra_headers() {
    let mock = recording_emulator().await;
    let port = mock.local_addr().port();
    let client = crate::common::builder_for(port, AddressingStyle::Path, SignatureVersion::V4)
        .header("x-oss-traffic-limit", "819200")
        .header("x-oss-request-payer", "requester")
        .user_agent("ossget/9.9")
        .build()
        .unwrap();
    let pin = client
        .head_object(BUCKET, "h.bin", None)
        .await
        .unwrap()
        .pin();
    client
        .get_range(
            &GetRange::new(BUCKET, "h.bin", &pin, ByteRange::inclusive(0, 9).unwrap()),
            &mut Collect::default(),
            None,
        )
        .await
        .unwrap();
    let requests = mock.server().received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        let h = |name: &str| r.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(h("accept-encoding").as_deref(), Some("identity"));
        assert_eq!(
            h("user-agent"),
            Some(format!("ossget/9.9 oss-http/{}", env!("CARGO_PKG_VERSION")))
        );
        let date = httpdate::parse_http_date(&h("date").unwrap()).unwrap();
        let off = std::time::SystemTime::now()
            .duration_since(date)
            .unwrap_or_default();
        assert!(off < std::time::Duration::from_secs(5), "{off:?}");
        assert_eq!(h("x-oss-traffic-limit").as_deref(), Some("819200"));
        assert_eq!(h("x-oss-request-payer").as_deref(), Some("requester"));
        assert!(h("authorization").unwrap().starts_with("OSS4-HMAC-SHA256 "));
    }
    let get = &requests[1];
    assert_eq!(get.headers["range"], "bytes=0-9");
    assert_eq!(get.headers["x-oss-range-behavior"], "standard");
    assert_eq!(get.headers["if-match"], pin.etag.as_str());
}

/// A request's own headers reach HEAD and GET, are signed with the rest (V1 and V4 both
/// sign `x-oss-*`), and replace the client's headers of the same name for that request only.
#[tokio::test]
async fn request_headers_reach_head_and_get_and_are_signed() {
    let mock = recording_emulator().await;
    let port = mock.local_addr().port();
    let mut own = RequestHeaders::new();
    own.insert("x-oss-traffic-limit", "819200").unwrap();
    own.insert("x-oss-request-payer", "requester").unwrap();
    for version in VERSIONS {
        let client = crate::common::builder_for(port, AddressingStyle::Path, version)
            .header("x-oss-traffic-limit", "1638400")
            .build()
            .unwrap();
        let pin = client
            .head_object_with(BUCKET, "h.bin", None, &own)
            .await
            .unwrap()
            .pin();
        let range = ByteRange::inclusive(0, 9).unwrap();
        let mut sink = Collect::default();
        client
            .get_range(
                &GetRange::new(BUCKET, "h.bin", &pin, range).headers(&own),
                &mut sink,
                None,
            )
            .await
            .unwrap();
        assert_eq!(sink.data, data(100, 0)[..10]);
        // Without them, the same client sends its own value again.
        client.head_object(BUCKET, "h.bin", None).await.unwrap();
    }
    let requests = mock.server().received_requests().await.unwrap();
    assert_eq!(requests.len(), 6);
    for (i, r) in requests.iter().enumerate() {
        let all = |name: &str| {
            r.headers
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        if i % 3 == 2 {
            assert_eq!(all("x-oss-traffic-limit"), ["1638400"], "request {i}");
            assert!(all("x-oss-request-payer").is_empty(), "request {i}");
        } else {
            assert_eq!(all("x-oss-traffic-limit"), ["819200"], "request {i}");
            assert_eq!(all("x-oss-request-payer"), ["requester"], "request {i}");
        }
    }
}
