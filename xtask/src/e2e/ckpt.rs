//! Checkpoint files as e2e reads and damages them: an independent reading of oss-ckpt's
//! documented format (docs/checkpoint-format.md). All integers little-endian.
//!
//! An oracle, kept on purpose: this is a second implementation written from the format's
//! description, not from oss-ckpt's code, so when e2e checks what ossget committed (which
//! sequence, which parts) a bug in oss-ckpt's reader cannot hide itself by agreeing with
//! itself. (It also keeps xtask free of workspace crates, so `cargo xtask ci` still builds
//! when one is broken.) Do not replace it with oss-ckpt.
//!
//! Versions 1 and 2 are one image, the file exactly header + body long:
//!
//! ```text
//! offset  size  field
//!      0     8  magic            "\x89OSSCKPT"
//!      8     2  format version   1 or 2
//!     10     2  reserved         0
//!     12     4  body length      u32
//!     16     8  checksum         CRC-64/XZ of bytes 0..16 followed by the body
//!     24     …  body
//! ```
//!
//! Versions 3 and 4 are four slots of `L` bytes (slot k at k × L), written in place in turn,
//! each holding one whole image or the remains of a torn write. The two differ only in the
//! version field and the body (version 4's ends with the object's byte window, for a
//! resumable `--range`), which this reader does not decode: the slot layout is the same.
//!
//! ```text
//!      0     8  magic            "\x89OSSCKPT"
//!      8     2  format version   3 or 4
//!     10     2  reserved         0
//!     12     4  body length      u32, 40 + body length <= L
//!     16     8  sequence         one more than the save before it
//!     24     4  slot length L    the slot counts only if the file is 4 × L bytes
//!     28     4  reserved         0
//!     32     8  checksum         CRC-64/XZ of the slot's bytes 0..32 followed by the body
//!     40     …  body, then stale bytes of older saves or zeros up to L
//! ```
//!
//! A file whose first 10 bytes are the magic and version 1 or 2 is read as a single image;
//! any other file as slots. A slot is intact when its magic, slot length, body length,
//! checksum and reserved fields hold; the reader takes the intact slot with the highest
//! sequence, so a torn or damaged newest slot silently falls back to an older snapshot, and
//! the file reads as corrupt only when no slot is intact. Integrity comes before the
//! version: only an intact image claiming a newer version reads as "newer format".

use super::rng::Rng;
use crate::crc64::Crc64;

const MAGIC: &[u8; 8] = b"\x89OSSCKPT";
/// The header of a version 1 or 2 file.
const SINGLE_HEADER_LEN: usize = 24;
/// The header of a version 3 or 4 slot.
const SLOT_HEADER_LEN: usize = 40;
/// Slots in a version 3 or 4 file.
const SLOTS: usize = 4;

/// One intact image in a checkpoint file: a version 1/2 file's only one, or a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Image {
    /// Its slot (0 for a version 1/2 file).
    pub slot: usize,
    /// Where its header starts in the file.
    pub start: usize,
    /// Header plus body: the bytes that make it what it is (a slot's stale rest excluded).
    pub len: usize,
    /// The format version it claims.
    pub version: u16,
    /// Its sequence number (version 1/2 files have none).
    pub sequence: Option<u64>,
}

/// The intact images of a checkpoint file, newest (highest sequence) first, or why there
/// is none.
pub fn images(bytes: &[u8]) -> Result<Vec<Image>, String> {
    if is_single(bytes) {
        // Slot 0 of a version 3 file with its version bits flipped to 1 or 2 fails as a
        // single image; oss-ckpt then reads the file as slots, and so does this.
        match single(bytes) {
            Ok(image) => return Ok(vec![image]),
            Err(why) => return slotted(bytes).map_err(|_| why),
        }
    }
    slotted(bytes)
}

/// The intact slots of a version 3 or 4 file, newest first, or why there is none.
fn slotted(bytes: &[u8]) -> Result<Vec<Image>, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    let mut intact = Vec::new();
    let mut reasons = Vec::new();
    for k in 0..SLOTS {
        match slot(bytes, k) {
            Ok(image) => intact.push(image),
            Err(why) => reasons.push(format!("slot {k}: {why}")),
        }
    }
    if intact.is_empty() {
        return Err(format!("no intact slot ({})", reasons.join("; ")));
    }
    // Stable: equal sequences (never written by oss-ckpt) keep slot order.
    intact.sort_by_key(|i| std::cmp::Reverse(i.sequence));
    Ok(intact)
}

