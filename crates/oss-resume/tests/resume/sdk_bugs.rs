//! Each official-SDK bug of `reference/sdk-resumable.md` that applies, shown absent by a test
//! named after it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use oss_emulator::{BucketSpec, FaultAction, ObjectSpec, ServiceFault, WiremockEmulator};
use oss_resume::{Error, LocalOp, SignatureVersion};

use crate::common::{BUCKET, Env, Scratch, assert_file, client_for, fast_retry, temp_of};

#[tokio::test]
async fn sdk_c_w_c1_a_changed_object_is_never_reported_as_success() {
    let env = Env::start().await;
    env.put("obj", 400_000, 41);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::ReplaceObject(None))
            .method(http::Method::GET)
            .on_request(2),
    );
    let dir = Scratch::new("w-c1");
    let dest = dir.path("obj.bin");
    let err = env
        .client()
        .download(BUCKET, "obj", &dest)
        .part_size(100_000)
        .max_request_size(100_000) // the fault hits the second GET
        .threads(2)
        .await
        .unwrap_err();
    match &err {
        Error::ObjectChanged { part, detail, .. } => {
            assert!(part.is_some(), "{detail}");
        }
        other => panic!("{other}"),
    }
    // Nothing of either version was stitched or kept.
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[tokio::test]
async fn sdk_c_w_c3_headers_reach_head_and_every_part_get() {
    let env = Env::start().await;
    env.emu
        .add_bucket(BucketSpec::new("payer").requester_pays(true))
        .unwrap();
    env.emu
        .put_object("payer", "obj", ObjectSpec::synthetic(500_000, 42))
        .unwrap();
    let want = oss_emulator::synthetic_bytes(42, 0, 500_000);
    let dir = Scratch::new("w-c3");
    let dest = dir.path("obj.bin");
    // Without the header the bucket refuses (so a header lost on any GET would fail).
    let err = env
        .client()
        .download("payer", "obj", &dest)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Head { .. }), "{err}");
    let report = env
        .client()
        .download("payer", "obj", &dest)
        .header("x-oss-request-payer", "requester")
        .part_size(50_000)
        .threads(3)
        .await
        .unwrap();
    assert_eq!(report.parts_total, 10);
    assert_file(&dest, &want);

    // And on the wire: every request carries it; every GET is pinned and strict.
    let wire = WiremockEmulator::start(env.emu.clone()).await;
    let dest = dir.path("wire.bin");
    client_for(&wire.endpoint(), SignatureVersion::V1)
        .download("payer", "obj", &dest)
        .header("x-oss-request-payer", "requester")
        .header("x-oss-traffic-limit", "819200000")
        .part_size(100_000)
        .max_request_size(100_000) // a GET per part: every one is checked below
        .threads(2)
        .await
        .unwrap();
    assert_file(&dest, &want);
    let requests = wire.server().received_requests().await.unwrap();
    let gets: Vec<_> = requests
        .iter()
        .filter(|r| r.method == http::Method::GET)
        .collect();
    assert_eq!(gets.len(), 5);
    assert!(requests.iter().any(|r| r.method == http::Method::HEAD));
    for r in &requests {
        assert_eq!(r.headers.get("x-oss-request-payer").unwrap(), "requester");
        assert_eq!(r.headers.get("x-oss-traffic-limit").unwrap(), "819200000");
    }
    for r in gets {
        assert!(r.headers.get("if-match").is_some());
        assert!(r.headers.get("range").is_some());
        assert_eq!(r.headers.get("x-oss-range-behavior").unwrap(), "standard");
        assert_eq!(r.headers.get("accept-encoding").unwrap(), "identity");
    }
}

