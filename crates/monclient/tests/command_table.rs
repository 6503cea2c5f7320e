//! The words-to-JSON matcher against every signature a real Pacific
//! monitor published (taken from /work/shared/captures/crc.conn1.s2c.bin),
//! and differentially against Pacific's own Python parser
//! (`ceph_argparse.validate_command`) when it is installed.

use std::io::Write;
use std::process::{Command, Stdio};

use ceph_monclient::command_desc::{ArgDesc, CommandTable, MatchError, SigPart};
use serde_json::{json, Value};

const DESCS: &[u8] = include_bytes!("data/pacific-command-descriptions.json");

fn table() -> CommandTable {
    CommandTable::from_json(DESCS).unwrap()
}

fn to_json(t: &CommandTable, s: &str) -> Result<Value, MatchError> {
    let words: Vec<String> = s.split_whitespace().map(String::from).collect();
    t.words_to_json(&words).map(Value::Object)
}

#[test]
fn every_published_signature_parses() {
    let t = table();
    assert_eq!(t.commands.len(), 348);
    assert!(t.commands.iter().all(|c| !c.prefix().is_empty()));
}

#[test]
fn issue_examples() {
    let t = table();
    assert_eq!(to_json(&t, "status").unwrap(), json!({"prefix": "status"}));
    assert_eq!(
        to_json(&t, "mon dump").unwrap(),
        json!({"prefix": "mon dump"})
    );
    assert_eq!(
        to_json(&t, "health detail").unwrap(),
        json!({"prefix": "health", "detail": "detail"})
    );
    assert_eq!(
        to_json(&t, "osd pool create p1 32").unwrap(),
        json!({"prefix": "osd pool create", "pool": "p1", "pg_num": 32})
    );
    assert_eq!(
        to_json(&t, "osd pool set p1 size 2").unwrap(),
        json!({"prefix": "osd pool set", "pool": "p1", "var": "size", "val": "2"})
    );
    assert_eq!(
        to_json(&t, "config set mon mon_warn_on_pool_no_redundancy false").unwrap(),
        json!({"prefix": "config set", "who": "mon", "name": "mon_warn_on_pool_no_redundancy", "value": "false"})
    );
    assert_eq!(
        to_json(&t, "osd blocklist add 127.0.0.1:0/1234").unwrap(),
        json!({"prefix": "osd blocklist", "blocklistop": "add", "addr": "127.0.0.1:0/1234"})
    );
    assert_eq!(
        to_json(&t, "osd pool create p2 --bulk --pg-num=8").unwrap(),
        json!({"prefix": "osd pool create", "pool": "p2", "bulk": true, "pg_num": 8})
    );
    assert_eq!(
        to_json(&t, "osd out 1,2").unwrap(),
        json!({"prefix": "osd out", "ids": ["1,2"]})
    );
}

