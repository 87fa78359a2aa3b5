//! Issue 9's edge cases by name, argument validation, and the API's extras (progress,
//! cancellation, bandwidth limit, version id, blocking wrapper, lock).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oss_emulator::{
    BucketSpec, FaultAction, ObjectSpec, Restore, ServiceFault, StorageClass, Versioning,
};
use oss_resume::{CancellationToken, Error, OnChange, Progress};

use crate::common::{BUCKET, Env, Scratch, assert_file, fast_retry, temp_of};

#[tokio::test]
async fn zero_byte_object() {
    let env = Env::start().await;
    let dir = Scratch::new("zero");
    env.put("empty", 0, 1);
    let dest = dir.path("empty.bin");
    let report = env
        .client()
        .download(BUCKET, "empty", &dest)
        .threads(4)
        .await
        .unwrap();
    assert_file(&dest, b"");
    assert_eq!((report.bytes_total, report.parts_total), (0, 0));
    assert_eq!(env.emu.counters().requests_for("GET", BUCKET, "empty"), 0);
    assert_eq!(dir.names(), ["empty.bin"]);
}

#[tokio::test]
async fn object_smaller_than_one_part_and_part_size_larger_than_object() {
    let env = Env::start().await;
    let dir = Scratch::new("small");
    let want = env.put("small", 777, 2);
    let dest = dir.path("small.bin");
    let report = env
        .client()
        .download(BUCKET, "small", &dest)
        .part_size(5 << 30) // the largest allowed, far larger than the object
        .threads(3)
        .await
        .unwrap();
    assert_file(&dest, &want);
    assert_eq!(report.parts_total, 1);
    assert_eq!(env.emu.counters().requests_for("GET", BUCKET, "small"), 1);
}

#[tokio::test]
async fn more_threads_than_parts() {
    let env = Env::start().await;
    let dir = Scratch::new("threads");
    let want = env.put("few", 3000, 3);
    let dest = dir.path("few.bin");
    let download = || {
        env.client()
            .download(BUCKET, "few", &dest)
            .part_size(1000)
            .threads(64)
    };
    // The object is smaller than a request: one GET for the three parts.
    let report = download().await.unwrap();
    assert_file(&dest, &want);
    assert_eq!(report.parts_total, 3);
    assert_eq!(report.requests, 1);
    assert_eq!(env.emu.counters().requests_for("GET", BUCKET, "few"), 1);
    // One GET per part: three workers of the 64 have something to do.
    env.emu.reset_counters();
    let report = download().max_request_size(1000).await.unwrap();
    assert_file(&dest, &want);
    assert_eq!(report.requests, 3);
    assert_eq!(env.emu.counters().requests_for("GET", BUCKET, "few"), 3);
}

#[tokio::test]
async fn part_size_one_byte_on_a_small_object() {
    let env = Env::start().await;
    let dir = Scratch::new("onebyte");
    let want = env.put("tiny", 64, 4);
    let dest = dir.path("tiny.bin");
    let download = || {
        env.client()
            .download(BUCKET, "tiny", &dest)
            .part_size(1)
            .threads(4)
    };
    let report = download().await.unwrap();
    assert_file(&dest, &want);
    assert_eq!(report.parts_total, 64);
    assert_eq!(env.emu.counters().requests_for("GET", BUCKET, "tiny"), 1);
    env.emu.reset_counters();
    let report = download().max_request_size(1).await.unwrap();
    assert_file(&dest, &want);
    assert_eq!(report.requests, 64);
    assert_eq!(env.emu.counters().requests_for("GET", BUCKET, "tiny"), 64);
}

#[tokio::test]
async fn an_existing_destination_is_replaced_only_by_a_complete_file() {
    let env = Env::start().await;
    let dir = Scratch::new("exists");
    let want = env.put("obj", 300_000, 5);
    let dest = dir.path("obj.bin");
    std::fs::write(&dest, b"the user's old file").unwrap();
    // A failing download (a range answered with the whole body) leaves it intact.
    let fault = env
        .emu
        .add_fault(ServiceFault::new(FaultAction::WholeBodyForRange).ranged_only());
    let err = env
        .client()
        .download(BUCKET, "obj", &dest)
        .part_size(100_000)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Part { .. }), "{err}");
    assert_file(&dest, b"the user's old file");
    assert_eq!(dir.names(), ["obj.bin"]);
    env.emu.remove_fault(fault);
    env.client()
        .download(BUCKET, "obj", &dest)
        .part_size(100_000)
        .await
        .unwrap();
    assert_file(&dest, &want);
}

