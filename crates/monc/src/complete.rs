//! Shell completion of command words: `monc --complete-words [-c FILE]
//! [--cluster NAME] -- WORD...` prints, one per line, the words that may
//! come where the last of WORDS is being typed (it may be empty). The bash
//! completion calls it for every word that is not a flag.
//!
//! It answers from the command-description cache alone ([`crate::cache`]):
//! no network, no key, no runtime. The cluster is the one whose `fsid` the
//! conf file names (found as a command would find it); without one, the
//! cache file written last. Fixed words come from the signatures, and a
//! `CephChoices` argument offers its choices; other arguments (pool names,
//! numbers...) offer nothing. Anything wrong with the cache means fewer
//! candidates, never an error.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use ceph_argparse::{flags, ArgDesc, CommandDesc, CommandTable, SigPart};
use ceph_config::ConfigSources;

use crate::args::LOCAL_COMMANDS;
use crate::cache::{self, CachedDescriptions};

/// The hidden flag the bash completion calls `monc` with.
pub const FLAG: &str = "--complete-words";

/// Runs `monc --complete-words ARGS...` (`argv` without the flag itself).
/// Always exits 0: a completion that finds nothing prints nothing.
pub fn run(argv: &[String]) -> i32 {
    let (flags, words) = match argv.iter().position(|a| a == "--") {
        Some(i) => (&argv[..i], &argv[i + 1..]),
        None => (&[][..], argv),
    };
    let cached = load_cache(flags);
    for word in candidates(cached.as_ref(), words) {
        outln!("{word}");
    }
    0
}

/// The cache of the cluster the flags (and `CEPH_ARGS`) point at.
fn load_cache(flags: &[String]) -> Option<CachedDescriptions> {
    let dir = cache::cache_dir()?;
    let mut given = ceph_config::ceph_args_from_env().unwrap_or_default();
    given.extend(flags.iter().cloned());
    let sources = ConfigSources::from_args(given)
        .map(|(s, _)| s)
        .unwrap_or_default();
    let path = match ceph_config::conf_fsid(&sources) {
        Some(text) => cache::cache_file(&dir, &parse_fsid(&text)?),
        None => newest_cache_file(&dir)?,
    };
    CachedDescriptions::load(&path)
}

