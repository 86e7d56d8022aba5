//! The runtime every program gets with the `runtime` feature: the panic
//! handler (print the panic, then an invalid instruction, so that the
//! thread's exception handler learns of it: for a server that is root,
//! which restarts it — `docs/fault-isolation.md`) and the global allocator.
//!
//! The allocator starts with no memory, so it refuses every request — right
//! for the root task, which has no pager to back a heap. A program that
//! has memory for a heap (a server: root backs `SERVER_HEAP_BASE..` with
//! zero pages on demand) hands it over once with [`init_heap`]. (One
//! allocator for every program, instead of a feature per kind of program,
//! because cargo unifies features across a workspace build: two binaries
//! cannot ask `l4` for different allocators.)

use linked_list_allocator::LockedHeap;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::println!("user panic: {info}");
    loop {
        // An exception, reported to the thread's exception handler, which
        // ends or restarts it; a thread without one is ended by the
        // kernel, with a line on the console. (It never resumes here: an
        // exception is not retried unless the handler says where.)
        // SAFETY: `ud2` only raises #UD; it touches no memory.
        unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
        let (me, _) = crate::task::whoami();
        let _ = crate::task::thread_destroy(me);
    }
}

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

/// Gives the allocator `size` bytes at `base` to allocate from. Call once,
/// before the first allocation.
///
/// # Safety
/// The range must be memory this program may write (mapped, or served by
/// its pager) that nothing else uses, for the rest of the program.
pub unsafe fn init_heap(base: u64, size: u64) {
    // SAFETY: forwarded to the caller.
    unsafe { HEAP.lock().init(base as *mut u8, size as usize) };
}
