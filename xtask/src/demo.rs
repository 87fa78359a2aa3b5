//! `cargo xtask demo`: the project's main command. With no cloud account, it shows a real
//! resumable download: release `ossget` against the standalone OSS emulator serving a 1 GiB
//! synthetic object (CRC-64 on) behind a proxy that cuts every connection after 96 MiB.
//! Run 1 (`ossget --checkpoint`) survives the cuts by retrying and is interrupted with
//! SIGINT part-way; run 2 is the same command and resumes. The file is then checked with
//! xtask's own CRC-64/XZ against the object's `x-oss-hash-crc64ecma`, and the emulator's
//! `/-/stats` says what was served on each run. Everything is removed afterwards.
//!
//! Like every xtask task it depends on no workspace crate: it builds the binaries with
//! cargo and drives them as a user would.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::crc64;
use crate::emulator::{Emulator, ObjectArg, Setup, Stats};
use crate::ossget_json::Summary;
use crate::size::human;
use crate::step::{self, Failure};

const USAGE: &str = "\
usage: cargo xtask demo [--no-build]

Builds release ossget and oss-emulator, serves a 1 GiB synthetic object from the emulator
(CRC-64 on, every connection cut after 96 MiB), downloads it with `ossget --checkpoint`,
interrupts that with SIGINT at about 40%, runs the same command again to resume, verifies
the file's CRC-64 and prints what each run fetched. Needs ~1.1 GiB free under target/;
cleans up after itself.

  --no-build   use target/release/{ossget,oss-emulator} as they are";

const OBJECT_SIZE: u64 = 1 << 30;
const BUCKET: &str = "demo";
const KEY: &str = "big.bin";
const CUT_AFTER: u64 = 96 << 20;
/// SIGINT once the emulator has served this share of the object.
const INTERRUPT_AT: f64 = 0.4;
const ACCESS_KEY_ID: &str = "demo-access-key-id";
const ACCESS_KEY_SECRET: &str = "demo-access-key-secret";

/// Runs the demo.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let mut build = true;
    for arg in args {
        match arg.as_str() {
            "--no-build" => build = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => {
                return Err(Failure::new(
                    "arguments",
                    format!("unknown argument `{other}`\n\n{USAGE}"),
                ));
            }
        }
    }
    let target = step::target_dir();
    if build {
        step::run("build", &mut step::cargo_build_release_binaries())?;
    }
    let started = Instant::now();
    let bins = Binaries {
        ossget: existing(target.join("release/ossget"))?,
        emulator: existing(target.join("release/oss-emulator"))?,
    };
    let work = WorkDir::fresh(target.join("demo"))?;
    let result = demo(&bins, &work.0);
    drop(work);
    let report = result?;
    println!("{report}");
    println!(
        "  demo time     {:.1} s after the build; the emulator is stopped and {} removed",
        started.elapsed().as_secs_f64(),
        target.join("demo").display()
    );
    Ok(())
}

struct Binaries {
    ossget: PathBuf,
    emulator: PathBuf,
}

fn existing(path: PathBuf) -> Result<PathBuf, Failure> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(Failure::new(
            "binaries",
            format!(
                "{} does not exist; run `cargo xtask demo` without --no-build",
                path.display()
            ),
        ))
    }
}

/// The scratch directory, emptied at the start and removed at the end.
struct WorkDir(PathBuf);

impl WorkDir {
    fn fresh(path: PathBuf) -> Result<Self, Failure> {
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).map_err(|e| {
            Failure::new("workdir", format!("cannot create {}: {e}", path.display()))
        })?;
        Ok(Self(path))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One ossget run as the demo saw it.
struct RunResult {
    code: Option<i32>,
    json: Summary,
    wall: Duration,
    stats: Stats,
}

fn demo(bins: &Binaries, work: &Path) -> Result<String, Failure> {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() % 1_000_000);
    banner(&format!(
        "a {} synthetic object (seed {seed}, CRC-64 on) on a local OSS emulator whose proxy cuts every connection (RST) after {} of body, so ossget has to reconnect and resume parts",
        human(OBJECT_SIZE),
        human(CUT_AFTER)
    ));
    // Public-read for the anonymous HEAD of the verification below; ossget still signs (V4).
    let setup = Setup {
        bucket: BUCKET,
        access_key_id: ACCESS_KEY_ID,
        access_key_secret: ACCESS_KEY_SECRET,
        objects: &[ObjectArg {
            key: KEY.to_string(),
            size: OBJECT_SIZE,
            seed,
        }],
        flags: &[
            "--cut-every-connection-after".into(),
            CUT_AFTER.to_string(),
            "--cut-mode".into(),
            "rst".into(),
        ],
    };
    let emu = Emulator::start(&bins.emulator, &setup).map_err(|e| Failure::new("emulator", e))?;
    eprintln!(
        "    emulator: {} (pid {}), bucket `{BUCKET}`, object `{KEY}`",
        emu.endpoint(),
        emu.pid()
    );
    let fail = |step: &'static str| move |e: String| Failure::new(step, e);
    let ossget_args = [
        format!("oss://{BUCKET}/{KEY}"),
        KEY.to_string(),
        "--endpoint".into(),
        emu.endpoint().to_string(),
        "--region".into(),
        "cn-hangzhou".into(),
        "--checkpoint".into(),
        "--json".into(),
    ];
    let shown = format!("ossget {}", ossget_args.join(" "));

