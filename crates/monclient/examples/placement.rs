//! Where does an object live? Take the cluster's current OSD map and
//! compute, as a RADOS client does before every request, the object's
//! placement group and the OSDs serving it: the up set (what CRUSH and the
//! upmaps choose among live OSDs) and the acting set (who serves the PG
//! now, `pg_temp` included; its primary is the OSD a client talks to).
//! Nothing is asked of the OSDs: the map alone answers, as `ceph osd map`
//! does on the monitor.
//!
//! Run: `cargo run -p ceph-monclient --example placement -- POOL OBJECT...`

use std::time::Duration;

use ceph_monclient::MonClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: placement POOL OBJECT...";
    let pool_name = args.next().ok_or(usage)?;
    let objects: Vec<String> = args.collect();
    if objects.is_empty() {
        return Err(usage.into());
    }

    let client = MonClient::from_ceph_config().await?;
    let mut osdmap = client.follow_osdmap()?;
    // The first map arrives right after subscribing; do not wait forever.
    let map = tokio::time::timeout(Duration::from_secs(30), osdmap.wait_for_epoch(1))
        .await
        .map_err(|_| "no OSD map within 30 s")?
        .ok_or("the client shut down")?;

    let pool = map
        .pool_id(&pool_name)
        .ok_or_else(|| format!("no pool '{pool_name}' in osdmap e{}", map.epoch))?;
    println!("osdmap e{}", map.epoch);
    for object in &objects {
        // Default namespace, no locator key.
        let pg = map.object_to_pg(pool, object, "", None)?;
        let placement = map.pg_to_up_acting(pg)?;
        println!(
            "{object} -> pg {pg} -> up {:?} (primary osd.{}), acting {:?} (primary osd.{})",
            placement.up, placement.up_primary, placement.acting, placement.acting_primary
        );
    }
    client.shutdown().await;
    Ok(())
}
