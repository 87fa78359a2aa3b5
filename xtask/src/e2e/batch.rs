//! kill -9 in a many-object batch: `ossget oss://e2e/batch/ DIR/` over 2,000 objects (1,500
//! of 16 KiB, 480 of 1 MiB, 19 of 100 KiB in nested directories, one large object of
//! `--size`), each round killed at up to three random instants and then run to the end.
//!
//! Each round must end with every file exact (size and CRC-64 against the emulator's), no
//! file outside DIR and no side file left inside it; an object the journal recorded before
//! a kill must never be downloaded again (the `--json` lines of the later runs say which
//! objects each run downloaded); and the bytes fetched beyond the objects' sizes must stay
//! within [`WASTE_PER_KILL`] per kill: what was in flight, never finished objects.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Ctx;
use super::ossget::{Kill, Outcome, Run, THREADS};
use super::report::Row;
use super::verify;
use crate::emulator::Head;
use crate::size::human;

/// The journal ossget keeps in DIR (crates/oss-resume, `batch::JOURNAL_NAME`).
const JOURNAL: &str = ".oss-batch-journal";
/// Kills per round, at most (then the round runs to its end).
const KILLS: usize = 3;
/// The part size of the batch's large object.
const PART: u64 = 8 << 20;
/// Bytes a kill may waste: every connection's part in flight, plus socket buffers on
/// loopback (tens of MiB, docs/crash-safety.md).
const WASTE_PER_KILL: u64 = THREADS * PART + (64 << 20);

/// The objects: `(pattern flag, keys, size of each)`.
fn patterns(ctx: &Ctx) -> Vec<(String, Vec<String>, u64)> {
    let mut out = Vec::new();
    for (prefix, lo, hi, width, size) in [
        ("batch/s-", 0u64, 1499u64, 4usize, 16u64 << 10),
        ("batch/m-", 0, 479, 3, 1 << 20),
        ("batch/d/e/f-", 0, 18, 2, 100 << 10),
    ] {
        let seed = ctx.content_seed(prefix);
        let flag = format!("e2e/{prefix}{{{lo:0width$}..{hi:0width$}}}={size},seed={seed}");
        let keys = (lo..=hi).map(|n| format!("{prefix}{n:0width$}")).collect();
        out.push((flag, keys, size));
    }
    out
}

