//! `cargo xtask bench`: ossget against its peers on one nginx on loopback.
//!
//! The harness (xtask/bench/README.md says what each figure means): nginx from apt with a config
//! rendered from `xtask/bench/nginx.conf.template`; random objects made once under
//! `target/bench/data/` and warmed into the page cache; every row (the peer table in
//! [`peers::ROWS`]) with the same N and part size; each run cleans its directory, runs
//! `sync`, then the command under `/usr/bin/time` and `timeout`, then `sync OUT` for the
//! durable column, then `cmp` against the source (a wrong file is a failure, not a
//! figure); runs interleaved across rows (ABCABC); min and median; then the resume
//! scenario (kill -9 at half, rerun, bytes re-sent; less what sat in the kernel's TCP queues
//! at the kill, for the client-counted figure), and with `--resume-rate` the same rounds
//! again against a rate-limited copy of the logged server. Results go to
//! `target/bench/latest.json` and stdout as Markdown.
//!
//! Not part of `cargo xtask ci`: nothing in CI needs nginx or the peers.

mod cmd;
mod data;
mod links;
mod many_objects;
mod measure;
mod nginx;
mod options;
mod peers;
mod rate_limit;
mod record;
mod report;
mod small_parts;
mod tcp_queues;
mod tools;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::crc64;
use crate::size::exact;
use crate::step::{self, Failure};
use measure::Runner;
use nginx::{LoggedServer, Nginx};
use options::Options;
use peers::{Column, Group, Job, Knob, Need, Phase, ROWS, Row};
use record::{Machine, ObjectRecord, OptionsRecord, Record, Skipped};
use report::{Case, ResumeCase, Section, Skip};

/// Runs the bench with the arguments after `bench`.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let opts = match options::parse(args) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{}", options::USAGE);
            return Ok(());
        }
        Err(why) => return Err(Failure::new("arguments", why)),
    };
    if opts.list {
        print!("{}", list_rows());
        return Ok(());
    }
    if let Some(only) = &opts.only {
        for name in only {
            if peers::by_name(name).is_none() {
                let names: Vec<&str> = ROWS.iter().map(|r| r.name).collect();
                return Err(Failure::new(
                    "arguments",
                    format!("--only: no row `{name}`; rows: {}", names.join(", ")),
                ));
            }
        }
    }
    for program in ["/usr/bin/time", "timeout", "sync", "cmp"] {
        let found = if program.starts_with('/') {
            Path::new(program).is_file()
        } else {
            tools::which(program).is_some()
        };
        if !found {
            return Err(Failure::new(
                "tools",
                format!(
                    "`{program}` is missing; the bench measures with it (bash xtask/bench/install-peers.sh installs GNU time)"
                ),
            ));
        }
    }
    if opts.many_objects {
        return run_many_objects(&opts);
    }
    Bench::new(opts)?.run()
}

/// `--many-objects`: its own emulator, rows and table (see [`many_objects`]).
fn run_many_objects(opts: &Options) -> Result<(), Failure> {
    let root = step::workspace_root();
    let dir = step::target_dir().join("bench");
    let load_before = loadavg();
    let tools = many_objects::tools(&root, &dir, opts.no_build)?;
    let runs = if opts.runs_given { opts.runs } else { 1 };
    let text = many_objects::run(&tools, &dir, opts.many_scale, runs, opts.timeout_secs)?;
    println!(
        "many objects (scale {}, {runs} round(s); load average before {load_before}, after {})",
        opts.many_scale,
        loadavg()
    );
    print!("{text}");
    Ok(())
}

/// The row table, for `--list`.
fn list_rows() -> String {
    let knob = |k: Knob| match k {
        Knob::Flag(text) => text.to_string(),
        Knob::Fixed(n) => format!("always {n}"),
        Knob::Absent => "none".to_string(),
    };
    let mut out = String::from(
        "| row | group | N | part size | columns | sweeps | resume | what |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in ROWS {
        let columns: Vec<&str> = r.columns.list().iter().map(|c| c.name()).collect();
        out.push_str(&format!(
            "| {} | {:?} | {} | {} | {} | {} | {} | {} |\n",
            r.name,
            r.group,
            knob(r.threads),
            knob(r.part),
            columns.join(" + "),
            if r.sweeps { "yes" } else { "no" },
            if r.resumes { "yes" } else { "no" },
            r.about
        ));
    }
    out
}

