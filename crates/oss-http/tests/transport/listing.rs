//! Listing against the emulator (every addressing style, both signatures, both listing
//! calls) and against canned servers that lie: pagination across 1000-key pages, every odd
//! character in keys, delimiters, markers, errors, retries, and the guards that keep a bad
//! server from making the lister loop or eat memory.

use std::collections::BTreeSet;

use oss_emulator::{BucketSpec, FaultAction, ObjectPattern, ObjectSpec, ServiceFault};
use oss_http::{
    AddressingStyle, Client, Error, ListPage, ListRequest, ListVersion, ListingProblem,
    RequestHeaders, RetryPolicy, SignatureVersion,
};
use proptest::prelude::*;

use crate::common::{BUCKET, Env, STYLES, VERSIONS, builder_for};
use crate::hostile::canned_server;

const LISTS: [ListVersion; 2] = [ListVersion::V2, ListVersion::V1];

/// Every page of a listing.
async fn pages(
    client: &Client,
    bucket: &str,
    request: ListRequest,
) -> Result<Vec<ListPage>, Error> {
    let mut lister = client.list_objects(bucket, request)?;
    let mut out = Vec::new();
    while let Some(page) = lister.next_page().await? {
        out.push(page);
    }
    assert!(lister.is_done());
    assert_eq!(lister.continuation(), None);
    Ok(out)
}

/// The keys and common prefixes of every page, each list in order.
async fn listed(client: &Client, request: ListRequest) -> (Vec<String>, Vec<String>) {
    let pages = pages(client, BUCKET, request).await.unwrap();
    let keys = pages
        .iter()
        .flat_map(|p| p.objects.iter().map(|o| o.key.clone()))
        .collect();
    let prefixes = pages
        .iter()
        .flat_map(|p| p.common_prefixes.iter().cloned())
        .collect();
    (keys, prefixes)
}

/// 2,500 pattern keys (unpadded, so byte order is not number order) and a few stored ones.
fn big_bucket(env: &Env) -> Vec<String> {
    let pattern = ObjectPattern::parse("data/part-{0..2499}")
        .unwrap()
        .size(7)
        .seed(1);
    env.emu.add_objects(BUCKET, pattern).unwrap();
    let stored = ["data/", "data/sub/x", "top.txt"];
    for key in stored {
        env.emu
            .put_object(BUCKET, key, ObjectSpec::bytes(&b"x"[..]))
            .unwrap();
    }
    let mut all: Vec<String> = (0..2500).map(|n| format!("data/part-{n}")).collect();
    all.extend(stored.iter().map(|s| (*s).to_owned()));
    all.sort();
    all
}

#[tokio::test]
async fn pages_of_1000_in_every_style_signature_and_call() {
    let env = Env::start().await;
    let all = big_bucket(&env);
    let under_data: Vec<String> = all
        .iter()
        .filter(|k| k.starts_with("data/"))
        .cloned()
        .collect();
    for style in STYLES {
        for version in VERSIONS {
            let client = env.client(style, version);
            for list in LISTS {
                let what = format!("{style} {version:?} {list:?}");
                let pages = pages(&client, BUCKET, ListRequest::new().version(list))
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(pages.len(), 3, "{what}");
                assert_eq!(pages[0].objects.len(), 1000, "{what}");
                assert!(pages[0].is_truncated && !pages[2].is_truncated, "{what}");
                let keys: Vec<String> = pages
                    .iter()
                    .flat_map(|p| p.objects.iter().map(|o| o.key.clone()))
                    .collect();
                assert_eq!(keys, all, "{what}");
                match list {
                    ListVersion::V2 => {
                        assert!(pages[0].next_continuation_token.is_some(), "{what}");
                        assert_eq!(pages[0].key_count, Some(1000), "{what}");
                    }
                    _ => assert_eq!(
                        pages[0].next_marker.as_deref(),
                        Some(keys[999].as_str()),
                        "{what}"
                    ),
                }
                // start-after in the middle of the byte order, under a prefix.
                let (keys, _) = listed(
                    &client,
                    ListRequest::new()
                        .version(list)
                        .prefix("data/")
                        .start_after("data/part-1999")
                        .max_keys(333),
                )
                .await;
                let want: Vec<String> = under_data
                    .iter()
                    .filter(|k| k.as_str() > "data/part-1999")
                    .cloned()
                    .collect();
                assert_eq!(keys, want, "{what}");
            }
        }
    }
    // What the emulator saw: list-type=2 only for V2, a bucket-level resource.
    let log = env.emu.request_log();
    assert!(log.iter().all(|r| r.resource == "bkt/"), "{log:?}");
}

