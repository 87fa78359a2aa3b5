//! Issue 10 in process: resume decisions, durability modes, verify-on-resume, and every way
//! the files between two runs can be wrong.

use std::path::Path;
use std::time::Duration;

use oss_ckpt::fs::CheckpointFile;
use oss_ckpt::{Checkpoint, CkptError, Field};
use oss_emulator::{FaultAction, ServiceFault};
use oss_resume::{
    CancellationToken, CheckpointUse, Client, Download, Durability, Error, FreshReason, OnChange,
    SnapshotKind,
};

use crate::common::{BUCKET, Env, Scratch, assert_file, chain, ckpt_of, fast_retry, temp_of};

const SIZE: u64 = 2 << 20;
const PART: u64 = 256 * 1024;

fn download(client: &Client, key: &str, dest: &Path) -> Download {
    client
        .download(BUCKET, key, dest)
        .checkpoint(true)
        .part_size(PART)
        // One GET per part: the gates below count GETs (coalescing has its own tests).
        .max_request_size(PART)
        .threads(3)
        .retry_policy(fast_retry())
}

/// Runs a checkpointed download of the standard plan (SIZE in PART-sized parts) and cancels
/// it once `fraction` of it is on disk.
///
/// The cancel comes from the progress callback, which runs on the download's aggregator
/// thread; on a loaded 2-core machine that thread lags by a few hundred milliseconds now and
/// then, long enough for a throttled download to finish first (seen). So the emulator gates
/// the download instead ([`Env::gate_after`]): the ranged GETs after the first
/// `ceil(fraction × parts)` wait a minute for their first byte, the download cannot finish
/// before the cancel lands, and the gate is gone before the caller resumes.
async fn interrupt(env: &Env, d: Download, fraction: f64) {
    let gate = env.gate_after((fraction * SIZE.div_ceil(PART) as f64).ceil() as u64);
    cancel_at(d, fraction).await;
    env.emu.remove_fault(gate);
}

/// Runs a checkpointed download and cancels it once `fraction` is on disk (the caller makes
/// sure it cannot finish first).
pub(crate) async fn cancel_at(d: Download, fraction: f64) {
    let token = CancellationToken::new();
    let trigger = token.clone();
    let err = d
        .progress_interval(Duration::from_millis(5))
        .on_progress(move |p| {
            if p.bytes_done as f64 >= fraction * p.bytes_total as f64 {
                trigger.cancel();
            }
        })
        .cancel_token(token)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Cancelled {
                checkpoint_saved: true,
                ..
            }
        ),
        "{err}"
    );
}

/// Runs `edit` on each of the four slots of a checkpoint file of this build's format.
fn for_each_slot(bytes: &mut [u8], mut edit: impl FnMut(&mut [u8])) {
    assert_eq!(
        u16::from_le_bytes([bytes[8], bytes[9]]),
        oss_ckpt::FORMAT_VERSION
    );
    let slot_len = bytes.len() / oss_ckpt::layout::SLOT_COUNT as usize;
    for slot in bytes.chunks_mut(slot_len) {
        edit(slot);
    }
}

fn load(dest: &Path) -> Checkpoint {
    CheckpointFile::for_destination(dest).load_any().unwrap()
}

fn fresh_reason(report: &oss_resume::Report) -> String {
    match &report.checkpoint {
        CheckpointUse::Fresh { reason: Some(r) } => r.to_string(),
        other => panic!("expected a fresh start with a reason, got {other:?}"),
    }
}

#[tokio::test]
async fn a_cancelled_download_resumes_where_it_stopped_and_cleans_up() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 51);
    let dir = Scratch::new("resume");
    let dest = dir.path("obj.bin");
    interrupt(&env, download(&env.client(), "obj", &dest), 0.5).await;
    assert!(ckpt_of(&dest).exists() && temp_of(&dest).exists() && !dest.exists());
    let saved = load(&dest);
    let on_disk = saved.latest.bytes_done();
    assert!((SIZE / 2..SIZE).contains(&on_disk), "{on_disk}");

    let report = download(&env.client(), "obj", &dest).await.unwrap();
    assert_file(&dest, &want);
    assert_eq!(
        report.checkpoint,
        CheckpointUse::Resumed {
            snapshot: SnapshotKind::Latest,
            verified: false
        }
    );
    assert_eq!(report.bytes_resumed, on_disk);
    assert_eq!(report.bytes_transferred, SIZE - on_disk);
    assert_eq!(
        dir.names(),
        ["obj.bin"],
        "checkpoint, temp and lock are gone"
    );
}

