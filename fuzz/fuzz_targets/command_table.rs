#![no_main]
//! The monitors' command descriptions (`get_command_descriptions` JSON) on
//! hostile bytes, then matching fixed command lines against the table.
//!
//! Input: the JSON; after a NUL byte, if any, one more command line
//! (space-separated words) chosen by the fuzzer.

use ceph_argparse::CommandTable;
use libfuzzer_sys::fuzz_target;

const FIXED_LINES: &[&str] = &[
    "status",
    "mon dump",
    "health detail",
    "osd pool create rbd 32 32 replicated",
    "osd pool set rbd size 3",
    "osd crush add osd.1 1.5 host=a rack=b",
    "osd blocklist add 10.0.0.1:0/3 3600",
    "config set mon.a mon_allow_pool_delete true",
    "auth get-or-create client.x mon allow-r osd allow-rw",
    "osd tier add a b --force-nonempty",
    "pg dump --format json",
    "tell mon.* version",
    "",
];

fn words(line: &str) -> Vec<String> {
    line.split(' ')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let (json, extra) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let Ok(table) = CommandTable::from_json(json) else {
        return;
    };
    let extra = extra.map(String::from_utf8_lossy);
    for line in FIXED_LINES.iter().copied().chain(extra.as_deref()) {
        let w = words(line);
        if let Ok(cmd) = table.words_to_json(&w) {
            assert!(cmd.contains_key("prefix"), "{line:?} gave {cmd:?}");
        }
        let _ = table.closest(&w, 10);
        for desc in table.matching(&w) {
            let _ = desc.usage();
        }
    }
});
