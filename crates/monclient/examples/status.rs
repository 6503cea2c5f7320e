//! `ceph status`: connect from the ordinary Ceph configuration (CEPH_CONF,
//! CEPH_KEYRING and the default search paths) and print the status as text.
//!
//! Run: `cargo run -p ceph-monclient --example status`

#[tokio::main]
async fn main() -> Result<(), ceph_monclient::MonError> {
    let client = ceph_monclient::MonClient::from_ceph_config().await?;
    let status = client.command_words("status").await?.into_result()?;
    println!("{}", status.text());
    client.shutdown().await;
    Ok(())
}
