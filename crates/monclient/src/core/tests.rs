use super::*;

fn addrs(n: usize) -> Vec<EntityAddrVec> {
    (0..n)
        .map(|i| {
            format!(
                "[v2:127.0.0.1:{},v1:127.0.0.1:{}]",
                3300 + i * 10,
                6789 + i * 10
            )
            .parse()
            .unwrap()
        })
        .collect()
}

fn core(n: usize) -> (Core, Instant) {
    let now = Instant::now();
    let mut c = Core::new(SessionConfig::default(), &addrs(n), 7).unwrap();
    c.start(now);
    (c, now)
}

fn drain(c: &mut Core) -> Vec<Action> {
    std::iter::from_fn(|| c.poll_action()).collect()
}

fn connects(actions: &[Action]) -> Vec<ConnId> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Connect { conn, .. } => Some(*conn),
            _ => None,
        })
        .collect()
}

fn sends(actions: &[Action]) -> Vec<(ConnId, u16, u64)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { conn, tid, body } => Some((*conn, body.ty, *tid)),
            _ => None,
        })
        .collect()
}

#[test]
fn hunts_in_parallel_and_first_wins() {
    let (mut c, now) = core(5);
    let a = drain(&mut c);
    let tries = connects(&a);
    assert_eq!(tries.len(), 3, "hunt_parallel defaults to 3");
    c.handle_connected(tries[1], 4242, now + Duration::from_millis(5));
    let a = drain(&mut c);
    let closed: Vec<ConnId> = a
        .iter()
        .filter_map(|a| match a {
            Action::Close { conn } => Some(*conn),
            _ => None,
        })
        .collect();
    assert_eq!(closed.len(), 2);
    assert!(!closed.contains(&tries[1]));
    assert_eq!(sends(&a), vec![(tries[1], msg_type::MON_SUBSCRIBE, 0)]);
    assert_eq!(c.global_id(), 4242);
    assert!(matches!(c.state(), SessionState::Active { .. }));
    // A loser finishing late is closed, not adopted.
    c.handle_connected(tries[0], 1, now + Duration::from_millis(6));
    assert!(matches!(drain(&mut c)[..], [Action::Close { conn }] if conn == tries[0]));
}

#[test]
fn commands_wait_for_a_session_and_are_resent_after_a_reset() {
    let (mut c, now) = core(3);
    let first = connects(&drain(&mut c));
    let tid = c.start_command(vec!["{\"prefix\":\"status\"}".into()], vec![], None, now);
    assert!(
        sends(&drain(&mut c)).is_empty(),
        "nothing is sent while hunting"
    );
    c.handle_connected(first[0], 1, now);
    let s = sends(&drain(&mut c));
    assert!(s.contains(&(first[0], msg_type::MON_COMMAND, tid)));
    // The session dies: hunting again, and the command goes out on the next one.
    c.handle_closed(first[0], &MonError::SessionReset, now);
    let retry = connects(&drain(&mut c));
    assert!(!retry.is_empty());
    c.handle_connected(retry[0], 1, now);
    let s = sends(&drain(&mut c));
    assert!(s.contains(&(retry[0], msg_type::MON_COMMAND, tid)), "{s:?}");
    // The answer completes it exactly once.
    let ack = MonCommandAck {
        retval: 0,
        outs: "ok".into(),
        cmd: vec![],
        outbl: b"{}".to_vec(),
    }
    .to_body();
    c.handle_message(
        retry[0],
        InMessage {
            ty: ack.ty,
            version: 1,
            tid,
            front: &ack.front,
            data: &ack.data,
        },
        now,
    );
    c.handle_message(
        retry[0],
        InMessage {
            ty: ack.ty,
            version: 1,
            tid,
            front: &ack.front,
            data: &ack.data,
        },
        now,
    );
    let done: Vec<_> = drain(&mut c)
        .into_iter()
        .filter(|a| matches!(a, Action::Done { .. }))
        .collect();
    assert_eq!(done.len(), 1);
    assert!(
        matches!(&done[0], Action::Done { tid: t, result: Ok(Reply::Command(r)) } if *t == tid && r.outs == "ok")
    );
}

#[test]
fn resend_limit_gives_session_reset() {
    let now = Instant::now();
    let cfg = SessionConfig {
        max_command_attempts: 2,
        ..SessionConfig::default()
    };
    let mut c = Core::new(cfg, &addrs(1), 1).unwrap();
    c.start(now);
    let tid = c.start_command(vec!["x".into()], vec![], None, now);
    let mut result = None;
    for _ in 0..3 {
        let conn = connects(&drain(&mut c));
        let conn = match conn.first() {
            Some(c) => *c,
            None => {
                // Single monitor: the next round starts at the hunt deadline.
                c.handle_timeout(c.poll_timeout().unwrap());
                connects(&drain(&mut c))[0]
            }
        };
        c.handle_connected(conn, 1, now);
        for a in drain(&mut c) {
            if let Action::Done { tid: t, result: r } = a {
                assert_eq!(t, tid);
                result = Some(r);
            }
        }
        c.handle_closed(conn, &MonError::SessionReset, now);
    }
    assert!(matches!(result, Some(Err(MonError::SessionReset))));
}

