//! The proxy's fault vocabulary and the book-keeping that decides when each fires.

use std::time::Duration;

/// How a connection is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutMode {
    /// Normal close: the client reads a short body, then EOF.
    Fin,
    /// Reset: `SO_LINGER` 0 then close; the client gets `ECONNRESET`.
    Rst,
}

/// A network fault. Connections count from 1 in accept order; responses count from 1 on
/// each connection; `connection: None` means every connection.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum NetFault {
    /// Refuse the next `count` connections: accepted and reset at once, before a byte is read
    /// (what a client sees as a refused or reset connect).
    Refuse {
        /// How many connections.
        count: u64,
    },
    /// Accept the next `count` connections and close them (FIN) without answering.
    AcceptThenClose {
        /// How many connections.
        count: u64,
    },
    /// Cut response `response` of a connection after exactly `offset` body bytes.
    CutAt {
        /// Which connection (None = every connection).
        connection: Option<u64>,
        /// Which response on it (1-based).
        response: u64,
        /// Body bytes relayed before the cut.
        offset: u64,
        /// FIN or RST.
        mode: CutMode,
    },
    /// Cut every connection once it has relayed `bytes` response-body bytes (summed over
    /// its responses); clients must reconnect and resume.
    CutEveryConnectionAfter {
        /// Body bytes per connection before its cut.
        bytes: u64,
        /// FIN or RST.
        mode: CutMode,
    },
    /// Cut once: the connection that relays the `byte`-th body byte served in total (over
    /// all connections, counting from 1) is cut right after that byte; no other is.
    CutOnceAtTotal {
        /// The 1-based total body byte after which to cut.
        byte: u64,
        /// FIN or RST.
        mode: CutMode,
    },
    /// Stop relaying a connection's responses for `duration` (None = until the client gives
    /// up) once it has relayed `bytes` body bytes; once per connection.
    StallAfter {
        /// Which connection (None = every connection).
        connection: Option<u64>,
        /// Body bytes relayed before the stall.
        bytes: u64,
        /// How long (None = forever).
        duration: Option<Duration>,
    },
    /// Stall in the middle of a response head, after `head_bytes` bytes of it.
    StallInHead {
        /// Which connection (None = every connection).
        connection: Option<u64>,
        /// Which response (1-based).
        response: u64,
        /// Head bytes relayed before the stall.
        head_bytes: usize,
        /// How long (None = forever).
        duration: Option<Duration>,
    },
    /// Throttle all relayed traffic (every connection, both directions, together).
    Throttle {
        /// Bytes per second.
        bytes_per_sec: u64,
    },
    /// Rewrite a response's `Content-Length` by `delta` (a lying header). With a larger
    /// value the proxy closes (FIN) after the real body, so the client sees a truncated
    /// body; with a smaller one the client reads too few bytes and the rest spills into the
    /// next response on the connection.
    LieContentLength {
        /// Which connection (None = every connection).
        connection: Option<u64>,
        /// Which response (1-based).
        response: u64,
        /// Added to the real length.
        delta: i64,
    },
    /// Cut each response with a body with probability `probability`, at an offset drawn from
    /// its body; decided by `(seed, connection, response)` only, so a seed replays the same
    /// schedule whatever the timing.
    RandomCut {
        /// Probability per response, 0..=1.
        probability: f64,
        /// FIN or RST.
        mode: CutMode,
    },
}

/// A fault that fired, for counters and replay checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiredFault {
    /// `"refuse"`, `"accept_close"`, `"cut"`, `"stall"`, `"head_stall"`, `"lie"`.
    pub kind: String,
    /// Connection number.
    pub connection: u64,
    /// Response number on it (0 before any).
    pub response: u64,
    /// Body offset within that response.
    pub body_offset: u64,
    /// Free text (mode, duration, rule).
    pub detail: String,
}

/// What to do with a fresh connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnAccept {
    Proceed,
    Refuse,
    Close,
}

/// Per-response plan decided when its head is complete.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResponsePlan {
    pub(crate) cut_at: Option<(u64, CutMode, &'static str)>,
    pub(crate) lie: Option<i64>,
    pub(crate) head_stall: Option<(usize, Option<Duration>)>,
}

/// A connection's cut `(bytes, mode)` and stalls `(bytes, duration)`.
pub(crate) type ConnectionRules = (Option<(u64, CutMode)>, Vec<(u64, Option<Duration>)>);

