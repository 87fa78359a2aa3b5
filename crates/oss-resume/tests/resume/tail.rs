//! Tail splitting (`Download::tail_splitting`) against the chaos proxy's link model: a run on
//! a straggling connection has its unstarted parts taken by an idle worker, the file stays
//! byte-exact with the object's CRC-64, the download ends sooner (in tokio's virtual time),
//! runs at similar rates are left alone, and a kill right after a split resumes byte-exact.
//! (The policy's arithmetic is tested in `src/tail.rs`, the scheduler's boundary rules in
//! `src/scheduler.rs`.)

use std::cell::Cell;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use oss_emulator::{LinkModel, Straggler};
use oss_resume::{CheckpointUse, SignatureVersion, failpoint};

use crate::common::{BUCKET, Env, Scratch, assert_file, builder_for, ckpt_of, fast_retry};
use crate::crash;

const MIB: u64 = 1 << 20;
const SIZE: u64 = 8 * MIB;
/// The seed `Env::proxy` gives its chaos proxy (it picks the straggling connections).
const PROXY_SEED: u64 = 7;

/// A 10 ms link at `rate` per connection on which, under the proxy's seed, the second
/// connection accepted is a straggler at `slow` and the others up to the 12th are not. The
/// download's HEAD opens the first; the workers reuse it and open the second and third.
fn straggling_link(rate: u64, slow: u64) -> LinkModel {
    (2..1000)
        .map(|one_in| {
            LinkModel::new(Duration::from_millis(10), rate)
                .with_straggler(Straggler { one_in, rate: slow })
        })
        .find(|link| (1..=12).all(|conn| link.is_straggler(PROXY_SEED, conn) == (conn == 2)))
        .expect("a straggler share that slows exactly the second connection")
}

/// How a test downloads: object size, part size, largest request, tail splitting, and how
/// often idle workers at the tail look again unwoken (`None`: the default).
#[derive(Clone, Copy)]
struct Setup {
    size: u64,
    part: u64,
    max_request: Option<u64>,
    split: bool,
    tail_poll: Option<Duration>,
}

/// 256 KiB parts, requests as the sizer says.
const SMALL_PARTS: Setup = Setup {
    size: SIZE,
    part: 256 * 1024,
    max_request: None,
    split: true,
    tail_poll: None,
};

/// 2 MiB parts, one per request: every run is one part, so only a cut inside a part helps.
const ONE_PART_RUNS: Setup = Setup {
    size: SIZE,
    part: 2 * MIB,
    max_request: Some(2 * MIB),
    split: true,
    tail_poll: None,
};

/// 32 MiB in 2 MiB parts, one per request: parts are still waiting to be handed out long
/// after a straggler's rate is known.
const MANY_PARTS: Setup = Setup {
    size: 32 * MIB,
    ..ONE_PART_RUNS
};

impl Setup {
    fn without_splitting(self) -> Self {
        Self {
            split: false,
            ..self
        }
    }

    fn apply(self, d: oss_resume::Download) -> oss_resume::Download {
        let d = d
            .part_size(self.part)
            .threads(3)
            .tail_splitting(self.split)
            .retry_policy(fast_retry());
        let d = match self.tail_poll {
            Some(poll) => d.tail_poll(poll),
            None => d,
        };
        match self.max_request {
            Some(max) => d.max_request_size(max),
            None => d,
        }
    }
}