#[test]
fn keepalive_timeout_reopens_and_backoff_grows_then_decays() {
    let (mut c, t0) = core(3);
    let conn = connects(&drain(&mut c))[0];
    c.handle_connected(conn, 1, t0);
    drain(&mut c);
    let cfg = c.config().clone();
    // Acked keepalives keep the session.
    let mut now = t0;
    for _ in 0..5 {
        now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        let a = drain(&mut c);
        assert!(a.iter().any(|a| matches!(a, Action::Keepalive { .. })));
        c.handle_keepalive_ack(conn, now);
    }
    assert!(matches!(c.state(), SessionState::Active { .. }));
    // Silence: reopened no later than ping_timeout + one ping interval.
    let silent_from = now;
    loop {
        now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        let a = drain(&mut c);
        if !connects(&a).is_empty() {
            assert!(a
                .iter()
                .any(|a| matches!(a, Action::Close { conn: x } if *x == conn)));
            break;
        }
    }
    let took = now - silent_from;
    assert_eq!(took, cfg.ping_timeout);
    assert!(matches!(c.state(), SessionState::Hunting));
    assert_eq!(c.hunt_multiple(), 1.5);
    // Failing rounds grow it up to the cap.
    for _ in 0..20 {
        let now = c.poll_timeout().unwrap();
        for id in connects(&drain(&mut c)) {
            c.handle_closed(id, &MonError::SessionReset, now);
        }
        c.handle_timeout(now);
    }
    assert_eq!(c.hunt_multiple(), cfg.hunt_max_multiple);
    // A healthy session decays it back to the minimum.
    let conn = connects(&drain(&mut c))[0];
    let mut now = c.poll_timeout().unwrap();
    c.handle_connected(conn, 1, now);
    for _ in 0..20 {
        now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        c.handle_keepalive_ack(conn, now);
    }
    assert_eq!(c.hunt_multiple(), cfg.hunt_min_multiple);
}

#[test]
fn a_fresh_session_is_not_judged_dead_at_once() {
    let (mut c, t0) = core(1);
    let conn = connects(&drain(&mut c))[0];
    c.handle_connected(conn, 1, t0);
    drain(&mut c);
    let just_before = t0 + c.config().ping_timeout - Duration::from_millis(1);
    c.handle_timeout(just_before);
    assert!(matches!(c.state(), SessionState::Active { .. }));
}

#[test]
fn command_deadline_and_shutdown() {
    let (mut c, t0) = core(1);
    drain(&mut c);
    let slow = c.start_command(vec!["a".into()], vec![], Some(Duration::from_secs(2)), t0);
    let pending = c.start_command(vec!["b".into()], vec![], None, t0);
    let v = c.start_get_version("osdmap", None, t0);
    c.handle_timeout(t0 + Duration::from_secs(2));
    let a = drain(&mut c);
    assert!(a.iter().any(
        |a| matches!(a, Action::Done { tid, result: Err(MonError::TimedOut(..)) } if *tid == slow)
    ));
    c.shutdown();
    let a = drain(&mut c);
    assert!(a.iter().any(|a| matches!(a, Action::Done { tid, result: Err(MonError::ShuttingDown) } if *tid == pending)));
    assert!(a.iter().any(
        |a| matches!(a, Action::Done { tid, result: Err(MonError::ShuttingDown) } if *tid == v)
    ));
    let late = c.start_command(vec!["c".into()], vec![], None, t0);
    assert!(
        matches!(drain(&mut c)[..], [Action::Done { tid, result: Err(MonError::ShuttingDown) }] if tid == late)
    );
    assert_eq!(c.state(), SessionState::Shutdown);
}

#[test]
fn parallel_zero_means_all() {
    let now = Instant::now();
    let cfg = SessionConfig {
        hunt_parallel: 0,
        ..SessionConfig::default()
    };
    let mut c = Core::new(cfg, &addrs(5), 3).unwrap();
    c.start(now);
    assert_eq!(connects(&drain(&mut c)).len(), 5);
}

/// The addresses the first Connect carries.
fn first_targets(c: &mut Core) -> Vec<String> {
    drain(c)
        .iter()
        .find_map(|a| match a {
            Action::Connect { targets, .. } => {
                Some(targets.iter().map(|t| t.to_string()).collect())
            }
            _ => None,
        })
        .expect("a connect")
}

#[test]
fn targets_follow_the_address_rules_and_the_modes() {
    let now = Instant::now();
    let cases: [(&str, &[&str]); 5] = [
        ("v1:127.0.0.1:6789", &["v1:127.0.0.1:6789/0"]),
        ("127.0.0.1:6789", &["v1:127.0.0.1:6789/0"]),
        ("127.0.0.1:3300", &["v2:127.0.0.1:3300/0"]),
        ("127.0.0.1", &["v2:127.0.0.1:3300/0", "v1:127.0.0.1:6789/0"]),
        // Any other port: both protocols on it, v2 first.
        (
            "127.0.0.1:7000",
            &["v2:127.0.0.1:7000/0", "v1:127.0.0.1:7000/0"],
        ),
    ];
    for (mon_host, want) in cases {
        let addrs = ceph_config::parse_mon_host(mon_host).unwrap();
        let mut c = Core::new(SessionConfig::default(), &addrs, 1).unwrap();
        c.start(now);
        assert_eq!(first_targets(&mut c), want, "{mon_host}");
        // Secure only: msgr1 has no secure mode, so its addresses drop out.
        let mut c = Core::new(SessionConfig::default(), &addrs, 1)
            .unwrap()
            .with_local_config(vec![ConMode::Secure], None);
        c.start(now);
        let v2_only: Vec<&str> = want
            .iter()
            .copied()
            .filter(|a| a.starts_with("v2"))
            .collect();
        assert_eq!(first_targets(&mut c), v2_only, "{mon_host} secure");
    }
    let nothing: Vec<EntityAddrVec> = vec![EntityAddrVec::new(vec![])];
    assert!(matches!(
        Core::new(SessionConfig::default(), &nothing, 1),
        Err(MonError::Config(_))
    ));
}