#[tokio::test]
async fn an_entry_carries_what_head_says() {
    let env = Env::start().await;
    env.emu
        .put_object(
            BUCKET,
            "cold.bin",
            ObjectSpec::synthetic(1234, 5)
                .storage_class(oss_emulator::StorageClass::ColdArchive)
                .restore(oss_emulator::Restore::Ongoing),
        )
        .unwrap();
    env.emu
        .put_object(BUCKET, "hello.txt", ObjectSpec::bytes(&b"hello"[..]))
        .unwrap();
    let client = env.client(AddressingStyle::Path, SignatureVersion::V4);
    let page = pages(&client, BUCKET, ListRequest::new())
        .await
        .unwrap()
        .remove(0);
    for o in &page.objects {
        let head = client.head_object(BUCKET, &o.key, None).await.unwrap();
        assert_eq!(o.size, head.size);
        assert_eq!(o.etag, head.etag);
        assert_eq!(Some(o.last_modified), head.last_modified);
        assert_eq!(o.object_type, head.object_type);
        assert_eq!(o.storage_class, head.storage_class);
    }
    assert_eq!(
        page.objects[0].restore,
        Some(oss_http::RestoreStatus::Ongoing)
    );
    assert_eq!(page.objects[1].restore, None);
    assert_eq!(
        page.objects[1].object_type,
        Some(oss_http::ObjectType::Normal)
    );
}

/// Every printable ASCII punctuation character, space, `%`, `+`, control characters (only
/// `encoding-type=url` lets them through XML), Unicode, keys ending in `/`, a leading `/`
/// and `//`: each comes back byte for byte, through pages of 3, in both calls.
#[tokio::test]
async fn odd_keys_come_back_exactly() {
    let env = Env::start().await;
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for c in (0x20u8..0x7f).filter(|c| !c.is_ascii_alphanumeric()) {
        keys.insert(format!("odd/{}x", char::from(c)));
    }
    for c in (0x01u8..0x20).chain([0x7f]) {
        keys.insert(format!("ctl/{}", char::from(c)));
    }
    for k in [
        "odd/a b+c%d%20e%2B.txt",
        "odd/%",
        "odd/+",
        "odd/ ",
        "odd/dir/",
        "odd/dir//x",
        "/leading",
        "文件/报告 2024.txt",
        "emoji/😀/",
        "odd/\u{feff}bom",
        "odd/&amp;<![CDATA[x]]>",
    ] {
        keys.insert(k.to_owned());
    }
    for k in &keys {
        env.emu
            .put_object(BUCKET, k, ObjectSpec::bytes(&b"."[..]))
            .unwrap();
    }
    let want: Vec<String> = keys.iter().cloned().collect();
    for version in VERSIONS {
        let client = env.client(AddressingStyle::VirtualHosted, version);
        for list in LISTS {
            let (got, _) = listed(&client, ListRequest::new().version(list).max_keys(3)).await;
            assert_eq!(got, want, "{version:?} {list:?}");
            // An odd prefix and start-after travel in the signed query too.
            let (got, _) = listed(
                &client,
                ListRequest::new()
                    .version(list)
                    .prefix("odd/")
                    .start_after("odd/%")
                    .max_keys(2),
            )
            .await;
            let expected: Vec<String> = want
                .iter()
                .filter(|k| k.starts_with("odd/") && k.as_str() > "odd/%")
                .cloned()
                .collect();
            assert_eq!(got, expected, "{version:?} {list:?}");
        }
    }
}

