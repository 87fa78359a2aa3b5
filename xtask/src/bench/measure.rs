//! Running one row once: a timed run (GNU time under `timeout`, then `sync OUT`, then
//! the output check) and a kill-at-50%-and-resume round.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::cmd::Cmd;
use super::data::Object;
use super::nginx::LoggedServer;
use super::peers::{Builder, Job, Phase, Verify};
use super::tcp_queues;

/// GNU time's format: wall seconds, user CPU seconds, system CPU seconds, peak RSS KiB.
const TIME_FORMAT: &str = "%e %U %S %M";

/// Where and how long runs may take.
#[derive(Debug, Clone)]
pub struct Runner {
    /// Per-command limit in seconds.
    pub timeout_secs: u64,
    /// `target/bench/logs`: each row's last stdout/stderr and GNU time output.
    pub logs: PathBuf,
}

/// What one timed run measured.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// The command's wall time (GNU time), seconds.
    pub wall: f64,
    /// Wall time of the `sync OUT` that followed, when the row's columns need it.
    pub sync: Option<f64>,
    /// User CPU seconds of the command and its children.
    pub user: f64,
    /// System CPU seconds of the command and its children.
    pub sys: f64,
    /// Peak resident set size, KiB (the largest single process).
    pub rss_kib: u64,
    /// ossget's own counts from its `--json` summary: ranged GETs sent, connections opened
    /// (`None` for other tools).
    pub requests: Option<u64>,
    pub connections: Option<u64>,
    /// The durable time (`dd` + `sync OUT`) of the disk's own durable copy of the same bytes,
    /// run just before this run: what a durable row is read against on a disk whose speed
    /// drifts (`None`: not a durable row).
    pub disk_beside: Option<f64>,
}

/// What one kill-and-resume round found.
#[derive(Debug, Clone, Copy)]
pub struct ResumeSample {
    /// Seconds from start to the kill.
    pub killed_after: f64,
    /// Bytes the client had read (`/proc/PID/io` rchar) since it opened its first
    /// socket, when it was killed (zero for clients that use recv(), see `resume`).
    pub killed_at_rchar: u64,
    /// Bytes the client had written (`/proc/PID/io` wchar) when it was killed.
    pub killed_at_wchar: u64,
    /// Bytes the server sent before the kill (the logged server's `$body_bytes_sent`).
    pub served_before: u64,
    /// Bytes the server sent to the resumed run.
    pub served_after: u64,
    /// Bytes sent in all minus the object size: what the kill cost, counted at the server.
    pub refetched: u64,
    /// Bytes in the kernel's TCP queues of the twin's connections just before the
    /// SIGKILL (nginx's send queues + the client's receive queues, `/proc/net/tcp{,6}`):
    /// sent by the server, never seen by the client. `None` off Linux.
    pub kernel_queued_at_kill: Option<u64>,
    /// Seconds that reading the queues took, by which the kill came after the trigger.
    pub queues_read: f64,
    /// The resumed run.
    pub rerun: Sample,
}

impl ResumeSample {
    /// Whether the resumed run fetched (nearly) the whole object again: it kept nothing
    /// of the killed run (no checkpoint yet, or one it could not use).
    pub fn started_over(&self, size: u64) -> bool {
        self.served_after >= size / 10 * 9
    }

    /// Re-fetched bytes as the client counts them (what the resume target is about): the
    /// server-counted figure minus what sat in the kernel's queues at the kill, which the
    /// client never received. `None` when the queues could not be read.
    ///
    /// Approximate in two small ways. On loopback a byte the client's kernel has
    /// received but not yet acknowledged is in both nginx's send queue and the client's
    /// receive queue for a few microseconds; counting it twice makes the queue figure
    /// larger and so this one smaller by that much. And the queues are read in the few
    /// milliseconds before the signal (`queues_read`), each socket at a slightly
    /// different moment, while the client is still reading and nginx still sending; the
    /// figure is a fill level, not a running count, so that matters only as much as the
    /// fill moves in those milliseconds.
    pub fn refetched_client(&self) -> Option<u64> {
        self.kernel_queued_at_kill
            .map(|queued| self.refetched.saturating_sub(queued))
    }
}