struct Bench {
    opts: Options,
    root: PathBuf,
    dir: PathBuf,
}

impl Bench {
    fn new(opts: Options) -> Result<Self, Failure> {
        let root = step::workspace_root();
        let dir = step::target_dir().join("bench");
        for sub in ["logs", "work", "bin"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| {
                Failure::new(
                    "prepare",
                    format!("cannot create {}: {e}", dir.join(sub).display()),
                )
            })?;
        }
        Ok(Self { opts, root, dir })
    }

    fn run(self) -> Result<(), Failure> {
        let started = SystemTime::now();
        let load_before = loadavg();
        // `--links`: only the links section, with its own rows.
        let links_mode = !self.opts.links.is_empty();
        let wanted = |row: &Row| {
            let only_ok = self
                .opts
                .only
                .as_ref()
                .is_none_or(|only| only.iter().any(|n| n == row.name));
            if links_mode {
                return only_ok && links::ROWS.iter().any(|(n, _)| *n == row.name);
            }
            row.group == Group::Limit
                || self
                    .opts
                    .only
                    .as_ref()
                    .is_none_or(|only| only.iter().any(|n| n == row.name))
        };

        // Data, then the server, then the tools.
        let data_dir = self.dir.join("data");
        let mut objects = Vec::new();
        for &size in &self.opts.sizes {
            objects.push(data::ensure(&data_dir, size).map_err(|e| Failure::new("data", e))?);
        }
        let server = Nginx::start(
            &self.dir.join("nginx"),
            self.opts.port,
            &data_dir,
            &objects,
            self.opts.resume_rate,
        )
        .map_err(|e| Failure::new("nginx", e))?;
        let server_text = server.describe();
        eprintln!("==> bench: server {server_text}");
        if let Some(limited) = &server.limited {
            eprintln!("==> bench: {}", server.describe_logged(limited));
        }

        let modules: Vec<&'static str> = ROWS
            .iter()
            .filter(|r| wanted(r))
            .flat_map(|r| r.needs.iter())
            .filter_map(|n| match n {
                Need::PyModule(m) => Some(*m),
                _ => None,
            })
            .collect();
        let ossget_wanted = ROWS.iter().any(|r| wanted(r) && r.group == Group::Ours);
        let python_wanted = ROWS.iter().any(|r| wanted(r) && r.group == Group::Python);
        // The C example is compiled for the first N and part size (its row does not sweep).
        let c_knobs = ROWS
            .iter()
            .any(|r| wanted(r) && r.needs.contains(&Need::CLibrary))
            .then(|| (self.opts.threads.first(), self.opts.part_sizes.first()))
            .and_then(|(t, p)| Some((*t?, *p?)));
        let found = tools::discover(
            &self.root,
            &self.dir,
            &modules,
            tools::Build {
                ossget: ossget_wanted && !self.opts.no_build,
                wheel: python_wanted && !self.opts.no_build,
                c_library: c_knobs.is_some() && !self.opts.no_build,
                emulator: links_mode.then_some(!self.opts.no_build),
            },
            c_knobs,
        );
        let tools = &found.tools;

        // Which rows run, at which knobs; why others do not.
        let mut skips: Vec<Skip> = Vec::new();
        let mut cases: Vec<Case> = Vec::new();
        let mut resumes: Vec<ResumeCase> = Vec::new();
        for row in ROWS.iter().filter(|r| wanted(r) && !links_mode) {
            let missing: Vec<String> = row
                .needs
                .iter()
                .filter_map(|n| found.missing(*n, server.headers_more))
                .collect();
            if !missing.is_empty() {
                let reason = missing.join("; ");
                eprintln!("==> bench: SKIP {}: {reason}", row.name);
                skips.push(Skip {
                    name: row.name,
                    reason,
                });
                continue;
            }
            for object in &objects {
                for (threads, part) in self.knobs(row) {
                    let job = self.job(row, object, threads, part, server.port, tools);
                    match (row.build)(&job) {
                        Ok(cmd) => cases.push(Case {
                            section: Section::Main,
                            row,
                            size: object.size,
                            threads,
                            part,
                            command: cmd.shell(),
                            sync_command: cmd::Cmd::new("sync").path(&job.out).shell(),
                            samples: Vec::new(),
                            failures: Vec::new(),
                        }),
                        Err(reason) => {
                            let reason = format!("N={threads} part={}: {reason}", exact(part));
                            eprintln!("==> bench: SKIP {}: {reason}", row.name);
                            skips.push(Skip {
                                name: row.name,
                                reason,
                            });
                        }
                    }
                }
                let default_knobs = (
                    self.opts.threads.first().copied().unwrap_or(4),
                    self.default_part(),
                );
                let threads = match row.threads {
                    Knob::Fixed(n) => n,
                    _ => default_knobs.0,
                };
                if row.resumes && self.opts.resume_runs > 0 {
                    for logged in std::iter::once(&server.twin).chain(&server.limited) {
                        // The limit is RATE / N per request for the N every resuming row
                        // runs at; a row fixed at another N would see another total.
                        if let Some(rate) = logged.rate
                            && rate.connections != threads
                        {
                            let reason = format!(
                                "rate-limited resume: runs at N={threads}, the limit is split \
                                 over N={}",
                                rate.connections
                            );
                            eprintln!("==> bench: SKIP {}: {reason}", row.name);
                            skips.push(Skip {
                                name: row.name,
                                reason,
                            });
                            continue;
                        }
                        let job =
                            self.job(row, object, threads, default_knobs.1, logged.port, tools);
                        let resume_job = Job {
                            phase: Phase::Resume,
                            ..job
                        };
                        if let Ok(cmd) = (row.build)(&resume_job) {
                            resumes.push(ResumeCase {
                                row,
                                size: object.size,
                                threads,
                                part: default_knobs.1,
                                command: cmd.shell(),
                                rate: logged.rate,
                                samples: Vec::new(),
                                failures: Vec::new(),
                            });
                        }
                    }
                }
            }
        }

        // The small-parts section: fixed (N, part size) pairs, its own table.
        if self.opts.small_parts && !links_mode {
            let rows = small_parts::ROWS
                .iter()
                .filter_map(|name| peers::by_name(name))
                .filter(|r| wanted(r));
            for row in rows {
                // A row that cannot run is already among the skips.
                if row
                    .needs
                    .iter()
                    .any(|n| found.missing(*n, server.headers_more).is_some())
                {
                    continue;
                }
                for object in &objects {
                    for (threads, part) in small_parts::KNOBS {
                        let job = self.job(row, object, threads, part, server.port, tools);
                        match (row.build)(&job) {
                            Ok(cmd) => cases.push(Case {
                                section: Section::SmallParts,
                                row,
                                size: object.size,
                                threads,
                                part,
                                command: cmd.shell(),
                                sync_command: cmd::Cmd::new("sync").path(&job.out).shell(),
                                samples: Vec::new(),
                                failures: Vec::new(),
                            }),
                            Err(reason) => skips.push(Skip {
                                name: row.name,
                                reason: format!(
                                    "small parts, N={threads} part={}: {reason}",
                                    exact(part)
                                ),
                            }),
                        }
                    }
                }
            }
        }

        // The links section: one chaos proxy per profile in front of the same nginx.
        let mut link_proxies: Vec<(&'static str, u16, crate::listening::Listening)> = Vec::new();
        for &profile in &self.opts.links {
            let Some(bin) = tools.emulator.as_ref() else {
                return Err(Failure::new(
                    "links",
                    found
                        .emulator_missing
                        .clone()
                        .unwrap_or_else(|| "oss-emulator is not available".to_string()),
                ));
            };
            let (proxy, port) = links::start_proxy(bin, profile, server.port, 0)
                .map_err(|e| Failure::new("links", e))?;
            eprintln!(
                "==> bench: link {profile}: proxy {} in front of nginx (a fresh one, seeded \
                 with the round, before every run)",
                proxy.endpoint
            );
            link_proxies.push((profile, port, proxy));
            for (name, threads) in links::ROWS {
                let Some(row) = peers::by_name(name).filter(|r| wanted(r)) else {
                    continue;
                };
                let missing: Vec<String> = row
                    .needs
                    .iter()
                    .filter_map(|n| found.missing(*n, server.headers_more))
                    .collect();
                if !missing.is_empty() {
                    if profile == self.opts.links[0] {
                        let reason = missing.join("; ");
                        eprintln!("==> bench: SKIP {name} (links): {reason}");
                        skips.push(Skip {
                            name: row.name,
                            reason,
                        });
                    }
                    continue;
                }
                for object in &objects {
                    let part = self.default_part();
                    let job = self.job(row, object, threads, part, port, tools);
                    match (row.build)(&job) {
                        Ok(cmd) => cases.push(Case {
                            section: Section::Links(profile),
                            row,
                            size: object.size,
                            threads,
                            part,
                            command: cmd.shell(),
                            sync_command: cmd::Cmd::new("sync").path(&job.out).shell(),
                            samples: Vec::new(),
                            failures: Vec::new(),
                        }),
                        Err(reason) => skips.push(Skip {
                            name: row.name,
                            reason: format!("links, N={threads}: {reason}"),
                        }),
                    }
                }
            }
        }

        // Timed runs, interleaved: every case once per round. Each durable run is
        // preceded by the disk's own durable copy of the same bytes, which it is read
        // against (this VM's disk drifts by several times over minutes).
        let disk_row = peers::by_name("disk-durable-copy");
        let runner = Runner {
            timeout_secs: self.opts.timeout_secs,
            logs: self.dir.join("logs"),
        };
        let total = self.opts.runs;
        for round in 1..=total {
            for object in &objects {
                data::warm(&object.path).map_err(|e| Failure::new("data", e))?;
                for case in cases.iter_mut().filter(|c| c.size == object.size) {
                    let port = match case.section {
                        Section::Links(p) => {
                            fresh_proxy(&mut link_proxies, p, server.port, round, tools)?
                        }
                        _ => server.port,
                    };
                    let job = self.job(case.row, object, case.threads, case.part, port, tools);
                    let tag = match case.section {
                        Section::Links(p) => {
                            format!(
                                "{p}-{}",
                                tag(case.row, object.size, case.threads, case.part)
                            )
                        }
                        _ => tag(case.row, object.size, case.threads, case.part),
                    };
                    let durable = !matches!(case.section, Section::Links(_))
                        && case.row.group != Group::Limit
                        && case.row.columns.list().contains(&Column::Durable);
                    let beside = match disk_row.filter(|_| durable) {
                        Some(disk) => self.disk_beside(&runner, disk, object, server.port, tools),
                        None => None,
                    };
                    let result = (case.row.build)(&job).and_then(|cmd| {
                        runner.timed(
                            &tag,
                            &cmd,
                            &job,
                            object,
                            case.row.verify,
                            case.row.columns.syncs(),
                        )
                    });
                    let _ = measure::fresh_dir(&job.work);
                    match result {
                        Ok(mut sample) => {
                            sample.disk_beside = beside;
                            eprintln!(
                                "[{round}/{total}] {tag}: {:.2} s{}{}{} (cpu {:.2} s, rss {} MiB) ok",
                                sample.wall,
                                sample
                                    .sync
                                    .map_or(String::new(), |s| format!(" + sync {s:.2} s")),
                                beside.map_or(String::new(), |d| format!(", disk beside {d:.2} s")),
                                sample.requests.map_or(String::new(), |r| format!(
                                    ", {r} requests over {} connections",
                                    sample.connections.unwrap_or(0)
                                )),
                                sample.user + sample.sys,
                                sample.rss_kib / 1024
                            );
                            case.samples.push(sample);
                        }
                        Err(why) => {
                            eprintln!("[{round}/{total}] {tag}: FAILED: {why}");
                            case.failures.push(why);
                        }
                    }
                }
            }
        }

        // Resume waste, interleaved likewise; then, with --resume-rate, a second set of
        // rounds against the rate-limited server.
        for logged in std::iter::once(&server.twin).chain(&server.limited) {
            self.resume_rounds(&runner, logged, &objects, &mut resumes, tools)?;
        }
        // What served the resume rounds, for the JSON (twin, rate-limited twin).
        let server_texts = (
            server.describe_logged(&server.twin),
            server
                .limited
                .as_ref()
                .map(|l| server.describe_logged(l))
                .unwrap_or_default(),
        );
        drop(link_proxies);
        drop(server);
        let load_after = loadavg();

        // Report.
        let started_secs = started
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = format!(
            "## cargo xtask bench — {}\n\nserver: {server_text}; client and server share {} cores \
             (load average before {load_before}, after {load_after}).\nknobs: N={} part={} unless \
             the row says otherwise; {} timed runs per row, interleaved; min and median; every \
             output compared with the source. Ratios: `× limit` against the fastest limit row of the column, \
             `× ossget` against ossget with the same column, size, N and part size (>1: slower \
             than ossget).",
            utc(started_secs),
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0),
            self.opts.threads.first().copied().unwrap_or(4),
            exact(self.default_part()),
            self.opts.runs,
        );
        let text = report::markdown(&header, &self.opts.sizes, &cases, &resumes, &skips);
        println!("{text}");

        let wrapper = format!(
            "sync; /usr/bin/time -f '%e %U %S %M' timeout -k 5 {} COMMAND; [sync OUT]; cmp OUT SOURCE",
            self.opts.timeout_secs
        );
        let record = Record {
            started_unix: started_secs,
            started_utc: utc(started_secs),
            machine: machine(&load_before, &load_after),
            server: &server_text,
            options: self.options_record(),
            objects: objects
                .iter()
                .map(|o| ObjectRecord {
                    key: &o.key,
                    size_bytes: o.size,
                    crc64ecma: o.crc64.to_string(),
                })
                .collect(),
            rows: cases
                .iter()
                .flat_map(|c| record::case_rows(c, &cases, &server_text, &wrapper))
                .collect(),
            resume: resumes
                .iter()
                .map(|r| {
                    let logged = match r.rate {
                        Some(_) => server_texts.1.as_str(),
                        None => server_texts.0.as_str(),
                    };
                    record::resume_row(r, logged)
                })
                .collect(),
            skipped: skips
                .iter()
                .map(|s| Skipped {
                    name: s.name,
                    reason: &s.reason,
                })
                .collect(),
        };
        let json = record.to_pretty().map_err(|e| Failure::new("report", e))?;
        let path = self.dir.join("latest.json");
        fs::write(&path, json)
            .map_err(|e| Failure::new("report", format!("cannot write {}: {e}", path.display())))?;
        eprintln!("==> bench: wrote {}", path.display());

        // Our own rows and the limits must be right; a peer's failure is a row, not ours.
        let ours_failed: Vec<String> = cases
            .iter()
            .filter(|c| c.row.group != Group::Peer && !c.failures.is_empty())
            .map(|c| c.row.name.to_string())
            .chain(
                resumes
                    .iter()
                    .filter(|r| r.row.group != Group::Peer && !r.failures.is_empty())
                    .map(|r| match r.rate {
                        None => format!("{} (resume)", r.row.name),
                        Some(rate) => format!(
                            "{} (resume at {}/s)",
                            r.row.name,
                            rate_limit::rate_text(rate.total)
                        ),
                    }),
            )
            .collect();
        if ours_failed.is_empty() {
            Ok(())
        } else {
            Err(Failure::new(
                "bench",
                format!("rows that must not fail did: {}", ours_failed.join(", ")),
            ))
        }
    }

    /// `--resume-runs` kill-and-resume rounds of every case in `resumes` that runs
    /// against `logged` (its rate), interleaved across rows.
    fn resume_rounds(
        &self,
        runner: &Runner,
        logged: &LoggedServer,
        objects: &[data::Object],
        resumes: &mut [ResumeCase],
        tools: &peers::Tools,
    ) -> Result<(), Failure> {
        let total = self.opts.resume_runs;
        let label = match logged.rate {
            None => "resume".to_string(),
            Some(rate) => format!("resume at {}/s", rate_limit::rate_text(rate.total)),
        };
        let suffix = if logged.rate.is_some() {
            "-resume-limited"
        } else {
            "-resume"
        };
        for round in 1..=total {
            for object in objects {
                data::warm(&object.path).map_err(|e| Failure::new("data", e))?;
                for r in resumes
                    .iter_mut()
                    .filter(|r| r.size == object.size && r.rate == logged.rate)
                {
                    let job = self.job(r.row, object, r.threads, r.part, logged.port, tools);
                    let tag = format!("{}{suffix}", tag(r.row, object.size, r.threads, r.part));
                    let kill_at = kill_point(
                        object.size,
                        logged.rate.is_some(),
                        u64::from(r.threads) * r.part,
                        round,
                        total,
                    );
                    let result = runner.resume(&tag, r.row.build, &job, object, logged, kill_at);
                    let _ = measure::fresh_dir(&job.work);
                    match result {
                        Ok(s) => {
                            eprintln!(
                                "[{label} {round}/{total}] {tag}: killed at {:.0} MiB read/written \
                                 after {:.1} s, re-fetched {:.1} MiB ({} MiB in kernel queues at \
                                 the kill, so {} MiB by the client), rerun {:.2} s ok",
                                s.killed_at_rchar.max(s.killed_at_wchar) as f64 / 1048576.0,
                                s.killed_after,
                                s.refetched as f64 / 1048576.0,
                                mib_or_unknown(s.kernel_queued_at_kill),
                                mib_or_unknown(s.refetched_client()),
                                s.rerun.wall
                            );
                            r.samples.push(s);
                        }
                        Err(why) => {
                            eprintln!("[{label} {round}/{total}] {tag}: FAILED: {why}");
                            r.failures.push(why);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// One run of the disk's durable copy of `object` (`dd conv=fdatasync` + `sync OUT`):
    /// its durable seconds, or `None` (printed) when it failed.
    fn disk_beside(
        &self,
        runner: &Runner,
        disk: &'static Row,
        object: &data::Object,
        port: u16,
        tools: &peers::Tools,
    ) -> Option<f64> {
        let job = self.job(disk, object, 1, self.default_part(), port, tools);
        let tag = format!("{}-beside", tag(disk, object.size, 1, self.default_part()));
        let result = (disk.build)(&job)
            .and_then(|cmd| runner.timed(&tag, &cmd, &job, object, disk.verify, true));
        let _ = measure::fresh_dir(&job.work);
        match result {
            Ok(s) => Some(s.wall + s.sync.unwrap_or(0.0)),
            Err(why) => {
                eprintln!("{tag}: FAILED: {why}");
                None
            }
        }
    }

    fn default_part(&self) -> u64 {
        self.opts.part_sizes.first().copied().unwrap_or(8 << 20)
    }

    /// The (N, part size) pairs `row` runs at.
    fn knobs(&self, row: &Row) -> Vec<(u32, u64)> {
        let first_n = self.opts.threads.first().copied().unwrap_or(4);
        let threads: Vec<u32> = match row.threads {
            Knob::Fixed(n) => vec![n],
            Knob::Flag(_) if row.sweeps => self.opts.threads.clone(),
            _ => vec![first_n],
        };
        let parts: Vec<u64> = match row.part {
            Knob::Flag(_) if row.sweeps => self.opts.part_sizes.clone(),
            _ => vec![self.default_part()],
        };
        threads
            .iter()
            .flat_map(|&n| parts.iter().map(move |&p| (n, p)))
            .collect()
    }

    fn job<'a>(
        &self,
        row: &Row,
        object: &data::Object,
        threads: u32,
        part: u64,
        port: u16,
        tools: &'a peers::Tools,
    ) -> Job<'a> {
        let work = self
            .dir
            .join("work")
            .join(tag(row, object.size, threads, part));
        Job {
            endpoint: format!("http://127.0.0.1:{port}"),
            key: object.key.clone(),
            size: object.size,
            source: object.path.clone(),
            threads,
            part,
            out: work.join("out.bin"),
            work,
            phase: Phase::Fresh,
            tools,
        }
    }

    fn options_record(&self) -> OptionsRecord<'_> {
        let o = &self.opts;
        OptionsRecord {
            sizes_bytes: &o.sizes,
            runs: o.runs,
            threads: &o.threads,
            part_sizes_bytes: &o.part_sizes,
            only: o.only.as_deref(),
            resume_runs: o.resume_runs,
            resume_rate_bytes_per_s: o.resume_rate.map(|r| r.total),
            timeout_s: o.timeout_secs,
            quick: o.quick,
        }
    }
}

/// Replaces `profile`'s proxy in `proxies` with a fresh one seeded with `round`
/// (`links::start_proxy`); returns its port.
fn fresh_proxy(
    proxies: &mut [(&'static str, u16, crate::listening::Listening)],
    profile: &str,
    upstream: u16,
    round: usize,
    tools: &peers::Tools,
) -> Result<u16, Failure> {
    let bin = tools
        .emulator
        .as_ref()
        .ok_or_else(|| Failure::new("links", "oss-emulator is not available"))?;
    let slot = proxies
        .iter_mut()
        .find(|(p, _, _)| *p == profile)
        .ok_or_else(|| Failure::new("links", format!("no proxy for profile {profile}")))?;
    let (proxy, port) = links::start_proxy(bin, profile, upstream, round as u64)
        .map_err(|e| Failure::new("links", e))?;
    // The old one is killed as it drops.
    *slot = (slot.0, port, proxy);
    Ok(port)
}

/// A file-name-safe tag for a case: `go-sdk-1GiB-n4-p8MiB`.
/// Where a resume round kills: at half the object (the resume target's "kill -9 at 50%";
/// docs/architecture.md#targets) on the unlimited twin; on the rate-limited server,
/// where an even limit keeps a part-by-part tool's N workers in lockstep (so the kill's
/// phase within a round of N parts decides what such a tool loses), at half plus
/// (k - 1/2)/R of a round for round k of R: the rounds average over the phases a kill at a
/// random instant would hit.
pub fn kill_point(size: u64, limited: bool, round_bytes: u64, round: usize, rounds: usize) -> u64 {
    let half = size / 2;
    if !limited || rounds == 0 {
        return half;
    }
    let offset =
        round_bytes.saturating_mul((2 * round as u64).saturating_sub(1)) / (2 * rounds as u64);
    (half + offset).min(size.saturating_sub(1))
}

fn tag(row: &Row, size: u64, threads: u32, part: u64) -> String {
    format!("{}-{}-n{threads}-p{}", row.name, exact(size), exact(part))
}

/// `12.3` (MiB, one decimal) or `?` when the figure is missing.
fn mib_or_unknown(bytes: Option<u64>) -> String {
    bytes.map_or("?".to_string(), |b| format!("{:.1}", b as f64 / 1048576.0))
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".to_string())
}

fn machine(load_before: &str, load_after: &str) -> Machine {
    let read = |p: &str| {
        fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    Machine {
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        cpu,
        kernel: read("/proc/sys/kernel/osrelease"),
        loadavg_before: load_before.to_string(),
        loadavg_after: load_after.to_string(),
    }
}

/// `YYYY-MM-DD HH:MM UTC` from Unix seconds (civil-from-days, proleptic Gregorian).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_798_675_200 + 3_660), "2026-12-31 01:01 UTC");
    }

    #[test]
    fn list_names_every_row() {
        let text = list_rows();
        for r in ROWS {
            assert!(text.contains(&format!("| {} |", r.name)));
        }
    }
}

#[cfg(test)]
mod kill_point_tests {
    use super::kill_point;

    #[test]
    fn kill_points_spread_over_a_round() {
        let round = 32u64 << 20;
        // Unlimited: half, whatever the round.
        assert_eq!(kill_point(1 << 30, false, round, 2, 3), 512 << 20);
        // Limited, 3 rounds: 1/6, 1/2 and 5/6 of a round past half.
        let at = |k| kill_point(1 << 30, true, round, k, 3) - (512 << 20);
        assert_eq!([at(1), at(2), at(3)], [round / 6, round / 2, round * 5 / 6]);
        // Never at or past the end.
        assert_eq!(kill_point(10, true, 1 << 20, 3, 3), 9);
    }
}
