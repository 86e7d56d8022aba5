//! Tracing in the microkernel: the kernel info page that says whether
//! tracing is on, the ring buffer events go into, and the `trace` system
//! call.
//!
//! Two kinds of trace points fill the ring:
//!
//! - the kernel's own ([`event`]): system calls, every message that moves
//!   (fast path and slow path), threads that start waiting, switches of
//!   thread and address space, interrupts, page faults and the pagers'
//!   answers, bytes copied between spaces;
//! - the servers' (`common::trace::point` in the shared code they run:
//!   `Pipe::write_with`, the file system, the drivers): a server reads the
//!   trace word of the [kernel info page](KERNEL_INFO_PAGE) — readable in
//!   every address space, so reading it costs no system call — and only
//!   while it is non-zero makes the `trace(RECORD)` call that adds its
//!   event here, stamped with its own space and thread.
//!
//! So one ring holds one timeline of everything, in the order it
//! happened. It keeps the *first* [`CAPACITY`] events of a session.
//!
//! The trace word is a *session number* (0: off), new at every
//! `trace(ON)`, so a server can tell a new session and name itself in it.
//!
//! All of this state lives outside [`Kernel`](crate::global::Kernel): an
//! event can be recorded from any depth of the kernel without threading
//! `&mut Kernel` through, because the kernel runs on one CPU with
//! interrupts off (`global.rs`), so nothing else touches the ring while
//! an event is written.

use crate::copy;
use crate::fault;
use crate::global::Kernel;
use crate::slot::{SpaceSlot, ThreadSlot};
use common::abi::micro::{Error, KERNEL_INFO_PAGE, KernelInfo};
use common::abi::syscall::trace_ops;
use common::mm::{PAGE_SIZE, PhysAddr, PhysFrame, UserRange};
use common::trace::{EVENT_WORDS, Event, Kind, Place};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU16, AtomicU64, Ordering};

/// Events one trace session can hold.
pub const CAPACITY: usize = 16 * 1024;

/// The kernel info page: one page of kernel memory, mapped read-only at
/// [`KERNEL_INFO_PAGE`] in a space the first time a thread of it reads
/// there (`fault.rs`; a space that never looks pays nothing for it).
#[repr(C, align(4096))]
struct InfoPage {
    info: KernelInfo,
    _rest: [u8; 4096 - core::mem::size_of::<KernelInfo>()],
}

static INFO_PAGE: InfoPage = InfoPage {
    info: KernelInfo { trace_session: AtomicU64::new(0) },
    _rest: [0; 4096 - core::mem::size_of::<KernelInfo>()],
};

/// The frame of the kernel info page (the kernel image lies in the kernel
/// window, so its physical address is its address minus the window's base).
pub fn info_frame() -> PhysFrame {
    let virtual_address = &INFO_PAGE as *const InfoPage as u64;
    let physical = common::mm::addr::kernel_virt_to_phys(common::mm::VirtAddr::new(virtual_address))
        .expect("the kernel image lies in the kernel window");
    PhysFrame::containing_address(PhysAddr::new(physical.as_u64()))
}

/// The number the next session gets.
static NEXT_SESSION: AtomicU64 = AtomicU64::new(0);

/// The recorded events and how far `trace(READ)` has read.
struct Ring {
    events: [[u64; EVENT_WORDS]; CAPACITY],
    count: usize,
    read: usize,
}

struct RingCell(UnsafeCell<Ring>);

// SAFETY: one CPU, interrupts off in the kernel, run-to-completion entries
// (see `global.rs`): the ring is never touched by two activities at once,
// and every access below is a short, non-reentrant read or write.
unsafe impl Sync for RingCell {}

static RING: RingCell = RingCell(UnsafeCell::new(Ring { events: [[0; EVENT_WORDS]; CAPACITY], count: 0, read: 0 }));

/// The thread on the CPU, for events the kernel records on its behalf
/// (kept here by [`event`] on every switch, so recording needs no `&Kernel`).
static CURRENT: AtomicU16 = AtomicU16::new(ThreadSlot::NONE.number());

/// The trace session as the kernel keeps it (the kernel info page shows
/// the same number to user space).
static SESSION: AtomicU64 = AtomicU64::new(0);

/// Whether tracing is on. One load: what a kernel trace point costs when off.
#[inline(always)]
pub fn on() -> bool {
    SESSION.load(Ordering::Relaxed) != 0
}

/// Sets the trace session, for the kernel and on the kernel info page.
fn set_session(session: u64) {
    SESSION.store(session, Ordering::Relaxed);
    INFO_PAGE.info.trace_session.store(session, Ordering::Relaxed);
}

/// A kernel trace point: `kind` with `args`, on behalf of `thread`. When
/// tracing is off it costs the load and the branch of [`on`]; the rest is
/// out of line, so the code around a trace point stays as it was. A context
/// switch also notes the new current thread, for [`here`].
#[inline(always)]
pub fn event(thread: ThreadSlot, kind: Kind, args: [u64; 3]) {
    if on() {
        record(thread.number(), kind, args[0], args[1], args[2]);
    }
}

