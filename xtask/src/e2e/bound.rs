//! The re-fetch bound oss-resume's crate docs state ("Re-fetch bound"), with numbers:
//!
//! > re-fetched ≤ rate × (2 × commit interval + write latency) + threads × (block + 256 KiB)
//! > + socket buffers
//!
//! - *rate*: the client's rate just before it died (bytes written per second, from its
//!   `/proc/PID/io`);
//! - *commit interval*: 10 ms (oss-resume's default `commit_interval`);
//! - *write latency*: an allowance the docs leave unquantified — [`WRITE_LATENCY`], stated
//!   here and printed;
//! - the last two terms — what the client had received (or the kernel held for it) but not
//!   yet written: per-worker batches and blocks, and socket buffers — are measured rather
//!   than assumed: the body bytes the proxy relayed during the run less the bytes the client
//!   had written when it died (read from the dead process before it is reaped). Socket
//!   buffers on loopback grow to many MiB (tcp_rmem), so no constant would be honest.
//!
//! What the check then pins down is the part the checkpoint is responsible for: bytes that
//! were on disk but not yet in a committed snapshot must stay within `rate × (2 × commit
//! interval + write latency)`.

use std::time::Duration;

/// oss-resume's default commit interval.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(10);
/// The write-latency allowance: one 1 MiB pwritev into the page cache takes well under a
/// millisecond; the rest is room for the aggregator thread being scheduled late on a busy
/// 2-core machine.
pub const WRITE_LATENCY: Duration = Duration::from_millis(20);
/// The largest block a worker coalesces (threads ≤ 16), for the docs' per-worker term.
pub const BLOCK: u64 = 1 << 20;
/// The network chunk a worker may hold beside its block.
pub const CHUNK: u64 = 256 << 10;

/// What one kill may cost, in bytes: the docs' formula with the in-flight terms measured
/// (`in_flight`: bytes relayed to the client during the run but not written by it).
pub fn per_kill(rate: f64, in_flight: u64) -> u64 {
    (rate * commit_window().as_secs_f64()) as u64 + in_flight
}

/// `2 × commit interval + write latency`.
pub fn commit_window() -> Duration {
    2 * COMMIT_INTERVAL + WRITE_LATENCY
}

/// The docs' constant per-worker term, `threads × (block + 256 KiB)` (the in-flight bytes
/// beyond it were in socket buffers).
pub fn per_worker(threads: u64) -> u64 {
    threads * (BLOCK + CHUNK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_formula_with_numbers() {
        // 1 GB/s for 2 × 10 + 20 ms = 40 MB, plus 3 MiB in flight.
        assert_eq!(per_kill(1.0e9, 3 << 20), 40_000_000 + (3 << 20));
        // Idle client: only what was in flight.
        assert_eq!(per_kill(0.0, 7), 7);
        assert_eq!(commit_window(), Duration::from_millis(40));
        assert_eq!(per_worker(4), 4 * 1_310_720);
    }
}
