//! Finding MDS daemons in the monitors' `fs dump` JSON (active ones in
//! each file system's MDS map, and the standbys).

use serde_json::Value;

use crate::maps::Peer;
use ceph_msgr::connection::Protocol;

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

/// The address of the MDS called `name` (or of that gid): msgr2, else
/// msgr1.
pub fn find_mds(dump: &Value, name: &str) -> Option<Peer> {
    let info = infos(dump).into_iter().find(|i| {
        i.get("name").and_then(Value::as_str) == Some(name)
            || i.get("gid")
                .and_then(Value::as_u64)
                .map(|g| g.to_string())
                .as_deref()
                == Some(name)
    })?;
    let vec = info.pointer("/addrs/addrvec")?.as_array()?;
    let of_type = |ty: &str| {
        vec.iter()
            .find(|a| a.get("type").and_then(Value::as_str) == Some(ty))
    };
    // msgr2 when published, else msgr1 (ms_bind_msgr2 = false).
    let (entry, protocol) = match of_type("v2") {
        Some(a) => (a, Protocol::V2),
        None => (of_type("v1")?, Protocol::V1),
    };
    Some(Peer {
        label: format!(
            "mds.{}",
            info.get("name").and_then(Value::as_str).unwrap_or(name)
        ),
        addr: entry.get("addr")?.as_str()?.parse().ok()?,
        nonce: u32::try_from(entry.get("nonce")?.as_u64()?).ok()?,
        protocol,
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
        let b = find_mds(&dump, "4200").unwrap();
        assert_eq!((b.label.as_str(), b.protocol), ("mds.b", Protocol::V2));
        assert!(find_mds(&dump, "c").is_none());
        // ms_bind_msgr2 = false: the v1 address.
        let v1: Value = serde_json::from_str(
            r#"{"standbys": [{"gid": 4300, "name": "c",
                 "addrs": {"addrvec": [{"type": "v1", "addr": "127.0.0.1:6820", "nonce": 3}]}}]}"#,
        )
        .unwrap();
        let c = find_mds(&v1, "c").unwrap();
        assert_eq!((c.addr.port(), c.protocol), (6820, Protocol::V1));
        assert!(find_mds(&Value::Null, "a").is_none());
    }
}
