//! One pipe write, found in a trace: who wrote, who read, and every step
//! from the `write` to the reader having the bytes, with its code and its
//! instructions.
//!
//! A trace of `echo hi | cat` holds far more than the pipe: the shell
//! reading its line, `fork` and `exec` of both programs, page faults. The
//! scene is found from its middle outwards:
//!
//! 1. **The anchor**: a `Pipe::write_with` (`Shared::PipeWrite`), `Enter`
//!    and `Exit`. The first one that woke a waiting reader is chosen, else
//!    the first one at all (and the scene says so).
//! 2. **The write**: back from the anchor to the writer's `write` (mono: its
//!    `sys>`; micro: its message to the server that owns the pipe, with
//!    the kernel's copy of the bytes), forward to the writer running again
//!    (mono: `sys<`; micro: the server's reply and the switch back).
//! 3. **The reader**: the wakeup after the anchor names it (mono:
//!    `sched::wakeup`'s pid; micro: the server's `Wakeup` of a parked
//!    request). Its earlier read that had to wait is *the read that waits*
//!    (mono: `Park` on the same channel; micro: the server's `Park` of that
//!    request), and *the read completes* when it runs again (mono: switched
//!    to, until its `sys<`; micro: switched to, its answer already in its
//!    registers and its bytes in its buffer). With no reader waiting, the
//!    reader is whoever next reads bytes from a pipe, and its read is one
//!    part.
//!
//! Between the write and the read's completion the writer goes on with
//! its own work (`echo` exits) and other threads run: that *gap* is shown
//! but is not on the path. The totals count the path — [`Scene::path`],
//! from the `write` to the reader having the bytes — and the whole scene
//! with the read that waits ([`Scene::whole`]).
//!
//! What counts:
//!
//! | total | counts |
//! |---|---|
//! | kernel entries | system calls (on the microkernel also each IPC system call: a message sent by the thread on the CPU, or a receive on its own), page faults, interrupts |
//! | address-space switches | `SpaceSwitch` events (a page-table switch) |
//! | copies of the data | `Copy` events (a kernel copying between spaces), and pipe operations that move bytes without one (a server's `Pipe::write` from its own memory) |
//! | messages | `Ipc` events (micro) |
//! | instructions | the sum of the steps, on cleaned times (`timeline.rs`) |

use super::code::{self, Code, is_kernel_label, pipe_result, shared_op};
use super::timeline::{System, Timeline};
use super::{Event, Kind, Place, Shared};
use crate::abi::proto::vfs::VfsOp;
use crate::abi::syscall::Sys as MonoSys;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A thread of the scene.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Its thread: the pid (mono) or thread slot (micro).
    pub thread: u64,
    /// Its address space (mono: the pid).
    pub space: u64,
    /// Its program's or server's name (`echo`, `vfs`).
    pub name: String,
    /// Its pid, if it is a process.
    pub pid: Option<u64>,
}

impl Actor {
    fn new(timeline: &Timeline, thread: u64, at: usize) -> Actor {
        let space = timeline.thread_space(thread, at).unwrap_or(thread);
        let name = timeline
            .space_name(space, at)
            .unwrap_or_else(|| format!("thread {thread}"));
        let pid = timeline.space_pid(space, at);
        Actor {
            thread,
            space,
            name,
            pid,
        }
    }

    /// `echo (pid 11)`, `vfs (thread 4)`.
    pub fn describe(&self) -> String {
        match self.pid {
            Some(pid) => format!("{} (pid {pid})", self.name),
            None => format!("{} (thread {})", self.name, self.thread),
        }
    }
}

/// Who is who in a scene.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cast {
    /// The thread that writes.
    pub writer: Actor,
    /// The thread that reads the bytes.
    pub reader: Actor,
    /// The server that owns the pipe (micro).
    pub server: Option<Actor>,
}

impl Cast {
    /// The name of thread `thread` (micro: a slot) near event `at`.
    pub fn name_of_thread(&self, timeline: &Timeline, thread: u64, at: usize) -> String {
        for actor in self.actors() {
            if actor.thread == thread {
                return actor.name.clone();
            }
        }
        let space = timeline.thread_space(thread, at).unwrap_or(thread);
        timeline
            .space_name(space, at)
            .unwrap_or_else(|| format!("thread {thread}"))
    }

