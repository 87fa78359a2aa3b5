//! Every error the emulator produces, mapped to the right variant and retry class; and the
//! transport failures we can provoke locally.

use std::time::{Duration, SystemTime};

use oss_emulator::{BucketSpec, FaultAction, ObjectSpec, ServiceFault, StorageClass, Versioning};
use oss_http::{
    AddressingStyle, ByteRange, Client, Collect, Credentials, Error, GetRange, JitterRng,
    ObjectPin, PartRetry, RetryDecision, RetryPolicy, RetryReason, SignatureVersion,
    ThrottlePolicy,
};

use crate::common::{BUCKET, DOMAIN, Env, LOCALHOST, builder_for, chain};

const PATH: AddressingStyle = AddressingStyle::Path;
const V4: SignatureVersion = SignatureVersion::V4;

/// Runs a ranged GET of the first 10 bytes, pinned to `pin`.
async fn get(client: &Client, bucket: &str, key: &str, pin: &ObjectPin) -> Result<Collect, Error> {
    let mut sink = Collect::default();
    let range = ByteRange::inclusive(0, 9.min(pin.size.saturating_sub(1))).unwrap();
    client
        .get_range(&GetRange::new(bucket, key, pin, range), &mut sink, None)
        .await?;
    Ok(sink)
}

fn any_pin() -> ObjectPin {
    ObjectPin {
        etag: "\"00000000000000000000000000000000\"".into(),
        size: 100,
        version_id: None,
    }
}

/// Checks an OSS error: status, code, retry class, request id in Display.
#[track_caller]
fn assert_service(e: &Error, status: u16, code: &str, retry: Option<RetryReason>) {
    let s = e
        .service()
        .unwrap_or_else(|| panic!("not a service error: {e:?}"));
    assert_eq!(s.status.as_u16(), status, "{e}");
    assert_eq!(s.code, code, "{e}");
    assert!(!s.message.is_empty(), "no message: {e:?}");
    assert_eq!(e.retry_reason(), retry, "{e}");
    let id = s.request_id.as_deref().expect("request id");
    assert_eq!(id.len(), 24, "{id}");
    let text = e.to_string();
    assert!(text.contains(id), "{text}");
    assert!(text.contains(code), "{text}");
}

#[tokio::test]
async fn not_found_family_from_body_and_from_x_oss_err() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![1u8; 100]))
        .unwrap();
    env.emu
        .add_bucket(BucketSpec::new("versioned").versioning(Versioning::Enabled))
        .unwrap();
    env.emu
        .put_object("versioned", "v", ObjectSpec::bytes(vec![2u8; 100]))
        .unwrap();
    let marker = env
        .emu
        .delete_object("versioned", "v")
        .unwrap()
        .expect("a delete marker");
    let client = env.client(PATH, V4);

    // HEAD errors come from the base64 `x-oss-err` header (HEAD has no body).
    let e = client
        .head_object("missing-bucket", "k", None)
        .await
        .unwrap_err();
    assert_service(&e, 404, "NoSuchBucket", None);
    assert_eq!(
        e.service().unwrap().detail("BucketName"),
        Some("missing-bucket")
    );
    let e = client.head_object(BUCKET, "nope", None).await.unwrap_err();
    assert_service(&e, 404, "NoSuchKey", None);
    assert_eq!(e.service().unwrap().ec.as_deref(), Some("0026-00000001"));
    assert!(!e.service().unwrap().delete_marker);

    // GET errors come from the body.
    let e = get(&client, "missing-bucket", "k", &any_pin())
        .await
        .unwrap_err();
    assert_service(&e, 404, "NoSuchBucket", None);
    let e = get(&client, BUCKET, "nope", &any_pin()).await.unwrap_err();
    assert_service(&e, 404, "NoSuchKey", None);
    assert!(e.to_string().contains("check the object key"), "{e}");

    // Versions.
    let e = client
        .head_object("versioned", "v", Some("bogus"))
        .await
        .unwrap_err();
    assert_service(&e, 404, "NoSuchVersion", None);
    let e = client
        .head_object("versioned", "v", None)
        .await
        .unwrap_err();
    assert_service(&e, 404, "NoSuchKey", None);
    assert!(e.service().unwrap().delete_marker);
    let e = client
        .head_object("versioned", "v", Some(&marker))
        .await
        .unwrap_err();
    assert_service(&e, 405, "MethodNotAllowed", None);
    let pinned = ObjectPin {
        version_id: Some(marker.clone()),
        ..any_pin()
    };
    let e = get(&client, "versioned", "v", &pinned).await.unwrap_err();
    assert_service(&e, 405, "MethodNotAllowed", None);
    let e = client
        .head_object(BUCKET, "k", Some("v1"))
        .await
        .unwrap_err();
    assert_service(&e, 400, "InvalidArgument", None);
}

