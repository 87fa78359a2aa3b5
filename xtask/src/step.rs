//! Running one named step (a child process) and reporting how it ended.

use std::fmt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Why a task stopped: the step that failed and how.
#[derive(Debug)]
pub struct Failure {
    /// The step's name as printed in the log, e.g. `clippy`.
    pub step: String,
    /// What went wrong, in words.
    pub detail: String,
    /// The child's exit code when it had one (propagated as ours).
    pub code: Option<i32>,
}

impl Failure {
    /// A failure that is not a child's exit status (bad arguments, missing tools...).
    pub fn new(step: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            step: step.into(),
            detail: detail.into(),
            code: None,
        }
    }

    /// The exit code xtask should end with: the child's own when it fits, else 1.
    pub fn exit_code(&self) -> u8 {
        match self.code {
            Some(code) if (1..=255).contains(&code) => code as u8,
            _ => 1,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step `{}` {}", self.step, self.detail)
    }
}

/// The cargo that invoked us (so `cargo +toolchain xtask` stays on that toolchain).
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root());
    cmd
}

/// `cargo build --release --locked -p ossget -p oss-emulator`: the two binaries the demo,
/// the e2e matrix and the bench run; callers add packages, features or a target dir.
pub fn cargo_build_release_binaries() -> Command {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "--locked",
        "-p",
        "ossget",
        "-p",
        "oss-emulator",
    ]);
    cmd
}

/// The workspace root: xtask's manifest directory's parent.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (a relative one taken from the workspace
/// root, where [`cargo`] runs), else `target/` under the root.
pub fn target_dir() -> PathBuf {
    let root = workspace_root();
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"))
}

/// Runs `cmd` as the step `name`: prints the step and its command line, inherits
/// stdout/stderr, and turns a non-zero exit into a [`Failure`] naming the step.
pub fn run(name: &str, cmd: &mut Command) -> Result<(), Failure> {
    let shown = describe(cmd);
    eprintln!("\n==> xtask step `{name}`: {shown}");
    let started = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| Failure::new(name, format!("could not start `{shown}`: {e}")))?;
    let secs = started.elapsed().as_secs_f64();
    if status.success() {
        eprintln!("==> step `{name}` passed in {secs:.1} s");
        Ok(())
    } else {
        Err(Failure {
            step: name.to_string(),
            detail: format!("failed after {secs:.1} s ({status}): `{shown}`"),
            code: status.code(),
        })
    }
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
