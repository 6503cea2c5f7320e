//! What a `tell` or command is aimed at: a daemon by type and id, every
//! daemon of a type, the active manager, or a placement group.

use std::fmt;
use std::str::FromStr;

use ceph_osdmap::PgId;

use crate::error::DaemonError;

/// A daemon (or a PG, served by its primary OSD) to send a command to.
///
/// ```
/// use ceph_daemonclient::Target;
/// assert_eq!("osd.3".parse::<Target>().unwrap(), Target::Osd(3));
/// assert_eq!("mgr".parse::<Target>().unwrap(), Target::Mgr(None));
/// assert_eq!("osd.*".parse::<Target>().unwrap(), Target::AllOf(ceph_daemonclient::DaemonType::Osd));
/// assert_eq!("2.1f".parse::<Target>().unwrap().to_string(), "2.1f");
/// assert!("osd.x".parse::<Target>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// One OSD by id.
    Osd(i32),
    /// The active manager (`None`), or the manager of that name (it must
    /// be the active one: standbys take no commands).
    Mgr(Option<String>),
    /// One MDS by name.
    Mds(String),
    /// One monitor by name.
    Mon(String),
    /// Every daemon of a type (`osd.*`), each answering on its own.
    AllOf(DaemonType),
    /// A placement group, answered by its primary OSD.
    Pg(PgId),
}

/// The daemon types a command can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DaemonType {
    /// `osd`
    Osd,
    /// `mgr`
    Mgr,
    /// `mds`
    Mds,
    /// `mon`
    Mon,
}

impl DaemonType {
    /// The type's name as in `osd.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            DaemonType::Osd => "osd",
            DaemonType::Mgr => "mgr",
            DaemonType::Mds => "mds",
            DaemonType::Mon => "mon",
        }
    }
}

/// Parses `POOL.SEED` with the seed in hex, as `ceph` writes PG ids.
///
/// ```
/// let pg = ceph_daemonclient::parse_pgid("3.a").unwrap();
/// assert_eq!((pg.pool, pg.seed), (3, 10));
/// assert!(ceph_daemonclient::parse_pgid("3").is_none());
/// ```
pub fn parse_pgid(s: &str) -> Option<PgId> {
    let (pool, seed) = s.split_once('.')?;
    if pool.is_empty() || seed.is_empty() || !pool.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !seed.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(PgId {
        pool: pool.parse().ok()?,
        seed: u32::from_str_radix(seed, 16).ok()?,
    })
}

impl FromStr for Target {
    type Err = DaemonError;

    fn from_str(s: &str) -> Result<Target, DaemonError> {
        let bad = |why: &str| DaemonError::InvalidTarget(s.to_string(), why.to_string());
        if s == "mgr" {
            return Ok(Target::Mgr(None));
        }
        if let Some(pg) = parse_pgid(s) {
            return Ok(Target::Pg(pg));
        }
        let (ty, id) = s
            .split_once('.')
            .ok_or_else(|| bad("not TYPE.ID, mgr or a PG id"))?;
        let ty = match ty {
            "osd" => DaemonType::Osd,
            "mgr" => DaemonType::Mgr,
            "mds" => DaemonType::Mds,
            "mon" => DaemonType::Mon,
            _ => return Err(bad("the type is none of osd, mon, mds, mgr")),
        };
        if id.is_empty() {
            return Err(bad("empty id"));
        }
        if id == "*" {
            return Ok(Target::AllOf(ty));
        }
        Ok(match ty {
            DaemonType::Osd => Target::Osd(
                id.parse()
                    .ok()
                    .filter(|n: &i32| *n >= 0)
                    .ok_or_else(|| bad(&format!("osd id {id} not integer")))?,
            ),
            DaemonType::Mgr => Target::Mgr(Some(id.to_string())),
            DaemonType::Mds => Target::Mds(id.to_string()),
            DaemonType::Mon => Target::Mon(id.to_string()),
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Osd(n) => write!(f, "osd.{n}"),
            Target::Mgr(None) => write!(f, "mgr"),
            Target::Mgr(Some(n)) => write!(f, "mgr.{n}"),
            Target::Mds(n) => write!(f, "mds.{n}"),
            Target::Mon(n) => write!(f, "mon.{n}"),
            Target::AllOf(t) => write!(f, "{}.*", t.as_str()),
            Target::Pg(pg) => write!(f, "{pg}"),
        }
    }
}
