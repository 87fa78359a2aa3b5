//! What both front-ends answer, as OSS does (anonymous requests to a public-read bucket;
//! signed requests are in `auth_cases`).

use std::time::{Duration, SystemTime};

use oss_emulator::{
    BucketSpec, Clock, ObjectSpec, ObjectType, Restore, StorageClass, Versioning, synthetic_bytes,
};

use crate::both;
use crate::common::{Front, element};

async fn get_whole_object(f: &Front) {
    let r = f.get("/pub/obj").send().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_ref(), synthetic_bytes(7, 0, 1000).as_slice());
    assert_eq!(r.h("content-length"), Some("1000"));
    assert_eq!(r.h("accept-ranges"), Some("bytes"));
    assert_eq!(r.h("server"), Some("AliyunOSS"));
    assert_eq!(r.h("x-oss-object-type"), Some("Multipart"));
    assert_eq!(r.h("x-oss-storage-class"), Some("Standard"));
    assert_eq!(r.h("content-type"), Some("application/octet-stream"));
    assert!(r.h("content-range").is_none());
    let etag = r.h("etag").unwrap();
    assert!(etag.starts_with('"') && etag.ends_with("-1\""), "{etag}");
    assert_eq!(
        r.h("x-oss-hash-crc64ecma"),
        Some(
            oss_crc::checksum(&synthetic_bytes(7, 0, 1000))
                .to_string()
                .as_str()
        )
    );
    // A true Date, and a request id whose first 8 hex digits are its Unix seconds.
    let date = httpdate::parse_http_date(r.h("date").unwrap()).unwrap();
    let skew = SystemTime::now().duration_since(date).unwrap_or_default();
    assert!(skew < Duration::from_secs(5));
    let id = r.h("x-oss-request-id").unwrap();
    assert_eq!(id.len(), 24);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    );
    let secs = u64::from_str_radix(&id[..8], 16).unwrap();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now.abs_diff(secs) < 5);
    httpdate::parse_http_date(r.h("last-modified").unwrap()).unwrap();
    // Each response has its own request id.
    let r2 = f.get("/pub/obj").send().await;
    assert_ne!(r2.h("x-oss-request-id"), r.h("x-oss-request-id"));
}
both!(get_whole_object);

async fn put_object_etag_is_md5(f: &Front) {
    let r = f.get("/pub/hello.txt").send().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_ref(), b"hello");
    assert_eq!(r.h("etag"), Some("\"5D41402ABC4B2A76B9719D911017C592\""));
    assert_eq!(r.h("content-md5"), Some("XUFAKrxLKna5cZ2REBfFkg=="));
    assert_eq!(r.h("x-oss-object-type"), Some("Normal"));
}
both!(put_object_etag_is_md5);

async fn head_and_object_meta(f: &Front) {
    let r = f.head("/pub/obj").send().await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.h("content-length"), Some("1000"));
    assert_eq!(r.h("x-oss-object-type"), Some("Multipart"));
    assert!(r.h("etag").is_some());
    let m = f.head("/pub/obj?objectMeta").send().await;
    assert_eq!(m.status, 200);
    assert_eq!(m.h("content-length"), Some("1000"));
    assert_eq!(m.h("etag"), r.h("etag"));
    assert_eq!(m.h("last-modified"), r.h("last-modified"));
    assert!(m.h("content-type").is_none());
    assert!(m.h("x-oss-object-type").is_none());
    assert!(m.h("x-oss-request-id").is_some());
    // Conditions apply to GetObjectMeta too.
    let etag = r.h("etag").unwrap().to_owned();
    let m = f
        .head("/pub/obj?objectMeta")
        .header("if-match", "\"OTHER\"")
        .send()
        .await;
    assert_eq!(
        (m.status.as_u16(), m.code().as_deref()),
        (412, Some("PreconditionFailed"))
    );
    let m = f
        .head("/pub/obj?objectMeta")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(m.status, 304);
    let m = f
        .head("/pub/obj?objectMeta")
        .header("if-match", &etag)
        .send()
        .await;
    assert_eq!(m.status, 200);
}
both!(head_and_object_meta);

