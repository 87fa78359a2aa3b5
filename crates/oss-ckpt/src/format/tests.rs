//! Codec tests: round trips on random states, corruption always detected, any bytes safe.

use std::path::PathBuf;

use oss_parts::{PartSize, Plan};
use proptest::prelude::*;

use super::*;
use crate::model::{BootId, FileIdentity, LocalFiles, ObjectIdentity};

/// A small deterministic generator, so one `u64` from proptest describes a whole state.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn text(&mut self, max: u64) -> String {
        const ALPHABET: [&str; 8] = ["a", "Z", "0", "/", " ", "é", "文", "\""];
        (0..self.below(max + 1))
            .map(|_| ALPHABET[self.below(8) as usize])
            .collect()
    }
}

#[cfg(unix)]
fn odd_path(rng: &mut Rng) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    // Not UTF-8 on purpose: paths are stored as the platform's bytes.
    let mut bytes = b"/data/\xFF\xFEdir/".to_vec();
    bytes.extend(rng.text(12).bytes());
    PathBuf::from(std::ffi::OsStr::from_bytes(&bytes))
}

#[cfg(not(unix))]
fn odd_path(rng: &mut Rng) -> PathBuf {
    PathBuf::from(format!("C:\\data\\{}", rng.text(12)))
}

/// A random but valid checkpoint: `parts` parts, a random share done, some in flight, a
/// durable snapshot that is usually a subset of the latest one (and sometimes not).
pub(crate) fn random_checkpoint(seed: u64, parts: u64, done_percent: u64) -> Checkpoint {
    let mut rng = Rng(seed);
    let part_size = 1 + rng.below(4096);
    let size = if parts == 0 {
        0
    } else {
        (parts - 1) * part_size + 1 + rng.below(part_size)
    };
    let object = ObjectIdentity {
        endpoint_host: format!("oss-{}.aliyuncs.com", rng.text(6)),
        bucket: rng.text(10),
        key: rng.text(40),
        version_id: (rng.below(2) == 0).then(|| rng.text(20)),
        etag: format!("\"{:032X}\"", rng.next()),
        size,
        last_modified: rng.text(29),
        crc64: (rng.below(2) == 0).then(|| rng.next()),
    };
    let local = LocalFiles {
        destination: odd_path(&mut rng),
        temp_path: odd_path(&mut rng),
        temp_file: FileIdentity {
            device: rng.next(),
            file_id: rng.next(),
            len: rng.next(),
            created: (rng.below(2) == 0).then(|| rng.next()),
        },
    };
    let plan = Plan::new(size, PartSize::new(part_size).unwrap()).unwrap();
    let boot_id = (rng.below(4) != 0)
        .then(|| BootId::new(rng.text(36).into_bytes()))
        .flatten();
    let mut ckpt = Checkpoint::new(object, plan, local, boot_id).unwrap();
    let durable_is_subset = rng.below(5) != 0;
    for index in 0..parts {
        if rng.below(100) < done_percent {
            ckpt.latest.complete(index, rng.next()).unwrap();
            if durable_is_subset && rng.below(3) == 0 {
                ckpt.durable.complete(index, rng.next()).unwrap();
            }
        }
        if !durable_is_subset && rng.below(100) < done_percent {
            ckpt.durable.complete(index, rng.next()).unwrap();
        }
    }
    for progress in [&mut ckpt.latest, &mut ckpt.durable] {
        for _ in 0..rng.below(20) {
            let index = rng.below(parts);
            if let Some(part) = plan.part(index)
                && !progress.done().contains(index)
            {
                let bytes = 1 + rng.below(part.len());
                progress.record(index, bytes, rng.next()).unwrap();
            }
        }
    }
    ckpt
}

fn assert_corrupt(bytes: &[u8], what: &str) {
    match decode(bytes) {
        Err(CkptError::Corrupt(_)) => {}
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    }
}

#[test]
fn round_trip_of_an_empty_object() {
    let ckpt = random_checkpoint(7, 0, 50);
    assert!(ckpt.plan().is_empty());
    let bytes = encode(&ckpt).unwrap();
    assert_eq!(decode(&bytes).unwrap(), ckpt);
}

/// The length of slot 0's image (header and body) in a version 3 file.
fn image_len(file: &[u8]) -> usize {
    SLOT_HEADER_LEN + u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize
}

/// A version 3 file of 4096-byte slots with `body` in slot 0 as `version`, sequence 1.
fn framed3(version: u16, body: &[u8]) -> Vec<u8> {
    slots::slot_file(4096, &[(0, version, 1, body)])
}

