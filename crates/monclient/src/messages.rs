//! The monitor-client messages: their type numbers and front/data
//! payloads. Header fields (type, version, tid) travel in the messenger's
//! message header; this module only deals with what is inside.

use std::collections::BTreeMap;

use ceph_denc::{encode_bytes, Blob, Decode, Decoder, Encode, Result};

/// Ceph message type numbers used by the monitor client.
pub mod msg_type {
    /// MPing: keepalive probe; a monitor answers with its health as JSON.
    pub const PING: u16 = 2;
    /// MMonMap: the current monitor map.
    pub const MON_MAP: u16 = 4;
    /// MMonGetMap: ask for the monitor map.
    pub const MON_GET_MAP: u16 = 5;
    /// MMonSubscribe: ask for maps and logs as they change.
    pub const MON_SUBSCRIBE: u16 = 15;
    /// MMonSubscribeAck: the renewal interval (legacy clients only).
    pub const MON_SUBSCRIBE_ACK: u16 = 16;
    /// MAuth: an authentication exchange inside the session.
    pub const AUTH: u16 = 17;
    /// MAuthReply: the monitor's answer to an MAuth.
    pub const AUTH_REPLY: u16 = 18;
    /// MMonGetVersion: ask for a map's newest and oldest epochs.
    pub const MON_GET_VERSION: u16 = 19;
    /// MMonGetVersionReply: those epochs.
    pub const MON_GET_VERSION_REPLY: u16 = 20;
    /// MOSDMap: full and incremental OSD maps.
    pub const OSD_MAP: u16 = 41;
    /// MMonCommand: a command for the monitor quorum.
    pub const MON_COMMAND: u16 = 50;
    /// MMonCommandAck: the answer to an MMonCommand.
    pub const MON_COMMAND_ACK: u16 = 51;
    /// MLog: cluster log entries (both ways: subscriptions and our own entries).
    pub const LOG: u16 = 52;
    /// MLogAck: the monitor stored the entries we sent.
    pub const LOG_ACK: u16 = 53;
    /// MConfig: the central configuration for this client.
    pub const CONFIG: u16 = 62;
    /// MCommand: a command for one daemon (`tell`).
    pub const COMMAND: u16 = 97;
    /// MCommandReply: the answer to an MCommand.
    pub const COMMAND_REPLY: u16 = 98;
    /// MMgrMap: the manager map.
    pub const MGR_MAP: u16 = 0x704;
}

/// An encoded message body: what goes in the header's type/version fields
/// and the front and data segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// Message type, one of [`msg_type`].
    pub ty: u16,
    /// Encoding version of the front payload.
    pub version: u16,
    /// Oldest version a receiver must understand to decode it.
    pub compat_version: u16,
    /// The front segment: the message's fields.
    pub front: Vec<u8>,
    /// The data segment: bulk bytes (command input or output).
    pub data: Vec<u8>,
}

impl Body {
    fn new(ty: u16, version: u16, front: Vec<u8>) -> Self {
        Body {
            ty,
            version,
            compat_version: 1,
            front,
            data: Vec::new(),
        }
    }
}

/// The common prefix of messages the monitors route through Paxos services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaxosHeader {
    /// Version of the service's state the sender has seen (0 from clients).
    pub version: u64,
    /// Monitor that forwarded the message for a client, or -1.
    pub session_mon: i16,
    /// That monitor's transaction id for the forward (0 from clients).
    pub session_mon_tid: u64,
}

impl Default for PaxosHeader {
    fn default() -> Self {
        PaxosHeader {
            version: 0,
            session_mon: -1,
            session_mon_tid: 0,
        }
    }
}

impl Encode for PaxosHeader {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        self.version.encode(out, f);
        self.session_mon.encode(out, f);
        self.session_mon_tid.encode(out, f);
    }
}

impl Decode for PaxosHeader {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(PaxosHeader {
            version: d.u64("paxos version")?,
            session_mon: d.u16("paxos session_mon")? as i16,
            session_mon_tid: d.u64("paxos session_mon_tid")?,
        })
    }
}

/// MMonCommand: a command (JSON strings) for the monitor quorum; `inbl`
/// travels in the data segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonCommand {
    /// The cluster's id.
    pub fsid: [u8; 16],
    /// The command, usually one JSON object as a string.
    pub cmd: Vec<String>,
    /// Input bytes for the command (e.g. a keyring to import); sent in the data segment.
    pub inbl: Vec<u8>,
}

