//! The start of an attempt: whether to resume, the temp data file it writes, and the
//! checkpoint that describes both, saved before the first GET.

use std::fs::File;
use std::io;

use oss_ckpt::fs::{CheckpointFile, SaveKind, SideOpen, open_side_file};
use oss_ckpt::{BootId, Checkpoint, Expected, LocalFiles, ObjectIdentity, SnapshotKind};
use oss_http::ObjectMeta;
use oss_parts::Plan;

use super::{Job, Stop, remove_if_exists};
use crate::aggregator::save_checkpoint;
use crate::error::{Error, LocalOp};
use crate::failpoint::FailpointFs;
use crate::options::{Durability, OnChange};
use crate::paths::parent_dir;
use crate::report::{CheckpointUse, FreshReason};
use crate::resume::{self, Start};
use crate::space::{self, Prealloc};

/// Where an attempt begins.
pub(super) enum Begin {
    /// Downloading: from nothing, or (`resumed`) from a checkpoint and its open temp file.
    Download {
        resumed: Option<(Box<Checkpoint>, File)>,
        ckpt_use: CheckpointUse,
    },
    /// The previous run finished everything but deleting the checkpoint; `crc64` is the
    /// CRC-64 of the file's bytes its checkpoint recorded.
    AlreadyComplete { crc64: Option<u64> },
}

impl Begin {
    fn fresh(reason: Option<FreshReason>) -> Self {
        Self::Download {
            resumed: None,
            ckpt_use: CheckpointUse::Fresh { reason },
        }
    }
}

impl Job {
    /// The resume decision: with the checkpoint on, load it and check it against this
    /// object, plan and temp file (`resume::decide`), then apply the changed-object policy
    /// and verify-on-resume.
    pub(super) async fn decide_start(
        &mut self,
        identity: &ObjectIdentity,
        plan: Plan,
        meta: &ObjectMeta,
        boot: &Option<BootId>,
    ) -> Result<Begin, Stop> {
        if !self.options.checkpoint {
            return Ok(Begin::Download {
                resumed: None,
                ckpt_use: CheckpointUse::Disabled,
            });
        }
        let expected = Expected {
            object: identity,
            part_size: plan.part_size(),
            destination: &self.destination,
            window: self.window,
        };
        let ckpt_file = self.ckpt_file();
        match resume::decide(&ckpt_file, &expected, &self.temp_path, boot.as_ref())? {
            Start::Fresh { reason } => {
                if let Some(r) = &reason {
                    tracing::info!("not resuming: {r}");
                }
                let asked = std::mem::take(&mut self.discarded_on_request);
                Ok(Begin::fresh(
                    reason.or(asked.then_some(FreshReason::Restarted)),
                ))
            }
            Start::ObjectChanged { reason } => self.changed_since_checkpoint(reason, meta),
            Start::AlreadyComplete { crc64 } => Ok(Begin::AlreadyComplete { crc64 }),
            Start::Resume {
                ckpt,
                file,
                snapshot,
            } => self.resume_from(ckpt, file, snapshot).await,
        }
    }

    /// The object changed since the checkpoint: stop, or (under [`OnChange::Restart`])
    /// discard the old version's data and start fresh.
    fn changed_since_checkpoint(
        &self,
        reason: FreshReason,
        meta: &ObjectMeta,
    ) -> Result<Begin, Stop> {
        if self.options.on_change == OnChange::Fail {
            let detail = match &reason {
                FreshReason::ObjectChanged {
                    field,
                    checkpoint,
                    now,
                } => format!("since the checkpoint was written ({field} {checkpoint}, now {now})"),
                other => other.to_string(),
            };
            return Err(Stop::Changed {
                detail,
                part: None,
                request_id: meta.request_id.clone(),
            });
        }
        self.discard();
        Ok(Begin::fresh(Some(reason)))
    }

    /// Resumes from `ckpt`, after re-reading the done ranges when verify-on-resume is on
    /// (a mismatch starts fresh). (`&mut`: a `&Job` held across the await would make the
    /// download's future not `Send`, the progress callback not being `Sync`.)
    async fn resume_from(
        &mut self,
        ckpt: Box<Checkpoint>,
        file: File,
        snapshot: SnapshotKind,
    ) -> Result<Begin, Stop> {
        let mut verified = false;
        if self.options.verify_on_resume {
            let data = file.try_clone().map_err(|e| self.local(LocalOp::Read, e))?;
            let snap = ckpt.latest.clone();
            let checked = tokio::task::spawn_blocking(move || resume::verify(&data, &snap))
                .await
                .unwrap_or_else(|e| Err(format!("verify task: {e}")));
            if let Err(detail) = checked {
                let reason = FreshReason::VerifyFailed { detail };
                tracing::warn!("not resuming: {reason}");
                return Ok(Begin::fresh(Some(reason)));
            }
            verified = true;
        }
        Ok(Begin::Download {
            resumed: Some((ckpt, file)),
            ckpt_use: CheckpointUse::Resumed { snapshot, verified },
        })
    }

