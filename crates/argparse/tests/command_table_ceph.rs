//! The words-to-JSON matcher against Pacific's own Python parser
//! (`ceph_argparse.validate_command`) and the help table `ceph -h` prints,
//! over every signature a real Pacific monitor published (the table of
//! `command_table.rs`). Needs Ceph's Python modules and `/usr/bin/ceph`:
//! built with the `real-ceph` feature only (ring 3).

use std::io::Write;
use std::process::{Command, Stdio};

use ceph_argparse::CommandTable;
use serde_json::Value;

#[path = "support/argparse_oracle.rs"]
mod argparse_oracle;
use argparse_oracle::{compare, generated_cases, ORACLE};

const DESCS: &[u8] = include_bytes!("data/pacific-command-descriptions.json");

fn table() -> CommandTable {
    CommandTable::from_json(DESCS).unwrap()
}

/// Runs `ceph_argparse.validate_command` over the cases; `None` when the
/// Python parser is not installed.
fn oracle(cases: &[Vec<String>]) -> Option<Vec<Value>> {
    let descs = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("pacific-descs-{}.json", std::process::id()));
    std::fs::write(&descs, DESCS).ok()?;
    let mut child = Command::new("python3")
        .args(["-c", ORACLE])
        .arg(&descs)
        .env("PYTHONPATH", "/usr/lib/python3/dist-packages")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut input = String::new();
    for c in cases {
        input.push_str(&serde_json::to_string(c).expect("words serialize"));
        input.push('\n');
    }
    let mut stdin = child.stdin.take()?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().ok()?;
    let _ = writer.join();
    let _ = std::fs::remove_file(&descs);
    if !out.status.success() {
        eprintln!("oracle failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("oracle prints JSON"))
        .collect();
    (lines.len() == cases.len()).then_some(lines)
}

/// Every generated command line gives the same JSON, or the same messages,
/// as Pacific's Python parser.
#[test]
fn same_as_ceph_argparse() {
    let t = table();
    let all = generated_cases(&t);
    assert!(all.len() > 3000, "{} cases", all.len());
    // Every case takes ~20 ms in Python: a quarter of them by default.
    let step = if std::env::var("ORACLE_ALL").as_deref() == Ok("1") {
        1
    } else {
        4
    };
    let cases: Vec<Vec<String>> = all.into_iter().step_by(step).collect();
    let Some(expected) = oracle(&cases) else {
        if std::env::var("REQUIRE_CEPH_ARGPARSE").as_deref() == Ok("1") {
            panic!("ceph_argparse is required but not available");
        }
        eprintln!("skipped: python3 with ceph_argparse is not available");
        return;
    };
    let (compared, failures) = compare(&t, &cases, &expected);
    assert!(compared * step > 3000, "only {compared} cases compared");
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(15)].join("\n")
    );
}

const HELP_ORACLE: &str = r#"
import sys, string
import ceph_argparse as ca
src = open('/usr/bin/ceph').read()
class Termsize:
    def __init__(self):
        self.rows, self.cols = 25, int(sys.argv[2])
ns = {'string': string, 'Termsize': Termsize, 'descsort_key': ca.descsort_key,
      'Flag': ca.Flag, 'concise_sig': ca.concise_sig}
exec(src[src.index('DONTSPLIT ='):src.index('def ceph_conf')], ns)
partial = sys.argv[3] if len(sys.argv) > 3 else None
sys.stdout.write(ns['format_help'](ca.parse_json_funcsigs(open(sys.argv[1]).read(), 'cli'), partial=partial))
"#;

/// The help table is the one `ceph -h` prints (its `format_help`), for a
/// few widths and command prefixes.
#[test]
fn help_same_as_ceph() {
    if !std::path::Path::new("/usr/bin/ceph").exists() {
        eprintln!("skipped: /usr/bin/ceph is not installed");
        return;
    }
    let t = table();
    let descs = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("help-descs-{}.json", std::process::id()));
    std::fs::write(&descs, DESCS).unwrap();
    for (cols, partial) in [
        (80, ""),
        (80, "osd pool"),
        (120, "auth"),
        (40, "mon"),
        (200, ""),
    ] {
        let mut cmd = Command::new("python3");
        cmd.args(["-c", HELP_ORACLE])
            .arg(&descs)
            .arg(cols.to_string())
            .env("PYTHONPATH", "/usr/lib/python3/dist-packages");
        if !partial.is_empty() {
            cmd.arg(partial);
        }
        let out = cmd.output().expect("running python3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let words: Vec<String> = partial.split_whitespace().map(String::from).collect();
        let mine = t.help_text(&words, cols);
        let theirs = String::from_utf8(out.stdout).unwrap();
        assert!(theirs.len() > 40, "{theirs}");
        if mine != theirs {
            let at = mine
                .lines()
                .zip(theirs.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "help for {partial:?} at {cols} columns differs at line {at}:\nmonc: {:?}\nceph: {:?}",
                mine.lines().nth(at),
                theirs.lines().nth(at)
            );
        }
    }
    let _ = std::fs::remove_file(&descs);
}
