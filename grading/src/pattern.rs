//! What a test waits for in the serial output: literal text or a regular
//! expression.
//!
//! `session.expect("interrupts: timer ok", t)` waits for that exact text;
//! `session.expect(Pattern::regex(r"pid (\d+)"), t)` waits for a regular
//! expression and hands back its capture groups. A regular expression that does
//! not compile is not a panic: it is kept as [`Pattern::Invalid`] and the
//! `expect` that uses it fails with a clear message, so a typo in one test
//! never takes the whole grading run down.
//!
//! Output arrives a few bytes at a time, and a test may wait for a pattern at
//! the end of a megabyte of output. Searching everything again after every
//! few bytes would take time quadratic in the output, so
//! [`Pattern::find_new`] searches only where a new match can be: a match that
//! cannot contain a newline, and was not there before, lies within the last
//! (incomplete) line; a literal match lies at most its length minus one
//! before the new text. Only a regex that can match a newline is searched
//! from the start each time.

use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind};
use std::fmt;

/// Text to look for in the serial output.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// Exactly this text, anywhere.
    Literal(String),
    /// A regular expression (syntax of the `regex` crate).
    Regex {
        /// The compiled expression.
        regex: Regex,
        /// Whether a match can contain a newline (then it may span lines).
        spans_lines: bool,
    },
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
        self.groups
            .first()
            .and_then(|whole| whole.as_deref())
            .unwrap_or("")
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
            Ok(regex) => Pattern::from(regex),
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
        // An offset past the end, or inside a character, finds nothing.
        if !haystack.is_char_boundary(from) {
            return None;
        }
        match self {
            Pattern::Literal(text) => haystack[from..].find(text.as_str()).map(|offset| Found {
                start: from + offset,
                end: from + offset + text.len(),
                groups: vec![Some(text.clone())],
            }),
            Pattern::Regex { regex, .. } => regex.captures_at(haystack, from).map(|captures| {
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

    /// Like [`Pattern::find_from`], for a haystack that has grown: the
    /// caller promises that an earlier search from `from` over
    /// `haystack[..searched_to]` found nothing, so only places where a new
    /// match can be are searched (see the module documentation).
    pub fn find_new(&self, haystack: &str, from: usize, searched_to: usize) -> Option<Found> {
        if !haystack.is_char_boundary(from) {
            return None;
        }
        let mut searched_to = searched_to.clamp(from, haystack.len());
        while !haystack.is_char_boundary(searched_to) {
            searched_to -= 1;
        }
        let restart = match self {
            Pattern::Literal(text) => searched_to.saturating_sub(text.len().saturating_sub(1)),
            Pattern::Regex {
                spans_lines: false, ..
            } => haystack[..searched_to]
                .rfind('\n')
                .map_or(0, |newline| newline + 1),
            Pattern::Regex {
                spans_lines: true, ..
            }
            | Pattern::Invalid { .. } => from,
        };
        let mut restart = restart.max(from);
        while !haystack.is_char_boundary(restart) {
            restart -= 1;
        }
        self.find_from(haystack, restart)
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
            Pattern::Regex { regex, .. } => write!(f, "/{}/", regex.as_str()),
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
        let spans_lines = can_match_newline(regex.as_str());
        Pattern::Regex { regex, spans_lines }
    }
}

impl From<&Regex> for Pattern {
    fn from(regex: &Regex) -> Pattern {
        Pattern::from(regex.clone())
    }
}

/// Whether a match of the regular expression `source` can contain `\n`.
/// Answers `true` when unsure (that only costs search time).
fn can_match_newline(source: &str) -> bool {
    match regex_syntax::Parser::new().parse(source) {
        Ok(hir) => hir_can_match_newline(&hir),
        Err(_) => true,
    }
}

/// Walks the parsed expression looking for anything that consumes a `\n`.
/// Look-arounds (`^`, `$`, `\b`) consume nothing.
fn hir_can_match_newline(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(literal) => literal.0.contains(&b'\n'),
        HirKind::Class(Class::Unicode(class)) => class
            .ranges()
            .iter()
            .any(|range| range.start() <= '\n' && '\n' <= range.end()),
        HirKind::Class(Class::Bytes(class)) => class
            .ranges()
            .iter()
            .any(|range| range.start() <= b'\n' && b'\n' <= range.end()),
        HirKind::Repetition(repetition) => hir_can_match_newline(&repetition.sub),
        HirKind::Capture(capture) => hir_can_match_newline(&capture.sub),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            parts.iter().any(hir_can_match_newline)
        }
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
    fn knows_which_regexes_can_span_lines() {
        for single_line in [
            r"pid (\d+)",
            r"(?m)^\$ ",
            r"CR2=(0x[0-9a-f]+)",
            r"a.b",
            r"\bok\b$",
        ] {
            assert!(!can_match_newline(single_line), "{single_line}");
        }
        for multi_line in [r"a\nb", r"a\sb", r"(?s)a.b", r"[^x]", r"a\W", r"(x|\n)+"] {
            assert!(can_match_newline(multi_line), "{multi_line}");
        }
    }

    #[test]
    fn find_new_finds_what_a_full_search_finds() {
        // The haystack grows one byte at a time; after each step, the
        // incremental search must agree with a search from the start.
        let output = "boot\npid 1 ok\n$ echo hé\nhé\n$ a\nb ok\n";
        let patterns = [
            Pattern::from("ok\n$ "),
            Pattern::from("hé\n$"),
            Pattern::regex(r"pid (\d+) ok"),
            Pattern::regex(r"(?m)^\$ a"),
            Pattern::regex(r"a\nb"),
            Pattern::regex(r"é\s+h"),
        ];
        for pattern in &patterns {
            let mut searched_to = 0;
            for end in (1..=output.len()).filter(|&end| output.is_char_boundary(end)) {
                let haystack = &output[..end];
                let incremental = pattern.find_new(haystack, 0, searched_to);
                assert_eq!(
                    incremental,
                    pattern.find_from(haystack, 0),
                    "{pattern} at {end}"
                );
                if incremental.is_some() {
                    break;
                }
                searched_to = end;
            }
        }
    }

    #[test]
    fn offsets_out_of_range_find_nothing() {
        for pattern in [
            Pattern::from("é"),
            Pattern::regex("é"),
            Pattern::regex(r"(?s)é."),
        ] {
            assert_eq!(pattern.find_from("é", 1), None, "{pattern}");
            assert_eq!(pattern.find_from("é", 9), None, "{pattern}");
            assert_eq!(pattern.find_new("é", 9, 0), None, "{pattern}");
        }
        // `searched_to` inside a character: the search backs up to it.
        for pattern in [
            Pattern::from("é"),
            Pattern::regex("é"),
            Pattern::regex(r"(?s)é"),
        ] {
            let found = pattern.find_new("xé", 0, 2);
            assert_eq!(found.map(|found| found.start), Some(1), "{pattern}");
        }
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
