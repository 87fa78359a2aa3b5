//! The standalone `oss-emulator` as a child process: started with a scenario's objects and
//! fault flags, read through `GET /-/stats` and anonymous HEADs, and killed (by its own pid,
//! via `Child::kill`) when the handle drops, whatever path the scenario takes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::http;
use super::json::{self, Value};
use crate::listening::Listening;

/// The bucket every scenario uses (public-read, so the harness HEADs without signing).
pub const BUCKET: &str = "e2e";
/// The credentials the emulator accepts and ossget signs with.
pub const ACCESS_KEY_ID: &str = "e2e-access-key-id";
/// See [`ACCESS_KEY_ID`].
pub const ACCESS_KEY_SECRET: &str = "e2e-access-key-secret";

/// A running emulator (its chaos proxy's endpoint is what clients talk to).
pub struct Emulator {
    process: Listening,
}

/// An object's identity as HEAD gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Content-Length.
    pub size: u64,
    /// `x-oss-hash-crc64ecma`.
    pub crc64: u64,
    /// The ETag.
    pub etag: String,
}

/// The counters e2e reads from `/-/stats`, all cumulative since the emulator started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Response body bytes the proxy wrote towards clients (`proxy.body_bytes_to_client`).
    pub relayed: u64,
    /// Response body bytes the model server wrote (`model.body_bytes_sent`).
    pub model_sent: u64,
    /// Connections the proxy accepted.
    pub connections: u64,
    /// Proxy faults fired, by kind (`cut`, `stall`, `refuse`...).
    pub proxy_faults: Vec<(String, u64)>,
    /// Error responses by OSS code.
    pub errors: Vec<(String, u64)>,
    /// Service faults fired, by name (`error:ServiceUnavailable`, `replace_object`...).
    pub model_faults: Vec<(String, u64)>,
}

impl Stats {
    /// Parses the `/-/stats` document.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let num = |keys: &[&str]| {
            v.at(keys)
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("/-/stats has no {}", keys.join(".")))
        };
        let map = |keys: &[&str]| -> Vec<(String, u64)> {
            v.at(keys)
                .map(Value::members)
                .unwrap_or_default()
                .iter()
                .filter_map(|(k, n)| Some((k.clone(), n.as_u64()?)))
                .collect()
        };
        Ok(Self {
            relayed: num(&["proxy", "body_bytes_to_client"])?,
            model_sent: num(&["model", "body_bytes_sent"])?,
            connections: num(&["proxy", "connections"])?,
            proxy_faults: map(&["proxy", "faults_fired"]),
            errors: map(&["model", "errors_by_code"]),
            model_faults: map(&["model", "faults_fired"]),
        })
    }

    /// Times the proxy fault `kind` fired.
    pub fn proxy_fault(&self, kind: &str) -> u64 {
        lookup(&self.proxy_faults, kind)
    }

    /// Error responses with this OSS code.
    pub fn error(&self, code: &str) -> u64 {
        lookup(&self.errors, code)
    }

    /// Times the service fault `name` fired.
    pub fn model_fault(&self, name: &str) -> u64 {
        lookup(&self.model_faults, name)
    }
}

fn lookup(list: &[(String, u64)], key: &str) -> u64 {
    list.iter()
        .find(|(k, _)| k == key)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

/// One object the emulator serves: synthetic content of `size` bytes from `seed`.
#[derive(Debug, Clone)]
pub struct ObjectArg {
    /// The key (in [`BUCKET`]).
    pub key: String,
    /// Its size.
    pub size: u64,
    /// The content seed.
    pub seed: u64,
}

impl Emulator {
    /// Starts `bin` serving `objects` (CRC-64 on, public-read, our credentials) with the
    /// extra fault flags `faults`, and waits (up to a minute) for its `listening on` line.
    pub fn start(bin: &Path, objects: &[ObjectArg], faults: &[String]) -> Result<Self, String> {
        let mut cmd = Command::new(bin);
        cmd.args(["--listen", "127.0.0.1:0", "--crc64", "--public-read"])
            .args(["--access-key-id", ACCESS_KEY_ID])
            .args(["--access-key-secret", ACCESS_KEY_SECRET]);
        for o in objects {
            cmd.arg("--object")
                .arg(format!("{BUCKET}/{}={},seed={}", o.key, o.size, o.seed));
        }
        cmd.args(faults);
        Ok(Self {
            process: Listening::start(cmd)?,
        })
    }

    /// `http://127.0.0.1:PORT` (the chaos proxy).
    pub fn endpoint(&self) -> &str {
        &self.process.endpoint
    }

    /// The counters now.
    pub fn stats(&self) -> Result<Stats, String> {
        let r = http::request(&self.process.addr, "GET", "/-/stats")?;
        if r.status != 200 {
            return Err(format!("/-/stats answered {}", r.status));
        }
        let text = String::from_utf8(r.body).map_err(|_| "/-/stats is not UTF-8")?;
        Stats::from_json(&json::parse(&text)?)
    }

    /// The counters once the body bytes stop moving: a killed client's connections drain
    /// (and the proxy notices the hang-up) a moment after the client is gone. (Only the
    /// byte counters are compared: each `/-/stats` request is itself a new connection.)
    pub fn settled_stats(&self) -> Result<Stats, String> {
        let mut last = self.stats()?;
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(20));
            let now = self.stats()?;
            if (now.relayed, now.model_sent) == (last.relayed, last.model_sent) {
                return Ok(now);
            }
            last = now;
        }
        Ok(last)
    }

    /// HEAD of `key` (anonymous: the bucket is public-read). A 5xx (an injected fault) is
    /// retried a few times; note that every HEAD counts as an object request for the
    /// `--fail-every` and `--replace-after` faults.
    pub fn head(&self, key: &str) -> Result<Head, String> {
        let path = format!("/{BUCKET}/{key}");
        let mut last = String::new();
        for _ in 0..10 {
            let r = http::request(&self.process.addr, "HEAD", &path)?;
            if r.status >= 500 || r.status == 429 {
                last = format!("HEAD {path} answered {}", r.status);
                continue;
            }
            if r.status != 200 {
                return Err(format!("HEAD {path} answered {}", r.status));
            }
            let num = |name: &str| {
                r.header(name)
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or_else(|| format!("HEAD {path} gave no {name}"))
            };
            return Ok(Head {
                size: num("content-length")?,
                crc64: num("x-oss-hash-crc64ecma")?,
                etag: r.header("etag").unwrap_or_default().to_string(),
            });
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_from_the_emulators_document() {
        let v = json::parse(
            r#"{"model":{"body_bytes_sent":10,"errors_by_code":{"ServiceUnavailable":4},
                "faults_fired":{"error:ServiceUnavailable":4},"ranges_served":3,"requests":9},
               "proxy":{"body_bytes_to_client":12,"connections":5,
                "faults_fired":{"cut":2},"fault_log":[]}}"#,
        )
        .unwrap();
        let s = Stats::from_json(&v).unwrap();
        assert_eq!((s.relayed, s.model_sent, s.connections), (12, 10, 5));
        assert_eq!(s.proxy_fault("cut"), 2);
        assert_eq!(s.proxy_fault("stall"), 0);
        assert_eq!(s.error("ServiceUnavailable"), 4);
        assert_eq!(s.model_fault("error:ServiceUnavailable"), 4);
        assert!(Stats::from_json(&json::parse(r#"{"model":{}}"#).unwrap()).is_err());
    }
}