impl MonCommand {
    /// Encodes the command for sending.
    pub fn to_body(&self) -> Body {
        let mut front = Vec::new();
        PaxosHeader::default().encode(&mut front, 0);
        self.fsid.encode(&mut front, 0);
        self.cmd.encode(&mut front, 0);
        let mut b = Body::new(msg_type::MON_COMMAND, 1, front);
        b.data = self.inbl.clone();
        b
    }

    /// Reads a command from its front and data segments (for tests and fake monitors).
    pub fn decode(front: &[u8], data: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        PaxosHeader::decode(&mut d)?;
        Ok(MonCommand {
            fsid: d.array("fsid")?,
            cmd: Vec::decode(&mut d)?,
            inbl: data.to_vec(),
        })
    }
}

/// MMonCommandAck: the monitor's answer to a [`MonCommand`] with the same
/// tid: return value, status string, and output in the data segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonCommandAck {
    /// 0 or a negative errno.
    pub retval: i32,
    /// The status text (`ceph` prints it on stderr).
    pub outs: String,
    /// The command answered, echoed back.
    pub cmd: Vec<String>,
    /// The output (`ceph` prints it on stdout); from the data segment.
    pub outbl: Vec<u8>,
}

impl MonCommandAck {
    /// Reads the answer from its front and data segments.
    pub fn decode(front: &[u8], data: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        PaxosHeader::decode(&mut d)?;
        Ok(MonCommandAck {
            retval: d.i32("retval")?,
            outs: String::decode(&mut d)?,
            cmd: Vec::decode(&mut d)?,
            outbl: data.to_vec(),
        })
    }

    /// Encodes the answer (for fake monitors).
    pub fn to_body(&self) -> Body {
        let mut front = Vec::new();
        PaxosHeader::default().encode(&mut front, 0);
        self.retval.encode(&mut front, 0);
        self.outs.encode(&mut front, 0);
        self.cmd.encode(&mut front, 0);
        let mut b = Body::new(msg_type::MON_COMMAND_ACK, 1, front);
        b.data = self.outbl.clone();
        b
    }
}

/// One entry of a subscription request: send maps from `start` on; with
/// `onetime`, only the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubscribeItem {
    /// First epoch (or version) wanted; 0 asks for the current one.
    pub start: u64,
    /// Send one update only, then drop the subscription.
    pub onetime: bool,
}

impl Encode for SubscribeItem {
    fn encode(&self, out: &mut Vec<u8>, f: u64) {
        self.start.encode(out, f);
        // flags: bit 0 is ONETIME
        (self.onetime as u8).encode(out, f);
    }
}

impl Decode for SubscribeItem {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        Ok(SubscribeItem {
            start: d.u64("subscribe start")?,
            onetime: d.u8("subscribe flags")? & 1 != 0,
        })
    }
}

/// MMonSubscribe (version 3: with the client's host name).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonSubscribe {
    /// What to subscribe to (`osdmap`, `monmap`, `mgrmap`, `log-info`, ...) and from where.
    pub what: BTreeMap<String, SubscribeItem>,
    /// The client's host name, shown by the monitors.
    pub hostname: String,
}

impl MonSubscribe {
    /// Encodes the request (version 3).
    pub fn to_body(&self) -> Body {
        let mut front = Vec::new();
        self.what.encode(&mut front, 0);
        self.hostname.encode(&mut front, 0);
        Body::new(msg_type::MON_SUBSCRIBE, 3, front)
    }

    /// Reads a request; the host name is optional (for fake monitors).
    pub fn decode(front: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        let what = BTreeMap::decode(&mut d)?;
        let hostname = if d.is_empty() {
            String::new()
        } else {
            String::decode(&mut d)?
        };
        Ok(MonSubscribe { what, hostname })
    }
}

/// MMonSubscribeAck: only sent to legacy clients; carries the renewal
/// interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonSubscribeAck {
    /// Seconds after which a legacy client renews its subscriptions.
    pub interval_secs: u32,
    /// The cluster's id.
    pub fsid: [u8; 16],
}

impl MonSubscribeAck {
    /// Reads the message's front segment.
    pub fn decode(front: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        Ok(MonSubscribeAck {
            interval_secs: d.u32("interval")?,
            fsid: d.array("fsid")?,
        })
    }
}

/// MMonMap: an encoded MonMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonMapMsg {
    /// The encoded MonMap (decode with `ceph_types::MonMap`).
    pub monmap: Vec<u8>,
}

