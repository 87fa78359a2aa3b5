//! Entry points for the fuzz targets in `fuzz/` (`cargo xtask fuzz`): the chaos proxy's and
//! the streaming server's HTTP/1.1 framer, which is otherwise internal. (A request's way
//! through the model needs nothing more: [`crate::RequestParts::from_http`] and
//! [`crate::Emulator::handle`] are public.)
//!
//! Not part of the API: hidden from the docs, and compiled with the crate so it cannot drift
//! from the code it exposes.

pub use crate::framing::{Framer, Head, Side, Span};
