//! A full disk. Small filesystems are mounted for the download — a tmpfs and a loop-mounted
//! ext4 image, each where permitted (a printed reason for each that is not; the scenario is
//! skipped when neither is) — and a filler file leaves less free space than the object
//! needs:
//! - `disk-full`: with `--no-preallocate --no-space-check`, ENOSPC hits mid-download; ossget
//!   must exit 1 with a clear error and leave no destination; once the filler is deleted,
//!   the same command resumes (not restarts) to the exact file;
//! - `space-check`: with the default flags ossget refuses before fetching any data.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::Ctx;
use super::ossget::{Ossget, Run};
use super::report::Row;
use super::verify;
use crate::size::{MIB, human};

/// The object: bigger than the free space left, small enough for any scratch disk.
const OBJECT: u64 = 96 * MIB;
/// The filesystem's size.
const FS_SIZE_MIB: u64 = 160;
/// Free space left beside the filler: ENOSPC comes half-way through the object.
const LEFT_FREE: u64 = 48 * MIB;

/// A mounted filesystem, unmounted (and its image removed) on drop.
struct Mount {
    dir: PathBuf,
    image: Option<PathBuf>,
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
        if let Some(img) = &self.image {
            let _ = std::fs::remove_file(img);
        }
    }
}

fn quiet(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {}: {}",
            cmd.get_program().to_string_lossy(),
            cmd.get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The small filesystems tried, in order.
const KINDS: [&str; 2] = ["tmpfs", "ext4"];

/// Mounts a small filesystem of `kind` at `dir`.
fn mount_small(kind: &str, dir: &Path) -> Result<Mount, String> {
    // A run killed before its cleanup may have left a mount here; never stack another.
    let _ = quiet(Command::new("umount").arg(dir));
    if kind == "tmpfs" {
        let size = format!("size={FS_SIZE_MIB}m");
        quiet(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o", &size, "e2e-diskfull"])
                .arg(dir),
        )?;
        return Ok(Mount {
            dir: dir.to_path_buf(),
            image: None,
        });
    }
    let image = dir.with_extension("img");
    let mounted = (|| {
        let f = std::fs::File::create(&image).map_err(|e| e.to_string())?;
        f.set_len(FS_SIZE_MIB * MIB).map_err(|e| e.to_string())?;
        quiet(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&image))?;
        quiet(
            Command::new("mount")
                .args(["-o", "loop"])
                .arg(&image)
                .arg(dir),
        )
    })();
    match mounted {
        Ok(()) => Ok(Mount {
            dir: dir.to_path_buf(),
            image: Some(image),
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&image);
            Err(e)
        }
    }
}

/// Free bytes on the filesystem of `dir` (`df`: one statvfs is not worth a syscall crate in xtask).
fn available(dir: &Path) -> Result<u64, String> {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir)
        .output()
        .map_err(|e| format!("df: {e}"))?;
    parse_df(&String::from_utf8_lossy(&out.stdout)).ok_or_else(|| "df printed no number".into())
}

fn parse_df(text: &str) -> Option<u64> {
    text.lines()
        .filter_map(|l| l.trim().parse().ok())
        .next_back()
}

/// Writes a filler file so that about `LEFT_FREE` bytes stay free.
fn fill(dir: &Path) -> Result<PathBuf, String> {
    let avail = available(dir)?;
    let filler = dir.join("filler");
    let size = avail
        .checked_sub(LEFT_FREE)
        .ok_or_else(|| format!("only {} free on the small filesystem", human(avail)))?;
    // Real blocks (tmpfs and ext4 would not charge a sparse file).
    let chunk = vec![0xA5u8; MIB as usize];
    let mut file = std::fs::File::create(&filler).map_err(|e| e.to_string())?;
    let mut written = 0;
    while written < size {
        let n = (size - written).min(MIB) as usize;
        std::io::Write::write_all(&mut file, chunk.get(..n).unwrap_or_default())
            .map_err(|e| format!("filler: {e}"))?;
        written += n as u64;
    }
    file.sync_all().map_err(|e| e.to_string())?;
    Ok(filler)
}

