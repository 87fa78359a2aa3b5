//! `cargo xtask e2e` flags and the scenario catalogue.

use std::time::{SystemTime, UNIX_EPOCH};

/// The help text.
pub const USAGE: &str = "\
usage: cargo xtask e2e [flags]

The crash and fault matrix: release ossget (built with oss-resume's failpoints) against the
standalone oss-emulator on loopback. Every download must end byte-identical to the
emulator's object (CRC-64/XZ against its x-oss-hash-crc64ecma) or fail with the error the
docs promise. Prints a table; exits non-zero naming every failure. Not part of CI.

flags:
  --seed N            seed for every random choice (default: from the clock; printed)
  --rounds N          kill -9 rounds                         (default 50)
  --size SIZE         object size, e.g. 1GiB, 256MiB        (default 1GiB)
  --only NAME[,NAME]  only these scenarios or groups (see --list); repeatable
  --quick             --rounds 6 --size 128MiB, and skip the 35 s stall-timeout scenario
                      unless --only names it (not just its group)
  --no-build          use target/e2e/release/{ossget,oss-emulator} as they are
  --keep              keep the scratch directory (target/e2e/scratch-SEED) afterwards
  --list              print the scenarios and what each proves, and exit
";

use crate::size::{GIB, MIB, parse_size};

/// A scenario group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// kill -9 at random instants and at failpoints.
    Kill,
    /// Network and service faults.
    Faults,
    /// Bad local state between runs.
    BadState,
    /// A full filesystem.
    DiskFull,
    /// Temporary credentials that expire during the download.
    Credentials,
}

impl Group {
    /// The name `--only` accepts.
    pub fn name(self) -> &'static str {
        match self {
            Group::Kill => "kill",
            Group::Faults => "faults",
            Group::BadState => "bad-state",
            Group::DiskFull => "disk-full",
            Group::Credentials => "credentials",
        }
    }
}

/// One scenario in the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Its name (a table row).
    pub name: &'static str,
    /// Its group.
    pub group: Group,
    /// What it proves, for `--list` and E2E.md.
    pub proves: &'static str,
    /// Takes over 30 s whatever the size (skipped by --quick unless named).
    pub slow: bool,
}

const fn spec(name: &'static str, group: Group, proves: &'static str) -> Spec {
    Spec {
        name,
        group,
        proves,
        slow: false,
    }
}

