//! The standalone `oss-emulator`, as demo and e2e run it: a child process serving synthetic
//! objects in one public-read bucket (CRC-64 on, our credentials) with the fault flags a
//! task asks for, read through `GET /-/stats` and anonymous HEADs, and killed (by its own
//! pid, via `Child::kill`) when the handle drops, whatever path the task takes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use crate::http;
use crate::listening::Listening;

/// What to start: the bucket and the credentials the emulator accepts, the objects it
/// serves, and extra flags (faults: `--cut-every-connection-after 96MiB`, ...).
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    /// The one bucket (public-read, so HEADs need no signature; clients still sign).
    pub bucket: &'a str,
    /// The AccessKeyId the emulator accepts.
    pub access_key_id: &'a str,
    /// Its secret.
    pub access_key_secret: &'a str,
    /// The objects in the bucket.
    pub objects: &'a [ObjectArg],
    /// Extra command-line flags, passed as they are.
    pub flags: &'a [String],
}

/// One object the emulator serves: synthetic content of `size` bytes from `seed`.
#[derive(Debug, Clone)]
pub struct ObjectArg {
    /// The key (in the bucket of the [`Setup`]).
    pub key: String,
    /// Its size.
    pub size: u64,
    /// The content seed.
    pub seed: u64,
}

/// A running emulator (its chaos proxy's endpoint is what clients talk to).
pub struct Emulator {
    process: Listening,
    bucket: String,
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

/// The counters demo and e2e read from `/-/stats`, all cumulative since the emulator
/// started (subtract with [`Stats::since`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Response body bytes the proxy wrote towards clients (`proxy.body_bytes_to_client`).
    pub relayed: u64,
    /// Response body bytes the model server wrote (`model.body_bytes_sent`).
    pub model_sent: u64,
    /// Connections the proxy accepted.
    pub connections: u64,
    /// Proxy faults fired, by kind (`cut`, `stall`, `refuse`...).
    pub proxy_faults: BTreeMap<String, u64>,
    /// Error responses by OSS code.
    pub errors: BTreeMap<String, u64>,
    /// Service faults fired, by name (`error:ServiceUnavailable`, `replace_object`...).
    pub model_faults: BTreeMap<String, u64>,
    /// Temporary credentials the credential services issued (`credentials.issued`; 0
    /// when none is enabled).
    pub credentials_issued: u64,
}

/// The parts of the `/-/stats` document [`Stats`] is read from (the emulator prints more).
#[derive(Deserialize)]
struct StatsDocument {
    model: ModelSection,
    proxy: ProxySection,
    #[serde(default)]
    credentials: Option<CredentialsSection>,
}

#[derive(Deserialize)]
struct CredentialsSection {
    issued: u64,
}

#[derive(Deserialize)]
struct ModelSection {
    body_bytes_sent: u64,
    #[serde(default)]
    errors_by_code: BTreeMap<String, u64>,
    #[serde(default)]
    faults_fired: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct ProxySection {
    body_bytes_to_client: u64,
    connections: u64,
    #[serde(default)]
    faults_fired: BTreeMap<String, u64>,
}

impl Stats {
    /// Parses the `/-/stats` document.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let doc: StatsDocument =
            serde_json::from_str(text).map_err(|e| format!("/-/stats: {e}"))?;
        Ok(Self {
            relayed: doc.proxy.body_bytes_to_client,
            model_sent: doc.model.body_bytes_sent,
            connections: doc.proxy.connections,
            proxy_faults: doc.proxy.faults_fired,
            errors: doc.model.errors_by_code,
            model_faults: doc.model.faults_fired,
            credentials_issued: doc.credentials.map_or(0, |c| c.issued),
        })
    }

