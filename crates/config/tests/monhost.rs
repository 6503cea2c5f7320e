//! `mon_host` parsing. The protocol guesses were checked against Ceph
//! 16.2.15's `monmaptool --create --generate` on the same values.

use std::io;
use std::net::IpAddr;

use ceph_config::{mon_addrs_from_sections, parse_mon_host_with, ConfFile, MonHostError};

/// A fixed resolver: `mon.example` has two addresses, `v6.example` one IPv6,
/// `empty.example` none; anything else fails.
fn table(host: &str) -> io::Result<Vec<IpAddr>> {
    match host {
        "mon.example" => Ok(vec![
            "10.9.0.1".parse().unwrap(),
            "10.9.0.2".parse().unwrap(),
        ]),
        "v6.example" => Ok(vec!["fd00::7".parse().unwrap()]),
        "empty.example" => Ok(vec![]),
        _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such host")),
    }
}

fn mons(value: &str) -> Vec<String> {
    parse_mon_host_with(value, &table)
        .unwrap_or_else(|e| panic!("{value:?}: {e}"))
        .iter()
        .map(|v| v.to_string())
        .collect()
}

fn fails(value: &str) -> MonHostError {
    match parse_mon_host_with(value, &table) {
        Ok(v) => panic!("{value:?} accepted as {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn explicit_vectors_are_used_as_given() {
    assert_eq!(
        mons("[v2:1.2.3.4:3300,v1:1.2.3.4:6789]"),
        ["[v2:1.2.3.4:3300/0,v1:1.2.3.4:6789/0]"]
    );
    // cephadm writes nonces.
    assert_eq!(
        mons("[v2:1.2.3.4:3300/0,v1:1.2.3.4:6789/0]"),
        ["[v2:1.2.3.4:3300/0,v1:1.2.3.4:6789/0]"]
    );
    // Untyped members of a vector are v2; missing ports get the default
    // (Ceph would keep port 0).
    assert_eq!(
        mons("[1.2.3.4:4000,v1:1.2.3.4]"),
        ["[v2:1.2.3.4:4000/0,v1:1.2.3.4:6789/0]"]
    );
}

#[test]
fn typed_addresses() {
    assert_eq!(mons("v2:1.2.3.4:3300"), ["v2:1.2.3.4:3300/0"]);
    assert_eq!(mons("v2:1.2.3.4"), ["v2:1.2.3.4:3300/0"]);
    assert_eq!(mons("v1:1.2.3.4"), ["v1:1.2.3.4:6789/0"]);
    assert_eq!(mons("v1:1.2.3.4:7000"), ["v1:1.2.3.4:7000/0"]);
    assert_eq!(mons("v2:1.2.3.4:6789"), ["v2:1.2.3.4:6789/0"]);
}

#[test]
fn untyped_addresses_are_guessed_from_the_port() {
    assert_eq!(mons("1.2.3.4"), ["[v2:1.2.3.4:3300/0,v1:1.2.3.4:6789/0]"]);
    assert_eq!(mons("1.2.3.4:"), ["[v2:1.2.3.4:3300/0,v1:1.2.3.4:6789/0]"]);
    assert_eq!(
        mons("any:1.2.3.4"),
        ["[v2:1.2.3.4:3300/0,v1:1.2.3.4:6789/0]"]
    );
    assert_eq!(mons("1.2.3.4:6789"), ["v1:1.2.3.4:6789/0"]);
    assert_eq!(mons("1.2.3.4:3300"), ["v2:1.2.3.4:3300/0"]);
    assert_eq!(
        mons("1.2.3.4:1234"),
        ["[v2:1.2.3.4:1234/0,v1:1.2.3.4:1234/0]"]
    );
    assert_eq!(mons("1.2.3.4/7"), ["[v2:1.2.3.4:3300/7,v1:1.2.3.4:6789/7]"]);
    assert_eq!(mons("[1.2.3.4]:5"), ["[v2:1.2.3.4:5/0,v1:1.2.3.4:5/0]"]);
}

#[test]
fn ipv6() {
    assert_eq!(mons("[::1]:3300"), ["v2:[::1]:3300/0"]);
    assert_eq!(mons("::1"), ["[v2:[::1]:3300/0,v1:[::1]:6789/0]"]);
    assert_eq!(mons("[::1]"), ["[v2:[::1]:3300/0,v1:[::1]:6789/0]"]);
    assert_eq!(
        mons("[v2:[fd00::1]:3300,v1:[fd00::1]:6789]"),
        ["[v2:[fd00::1]:3300/0,v1:[fd00::1]:6789/0]"]
    );
    assert_eq!(mons("v1:[fd00::1]"), ["v1:[fd00::1]:6789/0"]);
}

#[test]
fn separators() {
    let expected = [
        "v1:10.0.0.1:6789/0",
        "v1:10.0.0.2:6789/0",
        "v1:10.0.0.3:6789/0",
        "v1:10.0.0.4:6789/0",
    ];
    assert_eq!(
        mons("10.0.0.1:6789,10.0.0.2:6789;10.0.0.3:6789 10.0.0.4:6789"),
        expected
    );
    assert_eq!(
        mons(" 10.0.0.1:6789 ,10.0.0.2:6789,, 10.0.0.3:6789\t10.0.0.4:6789 "),
        expected
    );
    assert_eq!(
        mons("[v2:1.1.1.1:3300,v1:1.1.1.1:6789],[v2:2.2.2.2:3300,v1:2.2.2.2:6789] 3.3.3.3:3300"),
        [
            "[v2:1.1.1.1:3300/0,v1:1.1.1.1:6789/0]",
            "[v2:2.2.2.2:3300/0,v1:2.2.2.2:6789/0]",
            "v2:3.3.3.3:3300/0",
        ]
    );
    // Repeats collapse.
    assert_eq!(mons("1.2.3.4:6789 1.2.3.4:6789"), ["v1:1.2.3.4:6789/0"]);
}

#[test]
fn host_names_resolve_to_one_monitor_per_address() {
    assert_eq!(
        mons("mon.example"),
        [
            "[v2:10.9.0.1:3300/0,v1:10.9.0.1:6789/0]",
            "[v2:10.9.0.2:3300/0,v1:10.9.0.2:6789/0]"
        ]
    );
    assert_eq!(
        mons("mon.example:6789"),
        ["v1:10.9.0.1:6789/0", "v1:10.9.0.2:6789/0"]
    );
    assert_eq!(mons("v2:v6.example:3301"), ["v2:[fd00::7]:3301/0"]);
    assert_eq!(
        mons("1.2.3.4:3300,mon.example:3300"),
        [
            "v2:1.2.3.4:3300/0",
            "v2:10.9.0.1:3300/0",
            "v2:10.9.0.2:3300/0"
        ]
    );
}

#[test]
fn system_resolver_handles_localhost() {
    let got = ceph_config::parse_mon_host("localhost:3300").unwrap();
    assert!(!got.is_empty());
    assert!(got.iter().all(|v| v.to_string().starts_with("v2:")));
}

#[test]
fn errors_name_the_bad_token() {
    let e = fails("1.2.3.4:6789 nosuch.example");
    assert!(
        matches!(&e, MonHostError::Resolve { host, .. } if host == "nosuch.example"),
        "{e}"
    );
    let e = fails("empty.example");
    assert!(e.to_string().contains("empty.example"), "{e}");

    for (value, token) in [
        ("1.2.3.4:99999", "1.2.3.4:99999"),
        ("mon.example:http", "mon.example:http"),
        ("bad!host", "bad!host"),
        ("1.2.3.4x", "1.2.3.4x"),
        ("[v2:1.2.3.4:3300,v1:1.2.3.4:6789", "[v2:1.2.3.4:3300"),
        ("[v2:1.2.3.4:3300 v1:1.2.3.4:6789]", "[v2:1.2.3.4:3300"),
        ("1.2.3.4/99999999999", "1.2.3.4/99999999999"),
        ("v3:1.2.3.4", "v3:1.2.3.4"),
        ("-", "-"),
    ] {
        match fails(value) {
            MonHostError::BadToken { token: t, .. } => assert_eq!(t, token, "{value:?}"),
            other => panic!("{value:?}: {other}"),
        }
    }
    assert!(matches!(fails(""), MonHostError::Empty(_)));
    assert!(matches!(fails(" ,; "), MonHostError::Empty(_)));
}

#[test]
fn hostile_values_do_not_panic() {
    let long = "9".repeat(100_000);
    assert!(parse_mon_host_with(&long, &table).is_err());
    let e = fails(&format!("{}.example", "a".repeat(10_000)));
    // The message stays short even for a huge token.
    assert!(e.to_string().len() < 400, "{}", e.to_string().len());
    let many: String = (0..5000)
        .map(|i| format!("10.0.{}.{}:6789,", i / 256, i % 256))
        .collect();
    assert_eq!(parse_mon_host_with(&many, &table).unwrap().len(), 5000);
    for junk in [
        "[",
        "]",
        "[[",
        "[]",
        "v2:",
        "v2:[",
        "::::::::::",
        "1.2.3.4:6789:1",
        "\0",
        "é",
    ] {
        let _ = parse_mon_host_with(junk, &table);
    }
}

#[test]
fn mon_addr_sections_fallback() {
    let conf = ConfFile::parse(include_str!("data/legacy-mon-sections.conf")).unwrap();
    let got: Vec<(String, String)> = mon_addrs_from_sections(&conf, &|v| v.to_string())
        .unwrap()
        .into_iter()
        .map(|(n, v)| (n, v.to_string()))
        .collect();
    // Same as `monmaptool --generate` made of this file.
    assert_eq!(
        got,
        [
            ("a".to_string(), "v1:10.1.0.1:6789/0".to_string()),
            ("b".to_string(), "v1:10.1.0.2:6789/0".to_string()),
            ("c".to_string(), "v2:10.1.0.3:3300/0".to_string()),
        ]
    );
}

#[test]
fn mon_addr_inherits_and_expands() {
    let conf = ConfFile::parse(
        "[global]\nmon addr = $base:6790\n[mon.x]\nhost = h\n[mon.y]\nmon addr = [v2:10.0.0.9:3300,v1:10.0.0.9:6789]\n[mon.]\nmon addr = 1.1.1.1\n[mon]\n",
    )
    .unwrap();
    let expand = |v: &str| v.replace("$base", "10.0.0.8");
    let got: Vec<String> = mon_addrs_from_sections(&conf, &expand)
        .unwrap()
        .into_iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    assert_eq!(
        got,
        [
            "x=v1:10.0.0.8:6790/0",
            "y=[v2:10.0.0.9:3300/0,v1:10.0.0.9:6789/0]"
        ]
    );

    let bad = ConfFile::parse("[mon.a]\nmon addr = not-an-ip\n").unwrap();
    let e = mon_addrs_from_sections(&bad, &|v| v.to_string()).unwrap_err();
    assert!(
        e.to_string().contains("not-an-ip") && e.to_string().contains("[mon.a]"),
        "{e}"
    );
}