/// Every scenario, in run order.
pub const SCENARIOS: &[Spec] = &[
    spec(
        "kill-9",
        Group::Kill,
        "SIGKILL at random instants and at every failpoint, resumed until done: exact file, re-fetch within the bound",
    ),
    spec(
        "kill-9-busy-disk",
        Group::Kill,
        "another process fdatasyncs on the same disk; SIGKILL when a checkpoint commit is 100 ms overdue: the re-fetch bound must still hold",
    ),
    spec(
        "kill-9-batch",
        Group::Kill,
        "a 2,000-object batch (one large object) SIGKILLed at random instants, resumed until done: every file exact, nothing outside DIR, journaled objects never fetched again, waste per kill bounded",
    ),
    spec(
        "cut-every",
        Group::Faults,
        "every connection reset (RST) after N body bytes: retries resume inside parts, exact file",
    ),
    spec(
        "cut-every-fin",
        Group::Faults,
        "every connection closed (FIN) after N body bytes: short bodies detected, nothing fetched twice",
    ),
    spec(
        "cut-once",
        Group::Faults,
        "one cut at a random byte of the object: one retry, exact file",
    ),
    spec(
        "random-cuts",
        Group::Faults,
        "seeded random cuts of responses: exact file",
    ),
    spec(
        "stall-short",
        Group::Faults,
        "every connection pauses 2 s once: slow is not stalled (no retry), exact file",
    ),
    Spec {
        slow: true,
        ..spec(
            "stall-timeout",
            Group::Faults,
            "connections stall 35 s, past the 30 s body-stall timeout: retried on new connections, exact file",
        )
    },
    spec(
        "throttle",
        Group::Faults,
        "a link throttled by the proxy: no spurious stall retries, exact file",
    ),
    spec(
        "limit-rate",
        Group::Faults,
        "ossget --limit-rate: the whole download held to the rate, exact file",
    ),
    spec(
        "refuse",
        Group::Faults,
        "3 connections reset at accept: HEAD and parts retried, exact file",
    ),
    spec(
        "refuse-exhausted",
        Group::Faults,
        "every connection refused: exit 1 with a connection error once retries run out, no file",
    ),
    spec(
        "http-500",
        Group::Faults,
        "every 4th request 500 InternalError: retried, exact file",
    ),
    spec(
        "http-503",
        Group::Faults,
        "every 3rd request 503 ServiceUnavailable: retried, exact file",
    ),
    spec(
        "http-429",
        Group::Faults,
        "every 3rd request 429 QpsLimitExceeded: retried, exact file",
    ),
    spec(
        "503-exhausted",
        Group::Faults,
        "every request 503: exit 1 naming ServiceUnavailable after the retry budget, no file",
    ),
    spec(
        "403-permanent",
        Group::Faults,
        "a 403 AccessDenied mid-download: exit 1 at once naming AccessDenied, not retried, no file, checkpoint kept",
    ),
    spec(
        "replaced-fail",
        Group::Faults,
        "object replaced mid-run, --on-change fail: exit 1 'object changed', nothing stitched; the rerun gets the new version",
    ),
    spec(
        "replaced-restart",
        Group::Faults,
        "object replaced mid-run, --on-change restart: the new version, exact",
    ),
    spec(
        "ckpt-truncated",
        Group::BadState,
        "a truncated checkpoint: detected as corrupt, started over, exact file",
    ),
    spec(
        "ckpt-bitflip",
        Group::BadState,
        "one flipped bit in the checkpoint's newest snapshot: an older intact slot taken (or started over), exact file",
    ),
    spec(
        "ckpt-bitflip-all",
        Group::BadState,
        "one flipped bit in every snapshot of the checkpoint: detected as corrupt, started over, exact file",
    ),
    spec(
        "ckpt-foreign",
        Group::BadState,
        "another download's checkpoint at DEST.cp: refused (exit 1) and left intact; --restart then succeeds",
    ),
    spec(
        "ckpt-future",
        Group::BadState,
        "an intact checkpoint from a newer format: refused (exit 1) and left intact; --restart then succeeds",
    ),
    spec(
        "temp-truncated",
        Group::BadState,
        "the temp data file truncated between runs: started over, exact file",
    ),
    spec(
        "temp-deleted",
        Group::BadState,
        "the temp data file deleted between runs: started over (never a zero-filled file)",
    ),
    spec(
        "temp-replaced",
        Group::BadState,
        "the temp data file replaced by a same-length zero file: started over",
    ),
    spec(
        "temp-corrupted",
        Group::BadState,
        "a byte of the already-downloaded data flipped, no --verify-resume: the documented limit (no second read): resumed, and that byte is the file's only difference",
    ),
    spec(
        "temp-corrupted-verify",
        Group::BadState,
        "the same with --verify-resume: caught before resuming, started over, exact file",
    ),
    spec(
        "concurrent",
        Group::BadState,
        "a second run (and --no-checkpoint, --restart) on a destination in use: refused naming the holder; the first run's file is exact",
    ),
    spec(
        "disk-full",
        Group::DiskFull,
        "ENOSPC mid-download (--no-preallocate --no-space-check): exit 1 with a clear error; after freeing space the rerun resumes to an exact file",
    ),
    spec(
        "space-check",
        Group::DiskFull,
        "not enough free space, default flags: refused before any data is requested",
    ),
    Spec {
        slow: true,
        ..spec(
            "sts-refresh",
            Group::Credentials,
            "credentials from a RAM role profile (STS) living 20 s, a download throttled to ~90 s: refreshed ahead of expiry at least 4 times, exact file",
        )
    },
    Spec {
        slow: true,
        ..spec(
            "sts-refresh-kill",
            Group::Credentials,
            "the same, SIGKILL halfway: the resumed run assumes the role again and finishes exact",
        )
    },
];

/// The resolved options of one e2e run.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The seed.
    pub seed: u64,
    /// kill -9 rounds.
    pub rounds: u64,
    /// Object size.
    pub size: u64,
    /// Scenario or group names to run (`None`: all).
    pub only: Option<Vec<String>>,
    /// `--quick`.
    pub quick: bool,
    /// Do not build.
    pub no_build: bool,
    /// Keep the scratch directory.
    pub keep: bool,
    /// Print the catalogue and exit.
    pub list: bool,
}

impl Options {
    /// Whether the scenario `spec` runs.
    pub fn selected(&self, spec: &Spec) -> bool {
        // --quick skips the slow ones unless they are named themselves.
        let quick_ok = !(self.quick && spec.slow);
        match &self.only {
            Some(names) => names
                .iter()
                .any(|n| n == spec.name || (n == spec.group.name() && quick_ok)),
            None => quick_ok,
        }
    }
}

