//! Network and service faults, one emulator per scenario with the fault on its command
//! line: each download either completes with the exact file (retries doing their job) or
//! fails the way the docs promise (exit 1, the OSS code in the message, no file).

use std::time::Duration;

use super::Ctx;
use super::ossget::{Outcome, Run};
use super::report::Row;
use super::verify;
use crate::emulator::{Emulator, Stats};
use crate::paths::with_suffix;
use crate::size::human;

/// oss-http's default body-stall timeout (no byte for 30 s), which ossget does not expose.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// oss-http's default attempts per part (or HEAD) without progress (RetryPolicy: faults).
const MAX_ATTEMPTS: u64 = 6;
/// oss-http's default attempts per part (or HEAD) that OSS throttles, 503 throttling codes
/// and 429, without progress (ThrottlePolicy: at most 211.5 s of backoff).
const THROTTLE_ATTEMPTS: u64 = 16;
/// Part size ossget uses by default.
const PART: u64 = 8 << 20;

/// Runs the fault scenario `name`.
pub fn run(ctx: &Ctx, name: &str, row: &mut Row) -> Result<(), String> {
    let size = ctx.opts.size;
    let parts = size.div_ceil(PART);
    let mut rng = ctx.rng(name);
    let key = format!("{name}.bin");
    let object = ctx.object(&key, size);
    let dir = ctx.dir(name)?;
    let dest = dir.join(&key);
    let f = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let n = |v: u64| v.to_string();
    // Completes: (emulator flags, ossget flags, check, and the OSS code a run may fail with
    // when a part's retries run out — after which the same command must resume).
    type Check = fn(&Outcome, &Stats, u64, &mut Row) -> Result<(), String>;
    let (faults, args, check, may_run_out): (Vec<String>, Vec<String>, Check, Option<&str>) =
        match name {
            "cut-every" => (
                f(&["--cut-every-connection-after", &n((size / 10).max(1 << 20))]),
                f(&[]),
                |out, st, size, row| {
                    need_fault(st.proxy_fault("cut"), "cut")?;
                    need_retries(out)?;
                    row.note(format!(
                        "{} cuts (RST), {} retries, {} fetched twice",
                        st.proxy_fault("cut"),
                        retries(out),
                        human(st.relayed.saturating_sub(size))
                    ));
                    Ok(())
                },
                None,
            ),
            "cut-every-fin" => (
                f(&[
                    "--cut-every-connection-after",
                    &n((size / 10).max(1 << 20)),
                    "--cut-mode",
                    "fin",
                ]),
                f(&[]),
                |out, st, size, row| {
                    need_fault(st.proxy_fault("cut"), "cut")?;
                    need_retries(out)?;
                    row.note(format!(
                        "{} cuts (FIN), {} retries",
                        st.proxy_fault("cut"),
                        retries(out)
                    ));
                    // Every relayed byte reached the client: a part resumes from the exact byte
                    // it had, so nothing may be fetched twice.
                    if st.relayed != size {
                        return Err(format!(
                            "{} fetched for a {} object: transient errors re-fetched {} (the docs: nothing)",
                            st.relayed,
                            size,
                            human(st.relayed.saturating_sub(size))
                        ));
                    }
                    Ok(())
                },
                None,
            ),
            "cut-once" => (
                f(&["--cut-once-at", &n(rng.range(1, size))]),
                f(&[]),
                |out, st, size, row| {
                    if st.proxy_fault("cut") != 1 {
                        return Err(format!(
                            "{} cuts, expected exactly 1",
                            st.proxy_fault("cut")
                        ));
                    }
                    row.note(format!(
                        "1 cut, {} retries, {} fetched twice",
                        retries(out),
                        human(st.relayed.saturating_sub(size))
                    ));
                    Ok(())
                },
                None,
            ),
            "random-cuts" => (
                f(&[
                    "--random-cut",
                    &format!("{:.4}", (6.0 / parts as f64).min(0.5)),
                    "--seed",
                    &n(rng.next_u64() >> 1),
                ]),
                f(&[]),
                |out, st, _, row| {
                    row.note(format!(
                        "{} random cuts, {} retries",
                        st.proxy_fault("cut"),
                        retries(out)
                    ));
                    if st.proxy_fault("cut") > 0 {
                        need_retries(out)?;
                    }
                    Ok(())
                },
                None,
            ),
            "stall-short" => (
                f(&["--stall-after", &n(size / 8), "--stall-secs", "2"]),
                f(&[]),
                |out, st, _, row| {
                    need_fault(st.proxy_fault("stall"), "stall")?;
                    if retries(out) != 0 {
                        return Err(format!(
                            "{} retries: a 2 s pause was taken for a stall (the timeout is 30 s)",
                            retries(out)
                        ));
                    }
                    if out.elapsed < Duration::from_secs(2) {
                        return Err(format!("done in {:?}, under the 2 s stall", out.elapsed));
                    }
                    row.note(format!(
                        "{} stalls of 2 s, 0 retries, {:.1} s",
                        st.proxy_fault("stall"),
                        out.elapsed.as_secs_f64()
                    ));
                    Ok(())
                },
                None,
            ),
            "stall-timeout" => (
                f(&["--stall-after", &n(size / 5), "--stall-secs", "35"]),
                f(&[]),
                |out, st, _, row| {
                    need_fault(st.proxy_fault("stall"), "stall")?;
                    need_retries(out)?;
                    if out.elapsed < STALL_TIMEOUT {
                        return Err(format!(
                            "done in {:?}: faster than the stall timeout, so no stall was detected",
                            out.elapsed
                        ));
                    }
                    row.note(format!(
                        "{} stalls of 35 s, {} retries after the 30 s stall timeout, {:.1} s",
                        st.proxy_fault("stall"),
                        retries(out),
                        out.elapsed.as_secs_f64()
                    ));
                    Ok(())
                },
                None,
            ),
            "throttle" => (
                f(&["--throttle", &n(size / 3)]),
                f(&[]),
                |out, _, size, row| {
                    if retries(out) != 0 {
                        return Err(format!(
                            "{} retries on a slow but steady link",
                            retries(out)
                        ));
                    }
                    row.note(format!(
                        "proxy at {}/s: {:.1} s, 0 retries",
                        human(size / 3),
                        out.elapsed.as_secs_f64()
                    ));
                    Ok(())
                },
                None,
            ),
            "limit-rate" => (
                f(&[]),
                f(&["--limit-rate", &n(size / 3)]),
                |out, _, size, row| {
                    let want = 3.0 * 0.85;
                    if out.elapsed.as_secs_f64() < want {
                        return Err(format!(
                            "--limit-rate {}: done in {:.2} s, under {want:.2} s",
                            size / 3,
                            out.elapsed.as_secs_f64()
                        ));
                    }
                    row.note(format!(
                        "--limit-rate {}/s: {:.1} s (≥ {want:.2} s)",
                        human(size / 3),
                        out.elapsed.as_secs_f64()
                    ));
                    Ok(())
                },
                None,
            ),
            "refuse" => (
                f(&["--refuse", "3"]),
                f(&[]),
                |_, st, _, row| {
                    if st.proxy_fault("refuse") != 3 {
                        return Err(format!("{} refusals, expected 3", st.proxy_fault("refuse")));
                    }
                    row.note("3 connections refused, retried");
                    Ok(())
                },
                None,
            ),
            "http-500" => (
                f(&[
                    "--fail-every",
                    "4",
                    "--fail-status",
                    "500",
                    "--fail-code",
                    "InternalError",
                ]),
                f(&[]),
                |out, st, _, row| served_errors(out, st, "InternalError", row),
                Some("InternalError"),
            ),
            "http-503" => (
                f(&[
                    "--fail-every",
                    "3",
                    "--fail-status",
                    "503",
                    "--fail-code",
                    "ServiceUnavailable",
                ]),
                f(&[]),
                |out, st, _, row| served_errors(out, st, "ServiceUnavailable", row),
                Some("ServiceUnavailable"),
            ),
            "http-429" => (
                f(&[
                    "--fail-every",
                    "3",
                    "--fail-status",
                    "429",
                    "--fail-code",
                    "QpsLimitExceeded",
                ]),
                f(&[]),
                |out, st, _, row| served_errors(out, st, "QpsLimitExceeded", row),
                Some("QpsLimitExceeded"),
            ),
            "refuse-exhausted" => return refuse_exhausted(ctx, &object, &dest, row),
            "503-exhausted" => return exhausted_503(ctx, &object, &dest, row),
            "403-permanent" => return permanent_403(ctx, &object, &dest, row),
            "replaced-fail" | "replaced-restart" => {
                return replaced(ctx, name == "replaced-restart", &object, &dest, row);
            }
            other => return Err(format!("unknown fault scenario {other}")),
        };
    let emu = ctx.start_emulator(std::slice::from_ref(&object), &faults)?;
    let ossget = ctx.ossget_on(&emu);
    let run = Run {
        args,
        ..Run::new(&key, &dest)
    };
    row.rounds = 1;
    row.needed = size;
    let mut out = ossget.run(&run)?;
    // A part may run out of retries against a server failing every 3rd or 4th request
    // (InternalError, every 4th: six attempts in a row, about once per 4^5 = 1024 failed
    // requests; the throttling codes, every 3rd: 16 attempts, about once per 3^15 = 14 million).
    // That must end as documented — exit 1 naming the code, the checkpoint kept — and the
    // same command must then resume.
    let mut ran_out = 0;
    while let Some(code) = may_run_out
        && !out.done()
        && ran_out < 3
    {
        failed_as_promised(&out, Some(code), code, &dest)
            .map_err(|e| format!("{e} (`{}`)", ossget.shell_line(&run)))?;
        ran_out += 1;
        out = ossget.run(&run)?;
        if out.done() && out.json.bytes_resumed.unwrap_or(0) == 0 {
            return Err(format!(
                "the run after retries ran out started over (checkpoint {:?}) (`{}`)",
                out.json.checkpoint.as_deref(),
                ossget.shell_line(&run)
            ));
        }
    }
    // Stats first: a refusing proxy would refuse this request too, until its count is spent.
    let (stats, _) = stats_through_refusals(&emu)?;
    row.fetched = stats.relayed;
    if !out.done() {
        return Err(format!(
            "did not complete ({}): `{}`",
            out.describe(),
            ossget.shell_line(&run)
        ));
    }
    if ran_out > 0 {
        row.note(format!(
            "a part ran out of retries {ran_out} time(s): exit 1 naming {}, then the same command resumed",
            may_run_out.unwrap_or_default()
        ));
    }
    let head = emu.head(&key)?;
    verify::finished_exactly(&dest, &head)?;
    check(&out, &stats, size, row).map_err(|e| format!("{e} (`{}`)", ossget.shell_line(&run)))?;
    row.passed = 1;
    Ok(())
}

