//! The handle: a cloneable [`MonClient`] that talks to the client task over
//! a channel and reads the [`Status`] it publishes.

use std::sync::Arc;
use std::time::Duration;

use ceph_types::{LogPriority, MonMap};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use tracing::Instrument;

use super::commands::IntoCommand;
use super::driver::{Call, Driver};
use super::options::MonClientOptions;
use super::status::Status;
use crate::core::{
    ClusterEvent, CommandReply, Core, MapVersions, MonTarget, Reply, Request, SessionState,
};
use crate::error::{permanent_auth_failure, MonError};

/// A handle to the monitor client. Clone it freely; the client shuts down
/// when [`MonClient::shutdown`] is called or every handle is dropped.
///
/// ```no_run
/// # async fn demo() -> Result<(), ceph_monclient::MonError> {
/// use ceph_monclient::{MonClient, MonClientOptions};
/// let key = ceph_auth::CryptoKey::from_base64("AQBzNW5mAAAAABAAdD0bJbWKbzBMAw6lHqKCZA==").unwrap();
/// let opts = MonClientOptions::new(
///     "client.admin".parse().unwrap(),
///     key,
///     vec!["[v2:127.0.0.1:3300,v1:127.0.0.1:6789]".parse().unwrap()],
/// );
/// let client = MonClient::connect(opts).await?;
/// let reply = client.command(r#"{"prefix": "mon dump", "format": "json"}"#, Vec::new()).await?;
/// println!("{}", String::from_utf8_lossy(&reply.outbl));
/// client.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MonClient {
    calls: mpsc::UnboundedSender<Call>,
    pub(super) status: watch::Receiver<Status>,
    pub(super) events: super::SharedEvents,
    /// The monitors' command descriptions, fetched by the first
    /// `command_words`.
    pub(super) command_table: Arc<tokio::sync::OnceCell<ceph_argparse::CommandTable>>,
    /// For daemons, how long past expiry a rotating secret stays usable.
    rotating_margin: Option<Duration>,
}

/// How long [`MonClient::connect`] keeps hunting among the other monitors
/// once one answered in a way that will not change (it speaks another
/// protocol, or none): enough for a parallel hunt to reach a working one,
/// short enough that a bad `mon_host` is reported within seconds.
const INCOMPATIBLE_GRACE: Duration = Duration::from_secs(3);

impl MonClient {
    /// Starts the client and waits until it has an authenticated session
    /// and a MonMap, at most `connect_timeout`.
    pub async fn connect(opts: MonClientOptions) -> Result<MonClient, MonError> {
        let timeout = opts.connect_timeout;
        // As C++ clients do, apply the central configuration before use.
        let wants_config = opts.config.is_some();
        let mon_count = opts.mon_addrs.len();
        let client = Self::start(opts)?;
        let mut status = client.status.clone();
        let ready = async {
            // Monitors that answered in a way that will not change (another
            // protocol, none at all): each names its monitor. One such
            // monitor among working ones must not end the hunt.
            let mut incompatible: Vec<MonError> = Vec::new();
            let mut grace_end: Option<tokio::time::Instant> = None;
            loop {
                {
                    let s = status.borrow_and_update();
                    if matches!(s.state, SessionState::Active { .. })
                        && s.monmap.is_some()
                        && (s.config_received || !wants_config)
                    {
                        return Ok(());
                    }
                    if s.state == SessionState::Shutdown {
                        return Err(MonError::ShuttingDown);
                    }
                    // The monitors refused our credentials: retrying will
                    // not help, so say so now rather than at the timeout.
                    if let Some(e) = s.last_error.as_deref() {
                        match e {
                            MonError::Incompatible(what) => {
                                if !incompatible
                                    .iter()
                                    .any(|seen| seen.to_string() == e.to_string())
                                {
                                    incompatible.push(MonError::Incompatible(what.clone()));
                                }
                                if incompatible.len() >= mon_count {
                                    return Err(incompatible.swap_remove(0));
                                }
                                grace_end.get_or_insert_with(|| {
                                    tokio::time::Instant::now() + INCOMPATIBLE_GRACE
                                });
                            }
                            e => {
                                if let Some(e) = permanent_auth_failure(e) {
                                    return Err(e);
                                }
                            }
                        }
                    }
                }
                let grace = async {
                    match grace_end {
                        Some(end) => tokio::time::sleep_until(end).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    changed = status.changed() => {
                        if changed.is_err() {
                            return Err(MonError::ShuttingDown);
                        }
                    }
                    // The others had their chance: say what the first said.
                    () = grace => return Err(incompatible.swap_remove(0)),
                }
            }
        };
        let result = match tokio::time::timeout(timeout, ready).await {
            Ok(Ok(())) => return Ok(client),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                let last = client.status.borrow().last_error.clone();
                let context = match last {
                    Some(e) => format!("connecting to the monitors (last error: {e})"),
                    None => "connecting to the monitors".to_string(),
                };
                Err(MonError::TimedOut(timeout, context))
            }
        };
        client.shutdown().await;
        result
    }

