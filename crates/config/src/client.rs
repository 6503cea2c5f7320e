//! [`ClientConfig`]: everything a monitor client needs, gathered from the
//! built-in defaults, the environment, the conf file and the command line,
//! in Ceph's order of precedence (later wins):
//!
//! 1. built-in defaults (Ceph 16.2.15's),
//! 2. `CEPH_KEYRING` (Ceph's "env" level, below the file),
//! 3. the conf file: `[TYPE.ID]` over `[TYPE]` over `[global]`,
//! 4. the command line: [`ConfigSources::overrides`], then the dedicated
//!    `keyring` and `mon_host` fields.
//!
//! `CEPH_ARGS` is not read here: split it with [`crate::split_args`] and put
//! its words in front of the command line before parsing that.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ceph_types::{EntityAddrVec, EntityName, EntityType};

use crate::conffile::{ConfFile, ConfLoadError, SECRET_OPTIONS};
use crate::meta::{expand_meta, short_hostname, MetaVars};
use crate::monhost::{
    mon_addrs_from_sections, parse_mon_host_with, system_resolver, MonHostError, Resolver,
};
use crate::values::{
    parse_auth_methods, parse_float, parse_float_secs, parse_int, parse_modes, parse_secs,
    parse_uint, AuthMethod, ConnectionMode, ValueError,
};

/// Conf files tried when neither `-c` nor `CEPH_CONF` names one, in Ceph's
/// order. (Ceph lists `$data_dir/config` first, but skips it for clients.)
pub const DEFAULT_CONF_SEARCH: &str =
    "/etc/ceph/$cluster.conf, $home/.ceph/$cluster.conf, $cluster.conf";

/// Keyrings tried when no `keyring` is configured: the first that can be
/// opened is used.
pub const DEFAULT_KEYRING_SEARCH: &str =
    "/etc/ceph/$cluster.$name.keyring,/etc/ceph/$cluster.keyring,/etc/ceph/keyring,/etc/ceph/keyring.bin";

/// Largest `keyfile` read: a base64 key is about 40 bytes.
const MAX_KEYFILE_BYTES: u64 = 64 << 10;

/// Built-in defaults (Ceph 16.2.15) of options read as text, not typed in
/// [`ClientConfig`]: ones other values refer to as `$option`, and the
/// keyring search. The typed options' defaults are declared with them.
const OTHER_DEFAULTS: &[(&str, &str)] = &[
    ("keyring", DEFAULT_KEYRING_SEARCH),
    ("mon_dns_srv_name", "ceph-mon"),
    ("run_dir", "/var/run/ceph"),
];

/// Every built-in default: the typed options' and the others'.
fn defaults() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    TUNABLE_DEFAULTS.iter().chain(OTHER_DEFAULTS)
}

/// Options the monitors may not set for a client: where to find the
/// monitors and the keys, and the identity of the cluster. Ceph flags
/// these `no_mon_update` (its monitors refuse to store them, too).
const LOCAL_ONLY_OPTIONS: &[&str] = &[
    "admin_socket",
    "chdir",
    "fsid",
    "key",
    "keyfile",
    "keyring",
    "mon_dns_srv_name",
    "mon_host",
    "mon_host_override",
    "run_dir",
];

/// Where the value in effect for an option came from, lowest precedence
/// first (as Ceph ranks its configuration levels): a value from a higher
/// source hides the values of lower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OptionSource {
    /// The built-in default.
    Default,
    /// The monitors' central configuration (`ceph config set client ...`),
    /// applied with [`ClientConfig::with_mon_values`].
    Mon,
    /// The environment (`CEPH_KEYRING`).
    Env,
    /// The conf file.
    File,
    /// The command line (or [`ConfigSources`] fields set by a program).
    CommandLine,
}

/// A central-configuration value that was not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredMonValue {
    /// The option, in normal form.
    pub option: String,
    /// Why it was left out (never the value itself, which may be private).
    pub reason: String,
}

/// One option's unexpanded value and its source.
#[derive(Debug, Clone)]
struct Layered {
    raw: String,
    source: OptionSource,
}

