//! Physical memory at boot: the frame allocator learns the machine's RAM.
//!
//! The kernel keeps a [`FrameAllocator`](common::mm::FrameAllocator) (shared
//! code, `common/src/mm/frame.rs`) only for its own needs — page tables of
//! new address spaces. Everything else is handed to the root task at boot
//! (`boot_root.rs`), which from then on owns all free memory and passes it
//! on by mapping.

use crate::global::Kernel;
use common::arch::pvh::{BootInfo, MEMORY_TYPE_RAM};

/// Frames the kernel keeps for page tables when it gives the rest to the
/// root task (8 MiB: page tables for a few hundred address spaces).
pub const KERNEL_RESERVE_FRAMES: usize = 2048;

unsafe extern "C" {
    /// End of the kernel image (higher-half address), from `kernel.ld`.
    static __kernel_virt_end: u8;
}

/// Adds the RAM of the memory map and reserves the first MiB and the
/// kernel image. Returns the free memory in KiB.
pub fn init(k: &mut Kernel, boot: &BootInfo) -> u64 {
    for entry in boot.memory_map() {
        if entry.kind == MEMORY_TYPE_RAM {
            // Regions above the 1 GiB kernel window are ignored by the allocator.
            let _ = k.frames.add_usable_region(entry.addr, entry.size);
        }
    }
    let kernel_end = common::arch::virt_to_phys(core::ptr::addr_of!(__kernel_virt_end) as u64);
    k.frames.reserve_range(0, kernel_end);
    k.frames.free_count() as u64 * 4
}