fn retries(out: &Outcome) -> u64 {
    out.json.retries.unwrap_or(0)
}

fn need_retries(out: &Outcome) -> Result<(), String> {
    if retries(out) == 0 {
        return Err("the fault fired but ossget reports 0 retries".into());
    }
    Ok(())
}

fn need_fault(fired: u64, kind: &str) -> Result<(), String> {
    if fired == 0 {
        return Err(format!("the proxy's {kind} fault never fired"));
    }
    Ok(())
}

fn served_errors(out: &Outcome, st: &Stats, code: &str, row: &mut Row) -> Result<(), String> {
    let n = st.error(code);
    need_fault(n, code)?;
    need_retries(out)?;
    row.note(format!("{n} × {code}, {} retries", retries(out)));
    Ok(())
}

/// `/-/stats`, retried through a refusing proxy (each refused attempt spends one refusal),
/// and how many of the refusals this harness spent.
fn stats_through_refusals(emu: &Emulator) -> Result<(Stats, u64), String> {
    let mut last = String::new();
    for spent in 0..200 {
        match emu.settled_stats() {
            Ok(s) => return Ok((s, spent)),
            Err(e) => last = e,
        }
    }
    Err(format!("/-/stats kept failing: {last}"))
}

/// A failed run: exit 1, the expected OSS code (or none), the message naming it, no file.
fn failed_as_promised(
    out: &Outcome,
    code: Option<&str>,
    says: &str,
    dest: &std::path::Path,
) -> Result<(), String> {
    if out.code() != Some(1) || out.json.status.as_deref() != Some("failed") {
        return Err(format!(
            "expected exit 1 and status failed, got {}",
            out.describe()
        ));
    }
    if out.oss_code() != code {
        return Err(format!(
            "error.oss_code {:?}, expected {code:?} ({})",
            out.oss_code(),
            out.message()
        ));
    }
    if !out.message().contains(says) {
        return Err(format!(
            "the message does not say `{says}`: {}",
            out.message()
        ));
    }
    if dest.exists() {
        return Err(format!("{} exists after a failed download", dest.display()));
    }
    Ok(())
}

