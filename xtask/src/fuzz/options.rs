//! `cargo xtask fuzz` flags and the target catalogue.

/// The help text.
pub const USAGE: &str = "\
usage: cargo xtask fuzz [flags]

Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the parsers that read untrusted bytes,
on the nightly toolchain: builds the targets in fuzz/ (installing cargo-fuzz from crates.io
if it is missing), then runs each for a bounded time from its seed corpus
(fixtures/fuzz/TARGET/), replaying fixtures/fuzz/regressions/TARGET/ first. Prints a table
(time, runs, coverage, corpus) and exits non-zero on any crash, naming the reproducer and
the command that replays it. Not part of CI (it needs nightly); see fuzz/README.md.

flags:
  --time SECS          seconds per target                       (default 60)
  --only NAME[,NAME]   only these targets (see --list); repeatable
  --list               print the targets and what each checks, and exit
";

/// One fuzz target.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Its name: the binary in fuzz/Cargo.toml, and the folder of its corpora.
    pub name: &'static str,
    /// What it checks, for `--list`.
    pub checks: &'static str,
    /// libFuzzer's `-max_len`: the longest input worth trying (room for the seeds).
    pub max_len: usize,
}

/// Every target, in run order.
pub const TARGETS: &[Target] = &[
    Target {
        name: "ckpt_decode",
        checks: "oss-ckpt decode, versions 1-4 (whole files, and bodies sealed in each version): \
                 decode(encode(c)) == c, the versions agree",
        max_len: 32 * 1024,
    },
    Target {
        name: "oss_error_xml",
        checks: "oss-http's OSS error document parser, body and base64 x-oss-err: the same \
                 document either way, bounded, secrets redacted, re-render round trip",
        max_len: 16 * 1024,
    },
    Target {
        name: "http_headers",
        checks: "Content-Range and the ranged-GET check, Range text, HTTP dates (httpdate and \
                 oss-sign agree), human sizes, a HEAD header block: re-render round trips",
        max_len: 4096,
    },
    Target {
        name: "emulator_request",
        checks: "the emulator's HTTP/1.1 framer (split-invariant, every byte once) and a request \
                 through the model (auth, ranges, conditions): answers oss-http accepts",
        max_len: 8192,
    },
    Target {
        name: "ossget_args",
        checks: "ossget's oss:// URL, size, rate and --header parsers and a whole argv through \
                 clap and Job::prepare: round trips, no secret in an error",
        max_len: 4096,
    },
    Target {
        name: "client_response",
        checks: "oss-http's client (HEAD, a pinned ranged GET, HEAD after a clock correction) \
                 against scripted raw responses on loopback: exact delivery, CRC-64 of what \
                 the sink got, no secret in an error",
        max_len: 16 * 1024,
    },
];

/// What the flags asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Seconds per target.
    pub secs: u64,
    /// The targets to run, in catalogue order.
    pub targets: Vec<&'static str>,
    /// Print the catalogue and stop.
    pub list: bool,
}

/// Parses the flags; `Ok(None)` for `--help`.
pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut secs = 60;
    let mut only: Option<Vec<String>> = None;
    let mut list = false;
    let mut flags = crate::flags::Flags::new(args);
    while let Some(flag) = flags.next_flag() {
        let mut value = |name: &str| -> Result<String, String> {
            flags.value().ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--time" => {
                let v = value("--time")?;
                secs = v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--time {v}: expected whole seconds from 1"))?;
            }
            "--only" => {
                let v = value("--only")?;
                for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    if !TARGETS.iter().any(|t| t.name == name) {
                        return Err(format!("--only {name}: no such target (see --list)"));
                    }
                    only.get_or_insert_with(Vec::new).push(name.to_string());
                }
            }
            "--list" => list = true,
            other => return Err(format!("unknown flag `{other}`")),
        }
    }
    let targets = TARGETS
        .iter()
        .map(|t| t.name)
        .filter(|name| only.as_ref().is_none_or(|o| o.iter().any(|n| n == name)))
        .collect();
    Ok(Some(Options {
        secs,
        targets,
        list,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_and_flags() {
        let o = parse(&[]).unwrap().unwrap();
        assert_eq!(o.secs, 60);
        assert_eq!(o.targets.len(), TARGETS.len());
        let o = parse(&args(&["--time", "20", "--only=ossget_args,ckpt_decode"]))
            .unwrap()
            .unwrap();
        assert_eq!(o.secs, 20);
        // Catalogue order, whatever the order given.
        assert_eq!(o.targets, ["ckpt_decode", "ossget_args"]);
        assert!(parse(&args(&["--list"])).unwrap().unwrap().list);
        assert!(parse(&args(&["--help"])).unwrap().is_none());
    }

    #[test]
    fn bad_flags_are_named() {
        assert!(
            parse(&args(&["--time", "0"]))
                .unwrap_err()
                .contains("--time 0")
        );
        assert!(
            parse(&args(&["--time"]))
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            parse(&args(&["--only", "nope"]))
                .unwrap_err()
                .contains("nope")
        );
        assert!(parse(&args(&["--frob"])).unwrap_err().contains("--frob"));
    }

    #[test]
    fn the_catalogue_matches_fuzz_cargo_toml() {
        let manifest = include_str!("../../../fuzz/Cargo.toml");
        for target in TARGETS {
            let bin = format!("name = \"{}\"", target.name);
            assert!(
                manifest.contains(&bin),
                "{} is not a [[bin]] of fuzz/",
                target.name
            );
        }
        let bins = manifest.matches("[[bin]]").count();
        assert_eq!(bins, TARGETS.len(), "fuzz/ has targets the catalogue lacks");
    }

    #[test]
    fn every_target_has_seeds() {
        let root = crate::step::workspace_root();
        for target in TARGETS {
            let dir = root.join("fixtures/fuzz").join(target.name);
            let seeds = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .count();
            assert!(seeds > 0, "{} has no seeds", dir.display());
        }
    }
}
