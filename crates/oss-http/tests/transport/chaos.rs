//! Through the chaos proxy: cuts at exact body offsets, stalls, throttling, refused and
//! closed connections, lying headers; connection reuse counted at the proxy; and the retry
//! policy resuming a part inside itself.

use std::time::{Duration, Instant};

use oss_emulator::{ChaosProxy, CutMode, NetFault, ObjectSpec, synthetic_bytes};
use oss_http::{
    AddressingStyle, ByteRange, Client, Collect, Crc64, Discard, Error, GetRange, JitterRng,
    ObjectPin, PartRetry, RetryDecision, RetryPolicy, RetryReason, SignatureVersion, Stall,
};

use crate::common::{BUCKET, Env, builder_for};

const SEED: u64 = 42;

/// An emulator, a synthetic object of `size` bytes, a proxy in front with `faults`.
async fn setup(size: u64, faults: Vec<NetFault>) -> (Env, ChaosProxy, ObjectPin) {
    let env = Env::start().await;
    let info = env
        .emu
        .put_object(BUCKET, "obj", ObjectSpec::synthetic(size, SEED))
        .unwrap();
    let proxy = ChaosProxy::start(env.server.local_addr(), faults, 7)
        .await
        .unwrap();
    // Pinned from the model, so the first response on a connection is the GET under test.
    let pin = ObjectPin {
        etag: info.etag,
        size: info.size,
        version_id: None,
    };
    (env, proxy, pin)
}

fn client(proxy: &ChaosProxy, stall: Duration) -> Client {
    builder_for(
        proxy.local_addr().port(),
        AddressingStyle::VirtualHosted,
        SignatureVersion::V4,
    )
    .stall_timeout(stall)
    .build()
    .unwrap()
}

fn whole(pin: &ObjectPin) -> ByteRange {
    ByteRange::inclusive(0, pin.size - 1).unwrap()
}

#[tokio::test]
async fn a_cut_body_reports_exactly_the_bytes_delivered_and_resumes() {
    let size = 1_000_000;
    let cut = 300_001;
    let (_env, proxy, pin) = setup(
        size,
        vec![NetFault::CutAt {
            connection: Some(1),
            response: 1,
            offset: cut,
            mode: CutMode::Fin,
        }],
    )
    .await;
    let client = client(&proxy, Duration::from_secs(5));
    let expected = synthetic_bytes(SEED, 0, size as usize);
    let mut sink = Collect::default();
    let mut crc = Crc64::new();
    let range = whole(&pin);
    let e = client
        .get_range(
            &GetRange::new(BUCKET, "obj", &pin, range),
            &mut sink,
            Some(&mut crc),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Truncated { .. }), "{e:?}");
    assert_eq!(e.retry_reason(), Some(RetryReason::Truncated));
    assert_eq!(e.delivered(), cut);
    assert_eq!(sink.data, expected[..cut as usize]);
    assert_eq!(crc.value(), oss_crc::checksum(&expected[..cut as usize]));
    assert!(
        e.to_string().contains(&format!("resume from byte {cut}")),
        "{e}"
    );

    // Resume inside the part: the rest of the range, the same sink and digest.
    let rest = range.remaining_after(e.delivered()).unwrap();
    client
        .get_range(
            &GetRange::new(BUCKET, "obj", &pin, rest),
            &mut sink,
            Some(&mut crc),
        )
        .await
        .unwrap();
    assert_eq!(sink.data, expected);
    assert_eq!(crc.value(), oss_crc::checksum(&expected));
    assert_eq!(proxy.stats().fired_count("cut"), 1);
    assert_eq!(
        proxy.stats().connections,
        2,
        "the cut connection is not reused"
    );
}

#[tokio::test]
async fn a_reset_body_reports_only_what_reached_the_sink() {
    let size = 600_000;
    let (_env, proxy, pin) = setup(
        size,
        vec![NetFault::CutAt {
            connection: Some(1),
            response: 1,
            offset: 250_000,
            mode: CutMode::Rst,
        }],
    )
    .await;
    let client = client(&proxy, Duration::from_secs(5));
    let expected = synthetic_bytes(SEED, 0, size as usize);
    let mut sink = Collect::default();
    let mut crc = Crc64::new();
    let e = client
        .get_range(
            &GetRange::new(BUCKET, "obj", &pin, whole(&pin)),
            &mut sink,
            Some(&mut crc),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Truncated { .. }), "{e:?}");
    assert!(e.is_retryable());
    // An RST may destroy bytes in flight, so fewer may arrive; never more, and the count,
    // the data and the digest always agree.
    let n = e.delivered();
    assert!(n <= 250_000, "{n}");
    assert_eq!(sink.data, expected[..n as usize]);
    assert_eq!(crc.len(), n);
    assert_eq!(crc.value(), oss_crc::checksum(&expected[..n as usize]));
}

