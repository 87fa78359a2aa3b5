//! Hostile directories: whatever someone who can write to the download directory plants at
//! the destination's side-file names (`DEST.cp`, `DEST.cp.tmp`, `DEST.lock`,
//! `DEST.oss-tmp`) or at the destination itself, a download never writes through a link,
//! never blocks on a FIFO, never removes or overwrites a file it did not make (unless told
//! to restart), and never replaces a device, FIFO or socket with a regular file.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use oss_resume::{CkptError, Download, Error, Report};

use crate::common::{BUCKET, Env, Scratch, assert_file, ckpt_of, temp_of};

const VICTIM: &[u8] = b"precious: a file the user can write but never meant to lose\n";

/// Runs `download` on a thread of its own and waits at most 20 s for it: a download that
/// blocks (in an `open` of a FIFO, say) fails the test instead of hanging it. `unblock`
/// is a FIFO to open for writing on a timeout, so the stuck thread can finish.
fn guarded(download: Download, unblock: Option<&Path>) -> Result<Report, Error> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = tx.send(rt.block_on(download.into_future()));
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(result) => result,
        Err(_) => {
            if let Some(fifo) = unblock {
                let _ = std::fs::OpenOptions::new().write(true).open(fifo);
            }
            panic!("the download blocked for 20 s");
        }
    }
}

/// A file of the user's, `victim` in `dir`, that nothing may write to.
fn victim(dir: &Scratch) -> PathBuf {
    let path = dir.path("victim");
    std::fs::write(&path, VICTIM).unwrap();
    path
}

fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

fn lock_of(dest: &Path) -> PathBuf {
    PathBuf::from(format!("{}.lock", dest.display()))
}

fn ckpt_tmp_of(dest: &Path) -> PathBuf {
    PathBuf::from(format!("{}.tmp", ckpt_of(dest).display()))
}

/// A symlink at `DEST.cp.tmp` (the name a checkpoint save writes before its rename) used to
/// have its target truncated and overwritten with the checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_at_the_checkpoint_temp_name_is_never_written_through() {
    let env = Env::start().await;
    let want = env.put("o", 600_000, 91);
    let dir = Scratch::new("planted-cptmp");
    let dest = dir.path("o.bin");
    let victim = victim(&dir);
    std::os::unix::fs::symlink(&victim, ckpt_tmp_of(&dest)).unwrap();
    let report = env
        .client()
        .download(BUCKET, "o", &dest)
        .checkpoint(true)
        .part_size(100_000)
        .await
        .unwrap();
    assert_eq!(report.bytes_total, 600_000);
    assert_file(&dest, &want);
    assert_eq!(std::fs::read(&victim).unwrap(), VICTIM);
}

/// A symlink at `DEST.lock` used to have its target truncated to the pid. Now the link is
/// refused, naming it, and its target is untouched; `restart` removes the link (never the
/// target) and goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_at_the_lock_name_is_refused_and_never_written_through() {
    let env = Env::start().await;
    let want = env.put("l", 300_000, 92);
    let dir = Scratch::new("planted-lock-link");
    let dest = dir.path("l.bin");
    let victim = victim(&dir);
    std::os::unix::fs::symlink(&victim, lock_of(&dest)).unwrap();
    let e = env.client().download(BUCKET, "l", &dest).await.unwrap_err();
    assert!(matches!(e, Error::ForeignFile { .. }), "{e:?}");
    assert!(e.to_string().contains("l.bin.lock"), "{e}");
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read(&victim).unwrap(), VICTIM);
    assert_eq!(env.emu.counters().requests, 0, "refused before any request");

    env.client()
        .download(BUCKET, "l", &dest)
        .restart(true)
        .await
        .unwrap();
    assert_file(&dest, &want);
    assert_eq!(std::fs::read(&victim).unwrap(), VICTIM);
    assert_eq!(dir.names(), ["l.bin", "victim"]);
}