#[test]
fn stalled_requests_on_a_live_monitor_probe_others_and_move() {
    let (mut c, t0) = core(3);
    let first = connects(&drain(&mut c));
    c.handle_connected(first[0], 1, t0);
    drain(&mut c);
    let tid = c.start_command(vec!["x".into()], vec![], None, t0);
    drain(&mut c);
    let stall = c.config().stall_timeout.unwrap();
    // Keepalives keep coming back, but the command is not answered.
    let (probes, now) = loop {
        let now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        c.handle_keepalive_ack(first[0], now);
        let a = drain(&mut c);
        let p = connects(&a);
        if !p.is_empty() {
            assert!(
                !a.iter()
                    .any(|a| matches!(a, Action::Close { conn } if *conn == first[0])),
                "the session is kept while probing"
            );
            break (p, now);
        }
        assert!(now - t0 <= stall, "no probe after {:?}", now - t0);
    };
    assert_eq!(now - t0, stall);
    assert_eq!(probes.len(), 2, "every other monitor is probed");
    assert!(matches!(c.state(), SessionState::Active { .. }));
    // One answers: the client moves there and resends the command.
    c.handle_connected(probes[1], 1, now);
    let a = drain(&mut c);
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::Close { conn } if *conn == first[0])));
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::Close { conn } if *conn == probes[0])));
    assert!(sends(&a).contains(&(probes[1], msg_type::MON_COMMAND, tid)));
    assert!(sends(&a).contains(&(probes[1], msg_type::MON_SUBSCRIBE, 0)));
}

#[test]
fn failed_probes_wait_a_whole_stall_period() {
    let (mut c, t0) = core(2);
    let first = connects(&drain(&mut c));
    c.handle_connected(first[0], 1, t0);
    drain(&mut c);
    c.start_command(vec!["x".into()], vec![], None, t0);
    drain(&mut c);
    let stall = c.config().stall_timeout.unwrap();
    let at = t0 + stall;
    c.handle_keepalive_ack(first[0], at);
    c.handle_timeout(at);
    let probe = connects(&drain(&mut c));
    assert_eq!(probe.len(), 1);
    c.handle_closed(probe[0], &MonError::SessionReset, at);
    assert!(matches!(c.state(), SessionState::Active { .. }));
    assert_eq!(
        c.poll_timeout()
            .map(|t| t >= at + stall.min(c.config().ping_interval)),
        Some(true)
    );
    assert!(c.stall_deadline().unwrap() >= at + stall);
}

/// A session with a MonMap of `n` monitors named a, b, c... on the ports
/// `addrs(n)` uses.
fn with_monmap(n: usize) -> (Core, Instant, ConnId) {
    let (mut c, t0) = core(n);
    let conn = connects(&drain(&mut c))[0];
    c.handle_connected(conn, 1, t0);
    drain(&mut c);
    let mut map = MonMap {
        epoch: 1,
        ..MonMap::default()
    };
    for (i, av) in addrs(n).into_iter().enumerate() {
        let name = ((b'a' + i as u8) as char).to_string();
        map.add(ceph_types::monmap::MonInfo::new(name, av));
    }
    map.calc_legacy_ranks();
    let body = MonMapMsg {
        monmap: ceph_denc::Encode::to_bytes(&map, ceph_types::features::CLIENT_FEATURES_ALL),
    }
    .to_body();
    let msg = InMessage {
        ty: body.ty,
        version: 1,
        tid: 0,
        front: &body.front,
        data: &[],
    };
    c.handle_message(conn, msg, t0);
    assert!(c.monmap().is_some());
    drain(&mut c);
    (c, t0, conn)
}

fn connect_addrs(actions: &[Action]) -> Vec<(ConnId, SocketAddr)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Connect { conn, addr, .. } => Some((*conn, *addr)),
            _ => None,
        })
        .collect()
}

#[test]
fn tell_uses_its_own_connection_to_the_named_monitor() {
    let (mut c, t0, session) = with_monmap(3);
    let tid = c.start_tell(
        MonTarget::Name("c".into()),
        vec!["{\"prefix\":\"mon_status\"}".into()],
        vec![],
        None,
        t0,
    );
    let a = drain(&mut c);
    let conns = connect_addrs(&a);
    assert_eq!(conns.len(), 1);
    let (conn, addr) = conns[0];
    assert_ne!(conn, session);
    assert_eq!(addr.port(), 3320, "mon.c is the third address");
    c.handle_connected(conn, 1, t0);
    let s = sends(&drain(&mut c));
    assert_eq!(s, vec![(conn, msg_type::COMMAND, tid)]);
    // The session is untouched.
    assert_eq!(c.active_conn(), Some(session));
    let reply = crate::messages::CommandReplyMsg {
        retval: 0,
        outs: String::new(),
        outbl: b"{}".to_vec(),
    }
    .to_body();
    let msg = InMessage {
        ty: reply.ty,
        version: 1,
        tid,
        front: &reply.front,
        data: &reply.data,
    };
    c.handle_message(conn, msg, t0);
    let a = drain(&mut c);
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::Close { conn: x } if *x == conn)));
    assert!(a.iter().any(|a| matches!(a, Action::Done { tid: t, result: Ok(Reply::Command(r)) } if *t == tid && r.outbl == b"{}")));
}

