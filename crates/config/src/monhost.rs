//! `mon_host` (and `-m`): the monitors to contact before any MonMap is known.
//!
//! Accepted forms, as Ceph's `MonMap::build_initial` accepts them:
//! - entries separated by blanks or `;`, and by `,` outside brackets;
//! - `[v2:IP:3300,v1:IP:6789]`: an explicit address vector, used as given
//!   (untyped members are v2, as in Ceph; a member without a port gets its
//!   type's default port, which Ceph would leave at 0);
//! - `v2:IP[:PORT]` / `v1:IP[:PORT]`: that protocol only (default port 3300 /
//!   6789);
//! - `IP[:PORT]` or `any:IP[:PORT]`, protocol unknown: port 6789 means v1 only,
//!   port 3300 means v2 only, no port means v2 on 3300 and v1 on 6789, any
//!   other port means v2 and v1 on that port;
//! - IPv6 as `[::1]:3300` or bare `::1`;
//! - host names (`mon1.example.com[:PORT]`, optionally `v1:`/`v2:`
//!   prefixed), resolved; every address a name resolves to is one monitor.
//!
//! Ceph's (non-mkfs) MonMap records the guessed v1 address of an untyped
//! entry as a second monitor (`noname-a-legacy`); here both guesses sit in the
//! one [`EntityAddrVec`] of that monitor, v2 first.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use ceph_types::{EntityAddr, EntityAddrType, EntityAddrVec};

use crate::conffile::ConfFile;

/// Ceph's msgr2 monitor port (IANA).
pub const MON_PORT_MSGR2: u16 = 3300;
/// Ceph's legacy msgr1 monitor port.
pub const MON_PORT_LEGACY: u16 = 6789;

/// An entry of a monitor list that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonHostError {
    /// The token is neither an address, an address vector nor a host name.
    #[error("bad monitor address {token:?}: {reason}")]
    BadToken {
        /// The entry (truncated if long).
        token: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A host name did not resolve.
    #[error("cannot resolve monitor host {host:?}: {reason}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's error.
        reason: String,
    },
    /// The list named no monitor at all.
    #[error("no monitor addresses in {0:?}")]
    Empty(String),
    /// DNS SRV discovery found no usable monitor.
    #[error("no monitors from DNS SRV {query}: {reason}")]
    DnsSrv {
        /// The name looked up (`_ceph-mon._tcp[.DOMAIN]`).
        query: String,
        /// What DNS said, or what is wrong with its answer.
        reason: String,
    },
}

/// Resolves a host name to its IP addresses.
pub type Resolver<'a> = &'a dyn Fn(&str) -> io::Result<Vec<IpAddr>>;

/// Resolves with the system resolver (`getaddrinfo`).
pub fn system_resolver(host: &str) -> io::Result<Vec<IpAddr>> {
    Ok((host, 0u16).to_socket_addrs()?.map(|s| s.ip()).collect())
}

/// Parses a `mon_host` value into one address vector per monitor, resolving
/// host names with the system resolver.
///
/// ```
/// use ceph_config::parse_mon_host;
/// let mons = parse_mon_host("[v2:10.0.0.1:3300,v1:10.0.0.1:6789] 10.0.0.2:6789, 10.0.0.3").unwrap();
/// let shown: Vec<String> = mons.iter().map(|m| m.to_string()).collect();
/// assert_eq!(shown, [
///     "[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]",
///     "v1:10.0.0.2:6789/0",
///     "[v2:10.0.0.3:3300/0,v1:10.0.0.3:6789/0]",
/// ]);
/// ```
pub fn parse_mon_host(value: &str) -> Result<Vec<EntityAddrVec>, MonHostError> {
    parse_mon_host_with(value, &system_resolver)
}

/// [`parse_mon_host`] with a chosen resolver (tests use a fixed table).
pub fn parse_mon_host_with(
    value: &str,
    resolve: Resolver<'_>,
) -> Result<Vec<EntityAddrVec>, MonHostError> {
    let mut mons: Vec<EntityAddrVec> = Vec::new();
    let mut push = |v: EntityAddrVec| {
        if !mons.contains(&v) {
            mons.push(v);
        }
    };
    for item in value
        .split(|c: char| c == ';' || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
    {
        let mut rest = item;
        while !rest.is_empty() {
            // Empty entries (`a,,b`, a leading comma) are skipped.
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
                continue;
            }
            let entry = rest;
            if let Some((addr, after)) = scan_addr(rest, None) {
                push(disambiguate(addr));
                rest = after;
            } else if let Some((vec, after)) = scan_addr_vec(rest) {
                push(vec);
                rest = after;
            } else {
                let token = rest.split(',').next().unwrap_or(rest);
                for addr in resolve_host(token, resolve)? {
                    push(disambiguate(addr));
                }
                rest = &rest[token.len()..];
            }
            match rest.strip_prefix(',') {
                Some(r) => rest = r,
                None if rest.is_empty() => {}
                None => {
                    let token = entry.split(',').next().unwrap_or(entry);
                    return Err(bad(
                        token,
                        "unexpected text after an address (separate entries with ',', ';' or blanks)",
                    ));
                }
            }
        }
    }
    if mons.is_empty() {
        return Err(MonHostError::Empty(value.to_string()));
    }
    Ok(mons)
}

