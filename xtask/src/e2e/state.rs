//! Bad local state between runs, made from a real interrupted download (ossget aborted at
//! the `mid-part` failpoint, so at least half the object is on disk and the checkpoint is
//! real): a checkpoint cut short, damaged in its newest or in every snapshot, foreign or
//! newer; a truncated, deleted, replaced or corrupted temp file; and a second run on a
//! destination in use. Each must be detected and end as the docs promise — never with a
//! wrong file.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::Ctx;
use super::ckpt;
use super::ossget::{Ossget, Outcome, Run};
use super::procfs;
use super::report::Row;
use super::verify;
use crate::emulator::{Emulator, Head};
use crate::paths::with_suffix;

/// The part size ossget uses (the first part is surely done at the mid-part failpoint).
const PART: u64 = 8 << 20;
/// SIGABRT.
const SIGABRT: i32 = 6;

/// Runs the bad-state scenario `name`.
pub fn run(ctx: &Ctx, name: &str, row: &mut Row) -> Result<(), String> {
    let size = ctx.opts.size;
    let key = "state.bin";
    let other = "other.bin";
    let emu = ctx.start_emulator(&[ctx.object(key, size), ctx.object(other, size)], &[])?;
    let head = emu.head(key)?;
    let dir = ctx.dir(name)?;
    let dest = dir.join(key);
    let ossget = ctx.ossget_on(&emu);
    let mut rng = ctx.rng(name);
    row.rounds = 1;
    row.needed = size;
    if name == "concurrent" {
        concurrent(&ossget, &emu, &head, &dest, row)?;
        row.passed = 1;
        return Ok(());
    }
    interrupt(&ossget, key, &dest)?;
    let cp = with_suffix(&dest, ".cp");
    let tmp = with_suffix(&dest, ".oss-tmp");
    let cp_bytes = std::fs::read(&cp).map_err(|e| format!("{}: {e}", cp.display()))?;
    let plain = Run::new(key, &dest);
    let note = match name {
        "ckpt-truncated" => {
            let cut = ckpt::truncated(&cp_bytes, &mut rng);
            write(&cp, &cut)?;
            format!("cut to {} of {} bytes", cut.len(), cp_bytes.len())
        }
        "ckpt-bitflip" => {
            // The newest snapshot damaged: an older intact slot, if any, must take over.
            let flipped = ckpt::bit_flipped_newest(&cp_bytes, &mut rng)?;
            write(&cp, &flipped.bytes)?;
            let note = format!(
                "{} flipped, the newest (checkpoint {})",
                flipped.describe(),
                ckpt::describe(&cp_bytes)
            );
            if let Ok(left) = ckpt::images(&flipped.bytes)
                && let Some(older) = left.first()
            {
                return resumed_or_fresh(&ossget, &emu, &head, &dest, older, &note, row);
            }
            // No older intact slot: corruption, like ckpt-bitflip-all.
            note
        }
        "ckpt-bitflip-all" => {
            let flipped = ckpt::bit_flipped_every_slot(&cp_bytes, &mut rng)?;
            write(&cp, &flipped.bytes)?;
            if let Ok(v) = ckpt::version(&flipped.bytes) {
                return Err(format!(
                    "the edit left an intact version {v} snapshot: {}",
                    ckpt::describe(&flipped.bytes)
                ));
            }
            format!(
                "{} flipped (checkpoint {})",
                flipped.describe(),
                ckpt::describe(&cp_bytes)
            )
        }
        "ckpt-foreign" | "ckpt-future" => {
            let bad = if name == "ckpt-foreign" {
                // Another object's real checkpoint, copied over this one.
                let other_dest = dest.with_file_name(other);
                interrupt(&ossget, other, &other_dest)?;
                std::fs::read(with_suffix(&other_dest, ".cp")).map_err(|e| e.to_string())?
            } else {
                ckpt::future_version(&cp_bytes)?
            };
            write(&cp, &bad)?;
            let refusal = ossget.run(&plain)?;
            let out = &refusal;
            let says = if name == "ckpt-foreign" {
                "another download"
            } else {
                "newer"
            };
            if out.code() != Some(1) || !out.message().contains(says) {
                return Err(format!(
                    "expected a refusal saying `{says}`, got {} (`{}`)",
                    out.describe(),
                    ossget.shell_line(&plain)
                ));
            }
            let hint = out.json.error_hint().unwrap_or_default();
            if !hint.contains("--restart") {
                return Err(format!(
                    "the refusal's hint does not mention --restart: {hint:?}"
                ));
            }
            if std::fs::read(&cp).ok().as_deref() != Some(&bad[..]) {
                return Err("the refused checkpoint was modified or removed".into());
            }
            if dest.exists() {
                return Err("a destination appeared after the refusal".into());
            }
            let restart = Run::new(key, &dest).args(["--restart"]);
            let out = ossget.run(&restart)?;
            expect_fresh(&ossget, &restart, &out, false)?;
            let why = first_clause(after_path(&refusal.message()));
            return finish(
                &emu,
                &head,
                &dest,
                row,
                &format!("refused ({why}); --restart then exact"),
            );
        }
        "temp-truncated" => {
            let len = std::fs::metadata(&tmp).map_err(|e| e.to_string())?.len();
            let f = OpenOptions::new()
                .write(true)
                .open(&tmp)
                .map_err(|e| e.to_string())?;
            f.set_len(len / 2).map_err(|e| e.to_string())?;
            format!("temp cut from {len} to {} bytes", len / 2)
        }
        "temp-deleted" => {
            std::fs::remove_file(&tmp).map_err(|e| e.to_string())?;
            "temp deleted".to_string()
        }
        "temp-replaced" => {
            let len = std::fs::metadata(&tmp).map_err(|e| e.to_string())?.len();
            std::fs::remove_file(&tmp).map_err(|e| e.to_string())?;
            let f = std::fs::File::create(&tmp).map_err(|e| e.to_string())?;
            f.set_len(len).map_err(|e| e.to_string())?;
            format!("temp replaced by {len} zero bytes")
        }
        "temp-corrupted" | "temp-corrupted-verify" => {
            let at = rng.range(0, PART - 1);
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&tmp)
                .map_err(|e| e.to_string())?;
            let mut b = [0u8; 1];
            f.read_exact_at(&mut b, at).map_err(|e| e.to_string())?;
            b[0] ^= 0x01;
            f.write_all_at(&b, at).map_err(|e| e.to_string())?;
            if name == "temp-corrupted" {
                return corrupted_without_verify(&ossget, &emu, &head, &dest, at, b[0], row);
            }
            let verify_run = Run::new(key, &dest).args(["--verify-resume"]);
            let out = ossget.run(&verify_run)?;
            expect_fresh(&ossget, &verify_run, &out, true)?;
            let why = out
                .json
                .checkpoint_note
                .as_deref()
                .unwrap_or_default()
                .to_string();
            if !why.contains("verify") {
                return Err(format!(
                    "started over, but not because of the verification: {why}"
                ));
            }
            return finish(
                &emu,
                &head,
                &dest,
                row,
                &format!("byte {at} flipped: caught by --verify-resume, started over"),
            );
        }
        other => return Err(format!("unknown bad-state scenario {other}")),
    };
    let out = ossget.run(&plain)?;
    expect_fresh(&ossget, &plain, &out, true)?;
    let full_note = out.json.checkpoint_note.as_deref().unwrap_or_default();
    if name.starts_with("ckpt-bitflip") && !full_note.to_ascii_lowercase().contains("corrupt") {
        return Err(format!(
            "started over, but the note does not say the checkpoint was corrupt: {full_note:?}"
        ));
    }
    let why = first_clause(full_note);
    finish(
        &emu,
        &head,
        &dest,
        row,
        &format!("{note}: started over ({why})"),
    )
}