    /// The name of address space `space` (mono: a pid; 0: the kernel).
    pub fn name_of_space(&self, timeline: &Timeline, space: u64) -> String {
        if timeline.system == System::Mono && space == 0 {
            return String::from("the kernel");
        }
        for actor in self.actors() {
            if actor.space == space {
                return actor.name.clone();
            }
        }
        timeline
            .space_name(space, 0)
            .unwrap_or_else(|| format!("space {space}"))
    }

    /// The name of the client a server's `Park` or `Wakeup` names (a
    /// thread id: the slot in its low bits).
    pub fn name_of_client(&self, timeline: &Timeline, client: u64, at: usize) -> String {
        self.name_of_thread(timeline, client & 0xffff, at)
    }

    fn actors(&self) -> impl Iterator<Item = &Actor> {
        [Some(&self.writer), Some(&self.reader), self.server.as_ref()]
            .into_iter()
            .flatten()
    }
}

/// Where a step runs: a swim lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// The writing program, in user mode.
    Writer,
    /// The kernel.
    Kernel,
    /// The server that owns the pipe, in user mode (micro).
    Server,
    /// The reading program, in user mode.
    Reader,
}

impl Lane {
    /// The lanes, left to right.
    pub const ALL: [Lane; 4] = [Lane::Writer, Lane::Kernel, Lane::Server, Lane::Reader];
}

/// One step: from one event to the next, in one lane, running some code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The event it starts at (an index into the timeline's events).
    pub from: usize,
    /// The event it ends at.
    pub to: usize,
    /// Events inside it, folded in (the copy inside `Pipe::write_with`).
    pub inner: Vec<usize>,
    /// Where it runs.
    pub lane: Lane,
    /// The lane it crosses into or out of (a server's system call).
    pub crosses: Option<Lane>,
    /// Guest instructions (cleaned times).
    pub instructions: u64,
    /// The code it runs.
    pub code: Code,
    /// It is the `Pipe::write_with` of the write followed.
    pub pipe_write: bool,
}

/// The parts of a scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// The reader's read finds the pipe empty and waits.
    ReadWaits,
    /// The writer's write, up to the writer running again.
    Write,
    /// The reader runs again, with the bytes.
    ReadCompletes,
    /// The reader's read, which did not have to wait.
    Read,
}

/// Something a program does at the edge of a part, in its own lane
/// (its user-level code, which no event shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The program's lane.
    pub lane: Lane,
    /// What it does.
    pub text: String,
}

/// The counts of a stretch of the trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// System calls, page faults and interrupts (see the module comment).
    pub kernel_entries: u64,
    /// Address-space (page-table) switches.
    pub space_switches: u64,
    /// Copies of the data.
    pub copies: u64,
    /// Messages (micro).
    pub messages: u64,
    /// Guest instructions.
    pub instructions: u64,
    /// Steps.
    pub steps: u64,
    /// The kernel's own trace points (each costs some instructions while
    /// tracing is on: `Timeline::kernel_event_cost`).
    pub kernel_events: u64,
}

impl Counts {
    fn add(self, other: Counts) -> Counts {
        Counts {
            kernel_entries: self.kernel_entries + other.kernel_entries,
            space_switches: self.space_switches + other.space_switches,
            copies: self.copies + other.copies,
            messages: self.messages + other.messages,
            instructions: self.instructions + other.instructions,
            steps: self.steps + other.steps,
            kernel_events: self.kernel_events + other.kernel_events,
        }
    }
}

/// One part of the scene.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Which.
    pub kind: PartKind,
    /// Its title: `cat's read waits`.
    pub title: String,
    /// Its first and last event.
    pub first: usize,
    /// Its last event.
    pub last: usize,
    /// What the program does before the first event, if shown.
    pub begin: Option<Marker>,
    /// Its steps.
    pub steps: Vec<Step>,
    /// What the program does after the last event, if shown.
    pub end: Option<Marker>,
    /// Its counts.
    pub counts: Counts,
}

/// The stretch between the write and the read's completion that is not
/// on the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// Its first and last event (the write's last, the completion's first).
    pub first: usize,
    /// Its last event.
    pub last: usize,
    /// Instructions.
    pub instructions: u64,
    /// What happens in it.
    pub text: String,
}

/// One pipe write and its reader, found in a trace.
#[derive(Debug, Clone)]
pub struct Scene {
    /// The trace.
    pub timeline: Timeline,
    /// Who is who.
    pub cast: Cast,
    /// Bytes written.
    pub bytes: u64,
    /// The reader was waiting when the bytes came.
    pub waited: bool,
    /// The parts, in time order.
    pub parts: Vec<Part>,
    /// The writer's own work and others' between the write and the read's
    /// completion.
    pub gap: Option<Gap>,
    /// The path: from the write to the reader having the bytes.
    pub path: Counts,
    /// Every part.
    pub whole: Counts,
    /// Instructions from the write's first event to the read's last, gap included.
    pub elapsed: u64,
    /// Which write this is, and why it was chosen.
    pub choice: String,
    /// Writes to a pipe in the trace.
    pub pipe_writes: usize,
}

