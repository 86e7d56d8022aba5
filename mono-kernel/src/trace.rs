//! Tracing in the mono-kernel: the ring buffer every trace point writes
//! into, and the `trace` system call that switches it on and reads it out.
//!
//! The trace points themselves are `common::trace::point` calls, in the
//! kernel (system calls, switches, interrupts, sleep and wakeup, user
//! copies) and in the shared code it links (`Pipe::write`, the file system,
//! the drivers). [`init`] installs this file's recorder, so all of them end
//! up here, stamped with where they happened: everything in this kernel
//! runs in the kernel, so the place is `Kernel` and the thread is the
//! process on the CPU (0 for the scheduler itself).
//!
//! The ring keeps the *first* [`CAPACITY`] events of a trace session (a
//! trace is read after the fact, and its beginning is what explains the
//! rest); `trace(OFF)` returns how many it holds, so a reader can tell a
//! full ring.

use crate::global::Global;
use crate::sched;
use common::abi::errno::Errno;
use common::abi::syscall::trace_ops;
use common::trace::{self, EVENT_WORDS, Event, Kind, Place, Recorder};
use core::cell::{Cell, RefCell};
use core::sync::atomic::{AtomicU64, Ordering};

/// Events one trace session can hold.
pub const CAPACITY: usize = 16 * 1024;

/// Non-zero while tracing is on (the word every trace point reads).
static ON: AtomicU64 = AtomicU64::new(0);

/// The recorded events, their count, and how far `trace(READ)` has read.
struct Ring {
    events: RefCell<[[u64; EVENT_WORDS]; CAPACITY]>,
    count: Cell<usize>,
    read: Cell<usize>,
}

static RING: Global<Ring> = Global::new(Ring {
    events: RefCell::new([[0; EVENT_WORDS]; CAPACITY]),
    count: Cell::new(0),
    read: Cell::new(0),
});

// SAFETY: `ON` is a static.
static RECORDER: Recorder = unsafe { Recorder::new(&ON, record) };

/// Makes the trace points of the kernel and of the shared code record here.
pub fn init() {
    trace::install(&RECORDER);
}

/// The process on the CPU, as a trace names it (0: the scheduler).
fn current_pid() -> u32 {
    sched::try_current().map_or(0, |proc| proc.pid)
}

/// The user space of the process on the CPU, as a `Copy` event names it
/// (a process is its own space here; 0 is the kernel).
pub fn current_space() -> u64 {
    u64::from(current_pid())
}

/// The recorder: one event at `time`.
fn record(time: u64, kind: Kind, args: [u64; 3]) {
    let event = Event {
        time,
        place: Place::Kernel,
        thread: current_pid(),
        kind,
        args,
    };
    let count = RING.count.get();
    if count == CAPACITY {
        return;
    }
    RING.events.borrow_mut()[count] = event.to_words();
    RING.count.set(count + 1);
}

/// Records the name of every process (at the start of a session, so that
/// a trace can say who each pid is).
fn name_everyone() {
    for proc in sched::all() {
        let name = proc.name.borrow();
        trace::point(
            Kind::Name,
            u64::from(proc.pid),
            u64::from(proc.pid),
            trace::pack_name(name.as_bytes()),
        );
    }
}

/// Records a process's (new) name, at `exec`.
pub fn name(pid: u32, name: &[u8]) {
    trace::point(
        Kind::Name,
        u64::from(pid),
        u64::from(pid),
        trace::pack_name(name),
    );
}

/// The `trace(op, a, b)` system call (`common::abi::syscall::trace_ops`).
pub fn sys_trace(op: u64, a: u64, b: u64) -> Result<u64, Errno> {
    match op {
        trace_ops::ON => {
            RING.count.set(0);
            RING.read.set(0);
            ON.store(1, Ordering::Relaxed);
            name_everyone();
            Ok(0)
        }
        trace_ops::OFF => {
            ON.store(0, Ordering::Relaxed);
            Ok(RING.count.get() as u64)
        }
        trace_ops::READ => read_out(a, b),
        _ => Err(Errno::EINVAL),
    }
}

/// `trace(READ, buffer, length)`: copies whole events from the first not
/// yet read into the user's buffer; returns how many.
fn read_out(buffer: u64, length: u64) -> Result<u64, Errno> {
    let per_event = trace_ops::EVENT_BYTES as u64;
    let (start, count) = (RING.read.get(), RING.count.get());
    let fit = (length / per_event) as usize;
    let take = fit.min(count - start);
    let mut bytes = alloc::vec::Vec::with_capacity(take * trace_ops::EVENT_BYTES);
    for words in &RING.events.borrow()[start..start + take] {
        for word in words {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
    }
    crate::vm::copy_out(&sched::current(), buffer, &bytes)?;
    RING.read.set(start + take);
    Ok(take as u64)
}
