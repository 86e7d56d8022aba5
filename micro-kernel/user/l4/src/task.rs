//! Threads and address spaces.
//!
//! Who may do what (the kernel's rule, `lifecycle.rs`): a thread manages its
//! own address space and the spaces its space created; creating a space
//! needs the CREATE privilege; a thread can give no thread a priority above
//! its own.

use crate::sys;
use common::abi::micro::{Error, SpaceId, Sys, ThreadId, exreg};

/// `whoami() -> (my thread id, my space id)`.
pub fn whoami() -> (ThreadId, SpaceId) {
    let (_, out) = sys::call(Sys::WhoAmI, [0; 8]);
    (ThreadId(out[0]), SpaceId(out[1]))
}

/// Creates an empty address space holding `privileges` (a subset of ours).
pub fn space_create(privileges: u64) -> Result<SpaceId, Error> {
    let (rax, out) = sys::call(Sys::SpaceCreate, [privileges, 0, 0, 0, 0, 0, 0, 0]);
    Error::check(rax).map(|()| SpaceId(out[0]))
}

/// Destroys a space we created: its threads, its mappings (and everything
/// mapped on from them), its page tables.
pub fn space_destroy(space: SpaceId) -> Result<(), Error> {
    Error::check(sys::call(Sys::SpaceDestroy, [space.0, 0, 0, 0, 0, 0, 0, 0]).0)
}

/// Creates a halted thread in `space` with the given pager, exception
/// handler and priority. Start it with [`start`] or [`exchange_registers`].
pub fn thread_create(space: SpaceId, pager: ThreadId, handler: ThreadId, priority: u64) -> Result<ThreadId, Error> {
    let (rax, out) = sys::call(Sys::ThreadCreate, [space.0, pager.0, handler.0, priority, 0, 0, 0, 0]);
    Error::check(rax).map(|()| ThreadId(out[0]))
}

/// Destroys a thread (possibly the caller).
pub fn thread_destroy(thread: ThreadId) -> Result<(), Error> {
    Error::check(sys::call(Sys::ThreadDestroy, [thread.0, 0, 0, 0, 0, 0, 0, 0]).0)
}

/// What `exchange_registers` sets (fields are used per `control` bit, see
/// `common::abi::micro::exreg`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Registers {
    pub control: u64,
    pub rip: u64,
    pub rsp: u64,
    pub rflags: u64,
    pub pager: ThreadId,
    pub handler: ThreadId,
    pub argument: u64,
}

/// What `exchange_registers` returns: the values before the call.
#[derive(Debug, Clone, Copy, Default)]
pub struct OldRegisters {
    /// `exreg::WAS_HALTED` if the thread was halted.
    pub control: u64,
    pub rip: u64,
    pub rsp: u64,
    pub rflags: u64,
    pub pager: ThreadId,
    pub handler: ThreadId,
    /// Timer ticks that found the thread on the CPU since it last waited in
    /// an IPC: a thread that runs on and on without ever waiting (a server
    /// stuck in a loop) has a large count (the root task's watchdog).
    pub running_ticks: u64,
}

/// L4's exchange-registers: reads a thread's rip/rsp/rflags/pager/handler
/// and sets those selected by `new.control`, halts or resumes it.
///
/// # Safety
/// Setting the registers of a thread of *this* address space can break
/// what the compiler assumes about it (its stack, its control flow): the
/// caller must know the thread's code and stack are valid for the values.
pub unsafe fn exchange_registers(thread: ThreadId, new: &Registers) -> Result<OldRegisters, Error> {
    let (rax, out) = sys::call_exchange_registers([
        thread.0,
        new.control,
        new.rip,
        new.rsp,
        new.rflags,
        new.pager.0,
        new.handler.0,
        new.argument,
    ]);
    Error::check(rax)?;
    Ok(OldRegisters {
        control: out[1],
        rip: out[2],
        rsp: out[3],
        rflags: out[4],
        pager: ThreadId(out[5]),
        handler: ThreadId(out[6]),
        running_ticks: out[7],
    })
}

/// Reads a thread's registers without changing anything.
pub fn read_registers(thread: ThreadId) -> Result<OldRegisters, Error> {
    // SAFETY: control 0 changes nothing.
    unsafe { exchange_registers(thread, &Registers::default()) }
}

/// Starts a created thread at `entry(argument)` on the stack ending at
/// `stack_top`.
///
/// # Safety
/// `entry` must be code mapped in the thread's space and the stack must be
/// memory no one else uses.
pub unsafe fn start(
    thread: ThreadId,
    entry: extern "C" fn(u64) -> !,
    stack_top: u64,
    argument: u64,
) -> Result<(), Error> {
    let registers = Registers {
        control: exreg::SET_RIP | exreg::SET_RSP | exreg::SET_ARGUMENT | exreg::RESUME,
        rip: entry as usize as u64,
        // As if `entry` had been called: rsp + 8 aligned to 16.
        rsp: (stack_top & !15) - 8,
        argument,
        ..Registers::default()
    };
    // SAFETY: forwarded to the caller.
    unsafe { exchange_registers(thread, &registers).map(|_| ()) }
}

/// Sets a thread's priority (at most the caller's).
pub fn set_priority(thread: ThreadId, priority: u64) -> Result<(), Error> {
    Error::check(sys::call(Sys::SetPriority, [thread.0, priority, 0, 0, 0, 0, 0, 0]).0)
}

/// Gives the rest of the time slice to another thread of the same priority.
pub fn yield_now() {
    let _ = sys::call(Sys::Yield, [0; 8]);
}

/// Timer ticks (10 ms) since boot.
pub fn system_clock() -> u64 {
    sys::call(Sys::SystemClock, [0; 8]).1[0]
}
