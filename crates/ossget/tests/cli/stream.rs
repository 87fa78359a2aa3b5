//! Streaming to stdout (`-` and `-o -`) and `--range`: byte-exact through cuts, ranges to
//! stdout and to a file (which is a resumable download: `range.rs`), a reader that goes
//! away, a corrupt body, and the options a stream refuses.

use oss_emulator::CutMode;

use super::*;

/// `ossget ARGS` through `endpoint`: the exit status, stdout's raw bytes, stderr.
async fn raw(fx: &Fixture, endpoint: &str, args: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    let o = fx.command(endpoint, args).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains(SECRET), "{stderr}");
    (o.status.code(), o.stdout, stderr)
}

#[track_caller]
fn assert_same(got: &[u8], want: &[u8]) {
    assert_eq!(got.len(), want.len(), "length");
    if let Some(at) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!("first difference at byte {at}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_to_stdout_byte_exact_through_cuts() {
    let fx = Fixture::new("stdout").await;
    let size = 2_000_003;
    fx.object("k.bin", size);
    let want = expected_bytes(size);
    let proxy = ChaosProxy::start(
        fx.server.local_addr(),
        vec![NetFault::RandomCut {
            probability: 0.5,
            mode: CutMode::Rst,
        }],
        5,
    )
    .await
    .unwrap();
    let endpoint = proxy.endpoint();
    for dash in [&["-"][..], &["-o", "-"]] {
        let mut args = vec!["oss://bkt/k.bin", "-j", "4", "--part-size", "100KiB"];
        args.extend_from_slice(dash);
        let (code, stdout, stderr) = raw(&fx, &endpoint, &args).await;
        assert_eq!(code, Some(0), "{stderr}");
        assert_same(&stdout, &want);
        assert!(stderr.contains("done: stdout"), "{stderr}");
        assert!(stderr.contains("CRC-64 verified"), "{stderr}");
        assert!(
            !stderr.contains(", 0 retries,"),
            "no cut happened: {stderr}"
        );
    }
    // Nothing was left on disk: no file named -, no checkpoint.
    let left: Vec<_> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != ".config")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_to_stdout_and_to_a_file() {
    let fx = Fixture::new("range").await;
    let size = 500_000;
    fx.object("k.bin", size);
    let want = expected_bytes(size);
    let (code, stdout, stderr) = raw(
        &fx,
        fx.endpoint(),
        &["oss://bkt/k.bin", "-", "--range", "1000-2999"],
    )
    .await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_same(&stdout, &want[1000..3000]);
    assert!(
        stderr.contains("bytes 1000-2999 of") && stderr.contains("OSS gives none for a range"),
        "{stderr}"
    );
    // To a file, with a unit and a JSON summary naming the range and its CRC.
    let r = fx
        .run(&[
            "oss://bkt/k.bin",
            "part.bin",
            "--range",
            "100KiB-",
            "--part-size",
            "64KiB",
            "--json",
        ])
        .await;
    r.expect(0, &["done: part.bin"]);
    let from = 100 * 1024;
    assert_eq!(std::fs::read(fx.path("part.bin")).unwrap(), &want[from..]);
    let j = r.json();
    assert_eq!(j["range"], format!("{from}-{}", size - 1));
    assert_eq!(j["crc64"], oss_crc_of(&want[from..]));
    assert_eq!(j["crc64_verified"], false);
    // The last N bytes; nothing but the file is left.
    fx.run(&["oss://bkt/k.bin", "tail.bin", "--range", "-777"])
        .await
        .expect(0, &[]);
    assert_eq!(
        std::fs::read(fx.path("tail.bin")).unwrap(),
        &want[want.len() - 777..]
    );
    let mut names: Vec<_> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["part.bin", "tail.bin"]);
    // Past the end: the size and the fix; no file.
    fx.run(&["oss://bkt/k.bin", "x.bin", "--range", "500000-"])
        .await
        .expect(1, &["starts past the end", "500000 bytes", "below 500000"]);
    assert!(!fx.path("x.bin").exists());
}