/// A kernel trace point on behalf of the thread on the CPU.
#[inline(always)]
pub fn here(kind: Kind, args: [u64; 3]) {
    if on() {
        record(CURRENT.load(Ordering::Relaxed), kind, args[0], args[1], args[2]);
    }
}

/// The out-of-line half of a trace point: stamps the event and stores it.
#[cold]
#[inline(never)]
fn record(thread: u16, kind: Kind, a0: u64, a1: u64, a2: u64) {
    if kind == Kind::ContextSwitch {
        CURRENT.store(a1 as u16, Ordering::Relaxed);
    }
    let time = common::trace::now();
    push(Event { time, place: Place::Kernel, thread: u32::from(thread), kind, args: [a0, a1, a2] });
}

/// Appends one event (dropped when the ring is full).
fn push(event: Event) {
    // SAFETY: see `RingCell`: nothing else holds a reference into the ring.
    let ring = unsafe { &mut *RING.0.get() };
    if ring.count < CAPACITY {
        ring.events[ring.count] = event.to_words();
        ring.count += 1;
    }
}

/// What `trace(...)` asks of the system-call dispatcher.
pub enum Outcome {
    /// Done: the result word.
    Done(u64),
    /// The caller's buffer needs a page first: the call runs again later.
    Restart,
}

/// `trace(op, a, b, c, d, e)` by thread `slot` of space `space`
/// (`abi::syscall::trace_ops`): ON, OFF, READ(buffer, length), and
/// RECORD(kind, time, a0, a1, a2) for a server's own trace point.
pub fn sys_trace(k: &mut Kernel, slot: ThreadSlot, space: SpaceSlot, args: [u64; 6]) -> Result<Outcome, Error> {
    // SAFETY: see `RingCell`.
    let ring = unsafe { &mut *RING.0.get() };
    match args[0] {
        trace_ops::ON => {
            ring.count = 0;
            ring.read = 0;
            CURRENT.store(slot.number(), Ordering::Relaxed);
            let last = INFO_PAGE.info.trace_session.load(Ordering::Relaxed);
            NEXT_SESSION.store(NEXT_SESSION.load(Ordering::Relaxed).max(last) + 1, Ordering::Relaxed);
            set_session(NEXT_SESSION.load(Ordering::Relaxed));
            Ok(Outcome::Done(0))
        }
        trace_ops::OFF => {
            set_session(0);
            Ok(Outcome::Done(ring.count as u64))
        }
        trace_ops::READ => read_out(k, slot, space, ring, args[1], args[2]),
        trace_ops::RECORD => {
            let kind = u8::try_from(args[1]).ok().and_then(Kind::from_number).ok_or(Error::InvalidArgument)?;
            if on() {
                push(Event {
                    time: args[2],
                    place: Place::Space(space.number() as u32),
                    thread: slot.number() as u32,
                    kind,
                    args: [args[3], args[4], args[5]],
                });
            }
            Ok(Outcome::Done(0))
        }
        _ => Err(Error::InvalidArgument),
    }
}

/// `trace(READ, buffer, length)`: copies whole events, from the first not
/// yet read, into the caller's buffer; returns how many. The buffer must
/// be the caller's writable memory (a page not mapped yet is faulted in
/// first, as for every system call's buffer: `copy.rs`).
fn read_out(
    k: &mut Kernel,
    slot: ThreadSlot,
    space: SpaceSlot,
    ring: &mut Ring,
    buffer: u64,
    length: u64,
) -> Result<Outcome, Error> {
    let per_event = trace_ops::EVENT_BYTES as u64;
    let take = ((length / per_event) as usize).min(ring.count - ring.read);
    let bytes = take as u64 * per_event;
    UserRange::new(buffer, bytes).map_err(|_| Error::BadAddress)?;
    if let Some(missing) = copy::first_missing(k, space, buffer, bytes, true) {
        fault::system_call_fault(k, slot, missing)?;
        return Ok(Outcome::Restart);
    }
    for (index, words) in ring.events[ring.read..ring.read + take].iter().enumerate() {
        let mut bytes = [0u8; trace_ops::EVENT_BYTES];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        // The pages were checked just above, and nothing ran since.
        copy::copy_to_user(k, space, buffer + index as u64 * per_event, &bytes).ok_or(Error::BadAddress)?;
    }
    ring.read += take;
    Ok(Outcome::Done(take as u64))
}

/// Whether `address..address + length` covers the kernel info page (no
/// receive window may: map items would replace it).
pub fn covers_info_page(address: u64, length: u64) -> bool {
    address < KERNEL_INFO_PAGE + PAGE_SIZE && KERNEL_INFO_PAGE < address.saturating_add(length)
}