/// All faults and their progress.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    faults: Vec<NetFault>,
    refuse_left: u64,
    close_left: u64,
    /// Body bytes relayed in total (for CutOnceAtTotal).
    total_body: u64,
    cut_once_fired: bool,
}

impl FaultBook {
    pub(crate) fn new(faults: Vec<NetFault>) -> Self {
        let mut book = Self::default();
        for f in faults {
            book.add(f);
        }
        book
    }

    pub(crate) fn add(&mut self, f: NetFault) {
        match &f {
            NetFault::Refuse { count } => self.refuse_left += count,
            NetFault::AcceptThenClose { count } => self.close_left += count,
            NetFault::CutOnceAtTotal { .. } => self.cut_once_fired = false,
            _ => {}
        }
        self.faults.push(f);
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
        self.refuse_left = 0;
        self.close_left = 0;
    }

    pub(crate) fn on_accept(&mut self) -> OnAccept {
        if self.refuse_left > 0 {
            self.refuse_left -= 1;
            OnAccept::Refuse
        } else if self.close_left > 0 {
            self.close_left -= 1;
            OnAccept::Close
        } else {
            OnAccept::Proceed
        }
    }

    /// The plan for response `response` of connection `conn`, whose body is `body_len`
    /// bytes when known.
    pub(crate) fn plan(
        &self,
        seed: u64,
        conn: u64,
        response: u64,
        body_len: Option<u64>,
    ) -> ResponsePlan {
        let mut plan = ResponsePlan::default();
        let matches = |c: &Option<u64>| c.is_none_or(|c| c == conn);
        for f in &self.faults {
            match f {
                NetFault::CutAt {
                    connection,
                    response: r,
                    offset,
                    mode,
                } if matches(connection)
                    && *r == response
                    && plan.cut_at.is_none_or(|(o, _, _)| *offset < o) =>
                {
                    plan.cut_at = Some((*offset, *mode, "cut_at"));
                }
                NetFault::LieContentLength {
                    connection,
                    response: r,
                    delta,
                } if matches(connection) && *r == response => {
                    plan.lie = Some(*delta);
                }
                NetFault::StallInHead {
                    connection,
                    response: r,
                    head_bytes,
                    duration,
                } if matches(connection) && *r == response => {
                    plan.head_stall = Some((*head_bytes, *duration));
                }
                NetFault::RandomCut { probability, mode } => {
                    if let Some(len) = body_len.filter(|l| *l > 0) {
                        let key = crate::content::synthetic_word(conn, response);
                        if crate::faults::chance(seed, key, *probability) {
                            let at = crate::content::synthetic_word(seed ^ 0xC07, key) % len;
                            if plan.cut_at.is_none_or(|(o, _, _)| at < o) {
                                plan.cut_at = Some((at, *mode, "random_cut"));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        plan
    }

    /// Per-connection limits: `(bytes, mode)` cuts and `(bytes, duration)` stalls for `conn`.
    pub(crate) fn connection_rules(&self, conn: u64) -> ConnectionRules {
        let mut cut: Option<(u64, CutMode)> = None;
        let mut stalls = Vec::new();
        for f in &self.faults {
            match f {
                NetFault::CutEveryConnectionAfter { bytes, mode }
                    if cut.is_none_or(|(b, _)| *bytes < b) =>
                {
                    cut = Some((*bytes, *mode));
                }
                NetFault::StallAfter {
                    connection,
                    bytes,
                    duration,
                } if connection.is_none_or(|c| c == conn) => {
                    stalls.push((*bytes, *duration));
                }
                _ => {}
            }
        }
        (cut, stalls)
    }

    /// Reserves up to `want` body bytes against the global count; returns how many may be
    /// sent and whether the once-only total cut fires right after them.
    pub(crate) fn reserve_total(&mut self, want: u64) -> (u64, Option<CutMode>) {
        let rule = self.faults.iter().find_map(|f| match f {
            NetFault::CutOnceAtTotal { byte, mode } => Some((*byte, *mode)),
            _ => None,
        });
        if let Some((byte, mode)) = rule
            && !self.cut_once_fired
            && self.total_body + want >= byte
        {
            let allowed = byte.saturating_sub(self.total_body);
            self.total_body += allowed;
            self.cut_once_fired = true;
            return (allowed, Some(mode));
        }
        self.total_body += want;
        (want, None)
    }
}
