//! Streaming a checked `206` body into a sink: bounded chunks, CRC-64 on the way, stall
//! detection, and exact accounting of the bytes delivered.

use std::time::Duration;

use bytes::Bytes;
use http_body::Body;
use http_body_util::BodyExt as _;
use oss_crc::Crc64;
use oss_parts::ByteRange;
use tokio::time::Instant;

use crate::error::{BoxError, Error, Stall};
use crate::sink::ByteSink;
use crate::timeouts::StallPolicy;

/// Watches the time spent waiting for the network (never the time the sink takes) and says
/// when the body has stalled.
#[derive(Debug)]
pub(crate) struct StallClock {
    policy: StallPolicy,
    /// When the current wait for bytes began (after the last bytes went to the sink).
    idle_since: Instant,
    /// When the current stretch of waiting began (reset at each wake-up).
    segment_since: Instant,
    /// Network time and bytes in the current min-rate window.
    window_net: Duration,
    window_bytes: u64,
}

impl StallClock {
    pub(crate) fn new(policy: StallPolicy, now: Instant) -> Self {
        Self {
            policy,
            idle_since: now,
            segment_since: now,
            window_net: Duration::ZERO,
            window_bytes: 0,
        }
    }

    /// Starts waiting for the network (after handing bytes to the sink).
    pub(crate) fn begin_wait(&mut self, now: Instant) {
        self.idle_since = now;
        self.segment_since = now;
    }

    /// When to wake up and check, while waiting. `now` reads the current time; it is called
    /// only when a deadline is past what `Instant` holds (see `later`), so the wait for
    /// each frame costs no extra clock read.
    pub(crate) fn deadline(&self, now: impl Fn() -> Instant) -> Instant {
        let idle = self
            .policy
            .idle
            .map(|idle| later(self.idle_since, idle, &now));
        let window = self.policy.min_rate.map(|rate| {
            later(
                self.segment_since,
                rate.window.saturating_sub(self.window_net),
                &now,
            )
        });
        match (idle, window) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            // Validation forbids both off; wake up now and then anyway rather than never.
            (None, None) => later(self.segment_since, Duration::from_secs(3600), &now),
        }
    }

    /// `bytes` arrived at `now`. Returns a stall if the window just closed below the rate.
    pub(crate) fn on_bytes(&mut self, now: Instant, bytes: u64) -> Option<Stall> {
        self.window_net += now.saturating_duration_since(self.segment_since);
        self.window_bytes = self.window_bytes.saturating_add(bytes);
        self.segment_since = now;
        self.close_window_if_due()
    }

    /// The deadline passed with no bytes. Returns the stall, if it is one.
    pub(crate) fn on_wake(&mut self, now: Instant) -> Option<Stall> {
        if let Some(idle) = self.policy.idle
            && now.saturating_duration_since(self.idle_since) >= idle
        {
            return Some(Stall::Idle { idle });
        }
        self.window_net += now.saturating_duration_since(self.segment_since);
        self.segment_since = now;
        self.close_window_if_due()
    }

    fn close_window_if_due(&mut self) -> Option<Stall> {
        let rate = self.policy.min_rate?;
        if self.window_net < rate.window {
            return None;
        }
        let nanos = self.window_net.as_nanos().max(1);
        let bytes_per_sec = u64::try_from(u128::from(self.window_bytes) * 1_000_000_000 / nanos)
            .unwrap_or(u64::MAX);
        self.window_net = Duration::ZERO;
        self.window_bytes = 0;
        (bytes_per_sec < rate.bytes_per_sec).then_some(Stall::TooSlow {
            bytes_per_sec,
            min_bytes_per_sec: rate.bytes_per_sec,
            window: rate.window,
        })
    }
}

