//! kill -9: rounds of `ossget --checkpoint` on one object, each killed one to three times —
//! SIGKILL at a random point (mostly once it has read a random share of what is left, now
//! and then a few milliseconds after it starts) or an abort at a named failpoint — and then
//! run again until it finishes. Each round must end with the exact file and no side files,
//! after every kill the checkpoint must still hold an intact snapshot (a torn slot is fine
//! while another is intact) and the destination be absent or exact, and the bytes fetched
//! more than once must stay within oss-resume's documented bound.

use std::path::Path;
use std::time::Duration;

use super::Ctx;
use super::bound;
use super::busy::BusyDisk;
use super::ckpt;
use super::ossget::{Kill, Ossget, Outcome, Run, THREADS};
use super::report::Row;
use super::rng::Rng;
use super::verify;
use crate::emulator::{Emulator, Head};
use crate::paths::with_suffix;
use crate::size::human;

/// oss-resume's failpoints, in the order a durable download reaches them (crates/oss-resume
/// `failpoint::ALL`, checkpoint format versions 3 and 4, whose slots are the same).
pub const FAILPOINTS: [&str; 7] = [
    "ckpt-temp-written",
    "ckpt-slot-torn",
    "ckpt-slot-written",
    "mid-part",
    "data-synced",
    "parts-done",
    "dest-renamed",
];

/// SIGABRT: how a process dies at its failpoint.
const SIGABRT: i32 = 6;
/// SIGKILL.
const SIGKILL: i32 = 9;
/// The busy-disk scenario's smallest object.
const BUSY_MIN_SIZE: u64 = 512 << 20;
/// How overdue a commit must be for the busy-disk scenario to kill (10 times the commit
/// interval; the bound allows for 4).
const STALE: Duration = Duration::from_millis(100);
/// Runs allowed to finish a round after its planned kills (a failpoint that fires on the
/// resume as well, say, would loop forever without a cap).
const MAX_FINISHING_RUNS: usize = 3;

/// When a planned run is killed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Planned {
    /// Not by the harness (a failpoint aborts it, or it finishes).
    Never,
    /// This long after it starts: while it locks, HEADs, plans, loads the checkpoint.
    Early(Duration),
    /// Once it has written this share of the bytes still missing when it starts.
    Share(f64),
    /// When a checkpoint commit is this overdue while data is being written, or else once
    /// it has written half of what is missing.
    Stale(Duration),
}

impl Planned {
    /// The kill for a run with about `remaining` bytes left to fetch.
    pub fn resolve(self, remaining: u64) -> Kill {
        match self {
            Planned::Never => Kill::Never,
            Planned::Early(d) => Kill::After(d),
            Planned::Share(f) => Kill::AfterWriting(((remaining as f64 * f) as u64).max(1)),
            Planned::Stale(d) => Kill::WhenCommitStale(d, (remaining / 2).max(1)),
        }
    }
}

/// One planned run of a round.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// `OSS_RESUME_FAILPOINT` (`name` or `name:n`).
    pub failpoint: Option<String>,
    /// When the harness kills it.
    pub kill: Planned,
}

/// The failpoint a round arms first, if any: rounds 0..7 take each failpoint once (so even
/// a short run covers them all), later odd rounds cycle through them again, even rounds
/// only kill at random.
pub fn failpoint_of_round(round: u64) -> Option<&'static str> {
    let n = FAILPOINTS.len() as u64;
    if round < n {
        return FAILPOINTS.get(round as usize).copied();
    }
    if round % 2 == 1 {
        return FAILPOINTS.get(((round / 2) % n) as usize).copied();
    }
    None
}

/// `name[:n]` for a failpoint: for `ckpt-slot-torn` and `ckpt-slot-written`, reached by
/// every in-place save, the n-th hit drawn from the hits a download of `size` bytes is
/// likely to make (a cheap save every ~10 ms at ~700 MB/s), so that abort lands anywhere
/// in the download rather than always at its start. The others are reached about once a
/// run: `ckpt-temp-written` by the run's first, whole-file save; `mid-part` once, half
/// way; `data-synced` at the first data sync; the last two once.
pub fn armed(name: &str, size: u64, rng: &mut Rng) -> String {
    let likely_hits = match name {
        "ckpt-slot-torn" | "ckpt-slot-written" => size / 7_000_000 / 2,
        _ => 1,
    };
    let nth = rng.range(1, likely_hits.max(1));
    if nth == 1 {
        name.to_string()
    } else {
        format!("{name}:{nth}")
    }
}

