//! Turning samples into figures: min/median per row and column, ratios only between rows
//! with the same knobs and column, the Markdown tables and `latest.json`.

use std::fmt::Write as _;

use super::measure::{ResumeSample, Sample};
use super::peers::{Column, Group, Knob, Row};
use super::rate_limit::{RateLimit, rate_text};
use crate::size::exact;

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;

/// Which table a case belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The page-cache and durable tables (N and part size from `--threads`/`--part-size`).
    Main,
    /// `--small-parts`: fixed (N, part size) pairs, from the C SDK's 3 × 100 KiB up.
    SmallParts,
    /// `--links`: through the chaos proxy playing this link profile.
    Links(&'static str),
}

/// One row at one set of knobs on one object, with everything its runs produced.
#[derive(Debug, Clone)]
pub struct Case {
    /// The table it is in.
    pub section: Section,
    /// The row.
    pub row: &'static Row,
    /// Object size in bytes.
    pub size: u64,
    /// Connections the command was given.
    pub threads: u32,
    /// Part size the command was given.
    pub part: u64,
    /// The command as a shell line.
    pub command: String,
    /// The `sync OUT` that follows it for the durable column, as a shell line.
    pub sync_command: String,
    /// Successful timed runs.
    pub samples: Vec<Sample>,
    /// Why the other runs failed.
    pub failures: Vec<String>,
}

impl Case {
    /// N as the row spells it (`None`: no such knob).
    pub fn n(&self) -> Option<u32> {
        match self.row.threads {
            Knob::Flag(_) => Some(self.threads),
            Knob::Fixed(n) => Some(n),
            Knob::Absent => None,
        }
    }

    /// Part size as the row spells it (`None`: no such knob).
    pub fn part_size(&self) -> Option<u64> {
        match self.row.part {
            Knob::Flag(_) | Knob::Fixed(_) => Some(self.part),
            Knob::Absent => None,
        }
    }

    /// Seconds per successful run in `column` (durable: the run plus its `sync OUT`).
    pub fn times(&self, column: Column) -> Vec<f64> {
        self.samples
            .iter()
            .map(|s| match column {
                Column::PageCache => s.wall,
                Column::Durable => s.wall + s.sync.unwrap_or(0.0),
            })
            .collect()
    }

    /// The fastest run in `column`.
    pub fn min(&self, column: Column) -> Option<f64> {
        self.times(column).into_iter().reduce(f64::min)
    }

    /// Per durable run that has one, its time over the disk's durable copy of the same bytes
    /// run just before it.
    pub fn disk_beside_ratios(&self) -> Vec<f64> {
        self.samples
            .iter()
            .filter_map(|s| {
                let disk = s.disk_beside.filter(|d| *d > 0.0)?;
                Some((s.wall + s.sync.unwrap_or(0.0)) / disk)
            })
            .collect()
    }

    /// ossget's GETs per run, as its `--json` counted them.
    pub fn requests(&self) -> Vec<f64> {
        self.samples
            .iter()
            .filter_map(|s| s.requests.map(|r| r as f64))
            .collect()
    }

    fn label(&self) -> String {
        self.row.name.to_string()
    }
}

/// A resume scenario row.
#[derive(Debug, Clone)]
pub struct ResumeCase {
    /// The row.
    pub row: &'static Row,
    /// Object size.
    pub size: u64,
    /// Connections.
    pub threads: u32,
    /// Part size.
    pub part: u64,
    /// The command as a shell line (the rerun's; aria2c adds `-c`).
    pub command: String,
    /// The server's rate limit in these rounds (`--resume-rate`); `None`: unlimited.
    pub rate: Option<RateLimit>,
    /// Rounds that completed with a correct file.
    pub samples: Vec<ResumeSample>,
    /// Why other rounds failed.
    pub failures: Vec<String>,
}

impl ResumeCase {
    /// Re-fetched MiB per round, counted at the server.
    pub fn server_mib(&self) -> Vec<f64> {
        self.samples
            .iter()
            .map(|s| s.refetched as f64 / MIB)
            .collect()
    }

    /// MiB in the kernel's TCP queues at the kill, per round whose queues were read.
    pub fn queued_mib(&self) -> Vec<f64> {
        self.samples
            .iter()
            .filter_map(|s| s.kernel_queued_at_kill)
            .map(|b| b as f64 / MIB)
            .collect()
    }