#[test]
fn tell_to_unknown_monitors_and_unanswered_tells() {
    let (mut c, t0, _) = with_monmap(3);
    let by_name = c.start_tell(MonTarget::Name("zz".into()), vec![], vec![], None, t0);
    let by_rank = c.start_tell(MonTarget::Rank(7), vec![], vec![], None, t0);
    let a = drain(&mut c);
    assert!(a.iter().any(
        |a| matches!(a, Action::Done { tid, result: Err(MonError::MonDne(_)) } if *tid == by_name)
    ));
    assert!(a.iter().any(
        |a| matches!(a, Action::Done { tid, result: Err(MonError::RankDne(7)) } if *tid == by_rank)
    ));
    // A monitor that never answers: retried after the hunt interval, then
    // given up on after `directed_retry` attempts.
    let tid = c.start_ping(MonTarget::Rank(1), None, t0);
    let mut attempts = 0;
    let mut now = t0;
    let result = loop {
        let a = drain(&mut c);
        attempts += connects(&a).len();
        if let Some(r) = a.into_iter().find_map(|a| match a {
            Action::Done { tid: t, result } if t == tid => Some(result),
            _ => None,
        }) {
            break r;
        }
        now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        c.handle_keepalive_ack(c.active_conn().unwrap(), now);
    };
    assert!(
        matches!(result, Err(MonError::MonUnavailable(_))),
        "{result:?}"
    );
    assert_eq!(attempts as u32, c.config().directed_retry);
    assert_eq!(
        now - t0,
        c.config().hunt_interval * c.config().directed_retry
    );
}

#[test]
fn ping_retries_after_a_reset_and_rejects_an_empty_pong() {
    let (mut c, t0, _) = with_monmap(2);
    let tid = c.start_ping(
        MonTarget::Name("b".into()),
        Some(Duration::from_secs(30)),
        t0,
    );
    let first = connects(&drain(&mut c))[0];
    c.handle_connected(first, 1, t0);
    drain(&mut c);
    // The connection resets before the answer: a new attempt follows.
    c.handle_closed(first, &MonError::SessionReset, t0);
    let second = connects(&drain(&mut c))[0];
    c.handle_connected(second, 1, t0);
    drain(&mut c);
    // An empty pong is not an answer; the next attempt would be the third,
    // beyond the default limit of two.
    let empty = [0u8; 4];
    let msg = InMessage {
        ty: msg_type::PING,
        version: 1,
        tid: 0,
        front: &empty,
        data: &[],
    };
    c.handle_message(second, msg, t0);
    let a = drain(&mut c);
    assert!(a.iter().any(|a| matches!(a, Action::Done { tid: t, result: Err(MonError::MonUnavailable(_)) } if *t == tid)), "{a:?}");
}

#[test]
fn when_every_monitor_refuses_retries_come_early_with_their_own_backoff() {
    let (mut c, t0) = core(3);
    let mut now = t0;
    let mut gaps = Vec::new();
    for _ in 0..6 {
        let tries = connects(&drain(&mut c));
        assert_eq!(tries.len(), 3);
        for id in tries {
            c.handle_closed(id, &MonError::MonUnavailable("refused".into()), now);
        }
        let next = c.poll_timeout().unwrap();
        gaps.push(next - now);
        now = next;
        c.handle_timeout(now);
    }
    let ms: Vec<u128> = gaps.iter().map(|g| g.as_millis()).collect();
    assert_eq!(ms[..4], [200, 400, 800, 1600]);
    // Then capped by the hunt interval (the round's own deadline, with its
    // jitter, may come a little earlier).
    assert!(
        ms[4..].iter().all(|&g| (2700..=3000).contains(&g)),
        "{ms:?}"
    );
    // A session resets the early-retry backoff.
    let id = connects(&drain(&mut c))[0];
    c.handle_connected(id, 1, now);
    c.handle_closed(id, &MonError::SessionReset, now);
    for id in connects(&drain(&mut c)) {
        c.handle_closed(id, &MonError::MonUnavailable("refused".into()), now);
    }
    assert_eq!(c.poll_timeout().unwrap() - now, Duration::from_millis(200));
}

#[test]
fn osdmap_subscription_advances_and_is_replayed_after_a_reset() {
    let (mut c, t0, conn) = with_monmap(2);
    c.subscribe("osdmap", 0, false);
    assert!(sends(&drain(&mut c)).contains(&(conn, msg_type::MON_SUBSCRIBE, 0)));
    let mut m = crate::messages::OsdMapMsg::default();
    m.full.insert(5, ceph_denc::Blob(vec![1, 2, 3]));
    m.incremental.insert(6, ceph_denc::Blob(vec![4]));
    m.newest = 6;
    let body = m.to_body();
    let msg = InMessage {
        ty: body.ty,
        version: 3,
        tid: 0,
        front: &body.front,
        data: &[],
    };
    c.handle_message(conn, msg, t0);
    let a = drain(&mut c);
    assert!(a
        .iter()
        .any(|a| matches!(a, Action::Event(ClusterEvent::OsdMap { newest: 6, .. }))));
    assert_eq!(c.epoch_of("osdmap"), Some(6));
    // After a reset the subscription asks for what comes next.
    c.handle_closed(conn, &MonError::SessionReset, t0);
    let next = connects(&drain(&mut c))[0];
    c.handle_connected(next, 1, t0);
    let sub = drain(&mut c)
        .into_iter()
        .find_map(|a| match a {
            Action::Send { body, .. } if body.ty == msg_type::MON_SUBSCRIBE => Some(body),
            _ => None,
        })
        .expect("subscriptions replayed");
    let sub = MonSubscribe::decode(&sub.front).unwrap();
    assert_eq!(sub.what["osdmap"].start, 7);
    assert_eq!(sub.what["monmap"].start, 2);
}