/// The stall rule at work on a 64 MiB body: throttled so it lasts at least 3x the stall
/// timeout it succeeds (slow is not stalled); a pause of 2x the stall timeout mid-body fails
/// as a stall with the exact bytes delivered.
#[tokio::test]
async fn throttled_64_mib_succeeds_but_a_mid_body_pause_is_a_stall() {
    let size: u64 = 64 << 20;
    let stall = Duration::from_millis(400);
    let rate = 40 << 20; // 64 MiB at 40 MiB/s: 1.6 s = 4x the stall timeout
    let (env, proxy, pin) = setup(
        size,
        vec![NetFault::Throttle {
            bytes_per_sec: rate,
        }],
    )
    .await;
    let client = client(&proxy, stall);
    let mut sink = Discard::default();
    let mut crc = Crc64::new();
    let started = Instant::now();
    client
        .get_range(
            &GetRange::new(BUCKET, "obj", &pin, whole(&pin)),
            &mut sink,
            Some(&mut crc),
        )
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(sink.bytes, size);
    assert!(took >= stall * 3, "the throttle did not hold: {took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    let model_crc = env.emu.object_info(BUCKET, "obj").unwrap().crc64;
    assert_eq!(Some(crc.value()), model_crc);
    drop(proxy);

    // Same object, no throttle, a pause of 2x the stall timeout after 20 MiB + 3 bytes.
    let at = (20 << 20) + 3;
    let proxy = ChaosProxy::start(
        env.server.local_addr(),
        vec![NetFault::StallAfter {
            connection: Some(1),
            bytes: at,
            duration: Some(stall * 2),
        }],
        7,
    )
    .await
    .unwrap();
    let client = self::client(&proxy, stall);
    let mut crc = Crc64::new();
    let started = Instant::now();
    let e = client
        .get_range(
            &GetRange::new(BUCKET, "obj", &pin, whole(&pin)),
            &mut Discard::default(),
            Some(&mut crc),
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            e,
            Error::Stall {
                stall: Stall::Idle { .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.delivered(), at);
    assert_eq!(crc.len(), at);
    assert_eq!(e.retry_reason(), Some(RetryReason::Stall));
    assert!(took >= stall, "{took:?}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert_eq!(proxy.stats().fired_count("stall"), 1);
}

#[tokio::test]
async fn below_the_minimum_rate_is_a_stall() {
    let (_env, proxy, pin) = setup(
        8 << 20,
        vec![NetFault::Throttle {
            bytes_per_sec: 1 << 20,
        }],
    )
    .await;
    let client = builder_for(
        proxy.local_addr().port(),
        AddressingStyle::Path,
        SignatureVersion::V1,
    )
    .stall_policy(oss_http::StallPolicy {
        idle: Some(Duration::from_secs(5)),
        min_rate: Some(oss_http::MinRate {
            bytes_per_sec: 8 << 20,
            window: Duration::from_millis(500),
        }),
    })
    .build()
    .unwrap();
    let started = Instant::now();
    let e = client
        .get_range(
            &GetRange::new(BUCKET, "obj", &pin, whole(&pin)),
            &mut Discard::default(),
            None,
        )
        .await
        .unwrap_err();
    match &e {
        Error::Stall {
            stall: Stall::TooSlow { bytes_per_sec, .. },
            delivered,
            ..
        } => {
            assert!(*bytes_per_sec < 8 << 20, "{bytes_per_sec}");
            assert!(*delivered < 8 << 20, "{delivered}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn connection_faults_map_to_transport_variants() {
    let (_env, proxy, pin) = setup(100_000, vec![]).await;
    let client = builder_for(
        proxy.local_addr().port(),
        AddressingStyle::Path,
        SignatureVersion::V4,
    )
    .response_head_timeout(Duration::from_millis(500))
    .connect_timeout(Duration::from_millis(500))
    .build()
    .unwrap();
    let get = GetRange::new(BUCKET, "obj", &pin, whole(&pin));

    proxy.add_fault(NetFault::AcceptThenClose { count: 1 });
    let e = client
        .get_range(&get, &mut Discard::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ClosedBeforeResponse { .. }), "{e:?}");
    assert!(e.is_retryable());

    // Reset at accept: depending on when the RST lands, the connect itself fails (the
    // kernel reports ECONNRESET for the new socket) or the request written on it does.
    proxy.add_fault(NetFault::Refuse { count: 1 });
    let e = client
        .get_range(&get, &mut Discard::default(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Connect { .. } | Error::ClosedBeforeResponse { .. } | Error::Transport { .. }
        ),
        "{e:?}"
    );
    assert_eq!(e.retry_reason(), Some(RetryReason::Connection));

    // A head that stops half-way: the response-head timeout fires.
    let conns = proxy.stats().connections;
    proxy.add_fault(NetFault::StallInHead {
        connection: Some(conns + 1),
        response: 1,
        head_bytes: 20,
        duration: None,
    });
    let started = Instant::now();
    let e = client
        .get_range(&get, &mut Discard::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::HeadTimeout { .. }), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // A lying Content-Length is refused before any byte is written.
    let conns = proxy.stats().connections;
    proxy.add_fault(NetFault::LieContentLength {
        connection: Some(conns + 1),
        response: 1,
        delta: 10,
    });
    let mut sink = Collect::default();
    let e = client.get_range(&get, &mut sink, None).await.unwrap_err();
    assert!(matches!(e, Error::RangeMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("Content-Length: 100010"), "{e}");
    assert!(sink.data.is_empty());

    // And the client still works.
    client
        .get_range(&get, &mut Discard::default(), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn connection_reuse_counted_at_the_proxy() {
    let (_env, proxy, pin) = setup(200_000, vec![]).await;
    let client = client(&proxy, Duration::from_secs(5));
    for i in 0..10u64 {
        let range = ByteRange::new(i * 20_000, (i + 1) * 20_000).unwrap();
        client
            .get_range(
                &GetRange::new(BUCKET, "obj", &pin, range),
                &mut Discard::default(),
                None,
            )
            .await
            .unwrap();
        client.head_object(BUCKET, "obj", None).await.unwrap();
    }
    let stats = proxy.stats();
    assert_eq!(stats.connections, 1, "{stats:?}");
    assert_eq!(stats.responses, 20);
    assert_eq!(stats.body_bytes_to_client, 200_000);

    // A stalled body's connection is dropped, never handed back to the pool. (A new client
    // has its own pool: its first connection is the proxy's second.)
    let short = builder_for(
        proxy.local_addr().port(),
        AddressingStyle::VirtualHosted,
        SignatureVersion::V4,
    )
    .stall_timeout(Duration::from_millis(200))
    .build()
    .unwrap();
    proxy.add_fault(NetFault::StallAfter {
        connection: Some(2),
        bytes: 5000,
        duration: None,
    });
    let e = short
        .get_range(
            &GetRange::new(BUCKET, "obj", &pin, whole(&pin)),
            &mut Discard::default(),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.delivered(), 5000, "{e:?}");
    short
        .get_range(
            &GetRange::new(BUCKET, "obj", &pin, whole(&pin)),
            &mut Discard::default(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(proxy.stats().connections, 3);
}

/// What oss-resume will do: retry a part under the policy, resuming inside it after each cut.
#[tokio::test]
async fn the_retry_policy_resumes_a_part_across_repeated_cuts() {
    let size = 2_000_000u64;
    let (_env, proxy, pin) = setup(
        size,
        vec![NetFault::CutEveryConnectionAfter {
            bytes: 300_000,
            mode: CutMode::Fin,
        }],
    )
    .await;
    let client = client(&proxy, Duration::from_secs(5));
    let policy = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    };
    let mut retry = PartRetry::new(policy);
    let mut rng = JitterRng::seeded(1);
    let part = whole(&pin);
    let mut sink = Collect::default();
    let mut crc = Crc64::new();
    let mut done = 0u64;
    while let Some(rest) = part.remaining_after(done) {
        match client
            .get_range(
                &GetRange::new(BUCKET, "obj", &pin, rest),
                &mut sink,
                Some(&mut crc),
            )
            .await
        {
            Ok(report) => done += report.delivered,
            Err(e) => {
                done += e.delivered();
                match retry.on_error(&e, &mut rng) {
                    RetryDecision::Retry { delay, .. } => tokio::time::sleep(delay).await,
                    RetryDecision::GiveUp { .. } => panic!("gave up: {e}"),
                }
            }
        }
    }
    let expected = synthetic_bytes(SEED, 0, size as usize);
    assert_eq!(sink.data, expected);
    assert_eq!(crc.value(), oss_crc::checksum(&expected));
    // 2 MB in 300 kB slices: 6 cuts, each followed by a retry that made progress, so a
    // budget of 3 attempts was never exhausted.
    assert_eq!(retry.total_retries(), 6);
}

#[tokio::test]
async fn a_pooled_connection_the_server_closed_is_not_reused() {
    // The proxy closes each connection right after its first 10 000 body bytes: exactly
    // the end of the first response, which leaves a dead connection in the pool.
    let (_env, proxy, pin) = setup(
        10_000,
        vec![NetFault::CutEveryConnectionAfter {
            bytes: 10_000,
            mode: CutMode::Fin,
        }],
    )
    .await;
    let client = client(&proxy, Duration::from_secs(5));
    let get = GetRange::new(BUCKET, "obj", &pin, whole(&pin));
    for round in 1..=3u64 {
        client
            .get_range(&get, &mut Discard::default(), None)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(proxy.stats().connections, round);
        // Give the FIN time to arrive: the pool must notice and not hand the connection out.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
