//! The aggregator: the one owner of the download's progress state.
//!
//! It runs on its own thread and receives every worker event: the done set, the in-flight
//! parts' offsets and CRCs and the CRC fold live in the checkpoint's *latest* snapshot here
//! and nowhere else. It drives the progress callback (at a bounded rate) and, with the
//! checkpoint on, the commits:
//!
//! - a cheap save (no fsync) about every `commit_interval` (10 ms) while something changed;
//! - in durable mode, every `sync_interval`: copy *latest* (the snapshot only claims bytes
//!   already written), have the syncer thread fdatasync the data file, then make that copy
//!   the *durable* snapshot, save it into the checkpoint's durable slots
//!   (`DurableDeferred`), and have the syncer fsync the checkpoint file and its
//!   directory. Every flush runs on the syncer, never here: an fsync waits for the
//!   filesystem's journal and can take a second on a busy disk, and commits stalled behind
//!   it would let a kill lose that second's transfer (the re-fetch bound). A failed fsync
//!   is fatal for the download.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use oss_ckpt::fs::{CheckpointFile, Filesystem, SaveKind, StdFs, file_identity};
use oss_ckpt::{Checkpoint, CkptError, FileIdentity, Snapshot};
use oss_parts::DoneSet;
use tokio_util::sync::CancellationToken;

use crate::error::{Chain, Error, LocalOp};
use crate::failpoint::{self, DataSync, FailpointFs};
use crate::options::{Durability, ProgressFn};
use crate::paths::parent_dir;
use crate::report::Progress;
use crate::worker::Event;
use crate::writeback;

/// The aggregator's settings and state.
pub(crate) struct Aggregator {
    pub(crate) ckpt: Checkpoint,
    pub(crate) file: Option<CheckpointFile<FailpointFs>>,
    pub(crate) durability: Durability,
    pub(crate) commit_interval: Duration,
    pub(crate) sync_interval: Duration,
    pub(crate) data: Arc<File>,
    pub(crate) temp_path: PathBuf,
    pub(crate) data_sync: DataSync,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) progress_interval: Duration,
    pub(crate) bytes_resumed: u64,
    /// Part requests retried so far (counted by the workers).
    pub(crate) retries: Arc<AtomicU64>,
    pub(crate) cancel: CancellationToken,
    /// Suffixes of parts cut by a tail split, waiting for their prefix.
    pub(crate) suffixes: Suffixes,
}

/// Suffixes of parts (`Event::SuffixDone`) whose prefix is not complete yet: part index →
/// (the suffix's first byte from the part's start, its CRC-64). Never saved: until the part
/// is done the checkpoint records the prefix only, and a resume fetches the rest again.
pub(crate) type Suffixes = std::collections::HashMap<u64, (u64, u64)>;

/// Applies one worker event to the latest snapshot. A part cut by a tail split is complete
/// when its prefix (the victim's `Written`) reaches the first byte of its suffix (the
/// thief's `SuffixDone`), in either order; its CRC-64 is the two combined.
pub(crate) fn apply_event(
    latest: &mut Snapshot,
    suffixes: &mut Suffixes,
    event: Event,
) -> Result<(), CkptError> {
    let part_len = |latest: &Snapshot, index: u64| latest.plan().part(index).map_or(0, |p| p.len());
    match event {
        Event::Written {
            index,
            written,
            crc,
        } => {
            if latest.done().contains(index) {
                return Ok(());
            }
            if let Some(&(from, suffix_crc)) = suffixes.get(&index)
                && from == written
            {
                suffixes.remove(&index);
                let len = part_len(latest, index) - from;
                let whole = oss_crc::combine(crc, suffix_crc, len);
                return latest.complete(index, whole).map(|_| ());
            }
            latest.record(index, written, crc)
        }
        Event::PartDone { index, crc } => latest.complete(index, crc).map(|_| ()),
        Event::SuffixDone { index, from, crc } => match latest.in_flight_part(index) {
            Some(prefix) if prefix.bytes_done == from => {
                let len = part_len(latest, index) - from;
                let whole = oss_crc::combine(prefix.crc, crc, len);
                latest.complete(index, whole).map(|_| ())
            }
            _ => {
                suffixes.insert(index, (from, crc));
                Ok(())
            }
        },
    }
}

