//! Crash tests: a child process (this test binary re-executing itself) downloads from the
//! in-process streaming emulator, through a chaos proxy that counts the body bytes it relays,
//! and is killed with SIGKILL at random instants, or aborts itself at each named failpoint.
//! The next run resumes; the file must end byte-identical and the bytes fetched more than once
//! must stay within the bound stated in the crate docs.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use oss_emulator::{ChaosProxy, NetFault};
use oss_resume::{CheckpointUse, SignatureVersion, failpoint};

use crate::common::{BUCKET, Env, Scratch, assert_file, ckpt_of, client_for, fast_retry};

const SIZE: u64 = 8 << 20;
const PART: u64 = 1 << 20;
const THREADS: usize = 3;
/// The proxy's throttle: slow enough that a kill lands mid-download and the client keeps up
/// with its socket (so relayed bytes are bytes the client received).
const RATE: u64 = 16 << 20;

const CHILD_ENDPOINT: &str = "OSS_RESUME_TEST_CHILD_ENDPOINT";
const CHILD_DEST: &str = "OSS_RESUME_TEST_CHILD_DEST";
/// Set (to anything): the child downloads with the checkpoint off.
const CHILD_NO_CHECKPOINT: &str = "OSS_RESUME_TEST_CHILD_NO_CHECKPOINT";

/// The child's side, not a test of its own: the crash tests run this binary as
/// `--ignored --exact crash::child_process_entry` with the endpoint and destination in the
/// environment. Ignored so that a normal run neither counts it as a passing test nor runs
/// it without them.
#[test]
#[ignore = "the crash tests' child process; started by those tests"]
fn child_process_entry() {
    let endpoint = std::env::var(CHILD_ENDPOINT)
        .expect("child_process_entry is the crash tests' child: it needs its endpoint");
    let dest = std::env::var(CHILD_DEST)
        .expect("child_process_entry is the crash tests' child: it needs its destination");
    let result = child_download(&endpoint).download(BUCKET, "crash", &dest);
    let result = result
        .checkpoint(std::env::var_os(CHILD_NO_CHECKPOINT).is_none())
        .part_size(PART)
        .threads(THREADS)
        .sync_interval(Duration::from_millis(50))
        .retry_policy(fast_retry())
        .blocking();
    match result {
        Ok(r) => println!("child: done, resumed {}", r.bytes_resumed),
        Err(e) => {
            println!("child: failed: {e}");
            std::process::exit(3);
        }
    }
}

fn child_download(endpoint: &str) -> oss_resume::Client {
    client_for(endpoint, SignatureVersion::V4)
}

pub(crate) fn spawn_child(endpoint: &str, dest: &Path, failpoint: Option<&str>) -> Child {
    spawn_child_with(endpoint, dest, failpoint, true)
}

fn spawn_child_with(
    endpoint: &str,
    dest: &Path,
    failpoint: Option<&str>,
    checkpoint: bool,
) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "crash::child_process_entry",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENDPOINT, endpoint)
    .env(CHILD_DEST, dest)
    .env_remove(failpoint::ENV)
    .env_remove(CHILD_NO_CHECKPOINT)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(name) = failpoint {
        cmd.env(failpoint::ENV, name);
    }
    if !checkpoint {
        cmd.env(CHILD_NO_CHECKPOINT, "1");
    }
    cmd.spawn().unwrap()
}

/// Bytes a kill may cost (the crate docs' bound, with this test's numbers): what arrived in
/// the last commit interval + batch age + write + aggregator lag, one network chunk in hand
/// per worker, and socket slack between proxy and client. The time allowance is 250 ms: on
/// this 2-core machine with other builds and xtask e2e running, the debug build's
/// aggregator loop was measured going 100-180 ms between iterations (CPU starvation, not
/// I/O), and 150 ms was exceeded once. A commit stalled behind an fsync (the bug this
/// guards against) cost 7.1 MB here, well over the 5.5 MB this allows.
fn per_kill_bound() -> u64 {
    RATE * 250 / 1000 + THREADS as u64 * (256 << 10) + (512 << 10)
}

