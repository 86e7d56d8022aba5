//! The power-cut suite: QEMU is killed while `fswork` (a write-heavy
//! program) runs, at several points, and booted again on the same disk.
//! After every cut:
//!
//! - `e2fsck` replays the journal of a copy of the cut disk, and
//!   `e2fsck -fn` finds it clean (the real tool's recovery);
//! - the kernel boots, says it recovered, reaches the prompt, and a copy of
//!   the disk as it left it is clean for `e2fsck -fn` without any replay
//!   (our recovery, on its own);
//! - `fswork` goes on from where the disk says it was.
//!
//! Cuts are made right after chosen `fswork: round N` lines and a chosen
//! number of milliseconds after them (so some fall in the middle of a
//! round, some in a commit). `POWER_CUTS=N` in the environment makes N cuts
//! instead of the default (`make power-cut-long`).

use crate::failure::Failure;
use crate::pattern::Pattern;
use crate::session::Session;
use crate::test::Test;
use std::time::Duration;

/// Cuts made by default (`make test`).
const DEFAULT_CUTS: usize = 5;

/// How long one `fswork` round may take under TCG (generous: the machine
/// is shared).
const ROUND_TIMEOUT: Duration = Duration::from_secs(60);

/// The power-cut suite's tests.
pub fn tests() -> Vec<Test> {
    vec![
        Test::new("power-cut", 10, power_cuts)
            .depends_on("boot")
            .time_limit(Duration::from_secs(60 + 30 * cut_count() as u64)),
    ]
}

/// How many cuts to make: `POWER_CUTS`, or [`DEFAULT_CUTS`].
fn cut_count() -> usize {
    std::env::var("POWER_CUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CUTS)
}

/// Where cut `i` falls: after which round of this run, and how many
/// milliseconds later.
fn cut_point(i: usize) -> (usize, u64) {
    // Rounds 0..=5 in turn; delays cycle through 0..=90 ms in steps that
    // do not divide the round time, so cuts land all over a round.
    (i % 6, (i as u64 * 37) % 97)
}

fn power_cuts(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    let mut replayed = 0;
    for i in 0..cut_count() {
        let (round, delay) = cut_point(i);
        session.send_line("fswork")?;
        // This run's rounds are numbered from where the last one stopped:
        // count the lines, not the numbers.
        for _ in 0..=round {
            session.expect(Pattern::regex(r"fswork: round \d+\n"), ROUND_TIMEOUT)?;
        }
        // The one deliberate sleep of the suites: it places the cut inside
        // a round; it waits for nothing.
        std::thread::sleep(Duration::from_millis(delay));
        session.kill();
        session
            .check_disk_copy(true)
            .map_err(|failure| cut_failure(i, round, delay, "after e2fsck's replay", failure))?;
        session.power_cycle()?;
        let found = session
            .expect(
                Pattern::regex(r"fs: ext3 journal, \d+ blocks; recovered (\d+) transactions?"),
                ROUND_TIMEOUT,
            )
            .map_err(|failure| cut_failure(i, round, delay, "at boot", failure))?;
        if found.group(1).is_some_and(|count| count != "0") {
            replayed += 1;
        }
        session.expect_prompt()?;
        session
            .check_disk_copy(false)
            .map_err(|failure| cut_failure(i, round, delay, "after our recovery", failure))?;
    }
    // Cuts after a round that synced must find a committed transaction:
    // otherwise this test never exercised recovery.
    Failure::ensure(replayed > 0 || cut_count() < 5, || {
        "no cut left a committed transaction for the kernel to replay".to_string()
    })?;
    // The file system still works: one more full run, then a sync.
    let output = session.run_command_with_timeout("fswork 4", ROUND_TIMEOUT * 4)?;
    Failure::ensure(output.contains("fswork: synced"), || {
        format!("fswork after the cuts printed {output:?}")
    })?;
    session.kill();
    session.check_disk()
}

/// Says which cut a failure belongs to.
fn cut_failure(i: usize, round: usize, delay: u64, when: &str, failure: Failure) -> Failure {
    Failure::check(format!(
        "cut {i} (after round {round} + {delay} ms), {when}: {failure}"
    ))
}
