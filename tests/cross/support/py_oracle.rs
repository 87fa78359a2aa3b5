//! The Python oracles' virtual environment: the official packages pinned in
//! `tests/oracle/requirements.txt`, installed under `target/py-oracle/venv` (created once,
//! reused while the requirements are unchanged). Every oracle test shares it, so making it is
//! serialised: two tests of this binary must not build it at the same time.
//!
//! It needs `python3` with `venv` and PyPI; `OSS_RESUME_SKIP_PY_ORACLE=1` skips the oracle
//! tests, loudly, on a machine without them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `target/` (this test binary is `target/<profile>/deps/cross-HASH`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace().join("target"))
}

/// Whether `OSS_RESUME_SKIP_PY_ORACLE=1` asks to skip `what` (said on stderr when it does).
pub fn skipped(what: &str) -> bool {
    let skip = std::env::var_os("OSS_RESUME_SKIP_PY_ORACLE").is_some_and(|v| v == "1");
    if skip {
        eprintln!("SKIPPED: {what} (OSS_RESUME_SKIP_PY_ORACLE=1)");
    }
    skip
}

/// The venv's python, with the pinned packages installed (once per requirements file).
pub fn python() -> PathBuf {
    static MAKING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = MAKING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let requirements = workspace().join("tests/oracle/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).unwrap();
    let venv = target_dir().join("py-oracle/venv");
    let python = venv.join("bin/python");
    let marker = venv.join("installed-requirements.txt");
    if python.is_file() && std::fs::read_to_string(&marker).ok().as_deref() == Some(&wanted) {
        return python;
    }
    let run = |cmd: &mut Command, what: &str| {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
        assert!(
            out.status.success(),
            "{what} failed (set OSS_RESUME_SKIP_PY_ORACLE=1 on a machine without python3-venv or PyPI):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let _ = std::fs::remove_dir_all(&venv);
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv",
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
        "pip install -r tests/oracle/requirements.txt",
    );
    std::fs::write(&marker, wanted).unwrap();
    python
}
