//! Placement benchmark: every PG of a pool mapped by Ceph's `osdmaptool
//! --mark-up-in --test-map-pgs` and by `monc osdmaptool` with the same
//! options, as whole processes, side by side on the same map; prints wall
//! time, CPU time and peak RSS (from wait4) and the ratios, and checks the
//! two outputs are identical.
//!
//! Maps: `crushtool --build --num_osds N host straw2 20 rack straw2 20
//! root straw2 0`, `osdmaptool --createsimple N --with-default-pool
//! --pg-bits B`, `--import-crush` (B = 6, or 3 from 100,000 OSDs up so
//! osdmaptool finishes in reasonable time).
//!
//! Run: `cargo build --release -p monc -p monc-bench && target/release/placement-bench [N...] [--runs R]`
//! (default N: 1000 4000 10000 100000; R: 3).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One finished process: wall time, user+system CPU and peak RSS.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: i64,
}

// The child is reaped with wait4 (for its rusage), not Child::wait.
#[allow(clippy::zombie_processes)]
fn timed(cmd: &mut Command, stdout: &Path) -> Run {
    let out = File::create(stdout).expect("output file");
    let started = Instant::now();
    let child = cmd
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child; we reap it here and never call wait on
    // the Child handle.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(r, pid, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed"
    );
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Run {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss,
    }
}

fn run_ok(cmd: &mut Command) {
    let st = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn");
    assert!(st.success(), "{cmd:?} failed");
}

fn build_map(dir: &Path, n: usize) -> (PathBuf, u32) {
    let crush = dir.join(format!("crush{n}"));
    let map = dir.join(format!("osdmap{n}"));
    let pg_bits = if n >= 100_000 { 3 } else { 6 };
    run_ok(
        Command::new("crushtool")
            .args(["--build", "--num_osds", &n.to_string(), "-o"])
            .arg(&crush)
            .args([
                "host", "straw2", "20", "rack", "straw2", "20", "root", "straw2", "0",
            ]),
    );
    run_ok(
        Command::new("osdmaptool")
            .args([
                "--createsimple",
                &n.to_string(),
                "--with-default-pool",
                "--pg-bits",
                &pg_bits.to_string(),
                "--clobber",
            ])
            .arg(&map),
    );
    run_ok(
        Command::new("osdmaptool")
            .arg(&map)
            .arg("--import-crush")
            .arg(&crush),
    );
    (map, pg_bits)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut sizes = Vec::new();
    let mut runs = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--runs" {
            runs = args.next().and_then(|v| v.parse().ok()).expect("--runs R");
        } else {
            sizes.push(a.parse::<usize>().expect("OSD count"));
        }
    }
    if sizes.is_empty() {
        sizes = vec![1000, 4000, 10_000, 100_000];
    }
    let monc = std::env::current_exe()
        .expect("own path")
        .with_file_name("monc");
    assert!(
        monc.exists(),
        "build monc first: cargo build --release -p monc"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    println!(
        "{:>7} {:>8} {:>10} {:>10} {:>6} {:>10} {:>10} {:>6} {:>9} {:>9}",
        "osds",
        "pgs",
        "ceph wall",
        "monc wall",
        "x",
        "ceph cpu",
        "monc cpu",
        "x",
        "ceph rss",
        "monc rss"
    );
    for n in sizes {
        let (map, pg_bits) = build_map(tmp.path(), n);
        let pgs = (n as u64) << pg_bits;
        let (mut theirs, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let a = tmp.path().join("ceph.out");
            let b = tmp.path().join("monc.out");
            theirs.push(timed(
                Command::new("osdmaptool")
                    .arg(&map)
                    .args(["--mark-up-in", "--test-map-pgs"]),
                &a,
            ));
            ours.push(timed(
                Command::new(&monc)
                    .arg("osdmaptool")
                    .arg(&map)
                    .args(["--mark-up-in", "--test-map-pgs"]),
                &b,
            ));
            assert_eq!(
                std::fs::read(&a).unwrap(),
                std::fs::read(&b).unwrap(),
                "outputs differ for {n} OSDs"
            );
        }
        let wall = |v: &[Run]| median(v.iter().map(|r| r.wall).collect());
        let cpu = |v: &[Run]| median(v.iter().map(|r| r.cpu).collect());
        let rss = |v: &[Run]| v.iter().map(|r| r.max_rss_kib).max().unwrap_or(0);
        let (tw, ow, tc, oc) = (wall(&theirs), wall(&ours), cpu(&theirs), cpu(&ours));
        println!(
            "{n:>7} {pgs:>8} {:>9.3}s {:>9.3}s {:>6.2} {:>9.3}s {:>9.3}s {:>6.2} {:>6} KiB {:>6} KiB",
            tw.as_secs_f64(),
            ow.as_secs_f64(),
            tw.as_secs_f64() / ow.as_secs_f64(),
            tc.as_secs_f64(),
            oc.as_secs_f64(),
            tc.as_secs_f64() / oc.as_secs_f64(),
            rss(&theirs),
            rss(&ours)
        );
    }
}