#[test]
fn cluster_log_entries_wait_for_a_session_and_are_resent_until_acked() {
    let (mut c, t0) = core(2);
    let first = connects(&drain(&mut c))[0];
    let name: ceph_types::EntityName = "client.admin".parse().unwrap();
    let stamp = ceph_types::UTime::new(1, 0);
    let seq = c.log(
        &name,
        ceph_types::LogPriority::Info,
        "cluster",
        "hello",
        stamp,
        t0,
    );
    assert!(
        sends(&drain(&mut c)).is_empty(),
        "nothing is sent while hunting"
    );
    c.handle_connected(first, 1, t0);
    assert!(sends(&drain(&mut c)).contains(&(first, msg_type::LOG, 0)));
    // Unacknowledged: sent again after the log interval.
    let later = t0 + c.config().log_interval;
    c.handle_keepalive_ack(first, later);
    c.handle_timeout(later);
    assert!(sends(&drain(&mut c)).contains(&(first, msg_type::LOG, 0)));
    log_ack(&mut c, first, seq, later);
    assert_eq!((c.log_pending(), c.log_acked()), (0, seq));
    let much_later = later + c.config().log_interval * 3;
    c.handle_keepalive_ack(first, much_later);
    c.handle_timeout(much_later);
    assert!(!sends(&drain(&mut c)).iter().any(|s| s.1 == msg_type::LOG));
}

/// The monitors acknowledge log entries up to `seq` on `conn`.
fn log_ack(c: &mut Core, conn: ConnId, seq: u64, now: Instant) {
    let ack = crate::messages::LogAck {
        fsid: [0; 16],
        last: seq,
        channel: "cluster".into(),
    }
    .to_body();
    let msg = InMessage {
        ty: ack.ty,
        version: 1,
        tid: 0,
        front: &ack.front,
        data: &[],
    };
    c.handle_message(conn, msg, now);
}

/// Runs timers until the next keepalive goes out; returns when.
fn next_keepalive(c: &mut Core) -> Instant {
    for _ in 0..1000 {
        let now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        if drain(c)
            .iter()
            .any(|a| matches!(a, Action::Keepalive { .. }))
        {
            return now;
        }
    }
    panic!("no keepalive in 1000 timer rounds");
}

#[test]
fn new_tunables_take_effect_mid_session() {
    let (mut c, t0) = core(3);
    let conn = connects(&drain(&mut c))[0];
    c.handle_connected(conn, 1, t0);
    drain(&mut c);
    // Slow keepalives first (as a central config might ask).
    let slow = SessionConfig {
        ping_interval: Duration::from_secs(10),
        ping_timeout: Duration::from_secs(30),
        ..c.config().clone()
    };
    c.set_config(slow, t0);
    let first = next_keepalive(&mut c);
    assert_eq!(
        first,
        t0 + Duration::from_secs(1),
        "the scheduled ping stands"
    );
    c.handle_keepalive_ack(conn, first);
    let second = next_keepalive(&mut c);
    assert_eq!(second, first + Duration::from_secs(10));
    c.handle_keepalive_ack(conn, second);
    // A shorter interval brings the next keepalive forward.
    let quick = SessionConfig {
        ping_interval: Duration::from_millis(200),
        ping_timeout: Duration::from_millis(500),
        ..c.config().clone()
    };
    let later = second + Duration::from_secs(2);
    c.handle_keepalive_ack(conn, later);
    c.set_config(quick, later);
    assert_eq!(next_keepalive(&mut c), later + Duration::from_millis(200));
    // The new timeout judges the silence since the last ack.
    let mut now = later;
    for _ in 0..1000 {
        if !matches!(c.state(), SessionState::Active { .. }) {
            break;
        }
        now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        drain(&mut c);
    }
    assert_eq!(now, later + Duration::from_millis(500));
    // The hunt multiple is kept within new bounds.
    let capped = SessionConfig {
        hunt_max_multiple: 1.2,
        ..c.config().clone()
    };
    c.set_config(capped, now);
    assert!(c.hunt_multiple() <= 1.2);
}

/// The MLog bodies sent on `conn`, decoded to their entries' sequence numbers.
fn log_sends(actions: &[Action], conn: ConnId) -> Vec<Vec<u64>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { conn: c, body, .. } if *c == conn && body.ty == msg_type::LOG => {
                let m = crate::messages::LogMsg::decode(&body.front).unwrap();
                let entries = ceph_types::log::decode_log_entries(&m.entries).unwrap();
                Some(entries.iter().map(|e| e.seq).collect())
            }
            _ => None,
        })
        .collect()
}

/// The `log last` commands sent on `conn`: (tid, parsed JSON command).
fn log_queries(actions: &[Action], conn: ConnId) -> Vec<(u64, serde_json::Value)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { conn: c, tid, body }
                if *c == conn && body.ty == msg_type::MON_COMMAND =>
            {
                let m = MonCommand::decode(&body.front, &body.data).unwrap();
                let v: serde_json::Value = serde_json::from_str(&m.cmd[0]).unwrap();
                (v["prefix"] == "log last").then_some((*tid, v))
            }
            _ => None,
        })
        .collect()
}

