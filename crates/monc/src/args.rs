//! Command-line arguments in the `ceph` CLI's style: the same flag names,
//! `--flag value` and `--flag=value`, short flags glued to their value
//! (`-fjson`), flags anywhere among the command's words, `CEPH_ARGS`
//! prepended (split by `ceph_config::split_args`), and every Ceph
//! configuration option as `--name value` / `--name=value` (dashes and
//! underscores alike; on/off options also alone, `--name`, `--no-name`).
//! Flags we do not know that look like a command's own
//! (`--yes-i-really-mean-it`) stay with the command words.
//!
//! [`FLAGS`] is the one list of `monc`'s own flags: the parser, `--help`,
//! the man page and the bash completion are all made from it.

use std::path::PathBuf;
use std::time::Duration;

/// Output format asked with `-f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// No format sent: the monitor picks (plain text for most commands).
    #[default]
    Default,
    Plain,
    Json,
    JsonPretty,
    Xml,
    XmlPretty,
    /// Sent as is, as `ceph` (Pacific and later) sends it: the monitors
    /// have no YAML formatter and answer in plain text, daemons in pretty
    /// JSON, the manager's orchestrator modules in YAML.
    Yaml,
}

/// The `-f` values, as `ceph` lists them.
pub const FORMATS: &[&str] = &["json", "json-pretty", "xml", "xml-pretty", "plain", "yaml"];

impl Format {
    fn parse(s: &str) -> Result<Self, ArgError> {
        Ok(match s {
            "plain" => Format::Plain,
            "json" => Format::Json,
            "json-pretty" => Format::JsonPretty,
            "xml" => Format::Xml,
            "xml-pretty" => Format::XmlPretty,
            "yaml" => Format::Yaml,
            _ => {
                return Err(ArgError(format!(
                    "invalid format '{s}': choose {}",
                    FORMATS.join(", ")
                )))
            }
        })
    }

    /// The value for the command's `format` field, if any.
    pub fn wire_name(self) -> Option<&'static str> {
        match self {
            Format::Default => None,
            Format::Plain => Some("plain"),
            Format::Json => Some("json"),
            Format::JsonPretty => Some("json-pretty"),
            Format::Xml => Some("xml"),
            Format::XmlPretty => Some("xml-pretty"),
            Format::Yaml => Some("yaml"),
        }
    }
}

/// A bad command line; printed as is, exit code 22 (EINVAL) like `ceph`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArgError(pub String);

/// The least level of cluster log entries `-w` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WatchLevel {
    Debug,
    #[default]
    Info,
    Sec,
    Warn,
    Error,
}

impl WatchLevel {
    /// The subscription suffix (`log-info`, ...).
    pub fn name(self) -> &'static str {
        match self {
            WatchLevel::Debug => "debug",
            WatchLevel::Info => "info",
            WatchLevel::Sec => "sec",
            WatchLevel::Warn => "warn",
            WatchLevel::Error => "error",
        }
    }
}

/// Everything the command line says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    pub conf: Option<PathBuf>,
    pub cluster: Option<String>,
    pub name: Option<String>,
    pub id: Option<String>,
    pub keyring: Option<PathBuf>,
    pub mon_host: Option<String>,
    pub format: Format,
    pub connect_timeout: Option<Duration>,
    pub json_cmd: Option<String>,
    pub jsonl: bool,
    pub out_file: Option<PathBuf>,
    /// `-i FILE`; `-` is stdin.
    pub in_file: Option<PathBuf>,
    pub help: bool,
    pub version: bool,
    pub verbose: bool,
    /// `-w` or any `--watch-*` / `-W`: watch the cluster log.
    pub watch: bool,
    /// `-W` / `--watch-channel` (`cluster` unless given; `*` for all).
    pub watch_channel: Option<String>,
    /// `--watch-LEVEL`; with several, the one whose name sorts last wins,
    /// as in `ceph`.
    pub watch_level: Option<WatchLevel>,
    /// `key=value` config overrides from `--some_option=value`.
    pub overrides: Vec<(String, String)>,
    /// The monitor command's words, in order.
    pub words: Vec<String>,
}

