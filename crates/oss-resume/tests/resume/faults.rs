//! Every fault of the emulator's fault set, recovered (the retry count in the report, no byte
//! fetched twice) or failed with the right error.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use oss_emulator::{CutMode, FaultAction, NetFault, ServiceFault};
use oss_resume::{Error, SignatureVersion, ThrottlePolicy};

use crate::common::{
    BUCKET, Env, Scratch, assert_file, builder_for, chain, fast_retry, fast_throttle, temp_of,
};

const SIZE: u64 = 1 << 20;
const PART: u64 = 256 * 1024;

/// Downloads SIZE bytes through a chaos proxy with `faults`, with requests of at most
/// `max_request` bytes (`None`: as the workers size them, here one GET for the object);
/// returns the report.
async fn through_proxy(
    name: &str,
    faults: Vec<NetFault>,
    max_request: Option<u64>,
) -> oss_resume::Report {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 31);
    let proxy = env.proxy(faults).await;
    let dir = Scratch::new(name);
    let dest = dir.path("obj.bin");
    let client = builder_for(&proxy.endpoint(), SignatureVersion::V4)
        .http(|http| {
            http.connect_timeout(Duration::from_millis(300))
                .response_head_timeout(Duration::from_millis(600))
        })
        .build()
        .unwrap();
    let mut download = client
        .download(BUCKET, "obj", &dest)
        .part_size(PART)
        .threads(2)
        .retry_policy(fast_retry());
    if let Some(max) = max_request {
        download = download.max_request_size(max);
    }
    let report = download.await.unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_file(&dest, &want);
    assert_eq!(dir.names(), ["obj.bin"], "{name}");
    report
}

#[tokio::test]
async fn network_faults_are_recovered_inside_the_part() {
    let cases: Vec<(&str, Vec<NetFault>, u64)> = vec![
        (
            "cut-fin",
            vec![NetFault::CutOnceAtTotal {
                byte: 300_000,
                mode: CutMode::Fin,
            }],
            1,
        ),
        (
            "cut-rst",
            vec![NetFault::CutOnceAtTotal {
                byte: 700_001,
                mode: CutMode::Rst,
            }],
            1,
        ),
        (
            "cut-every-connection",
            vec![NetFault::CutEveryConnectionAfter {
                bytes: 100_000,
                mode: CutMode::Fin,
            }],
            5,
        ),
        (
            "stall-mid-body",
            vec![NetFault::StallAfter {
                connection: Some(1),
                bytes: 50_000,
                duration: Some(Duration::from_secs(3)),
            }],
            1,
        ),
        (
            "stall-in-head",
            vec![NetFault::StallInHead {
                connection: Some(1),
                response: 2,
                head_bytes: 10,
                duration: Some(Duration::from_secs(3)),
            }],
            1,
        ),
        (
            "random-cuts",
            vec![NetFault::RandomCut {
                probability: 0.5,
                mode: CutMode::Rst,
            }],
            1,
        ),
    ];
    // One GET per part, and one GET for all (cut mid-run, resumed at the exact byte).
    for max_request in [Some(PART), None] {
        for (name, faults, min_retries) in cases.clone() {
            let report = through_proxy(name, faults, max_request).await;
            // Random cuts on one response (one GET for the object): the seed may spare it.
            let min_retries = match (name, max_request) {
                ("random-cuts", None) => 0,
                _ => min_retries,
            };
            assert!(report.retries >= min_retries, "{name}: {}", report.retries);
            // Resumed inside the part: not one byte fetched twice.
            assert_eq!(report.bytes_transferred, SIZE, "{name}");
        }
    }
}

#[tokio::test]
async fn refused_and_dropped_connections_are_retried_head_included() {
    for (name, fault) in [
        ("refuse", NetFault::Refuse { count: 2 }),
        ("accept-close", NetFault::AcceptThenClose { count: 2 }),
    ] {
        through_proxy(name, vec![fault], None).await;
    }
}

#[tokio::test]
async fn a_lying_content_length_is_refused_before_a_byte_is_written() {
    // Longer or shorter than the range asked for: the response no longer describes that
    // range, so oss-http refuses it before reading the body and the part fails (never
    // written, never mistaken for a transient cut).
    for delta in [100i64, -100] {
        let env = Env::start().await;
        env.put("obj", SIZE, 31);
        let proxy = env
            .proxy(vec![NetFault::LieContentLength {
                connection: Some(1),
                response: 2,
                delta,
            }])
            .await;
        let dir = Scratch::new("lie");
        let dest = dir.path("obj.bin");
        let err = builder_for(&proxy.endpoint(), SignatureVersion::V4)
            .build()
            .unwrap()
            .download(BUCKET, "obj", &dest)
            .part_size(PART)
            .retry_policy(fast_retry())
            .await
            .unwrap_err();
        match &err {
            Error::Part { part, source, .. } => {
                assert_eq!(part.index, 0);
                assert!(!source.is_retryable(), "{source}");
                assert!(source.to_string().contains("Content-Length"), "{source}");
            }
            other => panic!("{delta}: {other}"),
        }
        assert!(dir.names().is_empty());
    }
}

