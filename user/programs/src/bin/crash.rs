//! `crash [-f FAULT] [-a N] [-p P] COMPONENT`, `crash -m RUNS`: faults on
//! purpose, the same program on both kernels (`docs/fault-isolation.md`).
//!
//! `crash fs` (or `disk`, `console`) arms the shared code's checkpoint of
//! that component (`common::inject`): the next time the file system, the
//! disk driver or the console's output code runs, it loads through a bad
//! pointer. On the mono-kernel that is a page fault in the kernel, which
//! stops with its fault report; on the micro-kernel the same code runs in
//! a server, which faults, and root starts a new copy of it — the shell
//! keeps working. (`crash vfs`, `crash proc`: those servers fault at their
//! next request, and root stops the system, micro-kernel only.)
//!
//! `-f` picks another fault, carried out by a micro-kernel server when it
//! receives its `-a`-th request from now on (default 1): `pointer` (a load
//! from `-p`, default 0x18), `stack` (bit `-p` of the stack pointer
//! flipped, default 40), `code` (bit `-p` of the instruction pointer,
//! default 40), `write` (a store into its own code), `opcode` (`ud2`),
//! `loop` (a loop that never waits: root's watchdog ends it).
//!
//! `-m RUNS` measures the restart of the fs server (micro-kernel): RUNS
//! times, arm the fs server's checkpoint, then time one file-system
//! request (`stat /`) — the request meets the fault, and its answer comes
//! from the new copy. Prints, like `bench`,
//!
//! ```text
//!   (9 runs of 1 ops: 51234567 to 60123456 ticks/op)
//! bench restart-fs: 55012345 ticks/op
//! ```
//!
//! the median, in time-stamp-counter ticks (guest instructions under QEMU's
//! `-icount`, which `make bench` uses).
//!
//! Injection works only on a kernel booted with `inject` on its command
//! line (`make qemu-micro QEMUEXTRA='-append inject'`); otherwise the
//! kernel refuses (`EPERM`) and `crash` says so.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use ulib::{Args, BAD_POINTER, Component, Errno, Fault, Injection, eprintln, println};

/// The fault a name on the command line names.
fn fault_named(name: &str) -> Option<Fault> {
    Some(match name {
        "shared" => Fault::SharedBadPointer,
        "pointer" => Fault::BadPointer,
        "stack" => Fault::StackBitFlip,
        "code" => Fault::CodeBitFlip,
        "write" => Fault::WildWrite,
        "opcode" => Fault::InvalidOpcode,
        "loop" => Fault::InfiniteLoop,
        _ => return None,
    })
}

/// The default parameter of a fault.
fn default_parameter(fault: Fault) -> u64 {
    match fault {
        Fault::BadPointer | Fault::SharedBadPointer => BAD_POINTER,
        Fault::StackBitFlip | Fault::CodeBitFlip => 40,
        _ => 0,
    }
}

/// A number given in decimal or as `0x...`.
fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Explains an error of the `inject` call.
fn explain(errno: Errno) -> &'static str {
    match errno {
        Errno::EPERM => {
            "fault injection is off: boot the kernel with `inject` on its command line \
             (make qemu-micro QEMUEXTRA='-append inject', or qemu-mono)"
        }
        Errno::EINVAL => "this kernel has no such fault (the mono-kernel has only `shared`)",
        Errno::ESRCH => "that server is not running",
        _ => errno.message(),
    }
}

fn usage() -> i32 {
    eprintln!(
        "usage: crash [-f shared|pointer|stack|code|write|opcode|loop] [-a N] [-p P] \
         console|disk|fs|vfs|proc\n       crash -m RUNS"
    );
    2
}

fn main(args: Args) -> i32 {
    let mut fault = Fault::SharedBadPointer;
    let mut after = 1;
    let mut parameter = None;
    let mut measure = None;
    let mut component = None;
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        let value = |words: &mut dyn Iterator<Item = &str>| words.next().and_then(number);
        match word {
            "-f" => match words.next().and_then(fault_named) {
                Some(named) => fault = named,
                None => return usage(),
            },
            "-a" => match value(&mut words) {
                Some(count) => after = count,
                None => return usage(),
            },
            "-p" => match value(&mut words) {
                Some(given) => parameter = Some(given),
                None => return usage(),
            },
            "-m" => match value(&mut words) {
                Some(runs) if runs > 0 => measure = Some(runs),
                _ => return usage(),
            },
            name => match Component::from_name(name) {
                Some(named) => component = Some(named),
                None => return usage(),
            },
        }
    }
    if let Some(runs) = measure {
        return measure_restarts(runs);
    }
    let Some(component) = component else {
        return usage();
    };
    let injection = Injection {
        component,
        fault,
        after,
        parameter: parameter.unwrap_or(default_parameter(fault)),
    };
    if let Err(errno) = ulib::restarts() {
        eprintln!("crash: {}", explain(errno));
        return 1;
    }
    // Said first: a console fault fires at the next console write.
    let when = if fault == Fault::SharedBadPointer {
        alloc::string::String::from("its next use of the shared code")
    } else {
        alloc::format!("request {after} from now")
    };
    println!("crash: {}: {} at {when}", component.name(), fault.name());
    match ulib::inject(injection) {
        Ok(_) => 0,
        Err(errno) => {
            eprintln!("crash: {}", explain(errno));
            1
        }
    }
}

/// Ticks between two restarts of `-m` (root's crash-loop rule).
const SETTLE_TICKS: u64 = 6;

/// A failed measurement, in `bench`'s words (the grader waits for the
/// figure's line).
fn measure_failed(what: &str, errno: Errno) -> i32 {
    println!("bench restart-fs: FAILED: {what}: {}", explain(errno));
    1
}

/// `-m RUNS`: the fs server's restart, timed from the client.
fn measure_restarts(runs: u64) -> i32 {
    let injection = Injection {
        component: Component::Fs,
        fault: Fault::SharedBadPointer,
        after: 1,
        parameter: BAD_POINTER,
    };
    let mut ticks = Vec::new();
    for run in 0..runs {
        // Root counts a crash right after a start (5 ticks) as a crash
        // loop, and three in a row keep the server down: a measurement
        // must not look like one.
        if run > 0
            && let Err(errno) = ulib::sleep(SETTLE_TICKS)
        {
            return measure_failed("sleep", errno);
        }
        let before = match ulib::restarts() {
            Ok(count) => count,
            Err(errno) => return measure_failed("inject", errno),
        };
        if let Err(errno) = ulib::inject(injection) {
            return measure_failed("inject", errno);
        }
        let start = ulib::rdtsc();
        let answered = ulib::stat("/");
        let took = ulib::rdtsc() - start;
        if let Err(errno) = answered {
            return measure_failed("stat / after the fault", errno);
        }
        if ulib::restarts() != Ok(before + 1) {
            println!(
                "bench restart-fs: FAILED: the fs server was not restarted (is this the \
                 micro-kernel?)"
            );
            return 1;
        }
        ticks.push(took);
    }
    ticks.sort_unstable();
    let median = ticks[ticks.len() / 2];
    println!(
        "  ({} runs of 1 ops: {} to {} ticks/op)\nbench restart-fs: {median} ticks/op",
        ticks.len(),
        ticks[0],
        ticks[ticks.len() - 1]
    );
    0
}

ulib::entry!(main);