async fn legacy_range_rules(f: &Front) {
    let whole = synthetic_bytes(7, 0, 1000);
    for (range, want) in [
        ("bytes=0-499", Some((0, 499))),
        ("bytes=500-", Some((500, 999))),
        ("bytes=-100", Some((900, 999))),
        ("bytes=10-10", Some((10, 10))),
        ("bytes=0-9,20-29", Some((0, 9))),
        ("byte=0-499", None),
        ("bytes=0-1000", None),
        ("bytes=1000-2000", None),
        ("bytes=1000-", None),
        ("bytes=-2000", None),
        ("bytes=600-500", None),
        ("bytes=--1", None),
    ] {
        let r = f.get("/pub/obj").range(range).send().await;
        match want {
            Some((a, b)) => {
                assert_eq!(r.status, 206, "{range}");
                assert_eq!(
                    r.h("content-range").unwrap(),
                    format!("bytes {a}-{b}/1000"),
                    "{range}"
                );
                assert_eq!(r.h("content-length").unwrap(), (b - a + 1).to_string());
                assert_eq!(r.body.as_ref(), &whole[a..=b], "{range}");
            }
            None => {
                assert_eq!(r.status, 200, "{range}");
                assert!(r.h("content-range").is_none(), "{range}");
                assert_eq!(r.body.len(), 1000, "{range}");
            }
        }
        // The CRC header is the whole object's on ranged responses too.
        assert_eq!(
            r.h("x-oss-hash-crc64ecma"),
            Some(oss_crc::checksum(&whole).to_string().as_str())
        );
    }
    let r = f.get("/pub/obj").range("bytes=-0").send().await;
    assert_eq!(r.status, 416);
    assert_eq!(r.code().as_deref(), Some("InvalidRange"));
}
both!(legacy_range_rules);

async fn standard_range_rules(f: &Front) {
    let whole = synthetic_bytes(7, 0, 1000);
    let std = |range: &str| {
        f.get("/pub/obj")
            .range(range)
            .header("x-oss-range-behavior", "standard")
    };
    let r = std("bytes=500-2000").send().await;
    assert_eq!(r.status, 206);
    assert_eq!(r.h("content-range"), Some("bytes 500-999/1000"));
    assert_eq!(r.body.as_ref(), &whole[500..]);
    let r = std("bytes=0-2000").send().await;
    assert_eq!((r.status.as_u16(), r.body.len()), (206, 1000));
    for bad in ["bytes=1000-2000", "bytes=1000-", "bytes=-0"] {
        let r = std(bad).send().await;
        assert_eq!(r.status, 416, "{bad}");
        assert_eq!(r.code().as_deref(), Some("InvalidRange"));
        assert_eq!(
            element(&r.text(), "Message").as_deref(),
            Some("The requested range cannot be satisfied")
        );
    }
    let r = std("bytes=-2000").send().await;
    assert_eq!(
        (r.status.as_u16(), r.h("content-range")),
        (206, Some("bytes 0-999/1000"))
    );
}
both!(standard_range_rules);

