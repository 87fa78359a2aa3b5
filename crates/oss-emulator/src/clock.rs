//! The model's clock: real time, shifted time, or a fixed instant (to replay signing
//! vectors recorded at a known time).

use std::time::{Duration, SystemTime};

/// What "now" means for the model (Date headers, Last-Modified of new objects, signature
/// expiry and clock-skew checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// The system clock plus an offset: a server whose clock is ahead.
    Ahead(Duration),
    /// The system clock minus an offset.
    Behind(Duration),
    /// Always this instant.
    Fixed(SystemTime),
}

impl Clock {
    /// The current time according to this clock.
    pub fn now(&self) -> SystemTime {
        match *self {
            Clock::System => SystemTime::now(),
            // An offset past what SystemTime holds falls back to now rather than panicking.
            Clock::Ahead(d) => {
                let now = SystemTime::now();
                now.checked_add(d).unwrap_or(now)
            }
            Clock::Behind(d) => SystemTime::now()
                .checked_sub(d)
                .unwrap_or(SystemTime::UNIX_EPOCH),
            Clock::Fixed(t) => t,
        }
    }
}

/// Seconds since the Unix epoch (0 before it).
pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// ISO 8601 with milliseconds, as OSS writes times inside error XML
/// (`2025-04-10T10:00:57.000Z`).
pub(crate) fn iso8601(t: SystemTime) -> String {
    let secs = unix_secs(t);
    let (y, mo, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

// Howard Hinnant's civil-from-days algorithm (public domain).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_as_oss_writes_it() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_705_307_400);
        assert_eq!(iso8601(t), "2024-01-15T08:30:00.000Z");
        assert_eq!(
            iso8601(SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
    }
}
