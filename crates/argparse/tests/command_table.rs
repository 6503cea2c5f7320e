//! The words-to-JSON matcher against every signature a real Pacific
//! monitor published (taken from /work/shared/captures/crc.conn1.s2c.bin).
//! The comparisons with Pacific's own Python parser are in
//! `command_table_ceph.rs` (they need Ceph installed: ring 3).

use ceph_argparse::{CommandTable, MatchError};
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