impl MonMapMsg {
    /// Reads the message's front segment.
    pub fn decode(front: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        Ok(MonMapMsg {
            monmap: d.bytes("monmap")?.to_vec(),
        })
    }

    /// Encodes the message (for fake monitors).
    pub fn to_body(&self) -> Body {
        let mut front = Vec::new();
        encode_bytes(&mut front, &self.monmap);
        Body::new(msg_type::MON_MAP, 1, front)
    }
}

/// MAuth: an auth exchange inside an established session (ticket renewal,
/// service tickets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthMsg {
    /// Auth protocol id (2 = cephx).
    pub protocol: u32,
    /// The protocol's request bytes.
    pub payload: Vec<u8>,
    /// The monitor map epoch the client knows.
    pub monmap_epoch: u32,
}

impl AuthMsg {
    /// Encodes the request for sending.
    pub fn to_body(&self) -> Body {
        let mut front = Vec::new();
        PaxosHeader::default().encode(&mut front, 0);
        self.protocol.encode(&mut front, 0);
        encode_bytes(&mut front, &self.payload);
        self.monmap_epoch.encode(&mut front, 0);
        Body::new(msg_type::AUTH, 1, front)
    }
}

/// MAuthReply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthReply {
    /// Auth protocol id the monitor answered with.
    pub protocol: u32,
    /// 0 or a negative errno (e.g. -EACCES for a bad key).
    pub result: i32,
    /// The id the monitors gave this client session.
    pub global_id: u64,
    /// The protocol's reply bytes (tickets).
    pub payload: Vec<u8>,
    /// A human-readable status from the monitor.
    pub message: String,
}

impl AuthReply {
    /// Reads the message's front segment.
    pub fn decode(front: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        Ok(AuthReply {
            protocol: d.u32("protocol")?,
            result: d.i32("result")?,
            global_id: d.u64("global_id")?,
            payload: Blob::decode(&mut d)?.0,
            message: String::decode(&mut d)?,
        })
    }
}

/// MMonGetVersion: ask for the newest and oldest epochs of a map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetVersion {
    /// Chosen by the client; the reply carries it back.
    pub handle: u64,
    /// The map asked about (`osdmap`, `monmap`, `mgrmap`, ...).
    pub what: String,
}

impl GetVersion {
    /// Encodes the request for sending.
    pub fn to_body(&self) -> Body {
        let mut front = Vec::new();
        self.handle.encode(&mut front, 0);
        self.what.encode(&mut front, 0);
        Body::new(msg_type::MON_GET_VERSION, 1, front)
    }
}

/// MMonGetVersionReply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetVersionReply {
    /// The request's handle.
    pub handle: u64,
    /// The newest epoch the monitors hold.
    pub newest: u64,
    /// The oldest epoch the monitors hold (0 from version-1 replies).
    pub oldest: u64,
}

impl GetVersionReply {
    /// Reads the reply; `version` is the header's message version.
    pub fn decode(front: &[u8], version: u16) -> Result<Self> {
        let mut d = Decoder::new(front);
        let handle = d.u64("handle")?;
        let newest = d.u64("version")?;
        let oldest = if version >= 2 { d.u64("oldest")? } else { 0 };
        Ok(GetVersionReply {
            handle,
            newest,
            oldest,
        })
    }
}

/// MConfig: the central configuration the monitors hand this client.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigMsg {
    /// Option name → value, as `ceph config` holds them for this client.
    pub options: BTreeMap<String, String>,
}

impl ConfigMsg {
    /// Reads the message's front segment.
    pub fn decode(front: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        Ok(ConfigMsg {
            options: BTreeMap::decode(&mut d)?,
        })
    }
}

/// MOSDMap: full and incremental OSDMaps by epoch, as encoded blobs (the
/// subscriber decodes them), and the range the monitor holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OsdMapMsg {
    /// The cluster's id.
    pub fsid: [u8; 16],
    /// Encoded incrementals by the epoch each produces.
    pub incremental: BTreeMap<u32, Blob>,
    /// Encoded full maps by epoch.
    pub full: BTreeMap<u32, Blob>,
    /// Oldest epoch the monitors still hold (0 from version-1 messages).
    pub oldest: u32,
    /// Newest epoch the monitors hold (0 from version-1 messages).
    pub newest: u32,
}

