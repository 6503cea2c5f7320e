//! Which monitor another process talks to, from its own TCP sockets:
//! `/proc/PID/fd` gives the inodes of its sockets, `/proc/PID/net/tcp{,6}`
//! their peers and states. librados exposes no "current monitor", so this
//! is how the failover benchmark watches it from outside.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The kernel's code for an established connection (`TCP_ESTABLISHED`).
const STATE_ESTABLISHED: u8 = 0x01;

/// One row of `/proc/net/tcp` or `/proc/net/tcp6`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSocket {
    /// The socket's inode (what `/proc/PID/fd/N` links to as `socket:[N]`).
    pub inode: u64,
    /// The remote end.
    pub remote: SocketAddr,
    /// Whether the connection is established (not closing or connecting).
    pub established: bool,
}

/// Parses the text of `/proc/net/tcp` or `/proc/net/tcp6`; the header and
/// rows that do not parse are skipped.
pub fn parse_proc_net_tcp(text: &str) -> Vec<TcpSocket> {
    text.lines().skip(1).filter_map(parse_row).collect()
}

fn parse_row(line: &str) -> Option<TcpSocket> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    // sl, local, remote, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
    if fields.len() < 10 {
        return None;
    }
    Some(TcpSocket {
        remote: parse_hex_addr(fields[2])?,
        established: u8::from_str_radix(fields[3], 16).ok()? == STATE_ESTABLISHED,
        inode: fields[9].parse().ok()?,
    })
}

/// `0100007F:0CE4` (IPv4) or 32 hex digits and a port (IPv6). The kernel
/// prints each 32-bit word of the address as a host-order integer.
fn parse_hex_addr(text: &str) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let digits = addr.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(digits, 16).ok()?.to_ne_bytes())
    };
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            let v6 = Ipv6Addr::from(bytes);
            // A v4 peer of a dual-stack socket: compare it as v4.
            v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Inodes of the sockets process `pid` holds open.
pub fn socket_inodes(pid: u32) -> io::Result<HashSet<u64>> {
    let mut inodes = HashSet::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        // An fd may close between listing and reading the link.
        let Ok(entry) = entry else { continue };
        let Ok(link) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let link = link.to_string_lossy();
        if let Some(inode) = link
            .strip_prefix("socket:[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse().ok())
        {
            inodes.insert(inode);
        }
    }
    Ok(inodes)
}

/// Remote ends of the established TCP connections of process `pid`.
pub fn established_peers(pid: u32) -> io::Result<Vec<SocketAddr>> {
    let inodes = socket_inodes(pid)?;
    let mut peers = Vec::new();
    for table in ["tcp", "tcp6"] {
        // tcp6 is absent when IPv6 is disabled.
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        peers.extend(
            parse_proc_net_tcp(&text)
                .into_iter()
                .filter(|s| s.established && inodes.contains(&s.inode))
                .map(|s| s.remote),
        );
    }
    Ok(peers)
}

/// The monitors a process is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonLink {
    /// No established connection to any monitor.
    None,
    /// Exactly one: the monitor it uses.
    One(String),
    /// Several (hunting, or closing the old one): no settled choice yet.
    Several(Vec<String>),
}

/// Classifies `peers` against monitors given as (name, addresses).
pub fn mon_link(peers: &[SocketAddr], mons: &[(String, Vec<SocketAddr>)]) -> MonLink {
    let mut names: Vec<String> = peers
        .iter()
        .filter_map(|peer| {
            mons.iter()
                .find(|(_, addrs)| addrs.contains(peer))
                .map(|(name, _)| name.clone())
        })
        .collect();
    names.sort();
    match names.len() {
        0 => MonLink::None,
        1 => MonLink::One(names.remove(0)),
        _ => MonLink::Several(names),
    }
}

/// Which end of a TCP connection closed it first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closer {
    /// The client (here: the end at the client's local address).
    Client,
    /// The monitor.
    Monitor,
}

impl Closer {
    pub fn label(self) -> &'static str {
        match self {
            Closer::Client => "client",
            Closer::Monitor => "monitor",
        }
    }
}

/// FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSING: this end sent the first FIN.
const ACTIVE_CLOSE: [u8; 4] = [0x04, 0x05, 0x06, 0x0B];
/// CLOSE_WAIT, LAST_ACK: the other end sent the first FIN.
const PASSIVE_CLOSE: [u8; 2] = [0x08, 0x09];

/// (local, remote, state) of every row of `/proc/net/tcp{,6}` text.
pub fn parse_endpoints(text: &str) -> Vec<(SocketAddr, SocketAddr, u8)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            Some((
                parse_hex_addr(f.get(1)?)?,
                parse_hex_addr(f.get(2)?)?,
                u8::from_str_radix(f.get(3)?, 16).ok()?,
            ))
        })
        .collect()
}

/// Local addresses of process `pid`'s established connections to `remote`.
pub fn local_ends_towards(pid: u32, remote: &[SocketAddr]) -> io::Result<Vec<SocketAddr>> {
    let inodes = socket_inodes(pid)?;
    let mut ends = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(peer), Some(state), Some(inode)) = (
                f.get(1).and_then(|t| parse_hex_addr(t)),
                f.get(2).and_then(|t| parse_hex_addr(t)),
                f.get(3).and_then(|t| u8::from_str_radix(t, 16).ok()),
                f.get(9).and_then(|t| t.parse::<u64>().ok()),
            ) else {
                continue;
            };
            if state == STATE_ESTABLISHED && inodes.contains(&inode) && remote.contains(&peer) {
                ends.push(local);
            }
        }
    }
    Ok(ends)
}

