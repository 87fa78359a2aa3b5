//! Test infrastructure shared by the modules: scratch directories, a recording TCP relay,
//! a TRACE-level log capture, secret scanning, and a TLS front for the emulator.

pub mod capture;
pub mod needles;
pub mod recorder;
pub mod scratch;
pub mod tls;
