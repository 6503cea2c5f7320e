//! `ceph -w`, the log part: print cluster-log entries as they come.
//!
//! Run: `cargo run -p ceph-monclient --example watch_log [UNTIL]` (stops
//! after an entry whose message contains UNTIL; runs until killed without
//! it).

use ceph_monclient::{LogLevel, MonClient, MonError};

#[tokio::main]
async fn main() -> Result<(), MonError> {
    let until: Option<String> = std::env::args().nth(1);
    let client = MonClient::from_ceph_config().await?;
    let mut log = client.cluster_log(LogLevel::Info)?;
    println!("watching the cluster log");
    while let Some(entry) = log.next().await {
        match entry {
            Ok(entry) => {
                println!("{}", entry.to_line());
                if until
                    .as_ref()
                    .is_some_and(|u| entry.msg.contains(u.as_str()))
                {
                    break;
                }
            }
            // A slow reader is told how much it missed, then goes on.
            Err(MonError::Lagged { missed }) => eprintln!("missed {missed} entries"),
            Err(e) => return Err(e),
        }
    }
    client.shutdown().await;
    Ok(())
}
