//! The resume decision: use a checkpoint only if it is intact and matches this object, this
//! plan and this temp file; otherwise say why and start clean — or refuse, when discarding it
//! would destroy someone else's progress.

use std::fs::File;
use std::io;
use std::path::Path;

use oss_ckpt::fs::{
    CheckpointFile, NotRegularFile, SideOpen, file_identity, open_read, open_side_file,
};
use oss_ckpt::{BootId, Checkpoint, CkptError, Expected, Field, Snapshot, SnapshotKind};

use crate::error::{Error, LocalOp};
use crate::failpoint::FailpointFs;
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
    /// deleting the checkpoint; `crc64` is the file's CRC-64 as the checkpoint recorded it.
    AlreadyComplete { crc64: Option<u64> },
}

/// Loads and checks the checkpoint for this download.
pub(crate) fn decide(
    ckpt_file: &CheckpointFile<FailpointFs>,
    expected: &Expected<'_>,
    temp_path: &Path,
    boot: Option<&BootId>,
) -> Result<Start, Error> {
    let ckpt_path = ckpt_file.path();
    let mut ckpt = match load(ckpt_file)? {
        Ok(ckpt) => ckpt,
        Err(start) => return Ok(start),
    };
    if let Some(start) = check_download(&ckpt, expected, ckpt_path)? {
        return Ok(start);
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
    let file = match open_side_file(temp_path, SideOpen::Existing) {
        Ok(file) => file,
        // Not a regular file any more (a FIFO, a link planted there): as good as gone; the
        // fresh start unlinks the name and creates a new file.
        Err(e) if NotRegularFile::find(&e).is_some() => {
            return Ok(Start::Fresh {
                reason: Some(FreshReason::TempFileGone {
                    path: temp_path.to_path_buf(),
                }),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if completed_by_rename(&ckpt, expected, &chosen) {
                return Ok(Start::AlreadyComplete {
                    crc64: chosen.object_crc(),
                });
            }
            return Ok(Start::Fresh {
                reason: Some(FreshReason::TempFileGone {
                    path: temp_path.to_path_buf(),
                }),
            });
        }
        Err(e) => return Err(Error::local(LocalOp::CreateTemp, temp_path, e)),
    };
    if let Some(start) = check_temp_file(&ckpt, &file, temp_path, ckpt_path)? {
        return Ok(start);
    }
    ckpt.latest = chosen;
    Ok(Start::Resume {
        ckpt: Box::new(ckpt),
        file,
        snapshot,
    })
}

/// Reads the checkpoint: `Ok(Err(start))` when there is none, or it is corrupt (discarded,
/// with the reason); an I/O error or a newer format is the download's error (a newer version
/// of this software may still want that checkpoint).
fn load(ckpt_file: &CheckpointFile<FailpointFs>) -> Result<Result<Checkpoint, Start>, Error> {
    let ckpt_path = ckpt_file.path();
    match ckpt_file.load_any() {
        Ok(ckpt) => Ok(Ok(ckpt)),
        Err(CkptError::NotFound { .. }) => Ok(Err(Start::Fresh { reason: None })),
        Err(CkptError::Corrupt(why)) => {
            tracing::warn!(
                "discarding checkpoint {}: it is corrupt ({why})",
                ckpt_path.display()
            );
            Ok(Err(Start::Fresh {
                reason: Some(FreshReason::Corrupt(why)),
            }))
        }
        Err(CkptError::Io { source, .. }) => {
            Err(Error::local(LocalOp::Checkpoint, ckpt_path, source))
        }
        Err(source) => Err(refused(ckpt_path, source)),
    }
}

/// Whether the checkpoint is for this download: `Some` start when it is not (another part
/// size starts fresh, a changed object goes to the policy), an error when it belongs to
/// another download (bucket, key, endpoint, destination: not ours to overwrite).
fn check_download(
    ckpt: &Checkpoint,
    expected: &Expected<'_>,
    ckpt_path: &Path,
) -> Result<Option<Start>, Error> {
    match ckpt.check(expected) {
        Ok(()) => Ok(None),
        Err(CkptError::Mismatch {
            field: Field::PartSize,
            ..
        }) => Ok(Some(Start::Fresh {
            reason: Some(FreshReason::PartSize {
                checkpoint: ckpt.plan().part_size().get(),
                now: expected.part_size.get(),
            }),
        })),
        Err(CkptError::Mismatch {
            field: Field::Window,
            stored,
            expected,
        }) => Ok(Some(Start::Fresh {
            reason: Some(FreshReason::Range {
                checkpoint: stored,
                now: expected,
            }),
        })),
        Err(CkptError::Mismatch {
            field,
            stored,
            expected,
        }) if field.is_object_change() => Ok(Some(Start::ObjectChanged {
            reason: FreshReason::ObjectChanged {
                field,
                checkpoint: stored,
                now: expected,
            },
        })),
        Err(source) => Err(refused(ckpt_path, source)),
    }
}

/// Whether the open temp file is the one the checkpoint recorded: `Some` fresh start when
/// it was replaced, resized or moved.
fn check_temp_file(
    ckpt: &Checkpoint,
    file: &File,
    temp_path: &Path,
    ckpt_path: &Path,
) -> Result<Option<Start>, Error> {
    let identity =
        file_identity(file).map_err(|e| Error::local(LocalOp::CreateTemp, temp_path, e))?;
    match ckpt.check_temp_file(&identity) {
        Ok(()) => Ok(None),
        Err(CkptError::Mismatch {
            field,
            stored,
            expected,
        }) => Ok(Some(Start::Fresh {
            reason: Some(FreshReason::TempFileChanged {
                field,
                checkpoint: stored,
                now: expected,
            }),
        })),
        Err(source) => Err(refused(ckpt_path, source)),
    }
}

/// A checkpoint this download must not use, nor discard silently: another download's, or
/// a newer format's.
fn refused(ckpt_path: &Path, source: CkptError) -> Error {
    Error::Checkpoint {
        path: ckpt_path.to_path_buf(),
        source,
    }
}

/// Whether the destination is the checkpoint's temp file, renamed after a complete,
/// verified download: same device, inode, length and birth time, and the snapshot complete
/// (with the object's CRC, for a whole object: a byte window has none to match).
fn completed_by_rename(ckpt: &Checkpoint, expected: &Expected<'_>, snapshot: &Snapshot) -> bool {
    // Not blocking on a FIFO, nor following a link, at the destination.
    let Ok(dest) = open_read(expected.destination) else {
        return false;
    };
    let Ok(identity) = file_identity(&dest) else {
        return false;
    };
    if ckpt.check_temp_file(&identity).is_err() || !snapshot.is_complete() {
        return false;
    }
    match expected.object.crc64 {
        Some(crc) if expected.window.is_none() => snapshot.object_crc() == Some(crc),
        _ => true,
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
