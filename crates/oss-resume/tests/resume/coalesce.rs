//! Requests that cover runs of parts: the part stays the unit of the checkpoint, the CRC
//! fold, resume and progress, whatever the request size.
//!
//! - a property test: from the same starting checkpoint (a done set with holes, perhaps a
//!   part in flight), one GET per part and coalesced GETs write the same file, fetch each
//!   missing byte exactly once, and — cut at the same body byte — leave the same checkpoint;
//! - a cut in the middle of a coalesced request: the checkpoint marks only the parts
//!   completed before the cut, the part it was in at the exact byte, and the resume fetches
//!   exactly the rest;
//! - the request count falls as expected, and no request opens a connection while one is
//!   idle.

use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::time::Duration;

use oss_ckpt::fs::{CheckpointFile, SaveKind};
use oss_ckpt::{Checkpoint, Snapshot};
use oss_emulator::{CutMode, FaultAction, NetFault, ServiceFault};
use oss_parts::Plan;
use oss_resume::{Client, Download, Error, RetryPolicy, SignatureVersion};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{BUCKET, Env, Scratch, assert_file, builder_for, fast_retry};

/// Fails at the first error (a cut is then the end of the run: its checkpoint is what the
/// cut left).
fn no_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 1,
        ..fast_retry()
    }
}

/// The starting state of a case: which parts are done, and one part perhaps in flight.
#[derive(Debug, Clone)]
struct Start {
    size: u64,
    part: u64,
    threads: usize,
    /// Per part: done or not (cycled over the plan).
    done: Vec<bool>,
    /// A part in flight: (index among the parts not done, bytes of it written, as a
    /// fraction of the part in 1/256ths).
    in_flight: Option<(usize, u64)>,
    /// Where a cut falls, as a fraction of the bytes still missing (1/1024ths).
    cut: u64,
}

fn start_strategy() -> impl Strategy<Value = Start> {
    (
        1u64..=300_000,
        // At most 80 parts (a per-part run is a GET each), from one up.
        1u64..=80,
        1u64..=6,
        1usize..=4,
        proptest::option::of((0usize..64, 1u64..256)),
        1u64..1024,
    )
        .prop_flat_map(|(size, parts, tenths, threads, in_flight, cut)| {
            let done =
                proptest::collection::vec(proptest::bool::weighted(tenths as f64 / 10.0), 1..40);
            (Just((size, parts, threads, in_flight, cut)), done)
        })
        .prop_map(|((size, parts, threads, in_flight, cut), done)| Start {
            size,
            part: size.div_ceil(parts),
            threads,
            done,
            in_flight,
            cut,
        })
}

/// How requests are sized in a run of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Requests {
    /// One GET per part.
    PerPart,
    /// As the workers size them (the objects here fit in one request).
    Coalesced,
    /// At most three parts per GET: runs end at part boundaries in mid-object.
    ThreeParts,
}

impl Requests {
    fn apply(self, d: Download, part: u64) -> Download {
        match self {
            Self::PerPart => d.max_request_size(1),
            Self::Coalesced => d,
            Self::ThreeParts => d.max_request_size(3 * part),
        }
    }
}

/// The checkpoint a case starts from, made for `dest`: a real download's checkpoint (every
/// GET refused, so nothing fetched) whose snapshots are replaced by the case's done set and
/// in-flight part, with their bytes written into the temp file. Returns the bytes still
/// missing.
async fn prepare(
    env: &Env,
    client: &Client,
    key: &str,
    dest: &Path,
    start: &Start,
    want: &[u8],
) -> u64 {
    let refuse = env.emu.add_fault(
        ServiceFault::new(FaultAction::error(403, "AccessDenied", "refused")).ranged_only(),
    );
    let err = client
        .download(BUCKET, key, dest)
        .part_size(start.part)
        .checkpoint(true)
        .await
        .unwrap_err();
    env.emu.remove_fault(refuse);
    assert!(matches!(err, Error::Part { .. }), "{err}");

    let mut file = CheckpointFile::for_destination(dest);
    let mut ckpt: Checkpoint = file.load_any().unwrap();
    let plan: Plan = *ckpt.latest.plan();
    let temp = std::fs::OpenOptions::new()
        .write(true)
        .open(crate::common::temp_of(dest))
        .unwrap();
    let mut snapshot = Snapshot::new(plan);
    let mut missing = Vec::new();
    for part in plan.parts() {
        let bytes = &want[part.start() as usize..part.end() as usize];
        if start.done[(part.index() % start.done.len() as u64) as usize] {
            temp.write_all_at(bytes, part.start()).unwrap();
            snapshot
                .complete(part.index(), oss_crc::checksum(bytes))
                .unwrap();
        } else {
            missing.push(part);
        }
    }
    let mut missing_bytes: u64 = missing.iter().map(|p| p.len()).sum();
    if let Some((nth, fraction)) = start.in_flight
        && !missing.is_empty()
    {
        let part = missing[nth % missing.len()];
        let written = (part.len() * fraction / 256).min(part.len() - 1);
        if written > 0 {
            let bytes = &want[part.start() as usize..(part.start() + written) as usize];
            temp.write_all_at(bytes, part.start()).unwrap();
            snapshot
                .record(part.index(), written, oss_crc::checksum(bytes))
                .unwrap();
            missing_bytes -= written;
        }
    }
    ckpt.latest = snapshot.clone();
    ckpt.durable = snapshot;
    file.save(&ckpt, SaveKind::Durable).unwrap();
    missing_bytes
}