#[tokio::test]
async fn progress_inside_parts_is_resumed_too() {
    // One huge part: without in-part progress a resume would start from byte 0.
    let env = Env::start().await;
    let want = env.put("big-part", SIZE, 52);
    let dir = Scratch::new("inpart");
    let dest = dir.path("obj.bin");
    // One part: nothing to gate by request, so a throttle slow enough that the rest takes
    // over a second after the cancel point.
    cancel_at(
        download(&env.client(), "big-part", &dest)
            .part_size(5 << 30)
            .threads(1)
            .bandwidth_limit(1 << 20),
        0.4,
    )
    .await;
    let saved = load(&dest);
    assert_eq!(saved.latest.done().count(), 0);
    assert_eq!(saved.latest.in_flight().len(), 1);
    let on_disk = saved.latest.bytes_done();
    assert!(on_disk > 0);
    let report = download(&env.client(), "big-part", &dest)
        .part_size(5 << 30)
        .await
        .unwrap();
    assert_eq!(report.bytes_resumed, on_disk);
    assert_eq!(report.bytes_transferred, SIZE - on_disk);
    assert_file(&dest, &want);
}

/// Another part size starts over, and says so as data, without the refusal's advice
/// ("belongs to another download ... delete it"): there is nothing left to do.
#[tokio::test]
async fn another_part_size_starts_over_with_the_sizes_as_data() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 59);
    let dir = Scratch::new("part-size");
    let dest = dir.path("obj.bin");
    interrupt(&env, download(&env.client(), "obj", &dest), 0.4).await;
    let report = download(&env.client(), "obj", &dest)
        .part_size(PART * 2)
        .await
        .unwrap();
    let CheckpointUse::Fresh {
        reason: Some(reason),
    } = &report.checkpoint
    else {
        panic!("{:?}", report.checkpoint);
    };
    assert_eq!(
        *reason,
        FreshReason::PartSize {
            checkpoint: PART,
            now: PART * 2
        }
    );
    let text = reason.to_string();
    assert!(
        text.contains("262144") && text.contains("524288") && !text.contains("delete"),
        "{text}"
    );
    assert_eq!(report.bytes_resumed, 0);
    assert_file(&dest, &want);
}

#[tokio::test]
async fn sdk_c_w_c2_a_corrupt_or_truncated_checkpoint_is_never_trusted() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 53);
    for damage in ["flip", "truncate", "garbage"] {
        let dir = Scratch::new("corrupt");
        let dest = dir.path("obj.bin");
        interrupt(&env, download(&env.client(), "obj", &dest), 0.5).await;
        let path = ckpt_of(&dest);
        let mut bytes = std::fs::read(&path).unwrap();
        match damage {
            // A bit of every slot's body: no intact slot left. (One slot alone would fall
            // back to an older slot, as a torn write does.)
            "flip" => for_each_slot(&mut bytes, |slot| {
                slot[oss_ckpt::layout::SLOT_HEADER_LEN] ^= 0x40
            }),
            "truncate" => bytes.truncate(bytes.len() / 2),
            _ => bytes = b"<Checkpoint><MD5/></Checkpoint>".to_vec(),
        }
        std::fs::write(&path, &bytes).unwrap();
        if damage == "garbage" {
            // Not damaged but never a checkpoint (another tool's record): not trusted, and
            // not ours to delete either; `restart` discards it.
            let err = download(&env.client(), "obj", &dest).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    oss_resume::Error::Checkpoint {
                        source: oss_resume::CkptError::NotACheckpoint { .. },
                        ..
                    }
                ),
                "{err:?}"
            );
            assert_eq!(std::fs::read(&path).unwrap(), bytes);
            let report = download(&env.client(), "obj", &dest)
                .restart(true)
                .await
                .unwrap();
            assert_eq!(report.bytes_resumed, 0);
            assert_file(&dest, &want);
            assert_eq!(dir.names(), ["obj.bin"]);
            continue;
        }
        let report = download(&env.client(), "obj", &dest).await.unwrap();
        let reason = fresh_reason(&report);
        assert!(reason.contains("corrupt"), "{damage}: {reason}");
        assert_eq!(report.bytes_resumed, 0, "{damage}");
        assert_file(&dest, &want);
        assert_eq!(dir.names(), ["obj.bin"]);
    }
}

