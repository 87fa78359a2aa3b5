//! Checkpoint decoding, every format version.
//!
//! A checksum guards every image, so random bytes almost never get past it; each input is
//! therefore decoded five ways: as a whole file (magic, versions, slots, the checksum
//! itself), and as a *body* sealed with a valid checksum in a version 1 image, a version 2
//! image, and one slot of a version 3 and of a version 4 file — so the postcard body and the
//! checks behind an intact checksum are fuzzed too.
//!
//! Properties beyond "no panic":
//! - a checkpoint that decodes re-encodes, and decodes back to itself
//!   (`decode(encode(decode(x))) == decode(x)`);
//! - the versions agree: a body read as version 2 reads the same as version 3 (version 3
//!   keeps version 2's body), a version 3 body followed by "no window" reads as version 4
//!   exactly as it reads as version 3, and a version 1 body followed by "no birth time" reads
//!   as version 2 exactly as it reads as version 1.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oss_ckpt::layout::{HEADER_LEN, MAGIC, SLOT_COUNT, SLOT_HEADER_LEN};
use oss_ckpt::{Checkpoint, CkptError, decode, encode};
use oss_crc::Crc64;

fuzz_target!(|data: &[u8]| {
    let whole = decode(data);
    round_trips(&whole);

    let v1 = decode(&single_image(1, data));
    round_trips(&v1);
    let v2 = decode(&single_image(2, data));
    round_trips(&v2);
    let v3 = decode(&slotted(3, data));
    round_trips(&v3);
    assert_eq!(
        v2.as_ref().ok(),
        v3.as_ref().ok(),
        "version 2 and version 3 read the same body differently"
    );
    let v4 = decode(&slotted(4, data));
    round_trips(&v4);
    if let Ok(from_v3) = &v3 {
        // Version 4's body is version 3's and then an `Option<window>`: `0` for none.
        let body_v4 = [data, &[0]].concat();
        let as_v4 = decode(&slotted(4, &body_v4));
        assert_eq!(
            Some(from_v3),
            as_v4.as_ref().ok(),
            "a version 3 body with no window reads differently as version 4"
        );
    }
    if let Ok(from_v1) = &v1 {
        // Version 2's body is version 1's and then an `Option<u64>`: `0` for none.
        let body_v2 = [data, &[0]].concat();
        let as_v2 = decode(&single_image(2, &body_v2));
        assert_eq!(
            Some(from_v1),
            as_v2.as_ref().ok(),
            "a version 1 body with no birth time reads differently as version 2"
        );
    }
});

/// A decoded checkpoint re-encodes (the decoder accepts nothing the encoder refuses), and the
/// re-encoded file decodes to the same checkpoint.
fn round_trips(decoded: &Result<Checkpoint, CkptError>) {
    let Ok(ckpt) = decoded else { return };
    let bytes = match encode(ckpt) {
        Ok(bytes) => bytes,
        Err(e) => panic!("a decoded checkpoint does not re-encode: {e}"),
    };
    match decode(&bytes) {
        Ok(again) => assert_eq!(&again, ckpt, "decode(encode(c)) != c"),
        Err(e) => panic!("a re-encoded checkpoint does not decode: {e}"),
    }
}

/// `body` in a version 1 or 2 image: magic, version, reserved, length, checksum, body.
fn single_image(version: u16, body: &[u8]) -> Vec<u8> {
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

/// `body` in one slot of a version 3 or 4 file (the slot chosen by the body's length,
/// sequence 1); the other slots zero, as a first save leaves them.
fn slotted(version: u16, body: &[u8]) -> Vec<u8> {
    let slot_len = (SLOT_HEADER_LEN + body.len()).div_ceil(4096) * 4096;
    let mut header = Vec::with_capacity(SLOT_HEADER_LEN);
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(&version.to_le_bytes());
    header.extend_from_slice(&[0, 0]);
    header.extend_from_slice(&(body.len() as u32).to_le_bytes());
    header.extend_from_slice(&1u64.to_le_bytes());
    header.extend_from_slice(&(slot_len as u32).to_le_bytes());
    header.extend_from_slice(&[0, 0, 0, 0]);
    let crc = checksum(&header, body);
    header.extend_from_slice(&crc.to_le_bytes());

    let mut file = vec![0u8; slot_len * SLOT_COUNT as usize];
    let at = (body.len() % SLOT_COUNT as usize) * slot_len;
    file[at..at + SLOT_HEADER_LEN].copy_from_slice(&header);
    file[at + SLOT_HEADER_LEN..at + SLOT_HEADER_LEN + body.len()].copy_from_slice(body);
    file
}

fn checksum(header: &[u8], body: &[u8]) -> u64 {
    let mut crc = Crc64::new();
    crc.update(header);
    crc.update(body);
    crc.value()
}