/// What a flag does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Help,
    Version,
    Verbose,
    /// Accepted as `ceph` does; `monc` is concise already.
    Concise,
    Jsonl,
    Status,
    Watch,
    WatchLevel(WatchLevel),
    Conf,
    Cluster,
    Name,
    Id,
    Keyring,
    MonHost,
    Format,
    ConnectTimeout,
    Json,
    OutFile,
    InFile,
    WatchChannel,
}

/// How a flag's value is completed in the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// The flag takes no value.
    None,
    File,
    Formats,
    /// Anything (no completion).
    Text,
}

/// One of `monc`'s own flags.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Long spellings, the first being the one shown first.
    pub longs: &'static [&'static str],
    pub short: Option<char>,
    /// The value's placeholder in help, if the flag takes one.
    pub metavar: Option<&'static str>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub value: ValueKind,
    pub help: &'static str,
    pub action: Action,
}

const fn flag(
    longs: &'static [&'static str],
    short: Option<char>,
    metavar: Option<&'static str>,
    value: ValueKind,
    action: Action,
    help: &'static str,
) -> Flag {
    Flag {
        longs,
        short,
        metavar,
        value,
        help,
        action,
    }
}

use ValueKind as V;

/// Every flag of `monc`, in the order `--help` lists them.
pub const FLAGS: &[Flag] = &[
    flag(&["--help"], Some('h'), None, V::None, Action::Help,
        "this help and the cluster's commands, or those starting with the command words"),
    flag(&["--conf"], Some('c'), Some("FILE"), V::File, Action::Conf,
        "ceph.conf to read (default: $CEPH_CONF, /etc/ceph/$cluster.conf, ~/.ceph/$cluster.conf, ./$cluster.conf)"),
    flag(&["--in-file"], Some('i'), Some("FILE"), V::File, Action::InFile,
        "send FILE as the command's input data; - reads stdin"),
    flag(&["--out-file"], Some('o'), Some("FILE"), V::File, Action::OutFile,
        "write the command's output data to FILE; - is stdout"),
    flag(&["--id", "--user"], None, Some("ID"), V::Text, Action::Id,
        "client ID to authenticate as (client.ID)"),
    flag(&["--name"], Some('n'), Some("TYPE.ID"), V::Text, Action::Name,
        "entity to authenticate as (default client.admin)"),
    flag(&["--cluster"], None, Some("NAME"), V::Text, Action::Cluster,
        "cluster name (default ceph)"),
    flag(&["--keyring"], Some('k'), Some("FILE"), V::File, Action::Keyring,
        "keyring to read the key from"),
    flag(&["--mon-host", "--mon_host"], Some('m'), Some("ADDRS"), V::Text, Action::MonHost,
        "monitor addresses, as mon_host"),
    flag(&["--status"], Some('s'), None, V::None, Action::Status,
        "the cluster's status (the status command)"),
    flag(&["--watch"], Some('w'), None, V::None, Action::Watch,
        "the status, then the cluster log as it grows, until interrupted"),
    flag(&["--watch-debug"], None, None, V::None, Action::WatchLevel(WatchLevel::Debug),
        "watch debug entries and above"),
    flag(&["--watch-info"], None, None, V::None, Action::WatchLevel(WatchLevel::Info),
        "watch info entries and above (the default)"),
    flag(&["--watch-sec"], None, None, V::None, Action::WatchLevel(WatchLevel::Sec),
        "watch security entries and above"),
    flag(&["--watch-warn"], None, None, V::None, Action::WatchLevel(WatchLevel::Warn),
        "watch warnings and errors"),
    flag(&["--watch-error"], None, None, V::None, Action::WatchLevel(WatchLevel::Error),
        "watch errors"),
    flag(&["--watch-channel"], Some('W'), Some("CHANNEL"), V::Text, Action::WatchChannel,
        "watch this log channel (cluster, audit, cephadm, ... or '*' for all)"),
    flag(&["--version"], Some('v'), None, V::None, Action::Version,
        "print the version"),
    flag(&["--verbose"], None, None, V::None, Action::Verbose,
        "debug logging on stderr (RUST_LOG also works)"),
    flag(&["--concise"], None, None, V::None, Action::Concise,
        "accepted for ceph's sake; monc is concise already"),
    flag(&["--format"], Some('f'), Some("FORMAT"), V::Formats, Action::Format,
        "json, json-pretty, xml, xml-pretty, plain or yaml"),
    flag(&["--connect-timeout"], None, Some("SECS"), V::Text, Action::ConnectTimeout,
        "give up connecting after SECS (default client_mount_timeout)"),
    flag(&["--json"], None, Some("JSON"), V::Text, Action::Json,
        "the command as a JSON object ({\"prefix\": ...})"),
    flag(&["--jsonl"], None, None, V::None, Action::Jsonl,
        "one JSON object per command: cmd, retval, outs, outb, start, end"),
];

