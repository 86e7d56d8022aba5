//! The scheduler: priority ready queues, round-robin time slices, and the
//! switch from one thread to another.
//!
//! Rules:
//! - the highest-priority ready thread runs;
//! - threads of equal priority take turns, [`TIME_SLICE_TICKS`] timer ticks
//!   each (the timer runs at 100 Hz, `trap.rs` counts the slice down);
//! - a thread woken at a higher priority than the running one preempts it
//!   (the preempted thread goes back to the *front* of its queue, with the
//!   rest of its slice);
//! - `yield` sends the caller to the back of its queue.
//!
//! The running thread is in no queue. [`Scheduler::need_resched`] is set by
//! whatever may change the choice, and [`return_to_user`] — the last thing
//! every kernel entry does — acts on it.
//!
//! A switch is short because of how the kernel is built: every entry runs to
//! completion on the current thread's kernel stack, whose top holds the
//! thread's saved registers. Switching means loading the next thread's
//! CR3 and kernel-stack pointer and jumping to the shared `trap_return` with
//! the stack pointer at the next thread's frame ([`jump_to_user`]). Nothing
//! on the old stack is needed again.

use crate::global::Kernel;
use crate::slot::ThreadSlot;
use crate::thread::{self, NO_SLOT, ThreadState};
use common::abi::micro::PRIORITY_LEVELS;
use common::arch::{cpu, trap};
use common::trace::Kind;
use core::arch::asm;

/// Length of a time slice, in timer ticks (10 ms each).
pub const TIME_SLICE_TICKS: u32 = 5;

const LEVELS: usize = PRIORITY_LEVELS as usize;

/// Ready queues (one per priority, linked through the TCBs) and the current thread.
pub struct Scheduler {
    heads: [ThreadSlot; LEVELS],
    tails: [ThreadSlot; LEVELS],
    /// Bit p set: queue p is not empty.
    nonempty: u32,
    /// The thread on the CPU, or `NO_SLOT` (at boot and while idle).
    pub current: ThreadSlot,
    /// Something happened that may change which thread should run.
    pub need_resched: bool,
}