#[tokio::test]
async fn service_errors_and_throttling_are_retried() {
    let actions = [
        FaultAction::internal_error(),
        FaultAction::service_unavailable(),
        FaultAction::download_traffic_limit(),
        FaultAction::total_qps_limit(),
        FaultAction::qps_limit(),
    ];
    for action in actions {
        let name = action.name();
        let env = Env::start().await;
        let want = env.put("obj", SIZE, 32);
        // Every 2nd object request (the first GET, and a retry or another GET after it).
        env.emu.add_fault(ServiceFault::new(action).every(2));
        let dir = Scratch::new("service");
        let dest = dir.path("obj.bin");
        let report = env
            .client()
            .download(BUCKET, "obj", &dest)
            .part_size(PART / 2)
            .threads(3)
            .retry_policy(fast_retry())
            .throttle_policy(fast_throttle())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_file(&dest, &want);
        assert!(report.retries >= 1, "{name}");
        assert_eq!(report.bytes_transferred, SIZE);
    }
}

#[tokio::test]
async fn a_slow_first_byte_times_out_and_is_retried() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 33);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::FirstByteDelay(Duration::from_millis(1500)))
            .ranged_only()
            .times(2),
    );
    let dir = Scratch::new("ttfb");
    let dest = dir.path("obj.bin");
    let report = builder_for(env.server.endpoint(), SignatureVersion::V4)
        .http(|http| {
            http.connect_timeout(Duration::from_millis(300))
                .response_head_timeout(Duration::from_millis(400))
        })
        .build()
        .unwrap()
        .download(BUCKET, "obj", &dest)
        .part_size(PART)
        .threads(2)
        .retry_policy(fast_retry())
        .await
        .unwrap();
    assert_file(&dest, &want);
    assert!(report.retries >= 2, "{}", report.retries);
}

#[tokio::test]
async fn a_skewed_clock_is_corrected_and_retried() {
    let env = Env::start().await;
    let want = env.put("obj", 300_000, 34);
    let dir = Scratch::new("skew");
    let dest = dir.path("obj.bin");
    let report = builder_for(env.server.endpoint(), SignatureVersion::V4)
        .http(|http| http.clock(|| SystemTime::now() + Duration::from_secs(20 * 60)))
        .build()
        .unwrap()
        .download(BUCKET, "obj", &dest)
        .part_size(100_000)
        .retry_policy(fast_retry())
        .await
        .unwrap();
    assert_file(&dest, &want);
    assert_eq!(report.bytes_transferred, 300_000);
}

#[tokio::test]
async fn an_exhausted_retry_budget_fails_naming_the_part_and_the_oss_error() {
    // Throttling (503 ServiceUnavailable) spends its own budget, other 5xx the fault budget;
    // the two sizes differ so each assertion shows which one ran out.
    let throttle = ThrottlePolicy {
        max_attempts: 4,
        ..fast_throttle()
    };
    let cases = [
        (
            FaultAction::service_unavailable(),
            "ServiceUnavailable",
            throttle.max_attempts,
        ),
        (
            FaultAction::internal_error(),
            "InternalError",
            fast_retry().max_attempts,
        ),
    ];
    for (action, code, budget) in cases {
        let env = Env::start().await;
        env.put("obj", SIZE, 35);
        env.emu.add_fault(ServiceFault::new(action).ranged_only());
        let dir = Scratch::new("budget");
        let dest = dir.path("obj.bin");
        let last = Arc::new(Mutex::new(None));
        let seen = Arc::clone(&last);
        let err = env
            .client()
            .download(BUCKET, "obj", &dest)
            .part_size(PART)
            .retry_policy(fast_retry())
            .throttle_policy(throttle)
            .on_progress(move |p| *seen.lock().unwrap() = Some(*p))
            .await
            .unwrap_err();
        // The last progress a failed call reports carries its retries and part size.
        let last = last.lock().unwrap().expect("progress was reported");
        assert_eq!(
            (last.retries, last.part_size),
            (u64::from(budget) - 1, PART),
            "{code}"
        );
        match &err {
            Error::Part { part, attempts, .. } => {
                assert_eq!(*attempts, budget, "{code}");
                assert_eq!((part.index, part.first, part.last), (0, 0, PART - 1));
            }
            other => panic!("{other}"),
        }
        assert_eq!(err.oss_code(), Some(code));
        assert_eq!(
            env.emu.counters().requests_for("GET", BUCKET, "obj"),
            u64::from(budget),
            "{code}"
        );
        assert!(err.request_id().is_some());
        let text = chain(&err);
        assert!(
            text.contains("part 0 (bytes 0-262143)") && text.contains("request id"),
            "{text}"
        );
        assert!(err.is_retryable());
        assert!(dir.names().is_empty());
    }
}

