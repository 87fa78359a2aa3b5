//! Scripted service faults (model level) on both front-ends.

use std::time::{Duration, Instant};

use http::Method;
use oss_emulator::{FaultAction, ObjectSpec, ServiceFault, synthetic_bytes};

use crate::both;
use crate::common::Front;

async fn error_every_nth_request(f: &Front) {
    let id = f.emu.add_fault(
        ServiceFault::new(FaultAction::service_unavailable())
            .key("pub", "obj")
            .every(2),
    );
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = f.get("/pub/obj").send().await;
        if r.status == 503 {
            assert_eq!(r.code().as_deref(), Some("ServiceUnavailable"));
            assert!(r.h("x-oss-request-id").is_some() && r.h("date").is_some());
        }
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses, [200, 503, 200, 503]);
    // Other keys are not affected.
    assert_eq!(f.get("/pub/hello.txt").send().await.status, 200);
    assert_eq!(f.emu.fault_fired(id), 2);
    assert_eq!(f.emu.counters().fault("error:ServiceUnavailable"), 2);
    f.emu.remove_fault(id);
    assert_eq!(f.get("/pub/obj").send().await.status, 200);
}
both!(error_every_nth_request);

async fn each_error_code(f: &Front) {
    for (action, status, code) in [
        (FaultAction::internal_error(), 500, "InternalError"),
        (
            FaultAction::download_traffic_limit(),
            503,
            "DownloadTrafficRateLimitExceeded",
        ),
        (FaultAction::total_qps_limit(), 503, "TotalQpsLimitExceeded"),
        (
            FaultAction::service_unavailable(),
            503,
            "ServiceUnavailable",
        ),
        (FaultAction::qps_limit(), 429, "QpsLimitExceeded"),
    ] {
        f.emu.clear_faults();
        f.emu.add_fault(ServiceFault::new(action).on_request(2));
        assert_eq!(f.get("/pub/obj").send().await.status, 200);
        let r = f.head("/pub/obj").send().await;
        assert_eq!(
            (r.status.as_u16(), r.code().as_deref()),
            (status, Some(code))
        );
        assert_eq!(
            f.get("/pub/obj").send().await.status,
            200,
            "{code} fires once"
        );
    }
}
both!(each_error_code);

async fn first_byte_delay(f: &Front) {
    f.emu.add_fault(
        ServiceFault::new(FaultAction::FirstByteDelay(Duration::from_millis(300))).on_request(1),
    );
    let t = Instant::now();
    let r = f.get("/pub/obj").send().await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.status, 200);
    let t = Instant::now();
    f.get("/pub/obj").send().await;
    assert!(t.elapsed() < Duration::from_millis(300));
}
both!(first_byte_delay);

async fn object_replaced_after_n_requests(f: &Front) {
    f.emu.add_fault(
        ServiceFault::new(FaultAction::ReplaceObject(None))
            .key("pub", "obj")
            .on_request(3),
    );
    let first = f.head("/pub/obj").send().await;
    let etag = first.h("etag").unwrap().to_owned();
    let r2 = f
        .get("/pub/obj")
        .header("if-match", &etag)
        .range("bytes=0-9")
        .send()
        .await;
    assert_eq!(r2.status, 206);
    // The third request sees a new version: a pinned download gets 412.
    let r3 = f
        .get("/pub/obj")
        .header("if-match", &etag)
        .range("bytes=10-19")
        .send()
        .await;
    assert_eq!(
        (r3.status.as_u16(), r3.code().as_deref()),
        (412, Some("PreconditionFailed"))
    );
    let r4 = f.get("/pub/obj").send().await;
    assert_ne!(r4.h("etag").unwrap(), etag);
    assert_eq!(r4.body.len(), 1000);
    assert_ne!(r4.body.as_ref(), synthetic_bytes(7, 0, 1000).as_slice());
    assert_eq!(f.emu.counters().fault("replace_object"), 1);
}
both!(object_replaced_after_n_requests);

async fn append_between_requests(f: &Front) {
    f.emu
        .put_object("pub", "log", ObjectSpec::synthetic(100, 3).appendable())
        .unwrap();
    f.emu.add_fault(
        ServiceFault::new(FaultAction::Append(28))
            .key("pub", "log")
            .on_request(2),
    );
    let r1 = f.head("/pub/log").send().await;
    assert_eq!(r1.h("content-length"), Some("100"));
    let r2 = f.get("/pub/log").send().await;
    assert_eq!(r2.body.len(), 128);
    assert_eq!(&r2.body[..100], synthetic_bytes(3, 0, 100).as_slice());
    assert_ne!(r2.h("etag"), r1.h("etag"));
    assert_eq!(r2.h("x-oss-next-append-position"), Some("128"));
}
both!(append_between_requests);

async fn wrong_answers_to_ranges(f: &Front) {
    let whole = synthetic_bytes(7, 0, 1000);
    let id = f.emu.add_fault(
        ServiceFault::new(FaultAction::WholeBodyForRange)
            .ranged_only()
            .on_request(1),
    );
    // Not ranged: does not count.
    assert_eq!(f.get("/pub/obj").send().await.status, 200);
    let r = f.get("/pub/obj").range("bytes=100-199").send().await;
    assert_eq!((r.status.as_u16(), r.body.len()), (200, 1000));
    assert!(r.h("content-range").is_none());
    f.emu.remove_fault(id);
    f.emu
        .add_fault(ServiceFault::new(FaultAction::ShiftRange(50)).on_request(1));
    let r = f.get("/pub/obj").range("bytes=100-199").send().await;
    assert_eq!(
        (r.status.as_u16(), r.h("content-range")),
        (206, Some("bytes 150-249/1000"))
    );
    assert_eq!(r.body.as_ref(), &whole[150..250]);
    f.emu.clear_faults();
    f.emu.add_fault(
        ServiceFault::new(FaultAction::CorruptByte(7))
            .method(Method::GET)
            .on_request(1),
    );
    let r = f.get("/pub/obj").range("bytes=100-199").send().await;
    assert_eq!(r.status, 206);
    let diffs: Vec<usize> = (0..100).filter(|i| r.body[*i] != whole[100 + i]).collect();
    assert_eq!(diffs, vec![7]);
}
both!(wrong_answers_to_ranges);

async fn seeded_probability_replays(f: &Front) {
    let run = |seed: u64| async move {
        f.emu.clear_faults();
        f.emu
            .add_fault(ServiceFault::new(FaultAction::qps_limit()).probability(0.4, seed));
        let mut out = Vec::new();
        for _ in 0..24 {
            out.push(f.head("/pub/obj").send().await.status.as_u16());
        }
        out
    };
    let a = run(11).await;
    let b = run(11).await;
    let c = run(12).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    let fired = a.iter().filter(|s| **s == 429).count();
    assert!((3..=18).contains(&fired), "{a:?}");
}
both!(seeded_probability_replays);