fn command_reply(c: &mut Core, conn: ConnId, tid: u64, retval: i32, outbl: &str, now: Instant) {
    let ack = MonCommandAck {
        retval,
        outs: String::new(),
        cmd: vec![],
        outbl: outbl.as_bytes().to_vec(),
    }
    .to_body();
    let msg = InMessage {
        ty: ack.ty,
        version: 1,
        tid,
        front: &ack.front,
        data: &ack.data,
    };
    c.handle_message(conn, msg, now);
}

/// A session on `conn` with global_id 4106 and one entry logged on it.
fn session_with_entry(channel: &str) -> (Core, Instant, ConnId, u64) {
    let (mut c, t0) = core(3);
    let conn = connects(&drain(&mut c))[0];
    c.handle_connected(conn, 4106, t0);
    drain(&mut c);
    let name: ceph_types::EntityName = "client.admin".parse().unwrap();
    let stamp = ceph_types::UTime::new(1, 0);
    let seq = c.log(
        &name,
        ceph_types::LogPriority::Info,
        channel,
        "hello",
        stamp,
        t0,
    );
    assert_eq!(log_sends(&drain(&mut c), conn), vec![vec![seq]]);
    (c, t0, conn, seq)
}

fn tick(c: &mut Core, conn: ConnId, now: Instant) -> Vec<Action> {
    c.handle_keepalive_ack(conn, now);
    c.handle_timeout(now);
    drain(c)
}

// Regression: Tentacle monitors never route an MLogAck back through a peon,
// and no release acknowledges a resend of entries it already holds. An
// entry found in the cluster log is settled without an ack.
#[test]
fn unacknowledged_log_entries_found_in_the_cluster_log_are_settled() {
    let (mut c, t0, conn, seq) = session_with_entry("cluster");
    let later = t0 + c.config().log_interval;
    let a = tick(&mut c, conn, later);
    assert_eq!(log_sends(&a, conn), vec![vec![seq]], "sent again");
    let queries = log_queries(&a, conn);
    assert_eq!(queries.len(), 1, "{a:?}");
    let (tid, q) = &queries[0];
    assert_eq!(q["channel"], "cluster");
    assert_eq!(q["level"], "debug");
    assert_eq!(q["format"], "json");
    assert!(q["num"].as_u64().unwrap() >= 1);
    // Another client's entry with the same seq, and ours on another
    // channel, do not count.
    let other = format!(
        r#"[{{"rank":"client.9","seq":{seq},"channel":"cluster","message":"hello"}},
            {{"rank":"client.4106","seq":{seq},"channel":"audit","message":"hello"}}]"#
    );
    command_reply(&mut c, conn, *tid, 0, &other, later);
    let a = drain(&mut c);
    assert!(!a.iter().any(|a| matches!(a, Action::Done { .. })), "{a:?}");
    assert_eq!((c.log_pending(), c.log_acked()), (1, 0));
    // Nothing settled: the next round comes after twice the interval.
    let round2 = later + c.config().log_interval * 2;
    let a = tick(&mut c, conn, round2 - Duration::from_millis(1));
    assert!(log_sends(&a, conn).is_empty() && log_queries(&a, conn).is_empty());
    let a = tick(&mut c, conn, round2);
    assert_eq!(log_sends(&a, conn), vec![vec![seq]]);
    let (tid, _) = log_queries(&a, conn)[0];
    let ours = format!(
        r#"[{{"name":"client.admin","rank":"client.4106","seq":{seq},"channel":"cluster",
              "priority":"[INF]","message":"hello","stamp":"x"}}]"#
    );
    command_reply(&mut c, conn, tid, 0, &ours, round2);
    let a = drain(&mut c);
    assert!(!a.iter().any(|a| matches!(a, Action::Done { .. })), "{a:?}");
    assert_eq!((c.log_pending(), c.log_acked()), (0, seq));
    let much_later = round2 + c.config().log_interval * 8;
    let a = tick(&mut c, conn, much_later);
    assert!(log_sends(&a, conn).is_empty() && log_queries(&a, conn).is_empty());
}

#[test]
fn entries_on_other_channels_are_looked_for_in_every_channel() {
    let (mut c, t0, conn, _) = session_with_entry("mychannel");
    let later = t0 + c.config().log_interval;
    let a = tick(&mut c, conn, later);
    assert_eq!(log_queries(&a, conn)[0].1["channel"], "*");
}

#[test]
fn a_refused_log_lookup_keeps_entries_and_reports_nothing() {
    let (mut c, t0, conn, seq) = session_with_entry("cluster");
    let later = t0 + c.config().log_interval;
    let a = tick(&mut c, conn, later);
    let (tid, _) = log_queries(&a, conn)[0];
    command_reply(&mut c, conn, tid, -13, "", later);
    let a = drain(&mut c);
    assert!(!a.iter().any(|a| matches!(a, Action::Done { .. })), "{a:?}");
    assert_eq!(c.log_pending(), 1);
    // An ack still settles it.
    log_ack(&mut c, conn, seq, later);
    assert_eq!((c.log_pending(), c.log_acked()), (0, seq));
}