#[tokio::test]
async fn a_symlink_object_downloads_its_target() {
    let env = Env::start().await;
    let dir = Scratch::new("symlink");
    let want = env.put("target", 250_000, 6);
    env.emu
        .put_object(BUCKET, "link", ObjectSpec::symlink("target"))
        .unwrap();
    let dest = dir.path("link.bin");
    let report = env
        .client()
        .download(BUCKET, "link", &dest)
        .part_size(64 * 1024)
        .threads(3)
        .await
        .unwrap();
    assert_file(&dest, &want);
    assert_eq!(
        report.object.object_type,
        Some(oss_http::ObjectType::Symlink)
    );
}

#[tokio::test]
async fn an_archive_object_fails_with_invalid_object_state() {
    let env = Env::start().await;
    let dir = Scratch::new("archive");
    env.emu
        .put_object(
            BUCKET,
            "cold",
            ObjectSpec::synthetic(10_000, 7)
                .storage_class(StorageClass::Archive)
                .restore(Restore::None),
        )
        .unwrap();
    let dest = dir.path("cold.bin");
    let err = env
        .client()
        .download(BUCKET, "cold", &dest)
        .await
        .unwrap_err();
    match &err {
        Error::ObjectArchived { code, request_id } => {
            assert_eq!(code, "InvalidObjectState");
            assert!(request_id.is_some());
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("restore"), "{err}");
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[tokio::test]
async fn an_object_replaced_mid_download_restarts_under_the_restart_policy() {
    let env = Env::start().await;
    let dir = Scratch::new("replaced");
    env.put("moving", 400_000, 8);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::ReplaceObject(None))
            .method(http::Method::GET)
            .on_request(2),
    );
    let dest = dir.path("moving.bin");
    let report = env
        .client()
        .download(BUCKET, "moving", &dest)
        .part_size(100_000)
        .max_request_size(100_000) // the fault hits the second GET
        .on_change(OnChange::Restart)
        .await
        .unwrap();
    assert_eq!(report.restarts, 1);
    let now = env.emu.object_bytes(BUCKET, "moving").unwrap();
    assert_file(&dest, &now);
}

#[tokio::test]
async fn an_appendable_object_that_grows_is_never_mixed() {
    let env = Env::start().await;
    let dir = Scratch::new("append");
    env.emu
        .put_object(
            BUCKET,
            "log",
            ObjectSpec::synthetic(300_000, 9).appendable(),
        )
        .unwrap();
    let fault = env.emu.add_fault(
        ServiceFault::new(FaultAction::Append(50_000))
            .method(http::Method::GET)
            .on_request(2),
    );
    let dest = dir.path("log.bin");
    let err = env
        .client()
        .download(BUCKET, "log", &dest)
        .part_size(100_000)
        .max_request_size(100_000) // the fault hits the second GET
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ObjectChanged { part: Some(_), .. }),
        "{err}"
    );
    assert!(!dest.exists() && !temp_of(&dest).exists());
    env.emu.remove_fault(fault);
    // Restart policy: the grown object, whole.
    env.emu.add_fault(
        ServiceFault::new(FaultAction::Append(50_000))
            .method(http::Method::GET)
            .on_request(2),
    );
    let report = env
        .client()
        .download(BUCKET, "log", &dest)
        .part_size(100_000)
        .max_request_size(100_000)
        .on_change(OnChange::Restart)
        .await
        .unwrap();
    let now = env.emu.object_bytes(BUCKET, "log").unwrap();
    assert_eq!(report.bytes_total, now.len() as u64);
    assert_file(&dest, &now);
}

