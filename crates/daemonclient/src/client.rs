//! The daemon client: commands to managers, OSDs, PGs and MDSs, each sent
//! where the maps say its target is now, and sent again when the target
//! moves (a manager fails over, an OSD restarts, a PG's primary changes)
//! or the connection drops before the answer.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ceph_auth::client::{SERVICE_MDS, SERVICE_MGR, SERVICE_OSD};
use ceph_denc::Decode;
use ceph_monclient::{ClusterEvent, CommandReply, MonClient, MonTarget};
use ceph_msgr::connection::{ConnectOptions, Connection};
use ceph_msgr::frame::ConMode;
use ceph_osdmap::PgId;
use ceph_types::features::{CLIENT_FEATURES_ALL, CLIENT_FEATURES_REQUIRED};
use ceph_types::mgrmap::MgrMap;
use ceph_types::{EntityName, EntityType};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use crate::auth::AuthorizerAuth;
use crate::conn::{Link, LinkLost};
use crate::error::DaemonError;
use crate::maps::{
    advance_osdmap, mgr_takes_mgr_command, resolve_mgr, resolve_osd, Maps, Peer, Resolved,
};
use crate::messages::{command_message, CommandKind};
use crate::target::{DaemonType, Target};

/// Settings of a [`DaemonClient`].
///
/// ```
/// use ceph_daemonclient::DaemonClientOptions;
/// let opts = DaemonClientOptions::new("client.admin".parse().unwrap());
/// assert!(opts.command_timeout.as_secs() > 0);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DaemonClientOptions {
    /// Who we are (the name the monitor client authenticated as).
    pub name: EntityName,
    /// msgr2 modes offered to daemons, preferred first (`ms_client_mode`).
    pub modes: Vec<ConMode>,
    /// Limit for one connection attempt (TCP, handshake, authorizer).
    pub connect_timeout: Duration,
    /// Default limit for a whole command, resends included.
    pub command_timeout: Duration,
    /// Pause before trying a daemon again after a refused connection,
    /// when the maps have not moved meanwhile.
    pub retry_interval: Duration,
}

impl DaemonClientOptions {
    /// Defaults for `name`: crc then secure (Ceph's `ms_client_mode`),
    /// 10 s to connect, 120 s per command.
    pub fn new(name: EntityName) -> Self {
        DaemonClientOptions {
            name,
            modes: vec![ConMode::Crc, ConMode::Secure],
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(120),
            retry_interval: Duration::from_millis(200),
        }
    }
}

/// Commands to daemons, on top of a [`MonClient`] that provides the maps
/// and the CephX service tickets. Clone it freely.
///
/// ```no_run
/// # async fn demo(mon: ceph_monclient::MonClient) -> Result<(), ceph_daemonclient::DaemonError> {
/// use ceph_daemonclient::{DaemonClient, DaemonClientOptions};
/// let daemons = DaemonClient::new(mon, DaemonClientOptions::new("client.admin".parse().unwrap()));
/// let r = daemons.osd_command(0, r#"{"prefix": "version"}"#, Vec::new(), None).await?;
/// println!("{}", String::from_utf8_lossy(&r.outbl));
/// let r = daemons.mgr_command(r#"{"prefix": "balancer status"}"#, Vec::new(), None).await?;
/// assert_eq!(r.retval, 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DaemonClient {
    inner: Arc<Inner>,
}

struct Inner {
    mon: MonClient,
    opts: DaemonClientOptions,
    maps: watch::Receiver<Maps>,
    subscribed: Mutex<HashSet<&'static str>>,
    links: Mutex<HashMap<(SocketAddr, u32), Link>>,
}

/// What a command is aimed at, re-resolved on every map change.
#[derive(Debug, Clone)]
enum Aim {
    Osd(i32),
    Pg(PgId),
    /// The active manager (`tell`: MCommand with the fsid; otherwise the
    /// message the manager's release expects).
    Mgr {
        name: Option<String>,
        tell: bool,
    },
    /// A fixed address (an MDS found by name).
    Fixed(Peer, u32),
}

