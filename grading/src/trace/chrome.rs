//! `build/trace/KERNEL.json`: a trace in Chrome's trace-event format, which
//! Perfetto (<https://ui.perfetto.dev>, *Open trace file*) and
//! `chrome://tracing` read.
//!
//! Two processes per file:
//!
//! | process | tracks | slices and marks |
//! |---|---|---|
//! | 1, "the pipe write" | one per lane (the writer, the kernel, the server, the reader) | each step of the scene, named by its functions, with its file and instructions as arguments |
//! | 2, "everything traced" | `CPU` (which thread runs), then one per thread | system calls (`sys>` to `sys<`), shared operations (`enter` to `exit`), and every other event as an instant |
//!
//! Time is guest instructions shown as nanoseconds (`ts` is in
//! microseconds, so one instruction is 0.001), counted from the trace's
//! first event, with the servers' recording taken out (`timeline.rs`).

use common::trace::code::{call_name, message_name, shared_op};
use common::trace::scene::{Lane, Scene};
use common::trace::summary::kernel_name;
use common::trace::timeline::System;
use common::trace::{Event, Kind, Place};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The process of the scene's steps, and of every event.
const PATH_PID: u64 = 1;
const ALL_PID: u64 = 2;
/// The CPU track's thread id in process 2 (threads are numbered from 1 up).
const CPU_TID: u64 = 0;

/// Instructions to the format's microseconds.
fn micros(instructions: u64) -> f64 {
    instructions as f64 / 1000.0
}

/// A lane's track id in process 1.
fn lane_tid(lane: Lane) -> u64 {
    match lane {
        Lane::Writer => 1,
        Lane::Kernel => 2,
        Lane::Server => 3,
        Lane::Reader => 4,
    }
}

/// The track of an event's thread in process 2 (thread numbers from 1).
fn thread_tid(event: &Event) -> u64 {
    u64::from(event.thread) + 1
}

/// A short name of an event for its instant.
fn event_name(system: System, event: &Event) -> String {
    let [a0, a1, a2] = event.args;
    match event.kind {
        Kind::SyscallEnter | Kind::SyscallExit => call_name(system, a0),
        Kind::Ipc => format!("ipc {} to {a0}", message_name(a1)),
        Kind::IpcWait => String::from("wait"),
        Kind::SpaceSwitch => format!("space {a0} → {a1}"),
        Kind::ContextSwitch => format!("switch {a0} → {a1}"),
        Kind::Interrupt => format!("irq {a0}"),
        Kind::PageFault => format!("page fault {a0:#x}"),
        Kind::PagerReply => format!("pager {a0:#x}"),
        Kind::Wakeup => format!("wake {a1}"),
        Kind::Park => format!("park {a1}"),
        Kind::Enter | Kind::Exit => shared_op(event)
            .map_or_else(|| String::from("shared"), |op| String::from(op.function())),
        Kind::Copy => format!("copy {a0} bytes {a1} → {a2}"),
        Kind::Name => String::from("name"),
    }
}

