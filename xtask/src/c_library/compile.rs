//! Compiling C against the library with the system compiler: the header on its own (C99 and
//! C++11, warnings as errors), the examples and the API test, linked statically.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::step::{self, Failure};

/// The header's directory, relative to the workspace root.
pub const INCLUDE_DIR: &str = "crates/oss-resume-c/include";
/// The C examples' directory, relative to the workspace root.
pub const EXAMPLES_DIR: &str = "examples/c";
/// What the Rust standard library needs from the system when linked statically (as
/// `rustc --print native-static-libs` lists it on Linux; the Makefile says the same).
pub const SYSTEM_LIBS: &[&str] = &["-lpthread", "-ldl", "-lm"];
/// Warnings the examples and tests are compiled with (the header test adds `-pedantic`).
const WARNINGS: &[&str] = &["-Wall", "-Wextra", "-Werror"];

/// The C and C++ compilers (`$CC`/`$CXX`, else `cc`/`c++`), checked to run.
#[derive(Debug, Clone)]
pub struct Compilers {
    /// The C compiler.
    pub cc: String,
    /// The C++ compiler.
    pub cxx: String,
}

impl Compilers {
    /// Finds both, or says how to get them.
    pub fn find() -> Result<Self, Failure> {
        let pick = |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.into());
        let found = Self {
            cc: pick("CC", "cc"),
            cxx: pick("CXX", "c++"),
        };
        for (what, program) in [("C", &found.cc), ("C++", &found.cxx)] {
            let runs = Command::new(program)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            if !runs {
                return Err(Failure::new(
                    "c-library",
                    format!(
                        "no {what} compiler: `{program} --version` does not run. The C library's \
                         tests compile C and C++ with the system compiler; install one (Debian: \
                         `apt-get install gcc g++`) or point CC/CXX at it"
                    ),
                ));
            }
        }
        Ok(found)
    }
}

/// Whether the header compiles alone, as C99 and as C++11, with every warning an error.
pub fn header_alone(compilers: &Compilers, work: &Path) -> Result<(), Failure> {
    let root = step::workspace_root();
    let unit = work.join("header_alone.c");
    std::fs::write(&unit, "#include \"oss_resume.h\"\n")
        .map_err(|e| Failure::new("c-library", format!("writing {}: {e}", unit.display())))?;
    let include = root.join(INCLUDE_DIR);
    step::run(
        "c-library: header as C99",
        Command::new(&compilers.cc)
            .args(["-std=c99", "-pedantic", "-fsyntax-only"])
            .args(WARNINGS)
            .arg("-I")
            .arg(&include)
            .arg(&unit),
    )?;
    step::run(
        "c-library: header as C++11",
        Command::new(&compilers.cxx)
            .args(["-x", "c++", "-std=c++11", "-pedantic", "-fsyntax-only"])
            .args(WARNINGS)
            .arg("-I")
            .arg(&include)
            .arg(&unit),
    )
}

/// How one C program is built.
#[derive(Debug, Clone)]
pub struct Build<'a> {
    /// The source file.
    pub source: PathBuf,
    /// The executable to write.
    pub output: PathBuf,
    /// The static library (`liboss_resume_c.a`).
    pub library: &'a Path,
    /// `-D` definitions (`PART_SIZE=8388608`).
    pub defines: Vec<String>,
    /// Build with AddressSanitizer and UndefinedBehaviorSanitizer.
    pub sanitize: bool,
}

/// Compiles and links one program (C99, warnings as errors, the library linked statically).
pub fn program(compilers: &Compilers, build: &Build<'_>) -> Result<(), Failure> {
    let root = step::workspace_root();
    let mut cmd = Command::new(&compilers.cc);
    cmd.args(["-std=c99", "-O1", "-g", "-pthread"])
        .args(WARNINGS)
        .arg("-I")
        .arg(root.join(INCLUDE_DIR));
    if build.sanitize {
        cmd.args([
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ]);
    }
    for d in &build.defines {
        cmd.arg(format!("-D{d}"));
    }
    cmd.arg(&build.source)
        .arg(build.library)
        .args(SYSTEM_LIBS)
        .arg("-o")
        .arg(&build.output);
    let name = build
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    step::run(&format!("c-library: compile {name}"), &mut cmd)
}