impl Scheduler {
    /// No threads, nothing running.
    pub const fn new() -> Scheduler {
        Scheduler {
            heads: [NO_SLOT; LEVELS],
            tails: [NO_SLOT; LEVELS],
            nonempty: 0,
            current: NO_SLOT,
            need_resched: false,
        }
    }
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

/// Puts `slot` at the back (or `front`) of its priority's queue.
fn enqueue(k: &mut Kernel, slot: ThreadSlot, front: bool) {
    let priority = k.threads.get(slot).priority as usize;
    let (head, tail) = (k.sched.heads[priority], k.sched.tails[priority]);
    let thread = k.threads.get(slot);
    if head == NO_SLOT {
        thread.ready_next = NO_SLOT;
        thread.ready_prev = NO_SLOT;
        k.sched.heads[priority] = slot;
        k.sched.tails[priority] = slot;
    } else if front {
        thread.ready_next = head;
        thread.ready_prev = NO_SLOT;
        k.threads.get(head).ready_prev = slot;
        k.sched.heads[priority] = slot;
    } else {
        thread.ready_prev = tail;
        thread.ready_next = NO_SLOT;
        k.threads.get(tail).ready_next = slot;
        k.sched.tails[priority] = slot;
    }
    k.sched.nonempty |= 1 << priority;
}

/// Takes `slot` out of its ready queue (it must be in it).
pub fn dequeue(k: &mut Kernel, slot: ThreadSlot) {
    let thread = k.threads.get(slot);
    let (priority, prev, next) = (thread.priority as usize, thread.ready_prev, thread.ready_next);
    if prev == NO_SLOT {
        k.sched.heads[priority] = next;
    } else {
        k.threads.get(prev).ready_next = next;
    }
    if next == NO_SLOT {
        k.sched.tails[priority] = prev;
    } else {
        k.threads.get(next).ready_prev = prev;
    }
    if k.sched.heads[priority] == NO_SLOT {
        k.sched.nonempty &= !(1 << priority);
    }
}

/// Makes a blocked or halted thread ready to run.
pub fn make_ready(k: &mut Kernel, slot: ThreadSlot) {
    let thread = k.threads.get(slot);
    debug_assert!(matches!(thread.state, ThreadState::Halted | ThreadState::SendBlocked | ThreadState::ReceiveBlocked));
    thread.state = ThreadState::Ready;
    thread.deadline = 0;
    if thread.time_left == 0 {
        thread.time_left = TIME_SLICE_TICKS;
    }
    let priority = thread.priority;
    enqueue(k, slot, false);
    let current = k.sched.current;
    if current == NO_SLOT
        || k.threads.get(current).state != ThreadState::Running
        || priority > k.threads.get(current).priority
    {
        k.sched.need_resched = true;
    }
}

/// Removes a ready thread from the scheduler's view (before blocking,
/// halting or destroying a thread that may be ready or running).
pub fn unready(k: &mut Kernel, slot: ThreadSlot) {
    if k.threads.get(slot).state == ThreadState::Ready {
        dequeue(k, slot);
    }
    if k.sched.current == slot {
        k.sched.need_resched = true;
    }
}

/// The running thread gives up the rest of its slice.
pub fn yield_current(k: &mut Kernel) {
    let current = k.sched.current;
    k.threads.get(current).time_left = 0;
    k.sched.need_resched = true;
}

/// Changes a thread's priority, keeping the queues consistent.
pub fn set_priority(k: &mut Kernel, slot: ThreadSlot, priority: u8) {
    let ready = k.threads.get(slot).state == ThreadState::Ready;
    if ready {
        dequeue(k, slot);
    }
    k.threads.get(slot).priority = priority;
    if ready {
        enqueue(k, slot, false);
    }
    k.sched.need_resched = true;
}

/// The thread that should run next, leaving it out of the queues and
/// marked Running; idles (interrupts on, `hlt`) while there is none.
fn choose_next(k: &mut Kernel) -> ThreadSlot {
    let current = k.sched.current;
    let current_runs = current != NO_SLOT && k.threads.get(current).state == ThreadState::Running;
    if current_runs && !k.sched.need_resched {
        return current;
    }
    k.sched.need_resched = false;
    if current_runs {
        let thread = k.threads.get(current);
        let best = 31u32.saturating_sub(k.sched.nonempty.leading_zeros());
        let outranked = k.sched.nonempty != 0 && best > thread.priority as u32;
        if thread.time_left > 0 && !outranked {
            return current; // nothing better: keep running
        }
        let front = thread.time_left > 0; // preempted, not expired: go first next time
        if thread.time_left == 0 {
            thread.time_left = TIME_SLICE_TICKS;
        }
        thread.state = ThreadState::Ready;
        enqueue(k, current, front);
    }
    loop {
        if k.sched.nonempty != 0 {
            let priority = 31 - k.sched.nonempty.leading_zeros() as usize;
            let next = k.sched.heads[priority];
            dequeue(k, next);
            k.threads.get(next).state = ThreadState::Running;
            return next;
        }
        k.sched.current = NO_SLOT;
        idle_until_interrupt(k);
    }
}

/// Waits for one interrupt with interrupts enabled. The interrupt handler
/// runs on this stack (`trap.rs` sees a kernel-mode frame and only records
/// what happened) and changes the kernel state. The state's address is
/// handed to the `asm!` (which may touch memory), so the compiler knows it
/// may have changed and reloads it afterwards: without that, `&mut Kernel`
/// promises the compiler that nothing else writes the state, and it could
/// keep `nonempty` in a register and idle forever.
fn idle_until_interrupt(k: &mut Kernel) {
    let state: *mut Kernel = k;
    // SAFETY: the IDT is installed; the handler returns here with interrupts
    // off again (interrupt gates), and `cli` re-establishes that for sure.
    unsafe { asm!("sti", "hlt", "cli", in("rdi") state) };
}

/// The end of every kernel entry from user mode: picks the thread to run
/// and returns to it. Returns normally if that is the thread whose frame the
/// entry code will restore (the current one); otherwise switches and never
/// returns.
pub fn return_to_user(k: &mut Kernel) {
    let previous = k.sched.current;
    let next = choose_next(k);
    if next == previous {
        k.sched.current = next; // (the idle loop clears it while it waits)
        return;
    }
    switch_to(k, next);
}

/// Makes `next` the current thread and enters it. Never returns.
pub fn switch_to(k: &mut Kernel, next: ThreadSlot) -> ! {
    let previous = k.sched.current;
    k.sched.current = next;
    trap::set_kernel_stack(thread::stack_top(next));
    let space = k.threads.get(next).space;
    if crate::trace::on() {
        trace_switch(k, previous, next);
    }
    let root = k.spaces.get(space).root_frame().expect("a thread's space is live").start_address().as_u64();
    if cpu::read_cr3() != root {
        // SAFETY: every space maps the kernel half identically (space.rs).
        unsafe { cpu::write_cr3(root) };
    }
    crate::ioport::load(k, space);
    jump_to_user(next)
}

/// The trace of a switch from `previous` (maybe `NO_SLOT`) to `next`: a
/// context switch, and an address-space switch if the spaces differ.
#[inline(never)]
fn trace_switch(k: &mut Kernel, previous: ThreadSlot, next: ThreadSlot) {
    let space = k.threads.get(next).space;
    let (from, from_space) = if previous == NO_SLOT {
        (u64::MAX, u64::MAX)
    } else {
        (u64::from(previous.number()), u64::from(k.threads.get(previous).space.number()))
    };
    crate::trace::event(previous, Kind::ContextSwitch, [from, u64::from(next.number()), u64::from(space.number())]);
    if from_space != u64::from(space.number()) {
        crate::trace::event(next, Kind::SpaceSwitch, [from_space, u64::from(space.number()), 0]);
    }
}

/// Restores thread `slot`'s saved registers and returns to user mode.
#[inline(always)]
fn jump_to_user(slot: ThreadSlot) -> ! {
    let frame = thread::frame(slot) as *mut trap::TrapFrame as u64;
    // SAFETY: `frame` is the top of `slot`'s kernel stack holding a complete
    // user trap frame (the entry code or thread creation wrote it); the
    // kernel stack pointer for the next entry was set to that stack's top,
    // and `trap_return` pops the frame and `iretq`s, never returning here.
    unsafe {
        asm!("mov rsp, {frame}", "jmp {ret}", frame = in(reg) frame, ret = sym trap::trap_return, options(noreturn))
    }
}
