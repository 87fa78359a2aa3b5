//! oss-credentials against the emulator's STS, metadata service and credentials URI (one test
//! binary): each provider alone, the default chain's order and errors, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod chain;
mod common;
mod providers;