#[test]
fn a_new_entry_alone_goes_out_on_the_session_and_all_on_the_next() {
    let (mut c, t0, conn, first) = session_with_entry("cluster");
    let name: ceph_types::EntityName = "client.admin".parse().unwrap();
    let stamp = ceph_types::UTime::new(2, 0);
    let second = c.log(
        &name,
        ceph_types::LogPriority::Warn,
        "cluster",
        "b",
        stamp,
        t0,
    );
    assert_eq!(log_sends(&drain(&mut c), conn), vec![vec![second]]);
    c.handle_closed(conn, &MonError::SessionReset, t0);
    let next = connects(&drain(&mut c))[0];
    c.handle_connected(next, 4106, t0);
    assert_eq!(log_sends(&drain(&mut c), next), vec![vec![first, second]]);
    // A lookup in flight when the client shuts down is not reported.
    let later = t0 + c.config().log_interval;
    let a = tick(&mut c, next, later);
    assert_eq!(log_queries(&a, next).len(), 1);
    c.shutdown();
    let a = drain(&mut c);
    assert!(!a.iter().any(|a| matches!(a, Action::Done { .. })), "{a:?}");
}

/// Steps virtual time to each deadline until `until`, with `on_step`
/// playing the monitor; returns every action the core took.
fn run_until(
    c: &mut Core,
    until: Instant,
    mut on_step: impl FnMut(&mut Core, Instant),
) -> Vec<Action> {
    let mut all = Vec::new();
    while let Some(now) = c.poll_timeout().filter(|&t| t <= until) {
        c.handle_timeout(now);
        on_step(c, now);
        all.extend(drain(c));
    }
    all
}

#[test]
fn a_busy_monitor_that_keeps_answering_is_neither_probed_nor_dropped() {
    let (mut c, t0) = core(3);
    let conn = connects(&drain(&mut c))[0];
    c.handle_connected(conn, 1, t0);
    drain(&mut c);
    // A deep queue: the monitor answers them in order, one per 50 ms, far
    // beyond the stall timeout for the last of them.
    let tids: Vec<u64> = (0..400)
        .map(|_| c.start_command(vec!["x".into()], vec![], None, t0))
        .collect();
    drain(&mut c);
    let stall = c.config().stall_timeout.unwrap();
    let mut answered = 0;
    let mut next_answer = t0;
    let end = t0 + Duration::from_secs(20);
    let actions = run_until(&mut c, end, |c, now| {
        // Keepalive acks come back, as they do from a busy monitor.
        c.handle_keepalive_ack(conn, now);
        while next_answer <= now && answered < tids.len() {
            command_reply(c, conn, tids[answered], 0, "", next_answer);
            answered += 1;
            next_answer += Duration::from_millis(50);
        }
    });
    assert_eq!(answered, tids.len());
    assert!(end - t0 > stall * 3);
    assert!(connects(&actions).is_empty(), "probed a working monitor");
    assert!(!actions
        .iter()
        .any(|a| matches!(a, Action::Close { conn: x } if *x == conn)));
    let done = actions
        .iter()
        .filter(|a| matches!(a, Action::Done { result: Ok(_), .. }))
        .count();
    assert_eq!(done, tids.len());
    assert_eq!(c.sessions(), 1);
}

#[test]
fn anything_heard_from_the_monitor_keeps_the_session_without_keepalive_acks() {
    let (mut c, t0) = core(3);
    let conn = connects(&drain(&mut c))[0];
    c.handle_connected(conn, 1, t0);
    drain(&mut c);
    let timeout = c.config().ping_timeout;
    // No keepalive ack for ten timeouts, but bytes keep arriving (replies
    // the driver has yet to process): the monitor is alive.
    let end = t0 + timeout * 10;
    let actions = run_until(&mut c, end, |c, now| c.handle_heard(conn, now));
    assert!(connects(&actions).is_empty());
    assert!(matches!(c.state(), SessionState::Active { .. }));
    // Then silence: dropped one ping_timeout after the last bytes.
    let last = c.active.as_ref().unwrap().last_heard;
    let actions = run_until(&mut c, last + timeout * 2, |_, _| {});
    assert!(!connects(&actions).is_empty(), "a silent monitor is left");
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::Close { conn: x } if *x == conn)));
    // Heard times arriving late or out of order never move liveness back.
    let (mut c, t0) = core(1);
    let conn = connects(&drain(&mut c))[0];
    c.handle_connected(conn, 1, t0);
    c.handle_heard(conn, t0 + Duration::from_secs(2));
    c.handle_heard(conn, t0 + Duration::from_secs(1));
    assert_eq!(
        c.active.as_ref().unwrap().last_heard,
        t0 + Duration::from_secs(2)
    );
}

#[test]
fn request_deadlines_expire_in_order_among_many_pending() {
    let (mut c, t0) = core(3);
    drain(&mut c);
    // Many without a deadline, a few with, started out of deadline order.
    for _ in 0..10_000 {
        c.start_command(vec!["x".into()], vec![], None, t0);
    }
    let late = c.start_command(vec!["x".into()], vec![], Some(Duration::from_secs(9)), t0);
    let early = c.start_command(vec!["x".into()], vec![], Some(Duration::from_secs(2)), t0);
    drain(&mut c);
    assert!(c.poll_timeout().unwrap() <= t0 + Duration::from_secs(2));
    let mut expired = Vec::new();
    let actions = run_until(&mut c, t0 + Duration::from_secs(10), |_, _| {});
    for a in actions {
        if let Action::Done {
            tid,
            result: Err(MonError::TimedOut(..)),
        } = a
        {
            expired.push(tid);
        }
    }
    assert_eq!(expired, vec![early, late]);
    assert_eq!(c.requests.len(), 10_000);
    assert!(c.deadlines.is_empty());
}

