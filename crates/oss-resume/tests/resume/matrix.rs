//! Byte-for-byte downloads over sizes x part sizes x threads x signature versions.

use oss_resume::SignatureVersion;

use crate::common::{Env, Scratch, assert_file};

#[tokio::test]
async fn sizes_part_sizes_threads_and_signature_versions_are_byte_exact() {
    let env = Env::start().await;
    let dir = Scratch::new("matrix");
    let sizes: [u64; 5] = [1, 1000, 100 * 1024 + 3, 1 << 20, 3 * (1 << 20) + 17];
    let part_sizes: [u64; 4] = [100 * 1024, 256 * 1024 + 1, 1 << 20, 8 << 20];
    let mut case = 0;
    for (si, size) in sizes.into_iter().enumerate() {
        let key = format!("m/{size}");
        let want = env.put(&key, size, si as u64 + 100);
        for part_size in part_sizes {
            for threads in [1usize, 3, 8] {
                let version = if case % 2 == 0 {
                    SignatureVersion::V4
                } else {
                    SignatureVersion::V1
                };
                case += 1;
                let dest = dir.path(&format!("out-{case}"));
                let report = env
                    .client_v(version)
                    .download(crate::common::BUCKET, &key, &dest)
                    .part_size(part_size)
                    .threads(threads)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("size {size} part {part_size} threads {threads} {version:?}: {e}")
                    });
                assert_file(&dest, &want);
                assert_eq!(report.bytes_total, size);
                assert_eq!(report.bytes_transferred, size);
                assert_eq!(report.parts_total, size.div_ceil(part_size));
                assert!(report.crc64_verified);
                assert_eq!(report.retries, 0);
            }
        }
    }
    // Nothing but the destinations is left behind.
    assert_eq!(dir.names().len(), case);
    assert!(
        dir.names()
            .iter()
            .all(|n| n.starts_with("out-") && !n.contains('.'))
    );
}

#[tokio::test]
async fn both_signature_versions_with_every_default() {
    let env = Env::start().await;
    let dir = Scratch::new("defaults");
    let want = env.put("d/obj", 9 << 20, 5); // two parts at the 8 MiB default
    for version in [SignatureVersion::V1, SignatureVersion::V4] {
        let dest = dir.path(&format!("{version:?}"));
        let report = env
            .client_v(version)
            .download(crate::common::BUCKET, "d/obj", &dest)
            .await
            .unwrap();
        assert_file(&dest, &want);
        assert_eq!(report.part_size, 8 << 20);
        assert_eq!(report.parts_total, 2);
        assert_eq!(report.checkpoint, oss_resume::CheckpointUse::Disabled);
    }
}
