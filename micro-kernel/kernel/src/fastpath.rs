//! The IPC fast path: a short call or reply-and-receive to a thread that is
//! already waiting, done in a straight line and switching directly to the
//! receiver without consulting the scheduler.
//!
//! This is the case that matters: every client-server round trip is one
//! `call` (client) and one `reply-and-receive` (server), and in the steady
//! state the partner is always already waiting. Following seL4, the fast
//! path is a series of checks, each of which falls back to the general
//! code in `ipc.rs` (the slow path) when it fails, followed by a *point of
//! no return* after which nothing can fail:
//!
//! 0. the label is not one only the kernel may send (`abi::micro::label`);
//! 1. the tag is valid and has no map item, at most one byte item (not a
//!    string) and maybe a receive area: the message is registers and a few
//!    bytes;
//! 2. the receive phase is from the destination (call) or from ANY
//!    (reply-and-receive), and may wait (a timeout of zero is the slow
//!    path's: it fails at once if nothing is there); a finite timeout is
//!    just a deadline written into our thread (`timeout.rs`);
//! 3. the destination is a live thread, blocked receiving from us or from
//!    anyone, in its own IPC (not a page-fault or exception reply);
//! 4. its priority is at least ours, so running it now is exactly what the
//!    scheduler would choose;
//! 5. for reply-and-receive: no thread is already queued to send to us and
//!    no interrupt is pending for us (otherwise our receive completes at
//!    once, which the slow path handles);
//! 6. the memory is there: our receive area is mapped writable, and the
//!    byte item can be copied into the receiver's receive area (`copy.rs`
//!    plans the copy: every page checked and translated). A page that is
//!    missing is the slow path's to fault in.
//!
//! Then: copy the bytes and the message registers, mark us blocked
//! receiving, mark the destination running, and switch to it.
//!
//! A message of registers alone — `getpid`, a reply with a result — skips
//! check 6 and goes straight to the point of no return: it is the case
//! that matters most, and it pays nothing for the bytes others carry.
//!
//! A *send* without a receive phase (a server answering a client it had
//! parked, after it answered somebody else) takes the same path with
//! checks 4 and 5 left out: the receiver is made ready, the scheduler
//! decides who runs next (`sched::make_ready`), and the sender goes on.

use crate::global::Kernel;
use common::arch::trap::TrapFrame;
// LAB ipc BEGIN
use crate::copy::{self, ByteItem, CopyPlan};
use crate::sched;
use crate::slot::ThreadSlot;
use crate::thread::{self, IpcKind, NO_SLOT, ThreadState};
use common::abi::micro::{
    TAG_BYTES_MASK, TAG_GRANT, TAG_MAP, TAG_RECEIVE, TAG_RESERVED_MASK, TAG_WORDS_MASK, TIMEOUT_NEVER, TIMEOUT_ZERO,
    Tag, ThreadId, label, receive_timeout,
};
use common::mm::UserRange;
use common::trace::Kind;
// LAB ipc STUB
// LAB ipc END

/// Tries the fast path for the IPC in the current thread's registers.
/// Returns `false` if it does not apply (nothing has changed), `true` if
/// it delivered a send without a receive phase (the caller returns to
/// user mode); a call or reply-and-receive it delivers never returns.
///
/// `frame` is the current thread's saved registers (what the entry code
/// passed to the handler).
#[inline(never)]
pub fn try_ipc(k: &mut Kernel, frame: &TrapFrame) -> bool {
    // LAB ipc BEGIN
    let slot = k.sched.current;
    let tag = Tag(frame.rdx);
    // 0. not a label only the kernel may send (the slow path refuses it).
    if label::is_kernel(tag.label()) {
        return false;
    }
    // 1. registers only (no item, no flag: the tag's low 16 bits are just
    // the word count, at most 6), or registers and a few bytes.
    const LOW_BITS: u64 = TAG_BYTES_MASK | TAG_MAP | TAG_GRANT | TAG_RECEIVE | TAG_RESERVED_MASK | TAG_WORDS_MASK;
    if tag.0 & LOW_BITS <= 6 {
        registers_only(k, slot, frame, tag)
    } else if tag.is_valid() && !tag.has_map() && tag.byte_items() <= 1 {
        with_bytes(k, slot, tag)
    } else {
        false
    }
    // LAB ipc STUB
    //~ // Tasks 1 to 4: the checks, then the delivery. Until then every IPC
    //~ // takes the slow path (`ipc.rs`): correct, but slower.
    //~ let _ = (k, frame);
    //~ false
    // LAB ipc END
}