async fn conditionals(f: &Front) {
    let etag = f
        .head("/pub/obj")
        .send()
        .await
        .h("etag")
        .unwrap()
        .to_owned();
    let bare = etag.trim_matches('"').to_owned();
    for tag in [&etag, &bare] {
        let r = f
            .get("/pub/obj")
            .header("if-match", tag)
            .range("bytes=0-9")
            .send()
            .await;
        assert_eq!(r.status, 206, "If-Match {tag}");
        let r = f.get("/pub/obj").header("if-none-match", tag).send().await;
        assert_eq!(r.status, 304, "If-None-Match {tag}");
        assert!(r.body.is_empty());
    }
    let r = f
        .get("/pub/obj")
        .header("if-match", "\"0000\"")
        .send()
        .await;
    assert_eq!(r.status, 412);
    assert_eq!(r.code().as_deref(), Some("PreconditionFailed"));
    assert_eq!(r.h("x-oss-ec"), Some("0017-00001001"));
    let r = f.head("/pub/obj").header("if-match", "0000").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (412, Some("PreconditionFailed"))
    );
    let lm = httpdate::parse_http_date(f.head("/pub/obj").send().await.h("last-modified").unwrap())
        .unwrap();
    let before = httpdate::fmt_http_date(lm - Duration::from_secs(10));
    let after = httpdate::fmt_http_date(lm + Duration::from_secs(10));
    assert_eq!(
        f.get("/pub/obj")
            .header("if-unmodified-since", &before)
            .send()
            .await
            .status,
        412
    );
    assert_eq!(
        f.get("/pub/obj")
            .header("if-unmodified-since", &after)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        f.get("/pub/obj")
            .header("if-modified-since", &after)
            .send()
            .await
            .status,
        304
    );
    assert_eq!(
        f.get("/pub/obj")
            .header("if-modified-since", &before)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        f.get("/pub/obj")
            .header("if-modified-since", "not a date")
            .send()
            .await
            .status,
        200
    );
}
both!(conditionals);

async fn errors_as_oss_sends_them(f: &Front) {
    let r = f.get("/pub/missing").send().await;
    assert_eq!(r.status, 404);
    assert_eq!(r.h("content-type"), Some("application/xml"));
    assert_eq!(r.h("x-oss-ec"), Some("0026-00000001"));
    let xml = r.text();
    assert!(
        xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>NoSuchKey</Code>\n"
        ),
        "{xml}"
    );
    assert_eq!(element(&xml, "Key").as_deref(), Some("missing"));
    assert_eq!(
        element(&xml, "RequestId").as_deref(),
        r.h("x-oss-request-id")
    );
    assert_eq!(element(&xml, "HostId").as_deref(), Some("127.0.0.1"));
    assert_eq!(element(&xml, "EC").as_deref(), Some("0026-00000001"));
    assert!(r.h("date").is_some());
    // HEAD: no body, the XML base64-encoded in x-oss-err.
    let r = f.head("/pub/missing").send().await;
    assert_eq!(r.status, 404);
    assert!(r.body.is_empty());
    assert_eq!(r.code().as_deref(), Some("NoSuchKey"));
    assert_eq!(
        element(&r.error_xml(), "RequestId").as_deref(),
        r.h("x-oss-request-id")
    );
    let r = f.get("/nobucket/k").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (404, Some("NoSuchBucket"))
    );
    assert_eq!(
        element(&r.text(), "BucketName").as_deref(),
        Some("nobucket")
    );
    // Anonymous access to a private bucket.
    let r = f.get("/bkt/obj").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (403, Some("AccessDenied"))
    );
    // A bad traffic limit.
    let r = f
        .get("/pub/obj")
        .header("x-oss-traffic-limit", "5")
        .send()
        .await;
    assert_eq!(
        (r.status.as_u16(), r.h("x-oss-ec")),
        (400, Some("0004-00000502"))
    );
}
both!(errors_as_oss_sends_them);