    /// Starts the client without waiting for a session; requests queue
    /// until one is up.
    pub fn start(opts: MonClientOptions) -> Result<MonClient, MonError> {
        let seed = opts.seed.unwrap_or_else(rand::random);
        let events = super::SharedEvents::default();
        // Monitors from DNS SRV records keep their names and ranks (unless
        // the caller replaced the addresses).
        let srv = match &opts.config {
            Some(cfg) if cfg.mon_addrs == opts.mon_addrs => &cfg.mon_srv[..],
            _ => &[],
        };
        let core = Core::new(opts.session.clone(), &opts.mon_addrs, seed)?
            .with_srv_mons(srv)
            .with_credentials(opts.name.clone(), opts.key.clone(), opts.service_ticket_ttl)
            .with_local_config(opts.modes.clone(), opts.config.clone());
        let (call_tx, call_rx) = mpsc::unbounded_channel();
        let (status_tx, status_rx) = watch::channel(Status::of(&core, &None, None, None));
        let rotating_margin = crate::tickets::needs_rotating_secrets(&opts.name)
            .then(|| crate::tickets::rotating_margin(opts.service_ticket_ttl));
        let driver = Driver::new(core, &opts, status_tx, events.clone());
        tokio::spawn(driver.run(call_rx));
        Ok(MonClient {
            calls: call_tx,
            status: status_rx,
            events,
            command_table: Arc::default(),
            rotating_margin,
        })
    }

    /// Runs a monitor command (a JSON object, as the `ceph` CLI sends: JSON
    /// text, a `serde_json::Value`, or [`Json`](crate::Json) around any
    /// `Serialize`) with input data, on the quorum. A negative `retval` in
    /// the reply is the command's own failure, not an error of the client:
    /// [`CommandReply::into_result`] turns it into one.
    pub async fn command(
        &self,
        cmd: impl IntoCommand,
        inbl: Vec<u8>,
    ) -> Result<CommandReply, MonError> {
        self.command_with_timeout(cmd, inbl, None).await
    }

