//! One row per scenario and the table e2e prints at the end.

use std::fmt::Write as _;

use crate::size::human;

/// What one scenario did.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The scenario's name.
    pub name: &'static str,
    /// Rounds (downloads brought to an end) attempted.
    pub rounds: u64,
    /// Rounds that ended as promised.
    pub passed: u64,
    /// Body bytes the proxy relayed to ossget over the whole scenario.
    pub fetched: u64,
    /// Object bytes the scenario had to deliver (size × rounds, or 0 where no file was due).
    pub needed: u64,
    /// Short notes for the table.
    pub notes: Vec<String>,
    /// What went wrong, each with how to reproduce it.
    pub failures: Vec<String>,
    /// Why it did not run, when it did not.
    pub skipped: Option<String>,
    /// Wall time.
    pub secs: f64,
}

impl Row {
    /// A row for `name`.
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            ..Self::default()
        }
    }

    /// Records a failure (and prints it at once, so a long run shows it early).
    pub fn fail(&mut self, what: impl Into<String>) {
        let what = what.into();
        eprintln!("    FAIL {}: {what}", self.name);
        self.failures.push(what);
    }

    /// Adds a note.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// `fetched / needed` as the table shows it.
    pub fn fetched_text(&self) -> String {
        if self.skipped.is_some() {
            return "-".into();
        }
        if self.needed == 0 {
            return human(self.fetched);
        }
        format!(
            "{} / {} ({:.3})",
            human(self.fetched),
            human(self.needed),
            self.fetched as f64 / self.needed as f64
        )
    }
}

/// The table, Markdown-style so it pastes into a note.
pub fn table(rows: &[Row]) -> String {
    let header = [
        "scenario",
        "rounds",
        "passed",
        "fetched / needed",
        "time",
        "notes",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let notes = match &r.skipped {
                Some(why) => format!("SKIPPED: {why}"),
                None if !r.failures.is_empty() => {
                    format!("FAILED ({}); {}", r.failures.len(), r.notes.join("; "))
                }
                None => r.notes.join("; "),
            };
            [
                r.name.to_string(),
                r.rounds.to_string(),
                r.passed.to_string(),
                r.fetched_text(),
                format!("{:.1}s", r.secs),
                notes,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    // Notes stay unpadded (the last column can be long).
    widths[5] = 0;
    let mut out = String::new();
    let line = |out: &mut String, row: &[String]| {
        out.push('|');
        for (c, w) in row.iter().zip(widths) {
            let pad = w.saturating_sub(c.chars().count());
            let _ = write!(out, " {c}{} |", " ".repeat(pad));
        }
        out.push('\n');
    };
    line(&mut out, &header.map(String::from));
    out.push('|');
    for w in widths {
        let _ = write!(out, "{}|", "-".repeat(w.max(3) + 2));
    }
    out.push('\n');
    for row in &cells {
        line(&mut out, row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_show_ratio_failures_and_skips() {
        let mut ok = Row::new("cut-once");
        ok.rounds = 1;
        ok.passed = 1;
        ok.fetched = 1 << 30;
        ok.needed = 1 << 30;
        ok.note("1 cut, 1 retry");
        let mut bad = Row::new("kill-9");
        bad.rounds = 50;
        bad.passed = 49;
        bad.fetched = 3 << 29;
        bad.needed = 1 << 30;
        bad.failures.push("round 7".into());
        let mut skip = Row::new("disk-full");
        skip.skipped = Some("mount: permission denied".into());
        let t = table(&[ok, bad, skip]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 5, "{t}");
        assert!(lines[0].starts_with("| scenario "));
        assert!(lines[2].contains("1GiB / 1GiB (1.000)") && lines[2].contains("1 cut, 1 retry"));
        assert!(lines[3].contains("1.5GiB / 1GiB (1.500)") && lines[3].contains("FAILED (1)"));
        assert!(lines[4].contains("SKIPPED: mount: permission denied"));
        assert!(lines[4].contains("| - "));
    }
}
