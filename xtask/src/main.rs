//! The project's task runner: `cargo xtask <task>`.
//!
//! It depends on no workspace crate on purpose: it only runs cargo and the binaries
//! cargo builds, so it keeps working — and names the step that failed — when a
//! library crate does not compile. (Registry crates are fine: serde_json reads ossget's
//! `--json` and the emulator's `/-/stats` and writes the bench's results.) Where it does
//! the same job as a workspace crate — its CRC-64 ([`crc64`]) and its checkpoint reader
//! (`e2e::ckpt`) — the second implementation is an oracle that checks ours.

use std::process::ExitCode;

mod bench;
mod c_library;
mod ci;
mod crc64;
mod demo;
mod e2e;
mod emulator;
mod flags;
mod fuzz;
mod http;
mod listening;
mod ossget_json;
mod paths;
mod python;
mod size;
mod step;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  demo    a resumable 1 GiB download against a local OSS emulator: cuts, Ctrl-C, resume
  ci      what CI runs: cargo fmt --check, clippy -D warnings, the workspace tests, the
          C library's header, examples and API test (step c-library), the Python
          package's wheel and pytest suite
  c-library  the C library's step of ci alone (needs cc and c++)
  python  the Python package alone: its wheel (debug) in target/py-venv and its pytest
          suite (the last step of ci)
  bench   ossget against its peers on nginx/loopback (not in CI; --help for flags)
  e2e     crash and fault matrix: kill -9, faults, bad state, disk full (not in CI; --help)
  fuzz    cargo-fuzz runs of the parsers of untrusted bytes, on nightly (not in CI; --help)
  help    this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = args.first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match task.as_str() {
        "ci" => ci::run(rest),
        "c-library" => c_library::run(rest),
        "demo" => demo::run(rest),
        "python" => python::run(rest),
        "bench" => bench::run(rest),
        "e2e" => e2e::run(rest),
        "fuzz" => fuzz::run(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("xtask: unknown task `{other}`\n");
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("\nxtask {task}: FAILED: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