#[test]
fn unknown_command_lists_closest_in_table_order() {
    let t = table();
    match to_json(&t, "osd pool frobnicate") {
        Err(MatchError::NoMatch { closest }) => {
            assert_eq!(closest.len(), 10);
            assert_eq!(closest[0], "osd pool stats [<pool_name>]");
            assert!(closest.iter().all(|u| u.starts_with("osd pool")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn help_lists_sorted_visible_signatures() {
    let t = table();
    let words = vec!["osd".to_string(), "pool".to_string(), "get".to_string()];
    let usages: Vec<String> = t.matching(&words).iter().map(|c| c.usage()).collect();
    assert!(usages.len() >= 2, "{usages:?}");
    let mut sorted = usages.clone();
    sorted.sort();
    assert_eq!(usages, sorted);
    let text = t.help_text(&words, 80);
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    assert!(text.starts_with("osd pool get "), "{text}");
}

/// Words that exercise each argument type: good and bad values.
fn samples(a: &ArgDesc) -> Vec<String> {
    let v: Vec<&str> = match a.ty.as_str() {
        "CephInt" => vec!["5", "0", "-1", "0x10", "abc", "1.5", "010", "1_0"],
        "CephFloat" => vec!["0.5", "1", "2.5", "-1", "abc", "1e3", "1_0.5"],
        "CephBool" => vec!["true", "false", "0", "yes", "TRUE"],
        "CephString" => vec!["abc", "a/b", "x-y_z.w", "k=v", "é"],
        "CephPoolname" | "CephObjectname" => vec!["p1", "a/b"],
        "CephOsdName" => vec!["3", "osd.3", "osd.x", "mon.1", "-1", "*"],
        "CephPgid" => vec!["1.0", "1.a", "x.1", "1", "-1.0", "1.g"],
        "CephUUID" => vec![
            "8d6a4f16-2ad4-4c8e-9f1f-0a4b5a2b3c4d",
            "{8d6a4f162ad44c8e9f1f0a4b5a2b3c4d}",
            "bad",
        ],
        "CephIPAddr" | "CephEntityAddr" => vec![
            "1.2.3.4",
            "1.2.3.4:6789",
            "1.2.3.4:0/123",
            "v1:1.2.3.4:6789/0",
            "v2:1.2.3.4:3300",
            "[::1]:6",
            "::1",
            "1.2.3.4/-1",
            "999.1.1.1",
            "1.2.3.4:70000",
            "1.2.3.4/x",
        ],
        "CephName" => vec!["osd.1", "client.admin", "mon", "foo.bar", "osd.x", "nodot"],
        "CephChoices" => {
            let mut c: Vec<String> = a.choices.clone();
            c.push("bogus".into());
            if let Some(first) = a.choices.first().filter(|f| f.len() > 2) {
                c.push(first[..2].to_string());
            }
            return c;
        }
        _ => vec!["x"],
    };
    v.into_iter().map(String::from).collect()
}

/// Command lines built from every signature: good values, each argument
/// through its samples, missing and extra words, keyword forms, prefixes.
fn generated_cases(t: &CommandTable) -> Vec<Vec<String>> {
    let mut cases: Vec<Vec<String>> = Vec::new();
    for cmd in &t.commands {
        let prefix: Vec<String> = cmd.prefix().iter().map(|s| s.to_string()).collect();
        let args: Vec<&ArgDesc> = cmd
            .sig
            .iter()
            .filter_map(|p| match p {
                SigPart::Arg(a) => Some(a),
                SigPart::Literal(_) => None,
            })
            .collect();
        let good: Vec<String> = args.iter().map(|a| samples(a)[0].clone()).collect();
        let with = |vals: &[String]| {
            let mut w = prefix.clone();
            w.extend(vals.iter().cloned());
            w
        };
        let required: Vec<String> = args
            .iter()
            .zip(&good)
            .filter(|(a, _)| a.required)
            .map(|(_, g)| g.clone())
            .collect();
        cases.push(with(&required));
        cases.push(with(&good));
        let mut extra = good.clone();
        extra.push("extra".into());
        cases.push(with(&extra));
        if !required.is_empty() {
            cases.push(with(&required[..required.len() - 1]));
        }
        for (i, a) in args.iter().enumerate() {
            for s in samples(a).into_iter().skip(1) {
                let mut vals = good[..=i].to_vec();
                vals[i] = s;
                cases.push(with(&vals));
            }
            let dashed = a.name.replace('_', "-");
            let mut kw = required.clone();
            if a.ty == "CephBool" {
                kw.push(format!("--{dashed}"));
                kw.insert(0, format!("--{}=false", a.name));
            } else {
                kw.push(format!("--{}={}", a.name, good[i]));
                let mut spaced = vec![format!("--{dashed}"), good[i].clone()];
                spaced.extend(required.iter().cloned());
                cases.push(with(&spaced));
            }
            cases.push(with(&kw));
        }
        if prefix.len() > 1 {
            cases.push(prefix[..prefix.len() - 1].to_vec());
            let mut cut = prefix.clone();
            let last = cut.last_mut().expect("non-empty");
            if last.len() > 2 {
                last.truncate(2);
                cases.push(cut);
            }
        }
    }
    let fixed = [
        "",
        "frobnicate",
        "osd",
        "osd pool",
        "osd pool create p1 8 --bogus",
        "osd pool rm p1 p1 --yes-i-really-really-mean-it",
        "osd pool set p1 size 3 --yes-i-really-mean-it",
        "osd crush add-bucket b1 host root=default",
        "osd crush move b1 root=default",
        "config set mon mon_allow_pool_delete true",
        "config set mon debug_mon ''",
        "auth get-or-create client.x mon 'allow r' osd 'allow rw'",
        "auth caps client.x mon allow",
        "osd blocklist add 10.0.0.1:0/3 3600",
        "osd blocklist add 10.0.0.1:0/3 -1",
        "osd erasure-code-profile set p k=2 m=1 --force",
        "osd down 1 2 3 --definitely-dead",
        "osd down --ids=1,2,3",
        "osd ok-to-stop 1 2 --max=3",
        "mon feature ls --with-value",
        "health mute X --sticky=0",
        "osd pool get p1 all",
        "osd pool set-quota p1 max_objects 10",
        "osd pool mksnap p1 s1",
        "osd map p1 obj nspace",
        "pg map 1.0",
        "tell mon.a version",
        "injectargs --debug-mon=1",
    ];
    for f in fixed {
        cases.push(
            f.split(' ')
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect(),
        );
    }
    cases
}

const ORACLE: &str = r#"
import sys, json, io, contextlib, copy
import ceph_argparse as ca

# validate_command deep-copies every signature twice per candidate; a copy
# of each descriptor and its type instance holds all the state it changes,
# and is ten times faster.
deepcopy = copy.deepcopy
def copy_sig(x, memo=None):
    if isinstance(x, list) and x and all(isinstance(d, ca.argdesc) for d in x):
        out = []
        for d in x:
            c = copy.copy(d)
            c.instance = copy.copy(d.instance)
            out.append(c)
        return out
    return deepcopy(x)
class Copier:
    deepcopy = staticmethod(copy_sig)
ca.copy = Copier()

sigdict = ca.parse_json_funcsigs(open(sys.argv[1]).read(), 'cli')
for line in sys.stdin:
    words = json.loads(line)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            v = ca.validate_command(sigdict, words)
        print(json.dumps({"ok": v, "err": err.getvalue()}))
    except Exception as e:
        print(json.dumps({"exc": repr(e)}))
"#;

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

/// Python lists the characters of an "invalid chars" message in set
/// order, which changes from run to run: compare them sorted.
fn normalize(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(Value::String(err)) = v.get_mut("err") {
        if let Some(at) = err.find("invalid chars ") {
            let start = at + "invalid chars ".len();
            let end = err[start..].find(" in ").map_or(err.len(), |e| start + e);
            let mut chars: Vec<char> = err[start..end].chars().collect();
            chars.sort_unstable();
            let sorted: String = chars.into_iter().collect();
            err.replace_range(start..end, &sorted);
        }
    }
    v
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
    let mut compared = 0;
    let mut failures = Vec::new();
    for (words, want) in cases.iter().zip(&expected) {
        if want.get("exc").is_some() {
            // The Python parser crashed (a traceback); nothing to match.
            continue;
        }
        compared += 1;
        let got = match t.words_to_json(words) {
            Ok(map) => json!({"ok": Value::Object(map), "err": ""}),
            Err(e) => json!({"ok": {}, "err": format!("{e}\n")}),
        };
        if normalize(&got) != normalize(want) {
            failures.push(format!("{words:?}\n  monc: {got}\n  ceph: {want}"));
        }
    }
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
