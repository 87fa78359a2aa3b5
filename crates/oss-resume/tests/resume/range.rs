//! Issue 22: a byte range of an object downloaded resumably (`Download::range`): only the
//! window's missing parts are fetched on resume, another window or a changed object starts
//! over with the reason, and a range that cannot be served fails before any GET.

use std::ops::Range;
use std::path::Path;

use oss_ckpt::fs::CheckpointFile;
use oss_resume::{
    CheckpointUse, Client, Download, Error, FreshReason, ObjectRange, OnChange, SnapshotKind,
};

use crate::checkpoint::cancel_at;
use crate::common::{BUCKET, Env, Scratch, assert_file, ckpt_of, fast_retry, temp_of};

const SIZE: u64 = 2 << 20;
const PART: u64 = 128 * 1024;
/// Bytes 300000..=1700000: starts and ends inside parts of the object, 11 parts of the window.
const FIRST: u64 = 300_000;
const LAST: u64 = 1_700_000;

fn bytes(first: u64, last: u64) -> ObjectRange {
    ObjectRange::From {
        first,
        last: Some(last),
    }
}

fn download(client: &Client, key: &str, dest: &Path, range: ObjectRange) -> Download {
    client
        .download(BUCKET, key, dest)
        .checkpoint(true)
        .range(range)
        .part_size(PART)
        // One GET per part: the gate counts GETs.
        .max_request_size(PART)
        .threads(3)
        .retry_policy(fast_retry())
}

/// Runs `d` (a download of `window_len` bytes) and cancels it half way, the GETs after the
/// first half of its parts held by the emulator so it cannot finish first.
async fn interrupt_half(env: &Env, d: Download, window_len: u64) {
    let gate = env.gate_after(window_len.div_ceil(PART).div_ceil(2));
    cancel_at(d, 0.5).await;
    env.emu.remove_fault(gate);
}

/// The object's byte ranges the GETs logged after the first `skip` requests asked for
/// (`Range: bytes=A-B`), as `A..B+1`.
fn ranges_asked(env: &Env, skip: usize) -> Vec<Range<u64>> {
    env.emu
        .request_log()
        .into_iter()
        .skip(skip)
        .filter(|r| r.method == "GET")
        .map(|r| {
            let text = r.range.expect("every GET is ranged");
            let (a, b) = text.trim_start_matches("bytes=").split_once('-').unwrap();
            a.parse().unwrap()..b.parse::<u64>().unwrap() + 1
        })
        .collect()
}

#[tokio::test]
async fn an_interrupted_range_resumes_fetching_only_the_windows_missing_bytes() {
    let env = Env::start().await;
    let object = env.put("obj", SIZE, 221);
    let want = &object[FIRST as usize..=LAST as usize];
    let len = LAST - FIRST + 1;
    let dir = Scratch::new("range-resume");
    let dest = dir.path("part.bin");
    interrupt_half(
        &env,
        download(&env.client(), "obj", &dest, bytes(FIRST, LAST)),
        len,
    )
    .await;
    assert!(ckpt_of(&dest).exists() && temp_of(&dest).exists() && !dest.exists());
    assert_eq!(std::fs::metadata(temp_of(&dest)).unwrap().len(), len);
    let saved = CheckpointFile::for_destination(&dest).load_any().unwrap();
    let window = saved.window().expect("the checkpoint records the window");
    assert_eq!(window.range(), FIRST..LAST + 1);
    assert_eq!(saved.plan().object_size(), len);
    assert_eq!(saved.plan().len(), len.div_ceil(PART));
    let on_disk = saved.latest.bytes_done();
    assert!((len / 2..len).contains(&on_disk), "{on_disk} of {len}");

    let before = env.emu.request_log().len();
    let report = download(&env.client(), "obj", &dest, bytes(FIRST, LAST))
        .await
        .unwrap();
    assert_file(&dest, want);
    assert_eq!(
        report.checkpoint,
        CheckpointUse::Resumed {
            snapshot: SnapshotKind::Latest,
            verified: false
        }
    );
    assert_eq!(report.bytes_resumed, on_disk);
    assert_eq!(report.bytes_transferred, len - on_disk);
    assert_eq!(report.bytes_total, len);
    assert_eq!(report.range, Some(FIRST..LAST + 1));
    assert_eq!(report.crc64, Some(oss_crc::checksum(want)));
    assert!(!report.crc64_verified, "OSS has no CRC-64 for a range");
    // Only the window's missing bytes were asked for: inside the window, none twice, as
    // many as were missing.
    let asked = ranges_asked(&env, before);
    assert!(!asked.is_empty());
    for r in &asked {
        assert!(
            r.start >= FIRST && r.end <= LAST + 1,
            "{r:?} outside the window"
        );
    }
    let total: u64 = asked.iter().map(|r| r.end - r.start).sum();
    assert_eq!(total, len - on_disk, "{asked:?}");
    assert_eq!(
        dir.names(),
        ["part.bin"],
        "checkpoint, temp and lock are gone"
    );
}

