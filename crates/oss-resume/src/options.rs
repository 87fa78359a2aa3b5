//! Every setting of one download, with the C SDK's defaults, and the two policies a caller
//! picks from ([`OnChange`], [`Durability`]).
//!
//! A leaf: the builder (`download.rs`) fills an [`Options`] and the engine, the aggregator
//! and the workers read it, so it depends on none of them (only on the progress type it
//! hands to the callback).

use std::path::PathBuf;
use std::time::Duration;

use oss_ckpt::BootId;
use oss_http::{RetryPolicy, ThrottlePolicy};
use tokio_util::sync::CancellationToken;

use crate::report::Progress;

/// What to do when the object changes during the download (or since the checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnChange {
    /// Stop with [`crate::Error::ObjectChanged`] (the default). The old version's partial
    /// data is discarded, so the next call downloads the new version.
    #[default]
    Fail,
    /// Discard what was downloaded and start again on the new version (at most
    /// [`MAX_RESTARTS`] times in one call).
    Restart,
}

/// How many times one call restarts on a changed object under [`OnChange::Restart`].
pub const MAX_RESTARTS: u32 = 3;

/// How hard the download works to survive power loss (see the crate docs, and
/// `docs/crash-safety.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// The default: data is fdatasynced on an interval and before the final rename, and the
    /// checkpoint keeps a *durable* snapshot taken before each sync. Never a wrong file,
    /// even after power loss.
    #[default]
    Durable,
    /// Never fsync. A process kill still resumes from the latest snapshot, but after a
    /// reboot the download starts over, and a power cut right after completion can leave a
    /// short or zero-filled destination — the risk every official SDK takes silently.
    Fast,
}

/// The progress callback's type.
pub(crate) type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// Where the boot id a download records and compares comes from.
#[derive(Debug, Clone, Default)]
pub(crate) enum BootIdSource {
    /// The machine's (`oss_ckpt::fs::boot_id`).
    #[default]
    Machine,
    /// A test's (feature `failpoints`): a different one simulates a reboot between runs;
    /// `None` is a machine whose boot id is unknown.
    #[cfg_attr(not(feature = "failpoints"), allow(dead_code))]
    Simulated(Option<BootId>),
}

impl BootIdSource {
    /// The boot id to record and compare, if there is one.
    pub(crate) fn boot_id(&self) -> Option<BootId> {
        match self {
            Self::Machine => oss_ckpt::fs::boot_id(),
            Self::Simulated(boot) => boot.clone(),
        }
    }
}

/// Test-only fault injection (feature `failpoints`).
#[derive(Debug, Clone, Default)]
pub(crate) struct TestHooks {
    /// Data writes fail with ENOSPC once this many bytes were written in this run.
    pub(crate) enospc_after: Option<u64>,
    /// How the data file is fdatasynced (for real, failing, or through a test's seam).
    pub(crate) data_sync: crate::failpoint::DataSync,
    /// The boot id this run believes it is in.
    pub(crate) boot: BootIdSource,
    /// How often an idle worker at the tail looks again without being woken (`None`: the
    /// worker's default): a test makes it an hour to prove the wake-ups alone end a run.
    pub(crate) tail_poll: Option<std::time::Duration>,
}

/// Every setting of one download.
pub(crate) struct Options {
    pub(crate) part_size: Option<u64>,
    pub(crate) threads: usize,
    /// `threads` is a cap and the count adapts ([`crate::adapt`]).
    pub(crate) threads_auto: bool,
    /// The largest ranged GET, in bytes (`None`: sized by rate and latency).
    pub(crate) max_request: Option<u64>,
    /// Idle workers at the tail split runs that are far behind (`tail.rs`).
    pub(crate) tail_split: bool,
    pub(crate) version_id: Option<String>,
    /// The byte range of the object to download (`None`: all of it). Plain data from the
    /// stream module, which resolves it the same way.
    pub(crate) range: Option<crate::ObjectRange>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) bandwidth: Option<u64>,
    /// A batch's bandwidth limit, shared by all its objects (replaces `bandwidth`).
    pub(crate) shared_limiter: Option<std::sync::Arc<crate::ratelimit::TokenBucket>>,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) progress_interval: Duration,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) on_change: OnChange,
    pub(crate) checkpoint: bool,
    pub(crate) checkpoint_path: Option<PathBuf>,
    pub(crate) restart: bool,
    pub(crate) durability: Durability,
    pub(crate) sync_interval: Duration,
    pub(crate) commit_interval: Duration,
    pub(crate) verify_on_resume: bool,
    pub(crate) preallocate: bool,
    pub(crate) check_free_space: bool,
    pub(crate) preserve_mtime: bool,
    pub(crate) record_source: bool,
    pub(crate) retry: RetryPolicy,
    pub(crate) throttle: ThrottlePolicy,
    pub(crate) hooks: TestHooks,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            part_size: None,
            threads: 1,
            threads_auto: false,
            max_request: None,
            tail_split: true,
            version_id: None,
            range: None,
            headers: Vec::new(),
            bandwidth: None,
            shared_limiter: None,
            progress: None,
            progress_interval: Duration::from_millis(100),
            cancel: None,
            on_change: OnChange::Fail,
            checkpoint: false,
            checkpoint_path: None,
            restart: false,
            durability: Durability::Durable,
            sync_interval: Duration::from_millis(100),
            commit_interval: Duration::from_millis(10),
            verify_on_resume: false,
            preallocate: true,
            check_free_space: true,
            preserve_mtime: false,
            record_source: false,
            retry: RetryPolicy::default(),
            throttle: ThrottlePolicy::default(),
            hooks: TestHooks::default(),
        }
    }
}
