//! One connection to one daemon: a task owns the connection (msgr2 or
//! msgr1), gives
//! each command a tid and hands each reply to whoever waits for that tid.
//! When the connection ends, every waiter learns it at once (and may try
//! again, on a new connection, wherever the maps say the daemon is now).

use std::collections::HashMap;
use std::net::SocketAddr;

use ceph_monclient::CommandReply;
use ceph_msgr::connection::{CloseReason, Connection, Event};
use ceph_msgr::message::Message;
use tokio::sync::{mpsc, oneshot};

use crate::messages::{decode_reply, is_command_reply};

/// How a command on a link ended without a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkLost {
    /// The connection closed (the daemon stopped, restarted, or reset us).
    Closed(String),
    /// The daemon sent a reply we cannot read.
    BadReply(String),
}

type Waiter = oneshot::Sender<Result<CommandReply, LinkLost>>;

struct Job {
    msg: Message,
    reply: Waiter,
}

/// A handle on a connection task; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Link {
    jobs: mpsc::UnboundedSender<Job>,
    /// The address it is connected to.
    pub addr: SocketAddr,
    /// The nonce of the daemon instance it reached.
    pub nonce: u32,
}

impl Link {
    /// Starts the task for an open connection.
    pub fn start(conn: Connection, nonce: u32) -> Link {
        let addr = conn.peer_addr();
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(conn, rx));
        Link { jobs, addr, nonce }
    }

    /// False once the connection has ended.
    pub fn is_open(&self) -> bool {
        !self.jobs.is_closed()
    }

    /// Sends a command message; the receiver yields its reply, or why none
    /// will come.
    pub fn send(&self, msg: Message) -> oneshot::Receiver<Result<CommandReply, LinkLost>> {
        let (reply, rx) = oneshot::channel();
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(Job { msg, reply }) {
            let _ = job
                .reply
                .send(Err(LinkLost::Closed("connection already closed".into())));
        }
        rx
    }
}

async fn run(conn: Connection, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let (sender, mut events) = conn.split();
    let mut waiting: HashMap<u64, Waiter> = HashMap::new();
    let mut next_tid = 1u64;
    let why = loop {
        tokio::select! {
            job = jobs.recv() => match job {
                Some(Job { mut msg, reply }) => {
                    msg.tid = next_tid;
                    if sender.send(msg).is_err() {
                        let _ = reply.send(Err(LinkLost::Closed("connection closed".into())));
                        continue;
                    }
                    waiting.insert(next_tid, reply);
                    next_tid += 1;
                }
                // Every handle is gone: nothing more to send or await.
                None => return,
            },
            ev = events.recv() => match ev {
                Some(Event::Message(m)) if is_command_reply(m.ty) => {
                    let Some(w) = waiting.remove(&m.tid) else {
                        tracing::debug!(tid = m.tid, "reply to no command of ours");
                        continue;
                    };
                    let r = decode_reply(&m.front, &m.data)
                        .map_err(|e| LinkLost::BadReply(e.to_string()));
                    let _ = w.send(r);
                }
                Some(Event::Message(m)) => {
                    tracing::debug!(ty = m.ty, "ignoring a message from a daemon");
                }
                Some(Event::KeepaliveAck(_)) => {}
                Some(Event::Closed(reason)) => break describe(&reason),
                None => break "connection ended".to_string(),
            },
        }
    };
    jobs.close();
    for (_, w) in waiting.drain() {
        let _ = w.send(Err(LinkLost::Closed(why.clone())));
    }
    // Jobs queued after the close learn it too.
    while let Some(job) = jobs.recv().await {
        let _ = job.reply.send(Err(LinkLost::Closed(why.clone())));
    }
}

fn describe(reason: &CloseReason) -> String {
    match reason {
        CloseReason::Local => "closed by us".into(),
        CloseReason::PeerClosed => "closed by the daemon".into(),
        CloseReason::Error(e) => e.to_string(),
    }
}
