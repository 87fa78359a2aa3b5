//! `--links PROFILES`: the same nginx, reached through the emulator's chaos proxy playing a
//! real link (`oss-emulator --proxy-to NGINX --link PROFILE`; the model and its profiles are
//! in `docs/link-model.md`). On loopback every tool is near the disk's limit; on a link with
//! round trips, per-connection caps and stragglers, the number of connections and the tail
//! decide the time. Each profile: ossget with default flags (adaptive connections), ossget at
//! N = 4, 8, 16, and the peers at 4 and 16 connections; wall time, the share of the
//! profile's aggregate cap reached, CPU seconds per GiB.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::report::{Case, Section, median};
use crate::listening::Listening;
use crate::size::exact;

/// The profiles and their aggregate caps in MiB/s (`None`: no shared cap), as
/// `crates/oss-emulator/src/proxy/link.rs` defines them (`docs/link-model.md`).
pub const PROFILES: [(&str, Option<f64>); 4] = [
    ("lan", Some(1024.0)),
    ("region", Some(400.0)),
    ("cross-region", Some(200.0)),
    ("throttled", None),
];

/// The rows at their connection counts (`0`: the row's own default). Peers at 4 (most
/// tools' default neighbourhood) and 16 (as their users set them for speed; aria2c's most).
pub const ROWS: [(&str, u32); 14] = [
    ("ossget-default", 0),
    ("ossget-fast", 4),
    ("ossget-fast", 8),
    ("ossget-fast", 16),
    ("aria2c", 16),
    ("rclone", 4),
    ("rclone", 16),
    ("go-sdk", 4),
    ("go-sdk", 16),
    ("s5cmd", 16),
    ("oss2", 4),
    ("oss2", 16),
    ("oss-v2", 4),
    ("oss-v2", 16),
];

/// The profile's aggregate cap in MiB/s, or `Err` naming the known profiles.
pub fn cap_of(profile: &str) -> Result<Option<f64>, String> {
    PROFILES
        .iter()
        .find(|(p, _)| *p == profile)
        .map(|(_, cap)| *cap)
        .ok_or_else(|| {
            let names: Vec<&str> = PROFILES.iter().map(|(p, _)| *p).collect();
            format!(
                "--links: no profile `{profile}`; profiles: {}",
                names.join(", ")
            )
        })
}

/// The chaos proxy playing `profile` in front of the server on `upstream_port`, its
/// stragglers chosen by `seed` and the connection's number (accept order, from 1). The bench
/// starts a fresh one before every run with the round number as the seed: within a round
/// every row meets the same link — the same connections straggle, the aggregate cap starts
/// empty — and the rounds differ. (One proxy for the whole bench counted every earlier
/// row's connections, so whether a row met a straggler followed the rows before it.)
/// Returns the proxy and its port.
pub fn start_proxy(
    emulator: &Path,
    profile: &str,
    upstream_port: u16,
    seed: u64,
) -> Result<(Listening, u16), String> {
    let mut cmd = Command::new(emulator);
    cmd.args(["--listen", "127.0.0.1:0", "--seed", &seed.to_string()])
        .args(["--link", profile])
        .args(["--proxy-to", &format!("127.0.0.1:{upstream_port}")]);
    let proxy = Listening::start(cmd)?;
    let port = proxy
        .addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .ok_or_else(|| format!("proxy address {}", proxy.addr))?;
    Ok((proxy, port))
}

/// The section's table for objects of `size`; empty when it did not run.
pub fn markdown(cases: &[Case], size: u64) -> String {
    let mut out = String::new();
    let rows: Vec<&Case> = cases
        .iter()
        .filter(|c| matches!(c.section, Section::Links(_)) && c.size == size)
        .collect();
    if rows.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\n### links · {} object (nginx behind `oss-emulator --proxy-to --link PROFILE`; \
         docs/link-model.md; % cap = MiB/s at the median over the profile's aggregate cap)\n",
        exact(size)
    );
    let _ = writeln!(
        out,
        "| profile | row | N | ok/runs | min s | median s | MiB/s (median) | % cap | CPU s/GiB | requests | connections | output |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for case in rows {
        let Section::Links(profile) = case.section else {
            continue;
        };
        let times: Vec<f64> = case.samples.iter().map(|s| s.wall).collect();
        let med = median(&times);
        let rate = med.map(|m| size as f64 / 1048576.0 / m);
        let cap = cap_of(profile).ok().flatten();
        let cpu: Vec<f64> = case.samples.iter().map(|s| s.user + s.sys).collect();
        let connections: Vec<f64> = case
            .samples
            .iter()
            .filter_map(|s| s.connections.map(|c| c as f64))
            .collect();
        let runs = case.samples.len() + case.failures.len();
        let _ = writeln!(
            out,
            "| {profile} | {} | {} | {}/{runs} | {} | {} | {} | {} | {} | {} | {} | {} |",
            case.row.name,
            if case.threads == 0 {
                "default".to_string()
            } else {
                case.threads.to_string()
            },
            case.samples.len(),
            fixed(times.iter().copied().reduce(f64::min)),
            fixed(med),
            rate.map_or("—".to_string(), |r| format!("{r:.0}")),
            match (rate, cap) {
                (Some(r), Some(c)) => format!("{:.0}%", 100.0 * r / c),
                _ => "—".to_string(),
            },
            median(&cpu).map_or("—".to_string(), |c| format!(
                "{:.2}",
                c / (size as f64 / 1073741824.0)
            )),
            median(&case.requests()).map_or("—".to_string(), |r| format!("{r:.0}")),
            median(&connections).map_or("—".to_string(), |c| format!("{c:.0}")),
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
    out
}

fn fixed(v: Option<f64>) -> String {
    v.map_or("—".to_string(), |x| format!("{x:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::measure::Sample;
    use crate::bench::peers::by_name;

    #[test]
    fn every_row_exists_and_every_profile_is_known() {
        for (name, _) in ROWS {
            assert!(by_name(name).is_some(), "{name}");
        }
        assert_eq!(cap_of("region"), Ok(Some(400.0)));
        assert_eq!(cap_of("throttled"), Ok(None));
        assert!(cap_of("moon").unwrap_err().contains("cross-region"));
    }

    #[test]
    fn the_table_gives_the_share_of_the_cap() {
        let sample = |wall: f64| Sample {
            wall,
            sync: None,
            user: 0.25,
            sys: 0.25,
            rss_kib: 1024,
            requests: Some(40),
            connections: Some(8),
            disk_beside: None,
        };
        let case = Case {
            section: Section::Links("region"),
            row: by_name("ossget-default").unwrap(),
            size: 256 << 20,
            threads: 0,
            part: 8 << 20,
            command: "ossget".to_string(),
            sync_command: "sync out".to_string(),
            samples: vec![sample(1.0), sample(0.8), sample(2.0)],
            failures: vec![],
        };
        let text = markdown(&[case], 256 << 20);
        // 256 MiB in 1.0 s (the median) through a 400 MiB/s link: 64%; 0.5 CPU s per
        // quarter GiB: 2.00 s/GiB.
        assert!(
            text.contains("| region | ossget-default | default | 3/3 | 0.80 | 1.00 | 256 | 64% | 2.00 | 40 | 8 | ok |"),
            "{text}"
        );
        assert!(markdown(&[], 256 << 20).is_empty());
    }
}
