//! # l4 — the user-side library of Diptych's microkernel
//!
//! One function per system call, with safe types around the raw register
//! interface of `common::abi::micro` (the one ABI table the kernel is built
//! from too), and the one message transport every client uses ([`rpc`]).
//! Root tasks, servers and `ulib`'s micro back end are written against
//! this crate.
//!
//! | module       | what it is                                                   |
//! |--------------|--------------------------------------------------------------|
//! | [`sys`]      | the raw `syscall` instruction (two shapes: IPC and the rest) |
//! | [`ipc`]      | messages, timeouts, send/receive/call/reply-and-receive, sleep |
//! | [`rpc`]      | a call to a server and its reply: the transport of every client |
//! | [`task`]     | threads, address spaces, exchange-registers, priorities      |
//! | [`memory`]   | receive windows, map items, unmap                            |
//! | [`device`]   | interrupts and I/O ports                                     |
//! | [`print`]    | `print!`/`println!` through the kernel's debug console       |
//! | [`trace`]    | the `trace` call, and the recorder for the shared code's trace points |
//!
//! Features: `runtime` (on by default) brings a panic handler and a global
//! allocator that refuses every request. A library with its own runtime —
//! `ulib`'s micro back end — depends on `l4` with `default-features = false`.
//!
//! A program started by the kernel (the root task) looks like this:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! fn main(boot: l4::BootInfo) -> ! {
//!     l4::println!("root task: {} pages of memory", boot.window_pages);
//!     loop { let _ = l4::ipc::receive(l4::ThreadId::ANY, l4::Timeout::Never); }
//! }
//! l4::entry!(main);
//! ```
#![no_std]

pub mod device;
pub mod ipc;
pub mod memory;
pub mod print;
pub mod rpc;
pub mod sys;
pub mod task;
pub mod trace;

#[cfg(feature = "runtime")]
mod runtime;
#[cfg(feature = "runtime")]
pub use runtime::init_heap;

pub use common::abi::micro::{Error, Phase, SpaceId, Tag, ThreadId};
pub use common::abi::micro::{exreg, fault_access, label, privilege, rights, unmap_flags};
pub use ipc::{Message, Received, Timeout};
pub use memory::MapItem;

/// What the kernel passes to the root task's first thread (`_start`'s
/// arguments, see `micro-kernel/kernel/src/boot_root.rs`).
#[derive(Debug, Clone, Copy)]
pub struct BootInfo {
    /// Where the root task's free memory starts (`ROOT_WINDOW_BASE`).
    pub window_base: u64,
    /// How many 4 KiB pages of free memory follow it.
    pub window_pages: u64,
    /// This thread's id.
    pub thread: ThreadId,
    /// This address space's id.
    pub space: SpaceId,
    /// `boot_flags::*` from the kernel command line.
    pub flags: u64,
}

/// Defines `_start` for the root task, which the kernel starts: it calls
/// `main(BootInfo) -> !`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The entry point: the kernel's initial registers are the arguments.
        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".text._start")]
        pub extern "C" fn _start(window_base: u64, window_pages: u64, thread: u64, space: u64, flags: u64) -> ! {
            let main: fn($crate::BootInfo) -> ! = $main;
            main($crate::BootInfo {
                window_base,
                window_pages,
                thread: $crate::ThreadId(thread),
                space: $crate::SpaceId(space),
                flags,
            })
        }
    };
}

/// Defines `_start` for a server (or any program) that a root task or
/// process server starts with [`task::start`]: it calls `main(argument) -> !`
/// with the argument given there (`exreg::SET_ARGUMENT`, register `rdi`).
/// Anything more a server needs to know it should receive by IPC from the
/// thread that started it.
#[macro_export]
macro_rules! server_entry {
    ($main:path) => {
        /// The entry point: `rdi` holds the starter's argument.
        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".text._start")]
        pub extern "C" fn _start(argument: u64) -> ! {
            let main: fn(u64) -> ! = $main;
            main(argument)
        }
    };
}
