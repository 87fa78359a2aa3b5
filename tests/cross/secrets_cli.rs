//! The secrets rule for the CLI, as a process test: `ossget -vvv` (every crate's events,
//! every dependency's at TRACE) with STS credentials and SSE-C headers, succeeding through a
//! retried 503, failing with `SignatureDoesNotMatch`, a wrong STS token and `AccessDenied`
//! (checkpoint left behind, `--json` on): stdout, stderr and every file left beside the
//! destination hold no secret, no token, no signature it sent and no SSE-C key.
//!
//! Finding the binary: `CARGO_BIN_EXE_ossget` exists only inside ossget's own crate, and a
//! path guessed from the target directory may be missing (`cargo test -p` of this crate
//! alone never builds it) or stale (built from older sources). So the test asks the cargo
//! that runs it (`$CARGO`, same profile) to build it and takes the executable cargo reports:
//!
//! ```text
//! cargo build --workspace --bin ossget --test cross --message-format=json-render-diagnostics
//! ```
//!
//! `--workspace` with a test target resolves features exactly as `cargo test --workspace`
//! does (dev-dependencies included), so these units are a subset of CI's test build
//! (checked with cargo's unit graph: 197 units, none outside `cargo test --workspace`'s):
//! on a clean CI machine the nested build is fresh, costs a fingerprint check, and yields
//! the very binary ossget's own tests run. `cargo build -p ossget` would resolve features
//! for ossget alone (tokio without test-util, hyper without server, syn without
//! extra-traits...) and build a second copy of about 108 units on every clean machine.
//! `--test cross` (this binary's own target) is there only to make cargo include the
//! dev-dependencies' features; it is already built. The variables cargo sets for a test
//! process are removed first: build scripts such as ring's watch them and would rebuild.
//! Cargo releases the build lock before it runs test binaries, so this does not deadlock.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Instant;

use http::Method;
use oss_emulator::{BucketSpec, Emulator, FaultAction, ObjectSpec, ServiceFault};
use serde_json::Value;

use crate::secrets::{
    AK, BUCKET, Outputs, SECRET, TOKEN, WRONG_SECRET, WRONG_TOKEN,
    needles_after_checking_the_traffic, ssec_headers,
};
use crate::support::recorder::Recorder;
use crate::support::scratch::{Scratch, ckpt_of};

