//! Monitor command signatures (`get_command_descriptions`) and turning a
//! command given as words (`osd pool create p1 32`) into the JSON the
//! monitors take, with the same choices, values and messages as the `ceph`
//! CLI (Pacific's `ceph_argparse`; where later CLIs print usage lines and
//! help differently, as the [`CliStyle`] of the table says).
//!
//! ```
//! use ceph_argparse::CommandTable;
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
//!
//! Known differences from `ceph_argparse`: integers must fit in 128 bits
//! (JSON values in 64); infinite or NaN floats are sent as `null` (Python
//! sends `Infinity`, which monitors reject anyway); inputs that make the
//! Python code raise a non-argument exception (a traceback) are reported as
//! invalid values; unknown argument types accept any word (Python aborts);
//! signatures that do not start with a literal word are skipped. Reef's CLI
//! (18.2) lost the `v1:`/`v2:`/`any:` address tags Pacific and Tentacle
//! accept (it fails on them with a traceback); they are accepted here
//! whatever the style.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use serde_json::{Map, Number, Value};

/// Which release's `ceph` CLI the usage lines and help follow.
///
/// The words a command takes and the JSON they make are the same for all;
/// only what is printed about signatures differs. Arguments the monitor
/// marks `"positional": false` (Tentacle's `--key_type`) are keyword-only
/// and printed as `--name <value>` in every style: only a CLI of the
/// later style reads that mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CliStyle {
    /// Pacific and older: a choice is printed bare (`replicated|erasure`),
    /// and `WORDS -h` lists nothing when no usage line starts with the
    /// words.
    #[default]
    Pacific,
    /// Quincy and later: a choice is printed with its name
    /// (`<pool_type:replicated|erasure>`, `[<detail:detail>]`), and
    /// `WORDS -h` drops words from the end until some usage line starts
    /// with the rest.
    Quincy,
}

impl CliStyle {
    /// The style of the CLI of Ceph release number `release` (16 =
    /// Pacific, 17 = Quincy, ...), as the monitors report it in their
    /// MonMap (`min_mon_release`).
    pub fn for_release(release: u8) -> CliStyle {
        if release >= 17 {
            CliStyle::Quincy
        } else {
            CliStyle::Pacific
        }
    }
}

/// Signature flags, as the monitors publish them.
pub mod flags {
    /// Not forwarded by peons.
    pub const NOFORWARD: u64 = 1;
    /// Refused by the monitors: never matched.
    pub const OBSOLETE: u64 = 1 << 1;
    /// Matched, but left out of help and of "closest matches".
    pub const DEPRECATED: u64 = 1 << 2;
    /// Served by the manager: `ceph` adds `"target": ["mon-mgr", ""]`.
    pub const MGR: u64 = 1 << 3;
    /// A polling command: `ceph` adds `"poll": true`.
    pub const POLL: u64 = 1 << 4;
    /// Left out of help and of "closest matches".
    pub const HIDDEN: u64 = 1 << 5;
}

/// Python's `string.printable`: the only characters a plain `CephString`
/// accepts.
const PRINTABLE: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\r\x0b\x0c";

/// One argument of a signature.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgDesc {
    /// The JSON key the value goes under.
    pub name: String,
    /// The type name as published (`CephInt`, `CephString`, ...).
    pub ty: String,
    /// `req=false` makes the argument optional.
    pub required: bool,
    /// `n=N`: one or more values, sent as a list.
    pub many: bool,
    /// `n=<count>`: how many values (1 unless the signature says otherwise).
    pub count: usize,
    /// `CephChoices` strings.
    pub choices: Vec<String>,
    /// `range` bounds of `CephInt` / `CephFloat` as published (`0`, `0.0|1.0`).
    pub range: Vec<String>,
    /// `CephString` character class (a regular expression).
    pub goodchars: Option<String>,
    /// `false` when the monitor marks the argument `"positional": false`:
    /// it is only taken as `--name value`.
    pub positional: bool,
    /// Printable characters the class allows (empty: anything goes).
    goodset: Vec<char>,
}

/// One part of a signature: a literal word, or an argument.
#[derive(Debug, Clone, PartialEq)]
pub enum SigPart {
    /// A word that must be typed as is (`osd`, `pool`, `ls`).
    Literal(String),
    /// An argument the user supplies.
    Arg(ArgDesc),
}

/// A command signature as the monitors publish it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandDesc {
    /// The words and arguments, in order.
    pub sig: Vec<SigPart>,
    /// The one-line help text.
    pub help: String,
    /// The service that owns the command (`mon`, `osd`, `mgr`, ...).
    pub module: String,
    /// The capability needed (`r`, `rw`, `x`...).
    pub perm: String,
    /// Ceph's command flags (deprecated, obsolete, hidden...).
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

    /// The signature as Pacific's `ceph` prints it in usage lines and
    /// help (`concise_sig`): `osd pool create <pool> [<pg_num:int>] [--bulk]`.
    pub fn usage(&self) -> String {
        self.usage_in(CliStyle::Pacific)
    }

    /// The signature as the `ceph` of `style` prints it.
    pub fn usage_in(&self, style: CliStyle) -> String {
        let parts: Vec<String> = self
            .sig
            .iter()
            .map(|p| match p {
                SigPart::Literal(s) => s.clone(),
                SigPart::Arg(a) => a.helpstr_in(style),
            })
            .collect();
        parts.join(" ")
    }

    fn is(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }

    /// How many parts are required (literals included): `ceph` tries the
    /// signatures with fewer first.
    fn grade(&self) -> usize {
        self.sig
            .iter()
            .filter(|p| match p {
                SigPart::Literal(_) => true,
                SigPart::Arg(a) => a.required,
            })
            .count()
    }
}

impl ArgDesc {
    /// The argument in a usage line of Pacific's `ceph` (`helpstr`).
    pub fn helpstr(&self) -> String {
        self.helpstr_in(CliStyle::Pacific)
    }

    /// The argument in a usage line of the `ceph` of `style`.
    pub fn helpstr_in(&self, style: CliStyle) -> String {
        let mut s = if self.positional {
            self.positional_helpstr(style)
        } else {
            self.keyword_helpstr()
        };
        if self.many {
            s.push_str("...");
        }
        if !self.required {
            s = format!("[{s}]");
        }
        s
    }

    /// A keyword-only argument: its flag, then what kind of value follows.
    fn keyword_helpstr(&self) -> String {
        let flag = format!("--{}", self.name);
        match self.ty.as_str() {
            "CephBool" => format!("--{}", self.name.replace('_', "-")),
            "CephChoices" => format!("{flag} {{{}}}", self.choices.join("|")),
            "CephOsdName" => format!("{flag} <id|osd.id>"),
            "CephName" => format!("{flag} <type.id>"),
            "CephInt" => format!("{flag} <int>"),
            "CephFloat" => format!("{flag} <float>"),
            _ => format!("{flag} <value>"),
        }
    }

    fn positional_helpstr(&self, style: CliStyle) -> String {
        match self.ty.as_str() {
            "CephBool" => format!("--{}", self.name.replace('_', "-")),
            "CephChoices" if self.name == "format" => {
                format!("--format {{{}}}", self.choices.join("|"))
            }
            "CephChoices" if style == CliStyle::Quincy => {
                format!("<{}:{}>", self.name, self.choices.join("|"))
            }
            "CephChoices" => self.choices.join("|"),
            "CephOsdName" => "<id|osd.id>".to_string(),
            "CephName" => "<type.id>".to_string(),
            "CephInt" => format!("<{}:int>", self.name),
            "CephFloat" => format!("<{}:float>", self.name),
            _ => format!("<{}>", self.name),
        }
    }