/// What the aggregator hands back when the workers are done.
pub(crate) struct Outcome {
    pub(crate) ckpt: Checkpoint,
    pub(crate) file: Option<CheckpointFile<FailpointFs>>,
    /// A fatal error it met (checkpoint save, data fsync); it cancelled the workers.
    pub(crate) fatal: Option<Error>,
    /// Whether the final state is in the checkpoint file.
    pub(crate) saved: bool,
    pub(crate) progress: Option<ProgressFn>,
}

/// What the syncer thread is asked to flush.
enum SyncJob {
    /// fdatasync the data file; the snapshot becomes durable once it succeeds.
    Data(Snapshot),
    /// fsync the checkpoint file (which now holds that durable snapshot) and its directory.
    Checkpoint(PathBuf),
}

/// A finished [`SyncJob`].
enum SyncDone {
    Data(Snapshot, std::io::Result<()>),
    Checkpoint(Result<(), Error>),
}

/// The syncer thread (durable mode only) and the one flush it may have in flight.
struct Syncer {
    requests: Sender<SyncJob>,
    replies: Receiver<SyncDone>,
    thread: Option<std::io::Result<JoinHandle<()>>>,
    in_flight: bool,
}

impl Syncer {
    /// Starts the thread when `durable` (without it, no request is ever accepted).
    fn start(data: &Arc<File>, sync: &DataSync, durable: bool) -> Self {
        let (reply_tx, replies) = std::sync::mpsc::channel::<SyncDone>();
        let (requests, request_rx) = std::sync::mpsc::channel::<SyncJob>();
        let thread = durable.then(|| {
            let data = Arc::clone(data);
            let sync = sync.clone();
            std::thread::Builder::new()
                .name("oss-resume-sync".into())
                .spawn(move || syncer(&data, &sync, &request_rx, &reply_tx))
        });
        Self {
            requests,
            replies,
            thread,
            in_flight: false,
        }
    }

    /// Hands `job` to the thread (the caller checks none is in flight).
    fn request(&mut self, job: SyncJob) {
        if self.requests.send(job).is_ok() {
            self.in_flight = true;
        }
    }

    /// The flush in flight, if it is done.
    fn poll(&mut self) -> Option<SyncDone> {
        if !self.in_flight {
            return None;
        }
        let done = self.replies.try_recv().ok()?;
        self.in_flight = false;
        Some(done)
    }

    /// Stops the thread once the flush in flight, if any, is done; returns that flush.
    fn stop(self) -> Option<SyncDone> {
        drop(self.requests);
        let done = if self.in_flight {
            self.replies.recv().ok()
        } else {
            None
        };
        if let Some(Ok(handle)) = self.thread {
            let _ = handle.join();
        }
        done
    }
}

/// When the loop next commits, asks for a sync, and reports progress.
struct Timers {
    next_commit: Instant,
    next_sync: Instant,
    next_progress: Instant,
    progress_interval: Duration,
}

/// What one wait for worker events brought.
enum Received {
    Events,
    Nothing,
    WorkersGone,
}

