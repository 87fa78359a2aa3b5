//! The checkpoint codec.
//!
//! Versions 3 and 4 (`slots.rs`; this build writes 4) are a file of four slots, each a
//! whole image with its own header, sequence number and checksum, so a save overwrites one
//! slot in place and a reader takes the newest intact one. Versions 1 and 2, still read,
//! are one image: a fixed header, then a postcard body.
//!
//! ```text
//! versions 1 and 2
//! offset  size  field
//!      0     8  magic            89 4F 53 53 43 4B 50 54  ("\x89OSSCKPT")
//!      8     2  format version   u16 little-endian, 1 or 2
//!     10     2  reserved         0
//!     12     4  body length      u32 little-endian, at most MAX_BODY_LEN
//!     16     8  checksum         CRC-64/XZ of bytes 0..16 followed by the body, u64 LE
//!     24     …  body             postcard, one frozen struct per format version
//! ```
//!
//! Version 1 (`v1.rs`) is the first frozen body; version 2 (`v2.rs`) is version 1's body
//! followed by the temp data file's birth time; version 3 keeps version 2's body and puts
//! it in slots; version 4 (`v4.rs`) is version 3 with the object's byte window after the
//! body, so a checkpoint of a byte range (`ossget --range`) is never mistaken for one of the
//! whole object or of another range. Every version ever written stays readable, and a
//! version 1 to 3 checkpoint reads as a whole-object download.
//!
//! Every version starts with the magic and the version at the same offsets, and a reader
//! checks integrity before it trusts the version: a flipped version bit reads as
//! corruption, and only an intact file from a newer writer reads as
//! [`CkptError::NewerFormat`].
//!
//! Why CRC-64 rather than a cryptographic hash: the check guards against torn writes,
//! truncation and bit rot, not against an attacker (who could rewrite the data file as
//! easily); it is fast enough for a save every few milliseconds and comes from oss-crc,
//! which this crate needs anyway. `docs/checkpoint-format.md` gives what it detects and
//! what it costs.

mod path_bytes;
pub(crate) mod slots;
#[cfg(test)]
mod tests;
mod v1;
mod v2;
mod v4;

use oss_crc::Crc64;
use serde::Deserialize;

use crate::error::{CkptError, Corruption};
use crate::model::Checkpoint;
use v1::BodyV1;
use v2::BodyV2;

/// The first 8 bytes of every checkpoint. The high first byte catches 7-bit mangling and
/// text files.
pub const MAGIC: [u8; 8] = *b"\x89OSSCKPT";

/// The format version this build writes (and the newest it reads; it reads every older
/// one too).
pub const FORMAT_VERSION: u16 = slots::VERSION;

/// The header length of the single-image versions 1 and 2, in bytes.
pub const HEADER_LEN: usize = 24;

pub use slots::{SLOT_COUNT, SLOT_HEADER_LEN};

/// The longest body any checkpoint can have: two done sets at their largest (~2 MiB
/// each), 2 × [`crate::MAX_IN_FLIGHT`] in-flight parts, and the text fields, rounded up.
/// A header declaring more is corrupt, and nothing is allocated for it.
pub const MAX_BODY_LEN: usize = 8 << 20;

/// The longest checkpoint file: four slots, each room for twice the largest image.
pub const MAX_FILE_LEN: u64 = SLOT_COUNT * 2 * (SLOT_HEADER_LEN + MAX_BODY_LEN + 4096) as u64;

/// Encodes `ckpt` as a whole new checkpoint file: four slots, the image in the first with
/// sequence 1, the others zero (what [`crate::fs::CheckpointFile`] writes on its first save).
///
/// Fails with [`CkptError::Invalid`] if the checkpoint breaks a rule the format relies on
/// (a snapshot for another plan, an oversized text field, a path the platform cannot
/// store).
///
/// See [`crate::Checkpoint`] for an example.
pub fn encode(ckpt: &Checkpoint) -> Result<Vec<u8>, CkptError> {
    let mut out = Vec::new();
    encode_into(ckpt, &mut out)?;
    Ok(out)
}

/// Encodes `ckpt` into `out`, replacing its contents and reusing its capacity (a saver
/// that runs every few milliseconds keeps one buffer).
///
/// ```
/// # use oss_ckpt::*;
/// # use oss_parts::{Plan, PartSize};
/// # let object = ObjectIdentity { endpoint_host: "h".into(), bucket: "b".into(),
/// #     key: "k".into(), version_id: None, etag: "e".into(), size: 10,
/// #     last_modified: "m".into(), crc64: None };
/// # let local = LocalFiles { destination: "d".into(), temp_path: "t".into(),
/// #     temp_file: FileIdentity { device: 1, file_id: 2, len: 10, created: None } };
/// let ckpt = Checkpoint::new(object, Plan::new(10, PartSize::new(5)?)?, local, None)?;
/// let mut buffer = Vec::new();
/// encode_into(&ckpt, &mut buffer)?;
/// assert_eq!(decode(&buffer)?, ckpt);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_into(ckpt: &Checkpoint, out: &mut Vec<u8>) -> Result<(), CkptError> {
    slots::encode_file(ckpt, out)
}