/// The newest snapshot damaged while an older one (`older`) is intact: the reader falls back
/// to it (resumed, from fewer bytes) — or starts over, which is safe too; either way the
/// file must be exact. The note says which.
fn resumed_or_fresh(
    ossget: &Ossget<'_>,
    emu: &Emulator,
    head: &Head,
    dest: &Path,
    older: &ckpt::Image,
    note: &str,
    row: &mut Row,
) -> Result<(), String> {
    let plain = Run::new("state.bin", dest);
    let out = ossget.run(&plain)?;
    let outcome = match out.json.checkpoint.as_deref() {
        Some("resumed") if out.done() => format!(
            "resumed from the older {} ({} bytes resumed)",
            ckpt::slot_name(older),
            out.json.bytes_resumed.unwrap_or(0)
        ),
        _ => {
            expect_fresh(ossget, &plain, &out, true)?;
            format!(
                "started over ({}) although {} was intact",
                first_clause(out.json.checkpoint_note.as_deref().unwrap_or_default()),
                ckpt::slot_name(older)
            )
        }
    };
    finish(emu, head, dest, row, &format!("{note}: {outcome}"))
}

/// A byte of the done data flipped between runs, resumed without `--verify-resume`. The
/// design checks the CRC-64 of the bytes *as they were written* (folded from the
/// checkpoint, "no second read of the file") and leaves re-reading the disk to
/// `--verify-resume` ("for users who distrust their disk"), so the documented outcome is a
/// resumed run that renames the flipped byte into place. This checks exactly that — the
/// run resumed, and the flipped byte is the file's only difference — so a change in either
/// direction shows up; the table row says it loudly.
fn corrupted_without_verify(
    ossget: &Ossget<'_>,
    emu: &Emulator,
    head: &Head,
    dest: &Path,
    at: u64,
    flipped: u8,
    row: &mut Row,
) -> Result<(), String> {
    let plain = Run::new("state.bin", dest);
    let repro = ossget.shell_line(&plain);
    let out = ossget.run(&plain)?;
    if out.code() == Some(1) && out.message().contains("CRC-64") {
        // Better than documented: caught after all.
        if dest.exists() {
            return Err(format!("{} exists after the CRC mismatch", dest.display()));
        }
        let again = ossget.run(&plain)?;
        expect_fresh(ossget, &plain, &again, false)?;
        return finish(
            emu,
            head,
            dest,
            row,
            &format!("byte {at} flipped: caught by the final CRC-64 check (exit 1); rerun exact"),
        );
    }
    if !out.done() || out.json.checkpoint.as_deref() != Some("resumed") {
        return Err(format!(
            "expected a resumed run, got {} (`{repro}`)",
            out.describe()
        ));
    }
    if verify::exact(dest, head).is_ok() {
        return Err(format!(
            "the byte flipped at {at} was fetched again, so it was not in a done range: the scenario did not test what it means to"
        ));
    }
    // Flip it back: the file must then be exact.
    let f = OpenOptions::new()
        .write(true)
        .open(dest)
        .map_err(|e| e.to_string())?;
    f.write_all_at(&[flipped ^ 0x01], at)
        .map_err(|e| e.to_string())?;
    drop(f);
    verify::exact(dest, head).map_err(|e| format!("more than the flipped byte differs: {e}"))?;
    verify::no_side_files(dest)?;
    row.fetched = emu.settled_stats()?.relayed;
    row.note(format!(
        "LIMIT (documented in ossget --help): byte {at} flipped in done data is NOT caught without --verify-resume: exit 0, crc64_verified {} (by the CRCs recorded at write time), that byte renamed into place and nothing else differs",
        match out.json.crc64_verified {
            Some(b) => b.to_string(),
            None => "?".to_string(),
        }
    ));
    row.passed = 1;
    Ok(())
}

