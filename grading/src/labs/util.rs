//! Lab `util`'s tests: the user programs `pingpong`, `primes`, `find` and
//! `xargs` (`labs/util/handout.md`), run at the shell of each kernel and
//! their output compared with what the handout asks for.

use crate::failure::Failure;
use crate::session::Session;
use crate::test::Test;

/// The lab's tests (points per kernel).
pub fn tests() -> Vec<Test> {
    vec![
        Test::new("pingpong", 5, pingpong),
        Test::new("primes", 5, primes),
        Test::new("find", 5, find),
        Test::new("xargs", 5, xargs),
    ]
}

/// `pingpong`: the child prints `PID: received ping`, then the parent
/// `PID: received pong`, with their own (different) pids.
fn pingpong(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    let output = session.run_command("pingpong")?;
    let lines: Vec<&str> = output.lines().collect();
    let parse = |line: &str, what: &str| -> Option<u64> {
        line.strip_suffix(&format!(": received {what}"))?
            .parse()
            .ok()
    };
    let (Some(child), Some(parent)) = (
        lines.first().and_then(|line| parse(line, "ping")),
        lines.get(1).and_then(|line| parse(line, "pong")),
    ) else {
        return Err(Failure::check(format!(
            "`pingpong` printed {output:?}, expected \"PID: received ping\\nPID: received pong\\n\""
        )));
    };
    Failure::ensure(lines.len() == 2 && child != parent, || {
        format!("`pingpong` printed {output:?}: two lines, from two processes, expected")
    })?;
    session.kill();
    session.check_disk()
}

/// `primes`: `prime 2` to `prime 31`, one a line, in order.
fn primes(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    let output = session.run_command("primes")?;
    let expected: String = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31]
        .iter()
        .map(|prime| format!("prime {prime}\n"))
        .collect();
    Failure::ensure(output == expected, || {
        format!("`primes` printed {output:?}, expected {expected:?}")
    })?;
    session.expect_not("KERNEL PANIC")?;
    session.kill();
    session.check_disk()
}

/// Makes `a/f`, `a/b/f`, `a/b/g` and `f` (which `find a f` must not list).
fn make_files(session: &mut Session) -> Result<(), Failure> {
    for command in [
        "mkdir a",
        "mkdir a/b",
        "echo hello > a/f",
        "echo nothing > a/b/f",
        "echo g > a/b/g",
        "echo top > f",
    ] {
        let output = session.run_command(command)?;
        Failure::ensure(output.is_empty(), || {
            format!("`{command}` printed {output:?}")
        })?;
    }
    Ok(())
}

/// `find DIR NAME`: every path under DIR whose last part is NAME.
fn find(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    make_files(session)?;
    let output = session.run_command("find a f")?;
    let mut found: Vec<&str> = output.lines().collect();
    found.sort_unstable();
    Failure::ensure(found == ["a/b/f", "a/f"], || {
        format!("`find a f` printed {output:?}, expected the lines a/f and a/b/f (in any order)")
    })?;
    let output = session.run_command("find a nonesuch")?;
    Failure::ensure(output.is_empty(), || {
        format!("`find a nonesuch` printed {output:?}, expected nothing")
    })?;
    let output = session.run_command("find a/b g")?;
    Failure::ensure(output == "a/b/g\n", || {
        format!("`find a/b g` printed {output:?}, expected \"a/b/g\\n\"")
    })?;
    session.kill();
    session.check_disk()
}

/// `xargs COMMAND ARGS...`: runs the command once for each line of its
/// input, with the line's words after ARGS.
fn xargs(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    let output = session.run_command("echo hello too | xargs echo bye")?;
    Failure::ensure(output == "bye hello too\n", || {
        format!(
            "`echo hello too | xargs echo bye` printed {output:?}, expected \"bye hello too\\n\""
        )
    })?;
    make_files(session)?;
    let output = session.run_command("find a f | xargs grep hello")?;
    Failure::ensure(output == "hello\n", || {
        format!(
            "`find a f | xargs grep hello` printed {output:?}, expected \"hello\\n\" \
             (grep runs once per line: grep hello a/f, grep hello a/b/f)"
        )
    })?;
    let output = session.run_command("find a f | xargs echo file")?;
    let mut lines: Vec<&str> = output.lines().collect();
    lines.sort_unstable();
    Failure::ensure(lines == ["file a/b/f", "file a/f"], || {
        format!("`find a f | xargs echo file` printed {output:?}, expected one line per file")
    })?;
    session.kill();
    session.check_disk()
}
