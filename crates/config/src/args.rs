//! `CEPH_ARGS`: extra command-line arguments taken from the environment.
//!
//! Ceph itself splits the variable on single spaces only. Here it is split
//! like a POSIX shell would split an unexpanded word list, so quoting works:
//! `CEPH_ARGS='--id admin --keyring "/path with spaces/k"'`.

/// `CEPH_ARGS` could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// A quote was opened at this byte offset and never closed.
    #[error("unterminated {quote} quote starting at offset {offset}")]
    UnterminatedQuote {
        /// The quote character.
        quote: char,
        /// Byte offset of the opening quote.
        offset: usize,
    },
}

/// Splits `text` into arguments: blanks separate words; `'...'` keeps its
/// content literally; `"..."` keeps its content with `\"`, `\\`, `\$` and
/// `` \` `` unescaped; outside quotes a backslash takes the next character
/// literally. Adjacent pieces join (`--name=client."a b"` is one word).
///
/// ```
/// use ceph_config::split_args;
/// assert_eq!(
///     split_args(r#"--id admin -k "/etc/my keys/k" --x=a' 'b"#).unwrap(),
///     ["--id", "admin", "-k", "/etc/my keys/k", "--x=a b"]
/// );
/// ```
pub fn split_args(text: &str) -> Result<Vec<String>, ArgsError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word exists once anything (even an empty quoted string) started it.
    let mut in_word = false;
    let mut chars = text.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, c)) => word.push(c),
                        None => {
                            return Err(ArgsError::UnterminatedQuote {
                                quote: '\'',
                                offset,
                            })
                        }
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.peek() {
                            Some(&(_, e @ ('"' | '\\' | '$' | '`'))) => {
                                chars.next();
                                word.push(e);
                            }
                            // Backslash-newline is a line continuation.
                            Some(&(_, '\n')) => {
                                chars.next();
                            }
                            _ => word.push('\\'),
                        },
                        Some((_, c)) => word.push(c),
                        None => return Err(ArgsError::UnterminatedQuote { quote: '"', offset }),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some((_, '\n')) => {}
                    Some((_, e)) => word.push(e),
                    // A trailing backslash stands for itself.
                    None => word.push('\\'),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Reads and splits `CEPH_ARGS` from the process environment; an unset or
/// non-UTF-8 variable gives no arguments.
pub fn ceph_args_from_env() -> Result<Vec<String>, ArgsError> {
    match std::env::var("CEPH_ARGS") {
        Ok(v) => split_args(&v),
        Err(_) => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_and_blank_runs() {
        assert_eq!(
            split_args("  --id\tadmin \n -m 1.2.3.4  ").unwrap(),
            ["--id", "admin", "-m", "1.2.3.4"]
        );
        assert!(split_args("").unwrap().is_empty());
        assert!(split_args(" \t ").unwrap().is_empty());
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(split_args("'a b' \"c d\"").unwrap(), ["a b", "c d"]);
        assert_eq!(split_args("''").unwrap(), [""]);
        assert_eq!(split_args(r#""" x"#).unwrap(), ["", "x"]);
        assert_eq!(
            split_args(r#"'it\s' "q\"q" a\ b"#).unwrap(),
            [r"it\s", "q\"q", "a b"]
        );
        assert_eq!(split_args(r#""\n\\""#).unwrap(), [r"\n\"]);
        assert_eq!(split_args("a'b'\"c\"d").unwrap(), ["abcd"]);
        assert_eq!(split_args("x\\").unwrap(), ["x\\"]);
        assert_eq!(split_args("a\\\nb").unwrap(), ["ab"]);
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert_eq!(
            split_args("--id 'adm").unwrap_err(),
            ArgsError::UnterminatedQuote {
                quote: '\'',
                offset: 5
            }
        );
        assert_eq!(
            split_args("\"abc\\\"").unwrap_err(),
            ArgsError::UnterminatedQuote {
                quote: '"',
                offset: 0
            }
        );
    }

    #[test]
    fn hostile_input_is_handled() {
        let long = "a".repeat(1 << 20);
        assert_eq!(split_args(&long).unwrap(), std::slice::from_ref(&long));
        let many = "x ".repeat(10_000);
        assert_eq!(split_args(&many).unwrap().len(), 10_000);
        assert_eq!(split_args("\0 \u{7f}").unwrap(), ["\0", "\u{7f}"]);
    }
}
