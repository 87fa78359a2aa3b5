//! Format versions 3 and 4: the file is [`SLOT_COUNT`] equal slots, each able to hold a
//! whole image (slot header + body), so a save can overwrite one slot in place instead of
//! writing a new file and renaming it over the old one. Version 3's body is version 2's
//! (`v2.rs`); version 4's (`v4.rs`, written by this build) is version 2's followed by the
//! object's byte window. The slots themselves are the same in both.
//!
//! Why: on ext4 a rename over an existing file flushes the new file and waits for the
//! journal (`auto_da_alloc`), and beside another process that fsyncs, such renames took
//! 21-258 ms where an overwrite of already-allocated bytes took at most 0.06 ms
//! (`docs/e2e-findings.md`). Commits that stall let the checkpoint fall behind the disk,
//! and a kill then re-fetches what the stall hid.
//!
//! ```text
//! slot k starts at k * L; the file is SLOT_COUNT * L bytes (L a multiple of 4096)
//! offset  size  field
//!      0     8  magic            89 4F 53 53 43 4B 50 54
//!      8     2  format version   u16 LE, 3 or 4
//!     10     2  reserved         0
//!     12     4  body length      u32 LE; 40 + body length <= L
//!     16     8  sequence         u64 LE, one more than the save before it
//!     24     4  slot length L    u32 LE; the slot counts only if the file is 4 L bytes
//!     28     4  reserved         0
//!     32     8  checksum         CRC-64/XZ of bytes 0..32 of the slot, then the body
//!     40     …  body             postcard: version 3, version 2's frozen body (`v2.rs`);
//!                                 version 4, that body then the window (`v4.rs`)
//!      …     …  the rest of the slot: stale bytes of older saves, or zeros
//! ```
//!
//! A reader takes the intact slot with the highest sequence. A slot torn by a crash in the
//! middle of its write fails its checksum and is skipped: the others hold older, complete
//! saves, and an older save is always safe to resume from (it claims fewer bytes). Which
//! slot a save goes to is the writer's business (`fs::CheckpointFile`: slots 0 and 1 for
//! durable saves, 2 and 3 for cheap ones, so a cheap save never overwrites the last durable
//! one); a reader does not care.
//!
//! The slot length is in every slot's header and must agree with the file's length, so a
//! truncated or extended file has no intact slot, while slot 0 — always at offset 0 —
//! still explains what is wrong.

use crate::error::{CkptError, Corruption};
use crate::format::{MAGIC, MAX_BODY_LEN, checksum};
use crate::model::Checkpoint;

use super::v2::BodyV2;
use super::v4::BodyV4;

/// The format version this build writes: slots holding version 4's body.
pub(crate) const VERSION: u16 = 4;

/// The first slotted format version (its slots hold version 2's body).
const FIRST_SLOTTED: u16 = 3;

/// The number of slots in a version 3 or 4 file.
pub const SLOT_COUNT: u64 = 4;

/// A slot's header length in bytes.
pub const SLOT_HEADER_LEN: usize = 40;

/// Slots are whole multiples of this, so a slot's writes start on a page boundary and a
/// torn write tears only its own slot.
const SLOT_ALIGN: u64 = 4096;

/// Encodes `ckpt`'s image into `out` (replacing its contents, reusing its capacity): room
/// for the slot header, then the body. [`seal`] fills in the header.
pub(crate) fn encode_image(ckpt: &Checkpoint, out: &mut Vec<u8>) -> Result<(), CkptError> {
    let body = BodyV4::from_checkpoint(ckpt)?;
    out.clear();
    out.resize(SLOT_HEADER_LEN, 0);
    let buffer = std::mem::take(out);
    *out = postcard::to_extend(&body, buffer).map_err(|e| CkptError::Invalid {
        reason: format!("postcard could not encode it: {e}"),
    })?;
    let body_len = out.len() - SLOT_HEADER_LEN;
    if body_len > MAX_BODY_LEN {
        return Err(CkptError::Invalid {
            reason: format!("the body is {body_len} bytes, over the {MAX_BODY_LEN}-byte limit"),
        });
    }
    Ok(())
}