impl OsdMapMsg {
    /// Reads the message; `version` is the header's message version.
    pub fn decode(front: &[u8], version: u16) -> Result<Self> {
        let mut d = Decoder::new(front);
        let fsid = d.array("fsid")?;
        let incremental = BTreeMap::decode(&mut d)?;
        let full = BTreeMap::decode(&mut d)?;
        let (oldest, newest) = if version >= 2 {
            (d.u32("oldest_map")?, d.u32("newest_map")?)
        } else {
            (0, 0)
        };
        // Newer encoders append more (removed snaps); not needed here.
        Ok(OsdMapMsg {
            fsid,
            incremental,
            full,
            oldest,
            newest,
        })
    }

    /// Encodes the message (for fake monitors).
    pub fn to_body(&self) -> Body {
        let mut front = Vec::new();
        self.fsid.encode(&mut front, 0);
        self.incremental.encode(&mut front, 0);
        self.full.encode(&mut front, 0);
        self.oldest.encode(&mut front, 0);
        self.newest.encode(&mut front, 0);
        Body::new(msg_type::OSD_MAP, 3, front)
    }

    /// The newest epoch carried, full or incremental.
    pub fn last_epoch(&self) -> Option<u32> {
        let a = self.full.keys().next_back().copied();
        let b = self.incremental.keys().next_back().copied();
        a.max(b)
    }
}

/// The epoch of an encoded MgrMap (its first field inside the envelope),
/// without decoding the rest.
pub fn mgrmap_epoch(front: &[u8]) -> Result<u32> {
    let mut d = Decoder::new(front);
    d.envelope("MgrMap", u8::MAX, |d, _| d.u32("MgrMap epoch"))
}

/// MLog: cluster log entries, kept encoded (`LogEntry` decoding lives with
/// the types); the count is checked so a hostile length is caught here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMsg {
    /// The cluster's id.
    pub fsid: [u8; 16],
    /// The encoded entries, still in one blob (count-prefixed deque).
    pub entries: Vec<u8>,
    /// Number of entries in `entries`.
    pub count: usize,
}

impl LogMsg {
    /// Reads the message, checking the entry count against the bytes there are.
    pub fn decode(front: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        PaxosHeader::decode(&mut d)?;
        let fsid = d.array("fsid")?;
        let entries = d.rest().to_vec();
        // Every LogEntry is well over 16 bytes.
        let count = Decoder::new(&entries).count(16, "log entries")?;
        Ok(LogMsg {
            fsid,
            entries,
            count,
        })
    }
}

/// An MLog we send: cluster log entries from this client.
pub fn log_body(fsid: [u8; 16], entries: &[ceph_types::LogEntry], features: u64) -> Body {
    let mut front = Vec::new();
    PaxosHeader::default().encode(&mut front, 0);
    fsid.encode(&mut front, 0);
    (entries.len() as u32).encode(&mut front, 0);
    for e in entries {
        e.encode(&mut front, features);
    }
    Body::new(msg_type::LOG, 1, front)
}

/// MLogAck: the monitor has stored our entries up to `last` on `channel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogAck {
    /// The cluster's id.
    pub fsid: [u8; 16],
    /// Sequence number of the last entry stored.
    pub last: u64,
    /// The log channel (`cluster`, `audit`); empty from old monitors.
    pub channel: String,
}

impl LogAck {
    /// Reads the message's front segment.
    pub fn decode(front: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        let fsid = d.array("fsid")?;
        let last = d.u64("last")?;
        let channel = if d.is_empty() {
            String::new()
        } else {
            String::decode(&mut d)?
        };
        Ok(LogAck {
            fsid,
            last,
            channel,
        })
    }

    /// Encodes the acknowledgement (for fake monitors).
    pub fn to_body(&self) -> Body {
        let mut front = Vec::new();
        self.fsid.encode(&mut front, 0);
        self.last.encode(&mut front, 0);
        self.channel.encode(&mut front, 0);
        Body::new(msg_type::LOG_ACK, 1, front)
    }
}

/// MCommand: a command for one daemon (here: one monitor, by a
/// connection of its own), answered by [`CommandReplyMsg`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMsg {
    /// The cluster's id.
    pub fsid: [u8; 16],
    /// The command, usually one JSON object as a string.
    pub cmd: Vec<String>,
    /// Input bytes for the command; sent in the data segment.
    pub inbl: Vec<u8>,
}

impl CommandMsg {
    /// Encodes the command for sending.
    pub fn to_body(&self) -> Body {
        let mut front = Vec::new();
        self.fsid.encode(&mut front, 0);
        self.cmd.encode(&mut front, 0);
        let mut b = Body::new(msg_type::COMMAND, 1, front);
        b.data = self.inbl.clone();
        b
    }

