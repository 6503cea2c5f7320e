//! Connecting the ordinary Ceph way: a conf file found as `ceph` finds it,
//! the entity name, and a key from `key`, `keyfile` or the keyring search.

use std::path::PathBuf;
use std::time::Duration;

use ceph_auth::{CryptoKey, Keyring};
use ceph_config::{ClientConfig, ConfigSources};
use ceph_types::EntityName;

use super::handle::MonClient;
use super::options::MonClientOptions;
use crate::error::MonError;

/// Builds a [`MonClient`] from the ordinary Ceph configuration.
///
/// With nothing set, it reads what the `ceph` CLI reads: the conf file named
/// by `CEPH_CONF`, else the first of `/etc/ceph/$cluster.conf`,
/// `~/.ceph/$cluster.conf` and `./$cluster.conf`; the entity
/// `client.admin`; its key from `key` or `keyfile` if configured, else from
/// the first keyring of the search list (`CEPH_KEYRING`, the `keyring`
/// option, `/etc/ceph/$cluster.$name.keyring`, ...). Every setter overrides
/// one of these as the matching `ceph` flag does.
///
/// ```no_run
/// # async fn demo() -> Result<(), ceph_monclient::MonError> {
/// let client = ceph_monclient::MonClient::builder()
///     .name("client.admin")
///     .conf_path("/etc/ceph/ceph.conf")
///     .connect()
///     .await?;
/// # client.shutdown().await; Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until connect() or options()"]
pub struct MonClientBuilder {
    sources: ConfigSources,
    key: Option<CryptoKey>,
    connect_timeout: Option<Duration>,
}

impl MonClientBuilder {
    /// A builder that reads the process's environment and the default
    /// search paths.
    pub fn new() -> Self {
        Self::default()
    }

    /// `-c`: the conf file to read (or a comma-separated list to search);
    /// a missing file is then an error.
    pub fn conf_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.conf_path = Some(path.into().display().to_string());
        self
    }

    /// `--cluster`: the cluster name in `$cluster` paths (default `ceph`).
    pub fn cluster(mut self, cluster: impl Into<String>) -> Self {
        self.sources.cluster = Some(cluster.into());
        self
    }

    /// `-n`: the entity to authenticate as, `TYPE.ID` (default
    /// `client.admin`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.sources.name = Some(name.into());
        self
    }

    /// `--id`: authenticate as `client.ID`.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.sources.id = Some(id.into());
        self
    }

    /// `-k`: the keyring to read (or a comma-separated list to search).
    pub fn keyring(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.keyring = Some(path.into().display().to_string());
        self
    }

    /// `-m`: the monitors, in any `mon_host` form.
    pub fn mon_host(mut self, mon_host: impl Into<String>) -> Self {
        self.sources.mon_host = Some(mon_host.into());
        self
    }

    /// `--NAME VALUE`: any other option, as on the command line.
    pub fn option(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.sources.overrides.push((name.into(), value.into()));
        self
    }

    /// Uses this key instead of searching for one.
    pub fn key(mut self, key: CryptoKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Gives up connecting after this long (default `client_mount_timeout`,
    /// 300 s).
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = Some(limit);
        self
    }

    /// Replaces every source at once (as the CLI does from its arguments).
    pub fn sources(mut self, sources: ConfigSources) -> Self {
        self.sources = sources;
        self
    }

    /// Reads the configuration and finds the key, without connecting.
    pub fn load(&self) -> Result<(ClientConfig, CryptoKey), MonError> {
        let cfg = ClientConfig::load(self.sources.clone()).map_err(MonError::Configuration)?;
        let key = match &self.key {
            Some(k) => k.clone(),
            None => key_from_config(&cfg)?,
        };
        Ok((cfg, key))
    }

    /// The client options the configuration gives.
    pub fn options(&self) -> Result<MonClientOptions, MonError> {
        let (cfg, key) = self.load()?;
        let mut opts = MonClientOptions::from_config(&cfg, key);
        if let Some(limit) = self.connect_timeout {
            opts.connect_timeout = limit;
            opts.attempt_timeout = opts.attempt_timeout.min(limit);
        }
        Ok(opts)
    }

    /// Reads the configuration, finds the key and connects
    /// ([`MonClient::connect`]).
    pub async fn connect(self) -> Result<MonClient, MonError> {
        MonClient::connect(self.options()?).await
    }
}

/// The key for `cfg.name`: `key` or `keyfile` if configured, else its entry
/// in the first keyring the search found. A missing keyring or entry is
/// [`MonError::KeyNotFound`] (`ENOENT`, as `ceph` exits).
pub fn key_from_config(cfg: &ClientConfig) -> Result<CryptoKey, MonError> {
    if let Some(secret) = &cfg.key {
        return CryptoKey::from_base64(secret.expose().trim())
            .map_err(|e| MonError::Config(format!("bad key for {}: {e}", cfg.name)));
    }
    let Some(path) = &cfg.keyring_path else {
        let searched: Vec<String> = cfg
            .keyring_search
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return Err(MonError::KeyNotFound(format!(
            "no keyring found for {} (searched {})",
            cfg.name,
            searched.join(", ")
        )));
    };
    let keyring =
        Keyring::load(path).map_err(|e| MonError::Config(format!("{}: {e}", path.display())))?;
    keyring.get(&cfg.name).cloned().ok_or_else(|| {
        MonError::KeyNotFound(format!(
            "keyring {} has no key for {}",
            path.display(),
            cfg.name
        ))
    })
}

impl MonClient {
    /// A builder reading the ordinary Ceph configuration; see
    /// [`MonClientBuilder`].
    pub fn builder() -> MonClientBuilder {
        MonClientBuilder::new()
    }

    /// Connects with the ordinary Ceph configuration, as `ceph` with no
    /// flags does (`CEPH_CONF`, `CEPH_KEYRING` and the default search
    /// paths honoured).
    pub async fn from_ceph_config() -> Result<MonClient, MonError> {
        MonClientBuilder::new().connect().await
    }

    /// Connects as `name` (`client.admin`) with the base64 `key` (as in a
    /// keyring's `key = ...` line) to the monitors of `mon_host` (any
    /// `mon_host` form: `10.0.0.1`, `10.0.0.1:3300`,
    /// `[v2:10.0.0.1:3300,v1:10.0.0.1:6789]`, several separated by commas),
    /// reading no conf file.
    pub async fn connect_to(mon_host: &str, name: &str, key: &str) -> Result<MonClient, MonError> {
        let name: EntityName = name
            .parse()
            .map_err(|e| MonError::Config(format!("bad entity name {name:?}: {e}")))?;
        let key = CryptoKey::from_base64(key.trim())
            .map_err(|e| MonError::Config(format!("bad key for {name}: {e}")))?;
        let mons = ceph_config::parse_mon_host(mon_host)
            .map_err(|e| MonError::Config(format!("mon_host {mon_host:?}: {e}")))?;
        MonClient::connect(MonClientOptions::new(name, key, mons)).await
    }
}
