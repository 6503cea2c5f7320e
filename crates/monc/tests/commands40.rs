//! Seventy-odd monitor commands run through `ceph` and `monc` against the
//! same real cluster (Pacific, or the `CEPH_RELEASE` one with that
//! release's `ceph`): reads and writes, with and without arguments, good
//! and bad. Each must give the same exit code, the same JSON (parsed,
//! without the fields listed in `VOLATILE`), the same plain text and the
//! same stderr.
//!
//! Writes that cannot run twice take a name with `{T}` in it: `monc`
//! creates `p-monc`, `ceph` creates `p-ceph`, and `monc`'s output is
//! compared with `monc` replaced by `ceph`. `{IP}` does the same for
//! addresses (10.9.9.1 for `monc`, 10.9.9.2 for `ceph`).

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use ceph_testbed::Cluster;
use common::{ceph, monc, shared_cluster, Run};
use serde_json::Value;

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    shared_cluster(&CLUSTER, 1)
}

/// Fields that change between two calls with nothing happening: the
/// quorum's age in seconds, and secret keys of entities created twice
/// (`{T}` names).
const VOLATILE: &[&str] = &["quorum_age", "key"];

/// How to compare one command's output.
#[derive(Clone, Copy)]
enum Out {
    /// Stdout is JSON: compare parsed, without `VOLATILE` fields.
    Json,
    /// Compare stdout byte for byte.
    Text,
}

struct Case {
    line: &'static str,
    out: Out,
    /// Cut stderr from this text on before comparing (times in messages).
    cut_stderr_at: Option<&'static str>,
    /// JSON fields that differ between the `{T}` objects (their ids).
    ignore: &'static [&'static str],
    /// Digits in text differ between the `{T}` objects (their ids).
    mask_digits: bool,
    /// Keyring text whose `key = ...` lines differ between the `{T}`
    /// entities (random secrets; Tentacle's `auth caps` prints the keyring).
    mask_keys: bool,
}

const fn json(line: &'static str) -> Case {
    Case {
        line,
        out: Out::Json,
        cut_stderr_at: None,
        ignore: &[],
        mask_digits: false,
        mask_keys: false,
    }
}

const fn text(line: &'static str) -> Case {
    Case {
        line,
        out: Out::Text,
        cut_stderr_at: None,
        ignore: &[],
        mask_digits: false,
        mask_keys: false,
    }
}

const OSD_UUID: &str = "3f1c2a8e-6b1d-4c55-9a0e-2f7b8c9d0e1f";

/// The commands, in order: later ones read what earlier ones wrote.
fn cases() -> Vec<Case> {
    vec![
        // Reads of a fresh cluster.
        json("status -f json"),
        json("health -f json"),
        text("health detail"),
        json("mon dump -f json"),
        text("mon dump"),
        text("mon stat"),
        json("quorum_status -f json-pretty"),
        json("mon feature ls -f json"),
        text("mon feature ls"),
        json("fsid -f json"),
        text("osd ls"),
        json("osd erasure-code-profile ls -f json"),
        json("osd erasure-code-profile get default -f json"),
        text("osd crush rule ls"),
        json("config dump -f json"),
        json("mon versions -f json"),
        // Building some state.
        text(leak(format!("osd create {OSD_UUID}"))),
        text(leak(format!("osd create {OSD_UUID}"))),
        text("osd pool create pool-{T} 8"),
        Case {
            mask_digits: true,
            ..text("osd pool set pool-{T} size 2")
        },
        Case {
            ignore: &["pool_id"],
            ..json("osd pool get pool-{T} size -f json")
        },
        text("osd pool get pool-{T} all"),
        text("osd pool set-quota pool-{T} max_objects 100"),
        json("osd pool get-quota pool-{T} -f json"),
        text("osd pool mksnap pool-{T} snap1"),
        text("osd pool rmsnap pool-{T} snap1"),
        text("osd pool application enable pool-{T} rbd"),
        text("osd erasure-code-profile set prof-{T} k=2 m=1 crush-failure-domain=osd"),
        json("osd erasure-code-profile get prof-{T} -f json"),
        text("osd crush add-bucket host-{T} host"),
        Case {
            mask_digits: true,
            ..text("osd crush move host-{T} root=default")
        },
        text("osd crush rule create-replicated rule-{T} default host"),
        Case {
            ignore: &["rule_id", "ruleset"],
            ..json("osd crush rule dump rule-{T} -f json")
        },
        text("config set client.{T} rbd_cache false"),
        text("config get client.{T} rbd_cache"),
        text("config rm client.{T} rbd_cache"),
        text("config set mon mon_allow_pool_delete true"),
        json("config get mon mon_allow_pool_delete -f json"),
        json("auth get-or-create client.{T} mon 'allow r' -f json"),
        Case {
            mask_keys: true,
            ..text("auth caps client.{T} mon 'allow rw'")
        },
        json("auth get client.{T} -f json"),
        text("auth rm client.{T}"),
        Case {
            cut_stderr_at: Some(" until "),
            ..text("osd blocklist add {IP}:0/0 3600")
        },
        text("osd blocklist rm {IP}:0/0"),
        // The monitor sends `[][]` here: not JSON, but the same bytes.
        text("osd blocklist ls -f json"),
        text("health mute MON_DISK_LOW 1h"),
        text("health unmute MON_DISK_LOW"),
        json("osd pool ls detail -f json"),
        json("osd dump -f json"),
        json("osd tree -f json"),
        text("config-key set key-{T} value"),
        text("config-key get key-{T}"),
        text("config-key rm key-{T}"),
        // Bad words: rejected before anything is sent.
        text("osd pool create"),
        text("osd pool frobnicate"),
        text("frobnicate"),
        text("mon dump --bogus"),
        text("osd reweight 0 1.5"),
        text("osd blocklist add 999.1.1.1"),
        text("osd crush rule create-replicated bad/name default host"),
        // Tentacle's `key_type` is keyword-only: refused by position (no
        // `auth rotate` before Squid: the closest matches then).
        text("auth rotate client.x aes"),
        text("osd pool create pool-x 8 8 replicated rule extra words"),
        // Bad values the monitor refuses (retval < 0, maybe with data).
        text("osd pool get no-such-pool size"),
        text("osd pool set pool-{T} size abc"),
        text("osd pool rm pool-{T}"),
        text("auth get client.nobody"),
        text("osd crush move no-such-bucket root=default"),
        json("osd pool get no-such-pool size -f json"),
        text("config get client.x no_such_option"),
        // Clean-up, with the confirmation flag.
        text("osd pool rm pool-{T} pool-{T} --yes-i-really-really-mean-it"),
    ]
}

