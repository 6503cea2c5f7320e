#![no_main]
//! The ceph.conf parser and the `mon_host` parser on hostile bytes.
//!
//! The whole input is a conf file; its `mon_host` (or, failing that, the
//! whole input as text) goes through the mon_host parser with a fixed
//! resolver (no DNS while fuzzing), and `[mon.X]` sections through the
//! per-monitor address reader.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ceph_config::{mon_addrs_from_sections, parse_mon_host_with, ConfFile};
use libfuzzer_sys::fuzz_target;

/// Names ending in `.multi` have two addresses, `.none` none, `.fail`
/// fails; anything else is one address.
fn fixed_resolver(host: &str) -> io::Result<Vec<IpAddr>> {
    if host.ends_with(".fail") {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no such host"));
    }
    if host.ends_with(".none") {
        return Ok(Vec::new());
    }
    let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    if host.ends_with(".multi") {
        return Ok(vec![v4, IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    }
    Ok(vec![v4])
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match ConfFile::parse_bytes(data) {
        Ok(conf) => {
            let _ = format!("{conf:?}");
            let mon_host = conf.lookup(&["client.admin", "client", "global"], "mon_host");
            let _ = parse_mon_host_with(mon_host.unwrap_or(&text), &fixed_resolver);
            let _ = mon_addrs_from_sections(&conf, &|s: &str| s.to_string());
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = parse_mon_host_with(&text, &fixed_resolver);
        }
    }
});
