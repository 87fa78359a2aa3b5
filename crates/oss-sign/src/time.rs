//! Signing time: an input, never read implicitly, with the three text forms OSS uses.
//!
//! Hand-written (days <-> civil date, after Howard Hinnant's public-domain algorithms)
//! rather than a date crate: three fixed formats in UTC need ~100 lines, all tested.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::SignError;

/// A signing time: whole seconds since the Unix epoch, in 1970-01-01 ..= 9999-12-31 (UTC),
/// so every text form below has a fixed width.
///
/// Signing functions take the time as an argument, so tests are deterministic;
/// [`SigningTime::now`] is the system-clock convenience.
///
/// ```
/// use oss_sign::SigningTime;
///
/// let t = SigningTime::from_unix_seconds(1_705_307_400)?;
/// assert_eq!(t.rfc1123(), "Mon, 15 Jan 2024 08:30:00 GMT");
/// assert_eq!(t.v4_timestamp(), "20240115T083000Z");
/// assert_eq!(t.v4_date(), "20240115");
/// assert_eq!(t.iso8601(), "2024-01-15T08:30:00Z");
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SigningTime {
    unix: u64,
}

/// 9999-12-31T23:59:59Z: the last second with a four-digit year.
const MAX_UNIX: u64 = 253_402_300_799;
const SECS_PER_DAY: u64 = 86_400;
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A UTC calendar date and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Civil {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
}

impl SigningTime {
    /// The latest representable time, 9999-12-31T23:59:59Z.
    ///
    /// ```
    /// assert_eq!(oss_sign::SigningTime::MAX.iso8601(), "9999-12-31T23:59:59Z");
    /// ```
    pub const MAX: SigningTime = SigningTime { unix: MAX_UNIX };

