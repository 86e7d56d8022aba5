//! What a trace of `echo hi | cat` must show, checked by the grader's
//! `trace` suite on each kernel and by the host tests on the samples.
//!
//! | kernel | in order |
//! |---|---|
//! | mono | the writer's `write` system call → `Pipe::write_with` → the wakeup of the reader → the reader's `read` returns the bytes |
//! | micro | the writer's message to the server that owns the pipe → `Pipe::write_with` inside that server → the server answers the reader's parked request and replies to the writer → the reader runs |
//!
//! and the outputs made from it parse: the Chrome JSON is valid and holds
//! the `Pipe::write_with` step, the page has every lane and names
//! `Pipe::write_with`.

use super::{chrome, html};
use common::abi::proto::{reply::ReplyKind, vfs::VfsOp};
use common::abi::syscall::Sys;
use common::trace::code::shared_op;
use common::trace::scene::{PartKind, Scene};
use common::trace::timeline::System;
use common::trace::{Event, Kind, Place, Shared};

/// Finds, from `from` on, the first event of `events` that `test` accepts,
/// or says which step is missing.
fn next(
    events: &[Event],
    from: usize,
    step: &str,
    test: impl Fn(&Event) -> bool,
) -> Result<usize, String> {
    events[from.min(events.len())..]
        .iter()
        .position(test)
        .map(|offset| from + offset)
        .ok_or_else(|| format!("the trace does not show, in order: {step}"))
}

/// Checks that `scene` shows the expected steps, in order.
pub fn expected_steps(scene: &Scene) -> Result<(), String> {
    if !scene.waited {
        return Err(format!(
            "{} was not waiting when {} wrote ({})",
            scene.cast.reader.name, scene.cast.writer.name, scene.choice
        ));
    }
    let write = scene.part(PartKind::Write).ok_or("no write")?;
    let complete = scene
        .part(PartKind::ReadCompletes)
        .ok_or("no completed read")?;
    let events = &scene.timeline.events[write.first..=complete.last];
    let (writer, reader) = (scene.cast.writer.thread, scene.cast.reader.thread);
    let by = |event: &Event, thread: u64| u64::from(event.thread) == thread;
    let is_pipe =
        |event: &Event, kind: Kind, op: Shared| event.kind == kind && shared_op(event) == Some(op);
    match scene.timeline.system {
        System::Mono => {
            let call = next(events, 0, "the writer's write system call", |e| {
                e.kind == Kind::SyscallEnter && by(e, writer) && e.args[0] == Sys::Write.number()
            })?;
            let pipe = next(events, call, "Pipe::write_with", |e| {
                is_pipe(e, Kind::Enter, Shared::PipeWrite)
            })?;
            let wake = next(events, pipe, "the wakeup of the reader", |e| {
                e.kind == Kind::Wakeup && e.args[1] == reader
            })?;
            let read = next(events, wake, "the reader's Pipe::read_with", |e| {
                is_pipe(e, Kind::Enter, Shared::PipeRead) && by(e, reader)
            })?;
            let done = next(events, read, "the reader's read returning", |e| {
                e.kind == Kind::SyscallExit && by(e, reader) && e.args[0] == Sys::Read.number()
            })?;
            if events[done].args[1] != scene.bytes {
                return Err(format!(
                    "read returned {}, not the {} bytes written",
                    events[done].args[1], scene.bytes
                ));
            }
        }
        System::Micro => {
            let server = scene
                .cast
                .server
                .as_ref()
                .ok_or("no server owns the pipe")?;
            let in_server =
                |e: &Event| e.place == Place::Space(server.space as u32) && by(e, server.thread);
            let call = next(
                events,
                0,
                "the writer's message to the server that owns the pipe",
                |e| {
                    e.kind == Kind::Ipc
                        && by(e, writer)
                        && e.args[0] == server.thread
                        && e.args[1] == VfsOp::Write.label()
                },
            )?;
            let pipe = next(events, call, "Pipe::write_with inside that server", |e| {
                is_pipe(e, Kind::Enter, Shared::PipeWrite) && in_server(e)
            })?;
            let woken = next(
                events,
                pipe,
                "the server finishing the reader's parked request",
                |e| e.kind == Kind::Wakeup && in_server(e) && e.args[1] & 0xffff == reader,
            )?;
            let answer = next(events, woken, "the server's answer to the reader", |e| {
                e.kind == Kind::Ipc
                    && by(e, server.thread)
                    && e.args[0] == reader
                    && e.args[1] == ReplyKind::Done.label()
            })?;
            let reply = next(events, answer, "the server's reply to the writer", |e| {
                e.kind == Kind::Ipc && by(e, server.thread) && e.args[0] == writer
            })?;
            next(events, reply, "the reader running again", |e| {
                e.kind == Kind::ContextSwitch && e.args[1] == reader
            })?;
            let parked = scene
                .part(PartKind::ReadWaits)
                .ok_or("no read that waits")?;
            let waits = &scene.timeline.events[parked.first..=parked.last];
            next(waits, 0, "the server parking the reader's request", |e| {
                e.kind == Kind::Park && in_server(e)
            })?;
        }
    }
    if scene.pipe_write_step().is_none() {
        return Err(String::from("no Pipe::write_with step"));
    }
    Ok(())
}

/// Checks the outputs made from `scenes`: each kernel's JSON is valid and
/// holds the `Pipe::write_with` step; the page has each kernel's figure
/// with every lane, naming `Pipe::write_with`.
pub fn outputs(command: &str, scenes: &[&Scene]) -> Result<(), String> {
    for scene in scenes {
        let text = chrome::render(command, scene);
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|error| format!("the Chrome JSON does not parse: {error}"))?;
        let events = json["traceEvents"]
            .as_array()
            .ok_or("the Chrome JSON has no traceEvents")?;
        if !events
            .iter()
            .any(|event| event["ph"] == "X" && event["name"] == "Pipe::write_with")
        {
            return Err(String::from(
                "the Chrome JSON has no Pipe::write_with slice",
            ));
        }
    }
    let page = html::page(command, scenes);
    for scene in scenes {
        let id = format!(r#"<svg id="lanes-{}""#, scene.timeline.system.name());
        let start = page
            .find(&id)
            .ok_or_else(|| format!("the page has no figure {id}"))?;
        let figure = &page[start..start + page[start..].find("</svg>").unwrap_or(0)];
        for lane in scene.lanes() {
            let name = format!(">{}</text>", scene.lane_name(lane));
            if !figure.contains(&name) {
                return Err(format!(
                    "the {} figure has no lane {}",
                    scene.timeline.system.name(),
                    scene.lane_name(lane)
                ));
            }
        }
        if !figure.contains("Pipe::write_with") {
            return Err(format!(
                "the {} figure does not name Pipe::write_with",
                scene.timeline.system.name()
            ));
        }
    }
    Ok(())
}
