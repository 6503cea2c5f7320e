//! A daemon entity (`osd.N`, `mgr.N`...) with rotating service keys: it
//! authenticates as the daemon and waits for the secrets the monitors
//! rotate for its service, as a daemon does before serving.
//!
//! Run: `cargo run -p ceph-monclient --example daemon_rotating -- osd.0 KEYRING`

use std::time::Duration;

use ceph_monclient::{MonClient, MonError};

#[tokio::main]
async fn main() -> Result<(), MonError> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "osd.0".into());
    let mut builder = MonClient::builder().name(&name);
    if let Some(keyring) = args.next() {
        builder = builder.keyring(keyring);
    }
    let client = builder.connect().await?;
    client.wait_auth_rotating(Duration::from_secs(30)).await?;
    let secrets = client
        .rotating_secrets()
        .expect("a daemon entity holds rotating secrets");
    // Debug of the secrets redacts the keys.
    println!("{name}: rotating secrets {secrets:?}");
    client.shutdown().await;
    Ok(())
}