/// `5b2b5d9e-0f7c-4bb0-9e0a-5a1f6c3d2e11` (dashes optional) as bytes.
fn parse_fsid(text: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = text.bytes().filter(|b| *b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut fsid = [0u8; 16];
    for (byte, pair) in fsid.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(fsid)
}

/// The `*.cmds` file modified last in `dir`.
fn newest_cache_file(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".cmds"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max_by_key(|(modified, _)| *modified)
        .map(|(_, path)| path)
}

/// The words that may stand where the last of `words` is typed, beginning
/// with it, sorted and without repeats. The first word also takes `monc`'s
/// own commands, and without a cache the usual first words of the cluster.
pub fn candidates(cached: Option<&CachedDescriptions>, words: &[String]) -> Vec<String> {
    let Some((partial, done)) = words.split_last() else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    if done.is_empty() {
        let local = LOCAL_COMMANDS.iter().map(|(name, _, _)| *name);
        let fallback = crate::docs::COMMON_FIRST_WORDS.iter().copied();
        let fallback = fallback.filter(|_| cached.is_none());
        out.extend(
            local
                .chain(fallback)
                .filter(|w| w.starts_with(partial.as_str()))
                .map(String::from),
        );
    }
    let Some(cached) = cached else {
        return out.into_iter().collect();
    };
    if done.is_empty() {
        // Only the first words: one signature parsed per word (the first
        // offered one), not all of them.
        for entry in &cached.entries {
            let word = &entry.first_word;
            if word.starts_with(partial.as_str()) && !out.contains(word) && offered(&entry.json) {
                out.insert(word.clone());
            }
        }
        return out.into_iter().collect();
    }
    if let Some(table) = table_for(cached, words) {
        for cmd in &table.commands {
            if is_offered(cmd) {
                follow(&cmd.sig, done, partial, &mut out);
            }
        }
    }
    out.into_iter().collect()
}

/// Whether a signature is completed: not obsolete nor hidden.
fn is_offered(cmd: &CommandDesc) -> bool {
    cmd.flags & (flags::OBSOLETE | flags::HIDDEN) == 0
}

/// Whether one cached signature is for the CLI and completed.
fn offered(json: &[u8]) -> bool {
    CommandTable::from_entries([json]).is_ok_and(|t| t.commands.first().is_some_and(is_offered))
}

/// The signatures whose first word is the first typed word: only those
/// are parsed.
fn table_for(cached: &CachedDescriptions, words: &[String]) -> Option<CommandTable> {
    let first = words.first()?;
    CommandTable::from_entries(
        cached
            .entries
            .iter()
            .filter(|e| e.first_word == *first)
            .map(|e| e.json.as_slice()),
    )
    .ok()
}

/// Walks the signature `parts` over the words typed in full (`done`); where
/// they run out, adds what the next part offers for `partial`. Optional
/// arguments are tried both taken and left out. A state is where the walk
/// stands in both lists: each is visited once, from a work list, so a
/// signature with many optional arguments (the monitors publish them, and
/// could publish any) costs parts × words steps, and no deep recursion.
fn follow(parts: &[SigPart], done: &[String], partial: &str, out: &mut BTreeSet<String>) {
    let mut seen = HashSet::new();
    let mut todo = vec![(0usize, 0usize)];
    while let Some((at, typed_at)) = todo.pop() {
        if !seen.insert((at, typed_at)) {
            continue;
        }
        let Some(part) = parts.get(at) else {
            continue;
        };
        let typed = done.get(typed_at);
        let arg = match part {
            SigPart::Literal(word) => {
                match typed {
                    None if word.starts_with(partial) => {
                        out.insert(word.clone());
                    }
                    Some(typed) if typed == word => todo.push((at + 1, typed_at + 1)),
                    _ => {}
                }
                continue;
            }
            SigPart::Arg(arg) => arg,
        };
        // Given only as `--name value`: not among the positional words.
        if !arg.positional {
            todo.push((at + 1, typed_at));
            continue;
        }
        match typed {
            None => out.extend(
                choices(arg)
                    .filter(|c| c.starts_with(partial))
                    .map(String::from),
            ),
            Some(typed) if takes(arg, typed) => {
                if arg.many || arg.count > 1 {
                    // More values may follow: stay on the argument too.
                    todo.push((at, typed_at + 1));
                }
                todo.push((at + 1, typed_at + 1));
            }
            Some(_) => {}
        }
        if !arg.required {
            todo.push((at + 1, typed_at));
        }
    }
}

/// A `CephChoices` argument's choices; nothing for other types.
fn choices(arg: &ArgDesc) -> impl Iterator<Item = &str> {
    let is_choices = arg.ty == "CephChoices";
    arg.choices
        .iter()
        .map(String::as_str)
        .filter(move |c| is_choices && !c.is_empty())
}

/// Whether a typed word may be the argument's value: one of its choices,
/// or for other types any word but a flag.
fn takes(arg: &ArgDesc, word: &str) -> bool {
    if arg.ty == "CephChoices" {
        choices(arg).any(|c| c == word)
    } else {
        !word.starts_with("--")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signatures as a Pacific cluster publishes them
    /// (crates/argparse/tests/data/pacific-command-descriptions.json),
    /// `osd pool get`'s choices shortened, plus a hidden one.
    const DESCS: &[u8] = br#"{
        "cmd000": {"sig": ["pg", "stat"], "help": "show placement group status.", "module": "pg", "perm": "r", "flags": 8},
        "cmd002": {"sig": ["pg", "dump", {"n": "N", "name": "dumpcontents", "req": "false", "strings": "all|summary|sum|delta|pools|osds|pgs|pgs_brief", "type": "CephChoices"}], "help": "show human-readable versions of pg map (only 'all' valid with plain)", "module": "pg", "perm": "r", "flags": 8},
        "cmd279": {"sig": ["osd", "pool", "ls", {"name": "detail", "req": "false", "strings": "detail", "type": "CephChoices"}], "help": "list pools", "module": "osd", "perm": "r", "flags": 0},
        "cmd280": {"sig": ["osd", "pool", "create", {"name": "pool", "type": "CephPoolname"}, {"name": "pg_num", "range": "0", "req": "false", "type": "CephInt"}, {"name": "pgp_num", "range": "0", "req": "false", "type": "CephInt"}, {"name": "pool_type", "req": "false", "strings": "replicated|erasure", "type": "CephChoices"}], "help": "create pool", "module": "osd", "perm": "rw", "flags": 0},
        "cmd282": {"sig": ["osd", "pool", "rm", {"name": "pool", "type": "CephPoolname"}, {"name": "pool2", "req": "false", "type": "CephPoolname"}, {"name": "yes_i_really_really_mean_it", "req": "false", "type": "CephBool"}], "help": "remove pool", "module": "osd", "perm": "rw", "flags": 0},
        "cmd284": {"sig": ["osd", "pool", "get", {"name": "pool", "type": "CephPoolname"}, {"name": "var", "strings": "size|min_size|pg_num|pgp_num|crush_rule", "type": "CephChoices"}], "help": "get pool parameter <var>", "module": "osd", "perm": "r", "flags": 0},
        "cmd285": {"sig": ["osd", "pool", "set", {"name": "pool", "type": "CephPoolname"}, {"name": "var", "strings": "size|min_size|pg_num", "type": "CephChoices"}, {"name": "val", "type": "CephString"}, {"name": "yes_i_really_mean_it", "req": "false", "type": "CephBool"}], "help": "set pool parameter <var> to <val>", "module": "osd", "perm": "rw", "flags": 0},
        "cmd300": {"sig": ["osd", "dump", {"name": "epoch", "range": "0", "req": "false", "type": "CephInt"}], "help": "print summary of OSD map", "module": "osd", "perm": "r", "flags": 0},
        "cmd301": {"sig": ["osd", "pause"], "help": "pause osd", "module": "osd", "perm": "rw", "flags": 0},
        "cmd302": {"sig": ["osd", "poolhidden"], "help": "", "module": "osd", "perm": "rw", "flags": 32},
        "cmd303": {"sig": ["secret", "thing"], "help": "", "module": "mon", "perm": "rw", "flags": 32},
        "cmd304": {"sig": ["old", "thing"], "help": "", "module": "mon", "perm": "rw", "flags": 2},
        "cmd305": {"sig": ["notcli", "thing"], "help": "", "module": "mon", "perm": "rw", "flags": 0, "avail": "rest"},
        "cmd400": {"sig": ["mon", "dump", {"name": "epoch", "range": "0", "req": "false", "type": "CephInt"}], "help": "dump formatted monmap", "module": "mon", "perm": "r", "flags": 0},
        "cmd401": {"sig": ["mgr", "dump", {"name": "epoch", "range": "0", "req": "false", "type": "CephInt"}], "help": "dump the latest MgrMap", "module": "mgr", "perm": "r", "flags": 8}
    }"#;

    fn cached() -> CachedDescriptions {
        CachedDescriptions {
            key: cache::CacheKey {
                fsid: [1; 16],
                monmap_epoch: 1,
                min_mon_release: 16,
                mon_features: 0,
                mgrmap_epoch: 1,
            },
            entries: ceph_argparse::description_entries(DESCS).unwrap(),
        }
    }

    fn complete(line: &str) -> Vec<String> {
        // A trailing space means a new, empty word is being typed.
        let mut words: Vec<String> = line.split_whitespace().map(String::from).collect();
        if line.ends_with(' ') || line.is_empty() {
            words.push(String::new());
        }
        candidates(Some(&cached()), &words)
    }

    #[test]
    fn fixed_words_from_the_signatures() {
        assert_eq!(complete("osd po"), ["pool"]);
        assert_eq!(complete("osd p"), ["pause", "pool"]);
        assert_eq!(complete("osd "), ["dump", "pause", "pool"]);
        assert_eq!(complete("osd pool "), ["create", "get", "ls", "rm", "set"]);
        assert_eq!(complete("osd pool g"), ["get"]);
        assert_eq!(complete("pg "), ["dump", "stat"]);
        assert_eq!(complete("nosuch "), Vec::<String>::new());
        assert_eq!(complete("osd nosuch "), Vec::<String>::new());
    }

    #[test]
    fn choices_and_nothing_for_other_arguments() {
        // A pool name: nothing to offer.
        assert_eq!(complete("osd pool get "), Vec::<String>::new());
        assert_eq!(
            complete("osd pool get rbd "),
            ["crush_rule", "min_size", "pg_num", "pgp_num", "size"]
        );
        assert_eq!(complete("osd pool get rbd pg"), ["pg_num", "pgp_num"]);
        assert_eq!(complete("osd pool get rbd size "), Vec::<String>::new());
        assert_eq!(complete("osd pool ls "), ["detail"]);
        assert_eq!(complete("osd pool ls detail "), Vec::<String>::new());
        // Optional arguments may be left out: the choices after them show.
        assert_eq!(complete("osd pool create p "), ["erasure", "replicated"]);
        assert_eq!(complete("osd pool create p 8 8 e"), ["erasure"]);
        // Several values: the choices again after one.
        assert_eq!(complete("pg dump pools o"), ["osds"]);
        assert_eq!(complete("osd pool set rbd size 3 "), Vec::<String>::new());
        assert_eq!(complete("osd pool get rbd nosuch "), Vec::<String>::new());
    }

    #[test]
    fn first_words_include_the_local_commands() {
        let first = complete("");
        for w in [
            "tell",
            "daemon",
            "pg",
            "ping",
            "osdmaptool",
            "decode",
            "osd",
            "mon",
            "mgr",
        ] {
            assert!(first.contains(&w.to_string()), "{w} in {first:?}");
        }
        assert_eq!(complete("m"), ["mgr", "mon"]);
        assert_eq!(complete("p"), ["pg", "ping"]);
        assert_eq!(complete("os"), ["osd", "osdmaptool"]);
        // Hidden, obsolete and not-for-the-CLI signatures are not offered.
        assert!(!complete("osd ").contains(&"poolhidden".to_string()));
        for w in ["secret", "old", "notcli"] {
            assert!(!complete("").contains(&w.to_string()), "{w}");
        }
        assert_eq!(complete("secret "), Vec::<String>::new());
    }

    #[test]
    fn without_a_cache_the_usual_first_words_only() {
        let words = |s: &[&str]| s.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let first = candidates(None, &words(&[""]));
        assert!(first.contains(&"osd".to_string()) && first.contains(&"tell".to_string()));
        assert_eq!(candidates(None, &words(&["osd", ""])), Vec::<String>::new());
        assert_eq!(candidates(None, &[]), Vec::<String>::new());
    }

    #[test]
    fn many_optional_arguments_cost_little() {
        // 2^400 ways to take or leave the arguments; each state once.
        let args: Vec<String> = (0..400)
            .map(|i| format!(r#"{{"name": "a{i}", "type": "CephInt", "req": "false"}}"#))
            .collect();
        let descs = format!(
            r#"{{"cmd0": {{"sig": ["frob", {}, {{"name": "last", "type": "CephChoices", "strings": "yes|no"}}], "help": "", "module": "mon", "perm": "r", "flags": 0}}}}"#,
            args.join(", ")
        );
        let cached = CachedDescriptions {
            entries: ceph_argparse::description_entries(descs.as_bytes()).unwrap(),
            ..cached()
        };
        let mut words: Vec<String> = std::iter::once("frob".to_string())
            .chain((0..300).map(|i| i.to_string()))
            .collect();
        words.push(String::new());
        let start = std::time::Instant::now();
        assert_eq!(candidates(Some(&cached), &words), ["no", "yes"]);
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn fsid_text() {
        assert_eq!(
            parse_fsid("01020304-0506-0708-090a-0b0c0d0e0f10"),
            Some([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
        );
        assert_eq!(parse_fsid("0102"), None);
        assert_eq!(parse_fsid("zz020304-0506-0708-090a-0b0c0d0e0f10"), None);
        assert_eq!(parse_fsid("é1020304-0506-0708-090a-0b0c0d0e0f1"), None);
    }
}
