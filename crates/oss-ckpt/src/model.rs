//! What a checkpoint records, in memory.

use std::fmt;
use std::path::{Path, PathBuf};

use oss_crc::CrcFold;
use oss_parts::{ByteRange, DoneSet, PartSize, Plan};

use crate::error::{CkptError, Field};

/// The most in-flight parts a progress snapshot holds (one per concurrent download, so
/// this bounds the thread count a checkpointed download can use).
///
/// ```
/// assert_eq!(oss_ckpt::MAX_IN_FLIGHT, 4096);
/// ```
pub const MAX_IN_FLIGHT: usize = 4096;

/// The object a checkpoint is for, as HEAD described it. Every field must match on resume
/// ([`Checkpoint::check`]); a difference in ETag, size, Last-Modified, CRC-64 or version id
/// means the object changed.
///
/// ```
/// let object = oss_ckpt::ObjectIdentity {
///     endpoint_host: "oss-cn-hangzhou.aliyuncs.com".into(),
///     bucket: "examplebucket".into(),
///     key: "exampledir/exampleobject.txt".into(),
///     version_id: None,
///     etag: "\"5B3C1A2E053D763E1B002CC607C5A0FE\"".into(),
///     size: 1 << 30,
///     last_modified: "Fri, 24 Feb 2012 06:07:48 GMT".into(),
///     crc64: Some(0x995D_C9BB_DF19_39FA),
/// };
/// assert_eq!(object.clone(), object);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectIdentity {
    /// The endpoint's host (no scheme, no bucket prefix), e.g. `oss-cn-hangzhou.aliyuncs.com`.
    pub endpoint_host: String,
    /// The bucket name.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The version id HEAD returned (or the one asked for), if any.
    pub version_id: Option<String>,
    /// The ETag exactly as HEAD returned it (quotes included).
    pub etag: String,
    /// The object size in bytes.
    pub size: u64,
    /// The `Last-Modified` header text exactly as HEAD returned it.
    pub last_modified: String,
    /// The whole object's CRC-64 (`x-oss-hash-crc64ecma`), if OSS gave one.
    pub crc64: Option<u64>,
}

/// What identifies a file on its filesystem: device, inode (file id on Windows), length,
/// and birth time where the platform records one. The modification time is left out on
/// purpose: it changes with every write.
///
/// The birth time is what tells a recreated file from the original: ext4 and tmpfs hand a
/// freed inode number to the next file created, so a temp file deleted and recreated with
/// the same length between two runs (Go SDK v2's zero-filled W-G1) has the same device,
/// inode and length — but not the same birth time.
///
/// The caller sets the temp file's length once (to the object size) before writing, so
/// the length is constant for a download and a truncated file is noticed.
/// [`crate::fs::file_identity`] reads it from an open file.
///
/// ```
/// let id = oss_ckpt::FileIdentity {
///     device: 2049,
///     file_id: 1_234_567,
///     len: 1 << 30,
///     created: Some(1_764_120_000_123_456_789),
/// };
/// assert_eq!(id.len, 1 << 30);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileIdentity {
    /// The device (Unix `st_dev`; see [`crate::fs::file_identity`] for Windows).
    pub device: u64,
    /// The inode (Unix `st_ino`; see [`crate::fs::file_identity`] for Windows).
    pub file_id: u64,
    /// The length in bytes.
    pub len: u64,
    /// The birth time in nanoseconds since the Unix epoch (Linux `statx` `btime`, the
    /// creation time elsewhere), or `None` where the platform or filesystem records none —
    /// and in checkpoints of format version 1, which did not store it.
    pub created: Option<u64>,
}

/// The local side of a download: where the file goes, and the temp file the data is
/// written to until it is verified.
///
/// ```
/// use oss_ckpt::{FileIdentity, LocalFiles};
///
/// let local = LocalFiles {
///     destination: "local.bin".into(),
///     temp_path: "local.bin.tmp-abcdef".into(),
///     temp_file: FileIdentity { device: 1, file_id: 2, len: 3, created: None },
/// };
/// assert_eq!(local.destination, std::path::Path::new("local.bin"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalFiles {
    /// The destination path (stored as the platform's bytes: non-UTF-8 paths work on Unix).
    pub destination: PathBuf,
    /// The temp data file's path.
    pub temp_path: PathBuf,
    /// What identifies the temp data file.
    pub temp_file: FileIdentity,
}

