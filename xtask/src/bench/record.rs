//! `target/bench/latest.json`: every sample, the exact command of each row, the server, the
//! knobs, the objects and the machine. Serde structs, so the file's key order is the field
//! order below and every figure keeps its type; `None` and non-finite figures are `null`.

use serde::Serialize;

use super::measure::ResumeSample;
use super::peers::{Column, Group};
use super::rate_limit::RateLimit;
use super::report::{Case, ResumeCase, Section, limit_of, median, ratios};

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;

/// The whole file.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// When the bench started (Unix seconds).
    pub started_unix: u64,
    /// The same, `YYYY-MM-DD HH:MM UTC`.
    pub started_utc: String,
    /// What it ran on.
    pub machine: Machine,
    /// The server every row downloaded from.
    pub server: &'a str,
    /// The knobs it ran with.
    pub options: OptionsRecord<'a>,
    /// The objects it downloaded.
    pub objects: Vec<ObjectRecord<'a>>,
    /// One per row, column, size and set of knobs.
    pub rows: Vec<CaseRow<'a>>,
    /// One per resume row and server.
    pub resume: Vec<ResumeRow<'a>>,
    /// Rows that did not run, and why.
    pub skipped: Vec<Skipped<'a>>,
}

impl Record<'_> {
    /// Pretty-printed (two-space indent), ending in a newline.
    pub fn to_pretty(&self) -> Result<String, String> {
        to_pretty(self)
    }
}

/// `value` as pretty JSON text ending in a newline.
pub fn to_pretty(value: &impl Serialize) -> Result<String, String> {
    serde_json::to_string_pretty(value)
        .map(|text| text + "\n")
        .map_err(|e| format!("cannot write the bench record as JSON: {e}"))
}

/// The machine (its load before and after the bench, since the numbers are noisy).
#[derive(Debug, Serialize)]
pub struct Machine {
    /// Logical CPUs.
    pub cores: usize,
    /// `/proc/cpuinfo`'s model name.
    pub cpu: String,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: String,
    /// `/proc/loadavg`'s three figures before the bench.
    pub loadavg_before: String,
    /// ... and after.
    pub loadavg_after: String,
}

/// The knobs (`cargo xtask bench` flags, resolved).
#[derive(Debug, Serialize)]
pub struct OptionsRecord<'a> {
    /// Object sizes.
    pub sizes_bytes: &'a [u64],
    /// Timed runs per row.
    pub runs: usize,
    /// Connection counts.
    pub threads: &'a [u32],
    /// Part sizes.
    pub part_sizes_bytes: &'a [u64],
    /// `--only`.
    pub only: Option<&'a [String]>,
    /// Resume rounds per row.
    pub resume_runs: usize,
    /// `--resume-rate`, in all.
    pub resume_rate_bytes_per_s: Option<u64>,
    /// Per-command limit.
    pub timeout_s: u64,
    /// `--quick`.
    pub quick: bool,
}

/// One object.
#[derive(Debug, Serialize)]
pub struct ObjectRecord<'a> {
    /// Its key (file name).
    pub key: &'a str,
    /// Its size.
    pub size_bytes: u64,
    /// Its CRC-64/XZ, decimal (a u64 does not fit a JSON number safely).
    pub crc64ecma: String,
}

/// A row that did not run.
#[derive(Debug, Serialize)]
pub struct Skipped<'a> {
    /// The row.
    pub name: &'a str,
    /// Why.
    pub reason: &'a str,
}

