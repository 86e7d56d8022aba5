//! Physical memory for the monolithic kernel: the frame allocator, filled
//! from the boot memory map.
//!
//! Every physical frame below 1 GiB is reachable at `KERNEL_BASE + pa` (the
//! higher-half window set up at boot). `common::mm::kernel_window` turns
//! that window plus the allocator into the `FrameSource` the page-table code
//! needs; [`with_frames`] hands one out.

use crate::global::Global;
use common::arch::{self, pvh::BootInfo};
use common::mm::FrameAllocator;
use common::mm::kernel_window::{KernelFrames, KernelWindow};
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

/// Runs `f` with the frame allocator and the kernel window, as the
/// `FrameSource` that page-table and user-copy code takes. `f` must not
/// sleep.
pub fn with_frames<R>(f: impl FnOnce(&mut KernelFrames) -> R) -> R {
    let mut allocator = FRAMES.borrow_mut();
    // SAFETY: the kernel window is mapped in every address space (the kernel
    // half is shared), and the borrow of FRAMES makes this the only
    // KernelFrames alive; the frames it touches belong to the address space
    // the caller is working on, which no one else touches meanwhile (one CPU,
    // and `f` does not sleep).
    let mut frames = KernelFrames::new(unsafe { KernelWindow::new() }, &mut allocator);
    f(&mut frames)
}

/// Number of free frames (what `freemem()` reports to user programs).
pub fn free_frames() -> usize {
    FRAMES.borrow().free_count()
}