/// The identity of one boot of the machine that wrote a checkpoint (on Linux the
/// contents of `/proc/sys/kernel/random/boot_id`; read by [`crate::fs::boot_id`]).
///
/// If the machine has not rebooted since, unsynced data can only have been lost to a
/// process kill, which loses no page cache, so the latest snapshot holds.
///
/// ```
/// use oss_ckpt::BootId;
///
/// let id = BootId::new(b"0b9f7d7c-5c5f-4f38-9f5c-4a8f1f0f2a11".to_vec()).unwrap();
/// assert_eq!(id.as_bytes().len(), 36);
/// assert!(BootId::new(Vec::new()).is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BootId(Vec<u8>);

impl BootId {
    /// The longest boot id kept, in bytes.
    pub const MAX_LEN: usize = 255;

    /// A boot id from its bytes, or `None` if empty or longer than [`BootId::MAX_LEN`].
    ///
    /// ```
    /// assert!(oss_ckpt::BootId::new(vec![1; 256]).is_none());
    /// ```
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        (!bytes.is_empty() && bytes.len() <= Self::MAX_LEN).then_some(Self(bytes))
    }

    /// The bytes.
    ///
    /// ```
    /// assert_eq!(oss_ckpt::BootId::new(vec![7]).unwrap().as_bytes(), [7]);
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for BootId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BootId({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// A part being downloaded: how many of its bytes are on disk, and their CRC-64, so the
/// next attempt continues inside the part ([`oss_parts::Part::remaining_after`],
/// [`oss_crc::Crc64::resume`]).
///
/// ```
/// let part = oss_ckpt::InFlight { index: 7, bytes_done: 4, crc: oss_crc::checksum(b"1234") };
/// let mut crc = oss_crc::Crc64::resume(part.crc, part.bytes_done);
/// crc.update(b"56789");
/// assert_eq!(crc.value(), 0x995D_C9BB_DF19_39FA);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InFlight {
    /// The part's index in the plan.
    pub index: u64,
    /// How many bytes from the part's start are written.
    pub bytes_done: u64,
    /// CRC-64/XZ of those bytes.
    pub crc: u64,
}

/// One progress snapshot: done parts, progress inside in-flight parts, and the CRC fold of
/// the done parts (one `u64`, never a CRC per part).
///
/// The methods keep it consistent: an in-flight part is inside the plan, not done, and
/// within its length; a part is folded into the CRC exactly once.
///
/// ```
/// use oss_ckpt::Snapshot;
/// use oss_parts::{Plan, PartSize};
///
/// let data = b"hello, checkpoint";
/// let plan = Plan::new(data.len() as u64, PartSize::new(8)?)?; // 3 parts
/// let mut progress = Snapshot::new(plan);
/// progress.record(1, 3, oss_crc::checksum(&data[8..11]))?; // 3 bytes into part 1
/// for part in plan.parts() {
///     progress.complete(part.index(), oss_crc::checksum(&data[part.start() as usize..part.end() as usize]))?;
/// }
/// assert!(progress.in_flight().is_empty());
/// assert_eq!(progress.object_crc(), Some(oss_crc::checksum(data)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    plan: Plan,
    done: DoneSet,
    /// Sorted by index, no duplicates, none done.
    in_flight: Vec<InFlight>,
    fold: CrcFold,
}

fn invalid(reason: String) -> CkptError {
    CkptError::Invalid { reason }
}

