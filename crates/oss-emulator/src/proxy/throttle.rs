//! A shared rate limit for all relayed traffic.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket shared by every connection (so "throttle all traffic to R bytes/s" holds
/// in total, not per connection).
pub(crate) struct Throttle {
    state: Mutex<State>,
}

struct State {
    rate: Option<u64>,
    /// When the bytes granted so far will have been "paid for".
    next_free: Instant,
}

impl Throttle {
    pub(crate) fn new(rate: Option<u64>) -> Self {
        Self {
            state: Mutex::new(State {
                rate: rate.filter(|r| *r > 0),
                next_free: Instant::now(),
            }),
        }
    }

    pub(crate) fn set_rate(&self, rate: Option<u64>) {
        if let Ok(mut s) = self.state.lock() {
            s.rate = rate.filter(|r| *r > 0);
            s.next_free = Instant::now();
        }
    }

    /// The largest piece to send at once (about 1/50 s of traffic), or `None` when off.
    pub(crate) fn piece(&self) -> Option<usize> {
        let rate = self.state.lock().ok()?.rate?;
        Some(((rate / 50).max(1)) as usize)
    }

    /// Reserves `n` bytes and returns how long to wait before sending them.
    pub(crate) fn reserve(&self, n: usize) -> Option<Duration> {
        let mut s = self.state.lock().ok()?;
        let rate = s.rate?;
        let now = Instant::now();
        let start = s.next_free.max(now);
        s.next_free = start + Duration::from_secs_f64(n as f64 / rate as f64);
        Some(start - now)
    }
}
