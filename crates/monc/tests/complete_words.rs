//! Ring 1: `monc --complete-words` over a cache file written by monc's own
//! cache writer (Pacific's published descriptions), the cluster picked by
//! the conf file's fsid or else by the newest cache file, a corrupt cache
//! giving nothing, and the generated bash completion calling it.

use std::path::Path;
use std::process::{Command, Output};

#[allow(dead_code)]
#[path = "../src/cache.rs"]
mod cache;

const DESCS: &[u8] = include_bytes!("../../argparse/tests/data/pacific-command-descriptions.json");
const FSID: &str = "0badc0de-1234-4bcd-8e0f-00112233aabb";
const FSID_BYTES: [u8; 16] = [
    0x0b, 0xad, 0xc0, 0xde, 0x12, 0x34, 0x4b, 0xcd, 0x8e, 0x0f, 0x00, 0x11, 0x22, 0x33, 0xaa, 0xbb,
];

fn store(dir: &Path, fsid: [u8; 16], descs: &[u8]) -> std::path::PathBuf {
    let cached = cache::CachedDescriptions {
        key: cache::CacheKey {
            fsid,
            monmap_epoch: 1,
            min_mon_release: 16,
            mon_features: 0,
            mgrmap_epoch: 1,
        },
        entries: ceph_argparse::description_entries(descs).unwrap(),
    };
    let path = cache::cache_file(&dir.join("monc"), &fsid);
    cached.store(&path).unwrap();
    path
}

/// `monc --complete-words ARGS...` with only the environment given.
fn complete(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Vec<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_monc"));
    cmd.arg("--complete-words").args(args).env_clear();
    cmd.env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"));
    cmd.env("CEPH_CONF", home.join("no-such.conf"));
    cmd.envs(env.iter().copied());
    let out: Output = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn conf(home: &Path, text: &str) -> String {
    let path = home.join("ceph.conf");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn words_from_the_cluster_the_conf_names() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    store(&home.join("cache"), FSID_BYTES, DESCS);
    // Another cluster's cache, written later: not the one the conf names.
    store(
        &home.join("cache"),
        [9; 16],
        br#"{"cmd0": {"sig": ["osd", "pool", "frob"], "help": "", "module": "osd", "perm": "r", "flags": 0}}"#,
    );
    let c = conf(
        home,
        &format!("[global]\nfsid = {FSID}\nmon host = no-such-host.invalid\n"),
    );
    let run = |words: &[&str]| {
        let mut args = vec!["-c", c.as_str(), "--"];
        args.extend_from_slice(words);
        complete(home, &[], &args)
    };
    let pool = run(&["osd", "pool", ""]);
    for w in ["create", "get", "ls", "rm", "set"] {
        assert!(pool.contains(&w.to_string()), "{w} in {pool:?}");
    }
    assert!(!pool.contains(&"frob".to_string()), "{pool:?}");
    assert_eq!(run(&["osd", "po"]), ["pool"]);
    let vars = run(&["osd", "pool", "get", "rbd", ""]);
    for w in ["size", "min_size", "pg_num", "crush_rule", "all"] {
        assert!(vars.contains(&w.to_string()), "{w} in {vars:?}");
    }
    assert_eq!(run(&["osd", "pool", "get", ""]), Vec::<String>::new());
    let first = run(&[""]);
    for w in [
        "tell",
        "daemon",
        "pg",
        "ping",
        "osdmaptool",
        "decode",
        "osd",
        "auth",
    ] {
        assert!(first.contains(&w.to_string()), "{w} in {first:?}");
    }
    // CEPH_CONF finds the conf as well.
    let pool = complete(home, &[("CEPH_CONF", &c)], &["--", "osd", "pool", ""]);
    assert!(pool.contains(&"ls".to_string()), "{pool:?}");
}

#[test]
fn without_an_fsid_the_newest_cache() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    store(&home.join("cache"), FSID_BYTES, DESCS);
    std::thread::sleep(std::time::Duration::from_millis(20));
    store(
        &home.join("cache"),
        [9; 16],
        br#"{"cmd0": {"sig": ["osd", "pool", "frob"], "help": "", "module": "osd", "perm": "r", "flags": 0}}"#,
    );
    assert_eq!(complete(home, &[], &["--", "osd", "pool", ""]), ["frob"]);
    let c = conf(home, "[global]\nmon host = 127.0.0.1\n");
    assert_eq!(
        complete(home, &[], &["-c", &c, "--", "osd", "pool", ""]),
        ["frob"]
    );
    // No cache at all: the local commands and the usual first words.
    let empty = tempfile::tempdir().unwrap();
    let first = complete(empty.path(), &[], &["--", "t"]);
    assert!(first.contains(&"tell".to_string()), "{first:?}");
    assert_eq!(
        complete(empty.path(), &[], &["--", "osd", ""]),
        Vec::<String>::new()
    );
}

