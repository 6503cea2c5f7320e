//! `monc decode TYPE FILE [--json]`: decode an encoded Ceph object and print
//! it as JSON in the shape of Ceph's own dumps, like `ceph-dencoder type
//! TYPE import FILE decode dump_json`. Needs no cluster.

use std::io::Write;

use ceph_denc::{Decode, Decoder};
use ceph_osdmap::{CrushWrapper, OSDMap, OSDMapIncremental, OsdInfo, OsdXInfo, PgPool};
use ceph_types::{EntityAddrVec, LogEntry, MgrMap, ModuleInfo, ModuleOption, MonMap, StandbyInfo};
use serde_json::{json, Value};

/// The types `decode` knows, by Ceph's names.
pub const TYPES: &[&str] = &[
    "MonMap",
    "OSDMap",
    "OSDMap::Incremental",
    "CrushWrapper",
    "pg_pool_t",
    "osd_info_t",
    "osd_xinfo_t",
    "entity_addrvec_t",
    "LogEntry",
    "MgrMap",
    "MgrMap::ModuleInfo",
    "MgrMap::ModuleOption",
    "MgrMap::StandbyInfo",
];

fn whole<T: Decode>(bytes: &[u8]) -> Result<T, String> {
    let mut d = Decoder::new(bytes);
    let v = T::decode(&mut d).map_err(|e| e.to_string())?;
    if !d.is_empty() {
        return Err(format!("{} bytes left over after decoding", d.remaining()));
    }
    Ok(v)
}

fn addrvec_json(v: &EntityAddrVec) -> Value {
    json!({
        "addrvec": v.addrs.iter().map(|a| json!({
            "type": a.ty.to_string(),
            "addr": a.addr.map(|s| s.to_string()).unwrap_or_else(|| "(unrecognized address family 0)".into()),
            "nonce": a.nonce,
        })).collect::<Vec<_>>()
    })
}

/// Decodes `bytes` as `ty` and returns its JSON.
pub fn decode_to_json(ty: &str, bytes: &[u8]) -> Result<Value, String> {
    Ok(match ty {
        "MonMap" => whole::<MonMap>(bytes)?.to_json(),
        "OSDMap" => whole::<OSDMap>(bytes)?.to_json(),
        "OSDMap::Incremental" => {
            let inc: OSDMapIncremental = whole(bytes)?;
            json!({
                "epoch": inc.epoch,
                "fsid": inc.fsid.to_string(),
                "modified": inc.modified.to_iso8601_utc(),
                "has_full_map": !inc.fullmap.is_empty(),
                "has_crush": !inc.crush.is_empty(),
            })
        }
        "CrushWrapper" => whole::<CrushWrapper>(bytes)?.to_json(),
        "pg_pool_t" => {
            let p: PgPool = whole(bytes)?;
            let mut m = serde_json::Map::new();
            p.to_json_fields(&mut m);
            Value::Object(m)
        }
        "osd_info_t" => {
            let i: OsdInfo = whole(bytes)?;
            let mut m = serde_json::Map::new();
            i.to_json_fields(&mut m);
            Value::Object(m)
        }
        "osd_xinfo_t" => whole::<OsdXInfo>(bytes)?.to_json(),
        "entity_addrvec_t" => addrvec_json(&whole::<EntityAddrVec>(bytes)?),
        "LogEntry" => whole::<LogEntry>(bytes)?.to_json(),
        "MgrMap" => whole::<MgrMap>(bytes)?.to_json(),
        "MgrMap::ModuleInfo" => whole::<ModuleInfo>(bytes)?.to_json(),
        "MgrMap::ModuleOption" => whole::<ModuleOption>(bytes)?.to_json(),
        "MgrMap::StandbyInfo" => whole::<StandbyInfo>(bytes)?.to_json(),
        other => {
            return Err(format!(
                "unknown type '{other}'; known: {}",
                TYPES.join(", ")
            ))
        }
    })
}

/// Runs `decode TYPE FILE [--json]`; returns the exit code.
pub fn run(words: &[String]) -> i32 {
    let rest: Vec<&String> = words.iter().skip(1).filter(|w| *w != "--json").collect();
    let compact = words.iter().any(|w| w == "--json");
    let [ty, file] = rest[..] else {
        errln!(
            "usage: monc decode TYPE FILE [--json]\ntypes: {}",
            TYPES.join(", ")
        );
        return ceph_types::errno::EINVAL;
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            errln!("monc: cannot read {file}: {e}");
            return ceph_types::errno::EIO;
        }
    };
    match decode_to_json(ty, &bytes) {
        Ok(v) => {
            let text = if compact {
                v.to_string()
            } else {
                serde_json::to_string_pretty(&v).expect("JSON values serialize")
            };
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout().lock(), "{text}");
            0
        }
        Err(e) => {
            errln!("monc: error decoding {ty} from {file}: {e}");
            ceph_types::errno::EINVAL
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_and_trailing_bytes_are_errors() {
        assert!(decode_to_json("NoSuchType", &[])
            .unwrap_err()
            .contains("known"));
        assert!(decode_to_json("MonMap", &[1, 2, 3]).is_err());
    }
}
