//! Ceph client configuration, read the way Ceph reads it: the `ceph.conf`
//! file and its search path, `CEPH_ARGS`, metavariables, `mon_host`, keyring
//! search, and the typed options a monitor client needs.
//!
//! Nothing here touches the network except host-name resolution of
//! `mon_host` entries that are not IP addresses.
//!
//! ```
//! use ceph_config::ConfFile;
//! let conf = ConfFile::parse("[global]\nmon host = 10.0.0.1:3300\n[client.admin]\nkeyring = /tmp/k\n").unwrap();
//! // Keys in any spelling: spaces, dashes and underscores are one.
//! assert_eq!(conf.get("global", "mon_host"), Some("10.0.0.1:3300"));
//! assert_eq!(conf.lookup(&["client.admin", "client", "global"], "keyring"), Some("/tmp/k"));
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod args;
mod client;
mod conffile;
mod dnssrv;
mod meta;
mod monhost;
mod values;

pub use args::{ceph_args_from_env, split_args, ArgsError};
pub use client::{
    conf_fsid, ClientConfig, ConfigError, ConfigSources, Environment, IgnoredMonValue,
    MissingValue, OptionSource, Secret, DEFAULT_CONF_SEARCH, DEFAULT_KEYRING_SEARCH,
};
pub use conffile::{ConfFile, ConfLoadError, ConfParseError, MAX_CONF_FILE_BYTES};
pub use dnssrv::{
    lookup_mon_srv, mons_from_answers, srv_query_name, SrvAnswer, SrvLookupResult, SrvMon,
};
pub use meta::{expand_meta, short_hostname, MetaVars};
pub use monhost::{
    mon_addrs_from_sections, parse_mon_host, parse_mon_host_with, system_resolver, MonHostError,
    Resolver, MON_PORT_LEGACY, MON_PORT_MSGR2,
};
pub use values::{
    parse_auth_methods, parse_float, parse_float_secs, parse_int, parse_modes, parse_secs,
    parse_uint, split_list, AuthMethod, ConnectionMode, ValueError,
};
