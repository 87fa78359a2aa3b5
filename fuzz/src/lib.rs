//! What the fuzz targets and the seed writer (`examples/seeds.rs`) share: the emulator model
//! the request seeds were signed for, and how raw bytes become a request for it.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method};
use oss_emulator::{
    BucketSpec, Clock, CrcMode, Credentials, Emulator, ObjectSpec, RequestParts, StorageClass,
    Versioning,
};

/// The seed requests were signed at this instant (2024-01-15T08:30:00Z); the model's clock
/// stands still there, so their signatures stay valid.
pub const SIGNED_AT: u64 = 1_705_307_400;
/// The model's region.
pub const REGION: &str = "cn-hangzhou";
/// A long-term account: access key id and secret.
pub const ACCOUNT: (&str, &str) = ("LTAIfuzzaccesskey", "fuzz-secret");
/// An STS account: access key id, secret and token.
pub const STS_ACCOUNT: (&str, &str, &str) = ("STS.fuzzkey", "sts-secret", "sts-token");

/// Separates the responses of a `client_response` input.
pub const SCRIPT_SEPARATOR: &[u8] = b"\n~~~~\n";

/// The model's clock.
pub fn signed_at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(SIGNED_AT)
}

/// A private bucket with a plain object (CRC-64 known), a symlink and an archived object; a
/// public-read bucket with a text object (served gzipped, OSS's quirk) reachable by a CNAME;
/// a versioned bucket with two versions of one key; the two accounts; the region.
pub fn model() -> Emulator {
    let model = Emulator::new();
    model.set_clock(Clock::Fixed(signed_at()));
    model.set_region(Some(REGION));
    model.set_gzip_quirk(true);
    model.add_credentials(Credentials::new(ACCOUNT.0, ACCOUNT.1));
    let (id, secret, token) = STS_ACCOUNT;
    model.add_credentials(Credentials::sts(id, secret, token));
    model.add_cname("cdn.example.com", "public-bkt");
    let buckets = [
        BucketSpec::new("private-bkt"),
        BucketSpec::new("public-bkt").public_read(),
        BucketSpec::new("versioned-bkt").versioning(Versioning::Enabled),
    ];
    for spec in buckets {
        model.add_bucket(spec).expect("a new bucket");
    }
    let objects = [
        (
            "private-bkt",
            "dir/obj.bin",
            ObjectSpec::synthetic(1000, 7).crc64(CrcMode::Now),
        ),
        ("private-bkt", "link", ObjectSpec::symlink("dir/obj.bin")),
        (
            "private-bkt",
            "cold.bin",
            ObjectSpec::synthetic(100, 8).storage_class(StorageClass::Archive),
        ),
        (
            "public-bkt",
            "text.txt",
            ObjectSpec::bytes(&b"hello, fuzzer\n"[..]).content_type("text/plain"),
        ),
        ("versioned-bkt", "obj", ObjectSpec::synthetic(64, 1)),
        ("versioned-bkt", "obj", ObjectSpec::synthetic(65, 2)),
    ];
    for (bucket, key, spec) in objects {
        model
            .put_object(bucket, key, spec)
            .expect("a bucket of the model");
    }
    model
}

/// `data` as the streaming server's HTTP parser would hand it over: a complete request head
/// (hyper refuses what httparse refuses), its method, target and headers; `None` for
/// anything hyper would have answered itself.
pub fn request_head(data: &[u8]) -> Option<RequestParts> {
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut slots);
    if !matches!(parsed.parse(data), Ok(httparse::Status::Complete(_))) {
        return None;
    }
    let method = Method::from_bytes(parsed.method?.as_bytes()).ok()?;
    let uri: http::Uri = parsed.path?.parse().ok()?;
    let mut headers = HeaderMap::new();
    for h in parsed.headers.iter() {
        headers.append(
            http::HeaderName::from_bytes(h.name.as_bytes()).ok()?,
            http::HeaderValue::from_bytes(h.value).ok()?,
        );
    }
    Some(RequestParts::from_http(method, &uri, headers))
}
