//! Physical memory for the monolithic kernel: the frame allocator, filled
//! from the boot memory map.
//!
//! Every physical frame below 1 GiB is reachable at `KERNEL_BASE + pa` (the
//! higher-half window set up at boot). `common::mm::kernel_window` turns
//! that window plus the allocator into the `FrameSource` the page-table code
//! needs; [`with_frames`] hands one out.
//!
//! User frames can be *shared*: after a copy-on-write `fork` parent and
//! child name the same frames. A user frame is given back with
//! [`release_user_frame`], which frees it only when the last page-table
//! entry naming it goes; [`share_user_frame`] counts one more.

use crate::global::Global;
use common::arch::{self, pvh::BootInfo};
use common::mm::kernel_window::{KernelFrames, KernelWindow};
use common::mm::{FrameAllocator, PhysFrame};
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

// LAB cow BEGIN
/// How many user page-table entries *besides the first* name each frame
/// (index: the frame number). 0 for a private frame — which is every frame
/// not shared by a copy-on-write fork, so frames that are never shared
/// never touch this table. Invariant: a frame that `n >= 1` user
/// page-table entries name has `SHARES[frame] == n - 1`.
static SHARES: Global<RefCell<[u16; common::mm::frame::MAX_FRAMES]>> =
    Global::new(RefCell::new([0; common::mm::frame::MAX_FRAMES]));
// LAB cow STUB
// LAB cow END

/// One more user page-table entry names `frame` (fork shares it).
pub fn share_user_frame(frame: PhysFrame) {
    // LAB cow BEGIN
    let mut shares = SHARES.borrow_mut();
    let count = &mut shares[frame.number() as usize];
    // At most one entry per process names a frame, and there are at most
    // 128 processes: the count cannot reach u16::MAX.
    *count = count.saturating_add(1);
    // LAB cow STUB
    //~ // Task 1: count one more reference to `frame`.
    //~ let _ = frame;
    // LAB cow END
}

/// Whether more than one user page-table entry names `frame`.
pub fn user_frame_is_shared(frame: PhysFrame) -> bool {
    // LAB cow BEGIN
    SHARES.borrow()[frame.number() as usize] > 0
    // LAB cow STUB
    //~ // Task 1: is anyone else's page table naming `frame`?
    //~ let _ = frame;
    //~ false
    // LAB cow END
}

/// A user page-table entry naming `frame` is gone (unmapped, or its space
/// torn down): frees the frame if no other entry names it.
pub fn release_user_frame(frames: &mut KernelFrames, frame: PhysFrame) {
    // LAB cow BEGIN
    {
        let mut shares = SHARES.borrow_mut();
        let count = &mut shares[frame.number() as usize];
        if *count > 0 {
            *count -= 1;
            return;
        }
    }
    // LAB cow STUB
    //~ // Task 1: free `frame` only if this was the last entry naming it.
    // LAB cow END
    if let Err(error) = frames.allocator().free(frame) {
        // A kernel bug (a frame released twice); refusing keeps the frame
        // from being handed out twice.
        common::kprintln!("release_user_frame: {error}");
    }
}