/// The environment variables configuration reads. Tests build one by hand;
/// [`Environment::from_process`] reads the real one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `CEPH_CONF`: conf file search list used when `-c` is not given.
    pub ceph_conf: Option<String>,
    /// `CEPH_KEYRING`: keyring search list, below the conf file in precedence.
    pub ceph_keyring: Option<String>,
    /// `HOME`, for `$home`.
    pub home: Option<String>,
}

impl Environment {
    /// Reads `CEPH_CONF`, `CEPH_KEYRING` and `HOME` (non-UTF-8 values are
    /// treated as unset).
    pub fn from_process() -> Self {
        Environment {
            ceph_conf: std::env::var("CEPH_CONF").ok(),
            ceph_keyring: std::env::var("CEPH_KEYRING").ok(),
            home: std::env::var("HOME").ok(),
        }
    }
}

/// What the command line said; everything is optional. `Debug` redacts the
/// value of a `key` override.
#[derive(Clone, Default)]
pub struct ConfigSources {
    /// `-c`: a conf file, or a comma-separated list to search. A missing file
    /// here is an error, unlike in the default search.
    pub conf_path: Option<String>,
    /// `--cluster` (default: from the `-c` file name `NAME.conf`, else `ceph`).
    pub cluster: Option<String>,
    /// `-n` / `--name`: `TYPE.ID`. Wins over `id`.
    pub name: Option<String>,
    /// `-i` / `--id`: the ID of a `client.ID`.
    pub id: Option<String>,
    /// `-k` / `--keyring`: keyring search list.
    pub keyring: Option<String>,
    /// `-m`: monitor addresses, as in `mon_host`.
    pub mon_host: Option<String>,
    /// Any other `--option value` pairs, in command-line order (names in any
    /// spelling: `mon-client-hunt-parallel`, `mon client hunt parallel`).
    pub overrides: Vec<(String, String)>,
    /// The environment; `None` reads the process's.
    pub env: Option<Environment>,
}

impl fmt::Debug for ConfigSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let overrides: Vec<(&str, &str)> = self
            .overrides
            .iter()
            .map(|(k, v)| {
                if SECRET_OPTIONS.contains(&ConfFile::normalize_key(k).as_str()) {
                    (k.as_str(), "<redacted>")
                } else {
                    (k.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("ConfigSources")
            .field("conf_path", &self.conf_path)
            .field("cluster", &self.cluster)
            .field("name", &self.name)
            .field("id", &self.id)
            .field("keyring", &self.keyring)
            .field("mon_host", &self.mon_host)
            .field("overrides", &overrides)
            .field("env", &self.env)
            .finish()
    }
}

/// Options besides the dedicated flags that [`ConfigSources::from_args`]
/// takes as `--OPTION VALUE`.
const EXTRA_CLI_OPTIONS: &[&str] = &["auth_supported", "fsid", "key", "keyfile", "mon_host"];

/// A command line that [`ConfigSources::from_args`] could not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("option {flag} needs a value")]
pub struct MissingValue {
    /// The flag as written.
    pub flag: String,
}

impl ConfigSources {
    /// Takes Ceph's generic client flags out of `args` and returns them with
    /// the arguments left over, in order: `-c`/`--conf`, `--cluster`,
    /// `-n`/`--name`, `-i`/`--id`, `-k`/`--keyring`, `-K`/`--keyfile`,
    /// `-m`/`--mon-host`, and `--OPTION VALUE` for the options this crate
    /// knows (those of [`ClientConfig`] and a few more). Long flags take
    /// `--flag value` or `--flag=value`, with `-` and `_` alike. Parsing
    /// stops at `--`, which is left in the rest. Put the words of
    /// `CEPH_ARGS` ([`crate::ceph_args_from_env`]) first, as Ceph does.
    ///
    /// ```
    /// use ceph_config::ConfigSources;
    /// let args = ["-c", "/etc/ceph/x.conf", "--id=admin", "mon", "dump", "--mon-client-hunt-parallel", "2"];
    /// let (src, rest) = ConfigSources::from_args(args.iter().map(|s| s.to_string())).unwrap();
    /// assert_eq!(src.conf_path.as_deref(), Some("/etc/ceph/x.conf"));
    /// assert_eq!(src.id.as_deref(), Some("admin"));
    /// assert_eq!(src.overrides, [("mon_client_hunt_parallel".to_string(), "2".to_string())]);
    /// assert_eq!(rest, ["mon", "dump"]);
    /// ```
    pub fn from_args(
        args: impl IntoIterator<Item = String>,
    ) -> Result<(ConfigSources, Vec<String>), MissingValue> {
        let mut sources = ConfigSources::default();
        let mut rest = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--" {
                rest.push(arg);
                rest.extend(args.by_ref());
                break;
            }
            // `flag` is the long name in normal form, or the short flag.
            let (flag, inline) = if let Some(long) = arg.strip_prefix("--") {
                match long.split_once('=') {
                    Some((f, v)) => (ConfFile::normalize_key(f), Some(v.to_string())),
                    None => (ConfFile::normalize_key(long), None),
                }
            } else if matches!(arg.as_str(), "-c" | "-n" | "-i" | "-k" | "-K" | "-m") {
                (arg.clone(), None)
            } else {
                rest.push(arg);
                continue;
            };
            let known_option =
                defaults().any(|(k, _)| *k == flag) || EXTRA_CLI_OPTIONS.contains(&flag.as_str());
            let slot = match flag.as_str() {
                "-c" | "conf" => Some(&mut sources.conf_path),
                "cluster" => Some(&mut sources.cluster),
                "-n" | "name" => Some(&mut sources.name),
                "-i" | "id" => Some(&mut sources.id),
                "-k" | "keyring" => Some(&mut sources.keyring),
                "-m" | "mon_host" => Some(&mut sources.mon_host),
                _ => None,
            };
            if slot.is_none() && !known_option && flag != "-K" {
                // Not ours: the caller's own flag.
                rest.push(arg);
                continue;
            }
            let value = match inline {
                Some(v) => v,
                None => args
                    .next()
                    .ok_or_else(|| MissingValue { flag: arg.clone() })?,
            };
            match slot {
                Some(slot) => *slot = Some(value),
                None if flag == "-K" => sources.overrides.push(("keyfile".into(), value)),
                None => sources.overrides.push((flag, value)),
            }
        }
        Ok((sources, rest))
    }
}