impl Snapshot {
    /// Nothing done yet.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let progress = oss_ckpt::Snapshot::new(Plan::new(10, PartSize::new(4)?)?);
    /// assert_eq!(progress.bytes_done(), 0);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn new(plan: Plan) -> Self {
        Self {
            plan,
            done: DoneSet::new(&plan),
            in_flight: Vec::new(),
            fold: CrcFold::new(plan.object_size()),
        }
    }

    /// Rebuilds a snapshot from decoded parts, checking every rule `record`/`complete`
    /// keep, so a decoded snapshot is as consistent as one built in memory.
    pub(crate) fn from_parts(
        plan: Plan,
        done: DoneSet,
        in_flight: Vec<InFlight>,
        fold_raw: u64,
    ) -> Result<Self, String> {
        if done.part_count() != plan.len() {
            return Err(format!(
                "a done set of {} parts for a plan of {}",
                done.part_count(),
                plan.len()
            ));
        }
        if in_flight.len() > MAX_IN_FLIGHT {
            return Err(format!("{} in-flight parts", in_flight.len()));
        }
        let mut previous = None;
        for part in &in_flight {
            if previous.is_some_and(|p| p >= part.index) {
                return Err("in-flight parts out of order".into());
            }
            previous = Some(part.index);
            if let Some(problem) = in_flight_problem(&plan, &done, part) {
                return Err(problem);
            }
        }
        Ok(Self {
            plan,
            done,
            in_flight,
            fold: CrcFold::from_raw(plan.object_size(), fold_raw),
        })
    }

    /// The plan this snapshot is for.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let plan = Plan::new(10, PartSize::new(4)?)?;
    /// assert_eq!(oss_ckpt::Snapshot::new(plan).plan(), &plan);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The done parts.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let mut progress = oss_ckpt::Snapshot::new(Plan::new(10, PartSize::new(4)?)?);
    /// progress.complete(2, oss_crc::checksum(b"xy"))?;
    /// assert!(progress.done().contains(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn done(&self) -> &DoneSet {
        &self.done
    }

    /// The in-flight parts, by increasing index.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let mut progress = oss_ckpt::Snapshot::new(Plan::new(10, PartSize::new(4)?)?);
    /// progress.record(2, 1, oss_crc::checksum(b"x"))?;
    /// progress.record(0, 3, oss_crc::checksum(b"abc"))?;
    /// let indices: Vec<u64> = progress.in_flight().iter().map(|p| p.index).collect();
    /// assert_eq!(indices, [0, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_flight(&self) -> &[InFlight] {
        &self.in_flight
    }

    /// The in-flight progress of part `index`, if any.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let mut progress = oss_ckpt::Snapshot::new(Plan::new(10, PartSize::new(4)?)?);
    /// progress.record(1, 2, oss_crc::checksum(b"ab"))?;
    /// assert_eq!(progress.in_flight_part(1).map(|p| p.bytes_done), Some(2));
    /// assert!(progress.in_flight_part(0).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_flight_part(&self, index: u64) -> Option<&InFlight> {
        let at = self
            .in_flight
            .binary_search_by_key(&index, |p| p.index)
            .ok()?;
        self.in_flight.get(at)
    }

    /// The CRC fold of the done parts.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let progress = oss_ckpt::Snapshot::new(Plan::new(10, PartSize::new(4)?)?);
    /// assert_eq!(progress.fold().raw(), 0);
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn fold(&self) -> CrcFold {
        self.fold
    }

    /// Records that the first `bytes_done` bytes of part `index` are written and have
    /// CRC-64 `crc` (replacing what was recorded for it). `bytes_done == 0` forgets the
    /// part. Fails, changing nothing, if the part is outside the plan, already done,
    /// shorter than `bytes_done`, or would be one in-flight part too many.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let mut progress = oss_ckpt::Snapshot::new(Plan::new(10, PartSize::new(4)?)?);
    /// progress.record(0, 2, oss_crc::checksum(b"ab"))?;
    /// assert!(progress.record(0, 5, 0).is_err()); // part 0 has 4 bytes
    /// assert!(progress.record(3, 1, 0).is_err()); // no part 3
    /// progress.record(0, 0, 0)?;
    /// assert!(progress.in_flight().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record(&mut self, index: u64, bytes_done: u64, crc: u64) -> Result<(), CkptError> {
        let part = InFlight {
            index,
            bytes_done,
            crc,
        };
        if bytes_done == 0 {
            self.forget(index);
            return Ok(());
        }
        if let Some(problem) = in_flight_problem(&self.plan, &self.done, &part) {
            return Err(invalid(problem));
        }
        match self.in_flight.binary_search_by_key(&index, |p| p.index) {
            Ok(at) => {
                if let Some(slot) = self.in_flight.get_mut(at) {
                    *slot = part;
                }
            }
            Err(at) => {
                if self.in_flight.len() >= MAX_IN_FLIGHT {
                    return Err(invalid(format!(
                        "more than {MAX_IN_FLIGHT} parts in flight at once"
                    )));
                }
                self.in_flight.insert(at, part);
            }
        }
        Ok(())
    }

    /// Forgets part `index`'s in-flight progress (for example when it restarts from its
    /// first byte). Does nothing if none is recorded.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let mut progress = oss_ckpt::Snapshot::new(Plan::new(10, PartSize::new(4)?)?);
    /// progress.record(1, 2, oss_crc::checksum(b"ab"))?;
    /// progress.forget(1);
    /// assert!(progress.in_flight().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn forget(&mut self, index: u64) {
        if let Ok(at) = self.in_flight.binary_search_by_key(&index, |p| p.index) {
            self.in_flight.remove(at);
        }
    }

    /// Marks part `index` done with `crc`, the CRC-64 of its whole contents: adds it to the
    /// done set, folds its CRC in, and drops its in-flight entry. Returns `false`, folding
    /// nothing, if it was already done (folding twice would cancel it out).
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let mut progress = oss_ckpt::Snapshot::new(Plan::new(4, PartSize::new(4)?)?);
    /// assert!(progress.complete(0, oss_crc::checksum(b"abcd"))?);
    /// assert!(!progress.complete(0, oss_crc::checksum(b"abcd"))?);
    /// assert_eq!(progress.object_crc(), Some(oss_crc::checksum(b"abcd")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn complete(&mut self, index: u64, crc: u64) -> Result<bool, CkptError> {
        let Some(part) = self.plan.part(index) else {
            return Err(invalid(format!(
                "part {index} is outside the plan of {} parts",
                self.plan.len()
            )));
        };
        if self.done.contains(index) {
            return Ok(false);
        }
        self.fold
            .add(part.start(), part.len(), crc)
            .map_err(|e| invalid(e.to_string()))?;
        self.done
            .insert(index)
            .map_err(|e| invalid(e.to_string()))?;
        self.forget(index);
        Ok(true)
    }

    /// Bytes known written: the done parts plus the in-flight parts' progress.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let mut progress = oss_ckpt::Snapshot::new(Plan::new(10, PartSize::new(4)?)?);
    /// progress.complete(2, oss_crc::checksum(b"ij"))?; // the short last part
    /// progress.record(0, 3, oss_crc::checksum(b"abc"))?;
    /// assert_eq!(progress.bytes_done(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bytes_done(&self) -> u64 {
        let part_size = self.plan.part_size().get();
        let mut done = self.done.count().saturating_mul(part_size);
        // Every done part is full-size except possibly the last one.
        if let Some(last) = self.plan.len().checked_sub(1)
            && self.done.contains(last)
            && let Some(part) = self.plan.part(last)
        {
            done = done - part_size + part.len();
        }
        done + self.in_flight.iter().map(|p| p.bytes_done).sum::<u64>()
    }

    /// Whether every part is done.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// assert!(oss_ckpt::Snapshot::new(Plan::new(0, PartSize::new(4)?)?).is_complete());
    /// # Ok::<(), oss_parts::PartsError>(())
    /// ```
    pub fn is_complete(&self) -> bool {
        self.done.is_complete()
    }

    /// The whole object's CRC-64 from the fold, once every part is done.
    ///
    /// ```
    /// # use oss_parts::{Plan, PartSize};
    /// let mut progress = oss_ckpt::Snapshot::new(Plan::new(9, PartSize::new(5)?)?);
    /// progress.complete(1, oss_crc::checksum(b"6789"))?;
    /// assert_eq!(progress.object_crc(), None);
    /// progress.complete(0, oss_crc::checksum(b"12345"))?;
    /// assert_eq!(progress.object_crc(), Some(0x995D_C9BB_DF19_39FA));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn object_crc(&self) -> Option<u64> {
        self.is_complete().then(|| self.fold.finish())
    }
}

