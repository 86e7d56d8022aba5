//! Creating and destroying threads and address spaces, exchange-registers,
//! priorities — and the permission rule that guards them.
//!
//! **The rule**: a thread may manage (create threads in, destroy, control)
//! its own address space and the spaces its space created. Creating a space
//! needs the CREATE privilege, and a new space gets only privileges its
//! creator holds. A thread never gets a higher priority than its creator's.
//! The root task's space holds every privilege; what it hands on is its
//! choice. This is simpler than capabilities and enough for a tree of
//! servers started by the root task.

use crate::global::Kernel;
use crate::quota::{Pool, may_take};
use crate::slot::{SpaceSlot, ThreadSlot};
use crate::space::{ROOT_SPACE, SpaceTable};
use crate::thread::{self, IpcKind, Thread, ThreadState, ThreadTable};
use crate::{ioport, ipc, irq, map, sched};
use common::abi::micro::{Error, PRIORITY_LEVELS, SpaceId, ThreadId, exreg, privilege, quota};
use common::arch::qemu;
use common::arch::trap::TrapFrame;
use common::kprintln;
use common::mm::{KernelFrames, KernelWindow, UserRange};

/// Whether space `caller` may manage space `target`.
pub fn manages(k: &Kernel, caller: SpaceSlot, target: SpaceSlot) -> bool {
    caller == target || k.spaces.read(target).creator == caller
}

/// The slot of thread `id`, if `caller` (a thread slot) may manage it.
fn managed_thread(k: &Kernel, caller: ThreadSlot, id: ThreadId) -> Result<ThreadSlot, Error> {
    let slot = k.threads.lookup(id).ok_or(Error::NoSuchThread)?;
    let caller_space = k.threads.read(caller).space;
    if !manages(k, caller_space, k.threads.read(slot).space) {
        return Err(Error::NoPermission);
    }
    Ok(slot)
}

fn check_handler_id(id: ThreadId) -> Result<(), Error> {
    if id == ThreadId::NIL || id.is_thread() { Ok(()) } else { Err(Error::InvalidArgument) }
}

/// Creates a halted thread in `space`, within the space's thread quota
/// (`quota.rs`); also used at boot for the root task.
pub fn create_thread(
    k: &mut Kernel,
    space: SpaceSlot,
    pager: ThreadId,
    handler: ThreadId,
    priority: u8,
) -> Result<ThreadSlot, Error> {
    let pool = Pool { free: k.threads.free_count(), reserved: quota::RESERVED_THREADS, per_space: quota::THREADS };
    let owner = k.spaces.read(space);
    if !may_take(pool, owner.trusted(), owner.thread_count, 1) {
        return Err(Error::OutOfResources);
    }
    let slot = k.threads.free_slot().ok_or(Error::OutOfResources)?;
    let generation = k.threads.get(slot).generation;
    *k.threads.get(slot) = Thread {
        generation,
        state: ThreadState::Halted,
        space,
        priority,
        time_left: sched::TIME_SLICE_TICKS,
        pager,
        handler,
        ..Thread::EMPTY
    };
    *thread::frame(slot) = TrapFrame::new_user(0, 0);
    k.spaces.get(space).thread_count += 1;
    Ok(slot)
}

/// `thread_create(space, pager, handler, priority)` by thread `caller`.
pub fn sys_thread_create(
    k: &mut Kernel,
    caller: ThreadSlot,
    space: SpaceId,
    pager: ThreadId,
    handler: ThreadId,
    priority: u64,
) -> Result<ThreadId, Error> {
    let space = k.spaces.lookup(space).ok_or(Error::NoSuchThread)?;
    let caller_space = k.threads.get(caller).space;
    if !manages(k, caller_space, space) {
        return Err(Error::NoPermission);
    }
    check_handler_id(pager)?;
    check_handler_id(handler)?;
    if priority >= PRIORITY_LEVELS {
        return Err(Error::InvalidArgument);
    }
    if priority > k.threads.get(caller).priority as u64 {
        return Err(Error::NoPermission);
    }
    let slot = create_thread(k, space, pager, handler, priority as u8)?;
    Ok(k.threads.id(slot))
}

