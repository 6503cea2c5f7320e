//! Differential check against Ceph's own parser: `tests/data/ceph-conf-golden`
//! holds generated conf files (quotes, escapes, continuations, comments,
//! malformed lines) and what `ceph-conf` 16.2.15 printed for each key, or the
//! line at which it rejected the file.

use std::collections::BTreeMap;
use std::path::Path;

use ceph_config::ConfFile;

#[test]
fn matches_ceph_conf_on_generated_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ceph-conf-golden");
    let expected = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();

    // file -> Err(line) or Ok(key -> value)
    let mut want: BTreeMap<String, Result<BTreeMap<String, String>, usize>> = BTreeMap::new();
    for line in expected.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.splitn(3, '\t');
        let (file, key, value) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let entry = want
            .entry(file.to_string())
            .or_insert_with(|| Ok(BTreeMap::new()));
        if key == "ERR" {
            *entry = Err(value.parse().unwrap());
        } else {
            let value: String = serde_json::from_str(value).unwrap();
            entry.as_mut().unwrap().insert(key.to_string(), value);
        }
    }

    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("conf") {
            continue;
        }
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        let cluster = file.trim_end_matches(".conf");
        let got = ConfFile::parse_bytes(&std::fs::read(&path).unwrap());
        match (want.get(&file).cloned().unwrap_or(Ok(BTreeMap::new())), got) {
            (Err(line), Err(e)) => assert_eq!(e.line, line, "{file}: {e}"),
            (Err(line), Ok(c)) => panic!("{file}: Ceph rejects line {line}, we read {c:?}"),
            (Ok(_), Err(e)) => panic!("{file}: Ceph accepts it, we say {e}"),
            (Ok(values), Ok(c)) => {
                let ours: BTreeMap<String, String> = c
                    .section("global")
                    .map(|(k, v)| (k.to_string(), v.replace("$cluster", cluster)))
                    .collect();
                assert_eq!(ours, values, "{file}");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 80);
}