#[tokio::test]
async fn access_and_authentication_errors() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![1u8; 100]))
        .unwrap();
    env.emu
        .add_bucket(BucketSpec::new("payer").requester_pays(true))
        .unwrap();
    env.emu
        .put_object("payer", "k", ObjectSpec::bytes(vec![1u8; 100]))
        .unwrap();

    let anonymous = builder_for(env.port(), PATH, V4)
        .anonymous()
        .build()
        .unwrap();
    let e = anonymous.head_object(BUCKET, "k", None).await.unwrap_err();
    assert_service(&e, 403, "AccessDenied", None);
    let e = get(&anonymous, BUCKET, "k", &any_pin()).await.unwrap_err();
    assert_service(&e, 403, "AccessDenied", None);

    let client = env.client(PATH, V4);
    let e = client.head_object("payer", "k", None).await.unwrap_err();
    assert_service(&e, 403, "AccessDenied", None);
    assert!(e.to_string().contains("requester"), "{e}");
    let payer = builder_for(env.port(), PATH, V4)
        .header("x-oss-request-payer", "requester")
        .build()
        .unwrap();
    let pin = payer.head_object("payer", "k", None).await.unwrap().pin();
    get(&payer, "payer", "k", &pin).await.unwrap();

    for version in [SignatureVersion::V1, SignatureVersion::V4] {
        let stranger = builder_for(env.port(), PATH, version)
            .credentials(Credentials::new("LTAI5tUnknownKeyId", "whatever-secret").unwrap())
            .build()
            .unwrap();
        let e = stranger.head_object(BUCKET, "k", None).await.unwrap_err();
        assert_service(&e, 403, "InvalidAccessKeyId", None);
        let e = get(&stranger, BUCKET, "k", &any_pin()).await.unwrap_err();
        assert_service(&e, 403, "InvalidAccessKeyId", None);
        assert!(!format!("{e:?}{e}").contains("whatever-secret"));
    }

    // Path style on a real endpoint domain.
    let forced = builder_for(env.port(), AddressingStyle::VirtualHosted, V4)
        .path_style(true)
        .build()
        .unwrap();
    assert_eq!(forced.addressing_style(), PATH);
    let e = get(&forced, BUCKET, "k", &any_pin()).await.unwrap_err();
    assert_service(&e, 403, "SecondLevelDomainForbidden", None);
    assert!(e.to_string().contains("virtual-hosted"), "{e}");
    let _ = DOMAIN;
}

#[tokio::test]
async fn clock_skew_is_corrected_from_date_then_retryable() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![1u8; 100]))
        .unwrap();
    for version in [SignatureVersion::V4, SignatureVersion::V1] {
        // Our clock is 20 minutes slow; OSS allows 15.
        let client = builder_for(env.port(), PATH, version)
            .clock(|| SystemTime::now() - Duration::from_secs(20 * 60))
            .build()
            .unwrap();
        let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
        assert_service(
            &e,
            403,
            "RequestTimeTooSkewed",
            Some(RetryReason::ClockSkewCorrected),
        );
        assert!(e.service().unwrap().clock_corrected);
        // The server is ahead of our slow clock by about 20 minutes.
        let offset = client.clock_offset_ms();
        assert!((19 * 60_000..21 * 60_000).contains(&offset), "{offset}");
        // The retry is signed with the server's time and succeeds.
        let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
        get(&client, BUCKET, "k", &pin).await.unwrap();
    }
}