/// One row in one column at one size and set of knobs.
#[derive(Debug, Serialize)]
pub struct CaseRow<'a> {
    section: &'static str,
    name: &'a str,
    group: &'static str,
    column: &'static str,
    about: &'a str,
    command: String,
    wrapper: &'a str,
    server: &'a str,
    size_bytes: u64,
    threads: Option<u32>,
    part_size_bytes: Option<u64>,
    runs: usize,
    runs_ok: usize,
    seconds: Vec<f64>,
    min_s: Option<f64>,
    median_s: Option<f64>,
    mib_per_s_at_min: Option<f64>,
    cpu_user_s_median: Option<f64>,
    cpu_sys_s_median: Option<f64>,
    cpu_s_per_gib_median: Option<f64>,
    peak_rss_kib: Option<u64>,
    cmp: String,
    failures: &'a [String],
    limit_row: Option<&'static str>,
    ratio_to_limit: Option<f64>,
    ratio_to_ossget: Option<f64>,
    ratio_ignores_part_size: bool,
    /// ossget's GETs and connections per run (from its `--json`).
    requests: Vec<u64>,
    connections: Vec<u64>,
    /// Durable rows: the disk's own durable copy run just before each run, and the run's
    /// ratio to it.
    disk_beside_seconds: Vec<f64>,
    ratio_to_disk_beside: Vec<f64>,
    ratio_to_disk_beside_median: Option<f64>,
}

/// The rows of one case: one per column it yields.
pub fn case_rows<'a>(
    case: &'a Case,
    all: &[Case],
    server: &'a str,
    wrapper: &'a str,
) -> Vec<CaseRow<'a>> {
    case.row
        .columns
        .list()
        .iter()
        .map(|&column| case_row(case, column, all, server, wrapper))
        .collect()
}

fn case_row<'a>(
    case: &'a Case,
    column: Column,
    all: &[Case],
    server: &'a str,
    wrapper: &'a str,
) -> CaseRow<'a> {
    let times = case.times(column);
    let r = ratios(case, column, all);
    let cpu_user: Vec<f64> = case.samples.iter().map(|s| s.user).collect();
    let cpu_sys: Vec<f64> = case.samples.iter().map(|s| s.sys).collect();
    let cpu: Vec<f64> = case.samples.iter().map(|s| s.user + s.sys).collect();
    let command = if case.row.columns.syncs() && column == Column::Durable {
        format!("{} && {}", case.command, case.sync_command)
    } else {
        case.command.clone()
    };
    let runs = case.samples.len() + case.failures.len();
    let min = case.min(column);
    let beside = if column == Column::Durable {
        case.disk_beside_ratios()
    } else {
        Vec::new()
    };
    CaseRow {
        section: match case.section {
            Section::Main => "main",
            Section::SmallParts => "small-parts",
            Section::Links(_) => "links",
        },
        name: case.row.name,
        group: match case.row.group {
            Group::Limit => "limit",
            Group::Peer => "peer",
            Group::Ours => "ossget",
            Group::Python => "python",
        },
        column: column.name(),
        about: case.row.about,
        command,
        wrapper,
        server,
        size_bytes: case.size,
        threads: case.n(),
        part_size_bytes: case.part_size(),
        runs,
        runs_ok: case.samples.len(),
        seconds: times.iter().map(|t| round3(*t)).collect(),
        min_s: min.map(round3),
        median_s: median(&times).map(round3),
        mib_per_s_at_min: min.map(|m| round3(case.size as f64 / MIB / m)),
        cpu_user_s_median: median(&cpu_user).map(round3),
        cpu_sys_s_median: median(&cpu_sys).map(round3),
        cpu_s_per_gib_median: median(&cpu).map(|v| round3(v / (case.size as f64 / GIB))),
        peak_rss_kib: case.samples.iter().map(|s| s.rss_kib).max(),
        cmp: if case.failures.is_empty() {
            "ok".to_string()
        } else {
            format!("{} of {runs} runs failed", case.failures.len())
        },
        failures: &case.failures,
        limit_row: limit_of(column, case.size, all).map(|(name, _)| name),
        ratio_to_limit: r.to_limit.map(round3),
        ratio_to_ossget: r.to_ossget.map(round3),
        ratio_ignores_part_size: r.part_unmatched,
        requests: case.samples.iter().filter_map(|s| s.requests).collect(),
        connections: case.samples.iter().filter_map(|s| s.connections).collect(),
        disk_beside_seconds: case
            .samples
            .iter()
            .filter_map(|s| s.disk_beside)
            .map(round3)
            .collect(),
        ratio_to_disk_beside_median: median(&beside).map(round3),
        ratio_to_disk_beside: beside.into_iter().map(round3).collect(),
    }
}

