//! oss-ckpt against files: the golden file, crashes at every step of a save (modelled),
//! a real SIGKILL, and mismatch detection for every recorded field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod crash_fs;
mod golden;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oss_ckpt::fs::{CheckpointFile, SaveKind};
use oss_ckpt::{
    Checkpoint, CkptError, Expected, Field, FileIdentity, LocalFiles, ObjectIdentity, Step,
};
use oss_parts::{PartSize, Plan};

use crash_fs::CrashFs;
use golden::{golden_checkpoint, golden_checkpoint_v2, golden_checkpoint_v4};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/ckpt")
        .join(name)
}

/// A fresh directory for one test under cargo's per-target temp dir (on the target
/// directory's filesystem), removed when the returned value drops.
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("oss-ckpt-{name}-"))
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// The golden file.

#[test]
fn golden_v1_file_still_reads() {
    let bytes = std::fs::read(fixture("v1-small.cp")).expect("fixtures/ckpt/v1-small.cp");
    assert_eq!(&bytes[..8], &oss_ckpt::layout::MAGIC);
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 1);
    let decoded = oss_ckpt::decode(&bytes).unwrap();
    let expected = golden_checkpoint();
    assert_eq!(decoded, expected);
    // Spot checks that do not go through the shared builder.
    assert_eq!(decoded.object().key, "数据/2024/模型 weights.bin");
    assert_eq!(decoded.plan().len(), 1001);
    assert_eq!(decoded.latest.done().count(), 304);
    assert_eq!(decoded.latest.done().first_missing(), Some(300));
    assert_eq!(decoded.durable.done().count(), 250);
    assert_eq!(decoded.latest.in_flight().len(), 2);
    assert_eq!(decoded.durable.in_flight_part(250).unwrap().bytes_done, 7);
    assert_eq!(
        decoded.local().destination,
        Path::new("/srv/下载/weights.bin")
    );
    assert_eq!(decoded.local().temp_file.created, None);
    assert_eq!(decoded.window(), None);
    // Saving it again writes the current version, whose body starts with version 1's body,
    // byte for byte (then the birth time it lacks and the window it lacks: none, none).
    let again = oss_ckpt::encode(&decoded).unwrap();
    assert_eq!(
        u16::from_le_bytes([again[8], again[9]]),
        oss_ckpt::FORMAT_VERSION
    );
    let v1_body = &bytes[oss_ckpt::layout::HEADER_LEN..];
    assert_eq!(slot0_body(&again), [v1_body, &[0, 0]].concat());
}

/// The body in slot 0 of a version 3 or 4 file.
fn slot0_body(file: &[u8]) -> &[u8] {
    let len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
    &file[oss_ckpt::layout::SLOT_HEADER_LEN..oss_ckpt::layout::SLOT_HEADER_LEN + len]
}

#[test]
fn golden_v2_file_still_reads_and_version_4_keeps_its_body() {
    let bytes = std::fs::read(fixture("v2-small.cp")).expect("fixtures/ckpt/v2-small.cp");
    assert_eq!(&bytes[..8], &oss_ckpt::layout::MAGIC);
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 2);
    let decoded = oss_ckpt::decode(&bytes).unwrap();
    let expected = golden_checkpoint_v2();
    assert_eq!(decoded, expected);
    assert_eq!(
        decoded.local().temp_file.created,
        Some(1_764_115_200_123_456_789)
    );
    assert_eq!(decoded.latest.done().count(), 304);
    // Version 4 puts version 2's body, unchanged, in its slots, then the window (none).
    let again = oss_ckpt::encode(&expected).unwrap();
    let v2_body = &bytes[oss_ckpt::layout::HEADER_LEN..];
    assert_eq!(slot0_body(&again), [v2_body, &[0]].concat());
}

#[test]
fn golden_v3_file_still_reads_as_a_whole_object_download() {
    let bytes = std::fs::read(fixture("v3-small.cp")).expect("fixtures/ckpt/v3-small.cp");
    assert_eq!(&bytes[..8], &oss_ckpt::layout::MAGIC);
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 3);
    assert_eq!(bytes.len(), 4 * 4096);
    let expected = golden_checkpoint_v2();
    let decoded = oss_ckpt::decode(&bytes).unwrap();
    assert_eq!(decoded, expected);
    assert_eq!(decoded.window(), None);
    // Today's encoder writes version 4: the same slot layout and sizes, version 3's body
    // followed by the window (none), the header's version, body length and checksum new.
    let again = oss_ckpt::encode(&expected).unwrap();
    assert_eq!(again.len(), bytes.len());
    assert_eq!(u16::from_le_bytes([again[8], again[9]]), 4);
    assert_eq!(slot0_body(&again), [slot0_body(&bytes), &[0]].concat());
    assert_eq!(again[16..32], bytes[16..32], "sequence and slot length");
}

