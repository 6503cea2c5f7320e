//! Metavariables in option values: `$cluster`, `$type`, `$id`, `$name`,
//! `$host`, `$pid`, `$home`, and `$option` / `${option}` for any other
//! option's (expanded) value.
//!
//! A variable name is a run of `a-z` and `_`. A `$` not followed by one is
//! kept as is, as is the name of an unknown variable (`$nonexist` stays).
//! A reference loop (`a = $b`, `b = $a`) stops at the repeated variable,
//! which is left unexpanded.

/// The values of the built-in metavariables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaVars {
    /// `$cluster`, e.g. `ceph`.
    pub cluster: String,
    /// `$type`, e.g. `client`.
    pub entity_type: String,
    /// `$id`, e.g. `admin`.
    pub id: String,
    /// `$host`: the short host name.
    pub host: String,
    /// `$pid`: this process.
    pub pid: u32,
    /// `$home`: `HOME`, empty when unset.
    pub home: String,
}

impl MetaVars {
    /// `$name`: `type.id`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.entity_type, self.id)
    }
}

/// Deepest chain of option references followed, so that a long (not looping)
/// chain in a hostile file cannot recurse without bound.
const MAX_DEPTH: usize = 32;

/// Expands metavariables in `value`. `option` looks up another option's raw
/// (unexpanded) value by normalized name; it is only consulted for names that
/// are not built-in metavariables.
///
/// ```
/// use ceph_config::{expand_meta, MetaVars};
/// let vars = MetaVars {
///     cluster: "ceph".into(), entity_type: "client".into(), id: "admin".into(),
///     host: "node1".into(), pid: 42, home: "/root".into(),
/// };
/// let run_dir = |name: &str| (name == "run_dir").then(|| "/run/ceph".to_string());
/// assert_eq!(
///     expand_meta("$run_dir/$cluster-${name}.$pid.asok", &vars, &run_dir),
///     "/run/ceph/ceph-client.admin.42.asok"
/// );
/// ```
pub fn expand_meta(
    value: &str,
    vars: &MetaVars,
    option: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut stack = Vec::new();
    expand(value, vars, option, &mut stack)
}

fn is_var_char(c: char) -> bool {
    c.is_ascii_lowercase() || c == '_'
}

fn expand(
    value: &str,
    vars: &MetaVars,
    option: &dyn Fn(&str) -> Option<String>,
    stack: &mut Vec<String>,
) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        // `${name}` or `$name`; anything else leaves the `$` as text.
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            let len = braced.find(|c| !is_var_char(c)).unwrap_or(braced.len());
            if len > 0 && braced[len..].starts_with('}') {
                (&braced[..len], len + 2)
            } else {
                ("", 0)
            }
        } else {
            let len = after.find(|c| !is_var_char(c)).unwrap_or(after.len());
            (&after[..len], len)
        };
        let original = &rest[dollar..dollar + 1 + consumed];
        rest = &after[consumed..];
        if name.is_empty() {
            out.push('$');
            continue;
        }
        match name {
            "cluster" => out.push_str(&vars.cluster),
            "type" => out.push_str(&vars.entity_type),
            "id" | "num" => out.push_str(&vars.id),
            "name" => out.push_str(&vars.name()),
            "host" => out.push_str(&vars.host),
            "pid" => out.push_str(&vars.pid.to_string()),
            "home" => out.push_str(&vars.home),
            _ => {
                let looping = stack.iter().any(|s| s == name);
                match option(name) {
                    Some(inner) if !looping && stack.len() < MAX_DEPTH => {
                        stack.push(name.to_string());
                        out.push_str(&expand(&inner, vars, option, stack));
                        stack.pop();
                    }
                    _ => out.push_str(original),
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// The short host name (up to the first dot), read from the kernel; empty
/// when it cannot be read.
pub fn short_hostname() -> String {
    let full = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let full = full.trim();
    full.split('.').next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> MetaVars {
        MetaVars {
            cluster: "t".into(),
            entity_type: "client".into(),
            id: "admin".into(),
            host: "vm".into(),
            pid: 6679,
            home: "/hh".into(),
        }
    }

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn builtins_expand() {
        // The same line ceph-conf 16.2.15 expanded to
        // /x/t.client.admin.vm.6679.client.admin.keyring
        assert_eq!(
            expand_meta(
                "/x/$cluster.$name.$host.$pid.$type.$id.keyring",
                &vars(),
                &none
            ),
            "/x/t.client.admin.vm.6679.client.admin.keyring"
        );
        assert_eq!(
            expand_meta("${cluster}-${type}", &vars(), &none),
            "t-client"
        );
        assert_eq!(expand_meta("$home/.ceph", &vars(), &none), "/hh/.ceph");
    }

    #[test]
    fn odd_dollars_stay() {
        assert_eq!(expand_meta("$", &vars(), &none), "$");
        assert_eq!(expand_meta("a$$b", &vars(), &none), "a$$b");
        assert_eq!(expand_meta("$-x", &vars(), &none), "$-x");
        assert_eq!(expand_meta("$ID", &vars(), &none), "$ID");
        assert_eq!(expand_meta("$nonexist/x", &vars(), &none), "$nonexist/x");
        assert_eq!(expand_meta("${bad-}", &vars(), &none), "${bad-}");
        assert_eq!(expand_meta("${cluster", &vars(), &none), "${cluster");
        assert_eq!(expand_meta("no vars", &vars(), &none), "no vars");
    }

    #[test]
    fn option_references_expand_recursively() {
        let opts = |n: &str| match n {
            "run_dir" => Some("/run/$cluster".to_string()),
            "admin_socket" => Some("$run_dir/$name.asok".to_string()),
            _ => None,
        };
        assert_eq!(
            expand_meta("[$admin_socket]", &vars(), &opts),
            "[/run/t/client.admin.asok]"
        );
    }

    #[test]
    fn loops_stop() {
        let opts = |n: &str| match n {
            "a" => Some("x$b".to_string()),
            "b" => Some("y$a".to_string()),
            "self_ref" => Some("$self_ref+1".to_string()),
            _ => None,
        };
        assert_eq!(expand_meta("$a", &vars(), &opts), "xy$a");
        assert_eq!(expand_meta("$self_ref", &vars(), &opts), "$self_ref+1");
    }

    #[test]
    fn deep_chains_are_bounded() {
        // v0 -> v1 -> ... each distinct: no loop, but must not recurse forever.
        let opts = |n: &str| {
            let i: usize = n.strip_prefix("v").map(|s| s.len()).unwrap_or(0);
            Some(format!("${}", "v".to_string() + &"_".repeat(i + 1)))
        };
        let out = expand_meta("$v", &vars(), &opts);
        assert!(out.starts_with('$'), "{out}");
    }
}