#[tokio::test]
async fn object_state_precondition_range_and_symlink_errors() {
    let env = Env::start().await;
    let info = env
        .emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![1u8; 100]))
        .unwrap();
    env.emu
        .put_object(
            BUCKET,
            "cold",
            ObjectSpec::bytes(vec![1u8; 100]).storage_class(StorageClass::Archive),
        )
        .unwrap();
    env.emu
        .put_object(BUCKET, "dangling", ObjectSpec::symlink("gone"))
        .unwrap();
    env.emu
        .put_object(BUCKET, "link", ObjectSpec::symlink("k"))
        .unwrap();
    env.emu
        .put_object(BUCKET, "link2", ObjectSpec::symlink("link"))
        .unwrap();
    let client = env.client(PATH, V4);

    let meta = client.head_object(BUCKET, "cold", None).await.unwrap();
    assert_eq!(meta.storage_class, Some(oss_http::StorageClass::Archive));
    let e = get(&client, BUCKET, "cold", &meta.pin()).await.unwrap_err();
    assert_service(&e, 403, "InvalidObjectState", None);

    let stale = ObjectPin {
        etag: "\"0123456789ABCDEF0123456789ABCDEF\"".into(),
        size: info.size,
        version_id: None,
    };
    let e = get(&client, BUCKET, "k", &stale).await.unwrap_err();
    assert_service(&e, 412, "PreconditionFailed", None);
    assert!(e.is_object_changed());

    // A pin claiming a bigger object: a range starting past the real end is unsatisfiable.
    let bigger = ObjectPin {
        etag: info.etag.clone(),
        size: 1000,
        version_id: None,
    };
    let e = client
        .get_range(
            &GetRange::new(
                BUCKET,
                "k",
                &bigger,
                ByteRange::inclusive(500, 599).unwrap(),
            ),
            &mut Collect::default(),
            None,
        )
        .await
        .unwrap_err();
    assert_service(&e, 416, "InvalidRange", None);

    let e = get(&client, BUCKET, "dangling", &any_pin())
        .await
        .unwrap_err();
    assert_service(&e, 404, "SymlinkTargetNotExist", None);
    let e = get(&client, BUCKET, "link2", &any_pin()).await.unwrap_err();
    assert_service(&e, 400, "InvalidTargetType", None);
    // A symlink reads its target.
    let pin = client
        .head_object(BUCKET, "link", None)
        .await
        .unwrap()
        .pin();
    assert_eq!(
        get(&client, BUCKET, "link", &pin).await.unwrap().data,
        vec![1u8; 10]
    );

    let limited = builder_for(env.port(), PATH, V4)
        .header("x-oss-traffic-limit", "1")
        .build()
        .unwrap();
    let e = limited.head_object(BUCKET, "k", None).await.unwrap_err();
    assert_service(&e, 400, "InvalidArgument", None);
}

#[tokio::test]
async fn server_errors_and_throttling_are_retryable() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![1u8; 100]))
        .unwrap();
    let client = env.client(AddressingStyle::VirtualHosted, V4);
    let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
    let cases = [
        (
            FaultAction::internal_error(),
            500,
            "InternalError",
            RetryReason::ServerError,
        ),
        (
            FaultAction::download_traffic_limit(),
            503,
            "DownloadTrafficRateLimitExceeded",
            RetryReason::Throttled,
        ),
        (
            FaultAction::total_qps_limit(),
            503,
            "TotalQpsLimitExceeded",
            RetryReason::Throttled,
        ),
        (
            FaultAction::service_unavailable(),
            503,
            "ServiceUnavailable",
            RetryReason::Throttled,
        ),
        (
            FaultAction::error(
                503,
                "ActiveRequestLimitExceeded",
                "Too many active requests.",
            ),
            503,
            "ActiveRequestLimitExceeded",
            RetryReason::Throttled,
        ),
        (
            FaultAction::error(503, "MetaOperationQpsLimitExceeded", "Meta qps exceeded."),
            503,
            "MetaOperationQpsLimitExceeded",
            RetryReason::Throttled,
        ),
        (
            FaultAction::qps_limit(),
            429,
            "QpsLimitExceeded",
            RetryReason::RateLimited,
        ),
        (
            FaultAction::error(502, "BadGateway", "Upstream failed."),
            502,
            "BadGateway",
            RetryReason::ServerError,
        ),
    ];
    for (action, status, code, reason) in cases {
        let id = env.emu.add_fault(ServiceFault::new(action).times(2));
        let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
        assert_service(&e, status, code, Some(reason));
        let e = get(&client, BUCKET, "k", &pin).await.unwrap_err();
        assert_service(&e, status, code, Some(reason));
        assert_eq!(env.emu.fault_fired(id), 2);
        env.emu.remove_fault(id);
        get(&client, BUCKET, "k", &pin).await.unwrap();
    }
}

