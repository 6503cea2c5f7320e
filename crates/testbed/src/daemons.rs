//! Managers and memstore OSDs beside the monitors.
//!
//! Their keys are made before the monitors' `--mkfs` and imported into the
//! monitors' keyring, so the monitors know them from the first moment and
//! starting a manager needs no `ceph` call. Each OSD still needs one
//! `ceph osd new` (an OSD id exists only once the OSD map has it), then a
//! `ceph-osd --mkfs` and the daemon itself. OSDs keep their data in memory
//! (`osd_objectstore = memstore`): no disks, and a killed OSD comes back
//! empty, which recovery then fills again from its peers.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{io_err, run_tool, running_pid, send_signal, Cluster, ClusterSpec, Error, Result};

/// Which kind of daemon a [`DaemonSlot`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DaemonKind {
    Mgr,
    Osd,
}

impl DaemonKind {
    fn type_name(self) -> &'static str {
        match self {
            DaemonKind::Mgr => "mgr",
            DaemonKind::Osd => "osd",
        }
    }

    fn program(self) -> &'static str {
        match self {
            DaemonKind::Mgr => "ceph-mgr",
            DaemonKind::Osd => "ceph-osd",
        }
    }
}

/// A manager or an OSD: fixed identity plus the running child, if any.
pub(crate) struct DaemonSlot {
    pub(crate) kind: DaemonKind,
    pub(crate) id: String,
    pub(crate) child: Option<Child>,
}

impl DaemonSlot {
    /// `osd.0`, `mgr.x`.
    pub(crate) fn entity(&self) -> String {
        format!("{}.{}", self.kind.type_name(), self.id)
    }
}

/// Manager ids: `x`, `y`, `z`, then `m3`, `m4`, ... (monitors use `a`...).
fn mgr_id(index: usize) -> String {
    match index {
        0..=2 => char::from(b'x' + index as u8).to_string(),
        n => format!("m{n}"),
    }
}

/// The slots a spec asks for, none started.
pub(crate) fn slots_for(spec: &ClusterSpec) -> Vec<DaemonSlot> {
    let mgrs = (0..spec.mgrs).map(|i| DaemonSlot {
        kind: DaemonKind::Mgr,
        id: mgr_id(i),
        child: None,
    });
    let osds = (0..spec.osds).map(|i| DaemonSlot {
        kind: DaemonKind::Osd,
        id: i.to_string(),
        child: None,
    });
    mgrs.chain(osds).collect()
}

/// The caps each kind of daemon gets, as `ceph-authtool --cap` pairs.
fn caps(kind: DaemonKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        DaemonKind::Mgr => &[
            ("mon", "allow profile mgr"),
            ("osd", "allow *"),
            ("mds", "allow *"),
        ],
        DaemonKind::Osd => &[
            ("mon", "allow profile osd"),
            ("mgr", "allow profile osd"),
            ("osd", "allow *"),
        ],
    }
}

/// How an OSD or a manager is split into a daemon type and an id:
/// `osd.3` -> (Osd, "3"); anything else is not one of ours.
fn parse_entity(entity: &str) -> Option<(DaemonKind, &str)> {
    let (kind, id) = entity.split_once('.')?;
    let kind = match kind {
        "osd" => DaemonKind::Osd,
        "mgr" => DaemonKind::Mgr,
        _ => return None,
    };
    (!id.is_empty()).then_some((kind, id))
}

/// Whether `name` names a manager or an OSD rather than a monitor.
pub(crate) fn is_daemon_entity(name: &str) -> bool {
    parse_entity(name).is_some()
}