    /// The type as `ceph` names it in messages (`str(instance)`).
    fn type_str(&self) -> String {
        match self.ty.as_str() {
            "CephInt" | "CephFloat" => {
                let float = self.ty == "CephFloat";
                let r: Vec<String> = self.range.iter().map(|b| bound_repr(b, float)).collect();
                let r = match r.as_slice() {
                    [lo] => format!("[{lo}-]"),
                    [lo, hi] => format!("[{lo}-{hi}]"),
                    _ => String::new(),
                };
                format!("<{}{r}>", if float { "float" } else { "int" })
            }
            "CephString" => match &self.goodchars {
                Some(g) if !g.is_empty() => format!("<string(goodchars {g})>"),
                _ => "<string>".to_string(),
            },
            "CephChoices" => self.choices.join("|"),
            "CephBool" => "<bool>".into(),
            "CephIPAddr" => "<IPaddr[:port]>".into(),
            "CephEntityAddr" => "<EntityAddr>".into(),
            "CephPoolname" => "<poolname>".into(),
            "CephObjectname" => "<objectname>".into(),
            "CephPgid" => "<pgid>".into(),
            "CephName" => "<name (type.id)>".into(),
            "CephOsdName" => "<osdname (id|osd.id)>".into(),
            "CephFilepath" => "<outfilename>".into(),
            "CephFragment" => "<CephFS fragment ID (0xvvv/bbb)>".into(),
            "CephUUID" => "<uuid>".into(),
            "CephSocketpath" => "<admin-socket-path>".into(),
            other => format!("<{other}>"),
        }
    }

    /// The argument in `ceph`'s error messages (`str(argdesc)`).
    fn describe(&self) -> String {
        let mut s = if self.ty == "CephChoices" && self.choices.len() == 1 {
            self.choices[0].clone()
        } else {
            let mut s = format!("{}({})", self.name, self.type_str());
            if self.many {
                s.push_str("...");
            }
            s
        };
        if !self.required {
            s = format!("[{s}]");
        }
        s
    }
}

/// A bound as Python prints the parsed value (`0`, `1.0`).
fn bound_repr(b: &str, float: bool) -> String {
    if float {
        py_float(b)
            .map(py_float_repr)
            .unwrap_or_else(|| b.to_string())
    } else {
        py_int(b, 10)
            .map(|i| i.to_string())
            .unwrap_or_else(|| b.to_string())
    }
}

/// Why words did not make a command; `Display` gives `ceph`'s lines on
/// stderr (before its final `Error EINVAL: invalid command`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// The command was found but an argument is wrong or missing:
    /// `Invalid command: REASON` and `USAGE :  HELP`. `note` is the line
    /// `ceph` prints first when words are left over (`W not valid:  WHY`).
    #[error("{}Invalid command: {reason}\n{usage} :  {help}", note.as_ref().map(|n| format!("{n}\n")).unwrap_or_default())]
    Invalid {
        /// Why the arguments do not fit.
        reason: String,
        /// The signature's usage line.
        usage: String,
        /// The signature's help text.
        help: String,
        /// The line about left-over words, if any.
        note: Option<String>,
    },
    /// No signature takes these words; the usage lines of the closest.
    #[error("no valid command found; {} closest matches:{}", closest.len(), closest.iter().map(|c| format!("\n{c}")).collect::<String>())]
    NoMatch {
        /// Usage lines of the closest signatures.
        closest: Vec<String>,
    },
    /// The command descriptions themselves could not be read.
    #[error("bad command descriptions: {0}")]
    BadDescriptions(String),
}

/// All signatures of one cluster, in the order the monitor published them.
#[derive(Debug, Clone, Default)]
pub struct CommandTable {
    /// Every signature.
    pub commands: Vec<CommandDesc>,
    /// How usage lines and help are printed (Pacific's way unless set).
    pub style: CliStyle,
}

fn parse_arg(obj: &Map<String, Value>) -> Result<ArgDesc, MatchError> {
    let get = |k: &str| obj.get(k).and_then(Value::as_str);
    let bad = |what: String| MatchError::BadDescriptions(what);
    let name = get("name").unwrap_or("").to_string();
    let ty = get("type")
        .ok_or_else(|| bad(format!("argument {name} has no type")))?
        .to_string();
    let (many, count) = match obj.get("n") {
        None => (false, 1),
        Some(Value::String(n)) if n == "N" || n == "n" => (true, 1),
        Some(Value::String(n)) => (false, n.parse().map_err(|_| bad(format!("bad n {n}")))?),
        Some(Value::Number(n)) => (
            false,
            n.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| bad(format!("bad n {n}")))?,
        ),
        Some(other) => return Err(bad(format!("bad n {other}"))),
    };
    let required = match obj.get("req") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "True",
        Some(_) => false,
    };
    let range: Vec<String> = match get("range") {
        Some(r) if !r.is_empty() => r.split('|').map(String::from).collect(),
        _ => Vec::new(),
    };
    let float = ty == "CephFloat";
    if ty == "CephInt" || float {
        for b in &range {
            let ok = if float {
                py_float(b).is_some()
            } else {
                py_int(b, 10).is_some()
            };
            if !ok {
                return Err(bad(format!("bad range bound {b} for {name}")));
            }
        }
    }
    // As `ceph` reads it: only `true` (or no mark) keeps it positional.
    let positional = match obj.get("positional") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "True",
        Some(_) => false,
    };
    let goodchars = get("goodchars").map(String::from);
    let goodset = if ty == "CephString" {
        let pattern = goodchars.as_deref().unwrap_or("");
        PRINTABLE
            .chars()
            .filter(|c| pattern_matches_char(pattern, *c))
            .collect()
    } else {
        Vec::new()
    };
    Ok(ArgDesc {
        name,
        ty,
        required,
        many,
        count,
        choices: get("strings")
            .map(|s| s.split('|').map(String::from).collect())
            .unwrap_or_else(|| vec![String::new()]),
        range,
        goodchars,
        positional,
        goodset,
    })
}

fn descriptions_object(bytes: &[u8]) -> Result<Map<String, Value>, MatchError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(MatchError::BadDescriptions("not an object".into())),
        Err(e) => Err(MatchError::BadDescriptions(e.to_string())),
    }
}

/// One signature of the descriptions, or `None` for one the CLI does not
/// offer (`avail` without `cli`, or not starting with a literal word).
fn parse_command(tag: &str, cmd: &Value) -> Result<Option<CommandDesc>, MatchError> {
    let Some(sig) = cmd.get("sig").and_then(Value::as_array) else {
        return Err(MatchError::BadDescriptions(format!("{tag} has no sig")));
    };
    if let Some(avail) = cmd.get("avail").and_then(Value::as_str) {
        if !avail.contains("cli") {
            return Ok(None);
        }
    }
    let mut parts = Vec::new();
    for p in sig {
        match p {
            Value::String(s) => parts.push(SigPart::Literal(s.clone())),
            Value::Object(o) => parts.push(SigPart::Arg(parse_arg(o)?)),
            _ => return Err(MatchError::BadDescriptions("bad signature element".into())),
        }
    }
    if !matches!(parts.first(), Some(SigPart::Literal(_))) {
        return Ok(None);
    }
    let s = |k: &str| cmd.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Ok(Some(CommandDesc {
        sig: parts,
        help: s("help"),
        module: s("module"),
        perm: s("perm"),
        flags: cmd.get("flags").and_then(Value::as_u64).unwrap_or(0),
    }))
}