/// Drives `PartRetry` the way oss-resume does, against a server that fails every ranged GET;
/// returns the requests made, the decision that ended it, and the last error.
async fn retry_until_given_up(
    client: &Client,
    pin: &ObjectPin,
    policy: RetryPolicy,
    throttle: ThrottlePolicy,
) -> (u32, RetryDecision, Error) {
    let mut retry = PartRetry::with_throttle(policy, throttle);
    let mut rng = JitterRng::seeded(17);
    let mut requests = 0;
    loop {
        requests += 1;
        let e = get(client, BUCKET, "k", pin).await.unwrap_err();
        match retry.on_error(&e, &mut rng) {
            RetryDecision::Retry { delay, .. } => tokio::time::sleep(delay).await,
            give_up => return (requests, give_up, e),
        }
    }
}

#[tokio::test]
async fn throttling_and_server_errors_each_end_after_their_own_budget() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![1u8; 100]))
        .unwrap();
    let client = env.client(AddressingStyle::VirtualHosted, V4);
    let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
    let ms = Duration::from_millis;
    let policy = RetryPolicy {
        max_attempts: 3,
        initial_backoff: ms(2),
        max_backoff: ms(10),
    };
    let throttle = ThrottlePolicy {
        max_attempts: 7,
        initial_backoff: ms(2),
        max_backoff: ms(10),
    };
    let cases = [
        (FaultAction::service_unavailable(), "ServiceUnavailable", 7),
        (FaultAction::qps_limit(), "QpsLimitExceeded", 7),
        (FaultAction::internal_error(), "InternalError", 3),
    ];
    for (action, code, budget) in cases {
        let id = env.emu.add_fault(ServiceFault::new(action).ranged_only());
        let (requests, decision, e) = retry_until_given_up(&client, &pin, policy, throttle).await;
        let answered = env.emu.fault_fired(id);
        env.emu.remove_fault(id);
        assert_eq!((requests, answered), (budget, u64::from(budget)), "{code}");
        assert!(
            matches!(decision, RetryDecision::GiveUp { attempts, exhausted: Some(_) } if attempts == budget),
            "{code}: {decision:?}"
        );
        // The caller ends with the server's own answer: code, message, request id.
        assert_eq!(e.service().map(|s| s.code.as_str()), Some(code));
        assert!(e.request_id().is_some(), "{e}");
    }
}

#[tokio::test]
async fn transport_failures_are_distinct_variants() {
    // Connection refused: a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = builder_for(port, PATH, V4).build().unwrap();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e:?}");
    assert_eq!(e.retry_reason(), Some(RetryReason::Connection));
    // The OS's own words come from the typed cause, which the message leaves to the chain.
    assert!(chain(&e).to_lowercase().contains("refused"), "{e}");
    assert_eq!(e.io_kind(), Some(std::io::ErrorKind::ConnectionRefused));

    // DNS: `.invalid` never resolves (RFC 6761).
    let client = Client::builder()
        .endpoint("http://oss.nothing.invalid:9")
        .anonymous()
        .build()
        .unwrap();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    assert!(matches!(e, Error::Dns { .. }), "{e:?}");
    assert!(e.to_string().contains("bkt.oss.nothing.invalid"), "{e}");
    assert!(e.is_retryable());

    // Response-head timeout: the server waits before answering.
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![1u8; 100]))
        .unwrap();
    env.emu
        .add_fault(ServiceFault::new(FaultAction::FirstByteDelay(Duration::from_secs(3))).times(1));
    let client = env
        .builder(PATH, V4)
        .connect_timeout(Duration::from_millis(200))
        .response_head_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    assert!(matches!(e, Error::HeadTimeout { .. }), "{e:?}");
    assert_eq!(e.retry_reason(), Some(RetryReason::Timeout));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // A server that reads the request and hangs up: closed before the response.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        while let Ok((mut tcp, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = tcp.read(&mut buf).await;
            drop(tcp);
        }
    });
    let client = builder_for(port, PATH, V4).build().unwrap();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    assert!(matches!(e, Error::ClosedBeforeResponse { .. }), "{e:?}");
    assert!(e.is_retryable());
    let _ = LOCALHOST;
}

