//! Monitor command signatures (`get_command_descriptions`) and turning a
//! command given as words (`osd pool create p1 32`) into the JSON the
//! monitors take, the way the `ceph` CLI does.
//!
//! ```
//! use ceph_monclient::command_desc::CommandTable;
//!
//! let table = CommandTable::from_json(br#"{"cmd000": {"sig": ["osd", "pool", "create",
//!     {"name": "pool", "type": "CephPoolname"},
//!     {"name": "pg_num", "type": "CephInt", "range": "0", "req": "false"}],
//!     "help": "create pool", "module": "osd", "perm": "rw", "flags": 0}}"#).unwrap();
//! let words: Vec<String> = "osd pool create p1 32".split(' ').map(String::from).collect();
//! let cmd = table.words_to_json(&words).unwrap();
//! assert_eq!(cmd["prefix"], "osd pool create");
//! assert_eq!(cmd["pool"], "p1");
//! assert_eq!(cmd["pg_num"], 32);
//! ```

use serde_json::{Map, Value};

/// One argument of a signature.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgDesc {
    pub name: String,
    pub ty: String,
    pub required: bool,
    /// `n=N`: takes one or more values, sent as a list.
    pub many: bool,
    pub choices: Vec<String>,
    pub range: Option<(Option<f64>, Option<f64>)>,
    pub goodchars: Option<String>,
}

/// One part of a signature: a literal word, or an argument.
#[derive(Debug, Clone, PartialEq)]
pub enum SigPart {
    Literal(String),
    Arg(ArgDesc),
}

/// A command signature as the monitors publish it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandDesc {
    pub sig: Vec<SigPart>,
    pub help: String,
    pub module: String,
    pub perm: String,
    pub flags: u64,
}

impl CommandDesc {
    /// The literal words at the start (`osd pool create`).
    pub fn prefix(&self) -> Vec<&str> {
        self.sig
            .iter()
            .map_while(|p| match p {
                SigPart::Literal(s) => Some(s.as_str()),
                SigPart::Arg(_) => None,
            })
            .collect()
    }

    /// The signature as `ceph` prints it in usage lines.
    pub fn usage(&self) -> String {
        let mut parts = Vec::new();
        for p in &self.sig {
            match p {
                SigPart::Literal(s) => parts.push(s.clone()),
                SigPart::Arg(a) => {
                    let mut s = if a.choices.is_empty() {
                        format!("<{}:{}>", a.name, a.ty.trim_start_matches("Ceph"))
                    } else {
                        a.choices.join("|")
                    };
                    if a.many {
                        s.push_str("...");
                    }
                    if !a.required {
                        s = format!("[{s}]");
                    }
                    parts.push(s);
                }
            }
        }
        parts.join(" ")
    }
}

/// Why words did not make a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// Some signatures start with these words but the arguments do not fit:
    /// the reason for the closest, and the usage lines of all of them.
    #[error("Invalid command: {reason}\n{}", usages.join("\n"))]
    Invalid { reason: String, usages: Vec<String> },
    /// No signature starts with these words.
    #[error("no valid command found; {} closest matches:\n{}", closest.len(), closest.join("\n"))]
    NoMatch { closest: Vec<String> },
    #[error("bad command descriptions: {0}")]
    BadDescriptions(String),
}

/// All signatures of one cluster.
#[derive(Debug, Clone, Default)]
pub struct CommandTable {
    pub commands: Vec<CommandDesc>,
}

fn parse_range(s: &str) -> (Option<f64>, Option<f64>) {
    let mut it = s.split('|');
    let lo = it.next().and_then(|x| x.parse().ok());
    let hi = it.next().and_then(|x| x.parse().ok());
    (lo, hi)
}

fn parse_arg(obj: &Map<String, Value>) -> Result<ArgDesc, MatchError> {
    let get = |k: &str| obj.get(k).and_then(Value::as_str);
    let name = get("name")
        .ok_or_else(|| MatchError::BadDescriptions("argument without a name".into()))?
        .to_string();
    let ty = get("type").unwrap_or("CephString").to_string();
    Ok(ArgDesc {
        name,
        ty,
        required: get("req") != Some("false"),
        many: get("n") == Some("N"),
        choices: get("strings")
            .map(|s| s.split('|').map(String::from).collect())
            .unwrap_or_default(),
        range: get("range").map(parse_range),
        goodchars: get("goodchars").map(String::from),
    })
}

