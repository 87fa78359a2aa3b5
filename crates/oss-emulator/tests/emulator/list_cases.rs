//! ListObjectsV2 and ListObjects (v1) on both front-ends: OSS's XML, pagination, encoding,
//! object patterns, and the errors (`docs/oss-behaviour.md#listing`).

use http::Method;
use oss_emulator::{
    BucketSpec, FaultAction, ObjectPattern, ObjectSpec, ServiceFault, synthetic_bytes,
};

use crate::both;
use crate::common::{Front, element};

/// Every `<name>` value, in order.
fn all(xml: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let end = after.find(&close).unwrap();
        out.push(after[..end].to_owned());
        rest = &after[end + close.len()..];
    }
    out
}

/// The keys of `<Contents>` (the `<Prefix>` of common prefixes is not a `<Key>`).
fn keys(xml: &str) -> Vec<String> {
    all(xml, "Key")
}

/// The prefixes inside `<CommonPrefixes>`.
fn prefixes(xml: &str) -> Vec<String> {
    all(xml, "CommonPrefixes")
        .iter()
        .map(|cp| element(cp, "Prefix").unwrap())
        .collect()
}

async fn v2_page_as_oss_sends_it(f: &Front) {
    let r = f.get("/pub/?list-type=2").send().await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.h("content-type"), Some("application/xml"));
    let xml = r.text();
    assert!(
        xml.contains("\n<ListBucketResult>\n"),
        "no namespace: {xml}"
    );
    assert_eq!(element(&xml, "Name").as_deref(), Some("pub"));
    assert_eq!(element(&xml, "Prefix").as_deref(), Some(""));
    assert_eq!(element(&xml, "MaxKeys").as_deref(), Some("100"));
    assert_eq!(element(&xml, "IsTruncated").as_deref(), Some("false"));
    assert_eq!(element(&xml, "KeyCount").as_deref(), Some("2"));
    for absent in [
        "Delimiter",
        "StartAfter",
        "EncodingType",
        "NextContinuationToken",
        "Owner",
    ] {
        assert!(element(&xml, absent).is_none(), "{absent} in {xml}");
    }
    assert_eq!(keys(&xml), ["hello.txt", "obj"]);
    // Each field as HEAD reports it; LastModified with the `.000Z` oss2 insists on.
    let head = f.head("/pub/hello.txt").send().await;
    let first = &all(&xml, "Contents")[0];
    assert_eq!(element(first, "ETag").as_deref(), head.h("etag"));
    assert_eq!(element(first, "Size").as_deref(), Some("5"));
    assert_eq!(element(first, "Type").as_deref(), Some("Normal"));
    assert_eq!(element(first, "StorageClass").as_deref(), Some("Standard"));
    let modified = element(first, "LastModified").unwrap();
    assert!(
        modified.ends_with(".000Z") && modified.len() == 24,
        "{modified}"
    );
    let listed = oss_sign::SigningTime::parse_iso8601(&format!("{}Z", &modified[..19])).unwrap();
    assert_eq!(
        httpdate::fmt_http_date(listed.to_system_time()),
        head.h("last-modified").unwrap()
    );
    // `/bucket` without the slash (rclone, s5cmd) is the same bucket; fetch-owner adds Owner.
    let r = f.get("/pub?list-type=2&fetch-owner=true").send().await;
    assert_eq!(r.status, 200);
    assert_eq!(all(&r.text(), "Owner").len(), 2);
}
both!(v2_page_as_oss_sends_it);

async fn v1_page_as_oss_sends_it(f: &Front) {
    let r = f.get("/pub/?max-keys=1").send().await;
    let xml = r.text();
    assert_eq!(r.status, 200, "{xml}");
    assert_eq!(element(&xml, "Marker").as_deref(), Some(""));
    assert_eq!(element(&xml, "Delimiter").as_deref(), Some(""));
    assert_eq!(element(&xml, "IsTruncated").as_deref(), Some("true"));
    assert_eq!(element(&xml, "NextMarker").as_deref(), Some("hello.txt"));
    assert!(element(&xml, "KeyCount").is_none());
    assert_eq!(all(&xml, "Owner").len(), 1, "v1 always has Owner");
    let r = f.get("/pub/?max-keys=1&marker=hello.txt").send().await;
    let xml = r.text();
    assert_eq!(keys(&xml), ["obj"]);
    assert_eq!(element(&xml, "Marker").as_deref(), Some("hello.txt"));
    assert_eq!(element(&xml, "IsTruncated").as_deref(), Some("false"));
    assert!(element(&xml, "NextMarker").is_none());
}
both!(v1_page_as_oss_sends_it);