/// Runs the scenario.
pub fn run(ctx: &Ctx, row: &mut Row) -> Result<(), String> {
    let big = ctx.object("batch/big.bin", ctx.opts.size);
    let patterns = patterns(ctx);
    let mut flags = Vec::new();
    for (flag, _, _) in &patterns {
        flags.push("--objects".to_owned());
        flags.push(flag.clone());
    }
    let emulator = ctx.start_emulator(std::slice::from_ref(&big), &flags)?;
    let mut keys: Vec<String> = patterns.iter().flat_map(|(_, k, _)| k.clone()).collect();
    keys.push(big.key.clone());
    let mut heads: BTreeMap<String, Head> = BTreeMap::new();
    for key in &keys {
        heads.insert(key.clone(), emulator.head(key)?);
    }
    let total: u64 = heads.values().map(|h| h.size).sum();
    eprintln!(
        "    {} objects, {} (one of {})",
        heads.len(),
        human(total),
        human(big.size)
    );
    let ossget = ctx.ossget_on(&emulator);
    let mut rng = ctx.rng("kill-9-batch");
    let mut worst_waste_per_kill = 0u64;
    for round in 0..ctx.opts.rounds {
        row.rounds += 1;
        let dir = ctx.dir(&format!("batch-{round}"))?;
        let dest = dir.join("out");
        let before = emulator.settled_stats()?;
        let mut journaled: BTreeSet<String> = BTreeSet::new();
        let mut kills = 0u64;
        let mut failures = Vec::new();
        let mut finished = false;
        for attempt in 0..=KILLS + 1 {
            let kill = if attempt < KILLS {
                // Early (listing, first objects) now and then, mostly anywhere in the run.
                let ms = if rng.chance(0.2) {
                    rng.range(5, 200)
                } else {
                    rng.range(200, 4000)
                };
                Kill::After(Duration::from_millis(ms))
            } else {
                Kill::Never
            };
            let run = Run {
                kill,
                // The harness passes --threads THREADS.
                ..Run::new("batch/", &dest).args(["--part-size", "8MiB"])
            };
            let outcome = ossget.run(&run)?;
            for key in downloaded(&outcome) {
                if journaled.contains(&key) {
                    failures.push(format!(
                        "{key} was downloaded again though the journal had it finished"
                    ));
                }
            }
            journaled.extend(journal_keys(&dest.join(JOURNAL)));
            if outcome.killed {
                kills += 1;
                continue;
            }
            if outcome.done() {
                finished = true;
                break;
            }
            // The first object that failed says why (its `--json` line).
            let first = outcome
                .stdout
                .lines()
                .find(|l| l.contains("\"status\":\"failed\""))
                .unwrap_or_default();
            failures.push(format!(
                "run {attempt} ended: {} {first}",
                outcome.describe()
            ));
            break;
        }
        if !finished && failures.is_empty() {
            failures.push("the batch did not finish".to_owned());
        }
        if finished {
            check_tree(&dir, &dest, &heads, &mut failures);
        }
        let fetched = emulator.settled_stats()?.since(&before).relayed;
        row.fetched += fetched;
        row.needed += total;
        let waste = fetched.saturating_sub(total);
        if let Some(per_kill) = waste.checked_div(kills) {
            worst_waste_per_kill = worst_waste_per_kill.max(per_kill);
        }
        if waste > kills * WASTE_PER_KILL {
            failures.push(format!(
                "{} fetched beyond the objects after {kills} kill(s), more than {} per kill",
                human(waste),
                human(WASTE_PER_KILL)
            ));
        }
        eprintln!(
            "    round {round}: {kills} kill(s), {} fetched for {}, {}",
            human(fetched),
            human(total),
            if failures.is_empty() { "ok" } else { "FAILED" }
        );
        if failures.is_empty() {
            row.passed += 1;
            let _ = std::fs::remove_dir_all(&dir);
        }
        for f in failures {
            row.fail(format!("round {round}: {f}"));
        }
    }
    row.note(format!(
        "worst waste per kill {} (bound {})",
        human(worst_waste_per_kill),
        human(WASTE_PER_KILL)
    ));
    Ok(())
}

/// The keys a run's `--json` lines say it downloaded.
fn downloaded(outcome: &Outcome) -> Vec<String> {
    outcome
        .stdout
        .lines()
        .filter(|l| l.contains("\"status\":\"downloaded\""))
        .filter_map(|l| {
            let at = l.find("\"key\":\"")? + 7;
            let end = at + l[at..].find('"')?;
            Some(l[at..end].to_owned())
        })
        .collect()
}

/// The keys in the journal: the last field of each record after the header, percent-decoded
/// (crates/oss-resume `batch/journal.rs`); a torn last line is ignored as ossget ignores it.
fn journal_keys(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let complete = text.rfind('\n').map_or("", |i| &text[..i]);
    complete
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(' ').next())
        .filter_map(percent_decode)
        .collect()
}

fn percent_decode(text: &str) -> Option<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(text.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Every object exact at `dest/KEY-without-batch/`, nothing else in `dest` but the journal
/// and directories, nothing in `dir` but `dest`.
fn check_tree(dir: &Path, dest: &Path, heads: &BTreeMap<String, Head>, failures: &mut Vec<String>) {
    for (key, head) in heads {
        let path = dest.join(key.trim_start_matches("batch/"));
        if let Err(e) = verify::exact(&path, head) {
            failures.push(e);
        }
    }
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let names: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            if names != ["out"] {
                failures.push(format!("beside the destination: {names:?}"));
            }
        }
        Err(e) => failures.push(format!("{}: {e}", dir.display())),
    }
    let expected: BTreeSet<PathBuf> = heads
        .keys()
        .map(|k| dest.join(k.trim_start_matches("batch/")))
        .chain([dest.join(JOURNAL)])
        .collect();
    let mut stack = vec![dest.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if !expected.contains(&path) {
                failures.push(format!("an unexpected file: {}", path.display()));
            }
        }
    }
}