/// The slot length for a new file whose first image is `image_len` bytes: room for the
/// image to double (a done set in a random pattern grows before it shrinks), whole pages,
/// at least one page.
fn slot_len_for(image_len: usize) -> u32 {
    let wanted = (image_len as u64).saturating_mul(2).max(SLOT_ALIGN);
    let rounded = wanted.div_ceil(SLOT_ALIGN) * SLOT_ALIGN;
    // The largest image (40 + MAX_BODY_LEN bytes) doubled is far below u32::MAX.
    u32::try_from(rounded).unwrap_or(u32::MAX)
}

/// Fills in the header of an image made by [`encode_image`]: sequence `sequence` in a
/// file of `slot_len`-byte slots. The caller checks the image fits (`image.len() <=
/// slot_len`).
pub(crate) fn seal(image: &mut [u8], sequence: u64, slot_len: u32) {
    let Some((header, body)) = image.split_first_chunk_mut::<SLOT_HEADER_LEN>() else {
        return;
    };
    let body_len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    header.fill(0);
    header[..8].copy_from_slice(&MAGIC);
    header[8..10].copy_from_slice(&VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&body_len.to_le_bytes());
    header[16..24].copy_from_slice(&sequence.to_le_bytes());
    header[24..28].copy_from_slice(&slot_len.to_le_bytes());
    let sum = checksum(&header[..32], body);
    header[32..40].copy_from_slice(&sum.to_le_bytes());
}

/// Seals an image made by [`encode_image`] as slot 0 of a new file: sequence `sequence`,
/// slots sized by [`slot_len_for`]. Returns the slot length (the file is
/// [`SLOT_COUNT`] times that; the caller writes zeros after the image).
pub(crate) fn seal_new_file(image: &mut [u8], sequence: u64) -> u32 {
    let slot_len = slot_len_for(image.len());
    seal(image, sequence, slot_len);
    slot_len
}

/// Encodes `ckpt` as a whole new file into `out`: its image in slot 0 with sequence 1, the
/// other slots zero.
pub(crate) fn encode_file(ckpt: &Checkpoint, out: &mut Vec<u8>) -> Result<(), CkptError> {
    encode_image(ckpt, out)?;
    let slot_len = seal_new_file(out, 1);
    let file_len = u64::from(slot_len) * SLOT_COUNT;
    out.resize(usize::try_from(file_len).unwrap_or(usize::MAX), 0);
    Ok(())
}

/// One intact slot.
struct Slot<'a> {
    sequence: u64,
    version: u16,
    body: &'a [u8],
}

/// Decodes a slotted file: the intact slot with the highest sequence. With none intact,
/// slot 0's defect is the error (the file was written with its image there, so that is
/// where a damaged file shows what happened to it).
pub(crate) fn decode(bytes: &[u8]) -> Result<Checkpoint, CkptError> {
    let file_len = bytes.len() as u64;
    let slot_len = file_len / SLOT_COUNT;
    let mut newest: Option<Slot<'_>> = None;
    let mut first_defect = None;
    for k in 0..SLOT_COUNT {
        if k > 0 && (!file_len.is_multiple_of(SLOT_COUNT) || slot_len == 0) {
            break;
        }
        let start = usize::try_from(k * slot_len).unwrap_or(usize::MAX);
        match parse_slot(bytes.get(start..).unwrap_or_default(), file_len) {
            Ok(slot) => {
                if newest.as_ref().is_none_or(|n| slot.sequence > n.sequence) {
                    newest = Some(slot);
                }
            }
            Err(defect) => {
                first_defect.get_or_insert(defect);
            }
        }
    }
    let Some(slot) = newest else {
        return Err(CkptError::Corrupt(
            first_defect.unwrap_or(Corruption::TooShort { len: bytes.len() }),
        ));
    };
    match slot.version {
        FIRST_SLOTTED => super::take_body::<BodyV2<'_>>(slot.body)
            .and_then(BodyV2::into_checkpoint)
            .map_err(CkptError::Corrupt),
        VERSION => super::take_body::<BodyV4<'_>>(slot.body)
            .and_then(BodyV4::into_checkpoint)
            .map_err(CkptError::Corrupt),
        found => Err(CkptError::NewerFormat {
            found,
            supported: super::FORMAT_VERSION,
        }),
    }
}