/// One signature of a `get_command_descriptions` answer on its own, to be
/// stored and parsed later with only the ones a command may need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptionEntry {
    /// The signature's first word (`osd`), empty when it has none.
    pub first_word: String,
    /// The signature's JSON object, as text.
    pub json: Vec<u8>,
}

/// Splits the JSON `get_command_descriptions` returns into its signatures,
/// in the published order. Each is checked as [`CommandTable::from_json`]
/// would, so a table made of any of them cannot fail for a reason the
/// whole would not.
pub fn description_entries(bytes: &[u8]) -> Result<Vec<DescriptionEntry>, MatchError> {
    let obj = descriptions_object(bytes)?;
    let mut out = Vec::with_capacity(obj.len());
    for (tag, cmd) in &obj {
        parse_command(tag, cmd)?;
        let first_word = cmd
            .get("sig")
            .and_then(Value::as_array)
            .and_then(|sig| sig.first())
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let json =
            serde_json::to_vec(cmd).map_err(|e| MatchError::BadDescriptions(e.to_string()))?;
        out.push(DescriptionEntry { first_word, json });
    }
    Ok(out)
}

/// Whether a signature whose first word is `first_word` belongs in a table
/// of only those that may match `words`: its first word equals the first
/// of `words`, or begins with it when that is the only word (`ceph` matches
/// the last word by prefix). Every such signature matches at least one
/// word, which all others do not: so when at least one passes, the table
/// of those that pass turns `words` into the same command, or the same
/// error, as the whole table. When none passes, use the whole table (all
/// signatures then tie, and `ceph` lists the first ones as the closest).
pub fn first_word_may_match(first_word: &str, words: &[String]) -> bool {
    match words {
        [only] => first_word.starts_with(only.as_str()),
        [first, ..] => first_word == first,
        [] => false,
    }
}

impl CommandTable {
    /// Parses the JSON `get_command_descriptions` returns. Signatures not
    /// meant for the CLI (`avail` without `cli`) are left out, as `ceph`
    /// does.
    pub fn from_json(bytes: &[u8]) -> Result<Self, MatchError> {
        let obj = descriptions_object(bytes)?;
        let mut commands = Vec::new();
        for (tag, cmd) in &obj {
            if let Some(c) = parse_command(tag, cmd)? {
                commands.push(c);
            }
        }
        Ok(CommandTable {
            commands,
            style: CliStyle::default(),
        })
    }

    /// A table of some of the signatures [`description_entries`] split out,
    /// in the order given (each entry's `json`).
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, MatchError> {
        let mut commands = Vec::new();
        for json in entries {
            let cmd: Value = serde_json::from_slice(json)
                .map_err(|e| MatchError::BadDescriptions(e.to_string()))?;
            if let Some(c) = parse_command("entry", &cmd)? {
                commands.push(c);
            }
        }
        Ok(CommandTable {
            commands,
            style: CliStyle::default(),
        })
    }

    /// Whether every signature for the command `prefix` (`mon dump`) only
    /// reads (its `perm` has neither `w` nor `x`); false for a prefix the
    /// table does not have.
    pub fn is_read_only(&self, prefix: &str) -> bool {
        let mut found = false;
        for c in &self.commands {
            if c.prefix().join(" ") == prefix {
                if c.perm.is_empty() || c.perm.contains('w') || c.perm.contains('x') {
                    return false;
                }
                found = true;
            }
        }
        found
    }

    /// This table, printing usage lines and help as the CLI of `style`.
    pub fn with_style(mut self, style: CliStyle) -> Self {
        self.style = style;
        self
    }

    /// Turns words into a command object (`prefix` and the arguments), as
    /// `ceph` picks the signature: the ones matching the most words, those
    /// with fewer required parts first; the first that takes all the words
    /// wins, and a wrong value for a signature whose words all matched
    /// stops the search with [`MatchError::Invalid`].
    pub fn words_to_json(&self, words: &[String]) -> Result<Map<String, Value>, MatchError> {
        let mut best = self.best_candidates(words);
        let several = best.len() > 1;
        best.sort_by_key(|c| c.grade());
        for cmd in &best {
            match validate(words, cmd) {
                Ok(map) => return Ok(map),
                Err(Failure::Prefix) | Err(Failure::TooFew) => continue,
                Err(Failure::Missing(reason)) if several => {
                    // `ceph` stops here but reports no command.
                    let _ = reason;
                    break;
                }
                Err(Failure::Missing(reason)) => return Err(self.invalid(cmd, reason, None)),
                Err(Failure::Other { reason, note }) => return Err(self.invalid(cmd, reason, note)),
            }
        }
        Err(MatchError::NoMatch {
            closest: self.closest(words, 10),
        })
    }

    /// The signatures that match the most words (`ceph`'s `bestcmds`), in
    /// table order.
    fn best_candidates(&self, words: &[String]) -> Vec<&CommandDesc> {
        // Scores doubled: a signature that matches as many words without
        // partial matching gets half a point more.
        let mut best_score = 0usize;
        let mut best = Vec::new();
        for cmd in self.commands.iter().filter(|c| !c.is(flags::OBSOLETE)) {
            let partial = matchnum(words, cmd, true);
            let mut score = 2 * partial;
            if partial >= best_score / 2 && partial == matchnum(words, cmd, false) {
                score += 1;
            }
            if score < best_score {
                continue;
            }
            if score > best_score {
                best_score = score;
                best.clear();
            }
            best.push(cmd);
        }
        best
    }

    /// Usage lines `ceph` lists when no command takes `words` ("closest
    /// matches"): the best candidates without deprecated or hidden ones,
    /// at most `n`.
    pub fn closest(&self, words: &[String], n: usize) -> Vec<String> {
        self.best_candidates(words)
            .into_iter()
            .filter(|c| !c.is(flags::DEPRECATED | flags::HIDDEN))
            .take(n)
            .map(|c| c.usage_in(self.style))
            .collect()
    }

    /// Signatures shown by help for `words` (`ceph WORDS -h`): those whose
    /// usage line starts with the words, with a help text, not obsolete,
    /// deprecated or hidden, sorted by usage line.
    pub fn matching(&self, words: &[String]) -> Vec<&CommandDesc> {
        let partial = words.join(" ");
        let mut out: Vec<(String, &CommandDesc)> = self
            .commands
            .iter()
            .filter(|c| !c.help.is_empty())
            .filter(|c| !c.is(flags::OBSOLETE | flags::DEPRECATED | flags::HIDDEN))
            .map(|c| (c.usage_in(self.style), c))
            .filter(|(u, _)| u.starts_with(&partial))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.into_iter().map(|(_, c)| c).collect()
    }

    fn invalid(&self, cmd: &CommandDesc, reason: String, note: Option<String>) -> MatchError {
        MatchError::Invalid {
            reason,
            usage: cmd.usage_in(self.style),
            help: cmd.help.clone(),
            note,
        }
    }