/// `at + after`, or a day after `now` when that overflows: `Instant + Duration` panics on
/// overflow, and a caller may well configure `Duration::MAX` to mean "never" (the wake-up
/// then finds nothing due and waits another day).
fn later(at: Instant, after: Duration, now: &impl Fn() -> Instant) -> Instant {
    at.checked_add(after).unwrap_or_else(|| {
        let now = now();
        now.checked_add(Duration::from_secs(86_400)).unwrap_or(now)
    })
}

/// What a streaming run needs to know besides the body and the sink.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamPlan<'a> {
    /// The range the (already checked) response carries.
    pub(crate) range: ByteRange,
    pub(crate) stall: StallPolicy,
    /// Largest chunk handed to the sink.
    pub(crate) max_chunk: usize,
    pub(crate) request_id: Option<&'a str>,
}

/// Streams `body` into `sink`. With `crc`, each chunk is hashed into it after the sink
/// accepts it, so on any outcome `crc` covers exactly the delivered bytes; without, nothing
/// is hashed. Returns the bytes delivered (the range's length on success).
pub(crate) async fn stream_body<B, S>(
    mut body: B,
    plan: StreamPlan<'_>,
    sink: &mut S,
    mut crc: Option<&mut Crc64>,
) -> Result<u64, Error>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
    S: ByteSink + ?Sized,
{
    let expected = plan.range.len();
    let request_id = || plan.request_id.map(str::to_owned);
    let max_chunk = plan.max_chunk.max(1);
    let mut delivered = 0u64;
    let mut clock = StallClock::new(plan.stall, Instant::now());
    loop {
        if delivered == expected && body.is_end_stream() {
            return Ok(delivered);
        }
        let deadline = clock.deadline(Instant::now);
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_elapsed) => match clock.on_wake(Instant::now()) {
                Some(stall) => {
                    if delivered == expected {
                        // Every byte is in; only the end-of-body marker is late.
                        return Ok(delivered);
                    }
                    return Err(Error::Stall {
                        stall,
                        delivered,
                        expected,
                        request_id: request_id(),
                    });
                }
                None => continue,
            },
            Ok(None) if delivered == expected => return Ok(delivered),
            Ok(None) => {
                return Err(Error::Truncated {
                    delivered,
                    expected,
                    source: None,
                    request_id: request_id(),
                });
            }
            // A failure after the last byte (a missing chunked terminator) loses nothing:
            // the length is complete and the bytes were checked as they came.
            Ok(Some(Err(_))) if delivered == expected => return Ok(delivered),
            Ok(Some(Err(e))) => {
                return Err(Error::Truncated {
                    delivered,
                    expected,
                    source: Some(e.into()),
                    request_id: request_id(),
                });
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(mut data) = frame.into_data() else {
            continue; // trailers carry nothing we need
        };
        // A window that closes below the minimum rate still keeps the bytes that closed it:
        // they are here and checked, so writing them saves refetching them, and when they
        // complete the range there is nothing left to stall.
        let too_slow = clock.on_bytes(Instant::now(), data.len() as u64);
        let room = expected - delivered;
        let overrun = data.len() as u64 > room;
        if overrun {
            // `room` < data.len() <= usize::MAX here.
            data.truncate(usize::try_from(room).unwrap_or(usize::MAX));
        }
        while !data.is_empty() {
            let piece = data.split_to(data.len().min(max_chunk));
            // A second handle on the same buffer (no copy), hashed once the sink has it.
            let hashed = crc.is_some().then(|| piece.clone());
            let len = piece.len() as u64;
            sink.write(plan.range.start() + delivered, piece)
                .await
                .map_err(|e| Error::Sink {
                    delivered,
                    source: Box::new(e),
                })?;
            if let (Some(crc), Some(bytes)) = (crc.as_deref_mut(), hashed) {
                crc.update(&bytes);
            }
            delivered += len;
        }
        if overrun {
            return Err(Error::BodyOverrun {
                expected,
                request_id: request_id(),
            });
        }
        if let Some(stall) = too_slow
            && delivered < expected
        {
            return Err(Error::Stall {
                stall,
                delivered,
                expected,
                request_id: request_id(),
            });
        }
        clock.begin_wait(Instant::now());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sink::{Collect, Discard};
    use crate::timeouts::MinRate;
    use http_body::Frame;
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// One scripted step of a test body.
    pub(crate) enum Step {
        Wait(Duration),
        Data(Bytes),
        Fail(&'static str),
    }

    /// A body that follows a script, sleeping on tokio's (pausable) clock.
    pub(crate) struct ScriptedBody {
        steps: VecDeque<Step>,
        sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    }

    impl ScriptedBody {
        pub(crate) fn new(steps: Vec<Step>) -> Self {
            Self {
                steps: steps.into(),
                sleep: None,
            }
        }
    }

    impl Body for ScriptedBody {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            loop {
                if let Some(sleep) = self.sleep.as_mut() {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    self.sleep = None;
                }
                match self.steps.pop_front() {
                    None => return Poll::Ready(None),
                    Some(Step::Wait(d)) => self.sleep = Some(Box::pin(tokio::time::sleep(d))),
                    Some(Step::Data(b)) => return Poll::Ready(Some(Ok(Frame::data(b)))),
                    Some(Step::Fail(m)) => {
                        return Poll::Ready(Some(Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            m,
                        ))));
                    }
                }
            }
        }

        fn is_end_stream(&self) -> bool {
            self.steps.is_empty() && self.sleep.is_none()
        }
    }

    fn plan(first: u64, len: u64, stall: StallPolicy) -> StreamPlan<'static> {
        StreamPlan {
            range: ByteRange::new(first, first + len).unwrap(),
            stall,
            max_chunk: 4,
            request_id: Some("RID"),
        }
    }

    fn idle(ms: u64) -> StallPolicy {
        StallPolicy {
            idle: Some(Duration::from_millis(ms)),
            min_rate: None,
        }
    }

    fn data(b: &'static [u8]) -> Step {
        Step::Data(Bytes::from_static(b))
    }

    #[tokio::test(start_paused = true)]
    async fn streams_in_bounded_chunks_with_crc() {
        let body = ScriptedBody::new(vec![data(b"0123456789"), data(b"ab")]);
        let mut sink = Collect::default();
        let mut crc = Crc64::new();
        let n = stream_body(body, plan(100, 12, idle(1000)), &mut sink, Some(&mut crc))
            .await
            .unwrap();
        assert_eq!(n, 12);
        assert_eq!(sink.start, Some(100));
        assert_eq!(sink.data, b"0123456789ab");
        assert_eq!(sink.chunk_sizes, vec![4, 4, 2, 2]);
        assert_eq!(crc.value(), oss_crc::checksum(b"0123456789ab"));
    }

    /// Without a CRC the same bytes arrive in the same chunks (only the hashing is skipped).
    #[tokio::test(start_paused = true)]
    async fn without_a_crc_the_bytes_are_the_same() {
        let script = || ScriptedBody::new(vec![data(b"0123456789"), data(b"ab")]);
        let (mut hashed, mut plain) = (Collect::default(), Collect::default());
        let mut crc = Crc64::new();
        stream_body(
            script(),
            plan(7, 12, idle(1000)),
            &mut hashed,
            Some(&mut crc),
        )
        .await
        .unwrap();
        let n = stream_body(script(), plan(7, 12, idle(1000)), &mut plain, None)
            .await
            .unwrap();
        assert_eq!((n, &plain), (12, &hashed));
        assert_eq!(crc.value(), oss_crc::checksum(&plain.data));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_body_reports_exact_bytes_and_crc() {
        let body = ScriptedBody::new(vec![data(b"0123456"), Step::Fail("reset")]);
        let mut sink = Collect::default();
        let mut crc = Crc64::resume(oss_crc::checksum(b"prefix"), 6);
        let e = stream_body(body, plan(0, 12, idle(1000)), &mut sink, Some(&mut crc))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Truncated {
                    delivered: 7,
                    expected: 12,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.delivered(), 7);
        assert!(e.is_retryable());
        assert_eq!(crc.value(), oss_crc::checksum(b"prefix0123456"));

        let body = ScriptedBody::new(vec![data(b"01")]);
        let e = stream_body(body, plan(0, 12, idle(1000)), &mut Discard::default(), None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Truncated {
                    delivered: 2,
                    source: None,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_pause_is_a_stall_with_exact_bytes() {
        let body = ScriptedBody::new(vec![
            data(b"abcdef"),
            Step::Wait(Duration::from_millis(2000)),
            data(b"ghijkl"),
        ]);
        let started = Instant::now();
        let mut crc = Crc64::new();
        let e = stream_body(
            body,
            plan(0, 12, idle(1000)),
            &mut Discard::default(),
            Some(&mut crc),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Stall {
                    stall: Stall::Idle { .. },
                    delivered: 6,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(started.elapsed(), Duration::from_millis(1000));
        assert_eq!(crc.len(), 6);
        assert!(e.to_string().contains("request id RID"), "{e}");
    }

    #[tokio::test(start_paused = true)]
    async fn slow_but_steady_is_not_a_stall() {
        // 30 gaps of 900 ms: far longer than the idle timeout in total, never idle that long.
        let mut steps = Vec::new();
        for _ in 0..30 {
            steps.push(Step::Wait(Duration::from_millis(900)));
            steps.push(data(b"x"));
        }
        let body = ScriptedBody::new(steps);
        let n = stream_body(body, plan(0, 30, idle(1000)), &mut Discard::default(), None)
            .await
            .unwrap();
        assert_eq!(n, 30);
    }

    #[tokio::test(start_paused = true)]
    async fn below_min_rate_for_a_window_is_a_stall() {
        let policy = StallPolicy {
            idle: None,
            min_rate: Some(MinRate {
                bytes_per_sec: 100,
                window: Duration::from_secs(1),
            }),
        };
        // 10 bytes every 200 ms = 50 B/s.
        let mut steps = Vec::new();
        for _ in 0..20 {
            steps.push(Step::Wait(Duration::from_millis(200)));
            steps.push(data(b"0123456789"));
        }
        let e = stream_body(
            ScriptedBody::new(steps),
            plan(0, 200, policy),
            &mut Discard::default(),
            None,
        )
        .await
        .unwrap_err();
        match e {
            Error::Stall {
                stall: Stall::TooSlow { bytes_per_sec, .. },
                delivered,
                ..
            } => {
                assert_eq!(bytes_per_sec, 50);
                assert_eq!(
                    delivered, 50,
                    "the 5th chunk closed the window; it is written, then the stall reported"
                );
            }
            other => panic!("{other:?}"),
        }

        // 10 bytes every 50 ms = 200 B/s passes.
        let mut steps = Vec::new();
        for _ in 0..40 {
            steps.push(Step::Wait(Duration::from_millis(50)));
            steps.push(data(b"0123456789"));
        }
        stream_body(
            ScriptedBody::new(steps),
            plan(0, 400, policy),
            &mut Discard::default(),
            None,
        )
        .await
        .unwrap();

        // Silence is caught by the window alone (no idle rule).
        let steps = vec![data(b"0123456789"), Step::Wait(Duration::from_secs(60))];
        let started = Instant::now();
        let e = stream_body(
            ScriptedBody::new(steps),
            plan(0, 20, policy),
            &mut Discard::default(),
            None,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, Error::Stall { delivered: 10, .. }), "{e:?}");
        assert!(
            started.elapsed() <= Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    /// The chunk that completes the range is never thrown away for closing a slow window.
    #[tokio::test(start_paused = true)]
    async fn a_slow_window_closed_by_the_last_chunk_is_success() {
        let policy = StallPolicy {
            idle: None,
            min_rate: Some(MinRate {
                bytes_per_sec: 100,
                window: Duration::from_secs(1),
            }),
        };
        // 20 bytes in 1 s: 20 B/s, below the minimum, but the range is complete.
        let steps = vec![
            Step::Wait(Duration::from_millis(500)),
            data(b"0123456789"),
            Step::Wait(Duration::from_millis(500)),
            data(b"abcdefghij"),
        ];
        let mut sink = Collect::default();
        let n = stream_body(
            ScriptedBody::new(steps),
            plan(0, 20, policy),
            &mut sink,
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            (n, sink.data.as_slice()),
            (20, &b"0123456789abcdefghij"[..])
        );
    }

    /// A sink that sleeps before accepting: back-pressure.
    struct SlowSink(Duration, u64);
    impl ByteSink for SlowSink {
        type Error = std::convert::Infallible;
        async fn write(&mut self, _o: u64, c: Bytes) -> Result<(), Self::Error> {
            tokio::time::sleep(self.0).await;
            self.1 += c.len() as u64;
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sink_back_pressure_is_not_a_stall() {
        let policy = StallPolicy {
            idle: Some(Duration::from_millis(100)),
            min_rate: Some(MinRate {
                bytes_per_sec: 1000,
                window: Duration::from_millis(100),
            }),
        };
        let steps = (0..10).map(|_| data(b"0123")).collect();
        let mut sink = SlowSink(Duration::from_secs(5), 0);
        let n = stream_body(
            ScriptedBody::new(steps),
            plan(0, 40, policy),
            &mut sink,
            None,
        )
        .await
        .unwrap();
        assert_eq!((n, sink.1), (40, 40));
    }

    #[tokio::test(start_paused = true)]
    async fn extra_bytes_are_never_written() {
        let body = ScriptedBody::new(vec![data(b"0123456789")]);
        let mut sink = Collect::default();
        let mut crc = Crc64::new();
        let e = stream_body(body, plan(0, 6, idle(1000)), &mut sink, Some(&mut crc))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::BodyOverrun { expected: 6, .. }), "{e:?}");
        assert_eq!(sink.data, b"012345");
        assert_eq!(crc.len(), 6);
    }

    /// A sink that fails on its second chunk.
    struct FailSecond(u32);
    impl ByteSink for FailSecond {
        type Error = std::io::Error;
        async fn write(&mut self, _o: u64, _c: Bytes) -> Result<(), Self::Error> {
            self.0 += 1;
            if self.0 == 2 {
                return Err(std::io::Error::other("disk full"));
            }
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_sink_counts_only_accepted_bytes() {
        let body = ScriptedBody::new(vec![data(b"0123456789")]);
        let mut crc = Crc64::new();
        let e = stream_body(
            body,
            plan(0, 10, idle(1000)),
            &mut FailSecond(0),
            Some(&mut crc),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, Error::Sink { delivered: 4, .. }), "{e:?}");
        assert!(!e.is_retryable());
        assert_eq!(crc.value(), oss_crc::checksum(b"0123"));
    }

    /// `Duration::MAX` means "never": no `Instant` overflow panic, and a long silence passes.
    #[tokio::test(start_paused = true)]
    async fn huge_stall_settings_mean_never_and_do_not_panic() {
        let policy = StallPolicy {
            idle: Some(Duration::MAX),
            min_rate: Some(MinRate {
                bytes_per_sec: 1,
                window: Duration::MAX,
            }),
        };
        let body = ScriptedBody::new(vec![
            data(b"01"),
            Step::Wait(Duration::from_secs(3 * 86_400)),
            data(b"23"),
        ]);
        let n = stream_body(body, plan(0, 4, policy), &mut Discard::default(), None)
            .await
            .unwrap();
        assert_eq!(n, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_end_after_all_bytes_is_success() {
        let body = ScriptedBody::new(vec![data(b"0123"), Step::Wait(Duration::from_secs(100))]);
        let n = stream_body(body, plan(0, 4, idle(1000)), &mut Discard::default(), None)
            .await
            .unwrap();
        assert_eq!(n, 4);
    }
}
