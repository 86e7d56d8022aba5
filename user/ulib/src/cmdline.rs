//! The shell's command-line parser.
//!
//! `sh` reads a line such as
//!
//! ```text
//! cat < in.txt | grep x | wc > out.txt ; echo done &
//! ```
//!
//! and turns it into a [`CommandLine`]: a list of [`Job`]s (separated by `;`
//! or ended by `&`), each a [`Pipeline`] of [`Command`]s (separated by `|`),
//! each command a list of words plus its redirections. The grammar:
//!
//! ```text
//! line     := job ( (';' | '&') job? )*
//! job      := pipeline
//! pipeline := command ( '|' command )*
//! command  := ( WORD | redirect )+        -- at least one WORD
//! redirect := '<' WORD | '>' WORD | '>>' WORD
//! ```
//!
//! Words are separated by blanks. Quotes group: `'a b'` is one word taken
//! literally; `"a b"` too, except that `\"` and `\\` inside it stand for `"`
//! and `\`. Outside quotes, `\` makes the next character ordinary. `#` at the
//! start of a word begins a comment that runs to the end of the line.
//!
//! Parsing is separate from running (which is in `programs/src/bin/sh.rs`)
//! so it can be unit-tested on the host, and so a syntax error is reported
//! before anything is started.

use alloc::string::String;
use alloc::vec::Vec;
use common::abi::syscall::MAX_ARGS;
use core::fmt;

/// Where a redirection sends a standard stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    /// `< path`: standard input reads the file.
    Input,
    /// `> path`: standard output truncates (or creates) the file.
    Output,
    /// `>> path`: standard output appends to (or creates) the file.
    Append,
}

impl RedirectKind {
    /// The operator as typed.
    pub fn operator(self) -> &'static str {
        match self {
            RedirectKind::Input => "<",
            RedirectKind::Output => ">",
            RedirectKind::Append => ">>",
        }
    }

    /// The file descriptor this redirection replaces (0 or 1).
    pub fn target_fd(self) -> i32 {
        match self {
            RedirectKind::Input => 0,
            RedirectKind::Output | RedirectKind::Append => 1,
        }
    }
}

/// One redirection of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub path: String,
}

/// One program to run: its arguments (`argv[0]` is the command name) and
/// redirections, applied left to right.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command {
    pub argv: Vec<String>,
    pub redirects: Vec<Redirect>,
}

/// Commands connected by pipes: each one's standard output feeds the next
/// one's standard input. Invariant: at least one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub commands: Vec<Command>,
}

/// A pipeline and whether the shell waits for it (`&` means it does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub pipeline: Pipeline,
    pub background: bool,
}

/// A whole parsed line: jobs to run one after another.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandLine {
    pub jobs: Vec<Job>,
}

/// Why a line could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// A quote was opened and never closed.
    UnterminatedQuote(char),
    /// The line ended right after a `\`.
    TrailingBackslash,
    /// A redirection operator was not followed by a file name.
    MissingRedirectTarget(RedirectKind),
    /// An operator appeared where a command was expected (`| x`, `a | | b`, `&`).
    UnexpectedOperator(&'static str),
    /// The line ended where a command was expected (`a |`).
    UnexpectedEnd,
    /// A command has redirections but no program name (`> out`).
    MissingCommand,
    /// A command has more than `MAX_ARGS` words.
    TooManyArguments,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::UnterminatedQuote(q) => write!(f, "syntax error: unterminated {q}"),
            ParseError::TrailingBackslash => write!(f, "syntax error: \\ at end of line"),
            ParseError::MissingRedirectTarget(kind) => {
                write!(
                    f,
                    "syntax error: missing file name after '{}'",
                    kind.operator()
                )
            }
            ParseError::UnexpectedOperator(op) => {
                write!(f, "syntax error near unexpected '{op}'")
            }
            ParseError::UnexpectedEnd => write!(f, "syntax error: unexpected end of line"),
            ParseError::MissingCommand => write!(f, "syntax error: redirection without a command"),
            ParseError::TooManyArguments => {
                write!(f, "too many arguments (at most {MAX_ARGS})")
            }
        }
    }
}

/// A lexical unit of the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Pipe,
    Semicolon,
    Ampersand,
    Redirect(RedirectKind),
}

impl Token {
    /// The operator as typed (for error messages); words have none.
    fn operator(&self) -> &'static str {
        match self {
            Token::Word(_) => "word",
            Token::Pipe => "|",
            Token::Semicolon => ";",
            Token::Ampersand => "&",
            Token::Redirect(kind) => kind.operator(),
        }
    }
}

