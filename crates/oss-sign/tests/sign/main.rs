//! oss-sign's integration tests: the official SDKs' vectors, and property tests.
//! (One test binary per crate keeps link time down.) The verification tests need the
//! `verify` feature: `cargo test -p oss-sign --features verify`, or the workspace's
//! `cargo test`, where the emulator turns it on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod properties;
mod rpc_vectors;
mod vectors;
