//! A trace made ready for reading: the events in time order, the tracing's
//! own work taken out, and the names of the spaces.
//!
//! A kernel's ring holds events in the order they were *stored*. On the
//! microkernel a server's event is stored by its `trace(RECORD)` system
//! call, after the time stamp it took itself, so it lands after the
//! kernel's events of that call (`sys> 16 4 ...`): sorting by time (stably,
//! so events with one time stamp keep their order) puts it back where it
//! happened.
//!
//! The tracing's own work is not part of what a trace shows:
//!
//! | dropped | on | why |
//! |---|---|---|
//! | `trace` system calls (`abi::syscall::Sys::Trace`, `abi::micro::Sys::Trace`) | both | `trace on` and `trace off` themselves; on the microkernel also every server event's `trace(RECORD)` |
//! | `whoami` right before a server's `Name` record | micro | how a server finds its space to name itself (`l4::trace`) |
//!
//! A server's `trace(RECORD)` also *takes time*, between the event's time
//! stamp and the kernel's return from the call, several hundred
//! instructions each, which would be counted in whatever step follows the
//! event. [`Timeline::time`] therefore gives each event's time with every
//! such interval before it taken out ("cleaned"): step lengths measured on
//! cleaned times leave out the servers' recording. (The kernels' own trace
//! points cost some tens of instructions each when on; they stay in, and
//! [`Timeline::kernel_event_cost`] estimates what each costs.)

use super::{Event, Kind, Place, unpack_name};
use crate::abi::micro::Sys as MicroSys;
use crate::abi::syscall::{Sys as MonoSys, trace_ops};
use alloc::string::String;
use alloc::vec::Vec;

/// Which kernel recorded a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    /// The monolithic kernel: every event in the kernel, thread = pid.
    Mono,
    /// The microkernel and its servers: thread = thread slot.
    Micro,
}

impl System {
    /// Tells the kernel from the events: only the microkernel has user-space
    /// events and messages.
    pub fn infer(events: &[Event]) -> System {
        let micro = events.iter().any(|event| {
            matches!(event.place, Place::Space(_))
                || matches!(event.kind, Kind::Ipc | Kind::IpcWait)
        });
        if micro { System::Micro } else { System::Mono }
    }

    /// `mono` or `micro`.
    pub const fn name(self) -> &'static str {
        match self {
            System::Mono => "mono",
            System::Micro => "micro",
        }
    }

    /// The number of the `trace` system call on this kernel.
    const fn trace_call(self) -> u64 {
        match self {
            System::Mono => MonoSys::Trace as u64,
            System::Micro => MicroSys::Trace as u64,
        }
    }
}

/// A trace ready for reading.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// The kernel that recorded it.
    pub system: System,
    /// The events, in time order, without the tracing's own.
    pub events: Vec<Event>,
    /// Each event's time with the servers' recording taken out (see the
    /// module comment), parallel to `events`.
    cleaned: Vec<u64>,
    /// How many events the ring held.
    pub recorded: usize,
    /// How many of them were the tracing's own, dropped.
    pub dropped: usize,
    /// Instructions of the servers' `trace(RECORD)` calls taken out.
    pub recording_removed: u64,
}

impl Timeline {
    /// Prepares `raw`, the events in ring order.
    pub fn new(raw: &[Event]) -> Timeline {
        Timeline::for_system(System::infer(raw), raw)
    }

    /// Prepares `raw` (ring order) recorded by `system`.
    pub fn for_system(system: System, raw: &[Event]) -> Timeline {
        let mut drop = alloc::vec![false; raw.len()];
        let mut removed: Vec<(u64, u64)> = Vec::new();
        for (index, event) in raw.iter().enumerate() {
            if event.kind != Kind::SyscallEnter || event.args[0] != system.trace_call() {
                continue;
            }
            drop[index] = true;
            // The call's end: the thread's next `sys<` of the same number.
            let end = (index + 1..raw.len()).find(|&later| {
                raw[later].kind == Kind::SyscallExit
                    && raw[later].place == Place::Kernel
                    && raw[later].thread == event.thread
                    && raw[later].args[0] == event.args[0]
            });
            let Some(end) = end else { continue };
            drop[end] = true;
            if system != System::Micro || event.args[1] != trace_ops::RECORD {
                continue;
            }
            // The event this call recorded, and its time stamp.
            let stamp = raw[index + 1..end]
                .iter()
                .filter(|inner| {
                    matches!(inner.place, Place::Space(_)) && inner.thread == event.thread
                })
                .map(|inner| inner.time)
                .min();
            if let Some(stamp) = stamp
                && stamp <= raw[end].time
            {
                removed.push((stamp, raw[end].time));
                // A server names itself first: `whoami`, just before.
                let named = event.args[2] == Kind::Name as u64;
                if named
                    && let Some(before) = (0..index)
                        .rev()
                        .find(|&earlier| raw[earlier].thread == event.thread)
                    && raw[before].kind == Kind::SyscallExit
                    && raw[before].args[0] == MicroSys::WhoAmI as u64
                    && before > 0
                    && raw[before - 1].kind == Kind::SyscallEnter
                    && raw[before - 1].args[0] == MicroSys::WhoAmI as u64
                {
                    drop[before] = true;
                    drop[before - 1] = true;
                }
            }
        }
        // `trace on` starts recording inside its call, so its `sys<` has no `sys>`.
        for (index, event) in raw.iter().enumerate() {
            if event.kind == Kind::SyscallExit
                && event.place == Place::Kernel
                && event.args[0] == system.trace_call()
            {
                drop[index] = true;
            }
        }
        let mut events: Vec<Event> = raw
            .iter()
            .zip(&drop)
            .filter(|(_, dropped)| !**dropped)
            .map(|(event, _)| *event)
            .collect();
        // Stable: events with one time stamp keep their ring order.
        events.sort_by_key(|event| event.time);
        let intervals = merge(removed);
        let cleaned = events
            .iter()
            .map(|event| clean(event.time, &intervals))
            .collect();
        let recording_removed = intervals.iter().map(|(start, end)| end - start).sum();
        Timeline {
            system,
            recorded: raw.len(),
            dropped: raw.len() - events.len(),
            events,
            cleaned,
            recording_removed,
        }
    }