fn bad(token: &str, reason: &str) -> MonHostError {
    let mut shown: String = token.chars().take(100).collect();
    if shown.len() < token.len() {
        shown.push('…');
    }
    MonHostError::BadToken {
        token: shown,
        reason: reason.into(),
    }
}

/// An address as written: `ty` is `None` when no `v1:`/`v2:` prefix was given
/// (or `any:`), and `port` 0 when no port was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WrittenAddr {
    ty: Option<EntityAddrType>,
    ip: IpAddr,
    port: u16,
    nonce: u32,
}

/// Splits off a `v1:` / `v2:` / `any:` prefix.
fn strip_type(s: &str) -> (Option<EntityAddrType>, &str) {
    if let Some(r) = s.strip_prefix("v1:") {
        (Some(EntityAddrType::Legacy), r)
    } else if let Some(r) = s.strip_prefix("v2:") {
        (Some(EntityAddrType::Msgr2), r)
    } else if let Some(r) = s.strip_prefix("any:") {
        (None, r)
    } else {
        (None, s)
    }
}

/// Reads a run of decimal digits; `None` if it does not fit `limit`.
fn scan_number(s: &str, limit: u64) -> Option<(u64, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        // Ceph reads "IP:" as port 0.
        return Some((0, s));
    }
    let n: u64 = s[..end].parse().ok().filter(|&n| n <= limit)?;
    Some((n, &s[end..]))
}

/// Reads one address (`[v1:|v2:|any:]IP[:PORT][/NONCE]`, IPv6 optionally in
/// brackets) from the front of `s`, returning it and the rest.
fn scan_addr(s: &str, default_ty: Option<EntityAddrType>) -> Option<(WrittenAddr, &str)> {
    let (ty, s) = match strip_type(s) {
        (None, r) => (default_ty, r),
        typed => typed,
    };
    let (bracketed, s) = match s.strip_prefix('[') {
        Some(r) => (true, r),
        None => (false, s),
    };
    // Like Ceph: the longest run of IPv4 characters, else of IPv6 ones.
    let v4_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let v6_len = s
        .find(|c: char| !(c.is_ascii_hexdigit() || c == ':'))
        .unwrap_or(s.len());
    let (ip, mut rest) = if let Ok(v4) = s[..v4_len].parse::<Ipv4Addr>() {
        (IpAddr::V4(v4), &s[v4_len..])
    } else if let Ok(v6) = s[..v6_len].parse::<Ipv6Addr>() {
        (IpAddr::V6(v6), &s[v6_len..])
    } else {
        return None;
    };
    if bracketed {
        rest = rest.strip_prefix(']')?;
    }
    let mut port = 0;
    if let Some(r) = rest.strip_prefix(':') {
        let (p, r) = scan_number(r, u16::MAX as u64)?;
        port = p as u16;
        rest = r;
    }
    let mut nonce = 0;
    if let Some(r) = rest.strip_prefix('/') {
        let (n, r) = scan_number(r, u32::MAX as u64)?;
        nonce = n as u32;
        rest = r;
    }
    Some((
        WrittenAddr {
            ty,
            ip,
            port,
            nonce,
        },
        rest,
    ))
}

/// Reads `[ADDR,ADDR,...]` from the front of `s`.
fn scan_addr_vec(s: &str) -> Option<(EntityAddrVec, &str)> {
    let mut rest = s.strip_prefix('[')?;
    let mut addrs = Vec::new();
    loop {
        // Untyped members of a vector are v2, as Ceph parses them.
        let (a, r) = scan_addr(rest, Some(EntityAddrType::Msgr2))?;
        let ty = a.ty.unwrap_or(EntityAddrType::Msgr2);
        addrs.push(entity_addr(ty, a.ip, default_port(ty, a.port), a.nonce));
        if let Some(r) = r.strip_prefix(',') {
            rest = r;
        } else {
            return Some((EntityAddrVec::new(addrs), r.strip_prefix(']')?));
        }
    }
}

