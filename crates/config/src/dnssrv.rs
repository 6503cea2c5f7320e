//! Monitors from DNS SRV records, for a configuration without `mon_host`,
//! as Ceph's MonMap finds them: `mon_dns_srv_name` (default `ceph-mon`) is
//! split at its first `_` into a service name and a domain; the records of
//! `_SERVICE._tcp[.DOMAIN]` are looked up through the system resolver (so
//! resolv.conf's search domains apply); each target, less the domain the
//! answer came from, names a monitor; its port decides v1 / v2 as in
//! `mon_host` (6789 v1, 3300 v2, any other both); priority and weight go
//! to the hunting.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ceph_types::{EntityAddr, EntityAddrType, EntityAddrVec};

use crate::monhost::{MonHostError, MON_PORT_LEGACY, MON_PORT_MSGR2};

/// One monitor found in DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SrvMon {
    /// The target's name less the domain (`mon-a` for `mon-a.example.com`).
    pub name: String,
    /// Its addresses by the port rules of `mon_host`, v2 first.
    pub addrs: EntityAddrVec,
    /// SRV priority: lower is tried first.
    pub priority: u16,
    /// SRV weight: among equal priorities, the share of first tries.
    pub weight: u16,
}

/// One SRV answer as the resolver gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvAnswer {
    /// Priority.
    pub priority: u16,
    /// Weight.
    pub weight: u16,
    /// Port.
    pub port: u16,
    /// Target host name, fully qualified (trailing dot optional).
    pub target: String,
    /// The target's addresses (from the answer's additional section or a
    /// lookup of their own).
    pub ips: Vec<IpAddr>,
}

/// What a lookup found: the name that answered (search domain applied)
/// and its records; `None` if DNS says the name does not exist.
pub type SrvLookupResult = Result<Option<(String, Vec<SrvAnswer>)>, String>;

/// How long one DNS query may take, and how many are sent: a resolver that
/// does not answer ends the wait well within five seconds.
const QUERY_TIMEOUT: Duration = Duration::from_millis(1500);
const QUERY_ATTEMPTS: usize = 2;

/// `_SERVICE._tcp[.DOMAIN]` for a `mon_dns_srv_name` value.
pub fn srv_query_name(srv_name: &str) -> String {
    match srv_name.split_once('_') {
        Some((service, domain)) if !domain.is_empty() => format!("_{service}._tcp.{domain}"),
        Some((service, _)) => format!("_{service}._tcp"),
        None => format!("_{srv_name}._tcp"),
    }
}

/// Looks the monitors up with the system resolver (`/etc/resolv.conf`).
/// A name DNS says does not exist, or one with no usable record, is an
/// error at once.
pub fn lookup_mon_srv(srv_name: &str) -> Result<Vec<SrvMon>, MonHostError> {
    mons_from_answers(srv_name, &system_srv_lookup)
}

/// [`lookup_mon_srv`] with a chosen lookup (tests use a fixed table).
pub fn mons_from_answers(
    srv_name: &str,
    lookup: &dyn Fn(&str) -> SrvLookupResult,
) -> Result<Vec<SrvMon>, MonHostError> {
    let query = srv_query_name(srv_name);
    let err = |reason: String| MonHostError::DnsSrv {
        query: query.clone(),
        reason,
    };
    let (answered, answers) = lookup(&query)
        .map_err(err)?
        .ok_or_else(|| err("DNS says the name does not exist".into()))?;
    // The domain the records live in: the answering name less the
    // `_SERVICE._tcp` labels.
    let answered = answered.trim_end_matches('.').to_ascii_lowercase();
    let domain = answered
        .splitn(3, '.')
        .nth(2)
        .unwrap_or_default()
        .to_string();
    let mut mons = Vec::new();
    for a in answers {
        let target = a.target.trim_end_matches('.').to_ascii_lowercase();
        let name = if domain.is_empty() {
            target.clone()
        } else {
            match target
                .strip_suffix(&domain)
                .and_then(|t| t.strip_suffix('.'))
            {
                Some(n) if !n.is_empty() => n.to_string(),
                _ => {
                    return Err(err(format!(
                        "target {target} is outside the domain {domain}"
                    )))
                }
            }
        };
        if a.ips.is_empty() {
            return Err(err(format!("target {target} has no address")));
        }
        for (i, ip) in a.ips.iter().enumerate() {
            let name = if i == 0 {
                name.clone()
            } else {
                format!("{name}-{i}")
            };
            mons.push(SrvMon {
                name,
                addrs: addrs_for_port(*ip, a.port),
                priority: a.priority,
                weight: a.weight,
            });
        }
    }
    if mons.is_empty() {
        return Err(err("no SRV records".into()));
    }
    Ok(mons)
}

