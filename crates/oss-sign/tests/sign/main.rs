//! oss-sign's integration tests: the official SDKs' vectors, and property tests.
//! (One test binary per crate keeps link time down.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod properties;
mod vectors;