/// Downloads `setup.size` bytes on 3 connections through `link` as `setup` says; returns the
/// report and the virtual seconds until the last byte.
async fn through(name: &str, link: LinkModel, setup: Setup) -> (oss_resume::Report, f64) {
    let env = Env::start().await;
    let want = env.put("obj", setup.size, 43);
    let proxy = env.proxy(Vec::new()).await;
    proxy.set_link(Some(link));
    let dir = Scratch::new(name);
    let dest = dir.path("obj.bin");
    let client = builder_for(&proxy.endpoint(), SignatureVersion::V4)
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let finished = Cell::new(false);
    let download = async {
        let report = setup.apply(client.download(BUCKET, "obj", &dest)).await;
        finished.set(true);
        report
    };
    // The transfer's end is when the proxy relayed its last byte. (Not when the call
    // returned: while the engine waits for its progress thread, a plain thread, the paused
    // clock jumps to the next timer of anything in the runtime.)
    let last_byte = async {
        let mut last = (0, started);
        while !finished.get() {
            let relayed = proxy.stats().body_bytes_to_client;
            if relayed != last.0 {
                last = (relayed, tokio::time::Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        last.1
    };
    let (report, last_byte) = tokio::join!(download, last_byte);
    let report = report.unwrap_or_else(|e| panic!("{name}: {e}"));
    let secs = (last_byte - started).as_secs_f64();
    assert_file(&dest, &want);
    assert_eq!(dir.names(), ["obj.bin"], "{name}");
    assert!(report.crc64_verified, "{name}: the CRC-64 was not checked");
    assert_eq!(
        report.bytes_transferred, setup.size,
        "{name}: a byte fetched twice"
    );
    (report, secs)
}

#[tokio::test(start_paused = true)]
async fn a_straggler_at_the_tail_is_split_and_the_download_ends_sooner() {
    // 4 MiB/s per connection, the second connection at 256 KiB/s: its first run (about a
    // third of the object) would take ten seconds alone.
    let link = straggling_link(4 * MIB, 256 * 1024);
    let (split, with) = through("tail-split", link.clone(), SMALL_PARTS).await;
    let (alone, without) = through("tail-alone", link, SMALL_PARTS.without_splitting()).await;
    eprintln!(
        "straggler: {with:.2} s with {} splits, {without:.2} s without",
        split.tail_splits
    );
    assert!(split.tail_splits >= 1, "{split:?}");
    assert_eq!(alone.tail_splits, 0);
    assert!(
        with * 2.0 < without,
        "splitting did not shorten the tail: {with:.2} s against {without:.2} s"
    );
}

#[tokio::test(start_paused = true)]
async fn a_straggler_is_relieved_while_parts_still_wait() {
    // 4 MiB/s per connection, the second connection at 256 KiB/s. Left on its part until
    // the tail, the straggler's worker is lost to the download: the two others fetch the
    // other 15 parts at 8 MiB/s, 3.75 s. Taken over as soon as its rate is known, the
    // straggler's worker goes on at full rate on a fresh connection: about 32 MiB at
    // 12 MiB/s.
    let link = straggling_link(4 * MIB, 256 * 1024);
    let (report, secs) = through("tail-evict", link, MANY_PARTS).await;
    eprintln!(
        "straggler in the middle: {secs:.2} s, {} runs split",
        report.tail_splits
    );
    assert!(report.tail_splits >= 1, "{report:?}");
    assert!(
        secs < 3.4,
        "the straggler's part waited for the tail: {secs:.2} s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_download_ends_with_its_last_run_not_at_the_next_tail_poll() {
    // Real time, so no clock jumps: 4 runs of one 2 MiB part on 3 connections at 4 MiB/s.
    // The two workers that find nothing left wait at the tail while the last run is
    // fetched (it still has bytes that could be split). With their poll made an hour, only
    // the wake-up a run's end sends lets them see that the download is over; before that
    // wake-up existed, every download ended up to a poll (100 ms) after its last byte.
    // `through` checks the file, its CRC-64 and that nothing else is left.
    let link = LinkModel::new(Duration::from_millis(10), 4 * MIB);
    let setup = Setup {
        tail_poll: Some(Duration::from_secs(3600)),
        ..ONE_PART_RUNS
    };
    tokio::time::timeout(Duration::from_secs(60), through("tail-wake", link, setup))
        .await
        .expect("the download outlived its last byte: idle workers at the tail were not woken");
}

#[tokio::test(start_paused = true)]
async fn runs_at_similar_rates_are_not_split() {
    let link = LinkModel::new(Duration::from_millis(10), 4 * MIB);
    let (report, _) = through("tail-even", link.clone(), SMALL_PARTS).await;
    assert_eq!(report.tail_splits, 0, "{report:?}");
    let (report, _) = through("tail-even-one", link, ONE_PART_RUNS).await;
    assert_eq!(report.tail_splits, 0, "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn a_one_part_straggler_is_cut_inside_its_part() {
    // Every run one 2 MiB part; the straggler's alone would take 8 s at 256 KiB/s.
    let link = straggling_link(4 * MIB, 256 * 1024);
    let (split, with) = through("tail-cut", link.clone(), ONE_PART_RUNS).await;
    let (alone, without) = through("tail-cut-alone", link, ONE_PART_RUNS.without_splitting()).await;
    eprintln!(
        "one-part straggler: {with:.2} s with {} splits, {without:.2} s without",
        split.tail_splits
    );
    assert!(split.tail_splits >= 1, "{split:?}");
    assert_eq!(alone.tail_splits, 0);
    assert!(
        with * 2.0 < without,
        "cutting did not shorten the tail: {with:.2} s against {without:.2} s"
    );
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_while_a_cut_part_is_half_written_resumes_byte_exact() {
    let link = straggling_link(4 * MIB, 256 * 1024);
    // The same download as above finishes at `with`; at 80% of it the straggler's prefix
    // and the thief's suffix of the cut part are both being written.
    let (_, with) = through("tail-cut-timing", link.clone(), ONE_PART_RUNS).await;
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 43);
    let proxy = env.proxy(Vec::new()).await;
    proxy.set_link(Some(link));
    let dir = Scratch::new("tail-cut-cancel");
    let dest = dir.path("obj.bin");
    let client = builder_for(&proxy.endpoint(), SignatureVersion::V4)
        .build()
        .unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    let started = tokio::time::Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep_until(started + Duration::from_secs_f64(with * 0.8)).await;
        stop.cancel();
    });
    let download = ONE_PART_RUNS.apply(client.download(BUCKET, "obj", &dest));
    let err = download
        .checkpoint(true)
        .cancel_token(cancel)
        .await
        .expect_err("the interrupt came after the download ended");
    assert!(matches!(err, oss_resume::Error::Cancelled { .. }), "{err}");
    let saved = oss_ckpt::fs::CheckpointFile::for_destination(&dest)
        .load_any()
        .unwrap()
        .latest;
    // The cut part is in flight (its prefix only: the suffix is not recorded until the
    // prefix meets it).
    assert!(!saved.in_flight().is_empty(), "{:?}", saved.in_flight());
    proxy.set_link(None);
    let report = ONE_PART_RUNS
        .apply(client.download(BUCKET, "obj", &dest))
        .checkpoint(true)
        .await
        .unwrap();
    assert!(matches!(report.checkpoint, CheckpointUse::Resumed { .. }));
    assert_eq!(report.bytes_resumed, saved.bytes_done());
    assert!(report.crc64_verified);
    assert_file(&dest, &want);
    assert_eq!(dir.names(), ["obj.bin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_right_after_a_tail_split_resumes_byte_exact() {
    let rig = crash::Rig::start().await;
    // The crash child: 8 MiB in 1 MiB parts on 3 connections; the straggler's run of about
    // three parts crawls at 128 KiB/s while the others finish.
    rig.proxy
        .set_link(Some(straggling_link(4 * MIB, 128 * 1024)));
    let dir = Scratch::new("tail-kill");
    let dest = dir.path("crash.bin");
    let child = crash::spawn_child(&rig.proxy.endpoint(), &dest, Some(failpoint::TAIL_SPLIT));
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(6),
        "no split before the end ({:?}): {stderr}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("failpoint tail-split reached"), "{stderr}");
    let saved = oss_ckpt::fs::CheckpointFile::for_destination(&dest)
        .load_any()
        .unwrap_or_else(|e| panic!("the kill left an unreadable checkpoint: {e}"))
        .latest
        .bytes_done();
    assert!(ckpt_of(&dest).exists());
    rig.proxy.set_link(None);
    let report = rig.finish(&dest).await; // byte-exact, CRC-64 checked
    assert!(
        matches!(report.checkpoint, CheckpointUse::Resumed { .. }),
        "{:?}",
        report.checkpoint
    );
    assert_eq!(report.bytes_resumed, saved);
    assert!(saved > 0 && saved < SIZE, "{saved}");
    assert!(report.crc64_verified);
    assert_eq!(dir.names(), ["crash.bin"]);
}
