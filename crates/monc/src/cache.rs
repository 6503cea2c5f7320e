//! The cluster's command descriptions, kept between runs so a command
//! given as words costs no `get_command_descriptions` round trip (73-80 kB
//! of JSON, and parsing all of it).
//!
//! One file per cluster (`$XDG_CACHE_HOME/monc/FSID.cmds`, else
//! `~/.cache/monc/FSID.cmds`), valid for one [`CacheKey`]: the monitors'
//! MonMap epoch, release and features, and the MgrMap epoch (a manager
//! failing over, restarting on another release or enabling a module, which
//! brings new commands, moves it on). The caller fetches afresh when the key
//! differs, when the file is missing or unreadable, and when words match
//! nothing in it.
//!
//! Signatures are stored one by one with their first word, so a command
//! parses only those that may match it (`mon dump` reads the `mon` ones).
//!
//! The file is written to a temporary name and renamed over the old one,
//! so readers see a whole file or the previous one. Reading is total: any
//! file that does not decode in full, with a matching checksum, is ignored.

use std::path::{Path, PathBuf};

use ceph_argparse::{first_word_may_match, CommandTable, DescriptionEntry, MatchError};

/// What the cached descriptions were fetched under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheKey {
    pub fsid: [u8; 16],
    pub monmap_epoch: u32,
    pub min_mon_release: u8,
    pub mon_features: u64,
    pub mgrmap_epoch: u64,
}

/// The cached descriptions of one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedDescriptions {
    pub key: CacheKey,
    pub entries: Vec<DescriptionEntry>,
}

const MAGIC: &[u8; 8] = b"MONCCMD\x01";
/// Larger files are not ours (the descriptions are under 100 kB).
const MAX_FILE: u64 = 16 << 20;

/// Where the cache files live: `$XDG_CACHE_HOME/monc`, else
/// `$HOME/.cache/monc`; `None` when neither is set (no cache then).
pub fn cache_dir() -> Option<PathBuf> {
    let non_empty = |v: &str| std::env::var_os(v).filter(|s| !s.is_empty());
    if let Some(xdg) = non_empty("XDG_CACHE_HOME") {
        return Some(PathBuf::from(xdg).join("monc"));
    }
    non_empty("HOME").map(|h| PathBuf::from(h).join(".cache").join("monc"))
}

/// The file for the cluster `fsid` under `dir`.
pub fn cache_file(dir: &Path, fsid: &[u8; 16]) -> PathBuf {
    let hex: String = fsid.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.cmds"))
}

