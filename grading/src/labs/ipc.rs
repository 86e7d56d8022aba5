//! Lab `ipc`'s tests (`labs/ipc/handout.md`), on the micro-kernel alone:
//! the kernel's test root task (booted with `roottest`, see
//! [`crate::suites::micro_kernel`]) must still pass every check with the
//! student's fast path, a usertest exercises the whole system over IPC,
//! and the IPC round trips the task measures must cost fewer guest
//! instructions than the slow path's.

use crate::failure::Failure;
use crate::pattern::Pattern;
use crate::qemu::Kernel;
use crate::session::Session;
use crate::suites::micro_kernel::{self, ROOT_TEST_CMDLINE};
use crate::test::Test;
use std::time::Duration;

/// The most guest instructions one round trip between two address spaces
/// (`call` + `reply-and-receive`) may cost: between the slow path's
/// figure (1,696) and the fast path's (485; `labs/ipc/key.md`).
pub const ROUNDTRIP_SPACES_LIMIT: u64 = 1_000;
/// The same between two threads of one space (slow path 1,694, fast path
/// 483).
pub const ROUNDTRIP_THREADS_LIMIT: u64 = 1_000;

/// How long the test root task may take to reach its figures (all its
/// checks, the slowest of which sleep for a few ticks).
const ROOT_TASK_TIMEOUT: Duration = Duration::from_secs(240);

/// The lab's tests (points on the micro-kernel).
pub fn tests() -> Vec<Test> {
    vec![
        Test::new("ipc-root-task-checks", 10, micro_kernel::run_test_root_task)
            .only_on(Kernel::Micro)
            .kernel_cmdline(ROOT_TEST_CMDLINE)
            .icount(),
        Test::usertest("ipc-system-pipes", 5, "pipe_many_writers").only_on(Kernel::Micro),
        Test::usertest("ipc-system-files", 5, "bigfile").only_on(Kernel::Micro),
        Test::new("ipc-roundtrip-spaces", 15, roundtrip_spaces)
            .only_on(Kernel::Micro)
            .kernel_cmdline(ROOT_TEST_CMDLINE)
            .icount(),
        Test::new("ipc-roundtrip-threads", 5, roundtrip_threads)
            .only_on(Kernel::Micro)
            .kernel_cmdline(ROOT_TEST_CMDLINE)
            .icount()
            .hidden(),
    ]
}

fn roundtrip_spaces(session: &mut Session) -> Result<(), Failure> {
    roundtrip(session, "ipc-roundtrip-spaces", ROUNDTRIP_SPACES_LIMIT)
}

fn roundtrip_threads(session: &mut Session) -> Result<(), Failure> {
    roundtrip(session, "ipc-roundtrip-threads", ROUNDTRIP_THREADS_LIMIT)
}

/// Waits for the test root task's summary (every check passed: speed
/// counts only if the fast path is right), then for its figure `name`,
/// which must be below `limit`.
fn roundtrip(session: &mut Session, name: &str, limit: u64) -> Result<(), Failure> {
    // Speed counts only once every check passes.
    micro_kernel::expect_every_check_passed(session, ROOT_TASK_TIMEOUT)?;
    let instructions = figure(session, name)?;
    println!("ipc/micro: {name} = {instructions} guest instructions (the limit is {limit})");
    Failure::ensure(instructions < limit, || {
        format!(
            "an IPC round trip ({name}) costs {instructions} guest instructions, not below \
             {limit}: does the fast path apply to a call and a reply-and-receive?"
        )
    })
}

/// The test root task's next figure `name` (`bench NAME: N ticks`).
fn figure(session: &mut Session, name: &str) -> Result<u64, Failure> {
    let found = session.expect(
        // The whole line: a pattern that ends at the digits can match
        // while the line is still arriving ("4" of "490 ticks").
        Pattern::regex(&format!(r"bench {name}: (\d+ ticks|FAILED[^\n]*)\n")),
        ROOT_TASK_TIMEOUT,
    )?;
    let figure = found.group(1).unwrap_or("");
    figure
        .trim_end_matches(" ticks")
        .parse::<u64>()
        .map_err(|_| Failure::check(format!("bench {name}: {figure}")))
}