/// Runs ossget on `key` until it aborts at the mid-part failpoint, leaving a real
/// checkpoint and temp file.
fn interrupt(ossget: &Ossget<'_>, key: &str, dest: &Path) -> Result<(), String> {
    let run = Run {
        failpoint: Some("mid-part".into()),
        ..Run::new(key, dest)
    };
    let out = ossget.run(&run)?;
    if out.signal() != Some(SIGABRT) {
        return Err(format!(
            "the mid-part failpoint did not abort ossget ({}): is it built with --features failpoints? (`{}`)",
            out.describe(),
            ossget.shell_line(&run)
        ));
    }
    for s in [".cp", ".oss-tmp"] {
        if !with_suffix(dest, s).exists() {
            return Err(format!("the interrupted run left no {s} file"));
        }
    }
    Ok(())
}

/// A run that succeeded by starting over (`with_note`: saying why it did not resume).
fn expect_fresh(
    ossget: &Ossget<'_>,
    run: &Run,
    out: &Outcome,
    with_note: bool,
) -> Result<(), String> {
    if !out.done() {
        return Err(format!(
            "did not complete ({}) (`{}`)",
            out.describe(),
            ossget.shell_line(run)
        ));
    }
    if out.json.checkpoint.as_deref() != Some("fresh") || out.json.bytes_resumed != Some(0) {
        return Err(format!(
            "expected a fresh start, got checkpoint {:?} with {:?} bytes resumed (`{}`)",
            out.json.checkpoint.as_deref(),
            out.json.bytes_resumed,
            ossget.shell_line(run)
        ));
    }
    if with_note
        && out
            .json
            .checkpoint_note
            .as_deref()
            .is_none_or(str::is_empty)
    {
        return Err("started over without saying why (checkpoint_note empty)".into());
    }
    Ok(())
}

