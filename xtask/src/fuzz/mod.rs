//! `cargo xtask fuzz`: bounded cargo-fuzz runs of every target in `fuzz/`.
//!
//! The targets are a nightly-only cargo project of their own (`fuzz/Cargo.toml`, excluded
//! from the workspace), so nothing here touches the stable build. Each run:
//! - starts from the committed seeds (`fixtures/fuzz/TARGET/`) and the corpus earlier runs
//!   grew (`target/fuzz/corpus/TARGET/`, where new inputs go), and replays the regression
//!   inputs (`fixtures/fuzz/regressions/TARGET/`) as it loads;
//! - is bounded in time (`-max_total_time`), input length (`-max_len`), memory
//!   (`-rss_limit_mb`, and `-malloc_limit_mb` so one oversized allocation is a finding) and
//!   time per input (`-timeout`);
//! - is built with debug assertions (so arithmetic overflow panics) and without a sanitizer:
//!   the crates forbid `unsafe`, so AddressSanitizer would mostly halve the executions.
//!
//! libFuzzer's output goes to `target/fuzz/logs/TARGET.log`; the table gives each target's
//! runs, coverage and corpus, and a crash its reproducer (`target/fuzz/artifacts/TARGET/`)
//! and the command that replays it. Like every xtask task it depends on no workspace crate.

mod options;
mod stats;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use crate::step::{self, Failure};
use options::{Options, TARGETS, Target, USAGE};
use stats::Stats;

/// libFuzzer's limits that are the same for every target.
const RSS_LIMIT_MB: u32 = 2048;
const MALLOC_LIMIT_MB: u32 = 256;
const TIMEOUT_SECS: u32 = 10;

