//! Features that worked but that no test would have missed had they been removed: the
//! library's defaults, the connection count, the version pin of every part GET, the
//! preallocation, and the order of the data sync and the durable snapshot. Each test here
//! fails when its feature is removed (the commit that added them says how each was shown).

#![cfg(unix)]

use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oss_emulator::{BucketSpec, FaultAction, ObjectSpec, ServiceFault, Versioning};
use oss_resume::{CancellationToken, CheckpointUse, Error};

use crate::common::{BUCKET, Env, Scratch, assert_file, ckpt_of, fast_retry, temp_of};

/// Every ranged GET waits 150 ms for its first byte, so GETs that can overlap do.
fn slow_first_byte(env: &Env) {
    env.emu.add_fault(
        ServiceFault::new(FaultAction::FirstByteDelay(Duration::from_millis(150))).ranged_only(),
    );
}

/// The C SDK's defaults: one connection, no checkpoint (and none is ever written).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_defaults_to_one_connection_and_no_checkpoint() {
    let env = Env::start().await;
    let want = env.put("d", 1 << 20, 71);
    slow_first_byte(&env);
    let dir = Scratch::new("defaults");
    let dest = dir.path("d.bin");
    let ckpt = ckpt_of(&dest);
    let ckpt_seen = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&ckpt_seen);
    let watched = ckpt.clone();
    let report = env
        .client()
        .download(BUCKET, "d", &dest)
        .part_size(256 << 10)
        // A GET per part: four requests, which one connection must take one at a time.
        .max_request_size(256 << 10)
        .on_progress(move |_| {
            if watched.exists() {
                seen.store(true, Ordering::SeqCst);
            }
        })
        .await
        .unwrap();
    assert_file(&dest, &want);
    assert_eq!(report.checkpoint, CheckpointUse::Disabled);
    assert!(
        !ckpt_seen.load(Ordering::SeqCst),
        "a checkpoint was written"
    );
    let c = env.emu.counters();
    assert_eq!(c.ranges_served, 4);
    assert_eq!(c.max_concurrent_requests, 1, "one connection at a time");
}

/// `threads(n)` is the number of GETs in flight at once: exactly n when there are more
/// parts than that, and never more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_sets_the_number_of_concurrent_connections() {
    let env = Env::start().await;
    let want = env.put("t", 1 << 20, 72);
    slow_first_byte(&env);
    let dir = Scratch::new("threads-count");
    for threads in [3u64, 5] {
        env.emu.reset_counters();
        let dest = dir.path(&format!("t{threads}.bin"));
        env.client()
            .download(BUCKET, "t", &dest)
            .part_size(64 << 10) // 16 parts
            // A GET per part (a request would otherwise cover the whole 1 MiB).
            .max_request_size(64 << 10)
            .threads(threads as usize)
            .await
            .unwrap();
        assert_file(&dest, &want);
        let c = env.emu.counters();
        assert_eq!(c.ranges_served, 16);
        assert_eq!(c.max_concurrent_requests, threads, "threads({threads})");
    }
}

/// In a versioned bucket, the version HEAD reported is added to every part GET (not only a
/// version the caller gave): a new version put mid-download never mixes in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_head_returns_pins_every_part_get() {
    let env = Env::start().await;
    env.emu
        .add_bucket(BucketSpec::new("vbkt").versioning(Versioning::Enabled))
        .unwrap();
    let v1 = env
        .emu
        .put_object("vbkt", "doc", ObjectSpec::synthetic(400_000, 73))
        .unwrap();
    let dir = Scratch::new("version-pin");
    let dest = dir.path("doc.bin");
    let report = env
        .client()
        .download("vbkt", "doc", &dest)
        .part_size(50_000)
        // A GET per part: eight GETs to check, by two workers.
        .max_request_size(50_000)
        .threads(2)
        .await
        .unwrap();
    assert_file(&dest, &oss_emulator::synthetic_bytes(73, 0, 400_000));
    assert_eq!(
        report.object.version_id.as_deref(),
        Some(v1.version_id.as_str())
    );
    let gets: Vec<_> = env
        .emu
        .request_log()
        .into_iter()
        .filter(|r| r.method == "GET" && r.resource == "vbkt/doc")
        .collect();
    assert_eq!(gets.len(), 8);
    for get in &gets {
        assert_eq!(
            get.version_id.as_deref(),
            Some(v1.version_id.as_str()),
            "{get:?}"
        );
    }
    let head = env
        .emu
        .request_log()
        .into_iter()
        .find(|r| r.method == "HEAD")
        .unwrap();
    assert_eq!(head.version_id, None, "the caller gave no version");
}

/// The temp file's blocks are reserved before the first GET (`fallocate`), not left
/// sparse: seen on a download whose every GET is refused, so nothing was written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_temp_file_is_preallocated_before_any_data() {
    let env = Env::start().await;
    let size: u64 = 4 << 20;
    env.put("a", size, 74);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::error(403, "AccessDenied", "No."))
            .key(BUCKET, "a")
            .ranged_only(),
    );
    let dir = Scratch::new("prealloc");
    for preallocate in [true, false] {
        let dest = dir.path(&format!("a-{preallocate}.bin"));
        let e = env
            .client()
            .download(BUCKET, "a", &dest)
            .checkpoint(true)
            .preallocate(preallocate)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Part { .. }), "{e:?}");
        let meta = std::fs::metadata(temp_of(&dest)).unwrap();
        assert_eq!(meta.len(), size);
        let allocated = meta.blocks() * 512;
        if preallocate {
            assert!(
                allocated >= size,
                "only {allocated} of {size} bytes allocated"
            );
        } else {
            assert!(
                allocated < size / 4,
                "{allocated} bytes allocated without it"
            );
        }
    }
}