/// A file at `DEST.lock` that is not a lock (no pid line in it) is not ours to truncate or
/// delete: refused, kept whole, unless `restart`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unrelated_file_at_the_lock_name_is_kept_unless_restart() {
    let env = Env::start().await;
    let want = env.put("u", 300_000, 93);
    let dir = Scratch::new("planted-lock-file");
    let dest = dir.path("u.bin");
    std::fs::write(lock_of(&dest), VICTIM).unwrap();
    let e = env.client().download(BUCKET, "u", &dest).await.unwrap_err();
    assert!(matches!(e, Error::ForeignFile { .. }), "{e:?}");
    assert!(e.to_string().contains("u.bin.lock"), "{e}");
    assert_eq!(std::fs::read(lock_of(&dest)).unwrap(), VICTIM);

    // A stale lock of ours (a pid, as a killed run leaves it) is simply taken over.
    std::fs::write(lock_of(&dest), b"4242\n").unwrap();
    env.client().download(BUCKET, "u", &dest).await.unwrap();
    assert_file(&dest, &want);

    std::fs::remove_file(&dest).unwrap();
    std::fs::write(lock_of(&dest), VICTIM).unwrap();
    env.client()
        .download(BUCKET, "u", &dest)
        .restart(true)
        .await
        .unwrap();
    assert_file(&dest, &want);
    assert_eq!(dir.names(), ["u.bin"]);
}

/// A file that is not a checkpoint at the checkpoint path (the default `DEST.cp`, or one
/// given) used to be discarded as "corrupt" and overwritten. It is refused, named and kept,
/// unless `restart`. A torn or zeroed checkpoint of ours is still discarded as corrupt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_checkpoint_is_kept_unless_restart() {
    let env = Env::start().await;
    let want = env.put("c", 300_000, 94);
    let dir = Scratch::new("planted-cp");
    let dest = dir.path("c.bin");
    let custom = dir.path("notes.txt");
    for ckpt in [ckpt_of(&dest), custom.clone()] {
        std::fs::write(&ckpt, VICTIM).unwrap();
        let e = env
            .client()
            .download(BUCKET, "c", &dest)
            .checkpoint(true)
            .checkpoint_path(&ckpt)
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Checkpoint {
                    source: CkptError::NotACheckpoint { .. },
                    ..
                }
            ),
            "{e:?}"
        );
        let text = crate::common::chain(&e);
        assert!(text.contains(&ckpt.display().to_string()), "{text}");
        assert_eq!(std::fs::read(&ckpt).unwrap(), VICTIM);
        assert!(!dest.exists() && !temp_of(&dest).exists());

        env.client()
            .download(BUCKET, "c", &dest)
            .checkpoint(true)
            .checkpoint_path(&ckpt)
            .restart(true)
            .await
            .unwrap();
        assert_file(&dest, &want);
        assert!(!ckpt.exists());
        std::fs::remove_file(&dest).unwrap();
    }
    // An all-zero file (a checkpoint a power cut emptied) is ours: corrupt, started over.
    std::fs::write(ckpt_of(&dest), vec![0u8; 16384]).unwrap();
    let report = env
        .client()
        .download(BUCKET, "c", &dest)
        .checkpoint(true)
        .await
        .unwrap();
    assert!(
        matches!(
            report.checkpoint,
            oss_resume::CheckpointUse::Fresh {
                reason: Some(oss_resume::FreshReason::Corrupt(_))
            }
        ),
        "{:?}",
        report.checkpoint
    );
    assert_file(&dest, &want);
}

