//! The kernel heap: `Box`, `Vec` and friends for kernel code.
//!
//! A fixed region inside the kernel image (in `.bss`, so it costs nothing in
//! the ELF file) handed to `linked_list_allocator`. Page-sized memory for
//! processes comes from the frame allocator instead; the heap holds kernel
//! objects (process table entries, open files, pipes, the buffer cache).

use linked_list_allocator::LockedHeap;

/// Size of the kernel heap. Sized so that no user program can exhaust it
/// (an allocation failure would be a kernel panic): the worst case is every
/// process slot used (128) with 16-KiB kernel stacks and each of its 16
/// descriptors holding one end of a different pipe (a 4-KiB ring each):
/// about 10 MiB, plus the buffer cache and the tables.
pub const HEAP_SIZE: usize = 32 * 1024 * 1024;

/// The memory the heap hands out. Only its address is used (the allocator
/// writes its own bookkeeping into it), hence the `allow`.
#[repr(align(4096))]
#[allow(dead_code)]
struct HeapRegion([u8; HEAP_SIZE]);

static mut HEAP_REGION: HeapRegion = HeapRegion([0; HEAP_SIZE]);

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

/// Hands the heap region to the allocator. Call once, before any allocation.
pub fn init() {
    // SAFETY: called once at boot; HEAP_REGION is used by nothing else, and
    // it lives for the whole run of the kernel.
    unsafe {
        let start = core::ptr::addr_of_mut!(HEAP_REGION) as *mut u8;
        ALLOCATOR.lock().init(start, HEAP_SIZE);
    }
}