pub(crate) struct Rig {
    /// The server the proxy relays to (kept alive; its faults gate a download).
    env: Env,
    pub(crate) proxy: ChaosProxy,
    want: Vec<u8>,
}

impl Rig {
    pub(crate) async fn start() -> Self {
        let env = Env::start().await;
        let want = env.put("crash", SIZE, 71);
        let proxy = env
            .proxy(vec![NetFault::Throttle {
                bytes_per_sec: RATE,
            }])
            .await;
        Self { env, proxy, want }
    }

    fn relayed(&self) -> u64 {
        self.proxy.stats().body_bytes_to_client
    }

    /// The in-process resume that finishes the download.
    pub(crate) async fn finish(&self, dest: &Path) -> oss_resume::Report {
        let report = child_download(&self.proxy.endpoint())
            .download(BUCKET, "crash", dest)
            .checkpoint(true)
            .part_size(PART)
            .threads(THREADS)
            .retry_policy(fast_retry())
            .await
            .unwrap();
        assert_file(dest, &self.want);
        report
    }
}

/// Whatever a crash left, the checkpoint (if any) must decode.
fn checkpoint_progress(dest: &Path) -> Option<u64> {
    if !ckpt_of(dest).exists() {
        return None;
    }
    let ckpt = oss_ckpt::fs::CheckpointFile::for_destination(dest)
        .load_any()
        .unwrap_or_else(|e| panic!("a crash left an unreadable checkpoint: {e}"));
    Some(ckpt.latest.bytes_done())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_instants_then_resume_is_byte_exact_within_the_bound() {
    let rig = Rig::start().await;
    let dir = Scratch::new("kill9");
    let dest = dir.path("crash.bin");
    let mut seed: u64 = std::env::var("OSS_RESUME_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0001);
    let mut kills = 0u64;
    let mut progress = 0u64;
    let mut finished_early = false;
    for _ in 0..3 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(60 + seed % 300);
        let mut child = spawn_child(&rig.proxy.endpoint(), &dest, None);
        tokio::time::sleep(delay).await;
        if child.try_wait().unwrap().is_some() {
            finished_early = true;
            break;
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(9));
        kills += 1;
        if let Some(now) = checkpoint_progress(&dest) {
            assert!(now >= progress, "progress went back: {now} < {progress}");
            progress = now;
        }
    }
    if !finished_early || !dest.exists() {
        let report = rig.finish(&dest).await;
        assert_eq!(report.bytes_resumed, progress);
    }
    assert_file(&dest, &rig.want);
    assert_eq!(dir.names(), ["crash.bin"]);
    let refetched = rig.relayed().saturating_sub(SIZE);
    let bound = kills * per_kill_bound();
    eprintln!(
        "kill -9: {kills} kills, {refetched} bytes re-fetched ({} per kill), bound {bound}",
        refetched / kills.max(1)
    );
    assert!(refetched <= bound, "re-fetched {refetched} > bound {bound}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failpoint_then_resume_is_byte_exact() {
    let rig = Rig::start().await;
    for name in failpoint::ALL {
        let dir = Scratch::new("failpoint");
        let dest = dir.path("crash.bin");
        let armed = if name == failpoint::CKPT_SLOT_TORN || name == failpoint::CKPT_SLOT_WRITTEN {
            format!("{name}:5") // a save in place mid-download, not the first one
        } else {
            name.to_owned()
        };
        let before = rig.relayed();
        let child = spawn_child(&rig.proxy.endpoint(), &dest, Some(&armed));
        let out = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.signal(),
            Some(6),
            "{name} did not abort ({:?}): {stderr}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            stderr.contains(&format!("failpoint {name} reached")),
            "{stderr}"
        );
        let saved = checkpoint_progress(&dest);
        let report = rig.finish(&dest).await;
        match name {
            failpoint::DEST_RENAMED => {
                assert_eq!(report.checkpoint, CheckpointUse::AlreadyComplete);
                assert_eq!(report.bytes_transferred, 0);
            }
            // The first save, a whole file, was never renamed into place: nothing to resume
            // (the stray DEST.cp.tmp is overwritten by the next run's first save).
            failpoint::CKPT_TEMP_WRITTEN => {
                assert_eq!(saved, None, "{name}");
                assert!(
                    matches!(report.checkpoint, CheckpointUse::Fresh { .. }),
                    "{name}: {:?}",
                    report.checkpoint
                );
                assert_eq!(report.bytes_resumed, 0, "{name}");
            }
            failpoint::PARTS_DONE => {
                assert!(
                    matches!(report.checkpoint, CheckpointUse::Resumed { .. }),
                    "{name}: {:?}",
                    report.checkpoint
                );
                assert_eq!(report.bytes_transferred, 0, "{name}");
            }
            _ => {
                assert!(
                    matches!(report.checkpoint, CheckpointUse::Resumed { .. }),
                    "{name}: {:?}",
                    report.checkpoint
                );
                assert_eq!(Some(report.bytes_resumed), saved, "{name}");
            }
        }
        assert_eq!(dir.names(), ["crash.bin"], "{name}");
        let refetched = (rig.relayed() - before).saturating_sub(SIZE);
        eprintln!(
            "failpoint {name}: resumed {} bytes, re-fetched {refetched}",
            report.bytes_resumed
        );
        assert!(
            refetched <= per_kill_bound(),
            "{name}: re-fetched {refetched}"
        );
    }
}

/// A checkpointed run is interrupted; a run on the same destination *without* the
/// checkpoint then starts fresh on the temp data file and dies mid-part. The checkpoint
/// still describes the temp file, but its bytes are no longer the ones it claims: the next
/// checkpointed run must start over, never resume from it (without a CRC from OSS that
/// would be a wrong file; with one, a CRC mismatch after a whole download).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_without_checkpoint_in_between_invalidates_the_checkpoint() {
    let rig = Rig::start().await;
    let dir = Scratch::new("ckpt-off-between");
    let dest = dir.path("crash.bin");
    // Ranged GETs after the first four (half the parts) wait a minute for their first byte,
    // so the download cannot finish before the progress callback's cancel lands, however
    // late that callback runs on a loaded machine.
    let gate = rig.env.gate_after(4);
    let token = oss_resume::CancellationToken::new();
    let trigger = token.clone();
    let err = child_download(&rig.proxy.endpoint())
        .download(BUCKET, "crash", &dest)
        .checkpoint(true)
        .part_size(PART)
        .threads(THREADS)
        .retry_policy(fast_retry())
        .progress_interval(Duration::from_millis(5))
        .on_progress(move |p| {
            if p.bytes_done * 2 >= p.bytes_total {
                trigger.cancel();
            }
        })
        .cancel_token(token)
        .await
        .unwrap_err();
    rig.env.emu.remove_fault(gate);
    assert!(matches!(err, oss_resume::Error::Cancelled { .. }), "{err}");
    let saved = checkpoint_progress(&dest).unwrap();
    assert!(saved > 0);

    let child = spawn_child_with(
        &rig.proxy.endpoint(),
        &dest,
        Some(failpoint::MID_PART),
        false,
    );
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        out.status.signal(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The child never touched the checkpoint.
    assert_eq!(checkpoint_progress(&dest), Some(saved));

    let report = rig.finish(&dest).await;
    assert!(
        matches!(report.checkpoint, CheckpointUse::Fresh { reason: Some(_) }),
        "{:?}",
        report.checkpoint
    );
    assert_eq!(report.bytes_resumed, 0);
    assert_eq!(dir.names(), ["crash.bin"]);
}