/// A FIFO at `DEST.cp` used to block the run forever in `open()` (a signal could not end
/// it). Now it is refused at once, named, and left in place; `restart` removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_at_the_checkpoint_name_never_blocks() {
    let env = Env::start().await;
    let want = env.put("f", 300_000, 95);
    let dir = Scratch::new("planted-fifo");
    let dest = dir.path("f.bin");
    let ckpt = ckpt_of(&dest);
    mkfifo(&ckpt);
    let e = guarded(
        env.client().download(BUCKET, "f", &dest).checkpoint(true),
        Some(&ckpt),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Checkpoint {
                source: CkptError::NotACheckpoint { .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert!(crate::common::chain(&e).contains("FIFO"), "{e}");
    assert!(is_fifo(&ckpt));

    // A FIFO at the lock or the temp data file's name blocks nothing either.
    std::fs::remove_file(&ckpt).unwrap();
    mkfifo(&lock_of(&dest));
    let e = guarded(
        env.client().download(BUCKET, "f", &dest).checkpoint(true),
        Some(&lock_of(&dest)),
    )
    .unwrap_err();
    assert!(matches!(e, Error::ForeignFile { .. }), "{e:?}");
    assert!(is_fifo(&lock_of(&dest)));
    std::fs::remove_file(lock_of(&dest)).unwrap();
    mkfifo(&temp_of(&dest));
    guarded(
        env.client().download(BUCKET, "f", &dest).checkpoint(true),
        Some(&temp_of(&dest)),
    )
    .unwrap();
    assert_file(&dest, &want);

    std::fs::remove_file(&dest).unwrap();
    mkfifo(&ckpt);
    guarded(
        env.client()
            .download(BUCKET, "f", &dest)
            .checkpoint(true)
            .restart(true),
        Some(&ckpt),
    )
    .unwrap();
    assert_file(&dest, &want);
    assert_eq!(dir.names(), ["f.bin"]);
}

/// A destination that is a FIFO, a socket or a device is refused before any request (the
/// final rename would replace it with a regular file: as root, `/dev/null` itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_special_file_as_destination_is_never_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let env = Env::start().await;
    env.put("s", 1000, 96);
    let dir = Scratch::new("planted-dest");
    let fifo = dir.path("fifo");
    mkfifo(&fifo);
    let socket = dir.path("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let mut special = vec![(fifo, "FIFO"), (socket, "socket")];
    // A character device where this user may make one (root): the null device.
    let device = dir.path("null");
    let made = rustix::fs::mknodat(
        rustix::fs::CWD,
        &device,
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o666),
        rustix::fs::makedev(1, 3),
    );
    if made.is_ok() {
        special.push((device, "character device"));
    }
    for (dest, kind) in &special {
        let e = guarded(env.client().download(BUCKET, "s", dest), Some(dest)).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidArgument {
                    argument: "destination",
                    ..
                }
            ),
            "{kind}: {e:?}"
        );
        assert!(e.to_string().contains(kind), "{e}");
        let file_type = std::fs::symlink_metadata(dest).unwrap().file_type();
        assert!(
            file_type.is_fifo() || file_type.is_socket() || file_type.is_char_device(),
            "{kind} was replaced"
        );
    }
    assert_eq!(env.emu.counters().requests, 0);

    // A symlink at DEST is replaced by the file; its target is never written.
    let victim = victim(&dir);
    let link = dir.path("link.bin");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    env.client().download(BUCKET, "s", &link).await.unwrap();
    assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(std::fs::read(&victim).unwrap(), VICTIM);
}

/// File names of 248-255 bytes: the side files' suffixes used to push their names past
/// the 255-byte limit, and the run failed after HEAD with "File name too long". Side-file
/// names are now shortened with a hash when needed, deterministically, so a crashed run's
/// files are found again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destination_names_up_to_255_bytes_download_and_resume() {
    let env = Env::start().await;
    let want = env.put("n", 400_000, 97);
    let dir = Scratch::new("long");
    for len in [247, 248, 250, 255] {
        let dest = dir.path(&"n".repeat(len));
        let gate = env.gate_after(1);
        let cancel = oss_resume::CancellationToken::new();
        let stop = cancel.clone();
        let first = env
            .client()
            .download(BUCKET, "n", &dest)
            .checkpoint(true)
            .part_size(100_000)
            // A GET per part, so the gate holds the second one.
            .max_request_size(100_000)
            .cancel_token(cancel)
            .on_progress(move |p| {
                if p.parts_done >= 1 {
                    stop.cancel();
                }
            })
            .await
            .unwrap_err();
        assert!(matches!(first, Error::Cancelled { .. }), "{len}: {first:?}");
        for name in dir.names() {
            assert!(name.len() <= 255, "{len}: {} bytes", name.len());
        }
        env.emu.remove_fault(gate);
        let report = env
            .client()
            .download(BUCKET, "n", &dest)
            .checkpoint(true)
            .part_size(100_000)
            .await
            .unwrap();
        assert!(
            matches!(report.checkpoint, oss_resume::CheckpointUse::Resumed { .. }),
            "{len}: {:?}",
            report.checkpoint
        );
        assert_file(&dest, &want);
        std::fs::remove_file(&dest).unwrap();
        assert!(dir.names().is_empty(), "{len}: {:?}", dir.names());
    }
}
