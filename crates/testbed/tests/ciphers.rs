//! CephX ciphers of a fresh cluster: the release's defaults, and
//! `ClusterSpec::classic_aes`. On releases before Tentacle every key is
//! `aes`; from Tentacle on the default is `aes256k`.

use base64::Engine as _;
use ceph_testbed::{CephRuntime, Cluster, ClusterSpec};

/// CryptoKey type numbers (the little-endian u16 that starts an encoded key).
const KEY_TYPE_AES: u16 = 1;
const KEY_TYPE_AES256K: u16 = 2;

/// Whether the release's monmaptool can choose ciphers (Tentacle on).
fn has_cipher_choice(runtime: &CephRuntime) -> bool {
    let out = runtime
        .command("monmaptool")
        .arg("--help")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.contains("--auth-allowed-ciphers")
}

/// The key type of the `client.admin` key in the cluster's keyring.
fn admin_key_type(cluster: &Cluster) -> u16 {
    let keyring = std::fs::read_to_string(cluster.admin_keyring_path()).unwrap();
    let key = keyring
        .lines()
        .find_map(|l| l.trim().strip_prefix("key = "))
        .expect("a key line");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .unwrap();
    u16::from_le_bytes([raw[0], raw[1]])
}

/// The allowed cipher names as `mon dump` shows them
/// (`[{"name": "aes256k", "value": 2}]`), if it shows them.
fn allowed_ciphers(cluster: &Cluster) -> Option<Vec<String>> {
    let dump = cluster.ceph(&["mon", "dump", "-f", "json"]).unwrap();
    assert!(dump.success(), "{}", dump.stderr);
    let dump = dump.json().unwrap();
    let list = dump.get("auth_allowed_ciphers")?.as_array()?.clone();
    Some(
        list.iter()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect(),
    )
}

#[test]
fn fresh_cluster_keeps_the_release_defaults() {
    let runtime = CephRuntime::from_env().unwrap();
    let cluster = Cluster::start(ClusterSpec::with_mons(1)).unwrap();
    if has_cipher_choice(&runtime) {
        assert_eq!(admin_key_type(&cluster), KEY_TYPE_AES256K);
        let allowed = allowed_ciphers(&cluster).expect("auth_allowed_ciphers in mon dump");
        assert_eq!(allowed, ["aes256k"]);
    } else {
        assert_eq!(admin_key_type(&cluster), KEY_TYPE_AES);
    }
}

#[test]
fn classic_aes_cluster_accepts_an_aes_client() {
    let runtime = CephRuntime::from_env().unwrap();
    let cluster = Cluster::start(ClusterSpec::with_mons(1).classic_aes(true)).unwrap();
    // Quorum was checked by the release's own CLI, authenticated with this key.
    assert_eq!(admin_key_type(&cluster), KEY_TYPE_AES);
    assert_eq!(cluster.quorum_names().unwrap(), ["a"]);
    if has_cipher_choice(&runtime) {
        let mut allowed = allowed_ciphers(&cluster).expect("auth_allowed_ciphers in mon dump");
        allowed.sort();
        assert_eq!(allowed, ["aes", "aes256k"]);
    }
}