    /// Reads a command from its front and data segments (for fake daemons).
    pub fn decode(front: &[u8], data: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        Ok(CommandMsg {
            fsid: d.array("fsid")?,
            cmd: Vec::decode(&mut d)?,
            inbl: data.to_vec(),
        })
    }
}

/// MCommandReply: return value and status string; output in the data
/// segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandReplyMsg {
    /// 0 or a negative errno.
    pub retval: i32,
    /// The status text.
    pub outs: String,
    /// The output; from the data segment.
    pub outbl: Vec<u8>,
}

impl CommandReplyMsg {
    /// Reads the answer from its front and data segments.
    pub fn decode(front: &[u8], data: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(front);
        Ok(CommandReplyMsg {
            retval: d.i32("retval")?,
            outs: String::decode(&mut d)?,
            outbl: data.to_vec(),
        })
    }

    /// Encodes the answer (for fake daemons).
    pub fn to_body(&self) -> Body {
        let mut front = Vec::new();
        self.retval.encode(&mut front, 0);
        self.outs.encode(&mut front, 0);
        let mut b = Body::new(msg_type::COMMAND_REPLY, 1, front);
        b.data = self.outbl.clone();
        b
    }
}

/// MPing: empty when we send it; a monitor answers with an MPing whose
/// front is a string of JSON (its health and status).
pub fn ping_body() -> Body {
    Body::new(msg_type::PING, 1, Vec::new())
}

/// The JSON a monitor put in its MPing answer; an empty answer is an
/// error, not a pong.
pub fn decode_pong(front: &[u8]) -> Result<String> {
    let mut d = Decoder::new(front);
    let text = String::decode(&mut d)?;
    if text.is_empty() {
        return Err(ceph_denc::DecodeError::invalid("ping reply", "empty"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bytes the `ceph` CLI sent in /work/shared/captures/crc.conn1.c2s.bin.
    const CAPTURED_SUBSCRIBE: &str = "0200000006000000636f6e666967000000000000000000060000006d6f6e6d617000000000000000000002000000766d";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn subscribe_matches_the_ceph_cli() {
        let bytes = unhex(CAPTURED_SUBSCRIBE);
        let sub = MonSubscribe::decode(&bytes).unwrap();
        assert_eq!(sub.what.len(), 2);
        assert_eq!(sub.what["monmap"], SubscribeItem::default());
        assert_eq!(sub.hostname, "vm");
        assert_eq!(sub.to_body().front, bytes);
    }

    #[test]
    fn command_round_trip() {
        let c = MonCommand {
            fsid: [7; 16],
            cmd: vec![r#"{"prefix": "mon dump"}"#.into()],
            inbl: b"in".to_vec(),
        };
        let b = c.to_body();
        assert_eq!(b.ty, msg_type::MON_COMMAND);
        assert_eq!(MonCommand::decode(&b.front, &b.data).unwrap(), c);
    }

    #[test]
    fn directed_command_and_pong() {
        let c = CommandMsg {
            fsid: [1; 16],
            cmd: vec![r#"{"prefix": "mon_status"}"#.into()],
            inbl: vec![],
        };
        let b = c.to_body();
        assert_eq!(b.ty, msg_type::COMMAND);
        assert_eq!(CommandMsg::decode(&b.front, &b.data).unwrap(), c);
        let r = CommandReplyMsg {
            retval: -2,
            outs: "no".into(),
            outbl: b"x".to_vec(),
        };
        let b = r.to_body();
        assert_eq!(CommandReplyMsg::decode(&b.front, &b.data).unwrap(), r);
        let mut pong = Vec::new();
        "{\"health\":{}}".to_string().encode(&mut pong, 0);
        assert_eq!(decode_pong(&pong).unwrap(), "{\"health\":{}}");
        assert!(decode_pong(&[0, 0, 0, 0]).is_err());
        assert!(decode_pong(&[]).is_err());
    }

    #[test]
    fn command_ack_round_trip() {
        let a = MonCommandAck {
            retval: -13,
            outs: "access denied".into(),
            cmd: vec!["x".into()],
            outbl: vec![1, 2, 3],
        };
        let b = a.to_body();
        assert_eq!(MonCommandAck::decode(&b.front, &b.data).unwrap(), a);
        assert!(MonCommandAck::decode(&b.front[..b.front.len() - 1], &[]).is_err());
    }
}