    /// Re-fetched MiB per round, counted by the client (rounds whose kernel queues could
    /// not be read are left out).
    pub fn client_mib(&self) -> Vec<f64> {
        self.samples
            .iter()
            .filter_map(|s| s.refetched_client())
            .map(|b| b as f64 / MIB)
            .collect()
    }
}

/// The lines under a resume table that read the resume target off it (after a kill -9 at
/// half the object, ossget re-fetches at most half of what the best peer re-fetches,
/// counted by the client; docs/architecture.md#targets): for each of our rows, the
/// best peer by client-counted median re-fetch, our ratio to it, and the same ratio
/// counted at the server. Empty when there is no ossget row or no peer figure.
fn resume_target_lines(rows: &[&ResumeCase]) -> Vec<String> {
    let best = rows
        .iter()
        .filter(|r| r.row.group == Group::Peer)
        .filter_map(|r| median(&r.client_mib()).map(|m| (*r, m)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let Some((peer, peer_client)) = best else {
        return Vec::new();
    };
    let ratio = |ours: Option<f64>, theirs: Option<f64>| match (ours, theirs) {
        (Some(o), Some(t)) if t > 0.0 => format!("{:.2}×", o / t),
        _ => "—".to_string(),
    };
    let mib = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.1}"));
    let peer_server = median(&peer.server_mib());
    rows.iter()
        .filter(|r| matches!(r.row.group, Group::Ours | Group::Python))
        .map(|ours| {
            let client = median(&ours.client_mib());
            let server = median(&ours.server_mib());
            format!(
                "Target (re-fetched bytes, counted by the client, at most half of the best \
                 peer's): best peer by the client-counted median is `{}`, {} MiB; `{}` \
                 re-fetched {} MiB, **{}** of it (target ≤ 0.50×). Counted at the server: {} \
                 against {} MiB, {}.",
                peer.row.name,
                mib(Some(peer_client)),
                ours.row.name,
                mib(client),
                ratio(client, Some(peer_client)),
                mib(server),
                mib(peer_server),
                ratio(server, peer_server),
            )
        })
        .collect()
}

/// A row that did not run, and why.
#[derive(Debug, Clone)]
pub struct Skip {
    /// Row name.
    pub name: &'static str,
    /// Why (printed and recorded, never hidden).
    pub reason: String,
}

/// Median of `values` (mean of the middle two for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.to_vec();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    let upper = *v.get(mid)?;
    if v.len() % 2 == 1 {
        Some(upper)
    } else {
        Some((v.get(mid - 1)? + upper) / 2.0)
    }
}

/// The ratio of `case` to the row its column is read against (the limit) and to ossget
/// with the same knobs. `None` when there is nothing comparable.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ratios {
    /// `min / limit min` (same column, same object).
    pub to_limit: Option<f64>,
    /// `min / ossget min` (same column, object, N and part size).
    pub to_ossget: Option<f64>,
    /// The comparison ignored the part size because this row has no such knob.
    pub part_unmatched: bool,
}