/// Builds ossget once per test process and returns the executable cargo reported.
pub(crate) fn ossget() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let started = Instant::now();
        // target/<profile>/deps/cross-HASH -> <profile>
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap_or("debug")
            .to_owned();
        let mut cmd =
            std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        // Without the variables cargo set for this test process: build scripts such as
        // ring's declare `rerun-if-env-changed` on CARGO_MANIFEST_DIR, CARGO_PKG_NAME,
        // OUT_DIR..., so inheriting this crate's values would make every nested build
        // rebuild ring and all above it (and the next plain build rebuild them back).
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("CARGO_PKG_")
                || name.starts_with("CARGO_BIN_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_MANIFEST_LINKS",
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                ]
                .contains(&name.as_ref())
            {
                cmd.env_remove(name.as_ref());
            }
        }
        // This test binary's target name: `cross-<hash>` -> `cross`.
        let this_test = exe
            .file_stem()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit_once('-'))
            .map(|(name, _)| name.to_owned())
            .expect("test executable named <target>-<hash>");
        cmd.args(["build", "--workspace", "--bin", "ossget", "--test"])
            .arg(&this_test)
            .arg("--message-format=json-render-diagnostics")
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
        if profile_dir != "debug" {
            cmd.args(["--profile", &profile_dir]);
        }
        let out = cmd.output().expect("running cargo build");
        assert!(
            out.status.success(),
            "building ossget failed; the CLI process test needs the binary:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|m| {
                m["reason"] == "compiler-artifact"
                    && m["target"]["name"] == "ossget"
                    && m["executable"].is_string()
            })
            .and_then(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported no ossget executable");
        eprintln!("built {} in {:?}", bin.display(), started.elapsed());
        bin
    })
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `ossget -vvv ARGS` against `endpoint` with these credentials and the SSE-C headers.
async fn ossget_run(
    dir: &Path,
    endpoint: &str,
    version: &str,
    secret: &str,
    token: &str,
    args: &[&str],
) -> Run {
    let mut cmd = tokio::process::Command::new(ossget());
    cmd.args(args)
        .args(["--endpoint", endpoint, "--region", "cn-test"])
        .args(["--signature-version", version, "-vvv"])
        .args(["--part-size", "128KiB", "--threads", "2"]);
    for (name, value) in ssec_headers() {
        cmd.arg("--header").arg(format!("{name}: {value}"));
    }
    let out = cmd
        .current_dir(dir)
        .env_remove("OSS_ENDPOINT")
        .env_remove("OSS_REGION")
        .env("OSS_ACCESS_KEY_ID", AK)
        .env("OSS_ACCESS_KEY_SECRET", secret)
        .env("OSS_SESSION_TOKEN", token)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("spawning ossget");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ossget_at_vvv_prints_and_leaves_no_secret() {
    let bin = tokio::task::spawn_blocking(ossget).await.unwrap();
    assert!(bin.is_file());
    let emu = Emulator::new();
    emu.add_credentials(oss_emulator::Credentials::sts(AK, SECRET, TOKEN));
    emu.add_bucket(BucketSpec::new(BUCKET)).unwrap();
    for key in ["ok.bin", "denied.bin"] {
        emu.put_object(BUCKET, key, ObjectSpec::synthetic(600_000, 9))
            .unwrap();
    }
    let server = emu.start_server().await.unwrap();
    let relay = Recorder::start(server.local_addr()).await;
    let endpoint = relay.endpoint();
    let mut outputs = Outputs::default();
    let keep = |outputs: &mut Outputs, place: String, run: Run| {
        outputs.text(format!("{place}: stdout"), run.stdout);
        outputs.text(format!("{place}: stderr"), run.stderr);
    };

    for version in ["1", "4"] {
        let v = format!("ossget V{version}");
        // Success through one retried 503 (so -vv's retry events are in the output). On the
        // first GET: the object fits in one request.
        let busy = emu.add_fault(
            ServiceFault::new(FaultAction::service_unavailable())
                .key(BUCKET, "ok.bin")
                .method(Method::GET)
                .on_request(1),
        );
        let scratch = Scratch::new("cli-ok");
        let run = ossget_run(
            scratch.dir(),
            &endpoint,
            version,
            SECRET,
            TOKEN,
            &["oss://leak-bkt/ok.bin", "out.bin"],
        )
        .await;
        emu.remove_fault(busy);
        assert_eq!(run.code, Some(0), "{v}: {}", run.stderr);
        assert!(
            run.stderr.contains("DEBUG") && run.stderr.contains("retrying"),
            "{v}: -vvv logged no debug events, so the scan would prove little:\n{}",
            run.stderr
        );
        keep(&mut outputs, format!("{v} success"), run);

        // A wrong secret: SignatureDoesNotMatch (the error document echoes the token and
        // the SSE-C key). A wrong STS token.
        for (secret, token, code) in [
            (WRONG_SECRET, TOKEN, "SignatureDoesNotMatch"),
            (SECRET, WRONG_TOKEN, "InvalidSecurityToken"),
        ] {
            let run = ossget_run(
                scratch.dir(),
                &endpoint,
                version,
                secret,
                token,
                &["oss://leak-bkt/ok.bin", "again.bin"],
            )
            .await;
            assert_eq!(run.code, Some(1), "{v}: {}", run.stderr);
            assert!(run.stderr.contains(code), "{}", run.stderr);
            keep(&mut outputs, format!("{v} {code}"), run);
        }

        // AccessDenied on the part GET (the object fits in one), with --json: the checkpoint
        // (saved before the first GET) stays.
        let denied = emu.add_fault(
            ServiceFault::new(FaultAction::error(403, "AccessDenied", "Access denied."))
                .key(BUCKET, "denied.bin")
                .method(Method::GET),
        );
        let run = ossget_run(
            scratch.dir(),
            &endpoint,
            version,
            SECRET,
            TOKEN,
            &["oss://leak-bkt/denied.bin", "denied.bin", "--json"],
        )
        .await;
        emu.remove_fault(denied);
        assert_eq!(run.code, Some(1), "{v}: {}", run.stderr);
        assert!(run.stdout.contains("AccessDenied"), "{v}: {}", run.stdout);
        assert!(
            ckpt_of(&scratch.path("denied.bin")).is_file(),
            "{v}: no checkpoint left to scan"
        );
        keep(&mut outputs, format!("{v} AccessDenied --json"), run);
        outputs.files(&v, &scratch);
    }

    // The secrets did travel (and came back in the error documents).
    let needles = needles_after_checking_the_traffic(&relay, &[TOKEN, WRONG_TOKEN]);
    outputs.assert_no_secret(&needles);
}
