//! Differential testing of the words-to-JSON matcher against Ceph's own
//! Python parser (`ceph_argparse.validate_command`): command lines built
//! from every published signature, the Python side, and the comparison.
//! Shared by ceph-argparse's `command_table` test (Pacific's parser, from
//! a stored table) and monc's `argparse_release` test (the cluster's own
//! release), which include this file by path.

use ceph_argparse::{ArgDesc, CommandTable, SigPart};
use serde_json::{json, Value};

/// Words that exercise each argument type: good and bad values.
pub fn samples(a: &ArgDesc) -> Vec<String> {
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
pub fn generated_cases(t: &CommandTable) -> Vec<Vec<String>> {
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

/// Python that reads signatures (file `argv[1]`) and word lists (JSON
/// lines, file `argv[2]` or stdin) and prints one JSON result a line:
/// `{"ok": ..., "err": ...}`, or `{"exc": ...}` when the parser crashed.
pub const ORACLE: &str = r#"
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
for line in (open(sys.argv[2]) if len(sys.argv) > 2 else sys.stdin):
    words = json.loads(line)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            v = ca.validate_command(sigdict, words)
        print(json.dumps({"ok": v, "err": err.getvalue()}))
    except Exception as e:
        print(json.dumps({"exc": repr(e)}))
"#;

/// Python lists the characters of an "invalid chars" message in set
/// order, which changes from run to run: compare them sorted.
pub fn normalize(v: &Value) -> Value {
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

/// Compares the matcher with the oracle's answers; returns how many cases
/// were compared (those where Python did not crash) and a description of
/// each difference.
pub fn compare(
    t: &CommandTable,
    cases: &[Vec<String>],
    expected: &[Value],
) -> (usize, Vec<String>) {
    let mut compared = 0;
    let mut failures = Vec::new();
    for (words, want) in cases.iter().zip(expected) {
        if want.get("exc").is_some() {
            // The Python parser crashed (a traceback): nothing to match.
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
    (compared, failures)
}