/// A secret (a base64 CephX key). `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; keep it out of logs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A conf file was found but could not be read or parsed.
    #[error("config file: {0}")]
    Conf(#[from] ConfLoadError),
    /// `-c` named files of which none exists.
    #[error("unable to open a config file from the search list {0}")]
    ConfNotFound(String),
    /// The entity name is not `TYPE.ID`.
    #[error("bad entity name {name:?}: {reason}")]
    BadName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An option has a value its type does not allow.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// `mon_host` or a `mon addr` could not be used.
    #[error(transparent)]
    MonHost(#[from] MonHostError),
    /// Neither `mon_host`, `-m` nor any `[mon.NAME]` `mon addr` names a monitor.
    #[error("no monitors specified to connect to (set mon_host in the config file or use -m)")]
    NoMonitors,
    /// The `keyfile` could not be read.
    #[error("cannot read keyfile {path}: {source}")]
    Keyfile {
        /// The keyfile path.
        path: String,
        /// The read error.
        #[source]
        source: io::Error,
    },
}

/// Declares [`ClientConfig`]: its plain fields as written, and each typed
/// option once, with its type, its built-in default and its parser. From
/// that one list come the option's field, its entry in
/// [`TUNABLE_DEFAULTS`], its parsing ([`Tunables::from_values`]) and its
/// replacement when central values arrive ([`ClientConfig::install`]).
macro_rules! client_config {
    (
        $(#[$attr:meta])*
        pub struct ClientConfig {
            fields { $( $(#[$fattr:meta])* $fvis:vis $field:ident: $fty:ty, )* }
            typed { $( $(#[$oattr:meta])* $option:ident: $oty:ty = $default:expr, $parse:path; )* }
            state { $( $(#[$sattr:meta])* $state:ident: $sty:ty, )* }
        }
    ) => {
        $(#[$attr])*
        pub struct ClientConfig {
            $( $(#[$fattr])* $fvis $field: $fty, )*
            $( $(#[$oattr])* pub $option: $oty, )*
            $( $(#[$sattr])* $state: $sty, )*
        }

        /// Built-in defaults (Ceph 16.2.15) of the typed options.
        const TUNABLE_DEFAULTS: &[(&str, &str)] = &[ $( (stringify!($option), $default), )* ];

        /// The typed options, parsed from expanded values.
        struct Tunables {
            $( $option: $oty, )*
        }

        impl Tunables {
            fn from_values(values: &BTreeMap<String, String>) -> Result<Self, ValueError> {
                Ok(Tunables {
                    $( $option: $parse(stringify!($option), values)?, )*
                })
            }
        }

        /// The fields of a [`ClientConfig`] that are not typed options.
        struct Untyped {
            $( $field: $fty, )*
            $( $state: $sty, )*
        }

        impl ClientConfig {
            fn assemble(untyped: Untyped, tunables: Tunables) -> Self {
                let Untyped { $( $field, )* $( $state, )* } = untyped;
                let Tunables { $( $option, )* } = tunables;
                ClientConfig {
                    $( $field, )*
                    $( $option, )*
                    $( $state, )*
                }
            }

            /// Replaces the typed options.
            fn install(&mut self, tunables: Tunables) {
                $( self.$option = tunables.$option; )*
            }
        }
    };
}

/// An option's expanded text, empty when it has none.
fn text<'a>(values: &'a BTreeMap<String, String>, option: &str) -> &'a str {
    values.get(option).map(String::as_str).unwrap_or("")
}

// The typed options' parsers, as `client_config!` calls them.
fn float(option: &str, values: &BTreeMap<String, String>) -> Result<f64, ValueError> {
    parse_float(option, text(values, option))
}
fn float_secs(option: &str, values: &BTreeMap<String, String>) -> Result<Duration, ValueError> {
    parse_float_secs(option, text(values, option))
}
fn secs(option: &str, values: &BTreeMap<String, String>) -> Result<Duration, ValueError> {
    parse_secs(option, text(values, option))
}
fn uint(option: &str, values: &BTreeMap<String, String>) -> Result<u64, ValueError> {
    parse_uint(option, text(values, option))
}
fn int(option: &str, values: &BTreeMap<String, String>) -> Result<i64, ValueError> {
    parse_int(option, text(values, option))
}
fn modes(
    option: &str,
    values: &BTreeMap<String, String>,
) -> Result<Vec<ConnectionMode>, ValueError> {
    parse_modes(option, text(values, option))
}
/// `auth_supported`, when set, replaces the option, as in Ceph.
fn auth_methods(
    option: &str,
    values: &BTreeMap<String, String>,
) -> Result<Vec<AuthMethod>, ValueError> {
    match text(values, "auth_supported").trim() {
        "" => parse_auth_methods(option, text(values, option)),
        supported => parse_auth_methods("auth_supported", supported),
    }
}

client_config! {
    /// The configuration a monitor client runs with.
    ///
    /// ```no_run
    /// use ceph_config::{ClientConfig, ConfigSources};
    /// let cfg = ClientConfig::load(ConfigSources {
    ///     conf_path: Some("/etc/ceph/ceph.conf".into()),
    ///     id: Some("admin".into()),
    ///     ..Default::default()
    /// })?;
    /// println!("{} talks to {} monitors", cfg.name, cfg.mon_addrs.len());
    /// # Ok::<(), ceph_config::ConfigError>(())
    /// ```
    #[derive(Debug, Clone)]
    pub struct ClientConfig {
        fields {
            /// Cluster name (`$cluster`).
            pub cluster: String,
            /// Who we authenticate as.
            pub name: EntityName,
            /// The conf file that was read, if any.
            pub conf_path: Option<PathBuf>,
            /// One address vector per initial monitor.
            pub mon_addrs: Vec<EntityAddrVec>,
            /// The monitors DNS SRV records named (their names, priorities
            /// and weights; `mon_addrs` holds their addresses in the same
            /// order), when neither `mon_host`, `-m` nor a `[mon.NAME]`
            /// section did.
            pub mon_srv: Vec<crate::SrvMon>,
            /// The first keyring of the search list that can be opened.
            pub keyring_path: Option<PathBuf>,
            /// The keyring search list, expanded (for "no keyring found" messages).
            pub keyring_search: Vec<PathBuf>,
            /// A key given directly by `key` or by the contents of `keyfile` (which
            /// wins, as in Ceph); used in place of a keyring entry.
            pub key: Option<Secret>,
        }
        typed {
            /// First wait before trying another monitor.
            mon_client_hunt_interval: Duration = "3", float_secs;
            /// Factor applied to the hunt interval after each failed round.
            mon_client_hunt_interval_backoff: f64 = "1.5", float;
            /// Lower bound of the hunt interval, as a multiple of the base.
            mon_client_hunt_interval_min_multiple: f64 = "1", float;
            /// Upper bound of the hunt interval, as a multiple of the base.
            mon_client_hunt_interval_max_multiple: f64 = "10", float;
            /// Monitors contacted at once while hunting.
            mon_client_hunt_parallel: u64 = "3", uint;
            /// Keepalive period once connected.
            mon_client_ping_interval: Duration = "10", float_secs;
            /// Silence after which the monitor session is considered dead.
            mon_client_ping_timeout: Duration = "30", float_secs;
            /// How often queued log entries are sent.
            mon_client_log_interval: Duration = "1", float_secs;
            /// Retries of a command sent to one specific monitor.
            mon_client_directed_command_retry: i64 = "2", int;
            /// Time allowed to authenticate and get the first maps.
            client_mount_timeout: Duration = "300", secs;
            /// Timeout of monitor operations; zero means none.
            rados_mon_op_timeout: Duration = "0", secs;
            /// Connection modes offered to any peer, preferred first.
            ms_client_mode: Vec<ConnectionMode> = "crc secure", modes;
            /// Connection modes offered to monitors, preferred first.
            ms_mon_client_mode: Vec<ConnectionMode> = "secure crc", modes;
            /// Authentication methods we accept, preferred first (`auth_supported`
            /// replaces this when set, as in Ceph).
            auth_client_required: Vec<AuthMethod> = "cephx, none", auth_methods;
        }
        state {
            /// Every option value in effect, metavariables expanded (secrets left out).
            values: BTreeMap<String, String>,
            /// The unexpanded values and their sources (secrets left out).
            layers: BTreeMap<String, Layered>,
            /// Metavariables, for expanding central values later.
            vars: MetaVars,
        }
    }
}

impl Layered {
    fn new(raw: &str, source: OptionSource) -> Self {
        Layered {
            raw: raw.to_string(),
            source,
        }
    }
}

/// An option's raw value for `$option` expansion; secrets are never copied
/// into another, visible option.
fn visible_raw(layers: &BTreeMap<String, Layered>, name: &str) -> Option<String> {
    if SECRET_OPTIONS.contains(&name) {
        None
    } else {
        layers.get(name).map(|l| l.raw.clone())
    }
}

/// Every option's value with metavariables expanded, secrets left out.
fn expand_all(layers: &BTreeMap<String, Layered>, vars: &MetaVars) -> BTreeMap<String, String> {
    let lookup = |n: &str| visible_raw(layers, n);
    layers
        .iter()
        .filter(|(k, _)| !SECRET_OPTIONS.contains(&k.as_str()))
        .map(|(k, l)| (k.clone(), expand_meta(&l.raw, vars, &lookup)))
        .collect()
}

/// Puts an option back to its built-in default, or unsets it if it has none.
fn revert_to_default(layers: &mut BTreeMap<String, Layered>, option: &str) {
    match defaults().find(|(k, _)| *k == option) {
        Some((_, v)) => {
            layers.insert(option.to_string(), Layered::new(v, OptionSource::Default));
        }
        None => {
            layers.remove(option);
        }
    }
}

impl ClientConfig {
    /// Loads configuration, resolving monitor host names with the system
    /// resolver.
    pub fn load(sources: ConfigSources) -> Result<Self, ConfigError> {
        Self::load_with_resolver(sources, &system_resolver)
    }

    /// [`ClientConfig::load`] with a chosen host-name resolver.
    pub fn load_with_resolver(
        sources: ConfigSources,
        resolve: Resolver<'_>,
    ) -> Result<Self, ConfigError> {
        let env = sources
            .env
            .clone()
            .unwrap_or_else(Environment::from_process);
        let name = entity_name(&sources)?;
        let mut vars = MetaVars {
            cluster: sources.cluster.clone().unwrap_or_else(|| "ceph".into()),
            entity_type: name.ty.to_string(),
            id: name.id.clone(),
            host: short_hostname(),
            pid: std::process::id(),
            home: env.home.clone().unwrap_or_default(),
        };

        let (conf, conf_path) = find_conf(&sources, &env, &vars)?;
        if sources.cluster.is_none() && sources.conf_path.is_some() {
            if let Some(path) = &conf_path {
                vars.cluster = cluster_from_conf_path(path);
            }
        }

        // Raw values with their sources, lowest precedence first.
        let mut layers: BTreeMap<String, Layered> = defaults()
            .map(|(k, v)| (k.to_string(), Layered::new(v, OptionSource::Default)))
            .collect();
        if let Some(k) = &env.ceph_keyring {
            layers.insert("keyring".into(), Layered::new(k, OptionSource::Env));
        }
        let name_text = name.to_string();
        for section in ["global", name.ty.as_str(), name_text.as_str()] {
            for (k, v) in conf.section(section) {
                layers.insert(k.to_string(), Layered::new(v, OptionSource::File));
            }
        }
        for (k, v) in &sources.overrides {
            layers.insert(
                ConfFile::normalize_key(k.trim_start_matches('-')),
                Layered::new(v, OptionSource::CommandLine),
            );
        }
        if let Some(k) = &sources.keyring {
            layers.insert("keyring".into(), Layered::new(k, OptionSource::CommandLine));
        }
        if let Some(m) = &sources.mon_host {
            layers.insert(
                "mon_host".into(),
                Layered::new(m, OptionSource::CommandLine),
            );
        }

        let expand = |v: &str| expand_meta(v, &vars, &|n: &str| visible_raw(&layers, n));
        let secret = layers.get("key").map(|l| expand(&l.raw));
        let values = expand_all(&layers, &vars);
        let value = |n: &str| values.get(n).map(String::as_str).unwrap_or("");

        let mon_host = value("mon_host").trim();
        let mon_addrs = if !mon_host.is_empty() {
            parse_mon_host_with(mon_host, resolve)?
        } else {
            mon_addrs_from_sections(&conf, &expand)?
                .into_iter()
                .map(|(_, v)| v)
                .collect()
        };
        let mut mon_addrs = mon_addrs;
        let mut mon_srv = Vec::new();
        if mon_addrs.is_empty() {
            // As Ceph: no monitor named, so ask DNS for SRV records.
            let srv_name = value("mon_dns_srv_name").trim();
            if srv_name.is_empty() {
                return Err(ConfigError::NoMonitors);
            }
            mon_srv = crate::lookup_mon_srv(srv_name)?;
            mon_addrs = mon_srv.iter().map(|m| m.addrs.clone()).collect();
        }

        let keyring_search: Vec<PathBuf> =
            split_paths(value("keyring")).map(PathBuf::from).collect();
        let keyring_path = keyring_search
            .iter()
            .find(|p| std::fs::File::open(p).is_ok())
            .cloned();
        let mut key = secret
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(Secret::new);
        let keyfile = value("keyfile").trim();
        if !keyfile.is_empty() {
            key = Some(read_keyfile(Path::new(keyfile))?);
        }

        let tunables = Tunables::from_values(&values)?;
        for secret in SECRET_OPTIONS {
            layers.remove(*secret);
        }
        let untyped = Untyped {
            cluster: vars.cluster.clone(),
            name,
            conf_path,
            mon_addrs,
            mon_srv,
            keyring_path,
            keyring_search,
            key,
            values,
            layers,
            vars,
        };
        Ok(ClientConfig::assemble(untyped, tunables))
    }

    /// This configuration with the monitors' central configuration for this
    /// client (the options of an MConfig message) applied, as Ceph applies
    /// it: a monitor value replaces a built-in default but not a value from
    /// the environment, the conf file or the command line; `values` replaces
    /// whatever an earlier call applied (an option the monitors no longer
    /// send falls back to its default). Values that cannot take effect are
    /// returned with the reason, and left out: options only local
    /// configuration may set (`mon_host`, `keyring`, ...) and values that do
    /// not parse as their option's type. Options this crate does not know
    /// are kept, readable with [`ClientConfig::get`].
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use std::time::Duration;
    /// use ceph_config::{ClientConfig, ConfigSources, OptionSource};
    /// let local = ClientConfig::load(ConfigSources {
    ///     mon_host: Some("127.0.0.1:3300".into()),
    ///     overrides: vec![("mon_client_hunt_interval".into(), "5".into())],
    ///     ..Default::default()
    /// })?;
    /// let central = BTreeMap::from([
    ///     ("mon_client_hunt_interval".to_string(), "1".to_string()),
    ///     ("rados_mon_op_timeout".to_string(), "30".to_string()),
    ///     ("mon_host".to_string(), "10.0.0.1".to_string()),
    /// ]);
    /// let (effective, ignored) = local.with_mon_values(&central);
    /// // The command line wins over the monitors; the default does not.
    /// assert_eq!(effective.mon_client_hunt_interval, Duration::from_secs(5));
    /// assert_eq!(effective.rados_mon_op_timeout, Duration::from_secs(30));
    /// assert_eq!(effective.source("rados_mon_op_timeout"), Some(OptionSource::Mon));
    /// // Where the monitors are is never the monitors' to say.
    /// assert_eq!(ignored[0].option, "mon_host");
    /// # Ok::<(), ceph_config::ConfigError>(())
    /// ```
    pub fn with_mon_values(
        &self,
        values: &BTreeMap<String, String>,
    ) -> (ClientConfig, Vec<IgnoredMonValue>) {
        let mut layers = self.layers.clone();
        // Drop what earlier central values set.
        let earlier: Vec<String> = layers
            .iter()
            .filter(|(_, l)| l.source == OptionSource::Mon)
            .map(|(k, _)| k.clone())
            .collect();
        for option in earlier {
            revert_to_default(&mut layers, &option);
        }
        let mut ignored = Vec::new();
        for (name, value) in values {
            let option = ConfFile::normalize_key(name);
            if LOCAL_ONLY_OPTIONS.contains(&option.as_str()) {
                ignored.push(IgnoredMonValue {
                    option,
                    reason: "only local configuration may set it".into(),
                });
                continue;
            }
            if layers
                .get(&option)
                .is_some_and(|l| l.source > OptionSource::Mon)
            {
                continue;
            }
            layers.insert(option, Layered::new(value, OptionSource::Mon));
        }
        // Each round either succeeds or drops one bad central value, so this
        // ends within values.len() + 1 rounds.
        loop {
            let expanded = expand_all(&layers, &self.vars);
            match Tunables::from_values(&expanded) {
                Ok(tunables) => {
                    let mut next = self.clone();
                    next.install(tunables);
                    next.values = expanded;
                    next.layers = layers;
                    return (next, ignored);
                }
                Err(e) => {
                    let from_mon = layers
                        .get(&e.option)
                        .is_some_and(|l| l.source == OptionSource::Mon);
                    if !from_mon {
                        // A local value that refers (`$option`) to a
                        // central one no longer parses: keep the local
                        // configuration as it was.
                        ignored.push(IgnoredMonValue {
                            option: e.option.clone(),
                            reason: format!("would make a local value invalid: {}", e.reason),
                        });
                        return (self.clone(), ignored);
                    }
                    revert_to_default(&mut layers, &e.option);
                    ignored.push(IgnoredMonValue {
                        option: e.option,
                        reason: e.reason,
                    });
                }
            }
        }
    }

    /// Where the value in effect for an option (any spelling) came from;
    /// `None` for an option that is neither set nor has a default here.
    pub fn source(&self, name: &str) -> Option<OptionSource> {
        self.layers
            .get(&ConfFile::normalize_key(name))
            .map(|l| l.source)
    }

    /// The value in effect for any option (any spelling of its name), with
    /// metavariables expanded: set by the command line, the conf file or the
    /// environment, else a built-in default this crate knows. Secrets (`key`)
    /// are not available here; see [`ClientConfig::key`].
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(&ConfFile::normalize_key(name))
            .map(String::as_str)
    }
}

/// `--name` wins over `--id`; the default is `client.admin`.
/// The cluster's `fsid` as the configuration names it, without loading
/// the rest: a `--fsid` override, else the `fsid` of the conf file found as
/// [`ClientConfig::load`] finds it (`-c`, `CEPH_CONF`, the default search),
/// from the entity's sections or `[global]`. Reads at most one file and
/// asks no resolver; `None` when nothing names an fsid or the file cannot
/// be read.
pub fn conf_fsid(sources: &ConfigSources) -> Option<String> {
    let non_empty = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    if let Some((_, v)) = sources
        .overrides
        .iter()
        .rev()
        .find(|(k, _)| ConfFile::normalize_key(k.trim_start_matches('-')) == "fsid")
    {
        return non_empty(v);
    }
    let env = sources
        .env
        .clone()
        .unwrap_or_else(Environment::from_process);
    let name = entity_name(sources).ok()?;
    let vars = MetaVars {
        cluster: sources.cluster.clone().unwrap_or_else(|| "ceph".into()),
        entity_type: name.ty.to_string(),
        id: name.id.clone(),
        host: short_hostname(),
        pid: std::process::id(),
        home: env.home.clone().unwrap_or_default(),
    };
    let (conf, _) = find_conf(sources, &env, &vars).ok()?;
    let name_text = name.to_string();
    conf.lookup(&[name_text.as_str(), name.ty.as_str(), "global"], "fsid")
        .and_then(non_empty)
}

fn entity_name(sources: &ConfigSources) -> Result<EntityName, ConfigError> {
    let name = if let Some(n) = &sources.name {
        n.parse::<EntityName>().map_err(|e| ConfigError::BadName {
            name: n.clone(),
            reason: e.reason,
        })?
    } else {
        EntityName::new(
            EntityType::Client,
            sources.id.clone().unwrap_or_else(|| "admin".into()),
        )
    };
    if name.id.is_empty() {
        return Err(ConfigError::BadName {
            name: name.to_string(),
            reason: "empty id".into(),
        });
    }
    Ok(name)
}

/// Splits a search list (Ceph separates with `,` `;` `=` and blanks).
fn split_paths(list: &str) -> impl Iterator<Item = &str> {
    list.split(|c: char| matches!(c, ',' | ';' | '=') || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
}

/// Finds and reads the conf file: `-c`, else `CEPH_CONF`, else the default
/// search list; the first file that exists is used. Only a missing `-c` file
/// is an error; otherwise no file means defaults only.
fn find_conf(
    sources: &ConfigSources,
    env: &Environment,
    vars: &MetaVars,
) -> Result<(ConfFile, Option<PathBuf>), ConfigError> {
    let list = sources
        .conf_path
        .as_deref()
        .or(env.ceph_conf.as_deref())
        .unwrap_or(DEFAULT_CONF_SEARCH);
    let no_options = |_: &str| None;
    for candidate in split_paths(list) {
        let path = PathBuf::from(expand_meta(candidate, vars, &no_options));
        match ConfFile::load(&path) {
            Ok(conf) => return Ok((conf, Some(path))),
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    if sources.conf_path.is_some() {
        return Err(ConfigError::ConfNotFound(list.to_string()));
    }
    Ok((ConfFile::default(), None))
}

/// `/some/dir/NAME.conf` → `NAME`; a file not named `*.conf` → `ceph`.
fn cluster_from_conf_path(path: &Path) -> String {
    let base = path
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_default();
    match base.find(".conf") {
        Some(end) => base[..end].to_string(),
        None => "ceph".into(),
    }
}

fn read_keyfile(path: &Path) -> Result<Secret, ConfigError> {
    use std::io::Read;
    let err = |source| ConfigError::Keyfile {
        path: path.display().to_string(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_KEYFILE_BYTES).read_to_string(&mut text))
        .map_err(err)?;
    Ok(Secret::new(text.trim()))
}