/// The lines the daemons add to ceph.conf.
pub(crate) fn render_conf(conf: &mut String, dir: &Path, spec: &ClusterSpec) {
    let dir = dir.display();
    let line = |conf: &mut String, key: &str, value: &str| {
        let _ = writeln!(conf, "{key} = {value}");
    };
    if spec.mgrs > 0 {
        conf.push_str("\n[mgr]\n");
        line(conf, "mgr_data", &format!("{dir}/mgr/$cluster-$id"));
        line(conf, "keyring", "$mgr_data/keyring");
        daemon_files(conf, &dir.to_string());
        line(conf, "public_addr", "127.0.0.1");
        for (k, v) in &spec.mgr_options {
            line(conf, k, v);
        }
    }
    if spec.osds > 0 {
        conf.push_str("\n[osd]\n");
        line(conf, "osd_data", &format!("{dir}/osd/$cluster-$id"));
        line(conf, "keyring", "$osd_data/keyring");
        daemon_files(conf, &dir.to_string());
        line(conf, "public_addr", "127.0.0.1");
        line(conf, "cluster_addr", "127.0.0.1");
        line(conf, "osd_objectstore", "memstore");
        // Only a ceiling: memstore takes memory as data is written.
        line(conf, "memstore_device_bytes", "1073741824");
        // Fewer threads: several clusters share two cores in CI.
        line(conf, "osd_op_num_shards", "2");
        line(conf, "osd_op_num_threads_per_shard", "1");
        for (k, v) in &spec.osd_options {
            line(conf, k, v);
        }
        // One host bucket per OSD, so the default replicated rule (one copy
        // per host) finds as many hosts as there are OSDs.
        for i in 0..spec.osds {
            let _ = writeln!(conf, "\n[osd.{i}]");
            line(
                conf,
                "crush_location",
                &format!("root=default host=host{i}"),
            );
        }
    }
}

/// A daemon's log, admin socket and pid file, all in the state directory.
/// Not in `[global]`: every `ceph` CLI process would make a socket too.
fn daemon_files(conf: &mut String, dir: &str) {
    for (key, path) in [
        ("log_file", "log/$cluster-$name.log"),
        ("admin_socket", "run/$cluster-$name.asok"),
        ("pid_file", "run/$cluster-$name.pid"),
    ] {
        let _ = writeln!(conf, "{key} = {dir}/{path}");
    }
}

/// `[global]` defaults that only matter once there are OSDs.
pub(crate) fn global_defaults(spec: &ClusterSpec) -> Vec<(&'static str, String)> {
    if spec.osds == 0 {
        return Vec::new();
    }
    vec![
        // As many copies as there are OSDs (at most Ceph's usual 3), so a
        // small test bed still reaches active+clean.
        ("osd_pool_default_size", spec.osds.min(3).to_string()),
        ("osd_pool_default_min_size", "1".to_string()),
        // PG counts that do not move under a test's feet.
        ("osd_pool_default_pg_autoscale_mode", "off".to_string()),
        ("osd_pool_default_pg_num", "8".to_string()),
        ("osd_pool_default_pgp_num", "8".to_string()),
        ("mon_warn_on_pool_no_redundancy", "false".to_string()),
    ]
}

impl Cluster {
    /// Makes a key for every manager and OSD and adds it, with its caps, to
    /// the monitors' keyring (before `--mkfs`, which imports it); writes
    /// each daemon's own keyring into its data directory.
    pub(crate) fn provision_daemon_keys(&self, mon_keyring: &Path) -> Result<()> {
        let slots: Vec<(DaemonKind, String)> = self
            .lock_daemons()
            .iter()
            .map(|s| (s.kind, s.id.clone()))
            .collect();
        for (kind, id) in slots {
            let entity = format!("{}.{id}", kind.type_name());
            let data = self.daemon_data_dir(kind, &id);
            fs::create_dir_all(&data).map_err(io_err(format!("creating {}", data.display())))?;
            let keyring = data.join("keyring");
            let mut cmd = self.runtime.command("ceph-authtool");
            cmd.arg("--create-keyring")
                .arg(&keyring)
                .args(["--gen-key", "-n", &entity]);
            for (service, cap) in caps(kind) {
                cmd.args(["--cap", service, cap]);
            }
            run_tool(cmd)?;
            let mut cmd = self.runtime.command("ceph-authtool");
            cmd.arg(mon_keyring).arg("--import-keyring").arg(&keyring);
            run_tool(cmd)?;
        }
        Ok(())
    }

    fn daemon_data_dir(&self, kind: DaemonKind, id: &str) -> PathBuf {
        self.root.join(kind.type_name()).join(format!("ceph-{id}"))
    }

