//! The fault-isolation suite: faults injected on purpose
//! (`docs/fault-isolation.md`), and what each kernel does with them.
//!
//! - `inject-off`: booted without `inject`, `crash fs` is refused
//!   (`EPERM`, explained) on both kernels, and nothing crashes.
//! - `injected-fault`: booted with `inject`, `crash fs` arms the file
//!   system's checkpoint in the shared code, and `ls /` runs into it. The
//!   mono-kernel stops with its page-fault report (the load from `0x18`)
//!   and the failure exit; on the micro-kernel root reports the fs
//!   server's crash and restarts it, and `ls /` prints the directory. The
//!   micro-kernel then survives the disk server's bad pointer, a console
//!   crash, the watchdog's infinite loop in the disk server and an invalid
//!   instruction in fs, each followed by a command that works, and the
//!   disk is clean for `e2fsck -fn` at the end.
//! - `vfs-crash-stops` (micro): vfs cannot be restarted (it holds every
//!   open file); root says so and stops the system with the failure exit,
//!   and the disk is consistent after the journal's replay.
//! - `fault-campaign` (micro): `faultwork SEED N`, N random faults in the
//!   disk, fs and console servers while the workload runs; every one must
//!   be survived with the data intact, and the disk clean afterwards.
//!   `make inject N=... [SEED=...]` runs this test alone with the count
//!   and seed from the environment (`INJECT_FAULTS`, `INJECT_SEED`).
//!
//! Every test that injects expects crashes: the runner's fatal banners
//! (which include root's `root: server failure:`) do not fail it, and the
//! test itself checks which crash happened.

use crate::failure::Failure;
use crate::pattern::Pattern;
use crate::patterns::{
    BACKTRACE_HEADING, BOOT_TIMEOUT, FAULT_RIP_REGEX, GUEST_EXIT_FAILURE, PAGE_FAULT_REPORT,
};
use crate::qemu::{ExitStatus, Kernel};
use crate::session::Session;
use crate::test::Test;
use std::time::Duration;

/// The kernel command line that allows fault injection
/// (`common::abi::inject::COMMAND_LINE_FLAG`).
pub const INJECT_CMDLINE: &str = "inject";

/// The campaign's seed in `make test`.
pub const QUICK_SEED: u64 = 0xfa17;

/// The campaign's faults in `make test` (about 10 s under TCG).
pub const QUICK_FAULTS: u64 = 12;

/// How long one step (a command after a fault, a restart) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The fault-isolation suite's tests.
pub fn tests() -> Vec<Test> {
    vec![
        Test::new("inject-off", 1, injection_is_off_by_default).depends_on("boot"),
        Test::new("injected-fault", 4, injected_fault)
            .depends_on("boot")
            .kernel_cmdline(INJECT_CMDLINE)
            .expects_crash(),
        Test::new("vfs-crash-stops", 1, vfs_crash_stops)
            .only_on(Kernel::Micro)
            .depends_on("boot")
            .kernel_cmdline(INJECT_CMDLINE)
            .expects_crash(),
        Test::new("fault-campaign", 4, fault_campaign)
            .only_on(Kernel::Micro)
            .depends_on("boot")
            .kernel_cmdline(INJECT_CMDLINE)
            .expects_crash()
            .time_limit(campaign_time_limit()),
    ]
}

/// The campaign's seed and number of faults: `INJECT_SEED` and
/// `INJECT_FAULTS` if set (decimal or `0x` hexadecimal), else the quick
/// run's.
fn campaign_parameters() -> (u64, u64) {
    let number = |name: &str| {
        let text = std::env::var(name).ok()?;
        let text = text.trim();
        match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse().ok(),
        }
    };
    (
        number("INJECT_SEED").unwrap_or(QUICK_SEED),
        number("INJECT_FAULTS").unwrap_or(QUICK_FAULTS),
    )
}

/// Time for the campaign: about a second a fault under a loaded TCG, and
/// the boot.
fn campaign_time_limit() -> Duration {
    Duration::from_secs(90 + 2 * campaign_parameters().1)
}

/// Without `inject` on the command line, `crash` is refused and explained.
fn injection_is_off_by_default(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    let output = session.run_command("crash fs")?;
    Failure::ensure(output.contains("fault injection is off"), || {
        format!("crash fs without inject printed {output:?}")
    })?;
    let listing = session.run_command("ls /")?;
    Failure::ensure(listing.contains("README"), || {
        format!("ls / after the refused crash printed {listing:?}")
    })
}

/// Runs `crash ARGS; COMMAND` (one line: the fault may fire as soon as
/// `crash` ends — its own exit is a request to vfs, fs and the console —
/// or in `COMMAND`), and checks that `crash` armed it.
fn inject_then(session: &mut Session, crash_args: &str, command: &str) -> Result<(), Failure> {
    session.send_line(&format!("crash {crash_args}; {command}"))?;
    let armed = session.expect(Pattern::regex(r"crash: [^\n]*\n"), STEP_TIMEOUT)?;
    Failure::ensure(!armed.text().contains("fault injection is off"), || {
        format!(
            "the kernel was booted with inject, but crash said {:?}",
            armed.text()
        )
    })
}