/// Starts an emulator with `faults`, runs ossget once, and checks the run failed as
/// promised (see [`failed_as_promised`]); the emulator stays up for the caller's counters.
fn failing_run(
    ctx: &Ctx,
    object: &crate::emulator::ObjectArg,
    dest: &std::path::Path,
    row: &mut Row,
    faults: &[&str],
    (code, says): (Option<&str>, &str),
) -> Result<(Emulator, Outcome, String), String> {
    let faults: Vec<String> = faults.iter().map(|s| s.to_string()).collect();
    let emu = ctx.start_emulator(std::slice::from_ref(object), &faults)?;
    let ossget = ctx.ossget_on(&emu);
    let run = Run::new(&object.key, dest);
    row.rounds = 1;
    let out = ossget.run(&run)?;
    let repro = ossget.shell_line(&run);
    failed_as_promised(&out, code, says, dest).map_err(|e| format!("{e} (`{repro}`)"))?;
    Ok((emu, out, repro))
}

fn refuse_exhausted(
    ctx: &Ctx,
    object: &crate::emulator::ObjectArg,
    dest: &std::path::Path,
    row: &mut Row,
) -> Result<(), String> {
    let (emu, out, repro) = failing_run(
        ctx,
        object,
        dest,
        row,
        &["--refuse", "60"],
        (None, "metadata"),
    )?;
    let (stats, ours) = stats_through_refusals(&emu)?;
    row.fetched = stats.relayed;
    let attempts = stats.proxy_fault("refuse").saturating_sub(ours);
    if attempts != MAX_ATTEMPTS {
        return Err(format!(
            "{attempts} connection attempts, expected {MAX_ATTEMPTS} (oss-http's attempt budget) (`{repro}`)"
        ));
    }
    row.note(format!(
        "exit 1 after {attempts} refused connections in {:.1} s: {}",
        out.elapsed.as_secs_f64(),
        short(&out.message())
    ));
    row.passed = 1;
    Ok(())
}

