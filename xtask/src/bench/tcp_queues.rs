//! Bytes sitting in the kernel's TCP queues between nginx and a client, from Linux's
//! `/proc/net/tcp` and `/proc/net/tcp6`.
//!
//! The resume scenario counts what nginx sent (`$body_bytes_sent`: bytes it handed to its
//! socket). At the kill some of those bytes never reached the client: nginx's send queue
//! (unsent + unacknowledged) and the client's receive queue (arrived, not yet read). On
//! loopback with 4 connections that is up to tens of MiB that no client can save, so the
//! bench subtracts it to get what the client itself received.

use std::fs;

/// `st` of an established connection in `/proc/net/tcp`.
const ESTABLISHED: u8 = 0x01;

/// One socket line of `/proc/net/tcp{,6}`: the fields the bench needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Socket {
    local_port: u16,
    remote_port: u16,
    state: u8,
    tx_queue: u64,
    rx_queue: u64,
}

/// Bytes queued in the kernel on established connections of server port `port`, right
/// now: the send queue of every socket whose local port is `port` (the server's unsent
/// and unacknowledged bytes) plus the receive queue of every socket whose remote port is
/// `port` (bytes the client's kernel holds that the client has not read). `None` when
/// `/proc/net/tcp` cannot be read (not Linux); a missing `/proc/net/tcp6` (IPv6 off)
/// counts as no sockets.
///
/// On loopback a byte the client's kernel has received but not yet acknowledged is in
/// both queues for that moment, so the sum may overcount a little, never undercount.
///
/// Each file costs a walk of the kernel's whole established-socket hash (about 5 ms on an
/// idle bench VM whatever the number of sockets), and the caller is waiting to kill. So
/// `tcp6` is read only when `/proc/net/sockstat6` counts an IPv6 TCP socket in use (an
/// IPv4-mapped client socket counts there too), and before `tcp`, so that the IPv4
/// lines, where a server on 127.0.0.1 has its connections, are the freshest on return.
pub fn queued_for_port(port: u16) -> Option<u64> {
    let v6 = if tcp6_in_use() {
        fs::read_to_string("/proc/net/tcp6").unwrap_or_default()
    } else {
        String::new()
    };
    let v4 = fs::read_to_string("/proc/net/tcp").ok()?;
    Some(sum_queued(&v4, port) + sum_queued(&v6, port))
}

/// Whether any IPv6 TCP socket is hashed (listening or connected) in this network
/// namespace; `true` when `/proc/net/sockstat6` cannot tell, so `tcp6` is then read.
fn tcp6_in_use() -> bool {
    fs::read_to_string("/proc/net/sockstat6")
        .ok()
        .and_then(|text| tcp6_inuse_count(&text))
        .is_none_or(|n| n > 0)
}

/// `N` from the `TCP6: inuse N` line of `/proc/net/sockstat6`.
fn tcp6_inuse_count(sockstat6: &str) -> Option<u64> {
    let line = sockstat6.lines().find_map(|l| l.strip_prefix("TCP6:"))?;
    let mut words = line.split_whitespace();
    while let Some(word) = words.next() {
        if word == "inuse" {
            return words.next()?.parse().ok();
        }
    }
    None
}

/// [`queued_for_port`] over the text of one `/proc/net/tcp{,6}` file. Lines that do not
/// parse (the header) are skipped.
fn sum_queued(text: &str, port: u16) -> u64 {
    text.lines()
        .filter_map(parse_line)
        .filter(|s| s.state == ESTABLISHED)
        .map(|s| {
            let tx = if s.local_port == port { s.tx_queue } else { 0 };
            let rx = if s.remote_port == port { s.rx_queue } else { 0 };
            tx + rx
        })
        .sum()
}

/// Parses `sl local_address rem_address st tx_queue:rx_queue ...`, where addresses are
/// `HEXIP:HEXPORT` (8 hex digits of IP for v4, 32 for v6) and the rest is hex too.
fn parse_line(line: &str) -> Option<Socket> {
    let mut fields = line.split_whitespace();
    let slot = fields.next()?;
    if !slot.ends_with(':') {
        return None;
    }
    let local_port = port_of(fields.next()?)?;
    let remote_port = port_of(fields.next()?)?;
    let state = u8::from_str_radix(fields.next()?, 16).ok()?;
    let (tx, rx) = fields.next()?.split_once(':')?;
    Some(Socket {
        local_port,
        remote_port,
        state,
        tx_queue: u64::from_str_radix(tx, 16).ok()?,
        rx_queue: u64::from_str_radix(rx, 16).ok()?,
    })
}