/// Decodes a checkpoint, or says precisely why the bytes are not one this build can use:
/// [`CkptError::Corrupt`] (with the [`Corruption`]) or [`CkptError::NewerFormat`].
///
/// Never panics, whatever the bytes; allocates nothing before the header, the length and
/// the checksum have been checked, and bounds every decoded length by the plan.
///
/// ```
/// use oss_ckpt::{CkptError, Corruption};
///
/// // The magic, then zeros: slot 0's checksum does not match, no slot is intact.
/// let mut bytes = b"\x89OSSCKPT".to_vec();
/// bytes.resize(4 * 4096, 0);
/// assert!(matches!(
///     oss_ckpt::decode(&bytes),
///     Err(CkptError::Corrupt(Corruption::Checksum { .. }))
/// ));
/// ```
pub fn decode(bytes: &[u8]) -> Result<Checkpoint, CkptError> {
    let single_image =
        bytes.get(..8) == Some(&MAGIC[..]) && matches!(bytes.get(8..10), Some([1 | 2, 0]));
    if !single_image {
        return slots::decode(bytes);
    }
    match decode_single(bytes) {
        // Slot 0 of a version 3 file whose version bits were flipped to 1 or 2 (its
        // checksum fails): the other slots may still be intact.
        Err(err @ CkptError::Corrupt(_)) => slots::decode(bytes).map_err(|_| err),
        other => other,
    }
}

/// Whether bytes that do not decode could still be a checkpoint that was damaged — rather
/// than some other file at a checkpoint's path, which is not ours to discard. A damaged
/// checkpoint is empty or all zeros (a power cut took its blocks), a truncated one starts
/// with (a prefix of) the magic, a torn one keeps the magic of its other slots, and a
/// flipped bit can touch the first slot's magic (then it is one bit away from it). Anything
/// else never was a checkpoint.
pub(crate) fn could_be_ours(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(MAGIC.len())];
    let bits_off: u32 = head
        .iter()
        .zip(MAGIC)
        .map(|(a, b)| (a ^ b).count_ones())
        .sum();
    bytes.iter().all(|b| *b == 0) || bits_off <= 2 || bytes.windows(MAGIC.len()).any(|w| w == MAGIC)
}

/// Decodes a version 1 or 2 file: one header, one body, nothing after it.
fn decode_single(bytes: &[u8]) -> Result<Checkpoint, CkptError> {
    let corrupt = CkptError::Corrupt;
    let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(corrupt(Corruption::TooShort { len: bytes.len() }));
    };
    let field = |at: usize| -> [u8; 8] {
        let mut value = [0u8; 8];
        value.copy_from_slice(&header[at..at + 8]);
        value
    };
    if field(0) != MAGIC {
        return Err(corrupt(Corruption::BadMagic));
    }
    let version = u16::from_le_bytes([header[8], header[9]]);
    let reserved = u16::from_le_bytes([header[10], header[11]]);
    let body_len = u64::from(u32::from_le_bytes([
        header[12], header[13], header[14], header[15],
    ]));
    let stored = u64::from_le_bytes(field(16));

    if body_len > MAX_BODY_LEN as u64 {
        return Err(corrupt(Corruption::BodyTooLarge { len: body_len }));
    }
    let expected = HEADER_LEN as u64 + body_len;
    let actual = bytes.len() as u64;
    if actual < expected {
        return Err(corrupt(Corruption::Truncated { expected, actual }));
    }
    if actual > expected {
        return Err(corrupt(Corruption::TrailingBytes { expected, actual }));
    }
    let computed = checksum(&header[..16], body);
    if computed != stored {
        return Err(corrupt(Corruption::Checksum { stored, computed }));
    }
    if reserved != 0 {
        return Err(corrupt(Corruption::ReservedNotZero));
    }
    match version {
        1 => take_body::<BodyV1<'_>>(body)
            .and_then(BodyV1::into_checkpoint)
            .map_err(corrupt),
        2 => take_body::<BodyV2<'_>>(body)
            .and_then(BodyV2::into_checkpoint)
            .map_err(corrupt),
        // Only versions 1 and 2 come here (see `decode`).
        _ => Err(corrupt(Corruption::UnknownVersion)),
    }
}

/// Decodes a whole body as `T`: bytes left after its last field are corruption.
pub(crate) fn take_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Corruption> {
    let (parsed, rest) =
        postcard::take_from_bytes::<T>(body).map_err(|e| Corruption::Undecodable {
            detail: e.to_string(),
        })?;
    if !rest.is_empty() {
        return Err(Corruption::Undecodable {
            detail: format!("{} bytes after the body's last field", rest.len()),
        });
    }
    Ok(parsed)
}

/// CRC-64/XZ of a header's checksummed bytes (the first 16 of a version 1 or 2 header, the
/// first 32 of a slot's) followed by the body.
pub(crate) fn checksum(header: &[u8], body: &[u8]) -> u64 {
    let mut crc = Crc64::new();
    crc.update(header);
    crc.update(body);
    crc.value()
}

/// Wraps `body` in a valid header claiming `version`: for tests of the version and body
/// checks behind an intact checksum.
#[cfg(test)]
pub(crate) fn frame(version: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    let crc = checksum(&out[..16], body);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(body);
    out
}
