//! `Client::download_batch` against the emulator: a prefix of 10,000 small objects and a few
//! large ones byte-exact across listing pages, the one-GET-no-HEAD rule, journal resume after
//! an interrupted batch, changed objects, per-object failures, unsafe keys, shards, manifests
//! and dry runs.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use oss_emulator::{FaultAction, ObjectPattern, ObjectSpec, ServiceFault};
use oss_resume::batch::{BatchItem, BatchSource, Change, JOURNAL_NAME, ObjectStatus, Shard};
use oss_resume::{BatchDownload, BatchReport, CancellationToken, Durability, Error};

use crate::common::{BUCKET, Env, Scratch, assert_file, fast_retry, fast_throttle};

const PART: u64 = 64 * 1024;

fn batch(env: &Env, source: BatchSource, dest: &Path) -> BatchDownload {
    env.client()
        .download_batch(BUCKET, source, dest)
        .part_size(PART)
        .retry_policy(fast_retry())
        .throttle_policy(fast_throttle())
        .durability(Durability::Fast)
}

/// Each object's key and outcome (a short word), in the order they settled.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// `b`, recording every object's outcome.
fn outcomes(b: BatchDownload) -> (BatchDownload, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let b = b.on_object(move |o| {
        let word = match &o.status {
            ObjectStatus::Downloaded { change: None, .. } => "downloaded".to_owned(),
            ObjectStatus::Downloaded {
                change: Some(Change::SinceListing { .. }),
                ..
            } => "replaced".to_owned(),
            ObjectStatus::Downloaded {
                change: Some(_), ..
            } => "changed".to_owned(),
            ObjectStatus::AlreadyDone => "done".to_owned(),
            ObjectStatus::Directory => "dir".to_owned(),
            ObjectStatus::WouldDownload => "would".to_owned(),
            ObjectStatus::Unsafe(why) => format!("unsafe: {why}"),
            ObjectStatus::Failed(e) => format!(
                "failed {} {}",
                e.oss_code().unwrap_or("-"),
                e.request_id().map_or("no-id", |_| "id")
            ),
            _ => "other".to_owned(),
        };
        s.lock().unwrap().push((o.key.clone(), word));
    });
    (b, seen)
}

fn gets(env: &Env, key: &str) -> u64 {
    env.emu.counters().requests_for("GET", BUCKET, key)
}

