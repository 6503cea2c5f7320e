//! The conf file parser. Expected values were checked against Ceph 16.2.15's
//! `ceph-conf --lookup` on the same text where Ceph accepts it.

use ceph_config::{ConfFile, ConfParseError, MAX_CONF_FILE_BYTES};

fn parse(text: &str) -> ConfFile {
    ConfFile::parse(text).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

fn error(text: &str) -> ConfParseError {
    match ConfFile::parse(text) {
        Ok(c) => panic!("accepted {text:?} as {c:?}"),
        Err(e) => e,
    }
}

#[test]
fn sections_keys_and_comments() {
    let c = parse(
        "# leading comment\n; another\n[global]\nfsid = abc\n  mon host = 1.2.3.4 # trailing\n\
         mon-initial-members = a ; trailing too\n[client.admin]\nkeyring=/k\n",
    );
    assert_eq!(c.get("global", "fsid"), Some("abc"));
    assert_eq!(c.get("global", "mon_host"), Some("1.2.3.4"));
    assert_eq!(c.get("global", "mon_initial_members"), Some("a"));
    assert_eq!(c.get("client.admin", "keyring"), Some("/k"));
    assert_eq!(c.sections().collect::<Vec<_>>(), ["client.admin", "global"]);
}

#[test]
fn key_spellings_are_equivalent() {
    let c = parse("[global]\nmon  client\thunt interval = 7\nmon-host = h\nms_client_mode = crc\n");
    for k in [
        "mon_client_hunt_interval",
        "mon client hunt interval",
        "mon-client-hunt-interval",
        "  mon_client hunt-interval ",
    ] {
        assert_eq!(c.get("global", k), Some("7"), "{k}");
    }
    assert_eq!(c.get("global", "mon host"), Some("h"));
    assert_eq!(c.get("global", "ms-client-mode"), Some("crc"));
    assert_eq!(ConfFile::normalize_key(" a  b-c\t d "), "a_b_c_d");
}

#[test]
fn lookup_order_name_type_global() {
    let c = parse(
        "[global]\nx = g\ny = g\nz = g\n[client]\nx = c\ny = c\n[client.admin]\nx = a\n[client.other]\nz = o\n",
    );
    let admin = ["client.admin", "client", "global"];
    assert_eq!(c.lookup(&admin, "x"), Some("a"));
    assert_eq!(c.lookup(&admin, "y"), Some("c"));
    assert_eq!(c.lookup(&admin, "z"), Some("g"));
    assert_eq!(c.lookup(&admin, "w"), None);
}

#[test]
fn later_lines_and_repeated_sections_win() {
    let c = parse("[global]\nx = 1\nx = 2\n[client]\ny = 1\n[global]\nx = 3\nw = 4\n");
    assert_eq!(c.get("global", "x"), Some("3"));
    assert_eq!(c.get("global", "w"), Some("4"));
    assert_eq!(c.get("client", "y"), Some("1"));
}

#[test]
fn quoted_values() {
    let c = parse("[global]\na = \" a b \"  # x\nb = 'x\"y'\nc = \"q \\\" q\"\nd = \"\"\ne = \"semi;colon # hash\"\n");
    // Ceph trims inside the quotes too.
    assert_eq!(c.get("global", "a"), Some("a b"));
    assert_eq!(c.get("global", "b"), Some("x\"y"));
    assert_eq!(c.get("global", "c"), Some("q \" q"));
    assert_eq!(c.get("global", "d"), Some(""));
    // Ceph rejects a comment character inside quotes; it is kept here.
    assert_eq!(c.get("global", "e"), Some("semi;colon # hash"));
}

#[test]
fn escapes_and_continuations() {
    let c = parse("[global]\nbar = quoted \\# v\nbaz = a\\\n  b\\\nc\nback = a\\\\\nnext = 2\nrgw = \"beast port=7480\"\n");
    assert_eq!(c.get("global", "bar"), Some("quoted # v"));
    // Ceph 16.2.15 gives exactly "a  bc" for this continuation.
    assert_eq!(c.get("global", "baz"), Some("a  bc"));
    // An escaped backslash at the end of a line is not a continuation.
    assert_eq!(c.get("global", "back"), Some("a\\"));
    assert_eq!(c.get("global", "next"), Some("2"));
    assert_eq!(c.get("global", "rgw"), Some("beast port=7480"));
}

#[test]
fn section_names_are_taken_literally() {
    let c = parse("[ client ]\nqq = 1\n[client]\nzz=2\n[global] # comment\n");
    assert_eq!(c.get(" client ", "qq"), Some("1"));
    assert_eq!(c.get("client", "qq"), None);
    assert_eq!(c.get("client", "zz"), Some("2"));
    assert!(c.sections().any(|s| s == "global"));
}

#[test]
fn line_endings_and_blank_lines() {
    let c = parse("\r\n  \n[global]\r\nfsid = a\r\nmon_host = b\r\n\n\t\n");
    assert_eq!(c.get("global", "fsid"), Some("a"));
    assert_eq!(c.get("global", "mon_host"), Some("b"));
    // No final newline (Ceph requires one; accepted here).
    let c = parse("[global]\nzz=2");
    assert_eq!(c.get("global", "zz"), Some("2"));
    // Empty value.
    let c = parse("[global]\n  fsid   =   \n");
    assert_eq!(c.get("global", "fsid"), Some(""));
    assert!(parse("").is_empty());
    assert!(parse("# only a comment").is_empty());
}

#[test]
fn keys_before_any_section_go_to_global() {
    let c = parse("fsid = top\n[client]\nx = 1\n");
    assert_eq!(c.get("global", "fsid"), Some("top"));
}

#[test]
fn malformed_lines_report_line_and_column() {
    let e = error("[global]\nfsid\n");
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("fsid"), "{e}");

    let e = error("[global]\n=1\n");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("missing option name"), "{e}");

    let e = error("[global]x\nfsid = 1\n");
    assert_eq!((e.line, e.column), (1, 9));

    // Ceph points at the blank before `b` (column 11); here at `b` itself.
    let e = error("[global]\nfsid = \"a\" b\n");
    assert_eq!((e.line, e.column), (2, 12));

    let e = error("[]\n");
    assert!(e.message.contains("empty section name"), "{e}");

    let e = error("[global\nfsid = 1\n");
    assert_eq!(e.line, 1);
    assert!(e.message.contains("']'"), "{e}");

    let e = error("[global]\nfs[id = 1\n");
    assert_eq!((e.line, e.column), (2, 3));

    let e = error("[global]\nfsid # c = 1\n");
    assert_eq!(e.line, 2);

    let e = error("[gl#obal]\n");
    assert_eq!((e.line, e.column), (1, 4));

    // Display carries the position.
    assert!(error("[global]\n\n\nbad line\n")
        .to_string()
        .starts_with("line 4, column 1"));
}

