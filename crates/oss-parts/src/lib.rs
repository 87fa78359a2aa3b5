//! Range planning for parallel ranged downloads.
//!
//! - [`PartSize`]: a part size validated to 1 B ..= 5 GiB, with a benchmarked default.
//! - [`Plan`]: how an object splits into [`Part`]s, computed on demand from the index —
//!   three numbers whatever the object size, never a `Vec` of parts.
//! - [`ByteRange`]: the workspace's one byte-range type (first and last byte, inclusive, as
//!   HTTP writes them), its `Range` header text (`bytes=FIRST-LAST`), parsed back by
//!   [`ByteRange::parse_header`], and what is left of it after a number of bytes.
//! - [`DoneSet`]: which parts are done, at most one bit per part and a few bytes when a
//!   prefix is done, with a frozen byte encoding for checkpoints.
//! - [`parse_size`] / [`format_size`]: sizes as people write them (`8MiB`, `1.5GiB`).
//!
//! ```
//! use oss_parts::{DoneSet, Plan, PartSize};
//!
//! let plan = Plan::new(20 << 20, PartSize::DEFAULT)?; // 20 MiB in 8 MiB parts
//! let mut done = DoneSet::new(&plan);
//! done.insert(1)?;
//!
//! let todo: Vec<String> = done
//!     .missing_ranges()
//!     .flat_map(|indices| plan.parts_in(indices))
//!     .map(|part| part.byte_range().to_string())
//!     .collect();
//! assert_eq!(todo, ["bytes=0-8388607", "bytes=16777216-20971519"]);
//! # Ok::<(), oss_parts::PartsError>(())
//! ```
//!
//! # What this crate promises
//!
//! - **A plan is a function of two numbers.** The same object size and part size give the
//!   same parts on every run and every version of this crate: part `i` is
//!   `[i × part_size, min((i + 1) × part_size, size))`. A checkpoint may rely on it.
//! - **Bounded.** At most [`MAX_PARTS`] parts; a plan is three numbers and a done set at most
//!   one bit per part, whatever the object size. Out-of-range input is a [`PartsError`] that
//!   names the fix (for too many parts, the smallest part size that fits), never a panic.
//! - **A frozen encoding.** Bytes from [`DoneSet::to_bytes`] decode to the same set in every
//!   later version; [`DoneSet::from_bytes`] takes any bytes and returns a set or an error
//!   saying what is wrong, never a panic.
//! - **Pure**: no I/O, no unsafe code, and no runtime dependencies (`serde` support is behind
//!   the optional `serde` feature).
//!
//! The items re-exported here are the whole API.

mod done_codec;
mod done_set;
#[cfg(test)]
mod done_tests;
mod error;
mod human_size;
mod part_size;
mod plan;
mod range;
#[cfg(feature = "serde")]
mod serde_impls;

pub use done_set::{DoneSet, Runs};
pub use error::PartsError;
pub use human_size::{format_size, parse_size};
pub use part_size::PartSize;
pub use plan::{MAX_PARTS, Part, Parts, Plan};
pub use range::ByteRange;