    /// The temp data file (the resumed one, or a new one), sized to the object (or the
    /// window) with room for it, and the checkpoint that records it.
    pub(super) fn open_temp_file(
        &mut self,
        resumed: Option<(Box<Checkpoint>, File)>,
        identity: ObjectIdentity,
        plan: Plan,
        boot: Option<BootId>,
    ) -> Result<(Checkpoint, File), Error> {
        let (ckpt, file) = match resumed {
            Some((ckpt, file)) => (Some(*ckpt), file),
            None => (None, self.create_temp_file()?),
        };
        if let Err(e) = self.make_room(&file, plan.object_size()) {
            if ckpt.is_none() {
                remove_if_exists(&self.temp_path);
            }
            return Err(e);
        }
        let temp_file =
            oss_ckpt::fs::file_identity(&file).map_err(|e| self.local(LocalOp::CreateTemp, e))?;
        let mut ckpt = match ckpt {
            Some(mut c) => {
                c.set_temp_file(temp_file);
                c
            }
            None => {
                let local = LocalFiles {
                    destination: self.destination.clone(),
                    temp_path: self.temp_path.clone(),
                    temp_file,
                };
                let made = match self.window {
                    None => Checkpoint::new(identity, plan, local, boot.clone()),
                    Some(window) => {
                        Checkpoint::for_window(identity, window, plan, local, boot.clone())
                    }
                };
                made.map_err(|source| Error::Checkpoint {
                    path: self.ckpt_path.clone(),
                    source,
                })?
            }
        };
        ckpt.boot_id = boot;
        Ok((ckpt, file))
    }

    /// A new, empty temp data file. A fresh start makes a new file rather than truncating
    /// the old one: a checkpoint may still describe the old one (one this run did not load,
    /// checkpoint off or at another path), and a file truncated in place keeps its identity
    /// (device, inode, birth time; the length comes back with the new size), so that
    /// checkpoint would later trust bytes this run overwrote or zeroed.
    fn create_temp_file(&self) -> Result<File, Error> {
        match std::fs::remove_file(&self.temp_path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.local(LocalOp::Remove, e)),
        }
        // Never through a link: the name was just unlinked and O_EXCL makes a new file.
        open_side_file(&self.temp_path, SideOpen::CreateNew)
            .map_err(|e| self.local(LocalOp::CreateTemp, e))
    }

    /// Free-space check and preallocation of the temp file (length `size` afterwards).
    fn make_room(&mut self, file: &File, size: u64) -> Result<(), Error> {
        if self.options.check_free_space {
            let dir = parent_dir(&self.temp_path);
            let allocated =
                space::allocated(file).map_err(|e| self.local(LocalOp::FreeSpace, e))?;
            let needed = size.saturating_sub(allocated);
            let available =
                space::free_space(&dir).map_err(|e| Error::local(LocalOp::FreeSpace, &dir, e))?;
            if available < needed {
                return Err(Error::InsufficientSpace {
                    path: self.temp_path.clone(),
                    needed,
                    available,
                });
            }
        }
        if self.options.preallocate {
            self.preallocate(file, size)?;
        }
        if file.metadata().map(|m| m.len()).ok() != Some(size) {
            file.set_len(size)
                .map_err(|e| self.local(LocalOp::CreateTemp, e))?;
        }
        Ok(())
    }

    /// `fallocate` of the whole object; a full disk is [`Error::InsufficientSpace`], a
    /// filesystem that cannot preallocate a warning (the file stays sparse).
    fn preallocate(&mut self, file: &File, size: u64) -> Result<(), Error> {
        match space::preallocate(file, size) {
            Ok(Prealloc::Reserved) => Ok(()),
            Ok(Prealloc::Unsupported) => {
                let note = "the filesystem cannot preallocate; the temp file is sparse".to_owned();
                if !self.warnings.contains(&note) {
                    self.warnings.push(note);
                }
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::StorageFull => {
                let dir = parent_dir(&self.temp_path);
                Err(Error::InsufficientSpace {
                    path: self.temp_path.clone(),
                    needed: size.saturating_sub(space::allocated(file).unwrap_or(0)),
                    available: space::free_space(&dir).unwrap_or(0),
                })
            }
            Err(e) => Err(self.local(LocalOp::Preallocate, e)),
        }
    }

    /// With the checkpoint on, its file for this attempt, holding `ckpt`: the temp file is
    /// recorded before the first GET, so a crash from here on is resumable. In durable mode
    /// this first save is durable: it replaces any earlier run's checkpoint by renaming a
    /// new file over it, and that rename must not reach the disk before the new file does
    /// (one fsync per run, before any data).
    pub(super) fn first_save(
        &self,
        ckpt: &Checkpoint,
    ) -> Result<Option<CheckpointFile<FailpointFs>>, Error> {
        if !self.options.checkpoint {
            return Ok(None);
        }
        let mut file = self.ckpt_file();
        let kind = match self.options.durability {
            Durability::Durable => SaveKind::Durable,
            Durability::Fast => SaveKind::Cheap,
        };
        save_checkpoint(&mut file, ckpt, kind)?;
        Ok(Some(file))
    }
}
