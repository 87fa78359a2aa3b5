//! Many objects: `ossget oss://bkt/PREFIX/ DIR/` and `--manifest`, against the emulator —
//! page continuation, `--json` lines, reruns, include/exclude, dry runs, shards, unsafe keys,
//! per-object failures, usage errors, and SIGINT mid-batch then resume.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use oss_emulator::{FaultAction, ObjectPattern, ObjectSpec, ServiceFault};
use serde_json::Value;

use super::{BUCKET, Fixture, Run, assert_file, assert_request_id};

/// The `--json` lines of a run: the objects, and the summary (last).
fn json_lines(run: &Run) -> (Vec<Value>, Value) {
    let mut lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines.pop().expect("no summary line");
    assert_eq!(summary["type"], "summary", "{summary}");
    assert!(lines.iter().all(|l| l["type"] == "object"));
    (lines, summary)
}

fn keys_with(lines: &[Value], status: &str) -> BTreeSet<String> {
    lines
        .iter()
        .filter(|l| l["status"] == status)
        .map(|l| l["key"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_over_several_pages_with_json_lines_and_a_rerun_that_fetches_nothing() {
    let fx = Fixture::new("batch-prefix").await;
    let pattern = ObjectPattern::parse("p/k-{0..1199}")
        .unwrap()
        .size(100)
        .seed(2);
    fx.emu.add_objects(BUCKET, pattern.clone()).unwrap();
    fx.object("p/deep/large.bin", 3 << 20);
    fx.object("elsewhere", 10);
    let args = [
        "oss://bkt/p/",
        "out/",
        "--json",
        "--threads",
        "8",
        "--part-size",
        "1MiB",
        "--durability",
        "fast",
    ];
    let run = fx.run(&args).await;
    run.expect(0, &["1201 objects into out/: 1201 downloaded"]);
    let (lines, summary) = json_lines(&run);
    assert_eq!(lines.len(), 1201);
    assert_eq!(summary["downloaded"], 1201);
    assert_eq!(summary["exit_code"], 0);
    assert_eq!(keys_with(&lines, "downloaded").len(), 1201);
    for n in [0, 999, 1000, 1199] {
        let key = pattern.key(n).unwrap();
        let want = fx.emu.object_bytes(BUCKET, &key).unwrap();
        assert_eq!(std::fs::read(fx.path("out").join(&key[2..])).unwrap(), want);
    }
    assert_file(&fx.path("out/deep/large.bin"), 3 << 20);
    assert!(!fx.path("out/elsewhere").exists());
    // The same command again: everything is already there, nothing is fetched.
    fx.emu.reset_counters();
    let again = fx.run(&args).await;
    again.expect(0, &["1201 already there"]);
    let (_, summary) = json_lines(&again);
    assert_eq!(summary["already_done"], 1201);
    assert_eq!(summary["downloaded"], 0);
    assert_eq!(fx.emu.counters().ranges_served, 0);
}

#[tokio::test]
async fn include_exclude_in_order_and_a_dry_run_that_writes_nothing() {
    let fx = Fixture::new("batch-filter").await;
    for key in [
        "f/a.jpg",
        "f/b.png",
        "f/c.jpg",
        "f/sub/debug.jpg",
        "f/sub/e.jpg",
    ] {
        fx.object(key, 50);
    }
    let run = fx
        .run(&[
            "oss://bkt/f/",
            "out/",
            "--exclude",
            "*",
            "--include",
            "*.jpg",
            "--exclude",
            "debug*",
            "--dry-run",
        ])
        .await;
    run.expect(0, &["would be downloaded"]);
    let listed: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(listed.len(), 3, "{}", run.stdout);
    for key in ["f/a.jpg", "f/c.jpg", "f/sub/e.jpg"] {
        assert!(run.stdout.contains(key), "{key}: {}", run.stdout);
    }
    assert!(!fx.path("out").exists());
    assert_eq!(fx.emu.counters().ranges_served, 0);
}

#[tokio::test]
async fn a_manifest_with_destinations_and_per_object_failures() {
    let fx = Fixture::new("batch-manifest").await;
    fx.object("m/x", 300);
    fx.object("m/y", 400);
    fx.object("m/denied", 10);
    fx.emu.add_fault(
        ServiceFault::new(FaultAction::error(403, "AccessDenied", "not this one"))
            .key(BUCKET, "m/denied"),
    );
    std::fs::write(
        fx.path("list.txt"),
        "oss://bkt/m/x\nm/y\trenamed/y.bin\n\nm/missing\noss://other/z\nm/denied\n",
    )
    .unwrap();
    let run = fx
        .run(&["--manifest", "list.txt", "oss://bkt/", "out/"])
        .await;
    run.expect(
        1,
        &[
            "failed: m/missing",
            "NoSuchKey",
            "failed: m/denied",
            "AccessDenied",
            "manifest: line 5:",
            "2 failed, 1 manifest line(s) skipped",
        ],
    );
    assert_request_id(&run.stderr[run.stderr.find("failed: m/missing").unwrap()..]);
    assert_file(&fx.path("out/m/x"), 300);
    assert_file(&fx.path("out/renamed/y.bin"), 400);

    // From stdin, with a prefix that is not the bucket alone: a usage error.
    let run = fx
        .run(&["--manifest", "list.txt", "oss://bkt/m/", "out/"])
        .await;
    run.expect(2, &["name the bucket alone"]);
    let mut child = fx
        .command(
            fx.endpoint(),
            &["--manifest", "-", "oss://bkt/", "in/", "--json"],
        )
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use tokio::io::AsyncWriteExt as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"m/x\nm/y\n").await.unwrap();
    }
    let run = Run::from(child.wait_with_output().await.unwrap());
    run.expect(0, &[]);
    let (lines, _) = json_lines(&run);
    assert_eq!(keys_with(&lines, "downloaded").len(), 2);
    assert_file(&fx.path("in/m/y"), 400);
}

#[tokio::test]
async fn shards_split_a_prefix_with_no_overlap() {
    let fx = Fixture::new("batch-shard").await;
    fx.emu
        .add_objects(BUCKET, ObjectPattern::parse("s/{0..299}").unwrap().size(5))
        .unwrap();
    let mut all = BTreeSet::new();
    for k in ["0/3", "1/3", "2/3"] {
        let run = fx
            .run(&["oss://bkt/s/", "out/", "--shard", k, "--dry-run", "--json"])
            .await;
        run.expect(0, &[]);
        let (lines, summary) = json_lines(&run);
        assert_eq!(summary["shard"], k);
        for key in keys_with(&lines, "would_download") {
            assert!(all.insert(key.clone()), "{key} in two shards");
        }
    }
    assert_eq!(all.len(), 300);
    fx.run(&["oss://bkt/s/", "out/", "--shard", "3/3"])
        .await
        .expect(2, &["shard 3/3 does not exist"]);
}

#[tokio::test]
async fn unsafe_keys_are_reported_never_written_outside() {
    let fx = Fixture::new("batch-unsafe").await;
    for key in ["u/../x", "u/ok", "u/a\\b", "u/nul", "u/dir/"] {
        let body: &[u8] = if key.ends_with('/') { b"" } else { b"data" };
        fx.emu
            .put_object(BUCKET, key, ObjectSpec::bytes(body.to_vec()))
            .unwrap();
    }
    let run = fx.run(&["oss://bkt/u/", "out/"]).await;
    run.expect(1, &["skipped u/../x: unsafe key", "3 skipped as unsafe"]);
    assert_eq!(std::fs::read(fx.path("out/ok")).unwrap(), b"data");
    assert!(fx.path("out/dir").is_dir());
    assert!(!fx.path("x").exists());
    assert_eq!(fx.files(), ["out"]);
}

#[tokio::test]
async fn batch_usage_errors_exit_2() {
    let fx = Fixture::new("batch-usage").await;
    for (args, says) in [
        (&["oss://bkt/p/"][..], "needs a destination directory"),
        (
            &["oss://bkt/p/", "out/", "--version-id", "v1"][..],
            "--version-id applies to one object",
        ),
        (
            &["oss://bkt/p/", "out/", "--include", "a/*.jpg"][..],
            "cannot contain /",
        ),
        (
            &["oss://bkt/p/", "out/", "--include", "[ab"][..],
            "not closed",
        ),
        (
            &["--manifest", "nope.txt", "oss://bkt/", "out/"][..],
            "cannot open the manifest",
        ),
    ] {
        fx.run(args).await.expect(2, &[says]);
    }
    assert_eq!(fx.emu.counters().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_mid_batch_exits_130_and_the_same_command_resumes() {
    let fx = Fixture::new("batch-sigint").await;
    fx.emu
        .add_objects(
            BUCKET,
            ObjectPattern::parse("i/{000..299}").unwrap().size(1000),
        )
        .unwrap();
    // Requests after the 60th hang (small objects are GETs alone), so the batch is mid-way
    // when the signal lands.
    let gate = fx.emu.add_fault(
        ServiceFault::new(FaultAction::FirstByteDelay(Duration::from_secs(60))).after(60),
    );
    let args = ["oss://bkt/i/", "out/", "--threads", "4"];
    let child = fx.command(fx.endpoint(), &args).spawn().unwrap();
    let pid = child.id().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while fx.emu.counters().requests < 64 {
        assert!(Instant::now() < deadline, "the batch did not get going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let run = Run::from(
        tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .expect("ossget did not stop")
            .unwrap(),
    );
    run.expect(
        130,
        &[
            "interrupted by SIGINT",
            "to resume, run the same command again",
        ],
    );
    // The journal names the finished objects (the key is the last field of a record).
    let journal = std::fs::read_to_string(fx.path("out/.oss-batch-journal")).unwrap();
    let finished: Vec<String> = journal
        .lines()
        .skip(1)
        .map(|l| l.rsplit(' ').next().unwrap().to_owned())
        .collect();
    assert!(finished.len() >= 50, "{} finished", finished.len());
    fx.emu.remove_fault(gate);
    fx.emu.reset_counters();
    let again = fx.run(&args).await;
    again.expect(0, &[&format!("{} already there", finished.len())]);
    let c = fx.emu.counters();
    for key in &finished {
        assert_eq!(c.requests_for("GET", BUCKET, key), 0, "{key} fetched again");
    }
    for n in 0..300 {
        let key = format!("i/{n:03}");
        let want = fx.emu.object_bytes(BUCKET, &key).unwrap();
        assert_eq!(
            std::fs::read(fx.path("out").join(&key[2..])).unwrap(),
            want,
            "{key}"
        );
    }
}
