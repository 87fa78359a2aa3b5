//! oss-resume's crate tests: one binary, against the in-process oss-emulator (streaming
//! server, chaos proxy, wiremock front-end). Objects stay <= 8 MiB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod adapt;
mod batch;
mod checkpoint;
mod coalesce;
mod common;
mod crash;
mod edge;
mod errors;
mod faults;
mod features;
mod matrix;
mod planted;
mod range;
mod sdk_bugs;
mod stream;
mod tail;