#[tokio::test]
async fn bad_arguments_fail_before_any_request() {
    let env = Env::start().await;
    let dir = Scratch::new("args");
    env.put("obj", 10, 1);
    let client = env.client();
    let dl = || client.download(BUCKET, "obj", dir.path("out"));
    let cases: Vec<(oss_resume::Download, &str)> = vec![
        (dl().part_size(0), "part_size"),
        (dl().part_size((5 << 30) + 1), "part_size"),
        (dl().threads(0), "threads"),
        (dl().threads(5000), "threads"),
        (dl().bandwidth_limit(0), "bandwidth_limit"),
        (client.download(BUCKET, "obj", dir.root()), "destination"),
        (
            client.download(BUCKET, "obj", dir.path("no/such/dir/file")),
            "destination",
        ),
        (
            dl().checkpoint(true).checkpoint_path(dir.root()),
            "checkpoint_path",
        ),
        (
            dl().checkpoint(true)
                .checkpoint_path(dir.path("missing/x.cp")),
            "checkpoint_path",
        ),
        (
            dl().checkpoint(true).checkpoint_path(dir.path("out")),
            "checkpoint_path",
        ),
        (
            // Its save's temp file `out.tmp` would be the destination.
            client
                .download(BUCKET, "obj", dir.path("out.tmp"))
                .checkpoint(true)
                .checkpoint_path(dir.path("out")),
            "checkpoint_path",
        ),
        (client.download(BUCKET, "", dir.path("out")), "key"),
        (
            client.download("Bad_Bucket", "obj", dir.path("out")),
            "bucket",
        ),
        (dl().header("Range", "bytes=0-1"), "header"),
        (dl().header("bad name", "v"), "header"),
    ];
    for (download, argument) in cases {
        match download.await {
            Err(Error::InvalidArgument {
                argument: got,
                problem,
            }) => {
                assert_eq!(got, argument, "{problem}");
            }
            other => panic!("{argument}: {other:?}"),
        }
    }
    assert_eq!(env.emu.counters().requests, 0);
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[tokio::test]
async fn insufficient_space_fails_after_head_with_the_numbers() {
    let env = Env::start().await;
    let dir = Scratch::new("space");
    env.emu
        .put_object(BUCKET, "huge", ObjectSpec::synthetic(1 << 42, 1))
        .unwrap();
    let dest = dir.path("huge.bin");
    let err = env
        .client()
        .download(BUCKET, "huge", &dest)
        .await
        .unwrap_err();
    match err {
        Error::InsufficientSpace {
            needed, available, ..
        } => assert!(needed == 1 << 42 && available < needed),
        other => panic!("{other}"),
    }
    // Not tested here: the same with `check_free_space(false)`, caught by the
    // preallocation. On ext4 that fallocate fills the whole disk before it fails, and the
    // tests running beside it (and anything else on the machine) got ENOSPC: the flake in
    // `crash::every_failpoint_then_resume_is_byte_exact` ("No space left on device" while
    // locking). Disk-full during the download is covered by the injected ENOSPC tests
    // and by `cargo xtask e2e`'s small filesystem.
    assert_eq!(env.emu.counters().requests_for("GET", BUCKET, "huge"), 0);
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[tokio::test]
async fn progress_is_monotonic_bounded_in_rate_and_ends_at_the_total() {
    let env = Env::start().await;
    let dir = Scratch::new("progress");
    let want = env.put("p", 2 << 20, 11);
    let seen: Arc<Mutex<Vec<(Instant, Progress)>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let report = env
        .client()
        .download(BUCKET, "p", dir.path("p.bin"))
        .part_size(256 * 1024)
        .threads(3)
        .bandwidth_limit(8 << 20)
        .progress_interval(Duration::from_millis(50))
        .on_progress(move |p| sink.lock().unwrap().push((Instant::now(), *p)))
        .await
        .unwrap();
    assert_file(&dir.path("p.bin"), &want);
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 3, "{}", seen.len());
    for w in seen.windows(2) {
        assert!(w[1].1.bytes_done >= w[0].1.bytes_done);
        assert!(w[1].1.parts_done >= w[0].1.parts_done);
    }
    // At most one call per interval, plus the final one.
    let span = seen.last().unwrap().0 - seen[0].0;
    assert!(
        seen.len() as u128 <= span.as_millis() / 50 + 2,
        "{}",
        seen.len()
    );
    let last = seen.last().unwrap().1;
    assert_eq!((last.bytes_done, last.bytes_total), (2 << 20, 2 << 20));
    assert_eq!((last.parts_done, last.parts_total), (8, 8));
    assert_eq!((last.part_size, last.retries), (256 * 1024, 0));
    assert!(seen.iter().any(|(_, p)| p.bytes_per_sec > 0.0));
    assert_eq!(report.bytes_transferred, 2 << 20);
}

#[tokio::test]
async fn the_bandwidth_limit_holds_across_workers() {
    let env = Env::start().await;
    let dir = Scratch::new("bandwidth");
    env.put("bw", 1 << 20, 12);
    let started = Instant::now();
    env.client()
        .download(BUCKET, "bw", dir.path("bw.bin"))
        .part_size(128 * 1024)
        .threads(4)
        .bandwidth_limit(2 << 20)
        .await
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    // 1 MiB at 2 MiB/s less a 200 KiB burst: at least ~0.4 s.
    assert!(secs >= 0.35, "{secs}");
}

#[tokio::test]
async fn cancellation_stops_promptly_and_cleans_up_without_checkpoint() {
    let env = Env::start().await;
    let dir = Scratch::new("cancel");
    env.put("c", 4 << 20, 13);
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let dest = dir.path("c.bin");
    let started = Instant::now();
    let err = env
        .client()
        .download(BUCKET, "c", &dest)
        .part_size(256 * 1024)
        .threads(2)
        .bandwidth_limit(2 << 20)
        .cancel_token(token)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Cancelled {
                checkpoint_saved: false,
                ..
            }
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[tokio::test]
async fn cancellation_stops_a_head_that_is_backing_off() {
    let env = Env::start().await;
    let dir = Scratch::new("cancel-head");
    env.put("h", 1000, 18);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::service_unavailable()).method(http::Method::HEAD),
    );
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let err = env
        .client()
        .download(BUCKET, "h", dir.path("h.bin"))
        .retry_policy(oss_resume::RetryPolicy {
            max_attempts: 6,
            initial_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30),
        })
        // A 503 ServiceUnavailable is throttling: its backoff is the throttling policy's.
        .throttle_policy(oss_resume::ThrottlePolicy {
            max_attempts: 16,
            initial_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30),
        })
        .cancel_token(token)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err}");
    // Full jitter: the first backoff is anywhere in 0..30 s; a cancel must not wait for it.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[tokio::test]
