//! The C programs against the standalone emulator: two of them, one at full speed and one
//! throttled (so a download lasts long enough to be killed or cancelled half-way), serving
//! the same synthetic object.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::Programs;
use crate::crc64;
use crate::e2e::verify::no_side_files;
use crate::emulator::{Emulator, ObjectArg, Setup, Stats};
use crate::http;
use crate::paths::with_suffix;
use crate::step::Failure;

const BUCKET: &str = "c-library";
const KEY: &str = "dir/object.bin";
const SIZE: u64 = 4 << 20;
const SEED: u64 = 23;
const ACCESS_KEY_ID: &str = "c-library-access-key-id";
const ACCESS_KEY_SECRET: &str = "c-library-access-key-secret";
/// The throttled emulator's rate: a 4 MiB download takes about a second.
const THROTTLE: &str = "4MiB";
const THROTTLE_BYTES_PER_SEC: f64 = 4.0 * 1024.0 * 1024.0;
/// The examples' parameters (the C SDK example's: 100 KB parts, 3 threads).
const EXAMPLE_PART: u64 = 100 * 1024;
const EXAMPLE_THREADS: u64 = 3;
/// How long any one C program may run.
const LIMIT: Duration = Duration::from_secs(120);

/// The bound on what a rerun after `kill -9` fetches again, in bytes — docs/crash-safety.md's
/// re-fetch bound with numbers for this run:
/// - bytes received but not yet written: at most a part per worker here (100 KB parts are
///   smaller than a worker's write block), `threads × part`;
/// - bytes written but not yet committed to the checkpoint: `rate × (2 × commit interval +
///   write latency)`, with the 10 ms commit interval and a 100 ms write-latency allowance
///   (CI runs on a busy 2-core machine; the e2e matrix, on a quiet one, allows 20 ms);
/// - bytes in socket buffers and in the throttling proxy's bursts: 256 KiB (64 ms at the
///   4 MiB/s throttle).
///
/// For a 4 MiB object killed at half this is about a quarter of the object; a downloader
/// that kept nothing would fetch at least half of it again.
fn refetch_bound() -> u64 {
    let in_memory = EXAMPLE_THREADS * EXAMPLE_PART;
    let uncommitted = (THROTTLE_BYTES_PER_SEC * (2.0 * 0.010 + 0.100)) as u64;
    in_memory + uncommitted + (256 << 10)
}

/// Every scenario, in order.
pub fn run_all(emulator_bin: &Path, programs: &Programs, work: &Path) -> Result<(), Failure> {
    let object = [ObjectArg {
        key: KEY.into(),
        size: SIZE,
        seed: SEED,
    }];
    let setup = |flags| Setup {
        bucket: BUCKET,
        access_key_id: ACCESS_KEY_ID,
        access_key_secret: ACCESS_KEY_SECRET,
        objects: &object,
        flags,
    };
    let fail = |e: String| Failure::new("c-library: emulator", e);
    let fast = Emulator::start(emulator_bin, &setup(&[])).map_err(fail)?;
    let throttle = ["--throttle".to_string(), THROTTLE.to_string()];
    let slow = Emulator::start(emulator_bin, &setup(&throttle)).map_err(fail)?;
    let expected = work.join("expected.bin");
    fetch_object(&fast, &expected)?;

    timed("c-library: examples", || {
        examples(&fast, programs, work, &expected)
    })?;
    timed("c-library: example without credentials", || {
        without_credentials(&fast, programs, work)
    })?;
    timed("c-library: kill -9 and resume", || {
        kill_and_resume(&slow, programs, work, &expected)
    })?;
    timed("c-library: API test (ASan + UBSan)", || {
        api_test(&fast, &slow, programs, work, &expected)
    })
}