#[test]
fn a_corrupt_cache_gives_nothing() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let path = store(&home.join("cache"), FSID_BYTES, DESCS);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let c = conf(home, &format!("[global]\nfsid = {FSID}\n"));
    assert_eq!(
        complete(home, &[], &["-c", &c, "--", "osd", "pool", ""]),
        Vec::<String>::new()
    );
    std::fs::write(&path, b"").unwrap();
    assert_eq!(
        complete(home, &[], &["-c", &c, "--", "osd", ""]),
        Vec::<String>::new()
    );
    // A bad fsid in the conf, a missing conf, no words: nothing, exit 0.
    let bad = conf(home, "[global]\nfsid = not-an-fsid\n");
    assert_eq!(
        complete(home, &[], &["-c", &bad, "--", "osd", ""]),
        Vec::<String>::new()
    );
    assert_eq!(
        complete(home, &[], &["-c", "/nonexistent.conf", "--", "osd", ""]),
        Vec::<String>::new()
    );
    assert_eq!(complete(home, &[], &[]), Vec::<String>::new());
}

/// The generated completion (doc/monc.bash) in a real bash, `monc` on PATH.
#[test]
fn bash_completion_calls_it() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    store(&home.join("cache"), FSID_BYTES, DESCS);
    let c = conf(home, &format!("[global]\nfsid = {FSID}\n"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/monc.bash");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_monc")).parent().unwrap();
    let bash = |words: &str, cword: usize| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}'; COMP_WORDS=({words}); COMP_CWORD={cword}; _monc; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display()
            ))
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .env("HOME", home)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("CEPH_CONF", &c)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(bash("monc osd po", 2), "pool\n");
    // Flags and their values are skipped; -c names the cluster.
    assert_eq!(bash(&format!("monc -f json osd -c '{c}' po"), 6), "pool\n");
    assert_eq!(
        bash("monc --format=json osd --cluster ceph pool l", 6),
        "ls\n"
    );
    // As readline splits words at = and :.
    let split = "monc --format = json -m 127.0.0.1 : 3300 --conf = /nonexistent.conf osd po";
    assert_eq!(bash(split, 12), "pool\n");
    assert_eq!(bash("monc --format = json osd pool l", 6), "ls\n");
    // A flag's value after = is not a command word.
    assert_eq!(bash("monc --cluster = ''", 3), "\n");
    assert_eq!(bash("monc --cluster =", 2), "\n");
    let vars = bash("monc osd pool get rbd ''", 5);
    // `-c ~/...` as typed (readline leaves the tilde): the cluster it
    // names, not the newest cache file.
    std::thread::sleep(std::time::Duration::from_millis(20));
    store(
        &home.join("cache"),
        [9; 16],
        br#"{"cmd0": {"sig": ["osd", "frob"], "help": "", "module": "osd", "perm": "r", "flags": 0}}"#,
    );
    assert_eq!(bash("monc -c '~/ceph.conf' osd po", 4), "pool\n");
    assert_eq!(bash("monc -c /nonexistent.conf osd fr", 4), "frob\n");
    assert!(vars.lines().any(|l| l == "min_size"), "{vars}");
    // Flags are still completed by the script itself.
    assert!(bash("monc --wat", 1).lines().any(|l| l == "--watch-warn"));
}
