//! The model: buckets, keys, versions, credentials, clock, faults and counters, behind a
//! cheap cloneable handle shared by every front-end.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::auth::Credentials;
use crate::clock::Clock;
use crate::content::Content;
use crate::counters::{CounterSnapshot, Counters};
use crate::error::EmulatorError;
use crate::faults::{FaultEntry, FaultId, ServiceFault};
use crate::keyspace::{Hidden, StoredPattern};
use crate::object::{ObjectSpec, ObjectType, StoredObject, Version, opaque_etag, whole_seconds};
use crate::pattern::ObjectPattern;
use crate::request::Addressing;

/// Bucket ACL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Acl {
    /// Only signed requests by known credentials.
    #[default]
    Private,
    /// Anonymous GET and HEAD allowed too.
    PublicRead,
}

/// Bucket versioning state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Versioning {
    /// Never versioned: one version per key, no `x-oss-version-id`.
    #[default]
    Unversioned,
    /// Every put makes a new version; deletes add delete markers.
    Enabled,
    /// Puts replace the `null` version; older versions stay.
    Suspended,
}

/// A bucket to create.
#[derive(Clone, Debug)]
pub struct BucketSpec {
    pub(crate) name: String,
    pub(crate) acl: Acl,
    pub(crate) requester_pays: bool,
    pub(crate) versioning: Versioning,
}

impl BucketSpec {
    /// A private, unversioned bucket.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            acl: Acl::Private,
            requester_pays: false,
            versioning: Versioning::Unversioned,
        }
    }

    /// Sets the ACL.
    pub fn acl(mut self, acl: Acl) -> Self {
        self.acl = acl;
        self
    }

    /// Shorthand for `acl(Acl::PublicRead)`.
    pub fn public_read(self) -> Self {
        self.acl(Acl::PublicRead)
    }

    /// Requester pays: every request must carry `x-oss-request-payer: requester`.
    pub fn requester_pays(mut self, on: bool) -> Self {
        self.requester_pays = on;
        self
    }

    /// Sets the versioning state.
    pub fn versioning(mut self, v: Versioning) -> Self {
        self.versioning = v;
        self
    }
}

#[derive(Debug)]
pub(crate) struct Bucket {
    pub(crate) spec: BucketSpec,
    /// Versions per key, oldest first.
    pub(crate) keys: BTreeMap<String, Vec<Version>>,
    /// Object patterns: keys yielded on demand, never stored (`keyspace.rs`).
    pub(crate) patterns: Vec<StoredPattern>,
    /// Pattern keys deleted for good.
    pub(crate) hidden: Hidden,
}

/// What a put, append or replace produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Quoted uppercase ETag.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// Version id (`"null"` in unversioned buckets, where it is not sent).
    pub version_id: String,
    /// Last-Modified.
    pub last_modified: SystemTime,
    /// CRC-64 if computed and ready.
    pub crc64: Option<u64>,
    /// Object type.
    pub object_type: ObjectType,
}

impl ObjectInfo {
    fn of(version_id: &str, o: &StoredObject) -> Self {
        Self {
            etag: o.etag.clone(),
            size: o.content.len(),
            version_id: version_id.to_owned(),
            last_modified: o.last_modified,
            crc64: o.crc64(),
            object_type: o.object_type,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) buckets: BTreeMap<String, Bucket>,
    pub(crate) accounts: Vec<Credentials>,
    pub(crate) addressing: Addressing,
    version_seq: u64,
}

/// Options that change how the model answers.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) gzip_quirk: bool,
    pub(crate) max_skew: Duration,
    pub(crate) log_requests: bool,
    /// The region V4 signatures must be scoped to; `None` accepts any.
    pub(crate) region: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            gzip_quirk: false,
            max_skew: Duration::from_secs(15 * 60),
            log_requests: false,
            region: None,
        }
    }
}

