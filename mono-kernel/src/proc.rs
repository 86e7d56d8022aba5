//! Processes: what the kernel knows about each running program.
//!
//! A process is an address space ([`UserVm`]), open files, a current
//! directory, a kernel stack, and its place in the process life cycle:
//!
//! ```text
//!   fork ──▶ Runnable ◀──────▶ Running ──exit──▶ Zombie ──parent's wait──▶ (gone)
//!               ▲                 │
//!               └──── wakeup ── Sleeping(channel)
//! ```
//!
//! A zombie keeps only its exit status and kernel stack until its parent
//! collects it with `wait`; its memory and files are released at `exit`.
//! When a parent exits first, its children are given to `init` (pid 1),
//! which waits for them forever, so no zombie is left behind.
//!
//! Fields that change are in `Cell`/`RefCell` (see `global.rs` for why
//! that is enough on one CPU with interrupts off in the kernel).

use crate::file::FdTable;
use crate::vm::UserVm;
use alloc::boxed::Box;
use alloc::string::String;
use common::fs::Ino;
use core::cell::{Cell, RefCell};

/// A process id. Pid 1 is `init`.
pub type Pid = u32;

/// Something a process can sleep on: the address of the object it waits
/// for (a pipe, the tick counter, the console, a child table ...), as in xv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel(usize);

impl Channel {
    /// The channel named by the address of `object`.
    pub fn of<T: ?Sized>(object: &T) -> Channel {
        Channel(object as *const T as *const u8 as usize)
    }

    /// The channel's number (the object's address), as a trace shows it.
    pub fn number(self) -> usize {
        self.0
    }

    /// A second channel for the same object (`offset` must be smaller than
    /// the object's size, so no other object has the same address).
    pub fn with_offset(self, offset: usize) -> Channel {
        Channel(self.0 + offset)
    }
}

/// Where a process is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Ready to run, waiting for the CPU.
    Runnable,
    /// On the CPU now.
    Running,
    /// Waiting until someone calls `wakeup` on the channel.
    Sleeping(Channel),
    /// Exited; waiting for its parent to collect the status.
    Zombie,
}

/// Size of each process's kernel stack, in 64-bit words (16 KiB).
pub const KERNEL_STACK_WORDS: usize = 2048;

/// A kernel stack, 16-byte aligned.
#[repr(C, align(16))]
pub struct KernelStack(pub [u64; KERNEL_STACK_WORDS]);

impl KernelStack {
    /// The address just past the stack's last word: its initial `rsp`.
    pub fn top(&self) -> u64 {
        self.0.as_ptr_range().end as u64
    }
}

/// One process.
pub struct Proc {
    /// Its process id (never reused while the process exists).
    pub pid: Pid,
    /// Its parent's pid (re-parented to 1 when the parent exits).
    pub parent: Cell<Pid>,
    /// The program name, for error messages (the last part of the exec path).
    pub name: RefCell<String>,
    /// Life-cycle state; changed only by the scheduler functions.
    pub state: Cell<State>,
    /// Set by `kill` (only through `sched::kill`, which keeps the
    /// scheduler's copy for the process on the CPU); the process exits the
    /// next time it leaves the kernel.
    pub killed: Cell<bool>,
    /// The status it passed to `exit` (valid when `Zombie`).
    pub exit_status: Cell<i32>,
    /// The saved kernel stack pointer while it is not running.
    pub saved_rsp: Cell<u64>,
    /// Its kernel stack (boxed: stays at one address).
    pub kernel_stack: Box<KernelStack>,
    /// Its user address space (`None` after `exit`).
    pub vm: RefCell<Option<UserVm>>,
    /// Its open files.
    pub files: RefCell<FdTable>,
    /// Its current directory, held (`fsys::hold_inode`) from `fork` (or
    /// boot, for init) to `exit`, so that it is not freed while in use.
    pub cwd: Cell<Ino>,
}

impl Proc {
    /// The physical address of this process's top-level page table, or the
    /// kernel's if it has no address space left.
    pub fn page_table_root(&self) -> u64 {
        match self.vm.borrow().as_ref() {
            Some(vm) => vm.root_phys(),
            None => common::arch::boot::boot_pml4_phys(),
        }
    }
}