/// The format version of the newest intact image, or why there is none (what a reader
/// reports as corruption).
pub fn version(bytes: &[u8]) -> Result<u16, String> {
    let images = images(bytes)?;
    images
        .first()
        .map(|i| i.version)
        .ok_or_else(|| "no intact image".into())
}

/// The sequence of the newest intact slot: `None` for a version 1/2 file or a file
/// with no intact slot.
pub fn sequence(bytes: &[u8]) -> Option<u64> {
    images(bytes).ok()?.first()?.sequence
}

/// A short description for notes: `v3, 4 × 4096 B, intact: slot 2 seq 9, slot 0 seq 8`.
pub fn describe(bytes: &[u8]) -> String {
    match images(bytes) {
        Err(why) => format!("{} bytes, corrupt: {why}", bytes.len()),
        Ok(images) if is_single(bytes) => format!(
            "v{}, one image of {} B",
            images.first().map_or(0, |i| i.version),
            bytes.len()
        ),
        Ok(images) => {
            let list: Vec<String> = images.iter().map(slot_name).collect();
            format!(
                "v{}, {} × {} B, intact: {}",
                images.first().map_or(0, |i| i.version),
                SLOTS,
                bytes.len() / SLOTS,
                list.join(", ")
            )
        }
    }
}

/// `slot 2 seq 9` (or `the image` for a version 1/2 file).
pub fn slot_name(image: &Image) -> String {
    match image.sequence {
        Some(seq) => format!("slot {} seq {seq}", image.slot),
        None => "the image".to_string(),
    }
}

/// The checkpoint cut to a random shorter length (0 included). Every slot then breaks the
/// "file length == 4 × L" rule, so the file reads as corrupt.
pub fn truncated(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let keep = rng.range(0, bytes.len().saturating_sub(1) as u64) as usize;
    bytes.get(..keep).unwrap_or_default().to_vec()
}

/// One flipped bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flip {
    /// The image it landed in (as it was before the flip).
    pub image: Image,
    /// Its position in the file, in bits from the start.
    pub bit: u64,
}

/// A checkpoint with bits flipped, and where.
#[derive(Debug, Clone)]
pub struct Flipped {
    /// The damaged file.
    pub bytes: Vec<u8>,
    /// The flips, one per damaged image.
    pub flips: Vec<Flip>,
}

impl Flipped {
    /// `bit 1234 (slot 2 seq 9)`, for notes.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .flips
            .iter()
            .map(|f| format!("bit {} ({})", f.bit, slot_name(&f.image)))
            .collect();
        parts.join(", ")
    }
}

/// The checkpoint with one random bit flipped inside the newest intact image's header and
/// body. A bit anywhere else may land in stale or unused bytes and change nothing; this
/// one always breaks the newest snapshot, so a reader must fall back to an older intact
/// slot, or, when there is none, see corruption.
pub fn bit_flipped_newest(bytes: &[u8], rng: &mut Rng) -> Result<Flipped, String> {
    let images = images(bytes)?;
    let newest = images.first().copied().ok_or("no intact image")?;
    Ok(flipped(bytes, &[newest], rng))
}

/// The checkpoint with one random bit flipped inside every intact image's header and body:
/// nothing intact is left, so a reader must see corruption.
pub fn bit_flipped_every_slot(bytes: &[u8], rng: &mut Rng) -> Result<Flipped, String> {
    let images = images(bytes)?;
    Ok(flipped(bytes, &images, rng))
}

fn flipped(bytes: &[u8], targets: &[Image], rng: &mut Rng) -> Flipped {
    let mut out = bytes.to_vec();
    let mut flips = Vec::new();
    for image in targets {
        let first = image.start as u64 * 8;
        let bit = rng.range(first, first + image.len as u64 * 8 - 1);
        if let Some(b) = out.get_mut((bit / 8) as usize) {
            *b ^= 1 << (bit % 8);
        }
        flips.push(Flip { image: *image, bit });
    }
    Flipped { bytes: out, flips }
}

