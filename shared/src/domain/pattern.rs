//! Which files are stock: a name that is a valid file name, matches the stock
//! pattern (a glob, `*.session` by default) and is not a journal sidecar.
//! Anything else dropped beside the stock (a README, an editor's backup) is
//! never adopted, counted or sold.

use std::fmt;

use super::{FileName, ParseError};

/// What a session's journal is called beside it: SQLite's rollback journal,
/// `{name}-journal` (so `a.session` has `a.session-journal`).
pub const SIDECAR_SUFFIX: &str = "-journal";

/// The key (or name) of the sidecar journal of `key`.
pub fn sidecar_of(key: &str) -> String {
    format!("{key}{SIDECAR_SUFFIX}")
}

/// The stock pattern: `*` matches any run of characters, `?` any one;
/// everything else matches itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockPattern(String);

pub const DEFAULT_STOCK_PATTERN: &str = "*.session";

impl Default for StockPattern {
    fn default() -> Self {
        StockPattern(DEFAULT_STOCK_PATTERN.to_string())
    }
}

/// A name listed in storage, judged against the pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Judged {
    Stock(FileName),
    /// The journal of the session file `of` (which may or may not exist).
    Sidecar {
        of: String,
    },
    /// Not stock, and why.
    Junk(String),
}

impl StockPattern {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 200
            && !s.starts_with('.')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+' | b'@' | b'*' | b'?'));
        if !ok {
            return Err(ParseError::new(
                "stock pattern",
                format!(
                    "'{s}' is not a file name glob (letters, digits, . - _ + @ and the wildcards * ?; no leading dot, no '/')"
                ),
            ));
        }
        if s.ends_with(SIDECAR_SUFFIX) {
            return Err(ParseError::new(
                "stock pattern",
                format!("'{s}' names journal sidecars ({SIDECAR_SUFFIX}), which are never stock"),
            ));
        }
        Ok(StockPattern(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, name: &str) -> bool {
        glob(self.0.as_bytes(), name.as_bytes())
    }

    /// Whether `name` is a stock file, a sidecar, or junk.
    pub fn judge(&self, name: &str) -> Judged {
        if let Some(of) = name.strip_suffix(SIDECAR_SUFFIX)
            && self.matches(of)
            && FileName::parse(of).is_ok()
        {
            return Judged::Sidecar { of: of.to_string() };
        }
        match FileName::parse(name) {
            Err(e) => Judged::Junk(e.reason),
            Ok(_) if name.ends_with(SIDECAR_SUFFIX) => {
                Judged::Junk(format!("'{name}' is a journal with no stock file name before '{SIDECAR_SUFFIX}'"))
            }
            Ok(n) if self.matches(name) => Judged::Stock(n),
            Ok(_) => Judged::Junk(format!("'{name}' does not match the stock pattern '{}'", self.0)),
        }
    }

    /// The stock file name in `name`, if it is one.
    pub fn stock(&self, name: &str) -> Option<FileName> {
        match self.judge(name) {
            Judged::Stock(n) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for StockPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Glob match with `*` and `?`, no backtracking blow-up: the last `*` seen
/// is the only one ever retried.
fn glob(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p, i));
                p += 1;
            }
            Some(&c) if c == b'?' || c == s[i] => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_star_and_question_mark() {
        let cases = [
            ("*.session", "acct-1.session", true),
            ("*.session", ".session", true),
            ("*.session", "a.session-journal", false),
            ("*.session", "README.txt", false),
            ("*.session", "a.sessions", false),
            ("acct-???.session", "acct-001.session", true),
            ("acct-???.session", "acct-1.session", false),
            ("*", "anything", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYcZ", false),
            ("exact.txt", "exact.txt", true),
        ];
        for (pat, name, want) in cases {
            assert_eq!(glob(pat.as_bytes(), name.as_bytes()), want, "{pat} ~ {name}");
        }
    }

    #[test]
    fn judges_stock_sidecars_and_junk() {
        let p = StockPattern::default();
        assert!(matches!(p.judge("a.session"), Judged::Stock(_)));
        assert_eq!(p.judge("a.session-journal"), Judged::Sidecar { of: "a.session".into() });
        for junk in ["README.txt", "x.txt-journal", "-journal", "a b.session", ".hidden.session"] {
            assert!(matches!(p.judge(junk), Judged::Junk(_)), "{junk}");
        }
        let any = StockPattern::parse("*").unwrap();
        assert!(matches!(any.judge("a.session-journal"), Judged::Sidecar { .. }), "a journal is never stock");
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        for bad in ["", "a/*.session", ".x*", "*.session-journal", "a b"] {
            let e = StockPattern::parse(bad).unwrap_err();
            assert_eq!(e.field, "stock pattern", "{bad}");
        }
        assert_eq!(StockPattern::parse(" *.json ").unwrap().as_str(), "*.json");
    }
}