#[test]
fn requests_beyond_the_window_wait_in_order_and_follow_answers() {
    let now = Instant::now();
    let cfg = SessionConfig {
        max_in_flight: 4,
        ..SessionConfig::default()
    };
    let mut c = Core::new(cfg, &addrs(3), 7).unwrap();
    c.start(now);
    let first = connects(&drain(&mut c));
    let tids: Vec<u64> = (0..10)
        .map(|_| c.start_command(vec!["x".into()], vec![], None, now))
        .collect();
    assert!(sends(&drain(&mut c)).is_empty(), "no session yet");
    c.handle_connected(first[0], 1, now);
    let commands = |a: &[Action]| -> Vec<u64> {
        sends(a)
            .into_iter()
            .filter(|s| s.1 == msg_type::MON_COMMAND)
            .map(|s| s.2)
            .collect()
    };
    assert_eq!(commands(&drain(&mut c)), tids[..4]);
    // Each answer lets the next waiting request out, oldest first.
    command_reply(&mut c, first[0], tids[1], 0, "", now);
    assert_eq!(commands(&drain(&mut c)), [tids[4]]);
    command_reply(&mut c, first[0], tids[0], 0, "", now);
    assert_eq!(commands(&drain(&mut c)), [tids[5]]);
    // A new session sends the oldest unanswered first, window-full.
    c.handle_closed(first[0], &MonError::SessionReset, now);
    let retry = connects(&drain(&mut c));
    c.handle_connected(retry[0], 1, now);
    assert_eq!(
        commands(&drain(&mut c)),
        [tids[2], tids[3], tids[4], tids[5]]
    );
    // A request timing out frees its place too.
    let late = c.start_command(vec!["x".into()], vec![], Some(Duration::from_secs(1)), now);
    assert!(commands(&drain(&mut c)).is_empty());
    let later = now + Duration::from_secs(1);
    c.handle_timeout(later);
    let a = drain(&mut c);
    assert!(a.iter().any(
        |x| matches!(x, Action::Done { tid, result: Err(MonError::TimedOut(..)) } if *tid == late)
    ));
    assert!(commands(&a).is_empty(), "the timed-out one was never sent");
    // Waiting requests count no attempt: all ten are answered in the end.
    let mut done = 2;
    let mut open: VecDeque<u64> = tids[2..6].iter().copied().collect();
    while let Some(tid) = open.pop_front() {
        command_reply(&mut c, retry[0], tid, 0, "", later);
        done += 1;
        open.extend(commands(&drain(&mut c)));
    }
    assert_eq!(done, tids.len());
}

/// An MConfig carrying `options`, as a monitor sends it.
fn config_message(c: &mut Core, conn: ConnId, options: &[(&str, &str)], now: Instant) {
    use ceph_denc::Encode;
    let map: BTreeMap<String, String> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut front = Vec::new();
    map.encode(&mut front, 0);
    let msg = InMessage {
        ty: msg_type::CONFIG,
        version: 1,
        tid: 0,
        front: &front,
        data: &[],
    };
    c.handle_message(conn, msg, now);
}

#[test]
fn central_config_is_layered_in_the_core_below_the_local_one() {
    use ceph_config::{ClientConfig, ConfigSources};
    use ceph_msgr::frame::ConMode;
    let local = ClientConfig::load(ConfigSources {
        mon_host: Some("127.0.0.1:3300".into()),
        overrides: vec![("mon_client_hunt_interval".into(), "4".into())],
        env: Some(Default::default()),
        ..ConfigSources::default()
    })
    .unwrap();
    let base = SessionConfig {
        hunt_interval: Duration::from_secs(4),
        ..SessionConfig::default()
    };
    let now = Instant::now();
    let mut c = Core::new(base, &addrs(3), 7)
        .unwrap()
        .with_local_config(vec![ConMode::Secure, ConMode::Crc], Some(local));
    c.start(now);
    let conn = connects(&drain(&mut c))[0];
    c.handle_connected(conn, 1, now);
    drain(&mut c);
    assert!(!c.central_config().1);
    config_message(
        &mut c,
        conn,
        &[
            ("rados_mon_op_timeout", "3"),
            ("mon_client_hunt_interval", "9"),
            ("ms_mon_client_mode", "crc"),
        ],
        now,
    );
    // A monitor value wins over a default, never over the command line.
    assert_eq!(c.config().command_timeout, Some(Duration::from_secs(3)));
    assert_eq!(c.config().hunt_interval, Duration::from_secs(4));
    assert_eq!(c.modes(), [ConMode::Crc]);
    let (central, received) = c.central_config();
    assert!(received);
    assert_eq!(central.len(), 3);
    let effective = c.effective_config().unwrap();
    assert_eq!(
        effective.source("rados_mon_op_timeout"),
        Some(ceph_config::OptionSource::Mon)
    );
    // Withdrawn values fall back to what the caller gave.
    let generation = c.config_generation();
    config_message(&mut c, conn, &[], now);
    assert!(c.config_generation() > generation);
    assert_eq!(c.config().command_timeout, None);
    assert_eq!(c.modes(), [ConMode::Secure, ConMode::Crc]);
    // The event still reaches the caller.
    assert!(drain(&mut c)
        .iter()
        .any(|a| matches!(a, Action::Event(ClusterEvent::Config(o)) if o.is_empty())));
}