    /// The help table `ceph -h` prints under "Monitor commands:" for
    /// `words` (all commands when empty), for a terminal `cols` wide:
    /// usage and help side by side, each wrapped to half the width. In the
    /// Quincy style, words are dropped from the end until some usage line
    /// starts with the rest (`osd pool frob -h` lists `osd pool`).
    pub fn help_text(&self, words: &[String], cols: usize) -> String {
        let mut partial: Vec<String> = words.to_vec();
        loop {
            let out = self.format_help(&partial, cols);
            if !out.is_empty() || partial.is_empty() || self.style == CliStyle::Pacific {
                return out;
            }
            // `ceph` joins the words with spaces and splits at whitespace.
            let joined = partial.join(" ");
            let mut rest: Vec<String> = joined.split_whitespace().map(String::from).collect();
            rest.pop();
            partial = rest;
        }
    }

    /// The help table for the signatures whose usage line starts with
    /// `words` (`format_help`).
    fn format_help(&self, words: &[String], cols: usize) -> String {
        let width = cols.saturating_sub(1).max(2);
        let sig_width = width / 2;
        let help_width = width / 2 + width % 2;
        let mut out = String::new();
        for cmd in self.matching(words) {
            let mut sig_lines = wrap(&cmd.usage_in(self.style), sig_width, 1);
            let mut help_lines = wrap(&cmd.help, help_width, 1);
            let rows = sig_lines.len().max(help_lines.len());
            sig_lines.resize(rows, String::new());
            help_lines.resize(rows, String::new());
            for (s, h) in sig_lines.iter().zip(&help_lines) {
                let pad = sig_width.saturating_sub(s.chars().count());
                out.push_str(s);
                out.push_str(&" ".repeat(pad));
                out.push(' ');
                out.push_str(h);
                out.push('\n');
            }
        }
        out
    }
}

/// Splits `text` into lines at most `width` wide, breaking anywhere but
/// inside words and `{[<>]}` groups; lines after the first are indented
/// by `indent` (as `ceph` lays out its help).
fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let keep = |c: char| c.is_ascii_alphabetic() || "{[<>]}".contains(c);
    let mut s: Vec<char> = text.chars().collect();
    let mut width = width.max(1);
    let mut lines = Vec::new();
    let mut leader = String::new();
    let mut line = String::new();
    while !s.is_empty() {
        if s.len() <= width {
            lines.push(format!("{leader}{}", s.iter().collect::<String>()));
            break;
        }
        let mut split = width;
        while split > 0 && keep(s[split - 1]) {
            split -= 1;
        }
        if split == 0 {
            split = width;
        }
        if line.is_empty() {
            // The first line: the rest is indented, one column narrower.
            leader = " ".repeat(indent);
            width = width.saturating_sub(1).max(1);
        } else {
            line = leader.clone();
        }
        let chunk: String = s[..split].iter().collect();
        line.push_str(chunk.trim_start());
        lines.push(line.clone());
        s.drain(..split);
    }
    lines
}

/// How an argument or a whole signature failed, as `ceph_argparse`
/// classifies it.
#[derive(Debug)]
enum Failure {
    /// A literal word differs: not this command.
    Prefix,
    /// Fewer words than the signature needs.
    TooFew,
    /// A required argument has no word.
    Missing(String),
    /// Any other problem with this command's arguments.
    Other {
        reason: String,
        note: Option<String>,
    },
}

/// One signature element while matching: a literal or an argument.
#[derive(Clone, Copy)]
enum Elem<'a> {
    Literal(&'a str),
    Arg(&'a ArgDesc),
}

impl Elem<'_> {
    fn required(&self) -> bool {
        match self {
            Elem::Literal(_) => true,
            Elem::Arg(a) => a.required,
        }
    }
    fn many(&self) -> bool {
        matches!(self, Elem::Arg(a) if a.many)
    }
    fn count(&self) -> usize {
        match self {
            Elem::Literal(_) => 1,
            Elem::Arg(a) => a.count,
        }
    }
    fn name(&self) -> &str {
        match self {
            Elem::Literal(_) => "prefix",
            Elem::Arg(a) => &a.name,
        }
    }
}

fn elems(cmd: &CommandDesc) -> Vec<Elem<'_>> {
    cmd.sig
        .iter()
        .map(|p| match p {
            SigPart::Literal(s) => Elem::Literal(s),
            SigPart::Arg(a) => Elem::Arg(a),
        })
        .collect()
}

/// A word that did not fit an element: a literal mismatch or a bad value.
struct BadWord {
    prefix: bool,
    msg: String,
}

/// Checks one word (or, for lists in keyword form or of non-string types,
/// each comma-separated part) against an element: the values to store.
fn validate_one(
    word: &str,
    elem: Elem<'_>,
    keyword: bool,
    partial: bool,
) -> Result<Vec<Value>, BadWord> {
    match elem {
        Elem::Literal(lit) => {
            let ok = if partial {
                lit.starts_with(word)
            } else {
                lit == word
            };
            if ok {
                Ok(vec![Value::String(word.to_string())])
            } else {
                Err(BadWord {
                    prefix: true,
                    msg: format!("no match for {word}"),
                })
            }
        }
        Elem::Arg(a) => {
            let split = a.many && (keyword || a.ty != "CephString");
            let mut vals = Vec::new();
            if split {
                for part in word.split(',') {
                    vals.push(check_value(a, part, partial).map_err(not_prefix)?);
                }
            } else {
                vals.push(check_value(a, word, partial).map_err(not_prefix)?);
            }
            Ok(vals)
        }
    }
}

fn not_prefix(msg: String) -> BadWord {
    BadWord { prefix: false, msg }
}

/// How many leading elements the words satisfy (`matchnum`): the score
/// used to pick candidate signatures. `partial` lets the last word be the
/// start of a literal or choice.
fn matchnum(words: &[String], cmd: &CommandDesc, partial: bool) -> usize {
    let mut words: std::collections::VecDeque<&str> = words.iter().map(String::as_str).collect();
    let mut count = 0;
    for elem in elems(cmd) {
        let mut seen = 0;
        let mut want = elem.count();
        while seen < want {
            let Some(word) = words.pop_front() else {
                return count;
            };
            match validate_one(word, elem, false, partial && words.is_empty()) {
                Ok(_) => {
                    seen += 1;
                    if elem.many() {
                        want = seen + 1;
                    }
                }
                Err(_) if !elem.required() => {
                    // The word may fit the next element.
                    words.push_front(word);
                    break;
                }
                Err(_) => return count,
            }
        }
        if elem.required() {
            count += 1;
        }
    }
    count
}

/// Splits `--key=value` / `--key`: the key with `-` read as `_`, and the
/// inline value if there is one (`ceph` needs at least one character
/// after `=`).
fn keyword(word: &str) -> Option<(String, Option<&str>)> {
    let rest = word.strip_prefix("--")?;
    let key_end = rest.find('=').unwrap_or(rest.len());
    if key_end == 0 {
        return None;
    }
    let key = rest[..key_end].replace('-', "_");
    let value = rest.get(key_end + 1..).filter(|v| !v.is_empty());
    Some((key, value))
}

/// Confirmation flags that older monitors declared as strings or choices:
/// accepted as positional values.
const CONFIRMATIONS: &[&str] = &[
    "--yes-i-really-mean-it",
    "--yes-i-really-really-mean-it",
    "--yes-i-really-really-mean-it-not-faking",
    "--force",
];