/// What is wrong with recording `part` as in flight, if anything.
fn in_flight_problem(plan: &Plan, done: &DoneSet, part: &InFlight) -> Option<String> {
    let Some(planned) = plan.part(part.index) else {
        return Some(format!(
            "in-flight part {} is outside the plan of {} parts",
            part.index,
            plan.len()
        ));
    };
    if done.contains(part.index) {
        return Some(format!("part {} is both done and in flight", part.index));
    }
    if part.bytes_done == 0 || part.bytes_done > planned.len() {
        return Some(format!(
            "in-flight part {} claims {} bytes of {}",
            part.index,
            part.bytes_done,
            planned.len()
        ));
    }
    None
}

/// Which snapshot a resume starts from ([`Checkpoint::resume_from`]).
///
/// ```
/// assert_ne!(oss_ckpt::SnapshotKind::Latest, oss_ckpt::SnapshotKind::Durable);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotKind {
    /// Same boot: the latest snapshot (unsynced data survives a process kill).
    Latest,
    /// After a reboot, or when either boot id is unknown: the durable snapshot.
    Durable,
}

/// What the current download expects a checkpoint to match ([`Checkpoint::check`]).
///
/// ```
/// # let object = oss_ckpt::ObjectIdentity {
/// #     endpoint_host: "h".into(), bucket: "b".into(), key: "k".into(), version_id: None,
/// #     etag: "e".into(), size: 1, last_modified: "m".into(), crc64: None };
/// let expected = oss_ckpt::Expected {
///     object: &object,
///     part_size: oss_parts::PartSize::DEFAULT,
///     destination: std::path::Path::new("local.bin"),
///     window: None,
/// };
/// assert_eq!(expected.object.size, 1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The object as HEAD describes it now.
    pub object: &'a ObjectIdentity,
    /// The part size asked for.
    pub part_size: PartSize,
    /// The destination asked for.
    pub destination: &'a Path,
    /// The object's bytes asked for: `None` for the whole object, or a byte window of it
    /// ([`Checkpoint::window`]).
    pub window: Option<ByteRange>,
}