/// Checks the slot that starts at `slot[0]` in a file of `file_len` bytes.
fn parse_slot(slot: &[u8], file_len: u64) -> Result<Slot<'_>, Corruption> {
    let Some((header, rest)) = slot.split_first_chunk::<SLOT_HEADER_LEN>() else {
        return Err(Corruption::TooShort { len: slot.len() });
    };
    let u32_at = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let u64_at = |at: usize| {
        let mut value = [0u8; 8];
        value.copy_from_slice(&header[at..at + 8]);
        u64::from_le_bytes(value)
    };
    if header[..8] != MAGIC {
        return Err(Corruption::BadMagic);
    }
    let version = u16::from_le_bytes([header[8], header[9]]);
    let body_len = u64::from(u32_at(12));
    let sequence = u64_at(16);
    let slot_len = u64::from(u32_at(24));
    let stored = u64_at(32);
    if body_len > MAX_BODY_LEN as u64 {
        return Err(Corruption::BodyTooLarge { len: body_len });
    }
    let Some(body) = rest.get(..body_len as usize) else {
        return Err(Corruption::Truncated {
            expected: (SLOT_HEADER_LEN as u64 + body_len).max(slot_len * SLOT_COUNT),
            actual: file_len,
        });
    };
    let computed = checksum(&header[..32], body);
    if computed != stored {
        return Err(Corruption::Checksum { stored, computed });
    }
    let expected = slot_len * SLOT_COUNT;
    if file_len < expected {
        return Err(Corruption::Truncated {
            expected,
            actual: file_len,
        });
    }
    if file_len > expected {
        return Err(Corruption::TrailingBytes {
            expected,
            actual: file_len,
        });
    }
    if header[10..12] != [0, 0] || header[28..32] != [0; 4] {
        return Err(Corruption::ReservedNotZero);
    }
    if SLOT_HEADER_LEN as u64 + body_len > slot_len {
        return Err(Corruption::Inconsistent {
            detail: format!("a {body_len}-byte body in a {slot_len}-byte slot"),
        });
    }
    if version < FIRST_SLOTTED {
        return Err(if version == 0 {
            Corruption::UnknownVersion
        } else {
            Corruption::Inconsistent {
                detail: format!("a slot claiming format version {version}, which has no slots"),
            }
        });
    }
    Ok(Slot {
        sequence,
        version,
        body,
    })
}

/// A slotted file of `slot_len`-byte slots holding `(slot, version, sequence, body)` in
/// the named slots and zeros elsewhere: for tests of the reader behind intact checksums.
#[cfg(test)]
pub(crate) fn slot_file(slot_len: u32, slots: &[(u64, u16, u64, &[u8])]) -> Vec<u8> {
    let mut out = vec![0u8; slot_len as usize * SLOT_COUNT as usize];
    for &(k, version, sequence, body) in slots {
        let mut image = vec![0u8; SLOT_HEADER_LEN];
        image.extend_from_slice(body);
        seal(&mut image, sequence, slot_len);
        image[8..10].copy_from_slice(&version.to_le_bytes());
        let sum = checksum(&image[..32], body);
        image[32..40].copy_from_slice(&sum.to_le_bytes());
        let start = k as usize * slot_len as usize;
        out[start..start + image.len()].copy_from_slice(&image);
    }
    out
}