fn store(out: &mut Map<String, Value>, elem: Elem<'_>, vals: Vec<Value>) {
    let name = elem.name().to_string();
    match elem {
        Elem::Arg(a) if a.many => match out.get_mut(&name) {
            Some(Value::Array(list)) => list.extend(vals),
            _ => {
                out.insert(name, Value::Array(vals));
            }
        },
        Elem::Literal(_) => {
            let word = vals.into_iter().next().unwrap_or(Value::Null);
            let word = word.as_str().unwrap_or("").to_string();
            match out.get_mut("prefix") {
                Some(Value::String(p)) => {
                    p.push(' ');
                    p.push_str(&word);
                }
                _ => {
                    out.insert(name, Value::String(word));
                }
            }
        }
        Elem::Arg(_) => {
            if let Some(v) = vals.into_iter().last() {
                out.insert(name, v);
            }
        }
    }
}

/// Binds all the words to one signature (`validate`).
fn validate(words: &[String], cmd: &CommandDesc) -> Result<Map<String, Value>, Failure> {
    let elems = elems(cmd);
    let required = elems.iter().filter(|e| e.required()).count();
    let by_name = |key: &str| {
        elems
            .iter()
            .rposition(|e| matches!(e, Elem::Arg(a) if a.name == key))
    };
    let injectargs = words.first().map(String::as_str) == Some("injectargs");
    let mut seen = vec![0usize; elems.len()];
    let mut want: Vec<usize> = elems.iter().map(Elem::count).collect();
    let mut args: std::collections::VecDeque<&str> = words.iter().map(String::as_str).collect();
    let mut out = Map::new();
    let mut matched = 0;
    let mut saved: Option<(String, String)> = None;
    let other = |reason: String| Failure::Other { reason, note: None };

    for (i, &elem) in elems.iter().enumerate() {
        seen[i] = 0;
        while seen[i] < want[i] {
            let arg = args.pop_front();
            if arg.is_none() && (!elem.required() || out.contains_key(elem.name())) {
                break;
            }
            if let Some(word) = arg.filter(|w| !w.is_empty()) {
                if let Some((key, inline)) = keyword(word) {
                    if let Some(t) = by_name(&key) {
                        let value = match inline {
                            Some(v) => Some(v.to_string()),
                            None if matches!(elems[t], Elem::Arg(a) if a.ty == "CephBool") => {
                                Some("true".to_string())
                            }
                            None => args.pop_front().map(String::from),
                        };
                        if let Some(value) = value {
                            let vals = validate_one(&value, elems[t], true, false)
                                .map_err(|e| other(e.msg))?;
                            seen[t] += 1;
                            if elems[t].many() {
                                want[t] = seen[t] + 1;
                            }
                            matched += 1;
                            store(&mut out, elems[t], vals);
                            continue;
                        }
                    }
                }
                if word.starts_with("--") {
                    let is_value = matches!(elem, Elem::Arg(a) if a.ty == "CephChoices")
                        || CONFIRMATIONS.contains(&word)
                        || injectargs;
                    if !is_value {
                        return Err(other(format!("Unexpected argument '{word}'")));
                    }
                }
            }
            // A keyword-only argument takes no word by position (nor any
            // after it: the words left were not keywords of this command).
            if let (Some(word), Elem::Arg(a)) = (arg, elem) {
                if !a.positional {
                    return Err(other(format!("Unexpected argument '{word}'")));
                }
            }
            let Some(word) = arg else {
                // Out of words for a required element.
                if elem.many() && seen[i] < 1 {
                    return Err(other(format!(
                        "saw {} of {}, expected at least 1",
                        seen[i],
                        describe(elem)
                    )));
                } else if !elem.many() && seen[i] < want[i] {
                    if seen[i] == 0 && want[i] == 1 {
                        return Err(Failure::Missing(format!(
                            "missing required parameter {}",
                            describe(elem)
                        )));
                    }
                    return Err(other(format!(
                        "saw {} of {}, expected {}",
                        seen[i],
                        describe(elem),
                        want[i]
                    )));
                }
                break;
            };
            match validate_one(word, elem, false, false) {
                Ok(vals) => {
                    seen[i] += 1;
                    if elem.many() {
                        want[i] = seen[i] + 1;
                    }
                    matched += 1;
                    store(&mut out, elem, vals);
                    saved = None;
                }
                Err(e) if !elem.required() => {
                    saved = Some((word.to_string(), e.msg));
                    args.push_front(word);
                    break;
                }
                Err(e) if e.prefix => return Err(Failure::Prefix),
                Err(e) => return Err(other(e.msg)),
            }
        }
    }
    if matched < required {
        return Err(Failure::TooFew);
    }
    if !args.is_empty() {
        let list: Vec<String> = args.iter().map(|a| py_repr(a)).collect();
        return Err(Failure::Other {
            reason: format!("unused arguments: [{}]", list.join(", ")),
            note: saved.map(|(w, why)| format!("{w} not valid:  {why}")),
        });
    }
    if cmd.is(flags::MGR) {
        out.insert("target".into(), serde_json::json!(["mon-mgr", ""]));
    }
    if cmd.is(flags::POLL) {
        out.insert("poll".into(), Value::Bool(true));
    }
    Ok(out)
}

fn describe(elem: Elem<'_>) -> String {
    match elem {
        Elem::Literal(s) => s.to_string(),
        Elem::Arg(a) => a.describe(),
    }
}

/// Whether a bound list allows `x` (one bound: a minimum).
fn check_range<T: PartialOrd + Copy>(bounds: &[T], x: T) -> bool {
    match bounds {
        [lo, hi] => !(x < *lo || x > *hi),
        [lo] => x >= *lo,
        _ => true,
    }
}