    // Run 1: interrupted part-way.
    banner(&format!(
        "run 1: download with a checkpoint; SIGINT (Ctrl-C) at about {:.0}%",
        INTERRUPT_AT * 100.0
    ));
    eprintln!("$ {shown}");
    let before = emu.settled_stats().map_err(fail("run 1"))?;
    let run1 = interrupted_run(bins, work, &ossget_args, &emu, &before).map_err(fail("run 1"))?;
    if run1.code != Some(130) {
        return Err(Failure::new(
            "run 1",
            format!("ossget exited with {:?}, expected 130 (SIGINT)", run1.code),
        ));
    }
    let saved = required(run1.json.bytes_done, "bytes_done").map_err(fail("run 1"))?;
    let left: Vec<String> = listing(work)
        .into_iter()
        .map(|name| {
            let len = std::fs::metadata(work.join(&name)).map_or(0, |m| m.len());
            format!("{name} ({})", human(len))
        })
        .collect();
    eprintln!("    left on disk for the next run: {}", left.join(", "));

    // Run 2: the same command resumes.
    banner("run 2: the same command again");
    eprintln!("$ {shown}");
    let run2 = plain_run(bins, work, &ossget_args, &emu).map_err(fail("run 2"))?;
    if run2.code != Some(0) {
        return Err(Failure::new(
            "run 2",
            format!("ossget exited with {:?}, expected 0", run2.code),
        ));
    }
    let resumed = required(run2.json.bytes_resumed, "bytes_resumed").map_err(fail("run 2"))?;
    let fetched =
        required(run2.json.bytes_transferred, "bytes_transferred").map_err(fail("run 2"))?;
    let retries = required(run2.json.retries, "retries").map_err(fail("run 2"))?;
    let elapsed2 = run2.json.elapsed_secs.unwrap_or(run2.wall.as_secs_f64());
    let checks = [
        (
            run2.json.checkpoint.as_deref() == Some("resumed"),
            "run 2 resumed from the checkpoint",
        ),
        (resumed == saved, "run 2 resumed exactly what run 1 saved"),
        (
            fetched == OBJECT_SIZE - resumed,
            "run 2 fetched exactly the rest",
        ),
        (
            run2.json.crc64_verified == Some(true),
            "ossget checked the CRC-64 itself",
        ),
    ];
    for (ok, what) in checks {
        if !ok {
            return Err(Failure::new(
                "run 2",
                format!(
                    "expected: {what} (run 1 saved {saved}, run 2 resumed {resumed} and fetched {fetched})"
                ),
            ));
        }
    }

    // Verify with our own CRC against what OSS (the emulator) says the object's CRC is.
    banner(
        "verify: CRC-64/XZ of the file, computed here, against the object's x-oss-hash-crc64ecma",
    );
    let head = emu.head(KEY).map_err(fail("verify"))?;
    let (want_crc, want_len) = (head.crc64, head.size);
    let dest = work.join(KEY);
    let (got_len, got_crc) = crc64::file_crc(&dest).map_err(fail("verify"))?;
    let files = listing(work);
    if got_len != want_len || got_crc != want_crc || files != [KEY] {
        return Err(Failure::new(
            "verify",
            format!(
                "{}: {got_len} bytes, CRC-64 {got_crc:#018x}; the object: {want_len} bytes, CRC-64 {want_crc:#018x}; files left: {files:?}",
                dest.display()
            ),
        ));
    }
    eprintln!(
        "    {KEY}: {got_len} bytes, CRC-64 {got_crc:#018x} = x-oss-hash-crc64ecma: OK; nothing else left ({})",
        files.join(", ")
    );

