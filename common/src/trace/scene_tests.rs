//! Tests of the trace analysis on real traces: `echo hi | cat` as
//! `make trace` recorded it on each kernel (`samples/`, cut to the scene;
//! `make trace` writes them again when the kernels change).

use super::code::shared_op;
use super::scene::{Lane, PartKind, Scene, SceneError};
use super::summary::summary;
use super::timeline::{System, Timeline};
use super::{Event, Kind, LINE_PREFIX, Place, Shared};
use crate::abi::proto::{reply::ReplyKind, vfs::VfsOp};
use crate::abi::syscall::Sys;
use alloc::vec::Vec;

const MONO: &str = include_str!("samples/echo-hi-cat.mono.trace");
const MICRO: &str = include_str!("samples/echo-hi-cat.micro.trace");

fn events(text: &str) -> Vec<Event> {
    text.lines()
        .filter(|line| line.starts_with(LINE_PREFIX))
        .map(|line| Event::parse_line(line).expect("a sample line parses"))
        .collect()
}

fn scene(text: &str) -> Scene {
    Scene::find(&events(text)).expect("the sample holds the scene")
}

/// The events of a part, as the timeline holds them.
fn part_events(scene: &Scene, kind: PartKind) -> Vec<Event> {
    let part = scene.part(kind).expect("the part");
    scene.timeline.events[part.first..=part.last].to_vec()
}

/// The position of the first event after `from` that satisfies `test`.
fn position_after(events: &[Event], from: usize, test: impl Fn(&Event) -> bool) -> usize {
    from + events[from..]
        .iter()
        .position(test)
        .expect("the event is there, in order")
}

#[test]
fn the_timeline_is_in_time_order_without_the_tracings_own_calls() {
    for (text, system) in [(MONO, System::Mono), (MICRO, System::Micro)] {
        let raw = events(text);
        let timeline = Timeline::new(&raw);
        assert_eq!(timeline.system, system);
        assert!(
            timeline
                .events
                .windows(2)
                .all(|pair| pair[0].time <= pair[1].time)
        );
        let trace_call = match system {
            System::Mono => Sys::Trace as u64,
            System::Micro => crate::abi::micro::Sys::Trace as u64,
        };
        assert!(!timeline.events.iter().any(|event| {
            matches!(event.kind, Kind::SyscallEnter | Kind::SyscallExit)
                && event.args[0] == trace_call
        }));
        // Cleaned times never run backwards, and never pass the raw ones.
        for index in 1..timeline.events.len() {
            assert!(timeline.time(index - 1) <= timeline.time(index));
            assert!(timeline.time(index) <= timeline.events[index].time);
        }
        match system {
            System::Mono => assert_eq!(timeline.recording_removed, 0),
            System::Micro => assert!(
                timeline.recording_removed > 0,
                "the servers' records are taken out"
            ),
        }
    }
}