// LAB ipc BEGIN
/// The fast path of a message of registers alone.
fn registers_only(k: &mut Kernel, slot: ThreadSlot, f: &TrapFrame, tag: Tag) -> bool {
    let Some((dest, from)) = waiting_receiver(k, slot, f) else {
        return false;
    };
    // ---- point of no return ----
    let words = tag.words() as usize;
    let registers = [f.r8, f.r9, f.r12, f.r13, f.r14, f.r15];
    // Copy the used words, clear the rest (no `memcpy` call on this path).
    let message: [u64; 6] = core::array::from_fn(|i| if i < words { registers[i] } else { 0 });
    let caller = k.threads.get(slot);
    let receive_area = (caller.receive_buffer, caller.receive_buffer_len);
    if from == ThreadId::NIL {
        return deliver_and_go_on(k, slot, dest, tag, message);
    }
    let phase = ReceivePhase { from, area: receive_area, timeouts: f.r10 };
    deliver(k, slot, dest, tag, message, phase)
}

/// The fast path of a message with a byte item or a receive area (out of
/// line: its checks need a larger stack frame than the registers-only case).
#[inline(never)]
fn with_bytes(k: &mut Kernel, slot: ThreadSlot, tag: Tag) -> bool {
    let f = thread::frame(slot);
    let Some((dest, from)) = waiting_receiver(k, slot, f) else {
        return false;
    };
    if from == ThreadId::NIL && tag.has_receive_area() {
        return false; // no receive phase to use it: the slow path refuses it
    }
    let registers = [f.r8, f.r9, f.r12, f.r13, f.r14, f.r15];
    // 6. the memory is there.
    let Some(Memory { receive_area, copy }) = check_memory(k, slot, dest, tag, &registers) else {
        return false;
    };

    // ---- point of no return ----
    // The used words and the item, the rest cleared: nothing of ours
    // leaks, and the receive area is never passed on.
    let sent = (tag.words() as usize) + 2 * tag.byte_items();
    let mut message: [u64; 6] = core::array::from_fn(|i| if i < sent { registers[i] } else { 0 });
    if let Some((i, plan)) = copy {
        copy::commit(&plan);
        [message[i], message[i + 1]] = plan.received()[0];
    }
    if from == ThreadId::NIL {
        return deliver_and_go_on(k, slot, dest, tag, message);
    }
    let phase = ReceivePhase { from, area: receive_area, timeouts: f.r10 };
    deliver(k, slot, dest, tag.without_receive_area(), message, phase)
}

/// Checks 2 to 5: the IPC in thread `slot`'s registers is a call, a
/// reply-and-receive or a send alone whose destination is waiting for it,
/// and (but for a send alone) nothing calls for the scheduler. Returns the
/// destination and the receive phase (`ThreadId::NIL` for none).
#[inline(always)]
fn waiting_receiver(k: &mut Kernel, slot: ThreadSlot, f: &TrapFrame) -> Option<(ThreadSlot, ThreadId)> {
    let (to, from) = (ThreadId(f.rdi), ThreadId(f.rsi));
    // 2. call or reply-and-receive (blocking receive), or a send alone.
    let receives = from != ThreadId::NIL;
    if receives && !((from == to || from == ThreadId::ANY) && receive_timeout(f.r10) != TIMEOUT_ZERO) {
        return None;
    }
    // 3. a receiver waiting for us.
    let dest = k.threads.lookup(to)?;
    let me = k.threads.id(slot);
    let receiver = k.threads.get(dest);
    if receiver.state != ThreadState::ReceiveBlocked
        || receiver.ipc_kind != IpcKind::Normal
        || (receiver.partner != ThreadId::ANY && receiver.partner != me)
    {
        return None;
    }
    if !receives {
        return Some((dest, from));
    }
    // 4. no scheduling decision needed.
    if receiver.priority < k.threads.get(slot).priority {
        return None;
    }
    // 5. our own receive would block.
    if from == ThreadId::ANY && (k.threads.get(slot).senders_head != NO_SLOT || crate::irq::has_pending(k, me)) {
        return None;
    }
    Some((dest, from))
}

/// What check 6 found: the memory of a message with bytes is there.
struct Memory {
    /// The caller's receive area for its receive phase.
    receive_area: (u64, u64),
    /// The planned copy of the byte item, with the index of its registers.
    copy: Option<(usize, CopyPlan)>,
}