/// Who closed the connection between `client` and `monitor` first, from
/// the kernel's states of its two ends in `rows` (both ends are on this
/// machine); `None` while it is open or gone from the table.
pub fn closed_first(
    rows: &[(SocketAddr, SocketAddr, u8)],
    client: SocketAddr,
    monitor: SocketAddr,
) -> Option<Closer> {
    rows.iter().find_map(|&(local, remote, state)| {
        let side = if (local, remote) == (client, monitor) {
            Closer::Client
        } else if (local, remote) == (monitor, client) {
            Closer::Monitor
        } else {
            return None;
        };
        let other = match side {
            Closer::Client => Closer::Monitor,
            Closer::Monitor => Closer::Client,
        };
        if ACTIVE_CLOSE.contains(&state) {
            Some(side)
        } else if PASSIVE_CLOSE.contains(&state) {
            Some(other)
        } else {
            None
        }
    })
}

/// [`closed_first`] over this network namespace's tables now.
pub fn closed_first_now(client: SocketAddr, monitor: SocketAddr) -> Option<Closer> {
    let mut rows = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            rows.extend(parse_endpoints(&text));
        }
    }
    closed_first(&rows, client, monitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0CE4 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1111 1 0 100 0 0 10 0
   1: 0100007F:A1B2 0100007F:0CE4 01 00000000:00000000 00:00000000 00000000  1000        0 2222 1 0 20 4 30 10 -1
   2: 0100007F:A1B3 0100007F:0CE5 06 00000000:00000000 03:00000F00 00000000     0        0 0 3
   3: garbage
";

    #[test]
    fn parses_rows_addresses_and_states() {
        let rows = parse_proc_net_tcp(TCP);
        assert_eq!(rows.len(), 3, "{rows:?}");
        let peer: SocketAddr = "127.0.0.1:3300".parse().unwrap();
        assert_eq!(
            rows[1],
            TcpSocket {
                inode: 2222,
                remote: peer,
                established: true
            }
        );
        assert!(!rows[0].established, "LISTEN is not established");
        assert!(!rows[2].established, "TIME_WAIT is not established");
        assert_eq!(rows[2].remote.port(), 0x0CE5);
    }

    #[test]
    fn parses_ipv6_and_v4_mapped_peers() {
        let row = "   0: 00000000000000000000000001000000:1F90 0000000000000000FFFF00000100007F:0CE4 01 0:0 0:0 0 0 0 77";
        let rows = parse_proc_net_tcp(&format!("header\n{row}\n"));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].remote, "127.0.0.1:3300".parse().unwrap());
        assert_eq!(parse_hex_addr("0100007F"), None);
        assert_eq!(parse_hex_addr("0100007:0CE4"), None);
    }

    #[test]
    fn the_end_that_sent_the_first_fin_closed_first() {
        let rows = parse_endpoints(TCP);
        let (client, mon): (SocketAddr, SocketAddr) = (
            "127.0.0.1:41395".parse().unwrap(),
            "127.0.0.1:3301".parse().unwrap(),
        );
        // Row 2: 127.0.0.1:41395 -> 127.0.0.1:3301 in TIME_WAIT.
        assert_eq!(closed_first(&rows, client, mon), Some(Closer::Client));
        let elsewhere = "127.0.0.1:41396".parse().unwrap();
        assert_eq!(
            closed_first(&rows, elsewhere, mon),
            None,
            "not in the table"
        );
        let client_tw = "127.0.0.1:41395".parse().unwrap();
        let row = |local, remote, state| vec![(local, remote, state)];
        assert_eq!(
            closed_first(&row(client_tw, mon, 0x06), client_tw, mon),
            Some(Closer::Client)
        );
        assert_eq!(
            closed_first(&row(mon, client_tw, 0x05), client_tw, mon),
            Some(Closer::Monitor)
        );
        assert_eq!(
            closed_first(&row(client_tw, mon, 0x08), client_tw, mon),
            Some(Closer::Monitor)
        );
        assert_eq!(
            closed_first(&row(client_tw, mon, 0x01), client_tw, mon),
            None
        );
        assert_eq!(rows[2].2, 0x06);
        assert_eq!(Closer::Monitor.label(), "monitor");
    }

    #[test]
    fn classifies_monitor_links() {
        let addr = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let mons = vec![
            (
                "a".to_string(),
                vec![addr("127.0.0.1:3300"), addr("127.0.0.1:6789")],
            ),
            (
                "b".to_string(),
                vec![addr("127.0.0.1:3301"), addr("127.0.0.1:6790")],
            ),
        ];
        let other = addr("127.0.0.1:8080");
        assert_eq!(mon_link(&[other], &mons), MonLink::None);
        assert_eq!(
            mon_link(&[other, addr("127.0.0.1:6790")], &mons),
            MonLink::One("b".into())
        );
        assert_eq!(
            mon_link(&[addr("127.0.0.1:3301"), addr("127.0.0.1:3300")], &mons),
            MonLink::Several(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn finds_this_process_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        let _client = std::net::TcpStream::connect(server).unwrap();
        let peers = established_peers(std::process::id()).unwrap();
        assert!(peers.contains(&server), "{server} not in {peers:?}");
    }
}
