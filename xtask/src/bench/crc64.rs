//! Transitional: xtask's CRC-64/XZ now lives in `xtask/src/crc64.rs`, one module shared by
//! every task. `e2e/mod.rs` still includes this file with `#[path = "../bench/crc64.rs"]`;
//! once that line becomes `use crate::crc64;`, delete this file.

pub use crate::crc64::*;