/// The port of a `HEXIP:HEXPORT` address.
fn port_of(address: &str) -> Option<u16> {
    let (_, port) = address.rsplit_once(':')?;
    u16::from_str_radix(port, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real lines, taken while curl (rate-limited) fetched from `python3 -m http.server`
    // on 127.0.0.1:18999 (0x4A37) and [::1]:18998 (0x4A36).
    const V4: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1165 1 000000002c2e4fae 100 0 0 10 0
   1: 0100007F:4A37 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1219342 1 00000000b13ce353 100 0 0 10 0
  15: 0100007F:4A37 0100007F:919A 01 00398D71:00000000 04:00000024 00000000     0        1 1219398 2 000000009d4f97e4 20 4 31 18 8
  50: 0100007F:919A 0100007F:4A37 01 00000000:0007E6C2 02:000016A8 00000000     0        0 1219397 2 00000000ebf9b091 20 8 0 11 -1
";
    const V6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:4A36 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1219470 1 0000000088db86ef 100 0 0 10 0
   1: 00000000000000000000000001000000:4A36 00000000000000000000000001000000:9D6C 01 00351CD0:00000000 04:00000034 00000000     0        1 1219498 2 00000000759b41f3 21 4 31 28 8
   2: 00000000000000000000000001000000:9D6C 00000000000000000000000001000000:4A36 01 00000000:003868A8 02:000016A8 00000000     0        0 1218387 2 000000009b69a6bc 20 4 0 11 -1
";

    #[test]
    fn parses_v4_and_v6_lines() {
        let server = V4.lines().nth(3).and_then(parse_line).unwrap();
        assert_eq!(
            server,
            Socket {
                local_port: 0x4A37,
                remote_port: 0x919A,
                state: 1,
                tx_queue: 0x0039_8D71,
                rx_queue: 0,
            }
        );
        let client = V6.lines().nth(3).and_then(parse_line).unwrap();
        assert_eq!(
            (client.local_port, client.remote_port, client.rx_queue),
            (0x9D6C, 0x4A36, 0x0038_68A8)
        );
        assert_eq!(parse_line(V4.lines().next().unwrap()), None, "header");
        assert_eq!(parse_line(""), None);
        assert_eq!(parse_line("   3: 0100007F:ZZZZ 0100007F:4A37 01 0:0"), None);
    }

    #[test]
    fn sums_server_send_and_client_receive_queues_of_one_port() {
        // Server's send queue + client's receive queue; the listener (0A) adds nothing.
        assert_eq!(sum_queued(V4, 0x4A37), 0x0039_8D71 + 0x0007_E6C2);
        assert_eq!(sum_queued(V6, 0x4A36), 0x0035_1CD0 + 0x0038_68A8);
        // Another port's connections are not ours, in either direction.
        assert_eq!(sum_queued(V4, 0x4A36), 0);
        assert_eq!(sum_queued(V4, 0x07E8), 0);
    }

    #[test]
    fn counts_an_ipv4_mapped_client_socket_in_tcp6() {
        // Real: an AF_INET6 client connected to ::ffff:127.0.0.1:18999; the server's side
        // of the connection is in `tcp`, the client's in `tcp6` (the server's line cut
        // after the fields read).
        let v6 = "   0: 0000000000000000FFFF00000100007F:AE18 0000000000000000FFFF00000100007F:4A37 01 00000000:0001F4CE 00:00000000 00000000     0        0 1226805 1 0000000088db86ef 20 8 0 11 -1\n";
        let v4 = "  24: 0100007F:4A37 0100007F:AE18 01 003D8C00:00000000 04:00000026 00000000\n";
        assert_eq!(
            sum_queued(v4, 0x4A37) + sum_queued(v6, 0x4A37),
            0x003D_8C00 + 0x0001_F4CE
        );
    }

    #[test]
    fn skips_connections_that_are_not_established() {
        // The same server socket in TIME_WAIT (06) and CLOSE_WAIT (08).
        let text =
            "  15: 0100007F:4A37 0100007F:919A 06 00398D71:00000000 04:00000024 00000000 0 1 0
  16: 0100007F:4A37 0100007F:919B 08 00001000:00000000 04:00000024 00000000 0 1 0
  17: 0100007F:4A37 0100007F:919C 01 00000010:00000000 04:00000024 00000000 0 1 0
";
        assert_eq!(sum_queued(text, 0x4A37), 0x10);
    }

    #[test]
    fn reads_the_ipv6_tcp_count_from_sockstat6() {
        let idle = "TCP6: inuse 0\nUDP6: inuse 0\nUDPLITE6: inuse 0\nRAW6: inuse 0\nFRAG6: inuse 0 memory 0\n";
        assert_eq!(tcp6_inuse_count(idle), Some(0));
        assert_eq!(
            tcp6_inuse_count("TCP6: inuse 12\nUDP6: inuse 3\n"),
            Some(12)
        );
        // UDP6's count is not TCP6's; a file without the line tells nothing.
        assert_eq!(tcp6_inuse_count("UDP6: inuse 3\n"), None);
        assert_eq!(tcp6_inuse_count("TCP6: inuse x\n"), None);
    }

    #[test]
    fn reads_this_machines_tables() {
        // Whatever runs here, the figure is a number on Linux (port 1 has no traffic).
        if cfg!(target_os = "linux") {
            assert_eq!(queued_for_port(1), Some(0));
        }
    }
}