/// The checkpoint after the run, or `None` when the download finished (and deleted it).
fn checkpoint_after(dest: &Path) -> Option<Checkpoint> {
    CheckpointFile::for_destination(dest).load_any().ok()
}

/// One case in each request mode: the same bytes, each missing byte fetched once, no more
/// GETs than one per missing part; with one thread and no part in flight (so every mode
/// fetches the missing parts in the same order), a cut at the same body byte leaves the
/// same checkpoint in every mode, and the resume completes the file.
async fn check(env: &Env, n: u64, start: Start) -> Result<(), TestCaseError> {
    let key = format!("p{n}");
    let want = env.put(&key, start.size, n);
    let dir = Scratch::new("coalesce-prop");
    let mut gets = Vec::new();
    let mut cut_states = Vec::new();
    for (m, mode) in [Requests::PerPart, Requests::Coalesced, Requests::ThreeParts]
        .into_iter()
        .enumerate()
    {
        // Straight through.
        let dest = dir.path(&format!("{m}.bin"));
        let missing = prepare(env, &env.client(), &key, &dest, &start, &want).await;
        env.emu.reset_counters();
        let report = mode
            .apply(
                env.client()
                    .download(BUCKET, &key, &dest)
                    .part_size(start.part)
                    .threads(start.threads)
                    .checkpoint(true)
                    .retry_policy(fast_retry()),
                start.part,
            )
            .await
            .map_err(|e| TestCaseError::fail(format!("{mode:?}: {e}")))?;
        assert_file(&dest, &want);
        prop_assert_eq!(report.bytes_transferred, missing, "{:?}", mode);
        prop_assert_eq!(report.bytes_resumed, start.size - missing, "{:?}", mode);
        let served = env.emu.counters().requests_for("GET", BUCKET, &key);
        prop_assert_eq!(served, report.requests, "{:?}", mode);
        gets.push(report.requests);

        // Cut, then resumed.
        if start.in_flight.is_some() || missing == 0 {
            continue;
        }
        // Through a proxy (the checkpoint records the endpoint: every run goes through it),
        // which cuts once, at the `at`-th body byte after the preparation's (whose refusals
        // have bodies too).
        let dest = dir.path(&format!("{m}-cut.bin"));
        let at = (missing * start.cut / 1024).max(1);
        let proxy = env.proxy(Vec::new()).await;
        let client = builder_for(&proxy.endpoint(), SignatureVersion::V4)
            .build()
            .unwrap();
        prepare(env, &client, &key, &dest, &start, &want).await;
        proxy.add_fault(NetFault::CutOnceAtTotal {
            byte: proxy.stats().body_bytes_to_client + at,
            mode: CutMode::Fin,
        });
        let cut = mode
            .apply(
                client
                    .download(BUCKET, &key, &dest)
                    .part_size(start.part)
                    .threads(1)
                    .checkpoint(true)
                    .retry_policy(no_retry()),
                start.part,
            )
            .await;
        let state = match cut {
            // The cut fell between two requests (after a GET's last byte): nothing lost.
            Ok(_) => None,
            Err(Error::Part { .. }) => {
                let ckpt = checkpoint_after(&dest).expect("a cut run keeps its checkpoint");
                prop_assert_eq!(
                    ckpt.latest.bytes_done(),
                    start.size - missing + at,
                    "{:?}",
                    mode
                );
                Some(ckpt.latest)
            }
            Err(e) => return Err(TestCaseError::fail(format!("{mode:?} cut: {e}"))),
        };
        if state.is_some() {
            let report = client
                .download(BUCKET, &key, &dest)
                .part_size(start.part)
                .checkpoint(true)
                .await
                .map_err(|e| TestCaseError::fail(format!("{mode:?} resume: {e}")))?;
            prop_assert_eq!(report.bytes_transferred, missing - at, "{:?}", mode);
        }
        assert_file(&dest, &want);
        cut_states.push(state);
    }
    // Per part is the most GETs; a request never covers less than a part.
    prop_assert!(gets[1] <= gets[0] && gets[2] <= gets[0], "{gets:?}");
    // The same checkpoint after the same cut, however the requests were sized (a cut that
    // fell between two per-part GETs may fall inside a coalesced one: then the per-part
    // run finished).
    let cut: Vec<&Snapshot> = cut_states.iter().flatten().collect();
    if let Some(first) = cut.first() {
        for other in &cut {
            prop_assert_eq!(*other, *first);
        }
    }
    Ok(())
}

