//! `cargo xtask bench` flags.

use super::rate_limit::RateLimit;
use crate::size::{GIB, MIB, exact, parse_size};

/// The help text of `cargo xtask bench`.
pub const USAGE: &str = "\
usage: cargo xtask bench [flags]

Measures ossget and the oss_resume Python package against their peers (OSS Go SDK, oss2,
alibabacloud-oss-v2, s5cmd, rclone, aria2c, curl) on one nginx on loopback, same file, same
N and part size, warm page cache.
Install the peers first: bash xtask/bench/install-peers.sh (a missing peer is skipped).
Writes target/bench/latest.json and prints Markdown tables.

flags:
  --size S[,S...]       object sizes, multiples of 1 MiB       (default 1GiB)
  --runs R              timed runs per row, interleaved        (default 5)
  --threads N[,N...]    connections; a list sweeps the peers that sweep (default 4)
  --part-size P[,P...]  part size; a list sweeps likewise      (default 8MiB)
  --only NAME[,NAME...] only these rows (see --list); limits always run
  --resume-runs K       kill -9 at 50% + rerun rounds per peer  (default 3, 0 = none)
  --resume-rate RATE    also K rounds with the server limited to RATE per second in all
                        (e.g. 100MiB: nginx limit_rate RATE/N per request, on PORT+2;
                        about SIZE/RATE seconds per round and row)   (default off)
  --timeout SECS        per-command limit (`timeout`)          (default 180)
  --port PORT           nginx port; PORT+1 serves the logged twin, PORT+2 the
                        rate-limited one                       (default 18080)
  --links P[,P...]      the links section instead of the main tables: the same nginx
                        behind the emulator's chaos proxy playing each link profile
                        (lan, region, cross-region, throttled, or all; see
                        docs/link-model.md): ossget default (auto), ossget N=4/8/16, peers at
                        4 and 16; no resume rounds
  --small-parts         also the small-parts section: ossget, the Go SDK and oss2 at
                        3 x 100KiB (the C SDK's example), 3 x 8MiB, 4 x 1MiB, 4 x 8MiB
  --many-objects        the many-objects section instead of the main tables: ossget
                        (fast, durable), rclone copy, s5cmd cp and a Python loop over
                        oss2 on 10,000 x 64KiB, 1,000 x 1MiB and 20 x 256MiB objects
                        from the emulator (public-read), --runs rounds (default 1
                        here), then 1,000,000 keys listed alone
  --many-scale F        scale the many-objects counts by F (0 < F <= 1) (default 1)
  --no-build            use target/release/ossget and the oss_resume wheel in the bench
                        venv as they are, build neither
  --quick               smoke test: --size 64MiB --runs 3 --resume-runs 1
  --list                print the row table (names, knobs, columns) and exit
";

/// The resolved options of one bench run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Object sizes in bytes (each a multiple of 1 MiB, for `dd bs=1M`).
    pub sizes: Vec<u64>,
    /// Timed runs per row.
    pub runs: usize,
    /// Connection counts; the first is the default every peer runs at.
    pub threads: Vec<u32>,
    /// Part sizes in bytes; the first is the default every peer runs at.
    pub part_sizes: Vec<u64>,
    /// Row names to run (limits always run); `None` = all.
    pub only: Option<Vec<String>>,
    /// Kill-and-resume rounds per resumable row.
    pub resume_runs: usize,
    /// `--resume-rate`: the server rate of a second set of resume rounds, split over the
    /// first `threads` value; `None` = only the unlimited rounds.
    pub resume_rate: Option<RateLimit>,
    /// Per-command timeout in seconds.
    pub timeout_secs: u64,
    /// nginx port for timed runs; `port + 1` is the logged twin, `port + 2` the
    /// rate-limited one when `resume_rate` is set.
    pub port: u16,
    /// Do not build ossget; use the binary that is there.
    pub no_build: bool,
    /// Run the small-parts section too.
    pub small_parts: bool,
    /// `--links`: the link profiles of the links section (empty: no links section).
    pub links: Vec<&'static str>,
    /// `--many-objects`: only the many-objects section.
    pub many_objects: bool,
    /// `--many-scale`: the many-objects counts' scale, in (0, 1].
    pub many_scale: f64,
    /// `--runs` was given (the many-objects section defaults to one round).
    pub runs_given: bool,
    /// Print the row table and exit.
    pub list: bool,
    /// `--quick` was given (recorded in the JSON).
    pub quick: bool,
}

