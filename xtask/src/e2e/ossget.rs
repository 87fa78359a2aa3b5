//! Running `ossget` the way a user does, and killing it at a chosen point: after it has
//! written a number of bytes (its `/proc/PID/io`), after a delay, or never (a failpoint may
//! make it abort itself). While it runs, the harness samples how much it has written, which
//! gives its rate and its exact total at death for the re-fetch bound, and watches its
//! checkpoint for commits.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::ckpt;
use super::procfs;
use super::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, BUCKET};
use crate::emulator::Emulator;
use crate::ossget_json::Summary;
use crate::paths::with_suffix;

/// The failpoint variable oss-resume reads (crates/oss-resume, "Failpoints").
pub const FAILPOINT_ENV: &str = "OSS_RESUME_FAILPOINT";
/// The region ossget signs for (the emulator accepts any).
const REGION: &str = "cn-hangzhou";
/// The connections ossget opens (its default, spelled out so the bound knows it).
pub const THREADS: u64 = 4;
/// No run may take longer than this; a hung ossget is a failure, not a hung e2e.
const RUN_LIMIT: Duration = Duration::from_secs(300);
/// How far back the rate at a kill is measured.
const RATE_WINDOW: Duration = Duration::from_millis(100);

/// When to SIGKILL a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kill {
    /// Never (it finishes, fails, or a failpoint aborts it).
    Never,
    /// Once the process has written this many bytes (its data, mostly).
    AfterWriting(u64),
    /// This long after it was spawned.
    After(Duration),
    /// The moment no checkpoint commit (see [`CommitMark`]) has been seen for this long
    /// while the process keeps writing data: a kill at the worst instant, when a commit is
    /// overdue.
    /// ... or, if no commit is ever that late, once the process has written this many
    /// bytes (so the round still kills under the same conditions and checks the bound).
    WhenCommitStale(Duration, u64),
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Run {
    /// The object key in the e2e bucket.
    pub key: String,
    /// DEST.
    pub dest: PathBuf,
    /// Extra arguments (`--no-preallocate`, `--on-change restart`...).
    pub args: Vec<String>,
    /// `OSS_RESUME_FAILPOINT` for this run.
    pub failpoint: Option<String>,
    /// When to kill it.
    pub kill: Kill,
    /// Sample its written bytes while it runs (for the re-fetch bound).
    pub monitor: bool,
    /// Environment changes after the defaults: `Some` sets, `None` removes (the credential
    /// scenarios take the keys away and give a home directory with a profile instead).
    pub env: Vec<(String, Option<String>)>,
}

impl Run {
    /// `ossget oss://e2e/KEY DEST` with the e2e defaults and nothing else.
    pub fn new(key: &str, dest: &Path) -> Self {
        Self {
            key: key.to_string(),
            dest: dest.to_path_buf(),
            args: Vec::new(),
            failpoint: None,
            kill: Kill::Never,
            monitor: false,
            env: Vec::new(),
        }
    }

    /// Adds arguments.
    pub fn args<const N: usize>(mut self, args: [&str; N]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// The exit status.
    pub status: ExitStatus,
    /// The `--json` object (every member `None` when ossget printed none).
    pub json: Summary,
    /// stderr.
    pub stderr: String,
    /// stdout (a many-object run's `--json` lines).
    pub stdout: String,
    /// Wall time.
    pub elapsed: Duration,
    /// Whether the harness killed it (SIGKILL).
    pub killed: bool,
    /// Write rate (bytes/s; the download's rate) just before it ended ([`recent_rate`];
    /// monitored runs).
    pub rate: f64,
    /// Bytes it had written when it ended (its data plus a few KiB of checkpoints and the
    /// lock; monitored runs).
    pub written: u64,
    /// How long before its end the last checkpoint commit was seen (see [`CommitMark`]),
    /// as far as the ~1 ms samples saw; `None` if no commit was seen. A diagnostic: a
    /// commit the harness saw late makes it look younger.
    pub commit_age: Option<Duration>,
}

impl Outcome {
    /// The exit code, if it exited (rather than died of a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The signal that ended it, if any.
    pub fn signal(&self) -> Option<i32> {
        self.status.signal()
    }

    /// `error.message` (the one-line error), else stderr.
    pub fn message(&self) -> String {
        self.json
            .error_message()
            .map(str::to_string)
            .unwrap_or_else(|| self.stderr.trim().to_string())
    }