/// One resume row against one server.
#[derive(Debug, Serialize)]
pub struct ResumeRow<'a> {
    name: &'a str,
    command: &'a str,
    server: &'a str,
    size_bytes: u64,
    threads: u32,
    part_size_bytes: u64,
    server_rate_limit: Option<RateRecord>,
    rounds: usize,
    rounds_ok: usize,
    samples: Vec<ResumeRound>,
    refetched_mib_min: Option<f64>,
    refetched_mib_median: Option<f64>,
    kernel_queued_at_kill_mib_median: Option<f64>,
    refetched_client_mib_min: Option<f64>,
    refetched_client_mib_median: Option<f64>,
    cmp: &'static str,
    failures: &'a [String],
}

/// The server's rate limit in a resume row's rounds.
#[derive(Debug, Serialize)]
struct RateRecord {
    total_bytes_per_s: u64,
    connections: u32,
    nginx_limit_rate_per_request_bytes_per_s: u64,
}

impl From<RateLimit> for RateRecord {
    fn from(rate: RateLimit) -> Self {
        Self {
            total_bytes_per_s: rate.total,
            connections: rate.connections,
            nginx_limit_rate_per_request_bytes_per_s: rate.per_request,
        }
    }
}

/// One kill and rerun.
#[derive(Debug, Serialize)]
struct ResumeRound {
    killed_after_s: f64,
    killed_at_read_bytes: u64,
    killed_at_written_bytes: u64,
    served_before_kill_bytes: u64,
    served_to_rerun_bytes: u64,
    refetched_bytes: u64,
    kernel_queued_at_kill_bytes: Option<u64>,
    kernel_queues_read_ms: f64,
    refetched_client_bytes: Option<u64>,
    started_over: bool,
    rerun_wall_s: f64,
    rerun_peak_rss_kib: u64,
}

impl ResumeRound {
    fn new(s: &ResumeSample, size: u64) -> Self {
        Self {
            killed_after_s: round3(s.killed_after),
            killed_at_read_bytes: s.killed_at_rchar,
            killed_at_written_bytes: s.killed_at_wchar,
            served_before_kill_bytes: s.served_before,
            served_to_rerun_bytes: s.served_after,
            refetched_bytes: s.refetched,
            kernel_queued_at_kill_bytes: s.kernel_queued_at_kill,
            kernel_queues_read_ms: round3(s.queues_read * 1000.0),
            refetched_client_bytes: s.refetched_client(),
            started_over: s.started_over(size),
            rerun_wall_s: round3(s.rerun.wall),
            rerun_peak_rss_kib: s.rerun.rss_kib,
        }
    }
}

/// The record of a resume row whose rounds ran against `server`.
pub fn resume_row<'a>(r: &'a ResumeCase, server: &'a str) -> ResumeRow<'a> {
    let refetched = r.server_mib();
    let client = r.client_mib();
    let queued = r.queued_mib();
    ResumeRow {
        name: r.row.name,
        command: &r.command,
        server,
        size_bytes: r.size,
        threads: r.threads,
        part_size_bytes: r.part,
        server_rate_limit: r.rate.map(RateRecord::from),
        rounds: r.samples.len() + r.failures.len(),
        rounds_ok: r.samples.len(),
        samples: r
            .samples
            .iter()
            .map(|s| ResumeRound::new(s, r.size))
            .collect(),
        refetched_mib_min: refetched.iter().copied().reduce(f64::min).map(round3),
        refetched_mib_median: median(&refetched).map(round3),
        kernel_queued_at_kill_mib_median: median(&queued).map(round3),
        refetched_client_mib_min: client.iter().copied().reduce(f64::min).map(round3),
        refetched_client_mib_median: median(&client).map(round3),
        cmp: if r.failures.is_empty() {
            "ok"
        } else {
            "failed"
        },
        failures: &r.failures,
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