#[test]
fn every_truncation_and_every_bit_flip_of_a_small_checkpoint_is_caught() {
    let ckpt = random_checkpoint(1, 40, 50);
    let bytes = encode(&ckpt).unwrap();
    assert_eq!(bytes.len(), 4 * 4096);
    let image = image_len(&bytes);
    assert!(image < 1000, "{image}");
    for len in 0..bytes.len() {
        assert_corrupt(&bytes[..len], &format!("truncated to {len}"));
        // Damaged, but ours: discarded as corrupt, never refused as someone else's file.
        assert!(could_be_ours(&bytes[..len]), "truncated to {len}");
    }
    let mut extended = bytes.clone();
    extended.push(0);
    assert_corrupt(&extended, "one byte appended");
    // In the only written slot: corrupt. Anywhere else (the unused rest of the slot, the
    // empty slots, sampled): the checkpoint as it was.
    for bit in (0..image * 8).chain((image * 8..bytes.len() * 8).step_by(61)) {
        let mut flipped = bytes.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        if bit < image * 8 {
            assert_corrupt(&flipped, &format!("bit {bit} flipped"));
            assert!(could_be_ours(&flipped), "bit {bit} flipped");
        } else {
            assert_eq!(decode(&flipped).unwrap(), ckpt, "bit {bit} flipped");
        }
    }
}

#[test]
fn sampled_truncations_and_bit_flips_of_a_large_checkpoint_are_corrupt() {
    // 200k parts, half done at random: a ~25 KB bitmap in each snapshot.
    let ckpt = random_checkpoint(2, 200_000, 50);
    let bytes = encode(&ckpt).unwrap();
    let image = image_len(&bytes);
    assert!(image > 20_000, "{image}");
    let mut rng = Rng(99);
    for _ in 0..300 {
        let len = rng.below(bytes.len() as u64) as usize;
        assert_corrupt(&bytes[..len], &format!("truncated to {len}"));
        let bit = rng.below(image as u64 * 8) as usize;
        let mut flipped = bytes.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert_corrupt(&flipped, &format!("bit {bit} flipped"));
    }
    // The slot header's bits, every one.
    for bit in 0..SLOT_HEADER_LEN * 8 {
        let mut flipped = bytes.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert_corrupt(&flipped, &format!("header bit {bit} flipped"));
        assert!(could_be_ours(&flipped), "header bit {bit} flipped");
    }
}

/// What is not a checkpoint and never was one: refused as someone else's file (by
/// `CheckpointFile::load_any`), where damage to one of ours is only corrupt.
#[test]
fn other_files_are_told_from_damaged_checkpoints() {
    for other in [
        &b"{\"Magic\": \"92611BED-89E2-46B6-89E5-72F273D4B0A3\", \"MD5\": \"\"}"[..],
        b"<Checkpoint><MD5/></Checkpoint>",
        b"precious notes\n",
        b"\x7fELF\x02\x01\x01",
        b"x",
    ] {
        assert!(!could_be_ours(other), "{}", String::from_utf8_lossy(other));
    }
    assert!(could_be_ours(b""));
    assert!(could_be_ours(&[0; 4096]));
}

#[test]
fn the_newest_intact_slot_wins_and_a_torn_one_is_skipped() {
    let states: Vec<Checkpoint> = (0..4).map(|i| random_checkpoint(40 + i, 50, 50)).collect();
    let body = |ckpt: &Checkpoint| {
        let mut image = Vec::new();
        slots::encode_image(ckpt, &mut image).unwrap();
        image.split_off(SLOT_HEADER_LEN)
    };
    let bodies: Vec<Vec<u8>> = states.iter().map(body).collect();
    // Slots in any order: the highest sequence wins, wherever it is.
    let file = slots::slot_file(
        8192,
        &[
            (0, 4, 7, &bodies[0]),
            (1, 4, 9, &bodies[1]),
            (2, 4, 10, &bodies[2]),
            (3, 4, 8, &bodies[3]),
        ],
    );
    assert_eq!(decode(&file).unwrap(), states[2]);
    // Torn (any byte of its image): the next newest.
    for at in [0, 13, 20, 30, 39, 40, 40 + bodies[2].len() - 1] {
        let mut torn = file.clone();
        torn[2 * 8192 + at] ^= 0x10;
        assert_eq!(decode(&torn).unwrap(), states[1], "byte {at}");
    }
    // A slot that claims another slot length (from a file of another size) is not used.
    let mut other_len = slots::slot_file(8192, &[(0, 4, 1, &bodies[0])]);
    let newer = slots::slot_file(4096, &[(0, 4, 5, &bodies[1])]);
    other_len[8192..8192 + 4096].copy_from_slice(&newer[..4096]);
    assert_eq!(decode(&other_len).unwrap(), states[0]);
    // Slot 0's version turned into 1 or 2 by a flipped bit: read as slots all the same.
    for (byte, bit) in [(8, 0), (8, 1)] {
        let mut flipped = file.clone();
        flipped[byte] ^= 1 << bit;
        assert_eq!(decode(&flipped).unwrap(), states[2], "version bit {bit}");
    }
    // None intact: slot 0 says why.
    let mut none = file.clone();
    for k in 0..4 {
        none[k * 8192 + 45] ^= 1;
    }
    assert!(matches!(
        decode(&none),
        Err(CkptError::Corrupt(Corruption::Checksum { .. }))
    ));
    // The newest intact slot claims a newer version: a newer writer's file.
    let newer_version = slots::slot_file(4096, &[(0, 4, 1, &bodies[0]), (2, 5, 2, &bodies[1])]);
    assert!(matches!(
        decode(&newer_version),
        Err(CkptError::NewerFormat {
            found: 5,
            supported: 4
        })
    ));
}