/// The trace-event document for `scene`, traced from `command`.
pub fn document(command: &str, scene: &Scene) -> Value {
    let timeline = &scene.timeline;
    let system = timeline.system;
    let origin = if timeline.events.is_empty() {
        0
    } else {
        timeline.time(0)
    };
    let at = |index: usize| micros(timeline.time(index) - origin);
    let mut events: Vec<Value> = Vec::new();
    let metadata = |pid: u64, tid: Option<u64>, name: &str, value: String| {
        let mut event = json!({ "ph": "M", "pid": pid, "name": name, "args": { "name": value } });
        if let Some(tid) = tid {
            event["tid"] = json!(tid);
        }
        event
    };
    events.push(metadata(
        PATH_PID,
        None,
        "process_name",
        format!("{}: the pipe write", kernel_name(system)),
    ));
    events.push(metadata(
        ALL_PID,
        None,
        "process_name",
        format!("{}: everything traced", kernel_name(system)),
    ));
    for lane in scene.lanes() {
        events.push(metadata(
            PATH_PID,
            Some(lane_tid(lane)),
            "thread_name",
            scene.lane_name(lane),
        ));
        events.push(json!({ "ph": "M", "pid": PATH_PID, "tid": lane_tid(lane), "name": "thread_sort_index", "args": { "sort_index": lane_tid(lane) } }));
    }
    for part in &scene.parts {
        for step in &part.steps {
            events.push(json!({
                "ph": "X",
                "pid": PATH_PID,
                "tid": lane_tid(step.lane),
                "name": step.code.function_text(),
                "cat": part.title,
                "ts": at(step.from),
                "dur": micros(step.instructions),
                "args": {
                    "file": step.code.file,
                    "what": step.code.what,
                    "instructions": step.instructions,
                    "pipe_write": step.pipe_write,
                },
            }));
        }
    }
    // Process 2: thread names (every name a thread's space had), the CPU
    // track, and each thread's events.
    let mut names: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (index, event) in timeline.events.iter().enumerate() {
        let thread = u64::from(event.thread);
        let name = match (system, event.place) {
            (System::Mono, _) if thread == 0 => Some(String::from("scheduler")),
            _ => timeline
                .thread_space(thread, index)
                .and_then(|space| timeline.space_name(space, index)),
        };
        let entry = names.entry(thread).or_default();
        if let Some(name) = name
            && !entry.contains(&name)
        {
            entry.push(name);
        }
    }
    events.push(metadata(
        ALL_PID,
        Some(CPU_TID),
        "thread_name",
        String::from("CPU (which thread runs)"),
    ));
    for (thread, seen) in &names {
        let label = match system {
            System::Mono => format!("pid {thread}: {}", seen.join(", ")),
            System::Micro => format!("thread {thread}: {}", seen.join(", ")),
        };
        events.push(metadata(ALL_PID, Some(thread + 1), "thread_name", label));
    }
    // The CPU track: from each switch to the next.
    let switches: Vec<usize> = (0..timeline.events.len())
        .filter(|&i| timeline.events[i].kind == Kind::ContextSwitch)
        .collect();
    for pair in switches.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        let thread = timeline.events[from].args[1];
        let name = names
            .get(&thread)
            .and_then(|seen| seen.last().cloned())
            .unwrap_or_else(|| format!("thread {thread}"));
        events.push(json!({
            "ph": "X", "pid": ALL_PID, "tid": CPU_TID, "name": name, "ts": at(from),
            "dur": micros(timeline.between(from, to)),
        }));
    }
    // Slices: a system call or shared operation from its start to its end
    // (same thread, same number); everything else is an instant.
    let mut open: BTreeMap<(u64, u8, u64, bool), Vec<usize>> = BTreeMap::new();
    let mut closed = vec![false; timeline.events.len()];
    let mut slices: Vec<(usize, usize)> = Vec::new();
    for (index, event) in timeline.events.iter().enumerate() {
        let user = matches!(event.place, Place::Space(_));
        let key = |kind: Kind| (u64::from(event.thread), kind as u8, event.args[0], user);
        match event.kind {
            Kind::SyscallEnter | Kind::Enter => {
                open.entry(key(event.kind)).or_default().push(index)
            }
            Kind::SyscallExit | Kind::Exit => {
                let start_kind = if event.kind == Kind::SyscallExit {
                    Kind::SyscallEnter
                } else {
                    Kind::Enter
                };
                if let Some(start) = open.get_mut(&key(start_kind)).and_then(Vec::pop) {
                    slices.push((start, index));
                    closed[start] = true;
                    closed[index] = true;
                }
            }
            _ => {}
        }
    }
    for (start, end) in slices {
        let event = &timeline.events[start];
        events.push(json!({
            "ph": "X", "pid": ALL_PID, "tid": thread_tid(event), "name": event_name(system, event),
            "cat": event.kind.word(), "ts": at(start), "dur": micros(timeline.between(start, end)),
            "args": { "start": event.args, "end": timeline.events[end].args },
        }));
    }
    for (index, event) in timeline.events.iter().enumerate() {
        if closed[index] || event.kind == Kind::Name {
            continue;
        }
        events.push(json!({
            "ph": "i", "s": "t", "pid": ALL_PID, "tid": thread_tid(event), "name": event_name(system, event),
            "cat": event.kind.word(), "ts": at(index), "args": { "args": event.args },
        }));
    }
    json!({
        "displayTimeUnit": "ns",
        "otherData": {
            "command": command,
            "kernel": kernel_name(system),
            "time unit": "1 ns = 1 guest instruction (QEMU -icount shift=0)",
        },
        "traceEvents": events,
    })
}

/// The document as text.
pub fn render(command: &str, scene: &Scene) -> String {
    let mut text = serde_json::to_string_pretty(&document(command, scene)).unwrap_or_default();
    text.push('\n');
    text
}
