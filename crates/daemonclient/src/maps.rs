//! The maps that say where daemons are, kept current from the monitor
//! client's subscriptions, and the pure rules that turn them into an
//! address (or a reason to wait, or to fail).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use ceph_denc::{Blob, Decode};
use ceph_msgr::connection::Protocol;
use ceph_osdmap::{OSDMap, OSDMapIncremental};
use ceph_types::features::{has_feature, CEPH_FEATUREMASK_SERVER_OCTOPUS};
use ceph_types::mgrmap::MgrMap;
use ceph_types::{EntityAddr, EntityAddrType, EntityAddrVec};

/// The newest OSDMap and MgrMap this client holds (each `None` until
/// first needed and received).
#[derive(Debug, Clone, Default)]
pub struct Maps {
    /// The OSD map, kept current by incrementals.
    pub osdmap: Option<Arc<OSDMap>>,
    /// The manager map.
    pub mgrmap: Option<Arc<MgrMap>>,
}

/// Where to send: a daemon's address, the protocol it speaks there, and
/// the nonce of its instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// `osd.0`, `mgr.x`, ...
    pub label: String,
    /// Its address (msgr2 when it has one, else msgr1).
    pub addr: SocketAddr,
    /// The nonce it publishes (a restarted daemon has a new one).
    pub nonce: u32,
    /// The protocol spoken at `addr`.
    pub protocol: Protocol,
}

impl Peer {
    /// A daemon at a msgr2 address.
    pub fn msgr2(label: impl Into<String>, addr: SocketAddr, nonce: u32) -> Peer {
        Peer {
            label: label.into(),
            addr,
            nonce,
            protocol: Protocol::V2,
        }
    }

    /// A daemon at a msgr1 (legacy) address.
    pub fn msgr1(label: impl Into<String>, addr: SocketAddr, nonce: u32) -> Peer {
        Peer {
            protocol: Protocol::V1,
            ..Peer::msgr2(label, addr, nonce)
        }
    }

    /// The address as the messenger takes it (type, address, nonce).
    pub fn entity_addr(&self) -> EntityAddr {
        let ty = match self.protocol {
            Protocol::V1 => EntityAddrType::Legacy,
            _ => EntityAddrType::Msgr2,
        };
        EntityAddr::new(ty, self.addr, self.nonce)
    }
}

/// What the maps say about a target right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Send it here.
    At(Peer),
    /// Not now, maybe later (no map yet, no active manager yet).
    Wait(String),
    /// The daemon is marked down (`ceph` fails at once with ENXIO).
    Down(String),
    /// No such daemon: waiting will not help.
    Missing(String),
}

/// Where to reach a daemon that publishes `addrs`: its msgr2 address
/// when it has one (as Ceph prefers), else its msgr1 address (daemons of a
/// cluster with `ms_bind_msgr2 = false`).
pub fn daemon_peer(label: String, addrs: &EntityAddrVec) -> Option<Peer> {
    if let Some(a) = addrs.v2() {
        return Some(Peer::msgr2(label, a.addr?, a.nonce));
    }
    let a = addrs.v1()?;
    Some(Peer::msgr1(label, a.addr?, a.nonce))
}

/// Where OSD `id` is, by `map`.
pub fn resolve_osd(map: &OSDMap, id: i32) -> Resolved {
    let label = format!("osd.{id}");
    if !map.exists(id) {
        return Resolved::Missing(label);
    }
    if !map.is_up(id) {
        return Resolved::Down(label);
    }
    let addrs = usize::try_from(id)
        .ok()
        .and_then(|i| map.client_addrs.get(i));
    match addrs.and_then(|a| daemon_peer(label.clone(), a)) {
        Some(p) => Resolved::At(p),
        None => Resolved::Wait(format!("{label} has no address in the OSD map")),
    }
}

/// Where the active manager is; with `name`, only if that manager is the
/// active one (standbys take no commands: any other name is
/// [`Resolved::Down`], ENXIO, as `ceph` reports it).
pub fn resolve_mgr(map: &MgrMap, name: Option<&str>) -> Resolved {
    if let Some(n) = name {
        if map.active_name != n {
            return Resolved::Down(format!("mgr.{n}"));
        }
    }
    if !map.available || map.active_name.is_empty() {
        return Resolved::Wait("an active manager".into());
    }
    match daemon_peer(format!("mgr.{}", map.active_name), &map.active_addrs) {
        Some(p) => Resolved::At(p),
        None => Resolved::Wait("the active manager's address".into()),
    }
}