#[test]
fn golden_v4_file_still_reads_and_the_encoder_still_writes_it() {
    let bytes = std::fs::read(fixture("v4-small.cp")).expect("fixtures/ckpt/v4-small.cp");
    assert_eq!(&bytes[..8], &oss_ckpt::layout::MAGIC);
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 4);
    assert_eq!(bytes.len(), 4 * 4096);
    let expected = golden_checkpoint_v4();
    let decoded = oss_ckpt::decode(&bytes).unwrap();
    assert_eq!(decoded, expected);
    // Spot checks that do not go through the shared builder.
    let window = decoded.window().unwrap();
    assert_eq!((window.start(), window.end()), (1000, Some(308_205)));
    assert_eq!(decoded.object().size, 1000 * 1024 + 17);
    assert_eq!(decoded.plan().len(), 301);
    assert_eq!(decoded.plan().object_size(), 300 * 1024 + 5);
    assert_eq!(decoded.latest.done().count(), 102);
    assert_eq!(decoded.durable.done().count(), 80);
    assert_eq!(decoded.latest.in_flight_part(100).unwrap().bytes_done, 17);
    // The body ends with the window: Some, start 1000, end 308205 (postcard varints).
    let body = slot0_body(&bytes);
    assert_eq!(&body[body.len() - 6..], [1, 0xE8, 0x07, 0xED, 0xE7, 0x12]);
    // The format is frozen: today's encoder writes the same bytes.
    assert_eq!(oss_ckpt::encode(&expected).unwrap(), bytes);
}