    /// Starts the managers, registers and formats the OSDs and starts them;
    /// waits until a manager is active and every OSD is up.
    pub(crate) fn start_daemons(&self, spec: &ClusterSpec) -> Result<()> {
        let mgrs = self.mgr_ids();
        for id in &mgrs {
            self.start_daemon(&format!("mgr.{id}"))?;
        }
        let osds = self.osd_ids();
        for &id in &osds {
            self.create_osd(id)?;
        }
        // Format in parallel: each mkfs talks to the monitors and waits.
        thread::scope(|scope| {
            let jobs: Vec<_> = osds
                .iter()
                .map(|&id| scope.spawn(move || self.mkfs_osd(id)))
                .collect();
            jobs.into_iter()
                .try_for_each(|job| job.join().unwrap_or_else(|_| panic!("mkfs thread")))
        })?;
        for &id in &osds {
            self.start_daemon(&format!("osd.{id}"))?;
        }
        if !mgrs.is_empty() {
            self.wait_for_mgr(spec.daemon_timeout)?;
        }
        if !osds.is_empty() {
            self.wait_for_osds_up(osds.len(), spec.daemon_timeout)?;
        }
        Ok(())
    }

    /// Adds OSD `id` to the OSD map (`ceph osd new UUID ID`).
    fn create_osd(&self, id: u32) -> Result<()> {
        let uuid = crate::random_fsid();
        fs::write(
            self.daemon_data_dir(DaemonKind::Osd, &id.to_string())
                .join("uuid"),
            &uuid,
        )
        .map_err(io_err(format!("writing osd.{id} uuid")))?;
        let out = self.ceph(&["osd", "new", &uuid, &id.to_string()])?;
        if !out.success() || out.stdout.trim() != id.to_string() {
            return Err(Error::Tool {
                command: format!("ceph osd new {uuid} {id}"),
                status: format!("{:?}", out.code),
                stderr: format!("{}{}", out.stdout, out.stderr),
            });
        }
        Ok(())
    }

    fn mkfs_osd(&self, id: u32) -> Result<()> {
        let data = self.daemon_data_dir(DaemonKind::Osd, &id.to_string());
        let uuid = fs::read_to_string(data.join("uuid"))
            .map_err(io_err(format!("reading osd.{id} uuid")))?;
        let mut cmd = self.runtime.command("ceph-osd");
        cmd.arg("-c").arg(self.conf_path()).args([
            "-i",
            &id.to_string(),
            "--mkfs",
            "--osd-uuid",
            uuid.trim(),
        ]);
        run_tool(cmd).map(drop)
    }

    /// The manager ids (`x`, `y`, ...), in order.
    pub fn mgr_ids(&self) -> Vec<String> {
        self.lock_daemons()
            .iter()
            .filter(|s| s.kind == DaemonKind::Mgr)
            .map(|s| s.id.clone())
            .collect()
    }

    /// The OSD ids (`0`, `1`, ...), in order.
    pub fn osd_ids(&self) -> Vec<u32> {
        self.lock_daemons()
            .iter()
            .filter(|s| s.kind == DaemonKind::Osd)
            .filter_map(|s| s.id.parse().ok())
            .collect()
    }

    /// The pid of a manager or OSD (`mgr.x`, `osd.0`), if it is running.
    pub fn daemon_pid(&self, entity: &str) -> Result<Option<u32>> {
        self.with_daemon(entity, |slot| Ok(running_pid(&mut slot.child)))
    }

    /// Path of a daemon's admin socket: `mon.a`, `mgr.x`, `osd.0` (a bare
    /// monitor name such as `a` works too).
    pub fn daemon_admin_socket(&self, entity: &str) -> PathBuf {
        let entity = if entity.contains('.') {
            entity.to_string()
        } else {
            format!("mon.{entity}")
        };
        self.root.join("run").join(format!("ceph-{entity}.asok"))
    }

