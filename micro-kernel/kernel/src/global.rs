//! The one global: all kernel state in a single [`Kernel`] value.
//!
//! The microkernel runs on one CPU with interrupts off while it executes
//! (see `common/src/arch/mod.rs`), and every kernel entry runs to completion
//! before the CPU returns to user mode. So there is never more than one
//! activity touching kernel state, and no locks are needed. The entry points
//! (`trap_handler`, `syscall_handler`, `kernel_start`) call [`kernel`] once
//! and pass the `&mut Kernel` down; nothing else calls it.
//!
//! The one exception is the idle loop (`sched.rs`), where the kernel waits
//! with interrupts on: an interrupt taken there runs `trap_handler` on top of
//! the idle loop's stack, which changes the state behind the idle loop's
//! back. The idle loop passes the state's address to its `sti; hlt` assembly,
//! so the compiler must assume the state changed there and reads it afresh
//! afterwards. (Strictly, Rust's aliasing rules do not foresee a second
//! `&mut` appearing in an interrupt; an OS that wants to be pedantic gives
//! the idle loop its own stack and re-enters the scheduler from the
//! interrupt instead, at the cost of more machinery.)

use crate::irq::IrqTable;
use crate::mapdb::MapDb;
use crate::sched::Scheduler;
use crate::slot::SpaceSlot;
use crate::space::SpaceTable;
use crate::thread::ThreadTable;
use common::mm::FrameAllocator;
use core::cell::UnsafeCell;

/// Everything the kernel knows.
pub struct Kernel {
    /// Threads (control blocks; their kernel stacks live in `thread.rs`).
    pub threads: ThreadTable,
    /// Address spaces.
    pub spaces: SpaceTable,
    /// Ready queues and the current thread.
    pub sched: Scheduler,
    /// The mapping database: who mapped which frame to whom.
    pub mapdb: MapDb,
    /// Physical frames the kernel keeps for page tables.
    pub frames: FrameAllocator,
    /// Interrupt lines and the threads attached to them.
    pub irqs: IrqTable,
    /// Timer ticks (10 ms) since the timer started.
    pub ticks: u64,
    /// The space whose I/O ports are open in the TSS bitmap, if any.
    pub io_loaded: Option<SpaceSlot>,
    /// False until the root task starts: during boot the kernel itself
    /// drains the keyboard byte of the interrupt self-test.
    pub booted: bool,
}

/// A cell for the global kernel state (see the module documentation for why
/// sharing it without a lock is sound).
struct KernelCell(UnsafeCell<Kernel>);

// SAFETY: one CPU, interrupts off in the kernel, run-to-completion entries:
// the state is never accessed by two activities at once.
unsafe impl Sync for KernelCell {}

static KERNEL: KernelCell = KernelCell(UnsafeCell::new(Kernel {
    threads: ThreadTable::new(),
    spaces: SpaceTable::new(),
    sched: Scheduler::new(),
    mapdb: MapDb::new(),
    frames: FrameAllocator::new(),
    irqs: IrqTable::new(),
    ticks: 0,
    io_loaded: None,
    booted: false,
}));

/// The kernel state. Call only at a kernel entry point, once per entry.
#[allow(clippy::mut_from_ref)]
pub fn kernel() -> &'static mut Kernel {
    // SAFETY: see the module documentation: a single activity at a time, and
    // each entry point takes the reference once and passes it down.
    unsafe { &mut *KERNEL.0.get() }
}