/// Why no scene was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SceneError {
    /// The trace has no `Pipe::write_with`.
    NoPipeWrite {
        /// Events in the trace.
        events: usize,
    },
    /// A write was found, but not the events around it that must be there.
    Incomplete(&'static str),
}

impl core::fmt::Display for SceneError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SceneError::NoPipeWrite { events } => {
                write!(
                    f,
                    "no write to a pipe (no Pipe::write_with) in the trace's {events} events"
                )
            }
            SceneError::Incomplete(what) => write!(f, "a write to a pipe, but not {what}"),
        }
    }
}

/// The events a scene is made of, before steps are built.
struct Found {
    writer: u64,
    reader: u64,
    server: Option<u64>,
    anchor: usize,
    write: (usize, usize),
    wait: Option<(usize, usize)>,
    complete: (usize, usize),
}

impl Scene {
    /// Finds the pipe write in `raw` (events in the order the ring holds them).
    pub fn find(raw: &[Event]) -> Result<Scene, SceneError> {
        Scene::in_timeline(Timeline::new(raw))
    }

    /// Finds the pipe write in a prepared trace.
    pub fn in_timeline(timeline: Timeline) -> Result<Scene, SceneError> {
        let anchors: Vec<usize> = (0..timeline.events.len())
            .filter(|&i| {
                let event = &timeline.events[i];
                event.kind == Kind::Enter && shared_op(event) == Some(Shared::PipeWrite)
            })
            .collect();
        let Some(&first_anchor) = anchors.first() else {
            return Err(SceneError::NoPipeWrite {
                events: timeline.recorded,
            });
        };
        let found = |anchor: usize| match timeline.system {
            System::Mono => find_mono(&timeline, anchor),
            System::Micro => find_micro(&timeline, anchor),
        };
        let woke = anchors
            .iter()
            .enumerate()
            .find_map(|(n, &anchor)| match found(anchor) {
                Ok(scene) if scene.wait.is_some() => Some((n, scene)),
                _ => None,
            });
        let (found, choice) = match woke {
            Some((n, found)) => (
                found,
                format!(
                    "the first write to a pipe that woke a reader waiting for it (write {} of {} to a pipe in the trace)",
                    n + 1,
                    anchors.len()
                ),
            ),
            None => (
                found(first_anchor).map_err(SceneError::Incomplete)?,
                format!(
                    "the first write to a pipe (1 of {}); no reader was waiting for it, so its reader is whoever read bytes from a pipe next",
                    anchors.len()
                ),
            ),
        };
        Ok(Scene::build(timeline, found, choice, anchors.len()))
    }