/// For the one case built at run time (a `&'static str` is expected).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Words of a command line; `'...'` groups words, as a shell would.
fn split(line: &str, tool: &str) -> Vec<String> {
    let ip = if tool == "monc" {
        "10.9.9.1"
    } else {
        "10.9.9.2"
    };
    let line = line.replace("{T}", tool).replace("{IP}", ip);
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(cur);
    }
    words
}

fn strip_fields(v: &mut Value, fields: &[&str]) {
    match v {
        Value::Object(map) => {
            for f in fields {
                map.remove(*f);
            }
            map.values_mut().for_each(|v| strip_fields(v, fields));
        }
        Value::Array(list) => list.iter_mut().for_each(|v| strip_fields(v, fields)),
        _ => {}
    }
}

/// Why two runs differ, or `None`.
fn difference(case: &Case, mine: &Run, theirs: &Run) -> Option<String> {
    let norm = |s: &str| {
        let mut s = s.replace("monc", "ceph").replace("10.9.9.1", "10.9.9.2");
        if case.mask_digits {
            s = s.replace(|c: char| c.is_ascii_digit(), "#");
        }
        if case.mask_keys {
            s = s
                .lines()
                .map(|l| match l.split_once("key = ") {
                    Some((head, _)) => format!("{head}key = KEY\n"),
                    None => format!("{l}\n"),
                })
                .collect();
        }
        match case.cut_stderr_at.and_then(|at| s.find(at)) {
            Some(i) => s[..i].to_string(),
            None => s,
        }
    };
    if mine.code != theirs.code {
        return Some(format!("exit codes {:?} vs {:?}", mine.code, theirs.code));
    }
    match case.out {
        Out::Json => {
            let parse = |s: &str| -> Result<Value, String> {
                let mut v: Value =
                    serde_json::from_str(&s.replace("monc", "ceph")).map_err(|e| e.to_string())?;
                strip_fields(&mut v, VOLATILE);
                strip_fields(&mut v, case.ignore);
                Ok(v)
            };
            if mine.stdout.trim().is_empty() != theirs.stdout.trim().is_empty() {
                return Some("one stdout is empty".into());
            }
            if !theirs.stdout.trim().is_empty() {
                match (parse(&mine.stdout), parse(&theirs.stdout)) {
                    (Ok(m), Ok(t)) if m == t => {}
                    (m, t) => return Some(format!("JSON differs:\n{m:?}\n{t:?}")),
                }
                // Both put the same blank line first.
                if mine.stdout.starts_with('\n') != theirs.stdout.starts_with('\n') {
                    return Some("leading blank line differs".into());
                }
            }
        }
        Out::Text => {
            if norm(&mine.stdout) != norm(&theirs.stdout) {
                return Some("stdout differs".into());
            }
        }
    }
    if norm(&mine.stderr) != norm(&theirs.stderr) {
        return Some("stderr differs".into());
    }
    None
}