fn heads(env: &Env, key: &str) -> u64 {
    env.emu.counters().requests_for("HEAD", BUCKET, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_small_and_a_few_large_byte_exact() {
    let env = Env::start().await;
    let small = ObjectPattern::parse("set/s/{0..9999}")
        .unwrap()
        .size(300)
        .seed(3);
    env.emu.add_objects(BUCKET, small.clone()).unwrap();
    let large: Vec<Vec<u8>> = (0..3)
        .map(|i| env.put(&format!("set/big-{i}"), 5 * PART + 17 * i, 40 + i))
        .collect();
    env.emu
        .put_object(BUCKET, "set/empty", ObjectSpec::bytes(&b""[..]))
        .unwrap();
    let dir = Scratch::new("batch-10k");
    let dest = dir.path("out");
    let report = batch(&env, BatchSource::prefix("set/"), &dest)
        .threads(16)
        .await
        .unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.objects, 10_004);
    assert_eq!(report.downloaded, 10_004);
    for n in (0..10_000).step_by(1) {
        let key = small.key(n).unwrap();
        let want = env.emu.object_bytes(BUCKET, &key).unwrap();
        assert_file(&dest.join(format!("s/{n}")), &want);
    }
    for (i, want) in large.iter().enumerate() {
        assert_file(&dest.join(format!("big-{i}")), want);
    }
    assert_file(&dest.join("empty"), b"");
    // Small objects: one GET, no HEAD. Large ones: HEAD, then GETs that each cover a run of
    // parts (never more GETs than parts; one when a single request covers them all).
    let c = env.emu.counters();
    assert_eq!(c.requests_for("GET", BUCKET, "set/s/4242"), 1);
    assert_eq!(c.requests_for("HEAD", BUCKET, "set/s/4242"), 0);
    assert_eq!(c.requests_for("GET", BUCKET, "set/empty"), 0);
    assert_eq!(c.requests_for("HEAD", BUCKET, "set/big-1"), 1);
    let big_gets = c.requests_for("GET", BUCKET, "set/big-1");
    assert!((1..=6).contains(&big_gets), "{big_gets} GETs for 6 parts");
    // Nothing else in the destination but the journal and the files.
    let names: BTreeSet<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let want: BTreeSet<String> = ["s", "big-0", "big-1", "big-2", "empty", JOURNAL_NAME]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(names, want);
    // A rerun fetches nothing.
    env.emu.reset_counters();
    let again = batch(&env, BatchSource::prefix("set/"), &dest)
        .threads(16)
        .await
        .unwrap();
    assert_eq!((again.already_done, again.downloaded), (10_004, 0));
    assert_eq!(env.emu.counters().ranges_served, 0);
}

#[tokio::test]
async fn a_rerun_skips_finished_objects_and_refetches_changed_or_missing_ones() {
    let env = Env::start().await;
    for i in 0..30 {
        env.put(&format!("r/{i:02}"), 1000 + i, i);
    }
    env.put("r/large", 3 * PART, 99);
    let dir = Scratch::new("batch-rerun");
    let dest = dir.path("out");
    let first = batch(&env, BatchSource::prefix("r/"), &dest).await.unwrap();
    assert_eq!(first.downloaded, 31);
    env.emu.replace_object(BUCKET, "r/03").unwrap();
    env.emu.replace_object(BUCKET, "r/large").unwrap();
    std::fs::remove_file(dest.join("07")).unwrap();
    env.emu.reset_counters();
    let (b, seen) = outcomes(batch(&env, BatchSource::prefix("r/"), &dest));
    let second = b.await.unwrap();
    assert_eq!(second.already_done, 28, "{second:?}");
    assert_eq!(second.downloaded, 3);
    assert_eq!(second.changed, 2);
    let seen = seen.lock().unwrap();
    assert!(
        seen.contains(&("r/03".into(), "changed".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("r/large".into(), "changed".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("r/07".into(), "downloaded".into())),
        "{seen:?}"
    );
    assert_file(
        &dest.join("03"),
        &env.emu.object_bytes(BUCKET, "r/03").unwrap(),
    );
    assert_file(
        &dest.join("large"),
        &env.emu.object_bytes(BUCKET, "r/large").unwrap(),
    );
    assert_eq!(gets(&env, "r/05"), 0);
    assert_eq!(heads(&env, "r/05"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_batch_resumes_without_refetching_finished_objects() {
    let env = Env::start().await;
    let pattern = ObjectPattern::parse("i/{000..199}")
        .unwrap()
        .size(2000)
        .seed(5);
    env.emu.add_objects(BUCKET, pattern.clone()).unwrap();
    // After 80 GETs every GET hangs, so the batch is held mid-way when it is cancelled.
    let gate = env.emu.add_fault(
        ServiceFault::new(FaultAction::FirstByteDelay(std::time::Duration::from_secs(
            60,
        )))
        .method(http::Method::GET)
        .after(80),
    );
    let dir = Scratch::new("batch-cancel");
    let dest = dir.path("out");
    let cancel = CancellationToken::new();
    let finished = Arc::new(Mutex::new(BTreeSet::new()));
    let (f, c) = (Arc::clone(&finished), cancel.clone());
    let run = batch(&env, BatchSource::prefix("i/"), &dest)
        .threads(4)
        .cancel_token(cancel.clone())
        .on_object(move |o| {
            if matches!(o.status, ObjectStatus::Downloaded { .. }) {
                let mut f = f.lock().unwrap();
                f.insert(o.key.clone());
                if f.len() == 80 {
                    c.cancel();
                }
            }
        });
    let e = run.await.unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e}");
    env.emu.remove_fault(gate);
    // A torn append at the journal's end (a kill in mid-write) is tolerated.
    let journal = dest.join(JOURNAL_NAME);
    let mut text = std::fs::read(&journal).unwrap();
    text.extend_from_slice(b"0123abcd 2000 - %22x");
    std::fs::write(&journal, text).unwrap();
    env.emu.reset_counters();
    let report = batch(&env, BatchSource::prefix("i/"), &dest)
        .threads(4)
        .await
        .unwrap();
    let finished = finished.lock().unwrap();
    assert_eq!(finished.len(), 80);
    assert_eq!(report.already_done, 80, "{report:?}");
    assert_eq!(report.downloaded, 120);
    for key in finished.iter() {
        assert_eq!(gets(&env, key), 0, "{key} fetched again");
    }
    for n in 0..200 {
        let key = pattern.key(n).unwrap();
        assert_file(
            &dest.join(&key[2..]),
            &env.emu.object_bytes(BUCKET, &key).unwrap(),
        );
    }
}

#[tokio::test]
async fn per_object_failures_are_reported_and_the_rest_go_on() {
    let env = Env::start().await;
    for i in 0..12 {
        env.put(&format!("f/{i:02}"), 500 + i, i);
    }
    env.emu.add_fault(
        ServiceFault::new(FaultAction::DeleteObject)
            .method(http::Method::GET)
            .key(BUCKET, "f/04"),
    );
    env.emu.add_fault(
        ServiceFault::new(FaultAction::error(
            403,
            "AccessDenied",
            "denied for this test",
        ))
        .key(BUCKET, "f/06"),
    );
    env.emu.add_fault(
        ServiceFault::new(FaultAction::ReplaceObject(None))
            .method(http::Method::GET)
            .key(BUCKET, "f/08")
            .times(1),
    );
    let dir = Scratch::new("batch-fail");
    let dest = dir.path("out");
    let (b, seen) = outcomes(batch(&env, BatchSource::prefix("f/"), &dest).threads(3));
    let report = b.await.unwrap();
    assert!(!report.is_success());
    assert_eq!((report.failed, report.downloaded), (2, 10), "{report:?}");
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        seen.contains(&("f/04".into(), "failed NoSuchKey id".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("f/06".into(), "failed AccessDenied id".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("f/08".into(), "replaced".into())),
        "{seen:?}"
    );
    assert_file(
        &dest.join("08"),
        &env.emu.object_bytes(BUCKET, "f/08").unwrap(),
    );
    assert!(!dest.join("04").exists() && !dest.join("06").exists());
    let keys: Vec<&str> = report.failures.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), 2);
    // Nothing half-written is left.
    for e in std::fs::read_dir(&dest).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".oss-tmp"), "{name}");
    }

    // Fail-fast: one connection, the batch stops at the first failure.
    let dest = dir.path("fast");
    let report = batch(&env, BatchSource::prefix("f/"), &dest)
        .threads(1)
        .fail_fast(true)
        .await
        .unwrap();
    assert!(report.stopped_early, "{report:?}");
    assert_eq!(report.failed, 1);
    assert!(report.downloaded < 11, "{report:?}");
}

#[tokio::test]
async fn unsafe_keys_never_leave_the_destination() {
    let env = Env::start().await;
    let keys = [
        "u/../escape",
        "u/../../etc/passwd",
        "u/a//b",
        "u/./dot",
        "u/CON",
        "u/d/aux.txt",
        "u/back\\slash",
        "u/ctl\u{1}x",
        "u/x.oss-tmp",
        "u/ok.txt",
        "u/a",
        "u/a/b",
        "u/d/",
        "u/e/",
    ];
    for k in keys {
        let body: &[u8] = if k.ends_with('/') { b"" } else { b"data" };
        env.emu
            .put_object(BUCKET, k, ObjectSpec::bytes(body))
            .unwrap();
    }
    env.emu
        .put_object(BUCKET, "u/full/", ObjectSpec::bytes(&b"xy"[..]))
        .unwrap();
    let dir = Scratch::new("batch-unsafe");
    let dest = dir.path("inner/out");
    let (b, seen) = outcomes(batch(&env, BatchSource::prefix("u/"), &dest).threads(1));
    let report = b.await.unwrap();
    assert_eq!(report.unsafe_keys, 10, "{:?}", seen.lock().unwrap());
    assert_eq!(report.directories, 2);
    // `a` (a file) and `a/b` (a file in a directory `a`) cannot both exist: exactly one
    // is written and the other is reported.
    assert_eq!(report.failed, 1, "{:?}", seen.lock().unwrap());
    assert_eq!(report.downloaded, 2);
    assert!(dest.join("a").is_file() ^ dest.join("a/b").is_file());
    assert_eq!(std::fs::read(dest.join("ok.txt")).unwrap(), b"data");
    assert!(dest.join("d").is_dir() && dest.join("e").is_dir());
    // Nothing beside the destination: the scratch holds `inner/out` only.
    assert_eq!(dir.names(), ["inner"]);
    let inner: Vec<_> = std::fs::read_dir(dir.path("inner")).unwrap().collect();
    assert_eq!(inner.len(), 1);
}

#[tokio::test]
async fn shards_cover_every_key_exactly_once() {
    let env = Env::start().await;
    env.emu
        .add_objects(
            BUCKET,
            ObjectPattern::parse("sh/{0..1499}").unwrap().size(10),
        )
        .unwrap();
    let dir = Scratch::new("batch-shard");
    let mut all = BTreeSet::new();
    let mut total = 0;
    for k in 0..3 {
        let (b, seen) = outcomes(
            batch(&env, BatchSource::prefix("sh/"), &dir.path("out"))
                .shard(Shard::new(k, 3).unwrap())
                .dry_run(true),
        );
        let report = b.await.unwrap();
        assert_eq!(report.would_download, report.objects);
        assert!(report.objects > 300, "shard {k}: {}", report.objects);
        total += report.objects;
        for (key, word) in seen.lock().unwrap().iter() {
            assert_eq!(word, "would");
            assert!(all.insert(key.clone()), "{key} in two shards");
        }
    }
    assert_eq!((total, all.len()), (1500, 1500));
    // A dry run writes nothing, not even the destination.
    assert!(!dir.path("out").exists());
}

#[tokio::test]
async fn manifests_filters_and_dry_runs() {
    let env = Env::start().await;
    let x = env.put("m/x.csv", 700, 1);
    let y = env.put("m/sub/y.bin", 3 * PART + 5, 2);
    env.put("m/z.csv", 10, 3);
    let dir = Scratch::new("batch-manifest");
    let dest = dir.path("out");
    let items = vec![
        BatchItem::new("m/x.csv"),
        BatchItem::to("m/sub/y.bin", "renamed/y.bin"),
        BatchItem::new("m/missing"),
        BatchItem::to("m/z.csv", "../z.csv"),
    ];
    let (b, seen) = outcomes(batch(&env, BatchSource::items(items), &dest).threads(4));
    let report = b.await.unwrap();
    assert_eq!(
        (report.downloaded, report.failed, report.unsafe_keys),
        (2, 1, 1),
        "{:?}",
        seen.lock().unwrap()
    );
    assert_file(&dest.join("m/x.csv"), &x);
    assert_file(&dest.join("renamed/y.bin"), &y);
    assert!(!dir.path("z.csv").exists());
    assert!(
        seen.lock()
            .unwrap()
            .contains(&("m/missing".into(), "failed NoSuchKey id".into()))
    );

    // Include `*.csv` only, dry run: nothing fetched, nothing written.
    env.emu.reset_counters();
    let dest2 = dir.path("dry");
    let (b, seen) = outcomes(
        batch(&env, BatchSource::prefix("m/"), &dest2)
            .filter(|k| k.ends_with(".csv"))
            .dry_run(true),
    );
    let report: BatchReport = b.await.unwrap();
    assert_eq!(report.would_download, 2);
    let keys: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(keys, ["m/x.csv", "m/z.csv"]);
    assert_eq!(env.emu.counters().ranges_served, 0);
    assert!(!dest2.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_several_write_blocks_and_new_directories_are_byte_exact() {
    let env = Env::start().await;
    // The batch writes a small object in 1 MiB blocks: sizes around that boundary, with
    // 4 MiB parts so each is still one GET, under directories that do not exist yet.
    const MIB: u64 = 1 << 20;
    let sizes = [0, 1, MIB - 1, MIB, MIB + 1, 2 * MIB + MIB / 2, 4 * MIB];
    let mut expected = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let key = format!("w/d{}/e/{i}", i % 3);
        expected.push((key.clone(), env.put(&key, *size, 40 + i as u64)));
    }
    let dir = Scratch::new("batch-blocks");
    let dest = dir.path("out");
    let report = batch(&env, BatchSource::prefix("w/"), &dest)
        .part_size(4 * MIB)
        .threads(3)
        .durability(Durability::Durable)
        .await
        .unwrap();
    assert_eq!(report.downloaded, sizes.len() as u64, "{report:?}");
    assert_eq!(report.bytes_transferred, sizes.iter().sum::<u64>());
    for (key, bytes) in &expected {
        assert_file(&dest.join(&key[2..]), bytes);
        let want_gets = u64::from(!bytes.is_empty());
        assert_eq!((gets(&env, key), heads(&env, key)), (want_gets, 0), "{key}");
    }
    // No temp file is left anywhere.
    let mut stack = vec![dest.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(!name.ends_with(".oss-tmp"), "{name}");
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_bytes_as_they_arrive() {
    let env = Env::start().await;
    let big = env.put("p/big", 16 * PART, 7);
    env.put("p/small", 1000, 8);
    let dir = Scratch::new("batch-progress");
    let dest = dir.path("out");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let report = batch(&env, BatchSource::prefix("p/"), &dest)
        .threads(2)
        // About 0.5 s for the large object, so progress runs while it is in flight.
        .bandwidth_limit(2 * 1024 * 1024)
        .progress_interval(std::time::Duration::from_millis(10))
        .on_progress(move |p| s.lock().unwrap().push(*p))
        .await
        .unwrap();
    assert_eq!(report.downloaded, 2);
    assert_file(&dest.join("big"), &big);
    let seen = seen.lock().unwrap();
    // While the large object was still in flight, its bytes were already counted.
    assert!(
        seen.iter()
            .any(|p| p.objects_done < 2 && p.bytes_transferred > p.bytes_done),
        "{seen:?}"
    );
    assert!(
        seen.windows(2)
            .all(|w| w[0].bytes_transferred <= w[1].bytes_transferred),
        "{seen:?}"
    );
    let last = seen.last().unwrap();
    assert_eq!(last.objects_done, 2);
    assert_eq!(last.bytes_transferred, 16 * PART + 1000);
}

#[tokio::test]
async fn a_manifest_head_is_retried_when_throttled() {
    let env = Env::start().await;
    let x = env.put("t/x", 700, 1);
    let y = env.put("t/y", 3 * PART + 5, 2);
    for key in ["t/x", "t/y"] {
        env.emu.add_fault(
            ServiceFault::new(FaultAction::service_unavailable())
                .method(http::Method::HEAD)
                .key(BUCKET, key)
                .times(2),
        );
    }
    let dir = Scratch::new("batch-head-retry");
    let dest = dir.path("out");
    let items = vec![BatchItem::new("t/x"), BatchItem::new("t/y")];
    let report = batch(&env, BatchSource::items(items), &dest)
        .threads(2)
        .await
        .unwrap();
    assert!(report.is_success(), "{:?}", report.failures);
    assert_eq!(report.downloaded, 2);
    assert_file(&dest.join("t/x"), &x);
    assert_file(&dest.join("t/y"), &y);
    // Two refused HEADs, then the one that answered (and the large object's own HEAD).
    assert_eq!(heads(&env, "t/x"), 3);
    assert!(heads(&env, "t/y") >= 3);
}
