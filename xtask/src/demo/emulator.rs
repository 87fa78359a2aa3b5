//! The standalone `oss-emulator`, started as a child process and stopped (by its pid, via
//! `Child::kill`) when the handle drops, whatever path the demo takes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::http;
use super::json::{self, Value};
use crate::listening::Listening;

/// A running emulator.
pub struct Emulator {
    process: Listening,
}

/// The counters the demo reports, from `/-/stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Response body bytes the proxy relayed to clients.
    pub served: u64,
    /// Connections the proxy cut.
    pub cuts: u64,
    /// Ranged (206) responses.
    pub ranges: u64,
}

impl Stats {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: Stats) -> Stats {
        Stats {
            served: self.served.saturating_sub(earlier.served),
            cuts: self.cuts.saturating_sub(earlier.cuts),
            ranges: self.ranges.saturating_sub(earlier.ranges),
        }
    }
}

impl Emulator {
    /// Starts `bin ARGS` and waits (up to a minute) for its `listening on URL` line.
    pub fn start(bin: &Path, args: &[String]) -> Result<Self, String> {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        Ok(Self {
            process: Listening::start(cmd)?,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.process.endpoint
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The counters now.
    pub fn stats(&self) -> Result<Stats, String> {
        let r = http::request(&self.process.addr, "GET", "/-/stats")?;
        if r.status != 200 {
            return Err(format!("/-/stats answered {}", r.status));
        }
        let text = String::from_utf8(r.body).map_err(|_| "/-/stats is not UTF-8")?;
        let v = json::parse(&text)?;
        let num = |keys: &[&str]| v.at(keys).and_then(Value::as_u64);
        Ok(Stats {
            served: num(&["proxy", "body_bytes_to_client"])
                .ok_or("/-/stats has no proxy.body_bytes_to_client")?,
            cuts: num(&["proxy", "faults_fired", "cut"]).unwrap_or(0),
            ranges: num(&["model", "ranges_served"]).unwrap_or(0),
        })
    }

    /// The counters once they have stopped moving (connections of a finished client can
    /// still be draining for a moment).
    pub fn settled_stats(&self) -> Result<Stats, String> {
        let mut last = self.stats()?;
        for _ in 0..100 {
            std::thread::sleep(Duration::from_millis(100));
            let now = self.stats()?;
            if now == last {
                return Ok(now);
            }
            last = now;
        }
        Ok(last)
    }

    /// `x-oss-hash-crc64ecma` and `content-length` of an object, by an anonymous HEAD
    /// (the demo's bucket is public-read, so this needs no signature).
    pub fn head_crc64(&self, bucket: &str, key: &str) -> Result<(u64, u64), String> {
        let r = http::request(&self.process.addr, "HEAD", &format!("/{bucket}/{key}"))?;
        if r.status != 200 {
            return Err(format!("HEAD /{bucket}/{key} answered {}", r.status));
        }
        let crc = r
            .header("x-oss-hash-crc64ecma")
            .and_then(|v| v.parse().ok())
            .ok_or("HEAD gave no x-oss-hash-crc64ecma")?;
        let len = r
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .ok_or("HEAD gave no content-length")?;
        Ok((crc, len))
    }
}
