//! The re-fetch bound oss-resume's crate docs state ("Re-fetch bound"), with numbers:
//!
//! > re-fetched ≤ rate × (2 × commit interval + write latency) + threads × (block + 256 KiB)
//! > + socket buffers
//!
//! - *rate*: the client's read rate just before it died (its `/proc/PID/io`, last 100 ms);
//! - *commit interval*: 10 ms (oss-resume's default `commit_interval`);
//! - *write latency*: an allowance for one block write plus the aggregator's lag, which
//!   the docs leave unquantified — [`WRITE_LATENCY`], stated here and printed;
//! - *block*: 1 MiB (the largest coalesced block, for up to 16 threads);
//! - *socket buffers*: measured at the kill — the bytes the proxy had relayed that sat
//!   unread in the client's receive queues or unacknowledged in the proxy's send queues
//!   (`/proc/net/tcp`).
//!
//! ossget's `--help` makes a simpler promise ("at most about 2.5 MiB per thread plus what
//! arrived in the last 10 ms"); e2e reports it beside the bound as [`help_claim`].

use std::time::Duration;

/// oss-resume's default commit interval.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(10);
/// The write-latency allowance (one 1 MiB pwritev into the page cache takes well under a
/// millisecond; the rest is room for the aggregator thread being scheduled late on a busy
/// 2-core machine).
pub const WRITE_LATENCY: Duration = Duration::from_millis(20);
/// The largest block a worker coalesces (threads ≤ 16).
pub const BLOCK: u64 = 1 << 20;
/// The network chunk a worker may hold beside its block.
pub const CHUNK: u64 = 256 << 10;

/// What one kill may cost, in bytes, by the docs' formula.
pub fn per_kill(rate: f64, threads: u64, socket_backlog: u64) -> u64 {
    let window = 2.0 * COMMIT_INTERVAL.as_secs_f64() + WRITE_LATENCY.as_secs_f64();
    (rate * window) as u64 + threads * (BLOCK + CHUNK) + socket_backlog
}

/// ossget `--help`'s promise for one kill: 2.5 MiB per thread plus the last 10 ms.
pub fn help_claim(rate: f64, threads: u64) -> u64 {
    threads * (5 << 19) + (rate * 0.010) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_formula_with_numbers() {
        // 1 GB/s for 40 ms = 40 MB; 4 × 1.25 MiB; 3 MiB of backlog.
        let b = per_kill(1.0e9, 4, 3 << 20);
        assert_eq!(b, 40_000_000 + 4 * (1_310_720) + (3 << 20));
        // Idle client: only the per-worker terms and the backlog.
        assert_eq!(per_kill(0.0, 2, 0), 2 * (BLOCK + CHUNK));
    }

    #[test]
    fn the_help_claim_with_numbers() {
        assert_eq!(help_claim(1.0e9, 4), 4 * 2_621_440 + 10_000_000);
    }
}