#[test]
fn header_checks_name_the_cause() {
    let bytes = encode(&random_checkpoint(3, 10, 50)).unwrap();
    let cause = |bytes: &[u8]| match decode(bytes) {
        Err(CkptError::Corrupt(cause)) => cause,
        other => panic!("{other:?}"),
    };
    assert_eq!(cause(&bytes[..10]), Corruption::TooShort { len: 10 });
    let mut bad = bytes.clone();
    bad[0] = b'{';
    assert_eq!(cause(&bad), Corruption::BadMagic);
    let total = bytes.len() as u64;
    assert_eq!(
        cause(&bytes[..bytes.len() - 1]),
        Corruption::Truncated {
            expected: total,
            actual: total - 1
        }
    );
    let mut long = bytes.clone();
    long.extend_from_slice(b"xx");
    assert_eq!(
        cause(&long),
        Corruption::TrailingBytes {
            expected: total,
            actual: total + 2
        }
    );
    let mut huge = bytes.clone();
    huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        cause(&huge),
        Corruption::BodyTooLarge {
            len: u64::from(u32::MAX)
        }
    );
    let mut body_flip = bytes.clone();
    body_flip[image_len(&bytes) - 1] ^= 0x40;
    assert!(matches!(cause(&body_flip), Corruption::Checksum { .. }));
    // A version 1 or 2 file is checked as one image.
    let single = frame(2, &[1, 2, 3]);
    assert_eq!(
        cause(&single[..single.len() - 1]),
        Corruption::Truncated {
            expected: single.len() as u64,
            actual: single.len() as u64 - 1
        }
    );
}

#[test]
fn versions_are_checked_after_the_checksum() {
    let bytes = encode(&random_checkpoint(4, 10, 50)).unwrap();
    let body = &bytes[SLOT_HEADER_LEN..image_len(&bytes)];
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), FORMAT_VERSION);
    assert_eq!(FORMAT_VERSION, 4);
    let ckpt = decode(&bytes).unwrap();
    assert_eq!(decode(&framed3(FORMAT_VERSION, body)).unwrap(), ckpt);
    // Version 4's body is version 2's, then the window (one 0 byte: the whole object);
    // version 2's body framed as version 2, or in version 3's slots, reads the same.
    let (v2_body, window) = body.split_at(body.len() - 1);
    assert_eq!(window, [0]);
    assert_eq!(decode(&frame(2, v2_body)).unwrap(), ckpt);
    assert_eq!(decode(&framed3(3, v2_body)).unwrap(), ckpt);
    assert!(matches!(
        decode(&framed3(FORMAT_VERSION + 1, body)),
        Err(CkptError::NewerFormat {
            found: 5,
            supported: 4
        })
    ));
    assert!(matches!(
        decode(&framed3(0, body)),
        Err(CkptError::Corrupt(Corruption::UnknownVersion))
    ));
    // Version 0 in the single-image layout: not a layout any version wrote.
    assert_corrupt(&frame(0, body), "version 0, single image");
    // A flipped version bit is corruption, not a newer format.
    let mut flipped = bytes.clone();
    flipped[8] ^= 4;
    assert!(matches!(
        decode(&flipped),
        Err(CkptError::Corrupt(Corruption::Checksum { .. }))
    ));
    // A reserved field set by a writer is refused (checksum recomputed).
    for at in [10, 29] {
        let mut reserved = bytes.clone();
        reserved[at] = 1;
        let image = image_len(&bytes);
        let crc = checksum(&reserved[..32], &reserved[SLOT_HEADER_LEN..image]);
        reserved[32..40].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            decode(&reserved),
            Err(CkptError::Corrupt(Corruption::ReservedNotZero))
        ));
    }
}