impl Runner {
    /// One timed run of `cmd`: clean work dir, `sync`, the command under GNU time and
    /// `timeout`, `sync OUT` when `sync_out`, then the output check. A wrong file is an
    /// `Err`, never a sample.
    pub fn timed(
        &self,
        tag: &str,
        cmd: &Cmd,
        job: &Job<'_>,
        object: &Object,
        verify: Verify,
        sync_out: bool,
    ) -> Result<Sample, String> {
        if job.phase == Phase::Fresh {
            fresh_dir(&job.work)?;
        }
        // Earlier runs' dirty pages must not be written back on this run's time.
        self.quiet("sync", &Cmd::new("sync"))?;
        let mut sample = self.time_one(tag, cmd, job, sync_out)?;
        check_output(tag, verify, job, object, &self.logs)?;
        // ossget's --json summary (its stdout), when it printed one.
        let stdout = fs::read_to_string(self.logs.join(format!("{tag}.out"))).unwrap_or_default();
        if let Some(summary) = crate::ossget_json::Summary::last_in(&stdout) {
            sample.requests = summary.requests;
            sample.connections = summary.connections_opened;
        }
        Ok(sample)
    }

    fn time_one(
        &self,
        tag: &str,
        cmd: &Cmd,
        job: &Job<'_>,
        sync_out: bool,
    ) -> Result<Sample, String> {
        let time_file = self.logs.join(format!("{tag}.time"));
        let _ = fs::remove_file(&time_file);
        let wrapper = [
            "/usr/bin/time".to_string(),
            "-f".to_string(),
            TIME_FORMAT.to_string(),
            "-o".to_string(),
            time_file.display().to_string(),
            "timeout".to_string(),
            "-k".to_string(),
            "5".to_string(),
            self.timeout_secs.to_string(),
        ];
        let mut command = cmd.to_command(&wrapper);
        let status = self
            .with_logs(&mut command, tag)?
            .status()
            .map_err(|e| format!("cannot start {}: {e}", cmd.program))?;
        if !status.success() {
            let why = match status.code() {
                Some(124) | Some(137) => format!("timed out after {} s", self.timeout_secs),
                Some(code) => format!("exit status {code}"),
                None => format!("{status}"),
            };
            return Err(format!("{why}: {}", self.last_words(tag)));
        }
        let mut sample = parse_time(&fs::read_to_string(&time_file).unwrap_or_default())
            .ok_or_else(|| format!("no GNU time figures in {}", time_file.display()))?;
        if sync_out {
            let started = Instant::now();
            self.quiet("sync OUT", &Cmd::new("sync").path(&job.out))?;
            sample.sync = Some(started.elapsed().as_secs_f64());
        }
        Ok(sample)
    }