/// Extra JSON merged into `/-/stats` (the chaos proxy's counters).
pub(crate) type StatsHook = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) counters: Counters,
    pub(crate) faults: Mutex<Vec<FaultEntry>>,
    pub(crate) clock: Mutex<Clock>,
    pub(crate) options: Mutex<Options>,
    pub(crate) request_seq: AtomicU64,
    pub(crate) fault_seq: AtomicU64,
    pub(crate) stats_hooks: Mutex<Vec<(String, StatsHook)>>,
    /// STS, the metadata service and the credentials URI (`crate::services`).
    pub(crate) services: Mutex<crate::services::Services>,
}

/// The OSS model: a cheap, cloneable handle. Every clone sees the same buckets, objects,
/// faults and counters; change them while front-ends are serving.
///
/// ```
/// use oss_emulator::{BucketSpec, Emulator, ObjectSpec};
/// let emu = Emulator::new();
/// emu.add_credentials(oss_emulator::Credentials::new("AKID", "SECRET"));
/// emu.add_bucket(BucketSpec::new("bkt"))?;
/// let info = emu.put_object("bkt", "hello.txt", ObjectSpec::bytes(&b"hello"[..]))?;
/// assert_eq!(info.etag, "\"5D41402ABC4B2A76B9719D911017C592\"");
/// # Ok::<(), oss_emulator::EmulatorError>(())
/// ```
#[derive(Clone)]
pub struct Emulator {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").finish_non_exhaustive()
    }
}

