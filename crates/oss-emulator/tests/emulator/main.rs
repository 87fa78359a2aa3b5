//! oss-emulator's integration tests: one binary; every OSS behaviour runs on both
//! front-ends (the streaming server and wiremock) through the `both!` macro.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod auth_cases;
mod common;
mod credential_cases;
mod fault_cases;
mod frontend_cases;
mod link_cases;
mod list_cases;
mod model_cases;
mod proxy_cases;