    /// What happened between `earlier` and `self` (saturating: never negative).
    pub fn since(&self, earlier: &Stats) -> Stats {
        let minus = |now: &BTreeMap<String, u64>, then: &BTreeMap<String, u64>| {
            now.iter()
                .map(|(k, n)| (k.clone(), n.saturating_sub(lookup(then, k))))
                .collect()
        };
        Stats {
            relayed: self.relayed.saturating_sub(earlier.relayed),
            model_sent: self.model_sent.saturating_sub(earlier.model_sent),
            connections: self.connections.saturating_sub(earlier.connections),
            proxy_faults: minus(&self.proxy_faults, &earlier.proxy_faults),
            errors: minus(&self.errors, &earlier.errors),
            model_faults: minus(&self.model_faults, &earlier.model_faults),
            credentials_issued: self
                .credentials_issued
                .saturating_sub(earlier.credentials_issued),
        }
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

fn lookup(map: &BTreeMap<String, u64>, key: &str) -> u64 {
    map.get(key).copied().unwrap_or(0)
}

impl Emulator {
    /// Starts `bin` as `setup` says (listening on a free loopback port) and waits (up to a
    /// minute) for its `listening on` line.
    pub fn start(bin: &Path, setup: &Setup<'_>) -> Result<Self, String> {
        let mut cmd = Command::new(bin);
        cmd.args(["--listen", "127.0.0.1:0", "--crc64", "--public-read"])
            .args(["--access-key-id", setup.access_key_id])
            .args(["--access-key-secret", setup.access_key_secret]);
        for o in setup.objects {
            cmd.arg("--object").arg(format!(
                "{}/{}={},seed={}",
                setup.bucket, o.key, o.size, o.seed
            ));
        }
        cmd.args(setup.flags);
        Ok(Self {
            process: Listening::start(cmd)?,
            bucket: setup.bucket.to_string(),
        })
    }

    /// `http://127.0.0.1:PORT` (the chaos proxy).
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
        Stats::from_json(&text)
    }

    /// The counters once the body bytes stop moving: a finished or killed client's
    /// connections drain (and the proxy notices the hang-up) a moment after the client is
    /// gone. (Only the byte counters are compared: each `/-/stats` request is itself a new
    /// connection.) Gives up, returning the latest, after about two seconds of movement.
    pub fn settled_stats(&self) -> Result<Stats, String> {
        let mut last = self.stats()?;
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(40));
            let now = self.stats()?;
            if (now.relayed, now.model_sent) == (last.relayed, last.model_sent) {
                return Ok(now);
            }
            last = now;
        }
        Ok(last)
    }

    /// HEAD of `key` (anonymous: the bucket is public-read). A 5xx or 429 (an injected
    /// fault) is retried a few times; note that every HEAD counts as an object request for
    /// the `--fail-every` and `--replace-after` faults.
    pub fn head(&self, key: &str) -> Result<Head, String> {
        let path = format!("/{}/{key}", self.bucket);
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

    const DOCUMENT: &str = r#"{"model":{"body_bytes_sent":10,"errors_by_code":{"ServiceUnavailable":4},
        "faults_fired":{"error:ServiceUnavailable":4},"ranges_served":3,"requests":9},
       "proxy":{"body_bytes_to_client":12,"connections":5,
        "faults_fired":{"cut":2},"fault_log":[]}}"#;

    #[test]
    fn stats_from_the_emulators_document() {
        let s = Stats::from_json(DOCUMENT).unwrap();
        assert_eq!((s.relayed, s.model_sent, s.connections), (12, 10, 5));
        assert_eq!(s.proxy_fault("cut"), 2);
        assert_eq!(s.proxy_fault("stall"), 0);
        assert_eq!(s.error("ServiceUnavailable"), 4);
        assert_eq!(s.model_fault("error:ServiceUnavailable"), 4);
        assert!(Stats::from_json(r#"{"model":{}}"#).is_err());
    }

    #[test]
    fn since_subtracts_every_counter() {
        let later = Stats::from_json(DOCUMENT).unwrap();
        let mut earlier = later.clone();
        earlier.relayed = 2;
        earlier.proxy_faults.insert("cut".into(), 1);
        earlier.errors.clear();
        let d = later.since(&earlier);
        assert_eq!((d.relayed, d.model_sent, d.connections), (10, 0, 0));
        assert_eq!(d.proxy_fault("cut"), 1);
        assert_eq!(d.error("ServiceUnavailable"), 4);
        assert_eq!(earlier.since(&later).relayed, 0);
    }
}