async fn a_version_id_pins_that_version() {
    let env = Env::start().await;
    let dir = Scratch::new("version");
    env.emu
        .add_bucket(BucketSpec::new("vbkt").versioning(Versioning::Enabled))
        .unwrap();
    let v1 = env
        .emu
        .put_object("vbkt", "doc", ObjectSpec::synthetic(200_000, 21))
        .unwrap();
    env.emu
        .put_object("vbkt", "doc", ObjectSpec::synthetic(200_000, 22))
        .unwrap();
    let dest = dir.path("doc.bin");
    let report = env
        .client()
        .download("vbkt", "doc", &dest)
        .version_id(&v1.version_id)
        .part_size(50_000)
        .threads(2)
        .await
        .unwrap();
    assert_file(&dest, &oss_emulator::synthetic_bytes(21, 0, 200_000));
    assert_eq!(
        report.object.version_id.as_deref(),
        Some(v1.version_id.as_str())
    );
}

#[test]
fn the_blocking_wrapper_works_without_a_runtime_and_refuses_inside_one() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let env = runtime.block_on(Env::start());
    let want = env.put("b", 100_000, 14);
    let dir = Scratch::new("blocking");
    let client = env.client();
    let dest = dir.path("b.bin");
    let d = client
        .download(BUCKET, "b", &dest)
        .part_size(30_000)
        .threads(2);
    let report = std::thread::spawn(move || d.blocking())
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(report.bytes_total, 100_000);
    assert_file(&dest, &want);
    let inside = runtime.block_on(async { client.download(BUCKET, "b", dir.path("x")).blocking() });
    assert!(matches!(inside, Err(Error::InsideRuntime)), "{inside:?}");
}