/// Commands `monc` runs itself rather than sending as words, for `--help`,
/// the man page and the completion: (name, synopsis, what it does).
pub const LOCAL_COMMANDS: &[(&str, &str, &str)] = &[
    ("tell", "tell TARGET COMMAND...",
        "send a command to one daemon: mon.ID, mon.*, osd.N, osd.*, mgr, mgr.NAME, mds.NAME or a PG id"),
    ("ping", "ping mon.ID|mon.*", "check that a monitor (or each) is alive"),
    ("pg", "pg PGID COMMAND...", "send a command to the PG's primary OSD (pg 2.0 query)"),
    ("daemon", "daemon NAME|PATH COMMAND...",
        "send a command over a daemon's local admin socket (TYPE.ID or the socket's path)"),
    ("watch", "watch", "the same as -w"),
    ("decode", "decode TYPE FILE",
        "decode a Ceph object from a file and print it as JSON (no cluster needed)"),
    ("osdmaptool", "osdmaptool MAPFILE [OPTIONS]",
        "read an OSD map from a file, as Ceph's osdmaptool (no cluster needed)"),
];

/// Ceph's configuration option names (see scripts/gen-ceph-options.sh),
/// one per line, ` bool` after the on/off ones; sorted.
const CEPH_OPTIONS: &str = include_str!("../data/ceph-options.txt");

/// Whether `name` (underscores) is a Ceph option, and whether it is an
/// on/off one.
fn ceph_option(name: &str) -> Option<bool> {
    // A binary search over the lines would need an index; a linear scan of
    // 2,200 short lines is a few microseconds and runs only for unknown flags.
    CEPH_OPTIONS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| match l.split_once(' ') {
            Some((n, kind)) if n == name => Some(kind == "bool"),
            None if l == name => Some(false),
            _ => None,
        })
}

/// Every Ceph option name, for the completion and the man page.
#[cfg_attr(not(test), allow(dead_code))]
pub fn ceph_option_names() -> impl Iterator<Item = &'static str> {
    CEPH_OPTIONS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(' ').next().unwrap_or(l))
}

fn find_long(flag: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.longs.contains(&flag))
}

fn find_short(c: char) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

/// How `ceph` reads an on/off value.
fn bool_value(v: &str) -> Option<&'static str> {
    match v {
        "true" | "1" => Some("true"),
        "false" | "0" => Some("false"),
        _ => None,
    }
}