/// Parses the arguments after `e2e`. `Ok(None)` means `--help`.
pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut seed = None;
    let mut rounds = None;
    let mut size = None;
    let mut only: Option<Vec<String>> = None;
    let mut quick = false;
    let mut no_build = false;
    let mut keep = false;
    let mut list = false;
    let mut flags = crate::flags::Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        let mut value = |name: &str| -> Result<String, String> {
            flags.value().ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--seed" => {
                let v = value("--seed")?;
                seed = Some(
                    v.parse()
                        .map_err(|_| format!("--seed {v}: expected a whole number"))?,
                );
            }
            "--rounds" => {
                let v = value("--rounds")?;
                rounds = Some(
                    v.parse::<u64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("--rounds {v}: expected a number from 1"))?,
                );
            }
            "--size" => size = Some(object_size(&value("--size")?)?),
            "--only" => {
                let v = value("--only")?;
                for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let known = SCENARIOS
                        .iter()
                        .any(|s| s.name == name || s.group.name() == name);
                    if !known {
                        return Err(format!(
                            "--only {name}: no such scenario or group (see --list)"
                        ));
                    }
                    only.get_or_insert_with(Vec::new).push(name.to_string());
                }
            }
            "--quick" => quick = true,
            "--no-build" => no_build = true,
            "--keep" => keep = true,
            "--list" => list = true,
            other => return Err(format!("unknown flag `{other}`")),
        }
    }
    let seed = seed.unwrap_or_else(clock_seed);
    Ok(Some(Options {
        seed,
        rounds: rounds.unwrap_or(if quick { 6 } else { 50 }),
        size: size.unwrap_or(if quick { 128 * MIB } else { GIB }),
        only,
        quick,
        no_build,
        keep,
        list,
    }))
}

fn clock_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_000)
        .unwrap_or(1)
}

/// `--size`: `1GiB`, `256MiB`, `16777216`; at least 16 MiB (smaller objects have too few
/// parts for kills and faults to land inside the download).
fn object_size(text: &str) -> Result<u64, String> {
    let size = parse_size(text).map_err(|e| format!("--size {e}"))?;
    if size < 16 * MIB {
        return Err(format!("--size {text}: use at least 16MiB"));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_are_the_issues() {
        let o = parse(&args(&["--seed", "7"])).unwrap().unwrap();
        assert_eq!((o.seed, o.rounds, o.size), (7, 50, GIB));
        assert!(o.only.is_none() && !o.quick && !o.no_build);
        assert!(SCENARIOS.iter().all(|s| o.selected(s)));
    }

    #[test]
    fn quick_and_explicit_values() {
        let o = parse(&args(&["--quick", "--seed=3"])).unwrap().unwrap();
        assert_eq!((o.rounds, o.size), (6, 128 * MIB));
        let stall = SCENARIOS
            .iter()
            .find(|s| s.name == "stall-timeout")
            .unwrap();
        assert!(!o.selected(stall));
        let o = parse(&args(&["--quick", "--rounds", "2", "--size", "64MiB"]))
            .unwrap()
            .unwrap();
        assert_eq!((o.rounds, o.size), (2, 64 * MIB));
        let o = parse(&args(&["--quick", "--only", "stall-timeout"]))
            .unwrap()
            .unwrap();
        assert!(o.selected(stall));
        let o = parse(&args(&["--quick", "--only", "faults"]))
            .unwrap()
            .unwrap();
        assert!(!o.selected(stall));
        let o = parse(&args(&["--only", "faults"])).unwrap().unwrap();
        assert!(o.selected(stall));
    }

    #[test]
    fn only_takes_scenarios_and_groups() {
        let o = parse(&args(&["--only", "cut-once,bad-state", "--only=kill"]))
            .unwrap()
            .unwrap();
        let names: Vec<&str> = SCENARIOS
            .iter()
            .filter(|s| o.selected(s))
            .map(|s| s.name)
            .collect();
        assert!(names.contains(&"cut-once") && names.contains(&"kill-9"));
        assert!(names.contains(&"ckpt-future") && names.contains(&"concurrent"));
        assert!(names.contains(&"ckpt-bitflip") && names.contains(&"ckpt-bitflip-all"));
        assert!(!names.contains(&"cut-every") && !names.contains(&"disk-full"));
        assert!(
            parse(&args(&["--only", "nope"]))
                .unwrap_err()
                .contains("nope")
        );
    }

    #[test]
    fn bad_flags_are_named() {
        assert!(parse(&args(&["--rounds", "0"])).is_err());
        assert!(
            parse(&args(&["--rounds"]))
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(parse(&args(&["--seed", "x"])).is_err());
        assert!(parse(&args(&["--frob"])).unwrap_err().contains("--frob"));
        assert!(parse(&args(&["--help"])).unwrap().is_none());
    }

    #[test]
    fn sizes() {
        assert_eq!(object_size("1GiB"), Ok(GIB));
        assert_eq!(object_size("256mib"), Ok(256 * MIB));
        assert_eq!(object_size("16777216"), Ok(16 * MIB));
        assert!(object_size("1MiB").is_err());
        assert!(object_size("12XB").is_err());
        assert!(object_size("GiB").is_err());
    }

    #[test]
    fn scenario_names_are_unique() {
        let mut names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SCENARIOS.len());
    }
}