#[test]
fn mono_write_then_wakeup_then_the_readers_read_returns() {
    let scene = scene(MONO);
    assert_eq!(scene.timeline.system, System::Mono);
    assert!(scene.waited, "cat waits in its read when echo writes");
    assert_eq!(scene.cast.writer.name, "echo");
    assert_eq!(scene.cast.reader.name, "cat");
    assert!(scene.cast.server.is_none());
    let kinds: Vec<PartKind> = scene.parts.iter().map(|part| part.kind).collect();
    assert_eq!(
        kinds,
        [
            PartKind::ReadWaits,
            PartKind::Write,
            PartKind::ReadCompletes
        ]
    );
    let (writer, reader) = (scene.cast.writer.thread, scene.cast.reader.thread);
    // The write: the write system call → Pipe::write_with → the wakeup of the reader.
    let write = part_events(&scene, PartKind::Write);
    let is = |event: &Event, kind: Kind, thread: u64| {
        event.kind == kind && u64::from(event.thread) == thread
    };
    assert!(is(&write[0], Kind::SyscallEnter, writer) && write[0].args[0] == Sys::Write as u64);
    let enter = position_after(&write, 0, |event| {
        event.kind == Kind::Enter && shared_op(event) == Some(Shared::PipeWrite)
    });
    let wake = position_after(&write, enter, |event| {
        event.kind == Kind::Wakeup && event.args[1] == reader
    });
    let back = position_after(&write, wake, |event| is(event, Kind::SyscallExit, writer));
    assert_eq!(back, write.len() - 1, "the write ends when write returns");
    // The read completes: the reader is switched to, and its read returns.
    let complete = part_events(&scene, PartKind::ReadCompletes);
    let runs = position_after(&complete, 0, |event| {
        event.kind == Kind::ContextSwitch && event.args[1] == reader
    });
    let read = position_after(&complete, runs, |event| {
        event.kind == Kind::Enter && shared_op(event) == Some(Shared::PipeRead)
    });
    let done = position_after(&complete, read, |event| {
        is(event, Kind::SyscallExit, reader) && event.args[0] == Sys::Read as u64
    });
    assert_eq!(done, complete.len() - 1);
    assert_eq!(
        complete[done].args[1], scene.bytes,
        "read returns the bytes written"
    );
    // What the path costs.
    assert_eq!(scene.path.kernel_entries, 1, "the write system call");
    assert_eq!(scene.path.space_switches, 1, "into cat's page tables");
    assert_eq!(scene.path.copies, 2, "copy_from_user, copy_to_user");
    assert_eq!(scene.path.messages, 0);
    assert_eq!(scene.whole.kernel_entries, 2, "with cat's read");
}

#[test]
fn micro_message_to_the_server_pipe_write_in_it_reply_and_the_parked_read_answered() {
    let scene = scene(MICRO);
    assert_eq!(scene.timeline.system, System::Micro);
    assert!(scene.waited, "cat's read is parked when echo writes");
    let server = scene.cast.server.as_ref().expect("the pipe's server");
    assert_eq!(server.name, "vfs");
    assert_eq!(
        (
            scene.cast.writer.name.as_str(),
            scene.cast.reader.name.as_str()
        ),
        ("echo", "cat")
    );
    let (writer, reader, vfs) = (
        scene.cast.writer.thread,
        scene.cast.reader.thread,
        server.thread,
    );
    let from = |event: &Event, thread: u64| u64::from(event.thread) == thread;
    let in_vfs =
        |event: &Event| event.place == Place::Space(server.space as u32) && from(event, vfs);
    // The read that waits: cat's message to vfs, parked there.
    let waits = part_events(&scene, PartKind::ReadWaits);
    assert!(
        waits[0].kind == Kind::Ipc
            && from(&waits[0], reader)
            && waits[0].args[..2] == [vfs, VfsOp::Read.label()]
    );
    let park = position_after(&waits, 0, |event| event.kind == Kind::Park && in_vfs(event));
    let client = waits[park].args[1];
    // The write: the message to vfs → Pipe::write_with in vfs → the parked
    // read answered → the reply to echo.
    let write = part_events(&scene, PartKind::Write);
    let request = position_after(&write, 0, |event| {
        event.kind == Kind::Ipc
            && from(event, writer)
            && event.args[..2] == [vfs, VfsOp::Write.label()]
    });
    assert_eq!(
        write[request].args[2], scene.bytes,
        "the bytes travel with the message"
    );
    let enter = position_after(&write, request, |event| {
        event.kind == Kind::Enter && shared_op(event) == Some(Shared::PipeWrite) && in_vfs(event)
    });
    let exit = position_after(&write, enter, |event| {
        event.kind == Kind::Exit && in_vfs(event)
    });
    let wake = position_after(&write, exit, |event| {
        event.kind == Kind::Wakeup && in_vfs(event) && event.args[1] == client
    });
    let answer = position_after(&write, wake, |event| {
        event.kind == Kind::Ipc
            && from(event, vfs)
            && event.args[0] == reader
            && event.args[1] == ReplyKind::Done.label()
    });
    assert_eq!(
        write[answer].args[2], scene.bytes,
        "the bytes go into cat's receive area"
    );
    let reply = position_after(&write, answer, |event| {
        event.kind == Kind::Ipc && from(event, vfs) && event.args[0] == writer
    });
    assert!(reply > answer);
    // The read completes: cat runs.
    let complete = part_events(&scene, PartKind::ReadCompletes);
    assert!(
        complete
            .iter()
            .any(|event| event.kind == Kind::ContextSwitch && event.args[1] == reader)
    );
    // The Pipe::write_with step is vfs's.
    let step = scene.pipe_write_step().expect("the Pipe::write_with step");
    assert_eq!(step.lane, Lane::Server);
    assert_eq!(step.code.functions, ["Pipe::write_with"]);
    assert_eq!(
        scene.path.kernel_entries, 3,
        "echo's call, vfs's send to cat, vfs's reply to echo"
    );
    assert_eq!(scene.path.space_switches, 3, "to vfs, back to echo, to cat");
    assert_eq!(
        scene.path.copies, 4,
        "two by the kernel, two by the pipe in vfs"
    );
    assert_eq!(scene.path.messages, 3);
    assert_eq!(
        scene.whole.kernel_entries, 5,
        "with cat's call and vfs's receive"
    );
}

