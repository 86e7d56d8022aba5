//! Recording a trace: boot a kernel under `-icount shift=0`, run one shell
//! command line with tracing on, and read the events back over the serial
//! console (`trace dump`, one `@trace` line each).
//!
//! The command runs on one shell line, `sleep 1; trace on; CMD; trace off`
//! ([`command_line`]), so that the shell does not wait for typing in the
//! middle of the trace, and the line runs twice: the first run fills the
//! caches (no disk interrupt in the second) and finds out whether the
//! command runs at all; the second is the trace. `sleep 1` puts the timer
//! in step, and [`rebase`] counts time from the trace's first event, so the
//! trace is the same, to the instruction, on every run (`docs/trace.md`,
//! "Is it deterministic?"). What the command printed is kept, so a command
//! that could not run (`sh: nosuch: command not found`) is reported as
//! such instead of as an empty trace.

use crate::failure::Failure;
use crate::qemu::{Kernel, Machine};
use crate::session::Session;
use common::trace::{Event, LINE_PREFIX};
use std::time::Duration;

/// How long `trace dump` may take (a few thousand lines over the serial
/// console; the micro-kernel prints them through its console server).
pub const DUMP_TIMEOUT: Duration = Duration::from_secs(120);

/// How long the traced command may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The events the kernel's ring holds (`CAPACITY` in both kernels'
/// `trace.rs`): a trace this long may have lost its end.
pub const RING_CAPACITY: usize = 16 * 1024;

/// One recorded trace.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The kernel it was recorded on.
    pub kernel: Kernel,
    /// The command line that ran under tracing.
    pub command: String,
    /// What the command printed (between its command line and the next prompt).
    pub output: String,
    /// The events, in the order the kernel recorded them, their times
    /// counted from the earliest ([`rebase`]).
    pub events: Vec<Event>,
}

/// Why a trace could not be recorded or used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceError {
    /// The command line is empty: nothing to trace.
    NothingToTrace,
    /// The shell could not run a program of the command line.
    CommandFailed {
        /// The command line.
        command: String,
        /// The shell's complaint.
        message: String,
    },
    /// The trace holds no write to a pipe, so there is nothing to follow.
    NoPipeWrite {
        /// The kernel.
        kernel: Kernel,
        /// The command line.
        command: String,
        /// How many events the trace held.
        events: usize,
    },
    /// A write to a pipe was found, but not the steps around it.
    Incomplete {
        /// The kernel.
        kernel: Kernel,
        /// What is missing.
        missing: String,
    },
    /// The machine would not boot, or a wait timed out.
    Machine(String),
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceError::NothingToTrace => write!(
                f,
                "nothing to trace: give a command line, e.g. CMD='echo hi | cat'"
            ),
            TraceError::CommandFailed { command, message } => {
                write!(f, "`{command}` did not run: {message}")
            }
            TraceError::NoPipeWrite {
                kernel,
                command,
                events,
            } => write!(
                f,
                "the {kernel}-kernel's trace of `{command}` ({events} events) has no write to a \
                 pipe (no Pipe::write_with); trace a pipeline, e.g. CMD='echo hi | cat' or \
                 CMD='ls | wc'"
            ),
            TraceError::Incomplete { kernel, missing } => {
                write!(f, "the {kernel}-kernel's trace is incomplete: {missing}")
            }
            TraceError::Machine(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for TraceError {}

impl From<Failure> for TraceError {
    fn from(failure: Failure) -> TraceError {
        TraceError::Machine(failure.to_string())
    }
}

/// The lines a shell prints when a program of the command line cannot run.
const SHELL_COMPLAINTS: [&str; 3] = ["command not found", "sh: ", "cannot run"];

/// Checks a command line before anything boots: it must say something.
pub fn check_command(command: &str) -> Result<(), TraceError> {
    let trimmed = command.trim();
    if trimmed.is_empty() || trimmed.split(';').all(|part| part.trim().is_empty()) {
        return Err(TraceError::NothingToTrace);
    }
    Ok(())
}

/// The shell line that traces `command`. `sleep 1` first: it returns
/// right after a timer tick, so the timer's next tick comes at the same
/// instruction in every run, and the trace is the same to the instruction
/// (without it, the time the shell waited for its line would decide where
/// the next tick falls).
pub fn command_line(command: &str) -> String {
    format!("sleep 1; trace on; {command}; trace off")
}

/// Runs `command` under tracing in a booted `session` (at a prompt, which
/// it consumes) and reads the trace back. Leaves the session at the next
/// prompt, so a test can go on.
pub fn record_in(session: &mut Session, command: &str) -> Result<Recording, TraceError> {
    check_command(command)?;
    let kernel = session.machine().kernel;
    let line = command_line(command);
    // Once to fill the caches (and find out whether it runs at all), once
    // to trace.
    let mut output = String::new();
    for _ in 0..2 {
        output = session.run_command_with_timeout(&line, COMMAND_TIMEOUT)?;
        if let Some(complaint) = output
            .lines()
            .find(|line| SHELL_COMPLAINTS.iter().any(|c| line.contains(c)))
        {
            return Err(TraceError::CommandFailed {
                command: command.to_string(),
                message: complaint.to_string(),
            });
        }
    }
    let dump = session.run_command_with_timeout("trace dump", DUMP_TIMEOUT)?;
    let mut events = parse_dump(&dump);
    rebase(&mut events);
    Ok(Recording {
        kernel,
        command: command.to_string(),
        output,
        events,
    })
}

/// Boots `machine` (with `-icount shift=0`), records `command`, and stops
/// the machine.
pub fn record(machine: &Machine, command: &str) -> Result<Recording, TraceError> {
    check_command(command)?;
    let mut machine = machine.clone();
    machine.icount = true;
    let mut session = Session::boot(&machine)?;
    session.expect_prompt()?;
    let recording = record_in(&mut session, command);
    session.kill();
    recording
}

/// Counts time from the trace's earliest event: the time stamp counts
/// from boot, and how long the machine idled before the command line
/// arrived differs from run to run, while everything after it does not.
pub fn rebase(events: &mut [Event]) {
    let start = events.iter().map(|event| event.time).min().unwrap_or(0);
    for event in events {
        event.time -= start;
    }
}

/// The events of a dump: every line that starts with `@trace ` and parses;
/// other lines (prompts, a program's output) are skipped.
pub fn parse_dump(text: &str) -> Vec<Event> {
    text.lines()
        .filter(|line| line.starts_with(LINE_PREFIX))
        .filter_map(|line| Event::parse_line(line).ok())
        .collect()
}
