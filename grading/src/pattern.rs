//! What a test waits for in the serial output: literal text or a regular
//! expression.
//!
//! `session.expect("interrupts: timer ok", t)` waits for that exact text;
//! `session.expect(Pattern::regex(r"pid (\d+)"), t)` waits for a regular
//! expression and hands back its capture groups. A regular expression that does
//! not compile is not a panic: it is kept as [`Pattern::Invalid`] and the
//! `expect` that uses it fails with a clear message, so a typo in one test
//! never takes the whole grading run down.

use regex::Regex;
use std::fmt;

/// Text to look for in the serial output.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// Exactly this text, anywhere.
    Literal(String),
    /// A regular expression (syntax of the `regex` crate).
    Regex(Regex),
    /// A regular expression that failed to compile, and why.
    Invalid { source: String, error: String },
}

/// Where a pattern matched, and what it captured. Offsets are byte offsets
/// into the whole serial output of the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Start of the match.
    pub start: usize,
    /// One past the end of the match.
    pub end: usize,
    /// The matched text, then one entry per capture group (`None` for a
    /// group that did not take part in the match). A literal has no groups.
    pub groups: Vec<Option<String>>,
}

impl Found {
    /// The whole matched text.
    pub fn text(&self) -> &str {
        self.groups[0].as_deref().unwrap_or("")
    }

    /// Capture group `index` (1 is the first group), if it matched.
    pub fn group(&self, index: usize) -> Option<&str> {
        self.groups.get(index).and_then(|group| group.as_deref())
    }
}

impl Pattern {
    /// A regular expression; an invalid one becomes [`Pattern::Invalid`].
    pub fn regex(source: &str) -> Pattern {
        match Regex::new(source) {
            Ok(regex) => Pattern::Regex(regex),
            Err(error) => Pattern::Invalid {
                source: source.to_string(),
                error: error.to_string(),
            },
        }
    }

    /// Literal text.
    pub fn literal(text: &str) -> Pattern {
        Pattern::Literal(text.to_string())
    }

    /// The first match in `haystack` that starts at or after byte `from`.
    ///
    /// The text before `from` is still visible to anchors, so `(?m)^` knows
    /// whether `from` is the start of a line. Returns `None` when there is no
    /// match (an invalid pattern never matches; callers check
    /// [`Pattern::compile_error`] first).
    pub fn find_from(&self, haystack: &str, from: usize) -> Option<Found> {
        match self {
            Pattern::Literal(text) => haystack[from..].find(text.as_str()).map(|offset| Found {
                start: from + offset,
                end: from + offset + text.len(),
                groups: vec![Some(text.clone())],
            }),
            Pattern::Regex(regex) => regex.captures_at(haystack, from).map(|captures| {
                let whole = captures
                    .get(0)
                    .expect("group 0 always takes part in a match");
                Found {
                    start: whole.start(),
                    end: whole.end(),
                    groups: captures
                        .iter()
                        .map(|group| group.map(|m| m.as_str().to_string()))
                        .collect(),
                }
            }),
            Pattern::Invalid { .. } => None,
        }
    }

    /// Why this pattern cannot be used, if it is invalid.
    pub fn compile_error(&self) -> Option<String> {
        match self {
            Pattern::Invalid { source, error } => {
                Some(format!("invalid regular expression /{source}/: {error}"))
            }
            _ => None,
        }
    }
}

/// Literal text is written in double quotes, regular expressions between
/// slashes: `"interrupts: timer ok"`, `/(?m)^\$ /`.
impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Literal(text) => write!(f, "{text:?}"),
            Pattern::Regex(regex) => write!(f, "/{}/", regex.as_str()),
            Pattern::Invalid { source, .. } => write!(f, "/{source}/ (invalid)"),
        }
    }
}

impl From<&str> for Pattern {
    fn from(text: &str) -> Pattern {
        Pattern::literal(text)
    }
}

impl From<String> for Pattern {
    fn from(text: String) -> Pattern {
        Pattern::Literal(text)
    }
}

impl From<Regex> for Pattern {
    fn from(regex: Regex) -> Pattern {
        Pattern::Regex(regex)
    }
}

impl From<&Regex> for Pattern {
    fn from(regex: &Regex) -> Pattern {
        Pattern::Regex(regex.clone())
    }
}

impl From<&Pattern> for Pattern {
    fn from(pattern: &Pattern) -> Pattern {
        pattern.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_finds_text_after_the_start_offset() {
        let pattern = Pattern::from("ok");
        let found = pattern.find_from("ok, then ok", 1).unwrap();
        assert_eq!((found.start, found.end), (9, 11));
        assert_eq!(found.text(), "ok");
        assert!(pattern.find_from("ok", 1).is_none());
    }

    #[test]
    fn regex_reports_groups_and_sees_context_before_the_offset() {
        let pattern = Pattern::regex(r"pid (\d+)");
        let found = pattern.find_from("pid 7 pid 12", 3).unwrap();
        assert_eq!(found.group(1), Some("12"));
        assert_eq!(found.group(2), None);

        // `^` at the offset is only a line start if a newline precedes it.
        let prompt = Pattern::regex(r"(?m)^\$ ");
        assert!(prompt.find_from("a$ b", 1).is_none());
        assert_eq!(prompt.find_from("a\n$ b", 2).unwrap().start, 2);
    }

    #[test]
    fn invalid_regex_is_an_error_value_not_a_panic() {
        let pattern = Pattern::regex("(unclosed");
        assert!(pattern.find_from("(unclosed", 0).is_none());
        let error = pattern.compile_error().unwrap();
        assert!(error.contains("/(unclosed/"), "{error}");
    }

    #[test]
    fn display_distinguishes_literals_from_regexes() {
        assert_eq!(Pattern::from("a b").to_string(), "\"a b\"");
        assert_eq!(Pattern::regex(r"\$ ").to_string(), r"/\$ /");
    }
}
