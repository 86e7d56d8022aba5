//! Physical memory for the monolithic kernel: the frame allocator, filled
//! from the boot memory map, and zeroed frames for page tables and user pages.
//!
//! Every physical frame below 1 GiB is reachable at `KERNEL_BASE + pa`
//! (the higher-half window set up at boot), so the kernel can zero or copy
//! any frame without mapping it first.

use crate::global::Global;
use common::arch::{self, pvh::BootInfo};
use common::mm::{FrameAllocator, PAGE_SIZE, PhysFrame};
use core::cell::RefCell;

static FRAMES: Global<RefCell<FrameAllocator>> = Global::new(RefCell::new(FrameAllocator::new()));

unsafe extern "C" {
    static __kernel_virt_end: u8;
}

/// Gives the allocator every RAM frame of the memory map, minus the first
/// MiB (BIOS data, VGA memory) and the kernel image with its heap and stacks.
pub fn init(boot_info: &BootInfo) {
    let mut frames = FRAMES.borrow_mut();
    for entry in boot_info.memory_map() {
        if entry.kind == arch::pvh::MEMORY_TYPE_RAM {
            // Regions above the 1 GiB window are ignored by the allocator.
            let _ = frames.add_usable_region(entry.addr, entry.size);
        }
    }
    let kernel_end = arch::virt_to_phys(core::ptr::addr_of!(__kernel_virt_end) as u64);
    frames.reserve_range(0, kernel_end);
}

/// A zero-filled frame, or `None` when memory is exhausted.
pub fn alloc_zeroed() -> Option<PhysFrame> {
    let frame = FRAMES.borrow_mut().alloc()?;
    // SAFETY: the frame was just allocated, so nothing else uses it; it lies
    // in the higher-half window.
    unsafe { core::ptr::write_bytes(frame_ptr(frame), 0, PAGE_SIZE as usize) };
    Some(frame)
}

/// Returns `frame` to the allocator. A double free is a kernel bug; it is
/// reported and the frame is not freed twice.
pub fn free(frame: PhysFrame) {
    if let Err(error) = FRAMES.borrow_mut().free(frame) {
        common::kprintln!("memory: bad free of frame {:#x}: {error:?}", frame.start_address().as_u64());
    }
}

/// Number of free frames (what `freemem()` reports to user programs).
pub fn free_frames() -> usize {
    FRAMES.borrow().free_count()
}

/// The kernel-virtual address of a frame's first byte.
pub fn frame_ptr(frame: PhysFrame) -> *mut u8 {
    arch::phys_to_virt(frame.start_address().as_u64()) as *mut u8
}
