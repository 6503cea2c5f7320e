//! Keyring files in the ini format Ceph writes:
//!
//! ```text
//! [client.admin]
//!     key = AQCtgwprcghQMhAAzlSVz8lamy41d8MITlpQAg==
//!     caps mon = "allow *"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::crypto::CryptoKey;
use crate::error::{AuthError, Result};
use crate::EntityName;

/// One entity's entry in a keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringEntry {
    /// The entity's secret key.
    pub key: CryptoKey,
    /// Service name (`mon`, `osd`, ...) to cap text, unquoted.
    pub caps: BTreeMap<String, String>,
}

/// The entries of a keyring, by entity name.
///
/// ```
/// use ceph_auth::{EntityName, Keyring};
/// let kr = Keyring::parse("[client.admin]\n\tkey = AQCtgwprcghQMhAAzlSVz8lamy41d8MITlpQAg==\n\tcaps mon = \"allow *\"\n").unwrap();
/// let name = "client.admin".parse::<EntityName>().unwrap();
/// assert_eq!(kr.get(&name).unwrap().secret().len(), 16);
/// assert_eq!(kr.entry(&name).unwrap().caps["mon"], "allow *");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keyring {
    entries: BTreeMap<EntityName, KeyringEntry>,
}

/// A section being read: its entity, key and caps so far.
type Section = (EntityName, Option<CryptoKey>, BTreeMap<String, String>);

/// Moves a finished section into `entries`; a section without a key is an
/// error.
fn finish(cur: Option<Section>, entries: &mut BTreeMap<EntityName, KeyringEntry>) -> Result<()> {
    if let Some((name, key, caps)) = cur {
        let key = key.ok_or_else(|| AuthError::Keyring(format!("section [{name}] has no key")))?;
        entries.insert(name, KeyringEntry { key, caps });
    }
    Ok(())
}

/// Removes a trailing `;` or `#` comment that is not inside quotes.
fn strip_comment(line: &str) -> &str {
    let mut in_quotes = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ';' | '#' if !in_quotes => return &line[..i],
            _ => {}
        }
    }
    line
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

impl Keyring {
    /// Parses keyring text. Entries without a `key` are rejected, as are
    /// lines outside a section and section names that are not entity
    /// names.
    pub fn parse(text: &str) -> Result<Self> {
        let mut entries = BTreeMap::new();
        let mut current: Option<Section> = None;
        for (lineno, raw) in text.lines().enumerate() {
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            if let Some(section) = line.strip_prefix('[') {
                let section = section.strip_suffix(']').ok_or_else(|| {
                    AuthError::Keyring(format!("line {}: unterminated section", lineno + 1))
                })?;
                let name = section.trim().parse::<EntityName>().ok().ok_or_else(|| {
                    AuthError::Keyring(format!(
                        "line {}: [{section}] is not an entity name",
                        lineno + 1
                    ))
                })?;
                finish(current.take(), &mut entries)?;
                current = Some((name, None, BTreeMap::new()));
                continue;
            }
            let (k, v) = line.split_once('=').ok_or_else(|| {
                AuthError::Keyring(format!("line {}: expected `name = value`", lineno + 1))
            })?;
            let Some((_, key, caps)) = current.as_mut() else {
                return Err(AuthError::Keyring(format!(
                    "line {}: setting outside of any section",
                    lineno + 1
                )));
            };
            // Ceph treats spaces and underscores in option names alike.
            let k: Vec<&str> = k
                .split(|c: char| c.is_whitespace() || c == '_')
                .filter(|s| !s.is_empty())
                .collect();
            let v = unquote(v.trim());
            match k.as_slice() {
                ["key"] => *key = Some(CryptoKey::from_base64(v)?),
                ["caps", service] => {
                    caps.insert(service.to_string(), v.to_string());
                }
                // Other settings (e.g. `auid`) do not matter to a client.
                _ => {}
            }
        }
        finish(current.take(), &mut entries)?;
        Ok(Keyring { entries })
    }

    /// Reads and parses a keyring file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| AuthError::Keyring(format!("{}: {e}", path.display())))?;
        Keyring::parse(&text)
    }

    /// The key of `name`, if the keyring has one.
    pub fn get(&self, name: &EntityName) -> Option<&CryptoKey> {
        self.entries.get(name).map(|e| &e.key)
    }

    /// The whole entry of `name` (key and caps).
    pub fn entry(&self, name: &EntityName) -> Option<&KeyringEntry> {
        self.entries.get(name)
    }

    /// Entity names in the keyring.
    pub fn names(&self) -> impl Iterator<Item = &EntityName> {
        self.entries.keys()
    }

    /// Adds or replaces an entry.
    pub fn insert(&mut self, name: EntityName, entry: KeyringEntry) {
        self.entries.insert(name, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[client.admin]\n\tkey = AQCtgwprcghQMhAAzlSVz8lamy41d8MITlpQAg==\n\tcaps mds = \"allow *\"\n\tcaps mon = \"allow r\" ; comment\n# full-line comment\n[mon.]\n\tkey = AQCtgwprQbKcLxAALMv7+0r3REbkjeFXVMIYdg==\n\tcaps_mon = \"allow *\"\n";

    #[test]
    fn parses_sections_keys_and_caps() {
        let kr = Keyring::parse(TEXT).unwrap();
        let admin = kr
            .entry(&"client.admin".parse::<EntityName>().unwrap())
            .unwrap();
        assert_eq!(admin.caps["mon"], "allow r");
        assert_eq!(admin.caps["mds"], "allow *");
        let mon = kr.entry(&"mon.".parse::<EntityName>().unwrap()).unwrap();
        assert_eq!(mon.caps["mon"], "allow *");
        assert_ne!(admin.key, mon.key);
        assert_eq!(kr.names().count(), 2);
    }

    #[test]
    fn rejects_broken_keyrings() {
        assert!(Keyring::parse("key = AQCtgwprcghQMhAAzlSVz8lamy41d8MITlpQAg==").is_err());
        assert!(Keyring::parse("[client.admin]\ncaps mon = x\n").is_err());
        assert!(Keyring::parse("[client.admin\n").is_err());
        assert!(Keyring::parse("[client.admin]\nkey = !!notbase64\n").is_err());
        assert!(
            Keyring::parse("[nonsense]\nkey = AQCtgwprcghQMhAAzlSVz8lamy41d8MITlpQAg==\n").is_err()
        );
    }
}
