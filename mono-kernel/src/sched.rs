//! The scheduler, and sleep/wakeup: how processes share the one CPU.
//!
//! Round robin: [`run`] loops over the process table, and each runnable
//! process gets the CPU until it sleeps, exits, or its time slice ends (the
//! timer interrupt calls [`yield_now`] when it interrupts user mode). The
//! scheduler runs on its own stack (the boot stack); processes switch to it
//! and back with `switch_context`, never directly to each other (xv6's design:
//! simpler to follow than direct process-to-process switches).
//!
//! **Sleep and wakeup** are how the kernel waits for the "would block"
//! answers of the shared code: a pipe read that finds the pipe empty calls
//! `sleep(Channel::of(pipe))`; the writer calls `wakeup(Channel::of(pipe))`
//! when the shared code reports "readers may proceed". No wakeup can be lost
//! between checking and sleeping, because the kernel runs with interrupts off
//! on one CPU: nothing else runs in between. Wakeups may be spurious — a
//! sleeper always re-checks its condition in a loop.
//!
//! Invariant: at most one process is `Running`, and it is [`current`]'s.

use crate::global::Global;
use crate::proc::{Channel, Pid, Proc, State};
use crate::switch::switch_context;
use alloc::rc::Rc;
use alloc::vec::Vec;
use common::arch::{self, trap};
use common::trace::{self, Kind};
use core::cell::{Cell, RefCell};

/// The most processes that can exist at once.
pub const MAX_PROCESSES: usize = 128;

struct Scheduler {
    /// Every process, by slot. A slot is `None` when free.
    table: RefCell<Vec<Option<Rc<Proc>>>>,
    /// The process on the CPU, if any (none while the scheduler itself runs).
    current: RefCell<Option<Rc<Proc>>>,
    /// `current`'s pid (0 while the scheduler runs) and whether it has been
    /// killed, kept beside it so that `getpid`, the cheapest call there is,
    /// and the killed check on every system call's way out cost one load
    /// each instead of a borrow and two checks (16 of getpid's 116
    /// instructions). Invariant: they describe `current` — set with it in
    /// [`run_process`], and `current_killed` also by [`kill`], the one
    /// function that sets a process's `killed`.
    current_pid: Cell<Pid>,
    current_killed: Cell<bool>,
    /// The scheduler's saved stack pointer while a process runs.
    scheduler_rsp: Cell<u64>,
    /// The slot after the one that ran last: where the next search starts.
    next_slot: Cell<usize>,
    /// The next pid to hand out.
    next_pid: Cell<Pid>,
    /// Timer ticks (10 ms each) since boot.
    ticks: Cell<u64>,
}

static SCHEDULER: Global<Scheduler> = Global::new(Scheduler {
    table: RefCell::new(Vec::new()),
    current: RefCell::new(None),
    current_pid: Cell::new(0),
    current_killed: Cell::new(false),
    scheduler_rsp: Cell::new(0),
    next_slot: Cell::new(0),
    next_pid: Cell::new(1),
    ticks: Cell::new(0),
});

/// The process on the CPU. Only called from system calls and traps taken in
/// user mode, where there always is one.
pub fn current() -> Rc<Proc> {
    SCHEDULER
        .current
        .borrow()
        .clone()
        .expect("no current process")
}

/// The pid of the process on the CPU (`getpid`). Only called from system
/// calls, where there always is one.
pub fn current_pid() -> Pid {
    SCHEDULER.current_pid.get()
}

/// Whether the process on the CPU was killed (checked on every way out of
/// the kernel).
pub fn current_killed() -> bool {
    SCHEDULER.current_killed.get()
}

/// Marks `proc` killed: it exits the next time it leaves the kernel.
pub fn kill(proc: &Proc) {
    proc.killed.set(true);
    if SCHEDULER.current_pid.get() == proc.pid {
        SCHEDULER.current_killed.set(true);
    }
}

/// The process on the CPU, if any.
pub fn try_current() -> Option<Rc<Proc>> {
    SCHEDULER.current.borrow().clone()
}

/// A fresh process id.
pub fn allocate_pid() -> Pid {
    let pid = SCHEDULER.next_pid.get();
    SCHEDULER.next_pid.set(pid + 1);
    pid
}

/// Puts `proc` in the table (it must be `Runnable` or about to be).
/// Fails with `None` when the table is full.
pub fn add(proc: Rc<Proc>) -> Option<()> {
    let mut table = SCHEDULER.table.borrow_mut();
    if table.len() < MAX_PROCESSES {
        table.push(Some(proc));
        return Some(());
    }
    let slot = table.iter_mut().find(|slot| slot.is_none())?;
    *slot = Some(proc);
    Some(())
}

/// Removes a zombie from the table; dropping the last `Rc` frees its kernel
/// stack.
pub fn remove(pid: Pid) {
    let mut table = SCHEDULER.table.borrow_mut();
    for slot in table.iter_mut() {
        if slot.as_ref().is_some_and(|p| p.pid == pid) {
            *slot = None;
        }
    }
}

