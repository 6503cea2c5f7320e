//! The words-to-JSON matcher and its messages against the Python parser of
//! the cluster's own release (`ceph_argparse.validate_command`, run where
//! that release's `ceph` runs: the host for Pacific, the chroot for
//! `CEPH_RELEASE=reef|tentacle`), over command lines built from every
//! signature the cluster's monitor publishes, with the style `monc`
//! picks from that cluster's MonMap.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use ceph_argparse::{CliStyle, CommandTable};
use ceph_testbed::Cluster;
use common::{monc, run_command, shared_cluster};
use serde_json::Value;

#[path = "../../argparse/tests/support/argparse_oracle.rs"]
mod argparse_oracle;
use argparse_oracle::{compare, generated_cases, ORACLE};

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    shared_cluster(&CLUSTER, 1)
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

    let (compared, failures) = compare(&t, &cases, &expected);
    eprintln!("{compared} of {} cases compared", cases.len());
    assert!(compared > 600, "only {compared} cases compared");
    assert!(
        failures.is_empty(),
        "{} of {compared} differ (release {release}):\n{}",
        failures.len(),
        failures[..failures.len().min(15)].join("\n")
    );
}
