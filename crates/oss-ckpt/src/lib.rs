//! The checkpoint of a resumable download: what it remembers between attempts, and how
//! that reaches the disk.
//!
//! - A pure codec ([`encode`], [`decode`]): a file of four slots, each a header (magic,
//!   format version, body length, sequence number, slot length, CRC-64 checksum) and a
//!   postcard body; the newest intact slot wins. A [`Checkpoint`] records the object's
//!   identity, the plan, the local files (destination, temp data file and its identity),
//!   the boot id, and two progress snapshots, *latest* and *durable*, each with the done
//!   parts, the progress inside in-flight parts (offset and running CRC) and the CRC fold
//!   of the done parts. [`decode`] never panics and says precisely what is wrong.
//! - [`fs`]: crash-safe saves (cheap and durable) that overwrite one slot in place — no
//!   rename, so they do not wait for the filesystem's journal — behind a
//!   [`fs::Filesystem`] seam, loading
//!   with a typed reason, the default path `{destination}.cp`, the boot id and file
//!   identities.
//!
//! A checkpoint is for the whole object, or for a byte window of it
//! ([`Checkpoint::for_window`], format 4): a resume continues only a checkpoint of the same
//! window ([`Field::Window`]).
//!
//! The on-disk layout (the four slots of formats 3 and 4, versions 1 and 2, what a reader
//! does with a torn slot) and the measured cost of saves at scale are in
//! `docs/checkpoint-format.md`;
//! `cargo run --release -p oss-ckpt --example ckpt_scale` measures them again.
//!
//! # The ordering contract (durable mode)
//!
//! A durable snapshot must never claim bytes that are not on disk. The caller:
//!
//! 1. copies the latest snapshot (`let snapshot = ckpt.latest.clone()`) *before* it
//!    starts the data fsync — so the snapshot only claims bytes written before the sync;
//! 2. fsyncs (fdatasync) the temp data file. **An fsync error is fatal** for this file:
//!    Linux may have dropped the dirty pages, and a retried fsync can report success for
//!    data that is gone. Stop; do not save a durable snapshot;
//! 3. sets `ckpt.durable = snapshot` and saves with [`fs::SaveKind::Durable`] (the
//!    checkpoint file and its directory are fsynced; a [`CkptError::SyncFailed`] there is
//!    fatal too).
//!
//! Between those, `latest` is saved cheaply (no fsync) as often as the caller likes. On
//! resume, [`Checkpoint::resume_from`] picks `latest` if the machine has not rebooted
//! since (same [`fs::boot_id`]) and `durable` otherwise. Finishing order:
//! fsync data → rename the temp file to the destination → fsync the directory → delete
//! the checkpoint ([`fs::CheckpointFile::remove`]).
//!
//! ```
//! use oss_ckpt::fs::{CheckpointFile, SaveKind};
//! use oss_ckpt::{Checkpoint, FileIdentity, LocalFiles, ObjectIdentity};
//! use oss_parts::{Plan, PartSize};
//!
//! # let dir = std::env::temp_dir().join(format!("oss-ckpt-doc-lib-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let destination = dir.join("big.img");
//! # let object = ObjectIdentity { endpoint_host: "h".into(), bucket: "b".into(),
//! #     key: "k".into(), version_id: None, etag: "e".into(), size: 30,
//! #     last_modified: "m".into(), crc64: None };
//! let temp_path = dir.join("big.img.tmp");
//! let data = std::fs::File::create(&temp_path)?;
//! data.set_len(object.size)?;
//! let local = LocalFiles {
//!     destination: destination.clone(),
//!     temp_path,
//!     temp_file: oss_ckpt::fs::file_identity(&data)?,
//! };
//! let plan = Plan::new(object.size, PartSize::new(10)?)?;
//! let mut ckpt = Checkpoint::new(object, plan, local, oss_ckpt::fs::boot_id())?;
//! let mut file = CheckpointFile::for_destination(&destination);
//!
//! // The progress loop: record what the workers report, save cheaply.
//! ckpt.latest.record(1, 4, oss_crc::checksum(&[0; 4]))?;
//! ckpt.latest.complete(0, oss_crc::checksum(&[0; 10]))?;
//! file.save(&ckpt, SaveKind::Cheap)?;
//!
//! // Now and then: snapshot, fsync the data, then save durably.
//! let snapshot = ckpt.latest.clone();
//! data.sync_data()?; // an error here stops the download
//! ckpt.durable = snapshot;
//! file.save(&ckpt, SaveKind::Durable)?;
//!
//! // Next attempt, same boot: resume from the latest snapshot.
//! let loaded = file.load_any()?;
//! let (_which, progress) = loaded.resume_from(oss_ckpt::fs::boot_id().as_ref());
//! assert_eq!(progress.bytes_done(), 14);
//! # file.remove()?;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! No networking, no async runtime.

mod error;
mod format;
pub mod fs;
mod model;

pub use error::{CkptError, Corruption, Field, Step};
pub use format::{FORMAT_VERSION, decode, encode, encode_into};
/// The on-disk layout's constants, for the golden and corruption tests (this crate's, and
/// oss-resume's) that build or damage files byte by byte. Not part of the API: a reader or
/// writer of checkpoints goes through [`encode`], [`decode`] and [`fs::CheckpointFile`]. The
/// layout itself is described in `docs/checkpoint-format.md`.
#[doc(hidden)]
pub mod layout {
    pub use crate::format::{
        HEADER_LEN, MAGIC, MAX_BODY_LEN, MAX_FILE_LEN, SLOT_COUNT, SLOT_HEADER_LEN,
    };
}
pub use model::{
    BootId, Checkpoint, Expected, FileIdentity, InFlight, LocalFiles, MAX_IN_FLIGHT,
    ObjectIdentity, Snapshot, SnapshotKind,
};
