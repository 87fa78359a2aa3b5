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

/// Downloads SIZE bytes in 256 KiB parts on 3 connections through `link`, with tail splitting
/// on or off; returns the report and the virtual seconds it took.
async fn through(name: &str, link: LinkModel, split: bool) -> (oss_resume::Report, f64) {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 43);
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
        let report = client
            .download(BUCKET, "obj", &dest)
            .part_size(256 * 1024)
            .threads(3)
            .tail_splitting(split)
            .retry_policy(fast_retry())
            .await;
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
        report.bytes_transferred, SIZE,
        "{name}: a byte fetched twice"
    );
    (report, secs)
}

#[tokio::test(start_paused = true)]
async fn a_straggler_at_the_tail_is_split_and_the_download_ends_sooner() {
    // 4 MiB/s per connection, the second connection at 256 KiB/s: its first run (about a
    // third of the object) would take ten seconds alone.
    let link = straggling_link(4 * MIB, 256 * 1024);
    let (split, with) = through("tail-split", link.clone(), true).await;
    let (alone, without) = through("tail-alone", link, false).await;
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
async fn runs_at_similar_rates_are_not_split() {
    let link = LinkModel::new(Duration::from_millis(10), 4 * MIB);
    let (report, _) = through("tail-even", link, true).await;
    assert_eq!(report.tail_splits, 0, "{report:?}");
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