#[tokio::test]
async fn a_permanent_error_fails_at_once_and_stops_the_other_workers() {
    let env = Env::start().await;
    env.put("obj", 4 << 20, 36);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::error(
            403,
            "AccessDenied",
            "You have no right to access this object.",
        ))
        .ranged_only()
        .after(1),
    );
    let dir = Scratch::new("permanent");
    let dest = dir.path("obj.bin");
    let err = env
        .client()
        .download(BUCKET, "obj", &dest)
        .part_size(64 * 1024)
        .threads(4)
        .bandwidth_limit(4 << 20)
        .retry_policy(fast_retry())
        .await
        .unwrap_err();
    match &err {
        Error::Part { attempts, .. } => assert_eq!(*attempts, 1),
        other => panic!("{other}"),
    }
    assert_eq!(err.oss_code(), Some("AccessDenied"));
    // OSS's whole answer, through oss-resume's own types.
    let service: &oss_resume::ServiceError = err.service().unwrap();
    assert_eq!(service.status, 403);
    assert_eq!(service.message, "You have no right to access this object.");
    assert_eq!(service.request_id.as_deref(), err.request_id());
    assert!(
        service.advice().contains("permission"),
        "{}",
        service.advice()
    );
    assert!(!err.is_retryable());
    // 64 parts planned; the others stopped promptly instead of each being tried.
    let gets = env.emu.counters().requests_for("GET", BUCKET, "obj");
    assert!(gets <= 8, "{gets} GETs");
    assert!(!dest.exists() && !temp_of(&dest).exists());
}

#[tokio::test]
async fn a_shifted_range_is_refused_and_never_written() {
    let env = Env::start().await;
    env.put("obj", SIZE, 37);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::ShiftRange(100))
            .ranged_only()
            .times(1),
    );
    let dir = Scratch::new("shift");
    let dest = dir.path("obj.bin");
    let err = env
        .client()
        .download(BUCKET, "obj", &dest)
        .part_size(PART)
        .max_request_size(PART) // a range that can be shifted inside the object
        .retry_policy(fast_retry())
        .await
        .unwrap_err();
    match &err {
        Error::Part { source, .. } => {
            assert!(
                matches!(source, oss_http::Error::RangeMismatch { .. }),
                "{source}"
            )
        }
        other => panic!("{other}"),
    }
    assert!(dir.names().is_empty());
}

/// A server (here the proxy) that sends one byte of every response and closes: each byte
/// used to count as progress and refill the retry budget, so the download went on
/// forever (566 requests in 60 s). Progress must be meaningful (64 KiB, or 1% of the part,
/// since the last refill): the part fails after one budget of attempts.
#[tokio::test]
async fn a_server_dribbling_a_byte_per_connection_cannot_hold_a_part() {
    let env = Env::start().await;
    env.put("obj", SIZE, 36);
    let proxy = env
        .proxy(vec![NetFault::CutEveryConnectionAfter {
            bytes: 1,
            mode: CutMode::Fin,
        }])
        .await;
    let dir = Scratch::new("dribble");
    let client = builder_for(&proxy.endpoint(), SignatureVersion::V4)
        .build()
        .unwrap();
    let download = client
        .download(BUCKET, "obj", dir.path("obj.bin"))
        .part_size(SIZE)
        .checkpoint(true)
        .retry_policy(fast_retry());
    let e = tokio::time::timeout(Duration::from_secs(60), download)
        .await
        .expect("the download was still going after 60 s")
        .unwrap_err();
    assert!(matches!(e, Error::Part { attempts: 6, .. }), "{e:?}");
    let gets = env.emu.counters().requests_for("GET", BUCKET, "obj");
    assert_eq!(gets, 6, "one budget of attempts");
}
