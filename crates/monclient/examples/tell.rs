//! `ceph tell mon.NAME version`: one monitor over a connection of its own
//! (it answers even out of quorum), the reply read as JSON.
//!
//! Run: `cargo run -p ceph-monclient --example tell [NAME]` (default: the
//! first monitor of the MonMap).

use ceph_monclient::{MonClient, MonError, MonTarget};

#[tokio::main]
async fn main() -> Result<(), MonError> {
    let client = MonClient::from_ceph_config().await?;
    let name = match std::env::args().nth(1) {
        Some(n) => n,
        None => client
            .monmap()
            .and_then(|m| m.ranks.first().cloned())
            .unwrap_or_default(),
    };
    let cmd = serde_json::json!({"prefix": "version", "format": "json"});
    let reply = client
        .tell(MonTarget::Name(name.clone()), cmd, Vec::new(), None)
        .await?;
    let version: serde_json::Value = reply.json()?;
    println!("mon.{name}: {}", version["version"].as_str().unwrap_or("?"));
    client.shutdown().await;
    Ok(())
}
