//! The server rate of the limited resume rounds (`--resume-rate`): a total across the N
//! connections of a run, turned into nginx's per-request `limit_rate`.
//!
//! On loopback (~1.3 GB/s) what a kill costs a tool is dominated by terms proportional to
//! the rate (bytes in flight during a commit lag, in-memory blocks, kernel queues), while
//! a tool that loses half a part per worker loses it at any rate. OSS links run at up to a
//! few hundred MB/s, so the bench measures resume waste at such a rate too.

use std::fmt::Write as _;

use crate::size::exact;

/// How long nginx pauses after each send of a limited request, milliseconds.
const TICK_MS: u64 = 10;

/// The smallest send chunk, however low the rate.
const MIN_CHUNK: u64 = 4096;

/// A total rate split evenly over N requests in flight.
///
/// nginx's `limit_rate` is per request, and every resuming row keeps N requests in flight
/// (the SDKs with N threads, aria2c with N connections, ossget with N workers), so
/// `per_request × N` is the rate the run sees in all while all N are busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// The total asked for, bytes per second (`--resume-rate`).
    pub total: u64,
    /// N: the connections every resume row runs with.
    pub connections: u32,
    /// nginx `limit_rate`, bytes per second: `total / N`, rounded down.
    pub per_request: u64,
}

impl RateLimit {
    /// Splits `total` bytes per second over `connections` requests. An error when a
    /// request would get less than 1 byte per second, since nginx reads `limit_rate 0`
    /// as no limit at all.
    pub fn split(total: u64, connections: u32) -> Result<RateLimit, String> {
        let per_request = total.checked_div(u64::from(connections)).unwrap_or(0);
        if per_request == 0 {
            return Err(format!(
                "--resume-rate {total}: below 1 byte per second for each of the {connections} \
                 connections (nginx would read limit_rate 0 as no limit)"
            ));
        }
        Ok(RateLimit {
            total,
            connections,
            per_request,
        })
    }

    /// What nginx enforces in all with N requests busy (`total` less the rounding).
    pub fn effective_total(&self) -> u64 {
        self.per_request * u64::from(self.connections)
    }

    /// nginx `sendfile_max_chunk` for the limited server: what one request sends per
    /// [`TICK_MS`] at `per_request`, rounded up so the whole-millisecond pause nginx
    /// takes after each send (`sent × 1000 / limit_rate`, truncated) is exactly the tick.
    ///
    /// nginx's limit works send by send: it sends a chunk, then pauses for that chunk's
    /// time at the rate; but once a response is all sent, the request ends without the
    /// last pause and the connection's next request starts at once. With the default
    /// chunk (2 MiB) and 8 MiB parts that is one chunk in four free: a 64 MiB/s limit
    /// measured about 88 MiB/s in the first trial. Small chunks make that error small
    /// (one chunk per part) and the flow as even as a real link's.
    pub fn send_chunk(&self) -> u64 {
        (self.per_request * TICK_MS).div_ceil(1000).max(MIN_CHUNK)
    }

    /// `64MiB/s total (nginx limit_rate 16MiB/s per request × N=4, limit_rate_after 0,
    /// sendfile_max_chunk 167773)`.
    pub fn describe(&self) -> String {
        format!(
            "{}/s total ({})",
            rate_text(self.total),
            self.nginx_settings()
        )
    }

    /// `nginx limit_rate 16MiB/s per request × N=4, limit_rate_after 0, sendfile_max_chunk
    /// 167773`: the limited server's settings as the report states them.
    pub fn nginx_settings(&self) -> String {
        format!(
            "nginx limit_rate {}/s per request × N={}, limit_rate_after 0, sendfile_max_chunk {}",
            rate_text(self.per_request),
            self.connections,
            self.send_chunk()
        )
    }
}

/// A rate's bytes as `exact` writes them when exact in KiB (`16MiB`), else in MiB with
/// two decimals (`33.33MiB`) or plain bytes below 1 KiB.
pub fn rate_text(bytes: u64) -> String {
    if bytes < 1024 || bytes.is_multiple_of(1024) {
        return exact(bytes);
    }
    let mut out = String::new();
    if bytes >= 1 << 20 {
        let _ = write!(out, "{:.2}MiB", bytes as f64 / 1048576.0);
    } else {
        let _ = write!(out, "{:.2}KiB", bytes as f64 / 1024.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_total_over_the_connections() {
        let r = RateLimit::split(64 << 20, 4).unwrap();
        assert_eq!(r.per_request, 16 << 20);
        assert_eq!(r.effective_total(), 64 << 20);
        // Rounded down: 100 MiB over 3 loses a byte in all, never exceeds the total.
        let r = RateLimit::split(100 << 20, 3).unwrap();
        assert_eq!(r.per_request, 34_952_533);
        assert_eq!(r.effective_total(), (100 << 20) - 1);
        assert_eq!(RateLimit::split(5, 1).unwrap().per_request, 5);
    }

    #[test]
    fn send_chunks_make_nginx_pause_a_whole_tick() {
        for (total, n) in [
            (64u64 << 20, 4u32),
            (100 << 20, 3),
            (100 << 20, 4),
            (1 << 30, 8),
        ] {
            let r = RateLimit::split(total, n).unwrap();
            let chunk = r.send_chunk();
            // nginx's pause after a full chunk, in whole milliseconds: exactly the tick.
            assert_eq!(chunk * 1000 / r.per_request, TICK_MS, "{r:?}");
            assert!(chunk * 1000 < r.per_request * (TICK_MS + 1));
        }
        // 16 MiB/s per request: 167,773 bytes per 10 ms.
        assert_eq!(RateLimit::split(64 << 20, 4).unwrap().send_chunk(), 167_773);
        // A very low rate still sends whole pages (and pauses longer).
        assert_eq!(RateLimit::split(40_000, 4).unwrap().send_chunk(), MIN_CHUNK);
    }

    #[test]
    fn refuses_a_split_nginx_would_read_as_unlimited() {
        assert!(RateLimit::split(3, 4).is_err());
        assert!(RateLimit::split(1 << 20, 0).is_err());
    }

    #[test]
    fn describes_the_split() {
        assert_eq!(
            RateLimit::split(64 << 20, 4).unwrap().describe(),
            "64MiB/s total (nginx limit_rate 16MiB/s per request × N=4, limit_rate_after 0, \
             sendfile_max_chunk 167773)"
        );
        assert_eq!(rate_text(34_952_533), "33.33MiB");
        assert_eq!(rate_text(1500), "1.46KiB");
        assert_eq!(rate_text(100), "100");
    }
}
