//! Command-line arguments in the `ceph` CLI's style: the same flag names,
//! `--flag value` and `--flag=value`, short flags glued to their value
//! (`-fjson`), flags anywhere among the command's words, and `CEPH_ARGS`
//! prepended (split by `ceph_config::split_args`). Flags we do not know that look like a command's own
//! (`--yes-i-really-mean-it`) stay with the command words.

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
}

impl Format {
    fn parse(s: &str) -> Result<Self, ArgError> {
        Ok(match s {
            "plain" => Format::Plain,
            "json" => Format::Json,
            "json-pretty" => Format::JsonPretty,
            "xml" => Format::Xml,
            "xml-pretty" => Format::XmlPretty,
            _ => {
                return Err(ArgError(format!(
                    "invalid format '{s}': choose json, json-pretty, xml, xml-pretty or plain"
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
        }
    }
}

/// A bad command line; printed as is, exit code 22 (EINVAL) like `ceph`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArgError(pub String);

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
    pub in_file: Option<PathBuf>,
    pub help: bool,
    pub version: bool,
    pub verbose: bool,
    /// `key=value` config overrides from `--some_option=value`.
    pub overrides: Vec<(String, String)>,
    /// The monitor command's words, in order.
    pub words: Vec<String>,
}

/// Flags that take a value: (long names, short name).
const VALUE_FLAGS: &[(&[&str], Option<char>)] = &[
    (&["--conf"], Some('c')),
    (&["--cluster"], None),
    (&["--name"], Some('n')),
    (&["--id", "--user"], None),
    (&["--keyring"], Some('k')),
    (&["--mon-host", "--mon_host"], Some('m')),
    (&["--format"], Some('f')),
    (&["--connect-timeout"], None),
    (&["--json"], None),
    (&["--out-file"], Some('o')),
    // `-i` is the input file, as in `ceph` (not the client ID).
    (&["--in-file"], Some('i')),
];

/// Config options that may be set on the command line as `--name value`
/// (as `ceph` accepts any option); only the ones a monitor client reads.
const CONFIG_FLAGS: &[&str] = &[
    "auth_client_required",
    "client_mount_timeout",
    "mon_client_hunt_interval",
    "mon_client_hunt_parallel",
    "mon_client_ping_interval",
    "mon_client_ping_timeout",
    "ms_client_mode",
    "ms_mon_client_mode",
    "rados_mon_op_timeout",
    "keyfile",
    "key",
];

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
            let (flag, inline) = match tok.split_once('=') {
                Some((f, v)) if tok.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (tok.clone(), None),
            };
            match flag.as_str() {
                "-h" | "--help" => {
                    args.help = true;
                    continue;
                }
                "-v" | "--version" => {
                    args.version = true;
                    continue;
                }
                "--verbose" => {
                    args.verbose = true;
                    continue;
                }
                "--jsonl" => {
                    args.jsonl = true;
                    continue;
                }
                "-s" | "--status" => {
                    args.words.push("status".into());
                    continue;
                }
                "-w" | "--watch" => {
                    args.words.insert(0, "watch".into());
                    continue;
                }
                _ => {}
            }
            if let Some(canon) = value_flag(&flag) {
                let value = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .ok_or_else(|| ArgError(format!("{flag} needs a value")))?,
                };
                args.set(canon, value)?;
                continue;
            }
            // A short flag glued to its value: -fjson, -iadmin.
            if !flag.starts_with("--") && flag.len() > 2 {
                let c = flag.chars().nth(1).unwrap_or('-');
                if let Some(canon) = short_flag(c) {
                    args.set(canon, flag[2..].to_string())?;
                    continue;
                }
            }
            let opt = flag.trim_start_matches('-').replace('-', "_");
            if flag.starts_with("--") && CONFIG_FLAGS.contains(&opt.as_str()) {
                let value = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .ok_or_else(|| ArgError(format!("{flag} needs a value")))?,
                };
                args.overrides.push((opt, value));
                continue;
            }
            // Unknown: a flag of the command itself (e.g. --yes-i-really-mean-it).
            args.words.push(tok);
        }
        Ok(args)
    }

    fn set(&mut self, canon: &str, value: String) -> Result<(), ArgError> {
        match canon {
            "--conf" => self.conf = Some(value.into()),
            "--cluster" => self.cluster = Some(value),
            "--name" => self.name = Some(value),
            "--id" => self.id = Some(value),
            "--keyring" => self.keyring = Some(value.into()),
            "--mon-host" => self.mon_host = Some(value),
            "--format" => self.format = Format::parse(&value)?,
            "--connect-timeout" => {
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
            "--json" => self.json_cmd = Some(value),
            "--out-file" => self.out_file = Some(value.into()),
            "--in-file" => self.in_file = Some(value.into()),
            _ => unreachable!("unknown canonical flag {canon}"),
        }
        Ok(())
    }
}

fn value_flag(flag: &str) -> Option<&'static str> {
    for (longs, short) in VALUE_FLAGS {
        if longs.contains(&flag) {
            return Some(longs[0]);
        }
        if let Some(c) = short {
            if flag.len() == 2 && flag.starts_with('-') && flag.ends_with(*c) {
                return Some(longs[0]);
            }
        }
    }
    None
}

fn short_flag(c: char) -> Option<&'static str> {
    VALUE_FLAGS
        .iter()
        .find(|(_, s)| *s == Some(c))
        .map(|(longs, _)| longs[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Args {
        Args::parse(vec![], s.split_whitespace().map(String::from).collect()).unwrap()
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
    }

    #[test]
    fn command_flags_stay_with_words() {
        let a = parse("osd pool rm p p --yes-i-really-really-mean-it");
        assert_eq!(
            a.words,
            [
                "osd",
                "pool",
                "rm",
                "p",
                "p",
                "--yes-i-really-really-mean-it"
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
        ];
        let a = Args::parse(env, vec!["--id".into(), "c".into(), "health".into()]).unwrap();
        assert_eq!(a.id.as_deref(), Some("c"));
        assert_eq!(a.connect_timeout, Some(Duration::from_millis(2500)));
    }

    #[test]
    fn bad_values_are_errors() {
        let e = Args::parse(vec![], vec!["-f".into(), "yaml".into()]).unwrap_err();
        assert!(e.0.contains("yaml"));
        assert!(Args::parse(vec![], vec!["--conf".into()]).is_err());
        assert!(Args::parse(vec![], vec!["--connect-timeout".into(), "-1".into()]).is_err());
    }

    #[test]
    fn config_overrides() {
        let a = parse("--ms_mon_client_mode secure --mon-client-ping-timeout=3 status");
        assert_eq!(
            a.overrides,
            [
                ("ms_mon_client_mode".to_string(), "secure".to_string()),
                ("mon_client_ping_timeout".to_string(), "3".to_string())
            ]
        );
    }
}