#[tokio::test]
async fn a_future_version_checkpoint_is_refused_not_destroyed() {
    let env = Env::start().await;
    env.put("obj", SIZE, 54);
    let dir = Scratch::new("future");
    let dest = dir.path("obj.bin");
    interrupt(&env, download(&env.client(), "obj", &dest), 0.3).await;
    let path = ckpt_of(&dest);
    let mut bytes = std::fs::read(&path).unwrap();
    let future = oss_ckpt::FORMAT_VERSION + 1;
    // Every written slot claims the next version, its checksum recomputed: an intact file
    // from a newer writer.
    for_each_slot(&mut bytes, |slot| {
        if slot[..8] != oss_ckpt::layout::MAGIC {
            return;
        }
        slot[8..10].copy_from_slice(&future.to_le_bytes());
        let body_len = u32::from_le_bytes(slot[12..16].try_into().unwrap()) as usize;
        let mut crc = oss_crc::Crc64::new();
        crc.update(&slot[..32]);
        crc.update(&slot[40..40 + body_len]);
        let sum = crc.value().to_le_bytes();
        slot[32..40].copy_from_slice(&sum);
    });
    std::fs::write(&path, &bytes).unwrap();
    let err = download(&env.client(), "obj", &dest).await.unwrap_err();
    match &err {
        Error::Checkpoint {
            source: CkptError::NewerFormat { found, .. },
            ..
        } if *found == future => {}
        other => panic!("{other}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "left as it was");
    assert!(env.emu.counters().requests_for("GET", BUCKET, "obj") > 0);
}

#[tokio::test]
async fn a_foreign_checkpoint_is_refused_not_overwritten() {
    let env = Env::start().await;
    env.put("mine", SIZE, 55);
    env.put("theirs", SIZE, 56);
    let dir = Scratch::new("foreign");
    let dest = dir.path("obj.bin");
    interrupt(&env, download(&env.client(), "theirs", &dest), 0.3).await;
    let before = std::fs::read(ckpt_of(&dest)).unwrap();
    let gets = env.emu.counters().requests_for("GET", BUCKET, "mine");
    let err = download(&env.client(), "mine", &dest).await.unwrap_err();
    match &err {
        Error::Checkpoint {
            source: CkptError::Mismatch {
                field: Field::Key, ..
            },
            ..
        } => {}
        other => panic!("{other}"),
    }
    assert!(chain(&err).contains("another download"), "{}", chain(&err));
    assert_eq!(std::fs::read(ckpt_of(&dest)).unwrap(), before);
    assert_eq!(env.emu.counters().requests_for("GET", BUCKET, "mine"), gets);
    // A custom checkpoint path for the other download works, under the same lock.
    download(&env.client(), "mine", &dest)
        .checkpoint_path(dir.path("mine.cp"))
        .await
        .unwrap();
    assert!(ckpt_of(&dest).exists() && !dir.path("mine.cp").exists());
}

/// `restart(true)` discards whatever checkpoint is at the path — another download's too —
/// but only under the destination's lock: while another run holds it, nothing is removed.
#[tokio::test]
async fn restart_discards_any_checkpoint_under_the_lock() {
    let env = Env::start().await;
    env.put("theirs", SIZE, 60);
    let want = env.put("mine", SIZE, 61);
    let dir = Scratch::new("restart");
    let dest = dir.path("obj.bin");
    interrupt(&env, download(&env.client(), "theirs", &dest), 0.3).await;
    let before = std::fs::read(ckpt_of(&dest)).unwrap();

    // Another run holds the lock: refused, the checkpoint left as it was.
    let mut holder = std::fs::File::create(dir.path("obj.bin.lock")).unwrap();
    holder.try_lock().unwrap();
    std::io::Write::write_all(&mut holder, b"4242\n").unwrap();
    let err = download(&env.client(), "mine", &dest)
        .restart(true)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Locked {
                pid: Some(4242),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(std::fs::read(ckpt_of(&dest)).unwrap(), before);
    drop(holder);

    let report = download(&env.client(), "mine", &dest)
        .restart(true)
        .await
        .unwrap();
    assert_eq!(
        report.checkpoint,
        CheckpointUse::Fresh {
            reason: Some(FreshReason::Restarted)
        }
    );
    assert_eq!(report.bytes_resumed, 0);
    assert_file(&dest, &want);
    assert_eq!(dir.names(), ["obj.bin"]);

    // Nothing to discard: a plain fresh start.
    std::fs::remove_file(&dest).unwrap();
    let report = download(&env.client(), "mine", &dest)
        .restart(true)
        .await
        .unwrap();
    assert_eq!(report.checkpoint, CheckpointUse::Fresh { reason: None });
}

#[tokio::test]
async fn sdk_go_v2_w_g1_a_deleted_truncated_or_replaced_temp_file_is_never_trusted() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 57);
    for damage in ["delete", "truncate", "replace"] {
        let dir = Scratch::new("temp");
        let dest = dir.path("obj.bin");
        interrupt(&env, download(&env.client(), "obj", &dest), 0.5).await;
        let temp = temp_of(&dest);
        match damage {
            "delete" => std::fs::remove_file(&temp).unwrap(),
            "truncate" => {
                let f = std::fs::OpenOptions::new().write(true).open(&temp).unwrap();
                f.set_len(SIZE / 3).unwrap();
            }
            _ => {
                // Same name and length, another file (zeros where the data was).
                std::fs::remove_file(&temp).unwrap();
                std::fs::write(&temp, vec![0u8; SIZE as usize]).unwrap();
            }
        }
        let report = download(&env.client(), "obj", &dest).await.unwrap();
        let reason = fresh_reason(&report);
        let expect: &[&str] = match damage {
            "delete" => &["gone"],
            "truncate" => &["temp file length"],
            // ext4 and tmpfs usually give the new file the old inode number back; then
            // only the birth time tells them apart.
            _ => &["temp file id", "temp file birth time"],
        };
        assert!(
            expect.iter().any(|e| reason.contains(e)),
            "{damage}: {reason}"
        );
        assert_eq!(report.bytes_resumed, 0);
        assert_file(&dest, &want);
    }
}

#[tokio::test]
async fn an_object_replaced_between_runs_fails_then_downloads_the_new_version() {
    let env = Env::start().await;
    env.put("obj", SIZE, 58);
    let dir = Scratch::new("replaced");
    let dest = dir.path("obj.bin");
    interrupt(&env, download(&env.client(), "obj", &dest), 0.5).await;
    env.emu.replace_object(BUCKET, "obj").unwrap();
    let err = download(&env.client(), "obj", &dest).await.unwrap_err();
    assert!(
        matches!(err, Error::ObjectChanged { part: None, .. }),
        "{err}"
    );
    assert!(
        dir.names().is_empty(),
        "old version's data discarded: {:?}",
        dir.names()
    );
    let report = download(&env.client(), "obj", &dest).await.unwrap();
    assert_file(&dest, &env.emu.object_bytes(BUCKET, "obj").unwrap());
    assert_eq!(report.bytes_resumed, 0);

    // Under the restart policy the same situation just starts over.
    std::fs::remove_file(&dest).unwrap();
    interrupt(&env, download(&env.client(), "obj", &dest), 0.5).await;
    env.emu.replace_object(BUCKET, "obj").unwrap();
    let report = download(&env.client(), "obj", &dest)
        .on_change(OnChange::Restart)
        .await
        .unwrap();
    assert!(fresh_reason(&report).contains("ETag"));
    assert_file(&dest, &env.emu.object_bytes(BUCKET, "obj").unwrap());
}

#[tokio::test]
async fn sdk_oss2_w_o1_and_go_v1_w_u1_after_a_crc_mismatch_a_retry_neither_loops_nor_accepts() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 59);
    let fault = env.emu.add_fault(
        ServiceFault::new(FaultAction::CorruptByte(77))
            .ranged_only()
            .times(1),
    );
    let dir = Scratch::new("crc");
    let dest = dir.path("obj.bin");
    let err = download(&env.client(), "obj", &dest).await.unwrap_err();
    assert!(matches!(err, Error::CrcMismatch { .. }), "{err}");
    assert!(
        dir.names().is_empty(),
        "temp and checkpoint deleted: {:?}",
        dir.names()
    );
    assert_eq!(env.emu.fault_fired(fault), 1);
    let report = download(&env.client(), "obj", &dest).await.unwrap();
    assert_eq!(report.checkpoint, CheckpointUse::Fresh { reason: None });
    assert_eq!(report.bytes_transferred, SIZE);
    assert_file(&dest, &want);
}