/// Parses the arguments after `bench`. `Ok(None)` means `--help` was asked for.
pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut sizes = None;
    let mut runs = None;
    let mut threads = None;
    let mut part_sizes = None;
    let mut only = None;
    let mut resume_runs = None;
    let mut resume_rate = None;
    let mut timeout_secs = 180;
    let mut port = 18080;
    let mut no_build = false;
    let mut small_parts = false;
    let mut links: Vec<&'static str> = Vec::new();
    let mut list = false;
    let mut quick = false;
    let mut many_objects = false;
    let mut many_scale = 1.0;

    let mut flags = crate::flags::Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        let mut value = |name: &str| -> Result<String, String> {
            flags
                .value()
                .ok_or_else(|| format!("`{name}` needs a value (see `cargo xtask bench --help`)"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--size" => sizes = Some(list_of(&value(flag)?, parse_size_mib)?),
            "--runs" => runs = Some(parse_count(&value(flag)?, "--runs", 1)?),
            "--threads" => {
                threads = Some(list_of(&value(flag)?, |s| {
                    let n = parse_count(s, "--threads", 1)?;
                    u32::try_from(n).map_err(|_| format!("--threads {s} is too large"))
                })?)
            }
            "--part-size" => part_sizes = Some(list_of(&value(flag)?, parse_part_size)?),
            "--only" => {
                only = Some(
                    value(flag)?
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                )
            }
            "--resume-runs" => resume_runs = Some(parse_count(&value(flag)?, flag, 0)?),
            "--resume-rate" => resume_rate = Some(parse_rate(&value(flag)?)?),
            "--timeout" => timeout_secs = parse_count(&value(flag)?, flag, 1)? as u64,
            "--port" => {
                let v = value(flag)?;
                port = v
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0 && *p < u16::MAX)
                    .ok_or_else(|| format!("--port {v}: expected 1..65534"))?;
            }
            "--no-build" => no_build = true,
            "--small-parts" => small_parts = true,
            "--links" => {
                let v = value(flag)?;
                for name in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if name == "all" {
                        links = super::links::PROFILES.iter().map(|(p, _)| *p).collect();
                    } else {
                        super::links::cap_of(name)?;
                        if let Some((p, _)) =
                            super::links::PROFILES.iter().find(|(p, _)| *p == name)
                        {
                            links.push(p);
                        }
                    }
                }
            }
            "--many-objects" => many_objects = true,
            "--many-scale" => {
                let v = value(flag)?;
                many_scale = v
                    .parse::<f64>()
                    .ok()
                    .filter(|f| *f > 0.0 && *f <= 1.0)
                    .ok_or_else(|| format!("--many-scale {v}: expected a number in (0, 1]"))?;
            }
            "--quick" => quick = true,
            "--list" => list = true,
            other => {
                return Err(format!(
                    "unknown flag `{other}` (see `cargo xtask bench --help`)"
                ));
            }
        }
    }

    let sizes = sizes.unwrap_or_else(|| vec![if quick { 64 * MIB } else { GIB }]);
    let threads = threads.unwrap_or_else(|| vec![4]);
    let resume_rate = match resume_rate {
        None => None,
        Some(total) => {
            // Every resuming row runs at the first N (see Bench::run).
            let rate = RateLimit::split(total, threads.first().copied().unwrap_or(4))?;
            check_rate_fits(&rate, &sizes, timeout_secs, port)?;
            Some(rate)
        }
    };

    Ok(Some(Options {
        runs_given: runs.is_some(),
        many_objects,
        many_scale,
        sizes,
        runs: runs.unwrap_or(if quick { 3 } else { 5 }),
        threads,
        part_sizes: part_sizes.unwrap_or_else(|| vec![8 * MIB]),
        only,
        resume_runs: resume_runs.unwrap_or(if quick { 1 } else { 3 }),
        resume_rate,
        timeout_secs,
        port,
        no_build,
        small_parts,
        links,
        list,
        quick,
    }))
}