async fn addressing_styles(f: &Front) {
    let port = f.addr.port();
    let r = f
        .get("/obj")
        .host(&format!("pub.oss-cn-hangzhou.aliyuncs.com:{port}"))
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 1000);
    let r = f.get("/obj").host("pub.localhost").send().await;
    assert_eq!(r.status, 200);
    let r = f.get("/pub/obj").host("localhost").send().await;
    assert_eq!(r.status, 200);
    let r = f
        .get("/pub/obj")
        .host("oss-cn-hangzhou.aliyuncs.com")
        .send()
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (403, Some("SecondLevelDomainForbidden"))
    );
    assert_eq!(
        element(&r.text(), "HostId").as_deref(),
        Some("oss-cn-hangzhou.aliyuncs.com")
    );
    f.emu.add_cname("static.example.com", "pub");
    let r = f.get("/hello.txt").host("static.example.com").send().await;
    assert_eq!((r.status.as_u16(), r.body.as_ref()), (200, &b"hello"[..]));
    // Keys with characters that need escaping.
    f.emu
        .put_object("pub", "dir/文 件+1.txt", ObjectSpec::bytes(&b"x"[..]))
        .unwrap();
    let r = f.get("/pub/dir/%E6%96%87%20%E4%BB%B6+1.txt").send().await;
    assert_eq!((r.status.as_u16(), r.body.as_ref()), (200, &b"x"[..]));
}
both!(addressing_styles);

async fn versions_and_delete_markers(f: &Front) {
    f.emu
        .add_bucket(
            BucketSpec::new("ver")
                .public_read()
                .versioning(Versioning::Enabled),
        )
        .unwrap();
    let v1 = f
        .emu
        .put_object("ver", "k", ObjectSpec::bytes(&b"one"[..]))
        .unwrap();
    let v2 = f
        .emu
        .put_object("ver", "k", ObjectSpec::bytes(&b"two"[..]))
        .unwrap();
    assert_ne!(v1.version_id, v2.version_id);
    let r = f.get("/ver/k").send().await;
    assert_eq!(
        (r.body.as_ref(), r.h("x-oss-version-id")),
        (&b"two"[..], Some(v2.version_id.as_str()))
    );
    let r = f
        .get(&format!("/ver/k?versionId={}", v1.version_id))
        .send()
        .await;
    assert_eq!((r.status.as_u16(), r.body.as_ref()), (200, &b"one"[..]));
    assert_eq!(r.h("x-oss-version-id"), Some(v1.version_id.as_str()));
    let r = f.get("/ver/k?versionId=CAEQnope").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (404, Some("NoSuchVersion"))
    );
    let marker = f.emu.delete_object("ver", "k").unwrap().unwrap();
    let r = f.get("/ver/k").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (404, Some("NoSuchKey"))
    );
    assert_eq!(r.h("x-oss-delete-marker"), Some("true"));
    assert_eq!(r.h("x-oss-version-id"), Some(marker.as_str()));
    let r = f.head(&format!("/ver/k?versionId={marker}")).send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (405, Some("MethodNotAllowed"))
    );
    // Older versions stay readable.
    let r = f
        .get(&format!("/ver/k?versionId={}", v2.version_id))
        .send()
        .await;
    assert_eq!(r.body.as_ref(), b"two");
    // Unversioned buckets send no version id; versionId=null picks the null version.
    let r = f.get("/pub/hello.txt?versionId=null").send().await;
    assert_eq!(r.status, 200);
    assert!(r.h("x-oss-version-id").is_none());
    let r = f.get("/pub/hello.txt?versionId=").send().await;
    assert_eq!(r.status, 400);
}
both!(versions_and_delete_markers);

async fn symlinks(f: &Front) {
    f.emu
        .put_object(
            "pub",
            "link",
            ObjectSpec::symlink("hello.txt").meta("who", "link"),
        )
        .unwrap();
    let r = f.get("/pub/link").send().await;
    assert_eq!((r.status.as_u16(), r.body.as_ref()), (200, &b"hello"[..]));
    assert_eq!(r.h("etag"), Some("\"5D41402ABC4B2A76B9719D911017C592\""));
    assert_eq!(r.h("x-oss-object-type"), Some("Symlink"));
    assert_eq!(r.h("x-oss-meta-who"), Some("link"));
    let r = f.get("/pub/link?symlink").send().await;
    assert_eq!(
        (r.status.as_u16(), r.h("x-oss-symlink-target")),
        (200, Some("hello.txt"))
    );
    f.emu
        .put_object("pub", "dangling", ObjectSpec::symlink("nothing"))
        .unwrap();
    let r = f.get("/pub/dangling").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (404, Some("SymlinkTargetNotExist"))
    );
    f.emu
        .put_object("pub", "link2", ObjectSpec::symlink("link"))
        .unwrap();
    let r = f.get("/pub/link2").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (400, Some("InvalidTargetType"))
    );
}
both!(symlinks);

