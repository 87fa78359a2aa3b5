//! `cargo xtask ci`: exactly what CI runs, in the order that fails fastest.
//!
//! Steps: fmt, clippy, package-dry-run, test, c-library (the C API from C, with the system
//! compiler: `crate::c_library`), python (the Python package: `crate::python`).

use crate::python;
use crate::step::{self, Failure};

/// Runs formatting, lint, packaging, test, C library and Python steps; stops at the first
/// failing step.
///
/// No step sets `RUSTFLAGS`: changing it between steps would rebuild everything.
pub fn run(args: &[String]) -> Result<(), Failure> {
    if let Some(extra) = args.first() {
        return Err(Failure::new(
            "arguments",
            format!("`cargo xtask ci` takes no arguments (got `{extra}`)"),
        ));
    }
    step::run("fmt", step::cargo().args(["fmt", "--all", "--", "--check"]))?;
    step::run(
        "clippy",
        step::cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // The publishable crates as crates.io would receive them: each manifest normalised (path
    // dependencies become registry ones, dev-dependencies without a version dropped), its
    // README and metadata, and a lock file resolved against the other packaged crates.
    // Excluded: the `publish = false` packages (oss-emulator, xtask, the tests crate, and
    // oss-resume-py, which ships as a Python wheel).
    // `--no-verify`: the packaged crates are not rebuilt (the next step builds them);
    // `--offline`: only the index entries the clippy step already fetched, never the network;
    // `--allow-dirty`: this checks packaging, not whether the work is committed.
    step::run(
        "package-dry-run",
        step::cargo().args([
            "package",
            "--workspace",
            "--exclude",
            "oss-emulator",
            "--exclude",
            "xtask",
            "--exclude",
            "oss-resume-tests",
            "--exclude",
            "oss-resume-py",
            "--no-verify",
            "--locked",
            "--offline",
            "--allow-dirty",
        ]),
    )?;
    // Unit, integration and doc tests of every crate (`--all-targets` would skip doctests).
    step::run(
        "test",
        step::cargo().args(["test", "--workspace", "--locked"]),
    )?;
    // The C library from C: header, examples, API test under the sanitizers, kill -9 and
    // resume; it reuses the test step's build of the library and the emulator.
    crate::c_library::ci_step()?;
    // The Python package: its wheel built in a venv under target/ and its pytest suite run
    // against the standalone emulator the test step built.
    python::ci_step()?;
    eprintln!("\n==> xtask ci: all steps passed");
    Ok(())
}
