//! The usertests suite: the user-space test program `usertests`, modelled
//! on xv6's, run on both kernels. It prints one line per test (`test NAME:
//! OK` or `test NAME: FAILED (why)`), then its leak check, then `ALL TESTS
//! PASSED` or `SOME TESTS FAILED`.
//!
//! The suite runs every usertest in one boot and scores each on its own
//! (one point per test and kernel; the names come from the usertests'
//! source, `crate::usertest_names`), so a failure costs that test's point,
//! not the whole run's. [`run_one`] runs one usertest alone (`usertests
//! NAME`): the labs' usertests and `grade --usertest NAME`.

use crate::failure::Failure;
use crate::pattern::Pattern;
use crate::session::Session;
use crate::test::Test;
use std::time::Duration;

/// How long the whole usertests run may take under TCG.
const USERTESTS_TIMEOUT: Duration = Duration::from_secs(240);

/// How long one usertest run alone may take to print its verdict.
const ONE_USERTEST_TIMEOUT: Duration = Duration::from_secs(100);

/// What ends a run of `usertests`: its verdict, or its complaint about a
/// name it does not know.
const VERDICT: &str = r"ALL TESTS PASSED|SOME TESTS FAILED|\(no test named '[^']*'\)";

/// The usertests suite's tests.
pub fn tests() -> Vec<Test> {
    vec![
        Test::all_usertests("usertests", 1)
            .depends_on("boot")
            .time_limit(Duration::from_secs(300)),
    ]
}

/// The `test NAME: ...` lines of `output`: each name with `Ok` or the
/// failure line.
pub fn verdicts(output: &str) -> Vec<(String, Result<(), String>)> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.trim_end().strip_prefix("test ")?;
            let (name, verdict) = rest.split_once(": ")?;
            if name.contains(char::is_whitespace) {
                return None;
            }
            let result = if verdict == "OK" {
                Ok(())
            } else if verdict.starts_with("FAILED") {
                Err(line.trim_end().to_string())
            } else {
                return None;
            };
            Some((name.to_string(), result))
        })
        .collect()
}

/// Types `usertests` and collects every test's verdict into `lines`
/// (filled even if the run fails half-way); then checks the disk.
pub fn run_all(
    session: &mut Session,
    lines: &mut Vec<(String, Result<(), String>)>,
) -> Result<(), Failure> {
    session.expect_prompt()?;
    let start = session.serial_log().len();
    session.send_line("usertests")?;
    let verdict = session.expect(Pattern::regex(VERDICT), USERTESTS_TIMEOUT);
    *lines = verdicts(session.serial_log().get(start..).unwrap_or(""));
    verdict?;
    session.expect_prompt()?;
    session.kill();
    session.check_disk()
}

/// Types `usertests NAME`: passes if the test printed `OK` and the run
/// ended `ALL TESTS PASSED` (no memory leaked).
pub fn run_one(session: &mut Session, name: &str) -> Result<(), Failure> {
    session.expect_prompt()?;
    let start = session.serial_log().len();
    session.send_line(&format!("usertests {name}"))?;
    let verdict = session.expect(Pattern::regex(VERDICT), ONE_USERTEST_TIMEOUT)?;
    let text = verdict.text().to_string();
    let output = session.serial_log().get(start..).unwrap_or("").to_string();
    if text.starts_with("(no test named") {
        return Err(Failure::check(format!(
            "the usertests program has no test named {name} \
             (is it listed in GROUPS in user/programs/src/usertests/mod.rs? \
             A lab's hidden test is not in its starter tree: the staff run it \
             with `make grade-batch`, which puts the course's tests back)"
        )));
    }
    let lines = verdicts(&output);
    match lines.iter().find(|(line_name, _)| line_name == name) {
        Some((_, Ok(()))) => {}
        Some((_, Err(line))) => return Err(Failure::check(line.clone())),
        None => {
            return Err(Failure::check(format!(
                "usertests printed no `test {name}:` line"
            )));
        }
    }
    if text != "ALL TESTS PASSED" {
        let failed: Vec<&str> = lines
            .iter()
            .filter_map(|(_, result)| result.as_ref().err().map(String::as_str))
            .collect();
        return Err(Failure::check(format!(
            "{name} passed, but: {}",
            failed.join("; ")
        )));
    }
    session.expect_prompt()?;
    // Everything the test did reaches the disk before it is judged: without
    // this, damage still in memory (an unlinked file whose inode the kernel
    // never released) is lost with the kill and the check sees nothing.
    session.run_command("sync")?;
    session.kill();
    session.check_disk().map_err(|failure| match failure {
        Failure::Check(damage) => Failure::check(format!(
            "{name} passed, but left the disk damaged (after `sync`; a file it \
             removed still allocated means the kernel never released it): {damage}"
        )),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_lines_are_read() {
        let output = "usertests starting\ntest a: OK\r\ntest b_c: FAILED (why: it broke)\n\
                      hello test x: OK\ntest leak_check: OK\n2 of 3 tests failed: SOME TESTS FAILED\n";
        let lines = verdicts(output);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], ("a".to_string(), Ok(())));
        assert_eq!(
            lines[1],
            (
                "b_c".to_string(),
                Err("test b_c: FAILED (why: it broke)".to_string())
            )
        );
        assert_eq!(lines[2].0, "leak_check");
    }
}
