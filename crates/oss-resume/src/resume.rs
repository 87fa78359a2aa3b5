//! The resume decision: use a checkpoint only if it is intact and matches this object, this
//! plan and this temp file; otherwise say why and start clean — or refuse, when discarding it
//! would destroy someone else's progress.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use oss_ckpt::fs::file_identity;
use oss_ckpt::{BootId, Checkpoint, CkptError, Expected, Field, Snapshot, SnapshotKind};

use crate::aggregator::CkptFile;
use crate::error::{Error, LocalOp};
use crate::report::FreshReason;

/// How a download starts.
pub(crate) enum Start {
    /// From nothing; `reason` says why an existing checkpoint was not used.
    Fresh { reason: Option<FreshReason> },
    /// From a checkpoint: `ckpt.latest` holds the snapshot to continue from.
    Resume {
        ckpt: Box<Checkpoint>,
        file: File,
        snapshot: SnapshotKind,
    },
    /// The stored object differs from the current one (the changed-object policy decides);
    /// `reason` is a [`FreshReason::ObjectChanged`].
    ObjectChanged { reason: FreshReason },
    /// The previous run renamed the verified file onto the destination and stopped before
    /// deleting the checkpoint.
    AlreadyComplete,
}

/// Loads and checks the checkpoint for this download.
pub(crate) fn decide(
    ckpt_file: &CkptFile,
    expected: &Expected<'_>,
    temp_path: &Path,
    boot: Option<&BootId>,
) -> Result<Start, Error> {
    let ckpt_path = ckpt_file.path().to_path_buf();
    let mut ckpt = match ckpt_file.load_any() {
        Ok(ckpt) => ckpt,
        Err(CkptError::NotFound { .. }) => return Ok(Start::Fresh { reason: None }),
        Err(CkptError::Corrupt(why)) => {
            tracing::warn!(
                "discarding checkpoint {}: it is corrupt ({why})",
                ckpt_path.display()
            );
            return Ok(Start::Fresh {
                reason: Some(FreshReason::Corrupt(why)),
            });
        }
        Err(CkptError::Io { source, .. }) => {
            return Err(Error::local(LocalOp::Checkpoint, ckpt_path, source));
        }
        // A newer format: a newer version of this software may still want it.
        Err(source) => {
            return Err(Error::Checkpoint {
                path: ckpt_path,
                source,
            });
        }
    };
    match ckpt.check(expected) {
        Ok(()) => {}
        Err(CkptError::Mismatch {
            field: Field::PartSize,
            ..
        }) => {
            return Ok(Start::Fresh {
                reason: Some(FreshReason::PartSize {
                    checkpoint: ckpt.plan().part_size().get(),
                    now: expected.part_size.get(),
                }),
            });
        }
        Err(CkptError::Mismatch {
            field,
            stored,
            expected,
        }) if field.is_object_change() => {
            return Ok(Start::ObjectChanged {
                reason: FreshReason::ObjectChanged {
                    field,
                    checkpoint: stored,
                    now: expected,
                },
            });
        }
        // Another download's checkpoint (bucket, key, endpoint, destination): not ours to
        // overwrite.
        Err(source) => {
            return Err(Error::Checkpoint {
                path: ckpt_path,
                source,
            });
        }
    }
    let (snapshot, chosen) = ckpt.resume_from(boot);
    let chosen = chosen.clone();

    if ckpt.local().temp_path != temp_path {
        return Ok(Start::Fresh {
            reason: Some(FreshReason::TempPathChanged {
                checkpoint: ckpt.local().temp_path.clone(),
                now: temp_path.to_path_buf(),
            }),
        });
    }
    let file = match OpenOptions::new().read(true).write(true).open(temp_path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if completed_by_rename(&ckpt, expected, &chosen) {
                return Ok(Start::AlreadyComplete);
            }
            return Ok(Start::Fresh {
                reason: Some(FreshReason::TempFileGone {
                    path: temp_path.to_path_buf(),
                }),
            });
        }
        Err(e) => return Err(Error::local(LocalOp::CreateTemp, temp_path, e)),
    };
    let identity =
        file_identity(&file).map_err(|e| Error::local(LocalOp::CreateTemp, temp_path, e))?;
    match ckpt.check_temp_file(&identity) {
        Ok(()) => {}
        Err(CkptError::Mismatch {
            field,
            stored,
            expected,
        }) => {
            return Ok(Start::Fresh {
                reason: Some(FreshReason::TempFileChanged {
                    field,
                    checkpoint: stored,
                    now: expected,
                }),
            });
        }
        Err(source) => {
            return Err(Error::Checkpoint {
                path: ckpt_path,
                source,
            });
        }
    }
    ckpt.latest = chosen;
    Ok(Start::Resume {
        ckpt: Box::new(ckpt),
        file,
        snapshot,
    })
}

/// Whether the destination is the checkpoint's temp file, renamed after a complete,
/// verified download: same device, inode, length and birth time, and the snapshot complete with the
/// object's CRC.
fn completed_by_rename(ckpt: &Checkpoint, expected: &Expected<'_>, snapshot: &Snapshot) -> bool {
    let Ok(dest) = File::open(expected.destination) else {
        return false;
    };
    let Ok(identity) = file_identity(&dest) else {
        return false;
    };
    if ckpt.check_temp_file(&identity).is_err() || !snapshot.is_complete() {
        return false;
    }
    match expected.object.crc64 {
        Some(crc) => snapshot.object_crc() == Some(crc),
        None => true,
    }
}

/// Verify-on-resume: re-reads every byte the snapshot claims and checks it against the
/// recorded CRCs (the fold of done parts, each in-flight part's running CRC).
pub(crate) fn verify(file: &File, snapshot: &Snapshot) -> Result<(), String> {
    let plan = *snapshot.plan();
    let mut rebuilt = Snapshot::new(plan);
    let mut buf = vec![0u8; 1 << 20];
    let mut crc_of = |start: u64, len: u64| -> Result<u64, String> {
        let mut crc = oss_crc::Crc64::new();
        let mut at = start;
        let end = start + len;
        while at < end {
            let n = usize::try_from((end - at).min(buf.len() as u64)).unwrap_or(buf.len());
            let piece = buf.get_mut(..n).ok_or("buffer")?;
            crate::space::read_exact_at(file, piece, at)
                .map_err(|e| format!("reading bytes at {at}: {e}"))?;
            crc.update(piece);
            at += n as u64;
        }
        Ok(crc.value())
    };
    for indices in snapshot.done().done_ranges() {
        for part in plan.parts_in(indices) {
            let crc = crc_of(part.start(), part.len())?;
            rebuilt
                .complete(part.index(), crc)
                .map_err(|e| e.to_string())?;
        }
    }
    for p in snapshot.in_flight() {
        let Some(part) = plan.part(p.index) else {
            return Err(format!("in-flight part {} is outside the plan", p.index));
        };
        let crc = crc_of(part.start(), p.bytes_done)?;
        if crc != p.crc {
            return Err(format!(
                "part {} does not match its recorded CRC over its first {} bytes",
                p.index, p.bytes_done
            ));
        }
    }
    // Same plan and done set, so equal snapshots mean equal CRC folds: the done parts' bytes
    // on disk hash as recorded.
    let mut check = snapshot.clone();
    for p in snapshot.in_flight() {
        check.forget(p.index);
    }
    if check != rebuilt {
        return Err("the done parts' bytes on disk do not match the checkpoint's CRC fold".into());
    }
    Ok(())
}