    fn build(timeline: Timeline, found: Found, choice: String, pipe_writes: usize) -> Scene {
        let cast = Cast {
            writer: Actor::new(&timeline, found.writer, found.anchor),
            reader: Actor::new(&timeline, found.reader, found.complete.1),
            server: found
                .server
                .map(|server| Actor::new(&timeline, server, found.anchor)),
        };
        let exit = (found.anchor + 1..timeline.events.len()).find(|&i| {
            timeline.events[i].kind == Kind::Exit
                && shared_op(&timeline.events[i]) == Some(Shared::PipeWrite)
        });
        let bytes = exit
            .and_then(|i| pipe_result(&timeline.events[i]))
            .unwrap_or(timeline.events[found.anchor].args[1]);
        let waited = found.wait.is_some();
        let mut parts = Vec::new();
        let (reader, writer) = (cast.reader.name.as_str(), cast.writer.name.as_str());
        let system = timeline.system;
        if let Some((first, last)) = found.wait {
            let begin = Marker {
                lane: Lane::Reader,
                text: match system {
                    System::Mono => String::from("read(): the syscall instruction"),
                    System::Micro => String::from("read(): l4::rpc::call, VfsOp::Read"),
                },
            };
            let end = Marker {
                lane: Lane::Reader,
                text: match system {
                    System::Mono => String::from("asleep in the kernel, inside read()"),
                    System::Micro => String::from("blocked in its call, waiting for the reply"),
                },
            };
            parts.push(make_part(
                &timeline,
                &cast,
                PartKind::ReadWaits,
                format!("{reader}'s read waits"),
                (first, last),
                Some(begin),
                Some(end),
                None,
            ));
        }
        let write_begin = Marker {
            lane: Lane::Writer,
            text: match system {
                System::Mono => format!("write(): {bytes} bytes, the syscall instruction"),
                System::Micro => format!("write(): l4::rpc::call, VfsOp::Write, {bytes} bytes"),
            },
        };
        let write_end = Marker {
            lane: Lane::Writer,
            text: format!("write() returns {bytes}"),
        };
        parts.push(make_part(
            &timeline,
            &cast,
            PartKind::Write,
            format!("{writer}'s write"),
            found.write,
            Some(write_begin),
            Some(write_end),
            Some(found.anchor),
        ));
        let read_end = Marker {
            lane: Lane::Reader,
            text: format!("read() returns: the {bytes} bytes are in its buffer"),
        };
        let (kind, title, begin) = if waited {
            (
                PartKind::ReadCompletes,
                format!("{reader}'s read completes"),
                None,
            )
        } else {
            let begin = Marker {
                lane: Lane::Reader,
                text: String::from("read()"),
            };
            (PartKind::Read, format!("{reader}'s read"), Some(begin))
        };
        parts.push(make_part(
            &timeline,
            &cast,
            kind,
            title,
            found.complete,
            begin,
            Some(read_end),
            None,
        ));
        let gap = (found.complete.0 > found.write.1)
            .then(|| make_gap(&timeline, &cast, found.write.1, found.complete.0));
        let path = parts
            .iter()
            .filter(|part| part.kind != PartKind::ReadWaits)
            .fold(Counts::default(), |sum, part| sum.add(part.counts));
        let whole = parts
            .iter()
            .fold(Counts::default(), |sum, part| sum.add(part.counts));
        let elapsed = timeline.between(found.write.0, found.complete.1);
        Scene {
            timeline,
            cast,
            bytes,
            waited,
            parts,
            gap,
            path,
            whole,
            elapsed,
            choice,
            pipe_writes,
        }
    }

    /// The part of this kind, if the scene has one.
    pub fn part(&self, kind: PartKind) -> Option<&Part> {
        self.parts.iter().find(|part| part.kind == kind)
    }

    /// The lanes the scene uses, left to right.
    pub fn lanes(&self) -> Vec<Lane> {
        Lane::ALL
            .into_iter()
            .filter(|&lane| lane != Lane::Server || self.cast.server.is_some())
            .collect()
    }

    /// The name a lane shows: the program, `kernel`, the server.
    pub fn lane_name(&self, lane: Lane) -> String {
        match lane {
            Lane::Writer => self.cast.writer.name.clone(),
            Lane::Reader => self.cast.reader.name.clone(),
            Lane::Kernel => String::from("kernel"),
            Lane::Server => self
                .cast
                .server
                .as_ref()
                .map_or_else(|| String::from("server"), |server| server.name.clone()),
        }
    }

    /// What the path's counts are made of (see [`Scene::path`]).
    pub fn path_items(&self) -> Items {
        self.items(|kind| kind != PartKind::ReadWaits)
    }

    /// What the whole scene's counts are made of (see [`Scene::whole`]).
    pub fn whole_items(&self) -> Items {
        self.items(|_| true)
    }

    fn items(&self, wanted: impl Fn(PartKind) -> bool) -> Items {
        let mut items = Items::default();
        for part in self.parts.iter().filter(|part| wanted(part.kind)) {
            let first = if part.kind == PartKind::ReadCompletes {
                part.first + 1
            } else {
                part.first
            };
            items.extend(tally(&self.timeline, Some(&self.cast), first, part.last).1);
        }
        items
    }

    /// The `Pipe::write_with` step of the write followed.
    pub fn pipe_write_step(&self) -> Option<&Step> {
        self.parts
            .iter()
            .flat_map(|part| &part.steps)
            .find(|step| step.pipe_write)
    }
}

/// The index of the first event after `after` (exclusive) up to `before`
/// (exclusive) that satisfies `test`.
fn first_between(
    timeline: &Timeline,
    after: usize,
    before: usize,
    test: impl Fn(&Event) -> bool,
) -> Option<usize> {
    (after + 1..before.min(timeline.events.len())).find(|&i| test(&timeline.events[i]))
}

/// The index of the last event before `before` that satisfies `test`.
fn last_before(timeline: &Timeline, before: usize, test: impl Fn(&Event) -> bool) -> Option<usize> {
    (0..before).rev().find(|&i| test(&timeline.events[i]))
}