/// A download's own headers travel per request: downloads with different headers share the
/// client's one connection pool (no second client, TLS config and pool per download).
#[tokio::test]
async fn downloads_with_their_own_headers_share_the_clients_connections() {
    const DOWNLOADS: u64 = 6;
    let env = Env::start().await;
    env.emu
        .add_bucket(BucketSpec::new("payer").requester_pays(true))
        .unwrap();
    env.emu
        .put_object("payer", "obj", ObjectSpec::synthetic(300_000, 43))
        .unwrap();
    let want = oss_emulator::synthetic_bytes(43, 0, 300_000);
    let connections = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&connections);
    let server = env
        .emu
        .start_server_with("127.0.0.1:0".parse().unwrap(), "http", move |tcp| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move { Ok(tcp) }
        })
        .await
        .unwrap();
    let client = client_for(server.endpoint(), SignatureVersion::V4);
    let dir = Scratch::new("shared-pool");
    for i in 0..DOWNLOADS {
        let dest = dir.path(&format!("obj{i}.bin"));
        let limit = (819_200_000 + i).to_string();
        client
            .download("payer", "obj", &dest)
            .header("x-oss-request-payer", "requester")
            .header("x-oss-traffic-limit", limit)
            .await
            .unwrap();
        assert_file(&dest, &want);
        // Let the last response's connection go back to the pool before the next HEAD.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A client (and pool) per download would open at least one connection each. One pool
    // reuses its connection; hyper may open a second when a request comes before the last
    // response's connection is back in the pool, so allow a little of that.
    let opened = connections.load(Ordering::SeqCst);
    assert!(
        opened <= DOWNLOADS / 2,
        "{opened} connections for {DOWNLOADS} downloads"
    );
}

#[tokio::test]
async fn sdk_c_w_c8_a_200_whole_body_is_never_written_at_a_part_offset() {
    let env = Env::start().await;
    env.put("obj", 300_000, 43);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::WholeBodyForRange)
            .ranged_only()
            .after(1),
    );
    let dir = Scratch::new("w-c8");
    let dest = dir.path("obj.bin");
    let err = env
        .client()
        .download(BUCKET, "obj", &dest)
        .part_size(100_000)
        .max_request_size(100_000) // the fault answers the second GET
        .await
        .unwrap_err();
    match &err {
        Error::Part { part, source, .. } => {
            assert_eq!(part.index, 1);
            assert!(
                matches!(source, oss_http::Error::RangeIgnored { .. }),
                "{source}"
            );
        }
        other => panic!("{other}"),
    }
    assert!(dir.names().is_empty());
}

#[tokio::test]
async fn sdk_py_v2_w_p2_1_disk_full_fails_fast_and_is_never_swallowed() {
    let env = Env::start().await;
    env.put("obj", 2 << 20, 44);
    let dir = Scratch::new("w-p2-1");
    let dest = dir.path("obj.bin");
    let err = env
        .client()
        .download(BUCKET, "obj", &dest)
        .part_size(512 * 1024)
        .threads(2)
        .inject_enospc_after(600_000)
        .await
        .unwrap_err();
    match &err {
        Error::LocalIo {
            op: LocalOp::Write,
            part: Some(_),
            ..
        } => {}
        other => panic!("{other}"),
    }
    assert!(err.is_local() && !err.is_retryable());
    assert_eq!(err.io_kind(), Some(std::io::ErrorKind::StorageFull));
    // Never re-requested as if the network had failed.
    let gets = env.emu.counters().requests_for("GET", BUCKET, "obj");
    assert!(gets <= 4, "{gets} GETs");
    assert!(!temp_of(&dest).exists() && !dest.exists());
}

#[tokio::test]
async fn wrong_bytes_fail_the_crc_and_leave_the_destination_untouched() {
    let env = Env::start().await;
    env.put("obj", 500_000, 45);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::CorruptByte(1234))
            .ranged_only()
            .times(1),
    );
    let dir = Scratch::new("crc");
    let dest = dir.path("obj.bin");
    std::fs::write(&dest, b"previous contents").unwrap();
    let err = env
        .client()
        .download(BUCKET, "obj", &dest)
        .part_size(100_000)
        .threads(2)
        .retry_policy(fast_retry())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CrcMismatch { .. }), "{err}");
    assert_file(&dest, b"previous contents");
    assert_eq!(dir.names(), ["obj.bin"]);
}