fn exhausted_503(
    ctx: &Ctx,
    object: &crate::emulator::ObjectArg,
    dest: &std::path::Path,
    row: &mut Row,
) -> Result<(), String> {
    let (emu, out, repro) = failing_run(
        ctx,
        object,
        dest,
        row,
        &[
            "--fail-every",
            "1",
            "--fail-status",
            "503",
            "--fail-code",
            "ServiceUnavailable",
        ],
        (Some("ServiceUnavailable"), "ServiceUnavailable"),
    )?;
    let stats = emu.settled_stats()?;
    row.fetched = stats.relayed;
    let served = stats.error("ServiceUnavailable");
    if served != THROTTLE_ATTEMPTS {
        return Err(format!(
            "{served} × 503 answered, expected {THROTTLE_ATTEMPTS} (oss-http's throttling budget) (`{repro}`)"
        ));
    }
    row.note(format!(
        "exit 1 after {served} attempts in {:.1} s: {}",
        out.elapsed.as_secs_f64(),
        short(&out.message())
    ));
    row.passed = 1;
    Ok(())
}

fn permanent_403(
    ctx: &Ctx,
    object: &crate::emulator::ObjectArg,
    dest: &std::path::Path,
    row: &mut Row,
) -> Result<(), String> {
    let (emu, out, repro) = failing_run(
        ctx,
        object,
        dest,
        row,
        &[
            "--fail-every",
            "5",
            "--fail-status",
            "403",
            "--fail-code",
            "AccessDenied",
        ],
        (Some("AccessDenied"), "AccessDenied"),
    )?;
    let stats = emu.settled_stats()?;
    row.fetched = stats.relayed;
    if stats.error("AccessDenied") != 1 {
        return Err(format!(
            "{} × AccessDenied answered: a permanent error was retried (`{repro}`)",
            stats.error("AccessDenied")
        ));
    }
    let cp = with_suffix(dest, ".cp");
    let bytes = std::fs::read(&cp)
        .map_err(|e| format!("no checkpoint kept after a failure ({}: {e})", cp.display()))?;
    // Intact: the newest snapshot readable (a torn slot beside it is normal).
    super::ckpt::version(&bytes)
        .map_err(|e| format!("the kept checkpoint holds no intact snapshot: {e}"))?;
    row.note(format!(
        "exit 1 at once ({:.2} s, 1 × AccessDenied, not retried), checkpoint kept: {}",
        out.elapsed.as_secs_f64(),
        short(&out.message())
    ));
    row.passed = 1;
    Ok(())
}