    /// [`MonClient::command`] with its own deadline.
    pub async fn command_with_timeout(
        &self,
        cmd: impl IntoCommand,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, MonError> {
        let request = Request::Command {
            cmd: vec![cmd.into_command()?],
            inbl,
        };
        self.submit_command(request, timeout).await
    }

    /// Runs a command on one monitor, by rank or name, over a connection
    /// of its own (`ceph tell mon.b ...`): it works while that monitor is
    /// out of quorum. Fails with `RankDne`/`MonDne` when the MonMap has no
    /// such monitor and `MonUnavailable` when it does not answer.
    pub async fn tell(
        &self,
        target: MonTarget,
        cmd: impl IntoCommand,
        inbl: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, MonError> {
        let request = Request::Tell {
            target,
            cmd: vec![cmd.into_command()?],
            inbl,
        };
        self.submit_command(request, timeout).await
    }

    /// Pings one monitor (MPing); returns the JSON it answers with (its
    /// health and `mon_status`).
    pub async fn ping_monitor(
        &self,
        target: MonTarget,
        timeout: Option<Duration>,
    ) -> Result<String, MonError> {
        match self.submit(Request::Ping { target }, timeout).await? {
            Reply::Pong(p) => Ok(p),
            other => Err(unexpected(other)),
        }
    }

    /// The newest and oldest epochs the monitors hold of `what` (`osdmap`,
    /// `monmap`, `mgrmap`, `fsmap`).
    pub async fn get_version(
        &self,
        what: &str,
        timeout: Option<Duration>,
    ) -> Result<MapVersions, MonError> {
        let request = Request::Version { what: what.into() };
        match self.submit(request, timeout).await? {
            Reply::Versions(v) => Ok(v),
            other => Err(unexpected(other)),
        }
    }

    /// [`MonClient::submit`] for a job answered with a command reply.
    async fn submit_command(
        &self,
        request: Request,
        timeout: Option<Duration>,
    ) -> Result<CommandReply, MonError> {
        match self.submit(request, timeout).await? {
            Reply::Command(r) => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    async fn submit(&self, request: Request, timeout: Option<Duration>) -> Result<Reply, MonError> {
        // One span per request: what it was (the command's prefix, never
        // its arguments, which may hold secrets) and how it ended.
        let span = tracing::debug_span!(
            "mon_request",
            kind = request_kind(&request),
            prefix = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        if span.is_disabled() {
        } else if let Request::Command { cmd, .. } | Request::Tell { cmd, .. } = &request {
            if let Some(p) = cmd.first().and_then(|c| command_prefix(c)) {
                span.record("prefix", p.as_str());
            }
        }
        let (reply, rx) = oneshot::channel();
        let result = async {
            self.calls
                .send(Call::Submit {
                    request,
                    timeout,
                    reply,
                })
                .map_err(|_| MonError::ShuttingDown)?;
            rx.await.map_err(|_| MonError::ShuttingDown)?
        }
        .instrument(span.clone())
        .await;
        match &result {
            Ok(Reply::Command(r)) => span.record("outcome", r.retval),
            Ok(_) => span.record("outcome", 0),
            Err(e) => span.record("outcome", -e.errno()),
        };
        result
    }

    /// A receiver of everything the subscriptions bring (maps, config,
    /// cluster log), encoded, from now on; it ends when the client shuts
    /// down. It keeps 1,024 events for a slow reader, whose
    /// `RecvError::Lagged` then counts events of every kind (one carries
    /// several cluster-log entries); the decoded streams
    /// ([`MonClient::cluster_log`], [`MonClient::follow_osdmap`]...) read
    /// channels of their own and count their own items.
    pub fn events(&self) -> broadcast::Receiver<ClusterEvent> {
        self.events.raw()
    }

    /// Waits until the client has seen epoch `epoch` (or newer) of `what`
    /// (`monmap`, `osdmap`, `mgrmap`); subscribe to it first.
    pub async fn wait_for_map(
        &self,
        what: &str,
        epoch: u64,
        timeout: Duration,
    ) -> Result<u64, MonError> {
        let mut status = self.status.clone();
        let wait = async {
            loop {
                if let Some(&e) = status.borrow_and_update().epochs.get(what) {
                    if e >= epoch {
                        return Ok(e);
                    }
                }
                if status.changed().await.is_err() {
                    return Err(MonError::ShuttingDown);
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| MonError::TimedOut(timeout, format!("waiting for {what} epoch {epoch}")))?
    }

    /// Sends an entry to the cluster log (`ceph log last` shows it) on
    /// `channel` (`cluster`, `audit`, ...) and returns its sequence number
    /// once queued. Entries are kept and sent again until the monitors
    /// acknowledge them, across session resets too; `status().log_acked`
    /// tells how far they got.
    pub async fn log(&self, prio: LogPriority, channel: &str, msg: &str) -> Result<u64, MonError> {
        let (queued, rx) = oneshot::channel();
        self.calls
            .send(Call::Log {
                prio,
                channel: channel.into(),
                msg: msg.into(),
                queued,
            })
            .map_err(|_| MonError::ShuttingDown)?;
        rx.await.map_err(|_| MonError::ShuttingDown)
    }

    /// Stops wanting `what` (the monitor may still send what it queued).
    pub fn unsubscribe(&self, what: &str) -> Result<(), MonError> {
        self.calls
            .send(Call::Unsubscribe { what: what.into() })
            .map_err(|_| MonError::ShuttingDown)
    }

    /// Subscribes to a map or log (`monmap`, `osdmap`, `mgrmap`, `config`,
    /// `log-info`, ...) from epoch `start`.
    pub fn subscribe(&self, what: &str, start: u64, onetime: bool) -> Result<(), MonError> {
        self.calls
            .send(Call::Subscribe {
                what: what.into(),
                start,
                onetime,
            })
            .map_err(|_| MonError::ShuttingDown)
    }

    /// The session state, MonMap and global id as of now.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// The configuration in effect: the local one the client was started
    /// from ([`MonClientOptions::from_config`]) with the monitors' central
    /// configuration for this client applied, as of the last MConfig.
    /// `None` when the client was not started from a configuration.
    pub fn config(&self) -> Option<Arc<ceph_config::ClientConfig>> {
        self.status.borrow().client_config.clone()
    }

    /// Waits until this daemon entity (`osd.N`, `mds.N`, `mgr.N`) holds
    /// rotating secrets whose current one has not expired more than
    /// `min(30 s, service_ticket_ttl / 4)` ago, as the C++
    /// `MonClient::wait_auth_rotating` does. Returns at once for other
    /// entities. Fails with `TimedOut` after `timeout`, or `ClockSkew` when
    /// the secrets the monitor sends are already expired by our clock.
    pub async fn wait_auth_rotating(&self, timeout: Duration) -> Result<(), MonError> {
        let Some(margin) = self.rotating_margin else {
            return Ok(());
        };
        let mut status = self.status.clone();
        let ready = async {
            loop {
                {
                    let s = status.borrow_and_update();
                    let now = std::time::SystemTime::now();
                    let cutoff = now.checked_sub(margin).unwrap_or(now);
                    if s.rotating_secrets
                        .as_ref()
                        .is_some_and(|r| !r.need_new_secrets(cutoff))
                    {
                        return Ok(());
                    }
                    if let Some(why) = &s.clock_skew {
                        return Err(MonError::ClockSkew(why.clone()));
                    }
                    if s.state == SessionState::Shutdown {
                        return Err(MonError::ShuttingDown);
                    }
                }
                if status.changed().await.is_err() {
                    return Err(MonError::ShuttingDown);
                }
            }
        };
        tokio::time::timeout(timeout, ready)
            .await
            .unwrap_or_else(|_| {
                Err(MonError::TimedOut(
                    timeout,
                    "waiting for rotating service secrets".into(),
                ))
            })
    }

    /// The rotating secrets of this daemon's service type, as last received
    /// (`None` for non-daemon entities or before the first reply). `Debug`
    /// on them redacts the keys.
    pub fn rotating_secrets(&self) -> Option<Arc<ceph_auth::RotatingSecrets>> {
        self.status.borrow().rotating_secrets.clone()
    }

    /// An authorizer for connecting to a daemon of `service_id`
    /// (`ceph_auth::client::SERVICE_OSD`, `SERVICE_MGR`, `SERVICE_MDS`),
    /// built from the session's current ticket for that service, so a new
    /// connection always presents a renewed ticket. A service we hold no
    /// ticket for (the MDS's, unless asked for before) is requested from
    /// the monitors first; waits at most `timeout` for it.
    ///
    /// ```no_run
    /// # async fn demo(client: ceph_monclient::MonClient) -> Result<(), ceph_monclient::MonError> {
    /// use ceph_auth::client::SERVICE_OSD;
    /// let authorizer = client.authorizer(SERVICE_OSD, std::time::Duration::from_secs(5)).await?;
    /// assert_eq!(authorizer.service_id, SERVICE_OSD);
    /// # Ok(()) }
    /// ```
    pub async fn authorizer(
        &self,
        service_id: u32,
        timeout: Duration,
    ) -> Result<ceph_auth::Authorizer, MonError> {
        let mut status = self.status.clone();
        let wait = async {
            loop {
                status.borrow_and_update();
                let (reply, rx) = oneshot::channel();
                self.calls
                    .send(Call::Authorizer { service_id, reply })
                    .map_err(|_| MonError::ShuttingDown)?;
                if let Some(a) = rx.await.map_err(|_| MonError::ShuttingDown)?? {
                    return Ok(a);
                }
                // A session or the ticket comes with a new Status.
                if status.changed().await.is_err() {
                    return Err(MonError::ShuttingDown);
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .unwrap_or_else(|_| {
                Err(MonError::TimedOut(
                    timeout,
                    format!("waiting for a ticket for service {service_id:#x}"),
                ))
            })
    }

    /// The newest MonMap.
    pub fn monmap(&self) -> Option<Arc<MonMap>> {
        self.status.borrow().monmap.clone()
    }

    /// Fails everything pending with `ShuttingDown`, closes every
    /// connection, and waits for the task to finish.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.calls.send(Call::Shutdown { done: tx }).is_ok() {
            let _ = rx.await;
        }
    }
}

/// A short name of the request's kind, for its span.
fn request_kind(r: &Request) -> &'static str {
    match r {
        Request::Command { .. } => "command",
        Request::Tell { .. } => "tell",
        Request::Ping { .. } => "ping",
        Request::Version { .. } => "version",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

/// The `prefix` of a JSON command, if it has one.
fn command_prefix(cmd: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(cmd).ok()?;
    Some(v.get("prefix")?.as_str()?.to_string())
}

fn unexpected(r: Reply) -> MonError {
    MonError::Protocol(format!("reply of the wrong kind: {r:?}"))
}
