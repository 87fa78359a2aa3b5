//! `cargo xtask e2e`: the crash and fault matrix, against real processes.
//!
//! Release `ossget` built with oss-resume's `failpoints` feature (into `target/e2e`, so it
//! never replaces the `target/release/ossget` that the demo and bench use) downloads
//! synthetic objects from the standalone `oss-emulator` (its chaos proxy in front) on
//! loopback. Every scenario ends with a file checked against the emulator's own CRC-64 of
//! the object, or with the error the docs promise; the proxy's counters say how many bytes
//! were fetched. Every random choice comes from one seed, printed first, so a failure
//! replays with `--seed`. See xtask/E2E.md.
//!
//! Like every xtask task it depends on no workspace crate.

mod batch;
mod bound;
mod busy;
mod ckpt;
mod credentials;
mod diskfull;
mod faults;
mod kill;
mod options;
mod ossget;
mod procfs;
mod report;
mod rng;
mod state;
pub(crate) mod verify;

use std::path::PathBuf;
use std::time::Instant;

use crate::emulator::{Emulator, ObjectArg, Setup};
use crate::step::{self, Failure};
use options::{Group, Options, SCENARIOS, Spec, USAGE};
use ossget::Ossget;
use report::Row;
use rng::Rng;

/// The bucket every scenario uses (public-read, so the harness HEADs without signing).
pub const BUCKET: &str = "e2e";
/// The credentials the emulator accepts and ossget signs with.
pub const ACCESS_KEY_ID: &str = "e2e-access-key-id";
/// See [`ACCESS_KEY_ID`].
pub const ACCESS_KEY_SECRET: &str = "e2e-access-key-secret";

/// What every scenario gets: the options, the binaries and a scratch directory.
pub struct Ctx {
    /// The options.
    pub opts: Options,
    /// `ossget` (with failpoints).
    pub ossget: PathBuf,
    /// `oss-emulator`.
    pub emulator: PathBuf,
    /// Where downloads go (`target/e2e/scratch-SEED`).
    pub scratch: PathBuf,
}

impl Ctx {
    /// A content seed for the object `label` (so each seed gives other bytes).
    pub fn content_seed(&self, label: &str) -> u64 {
        Rng::derive(self.opts.seed, &format!("content/{label}")).next_u64() >> 1
    }

    /// A random stream for `label`.
    pub fn rng(&self, label: &str) -> Rng {
        Rng::derive(self.opts.seed, label)
    }

    /// The object `key` of `size` bytes, content seeded by the key.
    pub fn object(&self, key: &str, size: u64) -> ObjectArg {
        ObjectArg {
            key: key.to_string(),
            size,
            seed: self.content_seed(key),
        }
    }

    /// Starts an emulator serving `objects` with fault flags `faults`.
    pub fn start_emulator(
        &self,
        objects: &[ObjectArg],
        faults: &[String],
    ) -> Result<Emulator, String> {
        let setup = Setup {
            bucket: BUCKET,
            access_key_id: ACCESS_KEY_ID,
            access_key_secret: ACCESS_KEY_SECRET,
            objects,
            flags: faults,
        };
        Emulator::start(&self.emulator, &setup)
    }

    /// The ossget under test, talking to `emulator`.
    pub fn ossget_on<'a>(&'a self, emulator: &'a Emulator) -> Ossget<'a> {
        Ossget {
            bin: &self.ossget,
            emulator,
        }
    }

    /// A fresh directory for scenario `name`.
    pub fn dir(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self.scratch.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(dir)
    }

    /// The command that replays scenario `name` with this seed and these knobs.
    pub fn replay(&self, name: &str) -> String {
        format!(
            "cargo xtask e2e --seed {} --size {} --rounds {} --only {name}",
            self.opts.seed, self.opts.size, self.opts.rounds
        )
    }
}

