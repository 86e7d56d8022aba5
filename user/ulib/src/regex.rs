//! grep's regular expressions: the small subset xv6's grep understands.
//!
//! | pattern | matches                                        |
//! |---------|------------------------------------------------|
//! | `c`     | the character `c` itself                       |
//! | `.`     | any single character                           |
//! | `x*`    | zero or more of `x` (a character or `.`)      |
//! | `^`     | the start of the line (only first in the pattern) |
//! | `$`     | the end of the line (only last in the pattern) |
//!
//! The matcher is the classic backtracking one from Kernighan and Pike's
//! *The Practice of Programming*: try the pattern at each starting position;
//! at a position, match one element and recurse on the rest. It works on
//! bytes, not characters. The recursion depth is bounded by the pattern's
//! length, so a long line cannot overflow the stack.

/// True if `pattern` matches anywhere in `text` (a line without its newline).
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    if let Some(anchored) = pattern.strip_prefix(b"^") {
        return match_here(anchored, text);
    }
    // Try every starting position, including the empty tail (so that `$`
    // and `x*` can match at the end of the line).
    (0..=text.len()).any(|start| match_here(pattern, &text[start..]))
}

/// True if `pattern` matches at the beginning of `text`.
fn match_here(pattern: &[u8], text: &[u8]) -> bool {
    match pattern {
        [] => true,
        [element, b'*', rest @ ..] => match_star(*element, rest, text),
        [b'$'] => text.is_empty(),
        [element, rest @ ..] => match text.split_first() {
            Some((first, tail)) if element_matches(*element, *first) => match_here(rest, tail),
            _ => false,
        },
    }
}

/// True if `element*` followed by `rest` matches at the beginning of `text`.
/// Tries the shortest run of `element` first.
fn match_star(element: u8, rest: &[u8], text: &[u8]) -> bool {
    let mut remaining = text;
    loop {
        if match_here(rest, remaining) {
            return true;
        }
        match remaining.split_first() {
            Some((first, tail)) if element_matches(element, *first) => remaining = tail,
            _ => return false,
        }
    }
}

/// True if one pattern element (a literal byte or `.`) matches `byte`.
fn element_matches(element: u8, byte: u8) -> bool {
    element == b'.' || element == byte
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn m(p: &str, t: &str) -> bool {
        matches(p.as_bytes(), t.as_bytes())
    }

    #[test]
    fn literals_match_anywhere() {
        assert!(m("hello", "say hello world"));
        assert!(!m("hello", "say help"));
        assert!(m("", "anything"));
        assert!(m("", ""));
    }

    #[test]
    fn anchors() {
        assert!(m("^say", "say hello"));
        assert!(!m("^hello", "say hello"));
        assert!(m("world$", "hello world"));
        assert!(!m("hello$", "hello world"));
        assert!(m("^$", ""));
        assert!(!m("^$", "x"));
        assert!(m("^abc$", "abc"));
        assert!(!m("^abc$", "abcd"));
    }

    #[test]
    fn dot_and_star() {
        assert!(m("h.llo", "hallo"));
        assert!(!m("h.llo", "hllo"));
        assert!(m("ab*c", "ac"));
        assert!(m("ab*c", "abbbbc"));
        assert!(!m("ab*c", "adc"));
        assert!(m("^a.*z$", "abcz"));
        assert!(!m("^a.*z$", "abcza"));
        assert!(m("x*", ""));
        assert!(m("^.*$", "any line at all"));
    }

    #[test]
    fn dollar_in_the_middle_is_literal() {
        assert!(m("a$b", "xa$b"));
        assert!(!m("a$b", "ab"));
    }

    #[test]
    fn long_lines_do_not_recurse_deeply() {
        let line = "a".repeat(10_000);
        assert!(m("a*b*$", &line));
        assert!(!m("^a*b$", &line));
    }
}