#[test]
fn unterminated_quotes_are_errors() {
    let e = error("[global]\nkey = \"abc\n");
    assert_eq!((e.line, e.column), (2, 7));
    assert!(e.message.contains("closing \""), "{e}");
    let e = error("[global]\nkey = 'abc");
    assert!(e.message.contains("closing '"), "{e}");
}

#[test]
fn invalid_utf8_names_its_line() {
    let e = ConfFile::parse_bytes(b"[global]\nfsid = a\nkey = \xff\xfe\n").unwrap_err();
    assert_eq!((e.line, e.column), (3, 7));
    assert!(e.message.contains("UTF-8"));
    assert!(ConfFile::parse_bytes(b"[global]\nfsid = \xc3\xa9\n").is_ok());
}

#[test]
fn hostile_inputs_do_not_panic() {
    // A very long line.
    let long = format!("[global]\nk = {}\n", "v".repeat(4 << 20));
    assert_eq!(parse(&long).get("global", "k").map(str::len), Some(4 << 20));
    // A very long key, a long section name, many sections.
    let c = parse(&format!(
        "[{}]\n{} = 1\n",
        "s".repeat(100_000),
        "k".repeat(100_000)
    ));
    assert_eq!(c.sections().next().map(str::len), Some(100_000));
    let many: String = (0..20_000).map(|i| format!("[s{i}]\nk = {i}\n")).collect();
    assert_eq!(parse(&many).sections().count(), 20_000);
    // Control characters and NULs are just characters.
    let c = parse("[global]\nk = a\0b\x07\n");
    assert_eq!(c.get("global", "k"), Some("a\0b\x07"));
    // Many continuation lines.
    let cont = format!("[global]\nk = {}end\n", "x\\\n".repeat(50_000));
    assert_eq!(parse(&cont).get("global", "k").map(str::len), Some(50_003));
    // Arbitrary byte soup: any outcome but a panic.
    let alphabet = b"[]=#;\"'\\\n\r \tab.-\xff";
    let mut seed: u32 = 0x1234_5678;
    for _ in 0..2_000 {
        let bytes: Vec<u8> = (0..64)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                alphabet[(seed >> 16) as usize % alphabet.len()]
            })
            .collect();
        let _ = ConfFile::parse_bytes(&bytes);
    }
    // Lone escape at end of input, lone CR.
    assert_eq!(parse("[global]\nk = a\\").get("global", "k"), Some("a\\"));
    assert_eq!(parse("[global]\rk = 1\r").get("global", "k"), Some("1"));
}

