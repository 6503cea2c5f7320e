//! The monitor's side of the monitor-client messages: decoding what a
//! client sends (commands, subscriptions, version requests) and encoding the
//! answers. Kept here rather than borrowed from `ceph-monclient`, so that
//! the fake checks the client's encodings independently.

use std::collections::BTreeMap;

use ceph_denc::{encode_bytes, Decode, DecodeError, Decoder, Encode};

/// Message type numbers the fake understands or sends.
pub mod msg_type {
    pub const MON_MAP: u16 = 4;
    pub const MON_SUBSCRIBE: u16 = 15;
    pub const AUTH: u16 = 17;
    pub const AUTH_REPLY: u16 = 18;
    pub const MON_GET_VERSION: u16 = 19;
    pub const MON_GET_VERSION_REPLY: u16 = 20;
    pub const MON_COMMAND: u16 = 50;
    pub const MON_COMMAND_ACK: u16 = 51;
    pub const COMMAND: u16 = 97;
    pub const COMMAND_REPLY: u16 = 98;
}

/// An encoded reply: type, header version, front and data segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutBody {
    pub ty: u16,
    pub version: u16,
    pub front: Vec<u8>,
    pub data: Vec<u8>,
}

/// Skips the Paxos service prefix (version, session_mon, session_mon_tid).
fn skip_paxos(d: &mut Decoder<'_>) -> Result<(), DecodeError> {
    d.skip(8 + 2 + 8, "paxos header")
}

fn put_paxos(out: &mut Vec<u8>) {
    0u64.encode(out, 0);
    (-1i16 as u16).encode(out, 0);
    0u64.encode(out, 0);
}

/// MMonCommand as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonCommand {
    pub fsid: [u8; 16],
    pub cmd: Vec<String>,
}

impl MonCommand {
    pub fn decode(front: &[u8]) -> Result<Self, DecodeError> {
        let mut d = Decoder::new(front);
        skip_paxos(&mut d)?;
        Ok(MonCommand {
            fsid: d.array("fsid")?,
            cmd: Vec::decode(&mut d)?,
        })
    }
}

/// MMonCommandAck for a command: retval, status string, the command echoed,
/// output in the data segment.
pub fn command_ack(retval: i32, outs: &str, cmd: &[String], outbl: Vec<u8>) -> OutBody {
    let mut front = Vec::new();
    put_paxos(&mut front);
    retval.encode(&mut front, 0);
    outs.to_string().encode(&mut front, 0);
    cmd.to_vec().encode(&mut front, 0);
    OutBody {
        ty: msg_type::MON_COMMAND_ACK,
        version: 1,
        front,
        data: outbl,
    }
}

/// MCommandReply: what a daemon answers an MCommand with.
pub fn command_reply(retval: i32, outs: &str, outbl: Vec<u8>) -> OutBody {
    let mut front = Vec::new();
    retval.encode(&mut front, 0);
    outs.to_string().encode(&mut front, 0);
    OutBody {
        ty: msg_type::COMMAND_REPLY,
        version: 1,
        front,
        data: outbl,
    }
}

/// MMonSubscribe as received: what, from which epoch, one-time or not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonSubscribe {
    /// Name to (start epoch, flags).
    pub what: BTreeMap<String, (u64, u8)>,
}

impl MonSubscribe {
    pub fn decode(front: &[u8]) -> Result<Self, DecodeError> {
        let mut d = Decoder::new(front);
        // Each entry is at least a 4-byte name length, 8 + 1 bytes of item.
        let n = d.count(13, "subscriptions")?;
        let mut what = BTreeMap::new();
        for _ in 0..n {
            let name = String::decode(&mut d)?;
            let start = d.u64("subscribe start")?;
            let flags = d.u8("subscribe flags")?;
            what.insert(name, (start, flags));
        }
        // The host name (version 3) is not needed.
        Ok(MonSubscribe { what })
    }
}

/// MMonMap carrying an encoded MonMap.
pub fn monmap_msg(encoded_map: &[u8]) -> OutBody {
    let mut front = Vec::new();
    encode_bytes(&mut front, encoded_map);
    OutBody {
        ty: msg_type::MON_MAP,
        version: 1,
        front,
        data: Vec::new(),
    }
}

/// MMonGetVersion as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetVersion {
    pub handle: u64,
    pub what: String,
}

impl GetVersion {
    pub fn decode(front: &[u8]) -> Result<Self, DecodeError> {
        let mut d = Decoder::new(front);
        Ok(GetVersion {
            handle: d.u64("handle")?,
            what: String::decode(&mut d)?,
        })
    }
}

/// MMonGetVersionReply, version 2 (with the oldest epoch).
pub fn version_reply(handle: u64, newest: u64, oldest: u64) -> OutBody {
    let mut front = Vec::new();
    handle.encode(&mut front, 0);
    newest.encode(&mut front, 0);
    oldest.encode(&mut front, 0);
    OutBody {
        ty: msg_type::MON_GET_VERSION_REPLY,
        version: 2,
        front,
        data: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_from_the_ceph_cli_decodes() {
        // What the `ceph` CLI sent in a capture: config and monmap from 0,
        // host name "vm".
        let hex = "0200000006000000636f6e666967000000000000000000060000006d6f6e6d617000000000000000000002000000766d";
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let s = MonSubscribe::decode(&bytes).unwrap();
        assert_eq!(s.what.len(), 2);
        assert_eq!(s.what["monmap"], (0, 0));
        assert!(MonSubscribe::decode(&bytes[..10]).is_err());
        assert!(MonSubscribe::decode(&[0xff, 0xff, 0xff, 0x7f]).is_err());
    }

    #[test]
    fn command_and_version_frames_are_bounds_checked() {
        assert!(MonCommand::decode(&[0; 10]).is_err());
        assert!(GetVersion::decode(&[0; 9]).is_err());
        let ack = command_ack(-22, "nope", &["x".into()], b"out".to_vec());
        assert_eq!(ack.ty, msg_type::MON_COMMAND_ACK);
        assert_eq!(ack.data, b"out");
        let r = version_reply(3, 10, 1);
        assert_eq!(r.front.len(), 24);
    }
}

/// MAuth as received: a CephX request inside the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthMsg {
    pub protocol: u32,
    pub payload: Vec<u8>,
}

impl AuthMsg {
    pub fn decode(front: &[u8]) -> Result<Self, DecodeError> {
        let mut d = Decoder::new(front);
        skip_paxos(&mut d)?;
        Ok(AuthMsg {
            protocol: d.u32("MAuth.protocol")?,
            payload: d.bytes("MAuth.auth_payload")?.to_vec(),
        })
    }
}

/// MAuthReply: `result` (0 or a negative errno), the CephX reply payload
/// and a message.
pub fn auth_reply(
    protocol: u32,
    result: i32,
    global_id: u64,
    payload: &[u8],
    msg: &str,
) -> OutBody {
    let mut front = Vec::new();
    protocol.encode(&mut front, 0);
    result.encode(&mut front, 0);
    global_id.encode(&mut front, 0);
    encode_bytes(&mut front, payload);
    msg.to_string().encode(&mut front, 0);
    OutBody {
        ty: msg_type::AUTH_REPLY,
        version: 1,
        front,
        data: Vec::new(),
    }
}
