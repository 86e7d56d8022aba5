//! Threads: the thread control block (TCB), the thread table, and each
//! thread's kernel stack with its saved user registers.
//!
//! A thread is the unit the scheduler runs and the endpoint of IPC. Its user
//! state is the [`TrapFrame`] at the top of its kernel stack: the shared
//! entry code (`common/src/arch/trap.rs`) pushes it there on every `syscall`,
//! interrupt or exception taken in user mode, because the TSS and the
//! `syscall` entry point at the running thread's stack top (`sched.rs` sets
//! them on every switch). So "thread T's registers" is always
//! [`frame`]`(T)`, whether T is running or blocked.
//!
//! Inside the kernel a thread is its [`ThreadSlot`] (its position in the
//! table). Outside, threads are named by [`ThreadId`]s: slot plus
//! generation. The generation is bumped when a slot is freed, so a stale id
//! held by anyone never reaches the slot's next thread
//! ([`ThreadTable::lookup`] checks it and returns the slot).

use crate::slot::{SpaceSlot, ThreadSlot};
use common::abi::micro::{ID_SLOT_BITS, TIMEOUT_NEVER, ThreadId};
use common::arch::trap::{TRAP_FRAME_SIZE, TrapFrame};
use core::cell::UnsafeCell;

/// How many threads can exist at once.
pub const MAX_THREADS: usize = 256;
/// Size of each thread's kernel stack (the trap frame sits at its top).
/// The test root task's run, fuzzing included, uses at most about 2 KiB
/// (measured by scanning the zero-initialised stacks), so 8 KiB leaves a
/// wide margin.
pub const KERNEL_STACK_SIZE: usize = 8 * 1024;
/// "No thread" in the intrusive lists (ready queues, send queues).
pub const NO_SLOT: ThreadSlot = ThreadSlot::NONE;

/// What a thread is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadState {
    /// The slot is unused.
    Free,
    /// Stopped (created, or halted by `exchange_registers`).
    Halted,
    /// In a ready queue.
    Ready,
    /// On the CPU (not in a ready queue).
    Running,
    /// Waiting in `partner`'s send queue to deliver `out`.
    SendBlocked,
    /// Waiting for a message from `partner` (a thread, an IRQ, or ANY).
    ReceiveBlocked,
}

/// Why a thread is in IPC: for itself, or because the kernel made it send a
/// fault message (then the reply is interpreted by the kernel, not written
/// into the thread's registers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpcKind {
    /// An IPC system call: results go into the thread's registers.
    Normal,
    /// A page fault at `page`: the reply maps a page there. With
    /// `system_call`, the fault is the kernel's, for a system call's buffer
    /// (`fault::system_call_fault`): a reply without a mapping fails the
    /// call instead of retrying it.
    PageFault { page: u64, system_call: bool },
    /// A CPU exception: the reply may set `rip` and `rsp`.
    Exception,
}

/// A message on its way: the tag and the six message registers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Message {
    /// The tag (label, word count, items).
    pub tag: common::abi::micro::Tag,
    /// MR0..MR5.
    pub mr: [u64; 6],
}

/// The thread control block.
#[derive(Debug, Clone, Copy)]
pub struct Thread {
    /// Bumped when the slot is freed; part of the thread's id. Never 0.
    pub generation: u32,
    /// What the thread is doing.
    pub state: ThreadState,
    /// The address space it runs in.
    pub space: SpaceSlot,
    /// Scheduling priority, `0..PRIORITY_LEVELS`; higher runs first.
    pub priority: u8,
    /// Ticks left in the current time slice.
    pub time_left: u32,
    /// Timer ticks that found this thread on the CPU since it last waited
    /// in an IPC (saturating): the root task's watchdog reads it through
    /// `exchange_registers` to tell a server stuck in a loop from one that
    /// is busy or waiting (`timeout::tick` counts and resets it).
    pub running_ticks: u32,
    /// Where page faults are sent.
    pub pager: ThreadId,
    /// Where other CPU exceptions are sent.
    pub handler: ThreadId,
    /// SendBlocked: the destination. ReceiveBlocked: the receive-from spec.
    pub partner: ThreadId,
    /// While SendBlocked: the receive phase that follows (NIL: none).
    pub then_receive: ThreadId,
    /// While SendBlocked: the receive timeout of that phase.
    pub then_receive_timeout: u32,
    /// While SendBlocked: the message to deliver.
    pub out: Message,
    /// Whose IPC this is (see [`IpcKind`]).
    pub ipc_kind: IpcKind,
    /// Tick at which the current blocking IPC phase times out (0: never).
    pub deadline: u64,
    /// Head and tail of the queue of threads waiting to send to this one.
    /// Invariant: every thread in it is SendBlocked with `partner` == us.
    pub senders_head: ThreadSlot,
    pub senders_tail: ThreadSlot,
    /// Next thread in the send queue this thread is waiting in.
    pub sender_next: ThreadSlot,
    /// Next and previous thread in this thread's ready queue.
    pub ready_next: ThreadSlot,
    pub ready_prev: ThreadSlot,
    /// The receive buffer for byte items (`set_receive_window`).
    pub receive_buffer: u64,
    pub receive_buffer_len: u64,
    /// Where the byte items of the message this thread is receiving land:
    /// the receive area its IPC named, else its receive buffer. Set when an
    /// IPC's receive phase starts; meaningful only during it.
    pub receive_area: (u64, u64),
    /// Where map items may land: `window_pages` pages from `window_base`.
    pub window_base: u64,
    pub window_pages: u64,
}