/// The file is exact and alone; the row gets the scenario's fetched bytes and its note.
fn finish(
    emu: &Emulator,
    head: &Head,
    dest: &Path,
    row: &mut Row,
    note: &str,
) -> Result<(), String> {
    verify::finished_exactly(dest, head)?;
    // Everything relayed, the interrupted run(s) included.
    row.fetched = emu.settled_stats()?.relayed;
    row.note(note);
    row.passed = 1;
    Ok(())
}

/// Two runs on one destination: the second is refused naming the first's pid (with the
/// checkpoint on, off, and with --restart, which must not pull the checkpoint from under
/// the running download); the first finishes exactly.
fn concurrent(
    ossget: &Ossget<'_>,
    emu: &Emulator,
    head: &Head,
    dest: &Path,
    row: &mut Row,
) -> Result<(), String> {
    let key = "state.bin";
    let rate = (head.size / 4).to_string();
    let first = Run::new(key, dest).args(["--limit-rate", &rate]);
    let running = ossget.spawn(&first)?;
    let pid = running.pid;
    let started = Instant::now();
    // Wait until it holds the lock and is downloading.
    loop {
        let written = procfs::written_bytes(pid).unwrap_or(0);
        if with_suffix(dest, ".lock").exists() && written > 1 << 20 {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err("the first run did not start downloading within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut refused = Vec::new();
    for extra in [&[][..], &["--no-checkpoint"][..], &["--restart"][..]] {
        let second = Run {
            args: extra.iter().map(|a| a.to_string()).collect(),
            ..Run::new(key, dest)
        };
        let out = ossget.run(&second)?;
        let holder = format!("process {pid}");
        if out.code() != Some(1) || !out.message().contains(&holder) {
            return Err(format!(
                "a second run ({}) was not refused naming {holder}: {} (`{}`)",
                if extra.is_empty() {
                    "same command"
                } else {
                    extra[0]
                },
                out.describe(),
                ossget.shell_line(&second)
            ));
        }
        refused.push(if extra.is_empty() {
            "same command"
        } else {
            extra[0]
        });
    }
    let (status, stdout, _) = running.finish()?;
    if !status.success() || !stdout.contains("\"status\":\"done\"") {
        return Err(format!(
            "the first run did not finish: {status}, {}",
            stdout.trim()
        ));
    }
    verify::finished_exactly(dest, head)?;
    row.fetched = emu.settled_stats()?.relayed;
    row.note(format!(
        "second run refused naming process {pid} ({}); the first exact",
        refused.join(", ")
    ));
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// An error about a file without its `checkpoint PATH: ` prefix.
fn after_path(message: &str) -> &str {
    // The cause follows the first `: ` after the checkpoint's path ("the checkpoint P.cp cannot
    // be used or saved: <cause>"; older wording "checkpoint P.cp: <cause>").
    let Some(at) = message.find(".cp") else {
        return message;
    };
    match message[at..].split_once(": ") {
        Some((_, rest)) => rest,
        None => message,
    }
}

/// Up to the first `;` or line end, for the table.
fn first_clause(text: &str) -> String {
    let end = text.find([';', '\n']).unwrap_or(text.len());
    let clause: String = text[..end].chars().take(80).collect();
    clause
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_clauses() {
        assert_eq!(
            first_clause("checksum mismatch; start over"),
            "checksum mismatch"
        );
        assert_eq!(first_clause(""), "");
        assert_eq!(first_clause(&"y".repeat(100)).len(), 80);
        assert_eq!(
            after_path("checkpoint /d/state.bin.cp: the checkpoint has format version 2"),
            "the checkpoint has format version 2"
        );
        assert_eq!(
            after_path("the checkpoint /d/s.bin.cp cannot be used or saved: it is for another key"),
            "it is for another key"
        );
        assert_eq!(after_path("other"), "other");
    }
}
