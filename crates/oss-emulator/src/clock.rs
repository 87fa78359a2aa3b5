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
    /// The system clock plus (or minus) an offset: a server whose clock is off.
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
            Clock::Ahead(d) => SystemTime::now() + d,
            Clock::Behind(d) => SystemTime::now().checked_sub(d).unwrap_or(SystemTime::UNIX_EPOCH),
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

/// Parses V4's `yyyymmddThhmmssZ`.
pub(crate) fn parse_v4_timestamp(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se;
    u64::try_from(secs)
        .ok()
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
}

// Howard Hinnant's civil-date algorithms (public domain).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

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
    fn iso_and_v4_round_trip() {
        let t = parse_v4_timestamp("20240115T083000Z").unwrap();
        assert_eq!(iso8601(t), "2024-01-15T08:30:00.000Z");
        assert_eq!(httpdate::fmt_http_date(t), "Mon, 15 Jan 2024 08:30:00 GMT");
        assert!(parse_v4_timestamp("2024-01-15T08:30:00Z").is_none());
        assert!(parse_v4_timestamp("20241315T083000Z").is_none());
    }
}