/// A random kill: now and then early (0-40 ms after the start), mostly at a uniform share
/// (up to 95%) of what is left, so kills spread over the whole download.
pub fn random_kill(rng: &mut Rng) -> Planned {
    if rng.chance(0.15) {
        Planned::Early(Duration::from_millis(rng.range(0, 40)))
    } else {
        Planned::Share(rng.unit() * 0.95)
    }
}

/// The kills of round `round` (the runs after them are not planned: they run to the end).
pub fn plan_round(round: u64, size: u64, rng: &mut Rng) -> Vec<Step> {
    let kills = rng.range(1, 3);
    let mut steps = Vec::new();
    if let Some(fp) = failpoint_of_round(round) {
        steps.push(Step {
            failpoint: Some(armed(fp, size, rng)),
            kill: Planned::Never,
        });
    }
    while (steps.len() as u64) < kills {
        steps.push(Step {
            failpoint: None,
            kill: random_kill(rng),
        });
    }
    steps
}

/// Running totals over the rounds.
#[derive(Debug, Default)]
struct Totals {
    kills: u64,
    failpoints_fired: Vec<(String, u64)>,
    failpoints_unreached: u64,
    refetched: u64,
    bound: u64,
    worst_round: Option<(u64, u64, u64, u64)>, // (round, refetched, bound, kills)
    worst_per_kill: u64,
    max_in_flight: u64,
}

/// Runs the kill -9 scenario: `--rounds` rounds as [`plan_round`] plans them.
pub fn run(ctx: &Ctx, row: &mut Row) -> Result<(), String> {
    let size = ctx.opts.size;
    rounds(
        ctx,
        row,
        "kill-9",
        size,
        ctx.opts.rounds,
        false,
        |round, rng| plan_round(round, size, rng),
    )
}

/// Rounds on a busy disk (see [`super::busy`]): another writer fdatasyncs beside the
/// download, and the harness kills ossget at the worst instant — once no checkpoint commit
/// has landed for [`STALE`] while data keeps being written — or, if no commit is ever that
/// late, once half the object is written. The same bound applies: it is stated for a kill
/// at any instant.
pub fn run_busy_disk(ctx: &Ctx, row: &mut Row) -> Result<(), String> {
    let count = (ctx.opts.rounds / 10).clamp(2, 5);
    // Long enough for the other writer's syncs to bite (a 128 MiB download is over in
    // ~0.2 s).
    let size = ctx.opts.size.max(BUSY_MIN_SIZE);
    rounds(ctx, row, "kill-9-busy-disk", size, count, true, |_, _| {
        vec![Step {
            failpoint: None,
            kill: Planned::Stale(STALE),
        }]
    })
}

/// `count` rounds on one object, planned by `plan_of`, with a busy disk during the deaths
/// when `busy`; totals and notes into `row`.
fn rounds(
    ctx: &Ctx,
    row: &mut Row,
    label: &str,
    size: u64,
    count: u64,
    busy: bool,
    plan_of: impl Fn(u64, &mut Rng) -> Vec<Step>,
) -> Result<(), String> {
    let key = "kill.bin";
    let emu = ctx.start_emulator(&[ctx.object(key, size)], &[])?;
    let head = emu.head(key)?;
    let dir = ctx.dir(label)?;
    let dest = dir.join(key);
    let ossget = ctx.ossget_on(&emu);
    eprintln!(
        "    bound per kill = rate × (2 × {} ms + {} ms) + in flight at death (relayed to ossget in that run, not yet written by it: the docs' {} × ({} + {}) + socket buffers, measured)",
        bound::COMMIT_INTERVAL.as_millis(),
        bound::WRITE_LATENCY.as_millis(),
        THREADS,
        human(bound::BLOCK),
        human(bound::CHUNK)
    );
    let mut totals = Totals::default();
    for round in 0..count {
        row.rounds += 1;
        let mut rng = ctx.rng(&format!("{label}/{round}"));
        verify::clean(&dest);
        let plan = plan_of(round, &mut rng);
        match run_round(&ossget, &emu, &head, &dest, round, &plan, busy, &mut totals) {
            Ok(line) => {
                row.passed += 1;
                eprintln!("    round {round:>2}: {line}");
            }
            Err(e) => row.fail(format!("round {round}: {e}")),
        }
        row.needed += size;
        verify::clean(&dest);
    }
    row.fetched = row.needed + totals.refetched;
    let fired: Vec<String> = totals
        .failpoints_fired
        .iter()
        .map(|(n, k)| format!("{n}×{k}"))
        .collect();
    if totals.kills == 0 {
        row.note(format!(
            "no death planned came to pass in {} round(s) (for kill-9-busy-disk: no commit was ever {} ms overdue)",
            row.rounds,
            STALE.as_millis()
        ));
        return Ok(());
    }
    if fired.is_empty() && totals.failpoints_unreached == 0 {
        row.note(format!("{} kills", totals.kills));
    } else {
        row.note(format!(
            "{} kills ({} at failpoints: {}; {} armed failpoints not reached)",
            totals.kills,
            totals.failpoints_fired.iter().map(|(_, k)| k).sum::<u64>(),
            fired.join(" "),
            totals.failpoints_unreached
        ));
    }
    row.note(format!(
        "re-fetched {} in all, bound {} (Σ per kill)",
        human(totals.refetched),
        human(totals.bound)
    ));
    if let Some((r, re, b, k)) = totals.worst_round {
        row.note(format!(
            "worst round {r}: {} re-fetched over {k} kill(s), bound {} ({:.0}%)",
            human(re),
            human(b),
            100.0 * re as f64 / b.max(1) as f64
        ));
    }
    row.note(format!(
        "worst single-kill round: {} re-fetched; in flight at a death up to {} (the docs' per-worker term is {}, the rest sat in socket buffers)",
        human(totals.worst_per_kill),
        human(totals.max_in_flight),
        human(bound::per_worker(THREADS))
    ));
    Ok(())
}

