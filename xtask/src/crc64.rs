//! CRC-64/XZ (what OSS calls crc64ecma), table-driven, slicing-by-8.
//!
//! An oracle, kept on purpose: demo and e2e judge a download by this CRC against the
//! emulator's `x-oss-hash-crc64ecma`, and it shares no code with `oss-crc` (SIMD folding,
//! which ossget itself uses to verify), so a bug there cannot make a wrong file look right
//! here. (It also keeps xtask free of workspace crates.) Do not replace it with oss-crc.
//! One module for every task: the bench hashes each data file once (cached beside it),
//! the demo and e2e check downloaded files; ~1 s/GiB at xtask's opt-level 2 is plenty.
//! Parameters: poly 0x42F0E1EBA9EA3693 (reflected 0xC96C5795D7870F42), init and xorout
//! all ones, reflected in and out. Check value of `123456789`: 0x995DC9BBDF1939FA.

const POLY_REFLECTED: u64 = 0xC96C_5795_D787_0F42;

/// Eight 256-entry tables: `TABLES[k][b]` is the CRC contribution of byte `b` followed by
/// `k` zero bytes, which lets the loop fold eight input bytes per step.
static TABLES: [[u64; 256]; 8] = make_tables();

const fn make_tables() -> [[u64; 256]; 8] {
    let mut tables = [[0u64; 256]; 8];
    let mut b = 0;
    while b < 256 {
        let mut crc = b as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        tables[0][b] = crc;
        b += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut b = 0;
        while b < 256 {
            let prev = tables[k - 1][b];
            tables[k][b] = (prev >> 8) ^ tables[0][(prev & 0xFF) as usize];
            b += 1;
        }
        k += 1;
    }
    tables
}

/// A streaming CRC-64/XZ digest.
#[derive(Debug, Clone, Copy)]
pub struct Crc64 {
    /// The running register (pre-inverted, i.e. the value before `xorout`).
    state: u64,
}

impl Crc64 {
    /// A digest over no bytes yet.
    pub fn new() -> Self {
        Self { state: !0 }
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        let mut crc = self.state;
        let mut chunks = data.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let v = u64::from_le_bytes(word) ^ crc;
            let [b0, b1, b2, b3, b4, b5, b6, b7] = v.to_le_bytes();
            crc = TABLES[7][usize::from(b0)]
                ^ TABLES[6][usize::from(b1)]
                ^ TABLES[5][usize::from(b2)]
                ^ TABLES[4][usize::from(b3)]
                ^ TABLES[3][usize::from(b4)]
                ^ TABLES[2][usize::from(b5)]
                ^ TABLES[1][usize::from(b6)]
                ^ TABLES[0][usize::from(b7)];
        }
        for &byte in chunks.remainder() {
            crc = (crc >> 8) ^ TABLES[0][usize::from((crc as u8) ^ byte)];
        }
        self.state = crc;
    }

    /// The CRC of everything fed so far.
    pub fn finish(&self) -> u64 {
        !self.state
    }
}

/// Length and CRC-64/XZ of the file at `path`, read in 4 MiB pieces.
pub fn file_crc(path: &std::path::Path) -> Result<(u64, u64), String> {
    use std::io::Read as _;
    let failed = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(failed)?;
    let mut crc = Crc64::new();
    let mut buf = vec![0u8; 4 << 20];
    let mut len = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok((len, crc.finish())),
            Ok(n) => {
                crc.update(buf.get(..n).unwrap_or_default());
                len += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(failed(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Crc64;

    fn crc(data: &[u8]) -> u64 {
        let mut c = Crc64::new();
        c.update(data);
        c.finish()
    }

    #[test]
    fn check_value() {
        assert_eq!(crc(b"123456789"), 0x995D_C9BB_DF19_39FA);
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(crc(b""), 0);
    }

    #[test]
    fn streaming_in_odd_pieces_matches_one_shot() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 + 7) as u8).collect();
        let whole = crc(&data);
        for split in [1, 3, 7, 8, 9, 500, 999] {
            let mut c = Crc64::new();
            let (a, b) = data.split_at(split);
            c.update(a);
            c.update(b);
            assert_eq!(c.finish(), whole, "split at {split}");
        }
    }

    #[test]
    fn slicing_matches_bytewise_reference() {
        // Bit-at-a-time definition, independent of the tables.
        fn reference(data: &[u8]) -> u64 {
            let mut crc = !0u64;
            for &b in data {
                crc ^= u64::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ super::POLY_REFLECTED
                    } else {
                        crc >> 1
                    };
                }
            }
            !crc
        }
        let data: Vec<u8> = (0..257u32).map(|i| (i * 131 + 17) as u8).collect();
        for len in [0, 1, 8, 15, 16, 17, 64, 257] {
            assert_eq!(crc(&data[..len]), reference(&data[..len]), "len {len}");
        }
    }
}