/// The power-cut model, kept by a seam that stands in for every fdatasync of the data file.
///
/// A power cut at the instant a data sync starts leaves: the data as of the start of the
/// *previous* sync (the last one that completed; a write racing a sync may or may not have
/// reached the disk), and the checkpoint file as it is (the durable save after the previous
/// sync was fsynced before this sync could start; the cheap slots are not used after a
/// reboot). Each sync records that state, then takes a while (the download keeps writing
/// meanwhile, so a snapshot taken at the wrong moment claims bytes no sync covered).
struct PowerCutModel {
    ckpt_path: std::path::PathBuf,
    state: Mutex<CutState>,
}

#[derive(Default)]
struct CutState {
    /// The data file at the start of the latest sync.
    data_at_last_sync: Option<Vec<u8>>,
    /// What a power cut at the start of the latest sync would leave: the checkpoint
    /// file's bytes, and the data file's (`None`: nothing ever synced, all zeros).
    cut: Option<(Vec<u8>, Option<Vec<u8>>)>,
    syncs: u64,
}

impl PowerCutModel {
    fn sync(&self, file: &std::fs::File) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        let ckpt = std::fs::read(&self.ckpt_path)?;
        let mut data = vec![0u8; usize::try_from(file.metadata()?.len()).unwrap()];
        file.read_exact_at(&mut data, 0)?;
        {
            let mut state = self.state.lock().unwrap();
            let kept = state.data_at_last_sync.replace(data);
            state.cut = Some((ckpt, kept));
            state.syncs += 1;
        }
        std::thread::sleep(Duration::from_millis(40));
        file.sync_data()
    }

    /// Leaves the files as the last recorded power cut would; with no sync recorded, the
    /// checkpoint as it is and the data all zeros.
    fn cut_power(&self, temp: &std::path::Path) {
        use std::os::unix::fs::FileExt;
        let state = self.state.lock().unwrap();
        let (ckpt, data) = match &state.cut {
            Some((ckpt, data)) => (ckpt.clone(), data.clone()),
            None => (std::fs::read(&self.ckpt_path).unwrap(), None),
        };
        std::fs::write(&self.ckpt_path, ckpt).unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(temp).unwrap();
        let len = usize::try_from(file.metadata().unwrap().len()).unwrap();
        let data = data.unwrap_or_else(|| vec![0u8; len]);
        file.write_all_at(&data, 0).unwrap();
    }
}

/// The ordering contract (`docs/crash-safety.md`): the snapshot that becomes durable is
/// copied before the data sync starts, and only after the sync returns is it saved as the
/// durable one. Run a durable download half way, cut the power at the start of its last
/// data sync ([`PowerCutModel`]), reboot (another boot id: the durable snapshot is used):
/// the resumed file must be the object, byte for byte (resumed bytes are not re-read, so a
/// snapshot that claimed unsynced bytes leaves zeros in the file). Removing the data sync,
/// or copying the snapshot after it, fails this.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_is_synced_before_the_durable_snapshot_claims_it() {
    let env = Env::start().await;
    let size: u64 = 4 << 20;
    let want = env.put("s", size, 75);
    let proxy = env
        .proxy(vec![oss_emulator::NetFault::Throttle {
            bytes_per_sec: 2 << 20,
        }])
        .await;
    let client = crate::common::client_for(&proxy.endpoint(), oss_resume::SignatureVersion::V4);
    let dir = Scratch::new("sync-order");
    let dest = dir.path("s.bin");
    let model = Arc::new(PowerCutModel {
        ckpt_path: ckpt_of(&dest),
        state: Mutex::default(),
    });
    let seam = Arc::clone(&model);
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let e = client
        .download(BUCKET, "s", &dest)
        .checkpoint(true)
        .part_size(256 << 10)
        .threads(2)
        .sync_interval(Duration::from_millis(20))
        .simulate_boot_id(Some(b"boot-before-the-power-cut"))
        .inject_data_sync(move |file| seam.sync(file))
        .cancel_token(cancel)
        .on_progress(move |p| {
            if p.bytes_done >= size / 2 {
                stop.cancel();
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e:?}");
    eprintln!(
        "{} data syncs before the cut",
        model.state.lock().unwrap().syncs
    );
    model.cut_power(&temp_of(&dest));

    proxy.clear_faults();
    let report = client
        .download(BUCKET, "s", &dest)
        .checkpoint(true)
        .part_size(256 << 10)
        .threads(2)
        .retry_policy(fast_retry())
        .simulate_boot_id(Some(b"boot-after-the-power-cut"))
        .await
        .unwrap();
    assert!(
        matches!(
            report.checkpoint,
            CheckpointUse::Resumed {
                snapshot: oss_resume::SnapshotKind::Durable,
                ..
            }
        ),
        "{:?}",
        report.checkpoint
    );
    assert!(
        report.bytes_resumed > 0,
        "nothing was durable: proves nothing"
    );
    assert_file(&dest, &want);
}