/// True for the characters that separate words.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// True for the characters that are operators on their own.
fn is_operator(c: char) -> bool {
    matches!(c, '|' | ';' | '&' | '<' | '>')
}

/// Splits a line into tokens.
fn tokenize(line: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if is_blank(c) {
            chars.next();
            continue;
        }
        if c == '#' {
            break; // a comment: ignore the rest of the line
        }
        if is_operator(c) {
            chars.next();
            let token = match c {
                '|' => Token::Pipe,
                ';' => Token::Semicolon,
                '&' => Token::Ampersand,
                '<' => Token::Redirect(RedirectKind::Input),
                _ if chars.peek() == Some(&'>') => {
                    chars.next();
                    Token::Redirect(RedirectKind::Append)
                }
                _ => Token::Redirect(RedirectKind::Output),
            };
            tokens.push(token);
            continue;
        }
        // A word: ordinary characters and quoted parts, up to a blank or operator.
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if is_blank(c) || is_operator(c) {
                break;
            }
            chars.next();
            match c {
                '\\' => word.push(chars.next().ok_or(ParseError::TrailingBackslash)?),
                '\'' => loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(inner) => word.push(inner),
                        None => return Err(ParseError::UnterminatedQuote('\'')),
                    }
                },
                '"' => loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') if matches!(chars.peek(), Some('"' | '\\')) => {
                            word.push(chars.next().unwrap_or('\\'));
                        }
                        Some(inner) => word.push(inner),
                        None => return Err(ParseError::UnterminatedQuote('"')),
                    }
                },
                other => word.push(other),
            }
        }
        tokens.push(Token::Word(word));
    }
    Ok(tokens)
}

/// Builds the jobs of a line from its tokens.
struct Parser {
    jobs: Vec<Job>,
    /// Commands of the pipeline being built, before `current`.
    commands: Vec<Command>,
    /// The command being built.
    current: Command,
}

impl Parser {
    /// True if nothing has been collected for the current pipeline.
    fn pipeline_is_empty(&self) -> bool {
        self.commands.is_empty() && self.current == Command::default()
    }

    /// Ends the current command (at `|`, `;`, `&` or the end of the line).
    /// `next` is what ended it, for the error message.
    fn finish_command(&mut self, next: Option<&Token>) -> Result<(), ParseError> {
        if self.current.argv.is_empty() {
            if !self.current.redirects.is_empty() {
                return Err(ParseError::MissingCommand);
            }
            return Err(match next {
                Some(token) => ParseError::UnexpectedOperator(token.operator()),
                None => ParseError::UnexpectedEnd,
            });
        }
        self.commands.push(core::mem::take(&mut self.current));
        Ok(())
    }

    /// Ends the current pipeline as a job.
    fn finish_job(&mut self, next: Option<&Token>, background: bool) -> Result<(), ParseError> {
        self.finish_command(next)?;
        let commands = core::mem::take(&mut self.commands);
        self.jobs.push(Job {
            pipeline: Pipeline { commands },
            background,
        });
        Ok(())
    }
}