/// Runs e2e.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let Some(opts) =
        options::parse(args).map_err(|e| Failure::new("arguments", format!("{e}\n\n{USAGE}")))?
    else {
        print!("{USAGE}");
        return Ok(());
    };
    if opts.list {
        for s in SCENARIOS {
            let slow = if s.slow { " (slow)" } else { "" };
            println!("{:<22} {:<10} {}{slow}", s.name, s.group.name(), s.proves);
        }
        return Ok(());
    }
    let selected: Vec<&Spec> = SCENARIOS.iter().filter(|s| opts.selected(s)).collect();
    eprintln!(
        "e2e: seed {} ({} scenario(s), object {}, {} kill rounds); replay with `cargo xtask e2e --seed {}{}`",
        opts.seed,
        selected.len(),
        crate::size::human(opts.size),
        opts.rounds,
        opts.seed,
        if opts.quick { " --quick" } else { "" }
    );
    // A target dir of its own: the failpoints feature changes oss-resume's fingerprint, and
    // sharing target/release would rebuild ossget back and forth with the demo and bench.
    let target = step::target_dir().join("e2e");
    if !opts.no_build {
        step::run(
            "build",
            step::cargo_build_release_binaries()
                .args(["--features", "ossget/failpoints"])
                .env("CARGO_TARGET_DIR", &target),
        )?;
    }
    let ctx = Ctx {
        ossget: target.join("release/ossget"),
        emulator: target.join("release/oss-emulator"),
        scratch: target.join(format!("scratch-{}", opts.seed)),
        opts,
    };
    for bin in [&ctx.ossget, &ctx.emulator] {
        if !bin.is_file() {
            return Err(Failure::new(
                "binaries",
                format!("{} is missing; run without --no-build", bin.display()),
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&ctx.scratch);
    std::fs::create_dir_all(&ctx.scratch)
        .map_err(|e| Failure::new("scratch", format!("{}: {e}", ctx.scratch.display())))?;

    let started = Instant::now();
    let mut rows = Vec::new();
    for spec in selected {
        eprintln!("\n==> e2e `{}`: {}", spec.name, spec.proves);
        let t = Instant::now();
        let mut row = Row::new(spec.name);
        let result = match spec.group {
            Group::Kill if spec.name == "kill-9-busy-disk" => kill::run_busy_disk(&ctx, &mut row),
            Group::Kill if spec.name == "kill-9-batch" => batch::run(&ctx, &mut row),
            Group::Kill => kill::run(&ctx, &mut row),
            Group::Faults => faults::run(&ctx, spec.name, &mut row),
            Group::BadState => state::run(&ctx, spec.name, &mut row),
            Group::DiskFull => diskfull::run(&ctx, spec.name, &mut row),
            Group::Credentials => credentials::run(&ctx, spec.name, &mut row),
        };
        if let Err(e) = result {
            row.fail(format!("{e} (replay: {})", ctx.replay(spec.name)));
        } else if !row.failures.is_empty() {
            row.note(format!("replay: {}", ctx.replay(spec.name)));
        }
        row.secs = t.elapsed().as_secs_f64();
        eprintln!(
            "==> `{}`: {} in {:.1} s ({} of {} passed)",
            spec.name,
            match (&row.skipped, row.failures.is_empty()) {
                (Some(_), _) => "skipped",
                (None, true) => "passed",
                (None, false) => "FAILED",
            },
            row.secs,
            row.passed,
            row.rounds
        );
        rows.push(row);
    }
    if !ctx.opts.keep {
        let _ = std::fs::remove_dir_all(&ctx.scratch);
    }
    println!("\n{}", report::table(&rows));
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.failures.is_empty()).collect();
    println!(
        "e2e: seed {}, {} scenario(s) in {:.0} s, {} failed",
        ctx.opts.seed,
        rows.len(),
        started.elapsed().as_secs_f64(),
        failed.len()
    );
    if failed.is_empty() {
        return Ok(());
    }
    let mut detail = String::new();
    for r in &failed {
        for f in &r.failures {
            detail.push_str(&format!("\n  {}: {f}", r.name));
        }
    }
    Err(Failure::new(
        "e2e",
        format!(
            "{} scenario(s) failed: {}{detail}",
            failed.len(),
            failed.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
        ),
    ))
}
