//! The command messages daemons answer: MCommand (any daemon; the
//! manager's `tell`), MMgrCommand (the manager's own commands, Octopus and
//! later) and their replies, which share one layout.

use bytes::Bytes;
use ceph_denc::{Decode, Decoder, Encode};
use ceph_monclient::CommandReply;
use ceph_msgr::message::Message;

/// Message type numbers.
pub mod msg_type {
    /// MCommand.
    pub const COMMAND: u16 = 97;
    /// MCommandReply.
    pub const COMMAND_REPLY: u16 = 98;
    /// MMgrCommand.
    pub const MGR_COMMAND: u16 = 0x709;
    /// MMgrCommandReply.
    pub const MGR_COMMAND_REPLY: u16 = 0x70a;
}

/// Which message carries a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    /// MCommand: OSDs, MDSs, monitors by a connection of their own, a
    /// manager's `tell`, and any command to a manager older than Octopus.
    Command,
    /// MMgrCommand: a command for the manager (`ceph`'s `mgr_command`) on
    /// Octopus or later.
    MgrCommand,
}

/// A command message: `fsid` then the command strings in the front, the
/// input in the data segment. The manager tells a `tell` (fsid set) from a
/// legacy client's command (fsid all zero) by the fsid.
pub fn command_message(kind: CommandKind, fsid: [u8; 16], cmd: &[String], inbl: &[u8]) -> Message {
    let mut front = Vec::new();
    fsid.encode(&mut front, 0);
    cmd.to_vec().encode(&mut front, 0);
    let ty = match kind {
        CommandKind::Command => msg_type::COMMAND,
        CommandKind::MgrCommand => msg_type::MGR_COMMAND,
    };
    let mut m = Message::new(ty, 1, 1, front);
    m.data = Bytes::copy_from_slice(inbl);
    m
}

/// True for the two reply types.
pub fn is_command_reply(ty: u16) -> bool {
    matches!(ty, msg_type::COMMAND_REPLY | msg_type::MGR_COMMAND_REPLY)
}

/// Decodes a reply's front (`r`, `rs`) and takes the data as the output.
pub fn decode_reply(front: &[u8], data: &[u8]) -> ceph_denc::Result<CommandReply> {
    let mut d = Decoder::new(front);
    let retval = d.i32("retval")?;
    let outs = String::decode(&mut d)?;
    Ok(CommandReply {
        retval,
        outs,
        outbl: data.to_vec(),
    })
}

/// Encodes a reply (for fake daemons in tests).
pub fn reply_message(tid: u64, mgr: bool, reply: &CommandReply) -> Message {
    let mut front = Vec::new();
    reply.retval.encode(&mut front, 0);
    reply.outs.encode(&mut front, 0);
    let ty = if mgr {
        msg_type::MGR_COMMAND_REPLY
    } else {
        msg_type::COMMAND_REPLY
    };
    let mut m = Message::new(ty, 1, 1, front);
    m.tid = tid;
    m.data = Bytes::copy_from_slice(&reply.outbl);
    m
}

/// Decodes a command message's front (for fake daemons in tests).
pub fn decode_command(front: &[u8]) -> ceph_denc::Result<([u8; 16], Vec<String>)> {
    let mut d = Decoder::new(front);
    let fsid = d.array("fsid")?;
    let cmd = Vec::<String>::decode(&mut d)?;
    Ok((fsid, cmd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_round_trip() {
        let cmd = vec![r#"{"prefix": "version"}"#.to_string()];
        let m = command_message(CommandKind::MgrCommand, [7; 16], &cmd, b"in");
        assert_eq!(m.ty, msg_type::MGR_COMMAND);
        assert_eq!(&m.data[..], b"in");
        assert_eq!(decode_command(&m.front).unwrap(), ([7; 16], cmd));
        let reply = CommandReply {
            retval: -2,
            outs: "no such thing".into(),
            outbl: b"{}".to_vec(),
        };
        let r = reply_message(9, false, &reply);
        assert_eq!(r.tid, 9);
        assert!(is_command_reply(r.ty));
        assert_eq!(decode_reply(&r.front, &r.data).unwrap(), reply);
    }

    #[test]
    fn truncated_replies_are_errors() {
        let r = reply_message(
            1,
            true,
            &CommandReply {
                retval: 0,
                outs: "long status text".into(),
                outbl: Vec::new(),
            },
        );
        for cut in 0..r.front.len() {
            assert!(decode_reply(&r.front[..cut], &[]).is_err(), "cut at {cut}");
        }
    }
}