impl Args {
    /// Parses `CEPH_ARGS` tokens followed by the process arguments (without
    /// the program name).
    pub fn parse(ceph_args: Vec<String>, argv: Vec<String>) -> Result<Args, ArgError> {
        let mut args = Args::default();
        let mut it = ceph_args.into_iter().chain(argv).peekable();
        let mut only_words = false;
        while let Some(tok) = it.next() {
            if only_words || !tok.starts_with('-') || tok == "-" {
                args.words.push(tok);
                continue;
            }
            if tok == "--" {
                only_words = true;
                continue;
            }
            let long = tok.starts_with("--");
            let (name, inline) = match tok.split_once('=') {
                Some((f, v)) if long => (f, Some(v.to_string())),
                _ => (tok.as_str(), None),
            };
            let known = if long {
                find_long(name)
            } else {
                name.chars().nth(1).and_then(find_short)
            };
            if let Some(f) = known {
                // A short flag may carry its value glued on (-fjson).
                let glued = (!long && tok.len() > 2).then(|| tok[2..].to_string());
                if f.metavar.is_none() {
                    if glued.is_some() || inline.is_some() {
                        return Err(ArgError(format!("{tok}: {name} takes no value")));
                    }
                    args.apply(f.action, String::new())?;
                    continue;
                }
                let value = match inline.or(glued) {
                    Some(v) => v,
                    None => it
                        .next()
                        .ok_or_else(|| ArgError(format!("{name} needs a value")))?,
                };
                args.apply(f.action, value)?;
                continue;
            }
            if long {
                let opt = name[2..].replace('-', "_");
                if let Some(is_bool) = ceph_option(&opt) {
                    let value = if !is_bool {
                        match inline {
                            Some(v) => v,
                            None => it
                                .next()
                                .ok_or_else(|| ArgError(format!("{name} needs a value")))?,
                        }
                    } else if let Some(v) = inline {
                        bool_value(&v)
                            .ok_or_else(|| {
                                ArgError(format!("{name}: '{v}' is not true, false, 1 or 0"))
                            })?
                            .to_string()
                    } else if let Some(v) = it.peek().and_then(|n| bool_value(n)) {
                        it.next();
                        v.to_string()
                    } else {
                        "true".to_string()
                    };
                    args.overrides.push((opt, value));
                    continue;
                }
                if let Some(off) = opt.strip_prefix("no_") {
                    if inline.is_none() && ceph_option(off) == Some(true) {
                        args.overrides.push((off.to_string(), "false".into()));
                        continue;
                    }
                }
            }
            // Unknown: a flag of the command itself (e.g. --yes-i-really-mean-it).
            args.words.push(tok);
        }
        // `-w` and its kin run the `watch` command (`monc watch` too).
        if args.words.first().map(String::as_str) == Some("watch") {
            args.watch = true;
        } else if args.watch {
            args.words.insert(0, "watch".into());
        }
        Ok(args)
    }