/// Runs the disk-full scenario `name` on each small filesystem that can be mounted.
pub fn run(ctx: &Ctx, name: &str, row: &mut Row) -> Result<(), String> {
    let dir = ctx.dir(name)?;
    let key = "full.bin";
    let emu = ctx.start_emulator(&[ctx.object(key, OBJECT)], &[])?;
    let head = emu.head(key)?;
    let ossget = ctx.ossget_on(&emu);
    let mut refused = Vec::new();
    for kind in KINDS {
        let mnt = dir.join(kind);
        std::fs::create_dir_all(&mnt).map_err(|e| e.to_string())?;
        let mount = match mount_small(kind, &mnt) {
            Ok(m) => m,
            Err(why) => {
                eprintln!("    {kind}: cannot mount: {why}");
                refused.push(format!("{kind}: {why}"));
                continue;
            }
        };
        row.rounds += 1;
        let result = if name == "space-check" {
            space_check(&ossget, &emu, &mnt, kind, row)
        } else {
            full_then_freed(&ossget, &emu, &head, &mnt, kind, row)
        };
        drop(mount);
        match result {
            Ok(()) => row.passed += 1,
            Err(e) => row.fail(format!("{kind}: {e}")),
        }
    }
    if row.rounds == 0 {
        let why = format!("cannot mount a small filesystem: {}", refused.join("; "));
        row.skipped = Some(why);
    } else if !refused.is_empty() {
        row.note(format!("not run on {}", refused.join("; ")));
    }
    Ok(())
}

/// Default flags with too little space: refused before any body byte.
fn space_check(
    ossget: &Ossget<'_>,
    emu: &crate::emulator::Emulator,
    mnt: &Path,
    kind: &str,
    row: &mut Row,
) -> Result<(), String> {
    let key = "full.bin";
    let dest = mnt.join(key);
    fill(mnt)?;
    let free = available(mnt)?;
    let before = emu.settled_stats()?.relayed;
    let run = Run::new(key, &dest);
    let out = ossget.run(&run)?;
    if out.code() != Some(1) || !out.message().contains("not enough free space") {
        return Err(format!(
            "expected a refusal for lack of space, got {} (`{}`)",
            out.describe(),
            ossget.shell_line(&run)
        ));
    }
    let fetched = emu.settled_stats()?.relayed.saturating_sub(before);
    row.fetched += fetched;
    if fetched != 0 {
        return Err(format!("{fetched} body bytes fetched before refusing"));
    }
    if dest.exists() {
        return Err("a destination appeared".into());
    }
    row.note(format!(
        "{kind}, {} free for {}: refused before any data ({})",
        human(free),
        human(OBJECT),
        out.message().split(':').next().unwrap_or_default()
    ));
    Ok(())
}

/// ENOSPC mid-download, then space freed: the same command resumes to the exact file.
fn full_then_freed(
    ossget: &Ossget<'_>,
    emu: &crate::emulator::Emulator,
    head: &crate::emulator::Head,
    mnt: &Path,
    kind: &str,
    row: &mut Row,
) -> Result<(), String> {
    let key = "full.bin";
    let dest = mnt.join(key);
    let filler = fill(mnt)?;
    let free = available(mnt)?;
    let before = emu.settled_stats()?.relayed;
    row.needed += OBJECT;
    let run = Run::new(key, &dest).args(["--no-preallocate", "--no-space-check"]);
    let repro = ossget.shell_line(&run);
    let out = ossget.run(&run)?;
    if out.code() != Some(1) || out.json.status.as_deref() != Some("failed") {
        return Err(format!(
            "expected exit 1 on a full disk, got {} (`{repro}`)",
            out.describe()
        ));
    }
    let message = out.message();
    if !message.contains("No space left") {
        return Err(format!(
            "the error does not say the disk is full: {message} (`{repro}`)"
        ));
    }
    if dest.exists() {
        return Err(format!("{} exists after ENOSPC", dest.display()));
    }
    let hint = out.json.error_hint().unwrap_or_default().to_string();
    if !hint.contains("free some space") {
        return Err(format!(
            "no hint to free space after ENOSPC: {hint:?} (`{repro}`)"
        ));
    }
    let kept = verify::side_files(&dest);
    std::fs::remove_file(&filler).map_err(|e| e.to_string())?;
    let again = ossget.run(&run)?;
    if !again.done() {
        return Err(format!(
            "after freeing space the rerun failed: {} (`{repro}`)",
            again.describe()
        ));
    }
    let resumed = again.json.bytes_resumed.unwrap_or(0);
    verify::finished_exactly(&dest, head)?;
    row.fetched += emu.settled_stats()?.relayed.saturating_sub(before);
    if resumed == 0 {
        return Err(format!(
            "the rerun started over instead of resuming (checkpoint {:?}, note {:?}; after ENOSPC these were kept: {kept:?})",
            again.json.checkpoint.as_deref(),
            again.json.checkpoint_note.as_deref()
        ));
    }
    let what = message
        .split(" failed for ")
        .next()
        .unwrap_or_default()
        .to_string();
    row.note(format!(
        "{kind}, {} free for {}: exit 1 ({what}: No space left on device); filler deleted, rerun resumed {} and is exact",
        human(free),
        human(OBJECT),
        human(resumed)
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_output() {
        assert_eq!(parse_df("    Avail\n167772160\n"), Some(167_772_160));
        assert_eq!(parse_df("Avail\n"), None);
    }
}