/// The `Exit` that ends the shared operation entered at `enter`.
fn exit_of(timeline: &Timeline, enter: usize) -> Option<usize> {
    let start = &timeline.events[enter];
    first_between(timeline, enter, usize::MAX, |event| {
        event.kind == Kind::Exit
            && event.args[0] == start.args[0]
            && event.place == start.place
            && event.thread == start.thread
    })
}

/// Whether the pipe read entered at `enter` returned bytes.
fn read_returned_bytes(timeline: &Timeline, enter: usize) -> bool {
    exit_of(timeline, enter)
        .and_then(|exit| pipe_result(&timeline.events[exit]))
        .is_some_and(|bytes| bytes > 0)
}

fn is_syscall(event: &Event, kind: Kind, thread: u64, call: MonoSys) -> bool {
    event.kind == kind && u64::from(event.thread) == thread && event.args[0] == call.number()
}

/// The mono-kernel's scene around the `Pipe::write_with` at `anchor`.
fn find_mono(timeline: &Timeline, anchor: usize) -> Result<Found, &'static str> {
    let writer = u64::from(timeline.events[anchor].thread);
    let exit = exit_of(timeline, anchor).ok_or("the end of Pipe::write_with")?;
    let write_first = last_before(timeline, anchor, |event| {
        is_syscall(event, Kind::SyscallEnter, writer, MonoSys::Write)
    })
    .ok_or("the writer's write system call")?;
    let write_last = first_between(timeline, exit, usize::MAX, |event| {
        is_syscall(event, Kind::SyscallExit, writer, MonoSys::Write)
    })
    .ok_or("the writer's return from write")?;
    let wake = first_between(timeline, exit, write_last, |event| {
        event.kind == Kind::Wakeup && u64::from(event.thread) == writer
    });
    if let Some(wake) = wake {
        let (channel, reader) = (timeline.events[wake].args[0], timeline.events[wake].args[1]);
        let park = last_before(timeline, write_first, |event| {
            event.kind == Kind::Park && event.args == [channel, reader, 0]
        })
        .ok_or("the reader going to sleep")?;
        let read_first = last_before(timeline, park, |event| {
            is_syscall(event, Kind::SyscallEnter, reader, MonoSys::Read)
        })
        .ok_or("the reader's read system call")?;
        let asleep = first_between(timeline, park, usize::MAX, |event| {
            event.kind == Kind::ContextSwitch && event.args[0] == reader
        })
        .ok_or("the reader leaving the CPU")?;
        let runs = first_between(timeline, write_last, usize::MAX, |event| {
            event.kind == Kind::ContextSwitch && event.args[0] == 0 && event.args[1] == reader
        })
        .ok_or("the reader running again")?;
        let scheduler = last_before(timeline, runs, |event| {
            event.kind == Kind::ContextSwitch && event.args[1] == 0
        })
        .filter(|&i| i > write_last)
        .unwrap_or(runs);
        let done = first_between(timeline, runs, usize::MAX, |event| {
            is_syscall(event, Kind::SyscallExit, reader, MonoSys::Read)
        })
        .ok_or("the reader's return from read")?;
        return Ok(Found {
            writer,
            reader,
            server: None,
            anchor,
            write: (write_first, write_last),
            wait: Some((read_first, asleep)),
            complete: (scheduler, done),
        });
    }
    let read = first_between(timeline, write_last, usize::MAX, |event| {
        event.kind == Kind::Enter && shared_op(event) == Some(Shared::PipeRead)
    })
    .filter(|&i| read_returned_bytes(timeline, i))
    .ok_or("a read that returned the bytes")?;
    let reader = u64::from(timeline.events[read].thread);
    let first = last_before(timeline, read, |event| {
        is_syscall(event, Kind::SyscallEnter, reader, MonoSys::Read)
    })
    .ok_or("the reader's read system call")?;
    let last = first_between(timeline, read, usize::MAX, |event| {
        is_syscall(event, Kind::SyscallExit, reader, MonoSys::Read)
    })
    .ok_or("the reader's return from read")?;
    Ok(Found {
        writer,
        reader,
        server: None,
        anchor,
        write: (write_first, write_last),
        wait: None,
        complete: (first, last),
    })
}