#[test]
fn coalesced_requests_write_the_same_bytes_and_checkpoints_as_per_part_ones() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let env = runtime.block_on(Env::start());
    // Each case is a dozen downloads against the in-process emulator: few cases, enough
    // variety in part sizes, holes and cuts.
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let n = std::sync::atomic::AtomicU64::new(0);
    runner
        .run(&start_strategy(), |start| {
            let n = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            runtime.block_on(check(&env, n, start))
        })
        .unwrap();
}

/// A cut in the middle of a coalesced request: parts completed before it are done, the one
/// it fell in is in flight at the exact byte (with the CRC of those bytes), nothing after
/// it is claimed; the resume fetches exactly the rest.
#[tokio::test]
async fn a_cut_inside_a_coalesced_request_resumes_at_the_exact_byte() {
    const SIZE: u64 = 2 << 20;
    const PART: u64 = 100_000;
    const CUT: u64 = 1_234_567;
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 77);
    let proxy = env
        .proxy(vec![NetFault::CutOnceAtTotal {
            byte: CUT,
            mode: CutMode::Fin,
        }])
        .await;
    let dir = Scratch::new("coalesce-cut");
    let dest = dir.path("obj.bin");
    let client = builder_for(&proxy.endpoint(), SignatureVersion::V4)
        .build()
        .unwrap();
    let err = client
        .download(BUCKET, "obj", &dest)
        .part_size(PART)
        .checkpoint(true)
        .retry_policy(no_retry())
        .await
        .unwrap_err();
    match &err {
        Error::Part { part, .. } => assert_eq!(part.index, CUT / PART),
        other => panic!("{other}"),
    }
    let ckpt = checkpoint_after(&dest).unwrap();
    let latest = &ckpt.latest;
    let whole = CUT / PART; // parts 0..12 complete
    let done: Vec<u64> = (0..latest.plan().len())
        .filter(|&i| latest.done().contains(i))
        .collect();
    assert_eq!(done, (0..whole).collect::<Vec<_>>());
    let in_flight = latest.in_flight();
    assert_eq!(in_flight.len(), 1);
    assert_eq!(in_flight[0].index, whole);
    assert_eq!(in_flight[0].bytes_done, CUT - whole * PART);
    assert_eq!(
        in_flight[0].crc,
        oss_crc::checksum(&want[(whole * PART) as usize..CUT as usize])
    );
    assert_eq!(latest.bytes_done(), CUT);

    // Resumed through the same endpoint (the checkpoint records it); the proxy cut once.
    env.emu.reset_counters();
    let report = client
        .download(BUCKET, "obj", &dest)
        .part_size(PART)
        .checkpoint(true)
        .await
        .unwrap();
    assert_file(&dest, &want);
    assert_eq!(report.bytes_resumed, CUT);
    assert_eq!(report.bytes_transferred, SIZE - CUT);
    assert_eq!(
        env.emu.counters().body_bytes_sent,
        SIZE - CUT,
        "the server sent only the rest"
    );
}

/// 8 MiB in 100 KB parts over 3 connections (the C SDK's example, scaled down): at most a
/// tenth as many GETs as parts, every GET counted the same by the client and the server,
/// and no more connections than workers — a request never opens one while another is idle.
#[tokio::test]
async fn small_parts_need_few_requests_and_no_extra_connections() {
    const SIZE: u64 = 8 << 20;
    const PART: u64 = 100_000;
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 78);
    let dir = Scratch::new("coalesce-count");
    for threads in [1, 3] {
        let dest = dir.path(&format!("obj{threads}.bin"));
        env.emu.reset_counters();
        let client: Client = env.client();
        let report = client
            .download(BUCKET, "obj", &dest)
            .part_size(PART)
            .threads(threads)
            .await
            .unwrap();
        assert_file(&dest, &want);
        let parts = SIZE.div_ceil(PART);
        assert_eq!(report.parts_total, parts);
        assert!(
            report.requests <= parts / 10,
            "{} GETs for {parts} parts",
            report.requests
        );
        let counters = env.emu.counters();
        assert_eq!(counters.requests_for("GET", BUCKET, "obj"), report.requests);
        assert_eq!(counters.connections, report.connections_opened);
        assert!(
            report.connections_opened <= threads as u64,
            "{} connections for {threads} workers",
            report.connections_opened
        );
        assert_eq!(counters.body_bytes_sent, SIZE);
    }
    // Reference: one GET per part, the same file.
    let dest = dir.path("per-part.bin");
    env.emu.reset_counters();
    let report = env
        .client()
        .download(BUCKET, "obj", &dest)
        .part_size(PART)
        .threads(3)
        .max_request_size(PART)
        .await
        .unwrap();
    assert_file(&dest, &want);
    assert_eq!(report.requests, SIZE.div_ceil(PART));
    // Allow a pause for the pool to settle: the counts are read after the last response.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(env.emu.counters().connections, report.connections_opened);
    // 84 requests over 3 connections: a connection goes back to the pool from a task of its
    // own after its response, so under load a request may now and then still beat it there.
    assert!(
        report.connections_opened <= 4,
        "{} connections for 84 GETs by 3 workers",
        report.connections_opened
    );
}
