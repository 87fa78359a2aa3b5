//! Cross-crate and process-level tests of the oss-resume workspace (docs/architecture.md,
//! "Testing layers": cross-crate tests live in the top-level `tests/` crate). One test binary, so the
//! workspace links one more executable, not one per file. Each module holds checks that
//! only make sense across crates:
//!
//! - [`layering`]: the dependency rules of docs/architecture.md, on `cargo metadata`;
//! - [`secrets`]: keys, STS tokens, signatures and SSE-C keys never reach errors, `Debug`,
//!   reports, checkpoints or logs — oss-sign, oss-http, oss-ckpt and oss-resume together,
//!   against the emulator; [`secrets_cli`] does the same for the `ossget` process at -vvv,
//!   and [`secrets_providers`] for every credentials provider (library and CLI);
//! - [`tls_resume`]: a resumable download over real TLS with V1 signing and rotating STS
//!   credentials, through the chaos proxy, cancelled and resumed to a byte-exact file;
//! - [`credentials_oracle`]: the official Python credentials package obtains credentials
//!   from the emulator's STS, metadata service and credentials URI;
//! - [`listing_oracle`]: the official OSS Python SDKs list the emulator exactly as oss-http
//!   does, awkward keys and page boundaries included;
//! - [`golden`]: the fixtures are unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod credentials_oracle;
mod golden;
mod layering;
mod listing_oracle;
mod secrets;
mod secrets_cli;
mod secrets_providers;
mod support;
mod tls_resume;