/// `index`, extended over a switch to `thread` and its address-space
/// switch if they follow at once.
fn through_switch(timeline: &Timeline, mut index: usize, thread: u64) -> usize {
    let events = &timeline.events;
    if events
        .get(index + 1)
        .is_some_and(|event| event.kind == Kind::ContextSwitch && event.args[1] == thread)
    {
        index += 1;
        if events
            .get(index + 1)
            .is_some_and(|event| event.kind == Kind::SpaceSwitch)
        {
            index += 1;
        }
    }
    index
}

/// The microkernel's scene around the `Pipe::write_with` at `anchor` (in
/// the server that owns the pipe).
fn find_micro(timeline: &Timeline, anchor: usize) -> Result<Found, &'static str> {
    let start = timeline.events[anchor];
    let Place::Space(server_space) = start.place else {
        return Err("a server that owns the pipe");
    };
    let server = u64::from(start.thread);
    let in_server = |event: &Event| {
        event.place == Place::Space(server_space) && u64::from(event.thread) == server
    };
    let request = last_before(timeline, anchor, |event| {
        event.kind == Kind::Ipc && event.args[0] == server && event.args[1] == VfsOp::Write.label()
    })
    .ok_or("the writer's message to the server")?;
    let writer = u64::from(timeline.events[request].thread);
    let write_first = match request.checked_sub(1) {
        Some(before)
            if timeline.events[before].kind == Kind::Copy
                && u64::from(timeline.events[before].thread) == writer =>
        {
            before
        }
        _ => request,
    };
    let exit = exit_of(timeline, anchor).ok_or("the end of Pipe::write_with")?;
    let reply = first_between(timeline, exit, usize::MAX, |event| {
        event.kind == Kind::Ipc && u64::from(event.thread) == server && event.args[0] == writer
    })
    .ok_or("the server's reply to the writer")?;
    let write_last = through_switch(timeline, reply, writer);
    let wake = first_between(timeline, exit, reply, |event| {
        event.kind == Kind::Wakeup && in_server(event)
    });
    if let Some(wake) = wake {
        let client = timeline.events[wake].args[1];
        let reader = client & 0xffff;
        let park = last_before(timeline, write_first, |event| {
            event.kind == Kind::Park && in_server(event) && event.args[1] == client
        })
        .ok_or("the server parking the reader's request")?;
        let asked = last_before(timeline, park, |event| {
            event.kind == Kind::Ipc && u64::from(event.thread) == reader && event.args[0] == server
        })
        .ok_or("the reader's message to the server")?;
        let waits = first_between(timeline, park, usize::MAX, |event| {
            event.kind == Kind::IpcWait && u64::from(event.thread) == server
        })
        .ok_or("the server waiting again")?;
        let answer = first_between(timeline, wake, usize::MAX, |event| {
            event.kind == Kind::Ipc && u64::from(event.thread) == server && event.args[0] == reader
        })
        .ok_or("the server's answer to the reader")?;
        let runs = first_between(timeline, answer.max(write_last), usize::MAX, |event| {
            event.kind == Kind::ContextSwitch && event.args[1] == reader
        })
        .ok_or("the reader running again")?;
        let before = if runs > write_last + 1 {
            runs - 1
        } else {
            runs
        };
        let done = if timeline
            .events
            .get(runs + 1)
            .is_some_and(|event| event.kind == Kind::SpaceSwitch)
        {
            runs + 1
        } else {
            runs
        };
        return Ok(Found {
            writer,
            reader,
            server: Some(server),
            anchor,
            write: (write_first, write_last),
            wait: Some((asked, waits)),
            complete: (before, done),
        });
    }
    let read = first_between(timeline, write_last, usize::MAX, |event| {
        event.kind == Kind::Enter && shared_op(event) == Some(Shared::PipeRead) && in_server(event)
    })
    .filter(|&i| read_returned_bytes(timeline, i))
    .ok_or("a read that returned the bytes")?;
    let asked = last_before(timeline, read, |event| {
        event.kind == Kind::Ipc && event.args[0] == server && event.args[1] == VfsOp::Read.label()
    })
    .ok_or("the reader's message to the server")?;
    let reader = u64::from(timeline.events[asked].thread);
    let answer = first_between(timeline, read, usize::MAX, |event| {
        event.kind == Kind::Ipc && u64::from(event.thread) == server && event.args[0] == reader
    })
    .ok_or("the server's answer to the reader")?;
    Ok(Found {
        writer,
        reader,
        server: Some(server),
        anchor,
        write: (write_first, write_last),
        wait: None,
        complete: (asked, through_switch(timeline, answer, reader)),
    })
}

