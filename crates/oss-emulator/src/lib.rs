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
//! resets, and a [`LinkModel`] of a real path: round trips, rate caps, stragglers,
//! throttling answers) and [`ServiceFault`] scripted service faults (errors, throttling, delays, objects
//! changing between requests, wrong answers to ranges).
//!
//! Around OSS, the credential services that issue temporary credentials (`services`): STS
//! (`AssumeRole` with its RPC signature verified, `AssumeRoleWithOIDC`), the ECS instance
//! metadata service in hardened mode, and a credentials URI ([`Emulator::enable_sts`],
//! [`Emulator::enable_imds`], [`Emulator::enable_credentials_uri`]); the OSS front-end
//! accepts what they issue until it expires ([`Emulator::set_credential_lifetime`]).
//!
//! Signatures (V1, V4, presigned, STS) are verified with `oss-sign`'s verification API, so a
//! `SignatureDoesNotMatch` carries OSS's `StringToSign`; the tests also replay the official
//! SDKs' signing vectors against it.
//!
//! How OSS answers a downloader is specified in `docs/oss-behaviour.md`, the emulator's
//! specification; where it marks a behaviour unknown, the code says which behaviour it
//! picked and tags the spot `(I)` (inferred: not observed on OSS).
//!
//! ```no_run
//! # async fn demo() -> Result<(), oss_emulator::EmulatorError> {
//! use oss_emulator::{BucketSpec, Credentials, Emulator, ObjectSpec};
//! let emu = Emulator::new();
//! emu.add_credentials(Credentials::new("AKID", "SECRET"));
//! emu.add_bucket(BucketSpec::new("bkt"))?;
//! emu.put_object("bkt", "big.bin", ObjectSpec::synthetic(8 << 20, 7))?;
//! let server = emu.start_server().await?; // path style: http://127.0.0.1:PORT/bkt/big.bin
//! // ... a client downloads from server.endpoint() ...
//! println!("{} ranged responses", emu.counters().ranges_served);
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
mod clock;
mod conditional;
pub mod connect_proxy;
mod content;
mod counters;
mod error;
mod faults;
mod framing;
#[doc(hidden)]
pub mod fuzzing;
mod handler;
mod keyspace;
mod model;
mod object;
mod oss_error;
mod pattern;
pub mod proxy;
mod range;
mod request;
mod response;
pub mod server;
mod services;
pub mod wiremock_front;

pub use auth::Credentials;
pub use clock::Clock;
pub use connect_proxy::{ConnectPolicy, ConnectProxy, ConnectRecord};
pub use content::{Content, fill_synthetic, synthetic_bytes, synthetic_word};
pub use counters::{CounterSnapshot, REQUEST_LOG_LEN, RequestRecord};
pub use error::EmulatorError;
pub use faults::{FaultAction, FaultId, ServiceFault};
pub use model::{Acl, BucketSpec, Emulator, ObjectInfo, Versioning};
pub use object::{AUTO_CRC_LIMIT, CrcMode, ObjectSpec, ObjectType, Restore, StorageClass};
pub use oss_error::OssError;
pub use pattern::ObjectPattern;
pub use proxy::{ChaosProxy, CutMode, FiredFault, LinkModel, NetFault, ProxyStats, Straggler};
pub use request::RequestParts;
pub use response::{BodyChunks, CHUNK_SIZE, ModelResponse, ResponseBody};
pub use server::RunningServer;
pub use services::{
    CredentialFault, CredentialService, ImdsSettings, IssuedCredentials, MAX_SERVICE_BODY,
    OidcTrust, StsSettings,
};
pub use wiremock_front::{EmulatorResponder, WiremockEmulator};