    /// `error.oss_code`.
    pub fn oss_code(&self) -> Option<&str> {
        self.json.oss_code()
    }

    /// Whether it exited 0 with `"status": "done"`.
    pub fn done(&self) -> bool {
        self.code() == Some(0) && self.json.status.as_deref() == Some("done")
    }

    /// One line for a failure message: exit, status, error.
    pub fn describe(&self) -> String {
        let how = match (self.code(), self.signal()) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("signal {s}"),
            _ => "unknown end".to_string(),
        };
        let msg = self.message();
        let msg = msg.lines().last().unwrap_or_default();
        format!("{how}, {msg}")
    }
}

/// The ossget binary and the emulator it talks to.
pub struct Ossget<'a> {
    /// The binary.
    pub bin: &'a Path,
    /// The emulator.
    pub emulator: &'a Emulator,
}

impl Ossget<'_> {
    /// The command for `run`, with credentials in the environment.
    pub fn command(&self, run: &Run) -> Command {
        let mut cmd = Command::new(self.bin);
        cmd.arg(format!("oss://{BUCKET}/{}", run.key))
            .arg(&run.dest)
            .args(["--endpoint", self.emulator.endpoint()])
            .args(["--region", REGION])
            .args(["--threads", &THREADS.to_string()])
            .args(["--json", "-q"])
            .args(&run.args)
            .env("OSS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("OSS_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
            .env_remove("OSS_SESSION_TOKEN")
            .env_remove(FAILPOINT_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(fp) = &run.failpoint {
            cmd.env(FAILPOINT_ENV, fp);
        }
        for (name, value) in &run.env {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
        cmd
    }

    /// The command line a developer can paste to repeat `run` (for failure reports).
    pub fn shell_line(&self, run: &Run) -> String {
        let fp = run
            .failpoint
            .as_ref()
            .map(|f| format!("{FAILPOINT_ENV}={f} "))
            .unwrap_or_default();
        format!(
            "{fp}OSS_ACCESS_KEY_ID={ACCESS_KEY_ID} OSS_ACCESS_KEY_SECRET={ACCESS_KEY_SECRET} {} oss://{BUCKET}/{} {} --endpoint {} --region {REGION} --threads {THREADS} --json -q {}",
            self.bin.display(),
            run.key,
            run.dest.display(),
            self.emulator.endpoint(),
            run.args.join(" ")
        )
    }

    /// Starts `run` and returns the child (for runs the caller watches itself).
    pub fn spawn(&self, run: &Run) -> Result<Running, String> {
        let mut child = self
            .command(run)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.bin.display()))?;
        let stdout = pipe_reader(child.stdout.take());
        let stderr = pipe_reader(child.stderr.take());
        Ok(Running {
            pid: child.id(),
            child,
            stdout,
            stderr,
            started: Instant::now(),
        })
    }

    /// Runs `run` to its end (or kills it as `run.kill` says).
    ///
    /// Monitored and write-triggered runs sample the process's written bytes about every
    /// millisecond, before each check for its exit, so the last sample is the exact total
    /// (a dead process stays readable in /proc until it is reaped). After a SIGKILL the
    /// harness waits for the zombie and reads its final total before reaping it. A machine
    /// busy with other builds may starve these samples for tens of milliseconds, so rates
    /// are taken between real sample times, never assumed.
    pub fn run(&self, run: &Run) -> Result<Outcome, String> {
        let mut running = self.spawn(run)?;
        let pid = running.pid;
        let mut samples: Vec<(Instant, u64)> = Vec::new();
        let cp = with_suffix(&run.dest, ".cp");
        // (the last commit's mark, when it was first seen, bytes written then)
        let mut last_cp: Option<(CommitMark, Instant, u64)> = None;
        let mut killed = false;
        let mut died_at: Option<Instant> = None;
        let sampling =
            run.monitor || matches!(run.kill, Kill::AfterWriting(_) | Kill::WhenCommitStale(..));
        let status = loop {
            let now = Instant::now();
            let written = if sampling {
                procfs::written_bytes(pid)
            } else {
                None
            };
            if let Some(written) = written {
                samples.push((now, written));
            }
            if run.monitor
                && let Some(mark) = CommitMark::read(&cp)
                && last_cp.as_ref().is_none_or(|(last, _, _)| *last != mark)
            {
                last_cp = Some((mark, now, written.unwrap_or(0)));
            }
            if let Some(status) = running.child.try_wait().map_err(|e| e.to_string())? {
                break status;
            }
            let due = match run.kill {
                Kill::Never => false,
                Kill::AfterWriting(n) => written.is_some_and(|w| w >= n),
                Kill::After(d) => now.duration_since(running.started) >= d,
                Kill::WhenCommitStale(d, fallback) => {
                    written.is_some_and(|w| w >= fallback)
                        || last_cp.is_some_and(|(_, t, w)| {
                            now.duration_since(t) >= d
                                && written.is_some_and(|now_w| now_w > w + (1 << 20))
                        })
                }
            };
            if due {
                let _ = running.child.kill();
                killed = true;
                let died = Instant::now();
                died_at = Some(died);
                // The zombie's final count, then reap it (waitpid), so its lock is released
                // before anything else runs.
                if sampling
                    && procfs::wait_zombie(pid, Duration::from_secs(5))
                    && let Some(w) = procfs::written_bytes(pid)
                {
                    samples.push((died, w));
                }
                break running.child.wait().map_err(|e| e.to_string())?;
            }
            if now.duration_since(running.started) > RUN_LIMIT {
                let _ = running.child.kill();
                let _ = running.child.wait();
                return Err(format!(
                    "ossget ran for more than {} s: `{}`",
                    RUN_LIMIT.as_secs(),
                    self.shell_line(run)
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let ended = died_at.unwrap_or_else(Instant::now);
        let elapsed = running.started.elapsed();
        // A SIGKILL at the moment the process exited on its own is not a kill.
        let killed = killed && status.signal() == Some(9);
        let (stdout, stderr) = running.collect();
        let json = Summary::last_in(&stdout).unwrap_or_default();
        Ok(Outcome {
            status,
            json,
            stderr,
            stdout,
            elapsed,
            killed,
            rate: recent_rate(&samples),
            written: samples.last().map_or(0, |s| s.1),
            commit_age: last_cp.map(|(_, t, _)| ended.duration_since(t)),
        })
    }
}

/// What identifies the checkpoint's latest commit, read from `DEST.cp` at each sample: a
/// change means a commit landed.
///
/// Format version 3 and 4 saves write in place into one of four slots, so the file keeps its
/// inode; each save has a sequence one higher than the last, and the newest intact slot's
/// sequence is the latest commit (the file is a few KiB, read whole each sample). A read
/// racing an in-place write sees a torn slot, which the parser skips like any reader, so it
/// sees the previous commit. When no sequence can be read (a version 1/2 file written by
/// rename, or no intact slot) the file's inode and mtime stand in for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMark {
    /// The newest intact slot's sequence.
    Sequence(u64),
    /// The file's inode and modification time (seconds, nanoseconds).
    File {
        /// Inode number (a whole-file save renames a new file over the old one).
        ino: u64,
        /// Modification time, seconds.
        mtime: i64,
        /// Modification time, nanoseconds.
        mtime_nsec: i64,
    },
}

impl CommitMark {
    /// The mark of the checkpoint at `cp` now, `None` when it cannot be read (not there yet).
    pub fn read(cp: &Path) -> Option<Self> {
        if let Ok(bytes) = std::fs::read(cp)
            && let Some(seq) = ckpt::sequence(&bytes)
        {
            return Some(Self::Sequence(seq));
        }
        let meta = std::fs::metadata(cp).ok()?;
        Some(Self::File {
            ino: meta.ino(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        })
    }
}

/// A started ossget.
pub struct Running {
    /// The child.
    pub child: Child,
    /// Its pid.
    pub pid: u32,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
    started: Instant,
}

impl Running {
    /// Waits for the child (reaping it) and returns its status, stdout and stderr.
    pub fn finish(mut self) -> Result<(ExitStatus, String, String), String> {
        let status = self.child.wait().map_err(|e| e.to_string())?;
        let (out, err) = self.collect();
        Ok((status, out, err))
    }

    fn collect(&mut self) -> (String, String) {
        let join =
            |h: Option<JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
        (join(self.stdout.take()), join(self.stderr.take()))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn pipe_reader<R: Read + Send + 'static>(pipe: Option<R>) -> Option<JoinHandle<String>> {
    let mut pipe = pipe?;
    Some(std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    }))
}

/// The rate just before the end: the higher of the rates over the last 20 ms and the last
/// 100 ms (the short window follows a download still speeding up when it died; the long
/// one smooths a steady one).
pub fn recent_rate(samples: &[(Instant, u64)]) -> f64 {
    window_rate(samples, Duration::from_millis(20)).max(window_rate(samples, RATE_WINDOW))
}

/// Bytes per second from the latest sample at least `window` older than the last one to
/// the last one: over a longer span when samples were sparse (a starved harness), over all
/// of them when they span less than `window`.
pub fn window_rate(samples: &[(Instant, u64)], window: Duration) -> f64 {
    let Some(&(t_end, b_end)) = samples.last() else {
        return 0.0;
    };
    let start = samples
        .iter()
        .rev()
        .find(|(t, _)| t_end.duration_since(*t) >= window)
        .or(samples.first())
        .copied();
    match start {
        Some((t0, b0)) if t_end > t0 => {
            b_end.saturating_sub(b0) as f64 / (t_end - t0).as_secs_f64()
        }
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_told_by_the_newest_sequence_then_by_the_file() {
        use super::super::ckpt::samples::{L, single_file, slot_image, slotted_file};
        use std::os::unix::fs::FileExt;

        let dir = std::env::temp_dir().join(format!("xtask-e2e-commit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cp = dir.join("out.bin.cp");
        assert_eq!(CommitMark::read(&cp), None);
        // A whole-file save, then in-place saves into slots 2 and 1.
        std::fs::write(&cp, slotted_file(&[(0, 1, 200)])).unwrap();
        assert_eq!(CommitMark::read(&cp), Some(CommitMark::Sequence(1)));
        let file = std::fs::OpenOptions::new().write(true).open(&cp).unwrap();
        let ino = std::fs::metadata(&cp).unwrap().ino();
        file.write_all_at(&slot_image(3, 2, L as u32, &[2; 210]), 2 * L as u64)
            .unwrap();
        assert_eq!(CommitMark::read(&cp), Some(CommitMark::Sequence(2)));
        // Half of the next save: torn, so still the last commit.
        let next = slot_image(3, 3, L as u32, &[3; 220]);
        file.write_all_at(&next[..next.len() / 2], L as u64)
            .unwrap();
        assert_eq!(CommitMark::read(&cp), Some(CommitMark::Sequence(2)));
        file.write_all_at(&next, L as u64).unwrap();
        assert_eq!(CommitMark::read(&cp), Some(CommitMark::Sequence(3)));
        // In place all along: the inode never changed.
        assert_eq!(std::fs::metadata(&cp).unwrap().ino(), ino);
        // A version 2 file has no sequence: its inode and mtime stand in.
        std::fs::write(&cp, single_file(2, b"body")).unwrap();
        let meta = std::fs::metadata(&cp).unwrap();
        assert_eq!(
            CommitMark::read(&cp),
            Some(CommitMark::File {
                ino: meta.ino(),
                mtime: meta.mtime(),
                mtime_nsec: meta.mtime_nsec()
            })
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rate_over_the_last_window() {
        let t0 = Instant::now();
        let at = |ms: u64, bytes: u64| (t0 + Duration::from_millis(ms), bytes);
        // 1 MB/ms early, then 2 MB/ms in the last 100 ms.
        let samples = [
            at(0, 0),
            at(100, 100_000_000),
            at(150, 200_000_000),
            at(200, 300_000_000),
        ];
        let rate = window_rate(&samples, Duration::from_millis(100));
        assert!((rate - 2.0e9).abs() < 1.0, "{rate}");
        // A window longer than the samples: the whole span.
        let rate = window_rate(&samples, Duration::from_secs(10));
        assert!((rate - 1.5e9).abs() < 1.0, "{rate}");
        // Sparse samples (a starved harness): the real span, not zero.
        let sparse = [at(0, 0), at(70, 70_000_000)];
        let rate = window_rate(&sparse, Duration::from_millis(20));
        assert!((rate - 1.0e9).abs() < 1.0, "{rate}");
        assert_eq!(window_rate(&samples[..1], Duration::from_millis(100)), 0.0);
        assert_eq!(window_rate(&[], Duration::from_millis(100)), 0.0);
        // Speeding up at the end: the 20 ms window wins.
        let ramp = [at(0, 0), at(80, 0), at(90, 10_000_000), at(100, 30_000_000)];
        assert!((recent_rate(&ramp) - 1.5e9).abs() < 1.0);
    }
}
