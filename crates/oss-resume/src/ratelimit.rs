//! One token bucket shared by every worker: the download's bandwidth limit.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A token bucket refilled at `rate` bytes per second, holding at most `burst` bytes.
/// Takers reserve first and sleep off any debt, so concurrent workers share the rate fairly
/// without a queue.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub(crate) fn new(bytes_per_sec: u64) -> Self {
        let rate = bytes_per_sec.max(1) as f64;
        // A tenth of a second of burst, at least one network chunk.
        let burst = (rate / 10.0).max(64.0 * 1024.0);
        Self {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes `bytes` tokens, waiting as long as the debt requires.
    pub(crate) async fn take(&self, bytes: usize) {
        let wait = {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            let now = Instant::now();
            let (tokens, last) = *state;
            let refilled = (tokens + now.saturating_duration_since(last).as_secs_f64() * self.rate)
                .min(self.burst);
            let left = refilled - bytes as f64;
            *state = (left, now);
            if left >= 0.0 {
                return;
            }
            Duration::from_secs_f64(-left / self.rate)
        };
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn holds_the_rate_across_takers() {
        let bucket = std::sync::Arc::new(TokenBucket::new(1_000_000));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let b = std::sync::Arc::clone(&bucket);
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    b.take(100_000).await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // 4 MB at 1 MB/s, less the 100 kB burst.
        let secs = start.elapsed().as_secs_f64();
        assert!((3.8..4.1).contains(&secs), "{secs}");
    }
}