/// A kill that happened, with what the bound needs.
struct KillRecord {
    /// The write rate just before death.
    rate: f64,
    /// Body bytes relayed to the run but not written by it when it died.
    in_flight: u64,
    /// How long before death the checkpoint was last committed (as sampled).
    commit_age: Option<Duration>,
}

/// One round: the planned deaths (each with a busy disk when `busy` is on), then plain runs
/// until done; the checks; a line for the log.
#[allow(clippy::too_many_arguments)]
fn run_round(
    ossget: &Ossget<'_>,
    emu: &Emulator,
    head: &Head,
    dest: &Path,
    round: u64,
    plan: &[Step],
    busy: bool,
    totals: &mut Totals,
) -> Result<String, String> {
    let size = head.size;
    let before = emu.settled_stats()?.relayed;
    let mut kills: Vec<KillRecord> = Vec::new();
    let mut story: Vec<String> = Vec::new();
    let mut finished = false;
    let mut after_failpoint: Option<String> = None;
    for step in plan {
        // What is left, roughly: the object less what was fetched so far this round.
        let run_start = emu.settled_stats()?.relayed;
        let fetched = run_start - before;
        let kill = step.kill.resolve(size.saturating_sub(fetched).max(1 << 20));
        let run = Run {
            failpoint: step.failpoint.clone(),
            kill,
            monitor: true,
            ..Run::new("kill.bin", dest).args(["--checkpoint"])
        };
        let writer = busy.then(|| BusyDisk::start(dest.parent().unwrap_or(dest)));
        let out = ossget.run(&run)?;
        drop(writer);
        check_lock_bug(ossget, &run, &out)?;
        match (out.code(), out.signal()) {
            (Some(0), _) if out.done() => {
                if let Some(fp) = &step.failpoint {
                    let name = fp.split(':').next().unwrap_or(fp);
                    if matches!(name, "parts-done" | "dest-renamed") {
                        return Err(format!(
                            "failpoint {name} was armed but the run finished without reaching it: is ossget built with --features failpoints? (`{}`)",
                            ossget.shell_line(&run)
                        ));
                    }
                    totals.failpoints_unreached += 1;
                    story.push(format!("{fp} not reached"));
                } else {
                    story.push("finished before the kill".into());
                }
                finished = true;
                break;
            }
            (None, Some(SIGKILL)) if out.killed => {
                story.push(match kill {
                    Kill::After(d) => format!("SIGKILL at {} ms", d.as_millis()),
                    Kill::WhenCommitStale(d, fallback) => match out.commit_age {
                        Some(age) if age >= d => {
                            format!("SIGKILL with a commit {} ms overdue", age.as_millis())
                        }
                        _ => format!(
                            "SIGKILL after {} written (no commit {} ms overdue before)",
                            human(fallback),
                            d.as_millis()
                        ),
                    },
                    Kill::AfterWriting(n) => format!("SIGKILL after {} written", human(n)),
                    Kill::Never => "SIGKILL".into(),
                });
            }
            (None, Some(SIGABRT)) if step.failpoint.is_some() => {
                let fp = step.failpoint.clone().unwrap_or_default();
                let name = fp.split(':').next().unwrap_or_default().to_string();
                match totals.failpoints_fired.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, k)) => *k += 1,
                    None => totals.failpoints_fired.push((name.clone(), 1)),
                }
                story.push(format!("abort at {fp}"));
                after_failpoint = Some(name);
            }
            _ => {
                return Err(format!(
                    "run ended unexpectedly ({}): `{}`",
                    out.describe(),
                    ossget.shell_line(&run)
                ));
            }
        }
        let relayed = emu.settled_stats()?.relayed.saturating_sub(run_start);
        kills.push(KillRecord {
            rate: out.rate,
            in_flight: relayed.saturating_sub(out.written),
            commit_age: out.commit_age,
        });
        let left = after_kill_checks(dest, head)?;
        // What an abort inside a checkpoint save left, for the log (a torn slot shows as
        // one fewer intact).
        if let (Some(name), Some(left)) = (&after_failpoint, left)
            && name.starts_with("ckpt-")
            && step.failpoint.is_some()
            && let Some(last) = story.last_mut()
        {
            last.push_str(&format!(" (left {left})"));
        }
    }
    let mut finishing = 0;
    while !finished {
        if finishing == MAX_FINISHING_RUNS {
            return Err(format!("not done after {MAX_FINISHING_RUNS} plain runs"));
        }
        finishing += 1;
        let run = Run {
            monitor: true,
            ..Run::new("kill.bin", dest).args(["--checkpoint"])
        };
        let out = ossget.run(&run)?;
        check_lock_bug(ossget, &run, &out)?;
        if !out.done() {
            return Err(format!(
                "the resuming run failed ({}): `{}`",
                out.describe(),
                ossget.shell_line(&run)
            ));
        }
        // What the run right after a late failpoint must (not) fetch.
        if finishing == 1 {
            match after_failpoint.as_deref() {
                Some("dest-renamed")
                    if out.json.checkpoint.as_deref() != Some("already-complete") =>
                {
                    return Err(format!(
                        "after an abort at dest-renamed the rerun said checkpoint {:?}, not already-complete",
                        out.json.checkpoint.as_deref()
                    ));
                }
                Some("parts-done" | "dest-renamed") if out.json.bytes_transferred != Some(0) => {
                    return Err(format!(
                        "after an abort at {} the rerun fetched {:?} bytes (everything was on disk)",
                        after_failpoint.unwrap_or_default(),
                        out.json.bytes_transferred
                    ));
                }
                _ => {}
            }
        }
        finished = true;
    }
    verify::finished_exactly(dest, head)?;
    let fetched = emu.settled_stats()?.relayed.saturating_sub(before);
    let refetched = fetched.saturating_sub(size);
    let bound: u64 = kills
        .iter()
        .map(|k| bound::per_kill(k.rate, k.in_flight))
        .sum();
    totals.kills += kills.len() as u64;
    for k in &kills {
        totals.max_in_flight = totals.max_in_flight.max(k.in_flight);
    }
    totals.refetched += refetched;
    totals.bound += bound;
    if kills.len() == 1 {
        totals.worst_per_kill = totals.worst_per_kill.max(refetched);
    }
    let ratio = |re: u64, b: u64| re as f64 / b.max(1) as f64;
    if totals
        .worst_round
        .is_none_or(|(_, re, b, _)| ratio(refetched, bound) > ratio(re, b))
    {
        totals.worst_round = Some((round, refetched, bound, kills.len() as u64));
    }
    let rates: Vec<String> = kills
        .iter()
        .map(|k| {
            let age = k.commit_age.map_or("no commit seen".to_string(), |a| {
                format!("last commit {} ms before", a.as_millis())
            });
            format!(
                "{:.0} MB/s, {} in flight, {age}",
                k.rate / 1e6,
                human(k.in_flight)
            )
        })
        .collect();
    let line = format!(
        "{}; re-fetched {} (bound {}; {})",
        story.join(", "),
        human(refetched),
        human(bound),
        rates.join("; ")
    );
    if refetched > bound {
        return Err(format!("re-fetched more than the bound: {line}"));
    }
    Ok(line)
}

