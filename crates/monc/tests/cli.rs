//! `monc`'s ways of being told what to do: `--json`, `CEPH_ARGS`, `-m` in
//! each address form, commands on stdin with `--jsonl`, and `-o FILE`.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use ceph_denc::Decode;
use ceph_testbed::Cluster;
use ceph_types::MonMap;
use common::{ceph, monc, monc_at, monc_bin, run_command, run_program, s, shared_cluster};
use serde_json::Value;

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    shared_cluster(&CLUSTER, 3)
}

#[test]
fn json_command_matches_words() {
    let cluster = cluster();
    let run = monc(
        cluster,
        &["--json", r#"{"prefix":"mon dump","format":"json"}"#],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let reference = ceph(cluster, &["mon", "dump", "-f", "json"]);
    assert_eq!(run.json(), reference.json());
    assert_eq!(run.json()["fsid"], cluster.fsid());
}

#[test]
fn json_command_that_is_not_an_object_is_einval() {
    let run = monc(cluster(), &["--json", r#"["mon dump"]"#]);
    assert_eq!(run.code, Some(22), "{run:#?}");
}

#[test]
fn ceph_args_supply_conf_and_keyring() {
    let cluster = cluster();
    let ceph_args = format!(
        "-c {} -k {}",
        s(&cluster.conf_path()),
        s(&cluster.admin_keyring_path())
    );
    let run = run_program(
        monc_bin(),
        &["status"],
        None,
        &[("CEPH_ARGS", &ceph_args)],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(run.stdout.contains(cluster.fsid()), "{run:#?}");
    assert!(run.stdout.contains("quorum a,b,c"), "{run:#?}");

    // Flags on the command line win over CEPH_ARGS.
    let run = run_program(
        monc_bin(),
        &["-f", "json", "status"],
        None,
        &[("CEPH_ARGS", &format!("{ceph_args} -f plain"))],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.json()["fsid"], cluster.fsid());
}

#[test]
fn mon_host_in_every_form() {
    let cluster = cluster();
    let mons = cluster.mons();
    let (a, b) = (&mons[0], &mons[1]);
    let forms = [
        a.addrvec(),
        format!("v2:{}", b.v2_addr),
        format!("{}", a.v2_addr),
        // Several monitors, mixing the forms, comma- and space-separated.
        format!("{},v2:{} {}", a.addrvec(), b.v2_addr, mons[2].v2_addr),
        cluster.mon_host().to_string(),
    ];
    for mon_host in forms {
        // No conf at all: everything comes from the flags.
        let run = monc_at(
            cluster,
            &mon_host,
            &["--connect-timeout", "5", "mon", "dump", "-f", "json"],
        );
        assert_eq!(run.code, Some(0), "-m {mon_host}: {run:#?}");
        assert_eq!(run.json()["fsid"], cluster.fsid(), "-m {mon_host}");
        assert_eq!(run.json()["mons"].as_array().map(Vec::len), Some(3));
    }
}

#[test]
fn stdin_commands_with_jsonl() {
    let cluster = cluster();
    let input = "mon dump\nosd pool set nopool size 2\n{\"prefix\": \"health\"}\n";
    let run = run_program(
        monc_bin(),
        &[
            "-c",
            s(&cluster.conf_path()),
            "-k",
            s(&cluster.admin_keyring_path()),
            "--jsonl",
        ],
        Some(input),
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(0), "the last command succeeded: {run:#?}");
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "{run:#?}");
    for line in &lines {
        for key in ["cmd", "retval", "outs", "outb", "start", "end"] {
            assert!(line.get(key).is_some(), "{key} missing in {line}");
        }
        let (start, end) = (
            line["start"].as_str().unwrap(),
            line["end"].as_str().unwrap(),
        );
        assert!(start <= end, "{start} after {end}");
    }
    assert_eq!(lines[0]["cmd"]["prefix"], "mon dump");
    assert_eq!(lines[0]["retval"], 0);
    assert_eq!(lines[0]["outs"], "dumped monmap epoch 1");
    assert!(lines[0]["outb"]
        .as_str()
        .unwrap()
        .contains(&format!("fsid {}", cluster.fsid())));
    assert_eq!(lines[1]["cmd"]["prefix"], "osd pool set");
    assert_eq!(lines[1]["retval"], -2);
    assert_eq!(lines[1]["outs"], "unrecognized pool 'nopool'");
    assert_eq!(lines[2]["cmd"], serde_json::json!({"prefix": "health"}));
    assert_eq!(lines[2]["retval"], 0);
    assert!(lines[2]["outb"].as_str().unwrap().starts_with("HEALTH_"));
}

#[test]
fn out_file_holds_the_encoded_monmap() {
    let cluster = cluster();
    // In the cluster's directory: a chroot release's `ceph` sees it.
    let dir = tempfile::tempdir_in(cluster.dir()).unwrap();
    let mine = dir.path().join("monmap.monc");
    let theirs = dir.path().join("monmap.ceph");
    let run = monc(cluster, &["mon", "getmap", "-o", s(&mine)]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(run.stdout.is_empty(), "data goes to the file: {run:#?}");
    assert_eq!(run.stderr, "got monmap epoch 1\n");
    let reference = ceph(cluster, &["mon", "getmap", "-o", s(&theirs)]);
    assert_eq!(reference.code, Some(0), "{reference:#?}");

    let bytes = std::fs::read(&mine).unwrap();
    assert_eq!(bytes, std::fs::read(&theirs).unwrap());
    let map = MonMap::decode_all(&bytes).expect("the file is a MonMap");
    assert_eq!(map.fsid.to_string(), cluster.fsid());
    assert_eq!(map.epoch, 1);
    assert_eq!(map.ranks, ["a", "b", "c"]);
    for mon in cluster.mons() {
        let addrs = map.rank_addrs(mon.rank as usize).unwrap().to_string();
        assert_eq!(
            addrs,
            format!("[v2:{}/0,v1:{}/0]", mon.v2_addr, mon.v1_addr)
        );
    }
}

#[test]
fn stdin_line_with_a_format_flag_runs_like_ceph() {
    let cluster = cluster();
    let (conf, keyring) = (cluster.conf_path(), cluster.admin_keyring_path());
    let args = ["-c", s(&conf), "-k", s(&keyring)];
    let input = "mon dump -f json\n";
    let cmd = cluster.runtime().command("ceph");
    let theirs = run_command(
        cmd,
        "ceph",
        &args,
        Some(input),
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(theirs.code, Some(0), "{theirs:#?}");
    assert!(theirs.stdout.contains(cluster.fsid()), "{theirs:#?}");
    let mine = run_program(monc_bin(), &args, Some(input), &[], Duration::from_secs(30));
    assert_eq!(mine.code, Some(0), "{mine:#?}");
    assert!(mine.stdout.contains(cluster.fsid()), "{mine:#?}");
    // The line's own -f applies: the output is JSON.
    let json: serde_json::Value = serde_json::from_str(mine.stdout.trim()).expect("JSON output");
    assert_eq!(json["fsid"], cluster.fsid());
}