/// Parses one command line. An empty line (or only a comment) gives no jobs.
pub fn parse(line: &str) -> Result<CommandLine, ParseError> {
    let tokens = tokenize(line)?;
    let mut parser = Parser {
        jobs: Vec::new(),
        commands: Vec::new(),
        current: Command::default(),
    };
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            Token::Word(word) => {
                if parser.current.argv.len() == MAX_ARGS {
                    return Err(ParseError::TooManyArguments);
                }
                parser.current.argv.push(word);
            }
            Token::Redirect(kind) => match tokens.next() {
                Some(Token::Word(path)) => parser.current.redirects.push(Redirect { kind, path }),
                _ => return Err(ParseError::MissingRedirectTarget(kind)),
            },
            Token::Pipe => parser.finish_command(Some(&Token::Pipe))?,
            Token::Semicolon => {
                // `;` after nothing (`;;`, a leading `;`) is an error, as in sh.
                parser.finish_job(Some(&Token::Semicolon), false)?;
            }
            Token::Ampersand => parser.finish_job(Some(&Token::Ampersand), true)?,
        }
    }
    if !parser.pipeline_is_empty() {
        parser.finish_job(None, false)?;
    }
    Ok(CommandLine { jobs: parser.jobs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn words(c: &Command) -> Vec<&str> {
        c.argv.iter().map(|s| s.as_str()).collect()
    }

    #[test]
    fn empty_and_comment_lines_have_no_jobs() {
        assert_eq!(parse("").unwrap().jobs.len(), 0);
        assert_eq!(parse("   \t\n").unwrap().jobs.len(), 0);
        assert_eq!(parse("# just a comment").unwrap().jobs.len(), 0);
    }

    #[test]
    fn simple_command() {
        let line = parse("echo hello   world\n").unwrap();
        assert_eq!(line.jobs.len(), 1);
        let job = &line.jobs[0];
        assert!(!job.background);
        assert_eq!(job.pipeline.commands.len(), 1);
        assert_eq!(words(&job.pipeline.commands[0]), ["echo", "hello", "world"]);
    }

    #[test]
    fn long_pipeline_with_redirections() {
        let line = parse("cat < in | grep x|wc -l >> out").unwrap();
        let cmds = &line.jobs[0].pipeline.commands;
        assert_eq!(cmds.len(), 3);
        assert_eq!(words(&cmds[0]), ["cat"]);
        assert_eq!(
            cmds[0].redirects,
            [Redirect {
                kind: RedirectKind::Input,
                path: "in".to_string()
            }]
        );
        assert_eq!(words(&cmds[1]), ["grep", "x"]);
        assert_eq!(words(&cmds[2]), ["wc", "-l"]);
        assert_eq!(cmds[2].redirects[0].kind, RedirectKind::Append);
        assert_eq!(cmds[2].redirects[0].path, "out");
    }

    #[test]
    fn redirection_may_come_first_and_without_spaces() {
        let line = parse(">out echo hi").unwrap();
        let c = &line.jobs[0].pipeline.commands[0];
        assert_eq!(words(c), ["echo", "hi"]);
        assert_eq!(c.redirects[0].kind, RedirectKind::Output);
        assert_eq!(c.redirects[0].path, "out");
    }

    #[test]
    fn sequences_and_background() {
        let line = parse("a; b & c").unwrap();
        assert_eq!(line.jobs.len(), 3);
        assert!(!line.jobs[0].background);
        assert!(line.jobs[1].background);
        assert!(!line.jobs[2].background);
        let trailing = parse("sleep 10 &").unwrap();
        assert_eq!(trailing.jobs.len(), 1);
        assert!(trailing.jobs[0].background);
        assert_eq!(parse("ls ;").unwrap().jobs.len(), 1);
    }

    #[test]
    fn quotes_and_escapes() {
        let line = parse(r#"echo 'a | b' "c \"d\"" e\ f g"h"i"#).unwrap();
        assert_eq!(
            words(&line.jobs[0].pipeline.commands[0]),
            ["echo", "a | b", "c \"d\"", "e f", "ghi"]
        );
        assert_eq!(
            parse("echo ''").unwrap().jobs[0].pipeline.commands[0].argv[1],
            ""
        );
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(parse("| cat"), Err(ParseError::UnexpectedOperator("|")));
        assert_eq!(parse("a | | b"), Err(ParseError::UnexpectedOperator("|")));
        assert_eq!(parse("a |"), Err(ParseError::UnexpectedEnd));
        assert_eq!(parse("&"), Err(ParseError::UnexpectedOperator("&")));
        assert_eq!(parse(";"), Err(ParseError::UnexpectedOperator(";")));
        assert_eq!(parse("a ;; b"), Err(ParseError::UnexpectedOperator(";")));
        assert_eq!(parse("a | ; b"), Err(ParseError::UnexpectedOperator(";")));
        assert_eq!(
            parse("cat >"),
            Err(ParseError::MissingRedirectTarget(RedirectKind::Output))
        );
        assert_eq!(
            parse("cat < | x"),
            Err(ParseError::MissingRedirectTarget(RedirectKind::Input))
        );
        assert_eq!(parse("> out"), Err(ParseError::MissingCommand));
        assert_eq!(parse("echo 'abc"), Err(ParseError::UnterminatedQuote('\'')));
        assert_eq!(parse("echo \"abc"), Err(ParseError::UnterminatedQuote('"')));
        assert_eq!(parse("echo a\\"), Err(ParseError::TrailingBackslash));
    }

    #[test]
    fn too_many_arguments() {
        let ok = "x ".repeat(MAX_ARGS);
        assert!(parse(&ok).is_ok());
        let too_many = "x ".repeat(MAX_ARGS + 1);
        assert_eq!(parse(&too_many), Err(ParseError::TooManyArguments));
    }

    #[test]
    fn errors_have_readable_messages() {
        let msg = parse("cat >").unwrap_err().to_string();
        assert_eq!(msg, "syntax error: missing file name after '>'");
    }
}
