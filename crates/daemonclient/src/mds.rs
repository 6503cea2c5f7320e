//! Finding MDS daemons in the monitors' `fs dump` JSON (active ones in
//! each file system's MDS map, and the standbys).

use serde_json::Value;

use crate::maps::Peer;

fn infos(dump: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    if let Some(s) = dump.get("standbys").and_then(Value::as_array) {
        out.extend(s.iter());
    }
    if let Some(fss) = dump.get("filesystems").and_then(Value::as_array) {
        for fs in fss {
            if let Some(info) = fs.pointer("/mdsmap/info").and_then(Value::as_object) {
                out.extend(info.values());
            }
        }
    }
    out
}

/// Every MDS name in the dump, as `ceph tell mds.*` lists them.
pub fn mds_names(dump: &Value) -> Vec<String> {
    infos(dump)
        .into_iter()
        .filter_map(|i| i.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// The msgr2 address of the MDS called `name` (or of that gid).
pub fn find_mds(dump: &Value, name: &str) -> Option<Peer> {
    let info = infos(dump).into_iter().find(|i| {
        i.get("name").and_then(Value::as_str) == Some(name)
            || i.get("gid")
                .and_then(Value::as_u64)
                .map(|g| g.to_string())
                .as_deref()
                == Some(name)
    })?;
    let v2 = info
        .pointer("/addrs/addrvec")?
        .as_array()?
        .iter()
        .find(|a| a.get("type").and_then(Value::as_str) == Some("v2"))?;
    Some(Peer {
        label: format!(
            "mds.{}",
            info.get("name").and_then(Value::as_str).unwrap_or(name)
        ),
        addr: v2.get("addr")?.as_str()?.parse().ok()?,
        nonce: u32::try_from(v2.get("nonce")?.as_u64()?).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_actives_and_standbys() {
        let dump: Value = serde_json::from_str(
            r#"{"epoch": 5, "standbys": [{"gid": 4200, "name": "b",
                 "addrs": {"addrvec": [{"type": "v2", "addr": "127.0.0.1:6812", "nonce": 77},
                                       {"type": "v1", "addr": "127.0.0.1:6813", "nonce": 77}]}}],
                "filesystems": [{"mdsmap": {"info": {"gid_4100": {"gid": 4100, "name": "a",
                 "addrs": {"addrvec": [{"type": "v2", "addr": "127.0.0.1:6810", "nonce": 9}]}}}}}]}"#,
        )
        .unwrap();
        assert_eq!(mds_names(&dump), ["b", "a"]);
        let a = find_mds(&dump, "a").unwrap();
        assert_eq!(
            (a.addr.port(), a.nonce, a.label.as_str()),
            (6810, 9, "mds.a")
        );
        assert_eq!(find_mds(&dump, "4200").unwrap().label, "mds.b");
        assert!(find_mds(&dump, "c").is_none());
        assert!(find_mds(&Value::Null, "a").is_none());
    }
}