async fn appendable_objects(f: &Front) {
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    f.emu.set_clock(Clock::Fixed(t0));
    f.emu
        .put_object("pub", "log", ObjectSpec::bytes(&b"abc"[..]).appendable())
        .unwrap();
    let r1 = f.head("/pub/log").send().await;
    assert_eq!(r1.h("x-oss-object-type"), Some("Appendable"));
    assert_eq!(r1.h("x-oss-next-append-position"), Some("3"));
    f.emu.set_clock(Clock::Fixed(t0 + Duration::from_secs(60)));
    let info = f.emu.append_bytes("pub", "log", &b"def"[..]).unwrap();
    let r2 = f.get("/pub/log").send().await;
    assert_eq!(r2.body.as_ref(), b"abcdef");
    assert_eq!(r2.h("x-oss-next-append-position"), Some("6"));
    assert_ne!(r2.h("etag"), r1.h("etag"));
    assert_eq!(r2.h("etag"), Some(info.etag.as_str()));
    assert_ne!(r2.h("last-modified"), r1.h("last-modified"));
    assert_eq!(
        r2.h("x-oss-hash-crc64ecma"),
        Some(oss_crc::checksum(b"abcdef").to_string().as_str())
    );
    // A pinned download sees the change.
    let r = f
        .get("/pub/log")
        .header("if-match", r1.h("etag").unwrap())
        .send()
        .await;
    assert_eq!(r.status, 412);
    assert!(f.emu.append_bytes("pub", "hello.txt", &b"x"[..]).is_err());
}
both!(appendable_objects);

async fn archive_objects(f: &Front) {
    f.emu
        .put_object(
            "pub",
            "cold",
            ObjectSpec::bytes(&b"frozen"[..]).storage_class(StorageClass::Archive),
        )
        .unwrap();
    let r = f.head("/pub/cold").send().await;
    assert_eq!(
        (r.status.as_u16(), r.h("x-oss-storage-class")),
        (200, Some("Archive"))
    );
    let r = f.get("/pub/cold").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (403, Some("InvalidObjectState"))
    );
    let until = SystemTime::now() + Duration::from_secs(3600);
    f.emu
        .put_object(
            "pub",
            "cold",
            ObjectSpec::bytes(&b"frozen"[..])
                .storage_class(StorageClass::ColdArchive)
                .restore(Restore::Until(until)),
        )
        .unwrap();
    let r = f.get("/pub/cold").send().await;
    assert_eq!((r.status.as_u16(), r.body.as_ref()), (200, &b"frozen"[..]));
    assert!(
        r.h("x-oss-restore")
            .unwrap()
            .starts_with("ongoing-request=\"false\", expiry-date=")
    );
}
both!(archive_objects);

async fn gzip_quirk(f: &Front) {
    use std::io::Read as _;
    let text = "the quick brown fox\n".repeat(100);
    f.emu
        .put_object(
            "pub",
            "t.txt",
            ObjectSpec::bytes(text.clone()).content_type("text/plain"),
        )
        .unwrap();
    // Off by default.
    let r = f
        .get("/pub/t.txt")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert!(r.h("content-encoding").is_none());
    f.emu.set_gzip_quirk(true);
    let r = f
        .get("/pub/t.txt")
        .header("accept-encoding", "gzip, deflate")
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("content-encoding"), Some("gzip"));
    assert!(r.h("etag").is_none());
    assert!(r.h("accept-ranges").is_none());
    if f.kind == crate::common::Kind::Streaming {
        // wiremock always sets Content-Length; the streaming server is faithful.
        assert!(r.h("content-length").is_none());
    }
    let mut out = String::new();
    flate2::read::GzDecoder::new(r.body.as_ref())
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, text);
    // identity (what our client sends) is never compressed; neither are small or binary objects.
    let r = f
        .get("/pub/t.txt")
        .header("accept-encoding", "identity")
        .send()
        .await;
    assert_eq!((r.h("content-encoding"), r.body.len()), (None, text.len()));
    let r = f
        .get("/pub/obj")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert!(r.h("content-encoding").is_none());
}
both!(gzip_quirk);