impl Thread {
    /// An unused slot.
    pub const EMPTY: Thread = Thread {
        generation: 1,
        state: ThreadState::Free,
        space: SpaceSlot::new(0),
        priority: 0,
        time_left: 0,
        running_ticks: 0,
        pager: ThreadId::NIL,
        handler: ThreadId::NIL,
        partner: ThreadId::NIL,
        then_receive: ThreadId::NIL,
        then_receive_timeout: TIMEOUT_NEVER,
        out: Message { tag: common::abi::micro::Tag(0), mr: [0; 6] },
        ipc_kind: IpcKind::Normal,
        deadline: 0,
        senders_head: NO_SLOT,
        senders_tail: NO_SLOT,
        sender_next: NO_SLOT,
        ready_next: NO_SLOT,
        ready_prev: NO_SLOT,
        receive_buffer: 0,
        receive_buffer_len: 0,
        receive_area: (0, 0),
        window_base: 0,
        window_pages: 0,
    };
}

/// All thread control blocks.
pub struct ThreadTable {
    slots: [Thread; MAX_THREADS],
}

impl ThreadTable {
    /// A table with every slot free.
    pub const fn new() -> ThreadTable {
        ThreadTable { slots: [Thread::EMPTY; MAX_THREADS] }
    }

    /// The id of the thread in `slot`.
    pub fn id(&self, slot: ThreadSlot) -> ThreadId {
        ThreadId::new(slot.number(), self.slots[slot.index()].generation)
    }

    /// The slot of live thread `id`, or `None` if `id` is not a thread id,
    /// is out of range, names a free slot, or carries a stale generation.
    /// (The boundary between ids and slots: every id a user passes comes
    /// through here.)
    pub fn lookup(&self, id: ThreadId) -> Option<ThreadSlot> {
        let thread = self.slots.get(id.slot() as usize)?;
        // Every slot's generation is at least 1, so NIL (generation 0) never
        // matches; ANY and interrupt ids have bits above the generation set.
        // (This is `is_thread` and the generation check in one: every IPC's
        // fast path comes through here.)
        let live = id.0 >> (ID_SLOT_BITS + 32) == 0 && thread.generation == id.generation();
        (live && thread.state != ThreadState::Free).then_some(ThreadSlot::new(id.slot()))
    }

    /// A free slot, if any.
    pub fn free_slot(&self) -> Option<ThreadSlot> {
        self.slots.iter().position(|t| t.state == ThreadState::Free).map(|i| ThreadSlot::new(i as u16))
    }

    /// How many slots are free.
    pub fn free_count(&self) -> u32 {
        self.slots.iter().filter(|t| t.state == ThreadState::Free).count() as u32
    }

    /// Every slot of the table, free or not, in order.
    pub fn every_slot() -> impl Iterator<Item = ThreadSlot> {
        (0..MAX_THREADS as u16).map(ThreadSlot::new)
    }

    /// The thread in `slot`.
    pub fn get(&mut self, slot: ThreadSlot) -> &mut Thread {
        &mut self.slots[slot.index()]
    }

    /// The thread in `slot`, to read.
    pub fn read(&self, slot: ThreadSlot) -> &Thread {
        &self.slots[slot.index()]
    }
}

impl Default for ThreadTable {
    fn default() -> Self {
        Self::new()
    }
}

/// One kernel stack. 16-byte alignment keeps the trap frame where the CPU
/// and the `syscall` entry put it (the top minus [`TRAP_FRAME_SIZE`]).
#[repr(C, align(16))]
struct KernelStack([u8; KERNEL_STACK_SIZE]);

struct KernelStacks(UnsafeCell<[KernelStack; MAX_THREADS]>);

// SAFETY: one CPU with interrupts off in the kernel (see global.rs).
unsafe impl Sync for KernelStacks {}

static KERNEL_STACKS: KernelStacks =
    KernelStacks(UnsafeCell::new([const { KernelStack([0; KERNEL_STACK_SIZE]) }; MAX_THREADS]));

/// The top of thread `slot`'s kernel stack (what TSS.rsp0 holds while it runs).
pub fn stack_top(slot: ThreadSlot) -> u64 {
    let base = KERNEL_STACKS.0.get() as u64;
    base + (slot.number() as u64 + 1) * KERNEL_STACK_SIZE as u64
}

/// The saved user registers of thread `slot`.
///
/// Callers keep the reference short (one statement or one small function)
/// and never hold two for the same slot; the running thread's frame is also
/// what the entry code passed to the handler, which the handlers do not use
/// after calling into the rest of the kernel.
#[allow(clippy::mut_from_ref)]
pub fn frame(slot: ThreadSlot) -> &'static mut TrapFrame {
    assert!(slot.index() < MAX_THREADS, "thread slot out of range");
    let mut address = stack_top(slot) - TRAP_FRAME_SIZE as u64;
    // Code generation only: the address goes through an empty `asm!`, so
    // the compiler keeps it in one register. Otherwise it folds the stack
    // array's link-time address into every access to a field of the
    // frame and, short of a register, spends two instructions on each —
    // eighteen extra in the IPC fast path, which writes nine fields.
    // SAFETY: the assembly is empty: the value passes through unchanged.
    unsafe { core::arch::asm!("/* {0} */", inout(reg) address, options(pure, nomem, nostack, preserves_flags)) };
    // SAFETY: `address` is inside the static stack array, aligned, and any
    // bit pattern is a valid TrapFrame; exclusivity as documented above.
    unsafe { &mut *(address as *mut TrapFrame) }
}
