//! Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise,
//! nothing when asked for quiet. Also the one place that writes messages to stderr, so that
//! they never tear the bar.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use oss_resume::Progress;

use crate::size::{format_duration, format_rate, format_size};

/// How often a plain progress line is printed when stderr is not a terminal.
pub const LINE_INTERVAL: Duration = Duration::from_secs(5);
/// When the first plain line comes: early enough to show that the download is under way,
/// late enough that a short download prints only its summary.
pub const FIRST_LINE_AFTER: Duration = Duration::from_secs(1);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// An updating bar (stderr is a terminal).
    Bar,
    /// A line every [`LINE_INTERVAL`] (stderr is a file or pipe).
    Lines,
    /// Nothing (`-q`, `--no-progress`).
    Off,
}

/// The stderr side of ossget: progress and messages. Cheap to clone.
#[derive(Clone)]
pub struct Display {
    style: Style,
    /// Messages (notes, warnings, the summary) are printed unless quiet.
    quiet: bool,
    bar: Option<ProgressBar>,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    last: Option<Progress>,
    /// When the next plain progress line is due.
    next_line: Option<Instant>,
    told_resume: bool,
    rate: RateWindow,
}

/// The transfer rate over the last couple of seconds, from the progress samples. The
/// library's own figure is smoothed from zero and lags by about a second, which is most of
/// a short download; a window average is right as soon as it spans a few samples.
#[derive(Default)]
struct RateWindow {
    samples: VecDeque<(Instant, u64)>,
}

impl RateWindow {
    const SPAN: Duration = Duration::from_secs(2);
    const MIN_SPAN: Duration = Duration::from_millis(90);

    /// Records `bytes_done` at `now`; the rate when the window is long enough.
    fn update(&mut self, now: Instant, bytes_done: u64) -> Option<f64> {
        // The clock starts at the first byte: time spent before any progress (HEAD,
        // preallocation, a long stall) would only drag the average down.
        if self.samples.iter().all(|(_, b)| *b == bytes_done) {
            self.samples.clear();
        }
        self.samples.push_back((now, bytes_done));
        while self.samples.len() > 2
            && self
                .samples
                .get(1)
                .is_some_and(|(t, _)| now.duration_since(*t) >= Self::SPAN)
        {
            self.samples.pop_front();
        }
        let (t0, b0) = *self.samples.front()?;
        let span = now.duration_since(t0);
        (span >= Self::MIN_SPAN).then(|| bytes_done.saturating_sub(b0) as f64 / span.as_secs_f64())
    }
}

impl Display {
    /// A display with `style`; `quiet` also silences notes and the summary.
    pub fn new(style: Style, quiet: bool) -> Self {
        let bar = (style == Style::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
            bar.set_style(bar_style());
            bar.set_message("asking OSS for the object's size and version");
            bar
        });
        Self {
            style,
            quiet,
            bar,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// The progress callback for [`oss_resume::Download::on_progress`].
    pub fn callback(&self) -> impl FnMut(&Progress) + Send + 'static {
        let this = self.clone();
        move |p: &Progress| this.update(p)
    }

    /// The last progress reported, if any.
    pub fn last(&self) -> Option<Progress> {
        self.lock().last
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, p: &Progress) {
        let mut state = self.lock();
        state.last = Some(*p);
        let rate = state
            .rate
            .update(Instant::now(), p.bytes_done)
            .unwrap_or(p.bytes_per_sec);
        if !state.told_resume && p.bytes_resumed > 0 {
            state.told_resume = true;
            drop(state);
            self.note(&format!(
                "resuming: {} of {} already on disk",
                format_size(p.bytes_resumed),
                format_size(p.bytes_total)
            ));
            state = self.lock();
        }
        match self.style {
            Style::Bar => {
                if let Some(bar) = &self.bar {
                    bar.set_message(describe(p, rate));
                    bar.set_length(p.bytes_total);
                    bar.set_position(p.bytes_done);
                }
            }
            Style::Lines => {
                let now = Instant::now();
                let next = *state.next_line.get_or_insert(now + FIRST_LINE_AFTER);
                if now >= next && p.bytes_done < p.bytes_total {
                    state.next_line = Some(now + LINE_INTERVAL);
                    drop(state);
                    let line = describe(p, rate);
                    let line: Vec<&str> = line.split_whitespace().collect();
                    self.print(&format!("ossget: {}", line.join(" ")));
                }
            }
            Style::Off => {}
        }
    }