/// Expects root's report of `server`'s failure (`what`: `crashed (#PF page
/// fault at 0x18`, `is stuck`), then the restart.
fn expect_restart(session: &mut Session, server: &str, what: &str) -> Result<(), Failure> {
    let report = format!("root: server failure: the {server} server {what}");
    session.expect(report.as_str(), STEP_TIMEOUT)?;
    session.expect("; restarting it", STEP_TIMEOUT)?;
    Ok(())
}

/// The same injected fault on both kernels, and more on the micro-kernel.
fn injected_fault(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    inject_then(session, "fs", "ls /")?;
    if session.machine().kernel == Kernel::Mono {
        // The shared file-system code faults inside the kernel: the end.
        session.expect(PAGE_FAULT_REPORT, STEP_TIMEOUT)?;
        session.expect("CR2=0x0000000000000018", STEP_TIMEOUT)?;
        session.expect(Pattern::regex(FAULT_RIP_REGEX), STEP_TIMEOUT)?;
        session.expect(BACKTRACE_HEADING, STEP_TIMEOUT)?;
        return session.expect_exit(ExitStatus::GuestExit(GUEST_EXIT_FAILURE), BOOT_TIMEOUT);
    }
    // The same code faults in the fs server, which root restarts; the
    // request that met the fault is answered by the new copy.
    expect_restart(session, "fs", "crashed (#PF page fault at 0x18 ")?;
    session.expect("README", STEP_TIMEOUT)?;
    session.expect_prompt()?;
    // The disk driver's checkpoint: a read that is not in the cache.
    inject_then(session, "disk", "cat /bin/wc > /dev/null; echo disk ok")?;
    expect_restart(session, "disk", "crashed (#PF page fault at 0x18 ")?;
    session.expect("disk ok", STEP_TIMEOUT)?;
    session.expect_prompt()?;
    // The console's output code: its next write is the shell's prompt
    // (which comes, from the new copy).
    inject_then(session, "console", "true")?;
    expect_restart(session, "console", "crashed (#PF page fault at 0x18 ")?;
    session.expect_prompt()?;
    let output = session.run_command("echo console ok")?;
    Failure::ensure(output.contains("console ok"), || {
        format!("echo after the console's restart printed {output:?}")
    })?;
    // A loop that never waits: the watchdog's case.
    inject_then(
        session,
        "-f loop disk",
        "cat /bin/grep > /dev/null; echo loop ok",
    )?;
    expect_restart(session, "disk", "is stuck")?;
    session.expect("loop ok", STEP_TIMEOUT)?;
    session.expect_prompt()?;
    // An exception that is not a page fault, in fs, with files to keep.
    session.run_command("echo kept > /kept")?;
    inject_then(session, "-f opcode fs", "cat /kept")?;
    expect_restart(session, "fs", "crashed (#UD invalid opcode")?;
    session.expect("kept", STEP_TIMEOUT)?;
    session.expect_prompt()?;
    session.run_command("sync")?;
    session.kill();
    session.check_disk()
}

/// vfs is not restarted: root stops the system, cleanly.
fn vfs_crash_stops(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    session.run_command("echo before > /before; sync")?;
    inject_then(session, "vfs", "ls /")?;
    session.expect(
        "root: server failure: the vfs server crashed (#PF page fault at 0x18 ",
        STEP_TIMEOUT,
    )?;
    session.expect(": stopping the system", STEP_TIMEOUT)?;
    session.expect_exit(ExitStatus::GuestExit(GUEST_EXIT_FAILURE), STEP_TIMEOUT)?;
    session.check_disk_copy(true)
}

/// The campaign: every fault survived, the data intact, the disk clean.
fn fault_campaign(session: &mut Session) -> Result<(), Failure> {
    let (seed, faults) = campaign_parameters();
    session.expect_prompt()?;
    let output = session.run_command_with_timeout(&format!("faultwork {seed:#x} {faults}"), {
        campaign_time_limit()
    })?;
    let summary = format!("{faults} survived with the data intact");
    let found = output
        .lines()
        .find(|line| line.starts_with(&format!("faultwork: {faults} faults (")));
    println!(
        "fault-campaign: seed {seed:#x}: {}",
        found.unwrap_or("no summary")
    );
    Failure::ensure(found.is_some_and(|line| line.ends_with(&summary)), || {
        let last: Vec<&str> = output.lines().rev().take(6).collect();
        format!(
            "faultwork {seed:#x} {faults} did not survive every fault; its last lines: {:?}",
            last.into_iter().rev().collect::<Vec<_>>()
        )
    })?;
    let listing = session.run_command("ls /")?;
    Failure::ensure(listing.contains("README"), || {
        format!("ls / after the campaign printed {listing:?}")
    })?;
    session.kill();
    session.check_disk()
}