async fn requester_pays(f: &Front) {
    f.emu
        .add_bucket(BucketSpec::new("payer").public_read().requester_pays(true))
        .unwrap();
    f.emu
        .put_object("payer", "k", ObjectSpec::bytes(&b"k"[..]))
        .unwrap();
    let r = f.get("/payer/k").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (403, Some("AccessDenied"))
    );
    assert_eq!(
        element(&r.text(), "Message").as_deref(),
        Some("Access denied for requester pay bucket")
    );
    let r = f
        .get("/payer/k")
        .header("x-oss-request-payer", "requester")
        .send()
        .await;
    assert_eq!(r.status, 200);
}
both!(requester_pays);

async fn counters_and_stats(f: &Front) {
    f.emu.reset_counters();
    f.get("/pub/obj").send().await;
    f.get("/pub/obj").range("bytes=0-99").send().await;
    f.head("/pub/obj").send().await;
    f.get("/pub/nope").send().await;
    let c = f.emu.counters();
    assert_eq!(c.requests, 4);
    assert_eq!(c.requests_for("GET", "pub", "obj"), 2);
    assert_eq!(c.requests_for("HEAD", "pub", "obj"), 1);
    assert_eq!(c.ranges_served, 1);
    assert_eq!(c.status(404), 1);
    assert_eq!(c.errors("NoSuchKey"), 1);
    let error_len = f.get("/pub/nope").send().await.body.len() as u64;
    // Body bytes: 1000 + 100 + the error XML (twice now).
    let c = f.emu.counters();
    assert!(
        c.body_bytes_sent > 1100 + error_len,
        "{}",
        c.body_bytes_sent
    );
    let s = f.get("/-/stats").send().await;
    assert_eq!(s.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&s.body).unwrap();
    assert_eq!(v["model"]["requests"], 5);
    assert_eq!(v["model"]["ranges_served"], 1);
    assert_eq!(v["model"]["requests_by_method_key"]["GET pub/obj"], 2);
    // Stats requests are not counted.
    assert_eq!(f.emu.counters().requests, 5);
}
both!(counters_and_stats);

async fn exact_body_bytes_counted(f: &Front) {
    f.emu.reset_counters();
    f.get("/pub/obj").send().await;
    f.get("/pub/obj").range("bytes=0-99").send().await;
    f.head("/pub/obj").send().await;
    assert_eq!(f.emu.counters().body_bytes_sent, 1100);
}
both!(exact_body_bytes_counted);

async fn object_types_and_classes(f: &Front) {
    f.emu
        .put_object(
            "pub",
            "n",
            ObjectSpec::synthetic(64, 1)
                .object_type(ObjectType::Normal)
                .storage_class(StorageClass::Ia),
        )
        .unwrap();
    let r = f.head("/pub/n").send().await;
    assert_eq!(r.h("x-oss-object-type"), Some("Normal"));
    assert_eq!(r.h("x-oss-storage-class"), Some("IA"));
    let md5 = {
        use md5::Digest as _;
        let d = md5::Md5::digest(synthetic_bytes(1, 0, 64));
        d.iter().map(|b| format!("{b:02X}")).collect::<String>()
    };
    assert_eq!(r.h("etag").unwrap(), format!("\"{md5}\""));
}
both!(object_types_and_classes);
