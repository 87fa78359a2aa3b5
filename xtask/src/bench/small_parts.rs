//! `--small-parts`: the part size as the C SDK's users set it. Its documentation's example
//! uses 3 threads of 100 KB parts; a tool that sends a request per part then pays 10,486
//! requests for 1 GiB. ossget asks for runs of parts in one request (the part stays the unit
//! of its checkpoint), so its time should barely depend on the part size. This section runs
//! ossget and the SDK peers that take a part size at fixed (N, part size) pairs, from the
//! C SDK's example up, and reads two targets off the table: ossget at 3 × 100 KiB within
//! 1.2× of itself at 3 × 8 MiB, and at most a tenth as many requests as parts at 100 KiB.

use std::fmt::Write as _;

use super::peers::{Column, Group};
use super::report::{Case, Section, median};
use crate::size::exact;

/// The (N, part size) pairs: the C SDK's example, the same N at the default part size, and
/// 4 connections at 1 MiB and 8 MiB.
pub const KNOBS: [(u32, u64); 4] = [(3, 100 << 10), (3, 8 << 20), (4, 1 << 20), (4, 8 << 20)];

/// The rows: ossget in both modes, and the peers with a part-size knob that fetch a part
/// per request (the OSS Go SDK, oss2).
pub const ROWS: [&str; 4] = ["ossget-fast", "ossget", "go-sdk", "oss2"];

/// The section's table for objects of `size`, with its target lines; empty when it did not
/// run.
pub fn markdown(cases: &[Case], size: u64) -> String {
    let rows: Vec<&Case> = cases
        .iter()
        .filter(|c| c.section == Section::SmallParts && c.size == size)
        .collect();
    let mut out = String::new();
    if rows.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\n### small parts · {} object (the part size as the C SDK's example sets it; ossget's \
         requests from its --json; page cache for the peers and ossget-fast, durable (+ sync \
         OUT) for ossget)\n",
        exact(size)
    );
    let _ = writeln!(
        out,
        "| row | N | part | parts | ok/runs | column | min s | median s | MiB/s | requests (median) | connections | × ossget-fast | output |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &(threads, part) in &KNOBS {
        for case in rows
            .iter()
            .filter(|c| c.threads == threads && c.part == part)
        {
            let column = column_of(case);
            let times = case.times(column);
            let min = case.min(column);
            let fast = fast_min(&rows, threads, part);
            let connections: Vec<f64> = case
                .samples
                .iter()
                .filter_map(|s| s.connections.map(|c| c as f64))
                .collect();
            let runs = case.samples.len() + case.failures.len();
            let _ = writeln!(
                out,
                "| {} | {threads} | {} | {} | {}/{runs} | {} | {} | {} | {} | {} | {} | {} | {} |",
                case.row.name,
                exact(part),
                size.div_ceil(part),
                case.samples.len(),
                column.name(),
                secs(min),
                secs(median(&times)),
                min.map_or("—".to_string(), |m| format!(
                    "{:.0}",
                    size as f64 / 1048576.0 / m
                )),
                median(&case.requests()).map_or("—".to_string(), |r| format!("{r:.0}")),
                median(&connections).map_or("—".to_string(), |c| format!("{c:.0}")),
                match (min, fast) {
                    (Some(m), Some(f))
                        if column == Column::PageCache && case.row.name != "ossget-fast" =>
                    {
                        format!("{:.2}×", m / f)
                    }
                    _ => "—".to_string(),
                },
                match case.failures.first() {
                    None => "ok".to_string(),
                    Some(f) => format!(
                        "**{} failed**: {}",
                        case.failures.len(),
                        f.chars().take(90).collect::<String>()
                    ),
                },
            );
        }
    }
    for line in target_lines(&rows, size) {
        let _ = writeln!(out, "\n{line}");
    }
    out
}

/// The column a row is read in here: durable for ossget's durable row, page cache for the
/// others (the peers' own behaviour, against ossget-fast).
fn column_of(case: &Case) -> Column {
    if case.row.columns.list().contains(&Column::PageCache) {
        Column::PageCache
    } else {
        Column::Durable
    }
}

