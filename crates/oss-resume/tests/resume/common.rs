//! The test environment: an emulator with our credentials and a bucket, served by the
//! streaming server; clients; scratch directories; expected bytes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use oss_emulator::{
    BucketSpec, ChaosProxy, Emulator, FaultAction, FaultId, NetFault, ObjectSpec, RunningServer,
    ServiceFault,
};
use oss_resume::{Client, Credentials, RetryPolicy, SignatureVersion, ThrottlePolicy};

pub const AK: &str = "LTAI5tOssResumeTestKey";
pub const SK: &str = "OssResumeTestSecret0123456789abcd";
pub const BUCKET: &str = "bkt";

pub struct Env {
    pub emu: Emulator,
    pub server: RunningServer,
}

impl Env {
    pub async fn start() -> Self {
        let emu = Emulator::new();
        emu.add_credentials(oss_emulator::Credentials::new(AK, SK));
        emu.add_bucket(BucketSpec::new(BUCKET)).unwrap();
        let server = emu.start_server().await.unwrap();
        Self { emu, server }
    }

    /// Stores a synthetic object of `size` bytes and returns its bytes.
    pub fn put(&self, key: &str, size: u64, seed: u64) -> Vec<u8> {
        self.emu
            .put_object(BUCKET, key, ObjectSpec::synthetic(size, seed))
            .unwrap();
        oss_emulator::synthetic_bytes(seed, 0, size as usize)
    }

    pub fn client(&self) -> Client {
        client_for(self.server.endpoint(), SignatureVersion::V4)
    }

    pub fn client_v(&self, version: SignatureVersion) -> Client {
        client_for(self.server.endpoint(), version)
    }

    /// Makes every ranged GET after the first `open` wait a minute for its first byte, so a
    /// download held there cannot finish however late a test's cancel lands (a progress
    /// callback runs on a thread that a loaded machine can delay by hundreds of ms).
    /// Remove the fault before resuming.
    pub fn gate_after(&self, open: u64) -> FaultId {
        self.emu.add_fault(
            ServiceFault::new(FaultAction::FirstByteDelay(Duration::from_secs(60)))
                .ranged_only()
                .after(open),
        )
    }

    /// A chaos proxy in front of the server.
    pub async fn proxy(&self, faults: Vec<NetFault>) -> ChaosProxy {
        ChaosProxy::start(self.server.local_addr(), faults, 7)
            .await
            .unwrap()
    }
}

pub fn builder_for(endpoint: &str, version: SignatureVersion) -> oss_resume::ClientBuilder {
    Client::builder()
        .endpoint(endpoint)
        .region("cn-test")
        .credentials(Credentials::new(AK, SK).unwrap())
        .signature_version(version)
        .http(|http| {
            http.connect_timeout(Duration::from_secs(2))
                .response_head_timeout(Duration::from_secs(3))
                .stall_timeout(Duration::from_millis(800))
        })
}

pub fn client_for(endpoint: &str, version: SignatureVersion) -> Client {
    builder_for(endpoint, version).build().unwrap()
}

/// Short backoffs for tests.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
    }
}

/// Short backoffs for throttling answers (503 throttling codes, 429), default budget.
pub fn fast_throttle() -> ThrottlePolicy {
    ThrottlePolicy {
        max_attempts: ThrottlePolicy::default().max_attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
    }
}

/// A fresh scratch directory (tempfile's), removed on drop.
pub struct Scratch(tempfile::TempDir);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("oss-resume-test-{name}-"))
            .tempdir()
            .unwrap();
        Self(dir)
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        self.0.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// File names in the directory, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.0.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// Asserts the file holds exactly `want` (without printing megabytes on failure).
pub fn assert_file(path: &Path, want: &[u8]) {
    let got = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(got.len(), want.len(), "{}: length", path.display());
    if let Some(at) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!("{}: first difference at byte {at}", path.display());
    }
}

/// The temp data file of a destination.
pub fn temp_of(dest: &Path) -> PathBuf {
    PathBuf::from(format!("{}{}", dest.display(), oss_resume::TEMP_SUFFIX))
}

/// The default checkpoint of a destination.
pub fn ckpt_of(dest: &Path) -> PathBuf {
    oss_resume::default_checkpoint_path(dest)
}

/// An error and every cause in its `source()` chain, one per line.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push('\n');
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