impl Aggregator {
    /// Runs until every event sender is gone.
    pub(crate) fn run(mut self, events: Receiver<Event>) -> Outcome {
        let mut fatal: Option<Error> = None;
        // Durable mode syncs the data periodically even without a checkpoint: there is no
        // snapshot to make durable then, but the syncs keep the disk writing while the
        // download runs, so the final fsync has little left (`docs/crash-safety.md`).
        let durable = self.durability == Durability::Durable;
        let mut syncer = Syncer::start(&self.data, &self.data_sync, durable);
        let started = Instant::now();
        let mut timers = Timers {
            next_commit: started + self.commit_interval,
            next_sync: started + self.sync_interval,
            next_progress: started,
            progress_interval: if self.progress.is_some() {
                self.progress_interval
            } else {
                Duration::from_secs(3600)
            },
        };
        let mut dirty = false;
        let mut rate = Rate::new(started, self.ckpt.latest.bytes_done());

        loop {
            match self.receive(&events, &timers, &mut fatal) {
                Received::Events => dirty = true,
                Received::Nothing => {}
                Received::WorkersGone => break,
            }
            let now = Instant::now();
            if let Some(done) = syncer.poll() {
                self.sync_done(done, &mut syncer, &mut fatal);
            }
            if fatal.is_some() {
                // Keep draining events until the workers stop, without spinning.
                timers.next_commit = now + self.commit_interval;
                timers.next_progress = now + timers.progress_interval;
                continue;
            }
            if now >= timers.next_commit {
                if dirty && let Err(e) = self.save(SaveKind::Cheap) {
                    self.fail(&mut fatal, e);
                }
                dirty = false;
                timers.next_commit = now + self.commit_interval;
            }
            if durable
                && !syncer.in_flight
                && now >= timers.next_sync
                && self.ckpt.latest != self.ckpt.durable
            {
                // The interval counts from this sync's start: when syncs take longer (the
                // disk is the bottleneck) they run back to back, so the disk never idles
                // while dirty data waits for the next one.
                timers.next_sync = now + self.sync_interval;
                syncer.request(SyncJob::Data(self.ckpt.latest.clone()));
            }
            if now >= timers.next_progress {
                self.report(&mut rate, now);
                timers.next_progress = now + timers.progress_interval;
            }
        }
        self.wind_down(syncer, fatal, &mut rate)
    }

    /// Waits for worker events until the next timed job is due (at most 50 ms), then
    /// applies everything queued.
    fn receive(
        &mut self,
        events: &Receiver<Event>,
        timers: &Timers,
        fatal: &mut Option<Error>,
    ) -> Received {
        let now = Instant::now();
        let wake = timers
            .next_commit
            .min(timers.next_progress)
            .min(now + Duration::from_millis(50));
        match events.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(event) => {
                if let Err(e) = self.apply(event) {
                    self.fail(fatal, e);
                }
                // Drain what is queued before doing timed work.
                while let Ok(event) = events.try_recv() {
                    if let Err(e) = self.apply(event) {
                        self.fail(fatal, e);
                    }
                }
                Received::Events
            }
            Err(RecvTimeoutError::Timeout) => Received::Nothing,
            Err(RecvTimeoutError::Disconnected) => Received::WorkersGone,
        }
    }

    /// A flush finished. After a data sync the checkpoint on disk holds the new durable
    /// snapshot: have it flushed too (when there is one); the next data sync is due one
    /// sync interval after this one started, or as soon as that flush is done.
    fn sync_done(&mut self, done: SyncDone, syncer: &mut Syncer, fatal: &mut Option<Error>) {
        match done {
            SyncDone::Data(snapshot, result) => {
                match self.synced(snapshot, result, SaveKind::DurableDeferred) {
                    Ok(()) => {
                        if let Some(path) = self.file.as_ref().map(|f| f.path().to_path_buf()) {
                            syncer.request(SyncJob::Checkpoint(path));
                        }
                    }
                    Err(e) => self.fail(fatal, e),
                }
            }
            SyncDone::Checkpoint(result) => {
                if let Err(e) = result {
                    self.fail(fatal, e);
                }
            }
        }
    }

    /// The workers are done: settle the sync in flight, then commit the final state
    /// (which holds a durable snapshot that sync made).
    fn wind_down(mut self, syncer: Syncer, mut fatal: Option<Error>, rate: &mut Rate) -> Outcome {
        if let Some(done) = syncer.stop()
            && fatal.is_none()
        {
            let settled = match done {
                // Saved cheaply: nothing flushes a durable-slot save from here on, and the
                // engine's final `Durable` save goes to the other durable slot, which holds
                // the last flushed one; an unflushed save here would leave both durable
                // slots unflushed while that save is written.
                SyncDone::Data(snapshot, result) => self.synced(snapshot, result, SaveKind::Cheap),
                SyncDone::Checkpoint(result) => result,
            };
            if let Err(e) = settled {
                fatal = Some(e);
            }
        }
        let mut saved = false;
        if self.file.is_some() && fatal.is_none() {
            match self.save(SaveKind::Cheap) {
                Ok(()) => saved = true,
                Err(e) => fatal = Some(e),
            }
        }
        self.report(rate, Instant::now());
        Outcome {
            ckpt: self.ckpt,
            file: self.file,
            fatal,
            saved,
            progress: self.progress,
        }
    }

    fn fail(&self, fatal: &mut Option<Error>, e: Error) {
        tracing::error!("download stopping: {}", Chain(&e));
        if fatal.is_none() {
            *fatal = Some(e);
        }
        self.cancel.cancel();
    }

    fn apply(&mut self, event: Event) -> Result<(), Error> {
        apply_event(&mut self.ckpt.latest, &mut self.suffixes, event)
            .map_err(|source| self.ckpt_error(source))
    }

    fn ckpt_error(&self, source: CkptError) -> Error {
        let path = self
            .file
            .as_ref()
            .map(|f| f.path().to_path_buf())
            .unwrap_or_default();
        ckpt_error(path, source)
    }

    /// Saves the checkpoint (no-op with checkpointing off).
    fn save(&mut self, how: SaveKind) -> Result<(), Error> {
        match self.file.as_mut() {
            Some(file) => save_checkpoint(file, &self.ckpt, how),
            None => Ok(()),
        }
    }

    /// A data sync finished: on success `snapshot` becomes the durable one and is saved
    /// `how`: into the durable slots without an fsync (`DurableDeferred`, when the syncer
    /// flushes that save next), or cheaply when nothing will flush it.
    fn synced(
        &mut self,
        snapshot: Snapshot,
        result: std::io::Result<()>,
        how: SaveKind,
    ) -> Result<(), Error> {
        if let Err(source) = result {
            return Err(Error::SyncFailed {
                path: self.temp_path.clone(),
                source,
            });
        }
        failpoint::hit(failpoint::DATA_SYNCED);
        self.ckpt.durable = snapshot;
        self.save(how)
    }

    fn report(&mut self, rate: &mut Rate, now: Instant) {
        let Some(callback) = self.progress.as_mut() else {
            return;
        };
        let latest = &self.ckpt.latest;
        let bytes_done = latest.bytes_done();
        let progress = Progress {
            bytes_done,
            bytes_total: latest.plan().object_size(),
            parts_done: latest.done().count(),
            parts_total: latest.plan().len(),
            bytes_resumed: self.bytes_resumed,
            bytes_per_sec: rate.update(now, bytes_done),
            part_size: latest.plan().part_size().get(),
            retries: self.retries.load(Ordering::Relaxed),
        };
        callback(&progress);
    }
}