    /// The time `secs` seconds after 1970-01-01T00:00:00Z.
    ///
    /// # Errors
    /// [`SignError::TimeOutOfRange`] after 9999-12-31T23:59:59Z.
    ///
    /// ```
    /// use oss_sign::SigningTime;
    ///
    /// assert_eq!(SigningTime::from_unix_seconds(0)?.iso8601(), "1970-01-01T00:00:00Z");
    /// assert!(SigningTime::from_unix_seconds(u64::MAX).is_err());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn from_unix_seconds(secs: u64) -> Result<Self, SignError> {
        if secs > MAX_UNIX {
            return Err(SignError::TimeOutOfRange);
        }
        Ok(Self { unix: secs })
    }

    /// The given system time, truncated to whole seconds.
    ///
    /// # Errors
    /// [`SignError::TimeOutOfRange`] before 1970 or after 9999.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use oss_sign::SigningTime;
    ///
    /// let t = SigningTime::from_system_time(UNIX_EPOCH + Duration::from_millis(1_500))?;
    /// assert_eq!(t.unix_seconds(), 1);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn from_system_time(time: SystemTime) -> Result<Self, SignError> {
        let since = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| SignError::TimeOutOfRange)?;
        Self::from_unix_seconds(since.as_secs())
    }

    /// The system clock's current time: the one place this crate reads the clock.
    ///
    /// # Errors
    /// [`SignError::TimeOutOfRange`] if the clock is set before 1970 or after 9999.
    ///
    /// ```
    /// let now = oss_sign::SigningTime::now()?;
    /// assert!(now.unix_seconds() > 1_700_000_000);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn now() -> Result<Self, SignError> {
        Self::from_system_time(SystemTime::now())
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    ///
    /// ```
    /// let t = oss_sign::SigningTime::from_unix_seconds(42)?;
    /// assert_eq!(t.unix_seconds(), 42);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn unix_seconds(self) -> u64 {
        self.unix
    }

    /// This time as a [`SystemTime`].
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let t = oss_sign::SigningTime::from_unix_seconds(7)?;
    /// assert_eq!(t.to_system_time(), UNIX_EPOCH + Duration::from_secs(7));
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.unix)
    }

    /// This time plus `secs` seconds.
    ///
    /// # Errors
    /// [`SignError::TimeOutOfRange`] past 9999-12-31T23:59:59Z.
    ///
    /// ```
    /// let t = oss_sign::SigningTime::from_unix_seconds(100)?;
    /// assert_eq!(t.checked_add_seconds(20)?.unix_seconds(), 120);
    /// assert!(oss_sign::SigningTime::MAX.checked_add_seconds(1).is_err());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn checked_add_seconds(self, secs: u64) -> Result<Self, SignError> {
        let unix = self
            .unix
            .checked_add(secs)
            .ok_or(SignError::TimeOutOfRange)?;
        Self::from_unix_seconds(unix)
    }

    /// RFC 1123 in GMT, as in `Date` and V1's date line: `Mon, 15 Jan 2024 08:30:00 GMT`.
    ///
    /// ```
    /// let t = oss_sign::SigningTime::from_unix_seconds(1_709_208_000)?;
    /// assert_eq!(t.rfc1123(), "Thu, 29 Feb 2024 12:00:00 GMT");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn rfc1123(self) -> String {
        let c = self.civil();
        let weekday = WEEKDAYS
            .get(usize::try_from((self.unix / SECS_PER_DAY + 4) % 7).unwrap_or(0))
            .copied()
            .unwrap_or("Thu");
        let month = MONTHS
            .get(usize::try_from(c.month - 1).unwrap_or(0))
            .copied()
            .unwrap_or("Jan");
        format!(
            "{weekday}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
            c.day, c.year, c.hour, c.minute, c.second
        )
    }

    /// The V4 timestamp (`x-oss-date`): `20240115T083000Z`.
    ///
    /// ```
    /// let t = oss_sign::SigningTime::from_unix_seconds(1_705_307_400)?;
    /// assert_eq!(t.v4_timestamp(), "20240115T083000Z");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn v4_timestamp(self) -> String {
        let c = self.civil();
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// The V4 scope date: the timestamp's first eight characters, `20240115`.
    ///
    /// ```
    /// let t = oss_sign::SigningTime::from_unix_seconds(1_705_307_400)?;
    /// assert_eq!(t.v4_date(), "20240115");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn v4_date(self) -> String {
        let c = self.civil();
        format!("{:04}{:02}{:02}", c.year, c.month, c.day)
    }

    /// ISO 8601 / RFC 3339 in UTC: `2024-01-15T08:30:00Z`.
    ///
    /// ```
    /// let t = oss_sign::SigningTime::from_unix_seconds(1_705_307_400)?;
    /// assert_eq!(t.iso8601(), "2024-01-15T08:30:00Z");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn iso8601(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// Parses [`rfc1123`](Self::rfc1123)'s exact form (a `Date` or V1 `x-oss-date` header).
    /// The weekday must match the date.
    ///
    /// # Errors
    /// [`SignError::MalformedTime`] for any other text.
    ///
    /// ```
    /// use oss_sign::SigningTime;
    ///
    /// let t = SigningTime::parse_rfc1123("Mon, 15 Jan 2024 08:30:00 GMT")?;
    /// assert_eq!(t.unix_seconds(), 1_705_307_400);
    /// assert!(SigningTime::parse_rfc1123("Tue, 15 Jan 2024 08:30:00 GMT").is_err());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn parse_rfc1123(text: &str) -> Result<Self, SignError> {
        let err = || SignError::MalformedTime {
            format: "RFC 1123",
            example: "Mon, 15 Jan 2024 08:30:00 GMT",
            value: text.to_owned(),
        };
        let b = text.as_bytes();
        if b.len() != 29 || text.get(3..5) != Some(", ") || text.get(25..) != Some(" GMT") {
            return Err(err());
        }
        let month = MONTHS
            .iter()
            .position(|m| text.get(8..11) == Some(*m))
            .ok_or_else(err)?;
        let shape_ok = b.get(7) == Some(&b' ')
            && b.get(11) == Some(&b' ')
            && b.get(16) == Some(&b' ')
            && b.get(19) == Some(&b':')
            && b.get(22) == Some(&b':');
        if !shape_ok {
            return Err(err());
        }
        let civil = Civil {
            day: digits(b, 5, 2).ok_or_else(err)?,
            month: u64::try_from(month).map_err(|_| err())? + 1,
            year: digits(b, 12, 4).ok_or_else(err)?,
            hour: digits(b, 17, 2).ok_or_else(err)?,
            minute: digits(b, 20, 2).ok_or_else(err)?,
            second: digits(b, 23, 2).ok_or_else(err)?,
        };
        let time = Self::from_civil(civil).ok_or_else(err)?;
        if time.rfc1123() != text {
            return Err(err()); // wrong weekday
        }
        Ok(time)
    }

    /// Parses a V4 timestamp, `20240115T083000Z` (`x-oss-date`).
    ///
    /// # Errors
    /// [`SignError::MalformedTime`] for any other text.
    ///
    /// ```
    /// use oss_sign::SigningTime;
    ///
    /// let t = SigningTime::parse_v4_timestamp("20240229T120000Z")?;
    /// assert_eq!(t.rfc1123(), "Thu, 29 Feb 2024 12:00:00 GMT");
    /// assert!(SigningTime::parse_v4_timestamp("20230229T120000Z").is_err());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn parse_v4_timestamp(text: &str) -> Result<Self, SignError> {
        let err = || SignError::MalformedTime {
            format: "V4 timestamp",
            example: "20240115T083000Z",
            value: text.to_owned(),
        };
        let b = text.as_bytes();
        if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
            return Err(err());
        }
        let civil = Civil {
            year: digits(b, 0, 4).ok_or_else(err)?,
            month: digits(b, 4, 2).ok_or_else(err)?,
            day: digits(b, 6, 2).ok_or_else(err)?,
            hour: digits(b, 9, 2).ok_or_else(err)?,
            minute: digits(b, 11, 2).ok_or_else(err)?,
            second: digits(b, 13, 2).ok_or_else(err)?,
        };
        Self::from_civil(civil).ok_or_else(err)
    }

    /// Parses [`iso8601`](Self::iso8601)'s exact form, `2024-01-15T08:30:00Z`.
    ///
    /// # Errors
    /// [`SignError::MalformedTime`] for any other text (offsets and fractions included).
    ///
    /// ```
    /// use oss_sign::SigningTime;
    ///
    /// let t = SigningTime::parse_iso8601("2024-01-15T08:30:00Z")?;
    /// assert_eq!(t.v4_timestamp(), "20240115T083000Z");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn parse_iso8601(text: &str) -> Result<Self, SignError> {
        let err = || SignError::MalformedTime {
            format: "ISO 8601",
            example: "2024-01-15T08:30:00Z",
            value: text.to_owned(),
        };
        let b = text.as_bytes();
        let shape_ok = b.len() == 20
            && b.get(4) == Some(&b'-')
            && b.get(7) == Some(&b'-')
            && b.get(10) == Some(&b'T')
            && b.get(13) == Some(&b':')
            && b.get(16) == Some(&b':')
            && b.get(19) == Some(&b'Z');
        if !shape_ok {
            return Err(err());
        }
        let civil = Civil {
            year: digits(b, 0, 4).ok_or_else(err)?,
            month: digits(b, 5, 2).ok_or_else(err)?,
            day: digits(b, 8, 2).ok_or_else(err)?,
            hour: digits(b, 11, 2).ok_or_else(err)?,
            minute: digits(b, 14, 2).ok_or_else(err)?,
            second: digits(b, 17, 2).ok_or_else(err)?,
        };
        Self::from_civil(civil).ok_or_else(err)
    }

    fn civil(self) -> Civil {
        let (year, month, day) = civil_from_days(self.unix / SECS_PER_DAY);
        let secs = self.unix % SECS_PER_DAY;
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
        }
    }

    /// The time of a civil date, if every field is in range (leap seconds are not).
    fn from_civil(c: Civil) -> Option<Self> {
        let valid = (1970..=9999).contains(&c.year)
            && (1..=12).contains(&c.month)
            && c.day >= 1
            && c.day <= days_in_month(c.year, c.month)
            && c.hour < 24
            && c.minute < 60
            && c.second < 60;
        if !valid {
            return None;
        }
        let days = days_from_civil(c.year, c.month, c.day);
        Some(Self {
            unix: days * SECS_PER_DAY + c.hour * 3600 + c.minute * 60 + c.second,
        })
    }
}