/// Destroys thread `slot`: every IPC waiting on it fails with `Aborted`.
pub fn destroy_thread(k: &mut Kernel, slot: ThreadSlot) {
    let id = k.threads.id(slot);
    match k.threads.get(slot).state {
        ThreadState::SendBlocked | ThreadState::ReceiveBlocked => ipc::abort(k, slot, Error::Aborted),
        _ => {}
    }
    sched::unready(k, slot);
    while k.threads.get(slot).senders_head != thread::NO_SLOT {
        let sender = k.threads.get(slot).senders_head;
        ipc::abort(k, sender, Error::Aborted);
    }
    for other in ThreadTable::every_slot() {
        let t = k.threads.get(other);
        if t.state == ThreadState::ReceiveBlocked && t.partner == id {
            ipc::abort(k, other, Error::Aborted);
        }
    }
    irq::forget_thread(k, id);
    let space = k.threads.get(slot).space;
    k.spaces.get(space).thread_count -= 1;
    let thread = k.threads.get(slot);
    let generation = thread.generation.wrapping_add(1).max(1);
    *thread = Thread { generation, ..Thread::EMPTY };
}

/// `thread_destroy(thread)` by thread `caller` (a thread may end itself).
pub fn sys_thread_destroy(k: &mut Kernel, caller: ThreadSlot, id: ThreadId) -> Result<(), Error> {
    let slot = managed_thread(k, caller, id)?;
    destroy_thread(k, slot);
    Ok(())
}

/// A user thread did something fatal and nobody handles it.
pub fn kill(k: &mut Kernel, slot: ThreadSlot, reason: core::fmt::Arguments) {
    let id = k.threads.id(slot);
    let space = k.threads.get(slot).space;
    kprintln!("micro: thread {:#x} killed: {}", id.0, reason);
    if space == ROOT_SPACE {
        kprintln!("micro: the root task died; stopping");
        qemu::exit(qemu::ExitCode::Failure);
    }
    destroy_thread(k, slot);
}

/// `space_create(privileges)` by thread `caller`.
pub fn sys_space_create(k: &mut Kernel, caller: ThreadSlot, privileges: u64) -> Result<SpaceId, Error> {
    let own = k.threads.get(caller).space;
    let held = k.spaces.get(own).privileges;
    if held & privilege::CREATE == 0 || privileges & !held != 0 {
        return Err(Error::NoPermission);
    }
    let slot = k.spaces.create(&mut k.frames, own, privileges).ok_or(Error::OutOfResources)?;
    Ok(k.spaces.id(slot))
}

/// `space_destroy(space)` by thread `caller`: destroys its threads, unmaps
/// everything (recursively), frees its page tables.
pub fn sys_space_destroy(k: &mut Kernel, caller: ThreadSlot, id: SpaceId) -> Result<(), Error> {
    let space = k.spaces.lookup(id).ok_or(Error::NoSuchThread)?;
    let own = k.threads.get(caller).space;
    if space == own || space == ROOT_SPACE {
        return Err(Error::InUse);
    }
    if k.spaces.get(space).creator != own {
        return Err(Error::NoPermission);
    }
    for slot in ThreadTable::every_slot() {
        let t = k.threads.get(slot);
        if t.state != ThreadState::Free && t.space == space {
            destroy_thread(k, slot);
        }
    }
    for other in SpaceTable::every_slot() {
        if k.spaces.read(other).creator == space && other != space {
            k.spaces.get(other).creator = own; // orphans go to the grandparent
        }
    }
    map::unmap_all(k, space);
    ioport::forget(k, space);
    let entry = k.spaces.get(space);
    let tables = entry.tables.take().expect("looked-up space is live");
    entry.generation = entry.generation.wrapping_add(1).max(1);
    // SAFETY: kernel window mapped everywhere; the space is not loaded (the
    // caller runs in another one).
    let mut env = KernelFrames::new(unsafe { KernelWindow::new() }, &mut k.frames);
    // User frames are not freed: they belong to the root task's window.
    tables.destroy(&mut env, |_, _| {});
    Ok(())
}

