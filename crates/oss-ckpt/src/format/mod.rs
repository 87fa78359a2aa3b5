//! The checkpoint codec: a fixed header, then a postcard body.
//!
//! ```text
//! offset  size  field
//!      0     8  magic            89 4F 53 53 43 4B 50 54  ("\x89OSSCKPT")
//!      8     2  format version   u16 little-endian (this build writes 2, reads 1 and 2)
//!     10     2  reserved         0
//!     12     4  body length      u32 little-endian, at most MAX_BODY_LEN
//!     16     8  checksum         CRC-64/XZ of bytes 0..16 followed by the body, u64 LE
//!     24     …  body             postcard, one frozen struct per format version
//! ```
//!
//! Version 1 (`v1.rs`) is the first frozen body; version 2 (`v2.rs`) is version 1's body
//! followed by the temp data file's birth time. Every version ever written stays readable.
//!
//! The header layout and its checksum are the same for every format version, so a
//! reader checks integrity before it looks at the version: a flipped version bit reads as
//! corruption, and only an intact file from a newer writer reads as
//! [`CkptError::NewerFormat`].
//!
//! Why CRC-64 rather than a cryptographic hash: the check guards against torn writes,
//! truncation and bit rot, not against an attacker (who could rewrite the data file as
//! easily). CRC-64 detects every burst of up to 64 flipped bits and any other error with
//! probability 1 - 2^-64, runs at several GiB/s (a 1.3 MB checkpoint in ~0.2 ms, inside
//! the 10 ms save budget), and comes from oss-crc, which this crate needs anyway — no
//! extra dependency.

mod path_bytes;
#[cfg(test)]
mod tests;
mod v1;
mod v2;

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
pub const FORMAT_VERSION: u16 = 2;

/// The fixed header's length in bytes.
pub const HEADER_LEN: usize = 24;

/// The longest body any checkpoint can have: two done sets at their largest (~2 MiB
/// each), 2 × [`crate::MAX_IN_FLIGHT`] in-flight parts, and the text fields, rounded up.
/// A header declaring more is corrupt, and nothing is allocated for it.
pub const MAX_BODY_LEN: usize = 8 << 20;

/// Encodes `ckpt` (header and body) into a new buffer.
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
/// assert_eq!(&buffer[..8], &MAGIC);
/// assert_eq!(decode(&buffer)?, ckpt);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_into(ckpt: &Checkpoint, out: &mut Vec<u8>) -> Result<(), CkptError> {
    let body = BodyV2::from_checkpoint(ckpt)?;
    out.clear();
    out.resize(HEADER_LEN, 0);
    let buffer = std::mem::take(out);
    *out = postcard::to_extend(&body, buffer).map_err(|e| CkptError::Invalid {
        reason: format!("postcard could not encode it: {e}"),
    })?;
    let body_len = out.len() - HEADER_LEN;
    if body_len > MAX_BODY_LEN {
        return Err(CkptError::Invalid {
            reason: format!("the body is {body_len} bytes, over the {MAX_BODY_LEN}-byte limit"),
        });
    }
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(&MAGIC);
    header[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    // 10..12 reserved, zero.
    header[12..16].copy_from_slice(&(body_len as u32).to_le_bytes());
    let checksum = checksum(&header[..16], out.get(HEADER_LEN..).unwrap_or_default());
    header[16..24].copy_from_slice(&checksum.to_le_bytes());
    if let Some(slot) = out.get_mut(..HEADER_LEN) {
        slot.copy_from_slice(&header);
    }
    Ok(())
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
/// let mut bytes = oss_ckpt::MAGIC.to_vec();
/// bytes.resize(24, 0);
/// assert!(matches!(
///     oss_ckpt::decode(&bytes),
///     Err(CkptError::Corrupt(Corruption::Checksum { .. }))
/// ));
/// ```
pub fn decode(bytes: &[u8]) -> Result<Checkpoint, CkptError> {
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
        0 => Err(corrupt(Corruption::UnknownVersion)),
        1 => take_body::<BodyV1<'_>>(body)
            .and_then(BodyV1::into_checkpoint)
            .map_err(corrupt),
        2 => take_body::<BodyV2<'_>>(body)
            .and_then(BodyV2::into_checkpoint)
            .map_err(corrupt),
        found => Err(CkptError::NewerFormat {
            found,
            supported: FORMAT_VERSION,
        }),
    }
}

/// Decodes a whole body as `T`: bytes left after its last field are corruption.
fn take_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Corruption> {
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

/// CRC-64/XZ of the header's first 16 bytes followed by the body.
fn checksum(header: &[u8], body: &[u8]) -> u64 {
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
