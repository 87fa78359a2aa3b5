//! The finish: every part is on disk. Check the CRC-64, make the data durable, rename the
//! temp file onto the destination (the only time the destination is touched), delete the
//! checkpoint, report.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use oss_ckpt::Checkpoint;
use oss_ckpt::fs::{CheckpointFile, SaveKind};
use oss_http::ObjectMeta;
use oss_parts::Plan;

use super::transfer::Transferred;
use super::{Job, Stop};
use crate::aggregator::save_checkpoint;
use crate::error::{Chain, Error, LocalOp};
use crate::failpoint::{self, FailpointFs};
use crate::options::Durability;
use crate::paths::parent_dir;
use crate::report::{CheckpointUse, Report};

impl Job {
    /// Verifies, syncs and renames the complete temp file, then deletes the checkpoint.
    pub(super) fn finish(
        &mut self,
        meta: ObjectMeta,
        file: Arc<File>,
        transferred: Transferred,
        bytes_resumed: u64,
        ckpt_use: CheckpointUse,
    ) -> Result<Report, Stop> {
        failpoint::hit(failpoint::PARTS_DONE);
        let Transferred {
            mut ckpt,
            mut ckpt_file,
            retries,
            received,
        } = transferred;
        let actual = ckpt.latest.object_crc().unwrap_or(0);
        // OSS's CRC-64 is the whole object's: a window's cannot be checked against it.
        if let Some(expected) = meta.crc64.filter(|_| self.window.is_none())
            && expected != actual
        {
            // Delete both, so a retry can neither loop on nor accept the bad bytes.
            self.discard();
            return Err(Error::CrcMismatch { expected, actual }.into());
        }
        self.stamp(&file, &meta);
        let durable = self.options.durability == Durability::Durable;
        if durable {
            self.make_durable(&file, &mut ckpt, ckpt_file.as_mut())?;
        }
        drop(file);
        std::fs::rename(&self.temp_path, &self.destination)
            .map_err(|e| Error::local(LocalOp::Rename, &self.destination, e))?;
        if durable {
            sync_dir(&parent_dir(&self.destination))?;
        }
        failpoint::hit(failpoint::DEST_RENAMED);
        if let Some(f) = ckpt_file.as_mut() {
            self.remove_checkpoint(f);
        }
        let plan = *ckpt.latest.plan();
        let finished = Finished {
            transferred: received,
            resumed: bytes_resumed,
            retries,
            crc64: Some(actual),
        };
        Ok(self.report(meta, &plan, finished, ckpt_use))
    }

    /// What the finished file carries besides its bytes, set before the rename (and before
    /// the final sync): the object's `Last-Modified` as its modification time, and the
    /// recorded source. A failure is a warning: the bytes are verified and complete.
    fn stamp(&mut self, file: &File, meta: &ObjectMeta) {
        if self.options.preserve_mtime
            && let Some(time) = meta.last_modified
            && let Err(e) = file.set_modified(time)
        {
            self.warnings.push(format!(
                "could not set the file's modification time to the object's Last-Modified: {e}"
            ));
        }
        // The object's ETag and CRC-64 do not describe a byte window of it.
        if self.options.record_source
            && self.window.is_none()
            && let Err(e) = crate::tags::record(file, &meta.etag, meta.crc64)
        {
            self.warnings.push(format!(
                "could not record the object's ETag and CRC-64 on the file (extended attributes: {e}); a later --update cannot tell it is current"
            ));
        }
    }

    /// fdatasync of the data, then (with the checkpoint on) the complete snapshot saved as
    /// the durable one, before the rename. A failed fsync deletes the download's files:
    /// the kernel may have dropped the pages it could not write.
    fn make_durable(
        &self,
        file: &File,
        ckpt: &mut Checkpoint,
        ckpt_file: Option<&mut CheckpointFile<FailpointFs>>,
    ) -> Result<(), Error> {
        let snapshot = ckpt.latest.clone();
        let synced = self.options.hooks.data_sync.run(file);
        if let Err(source) = synced {
            self.discard();
            return Err(Error::SyncFailed {
                path: self.temp_path.clone(),
                source,
            });
        }
        failpoint::hit(failpoint::DATA_SYNCED);
        if let Some(f) = ckpt_file {
            ckpt.durable = snapshot;
            if let Err(e) = save_checkpoint(f, ckpt, SaveKind::Durable) {
                // The checkpoint's fsync failed: as in the aggregator, nothing of this
                // download is trusted any more (and SyncFailed says it was deleted).
                if matches!(e, Error::SyncFailed { .. }) {
                    self.discard();
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Deletes the checkpoint of a complete download; a failure is only a warning (the
    /// next call finds the destination complete, [`CheckpointUse::AlreadyComplete`]).
    fn remove_checkpoint(&mut self, file: &mut CheckpointFile<FailpointFs>) {
        if let Err(e) = file.remove() {
            self.warnings.push(format!(
                "the download is complete but deleting its checkpoint failed: {}",
                Chain(&e)
            ));
        }
    }

    /// The previous run finished everything but deleting the checkpoint.
    pub(super) fn already_complete(
        &mut self,
        meta: ObjectMeta,
        plan: Plan,
        crc64: Option<u64>,
    ) -> Result<Report, Error> {
        // The file is the one this download wrote and verified (the checkpoint's temp file,
        // renamed); the previous run may have stopped before stamping it.
        if let Ok(file) = oss_ckpt::fs::open_read(&self.destination) {
            self.stamp(&file, &meta);
        }
        if self.options.durability == Durability::Durable {
            sync_dir(&parent_dir(&self.destination))?;
        }
        self.remove_checkpoint(&mut self.ckpt_file());
        let finished = Finished {
            transferred: 0,
            resumed: plan.object_size(),
            retries: 0,
            crc64,
        };
        Ok(self.report(meta, &plan, finished, CheckpointUse::AlreadyComplete))
    }

    fn report(
        &mut self,
        object: ObjectMeta,
        plan: &Plan,
        finished: Finished,
        checkpoint: CheckpointUse,
    ) -> Report {
        Report {
            bytes_total: plan.object_size(),
            crc64_verified: object.crc64.is_some() && self.window.is_none(),
            crc64: finished.crc64,
            range: self.span.clone(),
            object,
            bytes_transferred: finished.transferred,
            bytes_resumed: finished.resumed,
            retries: finished.retries,
            requests: self.requests,
            tail_splits: self.tail_splits,
            connections_opened: self
                .http
                .connections_opened()
                .saturating_sub(self.connections_before),
            restarts: self.restarts,
            parts_total: plan.len(),
            part_size: plan.part_size().get(),
            checkpoint,
            warnings: std::mem::take(&mut self.warnings),
            elapsed: self.started.elapsed(),
            adaptive: self.adaptive.take(),
        }
    }
}

/// What a finished attempt counted, for its report.
struct Finished {
    /// Body bytes received in this call.
    transferred: u64,
    /// Bytes already on disk from an earlier call.
    resumed: u64,
    /// Part requests retried.
    retries: u64,
    /// CRC-64 of the file's bytes, when known.
    crc64: Option<u64>,
}

/// fsync of the destination's directory, so the rename in it survives power loss. Runs
/// after the rename: a failure is not [`Error::SyncFailed`] (nothing is deleted, the file
/// is in place) but [`LocalOp::SyncDirectory`], and the checkpoint is kept so the next call
/// finishes the job ([`CheckpointUse::AlreadyComplete`]).
fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        let result = File::open(dir).and_then(|d| d.sync_all());
        result.map_err(|source| Error::local(LocalOp::SyncDirectory, dir, source))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