fn fast_min(rows: &[&Case], threads: u32, part: u64) -> Option<f64> {
    rows.iter()
        .find(|c| {
            c.row.name == "ossget-fast"
                && c.row.group == Group::Ours
                && c.threads == threads
                && c.part == part
        })
        .and_then(|c| c.min(Column::PageCache))
}

fn secs(v: Option<f64>) -> String {
    v.map_or("—".to_string(), |x| format!("{x:.2}"))
}

/// The targets: for each ossget row, 3 × 100 KiB against 3 × 8 MiB (min over min, same
/// column), and the requests at 100 KiB against the part count.
fn target_lines(rows: &[&Case], size: u64) -> Vec<String> {
    let (small, large) = (KNOBS[0], KNOBS[1]);
    let mut lines = Vec::new();
    for name in ["ossget-fast", "ossget"] {
        let find = |(n, p): (u32, u64)| {
            rows.iter()
                .find(|c| c.row.name == name && c.threads == n && c.part == p)
        };
        let Some(s) = find(small) else {
            continue;
        };
        let column = column_of(s);
        let large_min = find(large).and_then(|l| l.min(column));
        if let (Some(sm), Some(lm)) = (s.min(column), large_min) {
            lines.push(format!(
                "Target (3 × 100 KiB within 1.2× of 3 × 8 MiB, {} column): `{name}` {sm:.2} s \
                 against {lm:.2} s, **{:.2}×**.",
                column.name(),
                sm / lm
            ));
        }
        if let Some(requests) = median(&s.requests()) {
            let parts = size.div_ceil(small.1);
            lines.push(format!(
                "Target (requests at most a tenth of the parts at 100 KiB): `{name}` sent \
                 {requests:.0} GETs for {parts} parts, **1/{:.0}** of the part count.",
                parts as f64 / requests.max(1.0)
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::measure::Sample;
    use crate::bench::peers::by_name;

    fn case(name: &str, (threads, part): (u32, u64), wall: f64, requests: Option<u64>) -> Case {
        Case {
            section: Section::SmallParts,
            row: by_name(name).unwrap(),
            size: 1 << 30,
            threads,
            part,
            command: name.to_string(),
            sync_command: "sync out".to_string(),
            samples: vec![Sample {
                wall,
                sync: Some(0.1),
                user: 0.5,
                sys: 0.5,
                rss_kib: 1024,
                requests,
                connections: requests.map(|_| u64::from(threads)),
                disk_beside: None,
            }],
            failures: vec![],
        }
    }

    #[test]
    fn the_table_reads_both_targets_off_the_runs() {
        let cases = vec![
            case("ossget-fast", KNOBS[0], 1.1, Some(40)),
            case("ossget-fast", KNOBS[1], 1.0, Some(30)),
            case("go-sdk", KNOBS[0], 3.3, None),
            case("go-sdk", KNOBS[1], 1.5, None),
            case("ossget", KNOBS[0], 1.3, Some(41)),
        ];
        let text = markdown(&cases, 1 << 30);
        assert!(text.contains("### small parts · 1GiB object"), "{text}");
        // The Go SDK at 3 x 100 KiB against ossget-fast at the same knobs: 3.0x.
        assert!(
            text.contains("| go-sdk | 3 | 100KiB | 10486 | 1/1 | page cache | 3.30 |"),
            "{text}"
        );
        assert!(text.contains("| 3.00× | ok |"), "{text}");
        assert!(
            text.contains("`ossget-fast` 1.10 s against 1.00 s, **1.10×**"),
            "{text}"
        );
        assert!(
            text.contains("`ossget-fast` sent 40 GETs for 10486 parts, **1/262**"),
            "{text}"
        );
        // ossget durable: no 3 x 8 MiB run, so no ratio line; its requests still count.
        assert!(!text.contains("`ossget` 1.30 s"), "{text}");
        assert!(text.contains("`ossget` sent 41 GETs"), "{text}");
        // Main-section cases are not in this table; nothing at all without the section.
        assert!(markdown(&[], 1 << 30).is_empty());
    }
}