/// A resumed run refused because the killed (and reaped) process "still holds the lock" is
/// a bug: the lock must die with its process.
fn check_lock_bug(ossget: &Ossget<'_>, run: &Run, out: &Outcome) -> Result<(), String> {
    if out.code() == Some(1) && out.message().contains("already being downloaded") {
        return Err(format!(
            "LOCK BUG: refused although the previous run was killed and reaped: {} (`{}`)",
            out.message(),
            ossget.shell_line(run)
        ));
    }
    Ok(())
}

/// After any kill: the checkpoint, if there is one, still holds an intact snapshot (a
/// whole-file save is renamed into place; an in-place save tears at most the slot it
/// writes, never the newest intact one), and the destination either does not exist or is
/// already exact (only a kill after the final rename leaves it).
/// Returns what the checkpoint holds ([`ckpt::describe`]), if there is one.
fn after_kill_checks(dest: &Path, head: &Head) -> Result<Option<String>, String> {
    let cp = with_suffix(dest, ".cp");
    let mut left = None;
    if let Ok(bytes) = std::fs::read(&cp) {
        ckpt::version(&bytes).map_err(|e| {
            format!(
                "a kill left no intact snapshot in the checkpoint {}: {e}",
                cp.display()
            )
        })?;
        left = Some(ckpt::describe(&bytes));
    }
    if dest.exists() {
        verify::exact(dest, head).map_err(|e| format!("after a kill: {e}"))?;
    }
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failpoint_in_the_first_seven_rounds_then_every_other_round() {
        let first: Vec<_> = (0..7).map(failpoint_of_round).collect();
        assert_eq!(first, FAILPOINTS.map(Some).to_vec());
        assert_eq!(failpoint_of_round(8), None);
        assert!(failpoint_of_round(7).is_some() && failpoint_of_round(9).is_some());
        let armed_rounds = (0..50).filter(|r| failpoint_of_round(*r).is_some()).count();
        // Rounds 0..7, then the odd rounds 7, 9, ... 49.
        assert_eq!(armed_rounds, 7 + 22);
        for fp in FAILPOINTS {
            let n = (0..50)
                .filter(|r| failpoint_of_round(*r) == Some(fp))
                .count();
            assert!(n >= 4, "{fp} armed in {n} rounds");
        }
    }

    #[test]
    fn plans_are_seeded_and_bounded() {
        let size = 1 << 30;
        let a = plan_round(9, size, &mut Rng::new(5));
        let b = plan_round(9, size, &mut Rng::new(5));
        assert_eq!(a, b);
        for round in 0..200 {
            let plan = plan_round(round, size, &mut Rng::new(round));
            assert!((1..=3).contains(&plan.len()), "{plan:?}");
            let armed_steps = plan.iter().filter(|s| s.failpoint.is_some()).count();
            assert_eq!(
                armed_steps,
                usize::from(failpoint_of_round(round).is_some())
            );
            // A failpoint run is never also killed by the harness.
            assert!(
                plan.iter()
                    .all(|s| s.failpoint.is_none() || s.kill == Planned::Never)
            );
        }
    }

    #[test]
    fn armed_failpoints_pick_a_hit_in_range() {
        let mut rng = Rng::new(1);
        for name in ["ckpt-slot-torn", "ckpt-slot-written"] {
            let mut highest = 1;
            for _ in 0..100 {
                let a = armed(name, 1 << 30, &mut rng);
                let (base, nth) = a.split_once(':').unwrap_or((&a, "1"));
                assert_eq!(base, name);
                let nth: u64 = nth.parse().unwrap();
                assert!((1..=76).contains(&nth), "{a}");
                highest = highest.max(nth);
            }
            assert!(highest > 38, "{name}: hits up to {highest} only");
            assert_eq!(armed(name, 16 << 20, &mut rng), name);
        }
        for _ in 0..100 {
            // Once a run: the first hit.
            for name in [
                "ckpt-temp-written",
                "mid-part",
                "data-synced",
                "dest-renamed",
            ] {
                assert_eq!(armed(name, 1 << 30, &mut rng), name);
            }
        }
    }

    #[test]
    fn random_kills_fall_inside_what_is_left() {
        let mut rng = Rng::new(2);
        let (mut early, mut late) = (0, 0);
        for _ in 0..1000 {
            match random_kill(&mut rng).resolve(100 << 20) {
                Kill::After(d) => {
                    assert!(d <= Duration::from_millis(40));
                    early += 1;
                }
                Kill::AfterWriting(n) => {
                    assert!((1..=95 << 20).contains(&n));
                    late += 1;
                }
                Kill::Never | Kill::WhenCommitStale(..) => unreachable!(),
            }
        }
        assert!(early > 50 && late > 700, "{early} early, {late} late");
        assert_eq!(Planned::Never.resolve(5), Kill::Never);
        let stale = Duration::from_millis(100);
        assert_eq!(
            Planned::Stale(stale).resolve(10),
            Kill::WhenCommitStale(stale, 5)
        );
        assert_eq!(Planned::Share(0.0).resolve(5), Kill::AfterWriting(1));
    }
}