/// Checks a word against an argument's type; the JSON value `ceph` sends,
/// or its message.
fn check_value(a: &ArgDesc, w: &str, partial: bool) -> Result<Value, String> {
    match a.ty.as_str() {
        "CephInt" => {
            let val = py_int(w, 0).ok_or_else(|| format!("{w} doesn't represent an int"))?;
            let bounds: Vec<i128> = a.range.iter().filter_map(|b| py_int(b, 10)).collect();
            if !check_range(&bounds, val) {
                let shown: Vec<String> = bounds.iter().map(i128::to_string).collect();
                return Err(format!("{val} not in range [{}]", shown.join(", ")));
            }
            if let Ok(v) = i64::try_from(val) {
                Ok(Value::from(v))
            } else if let Ok(v) = u64::try_from(val) {
                Ok(Value::from(v))
            } else {
                Err(format!("{w} doesn't represent an int"))
            }
        }
        "CephFloat" => {
            let val = py_float(w).ok_or_else(|| format!("{w} doesn't represent a float"))?;
            let bounds: Vec<f64> = a.range.iter().filter_map(|b| py_float(b)).collect();
            if !check_range(&bounds, val) {
                let shown: Vec<String> = bounds.iter().map(|b| py_float_repr(*b)).collect();
                return Err(format!(
                    "{} not in range [{}]",
                    py_float_repr(val),
                    shown.join(", ")
                ));
            }
            Ok(Number::from_f64(val).map_or(Value::Null, Value::Number))
        }
        "CephBool" => match w.to_lowercase().as_str() {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("{w} not one of 'true', 'false'")),
        },
        "CephChoices" => {
            let ok = if partial {
                a.choices.iter().any(|c| c.starts_with(w))
            } else {
                a.choices.iter().any(|c| c == w)
            };
            if ok {
                Ok(Value::String(w.into()))
            } else {
                Err(format!("{w} not in {}", a.choices.join("|")))
            }
        }
        "CephString" => {
            if !a.goodset.is_empty() {
                let mut bad = String::new();
                for c in w.chars() {
                    if !a.goodset.contains(&c) && !bad.contains(c) {
                        bad.push(c);
                    }
                }
                if !bad.is_empty() {
                    return Err(format!("invalid chars {bad} in {w}"));
                }
            }
            Ok(Value::String(w.into()))
        }
        "CephOsdName" => {
            if w == "*" {
                return Ok(Value::String(w.into()));
            }
            let id = match w.split_once('.') {
                Some((t, _)) if t != "osd" => return Err(format!("unknown type {t}")),
                Some((_, i)) => i,
                None => w,
            };
            let n = py_int(id, 10).ok_or_else(|| format!("osd id {id} not integer"))?;
            if n < 0 {
                return Err(format!("osd id {n} is less than 0"));
            }
            i64::try_from(n)
                .map(Value::from)
                .map_err(|_| format!("osd id {id} not integer"))
        }
        "CephName" => {
            if matches!(w, "*" | "mgr" | "mon") {
                return Ok(Value::String(w.into()));
            }
            let (t, i) = w
                .split_once('.')
                .ok_or_else(|| format!("CephName: no . in {w}"))?;
            if !["osd", "mon", "client", "mds", "mgr"].contains(&t) {
                return Err(format!("unknown type {t}"));
            }
            if t == "osd" && i != "*" && py_int(i, 10).is_none() {
                return Err(format!("osd id {i} not integer"));
            }
            Ok(Value::String(w.into()))
        }
        "CephPgid" => {
            let (pool, pg) = w.split_once('.').ok_or("pgid has no .")?;
            let pool_id = py_int(pool, 10).ok_or_else(|| format!("pool {pool} not integer"))?;
            if pool_id < 0 {
                return Err(format!("pool {pool_id} < 0"));
            }
            py_int(pg, 16).ok_or_else(|| format!("pgnum {pg} not hex integer"))?;
            Ok(Value::String(w.into()))
        }
        "CephUUID" => {
            if valid_uuid(w) {
                Ok(Value::String(w.into()))
            } else {
                Err(format!(
                    "invalid UUID {w}: badly formed hexadecimal UUID string"
                ))
            }
        }
        "CephIPAddr" => check_ip(w).map(Value::String),
        "CephEntityAddr" => {
            let (ip, nonce) = match w.split_once('/') {
                Some((_, n)) if n.contains('/') => {
                    return Err(format!("{w}: invalid entity, too many /"))
                }
                Some((ip, n)) => match n.strip_suffix(']') {
                    Some(n) => (format!("{ip}]"), n),
                    None => (ip.to_string(), n),
                },
                None => (w.to_string(), ""),
            };
            check_ip(&ip)?;
            if !nonce.is_empty() && !matches!(py_int(nonce, 10), Some(n) if n >= 0) {
                return Err(format!(
                    "{w}: invalid entity, nonce {nonce} not integer > 0"
                ));
            }
            Ok(Value::String(w.into()))
        }
        "CephFragment" => {
            let (val, bits) = w.split_once('/').ok_or_else(|| format!("{w}: no /"))?;
            if bits.contains('/') {
                return Err(format!("{w}: too many /"));
            }
            if !val.starts_with("0x") {
                return Err(format!("{val} not a hex integer"));
            }
            // `ceph` converts the value in base 10, which a `0x` value never
            // is: every fragment is refused.
            Err(format!("can't convert {val} to integer"))
        }
        "CephFilepath" => check_filepath(w).map(Value::String),
        "CephSocketpath" => {
            use std::os::unix::fs::FileTypeExt;
            match std::fs::metadata(w) {
                Ok(m) if m.file_type().is_socket() => Ok(Value::String(w.into())),
                Ok(_) => Err(format!("socket path {w} is not a socket")),
                Err(e) => Err(format!("socket path {w}: {e}")),
            }
        }
        // CephPoolname, CephObjectname and unknown types take any word.
        _ => Ok(Value::String(w.into())),
    }
}

/// `CephFilepath`: an absolute path that can be read, or written.
fn check_filepath(w: &str) -> Result<String, String> {
    let path = std::path::absolute(w).map_err(|e| format!("{w}: {e}"))?;
    let shown = path.display().to_string();
    if std::fs::File::open(&path).is_ok() {
        return Ok(shown);
    }
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => {
            if std::fs::OpenOptions::new().append(true).open(&path).is_ok() {
                Ok(shown)
            } else {
                Err(format!("{shown} is not writable"))
            }
        }
        Ok(_) => Err(format!("{shown} is not file")),
        Err(_) => {
            let dir = path.parent().unwrap_or(std::path::Path::new("/"));
            let writable = std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly());
            if writable {
                Ok(shown)
            } else {
                Err(format!("cannot create file in {}", dir.display()))
            }
        }
    }
}

/// `CephIPAddr`: the address (without a `v1:`/`v2:`/`any:` tag) or the
/// message. Follows `ceph`'s rules, quirks included (a `v2:` tag means
/// an IPv6 address; a bracketed port is one digit).
fn check_ip(s: &str) -> Result<String, String> {
    let (s, v4) = if let Some(r) = s.strip_prefix("v1:") {
        (r, true)
    } else if let Some(r) = s.strip_prefix("v2:") {
        (r, false)
    } else if let Some(r) = s.strip_prefix("any:") {
        (r, true)
    } else if s.starts_with('[') {
        (s, false)
    } else {
        (s, s.contains('.'))
    };
    if v4 {
        let (addr, port) = match s.split_once(':') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        if let Some(p) = port {
            match py_int(p, 10) {
                Some(n) if n > 65535 => return Err(format!("{p}: invalid IPv4 port")),
                Some(_) => {}
                None => return Err(format!("{p}: invalid IPv4 port")),
            }
        }
        if addr.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(format!("{addr}: invalid IPv4 address"));
        }
    } else {
        let addr = if s.starts_with('[') {
            let end = s
                .find(']')
                .ok_or_else(|| format!("{s} missing terminating ]"))?;
            if s[end + 1..].starts_with(':') {
                let digit = s[end + 2..].chars().next();
                if !digit.is_some_and(|c| c.is_ascii_digit()) {
                    return Err(format!("{s}: bad port number"));
                }
            }
            &s[1..end]
        } else {
            s
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("{s} not valid IPv6 address"));
        }
    }
    Ok(s.to_string())
}

/// Python's `uuid.UUID(s)` acceptance: optional `urn:`/`uuid:` and braces,
/// hyphens anywhere, 32 hex digits.
fn valid_uuid(s: &str) -> bool {
    let s = s.strip_prefix("urn:").unwrap_or(s);
    let s = s.strip_prefix("uuid:").unwrap_or(s);
    let s = s.trim_matches(|c| c == '{' || c == '}');
    let hex: Vec<char> = s.chars().filter(|c| *c != '-').collect();
    hex.len() == 32 && hex.iter().all(char::is_ascii_hexdigit)
}