/// Runs `scenario` as the named step, printing it and its time like [`crate::step::run`].
fn timed(name: &str, scenario: impl FnOnce() -> Result<(), String>) -> Result<(), Failure> {
    eprintln!("\n==> xtask step `{name}`");
    let started = Instant::now();
    scenario().map_err(|e| Failure::new(name, e))?;
    eprintln!(
        "==> step `{name}` passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The object's bytes, by a plain anonymous GET (the bucket is public-read), checked
/// against HEAD's size and CRC-64 with xtask's own CRC.
fn fetch_object(emu: &Emulator, to: &Path) -> Result<(), Failure> {
    let fail = |e: String| Failure::new("c-library: reference object", e);
    let addr = emu.endpoint().trim_start_matches("http://");
    let r = http::request(addr, "GET", &format!("/{BUCKET}/{KEY}")).map_err(fail)?;
    if r.status != 200 || r.body.len() as u64 != SIZE {
        return Err(fail(format!(
            "GET answered {} with {} bytes",
            r.status,
            r.body.len()
        )));
    }
    std::fs::write(to, &r.body).map_err(|e| fail(format!("{}: {e}", to.display())))?;
    let head = emu.head(KEY).map_err(fail)?;
    let (len, crc) = crc64::file_crc(to).map_err(fail)?;
    if (len, crc) != (head.size, head.crc64) {
        return Err(fail(format!(
            "GET gave {len} bytes with CRC-64 {crc}; HEAD says {} and {}",
            head.size, head.crc64
        )));
    }
    Ok(())
}

/// An example's command, as its comment says to run it.
fn example(program: &Path, emu: &Emulator, dest: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.args([BUCKET, KEY])
        .arg(dest)
        .env("OSS_ENDPOINT", emu.endpoint())
        .env("OSS_REGION", "cn-hangzhou")
        .env("OSS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("OSS_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
        .env_remove("OSS_SESSION_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Both examples download the object byte-exact and leave nothing beside it.
fn examples(
    emu: &Emulator,
    programs: &Programs,
    work: &Path,
    expected: &Path,
) -> Result<(), String> {
    for program in [&programs.example, &programs.example_checkpoint] {
        let dest = work.join(format!("{}.bin", file_name(program)));
        let (status, stdout) = run_limited(example(program, emu, &dest).spawn(), program)?;
        if !status.success() || stdout.trim() != "download succeeded" {
            return Err(format!(
                "{} exited {status} and printed {stdout:?}",
                program.display()
            ));
        }
        same_file(&dest, expected)?;
        no_side_files(&dest)?;
    }
    Ok(())
}

/// With OSS_ACCESS_KEY_SECRET unset (the C SDK's examples crash there), the example prints
/// `download failed` and names the variable.
fn without_credentials(emu: &Emulator, programs: &Programs, work: &Path) -> Result<(), String> {
    let dest = work.join("no-credentials.bin");
    let mut cmd = example(&programs.example, emu, &dest);
    cmd.env_remove("OSS_ACCESS_KEY_SECRET");
    let (status, stdout) = run_limited(cmd.spawn(), &programs.example)?;
    if status.code() != Some(1)
        || !stdout.starts_with("download failed")
        || !stdout.contains("OSS_ACCESS_KEY_SECRET is not set")
    {
        return Err(format!(
            "without a secret it exited {status} and printed {stdout:?}"
        ));
    }
    Ok(())
}

/// The checkpointed example, killed with SIGKILL once half the object was served, then run
/// again: byte-exact, and the rerun fetched again at most [`refetch_bound`].
fn kill_and_resume(
    emu: &Emulator,
    programs: &Programs,
    work: &Path,
    expected: &Path,
) -> Result<(), String> {
    let program = &programs.example_checkpoint;
    let dest = work.join("killed.bin");
    let before = emu.settled_stats()?;
    let mut child = example(program, emu, &dest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let killed = kill_at_half(&mut child, emu, &before);
    let _ = child.kill();
    let _ = child.wait();
    killed?;
    let at_kill = emu.settled_stats()?.since(&before).relayed;
    let checkpoint = with_suffix(&dest, ".cp");
    if !checkpoint.exists() || dest.exists() {
        return Err(format!(
            "after the kill: checkpoint {} {}, destination {}",
            checkpoint.display(),
            if checkpoint.exists() {
                "exists"
            } else {
                "is MISSING"
            },
            if dest.exists() { "EXISTS" } else { "absent" }
        ));
    }
    let (status, stdout) = run_limited(example(program, emu, &dest).spawn(), program)?;
    if !status.success() || stdout.trim() != "download succeeded" {
        return Err(format!("the rerun exited {status} and printed {stdout:?}"));
    }
    same_file(&dest, expected)?;
    no_side_files(&dest)?;
    let served = emu.settled_stats()?.since(&before).relayed;
    let refetched = served.saturating_sub(SIZE);
    let bound = refetch_bound();
    eprintln!(
        "    killed after {at_kill} of {SIZE} bytes; the rerun fetched {} bytes; re-fetched \
         {refetched} bytes (bound {bound})",
        served - at_kill
    );
    if refetched > bound {
        return Err(format!(
            "the rerun fetched {refetched} bytes again, more than the bound of {bound}"
        ));
    }
    Ok(())
}

/// Waits until the emulator has served half the object since `before` (the caller kills).
fn kill_at_half(child: &mut Child, emu: &Emulator, before: &Stats) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!(
                "the example ended ({status}) before it could be killed"
            ));
        }
        if emu.stats()?.since(before).relayed >= SIZE / 2 {
            return Ok(());
        }
        if started.elapsed() > LIMIT {
            return Err("the example did not reach half the object in time".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The API test under AddressSanitizer and UndefinedBehaviorSanitizer (leak checks on, so
/// `ossr_client_free` and every other free must leave nothing behind).
fn api_test(
    fast: &Emulator,
    slow: &Emulator,
    programs: &Programs,
    work: &Path,
    expected: &Path,
) -> Result<(), String> {
    let dir = work.join("api");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut cmd = Command::new(&programs.api_test);
    cmd.args([fast.endpoint(), slow.endpoint(), BUCKET, KEY])
        .arg(expected)
        .arg(&dir)
        .env("OSS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("OSS_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
        .env_remove("OSS_SESSION_TOKEN")
        .env("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let (status, stdout) = run_limited(cmd.spawn(), &programs.api_test)?;
    eprint!("    {stdout}");
    if !status.success() {
        return Err(format!(
            "{} exited {status} (failed checks and sanitizer reports are above)",
            programs.api_test.display()
        ));
    }
    Ok(())
}

/// Waits for a spawned program at most [`LIMIT`] (then kills it); its status and stdout
/// (its stderr, when piped, is appended to errors).
fn run_limited(
    spawned: std::io::Result<Child>,
    program: &Path,
) -> Result<(ExitStatus, String), String> {
    let mut child = spawned.map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    // One reader per pipe, so a child that fills one while we wait on the other never
    // blocks.
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} did not finish within {} s; killed it",
                program.display(),
                LIMIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = stdout.join().map_err(|_| "the stdout reader panicked")?;
    let err = stderr.join().map_err(|_| "the stderr reader panicked")?;
    if !status.success() && !err.is_empty() {
        eprint!("{err}");
    }
    Ok((status, out))
}

/// Reads a pipe to its end on a thread of its own (nothing for no pipe).
fn read_all(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// Whether `path` holds exactly `expected`'s bytes.
fn same_file(path: &Path, expected: &Path) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    if read(path)? != read(expected)? {
        return Err(format!(
            "{} differs from the object (a WRONG FILE)",
            path.display()
        ));
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
