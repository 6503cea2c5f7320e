#![no_main]
//! Every monitor message decoder of ceph-monclient on hostile bytes, and
//! the session core's message path (`Core::handle_message`) with a
//! session up and a command and a version request waiting.
//!
//! First byte selects the decoder; then u16-length-prefixed front and
//! data segments. Messages that also encode must survive a round trip.

use std::time::{Duration, Instant};

use ceph_denc::Decode;
use ceph_fuzz::Input;
use ceph_monclient::core::{Action, Core, InMessage};
use ceph_monclient::messages::*;
use ceph_monclient::SessionConfig;
use ceph_types::MonMap;
use libfuzzer_sys::fuzz_target;

/// A core with an active session on its only monitor, one command (tid 1)
/// and one version request (tid 2) outstanding.
fn active_core(now: Instant) -> (Core, u64) {
    let initial = ["v2:127.0.0.1:3300/0".parse().expect("address")];
    let mut core = Core::new(SessionConfig::default(), &initial, 1).expect("one monitor");
    core.start(now);
    let mut conn = None;
    while let Some(action) = core.poll_action() {
        if let Action::Connect { conn: c, .. } = action {
            conn = Some(c);
        }
    }
    let conn = conn.expect("the core connects at start");
    core.handle_connected(conn, 4242, now);
    core.start_command(
        vec!["{\"prefix\": \"status\"}".into()],
        Vec::new(),
        None,
        now,
    );
    core.start_get_version("osdmap", Some(Duration::from_secs(5)), now);
    while core.poll_action().is_some() {}
    (core, conn)
}

fn drive_core(input: &mut Input<'_>) {
    let now = Instant::now();
    let (mut core, conn) = active_core(now);
    while !input.is_empty() {
        let ty = match input.u8() % 4 {
            0 => msg_type::MON_MAP,
            1 => msg_type::MON_COMMAND_ACK,
            2 => msg_type::MON_GET_VERSION_REPLY,
            _ => input.u16(),
        };
        let version = u16::from(input.u8());
        let tid = u64::from(input.u8() % 4);
        let front = input.piece();
        let data = input.piece();
        let msg = InMessage {
            ty,
            version,
            tid,
            front,
            data,
        };
        core.handle_message(conn, msg, now);
        while core.poll_action().is_some() {}
        // Whatever a monitor sent, the session must still make progress.
        core.handle_timeout(now + Duration::from_secs(60));
        while core.poll_action().is_some() {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let selector = input.u8();
    if selector >= 12 {
        drive_core(&mut input);
        return;
    }
    let version = input.u16();
    let front = input.piece();
    let data = input.rest();
    match selector {
        0 => {
            if let Ok(m) = MonCommand::decode(front, data) {
                let b = m.to_body();
                assert_eq!(MonCommand::decode(&b.front, &b.data).ok(), Some(m));
            }
        }
        1 => {
            if let Ok(m) = MonCommandAck::decode(front, data) {
                let b = m.to_body();
                assert_eq!(MonCommandAck::decode(&b.front, &b.data).ok(), Some(m));
            }
        }
        2 => {
            if let Ok(m) = MonSubscribe::decode(front) {
                let b = m.to_body();
                assert_eq!(MonSubscribe::decode(&b.front).ok(), Some(m));
            }
        }
        3 => {
            let _ = MonSubscribeAck::decode(front);
        }
        4 => {
            if let Ok(m) = MonMapMsg::decode(front) {
                let _ = MonMap::decode_all(&m.monmap);
                let b = m.to_body();
                assert_eq!(MonMapMsg::decode(&b.front).ok(), Some(m));
            }
        }
        5 => {
            let _ = AuthReply::decode(front);
        }
        6 => {
            let _ = GetVersionReply::decode(front, version);
        }
        7 => {
            let _ = ConfigMsg::decode(front);
        }
        8 => {
            let _ = PaxosHeader::decode_all(front);
        }
        9 => {
            let _ = SubscribeItem::decode_all(front);
        }
        _ => {
            let _ = MonCommand::decode(front, data);
            let _ = MonCommandAck::decode(front, data);
        }
    }
});
