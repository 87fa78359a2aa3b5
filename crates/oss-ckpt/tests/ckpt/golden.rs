#![allow(clippy::expect_used)] // fixed, valid inputs: a failure is a bug in this file

//! The states stored in `fixtures/ckpt/v1-small.cp`, `v2-small.cp` (also in `v3-small.cp`)
//! and `v4-small.cp`. Shared by the golden tests (which read the files) and by
//! `examples/make_golden.rs` (which wrote each, once).

use oss_ckpt::{BootId, Checkpoint, FileIdentity, LocalFiles, ObjectIdentity};
use oss_parts::{PartSize, Plan};

/// Parts' contents are derived from their index, so CRCs are real CRCs of real bytes.
fn part_bytes(plan: &Plan, index: u64) -> Vec<u8> {
    let part = plan.part(index).expect("index inside the plan");
    (part.start()..part.end())
        .map(|i| (i * 31 % 251) as u8)
        .collect()
}

/// A small checkpoint that uses every field of format version 1: a version id, a CRC-64, a
/// non-ASCII key and paths, a boot id, a done prefix with scattered parts beyond it,
/// in-flight parts in both snapshots, and a durable snapshot behind the latest one. (No
/// temp-file birth time: version 1 has none.)
pub fn golden_checkpoint() -> Checkpoint {
    let object = ObjectIdentity {
        endpoint_host: "oss-cn-hangzhou.aliyuncs.com".into(),
        bucket: "examplebucket".into(),
        key: "数据/2024/模型 weights.bin".into(),
        version_id: Some("CAEQNhiBgMDJgZCA0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFhZjhjYmY0****".into()),
        etag: "\"5B3C1A2E053D763E1B002CC607C5A0FE\"".into(),
        size: 1000 * 1024 + 17,
        last_modified: "Fri, 24 Feb 2012 06:07:48 GMT".into(),
        crc64: Some(4_248_465_318_066_307_315),
    };
    let local = LocalFiles {
        destination: "/srv/下载/weights.bin".into(),
        temp_path: "/srv/下载/weights.bin.tmp-qwertyuiopas".into(),
        temp_file: FileIdentity {
            device: 2049,
            file_id: 1_234_567,
            len: 1000 * 1024 + 17,
            created: None,
        },
    };
    let plan = Plan::new(object.size, PartSize::new(1024).expect("valid")).expect("plannable");
    let boot = BootId::new(b"0b9f7d7c-5c5f-4f38-9f5c-4a8f1f0f2a11".to_vec());
    let mut ckpt = Checkpoint::new(object, plan, local, boot).expect("consistent");
    let crc = |index| oss_crc::checksum(&part_bytes(&plan, index));
    for index in (0..300).chain([310, 311, 400, 1000]) {
        ckpt.latest
            .complete(index, crc(index))
            .expect("inside the plan");
        if index < 250 {
            ckpt.durable
                .complete(index, crc(index))
                .expect("inside the plan");
        }
    }
    for (index, bytes) in [(300u64, 100usize), (305, 1024)] {
        let data = part_bytes(&plan, index);
        ckpt.latest
            .record(index, bytes as u64, oss_crc::checksum(&data[..bytes]))
            .expect("valid progress");
    }
    let data = part_bytes(&plan, 250);
    ckpt.durable
        .record(250, 7, oss_crc::checksum(&data[..7]))
        .expect("valid progress");
    ckpt
}

/// The version 2 golden state: version 1's, plus the temp file's birth time
/// (2025-11-26 00:00:00.123456789 UTC, in nanoseconds).
pub fn golden_checkpoint_v2() -> Checkpoint {
    let mut ckpt = golden_checkpoint();
    let mut temp = ckpt.local().temp_file;
    temp.created = Some(1_764_115_200_123_456_789);
    ckpt.set_temp_file(temp);
    ckpt
}

/// The version 4 golden state: a download of a byte window of version 2's object — its
/// bytes 1000..309_209 (301 parts of 1024 B, the last one 5 B) — with a done prefix of 100
/// parts plus parts 150 and 300 (the short last one), one part in flight, a durable
/// snapshot of 80 parts plus one in-flight part, and a temp file the window's length.
pub fn golden_checkpoint_v4() -> Checkpoint {
    let whole = golden_checkpoint_v2();
    let window = oss_parts::ByteRange::new(1000, 1000 + 300 * 1024 + 5).expect("non-empty");
    let plan = Plan::new(window.len(), PartSize::new(1024).expect("valid")).expect("plannable");
    let mut local = whole.local().clone();
    local.temp_file.len = window.len();
    let mut ckpt = Checkpoint::for_window(
        whole.object().clone(),
        window,
        plan,
        local,
        whole.boot_id.clone(),
    )
    .expect("consistent");
    // The window's bytes: the object's, from its offset 1000 on.
    let bytes = |index: u64| -> Vec<u8> {
        let part = plan.part(index).expect("index inside the plan");
        (part.start()..part.end())
            .map(|i| ((i + window.start()) * 31 % 251) as u8)
            .collect()
    };
    for index in (0..100).chain([150, 300]) {
        let crc = oss_crc::checksum(&bytes(index));
        ckpt.latest.complete(index, crc).expect("inside the plan");
        if index < 80 {
            ckpt.durable.complete(index, crc).expect("inside the plan");
        }
    }
    let data = bytes(100);
    ckpt.latest
        .record(100, 17, oss_crc::checksum(&data[..17]))
        .expect("valid progress");
    let data = bytes(80);
    ckpt.durable
        .record(80, 3, oss_crc::checksum(&data[..3]))
        .expect("valid progress");
    ckpt
}
