//! What Linux's /proc tells about a running ossget: how many bytes it has written (to kill
//! it at a chosen point of the download, and to measure its rate) and how many bytes sit
//! unread in the socket buffers between the proxy and it (the "socket buffers" term of the
//! re-fetch bound).

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

/// Bytes queued on established loopback TCP connections to or from `port` (the proxy):
/// unread data on the client's side (`rx_queue` of sockets whose remote port is `port`)
/// plus unacknowledged data on the proxy's side (`tx_queue` of sockets whose local port is
/// `port`). Body bytes the proxy has counted as relayed but the client has not read yet;
/// a kill at this instant loses them. `None` without /proc.
pub fn socket_backlog(port: u16) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/tcp").ok()?;
    Some(parse_backlog(&text, port))
}

fn parse_backlog(text: &str, port: u16) -> u64 {
    let port_of = |addr: &str| {
        addr.rsplit_once(':')
            .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
    };
    let mut total = 0u64;
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(local), Some(remote), Some(state), Some(queues)) =
            (fields.get(1), fields.get(2), fields.get(3), fields.get(4))
        else {
            continue;
        };
        // 01 = ESTABLISHED; a closing socket's data is gone with its owner anyway.
        if *state != "01" {
            continue;
        }
        let Some((tx, rx)) = queues.split_once(':') else {
            continue;
        };
        let (Ok(tx), Ok(rx)) = (u64::from_str_radix(tx, 16), u64::from_str_radix(rx, 16)) else {
            continue;
        };
        if port_of(remote) == Some(port) {
            total += rx;
        }
        if port_of(local) == Some(port) {
            total += tx;
        }
    }
    total
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
    fn backlog_counts_only_established_connections_of_the_port() {
        // Port 0x8163 = 33123 (the proxy). Line 1: the proxy's listener (ignored, state 0A).
        // Line 2: client -> proxy, 0x100 unread by the client. Line 3: proxy -> client, 0x20
        // unacknowledged. Line 4: another port. Line 5: a closing socket (state 06).
        let table = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:8163 00000000:0000 0A 00000000:00000005 00:00000000 00000000     0        0 1
   1: 0100007F:D431 0100007F:8163 01 00000000:00000100 00:00000000 00000000     0        0 2
   2: 0100007F:8163 0100007F:D431 01 00000020:00000000 00:00000000 00000000     0        0 3
   3: 0100007F:1F90 0100007F:D432 01 00000400:00000400 00:00000000 00000000     0        0 4
   4: 0100007F:D433 0100007F:8163 06 00000000:00000999 00:00000000 00000000     0        0 5
";
        assert_eq!(parse_backlog(table, 0x8163), 0x120);
        assert_eq!(parse_backlog(table, 1), 0);
        assert_eq!(parse_backlog("garbage\nmore garbage", 0x8163), 0);
    }

    #[test]
    fn our_own_process_is_readable() {
        let me = std::process::id();
        assert!(written_bytes(me).is_some(), "/proc/self/io unreadable");
        assert!(socket_backlog(1).is_some());
    }
}