/// The steps of events `first..=last`: from each event to the next, a
/// shared operation's `Enter` to its `Exit` as one step; `Name` events are
/// not steps.
#[allow(clippy::too_many_arguments)]
fn make_part(
    timeline: &Timeline,
    cast: &Cast,
    kind: PartKind,
    title: String,
    (first, last): (usize, usize),
    begin: Option<Marker>,
    end: Option<Marker>,
    anchor: Option<usize>,
) -> Part {
    let indexes: Vec<usize> = (first..=last)
        .filter(|&i| timeline.events[i].kind != Kind::Name)
        .collect();
    let mut steps = Vec::new();
    let mut k = 0;
    while k + 1 < indexes.len() {
        let from = indexes[k];
        let event = &timeline.events[from];
        // A shared operation's Enter, with its Exit in this part: one step.
        let folded = (event.kind == Kind::Enter)
            .then(|| exit_of(timeline, from))
            .flatten()
            .and_then(|exit| indexes.iter().position(|&i| i == exit))
            .filter(|&position| position > k + 1);
        let next = folded.unwrap_or(k + 1);
        let to = indexes[next];
        let inner: Vec<usize> = indexes[k + 1..next].to_vec();
        let (placement, code) = code::step_code(timeline, cast, from, to, &inner);
        steps.push(Step {
            from,
            to,
            inner,
            lane: placement.lane,
            crosses: placement.crosses,
            instructions: timeline.between(from, to),
            code,
            pipe_write: anchor == Some(from),
        });
        k = next;
    }
    // The completion's first event is the end of what ran before it.
    let counted = if kind == PartKind::ReadCompletes {
        first + 1
    } else {
        first
    };
    let mut counts = count(timeline, counted, last);
    counts.instructions = steps.iter().map(|step| step.instructions).sum();
    counts.steps = steps.len() as u64;
    Part {
        kind,
        title,
        first,
        last,
        begin,
        steps,
        end,
        counts,
    }
}

/// The thread on the CPU at each event (micro: from the context switches).
fn current_threads(timeline: &Timeline) -> Vec<u64> {
    let mut current = timeline
        .events
        .iter()
        .find(|event| event.place == Place::Kernel)
        .map_or(0, |event| u64::from(event.thread));
    timeline
        .events
        .iter()
        .map(|event| {
            let now = current;
            if event.kind == Kind::ContextSwitch {
                current = event.args[1];
            }
            now
        })
        .collect()
}

/// What the counts of a stretch are made of, one description each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Items {
    /// Each kernel entry: `echo's write system call`.
    pub kernel_entries: Vec<String>,
    /// Each address-space switch: `into cat's`.
    pub space_switches: Vec<String>,
    /// Each copy of the data: `3 bytes, echo → the kernel (the kernel)`.
    pub copies: Vec<String>,
}

impl Items {
    fn extend(&mut self, other: Items) {
        self.kernel_entries.extend(other.kernel_entries);
        self.space_switches.extend(other.space_switches);
        self.copies.extend(other.copies);
    }
}

/// The counts of events `first..=last` (instructions and steps aside).
fn count(timeline: &Timeline, first: usize, last: usize) -> Counts {
    tally(timeline, None, first, last).0
}

