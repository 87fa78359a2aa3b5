//! The text of `ossget -h` / `--help` beyond the option list.

/// One line, for `-h`.
pub const ABOUT: &str = "Download an object from Alibaba Cloud OSS: parallel, verified, resumable after any interruption";

/// The description at the top of `--help`.
pub const LONG_ABOUT: &str = "\
Download an object from Alibaba Cloud OSS in parallel ranged parts, verify every byte, and
resume after Ctrl-C, a network cut, kill -9 or a reboot without fetching again what is
already on disk.

The data goes to DEST.oss-tmp beside DEST and appears at DEST only by an atomic rename once
the file's CRC-64 matches the object's x-oss-hash-crc64ecma (when OSS gives one): this run's
bytes as they were written, and bytes kept from an interrupted run by the CRCs the checkpoint
recorded for them (--verify-resume re-reads those first, for disks you distrust).
Every part is pinned to the object's ETag (and version), so a file is never stitched from two
versions. Progress is kept in DEST.cp while the download runs; the next run with the same
arguments resumes from it. DEST.lock keeps two runs off one file. DEST must be a regular file
(or not exist yet): a device, FIFO or socket is refused, and a symbolic link is replaced, its
target never written.

Defaults differ from the OSS C SDK's (1 thread, no checkpoint), which the oss-resume library
keeps: ossget runs an adaptive number of connections (8 at first, up to 32) of 8MiB parts
with the checkpoint on, since people who type a command want it fast and resumable.";

/// After the options, for `-h`.
pub const AFTER_HELP: &str =
    "See `ossget --help` for examples, environment variables, exit status and --json fields.";

/// After the options, for `--help`.
pub const AFTER_LONG_HELP: &str = "\
Examples:
  Download to ./exampleobject.txt, keys from the environment:
    export OSS_ACCESS_KEY_ID=... OSS_ACCESS_KEY_SECRET=...
    ossget oss://examplebucket/exampledir/exampleobject.txt --region cn-hangzhou

  Into a directory, 8 connections of 64 MiB parts:
    ossget oss://examplebucket/images/disk.qcow2 /data/ --region cn-hangzhou \\
        --threads 8 --part-size 64MiB

  A public-read object without keys, at most 50 MiB/s:
    ossget oss://examplebucket/pub/dataset.tar dataset.tar --anonymous \\
        --endpoint https://oss-cn-hangzhou.aliyuncs.com --limit-rate 50MiB

  In a script: no progress, a JSON summary, the exit status checked:
    ossget -q --json oss://examplebucket/backup.tar.zst backup.tar.zst \\
        --region cn-hangzhou > summary.json || echo \"failed: $?\"

  Interrupted? Run the same command again; it resumes:
    ossget oss://examplebucket/big.img --region cn-hangzhou   # Ctrl-C at 40%
    ossget oss://examplebucket/big.img --region cn-hangzhou   # fetches the other 60%

Streaming to stdout (DEST -, or -o -):
  The parts are fetched in parallel and written to stdout in order through a window of
  --threads parts, so memory stays under threads x part size plus the process's own (peak RSS
  measured 102 MiB with the defaults of 8 x 8MiB, 59 MiB at 4; --threads auto streams on 8
  connections). Nothing is written to disk and no checkpoint is kept: a pipe cannot be rewound,
  so an interrupted stream starts over. The CRC-64 is checked at the end, after the bytes
  went out: on a mismatch ossget exits 1 and says so, and whatever read the stream must
  discard it. A reader that goes away (| head) ends the run quietly with status 141, as
  SIGPIPE would. --json, --no-clobber, --on-complete and the checkpoint options do not
  apply.
    ossget oss://examplebucket/backup.tar - --region cn-hangzhou | tar -x -C restore/

Ranges (--range START-END, START-, -SUFFIX; inclusive, sizes allowed: 1MiB-2MiB):
  To DEST, a range is downloaded like a whole object, only smaller: parallel parts of the
  range, its checkpoint (DEST.cp, which records the range) and DEST.oss-tmp, renamed when
  complete. Interrupted (Ctrl-C, kill -9, a crash), the same command resumes it and fetches
  only what is missing; another range, or a changed object, starts over and says why.
  To stdout (-) it is a stream, not resumable. A range past the end of the object is refused
  after HEAD, before any GET; one ending past it stops at the last byte. OSS has a CRC-64
  for whole objects only: a range's CRC-64 is computed and reported (crc64 in --json), not
  verified. --update does not apply to a range.

Config file (--config FILE; else $OSSGET_CONFIG, else $XDG_CONFIG_HOME/ossget/config.toml or
~/.config/ossget/config.toml when it exists):
  TOML; a key is a long option's name (part-size or part_size), its value what the option
  takes, e.g.
    endpoint = \"https://oss-cn-hangzhou.aliyuncs.com\"
    region = \"cn-hangzhou\"
    threads = 8
    part-size = \"16MiB\"
    proxy = \"http://proxy.example.com:3128\"
  Precedence: a flag, then its environment variable (OSS_ENDPOINT, OSS_REGION; HTTPS_PROXY,
  HTTP_PROXY, ALL_PROXY for proxy), then the file, then the built-in default. An unknown key,
  a value of the wrong type or out of range, and credentials are usage errors (exit 2) that
  name the file, the key and its line; insecure must be typed on each run.

Sizes:
  A byte count, or a number with a unit: K/KiB, M/MiB, G/GiB, T/TiB (powers of 1024);
  KB, MB, GB, TB (powers of 1000). Fractions are allowed with a unit: 1.5GiB.

