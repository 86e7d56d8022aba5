//! The trace suite: `make trace`'s recording and analysis, on each kernel
//! (`docs/trace.md`).
//!
//! One boot per kernel, under `-icount shift=0`:
//!
//! 1. `echo hi | cat` is traced as `make trace` traces it
//!    (`grading::trace::collect`), and the trace must show the steps of
//!    the pipe write in order ([`crate::trace::check::expected_steps`]):
//!    on the mono-kernel the `write` system call, `Pipe::write_with`, the
//!    wakeup of the reader, the reader's `read` returning the bytes; on
//!    the micro-kernel the message to the server that owns the pipe,
//!    `Pipe::write_with` inside it, the answer to the reader's parked
//!    request and the reply to the writer. The JSON and the page made from
//!    it must parse and name `Pipe::write_with`.
//! 2. The guest's own summary, `trace -s`, of the same command must count
//!    the kernel entries, switches, copies and messages the host counts
//!    (the same analysis, `common::trace::scene`). Not the instructions:
//!    this is the command's third run in the boot, and the mono-kernel's
//!    `sched::wakeup` and `pick_next` walk the process table, whose slots
//!    the earlier runs' processes have moved along.
//! 3. A command line with an unknown program is an error that says so.

use crate::failure::Failure;
use crate::session::Session;
use crate::test::Test;
use crate::trace::check;
use crate::trace::collect::{self, TraceError};
use common::trace::scene::Scene;
use common::trace::summary::{count_rows, thousands};

/// The command traced.
const COMMAND: &str = "echo hi | cat";

/// The trace suite's tests.
pub fn tests() -> Vec<Test> {
    vec![
        Test::new("trace-pipe-write", 5, pipe_write)
            .depends_on("boot")
            .icount(),
    ]
}

fn pipe_write(session: &mut Session) -> Result<(), Failure> {
    session.expect_prompt()?;
    let recording =
        collect::record_in(session, COMMAND).map_err(|error| Failure::check(error.to_string()))?;
    let scene = Scene::find(&recording.events)
        .map_err(|error| Failure::check(format!("{COMMAND}: {error}")))?;
    check::expected_steps(&scene).map_err(Failure::check)?;
    check::outputs(COMMAND, &[&scene]).map_err(Failure::check)?;
    // The guest's summary of the same command.
    let line = collect::command_line(COMMAND);
    session.run_command_with_timeout(&line, collect::COMMAND_TIMEOUT)?;
    let text = session.run_command_with_timeout("trace -s", collect::COMMAND_TIMEOUT)?;
    for (label, value) in count_rows(&scene.path)
        .into_iter()
        .filter(|(label, _)| *label != "instructions")
    {
        let expected = format!("{label:<52} {:>7}", thousands(value));
        Failure::ensure(text.contains(&expected), || {
            format!(
                "`trace -s` does not count as the host does ({expected:?}); it printed:\n{text}"
            )
        })?;
    }
    Failure::ensure(text.contains("Pipe::write_with"), || {
        format!("`trace -s` printed {text:?}")
    })?;
    // A program that does not exist: a clear error, before any dump.
    match collect::record_in(session, "no-such-program | cat") {
        Err(TraceError::CommandFailed { message, .. }) if message.contains("no-such-program") => {
            Ok(())
        }
        other => Err(Failure::check(format!(
            "tracing an unknown program should fail with the shell's complaint, got {other:?}"
        ))),
    }
}
