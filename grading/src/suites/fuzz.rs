//! The fuzz suite: the system-call fuzzer (`user/programs/src/bin/fuzz.rs`)
//! on both kernels, and the message fuzzer (`msgfuzz`) on the micro-kernel.
//!
//! `make test` runs a short fixed-seed run of each; `make fuzz SEED=... N=...`
//! runs this suite alone with the seed and call count from the environment
//! (`FUZZ_SEED`, `FUZZ_CALLS`), with a time limit that grows with the count.
//!
//! A run passes when the fuzzer says `fuzz: OK` (it checks its own calls'
//! answers and that free memory and the number of processes that can be made
//! are back where they started — numbers this test reads from its summary
//! line and compares again), nothing crashed (no kernel panic or exception,
//! no server crash, no thread killed by the micro-kernel, no program killed
//! by a fault), the shell still runs a pipeline, and `e2fsck -fn` finds the
//! disk clean.

use crate::failure::Failure;
use crate::pattern::Pattern;
use crate::qemu::Kernel;
use crate::session::Session;
use crate::test::Test;
use std::time::Duration;

/// The seed of the quick run in `make test`.
pub const QUICK_SEED: u64 = 0x5eed;
/// The calls of the quick run in `make test` (a few seconds per kernel).
pub const QUICK_CALLS: u64 = 1200;
/// The messages of the quick message-fuzzer run.
pub const QUICK_MESSAGES: u64 = 3000;

/// Lines that mean something crashed: the micro-kernel's root reporting a
/// server (which it restarts: the fuzzer might not notice), the kernel
/// reporting a thread it killed, a program killed by a fault (the fuzzers
/// never fault on purpose).
const CRASH_LINES: [&str; 3] = [
    r"root: server failure:",
    r"micro: thread \S+ killed",
    "usertrap:",
];

/// The seed and count of this run: `FUZZ_SEED` and `FUZZ_CALLS` if set
/// (decimal or `0x` hexadecimal), else the quick run's.
fn parameters(quick_count: u64) -> (u64, u64) {
    let number = |name: &str| {
        let text = std::env::var(name).ok()?;
        let text = text.trim();
        match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse().ok(),
        }
    };
    (
        number("FUZZ_SEED").unwrap_or(QUICK_SEED),
        number("FUZZ_CALLS").unwrap_or(quick_count),
    )
}

/// Time for `count` calls or messages: a generous rate under a loaded TCG.
fn time_for(count: u64) -> Duration {
    Duration::from_secs(60 + count / 50)
}

/// The fuzz suite's tests.
pub fn tests() -> Vec<Test> {
    let (_, calls) = parameters(QUICK_CALLS);
    let (_, messages) = parameters(QUICK_MESSAGES);
    vec![
        Test::new("syscall-fuzz", 10, syscall_fuzz)
            .depends_on("boot")
            .time_limit(time_for(calls) + Duration::from_secs(60)),
        Test::new("message-fuzz", 10, message_fuzz)
            .only_on(Kernel::Micro)
            .depends_on("boot")
            .time_limit(time_for(messages) + Duration::from_secs(60)),
    ]
}

/// Runs `command` at the prompt and checks its output with `verdict`, then
/// what every fuzz run must leave behind: no crash, a working shell, a
/// clean disk.
fn run_fuzzer(
    session: &mut Session,
    command: &str,
    count: u64,
    verdict: fn(&str) -> Result<(), Failure>,
) -> Result<(), Failure> {
    session.expect_prompt()?;
    let output = session.run_command_with_timeout(command, time_for(count))?;
    for line in CRASH_LINES {
        session.expect_not(Pattern::regex(line))?;
    }
    verdict(&output).map_err(|failure| {
        let report: Vec<&str> = output
            .lines()
            .filter(|line| !line.ends_with("batches done"))
            .collect();
        Failure::check(format!("`{command}`: {failure}\n{}", report.join("\n")))
    })?;
    // The system is still usable.
    let echoed = session.run_command("echo still here | cat")?;
    Failure::ensure(echoed == "still here\n", || {
        format!("after the fuzzer, `echo still here | cat` printed {echoed:?}")
    })?;
    let listed = session.run_command("ls / | grep bin")?;
    Failure::ensure(listed.starts_with("bin"), || {
        format!("after the fuzzer, `ls / | grep bin` printed {listed:?}")
    })?;
    session.kill();
    session.check_disk()
}

fn syscall_fuzz(session: &mut Session) -> Result<(), Failure> {
    let (seed, calls) = parameters(QUICK_CALLS);
    let command = format!("fuzz {seed:#x} {calls}");
    run_fuzzer(session, &command, calls, syscall_verdict)
}

/// The system-call fuzzer's verdict, and its leak figures compared again.
fn syscall_verdict(output: &str) -> Result<(), Failure> {
    Failure::ensure(output.lines().any(|line| line == "fuzz: OK"), || {
        "it did not end with `fuzz: OK`".to_string()
    })?;
    let summary = Pattern::regex(r"free pages (\d+) -> (\d+), free process slots (\d+) -> (\d+)");
    let found = summary
        .find_from(output, 0)
        .ok_or_else(|| Failure::check("it printed no summary line".to_string()))?;
    let figure = |i| found.group(i).unwrap_or("?");
    Failure::ensure(figure(1) == figure(2) && figure(3) == figure(4), || {
        format!("it leaked: {}", found.text())
    })
}

fn message_fuzz(session: &mut Session) -> Result<(), Failure> {
    let (seed, messages) = parameters(QUICK_MESSAGES);
    let command = format!("msgfuzz {seed:#x} {messages}");
    run_fuzzer(session, &command, messages, |output| {
        Failure::ensure(output.lines().any(|line| line == "msgfuzz: OK"), || {
            "it did not end with `msgfuzz: OK`".to_string()
        })
    })
}