fn replaced(
    ctx: &Ctx,
    restart: bool,
    object: &crate::emulator::ObjectArg,
    dest: &std::path::Path,
    row: &mut Row,
) -> Result<(), String> {
    let parts = object.size.div_ceil(PART);
    // Requests for the key: our HEAD (1), ossget's HEAD (2), then part GETs; the object is
    // replaced for the request after `after`, half way through the parts.
    let after = 2 + parts / 2;
    let emu = ctx.start_emulator(
        std::slice::from_ref(object),
        &["--replace-after".into(), after.to_string()],
    )?;
    let old = emu.head(&object.key)?;
    let ossget = ctx.ossget_on(&emu);
    let args: &[&str] = if restart {
        &["--on-change", "restart"]
    } else {
        &[]
    };
    let run = Run {
        args: args.iter().map(|a| a.to_string()).collect(),
        ..Run::new(&object.key, dest)
    };
    let repro = ossget.shell_line(&run);
    row.rounds = 1;
    row.needed = object.size;
    let out = ossget.run(&run)?;
    let mut note = String::new();
    if !restart {
        failed_as_promised(&out, None, "object changed", dest)
            .map_err(|e| format!("{e} (`{repro}`)"))?;
        if with_suffix(dest, ".oss-tmp").exists() {
            return Err("the old version's partial data was kept after the object changed".into());
        }
        note = format!("exit 1: {}; ", short(&out.message()));
        // The same command again downloads the new version.
        let again = ossget.run(&run)?;
        if !again.done() {
            return Err(format!(
                "the rerun failed ({}) (`{repro}`)",
                again.describe()
            ));
        }
    } else if !out.done() {
        return Err(format!("did not complete ({}) (`{repro}`)", out.describe()));
    } else if out.json.restarts != Some(1) {
        return Err(format!("restarts {:?}, expected 1", out.json.restarts));
    }
    let stats = emu.settled_stats()?;
    row.fetched = stats.relayed;
    if stats.model_fault("replace_object") != 1 {
        return Err("the object was not replaced".into());
    }
    let new = emu.head(&object.key)?;
    if new.etag == old.etag || new.crc64 == old.crc64 {
        return Err("the replacement kept the ETag or the content".into());
    }
    verify::finished_exactly(dest, &new)?;
    row.note(format!(
        "{note}the new version, exact{}",
        if restart { " (1 restart)" } else { "" }
    ));
    row.passed = 1;
    Ok(())
}

/// The first sentence of a message, for the table.
fn short(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    let cut: String = line.chars().take(90).collect();
    if cut.len() < line.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages() {
        assert_eq!(short("one\ntwo"), "one");
        let long = "x".repeat(200);
        assert_eq!(short(&long).chars().count(), 91);
    }
}
