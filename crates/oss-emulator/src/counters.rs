//! What the model counts, for tests to read (and `/-/stats` to print).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many requests [`crate::Emulator::request_log`] keeps (the latest ones).
pub const REQUEST_LOG_LEN: usize = 10_000;

/// One request as the log keeps it: what a test asks about (which version, which range).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// The method.
    pub method: String,
    /// `bucket/key` (`bucket/` for bucket-level, empty when unresolved).
    pub resource: String,
    /// The `versionId` query parameter, when the request had one.
    pub version_id: Option<String>,
    /// The `Range` header, when the request had one.
    pub range: Option<String>,
}

/// Live counters, shared by both front-ends.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    connections: AtomicU64,
    requests: AtomicU64,
    ranges_served: AtomicU64,
    body_bytes_sent: AtomicU64,
    /// Requests the streaming server has in flight now, and the most it ever had.
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    detail: Mutex<Detail>,
    log: Mutex<VecDeque<RequestRecord>>,
}

#[derive(Debug, Default, Clone)]
struct Detail {
    by_method_key: BTreeMap<(String, String), u64>,
    by_status: BTreeMap<u16, u64>,
    by_error_code: BTreeMap<String, u64>,
    faults_fired: BTreeMap<String, u64>,
}

impl Counters {
    pub(crate) fn count_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_request(&self, method: &str, resource: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut d) = self.detail.lock() {
            *d.by_method_key
                .entry((method.to_owned(), resource.to_owned()))
                .or_default() += 1;
        }
    }

    /// Keeps `record` in the request log (the latest [`REQUEST_LOG_LEN`]).
    pub(crate) fn log_request(&self, record: RequestRecord) {
        if let Ok(mut log) = self.log.lock() {
            if log.len() >= REQUEST_LOG_LEN {
                log.pop_front();
            }
            log.push_back(record);
        }
    }

    pub(crate) fn request_log(&self) -> Vec<RequestRecord> {
        self.log
            .lock()
            .map(|log| log.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A request arrived at the streaming server; [`Counters::request_ended`] when its
    /// response body is sent or dropped.
    pub(crate) fn request_started(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
    }

    pub(crate) fn request_ended(&self) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    pub(crate) fn count_response(&self, status: u16, error_code: Option<&str>) {
        if status == 206 {
            self.ranges_served.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut d) = self.detail.lock() {
            *d.by_status.entry(status).or_default() += 1;
            if let Some(code) = error_code {
                *d.by_error_code.entry(code.to_owned()).or_default() += 1;
            }
        }
    }

    pub(crate) fn count_fault(&self, name: &str) {
        if let Ok(mut d) = self.detail.lock() {
            *d.faults_fired.entry(name.to_owned()).or_default() += 1;
        }
    }

    pub(crate) fn add_body_bytes(&self, n: u64) {
        self.body_bytes_sent.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn reset(&self) {
        self.connections.store(0, Ordering::Relaxed);
        self.requests.store(0, Ordering::Relaxed);
        self.ranges_served.store(0, Ordering::Relaxed);
        self.body_bytes_sent.store(0, Ordering::Relaxed);
        // The maximum starts again from what is in flight now.
        self.max_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
        if let Ok(mut d) = self.detail.lock() {
            *d = Detail::default();
        }
        if let Ok(mut log) = self.log.lock() {
            log.clear();
        }
    }

    pub(crate) fn snapshot(&self) -> CounterSnapshot {
        let d = self.detail.lock().map(|d| d.clone()).unwrap_or_default();
        CounterSnapshot {
            connections: self.connections.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            ranges_served: self.ranges_served.load(Ordering::Relaxed),
            body_bytes_sent: self.body_bytes_sent.load(Ordering::Relaxed),
            max_concurrent_requests: self.max_in_flight.load(Ordering::SeqCst),
            by_method_key: d.by_method_key,
            by_status: d.by_status,
            by_error_code: d.by_error_code,
            faults_fired: d.faults_fired,
        }
    }
}

/// A copy of the model's counters at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Client connections the streaming server accepted and served (the wiremock front-end
    /// does not count its own).
    pub connections: u64,
    /// Requests the model handled (`/-/stats` excluded).
    pub requests: u64,
    /// `206` responses sent.
    pub ranges_served: u64,
    /// Response body bytes written to the client's connection. The streaming server counts
    /// bytes as they leave for the socket (a client that hangs up early is not charged for
    /// the rest); the wiremock front-end, which buffers whole bodies, counts the bodies it
    /// hands to wiremock.
    pub body_bytes_sent: u64,
    /// The most requests the streaming server had in flight at once (each from its head's
    /// arrival until its response body was sent or dropped): how many connections a
    /// client really used in parallel. The wiremock front-end does not count it.
    pub max_concurrent_requests: u64,
    /// Requests by `(method, "bucket/key")` (`"bucket/"` for bucket-level, `""` unresolved).
    pub by_method_key: BTreeMap<(String, String), u64>,
    /// Responses by status code.
    pub by_status: BTreeMap<u16, u64>,
    /// Error responses by OSS error code.
    pub by_error_code: BTreeMap<String, u64>,
    /// Service faults fired, by fault name.
    pub faults_fired: BTreeMap<String, u64>,
}

impl CounterSnapshot {
    /// Requests with this method for `bucket/key`.
    pub fn requests_for(&self, method: &str, bucket: &str, key: &str) -> u64 {
        self.by_method_key
            .get(&(method.to_owned(), format!("{bucket}/{key}")))
            .copied()
            .unwrap_or(0)
    }

    /// Responses with this status.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// Error responses with this OSS code.
    pub fn errors(&self, code: &str) -> u64 {
        self.by_error_code.get(code).copied().unwrap_or(0)
    }

    /// Times the named fault fired.
    pub fn fault(&self, name: &str) -> u64 {
        self.faults_fired.get(name).copied().unwrap_or(0)
    }

    /// The counters as JSON (what `/-/stats` serves under `"model"`).
    pub fn to_json(&self) -> serde_json::Value {
        let by_key: serde_json::Map<String, serde_json::Value> = self
            .by_method_key
            .iter()
            .map(|((m, k), n)| (format!("{m} {k}"), (*n).into()))
            .collect();
        let by_status: serde_json::Map<String, serde_json::Value> = self
            .by_status
            .iter()
            .map(|(s, n)| (s.to_string(), (*n).into()))
            .collect();
        let by_code: serde_json::Map<String, serde_json::Value> = self
            .by_error_code
            .iter()
            .map(|(c, n)| (c.clone(), (*n).into()))
            .collect();
        let faults: serde_json::Map<String, serde_json::Value> = self
            .faults_fired
            .iter()
            .map(|(c, n)| (c.clone(), (*n).into()))
            .collect();
        serde_json::json!({
            "connections": self.connections,
            "requests": self.requests,
            "ranges_served": self.ranges_served,
            "body_bytes_sent": self.body_bytes_sent,
            "max_concurrent_requests": self.max_concurrent_requests,
            "requests_by_method_key": by_key,
            "responses_by_status": by_status,
            "errors_by_code": by_code,
            "faults_fired": faults,
        })
    }
}