/// The CRC-64 (XZ) of `bytes` as the JSON's decimal string: the emulator computes it for a
/// one-off object.
pub(super) fn oss_crc_of(bytes: &[u8]) -> String {
    let emu = Emulator::new();
    emu.add_bucket(BucketSpec::new("crc-of")).unwrap();
    emu.put_object("crc-of", "k", ObjectSpec::bytes(bytes.to_vec()))
        .unwrap();
    emu.object_info("crc-of", "k")
        .unwrap()
        .crc64
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_goes_away_ends_the_run_quietly_with_141() {
    use tokio::io::AsyncReadExt;
    let fx = Fixture::new("pipe").await;
    fx.object("k.bin", 8 << 20);
    let mut child = fx
        .command(
            fx.endpoint(),
            &["oss://bkt/k.bin", "-", "--part-size", "256KiB"],
        )
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = vec![0; 1000];
    stdout.read_exact(&mut first).await.unwrap();
    assert_eq!(first, expected_bytes(1000));
    drop(stdout); // `| head -c 1000`
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("ossget:"), "not quiet:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_stream_fails_after_the_fact_and_says_so() {
    let fx = Fixture::new("corrupt").await;
    fx.object("k.bin", 300_000);
    fx.emu.add_fault(
        ServiceFault::new(FaultAction::CorruptByte(77))
            .ranged_only()
            .times(1),
    );
    let (code, stdout, stderr) = raw(&fx, fx.endpoint(), &["oss://bkt/k.bin", "-"]).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stdout.len(), 300_000);
    assert!(
        stderr.contains("the streamed data is corrupt") && stderr.contains("must be discarded"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_a_stream_cannot_use_are_refused_first() {
    let fx = Fixture::new("streambad").await;
    for (args, needles) in [
        (
            &["-", "--json"][..],
            &[
                "--json cannot be used when streaming",
                "mixed into the data",
            ][..],
        ),
        (
            &["-o", "-", "-n"],
            &["--no-clobber cannot be used when streaming"],
        ),
        (
            &["-", "--checkpoint-dir", "d"],
            &["--checkpoint-dir cannot be used with streaming to stdout"],
        ),
        (
            &["-", "--on-complete", "true"],
            &["--on-complete cannot be used"],
        ),
        (
            &["a.bin", "--range", "0-9", "-u"],
            &["--update cannot be used with --range"],
        ),
        (&["--range", "x-y"], &["is not a range", "START-END"]),
        (&["--range", "-0"], &["the last 0 bytes"]),
    ] {
        let mut all = vec!["oss://bkt/k.bin"];
        all.extend_from_slice(args);
        fx.run(&all).await.expect(2, needles);
    }
    assert_eq!(fx.emu.counters().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_time_stops_a_stream_with_124_and_a_presigned_url_streams() {
    let fx = Fixture::new("streamstop").await;
    fx.object("k.bin", 1 << 20);
    let (code, stdout, stderr) = raw(
        &fx,
        fx.endpoint(),
        &["oss://bkt/k.bin", "-", "--limit-rate", "200KiB", "-m", "1"],
    )
    .await;
    assert_eq!(code, Some(124), "{stderr}");
    assert!(
        stderr.contains("stopped by --max-time 1.0 s after")
            && stderr.contains("a stream keeps no checkpoint"),
        "{stderr}"
    );
    // What went out is the object's beginning, in order.
    assert!(stdout.len() < 1 << 20);
    assert_same(&stdout, &expected_bytes(stdout.len() as u64));

    // A presigned URL, streamed without credentials.
    let url = super::parity::presigned(
        &fx,
        "k.bin",
        std::time::SystemTime::now(),
        std::time::Duration::from_secs(600),
    );
    let mut cmd = fx.command(
        fx.endpoint(),
        &[&url, "-o", "-", "-j", "3", "--part-size", "100KiB"],
    );
    cmd.env_remove("OSS_ACCESS_KEY_ID")
        .env_remove("OSS_ACCESS_KEY_SECRET");
    let o = cmd.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_same(&o.stdout, &expected_bytes(1 << 20));
    assert!(!stderr.contains("x-oss-signature="), "{stderr}");
}