#[tokio::test]
async fn a_wrong_secret_is_signature_does_not_match_and_secrets_stay_hidden() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![1u8; 100]))
        .unwrap();
    for version in [SignatureVersion::V1, SignatureVersion::V4] {
        for style in crate::common::STYLES {
            let client = env
                .builder(style, version)
                .credentials(Credentials::new(crate::common::AK, "NotTheRightSecret0123").unwrap())
                .build()
                .unwrap();
            let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
            assert_service(&e, 403, "SignatureDoesNotMatch", None);
            let e = get(&client, BUCKET, "k", &any_pin()).await.unwrap_err();
            assert_service(&e, 403, "SignatureDoesNotMatch", None);
            let s = e.service().unwrap();
            assert_eq!(s.detail("OSSAccessKeyId"), Some(crate::common::AK));
            // The server echoes the signature and string to sign; we never show them.
            assert_eq!(s.detail("SignatureProvided"), Some("<redacted>"));
            assert_eq!(s.detail("StringToSign"), Some("<redacted>"));
            let shown = format!("{e:?} {e}");
            assert!(!shown.contains("NotTheRightSecret"), "{shown}");
            assert!(!shown.contains("GET\n"), "{shown}");
            assert!(e.to_string().contains("check the access key secret"), "{e}");
        }
    }
}

#[tokio::test]
async fn sts_tokens_and_a_provider_asked_for_every_attempt() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![1u8; 100]))
        .unwrap();
    env.emu.add_credentials(oss_emulator::Credentials::sts(
        "STS.TempKeyId",
        "TempSecret0123456789",
        "TOKEN-abc123",
    ));
    let calls = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&calls);
    let provider = move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Credentials::new("STS.TempKeyId", "TempSecret0123456789")?
            .with_security_token("TOKEN-abc123")
    };
    for version in [SignatureVersion::V1, SignatureVersion::V4] {
        let client = env
            .builder(AddressingStyle::VirtualHosted, version)
            .credentials_provider(provider.clone())
            .build()
            .unwrap();
        let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
        get(&client, BUCKET, "k", &pin).await.unwrap();
        assert!(!format!("{client:?}").contains("TOKEN-abc123"));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 4, "one call per attempt");

    let wrong_token = env
        .builder(PATH, V4)
        .credentials(
            Credentials::new("STS.TempKeyId", "TempSecret0123456789")
                .unwrap()
                .with_security_token("TOKEN-wrong")
                .unwrap(),
        )
        .build()
        .unwrap();
    let e = wrong_token
        .head_object(BUCKET, "k", None)
        .await
        .unwrap_err();
    assert_service(&e, 403, "InvalidSecurityToken", None);
    assert!(!format!("{e:?} {e}").contains("TOKEN-wrong"));
}

#[tokio::test]
async fn a_connect_that_never_completes_is_a_connect_timeout() {
    // A listener whose accept queue is full: the kernel drops further SYNs, so a connect
    // hangs until our connect timeout (loopback only, no routing tricks).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    let mut full = false;
    for _ in 0..64 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => fillers.push(s),
            _ => {
                full = true;
                break;
            }
        }
    }
    assert!(full, "could not fill the accept queue");
    let client = builder_for(addr.port(), PATH, V4)
        .connect_timeout(Duration::from_millis(300))
        .response_head_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    assert!(matches!(e, Error::ConnectTimeout { .. }), "{e:?}");
    assert_eq!(e.retry_reason(), Some(RetryReason::Timeout));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    drop((fillers, listener));
}