/// The limit a column is read against: the fastest limit row of that column and object
/// size (page cache: the loopback ceiling; durable: the faster of the two `dd` rows), as
/// its name and min seconds.
pub fn limit_of(column: Column, size: u64, all: &[Case]) -> Option<(&'static str, f64)> {
    all.iter()
        .filter(|c| {
            c.row.group == Group::Limit && c.size == size && c.row.columns.list().contains(&column)
        })
        .filter_map(|c| c.min(column).map(|m| (c.row.name, m)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Ratios for `case` in `column`, found among `all`. Rows compare only with rows of the
/// same section, column, object size and N, and the same part size unless the row cannot
/// set it.
pub fn ratios(case: &Case, column: Column, all: &[Case]) -> Ratios {
    let Some(min) = case.min(column) else {
        return Ratios::default();
    };
    let mut r = Ratios::default();
    if case.row.group != Group::Limit {
        r.to_limit = limit_of(column, case.size, all).map(|(_, limit)| min / limit);
    }
    let is_primary = case.row.group == Group::Ours && case.row.primary;
    if case.row.group != Group::Limit && !is_primary {
        let ossget = all.iter().find(|c| {
            c.section == case.section
                && c.row.group == Group::Ours
                && c.row.primary
                && c.row.columns.list().contains(&column)
                && c.size == case.size
                && c.n() == case.n()
                && (case.part_size().is_none() || c.part_size() == case.part_size())
        });
        if let Some(base) = ossget.and_then(|c| c.min(column)) {
            r.to_ossget = Some(min / base);
            r.part_unmatched = case.part_size().is_none();
        }
    }
    r
}

fn cell_secs(v: Option<f64>) -> String {
    v.map_or("—".to_string(), |x| format!("{x:.2}"))
}

fn cell_ratio(v: Option<f64>, mark: bool) -> String {
    v.map_or("—".to_string(), |x| {
        format!("{x:.2}×{}", if mark { "*" } else { "" })
    })
}

fn cell_opt<T: ToString>(v: Option<T>) -> String {
    v.map_or("—".to_string(), |x| x.to_string())
}

/// The Markdown report: one table per object size and column, the resume table, skips.
pub fn markdown(
    header: &str,
    sizes: &[u64],
    cases: &[Case],
    resumes: &[ResumeCase],
    skips: &[Skip],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{header}");
    for &size in sizes {
        for column in [Column::PageCache, Column::Durable] {
            let rows: Vec<&Case> = cases
                .iter()
                .filter(|c| {
                    c.section == Section::Main
                        && c.size == size
                        && c.row.columns.list().contains(&column)
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            let how = match column {
                Column::PageCache => {
                    "the tool as it is; its output may still be only in the page cache"
                }
                Column::Durable => {
                    "the tool followed by `sync OUT`; aria2c and ossget fsync on their own"
                }
            };
            let limit = limit_of(column, size, cases)
                .map_or("no limit row ran".to_string(), |(name, min)| {
                    format!("`{name}`, {min:.2} s")
                });
            let _ = writeln!(
                out,
                "\n### {} · {} object ({how}; × limit: against the fastest limit row here, {limit})\n",
                column.name(),
                exact(size),
            );
            let _ = writeln!(
                out,
                "| row | N | part | ok/runs | min s | median s | MiB/s | × limit | × ossget | CPU s/GiB | peak RSS MiB | output |{}",
                if column == Column::Durable {
                    " × disk beside (median, min) |"
                } else {
                    ""
                }
            );
            let _ = writeln!(
                out,
                "|---|---|---|---|---|---|---|---|---|---|---|---|{}",
                if column == Column::Durable {
                    "---|"
                } else {
                    ""
                }
            );
            for case in rows {
                let times = case.times(column);
                let min = case.min(column);
                let r = ratios(case, column, cases);
                let cpu: Vec<f64> = case.samples.iter().map(|s| s.user + s.sys).collect();
                let rss = case.samples.iter().map(|s| s.rss_kib).max();
                let runs = case.samples.len() + case.failures.len();
                let output = output_cell(&case.failures);
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {}/{} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    case.label(),
                    cell_opt(case.n()),
                    cell_opt(case.part_size().map(exact)),
                    case.samples.len(),
                    runs,
                    cell_secs(min),
                    cell_secs(median(&times)),
                    min.map_or("—".to_string(), |m| format!(
                        "{:.0}",
                        case.size as f64 / MIB / m
                    )),
                    cell_ratio(r.to_limit, false),
                    cell_ratio(r.to_ossget, r.part_unmatched),
                    median(&cpu).map_or("—".to_string(), |c| format!(
                        "{:.2}",
                        c / (case.size as f64 / GIB)
                    )),
                    rss.map_or("—".to_string(), |k| format!("{:.0}", k as f64 / 1024.0)),
                    output,
                );
                if column == Column::Durable {
                    // Continue the row with the paired-disk cell.
                    out.pop();
                    let _ = writeln!(out, " {} |", beside_cell(case));
                }
            }
        }
        for line in disk_beside_lines(cases, size) {
            let _ = writeln!(out, "\n{line}");
        }
        out.push_str(&super::small_parts::markdown(cases, size));
        out.push_str(&super::links::markdown(cases, size));
        // The unlimited rounds first, then those at `--resume-rate`, each its own table.
        let mut rates: Vec<Option<RateLimit>> = vec![None];
        for r in resumes.iter().filter(|r| r.size == size) {
            if !rates.contains(&r.rate) {
                rates.push(r.rate);
            }
        }
        for rate in rates {
            let rows: Vec<&ResumeCase> = resumes
                .iter()
                .filter(|r| r.size == size && r.rate == rate)
                .collect();
            resume_table(&mut out, size, rate, &rows);
        }
    }
    if cases.iter().any(|c| ratios_marked(c, cases)) {
        let _ = writeln!(
            out,
            "\n`*` this row has no part-size knob (rclone 1.60 splits the file into N equal \
             streams; curl has no parts): compared with ossget on N only."
        );
    }
    if !skips.is_empty() {
        let _ = writeln!(out, "\nSkipped (not run, not faked):");
        for s in skips {
            let _ = writeln!(out, "- `{}`: {}", s.name, s.reason);
        }
    }
    out
}

/// A durable row's time over the disk's own durable copy run just before it: `1.08×
/// (1.02×)` (median, min over runs), `—` for rows without paired runs.
fn beside_cell(case: &Case) -> String {
    let ratios = case.disk_beside_ratios();
    match (median(&ratios), ratios.iter().copied().reduce(f64::min)) {
        (Some(med), Some(min)) => format!("{med:.2}× ({min:.2}×)"),
        _ => "—".to_string(),
    }
}

/// Under the durable table: the durable target read off runs paired with the disk (this
/// VM's disk drifts by several times over minutes, so each durable run is read against a
/// `dd conv=fdatasync` of the same bytes run just before it, not against one figure).
fn disk_beside_lines(cases: &[Case], size: u64) -> Vec<String> {
    cases
        .iter()
        .filter(|c| {
            c.section == Section::Main
                && c.size == size
                && c.row.group == Group::Ours
                && c.row.primary
                && c.row.columns.list().contains(&Column::Durable)
        })
        .filter_map(|c| {
            let ratios = c.disk_beside_ratios();
            let med = median(&ratios)?;
            let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
            Some(format!(
                "Target (durable within 1.15× of the disk's own durable write of the same bytes,                  `dd if=OBJECT conv=fdatasync` run just before each run): `{}` N={} part={}:                  **{med:.2}×** median (per run: {}).",
                c.row.name,
                c.threads,
                exact(c.part),
                each.join(", ")
            ))
        })
        .collect()
}

/// One resume-waste table (rows of one object size and one server rate) and its target
/// lines; nothing when there are no rows.
fn resume_table(out: &mut String, size: u64, rate: Option<RateLimit>, resume_rows: &[&ResumeCase]) {
    if resume_rows.is_empty() {
        return;
    }
    match rate {
        None => {
            let _ = writeln!(
                out,
                "\n### resume waste · {} object (kill -9 once the client has read or written half \
                 (/proc/PID/io), rerun; re-fetched = bytes the server sent in all − object size; \
                 by the client = that less what sat in the kernel's TCP queues at the kill, \
                 /proc/net/tcp: nginx's send queues + the client's receive queues)\n",
                exact(size)
            );
        }
        Some(rate) => {
            let _ = writeln!(
                out,
                "\n### resume waste · {} object · server limited to {}/s total ({}, on a \
                 third logged server; otherwise as above: the waste at a rate like an OSS \
                 link's, where terms that grow with the rate weigh less)\n",
                exact(size),
                rate_text(rate.total),
                rate.nginx_settings()
            );
        }
    }
    let _ = writeln!(
        out,
        "| row | N | part | ok/rounds | killed at MiB read/written | served before kill MiB | re-fetched MiB min | re-fetched MiB median | in kernel queues at kill MiB (median) | re-fetched by the client MiB (min / median) | started over | rerun s median | output |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in resume_rows {
        let mib = |f: fn(&ResumeSample) -> u64| -> Vec<f64> {
            r.samples.iter().map(|s| f(s) as f64 / MIB).collect()
        };
        let refetched = mib(|s| s.refetched);
        let client = r.client_mib();
        let queued = r.queued_mib();
        let rerun: Vec<f64> = r.samples.iter().map(|s| s.rerun.wall).collect();
        let output = output_cell(&r.failures);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}/{} | {} | {} | {} | {} | {} | {} | {}/{} | {} | {} |",
            r.row.name,
            r.threads,
            exact(r.part),
            r.samples.len(),
            r.samples.len() + r.failures.len(),
            median(&mib(|s| s.killed_at_rchar.max(s.killed_at_wchar)))
                .map_or("—".to_string(), |v| format!("{v:.0}")),
            median(&mib(|s| s.served_before)).map_or("—".to_string(), |v| format!("{v:.0}")),
            refetched
                .iter()
                .copied()
                .reduce(f64::min)
                .map_or("—".to_string(), |v| format!("{v:.1}")),
            median(&refetched).map_or("—".to_string(), |v| format!("{v:.1}")),
            median(&queued).map_or("—".to_string(), |v| format!("{v:.1}")),
            match (client.iter().copied().reduce(f64::min), median(&client)) {
                (Some(min), Some(med)) => format!("{min:.1} / {med:.1}"),
                _ => "—".to_string(),
            },
            r.samples.iter().filter(|s| s.started_over(r.size)).count(),
            r.samples.len(),
            cell_secs(median(&rerun)),
            output,
        );
    }
    for line in resume_target_lines(resume_rows) {
        let _ = writeln!(out, "\n{line}");
    }
    if let Some(rate) = rate {
        let _ = writeln!(out, "\n{}", rate_seen_line(rate, resume_rows));
        if let Some(r) = resume_rows.first() {
            let rounds = r.samples.len() + r.failures.len();
            let _ = writeln!(
                out,
                "\n{}",
                kill_phase_line(rate.connections, r.part, rounds)
            );
        }
    }
}

/// Under a limited table: where the kills fall in a round of N parts. An even limit keeps a
/// part-by-part tool's N workers in lockstep (the first trial's nginx log: all four
/// in-flight parts of every SDK and ossget had sent 0.2-0.7 MiB at a kill at exactly half
/// of 256 MiB), so the kill's phase within a round decides what such a tool loses; the
/// limited rounds spread their kills over a round (`kill_point`).
fn kill_phase_line(connections: u32, part: u64, rounds: usize) -> String {
    let round = u64::from(connections) * part;
    let phases: Vec<String> = (1..=rounds)
        .map(|k| format!("{:.0}%", (2 * k - 1) as f64 * 100.0 / (2 * rounds) as f64))
        .collect();
    format!(
        "Kill points: an even limit keeps the N workers of a part-by-part tool in lockstep, \
         finishing rounds of N × part = {} together, so where in a round a kill lands decides \
         what such a tool loses (at a round's start, almost nothing). Round k of {rounds} kills \
         at half the object plus (k − ½)/{rounds} of a round: {} into a round, an average \
         over where a kill at a random instant would land.",
        exact(round),
        phases.join(", ")
    )
}

/// Under a limited table: the rate each row saw up to the kill, so a reader can check
/// the limit held (start-up is in the time, so slow starters read low).
fn rate_seen_line(rate: RateLimit, rows: &[&ResumeCase]) -> String {
    let seen: Vec<String> = rows
        .iter()
        .map(|r| {
            let mib_s: Vec<f64> = r
                .samples
                .iter()
                .filter(|s| s.killed_after > 0.0)
                .map(|s| s.served_before as f64 / MIB / s.killed_after)
                .collect();
            format!(
                "{} {}",
                r.row.name,
                median(&mib_s).map_or("—".to_string(), |v| format!("{v:.0}"))
            )
        })
        .collect();
    format!(
        "Server rate seen up to the kill (MiB served before it ÷ seconds from start to kill, \
         start-up included; median; asked {:.0}): {}.",
        rate.total as f64 / MIB,
        seen.join(", ")
    )
}

fn ratios_marked(case: &Case, all: &[Case]) -> bool {
    case.row
        .columns
        .list()
        .iter()
        .any(|&col| ratios(case, col, all).part_unmatched)
}

/// The `output` cell of a row: `ok`, or how many runs failed and the start of the first
/// failure.
fn output_cell(failures: &[String]) -> String {
    match failures.first() {
        None => "ok".to_string(),
        Some(first) => {
            let short: String = first.chars().take(90).collect();
            format!("**{} failed**: {short}", failures.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::peers::by_name;
    use crate::bench::record::{resume_row, to_pretty};

    fn case(name: &str, threads: u32, part: u64, walls: &[f64]) -> Case {
        Case {
            section: Section::Main,
            row: by_name(name).unwrap(),
            size: 1 << 30,
            threads,
            part,
            command: name.to_string(),
            sync_command: "sync out".to_string(),
            samples: walls
                .iter()
                .map(|&wall| Sample {
                    wall,
                    sync: Some(1.0),
                    user: 0.5,
                    sys: 0.5,
                    rss_kib: 1024,
                    requests: None,
                    connections: None,
                    disk_beside: None,
                })
                .collect(),
            failures: vec![],
        }
    }

    /// Each durable run is read against the disk run beside it, never against another
    /// run's: the median of per-run ratios, in the table and the target line.
    #[test]
    fn durable_runs_are_read_against_the_disk_run_beside_them() {
        let mut ours = case("ossget", 4, 8 << 20, &[2.0, 5.0, 3.0]);
        // The disk was slow during the second run: 4.0 + 1.0 sync = 5.0 against 4.5.
        for (s, disk) in ours.samples.iter_mut().zip([2.5, 4.5, 3.2]) {
            s.disk_beside = Some(disk);
        }
        let ratios = ours.disk_beside_ratios();
        assert_eq!(ratios, vec![3.0 / 2.5, 6.0 / 4.5, 4.0 / 3.2]);
        assert_eq!(beside_cell(&ours), "1.25× (1.20×)");
        let all = vec![case("disk-durable-copy", 1, 8 << 20, &[1.0]), ours];
        let lines = disk_beside_lines(&all, 1 << 30);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].contains("**1.25×** median (per run: 1.20, 1.33, 1.25)"),
            "{}",
            lines[0]
        );
        // A row without paired runs has no cell and no line.
        let plain = case("ossget", 4, 8 << 20, &[2.0]);
        assert_eq!(beside_cell(&plain), "—");
        assert!(disk_beside_lines(&[plain], 1 << 30).is_empty());
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ratios_only_between_same_knobs_and_column() {
        let p = 8 << 20;
        let all = vec![
            case("loopback-ceiling", 4, p, &[0.5, 0.6]),
            case("disk-durable", 4, p, &[2.0]),
            case("disk-durable-copy", 4, p, &[2.5]),
            case("go-sdk", 4, p, &[1.5, 1.2]),
            case("go-sdk", 8, p, &[1.3]),
            case("rclone", 4, p, &[1.8]),
            case("curl", 4, p, &[1.6]),
            case("ossget-fast", 4, p, &[1.0]),
            case("ossget", 4, p, &[2.5]),
            case("ossget-1", 4, p, &[2.0]),
        ];
        let go4 = &all[3];
        let r = ratios(go4, Column::PageCache, &all);
        assert_eq!(r.to_limit, Some(1.2 / 0.5));
        assert_eq!(r.to_ossget, Some(1.2));
        // Durable: go-sdk + sync (2.2) against ossget durable (2.5 + 1.0 sync).
        let r = ratios(go4, Column::Durable, &all);
        assert_eq!(r.to_ossget, Some(2.2 / 3.5));
        assert_eq!(r.to_limit, Some(2.2 / 3.0));
        // No ossget at N=8: no ratio rather than a wrong one.
        assert_eq!(ratios(&all[4], Column::PageCache, &all).to_ossget, None);
        // rclone has no part knob: compared on N only, and marked.
        let r = ratios(&all[5], Column::PageCache, &all);
        assert_eq!((r.to_ossget, r.part_unmatched), (Some(1.8), true));
        // curl (one stream) meets ossget-1, not the 4-connection ossget.
        assert_eq!(
            ratios(&all[6], Column::PageCache, &all).to_ossget,
            Some(1.6 / 2.0)
        );
        // Limits have no ratios; a primary ossget row is not compared with itself.
        assert_eq!(ratios(&all[0], Column::PageCache, &all).to_limit, None);
        assert_eq!(ratios(&all[7], Column::PageCache, &all).to_ossget, None);
        // The durable limit is the faster limit row (dd of zeros 2.0 + sync 1.0 = 3.0
        // against the copy's 3.5).
        assert_eq!(
            limit_of(Column::Durable, 1 << 30, &all),
            Some(("disk-durable", 3.0))
        );
    }

    /// A resume row whose rounds re-fetched `server` MiB (counted at the server) with
    /// `queued` MiB in the kernel's queues at each kill (`None`: unreadable).
    fn resume(name: &str, rounds: &[(u64, Option<u64>)]) -> ResumeCase {
        let rerun = Sample {
            wall: 1.0,
            sync: None,
            user: 0.1,
            sys: 0.1,
            rss_kib: 1024,
            requests: None,
            connections: None,
            disk_beside: None,
        };
        ResumeCase {
            row: by_name(name).unwrap(),
            size: 64 << 20,
            threads: 4,
            part: 8 << 20,
            command: name.to_string(),
            rate: None,
            samples: rounds
                .iter()
                .map(|&(server, queued)| ResumeSample {
                    killed_after: 0.5,
                    killed_at_rchar: 32 << 20,
                    killed_at_wchar: 32 << 20,
                    served_before: (32 << 20) + (server << 20),
                    served_after: 32 << 20,
                    refetched: server << 20,
                    kernel_queued_at_kill: queued.map(|q| q << 20),
                    queues_read: 0.005,
                    rerun,
                })
                .collect(),
            failures: vec![],
        }
    }

    #[test]
    fn client_count_is_the_server_count_less_the_kernel_queues() {
        let r = resume("go-sdk", &[(20, Some(8)), (10, Some(12)), (30, None)]);
        let client: Vec<Option<u64>> = r.samples.iter().map(|s| s.refetched_client()).collect();
        // 10 − 12 saturates to 0 (the queue figure may overcount); unread queues: no figure.
        assert_eq!(client, vec![Some(12 << 20), Some(0), None]);
        assert_eq!(r.client_mib(), vec![12.0, 0.0]);
        assert_eq!(r.queued_mib(), vec![8.0, 12.0]);
        assert_eq!(r.server_mib(), vec![20.0, 10.0, 30.0]);
    }

    #[test]
    fn resume_table_reads_the_target_against_the_best_peer_by_client_count() {
        let rows = vec![
            // Median client 12 MiB, server 20 MiB.
            resume("ossget", &[(20, Some(8)), (22, Some(10)), (18, Some(6))]),
            // Client 24 (best peer), server 30.
            resume("go-sdk", &[(30, Some(6)), (30, Some(6)), (30, Some(6))]),
            // Server-counted it looks better than go-sdk (26), client-counted worse (26).
            resume("aria2c", &[(26, Some(0)), (26, Some(0)), (26, Some(0))]),
        ];
        let text = markdown("## t", &[64 << 20], &[], &rows, &[]);
        assert!(
            text.contains(
                "| ossget | 4 | 8MiB | 3/3 | 32 | 52 | 18.0 | 20.0 | 8.0 | 12.0 / 12.0 | 0/3 |"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| aria2c | 4 | 8MiB | 3/3 | 32 | 58 | 26.0 | 26.0 | 0.0 | 26.0 / 26.0 |"
            )
        );
        assert!(text.contains("best peer by the client-counted median is `go-sdk`, 24.0 MiB"));
        assert!(
            text.contains("`ossget` re-fetched 12.0 MiB, **0.50×** of it"),
            "{text}"
        );
        assert!(text.contains("Counted at the server: 20.0 against 30.0 MiB, 0.67×."));

        // No peer figure: no target line, and no division by a peer that saved it all.
        let text = markdown("## t", &[64 << 20], &[], &rows[..1], &[]);
        assert!(!text.contains("Target"));
        let zero = [rows[0].clone(), resume("oss2", &[(4, Some(4))])];
        let refs: Vec<&ResumeCase> = zero.iter().collect();
        let lines = resume_target_lines(&refs);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("`oss2`, 0.0 MiB; `ossget` re-fetched 12.0 MiB, **—**"));
    }

    #[test]
    fn limited_rounds_get_their_own_table_and_target_line() {
        let rate = RateLimit::split(64 << 20, 4).unwrap();
        let limited = |mut r: ResumeCase| {
            r.rate = Some(rate);
            r
        };
        let rows = vec![
            resume("ossget", &[(20, Some(8)), (22, Some(10)), (18, Some(6))]),
            resume("go-sdk", &[(30, Some(6)), (30, Some(6)), (30, Some(6))]),
            // At the limit: ossget 2 MiB by the client, go-sdk 16 (best peer), oss2 20.
            limited(resume(
                "ossget",
                &[(3, Some(1)), (2, Some(0)), (3, Some(1))],
            )),
            limited(resume(
                "go-sdk",
                &[(16, Some(0)), (17, Some(1)), (16, Some(0))],
            )),
            limited(resume(
                "oss2",
                &[(20, Some(0)), (20, Some(0)), (20, Some(0))],
            )),
        ];
        let text = markdown("## t", &[64 << 20], &[], &rows, &[]);
        let (unlimited, limited_text) = text
            .split_once(
                "### resume waste · 64MiB object · server limited to 64MiB/s total (nginx \
                 limit_rate 16MiB/s per request × N=4, limit_rate_after 0, sendfile_max_chunk \
                 167773, on a third logged server",
            )
            .unwrap_or_else(|| panic!("{text}"));
        // The unlimited table first, as before, with its own target line.
        assert!(unlimited.contains("### resume waste · 64MiB object (kill -9"));
        assert!(unlimited.contains("`ossget` re-fetched 12.0 MiB, **0.50×**"));
        assert!(!unlimited.contains("| oss2 |"));
        // The limited table: same columns, its rows only, target against its best peer.
        assert!(limited_text.contains("| row | N | part | ok/rounds | killed at MiB"));
        assert!(
            limited_text.contains(
                "| ossget | 4 | 8MiB | 3/3 | 32 | 35 | 2.0 | 3.0 | 1.0 | 2.0 / 2.0 | 0/3 |"
            ),
            "{limited_text}"
        );
        assert!(limited_text.contains("| oss2 | 4 | 8MiB | 3/3 |"));
        assert!(
            limited_text.contains("best peer by the client-counted median is `go-sdk`, 16.0 MiB")
        );
        assert!(limited_text.contains("`ossget` re-fetched 2.0 MiB, **0.12×** of it"));
        assert!(limited_text.contains("Counted at the server: 3.0 against 16.0 MiB, 0.19×."));
        assert_eq!(text.matches("Target (re-fetched bytes").count(), 2);
        // 35 MiB served before a kill 0.5 s in: 70 MiB/s; go-sdk 48: 96; oss2 52: 104.
        assert!(
            limited_text
                .contains("start-up included; median; asked 64): ossget 70, go-sdk 96, oss2 104."),
            "{limited_text}"
        );
        assert!(!unlimited.contains("Server rate seen"));
        // The kill points spread over a round of 4 × 8 MiB parts, one phase per round.
        assert!(
            limited_text.contains("N × part = 32MiB together"),
            "{limited_text}"
        );
        assert!(
            kill_phase_line(4, 8 << 20, 3)
                .contains("(k − ½)/3 of a round: 17%, 50%, 83% into a round")
        );
        assert!(kill_phase_line(4, 8 << 20, 1).contains(": 50% into a round"));

        // Only unlimited rows: one table, no rate in any title.
        let text = markdown("## t", &[64 << 20], &[], &rows[..2], &[]);
        assert!(!text.contains("server limited"));
        assert_eq!(text.matches("### resume waste").count(), 1);

        // The JSON row carries the rate; an unlimited row carries null.
        let json = to_pretty(&resume_row(&rows[2], "nginx")).unwrap();
        assert!(json.contains("\"total_bytes_per_s\": 67108864"), "{json}");
        assert!(json.contains("\"nginx_limit_rate_per_request_bytes_per_s\": 16777216"));
        assert!(json.contains("\"connections\": 4"));
        let json = to_pretty(&resume_row(&rows[0], "nginx")).unwrap();
        assert!(json.contains("\"server_rate_limit\": null"));
    }

    #[test]
    fn resume_json_has_both_counts() {
        let r = resume("ossget", &[(20, Some(8)), (22, None)]);
        let text = to_pretty(&resume_row(&r, "nginx")).unwrap();
        assert!(text.contains("\"kernel_queued_at_kill_bytes\": 8388608"));
        assert!(text.contains("\"kernel_queued_at_kill_bytes\": null"));
        assert!(text.contains("\"refetched_client_bytes\": 12582912"));
        assert!(text.contains("\"refetched_client_mib_median\": 12"));
        assert!(text.contains("\"refetched_mib_median\": 21"));
    }

    #[test]
    fn markdown_shows_failures_and_skips() {
        let mut bad = case("curl", 1, 8 << 20, &[1.0]);
        bad.failures
            .push("WRONG FILE: cmp finds it differs".to_string());
        let text = markdown(
            "## t",
            &[1 << 30],
            &[bad],
            &[],
            &[Skip {
                name: "oss2",
                reason: "no venv".to_string(),
            }],
        );
        assert!(text.contains("| curl | 1 | — | 1/2 |"));
        assert!(text.contains("**1 failed**: WRONG FILE"));
        assert!(text.contains("- `oss2`: no venv"));
    }
}