impl CommandTable {
    /// Parses the JSON `get_command_descriptions` returns.
    pub fn from_json(bytes: &[u8]) -> Result<Self, MatchError> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| MatchError::BadDescriptions(e.to_string()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| MatchError::BadDescriptions("not an object".into()))?;
        let mut commands = Vec::new();
        for cmd in obj.values() {
            let Some(sig) = cmd.get("sig").and_then(Value::as_array) else {
                continue;
            };
            let mut parts = Vec::new();
            for p in sig {
                match p {
                    Value::String(s) => parts.push(SigPart::Literal(s.clone())),
                    Value::Object(o) => parts.push(SigPart::Arg(parse_arg(o)?)),
                    _ => return Err(MatchError::BadDescriptions("bad signature element".into())),
                }
            }
            let s = |k: &str| cmd.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            commands.push(CommandDesc {
                sig: parts,
                help: s("help"),
                module: s("module"),
                perm: s("perm"),
                flags: cmd.get("flags").and_then(Value::as_u64).unwrap_or(0),
            });
        }
        Ok(CommandTable { commands })
    }

    /// Turns words into a command object with `prefix` and the arguments.
    /// Among signatures whose literal words all match, the one with the
    /// longest prefix that also takes the remaining words wins.
    pub fn words_to_json(&self, words: &[String]) -> Result<Map<String, Value>, MatchError> {
        let mut candidates: Vec<&CommandDesc> = self
            .commands
            .iter()
            .filter(|c| {
                let p = c.prefix();
                !p.is_empty() && p.len() <= words.len() && p.iter().zip(words).all(|(a, b)| *a == b)
            })
            .collect();
        candidates.sort_by_key(|c| std::cmp::Reverse(c.prefix().len()));
        let mut first_err = None;
        for c in &candidates {
            match bind(c, &words[c.prefix().len()..]) {
                Ok(m) => return Ok(m),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        if let Some(reason) = first_err {
            let best = candidates[0].prefix().len();
            let usages = candidates
                .iter()
                .filter(|c| c.prefix().len() == best)
                .map(|c| c.usage())
                .collect();
            return Err(MatchError::Invalid { reason, usages });
        }
        Err(MatchError::NoMatch {
            closest: self.closest(words, 10),
        })
    }

    /// Usage lines of the signatures that share the most leading words.
    pub fn closest(&self, words: &[String], n: usize) -> Vec<String> {
        let mut scored: Vec<(usize, &CommandDesc)> = self
            .commands
            .iter()
            .map(|c| {
                let shared = c
                    .prefix()
                    .iter()
                    .zip(words)
                    .take_while(|(a, b)| **a == b.as_str())
                    .count();
                (shared, c)
            })
            .filter(|(s, _)| *s > 0)
            .collect();
        scored.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
        scored.into_iter().take(n).map(|(_, c)| c.usage()).collect()
    }

    /// Signatures whose prefix starts with `words` (for help).
    pub fn matching(&self, words: &[String]) -> Vec<&CommandDesc> {
        self.commands
            .iter()
            .filter(|c| {
                let p = c.prefix();
                words.len() <= p.len() && p.iter().zip(words).all(|(a, b)| *a == b)
            })
            .collect()
    }
}

/// Binds the words after the prefix to the signature's arguments.
fn bind(cmd: &CommandDesc, rest: &[String]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    out.insert("prefix".into(), Value::String(cmd.prefix().join(" ")));
    let args: Vec<&ArgDesc> = cmd
        .sig
        .iter()
        .filter_map(|p| match p {
            SigPart::Arg(a) => Some(a),
            SigPart::Literal(_) => None,
        })
        .collect();

    // First take `--name value`, `--name=value` and bare `--flag` bools.
    let mut positional = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let w = &rest[i];
        if let Some(flag) = w.strip_prefix("--") {
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (flag, None),
            };
            let norm = name.replace('-', "_");
            if let Some(a) = args.iter().find(|a| a.name == norm) {
                let value = if a.ty == "CephBool" && inline.is_none() {
                    Value::Bool(true)
                } else {
                    let v = match inline {
                        Some(v) => v,
                        None => {
                            i += 1;
                            rest.get(i)
                                .cloned()
                                .ok_or_else(|| format!("--{name} needs a value"))?
                        }
                    };
                    convert(a, &v)?
                };
                put(&mut out, a, value);
                i += 1;
                continue;
            }
        }
        positional.push(w.as_str());
        i += 1;
    }

    let mut words = positional.into_iter().peekable();
    for a in &args {
        if out.contains_key(&a.name) {
            continue;
        }
        let Some(&w) = words.peek() else {
            if a.required {
                return Err(format!("missing required parameter {}", a.name));
            }
            continue;
        };
        match convert(a, w) {
            Ok(v) => {
                words.next();
                put(&mut out, a, v);
                if a.many {
                    while let Some(&w) = words.peek() {
                        match convert(a, w) {
                            Ok(v) => {
                                words.next();
                                put(&mut out, a, v);
                            }
                            Err(_) => break,
                        }
                    }
                }
            }
            Err(e) if a.required => return Err(e),
            Err(_) => {}
        }
    }
    if let Some(extra) = words.next() {
        return Err(format!("unused arguments: ['{extra}'...]"));
    }
    Ok(out)
}

