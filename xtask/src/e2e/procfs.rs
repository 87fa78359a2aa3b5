//! What Linux's /proc tells about a running (or just killed) ossget: how many bytes it has
//! written — to kill it at a chosen point of the download, to measure its rate, and to know
//! how much it had received but not yet written when it died.

/// `wchar` of `/proc/PID/io`: bytes the process has passed to write-like system calls —
/// for ossget, the downloaded data it `pwritev`s into the temp file, plus a few KiB of
/// checkpoint per commit. (Its socket reads are `recv` calls, which `rchar` does not
/// count, so the written side is the one that tracks the download.) `None` once the
/// process is gone (or without /proc).
pub fn written_bytes(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    parse_wchar(&text)
}

fn parse_wchar(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Waits (up to `limit`) until `pid` is a zombie — dead, not yet reaped, its counters
/// final. False if it is not our child any more or the time ran out.
pub fn wait_zombie(pid: u32, limit: std::time::Duration) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) if state(&stat) == Some('Z') => return true,
            Ok(_) => std::thread::sleep(std::time::Duration::from_micros(200)),
            Err(_) => return false,
        }
    }
    false
}

/// The state letter of a `/proc/PID/stat` line (after the parenthesised command name,
/// which may itself hold spaces and parentheses).
fn state(stat: &str) -> Option<char> {
    stat.rsplit_once(") ")?.1.chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wchar_from_proc_pid_io() {
        let io = "rchar: 1234567\nwchar: 10\nsyscr: 3\n";
        assert_eq!(parse_wchar(io), Some(10));
        assert_eq!(parse_wchar("rchar: 1\n"), None);
    }

    #[test]
    fn state_letter_after_the_command_name() {
        assert_eq!(state("1234 (ossget) R 1 2 3"), Some('R'));
        assert_eq!(state("1234 (a) b) (c) Z 1 2"), Some('Z'));
        assert_eq!(state("garbage"), None);
    }

    #[test]
    fn our_own_process_is_readable() {
        let me = std::process::id();
        assert!(written_bytes(me).is_some(), "/proc/self/io unreadable");
        // Not a zombie: we are running (and not our own child).
        assert!(!wait_zombie(me, std::time::Duration::from_millis(5)));
    }
}
