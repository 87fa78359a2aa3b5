//! oss-http against the OSS emulator (and its chaos proxy): one test binary, one module per
//! concern.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod addressing;
mod channel_sink;
mod chaos;
mod common;
mod errors;
mod fuzz_found;
mod hostile;
mod listing;
mod pool;
mod presigned;
mod proxy;
mod ranges;
mod refused_credentials;
mod tls;