/// The addresses an untyped `ip:port` stands for (see `mon_host`).
fn addrs_for_port(ip: IpAddr, port: u16) -> EntityAddrVec {
    let at = |ty, port| EntityAddr::new(ty, SocketAddr::new(ip, port), 0);
    EntityAddrVec::new(match port {
        MON_PORT_LEGACY => vec![at(EntityAddrType::Legacy, port)],
        MON_PORT_MSGR2 => vec![at(EntityAddrType::Msgr2, port)],
        0 => vec![
            at(EntityAddrType::Msgr2, MON_PORT_MSGR2),
            at(EntityAddrType::Legacy, MON_PORT_LEGACY),
        ],
        p => vec![at(EntityAddrType::Msgr2, p), at(EntityAddrType::Legacy, p)],
    })
}

/// SRV lookup through hickory-resolver with the system configuration, on
/// a thread of its own (its synchronous resolver runs a runtime of its
/// own, which must not nest in a caller's).
fn system_srv_lookup(query: &str) -> SrvLookupResult {
    let query = query.to_string();
    std::thread::scope(|s| {
        s.spawn(move || {
            use hickory_resolver::error::ResolveErrorKind;
            let (config, mut opts) =
                hickory_resolver::system_conf::read_system_conf().map_err(|e| e.to_string())?;
            opts.timeout = QUERY_TIMEOUT;
            opts.attempts = QUERY_ATTEMPTS;
            let resolver =
                hickory_resolver::Resolver::new(config, opts).map_err(|e| e.to_string())?;
            let found = match resolver.srv_lookup(query.as_str()) {
                Ok(found) => found,
                Err(e) => {
                    return match e.kind() {
                        ResolveErrorKind::NoRecordsFound { .. } => Ok(None),
                        _ => Err(e.to_string()),
                    }
                }
            };
            let answered = found.query().name().to_ascii();
            let mut answers = Vec::new();
            for srv in found.iter() {
                let target = srv.target().to_ascii();
                let ips: Vec<IpAddr> = match resolver.lookup_ip(srv.target().clone()) {
                    Ok(ips) => ips.iter().collect(),
                    Err(e) => return Err(format!("cannot resolve target {target}: {e}")),
                };
                answers.push(SrvAnswer {
                    priority: srv.priority(),
                    weight: srv.weight(),
                    port: srv.port(),
                    target,
                    ips,
                });
            }
            Ok(Some((answered, answers)))
        })
        .join()
        .unwrap_or_else(|_| Err("the DNS lookup thread panicked".into()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(priority: u16, weight: u16, port: u16, target: &str, ip: [u8; 4]) -> SrvAnswer {
        SrvAnswer {
            priority,
            weight,
            port,
            target: target.into(),
            ips: vec![IpAddr::from(ip)],
        }
    }

    #[test]
    fn query_names_split_at_the_first_underscore() {
        assert_eq!(srv_query_name("ceph-mon"), "_ceph-mon._tcp");
        assert_eq!(
            srv_query_name("ceph-mon_example.com"),
            "_ceph-mon._tcp.example.com"
        );
        assert_eq!(srv_query_name("a_b_c"), "_a._tcp.b_c");
    }

    #[test]
    fn targets_name_monitors_and_ports_pick_protocols() {
        let table = |q: &str| -> SrvLookupResult {
            assert_eq!(q, "_ceph-mon._tcp");
            Ok(Some((
                "_ceph-mon._tcp.example.test.".into(),
                vec![
                    answer(10, 60, 6789, "mon-a.example.test.", [10, 0, 0, 1]),
                    answer(20, 40, 3300, "mon-b.example.test.", [10, 0, 0, 2]),
                    answer(20, 0, 7000, "mon-c.example.test", [10, 0, 0, 3]),
                ],
            )))
        };
        let mons = mons_from_answers("ceph-mon", &table).unwrap();
        let shown: Vec<(String, String, u16, u16)> = mons
            .iter()
            .map(|m| (m.name.clone(), m.addrs.to_string(), m.priority, m.weight))
            .collect();
        assert_eq!(
            shown,
            [
                ("mon-a".into(), "v1:10.0.0.1:6789/0".into(), 10, 60),
                ("mon-b".into(), "v2:10.0.0.2:3300/0".into(), 20, 40),
                (
                    "mon-c".into(),
                    "[v2:10.0.0.3:7000/0,v1:10.0.0.3:7000/0]".into(),
                    20,
                    0
                ),
            ]
        );
    }

    #[test]
    fn answers_that_will_not_change_are_errors() {
        let outside = |_: &str| -> SrvLookupResult {
            Ok(Some((
                "_ceph-mon._tcp.example.test".into(),
                vec![answer(0, 0, 6789, "mon.elsewhere.test", [10, 0, 0, 1])],
            )))
        };
        let e = mons_from_answers("ceph-mon", &outside).unwrap_err();
        assert!(e.to_string().contains("outside the domain"), "{e}");
        let missing = |_: &str| -> SrvLookupResult { Ok(None) };
        let e = mons_from_answers("ceph-mon", &missing).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(e.to_string().contains("_ceph-mon._tcp"), "{e}");
    }
}
