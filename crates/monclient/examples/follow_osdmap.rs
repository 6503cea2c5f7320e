//! Keep the OSD map current and print each new epoch: the library applies
//! full maps and incrementals; `current()` is the map as of now.
//!
//! Run: `cargo run -p ceph-monclient --example follow_osdmap [EPOCHS]`
//! (stops after EPOCHS new epochs; runs until killed without it).

use ceph_monclient::{MonClient, MonError};

#[tokio::main]
async fn main() -> Result<(), MonError> {
    let limit: Option<usize> = std::env::args().nth(1).and_then(|n| n.parse().ok());
    let client = MonClient::from_ceph_config().await?;
    let mut osdmap = client.follow_osdmap()?;
    let map = osdmap.wait_for_epoch(1).await.expect("client running");
    println!(
        "osdmap e{}: {} pools, max_osd {}",
        map.epoch,
        map.pools.len(),
        map.max_osd
    );
    let mut seen = 0;
    while let Some(map) = osdmap.next().await {
        match map {
            Ok(map) => println!(
                "osdmap e{}: {} pools, flags {:#x}",
                map.epoch,
                map.pools.len(),
                map.flags
            ),
            Err(MonError::Lagged { missed }) => {
                eprintln!("missed {missed} epochs; current() is still right")
            }
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