#[test]
fn a_checkpoint_of_another_window_or_of_the_whole_object_does_not_match() {
    let ckpt = golden_checkpoint_v4();
    let object = ckpt.object().clone();
    let destination = ckpt.local().destination.clone();
    let part_size = ckpt.plan().part_size();
    let check = |window| {
        ckpt.check(&Expected {
            object: &object,
            part_size,
            destination: &destination,
            window,
        })
    };
    assert!(check(ckpt.window()).is_ok());
    let other = oss_parts::ByteRange::new(1000, 308_206).unwrap();
    for (window, now) in [
        (Some(other), "bytes 1000-308205"),
        (None, "the whole object"),
    ] {
        match check(window).unwrap_err() {
            CkptError::Mismatch {
                field: Field::Window,
                stored,
                expected,
            } => {
                assert_eq!(stored, "bytes 1000-308204");
                assert_eq!(expected, now);
            }
            other => panic!("{other:?}"),
        }
    }
    // And a whole-object checkpoint is not one of a window.
    let whole = golden_checkpoint_v2();
    let err = whole
        .check(&Expected {
            object: &object,
            part_size,
            destination: &destination,
            window: Some(other),
        })
        .unwrap_err();
    assert!(!err.is_object_changed());
    assert!(err.to_string().contains("byte range"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Crashes, modelled: at every step of a save, loading afterwards gives the complete old
// checkpoint or the complete new one.

/// Successive states of one download.
fn states(n: u64) -> Vec<Checkpoint> {
    let mut ckpt = golden_checkpoint();
    (0..n)
        .map(|i| {
            ckpt.latest.complete(500 + i, i).unwrap();
            if i % 2 == 0 {
                ckpt.durable = ckpt.latest.clone();
            }
            ckpt.clone()
        })
        .collect()
}

const CP: &str = "/dl/weights.bin.cp";

fn load(fs: &CrashFs) -> Result<Checkpoint, CkptError> {
    CheckpointFile::with_fs(fs.clone(), CP).load_any()
}

#[test]
fn durable_save_survives_power_loss_at_every_step() {
    let [old, new] = <[Checkpoint; 2]>::try_from(states(2)).unwrap();
    let mut steps_seen = 0;
    for die_at in 0.. {
        let fs = CrashFs::default();
        let mut file = CheckpointFile::with_fs(fs.clone(), CP);
        file.save(&old, SaveKind::Durable).unwrap();
        fs.arm(Some(die_at), Vec::new());
        let result = file.save(&new, SaveKind::Durable);
        let finished = result.is_ok();
        fs.crash();
        let loaded = load(&fs).unwrap_or_else(|e| panic!("died at op {die_at}: {e}"));
        if finished {
            // A durable save that returned Ok survives power loss.
            assert_eq!(loaded, new, "died at op {die_at}");
            steps_seen = die_at;
            break;
        }
        assert!(loaded == old || loaded == new, "died at op {die_at}");
    }
    // create, write in several chunks, fsync, rename, fsync dir.
    assert!(steps_seen > 5, "{steps_seen}");
}

#[test]
fn cheap_save_survives_a_process_kill_at_every_step() {
    let [old, new] = <[Checkpoint; 2]>::try_from(states(2)).unwrap();
    for die_at in 0.. {
        let fs = CrashFs::default();
        let mut file = CheckpointFile::with_fs(fs.clone(), CP);
        file.save(&old, SaveKind::Durable).unwrap();
        fs.arm(Some(die_at), Vec::new());
        let finished = file.save(&new, SaveKind::Cheap).is_ok();

        // A kill keeps the page cache: old or new, and new once the save returned.
        fs.restart();
        let loaded = load(&fs).unwrap();
        assert!(loaded == old || loaded == new, "died at op {die_at}");
        if finished {
            assert_eq!(loaded, new);
        }
        // Power loss on top of it: nothing of the cheap save was synced, so the durable
        // old checkpoint is what the disk holds.
        fs.crash();
        assert_eq!(
            load(&fs).unwrap(),
            old,
            "died at op {die_at}, then power loss"
        );
        if finished {
            break;
        }
    }
}

#[test]
fn power_loss_anywhere_in_a_sequence_of_saves_loads_a_complete_checkpoint() {
    let all = states(6);
    let plan = [
        SaveKind::Cheap,
        SaveKind::Durable,
        SaveKind::Cheap,
        SaveKind::Cheap,
        SaveKind::Durable,
        SaveKind::Cheap,
    ];
    let mut total_ops = None;
    for die_at in 0.. {
        let fs = CrashFs::default();
        fs.arm(Some(die_at), Vec::new());
        let mut file = CheckpointFile::with_fs(fs.clone(), CP);
        let mut last_durable = None;
        for (ckpt, durability) in all.iter().zip(plan) {
            if file.save(ckpt, durability).is_err() {
                break;
            }
            if durability == SaveKind::Durable {
                last_durable = Some(ckpt);
            }
        }
        let ran_to_end = fs.ops() <= die_at;
        fs.crash();
        match (load(&fs), last_durable) {
            (Err(CkptError::NotFound { .. }), None) => {}
            (Ok(loaded), Some(durable)) => {
                // At least as new as the last durable save that returned, and complete.
                let at = all
                    .iter()
                    .position(|c| *c == loaded)
                    .expect("a saved state");
                let floor = all.iter().position(|c| c == durable).unwrap();
                assert!(at >= floor, "died at op {die_at}: state {at} < {floor}");
            }
            (Ok(loaded), None) => {
                assert!(all.contains(&loaded), "died at op {die_at}");
            }
            (other, durable) => panic!("died at op {die_at}: {other:?}, durable {durable:?}"),
        }
        if ran_to_end {
            total_ops = Some(die_at);
            break;
        }
    }
    assert!(total_ops.unwrap() > 20);
}

/// Power loss where the disk had written any subset of the unsynced sectors — of cheap
/// saves in place, of a durable save cut short — still loads a complete state at least as
/// new as the last durable save that returned.
#[test]
fn power_loss_keeping_any_unsynced_sectors_loads_a_state_no_older_than_the_last_durable_save() {
    // Big enough for images of several sectors: a random half of 3000 parts.
    let mut ckpt = golden_checkpoint_v2();
    let all: Vec<Checkpoint> = (0..8u64)
        .map(|i| {
            for k in 0..40 {
                let index = 500 + (i * 40 + k) * 7 % 500;
                if !ckpt.latest.done().contains(index) {
                    ckpt.latest.complete(index, index).unwrap();
                }
            }
            if i % 3 == 1 {
                ckpt.durable = ckpt.latest.clone();
            }
            ckpt.clone()
        })
        .collect();
    let plan = [
        SaveKind::Durable,
        SaveKind::Cheap,
        SaveKind::Durable,
        SaveKind::Cheap,
        SaveKind::Cheap,
        SaveKind::Cheap,
        SaveKind::Durable,
        SaveKind::Cheap,
    ];
    let mut checked = 0;
    for die_at in (0..).step_by(3) {
        let fs = CrashFs::default();
        fs.arm(Some(die_at), Vec::new());
        let mut file = CheckpointFile::with_fs(fs.clone(), CP);
        let mut floor = None;
        for (at, (state, durability)) in all.iter().zip(plan).enumerate() {
            if file.save(state, durability).is_err() {
                break;
            }
            if durability == SaveKind::Durable {
                floor = Some(at);
            }
        }
        let ran_to_end = fs.ops() <= die_at;
        for seed in 0..8 {
            let copy = fs.snapshot();
            copy.crash_keeping(die_at * 31 + seed);
            match (load(&copy), floor) {
                (Err(CkptError::NotFound { .. }), None) => {}
                (Ok(loaded), floor) => {
                    let at = all
                        .iter()
                        .position(|c| *c == loaded)
                        .unwrap_or_else(|| panic!("die at {die_at}, seed {seed}: unknown state"));
                    assert!(
                        floor.is_none_or(|f| at >= f),
                        "die at {die_at}, seed {seed}: state {at} older than {floor:?}"
                    );
                    checked += 1;
                }
                (other, floor) => {
                    panic!("die at {die_at}, seed {seed}: {other:?}, durable {floor:?}")
                }
            }
        }
        if ran_to_end {
            break;
        }
    }
    assert!(checked > 100, "{checked}");
}

/// A deferred durable save is as durable as a durable one once the caller has flushed the
/// file, and cheap saves after it never overwrite it.
#[test]
fn a_flushed_deferred_save_survives_power_loss_and_the_cheap_saves_after_it() {
    let all = states(7);
    for first in [
        SaveKind::Cheap,
        SaveKind::Durable,
        SaveKind::DurableDeferred,
    ] {
        for flushed in [false, true] {
            let fs = CrashFs::default();
            let mut file = CheckpointFile::with_fs(fs.clone(), CP);
            file.save(&all[0], first).unwrap();
            file.save(&all[1], SaveKind::Durable).unwrap();
            file.save(&all[2], SaveKind::Cheap).unwrap();
            file.save(&all[3], SaveKind::DurableDeferred).unwrap();
            if flushed {
                fs.flush_path(Path::new(CP));
            }
            for state in &all[4..] {
                file.save(state, SaveKind::Cheap).unwrap();
            }
            let floor = if flushed { 3 } else { 1 };
            for seed in 0..64 {
                let copy = fs.snapshot();
                copy.crash_keeping(seed);
                let loaded = load(&copy).unwrap();
                let at = all.iter().position(|c| *c == loaded).unwrap();
                assert!(
                    at >= floor,
                    "{first:?}, flushed {flushed}, seed {seed}: {at}"
                );
            }
            // A kill (no power loss) keeps the newest.
            fs.restart();
            assert_eq!(load(&fs).unwrap(), all[6]);
        }
    }
}

/// Saves whose image outgrows the slots write a new, larger file; a crash anywhere in that
/// leaves the old file or the new one, and later saves go in place in the new one.
#[test]
fn outgrowing_the_slots_writes_a_larger_file_safely() {
    // 40k parts done in a scattered pattern: the done set grows from bytes to kilobytes.
    let object = ObjectIdentity {
        size: 40_000 * 16,
        ..kill_object()
    };
    let plan = Plan::new(object.size, PartSize::new(16).unwrap()).unwrap();
    let local = LocalFiles {
        destination: "/dl/g.bin".into(),
        temp_path: "/dl/g.bin.oss-tmp".into(),
        temp_file: FileIdentity {
            device: 1,
            file_id: 2,
            len: object.size,
            created: None,
        },
    };
    let mut ckpt = Checkpoint::new(object, plan, local, None).unwrap();
    let mut all = Vec::new();
    for (step, count) in [1u64, 10, 100, 1000, 5000, 15_000].into_iter().enumerate() {
        for k in 0..count {
            let index = (k * 7919 + step as u64 * 13) % 40_000;
            if !ckpt.latest.done().contains(index) {
                ckpt.latest.complete(index, index).unwrap();
            }
        }
        ckpt.durable = ckpt.latest.clone();
        all.push(ckpt.clone());
    }
    // Without crashes: every save loads back, and the file grows.
    let fs = CrashFs::default();
    let mut file = CheckpointFile::with_fs(fs.clone(), CP);
    let mut lengths = Vec::new();
    for state in &all {
        file.save(state, SaveKind::Durable).unwrap();
        assert_eq!(&load(&fs).unwrap(), state);
        lengths.push(fs.len(Path::new(CP)));
    }
    assert!(lengths.first() < lengths.last(), "{lengths:?}");
    assert_eq!(fs.names(), [PathBuf::from(CP)]);
    // A crash at sampled steps of the same history: a saved state, never older than the
    // last durable save that returned.
    let total = fs.ops();
    for die_at in (0..total).step_by(7) {
        let fs = CrashFs::default();
        fs.arm(Some(die_at), Vec::new());
        let mut file = CheckpointFile::with_fs(fs.clone(), CP);
        let mut floor = None;
        for (at, state) in all.iter().enumerate() {
            if file.save(state, SaveKind::Durable).is_err() {
                break;
            }
            floor = Some(at);
        }
        fs.crash_keeping(die_at);
        match (load(&fs), floor) {
            (Err(CkptError::NotFound { .. }), None) => {}
            (Ok(loaded), floor) => {
                let at = all
                    .iter()
                    .position(|c| *c == loaded)
                    .expect("a saved state");
                assert!(
                    floor.is_none_or(|f| at >= f),
                    "die at {die_at}: {at} < {floor:?}"
                );
            }
            (other, floor) => panic!("die at {die_at}: {other:?}, floor {floor:?}"),
        }
    }
}

/// On a filesystem that may commit a rename before the renamed file's data, replacing a
/// checkpoint that holds durable saves must not lose them: a save that outgrows the slots
/// of such a file is made durable, so after power loss the name holds a complete file.
#[test]
fn outgrowing_a_file_with_durable_saves_keeps_them_across_early_renames() {
    let object = ObjectIdentity {
        size: 40_000 * 16,
        ..kill_object()
    };
    let plan = Plan::new(object.size, PartSize::new(16).unwrap()).unwrap();
    let local = LocalFiles {
        destination: "/dl/g.bin".into(),
        temp_path: "/dl/g.bin.oss-tmp".into(),
        temp_file: FileIdentity {
            device: 1,
            file_id: 2,
            len: object.size,
            created: None,
        },
    };
    let mut ckpt = Checkpoint::new(object, plan, local, None).unwrap();
    ckpt.latest.complete(0, 0).unwrap();
    ckpt.durable = ckpt.latest.clone();
    let durable_state = ckpt.clone();
    // Then a scattered done set, saved cheaply, outgrows the 4 KiB slots.
    for k in 0..15_000u64 {
        let index = 1 + (k * 7919) % 39_999;
        if !ckpt.latest.done().contains(index) {
            ckpt.latest.complete(index, index).unwrap();
        }
    }
    for deferred in [false, true] {
        let fs = CrashFs::default();
        let mut file = CheckpointFile::with_fs(fs.clone(), CP);
        file.save(&durable_state, SaveKind::Cheap).unwrap();
        if deferred {
            file.save(&durable_state, SaveKind::DurableDeferred)
                .unwrap();
            fs.flush_path(Path::new(CP));
        } else {
            file.save(&durable_state, SaveKind::Durable).unwrap();
        }
        let small = fs.len(Path::new(CP));
        file.save(&ckpt, SaveKind::Cheap).unwrap();
        assert!(fs.len(Path::new(CP)) > small, "the save outgrew the slots");
        for seed in 0..32 {
            let copy = fs.snapshot();
            copy.crash_keeping_early_renames(seed);
            let loaded =
                load(&copy).unwrap_or_else(|e| panic!("deferred {deferred}, seed {seed}: {e}"));
            assert!(
                loaded == durable_state || loaded == ckpt,
                "deferred {deferred}, seed {seed}"
            );
        }
    }
}

#[test]
fn an_injected_fault_at_any_step_keeps_the_old_checkpoint_and_the_next_save_works() {
    let [old, new, newer] = <[Checkpoint; 3]>::try_from(states(3)).unwrap();
    for fail_at in 0.. {
        let fs = CrashFs::default();
        let mut file = CheckpointFile::with_fs(fs.clone(), CP);
        file.save(&old, SaveKind::Durable).unwrap();
        fs.arm(None, vec![fail_at]);
        let result = file.save(&new, SaveKind::Durable);
        let Err(err) = result else {
            // The fault landed after the last step: nothing left to test.
            break;
        };
        match &err {
            CkptError::SyncFailed { step, .. } => {
                assert!(err.is_fatal());
                assert!(matches!(step, Step::SyncFile | Step::SyncDir));
            }
            CkptError::Io { step, .. } => {
                assert!(!err.is_fatal());
                assert!(matches!(step, Step::Create | Step::Write | Step::Rename));
            }
            other => panic!("{other:?}"),
        }
        let loaded = load(&fs).unwrap();
        if matches!(err, CkptError::SyncFailed { .. }) {
            // The slot was written; only its durability is in doubt.
            assert_eq!(loaded, new);
        } else {
            assert_eq!(loaded, old, "fault at op {fail_at}: {err}");
        }
        // The fault was transient: the next save goes through and leaves no temp file.
        file.save(&newer, SaveKind::Durable).unwrap();
        assert_eq!(load(&fs).unwrap(), newer);
        assert_eq!(fs.names(), [PathBuf::from(CP)]);
    }
}

// ---------------------------------------------------------------------------------------
// The real filesystem.

#[test]
fn real_files_round_trip_and_leave_no_temp_file() {
    let scratch = scratch("real");
    let dir = scratch.path();
    let destination = dir.join("weights.bin");
    let mut file = CheckpointFile::for_destination(&destination);
    assert_eq!(file.path(), dir.join("weights.bin.cp"));
    assert!(matches!(
        file.load_any(),
        Err(CkptError::NotFound { path }) if path == dir.join("weights.bin.cp")
    ));
    let all = states(3);
    for (ckpt, durability) in all
        .iter()
        .zip([SaveKind::Cheap, SaveKind::Durable, SaveKind::Cheap])
    {
        file.save(ckpt, durability).unwrap();
        assert_eq!(&file.load_any().unwrap(), ckpt);
        assert!(!file.temp_path().exists());
    }
    file.remove().unwrap();
    file.remove().unwrap(); // already gone: fine
    assert!(matches!(file.load_any(), Err(CkptError::NotFound { .. })));

    // A stray non-checkpoint file in its place (here another SDK's record) is not trusted,
    // and not ours to discard either: it is named, and not reported as "start over".
    std::fs::write(
        file.path(),
        br#"{"Magic": "92611BED-89E2-46B6-89E5-72F273D4B0A3", "MD5": ""}"#,
    )
    .unwrap();
    let err = file.load_any().unwrap_err();
    assert!(
        matches!(err, CkptError::NotACheckpoint { ref path, .. } if path == file.path()),
        "{err}"
    );
    assert!(!err.can_start_over() && !err.is_fatal(), "{err}");
    // A checkpoint of ours that lost its blocks (all zeros after a power cut) is corrupt.
    std::fs::write(file.path(), vec![0u8; 8192]).unwrap();
    let err = file.load_any().unwrap_err();
    assert!(err.can_start_over(), "{err}");
}

#[test]
fn a_replaced_or_truncated_temp_file_is_noticed() {
    let scratch = scratch("temp-identity");
    let dir = scratch.path();
    let temp = dir.join("weights.bin.tmp");
    let data = std::fs::File::create(&temp).unwrap();
    data.set_len(4096).unwrap();
    let identity = oss_ckpt::fs::file_identity(&data).unwrap();
    let mut ckpt = golden_checkpoint();
    ckpt.set_temp_file(identity);
    ckpt.check_temp_file(
        &oss_ckpt::fs::file_identity(&std::fs::File::open(&temp).unwrap()).unwrap(),
    )
    .unwrap();

    data.set_len(1000).unwrap();
    let err = ckpt
        .check_temp_file(&oss_ckpt::fs::file_identity(&data).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            err,
            CkptError::Mismatch {
                field: Field::TempLength,
                ..
            }
        ),
        "{err}"
    );

    // Deleted and recreated with the same length: ext4 and tmpfs give the new file the freed
    // inode number, so only the birth time tells them apart.
    drop(data);
    let mut ckpt_same_len = ckpt.clone();
    let data = std::fs::File::open(&temp).unwrap();
    ckpt_same_len.set_temp_file(oss_ckpt::fs::file_identity(&data).unwrap());
    let before = ckpt_same_len.local().temp_file;
    drop(data);
    std::fs::remove_file(&temp).unwrap();
    // Birth times come from the kernel's coarse clock (a few ms): a real rerun is later.
    std::thread::sleep(Duration::from_millis(30));
    let recreated = std::fs::File::create(&temp).unwrap();
    recreated.set_len(before.len).unwrap();
    let now = oss_ckpt::fs::file_identity(&recreated).unwrap();
    let err = ckpt_same_len.check_temp_file(&now).unwrap_err();
    if before.created.is_some() && (now.device, now.file_id) == (before.device, before.file_id) {
        assert!(
            matches!(
                err,
                CkptError::Mismatch {
                    field: Field::TempCreated,
                    ..
                }
            ),
            "{err}"
        );
    }
    assert!(
        err.to_string().contains("partial data file was replaced"),
        "{err}"
    );
    drop(recreated);

    // A new file renamed into its place (the old one still exists while the new one is
    // created, so the inode cannot be reused).
    let other = dir.join("other");
    let replacement = std::fs::File::create(&other).unwrap();
    replacement.set_len(4096).unwrap();
    std::fs::rename(&other, &temp).unwrap();
    let now = oss_ckpt::fs::file_identity(&std::fs::File::open(&temp).unwrap()).unwrap();
    let err = ckpt.check_temp_file(&now).unwrap_err();
    if cfg!(unix) {
        assert!(
            matches!(
                err,
                CkptError::Mismatch {
                    field: Field::TempFileId,
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn every_recorded_field_is_checked_and_named_with_both_values() {
    let scratch = scratch("mismatch");
    let dir = scratch.path();
    let ckpt = golden_checkpoint();
    let mut file = CheckpointFile::new(dir.join("weights.bin.cp"));
    file.save(&ckpt, SaveKind::Cheap).unwrap();
    let object = ckpt.object().clone();
    let part_size = ckpt.plan().part_size();
    let destination = ckpt.local().destination.clone();
    file.load(&Expected {
        object: &object,
        part_size,
        destination: &destination,
        window: None,
    })
    .unwrap();

    type Edit = Box<dyn Fn(&mut ObjectIdentity, &mut PartSize, &mut PathBuf)>;
    let cases: Vec<(Field, Edit, &str, &str)> = vec![
        (
            Field::EndpointHost,
            Box::new(|o, _, _| o.endpoint_host = "oss-us-west-1.aliyuncs.com".into()),
            "\"oss-cn-hangzhou.aliyuncs.com\"",
            "\"oss-us-west-1.aliyuncs.com\"",
        ),
        (
            Field::Bucket,
            Box::new(|o, _, _| o.bucket = "other".into()),
            "\"examplebucket\"",
            "\"other\"",
        ),
        (
            Field::Key,
            Box::new(|o, _, _| o.key = "k2".into()),
            "\"数据/2024/模型 weights.bin\"",
            "\"k2\"",
        ),
        (
            Field::VersionId,
            Box::new(|o, _, _| o.version_id = None),
            "\"CAEQ",
            "none",
        ),
        (
            Field::ETag,
            Box::new(|o, _, _| o.etag = "\"00\"".into()),
            "5B3C1A2E",
            "\"\\\"00\\\"\"",
        ),
        (
            Field::Size,
            Box::new(|o, _, _| o.size += 1),
            "1024017",
            "1024018",
        ),
        (
            Field::LastModified,
            Box::new(|o, _, _| o.last_modified = "Sat, 25 Feb 2012 06:07:48 GMT".into()),
            "Fri, 24 Feb",
            "Sat, 25 Feb",
        ),
        (
            Field::Crc64,
            Box::new(|o, _, _| o.crc64 = Some(1)),
            "4248465318066307315",
            "1",
        ),
        (
            Field::PartSize,
            Box::new(|_, p, _| *p = PartSize::new(2048).unwrap()),
            "1024",
            "2048",
        ),
        (
            Field::Destination,
            Box::new(|_, _, d| *d = "/srv/other.bin".into()),
            "weights.bin",
            "/srv/other.bin",
        ),
    ];
    for (field, edit, stored_text, expected_text) in cases {
        let (mut o, mut p, mut d) = (object.clone(), part_size, destination.clone());
        edit(&mut o, &mut p, &mut d);
        let err = file
            .load(&Expected {
                object: &o,
                part_size: p,
                destination: &d,
                window: None,
            })
            .unwrap_err();
        let CkptError::Mismatch {
            field: got,
            stored,
            expected,
        } = &err
        else {
            panic!("{field}: {err:?}");
        };
        assert_eq!(*got, field);
        assert!(stored.contains(stored_text), "{field}: stored {stored}");
        assert!(
            expected.contains(expected_text),
            "{field}: expected {expected}"
        );
        assert_eq!(err.is_object_changed(), field.is_object_change());
        assert!(err.can_start_over());
        let message = err.to_string();
        assert!(
            message.contains(&field.to_string()) && message.contains(stored.as_str()),
            "{message}"
        );
    }

    // A checkpoint written without a birth time (format version 1, or a filesystem without
    // one) cannot compare it; one written with it compares it.
    let unknown = ckpt.local().temp_file;
    ckpt.check_temp_file(&FileIdentity {
        created: Some(9),
        ..unknown
    })
    .unwrap();
    let mut ckpt = ckpt;
    let recorded = FileIdentity {
        created: Some(1_764_115_200_000_000_000),
        ..unknown
    };
    ckpt.set_temp_file(recorded);
    for (field, actual) in [
        (
            Field::TempCreated,
            FileIdentity {
                created: Some(1_764_115_200_004_000_000),
                ..recorded
            },
        ),
        (
            Field::TempCreated,
            FileIdentity {
                created: None,
                ..recorded
            },
        ),
        (
            Field::TempDevice,
            FileIdentity {
                device: recorded.device + 1,
                ..recorded
            },
        ),
        (
            Field::TempFileId,
            FileIdentity {
                file_id: recorded.file_id + 1,
                ..recorded
            },
        ),
        (Field::TempLength, FileIdentity { len: 0, ..recorded }),
    ] {
        let err = ckpt.check_temp_file(&actual).unwrap_err();
        assert!(
            matches!(&err, CkptError::Mismatch { field: f, .. } if *f == field),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// A real SIGKILL: this test binary re-executes itself as a child that saves in a loop.

const CHILD_ENV: &str = "OSS_CKPT_KILL_CHILD_DIR";
const KILL_PARTS: u64 = 200_000;

fn kill_object() -> ObjectIdentity {
    ObjectIdentity {
        endpoint_host: "127.0.0.1".into(),
        bucket: "b".into(),
        key: "kill".into(),
        version_id: None,
        etag: "\"E\"".into(),
        size: KILL_PARTS << 20,
        last_modified: "m".into(),
        crc64: None,
    }
}

/// The child's entry point, not a test of its own: `sigkill_during_a_save_loop_...` runs
/// this binary as `--ignored --exact sigkill_child` with `OSS_CKPT_KILL_CHILD_DIR` set. It
/// resumes from the checkpoint if there is one and saves progress in a loop (cheap saves, a
/// durable one every 32) until it is killed. Ignored so that a normal run neither counts it
/// as a passing test nor runs it without its directory.
#[test]
#[ignore = "the SIGKILL test's child process; started by that test"]
fn sigkill_child() {
    let dir = std::env::var_os(CHILD_ENV)
        .expect("sigkill_child is the SIGKILL test's child: it needs OSS_CKPT_KILL_CHILD_DIR");
    let destination = PathBuf::from(dir).join("kill.bin");
    let mut file = CheckpointFile::for_destination(&destination);
    let mut ckpt = match file.load_any() {
        Ok(ckpt) => ckpt,
        Err(CkptError::NotFound { .. }) => {
            let plan = Plan::new(kill_object().size, PartSize::new(1 << 20).unwrap()).unwrap();
            let local = LocalFiles {
                destination: destination.clone(),
                temp_path: destination.with_extension("tmp"),
                temp_file: FileIdentity {
                    device: 1,
                    file_id: 2,
                    len: plan.object_size(),
                    created: None,
                },
            };
            Checkpoint::new(kill_object(), plan, local, oss_ckpt::fs::boot_id()).unwrap()
        }
        Err(e) => panic!("child could not load: {e}"),
    };
    let started = Instant::now();
    let mut saves = 0u64;
    while started.elapsed() < Duration::from_secs(60) {
        // Parts finish mostly in order, with one far ahead now and then; 16 in flight.
        let next = ckpt.latest.done().first_missing().unwrap();
        ckpt.latest.complete(next, next).unwrap();
        if saves.is_multiple_of(7) {
            let ahead = (next * 7919) % KILL_PARTS;
            ckpt.latest.complete(ahead, ahead).unwrap();
        }
        for k in 1..=16 {
            let index = next + k;
            if index < KILL_PARTS && !ckpt.latest.done().contains(index) {
                ckpt.latest.record(index, 1 + saves % 1000, saves).unwrap();
            }
        }
        saves += 1;
        if saves.is_multiple_of(32) {
            ckpt.durable = ckpt.latest.clone();
            file.save(&ckpt, SaveKind::Durable).unwrap();
        } else {
            file.save(&ckpt, SaveKind::Cheap).unwrap();
        }
    }
}

#[test]
fn sigkill_during_a_save_loop_leaves_a_complete_checkpoint() {
    let scratch = scratch("sigkill");
    let dir = scratch.path();
    let file = CheckpointFile::for_destination(&dir.join("kill.bin"));
    let exe = std::env::current_exe().unwrap();
    let mut done_before = 0;
    for round in 0..4u64 {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "sigkill_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the child has resumed and saved a good number of times.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match file.load_any() {
                Ok(ckpt) if ckpt.latest.done().count() >= done_before + 200 => break,
                Ok(_) | Err(CkptError::NotFound { .. }) => {}
                Err(e) => panic!("round {round}: a concurrent load saw {e}"),
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("round {round}: the child exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: the child made no progress"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        // Vary where the kill lands.
        std::thread::sleep(Duration::from_micros(round * 1_337 % 5_000));
        child.kill().unwrap(); // SIGKILL on Unix, TerminateProcess on Windows
        child.wait().unwrap();

        let ckpt = file
            .load_any()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let done = ckpt.latest.done().count();
        assert!(
            done >= done_before + 200,
            "round {round}: {done} < {done_before} + 200"
        );
        assert_eq!(ckpt.object(), &kill_object());
        done_before = done;
    }
}