    pub(crate) fn lock_daemons(&self) -> std::sync::MutexGuard<'_, Vec<DaemonSlot>> {
        crate::lock(&self.daemons)
    }

    pub(crate) fn with_daemon<T>(
        &self,
        entity: &str,
        f: impl FnOnce(&mut DaemonSlot) -> Result<T>,
    ) -> Result<T> {
        let (kind, id) =
            parse_entity(entity).ok_or_else(|| Error::UnknownDaemon(entity.to_string()))?;
        let mut daemons = self.lock_daemons();
        let slot = daemons
            .iter_mut()
            .find(|s| s.kind == kind && s.id == id)
            .ok_or_else(|| Error::UnknownDaemon(entity.to_string()))?;
        f(slot)
    }

    /// Starts a manager or OSD (`mgr.x`, `osd.0`) after [`Cluster::kill`],
    /// or for the first time. Does not wait for it to be up.
    pub fn start_daemon(&self, entity: &str) -> Result<()> {
        let conf = self.conf_path();
        let log_dir = self.root.join("log");
        self.with_daemon(entity, |slot| {
            if running_pid(&mut slot.child).is_some() {
                return Err(Error::AlreadyRunning(entity.to_string()));
            }
            let open = |path: PathBuf| {
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(io_err(format!("opening {}", path.display())))
            };
            let mut command = self.runtime.command(slot.kind.program());
            command
                .args(["-f", "-i", &slot.id, "-c"])
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(open(log_dir.join(format!("{entity}.stdout")))?)
                .stderr(open(log_dir.join(format!("{entity}.stderr")))?);
            let child = command.spawn().map_err(io_err(format!(
                "spawning {} -i {}",
                slot.kind.program(),
                slot.id
            )))?;
            slot.child = Some(child);
            Ok(())
        })
    }

    /// SIGKILLs a manager or OSD and reaps it (a no-op if not running).
    pub(crate) fn kill_daemon(&self, entity: &str) -> Result<()> {
        self.with_daemon(entity, |slot| crate::kill(slot.child.take(), entity))
    }

    /// SIGTERM (SIGKILL after 10 s), then start again.
    pub(crate) fn restart_daemon(&self, entity: &str) -> Result<()> {
        self.with_daemon(entity, |slot| crate::terminate(slot.child.take(), entity))?;
        self.start_daemon(entity)
    }

    /// The daemon's pid, or an error saying it is not running.
    pub(crate) fn daemon_running_pid(&self, entity: &str) -> Result<u32> {
        self.daemon_pid(entity)?.ok_or_else(|| Error::DaemonExited {
            name: entity.to_string(),
            status: "not running".into(),
            logs: self.daemon_logs_tail(entity),
        })
    }

    /// The tails of a manager's or OSD's log and stderr, for error messages.
    pub fn daemon_logs_tail(&self, entity: &str) -> String {
        let log = self.root.join("log");
        crate::logs_tail(&[
            log.join(format!("ceph-{entity}.log")),
            log.join(format!("{entity}.stderr")),
        ])
    }

    /// Fails if a daemon we wait for has exited: it will not come up by itself.
    fn check_daemons_alive(&self, kind: DaemonKind) -> Result<()> {
        let mut daemons = self.lock_daemons();
        for slot in daemons.iter_mut().filter(|s| s.kind == kind) {
            if let Some(child) = slot.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    slot.child = None;
                    let name = slot.entity();
                    drop(daemons);
                    return Err(Error::DaemonExited {
                        logs: self.daemon_logs_tail(&name),
                        name,
                        status: status.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Polls `ceph JSON-COMMAND` until `done` says yes, a daemon of `kind`
    /// dies, or `timeout` passes.
    fn poll_until(
        &self,
        what: &str,
        args: &[&str],
        kind: DaemonKind,
        timeout: Duration,
        mut done: impl FnMut(&serde_json::Value) -> Result<bool, String>,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("(no answer yet)");
        loop {
            self.check_daemons_alive(kind)?;
            let out = self.ceph_with_timeout(args, Duration::from_secs(10))?;
            if out.success() {
                match out.json().map_err(|e| e.to_string()).and_then(|v| done(&v)) {
                    Ok(true) => return Ok(()),
                    Ok(false) => {}
                    Err(e) => last = e,
                }
            } else {
                last = out.stderr.trim().to_string();
            }
            if Instant::now() >= deadline {
                return Err(Error::DaemonsNotReady {
                    what: what.to_string(),
                    timeout,
                    last,
                });
            }
            thread::sleep(Duration::from_millis(300));
        }
    }

    /// Waits until the MgrMap has an active, available manager; returns its name.
    pub fn wait_for_mgr(&self, timeout: Duration) -> Result<String> {
        let mut active = String::new();
        self.poll_until(
            "an active manager",
            &["mgr", "dump", "-f", "json"],
            DaemonKind::Mgr,
            timeout,
            |map| {
                active = map["active_name"].as_str().unwrap_or("").to_string();
                Ok(map["available"].as_bool() == Some(true) && !active.is_empty())
            },
        )?;
        Ok(active)
    }

    /// Waits until at least `count` OSDs are up and in.
    pub fn wait_for_osds_up(&self, count: usize, timeout: Duration) -> Result<()> {
        self.poll_until(
            &format!("{count} OSDs up and in"),
            &["osd", "dump", "-f", "json"],
            DaemonKind::Osd,
            timeout,
            |map| {
                let osds = map["osds"].as_array().ok_or("no osds in osd dump")?;
                let ready = osds
                    .iter()
                    .filter(|o| o["up"].as_u64() == Some(1) && o["in"].as_u64() == Some(1))
                    .count();
                Ok(ready >= count)
            },
        )
    }

    /// Waits until every PG is active+clean (needs a manager: PG states
    /// reach `ceph status` through it).
    pub fn wait_for_clean(&self, timeout: Duration) -> Result<()> {
        self.poll_until(
            "all PGs active+clean",
            &["status", "-f", "json"],
            DaemonKind::Osd,
            timeout,
            |status| {
                let pgmap = &status["pgmap"];
                let total = pgmap["num_pgs"].as_u64().ok_or("no num_pgs in status")?;
                let clean: u64 = pgmap["pgs_by_state"]
                    .as_array()
                    .map(|states| {
                        states
                            .iter()
                            .filter(|s| s["state_name"] == "active+clean")
                            .filter_map(|s| s["count"].as_u64())
                            .sum()
                    })
                    .unwrap_or(0);
                Ok(clean == total)
            },
        )
    }

    /// Creates a replicated pool with `pg_num` PGs and the `rbd`-less
    /// application tag `test`, and waits until its PGs are active+clean.
    pub fn create_pool(&self, name: &str, pg_num: u32, timeout: Duration) -> Result<()> {
        let pg = pg_num.to_string();
        for args in [
            &["osd", "pool", "create", name, &pg, &pg][..],
            &["osd", "pool", "application", "enable", name, "test"][..],
        ] {
            let out = self.ceph(args)?;
            if !out.success() {
                return Err(Error::Tool {
                    command: format!("ceph {}", args.join(" ")),
                    status: format!("{:?}", out.code),
                    stderr: out.stderr,
                });
            }
        }
        self.wait_for_clean(timeout)
    }

    /// Freezes (`stop = true`) or resumes a manager or OSD.
    pub(crate) fn signal_daemon(
        &self,
        entity: &str,
        signal: libc::c_int,
        stop: bool,
    ) -> Result<()> {
        let pid = self.daemon_running_pid(entity)?;
        send_signal(pid, signal)?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while crate::is_stopped(pid) != stop && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_parse_and_monitors_do_not() {
        assert_eq!(parse_entity("osd.12"), Some((DaemonKind::Osd, "12")));
        assert_eq!(parse_entity("mgr.x"), Some((DaemonKind::Mgr, "x")));
        assert_eq!(parse_entity("mon.a"), None);
        assert_eq!(parse_entity("a"), None);
        assert_eq!(parse_entity("osd."), None);
        assert!(is_daemon_entity("osd.0"));
        assert!(!is_daemon_entity("b"));
    }

    #[test]
    fn spec_makes_managers_then_osds() {
        let spec = ClusterSpec::with_mons(1).mgrs(2).osds(3);
        let slots = slots_for(&spec);
        let entities: Vec<String> = slots.iter().map(DaemonSlot::entity).collect();
        assert_eq!(entities, ["mgr.x", "mgr.y", "osd.0", "osd.1", "osd.2"]);
        assert_eq!(mgr_id(3), "m3");
    }

    #[test]
    fn conf_has_one_host_per_osd_and_memstore() {
        let spec = ClusterSpec::with_mons(1).mgrs(1).osds(2);
        let mut conf = String::new();
        render_conf(&mut conf, Path::new("/t"), &spec);
        assert!(conf.contains("[mgr]\nmgr_data = /t/mgr/$cluster-$id"));
        assert!(conf.contains("osd_objectstore = memstore"));
        assert!(conf.contains("[osd.1]\ncrush_location = root=default host=host1"));
        let defaults = global_defaults(&spec);
        assert!(defaults.contains(&("osd_pool_default_size", "2".to_string())));
        assert!(global_defaults(&ClusterSpec::with_mons(1)).is_empty());
    }
}
