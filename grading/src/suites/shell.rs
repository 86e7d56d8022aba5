//! The shell suite: an interactive session at the `$ ` prompt, the same on
//! both kernels — pipelines, redirection, the file-system commands, and the
//! error messages a student sees when something is wrong. After the session
//! `e2fsck -fn` must find the disk clean.
//!
//! Each check types one command line and compares what the shell printed
//! before its next prompt with what a UNIX shell would print.

use crate::failure::Failure;
use crate::pattern::Pattern;
use crate::session::Session;
use crate::test::Test;

/// The shell suite's tests.
pub fn tests() -> Vec<Test> {
    vec![
        Test::new("shell-pipes", 10, pipelines).depends_on("boot"),
        Test::new("shell-redirection", 10, redirection).depends_on("boot"),
        Test::new("shell-files", 10, file_commands).depends_on("boot"),
        Test::new("shell-errors", 5, error_messages).depends_on("boot"),
    ]
}

/// Runs `command` and checks its whole output equals `expected`.
fn check_output(session: &mut Session, command: &str, expected: &str) -> Result<(), Failure> {
    let output = session.run_command(command)?;
    Failure::ensure(output == expected, || {
        format!("`{command}` printed {output:?}, expected {expected:?}")
    })
}

/// Runs `command` and checks its output matches the regular expression.
fn check_matches(session: &mut Session, command: &str, regex: &str) -> Result<(), Failure> {
    let output = session.run_command(command)?;
    let pattern =
        regex::Regex::new(regex).map_err(|e| Failure::check(format!("bad regex {regex}: {e}")))?;
    Failure::ensure(pattern.is_match(&output), || {
        format!("`{command}` printed {output:?}, which does not match /{regex}/")
    })
}

fn start(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()
}

fn pipelines(session: &mut Session) -> Result<(), Failure> {
    start(session)?;
    check_output(session, "echo hello | cat", "hello\n")?;
    check_output(session, "echo one two three | wc", "1 3 14\n")?;
    check_matches(session, "ls /bin | grep cat | wc", r"^1 \d+ \d+\n$")?;
    check_output(session, "echo a | cat | cat | cat | cat | cat", "a\n")?;
    check_matches(
        session,
        "cat /README | grep Diptych | wc",
        r"^[1-9]\d* \d+ \d+\n$",
    )?;
    session.kill();
    session.check_disk()
}

fn redirection(session: &mut Session) -> Result<(), Failure> {
    start(session)?;
    check_output(session, "echo abc > t-redir", "")?;
    check_output(session, "cat < t-redir", "abc\n")?;
    check_output(session, "echo def >> t-redir", "")?;
    check_output(session, "cat t-redir", "abc\ndef\n")?;
    check_output(session, "wc < t-redir", "2 2 8\n")?;
    check_output(session, "echo x > t-redir", "")?;
    check_output(session, "cat t-redir", "x\n")?;
    check_output(session, "echo one; echo two", "one\ntwo\n")?;
    check_output(session, "rm t-redir", "")?;
    session.kill();
    session.check_disk()
}

fn file_commands(session: &mut Session) -> Result<(), Failure> {
    start(session)?;
    check_output(session, "mkdir t-dir", "")?;
    check_output(session, "cd t-dir; echo hi > f; ln f g; cat g", "hi\n")?;
    check_output(session, "mv g h; cat h", "hi\n")?;
    check_matches(session, "ls", r"(?m)^f\s+.*\n(?s:.*)^h\s")?;
    check_output(session, "rm f; rm h; cd ..", "")?;
    check_output(session, "rm t-dir", "")?;
    check_matches(session, "ls t-dir", r"t-dir: no such file or directory")?;
    session.kill();
    session.check_disk()
}

fn error_messages(session: &mut Session) -> Result<(), Failure> {
    start(session)?;
    check_output(
        session,
        "no-such-program",
        "sh: no-such-program: command not found\n",
    )?;
    check_matches(
        session,
        "cat /no/such/file",
        r"^cat: /no/such/file: no such file or directory\n$",
    )?;
    check_matches(session, "echo x > /no-dir/f", r"no such file or directory")?;
    check_matches(session, "cat <", r"sh: .*")?;
    // The shell is still alive and well afterwards.
    check_output(session, "echo still here", "still here\n")?;
    session.expect_not(Pattern::literal("usertrap"))
}