fn run_both(case: &Case) -> (Run, Run) {
    let c = cluster();
    let mine_words = split(case.line, "monc");
    let their_words = split(case.line, "ceph");
    let m: Vec<&str> = mine_words.iter().map(String::as_str).collect();
    let t: Vec<&str> = their_words.iter().map(String::as_str).collect();
    (monc(c, &m), ceph(c, &t))
}

#[test]
fn seventy_commands_same_as_ceph() {
    let cases = cases();
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    let mut codes = Vec::new();
    for case in &cases {
        let (mut mine, mut theirs) = run_both(case);
        let mut why = difference(case, &mine, &theirs);
        // Reads may straddle a change the monitor makes by itself (a
        // health check on its tick): try a read again.
        let read_only = !case.line.contains("{T}") && !case.line.contains("{IP}");
        for _ in 0..2 {
            if why.is_none() || !read_only || case.line.contains("create") {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
            (mine, theirs) = run_both(case);
            why = difference(case, &mine, &theirs);
        }
        codes.push(theirs.code);
        if let Some(why) = why {
            failures.push(format!(
                "{}: {why}\n  monc: {mine:?}\n  ceph: {theirs:?}",
                case.line
            ));
        }
    }
    // Both succeeded and failed for real: not two tools that cannot connect.
    let ok = codes.iter().filter(|c| **c == Some(0)).count();
    let invalid = codes.iter().filter(|c| **c == Some(22)).count();
    assert!(
        ok >= 45 && invalid >= 8,
        "{ok} succeeded, {invalid} EINVAL: {codes:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} commands differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `-o FILE` and `-o -`: the data goes to the file (no blank line before
/// JSON) or to stdout as is; the status line still goes to stderr.
#[test]
fn output_file_like_ceph() {
    let c = cluster();
    // In the cluster's directory: a chroot release's `ceph` sees it.
    let dir = tempfile::tempdir_in(c.dir()).unwrap();
    for (tool, path) in [
        ("monc", dir.path().join("m")),
        ("ceph", dir.path().join("c")),
    ] {
        let p = path.to_str().unwrap();
        let run = if tool == "monc" {
            monc(c, &["mon", "dump", "-f", "json", "-o", p])
        } else {
            ceph(c, &["mon", "dump", "-f", "json", "-o", p])
        };
        assert_eq!(run.code, Some(0), "{run:?}");
        assert_eq!(run.stdout, "", "{tool}: {run:?}");
        assert!(run.stderr.starts_with("dumped monmap epoch"), "{run:?}");
    }
    let m = std::fs::read(dir.path().join("m")).unwrap();
    let t = std::fs::read(dir.path().join("c")).unwrap();
    assert_eq!(m, t);
    let mine = monc(c, &["mon", "dump", "-f", "json", "-o", "-"]);
    let theirs = ceph(c, &["mon", "dump", "-f", "json", "-o", "-"]);
    assert_eq!(mine.code, theirs.code);
    assert_eq!(mine.stdout, theirs.stdout);
    assert!(!mine.stdout.starts_with('\n'), "{mine:?}");
    assert_eq!(mine.stderr, theirs.stderr);
}

/// `monc WORDS -h` lists the monitor's signatures as `ceph WORDS -h`
/// does under "Monitor commands:" (Reef's and Tentacle's print choices
/// with their names, and drop unknown words: `osd pool frob` lists the
/// `osd pool` commands, Pacific's nothing).
#[test]
fn help_like_ceph() {
    let c = cluster();
    for words in [
        &["osd", "pool", "-h"][..],
        &["-h"][..],
        &["auth", "--help"][..],
        &["osd", "pool", "frobnicate", "-h"][..],
    ] {
        let mine = monc(c, words);
        let theirs = ceph(c, words);
        assert_eq!(mine.code, Some(0), "{mine:?}");
        assert_eq!(theirs.code, Some(0), "{theirs:?}");
        let section = |s: &str| {
            let at = s
                .find("\n Monitor commands: \n")
                .expect("a monitor section");
            s[at..].to_string()
        };
        let (m, t) = (section(&mine.stdout), section(&theirs.stdout));
        if !words.contains(&"frobnicate") {
            assert!(m.lines().count() > 3, "{m}");
        }
        assert_eq!(m, t, "{words:?}");
    }
}