#[test]
fn steps_follow_each_other_and_every_one_is_mapped_to_code() {
    for text in [MONO, MICRO] {
        let scene = scene(text);
        for part in &scene.parts {
            assert_eq!(part.steps.first().map(|step| step.from), Some(part.first));
            assert_eq!(part.steps.last().map(|step| step.to), Some(part.last));
            for pair in part.steps.windows(2) {
                assert_eq!(pair[0].to, pair[1].from, "steps are contiguous");
            }
            let sum: u64 = part.steps.iter().map(|step| step.instructions).sum();
            assert_eq!(sum, part.counts.instructions);
            for step in &part.steps {
                assert!(
                    !step.code.functions.is_empty() && step.code.file.contains("/src/"),
                    "{step:?}"
                );
            }
        }
        assert_eq!(
            scene
                .parts
                .iter()
                .flat_map(|part| &part.steps)
                .filter(|step| step.pipe_write)
                .count(),
            1
        );
        let gap = scene.gap.as_ref().expect("echo goes on before cat runs");
        assert_eq!(scene.elapsed, scene.path.instructions + gap.instructions);
        let text = summary(&scene);
        assert!(
            text.contains("Pipe::write_with")
                && text.contains("echo's write")
                && text.contains("cat's read completes"),
            "{text}"
        );
    }
}

#[test]
fn a_trace_without_a_pipe_write_is_an_error_that_says_so() {
    let without: Vec<Event> = events(MONO)
        .into_iter()
        .filter(|event| {
            !(matches!(event.kind, Kind::Enter | Kind::Exit)
                && shared_op(event) == Some(Shared::PipeWrite))
        })
        .collect();
    let error = Scene::find(&without).unwrap_err();
    assert_eq!(
        error,
        SceneError::NoPipeWrite {
            events: without.len()
        }
    );
    assert!(alloc::format!("{error}").contains("no write to a pipe"));
    assert!(matches!(
        Scene::find(&[]),
        Err(SceneError::NoPipeWrite { events: 0 })
    ));
}

#[test]
fn without_a_waiting_reader_the_next_read_is_followed() {
    // The same trace, as if cat had not been asleep: no Park, no wakeup.
    let unwoken: Vec<Event> = events(MONO)
        .into_iter()
        .filter(|event| !matches!(event.kind, Kind::Park | Kind::Wakeup))
        .collect();
    let scene = Scene::find(&unwoken).expect("a scene without a waiting reader");
    assert!(!scene.waited);
    let kinds: Vec<PartKind> = scene.parts.iter().map(|part| part.kind).collect();
    assert_eq!(kinds, [PartKind::Write, PartKind::Read]);
    assert_eq!(scene.cast.reader.name, "cat");
    assert!(scene.choice.contains("no reader was waiting"));
}
