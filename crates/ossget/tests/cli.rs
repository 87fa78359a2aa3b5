//! Process tests: the `ossget` binary against the OSS emulator started in-process (its
//! library API), through its chaos proxy where a test needs throttling. One test binary
//! for the crate (link time); objects are small so the whole file runs in seconds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use oss_emulator::{
    BucketSpec, ChaosProxy, Credentials, Emulator, FaultAction, NetFault, ObjectSpec,
    RunningServer, ServiceFault, Versioning, synthetic_bytes,
};
use serde_json::Value;

const ID: &str = "LTAI5tOssgetTestKeyId";
/// Distinctive, so a test can prove it never appears in any output.
const SECRET: &str = "S3cr3t-Never-Printed-9f2c";
const BUCKET: &str = "bkt";
const SEED: u64 = 11;

/// An emulator with one bucket, its server, and a scratch directory for the test.
struct Fixture {
    emu: Emulator,
    server: RunningServer,
    /// The test's scratch directory, removed when the fixture drops.
    dir: tempfile::TempDir,
}

impl Fixture {
    async fn new(name: &str) -> Self {
        let emu = Emulator::new();
        emu.add_credentials(Credentials::new(ID, SECRET));
        emu.add_bucket(BucketSpec::new(BUCKET)).unwrap();
        let server = emu.start_server().await.unwrap();
        let dir = tempfile::Builder::new()
            .prefix(&format!("ossget-{name}-"))
            .tempdir()
            .unwrap();
        Self { emu, server, dir }
    }

    /// Puts a synthetic object of `size` bytes (seed [`SEED`]) under `key`.
    fn object(&self, key: &str, size: u64) {
        self.emu
            .put_object(BUCKET, key, ObjectSpec::synthetic(size, SEED))
            .unwrap();
    }

    fn endpoint(&self) -> &str {
        self.server.endpoint()
    }

    /// `ossget ARGS --endpoint E --region cn-hangzhou` in the test's directory, with the
    /// test credentials and no other OSS_* variable.
    fn command(&self, endpoint: &str, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ossget"));
        cmd.args(args)
            .args(["--endpoint", endpoint, "--region", "cn-hangzhou"])
            .current_dir(self.dir.path())
            .env_remove("OSS_ENDPOINT")
            .env_remove("OSS_REGION")
            .env_remove("OSS_SESSION_TOKEN")
            .env("OSS_ACCESS_KEY_ID", ID)
            .env("OSS_ACCESS_KEY_SECRET", SECRET)
            // The credentials chain must never reach a real metadata service or profile.
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    async fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(self.endpoint(), args).output().await.unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The files left in the test directory, sorted.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// A finished run.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    fn expect(&self, code: i32, stderr_has: &[&str]) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "stderr:\n{}\nstdout:\n{}",
            self.stderr,
            self.stdout
        );
        for s in stderr_has {
            assert!(
                self.stderr.contains(s),
                "missing `{s}` in stderr:\n{}",
                self.stderr
            );
        }
        let all = format!("{}{}", self.stdout, self.stderr);
        assert!(!all.contains(SECRET), "the secret was printed:\n{all}");
        self
    }

    fn json(&self) -> Value {
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "stdout must be one JSON line:\n{}",
            self.stdout
        );
        serde_json::from_str(lines[0]).unwrap()
    }
}

fn expected_bytes(size: u64) -> Vec<u8> {
    synthetic_bytes(SEED, 0, usize::try_from(size).unwrap())
}

#[track_caller]
fn assert_file(path: &Path, size: u64) {
    let got = std::fs::read(path).unwrap();
    assert_eq!(got.len() as u64, size, "{}", path.display());
    assert!(
        got == expected_bytes(size),
        "{} differs from the object",
        path.display()
    );
}

/// `request id ` followed by the emulator's 24 hex digits.
#[track_caller]
fn assert_request_id(text: &str) {
    let at = text.find("request id ").expect("no request id") + "request id ".len();
    let id: String = text[at..].chars().take(24).collect();
    assert!(
        id.len() == 24 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "bad request id in: {text}"
    );
}