/// The syncer thread: runs each flush it is asked for, in order.
fn syncer(data: &File, sync: &DataSync, requests: &Receiver<SyncJob>, replies: &Sender<SyncDone>) {
    // The checkpoint file whose name the last directory sync made durable.
    let mut named = None;
    // The parts whose pages were dropped after a sync.
    let mut forgotten: Option<DoneSet> = None;
    while let Ok(job) = requests.recv() {
        let (done, synced) = match job {
            SyncJob::Data(snapshot) => {
                let result = sync.run(data);
                let synced = result.is_ok().then(|| snapshot.clone());
                (SyncDone::Data(snapshot, result), synced)
            }
            SyncJob::Checkpoint(path) => (
                SyncDone::Checkpoint(sync_checkpoint(&path, &mut named)),
                None,
            ),
        };
        if replies.send(done).is_err() {
            break;
        }
        // After the reply: the durable snapshot does not wait for this.
        if let Some(snapshot) = synced {
            forget_synced(data, &snapshot, &mut forgotten);
        }
    }
}

/// Drops the cached pages of what an fdatasync just made durable (`snapshot`, copied
/// before it): the parts done since the last time, and the in-flight parts' bytes so far.
/// A download larger than memory then leaves the page cache to others (`writeback.rs`).
fn forget_synced(data: &File, snapshot: &Snapshot, forgotten: &mut Option<DoneSet>) {
    let plan = snapshot.plan();
    let bytes = |parts: std::ops::Range<u64>| -> Option<std::ops::Range<u64>> {
        let first = plan.part(parts.start)?;
        let last = plan.part(parts.end.checked_sub(1)?)?;
        Some(first.start()..last.end())
    };
    let new = match forgotten.as_ref() {
        Some(old) => snapshot.done().difference(old),
        None => snapshot.done().clone(),
    };
    for range in new.done_ranges().filter_map(bytes) {
        writeback::forget(data, range);
    }
    for part in snapshot.in_flight() {
        if let Some(p) = plan.part(part.index) {
            writeback::forget(data, p.start()..p.start() + part.bytes_done);
        }
    }
    *forgotten = Some(snapshot.done().clone());
}

