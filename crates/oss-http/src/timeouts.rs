//! The three timeouts: connect, response head, body stall. There is deliberately no timeout
//! over a whole body: a long download is not a slow one (object_store's 30 s whole-request
//! timeout kills every download longer than that; its users ended up with a 7-day timeout and
//! a separate stall detector).

use std::time::Duration;

use crate::error::Error;

/// Connect, response-head and body-stall timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Limit on making one TCP connection. When the host resolves to several addresses,
    /// hyper-util divides it evenly among them (each gets `connect / n`). Default 10 s.
    pub connect: Duration,
    /// Limit from sending a request to receiving its response head. It covers waiting for a
    /// pooled connection, connecting, the TLS handshake and writing the request, so it must be
    /// at least `connect`. Default 30 s.
    pub response_head: Duration,
    /// When a body counts as stalled. Default: no byte for 30 s.
    pub stall: StallPolicy,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            response_head: Duration::from_secs(30),
            stall: StallPolicy::default(),
        }
    }
}

/// When a response body counts as stalled. At least one of the two rules must be on.
///
/// Only time spent *waiting for the network* counts: while the sink holds the stream back
/// (a slow disk), neither clock runs, so back-pressure is never mistaken for a stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallPolicy {
    /// Fail when no byte arrives for this long. Default 30 s.
    pub idle: Option<Duration>,
    /// Fail when fewer than `bytes_per_sec` arrive on average over a whole window (curl's
    /// `--speed-limit` / `--speed-time`). Default off.
    pub min_rate: Option<MinRate>,
}

impl Default for StallPolicy {
    fn default() -> Self {
        Self {
            idle: Some(Duration::from_secs(30)),
            min_rate: None,
        }
    }
}

/// A minimum average transfer rate, measured over consecutive windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinRate {
    /// The minimum average rate over a window, in bytes per second (at least 1).
    pub bytes_per_sec: u64,
    /// The window length (at least 1 ms).
    pub window: Duration,
}

impl Timeouts {
    /// Checks the combination; the error names the setting and the fix.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.connect.is_zero() {
            return Err(Error::config(
                "connect_timeout",
                "it is zero; use a positive duration such as 10 s",
            ));
        }
        if self.response_head.is_zero() {
            return Err(Error::config(
                "response_head_timeout",
                "it is zero; use a positive duration such as 30 s",
            ));
        }
        if self.connect > self.response_head {
            return Err(Error::config(
                "connect_timeout",
                format!(
                    "{:?} exceeds the response-head timeout {:?}, which already covers connecting and the TLS handshake; lower it or raise response_head_timeout",
                    self.connect, self.response_head
                ),
            ));
        }
        let stall = &self.stall;
        match (stall.idle, stall.min_rate) {
            (None, None) => Err(Error::config(
                "stall_timeout",
                "both stall rules are off, so a silent connection would hang a download forever; set an idle timeout and/or a minimum rate",
            )),
            (Some(idle), _) if idle.is_zero() => Err(Error::config(
                "stall_timeout",
                "the idle timeout is zero; use a positive duration such as 30 s",
            )),
            (_, Some(rate))
                if rate.bytes_per_sec == 0 || rate.window < Duration::from_millis(1) =>
            {
                Err(Error::config(
                    "min_rate",
                    "the minimum rate needs at least 1 byte/s over a window of at least 1 ms",
                ))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Timeouts::default().validate().unwrap();
    }

    #[test]
    fn bad_combinations_name_the_setting() {
        let s = Duration::from_secs(1);
        let cases = [
            (
                Timeouts {
                    connect: Duration::ZERO,
                    ..Timeouts::default()
                },
                "connect_timeout",
            ),
            (
                Timeouts {
                    connect: 5 * s,
                    response_head: 2 * s,
                    ..Timeouts::default()
                },
                "connect_timeout",
            ),
            (
                Timeouts {
                    response_head: Duration::ZERO,
                    ..Timeouts::default()
                },
                "response_head_timeout",
            ),
            (
                Timeouts {
                    stall: StallPolicy {
                        idle: None,
                        min_rate: None,
                    },
                    ..Timeouts::default()
                },
                "stall_timeout",
            ),
            (
                Timeouts {
                    stall: StallPolicy {
                        idle: Some(Duration::ZERO),
                        min_rate: None,
                    },
                    ..Timeouts::default()
                },
                "stall_timeout",
            ),
            (
                Timeouts {
                    stall: StallPolicy {
                        idle: None,
                        min_rate: Some(MinRate {
                            bytes_per_sec: 0,
                            window: s,
                        }),
                    },
                    ..Timeouts::default()
                },
                "min_rate",
            ),
        ];
        for (t, setting) in cases {
            let e = t.validate().unwrap_err();
            assert!(
                matches!(&e, Error::Config { setting: got, .. } if *got == setting),
                "{e}"
            );
        }
    }
}
