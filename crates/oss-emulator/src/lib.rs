//! An Alibaba Cloud OSS emulator for tests — dev/test only; no library crate may depend
//! on it.
//!
//! One model ([`Emulator`]: buckets, objects, versions, credentials, clock, faults,
//! counters) behind two front-ends:
//! - [`wiremock_front`]: a wiremock [`wiremock::Respond`] over the model, for crate tests that
//!   want wiremock's request expectations and recorded requests;
//! - [`server`]: a small streaming hyper 1 server (bodies generated and sent in chunks, so a
//!   100 GiB synthetic object costs no memory), over TCP, a caller's TLS acceptor, or any
//!   stream.
//!
//! [`proxy`] adds an HTTP-aware chaos proxy (cuts at exact body offsets, stalls, throttling,
//! resets) and [`ServiceFault`] scripted service faults (errors, throttling, delays, objects
//! changing between requests, wrong answers to ranges).
//!
//! How OSS answers is specified in the project's `reference/oss-api-facts.md`; where that
//! sheet marks a behaviour unknown, the code says which RFC behaviour it picked.

mod auth;
mod clock;
mod conditional;
mod content;
mod counters;
mod error;
mod faults;
mod framing;
mod handler;
mod model;
mod object;
mod oss_error;
pub mod proxy;
mod range;
mod request;
mod response;
pub mod server;
mod size;
pub mod wiremock_front;

pub use auth::Credentials;
pub use clock::Clock;
pub use content::{Content, fill_synthetic, synthetic_bytes, synthetic_word};
pub use counters::CounterSnapshot;
pub use error::EmulatorError;
pub use faults::{FaultAction, FaultId, ServiceFault};
pub use model::{Acl, BucketSpec, Emulator, ObjectInfo, Versioning};
pub use object::{AUTO_CRC_LIMIT, CrcMode, ObjectSpec, ObjectType, Restore, StorageClass};
pub use oss_error::OssError;
pub use proxy::{ChaosProxy, CutMode, FiredFault, NetFault, ProxyStats};
pub use request::RequestParts;
pub use response::{BodyChunks, CHUNK_SIZE, ModelResponse, ResponseBody};
pub use server::RunningServer;
pub use size::parse_size;
pub use wiremock_front::{EmulatorResponder, WiremockEmulator};
