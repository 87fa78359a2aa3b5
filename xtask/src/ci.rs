//! `cargo xtask ci`: exactly what CI runs, in the order that fails fastest.

use crate::step::{self, Failure};

/// Runs formatting, lint and test steps; stops at the first failing step.
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
    // Unit, integration and doc tests of every crate (`--all-targets` would skip doctests).
    step::run(
        "test",
        step::cargo().args(["test", "--workspace", "--locked"]),
    )?;
    eprintln!("\n==> xtask ci: all steps passed");
    Ok(())
}