fn list_of<T>(text: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    let items = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse)
        .collect::<Result<Vec<T>, String>>()?;
    if items.is_empty() {
        return Err(format!("empty list `{text}`"));
    }
    Ok(items)
}

fn parse_count(text: &str, flag: &str, min: usize) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|n| *n >= min)
        .ok_or_else(|| format!("{flag} {text}: expected a whole number >= {min}"))
}

/// A size that is not zero (object sizes, part sizes, rates): [`parse_size`] and a check.
fn positive_size(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err(format!(
            "size `{}` is zero; give a positive size",
            text.trim()
        )),
        n => Ok(n),
    }
}

/// `--resume-rate`: a size per second, `100MiB` or `100MiB/s`.
fn parse_rate(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let size = t.strip_suffix("/s").unwrap_or(t);
    positive_size(size).map_err(|e| format!("--resume-rate: {e}"))
}

/// The limited rounds must be able to finish: the third server's port exists, and an
/// object moves at the limit within `--timeout` (the killed run reads half of it, the
/// rerun the other half plus what it re-fetches; either may be the one that waits).
fn check_rate_fits(
    rate: &RateLimit,
    sizes: &[u64],
    timeout_secs: u64,
    port: u16,
) -> Result<(), String> {
    if port > u16::MAX - 2 {
        return Err(format!(
            "--port {port}: --resume-rate also needs PORT+2; pick a port <= {}",
            u16::MAX - 2
        ));
    }
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let secs = largest as f64 / rate.effective_total() as f64;
    if secs > timeout_secs as f64 {
        return Err(format!(
            "--resume-rate {}: a {} object takes about {secs:.0} s at that rate, more than \
             --timeout {timeout_secs}; raise --timeout or pick a smaller --size",
            exact(rate.total),
            exact(largest)
        ));
    }
    Ok(())
}

fn parse_size_mib(text: &str) -> Result<u64, String> {
    let size = positive_size(text)?;
    if !size.is_multiple_of(MIB) {
        return Err(format!(
            "--size {text}: must be a whole number of MiB (the dd reference row writes 1 MiB blocks)"
        ));
    }
    Ok(size)
}

