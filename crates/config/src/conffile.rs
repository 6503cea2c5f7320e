//! The `ceph.conf` INI dialect.
//!
//! Grammar, as Ceph's own parser accepts it:
//! - `[section]` headings; keys that appear again (in the same or a repeated
//!   section) replace the earlier value.
//! - `key = value` lines. Keys are normalized: surrounding blanks dropped,
//!   inner runs of blanks and every `-` become `_`, so `mon host`, `mon-host`
//!   and `mon_host` are one key.
//! - `#` and `;` start a comment anywhere outside a quoted value.
//! - Values may be quoted with `"` or `'`; surrounding blanks are trimmed
//!   (inside quotes too, as Ceph does).
//! - A backslash escapes the next character (`\#`, `\;`, `\\`); a backslash
//!   at the end of a line joins the next line.
//!
//! Deliberately more lenient than Ceph (which rejects these): a last line
//! without a newline, lines holding only blanks before the first section,
//! `key = value` lines before any section (they go to `[global]`), and `#`/`;`
//! inside quoted values (kept as text).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Largest conf file [`ConfFile::load`] reads. Real files are a few KiB; the
/// cap keeps a hostile path (a huge file, `/dev/zero`) from eating memory.
pub const MAX_CONF_FILE_BYTES: u64 = 16 << 20;

/// A malformed conf file: what was wrong and where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ConfParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What the parser expected or found.
    pub message: String,
}

/// Why [`ConfFile::load`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfLoadError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The read error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CONF_FILE_BYTES`].
    #[error("{path} is larger than {MAX_CONF_FILE_BYTES} bytes")]
    TooLarge {
        /// The file.
        path: String,
    },
    /// The file is not a valid conf file.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Where and why parsing failed.
        #[source]
        source: ConfParseError,
    },
}

impl ConfLoadError {
    /// True when the file simply does not exist (the search moves on).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ConfLoadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// A parsed conf file: section name to (normalized key to value).
///
/// ```
/// use ceph_config::ConfFile;
///
/// let conf = ConfFile::parse("[global]\nmon host = 10.0.0.1 # first mon\n[client]\nkeyring = /k\n")?;
/// assert_eq!(conf.get("global", "mon_host"), Some("10.0.0.1"));
/// assert_eq!(conf.lookup(&["client.admin", "client", "global"], "keyring"), Some("/k"));
/// # Ok::<(), ceph_config::ConfParseError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConfFile {
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl ConfFile {
    /// Parses conf text.
    pub fn parse(text: &str) -> Result<Self, ConfParseError> {
        Parser::new(text).run()
    }

    /// Parses raw bytes, rejecting invalid UTF-8 with the line it is on.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, ConfParseError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::parse(text),
            Err(e) => {
                let good = &bytes[..e.valid_up_to()];
                let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
                let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                // The valid prefix is UTF-8, so counting its chars is safe.
                let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
                Err(ConfParseError {
                    line,
                    column,
                    message: "invalid UTF-8".into(),
                })
            }
        }
    }

    /// Reads and parses a file of at most [`MAX_CONF_FILE_BYTES`].
    pub fn load(path: &Path) -> Result<Self, ConfLoadError> {
        use std::io::Read;
        let shown = path.display().to_string();
        let io_err = |source| ConfLoadError::Io {
            path: shown.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io_err)?;
        let mut bytes = Vec::new();
        file.take(MAX_CONF_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err)?;
        if bytes.len() as u64 > MAX_CONF_FILE_BYTES {
            return Err(ConfLoadError::TooLarge { path: shown });
        }
        Self::parse_bytes(&bytes).map_err(|source| ConfLoadError::Parse {
            path: shown,
            source,
        })
    }

    /// The normal form of an option name: trimmed, inner blanks and dashes
    /// turned into underscores (`" mon-host "` → `"mon_host"`).
    pub fn normalize_key(key: &str) -> String {
        let mut out = String::with_capacity(key.len());
        let mut pending_blank = false;
        for c in key.trim_matches(is_space).chars() {
            if is_space(c) {
                pending_blank = true;
                continue;
            }
            if pending_blank {
                out.push('_');
                pending_blank = false;
            }
            out.push(if c == '-' { '_' } else { c });
        }
        out
    }

    /// The value of `key` (any spelling) in exactly `section`.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .get(section)?
            .get(&Self::normalize_key(key))
            .map(String::as_str)
    }

    /// The value of `key` from the first of `sections` that sets it, e.g.
    /// `["client.admin", "client", "global"]`.
    pub fn lookup(&self, sections: &[&str], key: &str) -> Option<&str> {
        let key = Self::normalize_key(key);
        sections.iter().find_map(|s| {
            self.sections
                .get(*s)
                .and_then(|lines| lines.get(&key))
                .map(String::as_str)
        })
    }

    /// Section names, sorted.
    pub fn sections(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }

    /// The `(key, value)` pairs of one section, sorted by key.
    pub fn section(&self, name: &str) -> impl Iterator<Item = (&str, &str)> {
        self.sections
            .get(name)
            .into_iter()
            .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// True when the file has no section at all.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// Sets `key` in `section`, as a later line in the file would.
    pub fn set(&mut self, section: &str, key: &str, value: &str) {
        self.sections
            .entry(section.to_string())
            .or_default()
            .insert(Self::normalize_key(key), value.to_string());
    }
}