#[tokio::test]
async fn two_concurrent_runs_on_one_destination_never_interleave() {
    let env = Env::start().await;
    let dir = Scratch::new("twice");
    let want = env.put("t", 1 << 20, 15);
    let dest = dir.path("t.bin");
    let first = env
        .client()
        .download(BUCKET, "t", &dest)
        .part_size(128 * 1024)
        .threads(2)
        .bandwidth_limit(4 << 20);
    let first = tokio::spawn(first.into_future());
    // Wait for the first run's lock file.
    let lock = dir.path("t.bin.lock");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !lock.exists() {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let err = env
        .client()
        .download(BUCKET, "t", &dest)
        .checkpoint(true)
        .await
        .unwrap_err();
    match &err {
        Error::Locked { pid, .. } => assert_eq!(*pid, Some(std::process::id())),
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .contains(&format!("process {}", std::process::id()))
    );
    first.await.unwrap().unwrap();
    assert_file(&dest, &want);
    assert!(!lock.exists());
}

/// A caller that drops the download's future mid-run (a timeout, a `select!`) aborts the
/// workers, but the progress thread still makes its last checkpoint save: the destination
/// stays locked until it has, so no new run interleaves with it.
#[tokio::test]
async fn a_dropped_download_keeps_the_lock_until_its_progress_thread_is_done() {
    let env = Env::start().await;
    let dir = Scratch::new("dropped");
    let want = env.put("d", 1 << 20, 19);
    let dest = dir.path("d.bin");
    // Hold the download after two parts, whatever the timing.
    let gate = env.gate_after(2);
    let download = || {
        env.client()
            .download(BUCKET, "d", &dest)
            .checkpoint(true)
            .part_size(128 * 1024)
    };
    // The progress callback runs on the progress thread: park it there once progress shows.
    let (parked_tx, parked_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = Mutex::new(Some(release_rx));
    let first = download()
        .threads(2)
        .progress_interval(Duration::from_millis(5))
        .on_progress(move |p| {
            if p.bytes_done > 0
                && let Some(rx) = release_rx.lock().unwrap().take()
            {
                parked_tx.send(()).unwrap();
                let _ = rx.recv();
            }
        });
    let first = tokio::spawn(first.into_future());
    tokio::task::spawn_blocking(move || parked_rx.recv().unwrap())
        .await
        .unwrap();
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    env.emu.remove_fault(gate);

    let err = download().await.unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");

    release_tx.send(()).unwrap();
    let lock = dir.path("d.bin.lock");
    let deadline = Instant::now() + Duration::from_secs(10);
    while lock.exists() {
        assert!(Instant::now() < deadline, "the lock was never released");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let report = download().await.unwrap();
    assert!(
        matches!(report.checkpoint, oss_resume::CheckpointUse::Resumed { .. }),
        "{:?}",
        report.checkpoint
    );
    assert_file(&dest, &want);
    assert_eq!(dir.names(), ["d.bin"]);
}

#[tokio::test]
async fn a_stale_longer_temp_file_leaves_no_tail_bytes() {
    // ossutil/Go v1 (W-U3): a stale, larger temp file must not leave its tail behind.
    let env = Env::start().await;
    let dir = Scratch::new("stale");
    let want = env.put("s", 50_000, 16);
    let dest = dir.path("s.bin");
    std::fs::write(temp_of(&dest), vec![0xAB; 200_000]).unwrap();
    env.client()
        .download(BUCKET, "s", &dest)
        .part_size(10_000)
        .threads(2)
        .retry_policy(fast_retry())
        .await
        .unwrap();
    assert_file(&dest, &want);
    assert_eq!(dir.names(), ["s.bin"]);
}

use std::future::IntoFuture as _;

/// CPU seconds of the calling thread (Linux `/proc/thread-self/stat`, 100 ticks per second).
fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[tokio::test]
async fn the_progress_thread_idles_between_events() {
    // The callback runs on the aggregator thread, so it can read that thread's CPU time.
    let env = Env::start().await;
    let dir = Scratch::new("idle");
    env.put("slow", 1 << 20, 17);
    let cpu: Arc<Mutex<Vec<f64>>> = Arc::default();
    let sink = Arc::clone(&cpu);
    let started = Instant::now();
    env.client()
        .download(BUCKET, "slow", dir.path("slow.bin"))
        .part_size(256 * 1024)
        .threads(2)
        .bandwidth_limit(1 << 20)
        .progress_interval(Duration::from_millis(20))
        .on_progress(move |_| sink.lock().unwrap().push(thread_cpu_seconds()))
        .await
        .unwrap();
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu.lock().unwrap();
    let used = cpu.last().unwrap() - cpu.first().unwrap();
    assert!(wall > 0.7, "{wall}");
    assert!(
        used < 0.25 * wall,
        "the progress thread used {used} s of CPU in {wall} s"
    );
}