#[test]
fn display_round_trips() {
    let c = parse(
        "[global]\nmon host = [v2:1.2.3.4:3300,v1:1.2.3.4:6789]\nweird = \"has # and ; and \\\\ and \\\"\"\n[odd\\]name]\nk = v\n",
    );
    assert_eq!(c.get("odd]name", "k"), Some("v"));
    assert_eq!(c.get("global", "weird"), Some("has # and ; and \\ and \""));
    let again = parse(&c.to_string());
    assert_eq!(again, c);
}

#[test]
fn load_reads_files_and_refuses_huge_ones() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ceph.conf");
    std::fs::write(&p, "[global]\nfsid = x\n").unwrap();
    assert_eq!(ConfFile::load(&p).unwrap().get("global", "fsid"), Some("x"));

    let missing = ConfFile::load(&dir.path().join("nope.conf")).unwrap_err();
    assert!(missing.is_not_found());

    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "[global]\nno equals here\n").unwrap();
    let e = ConfFile::load(&bad).unwrap_err();
    assert!(!e.is_not_found());
    let shown = e.to_string();
    assert!(
        shown.contains("bad.conf") && shown.contains("line 2"),
        "{shown}"
    );

    let huge = dir.path().join("huge.conf");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(MAX_CONF_FILE_BYTES + 1).unwrap();
    assert!(matches!(
        ConfFile::load(&huge),
        Err(ceph_config::ConfLoadError::TooLarge { .. })
    ));
}

#[test]
fn real_world_files() {
    let cephadm = parse(include_str!("data/cephadm-minimal.conf"));
    assert_eq!(
        cephadm.get("global", "fsid"),
        Some("6c8b5a3e-2f4d-11ef-9a1b-525400123456")
    );
    assert!(cephadm
        .get("global", "mon_host")
        .unwrap()
        .starts_with("[v2:192.168.122.11:3300/0,v1:192.168.122.11:6789/0] [v2:192.168.122.12"));

    let deploy = parse(include_str!("data/ceph-deploy.conf"));
    assert_eq!(
        deploy.get("global", "mon_host"),
        Some("10.0.0.1,10.0.0.2,10.0.0.3")
    );
    assert_eq!(deploy.get("global", "public_network"), Some("10.0.0.0/24"));
    assert_eq!(
        deploy.get("client.rgw.node1", "rgw_frontends"),
        Some("beast port=7480")
    );
    assert_eq!(
        deploy.get("client.rgw.node1", "log_file"),
        Some("/var/log/ceph/$cluster-$name.log")
    );

    let legacy = parse(include_str!("data/legacy-mon-sections.conf"));
    assert_eq!(legacy.get("mon.b", "mon_addr"), Some("10.1.0.2"));
    assert_eq!(legacy.get("global", "auth_supported"), Some("cephx"));

    let vstart = parse(include_str!("data/vstart-like.conf"));
    assert_eq!(
        vstart.get("global", "mon_host"),
        Some("[v2:127.0.0.1:40000,v1:127.0.0.1:40001]")
    );
    assert_eq!(vstart.get("global", "osd_failsafe_full_ratio"), Some(".99"));
    assert_eq!(
        vstart.get(
            "global",
            "enable_experimental_unrecoverable_data_corrupting_features"
        ),
        Some("*")
    );
    assert_eq!(vstart.get("mon", "mon_client_hunt_interval"), Some("1.5"));
    assert_eq!(
        vstart.get("client", "rgw_crypt_s3_kms_backend"),
        Some("testing")
    );
}