    /// One resume round: start the command on a logged server (`job.endpoint` must be
    /// `server`'s: the twin, or its rate-limited copy), SIGKILL it once it has read or
    /// written `kill_at` bytes (half the object, or a point spread over a round of parts
    /// on the limited server), rerun it to the end (timed), and count what the server
    /// sent and what was still in the kernel's TCP queues at the kill.
    pub fn resume(
        &self,
        tag: &str,
        build: Builder,
        job: &Job<'_>,
        object: &Object,
        server: &LoggedServer,
        kill_at: u64,
    ) -> Result<ResumeSample, String> {
        fresh_dir(&job.work)?;
        self.quiet("sync", &Cmd::new("sync"))?;
        let cmd = build(job)?;
        let offset = server.bytes_log_len();
        let mut command = cmd.to_command(&[]);
        let mut child = self
            .with_logs(&mut command, &format!("{tag}.killed"))?
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", cmd.program))?;
        let io_path = format!("/proc/{}/io", child.id());
        let half = kill_at.clamp(1, object.size.saturating_sub(1).max(1));
        let deadline = Instant::now() + Duration::from_secs(self.timeout_secs);
        let fd_dir = format!("/proc/{}/fd", child.id());
        let started = Instant::now();
        // The kill trigger is the client's own progress, from /proc/PID/io:
        // - rchar counts read() on sockets (Go, curl) but not recv() (Python, aria2c), and
        //   also what an interpreter reads at start-up (~9 MB of Python modules), so it
        //   counts only from the moment the client first holds a socket;
        // - wchar counts every client's writes into its output (aria2c's lag by its
        //   16 MiB disk cache).
        // Progress is the larger of the two, a lower bound of what it has received. The
        // waste figure itself comes from the server's log, the same for every client,
        // less what sat in the kernel's queues at the kill (read just before the signal).
        let mut baseline = None;
        let (rchar, wchar, queued, queues_read) = loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "finished ({status}) before it had read {:.0} MiB of the object; nothing to \
                     kill (a larger --size gives the poll time)",
                    half as f64 / 1048576.0
                ));
            }
            let (rchar, wchar) = read_io(&io_path);
            if baseline.is_none() && has_socket(&fd_dir) {
                baseline = Some(rchar);
            }
            let read = rchar.saturating_sub(baseline.unwrap_or(rchar));
            if read.max(wchar) >= half {
                // The kernel walks its whole socket table for each file read (about 5 ms
                // on an idle bench VM, twice that mid-run), and the client runs on
                // meanwhile; the kill comes right after, so the queues are as near
                // its instant as they can be. Reading them after the kill would see
                // sockets being reset.
                let read_started = Instant::now();
                let queued = tcp_queues::queued_for_port(server.port);
                let queues_read = read_started.elapsed().as_secs_f64();
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!(
                        "finished ({status}) in the {:.0} ms the kernel's TCP queues took to \
                         read, before the kill (a larger --size gives it more to do)",
                        queues_read * 1000.0
                    ));
                }
                // Progress as it stands at the kill, not at the trigger.
                let (rchar, wchar) = read_io(&io_path);
                let _ = child.kill();
                let _ = child.wait();
                let read = rchar.saturating_sub(baseline.unwrap_or(rchar));
                break (read, wchar, queued, queues_read);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "did not read {:.0} MiB of the object in {} s",
                    half as f64 / 1048576.0,
                    self.timeout_secs
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        // nginx logs an aborted request once it notices the closed connection.
        let killed_after = started.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_millis(500));
        let (served_before, _) = server.served_since(offset)?;

        let resume_job = Job {
            phase: Phase::Resume,
            ..job.clone()
        };
        let rerun_cmd = build(&resume_job)?;
        let rerun = self.timed(tag, &rerun_cmd, &resume_job, object, Verify::Cmp, false)?;
        std::thread::sleep(Duration::from_millis(500));
        let (served_total, _) = server.served_since(offset)?;
        Ok(ResumeSample {
            killed_after,
            killed_at_rchar: rchar,
            killed_at_wchar: wchar,
            served_before,
            served_after: served_total.saturating_sub(served_before),
            refetched: served_total.saturating_sub(object.size),
            kernel_queued_at_kill: queued,
            queues_read,
            rerun,
        })
    }

    /// Runs a helper command (`sync`) under `timeout`; failure is an error.
    fn quiet(&self, what: &str, cmd: &Cmd) -> Result<(), String> {
        let wrapper = ["timeout".to_string(), self.timeout_secs.to_string()];
        let status = cmd
            .to_command(&wrapper)
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{}` failed ({status})", cmd.shell()))
        }
    }

    fn with_logs<'c>(
        &self,
        command: &'c mut Command,
        tag: &str,
    ) -> Result<&'c mut Command, String> {
        let open = |ext: &str| {
            let path = self.logs.join(format!("{tag}.{ext}"));
            File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))
        };
        Ok(command
            .stdin(Stdio::null())
            .stdout(open("out")?)
            .stderr(open("err")?))
    }

    /// The last non-empty stderr line of the row's latest run, for a failure message.
    fn last_words(&self, tag: &str) -> String {
        let path = self.logs.join(format!("{tag}.err"));
        let text = fs::read_to_string(&path).unwrap_or_default();
        let line = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("(no stderr)")
            .trim();
        let short: String = line.chars().take(200).collect();
        format!("{short} (log: {})", path.display())
    }
}

/// The output check: `cmp` against the source (or length / curl's byte count).
fn check_output(
    tag: &str,
    verify: Verify,
    job: &Job<'_>,
    object: &Object,
    logs: &Path,
) -> Result<(), String> {
    match verify {
        Verify::Cmp => {
            let len = fs::metadata(&job.out)
                .map_err(|e| format!("WRONG FILE: no output at {} ({e})", job.out.display()))?
                .len();
            if len != object.size {
                return Err(format!("WRONG FILE: {len} bytes, expected {}", object.size));
            }
            let status = Command::new("cmp")
                .args(["-s"])
                .arg(&job.out)
                .arg(&object.path)
                .status()
                .map_err(|e| format!("cannot run cmp: {e}"))?;
            match status.code() {
                Some(0) => Ok(()),
                Some(1) => Err("WRONG FILE: cmp finds it differs from the source".to_string()),
                _ => Err(format!("cmp failed ({status})")),
            }
        }
        Verify::Length => {
            let len = fs::metadata(&job.out).map(|m| m.len()).unwrap_or(0);
            if len == object.size {
                Ok(())
            } else {
                Err(format!(
                    "WRONG FILE: {len} bytes written, expected {}",
                    object.size
                ))
            }
        }
        Verify::CurlDownloaded => {
            let out = fs::read_to_string(logs.join(format!("{tag}.out"))).unwrap_or_default();
            let got = out.trim().parse::<f64>().unwrap_or(-1.0);
            if (got - object.size as f64).abs() < 0.5 {
                Ok(())
            } else {
                Err(format!(
                    "curl downloaded `{}` bytes, expected {}",
                    out.trim(),
                    object.size
                ))
            }
        }
    }
}

/// Removes and recreates a run's work directory.
pub fn fresh_dir(dir: &Path) -> Result<(), String> {
    match fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot clear {}: {e}", dir.display())),
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Whether the process holds a socket (`/proc/PID/fd/*` -> `socket:[...]`).
fn has_socket(fd_dir: &str) -> bool {
    fs::read_dir(fd_dir)
        .map(|entries| {
            entries.flatten().any(|e| {
                fs::read_link(e.path())
                    .map(|target| target.to_string_lossy().starts_with("socket:"))
                    .unwrap_or(false)
            })
        })
        .unwrap_or(false)
}

/// `rchar` and `wchar` from a `/proc/PID/io` (zeros when unreadable).
fn read_io(path: &str) -> (u64, u64) {
    let text = fs::read_to_string(path).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("rchar:"), field("wchar:"))
}

/// Parses GNU time's `-f "%e %U %S %M"` output (its last line; a line before it may say
/// "Command exited with non-zero status").
fn parse_time(text: &str) -> Option<Sample> {
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let mut fields = line.split_whitespace();
    let wall = fields.next()?.parse().ok()?;
    let user = fields.next()?.parse().ok()?;
    let sys = fields.next()?.parse().ok()?;
    let rss_kib = fields.next()?.parse().ok()?;
    Some(Sample {
        wall,
        sync: None,
        user,
        sys,
        rss_kib,
        requests: None,
        connections: None,
        disk_beside: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gnu_time_lines() {
        let s = parse_time("1.26 0.41 1.02 12345\n").unwrap();
        assert_eq!(
            (s.wall, s.user, s.sys, s.rss_kib),
            (1.26, 0.41, 1.02, 12345)
        );
        let s = parse_time("Command exited with non-zero status 1\n0.01 0.00 0.00 900\n").unwrap();
        assert_eq!(s.rss_kib, 900);
        assert!(parse_time("").is_none());
        assert!(parse_time("garbage").is_none());
    }

    #[test]
    fn reads_proc_io_of_this_process() {
        let (rchar, _) = read_io("/proc/self/io");
        let _ = std::fs::read("/proc/self/status").unwrap();
        let (after, _) = read_io("/proc/self/io");
        assert!(after > rchar, "rchar grows as we read");
    }
}