impl DaemonClient {
    /// A daemon client using `mon`'s maps and tickets. Starts a task that
    /// follows the OSD and manager maps once a command first needs them.
    pub fn new(mon: MonClient, opts: DaemonClientOptions) -> DaemonClient {
        let events = mon.events();
        let (tx, rx) = watch::channel(Maps::default());
        tokio::spawn(follow_maps(events, tx));
        DaemonClient {
            inner: Arc::new(Inner {
                mon,
                opts,
                maps: rx,
                subscribed: Mutex::new(HashSet::new()),
                links: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The monitor client underneath.
    pub fn mon(&self) -> &MonClient {
        &self.inner.mon
    }

    /// The maps as of now.
    ///
    /// ```no_run
    /// # async fn demo(d: ceph_daemonclient::DaemonClient) -> Result<(), ceph_daemonclient::DaemonError> {
    /// let maps = d.maps();
    /// println!("OSD map epoch {:?}", maps.osdmap.map(|m| m.epoch));
    /// # Ok(()) }
    /// ```
    pub fn maps(&self) -> Maps {
        self.inner.maps.borrow().clone()
    }

    fn subscribe(&self, what: &'static str) {
        let mut s = self.inner.subscribed.lock().expect("subscriptions lock");
        if s.insert(what) {
            if let Err(e) = self.inner.mon.subscribe(what, 0, false) {
                tracing::debug!(error = %e, what, "cannot subscribe");
                s.remove(what);
            }
        }
    }

    /// Waits until the maps hold an OSDMap (subscribing first); returns it.
    pub async fn osdmap(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Arc<ceph_osdmap::OSDMap>, DaemonError> {
        self.subscribe("osdmap");
        let limit = timeout.unwrap_or(self.inner.opts.command_timeout);
        let mut rx = self.inner.maps.clone();
        let got = tokio::time::timeout(limit, rx.wait_for(|m| m.osdmap.is_some())).await;
        match got {
            Ok(Ok(m)) => Ok(m.osdmap.clone().expect("waited for it")),
            Ok(Err(_)) => Err(DaemonError::ShuttingDown),
            Err(_) => Err(DaemonError::TimedOut(limit, "the OSD map".into())),
        }
    }

    /// Waits until the maps hold a MgrMap (subscribing first); returns it.
    pub async fn mgrmap(&self, timeout: Option<Duration>) -> Result<Arc<MgrMap>, DaemonError> {
        self.subscribe("mgrmap");
        let limit = timeout.unwrap_or(self.inner.opts.command_timeout);
        let mut rx = self.inner.maps.clone();
        let got = tokio::time::timeout(limit, rx.wait_for(|m| m.mgrmap.is_some())).await;
        match got {
            Ok(Ok(m)) => Ok(m.mgrmap.clone().expect("waited for it")),
            Ok(Err(_)) => Err(DaemonError::ShuttingDown),
            Err(_) => Err(DaemonError::TimedOut(limit, "the manager map".into())),
        }
    }

    /// Runs a command (one JSON object, as `ceph` sends) on OSD `id`
    /// (`ceph tell osd.N ...`). Fails at once when the OSD does not exist
    /// (`NoSuchDaemon`) or is marked down (`Down`); sent again on a new
    /// connection if the OSD restarts before answering.
    ///
    /// ```no_run
    /// # async fn demo(d: ceph_daemonclient::DaemonClient) -> Result<(), ceph_daemonclient::DaemonError> {
    /// let r = d.osd_command(0, r#"{"prefix": "version"}"#, Vec::new(), None).await?;
    /// assert_eq!(r.retval, 0);
    /// # Ok(()) }
    /// ```
    pub async fn osd_command(
        &self,
        id: i32,
        cmd: &str,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, DaemonError> {
        self.run(Aim::Osd(id), cmd, inbl, timeout).await
    }

    /// Runs a PG command (`ceph pg 2.0 query`) on the PG's primary OSD;
    /// `"pgid"` is set in the command as `ceph` does. When the primary
    /// moves before the answer, the command is sent to the new one.
    ///
    /// ```no_run
    /// # async fn demo(d: ceph_daemonclient::DaemonClient) -> Result<(), ceph_daemonclient::DaemonError> {
    /// let pg = ceph_daemonclient::parse_pgid("2.0").unwrap();
    /// let r = d.pg_command(pg, r#"{"prefix": "query", "format": "json"}"#, Vec::new(), None).await?;
    /// println!("{}", String::from_utf8_lossy(&r.outbl));
    /// # Ok(()) }
    /// ```
    pub async fn pg_command(
        &self,
        pg: PgId,
        cmd: &str,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, DaemonError> {
        let cmd = with_pgid(cmd, pg)?;
        self.run(Aim::Pg(pg), &cmd, inbl, timeout).await
    }

    /// Runs a manager command (one whose description carries the manager
    /// flag, `ceph`'s `mgr_command`) on the active manager: MMgrCommand to
    /// Octopus or later, MCommand to older managers. Waits for an active
    /// manager, and follows a failover to a standby (the command is sent
    /// again to the new active one).
    ///
    /// ```no_run
    /// # async fn demo(d: ceph_daemonclient::DaemonClient) -> Result<(), ceph_daemonclient::DaemonError> {
    /// let r = d.mgr_command(r#"{"prefix": "osd perf", "format": "json"}"#, Vec::new(),
    ///     Some(std::time::Duration::from_secs(30))).await?;
    /// println!("{}", String::from_utf8_lossy(&r.outbl));
    /// # Ok(()) }
    /// ```
    pub async fn mgr_command(
        &self,
        cmd: &str,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, DaemonError> {
        let aim = Aim::Mgr {
            name: None,
            tell: false,
        };
        self.run(aim, cmd, inbl, timeout).await
    }

    /// `ceph tell mgr[.NAME] ...`: MCommand to the active manager (which
    /// must be NAME, when given).
    ///
    /// ```no_run
    /// # async fn demo(d: ceph_daemonclient::DaemonClient) -> Result<(), ceph_daemonclient::DaemonError> {
    /// let r = d.mgr_tell(None, r#"{"prefix": "mgr_status"}"#, Vec::new(), None).await?;
    /// println!("{}", String::from_utf8_lossy(&r.outbl));
    /// # Ok(()) }
    /// ```
    pub async fn mgr_tell(
        &self,
        name: Option<&str>,
        cmd: &str,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, DaemonError> {
        let aim = Aim::Mgr {
            name: name.map(str::to_string),
            tell: true,
        };
        self.run(aim, cmd, inbl, timeout).await
    }

    /// `ceph tell mds.NAME ...`: MCommand to the MDS of that name (or rank
    /// or gid), found in the monitors' `fs dump`.
    ///
    /// ```no_run
    /// # async fn demo(d: ceph_daemonclient::DaemonClient) -> Result<(), ceph_daemonclient::DaemonError> {
    /// let r = d.mds_command("a", r#"{"prefix": "session ls"}"#, Vec::new(), None).await?;
    /// println!("{}", String::from_utf8_lossy(&r.outbl));
    /// # Ok(()) }
    /// ```
    pub async fn mds_command(
        &self,
        name: &str,
        cmd: &str,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, DaemonError> {
        let dump = self.fs_dump(timeout).await?;
        let peer = crate::mds::find_mds(&dump, name)
            .ok_or_else(|| DaemonError::NoSuchDaemon(format!("mds.{name}")))?;
        self.run(Aim::Fixed(peer, SERVICE_MDS), cmd, inbl, timeout)
            .await
    }

    /// Runs a command on a daemon at a known address (`service` is its
    /// CephX service: `SERVICE_OSD`, `SERVICE_MGR`, `SERVICE_MDS`), with
    /// MCommand; for daemons the maps do not describe.
    ///
    /// ```no_run
    /// # async fn demo(d: ceph_daemonclient::DaemonClient) -> Result<(), ceph_daemonclient::DaemonError> {
    /// use ceph_daemonclient::Peer;
    /// let peer = Peer::msgr2("osd.7", "127.0.0.1:6800".parse().unwrap(), 1234);
    /// let r = d.command_at(peer, ceph_auth::client::SERVICE_OSD, r#"{"prefix": "version"}"#, Vec::new(), None).await?;
    /// assert_eq!(r.retval, 0);
    /// # Ok(()) }
    /// ```
    pub async fn command_at(
        &self,
        peer: Peer,
        service: u32,
        cmd: &str,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, DaemonError> {
        self.run(Aim::Fixed(peer, service), cmd, inbl, timeout)
            .await
    }

    /// Runs a command on any single [`Target`] (not [`Target::AllOf`]:
    /// expand those with [`DaemonClient::expand`] first).
    ///
    /// ```no_run
    /// # async fn demo(d: ceph_daemonclient::DaemonClient) -> Result<(), ceph_daemonclient::DaemonError> {
    /// let target: ceph_daemonclient::Target = "mgr".parse()?;
    /// let r = d.tell(&target, r#"{"prefix": "version"}"#, Vec::new(), None).await?;
    /// assert_eq!(r.retval, 0);
    /// # Ok(()) }
    /// ```
    pub async fn tell(
        &self,
        target: &Target,
        cmd: &str,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, DaemonError> {
        match target {
            Target::Osd(id) => self.osd_command(*id, cmd, inbl, timeout).await,
            Target::Pg(pg) => self.pg_command(*pg, cmd, inbl, timeout).await,
            Target::Mgr(name) => self.mgr_tell(name.as_deref(), cmd, inbl, timeout).await,
            Target::Mds(name) => self.mds_command(name, cmd, inbl, timeout).await,
            Target::Mon(name) => Ok(self
                .inner
                .mon
                .tell(MonTarget::Name(name.clone()), cmd, inbl, timeout)
                .await?),
            Target::AllOf(_) => Err(DaemonError::InvalidTarget(
                target.to_string(),
                "expand a wildcard first".into(),
            )),
        }
    }

    /// The daemons a wildcard names, as `ceph` lists them: every OSD that
    /// exists, every monitor in the MonMap, the active manager, every MDS
    /// (standbys too). Other targets come back as they are.
    ///
    /// ```no_run
    /// # async fn demo(d: ceph_daemonclient::DaemonClient) -> Result<(), ceph_daemonclient::DaemonError> {
    /// let all = d.expand(&"osd.*".parse()?, None).await?;
    /// println!("{} OSDs", all.len());
    /// # Ok(()) }
    /// ```
    pub async fn expand(
        &self,
        target: &Target,
        timeout: Option<Duration>,
    ) -> Result<Vec<Target>, DaemonError> {
        let Target::AllOf(ty) = target else {
            return Ok(vec![target.clone()]);
        };
        Ok(match ty {
            DaemonType::Osd => {
                let map = self.osdmap(timeout).await?;
                (0..map.max_osd)
                    .filter(|i| map.exists(*i))
                    .map(Target::Osd)
                    .collect()
            }
            DaemonType::Mon => {
                let map = self
                    .inner
                    .mon
                    .monmap()
                    .ok_or_else(|| DaemonError::TimedOut(Duration::ZERO, "a MonMap".into()))?;
                map.ranks().iter().map(|n| Target::Mon(n.clone())).collect()
            }
            DaemonType::Mgr => {
                let map = self.mgrmap(timeout).await?;
                if map.active_name.is_empty() {
                    Vec::new()
                } else {
                    vec![Target::Mgr(Some(map.active_name.clone()))]
                }
            }
            DaemonType::Mds => {
                let dump = self.fs_dump(timeout).await?;
                crate::mds::mds_names(&dump)
                    .into_iter()
                    .map(Target::Mds)
                    .collect()
            }
        })
    }

    async fn fs_dump(&self, timeout: Option<Duration>) -> Result<serde_json::Value, DaemonError> {
        let r = self
            .inner
            .mon
            .command_with_timeout(
                r#"{"prefix": "fs dump", "format": "json"}"#,
                Vec::new(),
                timeout,
            )
            .await?;
        if r.retval != 0 {
            return Err(DaemonError::Protocol(
                "the monitors".into(),
                format!("fs dump: {} {}", r.retval, r.outs),
            ));
        }
        serde_json::from_slice(&r.outbl)
            .map_err(|e| DaemonError::Protocol("the monitors".into(), format!("fs dump: {e}")))
    }

    /// Where `aim` is now, by `maps` alone (a PG's primary is computed
    /// from the OSD map).
    fn resolve(aim: &Aim, maps: &Maps) -> Resolved {
        match aim {
            Aim::Osd(id) => match &maps.osdmap {
                Some(m) => resolve_osd(m, *id),
                None => Resolved::Wait("the OSD map".into()),
            },
            Aim::Pg(pg) => match &maps.osdmap {
                Some(m) => match crate::pg::primary(m, *pg) {
                    Ok(Some(osd)) => resolve_osd(m, osd),
                    Ok(None) => Resolved::Wait(format!("pg {pg} to have a primary")),
                    Err(r) => r,
                },
                None => Resolved::Wait("the OSD map".into()),
            },
            Aim::Mgr { name, .. } => match &maps.mgrmap {
                Some(m) => resolve_mgr(m, name.as_deref()),
                None => Resolved::Wait("the manager map".into()),
            },
            Aim::Fixed(p, _) => Resolved::At(p.clone()),
        }
    }

    /// The message for `aim` as its daemon expects it.
    fn message(
        &self,
        aim: &Aim,
        maps: &Maps,
        cmd: &str,
        inbl: &[u8],
    ) -> ceph_msgr::message::Message {
        let cmd = vec![cmd.to_string()];
        let fsid = self
            .inner
            .mon
            .monmap()
            .map(|m| m.fsid.0)
            .unwrap_or_default();
        match aim {
            Aim::Mgr { tell: false, .. } => {
                let modern = maps.mgrmap.as_deref().is_some_and(mgr_takes_mgr_command);
                let kind = if modern {
                    CommandKind::MgrCommand
                } else {
                    CommandKind::Command
                };
                // A nil fsid tells the manager this is no `tell`.
                command_message(kind, [0; 16], &cmd, inbl)
            }
            _ => command_message(CommandKind::Command, fsid, &cmd, inbl),
        }
    }

    fn service(aim: &Aim) -> u32 {
        match aim {
            Aim::Osd(_) | Aim::Pg(_) => SERVICE_OSD,
            Aim::Mgr { .. } => SERVICE_MGR,
            Aim::Fixed(_, s) => *s,
        }
    }

    /// Sends to wherever `aim` resolves, again whenever it moves or the
    /// connection drops, until an answer or the deadline.
    async fn run(
        &self,
        aim: Aim,
        cmd: &str,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, DaemonError> {
        match aim {
            Aim::Osd(_) | Aim::Pg(_) => self.subscribe("osdmap"),
            Aim::Mgr { .. } => self.subscribe("mgrmap"),
            Aim::Fixed(..) => {}
        }
        let limit = timeout.unwrap_or(self.inner.opts.command_timeout);
        let deadline = Instant::now() + limit;
        let mut maps_rx = self.inner.maps.clone();
        let mut last_problem: String;
        loop {
            let maps = maps_rx.borrow_and_update().clone();
            let peer = match Self::resolve(&aim, &maps) {
                Resolved::At(p) => p,
                Resolved::Missing(what) => return Err(DaemonError::NoSuchDaemon(what)),
                Resolved::Down(what) => return Err(DaemonError::Down(what)),
                Resolved::Wait(what) => {
                    last_problem = what;
                    wait_change(&mut maps_rx, deadline, &last_problem, limit).await?;
                    continue;
                }
            };
            let link = match self.link(&peer, Self::service(&aim), deadline).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::debug!(peer = peer.label, error = %e, "cannot connect");
                    if matches!(e, DaemonError::Mon(_)) {
                        return Err(e);
                    }
                    last_problem = format!("{} ({e})", peer.label);
                    let pause = Instant::now() + self.inner.opts.retry_interval;
                    // A map change or the pause, whichever first.
                    let _ = tokio::time::timeout_at(pause.min(deadline), maps_rx.changed()).await;
                    if Instant::now() >= deadline {
                        return Err(DaemonError::TimedOut(limit, last_problem));
                    }
                    continue;
                }
            };
            let msg = self.message(&aim, &maps, cmd, &inbl);
            let mut reply = link.send(msg);
            // Wait for the answer; re-resolve on each map change, and send
            // again if the target moved.
            let outcome = loop {
                tokio::select! {
                    r = &mut reply => break Some(r),
                    changed = maps_rx.changed() => {
                        if changed.is_err() {
                            return Err(DaemonError::ShuttingDown);
                        }
                        let maps = maps_rx.borrow_and_update().clone();
                        match Self::resolve(&aim, &maps) {
                            Resolved::At(p) if p == peer => continue,
                            other => {
                                tracing::debug!(from = peer.label, to = ?other, "target moved; sending again");
                                break None;
                            }
                        }
                    }
                    _ = tokio::time::sleep_until(deadline) => {
                        return Err(DaemonError::TimedOut(limit, format!("{}'s answer", peer.label)));
                    }
                }
            };
            match outcome {
                None => continue,
                Some(Ok(Ok(r))) => return Ok(r),
                Some(Ok(Err(LinkLost::BadReply(why)))) => {
                    return Err(DaemonError::Protocol(peer.label, why))
                }
                Some(lost) => {
                    let why = match lost {
                        Ok(Err(LinkLost::Closed(w))) => w,
                        _ => "connection task ended".into(),
                    };
                    tracing::debug!(peer = peer.label, why, "connection lost; sending again");
                    self.forget(&link);
                    last_problem = format!("{} (connection lost: {why})", peer.label);
                    let pause = Instant::now() + self.inner.opts.retry_interval;
                    let _ = tokio::time::timeout_at(pause.min(deadline), maps_rx.changed()).await;
                    if Instant::now() >= deadline {
                        return Err(DaemonError::TimedOut(limit, last_problem));
                    }
                }
            }
        }
    }

    fn forget(&self, link: &Link) {
        let mut links = self.inner.links.lock().expect("links lock");
        links.retain(|_, l| l.is_open() && !(l.addr == link.addr && l.nonce == link.nonce));
    }

    /// An open connection to `peer`, reused when there is one.
    async fn link(
        &self,
        peer: &Peer,
        service: u32,
        deadline: Instant,
    ) -> Result<Link, DaemonError> {
        let key = (peer.addr, peer.nonce);
        if let Some(l) = self.inner.links.lock().expect("links lock").get(&key) {
            if l.is_open() {
                return Ok(l.clone());
            }
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        let limit = remaining.min(self.inner.opts.connect_timeout);
        let authorizer = self.inner.mon.authorizer(service, remaining).await?;
        let mut auth = AuthorizerAuth::new(authorizer, &self.inner.opts.modes);
        let mut opts = ConnectOptions::new(
            self.inner.opts.name.clone(),
            CLIENT_FEATURES_ALL,
            CLIENT_FEATURES_REQUIRED,
        );
        opts.connect_timeout = limit.max(Duration::from_millis(1));
        opts.target_nonce = peer.nonce;
        let gid = self.inner.mon.status().global_id;
        if gid != 0 {
            opts.gid = i64::try_from(gid).ok();
        }
        let conn =
            Connection::connect_to(&peer.entity_addr(), peer_type(service), &opts, &mut auth)
                .await
                .map_err(|e| DaemonError::Connect(peer.label.clone(), e))?;
        let link = Link::start(conn, peer.nonce);
        self.inner
            .links
            .lock()
            .expect("links lock")
            .insert(key, link.clone());
        Ok(link)
    }
}

/// The entity type behind a CephX service (msgr1 needs it in CONNECT).
fn peer_type(service: u32) -> EntityType {
    match service {
        SERVICE_MGR => EntityType::Mgr,
        SERVICE_MDS => EntityType::Mds,
        _ => EntityType::Osd,
    }
}

async fn wait_change(
    rx: &mut watch::Receiver<Maps>,
    deadline: Instant,
    what: &str,
    limit: Duration,
) -> Result<(), DaemonError> {
    match tokio::time::timeout_at(deadline, rx.changed()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(DaemonError::ShuttingDown),
        Err(_) => Err(DaemonError::TimedOut(limit, what.to_string())),
    }
}

/// The command with `"pgid"` set, as `ceph` sends PG commands.
fn with_pgid(cmd: &str, pg: PgId) -> Result<String, DaemonError> {
    let mut v: serde_json::Value = serde_json::from_str(cmd).map_err(|e| {
        DaemonError::InvalidTarget(pg.to_string(), format!("the command is not JSON: {e}"))
    })?;
    let Some(m) = v.as_object_mut() else {
        return Err(DaemonError::InvalidTarget(
            pg.to_string(),
            "the command is not a JSON object".into(),
        ));
    };
    m.insert("pgid".into(), serde_json::Value::String(pg.to_string()));
    Ok(v.to_string())
}

/// Keeps `maps` current from the monitor client's events until every
/// daemon client handle is gone.
async fn follow_maps(mut events: broadcast::Receiver<ClusterEvent>, maps: watch::Sender<Maps>) {
    loop {
        let ev = tokio::select! {
            ev = events.recv() => ev,
            _ = maps.closed() => return,
        };
        match ev {
            Ok(ClusterEvent::OsdMap {
                full, incremental, ..
            }) => {
                maps.send_if_modified(|m| {
                    let before = m.osdmap.as_ref().map(|o| o.epoch);
                    m.osdmap = advance_osdmap(m.osdmap.take(), &full, &incremental);
                    m.osdmap.as_ref().map(|o| o.epoch) != before
                });
            }
            Ok(ClusterEvent::MgrMap { encoded, epoch }) => match MgrMap::decode_all(&encoded) {
                Ok(map) => {
                    maps.send_modify(|m| m.mgrmap = Some(Arc::new(map)));
                }
                Err(e) => tracing::warn!(epoch, error = %e, "undecodable MgrMap"),
            },
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "fell behind the monitor client's events");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
