//! Cross-crate and process-level tests of the oss-resume workspace (DESIGN, "Testing":
//! cross-crate tests live in the top-level `tests/` crate). One test binary, so the
//! workspace links one more executable, not one per file. Each module holds checks that
//! only make sense across crates:
//!
//! - [`layering`]: the design card's dependency rules, on `cargo metadata`;
//! - [`golden`]: the fixtures are unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod golden;
mod layering;
