//! The maps that say where daemons are, kept current from the monitor
//! client's subscriptions, and the pure rules that turn them into an
//! address (or a reason to wait, or to fail).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use ceph_denc::{Blob, Decode};
use ceph_osdmap::{OSDMap, OSDMapIncremental};
use ceph_types::features::{has_feature, CEPH_FEATUREMASK_SERVER_OCTOPUS};
use ceph_types::mgrmap::MgrMap;
use ceph_types::EntityAddrVec;

/// The newest OSDMap and MgrMap this client holds (each `None` until
/// first needed and received).
#[derive(Debug, Clone, Default)]
pub struct Maps {
    /// The OSD map, kept current by incrementals.
    pub osdmap: Option<Arc<OSDMap>>,
    /// The manager map.
    pub mgrmap: Option<Arc<MgrMap>>,
}

/// Where to send: a daemon's msgr2 address and the nonce of its instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// `osd.0`, `mgr.x`, ...
    pub label: String,
    /// Its msgr2 address.
    pub addr: SocketAddr,
    /// The nonce it publishes (a restarted daemon has a new one).
    pub nonce: u32,
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

/// The msgr2 address in `addrs`, with its nonce.
pub fn msgr2_peer(label: String, addrs: &EntityAddrVec) -> Option<Peer> {
    let a = addrs.v2()?;
    Some(Peer {
        label,
        addr: a.addr?,
        nonce: a.nonce,
    })
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
    match addrs.and_then(|a| msgr2_peer(label.clone(), a)) {
        Some(p) => Resolved::At(p),
        None => Resolved::Wait(format!("{label} has no msgr2 address in the OSD map")),
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
    match msgr2_peer(format!("mgr.{}", map.active_name), &map.active_addrs) {
        Some(p) => Resolved::At(p),
        None => Resolved::Wait("the active manager's msgr2 address".into()),
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
