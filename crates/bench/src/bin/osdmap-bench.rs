//! OSDMap decode benchmark: builds maps of 1,000, 10,000 and 100,000 OSDs
//! with `osdmaptool --createsimple N --with-default-pool`, then times our
//! decode, encode and `apply_incremental` (median of repeated runs),
//! counts the bytes allocated while decoding (live and peak), and times
//! `osdmaptool --print FILE` as a whole process on the same files.
//!
//! Run: `cargo run --release -p monc-bench --bin osdmap-bench [N...]`

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ceph_denc::{Decode, Encode};
use ceph_osdmap::{OSDMap, OSDMapIncremental};
use ceph_types::features::CLIENT_FEATURES_ALL;
use ceph_types::{EntityAddrVec, UTime};

/// The system allocator, counting live bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `f` until `runs` samples or about two seconds have been taken
/// (at least 5), and returns the median.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < runs && (samples.len() < 5 || started.elapsed() < Duration::from_secs(2))
    {
        let t = Instant::now();
        std::hint::black_box(f());
        samples.push(t.elapsed());
    }
    median(samples)
}

fn build_map(n: usize, path: &Path) {
    let status = Command::new("osdmaptool")
        .args([
            "--createsimple",
            &n.to_string(),
            "--with-default-pool",
            "--clobber",
        ])
        .arg(path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("running osdmaptool");
    assert!(status.success(), "osdmaptool --createsimple {n} failed");
}

/// An incremental that brings a tenth of the OSDs up with an address,
/// reweights another tenth and changes some primary affinities.
fn churn(map: &OSDMap) -> OSDMapIncremental {
    let mut inc = OSDMapIncremental::new(map.fsid, map.epoch + 1);
    inc.modified = UTime::now();
    let n = map.max_osd;
    for osd in (0..n).step_by(10) {
        // EXISTS is already set: flipping UP (bit 2) marks it up.
        inc.new_state.insert(osd, 2);
        let addr: EntityAddrVec = format!("v2:10.0.{}.{}:6800/{}", osd / 250 % 250, osd % 250, osd)
            .parse()
            .expect("address");
        inc.new_up_client.insert(osd, addr);
        inc.new_up_thru.insert(osd, map.epoch);
    }
    for osd in (5..n).step_by(10) {
        inc.new_weight.insert(osd, 0x8000);
        inc.new_primary_affinity.insert(osd, 0x4000);
    }
    inc
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("OSD counts"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    let dir = std::env::temp_dir().join(format!("osdmap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    println!(
        "| OSDs | map bytes | decode | encode | apply inc (inc bytes) | decode alloc peak | map live | osdmaptool --print |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let path = dir.join(format!("osdmap.{n}"));
        build_map(n, &path);
        let bytes = std::fs::read(&path).unwrap();
        let runs = if n >= 100_000 { 15 } else { 51 };

        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let map = OSDMap::decode_all(&bytes).expect("our decode");
        let peak = PEAK.load(Ordering::Relaxed) - before;
        let live = LIVE.load(Ordering::Relaxed) - before;
        assert_eq!(map.max_osd as usize, n);
        assert_eq!(map.to_bytes(CLIENT_FEATURES_ALL), bytes, "round trip");

        let decode = time(runs, || OSDMap::decode_all(&bytes).unwrap());
        let encode = time(runs, || map.to_bytes(CLIENT_FEATURES_ALL));
        let inc = churn(&map);
        let inc_bytes = inc.to_bytes(CLIENT_FEATURES_ALL);
        let mut check = map.clone();
        check.apply_incremental(&inc).expect("apply");
        assert!(check.is_up(0) && check.osd_weight[5] == 0x8000);
        // Decoding the incremental is part of applying it, as a client
        // receiving it does; the map clone is timed apart and subtracted.
        let clone = time(runs, || map.clone());
        let apply = time(runs, || {
            let mut m = map.clone();
            let inc = OSDMapIncremental::decode_all(&inc_bytes).unwrap();
            m.apply_incremental(&inc).unwrap();
            m
        })
        .saturating_sub(clone);

        let tool = time(5, || {
            let out = Command::new("osdmaptool")
                .arg("--print")
                .arg(&path)
                .output()
                .expect("osdmaptool --print");
            assert!(out.status.success());
        });
        println!(
            "| {n} | {} | {:.2} ms | {:.2} ms | {:.2} ms ({}) | {:.1} MiB | {:.1} MiB | {:.1} ms |",
            bytes.len(),
            ms(decode),
            ms(encode),
            ms(apply),
            inc_bytes.len(),
            mib(peak),
            mib(live),
            ms(tool),
        );
        drop(map);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}
