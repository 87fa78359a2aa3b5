//! Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise,
//! nothing when asked for quiet. Also the one place that writes messages to stderr, so that
//! they never tear the bar.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use oss_resume::Progress;

use crate::size::{format_duration, format_rate, format_size};

/// How often a plain progress line is printed when stderr is not a terminal.
pub const LINE_INTERVAL: Duration = Duration::from_secs(5);

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
    last_line: Option<Instant>,
    told_resume: bool,
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
                    bar.set_length(p.bytes_total);
                    bar.set_position(p.bytes_done);
                    bar.set_message(describe(p));
                }
            }
            Style::Lines => {
                let due = state.last_line.is_none_or(|t| t.elapsed() >= LINE_INTERVAL);
                // The first line waits one interval: short downloads print only the summary.
                if state.last_line.is_none() {
                    state.last_line = Some(Instant::now());
                } else if due && p.bytes_done < p.bytes_total {
                    state.last_line = Some(Instant::now());
                    drop(state);
                    self.print(&format!("ossget: {}", describe(p)));
                }
            }
            Style::Off => {}
        }
    }

    /// Prints `line` on stderr without tearing the bar.
    pub fn print(&self, line: &str) {
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Writes raw bytes (a log record) on stderr without tearing the bar.
    pub fn write_raw(&self, bytes: &[u8]) {
        let write = || {
            let _ = std::io::stderr().lock().write_all(bytes);
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
    ProgressStyle::with_template("{bar:30} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// `412 MiB of 1 GiB (40%), 312 MiB/s, ETA 2.0 s, parts 51/128`.
pub fn describe(p: &Progress) -> String {
    let percent = if p.bytes_total == 0 {
        100.0
    } else {
        p.bytes_done as f64 * 100.0 / p.bytes_total as f64
    };
    let remaining = p.bytes_total.saturating_sub(p.bytes_done);
    let eta = if p.bytes_per_sec > 0.0 {
        format_duration(remaining as f64 / p.bytes_per_sec)
    } else {
        "?".to_owned()
    };
    format!(
        "{} of {} ({percent:.0}%), {}, ETA {eta}, parts {}/{}",
        format_size(p.bytes_done),
        format_size(p.bytes_total),
        format_rate(p.bytes_per_sec),
        p.parts_done,
        p.parts_total
    )
}