/// The checkpoint with every intact image claiming format version `current + 1`, its
/// checksum recomputed, so a reader sees an intact file from a newer writer. Fails when
/// the result would not read that way (a version 2 file claiming 3 is not a version 3
/// file).
pub fn future_version(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let images = images(bytes)?;
    let current = version(bytes)?;
    let newer = current.checked_add(1).ok_or("version at its maximum")?;
    let mut out = bytes.to_vec();
    for image in &images {
        let at = image.start;
        let version_field = out
            .get_mut(at + 8..at + 10)
            .ok_or("an image outside the file")?;
        version_field.copy_from_slice(&newer.to_le_bytes());
        let (sum, sum_at) = match image.sequence {
            None => (single_checksum(&out), at + 16),
            Some(_) => (slot_checksum(&out, at, image.len), at + 32),
        };
        out.get_mut(sum_at..sum_at + 8)
            .ok_or("an image outside the file")?
            .copy_from_slice(&sum.to_le_bytes());
    }
    match version(&out) {
        Ok(v) if v == newer => Ok(out),
        Ok(v) => Err(format!("claiming version {newer} it reads as version {v}")),
        Err(why) => Err(format!(
            "claiming version {newer} it no longer reads as intact: {why}"
        )),
    }
}

/// Whether the file is read as one version 1/2 image.
fn is_single(bytes: &[u8]) -> bool {
    bytes.get(..8) == Some(&MAGIC[..]) && matches!(u16_at(bytes, 8), Some(1 | 2))
}

/// The image of a version 1/2 file, or why it is not intact.
fn single(bytes: &[u8]) -> Result<Image, String> {
    let len = bytes.len();
    if len < SINGLE_HEADER_LEN {
        return Err(format!("{len} bytes: shorter than the header"));
    }
    let body_len = u32_at(bytes, 12).unwrap_or(0) as usize;
    if len != SINGLE_HEADER_LEN + body_len {
        return Err(format!(
            "{len} bytes, but the header says {}",
            SINGLE_HEADER_LEN + body_len
        ));
    }
    if u64_at(bytes, 16) != Some(single_checksum(bytes)) {
        return Err("checksum mismatch".into());
    }
    if u16_at(bytes, 10) != Some(0) {
        return Err("reserved bytes not zero".into());
    }
    Ok(Image {
        slot: 0,
        start: 0,
        len,
        version: u16_at(bytes, 8).unwrap_or(0),
        sequence: None,
    })
}

/// Slot `k` of a version 3 or 4 file, or why it is not intact.
fn slot(bytes: &[u8], k: usize) -> Result<Image, String> {
    let file_len = bytes.len();
    let start = k * (file_len / SLOTS);
    let header = bytes
        .get(start..start + SLOT_HEADER_LEN)
        .ok_or_else(|| format!("the file is {file_len} bytes, too short for its header"))?;
    if header.get(..8) != Some(&MAGIC[..]) {
        return Err("no checkpoint magic".into());
    }
    let slot_len = u32_at(header, 24).unwrap_or(0) as usize;
    if slot_len.checked_mul(SLOTS) != Some(file_len) {
        return Err(format!(
            "the file is {file_len} bytes, the slot says {SLOTS} × {slot_len}"
        ));
    }
    let len = SLOT_HEADER_LEN + u32_at(header, 12).unwrap_or(0) as usize;
    if len > slot_len {
        return Err(format!(
            "header and body are {len} bytes, the slot {slot_len}"
        ));
    }
    if u64_at(header, 32) != Some(slot_checksum(bytes, start, len)) {
        return Err("checksum mismatch".into());
    }
    if u16_at(header, 10) != Some(0) || u32_at(header, 28) != Some(0) {
        return Err("reserved bytes not zero".into());
    }
    Ok(Image {
        slot: k,
        start,
        len,
        version: u16_at(header, 8).unwrap_or(0),
        sequence: u64_at(header, 16),
    })
}

/// CRC-64/XZ of a version 1/2 file's first 16 bytes followed by its body.
fn single_checksum(bytes: &[u8]) -> u64 {
    let mut crc = Crc64::new();
    crc.update(bytes.get(..16).unwrap_or_default());
    crc.update(bytes.get(SINGLE_HEADER_LEN..).unwrap_or_default());
    crc.finish()
}