/// fsyncs the checkpoint file at `path` and, when the file there is not the one `named`
/// (the one whose rename the last directory sync made durable), its directory: the durable
/// slot just written (`DurableDeferred`) reaches the disk, with the rename that put the file
/// in place. Saves in place keep the file, so after the first flush only a save that
/// outgrew the slots (a new file) needs the directory again. The next durable-slot save
/// waits for this one (one sync in flight at a time), so it never overwrites a durable slot
/// before that slot is on disk.
fn sync_checkpoint(path: &Path, named: &mut Option<FileIdentity>) -> Result<(), Error> {
    let failed = |source| Error::SyncFailed {
        path: path.to_path_buf(),
        source,
    };
    // Opened for writing: Windows flushes only handles that may write.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::local(LocalOp::Checkpoint, path, e))?;
    file.sync_all().map_err(failed)?;
    // Identity without the length (saves in place do not change it; a new file does).
    let identity = file_identity(&file)
        .ok()
        .map(|id| FileIdentity { len: 0, ..id });
    if identity.is_none() || identity != *named {
        StdFs.sync_dir(&parent_dir(path)).map_err(failed)?;
        *named = identity;
    }
    Ok(())
}

/// A transfer rate smoothed over about a second.
pub(crate) struct Rate {
    last: Instant,
    bytes: u64,
    value: f64,
}

impl Rate {
    pub(crate) fn new(now: Instant, bytes: u64) -> Self {
        Self {
            last: now,
            bytes,
            value: 0.0,
        }
    }

    pub(crate) fn update(&mut self, now: Instant, bytes: u64) -> f64 {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        if dt > 0.0 {
            let instant = bytes.saturating_sub(self.bytes) as f64 / dt;
            let alpha = (dt / 1.0).min(1.0);
            self.value += alpha * (instant - self.value);
            self.last = now;
            self.bytes = bytes;
        }
        self.value
    }
}

/// Saves `ckpt` atomically, cheaply or durably.
pub(crate) fn save_checkpoint(
    file: &mut CheckpointFile<FailpointFs>,
    ckpt: &Checkpoint,
    how: SaveKind,
) -> Result<(), Error> {
    let result = file.save(ckpt, how);
    result.map_err(|e| ckpt_error(file.path().to_path_buf(), e))
}