Interrupting:
  Ctrl-C (SIGINT) or SIGTERM stops the download, saves its progress in the checkpoint and
  prints the command that resumes it (the same one). A second Ctrl-C quits at once; that is
  safe too, since the checkpoint on disk is consistent at every instant. After an
  interruption the next run fetches only the bytes the checkpoint does not hold, and every
  byte received before the signal is in it. After kill -9 the next run re-fetches only what
  the checkpoint did not hold yet: what arrived in the last few tens of milliseconds, up to
  about 1.25 MiB per thread not yet written, and whatever sat in the socket buffers (tens of
  MiB on a fast link): 13-33 MiB measured per kill at 1-1.7 GB/s with 4 threads.

Output:
  Progress goes to stderr: a bar (bytes, percent, rate, ETA, parts) on a terminal, plain
  lines otherwise (after 1 s, then every 5 s), nothing with -q or --no-progress. A one-line
  summary (size, time, average rate, requests and connections, bytes resumed, retries)
  follows on stderr unless -q.
  Errors are one or two lines, with the OSS error code and request id when OSS answered.
  stdout carries only the --json object. Text from a server or in a key name is printed with
  control and bidi characters escaped (\\u{1b} on stderr, \\u001b in JSON), and known
  secrets (the access key secret, STS token, SSE-C keys, URL passwords) as <redacted>.

JSON (--json): one object on stdout when the run ends (done, failed or interrupted; usage
errors print none). Sizes are bytes; absent values are null.
  status              \"done\", \"skipped\", \"failed\", \"interrupted\" or \"timed-out\"
  exit_code           the exit status below
  source              \"oss://BUCKET/KEY\"
  destination         the file's absolute path
  bytes_total         the object's size
  bytes_done          bytes on disk when the run ended (bytes_total when done)
  bytes_transferred   body bytes received in this run
  bytes_resumed       bytes already on disk from an earlier run, not fetched again
  retries             part requests retried after transient errors
  requests            ranged GETs sent (each covers a run of consecutive parts, sized by
                      rate and latency, so far fewer than parts_total with small parts)
  connections_opened  connections opened (kept alive between requests: about --threads)
  restarts            times the download started over on a changed object
  parts_total         parts in the plan
  part_size           bytes per part
  threads             concurrent part downloads (with --threads auto: its cap)
  tail_splits         runs far behind whose rest another connection took over
  connections_auto    with --threads auto: {started, peak, ended, changes, history: [{at_secs,
                      to, reason: \"rate rose\", \"no gain\" or \"throttled\"}]}, else null
  elapsed_secs        wall time of this run
  rate_bytes_per_sec  bytes_transferred / elapsed_secs
  etag, version_id    the version downloaded
  crc64               the object's CRC-64/XZ (x-oss-hash-crc64ecma), a decimal string
  crc64_verified      whether the file's CRC-64 matched crc64 (resumed bytes by the CRCs
                      the checkpoint recorded; re-read only with --verify-resume)
  checkpoint          \"off\", \"fresh\", \"resumed\" or \"already-complete\"
  checkpoint_path     where progress is kept (null with --no-checkpoint)
  checkpoint_note     why an existing checkpoint was not used
  warnings            list of notes that did not stop the download
  signal              \"SIGINT\" or \"SIGTERM\" when interrupted
  skipped             \"exists\" (--no-clobber) or \"unchanged\" (--update) when skipped
  content_type        the object's Content-Type
  last_modified       the object's Last-Modified, ISO 8601 UTC (2026-01-15T08:30:00Z)
  metadata            the object's user metadata (x-oss-meta-*, prefix removed), by name
  range               with --range: the bytes written, \"FIRST-LAST\"; crc64 is then
                      the CRC-64 of those bytes
  error               {\"message\", \"hint\", \"oss_code\", \"request_id\"} when failed

Environment:
  OSS_ACCESS_KEY_ID      AccessKey ID that signs requests (not needed with --anonymous)
  OSS_ACCESS_KEY_SECRET  its secret (never printed or logged)
  OSS_SESSION_TOKEN      STS security token, for temporary credentials
  Without them (and without --anonymous or --profile) the default credentials chain
  goes on: ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, OIDC (ALIBABA_CLOUD_ROLE_ARN,
  ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE), the current profile of
  ~/.aliyun/config.json (ALIBABA_CLOUD_PROFILE picks another), ~/.alibabacloud/credentials.ini,
  the ECS RAM role (off: ALIBABA_CLOUD_ECS_METADATA_DISABLED=true),
  ALIBABA_CLOUD_CREDENTIALS_URI. -v says which one signs.
  OSS_ENDPOINT           default for --endpoint
  OSS_REGION             default for --region
  OSSGET_CONFIG          the config file, when --config is not given
  HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY (or lower case)  the proxy, as curl reads
                         them, when --proxy is not given

Exit status:
  0    the file is complete and verified at DEST
  1    the download failed (the message says why, with the OSS code and request id)
  2    usage error: bad option, size, URL or DEST, missing credentials; nothing was requested
  124  stopped by --max-time; progress kept in the checkpoint
  130  interrupted by SIGINT (Ctrl-C); progress kept in the checkpoint
  141  streaming to stdout: the reader went away (| head); nothing printed
  143  interrupted by SIGTERM; progress kept in the checkpoint";

/// The manual page (roff), from the clap definition: `ossget man`, and the checked-in
/// `doc/ossget.1` (a test regenerates it and compares).
pub fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap::CommandFactory as _;
    let command = crate::cli::Args::command();
    clap_mangen::Man::new(command).render(out)
}