/// Python's `int(s, base)` for bases 0 (prefix decides; no leading zeros),
/// 10 and 16: surrounding whitespace, a sign, `_` between digits.
fn py_int(s: &str, base: u32) -> Option<i128> {
    let s = s.trim_matches(|c: char| c.is_whitespace());
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = s.to_ascii_lowercase();
    let prefixed = |p: &str| lower.starts_with(p).then(|| &s[2..]);
    let (radix, digits, had_prefix) = match base {
        0 => {
            if let Some(d) = prefixed("0x") {
                (16, d, true)
            } else if let Some(d) = prefixed("0o") {
                (8, d, true)
            } else if let Some(d) = prefixed("0b") {
                (2, d, true)
            } else {
                (10, s, false)
            }
        }
        16 => match prefixed("0x") {
            Some(d) => (16, d, true),
            None => (16, s, false),
        },
        b => (b, s, false),
    };
    // An underscore may follow a prefix, otherwise only a digit.
    let digits = if had_prefix {
        digits.strip_prefix('_').unwrap_or(digits)
    } else {
        digits
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if !clean.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if base == 0 && radix == 10 && clean.starts_with('0') && clean.chars().any(|c| c != '0') {
        return None;
    }
    let mut n: i128 = 0;
    for c in clean.chars() {
        n = n
            .checked_mul(radix as i128)?
            .checked_add(c.to_digit(radix)? as i128)?;
    }
    Some(if neg { -n } else { n })
}

/// Python's `float(s)`: whitespace, `_` between digits, `inf`/`nan`.
fn py_float(s: &str) -> Option<f64> {
    let s = s.trim_matches(|c: char| c.is_whitespace());
    let chars: Vec<char> = s.chars().collect();
    let mut clean = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            let around = i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if !around {
                return None;
            }
            continue;
        }
        clean.push(c);
    }
    let body = clean.trim_start_matches(['+', '-']);
    if body.len() + 1 < clean.len() {
        return None;
    }
    let word = body.to_ascii_lowercase();
    if matches!(word.as_str(), "inf" | "infinity" | "nan") {
        return clean.parse().ok();
    }
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    clean.parse().ok()
}

/// A float as Python's `repr` prints it (`1.0`, `0.5`, `1e+16`, `1e-05`).
fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Shortest round-trip digits and the decimal exponent.
    let e = format!("{x:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let sign = if neg { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let (int, frac) = if point <= 0 {
            (
                "0".to_string(),
                format!("{}{digits}", "0".repeat((-point) as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_string(),
                digits[point as usize..].to_string(),
            )
        };
        let frac = if frac.is_empty() { "0".into() } else { frac };
        format!("{sign}{int}.{frac}")
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{rest}e{esign}{:02}", exp.abs())
    }
}

