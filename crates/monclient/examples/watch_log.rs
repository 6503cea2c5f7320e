//! `ceph -w`, the log part: print cluster-log entries as they come.
//!
//! Run: `cargo run -p ceph-monclient --example watch_log [COUNT]` (stops
//! after COUNT entries; runs until killed without it).

use ceph_monclient::{LogLevel, MonClient, MonError};

#[tokio::main]
async fn main() -> Result<(), MonError> {
    let limit: Option<usize> = std::env::args().nth(1).and_then(|n| n.parse().ok());
    let client = MonClient::from_ceph_config().await?;
    let mut log = client.cluster_log(LogLevel::Info)?;
    println!("watching the cluster log");
    let mut seen = 0;
    while let Some(entry) = log.next().await {
        match entry {
            Ok(entry) => println!("{}", entry.to_line()),
            // A slow reader is told how much it missed, then goes on.
            Err(MonError::Lagged { missed }) => eprintln!("missed {missed} events"),
            Err(e) => return Err(e),
        }
        seen += 1;
        if limit.is_some_and(|l| seen >= l) {
            break;
        }
    }
    client.shutdown().await;
    Ok(())
}