impl Default for Emulator {
    fn default() -> Self {
        Self::new()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock must not make every later request fail.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl Emulator {
    /// An empty model: no buckets, no credentials, system clock, no faults.
    pub fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                counters: Counters::default(),
                faults: Mutex::new(Vec::new()),
                clock: Mutex::new(Clock::System),
                options: Mutex::new(Options::default()),
                request_seq: AtomicU64::new(seed),
                fault_seq: AtomicU64::new(0),
                stats_hooks: Mutex::new(Vec::new()),
                services: Mutex::new(crate::services::Services::default()),
            }),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }

    pub(crate) fn options(&self) -> Options {
        lock(&self.shared.options).clone()
    }

    pub(crate) fn counters_ref(&self) -> &Counters {
        &self.shared.counters
    }

    pub(crate) fn next_request_seq(&self) -> u64 {
        self.shared.request_seq.fetch_add(1, Ordering::Relaxed)
    }

    /// The model's current time.
    pub fn now(&self) -> SystemTime {
        lock(&self.shared.clock).now()
    }

    /// Sets the clock (e.g. `Clock::Fixed(t)` to replay a signing vector made at `t`).
    pub fn set_clock(&self, clock: Clock) {
        *lock(&self.shared.clock) = clock;
    }

    /// Accepts these credentials.
    pub fn add_credentials(&self, credentials: Credentials) {
        let mut st = self.state();
        st.accounts
            .retain(|a| a.access_key_id != credentials.access_key_id);
        st.accounts.push(credentials);
    }

    /// Stops accepting an AccessKeyId.
    pub fn remove_credentials(&self, access_key_id: &str) {
        self.state()
            .accounts
            .retain(|a| a.access_key_id != access_key_id);
    }

    /// Binds a custom domain (CNAME) to a bucket: requests with that Host address the bucket
    /// with `/key` paths.
    pub fn add_cname(&self, host: &str, bucket: &str) {
        self.state()
            .addressing
            .cnames
            .insert(host.to_ascii_lowercase(), bucket.to_owned());
    }

    /// Declares an endpoint domain (like `oss-cn-hangzhou.aliyuncs.com`, which is known
    /// already): `Host: <bucket>.<domain>` is virtual-hosted, `Host: <domain>` with a
    /// bucket in the path gets `SecondLevelDomainForbidden`.
    pub fn add_endpoint_domain(&self, domain: &str) {
        self.state()
            .addressing
            .endpoint_domains
            .push(domain.to_ascii_lowercase());
    }

    /// Turns the gzip quirk on or off: with it on, `Accept-Encoding: gzip` gets text types of
    /// 1 KiB or more gzipped on the fly, without Content-Length, ETag or Accept-Ranges.
    pub fn set_gzip_quirk(&self, on: bool) {
        lock(&self.shared.options).gzip_quirk = on;
    }

    /// Logs one line per request to stderr (method, host, path, status, request id):
    /// what the binary's `-v` turns on.
    pub fn set_request_log(&self, on: bool) {
        lock(&self.shared.options).log_requests = on;
    }

    /// The region this emulated endpoint serves (e.g. `cn-hangzhou`): V4 signatures scoped
    /// to another region, or to a product other than `oss`, are then refused with OSS's
    /// `400 InvalidArgument` ("Invalid signing region/product in Authorization header.",
    /// EC 0002-00000226 / 0002-00000227), as a real endpoint refuses them. `None` (the
    /// default) accepts any scope, so tests may sign with any region.
    pub fn set_region(&self, region: Option<&str>) {
        lock(&self.shared.options).region = region.map(str::to_owned);
    }

    /// Sets the allowed clock skew (OSS: 15 minutes).
    pub fn set_max_skew(&self, skew: Duration) {
        lock(&self.shared.options).max_skew = skew;
    }

    /// Creates a bucket (replacing nothing: an existing bucket keeps its objects but takes
    /// the new settings).
    pub fn add_bucket(&self, spec: BucketSpec) -> Result<(), EmulatorError> {
        if !valid_bucket_name(&spec.name) {
            return Err(EmulatorError::InvalidBucketName(spec.name));
        }
        let mut st = self.state();
        match st.buckets.get_mut(&spec.name) {
            Some(b) => b.spec = spec,
            None => {
                st.buckets.insert(
                    spec.name.clone(),
                    Bucket {
                        spec,
                        keys: BTreeMap::new(),
                        patterns: Vec::new(),
                        hidden: Hidden::new(),
                    },
                );
            }
        }
        Ok(())
    }

    /// Adds every object of `pattern` to `bucket` at once: they cost the memory of the
    /// pattern, not of their keys or content, and are made when a request names them
    /// (`Last-Modified` is now, for all of them). A key stored one by one, or changed since,
    /// hides the pattern's object of that key; of two patterns yielding one key, the first
    /// added wins. Returns how many keys the pattern has.
    pub fn add_objects(&self, bucket: &str, pattern: ObjectPattern) -> Result<u64, EmulatorError> {
        let created = whole_seconds(self.now());
        let mut st = self.state();
        let b = st
            .buckets
            .get_mut(bucket)
            .ok_or_else(|| EmulatorError::NoSuchBucket(bucket.to_owned()))?;
        let count = pattern.len();
        b.patterns.push(StoredPattern { pattern, created });
        Ok(count)
    }

    fn new_version_id(seq: &mut u64, versioning: Versioning) -> String {
        match versioning {
            Versioning::Unversioned | Versioning::Suspended => "null".to_owned(),
            Versioning::Enabled => {
                *seq += 1;
                let w = crate::content::synthetic_word(0x5EED, *seq);
                format!("CAEQNhiBgMDJgZCA0BYiI{w:016X}{:08}", *seq)
            }
        }
    }

    /// Stores an object (a new version in a versioned bucket).
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        spec: ObjectSpec,
    ) -> Result<ObjectInfo, EmulatorError> {
        let now = self.now();
        let mut st = self.state();
        let salt = st.version_seq.wrapping_add(1);
        st.version_seq = salt;
        let object = Arc::new(StoredObject::from_spec(spec, now, salt));
        Self::insert_version(&mut st, bucket, key, object)
    }

    fn insert_version(
        st: &mut State,
        bucket: &str,
        key: &str,
        object: Arc<StoredObject>,
    ) -> Result<ObjectInfo, EmulatorError> {
        let Some(b) = st.buckets.get(bucket) else {
            return Err(EmulatorError::NoSuchBucket(bucket.to_owned()));
        };
        let versioning = b.spec.versioning;
        let version_id = Self::new_version_id(&mut st.version_seq, versioning);
        let info = ObjectInfo::of(&version_id, &object);
        let Some(b) = st.buckets.get_mut(bucket) else {
            return Err(EmulatorError::NoSuchBucket(bucket.to_owned()));
        };
        b.materialize(key);
        let versions = b.keys.entry(key.to_owned()).or_default();
        match versioning {
            Versioning::Unversioned => versions.clear(),
            Versioning::Suspended => versions.retain(|v| v.version_id() != "null"),
            Versioning::Enabled => {}
        }
        versions.push(Version::Object { version_id, object });
        Ok(info)
    }

    /// Deletes an object: removes it (unversioned) or adds a delete marker (versioned).
    /// Returns the delete marker's version id in versioned buckets.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<Option<String>, EmulatorError> {
        let now = whole_seconds(self.now());
        let mut st = self.state();
        let Some(b) = st.buckets.get(bucket) else {
            return Err(EmulatorError::NoSuchBucket(bucket.to_owned()));
        };
        let versioning = b.spec.versioning;
        let marker_id = Self::new_version_id(&mut st.version_seq, versioning);
        let Some(b) = st.buckets.get_mut(bucket) else {
            return Err(EmulatorError::NoSuchBucket(bucket.to_owned()));
        };
        b.materialize(key);
        match versioning {
            Versioning::Unversioned => {
                if b.keys.remove(key).is_none() {
                    return Err(EmulatorError::NoSuchKey {
                        bucket: bucket.to_owned(),
                        key: key.to_owned(),
                    });
                }
                b.hide_if_pattern(key);
                Ok(None)
            }
            Versioning::Enabled | Versioning::Suspended => {
                let versions = b.keys.entry(key.to_owned()).or_default();
                if versioning == Versioning::Suspended {
                    versions.retain(|v| v.version_id() != "null");
                }
                versions.push(Version::DeleteMarker {
                    version_id: marker_id.clone(),
                    last_modified: now,
                });
                Ok(Some(marker_id))
            }
        }
    }

    /// Removes one version (or delete marker) of a key for good.
    pub fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<(), EmulatorError> {
        let mut st = self.state();
        let Some(b) = st.buckets.get_mut(bucket) else {
            return Err(EmulatorError::NoSuchBucket(bucket.to_owned()));
        };
        let no_key = || EmulatorError::NoSuchKey {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        };
        b.materialize(key);
        let versions = b.keys.get_mut(key).ok_or_else(no_key)?;
        let before = versions.len();
        versions.retain(|v| v.version_id() != version_id);
        if versions.len() == before {
            return Err(no_key());
        }
        if versions.is_empty() {
            b.keys.remove(key);
            b.hide_if_pattern(key);
        }
        Ok(())
    }

    fn current_object(
        st: &State,
        bucket: &str,
        key: &str,
    ) -> Result<(String, Arc<StoredObject>), EmulatorError> {
        let b = st
            .buckets
            .get(bucket)
            .ok_or_else(|| EmulatorError::NoSuchBucket(bucket.to_owned()))?;
        let pattern = || b.pattern_object(key, true).map(|o| ("null".to_owned(), o));
        match b.keys.get(key).and_then(|v| v.last()) {
            Some(Version::Object { version_id, object }) => {
                Some((version_id.clone(), Arc::clone(object)))
            }
            Some(Version::DeleteMarker { .. }) => None,
            None => pattern(),
        }
        .ok_or_else(|| EmulatorError::NoSuchKey {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// The current version's metadata.
    pub fn object_info(&self, bucket: &str, key: &str) -> Result<ObjectInfo, EmulatorError> {
        let st = self.state();
        let (vid, o) = Self::current_object(&st, bucket, key)?;
        Ok(ObjectInfo::of(&vid, &o))
    }

    /// The current version's bytes (for small objects in tests).
    pub fn object_bytes(&self, bucket: &str, key: &str) -> Result<Bytes, EmulatorError> {
        let st = self.state();
        let (_, o) = Self::current_object(&st, bucket, key)?;
        let len = usize::try_from(o.content.len()).map_err(|_| {
            EmulatorError::InvalidArgument("object too large to copy into memory".into())
        })?;
        Ok(o.content.slice(0, len))
    }

    /// Appends bytes to an Appendable object: size, ETag, CRC and Last-Modified change
    /// (in a versioned bucket the append makes a new version, as OSS does).
    pub fn append_bytes(
        &self,
        bucket: &str,
        key: &str,
        data: impl Into<Bytes>,
    ) -> Result<ObjectInfo, EmulatorError> {
        let data = data.into();
        self.append_with(bucket, key, |c| c.append_bytes(data))
    }

    /// Appends `len` synthetic bytes (seed `seed`, at their absolute offsets).
    pub fn append_synthetic(
        &self,
        bucket: &str,
        key: &str,
        len: u64,
        seed: u64,
    ) -> Result<ObjectInfo, EmulatorError> {
        self.append_with(bucket, key, |c| c.append_synthetic(len, seed))
    }

    fn append_with(
        &self,
        bucket: &str,
        key: &str,
        f: impl FnOnce(&mut Content),
    ) -> Result<ObjectInfo, EmulatorError> {
        let now = whole_seconds(self.now());
        let mut st = self.state();
        let (_, old) = Self::current_object(&st, bucket, key)?;
        if old.object_type != ObjectType::Appendable {
            return Err(EmulatorError::NotAppendable {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            });
        }
        let old_len = old.content.len();
        let mut content = old.content.clone();
        f(&mut content);
        // Extend the CRC from the old value instead of re-reading everything.
        let crc = Arc::new(crate::object::CrcCell {
            enabled: old.crc.enabled,
            value: std::sync::OnceLock::new(),
        });
        if let Some(prev) = old.crc64() {
            let added = content.len() - old_len;
            let mut digest = oss_crc::Crc64::resume(prev, old_len);
            let mut buf = vec![0u8; (added.min(1 << 20)) as usize];
            let mut off = old_len;
            while off < content.len() {
                let n = ((content.len() - off) as usize).min(buf.len());
                if let Some(dst) = buf.get_mut(..n) {
                    content.read_at(off, dst);
                    digest.update(dst);
                }
                off += n as u64;
            }
            let _ = crc.value.set(digest.value());
        } else if old.crc.enabled {
            let _ = crc.value.set(crate::object::content_crc(&content));
        }
        st.version_seq += 1;
        let etag = opaque_etag(&[content.len(), st.version_seq, old_len], None);
        let object = Arc::new(StoredObject {
            content,
            etag,
            content_md5: None,
            object_type: ObjectType::Appendable,
            storage_class: old.storage_class,
            content_type: old.content_type.clone(),
            content_encoding: old.content_encoding.clone(),
            meta: old.meta.clone(),
            last_modified: now,
            crc,
            symlink_target: None,
            restore: old.restore,
        });
        Self::insert_version(&mut st, bucket, key, object)
    }

    /// Replaces the current version with new content of the same size and kind (a new
    /// ETag and Last-Modified): what another writer does mid-download.
    pub fn replace_object(&self, bucket: &str, key: &str) -> Result<ObjectInfo, EmulatorError> {
        let (old, seq) = {
            let mut st = self.state();
            let (_, o) = Self::current_object(&st, bucket, key)?;
            st.version_seq += 1;
            (o, st.version_seq)
        };
        let size = old.content.len();
        let seed = crate::content::synthetic_word(0xC0FFEE, seq);
        let spec = match old.content.as_single_bytes() {
            Some(bytes) => {
                // Same length, different bytes: rotate and flip the first byte.
                let mut v = bytes.to_vec();
                v.rotate_left(1);
                if let Some(b) = v.first_mut() {
                    *b ^= 0x5A;
                }
                ObjectSpec::bytes(v)
            }
            None => ObjectSpec::synthetic(size, seed),
        };
        let spec = spec
            .object_type(old.object_type)
            .storage_class(old.storage_class)
            .content_type(old.content_type.clone())
            .crc64(
                match (old.crc.enabled, size <= crate::object::AUTO_CRC_LIMIT) {
                    (false, _) => crate::object::CrcMode::Off,
                    (true, true) => crate::object::CrcMode::Now,
                    // A huge object: its new CRC is computed off the request path.
                    (true, false) => crate::object::CrcMode::Background,
                },
            );
        // A replacement one second later so Last-Modified moves even at a fixed clock.
        let spec = spec.last_modified(
            whole_seconds(self.now()).max(old.last_modified + Duration::from_secs(1)),
        );
        self.put_object(bucket, key, spec)
    }

    /// Waits until the current version's CRC-64 (if enabled) has been computed.
    pub async fn wait_crc_ready(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<u64>, EmulatorError> {
        loop {
            let o = {
                let st = self.state();
                Self::current_object(&st, bucket, key)?.1
            };
            if !o.crc.enabled {
                return Ok(None);
            }
            if let Some(v) = o.crc.value.get() {
                return Ok(Some(*v));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Installs a service fault; it applies to requests from now on.
    pub fn add_fault(&self, fault: ServiceFault) -> FaultId {
        let id = FaultId(self.shared.fault_seq.fetch_add(1, Ordering::Relaxed));
        lock(&self.shared.faults).push(FaultEntry {
            id,
            fault,
            seen: 0,
            fired: 0,
        });
        id
    }

    /// Removes a fault.
    pub fn remove_fault(&self, id: FaultId) {
        lock(&self.shared.faults).retain(|f| f.id != id);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// How many times a fault has fired.
    pub fn fault_fired(&self, id: FaultId) -> u64 {
        lock(&self.shared.faults)
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.fired)
            .unwrap_or(0)
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> CounterSnapshot {
        self.shared.counters.snapshot()
    }

    /// The latest requests (at most [`crate::REQUEST_LOG_LEN`]), oldest first: method,
    /// resource, `versionId` and `Range`, for tests that check what a client sent.
    pub fn request_log(&self) -> Vec<crate::RequestRecord> {
        self.shared.counters.request_log()
    }

    /// Sets every counter back to zero (and empties the request log).
    pub fn reset_counters(&self) {
        self.shared.counters.reset();
    }

    /// Adds a section to `/-/stats` (the chaos proxy registers its counters here).
    pub fn add_stats_section(
        &self,
        name: &str,
        hook: impl Fn() -> serde_json::Value + Send + Sync + 'static,
    ) {
        let mut hooks = lock(&self.shared.stats_hooks);
        hooks.retain(|(n, _)| n != name);
        hooks.push((name.to_owned(), Arc::new(hook)));
    }

    /// The JSON served at `/-/stats`: `{"model": {...}, <sections>...}`.
    pub fn stats_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("model".into(), self.counters().to_json());
        if let Some(credentials) = self.credential_stats() {
            map.insert("credentials".into(), credentials);
        }
        let hooks: Vec<(String, StatsHook)> = lock(&self.shared.stats_hooks).clone();
        for (name, hook) in hooks {
            map.insert(name, hook());
        }
        serde_json::Value::Object(map)
    }

    pub(crate) fn faults_lock(&self) -> MutexGuard<'_, Vec<FaultEntry>> {
        lock(&self.shared.faults)
    }
}
