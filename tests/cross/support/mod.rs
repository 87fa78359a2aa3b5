//! Test infrastructure shared by the modules: scratch directories, a recording TCP relay,
//! a TRACE-level log capture, secret scanning, a TLS front for the emulator, and the Python
//! oracles' virtual environment.

pub mod capture;
pub mod needles;
pub mod py_oracle;
pub mod recorder;
pub mod scratch;
pub mod tls;
