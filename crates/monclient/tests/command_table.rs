//! The words-to-JSON matcher against every signature a real Pacific
//! monitor published (taken from /work/shared/captures/crc.conn1.s2c.bin).

use ceph_monclient::command_desc::{CommandTable, MatchError};
use serde_json::{json, Value};

fn table() -> CommandTable {
    CommandTable::from_json(include_bytes!("data/pacific-command-descriptions.json")).unwrap()
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
        to_json(&t, "quorum_status").unwrap(),
        json!({"prefix": "quorum_status"})
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
}

#[test]
fn unknown_command_lists_closest() {
    let t = table();
    match to_json(&t, "osd pool frobnicate") {
        Err(MatchError::NoMatch { closest }) => {
            assert!(!closest.is_empty() && closest.len() <= 10);
            assert!(
                closest.iter().all(|u| u.starts_with("osd pool")),
                "{closest:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}
