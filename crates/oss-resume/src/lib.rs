//! Resumable, parallel, verified downloads from Alibaba Cloud OSS — the C SDK's
//! `oss_resumable_download_file` as a Rust call, with the same parameters and defaults, and
//! crash safety none of the official SDKs has.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = oss_resume::Client::builder()
//!     .endpoint("https://oss-cn-hangzhou.aliyuncs.com")
//!     .region("cn-hangzhou")
//!     .credentials(oss_resume::Credentials::from_env()?) // OSS_ACCESS_KEY_ID / _SECRET
//!     .build()?;
//! let report = client
//!     .download("examplebucket", "exampledir/exampleobject.txt", "local.bin")
//!     .part_size(100 * 1024) // C SDK: part_size
//!     .threads(3)            // C SDK: thread_num (default 1)
//!     .checkpoint(true)      // C SDK: enable_checkpoint (default off); path local.bin.cp
//!     .on_progress(|p| eprintln!("{}/{} bytes", p.bytes_done, p.bytes_total))
//!     .await?;
//! println!("{} bytes ({} resumed, {} retries)", report.bytes_total, report.bytes_resumed, report.retries);
//! # Ok(()) }
//! ```
//!
//! | C SDK | here | default |
//! |---|---|---|
//! | `part_size` | [`Download::part_size`] (1 B ..= 5 GiB) | 8 MiB ([`oss_parts::PartSize::DEFAULT`]) |
//! | `thread_num` | [`Download::threads`] (1 ..= 1024) | 1 |
//! | `enable_checkpoint` | [`Download::checkpoint`] | off |
//! | `checkpoint_path` | [`Download::checkpoint_path`] | `{destination}.cp` |
//! | `headers` | [`Download::header`] (HEAD *and* every part GET) | none |
//! | `progress_callback` | [`Download::on_progress`] | none |
//! | `resp_headers` | [`Report::object`] | |
//!
//! Also: [`Download::version_id`], [`Download::bandwidth_limit`] (one token bucket for all
//! workers), [`Download::cancel_token`], [`Download::on_change`] (fail — the default — or
//! restart when the object changes), [`Download::restart`] (discard the checkpoint found and
//! start over), [`Download::durability`], [`Download::verify_on_resume`], and
//! [`Download::blocking`] for callers without an async runtime. [`Error::service`] gives OSS's
//! whole error answer ([`ServiceError`]: code, message, status, request id, advice).
//!
//! # What a download does
//!
//! 1. **Validate** every argument ([`Error::InvalidArgument`]) before any request.
//! 2. **Lock** `{destination}.lock` (`File::try_lock`, the holder's pid inside, the unlink-race
//!    re-check; ENOLCK warns and goes on). A second run on the same destination gets
//!    [`Error::Locked`] naming the holder. The lock file is removed when the run ends.
//! 3. **HEAD** the object; its ETag (and version id, when there is one) pins every part GET
//!    (`If-Match`, `versionId`). Strict range checks are oss-http's: a `200` whole body or a
//!    wrong `Content-Range` is never written at a part's offset.
//! 4. **Plan** the parts (computed on demand, never a list) and decide whether to resume
//!    (see *Checkpoints*).
//! 5. **Temp file** `{destination}.oss-tmp`: free-space check, then `fallocate` mode 0
//!    (sparse where unsupported; both can be turned off).
//! 6. **Download** with a fixed pool of `threads` workers pulling the next missing part from
//!    a shared scheduler. Each streams its range through a bounded sink that coalesces the
//!    body into blocks of 256 KiB .. 1 MiB and writes each with one positional vectored write
//!    (`pwritev`) on the blocking pool, one write in flight per worker — a slow disk
//!    back-pressures that part's socket, never the runtime, and memory stays at about two
//!    blocks per worker whatever the object or part size. The CRC-64 of each part is computed
//!    over the bytes as they are written. Transient failures retry per part with oss-http's
//!    policies (faults under [`RetryPolicy`], OSS's throttling answers under the larger
//!    [`ThrottlePolicy`]), resuming inside the part from the byte the disk reached; a
//!    permanent error cancels the other workers at once; local disk errors fail fast as
//!    [`Error::LocalIo`] and are never retried as remote ones.
//! 7. **Aggregate**: one thread owns the state (done set, in-flight offsets and CRCs, the CRC
//!    fold, counters), calls the progress callback at a bounded rate and commits the
//!    checkpoint.
//! 8. **Finish**: the folded CRC-64 is checked against `x-oss-hash-crc64ecma` (no second
//!    read; a mismatch is [`Error::CrcMismatch`] and deletes the temp file and checkpoint),
//!    then fdatasync (durable mode) → rename onto the destination → fsync the directory →
//!    delete the checkpoint → unlock. The destination is touched only by that rename.
//!
//! # Temp file policy
//!
//! One fixed name, `{destination}`[`TEMP_SUFFIX`], beside the destination (same filesystem,
//! so the final rename is atomic), and only ever touched under the lock:
//! - every fresh start removes whatever is at that name and creates a new file (never
//!   truncates in place: a file truncated in place keeps its device, inode and birth time,
//!   so a checkpoint recorded for it — at another path, or left by an earlier run while this
//!   one had the checkpoint off — could later trust bytes this run overwrote);
//! - checkpoint off: a failed or cancelled run removes it; a crashed run's temp file is found
//!   by the next run (it cannot belong to a live run: that run would hold the lock) and
//!   replaced — never orphaned;
//! - checkpoint on: its path and identity (device, inode, length, birth time) live in the checkpoint; a
//!   failed or cancelled run keeps it for the next call; a temp file that is missing,
//!   truncated or replaced makes the next call start over (never a zero-filled file, unlike
//!   Go SDK v2); after a CRC mismatch, a failed fsync or a changed object it is deleted.
//!
//! # Checkpoints (the C SDK's `enable_checkpoint`)
//!
//! With [`Download::checkpoint`] on, progress is committed during the download and the next
//! call with the same arguments resumes; the checkpoint is deleted after the rename and the
//! directory fsync. A checkpoint is used only if it is intact (oss-ckpt's checksum) and
//! matches this object (ETag, size, Last-Modified, CRC-64, version), this plan (part size)
//! and this temp file; otherwise [`Report::checkpoint`] says why it started over (a
//! [`FreshReason`], as data). Refused rather than discarded: a checkpoint of *another*
//! download at that path (other bucket, key, endpoint or destination) and one written by a
//! newer format ([`Error::Checkpoint`]) — unless [`Download::restart`] asks to discard
//! whatever is there, which happens under the destination's lock. A changed object follows
//! [`OnChange`]. A custom checkpoint path does not change the lock.
//!
//! Commits: the *latest* snapshot is saved without fsync about every 10 ms
//! ([`Download::commit_interval`]) — a process kill loses no page cache, so it is safe to
//! resume from after `kill -9`. In [`Durability::Durable`] mode (the default) a syncer thread
//! fdatasyncs the data every [`Download::sync_interval`] (100 ms; with the checkpoint off
//! too, so the disk keeps writing and the final fsync is short): the snapshot is copied
//! *before* the sync, becomes the *durable* snapshot after it, is saved into the
//! checkpoint's durable slots, and the syncer then fsyncs that checkpoint file and its
//! directory (before the final rename, the checkpoint is saved with its own fdatasync).
//! Saves overwrite one of the checkpoint file's four slots in place (oss-ckpt's format 3):
//! no rename, so a commit does not wait for the filesystem's journal when another process
//! fsyncs on the same disk. The machine's boot id in
//! the checkpoint decides on resume: same boot → latest,
//! otherwise → durable. An fsync error is fatal for the temp file ([`Error::SyncFailed`]).
//! [`Durability::Fast`] never fsyncs: after a reboot it starts over, and a power cut right
//! after completion can leave a short file — what every official SDK risks.
//!
//! If a run dies after the rename but before deleting the checkpoint, the next call sees
//! that the destination *is* the recorded temp file (same device, inode, length, birth time) with a
//! complete snapshot whose CRC matches, deletes the checkpoint and reports
//! [`CheckpointUse::AlreadyComplete`] without downloading.
//!
//! ## Re-fetch bound
//!
//! After a kill, the next call re-fetches only bytes that had not reached a committed
//! snapshot. Per worker that is its batch not yet written (less than one block of
//! 256 KiB ..= 1 MiB — 1 MiB up to 16 threads — written once it is one commit interval old
//! and the disk is idle, checked as each chunk arrives), the block being written, and what
//! reached the disk since the last cheap commit; plus whatever the kernel had buffered on the
//! socket unread. So
//!
//! > re-fetched ≤ rate × (2 × commit interval + write latency) + threads × (block + 256 KiB)
//! > + socket buffers
//!
//! The time terms assume the committing thread gets the CPU (no fsync ever runs on it, and
//! a commit is a `pwrite` into the page cache, which waits for nothing else on the disk): on
//! a starved machine every millisecond it waits adds rate × 1 ms.
//! Measured: 0.6–0.9 MiB per kill at 16 MiB/s with 3 workers (the crash tests, which check
//! `rate × 250 ms + threads × 256 KiB + 512 KiB`); 13–19 MiB per kill for 1 GiB at about
//! 1 GB/s with 4 workers, socket buffers included. Progress inside a part counts, so a 5 GiB
//! part size does not mean re-fetching 5 GiB, and transient network errors within a run
//! re-fetch nothing: the part resumes from the exact byte the sink accepted.
//!
//! # Failpoints (feature `failpoints`, for tests)
//!
//! `OSS_RESUME_FAILPOINT=<name>` (or `<name>:<n>`, the n-th time) makes the process abort
//! itself at that instant: [`failpoint::CKPT_TEMP_WRITTEN`] (`ckpt-temp-written`),
//! [`failpoint::CKPT_SLOT_TORN`] (`ckpt-slot-torn`), [`failpoint::CKPT_SLOT_WRITTEN`]
//! (`ckpt-slot-written`), [`failpoint::MID_PART`]
//! (`mid-part`), [`failpoint::DATA_SYNCED`] (`data-synced`), [`failpoint::PARTS_DONE`]
//! (`parts-done`), [`failpoint::DEST_RENAMED`] (`dest-renamed`). The feature also adds
//! `Download::inject_enospc_after`, `Download::inject_sync_failure` and
//! `Download::simulate_boot_id`. Off by default; the crate's own tests turn it on.
//!
//! # Why this shape
//!
//! - Writes happen on tokio's blocking pool, one in flight per worker, rather than one
//!   writer thread: parts write in parallel on fast disks, order within a part is kept by the
//!   worker, and there is no extra thread to size.
//! - The aggregator is a plain thread, not a task: checkpoint saves are blocking file I/O
//!   every 10 ms, and every fsync — the data's and the checkpoint's, seconds on a busy disk —
//!   runs on a syncer thread beside it, so commits never wait for one (a commit stalled
//!   behind a flush would let a kill lose everything that arrived meanwhile).
//! - One client is one connection pool for every download it starts: a download's own
//!   headers ([`Download::header`]) travel with each of its requests (oss-http's
//!   `RequestHeaders`), checked before anything is requested.

mod aggregator;
mod client;
mod download;
mod engine;
mod error;
pub mod failpoint;
mod lock;
mod names;
mod paths;
mod ratelimit;
mod report;
mod resume;
mod scheduler;
mod space;
mod worker;

pub use client::{Client, ClientBuilder};
pub use download::{Download, Durability, MAX_RESTARTS, OnChange};
pub use engine::MAX_THREADS;
pub use error::{Error, LocalOp, PartRef};
pub use names::validate_bucket_name;
pub use oss_ckpt::{Corruption, Field};
// Everything the builders take or return, so users depend on this crate alone.
pub use oss_http::{
    CertificateDer, Credentials, MinRate, ObjectMeta, ObjectType, ProvideCredentials, RetryPolicy,
    ServiceError, SignError, SignatureVersion, StallPolicy, StorageClass, ThrottlePolicy, Timeouts,
    TlsTrust,
};
pub use paths::TEMP_SUFFIX;
pub use report::{CheckpointUse, FreshReason, Progress, Report, SnapshotKind};
pub use tokio_util::sync::CancellationToken;