#[test]
fn bytes_after_the_body_fields_are_undecodable() {
    let bytes = encode(&random_checkpoint(5, 10, 50)).unwrap();
    let mut body = bytes[SLOT_HEADER_LEN..image_len(&bytes)].to_vec();
    body.push(0);
    assert!(matches!(
        decode(&framed3(FORMAT_VERSION, &body)),
        Err(CkptError::Corrupt(Corruption::Undecodable { .. }))
    ));
}

#[test]
fn encode_into_reuses_the_buffer_and_is_deterministic() {
    let ckpt = random_checkpoint(6, 1000, 30);
    let mut buffer = Vec::new();
    encode_into(&ckpt, &mut buffer).unwrap();
    let first = buffer.clone();
    let capacity = buffer.capacity();
    encode_into(&ckpt, &mut buffer).unwrap();
    assert_eq!(buffer, first);
    assert_eq!(buffer.capacity(), capacity);
    assert_eq!(encode(&decode(&first).unwrap()).unwrap(), first);
}

#[test]
fn a_progress_for_another_plan_is_refused() {
    let mut ckpt = random_checkpoint(8, 10, 50);
    let other = Plan::new(ckpt.plan().object_size() + 1, ckpt.plan().part_size()).unwrap();
    ckpt.durable = crate::Snapshot::new(other);
    assert!(matches!(encode(&ckpt), Err(CkptError::Invalid { .. })));
}

#[test]
fn oversized_text_is_refused_when_saving() {
    let mut ckpt = random_checkpoint(9, 10, 50);
    let mut object = ckpt.object().clone();
    object.key = "k".repeat(v1::MAX_TEXT_LEN + 1);
    ckpt = Checkpoint::new(object, *ckpt.plan(), ckpt.local().clone(), None).unwrap();
    assert!(matches!(encode(&ckpt), Err(CkptError::Invalid { .. })));
}

proptest! {
    #[test]
    fn random_states_round_trip(
        seed in any::<u64>(),
        parts in prop_oneof![0u64..100, 100u64..5000],
        done_percent in prop_oneof![Just(0u64), Just(100), 0u64..=100],
    ) {
        let ckpt = random_checkpoint(seed, parts, done_percent);
        let bytes = encode(&ckpt).unwrap();
        let back = decode(&bytes).unwrap();
        prop_assert_eq!(&back, &ckpt);
        prop_assert_eq!(encode(&back).unwrap(), bytes);
    }

    #[test]
    fn random_windows_round_trip(
        seed in any::<u64>(),
        start in 0u64..(1 << 40),
        len in 1u64..100_000,
        part in 1u64..5000,
        after in 0u64..1000,
    ) {
        let whole = random_checkpoint(seed, 3, 0);
        let mut object = whole.object().clone();
        object.size = start + len + after;
        let window = oss_parts::ByteRange::new(start, start + len).unwrap();
        let plan = Plan::new(len, PartSize::new(part).unwrap()).unwrap();
        let mut ckpt =
            Checkpoint::for_window(object, window, plan, whole.local().clone(), None).unwrap();
        for index in (0..plan.len()).step_by(3) {
            ckpt.latest.complete(index, index).unwrap();
        }
        let bytes = encode(&ckpt).unwrap();
        let back = decode(&bytes).unwrap();
        prop_assert_eq!(back.window(), Some(window));
        prop_assert_eq!(&back, &ckpt);
        prop_assert_eq!(encode(&back).unwrap(), bytes);
    }

    #[test]
    fn any_framed_body_decodes_or_is_refused_without_panicking(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        version in 1..=FORMAT_VERSION,
    ) {
        // A valid header and checksum, so the body decoder itself is exercised.
        let framed = if version < 3 { frame(version, &body) } else { framed3(version, &body) };
        match decode(&framed) {
            Ok(ckpt) => prop_assert_eq!(decode(&encode(&ckpt).unwrap()).unwrap(), ckpt),
            Err(CkptError::Corrupt(Corruption::Undecodable { .. } | Corruption::Inconsistent { .. })) => {}
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn mutated_bodies_behind_a_valid_checksum_never_panic(
        seed in any::<u64>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let bytes = encode(&random_checkpoint(seed, 300, 40)).unwrap();
        let mut body = bytes[SLOT_HEADER_LEN..image_len(&bytes)].to_vec();
        for (at, xor) in flips {
            let i = at.index(body.len());
            body[i] ^= xor;
        }
        if let Ok(ckpt) = decode(&framed3(FORMAT_VERSION, &body)) {
            // Whatever is accepted is a state the in-memory types allow.
            prop_assert_eq!(decode(&encode(&ckpt).unwrap()).unwrap(), ckpt);
        }
    }
}