/// Check 6: our receive area (none in the tag: our receive buffer) is
/// mapped writable, and the byte item, if any, can be copied into the
/// receiver's receive area. `None`: the slow path's to handle.
fn check_memory(k: &mut Kernel, slot: ThreadSlot, dest: ThreadSlot, tag: Tag, registers: &[u64; 6]) -> Option<Memory> {
    let caller = k.threads.get(slot);
    let (space, buffer) = (caller.space, (caller.receive_buffer, caller.receive_buffer_len));
    let receive_area = match tag.receive_area_index() {
        Some(i) => {
            let (address, length) = (registers[i], registers[i + 1]);
            UserRange::new(address, length).ok()?;
            if copy::first_missing(k, space, address, length, true).is_some() {
                return None;
            }
            (address, length)
        }
        None => buffer,
    };
    let copy = match tag.byte_item_index(0) {
        Some(i) => {
            let item = ByteItem::decode(registers[i], registers[i + 1]);
            if item.string {
                return None;
            }
            item.check_shape().ok()?;
            let receiver = k.threads.get(dest);
            let (their_space, their_area) = (receiver.space, receiver.receive_area);
            Some((i, copy::plan(k, space, &[item], their_space, their_area).ok()?))
        }
        None => None,
    };
    Some(Memory { receive_area, copy })
}

/// Writes `message` (with `tag`, from thread `slot`) into the registers of
/// `dest`, which is waiting for it.
#[inline(always)]
fn write_message(k: &mut Kernel, slot: ThreadSlot, dest: ThreadSlot, tag: Tag, message: [u64; 6]) {
    let me = k.threads.id(slot);
    let target = thread::frame(dest);
    target.rax = 0;
    target.rdi = me.0;
    target.rdx = tag.0;
    [target.r8, target.r9, target.r12, target.r13, target.r14, target.r15] = message;
}

/// After the point of no return of a send alone: hands `message` (with
/// `tag`) to `dest` and makes it ready; the caller's call succeeded and it
/// goes on (unless the scheduler prefers `dest`: `sched::make_ready`).
#[inline(always)]
fn deliver_and_go_on(k: &mut Kernel, slot: ThreadSlot, dest: ThreadSlot, tag: Tag, message: [u64; 6]) -> bool {
    write_message(k, slot, dest, tag, message);
    k.threads.get(dest).ipc_kind = IpcKind::Normal;
    sched::make_ready(k, dest);
    thread::frame(slot).rax = 0;
    if crate::trace::on() {
        trace_delivered(slot, dest);
    }
    true
}

/// The caller's receive phase, as its registers asked for it.
struct ReceivePhase {
    /// From whom (the destination, or ANY).
    from: ThreadId,
    /// Its receive area (address, length).
    area: (u64, u64),
    /// The timeouts word (`r10`): the receive timeout is never zero here.
    timeouts: u64,
}

/// After the point of no return: hands `message` (with `tag`) to `dest`,
/// blocks the caller in its receive `phase` (with a deadline if its
/// timeout is finite), and switches to `dest`.
#[inline(always)]
fn deliver(k: &mut Kernel, slot: ThreadSlot, dest: ThreadSlot, tag: Tag, message: [u64; 6], phase: ReceivePhase) -> ! {
    write_message(k, slot, dest, tag, message);
    let caller = k.threads.get(slot);
    caller.state = ThreadState::ReceiveBlocked;
    caller.partner = phase.from;
    caller.deadline = 0;
    caller.ipc_kind = IpcKind::Normal;
    caller.receive_area = phase.area;
    if receive_timeout(phase.timeouts) != TIMEOUT_NEVER {
        set_deadline(k, slot, receive_timeout(phase.timeouts));
    }
    let receiver = k.threads.get(dest);
    receiver.state = ThreadState::Running;
    receiver.deadline = 0;
    if receiver.time_left == 0 {
        receiver.time_left = sched::TIME_SLICE_TICKS;
    }
    if crate::trace::on() {
        trace_delivered(slot, dest);
    }
    sched::switch_to(k, dest)
}

/// Gives thread `slot` a deadline `ticks` from now (out of line: servers
/// wait for ever, but for one with a clock to look at).
#[cold]
#[inline(never)]
fn set_deadline(k: &mut Kernel, slot: ThreadSlot, ticks: u32) {
    let deadline = crate::timeout::deadline(k, ticks);
    k.threads.get(slot).deadline = deadline;
}

/// The trace of a message the fast path delivered from `slot` to `dest`,
/// read back from `dest`'s registers (out of line: tracing is off almost
/// always, and the fast path should not pay for it then).
#[cold]
#[inline(never)]
fn trace_delivered(slot: ThreadSlot, dest: ThreadSlot) {
    let f = thread::frame(dest);
    let tag = Tag(f.rdx);
    let registers = [f.r8, f.r9, f.r12, f.r13, f.r14, f.r15];
    let bytes = tag.byte_item_index(0).map_or(0, |i| registers[i + 1]);
    crate::trace::event(slot, Kind::Ipc, [u64::from(dest.number()), tag.label(), bytes]);
}
// LAB ipc STUB
// LAB ipc END
