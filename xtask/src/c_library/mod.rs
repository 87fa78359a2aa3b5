//! The C library as a C programmer meets it (`cargo xtask ci`'s step `c-library`, also
//! `cargo xtask c-library` alone): the header compiles alone as C99 and as C++11 with every
//! warning an error; the two C SDK examples of `examples/c/` and the C API test
//! (`crates/oss-resume-c/tests/c/api_test.c`) compile with the system compiler against the
//! static library; then, against the standalone `oss-emulator`:
//! - both examples download an object byte-exact, and one without credentials in its
//!   environment prints `download failed` naming the variable (where the C SDK's crash);
//! - the checkpointed example is killed with SIGKILL half-way and run again: byte-exact,
//!   and what the rerun fetched again stays within a stated bound ([`scenarios`]);
//! - the API test, built with `-fsanitize=address,undefined`: NULL and invalid arguments,
//!   a wrong secret, progress and response headers, one client on many threads,
//!   cancellation from a second thread and resume.
//!
//! It uses the library and emulator that `cargo test --workspace` built (asking cargo for
//! their paths), so after the `test` step it compiles nothing of Rust again.

pub mod compile;
mod scenarios;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use serde_json::Value;

use crate::step::{self, Failure};
use compile::{Build, Compilers};

/// What a C program links and what it runs against.
#[derive(Debug, Clone)]
pub struct Artifacts {
    /// `liboss_resume_c.a`.
    pub staticlib: PathBuf,
    /// The `oss-emulator` binary, when the build made one.
    pub emulator: Option<PathBuf>,
}

/// `cargo xtask c-library`: the same as the ci step, on its own.
pub fn run(args: &[String]) -> Result<(), Failure> {
    if let Some(extra) = args.first() {
        return Err(Failure::new(
            "arguments",
            format!("`cargo xtask c-library` takes no arguments (got `{extra}`)"),
        ));
    }
    ci_step()
}

/// The ci step: compile and run everything the module docs list.
pub fn ci_step() -> Result<(), Failure> {
    let started = Instant::now();
    eprintln!("\n==> xtask step `c-library`: the C header, examples and API test");
    let compilers = Compilers::find()?;
    // The artifacts of the test build: `cargo test --workspace` built them already in ci
    // (same features, so nothing is rebuilt); alone, this builds them.
    let artifacts = artifacts(step::cargo().args([
        "test",
        "--workspace",
        "--no-run",
        "--locked",
        "--message-format=json-render-diagnostics",
    ]))?;
    let emulator = artifacts
        .emulator
        .clone()
        .ok_or_else(|| Failure::new("c-library", "the test build listed no oss-emulator binary"))?;
    let work = fresh_dir(&step::target_dir().join("c-library"))?;

    compile::header_alone(&compilers, &work)?;
    let root = step::workspace_root();
    let programs = Programs {
        example: work.join("resumable_download"),
        example_checkpoint: work.join("resumable_download_checkpoint"),
        api_test: work.join("api_test_sanitized"),
    };
    for (source, output, sanitize) in [
        (
            root.join(compile::EXAMPLES_DIR)
                .join("resumable_download.c"),
            &programs.example,
            false,
        ),
        (
            root.join(compile::EXAMPLES_DIR)
                .join("resumable_download_checkpoint.c"),
            &programs.example_checkpoint,
            false,
        ),
        (
            root.join("crates/oss-resume-c/tests/c/api_test.c"),
            &programs.api_test,
            true,
        ),
    ] {
        compile::program(
            &compilers,
            &Build {
                source,
                output: output.clone(),
                library: &artifacts.staticlib,
                defines: Vec::new(),
                sanitize,
            },
        )?;
    }
    scenarios::run_all(&emulator, &programs, &work)?;
    let _ = std::fs::remove_dir_all(&work);
    eprintln!(
        "==> step `c-library` passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The compiled C programs.
#[derive(Debug, Clone)]
pub struct Programs {
    /// `examples/c/resumable_download.c`.
    pub example: PathBuf,
    /// `examples/c/resumable_download_checkpoint.c`.
    pub example_checkpoint: PathBuf,
    /// The API test, with the sanitizers.
    pub api_test: PathBuf,
}

/// Runs a cargo build command with `--message-format=json...` and picks the C library's
/// static library and the emulator binary out of its artifact messages.
pub fn artifacts(cmd: &mut std::process::Command) -> Result<Artifacts, Failure> {
    let name = "c-library: build";
    eprintln!("\n==> xtask step `{name}`: {cmd:?}");
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Failure::new(name, format!("could not run cargo: {e}")))?;
    if !out.status.success() {
        return Err(Failure {
            step: name.into(),
            detail: format!("cargo failed ({})", out.status),
            code: out.status.code(),
        });
    }
    let mut staticlib = None;
    let mut emulator = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        // Test harness builds (`profile.test`) of the same targets are listed too: skip
        // them, or the emulator's unit-test binary would pass for the emulator.
        if msg["reason"] != "compiler-artifact" || msg["profile"]["test"] == true {
            continue;
        }
        let target = &msg["target"]["name"];
        if target == "oss_resume_c" {
            staticlib = files(&msg["filenames"]).find(|f| f.extension().is_some_and(|e| e == "a"));
        } else if target == "oss-emulator"
            && let Some(exe) = msg["executable"].as_str()
        {
            emulator = Some(PathBuf::from(exe));
        }
    }
    let staticlib = staticlib.ok_or_else(|| {
        Failure::new(
            name,
            "cargo listed no liboss_resume_c.a (is `staticlib` still in crates/oss-resume-c's \
             crate-type?)",
        )
    })?;
    Ok(Artifacts {
        staticlib,
        emulator,
    })
}

fn files(list: &Value) -> impl Iterator<Item = PathBuf> + '_ {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(PathBuf::from)
}

/// An empty directory at `path`.
pub fn fresh_dir(path: &Path) -> Result<PathBuf, Failure> {
    let _ = std::fs::remove_dir_all(path);
    std::fs::create_dir_all(path).map_err(|e| {
        Failure::new(
            "c-library",
            format!("cannot create {}: {e}", path.display()),
        )
    })?;
    Ok(path.to_path_buf())
}