#[tokio::test]
async fn delimiters_roll_up_common_prefixes_across_pages() {
    let env = Env::start().await;
    for key in [
        "a.txt", "d1/x", "d1/y/z", "d2/", "d2/k", "d3 +%/q", "e.txt", "f/", "g/h/i",
    ] {
        env.emu
            .put_object(BUCKET, key, ObjectSpec::bytes(&b"."[..]))
            .unwrap();
    }
    let client = env.client(AddressingStyle::Path, SignatureVersion::V1);
    for list in LISTS {
        for max_keys in [1, 2, 3, 1000] {
            let (keys, prefixes) = listed(
                &client,
                ListRequest::new()
                    .version(list)
                    .delimiter("/")
                    .max_keys(max_keys),
            )
            .await;
            let what = format!("{list:?} max_keys {max_keys}");
            assert_eq!(keys, ["a.txt", "e.txt"], "{what}");
            assert_eq!(prefixes, ["d1/", "d2/", "d3 +%/", "f/", "g/"], "{what}");
            let (keys, prefixes) = listed(
                &client,
                ListRequest::new()
                    .version(list)
                    .prefix("d2/")
                    .delimiter("/")
                    .max_keys(max_keys),
            )
            .await;
            assert_eq!(
                (keys, prefixes),
                (vec!["d2/".into(), "d2/k".into()], vec![]),
                "{what}"
            );
        }
    }
    // A multi-character delimiter.
    let (keys, prefixes) = listed(&client, ListRequest::new().delimiter("/y/")).await;
    assert_eq!(prefixes, ["d1/y/"]);
    assert!(!keys.contains(&"d1/y/z".to_owned()));
}

#[tokio::test]
async fn errors_are_typed_and_not_retried() {
    let env = Env::start().await;
    let client = env.client(AddressingStyle::Path, SignatureVersion::V4);
    env.emu.reset_counters();
    let e = pages(&client, "nosuch", ListRequest::new())
        .await
        .unwrap_err();
    let s = e.service().expect("a service error");
    assert_eq!((s.status.as_u16(), s.code.as_str()), (404, "NoSuchBucket"));
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("ListObjectsV2 nosuch"), "{e}");
    assert_eq!(env.emu.counters().requests, 1);
    // Anonymous on a private bucket; a wrong secret.
    let anonymous = builder_for(env.port(), AddressingStyle::Path, SignatureVersion::V4)
        .anonymous()
        .build()
        .unwrap();
    let e = pages(&anonymous, BUCKET, ListRequest::new())
        .await
        .unwrap_err();
    assert_eq!(e.service().unwrap().code, "AccessDenied");
    let wrong = builder_for(env.port(), AddressingStyle::Path, SignatureVersion::V1)
        .credentials(oss_http::Credentials::new(crate::common::AK, "wrong").unwrap())
        .build()
        .unwrap();
    let e = pages(&wrong, BUCKET, ListRequest::new().prefix("p"))
        .await
        .unwrap_err();
    assert_eq!(e.service().unwrap().code, "SignatureDoesNotMatch");
    // Requester pays: the header rides on every page.
    env.emu
        .add_bucket(BucketSpec::new("payer").requester_pays(true))
        .unwrap();
    let e = pages(&client, "payer", ListRequest::new())
        .await
        .unwrap_err();
    assert_eq!(e.service().unwrap().code, "AccessDenied");
    let mut headers = RequestHeaders::new();
    headers.insert("x-oss-request-payer", "requester").unwrap();
    pages(&client, "payer", ListRequest::new().headers(headers))
        .await
        .unwrap();
    // Bad settings never reach the wire.
    for request in [
        ListRequest::new().max_keys(0),
        ListRequest::new().prefix("p".repeat(1024)),
    ] {
        let e = client.list_objects(BUCKET, request).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest { .. }), "{e:?}");
    }
    assert!(
        client
            .list_objects("Bad_Bucket", ListRequest::new())
            .is_err()
    );
}