fn put(out: &mut Map<String, Value>, a: &ArgDesc, v: Value) {
    if a.many {
        match out
            .entry(a.name.clone())
            .or_insert_with(|| Value::Array(vec![]))
        {
            Value::Array(list) => list.push(v),
            other => *other = Value::Array(vec![v]),
        }
    } else {
        out.insert(a.name.clone(), v);
    }
}

fn in_range(a: &ArgDesc, x: f64, w: &str) -> Result<(), String> {
    if let Some((lo, hi)) = a.range {
        if lo.is_some_and(|lo| x < lo) || hi.is_some_and(|hi| x > hi) {
            return Err(format!("{w} not in range for {}", a.name));
        }
    }
    Ok(())
}

/// Checks a word against an argument's type and converts it to the JSON
/// value `ceph` would send.
fn convert(a: &ArgDesc, w: &str) -> Result<Value, String> {
    let bad = || format!("{w} not valid for {} ({})", a.name, a.ty);
    match a.ty.as_str() {
        "CephInt" => {
            let x: i64 = w.parse().map_err(|_| bad())?;
            in_range(a, x as f64, w)?;
            Ok(Value::from(x))
        }
        "CephFloat" => {
            let x: f64 = w.parse().map_err(|_| bad())?;
            if !x.is_finite() {
                return Err(bad());
            }
            in_range(a, x, w)?;
            Ok(Value::from(x))
        }
        "CephBool" => match w.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(bad()),
        },
        "CephChoices" => {
            if a.choices.iter().any(|c| c == w) {
                Ok(Value::String(w.into()))
            } else {
                Err(format!("{w} not in {}", a.choices.join("|")))
            }
        }
        "CephOsdName" => {
            let n = w.strip_prefix("osd.").unwrap_or(w);
            let id: i64 = n.parse().map_err(|_| bad())?;
            if id < 0 {
                return Err(bad());
            }
            Ok(Value::from(id))
        }
        "CephName" => {
            if w == "*" {
                return Ok(Value::String(w.into()));
            }
            let (ty, id) = w.split_once('.').ok_or_else(bad)?;
            let known = ["mon", "osd", "mds", "mgr", "client"];
            if !known.contains(&ty) || id.is_empty() {
                return Err(bad());
            }
            if ty == "osd" && id != "*" && id.parse::<u32>().is_err() {
                return Err(bad());
            }
            Ok(Value::String(w.into()))
        }
        "CephPgid" => {
            let (pool, seed) = w.split_once('.').ok_or_else(bad)?;
            pool.parse::<u64>().map_err(|_| bad())?;
            u64::from_str_radix(seed, 16).map_err(|_| bad())?;
            Ok(Value::String(w.into()))
        }
        "CephUUID" => {
            let hex: String = w.chars().filter(|c| *c != '-').collect();
            if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad());
            }
            Ok(Value::String(w.into()))
        }
        "CephIPAddr" | "CephEntityAddr" => {
            if !valid_addr(w, a.ty == "CephEntityAddr") {
                return Err(bad());
            }
            Ok(Value::String(w.into()))
        }
        _ => {
            if let Some(good) = &a.goodchars {
                if !w.chars().all(|c| char_in_class(good, c)) {
                    return Err(format!("{w} contains invalid characters for {}", a.name));
                }
            }
            Ok(Value::String(w.into()))
        }
    }
}