    let total = run1.stats.relayed + run2.stats.relayed;
    let refetched = total.saturating_sub(OBJECT_SIZE);
    let rows = [
        format!(
            "  run 1         SIGINT after {:.2} s: served {} through {} connection cuts; {} saved in the checkpoint",
            run1.wall.as_secs_f64(),
            human(run1.stats.relayed),
            run1.stats.proxy_fault("cut"),
            human(saved)
        ),
        format!(
            "  run 2         resumed {}, fetched {} in {:.2} s ({}/s); served {} through {} cuts, {} part retries",
            human(resumed),
            human(fetched),
            elapsed2,
            human((fetched as f64 / elapsed2.max(1e-3)) as u64),
            human(run2.stats.relayed),
            run2.stats.proxy_fault("cut"),
            retries
        ),
        format!(
            "  served        {} in all for a {} object: {} ({:.2}%) fetched twice, what was in flight at the SIGINT",
            human(total),
            human(OBJECT_SIZE),
            human(refetched),
            refetched as f64 * 100.0 / OBJECT_SIZE as f64
        ),
        format!(
            "  verified      CRC-64/XZ {got_crc:#018x} (xtask's own CRC) matches the object's; ossget checked it too"
        ),
    ];
    Ok(format!("\n==> what happened\n{}", rows.join("\n")))
}

fn banner(text: &str) {
    eprintln!("\n==> demo: {text}");
}

/// The ossget command in `work`, with the demo's keys and nothing else from OSS_*.
fn ossget(bins: &Binaries, work: &Path, args: &[String]) -> Command {
    let mut cmd = Command::new(&bins.ossget);
    cmd.args(args)
        .current_dir(work)
        .env("OSS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("OSS_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
        .env_remove("OSS_SESSION_TOKEN")
        .env_remove("OSS_ENDPOINT")
        .env_remove("OSS_REGION")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd
}

/// Run 1: start, send SIGINT once the emulator has served [`INTERRUPT_AT`] of the object.
fn interrupted_run(
    bins: &Binaries,
    work: &Path,
    args: &[String],
    emu: &Emulator,
    before: &Stats,
) -> Result<RunResult, String> {
    let threshold = (OBJECT_SIZE as f64 * INTERRUPT_AT) as u64;
    let started = Instant::now();
    let mut child = ossget(bins, work, args)
        .spawn()
        .map_err(|e| format!("cannot start ossget: {e}"))?;
    if let Err(e) = signal_at(&mut child, emu, before, threshold, started) {
        // Never leave the child behind.
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    let (code, stdout) = wait_limited(child, Duration::from_secs(60))?;
    let wall = started.elapsed();
    let stats = emu.settled_stats()?.since(before);
    Ok(RunResult {
        code,
        json: json_line(&stdout)?,
        wall,
        stats,
    })
}

/// Sends SIGINT to `child` once the emulator has served `threshold` bytes since `before`.
fn signal_at(
    child: &mut Child,
    emu: &Emulator,
    before: &Stats,
    threshold: u64,
    started: Instant,
) -> Result<(), String> {
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!(
                "ossget ended ({status}) before the demo could interrupt it"
            ));
        }
        if emu.stats()?.since(before).relayed >= threshold {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            return Err("ossget did not reach 40% within 2 minutes".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    let kill = Command::new("kill")
        .args(["-INT", pid.as_str()])
        .status()
        .map_err(|e| format!("cannot run `kill -INT {pid}`: {e}"))?;
    if kill.success() {
        Ok(())
    } else {
        Err(format!("`kill -INT {pid}` failed ({kill})"))
    }
}

/// Waits for `child` (stdout piped) at most `limit`, then kills it; its exit code and
/// stdout.
fn wait_limited(mut child: Child, limit: Duration) -> Result<(Option<i32>, Vec<u8>), String> {
    let mut pipe = child.stdout.take().ok_or("no stdout pipe")?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "ossget did not finish within {} s; killed it",
                limit.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = reader.join().map_err(|_| "the stdout reader panicked")?;
    Ok((status.code(), stdout))
}

/// Run 2: to the end.
fn plain_run(
    bins: &Binaries,
    work: &Path,
    args: &[String],
    emu: &Emulator,
) -> Result<RunResult, String> {
    let before = emu.settled_stats()?;
    let started = Instant::now();
    let child = ossget(bins, work, args)
        .spawn()
        .map_err(|e| format!("cannot run ossget: {e}"))?;
    let (code, stdout) = wait_limited(child, Duration::from_secs(120))?;
    let wall = started.elapsed();
    let stats = emu.settled_stats()?.since(&before);
    Ok(RunResult {
        code,
        json: json_line(&stdout)?,
        wall,
        stats,
    })
}

fn json_line(stdout: &[u8]) -> Result<Summary, String> {
    let text = String::from_utf8_lossy(stdout);
    Summary::parse(&text).map_err(|e| format!("ossget --json printed {text:?}: {e}"))
}

fn required(value: Option<u64>, name: &str) -> Result<u64, String> {
    value.ok_or_else(|| format!("ossget --json has no `{name}`"))
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