/// A checkpoint failure as the download's error: sync failures and I/O errors are local disk
/// errors; the rest (a state that breaks the format's rules) is reported as is.
fn ckpt_error(path: PathBuf, source: CkptError) -> Error {
    match source {
        CkptError::SyncFailed { path, source, .. } => Error::SyncFailed { path, source },
        CkptError::Io { path, source, .. } => Error::local(LocalOp::Checkpoint, path, source),
        other => Error::Checkpoint {
            path,
            source: other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oss_ckpt::{FileIdentity, LocalFiles, ObjectIdentity};
    use oss_parts::{PartSize, Plan};

    /// The sequence number in each of the checkpoint file's four slot headers.
    fn slot_sequences(path: &Path) -> Vec<u64> {
        let bytes = std::fs::read(path).unwrap();
        let slot_len = bytes.len() / 4;
        (0..4)
            .map(|k| {
                let at = k * slot_len + 16;
                u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
            })
            .collect()
    }

    /// The workers stop while a data sync is in flight: the aggregator settles it, and the
    /// engine then saves `Durable` (before the final rename). That save overwrites a durable
    /// slot, so the other one must hold a flushed save — the aggregator must not leave an
    /// unflushed `DurableDeferred` save there, or a power cut during the final save (both
    /// durable slots being written, the cheap ones too) leaves no intact slot.
    #[test]
    fn final_durable_save_keeps_the_last_flushed_durable_slot() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let temp_path = dir.join("d.bin.tmp");
        let data = File::create(&temp_path).unwrap();
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
            destination: dir.join("d.bin"),
            temp_path: temp_path.clone(),
            temp_file: FileIdentity {
                device: 1,
                file_id: 2,
                len: 10,
                created: None,
            },
        };
        let plan = Plan::new(10, PartSize::new(5).unwrap()).unwrap();
        let mut ckpt = Checkpoint::new(object, plan, local, None).unwrap();
        let mut file = CheckpointFile::with_fs(FailpointFs, dir.join("d.bin.cp"));
        let path = file.path().to_path_buf();
        // A whole-file save (slot 0, sequence 1), then a flushed durable one (slot 1, 2).
        file.save(&ckpt, SaveKind::Cheap).unwrap();
        ckpt.latest.complete(0, 7).unwrap();
        ckpt.durable = ckpt.latest.clone();
        file.save(&ckpt, SaveKind::Durable).unwrap();
        assert_eq!(slot_sequences(&path)[1], 2);

        // One event, then the workers are gone: with a zero sync interval the data sync
        // is sent right after the event, and the loop ends with it in flight.
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send(Event::PartDone { index: 1, crc: 9 }).unwrap();
        drop(tx);
        let outcome = Aggregator {
            ckpt,
            file: Some(file),
            durability: Durability::Durable,
            commit_interval: Duration::from_secs(3600),
            sync_interval: Duration::ZERO,
            data: Arc::new(data),
            temp_path,
            data_sync: DataSync::default(),
            progress: None,
            progress_interval: Duration::from_secs(3600),
            bytes_resumed: 0,
            retries: Arc::new(AtomicU64::new(0)),
            cancel: CancellationToken::new(),
            suffixes: Suffixes::new(),
        }
        .run(rx);
        assert!(outcome.fatal.is_none());
        assert_eq!(outcome.ckpt.durable, outcome.ckpt.latest);

        // The engine's final save.
        let mut file = outcome.file.unwrap();
        file.save(&outcome.ckpt, SaveKind::Durable).unwrap();
        let sequences = slot_sequences(&path);
        assert_eq!(
            sequences[1], 2,
            "the final durable save overwrote the last flushed durable slot: {sequences:?}"
        );
        file.remove().unwrap();
    }

    #[test]
    fn a_cut_part_is_done_when_prefix_and_suffix_meet_in_either_order() {
        let plan = oss_parts::Plan::new(40, oss_parts::PartSize::new(10).unwrap()).unwrap();
        let bytes: Vec<u8> = (0..40u8).collect();
        let part = &bytes[10..20];
        let want = oss_crc::checksum(part);
        for suffix_first in [false, true] {
            let mut latest = Snapshot::new(plan);
            let mut suffixes = Suffixes::new();
            let prefix = [
                Event::Written {
                    index: 1,
                    written: 3,
                    crc: oss_crc::checksum(&part[..3]),
                },
                Event::Written {
                    index: 1,
                    written: 6,
                    crc: oss_crc::checksum(&part[..6]),
                },
            ];
            let suffix = Event::SuffixDone {
                index: 1,
                from: 6,
                crc: oss_crc::checksum(&part[6..]),
            };
            if suffix_first {
                apply_event(&mut latest, &mut suffixes, suffix).unwrap();
            }
            for e in prefix {
                assert!(
                    !latest.done().contains(1),
                    "done before the prefix met the suffix"
                );
                apply_event(&mut latest, &mut suffixes, e).unwrap();
            }
            if !suffix_first {
                assert_eq!(latest.in_flight_part(1).map(|p| p.bytes_done), Some(6));
                apply_event(&mut latest, &mut suffixes, suffix).unwrap();
            }
            assert!(latest.done().contains(1), "suffix first: {suffix_first}");
            assert!(latest.in_flight().is_empty() && suffixes.is_empty());
            let mut whole = Snapshot::new(plan);
            whole.complete(1, want).unwrap();
            assert_eq!(latest.fold(), whole.fold(), "suffix first: {suffix_first}");
        }
    }
}
