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
//! | `thread_num` | [`Download::threads`] (1 ..= [`MAX_THREADS`]) | 1 |
//! | `enable_checkpoint` | [`Download::checkpoint`] | off |
//! | `checkpoint_path` | [`Download::checkpoint_path`] | [`default_checkpoint_path`] |
//! | `headers` | [`Download::header`] (HEAD *and* every part GET) | none |
//! | `progress_callback` | [`Download::on_progress`] | none |
//! | `resp_headers` | [`Report::object`] | |
//!
//! Also: [`Download::range`] (a byte range of the object into the file, resumable: its
//! checkpoint records the range), [`Download::version_id`], [`Download::bandwidth_limit`] (one token bucket for all
//! workers), [`Download::cancel_token`], [`Download::on_change`] ([`OnChange`]),
//! [`Download::restart`], [`Download::durability`] ([`Durability`]),
//! [`Download::verify_on_resume`], and [`Download::blocking`] for callers without an async
//! runtime. The client's transport settings are oss-http's ([`ClientBuilder::http`]).
//!
//! [`Client::stream`] sends an object (or a byte range of it, [`ObjectRange`]) to any
//! `AsyncWrite` — stdout, a pipe, a socket — in order, with the same parallel ranged GETs,
//! memory bounded by `threads × part size`, and the CRC-64 checked at the end; it has no
//! checkpoint, since a pipe cannot be rewound ([`Stream`]).
//!
//! # What a download guarantees
//!
//! - **Arguments are checked first**: a bad one is [`Error::InvalidArgument`] before any
//!   request. A second run on the same destination gets [`Error::Locked`] (the lock is
//!   `{destination}.lock`, whatever the checkpoint path).
//! - **One version of the object**: HEAD's ETag (and version id) pins every part GET; a
//!   change follows [`OnChange`] — fail with [`Error::ObjectChanged`], or start over.
//!   Nothing is stitched from two versions, and a `200` whole body or a wrong
//!   `Content-Range` is never written at a part's offset.
//! - **Verified, then renamed**: the data goes to `{destination}`[`TEMP_SUFFIX`] and the
//!   destination is touched only by the final rename, after the CRC-64 of what was written
//!   matched `x-oss-hash-crc64ecma` ([`Error::CrcMismatch`] otherwise, which deletes the
//!   partial data). Memory stays at about two 1 MiB blocks per worker whatever the sizes.
//! - **Errors say where**: transient failures are retried inside the part from the byte
//!   the disk reached ([`RetryPolicy`], and [`ThrottlePolicy`] for OSS's throttling); local
//!   disk failures are [`Error::LocalIo`], [`Error::InsufficientSpace`] or
//!   [`Error::SyncFailed`], never retried as remote ones. [`Error::service`] gives OSS's
//!   whole answer ([`ServiceError`]).
//! - **Checkpoints** ([`Download::checkpoint`]): the next call with the same arguments
//!   resumes. A checkpoint is used only if it is intact and matches this object, part size
//!   and temp file; otherwise [`Report::checkpoint`] says why it started over
//!   ([`FreshReason`]). One of another download, or of a newer format, is refused
//!   ([`Error::Checkpoint`]) unless [`Download::restart`] discards it.
//! - **Crashes**: after a process kill (`kill -9`) the next call resumes, re-fetching at
//!   most about two commit intervals of transfer plus a block per worker. In
//!   [`Durability::Durable`] mode (the default) the data is fsynced as it goes and a reboot
//!   or power cut resumes from the last durable snapshot — never a wrong or short file; an
//!   fsync error is fatal ([`Error::SyncFailed`]). [`Durability::Fast`] never fsyncs.
//!
//! `docs/crash-safety.md` states these semantics in full — the temp file and checkpoint
//! policies, the commit and sync cycle, the re-fetch bound with its derivation and
//! measurements; `docs/architecture.md` shows how the crates and threads divide the work.
//!
//! # Failpoints (feature `failpoints`, for tests)
//!
//! `OSS_RESUME_FAILPOINT=<name>` (or `<name>:<n>`, the n-th time) makes the process abort
//! itself at one of the instants named in [`failpoint`]. The feature also adds
//! `Download::inject_enospc_after`, `Download::inject_sync_failure` and
//! `Download::simulate_boot_id`. Off by default; the crate's own tests turn it on.

mod adapt;
mod aggregator;
pub mod batch;
mod client;
mod download;
mod engine;
mod error;
pub mod failpoint;
mod lock;
mod names;
mod options;
mod paths;
mod ratelimit;
mod report;
mod resume;
mod scheduler;
mod space;
mod stream;
mod tags;
mod tail;
mod validate;
mod worker;
mod writeback;

pub use batch::{BatchDownload, BatchItem, BatchReport, BatchSource};
pub use client::{Client, ClientBuilder};
pub use download::Download;
pub use error::{Error, LocalOp, PartRef};
pub use names::validate_bucket_name;
pub use options::{Durability, MAX_RESTARTS, OnChange};
pub use paths::{TEMP_SUFFIX, checkpoint_path_in, default_checkpoint_path};
pub use report::{
    AdaptiveConnections, CheckpointUse, ConnectionChange, ConnectionChangeReason, FreshReason,
    Progress, Report, SnapshotKind,
};
pub use stream::{ObjectRange, Stream, StreamReport};
pub use tags::{RecordedSource, recorded_source};
pub use validate::MAX_THREADS;

pub use oss_ckpt::{CkptError, Corruption, Field};
/// The credential providers ([`ClientBuilder::credentials_from`] takes any of them) and the
/// default chain ([`ClientBuilder::credentials_chain`]).
pub use oss_credentials;
/// The transport crate: the types [`ClientBuilder::http`]'s settings take (timeouts, stall
/// policy, TLS trust...).
pub use oss_http;
// What the builders take and the reports and errors return, so users depend on this
// crate alone.
pub use oss_http::{
    Credentials, ObjectMeta, ObjectType, ProvideCredentials, RetryPolicy, ServiceError, SignError,
    SignatureVersion, StorageClass, ThrottlePolicy,
};
pub use tokio_util::sync::CancellationToken;