#[tokio::test]
async fn another_window_or_the_whole_object_starts_over_and_says_why() {
    let env = Env::start().await;
    let object = env.put("obj", SIZE, 222);
    let dir = Scratch::new("range-other");
    let dest = dir.path("part.bin");
    let len = LAST - FIRST + 1;
    interrupt_half(
        &env,
        download(&env.client(), "obj", &dest, bytes(FIRST, LAST)),
        len,
    )
    .await;

    // The same length one byte later: same part count, other bytes.
    let report = download(&env.client(), "obj", &dest, bytes(FIRST + 1, LAST + 1))
        .await
        .unwrap();
    assert_file(&dest, &object[FIRST as usize + 1..=LAST as usize + 1]);
    assert_eq!(report.bytes_resumed, 0);
    let CheckpointUse::Fresh {
        reason: Some(reason),
    } = &report.checkpoint
    else {
        panic!("{:?}", report.checkpoint);
    };
    assert_eq!(
        *reason,
        FreshReason::Range {
            checkpoint: "bytes 300000-1700000".into(),
            now: "bytes 300001-1700001".into(),
        }
    );
    let text = reason.to_string();
    assert!(
        text.contains("bytes 300000-1700000") && !text.contains("delete"),
        "{text}"
    );

    // A range checkpoint is not the whole object's, nor the reverse.
    std::fs::remove_file(&dest).unwrap();
    interrupt_half(
        &env,
        download(&env.client(), "obj", &dest, bytes(FIRST, LAST)),
        len,
    )
    .await;
    let whole = env
        .client()
        .download(BUCKET, "obj", &dest)
        .checkpoint(true)
        .part_size(PART)
        .threads(3)
        .await
        .unwrap();
    assert_file(&dest, &object);
    assert!(whole.crc64_verified);
    assert_eq!(whole.range, None);
    assert!(
        matches!(&whole.checkpoint, CheckpointUse::Fresh { reason: Some(FreshReason::Range { now, .. }) } if now == "the whole object"),
        "{:?}",
        whole.checkpoint
    );
}

#[tokio::test]
async fn a_changed_object_restarts_the_range_on_the_new_version() {
    let env = Env::start().await;
    env.put("obj", SIZE, 223);
    let dir = Scratch::new("range-changed");
    let dest = dir.path("part.bin");
    let len = LAST - FIRST + 1;
    interrupt_half(
        &env,
        download(&env.client(), "obj", &dest, bytes(FIRST, LAST)),
        len,
    )
    .await;
    let new = env.put("obj", SIZE, 224);
    let err = download(&env.client(), "obj", &dest, bytes(FIRST, LAST))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ObjectChanged { .. }), "{err}");
    let report = download(&env.client(), "obj", &dest, bytes(FIRST, LAST))
        .on_change(OnChange::Restart)
        .await
        .unwrap();
    assert_file(&dest, &new[FIRST as usize..=LAST as usize]);
    assert_eq!(report.bytes_resumed, 0);
}

#[tokio::test]
async fn a_range_past_the_end_fails_after_head_and_before_any_get() {
    let env = Env::start().await;
    env.put("obj", SIZE, 225);
    let dir = Scratch::new("range-past");
    let dest = dir.path("part.bin");
    for range in [
        ObjectRange::From {
            first: SIZE,
            last: None,
        },
        bytes(SIZE + 10, SIZE + 20),
    ] {
        let err = download(&env.client(), "obj", &dest, range)
            .await
            .unwrap_err();
        match &err {
            Error::RangeNotSatisfiable { size, .. } => assert_eq!(*size, SIZE),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains(&SIZE.to_string()), "{err}");
    }
    let methods: Vec<String> = env
        .emu
        .request_log()
        .into_iter()
        .map(|r| r.method)
        .collect();
    assert_eq!(methods, ["HEAD", "HEAD"], "no GET");
    assert!(dir.names().is_empty(), "{:?}", dir.names());

    // Reversed or empty: refused before any request.
    for range in [bytes(10, 9), ObjectRange::Last(0)] {
        let err = download(&env.client(), "obj", &dest, range)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidArgument {
                    argument: "range",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert_eq!(env.emu.request_log().len(), 2, "no request");
}

#[tokio::test]
async fn a_range_ending_past_the_end_stops_there_and_a_whole_range_is_verified() {
    let env = Env::start().await;
    let object = env.put("obj", SIZE, 226);
    let dir = Scratch::new("range-tail");
    let dest = dir.path("tail.bin");
    let report = download(&env.client(), "obj", &dest, bytes(SIZE - 1000, SIZE + 1000))
        .await
        .unwrap();
    assert_file(&dest, &object[SIZE as usize - 1000..]);
    assert_eq!(report.range, Some(SIZE - 1000..SIZE));
    assert!(!report.crc64_verified);

    let dest = dir.path("all.bin");
    let report = download(&env.client(), "obj", &dest, ObjectRange::Last(SIZE * 2))
        .await
        .unwrap();
    assert_file(&dest, &object);
    assert_eq!(report.range, Some(0..SIZE));
    assert!(
        report.crc64_verified,
        "the whole object is checked against OSS's CRC-64"
    );
}