    /// Event `index`'s time, with the servers' recording before it taken out.
    pub fn time(&self, index: usize) -> u64 {
        self.cleaned[index]
    }

    /// Instructions from event `from` to event `to` (cleaned times).
    pub fn between(&self, from: usize, to: usize) -> u64 {
        self.time(to).saturating_sub(self.time(from))
    }

    /// The name of space `space` (a pid on the mono-kernel) as the trace
    /// last named it at or before event `at`, else as it first names it
    /// later; `None` if it never does.
    pub fn space_name(&self, space: u64, at: usize) -> Option<String> {
        let is_name = |event: &&Event| event.kind == Kind::Name && event.args[0] == space;
        let before = self.events[..=at.min(self.events.len().saturating_sub(1))]
            .iter()
            .rev()
            .find(is_name);
        let event = before.or_else(|| self.events.iter().find(is_name))?;
        Some(name_text(event.args[2]))
    }

    /// The pid the trace gives space `space` (mono: the space is the pid;
    /// micro: proc's `Name` events say), as at event `at`.
    pub fn space_pid(&self, space: u64, at: usize) -> Option<u64> {
        match self.system {
            System::Mono => Some(space),
            System::Micro => {
                let is_name = |event: &&Event| event.kind == Kind::Name && event.args[0] == space;
                let before = self.events[..=at.min(self.events.len().saturating_sub(1))]
                    .iter()
                    .rev()
                    .find(is_name);
                let event = before.or_else(|| self.events.iter().find(is_name))?;
                (event.args[1] != 0).then_some(event.args[1])
            }
        }
    }

    /// The space thread `thread` runs in, around event `at` (micro: from
    /// the nearest switch to it or event of it in user space; mono: the
    /// thread is the process, which is its own space).
    pub fn thread_space(&self, thread: u64, at: usize) -> Option<u64> {
        if self.system == System::Mono {
            return Some(thread);
        }
        let says = |event: &Event| -> Option<u64> {
            match (event.kind, event.place) {
                (Kind::ContextSwitch, Place::Kernel) if event.args[1] == thread => {
                    Some(event.args[2])
                }
                (_, Place::Space(space)) if u64::from(event.thread) == thread => {
                    Some(u64::from(space))
                }
                _ => None,
            }
        };
        let at = at.min(self.events.len().saturating_sub(1));
        self.events[..=at]
            .iter()
            .rev()
            .find_map(says)
            .or_else(|| self.events[at..].iter().find_map(says))
    }

    /// The smallest gap between two kernel trace points with nothing in
    /// between (a context switch and the address-space switch recorded
    /// right after it): about what one kernel event costs to record.
    pub fn kernel_event_cost(&self) -> Option<u64> {
        self.events
            .windows(2)
            .filter(|pair| {
                pair[0].kind == Kind::ContextSwitch
                    && pair[1].kind == Kind::SpaceSwitch
                    && pair[0].place == Place::Kernel
                    && pair[1].place == Place::Kernel
            })
            .map(|pair| pair[1].time - pair[0].time)
            .min()
    }
}

/// A packed name as text (up to its first NUL; other bytes as `?`).
pub fn name_text(word: u64) -> String {
    unpack_name(word)
        .iter()
        .take_while(|&&byte| byte != 0)
        .map(|&byte| {
            if byte.is_ascii_graphic() {
                byte as char
            } else {
                '?'
            }
        })
        .collect()
}

/// `intervals` sorted and merged where they overlap.
fn merge(mut intervals: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    intervals.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (start, end) in intervals {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// `time` less the parts of `intervals` (sorted, disjoint) before it.
fn clean(time: u64, intervals: &[(u64, u64)]) -> u64 {
    let before: u64 = intervals
        .iter()
        .take_while(|(start, _)| *start < time)
        .map(|(start, end)| end.min(&time) - start)
        .sum();
    time - before
}