/// The counts of events `first..=last`, and (with a cast to name the
/// threads) what each counted thing is.
fn tally(timeline: &Timeline, cast: Option<&Cast>, first: usize, last: usize) -> (Counts, Items) {
    let mut counts = Counts::default();
    let mut items = Items::default();
    if first > last {
        return (counts, items);
    }
    let current = current_threads(timeline);
    let events = &timeline.events;
    let system = timeline.system;
    let thread_name = |thread: u64, at: usize| {
        cast.map_or_else(String::new, |cast| {
            cast.name_of_thread(timeline, thread, at)
        })
    };
    let space_name =
        |space: u64| cast.map_or_else(String::new, |cast| cast.name_of_space(timeline, space));
    for i in first..=last {
        let event = &events[i];
        let thread = u64::from(event.thread);
        let kernel = event.place == Place::Kernel;
        if kernel {
            counts.kernel_events += 1;
        }
        match event.kind {
            Kind::SyscallEnter if kernel => {
                counts.kernel_entries += 1;
                items.kernel_entries.push(format!(
                    "{}'s {} system call",
                    thread_name(thread, i),
                    code::call_name(system, event.args[0])
                ));
            }
            Kind::PageFault | Kind::Interrupt if kernel => {
                counts.kernel_entries += 1;
                items.kernel_entries.push(match event.kind {
                    Kind::PageFault => format!("a page fault in {}", thread_name(thread, i)),
                    _ => format!("interrupt {}", event.args[0]),
                });
            }
            Kind::Ipc if kernel && !is_kernel_label(event.args[1]) => {
                counts.messages += 1;
                if thread == current[i] {
                    counts.kernel_entries += 1;
                    items.kernel_entries.push(format!(
                        "{}'s IPC: {} to {}",
                        thread_name(thread, i),
                        code::message_name(event.args[1]),
                        thread_name(event.args[0], i)
                    ));
                }
            }
            Kind::IpcWait if kernel && thread == current[i] => {
                // A receive on its own is a system call; after a send it is
                // the same call's second half.
                let previous = (0..i).rev().find(|&j| {
                    events[j].place == Place::Kernel && u64::from(events[j].thread) == thread
                });
                let after_send =
                    previous.is_some_and(|j| matches!(events[j].kind, Kind::Ipc | Kind::PageFault));
                if !after_send {
                    counts.kernel_entries += 1;
                    items
                        .kernel_entries
                        .push(format!("{}'s IPC: a receive", thread_name(thread, i)));
                }
            }
            Kind::SpaceSwitch => {
                counts.space_switches += 1;
                items.space_switches.push(match system {
                    System::Mono => format!("into {}'s page tables", space_name(event.args[1])),
                    System::Micro => format!(
                        "{} → {}",
                        space_name(event.args[0]),
                        space_name(event.args[1])
                    ),
                });
            }
            Kind::Copy => {
                counts.copies += 1;
                let by = match system {
                    System::Mono if event.args[2] == 0 => "copy_from_user",
                    System::Mono => "copy_to_user",
                    System::Micro => "copy::commit",
                };
                items.copies.push(format!(
                    "{} bytes, {} → {} (the kernel: {by})",
                    event.args[0],
                    space_name(event.args[1]),
                    space_name(event.args[2])
                ));
            }
            Kind::Enter
                if matches!(shared_op(event), Some(Shared::PipeWrite | Shared::PipeRead)) =>
            {
                // A pipe operation moving bytes with no kernel copy inside is
                // a copy of its own (a server's, in its memory).
                if let Some(exit) = exit_of(timeline, i)
                    && let Some(bytes) = pipe_result(&events[exit]).filter(|&bytes| bytes > 0)
                    && !events[i..exit].iter().any(|inner| inner.kind == Kind::Copy)
                {
                    counts.copies += 1;
                    let (direction, op) = match shared_op(event) {
                        Some(Shared::PipeWrite) => ("into the ring", "Pipe::write"),
                        _ => ("out of the ring", "Pipe::read_with"),
                    };
                    items.copies.push(format!(
                        "{bytes} bytes {direction} ({}: {op})",
                        thread_name(thread, i)
                    ));
                }
            }
            _ => {}
        }
    }
    (counts, items)
}

/// The gap from event `first` (the write's last) to `last` (the completion's first).
fn make_gap(timeline: &Timeline, cast: &Cast, first: usize, last: usize) -> Gap {
    let mut ran: Vec<String> = Vec::new();
    for i in first + 1..last {
        let event = &timeline.events[i];
        if event.kind != Kind::ContextSwitch {
            continue;
        }
        let name = match timeline.system {
            System::Mono if event.args[1] == 0 => continue,
            System::Mono => cast.name_of_space(timeline, event.args[1]),
            System::Micro => cast.name_of_thread(timeline, event.args[1], i),
        };
        if name != cast.writer.name && !ran.contains(&name) {
            ran.push(name);
        }
    }
    let next_call = (first + 1..last)
        .map(|i| &timeline.events[i])
        .find_map(|event| {
            let by_writer =
                u64::from(event.thread) == cast.writer.thread && event.place == Place::Kernel;
            match (timeline.system, event.kind) {
                (System::Mono, Kind::SyscallEnter) if by_writer => {
                    Some(code::call_name(System::Mono, event.args[0]))
                }
                (System::Micro, Kind::Ipc) if by_writer && !is_kernel_label(event.args[1]) => {
                    Some(code::message_name(event.args[1]))
                }
                _ => None,
            }
        });
    let mut text = format!("{} goes on", cast.writer.name);
    if let Some(call) = next_call {
        text.push_str(&format!(" (its next call: {call})"));
    }
    if !ran.is_empty() {
        text.push_str(&format!(
            "; then {} run{}",
            ran.join(", "),
            if ran.len() == 1 { "s" } else { "" }
        ));
    }
    Gap {
        first,
        last,
        instructions: timeline.between(first, last),
        text,
    }
}