async fn errors_as_oss_sends_them(f: &Front) {
    // The bucket is checked before the signature.
    let r = f.get("/nosuch/?list-type=2").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (404, Some("NoSuchBucket"))
    );
    let r = f.get("/bkt/?list-type=2").send().await;
    assert_eq!(
        (r.status.as_u16(), r.code().as_deref()),
        (403, Some("AccessDenied"))
    );
    for (query, status, code) in [
        ("list-type=2&max-keys=1001", 400, "InvalidArgument"),
        ("list-type=2&max-keys=-1", 400, "InvalidArgument"),
        ("list-type=2&max-keys=ten", 400, "InvalidArgument"),
        (
            "list-type=2&continuation-token=err-token",
            400,
            "InvalidArgument",
        ),
        ("list-type=3", 400, "InvalidArgument"),
        ("list-type=2&encoding-type=base64", 400, "InvalidArgument"),
        ("acl", 501, "NotImplemented"),
        ("list-type=2&location", 501, "NotImplemented"),
    ] {
        let r = f.get(&format!("/pub/?{query}")).send().await;
        assert_eq!(
            (r.status.as_u16(), r.code().as_deref()),
            (status, Some(code)),
            "{query}: {}",
            r.text()
        );
    }
    let long = "p".repeat(1024);
    let r = f
        .get(&format!("/pub/?list-type=2&prefix={long}"))
        .send()
        .await;
    assert_eq!(r.code().as_deref(), Some("InvalidArgument"));
    // Anonymous writes are refused before anything else looks at them.
    let r = f.req(Method::PUT, "/pub/").send().await;
    assert_eq!(r.code().as_deref(), Some("AccessDenied"));
    // max-keys=0: an empty, complete page (chosen).
    let r = f.get("/pub/?list-type=2&max-keys=0").send().await;
    assert_eq!(element(&r.text(), "IsTruncated").as_deref(), Some("false"));
    assert_eq!(element(&r.text(), "KeyCount").as_deref(), Some("0"));
    // Empty values are absent values (oss2 sends them on every page).
    let r = f
        .get("/pub/?list-type=2&prefix=&delimiter=&continuation-token=&start-after=&fetch-owner=false&max-keys=2&encoding-type=url")
        .send()
        .await;
    assert_eq!(keys(&r.text()), ["hello.txt", "obj"]);
}
both!(errors_as_oss_sends_them);

async fn url_encoding_and_odd_keys(f: &Front) {
    let odd = "d/a b+c%d&<>\"'\u{1}\u{7}文😀/";
    f.emu
        .put_object("pub", odd, ObjectSpec::bytes(&b"x"[..]))
        .unwrap();
    let r = f
        .get("/pub/?list-type=2&prefix=d%2F&encoding-type=url")
        .send()
        .await;
    let xml = r.text();
    assert_eq!(element(&xml, "EncodingType").as_deref(), Some("url"));
    assert_eq!(element(&xml, "Prefix").as_deref(), Some("d/"));
    // Every byte but unreserved characters and `/`, as %XX: space %20, `+` %2B.
    assert_eq!(
        keys(&xml),
        ["d/a%20b%2Bc%25d%26%3C%3E%22%27%01%07%E6%96%87%F0%9F%98%80/"]
    );
    // Without encoding-type, XML escapes (and the control characters make it invalid XML,
    // as OSS's does: oss2's test expects such a listing to fail).
    let r = f.get("/pub/?list-type=2&prefix=d/").send().await;
    assert_eq!(
        keys(&r.text()),
        ["d/a b+c%d&amp;&lt;&gt;\"'&#x1;&#x7;文😀/"]
    );
}
both!(url_encoding_and_odd_keys);

