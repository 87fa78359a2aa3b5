//! Bad checkpoints made from real ones: e2e edits the bytes of a checkpoint ossget wrote,
//! following oss-ckpt's documented header (crates/oss-ckpt/src/format/mod.rs):
//!
//! ```text
//! offset  size  field
//!      0     8  magic            "\x89OSSCKPT"
//!      8     2  format version   u16 LE
//!     10     2  reserved         0
//!     12     4  body length      u32 LE
//!     16     8  checksum         CRC-64/XZ of bytes 0..16 followed by the body, u64 LE
//! ```
//!
//! A flipped bit or a cut reads as corruption; only an intact file (checksum recomputed)
//! claiming a newer version reads as "newer format".

use super::crc64::Crc64;
use super::rng::Rng;

const MAGIC: &[u8; 8] = b"\x89OSSCKPT";
const HEADER_LEN: usize = 24;

/// Checks that `bytes` look like a checkpoint (magic, a length that matches, the checksum)
/// and returns its format version.
pub fn version(bytes: &[u8]) -> Result<u16, String> {
    let header = bytes
        .get(..HEADER_LEN)
        .ok_or_else(|| format!("{} bytes: shorter than the header", bytes.len()))?;
    if header.get(..8) != Some(&MAGIC[..]) {
        return Err("no checkpoint magic".into());
    }
    let body_len = u32::from_le_bytes([header[12], header[13], header[14], header[15]]) as usize;
    if bytes.len() != HEADER_LEN + body_len {
        return Err(format!(
            "{} bytes, but the header says {}",
            bytes.len(),
            HEADER_LEN + body_len
        ));
    }
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&header[16..24]);
    if u64::from_le_bytes(stored) != checksum(bytes) {
        return Err("checksum mismatch".into());
    }
    Ok(u16::from_le_bytes([header[8], header[9]]))
}

/// The checkpoint cut to a random shorter length (0 included).
pub fn truncated(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let keep = rng.range(0, bytes.len().saturating_sub(1) as u64) as usize;
    bytes.get(..keep).unwrap_or_default().to_vec()
}

/// The checkpoint with one random bit flipped; returns the bytes and the bit's position.
pub fn bit_flipped(bytes: &[u8], rng: &mut Rng) -> (Vec<u8>, u64) {
    let mut out = bytes.to_vec();
    if out.is_empty() {
        return (out, 0);
    }
    let bit = rng.range(0, out.len() as u64 * 8 - 1);
    if let Some(b) = out.get_mut((bit / 8) as usize) {
        *b ^= 1 << (bit % 8);
    }
    (out, bit)
}

/// The checkpoint claiming format version `current + 1`, checksum recomputed, so a reader
/// sees an intact file from a newer writer.
pub fn future_version(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let current = version(bytes)?;
    let mut out = bytes.to_vec();
    let newer = current.checked_add(1).ok_or("version at its maximum")?;
    out[8..10].copy_from_slice(&newer.to_le_bytes());
    let sum = checksum(&out);
    out[16..24].copy_from_slice(&sum.to_le_bytes());
    Ok(out)
}

/// CRC-64/XZ of the header's first 16 bytes followed by the body.
fn checksum(bytes: &[u8]) -> u64 {
    let mut crc = Crc64::new();
    crc.update(bytes.get(..16).unwrap_or_default());
    crc.update(bytes.get(HEADER_LEN..).unwrap_or_default());
    crc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-formed version-1 file around `body`, built independently of the code above
    /// except for the CRC (whose check value the crc64 module tests).
    fn sample(body: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        let mut crc = Crc64::new();
        crc.update(&out);
        crc.update(body);
        out.extend_from_slice(&crc.finish().to_le_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn reads_the_version_of_an_intact_file() {
        assert_eq!(version(&sample(b"postcard body")), Ok(1));
        assert!(version(b"short").is_err());
        let mut bad = sample(b"xyz");
        bad[0] = b'X';
        assert!(version(&bad).unwrap_err().contains("magic"));
    }

    #[test]
    fn future_version_is_intact_and_newer() {
        let file = sample(b"some body bytes");
        let newer = future_version(&file).unwrap();
        assert_eq!(version(&newer), Ok(2));
        assert_eq!(newer.len(), file.len());
        assert_eq!(&newer[24..], &file[24..]);
    }

    #[test]
    fn truncation_and_bit_flips_break_the_checksum() {
        let file = sample(&[7u8; 300]);
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let cut = truncated(&file, &mut rng);
            assert!(cut.len() < file.len());
            assert!(version(&cut).is_err());
            let (flipped, bit) = bit_flipped(&file, &mut rng);
            assert!(bit < file.len() as u64 * 8);
            assert_eq!(flipped.len(), file.len());
            let diff: u32 = flipped
                .iter()
                .zip(&file)
                .map(|(a, b)| (a ^ b).count_ones())
                .sum();
            assert_eq!(diff, 1);
            // A flipped version bit too: integrity is checked before the version.
            assert!(version(&flipped).is_err(), "bit {bit} went unnoticed");
        }
    }
}
