//! The kernels' way to reach physical memory: the kernel window.
//!
//! The boot code maps physical `0..1 GiB` at virtual `KERNEL_BASE..`, so the
//! kernel can read or write any frame below 1 GiB at `KERNEL_BASE + pa`
//! (see [`super::addr`]). [`KernelWindow`] turns that into the
//! [`PhysMemory`] trait the page-table and user-copy code needs, and
//! [`KernelFrames`] adds the frame allocator, giving a [`FrameSource`].
//! Both kernels use these two types; host tests use
//! `FakeRam` instead.
//!
//! This file compiles everywhere (so host builds type-check it), but
//! creating a `KernelWindow` is `unsafe`: only a kernel running on the boot
//! page tables can keep its promise.

use super::addr::{PAGE_SIZE_BYTES, phys_to_kernel_virt};
use super::frame::{FrameAllocator, PhysFrame};
use super::paging::{FrameSource, PageTable, PhysMemory};

/// Access to physical memory through the kernel window.
#[derive(Debug)]
pub struct KernelWindow {
    /// Only [`KernelWindow::new`] can make one.
    _private: (),
}

impl KernelWindow {
    /// Access to frames below 1 GiB at `KERNEL_BASE + pa`.
    ///
    /// # Safety
    /// The caller promises that
    /// - the kernel window is mapped (it is in every address space the
    ///   kernels create: the boot tables map it and every space copies the
    ///   kernel half), and
    /// - while a reference returned through this window is alive, nothing
    ///   else reads or writes the same frame: the kernel holds the lock
    ///   that protects the address space (or the frame) being worked on,
    ///   and only one `KernelWindow` is used under that lock.
    pub const unsafe fn new() -> KernelWindow {
        KernelWindow { _private: () }
    }
}

impl PhysMemory for KernelWindow {
    /// # Panics
    /// If `frame` is above 1 GiB. Page-table frames come from the frame
    /// allocator, which manages only frames below 1 GiB, so this is a kernel
    /// bug, not something a user program can cause.
    fn table(&mut self, frame: PhysFrame) -> &mut PageTable {
        let va = phys_to_kernel_virt(frame.start_address()).expect("page tables live below 1 GiB");
        // SAFETY: `va` is the kernel-window address of `frame`, which is
        // mapped (promise of `KernelWindow::new`) and 4096-aligned like a
        // `PageTable`; any bit pattern is a valid `PageTable`. The frame
        // holds a page table (callers pass only table frames), and no other
        // reference to it is alive (promise of `new`, and `&mut self`).
        unsafe { &mut *va.as_mut_ptr::<PageTable>() }
    }

    fn frame_bytes(&mut self, frame: PhysFrame) -> Option<&mut [u8; PAGE_SIZE_BYTES]> {
        let va = phys_to_kernel_virt(frame.start_address()).ok()?;
        // SAFETY: as in `table`: the window maps the frame, bytes have no
        // invalid values, and no other reference to the frame is alive.
        Some(unsafe { &mut *va.as_mut_ptr::<[u8; PAGE_SIZE_BYTES]>() })
    }

    /// One direct copy: the window shows both frames at once, so no bounce
    /// buffer is needed (554 instead of 1,645 guest instructions per frame,
    /// measured under QEMU with `-icount shift=0`).
    fn copy_frame(&mut self, from: PhysFrame, to: PhysFrame) -> Result<(), PhysFrame> {
        let source = phys_to_kernel_virt(from.start_address()).map_err(|_| from)?;
        let target = phys_to_kernel_virt(to.start_address()).map_err(|_| to)?;
        if from == to {
            return Ok(());
        }
        // SAFETY: both addresses are kernel-window addresses of mapped frames
        // (promise of `KernelWindow::new`); distinct frames do not overlap;
        // and no other reference to either frame is alive (promise of `new`,
        // and `&mut self`).
        unsafe {
            core::ptr::copy_nonoverlapping(
                source.as_ptr::<u8>(),
                target.as_mut_ptr::<u8>(),
                PAGE_SIZE_BYTES,
            )
        };
        Ok(())
    }
}

/// The kernel window plus the frame allocator: what `AddressSpace::map`
/// needs to create tables.
///
/// A kernel keeps its `FrameAllocator` behind a lock and builds one of
/// these while holding it:
/// ```ignore
/// let mut allocator = FRAMES.lock();
/// let mut env = KernelFrames::new(unsafe { KernelWindow::new() }, &mut allocator);
/// space.map(&mut env, page, frame, flags)?;
/// ```
pub struct KernelFrames<'a> {
    window: KernelWindow,
    allocator: &'a mut FrameAllocator,
}

impl<'a> KernelFrames<'a> {
    /// Combines the window and the (locked) allocator.
    pub fn new(window: KernelWindow, allocator: &'a mut FrameAllocator) -> KernelFrames<'a> {
        KernelFrames { window, allocator }
    }

    /// The allocator, e.g. to free user frames with error checking in a
    /// `free_user_tables` callback (`free` returns `DoubleFree` or
    /// `NotManaged` for frames that are not the allocator's to take back).
    pub fn allocator(&mut self) -> &mut FrameAllocator {
        self.allocator
    }
}

impl PhysMemory for KernelFrames<'_> {
    fn table(&mut self, frame: PhysFrame) -> &mut PageTable {
        self.window.table(frame)
    }

    fn frame_bytes(&mut self, frame: PhysFrame) -> Option<&mut [u8; PAGE_SIZE_BYTES]> {
        self.window.frame_bytes(frame)
    }

    fn copy_frame(&mut self, from: PhysFrame, to: PhysFrame) -> Result<(), PhysFrame> {
        self.window.copy_frame(from, to)
    }
}

impl FrameSource for KernelFrames<'_> {
    fn alloc_zeroed_frame(&mut self) -> Option<PhysFrame> {
        let frame = self.allocator.alloc()?;
        match self.window.frame_bytes(frame) {
            Some(bytes) => {
                bytes.fill(0);
                Some(frame)
            }
            None => {
                // Cannot happen (the allocator manages only frames below
                // 1 GiB), but if it did, give the frame back and say "no".
                let _ = self.allocator.free(frame);
                None
            }
        }
    }

    /// Frees a page-table frame.
    ///
    /// # Panics
    /// If the allocator reports a double free or a foreign frame. Page-table
    /// frames are created only by `alloc_zeroed_frame` and freed once, when
    /// their address space is torn down, so an error here means the tables
    /// are corrupt; stopping beats handing the same frame out twice. (Free
    /// *user* frames through [`KernelFrames::allocator`] instead, and handle
    /// the error.)
    fn free_frame(&mut self, frame: PhysFrame) {
        if let Err(error) = self.allocator.free(frame) {
            panic!("page-table frame: {error}");
        }
    }
}