async fn pages_delimiters_and_tokens(f: &Front) {
    f.emu
        .add_bucket(BucketSpec::new("many").public_read())
        .unwrap();
    let pattern = ObjectPattern::parse("data/part-{0..2499}")
        .unwrap()
        .size(10)
        .seed(3);
    assert_eq!(f.emu.add_objects("many", pattern).unwrap(), 2500);
    for key in ["data/", "data/sub/x", "data/sub/y", "a", "z/1"] {
        f.emu
            .put_object("many", key, ObjectSpec::bytes(&b"k"[..]))
            .unwrap();
    }
    let mut expected: Vec<String> = (0..2500).map(|n| format!("data/part-{n}")).collect();
    expected.extend(["data/".into(), "data/sub/x".into(), "data/sub/y".into()]);
    expected.sort();
    // V2 through 1000-key pages.
    let (mut got, mut token, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let q = if token.is_empty() {
            String::new()
        } else {
            format!("&continuation-token={token}")
        };
        let r = f
            .get(&format!("/many/?list-type=2&prefix=data/&max-keys=1000{q}"))
            .send()
            .await;
        let xml = r.text();
        pages += 1;
        got.extend(keys(&xml));
        assert_eq!(
            element(&xml, "KeyCount"),
            Some(keys(&xml).len().to_string())
        );
        match element(&xml, "NextContinuationToken") {
            Some(t) => token = t,
            None => break,
        }
        assert_eq!(element(&xml, "IsTruncated").as_deref(), Some("true"));
    }
    assert_eq!(pages, 3);
    assert_eq!(got, expected);
    // One level under data/ with a delimiter: 1000 keys (data/ and parts) fill the first
    // page; after the last part, data/sub/ is one common prefix.
    let r = f
        .get("/many/?list-type=2&prefix=data/&delimiter=/&max-keys=1000")
        .send()
        .await;
    let xml = r.text();
    assert_eq!(keys(&xml).len(), 1000);
    assert_eq!(keys(&xml)[..2], ["data/", "data/part-0"]);
    assert!(prefixes(&xml).is_empty());
    let r = f
        .get("/many/?list-type=2&prefix=data/&delimiter=/&start-after=data/part-999")
        .send()
        .await;
    let xml = r.text();
    assert_eq!(
        (keys(&xml).len(), prefixes(&xml)),
        (0, vec!["data/sub/".to_owned()])
    );
    // The root level: a, data/ (a prefix), z/ (a prefix).
    let r = f.get("/many/?list-type=2&delimiter=/").send().await;
    let xml = r.text();
    assert_eq!(keys(&xml), ["a"]);
    assert_eq!(prefixes(&xml), ["data/", "z/"]);
    assert_eq!(element(&xml, "KeyCount").as_deref(), Some("3"));
    // A page that ends on a common prefix; the next one skips every key under it.
    let r = f
        .get("/many/?list-type=2&delimiter=/&max-keys=2")
        .send()
        .await;
    let xml = r.text();
    assert_eq!(
        (keys(&xml), prefixes(&xml)),
        (vec!["a".into()], vec!["data/".into()])
    );
    let token = element(&xml, "NextContinuationToken").unwrap();
    let r = f
        .get(&format!(
            "/many/?list-type=2&delimiter=/&max-keys=2&continuation-token={token}"
        ))
        .send()
        .await;
    assert_eq!(prefixes(&r.text()), ["z/"]);
    assert_eq!(element(&r.text(), "IsTruncated").as_deref(), Some("false"));
    // V1: NextMarker is the prefix; the marker skips under it too.
    let r = f.get("/many/?delimiter=/&max-keys=2").send().await;
    assert_eq!(element(&r.text(), "NextMarker").as_deref(), Some("data/"));
    let r = f.get("/many/?delimiter=/&marker=data/").send().await;
    assert_eq!(prefixes(&r.text()), ["z/"]);
    // start-after in the middle of the unpadded order.
    let r = f
        .get("/many/?list-type=2&prefix=data/part-&start-after=data/part-249&max-keys=3")
        .send()
        .await;
    assert_eq!(
        keys(&r.text()),
        ["data/part-2490", "data/part-2491", "data/part-2492"]
    );
}
both!(pages_delimiters_and_tokens);

