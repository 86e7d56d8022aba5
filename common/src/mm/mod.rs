//! Memory management shared by both kernels: address types, the physical
//! frame allocator, 4-level page tables, and the one routine that copies
//! to and from user memory.
//!
//! | module            | what it is                                              |
//! |-------------------|---------------------------------------------------------|
//! | [`addr`]          | `PhysAddr`, `VirtAddr`, the kernel window, user ranges  |
//! | [`bitmap`]        | a fixed-size bitmap (one bit per frame)                 |
//! | [`frame`]         | `PhysFrame` and the physical frame allocator            |
//! | [`paging`]        | page-table entries, tables, and `AddressSpace`          |
//! | [`kernel_window`] | how the kernels reach physical memory (`KERNEL_BASE + pa`) |
//! | [`user_copy`]     | `copy_from_user` / `copy_to_user`: checked user copies    |
//! | [`mmap`]          | the rules of `mmap`/`munmap` and a process's list of mappings |
//! | `fake_ram`        | a `Vec`-backed physical memory for host tests           |
//!
//! None of this code touches real memory by itself. The page-table code
//! reaches physical memory through the [`paging::PhysMemory`] trait: the
//! kernels implement it with the kernel window, host tests with a fake RAM
//! made of a `Vec` of frames. Nothing here flushes the TLB either; the
//! kernels do (`arch::cpu::invalidate_page`, or a CR3 reload), as
//! [`paging`] explains. The chapter `docs/memory.md` walks through it all.

pub mod addr;
pub mod bitmap;
pub mod frame;
pub mod kernel_window;
pub mod mmap;
pub mod paging;
pub mod user_copy;

#[cfg(any(test, feature = "std"))]
pub mod fake_ram;

pub use addr::{KERNEL_BASE, PAGE_SIZE, PhysAddr, USER_TOP, UserRange, VirtAddr};
pub use frame::{FrameAllocator, FrameError, PhysFrame};
pub use kernel_window::{KernelFrames, KernelWindow};
pub use paging::{AddressSpace, FrameSource, MapError, Mapping, PageTableFlags, PhysMemory};
pub use user_copy::{
    UserCopyError, copy_from_user, copy_str_from_user, copy_to_user, load_into_space,
};
