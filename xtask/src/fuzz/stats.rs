//! What a libFuzzer log says about a run: executions, coverage, corpus.

/// The numbers of one run (each `None` when the log did not say, e.g. after a crash at once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Inputs executed (`stat::number_of_executed_units`, else the last status line's `#N`).
    pub runs: Option<u64>,
    /// Executions per second (`stat::average_exec_per_sec`).
    pub rate: Option<u64>,
    /// Coverage: edges (`cov:`) of the last status line.
    pub cov: Option<u64>,
    /// Coverage: features (`ft:`) of the last status line.
    pub features: Option<u64>,
    /// Corpus entries (`corp: N/...`) of the last status line.
    pub corpus: Option<u64>,
}

impl Stats {
    /// Reads libFuzzer's output (its `-print_final_stats=1` lines and status lines).
    pub fn from_log(log: &str) -> Self {
        let final_stat = |name: &str| {
            log.lines().find_map(|line| {
                line.strip_prefix(name)?
                    .trim_start_matches(':')
                    .trim()
                    .parse()
                    .ok()
            })
        };
        let status = log.lines().rev().find(|line| line.contains(" cov: "));
        let field = |name: &str| -> Option<u64> {
            let line = status?;
            let after = line.split(name).nth(1)?;
            let number: String = after
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            number.parse().ok()
        };
        let status_runs = status.and_then(|line| {
            let number: String = line
                .strip_prefix('#')?
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            number.parse().ok()
        });
        Self {
            runs: final_stat("stat::number_of_executed_units").or(status_runs),
            rate: final_stat("stat::average_exec_per_sec"),
            cov: field(" cov:"),
            features: field(" ft:"),
            corpus: field(" corp:"),
        }
    }

    /// Runs, for the table.
    pub fn runs_text(&self) -> String {
        text(self.runs)
    }

    /// Runs per second, for the table.
    pub fn rate_text(&self) -> String {
        text(self.rate)
    }

    /// Edges, for the table.
    pub fn cov_text(&self) -> String {
        text(self.cov)
    }

    /// Features, for the table.
    pub fn features_text(&self) -> String {
        text(self.features)
    }

    /// Corpus entries, for the table.
    pub fn corpus_text(&self) -> String {
        text(self.corpus)
    }
}

fn text(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_owned(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_finished_run() {
        let log = "\
INFO: Seed: 1234
#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb
#4096\tpulse  cov: 1200 ft: 3400 corp: 150/9Kb lim: 4 exec/s: 2048 rss: 60Mb
#60210\tDONE   cov: 1234 ft: 3456 corp: 160/10Kb lim: 4096 exec/s: 1003 rss: 61Mb
Done 60210 runs in 60 second(s)
stat::number_of_executed_units: 60210
stat::average_exec_per_sec:     1003
stat::new_units_added:          159
stat::peak_rss_mb:              61
";
        assert_eq!(
            Stats::from_log(log),
            Stats {
                runs: Some(60210),
                rate: Some(1003),
                cov: Some(1234),
                features: Some(3456),
                corpus: Some(160),
            }
        );
    }

    #[test]
    fn a_crash_log_gives_what_it_has() {
        let log = "#7\tNEW    cov: 99 ft: 100 corp: 5/50b lim: 4 exec/s: 0 rss: 30Mb\n\
                   thread '<unnamed>' panicked at fuzz_targets/x.rs:1:1:\n";
        let stats = Stats::from_log(log);
        assert_eq!(
            (stats.runs, stats.cov, stats.rate),
            (Some(7), Some(99), None)
        );
        assert_eq!(Stats::from_log("").runs_text(), "-");
    }
}
