//! `--range START-END FILE` is a resumable download of the byte window (issue 22): killed
//! with SIGKILL or stopped with SIGINT, the same command continues the window's checkpoint
//! and fetches only what it lacks; another window starts over and says why.

use super::*;

/// The object's bytes the window `first..=last` holds.
fn window(first: u64, last: u64, size: u64) -> Vec<u8> {
    expected_bytes(size)[first as usize..=last as usize].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_range_resumes_from_its_checkpoint_byte_exact() {
    let fx = Fixture::new("range-kill").await;
    let size: u64 = 3 << 20;
    let (first, last) = (300_001u64, 2_900_000u64);
    let len = last - first + 1;
    fx.object("big.bin", size);
    let args = [
        "oss://bkt/big.bin",
        "part.bin",
        "--range",
        "300001-2900000",
        "--part-size",
        "256KiB",
        "--threads",
        "2",
        "--json",
    ];
    for signal in ["KILL", "INT"] {
        // 1 MiB/s for all connections: the signal lands half way through the window.
        let proxy = throttled(&fx, 1 << 20).await;
        let run = interrupt(&fx, &proxy, &args, len / 2, signal).await;
        if signal == "INT" {
            run.expect(130, &["progress is saved in part.bin.cp"]);
        } else {
            assert_eq!(run.code, None, "killed: {}", run.stderr);
        }
        let ckpt = load_checkpoint(&fx.path("part.bin.cp"));
        let recorded = ckpt.window().expect("the checkpoint records the window");
        assert_eq!(recorded.range(), first..last + 1);
        assert_eq!(ckpt.plan().object_size(), len);
        let saved = ckpt.latest.bytes_done();
        assert!(saved > 0 && saved < len, "{signal}: saved {saved} of {len}");
        assert!(
            !fx.path("part.bin").exists(),
            "nothing at DEST before it is complete"
        );
        assert_eq!(
            std::fs::metadata(fx.path("part.bin.oss-tmp"))
                .unwrap()
                .len(),
            len,
            "the temp file holds the window only"
        );

        // The same command, unthrottled: only the window's missing bytes are fetched.
        proxy.clear_faults();
        let served = settled(|| fx.emu.counters().body_bytes_sent).await;
        let run = Run::from(fx.command(&proxy.endpoint(), &args).output().await.unwrap());
        run.expect(
            0,
            &[
                "ossget: resuming: ",
                "done: part.bin",
                "bytes 300001-2900000 of",
                "OSS gives none for a range, so it is not verified",
            ],
        );
        let j = run.json();
        assert_eq!(j["checkpoint"], "resumed");
        assert_eq!(j["bytes_resumed"], saved);
        assert_eq!(j["bytes_transferred"], len - saved);
        assert_eq!(j["bytes_total"], len);
        assert_eq!(j["range"], "300001-2900000");
        assert_eq!(j["crc64_verified"], false);
        let want = window(first, last, size);
        assert_eq!(j["crc64"], super::stream::oss_crc_of(&want));
        assert_eq!(fx.emu.counters().body_bytes_sent - served, len - saved);
        assert!(
            std::fs::read(fx.path("part.bin")).unwrap() == want,
            "{signal}: bytes differ"
        );
        assert_eq!(fx.files(), ["part.bin"], "{signal}");
        std::fs::remove_file(fx.path("part.bin")).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_range_starts_over_and_says_why() {
    let fx = Fixture::new("range-other").await;
    let size: u64 = 2 << 20;
    fx.object("big.bin", size);
    let proxy = throttled(&fx, 1 << 20).await;
    let args = |range: &'static str| {
        [
            "oss://bkt/big.bin",
            "part.bin",
            "--range",
            range,
            "--part-size",
            "128KiB",
            "--json",
        ]
    };
    interrupt(&fx, &proxy, &args("0-1999999"), 500_000, "INT")
        .await
        .expect(130, &[]);
    proxy.clear_faults();
    // One byte later, the same length and part count: other bytes.
    let run = Run::from(
        fx.command(&proxy.endpoint(), &args("1-2000000"))
            .output()
            .await
            .unwrap(),
    );
    run.expect(0, &["started over: the checkpoint is for bytes 0-1999999"]);
    let j = run.json();
    assert_eq!(j["checkpoint"], "fresh");
    let note = j["checkpoint_note"].as_str().unwrap();
    assert!(note.contains("bytes 1-2000000"), "{note}");
    assert_eq!(j["bytes_resumed"], 0);
    assert!(std::fs::read(fx.path("part.bin")).unwrap() == window(1, 2_000_000, size));
    assert_eq!(fx.files(), ["part.bin"]);
}