/// Option names whose values are secrets, redacted by `Debug`.
pub(crate) const SECRET_OPTIONS: &[&str] = &["key"];

impl fmt::Debug for ConfFile {
    /// Like a derived `Debug`, but the value of a `key` option is redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sections = f.debug_map();
        for (name, lines) in &self.sections {
            let shown: BTreeMap<&str, &str> = lines
                .iter()
                .map(|(k, v)| {
                    let v = if SECRET_OPTIONS.contains(&k.as_str()) {
                        "<redacted>"
                    } else {
                        v.as_str()
                    };
                    (k.as_str(), v)
                })
                .collect();
            sections.entry(name, &shown);
        }
        sections.finish()
    }
}

impl fmt::Display for ConfFile {
    /// Writes the file back in a form [`ConfFile::parse`] reads to the same
    /// content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, lines) in &self.sections {
            writeln!(f, "[{}]", escape(name, "]"))?;
            for (k, v) in lines {
                writeln!(f, "\t{} = \"{}\"", escape(k, "=["), escape(v, "\""))?;
            }
        }
        Ok(())
    }
}

/// Backslash-escapes backslashes, comment starts and `extra`.
fn escape(s: &str, extra: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' || c == '#' || c == ';' || extra.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whitespace as C's `isspace` sees it (ASCII only).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_comment_start(c: char) -> bool {
    c == '#' || c == ';'
}