#[tokio::test]
async fn a_simulated_reboot_resumes_from_the_durable_snapshot() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 60);
    let dir = Scratch::new("reboot");
    let dest = dir.path("obj.bin");
    // Cancel past 70%, once a durable snapshot is on disk (the callback runs on the thread
    // that saves the checkpoint, so reading it there sees every save). The gate holds the
    // download at 75% until then, however late the callback runs.
    let gate = env.gate_after(6);
    let token = CancellationToken::new();
    let trigger = token.clone();
    let watched = dest.clone();
    let err = download(&env.client(), "obj", &dest)
        .sync_interval(Duration::from_millis(30))
        .simulate_boot_id(Some(b"boot-1"))
        .progress_interval(Duration::from_millis(5))
        .on_progress(move |p| {
            let durable = CheckpointFile::for_destination(&watched)
                .load_any()
                .map_or(0, |c| c.durable.bytes_done());
            if p.bytes_done >= p.bytes_total * 7 / 10 && durable > 0 {
                trigger.cancel();
            }
        })
        .cancel_token(token)
        .await;
    env.emu.remove_fault(gate);
    assert!(matches!(err, Err(Error::Cancelled { .. })), "{err:?}");
    let saved = load(&dest);
    let (latest, durable) = (saved.latest.bytes_done(), saved.durable.bytes_done());
    assert!(
        durable > 0 && durable <= latest,
        "durable {durable}, latest {latest}"
    );
    assert!(saved.durable.done().is_subset(saved.latest.done()));
    let report = download(&env.client(), "obj", &dest)
        .simulate_boot_id(Some(b"boot-2"))
        .await
        .unwrap();
    assert_eq!(
        report.checkpoint,
        CheckpointUse::Resumed {
            snapshot: SnapshotKind::Durable,
            verified: false
        }
    );
    assert_eq!(report.bytes_resumed, durable);
    assert_file(&dest, &want);
}