impl CachedDescriptions {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let size: usize = self
            .entries
            .iter()
            .map(|e| 8 + e.first_word.len() + e.json.len())
            .sum();
        let mut b = Vec::with_capacity(64 + size);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&self.key.fsid);
        b.extend_from_slice(&self.key.monmap_epoch.to_le_bytes());
        b.push(self.key.min_mon_release);
        b.extend_from_slice(&self.key.mon_features.to_le_bytes());
        b.extend_from_slice(&self.key.mgrmap_epoch.to_le_bytes());
        b.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for e in &self.entries {
            b.extend_from_slice(&(e.first_word.len() as u32).to_le_bytes());
            b.extend_from_slice(e.first_word.as_bytes());
            b.extend_from_slice(&(e.json.len() as u32).to_le_bytes());
            b.extend_from_slice(&e.json);
        }
        let crc = crc32c::crc32c(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// Reads a file's bytes; `None` for anything but a whole, intact file.
    pub fn decode(bytes: &[u8]) -> Option<CachedDescriptions> {
        let (body, crc) = bytes.split_last_chunk::<4>()?;
        if crc32c::crc32c(body) != u32::from_le_bytes(*crc) {
            return None;
        }
        let mut r = Reader(body);
        if r.take(MAGIC.len())? != MAGIC {
            return None;
        }
        let key = CacheKey {
            fsid: r.take(16)?.try_into().ok()?,
            monmap_epoch: r.u32()?,
            min_mon_release: r.take(1)?[0],
            mon_features: r.u64()?,
            mgrmap_epoch: r.u64()?,
        };
        let count = r.u32()? as usize;
        // Each entry takes at least 8 bytes: a count the file cannot hold
        // is refused before anything is allocated for it.
        if count > r.0.len() / 8 {
            return None;
        }
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            let n = r.u32()? as usize;
            let first_word = std::str::from_utf8(r.take(n)?).ok()?.to_string();
            let n = r.u32()? as usize;
            let json = r.take(n)?.to_vec();
            entries.push(DescriptionEntry { first_word, json });
        }
        if !r.0.is_empty() {
            return None;
        }
        Some(CachedDescriptions { key, entries })
    }

    /// Loads the file at `path`; `None` when it is missing, too large or
    /// does not decode.
    pub fn load(path: &Path) -> Option<CachedDescriptions> {
        let meta = std::fs::metadata(path).ok()?;
        if meta.len() > MAX_FILE {
            return None;
        }
        Self::decode(&std::fs::read(path).ok()?)
    }

    /// Writes the file at `path` atomically (a temporary file in the same
    /// directory, renamed over it), making the directory if needed.
    pub fn store(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("cmds");
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let result = std::fs::write(&tmp, self.encode()).and_then(|()| std::fs::rename(&tmp, path));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// A table of the signatures that may match `words`: all of them when
    /// none may (or `words` is empty, as help needs), since then every
    /// signature ties and `ceph` lists the first as the closest.
    pub fn table_for(&self, words: &[String]) -> Result<CommandTable, MatchError> {
        let may = |e: &DescriptionEntry| first_word_may_match(&e.first_word, words);
        let all = !self.entries.iter().any(may);
        CommandTable::from_entries(
            self.entries
                .iter()
                .filter(|e| all || may(e))
                .map(|e| e.json.as_slice()),
        )
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESCS: &[u8] = br#"{
        "cmd000": {"sig": ["mon", "dump", {"name": "epoch", "type": "CephInt", "range": "0", "req": "false"}],
                   "help": "dump formatted monmap", "module": "mon", "perm": "r", "flags": 0},
        "cmd001": {"sig": ["osd", "dump"], "help": "print summary of OSD map", "module": "osd", "perm": "r", "flags": 0},
        "cmd002": {"sig": ["mon", "stat"], "help": "summarize monitor status", "module": "mon", "perm": "r", "flags": 0},
        "cmd003": {"sig": ["mgr", "dump"], "help": "dump the MgrMap", "module": "mgr", "perm": "r", "flags": 8}
    }"#;

    fn key() -> CacheKey {
        CacheKey {
            fsid: [7; 16],
            monmap_epoch: 3,
            min_mon_release: 16,
            mon_features: 0xff,
            mgrmap_epoch: 12,
        }
    }

    fn cached() -> CachedDescriptions {
        CachedDescriptions {
            key: key(),
            entries: ceph_argparse::description_entries(DESCS).unwrap(),
        }
    }

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn round_trip() {
        let c = cached();
        assert_eq!(c.entries.len(), 4);
        assert_eq!(CachedDescriptions::decode(&c.encode()), Some(c));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let bytes = cached().encode();
        for n in 0..bytes.len() {
            assert_eq!(CachedDescriptions::decode(&bytes[..n]), None, "cut at {n}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert_eq!(CachedDescriptions::decode(&b), None, "byte {i}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(CachedDescriptions::decode(&longer), None);
    }

    #[test]
    fn hostile_counts_allocate_nothing() {
        // A valid checksum over a header that claims 4 billion entries.
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[0; 16 + 4 + 1 + 8 + 8]);
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        let crc = crc32c::crc32c(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(CachedDescriptions::decode(&b), None);
    }

    #[test]
    fn a_table_of_the_signatures_that_may_match() {
        let c = cached();
        let t = c.table_for(&words("mon dump")).unwrap();
        assert_eq!(t.commands.len(), 2);
        let cmd = t.words_to_json(&words("mon dump 2")).unwrap();
        assert_eq!(cmd["prefix"], "mon dump");
        assert_eq!(cmd["epoch"], 2);
        // A first word given in part (the only word) takes every signature
        // it begins; not followed by more words.
        assert_eq!(c.table_for(&words("m")).unwrap().commands.len(), 3);
        assert_eq!(c.table_for(&[]).unwrap().commands.len(), 4);
        // None may match: all of them, for the closest matches.
        assert_eq!(c.table_for(&words("frob")).unwrap().commands.len(), 4);
        assert_eq!(c.table_for(&words("mo dump")).unwrap().commands.len(), 4);
    }

    #[test]
    fn the_subset_decides_as_the_whole_table() {
        let whole = CommandTable::from_json(DESCS).unwrap();
        let c = cached();
        for w in [
            "mon dump",
            "mon dump x",
            "mon",
            "mo",
            "osd dump",
            "mgr dump",
            "osd",
            "mon stat 1",
            "m",
            "mo dump",
            "frob",
            "frob nicate",
            "o d",
        ] {
            let w = words(w);
            assert_eq!(
                c.table_for(&w).unwrap().words_to_json(&w),
                whole.words_to_json(&w),
                "{w:?}"
            );
        }
    }

    #[test]
    fn store_and_load_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = cache_file(&dir.path().join("sub"), &[0xab; 16]);
        assert!(path.ends_with("abababababababababababababababab.cmds"));
        assert_eq!(CachedDescriptions::load(&path), None);
        cached().store(&path).unwrap();
        assert_eq!(CachedDescriptions::load(&path), Some(cached()));
        // A corrupt file is ignored, and a store replaces it.
        std::fs::write(&path, b"garbage").unwrap();
        assert_eq!(CachedDescriptions::load(&path), None);
        cached().store(&path).unwrap();
        assert_eq!(CachedDescriptions::load(&path), Some(cached()));
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }
}