/// Everything a resumable download remembers between attempts.
///
/// The orchestrator keeps one in memory for the whole download: it updates
/// [`Checkpoint::latest`] as parts progress (cheap: a sorted `Vec` of in-flight parts and
/// a bitmap), saves it with a cheap save every few milliseconds, and around each data
/// fsync copies `latest` into [`Checkpoint::durable`] and saves durably (see the crate
/// documentation for the ordering).
///
/// ```
/// use oss_ckpt::{Checkpoint, FileIdentity, LocalFiles, ObjectIdentity, SnapshotKind};
/// use oss_parts::{Plan, PartSize};
///
/// let object = ObjectIdentity {
///     endpoint_host: "oss-cn-hangzhou.aliyuncs.com".into(),
///     bucket: "examplebucket".into(),
///     key: "big.img".into(),
///     version_id: None,
///     etag: "\"ETAG\"".into(),
///     size: 100,
///     last_modified: "Fri, 24 Feb 2012 06:07:48 GMT".into(),
///     crc64: None,
/// };
/// let local = LocalFiles {
///     destination: "big.img".into(),
///     temp_path: "big.img.tmp-x".into(),
///     temp_file: FileIdentity { device: 1, file_id: 2, len: 100, created: None },
/// };
/// let plan = Plan::new(object.size, PartSize::new(10)?)?;
/// let mut ckpt = Checkpoint::new(object, plan, local, None)?;
/// ckpt.latest.complete(0, oss_crc::checksum(&[0; 10]))?;
///
/// let bytes = oss_ckpt::encode(&ckpt)?;
/// let back = oss_ckpt::decode(&bytes)?;
/// assert_eq!(back, ckpt);
/// // No boot id recorded: a resume cannot rule out a reboot, so it uses the durable one.
/// assert_eq!(back.resume_from(None).0, SnapshotKind::Durable);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    object: ObjectIdentity,
    /// The object's bytes the download covers (`None`: all of them). The plan is over its
    /// length, part 0 starting at its first byte.
    window: Option<ByteRange>,
    plan: Plan,
    local: LocalFiles,
    /// The boot the snapshots were taken in (`None` where the platform gives none).
    pub boot_id: Option<BootId>,
    /// The newest progress: safe to resume from after a process kill.
    pub latest: Snapshot,
    /// Progress whose data was fsynced before this snapshot was recorded: safe to
    /// resume from after power loss.
    pub durable: Snapshot,
}

impl Checkpoint {
    /// A checkpoint with nothing done, or [`CkptError::Invalid`] if the plan is not for
    /// an object of `object.size` bytes.
    ///
    /// See [`Checkpoint`] for an example.
    pub fn new(
        object: ObjectIdentity,
        plan: Plan,
        local: LocalFiles,
        boot_id: Option<BootId>,
    ) -> Result<Self, CkptError> {
        if plan.object_size() != object.size {
            return Err(invalid(format!(
                "a plan for {} bytes and an object of {} bytes",
                plan.object_size(),
                object.size
            )));
        }
        Ok(Self {
            object,
            window: None,
            plan,
            local,
            boot_id,
            latest: Snapshot::new(plan),
            durable: Snapshot::new(plan),
        })
    }