/// True when the active manager takes MMgrCommand (Octopus or later);
/// older ones take MCommand.
pub fn mgr_takes_mgr_command(map: &MgrMap) -> bool {
    has_feature(map.active_mgr_features, CEPH_FEATUREMASK_SERVER_OCTOPUS)
}

/// Brings `current` up to date with what one MOSDMap carried: the newest
/// full map if it is newer, then each incremental that follows in order.
/// Returns the new map, or `current` when nothing applied. Undecodable
/// maps are skipped (and logged): a later message brings them again.
pub fn advance_osdmap(
    current: Option<Arc<OSDMap>>,
    full: &BTreeMap<u32, Blob>,
    incremental: &BTreeMap<u32, Blob>,
) -> Option<Arc<OSDMap>> {
    let have = current.as_ref().map_or(0, |m| m.epoch);
    let mut map: Option<OSDMap> = None;
    if let Some((&e, blob)) = full.iter().next_back() {
        if e > have {
            match OSDMap::decode_all(&blob.0) {
                Ok(m) => map = Some(m),
                Err(err) => tracing::warn!(epoch = e, error = %err, "undecodable full OSDMap"),
            }
        }
    }
    for (&e, blob) in incremental {
        let epoch = map
            .as_ref()
            .map_or(current.as_ref().map_or(0, |m| m.epoch), |m| m.epoch);
        if e != epoch + 1 || epoch == 0 {
            continue;
        }
        let inc = match OSDMapIncremental::decode_all(&blob.0) {
            Ok(i) => i,
            Err(err) => {
                tracing::warn!(epoch = e, error = %err, "undecodable OSDMap incremental");
                break;
            }
        };
        let mut next = match map.take() {
            Some(m) => m,
            None => current.as_deref().cloned().expect("epoch > 0 means a map"),
        };
        if let Err(err) = next.apply_incremental(&inc) {
            tracing::warn!(epoch = e, error = %err, "OSDMap incremental does not apply");
            break;
        }
        map = Some(next);
    }
    match map {
        Some(m) => Some(Arc::new(m)),
        None => current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceph_denc::Encode;
    use ceph_osdmap::osdmap::osd_state;
    use ceph_types::features::CLIENT_FEATURES_ALL;

    fn addr(ty: EntityAddrType, port: u16, nonce: u32) -> EntityAddr {
        EntityAddr::new(ty, SocketAddr::from(([127, 0, 0, 1], port)), nonce)
    }

    /// A daemon's vector as Ceph publishes it: v2, then v1 on the next port.
    fn addrs(port: u16, nonce: u32) -> EntityAddrVec {
        EntityAddrVec::new(vec![
            addr(EntityAddrType::Msgr2, port, nonce),
            addr(EntityAddrType::Legacy, port + 1, nonce),
        ])
    }

    fn osdmap(epoch: u32) -> OSDMap {
        let mut m = OSDMap {
            epoch,
            ..OSDMap::default()
        };
        m.set_max_osd(3);
        m.osd_state[0] = osd_state::EXISTS | osd_state::UP;
        m.osd_state[1] = osd_state::EXISTS;
        m.osd_state[2] = osd_state::EXISTS | osd_state::UP;
        m.client_addrs[0] = addrs(6800, 77);
        // ms_bind_msgr2 = false: a v1 address only.
        m.client_addrs[2] = EntityAddrVec::new(vec![addr(EntityAddrType::Legacy, 6805, 78)]);
        m
    }

    #[test]
    fn osds_resolve_to_their_msgr2_else_msgr1_address_or_why_not() {
        let m = osdmap(5);
        assert_eq!(
            resolve_osd(&m, 0),
            Resolved::At(Peer {
                label: "osd.0".into(),
                addr: "127.0.0.1:6800".parse().unwrap(),
                nonce: 77,
                protocol: Protocol::V2,
            })
        );
        let v1 = Peer::msgr1("osd.2", "127.0.0.1:6805".parse().unwrap(), 78);
        assert_eq!(resolve_osd(&m, 2), Resolved::At(v1.clone()));
        assert_eq!(v1.entity_addr().ty, EntityAddrType::Legacy);
        let mut none = m.clone();
        none.client_addrs[2] = EntityAddrVec::default();
        assert!(matches!(resolve_osd(&none, 2), Resolved::Wait(_)));
        assert_eq!(resolve_osd(&m, 1), Resolved::Down("osd.1".into()));
        assert_eq!(resolve_osd(&m, 3), Resolved::Missing("osd.3".into()));
        assert_eq!(resolve_osd(&m, -1), Resolved::Missing("osd.-1".into()));
        assert_eq!(resolve_osd(&m, 99), Resolved::Missing("osd.99".into()));
    }

    #[test]
    fn the_active_manager_only() {
        let mut m = MgrMap {
            epoch: 3,
            ..MgrMap::default()
        };
        assert!(matches!(resolve_mgr(&m, None), Resolved::Wait(_)));
        m.available = true;
        m.active_name = "x".into();
        m.active_addrs = addrs(6810, 5);
        m.standbys.insert(
            9,
            ceph_types::mgrmap::StandbyInfo {
                gid: 9,
                name: "y".into(),
                available_modules: Vec::new(),
                mgr_features: 0,
                struct_v: 4,
                unknown: Vec::new(),
            },
        );
        let at = |name| match resolve_mgr(&m, name) {
            Resolved::At(p) => Some((p.label, p.addr.port(), p.nonce)),
            _ => None,
        };
        assert_eq!(at(None), Some(("mgr.x".into(), 6810, 5)));
        assert_eq!(at(Some("x")), Some(("mgr.x".into(), 6810, 5)));
        assert_eq!(resolve_mgr(&m, Some("y")), Resolved::Down("mgr.y".into()));
        assert_eq!(resolve_mgr(&m, Some("z")), Resolved::Down("mgr.z".into()));
        assert!(!mgr_takes_mgr_command(&m));
        m.active_mgr_features = CLIENT_FEATURES_ALL;
        assert!(mgr_takes_mgr_command(&m));
        m.active_addrs = EntityAddrVec::new(vec![addr(EntityAddrType::Legacy, 6811, 5)]);
        assert_eq!(
            resolve_mgr(&m, None),
            Resolved::At(Peer::msgr1("mgr.x", "127.0.0.1:6811".parse().unwrap(), 5))
        );
    }

    fn blob(v: &impl Encode) -> Blob {
        let mut out = Vec::new();
        v.encode(&mut out, CLIENT_FEATURES_ALL);
        Blob(out)
    }

    #[test]
    fn maps_advance_by_full_maps_and_incrementals_in_order() {
        let full = BTreeMap::from([(5, blob(&osdmap(5)))]);
        let none = BTreeMap::new();
        let m = advance_osdmap(None, &full, &none).expect("a map");
        assert_eq!(m.epoch, 5);
        // An older full map changes nothing.
        let older = BTreeMap::from([(4, blob(&osdmap(4)))]);
        assert_eq!(
            advance_osdmap(Some(m.clone()), &older, &none)
                .unwrap()
                .epoch,
            5
        );
        // Incrementals apply in order; a gap stops them.
        let fsid = m.fsid;
        let incs = BTreeMap::from([
            (6, blob(&OSDMapIncremental::new(fsid, 6))),
            (7, blob(&OSDMapIncremental::new(fsid, 7))),
            (9, blob(&OSDMapIncremental::new(fsid, 9))),
        ]);
        let m2 = advance_osdmap(Some(m.clone()), &none, &incs).unwrap();
        assert_eq!(m2.epoch, 7);
        // Garbage is skipped, never a panic.
        let junk = BTreeMap::from([(8, Blob(vec![0xff; 7]))]);
        assert_eq!(
            advance_osdmap(Some(m2.clone()), &junk, &junk)
                .unwrap()
                .epoch,
            7
        );
        // Without a map, incrementals alone give nothing.
        assert!(advance_osdmap(None, &none, &incs).is_none());
    }
}
