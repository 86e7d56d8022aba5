//! The usertests suite: the user-space test program `usertests`, modelled
//! on xv6's, run on both kernels. It prints one line per test and
//! `ALL TESTS PASSED` only if every test passed and no memory leaked.

use crate::failure::Failure;
use crate::pattern::Pattern;
use crate::session::Session;
use crate::test::Test;
use std::time::Duration;

/// How long the whole usertests run may take under TCG.
const USERTESTS_TIMEOUT: Duration = Duration::from_secs(240);

/// The usertests suite's tests.
pub fn tests() -> Vec<Test> {
    vec![
        Test::new("usertests", 40, run_usertests)
            .depends_on("boot")
            .time_limit(Duration::from_secs(300)),
    ]
}

fn run_usertests(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    session.send_line("usertests")?;
    let verdict = session.expect(
        Pattern::regex(r"ALL TESTS PASSED|SOME TESTS FAILED"),
        USERTESTS_TIMEOUT,
    )?;
    if verdict.text() != "ALL TESTS PASSED" {
        let log = session.serial_log();
        let failed: Vec<&str> = log.lines().filter(|line| line.contains("FAILED")).collect();
        return Err(Failure::check(format!(
            "usertests failed:\n{}",
            failed.join("\n")
        )));
    }
    session.expect_prompt()?;
    session.kill();
    session.check_disk()
}