/// CRC-64/XZ of a slot's first 32 bytes followed by its body (`len`: header and body).
fn slot_checksum(bytes: &[u8], start: usize, len: usize) -> u64 {
    let mut crc = Crc64::new();
    crc.update(bytes.get(start..start + 32).unwrap_or_default());
    crc.update(
        bytes
            .get(start + SLOT_HEADER_LEN..start + len)
            .unwrap_or_default(),
    );
    crc.finish()
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// Sample checkpoint files for tests, built field by field from the documented layout
/// (independently of the parser above, except for the CRC, whose check value the crc64
/// module tests).
#[cfg(test)]
pub mod samples {
    use super::*;

    /// The first 16 bytes every layout shares: magic, version, reserved, body length.
    fn header_start(version: u16, body: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out
    }

    /// `header` then the CRC-64 of header and body, then `body`: how every layout ends.
    fn sealed(mut header: Vec<u8>, body: &[u8]) -> Vec<u8> {
        let mut crc = Crc64::new();
        crc.update(&header);
        crc.update(body);
        header.extend_from_slice(&crc.finish().to_le_bytes());
        header.extend_from_slice(body);
        header
    }

    /// A well-formed version 1 or 2 file around `body`.
    pub fn single_file(version: u16, body: &[u8]) -> Vec<u8> {
        sealed(header_start(version, body), body)
    }

    /// One version 3 or 4 slot image (header and body, no stale rest), built field by field.
    pub fn slot_image(version: u16, sequence: u64, slot_len: u32, body: &[u8]) -> Vec<u8> {
        let mut out = header_start(version, body);
        out.extend_from_slice(&sequence.to_le_bytes());
        out.extend_from_slice(&slot_len.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        sealed(out, body)
    }

    /// The slot length of the samples (the smallest a writer uses).
    pub const L: usize = 4096;

    /// A version 3 file as a writer leaves it: each listed slot holds an image (sequence,
    /// body length) whose rest is stale bytes of a longer earlier save; unlisted slots are
    /// zero (never written).
    pub fn slotted_file(slots: &[(usize, u64, usize)]) -> Vec<u8> {
        let mut out = vec![0u8; SLOTS * L];
        for &(k, seq, body_len) in slots {
            let body: Vec<u8> = (0..body_len).map(|i| (i as u64 * 31 + seq) as u8).collect();
            let image = slot_image(3, seq, L as u32, &body);
            let region = &mut out[k * L..(k + 1) * L];
            region.fill(0xA5);
            region[..image.len()].copy_from_slice(&image);
        }
        out
    }

    /// Slots 0..3 hold sequences 5, 6, 8, 7 (newest in slot 2), bodies of varied length.
    pub fn busy_file() -> Vec<u8> {
        slotted_file(&[(0, 5, 300), (1, 6, 310), (2, 8, 290), (3, 7, 305)])
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    fn differing_bits(a: &[u8], b: &[u8]) -> u32 {
        a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
    }

    #[test]
    fn reads_versions_1_and_2() {
        assert_eq!(version(&single_file(1, b"postcard body")), Ok(1));
        assert_eq!(version(&single_file(2, b"postcard body")), Ok(2));
        assert_eq!(sequence(&single_file(2, b"x")), None);
        assert!(version(b"short").is_err());
        assert!(version(b"").unwrap_err().contains("empty"));
        let mut bad = single_file(1, &[3u8; 100]);
        bad[0] = b'X';
        assert!(
            version(&bad)
                .unwrap_err()
                .contains("slot 0: no checkpoint magic")
        );
        let mut long = single_file(2, b"xyz");
        long.push(0);
        assert!(version(&long).unwrap_err().contains("header says"));
    }

    #[test]
    fn reads_the_newest_intact_slot() {
        let file = busy_file();
        assert_eq!(version(&file), Ok(3));
        assert_eq!(sequence(&file), Some(8));
        let all = images(&file).unwrap();
        let order: Vec<(usize, Option<u64>)> = all.iter().map(|i| (i.slot, i.sequence)).collect();
        assert_eq!(
            order,
            vec![(2, Some(8)), (3, Some(7)), (1, Some(6)), (0, Some(5))]
        );
        assert_eq!(all[0].start, 2 * L);
        assert_eq!(all[0].len, 40 + 290);
        // The first save of a run: slot 0 only, the rest zero.
        let fresh = slotted_file(&[(0, 1, 200)]);
        assert_eq!(sequence(&fresh), Some(1));
        assert!(
            describe(&fresh).contains("intact: slot 0 seq 1"),
            "{}",
            describe(&fresh)
        );
    }

    #[test]
    fn reads_version_4_slots_like_version_3_ones() {
        let mut file = vec![0u8; SLOTS * L];
        for (k, seq) in [(0usize, 3u64), (2, 4)] {
            let image = slot_image(4, seq, L as u32, &[k as u8; 250]);
            file[k * L..k * L + image.len()].copy_from_slice(&image);
        }
        assert_eq!(version(&file), Ok(4));
        assert_eq!(sequence(&file), Some(4));
        assert!(
            describe(&file).starts_with("v4, 4 × 4096 B"),
            "{}",
            describe(&file)
        );
        let newer = future_version(&file).unwrap();
        assert_eq!(version(&newer), Ok(5));
    }

    /// The golden files of the slotted versions, as oss-ckpt's tests pin them
    /// (`fixtures/ckpt/README.md`): the first save of a download, slot 0 with sequence 1.
    #[test]
    fn reads_the_golden_files_of_versions_3_and_4() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/ckpt");
        for (name, expected, body_len) in [("v3-small.cp", 3, 432), ("v4-small.cp", 4, 417)] {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            let all = images(&bytes).unwrap();
            assert_eq!(all.len(), 1, "{name}");
            assert_eq!(all[0].version, expected, "{name}");
            assert_eq!((all[0].slot, all[0].sequence), (0, Some(1)), "{name}");
            assert_eq!(all[0].len, SLOT_HEADER_LEN + body_len, "{name}");
        }
    }

    #[test]
    fn a_torn_slot_is_skipped() {
        // The save of sequence 9 into slot 0 (over sequence 5) stopped half way.
        let mut file = busy_file();
        let image = slot_image(3, 9, L as u32, &[1u8; 300]);
        file[..image.len() / 2].copy_from_slice(&image[..image.len() / 2]);
        assert_eq!(sequence(&file), Some(8));
        assert_eq!(images(&file).unwrap().len(), 3);
        // Torn into the body only: the header reads well, the checksum does not.
        let mut file = busy_file();
        file[..image.len() - 10].copy_from_slice(&image[..image.len() - 10]);
        assert_eq!(sequence(&file), Some(8));
    }

    #[test]
    fn truncation_breaks_every_slot() {
        let file = busy_file();
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let cut = truncated(&file, &mut rng);
            assert!(cut.len() < file.len());
            assert!(version(&cut).is_err(), "cut to {}", cut.len());
        }
        let why = version(&file[..10_000]).unwrap_err();
        assert!(
            why.contains("slot 0: the file is 10000 bytes, the slot says 4 × 4096"),
            "{why}"
        );
        let v1 = single_file(1, &[7u8; 300]);
        for _ in 0..200 {
            assert!(version(&truncated(&v1, &mut rng)).is_err());
        }
    }

    #[test]
    fn flipping_the_newest_slot_leaves_an_older_one_newest() {
        let file = busy_file();
        let newest = images(&file).unwrap()[0];
        let mut rng = Rng::new(4);
        for _ in 0..300 {
            let f = bit_flipped_newest(&file, &mut rng).unwrap();
            assert_eq!(f.flips.len(), 1);
            let bit = f.flips[0].bit;
            assert_eq!(f.flips[0].image, newest);
            let range = newest.start as u64 * 8..(newest.start + newest.len) as u64 * 8;
            assert!(range.contains(&bit), "bit {bit}");
            assert_eq!(f.bytes.len(), file.len());
            assert_eq!(differing_bits(&f.bytes, &file), 1);
            // Slot 3 (sequence 7) takes over, whichever bit it was.
            assert_eq!(sequence(&f.bytes), Some(7), "bit {bit}");
            assert_eq!(version(&f.bytes), Ok(3));
        }
        // With one intact slot, nothing is left.
        let fresh = slotted_file(&[(0, 1, 200)]);
        let f = bit_flipped_newest(&fresh, &mut rng).unwrap();
        assert!(version(&f.bytes).is_err());
    }

    #[test]
    fn a_v3_file_whose_slot_0_claims_version_1_or_2_falls_back_to_its_other_slots() {
        // As oss-ckpt reads it: the bad single image, then the slots.
        let newest = images(&busy_file()).unwrap()[0].sequence;
        for bit in [0b10, 0b01] {
            let mut file = busy_file();
            file[8] ^= bit; // 3 -> 1 or 2
            assert_eq!(version(&file), Ok(3));
            assert!(sequence(&file).is_some());
            assert!(sequence(&file) <= newest);
        }
        let mut only_slot_0 = single_file(2, b"xyz");
        only_slot_0[20] ^= 1;
        assert!(version(&only_slot_0).is_err());
    }

    #[test]
    fn flipping_every_slot_leaves_nothing_intact() {
        let file = busy_file();
        let mut rng = Rng::new(5);
        for _ in 0..200 {
            let f = bit_flipped_every_slot(&file, &mut rng).unwrap();
            assert_eq!(f.flips.len(), 4);
            assert_eq!(differing_bits(&f.bytes, &file), 4);
            for flip in &f.flips {
                let i = flip.image;
                let range = i.start as u64 * 8..(i.start + i.len) as u64 * 8;
                assert!(range.contains(&flip.bit), "{flip:?}");
            }
            let why = version(&f.bytes).unwrap_err();
            assert!(
                why.contains("no intact slot") || why.contains("header says"),
                "{why}"
            );
        }
        // Only the intact slots are touched: slot 1 torn, slot 3 never written.
        let mut file = slotted_file(&[(0, 3, 100), (1, 4, 100), (2, 5, 100)]);
        file[L + 50] ^= 0xFF;
        let f = bit_flipped_every_slot(&file, &mut rng).unwrap();
        let slots: Vec<usize> = f.flips.iter().map(|f| f.image.slot).collect();
        assert_eq!(slots, vec![2, 0]);
        assert!(version(&f.bytes).is_err());
        assert!(f.describe().contains("(slot 2 seq 5)"), "{}", f.describe());
        // A version 1 file has one image.
        let v1 = single_file(1, &[9u8; 300]);
        for _ in 0..100 {
            let f = bit_flipped_every_slot(&v1, &mut rng).unwrap();
            assert_eq!(differing_bits(&f.bytes, &v1), 1);
            // A flipped version bit too: integrity is checked before the version.
            assert!(version(&f.bytes).is_err(), "{:?} went unnoticed", f.flips);
            let f = bit_flipped_newest(&v1, &mut rng).unwrap();
            assert!(version(&f.bytes).is_err(), "{:?} went unnoticed", f.flips);
        }
    }

    #[test]
    fn a_bit_in_unused_or_stale_bytes_changes_nothing() {
        let file = slotted_file(&[(0, 5, 300), (1, 6, 310)]);
        let before = images(&file).unwrap();
        // Past slot 0's body (stale bytes), in zero slot 2, at the very end.
        for byte in [
            40 + 300,
            40 + 300 + 1000,
            L - 1,
            2 * L + 8,
            3 * L,
            4 * L - 1,
        ] {
            for bit in 0..8 {
                let mut damaged = file.clone();
                damaged[byte] ^= 1 << bit;
                assert_eq!(images(&damaged).unwrap(), before, "byte {byte} bit {bit}");
            }
        }
    }

    #[test]
    fn future_version_is_intact_and_newer() {
        let file = busy_file();
        let newer = future_version(&file).unwrap();
        assert_eq!(version(&newer), Ok(4));
        assert_eq!(newer.len(), file.len());
        let (old, new) = (images(&file).unwrap(), images(&newer).unwrap());
        assert_eq!(new.len(), 4);
        for (o, n) in old.iter().zip(&new) {
            assert_eq!((o.slot, o.sequence, n.version), (n.slot, n.sequence, 4));
            // Only the version and checksum fields changed.
            let (a, b) = (o.start, o.start + o.len);
            assert_eq!(&newer[a..a + 8], &file[a..a + 8]);
            assert_eq!(&newer[a + 10..a + 32], &file[a + 10..a + 32]);
            assert_eq!(&newer[a + 40..b], &file[a + 40..b]);
        }
        // Stale bytes and untouched slots stay as they were.
        let sparse = slotted_file(&[(1, 2, 100)]);
        let newer = future_version(&sparse).unwrap();
        assert_eq!(differing_bits(&newer[..L], &sparse[..L]), 0);
        assert_eq!(&newer[L + 140..], &sparse[L + 140..]);
        // Version 1 -> 2 is still a single image; version 2 -> 3 would not be one.
        let v1 = single_file(1, b"some body bytes");
        let v2 = future_version(&v1).unwrap();
        assert_eq!(version(&v2), Ok(2));
        assert_eq!(&v2[24..], &v1[24..]);
        assert!(future_version(&single_file(2, b"body")).is_err());
    }
}
