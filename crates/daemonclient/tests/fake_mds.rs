//! `tell mds.NAME` against a fake MDS (the test bed runs no MDS): the MDS
//! is found in the monitors' `fs dump`, the MDS ticket is asked for on
//! demand (the session starts without one), the connection presents an
//! authorizer the fake checks with the service secret, and MCommand gets
//! its MCommandReply. Then faults: a command in flight when the connection
//! resets is sent again on a new one; a silent MDS ends in a timeout; unknown names fail
//! at once.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ceph_daemonclient::{DaemonClient, DaemonClientOptions, DaemonError};
use ceph_fakemon::{CommandContext, CommandOutcome, FakeMon, FakeMonConfig};
use ceph_monclient::{MonClient, MonClientOptions};
use serde_json::{json, Value};

fn prefix(ctx: &CommandContext<'_>) -> String {
    ctx.cmd
        .first()
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .and_then(|v| Some(v.get("prefix")?.as_str()?.to_string()))
        .unwrap_or_default()
}

struct Setup {
    mon: FakeMon,
    mds: FakeMon,
    client: MonClient,
    daemons: DaemonClient,
}

async fn setup() -> Setup {
    let key = ceph_fakemon::cephx::random_key();
    let name: ceph_types::EntityName = "client.admin".parse().unwrap();
    let mds_addr: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    let mut mon_cfg = FakeMonConfig::new(name.clone(), key.clone());
    let seen = mds_addr.clone();
    mon_cfg.command_handler = Arc::new(move |ctx: &CommandContext<'_>| {
        if prefix(ctx) != "fs dump" {
            return ceph_fakemon::default_command_handler(ctx);
        }
        let addr = seen.lock().unwrap().expect("the MDS started first");
        let info = json!({"gid": 4242, "name": "a",
            "addrs": {"addrvec": [{"type": "v2", "addr": addr.to_string(), "nonce": 0}]}});
        let dump = json!({"epoch": 3, "standbys": [],
            "filesystems": [{"mdsmap": {"info": {"gid_4242": info}}}]});
        CommandOutcome {
            retval: 0,
            outs: "dumped fsmap epoch 3".into(),
            outbl: dump.to_string().into_bytes(),
        }
    });
    let mon = FakeMon::start(mon_cfg).await;
    let mut mds_cfg = FakeMonConfig::new(name.clone(), key.clone());
    mds_cfg.name = "mds-a".into();
    mds_cfg.command_handler = Arc::new(|ctx: &CommandContext<'_>| match prefix(ctx).as_str() {
        "version" => CommandOutcome {
            retval: 0,
            outs: String::new(),
            outbl: br#"{"version":"fake","release":"mds"}"#.to_vec(),
        },
        other => CommandOutcome {
            retval: -22,
            outs: format!("unknown command {other}"),
            outbl: Vec::new(),
        },
    });
    let mds = FakeMon::start_daemon(mds_cfg, &mon).await;
    *mds_addr.lock().unwrap() = Some(mds.addr());
    let opts = MonClientOptions::new(name.clone(), key, vec![mon.addrvec()]);
    let client = MonClient::connect(opts).await.expect("session");
    let mut dopts = DaemonClientOptions::new(name);
    dopts.command_timeout = Duration::from_secs(10);
    let daemons = DaemonClient::new(client.clone(), dopts);
    Setup {
        mon,
        mds,
        client,
        daemons,
    }
}

const VERSION: &str = r#"{"prefix": "version"}"#;

#[tokio::test]
async fn tell_mds_by_name_with_an_authorizer() {
    let s = setup().await;
    let r = s
        .daemons
        .mds_command("a", VERSION, Vec::new(), None)
        .await
        .expect("answer");
    assert_eq!(r.retval, 0, "{}", r.outs);
    assert_eq!(r.outbl, br#"{"version":"fake","release":"mds"}"#);
    // By gid too, and the daemon's refusal comes back as its reply.
    let r = s
        .daemons
        .mds_command("4242", r#"{"prefix": "frob"}"#, Vec::new(), None)
        .await
        .expect("answer");
    assert_eq!((r.retval, r.outs.as_str()), (-22, "unknown command frob"));
    let got: Vec<Vec<String>> = s
        .mds
        .stats()
        .commands
        .iter()
        .map(|c| c.cmd.clone())
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], [VERSION]);
    // One connection served both.
    assert_eq!(s.mds.stats().connections, 1);
    // The monitor was asked for an MDS ticket in the session.
    assert!(s.client.status().renewals.service_tickets >= 1);
    s.client.shutdown().await;
}

#[tokio::test]
async fn a_command_in_flight_on_a_reset_connection_is_sent_again() {
    let s = setup().await;
    // The MDS takes the command but does not answer, then drops the
    // connection: the client sends it again on a new one.
    s.mds.ignore_commands(true);
    let daemons = s.daemons.clone();
    let pending =
        tokio::spawn(async move { daemons.mds_command("a", VERSION, Vec::new(), None).await });
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.mds.stats().commands.is_empty() {
        assert!(Instant::now() < deadline, "the command never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    s.mds.ignore_commands(false);
    s.mds.close_all().await;
    let r = pending.await.unwrap().expect("answer after the reset");
    assert_eq!(r.retval, 0);
    let stats = s.mds.stats();
    assert_eq!(stats.connections, 2);
    let answered: Vec<bool> = stats.commands.iter().map(|c| c.answered).collect();
    assert_eq!(answered, [false, true]);
    drop(stats);
    s.client.shutdown().await;
}

#[tokio::test]
async fn a_silent_mds_times_out_and_unknown_names_fail_at_once() {
    let s = setup().await;
    s.mds.ignore_commands(true);
    let started = Instant::now();
    let e = s
        .daemons
        .mds_command("a", VERSION, Vec::new(), Some(Duration::from_millis(500)))
        .await
        .expect_err("no answer");
    assert!(matches!(e, DaemonError::TimedOut(..)), "{e}");
    assert_eq!(e.errno(), 110);
    assert!(started.elapsed() < Duration::from_secs(3));
    let started = Instant::now();
    let e = s
        .daemons
        .mds_command("nobody", VERSION, Vec::new(), None)
        .await
        .expect_err("no such MDS");
    assert!(matches!(e, DaemonError::NoSuchDaemon(_)), "{e}");
    assert_eq!(e.errno(), 2);
    assert!(started.elapsed() < Duration::from_secs(1));
    let _ = &s.mon;
    s.client.shutdown().await;
}
