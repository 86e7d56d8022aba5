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
//! 1. the tag has no items and at most six words (registers only);
//! 2. the receive phase is from the destination (call) or from ANY
//!    (reply-and-receive), and waits forever (no deadline to set up);
//! 3. the destination is a live thread, blocked receiving from us or from
//!    anyone, in its own IPC (not a page-fault or exception reply);
//! 4. its priority is at least ours, so running it now is exactly what the
//!    scheduler would choose;
//! 5. for reply-and-receive: no thread is already queued to send to us and
//!    no interrupt is pending for us (otherwise our receive completes at
//!    once, which the slow path handles).
//!
//! Then: copy the message registers, mark us blocked receiving, mark the
//! destination running, and switch to it.

use crate::global::Kernel;
use crate::sched;
use crate::slot::ThreadSlot;
use crate::thread::{self, IpcKind, NO_SLOT, ThreadState};
use common::abi::micro::{
    TAG_BUF, TAG_GRANT, TAG_MAP, TAG_RESERVED_MASK, TIMEOUT_NEVER, Tag, ThreadId, receive_timeout,
};

/// Tries the fast path for the IPC in thread `slot`'s registers. Returns
/// if it does not apply (nothing has changed); otherwise never returns.
pub fn try_ipc(k: &mut Kernel, slot: ThreadSlot) {
    let f = thread::frame(slot);
    let tag = Tag(f.rdx);
    let (to, from) = (ThreadId(f.rdi), ThreadId(f.rsi));
    // 1. registers only.
    if tag.0 & (TAG_BUF | TAG_MAP | TAG_GRANT | TAG_RESERVED_MASK) != 0 || tag.words() > 6 {
        return;
    }
    // 2. call or reply-and-receive, blocking receive.
    if (from != to && from != ThreadId::ANY) || receive_timeout(f.r10) != TIMEOUT_NEVER {
        return;
    }
    // 3. a receiver waiting for us.
    let Some(dest) = k.threads.lookup(to) else {
        return;
    };
    let me = k.threads.id(slot);
    let receiver = k.threads.get(dest);
    if receiver.state != ThreadState::ReceiveBlocked
        || receiver.ipc_kind != IpcKind::Normal
        || (receiver.partner != ThreadId::ANY && receiver.partner != me)
    {
        return;
    }
    // 4. no scheduling decision needed.
    if receiver.priority < k.threads.get(slot).priority {
        return;
    }
    // 5. our own receive would block.
    if from == ThreadId::ANY && (k.threads.get(slot).senders_head != NO_SLOT || crate::irq::has_pending(k, me)) {
        return;
    }

    // ---- point of no return ----
    let source = thread::frame(slot);
    let words = tag.words() as usize;
    let registers = [source.r8, source.r9, source.r12, source.r13, source.r14, source.r15];
    // Copy the used words, clear the rest (no `memcpy` call on this path).
    let message: [u64; 6] = core::array::from_fn(|i| if i < words { registers[i] } else { 0 });
    let target = thread::frame(dest);
    target.rax = 0;
    target.rdi = me.0;
    target.rdx = tag.0;
    [target.r8, target.r9, target.r12, target.r13, target.r14, target.r15] = message;

    let caller = k.threads.get(slot);
    caller.state = ThreadState::ReceiveBlocked;
    caller.partner = from;
    caller.deadline = 0;
    caller.ipc_kind = IpcKind::Normal;
    let receiver = k.threads.get(dest);
    receiver.state = ThreadState::Running;
    receiver.deadline = 0;
    if receiver.time_left == 0 {
        receiver.time_left = sched::TIME_SLICE_TICKS;
    }
    sched::switch_to(k, dest)
}