/// What `exchange_registers` returns.
pub struct OldRegisters {
    pub control: u64,
    pub rip: u64,
    pub rsp: u64,
    pub rflags: u64,
    pub pager: ThreadId,
    pub handler: ThreadId,
    /// Ticks it has been on the CPU since it last waited in an IPC.
    pub running_ticks: u64,
}

/// The arithmetic flags a user may set: CF PF AF ZF SF DF OF.
const USER_RFLAGS: u64 = 0xcd5;

/// New register values for `exchange_registers` (used per `control` bit).
pub struct NewRegisters {
    pub control: u64,
    pub rip: u64,
    pub rsp: u64,
    pub rflags: u64,
    pub pager: ThreadId,
    pub handler: ThreadId,
    pub argument: u64,
}

/// `exchange_registers` by thread `caller` (L4's ExchangeRegisters): reads
/// and optionally sets a thread's rip/rsp/flags, pager, handler and first
/// argument, and halts or resumes it.
pub fn sys_exchange_registers(
    k: &mut Kernel,
    caller: ThreadSlot,
    id: ThreadId,
    new: &NewRegisters,
) -> Result<OldRegisters, Error> {
    let slot = managed_thread(k, caller, id)?;
    if new.control & !exreg::ALL != 0 || (new.control & exreg::HALT != 0 && new.control & exreg::RESUME != 0) {
        return Err(Error::InvalidArgument);
    }
    if new.control & exreg::SET_RIP != 0 {
        UserRange::new(new.rip, 1).map_err(|_| Error::BadAddress)?;
    }
    if new.control & exreg::SET_RSP != 0 {
        UserRange::new(new.rsp, 0).map_err(|_| Error::BadAddress)?;
    }
    if new.control & exreg::SET_PAGER != 0 {
        check_handler_id(new.pager)?;
    }
    if new.control & exreg::SET_HANDLER != 0 {
        check_handler_id(new.handler)?;
    }
    let thread = k.threads.get(slot);
    let (state, pager, handler) = (thread.state, thread.pager, thread.handler);
    let f = thread::frame(slot);
    let old = OldRegisters {
        control: if state == ThreadState::Halted { exreg::WAS_HALTED } else { 0 },
        rip: f.rip,
        rsp: f.rsp,
        rflags: f.rflags,
        pager,
        handler,
        running_ticks: u64::from(thread.running_ticks),
    };
    if new.control & exreg::HALT != 0 && state != ThreadState::Halted {
        if matches!(state, ThreadState::SendBlocked | ThreadState::ReceiveBlocked) {
            ipc::abort(k, slot, Error::Aborted);
        }
        sched::unready(k, slot);
        k.threads.get(slot).state = ThreadState::Halted;
    }
    let f = thread::frame(slot);
    if new.control & exreg::SET_RIP != 0 {
        f.rip = new.rip;
    }
    if new.control & exreg::SET_RSP != 0 {
        f.rsp = new.rsp;
    }
    if new.control & exreg::SET_RFLAGS != 0 {
        f.rflags = (f.rflags & !USER_RFLAGS) | (new.rflags & USER_RFLAGS);
    }
    if new.control & exreg::SET_ARGUMENT != 0 {
        f.rdi = new.argument;
    }
    let thread = k.threads.get(slot);
    if new.control & exreg::SET_PAGER != 0 {
        thread.pager = new.pager;
    }
    if new.control & exreg::SET_HANDLER != 0 {
        thread.handler = new.handler;
    }
    if new.control & exreg::RESUME != 0 && thread.state == ThreadState::Halted {
        thread.ipc_kind = IpcKind::Normal;
        sched::make_ready(k, slot);
    }
    Ok(old)
}

/// `set_priority(thread, priority)` by thread `caller`.
pub fn sys_set_priority(k: &mut Kernel, caller: ThreadSlot, id: ThreadId, priority: u64) -> Result<(), Error> {
    let slot = managed_thread(k, caller, id)?;
    if priority >= PRIORITY_LEVELS {
        return Err(Error::InvalidArgument);
    }
    if priority > k.threads.get(caller).priority as u64 {
        return Err(Error::NoPermission);
    }
    sched::set_priority(k, slot, priority as u8);
    Ok(())
}