fn default_port(ty: EntityAddrType, port: u16) -> u16 {
    match (port, ty) {
        (0, EntityAddrType::Legacy) => MON_PORT_LEGACY,
        (0, _) => MON_PORT_MSGR2,
        (p, _) => p,
    }
}

fn entity_addr(ty: EntityAddrType, ip: IpAddr, port: u16, nonce: u32) -> EntityAddr {
    EntityAddr::new(ty, SocketAddr::new(ip, port), nonce)
}

/// Turns one written address into the address vector of its monitor,
/// guessing the protocol from the port when no prefix said it.
fn disambiguate(a: WrittenAddr) -> EntityAddrVec {
    let one = |ty, port| EntityAddrVec::from(entity_addr(ty, a.ip, port, a.nonce));
    match (a.ty, a.port) {
        (Some(ty), port) => one(ty, default_port(ty, port)),
        (None, MON_PORT_LEGACY) => one(EntityAddrType::Legacy, MON_PORT_LEGACY),
        (None, MON_PORT_MSGR2) => one(EntityAddrType::Msgr2, MON_PORT_MSGR2),
        (None, 0) => EntityAddrVec::new(vec![
            entity_addr(EntityAddrType::Msgr2, a.ip, MON_PORT_MSGR2, a.nonce),
            entity_addr(EntityAddrType::Legacy, a.ip, MON_PORT_LEGACY, a.nonce),
        ]),
        (None, port) => EntityAddrVec::new(vec![
            entity_addr(EntityAddrType::Msgr2, a.ip, port, a.nonce),
            entity_addr(EntityAddrType::Legacy, a.ip, port, a.nonce),
        ]),
    }
}

/// Resolves `[v1:|v2:]HOST[:PORT]`.
fn resolve_host(token: &str, resolve: Resolver<'_>) -> Result<Vec<WrittenAddr>, MonHostError> {
    let (ty, hostport) = strip_type(token);
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => {
            let port = p
                .parse::<u16>()
                .map_err(|_| bad(token, "port is not a number from 0 to 65535"))?;
            (h, port)
        }
        None => (hostport, 0),
    };
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        && !host.starts_with(['-', '.']);
    if !valid {
        return Err(bad(token, "not an IP address, address vector or host name"));
    }
    let ips = resolve(host).map_err(|e| MonHostError::Resolve {
        host: host.to_string(),
        reason: e.to_string(),
    })?;
    if ips.is_empty() {
        return Err(MonHostError::Resolve {
            host: host.to_string(),
            reason: "no addresses".into(),
        });
    }
    Ok(ips
        .into_iter()
        .map(|ip| WrittenAddr {
            ty,
            ip,
            port,
            nonce: 0,
        })
        .collect())
}

/// The monitors named by `mon addr` in `[mon.NAME]` sections (looked up in
/// `[mon.NAME]`, `[mon]`, `[global]`), in section-name order, for when
/// `mon_host` is not set. `expand` applies metavariables to each value.
///
/// As in Ceph, this is a legacy field: an untyped address is v1 (port 6789
/// when none is given). An address vector in brackets is also accepted.
pub fn mon_addrs_from_sections(
    conf: &ConfFile,
    expand: &dyn Fn(&str) -> String,
) -> Result<Vec<(String, EntityAddrVec)>, MonHostError> {
    let mut out: Vec<(String, EntityAddrVec)> = Vec::new();
    for section in conf.sections() {
        let Some(mon_name) = section.strip_prefix("mon.").filter(|n| !n.is_empty()) else {
            continue;
        };
        let Some(raw) = conf.lookup(&[section, "mon", "global"], "mon_addr") else {
            continue;
        };
        let value = expand(raw);
        let value = value.trim();
        let vec = if let Some((a, "")) = scan_addr(value, Some(EntityAddrType::Legacy)) {
            let ty = a.ty.unwrap_or(EntityAddrType::Legacy);
            EntityAddrVec::from(entity_addr(ty, a.ip, default_port(ty, a.port), a.nonce))
        } else if let Some((v, "")) = scan_addr_vec(value) {
            v
        } else {
            return Err(bad(value, &format!("unusable mon_addr in [{section}]")));
        };
        // A later section naming the same address replaces the earlier one.
        out.retain(|(_, v)| v != &vec);
        out.push((mon_name.to_string(), vec));
    }
    Ok(out)
}