/// A snapshot of every process (for wait, kill, reparenting). Taking a
/// snapshot keeps the table unborrowed while the caller works.
pub fn all() -> Vec<Rc<Proc>> {
    SCHEDULER.table.borrow().iter().flatten().cloned().collect()
}

/// Timer ticks since boot.
pub fn ticks() -> u64 {
    SCHEDULER.ticks.get()
}

/// Called on every timer interrupt.
pub fn tick() {
    SCHEDULER.ticks.set(SCHEDULER.ticks.get() + 1);
    wakeup(ticks_channel());
}

/// The channel `sleep(n)` waits on: the tick counter.
pub fn ticks_channel() -> Channel {
    Channel::of(&SCHEDULER.ticks)
}

/// The scheduler loop; never returns. Runs on the boot stack.
pub fn run() -> ! {
    loop {
        match pick_next() {
            Some(proc) => run_process(proc),
            // Nothing to run: wait for an interrupt (a disk transfer or a key
            // or a tick) to make someone runnable.
            None => {
                arch::cpu::enable_interrupts_and_halt();
                arch::cpu::disable_interrupts();
                // Idle: a good moment for the journal's group commit.
                crate::fsys::commit_if_due();
            }
        }
    }
}

/// The next runnable process after the one that ran last.
fn pick_next() -> Option<Rc<Proc>> {
    let table = SCHEDULER.table.borrow();
    let count = table.len();
    let start = SCHEDULER.next_slot.get();
    for step in 0..count {
        let slot = (start + step) % count;
        if let Some(proc) = &table[slot]
            && proc.state.get() == State::Runnable
        {
            SCHEDULER.next_slot.set(slot + 1);
            return Some(proc.clone());
        }
    }
    None
}

/// Gives the CPU to `proc` until it switches back.
fn run_process(proc: Rc<Proc>) {
    proc.state.set(State::Running);
    // From the scheduler (thread 0) to the process, in its address space.
    trace::point(Kind::ContextSwitch, 0, u64::from(proc.pid), 0);
    trace::point(Kind::SpaceSwitch, 0, u64::from(proc.pid), 0);
    trap::set_kernel_stack(proc.kernel_stack.top());
    // SAFETY: every process's page tables share the kernel half (vm.rs), so
    // the scheduler keeps running after the switch.
    unsafe { arch::cpu::write_cr3(proc.page_table_root()) };
    let load_rsp = proc.saved_rsp.get();
    SCHEDULER.current_pid.set(proc.pid);
    SCHEDULER.current_killed.set(proc.killed.get());
    *SCHEDULER.current.borrow_mut() = Some(proc);
    // SAFETY: `load_rsp` was saved by `switch_context` in `switch_to_scheduler`
    // or built by `initial_kernel_stack`; the stack is the process's own,
    // kept alive by the process table.
    unsafe { switch_context(SCHEDULER.scheduler_rsp.as_ptr(), load_rsp) };
    // Back from the process: it slept, yielded or exited.
    *SCHEDULER.current.borrow_mut() = None;
    SCHEDULER.current_pid.set(0);
    SCHEDULER.current_killed.set(false);
}

/// Switches from the current process to the scheduler. Its state must
/// already say why it stops running.
fn switch_to_scheduler() {
    let proc = current();
    trace::point(Kind::ContextSwitch, u64::from(proc.pid), 0, 0);
    let save = proc.saved_rsp.as_ptr();
    // Drop our reference before switching: a zombie may be freed by its
    // parent while we are switched away, and never switches back.
    drop(proc);
    // SAFETY: `scheduler_rsp` was saved by the scheduler's own switch in
    // `run_process`, on the boot stack, which lives forever.
    unsafe { switch_context(save, SCHEDULER.scheduler_rsp.get()) };
}

/// Gives up the CPU for one round (the timer's preemption).
pub fn yield_now() {
    current().state.set(State::Runnable);
    switch_to_scheduler();
}

/// Sleeps on `channel` until a [`wakeup`] on it. Callers loop, re-checking
/// their condition, because wakeups may be spurious. Must not be called with
/// a `RefCell` of shared state borrowed (see `global.rs`).
pub fn sleep(channel: Channel) {
    trace::point_with(Kind::Park, || {
        [channel.number() as u64, u64::from(current().pid), 0]
    });
    current().state.set(State::Sleeping(channel));
    switch_to_scheduler();
}

/// Makes every process sleeping on `channel` runnable.
pub fn wakeup(channel: Channel) {
    for slot in SCHEDULER.table.borrow().iter().flatten() {
        if slot.state.get() == State::Sleeping(channel) {
            trace::point(
                Kind::Wakeup,
                channel.number() as u64,
                u64::from(slot.pid),
                0,
            );
            slot.state.set(State::Runnable);
        }
    }
}

/// Marks the current process a zombie and leaves the CPU for good.
pub fn exit_current() -> ! {
    current().state.set(State::Zombie);
    switch_to_scheduler();
    unreachable!("a zombie was scheduled");
}
