//! # Diptych micro-kernel
//!
//! An L4-style microkernel: the kernel provides threads, address spaces and
//! synchronous IPC — and nothing else. Page faults, exceptions and
//! interrupts become IPC messages to user-level threads; memory is passed
//! between address spaces by mapping. The drivers, the file system and the
//! processes of the monolithic kernel run here as user-level servers.
//!
//! | file          | concept                                                  |
//! |---------------|----------------------------------------------------------|
//! | `main.rs`     | boot: memory, interrupts, banner, the root task          |
//! | `global.rs`   | the one `Kernel` value holding all state                 |
//! | `trap.rs`     | the entry points: interrupts, exceptions, `syscall`      |
//! | `syscall.rs`  | system-call dispatch and argument checks                 |
//! | `thread.rs`   | thread control blocks, kernel stacks, thread ids         |
//! | `space.rs`    | address spaces                                           |
//! | `lifecycle.rs`| creating/destroying threads and spaces, exchange-registers, the permission rule |
//! | `sched.rs`    | priorities, time slices, switching threads               |
//! | `ipc.rs`      | IPC: send, receive, call, reply-and-receive (slow path)  |
//! | `fastpath.rs` | the IPC fast path                                        |
//! | `copy.rs`     | byte items: checking memory and copying bytes between spaces |
//! | `map.rs`      | map/grant items, unmap: the system-call side             |
//! | `mapdb.rs`    | the mapping database (recursive revocation)              |
//! | `mapping.rs`  | map/grant/unmap on page tables and the mapping database  |
//! | `page_index.rs`| finding a mapping by (space, page): the database's hash table |
//! | `quota.rs`    | how much of the kernel's pools one space may hold        |
//! | `fault.rs`    | page faults and exceptions as IPC                        |
//! | `irq.rs`      | interrupts as IPC                                        |
//! | `ioport.rs`   | I/O ports granted to address spaces                      |
//! | `timeout.rs`  | the tick and IPC timeouts                                |
//! | `trace.rs`    | the kernel info page, the trace ring, the `trace` call    |
//! | `memory.rs`   | physical memory at boot                                  |
//! | `boot_root.rs`| loading (with `common::elf`) and starting the root task  |
//! | `slot.rs`     | `ThreadSlot` and `SpaceSlot`: table positions, never confused |
//! | `lib.rs`      | `mapdb`, `mapping`, `quota` and `slot` as a library, for host unit tests |
//!
//! `docs/microkernel.md` is the system-call reference; `docs/ipc-path.md`
//! follows one IPC through this code.

#![no_std]
#![no_main]

mod boot_root;
mod copy;
mod fastpath;
mod fault;
mod global;
mod ioport;
mod ipc;
mod irq;
mod lifecycle;
mod map;
mod memory;
mod sched;
mod space;
mod syscall;
mod thread;
mod timeout;
mod trace;
mod trap;

// The pure parts live in the library (`lib.rs`), where host tests reach them.
use micro_kernel::{mapdb, mapping, quota, slot};

use common::abi::micro::boot_flags;
use common::arch;
use common::drivers::pic::{IRQ_KEYBOARD, IRQ_TIMER};

/// The Rust entry point, called by the shared boot code on the boot stack.
#[unsafe(no_mangle)]
extern "C" fn kernel_start(start_info_phys: u64) -> ! {
    // SAFETY: `start_info_phys` is what QEMU passed in ebx, untouched since.
    let boot_info = unsafe { arch::boot::bring_up_cpu(start_info_phys) };
    // Read the command line now: its memory goes to the root task later.
    let fault_test = boot_info.has_flag("fault-test");
    let run_tests = boot_info.has_flag("roottest");
    let mut flags = 0;
    if boot_info.has_flag("bench") {
        flags |= boot_flags::BENCH;
    }
    if boot_info.has_flag(common::abi::inject::COMMAND_LINE_FLAG) {
        flags |= boot_flags::INJECT;
    }

    let k = global::kernel();
    let free_kib = memory::init(k, &boot_info);

    arch::interrupts::init();
    arch::interrupts::unmask(IRQ_TIMER);
    arch::interrupts::unmask(IRQ_KEYBOARD);
    let interrupts = arch::interrupts::self_test();
    // The keyboard belongs to whichever server attaches to it later.
    arch::interrupts::mask(IRQ_KEYBOARD);
    arch::kconsole::print_banner("micro-kernel", free_kib, interrupts);

    if fault_test {
        arch::report::deliberate_page_fault();
    }
    boot_root::start(k, run_tests, flags)
}

/// The microkernel has no heap: every kernel object lives in a fixed table.
/// The shared crate links `alloc` (for code the servers use), so the linker
/// wants an allocator; this one refuses every request, which would end in
/// the panic handler if kernel code ever tried to allocate.
struct NoHeap;

// SAFETY: returning null is GlobalAlloc's documented way to report failure.
unsafe impl core::alloc::GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, _layout: core::alloc::Layout) -> *mut u8 {
        core::ptr::null_mut()
    }
    unsafe fn dealloc(&self, _pointer: *mut u8, _layout: core::alloc::Layout) {}
}

#[global_allocator]
static NO_HEAP: NoHeap = NoHeap;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::report::kernel_panic(info)
}