    /// A checkpoint with nothing done for the download of `window`, a byte range of the
    /// object (format version 4 records it): the plan is over the window's bytes, its part
    /// 0 starting at the window's first byte, and the temp file holds the window only.
    /// [`CkptError::Invalid`] if the window ends past the object or the plan is not for
    /// `window.len()` bytes.
    ///
    /// ```
    /// # use oss_ckpt::*;
    /// # use oss_parts::{ByteRange, Plan, PartSize};
    /// # let object = ObjectIdentity { endpoint_host: "h".into(), bucket: "b".into(),
    /// #     key: "k".into(), version_id: None, etag: "e".into(), size: 100,
    /// #     last_modified: "m".into(), crc64: None };
    /// # let local = LocalFiles { destination: "d".into(), temp_path: "t".into(),
    /// #     temp_file: FileIdentity { device: 1, file_id: 2, len: 30, created: None } };
    /// let window = ByteRange::new(40, 70)?;
    /// let plan = Plan::new(window.len(), PartSize::new(10)?)?;
    /// let ckpt = Checkpoint::for_window(object.clone(), window, plan, local.clone(), None)?;
    /// assert_eq!(ckpt.window(), Some(window));
    /// assert_eq!(decode(&encode(&ckpt)?)?, ckpt);
    /// // A window past the object's 100 bytes is refused.
    /// let past = ByteRange::new(90, 120)?;
    /// assert!(Checkpoint::for_window(object, past, plan, local, None).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_window(
        object: ObjectIdentity,
        window: ByteRange,
        plan: Plan,
        local: LocalFiles,
        boot_id: Option<BootId>,
    ) -> Result<Self, CkptError> {
        if window.end().is_none_or(|end| end > object.size) {
            return Err(invalid(format!(
                "the window {window} ends past the object's {} bytes",
                object.size
            )));
        }
        if plan.object_size() != window.len() {
            return Err(invalid(format!(
                "a plan for {} bytes and a window of {} bytes",
                plan.object_size(),
                window.len()
            )));
        }
        Ok(Self {
            object,
            window: Some(window),
            plan,
            local,
            boot_id,
            latest: Snapshot::new(plan),
            durable: Snapshot::new(plan),
        })
    }

    /// The object's bytes the download covers: `None` for the whole object, else the
    /// window its plan's offsets are relative to.
    ///
    /// See [`Checkpoint::for_window`] for an example.
    pub fn window(&self) -> Option<ByteRange> {
        self.window
    }

    /// The object the checkpoint is for.
    ///
    /// See [`Checkpoint`] for an example.
    pub fn object(&self) -> &ObjectIdentity {
        &self.object
    }

    /// The plan.
    ///
    /// See [`Checkpoint`] for an example.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The destination and temp file.
    ///
    /// See [`Checkpoint`] for an example.
    pub fn local(&self) -> &LocalFiles {
        &self.local
    }

    /// Replaces the recorded temp file identity (after creating or resizing the file).
    ///
    /// See [`Checkpoint::check_temp_file`] for an example.
    pub fn set_temp_file(&mut self, identity: FileIdentity) {
        self.local.temp_file = identity;
    }

    /// The snapshot to resume from: the latest one if `current_boot` is the boot that
    /// wrote the checkpoint (a process kill loses no page cache), otherwise — after a
    /// reboot, or when either boot id is unknown — the durable one.
    ///
    /// See [`Checkpoint`] for an example.
    pub fn resume_from(&self, current_boot: Option<&BootId>) -> (SnapshotKind, &Snapshot) {
        match (current_boot, &self.boot_id) {
            (Some(now), Some(then)) if now == then => (SnapshotKind::Latest, &self.latest),
            _ => (SnapshotKind::Durable, &self.durable),
        }
    }

    /// Checks that this checkpoint is for the download described by `expected`, or names
    /// the first field that differs, with both values ([`CkptError::Mismatch`]).
    ///
    /// ```
    /// # use oss_ckpt::*;
    /// # use oss_parts::{Plan, PartSize};
    /// # let object = ObjectIdentity { endpoint_host: "h".into(), bucket: "b".into(),
    /// #     key: "k".into(), version_id: None, etag: "\"1\"".into(), size: 10,
    /// #     last_modified: "m".into(), crc64: None };
    /// # let local = LocalFiles { destination: "d".into(), temp_path: "t".into(),
    /// #     temp_file: FileIdentity { device: 1, file_id: 2, len: 10, created: None } };
    /// let ckpt = Checkpoint::new(object.clone(), Plan::new(10, PartSize::new(5)?)?, local, None)?;
    /// let part_size = PartSize::new(5)?;
    /// let destination = std::path::Path::new("d");
    /// let window = None;
    /// assert!(ckpt.check(&Expected { object: &object, part_size, destination, window }).is_ok());
    ///
    /// let changed = ObjectIdentity { etag: "\"2\"".into(), ..object.clone() };
    /// let err = ckpt.check(&Expected { object: &changed, part_size, destination, window }).unwrap_err();
    /// assert!(err.is_object_changed());
    ///
    /// // Another byte window of the same object is another download.
    /// let window = Some(oss_parts::ByteRange::new(0, 5)?);
    /// let err = ckpt.check(&Expected { object: &object, part_size, destination, window }).unwrap_err();
    /// assert!(matches!(err, CkptError::Mismatch { field: Field::Window, .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check(&self, expected: &Expected<'_>) -> Result<(), CkptError> {
        let (stored, now) = (&self.object, expected.object);
        compare(
            Field::EndpointHost,
            &stored.endpoint_host,
            &now.endpoint_host,
        )?;
        compare(Field::Bucket, &stored.bucket, &now.bucket)?;
        compare(Field::Key, &stored.key, &now.key)?;
        compare(
            Field::Destination,
            &self.local.destination,
            &expected.destination.to_path_buf(),
        )?;
        compare(Field::VersionId, &stored.version_id, &now.version_id)?;
        compare(Field::ETag, &stored.etag, &now.etag)?;
        compare(Field::Size, &stored.size, &now.size)?;
        compare(
            Field::LastModified,
            &stored.last_modified,
            &now.last_modified,
        )?;
        compare(Field::Crc64, &stored.crc64, &now.crc64)?;
        if self.window != expected.window {
            return Err(CkptError::Mismatch {
                field: Field::Window,
                stored: shown_window(self.window),
                expected: shown_window(expected.window),
            });
        }
        compare(
            Field::PartSize,
            &self.plan.part_size().get(),
            &expected.part_size.get(),
        )
    }

    /// Checks that the temp data file is still the one the checkpoint recorded (same
    /// device, inode/file id, length and birth time), or names the field that differs.
    ///
    /// A birth time is compared only when the checkpoint recorded one (format version 1
    /// and platforms without birth times record none); a recorded one that the file no
    /// longer shows is a difference.
    ///
    /// ```
    /// # use oss_ckpt::*;
    /// # use oss_parts::{Plan, PartSize};
    /// # let object = ObjectIdentity { endpoint_host: "h".into(), bucket: "b".into(),
    /// #     key: "k".into(), version_id: None, etag: "\"1\"".into(), size: 10,
    /// #     last_modified: "m".into(), crc64: None };
    /// let temp = FileIdentity { device: 1, file_id: 2, len: 10, created: Some(3) };
    /// let local = LocalFiles { destination: "d".into(), temp_path: "t".into(), temp_file: temp };
    /// let mut ckpt = Checkpoint::new(object, Plan::new(10, PartSize::new(5)?)?, local, None)?;
    /// assert!(ckpt.check_temp_file(&temp).is_ok());
    /// let truncated = FileIdentity { len: 4, ..temp };
    /// let err = ckpt.check_temp_file(&truncated).unwrap_err();
    /// assert!(matches!(err, CkptError::Mismatch { field: Field::TempLength, .. }));
    /// // Deleted and recreated: the inode number was reused, the birth time is new.
    /// let recreated = FileIdentity { created: Some(4), ..temp };
    /// let err = ckpt.check_temp_file(&recreated).unwrap_err();
    /// assert!(matches!(err, CkptError::Mismatch { field: Field::TempCreated, .. }));
    /// ckpt.set_temp_file(truncated);
    /// assert!(ckpt.check_temp_file(&truncated).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_temp_file(&self, actual: &FileIdentity) -> Result<(), CkptError> {
        let stored = &self.local.temp_file;
        compare(Field::TempDevice, &stored.device, &actual.device)?;
        compare(Field::TempFileId, &stored.file_id, &actual.file_id)?;
        compare(Field::TempLength, &stored.len, &actual.len)?;
        if stored.created.is_some() {
            compare(Field::TempCreated, &stored.created, &actual.created)?;
        }
        Ok(())
    }
}