/// Runs the fuzz targets (see the module docs).
pub fn run(args: &[String]) -> Result<(), Failure> {
    let opts = match options::parse(args) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{USAGE}");
            return Ok(());
        }
        Err(problem) => {
            eprint!("{USAGE}");
            return Err(Failure::new("arguments", problem));
        }
    };
    if opts.list {
        for t in TARGETS {
            println!("{:<18} {}", t.name, t.checks);
        }
        return Ok(());
    }
    ensure_tools()?;
    let fuzz_target_dir = step::target_dir().join("fuzz");
    step::run(
        "fuzz-build",
        cargo_fuzz()
            .arg("build")
            .args(build_flags(&fuzz_target_dir)),
    )?;
    let rows: Vec<Row> = opts
        .targets
        .iter()
        .filter_map(|name| TARGETS.iter().find(|t| t.name == *name))
        .map(|target| fuzz_one(target, &opts, &fuzz_target_dir))
        .collect::<Result<_, _>>()?;
    print_table(&rows);
    let crashed: Vec<&Row> = rows.iter().filter(|r| r.failure.is_some()).collect();
    if crashed.is_empty() {
        eprintln!("\n==> xtask fuzz: no crash in {} target(s)", rows.len());
        return Ok(());
    }
    for row in &crashed {
        eprintln!(
            "\n{}: {}",
            row.name,
            row.failure.as_deref().unwrap_or_default()
        );
    }
    Err(Failure::new(
        "fuzz",
        format!(
            "{} target(s) crashed: {}",
            crashed.len(),
            crashed
                .iter()
                .map(|r| r.name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// `cargo fuzz build|run` flags: optimised, debug assertions on, no sanitizer (see the
/// module docs), built into `target_dir` (under the workspace's `target/`).
fn build_flags(target_dir: &Path) -> Vec<String> {
    vec![
        "--release".into(),
        "--debug-assertions".into(),
        "--sanitizer=none".into(),
        format!("--target-dir={}", target_dir.display()),
    ]
}

/// `cargo fuzz` on nightly, from the workspace root.
///
/// Through `rustup run nightly` rather than `cargo +nightly`: `$CARGO` (the stable cargo
/// that runs xtask) is not rustup's proxy. `CARGO`, `RUSTC` and `RUSTDOC` are cleared so
/// cargo-fuzz and the cargo it starts use nightly's, not the stable ones cargo exported to us.
fn cargo_fuzz() -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", "nightly", "cargo", "fuzz"])
        .current_dir(step::workspace_root())
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC");
    cmd
}

/// Nightly must be installed (we do not install toolchains); cargo-fuzz is installed from
/// crates.io when it is missing.
fn ensure_tools() -> Result<(), Failure> {
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !nightly.is_ok_and(|s| s.success()) {
        return Err(Failure::new(
            "nightly",
            "cargo-fuzz needs the nightly toolchain: rustup toolchain install nightly",
        ));
    }
    let has_cargo_fuzz = cargo_fuzz()
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_cargo_fuzz {
        step::run(
            "install-cargo-fuzz",
            step::cargo().args(["install", "--locked", "cargo-fuzz"]),
        )?;
    }
    Ok(())
}

/// What one target's run came to.
struct Row {
    name: &'static str,
    secs: f64,
    stats: Stats,
    /// The crash (reproducer and how to replay it), when there was one.
    failure: Option<String>,
}

fn fuzz_one(target: &Target, opts: &Options, target_dir: &Path) -> Result<Row, Failure> {
    let root = step::workspace_root();
    let corpus = target_dir.join("corpus").join(target.name);
    let artifacts = target_dir.join("artifacts").join(target.name);
    let logs = target_dir.join("logs");
    for dir in [&corpus, &artifacts, &logs] {
        fs::create_dir_all(dir).map_err(|e| {
            Failure::new(target.name, format!("cannot create {}: {e}", dir.display()))
        })?;
    }
    let seeds = root.join("fixtures/fuzz").join(target.name);
    let regressions = root.join("fixtures/fuzz/regressions").join(target.name);
    let log_path = logs.join(format!("{}.log", target.name));
    let log = fs::File::create(&log_path).map_err(|e| {
        Failure::new(
            target.name,
            format!("cannot create {}: {e}", log_path.display()),
        )
    })?;

    let flags = build_flags(target_dir);
    let mut cmd = cargo_fuzz();
    cmd.args(["run", target.name]).args(&flags).arg(&corpus);
    for dir in [&seeds, &regressions] {
        if dir.is_dir() {
            cmd.arg(dir);
        }
    }
    cmd.arg("--")
        .arg(format!("-max_total_time={}", opts.secs))
        .arg(format!("-max_len={}", target.max_len))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg(format!("-malloc_limit_mb={MALLOC_LIMIT_MB}"))
        .arg(format!("-timeout={TIMEOUT_SECS}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1")
        .stdout(Stdio::null())
        .stderr(log);
    eprintln!(
        "\n==> fuzz {} for {} s (log: {})",
        target.name,
        opts.secs,
        log_path.display()
    );
    let started = Instant::now();
    let since = SystemTime::now();
    let status = cmd
        .status()
        .map_err(|e| Failure::new(target.name, format!("could not start cargo fuzz: {e}")))?;
    let secs = started.elapsed().as_secs_f64();
    let text = fs::read_to_string(&log_path).unwrap_or_default();
    let stats = Stats::from_log(&text);
    let failure = if status.success() {
        None
    } else {
        let found = new_files(&artifacts, since);
        let tail: Vec<&str> = text.lines().rev().take(25).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let replay = match found.first() {
            Some(path) => format!(
                "reproducer: {}\nreplay:     cargo +nightly fuzz run {} {} {}\nminimise:   cargo +nightly fuzz tmin {} {} {}",
                path.display(),
                target.name,
                flags.join(" "),
                path.display(),
                target.name,
                flags.join(" "),
                path.display(),
            ),
            None => "no reproducer written (see the log)".to_owned(),
        };
        Some(format!(
            "cargo fuzz ended with {status}\n{replay}\nlog: {}\n--- last lines ---\n{}",
            log_path.display(),
            tail.join("\n")
        ))
    };
    eprintln!(
        "    {} runs, {} edges, {} corpus entries{}",
        stats.runs_text(),
        stats.cov_text(),
        stats.corpus_text(),
        if failure.is_some() { ", CRASHED" } else { "" }
    );
    Ok(Row {
        name: target.name,
        secs,
        stats,
        failure,
    })
}

/// Files in `dir` modified at or after `since` (the reproducers this run wrote).
fn new_files(dir: &Path, since: SystemTime) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since)
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<18} {:>7} {:>12} {:>9} {:>8} {:>8} {:>7}  result",
        "target", "secs", "runs", "runs/s", "edges", "features", "corpus"
    );
    for r in rows {
        println!(
            "{:<18} {:>7.0} {:>12} {:>9} {:>8} {:>8} {:>7}  {}",
            r.name,
            r.secs,
            r.stats.runs_text(),
            r.stats.rate_text(),
            r.stats.cov_text(),
            r.stats.features_text(),
            r.stats.corpus_text(),
            if r.failure.is_some() { "CRASH" } else { "ok" }
        );
    }
}