// ---- Downloads -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_a_whole_object_and_leaves_nothing_behind() {
    let fx = Fixture::new("full").await;
    let size = (3 << 20) + 5; // not a multiple of the part size
    fx.object("data/full.bin", size);
    let run = fx
        .run(&[
            "oss://bkt/data/full.bin",
            "out.bin",
            "--part-size",
            "256KiB",
            "--threads",
            "3",
        ])
        .await;
    run.expect(
        0,
        &[
            "ossget: done: out.bin (3.00 MiB) in",
            "0 B resumed",
            "CRC-64 verified",
        ],
    );
    assert_eq!(run.stdout, "", "stdout is for --json only");
    assert_file(&fx.path("out.bin"), size);
    // No temp file, checkpoint or lock left.
    assert_eq!(fx.files(), ["out.bin"]);
    let c = fx.emu.counters();
    assert_eq!(c.requests_for("HEAD", BUCKET, "data/full.bin"), 1);
    // 13 parts, fetched in a few GETs that each cover a run of them; the summary counts
    // them as the server did.
    assert!(c.ranges_served < 13, "{} GETs", c.ranges_served);
    assert!(
        run.stderr
            .contains(&format!("in {} requests over ", c.ranges_served)),
        "{}",
        run.stderr
    );
    assert_eq!(c.body_bytes_sent, size);

    // -v tells the plan and the object; the default tells neither.
    assert!(!run.stderr.contains("INFO"), "{}", run.stderr);
    let run = fx.run(&["oss://bkt/data/full.bin", "out.bin", "-v"]).await;
    run.expect(
        0,
        &[
            "INFO oss://bkt/data/full.bin -> out.bin: endpoint http://127.0.0.1:",
            "auto threads, part size 8 MiB (default), checkpoint out.bin.cp, durable mode",
            "INFO object: 3145733 bytes, ETag ",
            "plan 1 x 8388608 bytes; checkpoint fresh",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_summary_parses_and_matches_the_help() {
    let fx = Fixture::new("json").await;
    let size = 1_000_000;
    fx.object("j.bin", size);
    let run = fx
        .run(&[
            "oss://bkt/j.bin",
            "--json",
            "-q",
            "--part-size",
            "100KiB",
            "--threads",
            "2",
        ])
        .await;
    run.expect(0, &[]);
    assert_eq!(run.stderr, "", "-q prints nothing on success");
    let j = run.json();
    let crc = fx.emu.object_info(BUCKET, "j.bin").unwrap().crc64.unwrap();
    assert_eq!(j["status"], "done");
    assert_eq!(j["exit_code"], 0);
    assert_eq!(j["source"], "oss://bkt/j.bin");
    let dest = PathBuf::from(j["destination"].as_str().unwrap());
    assert!(dest.is_absolute() && dest.ends_with("j.bin"), "{dest:?}");
    assert_eq!(j["bytes_total"], size);
    assert_eq!(j["bytes_done"], size);
    assert_eq!(j["bytes_transferred"], size);
    assert_eq!(j["bytes_resumed"], 0);
    assert_eq!(j["retries"], 0);
    assert_eq!(j["restarts"], 0);
    assert_eq!(j["part_size"], 100 * 1024);
    assert_eq!(j["parts_total"], size.div_ceil(100 * 1024));
    assert_eq!(j["threads"], 2);
    // 10 parts of 100 KiB: one GET (the object is smaller than a request) on one of the
    // pool's connections, as the server counted them.
    let c = fx.emu.counters();
    assert_eq!(j["requests"], c.ranges_served);
    assert_eq!(j["requests"], 1);
    assert_eq!(j["connections_opened"], c.connections);
    assert!(j["elapsed_secs"].as_f64().unwrap() > 0.0);
    assert!(j["rate_bytes_per_sec"].as_f64().unwrap() > 0.0);
    assert_eq!(
        j["etag"],
        fx.emu.object_info(BUCKET, "j.bin").unwrap().etag.as_str()
    );
    assert_eq!(j["crc64"], crc.to_string());
    assert_eq!(j["crc64_verified"], true);
    assert_eq!(j["checkpoint"], "fresh");
    assert!(j["checkpoint_path"].as_str().unwrap().ends_with("j.bin.cp"));
    assert_eq!(j["warnings"], serde_json::json!([]));
    assert_eq!(j["signal"], Value::Null);
    assert_eq!(j["error"], Value::Null);
    assert_file(&fx.path("j.bin"), size);

    // Every field --help documents is in the object, and nothing else.
    let help = fx.run(&["--help"]).await;
    help.expect(0, &[]);
    let section = help
        .stdout
        .split("JSON (--json)")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    let mut documented: Vec<String> = section
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .flat_map(|l| {
            let names = l.trim().split("  ").next().unwrap();
            names.split(", ").map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    documented.sort();
    let mut actual: Vec<String> = j.as_object().unwrap().keys().cloned().collect();
    actual.sort();
    assert_eq!(documented, actual);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dest_defaults_to_the_key_name_and_directories_get_it_inside() {
    let fx = Fixture::new("dest").await;
    fx.object("deep/dir/name.bin", 70_000);
    fx.run(&["oss://bkt/deep/dir/name.bin"])
        .await
        .expect(0, &[]);
    assert_file(&fx.path("name.bin"), 70_000);

    std::fs::create_dir(fx.path("sub")).unwrap();
    fx.run(&["oss://bkt/deep/dir/name.bin", "sub"])
        .await
        .expect(0, &[]);
    assert_file(&fx.path("sub/name.bin"), 70_000);
    fx.run(&["oss://bkt/deep/dir/name.bin", "sub/"])
        .await
        .expect(0, &[]);

    let before = fx.emu.counters().requests;
    fx.run(&["oss://bkt/deep/dir/name.bin", "missing/"])
        .await
        .expect(2, &["directory `missing/` does not exist"]);
    fx.run(&["oss://bkt/deep/dir/name.bin", "missing/x.bin"])
        .await
        .expect(2, &["does not exist; create it first"]);
    assert_eq!(
        fx.emu.counters().requests,
        before,
        "usage errors request nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_cannot_be_a_file_name_needs_an_explicit_dest() {
    let fx = Fixture::new("keyname").await;
    for key in ["CON.txt", "a\\b.txt"] {
        fx.object(key, 5000);
        let url = format!("oss://bkt/{key}");
        let run = fx.run(&[&url]).await;
        run.expect(2, &["has no usable file name", "give DEST as a file path"]);
        std::fs::create_dir_all(fx.path("d")).unwrap();
        fx.run(&[&url, "d"])
            .await
            .expect(2, &["has no usable file name"]);
        assert_eq!(fx.emu.counters().requests, 0, "{key}: nothing requested");
    }
    // A source ending in `/` is a prefix (many objects, into a directory): an object whose
    // key ends in `/` and has content cannot be a file there, and is reported.
    fx.object("reports/", 5000);
    fx.run(&["oss://bkt/reports/"])
        .await
        .expect(2, &["needs a destination directory"]);
    fx.run(&["oss://bkt/reports/", "reports"]).await.expect(
        1,
        &["skipped reports/: unsafe key: it ends in `/` (a directory) but has content"],
    );
    // With DEST named, the other keys download.
    fx.run(&["oss://bkt/CON.txt", "con-object.txt"])
        .await
        .expect(0, &[]);
    assert_file(&fx.path("con-object.txt"), 5000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_reach_the_download() {
    let fx = Fixture::new("options").await;
    let port = fx.server.local_addr().port();

    // --version-id: an older version of a versioned object.
    fx.emu
        .add_bucket(BucketSpec::new("ver").versioning(Versioning::Enabled))
        .unwrap();
    let v1 = fx
        .emu
        .put_object("ver", "v.bin", ObjectSpec::synthetic(300_000, 1))
        .unwrap();
    fx.emu
        .put_object("ver", "v.bin", ObjectSpec::synthetic(300_000, 2))
        .unwrap();
    let run = fx
        .run(&[
            "oss://ver/v.bin",
            "old.bin",
            "--version-id",
            &v1.version_id,
            "--json",
        ])
        .await;
    run.expect(0, &[]);
    assert_eq!(run.json()["version_id"], v1.version_id.as_str());
    assert!(std::fs::read(fx.path("old.bin")).unwrap() == synthetic_bytes(1, 0, 300_000));

    // Signature V1, fast mode, no preallocation or space check, an extra header, and a
    // rate limit that shows in the time taken (and long enough for a plain progress line:
    // stderr is a pipe here).
    fx.object("r.bin", 3 << 19);
    let run = fx
        .run(&[
            "oss://bkt/r.bin",
            "--signature-version",
            "1",
            "--durability",
            "fast",
            "--no-preallocate",
            "--no-space-check",
            "--header",
            "x-oss-request-payer: requester",
            "--limit-rate",
            "1MiB",
            "--json",
        ])
        .await;
    run.expect(0, &["/1.50 MiB ", "% ", " ETA ", " parts "]);
    let line = run.stderr.lines().next().unwrap();
    assert!(
        line.starts_with("ossget: ") && line.contains("/s ETA "),
        "{line}"
    );
    assert!(
        run.json()["elapsed_secs"].as_f64().unwrap() >= 1.2,
        "{}",
        run.stdout
    );
    assert_file(&fx.path("r.bin"), 3 << 19);

    // --cname and --resolve: a custom domain bound to the bucket, resolved to the emulator.
    fx.emu.add_cname("files.example.com", BUCKET);
    let cname = format!("http://files.example.com:{port}");
    let resolve = format!("files.example.com:{port}:127.0.0.1");
    let run = Run::from(
        fx.command(
            &cname,
            &["oss://bkt/r.bin", "c.bin", "--cname", "--resolve", &resolve],
        )
        .output()
        .await
        .unwrap(),
    );
    run.expect(0, &[]);
    assert_file(&fx.path("c.bin"), 3 << 19);

    // Virtual-hosted addressing on an endpoint domain (a wildcard --resolve), and the error
    // OSS gives when path style is forced there.
    fx.emu.add_endpoint_domain("oss-test.example");
    let domain = format!("http://oss-test.example:{port}");
    let wildcard = format!("*.oss-test.example:{port}:127.0.0.1");
    let run = Run::from(
        fx.command(
            &domain,
            &["oss://bkt/r.bin", "vh.bin", "--resolve", &wildcard],
        )
        .output()
        .await
        .unwrap(),
    );
    run.expect(0, &[]);
    assert_file(&fx.path("vh.bin"), 3 << 19);
    let direct = format!("oss-test.example:{port}:127.0.0.1");
    let run = Run::from(
        fx.command(
            &domain,
            &[
                "oss://bkt/r.bin",
                "ps.bin",
                "--path-style",
                "--resolve",
                &direct,
            ],
        )
        .output()
        .await
        .unwrap(),
    );
    run.expect(1, &["SecondLevelDomainForbidden: ", "drop --path-style"]);
}

// ---- Usage errors: exit 2, nothing requested ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2_before_any_request() {
    let fx = Fixture::new("usage").await;
    fx.object("k.bin", 1000);
    let cases: &[(&[&str], &str)] = &[
        (
            &["oss://bkt/k.bin", "--part-size", "0"],
            "part size 0 is below the 1-byte minimum",
        ),
        (
            &["oss://bkt/k.bin", "--part-size", "6GiB"],
            "part size 6GiB is above the 5GiB limit",
        ),
        (
            &["oss://bkt/k.bin", "--part-size", "8XB"],
            "`8XB` is not a size",
        ),
        (
            &["oss://bkt/k.bin", "--limit-rate", "0"],
            "would never finish",
        ),
        (
            &["oss://bkt/k.bin", "--threads", "0"],
            "threads must be a whole number from 1 to 1024",
        ),
        (
            &["ftp://bkt/k.bin"],
            "is not an OSS URL; write oss://BUCKET/KEY",
        ),
        (&["oss://Bkt/k.bin"], "bucket name `Bkt` is not valid"),
        (&["oss://bkt"], "names no object"),
        (
            &["oss://bkt/k.bin", "--header", "Range: bytes=0-1"],
            "`Range` is set by the client",
        ),
        (
            &["oss://bkt/k.bin", "--header", "no-colon"],
            "has no `:`; write 'Name: value'",
        ),
        (
            // A mistyped SSE-C header: the message must not quote the key.
            &[
                "oss://bkt/k.bin",
                "--header",
                "x-oss-server-side-encryption-customer-key c2VjcmV0S2V5",
            ],
            "has no `:`; write 'Name: value'",
        ),
        (
            &["oss://bkt/k.bin", "--resolve", "h:1:127.0.0.1"],
            "is not the endpoint's port",
        ),
        (
            &["oss://bkt/k.bin", "--no-checkpoint", "--restart"],
            "cannot be used with",
        ),
        (
            &["oss://bkt/k.bin", "--frobnicate"],
            "unexpected argument '--frobnicate'",
        ),
        (
            &["oss://bkt/k.bin", "--on-change", "maybe"],
            "possible values: fail, restart",
        ),
        (
            // Was exit 1 with the library's words, after a HEAD.
            &["oss://bkt/k.bin", "--version-id", ""],
            "the version id is empty; give the version's id, or leave --version-id out",
        ),
        (
            &["oss://bkt/k.bin", "--min-rate", "1KiB"],
            "`1KiB` is not RATE/WINDOW; write e.g. 1KiB/60s (or off)",
        ),
    ];
    for (args, message) in cases {
        let run = fx.run(args).await;
        run.expect(2, &[message]);
        assert_eq!(run.stdout, "", "{args:?}: usage errors print no JSON");
        assert!(!run.stderr.contains("c2VjcmV0S2V5"), "{}", run.stderr);
    }

    // Sizes in their documented forms are accepted (the object is smaller than one part).
    for size in ["100KiB", "1.5GiB", "8MiB", "1048576", "5GiB"] {
        fx.run(&["oss://bkt/k.bin", "ok.bin", "--part-size", size])
            .await
            .expect(0, &[]);
    }
    let requests = fx.emu.counters().requests;

    // Credentials, endpoint and region come from the environment or flags.
    let no_id = fx
        .command(fx.endpoint(), &["oss://bkt/k.bin"])
        .env_remove("OSS_ACCESS_KEY_ID")
        .output()
        .await
        .unwrap();
    Run::from(no_id).expect(2, &["set OSS_ACCESS_KEY_ID too", "--anonymous"]);
    let no_secret = fx
        .command(fx.endpoint(), &["oss://bkt/k.bin"])
        .env_remove("OSS_ACCESS_KEY_SECRET")
        .output()
        .await
        .unwrap();
    Run::from(no_secret).expect(2, &["set OSS_ACCESS_KEY_SECRET too", "--anonymous"]);
    let neither = fx
        .command(fx.endpoint(), &["oss://bkt/k.bin"])
        .env_remove("OSS_ACCESS_KEY_ID")
        .env_remove("OSS_ACCESS_KEY_SECRET")
        .output()
        .await
        .unwrap();
    Run::from(neither).expect(
        2,
        &[
            "no credentials found; tried, in order: env (",
            "Set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET",
        ],
    );
    let mut no_endpoint = tokio::process::Command::new(env!("CARGO_BIN_EXE_ossget"));
    no_endpoint
        .args(["oss://bkt/k.bin"])
        .current_dir(fx.dir.path())
        .env_remove("OSS_ENDPOINT")
        .env_remove("OSS_REGION");
    Run::from(no_endpoint.output().await.unwrap()).expect(2, &["no endpoint: pass --endpoint URL"]);
    let mut no_region = tokio::process::Command::new(env!("CARGO_BIN_EXE_ossget"));
    no_region
        .args(["oss://bkt/k.bin", "--endpoint", fx.endpoint()])
        .current_dir(fx.dir.path())
        .env_remove("OSS_REGION")
        .env("OSS_ACCESS_KEY_ID", ID)
        .env("OSS_ACCESS_KEY_SECRET", SECRET);
    Run::from(no_region.output().await.unwrap()).expect(
        2,
        &[
            "signature V4 needs the bucket's region",
            "--region",
            "--signature-version 1",
        ],
    );
    // OSS_ENDPOINT / OSS_REGION stand in for the flags.
    let mut from_env = tokio::process::Command::new(env!("CARGO_BIN_EXE_ossget"));
    from_env
        .args(["oss://bkt/k.bin", "env.bin", "-q"])
        .current_dir(fx.dir.path())
        .env("OSS_ENDPOINT", fx.endpoint())
        .env("OSS_REGION", "cn-hangzhou")
        .env("OSS_ACCESS_KEY_ID", ID)
        .env("OSS_ACCESS_KEY_SECRET", SECRET);
    Run::from(from_env.output().await.unwrap()).expect(0, &[]);
    assert_file(&fx.path("env.bin"), 1000);
    assert_eq!(
        fx.emu.counters().requests,
        requests + 2,
        "only the last run requested"
    );
}

// ---- Failures: exit 1, OSS code and request id ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oss_errors_exit_1_with_code_and_request_id() {
    let fx = Fixture::new("oss-errors").await;
    fx.object("k.bin", 1000);
    fx.emu
        .add_bucket(BucketSpec::new("public").public_read())
        .unwrap();
    fx.emu
        .put_object("public", "p.bin", ObjectSpec::synthetic(3000, SEED))
        .unwrap();

    let run = fx.run(&["oss://bkt/dir/missing.txt", "--json"]).await;
    run.expect(
        1,
        &[
            "ossget: NoSuchKey: dir/missing.txt does not exist in bkt (request id ",
            "ossget: hint: check the object key",
        ],
    );
    assert_request_id(&run.stderr);
    let j = run.json();
    assert_eq!(j["status"], "failed");
    assert_eq!(j["exit_code"], 1);
    assert_eq!(j["error"]["oss_code"], "NoSuchKey");
    assert_eq!(j["error"]["request_id"].as_str().unwrap().len(), 24);
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("NoSuchKey: ")
    );
    assert_eq!(
        run.stderr.lines().count(),
        2,
        "one or two lines:\n{}",
        run.stderr
    );

    let run = fx.run(&["oss://nobucket/k.bin"]).await;
    run.expect(
        1,
        &["NoSuchBucket: bucket nobucket does not exist", "--region"],
    );
    assert_request_id(&run.stderr);

    // A wrong secret: the error names the variable to check and never the secret, even
    // with every log on.
    let wrong = fx
        .command(fx.endpoint(), &["oss://bkt/k.bin", "-vvv"])
        .env("OSS_ACCESS_KEY_SECRET", "Wrong-Secret-77")
        .output()
        .await
        .unwrap();
    let wrong = Run::from(wrong);
    wrong.expect(
        1,
        &["SignatureDoesNotMatch: ", "check OSS_ACCESS_KEY_SECRET"],
    );
    assert!(
        !wrong.stderr.contains("Wrong-Secret-77"),
        "{}",
        wrong.stderr
    );
    assert_request_id(&wrong.stderr);

    let unknown = fx
        .command(fx.endpoint(), &["oss://bkt/k.bin"])
        .env("OSS_ACCESS_KEY_ID", "LTAI5tUnknownKeyId")
        .output()
        .await
        .unwrap();
    Run::from(unknown).expect(1, &["InvalidAccessKeyId: ", "check OSS_ACCESS_KEY_ID"]);

    // A code ossget has no words of its own for: OSS's message and the library's advice.
    fx.emu.add_fault(
        ServiceFault::new(FaultAction::error(
            400,
            "InvalidArgument",
            "Some argument is odd today.",
        ))
        .key(BUCKET, "k.bin")
        .times(1),
    );
    let odd = fx.run(&["oss://bkt/k.bin", "--json"]).await;
    odd.expect(
        1,
        &[
            "ossget: InvalidArgument: Some argument is odd today (request id ",
            "ossget: hint: see the OSS error code reference",
        ],
    );
    assert_request_id(&odd.stderr);
    assert_eq!(odd.json()["error"]["oss_code"], "InvalidArgument");

    // Anonymous: refused on a private bucket, fine on a public-read one.
    fx.run(&["oss://bkt/k.bin", "--anonymous"])
        .await
        .expect(1, &["AccessDenied: access to bkt/k.bin was denied"]);
    fx.run(&["oss://public/p.bin", "--anonymous"])
        .await
        .expect(0, &[]);
    assert_file(&fx.path("p.bin"), 3000);
    // Nothing but the public file was left behind by the failures.
    assert_eq!(fx.files(), ["p.bin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_failures_exit_1() {
    let fx = Fixture::new("local").await;
    fx.object("k.bin", 1000);
    // Another run holds the destination's lock.
    let mut lock = std::fs::File::create(fx.path("k.bin.lock")).unwrap();
    lock.try_lock().unwrap();
    std::io::Write::write_all(&mut lock, b"4242").unwrap();
    fx.run(&["oss://bkt/k.bin"])
        .await
        .expect(1, &["is already being downloaded by process 4242"]);
    fx.run(&["oss://bkt/k.bin", "--restart"])
        .await
        .expect(1, &["is already being downloaded by process 4242"]);
    drop(lock);
    fx.run(&["oss://bkt/k.bin"]).await.expect(0, &[]);

    // Nothing listens there: the connection error names the endpoint (after retries).
    let started = Instant::now();
    let run = Run::from(
        fx.command("http://127.0.0.1:1", &["oss://bkt/k.bin", "x.bin"])
            .output()
            .await
            .unwrap(),
    );
    run.expect(1, &["could not connect to `127.0.0.1:1`"]);
    assert!(started.elapsed() < Duration::from_secs(60));
}

// ---- Interruptions ---------------------------------------------------------------------------

/// A throttled proxy in front of the fixture's server.
async fn throttled(fx: &Fixture, bytes_per_sec: u64) -> ChaosProxy {
    ChaosProxy::start(
        fx.server.local_addr(),
        vec![NetFault::Throttle { bytes_per_sec }],
        1,
    )
    .await
    .unwrap()
}

/// Starts `ossget ARGS` through `proxy`, sends `signal` once the proxy has relayed
/// `after` body bytes, and waits for the exit.
async fn interrupt(
    fx: &Fixture,
    proxy: &ChaosProxy,
    args: &[&str],
    after: u64,
    signal: &str,
) -> Run {
    interrupt_with(fx, proxy, args, after, &[signal]).await
}

/// [`interrupt`] with several signals sent back to back.
async fn interrupt_with(
    fx: &Fixture,
    proxy: &ChaosProxy,
    args: &[&str],
    after: u64,
    signals: &[&str],
) -> Run {
    let child = fx.command(&proxy.endpoint(), args).spawn().unwrap();
    let pid = child.id().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while proxy.stats().body_bytes_to_client < after {
        assert!(
            Instant::now() < deadline,
            "the download did not reach {after} bytes"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for signal in signals {
        let status = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("ossget did not stop after the signal")
        .unwrap();
    Run::from(out)
}

/// The value of `count` once it has not changed for 200 ms.
async fn settled(count: impl Fn() -> u64) -> u64 {
    let mut last = count();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = count();
        if now == last {
            return now;
        }
        last = now;
    }
}

fn load_checkpoint(path: &Path) -> oss_ckpt::Checkpoint {
    oss_ckpt::fs::CheckpointFile::new(path).load_any().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_mid_part_saves_a_checkpoint_and_the_rerun_fetches_only_the_rest() {
    let fx = Fixture::new("sigint").await;
    let size: u64 = 4 << 20;
    let part: u64 = 1 << 20;
    let threads: u64 = 2;
    fx.object("big.bin", size);
    // 2 MiB/s for all connections: each 1 MiB part takes about a second, so when the signal
    // comes (1.5 MiB relayed) both workers are in the middle of a part's body.
    let proxy = throttled(&fx, 2 << 20).await;
    let args = [
        "oss://bkt/big.bin",
        "--part-size",
        "1MiB",
        "--threads",
        "2",
        "--json",
    ];
    let run = interrupt(&fx, &proxy, &args, 3 << 19, "INT").await;
    run.expect(
        130,
        &[
            "ossget: SIGINT: stopping and saving progress",
            "ossget: interrupted by SIGINT at ",
            "progress is saved in big.bin.cp",
            "ossget: to resume, run the same command again: ",
            "oss://bkt/big.bin --part-size 1MiB --threads 2 --json",
        ],
    );
    let j = run.json();
    assert_eq!(j["status"], "interrupted");
    assert_eq!(j["signal"], "SIGINT");
    assert_eq!(j["exit_code"], 130);
    // Known even though the run did not finish (from the library's last progress).
    assert_eq!(j["part_size"], part);
    assert_eq!(j["retries"], 0);
    // What the proxy relayed, once the connections are gone (its count moves a chunk at a
    // time, so it is compared with a margin below).
    let relayed = settled(|| proxy.stats().body_bytes_to_client).await;

    // The checkpoint loads, belongs to this object, and holds progress inside parts.
    let ckpt = load_checkpoint(&fx.path("big.bin.cp"));
    assert_eq!(ckpt.object().key, "big.bin");
    assert_eq!(ckpt.plan().part_size().get(), part);
    let saved = ckpt.latest.bytes_done();
    assert!(
        !ckpt.latest.in_flight().is_empty(),
        "no part was cut mid-body"
    );
    assert!(saved > 0 && saved < size, "saved {saved}");
    assert_eq!(
        j["bytes_done"], saved,
        "the JSON reports what the checkpoint holds"
    );
    // Everything received was written and recorded: what was relayed but is not in the
    // checkpoint is at most what sat in socket buffers (well under 1 MiB per connection).
    // Every byte received was written and recorded before the exit: what the proxy relayed
    // beyond the checkpoint is only what sat in socket buffers when the connections closed.
    assert!(
        relayed.saturating_sub(saved) < threads * (1 << 20),
        "relayed {relayed}, saved {saved}"
    );
    assert!(fx.path("big.bin.oss-tmp").exists());
    assert!(
        !fx.path("big.bin").exists(),
        "nothing at DEST before it is complete"
    );

    // The same command again, unthrottled: it fetches exactly what the checkpoint lacks (the
    // server's count of body bytes written, and the client's own).
    proxy.clear_faults();
    let served = settled(|| fx.emu.counters().body_bytes_sent).await;
    let run = Run::from(fx.command(&proxy.endpoint(), &args).output().await.unwrap());
    run.expect(0, &["ossget: resuming: ", "CRC-64 verified"]);
    let j = run.json();
    assert_eq!(j["checkpoint"], "resumed");
    assert_eq!(j["bytes_resumed"], saved);
    assert_eq!(j["bytes_transferred"], size - saved);
    assert_eq!(fx.emu.counters().body_bytes_sent - served, size - saved);
    assert_file(&fx.path("big.bin"), size);
    assert_eq!(fx.files(), ["big.bin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_143_and_a_foreign_checkpoint_needs_restart() {
    let fx = Fixture::new("sigterm").await;
    let size: u64 = 2 << 20;
    fx.object("a.bin", size);
    fx.object("b.bin", size);
    let proxy = throttled(&fx, 1 << 20).await;
    let run = interrupt(
        &fx,
        &proxy,
        &["oss://bkt/a.bin", "out.bin", "--part-size", "512KiB"],
        1 << 18,
        "TERM",
    )
    .await;
    run.expect(
        143,
        &["interrupted by SIGTERM", "progress is saved in out.bin.cp"],
    );
    proxy.clear_faults();

    // Another object to the same DEST: the checkpoint is not ours to overwrite.
    let other = ["oss://bkt/b.bin", "out.bin", "--part-size", "512KiB"];
    let run = Run::from(
        fx.command(&proxy.endpoint(), &other)
            .output()
            .await
            .unwrap(),
    );
    run.expect(
        1,
        &[
            "checkpoint ",
            "ossget: hint: pass --restart to discard that checkpoint",
        ],
    );
    assert!(fx.path("out.bin.cp").exists());

    let mut again: Vec<&str> = other.to_vec();
    again.push("--restart");
    let run = Run::from(
        fx.command(&proxy.endpoint(), &again)
            .output()
            .await
            .unwrap(),
    );
    run.expect(
        0,
        &[
            "--restart: discarded the checkpoint out.bin.cp",
            "0 B resumed",
        ],
    );
    let got = std::fs::read(fx.path("out.bin")).unwrap();
    assert!(got == synthetic_bytes(SEED, 0, size as usize));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_changed_since_the_checkpoint_is_reported() {
    let fx = Fixture::new("changed").await;
    let size: u64 = 2 << 20;
    fx.object("c.bin", size);
    let proxy = throttled(&fx, 1 << 20).await;
    let args = ["oss://bkt/c.bin", "--part-size", "512KiB"];
    interrupt(&fx, &proxy, &args, 1 << 18, "INT")
        .await
        .expect(130, &[]);
    proxy.clear_faults();
    let old = fx.emu.object_info(BUCKET, "c.bin").unwrap();
    let new = fx.emu.replace_object(BUCKET, "c.bin").unwrap();
    assert_ne!(old.etag, new.etag);

    let run = Run::from(fx.command(&proxy.endpoint(), &args).output().await.unwrap());
    run.expect(1, &["the object changed", "--on-change restart"]);
    assert_eq!(run.stderr.lines().count(), 2, "{}", run.stderr);
    // The old version's partial data was discarded: the next run downloads the new one.
    let run = Run::from(fx.command(&proxy.endpoint(), &args).output().await.unwrap());
    run.expect(0, &["0 B resumed"]);
    let bytes = fx.emu.object_bytes(BUCKET, "c.bin").unwrap();
    assert!(std::fs::read(fx.path("c.bin")).unwrap() == bytes.as_ref());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigint_is_safe_whenever_it_lands() {
    let fx = Fixture::new("double").await;
    let size: u64 = 8 << 20;
    fx.object("d.bin", size);
    let proxy = throttled(&fx, 4 << 20).await;
    let args = ["oss://bkt/d.bin", "--part-size", "1MiB", "--threads", "2"];
    // Two SIGINTs back to back: the second lands while the first is being handled (the
    // explicit exit at once) or after it (an ordinary stop); either way the checkpoint on
    // disk is whole and only grows.
    let mut saved = 0;
    for round in 1..=3u64 {
        let run = interrupt_with(&fx, &proxy, &args, round * (3 << 19), &["INT", "INT"]).await;
        run.expect(130, &["SIGINT"]);
        let at_once = run.stderr.contains("quitting now");
        eprintln!(
            "round {round}: the second SIGINT {}",
            if at_once {
                "exited at once"
            } else {
                "came after the stop"
            }
        );
        let now = load_checkpoint(&fx.path("d.bin.cp")).latest.bytes_done();
        assert!(
            now >= saved && now < size,
            "round {round}: {saved} -> {now}"
        );
        saved = now;
    }
    proxy.clear_faults();
    // --verify-resume re-reads what the checkpoint claims before trusting it.
    let mut rerun = args.to_vec();
    rerun.push("--verify-resume");
    let run = Run::from(
        fx.command(&proxy.endpoint(), &rerun)
            .output()
            .await
            .unwrap(),
    );
    run.expect(0, &["ossget: resuming: ", "CRC-64 verified"]);
    assert_file(&fx.path("d.bin"), size);
    assert_eq!(fx.files(), ["d.bin"]);
}

// ---- Hostile servers, hostile names, planted files ------------------------------------------

/// A server on 127.0.0.1 that answers each request with `respond(request head)` and closes
/// the connection: canned bytes, for answers no OSS (nor the emulator) would give.
async fn hostile_server(respond: fn(&str) -> Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tcp
                    .write_all(&respond(&String::from_utf8_lossy(&head)))
                    .await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// HEAD: a 1000-byte object. GET: `403` with `message` as the OSS error message.
fn head_ok_get_refused(head: &str, message: &str) -> Vec<u8> {
    if head.starts_with("HEAD ") {
        return b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"E\"\r\nx-oss-request-id: 5C3D9175B6FC201293AD4890\r\nConnection: close\r\n\r\n".to_vec();
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code><Message>{message}</Message><RequestId>5C3D9175B6FC201293AD4890</RequestId></Error>"
    );
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nx-oss-request-id: 5C3D9175B6FC201293AD4890\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Nothing a server sends or a key holds reaches the terminal as a control sequence: ESC,
/// BEL, CR and LF (raw, or as `&#x1b;` references in the XML), and bidi overrides, are
/// escaped on stderr and in `--json` (where a JSON reader gets the original text back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_and_key_names_cannot_drive_the_terminal() {
    let fx = Fixture::new("escape").await;
    let endpoint = hostile_server(|head| {
        head_ok_get_refused(
            head,
            "odd\x1b]0;pwned\x07 &#x1b;[2J&#x1b;[1A\rossget: done: x.bin (1.00 MiB) in 0.1 s, CRC-64 verified\nmore",
        )
    })
    .await;
    let run = Run::from(
        fx.command(&endpoint, &["oss://bkt/x.bin", "--json", "--no-checkpoint"])
            .output()
            .await
            .unwrap(),
    );
    run.expect(
        1,
        &["ossget: InvalidArgument: odd\\u{1b}]0;pwned\\u{7} \\u{1b}[2J"],
    );
    for raw in ['\x1b', '\x07', '\r'] {
        assert!(
            !run.stderr.contains(raw),
            "{raw:?} reached stderr: {:?}",
            run.stderr
        );
        assert!(
            !run.stdout.contains(raw),
            "{raw:?} reached stdout: {:?}",
            run.stdout
        );
    }
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("ossget: done")),
        "a forged line: {}",
        run.stderr
    );
    let message = run.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("\x1b]0;pwned\x07"), "{message:?}");

    // A key with a right-to-left override: the name shows escaped, the file has it.
    let key = "report\u{202e}fdp.exe";
    fx.object(key, 1000);
    let url = format!("oss://bkt/{key}");
    let run = fx.run(&[url.as_str(), "--json"]).await;
    run.expect(0, &["report\\u{202e}fdp.exe"]);
    assert!(!run.stderr.contains('\u{202e}'), "{}", run.stderr);
    assert!(!run.stdout.contains('\u{202e}'), "{}", run.stdout);
    assert!(run.stdout.contains("\\u202e"), "{}", run.stdout);
    assert_eq!(run.json()["source"], url.as_str());
    assert_file(&fx.path(key), 1000);
}

/// Known secrets never reach the output, whatever their source: a server that echoes the
/// request's headers (STS token, SSE-C key and its MD5) in its error text, and an endpoint
/// with a password in it (a usage error used to print it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_secrets_are_redacted_whatever_prints_them() {
    const TOKEN: &str = "STS-Token-Echoed-Back-7a1b";
    const SSE_KEY: &str = "c3NlLWMta2V5LWVjaG9lZC1iYWNr";
    const SSE_MD5: &str = "bWQ1LW9mLXRoZS1rZXktZWNobw==";
    let fx = Fixture::new("redact").await;
    // Echoes the whole request head, as some proxies' error pages do.
    let endpoint = hostile_server(|head| {
        let echoed: String = head.replace(['\r', '\n'], " ");
        head_ok_get_refused(head, &format!("you sent: {echoed}"))
    })
    .await;
    let header = format!("x-oss-server-side-encryption-customer-key: {SSE_KEY}");
    let header_md5 = format!("x-oss-server-side-encryption-customer-key-MD5: {SSE_MD5}");
    let run = Run::from(
        fx.command(
            &endpoint,
            &[
                "oss://bkt/x.bin",
                "--json",
                "-vv",
                "--header",
                &header,
                "--header",
                &header_md5,
            ],
        )
        .env("OSS_SESSION_TOKEN", TOKEN)
        .output()
        .await
        .unwrap(),
    );
    run.expect(1, &["you sent: ", "<redacted>"]);
    let all = format!("{}{}", run.stdout, run.stderr);
    for secret in [TOKEN, SSE_KEY, SSE_MD5] {
        assert!(!all.contains(secret), "{secret} was printed:\n{all}");
    }

    let run = Run::from(
        fx.command(
            "http://admin:Endpoint-Pa55word@127.0.0.1:1",
            &["oss://bkt/x.bin"],
        )
        .output()
        .await
        .unwrap(),
    );
    assert!(run.code == Some(2) || run.code == Some(1), "{}", run.stderr);
    assert!(
        !run.stderr.contains("Endpoint-Pa55word"),
        "the password was printed:\n{}",
        run.stderr
    );
}

/// What the server says it is, not what the user typed: a HEAD of 2^62 bytes is exit 1
/// naming the size (it was exit 2, "invalid argument `part_size`").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_head_size_is_a_failure_naming_the_size() {
    let fx = Fixture::new("huge").await;
    fx.emu
        .put_object(BUCKET, "huge.bin", ObjectSpec::synthetic(1 << 62, SEED))
        .unwrap();
    let run = fx.run(&["oss://bkt/huge.bin", "--json"]).await;
    run.expect(1, &["4611686018427387904 bytes"]);
    assert!(!run.stderr.contains("part_size"), "{}", run.stderr);
    assert_eq!(run.json()["exit_code"], 1);
    assert!(fx.files().is_empty(), "{:?}", fx.files());
}

/// Planted files and special destinations, as the CLI reports them: a FIFO as DEST is a
/// usage error (never replaced), a FIFO at DEST.cp or a foreign DEST.lock fails at once
/// with the fix (`--restart`), and a 250-byte file name downloads.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_files_and_special_destinations() {
    use std::os::unix::fs::FileTypeExt;
    let fx = Fixture::new("planted").await;
    fx.object("p.bin", 1000);
    let mkfifo = |name: &str| {
        let status = std::process::Command::new("mkfifo")
            .arg(fx.path(name))
            .status()
            .unwrap();
        assert!(status.success());
    };
    mkfifo("pipe");
    fx.run(&["oss://bkt/p.bin", "pipe"])
        .await
        .expect(2, &["pipe` is a FIFO (named pipe)", "regular file"]);
    assert!(
        std::fs::symlink_metadata(fx.path("pipe"))
            .unwrap()
            .file_type()
            .is_fifo()
    );

    mkfifo("p.bin.cp");
    let started = Instant::now();
    fx.run(&["oss://bkt/p.bin"]).await.expect(
        1,
        &[
            "p.bin.cp is not a checkpoint (a FIFO (named pipe))",
            "--restart",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    fx.run(&["oss://bkt/p.bin", "--restart"])
        .await
        .expect(0, &[]);
    assert_file(&fx.path("p.bin"), 1000);

    std::fs::write(fx.path("q.bin.lock"), "my notes\n").unwrap();
    fx.run(&["oss://bkt/p.bin", "q.bin"]).await.expect(
        1,
        &[
            "q.bin.lock is in the way",
            "ossget: hint: move it away, or pass --restart to remove it",
        ],
    );
    assert_eq!(std::fs::read(fx.path("q.bin.lock")).unwrap(), b"my notes\n");

    let long = "l".repeat(250);
    fx.run(&["oss://bkt/p.bin", &long]).await.expect(0, &[]);
    assert_file(&fx.path(&long), 1000);
}

/// Interrupted with `--no-checkpoint`: the message no longer promises a resume (it said
/// both "the next run starts over" and "to resume, run the same command again"), and the
/// `--json` record names the object HEAD described (its etag was null).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_says_what_is_kept_and_names_the_object() {
    let fx = Fixture::new("interrupt-words").await;
    fx.object("i.bin", 2 << 20);
    let etag = fx.emu.object_info(BUCKET, "i.bin").unwrap().etag;
    let proxy = throttled(&fx, 1 << 20).await;
    let run = interrupt(
        &fx,
        &proxy,
        &["oss://bkt/i.bin", "--no-checkpoint", "--json"],
        1 << 18,
        "INT",
    )
    .await;
    run.expect(
        130,
        &[
            "--no-checkpoint was given, so nothing is kept",
            "ossget: to download it from the start, run the same command again: ",
        ],
    );
    assert!(!run.stderr.contains("resume"), "{}", run.stderr);
    let j = run.json();
    assert_eq!(j["etag"], etag.as_str());
    assert_eq!(j["bytes_total"], 2 << 20);
    assert!(j["crc64"].is_string(), "{j}");
    assert_eq!(fx.files(), Vec::<String>::new());
}

/// After a CRC mismatch the temp file and the checkpoint are gone: the hint says the next
/// run starts over (it said "again to resume").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crc_mismatch_hint_does_not_promise_a_resume() {
    let fx = Fixture::new("crc").await;
    fx.object("c.bin", 100_000);
    fx.emu.add_fault(
        ServiceFault::new(FaultAction::CorruptByte(500))
            .ranged_only()
            .times(1),
    );
    let run = fx.run(&["oss://bkt/c.bin"]).await;
    run.expect(
        1,
        &[
            "the downloaded data is corrupt",
            "ossget: hint: run the same command again; it downloads the object from the start",
        ],
    );
    assert!(!run.stderr.contains("to resume"), "{}", run.stderr);
    assert_eq!(fx.files(), Vec::<String>::new());
}

/// `--min-rate` reaches the transport: a body slower than the rate over a whole window is
/// given up (and after a budget of such attempts, the download).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_rate_gives_up_on_a_trickle() {
    let fx = Fixture::new("min-rate").await;
    fx.object("t.bin", 1 << 20);
    let proxy = throttled(&fx, 200).await;
    let started = Instant::now();
    let run = Run::from(
        fx.command(
            &proxy.endpoint(),
            &[
                "oss://bkt/t.bin",
                "--min-rate",
                "1KiB/1s",
                "--no-checkpoint",
            ],
        )
        .output()
        .await
        .unwrap(),
    );
    run.expect(1, &["below the minimum 1024 B/s"]);
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// ossget prints an error's whole chain, each cause once: through the transport here (a
/// refused connection: the download's words, oss-http's, hyper's, the OS's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transport_error_chain_shows_each_cause_once() {
    let fx = Fixture::new("chain").await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let run = Run::from(
        fx.command(
            &format!("http://127.0.0.1:{port}"),
            &["oss://bkt/k.bin", "x.bin"],
        )
        .output()
        .await
        .unwrap(),
    );
    run.expect(
        1,
        &["could not read the object's metadata: could not connect to"],
    );
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("could not connect"))
        .unwrap();
    let causes: Vec<&str> = line.trim_start_matches("ossget: ").split(": ").collect();
    assert!(causes.len() >= 3, "{line}");
    for cause in &causes {
        assert_eq!(line.matches(cause).count(), 1, "`{cause}` twice in: {line}");
    }
    assert_eq!(line.to_lowercase().matches("refused").count(), 1, "{line}");
}

// ---- Credentials: the default chain, --profile, refresh ------------------------------------

/// No keys in the environment: the chain takes the config.json profile, a RAM role assumed
/// through the emulator's STS; `-v` says so and when the credentials expire, never a secret.
/// The credentials live 2 s and the download is throttled to ~4 s: refreshed, byte-exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_from_the_chain_and_profiles() {
    let fx = Fixture::new("chain").await;
    fx.object("k.bin", 400_000);
    fx.emu.enable_sts(oss_emulator::StsSettings::new());
    fx.emu.set_credential_lifetime(Some(Duration::from_secs(2)));
    let aliyun = fx.dir.path().join(".aliyun");
    std::fs::create_dir_all(&aliyun).unwrap();
    std::fs::write(
        aliyun.join("config.json"),
        format!(
            r#"{{"current": "role", "profiles": [
                {{"name": "role", "mode": "RamRoleArn", "access_key_id": "{ID}", "access_key_secret": "{SECRET}",
                  "ram_role_arn": "acs:ram::1234567890123456:role/reader", "sts_endpoint": "{}"}},
                {{"name": "broken", "mode": "Sso"}}
            ]}}"#,
            fx.endpoint()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = fx.command(fx.endpoint(), args);
        cmd.env_remove("OSS_ACCESS_KEY_ID")
            .env_remove("OSS_ACCESS_KEY_SECRET");
        cmd
    };
    let out = run(&[
        "oss://bkt/k.bin",
        "a.bin",
        "-v",
        "--no-progress",
        "--threads",
        "2",
        "--part-size",
        "40000",
        // A request per part: credentials are taken when a request is signed, so ten
        // requests over ~4 s need the 2 s credentials refreshed (one request would not).
        "--max-request-size",
        "40000",
        "--limit-rate",
        "100KiB",
    ])
    .output()
    .await
    .unwrap();
    let r = Run::from(out);
    r.expect(
        0,
        &[
            "credentials from cli_profile `role` (RamRoleArn)",
            "expiring at",
        ],
    );
    assert!(!r.stderr.contains(SECRET) && !r.stdout.contains(SECRET));
    assert_file(&fx.path("a.bin"), 400_000);
    let issued = fx.emu.issued_credentials();
    assert!(
        issued.len() >= 2,
        "refreshed during a ~4 s download: {} issued",
        issued.len()
    );
    // --profile picks one; a broken one is a usage error naming file, profile and field.
    let out = run(&["oss://bkt/k.bin", "b.bin", "--profile", "broken"])
        .output()
        .await
        .unwrap();
    Run::from(out).expect(
        2,
        &[
            "config.json",
            "profile `broken`",
            "field `mode`",
            "`Sso` is not supported",
        ],
    );
    let out = run(&["oss://bkt/k.bin", "b.bin", "--profile", "nope"])
        .output()
        .await
        .unwrap();
    Run::from(out).expect(2, &["no profile `nope`", "role, broken"]);
}

// ---- What users of curl, aria2c and ossutil reach for (tests/cli/parity.rs) ----------------

#[path = "cli/parity.rs"]
mod parity;

// ---- Streaming to stdout and --range (tests/cli/stream.rs) -------------------------------

#[path = "cli/stream.rs"]
mod stream;

// ---- --range to a file, resumable (tests/cli/range.rs) -------------------------------------

#[path = "cli/range.rs"]
mod range;

// ---- Many objects: prefixes, manifests, shards, the journal (tests/cli/batch.rs) ---------

#[path = "cli/batch.rs"]
mod batch;