    /// A many-object run's progress (`text` says it all): the bar's message, with the bar
    /// at `done` of `total` once the total is known; a plain line after
    /// [`FIRST_LINE_AFTER`] and every [`LINE_INTERVAL`] without a terminal.
    pub fn batch_status(&self, done: u64, total: Option<u64>, text: &str) {
        match self.style {
            Style::Bar => {
                if let Some(bar) = &self.bar {
                    if let Some(total) = total {
                        bar.set_length(total);
                    }
                    bar.set_position(done);
                    bar.set_message(text.to_owned());
                }
            }
            Style::Lines => {
                let mut state = self.lock();
                let now = Instant::now();
                let next = *state.next_line.get_or_insert(now + FIRST_LINE_AFTER);
                if now >= next {
                    state.next_line = Some(now + LINE_INTERVAL);
                    drop(state);
                    self.print(&format!("ossget: {text}"));
                }
            }
            Style::Off => {}
        }
    }

    /// Prints `line` on stderr without tearing the bar, made safe to print
    /// ([`crate::scrub::text`]: control characters escaped, secrets redacted).
    pub fn print(&self, line: &str) {
        let line = crate::scrub::text(line);
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Writes a log record on stderr without tearing the bar, each of its lines made safe
    /// to print ([`crate::scrub::lines`]).
    pub fn write_raw(&self, bytes: &[u8]) {
        let record = crate::scrub::lines(&String::from_utf8_lossy(bytes));
        let write = || {
            let _ = std::io::stderr().lock().write_all(record.as_bytes());
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// `ossget: <text>` unless quiet.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            self.print(&format!("ossget: {text}"));
        }
    }

    /// Removes the bar (before the final messages).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn bar_style() -> ProgressStyle {
    // The bar takes what the message leaves of the line, so nothing wraps.
    ProgressStyle::with_template("{wide_bar} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// `  412 MiB/1 GiB  40%   312 MiB/s ETA 2.0 s  parts  51/128`: fields padded so the bar
/// beside it keeps its width.
fn describe(p: &Progress, bytes_per_sec: f64) -> String {
    let percent = if p.bytes_total == 0 {
        100.0
    } else {
        p.bytes_done as f64 * 100.0 / p.bytes_total as f64
    };
    let remaining = p.bytes_total.saturating_sub(p.bytes_done);
    let eta = if remaining == 0 {
        "0 s".to_owned()
    } else if bytes_per_sec > 0.0 {
        format_duration(remaining as f64 / bytes_per_sec)
    } else {
        "?".to_owned()
    };
    let total_parts = p.parts_total.to_string();
    format!(
        "{:>9}/{} {:>3.0}% {:>11} ETA {eta:<6} parts {:>w$}/{total_parts}",
        format_size(p.bytes_done),
        format_size(p.bytes_total),
        percent,
        format_rate(bytes_per_sec),
        p.parts_done,
        w = total_parts.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_window_averages_recent_samples() {
        let mut w = RateWindow::default();
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // Time before the first byte and resumed bytes at the start do not count.
        assert_eq!(w.update(at(0), 500 << 20), None);
        assert_eq!(w.update(at(300), 500 << 20), None);
        assert_eq!(w.update(at(350), (500 << 20) + (10 << 20)), None);
        let r = w.update(at(800), (500 << 20) + (50 << 20)).unwrap();
        assert!((r - 100.0 * (1 << 20) as f64).abs() < 1.0, "{r}");
        // A stall shows as a falling rate, then (a whole window without progress) as no
        // figure: the caller shows the library's, which decays to zero.
        let slower = w.update(at(1800), (550 << 20) + 1).unwrap();
        assert!(slower < r / 2.0, "{slower}");
        for ms in (1900..=4000).step_by(100) {
            w.update(at(ms), (550 << 20) + 1);
        }
        assert_eq!(w.update(at(4100), (550 << 20) + 1), None);
        assert!(w.samples.len() <= 22);
    }
}