    fn apply(&mut self, action: Action, value: String) -> Result<(), ArgError> {
        match action {
            Action::Help => self.help = true,
            Action::Version => self.version = true,
            Action::Verbose => self.verbose = true,
            Action::Concise => {}
            Action::Jsonl => self.jsonl = true,
            Action::Status => self.words.push("status".into()),
            Action::Watch => self.watch = true,
            Action::WatchLevel(level) => {
                self.watch = true;
                if self.watch_level.is_none_or(|l| level.name() > l.name()) {
                    self.watch_level = Some(level);
                }
            }
            Action::WatchChannel => {
                self.watch = true;
                self.watch_channel = Some(value);
            }
            Action::Conf => self.conf = Some(value.into()),
            Action::Cluster => self.cluster = Some(value),
            Action::Name => self.name = Some(value),
            Action::Id => self.id = Some(value),
            Action::Keyring => self.keyring = Some(value.into()),
            Action::MonHost => self.mon_host = Some(value),
            Action::Format => self.format = Format::parse(&value)?,
            Action::ConnectTimeout => {
                let secs: f64 = value
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| {
                        ArgError(format!(
                            "--connect-timeout: '{value}' is not a number of seconds"
                        ))
                    })?;
                self.connect_timeout = Some(Duration::from_secs_f64(secs));
            }
            Action::Json => self.json_cmd = Some(value),
            Action::OutFile => self.out_file = Some(value.into()),
            Action::InFile => self.in_file = Some(value.into()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Args {
        Args::parse(vec![], s.split_whitespace().map(String::from).collect()).unwrap()
    }

    fn parse_err(s: &str) -> ArgError {
        Args::parse(vec![], s.split_whitespace().map(String::from).collect()).unwrap_err()
    }

    #[test]
    fn flags_among_words() {
        let a = parse("mon dump -f json -c /x/ceph.conf --id admin");
        assert_eq!(a.words, ["mon", "dump"]);
        assert_eq!(a.format, Format::Json);
        assert_eq!(
            a.conf.as_deref(),
            Some(std::path::Path::new("/x/ceph.conf"))
        );
        assert_eq!(a.id.as_deref(), Some("admin"));
    }

    #[test]
    fn inline_and_glued_values() {
        let a = parse("--format=json-pretty -iin.bin -m 127.0.0.1:3300 --user=bob status");
        assert_eq!(a.format, Format::JsonPretty);
        assert_eq!(a.id.as_deref(), Some("bob"));
        assert_eq!(a.in_file.as_deref(), Some(std::path::Path::new("in.bin")));
        assert_eq!(a.mon_host.as_deref(), Some("127.0.0.1:3300"));
        assert_eq!(a.words, ["status"]);
        let a = parse("-Waudit -o- --keyring=/k mon dump");
        assert_eq!(a.watch_channel.as_deref(), Some("audit"));
        assert_eq!(a.out_file.as_deref(), Some(std::path::Path::new("-")));
        assert_eq!(a.keyring.as_deref(), Some(std::path::Path::new("/k")));
    }

    #[test]
    fn command_flags_stay_with_words() {
        let a = parse("osd pool rm p p --yes-i-really-really-mean-it --not-an-option=1");
        assert_eq!(
            a.words,
            [
                "osd",
                "pool",
                "rm",
                "p",
                "p",
                "--yes-i-really-really-mean-it",
                "--not-an-option=1"
            ]
        );
    }

    #[test]
    fn ceph_args_come_first_and_can_be_overridden() {
        let env = vec![
            "--id".to_string(),
            "a b".into(),
            "--connect-timeout".into(),
            "2.5".into(),
            "--debug_ms=1".into(),
        ];
        let a = Args::parse(env, vec!["--id".into(), "c".into(), "health".into()]).unwrap();
        assert_eq!(a.id.as_deref(), Some("c"));
        assert_eq!(a.connect_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(a.overrides, [("debug_ms".to_string(), "1".to_string())]);
        assert_eq!(a.words, ["health"]);
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse_err("-f toml").0.contains("toml"));
        assert!(parse_err("--conf").0.contains("needs a value"));
        assert!(parse_err("--connect-timeout -1").0.contains("-1"));
        assert!(parse_err("--connect-timeout soon").0.contains("soon"));
        assert!(parse_err("--debug_ms").0.contains("needs a value"));
        assert!(parse_err("--ms_crc_data=yes").0.contains("yes"));
        assert!(parse_err("--jsonl=1").0.contains("no value"));
    }

    #[test]
    fn yaml_is_a_format() {
        assert_eq!(parse("-f yaml status").format.wire_name(), Some("yaml"));
        assert_eq!(parse("--format=yaml").format, Format::Yaml);
    }

    #[test]
    fn every_ceph_option_both_ways() {
        let a = parse(
            "--debug_ms=0 --debug-monc 5/5 --ms_mon_client_mode secure \
             --mon-client-ping-timeout=3 --rados_osd_op_timeout 4 status",
        );
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            a.overrides,
            [
                kv("debug_ms", "0"),
                kv("debug_monc", "5/5"),
                kv("ms_mon_client_mode", "secure"),
                kv("mon_client_ping_timeout", "3"),
                kv("rados_osd_op_timeout", "4"),
            ]
        );
        assert_eq!(a.words, ["status"]);
    }

    #[test]
    fn on_off_options_as_ceph_reads_them() {
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        // Alone: on; followed by a boolean word: that value, which is
        // taken; followed by anything else: on, and the word stays.
        let a = parse("--ms_crc_data mon dump");
        assert_eq!(a.overrides, [kv("ms_crc_data", "true")]);
        assert_eq!(a.words, ["mon", "dump"]);
        let a = parse("--ms_crc_data false --ms-crc-header 1 mon dump");
        assert_eq!(
            a.overrides,
            [kv("ms_crc_data", "false"), kv("ms_crc_header", "true")]
        );
        assert_eq!(a.words, ["mon", "dump"]);
        let a = parse("--ms-crc-data=0 --no-ms_crc_header status");
        assert_eq!(
            a.overrides,
            [kv("ms_crc_data", "false"), kv("ms_crc_header", "false")]
        );
        // `--no-` only for on/off options.
        assert_eq!(
            parse("--no-debug_ms status").words,
            ["--no-debug_ms", "status"]
        );
    }

    #[test]
    fn watch_flags() {
        let a = parse("-w");
        assert!(a.watch);
        assert_eq!(a.words, ["watch"]);
        let a = parse("--watch-channel=audit --watch-warn");
        assert_eq!(a.words, ["watch"]);
        assert_eq!(a.watch_channel.as_deref(), Some("audit"));
        assert_eq!(a.watch_level, Some(WatchLevel::Warn));
        let a = parse("-W * --watch-debug");
        assert_eq!(a.watch_channel.as_deref(), Some("*"));
        assert_eq!(a.watch_level, Some(WatchLevel::Debug));
        let a = parse("watch --watch-sec");
        assert_eq!(a.words, ["watch"]);
        assert_eq!(a.watch_level, Some(WatchLevel::Sec));
        // Several levels: the last by name, whatever the order (ceph's way).
        assert_eq!(
            parse("--watch-warn --watch-debug").watch_level,
            Some(WatchLevel::Warn)
        );
        assert_eq!(
            parse("--watch-info -w --watch-error").watch_level,
            Some(WatchLevel::Info)
        );
        assert!(!parse("mon dump").watch);
    }

    #[test]
    fn stdin_input_and_status() {
        let a = parse("-i - config-key set k -s");
        assert_eq!(a.in_file.as_deref(), Some(std::path::Path::new("-")));
        assert_eq!(a.words, ["config-key", "set", "k", "status"]);
        let a = parse("-- -f json");
        assert_eq!(a.words, ["-f", "json"]);
    }

    #[test]
    fn option_table_is_sorted_and_clean() {
        let names: Vec<&str> = ceph_option_names().collect();
        assert!(names.len() > 1500, "{}", names.len());
        assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert!(names.iter().all(|n| !n.contains('-') && !n.contains(' ')));
        assert_eq!(ceph_option("debug_ms"), Some(false));
        assert_eq!(ceph_option("ms_crc_data"), Some(true));
        assert_eq!(ceph_option("yes_i_really_mean_it"), None);
    }

    #[test]
    fn flag_table_has_no_clashes() {
        let mut seen = std::collections::BTreeSet::new();
        for f in FLAGS {
            for l in f.longs {
                assert!(l.starts_with("--"));
                assert!(seen.insert(l.to_string()), "{l} twice");
            }
            if let Some(c) = f.short {
                assert!(seen.insert(format!("-{c}")), "-{c} twice");
            }
            assert_eq!(
                f.metavar.is_some(),
                f.value != ValueKind::None,
                "{:?}",
                f.longs
            );
        }
    }
}