/// A hand-written scanner over the whole text, tracking line and column.
struct Parser<'a> {
    rest: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    column: usize,
    section: Option<String>,
    conf: ConfFile,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            rest: text.chars().peekable(),
            line: 1,
            column: 1,
            section: None,
            conf: ConfFile::default(),
        }
    }

    fn error(&self, message: impl Into<String>) -> ConfParseError {
        ConfParseError {
            line: self.line,
            column: self.column,
            message: message.into(),
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.rest.peek().copied()
    }

    /// Takes one character that is not a line end.
    fn bump(&mut self) -> Option<char> {
        let c = self.rest.next()?;
        self.column += 1;
        Some(c)
    }

    fn at_eol(&mut self) -> bool {
        matches!(self.peek(), Some('\n' | '\r'))
    }

    /// Consumes `\n`, `\r\n` or a lone `\r`.
    fn eat_eol(&mut self) {
        // `\r` then `\n`, either optional: covers all three endings.
        self.rest.next_if_eq(&'\r');
        self.rest.next_if_eq(&'\n');
        self.line += 1;
        self.column = 1;
    }

    fn skip_to_eol(&mut self) {
        while !self.at_eol() && self.bump().is_some() {}
    }

    /// Having just seen a backslash (not yet consumed): if it ends the line,
    /// consumes it and the line end and returns true.
    fn eat_continuation(&mut self) -> bool {
        let mut ahead = self.rest.clone();
        ahead.next();
        if matches!(ahead.peek(), Some('\n' | '\r')) {
            self.bump();
            self.eat_eol();
            true
        } else {
            false
        }
    }

    /// Skips blanks and line continuations.
    fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(c) if is_blank(c) => {
                    self.bump();
                }
                Some('\\') if self.eat_continuation() => {}
                _ => return,
            }
        }
    }

    /// After a heading or a quoted value: only blanks, a comment, then the
    /// line end (or the end of the text) may follow.
    fn expect_line_end(&mut self, after: &str) -> Result<(), ConfParseError> {
        self.skip_blanks();
        match self.peek() {
            None => Ok(()),
            Some('\n' | '\r') => {
                self.eat_eol();
                Ok(())
            }
            Some(c) if is_comment_start(c) => {
                self.skip_to_eol();
                Ok(())
            }
            Some(c) => Err(self.error(format!("unexpected {c:?} after {after}"))),
        }
    }

    fn run(mut self) -> Result<ConfFile, ConfParseError> {
        loop {
            self.skip_blanks();
            match self.peek() {
                None => return Ok(self.conf),
                Some('\n' | '\r') => self.eat_eol(),
                Some(c) if is_comment_start(c) => self.skip_to_eol(),
                Some('[') => self.heading()?,
                Some(_) => self.key_value()?,
            }
        }
    }

    fn heading(&mut self) -> Result<(), ConfParseError> {
        self.bump(); // '['
        let mut name = String::new();
        loop {
            match self.peek() {
                None | Some('\n' | '\r') => {
                    return Err(self.error("section name is missing its closing ']'"))
                }
                Some(']') => {
                    self.bump();
                    break;
                }
                Some(c) if is_comment_start(c) => {
                    return Err(self.error(format!("{c:?} inside a section name; expected ']'")))
                }
                Some('\\') => {
                    if !self.eat_continuation() {
                        self.bump();
                        match self.peek() {
                            Some(c) if c != '\n' && c != '\r' => {
                                self.bump();
                                name.push(c);
                            }
                            _ => name.push('\\'),
                        }
                    }
                }
                Some(c) => {
                    self.bump();
                    name.push(c);
                }
            }
        }
        if name.is_empty() {
            return Err(self.error("empty section name"));
        }
        self.expect_line_end("section heading")?;
        self.conf.sections.entry(name.clone()).or_default();
        self.section = Some(name);
        Ok(())
    }

    fn key_value(&mut self) -> Result<(), ConfParseError> {
        let (key_line, key_column) = (self.line, self.column);
        let mut raw_key = String::new();
        loop {
            match self.peek() {
                None | Some('\n' | '\r') => {
                    return Err(ConfParseError {
                        line: key_line,
                        column: key_column,
                        message: format!(
                            "expected 'key = value' or '[section]', found {:?}",
                            truncate(&raw_key)
                        ),
                    })
                }
                Some('=') => {
                    self.bump();
                    break;
                }
                Some('[') => return Err(self.error("'[' inside an option name")),
                Some(c) if is_comment_start(c) => {
                    return Err(self.error(format!(
                        "comment after option name {:?}; expected '='",
                        truncate(raw_key.trim())
                    )))
                }
                Some('\\') => {
                    // An escaped character stays in the key as written.
                    if !self.eat_continuation() {
                        self.bump();
                        raw_key.push('\\');
                        if let Some(c) = self.peek().filter(|&c| c != '\n' && c != '\r') {
                            self.bump();
                            raw_key.push(c);
                        }
                    }
                }
                Some(c) => {
                    self.bump();
                    raw_key.push(c);
                }
            }
        }
        let key = ConfFile::normalize_key(&raw_key);
        if key.is_empty() {
            return Err(ConfParseError {
                line: key_line,
                column: key_column,
                message: "missing option name before '='".into(),
            });
        }
        self.skip_blanks();
        let value = match self.peek() {
            Some(q @ ('"' | '\'')) => self.quoted_value(q)?,
            _ => self.unquoted_value(),
        };
        let section = self.section.clone().unwrap_or_else(|| "global".into());
        self.conf
            .sections
            .entry(section)
            .or_default()
            .insert(key, value.trim_matches(is_space).to_string());
        Ok(())
    }

    fn quoted_value(&mut self, quote: char) -> Result<String, ConfParseError> {
        let (line, column) = (self.line, self.column);
        self.bump();
        let mut value = String::new();
        loop {
            match self.peek() {
                None | Some('\n' | '\r') => {
                    return Err(ConfParseError {
                        line,
                        column,
                        message: format!("quoted value is missing its closing {quote}"),
                    })
                }
                Some('\\') => {
                    if !self.eat_continuation() {
                        self.bump();
                        match self.peek() {
                            Some(c) if c != '\n' && c != '\r' => {
                                self.bump();
                                value.push(c);
                            }
                            _ => value.push('\\'),
                        }
                    }
                }
                Some(c) => {
                    self.bump();
                    if c == quote {
                        break;
                    }
                    value.push(c);
                }
            }
        }
        self.expect_line_end("quoted value")?;
        Ok(value)
    }

    fn unquoted_value(&mut self) -> String {
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return value,
                Some('\n' | '\r') => {
                    self.eat_eol();
                    return value;
                }
                Some(c) if is_comment_start(c) => {
                    self.skip_to_eol();
                    return value;
                }
                Some('\\') => {
                    if !self.eat_continuation() {
                        self.bump();
                        match self.peek() {
                            Some(c) if c != '\n' && c != '\r' => {
                                self.bump();
                                value.push(c);
                            }
                            _ => value.push('\\'),
                        }
                    }
                }
                Some(c) => {
                    self.bump();
                    value.push(c);
                }
            }
        }
    }
}

/// Shortens text quoted in an error message.
fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}
