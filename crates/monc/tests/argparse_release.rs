//! The words-to-JSON matcher and its messages against the Python parser of
//! the cluster's own release (`ceph_argparse.validate_command`, run where
//! that release's `ceph` runs: the host for Pacific, the chroot for
//! `CEPH_RELEASE=reef|tentacle`), over command lines built from every
//! signature the cluster's monitor publishes, with the style `monc`
//! picks from that cluster's MonMap.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use ceph_monclient::command_desc::{ArgDesc, CliStyle, CommandTable, SigPart};
use ceph_testbed::Cluster;
use common::{monc, run_command, shared_cluster};
use serde_json::{json, Value};

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    shared_cluster(&CLUSTER, 1)
}

/// Words that exercise each argument type: good and bad values.
fn samples(a: &ArgDesc) -> Vec<String> {
    let v: Vec<&str> = match a.ty.as_str() {
        "CephInt" => vec!["5", "0", "-1", "0x10", "abc", "1.5", "010"],
        "CephFloat" => vec!["0.5", "1", "2.5", "-1", "abc", "1e3"],
        "CephBool" => vec!["true", "false", "0", "yes"],
        "CephString" => vec!["abc", "a/b", "x-y_z.w", "k=v"],
        "CephPoolname" | "CephObjectname" => vec!["p1", "a/b"],
        "CephOsdName" => vec!["3", "osd.3", "osd.x", "mon.1", "-1"],
        "CephPgid" => vec!["1.0", "1.a", "x.1", "1", "1.g"],
        "CephUUID" => vec!["8d6a4f16-2ad4-4c8e-9f1f-0a4b5a2b3c4d", "bad"],
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
        ],
        "CephName" => vec!["osd.1", "client.admin", "mon", "foo.bar", "nodot"],
        "CephChoices" => {
            let mut c: Vec<String> = a.choices.clone();
            c.push("bogus".into());
            return c;
        }
        _ => vec!["x"],
    };
    v.into_iter().map(String::from).collect()
}

/// Command lines from every signature: good values, each argument through
/// its samples, missing and extra words, keyword forms, cut prefixes.
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
            let mut kw = required.clone();
            if a.ty == "CephBool" {
                kw.push(format!("--{}", a.name.replace('_', "-")));
            } else {
                kw.push(format!("--{}={}", a.name, good[i]));
            }
            cases.push(with(&kw));
        }
        if prefix.len() > 1 {
            cases.push(prefix[..prefix.len() - 1].to_vec());
        }
    }
    for f in [
        "frobnicate",
        "osd",
        "osd pool",
        "osd pool create p1 8 --bogus",
    ] {
        cases.push(f.split(' ').map(String::from).collect());
    }
    cases
}

const ORACLE: &str = r#"
import sys, json, io, contextlib
import ceph_argparse as ca
sigdict = ca.parse_json_funcsigs(open(sys.argv[1]).read(), 'cli')
for line in open(sys.argv[2]):
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

#[test]
fn same_as_the_releases_ceph_argparse() {
    let c = cluster();
    let descs = monc(c, &["--json", r#"{"prefix": "get_command_descriptions"}"#]);
    assert_eq!(descs.code, Some(0), "{descs:?}");
    let dump = monc(c, &["mon", "dump", "-f", "json"]).json();
    let release = dump["min_mon_release"].as_u64().expect("min_mon_release");
    let style = CliStyle::for_release(u8::try_from(release).unwrap());
    let t = CommandTable::from_json(descs.stdout.trim().as_bytes())
        .unwrap()
        .with_style(style);
    // Every fourth case: Python takes ~20 ms a case.
    let cases: Vec<Vec<String>> = generated_cases(&t).into_iter().step_by(4).collect();
    assert!(cases.len() > 700, "{} cases", cases.len());

    // In the cluster's directory: a chroot release's Python sees it.
    let dir = tempfile::tempdir_in(c.dir()).unwrap();
    let descs_path = dir.path().join("descs.json");
    let cases_path = dir.path().join("cases.jsonl");
    std::fs::write(&descs_path, descs.stdout.trim()).unwrap();
    let lines: String = cases
        .iter()
        .map(|w| serde_json::to_string(w).unwrap() + "\n")
        .collect();
    std::fs::write(&cases_path, lines).unwrap();
    let py = run_command(
        c.runtime().command("python3"),
        "python3",
        &[
            "-c",
            ORACLE,
            descs_path.to_str().unwrap(),
            cases_path.to_str().unwrap(),
        ],
        None,
        // The host's Debian packages (the chroots' are on the path anyway).
        &[("PYTHONPATH", "/usr/lib/python3/dist-packages")],
        Duration::from_secs(300),
    );
    assert_eq!(py.code, Some(0), "{}", py.stderr);
    let expected: Vec<Value> = py
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("the oracle prints JSON"))
        .collect();
    assert_eq!(expected.len(), cases.len());

    let mut compared = 0;
    let mut failures = Vec::new();
    for (words, want) in cases.iter().zip(&expected) {
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
    eprintln!("{compared} of {} cases compared", cases.len());
    assert!(compared > 600, "only {compared} cases compared");
    assert!(
        failures.is_empty(),
        "{} of {compared} differ (release {release}):\n{}",
        failures.len(),
        failures[..failures.len().min(15)].join("\n")
    );
}