#[tokio::test]
async fn server_errors_and_throttling_are_retried_per_page() {
    let env = Env::start().await;
    big_bucket(&env);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::service_unavailable())
            .listing(BUCKET)
            .every(2)
            .times(2),
    );
    env.emu.add_fault(
        ServiceFault::new(FaultAction::internal_error())
            .listing(BUCKET)
            .on_request(5),
    );
    let client = env.client(AddressingStyle::Path, SignatureVersion::V4);
    let fast = RetryPolicy {
        initial_backoff: std::time::Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let mut lister = client
        .list_objects(
            BUCKET,
            ListRequest::new()
                .retry(fast)
                .throttle(oss_http::ThrottlePolicy {
                    initial_backoff: std::time::Duration::from_millis(1),
                    ..oss_http::ThrottlePolicy::default()
                }),
        )
        .unwrap();
    let mut keys = 0;
    while let Some(page) = lister.next_page().await.unwrap() {
        keys += page.objects.len();
    }
    assert_eq!(keys, 2503);
    assert_eq!(lister.pages(), 3);
    assert_eq!(lister.retries(), 3);
    // A fault that never stops ends the listing with the last refusal, after the budget.
    env.emu
        .add_fault(ServiceFault::new(FaultAction::internal_error()).listing(""));
    let e = pages(
        &client,
        BUCKET,
        ListRequest::new().retry(RetryPolicy {
            max_attempts: 3,
            ..fast
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(e.service().unwrap().code, "InternalError");
}

/// A listing page as a canned server sends it.
fn page(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nx-oss-request-id: 5C3D9175B6FC201293AD4890\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn contents(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| {
            format!(
                "<Contents><Key>{k}</Key><LastModified>2024-01-15T08:30:00.000Z</LastModified><ETag>\"E\"</ETag><Size>1</Size></Contents>"
            )
        })
        .collect()
}

/// Lists from a canned server; the error, and how many requests it took.
async fn hostile(
    list: ListVersion,
    respond: impl Fn(u64) -> Vec<u8> + Send + Sync + 'static,
) -> (Result<Vec<ListPage>, Error>, u64) {
    let (port, requests) = canned_server(respond).await;
    let client = builder_for(port, AddressingStyle::Path, SignatureVersion::V4)
        .build()
        .unwrap();
    let result = pages(
        &client,
        BUCKET,
        ListRequest::new().version(list).max_page_bytes(1 << 20),
    )
    .await;
    (result, requests.load(std::sync::atomic::Ordering::SeqCst))
}

fn problem(result: &Result<Vec<ListPage>, Error>) -> ListingProblem {
    match result {
        Err(Error::InvalidListing {
            problem,
            request_id,
            ..
        }) => {
            assert_eq!(request_id.as_deref(), Some("5C3D9175B6FC201293AD4890"));
            (**problem).clone()
        }
        other => panic!("not an unusable listing: {other:?}"),
    }
}

#[tokio::test]
async fn a_listing_that_does_not_advance_is_an_error_not_a_loop() {
    // Truncated without a token.
    let (r, n) = hostile(ListVersion::V2, |_| {
        page(&format!(
            "<ListBucketResult><IsTruncated>true</IsTruncated>{}</ListBucketResult>",
            contents(&["a"])
        ))
    })
    .await;
    assert_eq!(problem(&r), ListingProblem::NoContinuation);
    assert_eq!(n, 1);
    // The same token back.
    let (r, n) = hostile(ListVersion::V2, |n| {
        let key = if n == 1 { "a" } else { "b" };
        page(&format!(
            "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>T</NextContinuationToken>{}</ListBucketResult>",
            contents(&[key])
        ))
    })
    .await;
    assert_eq!(
        problem(&r),
        ListingProblem::RepeatedToken { token: "T".into() }
    );
    assert_eq!(n, 2);
    // New tokens, but the keys start over: a loop all the same.
    let (r, _) = hostile(ListVersion::V2, |n| {
        page(&format!(
            "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>T{n}</NextContinuationToken>{}</ListBucketResult>",
            contents(&["a", "b"])
        ))
    })
    .await;
    assert_eq!(
        problem(&r),
        ListingProblem::NotAdvancing {
            previous: "b".into(),
            got: "a".into()
        }
    );
    // Empty truncated pages with fresh tokens, forever.
    let (r, n) = hostile(ListVersion::V2, |n| {
        page(&format!(
            "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>T{n}</NextContinuationToken></ListBucketResult>"
        ))
    })
    .await;
    assert!(matches!(problem(&r), ListingProblem::EmptyPages { .. }));
    assert_eq!(n, 1001);
    // V1 without NextMarker continues after the last key (S3's rule); a marker that does
    // not move is refused.
    let (r, n) = hostile(ListVersion::V1, |n| {
        let body = match n {
            1 => format!(
                "<ListBucketResult><IsTruncated>true</IsTruncated>{}</ListBucketResult>",
                contents(&["a", "b"])
            ),
            _ => format!(
                "<ListBucketResult><IsTruncated>false</IsTruncated>{}</ListBucketResult>",
                contents(&["c"])
            ),
        };
        page(&body)
    })
    .await;
    let pages = r.unwrap();
    assert_eq!(pages[0].next_marker.as_deref(), Some("b"));
    assert_eq!(pages.len(), 2);
    assert_eq!(n, 2);
    let (r, _) = hostile(ListVersion::V1, |_| {
        page("<ListBucketResult><IsTruncated>true</IsTruncated><NextMarker></NextMarker></ListBucketResult>")
    })
    .await;
    assert_eq!(problem(&r), ListingProblem::NoContinuation);
}

#[tokio::test]
async fn hostile_pages_are_refused_by_their_size_not_held() {
    // A declared 100 MB body is refused unread.
    let (r, _) = hostile(ListVersion::V2, |_| {
        b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\nx-oss-request-id: 5C3D9175B6FC201293AD4890\r\n\r\n<ListBucketResult>".to_vec()
    })
    .await;
    assert_eq!(problem(&r), ListingProblem::TooLarge { limit: 1 << 20 });
    // A chunked body that goes past the cap.
    let (r, _) = hostile(ListVersion::V2, |_| {
        let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-oss-request-id: 5C3D9175B6FC201293AD4890\r\n\r\n".to_vec();
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..20 {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(&chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    })
    .await;
    assert_eq!(problem(&r), ListingProblem::TooLarge { limit: 1 << 20 });
    // 1,001 entries.
    let (r, _) = hostile(ListVersion::V2, |_| {
        page(&format!(
            "<ListBucketResult><IsTruncated>false</IsTruncated>{}</ListBucketResult>",
            "<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>".repeat(1001)
        ))
    })
    .await;
    assert_eq!(problem(&r), ListingProblem::TooManyEntries { limit: 1000 });
    // Malformed XML, with the byte where it broke.
    let (r, n) = hostile(ListVersion::V2, |_| {
        page("<ListBucketResult><IsTruncated>false</IsTruncated><Contents></Oops></ListBucketResult>")
    })
    .await;
    assert!(
        matches!(problem(&r), ListingProblem::Malformed { byte: 60, .. }),
        "{r:?}"
    );
    assert_eq!(n, 1, "not retried");
    // A key outside the prefix asked for.
    let (port, _) = canned_server(|_| {
        page(&format!(
            "<ListBucketResult><IsTruncated>false</IsTruncated>{}</ListBucketResult>",
            contents(&["other/x"])
        ))
    })
    .await;
    let client = builder_for(port, AddressingStyle::Path, SignatureVersion::V4)
        .build()
        .unwrap();
    let r = pages(&client, BUCKET, ListRequest::new().prefix("data/")).await;
    assert_eq!(
        problem(&r),
        ListingProblem::OutsidePrefix {
            key: "other/x".into()
        }
    );
}

/// A body cut before its declared length is a truncated body: retried, then reported.
#[tokio::test]
async fn a_cut_page_is_retried() {
    let full = format!(
        "<ListBucketResult><IsTruncated>false</IsTruncated>{}</ListBucketResult>",
        contents(&["a"])
    );
    let (r, n) = hostile(ListVersion::V2, move |n| {
        if n == 1 {
            let mut cut = page(&full);
            cut.truncate(cut.len() - 20);
            cut
        } else {
            page(&full)
        }
    })
    .await;
    assert_eq!(r.unwrap()[0].objects[0].key, "a");
    assert_eq!(n, 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any key set, any page size, either call, with or without a prefix: the listing is
    /// exactly the sorted keys under the prefix, each once.
    #[test]
    fn listing_is_exactly_the_sorted_key_set(
        keys in prop::collection::btree_set("[ab/%+ é]{1,6}", 0..200),
        max_keys in 1u16..40,
        v1 in any::<bool>(),
        prefix in prop::sample::select(vec!["", "a", "b/", "%"]),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let env = Env::start().await;
            for k in &keys {
                env.emu.put_object(BUCKET, k, ObjectSpec::bytes(&b"."[..])).unwrap();
            }
            let client = env.client(AddressingStyle::Path, SignatureVersion::V4);
            let list = if v1 { ListVersion::V1 } else { ListVersion::V2 };
            let (got, _) = listed(
                &client,
                ListRequest::new().version(list).prefix(prefix).max_keys(max_keys),
            )
            .await;
            let want: Vec<String> = keys.iter().filter(|k| k.starts_with(prefix)).cloned().collect();
            assert_eq!(got, want);
        });
    }
}