async fn pattern_objects_read_change_and_vanish(f: &Front) {
    f.emu
        .add_bucket(BucketSpec::new("many").public_read())
        .unwrap();
    let p = ObjectPattern::parse("p/{000..199}.bin")
        .unwrap()
        .size(100)
        .seed(9);
    f.emu.add_objects("many", p.clone()).unwrap();
    let r = f.get("/many/p/042.bin").send().await;
    assert_eq!(r.status, 200);
    assert_eq!(&r.body[..], &synthetic_bytes(p.object_seed(42), 0, 100)[..]);
    assert_eq!(r.h("x-oss-object-type"), Some("Multipart"));
    assert!(r.h("x-oss-hash-crc64ecma").is_some());
    let etag = r.h("etag").unwrap().to_owned();
    // The same ETag every time, and in the listing.
    assert_eq!(
        f.head("/many/p/042.bin").send().await.h("etag"),
        Some(etag.as_str())
    );
    let r = f.get("/many/?list-type=2&prefix=p/042").send().await;
    assert_eq!(element(&r.text(), "ETag").as_deref(), Some(etag.as_str()));
    assert_eq!(f.get("/many/p/42.bin").send().await.status, 404);
    assert_eq!(f.get("/many/p/200.bin").send().await.status, 404);
    // Replaced: a new ETag, listed once. Deleted: gone from GET and listing.
    let new = f.emu.replace_object("many", "p/042.bin").unwrap();
    assert_ne!(new.etag, etag);
    let r = f
        .get("/many/?list-type=2&prefix=p/04&max-keys=1000")
        .send()
        .await;
    assert_eq!(keys(&r.text()).len(), 10);
    assert!(r.text().contains(&new.etag));
    f.emu.delete_object("many", "p/042.bin").unwrap();
    f.emu.delete_object("many", "p/043.bin").unwrap();
    assert_eq!(f.get("/many/p/043.bin").send().await.status, 404);
    let r = f
        .get("/many/?list-type=2&prefix=p/04&max-keys=1000")
        .send()
        .await;
    assert_eq!(keys(&r.text()).len(), 8);
    assert!(f.emu.delete_object("many", "p/043.bin").is_err());
    // Put back by hand: there again.
    f.emu
        .put_object("many", "p/043.bin", ObjectSpec::bytes(&b"back"[..]))
        .unwrap();
    assert_eq!(&f.get("/many/p/043.bin").send().await.body[..], b"back");
}
both!(pattern_objects_read_change_and_vanish);

async fn faults_on_listings_and_vanishing_objects(f: &Front) {
    let id = f.emu.add_fault(
        ServiceFault::new(FaultAction::service_unavailable())
            .listing("pub")
            .on_request(1),
    );
    let r = f.get("/pub/?list-type=2").send().await;
    assert_eq!(r.code().as_deref(), Some("ServiceUnavailable"));
    assert_eq!(f.get("/pub/?list-type=2").send().await.status, 200);
    assert_eq!(f.emu.fault_fired(id), 1);
    // Listing faults leave object requests alone, and the reverse.
    f.emu
        .add_fault(ServiceFault::new(FaultAction::internal_error()).listing("pub"));
    assert_eq!(f.get("/pub/obj").send().await.status, 200);
    f.emu.clear_faults();
    f.emu
        .add_fault(ServiceFault::new(FaultAction::internal_error()));
    assert_eq!(f.get("/pub/?list-type=2").send().await.status, 200);
    f.emu.clear_faults();
    // An object listed, then deleted just before its GET.
    f.emu
        .add_fault(ServiceFault::new(FaultAction::DeleteObject).key("pub", "hello.txt"));
    assert_eq!(
        keys(&f.get("/pub/?list-type=2").send().await.text()).len(),
        2
    );
    let r = f.get("/pub/hello.txt").send().await;
    assert_eq!(r.code().as_deref(), Some("NoSuchKey"));
    assert_eq!(f.emu.counters().fault("delete_object"), 1);
    assert_eq!(
        keys(&f.get("/pub/?list-type=2").send().await.text()),
        ["obj"]
    );
}
both!(faults_on_listings_and_vanishing_objects);

/// A versioned bucket lists current versions only: a delete marker hides its key.
async fn versioned_buckets_list_current_objects(f: &Front) {
    f.emu
        .add_bucket(
            BucketSpec::new("ver")
                .public_read()
                .versioning(oss_emulator::Versioning::Enabled),
        )
        .unwrap();
    f.emu
        .add_objects("ver", ObjectPattern::parse("k{0..4}").unwrap())
        .unwrap();
    f.emu.delete_object("ver", "k1").unwrap();
    f.emu
        .put_object("ver", "k2", ObjectSpec::bytes(&b"v2"[..]))
        .unwrap();
    let r = f.get("/ver/?list-type=2").send().await;
    assert_eq!(keys(&r.text()), ["k0", "k2", "k3", "k4"]);
    // The pattern's object is k2's older version, `null`.
    let r = f.get("/ver/k2?versionId=null").send().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 0);
}
both!(versioned_buckets_list_current_objects);