/// A window as a mismatch message prints it: `bytes 10-19` (inclusive), or the whole object.
fn shown_window(window: Option<ByteRange>) -> String {
    match window {
        Some(w) => format!("bytes {}-{}", w.start(), w.last()),
        None => "the whole object".into(),
    }
}

/// Values printed in a mismatch message.
trait Shown {
    fn shown(&self) -> String;
}

impl Shown for String {
    fn shown(&self) -> String {
        format!("{self:?}")
    }
}

impl Shown for u64 {
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl Shown for PathBuf {
    fn shown(&self) -> String {
        format!("{:?}", self.display().to_string())
    }
}

impl<T: Shown> Shown for Option<T> {
    fn shown(&self) -> String {
        match self {
            Some(value) => value.shown(),
            None => "none".into(),
        }
    }
}

fn compare<T: PartialEq + Shown>(field: Field, stored: &T, expected: &T) -> Result<(), CkptError> {
    if stored == expected {
        return Ok(());
    }
    Err(CkptError::Mismatch {
        field,
        stored: stored.shown(),
        expected: expected.shown(),
    })
}

/// Parts of a checkpoint for the decoder, which has already checked them.
pub(crate) struct CheckpointParts {
    pub(crate) object: ObjectIdentity,
    pub(crate) window: Option<ByteRange>,
    pub(crate) plan: Plan,
    pub(crate) local: LocalFiles,
    pub(crate) boot_id: Option<BootId>,
    pub(crate) latest: Snapshot,
    pub(crate) durable: Snapshot,
}

impl From<CheckpointParts> for Checkpoint {
    fn from(parts: CheckpointParts) -> Self {
        Self {
            object: parts.object,
            window: parts.window,
            plan: parts.plan,
            local: parts.local,
            boot_id: parts.boot_id,
            latest: parts.latest,
            durable: parts.durable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(size: u64, part: u64) -> Plan {
        Plan::new(size, PartSize::new(part).unwrap()).unwrap()
    }

    #[test]
    fn complete_folds_once_and_clears_in_flight() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut progress = Snapshot::new(plan(100, 30));
        progress
            .record(3, 5, oss_crc::checksum(&data[90..95]))
            .unwrap();
        assert_eq!(progress.bytes_done(), 5);
        for part in [3, 1, 0, 2] {
            let p = progress.plan().part(part).unwrap();
            let crc = oss_crc::checksum(&data[p.start() as usize..p.end() as usize]);
            assert!(progress.complete(part, crc).unwrap());
            // A second completion must not fold again (it would cancel the first).
            assert!(!progress.complete(part, crc).unwrap());
        }
        assert!(progress.in_flight().is_empty());
        assert_eq!(progress.bytes_done(), 100);
        assert_eq!(progress.object_crc(), Some(oss_crc::checksum(&data)));
        assert!(progress.complete(4, 0).is_err());
    }

    #[test]
    fn record_refuses_done_parts_and_too_many_in_flight() {
        let mut progress = Snapshot::new(plan(10_000, 1));
        progress.complete(5, 0).unwrap();
        assert!(progress.record(5, 1, 0).is_err());
        for index in 0..MAX_IN_FLIGHT as u64 + 1 {
            let index = index + 10;
            let result = progress.record(index, 1, 0);
            assert_eq!(
                result.is_ok(),
                (index - 10) < MAX_IN_FLIGHT as u64,
                "{index}"
            );
        }
        // Updating an existing entry is still fine at the limit.
        progress.record(10, 1, 7).unwrap();
        assert_eq!(progress.in_flight_part(10).unwrap().crc, 7);
    }

    #[test]
    fn resume_picks_latest_only_on_the_same_boot() {
        let object = ObjectIdentity {
            endpoint_host: "h".into(),
            bucket: "b".into(),
            key: "k".into(),
            version_id: None,
            etag: "e".into(),
            size: 10,
            last_modified: "m".into(),
            crc64: None,
        };
        let local = LocalFiles {
            destination: "d".into(),
            temp_path: "t".into(),
            temp_file: FileIdentity {
                device: 0,
                file_id: 0,
                len: 10,
                created: None,
            },
        };
        let this_boot = BootId::new(b"boot-1".to_vec());
        let other_boot = BootId::new(b"boot-2".to_vec());
        let mut ckpt = Checkpoint::new(
            object.clone(),
            plan(10, 5),
            local.clone(),
            this_boot.clone(),
        )
        .unwrap();
        ckpt.latest.complete(0, 0).unwrap();
        assert_eq!(ckpt.resume_from(this_boot.as_ref()).0, SnapshotKind::Latest);
        assert_eq!(ckpt.resume_from(this_boot.as_ref()).1.done().count(), 1);
        assert_eq!(
            ckpt.resume_from(other_boot.as_ref()).0,
            SnapshotKind::Durable
        );
        assert_eq!(ckpt.resume_from(None).0, SnapshotKind::Durable);
        ckpt.boot_id = None;
        assert_eq!(
            ckpt.resume_from(this_boot.as_ref()).0,
            SnapshotKind::Durable
        );

        assert!(Checkpoint::new(object, plan(11, 5), local, None).is_err());
    }
}