#[tokio::test]
async fn fast_mode_never_syncs_and_starts_over_after_a_reboot() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 61);
    let dir = Scratch::new("fast");
    let dest = dir.path("obj.bin");
    interrupt(
        &env,
        download(&env.client(), "obj", &dest)
            .durability(Durability::Fast)
            .sync_interval(Duration::from_millis(5))
            .simulate_boot_id(Some(b"boot-1")),
        0.6,
    )
    .await;
    let saved = load(&dest);
    assert!(saved.latest.bytes_done() > 0);
    assert_eq!(
        saved.durable.bytes_done(),
        0,
        "fast mode never made a durable snapshot"
    );
    let report = download(&env.client(), "obj", &dest)
        .durability(Durability::Fast)
        .simulate_boot_id(Some(b"boot-2"))
        .await
        .unwrap();
    assert_eq!(report.bytes_resumed, 0);
    assert_eq!(report.bytes_transferred, SIZE);
    assert_file(&dest, &want);
}

#[tokio::test]
async fn disk_full_mid_download_then_resume_after_space_returns() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 62);
    let dir = Scratch::new("enospc");
    let dest = dir.path("obj.bin");
    let err = download(&env.client(), "obj", &dest)
        .inject_enospc_after(SIZE / 2)
        .await
        .unwrap_err();
    assert_eq!(
        err.io_kind(),
        Some(std::io::ErrorKind::StorageFull),
        "{err}"
    );
    assert!(ckpt_of(&dest).exists() && temp_of(&dest).exists());
    let saved = load(&dest).latest.bytes_done();
    assert!(saved > 0);
    let report = download(&env.client(), "obj", &dest).await.unwrap();
    assert_eq!(report.bytes_resumed, saved);
    assert_file(&dest, &want);
}

#[tokio::test]
async fn an_fsync_failure_is_fatal_for_the_temp_file() {
    let env = Env::start().await;
    env.put("obj", SIZE, 63);
    let dir = Scratch::new("fsync");
    let dest = dir.path("obj.bin");
    let err = download(&env.client(), "obj", &dest)
        .sync_interval(Duration::from_millis(5))
        .bandwidth_limit(8 << 20)
        .inject_sync_failure()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SyncFailed { .. }), "{err}");
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[tokio::test]
async fn verify_on_resume_checks_the_bytes_on_disk() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 64);
    let dir = Scratch::new("verify");
    let dest = dir.path("obj.bin");
    interrupt(&env, download(&env.client(), "obj", &dest), 0.6).await;
    // Intact: verified and resumed.
    let saved = load(&dest);
    let report = download(&env.client(), "obj", &dest)
        .verify_on_resume(true)
        .await
        .unwrap();
    assert_eq!(
        report.checkpoint,
        CheckpointUse::Resumed {
            snapshot: SnapshotKind::Latest,
            verified: true
        }
    );
    assert_eq!(report.bytes_resumed, saved.latest.bytes_done());
    assert_file(&dest, &want);

    // Changed in place (same inode and length): caught, started over.
    std::fs::remove_file(&dest).unwrap();
    interrupt(&env, download(&env.client(), "obj", &dest), 0.6).await;
    let saved = load(&dest);
    let first_done = saved.latest.done().done_ranges().next().unwrap().start;
    let offset = first_done * PART + 10;
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(temp_of(&dest))
            .unwrap();
        f.write_all_at(b"bit rot", offset).unwrap();
    }
    let report = download(&env.client(), "obj", &dest)
        .verify_on_resume(true)
        .await
        .unwrap();
    assert!(fresh_reason(&report).contains("verify-on-resume"));
    assert_eq!(report.bytes_resumed, 0);
    assert_file(&dest, &want);
}