fn parse_part_size(text: &str) -> Result<u64, String> {
    let size = positive_size(text)?;
    if size > 5 * GIB {
        return Err(format!("--part-size {text}: OSS parts are at most 5 GiB"));
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
    fn sizes_parse_in_binary_units() {
        assert_eq!(positive_size("8MiB").unwrap(), 8 * MIB);
        assert_eq!(positive_size("8M").unwrap(), 8 * MIB);
        assert_eq!(positive_size("1GiB").unwrap(), GIB);
        assert_eq!(positive_size("4096").unwrap(), 4096);
        assert!(positive_size("0").is_err());
        assert!(positive_size("8XB").is_err());
        assert!(positive_size("MiB").is_err());
    }

    #[test]
    fn exact_sizes_round_trip() {
        for n in [1, 1000, 8 * MIB, 1536 * MIB, GIB, 4 * GIB] {
            assert_eq!(positive_size(&exact(n)).unwrap(), n);
        }
        assert_eq!(exact(1536 * MIB), "1536MiB");
    }

    #[test]
    fn defaults_and_quick() {
        let o = parse(&[]).unwrap().unwrap();
        assert_eq!((o.sizes.clone(), o.runs, o.resume_runs), (vec![GIB], 5, 3));
        assert_eq!(
            (o.threads.clone(), o.part_sizes.clone()),
            (vec![4], vec![8 * MIB])
        );
        let q = parse(&args(&["--quick"])).unwrap().unwrap();
        assert_eq!(
            (q.sizes.clone(), q.runs, q.resume_runs),
            (vec![64 * MIB], 3, 1)
        );
        // Explicit flags win over --quick, in any order.
        let q = parse(&args(&["--runs", "7", "--quick", "--size=1GiB"]))
            .unwrap()
            .unwrap();
        assert_eq!((q.sizes, q.runs), (vec![GIB], 7));
    }

    #[test]
    fn lists_and_errors() {
        let o = parse(&args(&["--threads", "1,4,8", "--part-size", "4MiB,32MiB"]))
            .unwrap()
            .unwrap();
        assert_eq!(o.threads, vec![1, 4, 8]);
        assert_eq!(o.part_sizes, vec![4 * MIB, 32 * MIB]);
        assert!(parse(&args(&["--size", "1000"])).is_err());
        assert!(parse(&args(&["--runs", "0"])).is_err());
        assert!(parse(&args(&["--threads"])).is_err());
        assert!(parse(&args(&["--bogus"])).is_err());
        assert!(parse(&args(&["--part-size", "6GiB"])).is_err());
        assert!(parse(&args(&["--help"])).unwrap().is_none());
    }

    #[test]
    fn resume_rate_is_off_by_default_and_split_over_the_first_n() {
        assert_eq!(parse(&[]).unwrap().unwrap().resume_rate, None);
        let o = parse(&args(&["--resume-rate", "100MiB"])).unwrap().unwrap();
        assert_eq!(
            o.resume_rate,
            Some(RateLimit {
                total: 100 * MIB,
                connections: 4,
                per_request: 25 * MIB
            })
        );
        // `/s` may be spelled; a list of N splits over the first, which the resume rows use.
        let o = parse(&args(&["--threads", "8,1", "--resume-rate=64MiB/s"]))
            .unwrap()
            .unwrap();
        let rate = o.resume_rate.unwrap();
        assert_eq!((rate.total, rate.connections), (64 * MIB, 8));
        assert_eq!(rate.per_request, 8 * MIB);
        // Flags in any order: the split uses the N given after it too.
        let o = parse(&args(&["--resume-rate", "64MiB", "--threads", "2"]))
            .unwrap()
            .unwrap();
        assert_eq!(o.resume_rate.unwrap().per_request, 32 * MIB);
    }

    #[test]
    fn resume_rate_errors() {
        assert!(parse(&args(&["--resume-rate"])).is_err());
        assert!(parse(&args(&["--resume-rate", "fast"])).is_err());
        assert!(parse(&args(&["--resume-rate", "0"])).is_err());
        // Below a byte per second per connection: nginx would not limit at all.
        assert!(parse(&args(&["--resume-rate", "3"])).is_err());
        // 1 GiB at 1 MiB/s is ~1024 s, over the default 180 s timeout...
        let slow = parse(&args(&["--resume-rate", "1MiB"])).unwrap_err();
        assert!(slow.contains("raise --timeout"), "{slow}");
        // ...but fine with a smaller object or a longer timeout.
        assert!(parse(&args(&["--resume-rate", "1MiB", "--size", "64MiB"])).is_ok());
        assert!(parse(&args(&["--resume-rate", "1MiB", "--timeout", "1100"])).is_ok());
        // PORT+2 must exist.
        assert!(parse(&args(&["--resume-rate", "64MiB", "--port", "65534"])).is_err());
        assert!(parse(&args(&["--port", "65534"])).is_ok());
    }
}
