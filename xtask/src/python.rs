//! The Python package (`crates/oss-resume-py`): a venv under `target/py-venv` holding the
//! pinned tools of `crates/oss-resume-py/requirements-ci.txt` (maturin, pytest, oss2, from
//! PyPI), the wheel maturin builds, and pytest against the standalone emulator.
//!
//! `cargo xtask ci` runs [`ci_step`] after the Rust tests; `cargo xtask bench` builds a
//! release wheel with [`build_wheel`] and installs it into its own venv. Nothing is skipped
//! silently: without a usable `python3` the step fails and says what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::step::{self, Failure};

/// The crate maturin builds.
const MANIFEST: &str = "crates/oss-resume-py/Cargo.toml";
/// The pinned tools.
const REQUIREMENTS: &str = "crates/oss-resume-py/requirements-ci.txt";
/// The pytest suite.
const TESTS: &str = "crates/oss-resume-py/tests";
/// Beside the venv's python: the requirements file it was installed from, so a changed
/// file reinstalls and an unchanged one costs nothing.
const STAMP: &str = "requirements-ci.installed";

/// A Python virtual environment.
pub struct Venv {
    dir: PathBuf,
}

impl Venv {
    /// Its interpreter.
    pub fn python(&self) -> PathBuf {
        self.dir.join("bin/python")
    }

    /// A tool installed in it (`maturin`).
    fn tool(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }
}

/// Debug or release wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Cargo's dev profile: shares the dependencies the test step built, so CI is shorter.
    Debug,
    /// What users install and the bench measures.
    Release,
}

/// `cargo xtask python`: [`ci_step`] on its own.
pub fn run(args: &[String]) -> Result<(), Failure> {
    if let Some(extra) = args.first() {
        return Err(Failure::new(
            "arguments",
            format!("`cargo xtask python` takes no arguments (got `{extra}`)"),
        ));
    }
    ci_step()?;
    eprintln!("\n==> xtask python: all steps passed");
    Ok(())
}

/// `cargo xtask ci`'s `python` steps: the venv, the debug wheel, pytest.
pub fn ci_step() -> Result<(), Failure> {
    let venv = venv()?;
    let emulator = step::target_dir().join("debug/oss-emulator");
    // The test step built it (the emulator's integration tests need it); built here only
    // when this runs on its own.
    if !emulator.is_file() {
        step::run(
            "python: build oss-emulator",
            step::cargo().args(["build", "--locked", "-p", "oss-emulator"]),
        )?;
    }
    let wheel = build_wheel(&venv, Profile::Debug, &step::target_dir().join("py-wheels"))?;
    install_wheel("python: install wheel", &venv.python(), &wheel)?;
    let mut pytest = Command::new(venv.python());
    pytest
        .current_dir(step::workspace_root())
        .args(["-m", "pytest", TESTS, "-q", "-p", "no:cacheprovider"])
        .env("OSS_EMULATOR_BIN", &emulator)
        // No __pycache__ beside the sources.
        .env("PYTHONDONTWRITEBYTECODE", "1");
    step::run("python: pytest", &mut pytest)
}

/// `target/py-venv`, made and filled from the requirements file when missing or stale.
pub fn venv() -> Result<Venv, Failure> {
    let root = step::workspace_root();
    let venv = Venv {
        dir: step::target_dir().join("py-venv"),
    };
    let wanted = std::fs::read_to_string(root.join(REQUIREMENTS))
        .map_err(|e| Failure::new("python: venv", format!("cannot read {REQUIREMENTS}: {e}")))?;
    let stamp = venv.dir.join(STAMP);
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str())
        && venv.python().is_file()
    {
        return Ok(venv);
    }
    let python = system_python()?;
    if !venv.python().is_file() {
        step::run(
            "python: venv",
            Command::new(&python).arg("-m").arg("venv").arg(&venv.dir),
        )?;
    }
    step::run(
        "python: install tools",
        Command::new(venv.python())
            .current_dir(&root)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(["-r", REQUIREMENTS]),
    )?;
    std::fs::write(&stamp, wanted).map_err(|e| {
        Failure::new(
            "python: install tools",
            format!("cannot write {}: {e}", stamp.display()),
        )
    })?;
    Ok(venv)
}

/// `python3` from PATH (or `$PYTHON`), checked to be CPython >= 3.9 with venv and pip.
fn system_python() -> Result<PathBuf, Failure> {
    let python = std::env::var_os("PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    let check = "import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 9) else 1)";
    let usable = Command::new(&python)
        .args(["-c", check])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if usable {
        Ok(python)
    } else {
        Err(Failure::new(
            "python",
            format!(
                "`{}` is not a CPython >= 3.9 with venv and pip, which the Python package's \
                 build and tests need: install it (Debian: apt-get install python3 \
                 python3-venv python3-pip) or point $PYTHON at one",
                python.display()
            ),
        ))
    }
}

/// Builds the wheel into a fresh `out` directory and returns its path.
pub fn build_wheel(venv: &Venv, profile: Profile, out: &Path) -> Result<PathBuf, Failure> {
    const STEP: &str = "python: wheel";
    if out.exists() {
        std::fs::remove_dir_all(out)
            .map_err(|e| Failure::new(STEP, format!("cannot empty {}: {e}", out.display())))?;
    }
    let mut maturin = Command::new(venv.tool("maturin"));
    maturin
        .current_dir(step::workspace_root())
        .args(["build", "--locked", "-m", MANIFEST])
        .arg("-i")
        .arg(venv.python())
        .arg("--out")
        .arg(out);
    if profile == Profile::Release {
        maturin.arg("--release");
    }
    step::run(STEP, &mut maturin)?;
    let wheels: Vec<PathBuf> = std::fs::read_dir(out)
        .map_err(|e| Failure::new(STEP, format!("cannot list {}: {e}", out.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    match wheels.as_slice() {
        [wheel] => Ok(wheel.clone()),
        _ => Err(Failure::new(
            STEP,
            format!(
                "expected one wheel in {}, found {}",
                out.display(),
                wheels.len()
            ),
        )),
    }
}

/// `pip install --force-reinstall --no-deps WHEEL` with `python` (the package has no
/// dependencies; reinstalling replaces an older build of the same version).
pub fn install_wheel(name: &str, python: &Path, wheel: &Path) -> Result<(), Failure> {
    step::run(
        name,
        Command::new(python)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .args(["--force-reinstall", "--no-deps"])
            .arg(wheel),
    )
}