/// A string as Python's `repr` prints it.
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Whether a `goodchars` pattern matches at the start of the one-character
/// string `c` (Python's `re.match`). Supports what monitors publish: one
/// bracketed class (ranges, `^`, `\` escapes) or a literal; an empty
/// pattern matches everything.
fn pattern_matches_char(pattern: &str, c: char) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    if p.is_empty() {
        return true;
    }
    if p[0] != '[' {
        return p[0] == c || (p[0] == '.' && c != '\n');
    }
    let mut i = 1;
    let negate = p.get(1) == Some(&'^');
    if negate {
        i += 1;
    }
    let mut items: Vec<(char, char)> = Vec::new();
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            break;
        }
        first = false;
        let lo = if p[i] == '\\' && i + 1 < p.len() {
            i += 1;
            match p[i] {
                'd' => {
                    items.push(('0', '9'));
                    i += 1;
                    continue;
                }
                'w' => {
                    items.extend([('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')]);
                    i += 1;
                    continue;
                }
                's' => {
                    items.extend([(' ', ' '), ('\t', '\r')]);
                    i += 1;
                    continue;
                }
                e => e,
            }
        } else {
            p[i]
        };
        i += 1;
        if i + 1 < p.len() && p[i] == '-' && p[i + 1] != ']' {
            let hi = p[i + 1];
            items.push((lo, hi));
            i += 2;
        } else {
            items.push((lo, lo));
        }
    }
    let inside = items.iter().any(|(lo, hi)| *lo <= c && c <= *hi);
    inside != negate
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

    fn err(s: &str) -> String {
        table().words_to_json(&words(s)).unwrap_err().to_string()
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
            json("mon dump 0x10"),
            serde_json::json!({"prefix": "mon dump", "epoch": 16})
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
        assert_eq!(
            json("osd pool create p1 --pg-num 8"),
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
            json("osd down --ids=1,2"),
            serde_json::json!({"prefix": "osd down", "ids": ["1", "2"]})
        );
        assert_eq!(
            json("osd reweight osd.3 0.5"),
            serde_json::json!({"prefix": "osd reweight", "id": 3, "weight": 0.5})
        );
    }

    #[test]
    fn messages_like_ceph() {
        assert_eq!(
            err("osd reweight 3 1.5"),
            "Invalid command: 1.5 not in range [0.0, 1.0]\nosd reweight <id|osd.id> <weight:float> :  reweight"
        );
        assert_eq!(
            err("osd pool create"),
            "Invalid command: missing required parameter pool(<poolname>)\nosd pool create <pool> [<pg_num:int>] [<pgp_num:int>] [replicated|erasure] [<erasure_code_profile>] :  create pool"
        );
        assert_eq!(
            err("osd pool create p1 8 8 replicated bad/chars"),
            "bad/chars not valid:  invalid chars / in bad/chars\nInvalid command: unused arguments: ['bad/chars']\nosd pool create <pool> [<pg_num:int>] [<pgp_num:int>] [replicated|erasure] [<erasure_code_profile>] :  create pool"
        );
        assert_eq!(
            err("mon dump --bogus"),
            "Invalid command: Unexpected argument '--bogus'\nmon dump [<epoch:int>] :  dump"
        );
        assert_eq!(
            err("frobnicate"),
            "no valid command found; 8 closest matches:\nhealth [detail]\nhealth mute <code> [<ttl>] [--sticky]\nosd pool create <pool> [<pg_num:int>] [<pgp_num:int>] [replicated|erasure] [<erasure_code_profile>]\nosd pool set <pool> size|min_size|pg_num <val> [--yes-i-really-mean-it]\nosd blocklist add|rm <addr> [<expire:float>]\nosd down <ids>... [--definitely-dead]\nmon dump [<epoch:int>]\nosd reweight <id|osd.id> <weight:float>"
        );
    }

    #[test]
    fn python_number_forms() {
        assert_eq!(py_int(" +1_000 ", 0), Some(1000));
        assert_eq!(py_int("010", 0), None);
        assert_eq!(py_int("00", 0), Some(0));
        assert_eq!(py_int("0x_1f", 16), Some(31));
        assert_eq!(py_int("1__0", 10), None);
        assert_eq!(py_float("1_0.5"), Some(10.5));
        assert_eq!(py_float("-INF"), Some(f64::NEG_INFINITY));
        assert_eq!(py_float("1e"), None);
        assert_eq!(py_float_repr(1.0), "1.0");
        assert_eq!(py_float_repr(1e16), "1e+16");
        assert_eq!(py_float_repr(0.0001), "0.0001");
        assert_eq!(py_float_repr(1e-5), "1e-05");
        assert_eq!(py_float_repr(123.456), "123.456");
        assert_eq!(py_repr("it's"), "\"it's\"");
    }

    #[test]
    fn goodchars_classes() {
        assert!(pattern_matches_char("[A-Za-z0-9-_.]", '-'));
        assert!(pattern_matches_char("[A-Za-z0-9-_.]", '_'));
        assert!(!pattern_matches_char("[A-Za-z0-9-_.]", '/'));
        assert!(pattern_matches_char("[range]", 'g'));
        assert!(!pattern_matches_char("[range]", 'x'));
        assert!(pattern_matches_char("", '/'));
    }

    #[test]
    fn usage_lines_and_help() {
        let t = table();
        let c = t.matching(&words("osd pool create"));
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].usage(),
            "osd pool create <pool> [<pg_num:int>] [<pgp_num:int>] [replicated|erasure] [<erasure_code_profile>]"
        );
        let help = t.help_text(&words("mon"), 40);
        assert_eq!(help, "mon dump [<epoch:   dump\n int>]              \n");
        let help = t.help_text(&words("osd reweight"), 30);
        assert_eq!(
            help,
            "osd reweight   reweight\n <id|osd.id>   \n <weight:      \n float>        \n"
        );
    }

    #[test]
    fn style_follows_the_release() {
        assert_eq!(CliStyle::for_release(0), CliStyle::Pacific);
        assert_eq!(CliStyle::for_release(16), CliStyle::Pacific);
        assert_eq!(CliStyle::for_release(17), CliStyle::Quincy);
        assert_eq!(CliStyle::for_release(20), CliStyle::Quincy);
    }

    #[test]
    fn quincy_names_choices_and_shortens_help_words() {
        let t = table().with_style(CliStyle::Quincy);
        let e = t.words_to_json(&words("osd pool create")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid command: missing required parameter pool(<poolname>)\nosd pool create <pool> [<pg_num:int>] [<pgp_num:int>] [<pool_type:replicated|erasure>] [<erasure_code_profile>] :  create pool"
        );
        // A single choice too; `--format` keeps its own form.
        let closest = match t.words_to_json(&words("frobnicate")).unwrap_err() {
            MatchError::NoMatch { closest } => closest,
            other => panic!("{other:?}"),
        };
        assert_eq!(closest[0], "health [<detail:detail>]");
        assert_eq!(
            closest[4],
            "osd blocklist <blocklistop:add|rm> <addr> [<expire:float>]"
        );
        // Words are the same: only the printing differs.
        assert_eq!(
            Value::Object(t.words_to_json(&words("health detail")).unwrap()),
            serde_json::json!({"prefix": "health", "detail": "detail"})
        );
        // `-h` drops words from the end until something matches; Pacific's
        // lists nothing.
        let help = t.help_text(&words("mon dump frob"), 80);
        assert_eq!(help, t.help_text(&words("mon dump"), 80));
        assert!(help.starts_with("mon dump [<epoch:int>]"), "{help}");
        assert_eq!(table().help_text(&words("mon dump frob"), 80), "");
        let all = t.help_text(&words("frob"), 80);
        assert_eq!(all.lines().count(), t.help_text(&[], 80).lines().count());
        assert!(all.contains("health [<detail:detail>]"), "{all}");
    }

    // Tentacle's signatures mark `key_type` keyword-only (a JSON bool, or
    // a string in other publishers).
    const KEYWORD_ONLY: &str = r#"{
      "cmd001": {"sig": ["auth", "get-or-create", {"name": "entity", "type": "CephString"}, {"n": "N", "name": "caps", "req": false, "type": "CephString"}, {"name": "key_type", "positional": false, "req": false, "type": "CephString"}], "help": "add auth", "module": "auth", "perm": "rwx", "flags": 0},
      "cmd002": {"sig": ["auth", "rotate", {"name": "entity", "type": "CephString"}, {"name": "key_type", "positional": "false", "req": "false", "type": "CephString"}, {"name": "n", "positional": "False", "req": "false", "type": "CephInt"}, {"name": "c", "positional": "true", "req": "false", "strings": "a|b", "type": "CephChoices"}, {"name": "ok", "positional": false, "req": false, "type": "CephBool"}, {"name": "who", "positional": false, "req": false, "type": "CephOsdName"}], "help": "rotate", "module": "auth", "perm": "rwx", "flags": 0}
    }"#;

    #[test]
    fn keyword_only_arguments() {
        let t = CommandTable::from_json(KEYWORD_ONLY.as_bytes()).unwrap();
        let usage: Vec<String> = t.commands.iter().map(|c| c.usage()).collect();
        assert_eq!(
            usage,
            [
                "auth get-or-create <entity> [<caps>...] [--key_type <value>]",
                "auth rotate <entity> [--key_type <value>] [--n <int>] [a|b] [--ok] [--who <id|osd.id>]"
            ]
        );
        assert_eq!(
            t.commands[1].usage_in(CliStyle::Quincy),
            "auth rotate <entity> [--key_type <value>] [--n <int>] [<c:a|b>] [--ok] [--who <id|osd.id>]"
        );
        let ok = |s: &str| Value::Object(t.words_to_json(&words(s)).unwrap());
        assert_eq!(
            ok("auth get-or-create client.x mon allow --key_type aes"),
            serde_json::json!({"prefix": "auth get-or-create", "entity": "client.x", "caps": ["mon", "allow"], "key_type": "aes"})
        );
        assert_eq!(
            ok("auth rotate client.x --key-type=aes --n 3"),
            serde_json::json!({"prefix": "auth rotate", "entity": "client.x", "key_type": "aes", "n": 3})
        );
        // By position: refused, even a confirmation-like flag.
        let err = |s: &str| t.words_to_json(&words(s)).unwrap_err().to_string();
        assert_eq!(
            err("auth rotate client.x aes"),
            "Invalid command: Unexpected argument 'aes'\nauth rotate <entity> [--key_type <value>] [--n <int>] [a|b] [--ok] [--who <id|osd.id>] :  rotate"
        );
        assert!(err("auth rotate client.x --force")
            .starts_with("Invalid command: Unexpected argument '--force'"));
    }

    #[test]
    fn read_only_commands_by_perm() {
        let t = CommandTable::from_json(
            br#"{"cmd000": {"sig": ["mon", "dump"], "help": "h", "module": "mon", "perm": "r", "flags": 0},
                 "cmd001": {"sig": ["osd", "pool", "create", {"name": "pool", "type": "CephPoolname"}], "help": "h", "module": "osd", "perm": "rw", "flags": 0},
                 "cmd002": {"sig": ["mgr", "fail"], "help": "h", "module": "mgr", "perm": "x", "flags": 0},
                 "cmd003": {"sig": ["two"], "help": "h", "module": "mon", "perm": "r", "flags": 0},
                 "cmd004": {"sig": ["two", {"name": "x", "type": "CephString"}], "help": "h", "module": "mon", "perm": "w", "flags": 0}}"#,
        )
        .unwrap();
        assert!(t.is_read_only("mon dump"));
        assert!(!t.is_read_only("osd pool create"));
        assert!(!t.is_read_only("mgr fail"));
        // One writing signature for the prefix is enough to wait.
        assert!(!t.is_read_only("two"));
        assert!(!t.is_read_only("not there"));
    }
}
