//! CRC-64/XZ — what OSS calls `crc64ecma` and sends as `x-oss-hash-crc64ecma` — for the
//! whole workspace.
//!
//! - [`Crc64`]: a streaming digest (SIMD through [`crc64fast`]) that can also *resume* from a
//!   CRC recorded earlier, so a download can continue a part's running CRC after a restart.
//! - [`combine`] and [`shift`]: the algebra that makes CRCs of pieces composable.
//! - [`CrcFold`]: an order-independent accumulator. Parts finish in any order; each is folded
//!   into one `u64` by its offset, and once every byte is covered, [`CrcFold::finish`] is the
//!   whole object's CRC — no CRC per part kept, no second read of the file.
//!
//! The parameters are CRC-64/XZ: the ECMA-182 polynomial, reflected, initial value and final
//! XOR all ones. Its check value (the CRC of `123456789`) is `0x995DC9BBDF1939FA`; the
//! non-reflected CRC-64/ECMA-182 (`0x6C40DF5F0B497347`) is a different function.
//!
//! ```
//! let whole = oss_crc::checksum(b"123456789");
//! assert_eq!(whole, 0x995D_C9BB_DF19_39FA);
//!
//! // Two parts, folded in reverse order, give the same answer.
//! let mut fold = oss_crc::CrcFold::new(9);
//! fold.add(4, 5, oss_crc::checksum(b"56789"))?;
//! fold.add(0, 4, oss_crc::checksum(b"1234"))?;
//! assert_eq!(fold.finish(), whole);
//! # Ok::<(), oss_crc::CrcError>(())
//! ```
//!
//! # What this crate promises
//!
//! - **OSS's CRC.** Every value is CRC-64/XZ, the function behind `x-oss-hash-crc64ecma`
//!   (`docs/oss-behaviour.md#crc64`), whichever way it was computed: in one pass, resumed
//!   from a recorded CRC, combined from pieces or folded from parts in any order.
//! - **A fold is one number.** [`CrcFold::finish`] is the object's CRC once the folded parts
//!   cover it exactly once; tracking that coverage is the caller's (it owns the set of done
//!   parts). A part reaching past the object is a [`CrcError`], and nothing is folded.
//! - No I/O, no allocation, no unsafe code, no panics.
//!
//! The items re-exported here are the whole API.

mod digest;
mod error;
mod fold;
mod gf2;

pub use digest::{Crc64, checksum};
pub use error::CrcError;
pub use fold::CrcFold;
pub use gf2::{combine, shift, zeros};