/// `len` ASCII digits at `at`, or `None`.
fn digits(b: &[u8], at: usize, len: usize) -> Option<u64> {
    let slice = b.get(at..at + len)?;
    slice.iter().try_fold(0u64, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0'))
    })
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 -> (year, month, day), for days >= 0.
/// Years are counted from March so the leap day ends the year; eras are 400 years.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z % 146_097; // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1st
    let mp = (5 * doy + 2) / 153; // 0 = March .. 11 = February
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// (year >= 1970, month, day) -> days since 1970-01-01.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        let cases = [
            (0, "Thu, 01 Jan 1970 00:00:00 GMT", "19700101T000000Z"),
            (
                1_705_307_400,
                "Mon, 15 Jan 2024 08:30:00 GMT",
                "20240115T083000Z",
            ),
            (
                1_704_067_199,
                "Sun, 31 Dec 2023 23:59:59 GMT",
                "20231231T235959Z",
            ),
            (
                1_709_208_000,
                "Thu, 29 Feb 2024 12:00:00 GMT",
                "20240229T120000Z",
            ),
            (
                951_782_400,
                "Tue, 29 Feb 2000 00:00:00 GMT",
                "20000229T000000Z",
            ),
            (
                4_107_542_400,
                "Mon, 01 Mar 2100 00:00:00 GMT",
                "21000301T000000Z",
            ),
            (
                MAX_UNIX,
                "Fri, 31 Dec 9999 23:59:59 GMT",
                "99991231T235959Z",
            ),
        ];
        for (unix, rfc, v4) in cases {
            let t = SigningTime::from_unix_seconds(unix).unwrap();
            assert_eq!(t.rfc1123(), rfc);
            assert_eq!(t.v4_timestamp(), v4);
            assert_eq!(SigningTime::parse_rfc1123(rfc).unwrap(), t);
            assert_eq!(SigningTime::parse_v4_timestamp(v4).unwrap(), t);
            assert_eq!(SigningTime::parse_iso8601(&t.iso8601()).unwrap(), t);
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "Mon, 15 Jan 2024 08:30:00 UTC",
            "Mon, 15 Foo 2024 08:30:00 GMT",
            "Mon, 32 Jan 2024 08:30:00 GMT",
            "Mon, 15 Jan 2024 24:30:00 GMT",
            "Mon, 15 Jan 2024 08:60:00 GMT",
            "Mon, 15 Jan 2024 08:30:60 GMT",
            "Mon, 15 Jan 1969 08:30:00 GMT",
            "Mon,  5 Jan 2024 08:30:00 GMT",
            "Mon, 15 Jan 2024 08:30:00 GMT ",
        ] {
            assert!(SigningTime::parse_rfc1123(bad).is_err(), "{bad:?}");
        }
        for bad in [
            "20240115T083000",
            "2024011ST083000Z",
            "20241301T000000Z",
            "20240100T000000Z",
        ] {
            assert!(SigningTime::parse_v4_timestamp(bad).is_err(), "{bad:?}");
        }
        for bad in [
            "2024-01-15T08:30:00+00:00",
            "2024-01-15 08:30:00Z",
            "2024-02-30T00:00:00Z",
        ] {
            assert!(SigningTime::parse_iso8601(bad).is_err(), "{bad:?}");
        }
        assert!(SigningTime::from_system_time(UNIX_EPOCH - Duration::from_secs(1)).is_err());
    }

    proptest! {
        #[test]
        fn formats_round_trip(unix in 0..=MAX_UNIX) {
            let t = SigningTime::from_unix_seconds(unix).unwrap();
            prop_assert_eq!(SigningTime::parse_rfc1123(&t.rfc1123()).unwrap(), t);
            prop_assert_eq!(SigningTime::parse_v4_timestamp(&t.v4_timestamp()).unwrap(), t);
            prop_assert_eq!(SigningTime::parse_iso8601(&t.iso8601()).unwrap(), t);
            prop_assert_eq!(&t.v4_timestamp()[..8], t.v4_date());
        }

        #[test]
        fn days_agree_with_a_day_by_day_walk(days in 0u64..3_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
            // The next day is either the next day of the month or the 1st of the next month.
            let (y2, m2, d2) = civil_from_days(days + 1);
            if d < days_in_month(y, m) {
                prop_assert_eq!((y2, m2, d2), (y, m, d + 1));
            } else if m < 12 {
                prop_assert_eq!((y2, m2, d2), (y, m + 1, 1));
            } else {
                prop_assert_eq!((y2, m2, d2), (y + 1, 1, 1));
            }
        }
    }
}