/// `ip`, `ip:port`, `[v6]:port`, with `/nonce` for entity addresses.
fn valid_addr(w: &str, allow_nonce: bool) -> bool {
    let w = w
        .strip_prefix("v1:")
        .or_else(|| w.strip_prefix("v2:"))
        .unwrap_or(w);
    let (addr, nonce) = match w.rsplit_once('/') {
        Some((a, n)) if allow_nonce => (a, Some(n)),
        Some(_) => return false,
        None => (w, None),
    };
    if nonce.is_some_and(|n| n.parse::<u32>().is_err()) {
        return false;
    }
    if addr.parse::<std::net::IpAddr>().is_ok() || addr.parse::<std::net::SocketAddr>().is_ok() {
        return true;
    }
    false
}

/// Whether `c` is in a simple regex character class like `[A-Za-z0-9-_.]`.
fn char_in_class(class: &str, c: char) -> bool {
    let inner = class.trim_start_matches('[').trim_end_matches(']');
    let chars: Vec<char> = inner.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            if chars[i] <= c && c <= chars[i + 2] {
                return true;
            }
            i += 3;
        } else {
            if chars[i] == c {
                return true;
            }
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real signatures, as a Pacific monitor publishes them.
    const DESCS: &str = r#"{
      "cmd001": {"sig": ["health", {"name": "detail", "req": "false", "strings": "detail", "type": "CephChoices"}], "help": "show cluster health", "module": "mon", "perm": "r", "flags": 0},
      "cmd002": {"sig": ["health", "mute", {"name": "code", "type": "CephString"}, {"name": "ttl", "req": "false", "type": "CephString"}, {"name": "sticky", "req": "false", "type": "CephBool"}], "help": "mute", "module": "mon", "perm": "w", "flags": 0},
      "cmd003": {"sig": ["osd", "pool", "create", {"name": "pool", "type": "CephPoolname"}, {"name": "pg_num", "range": "0", "req": "false", "type": "CephInt"}, {"name": "pgp_num", "range": "0", "req": "false", "type": "CephInt"}, {"name": "pool_type", "req": "false", "strings": "replicated|erasure", "type": "CephChoices"}, {"goodchars": "[A-Za-z0-9-_.]", "name": "erasure_code_profile", "req": "false", "type": "CephString"}], "help": "create pool", "module": "osd", "perm": "rw", "flags": 0},
      "cmd004": {"sig": ["osd", "pool", "set", {"name": "pool", "type": "CephPoolname"}, {"name": "var", "strings": "size|min_size|pg_num", "type": "CephChoices"}, {"name": "val", "type": "CephString"}, {"name": "yes_i_really_mean_it", "req": "false", "type": "CephBool"}], "help": "set pool parameter", "module": "osd", "perm": "rw", "flags": 0},
      "cmd005": {"sig": ["osd", "blocklist", {"name": "blocklistop", "strings": "add|rm", "type": "CephChoices"}, {"name": "addr", "type": "CephEntityAddr"}, {"name": "expire", "range": "0.0", "req": "false", "type": "CephFloat"}], "help": "blocklist", "module": "osd", "perm": "rw", "flags": 0},
      "cmd006": {"sig": ["osd", "down", {"n": "N", "name": "ids", "type": "CephString"}, {"name": "definitely_dead", "req": "false", "type": "CephBool"}], "help": "down", "module": "osd", "perm": "rw", "flags": 0},
      "cmd007": {"sig": ["mon", "dump", {"name": "epoch", "range": "0", "req": "false", "type": "CephInt"}], "help": "dump", "module": "mon", "perm": "r", "flags": 0},
      "cmd008": {"sig": ["osd", "reweight", {"name": "id", "type": "CephOsdName"}, {"name": "weight", "range": "0.0|1.0", "type": "CephFloat"}], "help": "reweight", "module": "osd", "perm": "rw", "flags": 0}
    }"#;

    fn table() -> CommandTable {
        CommandTable::from_json(DESCS.as_bytes()).unwrap()
    }

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn json(s: &str) -> Value {
        Value::Object(table().words_to_json(&words(s)).unwrap())
    }

    #[test]
    fn optional_choice_and_plain_prefix() {
        assert_eq!(
            json("health detail"),
            serde_json::json!({"prefix": "health", "detail": "detail"})
        );
        assert_eq!(json("health"), serde_json::json!({"prefix": "health"}));
        assert_eq!(
            json("health mute X 1h"),
            serde_json::json!({"prefix": "health mute", "code": "X", "ttl": "1h"})
        );
        assert_eq!(
            json("mon dump 3"),
            serde_json::json!({"prefix": "mon dump", "epoch": 3})
        );
    }

    #[test]
    fn ints_choices_flags() {
        assert_eq!(
            json("osd pool create p1 32 32 erasure"),
            serde_json::json!({"prefix": "osd pool create", "pool": "p1", "pg_num": 32, "pgp_num": 32, "pool_type": "erasure"})
        );
        assert_eq!(
            json("osd pool set p1 size 2 --yes-i-really-mean-it"),
            serde_json::json!({"prefix": "osd pool set", "pool": "p1", "var": "size", "val": "2", "yes_i_really_mean_it": true})
        );
        assert_eq!(
            json("osd pool create p1 --pg_num=8"),
            serde_json::json!({"prefix": "osd pool create", "pool": "p1", "pg_num": 8})
        );
    }

    #[test]
    fn addresses_lists_osd_names_ranges() {
        assert_eq!(
            json("osd blocklist add 127.0.0.1:0/1234"),
            serde_json::json!({"prefix": "osd blocklist", "blocklistop": "add", "addr": "127.0.0.1:0/1234"})
        );
        assert_eq!(
            json("osd down 1 2 3"),
            serde_json::json!({"prefix": "osd down", "ids": ["1", "2", "3"]})
        );
        assert_eq!(
            json("osd reweight osd.3 0.5"),
            serde_json::json!({"prefix": "osd reweight", "id": 3, "weight": 0.5})
        );
        assert!(table().words_to_json(&words("osd reweight 3 1.5")).is_err());
    }

    #[test]
    fn errors_like_ceph() {
        let e = table()
            .words_to_json(&words("osd pool create"))
            .unwrap_err();
        assert!(
            matches!(&e, MatchError::Invalid { reason, .. } if reason.contains("pool")),
            "{e}"
        );
        let e = table()
            .words_to_json(&words("osd pool create p1 8 8 replicated ok extra"))
            .unwrap_err();
        assert!(matches!(e, MatchError::Invalid { .. }));
        let e = table()
            .words_to_json(&words("osd pool create p1 8 8 replicated bad/chars"))
            .unwrap_err();
        assert!(matches!(e, MatchError::Invalid { .. }));
        let e = table().words_to_json(&words("frobnicate")).unwrap_err();
        assert!(matches!(e, MatchError::NoMatch { .. }));
        let e = table().words_to_json(&words("health bogus")).unwrap_err();
        assert!(e.to_string().contains("health"));
    }

    #[test]
    fn usage_lines() {
        let t = table();
        let c = t.matching(&words("osd pool create"));
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].usage(),
            "osd pool create <pool:Poolname> [<pg_num:Int>] [<pgp_num:Int>] [replicated|erasure] [<erasure_code_profile:String>]"
        );
    }
}
